#!/bin/sh
# The daemons' command line and configuration: --help is true, typos and
# out-of-range values stop them at start naming FILE:LINE and the key
# (exit 78), a missing radio is exit 69, `status` of nothing is exit 69.
set -eu
airlearn=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
expect() {   # expect STATUS PATTERN -- command...
    want=$1; pattern=$2; shift 3
    set +e; out=$("$@" 2>&1); st=$?; set -e
    [ "$st" -eq "$want" ] || { echo "exit $st, wanted $want: $*"; echo "$out"; exit 1; }
    echo "$out" | grep -q -- "$pattern" || { echo "no '$pattern' in: $out"; exit 1; }
}
expect 0 "\[radio\]\|--radio.device" -- "$airlearn" tx --help
expect 0 "--training.sigma2" -- "$airlearn" rx --help
printf '[model]\nM = 16\nNN = 2\n' > "$work/typo.conf"
expect 78 "typo.conf:3" -- "$airlearn" tx --config "$work/typo.conf"
printf '[model]\nM = 1\n' > "$work/range.conf"
expect 78 "range.conf:2" -- "$airlearn" rx --config "$work/range.conf"
printf 'garbage line\n' > "$work/bad.conf"
expect 78 "bad.conf:1" -- "$airlearn" rx --config "$work/bad.conf"
expect 78 "training.sigma2" -- "$airlearn" tx --training.sigma2=2
expect 64 "unknown option" -- "$airlearn" rx --bogus
# Settings that pass one by one but not together, and [log] level (checked
# when applied), are configuration errors too; sim and loopback take a bad
# value on their command line as a usage error.
expect 78 "airlearn tx: \[phy\] messages x \[model\] N = 16384 exceeds 8192 symbols" -- \
    "$airlearn" tx --phy.messages=4096 --model.N=4
expect 78 "airlearn rx: \[log\] level: .*'bogus'" -- "$airlearn" rx --log.level=bogus
expect 64 "airlearn sim: --sim.M: 1 is out of range" -- "$airlearn" sim --M=1
expect 64 "unknown option '--bogus' (see airlearn loopback --help)" -- "$airlearn" loopback --bogus
expect 69 "no radio matches" -- "$airlearn" tx --radio.device=driver=nosuchradio --state.directory="$work/s"
# airsim refusing its arguments says why, without the hint for a module
# that is not found.
set +e
out=$("$airlearn" rx --radio.device="driver=airsim,link=ipc://@airlearn-cli-$$,fading=rayleigh" \
      --state.directory="$work/s" 2>&1); st=$?
set -e
[ "$st" -eq 69 ] || { echo "airsim refusing: exit $st: $out"; exit 1; }
echo "$out" | grep -q "fading=rayleigh needs doppler" || { echo "no reason: $out"; exit 1; }
if echo "$out" | grep -q "is the airsim module installed"; then
    echo "a module that answered is said to be missing: $out"; exit 1
fi
expect 69 "no $work/none/status.json" -- "$airlearn" status --state.directory="$work/none"
# A status file cut short or of another shape is refused (exit 65), naming
# the file and what is wrong, instead of printing half a record.
mkdir "$work/bad"
printf '{"role":"rx","pid":1,"phase":"trai' > "$work/bad/status.json"
expect 65 "$work/bad/status.json is truncated" -- "$airlearn" status --state.directory="$work/bad"
printf '{"role":"rx","pid":"1","phase":"training"}\n' > "$work/bad/status.json"
expect 65 '"pid" is a JSON string, not an integer' -- "$airlearn" status --state.directory="$work/bad"
printf '{"role":"rx","pid":1}\n' > "$work/bad/status.json"
expect 65 'no "phase"' -- "$airlearn" status --state.directory="$work/bad"
printf '{"role":"rx","pid":1,"phase":"training",}\n' > "$work/bad/status.json"
expect 65 "is not JSON" -- "$airlearn" status --state.directory="$work/bad"
# The shipped examples parse (they stop at the radio: none here).
for f in "$src"/daemon/conf/*.conf; do
    role=tx; case $f in *rx.conf) role=rx;; esac
    case $f in *airsim*) continue;; esac
    expect 69 "no radio matches" -- "$airlearn" $role --config "$f" --state.directory="$work/ex"
done
# Under systemd: READY=1, then STATUS= lines with watchdog pings, on the
# socket named by NOTIFY_SOCKET; and `airlearn status` of the running daemon.
# `airlearn status` shows every member of each daemon's status.json as the
# daemon wrote it (the transmitter's before any figure: loss and ser null),
# with running and age_s added.
python3 - "$airlearn" "$work" <<'PY'
import json, os, socket, subprocess, sys, time
airlearn, work = sys.argv[1], sys.argv[2]
path = work + "/notify.sock"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(20)
env = dict(os.environ, NOTIFY_SOCKET=path)
conf = work + "/notify.conf"
open(conf, "w").write("[radio]\ndevice = driver=airsim,clock=fast,link=ipc://@airlearn-cli-%d\n"
                      "[state]\ndirectory = %s/notify-state\n" % (os.getpid(), work))
p = subprocess.Popen([airlearn, "rx", "--config", conf], env=env, stderr=subprocess.DEVNULL)
try:
    got = []
    deadline = time.time() + 20
    while time.time() < deadline and not any("WATCHDOG=1" in g for g in got):
        got.append(s.recv(4096).decode())
    if not got or "READY=1" not in got[0]:   # ready before anything else
        sys.exit("no READY=1 first: %r" % got)
    if not any("STATUS=" in g and "WATCHDOG=1" in g for g in got):
        sys.exit("no STATUS with WATCHDOG=1: %r" % got)
    out = subprocess.run([airlearn, "status", "--config", conf], capture_output=True, text=True)
    st = json.loads(out.stdout)
    if out.returncode != 0 or not st["running"] or st["role"] != "rx":
        sys.exit("status of the running daemon: %r %r" % (out.returncode, out.stdout))
finally:
    p.terminate()
    p.wait(timeout=20)
out = subprocess.run([airlearn, "status", "--config", conf], capture_output=True, text=True)
if out.returncode != 69 or json.loads(out.stdout)["running"]:
    sys.exit("status after the daemon stopped: %r %r" % (out.returncode, out.stdout))

def round_trip(conf, state, role):
    out = subprocess.run([airlearn, "status", "--config", conf], capture_output=True, text=True)
    text = open(state + "/status.json").read()
    st = json.loads(text)
    if st["role"] != role or st["phase"] != "stopped" or len(st) < 30:
        sys.exit("%s status.json: %r" % (role, text))
    want = text[:-2] + ',"running":false,"age_s":%d}\n' % json.loads(out.stdout)["age_s"]
    if out.returncode != 69 or out.stdout != want:
        sys.exit("status of %s: %r\nnot %r" % (role, out.stdout, want))
    return st

round_trip(conf, work + "/notify-state", "rx")
conf = work + "/tx.conf"
open(conf, "w").write("[radio]\ndevice = driver=airsim,clock=fast,link=ipc://@airlearn-cli-tx-%d\n"
                      "[feedback]\nendpoint = ipc://@airlearn-cli-fb-%d\n"
                      "[state]\ndirectory = %s/tx-state\n" % (os.getpid(), os.getpid(), work))
p = subprocess.Popen([airlearn, "tx", "--config", conf], stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 20
    while time.time() < deadline and not os.path.exists(work + "/tx-state/status.json"):
        time.sleep(0.1)
finally:
    p.terminate()
    p.wait(timeout=20)
st = round_trip(conf, work + "/tx-state", "tx")
if st["loss"] is not None or st["ser"] is not None:
    sys.exit("tx before any figure: loss %r ser %r, not null" % (st["loss"], st["ser"]))
print("sd_notify and status: ok")
PY
echo "daemon cli: ok"

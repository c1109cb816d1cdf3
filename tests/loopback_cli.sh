#!/bin/sh
# The loopback's command line. The daemons' settings it offers are
# daemon_table's under the loopback's names: each one given reaches both
# daemons' configurations (TX-only [xfer] send the transmitter's alone),
# with the daemons' ranges; M=256 has its own defaults, and settings given
# still win over them.
set -eu
airlearn=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "loopback cli: $*"; exit 1; }

# Ranges are the daemons': 0 final-evaluation messages is refused by both
# (a transmitter told to exit when done never did: no summary was written).
set +e
out=$("$airlearn" loopback --final-eval-messages 0 --out "$work/x" 2>&1); st=$?
set -e
[ "$st" -eq 64 ] || fail "--final-eval-messages 0: exit $st, wanted 64: $out"
echo "$out" | grep -q -- "--loopback.final-eval-messages: 0 is out of range \[1, " ||
    fail "--final-eval-messages 0: $out"

# --help names the setting each option stands for, with the daemons' range.
"$airlearn" loopback --help > "$work/help"
grep -q -- "--lr-tx .*TX Adam learning rate (\[training\] lr_tx) \[default 0.005; 1e-06..1\]" \
    "$work/help" || fail "--help: $(grep -- --lr-tx "$work/help")"

python3 - "$airlearn" "$work" <<'PY'
import configparser, subprocess, sys
airlearn, work = sys.argv[1], sys.argv[2]

# option, value, [section] key it stands for. Values are not the defaults
# and make a short run that works.
given = [
    ("M", "32", "model", "M"), ("N", "3", "model", "N"),
    ("tx-hidden", "40", "model", "tx_hidden"), ("rx-hidden", "48", "model", "rx_hidden"),
    ("seed", "9", "model", "seed"), ("sps", "4", "phy", "sps"),
    ("rolloff", "0.25", "phy", "rolloff"), ("messages", "96", "phy", "messages"),
    ("rx-frames", "1", "training", "rx_frames"), ("rx-steps", "2", "training", "rx_steps"),
    ("tx-frames", "3", "training", "tx_frames"), ("rounds", "4", "training", "rounds"),
    ("seconds", "600", "training", "max_seconds"),
    ("target-ser", "1e-09", "training", "target_ser"),
    ("eval-interval", "2", "training", "eval_interval"),
    ("eval-frames", "3", "training", "eval_frames"),
    ("final-eval-messages", "960", "training", "final_eval_messages"),
    ("max-staleness", "1", "training", "max_staleness"),
    ("loss-timeout-ms", "400", "training", "loss_timeout_ms"),
    ("sigma2", "0.03", "training", "sigma2"), ("lr-tx", "0.004", "training", "lr_tx"),
    ("lr-rx", "0.006", "training", "lr_rx"), ("lr-decay", "0.5", "training", "lr_decay"),
    ("fb-drop", "0.001", "feedback", "fault_drop"),
    ("fb-corrupt", "0.002", "feedback", "fault_corrupt"),
    ("sweep-step", "1.5", "sweep", "step_db"),
    ("sweep-messages", "5000", "sweep", "max_messages"),
    ("sweep-errors", "100", "sweep", "min_errors"),
    ("xfer-idle", "12", "xfer", "idle_s"),
    ("frequency", "2.4e+09", "radio", "frequency"), ("if-offset", "100000", "radio", "if_offset"),
    ("tx-stream", "continuous", "radio", "tx_stream"),
    ("stall-timeout", "4", "radio", "stall_timeout_s"),
    ("reopen-timeout", "20", "radio", "reopen_timeout_s"),
    ("log-level", "info", "log", "level"),
    # the loopback's own, turned into a daemon setting
    ("rate", "1500000", "radio", "rate"),
]

def same(got, value):
    """The value given, as the daemon reads it (numbers may be written
    shorter: 100000 as 1e+05)."""
    if got == value:
        return True
    try:
        return got is not None and float(got) == float(value)
    except ValueError:
        return False

def run(args, out):
    p = subprocess.run([airlearn, "loopback", "--out", out] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("loopback %s: exit %d\n%s" % (" ".join(args), p.returncode, p.stderr[-2000:]))
    confs = []
    for role in ("tx", "rx"):
        c = configparser.ConfigParser(interpolation=None)
        c.optionxform = str
        c.read("%s/%s.conf" % (out, role))
        confs.append(c)
    return confs

args = []
for opt, value, _, _ in given:
    args += ["--" + opt, value]
tx, rx = run(args, work + "/all")
for opt, value, section, key in given:
    for role, c in (("tx", tx), ("rx", rx)):
        got = c.get(section, key, fallback=None)
        if not same(got, value):
            sys.exit("--%s %s: %s.conf [%s] %s = %r" % (opt, value, role, section, key, got))

# M=256's defaults, and a setting given wins over them.
tx, rx = run(["--M", "256", "--lr-rx", "0.02", "--rounds", "2", "--final-eval-messages", "1000"],
             work + "/m256")
want = {("phy", "messages"): "1024", ("training", "rx_frames"): "1",
        ("training", "lr_tx"): "0.01", ("training", "lr_rx"): "0.02",
        ("training", "rounds"): "2", ("training", "max_staleness"): "1"}
for (section, key), value in want.items():
    got = tx.get(section, key, fallback=None)
    if not same(got, value):
        sys.exit("--M 256: tx.conf [%s] %s = %r, wanted %s" % (section, key, got, value))
print("loopback options: %d settings given reach both daemons; M=256 defaults" % len(given))
PY

# [xfer] send is the transmitter's: the receiver is not told to send.
head -c 3000 /dev/urandom > "$work/file"
"$airlearn" loopback --rounds 300 --eval-interval 100 --final-eval-messages 5000 \
    --send "$work/file" --out "$work/send" \
    > /dev/null 2> "$work/send.err" || { cat "$work/send.err"; fail "--send run failed"; }
grep -qx "send = $work/file" "$work/send/tx.conf" || fail "tx.conf has no send = $work/file"
grep -qx "send = " "$work/send/rx.conf" || fail "rx.conf: $(grep '^send' "$work/send/rx.conf")"
cmp -s "$work/file" "$work/send/received/file" || fail "the file did not arrive intact"
echo "loopback cli: ok"

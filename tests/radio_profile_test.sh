#!/bin/sh
# The daemons against real radios' behaviour, imitated by airsim's
# profiles, and the bring-up check: radio_profile_test.sh AIRLEARN PART
# runs one part (queue, linkcheck, hackrf_tx, unplug or if_offset; the
# suite runs each as its own test, radio_profile_PART, so that they can
# run side by side).
set -eu
airlearn=$1
part=${2:-}
test_name="radio profile test ($part)"
. "$(dirname "$0")/daemon_test_lib.sh"
tag=$$

# rss_queue NAME RATE [DEVICE ARGS]: starts a lone receiver, prints
# "RSS_KiB QUEUE_BYTES" once it reports.
rss_queue() {
    "$airlearn" rx --radio.device="driver=airsim,clock=fast,link=ipc://@airlearn-rp-$1-$tag$3" \
        --radio.rate="$2" --state.directory="$work/$1" \
        --feedback.endpoint="ipc://@airlearn-rp-fb-$1-$tag" 2> "$work/$1.log" &
    p=$!
    pids="$pids $p"
    i=0
    while [ ! -s "$work/$1/status.json" ]; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "no status from the receiver $1: $(cat "$work/$1.log")"
        sleep 0.05
    done
    # The queue is touched where it is made, before the first status: its
    # memory is in the RSS now (no settling wait).
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status")
    echo "$rss $(json "$work/$1/status.json" rx_queue_bytes)"
    kill "$p"; wait "$p" || true
}

# queue: the RX sample queue holds [radio] rx_queue_s seconds of samples,
# so its memory follows the sample rate, not the radio's MTU (256 MTUs
# were 256 MiB on a HackRF).
part_queue() {
read -r rss1 q1 <<EOF2
$(rss_queue r1 1e6 "")
EOF2
read -r rss8 q8 <<EOF2
$(rss_queue r8 8e6 "")
EOF2
echo "queue: 1 Msps $q1 bytes (RSS $rss1 KiB), 8 Msps $q8 bytes (RSS $rss8 KiB)"
python3 - "$q1" "$q8" "$rss1" "$rss8" <<'PY' || fail "the queue does not follow the rate"
import sys
q1, q8, rss1, rss8 = (float(a) for a in sys.argv[1:])
half_second = 0.5 * 8  # bytes per sample/s
for q, rate in ((q1, 1e6), (q8, 8e6)):
    # whole blocks of at most one MTU (airsim: 16384 samples = 128 KiB)
    if not rate * half_second <= q <= rate * half_second + 131072:
        sys.exit("queue %d bytes at %g samples/s, not 0.5 s" % (q, rate))
# the memory is really there: RSS grows by the queue's growth
if not (rss8 - rss1) * 1024 > 0.8 * (q8 - q1):
    sys.exit("RSS grew %d KiB for %d more queue bytes" % (rss8 - rss1, q8 - q1))
PY
}

# linkcheck: `airlearn linkcheck` on the receiver's side of a running
# transmitter: a good link passes (exit 0); a clipping receiver with too
# little SNR is told so (exit 1).
part_linkcheck() {
"$airlearn" tx --radio.device="driver=airsim,clock=realtime,link=ipc://@airlearn-rp-lc-$tag" \
    --state.directory="$work/lc-tx" --feedback.endpoint="ipc://@airlearn-rp-lc-fb-$tag" \
    --training.loss_timeout_ms=100 --log.level=error &
txp=$!
pids="$pids $txp"
rx_lc="driver=airsim,clock=realtime,link=ipc://@airlearn-rp-lc-$tag,cfo=1000"
st=0
"$airlearn" linkcheck --radio.device="$rx_lc,snr_db=21" --feedback.endpoint="ipc://@airlearn-rp-lc-fb-$tag" \
    --seconds=4 --log.level=warn > "$work/lc-good.txt" || st=$?
cat "$work/lc-good.txt"
[ $st -eq 0 ] || fail "linkcheck of a good link exited $st"
grep -q "fit to train" "$work/lc-good.txt" || fail "no verdict"
st=0
"$airlearn" linkcheck --radio.device="$rx_lc,snr_db=8,gain_db=10" --radio.gains="LNA=0" \
    --feedback.endpoint="ipc://@airlearn-rp-lc-fb-$tag" --seconds=4 --log.level=warn \
    > "$work/lc-bad.txt" || st=$?
cat "$work/lc-bad.txt"
[ $st -eq 1 ] || fail "linkcheck of a clipping, noisy link exited $st, not 1"
grep -q "RX clipping: lower gains LNA by 8 dB" "$work/lc-bad.txt" || fail "no clipping advice"
grep -q "SNR .* too low for M=16" "$work/lc-bad.txt" || fail "no SNR advice"
kill "$txp"; wait "$txp" || true
}

# hackrf_tx: HackRF TX buffering (airsim profile=hackrf: 131072-sample
# buffers that air only when full, END_BURST ignored). One burst per frame
# (the old way, --tx-stream burst) leaves every frame waiting in the
# driver: no TX_TRAIN loss arrives in time and the policy never moves.
# The continuous stream (auto on a device without hardware time) trains.
part_hackrf_tx() {
st=0
timeout -s INT 25 "$airlearn" loopback --out "$work/burst" --profile hackrf --tx-stream burst \
    --rounds 20 --eval-interval 10 --final-eval-messages 2000 > /dev/null 2>&1 || st=$?
python3 - "$work/burst/tx/status.json" <<'PY' || fail "bursts over the hackrf profile should not train"
import json, sys
t = json.load(open(sys.argv[1]))
print("hackrf, bursts:", {k: t[k] for k in ("tx_stream", "model_version", "losses_accepted",
      "losses_dropped", "frame_rtt_max_ms", "loss_timeout_ms")})
if t["tx_stream"] != "burst" or t["losses_accepted"] != 0 or t["model_version"] != 0:
    sys.exit("losses accepted or updates made")
PY
"$airlearn" loopback --out "$work/hackrf" --profile hackrf --frequency 2.44e9 --rounds 300 \
    --eval-interval 50 --final-eval-messages 10000 > "$work/hackrf.json" 2> "$work/hackrf.err" ||
    { cat "$work/hackrf.err"; fail "loopback over the hackrf profile failed"; }
cat "$work/hackrf.json"
python3 - "$work/hackrf" <<'PY' || fail "the hackrf profile does not train"
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
t = json.load(open(d + "/tx/status.json"))
print("hackrf, continuous:", {k: t[k] for k in ("tx_stream", "model_version", "losses_accepted",
      "losses_dropped", "frame_rtt_ms", "frame_rtt_max_ms", "loss_timeout_ms")})
if t["tx_stream"] != "continuous":
    sys.exit("auto did not stream continuously on a device without hardware time")
if t["losses_accepted"] < 0.9 * 300 * 2:
    sys.exit("only %d TX_TRAIN losses accepted" % t["losses_accepted"])
# Measured 0.98e-3..4.2e-3 over seeds 1-5 and a suite run (median 1.6e-3):
# the bound is 5x the median.
if not s["ser"] < 8e-3:
    sys.exit("SER %g is not below 8e-3" % s["ser"])
PY
}

# unplug: an unplugged board (airsim unplug_after / replug_after: a HackRF
# then returns TIMEOUT for ever) on either side mid-run. The daemon
# notices within stall_timeout_s (2 s here), reopens once the board is
# back, training goes on and status.json shows the outage; without a
# replug it exits 69 after reopen_timeout_s.
part_unplug() {
for side in tx rx; do
    "$airlearn" loopback --out "$work/unplug-$side" --profile hackrf --rounds 300 \
        --eval-interval 50 --final-eval-messages 5000 --stall-timeout 2 --log-level info \
        "--$side-radio-args" unplug_after=3,replug_after=3 > "$work/unplug-$side.json" \
        2> "$work/unplug-$side.err" ||
        { cat "$work/unplug-$side.err"; fail "run with the $side board unplugged and back failed"; }
    python3 - "$work/unplug-$side" "$side" <<'PY' || fail "the $side side did not recover"
import json, re, sys
d, side = sys.argv[1], sys.argv[2]
s = json.load(open(d + "/summary.json"))
st = json.load(open(d + "/%s/status.json" % side))
log = open(d + "/%s.log" % side).read()
print("%s unplugged:" % side, {k: st[k] for k in ("radio_stalls", "radio_reopens", "radio_outage_s")},
      "SER", s["ser"])
m = re.search(r"radio: no (?:samples|write accepted) for ([0-9.]+) s", log)
if not m or float(m.group(1)) > 2.0 + 1.0:
    sys.exit("the stall was not noticed within the configured 2 s")
if st["radio_stalls"] < 1 or st["radio_reopens"] < 1 or not st["radio_outage_s"] > 0:
    sys.exit("status.json does not show the outage")
# Measured 1.2e-3..3.3e-3 over seeds 1-4, both sides (median 2.3e-3): the
# bound is 4.3x the median.
if not s["ser"] < 1e-2:
    sys.exit("training did not go on: SER %g" % s["ser"])
PY
    st=0
    "$airlearn" loopback --out "$work/gone-$side" --profile hackrf --rounds 300 \
        --stall-timeout 2 --reopen-timeout 3 "--$side-radio-args" unplug_after=3 \
        > /dev/null 2> "$work/gone-$side.err" || st=$?
    [ $st -ne 0 ] || fail "the run went on with the $side board gone for good"
    case $side in tx) role=transmitter ;; *) role=receiver ;; esac
    grep -Eq "the $role exited.*status 69" "$work/gone-$side.err" ||
        { cat "$work/gone-$side.err"; fail "the $role did not exit with status 69"; }
    echo "$side board gone for good: the $role exited 69"
done
}

# if_offset: offset tuning ([radio] if_offset): frames shifted up by the TX
# and down by the RX still train; an offset that pushes them out of the
# sampled band is a configuration error (78).
part_if_offset() {
"$airlearn" loopback --out "$work/ifo" --rounds 300 --eval-interval 100 --final-eval-messages 10000 \
    --if-offset 150e3 > "$work/ifo.json" 2> "$work/ifo.err" ||
    { cat "$work/ifo.err"; fail "loopback with if_offset failed"; }
python3 - "$work/ifo.json" <<'PY' || fail "offset tuning does not train"
import json, sys
s = json.load(open(sys.argv[1]))
print("if_offset 150 kHz at 1 Msps: SER", s["ser"])
# Measured 0.88e-3..1.56e-3 over seeds 1-5 and a suite run (median
# 1.27e-3): the bound is 3.9x the median.
if not s["ser"] < 5e-3:
    sys.exit("SER %g is not below 5e-3" % s["ser"])
PY
st=0
"$airlearn" tx --radio.if_offset=400e3 --state.directory="$work/ifo-bad" 2> "$work/ifo-bad.err" || st=$?
[ $st -eq 78 ] || fail "if_offset outside the band: exit $st, not 78"
grep -q "if_offset 400000 Hz" "$work/ifo-bad.err" || fail "the error does not name if_offset"
}

case $part in
    queue|linkcheck|hackrf_tx|unplug|if_offset) "part_$part" ;;
    *) fail "no part '$part' (queue, linkcheck, hackrf_tx, unplug, if_offset)" ;;
esac
echo "$test_name: ok"

#!/bin/sh
# The daemons against real radios' behaviour, imitated by airsim's
# profiles, and the bring-up check. Part 1: the RX sample queue holds [radio] rx_queue_s seconds of
# samples, so its memory follows the sample rate, not the radio's MTU
# (256 MTUs were 256 MiB on a HackRF).
set -eu
airlearn=$1
work=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "radio profile test: $*"; exit 1; }
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
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
    sleep 0.5
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status")
    echo "$rss $(json "$work/$1/status.json" rx_queue_bytes)"
    kill "$p"; wait "$p" || true
}
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
# Part 2: `airlearn linkcheck` on the receiver's side of a running
# transmitter: a good link passes (exit 0); a clipping receiver with too
# little SNR is told so (exit 1).
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

echo "radio profile test: ok"

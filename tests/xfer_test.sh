#!/bin/sh
# A file over the learned link: `airlearn loopback --send` trains M=16,
# N=2 at 12 dB with 256 messages per frame, then sends a random file as
# DATA frames with every 10th burst of the radio link lost (airsim
# drop_every=10); the received file must be identical (cmp) and the run
# must report goodput, frame error rate and retransmissions. Then a run
# at 3 dB, where DATA frames do not decode, must end with a clear error,
# a non-zero status and no file under the file's name.
# The suite sends 128 KiB (XFER_TEST_BYTES overrides; the README gives
# the 1 MiB figures, measured with XFER_TEST_BYTES=1048576).
set -eu
airlearn=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "xfer: $*"; exit 1; }
# field FILE OBJECT KEY: a value of the loopback's JSON line
field() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$@"
}
atleast() {
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2"
}

bytes=${XFER_TEST_BYTES:-131072}
head -c "$bytes" /dev/urandom > "$work/data.bin"

# A dropped burst's losses never come: each costs the loss timeout's floor,
# 100 ms here (as the fault test; frames come back in a few ms, and the
# timeout rises with the measured round trip), not the loopback's 300.
"$airlearn" loopback --out "$work/ok" --messages 256 --rounds 300 --eval-interval 100 \
    --final-eval-messages 20000 --send "$work/data.bin" --tx-radio-args drop_every=10 \
    --loss-timeout-ms 100 --log-level info \
    > "$work/ok.json" || fail "the transfer at 12 dB with 10 % of the frames lost failed"
cat "$work/ok.json"
cmp "$work/data.bin" "$work/ok/received/data.bin" || fail "the received file differs"
[ "$(ls -A "$work/ok/received")" = "data.bin" ] || fail "more than the file in received/"
[ "$(field "$work/ok.json" xfer outcome)" = complete ] || fail "outcome not complete"
[ "$(field "$work/ok.json" xfer_rx outcome)" = complete ] ||
    fail "receiver's outcome not complete"
atleast "$(field "$work/ok.json" xfer goodput_bps)" 1000 || fail "no goodput reported"
# Every 10th burst lost: at least that many frames repeated and counted.
sent=$(field "$work/ok.json" xfer frames_sent)
atleast "$(field "$work/ok.json" xfer retransmissions)" "$(python3 -c "print($sent * 0.08)")" ||
    fail "fewer retransmissions than the frames the link lost"
atleast "$(field "$work/ok.json" xfer frame_error_rate)" 0.08 || fail "frame error rate below the loss"
grep -q "sent 'data.bin'.*goodput" "$work/ok/tx.log" || fail "no goodput in tx.log"

status=0
"$airlearn" loopback --out "$work/low" --messages 256 --rounds 10 --snr-db 3 \
    --loss-timeout-ms 100 --final-eval-messages 500 --send "$work/data.bin" --xfer-idle 3 \
    > "$work/low.json" 2> "$work/low.err" || status=$?
cat "$work/low.err"
[ "$status" -ne 0 ] || fail "a run at 3 dB exited 0"
grep -q "file transfer failed" "$work/low.err" || fail "no clear error at 3 dB"
[ ! -e "$work/low/received/data.bin" ] || fail "a file under its name after a failed transfer"
[ -z "$(ls -A "$work/low/received")" ] || fail "something left in received/ after a failed transfer"
grep -q '"outcome":"failed"' "$work/low/tx/xfer.json" || fail "tx/xfer.json does not say failed"
echo "xfer: $bytes bytes identical; a run at 3 dB failed cleanly (status $status)"

#!/bin/sh
# Training under faults: 30 % of feedback messages lost and 5 % corrupted
# (both directions), the radio link losing bursts (drop_every), the
# transmitter underflowing (underflow_every), the receiver overflowing
# (overflow_every) and the link going dead for two seconds every six. The run must still reach the loopback
# threshold, and the counters must account for every injected fault: each
# corrupted message is rejected by the other end (the transmitter's
# rejections up to the receiver's last messages after it stopped).
set -eu
airlearn=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$airlearn" loopback --out "$work/f" --rounds 400 --eval-interval 50 --final-eval-messages 20000 \
    --loss-timeout-ms 100 --fb-drop 0.3 --fb-corrupt 0.05 --tx-radio-args "drop_every=97,underflow_every=50" \
    --rx-radio-args "overflow_every=300,outage_every=6,outage_for=2" > "$work/f.json"
cat "$work/f.json"
python3 - "$work/f" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
tx = json.load(open(d + "/tx/status.json"))
rx = json.load(open(d + "/rx/status.json"))
print("tx:", {k: tx[k] for k in tx if k.startswith("fb_") or k in ("frames_sent", "losses_accepted", "losses_dropped", "underflows")})
print("rx:", {k: rx[k] for k in rx if k.startswith("fb_") or k in ("frames_detected", "overflows", "radio_errors", "losses_sent")})
problems = []
# Measured 2.6e-3..4.8e-3 (mean 3.2e-3) over 6 runs: the bound 1e-2 is 3x
# the mean, 2x the worst.
if not s["ser"] < 1e-2:
    problems.append("SER %g under faults is not below 1e-2" % s["ser"])
# The receiver outlives the transmitter (the demo stops it after the
# transmitter's final status): what it corrupts in that last moment (a
# heartbeat, a STATS) reaches no one, so its count may exceed the
# transmitter's by the few messages sent then (1 of 7 runs: 26 against
# 25), never fall short of it.
late = rx["fb_fault_corrupted"] - tx["fb_rejected"]
if not 0 <= late <= 2:
    problems.append("TX rejected %d messages, RX corrupted %d" % (tx["fb_rejected"], rx["fb_fault_corrupted"]))
if rx["fb_rejected"] != tx["fb_fault_corrupted"]:
    problems.append("RX rejected %d messages, TX corrupted %d" % (rx["fb_rejected"], tx["fb_fault_corrupted"]))
if min(tx["fb_fault_dropped"], rx["fb_fault_dropped"], rx["fb_fault_corrupted"], rx["overflows"], rx["radio_errors"], tx["underflows"]) == 0:
    problems.append("some injected fault never happened")
if not tx["frames_sent"] > rx["frames_detected"]:
    problems.append("no radio burst was lost")
if problems:
    sys.exit("; ".join(problems))
print("faults: SER %g with every fault injected and accounted for" % s["ser"])
PY

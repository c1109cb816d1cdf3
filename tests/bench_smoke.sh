#!/bin/sh
# Every benchmark runs in its quick form and prints only JSON objects,
# one per line, each naming its benchmark. Figures are not judged here:
# the machine is shared; compare ratios from a full `airlearn bench` run.
set -eu
airlearn=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$airlearn" bench --quick --seconds 0.05 > "$out"
python3 - "$out" <<'PY'
import json, sys
names = set()
for line in open(sys.argv[1]):
    obj = json.loads(line)
    names.add(obj["bench"])
need = {"airsim_fast", "airsim_realtime", "sgemm_peak", "rx_forward", "rx_losses", "rx_train", "tx_pg_step", "feedback_rtt", "feedback_rate", "tx_frame", "rx_frontend"}
missing = need - names
if missing:
    sys.exit("missing benchmarks: %s" % sorted(missing))
print("bench smoke: %d kinds of figures" % len(names))
PY
status=0
"$airlearn" bench nope 2>/dev/null || status=$?
test "$status" -eq 64

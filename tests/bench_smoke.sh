#!/bin/sh
# Every benchmark runs in its quick form and prints only JSON objects,
# one per line, each naming its benchmark, with its figures finite and
# positive. The figures' sizes are not judged here (the machine is
# shared; compare ratios from a full `airlearn bench` run), only that
# each was measured.
set -eu
airlearn=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$airlearn" bench --quick --seconds 0.05 > "$out" || fail "airlearn bench --quick"
python3 - "$out" <<'PY' || fail "benchmark output"
import json, math, sys
# The figures each benchmark measures (its other members are settings).
figures = {
    "airsim_fast": ["msps"],
    "airsim_realtime": ["measured_msps", "ratio"],
    "tx_frame": ["msps", "papr_db"],
    "rx_frontend": ["msps", "frames_per_s", "frames_delivered"],
    "feedback_rtt": ["p50_us", "p99_us", "max_us"],
    "feedback_rate": ["reports_per_s"],
    "sgemm_peak": ["gflops"],
    "rx_forward": ["msgs_per_s", "gflops", "frac_of_peak"],
    "rx_losses": ["msgs_per_s", "gflops", "frac_of_peak"],
    "rx_train": ["msgs_per_s"],
    "tx_pg_step": ["msgs_per_s"],
}
def refuse(token):
    raise ValueError("non-finite number %s" % token)
names = set()
problems = []
for n, line in enumerate(open(sys.argv[1]), 1):
    obj = json.loads(line, parse_constant=refuse)
    name = obj["bench"]
    names.add(name)
    for k, v in obj.items():
        if isinstance(v, (int, float)) and not (math.isfinite(v) and v >= 0):
            problems.append("line %d %s: %s = %r" % (n, name, k, v))
    for k in figures.get(name, []):
        v = obj.get(k)
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            problems.append("line %d %s: figure %s = %r is not finite and positive" % (n, name, k, v))
    if name == "feedback_rtt" and not obj["p50_us"] <= obj["p99_us"] <= obj["max_us"]:
        problems.append("line %d: feedback_rtt percentiles out of order: %r" % (n, obj))
missing = set(figures) - names
if missing:
    problems.append("missing benchmarks: %s" % sorted(missing))
if problems:
    sys.exit("\n".join(problems))
print("bench smoke: %d kinds of figures, all finite and positive" % len(names))
PY
status=0
"$airlearn" bench nope 2>/dev/null || status=$?
[ "$status" -eq 64 ] || fail "airlearn bench nope: exit $status, expected 64"
echo "bench smoke: ok"

#!/bin/sh
# SER against the SNR measured at the receiver, over the link: `airlearn
# loopback --sweep` trains M=16, N=2 at Es/N0 12 dB over driver=airsim
# (CFO 1 kHz, fractional delay), then the transmitter steps its level
# down 6 dB in steps of 2 dB (Es/N0 12, 10, 8, 6 dB). Checks:
#  - the receiver's Es/N0 at every level is airsim's: snr_db (the SNR of
#    a 0 dBFS unit-power burst per sample) + level_dbfs + 10 log10(sps),
#    within 0.2 dB;
#  - the over-the-air curve lies within 0.5 dB of `airlearn sim`'s curve of
#    the same trained networks (sim_eval over AWGN), at equal SER;
#  - the same frames' 2 x QPSK (the baseline's columns) lies within 0.5 dB
#    of its closed form.
set -eu
airlearn=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "sweep: $*"; exit 1; }

"$airlearn" loopback --out "$work/lb" --M 16 --N 2 --snr-db 12 --rounds 500 \
    --final-eval-messages 5000 --sweep --sweep-above 0 --sweep-below 6 --sweep-step 2 \
    --sweep-errors 500 --sweep-messages 200000 > "$work/lb.json"
cat "$work/lb.json"
csv=$work/lb/tx/ser-ota.csv
[ -s "$csv" ] || fail "no ser-ota.csv"
cat "$csv"
[ -s "$work/lb/ser-sim.csv" ] || fail "no ser-sim.csv"
[ -s "$work/lb/ser-ota.svg" ] || fail "no ser-ota.svg beside the simulation"
[ -s "$work/lb/tx/ser-ota.svg" ] || fail "no ser-ota.svg from the transmitter"

python3 - "$work/lb" <<'EOF'
import json, math, re, sys
out = sys.argv[1]
def conf(path, key):
    for line in open(path):
        k, _, v = line.partition("=")
        if k.strip() == key:
            return v.strip()
    raise SystemExit(f"{path}: no {key}")
tx, rx = f"{out}/tx.conf", f"{out}/rx.conf"
snr_db = float(re.search(r"snr_db=([-0-9.e]+)", conf(rx, "device")).group(1))
sps = int(conf(tx, "sps"))
level, step = float(conf(tx, "from_dbfs")), float(conf(tx, "step_db"))
rows = open(f"{out}/tx/ser-ota.csv").read().splitlines()
if rows[0] != "snr_db_measured,ser,ser_baseline,messages,errors,errors_baseline":
    raise SystemExit(f"ser-ota.csv header: {rows[0]}")
if len(rows) != 5:
    raise SystemExit(f"{len(rows) - 1} levels measured, 4 expected")
worst = 0.0
for i, row in enumerate(rows[1:]):
    f = row.split(",")
    if f[2] == "" or f[5] == "":
        raise SystemExit(f"no baseline in: {row}")
    measured = float(f[0])
    truth = snr_db + level - step * i + 10 * math.log10(sps)
    print(f"level {level - step * i:.0f} dBFS: Es/N0 airsim {truth:.2f} dB, measured {measured:.3f} dB")
    worst = max(worst, abs(measured - truth))
if worst > 0.2:
    raise SystemExit(f"measured Es/N0 off airsim's by {worst:.3f} dB (bound 0.2)")
s = json.load(open(f"{out}/summary.json"))
for key, what in (("sweep", "learned, to the simulation of the same networks"),
                  ("sweep_baseline", "2 x QPSK, to its closed form")):
    gap, n = s.get(f"{key}_gap_max_db"), s.get(f"{key}_points_compared", 0)
    print(f"{what}: gap max {gap} dB, mean {s.get(f'{key}_gap_mean_db')} dB over {n} points")
    if n < 3:
        raise SystemExit(f"{what}: fewer than 3 points compared")
    if not gap <= 0.5:
        raise SystemExit(f"{what}: {gap} dB apart (bound 0.5)")
EOF

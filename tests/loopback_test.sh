#!/bin/sh
# The daemons against each other: `airlearn loopback` trains M=16, N=2
# model-free over a driver=airsim link (two processes, CFO 1 kHz at 1 Msps,
# fractional delay 3.37 samples) and must end far below an untrained
# system; the same over Rayleigh block fading with the fading receiver.
set -eu
airlearn=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ser_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ser"])' "$1"; }
key_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
below() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }

# Untrained (one round): the threshold below must separate the two. At
# 6 dB, where the same-rate baseline (two QPSK symbols) interleaved in the
# EVAL frames errs often enough to be measured in a short run: it does not
# depend on training, so its SER must be the closed form's (0.0889) plus
# what synchronisation at 6 dB costs: measured 0.106, 0.110 and 0.113
# (about 2200 errors in 20300 messages, a standard error of 2 %; after 1
# round, and 0.106 after 300), 1.19-1.27 times the closed form, some
# 0.7 dB. Pairing the baseline's decisions with the wrong slots' labels
# measured 0.94.
"$airlearn" loopback --out "$work/untrained" --rounds 1 --snr-db 6 --final-eval-messages 20000 \
    > "$work/untrained.json"
cat "$work/untrained.json"
untrained=$(ser_of "$work/untrained.json")
echo "untrained SER $untrained"
below 0.3 "$untrained" || { echo "an untrained system should not be this good"; exit 1; }
base=$(key_of "$work/untrained.json" ser_baseline)
closed=$(python3 -c 'import math; p=0.5*math.erfc(math.sqrt(10**0.6/2)); print(1-(1-p)**4)')
python3 -c 'import sys; b, c = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if 0.95 * c < b < 1.4 * c else 1)' \
    "$base" "$closed" || { echo "2xQPSK baseline SER $base at 6 dB is not near its closed form $closed"; exit 1; }
# M=8, N=2: 1.5 bits per symbol, no QAM of that rate: the baseline's SER
# is null, not a number.
"$airlearn" loopback --out "$work/nobase" --M 8 --N 2 --rounds 1 --final-eval-messages 2000 \
    > "$work/nobase.json"
[ "$(key_of "$work/nobase.json" ser_baseline)" = None ] ||
    { echo "M=8, N=2 has no same-rate QAM, yet:"; cat "$work/nobase.json"; exit 1; }

"$airlearn" loopback --out "$work/awgn" --rounds 500 --eval-interval 50 \
    --final-eval-messages 20000 --log-level info > "$work/awgn.json"
cat "$work/awgn.json"
awgn=$(ser_of "$work/awgn.json")
# Measured 6.8e-4..1.6e-3 (mean 1.2e-3) over 6 runs: the bound 5e-3 is 4x
# the mean, 3x the worst. (The same run at 1 dB less SNR measured
# 3.6e-3 and 3.9e-3: inside the bound; 0.03 let far worse through.)
below "$awgn" 5e-3 || { echo "AWGN loopback SER $awgn is not below 5e-3"; exit 1; }
[ -s "$work/awgn/tx/constellation.csv" ] || { echo "no constellation.csv"; exit 1; }
[ -s "$work/awgn/tx/training.csv" ] || { echo "no training.csv"; exit 1; }
# Each daemon logs to its own file, SoapySDR's and the airsim module's
# lines included (at info, the module logs the link), in the daemons'
# format: no terminal colour codes.
for role in tx rx; do
    grep -q "^$role: info: airsim " "$work/awgn/$role.log" ||
        { echo "no airsim module line in $role.log:"; cat "$work/awgn/$role.log"; exit 1; }
done
esc=$(printf '\033')
if grep -q "$esc" "$work/awgn/tx.log" "$work/awgn/rx.log"; then
    echo "colour codes in a daemon log:"; cat -v "$work/awgn/tx.log" "$work/awgn/rx.log"; exit 1
fi
if grep -q '^\[' "$work/awgn/tx.log" "$work/awgn/rx.log"; then
    echo "a line in SoapySDR's own format ([LEVEL] ...):"; cat "$work/awgn/tx.log" "$work/awgn/rx.log"; exit 1
fi

"$airlearn" loopback --out "$work/fading" --fading rayleigh-block --snr-db 20 --rounds 600 \
    --eval-interval 100 --final-eval-messages 10000 > "$work/fading.json"
cat "$work/fading.json"
fading=$(ser_of "$work/fading.json")
# Measured 0.011..0.021 (mean 0.016) over 5 runs: the bound 0.07 is 3-4x.
below "$fading" 0.07 || { echo "fading loopback SER $fading is not below 0.07"; exit 1; }
echo "loopback: untrained $untrained, AWGN $awgn, fading $fading"

#!/bin/sh
# airlearn sim from the command line: outputs present with the documented
# headers, the same seed gives a bit-identical ser.csv, bad input is
# refused with the documented exit status.
set -eu
airlearn=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() {
  "$airlearn" sim --M 16 --N 2 --iterations 200 --fine-tune 0 --batch 128 --sweep 4:8:2 \
    --eval-messages 20000 --out "$1" > "$1.stdout" 2> "$1.stderr"
}
run "$dir/a"
run "$dir/b"
for f in ser.csv training.csv constellation.csv config.ini; do
  test -s "$dir/a/$f" || { echo "missing $f"; exit 1; }
done
head -1 "$dir/a/ser.csv" | grep -qx 'method,channel,M,N,snr_db,messages,errors,ser'
head -1 "$dir/a/training.csv" | grep -qx 'method,iteration,phase,loss,wall_s'
head -1 "$dir/a/constellation.csv" | grep -qx 'method,message,symbol,i,q'
grep -q '^model-free,awgn,16,2,' "$dir/a/ser.csv"
grep -q '^qpsk,awgn,16,2,' "$dir/a/ser.csv"
cmp "$dir/a/ser.csv" "$dir/b/ser.csv"
cmp "$dir/a/constellation.csv" "$dir/b/constellation.csv"
grep -q 'SNR at SER' "$dir/a.stdout"
grep -q 'ETA' "$dir/a.stderr"
# A config file with the same keys, and its errors named by line.
printf '[sim]\nM = 16\nN = 2\niterations = 50\nsweep = 6:6:1\nbogus = 1\n' > "$dir/c.ini"
status=0
"$airlearn" sim --config "$dir/c.ini" --out "$dir/c" 2> "$dir/c.err" || status=$?
test "$status" -eq 78 || { echo "expected exit 78, got $status"; exit 1; }
grep -q "c.ini:6: \[sim\] bogus: unknown setting" "$dir/c.err"
status=0
"$airlearn" sim --M 1 2> /dev/null || status=$?
test "$status" -eq 64
status=0
"$airlearn" sim --sweep 5:1:1 --iterations 1 --out "$dir/d" 2> "$dir/d.err" || status=$?
test "$status" -eq 64 && grep -q "sweep" "$dir/d.err"
status=0
"$airlearn" sim --rx-input unscaled --iterations 1 --out "$dir/e" 2> "$dir/e.err" || status=$?
test "$status" -eq 64 && grep -q "rx-input" "$dir/e.err"
# Gradient statistics: one row per method every 50 iterations.
"$airlearn" sim --M 16 --N 2 --iterations 200 --fine-tune 0 --batch 128 --sweep 8:8:1 \
  --eval-messages 2000 --grad-stats 50 --grad-draws 4 --out "$dir/g" > /dev/null 2>&1
head -1 "$dir/g/gradients.csv" | grep -qx 'method,iteration,snr_supervised,snr_policy,cosine'
test "$(grep -c '^model-free,' "$dir/g/gradients.csv")" -eq 4
test "$(grep -c '^supervised,' "$dir/g/gradients.csv")" -eq 4
echo "sim cli: ok"

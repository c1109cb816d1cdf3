#!/bin/sh
# The daemons' command line and configuration: --help is true, typos and
# out-of-range values stop them at start naming FILE:LINE and the key
# (exit 78), a missing radio is exit 69, `status` of nothing is exit 69.
set -eu
airlearn=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
expect() {   # expect STATUS PATTERN -- command...
    want=$1; pattern=$2; shift 3
    set +e; out=$("$@" 2>&1); st=$?; set -e
    [ "$st" -eq "$want" ] || { echo "exit $st, wanted $want: $*"; echo "$out"; exit 1; }
    echo "$out" | grep -q -- "$pattern" || { echo "no '$pattern' in: $out"; exit 1; }
}
expect 0 "\[radio\]\|--radio.device" -- "$airlearn" tx --help
expect 0 "--training.sigma2" -- "$airlearn" rx --help
printf '[model]\nM = 16\nNN = 2\n' > "$work/typo.conf"
expect 78 "typo.conf:3" -- "$airlearn" tx --config "$work/typo.conf"
printf '[model]\nM = 1\n' > "$work/range.conf"
expect 78 "range.conf:2" -- "$airlearn" rx --config "$work/range.conf"
printf 'garbage line\n' > "$work/bad.conf"
expect 78 "bad.conf:1" -- "$airlearn" rx --config "$work/bad.conf"
expect 78 "training.sigma2" -- "$airlearn" tx --training.sigma2=2
expect 64 "unknown option" -- "$airlearn" rx --bogus
expect 69 "no radio matches" -- "$airlearn" tx --radio.device=driver=nosuchradio --state.directory="$work/s"
expect 69 "no $work/none/status.json" -- "$airlearn" status --state.directory="$work/none"
# The shipped examples parse (they stop at the radio: none here).
for f in "$src"/daemon/conf/*.conf; do
    role=tx; case $f in *rx.conf) role=rx;; esac
    case $f in *airsim*) continue;; esac
    expect 69 "no radio matches" -- "$airlearn" $role --config "$f" --state.directory="$work/ex"
done
echo "daemon cli: ok"

# Sourced by the shell tests that start daemons: a scratch directory and
# the background processes in $pids, both gone when the test exits, and
# the small helpers those tests share. Set test_name before sourcing.
work=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "$test_name: $*"; exit 1; }
# json FILE KEY: a top-level value of a JSON file
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

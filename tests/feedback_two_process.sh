#!/bin/sh
# The feedback link between two processes: handshake, a refused
# configuration, the RX restarting mid-stream, the TX restarting.
set -u
peer=$1
dir=$(mktemp -d)
ep="ipc://$dir/fb"
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$dir"/*.out; do echo "== $f"; cat "$f"; done; exit 1; }
# The processes' log lines are the synchronisation: each step waits for
# the line saying the state it needs (never for a fixed time).
await_count() {  # FILE PATTERN COUNT: COUNT lines matching, within 5 s
    i=0
    until [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ]; do
        i=$((i + 1))
        [ "$i" -le 50 ] || return 1
        sleep 0.1
    done
}
await_line() { await_count "$1" "$2" 1; }   # FILE PATTERN

# 1. Handshake and 20 acknowledged reports; the RX starts first.
"$peer" rx "$ep" 0x1234 20 20 > "$dir/rx1.out" 2>&1 & rx=$!
await_line "$dir/rx1.out" "connecting" || fail "the first RX did not start"
"$peer" tx "$ep" 0x1234 7 25 > "$dir/tx.out" 2>&1 & tx=$!
pids="$tx"
wait "$rx" || fail "handshake: RX did not get 20 acknowledgements"
grep -q "ready session 7" "$dir/rx1.out" || fail "RX never saw session 7"
grep -q "peer ready" "$dir/tx.out" || fail "TX never saw the peer"

# 2. Another configuration is refused, with a message on both sides.
status=0
"$peer" rx "$ep" 0x9999 5 5 > "$dir/rx2.out" 2>&1 || status=$?
[ "$status" -eq 3 ] || fail "mismatched RX: exit $status, expected 3"
grep -q "rejected: configuration differs" "$dir/rx2.out" || fail "no rejection text at the RX"
await_line "$dir/tx.out" "refused a receiver whose configuration hash" || fail "no refusal logged at the TX"

# 3. The RX is killed mid-stream (5 reports after it joined) and a new
# one takes over.
before=$(grep -c "^losses" "$dir/tx.out")
"$peer" rx "$ep" 0x1234 1000 30 > "$dir/rx3.out" 2>&1 & rx=$!
await_line "$dir/rx3.out" "ready session 7" || fail "the third RX did not join"
await_count "$dir/tx.out" "^losses" $((before + 5)) || fail "the third RX sent no reports"
kill -9 "$rx"
"$peer" rx "$ep" 0x1234 10 10 > "$dir/rx4.out" 2>&1 || fail "RX after an RX restart"

# 4. The TX is killed and restarted with a new session; the RX recovers.
before=$(grep -c "^losses" "$dir/tx.out")
"$peer" rx "$ep" 0x1234 40 30 > "$dir/rx5.out" 2>&1 & rx=$!
await_line "$dir/rx5.out" "ready session 7" || fail "the fifth RX did not join"
await_count "$dir/tx.out" "^losses" $((before + 5)) || fail "the fifth RX sent no reports"
kill -9 "$tx"
await_line "$dir/rx5.out" "session lost" || fail "RX did not notice the TX going"
"$peer" tx "$ep" 0x1234 8 30 > "$dir/tx2.out" 2>&1 & tx=$!
pids="$tx"
wait "$rx" || fail "RX did not recover after a TX restart"
grep -q "ready session 8" "$dir/rx5.out" || fail "RX did not join the new session"
kill "$tx" 2>/dev/null
echo "feedback two-process: ok"

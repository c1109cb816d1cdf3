#!/bin/sh
# Training through SoapySDR's remote-access wrapper: a SoapySDRServer
# (SoapyRemote) on this host makes both airsim devices, and `airlearn
# loopback --tx-remote/--rx-remote` reaches them with driver=remote.
# The server stops at once without a system D-Bus (its avahi client,
# created with AVAHI_CLIENT_NO_FAIL, only fails when D-Bus is absent:
# SoapyMDNSEndpointAvahi.cpp, SoapyServer.cpp), but it needs neither
# avahi-daemon nor root: a private, unprivileged bus given to it as the
# system bus is enough, and nothing leaves 127.0.0.1.
set -eu
airlearn=$1
test_name="remote test"
. "$(dirname "$0")/daemon_test_lib.sh"
below() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }

dbus-daemon --session --address="unix:path=$work/bus" --nofork --nopidfile 2> "$work/dbus.log" &
pids="$pids $!"
i=0
while [ ! -S "$work/bus" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "no D-Bus socket: $(cat "$work/dbus.log")"
    sleep 0.05
done
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/bus" SoapySDRServer --bind=127.0.0.1:0 \
    > "$work/server.log" 2>&1 &
pids="$pids $!"
port=
i=0
while [ -z "$port" ]; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "the server did not start: $(cat "$work/server.log")"
    sleep 0.05
    port=$(sed -n 's/^Server bound to 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/server.log")
done
url="tcp://127.0.0.1:$port"

# Both daemons' radios in the server; the TX over TCP, the RX over UDP
# (SoapyRemote's default). M=16, N=2 at 12 dB as tests/loopback_test.sh.
"$airlearn" loopback --out "$work/lb" --rounds 300 --eval-interval 50 --final-eval-messages 20000 \
    --tx-remote "$url" --rx-remote "$url" --tx-radio-args remote:prot=tcp > "$work/lb.json" ||
    { cat "$work/server.log"; fail "loopback through $url failed"; }
cat "$work/lb.json"
grep -q "^device = driver=remote,remote=$url,remote:driver=airsim,clock=fast," "$work/lb/rx.conf" ||
    fail "the RX device is not reached through the server: $(grep device "$work/lb/rx.conf")"
grep -q "^device = driver=remote,remote=$url,remote:driver=airsim,.*remote:prot=tcp" \
    "$work/lb/tx.conf" || fail "the TX device is not reached through the server"
grep -q "snr_db=" "$work/lb/rx.conf" || fail "the channel's arguments are lost"
ser=$(json "$work/lb.json" ser)
detected=$(json "$work/lb/rx/status.json" frames_detected)
decoded=$(json "$work/lb/rx/status.json" frames_decoded)
echo "through SoapyRemote: SER $ser, frames detected $detected, decoded $decoded"
# These settings without the server: SER 0.20e-3, 1.51e-3, 1.51e-3, 1.95e-3,
# 2.15e-3 (seeds 1-5); the bound is 3.3x their median.
below "$ser" 5e-3 || fail "SER $ser through the server is not below 5e-3"
[ "$decoded" -gt 0 ] || fail "no frame decoded"
[ "$decoded" -eq "$detected" ] || fail "$detected frames detected, $decoded decoded"

# A URL that would add device keys is refused before anything starts.
if "$airlearn" loopback --out "$work/bad" --rx-remote "$url,snr_db=99" > "$work/bad.log" 2>&1; then
    fail "a URL with ',' was accepted"
fi
grep -q "remote URL" "$work/bad.log" || fail "no message for a bad URL: $(cat "$work/bad.log")"

#!/bin/sh
# `meson install` into a temporary DESTDIR: the tree has the binary (it
# runs), the airsim module (SoapySDR loads it from there), units, sysusers,
# udev rules, man pages and examples; the units pass systemd-analyze verify.
set -eu
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet > /dev/null
opt() { meson introspect "$build" --buildoptions |
        python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]==sys.argv[1]][0])' "$1"; }
prefix=$(opt prefix)
sanitize=$(opt b_sanitize)
bin="$dest$prefix/bin/airlearn"
"$bin" --version | grep -q airlearn || { echo "installed airlearn does not run"; exit 1; }
module=$(find "$dest" -name libairsimSupport.so | head -1)
[ -n "$module" ] || { echo "no airsim module installed"; exit 1; }
# SoapySDRUtil (soapysdr-tools) and systemd-analyze (systemd) come from
# scripts/install-deps: missing, they fail this test rather than skip.
# SoapySDRUtil cannot load a sanitized module: plain builds only.
if [ "$sanitize" = none ]; then
    command -v SoapySDRUtil > /dev/null || { echo "no SoapySDRUtil (install soapysdr-tools)"; exit 1; }
    SOAPY_SDR_PLUGIN_PATH=$(dirname "$module") SoapySDRUtil --find="driver=airsim" | grep -q "driver = airsim" ||
        { echo "SoapySDR cannot load the installed module"; exit 1; }
fi
for f in lib/systemd/system/airlearn-tx@.service lib/systemd/system/airlearn-rx@.service \
         lib/sysusers.d/airlearn.conf lib/udev/rules.d/60-airlearn.rules \
         share/man/man1/airlearn.1 share/man/man5/airlearn.conf.5; do
    [ -s "$dest$prefix/$f" ] || { echo "not installed: $prefix/$f"; exit 1; }
done
[ "$(ls "$dest$prefix/share/doc/airlearn/examples/"*.conf | wc -l)" -eq 6 ] || { echo "examples missing"; exit 1; }
grep -q 'ATTR{idVendor}=="1d50", ATTR{idProduct}=="6089"' "$dest$prefix/lib/udev/rules.d/60-airlearn.rules" ||
    { echo "udev rules lack the HackRF One"; exit 1; }
if grep -q 'MODE="06[0-9][2367]"' "$dest$prefix/lib/udev/rules.d/60-airlearn.rules"; then
    echo "udev rules make a device world-writable"; exit 1
fi
command -v systemd-analyze > /dev/null || { echo "no systemd-analyze (install systemd)"; exit 1; }
[ -d /lib/systemd/system ] || { echo "no /lib/systemd/system to verify the units against"; exit 1; }
# verify resolves units and ExecStart= inside --root: give it the
# system's own units next to ours.
mkdir -p "$dest/lib/systemd"
cp -r /lib/systemd/system "$dest/lib/systemd/"
for role in tx rx; do
    if ! out=$(systemd-analyze verify --root="$dest" --man=no "airlearn-$role@lab.service" 2>&1); then
        echo "systemd-analyze verify airlearn-$role@lab.service failed:"; echo "$out"; exit 1
    fi
    # The sandboxing of the units, as systemd rates it (1.9 "OK" for both
    # when written): a unit that loses it rates MEDIUM or worse and fails.
    out=$(systemd-analyze security --offline=true --root="$dest" "airlearn-$role@lab.service" 2>&1) ||
        { echo "systemd-analyze security airlearn-$role@lab.service failed:"; echo "$out"; exit 1; }
    level=$(echo "$out" | grep "Overall exposure level") || { echo "no exposure level: $out"; exit 1; }
    echo "$level"
    echo "$level" | grep -Eq ': [0-9.]+ (SAFE|OK)' || { echo "airlearn-$role@lab.service is exposed"; exit 1; }
done
echo "install: ok"

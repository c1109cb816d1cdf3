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
if [ "$sanitize" = none ] && command -v SoapySDRUtil > /dev/null; then
    SOAPY_SDR_PLUGIN_PATH=$(dirname "$module") SoapySDRUtil --find="driver=airsim" | grep -q "driver = airsim" ||
        { echo "SoapySDR cannot load the installed module"; exit 1; }
fi
for f in lib/systemd/system/airlearn-tx@.service lib/systemd/system/airlearn-rx@.service \
         lib/sysusers.d/airlearn.conf lib/udev/rules.d/60-airlearn.rules \
         share/man/man1/airlearn.1 share/man/man5/airlearn.conf.5; do
    [ -s "$dest$prefix/$f" ] || { echo "not installed: $prefix/$f"; exit 1; }
done
[ "$(ls "$dest$prefix/share/doc/airlearn/examples/"*.conf | wc -l)" -eq 6 ] || { echo "examples missing"; exit 1; }
grep -q 'ATTR{idVendor}=="1d50", ATTR{idProduct}=="6089"' "$dest$prefix/lib/udev/rules.d/60-airlearn.rules"
if grep -q 'MODE="06[0-9][2367]"' "$dest$prefix/lib/udev/rules.d/60-airlearn.rules"; then
    echo "udev rules make a device world-writable"; exit 1
fi
if command -v systemd-analyze > /dev/null && [ -d /lib/systemd/system ]; then
    # verify resolves units and ExecStart= inside --root: give it the
    # system's own units next to ours.
    mkdir -p "$dest/lib/systemd"
    cp -r /lib/systemd/system "$dest/lib/systemd/"
    for role in tx rx; do
        if ! out=$(systemd-analyze verify --root="$dest" --man=no "airlearn-$role@lab.service" 2>&1); then
            echo "systemd-analyze verify airlearn-$role@lab.service failed:"; echo "$out"; exit 1
        fi
        systemd-analyze security --offline=true --root="$dest" "airlearn-$role@lab.service" 2>/dev/null |
            grep "Overall exposure" || true
    done
else
    echo "systemd-analyze not available: unit verification skipped"
fi
echo "install: ok"

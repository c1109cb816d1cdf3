#!/bin/sh
# SoapySDR's own tool finds and probes driver=airsim from the build tree
# (SOAPY_SDR_PLUGIN_PATH set by the test), and lists what a user needs.
set -eu
out=$(SoapySDRUtil --find="driver=airsim")
echo "$out" | grep -q "driver = airsim" || { echo "find: no airsim"; echo "$out"; exit 1; }
out=$(SoapySDRUtil --probe="driver=airsim,link=ipc://@airlearn-probe-$$")
for want in "Stream formats: CF32, CS16" "Timestamps: YES" "Sample rates:" "PATH gain range" \
            "key=snr_db" "key=cfo" "key=delay" "key=phase" "key=gain_db" "key=multipath" \
            "key=fading" "key=doppler" "key=seed" "key=clock" "key=link" "key=noise_dbfs"; do
    echo "$out" | grep -q -- "$want" || { echo "probe lacks: $want"; echo "$out"; exit 1; }
done
# The profiles show what their drivers show (SoapyHackRF 0.3.x, SoapyUHD).
# Each wanted line is matched whole in the section it belongs to.
probe_has() {   # args, then lines that must all appear
    args=$1; shift
    out=$(SoapySDRUtil --probe="$args") || { echo "probe $args failed"; exit 1; }
    for want in "$@"; do
        echo "$out" | grep -qxF -- "$want" || { echo "probe $args lacks: $want"; echo "$out"; exit 1; }
    done
}
probe_has "driver=airsim,profile=hackrf,link=ipc://@airlearn-probe-h$$" \
    "  Channels: 1 Rx, 1 Tx" "  Timestamps: NO" "  Full-duplex: NO" \
    "  Stream formats: CS8, CS16, CF32" "  Native format: CS8 [full-scale=128]" \
    "       [key=buffers, units=buffers, default=15, type=int]" \
    "  Full gain range: [0, 116] dB" "    LNA gain range: [0, 40, 8] dB" \
    "    AMP gain range: [0, 14, 14] dB" "    VGA gain range: [0, 62, 2] dB" \
    "  Full gain range: [0, 61] dB" "    VGA gain range: [0, 47, 1] dB" \
    "  Sample rates: 2, 3, 4, 5, 6, ..., 16, 17, 18, 19, 20 MSps" \
    "  Antennas: TX/RX"
probe_has "driver=airsim,profile=b2x0,link=ipc://@airlearn-probe-b$$" \
    "  Channels: 1 Rx, 1 Tx" "  Timestamps: YES" "  Full-duplex: YES" \
    "  Stream formats: CS8, CS16, CF32" "  Native format: CS16 [full-scale=32768]" \
    "    PGA gain range: [0, 76, 1] dB" "    PGA gain range: [0, 89.75, 0.25] dB" \
    "  Sample rates: [0.2, 61.44] MSps" "  Antennas: TX/RX, RX2"
# A typo in a device argument is an error naming it, not a silent default.
if SoapySDRUtil --probe="driver=airsim,snrdb=3" > /dev/null 2>&1; then
    echo "probe accepted an unknown argument"; exit 1
fi
SoapySDRUtil --probe="driver=airsim,snrdb=3" 2>&1 | grep -q "snrdb" || { echo "error does not name the argument"; exit 1; }
# A key of a wrapper (SoapyRemote) is not airsim's: accepted.
SoapySDRUtil --probe="driver=airsim,remote:timeout=100000,link=ipc://@airlearn-probe-r$$" > /dev/null ||
    { echo "probe refused a wrapper's key"; exit 1; }
echo "airsim probe: ok"

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
# A typo in a device argument is an error naming it, not a silent default.
if SoapySDRUtil --probe="driver=airsim,snrdb=3" > /dev/null 2>&1; then
    echo "probe accepted an unknown argument"; exit 1
fi
SoapySDRUtil --probe="driver=airsim,snrdb=3" 2>&1 | grep -q "snrdb" || { echo "error does not name the argument"; exit 1; }
echo "airsim probe: ok"

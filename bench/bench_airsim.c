/* `airlearn bench airsim`: the simulated radio between two processes.
 *
 * A child process writes back-to-back bursts through a TX airsim device;
 * this process reads them through an RX device on the same link and
 * counts samples per second:
 *   airsim_fast      clock=fast, CF32 and CS16, no impairments, AWGN only,
 *                    the RF front end alone (oscillators 20 ppm apart, so
 *                    the RX resamples every burst; DC, IQ imbalance, phase
 *                    noise), and every impairment at once (the channel's
 *                    cost); profile=hackrf at both ends (TX buffers of
 *                    131072, 8-bit conversions, the receiver's thermal
 *                    noise, the profile's RF front end), in CS8 and CF32,
 *                    with its defaults and with every channel impairment;
 *   airsim_realtime  clock=realtime at 1 and 10 Msps: samples delivered
 *                    per second of wall time against the configured rate.
 * The module must be loadable: installed, or SOAPY_SDR_PLUGIN_PATH
 * pointing at the build tree's common/airsim. */
#include "bench.h"

#include "al_error.h"
#include "al_log.h"
#include "al_radio.h"

#include <SoapySDR/Device.h>
#include <SoapySDR/Errors.h>
#include <SoapySDR/Formats.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { BLOCK = 16384 };

/* Child: write until killed. */
static pid_t s_spawn_writer(const char *args, double rate)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    al_radio_config c = {args, AL_RADIO_TX, rate, 915e6, NAN, 0, NULL, NULL};
    al_radio_t *tx = al_radio_create(&c);
    if (tx == NULL)
        _exit(1);
    float complex *x = malloc(BLOCK * sizeof *x);
    for (int i = 0; i < BLOCK; i++)
        x[i] = 0.5f * cexpf(I * 0.01f * (float)i);
    for (;;)
        al_radio_write(tx, x, BLOCK, 0, 0, 0, 100000);
}

static void s_stop(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Samples per second read from an RX device on args, with a writer on
 * tx_args (the same link), over `seconds` after a short warm-up. */
static int s_measure(const char *args, const char *tx_args, const char *format, double rate,
                     double seconds, double *sps)
{
    pid_t child = s_spawn_writer(tx_args, rate);
    SoapySDRDevice *dev = SoapySDRDevice_makeStrArgs(args);
    if (dev == NULL) {
        s_stop(child);
        return AL_FAIL(AL_EDEVICE, "cannot open '%s': %s (is SOAPY_SDR_PLUGIN_PATH set?)", args,
                       SoapySDRDevice_lastError());
    }
    size_t ch = 0;
    SoapySDRDevice_setSampleRate(dev, SOAPY_SDR_RX, 0, rate);
    SoapySDRStream *st = SoapySDRDevice_setupStream(dev, SOAPY_SDR_RX, format, &ch, 1, NULL);
    if (st == NULL) {
        SoapySDRDevice_unmake(dev);
        s_stop(child);
        return AL_FAIL(AL_EDEVICE, "cannot stream from '%s': %s", args, SoapySDRDevice_lastError());
    }
    SoapySDRDevice_activateStream(dev, st, 0, 0, 0);
    void *buf = malloc(BLOCK * 8);
    void *buffs[1] = {buf};
    /* The warm-up starts with the first sample: the writer is a process
     * that has to start and load the module first, which on a loaded
     * machine can take longer than a short measurement (0.00 Msps). */
    double warm = seconds < 1.0 ? 0.1 : 0.3;
    double t_start = 0.0, t0 = al_now_s(), t_first = 0.0;
    uint64_t count = 0;
    int rc = 0, measuring = 0;
    for (;;) {
        double now = al_now_s();
        if (!measuring && count > 0 && now - t_first >= warm) {
            measuring = 1;
            t_start = now;
            count = 0;
        }
        if (measuring && now - t_start >= seconds)
            break;
        if (now - t0 > warm + seconds + 30.0) {
            rc = AL_FAIL(AL_ETIMEOUT, "airsim link %s delivered nothing", args);
            break;
        }
        int flags = 0;
        long long t_ns = 0;
        int n = SoapySDRDevice_readStream(dev, st, buffs, BLOCK, &flags, &t_ns, 100000);
        if (n > 0) {
            if (count == 0 && !measuring)
                t_first = al_now_s();
            count += (uint64_t)n;
        }
    }
    *sps = (double)count / (al_now_s() - t_start);
    free(buf);
    SoapySDRDevice_deactivateStream(dev, st, 0, 0);
    SoapySDRDevice_closeStream(dev, st);
    SoapySDRDevice_unmake(dev);
    s_stop(child);
    return rc;
}

int bench_airsim(const bench_opts *opts, FILE *out)
{
#define ALL_CHANNEL ",snr_db=10,cfo=1000,phase=0.3,delay=2.5,gain_db=-3,multipath=1;0.2+0.1j," \
                    "fading=rayleigh,doppler=10"
#define RX_RF ",ppm=-10,dc_dbc=-30,iq_gain_db=0.5,iq_phase_deg=3,phase_noise=1"
    /* extra: the RX device's arguments; tx_extra: the TX device's. The
     * hackrf profile's defaults include its RF front end (a pair 20 ppm
     * apart, DC, IQ imbalance, phase noise). */
    static const struct {
        const char *label, *extra, *tx_extra, *format, *profile;
    } fast[] = {
        {"none", "", "", SOAPY_SDR_CF32, NULL},
        {"none", "", "", SOAPY_SDR_CS16, NULL},
        {"awgn", ",snr_db=10", "", SOAPY_SDR_CF32, NULL},
        {"rf", RX_RF, ",ppm=10", SOAPY_SDR_CF32, NULL},
        {"all", ALL_CHANNEL RX_RF, ",ppm=10", SOAPY_SDR_CF32, NULL},
        {"defaults", ",profile=hackrf", ",profile=hackrf", SOAPY_SDR_CS8, "hackrf"},
        {"defaults", ",profile=hackrf", ",profile=hackrf", SOAPY_SDR_CF32, "hackrf"},
        {"all", ",profile=hackrf" ALL_CHANNEL, ",profile=hackrf", SOAPY_SDR_CS8, "hackrf"},
    };
    char args[512], tx_args[512];
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++) {
        if (opts->quick && i > 0)
            break;
        snprintf(args, sizeof args, "driver=airsim,clock=fast,link=ipc://@airlearn-bench-%ld%s",
                 (long)getpid(), fast[i].extra);
        snprintf(tx_args, sizeof tx_args,
                 "driver=airsim,clock=fast,link=ipc://@airlearn-bench-%ld%s", (long)getpid(),
                 fast[i].tx_extra);
        double sps = 0;
        int rc = s_measure(args, tx_args, fast[i].format, 10e6, opts->seconds, &sps);
        if (rc != 0)
            return rc;
        if (fast[i].profile)
            fprintf(out, "{\"bench\":\"airsim_fast\",\"profile\":\"%s\",\"format\":\"%s\","
                         "\"impairments\":\"%s\",\"msps\":%.2f}\n",
                    fast[i].profile, fast[i].format, fast[i].label, sps / 1e6);
        else
            fprintf(out, "{\"bench\":\"airsim_fast\",\"format\":\"%s\",\"impairments\":\"%s\","
                         "\"msps\":%.2f}\n", fast[i].format, fast[i].label, sps / 1e6);
        fflush(out);
    }
    static const double rates[] = {1e6, 10e6};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        if (opts->quick && i > 0)
            break;
        snprintf(args, sizeof args, "driver=airsim,clock=realtime,link=ipc://@airlearn-bench-%ld",
                 (long)getpid());
        double sps = 0;
        double seconds = opts->seconds < 1.0 && !opts->quick ? 1.0 : opts->seconds;
        int rc = s_measure(args, args, SOAPY_SDR_CF32, rates[i], seconds, &sps);
        if (rc != 0)
            return rc;
        fprintf(out, "{\"bench\":\"airsim_realtime\",\"rate_msps\":%.3f,\"measured_msps\":%.4f,"
                     "\"ratio\":%.5f,\"seconds\":%.2f}\n",
                rates[i] / 1e6, sps / 1e6, sps / rates[i], seconds);
        fflush(out);
    }
    return 0;
}

#include "daemon_config.h"

#include "al_error.h"
#include "al_frame.h"
#include "al_log.h"
#include "al_threads.h"
#include "daemon_util.h"
#include "fb_proto.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F(field) offsetof(daemon_config, field)
#define STR(field) F(field), sizeof(((daemon_config *)0)->field)

/* OPT_ENUM stores an int. */
_Static_assert(sizeof(rx_kind) == sizeof(int) && sizeof(tx_baseline) == sizeof(int),
               "enum settings are int-sized");
static const char *const s_tx_streams[] = {"auto", "burst", "continuous", NULL};

const opt_desc daemon_table[] = {
    {"radio", "device", OPT_STRING, STR(device), 0, 0, NULL, "driver=airsim",
     "SoapySDR device string (driver=hackrf, driver=uhd,type=b200, driver=airsim,...)"},
    {"radio", "rate", OPT_DOUBLE, F(rate), 0, 1e3, 100e6, NULL, "1e6", "sample rate, samples/s"},
    {"radio", "frequency", OPT_DOUBLE, F(frequency), 0, 0, 7e9, NULL, "915e6",
     "centre frequency, Hz (0: leave the device's)"},
    {"radio", "gain", OPT_DOUBLE, F(gain), 0, -100, 100, NULL, "0",
     "overall gain, dB (the driver distributes it)"},
    {"radio", "gains", OPT_STRING, STR(gains), 0, 0, NULL, "",
     "per-element gains after the overall one, e.g. LNA=32;VGA=20;AMP=0"},
    {"radio", "bandwidth", OPT_DOUBLE, F(bandwidth), 0, 0, 100e6, NULL, "0",
     "analog filter bandwidth, Hz (0: leave the device's)"},
    {"radio", "antenna", OPT_STRING, STR(antenna), 0, 0, NULL, "",
     "antenna name (empty: the device's default)"},
    {"radio", "stream_args", OPT_STRING, STR(stream_args), 0, 0, NULL, "",
     "SoapySDR stream arguments, e.g. buffers=4 (HackRF: TX buffers queued in the driver)"},
    {"radio", "tx_stream", OPT_ENUM, F(tx_stream), 0, 0, 0, s_tx_streams, "auto",
     "TX: burst (one burst per frame), continuous (frames packed into full MTU buffers, "
     "flushed before every wait), auto (continuous on devices without hardware time)"},
    {"radio", "stall_timeout_s", OPT_DOUBLE, F(stall_timeout_s), 0, 0, 3600, NULL, "5",
     "no samples received (RX) or writes accepted (TX) for this long: reopen the radio "
     "(0: never)"},
    {"radio", "reopen_timeout_s", OPT_DOUBLE, F(reopen_timeout_s), 0, 1, 86400, NULL, "30",
     "reopening failing for this long: exit with status 69 for systemd to restart us"},
    {"radio", "if_offset", OPT_DOUBLE, F(if_offset), 0, -50e6, 50e6, NULL, "0",
     "offset tuning, Hz: the LO is tuned this far below frequency and the frames shifted up "
     "digitally, so that the LO leakage (HackRF has no DC correction) lies outside their band; "
     "both ends the same"},
    {"radio", "rx_queue_s", OPT_DOUBLE, F(rx_queue_s), 0, 0.01, 60, NULL, "0.5",
     "RX: samples queued between the radio thread and the receiver, seconds"},
    {"phy", "sps", OPT_UINT, F(sps), 0, 2, 16, NULL, "2", "samples per symbol"},
    {"phy", "rolloff", OPT_DOUBLE, F(rolloff), 0, 0.05, 1, NULL, "0.35", "RRC excess bandwidth"},
    {"phy", "messages", OPT_UINT, F(messages), 0, 1, 4096, NULL, "64", "messages per frame (P)"},
    {"phy", "level_dbfs", OPT_DOUBLE, F(level_dbfs), 0, -60, 0, NULL, "-12",
     "TX: RMS level of frames, dBFS (headroom for the peaks)"},
    {"phy", "guard", OPT_UINT, F(guard), 0, 512, 1000000, NULL, "512",
     "TX: zero samples after every frame (>= the detector window)"},
    {"phy", "threshold", OPT_DOUBLE, F(threshold), 0, 0.05, 0.95, NULL, "0.5",
     "RX: preamble detector threshold (normalised correlation, 0..1)"},
    {"model", "M", OPT_UINT, F(M), 0, 2, 65536, NULL, "16", "messages (k = log2 M bits)"},
    {"model", "N", OPT_UINT, F(N), 0, 1, 64, NULL, "2", "complex channel uses per message"},
    {"model", "receiver", OPT_ENUM, F(receiver), 0, 0, 0, rx_kind_names, "awgn",
     "RX network: awgn (phase-corrected symbols) or fading (with the h estimator)"},
    {"model", "tx_hidden", OPT_UINT, F(tx_hidden), 0, 0, 65536, NULL, "0",
     "TX embedding width (0: M)"},
    {"model", "rx_hidden", OPT_UINT, F(rx_hidden), 0, 0, 65536, NULL, "0",
     "RX hidden width (0: M)"},
    {"model", "seed", OPT_U64, F(seed), 0, 0, 9007199254740992.0, NULL, "1",
     "initial weights and the TX's perturbations"},
    {"training", "sigma2", OPT_DOUBLE, F(sigma2), 0, 1e-6, 0.5, NULL, "0.02",
     "TX: policy perturbation variance"},
    {"training", "baseline", OPT_ENUM, F(baseline), 0, 0, 0, tx_baseline_names, "mean",
     "TX: policy-gradient baseline"},
    {"training", "lr_tx", OPT_DOUBLE, F(lr_tx), 0, 1e-6, 1, NULL, "0.005", "TX Adam learning rate"},
    {"training", "lr_rx", OPT_DOUBLE, F(lr_rx), 0, 1e-6, 1, NULL, "0.005", "RX Adam learning rate"},
    {"training", "lr_decay", OPT_DOUBLE, F(lr_decay), 0, 1e-4, 1, NULL, "1",
     "learning rates decay exponentially to lr x lr_decay over `rounds` (1: constant)"},
    {"training", "rx_frames", OPT_UINT, F(rx_frames), 0, 0, 1000, NULL, "2",
     "TX: RX_TRAIN frames per round"},
    {"training", "rx_steps", OPT_UINT, F(rx_steps), 0, 1, 100, NULL, "1",
     "RX: supervised steps per RX_TRAIN frame"},
    {"training", "tx_frames", OPT_UINT, F(tx_frames), 0, 1, 1000, NULL, "2",
     "TX: TX_TRAIN frames per round; their losses make one policy-gradient batch"},
    {"training", "rounds", OPT_UINT, F(rounds), 0, 0, 100000000, NULL, "2000",
     "TX: stop training after this many rounds (0: no limit)"},
    {"training", "max_seconds", OPT_DOUBLE, F(max_seconds), 0, 0, 1e9, NULL, "0",
     "TX: stop training after this many seconds (0: no limit)"},
    {"training", "target_ser", OPT_DOUBLE, F(target_ser), 0, 0, 1, NULL, "0",
     "TX: stop training when an evaluation reaches this SER (0: never)"},
    {"training", "eval_interval", OPT_UINT, F(eval_interval), 0, 1, 1000000, NULL, "50",
     "TX: rounds between evaluations"},
    {"training", "eval_frames", OPT_UINT, F(eval_frames), 0, 1, 100000, NULL, "8",
     "TX: an evaluation measures this many frames' worth (x messages) of learned messages; with "
     "the same-rate QAM in every other slot that takes twice the EVAL frames"},
    {"training", "loss_timeout_ms", OPT_UINT, F(loss_timeout_ms), 0, 10, 600000, NULL, "2000",
     "TX: a TX_TRAIN frame's losses are given up after this, or after twice the longest "
     "measured frame round trip if that is longer (a floor)"},
    {"training", "max_staleness", OPT_UINT, F(max_staleness), 0, 0, 1000, NULL, "0",
     "TX: accept losses of frames up to this many model updates old"},
    {"training", "final_eval_messages", OPT_UINT, F(final_eval_messages), 0, 1, 1000000000, NULL,
     "100000", "TX: messages of the evaluation after training"},
    {"training", "exit_when_done", OPT_BOOL, F(exit_when_done), 0, 0, 1, NULL, "false",
     "TX: exit after the final evaluation (otherwise keep evaluating)"},
    {"training", "sweep", OPT_BOOL, F(sweep), 0, 0, 1, NULL, "false",
     "TX: after training, step level_dbfs over [sweep] and write ser-ota.csv (the SER against "
     "the SNR measured at the receiver) and ser-ota.svg"},
    {"sweep", "from_dbfs", OPT_DOUBLE, F(sweep_from_dbfs), 0, -60, 0, NULL, "-8",
     "TX: first level of the sweep, dBFS"},
    {"sweep", "to_dbfs", OPT_DOUBLE, F(sweep_to_dbfs), 0, -60, 0, NULL, "-20",
     "TX: last level of the sweep, dBFS (above or below from_dbfs)"},
    {"sweep", "step_db", OPT_DOUBLE, F(sweep_step_db), 0, 0.1, 60, NULL, "2",
     "TX: level step of the sweep, dB"},
    {"sweep", "max_messages", OPT_UINT, F(sweep_max_messages), 0, 1, 1000000000, NULL, "200000",
     "TX: messages evaluated at a level at most"},
    {"sweep", "min_errors", OPT_UINT, F(sweep_min_errors), 0, 1, 1000000000, NULL, "200",
     "TX: a level is done once the learned system and the baseline have this many errors each "
     "(or at max_messages)"},
    {"feedback", "endpoint", OPT_STRING, STR(endpoint), 0, 0, NULL, "tcp://127.0.0.1:5780",
     "TX binds, RX connects: tcp://HOST:PORT or ipc://PATH"},
    {"feedback", "heartbeat_ms", OPT_UINT, F(heartbeat_ms), 0, 10, 60000, NULL, "500",
     "heartbeat interval"},
    {"feedback", "peer_timeout_ms", OPT_UINT, F(peer_timeout_ms), 0, 20, 600000, NULL, "3000",
     "peer declared lost after this silence"},
    {"feedback", "curve_secret", OPT_STRING, STR(curve_secret), 0, 0, NULL, "",
     "CURVE: this side's .key file (empty: no encryption)"},
    {"feedback", "curve_allow_dir", OPT_STRING, STR(curve_allow_dir), 0, 0, NULL, "",
     "CURVE, TX: directory of allowed RX .pub files"},
    {"feedback", "curve_server_public", OPT_STRING, STR(curve_server_public), 0, 0, NULL, "",
     "CURVE, RX: the TX's .pub file"},
    {"feedback", "fault_drop", OPT_DOUBLE, F(fault_drop), 0, 0, 1, NULL, "0",
     "fault injection: probability that a message this end sends is lost"},
    {"feedback", "fault_corrupt", OPT_DOUBLE, F(fault_corrupt), 0, 0, 1, NULL, "0",
     "fault injection: probability that it has a bit flipped"},
    {"state", "directory", OPT_STRING, STR(state_dir), 0, 0, NULL, "state",
     "checkpoints, status, constellation, metrics"},
    {"state", "checkpoint_interval", OPT_DOUBLE, F(checkpoint_interval), 0, 1, 86400, NULL, "30",
     "seconds between checkpoints (also written on SIGTERM/SIGINT)"},
    {"xfer", "send", OPT_STRING, STR(send), 0, 0, NULL, "",
     "TX: after training and the final evaluation, send this file over the learned link, "
     "then exit (0: the receiver has it, checked)"},
    {"xfer", "receive", OPT_STRING, STR(receive), 0, 0, NULL, "",
     "RX: write files sent over the learned link into this directory (\"\": refuse them)"},
    {"xfer", "window", OPT_UINT, F(xfer_window), 0, 1, FB_XFER_WINDOW, NULL, "64",
     "TX: segments (DATA frames) sent ahead of the first unacknowledged one"},
    {"xfer", "rto_ms", OPT_UINT, F(xfer_rto_ms), 0, 1, 600000, NULL, "200",
     "TX: a segment is sent again when unacknowledged this long, or twice the longest "
     "measured round trip if that is longer"},
    {"xfer", "max_sends", OPT_UINT, F(xfer_max_sends), 0, 1, 10000, NULL, "30",
     "TX: the transfer fails when a segment has been sent this often unacknowledged"},
    {"xfer", "idle_s", OPT_DOUBLE, F(xfer_idle_s), 0, 0.1, 86400, NULL, "30",
     "TX: the transfer fails when no segment is acknowledged for this long"},
    {"log", "level", OPT_STRING, STR(log_level), 0, 0, NULL, "info", "error, warn, info, debug"},
    {"threads", "blas", OPT_UINT, F(blas_threads), 0, 1, 64, NULL, "1", "OpenBLAS threads"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

int daemon_config_load(daemon_config *c, const char *role, int argc, char **argv,
                       int *help_shown, opt_origin *origin)
{
    *help_shown = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: airlearn %s [--config FILE] [--section.key=VALUE ...]\n\n"
                   "Settings (INI sections and keys; the command line overrides the file):\n",
                   role);
            opt_print_help(daemon_table, stdout, 1);
            *help_shown = 1;
            return AL_OK;
        }
    }
    memset(c, 0, sizeof *c);
    int rc = opt_load(daemon_table, c, NULL, argc, argv, origin);
    if (rc < 0)
        return rc;
    /* Each setting passed; settings that do not fit together are the
     * configuration's fault wherever each one came from. */
    *origin = OPT_FROM_FILE;
    if ((size_t)c->messages * c->N > AL_FRAME_MAX_PAYLOAD)
        return al_error_set(AL_EINVAL, NULL, "[phy] messages x [model] N = %u exceeds %d symbols",
                            c->messages * c->N, AL_FRAME_MAX_PAYLOAD);
    if (c->messages > FB_MAX_LOSSES)
        return al_error_set(AL_EINVAL, NULL, "[phy] messages %u exceeds the %d losses of one report",
                            c->messages, FB_MAX_LOSSES);
    return AL_OK;
}

int daemon_config_write(const char *path, const daemon_config *c)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return AL_FAIL(AL_EIO, "cannot write %s: %s", path, strerror(errno));
    opt_write_ini(daemon_table, c, f);
    return fclose(f) == 0 ? AL_OK : AL_FAIL(AL_EIO, "cannot write %s", path);
}

uint64_t daemon_config_hash(const daemon_config *c)
{
    char text[256];
    snprintf(text, sizeof text, "frame=%d M=%u N=%u P=%u sps=%u rolloff=%.4f", AL_FRAME_VERSION,
             c->M, c->N, c->messages, c->sps, c->rolloff);
    return fb_config_hash(text);
}

al_radio_t *daemon_radio_open(const daemon_config *c, int direction)
{
    /* Offset tuning: the LO sits if_offset below the frames' carrier. */
    al_radio_config rc = {c->device, direction, c->rate,
                          c->frequency > 0 ? c->frequency - c->if_offset : 0, c->gain, c->bandwidth,
                          c->antenna, c->stream_args};
    al_radio_t *r = al_radio_create(&rc);
    /* SoapySDR's words when no module took the arguments; when the module
     * refused them, its own message says why. */
    if (r == NULL && strstr(c->device, "driver=airsim") != NULL &&
        strstr(al_error_message(), "make() no match") != NULL) {
        char why[512];
        snprintf(why, sizeof why, "%s", al_error_message());
        AL_FAIL(AL_EDEVICE, "%s (is the airsim module installed, or SOAPY_SDR_PLUGIN_PATH set "
                            "to the build tree's common/airsim?)", why);
    }
    if (r == NULL || c->gains[0] == '\0')
        return r;
    char buf[sizeof c->gains];
    memcpy(buf, c->gains, sizeof buf);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";, ", &save); tok; tok = strtok_r(NULL, ";, ", &save)) {
        char *eq = strchr(tok, '=');
        char *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : NAN;
        if (eq == NULL || end == eq + 1 || *end != '\0' || !isfinite(v)) {
            AL_FAIL(AL_EINVAL, "[radio] gains: '%s' is not NAME=dB", tok);
            al_radio_destroy(&r);
            return NULL;
        }
        *eq = '\0';
        if (al_radio_set_gain_element(r, tok, v) != 0) {
            al_radio_destroy(&r);
            return NULL;
        }
    }
    return r;
}

int daemon_fail_if_offset(const daemon_config *c)
{
    char why[256];
    snprintf(why, sizeof why, "%s", al_error_message());
    return AL_FAIL(AL_EINVAL, "[radio] if_offset %g Hz at %g samples/s: %s", c->if_offset, c->rate,
                   why);
}

al_radio_t *daemon_radio_reopen(const daemon_config *c, int direction, uint64_t outage_start_ms,
                                void (*wait)(void *user), void *user, int *gone)
{
    *gone = 0;
    uint64_t last_log = 0;
    while (!daemon_stop_requested()) {
        al_radio_t *r = daemon_radio_open(c, direction);
        double away = (double)(al_now_ms() - outage_start_ms) / 1e3;
        if (r != NULL) {
            al_info("radio: reopened after %.1f s away", away);
            return r;
        }
        if (away >= c->reopen_timeout_s) {
            al_error("radio: '%s' away for %.0f s (%s); exiting so that it is restarted",
                     c->device, away, al_error_message());
            *gone = 1;
            return NULL;
        }
        al_log_ratelimited(AL_LOG_INFO, &last_log, 10000, "radio: cannot reopen yet: %s",
                           al_error_message());
        wait(user);
    }
    return NULL;
}

fb_session_config daemon_fb_config(const daemon_config *c, int server, uint32_t session_id,
                                   uint64_t session_seed)
{
    fb_session_config f = {
        .endpoint = c->endpoint,
        .config_hash = daemon_config_hash(c),
        .heartbeat_ms = c->heartbeat_ms,
        .peer_timeout_ms = c->peer_timeout_ms,
        .session_id = session_id,
        .session_seed = session_seed,
        .curve_secret_file = c->curve_secret[0] ? c->curve_secret : NULL,
        .fault_drop = c->fault_drop,
        .fault_corrupt = c->fault_corrupt,
        /* Different fault draws on the two ends of one link. */
        .fault_seed = c->seed ^ (server ? 0x7au : 0x7bu),
    };
    if (server)
        f.curve_allow_dir = c->curve_allow_dir[0] ? c->curve_allow_dir : NULL;
    else
        f.curve_server_public_file = c->curve_server_public[0] ? c->curve_server_public : NULL;
    return f;
}

int daemon_apply_common(const daemon_config *c, const char *role)
{
    al_log_level level;
    if (al_log_parse_level(c->log_level, &level) != 0) {
        char why[256];
        snprintf(why, sizeof why, "%s", al_error_message());
        return al_error_set(AL_EINVAL, NULL, "[log] level: %s", why);
    }
    al_log_set_level(level);
    al_log_set_tag(role);
    al_threads_set(c->blas_threads);
    const char *forced = getenv("OPENBLAS_CORETYPE");
    al_log(AL_LOG_INFO, "OpenBLAS: %s kernels%s%s, %d thread(s)", al_threads_blas_core(),
           forced != NULL ? ", OPENBLAS_CORETYPE=" : "", forced != NULL ? forced : "",
           al_threads_get());
    return AL_OK;
}

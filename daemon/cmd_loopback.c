/* `airlearn loopback`: the demo. Starts `airlearn rx` and `airlearn tx`
 * as two child processes, each with its own configuration file written
 * into the output directory, joined by a driver=airsim radio link (fast
 * clock by default: as fast as the two processes go) and the ZeroMQ
 * feedback link,
 * exactly as two hosts with radios would be. Shows progress, stops both
 * when the transmitter has finished its final evaluation, and prints one
 * JSON summary line. Each daemon logs to its own file in the output
 * directory (tx.log, rx.log): their lines would interleave on one terminal,
 * and the receiver's view of the end (the transmitter gone from the link)
 * is a warning in a daemon's terms but the normal end of a demo. A daemon
 * that fails has the end of its log shown.
 *
 * --profile makes both airsim devices imitate a real radio (hackrf, b2x0)
 * through the SoapySDR API; --tx-device and --rx-device replace them with
 * any device strings, e.g. two real radios on this host; --tx-remote and
 * --rx-remote reach airsim's devices through a SoapySDRServer. */
#include "commands.h"

#include "airsim_config.h"
#include "al_error.h"
#include "al_log.h"
#include "al_options.h"
#include "daemon_config.h"
#include "daemon_util.h"
#include "plot.h"
#include "remote_device.h"
#include "state_json.h"
#include "sweep.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

/* The link's default rate for each airsim profile (--rate 0). */
static const double s_profile_rate[] = {
    [AIRSIM_PROFILE_IDEAL] = 1e6,
    [AIRSIM_PROFILE_HACKRF] = 8e6,
    [AIRSIM_PROFILE_B2X0] = 1e6,
};

typedef struct {
    /* What both daemons are given: daemon_table's defaults, then the
     * settings of s_daemon_settings. */
    daemon_config d;
    double snr_db, cfo, delay, rate;
    double sweep_above, sweep_below;
    char tx_radio[128], rx_radio[128];
    char tx_device[256], rx_device[256], tx_gains[128], rx_gains[128];
    char tx_remote[128], rx_remote[128];
    int fading;           /* airsim_fading */
    int clock;            /* airsim_clock */
    int profile;          /* airsim_profile */
    char out[200];
} loop_opts;

#define L "loopback"
#define F(field) offsetof(loop_opts, field)
#define STR(field) F(field), sizeof(((loop_opts *)0)->field)

/* The loopback's own settings: the simulated link, the radios, the run. */
static const opt_desc s_own[] = {
    {L, "snr-db", OPT_DOUBLE, F(snr_db), 0, -10, 60, NULL, "12", "Es/N0 of the simulated link, dB"},
    {L, "cfo", OPT_DOUBLE, F(cfo), 0, -1e5, 1e5, NULL, "1000", "carrier frequency offset, Hz"},
    {L, "delay", OPT_DOUBLE, F(delay), 0, 0, 1e5, NULL, "3.37", "link delay, samples (fractional)"},
    {L, "fading", OPT_ENUM, F(fading), 0, 0, 0, airsim_fading_names, "none",
     "rayleigh-block: h~CN(0,1) per frame; rayleigh: time-varying at the doppler given in "
     "--rx-radio-args doppler=HZ; either with the fading receiver"},
    {L, "rate", OPT_DOUBLE, F(rate), 0, 0, 100e6, NULL, "0",
     "sample rate of the link (0: 1e6; 8e6 with --profile hackrf, whose documentation "
     "recommends 8-20 Msps)"},
    {L, "sweep-above", OPT_DOUBLE, F(sweep_above), 0, 0, 60, NULL, "4",
     "the sweep starts this many dB above the TX level of --snr-db"},
    {L, "sweep-below", OPT_DOUBLE, F(sweep_below), 0, 0, 60, NULL, "8",
     "and ends this many dB below it"},
    {L, "tx-radio-args", OPT_STRING, STR(tx_radio), 0, 0, NULL, "",
     "extra airsim arguments of the TX device, e.g. drop_every=50"},
    {L, "rx-radio-args", OPT_STRING, STR(rx_radio), 0, 0, NULL, "",
     "extra airsim arguments of the RX device, e.g. overflow_every=400"},
    {L, "profile", OPT_ENUM, F(profile), 0, 0, 0, airsim_profile_names, "ideal",
     "the real radio both airsim devices imitate (its buffering, formats, rates, defaults)"},
    {L, "clock", OPT_ENUM, F(clock), 0, 0, 0, airsim_clock_names, "fast",
     "airsim's clock: fast (as fast as the two processes go) or realtime (paced at the rate, "
     "as radios are: the receiver gets samples also while the transmitter is silent)"},
    {L, "tx-device", OPT_STRING, STR(tx_device), 0, 0, NULL, "",
     "SoapySDR device string of the TX instead of airsim, e.g. driver=hackrf,serial=..."},
    {L, "rx-device", OPT_STRING, STR(rx_device), 0, 0, NULL, "",
     "SoapySDR device string of the RX instead of airsim"},
    {L, "tx-remote", OPT_STRING, STR(tx_remote), 0, 0, NULL, "",
     "reach the TX's airsim device through a SoapySDRServer at this URL (SoapyRemote, "
     "driver=remote), e.g. tcp://127.0.0.1:55132"},
    {L, "rx-remote", OPT_STRING, STR(rx_remote), 0, 0, NULL, "",
     "the same for the RX's airsim device"},
    {L, "tx-gains", OPT_STRING, STR(tx_gains), 0, 0, NULL, "",
     "TX per-element gains, e.g. VGA=20;AMP=0"},
    {L, "rx-gains", OPT_STRING, STR(rx_gains), 0, 0, NULL, "",
     "RX per-element gains, e.g. LNA=16;VGA=20;AMP=0"},
    {L, "out", OPT_STRING, STR(out), 0, 0, NULL, "loopback-out",
     "output directory (configurations, state, plots)"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* The daemons' settings the loopback offers under its own names, with the
 * daemons' types, ranges and choices (daemon_table), so that the two
 * cannot drift apart. A default given here is the demo's: a short run
 * (600 rounds, an evaluation every 25, a 50 000-message final one), loss
 * reports given up after 300 ms (on the fast simulated clock a round trip
 * takes milliseconds, and a frame lost in a fade costs this much), and
 * only warnings in the daemons' logs. A help text given here says what
 * the loopback adds. */
static const opt_alias s_daemon_settings[] = {
    {"M", "model", "M", NULL, NULL},
    {"N", "model", "N", NULL, NULL},
    {"tx-hidden", "model", "tx_hidden", NULL, NULL},
    {"rx-hidden", "model", "rx_hidden", NULL, NULL},
    {"seed", "model", "seed", NULL, "weights, perturbations and the simulated channel"},
    {"sps", "phy", "sps", NULL, NULL},
    {"rolloff", "phy", "rolloff", NULL, NULL},
    {"messages", "phy", "messages", NULL, NULL},
    {"rx-frames", "training", "rx_frames", NULL, NULL},
    {"rx-steps", "training", "rx_steps", NULL, NULL},
    {"tx-frames", "training", "tx_frames", NULL, NULL},
    {"rounds", "training", "rounds", "600", NULL},
    {"seconds", "training", "max_seconds", NULL, NULL},
    {"target-ser", "training", "target_ser", NULL, NULL},
    {"eval-interval", "training", "eval_interval", "25", NULL},
    {"eval-frames", "training", "eval_frames", NULL, NULL},
    {"final-eval-messages", "training", "final_eval_messages", "50000", NULL},
    {"max-staleness", "training", "max_staleness", NULL,
     "model versions a frame's losses may lag; from 1 the TX sends the next round while the RX "
     "computes the losses of the last"},
    {"loss-timeout-ms", "training", "loss_timeout_ms", "300", NULL},
    {"sigma2", "training", "sigma2", NULL, NULL},
    {"lr-tx", "training", "lr_tx", NULL, NULL},
    {"lr-rx", "training", "lr_rx", NULL, NULL},
    {"lr-decay", "training", "lr_decay", NULL, NULL},
    {"fb-drop", "feedback", "fault_drop", NULL, NULL},
    {"fb-corrupt", "feedback", "fault_corrupt", NULL, NULL},
    {"sweep", "training", "sweep", NULL,
     "after training, step the TX level and write ser-ota.csv / .svg: the SER against the "
     "Es/N0 measured at the receiver, beside airlearn sim's curve of the same networks"},
    {"sweep-step", "sweep", "step_db", NULL, NULL},
    {"sweep-messages", "sweep", "max_messages", NULL,
     "messages per level at most (the simulation's points: ten times as many)"},
    {"sweep-errors", "sweep", "min_errors", NULL,
     "errors that end a level (the simulation's points likewise)"},
    {"send", "xfer", "send", NULL,
     "after training, send this file over the learned link into OUT/received (the run fails "
     "unless it arrives checked)"},
    {"xfer-idle", "xfer", "idle_s", NULL, NULL},
    {"frequency", "radio", "frequency", NULL, NULL},
    {"if-offset", "radio", "if_offset", NULL, NULL},
    {"tx-stream", "radio", "tx_stream", NULL, NULL},
    {"stall-timeout", "radio", "stall_timeout_s", NULL, NULL},
    {"reopen-timeout", "radio", "reopen_timeout_s", NULL, NULL},
    {"log-level", "log", "level", "warn", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
#define S_OWN_COUNT (sizeof s_own / sizeof s_own[0] - 1)
#define S_TABLE_CAP (sizeof s_own / sizeof s_own[0] + sizeof s_daemon_settings / sizeof s_daemon_settings[0])

/* The defaults that differ for M=256 (explicit settings still win):
 * frames of 1024 messages, one RX_TRAIN and one TX_TRAIN frame per round,
 * so that a round is what an iteration of `airlearn sim --method
 * model-free --batch 1024 --rx-steps 1 --tx-steps 1` is, with that
 * command's measured learning rates and budget (20 000 iterations, 0.01
 * decaying to 1e-4: SER 1.04e-3 at 10 dB in the sim). Fewer, larger frames
 * cut the per-frame costs (preambles, detection, feedback reports); an
 * evaluation every 100 rounds keeps it at 4 % of the messages. Frames in
 * flight (max-staleness 1) let the TX build and send while the RX
 * computes: side by side on a shared machine the RX waited 126 s for
 * frames instead of 301 s, at the same SER (0.996e-3 / 1.02e-3). */
static const struct {
    const char *name, *def;
} s_m256_defaults[] = {
    {"messages", "1024"}, {"rx-frames", "1"},         {"tx-frames", "1"},
    {"rounds", "20000"},  {"lr-tx", "0.01"},          {"lr-rx", "0.01"},
    {"lr-decay", "0.01"}, {"eval-interval", "100"},   {"final-eval-messages", "200000"},
    {"max-staleness", "1"},
};

/* One progress line from the transmitter's status; 0 when it has none
 * yet. */
static int s_show_progress(const char *status_path, double elapsed)
{
    state_json_t *st = NULL;
    int rc = state_json_read(status_path, &st);
    if (rc == AL_EIO)
        return 0;   /* not written yet */
    const char *phase = NULL;
    double round = 0, version = 0, l = NAN, e = NAN;
    if (rc < 0 || state_json_get_str(st, "phase", &phase) < 0 ||
        state_json_get_num(st, "round", &round) < 0 ||
        state_json_get_num(st, "model_version", &version) < 0 ||
        state_json_get_num(st, "loss", &l) < 0 || state_json_get_num(st, "ser", &e) < 0) {
        fprintf(stderr, "loopback: %s\n", al_error_message());
        state_json_destroy(&st);
        return 1;
    }
    /* Before the first loss report and the first evaluation there is
     * nothing to show yet. */
    char loss[32] = "-", ser[32] = "-";
    if (isfinite(l))
        snprintf(loss, sizeof loss, "%.4f", l);
    if (isfinite(e))
        snprintf(ser, sizeof ser, "%.4g", e);
    fprintf(stderr, "loopback: %5.0f s  %-8s round %6.0f  model v%-6.0f loss %-8s SER %s\n",
            elapsed,
            strcmp(phase, "eval") == 0 || strcmp(phase, "sweep") == 0 ||
                    strcmp(phase, "sending") == 0
                ? phase
                : "training",
            round, version, loss, ser);
    state_json_destroy(&st);
    return 1;
}

/* The loopback's summary from the transmitter's summary.json, or NULL
 * with the message. */
static state_json_t *s_summary(const loop_opts *o, const char *tx_summary, double wall)
{
    state_json_t *in = NULL, *out = NULL;
    int rc = state_json_read(tx_summary, &in);
    if (rc == AL_EIO) {
        al_error_set(rc, NULL, "the transmitter left no summary in %s", tx_summary);
        return NULL;
    }
    double ser, rounds, train_s, messages, errors;
    if (rc < 0 || state_json_get_num(in, "ser", &ser) < 0 ||
        state_json_get_num(in, "rounds", &rounds) < 0 ||
        state_json_get_num(in, "train_s", &train_s) < 0 ||
        state_json_get_num(in, "messages", &messages) < 0 ||
        state_json_get_num(in, "errors", &errors) < 0 || (out = state_json_create()) == NULL) {
        state_json_destroy(&in);
        return NULL;
    }
    /* The same-rate QAM from the same EVAL frames (null: no such QAM). */
    double ser_baseline = NAN, bmsgs = NAN, berrs = NAN;
    if (state_json_get_num(in, "ser_baseline", &ser_baseline) < 0)
        ser_baseline = NAN;
    if (isfinite(ser_baseline) && (state_json_get_num(in, "baseline_messages", &bmsgs) < 0 ||
                                   state_json_get_num(in, "baseline_errors", &berrs) < 0)) {
        state_json_destroy(&in);
        state_json_destroy(&out);
        return NULL;
    }
    state_json_destroy(&in);
    state_json_sig(out, "ser", 6, ser);
    state_json_sig(out, "ser_baseline", 6, ser_baseline);
    if (isfinite(ser_baseline)) {
        state_json_fixed(out, "baseline_messages", 0, bmsgs);
        state_json_fixed(out, "baseline_errors", 0, berrs);
    }
    state_json_fixed(out, "snr_db", 2, o->snr_db);
    state_json_fixed(out, "iterations", 0, rounds);
    state_json_fixed(out, "wall_s", 1, wall);
    state_json_fixed(out, "train_s", 1, train_s);
    state_json_fixed(out, "messages", 0, messages);
    state_json_fixed(out, "errors", 0, errors);
    state_json_uint(out, "M", o->d.M);
    state_json_uint(out, "N", o->d.N);
    state_json_str(out, "channel", o->fading ? airsim_fading_names[o->fading] : "awgn");
    state_json_str(out, "out", o->out);
    return out;
}

static double s_children_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return NAN;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

/* Prints the daemons' time by phase ("phase_s" of their last status):
 * where the run's wall time went. */
static void s_show_phases(const char *tx_dir, const char *rx_dir)
{
    for (int i = 0; i < 2; i++) {
        char path[700], obj[512];
        snprintf(path, sizeof path, "%s/status.json", i ? rx_dir : tx_dir);
        state_json_t *st = NULL;
        if (state_json_read(path, &st) == AL_OK &&
            state_json_get_text(st, "phase_s", obj, sizeof obj) == AL_OK)
            fprintf(stderr, "loopback: %s time by phase (s): %s\n", i ? "rx" : "tx", obj);
        state_json_destroy(&st);
    }
}

static pid_t s_spawn(const char *role, const char *config, const char *log_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        /* Without its log file the daemon keeps the terminal. */
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        char *args[] = {"airlearn", (char *)role, "--config", (char *)config, NULL};
        execv("/proc/self/exe", args);
        _exit(EX_OSERR);
    }
    return pid;
}

/* The last `lines` lines of a daemon's log, on stderr. */
static void s_show_log_tail(const char *path, int lines)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    static char text[16384];
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        fseek(f, size > (long)sizeof text - 1 ? size - (long)(sizeof text - 1) : 0, SEEK_SET);
    }
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t start = 0;
    int seen = 0;
    for (size_t i = n; i-- > 0;) {
        if (text[i] == '\n' && i + 1 < n && ++seen == lines) {
            start = i + 1;
            break;
        }
    }
    fprintf(stderr, "loopback: --- end of %s ---\n%s", path, text + start);
    if (n > 0 && text[n - 1] != '\n')
        fputc('\n', stderr);
}

static void s_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Learning curve (loss per round, SER per evaluation) from training.csv. */
static void s_plot_curve(const loop_opts *o)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tx/training.csv", o->out);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    plot_series s[3] = {{.label = "policy loss"}, {.label = "SER"}, {.label = "SER baseline (QAM)"}};
    char line[256];
    if (fgets(line, sizeof line, f) != NULL) {
        while (fgets(line, sizeof line, f)) {
            double round, version, loss, ser, msgs, wall, ser_baseline;
            int n = sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &round, &version, &loss, &ser, &msgs,
                           &wall, &ser_baseline);
            if (n >= 4) {
                if (isfinite(loss) && loss > 0)
                    plot_series_add(&s[0], round, loss);
                if (isfinite(ser) && ser > 0)
                    plot_series_add(&s[1], round, ser);
            }
            if (n == 7 && isfinite(ser_baseline) && ser_baseline > 0)
                plot_series_add(&s[2], round, ser_baseline);
        }
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/learning.svg", o->out);
    plot_lines(path, "airlearn loopback: learning curve", "round", "loss / SER", s,
               s[2].n > 0 ? 3 : 2, 1);
    for (int i = 0; i < 3; i++)
        plot_series_free(&s[i]);
}

/* JSON members: the gap in dB (over the air minus simulation at equal
 * SER) of the learned points to airlearn sim's curve of the same
 * networks, and of the baseline's to its closed form; null where no
 * point had enough errors. */
static void s_sweep_compare(const loop_opts *o, const daemon_config *tx, const daemon_config *rx,
                            state_json_t *summary)
{
    char title[128];
    snprintf(title, sizeof title, "airlearn loopback: SER against measured Es/N0, M=%u N=%u", o->d.M,
             o->d.N);
    sweep_gap g;
    if (sweep_compare(tx, rx, o->out, title, o->d.seed, &g) < 0) {
        fprintf(stderr, "loopback: sweep: %s\n", al_error_message());
        return;
    }
    state_json_uint(summary, "sweep_points_compared", g.compared);
    state_json_fixed(summary, "sweep_gap_max_db", 3, g.max_gap_db);
    state_json_fixed(summary, "sweep_gap_mean_db", 3, g.mean_gap_db);
    state_json_uint(summary, "sweep_baseline_points_compared", g.baseline_compared);
    state_json_fixed(summary, "sweep_baseline_gap_max_db", 3, g.baseline_max_gap_db);
    state_json_fixed(summary, "sweep_baseline_gap_mean_db", 3, g.baseline_mean_gap_db);
}

/* --send: the TX sends the file, the RX writes it into OUT/received;
 * what an earlier run left there must not pass for this run's result. */
static void s_xfer_setup(const loop_opts *o, daemon_config *tx, daemon_config *rx)
{
    rx->send[0] = '\0';   /* a TX setting */
    if (!o->d.send[0])
        return;
    snprintf(rx->receive, sizeof rx->receive, "%s/received", o->out);
    const char *base = strrchr(o->d.send, '/');
    char p[800];
    snprintf(p, sizeof p, "%s/%s", rx->receive, base ? base + 1 : o->d.send);
    unlink(p);
    snprintf(p, sizeof p, "%s/xfer.json", tx->state_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/xfer.json", rx->state_dir);
    unlink(p);
}

/* The transfer's figures from both ends (null: an end wrote none). */
static void s_xfer_members(const loop_opts *o, state_json_t *summary)
{
    const char *const role[2] = {"tx", "rx"}, *const key[2] = {"xfer", "xfer_rx"};
    for (int i = 0; i < 2; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s/xfer.json", o->out, role[i]);
        state_json_t *x = NULL;
        if (state_json_read(p, &x) < 0)
            al_debug("loopback: %s", al_error_message());
        state_json_take(summary, key[i], &x);
    }
}

static int s_run(const loop_opts *o)
{
    char path_tx[600], path_rx[600], log_tx[600], log_rx[600], link[128], feedback[128];
    if (daemon_mkdir_p(o->out) < 0)
        return EX_CANTCREAT;
    snprintf(link, sizeof link, "ipc://@airlearn-loopback-air-%ld", (long)getpid());
    snprintf(feedback, sizeof feedback, "ipc://@airlearn-loopback-fb-%ld", (long)getpid());

    daemon_config c = o->d;
    c.rate = o->rate > 0 ? o->rate : s_profile_rate[o->profile];
    if (c.rate < 1e4) {
        fprintf(stderr, "airlearn loopback: --rate %g is below 10 kHz\n", o->rate);
        return EX_USAGE;
    }
    c.exit_when_done = 1;
    c.receiver = o->fading != AIRSIM_FADING_NONE ? RX_KIND_FADING : RX_KIND_AWGN;
    c.sweep_from_dbfs = c.level_dbfs + o->sweep_above;
    c.sweep_to_dbfs = c.level_dbfs - o->sweep_below;
    snprintf(c.endpoint, sizeof c.endpoint, "%s", feedback);

    /* The ideal profile is airsim's default: its device strings stay as
     * they always were. A real radio's profile: the TX at full gain (the
     * unit-power signal airsim's snr_db refers to), the RX at 0 dB, and
     * between them an attenuator that brings the TX's full scale (the
     * profile's tx_dbm) 8 dB below the RX's (its fs_dbm), with the
     * channel's noise moved down alike so that Es/N0 stays --snr-db. */
    char profile[32] = "", path[32] = "";
    double attenuation = 0;
    if (o->profile != AIRSIM_PROFILE_IDEAL) {
        airsim_config front;
        airsim_config_default(&front);
        if (airsim_config_set_profile(&front, airsim_profile_names[o->profile]) < 0) {
            fprintf(stderr, "airlearn loopback: %s\n", al_error_message());
            return EX_SOFTWARE;
        }
        snprintf(profile, sizeof profile, ",profile=%s", airsim_profile_names[o->profile]);
        attenuation = front.tx_dbm - front.fs_dbm + 8.0;
        snprintf(path, sizeof path, ",gain_db=%g", -attenuation);
        if (o->profile == AIRSIM_PROFILE_HACKRF) {
            snprintf(c.gains, sizeof c.gains, "VGA=47;AMP=14");
        } else {
            c.gain = 89.75;
        }
    }
    daemon_config tx = c, rx = c;
    rx.gain = 0;
    rx.gains[0] = '\0';
    snprintf(tx.device, sizeof tx.device, "driver=airsim,clock=%s,link=%s%s%s%s",
             airsim_clock_names[o->clock], link, profile, o->tx_radio[0] ? "," : "", o->tx_radio);
    snprintf(rx.device, sizeof rx.device,
             "driver=airsim,clock=%s,link=%s%s,snr_db=%g%s,cfo=%g,delay=%g,fading=%s,"
             "seed=%llu%s%s",
             airsim_clock_names[o->clock], link, profile,
             o->snr_db - 10.0 * log10((double)o->d.sps) - c.level_dbfs + attenuation, path, o->cfo,
             o->delay, airsim_fading_names[o->fading], (unsigned long long)o->d.seed,
             o->rx_radio[0] ? "," : "", o->rx_radio);
    if ((o->tx_remote[0] && o->tx_device[0]) || (o->rx_remote[0] && o->rx_device[0])) {
        fprintf(stderr, "airlearn loopback: --tx-remote / --rx-remote wrap airsim's device; "
                        "with --tx-device / --rx-device write driver=remote,... yourself\n");
        return EX_USAGE;
    }
    if ((o->tx_remote[0] && remote_device_wrap(tx.device, sizeof tx.device, o->tx_remote) != 0) ||
        (o->rx_remote[0] && remote_device_wrap(rx.device, sizeof rx.device, o->rx_remote) != 0)) {
        fprintf(stderr, "airlearn loopback: %s\n", al_error_message());
        return EX_USAGE;
    }
    if (o->tx_device[0])
        snprintf(tx.device, sizeof tx.device, "%s", o->tx_device);
    if (o->rx_device[0])
        snprintf(rx.device, sizeof rx.device, "%s", o->rx_device);
    if (o->tx_gains[0])
        snprintf(tx.gains, sizeof tx.gains, "%s", o->tx_gains);
    if (o->rx_gains[0])
        snprintf(rx.gains, sizeof rx.gains, "%s", o->rx_gains);
    snprintf(tx.state_dir, sizeof tx.state_dir, "%s/tx", o->out);
    snprintf(rx.state_dir, sizeof rx.state_dir, "%s/rx", o->out);
    snprintf(path_tx, sizeof path_tx, "%s/tx.conf", o->out);
    snprintf(path_rx, sizeof path_rx, "%s/rx.conf", o->out);
    snprintf(log_tx, sizeof log_tx, "%s/tx.log", o->out);
    snprintf(log_rx, sizeof log_rx, "%s/rx.log", o->out);
    s_xfer_setup(o, &tx, &rx);
    /* A fresh run: earlier checkpoints in the same directory would resume. */
    for (int i = 0; i < 2; i++) {
        const char *dir = i ? rx.state_dir : tx.state_dir;
        const char *names[] = {"tx.ckpt", "rx.ckpt", "training.csv", "summary.json", "status.json",
                               "ser-ota.csv"};
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            char p[700];
            snprintf(p, sizeof p, "%s/%s", dir, names[k]);
            unlink(p);
        }
    }
    if (daemon_config_write(path_tx, &tx) < 0 || daemon_config_write(path_rx, &rx) < 0) {
        fprintf(stderr, "airlearn loopback: %s\n", al_error_message());
        return EX_CANTCREAT;
    }

    /* Ctrl-C stops the demo the way SIGTERM stops a daemon: the children
     * are told to stop, and their state is kept. */
    daemon_signals_install();

    double t0 = al_now_s();
    fprintf(stderr, "loopback: M=%u N=%u, Es/N0 %.1f dB, CFO %g Hz, delay %g samples, %s; "
                    "output in %s\n",
            o->d.M, o->d.N, o->snr_db, o->cfo, o->delay, o->fading ? airsim_fading_names[o->fading] : "AWGN",
            o->out);
    pid_t rx_pid = s_spawn("rx", path_rx, log_rx);
    pid_t tx_pid = s_spawn("tx", path_tx, log_tx);
    int tx_status = -1, failed = 0;
    double last_progress = 0;
    char status_path[700];
    snprintf(status_path, sizeof status_path, "%s/status.json", tx.state_dir);
    while (!daemon_stop_requested()) {
        int st;
        if (waitpid(tx_pid, &st, WNOHANG) == tx_pid) {
            tx_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            tx_pid = -1;
            break;
        }
        if (waitpid(rx_pid, &st, WNOHANG) == rx_pid) {
            fprintf(stderr, "loopback: the receiver exited unexpectedly (status %d)\n",
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            rx_pid = -1;
            failed = 1;
            break;
        }
        if (al_now_s() - last_progress >= 2.0 && s_show_progress(status_path, al_now_s() - t0))
            last_progress = al_now_s();
        usleep(100000);
    }
    /* The transmitter has been reaped when it finished: the children's
     * CPU time is its own, until the receiver's joins it. */
    const double tx_cpu = tx_pid < 0 ? s_children_cpu_s() : NAN;
    s_stop(tx_pid);
    s_stop(rx_pid);
    const double rx_cpu = s_children_cpu_s() - tx_cpu;
    double wall = al_now_s() - t0;
    if (daemon_stop_requested()) {
        fprintf(stderr, "loopback: interrupted; state kept in %s\n", o->out);
        return 130;
    }
    if (failed || tx_status != 0) {
        if (!failed)
            fprintf(stderr, "loopback: the transmitter exited with status %d\n", tx_status);
        if (o->d.send[0])
            fprintf(stderr, "loopback: the file was not received complete (%s/received has "
                    "no file under its name)\n", o->out);
        s_show_log_tail(failed ? log_rx : log_tx, 20);
        return EX_SOFTWARE;
    }
    char summary_path[700];
    snprintf(summary_path, sizeof summary_path, "%s/summary.json", tx.state_dir);
    state_json_t *summary = s_summary(o, summary_path, wall);
    s_plot_curve(o);
    if (summary != NULL && o->d.sweep)
        s_sweep_compare(o, &tx, &rx, summary);
    if (summary != NULL && o->d.send[0])
        s_xfer_members(o, summary);
    const char *line = summary ? state_json_text(summary) : NULL;
    if (line == NULL) {
        fprintf(stderr, "loopback: %s\n", al_error_message());
        state_json_destroy(&summary);
        s_show_log_tail(log_tx, 20);
        return EX_SOFTWARE;
    }
    s_show_phases(tx.state_dir, rx.state_dir);
    fprintf(stderr, "loopback: CPU time tx %.1f s, rx %.1f s in %.1f s of wall time (%.2f cores)\n",
            tx_cpu, rx_cpu, wall, (tx_cpu + rx_cpu) / wall);
    fprintf(stderr, "loopback: done; the daemons' logs are %s and %s\n", log_tx, log_rx);
    fputs(line, stdout);
    int rc = state_json_write(summary, o->out, "summary.json");
    if (rc < 0)
        fprintf(stderr, "loopback: %s\n", al_error_message());
    state_json_destroy(&summary);
    return rc < 0 ? EX_CANTCREAT : 0;
}

/* The loopback's settings table (s_own, then s_daemon_settings) into t
 * [S_TABLE_CAP], with M=256's defaults when m256 is set. */
static int s_table_build(opt_desc *t, int m256)
{
    int n = opt_table_join(t, S_TABLE_CAP, L, s_own, daemon_table, offsetof(loop_opts, d),
                           s_daemon_settings);
    for (int i = 0; m256 && i < n; i++) {
        for (size_t k = 0; k < sizeof s_m256_defaults / sizeof s_m256_defaults[0]; k++) {
            if (strcmp(t[i].name, s_m256_defaults[k].name) == 0)
                t[i].def = s_m256_defaults[k].def;
        }
    }
    return n;
}

/* Defaults (the daemons' for what the loopback does not offer), then the
 * file of --config, then the command line. */
static int s_load(const opt_desc *t, loop_opts *o, int argc, char **argv, opt_origin *origin)
{
    memset(o, 0, sizeof *o);
    *origin = OPT_FROM_DEFAULTS;
    int rc = opt_defaults(daemon_table, &o->d);
    return rc < 0 ? rc : opt_load(t, o, L, argc, argv, origin);
}

static void s_print_help(const opt_desc *t)
{
    printf("usage: airlearn loopback [--config FILE] [--key=VALUE ...]\n\n"
           "Trains a TX/RX pair model-free over a simulated radio link between two\n"
           "processes (driver=airsim, the SoapySDR module) and prints a JSON summary;\n"
           "the daemons log to tx.log and rx.log in the output directory.\n"
           "The airsim module must be installed or on SOAPY_SDR_PLUGIN_PATH.\n"
           "With --M 256 these defaults differ:");
    for (size_t k = 0; k < sizeof s_m256_defaults / sizeof s_m256_defaults[0]; k++)
        printf("%s --%s %s", k % 4 ? "" : "\n ", s_m256_defaults[k].name, s_m256_defaults[k].def);
    printf("\n\nThe simulated link, the radios and the run:\n");
    opt_print_help(s_own, stdout, 0);
    printf("\nThe daemons' settings, given to both as airlearn.conf(5) [section] key (TX: and\n"
           "RX: say which daemon uses one):\n");
    for (size_t i = 0; s_daemon_settings[i].name != NULL; i++) {
        const opt_alias *a = &s_daemon_settings[i];
        char help[512];
        snprintf(help, sizeof help, "%s ([%s] %s)", t[S_OWN_COUNT + i].help, a->section, a->key);
        opt_desc one[2] = {t[S_OWN_COUNT + i], {0}};
        one[0].help = help;
        opt_print_help(one, stdout, 0);
    }
}

int cmd_loopback(int argc, char **argv)
{
    opt_desc table[S_TABLE_CAP];
    if (s_table_build(table, 0) < 0) {
        fprintf(stderr, "airlearn loopback: %s\n", al_error_message());
        return EX_SOFTWARE;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_print_help(table);
            return 0;
        }
    }
    loop_opts o;
    opt_origin origin;
    if (s_load(table, &o, argc, argv, &origin) < 0)
        return daemon_settings_failed("loopback", origin, EX_USAGE);
    if (o.d.M == 256) {
        /* Again with M=256's defaults under the same settings. */
        if (s_table_build(table, 1) < 0 || s_load(table, &o, argc, argv, &origin) < 0)
            return daemon_settings_failed("loopback", origin, EX_USAGE);
    }
    return s_run(&o);
}

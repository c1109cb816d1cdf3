#include "daemon_util.h"

#include "al_error.h"
#include "al_log.h"
#include "al_model.h"
#include "al_threads.h"

#include <SoapySDR/Device.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

void daemon_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int daemon_stop_requested(void)
{
    return s_stop != 0;
}

int daemon_load_options(const opt_desc *table, void *cfg, const char *cmd,
                        const char *default_section, int bad_value_status, int argc,
                        char **argv)
{
    if (opt_defaults(table, cfg) < 0) {
        fprintf(stderr, "airlearn %s: %s\n", cmd, al_error_message());
        return EX_SOFTWARE;
    }
    const char *config = opt_find_config(argc, argv);
    if (config != NULL && opt_load_ini(table, cfg, config, default_section) < 0) {
        fprintf(stderr, "airlearn %s: %s\n", cmd, al_error_message());
        return EX_CONFIG;
    }
    int unknown;
    if (opt_parse_args(table, cfg, argc, argv, 1, &unknown) < 0) {
        fprintf(stderr, "airlearn %s: %s\n", cmd, al_error_message());
        return bad_value_status;
    }
    if (unknown < argc) {
        fprintf(stderr, "airlearn %s: unknown option '%s' (see airlearn %s --help)\n", cmd,
                argv[unknown], cmd);
        return EX_USAGE;
    }
    return 0;
}

int daemon_mkdir_p(const char *path)
{
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return AL_FAIL(AL_EINVAL, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return AL_FAIL(AL_EIO, "cannot create %s: %s", buf, strerror(errno));
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return AL_FAIL(AL_EIO, "cannot create %s: %s", buf, strerror(errno));
    return AL_OK;
}

void daemon_notify_ready(const char *status)
{
    sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void daemon_notify_status(const char *status, int radio_alive)
{
    sd_notifyf(0, radio_alive ? "STATUS=%s\nWATCHDOG=1" : "STATUS=%s", status);
}

al_radio_t *daemon_radio_open(const daemon_config *c, int direction)
{
    /* Offset tuning: the LO sits if_offset below the frames' carrier. */
    al_radio_config rc = {c->device, direction, c->rate,
                          c->frequency > 0 ? c->frequency - c->if_offset : 0, c->gain, c->bandwidth,
                          c->antenna, c->stream_args};
    al_radio_t *r = al_radio_create(&rc);
    if (r == NULL && strstr(c->device, "driver=airsim") != NULL) {
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

void daemon_fb_json(const fb_counters *c, char *buf, size_t len)
{
    uint64_t received = 0, rejected = 0;
    for (size_t i = 0; i < sizeof c->received / sizeof c->received[0]; i++)
        received += c->received[i];
    for (int i = 0; i < FB_REASON_COUNT; i++)
        rejected += c->rejected[i];
    snprintf(buf, len,
             "\"fb_received\":%llu,\"fb_rejected\":%llu,\"fb_fault_dropped\":%llu,"
             "\"fb_fault_corrupted\":%llu",
             (unsigned long long)received, (unsigned long long)rejected,
             (unsigned long long)c->fault_dropped, (unsigned long long)c->fault_corrupted);
}

int daemon_write_state(const char *dir, const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return al_write_file_atomic(path, text, strlen(text));
}

int daemon_apply_common(const daemon_config *c, const char *role)
{
    al_log_level level;
    if (al_log_parse_level(c->log_level, &level) != 0) {
        fprintf(stderr, "airlearn %s: [log] level: %s\n", role, al_error_message());
        return EX_CONFIG;
    }
    al_log_set_level(level);
    al_log_set_tag(role);
    al_threads_set(c->blas_threads);
    return 0;
}

#include "daemon_util.h"

#include "al_error.h"
#include "al_model.h"

#include <errno.h>
#include <stdio.h>
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

int daemon_settings_failed(const char *cmd, opt_origin origin, int bad_value_status)
{
    int status = EX_USAGE;
    switch (origin) {
    case OPT_FROM_DEFAULTS:
        status = EX_SOFTWARE;
        break;
    case OPT_FROM_FILE:
        status = EX_CONFIG;
        break;
    case OPT_FROM_ARGS:
        status = bad_value_status;
        break;
    case OPT_FROM_UNKNOWN:
        fprintf(stderr, "airlearn %s: %s (see airlearn %s --help)\n", cmd, al_error_message(),
                cmd);
        return EX_USAGE;
    }
    fprintf(stderr, "airlearn %s: %s\n", cmd, al_error_message());
    return status;
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

void daemon_fb_status(state_json_t *j, const fb_counters *c)
{
    uint64_t received = 0, rejected = 0;
    for (size_t i = 0; i < sizeof c->received / sizeof c->received[0]; i++)
        received += c->received[i];
    for (int i = 0; i < FB_REASON_COUNT; i++)
        rejected += c->rejected[i];
    state_json_uint(j, "fb_received", received);
    state_json_uint(j, "fb_rejected", rejected);
    state_json_uint(j, "fb_fault_dropped", c->fault_dropped);
    state_json_uint(j, "fb_fault_corrupted", c->fault_corrupted);
}

int daemon_write_state(const char *dir, const char *name, const char *text)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return al_error_set(AL_EINVAL, NULL, "path too long: %s/%s", dir, name);
    return al_write_file_atomic(path, text, strlen(text));
}

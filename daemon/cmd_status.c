/* `airlearn status --config F`: what a running daemon last reported.
 *
 * Each daemon rewrites DIR/status.json (atomically) every second; this
 * prints it with two fields added: "running" (its pid is alive) and
 * "age_s" (seconds since it was written). Exit 0 when the daemon runs,
 * 69 when it does not (or never wrote a status), 65 when the file is not
 * a status record (truncated, not JSON, pid or phase missing). */
#include "commands.h"

#include "al_error.h"
#include "daemon_config.h"
#include "daemon_util.h"
#include "state_json.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

int cmd_status(int argc, char **argv)
{
    daemon_config c;
    int help = 0;
    opt_origin origin;
    if (daemon_config_load(&c, "status", argc, argv, &help, &origin) < 0)
        return daemon_settings_failed("status", origin, EX_CONFIG);
    if (help)
        return 0;
    char path[600];
    snprintf(path, sizeof path, "%s/status.json", c.state_dir);
    state_json_t *st = NULL;
    int rc = state_json_read(path, &st);
    if (rc == AL_EIO) {
        fprintf(stderr, "airlearn status: %s: is the daemon running with this configuration?\n",
                al_error_message());
        return EX_UNAVAILABLE;
    }
    int64_t pid = 0;
    const char *phase = NULL;
    if (rc == AL_OK && (rc = state_json_get_int(st, "pid", &pid)) == AL_OK)
        rc = state_json_get_str(st, "phase", &phase);
    if (rc != AL_OK) {
        fprintf(stderr, "airlearn status: not a status record: %s\n", al_error_message());
        state_json_destroy(&st);
        return EX_DATAERR;
    }
    int running = pid > 0 && pid <= INT_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
                  strcmp(phase, "stopped") != 0;
    struct stat sb;
    double age = stat(path, &sb) == 0 ? difftime(time(NULL), sb.st_mtime) : -1;
    state_json_bool(st, "running", running);
    state_json_fixed(st, "age_s", 0, age);
    const char *text = state_json_text(st);
    if (text == NULL) {
        fprintf(stderr, "airlearn status: %s\n", al_error_message());
        state_json_destroy(&st);
        return EX_OSERR;
    }
    fputs(text, stdout);
    state_json_destroy(&st);
    return running ? 0 : EX_UNAVAILABLE;
}

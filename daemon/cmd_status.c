/* `airlearn status --config F`: what a running daemon last reported.
 *
 * Each daemon rewrites DIR/status.json (atomically) every second; this
 * prints it with two fields added: "running" (its pid is alive) and
 * "age_s" (seconds since it was written). Exit 0 when the daemon runs,
 * 69 when it does not (or never wrote a status). */
#include "commands.h"

#include "daemon_config.h"

#include <errno.h>
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
    int status = daemon_config_load(&c, "status", argc, argv, &help);
    if (status != 0 || help)
        return status;
    char path[600];
    snprintf(path, sizeof path, "%s/status.json", c.state_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "airlearn status: no %s (%s): is the daemon running with this "
                        "configuration?\n", path, strerror(errno));
        return EX_UNAVAILABLE;
    }
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '}' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (n == 0 || text[0] != '{') {
        fprintf(stderr, "airlearn status: %s is not a status record\n", path);
        return EX_DATAERR;
    }
    const char *pid_at = strstr(text, "\"pid\":");
    long pid = pid_at ? strtol(pid_at + 6, NULL, 10) : 0;
    int running = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
                  strstr(text, "\"phase\":\"stopped\"") == NULL;
    struct stat st;
    double age = stat(path, &st) == 0 ? difftime(time(NULL), st.st_mtime) : -1;
    printf("%s,\"running\":%s,\"age_s\":%.0f}\n", text, running ? "true" : "false", age);
    return running ? 0 : EX_UNAVAILABLE;
}

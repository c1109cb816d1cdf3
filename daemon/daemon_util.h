/* airlearn — what the commands share: directories, signals, the status
 * file, systemd notification, how a settings problem is reported.
 * Process-wide state (signal flags) lives here and only here. */
#ifndef DAEMON_UTIL_H
#define DAEMON_UTIL_H

#include "al_options.h"
#include "fb_proto.h"
#include "state_json.h"

#include <signal.h>
#include <stddef.h>

/* The one place a command reports a settings problem that opt_load or
 * daemon_config_load returned: prints "airlearn CMD: why" (why:
 * al_error_message(), for an unknown option with a pointer to --help) to
 * stderr and returns the exit status for where it came from: EX_SOFTWARE
 * for a default of the table, EX_CONFIG for the file (also a setting whose
 * source is not tracked: one checked after loading), bad_value_status for
 * a value on the command line, EX_USAGE for an unknown option. */
int daemon_settings_failed(const char *cmd, opt_origin origin, int bad_value_status);

/* mkdir -p; 0 or AL_EIO with a message. */
int daemon_mkdir_p(const char *path);

/* SIGTERM/SIGINT set the stop flag (the loop checkpoints and exits);
 * SIGPIPE is ignored. */
void daemon_signals_install(void);
int daemon_stop_requested(void);

/* sd_notify wrappers: harmless when not run by systemd. */
void daemon_notify_ready(const char *status);
/* The watchdog is pinged only while the radio moves samples: a radio that
 * went silent (HackRF unplugged: TIMEOUT forever) must not keep a daemon
 * alive in systemd's eyes. */
void daemon_notify_status(const char *status, int radio_alive);

/* Adds the feedback counters to a status record: fb_received,
 * fb_rejected, fb_fault_dropped, fb_fault_corrupted. */
void daemon_fb_status(state_json_t *j, const fb_counters *c);

/* Writes text atomically to DIR/name (status records, CSV tables). */
int daemon_write_state(const char *dir, const char *name, const char *text);

#endif

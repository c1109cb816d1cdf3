/* airlearn — what the commands share: directories, signals, the status
 * file, systemd notification. Process-wide state (signal flags) lives
 * here and only here. */
#ifndef DAEMON_UTIL_H
#define DAEMON_UTIL_H

#include "fb_proto.h"
#include "state_json.h"

#include <signal.h>
#include <stddef.h>

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

#endif

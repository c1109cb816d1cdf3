/* airlearn — what the commands share: directories, signals, the status
 * file, systemd notification. Process-wide state (signal flags) lives
 * here and only here. */
#ifndef DAEMON_UTIL_H
#define DAEMON_UTIL_H

#include "fb_proto.h"

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

/* JSON members for a status record from feedback counters:
 * "fb_received":N,"fb_rejected":N,"fb_fault_dropped":N,"fb_fault_corrupted":N */
void daemon_fb_json(const fb_counters *c, char *buf, size_t len);

/* Writes text atomically to DIR/name. */
int daemon_write_state(const char *dir, const char *name, const char *text);

#endif

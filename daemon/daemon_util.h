/* airlearn — what the two daemons share: directories, signals, the status
 * file, systemd notification, and turning a config into an open radio.
 * Process-wide state (signal flags) lives here and only here. */
#ifndef DAEMON_UTIL_H
#define DAEMON_UTIL_H

#include "al_radio.h"
#include "daemon_config.h"
#include "fb_proto.h"
#include "fb_session.h"

#include <signal.h>

/* Defaults of table, then --config FILE (keys before any [section] belong
 * to default_section), then the command line. 0, or the exit status after
 * printing "airlearn CMD: why": EX_CONFIG for the file, bad_value_status
 * for a bad value on the command line, EX_USAGE for an unknown option. */
int daemon_load_options(const opt_desc *table, void *cfg, const char *cmd,
                        const char *default_section, int bad_value_status, int argc,
                        char **argv);

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

/* Opens the [radio] of c in one direction, applying per-element gains. */
al_radio_t *daemon_radio_open(const daemon_config *c, int direction);

/* AL_EINVAL, the PHY's refusal of [radio] if_offset (in al_error_message)
 * named as the setting. */
int daemon_fail_if_offset(const daemon_config *c);

/* A radio that went silent, closed by the caller: opens it again, calling
 * wait(user) between attempts (it keeps the feedback session alive and
 * must pass some time). The radio, or NULL when a stop was requested or
 * it is still away reopen_timeout_s after outage_start_ms (al_now_ms());
 * then *gone is set and the error is logged. Logs the outcome once. */
al_radio_t *daemon_radio_reopen(const daemon_config *c, int direction, uint64_t outage_start_ms,
                                void (*wait)(void *user), void *user, int *gone);

/* The feedback session settings of c for one side (server: the TX, with
 * its session; client: the RX). Strings point into c. */
fb_session_config daemon_fb_config(const daemon_config *c, int server, uint32_t session_id,
                                   uint64_t session_seed);

/* JSON members for a status record from feedback counters:
 * "fb_received":N,"fb_rejected":N,"fb_fault_dropped":N,"fb_fault_corrupted":N */
void daemon_fb_json(const fb_counters *c, char *buf, size_t len);

/* Writes text atomically to DIR/name. */
int daemon_write_state(const char *dir, const char *name, const char *text);

/* Applies [log] level and [threads] blas. 0 or EX_CONFIG after printing. */
int daemon_apply_common(const daemon_config *c, const char *role);

#endif

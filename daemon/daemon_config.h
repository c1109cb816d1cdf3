/* airlearn — the configuration of `airlearn tx` and `airlearn rx`.
 *
 * One INI schema for both roles (a testbed keeps the two files side by
 * side and they must agree on [model] and [phy]); every key can be
 * overridden as --section.key=value. Described once in daemon_table, which
 * also prints --help and records the settings in force in the state
 * directory. Plain data.
 */
#ifndef DAEMON_CONFIG_H
#define DAEMON_CONFIG_H

#include "al_options.h"
#include "al_radio.h"
#include "fb_session.h"
#include "rx_net.h"
#include "tx_net.h"

#include <stdint.h>

/* How the TX hands frames to the radio: auto picks continuous on devices
 * without hardware time (they cannot schedule a burst: HackRF), bursts
 * otherwise. */
typedef enum { TX_STREAM_AUTO = 0, TX_STREAM_BURST = 1, TX_STREAM_CONTINUOUS = 2 } daemon_tx_stream;

typedef struct {
    /* [radio] */
    char device[512];
    double rate, frequency, gain, bandwidth;
    char gains[128];          /* per element: "LNA=32;VGA=20" */
    char antenna[32];
    char stream_args[256];    /* SoapySDR stream arguments, e.g. "buffers=4" */
    int tx_stream;            /* daemon_tx_stream */
    double stall_timeout_s;   /* no samples / accepted writes this long: reopen */
    double reopen_timeout_s;  /* reopening failing this long: exit EX_UNAVAILABLE */
    double rx_queue_s;        /* RX sample queue, seconds of samples */
    double if_offset;         /* Hz: frames this far above the LO (offset tuning) */
    /* [phy] */
    unsigned sps;
    double rolloff;
    unsigned messages;        /* P per frame */
    double level_dbfs;
    unsigned guard;           /* zero samples after every frame */
    double threshold;
    /* [model] */
    unsigned M, N;
    rx_kind receiver;
    unsigned tx_hidden, rx_hidden;
    uint64_t seed;
    /* [training] */
    double sigma2;
    tx_baseline baseline;
    double lr_tx, lr_rx;
    double lr_decay;          /* learning rates fall to lr * lr_decay at `rounds` */
    unsigned rx_frames, rx_steps, tx_frames;
    unsigned rounds;          /* stop after this many rounds (0: no limit) */
    double max_seconds;       /* stop after this much training time (0: none) */
    double target_ser;        /* stop when an EVAL reaches it (0: none) */
    unsigned eval_interval, eval_frames;
    unsigned loss_timeout_ms, max_staleness;
    unsigned final_eval_messages;
    int exit_when_done;
    int sweep;                /* after training: SER against the measured SNR (sweep.h) */
    /* [sweep] */
    double sweep_from_dbfs, sweep_to_dbfs, sweep_step_db;
    unsigned sweep_max_messages, sweep_min_errors;
    /* [feedback] */
    char endpoint[256];
    unsigned heartbeat_ms, peer_timeout_ms;
    char curve_secret[256], curve_allow_dir[256], curve_server_public[256];
    double fault_drop, fault_corrupt;   /* fault injection on this end's sends */
    /* [state] */
    char state_dir[256];
    double checkpoint_interval;
    /* [xfer] */
    char send[512];           /* TX: file to send after training ("": none) */
    char receive[256];        /* RX: directory for received files ("": none) */
    unsigned xfer_window, xfer_rto_ms, xfer_max_sends;
    double xfer_idle_s;
    /* [log] [threads] */
    char log_level[16];
    unsigned blas_threads;
} daemon_config;

extern const opt_desc daemon_table[];

/* Defaults, then the file given by --config, then the command line, then
 * the checks across settings. AL_OK, or AL_EINVAL / AL_EIO with the
 * message and *origin set to where the problem is (settings that do not
 * fit together count as the file's). --help prints the settings to stdout,
 * sets *help_shown and returns AL_OK. Prints nothing else: the command
 * reports (daemon_settings_failed). */
int daemon_config_load(daemon_config *c, const char *role, int argc, char **argv,
                       int *help_shown, opt_origin *origin);

/* Writes the settings in c as an INI file at path (the record of a run,
 * or a configuration for a child daemon). 0 or AL_EIO with a message. */
int daemon_config_write(const char *path, const daemon_config *c);

/* Hash of the settings both ends must share (M, N, P, sps, rolloff, frame
 * version, receiver-independent), for the feedback handshake. */
uint64_t daemon_config_hash(const daemon_config *c);

/* Adapters from the settings to what the libraries take. */

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

/* Applies [log] level and [threads] blas. AL_OK, or AL_EINVAL with the
 * message "[log] level: why". */
int daemon_apply_common(const daemon_config *c, const char *role);

#endif

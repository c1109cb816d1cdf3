/* airlearn — SER against the SNR measured at the receiver, over the link.
 *
 * After training, the transmitter steps its digital level (level_dbfs)
 * from `from_dbfs` to `to_dbfs` by `step_db` and, at each level, sends
 * EVAL frames until the receiver has counted min_errors errors or
 * max_messages messages. What it counts comes back in STATS as running
 * totals; the transmitter hands sweep_add the difference over each batch
 * of EVAL frames. The SNR of a level is the receiver's own measurement on
 * those very frames: 10 log10 of the sum of the preamble fits' symbol
 * energies over the sum of their noise variances (rx_frame_result es,
 * n0, each unbiased), an Es/N0 on the axis of `airlearn sim`.
 *
 * sweep_report compares the points with the symbol-level simulation
 * (daemon/sim) of the same trained networks: sim_eval of the TX and RX
 * networks over AWGN at Es/N0 around the measured points, and for each
 * measured point the distance in dB to where the simulated curve reaches
 * the same SER.
 *
 * One sweep_t per sweep, one thread at a time. Nothing here allocates
 * after sweep_create except sweep_report (not on a hot path).
 */
#ifndef AL_SWEEP_H
#define AL_SWEEP_H

#include <stdint.h>

#include "daemon_config.h"
#include "fb_proto.h"
#include "rx_net.h"
#include "tx_net.h"

enum { SWEEP_MAX_POINTS = 601 };

typedef struct {
    double from_dbfs, to_dbfs, step_db;
    uint64_t max_messages;    /* per level, at most */
    uint64_t min_errors;      /* a level is done with this many errors */
} sweep_config;

typedef struct {
    double level_dbfs;
    double snr_db;            /* measured at the receiver; NAN: no frame came back */
    uint64_t messages, errors;
    uint64_t messages_baseline, errors_baseline;   /* same-rate QAM, same frames */
    /* EVAL frames and the sums of their Es and N0 estimates */
    uint64_t frames;
    double signal, noise;
} sweep_point;

typedef struct sweep sweep_t;

/* NULL with an al_error message if the levels are outside [-60, 0] dBFS,
 * the step not positive or more than SWEEP_MAX_POINTS levels. */
sweep_t *sweep_create(const sweep_config *cfg);
void sweep_destroy(sweep_t **self_p);

/* 1 once every level is done. */
int sweep_done(const sweep_t *q);

/* The level being measured, dBFS. */
double sweep_level(const sweep_t *q);

/* What the receiver counted over one batch of EVAL frames at the current
 * level (the difference of two STATS). Moves to the next level when this
 * one is done (min_errors errors of the learned system and, where the
 * EVAL frames carry it, of the conventional baseline; or max_messages
 * learned messages), or when SWEEP_EMPTY_BATCHES batches in a row brought
 * nothing back (no frame decodes at this level). Returns 1 when it moved
 * on, 0 when the level goes on. */
enum { SWEEP_EMPTY_BATCHES = 3 };
int sweep_add(sweep_t *q, const fb_stats *delta);

/* The levels measured so far (done ones), in sweep order. */
const sweep_point *sweep_points(const sweep_t *q, unsigned *n);

/* DIR/ser-ota.csv: snr_db_measured,ser,ser_baseline,messages,errors,
 * errors_baseline (messages: of each system, the same number; the
 * baseline's columns empty when there is none at this rate); levels
 * without frames are left out. Written atomically. 0 or AL_EIO. */
int sweep_write_csv(const char *dir, const sweep_point *p, unsigned n);

/* Reads what sweep_write_csv wrote (level_dbfs and the sums are not in
 * it: 0). 0, or AL_EIO / AL_EFORMAT with a message. */
int sweep_read_csv(const char *path, sweep_point *p, unsigned cap, unsigned *n);

/* SNR, dB, at which the curve (snr_db[i], ser[i]), i < n, sorted by SNR,
 * reaches `ser`: linear in log10(SER) between the two points around it;
 * NAN if it never does or ser <= 0. */
double sweep_snr_at(const double *snr_db, const double *ser, unsigned n, double ser_wanted);

typedef struct {
    double max_gap_db;        /* largest |measured SNR - sim SNR| at equal SER; NAN: none */
    double mean_gap_db;       /* mean signed gap: > 0, the link needs more SNR than the sim */
    unsigned compared;        /* points with min_errors errors on both curves */
    /* The conventional baseline over the air against its closed form
     * (al_qam_ser_awgn), likewise */
    double baseline_max_gap_db, baseline_mean_gap_db;
    unsigned baseline_compared;
} sweep_gap;

/* Writes ser-sim.csv (snr_db,ser,messages,errors: sim_eval of tx and rx
 * over AWGN, seed `seed`, from 1 dB below the lowest measured SNR to
 * 1 dB above the highest in 0.5 dB steps, each until min_errors errors or
 * 10 x max_messages) and ser-ota.svg (the measured points of both
 * systems beside it and beside the baseline's closed form) into dir;
 * fills *gap from the measured points with at least min_errors errors.
 * rx may be NULL (the TX alone has no receiver network): then no
 * simulated curve, no ser-sim.csv, and gap->compared = 0. */
int sweep_report(const char *dir, const char *title, const sweep_point *p, unsigned n,
                 tx_net_t *tx, rx_net_t *rx, uint64_t max_messages, uint64_t min_errors,
                 uint64_t seed, sweep_gap *gap);

/* The loopback's comparison: the transmitter's sweep (tx->state_dir/
 * ser-ota.csv) against sim_eval of the very networks it trained
 * (tx.ckpt and rx.ckpt in the two state directories, read after both
 * daemons stopped), through sweep_report into out. The AWGN receiver
 * only (AL_EINVAL for the fading one: the symbol-level Rayleigh channel
 * is not the link's). */
int sweep_compare(const daemon_config *tx, const daemon_config *rx, const char *out,
                  const char *title, uint64_t seed, sweep_gap *gap);

#endif

/* airlearn — SER against the SNR measured at the receiver (sweep.h). */
#include "sweep.h"

#include "al_error.h"
#include "al_model.h"
#include "al_qam.h"
#include "daemon_util.h"
#include "plot.h"
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sweep {
    sweep_config cfg;
    unsigned n_levels, at;    /* levels in all; the one being measured */
    unsigned empty;           /* batches in a row that brought nothing back */
    sweep_point points[];     /* [n_levels] */
};

sweep_t *sweep_create(const sweep_config *cfg)
{
    if (cfg == NULL)
        return NULL;
    if (!(cfg->from_dbfs >= -60 && cfg->from_dbfs <= 0 && cfg->to_dbfs >= -60 &&
          cfg->to_dbfs <= 0)) {
        AL_FAIL(AL_EINVAL, "sweep levels %g to %g dBFS: both must be in [-60, 0]",
                cfg->from_dbfs, cfg->to_dbfs);
        return NULL;
    }
    if (!(cfg->step_db > 0) || cfg->max_messages == 0 || cfg->min_errors == 0) {
        AL_FAIL(AL_EINVAL, "sweep step %g dB, %llu messages, %llu errors: all must be positive",
                cfg->step_db, (unsigned long long)cfg->max_messages,
                (unsigned long long)cfg->min_errors);
        return NULL;
    }
    /* A hair of tolerance: -8 to -20 by 2 ends on -20, not short of it. */
    double span = fabs(cfg->to_dbfs - cfg->from_dbfs) / cfg->step_db;
    if (span + 1 > SWEEP_MAX_POINTS) {
        AL_FAIL(AL_EINVAL, "sweep of %.0f levels (at most %d)", span + 1, SWEEP_MAX_POINTS);
        return NULL;
    }
    unsigned n = (unsigned)floor(span + 1e-9) + 1;
    sweep_t *q = calloc(1, sizeof *q + n * sizeof q->points[0]);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory for the sweep");
        return NULL;
    }
    q->cfg = *cfg;
    q->n_levels = n;
    double dir = cfg->to_dbfs < cfg->from_dbfs ? -1.0 : 1.0;
    for (unsigned i = 0; i < n; i++) {
        q->points[i].level_dbfs = cfg->from_dbfs + dir * cfg->step_db * i;
        q->points[i].snr_db = NAN;
    }
    return q;
}

void sweep_destroy(sweep_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free(*self_p);
    *self_p = NULL;
}

int sweep_done(const sweep_t *q)
{
    return q->at >= q->n_levels;
}

double sweep_level(const sweep_t *q)
{
    return q->points[q->at < q->n_levels ? q->at : q->n_levels - 1].level_dbfs;
}

int sweep_add(sweep_t *q, const fb_stats *d)
{
    if (sweep_done(q))
        return 0;
    sweep_point *p = &q->points[q->at];
    p->messages += d->eval_messages;
    p->errors += d->eval_errors;
    p->messages_baseline += d->baseline_messages;
    p->errors_baseline += d->baseline_errors;
    p->frames += d->eval_frames;
    p->signal += d->eval_signal;
    p->noise += d->eval_noise;
    if (p->frames > 0 && p->noise > 0)
        p->snr_db = 10.0 * log10(p->signal / p->noise);
    q->empty = d->eval_messages == 0 ? q->empty + 1 : 0;
    /* Both curves need their errors; a level where the baseline is the
     * better one costs what its errors take. */
    int enough = p->errors >= q->cfg.min_errors &&
                 (p->messages_baseline == 0 || p->errors_baseline >= q->cfg.min_errors);
    if (enough || p->messages >= q->cfg.max_messages || q->empty >= SWEEP_EMPTY_BATCHES) {
        q->at++;
        q->empty = 0;
        return 1;
    }
    return 0;
}

const sweep_point *sweep_points(const sweep_t *q, unsigned *n)
{
    *n = q->at;
    return q->points;
}

int sweep_write_csv(const char *dir, const sweep_point *p, unsigned n)
{
    /* One line is under 100 characters. */
    size_t cap = 128 + (size_t)n * 100, len = 0;
    char *text = malloc(cap);
    if (text == NULL)
        return AL_FAIL(AL_ENOMEM, "no memory for ser-ota.csv");
    len += (size_t)snprintf(text, cap,
                            "snr_db_measured,ser,ser_baseline,messages,errors,errors_baseline\n");
    for (unsigned i = 0; i < n; i++) {
        if (p[i].messages == 0 || !isfinite(p[i].snr_db))
            continue;
        char ser_b[32] = "", err_b[32] = "";
        if (p[i].messages_baseline > 0) {
            snprintf(ser_b, sizeof ser_b, "%.9g",
                     (double)p[i].errors_baseline / (double)p[i].messages_baseline);
            snprintf(err_b, sizeof err_b, "%llu", (unsigned long long)p[i].errors_baseline);
        }
        len += (size_t)snprintf(text + len, cap - len, "%.3f,%.6g,%s,%llu,%llu,%s\n",
                                p[i].snr_db, (double)p[i].errors / (double)p[i].messages, ser_b,
                                (unsigned long long)p[i].messages,
                                (unsigned long long)p[i].errors, err_b);
    }
    int rc = daemon_write_state(dir, "ser-ota.csv", text);
    free(text);
    return rc;
}

int sweep_read_csv(const char *path, sweep_point *p, unsigned cap, unsigned *n)
{
    *n = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return AL_FAIL(AL_EIO, "cannot read %s", path);
    char line[256];
    int rc = AL_OK;
    if (fgets(line, sizeof line, f) == NULL ||
        strncmp(line, "snr_db_measured,ser,ser_baseline,messages,errors", 48) != 0) {
        rc = AL_FAIL(AL_EFORMAT, "%s: not a ser-ota.csv", path);
    }
    for (unsigned lineno = 2; rc == AL_OK && fgets(line, sizeof line, f) != NULL; lineno++) {
        /* snr,ser,ser_baseline,messages,errors,errors_baseline; the
         * baseline's two may be empty. */
        char *field[7];
        unsigned nf = 0;
        line[strcspn(line, "\r\n")] = '\0';
        for (char *c = line; c != NULL && nf < 7;) {
            field[nf++] = c;
            if ((c = strchr(c, ',')) != NULL)
                *c++ = '\0';
        }
        char *end;
        sweep_point pt = {0};
        int ok = nf == 6;
        if (ok) {
            pt.snr_db = strtod(field[0], &end);
            ok = end != field[0] && *end == '\0' && isfinite(pt.snr_db);
            pt.messages = strtoull(field[3], &end, 10);
            ok = ok && end != field[3] && *end == '\0';
            pt.errors = strtoull(field[4], &end, 10);
            ok = ok && end != field[4] && *end == '\0' && pt.messages > 0 &&
                 pt.errors <= pt.messages;
        }
        if (ok && field[2][0] != '\0') {
            /* The baseline's messages are the learned ones or, with an
             * odd number of messages per frame, one fewer per frame: its
             * SER (nine digits) gives them back. */
            double ser_b = strtod(field[2], &end);
            ok = end != field[2] && *end == '\0' && ser_b >= 0 && ser_b <= 1;
            pt.errors_baseline = strtoull(field[5], &end, 10);
            ok = ok && end != field[5] && *end == '\0';
            pt.messages_baseline =
                ser_b > 0 ? (uint64_t)llround((double)pt.errors_baseline / ser_b) : pt.messages;
            ok = ok && pt.errors_baseline <= pt.messages_baseline;
        } else if (ok) {
            ok = field[5][0] == '\0';
        }
        if (!ok) {
            rc = AL_FAIL(AL_EFORMAT, "%s:%u: malformed line", path, lineno);
        } else if (*n >= cap) {
            rc = AL_FAIL(AL_EFORMAT, "%s: more than %u points", path, cap);
        } else {
            p[(*n)++] = pt;
        }
    }
    fclose(f);
    return rc;
}

double sweep_snr_at(const double *snr_db, const double *ser, unsigned n, double want)
{
    if (!(want > 0))
        return NAN;
    for (unsigned i = 0; i + 1 < n; i++) {
        double a = ser[i], b = ser[i + 1];
        if (!(a > 0 && b > 0) || (want - a) * (want - b) > 0)
            continue;
        if (a == b)
            return snr_db[i];
        double t = (log10(want) - log10(a)) / (log10(b) - log10(a));
        return snr_db[i] + t * (snr_db[i + 1] - snr_db[i]);
    }
    return NAN;
}

static int s_cmp_snr(const void *a, const void *b)
{
    double x = ((const sweep_point *)a)->snr_db, y = ((const sweep_point *)b)->snr_db;
    return (x > y) - (x < y);
}

/* The measured points' distance in dB, at equal SER, to the curve
 * (snr[i], ser[i]), i < m: points with min_errors errors only. */
static void s_gap(const sweep_point *p, unsigned n, int baseline, const double *snr,
                  const double *ser, unsigned m, uint64_t min_errors, double *max_db,
                  double *mean_db, unsigned *compared)
{
    double sum = 0;
    *compared = 0;
    *max_db = *mean_db = NAN;
    for (unsigned i = 0; i < n; i++) {
        uint64_t errs = baseline ? p[i].errors_baseline : p[i].errors;
        uint64_t msgs = baseline ? p[i].messages_baseline : p[i].messages;
        if (errs < min_errors || msgs == 0)
            continue;
        double at = sweep_snr_at(snr, ser, m, (double)errs / (double)msgs);
        if (!isfinite(at))
            continue;
        double g = p[i].snr_db - at;
        sum += g;
        (*compared)++;
        if (!(fabs(g) <= *max_db))
            *max_db = fabs(g);
    }
    if (*compared > 0)
        *mean_db = sum / *compared;
}

/* The simulated curve of the same networks, its CSV, and the gap of the
 * learned points to it. */
static int s_reference(const char *dir, const sweep_point *p, unsigned n, tx_net_t *tx,
                       rx_net_t *rx, uint64_t max_messages, uint64_t min_errors, uint64_t seed,
                       plot_series *sim, sweep_gap *gap)
{
    const double lo = floor(2.0 * (p[0].snr_db - 1.0)) / 2.0;
    const double hi = ceil(2.0 * (p[n - 1].snr_db + 1.0)) / 2.0;
    unsigned m = (unsigned)lround((hi - lo) / 0.5) + 1;
    double *snr = malloc(sizeof(double) * m), *ser = malloc(sizeof(double) * m);
    uint64_t *errs = malloc(sizeof(uint64_t) * m);
    char *text = malloc(64 + (size_t)m * 80);
    int rc = snr && ser && errs && text ? AL_OK : AL_FAIL(AL_ENOMEM, "no memory");
    size_t len = 0;
    if (rc == AL_OK)
        len += (size_t)sprintf(text, "snr_db,ser,messages,errors\n");
    for (unsigned i = 0; i < m && rc == AL_OK; i++) {
        uint64_t msgs = 0;
        snr[i] = lo + 0.5 * i;
        /* Ten times the link's budget (the simulation is cheap): its
         * curve must reach below the lowest SER measured over the air. */
        rc = sim_eval(tx, rx, AL_CHAN_AWGN, snr[i], 10 * max_messages, min_errors, seed + i,
                      &msgs, &errs[i]);
        ser[i] = msgs ? (double)errs[i] / (double)msgs : NAN;
        if (rc == AL_OK) {
            len += (size_t)sprintf(text + len, "%.2f,%.6g,%llu,%llu\n", snr[i], ser[i],
                                   (unsigned long long)msgs, (unsigned long long)errs[i]);
            if (ser[i] > 0)
                plot_series_add(sim, snr[i], ser[i]);
        }
    }
    if (rc == AL_OK)
        rc = daemon_write_state(dir, "ser-sim.csv", text);
    /* Only SERs measured with min_errors errors: the curve beyond its
     * last such point is noise. */
    unsigned good = 0;
    while (rc == AL_OK && good < m && errs[good] >= min_errors)
        good++;
    if (rc == AL_OK)
        s_gap(p, n, 0, snr, ser, good, min_errors, &gap->max_gap_db, &gap->mean_gap_db,
              &gap->compared);
    free(snr);
    free(ser);
    free(errs);
    free(text);
    return rc;
}

/* The conventional baseline's closed form over the span of the points
 * (plotted), and the gap of its measured points to it. */
enum { BASE_GRID = 20 };   /* points per dB */
static int s_baseline(const sweep_point *p, unsigned n, unsigned M, unsigned N,
                      uint64_t min_errors, plot_series *curve, char *label, size_t label_len,
                      sweep_gap *gap)
{
    unsigned bits = al_qam_bits_for_rate(M, N);
    if (bits == 0)
        return AL_OK;
    al_qam_t *qam = al_qam_create(bits, N);
    if (qam == NULL)
        return AL_EINVAL;
    const double lo = floor(p[0].snr_db) - 1, hi = ceil(p[n - 1].snr_db) + 1;
    unsigned m = (unsigned)lround((hi - lo) * BASE_GRID) + 1;
    double *snr = malloc(sizeof(double) * m), *ser = malloc(sizeof(double) * m);
    int rc = snr && ser ? AL_OK : AL_FAIL(AL_ENOMEM, "no memory");
    for (unsigned i = 0; i < m && rc == AL_OK; i++) {
        snr[i] = lo + (double)i / BASE_GRID;
        ser[i] = al_qam_ser_awgn(qam, snr[i]);
        if (i % (BASE_GRID / 4) == 0)
            plot_series_add(curve, snr[i], ser[i]);
    }
    if (rc == AL_OK)
        s_gap(p, n, 1, snr, ser, m, min_errors, &gap->baseline_max_gap_db,
              &gap->baseline_mean_gap_db, &gap->baseline_compared);
    snprintf(label, label_len, "%u x %s, closed form", N, al_qam_name(qam));
    free(snr);
    free(ser);
    al_qam_destroy(&qam);
    return rc;
}

int sweep_report(const char *dir, const char *title, const sweep_point *points, unsigned n,
                 tx_net_t *tx, rx_net_t *rx, uint64_t max_messages, uint64_t min_errors,
                 uint64_t seed, sweep_gap *gap)
{
    *gap = (sweep_gap){.max_gap_db = NAN, .mean_gap_db = NAN, .baseline_max_gap_db = NAN,
                       .baseline_mean_gap_db = NAN};
    sweep_point *p = malloc(sizeof *p * (n ? n : 1));
    if (p == NULL)
        return AL_FAIL(AL_ENOMEM, "no memory");
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (points[i].messages > 0 && isfinite(points[i].snr_db))
            p[k++] = points[i];
    qsort(p, k, sizeof *p, s_cmp_snr);
    const tx_net_config *tc = tx_net_get_config(tx);
    char base_label[64] = "", ota_base_label[80] = "";
    plot_series s[4] = {{.label = "over the air, learned"},
                        {.label = "airlearn sim, same networks (AWGN)"},
                        {.label = ota_base_label},
                        {.label = base_label}};
    int rc = AL_OK;
    for (unsigned i = 0; i < k; i++) {
        if (p[i].errors > 0)
            plot_series_add(&s[0], p[i].snr_db, (double)p[i].errors / (double)p[i].messages);
        if (p[i].errors_baseline > 0)
            plot_series_add(&s[2], p[i].snr_db,
                            (double)p[i].errors_baseline / (double)p[i].messages_baseline);
    }
    if (rx != NULL && k > 0)
        rc = s_reference(dir, p, k, tx, rx, max_messages, min_errors, seed, &s[1], gap);
    if (rc == AL_OK && k > 0)
        rc = s_baseline(p, k, tc->M, tc->N, min_errors, &s[3], base_label, sizeof base_label,
                        gap);
    snprintf(ota_base_label, sizeof ota_base_label, "over the air, %s", base_label);
    char *cut = strstr(ota_base_label, ", closed form");
    if (cut != NULL)
        *cut = '\0';
    if (rc == AL_OK) {
        char path[700];
        snprintf(path, sizeof path, "%s/ser-ota.svg", dir);
        plot_series drawn[4];
        unsigned nd = 0;
        for (int i = 0; i < 4; i++)
            if (s[i].n > 0)
                drawn[nd++] = s[i];
        rc = plot_lines(path, title, "Es/N0 measured at the receiver, dB", "SER", drawn, nd, 1);
    }
    for (int i = 0; i < 4; i++)
        plot_series_free(&s[i]);
    free(p);
    return rc;
}

int sweep_compare(const daemon_config *tcfg, const daemon_config *rcfg, const char *out,
                  const char *title, uint64_t seed, sweep_gap *gap)
{
    *gap = (sweep_gap){.max_gap_db = NAN, .mean_gap_db = NAN, .baseline_max_gap_db = NAN,
                       .baseline_mean_gap_db = NAN};
    if (rcfg->receiver != RX_KIND_AWGN)
        return AL_FAIL(AL_EINVAL, "the sweep's comparison with the simulation needs the AWGN "
                                  "receiver");
    char path[600];
    snprintf(path, sizeof path, "%s/ser-ota.csv", tcfg->state_dir);
    sweep_point *points = malloc(sizeof *points * SWEEP_MAX_POINTS);
    if (points == NULL)
        return AL_FAIL(AL_ENOMEM, "no memory");
    unsigned n = 0;
    int rc = sweep_read_csv(path, points, SWEEP_MAX_POINTS, &n);
    /* The architectures of cmd_tx and cmd_rx: a checkpoint of another
     * one does not load. */
    tx_net_config txc = tx_net_config_default(tcfg->M, tcfg->N);
    txc.hidden = tcfg->tx_hidden ? tcfg->tx_hidden : tcfg->M;
    rx_net_config rxc = rx_net_config_default(rcfg->M, rcfg->N, RX_KIND_AWGN);
    rxc.hidden = rcfg->rx_hidden ? rcfg->rx_hidden : rcfg->M;
    /* sim_eval decides in batches of up to 4096 messages (sim.h). */
    rxc.max_batch = 4096;
    tx_net_t *tx = rc == AL_OK ? tx_net_create(&txc) : NULL;
    rx_net_t *rx = rc == AL_OK ? rx_net_create(&rxc) : NULL;
    uint8_t extra[4096];   /* the TX's schedule state, not needed here */
    uint32_t extra_len = 0;
    if (rc == AL_OK && (tx == NULL || rx == NULL))
        rc = AL_EINVAL;
    if (rc == AL_OK) {
        snprintf(path, sizeof path, "%s/tx.ckpt", tcfg->state_dir);
        rc = al_model_load(tx_net_model(tx), path, extra, sizeof extra, &extra_len);
    }
    if (rc == AL_OK)
        rc = tx_net_rebuild(tx);
    if (rc == AL_OK) {
        snprintf(path, sizeof path, "%s/rx.ckpt", rcfg->state_dir);
        rc = al_model_load(rx_net_model(rx), path, NULL, 0, NULL);
    }
    if (rc == AL_OK)
        rc = sweep_report(out, title, points, n, tx, rx, tcfg->sweep_max_messages,
                          tcfg->sweep_min_errors, seed, gap);
    tx_net_destroy(&tx);
    rx_net_destroy(&rx);
    free(points);
    return rc;
}

#include "rx_detect.h"

#include "al_error.h"

#include <fftw3.h>
#include <liquid/liquid.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The least energy of a window's products relative to the whole block's:
 * 120 dB, 60 dB in signal power. The float FFT's rounding made windows
 * from 68 to 88 dB below a -12 dBFS neighbour in the same block cross the
 * threshold; an 8-bit ADC spans 48 dB. */
#define ENERGY_FLOOR 1e-12

struct rx_detect {
    unsigned k;             /* lag of the products: one symbol */
    unsigned T;             /* length of the template's products */
    unsigned nfft;          /* correlation block */
    unsigned V;             /* valid correlation outputs per block: nfft - T + 1 */
    unsigned D;             /* outputs decided per block; the rest is look-ahead */
    float thr2;             /* threshold, squared */
    double Ed;              /* energy of the template's products */
    float complex *raw;     /* [k + nfft]: k samples of history, then the window */
    unsigned fill;          /* window samples held */
    int stale;              /* the history is a reported frame's: clear it before use */
    float complex *z;       /* lag products of the window [nfft] (FFT input) */
    float complex *Z;       /* their spectrum [nfft] */
    float complex *c;       /* correlation [nfft] (inverse FFT output) */
    float complex *H;       /* conjugate spectrum of the template [nfft] */
    float complex *s;       /* the shaped preamble [s_len] */
    unsigned s_len;
    double *e;              /* running energy of z [nfft + 1] */
    fftwf_plan fwd, inv;
};

void rx_detect_destroy(rx_detect_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rx_detect_t *q = *self_p;
    if (q->fwd)
        fftwf_destroy_plan(q->fwd);
    if (q->inv)
        fftwf_destroy_plan(q->inv);
    free(q->raw);
    fftwf_free(q->z);
    fftwf_free(q->Z);
    fftwf_free(q->c);
    free(q->H);
    free(q->s);
    free(q->e);
    free(q);
    *self_p = NULL;
}

/* Lag-k products of the shaped preamble, zero-padded to nfft, in H. */
static int s_template(rx_detect_t *q, const float complex *preamble, unsigned L, unsigned m,
                      float beta)
{
    const unsigned k = q->k;
    float complex *s = q->s;
    firinterp_crcf interp = firinterp_crcf_create_prototype(LIQUID_FIRFILT_RRC, k, m, beta, 0);
    if (interp == NULL)
        return AL_FAIL(AL_ENOMEM, "no memory for the detector template");
    for (unsigned i = 0; i < L + 2 * m; i++)
        firinterp_crcf_execute(interp, i < L ? preamble[i] : 0.0f, s + (size_t)i * k);
    firinterp_crcf_destroy(interp);
    memset(q->z, 0, sizeof *q->z * q->nfft);
    q->Ed = 0.0;
    for (unsigned n = 0; n < q->T; n++) {
        q->z[n] = s[n + k] * conjf(s[n]);
        q->Ed += crealf(q->z[n] * conjf(q->z[n]));
    }
    fftwf_execute(q->fwd);
    for (unsigned i = 0; i < q->nfft; i++)
        q->H[i] = conjf(q->Z[i]);
    return AL_OK;
}

rx_detect_t *rx_detect_create(const float complex *preamble, unsigned L, unsigned k, unsigned m,
                              float beta, float threshold)
{
    if (preamble == NULL || L < 8 || k < 2 || m < 1 || !(beta > 0.0f && beta <= 1.0f) ||
        !(threshold > 0.0f && threshold < 1.0f)) {
        AL_FAIL(AL_EINVAL, "bad detector settings (L=%u k=%u m=%u beta=%g threshold=%g)", L, k, m,
                beta, threshold);
        return NULL;
    }
    rx_detect_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    q->k = k;
    q->s_len = (L + 2 * m) * k;
    q->T = q->s_len - k;
    q->nfft = 64;
    while (q->nfft < 2 * q->T)
        q->nfft *= 2;
    q->V = q->nfft - q->T + 1;
    q->D = q->V - 1 - 2 * k;
    q->thr2 = threshold * threshold;
    q->raw = calloc(k + q->nfft, sizeof *q->raw);
    q->z = fftwf_alloc_complex(q->nfft);
    q->Z = fftwf_alloc_complex(q->nfft);
    q->c = fftwf_alloc_complex(q->nfft);
    q->H = calloc(q->nfft, sizeof *q->H);
    q->e = calloc(q->nfft + 1, sizeof *q->e);
    q->s = calloc(q->s_len, sizeof *q->s);
    if (q->raw && q->z && q->Z && q->c && q->H && q->e && q->s) {
        /* FFTW_ESTIMATE: the same plan every time, hence the same
         * arithmetic and bit-identical results from run to run. */
        q->fwd = fftwf_plan_dft_1d((int)q->nfft, q->z, q->Z, FFTW_FORWARD, FFTW_ESTIMATE);
        q->inv = fftwf_plan_dft_1d((int)q->nfft, q->Z, q->c, FFTW_BACKWARD, FFTW_ESTIMATE);
    }
    if (!q->fwd || !q->inv) {
        rx_detect_destroy(&q);
        AL_FAIL(AL_ENOMEM, "cannot create the detector");
        return NULL;
    }
    if (s_template(q, preamble, L, m, beta) < 0) {
        rx_detect_destroy(&q);
        return NULL;
    }
    return q;
}

void rx_detect_reset(rx_detect_t *q)
{
    memset(q->raw, 0, sizeof *q->raw * q->k);
    q->fill = 0;
    q->stale = 0;
}

unsigned rx_detect_max_result(const rx_detect_t *q)
{
    return q->k + q->nfft;
}

/* Normalised statistic at output t, in [0, 1]. */
static float s_metric(const rx_detect_t *q, unsigned t)
{
    const double ez = q->e[t + q->T] - q->e[t];
    if (!(ez > 0.0))
        return 0.0f;
    const float complex c = q->c[t];
    return (float)(crealf(c * conjf(c)) / ((double)q->nfft * q->nfft * q->Ed * ez));
}

/* Correlates the full window; returns the peak's output index or -1. */
static int s_block(rx_detect_t *q)
{
    const unsigned k = q->k;
    q->e[0] = 0.0;
    for (unsigned i = 0; i < q->nfft; i++) {
        const float complex z = q->raw[k + i] * conjf(q->raw[i]);
        q->z[i] = z;
        q->e[i + 1] = q->e[i] + crealf(z * conjf(z));
    }
    fftwf_execute(q->fwd);
    for (unsigned i = 0; i < q->nfft; i++)
        q->Z[i] *= q->H[i];
    fftwf_execute(q->inv);
    /* The energy test first: it is cheaper than the statistic. A window
     * needs real energy: none at all (exact zeros, as 8-bit samples give
     * at low gain) makes the test 0 < 0 pass, and energy at the level of
     * the rounding of the block's FFT (float) and running sum (double) is
     * noise of the arithmetic, not of the channel. */
    const double scale = (double)q->nfft * q->nfft * q->Ed * q->thr2;
    const double floor = q->e[q->nfft] * ENERGY_FLOOR;
    for (unsigned t = 1; t <= q->D; t++) {
        const float complex c = q->c[t];
        const double ez = q->e[t + q->T] - q->e[t];
        if (!(ez > floor) || crealf(c * conjf(c)) < scale * ez)
            continue;
        unsigned best = t;
        float best_v = s_metric(q, t);
        for (unsigned u = t + 1; u <= t + 2 * k && u + 1 < q->V; u++) {
            const float v = s_metric(q, u);
            if (v > best_v) {
                best_v = v;
                best = u;
            }
        }
        return (int)best;
    }
    return -1;
}

/* The lag-k estimate of the carrier offset is coarse (its noise is that
 * of a product of two noisy samples); with the preamble found, strip it
 * from the window and estimate what remains over lags 1..4k (Luise and
 * Reggiannini), which is unambiguous to pi/(4k+1) rad/sample, then over
 * half the preamble. The carrier
 * phase at the preamble's first sample follows from the same products. */
/* y[i] = x[i] e^{-j w i}, i < n, by a rotating phasor (no sin/cos per sample). */
static void s_derotate(const float complex *x, float complex *y, unsigned n, float w)
{
    const double complex rot = cexp(-I * (double)w);
    double complex v = 1.0;
    for (unsigned i = 0; i < n; i++, v *= rot)
        y[i] = x[i] * (float complex)v;
}

static void s_refine(rx_detect_t *q, rx_detect_result *res, float dphi)
{
    const unsigned lags = 4 * q->k, n = res->len < q->s_len ? res->len : q->s_len;
    float complex *u = q->z, *v = q->c; /* free until the next block */
    for (unsigned i = 0; i < n; i++)
        v[i] = res->buf[i] * conjf(q->s[i]);
    s_derotate(v, u, n, dphi);
    float complex r = 0.0f;
    for (unsigned l = 1; l <= lags; l++)
        for (unsigned i = 0; i + l < n; i++)
            r += u[i + l] * conjf(u[i]);
    float fine = cargf(r) / ((float)(lags + 1) / 2.0f);
    /* Then the phase advance between the two halves: a lag of n/2, far
     * more precise, and unambiguous for what the short lags leave. */
    s_derotate(v, u, n, dphi + fine);
    const unsigned h = n / 2;
    float complex a = 0.0f, b = 0.0f;
    for (unsigned i = 0; i < h; i++) {
        a += u[i];
        b += u[i + h];
    }
    const float half = cargf(b * conjf(a)) / (float)h;
    /* The phase at the middle of the preamble, carried back to buf[0]. */
    res->dphi = dphi + fine + half;
    res->phi = cargf(a + b) - half * ((float)(n - 1) / 2.0f);
}

size_t rx_detect_execute(rx_detect_t *q, const float complex *x, size_t n, int *found,
                         rx_detect_result *res)
{
    *found = 0;
    if (q->stale)
        rx_detect_reset(q);
    size_t used = 0;
    while (used < n) {
        size_t take = q->nfft - q->fill;
        if (take > n - used)
            take = n - used;
        memcpy(q->raw + q->k + q->fill, x + used, sizeof *x * take);
        q->fill += (unsigned)take;
        used += take;
        if (q->fill < q->nfft)
            break;
        const int t = s_block(q);
        if (t < 0) {
            memmove(q->raw, q->raw + q->D, sizeof *q->raw * (q->k + q->nfft - q->D));
            q->fill = q->nfft - q->D;
            continue;
        }
        /* Parabola through the square roots of the statistic (the
         * amplitudes): the vertex is the fractional timing. */
        const float ym = sqrtf(s_metric(q, (unsigned)t - 1)), y0 = sqrtf(s_metric(q, (unsigned)t)),
                    yp = sqrtf(s_metric(q, (unsigned)t + 1));
        const float a = 0.5f * (yp + ym) - y0, b = 0.5f * (yp - ym);
        float tau = a < 0.0f ? -b / (2.0f * a) : 0.0f;
        tau = tau > 0.5f ? 0.5f : tau < -0.5f ? -0.5f : tau;
        /* Output t pairs z[t + n] = x[t + k + n] conj(x[t + n]) with the
         * template's s[n + k] conj(s[n]): the preamble starts at window
         * sample t - k, which is raw[t]. */
        *found = 1;
        res->buf = q->raw + t;
        res->len = q->k + q->nfft - (unsigned)t;
        res->tau = tau;
        s_refine(q, res, cargf(q->c[t]) / (float)q->k);
        res->rho = y0;
        /* The window stays readable through res->buf until the next call. */
        q->fill = 0;
        q->stale = 1;
        return used;
    }
    return used;
}

#include "airsim_chan.h"

#include "al_error.h"
#include "al_rng.h"

#include <liquid/liquid.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    FDELAY_M = 8,         /* filter semi-length: 8 samples of latency */
    FDELAY_NPFB = 1024,   /* delay resolution 1/1024 sample */
    SOS_TERMS = 16,       /* sinusoids of the Rayleigh fading model */
    FADE_STEP = 16,       /* fading evaluated every 16 samples, linear between */
    RESAMP_M = AIRSIM_CHAN_RESAMP_M,
    RESAMP_P = 1024,      /* kernel phases: positions rounded to 1/1024 sample */
    PN_CHUNK = 256,
};

/* Kaiser window shape: about 63 dB of sidelobe attenuation (Kaiser's
 * formula A = beta / 0.1102 + 8.7). */
#define RESAMP_BETA 6.0

struct airsim_chan_s {
    airsim_config cfg;
    double rate;
    channel_cccf ch;           /* multipath and carrier offset; NULL if neither */
    fdelay_crcf fd;            /* fractional delay; NULL if integer */
    int64_t int_delay;
    float gain;
    float noise_std;           /* per real dimension */
    al_rng_t noise_rng;
    al_rng_t fade_rng;
    float complex h_block;
    /* Sum-of-sinusoids Rayleigh model (Zheng and Xiao): per term the
     * Doppler shift of the arrival angle and two random phases. */
    double sos_w_i[SOS_TERMS], sos_w_q[SOS_TERMS];
    double sos_phi[SOS_TERMS], sos_psi[SOS_TERMS];
    /* RF front end */
    float *kernel;             /* RESAMP_P + 1 rows of 2 RESAMP_M taps */
    double e_rx;               /* oscillator error, ppm 1e-6 */
    double lo_w;               /* rad/sample: the RX oscillator's carrier offset */
    double lo_phase;
    double pn_std;             /* rad per sample: Wiener phase-noise step */
    al_rng_t pn_rng;
    float pn_steps[PN_CHUNK];  /* phase-noise steps, drawn PN_CHUNK at a time */
    int iq;
    float complex iq_mu, iq_nu;
    float complex dc;
};

/* Modified Bessel function I0 by its power series (converges for the
 * window's arguments, at most RESAMP_BETA). */
static double s_i0(double x)
{
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 40; k++) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
    }
    return sum;
}

/* Row p: taps h(m - p/P) for m = -M+1 .. M, h a Kaiser-windowed sinc,
 * each row scaled to unit sum so that DC passes unchanged at every phase. */
static void s_make_kernel(float *kernel)
{
    for (int p = 0; p <= RESAMP_P; p++) {
        float *row = kernel + (size_t)p * 2 * RESAMP_M;
        double taps[2 * RESAMP_M], sum = 0.0;
        for (int m = -RESAMP_M + 1; m <= RESAMP_M; m++) {
            double d = m - (double)p / RESAMP_P;
            double r = d / RESAMP_M;
            double w = fabs(r) < 1.0 ? s_i0(RESAMP_BETA * sqrt(1.0 - r * r)) / s_i0(RESAMP_BETA)
                                     : 0.0;
            double sinc = d == 0.0 ? 1.0 : sin(M_PI * d) / (M_PI * d);
            taps[m + RESAMP_M - 1] = sinc * w;
            sum += sinc * w;
        }
        for (int i = 0; i < 2 * RESAMP_M; i++)
            row[i] = (float)(taps[i] / sum);
    }
}

static float complex s_sos(const airsim_chan_t *q, int64_t t)
{
    double re = 0.0, im = 0.0;
    for (int i = 0; i < SOS_TERMS; i++) {
        re += cos(q->sos_w_i[i] * (double)t + q->sos_phi[i]);
        im += cos(q->sos_w_q[i] * (double)t + q->sos_psi[i]);
    }
    return (float)(re / sqrt(SOS_TERMS)) + I * (float)(im / sqrt(SOS_TERMS));
}

static void s_seed(airsim_chan_t *q)
{
    al_rng_seed_stream(&q->noise_rng, q->cfg.seed, 1);
    al_rng_seed_stream(&q->fade_rng, q->cfg.seed, 2);
    double wd = 2.0 * M_PI * q->cfg.doppler_hz / q->rate;
    double theta = 2.0 * M_PI * al_rng_uniform(&q->fade_rng) - M_PI;
    for (int i = 0; i < SOS_TERMS; i++) {
        double alpha = (2.0 * M_PI * (i + 1) - M_PI + theta) / (4.0 * SOS_TERMS);
        q->sos_w_i[i] = wd * cos(alpha);
        q->sos_w_q[i] = wd * sin(alpha);
        q->sos_phi[i] = 2.0 * M_PI * al_rng_uniform(&q->fade_rng) - M_PI;
        q->sos_psi[i] = 2.0 * M_PI * al_rng_uniform(&q->fade_rng) - M_PI;
    }
    q->h_block = 1.0f;
    al_rng_seed_stream(&q->pn_rng, q->cfg.seed, 3);
    q->lo_phase = 0.0;
}

static int s_make_liquid(airsim_chan_t *q)
{
    const airsim_config *c = &q->cfg;
    if (c->ntaps > 0 || c->cfo_hz != 0.0 || c->phase != 0.0) {
        q->ch = channel_cccf_create();
        if (q->ch == NULL)
            return AL_FAIL(AL_ENOMEM, "cannot create the liquid channel");
        if (c->ntaps > 0) {
            float complex h[AIRSIM_MAX_TAPS];
            for (unsigned i = 0; i < c->ntaps; i++)
                h[i] = c->taps[2 * i] + I * c->taps[2 * i + 1];
            channel_cccf_add_multipath(q->ch, h, c->ntaps);
        }
        if (c->cfo_hz != 0.0 || c->phase != 0.0)
            channel_cccf_add_carrier_offset(q->ch, (float)(2.0 * M_PI * c->cfo_hz / q->rate),
                                            (float)c->phase);
    }
    double frac = c->delay - floor(c->delay);
    if (frac > 0.0) {
        q->fd = fdelay_crcf_create(1, FDELAY_M, FDELAY_NPFB);
        if (q->fd == NULL)
            return AL_FAIL(AL_ENOMEM, "cannot create the fractional delay");
        fdelay_crcf_set_delay(q->fd, (float)frac);
    }
    return AL_OK;
}

airsim_chan_t *airsim_chan_create(const airsim_config *cfg, double rate)
{
    if (!(rate > 0.0) || !isfinite(rate)) {
        AL_FAIL(AL_EINVAL, "sample rate %g is not positive", rate);
        return NULL;
    }
    if (fabs(cfg->cfo_hz) >= rate / 2.0) {
        AL_FAIL(AL_EINVAL, "cfo %g Hz is not within +-rate/2 (rate %g)", cfg->cfo_hz, rate);
        return NULL;
    }
    if (cfg->doppler_hz >= rate / (4.0 * FADE_STEP)) {
        AL_FAIL(AL_EINVAL, "doppler %g Hz is too fast for rate %g (max rate/%d)",
                cfg->doppler_hz, rate, 4 * FADE_STEP);
        return NULL;
    }
    airsim_chan_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    q->cfg = *cfg;
    q->rate = rate;
    q->int_delay = (int64_t)floor(cfg->delay);
    q->gain = (float)pow(10.0, cfg->gain_db / 20.0);
    q->noise_std = (float)sqrt(cfg->noise_power / 2.0);
    q->e_rx = cfg->ppm * 1e-6;
    /* Wiener phase noise: a Lorentzian of full width dv at half maximum
     * is a phase whose increments over tau have variance 2 pi dv tau. */
    q->pn_std = sqrt(2.0 * M_PI * cfg->phase_noise_hz / rate);
    /* Q = g (cos phi Q_in - sin phi I_in), I unchanged:
     * y = mu x + nu conj(x), mu = (1 + g e^-j phi)/2, nu = (1 - g e^j phi)/2. */
    if (cfg->iq_gain_db != 0.0 || cfg->iq_phase_deg != 0.0) {
        double g = pow(10.0, cfg->iq_gain_db / 20.0), phi = cfg->iq_phase_deg * M_PI / 180.0;
        q->iq = 1;
        q->iq_mu = (float complex)((1.0 + g * cexp(-I * phi)) / 2.0);
        q->iq_nu = (float complex)((1.0 - g * cexp(I * phi)) / 2.0);
    }
    /* LO leakage at a fixed phase of 45 degrees (equal in I and Q). */
    if (cfg->have_dc)
        q->dc = (float complex)(pow(10.0, cfg->dc_dbc / 20.0) * cexp(I * M_PI / 4.0));
    q->kernel = malloc((size_t)(RESAMP_P + 1) * 2 * RESAMP_M * sizeof *q->kernel);
    if (q->kernel == NULL) {
        AL_FAIL(AL_ENOMEM, "out of memory");
        airsim_chan_destroy(&q);
        return NULL;
    }
    s_make_kernel(q->kernel);
    if (s_make_liquid(q) != 0) {
        airsim_chan_destroy(&q);
        return NULL;
    }
    s_seed(q);
    return q;
}

void airsim_chan_destroy(airsim_chan_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    airsim_chan_t *q = *self_p;
    *self_p = NULL;
    if (q->ch)
        channel_cccf_destroy(q->ch);
    if (q->fd)
        fdelay_crcf_destroy(q->fd);
    free(q->kernel);
    free(q);
}

void airsim_chan_reset(airsim_chan_t *q)
{
    /* liquid has no channel_cccf_reset: rebuild the stateful parts. */
    if (q->ch)
        channel_cccf_destroy(q->ch);
    if (q->fd)
        fdelay_crcf_destroy(q->fd);
    q->ch = NULL;
    q->fd = NULL;
    (void)s_make_liquid(q);   /* succeeded once with the same settings */
    s_seed(q);
}

unsigned airsim_chan_latency(const airsim_chan_t *q)
{
    return q->fd ? FDELAY_M : 0;
}

int64_t airsim_chan_int_delay(const airsim_chan_t *q)
{
    return q->int_delay;
}

void airsim_chan_burst(airsim_chan_t *q, float complex *x, unsigned n, int64_t t0,
                       int first_of_burst)
{
    switch (q->cfg.fading) {
    case AIRSIM_FADING_BLOCK: {
        if (first_of_burst) {
            float re, im;
            al_rng_cnormal(&q->fade_rng, 1.0, &re, &im);
            q->h_block = re + I * im;
        }
        float complex g = q->gain * q->h_block;
        for (unsigned i = 0; i < n; i++)
            x[i] *= g;
        break;
    }
    case AIRSIM_FADING_RAYLEIGH: {
        /* The model is a function of absolute time, so bursts and block
         * boundaries see one continuous fading process. */
        unsigned i = 0;
        while (i < n) {
            int64_t t = t0 + i;
            int64_t a = t - (t % FADE_STEP + FADE_STEP) % FADE_STEP;
            float complex ha = s_sos(q, a), hb = s_sos(q, a + FADE_STEP);
            unsigned k = (unsigned)(t - a);
            for (; k < FADE_STEP && i < n; k++, i++) {
                float w = (float)k / FADE_STEP;
                x[i] *= q->gain * ((1.0f - w) * ha + w * hb);
            }
        }
        break;
    }
    default:
        if (q->gain != 1.0f)
            for (unsigned i = 0; i < n; i++)
                x[i] *= q->gain;
        break;
    }
}

void airsim_chan_stream(airsim_chan_t *q, const float complex *x, float complex *y, unsigned n)
{
    if (q->ch)
        channel_cccf_execute_block(q->ch, (float complex *)x, n, y);
    else if (y != x)
        memmove(y, x, (size_t)n * sizeof *y);
    if (q->fd)
        fdelay_crcf_execute_block(q->fd, y, n, y);
    if (q->noise_std > 0.0f)
        al_rng_add_normalf(&q->noise_rng, (float *)y, 2 * n, q->noise_std);
    if (q->lo_w != 0.0 || q->pn_std > 0.0) {
        for (unsigned done = 0; done < n;) {
            unsigned m = n - done < PN_CHUNK ? n - done : PN_CHUNK;
            if (q->pn_std > 0.0) {   /* the project's bulk float normals */
                memset(q->pn_steps, 0, m * sizeof q->pn_steps[0]);
                al_rng_add_normalf(&q->pn_rng, q->pn_steps, m, (float)q->pn_std);
            }
            for (unsigned i = 0; i < m; i++) {
                /* The phase accumulates in double: a float would lose the
                 * slow CFO's increments next to pi. */
                q->lo_phase += q->lo_w + (q->pn_std > 0.0 ? q->pn_steps[i] : 0.0f);
                if (q->lo_phase > M_PI)
                    q->lo_phase -= 2.0 * M_PI;
                else if (q->lo_phase < -M_PI)
                    q->lo_phase += 2.0 * M_PI;
                float s, c;
                sincosf((float)q->lo_phase, &s, &c);
                y[done + i] *= c + I * s;
            }
            done += m;
        }
    }
    if (q->iq)
        for (unsigned i = 0; i < n; i++)
            y[i] = q->iq_mu * y[i] + q->iq_nu * conjf(y[i]);
    if (q->dc != 0.0f)
        for (unsigned i = 0; i < n; i++)
            y[i] += q->dc;
}

void airsim_chan_set_frequency(airsim_chan_t *q, double freq)
{
    /* Down-conversion by an LO at f (1 + e_rx), seen on samples taken at
     * rate (1 + e_rx): the RX's part of the carrier offset. */
    q->lo_w = -2.0 * M_PI * q->e_rx * freq / (q->rate * (1.0 + q->e_rx));
}

double airsim_chan_clock_ratio(const airsim_chan_t *q, double ppm_tx)
{
    if (ppm_tx == q->cfg.ppm)
        return 1.0;   /* exactly: equal clocks need no resampling */
    return (1.0 + q->e_rx) / (1.0 + ppm_tx * 1e-6);
}

void airsim_chan_tx_carrier(const airsim_chan_t *q, float complex *x, unsigned n, int64_t t,
                            double ppm_tx, double freq_tx)
{
    if (ppm_tx == 0.0 || freq_tx == 0.0)
        return;
    /* The TX's LO is e_tx f_tx off; its sample t goes out at t / (rate (1 + e_tx)).
     * The phase is a function of TX time: one coherent carrier across bursts. */
    double e = ppm_tx * 1e-6;
    double w = 2.0 * M_PI * e * freq_tx / (q->rate * (1.0 + e));
    double complex p = cexp(I * fmod(w * (double)t, 2.0 * M_PI)), step = cexp(I * w);
    for (unsigned i = 0; i < n; i++) {
        x[i] *= (float complex)p;
        p *= step;
    }
}

void airsim_chan_scatter(const airsim_chan_t *q, const float complex *x, unsigned n, int64_t k0,
                         double frac, double ratio, float complex *ring, int64_t mask,
                         int64_t k_min)
{
    /* The kernel is not stretched by the ratio: at |ppm| <= 1000 per board
     * its width is off by 0.2 % at most. */
    for (unsigned i = 0; i < n; i++) {
        double u = frac + (double)i * ratio;
        double j = floor(u);
        long p = (long)((u - j) * RESAMP_P + 0.5);   /* u - j >= 0: rounds */
        const float *row = q->kernel + (size_t)p * 2 * RESAMP_M;
        int64_t base = k0 + (int64_t)j - RESAMP_M + 1;
        if (base >= k_min && (base & mask) + 2 * RESAMP_M <= mask + 1) {
            /* The common case, contiguous: a loop the compiler vectorizes. */
            float complex *out = ring + (base & mask);
            for (int m = 0; m < 2 * RESAMP_M; m++)
                out[m] += x[i] * row[m];
            continue;
        }
        int m0 = base >= k_min                  ? 0
                 : k_min - base < 2 * RESAMP_M ? (int)(k_min - base)
                                               : 2 * RESAMP_M;
        for (int m = m0; m < 2 * RESAMP_M; m++)
            ring[(base + m) & mask] += x[i] * row[m];
    }
}

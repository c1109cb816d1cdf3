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
};

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
};

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
}

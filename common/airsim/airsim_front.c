#include "airsim_front.h"

#include "al_error.h"
#include "al_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct airsim_front_s {
    uint64_t seed;
    int thermal;               /* hackrf, b2x0: receiver noise and levels */
    double noise_var;          /* thermal noise, channel units */
    double level_db;           /* tx_dbm - fs_dbm: channel units to full scale */
    float amp;                 /* channel units to ADC full scale, gain included */
    int levels;                /* L = 2^(bits-1) - 1; 0: no quantization */
    unsigned bits;
    al_rng_t rng;
};

airsim_front_t *airsim_front_create(const airsim_config *cfg, double rate)
{
    if (!(rate > 0.0) || !isfinite(rate)) {
        AL_FAIL(AL_EINVAL, "sample rate %g is not positive", rate);
        return NULL;
    }
    airsim_front_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "out of memory");
        return NULL;
    }
    q->seed = cfg->seed;
    q->thermal = cfg->profile != AIRSIM_PROFILE_IDEAL;
    q->bits = cfg->adc_bits;
    q->levels = cfg->adc_bits > 0 ? (1 << (cfg->adc_bits - 1)) - 1 : 0;
    if (q->thermal) {
        double ktbf_dbm = -174.0 + 10.0 * log10(rate) + cfg->nf_db;
        q->noise_var = pow(10.0, (ktbf_dbm - cfg->tx_dbm) / 10.0);
        q->level_db = cfg->tx_dbm - cfg->fs_dbm;
    }
    airsim_front_set_gain(q, 0.0);
    airsim_front_reset(q);
    return q;
}

void airsim_front_destroy(airsim_front_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free(*self_p);
    *self_p = NULL;
}

void airsim_front_reset(airsim_front_t *q)
{
    /* A stream of its own: the channel's noise uses the seed itself. */
    al_rng_seed_stream(&q->rng, q->seed, 0x66726f6e74ULL);
}

void airsim_front_set_gain(airsim_front_t *q, double db)
{
    q->amp = (float)pow(10.0, (q->level_db + db) / 20.0);
}

static int16_t s_to_s16(float v)
{
    float s = v * 32767.0f;
    if (s > 32767.0f)
        return 32767;
    if (s < -32767.0f)
        return -32767;
    return (int16_t)lrintf(s);
}

static int s_quantize(float v, int levels)
{
    float s = v * (float)levels;
    if (s >= (float)levels)
        return levels;
    if (s <= (float)(-levels - 1))
        return -levels - 1;
    return (int)lrintf(s);
}

static int8_t s_to_s8(float v)
{
    return (int8_t)s_quantize(v, 127);
}

void airsim_front_rx(airsim_front_t *q, float complex *x, void *out, airsim_format fmt,
                     unsigned n)
{
    if (q->thermal)
        for (unsigned i = 0; i < n; i++) {
            float re, im;
            al_rng_cnormal(&q->rng, q->noise_var, &re, &im);
            x[i] += re + I * im;
        }
    if (q->amp != 1.0f)
        for (unsigned i = 0; i < n; i++)
            x[i] *= q->amp;
    if (q->levels > 0) {
        const int L = q->levels;
        const int shift16 = 16 - (int)q->bits;
        for (unsigned i = 0; i < n; i++) {
            int a = s_quantize(crealf(x[i]), L), b = s_quantize(cimagf(x[i]), L);
            if (fmt == AIRSIM_CF32) {
                ((float complex *)out)[i] = (float)a / (float)L + I * ((float)b / (float)L);
            } else if (fmt == AIRSIM_CS16) {
                /* The ADC's bits at the top of the 16-bit word (SoapyHackRF:
                 * int8 << 8; UHD: 12 bits in sc16). */
                int16_t *o = (int16_t *)out + 2 * (size_t)i;
                o[0] = (int16_t)(shift16 >= 0 ? a * (1 << shift16) : a >> -shift16);
                o[1] = (int16_t)(shift16 >= 0 ? b * (1 << shift16) : b >> -shift16);
            } else {
                int8_t *o = (int8_t *)out + 2 * (size_t)i;
                o[0] = (int8_t)(q->bits >= 8 ? a >> (q->bits - 8) : a * (1 << (8 - q->bits)));
                o[1] = (int8_t)(q->bits >= 8 ? b >> (q->bits - 8) : b * (1 << (8 - q->bits)));
            }
        }
        return;
    }
    if (fmt == AIRSIM_CF32) {
        memcpy(out, x, (size_t)n * sizeof *x);
    } else if (fmt == AIRSIM_CS16) {
        int16_t *o = out;
        for (unsigned i = 0; i < n; i++) {
            o[2 * i] = s_to_s16(crealf(x[i]));
            o[2 * i + 1] = s_to_s16(cimagf(x[i]));
        }
    } else {
        int8_t *o = out;
        for (unsigned i = 0; i < n; i++) {
            o[2 * i] = s_to_s8(crealf(x[i]));
            o[2 * i + 1] = s_to_s8(cimagf(x[i]));
        }
    }
}

/* SoapyHackRF's (int8_t)(x * 127.0): truncation toward zero, and the low
 * 8 bits of the integer when it does not fit (the conversion goes through
 * a 32-bit integer on x86-64 and ARM). */
static float s_hackrf_dac(float v)
{
    double t = (double)v * 127.0;
    if (!(fabs(t) < 2147483647.0))
        t = 0.0;   /* what cvttsd2si's 0x80000000 leaves in the low byte */
    int32_t w = (int32_t)t;
    return (float)(int8_t)(uint8_t)(uint32_t)w / 127.0f;
}

void airsim_front_tx(int profile, const void *in, airsim_format fmt, float complex *out,
                     unsigned n)
{
    if (profile == AIRSIM_PROFILE_HACKRF) {
        if (fmt == AIRSIM_CF32) {
            const float *s = in;
            for (unsigned i = 0; i < n; i++)
                out[i] = s_hackrf_dac(s[2 * i]) + I * s_hackrf_dac(s[2 * i + 1]);
        } else if (fmt == AIRSIM_CS16) {
            const int16_t *s = in;
            for (unsigned i = 0; i < n; i++)
                out[i] = (float)(int8_t)(s[2 * i] >> 8) / 127.0f +
                         I * ((float)(int8_t)(s[2 * i + 1] >> 8) / 127.0f);
        } else {
            const int8_t *s = in;
            for (unsigned i = 0; i < n; i++)
                out[i] = (float)s[2 * i] / 127.0f + I * ((float)s[2 * i + 1] / 127.0f);
        }
        return;
    }
    if (fmt == AIRSIM_CF32) {
        memcpy(out, in, (size_t)n * sizeof *out);
    } else if (fmt == AIRSIM_CS16) {
        const int16_t *s = in;
        for (unsigned i = 0; i < n; i++)
            out[i] = s[2 * i] / 32767.0f + I * (s[2 * i + 1] / 32767.0f);
    } else {
        const int8_t *s = in;
        for (unsigned i = 0; i < n; i++)
            out[i] = s[2 * i] / 127.0f + I * (s[2 * i + 1] / 127.0f);
    }
}

#include "al_qam.h"

#include "al_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct al_qam {
    unsigned bits, N;
    unsigned bits_i;        /* bits of the in-phase level */
    int levels_i, levels_q; /* 2^bits_i, 2^(bits - bits_i) */
    float d;                /* half the distance between neighbouring levels */
    double d_exact;         /* the same in double, for the closed form */
    char name[16];
};

unsigned al_qam_bits_for_rate(unsigned M, unsigned N)
{
    if (M < 2 || N == 0 || (M & (M - 1)) != 0)
        return 0;
    unsigned log2m = 0;
    while ((1u << log2m) < M)
        log2m++;
    if (log2m % N != 0 || log2m / N > AL_QAM_MAX_BITS)
        return 0;
    return log2m / N;
}

al_qam_t *al_qam_create(unsigned bits, unsigned N)
{
    if (bits < 1 || bits > AL_QAM_MAX_BITS || N == 0 ||
        (unsigned long)bits * N > AL_QAM_MAX_MESSAGE_BITS) {
        AL_FAIL(AL_EINVAL, "no QAM of %u bits per symbol on %u symbols (1..%d bits, %d per message)",
                bits, N, AL_QAM_MAX_BITS, AL_QAM_MAX_MESSAGE_BITS);
        return NULL;
    }
    al_qam_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory for a QAM");
        return NULL;
    }
    q->bits = bits;
    q->N = N;
    q->bits_i = (bits + 1) / 2;
    q->levels_i = 1 << q->bits_i;
    q->levels_q = 1 << (bits - q->bits_i);
    /* L levels at (2j - (L-1)) d have mean square d^2 (L^2 - 1) / 3. Written
     * as 1 / sqrtf(energy) so that QPSK and 16-QAM get exactly the scales
     * 1/sqrt(2) and 1/sqrt(10) the sim's baselines always had. */
    const float e = (float)(q->levels_i * q->levels_i - 1 + q->levels_q * q->levels_q - 1) / 3.0f;
    q->d = 1.0f / sqrtf(e);
    q->d_exact = 1.0 / sqrt((double)e);
    if (bits == 1)
        snprintf(q->name, sizeof q->name, "bpsk");
    else if (bits == 2)
        snprintf(q->name, sizeof q->name, "qpsk");
    else
        snprintf(q->name, sizeof q->name, "%uqam", 1u << bits);
    return q;
}

void al_qam_destroy(al_qam_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free(*self_p);
    *self_p = NULL;
}

unsigned al_qam_bits(const al_qam_t *q) { return q->bits; }
unsigned al_qam_N(const al_qam_t *q) { return q->N; }
const char *al_qam_name(const al_qam_t *q) { return q->name; }

void al_qam_point(const al_qam_t *q, uint32_t v, float *re, float *im)
{
    const int ji = (int)(v & (uint32_t)(q->levels_i - 1));
    const int jq = (int)((v >> q->bits_i) & (uint32_t)(q->levels_q - 1));
    *re = (float)(2 * ji - (q->levels_i - 1)) * q->d;
    *im = (float)(2 * jq - (q->levels_q - 1)) * q->d;
}

/* Nearest level index of one dimension. */
static uint32_t s_slice(float v, int levels, float d)
{
    const float j = rintf((v / d + (float)(levels - 1)) / 2.0f);
    /* Compared as floats: a huge or NaN input must not overflow a cast. */
    if (!(j > 0.0f))
        return 0;
    return j >= (float)(levels - 1) ? (uint32_t)(levels - 1) : (uint32_t)j;
}

uint32_t al_qam_slice(const al_qam_t *q, float re, float im)
{
    return s_slice(re, q->levels_i, q->d) | s_slice(im, q->levels_q, q->d) << q->bits_i;
}

void al_qam_encode(const al_qam_t *q, const uint32_t *msgs, unsigned count, float *x)
{
    const uint32_t mask = (1u << q->bits) - 1;
    for (unsigned m = 0; m < count; m++) {
        float *row = x + (size_t)m * 2 * q->N;
        for (unsigned s = 0; s < q->N; s++)
            al_qam_point(q, (msgs[m] >> (s * q->bits)) & mask, &row[2 * s], &row[2 * s + 1]);
    }
}

void al_qam_decide(const al_qam_t *q, const float *y, unsigned count, uint32_t *dec)
{
    for (unsigned m = 0; m < count; m++) {
        const float *row = y + (size_t)m * 2 * q->N;
        uint32_t v = 0;
        for (unsigned s = 0; s < q->N; s++)
            v |= al_qam_slice(q, row[2 * s], row[2 * s + 1]) << (s * q->bits);
        dec[m] = v;
    }
}

static double s_q(double x)
{
    return 0.5 * erfc(x / sqrt(2.0));
}

/* Error probability of one dimension of L levels, half-distance d, noise
 * variance var per dimension. */
static double s_pam_error(int levels, double d, double var)
{
    return 2.0 * (1.0 - 1.0 / levels) * s_q(d / sqrt(var));
}

double al_qam_ser_awgn(const al_qam_t *q, double snr_db)
{
    const double var = 0.5 * pow(10.0, -snr_db / 10.0);
    const double ok_i = 1.0 - s_pam_error(q->levels_i, q->d_exact, var);
    const double ok_q = 1.0 - s_pam_error(q->levels_q, q->d_exact, var);
    return 1.0 - pow(ok_i * ok_q, (double)q->N);
}

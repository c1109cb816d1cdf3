#include "al_softmax_ce.h"
#include "al_error.h"
#include "al_simd.h"

#include <math.h>
#include <stddef.h>

/* e^x for x <= 0, 16 lanes (a NaN stays NaN). x = n ln2 + r with
 * |r| <= ln2/2; e^r from Cephes' expf polynomial (relative error about
 * 1e-7); 2^n from exponent bits, in two factors so that results below
 * FLT_MIN come out subnormal, as from expf, and results below half the
 * smallest subnormal come out 0. */
AL_SIMD_INLINE void s_exp_nonpos(al_vf *xp)
{
    const al_vf magic = AL_VF_SPLAT(12582912.0f); /* 1.5 * 2^23: rounds to integers */
    const al_vi low = *xp < -104.0f;
    const al_vf x = AL_VF_SELECT(low, AL_VF_SPLAT(-104.0f), *xp);
    const al_vf t = x * 1.44269504089f + magic;
    const al_vf n = t - magic;
    const al_vu ni = (al_vu)t - (al_vu)magic; /* n as a two's complement integer */
    al_vf r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    al_vf p = AL_VF_SPLAT(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* n in [-150, 0]: each half is >= -75, a normal power of two. */
    const al_vu n1 = (al_vu)((al_vi)ni >> 1);
    const al_vu n2 = ni - n1;
    const al_vf s1 = (al_vf)((n1 + 127u) << 23);
    const al_vf s2 = (al_vf)((n2 + 127u) << 23);
    *xp = p * s1 * s2;
}

/* Lanes j .. j+15 of a row of M, past its end -inf. */
AL_SIMD_INLINE void s_load(al_vf *v, const float *z, unsigned j, unsigned M)
{
    if (j + AL_VF_LANES <= M)
        al_vf_load(v, z + j);
    else
        al_vf_load_part(v, z + j, M - j, -INFINITY);
}

/* Row maximum and, when want_arg, the lowest index holding it: each lane
 * keeps the first index of its own maximum, then the lanes are merged. */
AL_SIMD_INLINE float s_row_max(const float *z, unsigned M, int want_arg, uint32_t *arg)
{
    al_vi idx, best_i;
    for (unsigned l = 0; l < AL_VF_LANES; l++)
        idx[l] = (int32_t)l;
    best_i = idx;
    al_vf best;
    s_load(&best, z, 0, M);
    for (unsigned j = AL_VF_LANES; j < M; j += AL_VF_LANES) {
        idx += AL_VF_LANES;
        al_vf v;
        s_load(&v, z, j, M);
        const al_vi m = v > best;
        best = AL_VF_SELECT(m, v, best);
        if (want_arg)
            best_i = (m & idx) | (~m & best_i);
    }
    const float zmax = al_vf_hmax(&best);
    if (want_arg) {
        /* Lanes holding the maximum offer their index, the others M. */
        const al_vi at_max = best == zmax;
        const al_vi offer = (at_max & best_i) | (~at_max & (int32_t)M);
        const uint32_t a = (uint32_t)al_vi_hmin(&offer);
        *arg = a < M ? a : 0; /* a row of NaNs */
    }
    return zmax;
}

/* One row: loss, and g = scale * (softmax - onehot) when g is not NULL
 * (g may be z). The row is read twice while it sits in L1, never from
 * memory again. */
AL_SIMD_INLINE float s_row(const float *z, unsigned M, uint32_t label, float *g, float scale,
                          uint32_t *decision)
{
    const float zmax = s_row_max(z, M, decision != NULL, decision);
    const float z_label = z[label];
    al_vf acc = {0};
    for (unsigned j = 0; j < M; j += AL_VF_LANES) {
        al_vf e;
        s_load(&e, z, j, M);
        e -= zmax;
        s_exp_nonpos(&e);
        acc += e;
        if (g == NULL)
            continue;
        if (j + AL_VF_LANES <= M)
            al_vf_store(g + j, &e);
        else
            al_vf_store_part(g + j, &e, M - j);
    }
    const float sum = al_vf_hsum(&acc);
    if (g != NULL) {
        const float k = scale / sum;
        unsigned j = 0;
        for (; j + AL_VF_LANES <= M; j += AL_VF_LANES) {
            al_vf v;
            al_vf_load(&v, g + j);
            v *= k;
            al_vf_store(g + j, &v);
        }
        for (; j < M; j++)
            g[j] *= k;
        g[label] -= scale;
    }
    return (float)(log((double)sum) + zmax - z_label);
}

AL_VECTOR_CLONES
static void s_rows(const float *z, const uint32_t *labels, unsigned B, unsigned M,
                   float *losses, float *dz, float scale, uint32_t *decisions)
{
    for (unsigned r = 0; r < B; r++) {
        const size_t o = (size_t)r * M;
        const float l = s_row(z + o, M, labels[r], dz != NULL ? dz + o : NULL, scale,
                              decisions != NULL ? decisions + r : NULL);
        if (losses != NULL)
            losses[r] = l;
    }
}

int al_softmax_ce_decide(const float *z, const uint32_t *labels, unsigned B, unsigned M,
                         float *losses, float *dz, float scale, uint32_t *decisions)
{
    if (M == 0)
        return AL_FAIL(AL_EINVAL, "M must be >= 1");
    for (unsigned r = 0; r < B; r++)
        if (labels[r] >= M)
            return AL_FAIL(AL_ERANGE, "label %u at row %u >= M=%u", labels[r], r, M);
    s_rows(z, labels, B, M, losses, dz, scale, decisions);
    return AL_OK;
}

int al_softmax_ce(const float *z, const uint32_t *labels, unsigned B, unsigned M,
                  float *losses, float *dz, float scale)
{
    return al_softmax_ce_decide(z, labels, B, M, losses, dz, scale, NULL);
}

AL_VECTOR_CLONES
void al_argmax_rows(const float *z, unsigned B, unsigned M, uint32_t *out)
{
    for (unsigned r = 0; r < B; r++)
        s_row_max(z + (size_t)r * M, M, 1, out + r);
}

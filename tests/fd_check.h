/* Finite-difference gradient checking shared by the numeric tests.
 *
 * The networks run in float32, so the check uses central differences with
 * a step large enough to stay above float rounding and compares whole
 * gradient vectors: rel = |num - ana| / max(|num|, |ana|, floor), over a
 * deterministic sample of coordinates. A wrong sign, a missing factor or a
 * transposed index gives rel ~ 1; float32 noise gives rel ~ 1e-3.
 */
#ifndef FD_CHECK_H
#define FD_CHECK_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "al_rng.h"

/* Scalar loss as a function of whatever the caller perturbs. */
typedef double (*fd_loss_fn)(void *ctx);

/* Numerical gradient of loss(ctx) with respect to x[idx], x being float
 * storage that loss() reads. */
static inline double fd_partial(fd_loss_fn loss, void *ctx, float *x, size_t idx, float h)
{
    const float saved = x[idx];
    x[idx] = saved + h;
    const double lp = loss(ctx);
    x[idx] = saved - h;
    const double lm = loss(ctx);
    x[idx] = saved;
    /* The step actually taken, after float rounding of saved +- h. */
    const double step = (double)(saved + h) - (double)(saved - h);
    return (lp - lm) / step;
}

/* Compares analytic[i] (gradient of loss w.r.t. x[i]) with central
 * differences at up to max_coords coordinates of x [size: n]. Returns the
 * relative error of the sampled gradient vectors. */
static inline double fd_compare(fd_loss_fn loss, void *ctx, float *x, const float *analytic,
                                size_t n, size_t max_coords, float h, uint64_t seed)
{
    al_rng_t rng;
    al_rng_seed(&rng, seed);
    double diff2 = 0.0, num2 = 0.0, ana2 = 0.0;
    size_t coords = n < max_coords ? n : max_coords;
    for (size_t k = 0; k < coords; k++) {
        size_t i = n <= max_coords ? k : al_rng_below(&rng, (uint32_t)n);
        double num = fd_partial(loss, ctx, x, i, h);
        double ana = analytic[i];
        diff2 += (num - ana) * (num - ana);
        num2 += num * num;
        ana2 += ana * ana;
    }
    double denom = sqrt(num2 > ana2 ? num2 : ana2);
    return denom > 1e-12 ? sqrt(diff2) / denom : sqrt(diff2);
}

#endif

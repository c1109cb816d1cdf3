#include "al_softmax_ce.h"
#include "al_error.h"

#include <math.h>
#include <stddef.h>

int al_softmax_ce(const float *z, const uint32_t *labels, unsigned B, unsigned M,
                  float *losses, float *dz, float scale)
{
    if (M == 0)
        return AL_FAIL(AL_EINVAL, "M must be >= 1");
    for (unsigned r = 0; r < B; r++)
        if (labels[r] >= M)
            return AL_FAIL(AL_ERANGE, "label %u at row %u >= M=%u", labels[r], r, M);
    for (unsigned r = 0; r < B; r++) {
        const float *row = z + (size_t)r * M;
        float zmax = row[0];
        for (unsigned j = 1; j < M; j++)
            zmax = row[j] > zmax ? row[j] : zmax;
        const float z_label = row[labels[r]];
        double sum = 0.0;
        if (dz != NULL) {
            float *g = dz + (size_t)r * M;
            for (unsigned j = 0; j < M; j++) {
                g[j] = expf(row[j] - zmax);
                sum += g[j];
            }
            const float k = (float)(scale / sum);
            for (unsigned j = 0; j < M; j++)
                g[j] *= k;
            g[labels[r]] -= scale;
        } else {
            for (unsigned j = 0; j < M; j++)
                sum += expf(row[j] - zmax);
        }
        if (losses != NULL)
            losses[r] = (float)(log(sum) + zmax - z_label);
    }
    return AL_OK;
}

void al_argmax_rows(const float *z, unsigned B, unsigned M, uint32_t *out)
{
    for (unsigned r = 0; r < B; r++) {
        const float *row = z + (size_t)r * M;
        /* Keeping the running maximum in a register avoids a dependent
         * reload of row[best] on every element. */
        unsigned best = 0;
        float best_v = row[0];
        for (unsigned j = 1; j < M; j++) {
            if (row[j] > best_v) {
                best_v = row[j];
                best = j;
            }
        }
        out[r] = best;
    }
}

#include "al_powernorm.h"
#include "al_error.h"
#include "al_names.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double s_energy_floor = 1e-12;

struct al_powernorm {
    al_power_mode mode;  /* which normalisation */
    unsigned rows;       /* codewords */
    unsigned n;          /* complex symbols per codeword */
    unsigned groups;     /* independently scaled groups: 1 or rows */
    double *inv_scale;   /* 1/s per group from the last forward [groups] */
};

const char *const al_power_mode_names[] = {"average", "per_message", NULL};
enum { S_MODES = sizeof al_power_mode_names / sizeof al_power_mode_names[0] - 1 };

const char *al_power_mode_name(al_power_mode mode)
{
    return al_name_of(al_power_mode_names, S_MODES, (int)mode);
}

int al_power_mode_parse(const char *text, al_power_mode *mode)
{
    int i = al_name_lookup(al_power_mode_names, S_MODES, text, "power normalisation");
    if (i < 0)
        return i;
    *mode = (al_power_mode)i;
    return AL_OK;
}

al_powernorm_t *al_powernorm_create(al_power_mode mode, unsigned rows, unsigned n)
{
    if (rows == 0 || n == 0) {
        AL_FAIL(AL_EINVAL, "rows=%u and n=%u must be >= 1", rows, n);
        return NULL;
    }
    if (mode != AL_POWER_AVERAGE && mode != AL_POWER_PER_MESSAGE) {
        AL_FAIL(AL_EINVAL, "unknown mode %d", (int)mode);
        return NULL;
    }
    al_powernorm_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    q->mode = mode;
    q->rows = rows;
    q->n = n;
    q->groups = mode == AL_POWER_AVERAGE ? 1 : rows;
    q->inv_scale = calloc(q->groups, sizeof *q->inv_scale);
    if (q->inv_scale == NULL) {
        free(q);
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    return q;
}

void al_powernorm_destroy(al_powernorm_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->inv_scale);
    free(*self_p);
    *self_p = NULL;
}

/* A group is `len` consecutive floats holding `symbols` complex symbols. */
static size_t s_group_len(const al_powernorm_t *q)
{
    return (size_t)2 * q->n * (q->mode == AL_POWER_AVERAGE ? q->rows : 1);
}

int al_powernorm_forward(al_powernorm_t *q, const float *x, float *y)
{
    const size_t len = s_group_len(q);
    const double symbols = (double)len / 2.0;
    for (unsigned g = 0; g < q->groups; g++) {
        const float *xg = x + g * len;
        double e = 0.0;
        for (size_t i = 0; i < len; i++)
            e += (double)xg[i] * xg[i];
        /* The floor keeps an all-zero codeword (a dead ReLU row) finite;
         * it changes neither the value nor the gradient formula below
         * for any codeword of useful energy. */
        double s = sqrt(e / symbols + s_energy_floor);
        if (!isfinite(s))
            return AL_FAIL(AL_ERANGE, "group %u has energy %g: cannot normalise", g, e);
        q->inv_scale[g] = 1.0 / s;
    }
    for (unsigned g = 0; g < q->groups; g++) {
        const float k = (float)q->inv_scale[g];
        for (size_t i = 0; i < len; i++)
            y[g * len + i] = x[g * len + i] * k;
    }
    return AL_OK;
}

int al_powernorm_backward(al_powernorm_t *q, const float *y, const float *dy, float *dx)
{
    /* y = x/s with s = sqrt(|x|^2/K + floor) over a group of K complex symbols:
     * dL/dx = (dy - y * <dy, y>/K) / s. */
    const size_t len = s_group_len(q);
    const double symbols = (double)len / 2.0;
    for (unsigned g = 0; g < q->groups; g++) {
        const float *yg = y + g * len, *dyg = dy + g * len;
        double dot = 0.0;
        for (size_t i = 0; i < len; i++)
            dot += (double)dyg[i] * yg[i];
        const float c = (float)(dot / symbols);
        const float k = (float)q->inv_scale[g];
        float *dxg = dx + g * len;
        for (size_t i = 0; i < len; i++)
            dxg[i] = (dyg[i] - yg[i] * c) * k;
    }
    return AL_OK;
}

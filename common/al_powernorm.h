/* airlearn — power normalisation of a table of complex codewords.
 *
 * The TX's last stage (SPEC §1). Input and output are [rows x 2n] floats,
 * each row one codeword of n complex symbols stored as interleaved I, Q.
 *  AL_POWER_AVERAGE     : one scale for the whole table so that the mean
 *                         energy per complex symbol is 1 (exact for
 *                         uniformly drawn messages).
 *  AL_POWER_PER_MESSAGE : each row scaled to energy n (1 per symbol).
 * The object keeps the scales of the last forward pass for the backward
 * pass; buffers are sized at create. One thread at a time per object.
 */
#ifndef AL_POWERNORM_H
#define AL_POWERNORM_H

typedef enum {
    AL_POWER_AVERAGE = 0,
    AL_POWER_PER_MESSAGE = 1,
} al_power_mode;

/* "average", "per_message"; parse returns 0 or AL_EINVAL. The names,
 * index = al_power_mode, NULL-terminated (for option tables). */
extern const char *const al_power_mode_names[];
const char *al_power_mode_name(al_power_mode mode);
int al_power_mode_parse(const char *text, al_power_mode *mode);

typedef struct al_powernorm al_powernorm_t;

/* rows >= 1, n >= 1 complex symbols per row. */
al_powernorm_t *al_powernorm_create(al_power_mode mode, unsigned rows, unsigned n);
void al_powernorm_destroy(al_powernorm_t **self_p);

/*  x : [size: rows*2n]; y : [size: rows*2n], may alias x.
 * Returns AL_ERANGE (nothing written) if an energy is not finite. An
 * all-zero codeword stays zero (its scale has a tiny floor). */
int al_powernorm_forward(al_powernorm_t *q, const float *x, float *y);

/* dx = dL/dx from dy = dL/dy, using y of the last forward pass.
 *  y, dy, dx : [size: rows*2n]; dx may alias dy. */
int al_powernorm_backward(al_powernorm_t *q, const float *y, const float *dy, float *dx);

#endif

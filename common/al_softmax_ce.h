/* airlearn — fused softmax + cross-entropy, and hard decisions.
 *
 * Stateless functions over caller buffers; no allocation. Numerically
 * stable: every row is shifted by its maximum before exponentiation
 * (log-sum-exp), so logits of any magnitude give finite losses. Each row
 * is handled in one pass (maximum, exponentials, sum, gradient) while it
 * sits in L1, vectorised for the CPU present (al_simd.h).
 * Safe to call from several threads on different buffers.
 */
#ifndef AL_SOFTMAX_CE_H
#define AL_SOFTMAX_CE_H

#include <stdint.h>

/* Per-example cross-entropy l[r] = logsumexp(z[r]) - z[r][label[r]] and,
 * when dz is not NULL, its gradient scaled by `scale` (1/B for the batch
 * mean): dz[r] = scale * (softmax(z[r]) - onehot(label[r])).
 *  z      : logits [size: B*M]
 *  labels : [size: B], each < M (else AL_ERANGE, nothing written)
 *  losses : [size: B], or NULL
 *  dz     : [size: B*M], or NULL; may be the same buffer as z
 * Returns 0 or a negative code. */
int al_softmax_ce(const float *z, const uint32_t *labels, unsigned B, unsigned M,
                  float *losses, float *dz, float scale);

/* al_softmax_ce and, when decisions is not NULL, decisions[r] as from
 * al_argmax_rows, from the same pass over each row. */
int al_softmax_ce_decide(const float *z, const uint32_t *labels, unsigned B, unsigned M,
                         float *losses, float *dz, float scale, uint32_t *decisions);

/* out[r] = argmax_j z[r][j] (lowest index on ties).
 *  z : [size: B*M]; out : [size: B] */
void al_argmax_rows(const float *z, unsigned B, unsigned M, uint32_t *out);

#endif

#include "xfer_frame.h"

#include "al_bytes.h"
#include "al_error.h"
#include "al_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Keeps the whitening stream apart from the label streams drawn from the
 * same session seed. */
#define WHITEN_KEY 0x5848464552ull

static unsigned s_bits(unsigned M)
{
    unsigned k = 0;
    while ((1u << k) < M && k < 17)
        k++;
    return (M >= 2 && M <= 65536 && (1u << k) == M) ? k : 0;
}

unsigned xfer_frame_bytes(unsigned P, unsigned M)
{
    unsigned k = s_bits(M);
    if (k == 0 || P == 0 || (uint64_t)P * k / 8 > XFER_MAX_FRAME_BYTES)
        return 0;
    return P * k / 8;
}

unsigned xfer_segment_bytes(unsigned P, unsigned M)
{
    unsigned n = xfer_frame_bytes(P, M);
    return n > XFER_SEGMENT_OVERHEAD ? n - XFER_SEGMENT_OVERHEAD : 0;
}

static void s_whiten(uint8_t *b, unsigned n, uint64_t seed, uint32_t seq)
{
    al_rng_t r;
    al_rng_seed_stream(&r, seed ^ WHITEN_KEY, seq);
    for (unsigned i = 0; i < n; i += 8) {
        uint64_t w = al_rng_u64(&r);
        for (unsigned j = 0; j < 8 && i + j < n; j++)
            b[i + j] ^= (uint8_t)(w >> (8 * j));
    }
}

static uint32_t s_crc(uint32_t file_id, const uint8_t *seg_and_data, unsigned len)
{
    uint8_t id[4];
    al_put_le32(id, file_id);
    return al_crc32(al_crc32(0, id, 4), seg_and_data, len);
}

void xfer_frame_pack(unsigned P, unsigned M, uint64_t whiten_seed, uint32_t seq,
                     uint32_t file_id, uint32_t segment, const uint8_t *data, unsigned len,
                     const uint16_t *inverse, uint32_t *msgs)
{
    uint8_t b[XFER_MAX_FRAME_BYTES];
    const unsigned k = s_bits(M), nb = xfer_frame_bytes(P, M), sb = nb - XFER_SEGMENT_OVERHEAD;
    memset(b, 0, nb);
    al_put_le32(b, segment);
    memcpy(b + 4, data, len);
    al_put_le32(b + 4 + sb, s_crc(file_id, b, 4 + sb));
    s_whiten(b, nb, whiten_seed, seq);
    /* Bits past the last whole byte stay 0 (not whitened: nothing reads them). */
    for (unsigned i = 0; i < P; i++) {
        uint32_t v = 0;
        for (unsigned j = 0; j < k; j++) {
            unsigned bit = i * k + j;
            if (bit / 8 < nb)
                v |= (uint32_t)((b[bit / 8] >> (bit % 8)) & 1u) << j;
        }
        msgs[i] = inverse ? inverse[v] : v;
    }
}

int xfer_frame_unpack(unsigned P, unsigned M, uint64_t whiten_seed, uint32_t seq,
                      uint32_t file_id, const uint32_t *decisions, const uint16_t *label,
                      uint32_t *segment, uint8_t *data)
{
    uint8_t b[XFER_MAX_FRAME_BYTES];
    const unsigned k = s_bits(M), nb = xfer_frame_bytes(P, M), sb = nb - XFER_SEGMENT_OVERHEAD;
    memset(b, 0, nb);
    for (unsigned i = 0; i < P; i++) {
        uint32_t v = label ? label[decisions[i]] : decisions[i];
        for (unsigned j = 0; j < k; j++) {
            unsigned bit = i * k + j;
            if (bit / 8 < nb)
                b[bit / 8] |= (uint8_t)(((v >> j) & 1u) << (bit % 8));
        }
    }
    s_whiten(b, nb, whiten_seed, seq);
    if (al_get_le32(b + 4 + sb) != s_crc(file_id, b, 4 + sb))
        return AL_ECRC;
    *segment = al_get_le32(b);
    memcpy(data, b + 4, sb);
    return AL_OK;
}

void xfer_label_inverse(const uint16_t *label, unsigned M, uint16_t *inverse)
{
    for (unsigned m = 0; m < M; m++)
        inverse[label[m]] = (uint16_t)m;
}

uint64_t xfer_bit_errors(const uint32_t *confusion, unsigned M, const uint16_t *label)
{
    uint64_t sum = 0;
    for (unsigned t = 0; t < M; t++)
        for (unsigned d = 0; d < M; d++) {
            uint32_t n = confusion[(size_t)t * M + d];
            unsigned diff = label ? (unsigned)(label[t] ^ label[d]) : t ^ d;
            sum += (uint64_t)n * (unsigned)__builtin_popcount(diff);
        }
    return sum;
}

/* Weighted Hamming distance change when the labels of a and b swap; adj
 * lists are symmetric, w[a*M+j] the weight of edge (a, j). */
static double s_swap_delta(const uint16_t *L, const float *w, const uint16_t *adj,
                           const unsigned *deg, unsigned K2, unsigned M, unsigned a, unsigned b)
{
    double d = 0;
    for (unsigned e = 0; e < deg[a]; e++) {
        unsigned j = adj[(size_t)a * K2 + e];
        if (j != b)
            d += w[(size_t)a * M + j] * (__builtin_popcount(L[b] ^ L[j]) -
                                         __builtin_popcount(L[a] ^ L[j]));
    }
    for (unsigned e = 0; e < deg[b]; e++) {
        unsigned j = adj[(size_t)b * K2 + e];
        if (j != a)
            d += w[(size_t)b * M + j] * (__builtin_popcount(L[a] ^ L[j]) -
                                         __builtin_popcount(L[b] ^ L[j]));
    }
    return d;
}

int xfer_labelling(const float *table, unsigned M, unsigned N, float n0, uint16_t *label)
{
    unsigned k = s_bits(M);
    if (table == NULL || label == NULL || k == 0 || M > 1024 || N == 0 || !(n0 > 0))
        return AL_FAIL(AL_EINVAL, "labelling: M=%u (a power of two up to 1024), N=%u, n0=%g", M,
                       N, (double)n0);
    unsigned K = 2 * k < M - 1 ? 2 * k : M - 1, K2 = M; /* degrees vary: room for all */
    float *d2 = malloc(sizeof(float) * M * M);
    float *w = calloc((size_t)M * M, sizeof(float));
    uint16_t *adj = malloc(sizeof(uint16_t) * M * K2);
    unsigned *deg = calloc(M, sizeof(unsigned));
    if (!d2 || !w || !adj || !deg) {
        free(d2), free(w), free(adj), free(deg);
        return AL_FAIL(AL_ENOMEM, "labelling: out of memory");
    }
    for (unsigned i = 0; i < M; i++)
        for (unsigned j = 0; j < M; j++) {
            float s = 0;
            for (unsigned c = 0; c < 2 * N; c++) {
                float x = table[(size_t)i * 2 * N + c] - table[(size_t)j * 2 * N + c];
                s += x * x;
            }
            d2[(size_t)i * M + j] = s;
        }
    /* K nearest neighbours of each point; the edges made symmetric. */
    for (unsigned i = 0; i < M; i++) {
        for (unsigned n = 0; n < K; n++) {
            unsigned best = M;
            for (unsigned j = 0; j < M; j++)
                if (j != i && w[(size_t)i * M + j] == 0 &&
                    (best == M || d2[(size_t)i * M + j] < d2[(size_t)i * M + best]))
                    best = j;
            if (best == M)
                break;   /* every other point is a neighbour already */
            /* exp() may underflow to 0 for a far neighbour: keep it an edge. */
            float v = expf(-d2[(size_t)i * M + best] / (4 * n0));
            v = v > 1e-30f ? v : 1e-30f;
            w[(size_t)i * M + best] = w[(size_t)best * M + i] = v;
        }
    }
    for (unsigned i = 0; i < M; i++)
        for (unsigned j = 0; j < M; j++)
            if (w[(size_t)i * M + j] > 0 && deg[i] < K2)
                adj[(size_t)i * K2 + deg[i]++] = (uint16_t)j;
    for (unsigned m = 0; m < M; m++)
        label[m] = (uint16_t)m;
    for (int pass = 0, improved = 1; improved && pass < 50; pass++) {
        improved = 0;
        for (unsigned a = 0; a < M; a++)
            for (unsigned b = a + 1; b < M; b++)
                if (s_swap_delta(label, w, adj, deg, K2, M, a, b) < -1e-12) {
                    uint16_t t = label[a];
                    label[a] = label[b];
                    label[b] = t;
                    improved = 1;
                }
    }
    free(d2), free(w), free(adj), free(deg);
    return AL_OK;
}

/* airlearn — elementwise kernels compiled for the vector unit present.
 *
 * AL_VECTOR_CLONES before a function definition compiles it three times,
 * for AVX-512 (x86-64-v4), AVX2 with FMA (x86-64-v3) and baseline x86-64,
 * and the dynamic loader picks one for the CPU at start (GCC and clang
 * function multiversioning, an ifunc): the build stays -march=x86-64 and
 * the binary runs on any x86-64. Elsewhere it expands to nothing. Put it
 * on functions that loop over whole matrices, not on per-row helpers: a
 * multiversioned function is called through the ifunc, never inlined;
 * the always_inline helpers below are inlined into each version and
 * compiled for its vector unit.
 *
 * al_vf is 16 floats (64 bytes) in GCC's vector extension: one AVX-512
 * register, two AVX2 or four SSE registers in the baseline version.
 */
#ifndef AL_SIMD_H
#define AL_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define AL_VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef AL_VECTOR_CLONES
#define AL_VECTOR_CLONES
#endif

#define AL_SIMD_INLINE static inline __attribute__((always_inline))

enum { AL_VF_LANES = 16 };
typedef float al_vf __attribute__((vector_size(64)));
typedef int32_t al_vi __attribute__((vector_size(64)));
typedef uint32_t al_vu __attribute__((vector_size(64)));
typedef float al_vf8 __attribute__((vector_size(32)));
typedef float al_vf4 __attribute__((vector_size(16)));
typedef int32_t al_vi8 __attribute__((vector_size(32)));
typedef int32_t al_vi4 __attribute__((vector_size(16)));

/* The helpers take and give vectors through pointers, or are macros:
 * clang rejects 64-byte vectors passed by value in code compiled without
 * AVX-512 (the baseline version), inlined or not, and GCC warns. */

#define AL_VF_SPLAT(a) ((al_vf){0} + (a))
/* m ? a : b lane by lane, m from a comparison (all ones or zero). */
#define AL_VF_SELECT(m, a, b) ((al_vf)(((m) & (al_vi)(a)) | (~(m) & (al_vi)(b))))

AL_SIMD_INLINE void al_vf_load(al_vf *v, const float *p)
{
    memcpy(v, p, sizeof *v);
}

AL_SIMD_INLINE void al_vf_store(float *p, const al_vf *v)
{
    memcpy(p, v, sizeof *v);
}

/* The first n < AL_VF_LANES values of p, the other lanes `pad`. */
AL_SIMD_INLINE void al_vf_load_part(al_vf *v, const float *p, unsigned n, float pad)
{
    for (unsigned l = 0; l < AL_VF_LANES; l++)
        (*v)[l] = l < n ? p[l] : pad;
}

AL_SIMD_INLINE void al_vf_store_part(float *p, const al_vf *v, unsigned n)
{
    for (unsigned l = 0; l < n; l++)
        p[l] = (*v)[l];
}

/* *a = *a > b ? *a : b lane by lane: a NaN in *a never stays, as in the
 * scalar code's v > 0 ? v : 0. */
AL_SIMD_INLINE void al_vf_max(al_vf *a, const al_vf *b)
{
    const al_vi m = *a > *b;
    *a = AL_VF_SELECT(m, *a, *b);
}

/* Horizontal reductions as trees of halves: a few vector instructions
 * where a lane-by-lane loop is a dependent chain of 16 (most of the cost
 * of a 16-wide row). */
AL_SIMD_INLINE float al_vf_hsum(const al_vf *v)
{
    al_vf8 a, b;
    memcpy(&a, v, sizeof a);
    memcpy(&b, (const char *)v + sizeof a, sizeof b);
    a += b;
    al_vf4 c, d;
    memcpy(&c, &a, sizeof c);
    memcpy(&d, (const char *)&a + sizeof c, sizeof d);
    c += d;
    return (c[0] + c[2]) + (c[1] + c[3]);
}

AL_SIMD_INLINE float al_vf_hmax(const al_vf *v)
{
    al_vf8 a, b;
    memcpy(&a, v, sizeof a);
    memcpy(&b, (const char *)v + sizeof a, sizeof b);
    const al_vi8 ab = a > b;
    a = (al_vf8)((ab & (al_vi8)a) | (~ab & (al_vi8)b));
    al_vf4 c, d;
    memcpy(&c, &a, sizeof c);
    memcpy(&d, (const char *)&a + sizeof c, sizeof d);
    const al_vi4 cd = c > d;
    c = (al_vf4)((cd & (al_vi4)c) | (~cd & (al_vi4)d));
    const float x = c[0] > c[2] ? c[0] : c[2], y = c[1] > c[3] ? c[1] : c[3];
    return x > y ? x : y;
}

AL_SIMD_INLINE int32_t al_vi_hmin(const al_vi *v)
{
    al_vi8 a, b;
    memcpy(&a, v, sizeof a);
    memcpy(&b, (const char *)v + sizeof a, sizeof b);
    const al_vi8 ab = a < b;
    a = (ab & a) | (~ab & b);
    al_vi4 c, d;
    memcpy(&c, &a, sizeof c);
    memcpy(&d, (const char *)&a + sizeof c, sizeof d);
    const al_vi4 cd = c < d;
    c = (cd & c) | (~cd & d);
    const int32_t x = c[0] < c[2] ? c[0] : c[2], y = c[1] < c[3] ? c[1] : c[3];
    return x < y ? x : y;
}

#endif

/* airlearn — thread control for the numeric core.
 *
 * OpenBLAS would otherwise start one thread per core in every process, and
 * the TX and RX daemons (plus the radio threads) would fight over the same
 * cores. airlearn sets the count explicitly, once at start, from the
 * configuration; the default is 1 per process.
 *
 * Subnormal floats: a confident network's softmax probabilities and their
 * gradients underflow into the subnormal range, and on x86 every multiply
 * with a subnormal operand takes a slow microcode path (the default
 * `airlearn sim` ran 3.3x slower for it, issue 17). al_threads_init sets
 * flush-to-zero and denormals-are-zero for the calling thread and for every
 * thread created from it afterwards (POSIX: a new thread inherits its
 * creator's floating-point environment), and restarts OpenBLAS's worker
 * pool, which the library started at load time, before main, with the
 * default environment. Values below 1.2e-38 then read and compute as 0;
 * nothing in the networks or the DSP depends on them.
 *
 * OpenBLAS kernels: a DYNAMIC_ARCH OpenBLAS picks its kernels from the CPU
 * model when it loads, and a release older than the CPU may map it to
 * kernels without AVX-512 (driver/others/dynamic.c: 0.3.13 to 0.3.20 put
 * AMD family 19h, Zen 4, on the Zen/Haswell kernels and family 1Ah on
 * Barcelona's; 0.3.21 picks Cooperlake for both). On an AMD EPYC with
 * AVX-512 the Haswell sgemm ran at 0.55x the SkylakeX one (issue 17).
 * al_threads_init switches such a library to SKYLAKEX when the CPU and the
 * OS support AVX-512F/BW/DQ/VL, before anything uses it. A user's
 * OPENBLAS_CORETYPE is obeyed as it is, and AIRLEARN_BLAS_CORETYPE=0 keeps
 * the library's own choice.
 *
 * Threading: al_threads_init once, from main, before any other thread is
 * created (it changes the environment and OpenBLAS's kernel table); the
 * rest from one thread at a time.
 */
#ifndef AL_THREADS_H
#define AL_THREADS_H

/* Environment variable that switches the flushing off ("0"), for A/B
 * comparisons; unset or any other value leaves it on. */
#define AL_THREADS_FTZ_ENV "AIRLEARN_FTZ"

/* Environment variable that keeps OpenBLAS's own kernel choice ("0"). */
#define AL_THREADS_CORE_ENV "AIRLEARN_BLAS_CORETYPE"

/* Sets (or, with AIRLEARN_FTZ=0, clears) flush-to-zero and
 * denormals-are-zero in the calling thread, switches OpenBLAS to AVX-512
 * kernels where al_threads_blas_choice says so, and restarts the OpenBLAS
 * pool so that its threads inherit the setting. Returns 1 when subnormals
 * are flushed, 0 when they are kept (switched off, or not an x86 build). */
int al_threads_init(void);

/* The OpenBLAS core type to switch to, or NULL to keep the library's:
 * "SKYLAKEX" when the CPU has AVX-512 (cpu_avx512 nonzero), the library
 * reports a core without it (core, from openblas_get_corename), and
 * neither OPENBLAS_CORETYPE (openblas_env, the user's choice) nor
 * AIRLEARN_BLAS_CORETYPE=0 (airlearn_env) is set. NULL strings are unset
 * variables. Pure; for al_threads_init and its tests. */
const char *al_threads_blas_choice(int cpu_avx512, const char *core,
                                   const char *openblas_env, const char *airlearn_env);

/* 1 if the CPU and the OS support the AVX-512 subsets OpenBLAS's SkylakeX
 * kernels use (F, BW, DQ, VL), else 0. */
int al_threads_cpu_avx512(void);

/* OpenBLAS's name for the kernels in use ("SkylakeX", "Haswell", ...). */
const char *al_threads_blas_core(void);

/* 1 if the calling thread flushes subnormals (both bits set), else 0. */
int al_threads_flushing(void);

/* Set the OpenBLAS thread count (1..256). Returns 0 or AL_EINVAL. */
int al_threads_set(int threads);

/* The OpenBLAS thread count in force. */
int al_threads_get(void);

#endif

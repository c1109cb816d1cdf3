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
 * Threading: al_threads_init once, from main, before any other thread is
 * created; the rest from one thread at a time.
 */
#ifndef AL_THREADS_H
#define AL_THREADS_H

/* Environment variable that switches the flushing off ("0"), for A/B
 * comparisons; unset or any other value leaves it on. */
#define AL_THREADS_FTZ_ENV "AIRLEARN_FTZ"

/* Sets (or, with AIRLEARN_FTZ=0, clears) flush-to-zero and
 * denormals-are-zero in the calling thread and restarts the OpenBLAS pool
 * so that its threads inherit the setting. Returns 1 when subnormals are
 * flushed, 0 when they are kept (switched off, or not an x86 build). */
int al_threads_init(void);

/* 1 if the calling thread flushes subnormals (both bits set), else 0. */
int al_threads_flushing(void);

/* Set the OpenBLAS thread count (1..256). Returns 0 or AL_EINVAL. */
int al_threads_set(int threads);

/* The OpenBLAS thread count in force. */
int al_threads_get(void);

#endif

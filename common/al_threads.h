/* airlearn — thread control for the numeric core.
 *
 * OpenBLAS would otherwise start one thread per core in every process, and
 * the TX and RX daemons (plus the radio threads) would fight over the same
 * cores. airlearn sets the count explicitly, once at start, from the
 * configuration; the default is 1 per process.
 */
#ifndef AL_THREADS_H
#define AL_THREADS_H

/* Set the OpenBLAS thread count (1..256). Returns 0 or AL_EINVAL. */
int al_threads_set(int threads);

/* The OpenBLAS thread count in force. */
int al_threads_get(void);

#endif

/* airlearn — benchmarks behind `airlearn bench NAME`.
 *
 * Each benchmark prints one JSON object per line on stdout (and progress,
 * if any, on stderr) and returns 0, or a negative al_error_code with the
 * message set. Benchmarks compare figures measured in the same run (for
 * example a layer's GFLOP/s against a large sgemm's), never fixed times.
 */
#ifndef AL_BENCH_H
#define AL_BENCH_H

#include <stdio.h>

typedef struct {
    unsigned threads;   /* OpenBLAS / worker threads, >= 1 */
    double seconds;     /* target measuring time per figure */
    int quick;          /* smaller sizes, for the test suite */
} bench_opts;

typedef int (*bench_fn)(const bench_opts *opts, FILE *out);

typedef struct {
    const char *name;     /* `airlearn bench NAME` */
    bench_fn run;
    const char *summary;  /* one line for --help */
} bench_entry;

/* The table of benchmarks, terminated by an entry with name == NULL. */
extern const bench_entry bench_table[];

/* Run time of f(arg) repeated until `seconds` elapse (at least min_reps);
 * returns seconds per call. */
double bench_time_per_call(void (*f)(void *arg), void *arg, double seconds,
                           unsigned min_reps);

#endif

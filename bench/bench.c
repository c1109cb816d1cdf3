#include "bench.h"

#include "al_log.h"

double bench_time_per_call(void (*f)(void *arg), void *arg, double seconds,
                           unsigned min_reps)
{
    f(arg); /* warm caches and lazily initialised thread pools */
    unsigned reps = 0;
    double t0 = al_now_s(), t = t0;
    while (reps < min_reps || t - t0 < seconds) {
        f(arg);
        reps++;
        t = al_now_s();
    }
    return (t - t0) / reps;
}

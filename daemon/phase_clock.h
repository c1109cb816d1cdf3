/* airlearn — wall time per phase of a daemon's loop.
 *
 * The loop says which phase it is entering; the time since the last
 * switch goes to the phase that was current. Totals appear in status.json
 * as "phase_s":{"name":seconds,...}, so that where a run's time goes is
 * measured, not guessed (issue 17). A switch costs one clock read.
 *
 * Ownership: the caller owns the struct (no allocation); the names array
 * must outlive it. Threading: one thread (the daemon's loop).
 */
#ifndef PHASE_CLOCK_H
#define PHASE_CLOCK_H

#include "state_json.h"

#include <stddef.h>

enum { PHASE_CLOCK_MAX = 12 };

typedef struct {
    const char *const *names;
    unsigned count;
    unsigned current;
    double since;               /* al_now_s() at the last switch */
    double total[PHASE_CLOCK_MAX];
} phase_clock;

/* count phases (1..PHASE_CLOCK_MAX) named names[0..count-1]; phase 0 is
 * current from now. 0, or AL_EINVAL. */
int phase_clock_init(phase_clock *pc, const char *const *names, unsigned count);

/* Enters phase (out of range: ignored); returns the phase left, for
 * nested use: prev = phase_clock_enter(pc, X); ...; phase_clock_enter(pc, prev). */
unsigned phase_clock_enter(phase_clock *pc, unsigned phase);

/* Seconds in phase so far, the current one's running time included. */
double phase_clock_seconds(const phase_clock *pc, unsigned phase);

/* Adds {"name":seconds,...} (the running phase included; {} before
 * init) to j as member key. */
void phase_clock_add_json(const phase_clock *pc, state_json_t *j, const char *key);

#endif

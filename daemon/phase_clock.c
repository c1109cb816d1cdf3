#include "phase_clock.h"

#include "state_json.h"

#include "al_error.h"
#include "al_log.h"

#include <stdio.h>
#include <string.h>

int phase_clock_init(phase_clock *pc, const char *const *names, unsigned count)
{
    if (pc == NULL || names == NULL || count == 0 || count > PHASE_CLOCK_MAX)
        return AL_FAIL(AL_EINVAL, "phase clock: 1..%d phases, got %u", PHASE_CLOCK_MAX, count);
    memset(pc, 0, sizeof *pc);
    pc->names = names;
    pc->count = count;
    pc->since = al_now_s();
    return AL_OK;
}

unsigned phase_clock_enter(phase_clock *pc, unsigned phase)
{
    unsigned prev = pc->current;
    if (phase >= pc->count || phase == prev)
        return prev;
    double now = al_now_s();
    pc->total[prev] += now - pc->since;
    pc->since = now;
    pc->current = phase;
    return prev;
}

double phase_clock_seconds(const phase_clock *pc, unsigned phase)
{
    if (phase >= pc->count)
        return 0;
    return pc->total[phase] + (phase == pc->current ? al_now_s() - pc->since : 0);
}

void phase_clock_add_json(const phase_clock *pc, state_json_t *j, const char *key)
{
    state_json_t *o = state_json_create();
    for (unsigned i = 0; o != NULL && i < pc->count; i++)
        state_json_fixed(o, pc->names[i], 3, phase_clock_seconds(pc, i));
    state_json_take(j, key, &o);   /* out of memory: null */
}

#include "phase_clock.h"

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

int phase_clock_json(const phase_clock *pc, char *buf, size_t len)
{
    size_t n = 0;
    for (unsigned i = 0; i < pc->count; i++) {
        int k = snprintf(buf + n, len - n, "%s\"%s\":%.3f", i ? "," : "{", pc->names[i],
                         phase_clock_seconds(pc, i));
        if (k < 0 || (size_t)k >= len - n)
            return AL_FAIL(AL_EINVAL, "phase clock: %zu bytes are too few", len);
        n += (size_t)k;
    }
    if (n + (n == 0 ? 3 : 2) > len)
        return AL_FAIL(AL_EINVAL, "phase clock: %zu bytes are too few", len);
    if (n == 0)
        buf[n++] = '{';   /* not started: no phases */
    buf[n++] = '}';
    buf[n] = '\0';
    return (int)n;
}

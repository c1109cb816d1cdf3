#include "al_log.h"
#include "al_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static al_log_level s_level = AL_LOG_INFO;
static const char *s_tag;
static al_log_sink s_sink;

static const char *const s_level_names[] = {"error", "warn", "info", "debug"};

void al_log_set_level(al_log_level level) { s_level = level; }
al_log_level al_log_get_level(void) { return s_level; }
void al_log_set_tag(const char *tag) { s_tag = tag; }
void al_log_set_sink(al_log_sink sink) { s_sink = sink; }

int al_log_parse_level(const char *text, al_log_level *level)
{
    for (unsigned i = 0; i < sizeof s_level_names / sizeof s_level_names[0]; i++) {
        if (text != NULL && strcmp(text, s_level_names[i]) == 0) {
            *level = (al_log_level)i;
            return AL_OK;
        }
    }
    return AL_FAIL(AL_EINVAL, "unknown log level '%s' (error, warn, info, debug)",
                   text ? text : "(null)");
}

static void s_vlog(al_log_level level, const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    if (s_sink) {
        s_sink(level, line);
        return;
    }
    fprintf(stderr, "%s%s%s: %s\n", s_tag ? s_tag : "", s_tag ? ": " : "",
            s_level_names[level], line);
}

void al_log(al_log_level level, const char *fmt, ...)
{
    if (level > s_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    s_vlog(level, fmt, ap);
    va_end(ap);
}

void al_log_ratelimited(al_log_level level, uint64_t *last_ms,
                        uint64_t interval_ms, const char *fmt, ...)
{
    if (level > s_level)
        return;
    uint64_t now = al_now_ms();
    if (*last_ms != 0 && now - *last_ms < interval_ms)
        return;
    *last_ms = now;
    va_list ap;
    va_start(ap, fmt);
    s_vlog(level, fmt, ap);
    va_end(ap);
}

uint64_t al_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double al_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* airlearn — leveled logging to stderr.
 *
 * One process-wide level (set once at start, before threads exist); each
 * line is written with a single fprintf so lines from several threads do
 * not interleave. al_log_ratelimited() lets a hot path report a recurring
 * condition (a bad packet, a dropped frame) at most once per interval.
 */
#ifndef AL_LOG_H
#define AL_LOG_H

#include <stdint.h>

typedef enum {
    AL_LOG_ERROR = 0,
    AL_LOG_WARN  = 1,
    AL_LOG_INFO  = 2,
    AL_LOG_DEBUG = 3,
} al_log_level;

void al_log_set_level(al_log_level level);
al_log_level al_log_get_level(void);

/* Parse "error", "warn", "info", "debug"; returns 0 or AL_EINVAL. */
int al_log_parse_level(const char *text, al_log_level *level);

/* Prefix every line with "tag: " (e.g. "tx", "rx"); NULL for none. The
 * string must outlive the process's logging. */
void al_log_set_tag(const char *tag);

/* Hand every line to sink instead of stderr (the airsim module passes
 * its lines to SoapySDR's logger, which the application controls). */
typedef void (*al_log_sink)(al_log_level level, const char *line);
void al_log_set_sink(al_log_sink sink);

void al_log(al_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Log only if at least interval_ms passed since *last_ms (a caller-owned
 * timestamp, monotonic milliseconds, 0 initially); updates *last_ms. */
void al_log_ratelimited(al_log_level level, uint64_t *last_ms,
                        uint64_t interval_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Monotonic clock in milliseconds and seconds. */
uint64_t al_now_ms(void);
double al_now_s(void);

#define al_error(...) al_log(AL_LOG_ERROR, __VA_ARGS__)
#define al_warn(...)  al_log(AL_LOG_WARN, __VA_ARGS__)
#define al_info(...)  al_log(AL_LOG_INFO, __VA_ARGS__)
#define al_debug(...) al_log(AL_LOG_DEBUG, __VA_ARGS__)

#endif

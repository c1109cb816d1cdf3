/* airlearn — error codes and the last-error message.
 *
 * Every fallible function in airlearn returns an int status: AL_OK (0) or a
 * negative al_error_code. Before returning an error it records a one-line
 * message with al_error_set(), which the caller can show with
 * al_error_message(). The message buffer is thread-local, so threads never
 * see each other's errors.
 */
#ifndef AL_ERROR_H
#define AL_ERROR_H

#include <stdarg.h>

/* One list drives the enum, al_strerror() and the tests. */
#define AL_ERROR_LIST(X)                                              \
    X(AL_OK,        0,  "ok")                                         \
    X(AL_EINVAL,   -1,  "invalid argument")                          \
    X(AL_ENOMEM,   -2,  "out of memory")                             \
    X(AL_EIO,      -3,  "input/output error")                        \
    X(AL_EFORMAT,  -4,  "malformed data")                            \
    X(AL_ECRC,     -5,  "checksum mismatch")                         \
    X(AL_EMISMATCH,-6,  "configuration or architecture mismatch")    \
    X(AL_ETIMEOUT, -7,  "timed out")                                 \
    X(AL_ESTATE,   -8,  "operation not valid in this state")         \
    X(AL_ERANGE,   -9,  "value out of range")                        \
    X(AL_EDEVICE, -10,  "radio device error")                        \
    X(AL_ENET,    -11,  "network error")                             \
    X(AL_EAGAIN,  -12,  "try again")

typedef enum {
#define AL_ERROR_ENUM(name, value, text) name = value,
    AL_ERROR_LIST(AL_ERROR_ENUM)
#undef AL_ERROR_ENUM
} al_error_code;

/* Static text for a code; "unknown error" for anything not in the list. */
const char *al_strerror(int code);

/* Record "function: message" for the calling thread and return code, so
 * that `return al_error_set(AL_EINVAL, __func__, "M=%u < 2", M);` reads as
 * one statement. */
int al_error_set(int code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int al_error_vset(int code, const char *where, const char *fmt, va_list ap);

/* The calling thread's last message ("" if none). Valid until the next
 * al_error_set() on this thread. */
const char *al_error_message(void);

/* Forget the calling thread's last message. */
void al_error_clear(void);

#define AL_FAIL(code, ...) al_error_set((code), __func__, __VA_ARGS__)

#endif

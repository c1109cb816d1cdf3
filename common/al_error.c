#include "al_error.h"

#include <stdio.h>

static _Thread_local char s_message[512];

const char *al_strerror(int code)
{
    switch (code) {
#define AL_ERROR_CASE(name, value, text) case value: return text;
        AL_ERROR_LIST(AL_ERROR_CASE)
#undef AL_ERROR_CASE
    default:
        return "unknown error";
    }
}

int al_error_vset(int code, const char *where, const char *fmt, va_list ap)
{
    int n = 0;
    if (where != NULL)
        n = snprintf(s_message, sizeof s_message, "%s: ", where);
    if (n < 0 || (size_t)n >= sizeof s_message)
        n = 0;
    vsnprintf(s_message + n, sizeof s_message - (size_t)n, fmt, ap);
    return code;
}

int al_error_set(int code, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    al_error_vset(code, where, fmt, ap);
    va_end(ap);
    return code;
}

const char *al_error_message(void)
{
    return s_message;
}

void al_error_clear(void)
{
    s_message[0] = '\0';
}

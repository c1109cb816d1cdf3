#include "al_names.h"
#include "al_error.h"

#include <stdio.h>
#include <string.h>

int al_name_lookup(const char *const *names, unsigned n, const char *text, const char *what)
{
    for (unsigned i = 0; i < n; i++)
        if (text != NULL && strcmp(text, names[i]) == 0)
            return (int)i;
    char list[256];
    size_t used = 0;
    for (unsigned i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    return al_error_set(AL_EINVAL, NULL, "%s '%s' is not one of %s", what,
                        text ? text : "(null)", list);
}

const char *al_name_of(const char *const *names, unsigned n, int value)
{
    return value >= 0 && (unsigned)value < n ? names[value] : "unknown";
}

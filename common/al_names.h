/* airlearn — small enums named by a table of strings, index = value.
 * One table per enum drives parsing, printing, --help and the tests. */
#ifndef AL_NAMES_H
#define AL_NAMES_H

/* The index of text in names [size: n], or AL_EINVAL with the message
 * "<what> '<text>' is not one of <names...>". */
int al_name_lookup(const char *const *names, unsigned n, const char *text, const char *what);

/* names[value], or "unknown" when value is out of range. */
const char *al_name_of(const char *const *names, unsigned n, int value);

#endif

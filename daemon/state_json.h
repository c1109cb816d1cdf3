/* airlearn — the JSON records the commands leave in a state directory
 * (status.json, summary.json) and read back (`airlearn status`, the
 * loopback watching its daemons), through json-c.
 *
 * Writing: create a record, add its members in the order they should
 * appear, one call per key, then write it. Adding a key is one line:
 *
 *     state_json_sig(j, "ser_baseline", 6, ser_baseline);
 *
 * The adders return nothing: a failed allocation is remembered and
 * reported once, by state_json_text or state_json_write, so a record of
 * forty members needs no check per member. Numbers are written with the
 * precision given (the text a reader sees, e.g. "%.1f"), and as null when
 * not finite (JSON has no NaN or infinity).
 *
 * Reading: state_json_read parses a whole file and refuses anything but
 * one JSON object (empty, truncated, trailing text, wrong top-level type),
 * with a message naming the file. The getters check the member's type and
 * name the file and key when it is missing or of another type. Numbers
 * read back keep their text: a record read and written again is
 * byte-identical.
 *
 * Errors are values (AL_EIO for a file that cannot be read or written,
 * AL_EFORMAT for its content, AL_ENOMEM), the message in al_error_message()
 * without a function prefix: it is meant for the user.
 *
 * Ownership: a record owns its members, the strings state_json_get_str
 * returns and the text state_json_text returns (valid until the record
 * changes or is destroyed). One thread at a time per record.
 */
#ifndef STATE_JSON_H
#define STATE_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct state_json state_json_t;

/* An empty object; NULL with AL_ENOMEM's message. */
state_json_t *state_json_create(void);
void state_json_destroy(state_json_t **self_p);

/* Members, appended (or replaced in place when the key exists). */
void state_json_int(state_json_t *j, const char *key, int64_t value);
void state_json_uint(state_json_t *j, const char *key, uint64_t value);
/* value as printf "%.<decimals>f", decimals 0..17 (17 outside) */
void state_json_fixed(state_json_t *j, const char *key, int decimals, double value);
/* value as printf "%.<digits>g", digits 0..17 (17 outside) */
void state_json_sig(state_json_t *j, const char *key, int digits, double value);
void state_json_str(state_json_t *j, const char *key, const char *value);   /* NULL: null */
void state_json_bool(state_json_t *j, const char *key, int value);
/* The record *child_p as a member (NULL: null); *child_p is destroyed. */
void state_json_take(state_json_t *j, const char *key, state_json_t **child_p);

/* The record as one line ending in '\n'; NULL with AL_ENOMEM's message
 * when an adder ran out of memory. */
const char *state_json_text(state_json_t *j);

/* Writes the record atomically to dir/name (temporary file, then rename:
 * a reader sees the old record or the new one, never part of one). */
int state_json_write(state_json_t *j, const char *dir, const char *name);

/* Parses the file at path (at most 1 MiB). AL_OK with *out set, or
 * AL_EIO (cannot open or read it: "no PATH (errno's text)") or
 * AL_EFORMAT (not one JSON object), *out NULL. */
int state_json_read(const char *path, state_json_t **out);

/* A member's value: AL_OK, or AL_EFORMAT when it is missing or of another
 * type (or, for the integers, out of the type's range). */
int state_json_get_int(const state_json_t *j, const char *key, int64_t *value);
int state_json_get_uint(const state_json_t *j, const char *key, uint64_t *value);
/* Any number; null (what the writer makes of NaN) reads as NAN. */
int state_json_get_num(const state_json_t *j, const char *key, double *value);
int state_json_get_str(const state_json_t *j, const char *key, const char **value);
/* An object member as JSON text in buf [len]. */
int state_json_get_text(const state_json_t *j, const char *key, char *buf, size_t len);

#endif

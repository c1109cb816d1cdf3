#include "state_json.h"

#include "al_error.h"
#include "daemon_util.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A status record is about 1.5 kB; anything near this is not one. */
#define STATE_JSON_MAX_FILE (1u << 20)

struct state_json {
    json_object *obj;
    int failed;        /* an adder ran out of memory */
    char *text;        /* state_json_text's line */
    char source[512];  /* the file a read record came from, for messages */
};

state_json_t *state_json_create(void)
{
    state_json_t *j = calloc(1, sizeof *j);
    if (j == NULL || (j->obj = json_object_new_object()) == NULL) {
        free(j);
        al_error_set(AL_ENOMEM, NULL, "out of memory for a JSON record");
        return NULL;
    }
    return j;
}

void state_json_destroy(state_json_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    state_json_t *j = *self_p;
    json_object_put(j->obj);
    free(j->text);
    free(j);
    *self_p = NULL;
}

static void s_add(state_json_t *j, const char *key, json_object *value)
{
    /* A NULL value from a failed constructor would be added as null; a
     * failed add leaves value with the caller (json-c 0.16). */
    if (value == NULL) {
        j->failed = 1;
    } else if (json_object_object_add(j->obj, key, value) != 0) {
        json_object_put(value);
        j->failed = 1;
    }
}

/* A null member (JSON has no NaN, and a missing record is null). */
static void s_add_null(state_json_t *j, const char *key)
{
    if (json_object_object_add(j->obj, key, NULL) != 0)
        j->failed = 1;
}

void state_json_int(state_json_t *j, const char *key, int64_t value)
{
    s_add(j, key, json_object_new_int64(value));
}

void state_json_uint(state_json_t *j, const char *key, uint64_t value)
{
    s_add(j, key, json_object_new_uint64(value));
}

static void s_number(state_json_t *j, const char *key, const char *fmt, int precision,
                     double value)
{
    if (!isfinite(value)) {
        s_add_null(j, key);
        return;
    }
    /* The text is kept with the value and written as it is. */
    char text[352];   /* %.17f of DBL_MAX is 327 characters */
    if (precision < 0 || precision > 17)
        precision = 17;
    snprintf(text, sizeof text, fmt, precision, value);
    s_add(j, key, json_object_new_double_s(value, text));
}

void state_json_fixed(state_json_t *j, const char *key, int decimals, double value)
{
    s_number(j, key, "%.*f", decimals, value);
}

void state_json_sig(state_json_t *j, const char *key, int digits, double value)
{
    s_number(j, key, "%.*g", digits, value);
}

void state_json_str(state_json_t *j, const char *key, const char *value)
{
    if (value == NULL) {
        s_add_null(j, key);
        return;
    }
    s_add(j, key, json_object_new_string(value));
}

void state_json_take(state_json_t *j, const char *key, state_json_t **child_p)
{
    if (child_p == NULL || *child_p == NULL) {
        s_add_null(j, key);
        return;
    }
    state_json_t *c = *child_p;
    if (c->failed)
        j->failed = 1;
    s_add(j, key, json_object_get(c->obj));
    state_json_destroy(child_p);
}

void state_json_bool(state_json_t *j, const char *key, int value)
{
    s_add(j, key, json_object_new_boolean(value != 0));
}

const char *state_json_text(state_json_t *j)
{
    const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    size_t len = 0;
    const char *body = j->failed ? NULL : json_object_to_json_string_length(j->obj, flags, &len);
    char *text = body ? realloc(j->text, len + 2) : NULL;
    if (text == NULL) {
        al_error_set(AL_ENOMEM, NULL, "out of memory building a JSON record");
        return NULL;
    }
    memcpy(text, body, len);
    text[len] = '\n';
    text[len + 1] = '\0';
    j->text = text;
    return text;
}

int state_json_write(state_json_t *j, const char *dir, const char *name)
{
    const char *text = state_json_text(j);
    if (text == NULL)
        return AL_ENOMEM;
    return daemon_write_state(dir, name, text);
}

/* The whole file in a NUL-terminated buffer. */
static int s_slurp(const char *path, char **out, size_t *size)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return al_error_set(AL_EIO, NULL, "no %s (%s)", path, strerror(errno));
    char *buf = malloc(STATE_JSON_MAX_FILE + 1);
    if (buf == NULL) {
        fclose(f);
        return al_error_set(AL_ENOMEM, NULL, "out of memory reading %s", path);
    }
    size_t n = fread(buf, 1, STATE_JSON_MAX_FILE + 1, f);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return al_error_set(AL_EIO, NULL, "cannot read %s", path);
    }
    if (n > STATE_JSON_MAX_FILE) {
        free(buf);
        return al_error_set(AL_EFORMAT, NULL, "%s is larger than %u bytes: not a record", path,
                            STATE_JSON_MAX_FILE);
    }
    buf[n] = '\0';
    *out = buf;
    *size = n;
    return AL_OK;
}

static int s_parse(const char *path, const char *text, size_t len, json_object **out)
{
    *out = NULL;
    size_t start = strspn(text, " \t\r\n");
    if (start == len)
        return al_error_set(AL_EFORMAT, NULL, "%s is empty", path);
    if (strlen(text) != len)
        return al_error_set(AL_EFORMAT, NULL, "%s: not text (NUL byte at %zu)", path,
                            strlen(text));
    json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return al_error_set(AL_ENOMEM, NULL, "out of memory parsing %s", path);
    /* Refuses trailing commas, leading zeros and text after the object:
     * what python's json module and other readers of the file refuse. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int rc = AL_OK;
    if (err == json_tokener_continue)
        rc = al_error_set(AL_EFORMAT, NULL, "%s is truncated: it ends inside the record", path);
    else if (obj == NULL)
        rc = al_error_set(AL_EFORMAT, NULL, "%s is not JSON: %s at byte %zu", path,
                          json_tokener_error_desc(err), end);
    else if (end + strspn(text + end, " \t\r\n") != len)
        rc = al_error_set(AL_EFORMAT, NULL, "%s has more after the record (byte %zu)", path, end);
    else if (!json_object_is_type(obj, json_type_object))
        rc = al_error_set(AL_EFORMAT, NULL, "%s holds a JSON %s, not an object", path,
                          json_type_to_name(json_object_get_type(obj)));
    if (rc != AL_OK) {
        json_object_put(obj);
        return rc;
    }
    *out = obj;
    return AL_OK;
}

int state_json_read(const char *path, state_json_t **out)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = s_slurp(path, &text, &len);
    if (rc < 0)
        return rc;
    json_object *obj;
    rc = s_parse(path, text, len, &obj);
    free(text);
    if (rc < 0)
        return rc;
    state_json_t *j = calloc(1, sizeof *j);
    if (j == NULL) {
        json_object_put(obj);
        return al_error_set(AL_ENOMEM, NULL, "out of memory reading %s", path);
    }
    j->obj = obj;
    snprintf(j->source, sizeof j->source, "%s", path);
    *out = j;
    return AL_OK;
}

/* The member key, of type want (json_type_double takes integers too;
 * null_ok: a null member is found, *out NULL), or AL_EFORMAT naming the
 * file and key. */
static int s_member(const state_json_t *j, const char *key, json_type want, int null_ok,
                    json_object **out)
{
    json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(j->obj, key, &v))
        return al_error_set(AL_EFORMAT, NULL, "%s: no \"%s\"", j->source, key);
    if ((v == NULL && null_ok) || json_object_is_type(v, want) ||
        (want == json_type_double && json_object_is_type(v, json_type_int))) {
        *out = v;
        return AL_OK;
    }
    const char *want_name = want == json_type_int      ? "an integer"
                            : want == json_type_double ? "a number"
                            : want == json_type_object ? "an object"
                                                       : "a string";
    return al_error_set(AL_EFORMAT, NULL, "%s: \"%s\" is a JSON %s, not %s", j->source, key,
                        json_type_to_name(json_object_get_type(v)), want_name);
}

int state_json_get_int(const state_json_t *j, const char *key, int64_t *value)
{
    json_object *v;
    int rc = s_member(j, key, json_type_int, 0, &v);
    if (rc < 0)
        return rc;
    /* json-c holds integers above INT64_MAX as uint64 and clamps them here. */
    int64_t x = json_object_get_int64(v);
    if (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
        return al_error_set(AL_EFORMAT, NULL, "%s: \"%s\" is out of range", j->source, key);
    *value = x;
    return AL_OK;
}

int state_json_get_uint(const state_json_t *j, const char *key, uint64_t *value)
{
    json_object *v;
    int rc = s_member(j, key, json_type_int, 0, &v);
    if (rc < 0)
        return rc;
    if (json_object_get_int64(v) < 0)
        return al_error_set(AL_EFORMAT, NULL, "%s: \"%s\" is negative", j->source, key);
    *value = json_object_get_uint64(v);
    return AL_OK;
}

int state_json_get_num(const state_json_t *j, const char *key, double *value)
{
    json_object *v;
    int rc = s_member(j, key, json_type_double, 1, &v);
    if (rc < 0)
        return rc;
    *value = v == NULL ? NAN : json_object_get_double(v);
    return AL_OK;
}

int state_json_get_str(const state_json_t *j, const char *key, const char **value)
{
    json_object *v;
    int rc = s_member(j, key, json_type_string, 0, &v);
    if (rc < 0)
        return rc;
    *value = json_object_get_string(v);
    return AL_OK;
}

int state_json_get_text(const state_json_t *j, const char *key, char *buf, size_t len)
{
    json_object *v;
    int rc = s_member(j, key, json_type_object, 0, &v);
    if (rc < 0)
        return rc;
    const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
    if (text == NULL || snprintf(buf, len, "%s", text) >= (int)len)
        return al_error_set(AL_EFORMAT, NULL, "%s: \"%s\" is longer than %zu bytes", j->source,
                            key, len);
    return AL_OK;
}

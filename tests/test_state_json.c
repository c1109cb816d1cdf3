/* Tests of the state directory's JSON records (daemon/state_json): every
 * kind of member round-trips through a file with its text unchanged, and
 * a malformed, truncated or mistyped record is refused with a message
 * naming the file and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "al_error.h"
#include "state_json.h"

typedef struct {
    char dir[64];
    char path[128];   /* dir/r.json */
} tmp_t;

static int s_setup(void **state)
{
    tmp_t *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/al_test_state_json.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/r.json", t->dir);
    *state = t;
    return 0;
}

static int s_teardown(void **state)
{
    tmp_t *t = *state;
    unlink(t->path);
    rmdir(t->dir);
    free(t);
    return 0;
}

static void s_put(const tmp_t *t, const char *text, size_t len)
{
    FILE *f = fopen(t->path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *s_get(const tmp_t *t)
{
    static char text[4096];
    FILE *f = fopen(t->path, "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

/* A record with one member of every kind the writers use, at the edges of
 * their ranges, in the formats the daemons write. */
static state_json_t *s_every_kind(void)
{
    state_json_t *j = state_json_create();
    assert_non_null(j);
    state_json_str(j, "role", "tx");
    state_json_int(j, "pid", 4242);
    state_json_int(j, "negative", INT64_MIN);
    state_json_uint(j, "session", UINT32_MAX);
    state_json_uint(j, "big", UINT64_MAX);
    state_json_bool(j, "peer", 1);
    state_json_bool(j, "off", 0);
    state_json_fixed(j, "loss", 5, 1.286584);
    state_json_fixed(j, "dbfs", 1, -200.0);
    state_json_fixed(j, "age_s", 0, 16.4);
    state_json_sig(j, "ser", 6, 1e-5);
    state_json_sig(j, "ser_small", 6, 0.000123456789);
    state_json_fixed(j, "none", 5, NAN);
    state_json_sig(j, "inf", 6, -INFINITY);
    state_json_str(j, "out", "dir/with \"quote\" \\ and \t tab, \xc3\xa9");
    return j;
}

static const char s_every_kind_text[] =
    "{\"role\":\"tx\",\"pid\":4242,\"negative\":-9223372036854775808,\"session\":4294967295,"
    "\"big\":18446744073709551615,\"peer\":true,\"off\":false,\"loss\":1.28658,"
    "\"dbfs\":-200.0,\"age_s\":16,\"ser\":1e-05,\"ser_small\":0.000123457,\"none\":null,"
    "\"inf\":null,\"out\":\"dir/with \\\"quote\\\" \\\\ and \\t tab, \xc3\xa9\"}\n";

static void test_state_json_writes_the_daemons_formats(void **state)
{
    (void)state;
    state_json_t *j = s_every_kind();
    assert_string_equal(state_json_text(j), s_every_kind_text);
    state_json_destroy(&j);
    assert_null(j);
    state_json_destroy(&j);   /* NULL-safe */
}

static void test_state_json_round_trips_every_kind(void **state)
{
    tmp_t *t = *state;
    state_json_t *j = s_every_kind();
    assert_int_equal(state_json_write(j, t->dir, "r.json"), AL_OK);
    state_json_destroy(&j);
    assert_string_equal(s_get(t), s_every_kind_text);

    state_json_t *r = NULL;
    assert_int_equal(state_json_read(t->path, &r), AL_OK);
    const char *s;
    int64_t i;
    uint64_t u;
    double d;
    assert_int_equal(state_json_get_str(r, "role", &s), AL_OK);
    assert_string_equal(s, "tx");
    assert_int_equal(state_json_get_int(r, "pid", &i), AL_OK);
    assert_int_equal(i, 4242);
    assert_int_equal(state_json_get_int(r, "negative", &i), AL_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(state_json_get_uint(r, "session", &u), AL_OK);
    assert_true(u == UINT32_MAX);
    assert_int_equal(state_json_get_uint(r, "big", &u), AL_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(state_json_get_num(r, "loss", &d), AL_OK);
    assert_true(d == 1.28658);
    assert_int_equal(state_json_get_num(r, "dbfs", &d), AL_OK);
    assert_true(d == -200.0);
    assert_int_equal(state_json_get_num(r, "age_s", &d), AL_OK);
    assert_true(d == 16.0);
    assert_int_equal(state_json_get_num(r, "ser", &d), AL_OK);
    assert_true(d == 1e-5);
    assert_int_equal(state_json_get_num(r, "ser_small", &d), AL_OK);
    assert_true(d == 0.000123457);
    assert_int_equal(state_json_get_num(r, "none", &d), AL_OK);
    assert_true(isnan(d));
    assert_int_equal(state_json_get_num(r, "inf", &d), AL_OK);
    assert_true(isnan(d));
    assert_int_equal(state_json_get_str(r, "out", &s), AL_OK);
    assert_string_equal(s, "dir/with \"quote\" \\ and \t tab, \xc3\xa9");

    /* Read and written again, byte for byte: what `airlearn status` shows
     * is the daemon's own text. Members added to a read record follow. */
    assert_string_equal(state_json_text(r), s_every_kind_text);
    state_json_bool(r, "running", 0);
    const char *again = state_json_text(r);
    size_t n = strlen(s_every_kind_text) - 2;
    assert_memory_equal(again, s_every_kind_text, n);
    assert_string_equal(again + n, ",\"running\":false}\n");
    state_json_destroy(&r);
}

static void test_state_json_replaces_a_key_in_place(void **state)
{
    (void)state;
    state_json_t *j = state_json_create();
    state_json_uint(j, "a", 1);
    state_json_uint(j, "b", 2);
    state_json_uint(j, "a", 3);
    assert_string_equal(state_json_text(j), "{\"a\":3,\"b\":2}\n");
    state_json_destroy(&j);
}

static void test_state_json_refuses_every_truncation(void **state)
{
    tmp_t *t = *state;
    const size_t whole = strlen(s_every_kind_text);
    /* Every prefix that stops before the closing brace: what a reader
     * would see of a record written without the rename. */
    for (size_t len = 0; len + 1 < whole; len++) {
        s_put(t, s_every_kind_text, len);
        state_json_t *r = (state_json_t *)1;
        int rc = state_json_read(t->path, &r);
        if (rc != AL_EFORMAT)
            fail_msg("a record cut to %zu bytes read as %d", len, rc);
        assert_null(r);
        assert_non_null(strstr(al_error_message(), t->path));
        if (len > 0 && strstr(al_error_message(), "truncated") == NULL)
            fail_msg("cut to %zu bytes: %s", len, al_error_message());
    }
    s_put(t, s_every_kind_text, whole - 1);   /* without the newline */
    state_json_t *r = NULL;
    assert_int_equal(state_json_read(t->path, &r), AL_OK);
    state_json_destroy(&r);
}

static void test_state_json_refuses_what_is_not_one_object(void **state)
{
    tmp_t *t = *state;
    static const struct {
        const char *text;
        size_t len;   /* 0: strlen */
        const char *why;
    } cases[] = {
        {"", 0, "is empty"},
        {" \n\n", 0, "is empty"},
        {"[1,2]\n", 0, "JSON array, not an object"},
        {"\"text\"\n", 0, "JSON string, not an object"},
        {"{\"pid\":1,}\n", 0, "is not JSON"},
        {"{\"pid\":01}\n", 0, "is not JSON"},
        {"{\"pid\":1}\n{\"pid\":2}\n", 0, "is not JSON"},
        {"{\"pid\":1} trailing\n", 0, "is not JSON"},
        {"pid=1\n", 0, "is not JSON"},
        {"{\"pid\":1}\0\n", 11, "NUL byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_put(t, cases[i].text, cases[i].len ? cases[i].len : strlen(cases[i].text));
        state_json_t *r = NULL;
        assert_int_equal(state_json_read(t->path, &r), AL_EFORMAT);
        assert_null(r);
        if (strstr(al_error_message(), cases[i].why) == NULL ||
            strstr(al_error_message(), t->path) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, al_error_message(), cases[i].why);
    }
}

static void test_state_json_refuses_a_huge_file(void **state)
{
    tmp_t *t = *state;
    size_t len = (1u << 20) + 1;
    char *text = malloc(len);
    memset(text, ' ', len);
    text[0] = '{';
    text[len - 1] = '}';
    s_put(t, text, len);
    free(text);
    state_json_t *r = NULL;
    assert_int_equal(state_json_read(t->path, &r), AL_EFORMAT);
    assert_non_null(strstr(al_error_message(), "larger than"));
}

static void test_state_json_missing_file_is_an_io_error(void **state)
{
    tmp_t *t = *state;
    state_json_t *r = NULL;
    assert_int_equal(state_json_read(t->path, &r), AL_EIO);
    assert_null(r);
    char want[200];
    snprintf(want, sizeof want, "no %s (No such file or directory)", t->path);
    assert_string_equal(al_error_message(), want);
}

static void test_state_json_getters_check_the_type(void **state)
{
    tmp_t *t = *state;
    const char *text = "{\"pid\":\"12\",\"n\":-3,\"big\":18446744073709551615,\"x\":null,"
                       "\"f\":1.5,\"b\":true,\"s\":\"x\"}\n";
    s_put(t, text, strlen(text));
    state_json_t *r = NULL;
    assert_int_equal(state_json_read(t->path, &r), AL_OK);
    int64_t i = 7;
    uint64_t u = 7;
    double d = 7;
    const char *s = NULL;
    static const struct {
        int kind;   /* 0 int, 1 uint, 2 num, 3 str */
        const char *key, *why;
    } cases[] = {
        {0, "pid", "\"pid\" is a JSON string, not an integer"},
        {0, "missing", "no \"missing\""},
        {0, "big", "\"big\" is out of range"},
        {0, "x", "\"x\" is a JSON null, not an integer"},
        {0, "f", "\"f\" is a JSON double, not an integer"},
        {1, "n", "\"n\" is negative"},
        {1, "b", "\"b\" is a JSON boolean, not an integer"},
        {2, "s", "\"s\" is a JSON string, not a number"},
        {2, "b", "\"b\" is a JSON boolean, not a number"},
        {3, "n", "\"n\" is a JSON int, not a string"},
        {3, "x", "\"x\" is a JSON null, not a string"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc = cases[k].kind == 0   ? state_json_get_int(r, cases[k].key, &i)
                 : cases[k].kind == 1 ? state_json_get_uint(r, cases[k].key, &u)
                 : cases[k].kind == 2 ? state_json_get_num(r, cases[k].key, &d)
                                      : state_json_get_str(r, cases[k].key, &s);
        assert_int_equal(rc, AL_EFORMAT);
        if (strstr(al_error_message(), cases[k].why) == NULL ||
            strstr(al_error_message(), t->path) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", k, al_error_message(), cases[k].why);
    }
    /* Nothing is written on a refusal. */
    assert_true(i == 7 && u == 7 && d == 7 && s == NULL);
    /* An integer is a number. */
    assert_int_equal(state_json_get_num(r, "n", &d), AL_OK);
    assert_true(d == -3.0);
    state_json_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_json_writes_the_daemons_formats),
        cmocka_unit_test_setup_teardown(test_state_json_round_trips_every_kind, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_state_json_replaces_a_key_in_place),
        cmocka_unit_test_setup_teardown(test_state_json_refuses_every_truncation, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_state_json_refuses_what_is_not_one_object, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_state_json_refuses_a_huge_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_state_json_missing_file_is_an_io_error, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_state_json_getters_check_the_type, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

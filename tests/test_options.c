/* Tests of the settings table (daemon/options): defaults, files, command
 * line, and rejections that name file, line and key. */
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
#include "al_options.h"

typedef struct {
    unsigned sps;
    double rate;
    char device[32];
    int kind;
    int verbose;
    uint64_t seed;
} cfg_t;

static const char *const s_kinds[] = {"awgn", "fading", NULL};

#define O(f) offsetof(cfg_t, f)
static const opt_desc s_table[] = {
    {"phy", "sps", OPT_UINT, O(sps), 0, 2, 16, 0, "2", "samples per symbol"},
    {"radio", "rate", OPT_DOUBLE, O(rate), 0, 1e5, 1e8, 0, "2e6", "sample rate"},
    {"radio", "device", OPT_STRING, O(device), 32, 0, 0, 0, "driver=airsim", "device"},
    {"model", "kind", OPT_ENUM, O(kind), 0, 0, 0, s_kinds, "awgn", "receiver"},
    {"log", "verbose", OPT_BOOL, O(verbose), 0, 0, 0, 0, "false", "more output"},
    {"model", "seed", OPT_U64, O(seed), 0, 0, 1e15, 0, "5", "seed"},
    {0},
};

static char s_path[64];

static void s_write(const char *text)
{
    snprintf(s_path, sizeof s_path, "/tmp/al_test_opt.XXXXXX");
    int fd = mkstemp(s_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_options_defaults_then_file_then_command_line(void **state)
{
    (void)state;
    cfg_t c;
    assert_int_equal(opt_defaults(s_table, &c), 0);
    assert_int_equal(c.sps, 2);
    assert_string_equal(c.device, "driver=airsim");
    s_write("[phy]\nsps = 4\n; comment\n[radio]\nrate = 1e6\n[model]\nkind = fading\n");
    assert_int_equal(opt_load_ini(s_table, &c, s_path, NULL), 0);
    assert_int_equal(c.sps, 4);
    assert_float_equal(c.rate, 1e6, 0);
    assert_int_equal(c.kind, 1);
    char *argv[] = {"x", "--phy.sps=8", "--radio.device", "driver=hackrf", "--verbose", "rest"};
    int unknown;
    assert_int_equal(opt_parse_args(s_table, &c, 6, argv, 1, &unknown), 0);
    assert_int_equal(unknown, 5);
    assert_int_equal(c.sps, 8);
    assert_string_equal(c.device, "driver=hackrf");
    assert_int_equal(c.verbose, 1);
    unlink(s_path);
}

static void s_expect_file_error(const char *text, const char *needle)
{
    cfg_t c;
    opt_defaults(s_table, &c);
    s_write(text);
    assert_int_equal(opt_load_ini(s_table, &c, s_path, NULL), AL_EINVAL);
    char expect[128];
    snprintf(expect, sizeof expect, "%s%s", s_path, needle);
    print_message("%s\n", al_error_message());
    assert_non_null(strstr(al_error_message(), expect));
    unlink(s_path);
}

static void test_options_file_errors_name_file_line_and_key(void **state)
{
    (void)state;
    s_expect_file_error("[phy]\nsps = 2\nspss = 3\n", ":3: [phy] spss: unknown setting");
    s_expect_file_error("[phy]\n\nsps = 99\n", ":3: [phy] sps: 99 is out of range");
    s_expect_file_error("[radio]\nrate = fast\n", ":2: [radio] rate: 'fast' is not a finite number");
    s_expect_file_error("[model]\nkind = rician\n", ":2: [model] kind: 'rician' is not one of awgn fading");
    s_expect_file_error("[phy]\nthis line has no equals sign\n", ":2: malformed line");
    s_expect_file_error("sps = 2\n", ":1: sps: setting outside any [section]");
    s_expect_file_error("[phy]\nsps = 2.5\n", ":2: [phy] sps: '2.5' is not a whole number");
    s_expect_file_error("[radio]\ndevice = driver=airsim,link=ipc:///a/very/long/path/x\n",
                        ":2: [radio] device: longer than 31 characters");
}

static void test_options_command_line_errors_name_the_key(void **state)
{
    (void)state;
    cfg_t c;
    opt_defaults(s_table, &c);
    int unknown;
    char *bad[] = {"x", "--phy.sps=1"};
    assert_int_equal(opt_parse_args(s_table, &c, 2, bad, 1, &unknown), AL_EINVAL);
    assert_non_null(strstr(al_error_message(), "--phy.sps: 1 is out of range"));
    char *missing[] = {"x", "--rate"};
    assert_int_equal(opt_parse_args(s_table, &c, 2, missing, 1, &unknown), AL_EINVAL);
    assert_non_null(strstr(al_error_message(), "needs a value"));
    char *unknown_opt[] = {"x", "--nope=3"};
    assert_int_equal(opt_parse_args(s_table, &c, 2, unknown_opt, 1, &unknown), 0);
    assert_int_equal(unknown, 1);
}

static void test_options_missing_file_is_an_io_error(void **state)
{
    (void)state;
    cfg_t c;
    opt_defaults(s_table, &c);
    assert_int_equal(opt_load_ini(s_table, &c, "/nonexistent/x.conf", NULL), AL_EIO);
    char *argv[] = {"x", "--a", "--config", "f.conf"};
    assert_string_equal(opt_find_config(4, argv), "f.conf");
}

static void test_options_written_ini_reads_back(void **state)
{
    (void)state;
    cfg_t a, b;
    opt_defaults(s_table, &a);
    a.sps = 7;
    a.rate = 1234567.5;
    a.kind = 1;
    a.seed = 123456789012ull;
    snprintf(s_path, sizeof s_path, "/tmp/al_test_opt.XXXXXX");
    int fd = mkstemp(s_path);
    FILE *f = fdopen(fd, "w");
    opt_write_ini(s_table, &a, f);
    fclose(f);
    opt_defaults(s_table, &b);
    assert_int_equal(opt_load_ini(s_table, &b, s_path, NULL), 0);
    assert_int_equal(b.sps, 7);
    assert_float_equal(b.rate, 1234567.5, 0);
    assert_int_equal(b.kind, 1);
    assert_true(b.seed == 123456789012ull);
    unlink(s_path);
}

static void test_options_load_says_where_it_stopped(void **state)
{
    (void)state;
    cfg_t c;
    opt_origin origin;
    char *good[] = {"x", "--sps=4", "--model.kind", "fading"};
    assert_int_equal(opt_load(s_table, &c, NULL, 4, good, &origin), 0);
    assert_int_equal(c.sps, 4);
    assert_int_equal(c.kind, 1);
    assert_float_equal(c.rate, 2e6, 0);
    char *bad_value[] = {"x", "--sps=99"};
    assert_int_equal(opt_load(s_table, &c, NULL, 2, bad_value, &origin), AL_EINVAL);
    assert_int_equal(origin, OPT_FROM_ARGS);
    char *unknown[] = {"x", "--sps=4", "--bogus"};
    assert_int_equal(opt_load(s_table, &c, NULL, 3, unknown, &origin), AL_EINVAL);
    assert_int_equal(origin, OPT_FROM_UNKNOWN);
    assert_string_equal(al_error_message(), "unknown option '--bogus'");
    char *missing[] = {"x", "--config", "/nonexistent/x.conf", "--sps=4"};
    assert_int_equal(opt_load(s_table, &c, NULL, 4, missing, &origin), AL_EIO);
    assert_int_equal(origin, OPT_FROM_FILE);
    /* The file, then the command line over it. */
    s_write("[phy]\nsps = 8\n[radio]\nrate = 1e6\n");
    char *both[] = {"x", "--config", s_path, "--sps=3"};
    assert_int_equal(opt_load(s_table, &c, NULL, 4, both, &origin), 0);
    assert_int_equal(c.sps, 3);
    assert_float_equal(c.rate, 1e6, 0);
    unlink(s_path);
}

typedef struct {
    double v;
} one_double;

static const opt_desc s_double_table[] = {
    {"x", "v", OPT_DOUBLE, offsetof(one_double, v), 0, -1.7976931348623157e308,
     1.7976931348623157e308, 0, "0", "any finite double"},
    {0},
};

/* The value part of "v = TEXT" in an INI text written for one_double. */
static void s_written(double v, char *text, size_t len)
{
    one_double c = {v};
    FILE *f = fmemopen(text, len, "w");
    assert_non_null(f);
    opt_write_ini(s_double_table, &c, f);
    assert_int_equal(fclose(f), 0);
}

/* Significant digits of a %g text. */
static int s_digits(const char *t)
{
    int n = 0, leading = 1;
    for (; *t && *t != 'e'; t++) {
        if (*t < '0' || *t > '9')
            continue;
        if (*t == '0' && leading)
            continue;
        leading = 0;
        n++;
    }
    return n ? n : 1;
}

static void test_options_writes_the_shortest_double_that_reads_back(void **state)
{
    (void)state;
    /* Values typed as short decimals are written as typed. */
    const char *const typed[][2] = {{"0.35", "0.35"}, {"0.005", "0.005"}, {"915e6", "9.15e+08"},
                                    {"1e-06", "1e-06"}, {"-12", "-12"}, {"0.1", "0.1"},
                                    {"2.5e-300", "2.5e-300"}, {"30", "30"},
                                    {"-20", "-20"}, {"150", "150"}, {"1e6", "1e+06"},
                                    {"100000", "1e+05"}, {"120000", "120000"}};
    char text[128], want[400];
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        s_written(strtod(typed[i][0], NULL), text, sizeof text);
        snprintf(want, sizeof want, "[x]\nv = %s\n", typed[i][1]);
        assert_string_equal(text, want);
    }
    /* Any finite normal double reads back bit for bit, and one digit
     * fewer would not: random bit patterns (every exponent) and decimal
     * steps. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 50000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        if (i % 2) {
            memcpy(&v, &x, sizeof v);
            /* Subnormals are refused on reading (strtod reports them as
             * an underflow): no setting needs them. */
            if (!isfinite(v) || (v != 0 && !isnormal(v)))
                continue;
        } else {
            v = (double)(int64_t)(x % 2000001) / 1000.0 - 1000.0;
        }
        s_written(v, text, sizeof text);
        one_double back = {NAN};
        if (opt_load_ini_string(s_double_table, &back, text, "written", NULL) != 0)
            fail_msg("%.17g written as %s: %s", v, text, al_error_message());
        if (memcmp(&back.v, &v, sizeof v) != 0 && !(v == 0 && back.v == 0))
            fail_msg("%.17g written as %s read back as %.17g", v, text, back.v);
        const char *value = strstr(text, "= ") + 2;
        const size_t written = strcspn(value, "\n");
        /* A whole number is written out when that is no longer. */
        if (v == floor(v) && fabs(v) < 1e17) {
            snprintf(want, sizeof want, "%.0f", v);
            if (strlen(want) < written)
                fail_msg("%.17g written as %s: %s is shorter", v, value, want);
        }
        /* Written out, a whole number is checked against %g's shortest
         * form; in %g form, one digit fewer must not read back. */
        const int digits = s_digits(value);
        if (strpbrk(value, ".e") == NULL) {
            for (int d = 1; d <= 17; d++) {
                snprintf(want, sizeof want, "%.*g", d, v);
                if (strtod(want, NULL) == v && strlen(want) < written)
                    fail_msg("%.17g written as %s: %s is shorter", v, value, want);
            }
        } else if (digits > 1) {
            snprintf(want, sizeof want, "%.*g", digits - 1, v);
            if (strtod(want, NULL) == v)
                fail_msg("%.17g written as %s: %s reads back too", v, value, want);
        }
    }
}

/* A command wrapping cfg_t: two settings of its own, two of s_table's
 * under other names. */
typedef struct {
    double snr;
    cfg_t inner;
    char out[16];
} outer_t;

static const opt_desc s_outer_own[] = {
    {"demo", "snr", OPT_DOUBLE, offsetof(outer_t, snr), 0, -10, 60, 0, "12", "SNR"},
    {"demo", "out", OPT_STRING, offsetof(outer_t, out), 16, 0, 0, 0, "here", "output"},
    {0},
};

static const opt_alias s_outer_aliases[] = {
    {"samples-per-symbol", "phy", "sps", "4", NULL},
    {"receiver", "model", "kind", NULL, "the receiver"},
    {0},
};

static void test_options_joined_table_takes_the_sources_type_range_and_place(void **state)
{
    (void)state;
    opt_desc t[8];
    int n = opt_table_join(t, 8, "demo", s_outer_own, s_table, offsetof(outer_t, inner),
                           s_outer_aliases);
    assert_int_equal(n, 4);
    assert_null(t[4].name);
    assert_string_equal(t[2].name, "samples-per-symbol");
    assert_string_equal(t[2].section, "demo");
    assert_string_equal(t[2].help, "samples per symbol");
    assert_string_equal(t[3].help, "the receiver");
    outer_t o;
    memset(&o, 0, sizeof o);
    opt_defaults(s_table, &o.inner);
    opt_origin origin;
    char *ok[] = {"x", "--samples-per-symbol=8", "--receiver", "fading", "--snr=3"};
    assert_int_equal(opt_load(t, &o, "demo", 5, ok, &origin), 0);
    assert_int_equal(o.inner.sps, 8);
    assert_int_equal(o.inner.kind, 1);
    assert_true(o.snr == 3.0);
    assert_true(o.inner.rate == 2e6);   /* not offered: the source's default stays */
    char *dflt[] = {"x"};
    assert_int_equal(opt_load(t, &o, "demo", 1, dflt, &origin), 0);
    assert_int_equal(o.inner.sps, 4);   /* the alias's own default */
    assert_int_equal(o.inner.kind, 0);
    /* The source's range and choices, under this command's name. */
    char *low[] = {"x", "--samples-per-symbol=1"};
    assert_int_equal(opt_load(t, &o, "demo", 2, low, &origin), AL_EINVAL);
    assert_non_null(strstr(al_error_message(), "--demo.samples-per-symbol: 1 is out of range"));
    char *bad[] = {"x", "--receiver=rician"};
    assert_int_equal(opt_load(t, &o, "demo", 2, bad, &origin), AL_EINVAL);
    assert_non_null(strstr(al_error_message(), "not one of awgn fading"));
}

static void test_options_join_refuses_an_alias_of_nothing_and_a_short_table(void **state)
{
    (void)state;
    opt_desc t[8];
    const opt_alias wrong[] = {{"x", "phy", "spss", NULL, NULL}, {0}};
    assert_int_equal(opt_table_join(t, 8, "demo", s_outer_own, s_table, 0, wrong), AL_EINVAL);
    assert_non_null(strstr(al_error_message(), "--x: no setting [phy] spss"));
    const opt_alias other_section[] = {{"x", "radio", "sps", NULL, NULL}, {0}};
    assert_int_equal(opt_table_join(t, 8, "demo", s_outer_own, s_table, 0, other_section),
                     AL_EINVAL);
    assert_int_equal(opt_table_join(t, 4, "demo", s_outer_own, s_table, 0, s_outer_aliases),
                     AL_EINVAL);
    assert_non_null(strstr(al_error_message(), "room for 4 entries"));
    assert_int_equal(opt_table_join(t, 5, "demo", s_outer_own, s_table, 0, s_outer_aliases), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_defaults_then_file_then_command_line),
        cmocka_unit_test(test_options_file_errors_name_file_line_and_key),
        cmocka_unit_test(test_options_command_line_errors_name_the_key),
        cmocka_unit_test(test_options_missing_file_is_an_io_error),
        cmocka_unit_test(test_options_written_ini_reads_back),
        cmocka_unit_test(test_options_writes_the_shortest_double_that_reads_back),
        cmocka_unit_test(test_options_load_says_where_it_stopped),
        cmocka_unit_test(test_options_joined_table_takes_the_sources_type_range_and_place),
        cmocka_unit_test(test_options_join_refuses_an_alias_of_nothing_and_a_short_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of the settings table (daemon/options): defaults, files, command
 * line, and rejections that name file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_defaults_then_file_then_command_line),
        cmocka_unit_test(test_options_file_errors_name_file_line_and_key),
        cmocka_unit_test(test_options_command_line_errors_name_the_key),
        cmocka_unit_test(test_options_missing_file_is_an_io_error),
        cmocka_unit_test(test_options_written_ini_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of the outputs for people (daemon/plot/plot): the constellation
 * CSV, with and without method labels, replaced whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot.h"

static char *s_read(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static unsigned s_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_plot_constellation_csv_writes_tables_whole(void **state)
{
    (void)state;
    char dir[] = "/tmp/al_test_plot.XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/constellation.csv", dir);
    /* M = 2, N = 2: message m, symbol s at [(m * N + s) * 2]. */
    const float a[8] = {1.0f, -1.0f, 0.5f, 0.25f, 1e-8f, 3.0f, -0.125f, 0.0f};
    const float b[8] = {2, 2, 2, 2, 2, 2, 2, 2};
    const float *one[] = {a};
    assert_int_equal(plot_constellation_csv(path, NULL, one, 1, 2, 2), 0);
    assert_string_equal(s_read(path), "message,symbol,i,q\n"
                                      "0,0,1,-1\n0,1,0.5,0.25\n1,0,1e-08,3\n1,1,-0.125,0\n");
    const char *labels[] = {"supervised", "model-free"};
    const float *two[] = {a, b};
    assert_int_equal(plot_constellation_csv(path, labels, two, 2, 2, 1), 0);
    assert_string_equal(s_read(path), "method,message,symbol,i,q\n"
                                      "supervised,0,0,1,-1\nsupervised,1,0,0.5,0.25\n"
                                      "model-free,0,0,2,2\nmodel-free,1,0,2,2\n");
    /* Replaced through a temporary file that does not stay behind. */
    assert_int_equal(s_entries(dir), 1);
    snprintf(path, sizeof path, "%s/missing/constellation.csv", dir);
    assert_true(plot_constellation_csv(path, NULL, one, 1, 2, 2) < 0);
    snprintf(path, sizeof path, "%s/constellation.csv", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_constellation_csv_writes_tables_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

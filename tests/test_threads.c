/* Tests of common/al_threads: subnormals are flushed in every thread that
 * computes, OpenBLAS's own workers included, and AIRLEARN_FTZ=0 keeps
 * them; OpenBLAS runs AVX-512 kernels where the CPU has them, unless
 * told not to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "al_threads.h"

#if defined(__x86_64__) || defined(__SSE2__)
#define HAVE_FLUSH 1
#else
#define HAVE_FLUSH 0
#endif

/* OpenBLAS's pthread server runs fn(args + i*stride) for i < n: i = 0 in
 * the caller, the others in its worker threads (driver/others/
 * blas_server.c, gotoblas_pthread). Exported but not declared in cblas.h;
 * weak, since the OpenMP and serial builds lack it. */
extern int gotoblas_pthread(int n, void *fn, void *args, int stride) __attribute__((weak));

typedef struct {
    pthread_t thread;
    int flushing;
} probe;

static void s_probe(void *arg)
{
    probe *p = arg;
    p->thread = pthread_self();
    p->flushing = al_threads_flushing();
}

/* How many of OpenBLAS's `threads` threads (the caller and threads - 1
 * workers, checked to be distinct) flush subnormals. */
static int s_flushing_blas_threads(int threads)
{
    probe p[8] = {{0}};
    assert_true(threads <= 8);
    assert_int_equal(al_threads_set(threads), 0);
    gotoblas_pthread(threads, (void *)s_probe, p, (int)sizeof p[0]);
    int flushing = 0;
    for (int i = 0; i < threads; i++) {
        for (int j = 0; j < i; j++)
            assert_false(pthread_equal(p[i].thread, p[j].thread));
        flushing += p[i].flushing;
    }
    assert_int_equal(al_threads_set(1), 0);
    return flushing;
}

static void *s_report_flushing(void *arg)
{
    *(int *)arg = al_threads_flushing();
    return NULL;
}

static int s_flushing_in_new_thread(void)
{
    pthread_t t;
    int flushing = -1;
    assert_int_equal(pthread_create(&t, NULL, s_report_flushing, &flushing), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    return flushing;
}

static void test_threads_blas_choice_switches_only_avx512_cpus_on_other_kernels(void **state)
{
    (void)state;
    assert_string_equal(al_threads_blas_choice(1, "Haswell", NULL, NULL), "SKYLAKEX");
    assert_string_equal(al_threads_blas_choice(1, "Zen", NULL, NULL), "SKYLAKEX");
    assert_string_equal(al_threads_blas_choice(1, "Haswell", NULL, "1"), "SKYLAKEX");
    assert_null(al_threads_blas_choice(0, "Haswell", NULL, NULL));
    assert_null(al_threads_blas_choice(1, "SkylakeX", NULL, NULL));
    assert_null(al_threads_blas_choice(1, "Cooperlake", NULL, NULL));
    assert_null(al_threads_blas_choice(1, "SAPPHIRERAPIDS", NULL, NULL));
    assert_null(al_threads_blas_choice(1, "Haswell", "HASWELL", NULL));
    assert_null(al_threads_blas_choice(1, "Haswell", NULL, "0"));
    assert_null(al_threads_blas_choice(1, NULL, NULL, NULL));
}

/* Largest |C - A B| over 96 x 80 x 72 uniform matrices, against a
 * double-precision product. */
static double s_sgemm_error(void)
{
    enum { M = 96, K = 80, N = 72 };
    static float a[M * K], b[K * N], c[M * N];
    unsigned x = 12345u;
    for (int i = 0; i < M * K; i++)
        a[i] = (float)((x = x * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int i = 0; i < K * N; i++)
        b[i] = (float)((x = x * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c,
                N);
    double worst = 0.0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double ref = 0.0;
            for (int k = 0; k < K; k++)
                ref += (double)a[i * K + k] * b[k * N + j];
            worst = fmax(worst, fabs(ref - c[i * N + j]));
        }
    }
    return worst;
}

/* Runs first: once switched, the library's own choice is gone. meson
 * starts this test with OPENBLAS_CORETYPE=Haswell; unset before the first
 * al_threads_init, the library is where one that does not know the CPU
 * leaves it. */
static void test_threads_init_switches_to_avx512_kernels_unless_told_not_to(void **state)
{
    (void)state;
    char before[64];
    snprintf(before, sizeof before, "%s", al_threads_blas_core());
    assert_int_equal(unsetenv("OPENBLAS_CORETYPE"), 0);

    assert_int_equal(setenv(AL_THREADS_CORE_ENV, "0", 1), 0);
    al_threads_init();
    assert_string_equal(al_threads_blas_core(), before);
    assert_true(s_sgemm_error() < 1e-4);
    assert_int_equal(unsetenv(AL_THREADS_CORE_ENV), 0);

    /* A user's choice is obeyed. */
    assert_int_equal(setenv("OPENBLAS_CORETYPE", before, 1), 0);
    al_threads_init();
    assert_string_equal(al_threads_blas_core(), before);
    assert_string_equal(getenv("OPENBLAS_CORETYPE"), before);
    assert_int_equal(unsetenv("OPENBLAS_CORETYPE"), 0);

    const char *want = al_threads_blas_choice(al_threads_cpu_avx512(), before, NULL, NULL);
    al_threads_init();
    if (want != NULL)
        assert_true(strcasecmp(al_threads_blas_core(), "SkylakeX") == 0);
    else
        assert_string_equal(al_threads_blas_core(), before);
    assert_null(getenv("OPENBLAS_CORETYPE"));
    assert_true(s_sgemm_error() < 1e-4);
    assert_int_equal(al_threads_set(2), 0);
    assert_true(s_sgemm_error() < 1e-4);
    assert_int_equal(al_threads_set(1), 0);
}

static void test_threads_init_flushes_subnormals_in_calling_thread(void **state)
{
    (void)state;
    if (!HAVE_FLUSH)
        skip();
    assert_int_equal(unsetenv(AL_THREADS_FTZ_ENV), 0);
    assert_int_equal(al_threads_init(), 1);
    assert_int_equal(al_threads_flushing(), 1);
    volatile float tiny = FLT_MIN / 8.0f, half = 0.5f;
    assert_true(tiny * 1.0f == 0.0f);       /* denormals-are-zero */
    assert_true(FLT_MIN * half == 0.0f);    /* flush-to-zero */
}

static void test_threads_created_later_inherit_flushing(void **state)
{
    (void)state;
    if (!HAVE_FLUSH)
        skip();
    assert_int_equal(unsetenv(AL_THREADS_FTZ_ENV), 0);
    assert_int_equal(al_threads_init(), 1);
    assert_int_equal(s_flushing_in_new_thread(), 1);
}

static void test_threads_openblas_workers_flush_subnormals(void **state)
{
    (void)state;
    if (!HAVE_FLUSH || gotoblas_pthread == NULL)
        skip();
    assert_int_equal(unsetenv(AL_THREADS_FTZ_ENV), 0);
    assert_int_equal(al_threads_init(), 1);
    assert_int_equal(s_flushing_blas_threads(2), 2);
    assert_int_equal(s_flushing_blas_threads(4), 4);
}

static void test_threads_ftz_env_zero_keeps_subnormals_everywhere(void **state)
{
    (void)state;
    if (!HAVE_FLUSH)
        skip();
    assert_int_equal(setenv(AL_THREADS_FTZ_ENV, "0", 1), 0);
    assert_int_equal(al_threads_init(), 0);
    assert_int_equal(al_threads_flushing(), 0);
    assert_int_equal(s_flushing_in_new_thread(), 0);
    if (gotoblas_pthread != NULL)
        assert_int_equal(s_flushing_blas_threads(2), 0);
    assert_int_equal(unsetenv(AL_THREADS_FTZ_ENV), 0);
    assert_int_equal(al_threads_init(), 1);
}

static void test_threads_set_rejects_out_of_range_counts(void **state)
{
    (void)state;
    assert_int_not_equal(al_threads_set(0), 0);
    assert_int_not_equal(al_threads_set(257), 0);
    assert_int_equal(al_threads_set(1), 0);
    assert_int_equal(al_threads_get(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_init_switches_to_avx512_kernels_unless_told_not_to),
        cmocka_unit_test(test_threads_blas_choice_switches_only_avx512_cpus_on_other_kernels),
        cmocka_unit_test(test_threads_init_flushes_subnormals_in_calling_thread),
        cmocka_unit_test(test_threads_created_later_inherit_flushing),
        cmocka_unit_test(test_threads_openblas_workers_flush_subnormals),
        cmocka_unit_test(test_threads_ftz_env_zero_keeps_subnormals_everywhere),
        cmocka_unit_test(test_threads_set_rejects_out_of_range_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of the receiver network (rx/rx_net): gradients of both receiver
 * kinds against finite differences, and the input gradient dL/dy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "al_error.h"
#include "fd_check.h"
#include "rx_net.h"

enum { M = 8, N = 2, B = 6 };

typedef struct {
    rx_net_t *q;
    float y[B * 2 * N];
    uint32_t labels[B];
} ctx_t;

static double s_loss(void *p)
{
    ctx_t *c = p;
    float l[B];
    rx_net_losses(c->q, c->y, c->labels, B, l, NULL);
    double s = 0;
    for (int i = 0; i < B; i++)
        s += l[i];
    return s / B;
}

static void s_setup(ctx_t *c, rx_kind kind, int unscaled)
{
    rx_net_config cfg = rx_net_config_default(M, N, kind);
    cfg.unscaled = unscaled;
    cfg.hidden = 10;
    cfg.est_hidden = 5;
    cfg.max_batch = B;
    c->q = rx_net_create(&cfg);
    assert_non_null(c->q);
    rx_net_init(c->q, 21);
    al_rng_t r;
    al_rng_seed(&r, 8);
    for (int i = 0; i < B * 2 * N; i++)
        c->y[i] = (float)al_rng_normal(&r);
    for (int i = 0; i < B; i++)
        c->labels[i] = al_rng_below(&r, M);
    if (kind == RX_KIND_FADING) {
        /* Move the estimator away from its h = 1 start so the division's
         * gradient is exercised with a genuinely complex h. */
        al_model_t *m = rx_net_model(c->q);
        al_dense_params p = al_dense_get_params(al_model_dense(m, 3));
        p.b[0] = 0.7f;
        p.b[1] = -0.6f;
    }
}

static void s_check(rx_kind kind, int unscaled)
{
    ctx_t c;
    s_setup(&c, kind, unscaled);
    float dy[B * 2 * N], mean;
    assert_int_equal(rx_net_gradient(c.q, c.y, c.labels, B, dy, &mean), 0);
    assert_float_equal(mean, s_loss(&c), 1e-5);
    al_model_t *m = rx_net_model(c.q);
    /* The analytic gradient must be copied: the FD loss re-runs forward. */
    size_t n = al_model_num_params(m);
    float *g = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        g[i] = al_model_grads(m)[i];
    double rel = fd_compare(s_loss, &c, al_model_params(m), g, n, 400, 2e-3f, 1);
    print_message("%s: parameter gradient relative error %.2e\n", rx_kind_name(kind), rel);
    assert_true(rel < 1e-2);
    rel = fd_compare(s_loss, &c, c.y, dy, B * 2 * N, B * 2 * N, 2e-3f, 2);
    print_message("%s: input gradient relative error %.2e\n", rx_kind_name(kind), rel);
    assert_true(rel < 1e-2);
    free(g);
    rx_net_destroy(&c.q);
}

static void test_rx_awgn_gradients_match_finite_differences(void **state)
{
    (void)state;
    s_check(RX_KIND_AWGN, 0);
}

static void test_rx_fading_gradients_match_finite_differences(void **state)
{
    (void)state;
    s_check(RX_KIND_FADING, 0);
}

static void test_rx_fading_unscaled_gradients_match_finite_differences(void **state)
{
    /* The fading receiver fed y as received (no RMS scaling). */
    (void)state;
    s_check(RX_KIND_FADING, 1);
}

static void test_rx_training_learns_a_fixed_constellation(void **state)
{
    /* 8 well-separated points with little noise: a working receiver gets
     * them all right after a short training; an untrained one is at
     * chance (7/8 errors). */
    (void)state;
    rx_net_config cfg = rx_net_config_default(8, 1, RX_KIND_AWGN);
    cfg.lr = 1e-2f;
    cfg.max_batch = 64;
    rx_net_t *q = rx_net_create(&cfg);
    al_rng_t r;
    al_rng_seed(&r, 4);
    float y[64 * 2];
    uint32_t labels[64], dec[64];
    for (int it = 0; it < 400; it++) {
        for (int i = 0; i < 64; i++) {
            labels[i] = al_rng_below(&r, 8);
            float nr, ni;
            al_rng_cnormal(&r, 0.01, &nr, &ni);
            y[2 * i] = cosf(labels[i] * 0.785398f) + nr;
            y[2 * i + 1] = sinf(labels[i] * 0.785398f) + ni;
        }
        assert_int_equal(rx_net_train_step(q, y, labels, 64, NULL, NULL), 0);
    }
    assert_int_equal(rx_net_decide(q, y, 64, dec), 0);
    int errors = 0;
    for (int i = 0; i < 64; i++)
        errors += dec[i] != labels[i];
    assert_int_equal(errors, 0);
    rx_net_destroy(&q);
}

/* rx_net_losses' decisions come from the same pass as its losses: they
 * must equal rx_net_decide's, and the losses those without decisions. */
static void test_rx_losses_decisions_equal_decide(void **state)
{
    (void)state;
    rx_net_config cfg = rx_net_config_default(40, N, RX_KIND_AWGN);
    cfg.max_batch = 32;
    rx_net_t *q = rx_net_create(&cfg);
    assert_non_null(q);
    float y[32 * 2 * N], l1[32], l2[32];
    uint32_t labels[32], d1[32], d2[32];
    al_rng_t r;
    al_rng_seed(&r, 9);
    al_rng_fill_normalf(&r, y, 32 * 2 * N, 1.0f);
    for (int i = 0; i < 32; i++) {
        labels[i] = al_rng_below(&r, 40);
        d2[i] = 40; /* no message: must be overwritten */
    }
    assert_int_equal(rx_net_decide(q, y, 32, d1), 0);
    assert_int_equal(rx_net_losses(q, y, labels, 32, l1, d2), 0);
    assert_int_equal(rx_net_losses(q, y, labels, 32, l2, NULL), 0);
    for (int i = 0; i < 32; i++) {
        assert_int_equal(d1[i], d2[i]);
        assert_float_equal(l1[i], l2[i], 0);
    }
    rx_net_destroy(&q);
}

static void test_rx_rejects_bad_configuration_and_labels(void **state)
{
    (void)state;
    rx_net_config cfg = rx_net_config_default(1, 4, RX_KIND_AWGN);
    assert_null(rx_net_create(&cfg));
    cfg = rx_net_config_default(16, 0, RX_KIND_AWGN);
    assert_null(rx_net_create(&cfg));
    rx_kind k;
    assert_int_equal(rx_kind_parse("rayleigh", &k), AL_EINVAL);
    assert_int_equal(rx_kind_parse("fading", &k), 0);
    cfg = rx_net_config_default(4, 1, RX_KIND_AWGN);
    cfg.max_batch = 2;
    rx_net_t *q = rx_net_create(&cfg);
    float y[6] = {0}, l[3];
    uint32_t labels[3] = {0, 4, 1};
    assert_int_equal(rx_net_losses(q, y, labels, 2, l, NULL), AL_ERANGE);
    assert_int_equal(rx_net_losses(q, y, labels, 3, l, NULL), AL_EINVAL); /* > max_batch */
    rx_net_destroy(&q);
    rx_net_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rx_awgn_gradients_match_finite_differences),
        cmocka_unit_test(test_rx_fading_gradients_match_finite_differences),
        cmocka_unit_test(test_rx_fading_unscaled_gradients_match_finite_differences),
        cmocka_unit_test(test_rx_training_learns_a_fixed_constellation),
        cmocka_unit_test(test_rx_losses_decisions_equal_decide),
        cmocka_unit_test(test_rx_rejects_bad_configuration_and_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

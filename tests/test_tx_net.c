/* Tests of the transmitter network (tx/tx_net): the table, its gradient
 * against finite differences, and the policy-gradient estimator against
 * the true gradient of the same loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "fd_check.h"
#include "rx_net.h"
#include "tx_net.h"

enum { M = 8, N = 2, B = 12 };

typedef struct {
    tx_net_t *q;
    uint32_t msgs[B];
    float c[B * 2 * N];
} ctx_t;

static double s_loss(void *p)
{
    ctx_t *t = p;
    float x[B * 2 * N];
    tx_net_rebuild(t->q);
    tx_net_encode(t->q, t->msgs, B, x);
    double s = 0;
    for (int i = 0; i < B * 2 * N; i++)
        s += (double)t->c[i] * x[i];
    return s;
}

static void s_check_gradient(al_power_mode power)
{
    ctx_t t;
    tx_net_config cfg = tx_net_config_default(M, N);
    cfg.power = power;
    cfg.hidden = 6;
    t.q = tx_net_create(&cfg);
    assert_non_null(t.q);
    tx_net_init(t.q, 3);
    al_rng_t r;
    al_rng_seed(&r, 12);
    for (int i = 0; i < B; i++)
        t.msgs[i] = al_rng_below(&r, M); /* repeats: gradients must add up */
    for (int i = 0; i < B * 2 * N; i++)
        t.c[i] = 2.0f * al_rng_uniformf(&r) - 1.0f;
    assert_int_equal(tx_net_gradient(t.q, t.msgs, t.c, B), 0);
    al_model_t *m = tx_net_model(t.q);
    size_t n = al_model_num_params(m);
    float *g = malloc(sizeof(float) * n);
    memcpy(g, al_model_grads(m), sizeof(float) * n);
    double rel = fd_compare(s_loss, &t, al_model_params(m), g, n, n, 2e-3f, 1);
    print_message("tx %s: relative error %.2e\n", al_power_mode_name(power), rel);
    assert_true(rel < 1e-2);
    free(g);
    tx_net_destroy(&t.q);
}

static void test_tx_gradient_matches_finite_differences_average_power(void **state)
{
    (void)state;
    s_check_gradient(AL_POWER_AVERAGE);
}

static void test_tx_gradient_matches_finite_differences_per_message_power(void **state)
{
    (void)state;
    s_check_gradient(AL_POWER_PER_MESSAGE);
}

static void test_tx_table_has_unit_average_energy_and_encode_is_lookup(void **state)
{
    (void)state;
    tx_net_config cfg = tx_net_config_default(16, 4);
    tx_net_t *q = tx_net_create(&cfg);
    const float *t = tx_net_table(q);
    double e = 0;
    for (int i = 0; i < 16 * 8; i++)
        e += (double)t[i] * t[i];
    assert_float_equal(e / (16 * 4), 1.0, 1e-5);
    uint32_t msgs[2] = {15, 3};
    float x[16];
    assert_int_equal(tx_net_encode(q, msgs, 2, x), 0);
    assert_memory_equal(x, t + 15 * 8, 8 * sizeof(float));
    assert_memory_equal(x + 8, t + 3 * 8, 8 * sizeof(float));
    msgs[1] = 16;
    assert_int_equal(tx_net_encode(q, msgs, 2, x), AL_ERANGE);
    tx_net_destroy(&q);
}

static void test_tx_perturbation_has_configured_variance(void **state)
{
    (void)state;
    tx_net_config cfg = tx_net_config_default(4, 1);
    cfg.sigma2 = 0.1f;
    cfg.max_batch = 4096;
    tx_net_t *q = tx_net_create(&cfg);
    enum { K = 4096 };
    static uint32_t msgs[K];
    static float xp[2 * K], w[2 * K];
    al_rng_t r;
    al_rng_seed(&r, 1);
    for (int i = 0; i < K; i++)
        msgs[i] = i % 4;
    assert_int_equal(tx_net_perturb(q, msgs, K, &r, xp, w), 0);
    double ew = 0, exp_ = 0;
    const float a = sqrtf(0.9f);
    for (int i = 0; i < K; i++) {
        const float *x = tx_net_table(q) + 2 * msgs[i];
        assert_float_equal(xp[2 * i], a * x[0] + w[2 * i], 1e-6);
        ew += (double)w[2 * i] * w[2 * i] + (double)w[2 * i + 1] * w[2 * i + 1];
        exp_ += (double)xp[2 * i] * xp[2 * i] + (double)xp[2 * i + 1] * xp[2 * i + 1];
    }
    /* E|w|^2 = sigma2 (sd ~ sigma2/sqrt(K) = 0.0016); the perturbed
     * symbols keep unit energy on average (sd ~ 0.02). */
    assert_float_equal(ew / K, 0.1, 0.007);
    assert_float_equal(exp_ / K, 1.0, 0.06);
    tx_net_destroy(&q);
}

/* The statistical test of the policy-gradient formula: averaged over many
 * perturbation draws, the PG estimate of the gradient of
 * J = E[l(sqrt(1-s2) x + w)] must point where the true backprop gradient
 * of the same loss points. A wrong sign gives cosine -1, a wrong scale a
 * norm ratio far from 1. The loss is a frozen RX on a noiseless channel. */
static void test_tx_policy_gradient_agrees_with_backprop_gradient(void **state)
{
    (void)state;
    enum { PM = 8, PN = 1, PB = 1024, DRAWS = 400 };
    const float s2 = 0.005f;
    tx_net_config tc = tx_net_config_default(PM, PN);
    tc.sigma2 = s2;
    tc.max_batch = PB;
    tc.hidden = 8;
    tx_net_t *tx = tx_net_create(&tc);
    tx_net_init(tx, 77);
    rx_net_config rc = rx_net_config_default(PM, PN, RX_KIND_AWGN);
    rc.max_batch = PB;
    rc.hidden = 16;
    rx_net_t *rx = rx_net_create(&rc);
    rx_net_init(rx, 78);

    static uint32_t msgs[PB];
    static float x[PB * 2], xp[PB * 2], w[PB * 2], dy[PB * 2], losses[PB];
    for (int i = 0; i < PB; i++)
        msgs[i] = i % PM;
    al_model_t *m = tx_net_model(tx);
    const size_t n = al_model_num_params(m);
    double *g_true = calloc(n, sizeof(double)), *g_pg = calloc(n, sizeof(double));

    /* True gradient: mean loss at x_p = sqrt(1-s2) x (w = 0 to first order),
     * dL/dx = sqrt(1-s2) dL/dy. */
    const float a = sqrtf(1.0f - s2);
    tx_net_encode(tx, msgs, PB, x);
    for (int i = 0; i < PB * 2; i++)
        x[i] *= a;
    assert_int_equal(rx_net_gradient(rx, x, msgs, PB, dy, NULL), 0);
    for (int i = 0; i < PB * 2; i++)
        dy[i] *= a;
    assert_int_equal(tx_net_gradient(tx, msgs, dy, PB), 0);
    for (size_t i = 0; i < n; i++)
        g_true[i] = al_model_grads(m)[i];

    al_rng_t r;
    al_rng_seed(&r, 5);
    for (int d = 0; d < DRAWS; d++) {
        tx_net_perturb(tx, msgs, PB, &r, xp, w);
        assert_int_equal(rx_net_losses(rx, xp, msgs, PB, losses, NULL), 0);
        assert_int_equal(tx_net_pg_gradient(tx, msgs, w, losses, PB), 0);
        for (size_t i = 0; i < n; i++)
            g_pg[i] += al_model_grads(m)[i] / DRAWS;
    }
    double dot = 0, nt = 0, np = 0;
    for (size_t i = 0; i < n; i++) {
        dot += g_true[i] * g_pg[i];
        nt += g_true[i] * g_true[i];
        np += g_pg[i] * g_pg[i];
    }
    const double cosine = dot / sqrt(nt * np), ratio = sqrt(np / nt);
    print_message("policy gradient vs backprop: cosine %.3f, norm ratio %.3f\n", cosine, ratio);
    assert_true(cosine > 0.9);
    assert_true(ratio > 0.8 && ratio < 1.25);
    free(g_true);
    free(g_pg);
    tx_net_destroy(&tx);
    rx_net_destroy(&rx);
}

static void test_tx_pg_step_rejects_bad_losses_without_change(void **state)
{
    (void)state;
    tx_net_config cfg = tx_net_config_default(4, 1);
    tx_net_t *q = tx_net_create(&cfg);
    uint32_t msgs[2] = {0, 1};
    float w[4] = {0.1f, 0.1f, 0.1f, 0.1f}, losses[2] = {0.5f, NAN};
    float before[8];
    memcpy(before, tx_net_table(q), sizeof before);
    assert_int_equal(tx_net_pg_step(q, msgs, w, losses, 2), AL_ERANGE);
    losses[1] = -1.0f;
    assert_int_equal(tx_net_pg_step(q, msgs, w, losses, 2), AL_ERANGE);
    assert_memory_equal(before, tx_net_table(q), sizeof before);
    assert_int_equal(tx_net_version(q), 0);
    losses[1] = 1.0f;
    assert_int_equal(tx_net_pg_step(q, msgs, w, losses, 2), 0);
    assert_int_equal(tx_net_version(q), 1);
    tx_net_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tx_gradient_matches_finite_differences_average_power),
        cmocka_unit_test(test_tx_gradient_matches_finite_differences_per_message_power),
        cmocka_unit_test(test_tx_table_has_unit_average_energy_and_encode_is_lookup),
        cmocka_unit_test(test_tx_perturbation_has_configured_variance),
        cmocka_unit_test(test_tx_policy_gradient_agrees_with_backprop_gradient),
        cmocka_unit_test(test_tx_pg_step_rejects_bad_losses_without_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The whole differentiable chain TX -> AWGN (fixed noise) -> RX: the
 * gradient that the supervised reference backpropagates into the TX must
 * match finite differences of the end-to-end loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fd_check.h"
#include "rx_net.h"
#include "tx_net.h"

enum { M = 8, N = 2, B = 16 };

typedef struct {
    tx_net_t *tx;
    rx_net_t *rx;
    uint32_t msgs[B];
    float noise[B * 2 * N];
} ctx_t;

static double s_loss(void *p)
{
    ctx_t *c = p;
    float y[B * 2 * N], l[B];
    tx_net_rebuild(c->tx);
    tx_net_encode(c->tx, c->msgs, B, y);
    for (int i = 0; i < B * 2 * N; i++)
        y[i] += c->noise[i];
    rx_net_losses(c->rx, y, c->msgs, B, l, NULL);
    double s = 0;
    for (int i = 0; i < B; i++)
        s += l[i];
    return s / B;
}

static void test_chain_tx_gradient_through_awgn_and_rx_matches_finite_differences(void **state)
{
    (void)state;
    ctx_t c;
    tx_net_config tc = tx_net_config_default(M, N);
    tc.hidden = 6;
    c.tx = tx_net_create(&tc);
    rx_net_config rc = rx_net_config_default(M, N, RX_KIND_AWGN);
    rc.hidden = 12;
    rc.max_batch = B;
    c.rx = rx_net_create(&rc);
    tx_net_init(c.tx, 31);
    rx_net_init(c.rx, 32);
    al_rng_t r;
    al_rng_seed(&r, 33);
    for (int i = 0; i < B; i++)
        c.msgs[i] = al_rng_below(&r, M);
    for (int i = 0; i < B * N; i++)
        al_rng_cnormal(&r, 0.1, &c.noise[2 * i], &c.noise[2 * i + 1]);

    float y[B * 2 * N], dy[B * 2 * N];
    tx_net_encode(c.tx, c.msgs, B, y);
    for (int i = 0; i < B * 2 * N; i++)
        y[i] += c.noise[i];
    assert_int_equal(rx_net_gradient(c.rx, y, c.msgs, B, dy, NULL), 0);
    /* AWGN: dy/dx = I, so dL/dx = dL/dy. */
    assert_int_equal(tx_net_gradient(c.tx, c.msgs, dy, B), 0);
    al_model_t *m = tx_net_model(c.tx);
    size_t n = al_model_num_params(m);
    float *g = malloc(sizeof(float) * n);
    memcpy(g, al_model_grads(m), sizeof(float) * n);
    double rel = fd_compare(s_loss, &c, al_model_params(m), g, n, 300, 2e-3f, 9);
    print_message("chain: relative error %.2e\n", rel);
    assert_true(rel < 1e-2);
    free(g);
    tx_net_destroy(&c.tx);
    rx_net_destroy(&c.rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_tx_gradient_through_awgn_and_rx_matches_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

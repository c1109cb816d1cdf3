/* Tests of the symbol-level simulation (daemon/sim/sim): both methods learn,
 * the baselines agree with their closed forms, runs are reproducible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "sim.h"

static sim_train_config s_small(void)
{
    return (sim_train_config){
        .M = 16, .N = 2, .hidden = 0, .channel = AL_CHAN_AWGN, .power = AL_POWER_AVERAGE,
        .train_snr_db = 12.0, .iterations = 600, .fine_tune = 0, .batch = 256,
        .rx_steps = 1, .tx_steps = 1, .sigma2 = 0.02, .baseline = TX_BASELINE_MEAN,
        .lr_rx = 3e-3, .lr_tx = 3e-3, .lr_decay = 1.0, .seed = 7,
    };
}

static double s_ser(sim_trainer_t *t, al_chan_kind chan, double snr_db, uint64_t messages)
{
    uint64_t n, e;
    assert_int_equal(sim_eval(sim_trainer_tx(t), sim_trainer_rx(t), chan, snr_db, messages,
                              messages, 99, &n, &e), 0);
    assert_int_equal(n, messages);
    return (double)e / (double)n;
}

static void s_check_learns(sim_method method, al_chan_kind chan, double eval_snr,
                           double threshold)
{
    sim_train_config c = s_small();
    c.channel = chan;
    if (chan == AL_CHAN_RAYLEIGH_BLOCK) {
        c.train_snr_db = 20.0;
        c.iterations = 3000;
    }
    sim_trainer_t *t = sim_trainer_create(&c, method);
    assert_non_null(t);
    /* The untrained pair is near chance (15/16 errors): the threshold
     * below is far out of its reach. */
    const double before = s_ser(t, chan, eval_snr, 20000);
    for (unsigned it = 0; it < c.iterations; it++) {
        float rl, tl;
        assert_int_equal(sim_trainer_iteration(t, it, &rl, &tl), 0);
    }
    const double after = s_ser(t, chan, eval_snr, 100000);
    print_message("%s %s: SER at %.0f dB %.4f untrained, %.5f trained\n", sim_method_name(method),
                  al_chan_name(chan), eval_snr, before, after);
    assert_true(before > 0.5);
    assert_true(after < threshold);
    sim_trainer_destroy(&t);
    assert_null(t);
}

static void test_sim_ml_detection_is_no_worse_than_the_network(void **state)
{
    /* On the same noise draws (same seed), the nearest-point decision on
     * the learned table is optimal: it may not lose to the RX network by
     * more than chance. An untrained table is near chance either way. */
    (void)state;
    sim_train_config c = s_small();
    sim_trainer_t *t = sim_trainer_create(&c, SIM_SUPERVISED);
    assert_non_null(t);
    uint64_t n, e_ml;
    assert_int_equal(sim_eval_ml(sim_trainer_tx(t), 8.0, 20000, 20000, 5, &n, &e_ml), 0);
    assert_true(e_ml > n / 4); /* an untrained table: points on top of each other */
    for (unsigned it = 0; it < c.iterations; it++) {
        float rl, tl;
        assert_int_equal(sim_trainer_iteration(t, it, &rl, &tl), 0);
    }
    uint64_t n_nn, e_nn;
    assert_int_equal(sim_eval(sim_trainer_tx(t), sim_trainer_rx(t), AL_CHAN_AWGN, 8.0, 200000,
                              200000, 5, &n_nn, &e_nn), 0);
    assert_int_equal(sim_eval_ml(sim_trainer_tx(t), 8.0, 200000, 200000, 5, &n, &e_ml), 0);
    print_message("at 8 dB: network %llu errors, maximum likelihood %llu, of %llu\n",
                  (unsigned long long)e_nn, (unsigned long long)e_ml, (unsigned long long)n);
    assert_int_equal(n, n_nn);
    assert_true(e_ml > 0);
    assert_true((double)e_ml <= 1.05 * (double)e_nn + 3.0 * sqrt((double)e_nn));
    sim_trainer_destroy(&t);
}

static void test_sim_rejects_bad_snr_ramp(void **state)
{
    (void)state;
    sim_train_config c = s_small();
    c.snr_ramp_db = -1.0;
    assert_null(sim_trainer_create(&c, SIM_MODEL_FREE));
    c.snr_ramp_db = 61.0;
    assert_null(sim_trainer_create(&c, SIM_SUPERVISED));
    c.snr_ramp_db = 6.0;
    sim_trainer_t *t = sim_trainer_create(&c, SIM_MODEL_FREE);
    assert_non_null(t);
    float rl, tl;
    assert_int_equal(sim_trainer_iteration(t, 0, &rl, &tl), 0);
    assert_true(rl > 0.0f);
    sim_trainer_destroy(&t);
}

static void test_sim_supervised_learns_awgn(void **state)
{
    (void)state;
    /* 2 x QPSK at 12 dB has SER 1.4e-4; a learned system is near it. */
    s_check_learns(SIM_SUPERVISED, AL_CHAN_AWGN, 12.0, 2e-3);
}

static void test_sim_model_free_learns_awgn(void **state)
{
    (void)state;
    s_check_learns(SIM_MODEL_FREE, AL_CHAN_AWGN, 12.0, 5e-3);
}

static void test_sim_model_free_learns_rayleigh_block_fading(void **state)
{
    (void)state;
    /* At 30 dB, 2 x QPSK with perfect CSI has SER 1.7e-3; the learned
     * receiver estimates h itself. A receiver whose estimator cannot
     * follow the fading's scale sits on an error floor near 0.1 here. */
    s_check_learns(SIM_MODEL_FREE, AL_CHAN_RAYLEIGH_BLOCK, 30.0, 0.03);
}

static void test_sim_same_seed_gives_identical_results(void **state)
{
    (void)state;
    sim_train_config c = s_small();
    c.iterations = 50;
    uint64_t e[2];
    for (int run = 0; run < 2; run++) {
        sim_trainer_t *t = sim_trainer_create(&c, SIM_MODEL_FREE);
        assert_non_null(t);
        for (unsigned it = 0; it < c.iterations; it++) {
            float rl, tl;
            assert_int_equal(sim_trainer_iteration(t, it, &rl, &tl), 0);
        }
        uint64_t n;
        assert_int_equal(sim_eval(sim_trainer_tx(t), sim_trainer_rx(t), AL_CHAN_AWGN, 6.0, 50000,
                                  50000, 3, &n, &e[run]), 0);
        assert_int_equal(n, 50000);
        sim_trainer_destroy(&t);
    }
    assert_true(e[0] > 0);   /* 50 iterations leave errors to compare */
    assert_int_equal(e[0], e[1]);
}

static void s_train_iterations(sim_trainer_t *t, unsigned from, unsigned to)
{
    for (unsigned it = from; it < to; it++) {
        float rl, tl;
        assert_int_equal(sim_trainer_iteration(t, it, &rl, &tl), 0);
    }
}

static void test_sim_gradient_stats_leave_training_unchanged(void **state)
{
    /* The measurement draws from its own stream and steps nothing: a run
     * measured every 10 iterations ends with the same weights, bit for
     * bit, as one never measured. */
    (void)state;
    sim_train_config c = s_small();
    c.iterations = 60;
    sim_trainer_t *plain = sim_trainer_create(&c, SIM_MODEL_FREE);
    sim_trainer_t *measured = sim_trainer_create(&c, SIM_MODEL_FREE);
    assert_non_null(plain);
    assert_non_null(measured);
    s_train_iterations(plain, 0, c.iterations);
    for (unsigned it = 0; it < c.iterations; it += 10) {
        sim_grad_stats st;
        assert_int_equal(sim_trainer_grad_stats(measured, 4, it, &st), 0);
        s_train_iterations(measured, it, it + 10);
    }
    al_model_t *pairs[2][2] = {
        {tx_net_model(sim_trainer_tx(plain)), tx_net_model(sim_trainer_tx(measured))},
        {rx_net_model(sim_trainer_rx(plain)), rx_net_model(sim_trainer_rx(measured))},
    };
    for (int k = 0; k < 2; k++) {
        const size_t n = al_model_num_params(pairs[k][0]);
        assert_int_equal(n, al_model_num_params(pairs[k][1]));
        assert_memory_equal(al_model_params(pairs[k][0]), al_model_params(pairs[k][1]),
                            n * sizeof(float));
    }
    sim_trainer_destroy(&plain);
    sim_trainer_destroy(&measured);
}

/* Gradient statistics of an untrained M=16, N=2 pair over AWGN. */
static sim_grad_stats s_grad_stats(unsigned batch, unsigned draws)
{
    sim_train_config c = s_small();
    c.batch = batch;
    sim_trainer_t *t = sim_trainer_create(&c, SIM_SUPERVISED);
    assert_non_null(t);
    sim_grad_stats st;
    assert_int_equal(sim_trainer_grad_stats(t, draws, 1, &st), 0);
    sim_trainer_destroy(&t);
    return st;
}

static void test_sim_gradient_snr_grows_with_the_batch(void **state)
{
    /* A batch gradient is a mean of independent per-message terms: its
     * noise power falls as 1/B while its mean stays, so the per-batch
     * signal-to-noise ratio grows in proportion to B. A statistic that
     * left the mean in the noise, or the noise in the signal, would not. */
    (void)state;
    const sim_grad_stats small = s_grad_stats(32, 400), large = s_grad_stats(512, 400);
    const double ratio_sup = large.snr_supervised / small.snr_supervised;
    const double ratio_pg = large.snr_policy / small.snr_policy;
    print_message("per-batch gradient SNR, B=32 -> 512: supervised %.3g -> %.3g (x%.1f), "
                  "policy %.3g -> %.3g (x%.1f); cosine of the means %.3f\n",
                  small.snr_supervised, large.snr_supervised, ratio_sup, small.snr_policy,
                  large.snr_policy, ratio_pg, large.cosine);
    assert_true(ratio_sup > 8.0 && ratio_sup < 32.0);
    assert_true(ratio_pg > 8.0 && ratio_pg < 32.0);
    /* Both estimate the gradient of the same loss (up to the policy's
     * O(sigma2) smoothing), the policy gradient with far more noise. */
    assert_true(large.cosine > 0.8);
    assert_true(large.snr_supervised > 10.0 * large.snr_policy);
}

static void test_sim_gradient_stats_reject_fewer_than_two_draws(void **state)
{
    (void)state;
    sim_train_config c = s_small();
    sim_trainer_t *t = sim_trainer_create(&c, SIM_SUPERVISED);
    assert_non_null(t);
    sim_grad_stats st;
    assert_true(sim_trainer_grad_stats(t, 1, 0, &st) < 0);
    assert_true(sim_trainer_grad_stats(t, 2, 0, NULL) < 0);
    sim_trainer_destroy(&t);
}

static void test_sim_qpsk_closed_form_matches_known_values(void **state)
{
    (void)state;
    /* Es/N0 = 9.5424 dB = 9 (linear): per dimension Q(3) = 1.3499e-3. */
    const double p = 1.3498980316e-3;
    assert_float_equal(sim_baseline_ser_awgn(SIM_BASE_QPSK, 1, 10 * log10(9.0)),
                       1 - (1 - p) * (1 - p), 1e-9);
    assert_float_equal(sim_baseline_ser_awgn(SIM_BASE_QPSK, 4, 10 * log10(9.0)),
                       1 - pow(1 - p, 8), 1e-9);
    /* 16-QAM at Es/N0 = 45 (16.53 dB): 1.5 Q(3) per dimension. */
    const double p16 = 1.5 * p;
    assert_float_equal(sim_baseline_ser_awgn(SIM_BASE_QAM16, 1, 10 * log10(45.0)),
                       1 - (1 - p16) * (1 - p16), 1e-9);
    assert_true(sim_baseline_applies(SIM_BASE_QPSK, 256, 4));
    assert_true(sim_baseline_applies(SIM_BASE_QAM16, 16, 1));
    assert_false(sim_baseline_applies(SIM_BASE_QPSK, 16, 1));
}

static void s_check_simulated_baseline(sim_baseline_kind k, unsigned N, double snr_db)
{
    uint64_t n, e;
    assert_int_equal(sim_baseline_simulate(k, AL_CHAN_AWGN, N, snr_db, 400000, 4000, 11, &n, &e), 0);
    const double ser = (double)e / n, expect = sim_baseline_ser_awgn(k, N, snr_db);
    /* 4000 errors: relative standard error ~1.6 %; allow 5 sd. */
    print_message("%s N=%u at %.0f dB: simulated %.4e, closed form %.4e\n", sim_baseline_name(k),
                  N, snr_db, ser, expect);
    assert_float_equal(ser / expect, 1.0, 0.08);
}

static void test_sim_simulated_baselines_agree_with_closed_forms(void **state)
{
    (void)state;
    s_check_simulated_baseline(SIM_BASE_QPSK, 1, 4.0);
    s_check_simulated_baseline(SIM_BASE_QPSK, 4, 8.0);
    s_check_simulated_baseline(SIM_BASE_QAM16, 1, 12.0);
}

static void test_sim_rayleigh_baseline_is_worse_than_awgn(void **state)
{
    (void)state;
    /* Rayleigh QPSK with perfect CSI, one symbol: both dimensions see the
     * same |h|^2 = x ~ Exp(1), so SER = E_x[1 - (1 - Q(sqrt(snr x)))^2],
     * integrated here numerically (Simpson). */
    const double snr = pow(10.0, 1.5);
    const int steps = 200000;
    const double xmax = 40.0, dx = xmax / steps;
    double expect = 0;
    for (int i = 0; i <= steps; i++) {
        const double x = i * dx, q = 0.5 * erfc(sqrt(snr * x / 2.0));
        const double f = exp(-x) * (1 - (1 - q) * (1 - q));
        expect += f * (i == 0 || i == steps ? 1 : (i % 2 ? 4 : 2));
    }
    expect *= dx / 3;
    uint64_t n, e;
    assert_int_equal(sim_baseline_simulate(SIM_BASE_QPSK, AL_CHAN_RAYLEIGH_BLOCK, 1, 15.0, 400000,
                                           4000, 5, &n, &e), 0);
    assert_true(n > 0);
    const double rayleigh = (double)e / n;
    /* The same QPSK over AWGN at the same Es/N0, simulated on the same
     * terms (and its closed form, 1.9e-8 here): fading's deep fades cost
     * orders of magnitude. */
    uint64_t n_awgn, e_awgn;
    assert_int_equal(sim_baseline_simulate(SIM_BASE_QPSK, AL_CHAN_AWGN, 1, 15.0, 400000, 4000, 5,
                                           &n_awgn, &e_awgn), 0);
    const double awgn = (double)e_awgn / n_awgn, awgn_closed = sim_baseline_ser_awgn(SIM_BASE_QPSK, 1, 15.0);
    print_message("qpsk at 15 dB: rayleigh simulated %.4e, closed form %.4e; awgn simulated %.4e "
                  "(%llu errors), closed form %.4e\n", rayleigh, expect, awgn,
                  (unsigned long long)e_awgn, awgn_closed);
    assert_float_equal(rayleigh / expect, 1.0, 0.08);
    assert_true(rayleigh > 100.0 * (awgn + 1.0 / n_awgn));
    assert_true(rayleigh > 1e4 * awgn_closed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_ml_detection_is_no_worse_than_the_network),
        cmocka_unit_test(test_sim_rejects_bad_snr_ramp),
        cmocka_unit_test(test_sim_supervised_learns_awgn),
        cmocka_unit_test(test_sim_model_free_learns_awgn),
        cmocka_unit_test(test_sim_model_free_learns_rayleigh_block_fading),
        cmocka_unit_test(test_sim_same_seed_gives_identical_results),
        cmocka_unit_test(test_sim_gradient_stats_leave_training_unchanged),
        cmocka_unit_test(test_sim_gradient_snr_grows_with_the_batch),
        cmocka_unit_test(test_sim_gradient_stats_reject_fewer_than_two_draws),
        cmocka_unit_test(test_sim_qpsk_closed_form_matches_known_values),
        cmocka_unit_test(test_sim_simulated_baselines_agree_with_closed_forms),
        cmocka_unit_test(test_sim_rayleigh_baseline_is_worse_than_awgn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

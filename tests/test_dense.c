/* Tests of the dense and embedding layers (common/al_dense, al_embedding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "al_dense.h"
#include "al_embedding.h"
#include "al_error.h"
#include "fd_check.h"

typedef struct {
    unsigned n_in, n_out, B;
    al_act act;
    float *W, *b, *dW, *db;
    float *x, *y, *c, *dx;
    uint32_t *idx;
    al_dense_t *dense;
    al_embedding_t *embed;
} fixture;

static void s_fill(al_rng_t *r, float *v, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++)
        v[i] = scale * (2.0f * al_rng_uniformf(r) - 1.0f);
}

static fixture *s_fixture(unsigned n_in, unsigned n_out, unsigned B, al_act act, int embedding)
{
    fixture *f = calloc(1, sizeof *f);
    f->n_in = n_in;
    f->n_out = n_out;
    f->B = B;
    f->act = act;
    f->W = calloc((size_t)n_in * n_out, sizeof(float));
    f->dW = calloc((size_t)n_in * n_out, sizeof(float));
    f->b = calloc(n_out, sizeof(float));
    f->db = calloc(n_out, sizeof(float));
    f->x = calloc((size_t)B * n_in, sizeof(float));
    f->dx = calloc((size_t)B * n_in, sizeof(float));
    f->y = calloc((size_t)B * n_out, sizeof(float));
    f->c = calloc((size_t)B * n_out, sizeof(float));
    f->idx = calloc(B, sizeof(uint32_t));
    al_rng_t r;
    al_rng_seed(&r, 17);
    s_fill(&r, f->W, (size_t)n_in * n_out, 0.8f);
    s_fill(&r, f->b, n_out, 0.3f);
    s_fill(&r, f->x, (size_t)B * n_in, 1.0f);
    s_fill(&r, f->c, (size_t)B * n_out, 1.0f);
    for (unsigned i = 0; i < B; i++)
        f->idx[i] = al_rng_below(&r, n_in);
    al_dense_params p = {f->W, f->b, f->dW, f->db};
    if (embedding)
        f->embed = al_embedding_create(n_in, n_out, act, B, p);
    else
        f->dense = al_dense_create(n_in, n_out, act, B, p);
    return f;
}

static void s_free(fixture *f)
{
    al_dense_destroy(&f->dense);
    al_embedding_destroy(&f->embed);
    free(f->W), free(f->dW), free(f->b), free(f->db), free(f->x), free(f->dx);
    free(f->y), free(f->c), free(f->idx);
    free(f);
}

/* L = sum c .* y: dL/dy = c, independent of the layer. */
static double s_loss(void *ctx)
{
    fixture *f = ctx;
    if (f->dense)
        al_dense_forward(f->dense, f->x, f->B, f->y);
    else
        al_embedding_forward(f->embed, f->idx, f->B, f->y);
    double s = 0.0;
    for (size_t i = 0; i < (size_t)f->B * f->n_out; i++)
        s += (double)f->c[i] * f->y[i];
    return s;
}

static void s_check_dense_gradients(al_act act)
{
    fixture *f = s_fixture(7, 5, 6, act, 0);
    assert_non_null(f->dense);
    s_loss(f);
    assert_int_equal(al_dense_backward(f->dense, f->x, f->y, f->c, f->B, f->dx), 0);
    assert_true(fd_compare(s_loss, f, f->W, f->dW, 35, 35, 1e-3f, 1) < 5e-3);
    assert_true(fd_compare(s_loss, f, f->b, f->db, 5, 5, 1e-3f, 2) < 5e-3);
    assert_true(fd_compare(s_loss, f, f->x, f->dx, 42, 42, 1e-3f, 3) < 5e-3);
    s_free(f);
}

static void test_dense_linear_gradients_match_finite_differences(void **state)
{
    (void)state;
    s_check_dense_gradients(AL_ACT_LINEAR);
}

static void test_dense_relu_gradients_match_finite_differences(void **state)
{
    (void)state;
    s_check_dense_gradients(AL_ACT_RELU);
}

static void test_dense_tanh_gradients_match_finite_differences(void **state)
{
    (void)state;
    s_check_dense_gradients(AL_ACT_TANH);
}

static void test_dense_forward_matches_naive_product(void **state)
{
    (void)state;
    fixture *f = s_fixture(4, 3, 5, AL_ACT_RELU, 0);
    assert_int_equal(al_dense_forward(f->dense, f->x, f->B, f->y), 0);
    for (unsigned r = 0; r < f->B; r++)
        for (unsigned j = 0; j < f->n_out; j++) {
            double z = f->b[j];
            for (unsigned i = 0; i < f->n_in; i++)
                z += (double)f->x[r * f->n_in + i] * f->W[i * f->n_out + j];
            assert_float_equal(f->y[r * f->n_out + j], z > 0 ? z : 0.0, 1e-5);
        }
    s_free(f);
}

/* The narrow forward kernel (n_in <= 16, no sgemm) and the sgemm path, and
 * the fused activation-and-bias backward pass, against the layer computed
 * the plain way in double: every activation, column counts with and
 * without a partial vector of 16. */
static void test_dense_matches_unfused_reference_for_narrow_and_wide_layers(void **state)
{
    (void)state;
    const unsigned shapes[][2] = {{1, 5}, {8, 37}, {16, 64}, {17, 16}, {40, 33}};
    const al_act acts[] = {AL_ACT_LINEAR, AL_ACT_RELU, AL_ACT_TANH};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t a = 0; a < 3; a++) {
            const unsigned n_in = shapes[s][0], n = shapes[s][1], B = 9;
            fixture *f = s_fixture(n_in, n, B, acts[a], 0);
            assert_int_equal(al_dense_forward(f->dense, f->x, B, f->y), 0);
            assert_int_equal(al_dense_backward(f->dense, f->x, f->y, f->c, B, f->dx), 0);
            double *dz = calloc((size_t)B * n, sizeof(double));
            for (unsigned r = 0; r < B; r++)
                for (unsigned j = 0; j < n; j++) {
                    double z = f->b[j];
                    for (unsigned i = 0; i < n_in; i++)
                        z += (double)f->x[r * n_in + i] * f->W[i * n + j];
                    double y = z, d = 1.0;
                    if (acts[a] == AL_ACT_RELU)
                        y = z > 0 ? z : 0.0, d = z > 0 ? 1.0 : 0.0;
                    else if (acts[a] == AL_ACT_TANH)
                        y = tanh(z), d = 1.0 - y * y;
                    assert_float_equal(f->y[r * n + j], y, 1e-5);
                    dz[r * n + j] = d * f->c[r * n + j];
                }
            for (unsigned j = 0; j < n; j++) {
                double db = 0.0;
                for (unsigned r = 0; r < B; r++)
                    db += dz[r * n + j];
                assert_float_equal(f->db[j], db, 1e-4);
                for (unsigned i = 0; i < n_in; i++) {
                    double dw = 0.0;
                    for (unsigned r = 0; r < B; r++)
                        dw += (double)f->x[r * n_in + i] * dz[r * n + j];
                    assert_float_equal(f->dW[i * n + j], dw, 1e-4);
                }
            }
            for (unsigned r = 0; r < B; r++)
                for (unsigned i = 0; i < n_in; i++) {
                    double dx = 0.0;
                    for (unsigned j = 0; j < n; j++)
                        dx += dz[r * n + j] * f->W[i * n + j];
                    assert_float_equal(f->dx[r * n_in + i], dx, 1e-4);
                }
            free(dz);
            s_free(f);
        }
}

static void test_dense_backward_accumulates_across_calls(void **state)
{
    (void)state;
    fixture *f = s_fixture(3, 2, 4, AL_ACT_LINEAR, 0);
    al_dense_forward(f->dense, f->x, f->B, f->y);
    al_dense_backward(f->dense, f->x, f->y, f->c, f->B, NULL);
    float once = f->dW[0];
    al_dense_backward(f->dense, f->x, f->y, f->c, f->B, NULL);
    assert_float_equal(f->dW[0], 2.0f * once, 1e-6);
    s_free(f);
}

static void test_dense_rejects_bad_arguments(void **state)
{
    (void)state;
    float w[4], b[2], dw[4], db[2];
    al_dense_params p = {w, b, dw, db};
    assert_null(al_dense_create(0, 2, AL_ACT_RELU, 1, p));
    assert_null(al_dense_create(2, 2, (al_act)9, 1, p));
    al_dense_params missing = {w, NULL, dw, db};
    assert_null(al_dense_create(2, 2, AL_ACT_RELU, 1, missing));
    al_dense_t *q = al_dense_create(2, 2, AL_ACT_RELU, 3, p);
    float x[8] = {0}, y[8];
    assert_int_equal(al_dense_forward(q, x, 4, y), AL_EINVAL);
    assert_int_equal(al_dense_forward(q, x, 0, y), AL_EINVAL);
    al_dense_destroy(&q);
    assert_null(q);
    al_dense_destroy(&q);
    al_dense_destroy(NULL);
}

static void test_embedding_gradients_match_finite_differences(void **state)
{
    (void)state;
    fixture *f = s_fixture(6, 4, 9, AL_ACT_RELU, 1); /* rows repeat: scatter-add */
    assert_non_null(f->embed);
    s_loss(f);
    assert_int_equal(al_embedding_backward(f->embed, f->idx, f->y, f->c, f->B), 0);
    assert_true(fd_compare(s_loss, f, f->W, f->dW, 24, 24, 1e-3f, 4) < 5e-3);
    assert_true(fd_compare(s_loss, f, f->b, f->db, 4, 4, 1e-3f, 5) < 5e-3);
    s_free(f);
}

static void test_embedding_gathers_rows_and_rejects_bad_index(void **state)
{
    (void)state;
    fixture *f = s_fixture(5, 3, 2, AL_ACT_LINEAR, 1);
    f->idx[0] = 4;
    f->idx[1] = 0;
    assert_int_equal(al_embedding_forward(f->embed, f->idx, 2, f->y), 0);
    for (unsigned j = 0; j < 3; j++) {
        assert_float_equal(f->y[j], f->W[4 * 3 + j] + f->b[j], 1e-6);
        assert_float_equal(f->y[3 + j], f->W[j] + f->b[j], 1e-6);
    }
    f->idx[1] = 5;
    assert_int_equal(al_embedding_forward(f->embed, f->idx, 2, f->y), AL_ERANGE);
    s_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_linear_gradients_match_finite_differences),
        cmocka_unit_test(test_dense_relu_gradients_match_finite_differences),
        cmocka_unit_test(test_dense_tanh_gradients_match_finite_differences),
        cmocka_unit_test(test_dense_forward_matches_naive_product),
        cmocka_unit_test(test_dense_matches_unfused_reference_for_narrow_and_wide_layers),
        cmocka_unit_test(test_dense_backward_accumulates_across_calls),
        cmocka_unit_test(test_dense_rejects_bad_arguments),
        cmocka_unit_test(test_embedding_gradients_match_finite_differences),
        cmocka_unit_test(test_embedding_gathers_rows_and_rejects_bad_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* CURVE on the feedback link (feedback/fb_session, fb_keys): an allowed
 * receiver talks; one with another key, or none, gets nothing through and
 * is counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "al_error.h"
#include "al_log.h"
#include "fb_keys.h"
#include "fb_session.h"

#include <zmq.h>

static char s_dir[64], s_allow[96], s_ep[128];

/* This executable links with --wrap=zmq_has,--wrap=zmq_setsockopt: a
 * libzmq without CURVE, or one refusing a socket option, on demand. */
int __real_zmq_has(const char *capability);
int __real_zmq_setsockopt(void *socket, int option, const void *value, size_t len);
static int s_no_curve;         /* zmq_has("curve") answers 0 */
static int s_refused_option;   /* zmq_setsockopt of this option fails (0: none) */

int __wrap_zmq_has(const char *capability)
{
    if (s_no_curve && strcmp(capability, "curve") == 0)
        return 0;
    return __real_zmq_has(capability);
}

int __wrap_zmq_setsockopt(void *socket, int option, const void *value, size_t len)
{
    if (option == s_refused_option) {
        errno = EINVAL;
        return -1;
    }
    return __real_zmq_setsockopt(socket, option, value, len);
}

static void s_path(char *out, size_t n, const char *dir, const char *file)
{
    snprintf(out, n, "%s/%s", dir, file);
}

/* Polls both ends for up to seconds; returns whether the client became
 * ready and, if so, whether the server then received a loss report. */
static int s_pump(fb_server_t *s, fb_client_t *c, double seconds, int *got_losses)
{
    const double end = al_now_s() + seconds;
    int sent = 0;
    *got_losses = 0;
    while (al_now_s() < end) {
        fb_event ev;
        if (fb_server_poll(s, 5, &ev) > 0 && ev.type == FB_EV_MESSAGE && ev.msg->type == FB_LOSSES) {
            *got_losses = 1;
            break;
        }
        fb_client_poll(c, 5, &ev);
        if (fb_client_ready(c) && !sent) {
            float l[4] = {1, 2, 3, 4};
            sent = fb_client_send_losses(c, 1, 0, l, 4) == 0;
        }
    }
    return fb_client_ready(c);
}

static fb_session_config s_cfg(void)
{
    return (fb_session_config){.endpoint = s_ep, .config_hash = 5, .heartbeat_ms = 50,
                               .peer_timeout_ms = 2000, .session_id = 3, .session_seed = 4};
}

/* A fresh directory with the server's key pair (tx) and, in its allow/
 * directory, one receiver's (rx_name). */
static void s_make_keys(const char *rx_name)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/al_test_curve.XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    snprintf(s_allow, sizeof s_allow, "%s/allow", s_dir);
    assert_int_equal(mkdir(s_allow, 0700), 0);
    snprintf(s_ep, sizeof s_ep, "ipc://%s/fb", s_dir);
    assert_int_equal(fb_keygen(s_dir, "tx", 0), 0);
    assert_int_equal(fb_keygen(s_allow, rx_name, 0), 0);
}

static void test_feedback_curve_allows_listed_key_and_refuses_others(void **state)
{
    (void)state;
    s_make_keys("rx1");
    assert_int_equal(fb_keygen(s_dir, "rx2", 0), 0);
    assert_int_equal(fb_keygen(s_dir, "rx2", 0), AL_EIO); /* no silent overwrite */
    struct stat st;
    char path[256], tx_key[256], tx_pub[256], rx1_key[256], rx2_key[256];
    s_path(tx_key, sizeof tx_key, s_dir, "tx.key");
    s_path(tx_pub, sizeof tx_pub, s_dir, "tx.pub");
    s_path(rx1_key, sizeof rx1_key, s_allow, "rx1.key");
    s_path(rx2_key, sizeof rx2_key, s_dir, "rx2.key");
    assert_int_equal(stat(tx_key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    fb_session_config sc = s_cfg();
    sc.curve_secret_file = tx_key;
    sc.curve_allow_dir = s_allow;
    fb_server_t *s = fb_server_create(&sc);
    assert_non_null(s);
    int got;

    fb_session_config cc = s_cfg();
    cc.curve_secret_file = rx1_key;
    cc.curve_server_public_file = tx_pub;
    fb_client_t *c = fb_client_create(&cc);
    assert_non_null(c);
    assert_true(s_pump(s, c, 5.0, &got));
    assert_true(got);
    fb_client_destroy(&c);

    const uint64_t refused0 = fb_server_counters(s)->rejected[FB_R_AUTH];
    cc.curve_secret_file = rx2_key;
    c = fb_client_create(&cc);
    assert_false(s_pump(s, c, 1.5, &got));
    assert_false(got);
    const uint64_t refused1 = fb_server_counters(s)->rejected[FB_R_AUTH];
    assert_true(refused1 > refused0);
    fb_client_destroy(&c);

    fb_session_config plain = s_cfg();
    c = fb_client_create(&plain);
    assert_false(s_pump(s, c, 1.5, &got));
    assert_false(got);
    assert_true(fb_server_counters(s)->rejected[FB_R_AUTH] > refused1);
    fb_client_destroy(&c);
    fb_server_destroy(&s);

    const char *files[] = {"tx.key", "tx.pub", "rx2.key", "rx2.pub", "fb"};
    for (size_t i = 0; i < 5; i++) {
        s_path(path, sizeof path, s_dir, files[i]);
        unlink(path);
    }
    s_path(path, sizeof path, s_allow, "rx1.key");
    unlink(path);
    s_path(path, sizeof path, s_allow, "rx1.pub");
    unlink(path);
    rmdir(s_allow);
    rmdir(s_dir);
}

static void s_remove_keys(void)
{
    char path[160];
    const char *files[] = {"tx.key", "tx.pub", "fb", "allow/rx.key", "allow/rx.pub"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        s_path(path, sizeof path, s_dir, files[i]);
        unlink(path);
    }
    rmdir(s_allow);
    rmdir(s_dir);
}

static fb_session_config s_curve_cfg(int server, char *secret, char *public, size_t len)
{
    fb_session_config c = s_cfg();
    if (server) {
        s_path(secret, len, s_dir, "tx.key");
        c.curve_secret_file = secret;
        c.curve_allow_dir = s_allow;
    } else {
        s_path(secret, len, s_allow, "rx.key");
        s_path(public, len, s_dir, "tx.pub");
        c.curve_secret_file = secret;
        c.curve_server_public_file = public;
    }
    return c;
}

static void test_feedback_curve_refuses_a_libzmq_without_curve(void **state)
{
    (void)state;
    s_make_keys("rx");
    char secret[160], public[160];
    s_no_curve = 1;
    fb_session_config sc = s_curve_cfg(1, secret, public, sizeof secret);
    fb_server_t *s = fb_server_create(&sc);
    assert_null(s);
    assert_non_null(strstr(al_error_message(), "no CURVE"));
    fb_session_config cc = s_curve_cfg(0, secret, public, sizeof secret);
    fb_client_t *c = fb_client_create(&cc);
    assert_null(c);
    assert_non_null(strstr(al_error_message(), "refusing to run unauthenticated"));
    /* Without keys nothing needs CURVE. */
    fb_session_config plain = s_cfg();
    c = fb_client_create(&plain);
    assert_non_null(c);
    fb_client_destroy(&c);
    s_no_curve = 0;
    s_remove_keys();
}

static void test_feedback_curve_refuses_keys_the_socket_did_not_take(void **state)
{
    (void)state;
    s_make_keys("rx");
    char secret[160], public[160];
    /* Each CURVE option either end sets, refused in turn. */
    const struct {
        int server, option;
    } cases[] = {{1, ZMQ_CURVE_SERVER}, {1, ZMQ_CURVE_SECRETKEY}, {1, ZMQ_ZAP_DOMAIN},
                 {0, ZMQ_CURVE_SERVERKEY}, {0, ZMQ_CURVE_PUBLICKEY}, {0, ZMQ_CURVE_SECRETKEY}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_refused_option = cases[i].option;
        fb_session_config c = s_curve_cfg(cases[i].server, secret, public, sizeof secret);
        if (cases[i].server)
            assert_null(fb_server_create(&c));
        else
            assert_null(fb_client_create(&c));
        assert_non_null(strstr(al_error_message(), "cannot set ZMQ_"));
    }
    s_refused_option = 0;
    fb_session_config sc = s_curve_cfg(1, secret, public, sizeof secret);
    fb_server_t *s = fb_server_create(&sc);
    assert_non_null(s);
    fb_server_destroy(&s);
    s_remove_keys();
}

static void test_feedback_key_files_are_validated(void **state)
{
    (void)state;
    char dir[] = "/tmp/al_test_keys.XXXXXX", path[128], z85[FB_KEY_Z85 + 1];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/bad.pub", dir);
    FILE *f = fopen(path, "w");
    fputs("not a key\n", f);
    fclose(f);
    assert_int_equal(fb_key_read(path, z85), AL_EFORMAT);
    uint8_t keys[4][32];
    unsigned n;
    assert_int_equal(fb_keys_load_dir(dir, keys, 4, &n), AL_EFORMAT);
    unlink(path);
    assert_int_equal(fb_key_read(path, z85), AL_EIO);
    assert_int_equal(fb_keygen(dir, "a/b", 0), AL_EINVAL);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feedback_curve_allows_listed_key_and_refuses_others),
        cmocka_unit_test(test_feedback_key_files_are_validated),
        cmocka_unit_test(test_feedback_curve_refuses_a_libzmq_without_curve),
        cmocka_unit_test(test_feedback_curve_refuses_keys_the_socket_did_not_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

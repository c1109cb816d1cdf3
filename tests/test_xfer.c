/* Tests of the file transfer over the learned link (daemon/xfer/): a segment in
 * a DATA frame, the labelling of messages with bits, and the two ends of
 * the selective-repeat transfer run against each other in one process
 * over a lossy stand-in for the link (no radio, simulated time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "al_bytes.h"
#include "al_error.h"
#include "al_rng.h"
#include "xfer_frame.h"
#include "xfer_rx.h"
#include "xfer_tx.h"

static void s_random(uint8_t *b, size_t n, uint64_t seed)
{
    al_rng_t r;
    al_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)al_rng_u32(&r);
}

/* A square 16-QAM, unit energy, row-major on a 4x4 grid. */
static void s_qam16(float *table)
{
    for (unsigned m = 0; m < 16; m++) {
        table[2 * m] = ((float)(m % 4) * 2 - 3) / sqrtf(10);
        table[2 * m + 1] = ((float)(m / 4) * 2 - 3) / sqrtf(10);
    }
}

/* Sum of Hamming distances over the grid's 24 nearest-neighbour pairs. */
static unsigned s_grid_hamming(const uint16_t *label)
{
    unsigned sum = 0;
    for (unsigned m = 0; m < 16; m++) {
        if (m % 4 < 3)
            sum += (unsigned)__builtin_popcount(label[m] ^ label[m + 1]);
        if (m / 4 < 3)
            sum += (unsigned)__builtin_popcount(label[m] ^ label[m + 4]);
    }
    return sum;
}

static void test_xfer_frame_round_trips_with_and_without_labelling(void **state)
{
    (void)state;
    const unsigned cases[][2] = {{64, 16}, {17, 256}, {1024, 4}, {100, 2}, {100, 65536}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned P = cases[c][0], M = cases[c][1], sb = xfer_segment_bytes(P, M);
        assert_true(sb > 0);
        assert_int_equal(sb + XFER_SEGMENT_OVERHEAD, xfer_frame_bytes(P, M));
        uint8_t *data = malloc(sb), *out = malloc(sb);
        uint32_t *msgs = malloc(sizeof(uint32_t) * P);
        uint16_t *label = malloc(sizeof(uint16_t) * M), *inverse = malloc(sizeof(uint16_t) * M);
        for (unsigned m = 0; m < M; m++)
            label[m] = (uint16_t)((m * 5 + 3) % M);   /* a permutation (M a power of 2) */
        xfer_label_inverse(label, M, inverse);
        s_random(data, sb, c);
        for (int lab = 0; lab < 2; lab++) {
            /* The last segment of a file is short: zero padded. */
            unsigned len = lab ? sb : sb - 1;
            xfer_frame_pack(P, M, 99, 7, 0xabc, 12345, data, len, lab ? inverse : NULL, msgs);
            for (unsigned i = 0; i < P; i++)
                assert_true(msgs[i] < M);
            uint32_t seg = 0;
            memset(out, 0x55, sb);
            assert_int_equal(xfer_frame_unpack(P, M, 99, 7, 0xabc, msgs, lab ? label : NULL,
                                               &seg, out), AL_OK);
            assert_int_equal(seg, 12345);
            assert_memory_equal(out, data, len);
            if (!lab)
                assert_int_equal(out[sb - 1], 0);
        }
        free(data), free(out), free(msgs), free(label), free(inverse);
    }
}

static void test_xfer_frame_rejects_a_wrong_message_another_file_or_seq(void **state)
{
    (void)state;
    enum { P = 64, M = 16 };
    unsigned sb = xfer_segment_bytes(P, M);
    uint8_t data[64], out[64];
    uint32_t msgs[P], seg;
    s_random(data, sb, 1);
    for (unsigned i = 0; i < P; i++) {
        xfer_frame_pack(P, M, 5, 9, 77, 3, data, sb, NULL, msgs);
        msgs[i] ^= 1u << (i % 4);   /* one message decided wrong, one bit */
        assert_int_equal(xfer_frame_unpack(P, M, 5, 9, 77, msgs, NULL, &seg, out), AL_ECRC);
    }
    xfer_frame_pack(P, M, 5, 9, 77, 3, data, sb, NULL, msgs);
    assert_int_equal(xfer_frame_unpack(P, M, 5, 9, 78, msgs, NULL, &seg, out), AL_ECRC);
    assert_int_equal(xfer_frame_unpack(P, M, 5, 10, 77, msgs, NULL, &seg, out), AL_ECRC);
    assert_int_equal(xfer_frame_unpack(P, M, 5, 9, 77, msgs, NULL, &seg, out), AL_OK);
    /* Whitening: an all-zero segment does not become one repeated message. */
    memset(data, 0, sizeof data);
    xfer_frame_pack(P, M, 5, 9, 77, 0, data, sb, NULL, msgs);
    unsigned zeros = 0;
    for (unsigned i = 0; i < P; i++)
        zeros += msgs[i] == 0;
    assert_true(zeros < P / 4);
}

static void test_xfer_frame_sizes_refuse_what_does_not_fit(void **state)
{
    (void)state;
    assert_int_equal(xfer_frame_bytes(64, 15), 0);      /* not a power of two */
    assert_int_equal(xfer_frame_bytes(0, 16), 0);
    assert_int_equal(xfer_segment_bytes(16, 16), 0);    /* 8 bytes: overhead only */
    assert_int_equal(xfer_segment_bytes(18, 16), 1);
    assert_int_equal(xfer_frame_bytes(4096, 65536), XFER_MAX_FRAME_BYTES);
}

static void test_xfer_labelling_makes_qam16_neighbours_differ_in_few_bits(void **state)
{
    (void)state;
    float table[32];
    s_qam16(table);
    uint16_t label[16], identity[16];
    for (unsigned m = 0; m < 16; m++)
        identity[m] = (uint16_t)m;
    assert_int_equal(xfer_labelling(table, 16, 1, 0.1f, label), AL_OK);
    uint16_t seen = 0;
    for (unsigned m = 0; m < 16; m++)
        seen |= (uint16_t)(1u << label[m]);
    assert_int_equal(seen, 0xffff);   /* a permutation */
    /* Gray on the 4x4 grid: 24; the identity (row-major) gives 32. */
    unsigned got = s_grid_hamming(label), id = s_grid_hamming(identity);
    assert_int_equal(id, 32);
    assert_int_equal(got, 24);
    /* Points in any order: the labelling follows the geometry. */
    float shuffled[32];
    for (unsigned m = 0; m < 16; m++) {
        unsigned from = (m * 7 + 5) % 16;
        shuffled[2 * m] = table[2 * from];
        shuffled[2 * m + 1] = table[2 * from + 1];
    }
    uint16_t l2[16], back[16];
    assert_int_equal(xfer_labelling(shuffled, 16, 1, 0.1f, l2), AL_OK);
    for (unsigned m = 0; m < 16; m++)
        back[(m * 7 + 5) % 16] = l2[m];
    assert_int_equal(s_grid_hamming(back), 24);
    assert_int_equal(xfer_labelling(table, 15, 1, 0.1f, label), AL_EINVAL);
    assert_int_equal(xfer_labelling(table, 16, 1, 0.0f, label), AL_EINVAL);
}

static void test_xfer_bit_errors_count_hamming_distances(void **state)
{
    (void)state;
    uint32_t conf[16] = {0};
    conf[0 * 4 + 3] = 5;   /* 0 -> 3: two bits wrong under the identity */
    conf[1 * 4 + 1] = 100;
    const uint16_t gray[4] = {0, 1, 3, 2};
    assert_int_equal(xfer_bit_errors(conf, 4, NULL), 10);
    assert_int_equal(xfer_bit_errors(conf, 4, gray), 5);
}

/* ---- the two ends against each other ------------------------------- */

static char s_dir[64];

static int s_setup_dir(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/test_xfer.XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_remove_dir(void **state)
{
    (void)state;
    DIR *d = opendir(s_dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", s_dir, e->d_name);
            unlink(p);
        }
    }
    if (d)
        closedir(d);
    return rmdir(s_dir);
}

static unsigned s_dir_entries(void)
{
    unsigned n = 0;
    DIR *d = opendir(s_dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

typedef struct {
    double frame_loss, frame_corrupt, status_loss;
    uint32_t crc_offset;     /* added to the offer's CRC: a lying offer */
    int deaf;                /* the receiver never answers */
    unsigned restart_ms;     /* the receiver restarts then, empty (0: never) */
    unsigned max_ms;         /* simulated time allowed */
} s_link;

/* Runs a transfer of data [size] over the stand-in link, 1 ms per step.
 * Returns the sender's outcome; *rx_out the receiver's result. */
static xfer_outcome s_transfer(const s_link *l, const uint8_t *data, size_t size,
                               xfer_rx_result *rx_out, xfer_tx_stats *tx_out)
{
    enum { P = 64, M = 16 };
    xfer_tx_config tc = {P, M, 32, 20, 10, 2000};
    uint16_t label[M];
    for (unsigned m = 0; m < M; m++)
        label[m] = (uint16_t)(m ^ (m >> 1));
    xfer_tx_t *tx = xfer_tx_create(&tc, 0x1234, "file.bin", data, size, label, 0);
    xfer_rx_config rc = {P, M, s_dir, 1u << 20};
    xfer_rx_t *rx = xfer_rx_create(&rc);
    assert_non_null(tx);
    assert_non_null(rx);
    fb_xfer_offer offer = *xfer_tx_offer(tx);
    offer.crc += l->crc_offset;
    assert_int_equal(xfer_rx_offer(rx, &offer, 0), 1);
    assert_int_equal(xfer_rx_offer(rx, &offer, 0), 0);   /* repeated: nothing new */
    al_rng_t r;
    al_rng_seed(&r, 42);
    uint32_t msgs[P], seq = 0, seg;
    /* Frames take 3 ms to arrive; statuses go back at once. */
    enum { DELAY = 3, QUEUE = 64 };
    uint32_t q_seq[QUEUE], q_msgs[QUEUE][P];
    uint64_t q_due[QUEUE];
    unsigned q_n = 0;
    xfer_outcome out = XFER_SENDING;
    for (uint64_t now = 0; now < l->max_ms && out == XFER_SENDING; now++) {
        if (now == l->restart_ms && now > 0) {
            /* What it held is gone; the sender's offer comes again. */
            xfer_rx_destroy(&rx);
            rx = xfer_rx_create(&rc);
            assert_int_equal(xfer_rx_offer(rx, &offer, (double)now / 1e3), 1);
        }
        while (q_n < QUEUE && xfer_tx_next(tx, now, &seg)) {
            xfer_tx_pack(tx, 0xfeed, seq, seg, msgs);
            double u = al_rng_uniform(&r);
            if (u < l->frame_loss) {
                seq++;
                continue;
            }
            if (u < l->frame_loss + l->frame_corrupt)
                msgs[al_rng_below(&r, P)] ^= 1;
            q_seq[q_n] = seq++;
            memcpy(q_msgs[q_n], msgs, sizeof msgs);
            q_due[q_n++] = now + DELAY;
        }
        unsigned keep = 0;
        for (unsigned i = 0; i < q_n; i++) {
            if (q_due[i] > now) {
                q_seq[keep] = q_seq[i], q_due[keep] = q_due[i];
                memcpy(q_msgs[keep++], q_msgs[i], sizeof msgs);
                continue;
            }
            xfer_rx_frame(rx, 0xfeed, q_seq[i], q_msgs[i], (double)now / 1e3);
            fb_xfer_status st;
            if (!l->deaf && xfer_rx_status(rx, &st) && al_rng_uniform(&r) >= l->status_loss)
                xfer_tx_on_status(tx, &st, now);
        }
        q_n = keep;
        out = xfer_tx_check(tx, now);
    }
    *rx_out = *xfer_rx_get_result(rx);
    *tx_out = *xfer_tx_get_stats(tx);
    xfer_tx_destroy(&tx);
    xfer_rx_destroy(&rx);
    assert_null(tx);
    return out;
}

static void test_xfer_file_arrives_exact_through_loss_and_corruption(void **state)
{
    (void)state;
    size_t size = 20000;
    uint8_t *data = malloc(size);
    s_random(data, size, 3);
    s_link l = {.frame_loss = 0.15, .frame_corrupt = 0.1, .status_loss = 0.3, .max_ms = 60000};
    xfer_rx_result rx;
    xfer_tx_stats tx;
    assert_int_equal(s_transfer(&l, data, size, &rx, &tx), XFER_DONE);
    assert_int_equal(rx.state, FB_XFER_COMPLETE);
    assert_true(tx.retransmissions > 0);
    assert_true(rx.frames_bad > 0);
    assert_int_equal(tx.acked, tx.segments);
    char path[128];
    snprintf(path, sizeof path, "%s/file.bin", s_dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *got = malloc(size + 1);
    assert_int_equal(fread(got, 1, size + 1, f), size);
    fclose(f);
    assert_memory_equal(got, data, size);
    assert_int_equal(s_dir_entries(), 1);   /* no temporary left */
    unlink(path);
    free(got);
    free(data);
}

static void test_xfer_receiver_restarted_mid_file_gets_every_segment_again(void **state)
{
    (void)state;
    size_t size = 20000;
    uint8_t *data = malloc(size);
    s_random(data, size, 6);
    s_link l = {.frame_loss = 0.1, .restart_ms = 150, .max_ms = 60000};
    xfer_rx_result rx;
    xfer_tx_stats tx;
    assert_int_equal(s_transfer(&l, data, size, &rx, &tx), XFER_DONE);
    assert_int_equal(rx.state, FB_XFER_COMPLETE);
    assert_int_equal(rx.held, rx.segments);
    /* Frames the first receiver took are counted by the second only when
     * they came again. */
    assert_true(rx.frames_ok >= rx.segments);
    assert_true(tx.frames_sent > (uint64_t)rx.segments + 50);
    char path[128];
    snprintf(path, sizeof path, "%s/file.bin", s_dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *got = malloc(size);
    assert_int_equal(fread(got, 1, size, f), size);
    fclose(f);
    assert_memory_equal(got, data, size);
    unlink(path);
    free(got);
    free(data);
}

static void test_xfer_file_failing_the_whole_file_check_is_never_written(void **state)
{
    (void)state;
    uint8_t data[3000];
    s_random(data, sizeof data, 4);
    s_link l = {.crc_offset = 1, .max_ms = 60000};
    xfer_rx_result rx;
    xfer_tx_stats tx;
    assert_int_equal(s_transfer(&l, data, sizeof data, &rx, &tx), XFER_FAILED);
    assert_int_equal(rx.state, FB_XFER_FAILED);
    assert_non_null(strstr(al_error_message(), "whole-file CRC"));
    /* The receiver's own account (the last message before the sender's). */
    xfer_rx_config rc = {64, 16, s_dir, 1u << 20};
    xfer_rx_t *q = xfer_rx_create(&rc);
    fb_xfer_offer o;
    memset(&o, 0, sizeof o);
    o.file_id = 7;
    o.size = 0;
    o.crc = 1;   /* an empty file's CRC-32 is 0 */
    o.segment_bytes = xfer_segment_bytes(64, 16);
    snprintf(o.name, sizeof o.name, "empty");
    assert_int_equal(xfer_rx_offer(q, &o, 0), 1);
    assert_int_equal(xfer_rx_get_result(q)->state, FB_XFER_FAILED);
    assert_non_null(
        strstr(al_error_message(), "whole file's CRC-32 is 00000000, the offer's 00000001"));
    xfer_rx_destroy(&q);
    assert_int_equal(s_dir_entries(), 0);
}

static void test_xfer_sender_gives_up_on_a_link_that_carries_nothing(void **state)
{
    (void)state;
    uint8_t data[3000];
    s_random(data, sizeof data, 5);
    s_link l = {.frame_loss = 1.0, .max_ms = 60000};
    xfer_rx_result rx;
    xfer_tx_stats tx;
    assert_int_equal(s_transfer(&l, data, sizeof data, &rx, &tx), XFER_FAILED);
    assert_non_null(strstr(al_error_message(), "without an acknowledgement"));
    assert_int_equal(rx.state, FB_XFER_RECEIVING);
    /* max_sends 10 of the first window of 32: nothing more. */
    assert_true(tx.frames_sent <= 32 * 10);
    assert_int_equal(s_dir_entries(), 0);
    /* A receiver that never answers: the idle bound ends it too. */
    l.frame_loss = 0;
    l.deaf = 1;
    assert_int_equal(s_transfer(&l, data, sizeof data, &rx, &tx), XFER_FAILED);
    assert_int_equal(s_dir_entries(), 0);
}

static void test_xfer_receiver_refuses_offers_that_do_not_fit(void **state)
{
    (void)state;
    xfer_rx_config rc = {64, 16, s_dir, 1000};
    xfer_rx_t *rx = xfer_rx_create(&rc);
    assert_non_null(rx);
    fb_xfer_offer o;
    memset(&o, 0, sizeof o);
    o.file_id = 9;
    o.segment_bytes = xfer_segment_bytes(64, 16);
    o.size = 1001;
    o.segments = (uint32_t)((o.size + o.segment_bytes - 1) / o.segment_bytes);
    snprintf(o.name, sizeof o.name, "big");
    assert_int_equal(xfer_rx_offer(rx, &o, 0), AL_ERANGE);
    o.size = 100;
    o.segments = (uint32_t)((o.size + o.segment_bytes - 1) / o.segment_bytes);
    o.segment_bytes++;
    assert_int_equal(xfer_rx_offer(rx, &o, 0), AL_EMISMATCH);
    o.segment_bytes--;
    o.labels = 4;
    assert_int_equal(xfer_rx_offer(rx, &o, 0), AL_EMISMATCH);
    fb_xfer_status st;
    assert_int_equal(xfer_rx_status(rx, &st), 0);   /* nothing on offer */
    /* An empty file is complete at its offer. */
    o.labels = 0;
    o.size = 0;
    o.segments = 0;
    snprintf(o.name, sizeof o.name, "empty");
    assert_int_equal(xfer_rx_offer(rx, &o, 0), 1);
    assert_int_equal(xfer_rx_get_result(rx)->state, FB_XFER_COMPLETE);
    assert_int_equal(xfer_rx_status(rx, &st), 1);
    assert_int_equal(st.state, FB_XFER_COMPLETE);
    assert_int_equal(s_dir_entries(), 1);
    xfer_rx_destroy(&rx);
    char p[128];
    snprintf(p, sizeof p, "%s/empty", s_dir);
    unlink(p);
    rc.P = 16;   /* 8 bytes a frame: no room for data */
    assert_null(xfer_rx_create(&rc));
}

static void test_xfer_receiver_counts_bit_errors_of_the_latest_model(void **state)
{
    (void)state;
    xfer_rx_config rc = {64, 4, s_dir, 1000};
    xfer_rx_t *rx = xfer_rx_create(&rc);
    uint32_t sent[2] = {0, 1}, decided[2] = {3, 1};
    xfer_rx_note_eval(rx, 1, sent, decided, 2);   /* an earlier model: forgotten */
    xfer_rx_note_eval(rx, 1, sent, decided, 2);
    xfer_rx_note_eval(rx, 2, sent, decided, 2);
    fb_xfer_offer o;
    memset(&o, 0, sizeof o);
    o.file_id = 9;
    o.segment_bytes = xfer_segment_bytes(64, 4);
    o.size = 10;
    o.segments = 1;
    o.labels = 4;
    const uint16_t gray[4] = {0, 1, 3, 2};
    memcpy(o.label, gray, sizeof gray);
    snprintf(o.name, sizeof o.name, "x");
    assert_int_equal(xfer_rx_offer(rx, &o, 0), 1);
    const xfer_rx_result *r = xfer_rx_get_result(rx);
    assert_int_equal(r->eval_bits, 4);
    assert_int_equal(r->bit_errors_identity, 2);
    assert_int_equal(r->bit_errors_labelled, 1);
    xfer_rx_destroy(&rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xfer_frame_round_trips_with_and_without_labelling),
        cmocka_unit_test(test_xfer_frame_rejects_a_wrong_message_another_file_or_seq),
        cmocka_unit_test(test_xfer_frame_sizes_refuse_what_does_not_fit),
        cmocka_unit_test(test_xfer_labelling_makes_qam16_neighbours_differ_in_few_bits),
        cmocka_unit_test(test_xfer_bit_errors_count_hamming_distances),
        cmocka_unit_test(test_xfer_file_arrives_exact_through_loss_and_corruption),
        cmocka_unit_test(test_xfer_receiver_restarted_mid_file_gets_every_segment_again),
        cmocka_unit_test(test_xfer_file_failing_the_whole_file_check_is_never_written),
        cmocka_unit_test(test_xfer_sender_gives_up_on_a_link_that_carries_nothing),
        cmocka_unit_test(test_xfer_receiver_refuses_offers_that_do_not_fit),
        cmocka_unit_test(test_xfer_receiver_counts_bit_errors_of_the_latest_model),
    };
    return cmocka_run_group_tests(tests, s_setup_dir, s_remove_dir);
}

/* Tests of the PHY: frames built by tx/tx_frame, impaired by a
 * sample-level channel, received by rx/rx_frame. Set AL_PHY_FULL=1 for
 * the long versions (10^5 frames of noise for false accepts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "al_error.h"
#include "phy_channel.h"
#include "rx_frame.h"
#include "sim.h"
#include "tx_frame.h"

/* P_LONGEST: the longest payload a frame may carry. */
enum { N = 4, P_MAX = 256, P_LONGEST = AL_FRAME_MAX_PAYLOAD / N };

/* Messages per frame: 64, or P_MAX for the long-payload test. */
static unsigned P = 64;

static const double s_level_dbfs = -12.0;

typedef struct {
    unsigned frames;           /* delivered */
    unsigned correct;          /* delivered with the expected header */
    uint32_t *seqs;            /* delivered seqs, in order [cap] */
    float *symbols;            /* delivered payloads, in order [cap * 2PN] */
    unsigned cap;
    double err, sig;           /* EVM against the sent payload */
    const float *sent;         /* payloads by seq [n * 2PN] */
    unsigned n_sent;
    double sco_sum, sco_sq;    /* measured sample-clock offsets, ppm */
    unsigned levels;           /* frames seen by the level figures */
    double level_min, level_max, noise_min, noise_max, dc_min, dc_max, cfo_min, cfo_max;
    double dc_late;            /* mean DC power over the second half of the frames */
} sink_t;

static void s_sink(void *user, const rx_frame_result *r)
{
    sink_t *s = user;
    const unsigned seq = r->header.seq;
    if (s->frames < s->cap) {
        s->seqs[s->frames] = seq;
        memcpy(s->symbols + (size_t)s->frames * 2 * P * N, r->symbols, sizeof(float) * 2 * P * N);
    }
    s->frames++;
    if (seq >= s->n_sent || r->header.session != 99 || r->header.phase != AL_PHASE_TX_TRAIN ||
        r->header.model_version != seq * 3)
        return;
    s->correct++;
    s->sco_sum += r->sco_ppm;
    s->sco_sq += (double)r->sco_ppm * r->sco_ppm;
    const float *ref = s->sent + (size_t)seq * 2 * P * N;
    for (unsigned i = 0; i < 2 * P * N; i++) {
        double e = r->symbols[i] - ref[i];
        s->err += e * e;
        s->sig += (double)ref[i] * ref[i];
    }
    /* The levels from the second frame on: the first may come before
     * the DC estimate has settled. */
    if (seq == 0)
        return;
    const int first = s->levels++ == 0;
    s->level_min = first || r->level_dbfs < s->level_min ? r->level_dbfs : s->level_min;
    s->level_max = first || r->level_dbfs > s->level_max ? r->level_dbfs : s->level_max;
    s->noise_min = first || r->noise_dbfs < s->noise_min ? r->noise_dbfs : s->noise_min;
    s->noise_max = first || r->noise_dbfs > s->noise_max ? r->noise_dbfs : s->noise_max;
    s->dc_min = first || r->dc_dbfs < s->dc_min ? r->dc_dbfs : s->dc_min;
    s->dc_max = first || r->dc_dbfs > s->dc_max ? r->dc_dbfs : s->dc_max;
    s->cfo_min = first || r->cfo < s->cfo_min ? r->cfo : s->cfo_min;
    s->cfo_max = first || r->cfo > s->cfo_max ? r->cfo : s->cfo_max;
    if (seq >= s->n_sent / 2)
        s->dc_late += pow(10.0, r->dc_dbfs / 10.0) / (s->n_sent - s->n_sent / 2);
}

typedef struct {
    float complex *x;     /* stream */
    size_t len;
    float *sent;          /* payloads [n * 2PN] */
    unsigned n;
} stream_t;

/* What the transmitter and the channel do to each frame. */
typedef struct {
    int impaired;         /* random gain, phase, delay, carrier offset */
    double gain_range_db; /* the gain's range below 0 dB */
    double cfo_max;       /* the carrier offset's range, +-cycles/sample */
    double sco;           /* sample-clock offset (phy_channel_sco) */
    double dc;            /* DC added to the whole stream, relative to a 0 dB frame's RMS */
    float if_offset;      /* the transmitter's (tx_frame_set_if_offset) */
    double gain_db;       /* fixed gain (not impaired) */
    double cfo;           /* fixed carrier offset (not impaired), cycles/sample */
    int silent_gaps;      /* exact zeros between frames, samples quantized to 8 bits */
    unsigned gap;         /* samples between frames beyond 2 x 64 of noise; 0: 1100 */
} chan_t;

static const chan_t s_ideal = {0},
                    s_impaired = {.impaired = 1, .gain_range_db = 40, .cfo_max = 0.01};

/* n frames with random payloads, each through its own random channel
 * (impaired or not) at es_n0_db, separated by random noise gaps. */
static void s_make_stream_from(stream_t *st, unsigned n, unsigned sps, double es_n0_db,
                               const chan_t *ch, uint64_t seed, const float *payloads)
{
    tx_frame_config tc = {.frame = {.sps = sps, .rolloff = 0.35f, .messages = P, .N = N},
                          .level_dbfs = (float)s_level_dbfs};
    tx_frame_t *tx = tx_frame_create(&tc);
    assert_non_null(tx);
    assert_int_equal(tx_frame_set_if_offset(tx, ch->if_offset), 0);
    const unsigned L = tx_frame_length(tx), pad = 64;
    const unsigned slot = L + 2 * pad + (ch->gap > 0 ? ch->gap : 1100);
    float complex *frame = calloc(L + 2 * pad, sizeof *frame);
    st->len = (size_t)n * slot;
    st->x = malloc(sizeof *st->x * st->len);
    st->sent = malloc(sizeof(float) * 2 * P * N * n);
    st->n = n;
    al_rng_t r;
    al_rng_seed(&r, seed);
    const double es = pow(10.0, s_level_dbfs / 10.0) * sps;
    for (unsigned f = 0; f < n; f++) {
        float *pay = st->sent + (size_t)f * 2 * P * N;
        if (payloads != NULL)
            memcpy(pay, payloads + (size_t)f * 2 * P * N, sizeof(float) * 2 * P * N);
        else
            for (unsigned i = 0; i < P * N; i++)
                al_rng_cnormal(&r, 1.0, &pay[2 * i], &pay[2 * i + 1]);
        al_frame_header h = {.version = AL_FRAME_VERSION, .session = 99, .seq = f,
                             .phase = AL_PHASE_TX_TRAIN, .model_version = f * 3, .messages = P};
        assert_int_equal(tx_frame_execute(tx, &h, pay, frame + pad), 0);
        double gain = pow(10.0, ch->gain_db / 20.0), cfo = ch->cfo * 2.0 * M_PI, phase = 0.0;
        double delay = 0.0;
        if (ch->impaired) {
            gain = pow(10.0, -ch->gain_range_db * al_rng_uniform(&r) / 20.0);
            cfo = (2.0 * al_rng_uniform(&r) - 1.0) * ch->cfo_max * 2.0 * M_PI;
            phase = 2.0 * M_PI * al_rng_uniform(&r);
            delay = al_rng_uniform(&r);
        }
        const double nv = es / pow(10.0, es_n0_db / 10.0) * gain * gain;
        /* Noise at the frame's own level first, then the frame: a real
         * link's level does not jump 40 dB from one frame to the next. */
        float complex *out = st->x + (size_t)f * slot;
        const unsigned gap = slot - (L + 2 * pad);
        for (unsigned i = 0; i < gap; i++) {
            float a = 0, b = 0;
            if (!ch->silent_gaps)
                al_rng_cnormal(&r, nv, &a, &b);
            out[i] = a + b * I;
        }
        phy_channel_sco(frame, L + 2 * pad, out + gap, L + 2 * pad, delay + 8.0, ch->sco, gain,
                        cfo, phase, nv, &r);
    }
    /* The radio's DC (LO leakage) is the same under every frame. */
    const float complex dc = (float complex)(ch->dc * pow(10.0, s_level_dbfs / 20.0) * cexp(I * 0.7));
    for (size_t i = 0; i < st->len; i++) {
        float complex v = st->x[i] + dc;
        if (ch->silent_gaps)
            v = roundf(crealf(v) * 127.0f) / 127.0f + roundf(cimagf(v) * 127.0f) / 127.0f * I;
        st->x[i] = v;
    }
    free(frame);
    tx_frame_destroy(&tx);
}

static void s_make_stream(stream_t *st, unsigned n, unsigned sps, double es_n0_db, const chan_t *ch,
                          uint64_t seed)
{
    s_make_stream_from(st, n, sps, es_n0_db, ch, seed, NULL);
}

static void s_free_stream(stream_t *st)
{
    free(st->x);
    free(st->sent);
}

static rx_frame_t *s_rx(unsigned sps, sink_t *sink, int equalise)
{
    rx_frame_config rc = {.frame = {.sps = sps, .rolloff = 0.35f, .messages = P, .N = N},
                          .equalise = equalise};
    rx_frame_t *rx = rx_frame_create(&rc, s_sink, sink);
    assert_non_null(rx);
    return rx;
}

static void s_feed_random_blocks(rx_frame_t *rx, const stream_t *st, uint64_t seed)
{
    al_rng_t r;
    al_rng_seed(&r, seed);
    size_t at = 0;
    while (at < st->len) {
        size_t b = 1 + al_rng_below(&r, 5000);
        if (b > st->len - at)
            b = st->len - at;
        rx_frame_execute(rx, st->x + at, b);
        at += b;
    }
}

static double s_evm_snr_db(const sink_t *s)
{
    return 10.0 * log10(s->sig / s->err);
}

static void s_check_channel(unsigned sps, unsigned frames, const chan_t *ch)
{
    stream_t ideal, hard;
    s_make_stream(&ideal, frames < 300 ? frames : 300, sps, 10.0, &s_ideal, 11);
    s_make_stream(&hard, frames, sps, 10.0, ch, 12);
    sink_t a = {.sent = ideal.sent, .n_sent = ideal.n}, b = {.sent = hard.sent, .n_sent = hard.n};
    rx_frame_t *rx = s_rx(sps, &a, 1);
    rx_frame_execute(rx, ideal.x, ideal.len);
    print_message("ideal: detections %llu, CRC failures %llu, delivered %u\n",
                  (unsigned long long)rx_frame_get_counters(rx)->detected,
                  (unsigned long long)rx_frame_get_counters(rx)->outcome[RXF_HEADER_CRC], a.frames);
    rx_frame_destroy(&rx);
    rx = s_rx(sps, &b, 1);
    s_feed_random_blocks(rx, &hard, 5);
    const rx_frame_counters *c = rx_frame_get_counters(rx);
    print_message("sps %u: %u/%u frames with the right header (detections %llu, CRC "
                  "failures %llu); EVM SNR %.2f dB impaired vs %.2f dB ideal\n",
                  sps, b.correct, frames, (unsigned long long)c->detected,
                  (unsigned long long)c->outcome[RXF_HEADER_CRC], s_evm_snr_db(&b),
                  s_evm_snr_db(&a));
    const double sco_mean = b.sco_sum / b.correct;
    print_message("sample-clock offset measured %.1f +- %.1f ppm (mean, sd per frame); "
                  "ideal %.1f +- %.1f ppm\n", sco_mean,
                  sqrt(b.sco_sq / b.correct - sco_mean * sco_mean), a.sco_sum / a.correct,
                  sqrt(a.sco_sq / a.correct - pow(a.sco_sum / a.correct, 2)));
    assert_int_equal(a.correct, ideal.n);
    assert_true(b.correct * 1000 >= 999 * frames);
    assert_true(s_evm_snr_db(&b) > s_evm_snr_db(&a) - 0.5);
    /* The ideal receiver is itself close to the channel's 10 dB. */
    assert_true(s_evm_snr_db(&a) > 9.3);
    rx_frame_destroy(&rx);
    s_free_stream(&ideal);
    s_free_stream(&hard);
}

/* Frames through ch at 10 dB Es/N0 received with the DC removed or not
 * (and ch's IF shifted down): *correct gets the frames with the right
 * header; returns the payload's EVM SNR. */
static double s_evm_through(unsigned sps, unsigned frames, const chan_t *ch, double es_n0_db,
                            int remove_dc, unsigned *correct)
{
    stream_t st;
    s_make_stream(&st, frames, sps, es_n0_db, ch, 12);
    sink_t b = {.sent = st.sent, .n_sent = st.n};
    rx_frame_t *rx = s_rx(sps, &b, 1);
    rx_frame_set_dc_removal(rx, remove_dc);
    assert_int_equal(rx_frame_set_if_offset(rx, ch->if_offset), 0);
    s_feed_random_blocks(rx, &st, 5);
    rx_frame_destroy(&rx);
    s_free_stream(&st);
    *correct = b.correct;
    return s_evm_snr_db(&b);
}

static void test_phy_detects_frames_under_impairments_sps2(void **state)
{
    (void)state;
    s_check_channel(2, 3000, &s_impaired);
}

static void test_phy_detects_frames_under_impairments_sps4(void **state)
{
    (void)state;
    s_check_channel(4, 1000, &s_impaired);
}

static void test_phy_synchronises_across_five_percent_carrier_offset_sps2(void **state)
{
    (void)state;
    const chan_t ch = {.impaired = 1, .cfo_max = 0.05};
    s_check_channel(2, 1000, &ch);
}

static void test_phy_synchronises_across_five_percent_carrier_offset_sps4(void **state)
{
    (void)state;
    const chan_t ch = {.impaired = 1, .cfo_max = 0.05};
    s_check_channel(4, 500, &ch);
}

static void test_phy_long_payload_keeps_its_phase(void **state)
{
    /* 1024 payload symbols: the frequency estimated on preamble and
     * header alone leaves a drift that grows along the payload; the
     * pilots must take it out (measured: 9.90 dB impaired, 9.89 dB
     * ideal at 10 dB Es/N0; with the pilots' correction switched off,
     * 8.79 and 8.64 dB, which the ideal receiver's 9.3 dB floor in
     * s_check_channel rejects). */
    (void)state;
    P = P_MAX;
    s_check_channel(2, 300, &s_impaired);
    P = 64;
}

static void test_phy_longest_payload_survives_sample_clock_offset(void **state)
{
    (void)state;
    P = P_LONGEST;
    const chan_t fast = {.impaired = 1, .cfo_max = 0.01, .sco = 40e-6};
    s_check_channel(2, 60, &fast);
    const chan_t slow = {.impaired = 1, .cfo_max = 0.01, .sco = -40e-6};
    s_check_channel(2, 60, &slow);
    P = 64;
}

static void test_phy_removes_dc_of_minus_10_dbc(void **state)
{
    /* The HackRF's LO leakage: DC at -10 dBc of the frame's RMS. At
     * sps 2 the receiver subtracts the DC; at sps 4 the frame can also
     * sit off centre (IF 0.25 cycles/sample) with the DC outside its
     * band, where the matched filter rejects it. */
    (void)state;
    enum { FRAMES = 300 };
    chan_t clean = {.impaired = 1, .cfo_max = 0.01}, dc = clean;
    dc.dc = pow(10.0, -10.0 / 20.0);
    unsigned n_clean, n_dc, n_kept;
    const double e_clean = s_evm_through(2, FRAMES, &clean, 10.0, 1, &n_clean);
    const double e_dc = s_evm_through(2, FRAMES, &dc, 10.0, 1, &n_dc);
    const double e_kept = s_evm_through(2, FRAMES, &dc, 10.0, 0, &n_kept);
    print_message("sps 2, -10 dBc DC: EVM SNR %.2f dB removed (%u frames), %.2f dB kept (%u), "
                  "%.2f dB without DC (%u)\n", e_dc, n_dc, e_kept, n_kept, e_clean, n_clean);
    assert_int_equal(n_clean, FRAMES);
    assert_int_equal(n_dc, FRAMES);
    assert_true(e_dc > e_clean - 0.5);
    assert_true(e_kept < e_clean - 0.5); /* the DC matters */
    clean.if_offset = dc.if_offset = 0.25f;
    const double e4_clean = s_evm_through(4, FRAMES, &clean, 10.0, 0, &n_clean);
    const double e4_if = s_evm_through(4, FRAMES, &dc, 10.0, 0, &n_dc);
    const double e4_both = s_evm_through(4, FRAMES, &dc, 10.0, 1, &n_kept);
    print_message("sps 4, IF 0.25, -10 dBc DC: EVM SNR %.2f dB kept (%u frames), %.2f dB removed "
                  "(%u), %.2f dB without DC (%u)\n", e4_if, n_dc, e4_both, n_kept, e4_clean, n_clean);
    assert_int_equal(n_clean, FRAMES);
    assert_int_equal(n_dc, FRAMES);
    assert_int_equal(n_kept, FRAMES);
    assert_true(e4_if > e4_clean - 0.5);
    assert_true(e4_both > e4_clean - 0.5);
}

static void test_phy_rejects_an_if_that_leaves_the_band(void **state)
{
    /* At sps 2 the frame spans +-0.3375 cycles/sample: an IF of 0.17
     * would wrap it around. */
    (void)state;
    sink_t s = {0};
    rx_frame_t *rx = s_rx(2, &s, 1);
    assert_int_equal(rx_frame_set_if_offset(rx, 0.17f), AL_EINVAL);
    assert_non_null(strstr(al_error_message(), "leaves the band"));
    assert_int_equal(rx_frame_set_if_offset(rx, -0.16f), 0);
    rx_frame_destroy(&rx);
    tx_frame_config tc = {.frame = {.sps = 2, .rolloff = 0.35f, .messages = P, .N = N},
                          .level_dbfs = -12.0f};
    tx_frame_t *tx = tx_frame_create(&tc);
    assert_non_null(tx);
    assert_int_equal(tx_frame_set_if_offset(tx, -0.17f), AL_EINVAL);
    assert_int_equal(tx_frame_set_if_offset(tx, 0.16f), 0);
    tx_frame_destroy(&tx);
}

static void test_phy_receives_frames_between_exact_zeros(void **state)
{
    /* 8-bit samples at low gain: frames at -30 dBFS (4 LSB RMS) and
     * exact zeros between them (the transmitter's least guard, 512
     * samples), where the detector once reported frames that swallowed
     * the real ones. */
    (void)state;
    enum { FRAMES = 200 };
    const chan_t ch = {.gain_db = -18.0, .silent_gaps = 1, .gap = 512};
    unsigned n;
    const double e = s_evm_through(2, FRAMES, &ch, 20.0, 1, &n);
    print_message("8-bit frames between zeros: %u/%u with the right header, EVM SNR %.2f dB\n", n,
                  FRAMES, e);
    assert_int_equal(n, FRAMES);
}

static void test_phy_reports_levels_offsets_and_dc(void **state)
{
    /* What the bench is shown: frames at -12 dBFS and Es/N0 10 dB at
     * sps 2 (signal -12, noise -19 dBFS per sample, together -11.2), a
     * carrier offset of 0.03 cycles/sample, 20 ppm of sample-clock offset
     * and DC at -22 dBFS (-10 dBc). */
    (void)state;
    P = P_MAX;
    const chan_t ch = {.cfo = 0.03, .sco = 20e-6, .dc = pow(10.0, -10.0 / 20.0)};
    stream_t st;
    s_make_stream(&st, 200, 2, 10.0, &ch, 23);
    sink_t s = {.sent = st.sent, .n_sent = st.n};
    rx_frame_t *rx = s_rx(2, &s, 1);
    s_feed_random_blocks(rx, &st, 3);
    const double sco = s.sco_sum / s.correct;
    print_message("level %.2f..%.2f dBFS, noise %.2f..%.2f dBFS, DC %.2f..%.2f dBFS, "
                  "carrier offset %.6f..%.6f rad/sample (sent %.6f), sample-clock offset "
                  "%.1f ppm (mean of %u)\n", s.level_min, s.level_max, s.noise_min, s.noise_max,
                  s.dc_min, s.dc_max, s.cfo_min, s.cfo_max, 0.03 * 2.0 * M_PI, sco, s.correct);
    assert_int_equal(s.correct, st.n);
    const double level = 10.0 * log10(pow(10.0, -1.2) * 1.2), noise = -12.0 + 10.0 * log10(0.2);
    assert_true(s.level_min > level - 0.3 && s.level_max < level + 0.3);
    assert_true(s.noise_min > noise - 1.0 && s.noise_max < noise + 1.0);
    assert_true(s.dc_max < -22.0 + 0.5 && s.dc_min > -22.0 - 0.5);
    assert_true(s.cfo_min > 0.03 * 2.0 * M_PI - 2e-4 && s.cfo_max < 0.03 * 2.0 * M_PI + 2e-4);
    assert_true(fabs(sco - 20.0) < 5.0);
    rx_frame_destroy(&rx);
    s_free_stream(&st);
    /* Without DC, at 30 dB Es/N0, the estimate must not find the
     * frames' own mean (the preamble's is the same in every frame). */
    const chan_t none = {.cfo = 0.03};
    s_make_stream(&st, 200, 2, 30.0, &none, 29);
    sink_t z = {.sent = st.sent, .n_sent = st.n};
    rx = s_rx(2, &z, 1);
    s_feed_random_blocks(rx, &st, 3);
    print_message("no DC: estimate %.1f..%.1f dBFS, %.1f dBFS over the last 100 frames\n",
                  z.dc_min, z.dc_max, 10.0 * log10(z.dc_late));
    assert_int_equal(z.correct, st.n);
    assert_true(10.0 * log10(z.dc_late) < -70.0);
    rx_frame_destroy(&rx);
    s_free_stream(&st);
    P = 64;
}

static void test_phy_random_blocks_decode_like_one_block(void **state)
{
    (void)state;
    stream_t st;
    s_make_stream(&st, 60, 2, 8.0, &s_impaired, 21);
    enum { CAP = 64 };
    sink_t a = {.cap = CAP, .sent = st.sent, .n_sent = st.n}, b = a;
    a.seqs = calloc(CAP, sizeof *a.seqs);
    b.seqs = calloc(CAP, sizeof *b.seqs);
    a.symbols = calloc((size_t)CAP * 2 * P * N, sizeof(float));
    b.symbols = calloc((size_t)CAP * 2 * P * N, sizeof(float));
    rx_frame_t *rx = s_rx(2, &a, 1);
    rx_frame_execute(rx, st.x, st.len);
    rx_frame_destroy(&rx);
    rx = s_rx(2, &b, 1);
    s_feed_random_blocks(rx, &st, 77);
    rx_frame_destroy(&rx);
    assert_true(a.frames >= 59);
    assert_int_equal(a.frames, b.frames);
    assert_memory_equal(a.seqs, b.seqs, sizeof(uint32_t) * a.frames);
    assert_memory_equal(a.symbols, b.symbols, sizeof(float) * 2 * P * N * a.frames);
    free(a.seqs), free(b.seqs), free(a.symbols), free(b.symbols);
    s_free_stream(&st);
}

static void test_phy_noise_never_gives_a_valid_header(void **state)
{
    (void)state;
    const int full = getenv("AL_PHY_FULL") != NULL;
    const unsigned frames = full ? 100000 : 5000;
    rx_frame_config rc = {.frame = {.sps = 2, .rolloff = 0.35f, .messages = P, .N = N},
                          .equalise = 1};
    sink_t s = {0};
    rx_frame_t *rx = rx_frame_create(&rc, s_sink, &s);
    const unsigned len = al_frame_samples(&rc.frame);
    float complex *buf = malloc(sizeof *buf * len);
    al_rng_t r;
    al_rng_seed(&r, 31);
    for (unsigned f = 0; f < frames; f++) {
        for (unsigned i = 0; i < len; i++) {
            float a, b;
            al_rng_cnormal(&r, 1e-3, &a, &b);
            buf[i] = a + b * I;
        }
        rx_frame_execute(rx, buf, len);
    }
    const rx_frame_counters *c = rx_frame_get_counters(rx);
    print_message("noise: %u frames' worth of samples, %llu detections, %llu CRC failures, "
                  "%u headers accepted\n", frames, (unsigned long long)c->detected,
                  (unsigned long long)c->outcome[RXF_HEADER_CRC], s.frames);
    assert_int_equal(s.frames, 0);
    assert_int_equal(c->outcome[RXF_OK], 0);
    free(buf);
    rx_frame_destroy(&rx);
}

typedef struct {
    rx_net_t *rx;
    const uint32_t *msgs;   /* sent messages by seq [frames * P] */
    unsigned frames;
    uint64_t messages, errors;
} roundtrip_t;

static void s_decide(void *user, const rx_frame_result *r)
{
    roundtrip_t *t = user;
    if (r->header.seq >= t->frames)
        return;
    uint32_t dec[P_MAX];
    rx_net_decide(t->rx, r->symbols, P, dec);
    for (unsigned i = 0; i < P; i++)
        t->errors += dec[i] != t->msgs[r->header.seq * P + i];
    t->messages += P;
}

static void test_phy_round_trip_matches_symbol_level_ser(void **state)
{
    /* A trained M=256, N=4 pair: table symbols go into frames, through
     * the impaired channel and the receiver into the RX network. Its SER
     * must lie between the symbol-level SERs 0.5 dB either side. 8 dB
     * keeps the SER high enough to count (about 2 %) and the header safe. */
    (void)state;
    sim_train_config c = {
        .M = 256, .N = N, .channel = AL_CHAN_AWGN, .power = AL_POWER_AVERAGE,
        .train_snr_db = 8.0, .iterations = 800, .batch = 256, .rx_steps = 1, .tx_steps = 1,
        .sigma2 = 0.02, .baseline = TX_BASELINE_MEAN, .lr_rx = 3e-3, .lr_tx = 3e-3,
        .lr_decay = 0.1, .seed = 3,
    };
    sim_trainer_t *t = sim_trainer_create(&c, SIM_SUPERVISED);
    assert_non_null(t);
    for (unsigned it = 0; it < c.iterations; it++) {
        float a, b;
        sim_trainer_iteration(t, it, &a, &b);
    }
    const double snr = 8.0;
    uint64_t n_lo, e_lo, n_hi, e_hi;
    sim_eval(sim_trainer_tx(t), sim_trainer_rx(t), AL_CHAN_AWGN, snr - 0.5, 400000, 400000, 1, &n_lo, &e_lo);
    sim_eval(sim_trainer_tx(t), sim_trainer_rx(t), AL_CHAN_AWGN, snr + 0.5, 400000, 400000, 2, &n_hi, &e_hi);

    enum { FRAMES = 400 };
    uint32_t *msgs = malloc(sizeof(uint32_t) * FRAMES * P);
    float *payloads = malloc(sizeof(float) * 2 * P * N * FRAMES);
    al_rng_t r;
    al_rng_seed(&r, 42);
    for (unsigned i = 0; i < FRAMES * P; i++)
        msgs[i] = al_rng_below(&r, 256);
    for (unsigned f = 0; f < FRAMES; f++)
        tx_net_encode(sim_trainer_tx(t), msgs + f * P, P, payloads + (size_t)f * 2 * P * N);
    stream_t st;
    s_make_stream_from(&st, FRAMES, 2, snr, &s_impaired, 41, payloads);
    roundtrip_t rt = {.rx = sim_trainer_rx(t), .msgs = msgs, .frames = FRAMES};
    rx_frame_config rc = {.frame = {.sps = 2, .rolloff = 0.35f, .messages = P, .N = N},
                          .equalise = 1};
    rx_frame_t *rx = rx_frame_create(&rc, s_decide, &rt);
    s_feed_random_blocks(rx, &st, 9);
    const double ser = (double)rt.errors / (double)rt.messages;
    const double ser_lo = (double)e_lo / n_lo, ser_hi = (double)e_hi / n_hi;
    print_message("round trip at %.1f dB: SER %.4f over the air (%llu messages); symbol level "
                  "%.4f at %.1f dB, %.4f at %.1f dB\n", snr, ser, (unsigned long long)rt.messages,
                  ser_lo, snr - 0.5, ser_hi, snr + 0.5);
    assert_true(rt.messages >= (uint64_t)(FRAMES - 1) * P);
    assert_true(ser < ser_lo && ser > ser_hi);
    rx_frame_destroy(&rx);
    s_free_stream(&st);
    free(payloads);
    free(msgs);
    sim_trainer_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phy_detects_frames_under_impairments_sps2),
        cmocka_unit_test(test_phy_detects_frames_under_impairments_sps4),
        cmocka_unit_test(test_phy_synchronises_across_five_percent_carrier_offset_sps2),
        cmocka_unit_test(test_phy_synchronises_across_five_percent_carrier_offset_sps4),
        cmocka_unit_test(test_phy_long_payload_keeps_its_phase),
        cmocka_unit_test(test_phy_longest_payload_survives_sample_clock_offset),
        cmocka_unit_test(test_phy_removes_dc_of_minus_10_dbc),
        cmocka_unit_test(test_phy_rejects_an_if_that_leaves_the_band),
        cmocka_unit_test(test_phy_receives_frames_between_exact_zeros),
        cmocka_unit_test(test_phy_reports_levels_offsets_and_dc),
        cmocka_unit_test(test_phy_random_blocks_decode_like_one_block),
        cmocka_unit_test(test_phy_noise_never_gives_a_valid_header),
        cmocka_unit_test(test_phy_round_trip_matches_symbol_level_ser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "rx_frame.h"

#include "al_error.h"

#include <liquid/liquid.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Timing phases of the matched filter: the output is sensitive to
 * timing (1/64 sample cost 15 dB of EVM at 60 dB SNR), so use many. */
enum { NPFB = 256, ALIGN_SLACK = 2 };

static const char *const s_outcome_text[] = {
#define RXF_TEXT(name, text) text,
    RX_FRAME_OUTCOMES(RXF_TEXT)
#undef RXF_TEXT
};

const char *rx_frame_outcome_text(int outcome)
{
    return outcome >= 0 && outcome < RXF_OUTCOME_COUNT ? s_outcome_text[outcome] : "unknown";
}

struct rx_frame {
    rx_frame_config cfg;
    rx_frame_callback cb;
    void *user;
    unsigned n_header, n_payload;
    unsigned n_collect;           /* symbols a frame needs, with alignment slack */
    unsigned n_mf;                /* matched-filter outputs kept: n_collect * sps */
    qdetector_cccf detector;
    firpfb_crcf mf;
    nco_crcf nco;
    qpacketmodem header_modem;
    float complex preamble[AL_FRAME_PREAMBLE_LEN];
    int collecting;               /* 0: searching */
    unsigned pfb_index;           /* matched filter timing phase */
    unsigned pushed;              /* samples pushed since detection */
    unsigned n_sym;               /* matched-filter outputs collected */
    float complex *mf_out;        /* every matched-filter output [n_mf] */
    float complex *sym;           /* the frame's symbols, decimated [n_collect] */
    float complex *ref;           /* known symbols: preamble + re-encoded header */
    float complex *hdr;           /* header symbols for decoding */
    float *payload;               /* [2*n_payload] */
    uint64_t stream_index;        /* samples seen */
    uint64_t detected_at;
    uint64_t frame_end;           /* stream index after the last frame */
    float dphi, gamma;
    rx_frame_counters counters;
};

void rx_frame_destroy(rx_frame_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rx_frame_t *q = *self_p;
    if (q->detector)
        qdetector_cccf_destroy(q->detector);
    if (q->mf)
        firpfb_crcf_destroy(q->mf);
    if (q->nco)
        nco_crcf_destroy(q->nco);
    if (q->header_modem)
        qpacketmodem_destroy(q->header_modem);
    free(q->sym);
    free(q->mf_out);
    free(q->ref);
    free(q->hdr);
    free(q->payload);
    free(q);
    *self_p = NULL;
}

rx_frame_t *rx_frame_create(const rx_frame_config *cfg, rx_frame_callback cb, void *user)
{
    if (cfg == NULL || cb == NULL) {
        AL_FAIL(AL_EINVAL, "need a configuration and a callback");
        return NULL;
    }
    if (al_frame_config_check(&cfg->frame) < 0)
        return NULL;
    if (cfg->threshold < 0.0f || cfg->threshold >= 1.0f) {
        AL_FAIL(AL_EINVAL, "threshold=%g not in (0, 1)", cfg->threshold);
        return NULL;
    }
    rx_frame_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    q->cfg = *cfg;
    q->cb = cb;
    q->user = user;
    const unsigned k = cfg->frame.sps, m = AL_FRAME_FILTER_DELAY;
    q->n_header = al_frame_header_symbols();
    q->n_payload = cfg->frame.messages * cfg->frame.N;
    q->n_collect = 2 * m + ALIGN_SLACK + AL_FRAME_PREAMBLE_LEN + q->n_header + q->n_payload;
    al_frame_preamble(q->preamble);
    q->detector = qdetector_cccf_create_linear(q->preamble, AL_FRAME_PREAMBLE_LEN,
                                               LIQUID_FIRFILT_RRC, k, m, cfg->frame.rolloff);
    q->mf = firpfb_crcf_create_rnyquist(LIQUID_FIRFILT_RRC, NPFB, k, m, cfg->frame.rolloff);
    q->nco = nco_crcf_create(LIQUID_NCO);
    q->header_modem = al_frame_header_modem_create();
    q->n_mf = q->n_collect * k;
    q->mf_out = malloc(sizeof *q->mf_out * q->n_mf);
    q->sym = malloc(sizeof *q->sym * q->n_collect);
    q->payload = malloc(sizeof(float) * 2 * q->n_payload);
    q->ref = malloc(sizeof *q->ref * (AL_FRAME_PREAMBLE_LEN + q->n_header));
    q->hdr = malloc(sizeof *q->hdr * q->n_header);
    if (!q->detector || !q->mf || !q->nco || !q->header_modem || !q->sym || !q->mf_out || !q->payload ||
        !q->ref || !q->hdr) {
        rx_frame_destroy(&q);
        AL_FAIL(AL_ENOMEM, "cannot create the receiver");
        return NULL;
    }
    qdetector_cccf_set_threshold(q->detector, cfg->threshold > 0 ? cfg->threshold : 0.5f);
    /* +-0.01 cycles/sample is 0.063 rad/sample; search a little wider. */
    qdetector_cccf_set_range(q->detector, 0.08f);
    return q;
}

void rx_frame_reset(rx_frame_t *q)
{
    qdetector_cccf_reset(q->detector);
    firpfb_crcf_reset(q->mf);
    nco_crcf_reset(q->nco);
    q->collecting = 0;
    q->n_sym = 0;
    q->frame_end = 0;
    q->stream_index = 0;
}

/* Mix down and matched-filter one input sample of a frame. Every output
 * is kept: the symbol phase is chosen afterwards from the preamble,
 * because the detector's buffer can start a sample early or late. */
static void s_step(rx_frame_t *q, float complex x)
{
    float complex v;
    nco_crcf_mix_down(q->nco, x, &v);
    nco_crcf_step(q->nco);
    firpfb_crcf_push(q->mf, v);
    if (q->n_sym < q->n_mf)
        firpfb_crcf_execute(q->mf, q->pfb_index, &q->mf_out[q->n_sym++]);
    q->pushed++;
}

static void s_start(rx_frame_t *q, const float complex *buf, unsigned len)
{
    const float tau = qdetector_cccf_get_tau(q->detector);
    q->gamma = qdetector_cccf_get_gamma(q->detector);
    q->dphi = qdetector_cccf_get_dphi(q->detector);
    /* Filter phase = the fractional delay, rounded; a negative delay is
     * the same phase a sample later, which the alignment search finds. */
    long idx = lroundf(tau * NPFB);
    while (idx < 0)
        idx += NPFB;
    q->pfb_index = (unsigned)(idx % NPFB);
    firpfb_crcf_reset(q->mf);
    nco_crcf_reset(q->nco);
    nco_crcf_set_frequency(q->nco, q->dphi);
    nco_crcf_set_phase(q->nco, qdetector_cccf_get_phi(q->detector));
    q->collecting = 1;
    q->pushed = 0;
    q->n_sym = 0;
    q->counters.detected++;
    q->detected_at = q->stream_index;
    for (unsigned i = 0; i < len; i++)
        s_step(q, buf[i]);
}

/* Correlation of y [size: n] with the known symbols ref. */
static float complex s_corr(const float complex *ref, const float complex *y, unsigned n)
{
    float complex c = 0.0f;
    for (unsigned i = 0; i < n; i++)
        c += conjf(ref[i]) * y[i];
    return c;
}

static void s_rotate(float complex *y, unsigned total, float dphi, float centre)
{
    for (unsigned j = 0; j < total; j++)
        y[j] *= cexpf(-I * dphi * ((float)j - centre));
}

/* Removes a frequency offset estimated from known symbols ref [size: n]
 * from y [size: total], around the centre of the known symbols, in two
 * stages: the phase advance between neighbouring symbols (unambiguous up
 * to pi per symbol, so a detector off by FFT bins is caught), then between
 * the two halves (precise). Returns the offset, rad/symbol. */
static float s_refine_frequency(const float complex *ref, unsigned n, float complex *y,
                                unsigned total)
{
    const float centre = (float)(n - 1) / 2.0f;
    float complex lag = 0.0f;
    for (unsigned i = 0; i + 1 < n; i++)
        lag += (y[i + 1] * conjf(ref[i + 1])) * conjf(y[i] * conjf(ref[i]));
    const float coarse = cargf(lag);
    s_rotate(y, total, coarse, centre);
    const unsigned h = n / 2;
    const float complex a = s_corr(ref, y, h), b = s_corr(ref + h, y + h, h);
    const float fine = cargf(b * conjf(a)) / (float)h;
    s_rotate(y, total, fine, centre);
    return coarse + fine;
}

/* The preamble alone cannot hold the phase across the whole header at
 * low SNR, so the header is tracked with a second-order decision-directed
 * loop on its QPSK symbols before decoding. */
static void s_track_header(rx_frame_t *q, const float complex *y, float complex g)
{
    const float alpha = 0.08f, beta = 0.002f;
    float theta = 0.0f, freq = 0.0f;
    const float a = (float)M_SQRT1_2;
    for (unsigned i = 0; i < q->n_header; i++) {
        const float complex z = y[i] / g * cexpf(-I * theta);
        const float complex dec = (crealf(z) > 0 ? a : -a) + (cimagf(z) > 0 ? a : -a) * I;
        const float err = cargf(z * conjf(dec));
        q->hdr[i] = z;
        freq += beta * err;
        theta += alpha * err + freq;
    }
}

static void s_finish(rx_frame_t *q)
{
    q->collecting = 0;
    const unsigned m = AL_FRAME_FILTER_DELAY, L = AL_FRAME_PREAMBLE_LEN, k = q->cfg.frame.sps;
    const unsigned total = L + q->n_header + q->n_payload;
    /* Alignment at sample resolution: the filters' delay is 2m symbols
     * from the buffer start; search ALIGN_SLACK symbols either side. */
    unsigned d = 2 * m * k;
    float best = -1.0f;
    for (unsigned o = (2 * m - ALIGN_SLACK) * k; o <= (2 * m + ALIGN_SLACK) * k; o++) {
        if (o + (total - 1) * k >= q->n_mf)
            break;
        float complex c = 0.0f;
        for (unsigned i = 0; i < L; i++)
            c += conjf(q->preamble[i]) * q->mf_out[o + i * k];
        if (cabsf(c) > best) {
            best = cabsf(c);
            d = o;
        }
    }
    for (unsigned j = 0; j < total; j++)
        q->sym[j] = q->mf_out[d + j * k];
    float complex *y = q->sym;
    /* Residual frequency from the preamble, enough to decode the header. */
    float dphi_sym = s_refine_frequency(q->preamble, L, y, total);
    float complex g = s_corr(q->preamble, y, L) / (float)L;
    s_track_header(q, y + L, g);
    uint8_t bytes[AL_FRAME_HEADER_BYTES];
    rx_frame_result r = {.sample = q->detected_at, .symbols = q->payload};
    rx_frame_outcome out = RXF_OK;
    if (!qpacketmodem_decode(q->header_modem, q->hdr, bytes)) {
        out = RXF_HEADER_CRC;
    } else {
        static const rx_frame_outcome map[] = {RXF_OK, RXF_VERSION, RXF_PHASE, RXF_COUNT};
        out = map[al_frame_header_parse(bytes, q->cfg.frame.messages, &r.header)];
    }
    q->counters.outcome[out]++;
    if (out != RXF_OK)
        return;
    /* The decoded header is known now: preamble + header (232 symbols)
     * give a finer frequency, gain and phase for the payload. */
    const unsigned n_ref = L + q->n_header;
    memcpy(q->ref, q->preamble, sizeof q->preamble);
    qpacketmodem_encode(q->header_modem, bytes, q->ref + L);
    dphi_sym += s_refine_frequency(q->ref, n_ref, y, total);
    g = s_corr(q->ref, y, n_ref) / (float)n_ref;
    double err = 0.0;
    for (unsigned i = 0; i < n_ref; i++) {
        float complex e = y[i] - g * q->ref[i];
        err += crealf(e * conjf(e));
    }
    const float g_abs = cabsf(g) > 1e-30f ? cabsf(g) : 1e-30f;
    const double noise = err / n_ref > 1e-30 ? err / n_ref : 1e-30;
    r.snr_db = (float)(10.0 * log10((double)g_abs * g_abs / noise));
    r.cfo = q->dphi + dphi_sym / (float)q->cfg.frame.sps;
    r.gain_db = 20.0f * log10f(g_abs);
    const float complex *p = y + n_ref;
    const float complex div = q->cfg.equalise ? g : g_abs;
    for (unsigned i = 0; i < q->n_payload; i++) {
        float complex s = p[i] / div;
        q->payload[2 * i] = crealf(s);
        q->payload[2 * i + 1] = cimagf(s);
    }
    q->cb(q->user, &r);
}

int rx_frame_execute(rx_frame_t *q, const float complex *x, size_t n)
{
    for (size_t i = 0; i < n; i++, q->stream_index++) {
        /* While a frame is collected the detector rests (frames do not
         * overlap) and is emptied at the frame's end, so that it neither
         * costs time nor fires again on the frame it already reported. */
        if (q->collecting) {
            s_step(q, x[i]);
            if (q->n_sym == q->n_mf) {
                q->frame_end = q->stream_index + 1;
                qdetector_cccf_reset(q->detector);
                s_finish(q);
            }
            continue;
        }
        float complex *buf = qdetector_cccf_execute(q->detector, x[i]);
        if (buf != NULL) {
            const unsigned len = qdetector_cccf_get_buf_len(q->detector);
            /* The detector keeps half its window after a detection and
             * can fire again inside the frame it just reported; frames
             * do not overlap, so such a detection is an echo. */
            if (q->stream_index + 1 < (uint64_t)len + q->frame_end)
                continue;
            s_start(q, buf, len);
            if (q->n_sym == q->n_mf) {
                qdetector_cccf_reset(q->detector);
                s_finish(q);
            }
        }
    }
    return AL_OK;
}

const rx_frame_counters *rx_frame_get_counters(const rx_frame_t *q)
{
    return &q->counters;
}

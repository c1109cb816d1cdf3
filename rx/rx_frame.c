#include "rx_frame.h"

#include "al_error.h"
#include "rx_detect.h"

#include <liquid/liquid.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Timing phases of the matched filter: the output is sensitive to
 * timing (1/64 sample cost 15 dB of EVM at 60 dB SNR), so use many.
 * SCO_BLOCK: symbols per timing measurement along the frame. DC_BLOCK:
 * samples per step of the DC estimate, which forgets by 1/DC_BLOCKS per
 * block (time constant 2^19 samples). The blocks are counted in stream
 * samples, so the output does not depend on how the stream is cut. */
enum { NPFB = 256, ALIGN_SLACK = 2, SCO_BLOCK = 64, DC_BLOCK = 512, DC_BLOCKS = 1024 };

/* The largest sample-clock offset corrected: two crystals of +-50 ppm
 * (the HackRF's are +-20 ppm). */
#define SCO_MAX 100e-6

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
    unsigned n_pilots;            /* in the payload region of n_payload + n_pilots symbols */
    unsigned n_collect;           /* symbols a frame needs, with alignment slack */
    unsigned n_mf;                /* matched-filter outputs kept: n_collect * sps */
    rx_detect_t *detector;
    float *bank;                  /* matched filter: NPFB phases x n_taps, reversed, each tap twice */
    unsigned n_taps;              /* 2km + 1, rounded up to a multiple of 4 (leading zeros) */
    float complex rot;            /* carrier offset removal per sample */
    float complex phasor;
    qpacketmodem header_modem;
    float complex preamble[AL_FRAME_PREAMBLE_LEN];
    int collecting;               /* 0: searching */
    unsigned pfb_index;           /* matched filter timing phase */
    unsigned n_sym;               /* samples collected since detection */
    float complex *mixed;         /* the frame's samples, mixed down [n_mf] */
    float complex *mf_out;        /* matched filter at every sample of the preamble region [n_mf] */
    float complex *sym;           /* the frame's symbols, decimated [n_collect] */
    float complex *ref;           /* known symbols: preamble + re-encoded header */
    float complex *hdr;           /* header symbols for decoding */
    float *payload;               /* [2*n_payload] */
    float complex *spill;         /* detector samples after a short frame [rx_detect_max_result] */
    uint64_t stream_index;        /* samples seen */
    uint64_t detected_at;
    float dphi;
    float complex *blk;           /* matched-filter outputs for one timing measurement [SCO_BLOCK] */
    float complex *cond;          /* conditioned samples [DC_BLOCK] */
    int remove_dc;
    float if_offset;              /* cycles/sample */
    double complex if_rot, if_phasor;
    float dc_acc[4][3];           /* of the current DC block: I, Q and power, in four
                                     lanes by stream index (independent additions) */
    double dc_w;                  /* DC estimate: sum of weights */
    double complex dc_wm;         /* and of weighted block means */
    float complex dc;             /* DC estimate */
    float complex dc_at_detect;
    rx_frame_counters counters;
};

void rx_frame_destroy(rx_frame_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rx_frame_t *q = *self_p;
    rx_detect_destroy(&q->detector);
    free(q->bank);
    if (q->header_modem)
        qpacketmodem_destroy(q->header_modem);
    free(q->sym);
    free(q->mf_out);
    if (q->mixed)
        free(q->mixed - (q->n_taps - 1));
    free(q->ref);
    free(q->hdr);
    free(q->payload);
    free(q->spill);
    free(q->blk);
    free(q->cond);
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
    q->n_pilots = al_frame_pilots(&cfg->frame);
    q->n_collect = 2 * m + ALIGN_SLACK + AL_FRAME_PREAMBLE_LEN + q->n_header + q->n_payload +
                   q->n_pilots;
    /* A fast receiver clock stretches the frame. */
    q->n_collect += (unsigned)ceil(SCO_MAX * q->n_collect) + 1;
    al_frame_preamble(q->preamble);
    q->detector = rx_detect_create(q->preamble, AL_FRAME_PREAMBLE_LEN, k, m, cfg->frame.rolloff,
                                   cfg->threshold > 0 ? cfg->threshold : 0.5f);
    /* The matched filter works on the stored frame, so each output is
     * one dot product of a phase's taps with the samples before it: no
     * filter state to push, and only the outputs that are needed. */
    const unsigned taps = 2 * k * m + 1, h_len = NPFB * (taps - 1) + 1;
    q->n_taps = (taps + 3) / 4 * 4;
    q->bank = malloc(sizeof *q->bank * NPFB * 2 * q->n_taps);
    float *proto = malloc(sizeof *proto * h_len);
    if (q->bank && proto &&
        liquid_firdes_prototype(LIQUID_FIRFILT_RRC, NPFB * k, m, cfg->frame.rolloff, 0.0f, proto) == 0) {
        for (unsigned ph = 0; ph < NPFB; ph++)
            for (unsigned j = 0; j < q->n_taps; j++) {
                const unsigned age = q->n_taps - 1 - j; /* samples before the newest */
                const unsigned src = ph + age * NPFB;
                const float h = age < taps && src < h_len ? proto[src] : 0.0f;
                q->bank[(ph * q->n_taps + j) * 2] = h;
                q->bank[(ph * q->n_taps + j) * 2 + 1] = h;
            }
    } else {
        free(q->bank);
        q->bank = NULL;
    }
    free(proto);
    q->header_modem = al_frame_header_modem_create();
    q->n_mf = q->n_collect * k;
    q->mf_out = malloc(sizeof *q->mf_out * q->n_mf);
    /* n_taps - 1 zeros ahead of the frame: the filter's start-up. */
    q->mixed = calloc(q->n_taps - 1 + q->n_mf, sizeof *q->mixed);
    if (q->mixed)
        q->mixed += q->n_taps - 1;
    q->sym = malloc(sizeof *q->sym * q->n_collect);
    q->payload = malloc(sizeof(float) * 2 * q->n_payload);
    q->ref = malloc(sizeof *q->ref * (AL_FRAME_PREAMBLE_LEN + q->n_header));
    q->hdr = malloc(sizeof *q->hdr * q->n_header);
    if (q->detector)
        q->spill = malloc(sizeof *q->spill * rx_detect_max_result(q->detector));
    q->blk = malloc(sizeof *q->blk * SCO_BLOCK);
    q->cond = malloc(sizeof *q->cond * DC_BLOCK);
    q->remove_dc = 1;
    q->if_rot = 1.0;
    q->if_phasor = 1.0;
    if (!q->detector || !q->spill || !q->blk || !q->cond || !q->bank || !q->header_modem || !q->sym || !q->mf_out || !q->mixed || !q->payload ||
        !q->ref || !q->hdr) {
        rx_frame_destroy(&q);
        AL_FAIL(AL_ENOMEM, "cannot create the receiver");
        return NULL;
    }
    return q;
}

int rx_frame_set_if_offset(rx_frame_t *q, float if_offset)
{
    const int rc = al_frame_if_offset_check(&q->cfg.frame, if_offset);
    if (rc < 0)
        return rc;
    q->if_offset = if_offset;
    q->if_rot = cexp(-I * 2.0 * M_PI * (double)if_offset);
    q->if_phasor = 1.0;
    return AL_OK;
}

void rx_frame_set_dc_removal(rx_frame_t *q, int remove)
{
    q->remove_dc = remove != 0;
}

void rx_frame_reset(rx_frame_t *q)
{
    rx_detect_reset(q->detector);
    q->collecting = 0;
    q->n_sym = 0;
    q->stream_index = 0;
    q->if_phasor = 1.0;
    memset(q->dc_acc, 0, sizeof q->dc_acc);
    q->dc_w = 0.0;
    q->dc_wm = 0.0;
    q->dc = 0.0f;
}

/* Mix down and keep one input sample of a frame; filtering waits for
 * s_finish, which then knows the timing and filters at symbol rate. */
static inline void s_step(rx_frame_t *q, float complex x)
{
    q->mixed[q->n_sym++] = x * q->phasor;
    q->phasor *= q->rot;
    /* Rounding makes the phasor's magnitude drift; pull it back. */
    if ((q->n_sym & 255) == 0)
        q->phasor /= cabsf(q->phasor);
}

static void s_start(rx_frame_t *q, const rx_detect_result *d, uint64_t at)
{
    /* Filter phase = the fractional delay, rounded; a negative delay is
     * the same phase a sample later, which the alignment search finds. */
    long idx = lroundf(d->tau * NPFB);
    while (idx < 0)
        idx += NPFB;
    q->pfb_index = (unsigned)(idx % NPFB);
    q->dphi = d->dphi;
    q->rot = cexpf(-I * q->dphi);
    /* Start from the detector's carrier phase: what remains for the
     * fading receiver (equalise = 0) is the residual, not an arbitrary
     * angle. */
    q->phasor = cexpf(-I * d->phi);
    q->collecting = 1;
    q->n_sym = 0;
    q->counters.detected++;
    q->detected_at = at;
    q->dc_at_detect = q->dc;
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
    const double complex rot = cexp(-I * (double)dphi);
    double complex v = cexp(I * (double)dphi * centre);
    for (unsigned j = 0; j < total; j++, v *= rot)
        y[j] *= (float complex)v;
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
    /* The halves' phase difference is ambiguous by 2 pi: at low SNR the
     * coarse stage leaves more than pi / h often enough (at Es/N0 6 dB,
     * 45 of 1639 frames turned a whole cycle along preamble and header:
     * their gain fit came out 30 dB down and their payload was lost), so
     * of the three candidates keep the one the known symbols fit best. */
    const float diff = cargf(b * conjf(a));
    float fine = diff / (float)h, best = -1.0f;
    for (int k = -1; k <= 1; k++) {
        const float f = (diff + 2.0f * (float)M_PI * (float)k) / (float)h;
        const double complex step = cexp(-I * (double)f);
        double complex v = cexp(I * (double)f * centre), c = 0.0;
        for (unsigned i = 0; i < n; i++, v *= step)
            c += conj(ref[i]) * y[i] * v;
        if (cabs(c) > best) {
            best = (float)cabs(c);
            fine = f;
        }
    }
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
    const float complex ginv = 1.0f / g;
    for (unsigned i = 0; i < q->n_header; i++) {
        const float complex z = y[i] * ginv * cexpf(-I * theta);
        const float complex dec = (crealf(z) > 0 ? a : -a) + (cimagf(z) > 0 ? a : -a) * I;
        const float err = cargf(z * conjf(dec));
        q->hdr[i] = z;
        freq += beta * err;
        theta += alpha * err + freq;
    }
}

/* GCC/Clang vector extension: SSE on any x86-64, NEON on arm64. */
typedef float s_v4 __attribute__((vector_size(16)));

static inline float complex s_mf(rx_frame_t *q, unsigned phase, unsigned j)
{
    /* Taps stored twice (for I and Q), so that four-lane vectors multiply
     * taps and interleaved samples directly: lanes 0, 2 sum I, 1, 3 sum Q. */
    const float *h = q->bank + (size_t)phase * q->n_taps * 2;
    const float *x = (const float *)(q->mixed + j - (q->n_taps - 1));
    s_v4 a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
    for (unsigned i = 0; i < 2 * q->n_taps; i += 8) {
        s_v4 h0, h1, x0, x1;
        memcpy(&h0, h + i, sizeof h0);
        memcpy(&h1, h + i + 4, sizeof h1);
        memcpy(&x0, x + i, sizeof x0);
        memcpy(&x1, x + i + 4, sizeof x1);
        a0 += h0 * x0;
        a1 += h1 * x1;
    }
    const s_v4 a = a0 + a1;
    return (a[0] + a[2]) + (a[1] + a[3]) * I;
}

/* Matched-filter outputs at the fractional sample positions
 * pos + i*step, i < count, of the mixed-down frame (zero past its
 * ends). */
static void s_mf_symbols(rx_frame_t *q, double pos, double step, unsigned count,
                         float complex *out)
{
    const unsigned k = q->cfg.frame.sps;
    if (step != (double)k) {
        for (unsigned i = 0; i < count; i++) {
            const double t = pos + step * i;
            long j = (long)floor(t), p = lround((t - (double)j) * NPFB);
            if (p == NPFB) {
                p = 0;
                j++;
            }
            out[i] = j >= 0 && j < (long)q->n_mf ? s_mf(q, (unsigned)p, (unsigned)j) : 0.0f;
        }
        return;
    }
    long j0 = (long)floor(pos);
    long p = lround((pos - (double)j0) * NPFB);
    if (p == NPFB) {
        p = 0;
        j0++;
    }
    for (unsigned i = 0; i < count; i++) {
        const long j = j0 + (long)i * k;
        out[i] = j >= 0 && j < (long)q->n_mf ? s_mf(q, (unsigned)p, (unsigned)j) : 0.0f;
    }
}

/* Magnitude of the preamble's correlation with symbols taken at pos. */
static float s_preamble_fit(rx_frame_t *q, double pos)
{
    s_mf_symbols(q, pos, q->cfg.frame.sps, AL_FRAME_PREAMBLE_LEN, q->sym);
    return cabsf(s_corr(q->preamble, q->sym, AL_FRAME_PREAMBLE_LEN));
}

/* The symbol timing, in samples from the frame's first sample: the
 * detector's estimate is good to about a sample, so first the alignment
 * at sample resolution (the filters' delay is 2m symbols; search
 * ALIGN_SLACK symbols either side), then a parabola through the
 * preamble's fit a quarter sample either side of the best of five. */
static double s_timing(rx_frame_t *q)
{
    const unsigned m = AL_FRAME_FILTER_DELAY, L = AL_FRAME_PREAMBLE_LEN, k = q->cfg.frame.sps;
    const unsigned lo = (2 * m - ALIGN_SLACK) * k, hi = (2 * m + ALIGN_SLACK) * k;
    const unsigned n_out = hi + (L - 1) * k + 1;
    for (unsigned j = 0; j < n_out; j++)
        q->mf_out[j] = s_mf(q, q->pfb_index, j);
    unsigned d = 2 * m * k;
    float best = -1.0f;
    for (unsigned o = lo; o <= hi; o++) {
        float complex c = 0.0f;
        for (unsigned i = 0; i < L; i++)
            c += conjf(q->preamble[i]) * q->mf_out[o + i * k];
        if (cabsf(c) > best) {
            best = cabsf(c);
            d = o;
        }
    }
    const double step = 0.25, centre = d + (double)q->pfb_index / NPFB;
    float fit[5];
    for (unsigned i = 0; i < 5; i++)
        fit[i] = s_preamble_fit(q, centre + ((double)i - 2.0) * step);
    unsigned b = 2;
    for (unsigned i = 0; i < 5; i++)
        if (fit[i] > fit[b])
            b = i;
    double pos = centre + ((double)b - 2.0) * step;
    if (b > 0 && b < 4) {
        const double a = 0.5 * (fit[b + 1] + fit[b - 1]) - fit[b], s = 0.5 * (fit[b + 1] - fit[b - 1]);
        if (a < 0.0)
            pos += step * (-s / (2.0 * a));
    }
    return pos;
}

/* The phase the payload region p still turns by, as a line a + b j in
 * the frame's symbol index j: a least-squares fit through the reference
 * (preamble + header, n_ref symbols whose residual phase is 0 by
 * construction of g and of the frequency fitted on them) and the pilots
 * (unwrapped from one to the next). For a short payload the line
 * barely moves from the reference's; over a long one the pilots catch
 * the frequency error the reference leaves. */
static void s_pilot_line(rx_frame_t *q, const float complex *p, float complex g, unsigned n_ref,
                         double *a, double *b)
{
    const float complex inv = 1.0f / g;
    const double n = n_ref;
    double sw = n, sx = n * (n - 1.0) / 2.0, sxx = (n - 1.0) * n * (2.0 * n - 1.0) / 6.0;
    double sy = 0.0, sxy = 0.0;
    double prev = 0.0;
    for (unsigned i = 0; i < q->n_pilots; i++) {
        const unsigned pos = al_frame_pilot_position(&q->cfg.frame, i);
        const float complex z = p[pos] * inv * conjf(al_frame_pilot(i));
        double phi = carg(z);
        phi = prev + remainder(phi - prev, 2.0 * M_PI);
        prev = phi;
        const double x = (double)(n_ref + pos);
        sw += 1.0;
        sx += x;
        sy += phi;
        sxx += x * x;
        sxy += x * phi;
    }
    const double den = sw * sxx - sx * sx;
    *b = den > 0.0 ? (sw * sxy - sx * sy) / den : 0.0;
    *a = (sy - *b * sx) / sw;
}

/* The sample-clock offset, as the drift of the symbol timing along the
 * frame's symbols y [size: total], taken at pos + j*k. The expected
 * energy of matched-filter outputs, as a function of the timing, is a
 * constant plus one sinusoid of period one symbol (the RC pulse's
 * spectrum ends below twice the symbol rate: Oerder and Meyr), for any
 * constellation that is not a single point, so three timings a quarter
 * symbol apart give its phase, the timing, per block of SCO_BLOCK
 * symbols, without knowing the payload. A line through the unwrapped
 * phases gives the drift: RX samples per TX sample, minus one. *sd is
 * its standard error. */
static double s_sco(rx_frame_t *q, double pos, const float complex *y, unsigned total,
                    double *sd)
{
    const unsigned k = q->cfg.frame.sps, nb = total / SCO_BLOCK;
    /* Too short to tell (a frame holds 232 known symbols, so never): an
     * error of 10^6 ppm, finite for whoever prints it. */
    *sd = 1.0;
    if (nb < 3)
        return 0.0;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, prev = 0;
    for (unsigned b = 0; b < nb; b++) {
        const unsigned j0 = b * SCO_BLOCK;
        double e0 = 0, ep = 0, em = 0;
        for (unsigned i = 0; i < SCO_BLOCK; i++)
            e0 += crealf(y[j0 + i] * conjf(y[j0 + i]));
        s_mf_symbols(q, pos + (double)j0 * k + k / 4.0, k, SCO_BLOCK, q->blk);
        for (unsigned i = 0; i < SCO_BLOCK; i++)
            ep += crealf(q->blk[i] * conjf(q->blk[i]));
        s_mf_symbols(q, pos + (double)j0 * k - k / 4.0, k, SCO_BLOCK, q->blk);
        for (unsigned i = 0; i < SCO_BLOCK; i++)
            em += crealf(q->blk[i] * conjf(q->blk[i]));
        double phi = atan2(ep - em, 2.0 * e0 - ep - em);
        phi = prev + remainder(phi - prev, 2.0 * M_PI);
        prev = phi;
        const double x = j0 + (SCO_BLOCK - 1) / 2.0;
        sx += x;
        sy += phi;
        sxx += x * x;
        sxy += x * phi;
        syy += phi * phi;
    }
    const double sxx_c = sxx - sx * sx / nb, sxy_c = sxy - sx * sy / nb, syy_c = syy - sy * sy / nb;
    const double slope = sxy_c / sxx_c;
    const double res = syy_c - slope * sxy_c;
    *sd = sqrt((res > 0 ? res : 0) / (nb - 2) / sxx_c) / (2.0 * M_PI);
    return slope / (2.0 * M_PI);
}

static void s_finish(rx_frame_t *q)
{
    q->collecting = 0;
    const unsigned L = AL_FRAME_PREAMBLE_LEN;
    const unsigned k = q->cfg.frame.sps;
    const unsigned total = L + q->n_header + q->n_payload + q->n_pilots;
    const double pos = s_timing(q);
    s_mf_symbols(q, pos, k, total, q->sym);
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
    double sco_sd;
    const double sco = s_sco(q, pos, y, total, &sco_sd);
    r.sco_ppm = (float)(sco * 1e6);
    r.sco_sd_ppm = (float)(sco_sd * 1e6);
    /* Resample when the drift it predicts at the frame's end is worth a
     * correction (0.02 samples) and the estimate is surely not noise;
     * the timing stays where the preamble put it. */
    const double centre = (L - 1) / 2.0, drift = fabs(sco) * k * (total - centre);
    if (drift > 0.02 && fabs(sco) > 3.0 * sco_sd && fabs(sco) <= SCO_MAX) {
        s_mf_symbols(q, pos - sco * k * centre, k * (1.0 + sco), total, y);
        dphi_sym = s_refine_frequency(q->preamble, L, y, total);
    }
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
    /* The fit of one complex gain takes one of the n_ref complex degrees
     * of freedom from the residual, and leaves its own error (variance
     * N0 / n_ref) in |g|^2. */
    r.n0 = err / (n_ref - 1);
    r.es = (double)g_abs * g_abs - r.n0 / n_ref;
    if (r.es < 0.0)
        r.es = 0.0;
    /* Levels over the symbols' span of the stored samples: the symbol
     * SNR is k times the SNR per sample (noise over the sampled band). */
    const long first = lround(pos) - (long)(AL_FRAME_FILTER_DELAY * k);
    const unsigned lo = first > 0 ? (unsigned)first : 0;
    const unsigned hi = lo + total * k < q->n_mf ? lo + total * k : q->n_mf;
    double pw = 1e-30 * (hi - lo);
    for (unsigned j = lo; j < hi; j++)
        pw += crealf(q->mixed[j] * conjf(q->mixed[j]));
    r.level_dbfs = (float)(10.0 * log10(pw / (hi - lo)));
    r.noise_dbfs = (float)(r.level_dbfs - 10.0 * log10(1.0 + g_abs * g_abs / noise / k));
    const double dc2 = crealf(q->dc_at_detect * conjf(q->dc_at_detect));
    r.dc_dbfs = (float)(10.0 * log10(dc2 > 1e-30 ? dc2 : 1e-30));
    r.cfo = q->dphi + dphi_sym / (float)k;
    r.gain_db = 20.0f * log10f(g_abs);
    const float complex *p = y + n_ref;
    double a, b;
    s_pilot_line(q, p, g, n_ref, &a, &b);
    /* The pilots' slope is what the frequency still was off by. */
    r.cfo += (float)(b / k);
    const float complex inv = 1.0f / (q->cfg.equalise ? g : g_abs);
    /* e^{-j(a + b (n_ref + j))} along the payload region, by a phasor. */
    const double complex step = cexp(-I * b);
    double complex turn = cexp(-I * (a + b * (double)n_ref));
    unsigned at = 0;
    for (unsigned i = 0; i < q->n_payload; i++) {
        const unsigned j = al_frame_payload_position(i);
        for (; at < j; at++)
            turn *= step;
        float complex s = p[j] * inv * (float complex)turn;
        q->payload[2 * i] = crealf(s);
        q->payload[2 * i + 1] = cimagf(s);
    }
    q->cb(q->user, &r);
}

/* x [size: n] starts at stream index at. */
static void s_execute(rx_frame_t *q, const float complex *x, size_t n, uint64_t at)
{
    size_t i = 0;
    while (i < n) {
        if (q->collecting) {
            while (i < n && q->n_sym < q->n_mf)
                s_step(q, x[i++]);
            if (q->n_sym == q->n_mf)
                s_finish(q);
            continue;
        }
        int found = 0;
        rx_detect_result d;
        i += rx_detect_execute(q->detector, x + i, n - i, &found, &d);
        if (!found)
            continue;
        s_start(q, &d, at + i - d.len);
        unsigned j = 0;
        while (j < d.len && q->n_sym < q->n_mf)
            s_step(q, d.buf[j++]);
        if (q->n_sym < q->n_mf)
            continue;
        /* The frame ended inside the detector's window: what follows it
         * goes back to the (now empty) detector, which cannot fill a
         * window from it, so this recursion is one level deep. */
        const unsigned rest = d.len - j;
        memcpy(q->spill, d.buf + j, sizeof *q->spill * rest);
        s_finish(q);
        s_execute(q, q->spill, rest, at + i - rest);
    }
}

/* DC removal and IF shift of x [size: n <= DC_BLOCK] into q->cond. */
static void s_condition(rx_frame_t *q, const float complex *x, size_t n)
{
    const float complex dc = q->remove_dc ? q->dc : 0.0f;
    if (q->if_offset == 0.0f) {
        for (size_t i = 0; i < n; i++)
            q->cond[i] = x[i] - dc;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        q->cond[i] = (x[i] - dc) * (float complex)q->if_phasor;
        q->if_phasor *= q->if_rot;
    }
}

/* At the end of a DC block, the DC estimate takes in the block's mean,
 * weighted by its precision (the inverse of the block's variance), and
 * forgets by 1/DC_BLOCKS per block. Quiet blocks between frames then
 * count for far more than the frames, whose own mean (the preamble's is
 * the same in every frame) would otherwise leak in, and than loud ones:
 * the level can change by 40 dB from one frame's channel to the next. */
static void s_block_end(rx_frame_t *q)
{
    double sum_i = 0.0, sum_q = 0.0, sum_p = 0.0;
    for (unsigned l = 0; l < 4; l++) {
        sum_i += q->dc_acc[l][0];
        sum_q += q->dc_acc[l][1];
        sum_p += q->dc_acc[l][2];
    }
    const double complex mean = (sum_i + sum_q * I) / DC_BLOCK;
    const double var = sum_p / DC_BLOCK - creal(mean * conj(mean));
    const double w = 1.0 / (var > 1e-12 ? var : 1e-12), keep = 1.0 - 1.0 / DC_BLOCKS;
    q->dc_w = keep * q->dc_w + w;
    q->dc_wm = keep * q->dc_wm + w * mean;
    q->dc = (float complex)(q->dc_wm / q->dc_w);
    /* Exact zeros after a DC would decay it into denormals. */
    if (crealf(q->dc * conjf(q->dc)) < 1e-30f)
        q->dc = 0.0f;
    memset(q->dc_acc, 0, sizeof q->dc_acc);
    q->if_phasor /= cabs(q->if_phasor);
}

int rx_frame_execute(rx_frame_t *q, const float complex *x, size_t n)
{
    /* Frames never overlap: while one is collected the detector rests,
     * so detection costs nothing inside frames and cannot fire twice.
     * The stream goes through in pieces that end on DC blocks. */
    const int condition = q->remove_dc || q->if_offset != 0.0f;
    size_t at = 0;
    while (at < n) {
        size_t len = DC_BLOCK - (size_t)(q->stream_index % DC_BLOCK);
        if (len > n - at)
            len = n - at;
        const float complex *p = x + at;
        for (size_t i = 0; i < len; i++) {
            float *acc = q->dc_acc[(q->stream_index + i) & 3];
            const float re = crealf(p[i]), im = cimagf(p[i]);
            acc[0] += re;
            acc[1] += im;
            acc[2] += re * re + im * im;
        }
        if (condition) {
            s_condition(q, p, len);
            p = q->cond;
        }
        s_execute(q, p, len, q->stream_index);
        q->stream_index += len;
        at += len;
        if (q->stream_index % DC_BLOCK == 0)
            s_block_end(q);
    }
    return AL_OK;
}

const rx_frame_counters *rx_frame_get_counters(const rx_frame_t *q)
{
    return &q->counters;
}

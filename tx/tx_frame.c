#include "tx_frame.h"

#include "al_error.h"
#include "al_rng.h"

#include <liquid/liquid.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct tx_frame {
    tx_frame_config cfg;
    unsigned n_header;         /* coded header symbols */
    unsigned n_symbols;        /* whole frame, symbols */
    float scale;               /* symbols -> samples at the configured level */
    double unit_rms;           /* the shaping filter's output RMS for unit-energy symbols */
    float papr_db;             /* of the last frame */
    float if_offset;           /* cycles/sample */
    qpacketmodem header_modem;
    firinterp_crcf interp;
    float complex *symbols;    /* [n_symbols] */
};

void tx_frame_destroy(tx_frame_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    tx_frame_t *q = *self_p;
    if (q->header_modem)
        qpacketmodem_destroy(q->header_modem);
    if (q->interp)
        firinterp_crcf_destroy(q->interp);
    free(q->symbols);
    free(q);
    *self_p = NULL;
}

tx_frame_t *tx_frame_create(const tx_frame_config *cfg)
{
    if (cfg == NULL || al_frame_config_check(&cfg->frame) < 0)
        return NULL;
    if (!(cfg->level_dbfs >= -60.0f && cfg->level_dbfs <= 0.0f)) {
        AL_FAIL(AL_EINVAL, "level_dbfs=%g not in [-60, 0]", cfg->level_dbfs);
        return NULL;
    }
    tx_frame_t *q = calloc(1, sizeof *q);
    if (q == NULL) {
        AL_FAIL(AL_ENOMEM, "no memory");
        return NULL;
    }
    q->cfg = *cfg;
    q->n_header = al_frame_header_symbols();
    q->n_symbols = al_frame_symbols(&cfg->frame);
    q->header_modem = al_frame_header_modem_create();
    q->interp = firinterp_crcf_create_prototype(LIQUID_FIRFILT_RRC, cfg->frame.sps,
                                                AL_FRAME_FILTER_DELAY, cfg->frame.rolloff, 0);
    q->symbols = calloc(q->n_symbols, sizeof *q->symbols);
    if (!q->header_modem || !q->interp || !q->symbols) {
        tx_frame_destroy(&q);
        AL_FAIL(AL_ENOMEM, "cannot create the frame builder");
        return NULL;
    }
    /* Measure the shaping filter's output power for unit-energy symbols
     * once, so the level is exact whatever the filter's normalisation. */
    al_rng_t r;
    al_rng_seed(&r, 1);
    double p = 0.0;
    unsigned n = 0;
    const unsigned k = cfg->frame.sps;
    float complex y[16];
    for (unsigned i = 0; i < 4096; i++) {
        float complex s = ((al_rng_u32(&r) & 1) ? 1.0f : -1.0f) * (float)M_SQRT1_2 +
                          ((al_rng_u32(&r) & 1) ? 1.0f : -1.0f) * (float)M_SQRT1_2 * I;
        firinterp_crcf_execute(q->interp, s, y);
        for (unsigned j = 0; j < k && i > 2 * AL_FRAME_FILTER_DELAY; j++, n++)
            p += crealf(y[j] * conjf(y[j]));
    }
    firinterp_crcf_reset(q->interp);
    q->unit_rms = sqrt(p / n);
    q->scale = (float)(pow(10.0, cfg->level_dbfs / 20.0) / q->unit_rms);
    return q;
}

int tx_frame_set_level(tx_frame_t *q, float level_dbfs)
{
    if (!(level_dbfs >= -60.0f && level_dbfs <= 0.0f))
        return AL_FAIL(AL_EINVAL, "level_dbfs=%g not in [-60, 0]", level_dbfs);
    q->cfg.level_dbfs = level_dbfs;
    q->scale = (float)(pow(10.0, level_dbfs / 20.0) / q->unit_rms);
    return AL_OK;
}

unsigned tx_frame_length(const tx_frame_t *q)
{
    return q->n_symbols * q->cfg.frame.sps;
}

int tx_frame_execute(tx_frame_t *q, const al_frame_header *h, const float *payload,
                     float complex *out)
{
    const al_frame_config *c = &q->cfg.frame;
    if (h->messages != c->messages)
        return AL_FAIL(AL_EINVAL, "header says %u messages, frames carry %u", h->messages,
                       c->messages);
    float complex *s = q->symbols;
    al_frame_preamble(s);
    s += AL_FRAME_PREAMBLE_LEN;
    uint8_t bytes[AL_FRAME_HEADER_BYTES];
    al_frame_header_pack(h, bytes);
    qpacketmodem_encode(q->header_modem, bytes, s);
    s += q->n_header;
    const unsigned n_payload = c->messages * c->N, n_pilots = al_frame_pilots(c);
    for (unsigned i = 0; i < n_payload; i++)
        s[al_frame_payload_position(i)] = payload[2 * i] + payload[2 * i + 1] * I;
    for (unsigned i = 0; i < n_pilots; i++)
        s[al_frame_pilot_position(c, i)] = al_frame_pilot(i);
    s += n_payload + n_pilots;
    memset(s, 0, sizeof *s * 2 * AL_FRAME_FILTER_DELAY);

    /* Each frame starts from a clean filter: frames are independent. */
    firinterp_crcf_reset(q->interp);
    const unsigned k = c->sps;
    double sum = 0.0, peak = 0.0;
    for (unsigned i = 0; i < q->n_symbols; i++) {
        firinterp_crcf_execute(q->interp, q->symbols[i], out + (size_t)i * k);
        for (unsigned j = 0; j < k; j++) {
            float complex v = out[(size_t)i * k + j] * q->scale;
            out[(size_t)i * k + j] = v;
            double pw = crealf(v * conjf(v));
            sum += pw;
            peak = pw > peak ? pw : peak;
        }
    }
    if (q->if_offset != 0.0f) {
        /* Each frame starts at phase 0: the receiver takes the phase
         * from the preamble anyway. */
        const double complex rot = cexp(I * 2.0 * M_PI * (double)q->if_offset);
        double complex v = 1.0;
        for (unsigned i = 0; i < q->n_symbols * k; i++, v *= rot)
            out[i] *= (float complex)v;
    }
    const double mean = sum / (q->n_symbols * k);
    q->papr_db = mean > 0 ? (float)(10.0 * log10(peak / mean)) : 0.0f;
    return AL_OK;
}

int tx_frame_set_if_offset(tx_frame_t *q, float if_offset)
{
    const int rc = al_frame_if_offset_check(&q->cfg.frame, if_offset);
    if (rc < 0)
        return rc;
    q->if_offset = if_offset;
    return AL_OK;
}

float tx_frame_papr_db(const tx_frame_t *q)
{
    return q->papr_db;
}

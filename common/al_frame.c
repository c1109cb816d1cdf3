#include "al_frame.h"

#include "al_bytes.h"
#include "al_error.h"
#include "al_rng.h"

#include <liquid/liquid.h>
#include <math.h>

static const char *const s_phase_names[] = {"unknown", "rx_train", "tx_train", "eval", "data"};

const char *al_phase_name(int phase)
{
    return phase >= 1 && phase <= 4 ? s_phase_names[phase] : s_phase_names[0];
}

int al_frame_config_check(const al_frame_config *c)
{
    if (c == NULL)
        return AL_FAIL(AL_EINVAL, "no frame configuration");
    if (c->sps < 2 || c->sps > 16)
        return AL_FAIL(AL_EINVAL, "sps=%u not in 2..16", c->sps);
    if (!(c->rolloff > 0.0f && c->rolloff <= 1.0f))
        return AL_FAIL(AL_EINVAL, "rolloff=%g not in (0, 1]", c->rolloff);
    if (c->messages == 0 || c->N == 0 || c->messages > 65535 ||
        (unsigned long)c->messages * c->N > AL_FRAME_MAX_PAYLOAD)
        return AL_FAIL(AL_EINVAL, "messages=%u x N=%u must be 1..%d payload symbols", c->messages,
                       c->N, AL_FRAME_MAX_PAYLOAD);
    return AL_OK;
}

int al_frame_if_offset_check(const al_frame_config *c, float if_offset)
{
    const float half_band = (1.0f + c->rolloff) / (2.0f * (float)c->sps);
    if (!(fabsf(if_offset) + half_band <= 0.5f))
        return AL_FAIL(AL_EINVAL, "if_offset=%g: the frame (+-%g cycles/sample) leaves the band",
                       if_offset, half_band);
    return AL_OK;
}

void al_frame_header_pack(const al_frame_header *h, uint8_t out[AL_FRAME_HEADER_BYTES])
{
    out[0] = h->version;
    al_put_le32(out + 1, h->session);
    al_put_le32(out + 5, h->seq);
    out[9] = h->phase;
    al_put_le32(out + 10, h->model_version);
    al_put_le16(out + 14, h->messages);
}

void al_frame_header_unpack(const uint8_t in[AL_FRAME_HEADER_BYTES], al_frame_header *h)
{
    h->version = in[0];
    h->session = al_get_le32(in + 1);
    h->seq = al_get_le32(in + 5);
    h->phase = in[9];
    h->model_version = al_get_le32(in + 10);
    h->messages = al_get_le16(in + 14);
}

void al_frame_preamble(float complex out[AL_FRAME_PREAMBLE_LEN])
{
    al_rng_t r;
    al_rng_seed(&r, 0x41495246u); /* fixed: part of the frame format */
    const float a = (float)M_SQRT1_2;
    for (int i = 0; i < AL_FRAME_PREAMBLE_LEN; i++) {
        uint32_t b = al_rng_u32(&r);
        out[i] = ((b & 1) ? a : -a) + ((b & 2) ? a : -a) * I;
    }
}

void *al_frame_header_modem_create(void)
{
    qpacketmodem q = qpacketmodem_create();
    if (q != NULL &&
        qpacketmodem_configure(q, AL_FRAME_HEADER_BYTES, LIQUID_CRC_32, LIQUID_FEC_GOLAY2412,
                               LIQUID_FEC_NONE, LIQUID_MODEM_QPSK) != LIQUID_OK) {
        qpacketmodem_destroy(q);
        q = NULL;
    }
    return q;
}

unsigned al_frame_header_symbols(void)
{
    static unsigned n;
    if (n == 0) {
        qpacketmodem q = al_frame_header_modem_create();
        if (q != NULL) {
            n = qpacketmodem_get_frame_len(q);
            qpacketmodem_destroy(q);
        }
    }
    return n;
}

unsigned al_frame_pilots(const al_frame_config *c)
{
    const unsigned n = c->messages * c->N;
    return (n + AL_FRAME_PILOT_SPACING - 1) / AL_FRAME_PILOT_SPACING + 1;
}

unsigned al_frame_payload_position(unsigned d)
{
    return d + d / AL_FRAME_PILOT_SPACING + 1;
}

unsigned al_frame_pilot_position(const al_frame_config *c, unsigned i)
{
    const unsigned last = al_frame_pilots(c) - 1;
    return i < last ? i * (AL_FRAME_PILOT_SPACING + 1) : c->messages * c->N + last;
}

float complex al_frame_pilot(unsigned i)
{
    /* QPSK from the top two bits of a multiplicative hash of i: known to
     * both ends, not periodic over a frame, and cheap per symbol. */
    const uint32_t h = (i + 1u) * 2654435761u;
    const float a = (float)M_SQRT1_2;
    return ((h & 0x80000000u) ? a : -a) + ((h & 0x40000000u) ? a : -a) * I;
}

unsigned al_frame_symbols(const al_frame_config *c)
{
    return AL_FRAME_PREAMBLE_LEN + al_frame_header_symbols() + c->messages * c->N +
           al_frame_pilots(c) + 2 * AL_FRAME_FILTER_DELAY;
}

unsigned al_frame_samples(const al_frame_config *c)
{
    return al_frame_symbols(c) * c->sps;
}

al_frame_header_status al_frame_header_parse(const uint8_t in[AL_FRAME_HEADER_BYTES],
                                             unsigned messages, al_frame_header *h)
{
    al_frame_header_unpack(in, h);
    if (h->version != AL_FRAME_VERSION)
        return AL_FRAME_HEADER_VERSION;
    if (h->phase < AL_PHASE_RX_TRAIN || h->phase > AL_PHASE_DATA)
        return AL_FRAME_HEADER_PHASE;
    if (h->messages != messages)
        return AL_FRAME_HEADER_COUNT;
    return AL_FRAME_HEADER_OK;
}

#include "airsim_wire.h"

#include "airsim_config.h"
#include "al_bytes.h"
#include "al_error.h"

#include <math.h>
#include <string.h>

static const uint8_t s_magic[4] = {'A', 'S', 'I', 'M'};

static void s_put_f64(uint8_t *p, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    al_put_le64(p, bits);
}

static double s_get_f64(const uint8_t *p)
{
    uint64_t bits = al_get_le64(p);
    double v;
    memcpy(&v, &bits, 8);
    return v;
}

void airsim_wire_pack(const airsim_wire_header *h, uint8_t out[AIRSIM_WIRE_HEADER])
{
    memcpy(out, s_magic, 4);
    out[4] = AIRSIM_WIRE_VERSION;
    out[5] = h->flags;
    al_put_le16(out + 6, 0);
    al_put_le64(out + 8, h->instance);
    al_put_le64(out + 16, h->seq);
    al_put_le64(out + 24, (uint64_t)h->time);
    al_put_le64(out + 32, (uint64_t)h->tx_now);
    al_put_le32(out + 40, h->count);
    al_put_le32(out + 44, 0);
    s_put_f64(out + 48, h->ppm);
    s_put_f64(out + 56, h->freq);
}

int airsim_wire_parse(const uint8_t *msg, size_t len, airsim_wire_header *h)
{
    if (len < AIRSIM_WIRE_HEADER)
        return AL_FAIL(AL_EFORMAT, "burst message of %zu bytes is shorter than its header", len);
    if (memcmp(msg, s_magic, 4) != 0)
        return AL_FAIL(AL_EFORMAT, "burst message has a wrong magic");
    if (msg[4] != AIRSIM_WIRE_VERSION)
        return AL_FAIL(AL_EFORMAT, "burst message version %u, expected %u", msg[4],
                       AIRSIM_WIRE_VERSION);
    if ((msg[5] & ~(AIRSIM_FLAG_START | AIRSIM_FLAG_END)) != 0 || al_get_le16(msg + 6) != 0 ||
        al_get_le32(msg + 44) != 0)
        return AL_FAIL(AL_EFORMAT, "burst message has unknown flags or reserved bits set");
    h->flags = msg[5];
    h->instance = al_get_le64(msg + 8);
    h->seq = al_get_le64(msg + 16);
    h->time = (int64_t)al_get_le64(msg + 24);
    h->tx_now = (int64_t)al_get_le64(msg + 32);
    h->count = al_get_le32(msg + 40);
    h->ppm = s_get_f64(msg + 48);
    h->freq = s_get_f64(msg + 56);
    /* NaN fails both comparisons. */
    if (!(fabs(h->ppm) <= AIRSIM_PPM_MAX) || !(h->freq >= 0.0 && h->freq <= AIRSIM_FREQ_MAX))
        return AL_FAIL(AL_EFORMAT,
                       "burst message oscillator (ppm %g, frequency %g Hz) out of range", h->ppm,
                       h->freq);
    if (h->count == 0 || h->count > AIRSIM_WIRE_MAX_SAMPLES)
        return AL_FAIL(AL_EFORMAT, "burst message count %u outside 1..%d", h->count,
                       AIRSIM_WIRE_MAX_SAMPLES);
    if (len != AIRSIM_WIRE_HEADER + (size_t)h->count * 8)
        return AL_FAIL(AL_EFORMAT, "burst message of %zu bytes does not hold %u samples", len,
                       h->count);
    /* Times far from zero would overflow the RX's index arithmetic. */
    if (h->time < 0 || h->time > ((int64_t)1 << 60) || h->tx_now < 0 ||
        h->tx_now > ((int64_t)1 << 60))
        return AL_FAIL(AL_EFORMAT, "burst message time out of range");
    const uint8_t *p = msg + AIRSIM_WIRE_HEADER;
    for (uint32_t i = 0; i < 2 * h->count; i++) {
        float v;
        memcpy(&v, p + 4 * (size_t)i, 4);
        if (!isfinite(v))
            return AL_FAIL(AL_EFORMAT, "burst message sample %u is not finite", i / 2);
    }
    return AL_OK;
}

#include "fb_proto.h"

#include "al_bytes.h"
#include "al_error.h"

#include <math.h>
#include <string.h>

static const uint8_t s_magic[4] = {'A', 'L', 'F', 'B'};

typedef struct {
    int type;
    const char *name;
    uint32_t min_body, max_body;
} s_type_desc;

static const s_type_desc s_types[] = {
/* &(#name)[3] drops the "FB_" prefix: FB_LOSSES_ACK -> "LOSSES_ACK". */
#define FB_TYPE_ROW(name, value, lo, hi) {value, &(#name)[3], lo, hi},
    FB_TYPE_LIST(FB_TYPE_ROW)
#undef FB_TYPE_ROW
};

static const char *const s_reason_text[] = {
#define FB_REASON_TEXT(name, text) text,
    FB_REASON_LIST(FB_REASON_TEXT)
#undef FB_REASON_TEXT
};

static const char *const s_reason_name[] = {
#define FB_REASON_NAME(name, text) #name,
    FB_REASON_LIST(FB_REASON_NAME)
#undef FB_REASON_NAME
};

static const s_type_desc *s_find_type(int type)
{
    for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++)
        if (s_types[i].type == type)
            return &s_types[i];
    return NULL;
}

const char *fb_type_name(int type)
{
    const s_type_desc *d = s_find_type(type);
    return d ? d->name : "unknown";
}

const char *fb_reason_text(int reason)
{
    return reason >= 0 && reason < FB_REASON_COUNT ? s_reason_text[reason] : "unknown";
}

const char *fb_reason_name(int reason)
{
    return reason >= 0 && reason < FB_REASON_COUNT ? s_reason_name[reason] : "unknown";
}

/* Writes the body of msg at p (capacity cap); returns its length or < 0. */
static int s_encode_body(const fb_msg *m, uint8_t *p, size_t cap)
{
    size_t n;
    switch (m->type) {
    case FB_HELLO:
        n = 12;
        if (cap < n)
            return AL_ERANGE;
        al_put_le16(p, m->u.hello.version);
        al_put_le16(p + 2, 0);
        al_put_le64(p + 4, m->u.hello.config_hash);
        return (int)n;
    case FB_WELCOME:
        n = 12;
        if (cap < n)
            return AL_ERANGE;
        al_put_le32(p, m->u.welcome.session_id);
        al_put_le64(p + 4, m->u.welcome.session_seed);
        return (int)n;
    case FB_REJECT:
        if (m->u.reject.len > FB_MAX_TEXT)
            return AL_FAIL(AL_EINVAL, "REJECT text of %u bytes (max %d)", m->u.reject.len,
                           FB_MAX_TEXT);
        n = 4 + (size_t)m->u.reject.len;
        if (cap < n)
            return AL_ERANGE;
        al_put_le16(p, m->u.reject.reason);
        al_put_le16(p + 2, m->u.reject.len);
        memcpy(p + 4, m->u.reject.text, m->u.reject.len);
        return (int)n;
    case FB_LOSSES:
        if (m->u.losses.count > FB_MAX_LOSSES)
            return AL_FAIL(AL_EINVAL, "%u losses (max %d)", m->u.losses.count, FB_MAX_LOSSES);
        n = 12 + 4 * (size_t)m->u.losses.count;
        if (cap < n)
            return AL_ERANGE;
        al_put_le32(p, m->u.losses.seq);
        al_put_le32(p + 4, m->u.losses.model_version);
        al_put_le16(p + 8, m->u.losses.count);
        al_put_le16(p + 10, 0);
        for (unsigned i = 0; i < m->u.losses.count; i++)
            al_put_f32(p + 12 + 4 * i, m->u.losses.values[i]);
        return (int)n;
    case FB_LOSSES_ACK:
        n = 12;
        if (cap < n)
            return AL_ERANGE;
        al_put_le32(p, m->u.ack.seq);
        p[4] = m->u.ack.status;
        p[5] = p[6] = p[7] = 0;
        al_put_le32(p + 8, m->u.ack.model_version);
        return (int)n;
    case FB_STATS: {
        n = 88;
        if (cap < n)
            return AL_ERANGE;
        const uint64_t v[9] = {m->u.stats.frames_detected, m->u.stats.frames_decoded,
                               m->u.stats.header_failures, m->u.stats.frames_dropped,
                               m->u.stats.eval_messages, m->u.stats.eval_errors,
                               m->u.stats.baseline_messages, m->u.stats.baseline_errors,
                               m->u.stats.eval_frames};
        for (int i = 0; i < 9; i++)
            al_put_le64(p + 8 * i, v[i]);
        al_put_f64(p + 72, m->u.stats.eval_signal);
        al_put_f64(p + 80, m->u.stats.eval_noise);
        return (int)n;
    }
    case FB_HEARTBEAT:
        n = 8;
        if (cap < n)
            return AL_ERANGE;
        al_put_le64(p, m->u.heartbeat.time_ms);
        return (int)n;
    case FB_BYE:
        return 0;
    }
    return AL_FAIL(AL_EINVAL, "unknown message type %d", (int)m->type);
}

int fb_encode(const fb_msg *msg, uint8_t *buf, size_t cap)
{
    if (cap < FB_HEADER_SIZE)
        return AL_FAIL(AL_ERANGE, "buffer of %zu bytes holds no header", cap);
    int body = s_encode_body(msg, buf + FB_HEADER_SIZE, cap - FB_HEADER_SIZE);
    if (body == AL_ERANGE)
        return AL_FAIL(AL_ERANGE, "buffer of %zu bytes too small for %s", cap,
                       fb_type_name(msg->type));
    if (body < 0)
        return body;
    memcpy(buf, s_magic, 4);
    buf[4] = FB_PROTOCOL_VERSION;
    buf[5] = (uint8_t)msg->type;
    al_put_le16(buf + 6, 0);
    al_put_le32(buf + 8, msg->session);
    al_put_le32(buf + 12, (uint32_t)body);
    al_put_le32(buf + 16, al_crc32(0, buf + FB_HEADER_SIZE, (size_t)body));
    return FB_HEADER_SIZE + body;
}

static fb_reason s_decode_body(fb_msg *m, const uint8_t *p, uint32_t n)
{
    switch (m->type) {
    case FB_HELLO:
        if (al_get_le16(p + 2) != 0)
            return FB_R_FLAGS;
        m->u.hello.version = al_get_le16(p);
        m->u.hello.config_hash = al_get_le64(p + 4);
        return FB_OK;
    case FB_WELCOME:
        m->u.welcome.session_id = al_get_le32(p);
        m->u.welcome.session_seed = al_get_le64(p + 4);
        return FB_OK;
    case FB_REJECT: {
        const uint16_t len = al_get_le16(p + 2);
        if (len > FB_MAX_TEXT || 4u + len != n)
            return FB_R_LENGTH;
        m->u.reject.reason = al_get_le16(p);
        m->u.reject.len = len;
        memcpy(m->u.reject.text, p + 4, len);
        m->u.reject.text[len] = '\0';
        return FB_OK;
    }
    case FB_LOSSES: {
        const uint16_t count = al_get_le16(p + 8);
        if (count > FB_MAX_LOSSES || 12u + 4u * count != n)
            return FB_R_LENGTH;
        if (al_get_le16(p + 10) != 0)
            return FB_R_FLAGS;
        /* Validate all before keeping any: no partial report. */
        for (unsigned i = 0; i < count; i++) {
            const float v = al_get_f32(p + 12 + 4 * i);
            if (!isfinite(v))
                return FB_R_NONFINITE;
            if (v < 0.0f)
                return FB_R_NEGATIVE;
        }
        m->u.losses.seq = al_get_le32(p);
        m->u.losses.model_version = al_get_le32(p + 4);
        m->u.losses.count = count;
        for (unsigned i = 0; i < count; i++)
            m->u.losses.values[i] = al_get_f32(p + 12 + 4 * i);
        return FB_OK;
    }
    case FB_LOSSES_ACK:
        if (p[5] | p[6] | p[7])
            return FB_R_FLAGS;
        if (p[4] >= FB_REASON_COUNT)
            return FB_R_LENGTH;
        m->u.ack.seq = al_get_le32(p);
        m->u.ack.status = p[4];
        m->u.ack.model_version = al_get_le32(p + 8);
        return FB_OK;
    case FB_STATS: {
        uint64_t *v[9] = {&m->u.stats.frames_detected, &m->u.stats.frames_decoded,
                          &m->u.stats.header_failures, &m->u.stats.frames_dropped,
                          &m->u.stats.eval_messages, &m->u.stats.eval_errors,
                          &m->u.stats.baseline_messages, &m->u.stats.baseline_errors,
                          &m->u.stats.eval_frames};
        for (int i = 0; i < 9; i++)
            *v[i] = al_get_le64(p + 8 * i);
        if (m->u.stats.eval_errors > m->u.stats.eval_messages ||
            m->u.stats.baseline_errors > m->u.stats.baseline_messages)
            return FB_R_COUNT;
        m->u.stats.eval_signal = al_get_f64(p + 72);
        m->u.stats.eval_noise = al_get_f64(p + 80);
        if (!isfinite(m->u.stats.eval_signal) || !isfinite(m->u.stats.eval_noise))
            return FB_R_NONFINITE;
        if (m->u.stats.eval_signal < 0.0 || m->u.stats.eval_noise < 0.0)
            return FB_R_NEGATIVE;
        return FB_OK;
    }
    case FB_HEARTBEAT:
        m->u.heartbeat.time_ms = al_get_le64(p);
        return FB_OK;
    case FB_BYE:
        return FB_OK;
    }
    return FB_R_TYPE;
}

fb_reason fb_decode(const uint8_t *buf, size_t len, uint32_t expected_session, fb_msg *msg)
{
    if (buf == NULL || len < FB_HEADER_SIZE)
        return FB_R_SHORT;
    if (memcmp(buf, s_magic, 4) != 0)
        return FB_R_MAGIC;
    if (buf[4] != FB_PROTOCOL_VERSION)
        return FB_R_VERSION;
    const s_type_desc *d = s_find_type(buf[5]);
    if (d == NULL)
        return FB_R_TYPE;
    if (al_get_le16(buf + 6) != 0)
        return FB_R_FLAGS;
    const uint32_t body = al_get_le32(buf + 12);
    if ((uint64_t)body != (uint64_t)(len - FB_HEADER_SIZE) || body < d->min_body ||
        body > d->max_body)
        return FB_R_LENGTH;
    if (al_crc32(0, buf + FB_HEADER_SIZE, body) != al_get_le32(buf + 16))
        return FB_R_CRC;
    const uint32_t session = al_get_le32(buf + 8);
    if (expected_session != 0 && d->type != FB_HELLO && session != expected_session)
        return FB_R_SESSION;
    msg->type = (fb_type)d->type;
    msg->session = session;
    return s_decode_body(msg, buf + FB_HEADER_SIZE, body);
}

uint64_t fb_config_hash(const char *description)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)description; p && *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h;
}

void fb_counters_add(fb_counters *c, int type, fb_reason r)
{
    if (r != FB_OK) {
        if ((int)r > 0 && r < FB_REASON_COUNT)
            c->rejected[r]++;
        return;
    }
    if (type >= 0 && type < (int)(sizeof c->received / sizeof c->received[0]))
        c->received[type]++;
}

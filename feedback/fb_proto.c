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
    case FB_XFER_OFFER: {
        const fb_xfer_offer *o = &m->u.offer;
        if (o->name_len > FB_MAX_NAME || o->labels > FB_MAX_LABELS)
            return AL_FAIL(AL_EINVAL, "XFER_OFFER name of %u bytes or %u labels", o->name_len,
                           o->labels);
        n = 32 + (size_t)o->name_len + 2 * (size_t)o->labels;
        if (cap < n)
            return AL_ERANGE;
        al_put_le32(p, o->file_id);
        al_put_le32(p + 4, o->crc);
        al_put_le64(p + 8, o->size);
        al_put_le32(p + 16, o->segment_bytes);
        al_put_le32(p + 20, o->segments);
        al_put_le16(p + 24, o->labels);
        al_put_le16(p + 26, o->name_len);
        al_put_le32(p + 28, 0);
        memcpy(p + 32, o->name, o->name_len);
        for (unsigned i = 0; i < o->labels; i++)
            al_put_le16(p + 32 + o->name_len + 2 * i, o->label[i]);
        return (int)n;
    }
    case FB_XFER_STATUS: {
        const fb_xfer_status *x = &m->u.xstatus;
        if (x->bits > FB_XFER_WINDOW)
            return AL_FAIL(AL_EINVAL, "XFER_STATUS of %u bits (max %d)", x->bits, FB_XFER_WINDOW);
        n = 24 + ((size_t)x->bits + 7) / 8;
        if (cap < n)
            return AL_ERANGE;
        al_put_le32(p, x->file_id);
        p[4] = x->state;
        p[5] = p[6] = p[7] = 0;
        al_put_le32(p + 8, x->base);
        al_put_le32(p + 12, x->frames_ok);
        al_put_le32(p + 16, x->frames_bad);
        al_put_le16(p + 20, x->bits);
        al_put_le16(p + 22, 0);
        memcpy(p + 24, x->bitmap, n - 24);
        return (int)n;
    }
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

/* A file name the receiver may create in its directory as it is. */
static int s_safe_name(const uint8_t *p, unsigned len)
{
    if (len == 0 || p[0] == '.')
        return 0;
    for (unsigned i = 0; i < len; i++)
        if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/' || p[i] == '\\')
            return 0;
    return 1;
}

static fb_reason s_decode_offer(fb_xfer_offer *o, const uint8_t *p, uint32_t n)
{
    const uint16_t labels = al_get_le16(p + 24), name_len = al_get_le16(p + 26);
    if (name_len > FB_MAX_NAME || labels > FB_MAX_LABELS ||
        32u + name_len + 2u * labels != n)
        return FB_R_LENGTH;
    if (al_get_le32(p + 28) != 0)
        return FB_R_FLAGS;
    const uint64_t size = al_get_le64(p + 8);
    const uint32_t file_id = al_get_le32(p), seg = al_get_le32(p + 16),
                   segments = al_get_le32(p + 20);
    if (file_id == 0 || seg == 0 || size > UINT64_MAX / 2 || (size + seg - 1) / seg != segments)
        return FB_R_FIELD;
    if (!s_safe_name(p + 32, name_len))
        return FB_R_FIELD;
    /* Labels: 0, or a permutation of 0..labels-1 with labels a power of two. */
    if (labels == 1 || (labels & (labels - 1)) != 0)
        return FB_R_FIELD;
    uint8_t seen[FB_MAX_LABELS / 8];
    memset(seen, 0, sizeof seen);
    const uint8_t *lp = p + 32 + name_len;
    for (unsigned i = 0; i < labels; i++) {
        const uint16_t v = al_get_le16(lp + 2 * i);
        if (v >= labels || (seen[v / 8] >> (v % 8)) & 1)
            return FB_R_FIELD;
        seen[v / 8] |= (uint8_t)(1u << (v % 8));
    }
    o->file_id = file_id;
    o->crc = al_get_le32(p + 4);
    o->size = size;
    o->segment_bytes = seg;
    o->segments = segments;
    o->labels = labels;
    o->name_len = name_len;
    memcpy(o->name, p + 32, name_len);
    o->name[name_len] = '\0';
    for (unsigned i = 0; i < labels; i++)
        o->label[i] = al_get_le16(lp + 2 * i);
    return FB_OK;
}

static fb_reason s_decode_xstatus(fb_xfer_status *x, const uint8_t *p, uint32_t n)
{
    const uint16_t bits = al_get_le16(p + 20);
    if (bits > FB_XFER_WINDOW || 24u + (bits + 7u) / 8u != n)
        return FB_R_LENGTH;
    if (p[5] | p[6] | p[7] || al_get_le16(p + 22) != 0)
        return FB_R_FLAGS;
    if (bits % 8 != 0 && p[24 + bits / 8] >> (bits % 8) != 0)
        return FB_R_FLAGS;
    const uint32_t file_id = al_get_le32(p), base = al_get_le32(p + 8);
    if (file_id == 0 || p[4] > FB_XFER_FAILED || (p[4] != FB_XFER_RECEIVING && bits != 0) ||
        (bits > 0 && (p[24] & 1)) || (uint64_t)base + bits > UINT32_MAX)
        return FB_R_FIELD;
    x->file_id = file_id;
    x->state = p[4];
    x->base = base;
    x->frames_ok = al_get_le32(p + 12);
    x->frames_bad = al_get_le32(p + 16);
    x->bits = bits;
    memcpy(x->bitmap, p + 24, n - 24);
    return FB_OK;
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
    case FB_XFER_OFFER:
        return s_decode_offer(&m->u.offer, p, n);
    case FB_XFER_STATUS:
        return s_decode_xstatus(&m->u.xstatus, p, n);
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

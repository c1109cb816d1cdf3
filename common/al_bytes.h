/* airlearn — CRC32 and fixed-width little-endian encoding.
 *
 * Used by everything that crosses a trust boundary as bytes: checkpoints,
 * the frame header, the feedback protocol. The get functions read from a
 * buffer the caller has already bounds-checked.
 */
#ifndef AL_BYTES_H
#define AL_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* CRC-32 (IEEE 802.3, as zlib and PNG), starting from crc = 0; pass the
 * previous result to continue over several buffers. */
uint32_t al_crc32(uint32_t crc, const void *data, size_t len);

static inline void al_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void al_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void al_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void al_put_f32(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    al_put_le32(p, v);
}

static inline void al_put_f64(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    al_put_le64(p, v);
}

static inline uint16_t al_get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t al_get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t al_get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline float al_get_f32(const uint8_t *p)
{
    uint32_t v = al_get_le32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static inline double al_get_f64(const uint8_t *p)
{
    uint64_t v = al_get_le64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

#endif

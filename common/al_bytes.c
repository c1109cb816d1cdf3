#include "al_bytes.h"

#include <zlib.h>

uint32_t al_crc32(uint32_t crc, const void *data, size_t len)
{
    /* zlib's crc32 takes a uInt length; feed large buffers in pieces. */
    const uint8_t *p = data;
    uLong c = crc;
    while (len > 0) {
        uInt chunk = len > 0x40000000u ? 0x40000000u : (uInt)len;
        c = crc32(c, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return (uint32_t)c;
}

/* Fuzz target for the feedback decoder (libFuzzer entry point).
 *
 * Properties checked on every input: decoding never crashes or reads out
 * of bounds (the sanitizers watch), and anything the decoder accepts
 * re-encodes to exactly the same bytes, so no field is silently ignored. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fb_msg msg;
    static uint8_t again[FB_MAX_MESSAGE];
    fb_reason r = fb_decode(data, size, 0, &msg);
    if (r == FB_OK) {
        int len = fb_encode(&msg, again, sizeof again);
        if (len < 0 || (size_t)len != size || memcmp(again, data, size) != 0)
            abort();
    }
    (void)fb_decode(data, size, 1, &msg);
    return 0;
}

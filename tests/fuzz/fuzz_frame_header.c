/* Fuzz target for what the receiver takes from the air before the payload:
 * the header modem's decoder (liquid qpacketmodem, CRC-32) on arbitrary
 * soft symbols, and the header parser on arbitrary bytes.
 *
 * Input: 16 header bytes, then optionally complex float32 symbols (as many
 * as the header occupies; NaN and infinities included). Properties: no
 * crash (the sanitizers watch), and a header the parser accepts packs back
 * to exactly the same bytes, so no field is silently ignored. */
#include <complex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liquid/liquid.h>

#include "al_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static qpacketmodem modem;
    static float complex *symbols;
    static unsigned n_symbols;
    if (modem == NULL) {
        modem = al_frame_header_modem_create();
        n_symbols = qpacketmodem_get_frame_len(modem);
        symbols = calloc(n_symbols, sizeof *symbols);
    }
    if (size < AL_FRAME_HEADER_BYTES)
        return 0;
    al_frame_header h;
    uint8_t again[AL_FRAME_HEADER_BYTES];
    if (al_frame_header_parse(data, 64, &h) == AL_FRAME_HEADER_OK) {
        al_frame_header_pack(&h, again);
        if (memcmp(again, data, AL_FRAME_HEADER_BYTES) != 0)
            abort();
    }
    size_t rest = size - AL_FRAME_HEADER_BYTES;
    if (rest >= (size_t)n_symbols * sizeof(float complex)) {
        memcpy(symbols, data + AL_FRAME_HEADER_BYTES, (size_t)n_symbols * sizeof(float complex));
        uint8_t bytes[AL_FRAME_HEADER_BYTES];
        if (qpacketmodem_decode(modem, symbols, bytes))
            (void)al_frame_header_parse(bytes, 64, &h);
    }
    return 0;
}

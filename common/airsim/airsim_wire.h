/* airlearn — one message of the airsim link: a piece of a TX burst.
 *
 * Little-endian, 64-byte header then `count` CF32 samples (I, Q float32):
 *
 *   0  "ASIM"        4  u8 version (2)   5  u8 flags   6  u16 zero
 *   8  u64 instance  (random per TX stream activation: a restarted TX is
 *                     a new timeline)
 *   16 u64 seq       (per instance, from 0: lost messages are counted)
 *   24 i64 time      (TX sample time of the first sample)
 *   32 i64 tx_now    (TX sample clock when sent: realtime anchoring)
 *   40 u32 count     44 u32 zero
 *   48 f64 ppm       (the TX's oscillator error)
 *   56 f64 freq      (the TX's tuned frequency, Hz)
 *
 * Version 2 added ppm and freq: the received carrier and sample-clock
 * offsets depend on both boards' oscillators, and the RX applies the
 * channel, so the TX's part travels with its samples (applying it on the
 * TX side instead would resample every burst twice, and a TX-side
 * resampler's tails cross message boundaries).
 * The RX side decodes with airsim_wire_parse() before using anything: a
 * link endpoint is a socket anyone on the host (tcp: the network) can
 * reach. Pure functions, no state.
 */
#ifndef AIRSIM_WIRE_H
#define AIRSIM_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum {
    AIRSIM_WIRE_VERSION = 2,
    AIRSIM_WIRE_HEADER = 64,
    AIRSIM_WIRE_MAX_SAMPLES = 16384,   /* per message: the stream MTU */
    AIRSIM_FLAG_START = 1,             /* first message of a burst */
    AIRSIM_FLAG_END = 2,               /* last message of a burst */
};

typedef struct {
    uint8_t flags;
    uint64_t instance;
    uint64_t seq;
    int64_t time;
    int64_t tx_now;
    uint32_t count;
    double ppm;
    double freq;
} airsim_wire_header;

void airsim_wire_pack(const airsim_wire_header *h, uint8_t out[AIRSIM_WIRE_HEADER]);

/* Validates magic, version, flags, reserved fields, count <= MTU, ppm and
 * freq within airsim_config's bounds, that the message is exactly
 * header + count samples, and that every sample is finite. 0, or
 * AL_EFORMAT with the reason in al_error_message(). */
int airsim_wire_parse(const uint8_t *msg, size_t len, airsim_wire_header *h);

#endif

/* airlearn — the frame on the air: layout, header fields, preamble.
 *
 * Shared by the frame builder (tx/tx_frame) and the receiver
 * (rx/rx_frame); both are configured with the same settings, from which
 * the whole frame length follows.
 *
 * Symbols, before root-raised-cosine shaping (sps samples per symbol,
 * roll-off `rolloff`, filter delay AL_FRAME_FILTER_DELAY symbols):
 *
 *   | preamble: 64 QPSK symbols, fixed PN (al_frame_preamble)            |
 *   | header: qpacketmodem, 16 bytes + CRC-32, Golay(24,12) (liquid built |
 *   |         without libfec in Debian has no convolutional codes),      |
 *   |         QPSK (al_frame_header_symbols() symbols)                   |
 *   | payload: P messages x N learned symbols, in message order, with a  |
 *   |          known QPSK pilot before every AL_FRAME_PILOT_SPACING of   |
 *   |          them and one after the last (al_frame_pilots())           |
 *   | tail: 2 x filter delay zero symbols (the filter rings down)        |
 *
 * EVAL frames (al_evalmix): the message slots alternate, learned messages
 * in the even ones (ceil(P/2)) and the conventional scheme of the same
 * rate in the odd ones (floor(P/2)): log2(M)/N bits per symbol of square
 * QAM, or rectangular QAM for an odd count (al_qam), scaled to unit
 * average energy per symbol like the learned constellation; same
 * preamble, header, pilots and level. Without a same-rate QAM (log2(M)/N
 * not an integer) every slot is learned. The layout came with feedback
 * protocol 2; a peer of another version never joins the session, so its
 * frames are never read and the format version stays.
 *
 * Header bytes (little-endian): u8 format version, u32 session id,
 * u32 frame seq, u8 phase, u32 TX model version, u16 messages = 16.
 * The receiver estimates timing, carrier offset, gain and phase from the
 * preamble, tracks the phase through the header, re-estimates frequency,
 * gain and phase from preamble + decoded header, removes the frequency
 * and phase left over the payload from the pilots (without them a long
 * payload drifts), and scales payload symbols back to unit average
 * energy.
 *
 * Frames must not overlap: the receiver looks for the next preamble only
 * after a frame's last sample. The transmitter leaves a guard between
 * frames (at least 512 samples, configurable).
 */
#ifndef AL_FRAME_H
#define AL_FRAME_H

#include <complex.h>
#include <stdint.h>

enum {
    AL_FRAME_VERSION = 2,           /* 2: pilots in the payload */
    AL_FRAME_PREAMBLE_LEN = 64,
    AL_FRAME_HEADER_BYTES = 16,
    AL_FRAME_FILTER_DELAY = 7,      /* RRC delay m, symbols */
    AL_FRAME_MAX_PAYLOAD = 8192,    /* payload symbols, P*N */
    AL_FRAME_PILOT_SPACING = 32,    /* payload symbols between pilots */
};

typedef enum {
    AL_PHASE_RX_TRAIN = 1,
    AL_PHASE_TX_TRAIN = 2,
    AL_PHASE_EVAL = 3,
    AL_PHASE_DATA = 4,
} al_phase;

const char *al_phase_name(int phase); /* "rx_train", ...; "unknown" */

typedef struct {
    uint8_t version;         /* AL_FRAME_VERSION */
    uint32_t session;        /* session id of the feedback link */
    uint32_t seq;            /* frame sequence number */
    uint8_t phase;           /* al_phase */
    uint32_t model_version;  /* TX model version of the payload */
    uint16_t messages;       /* P */
} al_frame_header;

/* Settings both ends must share. */
typedef struct {
    unsigned sps;            /* samples per symbol, 2..16 */
    float rolloff;           /* RRC excess bandwidth, (0, 1] */
    unsigned messages;       /* P, messages per frame, >= 1 */
    unsigned N;              /* symbols per message, >= 1 */
} al_frame_config;

/* Checks ranges (P*N <= AL_FRAME_MAX_PAYLOAD). 0 or AL_EINVAL. */
int al_frame_config_check(const al_frame_config *c);

/* Checks that frames shifted to an IF of if_offset cycles/sample stay
 * inside the sampled band: |if_offset| + (1 + rolloff) / (2 sps) <= 0.5.
 * 0 or AL_EINVAL. */
int al_frame_if_offset_check(const al_frame_config *c, float if_offset);

void al_frame_header_pack(const al_frame_header *h, uint8_t out[AL_FRAME_HEADER_BYTES]);
void al_frame_header_unpack(const uint8_t in[AL_FRAME_HEADER_BYTES], al_frame_header *h);

/* What a decoded header can be wrong about (after its CRC passed). */
typedef enum {
    AL_FRAME_HEADER_OK = 0,
    AL_FRAME_HEADER_VERSION,     /* unknown format version */
    AL_FRAME_HEADER_PHASE,       /* unknown phase */
    AL_FRAME_HEADER_COUNT,       /* message count differs from the configuration */
} al_frame_header_status;

/* Unpacks and validates header bytes received from the air against the
 * configured message count. */
al_frame_header_status al_frame_header_parse(const uint8_t in[AL_FRAME_HEADER_BYTES],
                                             unsigned messages, al_frame_header *h);

/* The 64 preamble symbols (unit-energy QPSK from a fixed PN). */
void al_frame_preamble(float complex out[AL_FRAME_PREAMBLE_LEN]);

/* A liquid qpacketmodem configured for the header (the one place that
 * says how the header is coded); NULL if liquid cannot make it. The
 * caller owns it (qpacketmodem_destroy). Returned as void * so that this
 * header does not need liquid's. */
void *al_frame_header_modem_create(void);

/* Header symbols after coding (fixed for the build). */
unsigned al_frame_header_symbols(void);

/* Pilots in a frame's payload region, which holds P*N + al_frame_pilots()
 * symbols: a pilot at the start of every block of AL_FRAME_PILOT_SPACING
 * payload symbols, and one at the end. */
unsigned al_frame_pilots(const al_frame_config *c);
/* Position in the payload region of payload symbol d, and of pilot i. */
unsigned al_frame_payload_position(unsigned d);
unsigned al_frame_pilot_position(const al_frame_config *c, unsigned i);
/* The known value of pilot i. */
float complex al_frame_pilot(unsigned i);

/* Symbols of a whole frame including the tail, and its samples. */
unsigned al_frame_symbols(const al_frame_config *c);
unsigned al_frame_samples(const al_frame_config *c);

#endif

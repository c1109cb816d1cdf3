/* airlearn — the feedback protocol: messages as bytes, and back.
 *
 * Pure functions over byte buffers, no sockets and no allocation, so the
 * codec is testable and fuzzable on its own. Every message is one ZeroMQ
 * frame: a 20-byte header followed by the body. All integers are
 * little-endian with fixed widths; floats are IEEE-754 binary32 (f32)
 * or binary64 (f64).
 *
 *   offset size field
 *   0      4    magic "ALFB"
 *   4      1    protocol version (FB_PROTOCOL_VERSION)
 *   5      1    message type (fb_type)
 *   6      2    flags, must be 0
 *   8      4    session id (0 before the handshake)
 *   12     4    body length in bytes
 *   16     4    CRC-32 of the body
 *   20     ...  body, laid out per type below
 *
 *   HELLO      RX->TX  u16 protocol version, u16 0, u64 configuration hash
 *   WELCOME    TX->RX  u32 session id, u64 session seed
 *   REJECT     TX->RX  u16 reason (fb_reason), u16 text length L, L bytes
 *                      of text (L <= FB_MAX_TEXT, not NUL-terminated)
 *   LOSSES     RX->TX  u32 frame seq, u32 TX model version, u16 count,
 *                      u16 0, count x f32 loss (finite, >= 0)
 *   LOSSES_ACK TX->RX  u32 frame seq, u8 fb_reason (FB_OK = accepted),
 *                      u8[3] 0, u32 current TX model version
 *   STATS      RX->TX  u64 frames detected, decoded, header failures,
 *                      dropped, EVAL messages, EVAL errors, EVAL baseline
 *                      messages, EVAL baseline errors (errors <= messages),
 *                      EVAL frames; f64 sums over those EVAL frames of the
 *                      symbol energy and of the noise variance per symbol
 *                      (finite, >= 0: Es/N0 over any span of frames is the
 *                      ratio of two differences)
 *   HEARTBEAT  both    u64 sender's monotonic time in ms
 *   BYE        both    (empty)
 *   XFER_OFFER TX->RX  u32 file id (!= 0), u32 CRC-32 of the whole file,
 *                      u64 size, u32 segment bytes (>= 1), u32 segments
 *                      (= ceil(size / segment bytes)), u16 labels (0, or
 *                      a power of two 2..FB_MAX_LABELS), u16 name length
 *                      L (1..FB_MAX_NAME), u32 0, L bytes of file name
 *                      (printable, no '/', not starting with '.'), labels
 *                      x u16: the bits each message stands for (a
 *                      permutation of 0..labels-1; 0 labels: identity)
 *   XFER_STATUS RX->TX u32 file id (!= 0), u8 state (fb_xfer_state),
 *                      u8[3] 0, u32 base (every segment below it held),
 *                      u32 DATA frames accepted, u32 DATA frames with a
 *                      bad CRC, u16 bits B (<= FB_XFER_WINDOW; 0 unless
 *                      receiving), u16 0, ceil(B/8) bytes: bit i (LSB
 *                      first) set when segment base+i is held; bit 0 is
 *                      clear (base is missing), unused bits 0
 *
 * Decoding validates everything above; a message that fails is reported
 * with one fb_reason and nothing of it is used.
 * Thread-safe: no state outside the caller's buffers.
 */
#ifndef FB_PROTO_H
#define FB_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum {
    FB_PROTOCOL_VERSION = 2,   /* 2: STATS carries the baseline's counts and the
                                  EVAL frames' Es/N0; XFER_OFFER, XFER_STATUS */
    FB_HEADER_SIZE = 20,
    FB_MAX_LOSSES = 4096,      /* losses in one report */
    FB_MAX_TEXT = 200,         /* bytes of REJECT text */
    FB_MAX_NAME = 255,         /* bytes of a file name in XFER_OFFER */
    FB_MAX_LABELS = 1024,      /* messages labelled in XFER_OFFER */
    FB_XFER_WINDOW = 2048,     /* segments one XFER_STATUS covers */
    FB_MAX_MESSAGE = FB_HEADER_SIZE + 12 + 4 * FB_MAX_LOSSES,
};

/* One list drives the enum, names, body sizes and the tests:
 * X(name, value, min body, max body) */
#define FB_TYPE_LIST(X)                                           \
    X(FB_HELLO, 1, 12, 12)                                        \
    X(FB_WELCOME, 2, 12, 12)                                      \
    X(FB_REJECT, 3, 4, 4 + FB_MAX_TEXT)                           \
    X(FB_LOSSES, 4, 12, 12 + 4 * FB_MAX_LOSSES)                   \
    X(FB_LOSSES_ACK, 5, 12, 12)                                   \
    X(FB_STATS, 6, 88, 88)                                        \
    X(FB_HEARTBEAT, 7, 8, 8)                                      \
    X(FB_BYE, 8, 0, 0)                                            \
    X(FB_XFER_OFFER, 9, 32, 32 + FB_MAX_NAME + 2 * FB_MAX_LABELS) \
    X(FB_XFER_STATUS, 10, 24, 24 + FB_XFER_WINDOW / 8)

typedef enum {
#define FB_TYPE_ENUM(name, value, lo, hi) name = value,
    FB_TYPE_LIST(FB_TYPE_ENUM)
#undef FB_TYPE_ENUM
} fb_type;

/* Why a message (or a loss report) was not used; indexes the per-reason
 * counters that `airlearn status` shows. FB_OK is "accepted". */
#define FB_REASON_LIST(X)                                                  \
    X(FB_OK, "accepted")                                                   \
    X(FB_R_SHORT, "shorter than a header")                                 \
    X(FB_R_MAGIC, "wrong magic")                                           \
    X(FB_R_VERSION, "unsupported protocol version")                        \
    X(FB_R_TYPE, "unknown message type")                                   \
    X(FB_R_FLAGS, "reserved bits set")                                     \
    X(FB_R_LENGTH, "body length wrong for the type")                       \
    X(FB_R_CRC, "body checksum mismatch")                                  \
    X(FB_R_SESSION, "not the current session")                             \
    X(FB_R_NONFINITE, "loss is NaN or infinite")                           \
    X(FB_R_NEGATIVE, "loss is negative")                                   \
    X(FB_R_COUNT, "loss count does not match the frame")                   \
    X(FB_R_DUPLICATE, "losses for this frame already accepted")            \
    X(FB_R_UNKNOWN_FRAME, "frame not held by the TX")                      \
    X(FB_R_STALE, "frame older than max_staleness model versions")         \
    X(FB_R_TIMEOUT, "frame timed out before its losses arrived")           \
    X(FB_R_MODEL_VERSION, "model version differs from the frame's")        \
    X(FB_R_CONFIG, "configuration hash differs")                           \
    X(FB_R_UNEXPECTED, "message type not expected here")                   \
    X(FB_R_AUTH, "client key missing or not allowed")                     \
    X(FB_R_FIELD, "field value out of range or inconsistent")

typedef enum {
#define FB_REASON_ENUM(name, text) name,
    FB_REASON_LIST(FB_REASON_ENUM)
#undef FB_REASON_ENUM
    FB_REASON_COUNT
} fb_reason;

const char *fb_type_name(int type);      /* "LOSSES", ...; "unknown" */
const char *fb_reason_text(int reason);  /* from FB_REASON_LIST */
const char *fb_reason_name(int reason);  /* "FB_R_CRC", ... */

typedef struct {
    uint32_t seq;            /* frame sequence number */
    uint32_t model_version;  /* TX model version the frame was sent with */
    uint16_t count;          /* losses in values */
    float values[FB_MAX_LOSSES];
} fb_losses;

typedef struct {
    uint64_t frames_detected, frames_decoded, header_failures, frames_dropped;
    uint64_t eval_messages, eval_errors;
    uint64_t baseline_messages, baseline_errors;   /* same-rate QAM in the EVAL frames */
    uint64_t eval_frames;
    double eval_signal, eval_noise;   /* sums of the EVAL frames' Es and N0 estimates */
} fb_stats;

/* A file on offer (XFER_OFFER). */
typedef struct {
    uint32_t file_id, crc;
    uint64_t size;
    uint32_t segment_bytes, segments;
    uint16_t labels;                   /* 0: identity mapping */
    uint16_t name_len;
    char name[FB_MAX_NAME + 1];        /* NUL-terminated after decoding */
    uint16_t label[FB_MAX_LABELS];     /* [labels]: bits of message m */
} fb_xfer_offer;

typedef enum {
    FB_XFER_RECEIVING = 0,
    FB_XFER_COMPLETE = 1,   /* whole-file check passed, file in place */
    FB_XFER_FAILED = 2,     /* all segments held, whole-file check failed */
} fb_xfer_state;

/* The receiver's acknowledgement of segments (XFER_STATUS). */
typedef struct {
    uint32_t file_id;
    uint8_t state;                     /* fb_xfer_state */
    uint32_t base, frames_ok, frames_bad;
    uint16_t bits;
    uint8_t bitmap[FB_XFER_WINDOW / 8];
} fb_xfer_status;

/* A decoded message; only the member of its type is meaningful. */
typedef struct {
    fb_type type;
    uint32_t session;
    union {
        struct { uint16_t version; uint64_t config_hash; } hello;
        struct { uint32_t session_id; uint64_t session_seed; } welcome;
        struct { uint16_t reason; uint16_t len; char text[FB_MAX_TEXT + 1]; } reject;
        fb_losses losses;
        struct { uint32_t seq; uint8_t status; uint32_t model_version; } ack;
        fb_stats stats;
        struct { uint64_t time_ms; } heartbeat;
        fb_xfer_offer offer;
        fb_xfer_status xstatus;
    } u;
} fb_msg;

/* Encodes msg into buf [size: cap]. Returns the message length (> 0) or
 * AL_EINVAL (bad field: count above FB_MAX_LOSSES, text too long, unknown
 * type) or AL_ERANGE (cap too small). */
int fb_encode(const fb_msg *msg, uint8_t *buf, size_t cap);

/* Decodes buf [size: len] into *msg. Returns FB_OK or the fb_reason that
 * rejected it; *msg is meaningful only for FB_OK. When expected_session
 * is not 0, a message of another session is rejected (FB_R_SESSION),
 * except HELLO, which starts sessions. */
fb_reason fb_decode(const uint8_t *buf, size_t len, uint32_t expected_session, fb_msg *msg);

/* FNV-1a 64 of a canonical configuration description: both ends hash the
 * same text ("M=256;N=4;rx=awgn;...") and the TX refuses a different one. */
uint64_t fb_config_hash(const char *description);

/* Per-reason and per-type counters for status reports. */
typedef struct {
    uint64_t received[16];              /* accepted messages by type */
    uint64_t rejected[FB_REASON_COUNT]; /* by reason (FB_OK unused) */
    uint64_t fault_dropped;             /* sends lost on purpose (fault injection) */
    uint64_t fault_corrupted;           /* sends with a bit flipped on purpose */
} fb_counters;

/* Counts the outcome of one message of `type` (ignored if out of range). */
void fb_counters_add(fb_counters *c, int type, fb_reason r);

#endif

/* airlearn — a file segment in the payload of one DATA frame, and the
 * labelling of messages with bits.
 *
 * A DATA frame carries P messages of k = log2(M) bits: P*k/8 whole bytes
 * (xfer_frame_bytes), little-endian:
 *
 *   | u32 segment index | segment bytes of file data (the last segment of
 *   | a file zero-padded) | u32 CRC-32 over (u32 file id, segment index,
 *   | data) | the bits that do not make a whole byte: 0 |
 *
 * The file id enters the CRC without being sent: a frame of another file
 * fails it. The length of the last segment and the end of the file follow
 * from the offer (size, segment bytes) that travels on the feedback link.
 * All of it is whitened (XOR with a stream drawn from (whiten seed, frame
 * seq)) so that the messages are uniform whatever the file holds: the
 * receiver network was trained on uniform messages.
 * Bits to messages: the byte stream LSB first, k bits per message read as
 * an integer b (LSB first); the message sent is the one labelled b, i.e.
 * inverse[b] (label[m] = b), or b itself without a labelling.
 * Pure functions, no allocation except in xfer_labelling; thread-safe.
 */
#ifndef XFER_FRAME_H
#define XFER_FRAME_H

#include <stdint.h>

/* Largest file sent or accepted: both ends hold it in memory. */
#define XFER_MAX_FILE (256ull << 20)

enum {
    XFER_SEGMENT_OVERHEAD = 8,     /* segment index + CRC-32 */
    XFER_MAX_FRAME_BYTES = 8192,   /* P <= 4096 messages of <= 16 bits */
};

/* Whole bytes in a frame of P messages of log2(M) bits; 0 when M is not
 * a power of two in 2..65536 or P is 0 or too large. */
unsigned xfer_frame_bytes(unsigned P, unsigned M);
/* File bytes per segment (frame bytes - overhead); 0 when none fit. */
unsigned xfer_segment_bytes(unsigned P, unsigned M);

/* data [size: len <= xfer_segment_bytes]; inverse [size: M] or NULL;
 * msgs [size: P]. The frame's bytes go to scratch [XFER_MAX_FRAME_BYTES]
 * before they become messages. */
void xfer_frame_pack(unsigned P, unsigned M, uint64_t whiten_seed, uint32_t seq,
                     uint32_t file_id, uint32_t segment, const uint8_t *data, unsigned len,
                     const uint16_t *inverse, uint32_t *msgs);

/* decisions [size: P] (< M); label [size: M] or NULL; data [size:
 * xfer_segment_bytes]. 0 and *segment, data filled when the CRC holds,
 * else AL_ECRC. */
int xfer_frame_unpack(unsigned P, unsigned M, uint64_t whiten_seed, uint32_t seq,
                      uint32_t file_id, const uint32_t *decisions, const uint16_t *label,
                      uint32_t *segment, uint8_t *data);

/* A Gray-like labelling of a learned constellation: label [size: M], a
 * permutation of 0..M-1, chosen so that points near each other (their
 * 2*log2(M) nearest neighbours, weighted by exp(-d^2 / (4 n0)), the
 * Chernoff bound of a pairwise error at noise n0 per complex sample)
 * differ in few bits: local search by label swaps from the identity,
 * until no swap lowers the weighted Hamming distance. table [size:
 * M*2N] interleaved I, Q (tx_net_table). M a power of two, 2..1024.
 * 0, AL_EINVAL or AL_ENOMEM. */
int xfer_labelling(const float *table, unsigned M, unsigned N, float n0, uint16_t *label);

/* inverse[label[m]] = m. */
void xfer_label_inverse(const uint16_t *label, unsigned M, uint16_t *inverse);

/* Sum over (sent, decided) counts of the bit errors a labelling gives:
 * confusion [size: M*M], row = sent; label NULL: identity. */
uint64_t xfer_bit_errors(const uint32_t *confusion, unsigned M, const uint16_t *label);

#endif

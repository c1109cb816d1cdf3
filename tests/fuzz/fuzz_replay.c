/* Runs a fuzz target without libFuzzer, so gcc builds and CI exercise it:
 * every file of a corpus directory, then deterministic mutations of each
 * (bit flips, byte overwrites, truncations, extensions, and edits with the
 * body CRC recomputed so that they reach the checks behind it).
 *   fuzz_replay CORPUS_DIR [MUTATIONS_PER_FILE]
 *   fuzz_replay --write-corpus DIR      (one valid message of each type)
 * Exits non-zero if the corpus is missing or the mutations reach too few
 * distinct rejection reasons to be a meaningful exercise. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_bytes.h"
#include "al_rng.h"
#include "fb_proto.h"
#include "fuzz_corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_write_corpus(const char *dir)
{
    fb_msg m[10];
    memset(m, 0, sizeof m);
    m[0].type = FB_HELLO, m[0].u.hello.version = 1, m[0].u.hello.config_hash = 0x1234;
    m[1].type = FB_WELCOME, m[1].session = 9, m[1].u.welcome.session_id = 9,
    m[1].u.welcome.session_seed = 77;
    m[2].type = FB_REJECT, m[2].u.reject.reason = FB_R_CONFIG, m[2].u.reject.len = 12;
    memcpy(m[2].u.reject.text, "config hash!", 12);
    m[3].type = FB_LOSSES, m[3].session = 9, m[3].u.losses.seq = 5, m[3].u.losses.count = 16;
    for (int i = 0; i < 16; i++)
        m[3].u.losses.values[i] = 0.25f * (float)i;
    m[4].type = FB_LOSSES_ACK, m[4].session = 9, m[4].u.ack.seq = 5;
    m[5].type = FB_STATS, m[5].session = 9, m[5].u.stats.eval_messages = 10;
    m[5].u.stats.eval_frames = 1, m[5].u.stats.eval_signal = 1.0, m[5].u.stats.eval_noise = 0.1;
    m[6].type = FB_HEARTBEAT, m[6].session = 9, m[6].u.heartbeat.time_ms = 1000;
    m[7].type = FB_BYE, m[7].session = 9;
    m[8].type = FB_XFER_OFFER, m[8].session = 9, m[8].u.offer.file_id = 3,
    m[8].u.offer.size = 100, m[8].u.offer.segment_bytes = 24, m[8].u.offer.segments = 5,
    m[8].u.offer.name_len = 5, m[8].u.offer.labels = 4;
    memcpy(m[8].u.offer.name, "a.bin", 5);
    for (uint16_t i = 0; i < 4; i++)
        m[8].u.offer.label[i] = (uint16_t)(i ^ (i >> 1));
    m[9].type = FB_XFER_STATUS, m[9].session = 9, m[9].u.xstatus.file_id = 3,
    m[9].u.xstatus.base = 2, m[9].u.xstatus.bits = 3, m[9].u.xstatus.bitmap[0] = 4;
    static uint8_t buf[FB_MAX_MESSAGE];
    for (int k = 0; k < 10; k++) {
        int len = fb_encode(&m[k], buf, sizeof buf);
        char path[512];
        snprintf(path, sizeof path, "%s/%s.bin", dir, fb_type_name(m[k].type));
        FILE *f = fopen(path, "wb");
        if (f == NULL || len < 0 || fwrite(buf, 1, (size_t)len, f) != (size_t)len) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
        fclose(f);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return s_write_corpus(argv[2]);
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_replay CORPUS_DIR [MUTATIONS_PER_FILE]\n");
        return 2;
    }
    const long mutations = argc > 2 ? atol(argv[2]) : 20000;
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        fprintf(stderr, "cannot open corpus %s\n", argv[1]);
        return 1;
    }
    static uint8_t orig[FB_MAX_MESSAGE + 64], buf[FB_MAX_MESSAGE + 64];
    int reasons[FB_REASON_COUNT] = {0};
    long files = 0, runs = 0;
    al_rng_t rng;
    al_rng_seed(&rng, 2026);
    size_t n;
    while (fuzz_corpus_next(d, argv[1], orig, FB_MAX_MESSAGE, &n)) {
        files++;
        LLVMFuzzerTestOneInput(orig, n);
        for (long k = 0; k < mutations; k++) {
            size_t len = n;
            memcpy(buf, orig, n);
            const uint32_t op = al_rng_below(&rng, 5);
            const uint32_t edits = 1 + al_rng_below(&rng, 3);
            for (uint32_t j = 0; j < edits && len > 0; j++) {
                const size_t at = al_rng_below(&rng, (uint32_t)len);
                if (op == 0)
                    buf[at] ^= (uint8_t)(1u << al_rng_below(&rng, 8));
                else if (op == 1)
                    buf[at] = (uint8_t)al_rng_u32(&rng);
                else if (op == 2)
                    len = at;
                else if (op == 3 && len + 8 < sizeof buf)
                    len += al_rng_below(&rng, 8) + 1;
                else if (len > FB_HEADER_SIZE)
                    buf[FB_HEADER_SIZE + al_rng_below(&rng, (uint32_t)(len - FB_HEADER_SIZE))] =
                        (uint8_t)al_rng_u32(&rng);
            }
            if (op == 4 && len >= FB_HEADER_SIZE)
                al_put_le32(buf + 16, al_crc32(0, buf + FB_HEADER_SIZE, len - FB_HEADER_SIZE));
            LLVMFuzzerTestOneInput(buf, len);
            static fb_msg m;
            reasons[fb_decode(buf, len, 0, &m)]++;
            runs++;
        }
    }
    closedir(d);
    int distinct = 0;
    for (int r = 0; r < FB_REASON_COUNT; r++) {
        if (reasons[r]) {
            distinct++;
            printf("%-20s %d\n", fb_reason_name(r), reasons[r]);
        }
    }
    printf("%ld corpus files, %ld mutated inputs, %d distinct outcomes\n", files, runs, distinct);
    if (files == 0 || distinct < 8) {
        fprintf(stderr, "fuzz_replay: corpus empty or mutations too narrow\n");
        return 1;
    }
    return 0;
}

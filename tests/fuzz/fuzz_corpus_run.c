/* Runs any fuzz target without libFuzzer, so that gcc builds and CI
 * exercise it: every file of a corpus directory, then deterministic
 * mutations of each (bit flips, byte overwrites, truncations, extensions,
 * splices with other corpus files).
 *   fuzz_corpus_run CORPUS_DIR [MUTATIONS_PER_FILE]
 * Exits non-zero if the corpus is missing or empty. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_rng.h"
#include "fuzz_corpus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_FILES = 256, MAX_SIZE = 16384 };

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS_PER_FILE]\n", argv[0]);
        return 2;
    }
    unsigned mutations = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000;
    static uint8_t files[MAX_FILES][MAX_SIZE];
    static size_t sizes[MAX_FILES];
    unsigned n = 0;
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        fprintf(stderr, "no corpus at %s\n", argv[1]);
        return 1;
    }
    while (n < MAX_FILES && fuzz_corpus_next(d, argv[1], files[n], MAX_SIZE, &sizes[n]))
        n++;
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "empty corpus at %s\n", argv[1]);
        return 1;
    }
    static uint8_t buf[2 * MAX_SIZE];
    al_rng_t r;
    al_rng_seed(&r, 1);
    unsigned long runs = 0;
    for (unsigned i = 0; i < n; i++) {
        LLVMFuzzerTestOneInput(files[i], sizes[i]);
        runs++;
        for (unsigned m = 0; m < mutations; m++) {
            size_t len = sizes[i];
            memcpy(buf, files[i], len);
            unsigned edits = 1 + al_rng_below(&r, 4);
            for (unsigned k = 0; k < edits; k++) {
                switch (al_rng_below(&r, 5)) {
                case 0:   /* bit flip */
                    if (len)
                        buf[al_rng_below(&r, (uint32_t)len)] ^= (uint8_t)(1u << al_rng_below(&r, 8));
                    break;
                case 1:   /* byte overwrite, often with a boundary value */
                    if (len) {
                        static const uint8_t v[] = {0, 0xff, 0x7f, 0x80, '\n', '=', '[', ']', ';', '#'};
                        buf[al_rng_below(&r, (uint32_t)len)] = al_rng_below(&r, 2)
                            ? v[al_rng_below(&r, sizeof v)] : (uint8_t)al_rng_u32(&r);
                    }
                    break;
                case 2:   /* truncate */
                    len = len ? al_rng_below(&r, (uint32_t)len + 1) : 0;
                    break;
                case 3:   /* extend with random bytes */
                    for (unsigned a = al_rng_below(&r, 64); a > 0 && len < sizeof buf; a--)
                        buf[len++] = (uint8_t)al_rng_u32(&r);
                    break;
                default: { /* splice in a piece of another file */
                    unsigned j = al_rng_below(&r, n);
                    size_t at = len ? al_rng_below(&r, (uint32_t)len + 1) : 0;
                    size_t piece = sizes[j] ? al_rng_below(&r, (uint32_t)sizes[j] + 1) : 0;
                    if (at + piece <= sizeof buf) {
                        memcpy(buf + at, files[j], piece);
                        if (at + piece > len)
                            len = at + piece;
                    }
                    break;
                }
                }
            }
            LLVMFuzzerTestOneInput(buf, len);
            runs++;
        }
    }
    printf("%lu inputs from %u corpus files, no crash\n", runs, n);
    return 0;
}

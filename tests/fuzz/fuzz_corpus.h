/* Test helper for the fuzz replays: reading a corpus directory. */
#ifndef FUZZ_CORPUS_H
#define FUZZ_CORPUS_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>

/* Reads the next file of the corpus directory d (opened on dir) into buf,
 * at most max bytes, and sets *n. Returns 1, or 0 when no file is left.
 * Dot-files and files that cannot be opened are skipped. */
static inline int fuzz_corpus_next(DIR *d, const char *dir, uint8_t *buf, size_t max, size_t *n)
{
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        *n = fread(buf, 1, max, f);
        fclose(f);
        return 1;
    }
    return 0;
}

#endif

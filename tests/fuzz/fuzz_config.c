/* Fuzz target for the daemons' configuration loader (INI through inih and
 * the option table). Properties: no crash, and a configuration it
 * accepts, written back out as INI, loads again and writes the very same
 * text (nothing accepted is half-parsed or lost). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al_options.h"
#include "daemon_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    static daemon_config a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    opt_defaults(daemon_table, &a);
    if (opt_load_ini_string(daemon_table, &a, text, "fuzz.conf", NULL) == 0) {
        char *out1 = NULL, *out2 = NULL;
        size_t len1 = 0, len2 = 0;
        FILE *f = open_memstream(&out1, &len1);
        opt_write_ini(daemon_table, &a, f);
        fclose(f);
        opt_defaults(daemon_table, &b);
        if (opt_load_ini_string(daemon_table, &b, out1, "again.conf", NULL) != 0)
            abort();
        f = open_memstream(&out2, &len2);
        opt_write_ini(daemon_table, &b, f);
        fclose(f);
        if (len1 != len2 || memcmp(out1, out2, len1) != 0)
            abort();
        free(out1);
        free(out2);
    }
    free(text);
    return 0;
}

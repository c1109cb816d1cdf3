/* `airlearn bench [NAME ...]`: runs benchmarks from bench_table. */
#include "bench.h"
#include "commands.h"

#include "al_error.h"
#include "al_threads.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

static void s_usage(FILE *f)
{
    fprintf(f, "usage: airlearn bench [--threads N] [--seconds S] [--quick] [NAME ...]\n"
               "\n"
               "Prints one JSON object per line on stdout. Without NAME, runs all.\n"
               "  --threads N   OpenBLAS threads (default 1)\n"
               "  --seconds S   measuring time per figure (default 0.5)\n"
               "  --quick       smaller problem sizes (for the test suite)\n"
               "\nbenchmarks:\n");
    for (const bench_entry *e = bench_table; e->name != NULL; e++)
        fprintf(f, "  %-10s %s\n", e->name, e->summary);
}

static int s_run(const bench_entry *e, const bench_opts *opts)
{
    int rc = e->run(opts, stdout);
    fflush(stdout);
    if (rc < 0) {
        fprintf(stderr, "airlearn bench %s: %s\n", e->name, al_error_message());
        return EX_SOFTWARE;
    }
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts opts = {.threads = 1, .seconds = 0.5, .quick = 0};
    static const struct option longopts[] = {
        {"threads", required_argument, 0, 't'},
        {"seconds", required_argument, 0, 's'},
        {"quick", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:s:qh", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 't': {
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 1 || v > 256) {
                fprintf(stderr, "airlearn bench: --threads must be 1..256, got '%s'\n", optarg);
                return EX_USAGE;
            }
            opts.threads = (unsigned)v;
            break;
        }
        case 's':
            opts.seconds = strtod(optarg, &end);
            if (*end != '\0' || !(opts.seconds > 0.0 && opts.seconds <= 600.0)) {
                fprintf(stderr, "airlearn bench: --seconds must be in (0, 600], got '%s'\n", optarg);
                return EX_USAGE;
            }
            break;
        case 'q':
            opts.quick = 1;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return EX_USAGE;
        }
    }
    if (al_threads_set((int)opts.threads) < 0) {
        fprintf(stderr, "airlearn bench: %s\n", al_error_message());
        return EX_USAGE;
    }
    if (optind == argc) {
        for (const bench_entry *e = bench_table; e->name != NULL; e++) {
            int rc = s_run(e, &opts);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    for (int i = optind; i < argc; i++) {
        const bench_entry *e = bench_table;
        while (e->name != NULL && strcmp(e->name, argv[i]) != 0)
            e++;
        if (e->name == NULL) {
            fprintf(stderr, "airlearn bench: unknown benchmark '%s'\n", argv[i]);
            s_usage(stderr);
            return EX_USAGE;
        }
        int rc = s_run(e, &opts);
        if (rc != 0)
            return rc;
    }
    return 0;
}

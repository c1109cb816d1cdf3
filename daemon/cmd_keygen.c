/* `airlearn keygen DIR [--name NAME] [--force]`: CURVE key pairs. */
#include "commands.h"

#include "al_error.h"
#include "fb_keys.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

static void s_usage(FILE *f)
{
    fprintf(f, "usage: airlearn keygen DIR [--name NAME] [--force]\n"
               "\n"
               "Writes a CURVE key pair for the feedback link: DIR/NAME.key (secret,\n"
               "mode 0600) and DIR/NAME.pub. Make one pair for the transmitter and one\n"
               "per receiver; copy each receiver's .pub into the transmitter's\n"
               "allow-list directory and the transmitter's .pub to every receiver.\n"
               "  --name NAME   file name of the pair (default: airlearn)\n"
               "  --force       replace an existing pair\n");
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"name", required_argument, 0, 'n'},
        {"force", no_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *name = "airlearn";
    int force = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:fh", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 'f': force = 1; break;
        case 'h': s_usage(stdout); return 0;
        default: s_usage(stderr); return EX_USAGE;
        }
    }
    if (optind != argc - 1) {
        s_usage(stderr);
        return EX_USAGE;
    }
    const char *dir = argv[optind];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "airlearn keygen: cannot create %s: %s\n", dir, strerror(errno));
        return EX_CANTCREAT;
    }
    if (fb_keygen(dir, name, force) < 0) {
        fprintf(stderr, "airlearn keygen: %s\n", al_error_message());
        return EX_CANTCREAT;
    }
    printf("%s/%s.key\n%s/%s.pub\n", dir, name, dir, name);
    return 0;
}

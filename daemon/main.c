/* airlearn — entry point: dispatches to the subcommands in commands.h. */
#include "commands.h"

#include "al_radio.h"
#include "al_threads.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command s_commands[] = {
#define AL_COMMAND_ROW(name, fn, summary) {name, fn, summary},
    AL_COMMAND_LIST(AL_COMMAND_ROW)
#undef AL_COMMAND_ROW
};

static void s_usage(FILE *f)
{
    fprintf(f,
            "usage: airlearn COMMAND [OPTIONS]\n"
            "       airlearn --help | --version\n"
            "\n"
            "End-to-end learning of a communication system over a real radio\n"
            "link without a channel model (Aoudia & Hoydis, arXiv:1804.02276).\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        fprintf(f, "  %-10s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(f, "\n'airlearn COMMAND --help' describes each command's options.\n");
}

int main(int argc, char **argv)
{
    /* First, before any thread exists: every thread of the process then
     * flushes subnormals (see al_threads.h). */
    al_threads_init();
    if (argc < 2) {
        s_usage(stderr);
        return EX_USAGE;
    }
    al_radio_route_logs();
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        strcmp(name, "help") == 0) {
        s_usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("airlearn %s\n", AL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++) {
        if (strcmp(name, s_commands[i].name) == 0)
            return s_commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "airlearn: unknown command '%s' (see 'airlearn --help')\n", name);
    return EX_USAGE;
}

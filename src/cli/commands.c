/* cli/commands.c: the command table and dispatch. */
#include "util/base.h"

#include "cli/commands.h"

#define CMD_F_NEEDS_CREDS 0x1 /* reads BASALT_ENDPOINT / _ACCESS_KEY / _SECRET_KEY */

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    unsigned flags;
    const char *help;
};

static const struct command commands[] = {
    { "server", cmd_server, 0, "start a server over DRIVE..." },
    { "admin", cmd_admin, CMD_F_NEEDS_CREDS, "administer a server (heal, info, prometheus)" },
    { "version", cmd_version, 0, "print the version" },
};

static void
usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: basalt COMMAND [ARGS...]\n\ncommands:\n");
    for (i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'basalt COMMAND --help' for a command's options.\n");
}

int
cli_main(int argc, char **argv)
{
    size_t i;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (i = 0; i < ARRAY_SIZE(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "basalt: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}

int
cmd_version(int argc, char **argv)
{
    printf("basalt %s\n", BASALT_VERSION);
    return 0;
}

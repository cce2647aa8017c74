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
    { "admin", cmd_admin, CMD_F_NEEDS_CREDS,
      "administer a server (users, groups, policies, service accounts, heal, info, service)" },
    { "alias", cmd_alias, 0, "set, list or remove aliases (endpoints with credentials)" },
    { "ls", cmd_ls, CMD_F_NEEDS_CREDS, "list buckets and objects" },
    { "mb", cmd_mb, CMD_F_NEEDS_CREDS, "make buckets" },
    { "rb", cmd_rb, CMD_F_NEEDS_CREDS, "remove buckets" },
    { "cp", cmd_cp, CMD_F_NEEDS_CREDS, "copy objects and files" },
    { "mv", cmd_mv, CMD_F_NEEDS_CREDS, "move objects and files" },
    { "rm", cmd_rm, CMD_F_NEEDS_CREDS, "remove objects" },
    { "cat", cmd_cat, CMD_F_NEEDS_CREDS, "write objects to stdout" },
    { "head", cmd_head, CMD_F_NEEDS_CREDS, "print the first lines of objects" },
    { "pipe", cmd_pipe, CMD_F_NEEDS_CREDS, "upload stdin to an object" },
    { "stat", cmd_stat, CMD_F_NEEDS_CREDS, "show an object's details and metadata" },
    { "tree", cmd_tree, CMD_F_NEEDS_CREDS, "show the folders (and files) under a prefix" },
    { "du", cmd_du, CMD_F_NEEDS_CREDS, "sum the sizes under a prefix" },
    { "find", cmd_find, CMD_F_NEEDS_CREDS, "find objects by name, size and age" },
    { "mirror", cmd_mirror, CMD_F_NEEDS_CREDS, "one-way sync of folders and prefixes" },
    { "share", cmd_share, CMD_F_NEEDS_CREDS, "presigned download and upload URLs" },
    { "tag", cmd_tag, CMD_F_NEEDS_CREDS, "set, list or remove tags of buckets and objects" },
    { "cors", cmd_cors, CMD_F_NEEDS_CREDS, "set, get or remove a bucket's CORS rules" },
    { "policy", cmd_policy, CMD_F_NEEDS_CREDS, "set, get or remove a bucket's policy" },
    { "ping", cmd_ping, CMD_F_NEEDS_CREDS, "measure an endpoint's latency" },
    { "version", cmd_version, 0, "print the version" },
};

static void
usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: basalt COMMAND [ARGS...]\n\ncommands:\n");
    for (i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "  %-10s %s\n", "help", "help CMD: the same as CMD --help");
    fprintf(f, "\nglobal options (before COMMAND), for https:// endpoints:\n"
               "  --ca-bundle FILE  trust the CAs of FILE (PEM) instead of the system's\n"
               "                    (also BASALT_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE)\n"
               "  --insecure        do not verify the server's certificate: the traffic is\n"
               "                    encrypted but anyone in the path can read it (also\n"
               "                    BASALT_INSECURE=1); for tests only\n");
    fprintf(f, "\nRun 'basalt COMMAND --help' (or 'basalt help COMMAND') for a command's "
               "options.\n");
}

/* "basalt help CMD [SUB...]" is "basalt CMD [SUB...] --help". */
static int
help(int argc, char **argv)
{
    char **args;
    int i, rc;

    if (argc < 3) {
        usage(stdout);
        return 0;
    }
    args = xcalloc((size_t)argc + 1, sizeof(*args));
    args[0] = argv[0];
    for (i = 2; i < argc; i++)
        args[i - 1] = argv[i];
    args[argc - 1] = (char *)"--help";
    rc = cli_main(argc, args);
    free(args);
    return rc;
}

/*
 * `basalt --ca-bundle FILE --insecure COMMAND ...`: the global options
 * become BASALT_CA_BUNDLE and BASALT_INSECURE, which every command's client
 * reads (alias_client_tls). Returns how many arguments they took, or -1.
 */
static int
global_options(int argc, char **argv)
{
    int i = 1;

    while (i < argc && argv[i][0] == '-' && argv[i][1] == '-') {
        if (!strcmp(argv[i], "--insecure")) {
            setenv("BASALT_INSECURE", "1", 1);
            i++;
        } else if (!strcmp(argv[i], "--ca-bundle") && i + 1 < argc) {
            setenv("BASALT_CA_BUNDLE", argv[i + 1], 1);
            i += 2;
        } else if (!strncmp(argv[i], "--ca-bundle=", 12)) {
            setenv("BASALT_CA_BUNDLE", argv[i] + 12, 1);
            i++;
        } else {
            break;
        }
    }
    return i - 1;
}

int
cli_main(int argc, char **argv)
{
    size_t i;
    int skip = global_options(argc, argv);

    if (skip > 0) {
        argv[skip] = argv[0];
        argc -= skip;
        argv += skip;
    }
    if (argc >= 2 && !strcmp(argv[1], "help"))
        return help(argc, argv);
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
    if (argc > 1 && !strcmp(argv[1], "--json"))
        printf("{\"status\":\"success\",\"version\":\"%s\"}\n", BASALT_VERSION);
    else if (argc > 1)
        printf("usage: basalt version [--json]\n");
    else
        printf("basalt %s\n", BASALT_VERSION);
    return 0;
}

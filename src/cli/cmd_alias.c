/*
 * cli/cmd_alias.c: `basalt alias set NAME URL ACCESS_KEY SECRET_KEY [--region R]
 * [--path-style|--vhost]`, `basalt alias list`, `basalt alias remove NAME`:
 * the aliases of ~/.basalt/config.json (cli/alias.h), which `list` shows
 * with those of the environment. Secret keys are never printed.
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/alias.h"
#include "cli/ui.h"
#include "util/err.h"

static int
alias_set(int argc, char **argv)
{
    const char *region = ALIAS_DEFAULT_REGION;
    bool path_style = false, vhost = false, done;
    struct opt opts[] = {
        { "--region", NULL, OPT_STR, &region, "the region to sign for (default us-east-1)" },
        { "--path-style", NULL, OPT_FLAG, &path_style,
          "always path-style requests (host/bucket/key)" },
        { "--vhost", NULL, OPT_FLAG, &vhost, "always virtual-host requests (bucket.host/key)" },
    };
    struct cmd_spec spec = { "alias set",
                             "NAME URL ACCESS_KEY SECRET_KEY [FLAGS]",
                             "Adds or replaces an alias in ~/.basalt/config.json (mode 0600).",
                             opts,
                             ARRAY_SIZE(opts),
                             4,
                             4 };
    struct alias_config cfg = { 0 };
    struct alias a = { 0 };
    struct buf msg = BUF_INIT;
    struct cli cli;
    char **args;
    int nargs, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc || done)
        goto out;
    rc = 1;
    if (path_style && vhost) {
        cli_fail(&cli, NULL, "--path-style and --vhost exclude each other");
        goto out;
    }
    if (!alias_name_is_valid(args[0])) {
        cli_fail(&cli, args[0],
                 "an alias name is 1 to 64 letters, digits, '-' or '_', "
                 "starting with a letter");
        goto out;
    }
    a.url = alias_check_url(args[1], &msg);
    if (!a.url) {
        cli_fail(&cli, args[0], "%s", msg.ptr);
        goto out;
    }
    if (alias_config_load(&cfg, &msg) < 0) {
        cli_fail(&cli, NULL, "%s", msg.ptr);
        goto out;
    }
    a.name = xstrdup(args[0]);
    a.access_key = xstrdup(args[2]);
    a.secret_key = xstrdup(args[3]);
    a.region = xstrdup(region);
    a.style = path_style ? ALIAS_STYLE_PATH : vhost ? ALIAS_STYLE_VHOST : ALIAS_STYLE_AUTO;
    a.source = "config";
    alias_config_set(&cfg, &a);
    if (alias_config_save(&cfg, &msg) < 0) {
        cli_fail(&cli, NULL, "%s", msg.ptr);
        goto out;
    }
    if (cli.json)
        cli_json(json_pack("{s:s, s:s, s:s}", "status", "success", "alias", args[0], "url",
                           cfg.v[cfg.n - 1].url));
    else
        printf("Added `%s` successfully.\n", args[0]);
    rc = 0;
out:
    alias_release(&a);
    alias_config_release(&cfg);
    buf_release(&msg);
    free(args);
    return rc;
}

static int
alias_list(int argc, char **argv)
{
    struct cmd_spec spec = { "alias list",
                             "[NAME]",
                             "Lists the aliases: the environment's, then the config file's.",
                             NULL,
                             0,
                             0,
                             1 };
    struct alias_config cfg = { 0 };
    struct buf msg = BUF_INIT;
    struct cli cli;
    bool done;
    char **args;
    int nargs, rc;
    size_t i;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc || done)
        goto out;
    rc = 1;
    if (alias_list_all(&cfg, &msg) < 0) {
        cli_fail(&cli, NULL, "%s", msg.ptr);
        goto out;
    }
    for (i = 0; i < cfg.n; i++) {
        const struct alias *a = &cfg.v[i];

        if (nargs && strcmp(a->name, args[0]))
            continue;
        if (cli.json)
            cli_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "status", "success", "alias",
                               a->name, "url", a->url, "accessKey", a->access_key, "region",
                               a->region, "path", alias_is_vhost(a) ? "off" : "on", "source",
                               a->source));
        else
            printf("%s\n  URL       : %s\n  AccessKey : %s\n  Region    : %s\n  Path      : "
                   "%s\n  Source    : %s\n",
                   a->name, a->url, a->access_key, a->region,
                   alias_is_vhost(a) ? "virtual-host" : "path-style", a->source);
    }
    rc = 0;
out:
    alias_config_release(&cfg);
    buf_release(&msg);
    free(args);
    return rc;
}

static int
alias_remove(int argc, char **argv)
{
    struct cmd_spec spec = {
        "alias remove", "NAME", "Removes an alias from the config file.", NULL, 0, 1, 1
    };
    struct alias_config cfg = { 0 };
    struct buf msg = BUF_INIT;
    struct cli cli;
    bool done;
    char **args;
    int nargs, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc || done)
        goto out;
    rc = 1;
    if (alias_config_load(&cfg, &msg) < 0) {
        cli_fail(&cli, NULL, "%s", msg.ptr);
        goto out;
    }
    if (alias_config_remove(&cfg, args[0]) < 0) {
        cli_fail(&cli, args[0], "no such alias in the config file");
        goto out;
    }
    if (alias_config_save(&cfg, &msg) < 0) {
        cli_fail(&cli, NULL, "%s", msg.ptr);
        goto out;
    }
    if (cli.json)
        cli_json(json_pack("{s:s, s:s}", "status", "success", "alias", args[0]));
    else
        printf("Removed `%s` successfully.\n", args[0]);
    rc = 0;
out:
    alias_config_release(&cfg);
    buf_release(&msg);
    free(args);
    return rc;
}

int
cmd_alias(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";

    if (!strcmp(sub, "set"))
        return alias_set(argc - 1, argv + 1);
    if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
        return alias_list(argc - 1, argv + 1);
    if (!strcmp(sub, "remove") || !strcmp(sub, "rm"))
        return alias_remove(argc - 1, argv + 1);
    fprintf(!strcmp(sub, "--help") || !strcmp(sub, "-h") ? stdout : stderr,
            "usage: basalt alias set NAME URL ACCESS_KEY SECRET_KEY [--region R] "
            "[--path-style|--vhost]\n"
            "       basalt alias list [NAME]\n"
            "       basalt alias remove NAME\n");
    return !strcmp(sub, "--help") || !strcmp(sub, "-h") ? 0 : 2;
}

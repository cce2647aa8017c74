/* cli/cmd_du.c: `basalt du ALIAS/BUCKET[/PREFIX]...`: the bytes and objects under a prefix. */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/ui.h"
#include "cli/walk.h"

static void
du_one(struct cli *cli, const char *arg)
{
    struct cli_path p;
    struct client *c = NULL;
    struct walk w = { 0 };
    struct buf msg = BUF_INIT, size = BUF_INIT;
    uint64_t total = 0;
    size_t i;

    if (cli_path_remote(cli, arg, &p) < 0)
        return;
    if (!*p.bucket) {
        cli_fail(cli, arg, "expected ALIAS/BUCKET[/PREFIX]");
        goto out;
    }
    if (cli_connect(cli, &p, &c) < 0)
        goto out;
    if (walk_remote(&w, c, p.bucket, p.key, 0, &msg) < 0) {
        cli_fail(cli, arg, "%s", msg.ptr);
        goto out;
    }
    for (i = 0; i < w.n; i++)
        total += w.v[i].size;
    fmt_size(&size, total);
    if (cli->json)
        cli_json(json_pack("{s:s, s:s, s:I, s:I}", "status", "success", "prefix", arg, "size",
                           (json_int_t)total, "objects", (json_int_t)w.n));
    else
        printf("%s\t%zu object%s\t%s\n", size.ptr, w.n, w.n == 1 ? "" : "s", arg);
out:
    walk_release(&w);
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
    buf_release(&size);
}

int
cmd_du(int argc, char **argv)
{
    struct cmd_spec spec = { "du",
                             "ALIAS/BUCKET[/PREFIX]...",
                             "Sums the sizes and counts the objects under a prefix.",
                             NULL,
                             0,
                             1,
                             -1 };
    struct cli cli;
    bool done;
    char **args;
    int nargs, i, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc == 0 && !done)
        for (i = 0; i < nargs; i++)
            du_one(&cli, args[i]);
    free(args);
    return rc || done ? rc : cli_status(&cli);
}

/*
 * cli/cmd_tree.c: `basalt tree [-f] ALIAS/BUCKET[/PREFIX]...`: the folders
 * (key prefixes ending in '/') under a prefix as an indented tree; -f shows
 * the objects too.
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/ui.h"
#include "cli/walk.h"

/* Bytes of the leading folders `a` and `b` share, up to a '/'. */
static size_t
common_dirs(const char *a, const char *b)
{
    size_t i, last = 0;

    for (i = 0; a[i] && a[i] == b[i]; i++)
        if (a[i] == '/')
            last = i + 1;
    return last;
}

static void
print_node(struct cli *cli, const char *path, size_t depth, bool dir)
{
    const char *name = path + strlen(path);

    while (name > path && name[-1] == '/')
        name--;
    while (name > path && name[-1] != '/')
        name--;
    if (cli->json)
        cli_json(json_pack("{s:s, s:s, s:s}", "status", "success", "type", dir ? "folder" : "file",
                           "key", path));
    else
        printf("%*s%s %s\n", (int)(depth * 3), "", dir ? "├─" : "│ ", name);
}

static void
tree_one(struct cli *cli, const char *arg, bool files)
{
    struct cli_path p;
    struct client *c = NULL;
    struct walk w = { 0 };
    struct buf msg = BUF_INIT;
    const char *prev = "";
    size_t i;

    if (cli_path_remote(cli, arg, &p) < 0)
        return;
    if (!*p.bucket || cli_connect(cli, &p, &c) < 0) {
        if (!*p.bucket)
            cli_fail(cli, arg, "expected ALIAS/BUCKET[/PREFIX]");
        goto out;
    }
    if (walk_remote(&w, c, p.bucket, p.key, strlen(p.key), &msg) < 0) {
        cli_fail(cli, arg, "%s", msg.ptr);
        goto out;
    }
    if (!cli->json)
        printf("%s\n", arg);
    for (i = 0; i < w.n; i++) {
        const char *rel = w.v[i].rel, *s;
        size_t from = common_dirs(prev, rel), depth = 0;

        for (s = rel; s < rel + from; s++)
            depth += *s == '/';
        for (s = strchr(rel + from, '/'); s; s = strchr(s + 1, '/')) {
            char *dir = xstrndup(rel, (size_t)(s - rel) + 1);

            print_node(cli, dir, depth++, true);
            free(dir);
        }
        if (files)
            print_node(cli, rel, depth, false);
        prev = rel;
    }
out:
    walk_release(&w);
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
}

int
cmd_tree(int argc, char **argv)
{
    bool files = false, done;
    struct opt opts[] = {
        { "--files", "-f", OPT_FLAG, &files, "show the objects too" },
    };
    struct cmd_spec spec = { "tree",
                             "[-f] ALIAS/BUCKET[/PREFIX]...",
                             "Shows the folders under a prefix as a tree.",
                             opts,
                             ARRAY_SIZE(opts),
                             1,
                             -1 };
    struct cli cli;
    char **args;
    int nargs, i, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc == 0 && !done)
        for (i = 0; i < nargs; i++)
            tree_one(&cli, args[i], files);
    free(args);
    return rc || done ? rc : cli_status(&cli);
}

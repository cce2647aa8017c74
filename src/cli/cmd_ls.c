/*
 * cli/cmd_ls.c: `basalt ls [-r] ALIAS[/BUCKET[/PREFIX]]...`: buckets of an
 * alias, or the objects and "folders" (common prefixes, shown as PRE) under a
 * prefix; -r lists every object below it. Names are shown relative to the
 * folder of the prefix, as `aws s3 ls` does; dates are UTC, sizes as mc shows them.
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/ui.h"
#include "client/s3ops.h"

struct ls_ctx {
    struct cli *cli;
    size_t strip; /* bytes of the key not shown */
    bool buckets;
};

static int
print_entry(void *arg, const struct s3ops_entry *e)
{
    struct ls_ctx *x = arg;
    struct buf date = BUF_INIT, size = BUF_INIT, iso = BUF_INIT;
    const char *name = strlen(e->key) >= x->strip ? e->key + x->strip : e->key;

    if (x->cli->json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "status", "success", "type",
                              e->is_prefix || x->buckets ? "folder" : "file", "key", name);

        if (!e->is_prefix) {
            fmt_iso(&iso, e->mtime);
            json_object_set_new(o, "lastModified", json_string(iso.ptr));
        }
        if (!e->is_prefix && !x->buckets) {
            json_object_set_new(o, "size", json_integer((json_int_t)e->size));
            json_object_set_new(o, "etag", json_string(e->etag));
        }
        cli_json(o);
    } else if (e->is_prefix) {
        printf("%-25s %10s %s\n", "", "PRE", name);
    } else {
        fmt_time(&date, e->mtime);
        fmt_size(&size, e->size);
        printf("[%s] %10s %s%s\n", date.ptr, x->buckets ? "0B" : size.ptr, name,
               x->buckets ? "/" : "");
    }
    buf_release(&date);
    buf_release(&size);
    buf_release(&iso);
    return 0;
}

static void
list_one(struct cli *cli, const char *arg, bool recursive)
{
    struct ls_ctx x = { cli, 0, false };
    struct cli_path p;
    struct client *c = NULL;
    struct buf msg = BUF_INIT;
    const char *slash;
    int rc;

    if (cli_path_remote(cli, arg, &p) < 0)
        return;
    if (cli_connect(cli, &p, &c) < 0)
        goto out;
    if (!*p.bucket) {
        x.buckets = true;
        rc = s3ops_list_buckets(c, print_entry, &x, &msg);
    } else {
        slash = strrchr(p.key, '/');
        x.strip = slash ? (size_t)(slash - p.key) + 1 : 0;
        rc = s3ops_list(c, p.bucket, p.key, recursive, print_entry, &x, &msg);
    }
    if (rc < 0)
        cli_fail(cli, arg, "%s", msg.ptr);
out:
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
}

int
cmd_ls(int argc, char **argv)
{
    bool recursive = false, done;
    struct opt opts[] = {
        { "--recursive", "-r", OPT_FLAG, &recursive, "every object below the prefix" },
    };
    struct cmd_spec spec = { "ls",
                             "[-r] ALIAS[/BUCKET[/PREFIX]]...",
                             "Lists buckets, or the objects and folders (PRE) under a prefix.",
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
            list_one(&cli, args[i], recursive);
    free(args);
    return rc || done ? rc : cli_status(&cli);
}

/*
 * cli/cmd_rm.c: `basalt rm [-r --force] [--older-than D] [--newer-than D]
 * [--dry-run] ALIAS/BUCKET/KEY...`: removes objects; with -r --force every
 * object under a prefix ("dir" means the object dir and dir/..., never dir2/),
 * in DeleteObjects batches of 1000. The age filters compare LastModified
 * with now; --dry-run lists what would go and removes nothing.
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/parse.h"
#include "cli/ui.h"
#include "cli/walk.h"
#include "client/s3ops.h"
#include "util/clock.h"

struct rm_opts {
    bool recursive, force, dry_run;
    int64_t older, newer; /* seconds, -1 for none */
    time_t now;
};

static bool
age_ok(const struct rm_opts *o, time_t mtime)
{
    if (o->older >= 0 && mtime > o->now - o->older)
        return false;
    if (o->newer >= 0 && mtime < o->now - o->newer)
        return false;
    return true;
}

static bool
under(const char *key, const char *prefix)
{
    size_t n = strlen(prefix);

    if (!n || !strcmp(key, prefix))
        return true;
    if (strncmp(key, prefix, n))
        return false;
    return prefix[n - 1] == '/' || key[n] == '/';
}

static void
report(struct cli *cli, const struct rm_opts *o, const struct cli_path *p, const char *key)
{
    struct buf d = BUF_INIT;

    cli_path_display(p, key, &d);
    if (cli->json)
        cli_json(
            json_pack("{s:s, s:s, s:b}", "status", "success", "key", d.ptr, "dryRun", o->dry_run));
    else
        printf("%s `%s`.\n", o->dry_run ? "Would remove" : "Removed", d.ptr);
    buf_release(&d);
}

static void
rm_tree(struct cli *cli, const struct rm_opts *o, const struct cli_path *p, struct client *c)
{
    struct walk w = { 0 };
    struct buf msg = BUF_INIT;
    char **keys = NULL;
    size_t i, n = 0;

    if (walk_remote(&w, c, p->bucket, p->key, 0, &msg) < 0) {
        cli_fail(cli, p->arg, "%s", msg.ptr);
        goto out;
    }
    keys = xcalloc(w.n + 1, sizeof(*keys));
    for (i = 0; i < w.n; i++)
        if (under(w.v[i].rel, p->key) && age_ok(o, w.v[i].mtime))
            keys[n++] = w.v[i].rel;
    if (!o->dry_run && n && s3ops_delete_many(c, p->bucket, keys, n, NULL, &msg) < 0) {
        cli_fail(cli, p->arg, "%s", msg.ptr);
        goto out;
    }
    for (i = 0; i < n; i++)
        report(cli, o, p, keys[i]);
out:
    free(keys);
    walk_release(&w);
    buf_release(&msg);
}

static void
rm_one(struct cli *cli, const struct rm_opts *o, const char *arg)
{
    struct cli_path p;
    struct client *c = NULL;
    struct buf msg = BUF_INIT;
    struct s3ops_stat st;

    s3ops_stat_init(&st);
    if (cli_path_remote(cli, arg, &p) < 0)
        goto out_stat;
    if (!*p.bucket || (!*p.key && !o->recursive)) {
        cli_fail(cli, arg, "expected ALIAS/BUCKET/KEY (or -r --force for a whole prefix)");
        goto out;
    }
    if (cli_connect(cli, &p, &c) < 0)
        goto out;
    if (o->recursive) {
        rm_tree(cli, o, &p, c);
        goto out;
    }
    if (s3ops_head(c, p.bucket, p.key, &st, &msg) < 0) {
        cli_fail(cli, arg, "%s", msg.ptr);
        goto out;
    }
    if (!age_ok(o, st.mtime))
        goto out;
    if (!o->dry_run && s3ops_delete(c, p.bucket, p.key, &msg) < 0)
        cli_fail(cli, arg, "%s", msg.ptr);
    else
        report(cli, o, &p, p.key);
out:
    client_free(c);
    cli_path_release(&p);
out_stat:
    s3ops_stat_release(&st);
    buf_release(&msg);
}

int
cmd_rm(int argc, char **argv)
{
    const char *older = NULL, *newer = NULL;
    struct rm_opts o = { .older = -1, .newer = -1 };
    bool done;
    struct opt opts[] = {
        { "--recursive", "-r", OPT_FLAG, &o.recursive,
          "everything under the prefix (needs --force)" },
        { "--force", NULL, OPT_FLAG, &o.force, "confirm a recursive removal" },
        { "--older-than", NULL, OPT_STR, &older,
          "only objects older than DURATION (7d, 12h, 30m)" },
        { "--newer-than", NULL, OPT_STR, &newer, "only objects newer than DURATION" },
        { "--dry-run", NULL, OPT_FLAG, &o.dry_run, "print what would be removed, remove nothing" },
    };
    struct cmd_spec spec = {
        "rm", "[FLAGS] ALIAS/BUCKET/KEY...", "Removes objects.", opts, ARRAY_SIZE(opts), 1, -1
    };
    struct cli cli;
    char **args;
    int nargs, i, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc || done)
        goto out;
    if ((older && parse_duration(older, &o.older) < 0) ||
        (newer && parse_duration(newer, &o.newer) < 0)) {
        fprintf(stderr, "basalt: rm: '%s' is not a duration such as 7d, 12h or 30m\n",
                older && o.older < 0 ? older : newer);
        rc = 2;
        goto out;
    }
    if (o.recursive && !o.force && !o.dry_run) {
        fprintf(stderr, "basalt: rm: -r removes every object under the prefix: add --force to "
                        "confirm (or --dry-run to see them)\n");
        rc = 2;
        goto out;
    }
    o.now = (time_t)(clock_now_ns() / 1000000000LL);
    for (i = 0; i < nargs; i++)
        rm_one(&cli, &o, args[i]);
    rc = cli_status(&cli);
out:
    free(args);
    return rc;
}

/*
 * cli/cmd_rb.c: `basalt rb [--force] ALIAS/BUCKET...`: removes buckets;
 * --force first deletes every object (DeleteObjects, 1000 keys a request).
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/ui.h"
#include "cli/walk.h"
#include "client/s3ops.h"
#include "util/err.h"

/* Deletes every object of the bucket. */
static int
empty_bucket(struct client *c, const char *bucket, struct buf *msg)
{
    struct walk w = { 0 };
    char **keys;
    size_t i;
    int rc = walk_remote(&w, c, bucket, NULL, 0, msg);

    if (rc == 0 && w.n) {
        keys = xcalloc(w.n, sizeof(*keys));
        for (i = 0; i < w.n; i++)
            keys[i] = w.v[i].rel;
        rc = s3ops_delete_many(c, bucket, keys, w.n, NULL, msg);
        free(keys);
    }
    walk_release(&w);
    return rc;
}

static void
remove_one(struct cli *cli, const char *arg, bool force)
{
    struct cli_path p;
    struct client *c = NULL;
    struct buf msg = BUF_INIT;
    int rc;

    if (cli_path_remote(cli, arg, &p) < 0)
        return;
    if (!*p.bucket || *p.key) {
        cli_fail(cli, arg, "expected ALIAS/BUCKET");
        goto out;
    }
    if (cli_connect(cli, &p, &c) < 0)
        goto out;
    rc = force ? empty_bucket(c, p.bucket, &msg) : 0;
    if (rc == 0)
        rc = s3ops_remove_bucket(c, p.bucket, &msg);
    if (rc < 0) {
        cli_fail(cli, arg, "%s%s", msg.ptr,
                 rc == -ERR_NOT_EMPTY ? " (use --force to delete its objects too)" : "");
        goto out;
    }
    if (cli->json)
        cli_json(json_pack("{s:s, s:s}", "status", "success", "bucket", arg));
    else
        printf("Removed `%s` successfully.\n", arg);
out:
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
}

int
cmd_rb(int argc, char **argv)
{
    bool force = false, done;
    struct opt opts[] = {
        { "--force", NULL, OPT_FLAG, &force, "delete every object first" },
    };
    struct cmd_spec spec = {
        "rb", "[--force] ALIAS/BUCKET...", "Removes buckets.", opts, ARRAY_SIZE(opts), 1, -1
    };
    struct cli cli;
    char **args;
    int nargs, i, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc == 0 && !done)
        for (i = 0; i < nargs; i++)
            remove_one(&cli, args[i], force);
    free(args);
    return rc || done ? rc : cli_status(&cli);
}

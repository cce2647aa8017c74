/* cli/cmd_mb.c: `basalt mb [--region R] [--ignore-existing] ALIAS/BUCKET...`: creates buckets. */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/ui.h"
#include "client/s3ops.h"
#include "util/err.h"

static void
make_one(struct cli *cli, const char *arg, const char *region, bool ignore_existing)
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
    rc = s3ops_make_bucket(c, p.bucket, region ? region : p.alias.region, &msg);
    if (rc == -ERR_BUCKET_EXISTS && ignore_existing)
        rc = 0;
    if (rc < 0) {
        cli_fail(cli, arg, "%s", msg.ptr);
        goto out;
    }
    if (cli->json)
        cli_json(json_pack("{s:s, s:s}", "status", "success", "bucket", arg));
    else
        printf("Bucket created successfully `%s`.\n", arg);
out:
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
}

int
cmd_mb(int argc, char **argv)
{
    const char *region = NULL;
    bool ignore = false, done;
    struct opt opts[] = {
        { "--region", NULL, OPT_STR, &region, "the bucket's region (default: the alias's)" },
        { "--ignore-existing", "-p", OPT_FLAG, &ignore,
          "no error when the bucket is already yours" },
    };
    struct cmd_spec spec = { "mb", "[FLAGS] ALIAS/BUCKET...", "Creates buckets.",
                             opts, ARRAY_SIZE(opts),          1,
                             -1 };
    struct cli cli;
    char **args;
    int nargs, i, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc == 0 && !done)
        for (i = 0; i < nargs; i++)
            make_one(&cli, args[i], region, ignore);
    free(args);
    return rc || done ? rc : cli_status(&cli);
}

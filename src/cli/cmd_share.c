/*
 * cli/cmd_share.c: `basalt share download|upload [--expire D] ALIAS/BUCKET/KEY`:
 * a presigned URL (SigV4 in the query) to GET the object, or to PUT it
 * (`curl -T FILE URL`), valid for D (default and most: 7d).
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/parse.h"
#include "cli/ui.h"

#define SHARE_MAX_EXPIRE (7 * 86400)

static void
share_one(struct cli *cli, const char *arg, bool upload, int64_t expire)
{
    struct cli_path p;
    struct client *c = NULL;
    struct buf url = BUF_INIT;

    if (cli_path_remote(cli, arg, &p) < 0)
        return;
    if (!*p.key) {
        cli_fail(cli, arg, "expected ALIAS/BUCKET/KEY");
        goto out;
    }
    if (cli_connect(cli, &p, &c) < 0)
        goto out;
    client_presign(c, upload ? "PUT" : "GET", p.bucket, p.key, (unsigned)expire, &url);
    if (cli->json)
        cli_json(json_pack("{s:s, s:s, s:s, s:s, s:I}", "status", "success", "key", arg, "method",
                           upload ? "PUT" : "GET", "url", url.ptr, "expire", (json_int_t)expire));
    else if (upload)
        printf("URL: %s\nExpire: %llds\nShare: curl -T FILE '%s'\n", arg, (long long)expire,
               url.ptr);
    else
        printf("URL: %s\nExpire: %llds\nShare: %s\n", arg, (long long)expire, url.ptr);
out:
    client_free(c);
    cli_path_release(&p);
    buf_release(&url);
}

int
cmd_share(int argc, char **argv)
{
    const char *expire = "7d", *sub = argc > 1 ? argv[1] : "";
    bool done;
    struct opt opts[] = {
        { "--expire", "-E", OPT_STR, &expire, "how long the URL works (default and most: 7d)" },
    };
    struct cmd_spec spec = { "share",
                             "download|upload [--expire D] ALIAS/BUCKET/KEY...",
                             "Prints presigned URLs to download or upload objects.",
                             opts,
                             ARRAY_SIZE(opts),
                             1,
                             -1 };
    struct cli cli;
    int64_t secs = 0;
    char **args;
    int nargs, i, rc;

    if (strcmp(sub, "download") && strcmp(sub, "upload")) {
        bool help = !strcmp(sub, "--help") || !strcmp(sub, "-h");

        cli_usage(&spec, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    rc = cli_parse(&cli, &spec, argc - 1, argv + 1, &nargs, &args, &done);
    if (rc || done)
        goto out;
    if (parse_duration(expire, &secs) < 0 || secs <= 0 || secs > SHARE_MAX_EXPIRE) {
        fprintf(stderr, "basalt: share: --expire '%s': a duration from 1s to 7d\n", expire);
        rc = 2;
        goto out;
    }
    for (i = 0; i < nargs; i++)
        share_one(&cli, args[i], !strcmp(sub, "upload"), secs);
    rc = cli_status(&cli);
out:
    free(args);
    return rc;
}

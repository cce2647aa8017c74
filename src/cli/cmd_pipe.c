/*
 * cli/cmd_pipe.c: `basalt pipe [--attr A] [--part-size S] ALIAS/BUCKET/KEY`:
 * stdin to an object, streamed, length unknown: one PUT when it ends within
 * the first part, else a multipart upload with one part in memory at a time.
 */
#include "util/base.h"

#include "cli/commands.h"

#include <unistd.h>

#include "cli/parse.h"
#include "cli/ui.h"
#include "client/s3ops.h"

static void
free_attrs(char **attrs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(attrs[i]);
    free(attrs);
}

int
cmd_pipe(int argc, char **argv)
{
    const char *attr = NULL, *psize = NULL;
    bool done;
    struct opt opts[] = {
        { "--attr", NULL, OPT_STR, &attr, "metadata and headers: \"k=v;k2=v2\"" },
        { "--part-size", NULL, OPT_STR, &psize,
          "multipart part size (default 16MiB, at least 5MiB)" },
    };
    struct cmd_spec spec = {
        "pipe", "[FLAGS] ALIAS/BUCKET/KEY", "Uploads stdin to an object, streamed (any length).",
        opts,   ARRAY_SIZE(opts),           1,
        1
    };
    struct cli_path p = { 0 };
    struct client *c = NULL;
    struct buf msg = BUF_INIT, ctype = BUF_INIT;
    struct progress pg;
    char **attrs = NULL;
    size_t nattrs = 0, i;
    uint64_t part = S3OPS_DEFAULT_PART, total = 0;
    struct cli cli;
    char **args;
    int nargs, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc || done)
        goto out;
    rc = 2;
    if ((attr && parse_attrs(attr, &attrs, &nattrs) < 0) ||
        (psize && (parse_size(psize, &part) < 0 || part < S3OPS_MIN_PART))) {
        fprintf(stderr, "basalt: pipe: bad --attr or --part-size\n");
        goto out;
    }
    rc = 1;
    if (cli_path_remote(&cli, args[0], &p) < 0)
        goto out;
    if (!*p.key) {
        cli_fail(&cli, args[0], "expected ALIAS/BUCKET/KEY");
        goto out;
    }
    if (cli_connect(&cli, &p, &c) < 0)
        goto out;
    for (i = 0; i < nattrs; i++)
        if (!strncasecmp(attrs[i], "content-type:", 13))
            break;
    if (i == nattrs) {
        buf_addf(&ctype, "Content-Type: %s", content_type_for(p.key));
        attrs = xrealloc(attrs, (nattrs + 1) * sizeof(*attrs));
        attrs[nattrs++] = buf_detach(&ctype, NULL);
    }
    progress_start(&pg, &cli, p.key, 0);
    rc = s3ops_upload_stream(c, p.bucket, p.key, STDIN_FILENO, part, (const char *const *)attrs,
                             nattrs, progress_add, &pg, &total, &msg);
    progress_end(&pg);
    if (rc < 0) {
        cli_fail(&cli, args[0], "%s", msg.ptr);
        rc = 1;
        goto out;
    }
    if (cli.json)
        cli_json(json_pack("{s:s, s:s, s:I}", "status", "success", "target", args[0], "size",
                           (json_int_t)total));
    rc = 0;
out:
    free_attrs(attrs, nattrs);
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
    buf_release(&ctype);
    free(args);
    return rc;
}

/*
 * cli/cmd_head.c: `basalt head [-n LINES] ALIAS/BUCKET/KEY...`: the first lines
 * of objects; the download stops once they have arrived.
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/ui.h"
#include "client/s3ops.h"

struct head_sink {
    uint64_t left; /* lines still to print */
};

static bool
head_write(void *arg, const void *p, size_t n)
{
    struct head_sink *h = arg;
    const char *s = p, *nl;
    size_t take = 0;

    while (h->left && take < n && (nl = memchr(s + take, '\n', n - take)) != NULL) {
        take = (size_t)(nl - s) + 1;
        h->left--;
    }
    if (h->left)
        take = n;
    fwrite(s, 1, take, stdout);
    return h->left > 0;
}

static void
head_one(struct cli *cli, const char *arg, uint64_t lines)
{
    struct head_sink h = { lines };
    struct cli_path p;
    struct client *c = NULL;
    struct buf msg = BUF_INIT;

    if (cli_path_remote(cli, arg, &p) < 0)
        return;
    if (!*p.key)
        cli_fail(cli, arg, "expected ALIAS/BUCKET/KEY");
    else if (lines && cli_connect(cli, &p, &c) == 0 &&
             s3ops_get(c, p.bucket, p.key, NULL, head_write, &h, NULL, NULL, NULL, &msg) < 0)
        cli_fail(cli, arg, "%s", msg.ptr);
    fflush(stdout);
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
}

int
cmd_head(int argc, char **argv)
{
    const char *n = "10";
    bool done;
    struct opt opts[] = {
        { "--lines", "-n", OPT_STR, &n, "how many lines (default 10)" },
    };
    struct cmd_spec spec = { "head",
                             "[-n LINES] ALIAS/BUCKET/KEY...",
                             "Prints the first lines of objects.",
                             opts,
                             ARRAY_SIZE(opts),
                             1,
                             -1 };
    struct cli cli;
    uint64_t lines = 10;
    char **args;
    int nargs, i, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc == 0 && !done && parse_u64(slice_cstr(n), &lines) < 0) {
        fprintf(stderr, "basalt: head: -n: '%s' is not a number of lines\n", n);
        rc = 2;
    }
    if (rc == 0 && !done)
        for (i = 0; i < nargs; i++)
            head_one(&cli, args[i], lines);
    free(args);
    return rc || done ? rc : cli_status(&cli);
}

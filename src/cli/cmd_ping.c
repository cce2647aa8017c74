/*
 * cli/cmd_ping.c: `basalt ping [--count N] ALIAS`: the latency of N signed
 * ListBuckets requests (GET /), each printed, then min/avg/max.
 */
#include "util/base.h"

#include "cli/commands.h"

#include <unistd.h>

#include "cli/ui.h"
#include "client/s3ops.h"
#include "util/clock.h"

static int
ignore_entry(void *arg, const struct s3ops_entry *e)
{
    return 0;
}

int
cmd_ping(int argc, char **argv)
{
    const char *count = "4";
    bool done;
    struct opt opts[] = {
        { "--count", "-c", OPT_STR, &count, "how many requests (default 4)" },
    };
    struct cmd_spec spec = { "ping", "[--count N] ALIAS", "Measures the latency of an endpoint.",
                             opts,   ARRAY_SIZE(opts),    1,
                             1 };
    struct cli_path p = { 0 };
    struct client *c = NULL;
    struct buf msg = BUF_INIT;
    struct cli cli;
    uint64_t n = 0, i;
    double min = 0, max = 0, sum = 0;
    char **args = NULL;
    int nargs, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc || done)
        goto out;
    if (parse_u64(slice_cstr(count), &n) < 0 || n == 0 || n > 1000) {
        fprintf(stderr, "basalt: ping: --count: 1 to 1000\n");
        rc = 2;
        goto out;
    }
    rc = 1;
    if (cli_path_remote(&cli, args[0], &p) < 0 || cli_connect(&cli, &p, &c) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        int64_t t0 = clock_mono_ns();
        double ms;

        if (s3ops_list_buckets(c, ignore_entry, NULL, &msg) < 0) {
            cli_fail(&cli, args[0], "%s", msg.ptr);
            goto out;
        }
        ms = (double)(clock_mono_ns() - t0) / 1e6;
        min = i == 0 || ms < min ? ms : min;
        max = ms > max ? ms : max;
        sum += ms;
        if (cli.json)
            cli_json(json_pack("{s:s, s:s, s:I, s:f}", "status", "success", "alias", p.alias.name,
                               "seq", (json_int_t)(i + 1), "ms", ms));
        else
            printf("%s: seq=%llu time=%.2f ms\n", p.alias.url, (unsigned long long)(i + 1), ms);
        if (i + 1 < n)
            usleep(100000);
    }
    if (!cli.json)
        printf("%llu requests: min/avg/max = %.2f/%.2f/%.2f ms\n", (unsigned long long)n, min,
               sum / (double)n, max);
    rc = 0;
out:
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
    free(args);
    return rc;
}

/*
 * cli/cmd_cors.c: `basalt cors set ALIAS/BUCKET FILE.xml`, `cors get
 * ALIAS/BUCKET`, `cors remove ALIAS/BUCKET`: a bucket's CORS configuration
 * (the S3 CORSConfiguration XML document) through ?cors.
 */
#include "util/base.h"

#include "cli/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include "cli/ui.h"
#include "client/s3ops.h"
#include "util/err.h"

/* Reads a whole small file (at most 64 KiB) into `out`; 0 or -1 after printing why. */
static int
read_small_file(struct cli *cli, const char *path, struct buf *out)
{
    char tmp[8192];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        cli_fail(cli, path, "cannot open: %s", strerror(errno));
        return -1;
    }
    while ((n = read(fd, tmp, sizeof(tmp))) > 0 && out->len < 65536)
        buf_add(out, tmp, (size_t)n);
    close(fd);
    if (n < 0 || out->len >= 65536) {
        cli_fail(cli, path, "%s", n < 0 ? strerror(errno) : "larger than 64 KiB");
        return -1;
    }
    return 0;
}

int
cmd_cors(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    struct cmd_spec spec = { "cors",
                             "set|get|remove ALIAS/BUCKET [FILE.xml]",
                             "Sets (from an S3 CORSConfiguration XML file), prints or removes "
                             "a bucket's CORS rules.",
                             NULL,
                             0,
                             1,
                             2 };
    struct cli_path p = { 0 };
    struct client *c = NULL;
    struct buf msg = BUF_INIT, doc = BUF_INIT;
    struct cli cli;
    bool done, set = !strcmp(sub, "set");
    char **args = NULL;
    int nargs, rc;

    if (!set && strcmp(sub, "get") && strcmp(sub, "remove")) {
        bool help = !strcmp(sub, "--help") || !strcmp(sub, "-h");

        cli_usage(&spec, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    rc = cli_parse(&cli, &spec, argc - 1, argv + 1, &nargs, &args, &done);
    if (rc || done)
        goto out;
    if ((nargs == 2) != set) {
        cli_usage(&spec, stderr);
        rc = 2;
        goto out;
    }
    rc = 1;
    if ((set && read_small_file(&cli, args[1], &doc) < 0) ||
        cli_path_remote(&cli, args[0], &p) < 0 || cli_connect(&cli, &p, &c) < 0)
        goto out;
    if (*p.key || !*p.bucket) {
        cli_fail(&cli, args[0], "expected ALIAS/BUCKET");
        goto out;
    }
    if (set)
        rc = s3ops_put_sub(c, p.bucket, NULL, "cors", buf_slice(&doc), &msg);
    else if (!strcmp(sub, "remove"))
        rc = s3ops_delete_sub(c, p.bucket, NULL, "cors", &msg);
    else
        rc = s3ops_get_sub(c, p.bucket, NULL, "cors", &doc, &msg);
    if (rc < 0) {
        cli_fail(&cli, args[0], "%s", msg.ptr);
        rc = 1;
        goto out;
    }
    if (!strcmp(sub, "get") && cli.json)
        cli_json(
            json_pack("{s:s, s:s, s:s}", "status", "success", "bucket", args[0], "cors", doc.ptr));
    else if (!strcmp(sub, "get"))
        printf("%s%s", doc.ptr, doc.len && doc.ptr[doc.len - 1] == '\n' ? "" : "\n");
    else if (cli.json)
        cli_json(json_pack("{s:s, s:s}", "status", "success", "bucket", args[0]));
    else
        printf("CORS configuration %s for `%s`.\n", set ? "set" : "removed", args[0]);
    rc = 0;
out:
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
    buf_release(&doc);
    free(args);
    return rc;
}

/* cli/cmd_cat.c: `basalt cat PATH...`: writes objects (or local files) to stdout, streamed. */
#include "util/base.h"

#include "cli/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include "cli/ui.h"
#include "client/s3ops.h"

static bool
write_stdout(void *arg, const void *p, size_t n)
{
    int *err = arg;

    if (fwrite(p, 1, n, stdout) != n) {
        *err = errno ? errno : EIO;
        return false;
    }
    return true;
}

static void
cat_local(struct cli *cli, const char *path)
{
    char block[65536];
    ssize_t n;
    int err = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        cli_fail(cli, path, "cannot open: %s", strerror(errno));
        return;
    }
    while ((n = read(fd, block, sizeof(block))) > 0 && write_stdout(&err, block, (size_t)n))
        ;
    if (n < 0 || err)
        cli_fail(cli, path, "%s", strerror(n < 0 ? errno : err));
    close(fd);
}

static void
cat_one(struct cli *cli, const char *arg)
{
    struct cli_path p;
    struct client *c = NULL;
    struct buf msg = BUF_INIT;
    int err = 0;

    if (cli_path_parse(cli, arg, &p) < 0)
        return;
    if (!p.remote) {
        cat_local(cli, arg);
        goto out;
    }
    if (!*p.key) {
        cli_fail(cli, arg, "expected ALIAS/BUCKET/KEY");
        goto out;
    }
    if (cli_connect(cli, &p, &c) < 0)
        goto out;
    if (s3ops_get(c, p.bucket, p.key, NULL, write_stdout, &err, NULL, NULL, NULL, &msg) < 0)
        cli_fail(cli, arg, "%s", msg.ptr);
    else if (err)
        cli_fail(cli, arg, "cannot write to stdout: %s", strerror(err));
out:
    fflush(stdout);
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
}

int
cmd_cat(int argc, char **argv)
{
    struct cmd_spec spec = {
        "cat", "PATH...", "Writes objects (or local files) to stdout, one after the other.",
        NULL,  0,         1,
        -1
    };
    struct cli cli;
    bool done;
    char **args;
    int nargs, i, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc == 0 && !done)
        for (i = 0; i < nargs; i++)
            cat_one(&cli, args[i]);
    free(args);
    return rc || done ? rc : cli_status(&cli);
}

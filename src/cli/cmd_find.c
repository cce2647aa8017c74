/*
 * cli/cmd_find.c: `basalt find ALIAS/BUCKET[/PREFIX] [--name GLOB] [--larger SIZE]
 * [--smaller SIZE] [--older-than D] [--newer-than D] [--exec "CMD {}"]`: the
 * objects under a prefix that pass every filter, printed as ALIAS/BUCKET/KEY.
 * --name matches the base name of the key; --exec runs CMD for each match
 * with {} replaced by its path, as argv (split at spaces, no shell), and
 * fails the run if a command fails.
 */
#include "util/base.h"

#include "cli/commands.h"

#include <sys/wait.h>
#include <unistd.h>

#include "cli/parse.h"
#include "cli/ui.h"
#include "cli/walk.h"
#include "util/clock.h"

struct find_opts {
    const char *name, *exec;
    uint64_t larger, smaller; /* 0: none */
    int64_t older, newer;     /* -1: none */
    time_t now;
};

static bool
matches(const struct find_opts *o, const struct walk_entry *e)
{
    const char *base = strrchr(e->rel, '/');

    base = base ? base + 1 : e->rel;
    if (o->name && !glob_match(o->name, base))
        return false;
    if (o->larger && e->size <= o->larger)
        return false;
    if (o->smaller && e->size >= o->smaller)
        return false;
    if (o->older >= 0 && e->mtime > o->now - o->older)
        return false;
    return o->newer < 0 || e->mtime >= o->now - o->newer;
}

/* Runs the --exec command for `path`; its exit status (127 when it cannot start). */
static int
run_exec(const char *cmd, const char *path)
{
    char *copy = xstrdup(cmd), *save = NULL, *tok, **argv = NULL;
    size_t n = 0, i;
    int status = 127;
    pid_t pid;

    for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        struct buf a = BUF_INIT;
        const char *s, *brace;

        for (s = tok; (brace = strstr(s, "{}")) != NULL; s = brace + 2) {
            buf_add(&a, s, (size_t)(brace - s));
            buf_adds(&a, path);
        }
        buf_adds(&a, s);
        argv = xrealloc(argv, (n + 2) * sizeof(*argv));
        argv[n++] = buf_detach(&a, NULL);
    }
    if (!n)
        goto out;
    argv[n] = NULL;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
out:
    for (i = 0; i < n; i++)
        free(argv[i]);
    free(argv);
    free(copy);
    return status;
}

static void
find_one(struct cli *cli, const struct find_opts *o, const char *arg)
{
    struct cli_path p;
    struct client *c = NULL;
    struct walk w = { 0 };
    struct buf msg = BUF_INIT;
    size_t i;

    if (cli_path_remote(cli, arg, &p) < 0)
        return;
    if (!*p.bucket || cli_connect(cli, &p, &c) < 0) {
        if (!*p.bucket)
            cli_fail(cli, arg, "expected ALIAS/BUCKET[/PREFIX]");
        goto out;
    }
    if (walk_remote(&w, c, p.bucket, p.key, 0, &msg) < 0) {
        cli_fail(cli, arg, "%s", msg.ptr);
        goto out;
    }
    for (i = 0; i < w.n; i++) {
        struct buf d = BUF_INIT, iso = BUF_INIT;
        int st;

        if (!matches(o, &w.v[i]))
            continue;
        cli_path_display(&p, w.v[i].rel, &d);
        if (o->exec) {
            st = run_exec(o->exec, d.ptr);
            if (st)
                cli_fail(cli, d.ptr, "--exec command exited with %d", st);
        } else if (cli->json) {
            fmt_iso(&iso, w.v[i].mtime);
            cli_json(json_pack("{s:s, s:s, s:I, s:s}", "status", "success", "key", d.ptr, "size",
                               (json_int_t)w.v[i].size, "lastModified", iso.ptr));
        } else {
            printf("%s\n", d.ptr);
        }
        buf_release(&d);
        buf_release(&iso);
    }
out:
    walk_release(&w);
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
}

int
cmd_find(int argc, char **argv)
{
    const char *larger = NULL, *smaller = NULL, *older = NULL, *newer = NULL;
    struct find_opts o = { .older = -1, .newer = -1 };
    bool done;
    struct opt opts[] = {
        { "--name", NULL, OPT_STR, &o.name, "base name matches GLOB (*, ?, [...])" },
        { "--larger", NULL, OPT_STR, &larger, "larger than SIZE (10K, 5MiB, 1G)" },
        { "--smaller", NULL, OPT_STR, &smaller, "smaller than SIZE" },
        { "--older-than", NULL, OPT_STR, &older, "older than DURATION (7d, 12h)" },
        { "--newer-than", NULL, OPT_STR, &newer, "newer than DURATION" },
        { "--exec", NULL, OPT_STR, &o.exec, "run \"CMD {}\" for each match ({} is its path)" },
    };
    struct cmd_spec spec = { "find",
                             "ALIAS/BUCKET[/PREFIX]... [FLAGS]",
                             "Finds objects by name, size and age.",
                             opts,
                             ARRAY_SIZE(opts),
                             1,
                             -1 };
    struct cli cli;
    char **args;
    int nargs, i, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc || done)
        goto out;
    if ((larger && parse_size(larger, &o.larger) < 0) ||
        (smaller && parse_size(smaller, &o.smaller) < 0) ||
        (older && parse_duration(older, &o.older) < 0) ||
        (newer && parse_duration(newer, &o.newer) < 0)) {
        fprintf(stderr, "basalt: find: a size (10K, 5MiB) or duration (7d, 12h) is not valid\n");
        rc = 2;
        goto out;
    }
    o.now = (time_t)(clock_now_ns() / 1000000000LL);
    for (i = 0; i < nargs; i++)
        find_one(&cli, &o, args[i]);
    rc = cli_status(&cli);
out:
    free(args);
    return rc;
}

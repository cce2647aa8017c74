/* cli/ui.c: options, output, errors, paths and progress of the client commands (see ui.h). */
#include "util/base.h"

#include "cli/ui.h"

#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

#include "cli/parse.h"
#include "util/clock.h"
#include "util/err.h"

void
cli_usage(const struct cmd_spec *spec, FILE *f)
{
    size_t i;

    fprintf(f, "usage: basalt %s %s\n\n%s\n\nflags:\n", spec->name, spec->usage, spec->about);
    for (i = 0; i < spec->nopts; i++) {
        const struct opt *o = &spec->opts[i];
        char name[48];

        snprintf(name, sizeof(name), "%s%s%s%s", o->alt ? o->alt : "", o->alt ? ", " : "", o->name,
                 o->kind == OPT_FLAG ? "" : " VALUE");
        fprintf(f, "  %-26s %s\n", name, o->help);
    }
    fprintf(f, "  %-26s %s\n  %-26s %s\n", "--json", "one JSON object per line", "-h, --help",
            "this help");
}

static const struct opt *
find_opt(const struct cmd_spec *spec, const char *arg, const char **inline_val)
{
    size_t i, n;
    const char *eq = strchr(arg, '=');

    *inline_val = NULL;
    n = eq && arg[1] == '-' ? (size_t)(eq - arg) : strlen(arg);
    for (i = 0; i < spec->nopts; i++) {
        const struct opt *o = &spec->opts[i];

        if ((strlen(o->name) == n && !strncmp(o->name, arg, n)) ||
            (o->alt && !strcmp(o->alt, arg))) {
            if (n != strlen(arg))
                *inline_val = eq + 1;
            return o;
        }
    }
    return NULL;
}

int
cli_parse(struct cli *cli, const struct cmd_spec *spec, int argc, char **argv, int *nargs,
          char ***args, bool *done)
{
    const char *val;
    bool only_args = false;
    int i;

    memset(cli, 0, sizeof(*cli));
    cli->cmd = spec->name;
    cli->tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    *done = false;
    *nargs = 0;
    *args = xcalloc((size_t)argc + 1, sizeof(**args));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct opt *o;

        if (only_args || a[0] != '-' || !strcmp(a, "-")) {
            (*args)[(*nargs)++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            only_args = true;
        } else if (!strcmp(a, "--json")) {
            cli->json = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli_usage(spec, stdout);
            *done = true;
            return 0;
        } else if ((o = find_opt(spec, a, &val)) == NULL) {
            fprintf(stderr, "basalt: %s: unknown flag '%s' (see 'basalt %s --help')\n", spec->name,
                    a, spec->name);
            return 2;
        } else if (o->kind == OPT_FLAG) {
            *(bool *)o->dst = true;
        } else {
            if (!val && i + 1 == argc) {
                fprintf(stderr, "basalt: %s: %s needs a value\n", spec->name, o->name);
                return 2;
            }
            val = val ? val : argv[++i];
            if (o->kind == OPT_STR) {
                *(const char **)o->dst = val;
            } else {
                struct strlist *l = o->dst;

                l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
                l->v[l->n++] = val;
            }
        }
    }
    if (*nargs < spec->min_args || (spec->max_args >= 0 && *nargs > spec->max_args)) {
        fprintf(stderr, "basalt: %s: expected %s\n\n", spec->name, spec->usage);
        cli_usage(spec, stderr);
        return 2;
    }
    if (cli->json)
        cli->tty = false;
    return 0;
}

/*
 * The error code of a message for --json: the S3 code it starts with
 * ("NoSuchKey: ..."), else a word for the kind of failure.
 */
static void
error_code(const char *msg, struct buf *code)
{
    size_t n = 0;

    while (isalnum((unsigned char)msg[n]))
        n++;
    if (n > 1 && isupper((unsigned char)msg[0]) && (msg[n] == ':' || msg[n] == '\0')) {
        buf_add(code, msg, n);
        return;
    }
    if (!strncmp(msg, "cannot reach ", 13))
        buf_adds(code, "ConnectionFailed");
    else if (!strncmp(msg, "interrupted", 11))
        buf_adds(code, "Interrupted");
    else if (!strncmp(msg, "no alias ", 9))
        buf_adds(code, "NoSuchAlias");
    else if (!strncmp(msg, "cannot ", 7))
        buf_adds(code, "LocalError");
    else
        buf_adds(code, "Failed");
}

void
cli_fail(struct cli *cli, const char *what, const char *fmt, ...)
{
    struct buf b = BUF_INIT, code = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (cli->json) {
        error_code(b.ptr, &code);
        cli_json(json_pack("{s:s, s:{s:s, s:s, s:s}}", "status", "error", "error", "code", code.ptr,
                           "message", b.ptr, "target", what ? what : ""));
    }
    fflush(stdout);
    fprintf(stderr, "basalt: %s: %s%s%s\n", cli->cmd, what ? what : "", what ? ": " : "", b.ptr);
    cli->failures++;
    buf_release(&b);
    buf_release(&code);
    if (client_is_interrupted()) /* Ctrl-C: said what became of the transfer, now stop */
        exit(128 + SIGINT);
}

int
cli_status(const struct cli *cli)
{
    return cli->failures ? 1 : 0;
}

void
cli_json(json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

    if (!s)
        die("jansson: out of memory");
    printf("%s\n", s);
    free(s);
    json_decref(obj);
}

void
fmt_size(struct buf *out, uint64_t n)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = (double)n;
    size_t u = 0;

    while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        buf_addf(out, "%lluB", (unsigned long long)n);
    else
        buf_addf(out, "%.1f%s", v, units[u]);
}

void
fmt_time(struct buf *out, time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    buf_addf(out, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
fmt_iso(struct buf *out, time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    buf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
cli_path_parse(struct cli *cli, const char *arg, struct cli_path *p)
{
    const char *slash = strchr(arg, '/');
    char *first = slash ? xstrndup(arg, (size_t)(slash - arg)) : xstrdup(arg);
    struct buf msg = BUF_INIT;
    int rc;

    memset(p, 0, sizeof(*p));
    p->arg = arg;
    if (!alias_name_is_valid(first)) {
        free(first);
        return 0;
    }
    rc = alias_lookup(first, &p->alias, &msg);
    free(first);
    if (rc == -ERR_NOT_FOUND) {
        rc = 0;
    } else if (rc < 0) {
        cli_fail(cli, arg, "%s", msg.ptr);
        rc = -1;
    } else {
        p->remote = true;
        path_split_remote(slash ? slash + 1 : "", &p->bucket, &p->key);
    }
    buf_release(&msg);
    return rc;
}

int
cli_path_remote(struct cli *cli, const char *arg, struct cli_path *p)
{
    const char *slash;

    if (cli_path_parse(cli, arg, p) < 0)
        return -1;
    if (p->remote)
        return 0;
    slash = strchr(arg, '/');
    cli_fail(cli, arg,
             "no alias '%.*s': add one with 'basalt alias set %.*s URL ACCESS_KEY SECRET_KEY' "
             "(or set BASALT_ALIAS_%.*s)",
             (int)(slash ? slash - arg : (ptrdiff_t)strlen(arg)), arg,
             (int)(slash ? slash - arg : (ptrdiff_t)strlen(arg)), arg,
             (int)(slash ? slash - arg : (ptrdiff_t)strlen(arg)), arg);
    return -1;
}

void
cli_path_release(struct cli_path *p)
{
    alias_release(&p->alias);
    free(p->bucket);
    free(p->key);
    memset(p, 0, sizeof(*p));
}

int
cli_connect(struct cli *cli, const struct cli_path *p, struct client **out)
{
    struct buf msg = BUF_INIT;
    int rc = alias_client(&p->alias, out, &msg);

    if (rc < 0)
        cli_fail(cli, p->arg, "alias '%s': %s", p->alias.name, msg.ptr);
    buf_release(&msg);
    return rc < 0 ? -1 : 0;
}

void
cli_path_display(const struct cli_path *p, const char *key, struct buf *out)
{
    if (!p->remote) {
        buf_adds(out, p->arg);
        return;
    }
    buf_addf(out, "%s/%s%s%s", p->alias.name, p->bucket, key && *key ? "/" : "", key ? key : "");
}

void
progress_start(struct progress *p, const struct cli *cli, const char *label, uint64_t total)
{
    const char *base = strrchr(label, '/');

    p->on = cli->tty && !cli->json;
    p->total = total;
    atomic_init(&p->done, 0);
    p->start_ns = clock_mono_ns();
    /* short transfers draw nothing; BASALT_PROGRESS_NOW=1 draws from the start (tests) */
    atomic_init(&p->next_draw_ns, p->start_ns + (getenv("BASALT_PROGRESS_NOW") ? -1 : 200000000));
    snprintf(p->label, sizeof(p->label), "%s", base && base[1] ? base + 1 : label);
    pthread_mutex_init(&p->lock, NULL);
}

static void
draw(struct progress *p, int64_t now)
{
    struct buf line = BUF_INIT, done = BUF_INIT, total = BUF_INIT, rate = BUF_INIT;
    uint64_t d = atomic_load(&p->done);
    double secs = (double)(now - p->start_ns) / 1e9;
    uint64_t bps = secs > 0 ? (uint64_t)((double)d / secs) : 0;

    fmt_size(&done, d);
    fmt_size(&rate, bps);
    if (p->total) {
        uint64_t eta = bps ? (p->total > d ? (p->total - d) / bps : 0) : 0;

        fmt_size(&total, p->total);
        buf_addf(&line, "\r%-24.24s %9s / %-9s %3d%% %9s/s ETA %02llu:%02llu:%02llu\033[K",
                 p->label, done.ptr, total.ptr, (int)(d * 100 / p->total), rate.ptr,
                 (unsigned long long)(eta / 3600), (unsigned long long)(eta / 60 % 60),
                 (unsigned long long)(eta % 60));
    } else {
        buf_addf(&line, "\r%-24.24s %9s %9s/s\033[K", p->label, done.ptr, rate.ptr);
    }
    fputs(line.ptr, stderr);
    fflush(stderr);
    buf_release(&line);
    buf_release(&done);
    buf_release(&total);
    buf_release(&rate);
}

void
progress_add(void *arg, uint64_t delta)
{
    struct progress *p = arg;
    int64_t now;

    atomic_fetch_add(&p->done, delta);
    if (!p->on)
        return;
    now = clock_mono_ns();
    if (now < atomic_load(&p->next_draw_ns) || pthread_mutex_trylock(&p->lock))
        return;
    if (now >= atomic_load(&p->next_draw_ns)) {
        atomic_store(&p->next_draw_ns, now + 100000000);
        draw(p, now);
    }
    pthread_mutex_unlock(&p->lock);
}

void
progress_end(struct progress *p)
{
    if (p->on && atomic_load(&p->next_draw_ns) > p->start_ns + 100000000) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    pthread_mutex_destroy(&p->lock);
}

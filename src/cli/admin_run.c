/*
 * cli/admin_run.c: verb dispatch, admin API calls, output and errors of the
 * `basalt admin user|group|policy|svcacct` commands (see admin_run.h).
 */
#include "util/base.h"

#include "cli/admin_run.h"

#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "util/err.h"

/* ---- dispatch ---- */

static void
group_usage(const char *group, const struct admin_verb *verbs, size_t nverbs, FILE *f)
{
    size_t i;

    fprintf(f, "usage:\n");
    for (i = 0; i < nverbs; i++)
        fprintf(f, "  basalt admin %s %s %s\n", group, verbs[i].name, verbs[i].usage);
    fprintf(f, "\nRun 'basalt admin %s VERB --help' for a verb's flags.\n", group);
}

static const struct admin_verb *
find_verb(const struct admin_verb *verbs, size_t nverbs, const char *name)
{
    size_t i;

    for (i = 0; i < nverbs; i++)
        if (!strcmp(verbs[i].name, name))
            return &verbs[i];
    return NULL;
}

/* Resolves args[0] as an alias (nothing after it) and connects; -1 after printing why. */
static int
admin_run_connect(struct admin_run *r)
{
    if (strchr(r->args[0], '/')) {
        cli_fail(&r->cli, r->args[0], "expected an ALIAS, not a path");
        return -1;
    }
    if (cli_path_remote(&r->cli, r->args[0], &r->target) < 0)
        return -1;
    return cli_connect(&r->cli, &r->target, &r->c);
}

int
admin_dispatch(const char *group, const struct admin_verb *verbs, size_t nverbs,
               const struct opt *opts, size_t nopts, void *optvals, int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "";
    const struct admin_verb *v = find_verb(verbs, nverbs, name);
    struct opt vopts[32];
    struct cmd_spec spec;
    struct admin_run r;
    struct buf cmd = BUF_INIT;
    size_t i, n = 0;
    bool done;
    int rc;

    BUG_ON(nopts > ARRAY_SIZE(vopts));
    if (!v) {
        bool help = !strcmp(name, "--help") || !strcmp(name, "-h");

        if (!help)
            fprintf(stderr, "basalt: admin %s: %s%s%s\n\n", group,
                    *name ? "unknown verb '" : "expected a verb", name, *name ? "'" : "");
        group_usage(group, verbs, nverbs, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    for (i = 0; i < nopts; i++)
        if (v->opts & (1u << i))
            vopts[n++] = opts[i];
    buf_addf(&cmd, "admin %s %s", group, v->name);
    spec = (struct cmd_spec){ cmd.ptr, v->usage, v->about, vopts, n, v->min_args, v->max_args };
    memset(&r, 0, sizeof(r));
    r.opts = optvals;
    rc = cli_parse(&r.cli, &spec, argc - 1, argv + 1, &r.nargs, &r.args, &done);
    if (rc || done)
        goto out;
    rc = 1;
    if (admin_run_connect(&r) < 0)
        goto out;
    rc = v->fn(&r);
    if (rc == 0)
        rc = cli_status(&r.cli);
out:
    client_free(r.c);
    cli_path_release(&r.target);
    free(r.args);
    buf_release(&cmd);
    return rc;
}

/* ---- calls ---- */

void
admin_err_init(struct admin_err *e)
{
    e->status = 0;
    buf_init(&e->code, 0);
    buf_init(&e->message, 0);
}

void
admin_err_release(struct admin_err *e)
{
    buf_release(&e->code);
    buf_release(&e->message);
}

/* The answer of a non-2xx status into `err`: the S3 error's Code and Message, or the raw body. */
static void
answer_error(struct admin_run *r, long status, const struct buf *body, struct admin_err *err)
{
    err->status = status;
    if (client_parse_error(buf_slice(body), &err->code, &err->message) == 0)
        return;
    buf_addf(&err->message, "%s answered HTTP %ld%s%.200s", client_endpoint(r->c), status,
             body->len ? ": " : "", body->ptr);
}

/*
 * Whether an admin call may be sent again after a dropped connection or a
 * 500, as the S3 commands' idempotent requests are (client_set_retry). A
 * call is idempotent here when a second one, after the first was applied,
 * leaves the same state AND gives the same answer (a DELETE whose second
 * answer is NoSuchEntity would report a failure for what succeeded):
 *
 *   GET ...                          a read
 *   POST heal                        heals what is still missing: nothing, the second time
 *   PUT policies/NAME                creates or replaces the document
 *   POST users|groups/NAME/enable|disable   sets a flag
 *   POST groups/NAME/members         adding a member or removing one is "already so" the
 *                                    second time (iam_group_add_member: 0)
 *   POST policies/NAME/attach        attaching an attached policy answers 0
 *   POST service-accounts/KEY        edit: sets the fields given, to the values given
 *
 * Every other call is sent again only when the server provably did nothing
 * (a 503 SlowDown answer, or the connection refused): PUT users/NAME and
 * PUT groups/NAME (a second one answers EntityAlreadyExists), POST
 * service-accounts (a second key pair), POST policies/NAME/detach (a second
 * one answers NoSuchEntity), DELETE (likewise), and POST service/restart|stop
 * (a second restart would restart the restarted server).
 */
enum client_retry
admin_retry_class(const char *method, const char *path)
{
    const char *verb = strrchr(path, '/');

    verb = verb ? verb + 1 : path;
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
        return CLIENT_RETRY_IDEMPOTENT;
    if (!strcmp(method, "PUT") && !strncmp(path, "policies/", 9))
        return CLIENT_RETRY_IDEMPOTENT;
    if (strcmp(method, "POST") != 0)
        return CLIENT_RETRY_UNSENT;
    if (!strcmp(path, "heal") || !strcmp(verb, "enable") || !strcmp(verb, "disable"))
        return CLIENT_RETRY_IDEMPOTENT;
    if ((!strncmp(path, "groups/", 7) && !strcmp(verb, "members")) ||
        (!strncmp(path, "policies/", 9) && !strcmp(verb, "attach")))
        return CLIENT_RETRY_IDEMPOTENT;
    if (!strncmp(path, "service-accounts/", 17) && !strchr(path + 17, '/'))
        return CLIENT_RETRY_IDEMPOTENT;
    return CLIENT_RETRY_UNSENT;
}

int
admin_run_request(struct admin_run *r, const char *method, const char *path, const char *query,
                  struct slice body, json_t **out, struct admin_err *err)
{
    struct buf url = BUF_INIT, resp = BUF_INIT;
    struct client_call call = { .method = method,
                                .query = query,
                                .response = &resp,
                                .retry = admin_retry_class(method, path) };
    json_error_t jerr;
    json_t *j = NULL;
    long status = 0;
    int rc;

    buf_addf(&url, ADMIN_API_PREFIX "%s", path);
    call.path = url.ptr;
    call.body.fd = -1;
    call.body.mem = body;
    rc = client_call(r->c, &call, &err->message);
    if (rc < 0)
        goto out;
    status = call.status;
    rc = -1;
    if (status < 200 || status > 299) {
        answer_error(r, status, &resp, err);
        goto out;
    }
    err->status = status;
    j = json_loadb(resp.ptr, resp.len, 0, &jerr);
    if (!j || !json_is_object(j)) {
        buf_addf(&err->message, "the server's answer is not a JSON object: %s",
                 j ? "wrong type" : jerr.text);
        json_decref(j);
        goto out;
    }
    if (out)
        *out = j;
    else
        json_decref(j);
    rc = 0;
out:
    buf_release(&url);
    buf_release(&resp);
    return rc < 0 ? -1 : 0;
}

void
admin_run_fail(struct admin_run *r, const struct admin_err *err)
{
    if (err->code.len)
        cli_fail(&r->cli, r->target.alias.name, "%s: %s", err->code.ptr,
                 err->message.len ? err->message.ptr : "no message");
    else
        cli_fail(&r->cli, r->target.alias.name, "%s", err->message.ptr);
}

int
admin_run_call(struct admin_run *r, const char *method, const char *path, const char *query,
               struct slice body, json_t **out)
{
    struct admin_err err;
    int rc;

    admin_err_init(&err);
    rc = admin_run_request(r, method, path, query, body, out, &err);
    if (rc < 0)
        admin_run_fail(r, &err);
    admin_err_release(&err);
    return rc;
}

int
admin_run_path(struct admin_run *r, struct buf *path, const char *kind, const char *name,
               const char *verb)
{
    if (!*name || strchr(name, '/')) {
        cli_fail(&r->cli, *name ? name : "\"\"", "not a valid name (empty, or holds a '/')");
        return -1;
    }
    buf_addf(path, "%s/%s%s%s", kind, name, verb ? "/" : "", verb ? verb : "");
    return 0;
}

int
admin_run_call_json(struct admin_run *r, const char *method, const char *path, json_t *body,
                    json_t **out)
{
    char *text = json_dumps(body, JSON_COMPACT);
    int rc;

    if (!text)
        die("jansson: out of memory");
    json_decref(body);
    rc = admin_run_call(r, method, path, NULL, slice_cstr(text), out);
    free(text);
    return rc;
}

/* ---- output ---- */

void
admin_run_json(json_t *obj)
{
    json_t *line = json_pack("{s:s}", "status", "success");

    if (obj)
        json_object_update(line, obj);
    json_decref(obj);
    cli_json(line);
}

int
admin_run_done(struct admin_run *r, json_t *obj, const char *fmt, ...)
{
    va_list ap;

    if (r->cli.json) {
        admin_run_json(obj);
        return 0;
    }
    json_decref(obj);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    return 0;
}

int
admin_run_read_file(struct admin_run *r, const char *path, struct buf *out)
{
    char tmp[8192];
    ssize_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        cli_fail(&r->cli, path, "cannot open it: %s", strerror(errno));
        return -1;
    }
    while (out->len <= ADMIN_FILE_MAX && (n = read(fd, tmp, sizeof(tmp))) > 0)
        buf_add(out, tmp, (size_t)n);
    close(fd);
    if (n < 0) {
        cli_fail(&r->cli, path, "cannot read it: %s", strerror(errno));
        return -1;
    }
    if (out->len > ADMIN_FILE_MAX) {
        cli_fail(&r->cli, path, "larger than %u KiB", ADMIN_FILE_MAX / 1024);
        return -1;
    }
    return 0;
}

void
admin_table_print(const json_t *rows)
{
    size_t width[16] = { 0 }, i, j, n;
    const json_t *row, *cell;
    struct buf line = BUF_INIT;

    json_array_foreach(rows, i, row)
    {
        json_array_foreach(row, j, cell)
        {
            if (j < ARRAY_SIZE(width) && strlen(json_string_value(cell)) > width[j])
                width[j] = strlen(json_string_value(cell));
        }
    }
    json_array_foreach(rows, i, row)
    {
        buf_clear(&line);
        json_array_foreach(row, j, cell)
        {
            n = j + 1 < json_array_size(row) && j < ARRAY_SIZE(width) ? width[j] + 2 : 0;
            buf_addf(&line, "%-*s", (int)n, json_string_value(cell));
        }
        while (line.len && line.ptr[line.len - 1] == ' ')
            buf_setlen(&line, line.len - 1);
        printf("%s\n", line.ptr);
    }
    buf_release(&line);
}

void
admin_join(const json_t *a, struct buf *out)
{
    const json_t *v;
    size_t i;

    json_array_foreach(a, i, v)
    {
        if (json_is_string(v))
            buf_addf(out, "%s%s", i ? "," : "", json_string_value(v));
    }
}

void
admin_fmt_time(struct buf *out, json_int_t t, const char *none)
{
    if (t <= 0)
        buf_adds(out, none);
    else
        fmt_iso(out, (time_t)t);
}

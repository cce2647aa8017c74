/*
 * cli/cmd_admin.c: `basalt admin heal [BUCKET[/PREFIX]]`, `basalt admin heal
 * --status` and `basalt admin info`, over the admin API of a running server
 * (client/client.h):
 *
 *   POST /basalt/admin/v1/heal?bucket=B&prefix=P  -> {"objects_scanned":N,...}
 *   GET  /basalt/admin/v1/heal/status             -> {"done":B,"nodes":[...]}
 *   GET  /basalt/admin/v1/info                    -> {"layout":"...","drives":[...],"nodes":[...]}
 *
 * and `basalt admin prometheus generate [--expiry DURATION]`, which prints a
 * Prometheus scrape job for /basalt/v1/metrics/node with a bearer token
 * signed by the secret key (auth/jwt.h), without asking the server, and
 * `basalt admin prometheus revoke` (POST /basalt/v1/metrics/revoke), after
 * which every node refuses the tokens generated until then.
 *
 * `basalt admin user|group|policy|svcacct|service ...` are dispatched to their own
 * files (cmd_admin_<group>.c, sharing cli/admin_run.c): they take an ALIAS
 * first, as mc admin does, and leave the environment alone.
 *
 * Errors come back as the S3 XML error document with a non-2xx status; its
 * Code and Message are printed. The server and credentials come from the
 * environment (BASALT_ENDPOINT, BASALT_ACCESS_KEY, BASALT_SECRET_KEY,
 * BASALT_REGION). Exit status: 0 on success, 1 on an error or when healing
 * left objects unhealed, 2 on a usage error.
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/alias.h"

#include <jansson.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "cli/admin_run.h"
#include "client/client.h"
#include "util/buf.h"
#include "util/clock.h"

#define ADMIN_PREFIX "/basalt/admin/v1/"
#define DEFAULT_ENDPOINT "http://127.0.0.1:9000"
#define DEFAULT_REGION "us-east-1"
#define METRICS_NODE_PATH "/basalt/v1/metrics/node"
#define METRICS_REVOKE_PATH "/basalt/v1/metrics/revoke"
#define DEFAULT_TOKEN_EXPIRY (365 * 86400LL) /* seconds */

struct admin_opts {
    const char *sub;    /* "heal", "info" or "prometheus" */
    const char *target; /* heal: BUCKET[/PREFIX], or NULL */
    bool json;
    bool status;    /* heal --status */
    int64_t expiry; /* prometheus generate: seconds the token is valid */
    bool revoke;    /* prometheus revoke */
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: basalt admin user add|list|info|enable|disable|remove ALIAS ...\n"
               "       basalt admin group add|remove|list|info|enable|disable ALIAS ...\n"
               "       basalt admin policy create|list|info|attach|detach|remove ALIAS ...\n"
               "       basalt admin svcacct add|list|info|edit|enable|disable|remove ALIAS ...\n"
               "       basalt admin service restart|stop ALIAS\n"
               "       basalt admin heal [--json] [BUCKET[/PREFIX]]\n"
               "       basalt admin heal --status [--json]\n"
               "       basalt admin info [--json]\n"
               "       basalt admin prometheus generate [--expiry DURATION]\n"
               "       basalt admin prometheus revoke\n\n"
               "  user, group, policy, svcacct\n"
               "                 users, groups, policies and service accounts of the server\n"
               "                 named by ALIAS ('basalt admin user --help' and so on)\n"
               "  service        restart or stop every node of the deployment at ALIAS\n"
               "                 gracefully ('basalt admin service --help')\n"
               "  heal           repair missing or corrupt shards (everything, a bucket, or a\n"
               "                 prefix), and wait for the report\n"
               "  heal --status  what every node heals in the background, objects below full\n"
               "                 redundancy, and whether healing is done (exit 0 only then)\n"
               "  info           show the layout, the nodes and the drives\n"
               "  prometheus generate\n"
               "                 print a Prometheus scrape job for this node's metrics with a\n"
               "                 bearer token signed by the secret key, valid for DURATION\n"
               "                 (90s, 30m, 24h, 7d; default 365d)\n"
               "  prometheus revoke\n"
               "                 refuse, on every node, every scrape token generated until now\n"
               "                 (tokens generated after the command returns are good)\n"
               "  --json         print the server's JSON answer as is\n\n"
               "environment: BASALT_ENDPOINT (default " DEFAULT_ENDPOINT "), BASALT_ACCESS_KEY,\n"
               "             BASALT_SECRET_KEY, BASALT_REGION (default " DEFAULT_REGION ")\n");
}

/* "90s", "30m", "24h", "7d" (a number alone is seconds) into seconds; -1 if not one. */
static int64_t
parse_expiry(const char *arg)
{
    size_t n = strlen(arg);
    uint64_t v, unit = 1;

    if (n > 1 && strchr("smhd", arg[n - 1])) {
        unit = arg[n - 1] == 's' ? 1 : arg[n - 1] == 'm' ? 60 : arg[n - 1] == 'h' ? 3600 : 86400;
        n--;
    }
    if (parse_u64(slice_make(arg, n), &v) < 0 || v == 0 || v > 36500ull * 86400 / unit)
        return -1;
    return (int64_t)(v * unit);
}

/* `prometheus generate [--expiry DURATION]`: 0, 2 on a usage error, -1 after --help. */
static int
parse_prometheus_args(int argc, char **argv, struct admin_opts *o)
{
    int i;

    o->expiry = DEFAULT_TOKEN_EXPIRY;
    if (argc < 3 || (strcmp(argv[2], "generate") && strcmp(argv[2], "revoke"))) {
        fprintf(stderr, "basalt admin prometheus: expected 'generate' or 'revoke'\n\n");
        usage(stderr);
        return 2;
    }
    o->revoke = !strcmp(argv[2], "revoke");
    for (i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return -1;
        }
        if (!strcmp(argv[i], "--expiry") && i + 1 < argc && !o->revoke) {
            o->expiry = parse_expiry(argv[++i]);
            if (o->expiry > 0)
                continue;
            fprintf(stderr,
                    "basalt admin prometheus generate: --expiry: '%s' is not a duration "
                    "such as 90s, 30m, 24h or 7d (at most 36500d)\n",
                    argv[i]);
            return 2;
        }
        fprintf(stderr, "basalt admin prometheus %s: unexpected argument '%s'\n", argv[2], argv[i]);
        return 2;
    }
    return 0;
}

/* Returns 0, or the exit status of a usage error (2), or -1 after --help. */
static int
parse_args(int argc, char **argv, struct admin_opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : -1;
    }
    o->sub = argv[1];
    if (!strcmp(o->sub, "prometheus"))
        return parse_prometheus_args(argc, argv, o);
    if (strcmp(o->sub, "heal") && strcmp(o->sub, "info")) {
        fprintf(stderr, "basalt admin: unknown subcommand '%s'\n\n", o->sub);
        usage(stderr);
        return 2;
    }
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            o->json = true;
        } else if (!strcmp(argv[i], "--status") && !strcmp(o->sub, "heal")) {
            o->status = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return -1;
        } else if (argv[i][0] == '-' || o->target || strcmp(o->sub, "heal")) {
            fprintf(stderr, "basalt admin %s: unexpected argument '%s'\n", o->sub, argv[i]);
            return 2;
        } else {
            o->target = argv[i];
        }
    }
    return 0;
}

static const char *
env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v && *v ? v : fallback;
}

/* Builds the client from the environment; prints why on failure. */
static int
admin_connect(struct client **c)
{
    const char *ak = env_or("BASALT_ACCESS_KEY", NULL);
    const char *sk = env_or("BASALT_SECRET_KEY", NULL);
    struct buf msg = BUF_INIT;
    int rc;

    if (!ak || !sk) {
        fprintf(stderr,
                "basalt admin: set BASALT_ACCESS_KEY and BASALT_SECRET_KEY to the "
                "credentials of an admin user (and BASALT_ENDPOINT, default " DEFAULT_ENDPOINT
                ")\n");
        return -1;
    }
    rc = client_new(env_or("BASALT_ENDPOINT", DEFAULT_ENDPOINT), ak, sk,
                    env_or("BASALT_REGION", DEFAULT_REGION), c, &msg);
    if (rc < 0)
        fprintf(stderr, "basalt admin: %s (from BASALT_ENDPOINT)\n", msg.ptr);
    else
        alias_client_tls(*c);
    buf_release(&msg);
    return rc;
}

/* Prints the S3 error of a non-2xx answer. */
static void
print_http_error(const struct client *c, const char *sub, long status, const struct buf *body)
{
    struct buf code = BUF_INIT, message = BUF_INIT;

    if (client_parse_error(buf_slice(body), &code, &message) == 0)
        fprintf(stderr, "basalt admin %s: %s: %s (HTTP %ld)\n", sub, code.ptr,
                message.len ? message.ptr : "no message", status);
    else
        fprintf(stderr, "basalt admin %s: %s answered HTTP %ld%s%.200s\n", sub, client_endpoint(c),
                status, body->len ? ": " : "", body->ptr);
    buf_release(&code);
    buf_release(&message);
}

/* Runs one admin call; 0 with the 2xx body in `body`, or -1 after printing the error. */
static int
admin_call(struct client *c, const char *sub, const char *method, const char *path,
           const char *query, struct buf *body)
{
    struct buf msg = BUF_INIT;
    struct client_call call = { .method = method, .path = path, .query = query, .response = body };
    long status = 0;
    int rc;

    /* retried like the other admin calls: heal and the reads are idempotent (admin_run.c) */
    call.body.fd = -1;
    call.retry = admin_retry_class(method, path + strlen(ADMIN_PREFIX));
    rc = client_call(c, &call, &msg);
    status = call.status;
    if (rc < 0)
        fprintf(stderr, "basalt admin %s: %s\n", sub, msg.ptr);
    else if (status < 200 || status > 299)
        print_http_error(c, sub, status, body);
    buf_release(&msg);
    return rc < 0 || status < 200 || status > 299 ? -1 : 0;
}

static json_t *
parse_json(const char *sub, const struct buf *body)
{
    json_error_t err;
    json_t *j = json_loadb(body->ptr, body->len, 0, &err);

    if (!j || !json_is_object(j)) {
        fprintf(stderr, "basalt admin %s: the server's answer is not a JSON object: %s\n", sub,
                j ? "wrong type" : err.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

static long long
jint(const json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

static void
print_heal_summary(const json_t *j)
{
    printf("healed %lld of %lld objects: %lld shards fixed (%lld missing, %lld corrupt), "
           "%lld failed\n",
           jint(j, "objects_healed"), jint(j, "objects_scanned"), jint(j, "shards_fixed"),
           jint(j, "shards_missing"), jint(j, "shards_corrupt"), jint(j, "objects_failed"));
    printf("%lld of %lld buckets healed, %lld dangling objects removed, %lld drives formatted\n",
           jint(j, "buckets_healed"), jint(j, "buckets_scanned"),
           jint(j, "objects_dangling_removed"), jint(j, "drives_formatted"));
}

/* The heal query from "BUCKET[/PREFIX]". */
static void
heal_query(const char *target, struct buf *q)
{
    const char *slash = target ? strchr(target, '/') : NULL;
    char *bucket;

    if (!target || !*target)
        return;
    bucket = slash ? xstrndup(target, (size_t)(slash - target)) : xstrdup(target);
    client_query_add(q, "bucket", bucket);
    if (slash && slash[1])
        client_query_add(q, "prefix", slash + 1);
    free(bucket);
}

static int
admin_heal(struct client *c, const struct admin_opts *o)
{
    struct buf q = BUF_INIT, body = BUF_INIT;
    json_t *j = NULL;
    int rc = 1;

    heal_query(o->target, &q);
    client_set_timeouts(c, CLIENT_CONNECT_TIMEOUT_MS, 0); /* a heal takes what it takes */
    if (admin_call(c, "heal", "POST", ADMIN_PREFIX "heal", q.ptr, &body) < 0)
        goto out;
    j = parse_json("heal", &body);
    if (!j)
        goto out;
    if (o->json)
        printf("%s%s", body.ptr, body.len && body.ptr[body.len - 1] == '\n' ? "" : "\n");
    else
        print_heal_summary(j);
    rc = jint(j, "objects_failed") > 0 ? 1 : 0;
out:
    json_decref(j);
    buf_release(&q);
    buf_release(&body);
    return rc;
}

static void fmt_bytes(struct buf *out, long long n);

/* "1 h 02 min", "45 s" */
static void
fmt_duration(struct buf *out, long long s)
{
    if (s >= 3600)
        buf_addf(out, "%lld h %02lld min", s / 3600, (s % 3600) / 60);
    else if (s >= 60)
        buf_addf(out, "%lld min %02lld s", s / 60, s % 60);
    else
        buf_addf(out, "%lld s", s);
}

/* One node's part of heal --status. */
static void
print_node_status(const json_t *n, long long now_ms)
{
    const json_t *h = json_object_get(n, "heal"), *s = json_object_get(n, "scanner");
    const char *name = json_string_value(json_object_get(n, "node")), *err;
    struct buf bytes = BUF_INIT, eta = BUF_INIT;
    long long scanned = jint(h, "objects_scanned"), est = jint(h, "objects_estimate");
    long long started = jint(h, "started_ms");

    err = json_string_value(json_object_get(n, "error"));
    if (err) {
        printf("%s: not answering (%s)\n", name ? name : "?", err);
        return;
    }
    printf("%s: %s\n", name ? name : "?",
           json_is_true(json_object_get(n, "done"))      ? "done"
           : json_is_true(json_object_get(h, "running")) ? "healing"
           : jint(n, "drives_offline")                   ? "waiting for offline drives"
                                                         : "checking");
    if (json_is_true(json_object_get(h, "running"))) {
        fmt_bytes(&bytes, jint(h, "bytes_scanned"));
        if (scanned && est > scanned && now_ms > started)
            fmt_duration(&eta, (est - scanned) * (now_ms - started) / scanned / 1000);
        printf("  heal: %lld objects (%s) scanned of about %lld, %lld healed, %lld failed%s%s\n",
               scanned, bytes.ptr, est, jint(h, "objects_healed"), jint(h, "objects_failed"),
               eta.len ? ", ETA " : "", eta.ptr);
    }
    printf("  queued %lld, waiting for offline drives %lld, drives offline %lld\n",
           jint(n, "queued"), jint(n, "parked"), jint(n, "drives_offline"));
    printf("  objects below full redundancy: %lld (last scan: %lld of %lld objects)\n",
           jint(s, "objects_below_redundancy") > jint(s, "last_below_redundancy")
               ? jint(s, "objects_below_redundancy")
               : jint(s, "last_below_redundancy"),
           jint(s, "last_below_redundancy"), jint(s, "last_objects"));
    if (json_is_true(json_object_get(s, "running")))
        printf("  scanning: %lld objects so far\n", jint(s, "objects_scanned"));
    buf_release(&bytes);
    buf_release(&eta);
}

static int
admin_heal_status(struct client *c, const struct admin_opts *o)
{
    struct buf body = BUF_INIT;
    json_t *j = NULL, *n;
    size_t i;
    int rc = 1;

    if (admin_call(c, "heal", "GET", ADMIN_PREFIX "heal/status", NULL, &body) < 0)
        goto out;
    j = parse_json("heal", &body);
    if (!j)
        goto out;
    if (o->json) {
        printf("%s%s", body.ptr, body.len && body.ptr[body.len - 1] == '\n' ? "" : "\n");
    } else {
        json_array_foreach(json_object_get(j, "nodes"), i, n)
            print_node_status(n, (long long)(clock_now_ns() / 1000000));
        printf("healing: %s\n", json_is_true(json_object_get(j, "done"))
                                    ? "done: nothing below full redundancy"
                                    : "not done");
    }
    rc = json_is_true(json_object_get(j, "done")) ? 0 : 1;
out:
    json_decref(j);
    buf_release(&body);
    return rc;
}

/* "1.5 GiB" */
static void
fmt_bytes(struct buf *out, long long n)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = (double)n;
    size_t u = 0;

    while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1024;
        u++;
    }
    buf_addf(out, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void
print_drive(const json_t *d)
{
    struct buf used = BUF_INIT, total = BUF_INIT;
    const char *ep = json_string_value(json_object_get(d, "endpoint"));
    long long t = jint(d, "total_bytes"), f = jint(d, "free_bytes");

    fmt_bytes(&used, t - f);
    fmt_bytes(&total, t);
    printf("  %3lld  %-7s  %10s / %-10s  %s\n", jint(d, "set"),
           json_is_true(json_object_get(d, "online"))
               ? "online"
               : (json_is_true(json_object_get(d, "hung")) ? "HUNG" : "OFFLINE"),
           used.ptr, total.ptr, ep ? ep : "?");
    buf_release(&used);
    buf_release(&total);
}

static void
print_nodes(const json_t *nodes)
{
    const json_t *n;
    size_t i;

    if (json_array_size(nodes) < 2)
        return; /* a single node */
    printf("nodes: %zu\n", json_array_size(nodes));
    json_array_foreach(nodes, i, n)
    {
        const char *name = json_string_value(json_object_get(n, "node"));
        const char *err = json_string_value(json_object_get(n, "error"));
        const char *ver = json_string_value(json_object_get(n, "version"));

        printf("  %-24s %s%s%s\n", name ? name : "?", err ? "DOWN (" : "up, basalt ",
               err ? err : (ver ? ver : "?"), err ? ")" : "");
    }
}

static void
print_info(const json_t *j)
{
    const char *layout = json_string_value(json_object_get(j, "layout"));
    json_t *drives = json_object_get(j, "drives"), *d;
    size_t i, online = 0;

    for (i = 0; i < json_array_size(drives); i++)
        online += json_is_true(json_object_get(json_array_get(drives, i), "online"));
    printf("layout: %s\n", layout ? layout : "?");
    print_nodes(json_object_get(j, "nodes"));
    printf("drives: %zu (%zu online)\n", json_array_size(drives), online);
    if (json_array_size(drives))
        printf("  %3s  %-7s  %10s / %-10s  %s\n", "SET", "STATE", "USED", "TOTAL", "ENDPOINT");
    for (i = 0; i < json_array_size(drives); i++) {
        d = json_array_get(drives, i);
        if (json_is_object(d))
            print_drive(d);
    }
}

static int
admin_info(struct client *c, const struct admin_opts *o)
{
    struct buf body = BUF_INIT;
    json_t *j = NULL;
    int rc = 1;

    if (admin_call(c, "info", "GET", ADMIN_PREFIX "info", NULL, &body) < 0)
        goto out;
    j = parse_json("info", &body);
    if (!j)
        goto out;
    if (o->json)
        printf("%s%s", body.ptr, body.len && body.ptr[body.len - 1] == '\n' ? "" : "\n");
    else
        print_info(j);
    rc = 0;
out:
    json_decref(j);
    buf_release(&body);
    return rc;
}

/*
 * Scheme, "host:port" and path prefix of an endpoint URL
 * ("https://s3.example.com:9000/storage"). false if it is not one.
 */
static bool
split_endpoint(const char *url, struct buf *scheme, struct buf *host, struct buf *prefix)
{
    const char *p = strstr(url, "://"), *slash;

    if (!p || p == url)
        return false;
    buf_add(scheme, url, (size_t)(p - url));
    p += 3;
    slash = strchr(p, '/');
    buf_add(host, p, slash ? (size_t)(slash - p) : strlen(p));
    if (slash)
        buf_adds(prefix, slash);
    while (prefix->len && prefix->ptr[prefix->len - 1] == '/')
        buf_setlen(prefix, prefix->len - 1);
    return host->len > 0 && !strchr(host->ptr, '\'') && !strchr(prefix->ptr, '\n');
}

/* Prints the scrape job, MinIO's `mc admin prometheus generate` format. */
static int
admin_prometheus_generate(const struct admin_opts *o)
{
    const char *ak = env_or("BASALT_ACCESS_KEY", NULL), *sk = env_or("BASALT_SECRET_KEY", NULL);
    const char *endpoint = env_or("BASALT_ENDPOINT", DEFAULT_ENDPOINT);
    struct buf token = BUF_INIT, scheme = BUF_INIT, host = BUF_INIT, prefix = BUF_INIT;
    int rc = 1;

    if (!ak || !sk) {
        fprintf(stderr, "basalt admin prometheus generate: set BASALT_ACCESS_KEY and "
                        "BASALT_SECRET_KEY to the root credentials (the token is signed with "
                        "the secret key)\n");
        return 1;
    }
    if (!split_endpoint(endpoint, &scheme, &host, &prefix)) {
        fprintf(stderr,
                "basalt admin prometheus generate: BASALT_ENDPOINT '%s' is not a URL "
                "such as http://127.0.0.1:9000\n",
                endpoint);
        goto out;
    }
    jwt_prometheus_sign(slice_cstr(sk), ak, clock_now_ns() / 1000000000LL,
                        clock_now_ns() / 1000000000LL + o->expiry, &token);
    printf("scrape_configs:\n"
           "- job_name: basalt-job\n"
           "  bearer_token: %s\n"
           "  metrics_path: %s" METRICS_NODE_PATH "\n"
           "  scheme: %s\n"
           "  static_configs:\n"
           "  - targets: ['%s']\n",
           token.ptr, prefix.ptr, scheme.ptr, host.ptr);
    rc = 0;
out:
    buf_release_secure(&token);
    buf_release(&scheme);
    buf_release(&host);
    buf_release(&prefix);
    return rc;
}

/*
 * `prometheus revoke`: the server refuses tokens issued before the time it
 * answers (the next whole second); waits until this machine's clock passes
 * it, so that a token generated next is good.
 */
static int
admin_prometheus_revoke(struct client *c)
{
    struct buf body = BUF_INIT;
    json_t *j = NULL;
    long long cut;
    int rc = 1;

    if (admin_call(c, "prometheus revoke", "POST", METRICS_REVOKE_PATH, NULL, &body) < 0)
        goto out;
    j = parse_json("prometheus revoke", &body);
    if (!j)
        goto out;
    cut = jint(j, "revoked_before");
    while (clock_now_ns() / 1000000000LL < cut)
        usleep(50000);
    printf("Scrape tokens generated before %lld (unix seconds) are refused by every node.\n", cut);
    rc = 0;
out:
    json_decref(j);
    buf_release(&body);
    return rc;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} identity_cmds[] = {
    { "user", cmd_admin_user },       { "group", cmd_admin_group },
    { "policy", cmd_admin_policy },   { "svcacct", cmd_admin_svcacct },
    { "service", cmd_admin_service },
};

int
cmd_admin(int argc, char **argv)
{
    struct admin_opts o;
    struct client *c = NULL;
    size_t i;
    int rc;

    for (i = 0; argc > 1 && i < ARRAY_SIZE(identity_cmds); i++)
        if (!strcmp(argv[1], identity_cmds[i].name))
            return identity_cmds[i].fn(argc - 1, argv + 1);
    rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!strcmp(o.sub, "prometheus") && !o.revoke)
        return admin_prometheus_generate(&o);
    if (admin_connect(&c) < 0)
        return 1;
    if (o.revoke)
        rc = admin_prometheus_revoke(c);
    else if (!strcmp(o.sub, "heal") && o.status)
        rc = admin_heal_status(c, &o);
    else if (!strcmp(o.sub, "heal"))
        rc = admin_heal(c, &o);
    else
        rc = admin_info(c, &o);
    client_free(c);
    return rc;
}

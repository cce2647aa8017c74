/*
 * s3/metrics.c: the S3 layer's metrics (STYLE 2.8) and the endpoint that
 * serves the registry, GET /basalt/v1/metrics/node (docs/metrics.md).
 *
 * Every request that reaches s3_handle() is counted once, when it completes
 * (http_req_on_done): by API (the s3_op) and status class, its duration
 * from the request line to the last byte sent, the body bytes received and
 * sent, and the S3 error code it was answered with. Label values are fixed
 * at start-up (every operation, every status class, every code of
 * errors.def), so counting is a few relaxed atomic adds at computed
 * indices. A request whose connection closed before any answer was made is
 * counted as canceled instead.
 *
 * The endpoint answers without authentication when the server was started
 * with BASALT_PROMETHEUS_AUTH=public (MINIO_PROMETHEUS_AUTH_TYPE=public);
 * otherwise to a request signed by the root user, or carrying
 * "Authorization: Bearer <token>" made by `basalt admin prometheus
 * generate` (auth/jwt.h). Anything else is 403 AccessDenied, and says
 * nothing about the node.
 *
 * Revocation: POST /basalt/v1/metrics/revoke (signed, admin:Prometheus;
 * `basalt admin prometheus revoke`) stores a time in the system object
 * REVOCATION_KEY; every node reads it at each bearer scrape (a small
 * quorum read, 2 a minute per Prometheus job) and refuses tokens issued
 * before it. A failed read keeps the last value this node read.
 */
#include "util/base.h"

#include <jansson.h>

#include "auth/jwt.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "obs/metrics_set.h"
#include "object/objlayer.h"
#include "s3/internal.h"
#include "util/clock.h"
#include "util/err.h"

#define NS_PER_S 1000000000ull
#define REVOCATION_KEY "iam/prometheus/revocation.json" /* {"revoked_before": unix seconds} */
#define MS(n) ((n)*1000000ull)

static const char *const status_classes[] = { "2xx", "3xx", "4xx", "5xx" };

/* S3 codes answered in place of the table's (auth.c, router.c, sse.c), and the rest. */
static const char *const extra_codes[] = { "NotFound", "AuthorizationQueryParametersError",
                                           "InvalidEncryptionAlgorithmError", "Other" };

/* Request duration buckets: 1 ms to 5 min (uploads of large parts take minutes). */
static const uint64_t duration_bounds[] = {
    MS(1),   MS(2) + MS(1) / 2, MS(5),    MS(10),   MS(25),    MS(50),    MS(100),   MS(250),
    MS(500), MS(1000),          MS(2500), MS(5000), MS(10000), MS(30000), MS(60000), MS(300000),
};

struct s3_metrics {
    struct metric *requests; /* {api, status_class} */
    struct metric *duration; /* {api} */
    struct metric *ttfb;     /* {api}: GetObject only */
    struct metric *received; /* {api} */
    struct metric *sent;     /* {api} */
    struct metric *canceled; /* {api} */
    struct metric *errors;   /* {code} */
    struct metric *inflight;
    struct metric *slowdown;
    struct metric *mem_used;
    struct metric *mem_limit;
    const char *apis[S3_OP__COUNT];
    const char *codes[ERR__COUNT + ARRAY_SIZE(extra_codes)]; /* static strings */
    size_t ncodes;
    uint16_t code_of_err[ERR__COUNT]; /* index in codes of each error symbol's S3 code */
    size_t other, slowdown_code;
    struct s3 *s3;
};

/* Index of `code` in m->codes; adds it when `add`; else the "Other" index if absent. */
static size_t
code_index(struct s3_metrics *m, const char *code, bool add)
{
    size_t i;

    for (i = 0; i < m->ncodes; i++)
        if (!strcmp(m->codes[i], code))
            return i;
    if (!add)
        return m->other;
    m->codes[m->ncodes] = code;
    return m->ncodes++;
}

static void
build_codes(struct s3_metrics *m)
{
    size_t i;

    for (i = 1; i < ERR__COUNT; i++) /* 0 is OK */
        m->code_of_err[i] = (uint16_t)code_index(m, s3_error_lookup((int)i)->code, true);
    for (i = 0; i < ARRAY_SIZE(extra_codes); i++)
        code_index(m, extra_codes[i], true);
    m->other = code_index(m, "Other", false);
    m->slowdown_code = code_index(m, "SlowDown", false);
}

static void
collect(void *arg)
{
    struct s3_metrics *m = arg;

    metric_set(m->mem_used, 0,
               (int64_t)atomic_load_explicit(&m->s3->mem_used, memory_order_relaxed));
}

static struct metric *
reg(struct metrics *r, enum metric_type t, const char *name, const char *help,
    const struct metric_dim *dims, size_t ndims)
{
    return metrics_register(r, t, name, help, dims, ndims, NULL, 0, 1);
}

void
s3__metrics_init(struct s3 *s, struct metrics *r)
{
    struct s3_metrics *m;
    static const char *const get_object[] = { "GetObject" };
    struct metric_dim api, cls, code, ttfb_api = { "api", get_object, 1 };
    size_t i;

    atomic_store(&s->metrics_revoked_before, -1); /* not read yet */
    if (!r)
        return;
    m = xcalloc(1, sizeof(*m));
    m->s3 = s;
    for (i = 0; i < S3_OP__COUNT; i++)
        m->apis[i] = s3_op_name((enum s3_op)i);
    build_codes(m);
    api = (struct metric_dim){ "api", m->apis, S3_OP__COUNT };
    cls = (struct metric_dim){ "status_class", status_classes, ARRAY_SIZE(status_classes) };
    code = (struct metric_dim){ "code", m->codes, m->ncodes };
    m->requests =
        reg(r, METRIC_COUNTER, "basalt_s3_requests_total",
            "S3 requests answered, by API and status class.", (struct metric_dim[]){ api, cls }, 2);
    m->duration =
        metrics_register(r, METRIC_HISTOGRAM, "basalt_s3_request_duration_seconds",
                         "Time from the request line to the last byte of the answer, by API.", &api,
                         1, duration_bounds, ARRAY_SIZE(duration_bounds), NS_PER_S);
    m->ttfb =
        metrics_register(r, METRIC_HISTOGRAM, "basalt_s3_ttfb_seconds",
                         "Time from the request line to the first byte of the answer, GET "
                         "of an object.",
                         &ttfb_api, 1, duration_bounds, ARRAY_SIZE(duration_bounds), NS_PER_S);
    m->received = reg(r, METRIC_COUNTER, "basalt_s3_received_bytes_total",
                      "Request body bytes received, by API.", &api, 1);
    m->sent = reg(r, METRIC_COUNTER, "basalt_s3_sent_bytes_total",
                  "Response body bytes sent, by API.", &api, 1);
    m->canceled = reg(r, METRIC_COUNTER, "basalt_s3_requests_canceled_total",
                      "S3 requests whose connection closed before any answer, by API.", &api, 1);
    m->errors = reg(r, METRIC_COUNTER, "basalt_s3_errors_total",
                    "S3 error answers, by S3 error code.", &code, 1);
    m->inflight =
        reg(r, METRIC_GAUGE, "basalt_s3_requests_inflight", "S3 requests being served.", NULL, 0);
    m->slowdown = reg(r, METRIC_COUNTER, "basalt_s3_slowdown_total",
                      "503 SlowDown answers (busy, or drives missing).", NULL, 0);
    m->mem_used = reg(r, METRIC_GAUGE, "basalt_s3_memory_budget_used_bytes",
                      "Bytes of streaming buffers reserved by requests in flight.", NULL, 0);
    m->mem_limit = reg(r, METRIC_GAUGE, "basalt_s3_memory_budget_bytes",
                       "The memory budget of streaming buffers (--max-memory).", NULL, 0);
    metric_set(m->mem_limit, 0, (int64_t)s->max_memory);
    metrics_add_collector(r, collect, m);
    s->metrics = m;
    s->metrics_registry = r;
}

void
s3__metrics_release(struct s3 *s)
{
    free(s->metrics);
    s->metrics = NULL;
}

static void
count_error(struct s3_metrics *m, const struct s3_call *call)
{
    int err = -call->err;
    size_t idx;

    if (call->err_code)
        idx = code_index(m, call->err_code, false); /* error answers only: a short scan */
    else
        idx = err > 0 && err < ERR__COUNT ? m->code_of_err[err]
                                          : code_index(m, "InternalError", false);
    metric_add(m->errors, idx, 1);
    if (idx == m->slowdown_code)
        metric_add(m->slowdown, 0, 1);
}

static void
request_done(struct http_req *req, const struct http_done *d)
{
    struct s3_call *call = req->ctx;
    struct s3_metrics *m = call->s3->metrics;
    size_t op = (size_t)call->op < S3_OP__COUNT ? (size_t)call->op : S3_OP_NONE;
    size_t cls;

    s3__audit_done(call, d);
    if (!m)
        return;
    metric_sub(m->inflight, 0, 1);
    if (d->status == 0) {
        metric_add(m->canceled, op, 1);
        return;
    }
    cls = d->status < 300 ? 0 : d->status < 400 ? 1 : d->status < 500 ? 2 : 3;
    metric_add(m->requests, metric_series(m->requests, op, cls), 1);
    metric_observe(m->duration, op, d->duration_ns > 0 ? (uint64_t)d->duration_ns : 0);
    if (op == S3_OP_GET_OBJECT && d->ttfb_ns > 0)
        metric_observe(m->ttfb, 0, (uint64_t)d->ttfb_ns);
    if (d->bytes_in)
        metric_add(m->received, op, d->bytes_in);
    if (d->bytes_out)
        metric_add(m->sent, op, d->bytes_out);
    if (call->err && d->status >= 300)
        count_error(m, call);
}

void
s3__metrics_begin(struct s3_call *call)
{
    struct s3_metrics *m = call->s3->metrics;

    if (!m && !call->s3->audit)
        return;
    if (m)
        metric_add(m->inflight, 0, 1);
    http_req_on_done(call->req, request_done);
}

/* ---- the endpoint ---- */

/* The token of "Authorization: Bearer <token>"; false if the header is not that. */
static bool
bearer_token(const struct http_req *req, struct slice *token)
{
    struct slice v;

    if (!http_req_header(req, "authorization", &v))
        return false;
    v = slice_trim(v);
    if (v.len < 6 || !slice_case_eq(slice_make(v.ptr, 6), SLICE_LIT("Bearer")) ||
        (v.len > 6 && v.ptr[6] != ' '))
        return false;
    *token = slice_trim(slice_make(v.ptr + 6, v.len - 6)); /* empty: refused by the check */
    return true;
}

/* The stored revocation time (0: none); -ERR_NOT_FOUND if none is stored, or the read's error. */
static int
revocation_read(struct s3 *s, int64_t *out)
{
    struct buf doc = BUF_INIT;
    json_t *j = NULL;
    int rc = objlayer_sys_get(s->ol, NULL, REVOCATION_KEY, &doc);

    if (rc == 0) {
        j = json_loadb(doc.ptr, doc.len, 0, NULL);
        if (json_is_integer(json_object_get(j, "revoked_before")))
            *out = json_integer_value(json_object_get(j, "revoked_before"));
        else
            rc = -ERR_CORRUPT;
    }
    json_decref(j);
    buf_release(&doc);
    return rc;
}

/*
 * The time before which tokens are refused: read now, or on an error this
 * node's last successful read; an error when there was none (a node just
 * started, its drives or peers not answering yet), so that a revoked token
 * is never accepted for want of knowing (fail closed).
 */
static int
revoked_before(struct s3 *s, int64_t *out)
{
    int64_t v = 0;
    int rc = revocation_read(s, &v);

    if (rc == -ERR_NOT_FOUND) {
        v = 0;
    } else if (rc < 0) {
        v = atomic_load_explicit(&s->metrics_revoked_before, memory_order_relaxed);
        if (v < 0)
            return rc;
        *out = v;
        return 0;
    }
    atomic_store_explicit(&s->metrics_revoked_before, v, memory_order_relaxed);
    *out = v;
    return 0;
}

/*
 * POST /basalt/v1/metrics/revoke: every token issued before the next whole
 * second is refused from now on, on every node (the later of this and any
 * stored time is kept). Answers {"revoked_before": N}.
 */
static void
metrics_revoke(struct s3_call *call)
{
    struct s3 *s = call->s3;
    int64_t now = clock_now_ns() / (int64_t)NS_PER_S, old = 0, cut = now + 1;
    json_t *doc;
    char *text;
    int rc = revocation_read(s, &old);

    if (rc < 0 && rc != -ERR_NOT_FOUND) {
        s3__send_error(call, rc, NULL);
        return;
    }
    cut = MAX(cut, old);
    doc = json_pack("{sI}", "revoked_before", (json_int_t)cut);
    text = json_dumps(doc, JSON_COMPACT);
    BUG_ON(!text);
    rc = objlayer_sys_put(s->ol, NULL, REVOCATION_KEY, slice_cstr(text));
    free(text);
    if (rc < 0) {
        json_decref(doc);
        s3__send_error(call, rc, NULL);
        return;
    }
    atomic_store_explicit(&s->metrics_revoked_before, cut, memory_order_relaxed);
    log_info(&(struct log_ctx){ .event = "prometheus_tokens_revoked" },
             "scrape tokens issued before %lld (unix seconds) are refused", (long long)cut);
    s3__send_json(call, doc);
}

bool
s3__metrics_preauth(struct s3_call *call)
{
    struct s3 *s = call->s3;
    struct slice token;
    int rc;

    if (call->sys_key && !strcmp(call->sys_key, "v1/metrics/revoke"))
        return false; /* signed by an admin, public switch or not */
    if (!s->metrics_public) {
        int64_t now = clock_now_ns() / (int64_t)NS_PER_S, cut = 0;

        if (!bearer_token(call->req, &token))
            return false;
        /* The signature and claims first: only a token of ours costs the revocation read. */
        rc = jwt_prometheus_verify(token, buf_slice(&s->root_secret), s->root_user, now, 0);
        if (rc == 0) {
            rc = revoked_before(s, &cut);
            if (rc < 0) {
                s3__send_error(call, -ERR_QUORUM, NULL); /* 503: try again */
                return true;
            }
            if (cut > 0)
                rc = jwt_prometheus_verify(token, buf_slice(&s->root_secret), s->root_user, now,
                                           cut);
        }
        if (rc < 0) { /* expired, tampered, another key: the same answer for all */
            s3__send_error(call, -ERR_ACCESS_DENIED, NULL);
            return true;
        }
    }
    s3__metrics_node(call);
    return true;
}

/*
 * MinIO's v2 names (docs/metrics.md) of Basalt's series: a translation of
 * the same samples, not counters of their own. `server` stays where the
 * Basalt series has it (a cluster scrape labels every node's series).
 */
static const struct metrics_rule minio_cluster_rules[] = {
    { "minio_cluster_nodes_online_total", "basalt_cluster_nodes_online_total", 0, 0, 0, 0, 0 },
    { "minio_cluster_nodes_offline_total", "basalt_cluster_nodes_offline_total", 0, 0, 0, 0, 0 },
    { "minio_cluster_drive_online_total", "basalt_cluster_drives_online_total", 0, 0, 0, 0, 0 },
    { "minio_cluster_drive_offline_total", "basalt_cluster_drives_offline_total", 0, 0, 0, 0, 0 },
    { "minio_cluster_drive_total", "basalt_cluster_drives_total", 0, 0, 0, 0, 0 },
    { "minio_cluster_capacity_raw_total_bytes", "basalt_cluster_capacity_raw_total_bytes", 0, 0, 0,
      0, 0 },
    { "minio_cluster_capacity_raw_free_bytes", "basalt_cluster_capacity_raw_free_bytes", 0, 0, 0, 0,
      0 },
    { "minio_cluster_capacity_usable_total_bytes", "basalt_cluster_capacity_usable_total_bytes", 0,
      0, 0, 0, 0 },
    { "minio_cluster_capacity_usable_free_bytes", "basalt_cluster_capacity_usable_free_bytes", 0, 0,
      0, 0, 0 },
};

static const struct metrics_rule minio_node_rules[] = {
    { "minio_s3_requests_total", "basalt_s3_requests_total", 0, "Total number of S3 requests.",
      "server,api", 0, 0 },
    { "minio_s3_requests_errors_total", "basalt_s3_requests_total", 0,
      "Total number of S3 requests with (4xx and 5xx) errors.", "server,api",
      "status_class=4xx|5xx", 0 },
    { "minio_s3_requests_4xx_errors_total", "basalt_s3_requests_total", 0,
      "Total number of S3 requests with (4xx) errors.", "server,api", "status_class=4xx", 0 },
    { "minio_s3_requests_5xx_errors_total", "basalt_s3_requests_total", 0,
      "Total number of S3 requests with (5xx) errors.", "server,api", "status_class=5xx", 0 },
    { "minio_s3_requests_canceled_total", "basalt_s3_requests_canceled_total", 0,
      "Total number of S3 requests that were canceled by the client.", 0, 0, 0 },
    { "minio_s3_requests_inflight_total", "basalt_s3_requests_inflight", 0,
      "Total number of S3 requests currently in flight.", 0, 0, 0 },
    { "minio_s3_traffic_received_bytes", "basalt_s3_received_bytes_total", "counter",
      "Total number of s3 bytes received.", "server", 0, 0 },
    { "minio_s3_traffic_sent_bytes", "basalt_s3_sent_bytes_total", "counter",
      "Total number of s3 bytes sent.", "server", 0, 0 },
    { "minio_s3_requests_ttfb_seconds_distribution", "basalt_s3_ttfb_seconds", "counter",
      "Distribution of the time to first byte across API calls.", 0, 0, "_bucket" },
    { "minio_node_drive_free_bytes", "basalt_drive_free_bytes", 0,
      "Total storage available on a drive.", 0, 0, 0 },
    { "minio_node_drive_total_bytes", "basalt_drive_total_bytes", 0, "Total storage on a drive.", 0,
      0, 0 },
    { "minio_node_drive_used_bytes", "basalt_drive_used_bytes", 0, "Total storage used on a drive.",
      0, 0, 0 },
    { "minio_node_drive_online_total", "basalt_node_drives_online", 0,
      "Total drives online in this node.", 0, 0, 0 },
    { "minio_node_drive_offline_total", "basalt_node_drives_offline", 0,
      "Total drives offline in this node.", 0, 0, 0 },
    { "minio_node_process_uptime_seconds", "basalt_uptime_seconds", 0,
      "Uptime for MinIO process per node in seconds.", 0, 0, 0 },
    { "minio_node_process_starttime_seconds", "process_start_time_seconds", 0,
      "Start time for MinIO process per node, time in seconds since Unix epoc.", 0, 0, 0 },
    { "minio_node_process_resident_memory_bytes", "process_resident_memory_bytes", 0,
      "Resident memory size in bytes.", 0, 0, 0 },
    { "minio_node_process_cpu_total_seconds", "process_cpu_seconds_total", 0,
      "Total user and system CPU time spent in seconds.", 0, 0, 0 },
    { "minio_node_file_descriptor_open_total", "process_open_fds", 0,
      "Total number of open file descriptors by the MinIO Server process.", 0, 0, 0 },
    { "minio_node_file_descriptor_limit_total", "process_max_fds", 0,
      "Limit on total number of open file descriptors for the MinIO Server process.", 0, 0, 0 },
    { "minio_software_version_info", "basalt_build_info", 0, "MinIO Release tag for the server.", 0,
      0, 0 },
    { "minio_heal_objects_total", "basalt_heal_objects_scanned", 0,
      "Objects scanned in current self healing run.", 0, 0, 0 },
    { "minio_heal_objects_heal_total", "basalt_heal_objects_healed", 0,
      "Objects healed in current self healing run.", 0, 0, 0 },
    { "minio_heal_objects_errors_total", "basalt_heal_objects_failed", 0,
      "Objects for which healing failed in current self healing run.", 0, 0, 0 },
};

/*
 * Bucket usage: every node counts its scanner share of the keys, so the
 * cluster's figure is the nodes' sum (`server` dropped); the cluster
 * totals sum over the buckets too.
 */
static const struct metrics_rule minio_bucket_rules[] = {
    { "minio_bucket_usage_total_bytes", "basalt_bucket_usage_bytes", 0,
      "Total bucket size in bytes.", "bucket", 0, 0 },
    { "minio_bucket_usage_object_total", "basalt_bucket_usage_objects", 0,
      "Total number of objects.", "bucket", 0, 0 },
    { "minio_bucket_usage_version_total", "basalt_bucket_usage_versions", 0,
      "Total number of versions (includes delete marker).", "bucket", 0, 0 },
    { "minio_bucket_objects_size_distribution", "basalt_bucket_objects_size_distribution", 0,
      "Distribution of object sizes in the bucket, includes label for the bucket name.",
      "bucket,range", 0, 0 },
};

static const struct metrics_rule minio_cluster_usage_rules[] = {
    { "minio_cluster_usage_total_bytes", "basalt_bucket_usage_bytes", 0,
      "Total cluster usage in bytes.", "", 0, 0 },
    { "minio_cluster_usage_object_total", "basalt_bucket_usage_objects", 0,
      "Total number of objects in a cluster.", "", 0, 0 },
    { "minio_cluster_usage_version_total", "basalt_bucket_usage_versions", 0,
      "Total number of versions (includes delete marker) in a cluster.", "", 0, 0 },
    { "minio_cluster_objects_size_distribution", "basalt_bucket_objects_size_distribution", 0,
      "Distribution of object sizes across a cluster.", "range", 0, 0 },
    { "minio_cluster_bucket_total", "basalt_cluster_buckets_total", 0,
      "Total number of buckets in the cluster.", 0, 0, 0 },
};

bool
s3__is_minio_metrics(const char *bucket, const char *key)
{
    return !strcmp(bucket, "minio") &&
           (!strcmp(key, "v2/metrics/node") || !strcmp(key, "v2/metrics/cluster") ||
            !strcmp(key, "v2/metrics/bucket"));
}

struct gather {
    struct metrics_set *set;
    unsigned online, offline;
};

static void
gather_node(void *ctx, const char *node, struct slice text, const char *err)
{
    struct gather *g = ctx;
    char why[256];

    if (err) {
        snprintf(why, sizeof(why), "basalt: node %s did not answer: %s", node, err);
        metrics_set_comment(g->set, why);
        g->offline++;
    } else {
        metrics_set_add_text(g->set, text, "server", node);
        g->online++;
    }
    metrics_set_add(g->set, "gauge", "basalt_cluster_scrape_errors",
                    "1 if the node did not answer this scrape.", "server", node, err ? 1 : 0);
}

/* The cluster-wide gauges, from every node's series and this node's view of the drives. */
static void
add_cluster_gauges(struct s3 *s, struct gather *g)
{
    static const char *const caps[] = { "raw_total", "raw_free", "usable_total", "usable_free" };
    struct metrics_set *set = g->set;
    double drives = (double)objlayer_drives(s->ol, NULL, 0),
           up = metrics_set_sum(set, "basalt_node_drives_online", NULL, NULL);
    char from[96], to[96];
    size_t i;

    metrics_set_add(set, "gauge", "basalt_cluster_nodes_online_total", "Nodes that answered.", NULL,
                    NULL, g->online);
    metrics_set_add(set, "gauge", "basalt_cluster_nodes_offline_total",
                    "Nodes that did not answer (named by basalt_cluster_scrape_errors).", NULL,
                    NULL, g->offline);
    metrics_set_add(set, "gauge", "basalt_cluster_drives_total", "Drives of the deployment.", NULL,
                    NULL, drives);
    metrics_set_add(set, "gauge", "basalt_cluster_drives_online_total",
                    "Drives online, as the nodes that answered report theirs.", NULL, NULL, up);
    metrics_set_add(set, "gauge", "basalt_cluster_drives_offline_total",
                    "Drives not reported online (those of nodes that did not answer included).",
                    NULL, NULL, drives > up ? drives - up : 0);
    /* buckets are the cluster's: this node's scanner saw them all (NaN-free: 0 before a cycle) */
    metrics_set_add(set, "gauge", "basalt_cluster_buckets_total",
                    "User buckets, as this node's last whole scanner cycle counted them.", NULL,
                    NULL, metrics_set_sum(set, "basalt_bucket_usage_buckets", "server", s->node));
    for (i = 0; i < ARRAY_SIZE(caps); i++) {
        snprintf(from, sizeof(from), "basalt_node_capacity_%s_bytes", caps[i]);
        snprintf(to, sizeof(to), "basalt_cluster_capacity_%s_bytes", caps[i]);
        metrics_set_add(set, "gauge", to,
                        "The nodes' basalt_node_capacity_*_bytes summed (drives online).", NULL,
                        NULL, metrics_set_sum(set, from, NULL, NULL));
    }
}

/* Every node's series (this one's and, in a cluster, the others'), with the cluster gauges. */
static struct metrics_set *
gather_cluster(struct s3 *s, bool with_peers)
{
    struct gather g = { .set = metrics_set_new() };
    struct buf text = BUF_INIT;

    metrics_expose(s->metrics_registry, &text);
    gather_node(&g, s->node, buf_slice(&text), NULL);
    buf_release(&text);
    if (with_peers && s->peer_metrics)
        s->peer_metrics(s->peers_arg, gather_node, &g);
    if (with_peers)
        add_cluster_gauges(s, &g);
    return g.set;
}

void
s3__metrics_node(struct s3_call *call)
{
    struct metrics *r = call->s3->metrics_registry;
    const char *key = call->sys_key ? call->sys_key : "";
    struct buf body = BUF_INIT;
    enum metrics_format fmt;
    struct slice accept;
    char *accept_s = NULL;

    if (!strcmp(key, "v1/metrics/revoke")) {
        metrics_revoke(call);
        return;
    }
    if (!r) {
        s3__send_error(call, -ERR_NOT_IMPLEMENTED, "This server keeps no metrics.");
        return;
    }
    if (http_req_header(call->req, "accept", &accept))
        accept_s = arena_slicedup(call->req->arena, accept);
    fmt = metrics_format_accepted(accept_s);
    if (!strcmp(key, "v1/metrics/node")) {
        metrics_expose_format(r, &body, fmt);
    } else {
        bool minio = !strncmp(key, "v2/", 3), node = strstr(key, "/node") != NULL,
             bucket = strstr(key, "/bucket") != NULL;
        struct metrics_set *all = gather_cluster(call->s3, !node), *out;

        if (!minio) {
            metrics_set_write(all, &body, fmt);
        } else {
            out = metrics_set_new();
            if (bucket) {
                metrics_set_translate(all, minio_bucket_rules, ARRAY_SIZE(minio_bucket_rules), out);
            } else {
                metrics_set_translate(all, minio_cluster_rules, ARRAY_SIZE(minio_cluster_rules),
                                      out);
                if (!node)
                    metrics_set_translate(all, minio_cluster_usage_rules,
                                          ARRAY_SIZE(minio_cluster_usage_rules), out);
                metrics_set_translate(all, minio_node_rules, ARRAY_SIZE(minio_node_rules), out);
            }
            metrics_set_write(out, &body, fmt);
            metrics_set_free(out);
        }
        metrics_set_free(all);
    }
    http_resp_header(call->req, "Content-Type", metrics_content_type(fmt));
    if (call->req->is_head)
        buf_clear(&body);
    http_resp_buf(call->req, 200, &body);
    buf_release(&body);
}

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
 */
#include "util/base.h"

#include "auth/jwt.h"
#include "obs/metrics.h"
#include "s3/internal.h"
#include "util/clock.h"
#include "util/err.h"

#define NS_PER_S 1000000000ull
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
    struct metric_dim api, cls, code;
    size_t i;

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

bool
s3__metrics_preauth(struct s3_call *call)
{
    struct s3 *s = call->s3;
    struct slice token;
    int rc;

    if (!s->metrics_public) {
        if (!bearer_token(call->req, &token))
            return false;
        rc = jwt_prometheus_verify(token, buf_slice(&s->root_secret), s->root_user,
                                   clock_now_ns() / (int64_t)NS_PER_S);
        if (rc < 0) { /* expired, tampered, another key: the same answer for all */
            s3__send_error(call, -ERR_ACCESS_DENIED, NULL);
            return true;
        }
    }
    s3__metrics_node(call);
    return true;
}

void
s3__metrics_node(struct s3_call *call)
{
    struct metrics *r = call->s3->metrics_registry;
    struct buf body = BUF_INIT;

    if (!r) {
        s3__send_error(call, -ERR_NOT_IMPLEMENTED, "This server keeps no metrics.");
        return;
    }
    metrics_expose(r, &body);
    http_resp_header(call->req, "Content-Type", METRICS_CONTENT_TYPE);
    if (call->req->is_head)
        buf_clear(&body);
    http_resp_buf(call->req, 200, &body);
    buf_release(&body);
}

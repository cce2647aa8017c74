/*
 * cluster/rpc_server.c: verification and dispatch of incoming RPC requests
 * (see rpc_server.h for the order of the checks and the refusal codes).
 *
 * Life of a request on the connection thread (http/http.h's model):
 *
 *   rpc_server_handle()          version, signed headers, time, replay (peek),
 *        |                       route; refusals answer here, before the body
 *        +-- plain route ------> body_plain() gathers <= RPC_MAX_BODY bytes
 *        |                       end_plain(): digest, replay (record), handler
 *        +-- streaming route --> replay (record), ops->begin()
 *                                body_stream(): frames -> ops->data()
 *                                end_stream(): tag -> ops->end(ok)
 *                                stream_gone() (arena cleanup): ops->end(false)
 *                                if the connection died first
 *
 * A plain call records its sequence number only once its body checked out,
 * so a copy with a tampered body cannot burn the genuine call's number; a
 * stream records it before its handler starts writing.
 */
#include "util/base.h"

#include "cluster/rpc_server.h"

#include <pthread.h>

#include "cluster/rpc_frame.h"
#include "http/http.h"
#include "obs/log.h"
#include "util/clock.h"
#include "util/err.h"

#define LOG_SLOTS 64
#define LOG_INTERVAL_NS (60 * 1000000000ll)
#define LOG_BURST 100 /* refusal lines a minute, all senders together */

/* The versions this node answers: its own and the previous one (none yet). */
static const unsigned rpc_versions[] = { RPC_VERSION };

struct route {
    char *method;
    char *path;
    rpc_handler_fn *handler;          /* plain */
    const struct rpc_stream_ops *ops; /* streaming */
    void *arg;
};

/* When a sender's refusals were last logged. */
struct log_slot {
    char node[64];
    int64_t at_ns;
};

struct rpc_server {
    struct rpc_key key;       /* immutable */
    struct rpc_identity self; /* immutable */
    struct route *routes;     /* immutable while serving */
    size_t nroutes;
    struct rpc_replay *replay; /* internally locked */
    pthread_mutex_t log_lock;  /* protects logs[], log_minute_ns, log_lines */
    struct log_slot logs[LOG_SLOTS];
    int64_t log_minute_ns;
    unsigned log_lines;
    int64_t clock_offset_ns; /* tests; set before serving */
};

/* Per-request state, in the request's arena. */
struct call {
    struct rpc_server *srv;
    struct rpc_req r;
    struct rpc_auth_hdr h;
    const struct route *route;
    struct buf body;                /* plain */
    struct rpc_frame_parser parser; /* streaming */
    bool ended;                     /* streaming: ops->end() ran */
    int data_rc;                    /* streaming: the last ops->data() result */
};

static void route_health(void *arg, struct rpc_req *r);

struct rpc_server *
rpc_server_new(const struct rpc_key *key, const struct rpc_identity *self)
{
    struct rpc_server *srv = xcalloc(1, sizeof(*srv));

    srv->key = *key;
    srv->self = *self;
    srv->replay = rpc_replay_new();
    BUG_ON(pthread_mutex_init(&srv->log_lock, NULL) != 0);
    BUG_ON(rpc_server_route(srv, "GET", "/health", route_health, srv) != 0);
    return srv;
}

void
rpc_server_free(struct rpc_server *srv)
{
    size_t i;

    if (!srv)
        return;
    for (i = 0; i < srv->nroutes; i++) {
        free(srv->routes[i].method);
        free(srv->routes[i].path);
    }
    free(srv->routes);
    rpc_replay_free(srv->replay);
    pthread_mutex_destroy(&srv->log_lock);
    secure_zero(&srv->key, sizeof(srv->key));
    free(srv);
}

void
rpc_server_set_clock_offset(struct rpc_server *srv, int64_t ns)
{
    srv->clock_offset_ns = ns;
}

static const struct route *
route_find(const struct rpc_server *srv, struct slice method, struct slice path)
{
    size_t i;

    for (i = 0; i < srv->nroutes; i++) {
        if (slice_eq_cstr(path, srv->routes[i].path) &&
            slice_eq_cstr(method, srv->routes[i].method))
            return &srv->routes[i];
    }
    return NULL;
}

static int
route_add(struct rpc_server *srv, const char *method, const char *path, rpc_handler_fn *handler,
          const struct rpc_stream_ops *ops, void *arg)
{
    struct route *rt;

    if (!method || !method[0] || !path || path[0] != '/')
        return -ERR_INVAL;
    if (route_find(srv, slice_cstr(method), slice_cstr(path)))
        return -ERR_EXISTS;
    srv->routes = xrealloc(srv->routes, (srv->nroutes + 1) * sizeof(*srv->routes));
    rt = &srv->routes[srv->nroutes++];
    rt->method = xstrdup(method);
    rt->path = xstrdup(path);
    rt->handler = handler;
    rt->ops = ops;
    rt->arg = arg;
    return 0;
}

int
rpc_server_route(struct rpc_server *srv, const char *method, const char *path,
                 rpc_handler_fn *handler, void *arg)
{
    return handler ? route_add(srv, method, path, handler, NULL, arg) : -ERR_INVAL;
}

int
rpc_server_route_stream(struct rpc_server *srv, const char *method, const char *path,
                        const struct rpc_stream_ops *ops, void *arg)
{
    if (!ops || !ops->begin || !ops->data || !ops->end)
        return -ERR_INVAL;
    return route_add(srv, method, path, NULL, ops, arg);
}

/* ---- refusals ---- */

/*
 * Whether a refusal from `node` may be logged now: once a minute per sender,
 * and at most LOG_BURST lines a minute in all (a sender's name is whatever
 * an unauthenticated caller claims, so the per-sender table alone would not
 * bound the log).
 */
static bool
log_allowed(struct rpc_server *srv, struct slice node)
{
    int64_t now = clock_mono_ns();
    size_t i, oldest = 0;
    bool ok = true;

    node.len = MIN(node.len, sizeof(srv->logs[0].node) - 1);
    pthread_mutex_lock(&srv->log_lock);
    if (now - srv->log_minute_ns >= LOG_INTERVAL_NS) {
        srv->log_minute_ns = now;
        srv->log_lines = 0;
    }
    if (srv->log_lines >= LOG_BURST) {
        pthread_mutex_unlock(&srv->log_lock);
        return false;
    }
    for (i = 0; i < LOG_SLOTS; i++) {
        if (slice_eq_cstr(node, srv->logs[i].node) && srv->logs[i].at_ns)
            break;
        if (srv->logs[i].at_ns < srv->logs[oldest].at_ns)
            oldest = i;
    }
    if (i < LOG_SLOTS) {
        ok = now - srv->logs[i].at_ns >= LOG_INTERVAL_NS;
        if (ok)
            srv->logs[i].at_ns = now;
    } else {
        memcpy(srv->logs[oldest].node, node.ptr, node.len);
        srv->logs[oldest].node[node.len] = '\0';
        srv->logs[oldest].at_ns = now;
    }
    srv->log_lines += ok;
    pthread_mutex_unlock(&srv->log_lock);
    return ok;
}

/* Answers a refusal: status, code header, one sentence; logs it (rate-limited). */
static void
refuse(struct rpc_server *srv, struct http_req *req, unsigned status, const char *code,
       struct slice node, const char *why)
{
    struct buf b = BUF_INIT;

    if (!rpc_node_id_valid(node))
        node = SLICE_LIT("(unknown sender)");
    if (log_allowed(srv, node))
        log_warn(&(struct log_ctx){ .request_id = req->id, .event = "rpc_refused" },
                 "refused RPC %.*s %.*s from %.*s: %s: %s", (int)req->method.len, req->method.ptr,
                 (int)MIN(req->path.len, 200), req->path.ptr, (int)node.len, node.ptr, code, why);
    buf_addf(&b, "%s: %s\n", code, why);
    http_resp_header(req, RPC_HDR_REFUSED, code);
    http_resp_buf(req, status, &b);
    buf_release(&b);
}

static void
refuse_version(struct rpc_server *srv, struct http_req *req, struct slice v)
{
    char list[64] = "", why[160];
    size_t i, n = 0;

    for (i = 0; i < ARRAY_SIZE(rpc_versions); i++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%u", i ? "," : "", rpc_versions[i]);
    snprintf(why, sizeof(why), "protocol version '%.*s' is not supported; this node speaks %s",
             (int)MIN(v.len, 16), v.ptr, list);
    http_resp_header(req, RPC_HDR_VERSIONS, list);
    refuse(srv, req, 400, "version", SLICE_NULL, why);
}

/* ---- the checks ---- */

/* Splits "/basalt/rpc/vN/route" into N and "/route"; false if malformed or unsupported. */
static bool
split_version(struct slice path, struct slice *vtext, unsigned *v, struct slice *route)
{
    struct slice rest =
        slice_make(path.ptr + strlen(RPC_PATH_PREFIX), path.len - strlen(RPC_PATH_PREFIX));
    ssize_t slash = slice_find(rest, '/');
    uint64_t n;
    size_t i;

    *vtext = slash < 0 ? rest : slice_make(rest.ptr, (size_t)slash);
    if (slash < 0 || vtext->len < 2 || vtext->ptr[0] != 'v' ||
        parse_u64(slice_make(vtext->ptr + 1, vtext->len - 1), &n) < 0)
        return false;
    *route = slice_make(rest.ptr + slash, rest.len - (size_t)slash);
    for (i = 0; i < ARRAY_SIZE(rpc_versions); i++) {
        if (rpc_versions[i] == n) {
            *v = (unsigned)n;
            return true;
        }
    }
    return false;
}

static bool
get_header(void *arg, const char *name, struct slice *out)
{
    return http_req_header(arg, name, out);
}

/* Signature and time; answers the refusal and returns < 0 if they fail. */
static int
check_auth(struct call *c, struct http_req *req)
{
    struct rpc_server *srv = c->srv;
    int64_t now_ms = (clock_now_ns() + srv->clock_offset_ns) / 1000000;
    char why[160], now[24];
    struct slice node = SLICE_NULL;
    int rc;

    rc = rpc_auth_hdr_parse(get_header, req, &c->h);
    if (rc == 0 && c->h.v != c->r.version)
        rc = -ERR_AUTH_MALFORMED;
    if (rc == 0)
        rc = rpc_auth_verify(&srv->key, req->method, req->path, req->query, &c->h, now_ms);
    if (rc == -ERR_AUTH_MALFORMED || rc == -ERR_SIG_MISMATCH) {
        (void)http_req_header(req, RPC_HDR_NODE, &node);
        refuse(srv, req, 403, "cluster-auth", node,
               rc == -ERR_AUTH_MALFORMED ? "missing or malformed signed headers"
                                         : "signature mismatch: root credentials or "
                                           "BASALT_CLUSTER_SECRET differ");
    } else if (rc == -ERR_TIME_SKEWED) {
        snprintf(why, sizeof(why), "request time %lld ms is %lld s away from this node's clock",
                 (long long)c->h.time_ms, (long long)((c->h.time_ms - now_ms) / 1000));
        snprintf(now, sizeof(now), "%lld", (long long)now_ms);
        http_resp_header(req, RPC_HDR_SERVER_TIME, now);
        refuse(srv, req, 403, "clock-skew", c->h.node, why);
    }
    return rc;
}

static int
check_replay(struct call *c, struct http_req *req, bool commit)
{
    int rc = rpc_replay_check(c->srv->replay, &c->h, commit);

    if (rc == -ERR_REPLAY)
        refuse(c->srv, req, 403, "replay", c->h.node,
               "sequence number already used, too old, or an older boot of the sender");
    else if (rc < 0)
        refuse(c->srv, req, 503, "busy", c->h.node, "too many senders");
    return rc;
}

/* ---- replies ---- */

bool
rpc_req_param(const struct rpc_req *r, const char *name, struct slice *out)
{
    return http_req_param(r->_http, name, out);
}

bool
rpc_req_header(const struct rpc_req *r, const char *name, struct slice *out)
{
    return http_req_header(r->_http, name, out);
}

void
rpc_reply_header(struct rpc_req *r, const char *name, const char *value)
{
    if (!r->_gone)
        http_resp_header(r->_http, name, value);
}

void
rpc_reply(struct rpc_req *r, unsigned status, struct buf *body)
{
    if (!r->_gone)
        http_resp_buf(r->_http, status, body);
}

static unsigned
error_status(int err)
{
    switch (err < 0 ? -err : err) {
    case ERR_NOT_FOUND:
    case ERR_BUCKET_NOT_FOUND:
    case ERR_KEY_NOT_FOUND:
        return 404;
    case ERR_INVAL:
    case ERR_INVALID_ARGUMENT:
    case ERR_BAD_REQUEST:
        return 400;
    default:
        return 500;
    }
}

void
rpc_reply_error(struct rpc_req *r, int err, const char *msg)
{
    struct buf b = BUF_INIT;

    if (r->_gone)
        return;
    buf_adds(&b, msg ? msg : err_msg(err));
    http_resp_header(r->_http, RPC_HDR_ERROR, err_name(err));
    http_resp_buf(r->_http, error_status(err), &b);
    buf_release(&b);
}

void
rpc_reply_stream(struct rpc_req *r, unsigned status, uint64_t size, rpc_stream_fn *fn,
                 rpc_stream_free_fn *free_fn, void *arg)
{
    if (r->_gone) {
        if (free_fn)
            free_fn(arg);
        return;
    }
    http_resp_stream(r->_http, status, size, fn, free_fn, arg);
}

static void
route_health(void *arg, struct rpc_req *r)
{
    struct rpc_server *srv = arg;
    struct buf b = BUF_INIT;

    buf_addf(&b,
             "{\"node\":\"%s\",\"boot_id\":\"%s\",\"boot_time_ns\":%lld,\"version\":%u,"
             "\"time_ms\":%lld}",
             srv->self.node, srv->self.boot_id, (long long)srv->self.boot_time_ns, RPC_VERSION,
             (long long)((clock_now_ns() + srv->clock_offset_ns) / 1000000));
    rpc_reply_header(r, "Content-Type", "application/json");
    rpc_reply(r, 200, &b);
    buf_release(&b);
}

/* ---- plain routes ---- */

static int
body_plain(struct http_req *req, const void *data, size_t n)
{
    struct call *c = req->ctx;

    if (c->body.len + n > RPC_MAX_BODY) {
        refuse(c->srv, req, 413, "too-large", c->h.node, "body larger than 8 MiB");
        return -ERR_TOO_LARGE;
    }
    buf_add(&c->body, data, n);
    return 0;
}

static void
end_plain(struct http_req *req)
{
    struct call *c = req->ctx;
    uint8_t md[32];

    rpc_body_sha256(c->body.ptr, c->body.len, md);
    if (!ct_equal(md, c->h.body_sha256, sizeof(md))) {
        refuse(c->srv, req, 403, "cluster-auth", c->h.node, "body digest mismatch");
        return;
    }
    if (check_replay(c, req, true) < 0)
        return;
    c->r.body = buf_slice(&c->body);
    c->route->handler(c->route->arg, &c->r);
    if (!http_resp_is_set(req))
        rpc_reply_error(&c->r, -ERR_INTERNAL, "the handler did not reply");
}

static void
release_body(void *arg)
{
    buf_release(arg);
}

static void
start_plain(struct call *c, struct http_req *req)
{
    if (c->h.streaming) {
        refuse(c->srv, req, 400, "bad-body", c->h.node, "a framed body on a plain route");
        return;
    }
    if (req->content_length > (int64_t)RPC_MAX_BODY) {
        refuse(c->srv, req, 413, "too-large", c->h.node, "body larger than 8 MiB");
        return;
    }
    if (check_replay(c, req, false) < 0)
        return;
    if (req->content_length > 0)
        buf_init(&c->body, (size_t)req->content_length);
    arena_defer(req->arena, release_body, &c->body);
    http_req_expect_body(req, body_plain, end_plain);
}

/* ---- streaming routes ---- */

/* Tells the handler once; after a failure its replies are ignored (the transport answers). */
static void
stream_end(struct call *c, bool ok)
{
    if (c->ended)
        return;
    c->ended = true;
    if (!ok)
        c->r._gone = true;
    c->route->ops->end(&c->r, ok);
}

static int
on_frame_data(void *arg, const void *p, size_t n)
{
    struct call *c = arg;

    c->data_rc = c->route->ops->data(&c->r, p, n);
    return c->data_rc;
}

static int
body_stream(struct http_req *req, const void *data, size_t n)
{
    struct call *c = req->ctx;
    int rc = rpc_frame_feed(&c->parser, data, n);
    bool bad_tag = rc == -ERR_SIG_MISMATCH;

    if (rc == 0)
        return 0;
    stream_end(c, false);
    if (http_resp_is_set(req))
        return rc;
    if (c->data_rc < 0) {
        c->r._gone = false; /* the handler's own error, answered for it */
        rpc_reply_error(&c->r, c->data_rc, NULL);
        c->r._gone = true;
    } else {
        refuse(c->srv, req, bad_tag ? 403 : 400, bad_tag ? "stream-auth" : "bad-body", c->h.node,
               bad_tag ? "stream tag mismatch" : "malformed stream frames");
    }
    return rc;
}

static void
end_stream(struct http_req *req)
{
    struct call *c = req->ctx;
    int rc = rpc_frame_finish(&c->parser);

    if (rc < 0) {
        stream_end(c, false);
        refuse(c->srv, req, 400, "bad-body", c->h.node, "stream cut short before its tag");
        return;
    }
    stream_end(c, true);
    if (!http_resp_is_set(req))
        rpc_reply_error(&c->r, -ERR_INTERNAL, "the handler did not reply");
}

/* Arena cleanup: the request is over; if the handler was not told, the stream failed. */
static void
stream_gone(void *arg)
{
    struct call *c = arg;

    c->r._gone = true;
    stream_end(c, false);
    rpc_frame_parser_release(&c->parser);
}

static void
start_stream(struct call *c, struct http_req *req)
{
    if (!c->h.streaming) {
        refuse(c->srv, req, 400, "bad-body", c->h.node, "a plain body on a streaming route");
        return;
    }
    if (check_replay(c, req, true) < 0)
        return;
    if (c->route->ops->begin(c->route->arg, &c->r) < 0) {
        if (!http_resp_is_set(req))
            rpc_reply_error(&c->r, -ERR_INTERNAL, "the handler refused the stream");
        return;
    }
    rpc_frame_parser_init(&c->parser, rpc_mac_new(&c->srv->key, c->h.sig), on_frame_data, c);
    arena_defer(req->arena, stream_gone, c);
    http_req_expect_body(req, body_stream, end_stream);
}

/* ---- entry ---- */

static struct call *
call_new(struct rpc_server *srv, struct http_req *req, unsigned v, struct slice route)
{
    struct call *c = arena_zalloc(req->arena, sizeof(*c));

    c->srv = srv;
    c->body = (struct buf)BUF_INIT;
    c->r.method = req->method;
    c->r.path = route;
    c->r.query = req->query;
    c->r.version = v;
    c->r.id = req->id;
    c->r.arena = req->arena;
    c->r._http = req;
    req->ctx = c;
    return c;
}

void
rpc_server_handle(struct rpc_server *srv, struct http_req *req)
{
    struct slice vtext = SLICE_NULL, route;
    struct call *c;
    unsigned v = 0;

    if (!slice_starts_with(req->path, SLICE_LIT(RPC_PATH_PREFIX)) ||
        !split_version(req->path, &vtext, &v, &route)) {
        refuse_version(srv, req,
                       slice_starts_with(req->path, SLICE_LIT(RPC_PATH_PREFIX)) ? vtext
                                                                                : SLICE_LIT("?"));
        return;
    }
    c = call_new(srv, req, v, route);
    if (check_auth(c, req) < 0)
        return;
    c->r.sender = c->h.node;
    c->r.caller_request_id = c->h.request_id;
    c->route = route_find(srv, req->method, route);
    if (!c->route) {
        refuse(srv, req, 404, "no-route", c->h.node, "no such RPC route on this node");
        return;
    }
    if (c->route->handler)
        start_plain(c, req);
    else
        start_stream(c, req);
}

/*
 * http/http.c: the HTTP server of http.h, apart from the engine that
 * serves its connections: binding the address, the request and response
 * model both engines share (requests, query parsing, the client's
 * address, the front's checks, the response builder), stats and metrics.
 *
 * Two engines (internal.h, struct http_engine): libmicrohttpd in
 * thread-per-connection mode (mhd.c, the default) and Basalt's own front
 * (front.c: an epoll thread holds idle connections and reads request heads
 * with a strict parser, a pool of workers runs the blocking handlers),
 * picked by http_config.engine. Both give upper layers the same
 * http_req and the same calls.
 */
#include "util/base.h"

#include "http/http.h"
#include "http/tls.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/internal.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

#define HTTP_DEFAULT_HEADER_TIMEOUT 10 /* seconds */
#define HTTP_MAX_CONNECTIONS 16384     /* default ceiling (one thread each with libmicrohttpd) */

/* ---- requests ---- */

static void
req_make_id(struct http_server *srv, char id[HTTP_REQUEST_ID_LEN + 1])
{
    /* A bijection of a counter that starts at a random value: unique within
     * the process, and unpredictable enough to not look sequential. */
    uint64_t v = atomic_fetch_add(&srv->next_id, 1);

    v *= 0x9E3779B97F4A7C15ull;
    v ^= v >> 29;
    snprintf(id, HTTP_REQUEST_ID_LEN + 1, "%016llX", (unsigned long long)v);
}

void
http__peer_text(const struct sockaddr *sa, char *out, size_t cap)
{
    out[0] = '\0';
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a6))
            inet_ntop(AF_INET, &a6->s6_addr[12], out, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, a6, out, (socklen_t)cap);
    }
}

struct http_req *
http__req_new(struct http_server *srv, struct slice target, const char *remote, int64_t start_ns)
{
    struct arena *a = arena_new(0);
    struct http_req *req = arena_zalloc(a, sizeof(*req));
    struct slice path;

    req->arena = a;
    req->start_ns = start_ns;
    req->content_length = -1;
    req_make_id(srv, req->id);
    snprintf(req->remote, sizeof(req->remote), "%s", remote);
    req->query = slice_split(target, '?', &path);
    req->path = slice_make(arena_slicedup(a, path), path.len);
    req->query = slice_make(arena_slicedup(a, req->query), req->query.len);
    atomic_fetch_add(&srv->inflight, 1);
    return req;
}

/* Whether `text` is a trusted proxy's address. */
static bool
is_trusted(const struct http_server *srv, struct slice text)
{
    struct netaddr a;

    return srv->nproxies && netaddr_parse(text, &a) &&
           netmask_list_match(srv->proxies, srv->nproxies, &a);
}

/*
 * The client a trusted proxy names in X-Forwarded-For: the right-most entry
 * that is not itself a trusted proxy (the address the nearest proxy saw),
 * over every X-Forwarded-For line in order (RFC 9110 section 5.3: a proxy
 * may add its own line after the client's), with no cap on their number (a
 * cap would drop the right-most entries, the ones our proxies appended).
 * When every entry is a trusted proxy, the left-most. SLICE_NULL if none.
 */
static struct slice
forwarded_client(struct http_server *srv, struct http_req *req)
{
    struct slice pick = SLICE_NULL;
    size_t i;

    for (i = req->nheaders; i-- > 0;) {
        struct slice v = req->headers[i].value;
        size_t end = v.len, k;

        if (!slice_case_eq_cstr(req->headers[i].name, "x-forwarded-for"))
            continue;
        while (end > 0) {
            struct slice one;

            for (k = end; k > 0 && v.ptr[k - 1] != ','; k--)
                ;
            one = slice_trim(slice_make(v.ptr + k, end - k));
            end = k ? k - 1 : 0;
            if (!one.len)
                continue;
            pick = one;
            if (!is_trusted(srv, one))
                return pick;
        }
    }
    return pick;
}

/* req->client and req->forwarded (http.h). */
static void
req_find_client(struct http_server *srv, struct http_req *req)
{
    struct slice v, pick = SLICE_NULL;
    struct netaddr a;
    size_t i;

    memcpy(req->client, req->remote, sizeof(req->client));
    req->secure = srv->tls != NULL;
    if (!is_trusted(srv, slice_cstr(req->remote)))
        return;
    if (http_req_header(req, "x-forwarded-proto", &v) && slice_case_eq_cstr(slice_trim(v), "https"))
        req->secure = true;
    if (http_req_header(req, "x-forwarded-for", &v)) {
        struct buf all = BUF_INIT;

        for (i = 0; i < req->nheaders; i++) {
            if (!slice_case_eq_cstr(req->headers[i].name, "x-forwarded-for"))
                continue;
            if (all.len)
                buf_adds(&all, ", ");
            buf_addslice(&all, slice_trim(req->headers[i].value));
        }
        req->forwarded = arena_slicedup(req->arena, buf_slice(&all));
        buf_release(&all);
        pick = forwarded_client(srv, req);
    } else if (http_req_header(req, "x-real-ip", &v)) {
        req->forwarded = arena_slicedup(req->arena, slice_trim(v));
        pick = slice_trim(v);
    }
    /* only an address: anything else names no client (the proxy stays the client) */
    if (pick.len && netaddr_parse(pick, &a))
        netaddr_fmt(&a, req->client);
}

void
http__req_headers_done(struct http_server *srv, struct http_req *req)
{
    req->is_head = slice_eq_cstr(req->method, "HEAD");
    req->query_ok = http_parse_query(req->arena, req->query, &req->params, &req->nparams);
    req_find_client(srv, req);
    req->_headers_done = true;
}

bool
http__req_has_body(const struct http_req *req)
{
    struct slice te;

    if (req->content_length > 0)
        return true;
    return http_req_header(req, "transfer-encoding", &te) && te.len > 0 &&
           !slice_case_eq_cstr(slice_trim(te), "identity");
}

bool
http_req_header(const struct http_req *req, const char *name, struct slice *out)
{
    size_t i;

    for (i = 0; i < req->nheaders; i++) {
        if (slice_case_eq_cstr(req->headers[i].name, name)) {
            *out = req->headers[i].value;
            return true;
        }
    }
    return false;
}

bool
http_req_param(const struct http_req *req, const char *name, struct slice *out)
{
    size_t i;

    for (i = 0; i < req->nparams; i++) {
        if (slice_eq_cstr(req->params[i].name, name)) {
            *out = req->params[i].value;
            return true;
        }
    }
    return false;
}

bool
http_req_has_param(const struct http_req *req, const char *name)
{
    struct slice v;

    return http_req_param(req, name, &v);
}

void
http_req_on_done(struct http_req *req, http_done_fn *fn)
{
    req->_on_done = fn;
}

void
http_req_expect_body(struct http_req *req, http_body_fn *on_body, http_end_fn *on_end)
{
    req->_on_body = on_body;
    req->_on_end = on_end;
    req->_expects_body = true;
}

static bool
decode_part(struct arena *a, struct slice s, struct slice *out)
{
    struct buf b = BUF_INIT;
    bool ok = uri_decode(&b, s) == 0;

    *out = slice_make(arena_slicedup(a, buf_slice(&b)), b.len);
    buf_release(&b);
    return ok;
}

bool
http_parse_query(struct arena *a, struct slice query, struct http_header **out, size_t *n)
{
    struct slice rest = query, part, name, value;
    size_t cap = 1, i;
    bool ok = true;

    for (i = 0; i < query.len; i++)
        cap += query.ptr[i] == '&';
    *out = arena_alloc(a, cap * sizeof(**out));
    *n = 0;
    while (rest.ptr && rest.len) {
        rest = slice_split(rest, '&', &part);
        if (part.len == 0)
            continue;
        value = slice_split(part, '=', &name);
        ok &= decode_part(a, name, &(*out)[*n].name);
        ok &= decode_part(a, value, &(*out)[*n].value);
        (*n)++;
    }
    return ok;
}

/* ---- responses ---- */

static struct http_resp *
resp_new(struct http_req *req)
{
    if (!req->_resp)
        req->_resp = arena_zalloc(req->arena, sizeof(*req->_resp));
    return req->_resp;
}

void
http_resp_header(struct http_req *req, const char *name, const char *value)
{
    struct http_resp *r = resp_new(req);
    struct resp_header *h = arena_alloc(req->arena, sizeof(*h));

    h->name = arena_strdup(req->arena, name);
    h->value = arena_strdup(req->arena, value);
    h->next = r->headers;
    r->headers = h;
}

bool
http_resp_is_set(const struct http_req *req)
{
    return req->_resp && req->_resp->status;
}

static void
free_body(void *arg)
{
    free(arg);
}

void
http_resp_buf(struct http_req *req, unsigned status, struct buf *body)
{
    struct http_resp *r = resp_new(req);

    if (r->status)
        return;
    r->status = status;
    r->kind = RESP_BUF;
    if (body && body->len) {
        r->body_len = body->len;
        r->body = buf_detach(body, NULL);
        r->free_handle = arena_defer(req->arena, free_body, r->body);
    }
}

void
http_resp_empty(struct http_req *req, unsigned status)
{
    http_resp_buf(req, status, NULL);
}

void
http_resp_stream(struct http_req *req, unsigned status, uint64_t size, http_stream_fn *fn,
                 http_stream_free_fn *free_fn, void *arg)
{
    struct http_resp *r = resp_new(req);

    if (r->status) {
        if (free_fn)
            free_fn(arg);
        return;
    }
    r->status = status;
    r->kind = RESP_STREAM;
    r->size = size;
    r->fn = fn;
    r->free_fn = free_fn;
    r->arg = arg;
    if (free_fn)
        r->free_handle = arena_defer(req->arena, free_fn, arg);
}

/* ---- what the front answers itself ---- */

void
http__refuse(struct http_req *req, unsigned status, const char *code, const char *msg, bool close)
{
    struct buf body = BUF_INIT;

    buf_addf(&body,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
             "<Message>%s</Message><RequestId>%s</RequestId></Error>",
             code, msg, req->id);
    http_resp_header(req, "Content-Type", "application/xml");
    if (close)
        http_resp_header(req, "Connection", "close");
    else if (status == 503)
        http_resp_header(req, "Retry-After", "1");
    http_resp_buf(req, status, &body);
    buf_release(&body);
}

bool
http__req_refused(struct http_server *srv, struct http_req *req, struct guard_conn *gc, bool http10)
{
    struct http_framing fr;
    const char *why = NULL;
    struct netaddr a;
    unsigned st;

    st = http_framing_check(req->headers, req->nheaders, http10, &fr, &why);
    if (st) {
        atomic_fetch_add(&srv->bad_framing, 1);
        log_info(&(struct log_ctx){ .request_id = req->id, .event = "bad_framing" },
                 "refused a request from %s: %s", req->remote, why);
        http__refuse(req, st, st == 501 ? "NotImplemented" : "BadRequest", why, true);
        return true;
    }
    req->content_length = fr.content_length;
    if (!guard_conn_proxied(gc) || strcmp(req->client, req->remote) == 0 ||
        !netaddr_parse(slice_cstr(req->client), &a))
        return false;
    if (!guard_client_enter(srv->guard, &a)) {
        http__refuse(req, 503, "SlowDown",
                     "Too many requests in flight from your address: please reduce your request "
                     "rate.",
                     false);
        return true;
    }
    req->_client_entered = true;
    return false;
}

static void
req_done(struct http_req *req, bool ok)
{
    struct http_done d = { .completed = ok, .bytes_in = req->_bytes_in };

    if (http_resp_is_set(req)) {
        d.status = req->_resp->status;
        if (req->_resp->kind == RESP_STREAM)
            d.bytes_out = req->is_head ? 0 : req->_bytes_out;
        else if (ok && !req->is_head)
            d.bytes_out = req->_resp->body_len;
    }
    d.duration_ns = clock_mono_ns() - req->start_ns;
    if (req->_queued_ns)
        d.ttfb_ns = req->_queued_ns - req->start_ns;
    req->_on_done(req, &d);
}

void
http__req_finish(struct http_server *srv, struct http_req *req, struct guard_conn *gc, bool ok)
{
    if (req->_on_done)
        req_done(req, ok);
    if (req->_client_entered) {
        struct netaddr a;

        if (netaddr_parse(slice_cstr(req->client), &a))
            guard_client_leave(srv->guard, &a);
    }
    guard_request_done(gc);
    arena_free(req->arena); /* aborts an unfinished PUT through its cleanup */
    atomic_fetch_sub(&srv->inflight, 1);
}

/* ---- start and stop ---- */

static int
split_address(const char *address, struct buf *host, struct buf *port, struct buf *errmsg)
{
    const char *colon = strrchr(address, ':');
    struct slice h;

    if (!colon || !colon[1]) {
        buf_addf(errmsg, "invalid address '%s': expected HOST:PORT", address);
        return -ERR_INVAL;
    }
    h = slice_make(address, (size_t)(colon - address));
    if (h.len >= 2 && h.ptr[0] == '[' && h.ptr[h.len - 1] == ']')
        h = slice_make(h.ptr + 1, h.len - 2);
    buf_addslice(host, h);
    buf_adds(port, colon + 1);
    return 0;
}

static int
bind_fd(const struct addrinfo *ai, const char *address, struct buf *errmsg)
{
    int fd, one = 1, e;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        buf_addf(errmsg, "cannot create a socket for %s: %s", address, strerror(errno));
        return -ERR_IO;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
        return fd;
    e = errno;
    close(fd);
    if (e == EADDRINUSE) {
        buf_addf(errmsg, "address %s is already in use (is another server running?)", address);
        return -ERR_EXISTS;
    }
    buf_addf(errmsg, "cannot listen on %s: %s", address, strerror(e));
    return -ERR_IO;
}

static int
listen_on(const char *address, int *family, struct buf *errmsg)
{
    struct buf host = BUF_INIT, port = BUF_INIT;
    struct addrinfo hints = { 0 }, *res = NULL;
    int rc, fd;

    rc = split_address(address, &host, &port, errmsg);
    if (rc < 0)
        goto out;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host.len ? host.ptr : NULL, port.ptr, &hints, &res);
    if (rc != 0) {
        buf_addf(errmsg, "invalid address '%s': %s", address, gai_strerror(rc));
        rc = -ERR_INVAL;
        goto out;
    }
    fd = bind_fd(res, address, errmsg);
    *family = res->ai_family;
    rc = fd;
    freeaddrinfo(res);
out:
    buf_release(&host);
    buf_release(&port);
    return rc;
}

static void
seed_ids(struct http_server *srv)
{
    uint64_t seed = 0;

    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    atomic_init(&srv->next_id, seed);
}

/*
 * The default connection limit: what the descriptor limit leaves after a
 * reserve for drives, shard files and peers, raising the soft limit to the
 * hard one first (a connection is a descriptor and, here, a thread).
 */
static unsigned
default_max_connections(void)
{
    struct rlimit rl;
    uint64_t n, reserve;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    n = rl.rlim_cur == RLIM_INFINITY ? HTTP_MAX_CONNECTIONS : (uint64_t)rl.rlim_cur;
    reserve = MIN(n / 2, 2048);
    return (unsigned)MAX(MIN(n - reserve, HTTP_MAX_CONNECTIONS), 16);
}

static void
guard_start(struct http_server *srv)
{
    struct http_config *c = &srv->cfg;
    struct guard_config gc;

    if (netmask_list_parse(c->trusted_proxies, &srv->proxies, &srv->nproxies) < 0) {
        log_warn(&(struct log_ctx){ .event = "config" },
                 "--trusted-proxies \"%s\" is not a list of addresses or CIDRs: ignored",
                 c->trusted_proxies);
        srv->proxies = NULL;
        srv->nproxies = 0;
    }
    c->trusted_proxies = NULL; /* not kept: the caller's string */
    if (!c->max_connections)
        c->max_connections = default_max_connections();
    if (!c->max_per_address)
        c->max_per_address = MAX(c->max_connections / 4, 1);
    if (c->max_per_address == UINT_MAX)
        c->max_per_address = 0;
    if (!c->header_timeout)
        c->header_timeout = HTTP_DEFAULT_HEADER_TIMEOUT;
    /* Basalt's front keeps the header deadline itself: no deadline thread in the guard. */
    gc = (struct guard_config){ .max_connections = c->max_connections,
                                .max_per_address = c->max_per_address,
                                .header_timeout =
                                    c->engine == HTTP_ENGINE_BASALT ? 0 : c->header_timeout,
                                .proxies = srv->proxies,
                                .nproxies = srv->nproxies };
    srv->guard = guard_new(&gc);
    log_info(&(struct log_ctx){ .event = "config" },
             "connections: at most %u open, %u per client address (0: no limit); a request's "
             "headers within %u s; HTTP engine %s",
             c->max_connections, c->max_per_address, c->header_timeout, srv->engine->name);
}

int
http_server_listen(const struct http_config *cfg, struct http_server **out, struct buf *errmsg)
{
    struct http_server *srv = xcalloc(1, sizeof(*srv));
    int fd;

    srv->cfg = *cfg;
    srv->address = xstrdup(cfg->address);
    srv->cfg.address = srv->address;
    srv->engine = cfg->engine == HTTP_ENGINE_BASALT ? &http__engine_front : &http__engine_mhd;
    seed_ids(srv);
    fd = cfg->certs_dir ? tls_certs_open(cfg->certs_dir, &srv->tls, errmsg) : 0;
    if (fd == 0)
        fd = listen_on(cfg->address, &srv->family, errmsg);
    if (fd < 0) {
        tls_certs_free(srv->tls);
        free(srv->address);
        free(srv);
        return fd;
    }
    srv->cfg.certs_dir = NULL; /* not kept: srv->tls has read it */
    srv->listen_fd = fd;
    guard_start(srv);
    *out = srv;
    return 0;
}

int
http_server_start(struct http_server *srv, http_handler_fn *handler, void *arg, struct buf *errmsg)
{
    srv->handler = handler;
    srv->arg = arg;
    return srv->engine->start(srv, errmsg);
}

int
http_server_reload_certs(struct http_server *srv, struct buf *errmsg)
{
    return srv->tls ? tls_certs_reload(srv->tls, errmsg) : 0;
}

bool
http_server_is_tls(const struct http_server *srv)
{
    return srv->tls != NULL;
}

int
http_server_port(const struct http_server *srv)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(srv->listen_fd, (struct sockaddr *)&ss, &len) < 0)
        return -ERR_IO;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void
http__wait_inflight(struct http_server *srv)
{
    int waited = 0;

    while (atomic_load(&srv->inflight) > 0 && waited < HTTP_STOP_WAIT_MS) {
        usleep(10 * 1000);
        waited += 10;
    }
}

void
http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    srv->engine->stop(srv);
    guard_free(srv->guard);
    free(srv->proxies);
    tls_certs_free(srv->tls);
    free(srv->address);
    free(srv);
}

void
http_server_stats(struct http_server *srv, struct http_stats *out)
{
    struct guard_stats g;

    guard_get_stats(srv->guard, &g);
    *out = (struct http_stats){ .open = g.open,
                                .accepted = g.accepted,
                                .refused_limit = g.refused_limit,
                                .refused_address = g.refused_address,
                                .refused_requests = g.refused_requests,
                                .header_timeouts = g.header_timeouts,
                                .bad_framing = atomic_load(&srv->bad_framing),
                                .max_connections = srv->cfg.max_connections,
                                .max_per_address = srv->cfg.max_per_address,
                                .header_timeout = srv->cfg.header_timeout };
}

/* ---- metrics ---- */

static const char *const refused_reasons[] = { "limit", "address" };
static const char *const request_reasons[] = { "client_limit", "framing" };

/* A counter brought up to `v` (the stats are totals; the registry counts). */
static void
counter_to(struct metric *f, size_t series, uint64_t v)
{
    int64_t now = metric_get(f, series);

    if ((int64_t)v > now)
        metric_add(f, series, v - (uint64_t)now);
}

static void
collect(void *arg)
{
    struct http_server *srv = arg;
    struct http_stats st;

    http_server_stats(srv, &st);
    metric_set(srv->m_open, 0, (int64_t)st.open);
    metric_set(srv->m_max, 0, (int64_t)st.max_connections);
    counter_to(srv->m_accepted, 0, st.accepted);
    counter_to(srv->m_refused, 0, st.refused_limit);
    counter_to(srv->m_refused, 1, st.refused_address);
    counter_to(srv->m_requests_refused, 0, st.refused_requests);
    counter_to(srv->m_requests_refused, 1, st.bad_framing);
    counter_to(srv->m_timeouts, 0, st.header_timeouts);
}

void
http_server_metrics_register(struct http_server *srv, struct metrics *m)
{
    struct metric_dim reason = { "reason", refused_reasons, ARRAY_SIZE(refused_reasons) };
    struct metric_dim rreason = { "reason", request_reasons, ARRAY_SIZE(request_reasons) };

    srv->m_open = metrics_register(m, METRIC_GAUGE, "basalt_http_connections",
                                   "Client connections open.", NULL, 0, NULL, 0, 1);
    srv->m_max =
        metrics_register(m, METRIC_GAUGE, "basalt_http_connections_max",
                         "Open connections past which new ones are refused.", NULL, 0, NULL, 0, 1);
    srv->m_accepted = metrics_register(m, METRIC_COUNTER, "basalt_http_connections_accepted_total",
                                       "Client connections accepted.", NULL, 0, NULL, 0, 1);
    srv->m_refused = metrics_register(
        m, METRIC_COUNTER, "basalt_http_connections_refused_total",
        "Connections closed at accept: too many open (limit) or from one address (address).",
        &reason, 1, NULL, 0, 1);
    srv->m_requests_refused = metrics_register(
        m, METRIC_COUNTER, "basalt_http_requests_refused_total",
        "Requests refused by the front: a proxied client over its limit (503), or framing "
        "that is not exactly RFC 9112's (400, 501).",
        &rreason, 1, NULL, 0, 1);
    srv->m_timeouts = metrics_register(
        m, METRIC_COUNTER, "basalt_http_header_timeouts_total",
        "Connections closed for not sending a request's headers in time.", NULL, 0, NULL, 0, 1);
    metrics_add_collector(m, collect, srv);
}

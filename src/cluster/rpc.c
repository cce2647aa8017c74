/*
 * cluster/rpc.c: the RPC client (see rpc.h): peers, their pools of
 * keep-alive connections, the transfer machinery shared with rpc_stream.c,
 * plain calls, and the prober that brings offline peers back.
 *
 * DESIGN: each pooled connection is a libcurl {multi, easy} pair driven by
 * the calling thread (rpc__drive(): curl_multi_perform + curl_multi_poll,
 * bounded by the call's deadline), never by a thread of its own. The multi
 * handle's connection cache keeps the TCP connection alive between calls,
 * so a call that finds an idle pair in its peer's pool pays no handshake; a
 * call that finds none opens a new pair, and at most pool_idle pairs are
 * kept afterwards. Driving the transfer ourselves is what lets a streamed
 * upload pause between two writes (CURL_READFUNC_PAUSE) and resume on
 * another thread without a thread per stream.
 *
 * Deadlines: libcurl's connect timeout is set to the time left, and
 * rpc__drive() stops at the deadline itself; removing an unfinished transfer
 * from its multi closes its connection, so a peer that never answers costs
 * a caller its deadline, then the peer is offline.
 */
#include "util/base.h"

#include "cluster/rpc.h"

#include <errno.h>
#include <time.h>

#include "cluster/internal.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

#define RESP_HEADERS_MAX (64 * 1024)
#define REFUSAL_LOG_INTERVAL_NS (60 * 1000000000ll)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("libcurl: global initialisation failed");
}

/* ---- peers and their health ---- */

static void
peer_set_online(struct rpc_peer *p, bool online, const char *why)
{
    struct rpc_client *c = p->client;

    if (atomic_exchange(&p->online, online) == online)
        return;
    if (online) {
        atomic_fetch_add_explicit(&p->onlines, 1, memory_order_relaxed);
        log_info(&(struct log_ctx){ .event = "rpc_peer_online" }, "peer %s is online again",
                 p->name);
    } else {
        atomic_fetch_add_explicit(&p->offline, 1, memory_order_relaxed);
        log_error(&(struct log_ctx){ .event = "rpc_peer_offline" }, "peer %s is offline: %s",
                  p->name, why);
    }
    if (c->cfg.on_peer_state)
        c->cfg.on_peer_state(c->cfg.on_peer_state_arg, p, online);
}

const char *
rpc_peer_name(const struct rpc_peer *p)
{
    return p->name;
}

bool
rpc_peer_is_online(const struct rpc_peer *p)
{
    return atomic_load(&((struct rpc_peer *)p)->online);
}

void
rpc_peer_stats(const struct rpc_peer *cp, struct rpc_peer_stats *out)
{
    struct rpc_peer *p = (struct rpc_peer *)cp;

    out->calls = atomic_load_explicit(&p->calls, memory_order_relaxed);
    out->failures = atomic_load_explicit(&p->failures, memory_order_relaxed);
    out->connects = atomic_load_explicit(&p->connects, memory_order_relaxed);
    out->offline = atomic_load_explicit(&p->offline, memory_order_relaxed);
    out->online = atomic_load_explicit(&p->onlines, memory_order_relaxed);
}

void
rpc_peer_set_metrics(struct rpc_peer *p, struct metric *duration_ns, size_t series)
{
    if (atomic_load(&p->duration_ns))
        return;
    p->duration_series = series;
    atomic_store_explicit(&p->duration_ns, duration_ns, memory_order_release);
}

/* A plain call's duration into the peer's histogram, if set. */
static void
observe_call(struct rpc_peer *p, int64_t t0)
{
    struct metric *h = atomic_load_explicit(&p->duration_ns, memory_order_acquire);
    int64_t ns = clock_mono_ns() - t0;

    if (h)
        metric_observe(h, p->duration_series, ns > 0 ? (uint64_t)ns : 0);
}

void
rpc__count(struct rpc_peer *p, int rc)
{
    atomic_fetch_add_explicit(&p->calls, 1, memory_order_relaxed);
    if (rc < 0)
        atomic_fetch_add_explicit(&p->failures, 1, memory_order_relaxed);
}

/* Whether a refusal by `p` may be logged now (once a minute per peer). */
static bool
refusal_log_allowed(struct rpc_peer *p)
{
    int64_t now = clock_mono_ns(), last = atomic_load(&p->refusal_logged_ns);

    if (last && now - last < REFUSAL_LOG_INTERVAL_NS)
        return false;
    return atomic_compare_exchange_strong(&p->refusal_logged_ns, &last, now);
}

/* ---- pooled connections ---- */

static CURLM *
multi_new(void)
{
    CURLM *m = curl_multi_init();

    if (!m)
        die("libcurl: cannot create a handle");
    /* One transfer at a time: one cached connection is all this pair can reuse. */
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 1L);
    return m;
}

static struct rpc_conn *
conn_new(void)
{
    struct rpc_conn *c = xcalloc(1, sizeof(*c));

    c->multi = multi_new();
    c->easy = curl_easy_init();
    if (!c->easy)
        die("libcurl: cannot create a handle");
    c->resp_headers = (struct buf)BUF_INIT;
    return c;
}

static void
conn_free(struct rpc_conn *c)
{
    if (c->added)
        curl_multi_remove_handle(c->multi, c->easy);
    curl_easy_cleanup(c->easy);
    curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->headers);
    buf_release(&c->resp_headers);
    free(c);
}

struct rpc_conn *
rpc__conn_get(struct rpc_peer *p)
{
    struct rpc_conn *c;

    pthread_mutex_lock(&p->lock);
    c = p->idle;
    if (c) {
        p->idle = c->next;
        p->nidle--;
    }
    pthread_mutex_unlock(&p->lock);
    return c ? c : conn_new();
}

void
rpc__conn_put(struct rpc_peer *p, struct rpc_conn *c)
{
    BUG_ON(c->added);
    curl_slist_free_all(c->headers);
    c->headers = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->nidle < p->client->cfg.pool_idle) {
        c->next = p->idle;
        p->idle = c;
        p->nidle++;
        c = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    if (c)
        conn_free(c);
}

/* ---- one transfer ---- */

/* Records the status line and the headers of the final answer. */
static size_t
header_cb(char *data, size_t size, size_t nitems, void *arg)
{
    struct rpc_conn *c = arg;
    size_t len = size * nitems, i;
    struct slice line = slice_trim(slice_make(data, len)), name, value;
    uint64_t code;

    if (slice_starts_with(line, SLICE_LIT("HTTP/"))) {
        value = slice_split(line, ' ', &name);
        if (value.len >= 3 && parse_u64(slice_make(value.ptr, 3), &code) == 0)
            c->status = (unsigned)code;
        buf_clear(&c->resp_headers); /* a 1xx answer's headers are not the final ones */
        c->headers_done = false;
        return len;
    }
    if (line.len == 0) {
        c->headers_done = c->status >= 200;
        return len;
    }
    value = slice_split(line, ':', &name);
    if (!value.ptr || c->resp_headers.len + line.len > RESP_HEADERS_MAX)
        return len;
    for (i = 0; i < name.len; i++)
        buf_addch(&c->resp_headers,
                  (char)(name.ptr[i] | (name.ptr[i] >= 'A' && name.ptr[i] <= 'Z' ? 0x20 : 0)));
    buf_addch(&c->resp_headers, '\0');
    buf_addslice(&c->resp_headers, slice_trim(value));
    buf_addch(&c->resp_headers, '\0');
    return len;
}

static bool
headers_find(const struct buf *h, const char *name, struct slice *out)
{
    const char *p = h->ptr, *end = h->ptr + h->len;
    size_t nlen, vlen;

    while (p < end) {
        nlen = strlen(p);
        vlen = strlen(p + nlen + 1);
        if (strcasecmp(p, name) == 0) {
            *out = slice_make(p + nlen + 1, vlen);
            return true;
        }
        p += nlen + 1 + vlen + 1;
    }
    return false;
}

/* Printable ASCII without space; `extra` lists further refused characters. */
static bool
url_part_valid(struct slice s, const char *extra)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        if (s.ptr[i] <= ' ' || s.ptr[i] > '~' || strchr(extra, s.ptr[i]))
            return false;
    }
    return true;
}

static bool
call_valid(const struct rpc_call *call)
{
    const char *m;

    if (!call->method || !call->method[0] || !call->path || call->path[0] != '/')
        return false;
    for (m = call->method; *m; m++) {
        if (*m < 'A' || *m > 'Z')
            return false;
    }
    return url_part_valid(slice_cstr(call->path), "?#") &&
           (!call->query || url_part_valid(slice_cstr(call->query), "#"));
}

static void
put_header(void *arg, const char *name, struct slice value)
{
    struct curl_slist **list = arg, *l;
    struct buf h = BUF_INIT;

    /* "Name;" sends an empty header; "Name:" would remove it */
    if (value.len)
        buf_addf(&h, "%s: %.*s", name, (int)value.len, value.ptr);
    else
        buf_addf(&h, "%s;", name);
    l = curl_slist_append(*list, h.ptr);
    if (!l)
        die("libcurl: out of memory");
    *list = l;
    buf_release(&h);
}

/* The signed headers of the call, and the ones libcurl would add and we do not want. */
static struct curl_slist *
call_headers(struct rpc_peer *p, const struct rpc_call *call, struct slice path,
             const uint8_t *body_sha256, uint8_t *sig)
{
    struct rpc_client *c = p->client;
    struct curl_slist *list = NULL;
    struct rpc_auth_hdr h;
    int64_t now_ms = (clock_now_ns() + c->cfg.clock_offset_ns) / 1000000;
    uint64_t seq = atomic_fetch_add(&c->next_seq, 1);

    rpc_auth_hdr_make(&h, &c->key, &c->self, RPC_VERSION, seq, now_ms, body_sha256,
                      call->request_id, slice_cstr(call->method), path,
                      slice_cstr(call->query ? call->query : ""));
    rpc_auth_hdr_emit(&h, put_header, &list);
    /* headers libcurl would add: no 100-continue round trip, no form type */
    list = curl_slist_append(list, "Expect:");
    list = list ? curl_slist_append(list, "Accept:") : NULL;
    list = list ? curl_slist_append(list, "Content-Type:") : NULL;
    if (!list)
        die("libcurl: out of memory");
    if (sig)
        memcpy(sig, h.sig, RPC_SIG_SIZE);
    return list;
}

int64_t
rpc__step_deadline(int64_t deadline, int64_t step)
{
    int64_t now = clock_mono_ns();

    return step > 0 && now + step < deadline ? now + step : deadline;
}

/*
 * https:// peers: TLS 1.2 or later, the peer's certificate checked against
 * --certs-dir's CAs/ and the system's CAs (rpc_tls.c), and its name against
 * the endpoint's host (libcurl's defaults, said again here).
 */
static void
set_tls(struct rpc_client *cl, struct rpc_conn *c)
{
    curl_easy_setopt(c->easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (rpc__cas_apply(cl->cas, &c->cas_gen, c->easy)) {
        /* the CAs changed: the connection the multi caches is closed, the call opens another */
        curl_multi_cleanup(c->multi);
        c->multi = multi_new();
    }
}

int
rpc__setup(struct rpc_peer *p, struct rpc_conn *c, const struct rpc_call *call,
           const uint8_t *body_sha256, uint8_t *sig)
{
    struct buf path = BUF_INIT, url = BUF_INIT;
    int64_t left_ms = (call->deadline_ns - clock_mono_ns()) / 1000000;

    if (!call_valid(call))
        return -ERR_INVAL;
    buf_addf(&path, "%sv%u%s", RPC_PATH_PREFIX, RPC_VERSION, call->path);
    buf_addf(&url, "%s%s%s%s", p->base, path.ptr, call->query ? "?" : "",
             call->query ? call->query : "");
    curl_slist_free_all(c->headers);
    c->headers = call_headers(p, call, buf_slice(&path), body_sha256, sig);
    curl_easy_reset(c->easy);
    curl_easy_setopt(c->easy, CURLOPT_URL, url.ptr);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->easy, CURLOPT_PATH_AS_IS, 1L); /* the path is signed as sent */
    curl_easy_setopt(c->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)MAX(left_ms, 1));
    curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
    if (p->base[4] == 's')
        set_tls(p->client, c);
    c->done = false;
    c->result = CURLE_OK;
    c->status = 0;
    c->headers_done = false;
    c->errbuf[0] = '\0';
    buf_clear(&c->resp_headers);
    buf_release(&path);
    buf_release(&url);
    return 0;
}

void
rpc__start(struct rpc_conn *c)
{
    BUG_ON(c->added);
    if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK)
        die("libcurl: cannot add a transfer");
    c->added = true;
}

static void
collect_done(struct rpc_conn *c)
{
    struct CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy) {
            c->done = true;
            c->result = msg->data.result;
        }
    }
}

int
rpc__drive(struct rpc_conn *c, int64_t deadline_ns, bool (*until)(void *), void *arg)
{
    int running, ms;
    int64_t left;

    for (;;) {
        if (curl_multi_perform(c->multi, &running) != CURLM_OK)
            return -ERR_IO;
        collect_done(c);
        if (c->done || (until && until(arg)))
            return 0;
        left = deadline_ns - clock_mono_ns();
        if (left <= 0)
            return -ERR_TIMEOUT;
        ms = (int)MIN(DIV_ROUND_UP(left, 1000000), 1000);
        if (curl_multi_poll(c->multi, NULL, 0, ms, NULL) != CURLM_OK)
            return -ERR_IO;
    }
}

void
rpc__stop(struct rpc_peer *p, struct rpc_conn *c)
{
    long n = 0;

    if (!c->added)
        return;
    if (curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK && n > 0)
        atomic_fetch_add_explicit(&p->connects, (uint64_t)n, memory_order_relaxed);
    curl_multi_remove_handle(c->multi, c->easy);
    c->added = false;
}

void
rpc__fill_resp(struct rpc_conn *c, struct rpc_resp *resp)
{
    struct slice v;

    resp->status = c->status;
    resp->err = 0;
    if (headers_find(&c->resp_headers, RPC_HDR_ERROR, &v))
        resp->err = v.len ? err_from_name(v.ptr, v.len, -ERR_INTERNAL) : -ERR_INTERNAL;
    buf_release(&resp->_headers);
    buf_add(&resp->_headers, c->resp_headers.ptr, c->resp_headers.len);
}

/* ---- outcomes and refusals ---- */

static void
log_skew(struct rpc_peer *p, struct rpc_conn *c)
{
    struct slice v;
    uint64_t theirs = 0;
    int64_t ours = (clock_now_ns() + p->client->cfg.clock_offset_ns) / 1000000;

    if (headers_find(&c->resp_headers, RPC_HDR_SERVER_TIME, &v))
        (void)parse_u64(v, &theirs);
    log_error(&(struct log_ctx){ .event = "rpc_clock_skew" },
              "clock skew with peer %s: its clock is %lld s %s ours (at most %lld s allowed); "
              "synchronise the nodes' clocks (NTP)",
              p->name, (long long)llabs((int64_t)theirs - ours) / 1000,
              (int64_t)theirs > ours ? "ahead of" : "behind", RPC_MAX_SKEW_MS / 1000);
}

/* A refusal by the peer: its error, logged when operators must act. */
static int
refusal(struct rpc_peer *p, struct rpc_conn *c, struct slice code, struct slice body)
{
    bool log = refusal_log_allowed(p);
    int body_len = (int)MIN(body.len, 200);

    if (slice_eq_cstr(code, "cluster-auth") || slice_eq_cstr(code, "stream-auth")) {
        if (log)
            log_error(&(struct log_ctx){ .event = "rpc_peer_refuses" },
                      "peer %s refuses our calls: root credentials or BASALT_CLUSTER_SECRET "
                      "differ (%.*s)",
                      p->name, body_len, body.ptr);
        return -ERR_PEER_AUTH;
    }
    if (slice_eq_cstr(code, "clock-skew")) {
        if (log)
            log_skew(p, c);
        return -ERR_TIME_SKEWED;
    }
    if (slice_eq_cstr(code, "version")) {
        if (log)
            log_error(&(struct log_ctx){ .event = "rpc_peer_refuses" },
                      "peer %s does not speak RPC version %d: %.*s", p->name, RPC_VERSION, body_len,
                      body.ptr);
        return -ERR_PEER_VERSION;
    }
    if (slice_eq_cstr(code, "replay"))
        return -ERR_REPLAY;
    if (slice_eq_cstr(code, "no-route"))
        return -ERR_NOT_IMPLEMENTED;
    if (slice_eq_cstr(code, "too-large"))
        return -ERR_TOO_LARGE;
    if (slice_eq_cstr(code, "busy"))
        return -ERR_BUSY;
    return -ERR_BAD_REQUEST;
}

int
rpc__outcome(struct rpc_peer *p, struct rpc_conn *c, int rc, struct slice body)
{
    struct slice code;

    if (rc == -ERR_TIMEOUT) {
        peer_set_online(p, false, "a call missed its deadline");
        return rc;
    }
    if (rc < 0)
        return rc;
    switch (c->result) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT:
        peer_set_online(p, false, "a call missed its deadline");
        return -ERR_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:        /* https:// peers: the handshake failed */
    case CURLE_PEER_FAILED_VERIFICATION: /* or the peer's certificate is not trusted */
        peer_set_online(p, false, c->errbuf[0] ? c->errbuf : "cannot connect");
        return -ERR_IO;
    default:
        return -ERR_IO;
    }
    if (headers_find(&c->resp_headers, RPC_HDR_REFUSED, &code))
        return refusal(p, c, code, body);
    return 0;
}

/* ---- plain calls ---- */

struct sink {
    struct buf *b;
    bool overflow;
};

static size_t
write_cb(char *data, size_t size, size_t nitems, void *arg)
{
    struct sink *s = arg;
    size_t len = size * nitems;

    if (s->b->len + len > RPC_MAX_RESP_BODY) {
        s->overflow = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    buf_add(s->b, data, len);
    return len;
}

static void
set_method(CURL *easy, const char *method, struct slice body)
{
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(method, "GET") && body.len == 0) {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.len ? body.ptr : "");
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    }
}

/* The call itself, whether the peer is online or not (the prober's probes). */
static int
call_run(struct rpc_peer *p, const struct rpc_call *call, struct rpc_resp *resp)
{
    struct sink sink = { &resp->body, false };
    struct rpc_conn *c = rpc__conn_get(p);
    uint8_t md[32];
    int64_t t0 = clock_mono_ns();
    int rc;

    buf_clear(&resp->body);
    rpc_body_sha256(call->body.ptr, call->body.len, md);
    rc = rpc__setup(p, c, call, md, NULL);
    if (rc < 0)
        goto out;
    set_method(c->easy, call->method, call->body);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &sink);
    rpc__start(c);
    rc = rpc__drive(c, call->deadline_ns, NULL, NULL);
    rpc__stop(p, c);
    rc = sink.overflow ? -ERR_TOO_LARGE : rpc__outcome(p, c, rc, buf_slice(&resp->body));
    if (rc == 0)
        rpc__fill_resp(c, resp);
out:
    if (rc < 0)
        buf_release(&resp->body);
    rpc__conn_put(p, c);
    rpc__count(p, rc);
    observe_call(p, t0);
    return rc;
}

int
rpc_call(struct rpc_peer *p, const struct rpc_call *call, struct rpc_resp *resp)
{
    if (!rpc_peer_is_online(p))
        return -ERR_OFFLINE;
    return call_run(p, call, resp);
}

void
rpc_resp_release(struct rpc_resp *r)
{
    buf_release(&r->body);
    buf_release(&r->_headers);
    r->status = 0;
    r->err = 0;
}

bool
rpc_resp_header(const struct rpc_resp *r, const char *name, struct slice *out)
{
    return headers_find(&r->_headers, name, out);
}

void
rpc_query_add(struct buf *q, const char *name, struct slice value)
{
    if (q->len)
        buf_addch(q, '&');
    uri_encode(q, slice_cstr(name), false);
    buf_addch(q, '=');
    uri_encode(q, value, false);
}

/* ---- the prober ---- */

static void
probe(struct rpc_peer *p)
{
    struct rpc_client *c = p->client;
    struct rpc_call call = { .method = "GET",
                             .path = "/health",
                             .deadline_ns = clock_mono_ns() + c->cfg.probe_timeout_ns,
                             .request_id = "probe" };
    struct rpc_resp resp = RPC_RESP_INIT;

    if (call_run(p, &call, &resp) == 0 && resp.status == 200)
        peer_set_online(p, true, NULL);
    rpc_resp_release(&resp);
}

static void
deadline_in(struct timespec *ts, int64_t ns)
{
    int64_t at = clock_mono_ns() + ns;

    ts->tv_sec = (time_t)(at / 1000000000);
    ts->tv_nsec = (long)(at % 1000000000);
}

static void *
prober_main(void *arg)
{
    struct rpc_client *c = arg;
    struct rpc_peer *p;
    struct timespec ts;
    size_t i;

    pthread_setname_np(pthread_self(), "rpc-prober");
    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        deadline_in(&ts, c->cfg.probe_interval_ns);
        while (!c->stopping && pthread_cond_timedwait(&c->wake, &c->lock, &ts) != ETIMEDOUT)
            ;
        for (i = 0; !c->stopping && i < c->npeers; i++) {
            p = c->peers[i];
            if (rpc_peer_is_online(p))
                continue;
            pthread_mutex_unlock(&c->lock);
            probe(p);
            pthread_mutex_lock(&c->lock);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* ---- client ---- */

int
rpc_client_new(const struct rpc_client_config *cfg, struct rpc_client **out)
{
    struct rpc_client *c;
    pthread_condattr_t ca;

    if (!cfg->key || !cfg->self)
        return -ERR_INVAL;
    pthread_once(&curl_once, curl_init_once);
    c = xcalloc(1, sizeof(*c));
    c->key = *cfg->key;
    c->self = *cfg->self;
    c->cfg = *cfg;
    c->cfg.key = &c->key;
    c->cfg.self = &c->self;
    c->cfg.ca_pem = NULL;
    c->cas = rpc__cas_new();
    if (cfg->ca_pem && rpc__cas_set(c->cas, cfg->ca_pem, NULL, NULL) < 0) {
        rpc__cas_free(c->cas);
        secure_zero(&c->key, sizeof(c->key));
        free(c);
        return -ERR_INVAL;
    }
    if (c->cfg.probe_interval_ns <= 0)
        c->cfg.probe_interval_ns = RPC_DEFAULT_PROBE_INTERVAL_NS;
    if (c->cfg.probe_timeout_ns <= 0)
        c->cfg.probe_timeout_ns = RPC_DEFAULT_PROBE_TIMEOUT_NS;
    if (c->cfg.pool_idle == 0)
        c->cfg.pool_idle = RPC_DEFAULT_POOL_IDLE;
    atomic_init(&c->next_seq, 1);
    BUG_ON(pthread_mutex_init(&c->lock, NULL) != 0);
    BUG_ON(pthread_condattr_init(&ca) != 0 ||
           pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
           pthread_cond_init(&c->wake, &ca) != 0);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&c->prober, NULL, prober_main, c) != 0)
        die("cannot start the RPC prober thread");
    *out = c;
    return 0;
}

static void
peer_free(struct rpc_peer *p)
{
    struct rpc_conn *c;

    while ((c = p->idle)) {
        p->idle = c->next;
        conn_free(c);
    }
    pthread_mutex_destroy(&p->lock);
    free(p->base);
    free(p->name);
    free(p);
}

void
rpc_client_free(struct rpc_client *c)
{
    size_t i;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->prober, NULL);
    for (i = 0; i < c->npeers; i++)
        peer_free(c->peers[i]);
    free(c->peers);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    secure_zero(&c->key, sizeof(c->key));
    rpc__cas_free(c->cas);
    free(c);
}

/* "http://host:port" or "https://..." (a trailing '/' allowed) -> "host:port". */
static bool
parse_endpoint(const char *endpoint, struct slice *authority)
{
    struct slice s = slice_cstr(endpoint);
    size_t skip = slice_starts_with(s, SLICE_LIT("https://")) ? 8 : 7;

    if (skip == 7 && !slice_starts_with(s, SLICE_LIT("http://")))
        return false;
    s = slice_make(s.ptr + skip, s.len - skip);
    if (s.len && s.ptr[s.len - 1] == '/')
        s.len--;
    if (s.len == 0 || slice_find(s, '/') >= 0 || slice_find(s, '@') >= 0 ||
        !url_part_valid(s, "?#"))
        return false;
    *authority = s;
    return true;
}

int
rpc_client_add_peer(struct rpc_client *c, const char *endpoint, struct rpc_peer **out)
{
    struct rpc_peer *p;
    struct slice auth;

    if (!endpoint || !parse_endpoint(endpoint, &auth))
        return -ERR_INVAL;
    p = xcalloc(1, sizeof(*p));
    p->client = c;
    p->name = slice_dup(auth);
    p->base = xstrndup(endpoint, (size_t)(auth.ptr - endpoint) + auth.len);
    atomic_init(&p->online, true);
    BUG_ON(pthread_mutex_init(&p->lock, NULL) != 0);
    pthread_mutex_lock(&c->lock);
    c->peers = xrealloc(c->peers, (c->npeers + 1) * sizeof(*c->peers));
    c->peers[c->npeers++] = p;
    pthread_mutex_unlock(&c->lock);
    *out = p;
    return 0;
}

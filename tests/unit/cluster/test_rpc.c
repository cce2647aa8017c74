/*
 * tests/unit/cluster/test_rpc.c: node-to-node RPC end to end on loopback:
 * an HTTP server (http/) on 127.0.0.1 port 0 whose handler calls
 * rpc_server_handle(), and an rpc_client calling it. Small calls,
 * concurrency, connection reuse, every authentication refusal (also with
 * hand-made requests on raw sockets: tampering, replay, no headers),
 * streaming uploads and downloads, deadlines and peer health, and raw
 * socket "peers" that never answer, answer garbage or half an answer.
 */
#include "util/base.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/rpc.h"
#include "cluster/rpc_frame.h"
#include "cluster/rpc_server.h"
#include "harness.h"
#include "http/http.h"
#include "obs/log.h"
#include "util/clock.h"
#include "util/enc.h"

#define MS 1000000ll

struct fixture {
    struct http_server *http;
    struct rpc_server *srv;
    struct rpc_client *cli;
    struct rpc_peer *peer;
    struct rpc_key key;
    struct rpc_identity self; /* the client's */
    char endpoint[64];
    int port;
    atomic_int handled;     /* plain handlers run */
    atomic_int streams_ok;  /* stream ends with ok */
    atomic_int streams_bad; /* stream ends with !ok */
    atomic_ullong stream_bytes;
    uint8_t stream_md[32];  /* of the last good stream, written before streams_ok++ */
    atomic_int transitions; /* on_peer_state calls */
    atomic_int last_state;
};

/* ---- server-side routes ---- */

static void
route_echo(void *arg, struct rpc_req *r)
{
    struct fixture *f = arg;
    struct buf b = BUF_INIT;

    atomic_fetch_add(&f->handled, 1);
    buf_addf(&b, "%.*s|%.*s|%.*s|", (int)r->sender.len, r->sender.ptr, (int)r->query.len,
             r->query.ptr, (int)r->caller_request_id.len, r->caller_request_id.ptr);
    buf_addslice(&b, r->body);
    rpc_reply_header(r, "X-Basalt-Test", "yes");
    rpc_reply(r, 200, &b);
    buf_release(&b);
}

static void
route_sleep(void *arg, struct rpc_req *r)
{
    struct slice v;
    uint64_t ms = 0;

    if (rpc_req_param(r, "ms", &v))
        (void)parse_u64(v, &ms);
    usleep((useconds_t)(ms * 1000));
    rpc_reply(r, 200, NULL);
}

static void
route_fail(void *arg, struct rpc_req *r)
{
    rpc_reply_error(r, -ERR_NOT_FOUND, "no such thing");
}

static void
route_big(void *arg, struct rpc_req *r)
{
    struct buf b = BUF_INIT;

    buf_grow(&b, RPC_MAX_RESP_BODY + 1);
    memset(b.ptr, 'b', RPC_MAX_RESP_BODY + 1);
    buf_setlen(&b, RPC_MAX_RESP_BODY + 1);
    rpc_reply(r, 200, &b);
    buf_release(&b);
}

static ssize_t
pattern_read(void *arg, uint64_t off, void *dst, size_t n)
{
    uint64_t base = *(uint64_t *)arg;
    size_t i;

    for (i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = (uint8_t)((base + off + i) % 251);
    return (ssize_t)n;
}

/* GET /download?size=N&offset=M: bytes (M + i) % 251 for i < N. */
static void
route_download(void *arg, struct rpc_req *r)
{
    uint64_t size = 0, *off = xcalloc(1, sizeof(*off));
    struct slice v;

    if (rpc_req_param(r, "size", &v))
        (void)parse_u64(v, &size);
    if (rpc_req_param(r, "offset", &v))
        (void)parse_u64(v, off);
    rpc_reply_stream(r, 200, size, pattern_read, free, off);
}

struct up_ctx {
    struct fixture *f;
    EVP_MD_CTX *md;
    uint64_t n;
};

static int
up_begin(void *arg, struct rpc_req *r)
{
    struct up_ctx *u = arena_zalloc(r->arena, sizeof(*u));

    if (rpc_req_header(r, "X-Test-Refuse", &(struct slice){ 0 })) {
        rpc_reply_error(r, -ERR_NO_SPACE, NULL);
        return -ERR_NO_SPACE;
    }
    u->f = arg;
    u->md = EVP_MD_CTX_new();
    BUG_ON(!u->md || EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1);
    r->ctx = u;
    return 0;
}

static int
up_data(struct rpc_req *r, const void *p, size_t n)
{
    struct up_ctx *u = r->ctx;

    EVP_DigestUpdate(u->md, p, n);
    u->n += n;
    return 0;
}

static void
up_end(struct rpc_req *r, bool ok)
{
    struct up_ctx *u = r->ctx;
    struct fixture *f = u->f;
    struct buf b = BUF_INIT;
    unsigned len = 32;

    if (ok) {
        EVP_DigestFinal_ex(u->md, f->stream_md, &len);
        atomic_store(&f->stream_bytes, u->n);
        atomic_fetch_add(&f->streams_ok, 1);
        buf_addf(&b, "%llu", (unsigned long long)u->n);
        rpc_reply(r, 200, &b);
    } else {
        atomic_fetch_add(&f->streams_bad, 1);
        rpc_reply(r, 200, NULL); /* ignored: the transport answers */
    }
    EVP_MD_CTX_free(u->md);
    buf_release(&b);
}

static const struct rpc_stream_ops up_ops = { up_begin, up_data, up_end };

static void
http_handler(void *arg, struct http_req *req)
{
    struct fixture *f = arg;

    if (slice_starts_with(req->path, SLICE_LIT(RPC_PATH_PREFIX)))
        rpc_server_handle(f->srv, req);
    else
        http_resp_empty(req, 404);
}

static void
on_state(void *arg, struct rpc_peer *p, bool online)
{
    struct fixture *f = arg;

    atomic_fetch_add(&f->transitions, 1);
    atomic_store(&f->last_state, online);
}

static struct rpc_client *
client_new(struct fixture *f, const struct rpc_key *key, const struct rpc_identity *id,
           int64_t clock_offset)
{
    struct rpc_client_config cfg = { .key = key,
                                     .self = id,
                                     .probe_interval_ns = 100 * MS,
                                     .probe_timeout_ns = 500 * MS,
                                     .on_peer_state = on_state,
                                     .on_peer_state_arg = f,
                                     .clock_offset_ns = clock_offset };
    struct rpc_client *c = NULL;

    ASSERT_OK(rpc_client_new(&cfg, &c));
    return c;
}

static void
fixture_start(struct fixture *f)
{
    struct http_config cfg = { .address = "127.0.0.1:0",
                               .idle_timeout = 5,
                               .header_limit = 64 * 1024 };
    struct rpc_identity server_id;
    struct buf err = BUF_INIT;

    memset(f, 0, sizeof(*f));
    log_set_quiet(true);
    rpc_key_derive(&f->key, NULL, "root", "secret-password");
    ASSERT_OK(rpc_identity_init(&server_id, "127.0.0.1:9001"));
    ASSERT_OK(rpc_identity_init(&f->self, "127.0.0.2:9000"));
    f->srv = rpc_server_new(&f->key, &server_id);
    ASSERT_OK(rpc_server_route(f->srv, "POST", "/echo", route_echo, f));
    ASSERT_OK(rpc_server_route(f->srv, "GET", "/sleep", route_sleep, f));
    ASSERT_OK(rpc_server_route(f->srv, "POST", "/fail", route_fail, f));
    ASSERT_OK(rpc_server_route(f->srv, "GET", "/big", route_big, f));
    ASSERT_OK(rpc_server_route(f->srv, "GET", "/download", route_download, f));
    ASSERT_OK(rpc_server_route_stream(f->srv, "POST", "/upload", &up_ops, f));
    ASSERT_EQ(rpc_server_route(f->srv, "POST", "/echo", route_echo, f), -ERR_EXISTS);
    ASSERT_OK(http_server_listen(&cfg, &f->http, &err));
    ASSERT_OK(http_server_start(f->http, http_handler, f, &err));
    f->port = http_server_port(f->http);
    snprintf(f->endpoint, sizeof(f->endpoint), "http://127.0.0.1:%d", f->port);
    f->cli = client_new(f, &f->key, &f->self, 0);
    ASSERT_OK(rpc_client_add_peer(f->cli, f->endpoint, &f->peer));
    buf_release(&err);
}

static void
fixture_stop(struct fixture *f)
{
    rpc_client_free(f->cli);
    http_server_stop(f->http);
    rpc_server_free(f->srv);
}

static int
call_simple(struct rpc_peer *p, const char *method, const char *path, const char *query,
            struct slice body, int64_t timeout, struct rpc_resp *resp)
{
    struct rpc_call call = { .method = method,
                             .path = path,
                             .query = query,
                             .body = body,
                             .deadline_ns = clock_mono_ns() + timeout,
                             .request_id = "test-req" };

    return rpc_call(p, &call, resp);
}

/* ---- small calls ---- */

TEST(rpc_call_round_trip)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct slice v;

    fixture_start(&f);
    ASSERT(rpc_peer_is_online(f.peer));
    ASSERT_OK(
        call_simple(f.peer, "POST", "/echo", "a=1&b=%2F", SLICE_LIT("hello"), 5000 * MS, &resp));
    ASSERT_EQ(resp.status, 200);
    ASSERT_EQ(resp.err, 0);
    ASSERT_STREQ(resp.body.ptr, "127.0.0.2:9000|a=1&b=%2F|test-req|hello");
    ASSERT(rpc_resp_header(&resp, "x-basalt-test", &v) && slice_eq_cstr(v, "yes"));
    ASSERT(!rpc_resp_header(&resp, "x-basalt-missing", &v));
    /* an empty body, a binary body */
    ASSERT_OK(call_simple(f.peer, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp));
    ASSERT_STREQ(resp.body.ptr, "127.0.0.2:9000||test-req|");
    ASSERT_OK(call_simple(f.peer, "POST", "/echo", NULL, slice_make("a\0b", 3), 5000 * MS, &resp));
    ASSERT_EQ(resp.body.len, strlen("127.0.0.2:9000||test-req|") + 3);
    /* an error named by the handler */
    ASSERT_OK(call_simple(f.peer, "POST", "/fail", NULL, SLICE_NULL, 5000 * MS, &resp));
    ASSERT_EQ(resp.status, 404);
    ASSERT_EQ(resp.err, -ERR_NOT_FOUND);
    ASSERT_STREQ(resp.body.ptr, "no such thing");
    /* an unknown route; a malformed call */
    ASSERT_EQ(call_simple(f.peer, "POST", "/nope", NULL, SLICE_NULL, 5000 * MS, &resp),
              -ERR_NOT_IMPLEMENTED);
    ASSERT_EQ(call_simple(f.peer, "POST", "/echo?x", NULL, SLICE_NULL, 5000 * MS, &resp),
              -ERR_INVAL);
    ASSERT_EQ(call_simple(f.peer, "POST", "/e cho", NULL, SLICE_NULL, 5000 * MS, &resp),
              -ERR_INVAL);
    ASSERT_EQ(call_simple(f.peer, "post", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp), -ERR_INVAL);
    /* the built-in health route */
    ASSERT_OK(call_simple(f.peer, "GET", "/health", NULL, SLICE_NULL, 5000 * MS, &resp));
    ASSERT_EQ(resp.status, 200);
    ASSERT(strstr(resp.body.ptr, "\"node\":\"127.0.0.1:9001\""));
    ASSERT(strstr(resp.body.ptr, "\"version\":1"));
    /* an answer larger than allowed */
    ASSERT_EQ(call_simple(f.peer, "GET", "/big", NULL, SLICE_NULL, 5000 * MS, &resp),
              -ERR_TOO_LARGE);
    ASSERT_EQ(resp.body.len, 0);
    ASSERT_EQ(atomic_load(&f.handled), 3);
    rpc_resp_release(&resp);
    fixture_stop(&f);
}

TEST(rpc_call_body_limit)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    size_t n = RPC_MAX_BODY + 1;
    char *big = xcalloc(1, n);

    fixture_start(&f);
    ASSERT_EQ(call_simple(f.peer, "POST", "/echo", NULL, slice_make(big, n), 5000 * MS, &resp),
              -ERR_TOO_LARGE);
    ASSERT_EQ(atomic_load(&f.handled), 0);
    ASSERT_OK(
        call_simple(f.peer, "POST", "/echo", NULL, slice_make(big, n - 100), 5000 * MS, &resp));
    ASSERT_EQ(resp.status, 200);
    free(big);
    rpc_resp_release(&resp);
    fixture_stop(&f);
}

TEST(rpc_call_reuses_connections)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_peer_stats st;
    int i;

    fixture_start(&f);
    for (i = 0; i < 100; i++) {
        ASSERT_OK(call_simple(f.peer, "POST", "/echo", NULL, SLICE_LIT("x"), 5000 * MS, &resp));
        ASSERT_EQ(resp.status, 200);
    }
    rpc_peer_stats(f.peer, &st);
    ASSERT_EQ(st.calls, 100);
    ASSERT_EQ(st.failures, 0);
    ASSERT(st.connects >= 1 && st.connects <= 2);
    rpc_resp_release(&resp);
    fixture_stop(&f);
}

struct worker {
    struct fixture *f;
    int id;
    int ok;
};

static void *
concurrent_worker(void *arg)
{
    struct worker *w = arg;
    struct rpc_resp resp = RPC_RESP_INIT;
    char body[32], want[96];
    int i;

    for (i = 0; i < 200; i++) {
        snprintf(body, sizeof(body), "%d-%d", w->id, i);
        snprintf(want, sizeof(want), "127.0.0.2:9000||test-req|%s", body);
        if (call_simple(w->f->peer, "POST", "/echo", NULL, slice_cstr(body), 10000 * MS, &resp) ==
                0 &&
            resp.status == 200 && strcmp(resp.body.ptr, want) == 0)
            w->ok++;
    }
    rpc_resp_release(&resp);
    return NULL;
}

TEST(rpc_call_concurrent)
{
    struct fixture f;
    struct worker w[8];
    pthread_t t[8];
    struct rpc_peer_stats st;
    int i;

    fixture_start(&f);
    for (i = 0; i < 8; i++) {
        w[i] = (struct worker){ &f, i, 0 };
        ASSERT_EQ(pthread_create(&t[i], NULL, concurrent_worker, &w[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(w[i].ok, 200);
    }
    ASSERT_EQ(atomic_load(&f.handled), 1600);
    rpc_peer_stats(f.peer, &st);
    ASSERT(st.connects <= 16); /* at most one per concurrent call, plus a few re-opened */
    fixture_stop(&f);
}

/* ---- authentication, through clients ---- */

TEST(rpc_auth_wrong_key_refused)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_client *other;
    struct rpc_peer *p;
    struct rpc_key k;

    fixture_start(&f);
    rpc_key_derive(&k, NULL, "root", "another-password");
    other = client_new(&f, &k, &f.self, 0);
    ASSERT_OK(rpc_client_add_peer(other, f.endpoint, &p));
    ASSERT_EQ(call_simple(p, "POST", "/echo", NULL, SLICE_LIT("x"), 5000 * MS, &resp),
              -ERR_PEER_AUTH);
    ASSERT_EQ(atomic_load(&f.handled), 0);
    ASSERT(rpc_peer_is_online(p)); /* refused, not unreachable */
    /* a cluster secret on one side only: refused too */
    rpc_client_free(other);
    rpc_key_derive(&k, "cluster-secret", "root", "secret-password");
    other = client_new(&f, &k, &f.self, 0);
    ASSERT_OK(rpc_client_add_peer(other, f.endpoint, &p));
    ASSERT_EQ(call_simple(p, "GET", "/health", NULL, SLICE_NULL, 5000 * MS, &resp), -ERR_PEER_AUTH);
    rpc_client_free(other);
    rpc_resp_release(&resp);
    fixture_stop(&f);
}

TEST(rpc_auth_clock_skew)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_client *c;
    struct rpc_peer *p;
    struct rpc_identity id;

    fixture_start(&f);
    /* 20 minutes ahead, then behind: refused as skew; 10 minutes: accepted */
    ASSERT_OK(rpc_identity_init(&id, "skewed:1"));
    c = client_new(&f, &f.key, &id, 20 * 60 * 1000 * MS);
    ASSERT_OK(rpc_client_add_peer(c, f.endpoint, &p));
    ASSERT_EQ(call_simple(p, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp),
              -ERR_TIME_SKEWED);
    rpc_client_free(c);
    c = client_new(&f, &f.key, &id, -20 * 60 * 1000 * MS);
    ASSERT_OK(rpc_client_add_peer(c, f.endpoint, &p));
    ASSERT_EQ(call_simple(p, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp),
              -ERR_TIME_SKEWED);
    rpc_client_free(c);
    ASSERT_EQ(atomic_load(&f.handled), 0);
    c = client_new(&f, &f.key, &id, -10 * 60 * 1000 * MS);
    ASSERT_OK(rpc_client_add_peer(c, f.endpoint, &p));
    ASSERT_OK(call_simple(p, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp));
    ASSERT_EQ(resp.status, 200);
    rpc_client_free(c);
    /* the server's clock off by 10 minutes: accepted too */
    rpc_server_set_clock_offset(f.srv, 10 * 60 * 1000 * MS);
    ASSERT_OK(call_simple(f.peer, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp));
    ASSERT_EQ(atomic_load(&f.handled), 2);
    rpc_resp_release(&resp);
    fixture_stop(&f);
}

TEST(rpc_auth_old_boot_refused)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_identity older;
    struct rpc_client *c;
    struct rpc_peer *p;

    fixture_start(&f);
    ASSERT_OK(call_simple(f.peer, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp));
    /* the same node, an earlier boot: a capture from before a restart */
    ASSERT_OK(rpc_identity_init(&older, f.self.node));
    older.boot_time_ns = f.self.boot_time_ns - 1000;
    c = client_new(&f, &f.key, &older, 0);
    ASSERT_OK(rpc_client_add_peer(c, f.endpoint, &p));
    ASSERT_EQ(call_simple(p, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp), -ERR_REPLAY);
    rpc_client_free(c);
    ASSERT_EQ(atomic_load(&f.handled), 1);
    /* a later boot is a restart: accepted, and the first boot is now refused */
    ASSERT_OK(rpc_identity_init(&older, f.self.node));
    older.boot_time_ns = f.self.boot_time_ns + 1000;
    c = client_new(&f, &f.key, &older, 0);
    ASSERT_OK(rpc_client_add_peer(c, f.endpoint, &p));
    ASSERT_OK(call_simple(p, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp));
    rpc_client_free(c);
    ASSERT_EQ(call_simple(f.peer, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp),
              -ERR_REPLAY);
    ASSERT_EQ(atomic_load(&f.handled), 2);
    rpc_resp_release(&resp);
    fixture_stop(&f);
}

/* ---- authentication, with hand-made requests ---- */

static int
connect_to(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BUG_ON(fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0);
    return fd;
}

/* Sends `req` on a new connection and reads the answer until EOF. */
static void
exchange(int port, struct slice req, struct buf *out)
{
    int fd = connect_to(port);
    char chunk[65536];
    ssize_t n;

    buf_clear(out);
    BUG_ON(write(fd, req.ptr, req.len) != (ssize_t)req.len);
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_add(out, chunk, (size_t)n);
    close(fd);
}

static void
add_header(void *arg, const char *name, struct slice value)
{
    buf_addf(arg, "%s: %.*s\r\n", name, (int)value.len, value.ptr);
}

/*
 * A signed request as bytes: POST <path>?<query> with `body` (or, when
 * `stream`, a chunked framed body the caller appends). `time_ms` 0: now.
 */
static void
raw_request(struct buf *out, const struct fixture *f, const char *path, const char *query,
            struct slice body, uint64_t seq, int64_t time_ms, struct rpc_auth_hdr *h)
{
    uint8_t md[32];
    unsigned len = sizeof(md);

    BUG_ON(!EVP_Digest(body.len ? body.ptr : "", body.len, md, &len, EVP_sha256(), NULL));
    rpc_auth_hdr_make(h, &f->key, &f->self, 1, seq, time_ms ? time_ms : clock_now_ns() / MS, md,
                      "raw", SLICE_LIT("POST"), slice_cstr(path), slice_cstr(query));
    buf_clear(out);
    buf_addf(out, "POST %s%s%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n", path,
             query[0] ? "?" : "", query);
    rpc_auth_hdr_emit(h, add_header, out);
    buf_addf(out, "Content-Length: %zu\r\n\r\n", body.len);
    buf_addslice(out, body);
}

static bool
refused_with(const struct buf *r, const char *status, const char *code)
{
    char want[64];

    snprintf(want, sizeof(want), "X-Basalt-Rpc-Refused: %s\r\n", code);
    return strncmp(r->ptr, status, strlen(status)) == 0 && strstr(r->ptr, want);
}

/* Replaces the first `from` in `b` by `to` (same length). */
static void
tamper(struct buf *b, const char *from, const char *to)
{
    char *p = memmem(b->ptr, b->len, from, strlen(from));

    BUG_ON(!p || strlen(from) != strlen(to));
    memcpy(p, to, strlen(to));
}

/* Sends a copy of `req` with `from` replaced by `to`; true if refused 403 `code`. */
static bool
tampered_refused(int port, const struct buf *req, const char *from, const char *to,
                 const char *code)
{
    struct buf t = BUF_INIT, r = BUF_INIT;
    bool ok;

    buf_addslice(&t, buf_slice(req));
    tamper(&t, from, to);
    exchange(port, buf_slice(&t), &r);
    ok = refused_with(&r, "HTTP/1.1 403", code);
    buf_release(&t);
    buf_release(&r);
    return ok;
}

TEST(rpc_auth_raw_tamper_and_replay)
{
    struct fixture f;
    struct buf req = BUF_INIT, r = BUF_INIT;
    struct rpc_auth_hdr h;
    char from[40], to[40];

    fixture_start(&f);
    /* genuine, then the same bytes again: a replay */
    raw_request(&req, &f, "/basalt/rpc/v1/echo", "a=1", SLICE_LIT("body"), 1000, 0, &h);
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(strncmp(r.ptr, "HTTP/1.1 200", 12) == 0);
    ASSERT(strstr(r.ptr, "|a=1|raw|body"));
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(refused_with(&r, "HTTP/1.1 403", "replay"));
    ASSERT_EQ(atomic_load(&f.handled), 1);
    /* tampered body, path, query, time (1 ms later), sequence number */
    raw_request(&req, &f, "/basalt/rpc/v1/echo", "a=1", SLICE_LIT("body"), 1001, 0, &h);
    ASSERT(tampered_refused(f.port, &req, "\r\n\r\nbody", "\r\n\r\nBODY", "cluster-auth"));
    ASSERT(tampered_refused(f.port, &req, "/v1/echo?", "/v1/ech0?", "cluster-auth"));
    ASSERT(tampered_refused(f.port, &req, "?a=1 ", "?a=2 ", "cluster-auth"));
    snprintf(from, sizeof(from), "Time: %lld\r", (long long)h.time_ms);
    snprintf(to, sizeof(to), "Time: %lld\r", (long long)h.time_ms + 1);
    ASSERT(tampered_refused(f.port, &req, from, to, "cluster-auth"));
    ASSERT(tampered_refused(f.port, &req, "Seq: 1001\r", "Seq: 1002\r", "cluster-auth"));
    ASSERT_EQ(atomic_load(&f.handled), 1);
    /* the genuine one still works: the tampered copies burnt nothing */
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(strncmp(r.ptr, "HTTP/1.1 200", 12) == 0);
    ASSERT_EQ(atomic_load(&f.handled), 2);
    buf_release(&req);
    buf_release(&r);
    fixture_stop(&f);
}

TEST(rpc_auth_raw_refusals)
{
    struct fixture f;
    struct buf req = BUF_INIT, r = BUF_INIT;
    struct rpc_auth_hdr h;

    fixture_start(&f);
    /* no auth headers at all */
    exchange(f.port,
             SLICE_LIT("POST /basalt/rpc/v1/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Content-Length: 0\r\n\r\n"),
             &r);
    ASSERT(refused_with(&r, "HTTP/1.1 403", "cluster-auth"));
    /* an unsupported version names the supported ones, before any auth */
    exchange(
        f.port,
        SLICE_LIT("GET /basalt/rpc/v9/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        &r);
    ASSERT(refused_with(&r, "HTTP/1.1 400", "version"));
    ASSERT(strstr(r.ptr, "X-Basalt-Rpc-Versions: 1\r\n"));
    ASSERT(strstr(r.ptr, "this node speaks 1"));
    exchange(f.port,
             SLICE_LIT("GET /basalt/rpc/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
             &r);
    ASSERT(refused_with(&r, "HTTP/1.1 400", "version"));
    /* a signed v1 call whose header says another version */
    raw_request(&req, &f, "/basalt/rpc/v1/echo", "", SLICE_NULL, 1002, 0, &h);
    ASSERT(tampered_refused(f.port, &req, "Version: 1\r", "Version: 2\r", "cluster-auth"));
    /* correctly signed, but 20 minutes off: the skew answer, with this node's clock */
    raw_request(&req, &f, "/basalt/rpc/v1/echo", "", SLICE_NULL, 1003,
                clock_now_ns() / MS - 20 * 60 * 1000, &h);
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(refused_with(&r, "HTTP/1.1 403", "clock-skew"));
    ASSERT(strstr(r.ptr, "X-Basalt-Rpc-Time: "));
    ASSERT(strstr(r.ptr, "-1200 s away") || strstr(r.ptr, "-1199 s away"));
    /* a plain body larger than allowed: refused from its Content-Length */
    raw_request(&req, &f, "/basalt/rpc/v1/echo", "", SLICE_NULL, 1004, 0, &h);
    tamper(&req, "Content-Length: 0\r", "Content-Length: 9\r");
    buf_setlen(&req, req.len - strlen("9\r\n\r\n"));
    buf_addf(&req, "%u\r\n\r\n", RPC_MAX_BODY + 1);
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(refused_with(&r, "HTTP/1.1 413", "too-large"));
    ASSERT_EQ(atomic_load(&f.handled), 0);
    buf_release(&req);
    buf_release(&r);
    fixture_stop(&f);
}

/* A streamed upload by hand: chunked, framed; `mode` 0 good, 1 bad tag, 2 flipped data. */
static void
raw_stream(struct buf *out, const struct fixture *f, uint64_t seq, int mode)
{
    struct rpc_auth_hdr h;
    struct rpc_mac *m;
    uint8_t frame[4 + 100], end[4 + RPC_TAG_SIZE];

    rpc_auth_hdr_make(&h, &f->key, &f->self, 1, seq, clock_now_ns() / MS, NULL, "raw",
                      SLICE_LIT("POST"), SLICE_LIT("/basalt/rpc/v1/upload"), SLICE_NULL);
    buf_clear(out);
    buf_adds(out, "POST /basalt/rpc/v1/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  "Transfer-Encoding: chunked\r\n");
    rpc_auth_hdr_emit(&h, add_header, out);
    buf_adds(out, "\r\n");
    m = rpc_mac_new(&f->key, h.sig);
    rpc_frame_hdr(frame, 100);
    memset(frame + 4, 'd', 100);
    rpc_mac_update(m, frame, sizeof(frame));
    rpc_frame_hdr(end, 0);
    rpc_mac_update(m, end, 4);
    rpc_mac_final(m, end + 4);
    rpc_mac_free(m);
    if (mode == 1)
        end[10] ^= 1;
    if (mode == 2)
        frame[50] ^= 1;
    buf_addf(out, "%zx\r\n", sizeof(frame));
    buf_add(out, frame, sizeof(frame));
    buf_addf(out, "\r\n%zx\r\n", sizeof(end));
    buf_add(out, end, sizeof(end));
    buf_adds(out, "\r\n0\r\n\r\n");
}

TEST(rpc_stream_raw_corruption)
{
    struct fixture f;
    struct buf req = BUF_INIT, r = BUF_INIT;

    fixture_start(&f);
    raw_stream(&req, &f, 50, 0);
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(strncmp(r.ptr, "HTTP/1.1 200", 12) == 0);
    ASSERT(strstr(r.ptr, "\r\n\r\n100"));
    ASSERT_EQ(atomic_load(&f.streams_ok), 1);
    raw_stream(&req, &f, 51, 1);
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(refused_with(&r, "HTTP/1.1 403", "stream-auth"));
    raw_stream(&req, &f, 52, 2);
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(refused_with(&r, "HTTP/1.1 403", "stream-auth"));
    ASSERT_EQ(atomic_load(&f.streams_bad), 2);
    /* cut short: no end frame, no tag */
    raw_stream(&req, &f, 53, 0);
    buf_setlen(&req, req.len - strlen("\r\n0\r\n\r\n") - 20 - strlen("\r\n14\r\n"));
    buf_adds(&req, "\r\n0\r\n\r\n");
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(refused_with(&r, "HTTP/1.1 400", "bad-body"));
    ASSERT_EQ(atomic_load(&f.streams_bad), 3);
    /* the replay of a good stream never reaches the handler */
    raw_stream(&req, &f, 50, 0);
    exchange(f.port, buf_slice(&req), &r);
    ASSERT(refused_with(&r, "HTTP/1.1 403", "replay"));
    ASSERT_EQ(atomic_load(&f.streams_ok), 1);
    ASSERT_EQ(atomic_load(&f.streams_bad), 3);
    buf_release(&req);
    buf_release(&r);
    fixture_stop(&f);
}

/* ---- streaming through the client ---- */

struct writer {
    struct rpc_upload *up;
    const uint8_t *p;
    size_t n;
    int rc;
};

static void *
write_one(void *arg)
{
    struct writer *w = arg;

    w->rc = rpc_upload_write(w->up, w->p, w->n);
    return NULL;
}

TEST(rpc_upload_64mib_from_alternating_threads)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_call call = { .method = "POST", .path = "/upload", .request_id = "up" };
    struct rpc_upload *up;
    size_t total = 64u << 20, piece = 1u << 20, off;
    uint8_t *data = xmalloc(total), md[32];
    unsigned len = 32;
    uint64_t seed = 7;
    struct writer w;
    pthread_t t;

    fixture_start(&f);
    harness_fill_random(&seed, data, total);
    BUG_ON(!EVP_Digest(data, total, md, &len, EVP_sha256(), NULL));
    call.deadline_ns = clock_mono_ns() + 20000 * MS;
    call.step_timeout_ns = 5000 * MS;
    ASSERT_OK(rpc_upload_begin(f.peer, &call, &up));
    for (off = 0; off < total; off += piece) {
        w = (struct writer){ up, data + off, piece, -1 };
        if ((off / piece) % 2 == 0) {
            ASSERT_EQ(pthread_create(&t, NULL, write_one, &w), 0);
            pthread_join(t, NULL);
        } else {
            write_one(&w);
        }
        ASSERT_OK(w.rc);
    }
    ASSERT_OK(rpc_upload_finish(up, &resp));
    ASSERT_EQ(resp.status, 200);
    ASSERT_EQ(atomic_load(&f.streams_ok), 1);
    ASSERT_EQ(atomic_load(&f.stream_bytes), total);
    ASSERT_MEMEQ(f.stream_md, md, 32);
    ASSERT_EQ(strtoull(resp.body.ptr, NULL, 10), total);
    /* a small one right after, on the pooled connection */
    call.deadline_ns = clock_mono_ns() + 5000 * MS;
    ASSERT_OK(rpc_upload_begin(f.peer, &call, &up));
    ASSERT_OK(rpc_upload_write(up, "abc", 3));
    ASSERT_OK(rpc_upload_write(up, "", 0));
    ASSERT_OK(rpc_upload_finish(up, &resp));
    ASSERT_STREQ(resp.body.ptr, "3");
    free(data);
    rpc_resp_release(&resp);
    fixture_stop(&f);
}

static bool
wait_for(atomic_int *v, int want, int64_t timeout)
{
    int64_t end = clock_mono_ns() + timeout;

    while (atomic_load(v) != want && clock_mono_ns() < end)
        usleep(5000);
    return atomic_load(v) == want;
}

TEST(rpc_upload_abort_and_refusal)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_call call = { .method = "POST", .path = "/upload" };
    struct rpc_upload *up;
    char *piece = xcalloc(1, 1 << 20);

    fixture_start(&f);
    call.deadline_ns = clock_mono_ns() + 5000 * MS;
    ASSERT_OK(rpc_upload_begin(f.peer, &call, &up));
    ASSERT_OK(rpc_upload_write(up, piece, 1 << 20));
    rpc_upload_abort(up);
    ASSERT(wait_for(&f.streams_bad, 1, 5000 * MS));
    ASSERT_EQ(atomic_load(&f.streams_ok), 0);
    /* a streaming call to a plain route, and to an unknown one */
    call.path = "/echo";
    ASSERT_OK(rpc_upload_begin(f.peer, &call, &up));
    (void)rpc_upload_write(up, "abc", 3);
    ASSERT_EQ(rpc_upload_finish(up, &resp), -ERR_BAD_REQUEST);
    call.path = "/nope";
    ASSERT_OK(rpc_upload_begin(f.peer, &call, &up));
    ASSERT_EQ(rpc_upload_finish(up, &resp), -ERR_NOT_IMPLEMENTED);
    /* the pool still works */
    ASSERT_OK(call_simple(f.peer, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp));
    ASSERT_EQ(resp.status, 200);
    free(piece);
    rpc_resp_release(&resp);
    fixture_stop(&f);
}

TEST(rpc_download_from_offset_and_early_close)
{
    struct fixture f;
    struct rpc_resp head = RPC_RESP_INIT;
    struct rpc_call call = { .method = "GET", .path = "/download", .request_id = "dl" };
    struct rpc_download *dl;
    uint64_t size = 48u << 20, got = 0, off = 12345, i;
    uint8_t *buf = xmalloc(300000);
    ssize_t n;
    bool same = true;
    char q[64];

    fixture_start(&f);
    snprintf(q, sizeof(q), "size=%llu&offset=%llu", (unsigned long long)size,
             (unsigned long long)off);
    call.query = q;
    call.deadline_ns = clock_mono_ns() + 20000 * MS;
    call.step_timeout_ns = 5000 * MS;
    ASSERT_OK(rpc_download_begin(f.peer, &call, &dl, &head));
    ASSERT_EQ(head.status, 200);
    while ((n = rpc_download_read(dl, buf, 1 + got % 300000)) > 0) {
        for (i = 0; i < (uint64_t)n; i++)
            same &= buf[i] == (uint8_t)((off + got + i) % 251);
        got += (uint64_t)n;
    }
    ASSERT_EQ(n, 0);
    ASSERT_EQ(rpc_download_read(dl, buf, 10), 0);
    ASSERT_EQ(got, size);
    ASSERT(same);
    rpc_download_close(dl);
    /* close early after 1 MiB: no hang, and the next calls work */
    ASSERT_OK(rpc_download_begin(f.peer, &call, &dl, &head));
    for (got = 0; got < (1u << 20); got += (uint64_t)n) {
        n = rpc_download_read(dl, buf, 300000);
        ASSERT(n > 0);
    }
    rpc_download_close(dl);
    call.query = "size=5&offset=0";
    ASSERT_OK(rpc_download_begin(f.peer, &call, &dl, &head));
    ASSERT_EQ(rpc_download_read(dl, buf, 100), 5);
    ASSERT_EQ(buf[4], 4);
    ASSERT_EQ(rpc_download_read(dl, buf, 100), 0);
    rpc_download_close(dl);
    /* a refusal at begin */
    call.path = "/nope";
    ASSERT_EQ(rpc_download_begin(f.peer, &call, &dl, &head), -ERR_NOT_IMPLEMENTED);
    free(buf);
    rpc_resp_release(&head);
    fixture_stop(&f);
}

/* ---- deadlines and health ---- */

TEST(rpc_deadline_offline_and_back)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_peer_stats st;
    int64_t t0, took;

    fixture_start(&f);
    t0 = clock_mono_ns();
    ASSERT_EQ(call_simple(f.peer, "GET", "/sleep", "ms=1500", SLICE_NULL, 200 * MS, &resp),
              -ERR_TIMEOUT);
    took = clock_mono_ns() - t0;
    ASSERT(took >= 190 * MS && took < 1200 * MS); /* the deadline, not the 1.5 s sleep */
    ASSERT(!rpc_peer_is_online(f.peer));
    ASSERT_EQ(atomic_load(&f.transitions), 1);
    ASSERT_EQ(atomic_load(&f.last_state), 0);
    /* fail fast, no network */
    t0 = clock_mono_ns();
    ASSERT_EQ(call_simple(f.peer, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp),
              -ERR_OFFLINE);
    ASSERT(clock_mono_ns() - t0 < 1000 * MS); /* at once, not the 5 s deadline */
    ASSERT_EQ(atomic_load(&f.handled), 0);
    /* the prober (every 100 ms) brings it back */
    ASSERT(wait_for(&f.transitions, 2, 3000 * MS));
    ASSERT(rpc_peer_is_online(f.peer));
    ASSERT_EQ(atomic_load(&f.last_state), 1);
    ASSERT_OK(call_simple(f.peer, "POST", "/echo", NULL, SLICE_NULL, 5000 * MS, &resp));
    rpc_peer_stats(f.peer, &st);
    ASSERT_EQ(st.offline, 1);
    ASSERT_EQ(st.online, 1);
    rpc_resp_release(&resp);
    fixture_stop(&f);
}

/*
 * A fake peer on a raw socket: mode 0 never answers (never even accepts), 1 garbage, 2 half,
 * 3 refuses every call (no-route) as soon as it accepts, before reading the request, then reads
 * until the caller closes.
 */
struct fake_peer {
    int fd;
    int port;
    int mode;
    pthread_t thread;
};

static void *
fake_main(void *arg)
{
    struct fake_peer *fp = arg;
    static const char half[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc";
    static const char garbage[] = "\x01\x02 this is not HTTP\r\n\r\n";
    static const char refused[] = "HTTP/1.1 404 Not Found\r\n" RPC_HDR_REFUSED ": no-route\r\n"
                                  "Connection: close\r\nContent-Length: 0\r\n\r\n";
    struct timeval tv = { 10, 0 };
    char buf[4096];
    int c;

    for (;;) {
        c = accept(fp->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        if (fp->mode == 3) {
            (void)write(c, refused, sizeof(refused) - 1);
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            while (read(c, buf, sizeof(buf)) > 0)
                ;
            close(c);
            continue;
        }
        (void)read(c, buf, sizeof(buf));
        if (fp->mode == 1)
            (void)write(c, garbage, sizeof(garbage) - 1);
        else
            (void)write(c, half, sizeof(half) - 1);
        close(c);
    }
}

static void
fake_start(struct fake_peer *fp, int mode)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);

    fp->mode = mode;
    fp->fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BUG_ON(fp->fd < 0 || bind(fp->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
           listen(fp->fd, 16) < 0 || getsockname(fp->fd, (struct sockaddr *)&sa, &len) < 0);
    fp->port = ntohs(sa.sin_port);
    if (mode != 0)
        BUG_ON(pthread_create(&fp->thread, NULL, fake_main, fp) != 0);
}

/* Stops accepting (accept() then fails), joins the thread, closes the socket. */
static void
fake_stop(struct fake_peer *fp)
{
    shutdown(fp->fd, SHUT_RDWR);
    if (fp->mode != 0)
        pthread_join(fp->thread, NULL);
    close(fp->fd);
}

static struct rpc_peer *
fake_peer(struct fixture *f, struct fake_peer *fp, int mode)
{
    struct rpc_peer *p;
    char ep[64];

    fake_start(fp, mode);
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", fp->port);
    ASSERT_OK(rpc_client_add_peer(f->cli, ep, &p));
    return p;
}

TEST(rpc_fake_peers)
{
    struct fixture f;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct fake_peer silent, garbage, half;
    struct rpc_peer *p;
    struct rpc_upload *up;
    struct rpc_call call = { .method = "POST", .path = "/upload" };
    int64_t t0, took;
    char ep[64];
    int fd;

    fixture_start(&f);
    /* accepts (the kernel does) and never answers: the deadline, then offline */
    p = fake_peer(&f, &silent, 0);
    t0 = clock_mono_ns();
    ASSERT_EQ(call_simple(p, "POST", "/echo", NULL, SLICE_LIT("x"), 300 * MS, &resp), -ERR_TIMEOUT);
    took = clock_mono_ns() - t0;
    ASSERT(took >= 290 * MS && took < 1500 * MS); /* room for a loaded machine */
    ASSERT(!rpc_peer_is_online(p));
    ASSERT_EQ(call_simple(p, "POST", "/echo", NULL, SLICE_NULL, 300 * MS, &resp), -ERR_OFFLINE);
    /* garbage, half an answer: -ERR_IO, no crash, no hang */
    p = fake_peer(&f, &garbage, 1);
    ASSERT_EQ(call_simple(p, "POST", "/echo", NULL, SLICE_NULL, 3000 * MS, &resp), -ERR_IO);
    p = fake_peer(&f, &half, 2);
    ASSERT_EQ(call_simple(p, "POST", "/echo", NULL, SLICE_NULL, 3000 * MS, &resp), -ERR_IO);
    ASSERT(rpc_peer_is_online(p));
    /* streams to them */
    call.deadline_ns = clock_mono_ns() + 3000 * MS;
    if (rpc_upload_begin(p, &call, &up) == 0)
        ASSERT_EQ(rpc_upload_finish(up, &resp), -ERR_IO);
    /* nobody listening: refused, offline */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t len = sizeof(sa);

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BUG_ON(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
               getsockname(fd, (struct sockaddr *)&sa, &len) < 0);
        snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", ntohs(sa.sin_port));
    }
    ASSERT_OK(rpc_client_add_peer(f.cli, ep, &p));
    ASSERT_EQ(call_simple(p, "POST", "/echo", NULL, SLICE_NULL, 3000 * MS, &resp), -ERR_IO);
    ASSERT(!rpc_peer_is_online(p));
    close(fd);
    /* the real peer was never disturbed */
    ASSERT(rpc_peer_is_online(f.peer));
    ASSERT_OK(call_simple(f.peer, "POST", "/echo", NULL, SLICE_NULL, 3000 * MS, &resp));
    rpc_resp_release(&resp);
    fixture_stop(&f);
    fake_stop(&silent);
    fake_stop(&garbage);
    fake_stop(&half);
}

/*
 * A peer that refuses a stream at once, its answer already there when the headers go out: begin
 * succeeds all the same, and the refusal comes from the write and from finish (wherever the
 * scheduler lets it arrive, it is surfaced at the same place).
 */
TEST(rpc_upload_refused_before_its_body)
{
    struct fixture f;
    struct fake_peer refusing;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_call call = { .method = "POST", .path = "/upload" };
    struct rpc_upload *up;
    struct rpc_peer *p;
    int i, rc;

    fixture_start(&f);
    p = fake_peer(&f, &refusing, 3);
    for (i = 0; i < 5; i++) {
        call.deadline_ns = clock_mono_ns() + 5000 * MS;
        ASSERT_OK(rpc_upload_begin(p, &call, &up));
        rc = rpc_upload_write(up, "abc", 3);
        ASSERT(rc == 0 || rc == -ERR_NOT_IMPLEMENTED); /* the answer may not be in yet */
        ASSERT_EQ(rpc_upload_finish(up, &resp), -ERR_NOT_IMPLEMENTED);
        ASSERT(rpc_peer_is_online(p));
    }
    call.deadline_ns = clock_mono_ns() + 5000 * MS;
    ASSERT_OK(rpc_upload_begin(p, &call, &up));
    rpc_upload_abort(up);
    rpc_resp_release(&resp);
    fixture_stop(&f);
    fake_stop(&refusing);
}

TEST(rpc_upload_to_silent_peer_times_out)
{
    struct fixture f;
    struct fake_peer silent;
    struct rpc_call call = { .method = "POST", .path = "/upload" };
    struct rpc_upload *up;
    struct rpc_peer *p;
    char *piece = xcalloc(1, 1 << 20);
    int64_t t0;
    int rc = 0, i;

    fixture_start(&f);
    p = fake_peer(&f, &silent, 0);
    call.deadline_ns = clock_mono_ns() + 10000 * MS;
    call.step_timeout_ns = 300 * MS;
    ASSERT_OK(rpc_upload_begin(p, &call, &up));
    /* the socket buffers fill up, then a write misses its step deadline */
    t0 = clock_mono_ns();
    for (i = 0; i < 64 && rc == 0; i++)
        rc = rpc_upload_write(up, piece, 1 << 20);
    ASSERT_EQ(rc, -ERR_TIMEOUT);
    ASSERT(clock_mono_ns() - t0 < 3000 * MS);
    ASSERT(!rpc_peer_is_online(p));
    ASSERT_EQ(rpc_upload_write(up, piece, 10), -ERR_TIMEOUT); /* sticky */
    rpc_upload_abort(up);
    free(piece);
    fixture_stop(&f);
    fake_stop(&silent);
}

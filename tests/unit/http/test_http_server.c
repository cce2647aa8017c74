/*
 * tests/unit/http/test_http_server.c: the libmicrohttpd adapter end to end on
 * loopback: raw path and query kept as sent, request ids and the common
 * headers on every response, request bodies, streamed responses, refusal
 * before the body, keep-alive.
 */
#include "util/base.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "http/http.h"

struct body_count {
    uint64_t n;
};

static ssize_t
pattern_read(void *arg, uint64_t off, void *dst, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        ((unsigned char *)dst)[i] = (unsigned char)((off + i) % 251);
    return (ssize_t)n;
}

static void
pattern_free(void *arg)
{
    free(arg);
}

static int
on_body(struct http_req *req, const void *data, size_t n)
{
    ((struct body_count *)req->ctx)->n += n;
    return 0;
}

static void
on_end(struct http_req *req)
{
    struct buf b = BUF_INIT;

    buf_addf(&b, "%llu", (unsigned long long)((struct body_count *)req->ctx)->n);
    http_resp_buf(req, 200, &b);
    buf_release(&b);
}

static void
handler(void *arg, struct http_req *req)
{
    struct buf b = BUF_INIT;

    if (slice_starts_with(req->path, SLICE_LIT("/echo"))) {
        buf_addf(&b, "%.*s|%.*s|%zu", (int)req->path.len, req->path.ptr, (int)req->query.len,
                 req->query.ptr, req->nparams);
        http_resp_header(req, "X-Test", "yes");
        http_resp_buf(req, 200, &b);
    } else if (slice_eq_cstr(req->path, "/stream")) {
        http_resp_stream(req, 200, 1000000, pattern_read, pattern_free, xmalloc(1));
    } else if (slice_eq_cstr(req->path, "/body")) {
        req->ctx = arena_zalloc(req->arena, sizeof(struct body_count));
        http_req_expect_body(req, on_body, on_end);
    } else {
        http_resp_empty(req, 403);
    }
    buf_release(&b);
}

static int
connect_to(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BUG_ON(fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0);
    return fd;
}

/* Sends `req` (and `body_len` bytes of body), reads until EOF into `out`. */
static void
exchange(int port, const char *req, size_t body_len, struct buf *out)
{
    int fd = connect_to(port);
    char chunk[65536];
    ssize_t n;

    BUG_ON(write(fd, req, strlen(req)) != (ssize_t)strlen(req));
    memset(chunk, 'b', sizeof(chunk));
    while (body_len) {
        n = write(fd, chunk, MIN(body_len, sizeof(chunk)));
        if (n <= 0)
            break;
        body_len -= (size_t)n;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_add(out, chunk, (size_t)n);
    close(fd);
}

static struct http_server *
start(int *port, enum http_engine_id engine)
{
    struct http_config cfg = {
        .address = "127.0.0.1:0", .idle_timeout = 5, .header_limit = 32 * 1024, .engine = engine
    };
    struct http_server *srv = NULL;
    struct buf err = BUF_INIT;

    ASSERT_OK(http_server_listen(&cfg, &srv, &err));
    ASSERT_OK(http_server_start(srv, handler, NULL, &err));
    *port = http_server_port(srv);
    ASSERT(*port > 0);
    buf_release(&err);
    return srv;
}

static void
raw_uri_and_headers(enum http_engine_id engine)
{
    struct buf r = BUF_INIT;
    struct http_server *srv;
    const char *id;
    int port, i;

    srv = start(&port, engine);
    exchange(port,
             "GET /echo/a%2Fb%20c//../x?list-type=2&prefix=a%2F HTTP/1.1\r\nHost: x\r\n"
             "Connection: close\r\n\r\n",
             0, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
    ASSERT(strstr(r.ptr, "/echo/a%2Fb%20c//../x|list-type=2&prefix=a%2F|2"));
    ASSERT(strstr(r.ptr, "Server: Basalt\r\n"));
    ASSERT(strstr(r.ptr, "X-Test: yes\r\n"));
    ASSERT(strstr(r.ptr, "Date: "));
    id = strstr(r.ptr, "x-amz-request-id: ");
    ASSERT(id);
    for (i = 0; id && i < HTTP_REQUEST_ID_LEN; i++)
        ASSERT(strchr("0123456789ABCDEF", id[18 + i]));
    buf_clear(&r);
    exchange(port, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 403"));
    ASSERT(strstr(r.ptr, "x-amz-request-id: "));
    buf_release(&r);
    http_server_stop(srv);
}

static void
bodies(enum http_engine_id engine)
{
    struct buf r = BUF_INIT;
    struct http_server *srv;
    const char *body;
    size_t i;
    int port;

    srv = start(&port, engine);
    exchange(port,
             "PUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3000000\r\n"
             "Connection: close\r\n\r\n",
             3000000, &r);
    ASSERT(strstr(r.ptr, "\r\n\r\n3000000"));
    buf_clear(&r);
    exchange(port,
             "PUT /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "Connection: close\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n",
             0, &r);
    ASSERT(strstr(r.ptr, "\r\n\r\n8"));
    buf_clear(&r);
    /* refused from the headers: no 100 Continue, the body is never read */
    exchange(port,
             "PUT /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
             "Expect: 100-continue\r\n\r\n",
             0, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 403"));
    ASSERT(!strstr(r.ptr, "100 Continue"));
    buf_clear(&r);
    exchange(port, "GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, &r);
    ASSERT(strstr(r.ptr, "Content-Length: 1000000\r\n"));
    body = strstr(r.ptr, "\r\n\r\n");
    ASSERT(body && r.len - (size_t)(body + 4 - r.ptr) == 1000000);
    for (i = 0; body && i < 1000000; i += 9973)
        ASSERT_EQ((unsigned char)body[4 + i], i % 251);
    buf_release(&r);
    http_server_stop(srv);
}

static void
keepalive(enum http_engine_id engine)
{
    struct buf r = BUF_INIT;
    struct http_server *srv;
    const char *two = "GET /echo1 HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /echo2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int port;

    srv = start(&port, engine);
    exchange(port, two, 0, &r);
    ASSERT(strstr(r.ptr, "/echo1||0"));
    ASSERT(strstr(r.ptr, "/echo2||0"));
    buf_release(&r);
    http_server_stop(srv);
}

TEST(http_server_raw_uri_and_headers)
{
    raw_uri_and_headers(HTTP_ENGINE_MHD);
}

TEST(http_server_bodies)
{
    bodies(HTTP_ENGINE_MHD);
}

TEST(http_server_keepalive)
{
    keepalive(HTTP_ENGINE_MHD);
}

TEST(http_front_raw_uri_and_headers)
{
    raw_uri_and_headers(HTTP_ENGINE_BASALT);
}

TEST(http_front_bodies)
{
    bodies(HTTP_ENGINE_BASALT);
}

TEST(http_front_keepalive)
{
    keepalive(HTTP_ENGINE_BASALT);
}

/* What only Basalt's front does: strict heads, and the edges of its own HTTP/1.1. */
TEST(http_front_strict_and_edges)
{
    struct buf r = BUF_INIT;
    struct http_server *srv;
    int port;

    srv = start(&port, HTTP_ENGINE_BASALT);
    exchange(port, "GET /echo HTTP/1.1\nHost: x\n\n", 0, &r); /* bare LF: 400, closed */
    ASSERT(strncmp(r.ptr, "HTTP/1.1 400 ", 13) == 0);
    ASSERT(strstr(r.ptr, "Connection: close\r\n"));
    buf_clear(&r);
    exchange(port, "GET /echo HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 0, &r); /* obs-fold */
    ASSERT(strncmp(r.ptr, "HTTP/1.1 400 ", 13) == 0);
    buf_clear(&r);
    exchange(port, "HEAD /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, &r);
    ASSERT(strstr(r.ptr, "Content-Length: 1000000\r\n"));
    ASSERT(r.len == (size_t)(strstr(r.ptr, "\r\n\r\n") + 4 - r.ptr));
    buf_clear(&r);
    exchange(port, "GET /echo HTTP/1.0\r\n\r\n", 0, &r); /* HTTP/1.0: closed after */
    ASSERT(strstr(r.ptr, "Connection: close\r\n"));
    ASSERT(strstr(r.ptr, "/echo||0"));
    buf_clear(&r);
    exchange(port,
             "PUT /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "Connection: close\r\n\r\n5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
             0, &r);
    ASSERT(strstr(r.ptr, "\r\n\r\n8"));
    buf_clear(&r);
    exchange(port,
             "PUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
             "Connection: close\r\n\r\nhello",
             0, &r);
    ASSERT(strncmp(r.ptr, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ", 38) == 0);
    ASSERT(strstr(r.ptr, "\r\n\r\n5"));
    buf_clear(&r);
    /* a bad chunk size: the connection is dropped without an answer */
    exchange(port, "PUT /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0,
             &r);
    ASSERT_EQ(r.len, 0);
    buf_release(&r);
    http_server_stop(srv);
}

TEST(http_server_address_errors)
{
    struct http_config cfg = { .address = "127.0.0.1:0",
                               .idle_timeout = 5,
                               .header_limit = 32 * 1024 };
    struct http_server *a = NULL, *b = NULL;
    struct buf err = BUF_INIT;
    char addr[64];

    ASSERT_OK(http_server_listen(&cfg, &a, &err));
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", http_server_port(a));
    cfg.address = addr;
    ASSERT_EQ(http_server_listen(&cfg, &b, &err), -ERR_EXISTS);
    ASSERT(strstr(err.ptr, "already in use"));
    cfg.address = "nocolon";
    ASSERT_EQ(http_server_listen(&cfg, &b, &err), -ERR_INVAL);
    http_server_stop(a);
    buf_release(&err);
}

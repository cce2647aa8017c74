/*
 * tests/unit/client/test_client.c: the libcurl client against a one-shot
 * HTTP server on loopback that verifies each request with sigv4_verify, so
 * what the client signs is checked against what libcurl really sends.
 */
#include "util/base.h"

#include "client/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/sigv4.h"
#include "harness.h"
#include "util/buf.h"

#define TEST_AK "basalt-test"
#define TEST_SK "secret with spaces+/%2F"

/* A server that answers `n` requests on one port, one connection each. */
struct mini {
    int lfd;
    int port;
    int n;
    pthread_t th;
    char last_target[1024];
    int last_rc;
    int busy;   /* answer this many requests 503 SlowDown first */
    int served; /* requests answered */
};

static int
lookup(void *arg, struct slice ak, struct buf *secret)
{
    if (!slice_eq_cstr(ak, TEST_AK))
        return -ERR_INVALID_ACCESS_KEY;
    buf_adds(secret, TEST_SK);
    return 0;
}

/* Reads one request (headers and a Content-Length body) into `b`; returns the header length. */
static size_t
read_request(int fd, struct buf *b)
{
    size_t hdr = 0, want = 0;
    char tmp[4096];

    for (;;) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        char *end, *cl;

        if (n <= 0)
            return hdr;
        buf_add(b, tmp, (size_t)n);
        if (!hdr && (end = strstr(b->ptr, "\r\n\r\n"))) {
            hdr = (size_t)(end - b->ptr) + 4;
            cl = strcasestr(b->ptr, "\r\ncontent-length:");
            want = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
        }
        if (hdr && b->len >= hdr + want)
            return hdr;
    }
}

/* Splits the header block into `h` (at most `max`); fills method, path and query of `r`. */
static void
parse_request(char *p, struct sigv4_req *r, struct sigv4_header *h, size_t max, char *target,
              size_t tsize)
{
    char *line = p, *next, *sp1, *sp2, *q;

    next = strstr(line, "\r\n");
    *next = '\0';
    sp1 = strchr(line, ' ');
    sp2 = strchr(sp1 + 1, ' ');
    *sp2 = '\0';
    snprintf(target, tsize, "%s", sp1 + 1);
    r->method = slice_make(line, (size_t)(sp1 - line));
    q = strchr(sp1 + 1, '?');
    r->path = slice_make(sp1 + 1, (size_t)((q ? q : sp2) - sp1 - 1));
    r->query = q ? slice_make(q + 1, (size_t)(sp2 - q - 1)) : SLICE_LIT("");
    for (line = next + 2; r->nheaders < max && *line && strncmp(line, "\r\n", 2); line = next + 2) {
        char *colon = strchr(line, ':');

        next = strstr(line, "\r\n");
        h[r->nheaders].name = slice_make(line, (size_t)(colon - line));
        h[r->nheaders].value = slice_make(colon + 1, (size_t)(next - colon - 1));
        r->nheaders++;
    }
}

static void
serve_one(struct mini *m, int fd)
{
    struct buf req = BUF_INIT, out = BUF_INIT, body = BUF_INIT;
    struct sigv4_header h[32];
    struct sigv4_req r = { .headers = h, .now = time(NULL) };
    struct sigv4_auth a;
    size_t hdr = read_request(fd, &req);
    char sha[65];
    int rc;

    parse_request(req.ptr, &r, h, ARRAY_SIZE(h), m->last_target, sizeof(m->last_target));
    m->served++;
    if (m->busy > 0) {
        m->busy--;
        buf_adds(&body, "<Error><Code>SlowDown</Code><Message>busy</Message></Error>");
        buf_addf(&out,
                 "HTTP/1.1 503 Slow Down\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 body.len, body.ptr);
        if (write(fd, out.ptr, out.len) < 0)
            perror("write");
        goto out;
    }
    rc = sigv4_verify(&r, lookup, NULL, &a, NULL);
    sha256_hex(req.ptr + hdr, req.len - hdr, sha);
    if (rc == 0 && strcmp(a.payload_hash, sha) != 0)
        rc = -ERR_SHA256_MISMATCH;
    m->last_rc = rc;
    if (rc == 0)
        buf_adds(&body, "verified");
    else
        buf_addf(&body, "<Error><Code>%s</Code><Message>a &amp; b</Message></Error>", err_name(rc));
    buf_addf(&out, "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             rc ? "403 Forbidden" : "200 OK", body.len, body.ptr);
    if (write(fd, out.ptr, out.len) < 0)
        perror("write");
out:
    buf_release(&req);
    buf_release(&out);
    buf_release(&body);
}

static void *
mini_main(void *arg)
{
    struct mini *m = arg;
    int i;

    for (i = 0; i < m->n; i++) {
        int fd = accept(m->lfd, NULL, NULL);

        if (fd < 0)
            break;
        serve_one(m, fd);
        close(fd);
    }
    return NULL;
}

/* Listens on 127.0.0.1 (any port); `n` > 0 starts the server thread. */
static void
mini_start(struct mini *m, int n)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);

    memset(m, 0, sizeof(*m));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(m->lfd >= 0);
    ASSERT_OK(bind(m->lfd, (struct sockaddr *)&sa, sizeof(sa)));
    ASSERT_OK(listen(m->lfd, 8));
    ASSERT_OK(getsockname(m->lfd, (struct sockaddr *)&sa, &len));
    m->port = ntohs(sa.sin_port);
    m->n = n;
    if (n)
        ASSERT_EQ(pthread_create(&m->th, NULL, mini_main, m), 0);
}

static struct client *
new_client(int port, const char *sk)
{
    struct client *c = NULL;
    struct buf url = BUF_INIT;

    buf_addf(&url, "http://127.0.0.1:%d/", port);
    ASSERT_OK(client_new(url.ptr, TEST_AK, sk, "us-east-1", &c, NULL));
    ASSERT_EQ(strchr(client_endpoint(c), '/') - client_endpoint(c), 5); /* trailing '/' gone */
    buf_release(&url);
    return c;
}

TEST(client_signed_requests_verify)
{
    struct mini m;
    struct client *c;
    struct buf resp = BUF_INIT, q = BUF_INIT, msg = BUF_INIT;
    long status = 0;

    mini_start(&m, 3);
    c = new_client(m.port, TEST_SK);
    client_query_add(&q, "bucket", "my bucket");
    client_query_add(&q, "prefix", "a/b+c&d");
    ASSERT_OK(client_request(c, "POST", "/basalt/admin/v1/heal", q.ptr, SLICE_NULL, &status, &resp,
                             &msg));
    ASSERT_EQ(m.last_rc, 0);
    ASSERT_EQ(status, 200);
    ASSERT_STREQ(resp.ptr, "verified");
    ASSERT_STREQ(m.last_target, "/basalt/admin/v1/heal?bucket=my%20bucket&prefix=a%2Fb%2Bc%26d");
    buf_clear(&resp);
    ASSERT_OK(client_request(c, "PUT", "/b/odd key/../$x", NULL, SLICE_LIT("hello"), &status, &resp,
                             &msg));
    ASSERT_EQ(m.last_rc, 0);
    ASSERT_STREQ(m.last_target, "/b/odd%20key/../%24x");
    ASSERT_EQ(status, 200);
    buf_clear(&resp);
    ASSERT_OK(client_request(c, "GET", "/b", "list-type=2", SLICE_NULL, &status, &resp, &msg));
    ASSERT_EQ(status, 200);
    pthread_join(m.th, NULL);
    close(m.lfd);
    client_free(c);
    buf_release(&resp);
    buf_release(&q);
    buf_release(&msg);
}

TEST(client_wrong_secret_gets_s3_error)
{
    struct mini m;
    struct client *c;
    struct buf resp = BUF_INIT, code = BUF_INIT, message = BUF_INIT;
    long status = 0;

    mini_start(&m, 1);
    c = new_client(m.port, "wrong");
    ASSERT_OK(
        client_request(c, "GET", "/basalt/admin/v1/info", NULL, SLICE_NULL, &status, &resp, NULL));
    ASSERT_EQ(status, 403);
    ASSERT_OK(client_parse_error(buf_slice(&resp), &code, &message));
    ASSERT_STREQ(code.ptr, "SIG_MISMATCH");
    ASSERT_STREQ(message.ptr, "a & b");
    ASSERT_EQ(client_parse_error(SLICE_LIT("<html>502</html>"), &code, &message), -ERR_INVAL);
    pthread_join(m.th, NULL);
    close(m.lfd);
    client_free(c);
    buf_release(&resp);
    buf_release(&code);
    buf_release(&message);
}

TEST(client_connection_refused)
{
    struct mini m;
    struct client *c;
    struct buf resp = BUF_INIT, msg = BUF_INIT, want = BUF_INIT;
    long status = -1;

    mini_start(&m, 0);
    close(m.lfd); /* nothing listens on the port now */
    c = new_client(m.port, TEST_SK);
    ASSERT_EQ(client_request(c, "GET", "/", NULL, SLICE_NULL, &status, &resp, &msg), -ERR_IO);
    ASSERT_EQ(status, -1);
    buf_addf(&want,
             "cannot reach http://127.0.0.1:%d: Connection refused: is the server running at "
             "http://127.0.0.1:%d?",
             m.port, m.port);
    ASSERT_STREQ(msg.ptr, want.ptr);
    client_free(c);
    buf_release(&resp);
    buf_release(&msg);
    buf_release(&want);
}

/* 503 SlowDown twice, then the answer: client_call retries and the caller sees only the 200. */
TEST(client_retries_slowdown)
{
    struct mini m;
    struct client *c;
    struct buf resp = BUF_INIT, msg = BUF_INIT;
    struct client_call call = { .method = "GET", .bucket = "b", .key = "k", .response = &resp };

    call.body.fd = -1;
    mini_start(&m, 3);
    m.busy = 2;
    c = new_client(m.port, TEST_SK);
    client_set_retry(c, 3, 10000, 1);
    ASSERT_OK(client_call(c, &call, &msg));
    ASSERT_EQ(call.status, 200);
    ASSERT_STREQ(resp.ptr, "verified"); /* the 503 bodies are gone */
    ASSERT_EQ(client_retried(c), 2);
    pthread_join(m.th, NULL);
    ASSERT_EQ(m.served, 3);
    close(m.lfd);
    client_free(c);
    buf_release(&resp);
    buf_release(&msg);
}

/* Retries are bounded: with one retry allowed, the second 503 is the answer. */
TEST(client_retries_bounded)
{
    struct mini m;
    struct client *c;
    struct buf resp = BUF_INIT, msg = BUF_INIT;
    struct client_call call = { .method = "PUT", .bucket = "b", .key = "k", .response = &resp };

    call.body.fd = -1;
    call.body.mem = SLICE_LIT("data");
    mini_start(&m, 2);
    m.busy = 5;
    c = new_client(m.port, TEST_SK);
    client_set_retry(c, 1, 10000, 1);
    ASSERT_OK(client_call(c, &call, &msg));
    ASSERT_EQ(call.status, 503);
    ASSERT_EQ(client_retried(c), 1);
    pthread_join(m.th, NULL);
    ASSERT_EQ(m.served, 2);
    close(m.lfd);
    client_free(c);
    buf_release(&resp);
    buf_release(&msg);
}

static void
count_progress(void *arg, uint64_t delta)
{
    *(uint64_t *)arg += delta;
}

/*
 * A file body sent twice (the first answer is 503 SlowDown, after the whole
 * body was read) is counted once by the progress callback: the bar of a
 * retried part never goes past the size.
 */
TEST(client_progress_counts_a_retried_body_once)
{
    struct mini m;
    struct client *c;
    struct buf resp = BUF_INIT, msg = BUF_INIT;
    struct client_call call = { .method = "PUT", .bucket = "b", .key = "k", .response = &resp };
    char path[] = "/tmp/basalt-test-progress-XXXXXX";
    static char data[200 * 1024];
    uint64_t counted = 0;
    int fd = mkstemp(path);

    ASSERT(fd >= 0);
    unlink(path);
    memset(data, 'x', sizeof(data));
    ASSERT_EQ(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
    call.body = (struct client_body){ .fd = fd, .off = 0, .len = sizeof(data) };
    call.progress = count_progress;
    call.progress_arg = &counted;
    mini_start(&m, 2);
    m.busy = 1;
    c = new_client(m.port, TEST_SK);
    client_set_retry(c, 2, 10000, 1);
    ASSERT_OK(client_call(c, &call, &msg));
    ASSERT_EQ(client_retried(c), 1);
    ASSERT_EQ(counted, sizeof(data));
    pthread_join(m.th, NULL);
    ASSERT_EQ(m.served, 2);
    close(m.lfd);
    close(fd);
    client_free(c);
    buf_release(&resp);
    buf_release(&msg);
}

TEST(client_timeout)
{
    struct mini m;
    struct client *c;
    struct buf msg = BUF_INIT, resp = BUF_INIT;
    long status = 0;

    mini_start(&m, 0); /* listens, never answers */
    c = new_client(m.port, TEST_SK);
    client_set_timeouts(c, 1000, 200);
    ASSERT_EQ(client_request(c, "GET", "/", NULL, SLICE_NULL, &status, &resp, &msg), -ERR_TIMEOUT);
    ASSERT(strstr(msg.ptr, "cannot reach http://127.0.0.1:"));
    close(m.lfd);
    client_free(c);
    buf_release(&msg);
    buf_release(&resp);
}

TEST(client_bad_endpoints)
{
    static const char *const bad[] = {
        "",          "127.0.0.1:9000",     "ftp://h",    "http://",
        "http:///x", "http://h:9000/path", "http://u@h", "http://h?x"
    };
    struct client *c = (struct client *)&c;
    struct buf msg = BUF_INIT;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(bad); i++)
        ASSERT_EQ(client_new(bad[i], "a", "b", "r", &c, &msg), -ERR_INVAL);
    ASSERT(c == (struct client *)&c);
    ASSERT(strstr(msg.ptr, "invalid endpoint 'ftp://h'"));
    ASSERT_OK(client_new("https://s3.example.com", "a", "b", "r", &c, NULL));
    ASSERT_STREQ(client_endpoint(c), "https://s3.example.com");
    client_free(c);
    buf_release(&msg);
}

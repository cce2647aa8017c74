/*
 * tests/unit/server/test_server.c: a whole server in-process (object layer
 * over four temporary drive folders, S3, HTTP on a loopback port), driven
 * with SigV4-signed requests over a socket: the wiring of server/ end to end.
 */
#include "util/base.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/sigv4.h"
#include "harness.h"
#include "s3/internal.h"
#include "server/server.h"
#include "util/clock.h"

#define USER "testadmin"
#define PASS "testsecret"

static int
connect_to(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BUG_ON(fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0);
    return fd;
}

/*
 * Sends a request signed with payload hash `sha` (or anonymous when `sign` is
 * false) and extra header lines `extra`; the reply goes to `out`.
 */
static void
request_ex(int port, const char *method, const char *path, const char *query, const char *body,
           bool sign, const char *sha, const char *extra, struct buf *out)
{
    struct buf host = BUF_INIT, date = BUF_INIT, auth = BUF_INIT, req = BUF_INIT;
    struct sigv4_header h[3 + 8];
    struct sigv4_req r = {
        slice_cstr(method), slice_cstr(path), slice_cstr(query), h, 3, time(NULL)
    };
    struct slice rest = slice_cstr(extra), line;
    char chunk[4096];
    ssize_t n;
    int fd;

    buf_addf(&host, "127.0.0.1:%d", port);
    clock_fmt_amz(&date, r.now);
    h[0] = (struct sigv4_header){ SLICE_LIT("host"), buf_slice(&host) };
    h[1] = (struct sigv4_header){ SLICE_LIT("x-amz-date"), buf_slice(&date) };
    h[2] = (struct sigv4_header){ SLICE_LIT("x-amz-content-sha256"), slice_cstr(sha) };
    /* the extra headers are signed too ("Name: value\r\n" lines), as clients sign theirs */
    while (rest.len && r.nheaders < ARRAY_SIZE(h)) {
        struct slice value;
        ssize_t nl = slice_find(rest, '\n');

        line = slice_make(rest.ptr, nl < 0 ? rest.len : (size_t)nl);
        rest = nl < 0 ? slice_make(rest.ptr + rest.len, 0)
                      : slice_make(rest.ptr + nl + 1, rest.len - (size_t)nl - 1);
        value = slice_split(slice_trim(line), ':', &line);
        if (value.ptr)
            h[r.nheaders++] = (struct sigv4_header){ slice_trim(line), slice_trim(value) };
    }
    buf_addf(&req, "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nx-amz-date: %s\r\n", method, path,
             query[0] ? "?" : "", query, host.ptr, date.ptr);
    buf_addf(&req, "x-amz-content-sha256: %s\r\nConnection: close\r\n%s", sha, extra);
    if (sign) {
        sigv4_sign(&r, USER, PASS, "us-east-1", &auth);
        buf_addf(&req, "Authorization: %s\r\n", auth.ptr);
    }
    buf_addf(&req, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    fd = connect_to(port);
    BUG_ON(write(fd, req.ptr, req.len) != (ssize_t)req.len);
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_add(out, chunk, (size_t)n);
    close(fd);
    buf_release(&host);
    buf_release(&date);
    buf_release(&auth);
    buf_release(&req);
}

static void
request(int port, const char *method, const char *path, const char *query, const char *body,
        bool sign, struct buf *out)
{
    request_ex(port, method, path, query, body, sign, "UNSIGNED-PAYLOAD", "", out);
}

/* A signed payload that does not match: refused, and nothing becomes visible. */
static void
check_sha_mismatch(int port)
{
    struct buf r = BUF_INIT;

    request_ex(port, "PUT", "/bkt/sha", "", "payload", true, SIGV4_EMPTY_SHA256, "", &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 400"));
    ASSERT(strstr(r.ptr, "<Code>XAmzContentSHA256Mismatch</Code>"));
    buf_clear(&r);
    request(port, "HEAD", "/bkt/sha", "", "", true, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 404"));
    buf_release(&r);
}

static void
check_meta_and_range(int port)
{
    struct buf r = BUF_INIT;

    request_ex(port, "PUT", "/bkt/m", "", "0123456789", true, "UNSIGNED-PAYLOAD",
               "Content-Type: text/x-t\r\nX-Amz-Meta-Color: Deep Blue\r\n", &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
    buf_clear(&r);
    request_ex(port, "GET", "/bkt/m", "", "", true, "UNSIGNED-PAYLOAD", "Range: bytes=2-4\r\n", &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 206"));
    ASSERT(strstr(r.ptr, "Content-Range: bytes 2-4/10\r\n"));
    ASSERT(strstr(r.ptr, "Content-Type: text/x-t\r\n"));
    ASSERT(strstr(r.ptr, "x-amz-meta-color: Deep Blue\r\n"));
    ASSERT(strstr(r.ptr, "\r\n\r\n234"));
    buf_clear(&r);
    request_ex(port, "GET", "/bkt/m", "", "", true, "UNSIGNED-PAYLOAD", "Range: bytes=10-\r\n", &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 416"));
    ASSERT(strstr(r.ptr, "Content-Range: bytes */10\r\n"));
    buf_release(&r);
}

/*
 * CopyObject and UploadPartCopy refuse a source over the copy limit (S3's
 * 5 GiB; lowered to 10 bytes here) before reading it, and copy one at the limit.
 */
static void
check_copy_limit(int port)
{
    struct buf r = BUF_INIT;

    ASSERT_EQ(s3_copy_max_size, S3_MAX_COPY_SIZE);
    ASSERT_EQ(S3_MAX_COPY_SIZE, 5368709120ull);
    s3_copy_max_size = 10;
    request(port, "PUT", "/bkt/c10", "", "0123456789", true, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
    buf_clear(&r);
    request(port, "PUT", "/bkt/c11", "", "0123456789A", true, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
    buf_clear(&r);
    request_ex(port, "PUT", "/bkt/copy11", "", "", true, "UNSIGNED-PAYLOAD",
               "x-amz-copy-source: /bkt/c11\r\n", &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 400"));
    ASSERT(strstr(r.ptr, "<Code>InvalidRequest</Code>"));
    buf_clear(&r);
    request(port, "HEAD", "/bkt/copy11", "", "", true, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 404"));
    buf_clear(&r);
    request_ex(port, "PUT", "/bkt/copy10", "", "", true, "UNSIGNED-PAYLOAD",
               "x-amz-copy-source: /bkt/c10\r\n", &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
    buf_clear(&r);
    request(port, "GET", "/bkt/copy10", "", "", true, &r);
    ASSERT(strstr(r.ptr, "\r\n\r\n0123456789"));
    buf_clear(&r);
    /* UploadPartCopy: the whole 11-byte source, then a range of it within the limit */
    request(port, "POST", "/bkt/mp", "uploads", "", true, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
    {
        const char *id = strstr(r.ptr, "<UploadId>");
        char q[128];

        ASSERT(id);
        snprintf(q, sizeof(q), "partNumber=1&uploadId=%.32s", id + 10);
        buf_clear(&r);
        request_ex(port, "PUT", "/bkt/mp", q, "", true, "UNSIGNED-PAYLOAD",
                   "x-amz-copy-source: /bkt/c11\r\n", &r);
        ASSERT(strstr(r.ptr, "HTTP/1.1 400"));
        ASSERT(strstr(r.ptr, "<Code>InvalidRequest</Code>"));
        buf_clear(&r);
        request_ex(port, "PUT", "/bkt/mp", q, "", true, "UNSIGNED-PAYLOAD",
                   "x-amz-copy-source: /bkt/c11\r\nx-amz-copy-source-range: bytes=1-10\r\n", &r);
        ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
        ASSERT(strstr(r.ptr, "<CopyPartResult"));
    }
    s3_copy_max_size = S3_MAX_COPY_SIZE;
    buf_release(&r);
}

TEST(server_end_to_end)
{
    const char *dir = harness_tmpdir();
    char d[4][512];
    const char *drives[4] = { d[0], d[1], d[2], d[3] };
    struct server_config cfg = { .address = "127.0.0.1:0",
                                 .region = "us-east-1",
                                 .sync = false,
                                 .max_memory = 64 << 20,
                                 .idle_timeout = 5,
                                 .drives = drives,
                                 .ndrives = 4,
                                 .root_user = USER,
                                 .root_password = PASS };
    struct server *srv = NULL;
    struct buf err = BUF_INIT, r = BUF_INIT;
    int i, port;

    for (i = 0; i < 4; i++)
        snprintf(d[i], sizeof(d[i]), "%s/d%d", dir, i + 1);
    ASSERT_OK(server_open(&cfg, &srv, &err));
    port = server_port(srv);
    request(port, "PUT", "/bkt", "", "", true, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
    buf_clear(&r);
    request(port, "PUT", "/bkt/dir/a%20key", "", "hello", true, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
    ASSERT(strstr(r.ptr, "ETag: \"5d41402abc4b2a76b9719d911017c592\""));
    buf_clear(&r);
    request(port, "GET", "/bkt/dir/a%20key", "", "", true, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 200"));
    ASSERT(strstr(r.ptr, "\r\n\r\nhello"));
    buf_clear(&r);
    request(port, "GET", "/bkt", "delimiter=%2F&list-type=2", "", true, &r);
    ASSERT(strstr(r.ptr, "<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>"));
    ASSERT(strstr(r.ptr, "<KeyCount>1</KeyCount>"));
    buf_clear(&r);
    request(port, "GET", "/bkt/dir/a%20key", "", "", false, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 403"));
    ASSERT(strstr(r.ptr, "<Code>AccessDenied</Code>"));
    buf_clear(&r);
    request(port, "GET", "/bkt/missing", "", "", true, &r);
    ASSERT(strstr(r.ptr, "HTTP/1.1 404"));
    ASSERT(strstr(r.ptr, "<Code>NoSuchKey</Code>"));
    buf_release(&r);
    check_sha_mismatch(port);
    check_meta_and_range(port);
    check_copy_limit(port);
    buf_release(&err);
    server_close(srv);
}

/*
 * tests/unit/http/test_parse.c: the strict request-head parser (http/parse.c)
 * followed by the framing rules (http/framing.c), as Basalt's own front
 * applies them: every framing case of tests/e2e/test_http_front.py, and the
 * request smuggling classics (CL.TE, TE.CL, TE.TE, duplicate
 * Content-Length, obs-fold, bare LF, NUL), each with its answer.
 */
#include "util/base.h"

#include "harness.h"
#include "http/internal.h"

#define MORE (-1) /* the head is not complete yet */
#define HEAD_LIMIT 4096

/*
 * What the front answers to a head: its status (0: served), or MORE. On 0,
 * `*fr` is the framing.
 */
static int
head_status(const char *raw, size_t len, struct http_framing *fr)
{
    struct http_header h[64];
    struct http_head head;
    const char *why = NULL;
    ssize_t n;
    unsigned st;

    n = http_head_parse(raw, len, HEAD_LIMIT, h, ARRAY_SIZE(h), &head, &why);
    if (n < 0) {
        BUG_ON(!why || !*why);
        return (int)-n;
    }
    if (n == 0)
        return MORE;
    st = http_framing_check(h, head.nheaders, head.http10, fr, &why);
    return (int)st;
}

struct head_case {
    const char *name;
    const char *raw; /* the head; NULs written as \0 are counted with `len` */
    size_t len;      /* 0: strlen(raw) */
    int status;
};

#define PUT "PUT /b/k HTTP/1.1\r\nHost: a\r\n"

static const struct head_case head_cases[] = {
    /* accepted */
    { "get", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0 },
    { "http10-no-host", "GET / HTTP/1.0\r\n\r\n", 0, 0 },
    { "leading-crlf", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0 },
    { "ows-around-value", "GET / HTTP/1.1\r\nHost: \t a \t\r\n\r\n", 0, 0 },
    { "empty-value", "GET / HTTP/1.1\r\nHost: a\r\nX-E:\r\n\r\n", 0, 0 },
    { "utf8-target", "GET /b/\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0 },
    { "http12-as-11", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0, 0 },
    { "cl", PUT "Content-Length: 46\r\n\r\n", 0, 0 },
    { "chunked", PUT "Transfer-Encoding: chunked\r\n\r\n", 0, 0 },
    /* incomplete */
    { "no-end", "GET / HTTP/1.1\r\nHost: a\r\n", 0, MORE },
    { "cr-at-end", "GET / HTTP/1.1\r\nHost: a\r", 0, MORE },
    { "half-line", "GET / HT", 0, MORE },
    /* test_http_front.py FRAMING */
    { "duplicate-length-0-then-46", PUT "Content-Length: 0\r\nContent-Length: 46\r\n\r\n", 0, 400 },
    { "duplicate-length-equal", PUT "Content-Length: 46\r\nContent-Length: 46\r\n\r\n", 0, 400 },
    { "te-chunked-twice", PUT "Transfer-Encoding: chunked, chunked\r\n\r\n", 0, 400 },
    { "te-gzip-chunked", PUT "Transfer-Encoding: gzip, chunked\r\n\r\n", 0, 501 },
    { "te-identity", PUT "Transfer-Encoding: identity\r\n\r\n", 0, 400 },
    { "te-chunked-comma", PUT "Transfer-Encoding: chunked,\r\n\r\n", 0, 400 },
    { "te-comma-chunked", PUT "Transfer-Encoding: , chunked\r\n\r\n", 0, 400 },
    { "te-chunked-space", PUT "Transfer-Encoding: chunked \r\n\r\n", 0, 400 },
    { "te-gzip", PUT "Transfer-Encoding: gzip\r\n\r\n", 0, 400 },
    { "te-two-headers", PUT "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n", 0, 400 },
    { "cl-te", PUT "Content-Length: 46\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400 },
    { "te-cl", PUT "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 0, 400 },
    { "space-before-colon", PUT "Content-Length : 46\r\n\r\n", 0, 400 },
    { "space-in-name", PUT "X Bad: 1\r\nContent-Length: 46\r\n\r\n", 0, 400 },
    /* invalid Content-Length values */
    { "cl-minus", PUT "Content-Length: -1\r\n\r\n", 0, 400 },
    { "cl-plus", PUT "Content-Length: +46\r\n\r\n", 0, 400 },
    { "cl-hex", PUT "Content-Length: 0x2e\r\n\r\n", 0, 400 },
    { "cl-list", PUT "Content-Length: 46, 46\r\n\r\n", 0, 400 },
    { "cl-empty", PUT "Content-Length: \r\n\r\n", 0, 400 },
    { "cl-exp", PUT "Content-Length: 1e3\r\n\r\n", 0, 400 },
    /* Host and version */
    { "no-host", "GET / HTTP/1.1\r\n\r\n", 0, 400 },
    { "two-hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, 400 },
    { "http10-chunked", "PUT /x/y HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400 },
    { "http2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 0, 505 },
    { "http-garbage", "GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 0, 400 },
    { "lowercase-http", "GET / http/1.1\r\nHost: a\r\n\r\n", 0, 400 },
    /* the lenient parsing libmicrohttpd does */
    { "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n", 0, 400 },
    { "obs-fold-tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\tfolded\r\n\r\n", 0, 400 },
    { "bare-lf", "GET / HTTP/1.1\nHost: a\n\n", 0, 400 },
    { "bare-lf-in-fields", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 0, 400 },
    { "bare-lf-end", "GET / HTTP/1.1\r\nHost: a\r\n\n", 0, 400 },
    { "bare-lf-leading", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
    { "bare-cr", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 0, 400 },
    { "nul-in-value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n", 37, 400 },
    { "nul-in-target", "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", 30, 400 },
    /* request line shape */
    { "two-spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
    { "tab-separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
    { "no-version", "GET /\r\nHost: a\r\n\r\n", 0, 400 },
    { "trailing-space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 0, 400 },
    { "method-not-token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
    { "ctl-in-target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
    { "space-first-field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 0, 400 },
    { "no-colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", 0, 400 },
    { "empty-name", "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 0, 400 },
    /* smuggling classics */
    { "cl.te",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n"
      "Transfer-Encoding: chunked\r\n\r\n",
      0, 400 },
    { "te.cl",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 3\r\n\r\n",
      0, 400 },
    { "te.te-case",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "transfer-encoding: cow\r\n\r\n",
      0, 400 },
    { "te.te-space-name", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 0,
      400 },
    { "te.te-xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 0,
      400 },
    { "te.te-vtab",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b"
      "chunked\r\n\r\n",
      0, 400 },
    { "te.te-fold", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 0,
      400 },
    { "te.te-quoted", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 0,
      400 },
    { "te.te-x-then-chunked",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x\r\n"
      "Transfer-Encoding: chunked\r\n\r\n",
      0, 400 },
    { "cl.cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\nContent-Length: 7\r\n\r\n", 0,
      400 },
    { "cl-bare-lf", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\nX: 1\r\n\r\n", 0, 400 },
    { "cl-nul", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\0 6\r\n\r\n", 50, 400 },
};

TEST(http_parse_head_cases)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(head_cases); i++) {
        const struct head_case *c = &head_cases[i];
        struct http_framing fr;
        int st = head_status(c->raw, c->len ? c->len : strlen(c->raw), &fr);

        if (st != c->status)
            fprintf(stderr, "case %s: %d, expected %d\n", c->name, st, c->status);
        ASSERT_EQ(st, c->status);
    }
}

TEST(http_parse_head_fields)
{
    const char *raw = "\r\nPUT /b/k%20x?a=1 HTTP/1.0\r\nHost:  x \r\nX-Empty:\r\n"
                      "Content-Length: 12\r\n\r\nbody";
    struct http_header h[3];
    struct http_head head;
    const char *why = NULL;
    ssize_t n;

    n = http_head_parse(raw, strlen(raw), HEAD_LIMIT, h, ARRAY_SIZE(h), &head, &why);
    ASSERT_EQ(n, (ssize_t)strlen(raw) - 4);
    ASSERT(slice_eq_cstr(head.method, "PUT"));
    ASSERT(slice_eq_cstr(head.target, "/b/k%20x?a=1"));
    ASSERT(head.http10);
    ASSERT_EQ(head.nheaders, 3);
    ASSERT(slice_eq_cstr(h[0].name, "Host") && slice_eq_cstr(h[0].value, "x "));
    ASSERT(slice_eq_cstr(h[1].name, "X-Empty") && h[1].value.len == 0);
    ASSERT(slice_eq_cstr(h[2].value, "12"));
    /* counting only, then too small an array */
    ASSERT_EQ(http_head_parse(raw, strlen(raw), HEAD_LIMIT, NULL, 0, &head, &why), n);
    ASSERT_EQ(http_head_parse(raw, strlen(raw), HEAD_LIMIT, h, 2, &head, &why), -431);
    /* every prefix is incomplete, never refused */
    for (size_t k = 0; k < (size_t)n; k++)
        ASSERT_EQ(http_head_parse(raw, k, HEAD_LIMIT, NULL, 0, &head, &why), 0);
}

TEST(http_parse_head_limits)
{
    struct buf b = BUF_INIT;
    struct http_head head;
    const char *why = NULL;

    /* a request line of the limit or more: 414, as soon as the limit is reached */
    buf_adds(&b, "GET /");
    while (b.len < HEAD_LIMIT)
        buf_addch(&b, 'a');
    ASSERT_EQ(http_head_parse(b.ptr, b.len - 1, HEAD_LIMIT, NULL, 0, &head, &why), 0);
    ASSERT_EQ(http_head_parse(b.ptr, b.len, HEAD_LIMIT, NULL, 0, &head, &why), -414);
    /* fields past the limit: 431 */
    buf_clear(&b);
    buf_adds(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
    while (b.len < HEAD_LIMIT)
        buf_adds(&b, "X-Pad: 0123456789\r\n");
    ASSERT_EQ(http_head_parse(b.ptr, b.len, HEAD_LIMIT, NULL, 0, &head, &why), -431);
    buf_adds(&b, "\r\n");
    ASSERT_EQ(http_head_parse(b.ptr, b.len, HEAD_LIMIT, NULL, 0, &head, &why), -431);
    ASSERT(http_head_parse(b.ptr, b.len, b.len, NULL, 0, &head, &why) == (ssize_t)b.len);
    buf_release(&b);
}

TEST(http_parse_chunk_size)
{
    static const struct {
        const char *line;
        bool ok;
        uint64_t v;
    } cases[] = {
        { "0", true, 0 },
        { "1a", true, 26 },
        { "FF", true, 255 },
        { "10;name=value", true, 16 },
        { "10 ; name", true, 16 },
        { "fffffffffffffff", true, 0xfffffffffffffffull },
        { "1000000000000000", false, 0 },
        { "", false, 0 },
        { "-1", false, 0 },
        { "0x10", false, 0 },
        { "1 2", false, 0 },
        { " 1", false, 0 },
        { "1;a\x01", false, 0 },
        { "g", false, 0 },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t v = 12345;
        bool ok = http_chunk_size(slice_cstr(cases[i].line), &v);

        ASSERT_EQ(ok, cases[i].ok);
        ASSERT_EQ(v, cases[i].ok ? cases[i].v : 12345);
    }
}

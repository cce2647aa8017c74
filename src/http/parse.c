/*
 * http/parse.c: the request head and the chunk-size line, parsed strictly
 * as RFC 9112 says, for Basalt's own front (front.c). A pure function over
 * the bytes received so far: the front calls it again as more arrive, so
 * a head that goes wrong is refused as soon as the wrong byte is seen,
 * not at the header deadline.
 *
 * Where RFC 9112 allows a recipient to be lenient, this parser is not,
 * since a proxy in front that reads the same bytes differently would
 * frame the requests differently (request smuggling):
 *
 * - lines end with CRLF only: a bare LF, or a CR not followed by LF, is 400
 *   (section 2.2 allows a bare LF);
 * - obs-fold (a field line that starts with a space or a tab) is 400
 *   (section 5.2 allows unfolding it);
 * - a field name is a token followed at once by ':' (no space before the
 *   colon: section 5.1 requires 400);
 * - a field value holding NUL, CR or LF is 400 (RFC 9110 section 5.5);
 * - the request line is exactly METHOD SP TARGET SP HTTP/1.x, single
 *   spaces, a token method, a target of visible bytes (section 3);
 * - an HTTP major version other than 1: 505.
 *
 * Empty lines (CRLF) before the request line are skipped (section 2.2: a
 * client may send one after a POST body). Size limits: a request line
 * past `limit` bytes is 414, a head past `limit` is 431; both short
 * answers, since nothing of the request is echoed.
 *
 * What the fields say about the body (Content-Length, Transfer-Encoding,
 * Host) is framing.c's, applied to the fields found here. A value keeps
 * its trailing whitespace (only the leading OWS is dropped), as
 * libmicrohttpd gives it: framing.c then refuses "chunked " under both
 * engines alike, and upper layers see the same bytes whichever engine
 * runs (they trim where a value's meaning needs it).
 */
#include "util/base.h"

#include "http/internal.h"
#include "util/enc.h"

bool
http__is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Request-target bytes: visible ASCII and obs-text (bytes past 0x7F, kept for raw UTF-8 keys). */
static bool
is_target_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

struct scan {
    const char *p;
    size_t len; /* bytes available (at most the limit) */
    size_t i;
    const char *why;
};

enum {
    SCAN_MORE = 0, /* need more bytes */
    SCAN_OK = 1,
};

/*
 * The end of the line starting at s->i: the offset of its CR (the LF
 * follows), with no NUL, bare CR or bare LF before it. Returns SCAN_OK,
 * SCAN_MORE, or -400.
 */
static int
line_end(struct scan *s, size_t *cr)
{
    size_t i;

    for (i = s->i; i < s->len; i++) {
        char c = s->p[i];

        if (c == '\n') {
            s->why = "a line ends with a bare LF (CRLF required)";
            return -400;
        }
        if (c == '\0') {
            s->why = "a NUL byte in the request head";
            return -400;
        }
        if (c != '\r')
            continue;
        if (i + 1 == s->len)
            return SCAN_MORE;
        if (s->p[i + 1] != '\n') {
            s->why = "a CR not followed by LF in the request head";
            return -400;
        }
        *cr = i;
        return SCAN_OK;
    }
    return SCAN_MORE;
}

static int
parse_version(struct slice v, bool *http10, const char **why)
{
    if (v.len != 8 || memcmp(v.ptr, "HTTP/", 5) != 0 || v.ptr[6] != '.' || v.ptr[5] < '0' ||
        v.ptr[5] > '9' || v.ptr[7] < '0' || v.ptr[7] > '9') {
        *why = "the request line does not end with HTTP/1.x";
        return -400;
    }
    if (v.ptr[5] != '1') {
        *why = "only HTTP/1.x is served here";
        return -505;
    }
    *http10 = v.ptr[7] == '0';
    return 0;
}

/* METHOD SP TARGET SP VERSION, the line being p[0..n). */
static int
parse_request_line(const char *p, size_t n, struct http_head *out, const char **why)
{
    size_t i = 0, m, t;

    while (i < n && http__is_tchar((unsigned char)p[i]))
        i++;
    m = i;
    if (m == 0 || i == n || p[i] != ' ') {
        *why = "the request line does not start with a method and one space";
        return -400;
    }
    for (i++; i < n && is_target_char((unsigned char)p[i]); i++)
        ;
    t = i;
    if (t == m + 1 || i == n || p[i] != ' ') {
        *why = "the request target is empty, or not followed by one space";
        return -400;
    }
    out->method = slice_make(p, m);
    out->target = slice_make(p + m + 1, t - m - 1);
    return parse_version(slice_make(p + t + 1, n - t - 1), &out->http10, why);
}

struct slice
http__trim_ows(struct slice s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* NAME ":" OWS VALUE OWS, the line being p[0..n) (not empty). */
static int
parse_field(const char *p, size_t n, struct http_header *h, const char **why)
{
    size_t i = 0;

    if (p[0] == ' ' || p[0] == '\t') {
        *why = "a folded header line (obs-fold)";
        return -400;
    }
    while (i < n && http__is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ':') {
        *why = "a header name is not a token followed by ':' (a space before the colon?)";
        return -400;
    }
    h->name = slice_make(p, i);
    /* leading OWS only: see the header comment */
    for (i++; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
        ;
    h->value = slice_make(p + i, n - i);
    return 0;
}

ssize_t
http_head_parse(const char *buf, size_t len, size_t limit, struct http_header *h, size_t cap,
                struct http_head *out, const char **why)
{
    struct scan s = { .p = buf, .len = MIN(len, limit) };
    struct http_head head = { 0 };
    struct http_header one;
    size_t cr;
    int rc;

    /* empty lines before the request line */
    while (s.len - s.i >= 2 && buf[s.i] == '\r' && buf[s.i + 1] == '\n')
        s.i += 2;
    rc = line_end(&s, &cr);
    if (rc == SCAN_OK) {
        rc = parse_request_line(buf + s.i, cr - s.i, &head, &s.why);
        rc = rc < 0 ? rc : SCAN_OK;
    }
    if (rc == SCAN_MORE && len >= limit) {
        s.why = "the request line is too long";
        rc = -414;
    }
    if (rc <= 0)
        goto out;
    for (s.i = cr + 2;; s.i = cr + 2) {
        rc = line_end(&s, &cr);
        if (rc == SCAN_MORE && len >= limit) {
            s.why = "the request head is too large";
            rc = -431;
        }
        if (rc <= 0)
            goto out;
        if (cr == s.i)
            break; /* the empty line: the end of the head */
        rc = parse_field(buf + s.i, cr - s.i, &one, &s.why);
        if (rc < 0)
            goto out;
        if (h && head.nheaders == cap) {
            s.why = "too many header fields";
            rc = -431;
            goto out;
        }
        if (h)
            h[head.nheaders] = one;
        head.nheaders++;
    }
    *out = head;
    return (ssize_t)(cr + 2);
out:
    if (rc < 0)
        *why = s.why;
    return rc;
}

bool
http_chunk_size(struct slice line, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < line.len && hex_digit_value(line.ptr[i]) >= 0; i++) {
        if (i == 15)
            return false; /* past 2^60: no body is that large */
        v = v * 16 + (uint64_t)hex_digit_value(line.ptr[i]);
    }
    if (i == 0)
        return false;
    /* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): ignored, but no controls */
    while (i < line.len && (line.ptr[i] == ' ' || line.ptr[i] == '\t'))
        i++;
    if (i < line.len && line.ptr[i] != ';')
        return false;
    for (; i < line.len; i++) {
        unsigned char c = (unsigned char)line.ptr[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    *out = v;
    return true;
}

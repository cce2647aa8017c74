/*
 * http/framing.c: where a request ends, decided from its header section
 * exactly as RFC 9112 section 6 says, before any body byte is read. A
 * proxy in front and Basalt must agree on it: where they differ, the rest
 * of one request is served as another (request smuggling). So anything
 * ambiguous is refused and the connection closed:
 *
 * - a field name that is not a token ("Content-Length : 5"), a value with
 *   NUL, CR or LF (RFC 9110 section 5.5);
 * - Content-Length twice, or not a plain decimal number (-1, +5, 0x2e,
 *   "5, 5", empty);
 * - Transfer-Encoding twice, in an HTTP/1.0 request, with Content-Length,
 *   or with chunked not the final coding or applied twice: 400;
 *   chunked after a coding Basalt does not implement (gzip): 501;
 * - Host missing in HTTP/1.1, or twice.
 *
 * libmicrohttpd answers some of these itself before Basalt sees the
 * request (an invalid Content-Length without Transfer-Encoding); what it
 * lets through is caught here.
 */
#include "util/base.h"

#include "http/internal.h"

static bool
is_token(struct slice s)
{
    size_t i;

    if (!s.len)
        return false;
    for (i = 0; i < s.len; i++)
        if (!http__is_tchar((unsigned char)s.ptr[i]))
            return false;
    return true;
}

/*
 * Field values: no NUL, CR or LF (RFC 9110 section 5.5: refuse them); other
 * control characters are kept, as the RFC allows "for robustness".
 */
static bool
is_field_value(struct slice s)
{
    size_t i;

    for (i = 0; i < s.len; i++)
        if (s.ptr[i] == '\0' || s.ptr[i] == '\r' || s.ptr[i] == '\n')
            return false;
    return true;
}

/* 1*DIGIT within int64_t. */
static bool
parse_length(struct slice s, int64_t *out)
{
    uint64_t v = 0;
    size_t i;

    s = http__trim_ows(s);
    if (!s.len || s.len > 19)
        return false;
    for (i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    if (v > INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

/*
 * The Transfer-Encoding value: 0 when it is exactly "chunked" (any case),
 * else the status. Exactly, as received: libmicrohttpd decodes chunks only
 * for that value and reads any other ("chunked,", "chunked " with a
 * trailing blank) as a body that lasts until the connection closes, so
 * what RFC 9110 would read as the same list must be refused here.
 */
static unsigned
check_codings(struct slice v, const char **why)
{
    struct slice rest = v, one;
    size_t n = 0, chunked = 0;
    bool last_chunked = false;

    if (slice_case_eq_cstr(v, "chunked"))
        return 0;

    while (rest.ptr) {
        rest = slice_split(rest, ',', &one);
        one = http__trim_ows(one);
        if (!one.len)
            continue;
        n++;
        last_chunked = slice_case_eq_cstr(one, "chunked");
        chunked += last_chunked;
    }
    if (!last_chunked || chunked != 1 || n == 1) {
        *why = "Transfer-Encoding must end with chunked, once";
        return 400;
    }
    *why = "Transfer-Encoding: only chunked is implemented";
    return 501;
}

unsigned
http_framing_check(const struct http_header *h, size_t n, bool http10, struct http_framing *out,
                   const char **why)
{
    size_t i, ncl = 0, nte = 0, nhost = 0;
    struct slice te = SLICE_NULL;
    int64_t len = -1;
    unsigned st;

    out->content_length = -1;
    out->chunked = false;
    for (i = 0; i < n; i++) {
        if (!is_token(h[i].name)) {
            *why = "a header name is not a token (a space before the colon?)";
            return 400;
        }
        if (!is_field_value(h[i].value)) {
            *why = "a header value holds NUL, CR or LF";
            return 400;
        }
        if (slice_case_eq_cstr(h[i].name, "content-length")) {
            if (ncl++) {
                *why = "Content-Length is given more than once";
                return 400;
            }
            if (!parse_length(h[i].value, &len)) {
                *why = "Content-Length is not a decimal number of bytes";
                return 400;
            }
        } else if (slice_case_eq_cstr(h[i].name, "transfer-encoding")) {
            if (nte++) {
                *why = "Transfer-Encoding is given more than once";
                return 400;
            }
            te = h[i].value;
        } else if (slice_case_eq_cstr(h[i].name, "host")) {
            nhost++;
        }
    }
    if (nhost > 1) {
        *why = "Host is given more than once";
        return 400;
    }
    if (!http10 && nhost == 0) {
        *why = "an HTTP/1.1 request needs a Host header";
        return 400;
    }
    if (nte) {
        if (http10) {
            *why = "Transfer-Encoding in an HTTP/1.0 request";
            return 400;
        }
        if (ncl) {
            *why = "both Content-Length and Transfer-Encoding: where the request ends is unclear";
            return 400;
        }
        st = check_codings(te, why);
        if (st)
            return st;
        out->chunked = true;
        return 0;
    }
    out->content_length = len;
    return 0;
}

/*
 * cluster/endpoint.c: ellipsis expansion of endpoint arguments (see
 * endpoint.h for the syntax). One pass finds the `{A...B}` ranges and checks
 * the braces; a second generates the cartesian product, leftmost range
 * fastest. Fuzzed by fuzz/endpoint_expand.c.
 */
#include "util/base.h"

#include "cluster/endpoint.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <strings.h>

#include "util/enc.h"
#include "util/err.h"
#include "util/slice.h"

#define MAX_RANGES 32 /* ellipses in one argument */

/* One `{A...B}` of an argument. */
struct range {
    size_t start; /* offset of '{' */
    size_t end;   /* offset after '}' */
    uint64_t lo;
    uint64_t hi;
    int width; /* zero padding, 0 for none */
};

struct pattern {
    struct range r[MAX_RANGES];
    size_t n;
    size_t count; /* endpoints it expands to */
};

static void
list_push(struct endpoint_list *l, char *s)
{
    if (l->n == l->_alloc) {
        l->_alloc = l->_alloc ? 2 * l->_alloc : 16;
        l->items = xrealloc(l->items, l->_alloc * sizeof(*l->items));
    }
    l->items[l->n++] = s;
}

void
endpoint_list_release(struct endpoint_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* Moves every item of `from` to the end of `to`; `from` is left empty. */
static void
list_move(struct endpoint_list *to, struct endpoint_list *from)
{
    size_t i;

    for (i = 0; i < from->n; i++)
        list_push(to, from->items[i]);
    from->n = 0;
    endpoint_list_release(from);
}

static int
fail(struct buf *errmsg, const char *arg, const char *what)
{
    if (errmsg)
        buf_addf(errmsg, "endpoint '%s': %s", arg, what);
    return -ERR_INVAL;
}

static bool
is_digits(struct slice s)
{
    size_t i;

    for (i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return s.len > 0;
}

/* Parses "A...B" into `r`; `in` is the text between the braces. */
static int
parse_range(struct slice in, struct range *r, const char *arg, struct buf *errmsg)
{
    const char *dots = memmem(in.ptr, in.len, "...", 3);
    struct slice a = slice_make(in.ptr, (size_t)(dots - in.ptr));
    struct slice b = slice_make(dots + 3, in.len - a.len - 3);

    if (!is_digits(a) || !is_digits(b) || a.len > 9 || b.len > 9)
        return fail(errmsg, arg,
                    "the bounds of {A...B} must be decimal numbers "
                    "of at most 9 digits");
    if (parse_u64(a, &r->lo) < 0 || parse_u64(b, &r->hi) < 0)
        return fail(errmsg, arg, "the bounds of {A...B} must be decimal numbers");
    if (r->lo > r->hi)
        return fail(errmsg, arg, "the range {A...B} must be ascending (A <= B)");
    r->width = a.len > 1 && a.ptr[0] == '0' ? (int)a.len : 0;
    return 0;
}

/* Records the ellipsis of the brace group [start, end) of `arg`, if it is one. */
static int
add_group(struct pattern *p, const char *arg, size_t start, size_t end, struct buf *errmsg)
{
    struct slice in = slice_make(arg + start + 1, end - start - 2);
    struct range *r = &p->r[p->n];
    uint64_t size;
    int rc;

    if (!memmem(in.ptr, in.len, "...", 3))
        return 0; /* "{1..4}": literal */
    if (p->n == MAX_RANGES)
        return fail(errmsg, arg, "too many ellipses (at most 32)");
    rc = parse_range(in, r, arg, errmsg);
    if (rc < 0)
        return rc;
    r->start = start;
    r->end = end;
    size = r->hi - r->lo + 1;
    if (size > ENDPOINT_MAX_EXPANSION || p->count * size > ENDPOINT_MAX_EXPANSION)
        return fail(errmsg, arg, "expands to more than 1024 endpoints");
    p->count *= size;
    p->n++;
    return 0;
}

/* Finds the brace groups of `arg`; every '{' must close before the next brace. */
static int
parse_pattern(const char *arg, struct pattern *p, struct buf *errmsg)
{
    size_t i, len = strlen(arg);
    int rc;

    p->n = 0;
    p->count = 1;
    for (i = 0; i < len; i++) {
        size_t j;

        if (arg[i] == '}')
            return fail(errmsg, arg, "'}' without '{'");
        if (arg[i] != '{')
            continue;
        for (j = i + 1; j < len && arg[j] != '{' && arg[j] != '}'; j++)
            ;
        if (j == len)
            return fail(errmsg, arg, "'{' without '}'");
        if (arg[j] == '{')
            return fail(errmsg, arg, "nested '{'");
        rc = add_group(p, arg, i, j + 1, errmsg);
        if (rc < 0)
            return rc;
        i = j;
    }
    return 0;
}

/* The endpoint number `idx` of the product, leftmost range fastest. */
static char *
generate(const char *arg, const struct pattern *p, size_t idx)
{
    struct buf b = BUF_INIT;
    size_t k, pos = 0;

    for (k = 0; k < p->n; k++) {
        const struct range *r = &p->r[k];
        uint64_t size = r->hi - r->lo + 1;

        buf_add(&b, arg + pos, r->start - pos);
        buf_addf(&b, "%0*llu", r->width, (unsigned long long)(r->lo + idx % size));
        idx /= size;
        pos = r->end;
    }
    buf_adds(&b, arg + pos);
    return buf_detach(&b, NULL);
}

int
endpoint_expand(const char *arg, struct endpoint_list *out, struct buf *errmsg)
{
    struct pattern p;
    size_t i;
    int rc;

    if (!arg || !*arg)
        return fail(errmsg, "", "empty endpoint");
    rc = parse_pattern(arg, &p, errmsg);
    if (rc < 0)
        return rc;
    for (i = 0; i < p.count; i++)
        list_push(out, generate(arg, &p, i));
    return 0;
}

static int
strptr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* -ERR_INVAL naming the first endpoint of `l` given twice. */
static int
check_duplicates(const struct endpoint_list *l, struct buf *errmsg)
{
    char **sorted = xmemdup(l->items, (l->n ? l->n : 1) * sizeof(*sorted));
    int rc = 0;
    size_t i;

    qsort(sorted, l->n, sizeof(*sorted), strptr_cmp);
    for (i = 1; i < l->n && rc == 0; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            if (errmsg)
                buf_addf(errmsg, "endpoint '%s' is given more than once", sorted[i]);
            rc = -ERR_INVAL;
        }
    }
    free(sorted);
    return rc;
}

int
endpoint_expand_all(int argc, char *const *argv, struct endpoint_list *out, struct buf *errmsg)
{
    struct endpoint_list tmp = ENDPOINT_LIST_INIT;
    int i, rc = 0;

    for (i = 0; i < argc && rc == 0; i++)
        rc = endpoint_expand(argv[i], &tmp, errmsg);
    if (rc == 0)
        rc = check_duplicates(&tmp, errmsg);
    if (rc == 0)
        list_move(out, &tmp);
    endpoint_list_release(&tmp);
    return rc;
}

bool
endpoint_has_ellipsis(const char *arg)
{
    struct pattern p;

    return parse_pattern(arg, &p, NULL) == 0 && p.n > 0;
}

/* ---- parsing one endpoint ---- */

/* Like fail(), for a sentence with printf arguments after the quoted argument. */
static int failf(struct buf *errmsg, const char *arg, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int
failf(struct buf *errmsg, const char *arg, const char *fmt, ...)
{
    va_list ap;

    if (errmsg) {
        buf_addf(errmsg, "endpoint '%s': ", arg);
        va_start(ap, fmt);
        buf_vaddf(errmsg, fmt, ap);
        va_end(ap);
    }
    return -ERR_INVAL;
}

bool
endpoint_looks_like_url(const char *arg)
{
    return strstr(arg, "://") || strncasecmp(arg, "http:", 5) == 0 ||
           strncasecmp(arg, "https:", 6) == 0;
}

void
endpoint_release(struct endpoint *e)
{
    free(e->arg);
    free(e->text);
    free(e->host);
    free(e->path);
    memset(e, 0, sizeof(*e));
}

/* Appends `s` with runs of '/' collapsed and a trailing '/' dropped (but "/" stays "/"). */
static void
normalise_slashes(struct slice s, struct buf *out)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        if (s.ptr[i] == '/' && out->len && out->ptr[out->len - 1] == '/')
            continue;
        buf_addch(out, s.ptr[i]);
    }
    if (out->len > 1 && out->ptr[out->len - 1] == '/')
        buf_setlen(out, out->len - 1);
}

static int
parse_folder(const char *arg, struct endpoint *out)
{
    struct buf path = BUF_INIT;

    normalise_slashes(slice_cstr(arg), &path);
    memset(out, 0, sizeof(*out));
    out->arg = xstrdup(arg);
    out->text = xstrdup(path.ptr);
    out->path = buf_detach(&path, NULL);
    return 0;
}

static bool
is_dns_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* A DNS name: labels of 1-63 name characters not starting or ending with '-', 253 in all. */
static bool
is_dns_name(struct slice h)
{
    size_t i, label = 0;

    if (h.len > 253)
        return false;
    for (i = 0; i <= h.len; i++) {
        if (i == h.len || h.ptr[i] == '.') {
            if (label == 0 || label > 63 || h.ptr[i - 1] == '-' || h.ptr[i - label] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!is_dns_char(h.ptr[i]))
            return false;
        label++;
    }
    return true;
}

/* Writes the canonical form of `ip` (family `af`) into `out`; false if it is not one. */
static bool
canon_ip(int af, struct slice ip, struct buf *out)
{
    char text[INET6_ADDRSTRLEN], *s = slice_dup(ip);
    unsigned char bin[sizeof(struct in6_addr)];
    bool ok = inet_pton(af, s, bin) == 1 && inet_ntop(af, bin, text, sizeof(text));

    free(s);
    if (ok)
        buf_adds(out, text);
    return ok;
}

/*
 * Writes the canonical host of `h` (without brackets) into `out`: `h` is
 * "[IPv6]", dotted IPv4 (only digits and dots) or a DNS name. On error,
 * returns -ERR_INVAL with the reason in `why`.
 */
static int
canon_host(struct slice h, struct buf *out, struct buf *why)
{
    size_t i;

    if (h.len == 0) {
        buf_adds(why, "empty host");
        return -ERR_INVAL;
    }
    if (h.ptr[0] == '[') {
        if (h.len >= 2 && h.ptr[h.len - 1] == ']' &&
            canon_ip(AF_INET6, slice_make(h.ptr + 1, h.len - 2), out))
            return 0;
        buf_addf(why, "'%.*s' is not a valid bracketed IPv6 address", (int)h.len, h.ptr);
        return -ERR_INVAL;
    }
    if (memchr(h.ptr, ':', h.len)) {
        buf_adds(why, "an IPv6 address must be written in brackets, as [::1]");
        return -ERR_INVAL;
    }
    for (i = 0; i < h.len && ((h.ptr[i] >= '0' && h.ptr[i] <= '9') || h.ptr[i] == '.'); i++)
        ;
    if (i == h.len) {
        if (canon_ip(AF_INET, h, out))
            return 0;
        buf_addf(why, "'%.*s' is not a valid IPv4 address", (int)h.len, h.ptr);
        return -ERR_INVAL;
    }
    if (!is_dns_name(h)) {
        buf_addf(why,
                 "'%.*s' is not a valid host name (letters, digits, '-', '_' and non-empty "
                 "dot-separated labels)",
                 (int)h.len, h.ptr);
        return -ERR_INVAL;
    }
    for (i = 0; i < h.len; i++)
        buf_addch(out, (char)tolower((unsigned char)h.ptr[i]));
    return 0;
}

/* A port 1..65535 filling all of `p`; -ERR_INVAL with the reason in `why`. */
static int
parse_port(struct slice p, uint16_t *port, struct buf *why)
{
    uint64_t v;

    if (p.len > 5 || parse_u64(p, &v) < 0 || v == 0 || v > 65535) {
        buf_addf(why, "bad port '%.*s': it must be a number from 1 to 65535", (int)p.len, p.ptr);
        return -ERR_INVAL;
    }
    *port = (uint16_t)v;
    return 0;
}

/*
 * Splits "HOST[:PORT]" (HOST may be "[IPv6]"); `*port` is left alone without
 * a port. -ERR_INVAL with the reason in `why`.
 */
static int
parse_authority(struct slice a, struct buf *host, uint16_t *port, struct buf *why)
{
    struct slice h = a, p = SLICE_NULL;
    const char *close, *colon;

    if (a.len && a.ptr[0] == '[') {
        close = memchr(a.ptr, ']', a.len);
        if (!close) {
            buf_adds(why, "'[' without ']' in the host");
            return -ERR_INVAL;
        }
        h = slice_make(a.ptr, (size_t)(close - a.ptr) + 1);
        if (h.len < a.len && a.ptr[h.len] != ':') {
            buf_adds(why, "unexpected text after ']' (expected ':PORT')");
            return -ERR_INVAL;
        }
        if (h.len < a.len)
            p = slice_make(a.ptr + h.len + 1, a.len - h.len - 1);
    } else if ((colon = memchr(a.ptr, ':', a.len))) {
        h = slice_make(a.ptr, (size_t)(colon - a.ptr));
        p = slice_make(colon + 1, a.len - h.len - 1);
        if (memchr(p.ptr, ':', p.len)) {
            buf_adds(why, "an IPv6 address must be written in brackets, as [::1]");
            return -ERR_INVAL;
        }
    }
    if (canon_host(h, host, why) < 0)
        return -ERR_INVAL;
    if (p.ptr && parse_port(p, port, why) < 0)
        return -ERR_INVAL;
    return 0;
}

/* Whether path byte `c` is written %XX in the canonical text. */
static bool
needs_escape(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || c == '%' || c == '?' || c == '#' || c == '"' || c == '\\';
}

/* Decodes and checks the path `raw` (starting with '/') into `out`, normalised. */
static int
parse_url_path(const char *arg, struct slice raw, struct buf *out, struct buf *errmsg)
{
    struct buf dec = BUF_INIT;
    struct slice rest, seg;
    size_t i;
    int rc = -ERR_INVAL;

    if (uri_decode(&dec, raw) < 0) {
        fail(errmsg, arg, "bad %-escape in the path (expected % and two hex digits)");
        goto out;
    }
    for (i = 0; i < dec.len; i++) {
        if ((unsigned char)dec.ptr[i] < 0x20 || dec.ptr[i] == 0x7f) {
            fail(errmsg, arg, "the path holds a NUL or control character");
            goto out;
        }
    }
    normalise_slashes(buf_slice(&dec), out);
    if (out->len <= 1) {
        fail(errmsg, arg, "the drive path may not be the root folder '/'");
        goto out;
    }
    for (rest = slice_make(out->ptr + 1, out->len - 1); rest.ptr;) {
        rest = slice_split(rest, '/', &seg);
        if (slice_eq_cstr(seg, ".") || slice_eq_cstr(seg, "..")) {
            fail(errmsg, arg, "the path may not hold '.' or '..' segments");
            goto out;
        }
    }
    rc = 0;
out:
    buf_release(&dec);
    return rc;
}

/* "http://HOST:PORT/PATH" from the parsed parts, escaping the path. */
static char *
canonical_url(const struct endpoint *e)
{
    struct buf b = BUF_INIT;
    const char *p;

    buf_adds(&b, e->tls ? "https://" : "http://");
    endpoint_node_name(e, &b);
    for (p = e->path; *p; p++) {
        if (needs_escape((unsigned char)*p))
            buf_addf(&b, "%%%02X", (unsigned char)*p);
        else
            buf_addch(&b, *p);
    }
    return buf_detach(&b, NULL);
}

/* Checks the scheme of URL-looking `arg`; sets `*tls` and returns the offset after "://". */
static int
parse_scheme(const char *arg, bool *tls, size_t *after, struct buf *errmsg)
{
    const char *sep = strstr(arg, "://");
    size_t n, i;

    if (!sep)
        return fail(errmsg, arg, "a URL must start with http:// or https://");
    n = (size_t)(sep - arg);
    *after = n + 3;
    if (n == 4 && strncasecmp(arg, "http", 4) == 0) {
        *tls = false;
        return 0;
    }
    if (n == 5 && strncasecmp(arg, "https", 5) == 0) {
        *tls = true;
        return 0;
    }
    for (i = 0; i < n && (isalnum((unsigned char)arg[i]) || strchr("+-.", arg[i])); i++)
        ;
    if (n > 0 && i == n && isalpha((unsigned char)arg[0]))
        return failf(errmsg, arg, "unknown scheme '%.*s' (only http:// and https://)", (int)n, arg);
    return fail(errmsg, arg,
                "looks like a URL but does not start with http:// or https:// (it is not "
                "taken for a folder)");
}

static int
parse_url(const char *arg, unsigned default_port, struct endpoint *out, struct buf *errmsg)
{
    struct buf host = BUF_INIT, path = BUF_INIT, why = BUF_INIT;
    struct endpoint e = { 0 };
    const char *auth, *slash;
    size_t after = 0;
    int rc;

    rc = parse_scheme(arg, &e.tls, &after, errmsg);
    if (rc < 0)
        goto out;
    rc = -ERR_INVAL;
    if (strpbrk(arg, "?#")) {
        fail(errmsg, arg, "a URL endpoint may not have a query ('?') or a fragment ('#')");
        goto out;
    }
    auth = arg + after;
    slash = strchrnul(auth, '/');
    if (memchr(auth, '@', (size_t)(slash - auth))) {
        fail(errmsg, arg, "user information ('user@') is not allowed in an endpoint");
        goto out;
    }
    e.port = (uint16_t)default_port;
    if (parse_authority(slice_make(auth, (size_t)(slash - auth)), &host, &e.port, &why) < 0) {
        failf(errmsg, arg, "%s", why.ptr);
        goto out;
    }
    if (e.port == 0) {
        fail(errmsg, arg, "no port: write http://HOST:PORT/PATH");
        goto out;
    }
    if (!*slash) {
        fail(errmsg, arg, "no drive path after the host: write http://HOST:PORT/ABSOLUTE/PATH");
        goto out;
    }
    if (parse_url_path(arg, slice_cstr(slash), &path, errmsg) < 0)
        goto out;
    e.is_url = true;
    e.arg = xstrdup(arg);
    e.host = buf_detach(&host, NULL);
    e.path = buf_detach(&path, NULL);
    e.text = canonical_url(&e);
    if (strlen(e.text) > ENDPOINT_MAX_LEN) {
        failf(errmsg, arg, "longer than %d bytes once written canonically (%%XX escapes)",
              ENDPOINT_MAX_LEN);
        endpoint_release(&e);
        goto out;
    }
    *out = e;
    rc = 0;
out:
    buf_release(&host);
    buf_release(&path);
    buf_release(&why);
    return rc;
}

int
endpoint_parse(const char *arg, unsigned default_port, struct endpoint *out, struct buf *errmsg)
{
    if (!arg || !*arg)
        return fail(errmsg, "", "empty endpoint");
    if (strlen(arg) > ENDPOINT_MAX_LEN)
        return failf(errmsg, arg, "longer than %d bytes", ENDPOINT_MAX_LEN);
    if (default_port > 65535)
        return failf(errmsg, arg, "bad default port %u", default_port);
    if (endpoint_looks_like_url(arg))
        return parse_url(arg, default_port, out, errmsg);
    return parse_folder(arg, out);
}

void
endpoint_node_name(const struct endpoint *e, struct buf *out)
{
    if (strchr(e->host, ':'))
        buf_addf(out, "[%s]:%u", e->host, (unsigned)e->port);
    else
        buf_addf(out, "%s:%u", e->host, (unsigned)e->port);
}

int
endpoint_split_address(const char *address, struct buf *host, uint16_t *port, struct buf *errmsg)
{
    const char *colon = strrchr(address, ':'), *close = strrchr(address, ']');
    struct buf canon = BUF_INIT, why = BUF_INIT;
    struct slice h;
    uint16_t p = 0;
    int rc = -ERR_INVAL;

    if (!colon || (close && colon < close)) {
        buf_adds(&why, "expected HOST:PORT, [IPV6]:PORT or :PORT");
        goto out;
    }
    h = slice_make(address, (size_t)(colon - address));
    if (parse_port(slice_cstr(colon + 1), &p, &why) < 0)
        goto out;
    if (h.len && canon_host(h, &canon, &why) < 0)
        goto out;
    buf_addslice(host, buf_slice(&canon));
    *port = p;
    rc = 0;
out:
    if (rc < 0 && errmsg)
        buf_addf(errmsg, "listen address '%s': %s", address, why.ptr);
    buf_release(&canon);
    buf_release(&why);
    return rc;
}

/*
 * s3/cors.c: bucket CORS: Put/Get/DeleteBucketCors, the preflight OPTIONS
 * request answered from the bucket's rules, and the CORS headers of normal
 * responses to browsers (router.c calls s3__cors_add_headers for every
 * request to a bucket).
 *
 * The configuration is parsed and checked as S3 does (MalformedXML for a
 * document that does not fit the schema or has more than 100 rules,
 * InvalidRequest for a method other than GET PUT HEAD POST DELETE or an
 * origin or header with two wildcards) and stored in canonical form, as the
 * bucket document "cors" (object/bucketconfig.c).
 *
 * A rule matches a request when one of its AllowedOrigin patterns matches
 * the Origin header (one '*' matches any run of characters), its
 * AllowedMethod list has the method (for a preflight, the
 * Access-Control-Request-Method), and, for a preflight, every header of
 * Access-Control-Request-Headers matches one of its AllowedHeader patterns.
 * The first matching rule answers, as in S3.
 *
 * Requests with an Origin need the bucket's rules on every request: the
 * document comes from the object layer's bucket snapshot (in memory, kept
 * current on every node by notifications: object/bucket.c) and is parsed
 * for the request.
 */
#include "util/base.h"

#include <pthread.h>
#include <stdatomic.h>

#include "s3/internal.h"
#include "s3/xml.h"
#include "util/clock.h"
#include "util/err.h"

#define CORS_MAX_RULES 100
#define CORS_MAX_ID 255

enum cors_method {
    CORS_GET = 1u << 0,
    CORS_PUT = 1u << 1,
    CORS_HEAD = 1u << 2,
    CORS_POST = 1u << 3,
    CORS_DELETE = 1u << 4,
};

static const char *const method_names[] = { "GET", "PUT", "HEAD", "POST", "DELETE" };

/* A list of malloc'd strings. */
struct strlist {
    char **v;
    size_t n;
};

struct cors_rule {
    char *id; /* NULL when absent */
    struct strlist origins, headers, expose;
    unsigned methods;                                /* enum cors_method bits */
    unsigned method_order[ARRAY_SIZE(method_names)]; /* as given, for GetBucketCors */
    unsigned nmethods;
    int64_t max_age; /* -1: absent */
};

struct s3_cors_config {
    atomic_int refs;
    struct cors_rule *rules;
    size_t nrules;
};

/* ---- configuration ---- */

static void
strlist_add(struct strlist *l, struct slice s)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = slice_dup(s);
}

static void
strlist_release(struct strlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void
rule_release(struct cors_rule *r)
{
    free(r->id);
    strlist_release(&r->origins);
    strlist_release(&r->headers);
    strlist_release(&r->expose);
    memset(r, 0, sizeof(*r));
    r->max_age = -1;
}

void
s3_cors_config_unref(struct s3_cors_config *c)
{
    size_t i;

    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (i = 0; i < c->nrules; i++)
        rule_release(&c->rules[i]);
    free(c->rules);
    free(c);
}

static int
method_bit(struct slice m)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(method_names); i++)
        if (slice_eq_cstr(m, method_names[i]))
            return (int)i;
    return -1;
}

static size_t
count_stars(struct slice s)
{
    size_t i, n = 0;

    for (i = 0; i < s.len; i++)
        n += s.ptr[i] == '*';
    return n;
}

struct parse_ctx {
    struct s3_cors_config *c;
    struct cors_rule cur;
    struct buf *errmsg;
};

static int
parse_fail(struct parse_ctx *p, int rc, const char *fmt, struct slice s)
{
    if (p->errmsg && p->errmsg->len == 0)
        buf_addf(p->errmsg, fmt, (int)s.len, s.ptr);
    return rc;
}

static int
rule_field(struct parse_ctx *p, const char *name, struct slice text)
{
    struct cors_rule *r = &p->cur;
    uint64_t v;
    int bit;

    if (!strcmp(name, "AllowedOrigin")) {
        if (count_stars(text) > 1)
            return parse_fail(p, -ERR_INVALID_REQUEST,
                              "AllowedOrigin \"%.*s\" can not have more than one wildcard.", text);
        strlist_add(&r->origins, text);
    } else if (!strcmp(name, "AllowedMethod")) {
        bit = method_bit(text);
        if (bit < 0)
            return parse_fail(p, -ERR_INVALID_REQUEST,
                              "Found unsupported HTTP method in CORS config. Unsupported method "
                              "is %.*s",
                              text);
        if (!(r->methods & (1u << bit)))
            r->method_order[r->nmethods++] = (unsigned)bit;
        r->methods |= 1u << bit;
    } else if (!strcmp(name, "AllowedHeader")) {
        if (count_stars(text) > 1)
            return parse_fail(p, -ERR_INVALID_REQUEST,
                              "AllowedHeader \"%.*s\" can not have more than one wildcard.", text);
        strlist_add(&r->headers, text);
    } else if (!strcmp(name, "ExposeHeader")) {
        strlist_add(&r->expose, text);
    } else if (!strcmp(name, "MaxAgeSeconds")) {
        if (parse_u64(text, &v) < 0 || v > INT32_MAX || r->max_age >= 0)
            return -ERR_MALFORMED_XML;
        r->max_age = (int64_t)v;
    } else if (!strcmp(name, "ID")) {
        if (text.len > CORS_MAX_ID || r->id)
            return -ERR_MALFORMED_XML;
        r->id = slice_dup(text);
    } else {
        return -ERR_MALFORMED_XML;
    }
    return 0;
}

static int
end_rule(struct parse_ctx *p)
{
    struct s3_cors_config *c = p->c;

    if (p->cur.origins.n == 0 || p->cur.nmethods == 0)
        return -ERR_MALFORMED_XML;
    if (c->nrules == CORS_MAX_RULES)
        return parse_fail(p, -ERR_MALFORMED_XML,
                          "The number of CORS rules should not exceed allowed limit of 100 "
                          "rules.%.*s",
                          SLICE_LIT(""));
    c->rules = xrealloc(c->rules, (c->nrules + 1) * sizeof(*c->rules));
    c->rules[c->nrules++] = p->cur;
    memset(&p->cur, 0, sizeof(p->cur));
    p->cur.max_age = -1;
    return 0;
}

static int
on_cors_elem(void *arg, unsigned depth, const char *name, struct slice text)
{
    struct parse_ctx *p = arg;

    if (depth == 3)
        return rule_field(p, name, text);
    if (depth == 2)
        return strcmp(name, "CORSRule") ? -ERR_MALFORMED_XML : end_rule(p);
    if (depth == 1)
        return p->c->nrules ? 0 : -ERR_MALFORMED_XML;
    return -ERR_MALFORMED_XML;
}

int
s3_cors_parse(struct slice body, struct s3_cors_config **out, struct buf *errmsg)
{
    struct s3_cors_config *c = xcalloc(1, sizeof(*c));
    struct parse_ctx p = { .c = c, .errmsg = errmsg };
    int rc;

    atomic_init(&c->refs, 1);
    p.cur.max_age = -1;
    rc = xml_read(body, "CORSConfiguration", on_cors_elem, &p);
    rule_release(&p.cur);
    if (rc < 0) {
        s3_cors_config_unref(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void
xml_list(struct buf *out, const char *tag, const struct strlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        xml_elem_str(out, tag, l->v[i]);
}

void
s3_cors_xml(const struct s3_cors_config *c, struct buf *out)
{
    size_t i, j;

    xml_declaration(out);
    xml_open_ns(out, "CORSConfiguration");
    for (i = 0; i < c->nrules; i++) {
        const struct cors_rule *r = &c->rules[i];

        xml_open(out, "CORSRule");
        if (r->id)
            xml_elem_str(out, "ID", r->id);
        xml_list(out, "AllowedHeader", &r->headers);
        for (j = 0; j < r->nmethods; j++)
            xml_elem_str(out, "AllowedMethod", method_names[r->method_order[j]]);
        xml_list(out, "AllowedOrigin", &r->origins);
        xml_list(out, "ExposeHeader", &r->expose);
        if (r->max_age >= 0)
            xml_elem_u64(out, "MaxAgeSeconds", (uint64_t)r->max_age);
        xml_close(out, "CORSRule");
    }
    xml_close(out, "CORSConfiguration");
}

/* ---- matching ---- */

bool
s3_cors_wildcard_match(const char *pattern, struct slice s)
{
    const char *star = strchr(pattern, '*');
    size_t pre, post;

    if (!star)
        return slice_case_eq_cstr(s, pattern);
    pre = (size_t)(star - pattern);
    post = strlen(star + 1);
    return s.len >= pre + post && slice_case_eq(slice_make(s.ptr, pre), slice_make(pattern, pre)) &&
           slice_case_eq(slice_make(s.ptr + s.len - post, post), slice_make(star + 1, post));
}

static bool
list_matches(const struct strlist *l, struct slice s)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (s3_cors_wildcard_match(l->v[i], s))
            return true;
    return false;
}

/* Every header of a comma-separated Access-Control-Request-Headers is allowed. */
static bool
headers_allowed(const struct cors_rule *r, struct slice req_headers)
{
    struct slice rest = req_headers, one;

    while (rest.ptr) {
        rest = slice_split(rest, ',', &one);
        one = slice_trim(one);
        if (one.len && !list_matches(&r->headers, one))
            return false;
    }
    return true;
}

ssize_t
s3_cors_match(const struct s3_cors_config *c, struct slice origin, struct slice method,
              struct slice req_headers)
{
    int bit = method_bit(method);
    size_t i;

    if (bit < 0 || !origin.len)
        return -1;
    for (i = 0; i < c->nrules; i++) {
        const struct cors_rule *r = &c->rules[i];

        if ((r->methods & (1u << bit)) && list_matches(&r->origins, origin) &&
            headers_allowed(r, req_headers))
            return (ssize_t)i;
    }
    return -1;
}

static const char *
join_list(struct arena *a, const struct strlist *l)
{
    struct buf b = BUF_INIT;
    const char *s;
    size_t i;

    for (i = 0; i < l->n; i++)
        buf_addf(&b, "%s%s", i ? ", " : "", l->v[i]);
    s = arena_strdup(a, b.ptr);
    buf_release(&b);
    return s;
}

static const char *
join_methods(struct arena *a, const struct cors_rule *r)
{
    struct buf b = BUF_INIT;
    const char *s;
    unsigned i;

    for (i = 0; i < r->nmethods; i++)
        buf_addf(&b, "%s%s", i ? ", " : "", method_names[r->method_order[i]]);
    s = arena_strdup(a, b.ptr);
    buf_release(&b);
    return s;
}

static void
add_header(struct http_header *out, size_t *n, const char *name, const char *value)
{
    out[*n].name = slice_cstr(name);
    out[*n].value = slice_cstr(value);
    (*n)++;
}

size_t
s3_cors_headers(struct arena *a, const struct s3_cors_config *c, ssize_t rule, struct slice origin,
                bool preflight, struct slice req_headers,
                struct http_header out[S3_CORS_MAX_HEADERS])
{
    const struct cors_rule *r;
    size_t n = 0;
    bool any = false;

    if (rule >= 0) {
        r = &c->rules[rule];
        any = r->origins.n == 1 && !strcmp(r->origins.v[0], "*");
        add_header(out, &n, "Access-Control-Allow-Origin", any ? "*" : arena_slicedup(a, origin));
        if (!any)
            add_header(out, &n, "Access-Control-Allow-Credentials", "true");
        add_header(out, &n, "Access-Control-Allow-Methods", join_methods(a, r));
        if (preflight && slice_trim(req_headers).len)
            add_header(out, &n, "Access-Control-Allow-Headers",
                       arena_slicedup(a, slice_trim(req_headers)));
        if (r->expose.n)
            add_header(out, &n, "Access-Control-Expose-Headers", join_list(a, &r->expose));
        if (r->max_age >= 0)
            add_header(out, &n, "Access-Control-Max-Age",
                       arena_printf(a, "%lld", (long long)r->max_age));
    }
    add_header(out, &n, "Vary",
               "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    return n;
}

/*
 * The bucket's configuration, parsed: 0 and `*out` (NULL: none, or no such
 * bucket), or the object layer's error. The document comes from the object
 * layer's bucket snapshot (no I/O once read: object/bucket.c), which every
 * node keeps current.
 */
static int
cors_lookup(struct s3_call *call, struct s3_cors_config **out)
{
    struct s3_cors_config *cfg = NULL;
    struct buf doc = BUF_INIT;
    int rc = objlayer_bucket_config_get(call->s3->ol, &call->ctx, call->bucket, "cors", &doc);

    if (rc == 0 && s3_cors_parse(buf_slice(&doc), &cfg, NULL) < 0)
        cfg = NULL; /* a document we wrote that does not parse: as none */
    buf_release(&doc);
    if (rc < 0 && rc != -ERR_NOT_FOUND && rc != -ERR_BUCKET_NOT_FOUND)
        return rc;
    *out = cfg;
    return 0;
}

/* ---- requests ---- */

static void
set_headers(struct http_req *req, const struct http_header *h, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        http_resp_header(req, h[i].name.ptr, h[i].value.ptr);
}

void
s3__cors_add_headers(struct s3_call *call)
{
    struct http_req *req = call->req;
    struct http_header h[S3_CORS_MAX_HEADERS];
    struct s3_cors_config *cfg = NULL;
    struct slice origin;
    ssize_t rule;

    if (!http_req_header(req, "origin", &origin) || s3_bucket_name_check(slice_cstr(call->bucket)))
        return;
    if (cors_lookup(call, &cfg) < 0 || !cfg)
        return;
    rule = s3_cors_match(cfg, slice_trim(origin), req->method, SLICE_NULL);
    set_headers(req, h,
                s3_cors_headers(req->arena, cfg, rule, slice_trim(origin), false, SLICE_NULL, h));
    s3_cors_config_unref(cfg);
}

void
s3__cors_preflight(struct s3_call *call)
{
    struct http_req *req = call->req;
    struct http_header h[S3_CORS_MAX_HEADERS];
    struct s3_cors_config *cfg = NULL;
    struct slice origin, method, hdrs = SLICE_NULL;
    ssize_t rule;
    int rc;

    if (!http_req_header(req, "origin", &origin) || !slice_trim(origin).len) {
        s3__send_error(call, -ERR_BAD_REQUEST,
                       "Insufficient information. Origin request header needed.");
        return;
    }
    if (!http_req_header(req, "access-control-request-method", &method)) {
        s3__send_error(call, -ERR_BAD_REQUEST, "Invalid Access-Control-Request-Method: null");
        return;
    }
    http_req_header(req, "access-control-request-headers", &hdrs);
    rc = s3_bucket_name_check(slice_cstr(call->bucket));
    if (rc == 0)
        rc = cors_lookup(call, &cfg);
    if (rc < 0 && rc != -ERR_INVALID_BUCKET_NAME) {
        s3__send_error(call, rc, NULL);
        return;
    }
    if (!cfg) {
        s3__send_error(call, -ERR_CORS_DENIED,
                       "CORSResponse: CORS is not enabled for this bucket.");
        return;
    }
    rule = s3_cors_match(cfg, slice_trim(origin), slice_trim(method), hdrs);
    if (rule < 0) {
        s3__send_error(call, -ERR_CORS_DENIED,
                       "CORSResponse: This CORS request is not allowed. This is usually because "
                       "the evalution of Origin, request method / Access-Control-Request-Method "
                       "or Access-Control-Request-Headers are not whitelisted by the resource's "
                       "CORS spec.");
    } else {
        set_headers(req, h,
                    s3_cors_headers(req->arena, cfg, rule, slice_trim(origin), true, hdrs, h));
        http_resp_empty(req, 200);
    }
    s3_cors_config_unref(cfg);
}

/* ---- Put/Get/DeleteBucketCors ---- */

static void
put_cors_done(struct s3_call *call, int rc, struct slice body)
{
    struct s3_cors_config *cfg = NULL;
    struct buf msg = BUF_INIT, doc = BUF_INIT;

    if (rc == 0)
        rc = s3_cors_parse(body, &cfg, &msg);
    if (rc == 0) {
        s3_cors_xml(cfg, &doc);
        rc = objlayer_bucket_config_put(call->s3->ol, &call->ctx, call->bucket, "cors",
                                        buf_slice(&doc));
    }
    if (rc < 0)
        s3__send_error(call, rc, msg.len ? msg.ptr : NULL);
    else
        http_resp_empty(call->req, 200);
    s3_cors_config_unref(cfg);
    buf_release(&msg);
    buf_release(&doc);
}

static void
get_cors(struct s3_call *call)
{
    struct buf doc = BUF_INIT;
    int rc = objlayer_bucket_config_get(call->s3->ol, &call->ctx, call->bucket, "cors", &doc);

    if (rc == -ERR_NOT_FOUND)
        rc = -ERR_NO_SUCH_CORS;
    if (rc < 0)
        s3__send_error(call, rc, NULL);
    else
        s3__send_xml(call, &doc);
    buf_release(&doc);
}

void
s3__bucket_cors(struct s3_call *call)
{
    int rc;

    if (s3_bucket_name_check(slice_cstr(call->bucket)) < 0) {
        s3__send_error(call, -ERR_BUCKET_NOT_FOUND, NULL);
        return;
    }
    switch (call->op) {
    case S3_OP_GET_BUCKET_CORS:
        get_cors(call);
        return;
    case S3_OP_PUT_BUCKET_CORS:
        s3__expect_small_body(call, put_cors_done);
        return;
    default:
        rc = objlayer_bucket_config_delete(call->s3->ol, &call->ctx, call->bucket, "cors");
        if (rc < 0)
            s3__send_error(call, rc, NULL);
        else
            http_resp_empty(call->req, 204);
    }
}

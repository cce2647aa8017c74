/*
 * auth/sigv2.c: AWS Signature Version 2 verification (the rules are in
 * sigv2.h). The checks run in sigv4.c's order: shape, then time, then the
 * access key, then the signature, so no secret is looked up for a request
 * that cannot succeed.
 */
#include "util/base.h"

#include "auth/sigv2.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

/*
 * The query parameters that are part of the resource: S3's sub-resources and
 * response overrides, as botocore's HmacV1Auth lists them (the signer a
 * SigV2 request most likely comes from). Sorted.
 */
static const char *const subresources[] = {
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

#define SIGV2_MAX_SUBRESOURCES 64

static void
errmsg_add(struct buf *errmsg, const char *msg)
{
    if (errmsg)
        buf_adds(errmsg, msg);
}

static bool
is_subresource(struct slice name)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(subresources); i++)
        if (slice_eq_cstr(name, subresources[i]))
            return true;
    return false;
}

static bool
presigned(const struct sigv4_req *r)
{
    struct slice v;

    return sigv4_find_param(r->query, "AWSAccessKeyId", &v) > 0;
}

bool
sigv2_is_signed(const struct sigv4_req *r)
{
    struct slice v;

    return presigned(r) || (sigv4_find_header(r->headers, r->nheaders, "authorization", &v) &&
                            slice_starts_with(slice_trim(v), SLICE_LIT("AWS ")));
}

/* The decoded value of query parameter `name` into `out` (cleared); false if absent. */
static bool
param_decoded(struct slice q, const char *name, struct buf *out)
{
    struct slice v;

    buf_clear(out);
    if (!sigv4_find_param(q, name, &v))
        return false;
    if (uri_decode(out, v) < 0) {
        buf_clear(out);
        buf_addslice(out, v);
    }
    return true;
}

/*
 * The query's parameters with their names and values decoded, as the router
 * sees them (http_parse_query decodes names too): "%75ploadId" is uploadId, a
 * sub-resource, whatever its spelling on the wire.
 */
struct qparam {
    struct buf name, value;
    bool has_value;
};

struct qlist {
    struct qparam *v;
    size_t n;
};

static void
decode_into(struct buf *out, struct slice s)
{
    if (uri_decode(out, s) < 0) {
        buf_clear(out);
        buf_addslice(out, s);
    }
}

static void
qlist_parse(struct slice q, struct qlist *l)
{
    l->v = NULL;
    l->n = 0;
    while (q.ptr) {
        struct slice seg, name, val;
        struct qparam *p;

        q = slice_split(q, '&', &seg);
        if (seg.len == 0)
            continue;
        val = slice_split(seg, '=', &name);
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        p = &l->v[l->n++];
        buf_init(&p->name, 0);
        buf_init(&p->value, 0);
        decode_into(&p->name, name);
        p->has_value = val.ptr != NULL;
        if (val.ptr)
            decode_into(&p->value, val);
    }
}

static void
qlist_release(struct qlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        buf_release(&l->v[i].name);
        buf_release(&l->v[i].value);
    }
    free(l->v);
}

static bool
is_amz(struct slice name)
{
    return name.len > 6 && slice_case_eq(slice_make(name.ptr, 6), SLICE_LIT("x-amz-"));
}

/* A parameter a presigned URL may carry for a header: Content-Type, Content-MD5, x-amz-*. */
static bool
is_header_param(struct slice name)
{
    return is_amz(name) || slice_case_eq(name, SLICE_LIT("content-type")) ||
           slice_case_eq(name, SLICE_LIT("content-md5"));
}

/*
 * Header `name`: the request's, else (a presigned URL's query list `l`, or
 * NULL) the query parameter of that name in any case; trimmed. False if neither.
 */
static bool
header_or_param(const struct sigv4_req *r, const struct qlist *l, const char *name,
                struct slice *out)
{
    size_t i;

    if (sigv4_find_header(r->headers, r->nheaders, name, out)) {
        *out = slice_trim(*out);
        return true;
    }
    for (i = 0; l && i < l->n; i++) {
        if (slice_case_eq_cstr(buf_slice(&l->v[i].name), name)) {
            *out = slice_trim(buf_slice(&l->v[i].value));
            return true;
        }
    }
    return false;
}

/* A standard header line: the header, else (presigned) the query parameter, else "". */
static void
add_standard(const struct sigv4_req *r, const struct qlist *l, const char *name, struct buf *sts)
{
    struct slice v;

    if (header_or_param(r, l, name, &v))
        buf_addslice(sts, v);
    buf_addch(sts, '\n');
}

/* One x-amz-* header or parameter: lowercase name, trimmed value. */
struct amz {
    struct buf name, value;
};

static int
amz_cmp(const void *a, const void *b)
{
    const struct amz *x = a, *y = b;

    return strcmp(x->name.ptr, y->name.ptr);
}

/* Adds value `v` to the entry named `name` (lowercased), joining repeats with ','. */
static void
amz_add(struct amz **v, size_t *n, struct slice name, struct slice value)
{
    size_t i;

    for (i = 0; i < *n; i++) {
        if (slice_case_eq_cstr(name, (*v)[i].name.ptr)) {
            buf_addch(&(*v)[i].value, ',');
            buf_addslice(&(*v)[i].value, slice_trim(value));
            return;
        }
    }
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    buf_init(&(*v)[*n].name, 0);
    buf_init(&(*v)[*n].value, 0);
    for (i = 0; i < name.len; i++)
        buf_addch(&(*v)[*n].name, (char)(name.ptr[i] >= 'A' && name.ptr[i] <= 'Z' ? name.ptr[i] + 32
                                                                                  : name.ptr[i]));
    buf_addslice(&(*v)[*n].value, slice_trim(value));
    (*n)++;
}

static void
add_amz_headers(const struct sigv4_req *r, const struct qlist *l, struct buf *sts)
{
    struct amz *v = NULL;
    size_t n = 0, nhdr, i, j;

    for (i = 0; i < r->nheaders; i++)
        if (is_amz(r->headers[i].name))
            amz_add(&v, &n, r->headers[i].name, r->headers[i].value);
    nhdr = n;
    for (j = 0; l && j < l->n; j++) {
        struct slice name = buf_slice(&l->v[j].name);
        bool dup = false;

        if (!is_amz(name))
            continue;
        for (i = 0; i < nhdr; i++)
            dup = dup || slice_case_eq_cstr(name, v[i].name.ptr);
        if (!dup) /* the request's own header wins */
            amz_add(&v, &n, name, buf_slice(&l->v[j].value));
    }
    if (n)
        qsort(v, n, sizeof(*v), amz_cmp);
    for (i = 0; i < n; i++) {
        buf_addf(sts, "%s:", v[i].name.ptr);
        buf_addslice(sts, buf_slice(&v[i].value));
        buf_addch(sts, '\n');
        buf_release(&v[i].name);
        buf_release(&v[i].value);
    }
    free(v);
}

/* "?a&b=v..." of the sub-resources in the query, sorted by name (stable), names and values decoded.
 */
static void
add_subresources(const struct qlist *l, struct buf *sts)
{
    const struct qparam *sel[SIGV2_MAX_SUBRESOURCES];
    size_t n = 0, i, j;

    for (i = 0; i < l->n && n < ARRAY_SIZE(sel); i++) {
        const struct qparam *p = &l->v[i];

        if (!is_subresource(buf_slice(&p->name)))
            continue;
        /* insertion sort, stable: same names keep their order */
        for (j = n; j > 0 && strcmp(sel[j - 1]->name.ptr, p->name.ptr) > 0; j--)
            sel[j] = sel[j - 1];
        sel[j] = p;
        n++;
    }
    for (i = 0; i < n; i++) {
        buf_addch(sts, i ? '&' : '?');
        buf_addslice(sts, buf_slice(&sel[i]->name));
        if (!sel[i]->has_value)
            continue;
        buf_addch(sts, '=');
        buf_addslice(sts, buf_slice(&sel[i]->value));
    }
}

/*
 * What the string to sign and the request must agree on: at most
 * SIGV2_MAX_SUBRESOURCES sub-resources (past them a parameter would be
 * routed but not signed); and for a presigned URL, each header parameter
 * (Content-Type, Content-MD5, x-amz-*, any case) at most once and without a
 * control character (they become the request's headers once verified).
 */
static int
check_query(const struct qlist *l, bool is_presigned, struct buf *errmsg)
{
    size_t i, j, nsub = 0;

    for (i = 0; i < l->n; i++) {
        struct slice name = buf_slice(&l->v[i].name), value = buf_slice(&l->v[i].value);

        if (is_subresource(name) && ++nsub > SIGV2_MAX_SUBRESOURCES) {
            errmsg_add(errmsg, "too many sub-resources in the query");
            return -ERR_AUTH_MALFORMED;
        }
        if (!is_presigned || !is_header_param(name))
            continue;
        for (j = 0; j < i; j++) {
            if (slice_case_eq(name, buf_slice(&l->v[j].name))) {
                errmsg_add(errmsg, "a header parameter appears twice in the query");
                return -ERR_AUTH_MALFORMED;
            }
        }
        for (j = 0; j < value.len; j++) {
            if (value.ptr[j] == '\0' || value.ptr[j] == '\r' || value.ptr[j] == '\n') {
                errmsg_add(errmsg, "a header parameter holds a control character");
                return -ERR_AUTH_MALFORMED;
            }
        }
    }
    return 0;
}

/* The string to sign, with the query already parsed into `l`. */
static void
string_to_sign(const struct sigv4_req *r, const struct qlist *l, struct slice resource,
               struct slice date, struct buf *out)
{
    const struct qlist *hq = presigned(r) ? l : NULL; /* header parameters count if presigned */

    buf_addslice(out, r->method);
    buf_addch(out, '\n');
    add_standard(r, hq, "content-md5", out);
    add_standard(r, hq, "content-type", out);
    buf_addslice(out, date);
    buf_addch(out, '\n');
    add_amz_headers(r, hq, out);
    buf_addslice(out, resource);
    add_subresources(l, out);
}

void
sigv2_string_to_sign(const struct sigv4_req *r, struct slice resource, struct slice date,
                     struct buf *out)
{
    struct qlist l;

    qlist_parse(r->query, &l);
    string_to_sign(r, &l, resource, date, out);
    qlist_release(&l);
}

void
sigv2_query_headers(const struct sigv4_req *r, sigv2_header_fn *fn, void *arg)
{
    struct qlist l;
    struct slice v;
    size_t i;

    if (!presigned(r))
        return;
    qlist_parse(r->query, &l);
    for (i = 0; i < l.n; i++) {
        struct slice name = buf_slice(&l.v[i].name);

        if (is_header_param(name) &&
            !sigv4_find_header(r->headers, r->nheaders, l.v[i].name.ptr, &v))
            fn(arg, name, buf_slice(&l.v[i].value));
    }
    qlist_release(&l);
}

void
sigv2_sign(struct slice secret, struct slice msg, char out[29])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    struct buf b64 = BUF_INIT;

    BUG_ON(!HMAC(EVP_sha1(), secret.ptr, (int)secret.len, (const unsigned char *)msg.ptr, msg.len,
                 md, &len) ||
           len != 20);
    base64_encode(&b64, md, len);
    BUG_ON(b64.len != 28);
    memcpy(out, b64.ptr, 29);
    buf_release(&b64);
}

/* Splits "AWS <key>:<signature>". */
static int
parse_header(struct slice authz, struct slice *key, struct slice *sig, struct buf *errmsg)
{
    struct slice rest = slice_trim(authz);

    rest = slice_trim(slice_make(rest.ptr + 4, rest.len - 4)); /* after "AWS " */
    *sig = slice_split(rest, ':', key);
    if (!sig->ptr || key->len == 0 || sig->len == 0) {
        errmsg_add(errmsg, "the Authorization header must be \"AWS <access key>:<signature>\"");
        return -ERR_AUTH_MALFORMED;
    }
    *sig = slice_trim(*sig);
    return 0;
}

/* The request's time from x-amz-date or Date, within the allowed skew. */
static int
header_time(const struct sigv4_req *r, time_t *t, bool *amz, struct buf *errmsg)
{
    struct slice v;

    *amz = sigv4_find_header(r->headers, r->nheaders, "x-amz-date", &v) > 0;
    if (!*amz && !sigv4_find_header(r->headers, r->nheaders, "date", &v)) {
        errmsg_add(errmsg, "AWS authentication requires a valid Date or x-amz-date header");
        return -ERR_ACCESS_DENIED;
    }
    /* S3 takes a date before 1970 for no date at all: 403 AccessDenied, not RequestTimeTooSkewed */
    if (clock_parse_http(slice_trim(v), t) < 0 || *t < 0) {
        errmsg_add(errmsg, "AWS authentication requires a valid Date or x-amz-date header");
        return -ERR_ACCESS_DENIED;
    }
    if (*t > r->now + SIGV4_MAX_SKEW || *t < r->now - SIGV4_MAX_SKEW)
        return -ERR_TIME_SKEWED;
    return 0;
}

int
sigv2_verify(const struct sigv4_req *r, const struct slice *resources, size_t nres,
             sigv4_lookup_fn *lookup, void *lookup_arg, struct sigv4_auth *out, struct buf *errmsg)
{
    struct buf key = BUF_INIT, sig = BUF_INIT, expires = BUF_INIT, secret = BUF_INIT;
    struct buf sts = BUF_INIT;
    struct slice authz, dates[2], k, s, h;
    struct qlist l;
    size_t ndates = 0, i, j;
    bool is_presigned = presigned(r), ok = false;
    uint64_t exp = 0;
    time_t t = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    qlist_parse(r->query, &l);
    if (is_presigned) {
        struct slice v;

        if (sigv4_find_header(r->headers, r->nheaders, "authorization", &v) ||
            sigv4_find_param(r->query, "X-Amz-Signature", &v) ||
            sigv4_find_param(r->query, "X-Amz-Credential", &v)) {
            errmsg_add(errmsg, "only one authentication mechanism is allowed");
            rc = -ERR_AUTH_MALFORMED;
            goto out;
        }
        if (!param_decoded(r->query, "AWSAccessKeyId", &key) ||
            !param_decoded(r->query, "Signature", &sig) ||
            !param_decoded(r->query, "Expires", &expires) || key.len == 0 ||
            parse_u64(buf_slice(&expires), &exp) < 0 || exp > (uint64_t)INT64_MAX) {
            /* S3's answer: 403 AccessDenied with this message */
            errmsg_add(errmsg, "Query-string authentication requires the Signature, Expires and "
                               "AWSAccessKeyId parameters");
            rc = -ERR_ACCESS_DENIED;
            goto out;
        }
        t = (time_t)exp;
        if (r->now > t) {
            rc = -ERR_EXPIRED;
            goto out;
        }
        dates[ndates++] = buf_slice(&expires);
    } else {
        bool amz;
        struct slice dv;

        sigv4_find_header(r->headers, r->nheaders, "authorization", &authz);
        rc = parse_header(authz, &k, &s, errmsg);
        if (rc == 0)
            rc = header_time(r, &t, &amz, errmsg);
        if (rc < 0)
            goto out;
        buf_addslice(&key, k);
        buf_addslice(&sig, s);
        if (amz)
            dates[ndates++] = SLICE_LIT("");
        if (sigv4_find_header(r->headers, r->nheaders, "date", &dv))
            dates[ndates++] = slice_trim(dv);
    }
    rc = check_query(&l, is_presigned, errmsg);
    if (rc < 0)
        goto out;
    rc = lookup(lookup_arg, buf_slice(&key), &secret);
    if (rc < 0)
        goto out;
    for (i = 0; i < nres && !ok; i++) {
        for (j = 0; j < ndates && !ok; j++) {
            char want[29];

            buf_clear(&sts);
            string_to_sign(r, &l, resources[i], dates[j], &sts);
            sigv2_sign(buf_slice(&secret), buf_slice(&sts), want);
            ok = sig.len == 28 && ct_equal(want, sig.ptr, 28);
        }
    }
    if (!ok) {
        errmsg_add(errmsg, "The request signature we calculated does not match the signature "
                           "you provided. Check your key and signing method.");
        rc = -ERR_SIG_MISMATCH;
        goto out;
    }
    snprintf(out->access_key, sizeof(out->access_key), "%.*s", (int)key.len, key.ptr);
    /*
     * x-amz-content-sha256, when sent (as a header, or a presigned URL's
     * parameter), is signed as every x-amz-* header is, and says what the body
     * is: a hash to check, or aws-chunked framing (the SigV4-signed kinds then
     * fail their chunk signatures: there is no SigV4 signing key). Otherwise
     * the body is unsigned.
     */
    if (header_or_param(r, is_presigned ? &l : NULL, "x-amz-content-sha256", &h) &&
        h.len < sizeof(out->payload_hash))
        snprintf(out->payload_hash, sizeof(out->payload_hash), "%.*s", (int)h.len, h.ptr);
    else
        snprintf(out->payload_hash, sizeof(out->payload_hash), "%s", SIGV4_UNSIGNED_PAYLOAD);
    out->request_time = t;
    out->presigned = is_presigned;
out:
    qlist_release(&l);
    buf_release_secure(&secret);
    buf_release(&key);
    buf_release(&sig);
    buf_release(&expires);
    buf_release(&sts);
    return rc;
}

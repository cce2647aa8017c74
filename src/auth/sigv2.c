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

bool
sigv2_is_signed(const struct sigv4_req *r)
{
    struct slice v;

    if (sigv4_find_header(r->headers, r->nheaders, "authorization", &v) &&
        slice_starts_with(slice_trim(v), SLICE_LIT("AWS ")))
        return true;
    return sigv4_find_param(r->query, "AWSAccessKeyId", &v) > 0;
}

static bool
presigned(const struct sigv4_req *r)
{
    struct slice v;

    return sigv4_find_param(r->query, "AWSAccessKeyId", &v) > 0;
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

/* A standard header line: the header, else (presigned) the query parameter, else "". */
static void
add_standard(const struct sigv4_req *r, const char *name, bool from_query, struct buf *sts)
{
    struct buf tmp = BUF_INIT;
    struct slice v;

    if (sigv4_find_header(r->headers, r->nheaders, name, &v))
        buf_addslice(sts, slice_trim(v));
    else if (from_query && param_decoded(r->query, name, &tmp))
        buf_addslice(sts, slice_trim(buf_slice(&tmp)));
    buf_addch(sts, '\n');
    buf_release(&tmp);
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

static bool
is_amz(struct slice name)
{
    return name.len > 6 && slice_case_eq(slice_make(name.ptr, 6), SLICE_LIT("x-amz-"));
}

static void
add_amz_headers(const struct sigv4_req *r, bool from_query, struct buf *sts)
{
    struct amz *v = NULL;
    struct buf tmp = BUF_INIT;
    struct slice q = r->query;
    size_t n = 0, nhdr, i;

    for (i = 0; i < r->nheaders; i++)
        if (is_amz(r->headers[i].name))
            amz_add(&v, &n, r->headers[i].name, r->headers[i].value);
    nhdr = n;
    while (from_query && q.ptr) {
        struct slice seg, name, val;
        bool dup = false;

        q = slice_split(q, '&', &seg);
        val = slice_split(seg, '=', &name);
        if (!is_amz(name))
            continue;
        for (i = 0; i < nhdr; i++)
            dup = dup || slice_case_eq_cstr(name, v[i].name.ptr);
        if (dup)
            continue; /* the request's own header wins */
        buf_clear(&tmp);
        if (!val.ptr || uri_decode(&tmp, val) < 0) {
            buf_clear(&tmp);
            if (val.ptr)
                buf_addslice(&tmp, val);
        }
        amz_add(&v, &n, name, buf_slice(&tmp));
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
    buf_release(&tmp);
}

/* "?a&b=v..." of the sub-resources in the query, sorted by name (stable), values decoded. */
static void
add_subresources(struct slice q, struct buf *sts)
{
    struct slice names[64], values[64];
    bool has_value[64];
    struct buf tmp = BUF_INIT;
    size_t n = 0, i, j;

    while (q.ptr && n < ARRAY_SIZE(names)) {
        struct slice seg, name, val;

        q = slice_split(q, '&', &seg);
        val = slice_split(seg, '=', &name);
        if (!is_subresource(name))
            continue;
        /* insertion sort, stable: same names keep their order */
        for (j = n; j > 0; j--) {
            struct slice p = names[j - 1];
            size_t m = MIN(p.len, name.len);
            int c = memcmp(p.ptr, name.ptr, m);

            if (c < 0 || (c == 0 && p.len <= name.len))
                break;
            names[j] = names[j - 1];
            values[j] = values[j - 1];
            has_value[j] = has_value[j - 1];
        }
        names[j] = name;
        values[j] = val;
        has_value[j] = val.ptr != NULL;
        n++;
    }
    for (i = 0; i < n; i++) {
        buf_addch(sts, i ? '&' : '?');
        buf_addslice(sts, names[i]);
        if (!has_value[i])
            continue;
        buf_addch(sts, '=');
        buf_clear(&tmp);
        if (uri_decode(&tmp, values[i]) < 0) {
            buf_clear(&tmp);
            buf_addslice(&tmp, values[i]);
        }
        buf_addslice(sts, buf_slice(&tmp));
    }
    buf_release(&tmp);
}

void
sigv2_string_to_sign(const struct sigv4_req *r, struct slice resource, struct slice date,
                     struct buf *out)
{
    bool q = presigned(r);

    buf_addslice(out, r->method);
    buf_addch(out, '\n');
    add_standard(r, "content-md5", q, out);
    add_standard(r, "content-type", q, out);
    buf_addslice(out, date);
    buf_addch(out, '\n');
    add_amz_headers(r, q, out);
    buf_addslice(out, resource);
    add_subresources(r->query, out);
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
    if (clock_parse_http(slice_trim(v), t) < 0) {
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
    struct slice authz, dates[2], k, s;
    size_t ndates = 0, i, j;
    bool is_presigned = presigned(r), ok = false;
    uint64_t exp = 0;
    time_t t = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
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
            errmsg_add(errmsg, "Query-string authentication requires the Signature, Expires and "
                               "AWSAccessKeyId parameters");
            rc = -ERR_AUTH_MALFORMED;
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
    rc = lookup(lookup_arg, buf_slice(&key), &secret);
    if (rc < 0)
        goto out;
    for (i = 0; i < nres && !ok; i++) {
        for (j = 0; j < ndates && !ok; j++) {
            char want[29];

            buf_clear(&sts);
            sigv2_string_to_sign(r, resources[i], dates[j], &sts);
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
    snprintf(out->payload_hash, sizeof(out->payload_hash), "%s", SIGV4_UNSIGNED_PAYLOAD);
    out->request_time = t;
    out->presigned = is_presigned;
out:
    buf_release_secure(&secret);
    buf_release(&key);
    buf_release(&sig);
    buf_release(&expires);
    buf_release(&sts);
    return rc;
}

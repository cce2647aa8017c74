/*
 * s3/auth.c: the glue between S3 requests and auth/sigv4: builds the
 * struct sigv4_req from the raw request, looks up the root credentials,
 * checks that the credential scope names this server's region, and verifies
 * the payload hash (x-amz-content-sha256) of small bodies (XML documents)
 * while they stream. Uploads (PutObject, UploadPart, POST) go through
 * s3/body.c instead, which also decodes aws-chunked bodies and checksums.
 *
 * Also the s3 state itself (s3_new/s3_free) and the memory budget that
 * admits streaming requests (DESIGN.md: 503 SlowDown past the budget).
 */
#include "util/base.h"

#include "s3/s3.h"

#include <openssl/evp.h>
#include <time.h>

#include "auth/sigv2.h"
#include "obs/log.h"
#include "s3/internal.h"
#include "util/enc.h"
#include "util/err.h"

struct s3 *
s3_new(const struct s3_config *cfg)
{
    struct s3 *s = xcalloc(1, sizeof(*s));

    s->ol = cfg->ol;
    snprintf(s->region, sizeof(s->region), "%s", cfg->region ? cfg->region : S3_DEFAULT_REGION);
    s->root_user = xstrdup(cfg->root_user);
    buf_init(&s->root_secret, 0);
    buf_adds(&s->root_secret, cfg->root_password);
    s->max_memory = cfg->max_memory;
    s->peers = cfg->peers;
    s->rpc_stats = cfg->rpc_stats;
    s->nodes_majority = cfg->nodes_majority;
    s->peer_metrics = cfg->peer_metrics;
    s->peers_arg = cfg->peers_arg;
    s->service = cfg->service;
    s->service_arg = cfg->service_arg;
    s->node = xstrdup(cfg->node ? cfg->node : "local");
    atomic_init(&s->mem_used, 0);
    s3__router_init(s, cfg->domains, cfg->ndomains, cfg->path_prefix);
    s->metrics_public = cfg->metrics_public;
    s3__metrics_init(s, cfg->metrics);
    s->iam = cfg->iam;
    s->audit = cfg->audit;
    s->audit_health = cfg->audit_health;
    s->default_ownership = S3_OWN_ENFORCED;
    if (cfg->object_ownership)
        s3_ownership_parse(cfg->object_ownership, &s->default_ownership);
    s3__authz_init(s);
    return s;
}

void
s3_free(struct s3 *s)
{
    if (!s)
        return;
    s3__router_release(s);
    s3__metrics_release(s);
    s3__authz_release(s);
    free(s->root_user);
    free(s->node);
    buf_release_secure(&s->root_secret);
    free(s);
}

bool
s3__mem_reserve(struct s3 *s, uint64_t n)
{
    uint64_t used = atomic_fetch_add_explicit(&s->mem_used, n, memory_order_relaxed);

    if (used + n <= s->max_memory || used == 0) /* one request always fits */
        return true;
    atomic_fetch_sub_explicit(&s->mem_used, n, memory_order_relaxed);
    return false;
}

void
s3__mem_release(struct s3 *s, uint64_t n)
{
    atomic_fetch_sub_explicit(&s->mem_used, n, memory_order_relaxed);
}

int
s3__lookup_secret(void *arg, struct slice access_key, struct buf *secret)
{
    struct s3_call *call = arg;
    struct s3 *s = call->s3;

    if (s->iam)
        return iam_authenticate(s->iam, access_key, call->session_token, secret, call->id);
    if (!slice_eq_cstr(access_key, s->root_user))
        return -ERR_INVALID_ACCESS_KEY;
    buf_addslice(secret, buf_slice(&s->root_secret));
    call->id->type = IAM_ROOT;
    snprintf(call->id->access_key, sizeof(call->id->access_key), "%s", s->root_user);
    snprintf(call->id->user, sizeof(call->id->user), "%s", s->root_user);
    snprintf(call->id->canonical_id, sizeof(call->id->canonical_id), "%s", IAM_ROOT_CANONICAL_ID);
    return 0;
}

static bool
is_presigned(const struct http_req *req)
{
    return http_req_has_param(req, "X-Amz-Signature") ||
           http_req_has_param(req, "X-Amz-Credential");
}

static void
fill_sigv4_req(struct s3_call *call, struct sigv4_req *r)
{
    struct http_req *req = call->req;
    struct sigv4_header *h = arena_alloc(req->arena, (req->nheaders + 1) * sizeof(*h));
    size_t i;

    for (i = 0; i < req->nheaders; i++) {
        h[i].name = req->headers[i].name;
        h[i].value = req->headers[i].value;
    }
    r->method = req->method;
    r->path = req->path;
    r->query = req->query;
    r->headers = h;
    r->nheaders = req->nheaders;
    r->now = time(NULL);
}

/* The SignedHeaders list of the request: from the Authorization header or X-Amz-SignedHeaders. */
static struct slice
signed_headers(const struct http_req *req)
{
    struct slice v, rest, one;

    if (http_req_param(req, "X-Amz-SignedHeaders", &v))
        return v;
    if (!http_req_header(req, "authorization", &v))
        return SLICE_NULL;
    rest = v;
    while (rest.ptr) {
        rest = slice_split(rest, ',', &one);
        one = slice_trim(one);
        if (slice_starts_with(one, SLICE_LIT("SignedHeaders=")))
            return slice_make(one.ptr + 14, one.len - 14);
    }
    return SLICE_NULL;
}

static bool
list_has(struct slice list, struct slice name)
{
    struct slice rest = list, one;

    while (rest.ptr) {
        rest = slice_split(rest, ';', &one);
        if (slice_case_eq(slice_trim(one), name))
            return true;
    }
    return false;
}

/*
 * Every x-amz-* header must be signed, as S3 requires: otherwise the holder
 * of a presigned URL could add x-amz-copy-source, x-amz-tagging, metadata...
 * that its signer never allowed. x-amz-content-sha256 is tolerated unsigned,
 * as S3 does. The first unsigned header's name goes into `msg`.
 */
static int
check_unsigned_amz(const struct http_req *req, struct buf *msg)
{
    struct slice list = signed_headers(req);
    size_t i;

    for (i = 0; i < req->nheaders; i++) {
        struct slice n = req->headers[i].name;

        if (n.len < 6 || !slice_case_eq(slice_make(n.ptr, 6), SLICE_LIT("x-amz-")) ||
            slice_case_eq(n, SLICE_LIT("x-amz-content-sha256")) || list_has(list, n))
            continue;
        buf_addf(msg, "There were headers present in the request which were not signed: %.*s",
                 (int)n.len, n.ptr);
        return -ERR_ACCESS_DENIED;
    }
    return 0;
}

/*
 * Whether `bucket` is the first segment of the path prefix: "/storage/b/k"
 * is then both the object b/k (prefix stripped) and the resource of the
 * object "b/k" of the bucket "storage", which SigV2 cannot tell apart.
 */
static bool
prefix_names_bucket(const struct s3_addressing *ad, const char *bucket)
{
    size_t n = strlen(bucket);

    return ad->prefix_len > n && !strncmp(ad->path_prefix + 1, bucket, n) &&
           (ad->path_prefix[n + 1] == '/' || ad->path_prefix[n + 1] == '\0');
}

/*
 * SigV2 (auth/sigv2.h): the resource is the path-style path without the
 * prefix ("/bucket/key") or, for a path-style request, the path as received
 * (prefix included). Never the raw path of a virtual-host request: "/k" on
 * host b.domain is the object b/k, while a signature over "/k" is one for the
 * bucket k.
 */
static int
authenticate_v2(struct s3_call *call, const struct sigv4_req *r, struct buf *msg)
{
    struct slice res[4], host = SLICE_NULL, ps;
    size_t n = 0, m, i;
    bool vhost;
    char *p;

    http_req_header(call->req, "host", &host);
    if (call->bucket && prefix_names_bucket(&call->s3->addr, call->bucket)) {
        buf_adds(msg, "Signature Version 2 cannot tell this bucket from the path prefix; sign "
                      "with AWS4-HMAC-SHA256");
        return -ERR_ACCESS_DENIED;
    }
    ps = s3_path_style_path(&call->s3->addr, call->req->arena, host, r->path, &vhost);
    res[n++] = ps;
    if (!vhost && !slice_eq(ps, r->path))
        res[n++] = r->path;
    /* a bucket's own resource is "/bucket/" (S3, botocore), whether or not the path ends in '/' */
    for (i = 0, m = n; i < m; i++) {
        struct slice s = res[i];

        if (s.len < 2 || s.ptr[s.len - 1] == '/' || memchr(s.ptr + 1, '/', s.len - 1))
            continue;
        p = arena_alloc(call->req->arena, s.len + 2);
        memcpy(p, s.ptr, s.len);
        p[s.len] = '/';
        p[s.len + 1] = '\0';
        res[n++] = slice_make(p, s.len + 1);
    }
    return sigv2_verify(r, res, n, s3__lookup_secret, call, &call->auth, msg);
}

/* Adds one header from a SigV2 presigned URL's query (sigv2_query_headers()). */
static void
add_query_header(void *arg, struct slice name, struct slice value)
{
    struct http_req *req = arg;
    struct http_header *h = arena_alloc(req->arena, (req->nheaders + 1) * sizeof(*h));

    memcpy(h, req->headers, req->nheaders * sizeof(*h));
    h[req->nheaders].name = slice_make(arena_slicedup(req->arena, name), name.len);
    h[req->nheaders].value = slice_make(arena_slicedup(req->arena, value), value.len);
    req->headers = h;
    req->nheaders++;
}

/*
 * A SigV2 presigned URL may carry Content-Type, Content-MD5 and x-amz-*
 * headers as query parameters (botocore puts a presigned PUT's metadata
 * there); once verified they count as the request's headers. Returns whether
 * any was added: the request is then routed again (x-amz-copy-source makes a
 * PUT a copy).
 */
static bool
query_headers_v2(struct http_req *req, const struct sigv4_req *r)
{
    size_t n0 = req->nheaders;

    sigv2_query_headers(r, add_query_header, req);
    return req->nheaders > n0;
}

int
s3__authenticate(struct s3_call *call)
{
    struct sigv4_req r = { 0 };
    struct buf msg = BUF_INIT;
    const char *code = NULL;
    int rc;

    fill_sigv4_req(call, &r);
    if (!http_req_header(call->req, "x-amz-security-token", &call->session_token))
        http_req_param(call->req, "X-Amz-Security-Token", &call->session_token);
    /* no signature at all: an anonymous request, which only a bucket policy may allow */
    if (call->s3->iam && !sigv2_is_signed(&r) && !sigv4_is_signed(&r))
        return 0;
    if (sigv2_is_signed(&r)) {
        rc = authenticate_v2(call, &r, &msg);
        if (rc == 0 && call->auth.presigned && query_headers_v2(call->req, &r))
            call->rerouted = true;
        if (rc == -ERR_AUTH_MALFORMED && http_req_has_param(call->req, "AWSAccessKeyId"))
            code = "AuthorizationQueryParametersError"; /* as for a SigV4 presigned URL */
        if (rc < 0)
            s3__send_error_code(call, rc, code, msg.len && rc != -ERR_EXPIRED ? msg.ptr : NULL);
        buf_release(&msg);
        return rc;
    }
    rc = sigv4_verify(&r, s3__lookup_secret, call, &call->auth, &msg);
    if (rc == 0 && strcmp(call->auth.region, call->s3->region) != 0) {
        buf_clear(&msg);
        buf_addf(&msg,
                 "The authorization header is malformed; the region '%s' is wrong; "
                 "expecting '%s'",
                 call->auth.region, call->s3->region);
        rc = -ERR_AUTH_MALFORMED;
    }
    if (rc == 0 && call->auth.service[0] && strcmp(call->auth.service, "s3") != 0 &&
        call->op != S3_OP_AWS_QUERY) {
        buf_clear(&msg);
        buf_addf(&msg,
                 "The authorization header is malformed; the service '%s' is wrong; expecting "
                 "'s3'",
                 call->auth.service);
        rc = -ERR_AUTH_MALFORMED;
    }
    if (rc == 0)
        rc = check_unsigned_amz(call->req, &msg);
    if (rc < 0) {
        if (rc == -ERR_AUTH_MALFORMED && is_presigned(call->req))
            code = "AuthorizationQueryParametersError";
        /* S3's own wording for an expired URL; otherwise say what sigv4 found. */
        s3__send_error_code(call, rc, code, msg.len && rc != -ERR_EXPIRED ? msg.ptr : NULL);
    }
    buf_release(&msg);
    return rc;
}

static void
payload_free(void *arg)
{
    EVP_MD_CTX_free(arg);
}

static bool
is_lower_hex64(const char *s)
{
    size_t i;

    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[64] == '\0';
}

int
s3__payload_begin(struct s3_call *call)
{
    const char *h = call->auth.payload_hash;
    EVP_MD_CTX *ctx;

    if (!strncmp(h, "STREAMING-", 10))
        return -ERR_NOT_IMPLEMENTED;
    if (h[0] == '\0' || !strcmp(h, SIGV4_UNSIGNED_PAYLOAD))
        return 0;
    if (!is_lower_hex64(h))
        return -ERR_AUTH_MALFORMED;
    ctx = EVP_MD_CTX_new();
    BUG_ON(!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1);
    arena_defer(call->req->arena, payload_free, ctx);
    call->payload.md_ctx = ctx;
    memcpy(call->payload.expect, h, 65);
    return 0;
}

void
s3__payload_update(struct s3_call *call, const void *p, size_t n)
{
    if (call->payload.md_ctx)
        EVP_DigestUpdate(call->payload.md_ctx, p, n);
}

int
s3__payload_check(struct s3_call *call)
{
    unsigned char md[32];
    unsigned len = 0;
    char hex[65];

    if (!call->payload.md_ctx)
        return 0;
    EVP_DigestFinal_ex(call->payload.md_ctx, md, &len);
    hex_encode_to(hex, md, sizeof(md));
    return ct_equal(hex, call->payload.expect, 64) ? 0 : -ERR_SHA256_MISMATCH;
}

/*
 * s3/router.c: the entry of the S3 layer. s3_handle() runs on the headers of
 * each request: it finds bucket and key from the Host header and the path
 * (s3_target_split: virtual-host style, path prefix), picks the operation
 * from method, path and query (s3_route, a pure function), authenticates,
 * adds the bucket's CORS headers when the request has an Origin, and calls
 * the operation.
 *
 * Anything S3 defines but Basalt does not build yet answers 501
 * NotImplemented with the S3 error document, never a wrong success: a
 * subresource such as ?acl or ?versioning, and on writes a header that asks
 * for something Basalt would otherwise silently not do (server-side
 * encryption, object lock, a website redirect, appends). A method S3 does not know answers 405.
 */
#include "util/base.h"

#include "s3/s3.h"

#include "obs/log.h"
#include "s3/internal.h"
#include "util/enc.h"
#include "util/err.h"

/* Subresources S3 defines that are not built yet: their presence means 501. */
static const char *const unbuilt_subresources[] = {
    "accelerate",
    "analytics",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "torrent",
    "versioning",
    "versions",
    "website",
    "session",
    "metadataTable",
    "metadataConfiguration",
    "renameObject",
};

/* Request headers of a write that ask for something not built: any value means 501. */
static const char *const unbuilt_headers[] = {
    "x-amz-object-lock-mode",       "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold", "x-amz-website-redirect-location",
    "x-amz-write-offset-bytes",
};

/*
 * Server-side encryption on CreateBucket: not built either. On object
 * requests the headers are checked as S3 checks them first (sse.c): a valid
 * request answers 501, an invalid one S3's 400.
 */
static const char *const bucket_sse_headers[] = {
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-server-side-encryption-aws-kms-key-id",
};

/* Every canned ACL S3 knows (x-amz-acl); any other value is refused, 400. */
static const char *const canned_acls[] = {
    "private",       "public-read",       "public-read-write",         "authenticated-read",
    "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write",
};

static const char *const op_names[] = {
    [S3_OP_NONE] = "None",
    [S3_OP_HEALTH] = "Health",
    [S3_OP_ADMIN_HEAL] = "AdminHeal",
    [S3_OP_ADMIN_INFO] = "AdminInfo",
    [S3_OP_ADMIN_HEAL_STATUS] = "AdminHealStatus",
    [S3_OP_ADMIN_SERVICE_RESTART] = "AdminServiceRestart",
    [S3_OP_ADMIN_SERVICE_STOP] = "AdminServiceStop",
    [S3_OP_METRICS] = "Metrics",
    [S3_OP_LIST_BUCKETS] = "ListBuckets",
    [S3_OP_CREATE_BUCKET] = "CreateBucket",
    [S3_OP_HEAD_BUCKET] = "HeadBucket",
    [S3_OP_DELETE_BUCKET] = "DeleteBucket",
    [S3_OP_GET_BUCKET_LOCATION] = "GetBucketLocation",
    [S3_OP_LIST_OBJECTS] = "ListObjects",
    [S3_OP_LIST_OBJECTS_V2] = "ListObjectsV2",
    [S3_OP_PUT_OBJECT] = "PutObject",
    [S3_OP_GET_OBJECT] = "GetObject",
    [S3_OP_HEAD_OBJECT] = "HeadObject",
    [S3_OP_DELETE_OBJECT] = "DeleteObject",
    [S3_OP_DELETE_OBJECTS] = "DeleteObjects",
    [S3_OP_COPY_OBJECT] = "CopyObject",
    [S3_OP_POST_OBJECT] = "PostObject",
    [S3_OP_CREATE_MULTIPART_UPLOAD] = "CreateMultipartUpload",
    [S3_OP_UPLOAD_PART] = "UploadPart",
    [S3_OP_UPLOAD_PART_COPY] = "UploadPartCopy",
    [S3_OP_COMPLETE_MULTIPART_UPLOAD] = "CompleteMultipartUpload",
    [S3_OP_ABORT_MULTIPART_UPLOAD] = "AbortMultipartUpload",
    [S3_OP_LIST_PARTS] = "ListParts",
    [S3_OP_LIST_MULTIPART_UPLOADS] = "ListMultipartUploads",
    [S3_OP_GET_OBJECT_TAGGING] = "GetObjectTagging",
    [S3_OP_PUT_OBJECT_TAGGING] = "PutObjectTagging",
    [S3_OP_DELETE_OBJECT_TAGGING] = "DeleteObjectTagging",
    [S3_OP_GET_BUCKET_TAGGING] = "GetBucketTagging",
    [S3_OP_PUT_BUCKET_TAGGING] = "PutBucketTagging",
    [S3_OP_DELETE_BUCKET_TAGGING] = "DeleteBucketTagging",
    [S3_OP_GET_BUCKET_CORS] = "GetBucketCors",
    [S3_OP_PUT_BUCKET_CORS] = "PutBucketCors",
    [S3_OP_DELETE_BUCKET_CORS] = "DeleteBucketCors",
    [S3_OP_CORS_PREFLIGHT] = "CorsPreflight",
    [S3_OP_GET_OBJECT_ATTRIBUTES] = "GetObjectAttributes",
    [S3_OP_GET_BUCKET_POLICY] = "GetBucketPolicy",
    [S3_OP_PUT_BUCKET_POLICY] = "PutBucketPolicy",
    [S3_OP_DELETE_BUCKET_POLICY] = "DeleteBucketPolicy",
    [S3_OP_GET_BUCKET_POLICY_STATUS] = "GetBucketPolicyStatus",
    [S3_OP_GET_BUCKET_ACL] = "GetBucketAcl",
    [S3_OP_PUT_BUCKET_ACL] = "PutBucketAcl",
    [S3_OP_GET_OBJECT_ACL] = "GetObjectAcl",
    [S3_OP_PUT_OBJECT_ACL] = "PutObjectAcl",
    [S3_OP_GET_BUCKET_OWNERSHIP] = "GetBucketOwnershipControls",
    [S3_OP_PUT_BUCKET_OWNERSHIP] = "PutBucketOwnershipControls",
    [S3_OP_DELETE_BUCKET_OWNERSHIP] = "DeleteBucketOwnershipControls",
    [S3_OP_GET_PUBLIC_ACCESS_BLOCK] = "GetPublicAccessBlock",
    [S3_OP_PUT_PUBLIC_ACCESS_BLOCK] = "PutPublicAccessBlock",
    [S3_OP_DELETE_PUBLIC_ACCESS_BLOCK] = "DeletePublicAccessBlock",
    [S3_OP_ADMIN_IAM] = "AdminIam",
    [S3_OP_AWS_QUERY] = "AwsQuery",
    [S3_OP_NOT_IMPLEMENTED] = "NotImplemented",
    [S3_OP_METHOD_NOT_ALLOWED] = "MethodNotAllowed",
    [S3_OP_BAD_PATH] = "BadPath",
};

const char *
s3_op_name(enum s3_op op)
{
    if ((size_t)op >= ARRAY_SIZE(op_names) || !op_names[op])
        return "Unknown";
    return op_names[op];
}

int
s3_path_split(struct arena *a, struct slice raw_path, char **bucket, char **key, size_t *key_len)
{
    struct buf path = BUF_INIT;
    struct slice p, b, k;
    int rc;

    rc = uri_decode(&path, raw_path);
    if (rc < 0 || path.len == 0 || path.ptr[0] != '/') {
        buf_release(&path);
        return -ERR_BAD_REQUEST;
    }
    p = slice_make(path.ptr + 1, path.len - 1);
    k = slice_split(p, '/', &b);
    *bucket = b.len ? arena_slicedup(a, b) : NULL;
    *key = k.ptr && k.len ? arena_slicedup(a, k) : NULL;
    *key_len = k.ptr ? k.len : 0;
    buf_release(&path);
    return 0;
}

/*
 * Subresources not built. ?versionId=null names the only version an
 * unversioned bucket has (S3 accepts it there), so it is served; any other
 * version id needs versioning.
 */
/* ---- addressing ---- */

void
s3__router_init(struct s3 *s, const char *const *domains, size_t ndomains, const char *path_prefix)
{
    struct s3_addressing *ad = &s->addr;
    const char *p = path_prefix ? path_prefix : "";
    size_t i, j;

    ad->ndomains = ndomains;
    ad->domains = xcalloc(ndomains ? ndomains : 1, sizeof(*ad->domains));
    for (i = 0; i < ndomains; i++) {
        ad->domains[i] = xstrdup(domains[i]);
        for (j = 0; ad->domains[i][j]; j++)
            if (ad->domains[i][j] >= 'A' && ad->domains[i][j] <= 'Z')
                ad->domains[i][j] += 'a' - 'A';
    }
    ad->prefix_len = strlen(p);
    while (ad->prefix_len && p[ad->prefix_len - 1] == '/')
        ad->prefix_len--; /* "/" alone, or a trailing slash: the same prefix without it */
    ad->path_prefix = xstrndup(p, ad->prefix_len);
}

void
s3__router_release(struct s3 *s)
{
    size_t i;

    for (i = 0; i < s->addr.ndomains; i++)
        free(s->addr.domains[i]);
    free(s->addr.domains);
    free(s->addr.path_prefix);
    memset(&s->addr, 0, sizeof(s->addr));
}

/* The host of a Host header without its port; empty for an IPv6 literal ("[::1]:9000"). */
static struct slice
host_name(struct slice host)
{
    size_t i;

    host = slice_trim(host);
    if (host.len && host.ptr[0] == '[')
        return SLICE_NULL;
    for (i = host.len; i > 0; i--) {
        if (host.ptr[i - 1] == ':')
            return slice_make(host.ptr, i - 1);
        if (host.ptr[i - 1] < '0' || host.ptr[i - 1] > '9')
            break;
    }
    if (host.len && host.ptr[host.len - 1] == '.') /* a fully qualified "b.example.com." */
        host.len--;
    return host;
}

/*
 * The bucket a Host names: "<bucket>.<domain>" for the longest configured
 * domain it ends with. SLICE_NULL for the bare domain, an IP address, or a
 * host under none of the domains (path style).
 */
static struct slice
vhost_bucket(const struct s3_addressing *ad, struct slice host)
{
    struct slice best = SLICE_NULL;
    size_t i, dlen, best_len = 0;

    host = host_name(host);
    for (i = 0; i < ad->ndomains; i++) {
        dlen = strlen(ad->domains[i]);
        if (host.len < dlen + 2 || dlen <= best_len || host.ptr[host.len - dlen - 1] != '.' ||
            !slice_case_eq_cstr(slice_make(host.ptr + host.len - dlen, dlen), ad->domains[i]))
            continue;
        best = slice_make(host.ptr, host.len - dlen - 1);
        best_len = dlen;
    }
    return best;
}

/* The path after the prefix ("/storage/b/k" -> "/b/k", "/storage" -> "/"); false outside it. */
static bool
strip_prefix(const struct s3_addressing *ad, struct slice raw, struct slice *rest)
{
    size_t n = ad->prefix_len;

    if (n == 0) {
        *rest = raw;
        return true;
    }
    if (raw.len < n || memcmp(raw.ptr, ad->path_prefix, n) != 0 ||
        (raw.len > n && raw.ptr[n] != '/'))
        return false;
    *rest = raw.len == n ? SLICE_LIT("/") : slice_make(raw.ptr + n, raw.len - n);
    return true;
}

struct slice
s3_path_style_path(const struct s3_addressing *ad, struct arena *a, struct slice host,
                   struct slice raw_path, bool *vhost)
{
    struct slice rest, vb = SLICE_NULL;
    char *p;

    *vhost = false;
    if (!strip_prefix(ad, raw_path, &rest))
        return raw_path;
    if (ad->ndomains && host.ptr)
        vb = vhost_bucket(ad, host);
    if (!vb.ptr)
        return rest;
    *vhost = true;
    p = arena_alloc(a, vb.len + rest.len + 2);
    p[0] = '/';
    memcpy(p + 1, vb.ptr, vb.len);
    memcpy(p + 1 + vb.len, rest.ptr, rest.len);
    p[1 + vb.len + rest.len] = '\0';
    return slice_make(p, 1 + vb.len + rest.len);
}

int
s3_target_split(const struct s3_addressing *ad, struct arena *a, struct slice host,
                struct slice raw_path, char **bucket, char **key, size_t *key_len)
{
    struct slice rest, vb = SLICE_NULL;
    struct buf path = BUF_INIT;
    char *b;
    size_t i;
    int rc;

    if (!strip_prefix(ad, raw_path, &rest))
        return -ERR_NOT_FOUND;
    if (ad->ndomains && host.ptr)
        vb = vhost_bucket(ad, host);
    if (!vb.ptr)
        return s3_path_split(a, rest, bucket, key, key_len);
    rc = uri_decode(&path, rest);
    if (rc < 0 || path.len == 0 || path.ptr[0] != '/') {
        buf_release(&path);
        return -ERR_BAD_REQUEST;
    }
    b = arena_slicedup(a, vb);
    for (i = 0; b[i]; i++)
        if (b[i] >= 'A' && b[i] <= 'Z')
            b[i] += 'a' - 'A';
    *bucket = b;
    *key = path.len > 1 ? arena_slicedup(a, slice_make(path.ptr + 1, path.len - 1)) : NULL;
    *key_len = path.len - 1;
    buf_release(&path);
    return 0;
}

static bool
has_unbuilt_subresource(const struct http_req *req)
{
    struct slice v;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(unbuilt_subresources); i++)
        if (http_req_has_param(req, unbuilt_subresources[i]))
            return true;
    return http_req_param(req, "versionId", &v) && !slice_eq_cstr(v, "null");
}

/* Headers of a write (PUT, copy, create upload, create bucket) that ask for what is not built. */
static bool
has_unbuilt_header(const struct http_req *req)
{
    struct slice v;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(unbuilt_headers); i++)
        if (http_req_header(req, unbuilt_headers[i], &v))
            return true;
    if (http_req_header(req, "x-amz-bucket-object-lock-enabled", &v) &&
        slice_case_eq_cstr(slice_trim(v), "true"))
        return true;
    return false;
}

static bool
has_bucket_sse_header(const struct http_req *req)
{
    struct slice v;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(bucket_sse_headers); i++)
        if (http_req_header(req, bucket_sse_headers[i], &v))
            return true;
    return false;
}

static enum s3_op
route_system(const struct http_req *req, const char *key)
{
    bool get = slice_eq_cstr(req->method, "GET"), head = slice_eq_cstr(req->method, "HEAD");

    if (!strcmp(key, "health/live") || !strcmp(key, "health/ready") ||
        !strcmp(key, "health/cluster"))
        return get || head ? S3_OP_HEALTH : S3_OP_METHOD_NOT_ALLOWED;
    if (!strcmp(key, "admin/v1/heal"))
        return slice_eq_cstr(req->method, "POST") ? S3_OP_ADMIN_HEAL : S3_OP_METHOD_NOT_ALLOWED;
    if (!strcmp(key, "admin/v1/info"))
        return get ? S3_OP_ADMIN_INFO : S3_OP_METHOD_NOT_ALLOWED;
    if (!strcmp(key, "admin/v1/heal/status"))
        return get ? S3_OP_ADMIN_HEAL_STATUS : S3_OP_METHOD_NOT_ALLOWED;
    if (!strcmp(key, "admin/v1/service/restart") || !strcmp(key, "admin/v1/service/stop")) {
        if (!slice_eq_cstr(req->method, "POST"))
            return S3_OP_METHOD_NOT_ALLOWED;
        return key[17] == 'r' ? S3_OP_ADMIN_SERVICE_RESTART : S3_OP_ADMIN_SERVICE_STOP;
    }
    if (s3_admin_iam_path(key))
        return S3_OP_ADMIN_IAM;
    if (!strcmp(key, "v1/metrics/node") || !strcmp(key, "v1/metrics/cluster"))
        return get ? S3_OP_METRICS : S3_OP_METHOD_NOT_ALLOWED;
    if (!strcmp(key, "v1/metrics/revoke")) /* s3/metrics.c: scrape token revocation */
        return slice_eq_cstr(req->method, "POST") ? S3_OP_METRICS : S3_OP_METHOD_NOT_ALLOWED;
    return S3_OP_NOT_IMPLEMENTED;
}

/* GET/PUT/DELETE of a configuration subresource: one of three operations, or 405. */
static enum s3_op
route_config(const char *m, enum s3_op get, enum s3_op put, enum s3_op del)
{
    if (!strcmp(m, "GET"))
        return get;
    if (!strcmp(m, "PUT"))
        return put;
    if (!strcmp(m, "DELETE"))
        return del;
    return S3_OP_METHOD_NOT_ALLOWED;
}

static enum s3_op
route_bucket(const struct http_req *req, const char *m)
{
    struct slice v;

    if (has_unbuilt_subresource(req))
        return S3_OP_NOT_IMPLEMENTED;
    if (http_req_has_param(req, "tagging"))
        return route_config(m, S3_OP_GET_BUCKET_TAGGING, S3_OP_PUT_BUCKET_TAGGING,
                            S3_OP_DELETE_BUCKET_TAGGING);
    if (http_req_has_param(req, "cors"))
        return route_config(m, S3_OP_GET_BUCKET_CORS, S3_OP_PUT_BUCKET_CORS,
                            S3_OP_DELETE_BUCKET_CORS);
    if (http_req_has_param(req, "policy"))
        return route_config(m, S3_OP_GET_BUCKET_POLICY, S3_OP_PUT_BUCKET_POLICY,
                            S3_OP_DELETE_BUCKET_POLICY);
    if (http_req_has_param(req, "policyStatus"))
        return !strcmp(m, "GET") ? S3_OP_GET_BUCKET_POLICY_STATUS : S3_OP_METHOD_NOT_ALLOWED;
    if (http_req_has_param(req, "acl"))
        return !strcmp(m, "GET")   ? S3_OP_GET_BUCKET_ACL
               : !strcmp(m, "PUT") ? S3_OP_PUT_BUCKET_ACL
                                   : S3_OP_METHOD_NOT_ALLOWED;
    if (http_req_has_param(req, "ownershipControls"))
        return route_config(m, S3_OP_GET_BUCKET_OWNERSHIP, S3_OP_PUT_BUCKET_OWNERSHIP,
                            S3_OP_DELETE_BUCKET_OWNERSHIP);
    if (http_req_has_param(req, "publicAccessBlock"))
        return route_config(m, S3_OP_GET_PUBLIC_ACCESS_BLOCK, S3_OP_PUT_PUBLIC_ACCESS_BLOCK,
                            S3_OP_DELETE_PUBLIC_ACCESS_BLOCK);
    if (!strcmp(m, "GET")) {
        if (http_req_has_param(req, "location"))
            return S3_OP_GET_BUCKET_LOCATION;
        if (http_req_has_param(req, "uploads"))
            return S3_OP_LIST_MULTIPART_UPLOADS;
        if (http_req_param(req, "list-type", &v) && slice_eq_cstr(v, "2"))
            return S3_OP_LIST_OBJECTS_V2;
        return S3_OP_LIST_OBJECTS;
    }
    if (!strcmp(m, "POST")) {
        if (http_req_has_param(req, "delete"))
            return S3_OP_DELETE_OBJECTS;
        if (req->nparams == 0)
            return S3_OP_POST_OBJECT;
        return S3_OP_NOT_IMPLEMENTED;
    }
    if (!strcmp(m, "PUT"))
        return has_unbuilt_header(req) || has_bucket_sse_header(req) ? S3_OP_NOT_IMPLEMENTED
                                                                     : S3_OP_CREATE_BUCKET;
    if (!strcmp(m, "HEAD"))
        return S3_OP_HEAD_BUCKET;
    if (!strcmp(m, "DELETE"))
        return S3_OP_DELETE_BUCKET;
    if (!strcmp(m, "OPTIONS"))
        return S3_OP_CORS_PREFLIGHT;
    return S3_OP_METHOD_NOT_ALLOWED;
}

static enum s3_op
route_object(const struct http_req *req, const char *m)
{
    struct slice v;
    bool copy = http_req_header(req, "x-amz-copy-source", &v);

    if (has_unbuilt_subresource(req) || http_req_has_param(req, "policy") ||
        http_req_has_param(req, "policyStatus") || http_req_has_param(req, "ownershipControls") ||
        http_req_has_param(req, "publicAccessBlock"))
        return S3_OP_NOT_IMPLEMENTED;
    if (http_req_has_param(req, "acl"))
        return !strcmp(m, "GET")   ? S3_OP_GET_OBJECT_ACL
               : !strcmp(m, "PUT") ? S3_OP_PUT_OBJECT_ACL
                                   : S3_OP_METHOD_NOT_ALLOWED;
    if (http_req_has_param(req, "tagging"))
        return route_config(m, S3_OP_GET_OBJECT_TAGGING, S3_OP_PUT_OBJECT_TAGGING,
                            S3_OP_DELETE_OBJECT_TAGGING);
    if ((!strcmp(m, "PUT") || !strcmp(m, "POST")) && has_unbuilt_header(req))
        return S3_OP_NOT_IMPLEMENTED;
    if (http_req_has_param(req, "uploadId")) {
        if (!strcmp(m, "PUT"))
            return copy ? S3_OP_UPLOAD_PART_COPY : S3_OP_UPLOAD_PART;
        if (!strcmp(m, "POST"))
            return S3_OP_COMPLETE_MULTIPART_UPLOAD;
        if (!strcmp(m, "DELETE"))
            return S3_OP_ABORT_MULTIPART_UPLOAD;
        if (!strcmp(m, "GET"))
            return S3_OP_LIST_PARTS;
        return S3_OP_METHOD_NOT_ALLOWED;
    }
    if (!strcmp(m, "POST"))
        return http_req_has_param(req, "uploads") ? S3_OP_CREATE_MULTIPART_UPLOAD
                                                  : S3_OP_NOT_IMPLEMENTED;
    if (http_req_has_param(req, "uploads"))
        return S3_OP_METHOD_NOT_ALLOWED;
    if (!strcmp(m, "PUT"))
        return copy ? S3_OP_COPY_OBJECT : S3_OP_PUT_OBJECT;
    if (!strcmp(m, "GET"))
        return http_req_has_param(req, "attributes") ? S3_OP_GET_OBJECT_ATTRIBUTES
                                                     : S3_OP_GET_OBJECT;
    if (!strcmp(m, "HEAD"))
        return S3_OP_HEAD_OBJECT;
    if (!strcmp(m, "DELETE"))
        return S3_OP_DELETE_OBJECT;
    if (!strcmp(m, "OPTIONS"))
        return S3_OP_CORS_PREFLIGHT;
    return S3_OP_METHOD_NOT_ALLOWED;
}

static bool
is_s3_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") || !strcmp(m, "POST") ||
           !strcmp(m, "DELETE") || !strcmp(m, "OPTIONS");
}

enum s3_op
s3_route(const struct http_req *req, const char *bucket, const char *key)
{
    char m[16];

    if (req->method.len >= sizeof(m))
        return S3_OP_METHOD_NOT_ALLOWED;
    memcpy(m, req->method.ptr, req->method.len);
    m[req->method.len] = '\0';
    if (bucket && key && !strcmp(bucket, S3_RESERVED_BUCKET))
        return route_system(req, key);
    if (bucket && key && s3__is_minio_metrics(bucket, key)) /* MinIO's scrape paths */
        return !strcmp(m, "GET") ? S3_OP_METRICS : S3_OP_METHOD_NOT_ALLOWED;
    if (!is_s3_method(m))
        return S3_OP_METHOD_NOT_ALLOWED;
    if (!bucket) {
        if (!strcmp(m, "OPTIONS"))
            return S3_OP_METHOD_NOT_ALLOWED;
        if (!strcmp(m, "GET"))
            return has_unbuilt_subresource(req) || http_req_has_param(req, "acl")
                       ? S3_OP_NOT_IMPLEMENTED
                       : S3_OP_LIST_BUCKETS;
        if (!strcmp(m, "POST"))
            return S3_OP_AWS_QUERY;
        return S3_OP_METHOD_NOT_ALLOWED;
    }
    if (!key)
        return route_bucket(req, m);
    return route_object(req, m);
}

/* ---- dispatch ---- */

typedef void s3_op_fn(struct s3_call *call);

static s3_op_fn *const op_fns[] = {
    [S3_OP_ADMIN_HEAL] = s3__admin_heal,
    [S3_OP_ADMIN_INFO] = s3__admin_info,
    [S3_OP_ADMIN_HEAL_STATUS] = s3__admin_heal_status,
    [S3_OP_ADMIN_SERVICE_RESTART] = s3__admin_service_restart,
    [S3_OP_ADMIN_SERVICE_STOP] = s3__admin_service_stop,
    [S3_OP_METRICS] = s3__metrics_node,
    [S3_OP_LIST_BUCKETS] = s3__list_buckets,
    [S3_OP_CREATE_BUCKET] = s3__create_bucket,
    [S3_OP_HEAD_BUCKET] = s3__head_bucket,
    [S3_OP_DELETE_BUCKET] = s3__delete_bucket,
    [S3_OP_GET_BUCKET_LOCATION] = s3__get_bucket_location,
    [S3_OP_LIST_OBJECTS] = s3__list_objects,
    [S3_OP_LIST_OBJECTS_V2] = s3__list_objects,
    [S3_OP_PUT_OBJECT] = s3__put_object,
    [S3_OP_GET_OBJECT] = s3__get_object,
    [S3_OP_HEAD_OBJECT] = s3__get_object,
    [S3_OP_DELETE_OBJECT] = s3__delete_object,
    [S3_OP_DELETE_OBJECTS] = s3__delete_objects,
    [S3_OP_COPY_OBJECT] = s3__copy_object,
    [S3_OP_POST_OBJECT] = s3__post_object,
    [S3_OP_CREATE_MULTIPART_UPLOAD] = s3__create_multipart,
    [S3_OP_UPLOAD_PART] = s3__upload_part,
    [S3_OP_UPLOAD_PART_COPY] = s3__upload_part,
    [S3_OP_COMPLETE_MULTIPART_UPLOAD] = s3__complete_multipart,
    [S3_OP_ABORT_MULTIPART_UPLOAD] = s3__abort_multipart,
    [S3_OP_LIST_PARTS] = s3__list_parts,
    [S3_OP_LIST_MULTIPART_UPLOADS] = s3__list_uploads,
    [S3_OP_GET_OBJECT_TAGGING] = s3__object_tagging,
    [S3_OP_PUT_OBJECT_TAGGING] = s3__object_tagging,
    [S3_OP_DELETE_OBJECT_TAGGING] = s3__object_tagging,
    [S3_OP_GET_BUCKET_TAGGING] = s3__bucket_tagging,
    [S3_OP_PUT_BUCKET_TAGGING] = s3__bucket_tagging,
    [S3_OP_DELETE_BUCKET_TAGGING] = s3__bucket_tagging,
    [S3_OP_GET_BUCKET_CORS] = s3__bucket_cors,
    [S3_OP_PUT_BUCKET_CORS] = s3__bucket_cors,
    [S3_OP_DELETE_BUCKET_CORS] = s3__bucket_cors,
    [S3_OP_CORS_PREFLIGHT] = s3__cors_preflight,
    [S3_OP_GET_OBJECT_ATTRIBUTES] = s3__get_object_attributes,
    [S3_OP_GET_BUCKET_POLICY] = s3__bucket_policy,
    [S3_OP_PUT_BUCKET_POLICY] = s3__bucket_policy,
    [S3_OP_DELETE_BUCKET_POLICY] = s3__bucket_policy,
    [S3_OP_GET_BUCKET_POLICY_STATUS] = s3__bucket_policy,
    [S3_OP_GET_BUCKET_ACL] = s3__acl,
    [S3_OP_PUT_BUCKET_ACL] = s3__acl,
    [S3_OP_GET_OBJECT_ACL] = s3__acl,
    [S3_OP_PUT_OBJECT_ACL] = s3__acl,
    [S3_OP_GET_BUCKET_OWNERSHIP] = s3__ownership_controls,
    [S3_OP_PUT_BUCKET_OWNERSHIP] = s3__ownership_controls,
    [S3_OP_DELETE_BUCKET_OWNERSHIP] = s3__ownership_controls,
    [S3_OP_GET_PUBLIC_ACCESS_BLOCK] = s3__public_access_block,
    [S3_OP_PUT_PUBLIC_ACCESS_BLOCK] = s3__public_access_block,
    [S3_OP_DELETE_PUBLIC_ACCESS_BLOCK] = s3__public_access_block,
    [S3_OP_ADMIN_IAM] = s3__admin_iam,
    [S3_OP_AWS_QUERY] = s3__aws_query,
};

/*
 * Health, unauthenticated, for load balancers and orchestrators (also under
 * MinIO's paths, /minio/health/..., for compose files and probes written for
 * MinIO):
 *   live     the process answers (200);
 *   ready    every erasure set has read quorum online: it can serve reads (else 503);
 *   cluster  every set has write quorum online, and (a cluster) a majority of
 *            the nodes answers, for the locks: it can take writes (else 503);
 *            with ?maintenance=true, 412 when taking this node down would
 *            leave a set without write quorum or the nodes without a majority
 *            (a rolling restart must wait).
 */
static void
send_health(struct s3_call *call, const char *key)
{
    struct buf body = BUF_INIT;
    const char *why = "not enough drives online\n";
    unsigned status = 200;
    struct slice v;

    bool (*majority)(void *, bool) = call->s3->nodes_majority;
    void *arg = call->s3->peers_arg;

    if (!strcmp(key, "health/ready") && !objlayer_has_quorum(call->s3->ol, false, false))
        status = 503;
    if (!strcmp(key, "health/cluster") && !objlayer_has_quorum(call->s3->ol, true, false))
        status = 503;
    if (status == 200 && !strcmp(key, "health/cluster") && majority && !majority(arg, false)) {
        status = 503; /* writes take quorum locks: a majority of the nodes */
        why = "too few nodes answer: writes need a majority of the nodes\n";
    }
    if (status == 200 && !strcmp(key, "health/cluster") &&
        http_req_param(call->req, "maintenance", &v) && slice_eq_cstr(v, "true")) {
        if (!objlayer_has_quorum(call->s3->ol, true, true)) {
            status = 412;
            why = "taking this node down would leave an erasure set without write quorum\n";
        } else if (majority && !majority(arg, true)) {
            status = 412;
            why = "taking this node down would leave less than a majority of the nodes\n";
        }
    }
    if (!call->req->is_head)
        buf_adds(&body, status == 200 ? "OK\n" : why);
    http_resp_header(call->req, "Content-Type", "text/plain");
    http_resp_buf(call->req, status, &body);
    buf_release(&body);
}

static void
clear_auth(void *arg)
{
    sigv4_auth_clear(arg);
}

/*
 * Server-side encryption headers (sse.c) of the object operations that take
 * them: 0 to go on, or an error already answered. Nothing is encrypted yet:
 * a valid request to encrypt answers 501; valid SSE-C headers on a read
 * leave call->sse_customer for the operation (no object is SSE-C: 400 once
 * it is found), on a copy's source they are 400 at once.
 */
static int
sse_guard(struct s3_call *call)
{
    const struct http_header *h = call->req->headers;
    size_t n = call->req->nheaders;
    const char *code, *msg;
    bool read, copy;
    int rc;

    switch (call->op) {
    case S3_OP_GET_OBJECT:
    case S3_OP_HEAD_OBJECT:
        read = true;
        copy = false;
        break;
    case S3_OP_PUT_OBJECT:
    case S3_OP_CREATE_MULTIPART_UPLOAD:
    case S3_OP_UPLOAD_PART:
    case S3_OP_COMPLETE_MULTIPART_UPLOAD:
        read = copy = false;
        break;
    case S3_OP_COPY_OBJECT:
    case S3_OP_UPLOAD_PART_COPY:
        read = false;
        copy = true;
        break;
    default:
        return 0;
    }
    rc = s3_sse_check(h, n, read, &code, &msg);
    if (rc >= 0 && copy) {
        int src = s3_sse_check_copy_source(h, n, &code, &msg);

        if (src == S3_SSE_CUSTOMER && rc == 0) { /* the source is not encrypted */
            src = -ERR_INVALID_REQUEST;
            code = NULL;
            msg = "The encryption parameters are not applicable to this object.";
        }
        if (src < 0)
            rc = src;
    }
    if (rc < 0) {
        s3__send_error_code(call, rc, code, msg);
        return rc;
    }
    if (rc > 0 && read) {
        call->sse_customer = true;
        return 0;
    }
    if (rc > 0) {
        s3__send_error(call, -ERR_NOT_IMPLEMENTED, "Server-side encryption is not supported.");
        return -ERR_NOT_IMPLEMENTED;
    }
    return 0;
}

/*
 * x-amz-acl on a write (PutObject, CopyObject, CreateMultipartUpload,
 * CreateBucket, Put{Bucket,Object}Acl) must name a canned ACL: S3 answers
 * 400 InvalidArgument otherwise, before anything else. 0, or an error
 * already answered.
 */
static int
canned_acl_check(struct s3_call *call)
{
    struct http_req *req = call->req;
    struct slice v;
    size_t i;

    if (!slice_eq_cstr(req->method, "PUT") && !slice_eq_cstr(req->method, "POST"))
        return 0;
    if (call->op == S3_OP_METHOD_NOT_ALLOWED || call->op == S3_OP_BAD_PATH ||
        !http_req_header(req, "x-amz-acl", &v))
        return 0;
    for (i = 0; i < ARRAY_SIZE(canned_acls); i++)
        if (slice_eq_cstr(slice_trim(v), canned_acls[i]))
            return 0;
    s3__send_error(call, -ERR_INVALID_ARGUMENT, "The canned ACL specified is not valid.");
    return -ERR_INVALID_ARGUMENT;
}

/*
 * x-amz-object-ownership on CreateBucket must name one of S3's three
 * settings (400 InvalidArgument otherwise). 0, or an error already answered.
 */
static int
ownership_check(struct s3_call *call)
{
    static const char *const settings[] = { "BucketOwnerEnforced", "BucketOwnerPreferred",
                                            "ObjectWriter" };
    struct http_req *req = call->req;
    struct slice v;
    size_t i;

    if (!slice_eq_cstr(req->method, "PUT") || !call->bucket || call->key ||
        !http_req_header(req, "x-amz-object-ownership", &v))
        return 0;
    for (i = 0; i < ARRAY_SIZE(settings); i++)
        if (slice_eq_cstr(slice_trim(v), settings[i]))
            return 0;
    s3__send_error(call, -ERR_INVALID_ARGUMENT, "Invalid x-amz-object-ownership header.");
    return -ERR_INVALID_ARGUMENT;
}

static void
dispatch(struct s3_call *call)
{
    if (canned_acl_check(call) < 0 || ownership_check(call) < 0 || sse_guard(call) < 0)
        return;
    switch (call->op) {
    case S3_OP_BAD_PATH:
        s3__send_error(call, -ERR_BAD_REQUEST, "The request path is not valid.");
        return;
    case S3_OP_METHOD_NOT_ALLOWED:
        s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
        return;
    case S3_OP_NOT_IMPLEMENTED:
        s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
        return;
    default:
        break;
    }
    if ((size_t)call->op >= ARRAY_SIZE(op_fns) || !op_fns[call->op]) {
        s3__send_error(call, -ERR_INTERNAL, NULL);
        return;
    }
    op_fns[call->op](call);
}

/*
 * Bucket and key of the request. Outside the path prefix only the health
 * endpoints answer (probes of orchestrators and load balancers that talk to
 * the node directly); everything else gets a 404 naming the prefix.
 */
static int
split_target(struct s3_call *call)
{
    struct http_req *req = call->req;
    const struct s3_addressing *ad = &call->s3->addr;
    struct slice host = SLICE_NULL;
    int rc;

    http_req_header(req, "host", &host);
    rc =
        s3_target_split(ad, req->arena, host, req->path, &call->bucket, &call->key, &call->key_len);
    if (rc == -ERR_NOT_FOUND &&
        slice_starts_with(req->path, SLICE_LIT("/" S3_RESERVED_BUCKET "/health/")) &&
        s3_path_split(req->arena, req->path, &call->bucket, &call->key, &call->key_len) == 0)
        return 0;
    /* MinIO's health paths, for probes written for MinIO: at the root only */
    if (slice_starts_with(req->path, SLICE_LIT("/minio/health/")) &&
        s3_path_split(req->arena, req->path, &call->bucket, &call->key, &call->key_len) == 0) {
        call->bucket = arena_strdup(req->arena, S3_RESERVED_BUCKET);
        return 0;
    }
    if (rc == -ERR_NOT_FOUND)
        s3__send_error_code(call, rc, "NotFound",
                            arena_printf(req->arena,
                                         "This server serves the S3 API under the path prefix "
                                         "%s/.",
                                         ad->path_prefix));
    else if (rc < 0)
        s3__send_error(call, -ERR_BAD_REQUEST, "The request path is not valid.");
    /* a path whose escapes decode to bytes that are not UTF-8: S3's InvalidURI, before anything */
    if (rc == 0 && ((call->bucket && !s3_is_valid_utf8(slice_cstr(call->bucket))) ||
                    (call->key && !s3_is_valid_utf8(slice_make(call->key, call->key_len))))) {
        call->bucket = call->key = NULL; /* not echoed in the error: the XML would not be UTF-8 */
        call->key_len = 0;
        s3__send_error(call, -ERR_INVALID_URI, NULL);
        rc = -ERR_INVALID_URI;
    }
    return rc;
}

void
s3_handle(void *arg, struct http_req *req)
{
    struct s3_call *call = arena_zalloc(req->arena, sizeof(*call));
    const char *sys_key, *route_bucket, *route_key;

    call->s3 = arg;
    call->req = req;
    call->id = arena_zalloc(req->arena, sizeof(*call->id)); /* IAM_ANONYMOUS until signed */
    req->ctx = call;
    s3__metrics_begin(call);
    /* no deadline for the request as a whole (uploads stream for minutes): each step has its own */
    snprintf(call->ctx.id, sizeof(call->ctx.id), "%s", req->id);
    arena_defer(req->arena, clear_auth, &call->auth);
    if (split_target(call) < 0)
        return;
    call->op = s3_route(req, call->bucket, call->key);
    route_bucket = call->bucket;
    route_key = call->key;
    sys_key = call->key ? call->key : "";
    call->sys_key = sys_key;
    if (call->key && (!strcmp(call->bucket, S3_RESERVED_BUCKET) || call->op == S3_OP_METRICS))
        call->bucket = call->key = NULL; /* Basalt's own API: not a bucket and key */
    log_debug(&(struct log_ctx){ .request_id = req->id, .bucket = call->bucket, .key = call->key },
              "%.*s %s", (int)req->method.len, req->method.ptr, s3_op_name(call->op));
    if (call->op == S3_OP_HEALTH) {
        send_health(call, sys_key);
        return;
    }
    if (req->header_bytes > S3_MAX_HEADER_BYTES) {
        s3__send_error(call, -ERR_HEADERS_TOO_LARGE, NULL);
        return;
    }
    if (!req->query_ok) {
        s3__send_error(call, -ERR_INVALID_ARGUMENT, "A query parameter has a malformed escape.");
        return;
    }
    /* a scrape: public, or a bearer token (auth/jwt.h), else signed as any request */
    if (call->op == S3_OP_METRICS && s3__metrics_preauth(call))
        return;
    /*
     * A CORS preflight is anonymous by definition, a browser POST upload
     * carries its signature in the form (post.c checks it), and the IAM and
     * STS query APIs sign their body's hash without sending it (iam_api.c
     * authenticates once the body is read): they skip the header and query
     * authentication here.
     */
    if (call->op != S3_OP_CORS_PREFLIGHT && call->op != S3_OP_POST_OBJECT &&
        call->op != S3_OP_AWS_QUERY && s3__authenticate(call) < 0)
        return;
    if (call->auth.access_key[0])
        call->ctx.access_key = call->auth.access_key;
    if (call->rerouted) /* headers from a SigV2 presigned URL's query (s3/auth.c) */
        call->op = s3_route(req, route_bucket, route_key);
    if (s3__authorize(call) < 0)
        return;
    /* A browser's request (Origin) gets the CORS headers of the matching rule, if any. */
    if (call->bucket && call->op != S3_OP_CORS_PREFLIGHT)
        s3__cors_add_headers(call);
    dispatch(call);
}

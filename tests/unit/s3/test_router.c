/* tests/unit/s3/test_router.c: method + path + query -> operation. */
#include "util/base.h"

#include "harness.h"
#include "s3/internal.h"

static enum s3_op
route(const char *method, const char *path, const char *query, const char *header)
{
    struct arena *a = arena_new(0);
    struct http_req req = { .method = slice_cstr(method), .arena = a };
    struct http_header h = { slice_cstr(header), SLICE_LIT("x") };
    char *bucket, *key;
    size_t key_len;
    enum s3_op op;

    http_parse_query(a, slice_cstr(query), &req.params, &req.nparams);
    if (header) {
        req.headers = &h;
        req.nheaders = 1;
    }
    ASSERT_OK(s3_path_split(a, slice_cstr(path), &bucket, &key, &key_len));
    op = s3_route(&req, bucket, key);
    arena_free(a);
    return op;
}

TEST(s3_router_operations)
{
    ASSERT_EQ(route("GET", "/", "", NULL), S3_OP_LIST_BUCKETS);
    ASSERT_EQ(route("PUT", "/bkt", "", NULL), S3_OP_CREATE_BUCKET);
    ASSERT_EQ(route("PUT", "/bkt/", "", NULL), S3_OP_CREATE_BUCKET);
    ASSERT_EQ(route("HEAD", "/bkt", "", NULL), S3_OP_HEAD_BUCKET);
    ASSERT_EQ(route("DELETE", "/bkt", "", NULL), S3_OP_DELETE_BUCKET);
    ASSERT_EQ(route("GET", "/bkt", "location", NULL), S3_OP_GET_BUCKET_LOCATION);
    ASSERT_EQ(route("GET", "/bkt", "prefix=a", NULL), S3_OP_LIST_OBJECTS);
    ASSERT_EQ(route("GET", "/bkt", "list-type=2&prefix=a", NULL), S3_OP_LIST_OBJECTS_V2);
    ASSERT_EQ(route("PUT", "/bkt/k", "", NULL), S3_OP_PUT_OBJECT);
    ASSERT_EQ(route("GET", "/bkt/k", "", NULL), S3_OP_GET_OBJECT);
    ASSERT_EQ(route("HEAD", "/bkt/k", "", NULL), S3_OP_HEAD_OBJECT);
    ASSERT_EQ(route("DELETE", "/bkt/k", "", NULL), S3_OP_DELETE_OBJECT);
    ASSERT_EQ(route("GET", "/bkt/k", "response-content-type=x", NULL), S3_OP_GET_OBJECT);
    ASSERT_EQ(route("GET", "/basalt/health/live", "", NULL), S3_OP_HEALTH);
    ASSERT_EQ(route("GET", "/basalt/health/ready", "", NULL), S3_OP_HEALTH);
    ASSERT_EQ(route("GET", "/basalt/health/cluster", "", NULL), S3_OP_HEALTH);
    ASSERT_EQ(route("POST", "/basalt/admin/v1/heal", "bucket=b", NULL), S3_OP_ADMIN_HEAL);
    ASSERT_EQ(route("GET", "/basalt/admin/v1/info", "", NULL), S3_OP_ADMIN_INFO);
    ASSERT_EQ(route("GET", "/basalt/admin/v1/heal", "", NULL), S3_OP_METHOD_NOT_ALLOWED);
    ASSERT_EQ(route("POST", "/basalt/admin/v1/service/restart", "", NULL),
              S3_OP_ADMIN_SERVICE_RESTART);
    ASSERT_EQ(route("POST", "/basalt/admin/v1/service/stop", "", NULL), S3_OP_ADMIN_SERVICE_STOP);
    ASSERT_EQ(route("GET", "/basalt/admin/v1/service/stop", "", NULL), S3_OP_METHOD_NOT_ALLOWED);
    ASSERT_EQ(route("POST", "/basalt/admin/v1/service/reload", "", NULL), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("GET", "/basalt/v1/metrics/node", "", NULL), S3_OP_METRICS);
    ASSERT_EQ(route("POST", "/basalt/v1/metrics/node", "", NULL), S3_OP_METHOD_NOT_ALLOWED);
    ASSERT_EQ(route("GET", "/basalt/v1/metrics/cluster", "", NULL), S3_OP_METRICS);
    ASSERT_EQ(route("GET", "/minio/v2/metrics/cluster", "", NULL), S3_OP_METRICS);
    ASSERT_EQ(route("GET", "/minio/v2/metrics/node", "", NULL), S3_OP_METRICS);
    ASSERT_EQ(route("GET", "/minio/v2/metrics/bucket", "", NULL), S3_OP_METRICS);
    ASSERT_EQ(route("PUT", "/minio/v2/metrics/node", "", NULL), S3_OP_METHOD_NOT_ALLOWED);
    ASSERT_EQ(route("GET", "/minio/v2/metrics/other", "", NULL), S3_OP_GET_OBJECT); /* a key */
    ASSERT_EQ(route("GET", "/basalt/other", "", NULL), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("PUT", "/basalt", "", NULL), S3_OP_CREATE_BUCKET); /* refused by name */
}

TEST(s3_router_not_implemented)
{
    static const char *const sub[] = { "website",   "versioning", "replication",
                                       "lifecycle", "versions",   "object-lock" };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(sub); i++) {
        ASSERT_EQ(route("GET", "/bkt", sub[i], NULL), S3_OP_NOT_IMPLEMENTED);
        ASSERT_EQ(route("PUT", "/bkt", sub[i], NULL), S3_OP_NOT_IMPLEMENTED);
        ASSERT_EQ(route("GET", "/bkt/k", sub[i], NULL), S3_OP_NOT_IMPLEMENTED);
        ASSERT_EQ(route("POST", "/bkt", sub[i], NULL), S3_OP_NOT_IMPLEMENTED);
    }
    ASSERT_EQ(route("POST", "/bkt/k", "", NULL), S3_OP_NOT_IMPLEMENTED);
    /* bucket policies: a bucket's subresource only */
    ASSERT_EQ(route("GET", "/bkt", "policy", NULL), S3_OP_GET_BUCKET_POLICY);
    ASSERT_EQ(route("PUT", "/bkt", "policy", NULL), S3_OP_PUT_BUCKET_POLICY);
    ASSERT_EQ(route("DELETE", "/bkt", "policy", NULL), S3_OP_DELETE_BUCKET_POLICY);
    ASSERT_EQ(route("GET", "/bkt", "policyStatus", NULL), S3_OP_GET_BUCKET_POLICY_STATUS);
    ASSERT_EQ(route("POST", "/bkt", "policy", NULL), S3_OP_METHOD_NOT_ALLOWED);
    ASSERT_EQ(route("GET", "/bkt/k", "policy", NULL), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("POST", "/", "", NULL), S3_OP_AWS_QUERY);
    ASSERT_EQ(route("GET", "/basalt/admin/v1/users/alice", "", NULL), S3_OP_ADMIN_IAM);
    ASSERT_EQ(route("POST", "/basalt/admin/v1/service-accounts", "", NULL), S3_OP_ADMIN_IAM);
    ASSERT_EQ(route("GET", "/basalt/admin/v1/usersx", "", NULL), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("POST", "/bkt", "unknown", NULL), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("GET", "/", "acl", NULL), S3_OP_NOT_IMPLEMENTED);
}

TEST(s3_router_api_operations)
{
    ASSERT_EQ(route("POST", "/bkt", "delete", NULL), S3_OP_DELETE_OBJECTS);
    ASSERT_EQ(route("POST", "/bkt", "", NULL), S3_OP_POST_OBJECT);
    ASSERT_EQ(route("PUT", "/bkt/k", "", "x-amz-copy-source"), S3_OP_COPY_OBJECT);
    ASSERT_EQ(route("POST", "/bkt/k", "uploads", NULL), S3_OP_CREATE_MULTIPART_UPLOAD);
    ASSERT_EQ(route("GET", "/bkt/k", "uploads", NULL), S3_OP_METHOD_NOT_ALLOWED);
    ASSERT_EQ(route("PUT", "/bkt/k", "partNumber=1&uploadId=x", NULL), S3_OP_UPLOAD_PART);
    ASSERT_EQ(route("PUT", "/bkt/k", "partNumber=1&uploadId=x", "x-amz-copy-source"),
              S3_OP_UPLOAD_PART_COPY);
    ASSERT_EQ(route("POST", "/bkt/k", "uploadId=x", NULL), S3_OP_COMPLETE_MULTIPART_UPLOAD);
    ASSERT_EQ(route("DELETE", "/bkt/k", "uploadId=x", NULL), S3_OP_ABORT_MULTIPART_UPLOAD);
    ASSERT_EQ(route("GET", "/bkt/k", "uploadId=x", NULL), S3_OP_LIST_PARTS);
    ASSERT_EQ(route("HEAD", "/bkt/k", "uploadId=x", NULL), S3_OP_METHOD_NOT_ALLOWED);
    ASSERT_EQ(route("GET", "/bkt", "uploads", NULL), S3_OP_LIST_MULTIPART_UPLOADS);
    ASSERT_EQ(route("GET", "/bkt/k", "partNumber=2", NULL), S3_OP_GET_OBJECT);
    ASSERT_EQ(route("HEAD", "/bkt/k", "partNumber=2", NULL), S3_OP_HEAD_OBJECT);
    ASSERT_EQ(route("GET", "/bkt/k", "tagging", NULL), S3_OP_GET_OBJECT_TAGGING);
    ASSERT_EQ(route("PUT", "/bkt/k", "tagging", NULL), S3_OP_PUT_OBJECT_TAGGING);
    ASSERT_EQ(route("DELETE", "/bkt/k", "tagging", NULL), S3_OP_DELETE_OBJECT_TAGGING);
    ASSERT_EQ(route("POST", "/bkt/k", "tagging", NULL), S3_OP_METHOD_NOT_ALLOWED);
    ASSERT_EQ(route("GET", "/bkt", "tagging", NULL), S3_OP_GET_BUCKET_TAGGING);
    ASSERT_EQ(route("PUT", "/bkt", "tagging", NULL), S3_OP_PUT_BUCKET_TAGGING);
    ASSERT_EQ(route("DELETE", "/bkt", "tagging", NULL), S3_OP_DELETE_BUCKET_TAGGING);
    ASSERT_EQ(route("GET", "/bkt", "cors", NULL), S3_OP_GET_BUCKET_CORS);
    ASSERT_EQ(route("PUT", "/bkt", "cors", NULL), S3_OP_PUT_BUCKET_CORS);
    ASSERT_EQ(route("DELETE", "/bkt", "cors", NULL), S3_OP_DELETE_BUCKET_CORS);
    ASSERT_EQ(route("OPTIONS", "/bkt", "", NULL), S3_OP_CORS_PREFLIGHT);
    ASSERT_EQ(route("OPTIONS", "/bkt/k", "", NULL), S3_OP_CORS_PREFLIGHT);
    ASSERT_EQ(route("GET", "/bkt/k", "attributes", NULL), S3_OP_GET_OBJECT_ATTRIBUTES);
}

TEST(s3_path_split_keys)
{
    struct arena *a = arena_new(0);
    char *bucket, *key;
    size_t n;

    ASSERT_OK(s3_path_split(a, SLICE_LIT("/b/..%2F.%2F%2F%20x"), &bucket, &key, &n));
    ASSERT_STREQ(bucket, "b");
    ASSERT_STREQ(key, "../.// x");
    ASSERT_OK(s3_path_split(a, SLICE_LIT("/b//a//"), &bucket, &key, &n));
    ASSERT_STREQ(key, "/a//");
    ASSERT_OK(s3_path_split(a, SLICE_LIT("/b/a%00b"), &bucket, &key, &n));
    ASSERT_EQ(n, 3);
    ASSERT_OK(s3_path_split(a, SLICE_LIT("/"), &bucket, &key, &n));
    ASSERT(bucket == NULL && key == NULL);
    ASSERT_EQ(s3_path_split(a, SLICE_LIT("/b/%zz"), &bucket, &key, &n), -ERR_BAD_REQUEST);
    ASSERT_EQ(s3_path_split(a, SLICE_LIT("b"), &bucket, &key, &n), -ERR_BAD_REQUEST);
    arena_free(a);
}

/* Splits with an addressing config of `domains` (comma-separated) and `prefix`. */
struct split {
    int rc;
    char *bucket, *key;
};

static struct split
split_with(struct arena *a, const char *domains, const char *prefix, const char *host,
           const char *path)
{
    const char *d[4];
    size_t nd = 0;
    struct s3 s = { 0 };
    struct split r = { 0, NULL, NULL };
    char *list = xstrdup(domains), *p = list, *comma;
    size_t key_len;

    while (*p && nd < ARRAY_SIZE(d)) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        d[nd++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    s3__router_init(&s, d, nd, prefix);
    r.rc = s3_target_split(&s.addr, a, host ? slice_cstr(host) : SLICE_NULL, slice_cstr(path),
                           &r.bucket, &r.key, &key_len);
    s3__router_release(&s);
    free(list);
    return r;
}

#define ASSERT_SPLIT(r, b, k)                                                                      \
    do {                                                                                           \
        struct split _r = (r);                                                                     \
        ASSERT_OK(_r.rc);                                                                          \
        if ((b) == NULL)                                                                           \
            ASSERT(_r.bucket == NULL);                                                             \
        else                                                                                       \
            ASSERT_STREQ(_r.bucket, (b));                                                          \
        if ((k) == NULL)                                                                           \
            ASSERT(_r.key == NULL);                                                                \
        else                                                                                       \
            ASSERT_STREQ(_r.key, (k));                                                             \
    } while (0)

TEST(s3_target_split_virtual_host)
{
    struct arena *a = arena_new(0);
    const char *dom = "example.com,s3.Example.NET";

    ASSERT_SPLIT(split_with(a, dom, NULL, "b.example.com", "/k/x%20y"), "b", "k/x y");
    ASSERT_SPLIT(split_with(a, dom, NULL, "b.example.com:9000", "/"), "b", NULL);
    ASSERT_SPLIT(split_with(a, dom, NULL, "My.Bucket.EXAMPLE.com", "//k"), "my.bucket", "/k");
    ASSERT_SPLIT(split_with(a, dom, NULL, "b.s3.example.net.", "/k"), "b", "k");
    /* the bare domain, IP addresses and other hosts: path style */
    ASSERT_SPLIT(split_with(a, dom, NULL, "example.com", "/b/k"), "b", "k");
    ASSERT_SPLIT(split_with(a, dom, NULL, "127.0.0.1:9000", "/b/k"), "b", "k");
    ASSERT_SPLIT(split_with(a, dom, NULL, "[::1]:9000", "/b/k"), "b", "k");
    ASSERT_SPLIT(split_with(a, dom, NULL, "b.other.com", "/b/k"), "b", "k");
    ASSERT_SPLIT(split_with(a, dom, NULL, "bexample.com", "/b/k"), "b", "k");
    ASSERT_SPLIT(split_with(a, dom, NULL, NULL, "/b/k"), "b", "k");
    /* the longest domain wins: x.s3.example.net is bucket x of s3.example.net */
    ASSERT_SPLIT(split_with(a, "example.net,s3.example.net", NULL, "x.s3.example.net", "/k"), "x",
                 "k");
    /* no domains: always path style */
    ASSERT_SPLIT(split_with(a, "", NULL, "b.example.com", "/b2/k"), "b2", "k");
    ASSERT_EQ(split_with(a, dom, NULL, "b.example.com", "/%zz").rc, -ERR_BAD_REQUEST);
    arena_free(a);
}

TEST(s3_target_split_path_prefix)
{
    struct arena *a = arena_new(0);

    ASSERT_SPLIT(split_with(a, "", "/storage", "h", "/storage/b/k"), "b", "k");
    ASSERT_SPLIT(split_with(a, "", "/storage/", "h", "/storage/b/"), "b", NULL);
    ASSERT_SPLIT(split_with(a, "", "/storage", "h", "/storage"), NULL, NULL);
    ASSERT_SPLIT(split_with(a, "", "/storage", "h", "/storage/"), NULL, NULL);
    ASSERT_SPLIT(split_with(a, "", "/a/b", "h", "/a/b/basalt/health/live"), "basalt",
                 "health/live");
    ASSERT_EQ(split_with(a, "", "/storage", "h", "/b/k").rc, -ERR_NOT_FOUND);
    ASSERT_EQ(split_with(a, "", "/storage", "h", "/storagex/b").rc, -ERR_NOT_FOUND);
    ASSERT_EQ(split_with(a, "", "/storage", "h", "/").rc, -ERR_NOT_FOUND);
    ASSERT_SPLIT(split_with(a, "", "/", "h", "/b/k"), "b", "k"); /* "/" is no prefix */
    /* both: the prefix first, then the bucket from the host */
    ASSERT_SPLIT(split_with(a, "example.com", "/storage", "b.example.com", "/storage/k"), "b", "k");
    ASSERT_SPLIT(split_with(a, "example.com", "/storage", "b.example.com", "/storage"), "b", NULL);
    ASSERT_SPLIT(split_with(a, "example.com", "/storage", "example.com", "/storage/b/k"), "b", "k");
    arena_free(a);
}

TEST(s3_router_unbuilt_headers)
{
    /* object SSE headers are checked at dispatch (sse.c): 400 or 501 */
    ASSERT_EQ(route("PUT", "/bkt/k", "", "x-amz-server-side-encryption"), S3_OP_PUT_OBJECT);
    ASSERT_EQ(route("PUT", "/bkt", "", "x-amz-server-side-encryption"), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("PUT", "/bkt/k", "", "x-amz-object-lock-mode"), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("POST", "/bkt/k", "uploads", "x-amz-server-side-encryption-customer-algorithm"),
              S3_OP_CREATE_MULTIPART_UPLOAD);
    /* ACLs are built: the headers are the operation's */
    ASSERT_EQ(route("PUT", "/bkt", "", "x-amz-grant-read"), S3_OP_CREATE_BUCKET);
    ASSERT_EQ(route("PUT", "/bkt/k", "", "x-amz-acl"), S3_OP_PUT_OBJECT);
    ASSERT_EQ(route("GET", "/bkt", "acl", NULL), S3_OP_GET_BUCKET_ACL);
    ASSERT_EQ(route("PUT", "/bkt", "acl", NULL), S3_OP_PUT_BUCKET_ACL);
    ASSERT_EQ(route("DELETE", "/bkt", "acl", NULL), S3_OP_METHOD_NOT_ALLOWED);
    ASSERT_EQ(route("GET", "/bkt/k", "acl", NULL), S3_OP_GET_OBJECT_ACL);
    ASSERT_EQ(route("PUT", "/bkt/k", "acl", NULL), S3_OP_PUT_OBJECT_ACL);
    ASSERT_EQ(route("DELETE", "/bkt", "ownershipControls", NULL), S3_OP_DELETE_BUCKET_OWNERSHIP);
    ASSERT_EQ(route("PUT", "/bkt", "publicAccessBlock", NULL), S3_OP_PUT_PUBLIC_ACCESS_BLOCK);
    ASSERT_EQ(route("GET", "/bkt/k", "publicAccessBlock", NULL), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("PUT", "/bkt/k", "", "x-amz-meta-a"), S3_OP_PUT_OBJECT);
    /* reads are not refused for such headers */
    ASSERT_EQ(route("GET", "/bkt/k", "", "x-amz-server-side-encryption"), S3_OP_GET_OBJECT);
    ASSERT_EQ(route("GET", "/bkt/k", "versionId=null", NULL), S3_OP_GET_OBJECT);
    ASSERT_EQ(route("GET", "/bkt/k", "versionId=abc", NULL), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("GET", "/bkt", "session", NULL), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("GET", "/bkt", "x-id=ListObjects", NULL), S3_OP_LIST_OBJECTS);
}

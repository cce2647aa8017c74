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
    ASSERT_EQ(route("GET", "/basalt/other", "", NULL), S3_OP_NOT_IMPLEMENTED);
    ASSERT_EQ(route("PUT", "/basalt", "", NULL), S3_OP_CREATE_BUCKET); /* refused by name */
}

TEST(s3_router_not_implemented)
{
    static const char *const sub[] = { "acl",       "versioning", "policy",
                                       "lifecycle", "versions",   "object-lock" };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(sub); i++) {
        ASSERT_EQ(route("GET", "/bkt", sub[i], NULL), S3_OP_NOT_IMPLEMENTED);
        ASSERT_EQ(route("PUT", "/bkt", sub[i], NULL), S3_OP_NOT_IMPLEMENTED);
        ASSERT_EQ(route("GET", "/bkt/k", sub[i], NULL), S3_OP_NOT_IMPLEMENTED);
        ASSERT_EQ(route("POST", "/bkt", sub[i], NULL), S3_OP_NOT_IMPLEMENTED);
    }
    ASSERT_EQ(route("POST", "/bkt/k", "", NULL), S3_OP_NOT_IMPLEMENTED);
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

/*
 * s3/bucket.c: ListBuckets, CreateBucket, HeadBucket, DeleteBucket and
 * GetBucketLocation.
 *
 * CreateBucket reads an optional CreateBucketConfiguration body of at most
 * S3_MAX_XML_BODY bytes through s3__expect_small_body() (tagging.c): a
 * larger Content-Length is refused before the body, and a chunked body is
 * counted and refused past the limit without keeping more than the limit in
 * memory.
 */
#include "util/base.h"

#include "s3/internal.h"
#include "s3/xml.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

static int
bucket_err(int rc)
{
    return rc == -ERR_NOT_FOUND ? -ERR_BUCKET_NOT_FOUND : rc;
}

/* ListBuckets' Owner: the caller (a user's canonical id and name; root's). */
static void
add_owner(struct buf *x, const struct s3_call *call)
{
    bool user = call->id->type != IAM_ANONYMOUS && call->id->canonical_id[0];

    xml_open(x, "Owner");
    xml_elem_str(x, "ID", user ? call->id->canonical_id : S3_OWNER_ID);
    xml_elem_str(x, "DisplayName", user ? call->id->user : call->s3->root_user);
    xml_close(x, "Owner");
}

/*
 * ListBuckets' paging (S3, 2024): max-buckets (1 to 10,000), prefix,
 * continuation-token and bucket-region. With any of them the answer is a page
 * of at most max-buckets (default 10,000), and ContinuationToken names where
 * the next page starts when more buckets match; without them, every bucket.
 * The token is the base64 of the last name returned. An empty token or prefix
 * is none. Prefix is echoed when one was given.
 */
#define S3_MAX_BUCKETS_PAGE 10000

struct list_buckets_req {
    struct slice prefix, after;
    bool has_prefix, other_region;
    size_t max;
};

static int
parse_list_buckets(struct s3_call *call, struct list_buckets_req *lb)
{
    const struct http_req *req = call->req;
    struct slice v;
    struct buf tok = BUF_INIT;
    uint64_t n;
    bool paged = false;

    lb->max = SIZE_MAX;
    if (http_req_param(req, "max-buckets", &v)) {
        if (parse_u64(v, &n) < 0 || n < 1 || n > S3_MAX_BUCKETS_PAGE)
            return -ERR_INVALID_ARGUMENT;
        lb->max = (size_t)n;
        paged = true;
    }
    if (http_req_param(req, "prefix", &lb->prefix) && lb->prefix.len) {
        lb->has_prefix = true;
        paged = true;
    }
    if (http_req_param(req, "bucket-region", &v)) {
        /* every bucket is in the server's region */
        lb->other_region = v.len && !slice_eq_cstr(v, call->s3->region);
        paged = true;
    }
    if (http_req_param(req, "continuation-token", &v)) {
        paged = true;
        if (v.len) {
            if (base64_decode(&tok, v) < 0 || tok.len == 0 || tok.len > 63) {
                buf_release(&tok);
                return -ERR_INVALID_ARGUMENT;
            }
            lb->after = slice_make(arena_slicedup(req->arena, buf_slice(&tok)), tok.len);
            buf_release(&tok);
        }
    }
    if (paged && lb->max == SIZE_MAX)
        lb->max = S3_MAX_BUCKETS_PAGE;
    return 0;
}

static bool
bucket_matches(const struct list_buckets_req *lb, const char *name)
{
    struct slice s = slice_cstr(name);

    if (lb->other_region || !slice_starts_with(s, lb->prefix))
        return false;
    return lb->after.len == 0 || slice_cmp(s, lb->after) > 0;
}

void
s3__list_buckets(struct s3_call *call)
{
    struct list_buckets_req lb = { 0 };
    struct obj_bucket *ents = NULL;
    struct buf x = BUF_INIT, date = BUF_INIT;
    const char *last = NULL;
    size_t n = 0, i, shown = 0;
    bool more = false, all;
    int rc;

    /*
     * s3:ListAllMyBuckets lists every bucket (AWS). Without it a signed
     * caller sees the buckets it may list or locate (MinIO's rule, so that
     * `aws s3 ls` works for a readonly user), and is refused when there is
     * none; an anonymous caller is refused.
     */
    all = s3__check_access(call, "s3:ListAllMyBuckets", "arn:aws:s3:::*", NULL, NULL) == 0;
    if (!all && call->id->type == IAM_ANONYMOUS) {
        s3__send_error(call, -ERR_ACCESS_DENIED, NULL);
        return;
    }
    rc = parse_list_buckets(call, &lb);
    if (rc == 0)
        rc = objlayer_bucket_list(call->s3->ol, &call->ctx, &ents, &n);
    if (rc == 0 && !all) {
        size_t kept = 0;

        for (i = 0; i < n; i++)
            if (s3__is_allowed(call, "s3:ListBucket", ents[i].name, NULL) ||
                s3__is_allowed(call, "s3:GetBucketLocation", ents[i].name, NULL))
                ents[kept++] = ents[i];
        n = kept;
        if (n == 0)
            rc = -ERR_ACCESS_DENIED;
    }
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        free(ents);
        return;
    }
    xml_declaration(&x);
    xml_open_ns(&x, "ListAllMyBucketsResult");
    add_owner(&x, call);
    xml_open(&x, "Buckets");
    for (i = 0; i < n; i++) {
        if (!bucket_matches(&lb, ents[i].name))
            continue;
        if (shown == lb.max) {
            more = true;
            break;
        }
        xml_open(&x, "Bucket");
        xml_elem_str(&x, "Name", ents[i].name);
        buf_clear(&date);
        clock_fmt_iso8601(&date, ents[i].created_ns);
        xml_elem_str(&x, "CreationDate", date.ptr);
        xml_close(&x, "Bucket");
        last = ents[i].name;
        shown++;
    }
    xml_close(&x, "Buckets");
    if (more) {
        buf_clear(&date);
        base64_encode(&date, last, strlen(last));
        xml_elem(&x, "ContinuationToken", buf_slice(&date));
    }
    if (lb.has_prefix)
        xml_elem(&x, "Prefix", lb.prefix);
    xml_close(&x, "ListAllMyBucketsResult");
    s3__send_xml(call, &x);
    buf_release(&x);
    buf_release(&date);
    free(ents);
}

/* ---- CreateBucket ---- */

/*
 * The LocationConstraint a client may send: the server's region, or none
 * (the bucket goes to the server's region, as MinIO does). For us-east-1 also
 * the names clients use for it: botocore sends "aws-global" when no region is
 * configured (Debian's aws CLI without ~/.aws/config), and "US" is S3's legacy
 * name.
 */
static bool
location_ok(const struct s3 *s, const char *loc)
{
    if (loc[0] == '\0' || strcmp(loc, s->region) == 0)
        return true;
    return strcmp(s->region, "us-east-1") == 0 &&
           (strcmp(loc, "aws-global") == 0 || strcmp(loc, "US") == 0);
}

/* The caller's canonical id, as an owner (root's when IAM is off). */
static const char *
caller_owner(const struct s3_call *call)
{
    return call->id->type == IAM_ANONYMOUS || !call->id->canonical_id[0] ? IAM_ROOT_CANONICAL_ID
                                                                         : call->id->canonical_id;
}

/*
 * A new bucket's object ownership (x-amz-object-ownership, else the
 * server's default; a default of ObjectWriter leaves the bucket without
 * ownership controls, which behaves the same, as S3's buckets did before
 * 2023) and ACL (x-amz-acl, x-amz-grant-*): its "ownership"
 * document unless BucketOwnerEnforced, its "acl" document unless root's
 * private one. Written after the bucket: a failure leaves the bucket with
 * the defaults, and the error is answered.
 */
static int
create_settings(struct s3_call *call, enum s3_ownership *own, struct buf *acl_doc)
{
    struct slice v;

    *own = call->s3->default_ownership;
    if (http_req_header(call->req, "x-amz-object-ownership", &v)) {
        char name[32];

        v = slice_trim(v);
        snprintf(name, sizeof(name), "%.*s", (int)MIN(v.len, sizeof(name) - 1), v.ptr);
        if (s3_ownership_parse(name, own) < 0)
            return -ERR_INVALID_ARGUMENT;
    } else if (*own == S3_OWN_WRITER) {
        *own = S3_OWN_NONE; /* as S3 before 2023: no ownership controls, ACLs enabled */
    }
    return s3__bucket_acl_check_new(call, *own, acl_doc);
}

static void
create_done(struct s3_call *call, int rc, struct slice body)
{
    struct buf loc = BUF_INIT, acl_doc = BUF_INIT;
    enum s3_ownership own = S3_OWN_ENFORCED;
    bool made = false;

    if (rc == 0)
        rc = s3_parse_create_bucket(body, &loc);
    if (rc == 0 && !location_ok(call->s3, loc.ptr))
        rc = -ERR_INVALID_LOCATION;
    if (rc == 0)
        rc = create_settings(call, &own, &acl_doc);
    if (rc == 0)
        rc = objlayer_bucket_make(call->s3->ol, &call->ctx, call->bucket);
    made = rc == 0;
    if (rc == -ERR_EXISTS)
        rc = -ERR_BUCKET_EXISTS;
    if (rc == -ERR_BUCKET_EXISTS) {
        struct s3_bucket_access *ba = arena_alloc(call->req->arena, sizeof(*ba));

        /* another user's bucket: S3's BucketAlreadyExists */
        if (s3__bucket_access_get(call, call->bucket, ba) == 0 &&
            strcmp(ba->acl.owner, caller_owner(call)) != 0)
            rc = -ERR_BUCKET_TAKEN;
    }
    /*
     * S3's legacy rule: in us-east-1, creating a bucket you already own
     * answers 200 and leaves it as it is (its objects and configuration);
     * in every other region it is 409 BucketAlreadyOwnedByYou.
     */
    if (rc == -ERR_BUCKET_EXISTS && strcmp(call->s3->region, "us-east-1") == 0)
        rc = 0;
    if (made && own != S3_OWN_ENFORCED)
        rc = objlayer_bucket_config_put(call->s3->ol, &call->ctx, call->bucket, "ownership",
                                        slice_cstr(s3_ownership_name(own)));
    if (made && rc == 0 && acl_doc.len)
        rc = objlayer_bucket_config_put(call->s3->ol, &call->ctx, call->bucket, "acl",
                                        buf_slice(&acl_doc));
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
    } else {
        http_resp_header(call->req, "Location",
                         arena_printf(call->req->arena, "/%s", call->bucket));
        http_resp_empty(call->req, 200);
    }
    buf_release(&acl_doc);
    buf_release(&loc);
}

void
s3__create_bucket(struct s3_call *call)
{
    int rc = s3_bucket_name_check_new(slice_cstr(call->bucket));

    if (rc == 0 && !strcmp(call->bucket, S3_RESERVED_BUCKET))
        rc = -ERR_INVALID_BUCKET_NAME;
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    s3__expect_small_body(call, create_done);
}

/* ---- HeadBucket, DeleteBucket, GetBucketLocation ---- */

static int
stat_bucket(struct s3_call *call)
{
    int64_t created;
    int rc;

    if (s3_bucket_name_check(slice_cstr(call->bucket)) < 0)
        rc = -ERR_BUCKET_NOT_FOUND;
    else
        rc = bucket_err(objlayer_bucket_stat(call->s3->ol, &call->ctx, call->bucket, &created));
    if (rc < 0)
        s3__send_error(call, rc, NULL);
    return rc;
}

void
s3__head_bucket(struct s3_call *call)
{
    if (stat_bucket(call) < 0)
        return;
    http_resp_header(call->req, "x-amz-bucket-region", call->s3->region);
    http_resp_empty(call->req, 200);
}

void
s3__delete_bucket(struct s3_call *call)
{
    int rc;

    if (s3_bucket_name_check(slice_cstr(call->bucket)) < 0)
        rc = -ERR_BUCKET_NOT_FOUND;
    else
        rc = bucket_err(objlayer_bucket_delete(call->s3->ol, &call->ctx, call->bucket));
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    /* Uploads in progress do not keep a bucket (S3): they go with it. */
    objlayer_mp_drop_bucket(call->s3->ol, &call->ctx, call->bucket);
    http_resp_empty(call->req, 204);
}

void
s3__get_bucket_location(struct s3_call *call)
{
    struct buf x = BUF_INIT;

    if (stat_bucket(call) < 0)
        return;
    xml_declaration(&x);
    xml_open_ns(&x, "LocationConstraint");
    /* S3 answers an empty constraint for us-east-1. */
    if (strcmp(call->s3->region, "us-east-1") != 0)
        xml_escape(&x, slice_cstr(call->s3->region));
    xml_close(&x, "LocationConstraint");
    s3__send_xml(call, &x);
    buf_release(&x);
}

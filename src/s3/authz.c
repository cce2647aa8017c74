/*
 * s3/authz.c: the one front door between S3 requests and iam/ (DESIGN.md
 * "Identity and access"): after auth/ has said who signed, every operation
 * is mapped to its policy action and resource (one table, below) and iam/
 * decides, with the bucket's policy and the request's condition keys.
 *
 * The table: each operation has an action and a resource kind, or says why
 * it has none (public: health, CORS preflight; answered before anything:
 * unknown routes; authorized by its handler: DeleteObjects per key, a
 * browser POST once its form named the key, a copy's source). A unit test
 * walks every operation and fails if one has no entry.
 *
 * Bucket policies: stored as the bucket's "policy" configuration document
 * (object/, served from the bucket snapshot without I/O), compiled once per
 * document: a small cache keyed by bucket and a hash of the document text,
 * so a changed policy is a miss and compiles again.
 *
 * Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus live here too.
 */
#include "util/base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <xxhash.h>

#include "obs/log.h"
#include "s3/internal.h"
#include "s3/xml.h"
#include "util/err.h"

/* ---- the table ---- */

static const struct s3_authz authz_table[S3_OP__COUNT] = {
    [S3_OP_NONE] = { S3_AUTHZ_ANSWERED, NULL },
    [S3_OP_HEALTH] = { S3_AUTHZ_PUBLIC, NULL },
    [S3_OP_ADMIN_HEAL] = { S3_AUTHZ_ADMIN, "admin:Heal" },
    [S3_OP_ADMIN_INFO] = { S3_AUTHZ_ADMIN, "admin:ServerInfo" },
    [S3_OP_ADMIN_HEAL_STATUS] = { S3_AUTHZ_ADMIN, "admin:Heal" },
    [S3_OP_ADMIN_SERVICE_RESTART] = { S3_AUTHZ_ADMIN, "admin:ServiceRestart" },
    [S3_OP_ADMIN_SERVICE_STOP] = { S3_AUTHZ_ADMIN, "admin:ServiceStop" },
    [S3_OP_METRICS] = { S3_AUTHZ_ADMIN, "admin:Prometheus" },
    /* s3:ListAllMyBuckets, or the buckets the caller may list or locate (bucket.c) */
    [S3_OP_LIST_BUCKETS] = { S3_AUTHZ_HANDLER, "s3:ListAllMyBuckets" },
    [S3_OP_CREATE_BUCKET] = { S3_AUTHZ_BUCKET, "s3:CreateBucket" },
    [S3_OP_HEAD_BUCKET] = { S3_AUTHZ_BUCKET, "s3:ListBucket" },
    [S3_OP_DELETE_BUCKET] = { S3_AUTHZ_BUCKET, "s3:DeleteBucket" },
    [S3_OP_GET_BUCKET_LOCATION] = { S3_AUTHZ_BUCKET, "s3:GetBucketLocation" },
    [S3_OP_LIST_OBJECTS] = { S3_AUTHZ_BUCKET, "s3:ListBucket" },
    [S3_OP_LIST_OBJECTS_V2] = { S3_AUTHZ_BUCKET, "s3:ListBucket" },
    [S3_OP_PUT_OBJECT] = { S3_AUTHZ_OBJECT, "s3:PutObject" },
    [S3_OP_GET_OBJECT] = { S3_AUTHZ_OBJECT, "s3:GetObject" },
    [S3_OP_HEAD_OBJECT] = { S3_AUTHZ_OBJECT, "s3:GetObject" },
    [S3_OP_DELETE_OBJECT] = { S3_AUTHZ_OBJECT, "s3:DeleteObject" },
    /* s3:DeleteObject for each key (delete_objects.c) */
    [S3_OP_DELETE_OBJECTS] = { S3_AUTHZ_HANDLER, "s3:DeleteObject" },
    /* s3:PutObject on the target here, s3:GetObject on the source in copy.c */
    [S3_OP_COPY_OBJECT] = { S3_AUTHZ_OBJECT, "s3:PutObject" },
    /* s3:PutObject once the form named the key (post.c) */
    [S3_OP_POST_OBJECT] = { S3_AUTHZ_HANDLER, "s3:PutObject" },
    [S3_OP_CREATE_MULTIPART_UPLOAD] = { S3_AUTHZ_OBJECT, "s3:PutObject" },
    [S3_OP_UPLOAD_PART] = { S3_AUTHZ_OBJECT, "s3:PutObject" },
    [S3_OP_UPLOAD_PART_COPY] = { S3_AUTHZ_OBJECT, "s3:PutObject" },
    [S3_OP_COMPLETE_MULTIPART_UPLOAD] = { S3_AUTHZ_OBJECT, "s3:PutObject" },
    [S3_OP_ABORT_MULTIPART_UPLOAD] = { S3_AUTHZ_OBJECT, "s3:AbortMultipartUpload" },
    [S3_OP_LIST_PARTS] = { S3_AUTHZ_OBJECT, "s3:ListMultipartUploadParts" },
    [S3_OP_LIST_MULTIPART_UPLOADS] = { S3_AUTHZ_BUCKET, "s3:ListBucketMultipartUploads" },
    [S3_OP_GET_OBJECT_TAGGING] = { S3_AUTHZ_OBJECT, "s3:GetObjectTagging" },
    [S3_OP_PUT_OBJECT_TAGGING] = { S3_AUTHZ_OBJECT, "s3:PutObjectTagging" },
    [S3_OP_DELETE_OBJECT_TAGGING] = { S3_AUTHZ_OBJECT, "s3:DeleteObjectTagging" },
    [S3_OP_GET_BUCKET_TAGGING] = { S3_AUTHZ_BUCKET, "s3:GetBucketTagging" },
    [S3_OP_PUT_BUCKET_TAGGING] = { S3_AUTHZ_BUCKET, "s3:PutBucketTagging" },
    /* AWS: DeleteBucketTagging and DeleteBucketCors need the Put permission */
    [S3_OP_DELETE_BUCKET_TAGGING] = { S3_AUTHZ_BUCKET, "s3:PutBucketTagging" },
    [S3_OP_GET_BUCKET_CORS] = { S3_AUTHZ_BUCKET, "s3:GetBucketCORS" },
    [S3_OP_PUT_BUCKET_CORS] = { S3_AUTHZ_BUCKET, "s3:PutBucketCORS" },
    [S3_OP_DELETE_BUCKET_CORS] = { S3_AUTHZ_BUCKET, "s3:PutBucketCORS" },
    [S3_OP_CORS_PREFLIGHT] = { S3_AUTHZ_PUBLIC, NULL },
    [S3_OP_GET_OBJECT_ATTRIBUTES] = { S3_AUTHZ_OBJECT, "s3:GetObjectAttributes" },
    [S3_OP_GET_BUCKET_POLICY] = { S3_AUTHZ_BUCKET, "s3:GetBucketPolicy" },
    [S3_OP_PUT_BUCKET_POLICY] = { S3_AUTHZ_BUCKET, "s3:PutBucketPolicy" },
    [S3_OP_DELETE_BUCKET_POLICY] = { S3_AUTHZ_BUCKET, "s3:DeleteBucketPolicy" },
    [S3_OP_GET_BUCKET_POLICY_STATUS] = { S3_AUTHZ_BUCKET, "s3:GetBucketPolicyStatus" },
    [S3_OP_GET_BUCKET_ACL] = { S3_AUTHZ_BUCKET, "s3:GetBucketAcl" },
    [S3_OP_PUT_BUCKET_ACL] = { S3_AUTHZ_BUCKET, "s3:PutBucketAcl" },
    [S3_OP_GET_OBJECT_ACL] = { S3_AUTHZ_OBJECT, "s3:GetObjectAcl" },
    [S3_OP_PUT_OBJECT_ACL] = { S3_AUTHZ_OBJECT, "s3:PutObjectAcl" },
    [S3_OP_GET_BUCKET_OWNERSHIP] = { S3_AUTHZ_BUCKET, "s3:GetBucketOwnershipControls" },
    [S3_OP_PUT_BUCKET_OWNERSHIP] = { S3_AUTHZ_BUCKET, "s3:PutBucketOwnershipControls" },
    /* AWS: DeleteBucketOwnershipControls needs s3:PutBucketOwnershipControls */
    [S3_OP_DELETE_BUCKET_OWNERSHIP] = { S3_AUTHZ_BUCKET, "s3:PutBucketOwnershipControls" },
    [S3_OP_GET_PUBLIC_ACCESS_BLOCK] = { S3_AUTHZ_BUCKET, "s3:GetBucketPublicAccessBlock" },
    [S3_OP_PUT_PUBLIC_ACCESS_BLOCK] = { S3_AUTHZ_BUCKET, "s3:PutBucketPublicAccessBlock" },
    /* AWS: DeletePublicAccessBlock needs s3:PutBucketPublicAccessBlock */
    [S3_OP_DELETE_PUBLIC_ACCESS_BLOCK] = { S3_AUTHZ_BUCKET, "s3:PutBucketPublicAccessBlock" },
    /* admin:<Action> per endpoint; a user's own service accounts need none (admin_iam.c) */
    [S3_OP_ADMIN_IAM] = { S3_AUTHZ_HANDLER, NULL },
    /* iam:<Action> per action, sts:AssumeRole; GetCallerIdentity needs no right (iam_api.c) */
    [S3_OP_AWS_QUERY] = { S3_AUTHZ_HANDLER, NULL },
    /* answered with their error before anything is done (signed callers only) */
    [S3_OP_NOT_IMPLEMENTED] = { S3_AUTHZ_ANSWERED, NULL },
    [S3_OP_METHOD_NOT_ALLOWED] = { S3_AUTHZ_ANSWERED, NULL },
    [S3_OP_BAD_PATH] = { S3_AUTHZ_ANSWERED, NULL },
};

const struct s3_authz *
s3_op_authz(enum s3_op op)
{
    if ((size_t)op >= ARRAY_SIZE(authz_table) || authz_table[op].kind == S3_AUTHZ_UNSET)
        return NULL;
    return &authz_table[op];
}

/* ---- compiled bucket policies ---- */

#define PC_SLOTS 64

struct pc_entry {
    atomic_uint refs;
    uint64_t hash; /* of the document text */
    char *bucket;
    struct iam_policy *policy;
};

struct s3_policy_cache {
    pthread_mutex_t mu[PC_SLOTS];
    struct pc_entry *slot[PC_SLOTS];
};

static void
pc_unref(struct pc_entry *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    iam_policy_free(e->policy);
    free(e->bucket);
    free(e);
}

void
s3__authz_init(struct s3 *s)
{
    size_t i;

    s->policies = xcalloc(1, sizeof(*s->policies));
    for (i = 0; i < PC_SLOTS; i++)
        pthread_mutex_init(&s->policies->mu[i], NULL);
}

void
s3__authz_release(struct s3 *s)
{
    size_t i;

    if (!s->policies)
        return;
    for (i = 0; i < PC_SLOTS; i++) {
        pc_unref(s->policies->slot[i]);
        pthread_mutex_destroy(&s->policies->mu[i]);
    }
    free(s->policies);
    s->policies = NULL;
}

/*
 * The compiled policy of `bucket` (a reference; NULL when it has none): 0,
 * -ERR_BUCKET_NOT_FOUND, or the object layer's error. A stored document
 * that no longer parses (it did when stored) counts as none, and says so.
 */
static int
bucket_policy_get(struct s3_call *call, const char *bucket, struct pc_entry **out)
{
    struct s3_policy_cache *pc = call->s3->policies;
    struct buf doc = BUF_INIT;
    struct pc_entry *e = NULL, *old;
    struct iam_policy *p = NULL;
    uint64_t h;
    size_t i;
    int rc;

    rc = objlayer_bucket_config_get(call->s3->ol, &call->ctx, bucket, "policy", &doc);
    if (rc == -ERR_NOT_FOUND) {
        buf_release(&doc);
        *out = NULL;
        return 0;
    }
    if (rc < 0)
        goto out;
    h = XXH3_64bits(doc.ptr, doc.len);
    i = (size_t)(XXH3_64bits(bucket, strlen(bucket)) % PC_SLOTS);
    pthread_mutex_lock(&pc->mu[i]);
    e = pc->slot[i];
    if (e && e->hash == h && !strcmp(e->bucket, bucket))
        atomic_fetch_add(&e->refs, 1);
    else
        e = NULL;
    pthread_mutex_unlock(&pc->mu[i]);
    if (!e) {
        if (iam_policy_parse(buf_slice(&doc), IAM_POLICY_BUCKET, &p, NULL) < 0) {
            log_warn(&(struct log_ctx){ .request_id = call->req->id, .bucket = bucket },
                     "the stored bucket policy does not parse: ignored");
            *out = NULL;
            goto out;
        }
        e = xcalloc(1, sizeof(*e));
        atomic_init(&e->refs, 2); /* the cache's and the caller's */
        e->hash = h;
        e->bucket = xstrdup(bucket);
        e->policy = p;
        pthread_mutex_lock(&pc->mu[i]);
        old = pc->slot[i];
        pc->slot[i] = e;
        pthread_mutex_unlock(&pc->mu[i]);
        pc_unref(old);
    }
    *out = e;
out:
    buf_release(&doc);
    return rc;
}

/* ---- condition keys of a request ---- */

struct cond_ctx {
    struct s3_call *call;
    const char *bucket, *key;
    bool tags_read;
    struct s3_tagset tags; /* the object's existing tags, read on first use */
};

static size_t
one(struct slice *vals, size_t max, struct slice v)
{
    if (max > 0)
        vals[0] = v;
    return 1;
}

static size_t
header_val(struct s3_call *call, const char *name, struct slice *vals, size_t max)
{
    struct slice v;

    return http_req_header(call->req, name, &v) ? one(vals, max, slice_trim(v)) : 0;
}

static size_t
param_val(struct s3_call *call, const char *name, struct slice *vals, size_t max)
{
    struct slice v;

    return http_req_param(call->req, name, &v) ? one(vals, max, v) : 0;
}

/* The values of tag `k` in `t` (one at most). */
static size_t
tag_val(const struct s3_tagset *t, const char *k, struct slice *vals, size_t max)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (slice_eq_cstr(t->tags[i].key, k))
            return one(vals, max, t->tags[i].value);
    return 0;
}

/* s3:ExistingObjectTag/<k>: the object's tags, read once (the only key that costs I/O). */
static size_t
existing_tag(struct cond_ctx *c, const char *k, struct slice *vals, size_t max)
{
    struct s3_call *call = c->call;

    if (!c->key)
        return 0;
    if (!c->tags_read) {
        struct obj_info info;
        const char *v;

        c->tags_read = true;
        obj_info_init(&info);
        if (objlayer_head(call->s3->ol, &call->ctx, c->bucket, c->key, &info) == 0 &&
            (v = obj_info_header(&info, "x-amz-tagging")) != NULL)
            s3_tagging_parse_query(call->req->arena, slice_cstr(arena_strdup(call->req->arena, v)),
                                   S3_OBJECT_TAGS_MAX, &c->tags, NULL);
        obj_info_release(&info);
    }
    return tag_val(&c->tags, k, vals, max);
}

static size_t
request_cond(void *arg, const char *key, struct slice *vals, size_t max)
{
    struct cond_ctx *c = arg;
    struct s3_call *call = c->call;
    struct http_req *req = call->req;
    struct arena *a = req->arena;

    if (!strcasecmp(key, "aws:SourceIp")) {
        const char *addr = s3__client_addr(call, NULL);

        return addr && addr[0] ? one(vals, max, slice_cstr(addr)) : 0;
    }
    if (!strcasecmp(key, "aws:SecureTransport"))
        return one(vals, max, req->secure ? SLICE_LIT("true") : SLICE_LIT("false"));
    if (!strcasecmp(key, "aws:CurrentTime")) {
        time_t now = time(NULL);
        struct tm tm;
        char *s = arena_alloc(a, 32);

        gmtime_r(&now, &tm);
        strftime(s, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return one(vals, max, slice_cstr(s));
    }
    if (!strcasecmp(key, "aws:EpochTime"))
        return one(vals, max, slice_cstr(arena_printf(a, "%lld", (long long)time(NULL))));
    if (!strcasecmp(key, "aws:Referer"))
        return header_val(call, "referer", vals, max);
    if (!strcasecmp(key, "aws:UserAgent"))
        return header_val(call, "user-agent", vals, max);
    if (!strcasecmp(key, "s3:prefix"))
        return param_val(call, "prefix", vals, max);
    if (!strcasecmp(key, "s3:delimiter"))
        return param_val(call, "delimiter", vals, max);
    if (!strcasecmp(key, "s3:max-keys"))
        return param_val(call, "max-keys", vals, max);
    if (!strcasecmp(key, "s3:x-amz-acl"))
        return header_val(call, "x-amz-acl", vals, max);
    if (!strcasecmp(key, "s3:x-amz-server-side-encryption"))
        return header_val(call, "x-amz-server-side-encryption", vals, max);
    if (!strcasecmp(key, "s3:x-amz-copy-source"))
        return header_val(call, "x-amz-copy-source", vals, max);
    if (!strcasecmp(key, "s3:x-amz-metadata-directive"))
        return header_val(call, "x-amz-metadata-directive", vals, max);
    if (!strcasecmp(key, "s3:x-amz-storage-class"))
        return header_val(call, "x-amz-storage-class", vals, max);
    if (!strcasecmp(key, "s3:x-amz-content-sha256"))
        return header_val(call, "x-amz-content-sha256", vals, max);
    if (!strcasecmp(key, "s3:signatureversion")) {
        if (call->id->type == IAM_ANONYMOUS)
            return 0;
        return one(vals, max,
                   call->auth.seed_signature[0] || call->auth.region[0]
                       ? SLICE_LIT("AWS4-HMAC-SHA256")
                       : SLICE_LIT("AWS"));
    }
    if (!strcasecmp(key, "s3:authType")) {
        if (call->id->type == IAM_ANONYMOUS)
            return 0;
        if (call->op == S3_OP_POST_OBJECT)
            return one(vals, max, SLICE_LIT("POST"));
        return one(vals, max,
                   call->auth.presigned ? SLICE_LIT("REST-QUERY-STRING")
                                        : SLICE_LIT("REST-HEADER"));
    }
    if (!strncasecmp(key, "s3:RequestObjectTag/", 20)) {
        struct s3_tagset t = { 0 };
        struct slice v;

        if (!http_req_header(req, "x-amz-tagging", &v) ||
            s3_tagging_parse_query(a, slice_trim(v), S3_OBJECT_TAGS_MAX, &t, NULL) < 0)
            return 0;
        return tag_val(&t, key + 20, vals, max);
    }
    if (!strncasecmp(key, "s3:RequestObjectTagKeys", 23)) {
        struct s3_tagset t = { 0 };
        struct slice v;
        size_t i;

        if (!http_req_header(req, "x-amz-tagging", &v) ||
            s3_tagging_parse_query(a, slice_trim(v), S3_OBJECT_TAGS_MAX, &t, NULL) < 0)
            return 0;
        for (i = 0; i < t.n && i < max; i++)
            vals[i] = t.tags[i].key;
        return t.n;
    }
    if (!strncasecmp(key, "s3:ExistingObjectTag/", 21))
        return existing_tag(c, key + 21, vals, max);
    return 0;
}

/* ---- the front door ---- */

/* "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key", in the request's arena. */
static const char *
resource_arn(struct arena *a, const char *bucket, const char *key)
{
    if (!bucket)
        return NULL;
    if (!key)
        return arena_printf(a, "arn:aws:s3:::%s", bucket);
    return arena_printf(a, "arn:aws:s3:::%s/%s", bucket, key);
}

/*
 * As S3 combines them: an explicit Deny in any policy refuses; an Allow of
 * an identity policy or of the bucket policy admits (but RestrictPublicBuckets
 * keeps anonymous callers out of a public bucket policy); otherwise an ACL
 * grant admits, when the bucket's ownership leaves ACLs enabled.
 */
int
s3__check_access(struct s3_call *call, const char *action, const char *resource, const char *bucket,
                 const char *key)
{
    struct cond_ctx c = { .call = call, .bucket = bucket, .key = key };
    struct iam_request r = {
        .action = action,
        .resource = resource,
        .cond = request_cond,
        .cond_arg = &c,
    };
    struct pc_entry *bp = NULL;
    struct s3_bucket_access *ba = NULL;
    bool bucket_missing = false, public_policy;
    enum iam_decision d;
    int rc;

    if (!call->s3->iam || call->id->type == IAM_ROOT)
        return 0;
    if (bucket) {
        rc = bucket_policy_get(call, bucket, &bp);
        if (rc == -ERR_BUCKET_NOT_FOUND)
            bucket_missing = true;
        else if (rc < 0)
            return rc;
    }
    d = iam_evaluate(call->s3->iam, call->id, &r, bp ? bp->policy : NULL);
    public_policy = bp && iam_policy_is_public(bp->policy);
    pc_unref(bp);
    if (d == IAM_DENY)
        goto out_denied;
    if (bucket && !bucket_missing &&
        (d == IAM_NONE || (public_policy && call->id->type == IAM_ANONYMOUS))) {
        ba = arena_alloc(call->req->arena, sizeof(*ba));
        rc = s3__bucket_access_get(call, bucket, ba);
        if (rc < 0 && rc != -ERR_BUCKET_NOT_FOUND && rc != -ERR_NOT_FOUND)
            return rc;
        if (rc < 0)
            ba = NULL;
    }
    /* RestrictPublicBuckets: a public bucket policy admits only the deployment's callers */
    if (d == IAM_ALLOW && ba && ba->pab.restrict_public_buckets && public_policy &&
        call->id->type == IAM_ANONYMOUS)
        d = IAM_NONE;
    if (d == IAM_ALLOW)
        return 0;
    if (ba && s3__acl_allows(call, ba, action, bucket, key))
        return 0;
out_denied:
    /* anonymous callers learn that a bucket does not exist, as in S3 (nothing is done) */
    if (bucket_missing && call->id->type == IAM_ANONYMOUS && call->op != S3_OP_CREATE_BUCKET)
        return -ERR_BUCKET_NOT_FOUND;
    return -ERR_ACCESS_DENIED;
}

bool
s3__is_allowed(struct s3_call *call, const char *action, const char *bucket, const char *key)
{
    return s3__check_access(call, action, resource_arn(call->req->arena, bucket, key), bucket,
                            key) == 0;
}

int
s3__authorize(struct s3_call *call)
{
    const struct s3_authz *z = s3_op_authz(call->op);
    const char *resource = NULL, *bucket = NULL, *key = NULL;
    int rc;

    if (!z) {
        s3__send_error(call, -ERR_INTERNAL, NULL);
        return -ERR_INTERNAL;
    }
    switch (z->kind) {
    case S3_AUTHZ_PUBLIC:
    case S3_AUTHZ_HANDLER:
        return 0;
    case S3_AUTHZ_ANSWERED:
        if (call->id->type != IAM_ANONYMOUS)
            return 0;
        s3__send_error(call, -ERR_ACCESS_DENIED, NULL);
        return -ERR_ACCESS_DENIED;
    case S3_AUTHZ_ADMIN:
        break;
    case S3_AUTHZ_ALL:
        resource = "arn:aws:s3:::*";
        break;
    case S3_AUTHZ_BUCKET:
        bucket = call->bucket;
        resource = resource_arn(call->req->arena, bucket, NULL);
        break;
    case S3_AUTHZ_OBJECT:
        bucket = call->bucket;
        key = call->key;
        resource = resource_arn(call->req->arena, bucket, key);
        break;
    default:
        s3__send_error(call, -ERR_INTERNAL, NULL);
        return -ERR_INTERNAL;
    }
    rc = s3__check_access(call, z->action, resource, bucket, key);
    if (rc < 0)
        s3__send_error(call, rc, NULL);
    return rc;
}

/* ---- Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus ---- */

static void
put_policy_done(struct s3_call *call, int rc, struct slice body)
{
    struct iam_policy *p = NULL;
    struct buf msg = BUF_INIT;

    if (rc == 0 && body.len > IAM_POLICY_MAX)
        rc = -ERR_POLICY_TOO_LARGE;
    if (rc == 0)
        rc = iam_policy_parse(body, IAM_POLICY_BUCKET, &p, &msg);
    if (rc == 0 && iam_policy_is_public(p)) {
        struct s3_bucket_access ba;

        /* BlockPublicAccess: a public policy is refused (S3 answers 403 AccessDenied) */
        rc = s3__bucket_access_get(call, call->bucket, &ba);
        if (rc == 0 && ba.pab.block_public_policy)
            rc = -ERR_ACCESS_DENIED;
    }
    if (rc == 0)
        rc = objlayer_bucket_config_put(call->s3->ol, &call->ctx, call->bucket, "policy", body);
    iam_policy_free(p);
    if (rc == -ERR_NOT_FOUND)
        rc = -ERR_BUCKET_NOT_FOUND;
    if (rc < 0)
        s3__send_error(call, rc, msg.len ? msg.ptr : NULL);
    else
        http_resp_empty(call->req, 204);
    buf_release(&msg);
}

static void
get_policy(struct s3_call *call)
{
    struct buf doc = BUF_INIT;
    int rc = objlayer_bucket_config_get(call->s3->ol, &call->ctx, call->bucket, "policy", &doc);

    if (rc == -ERR_NOT_FOUND)
        rc = -ERR_NO_SUCH_BUCKET_POLICY;
    if (rc < 0) {
        s3__send_error(call, rc, NULL);
    } else {
        http_resp_header(call->req, "Content-Type", "application/json");
        http_resp_buf(call->req, 200, &doc);
    }
    buf_release(&doc);
}

/* S3 counts a public bucket ACL (where ACLs are enabled and not ignored) as public too. */
static bool
acl_is_public(struct s3_call *call)
{
    struct s3_bucket_access *ba = arena_alloc(call->req->arena, sizeof(*ba));

    return s3__bucket_access_get(call, call->bucket, ba) == 0 && s3__acls_enabled(ba) &&
           !ba->pab.ignore_public_acls && s3_acl_is_public(&ba->acl);
}

static void
get_policy_status(struct s3_call *call)
{
    struct pc_entry *e = NULL;
    struct buf x = BUF_INIT;
    int rc = bucket_policy_get(call, call->bucket, &e);

    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    xml_declaration(&x);
    xml_open_ns(&x, "PolicyStatus");
    xml_elem(&x, "IsPublic",
             (e && iam_policy_is_public(e->policy)) || acl_is_public(call) ? SLICE_LIT("true")
                                                                           : SLICE_LIT("false"));
    xml_close(&x, "PolicyStatus");
    pc_unref(e);
    s3__send_xml(call, &x);
    buf_release(&x);
}

void
s3__bucket_policy(struct s3_call *call)
{
    int rc;

    if (s3_bucket_name_check(slice_cstr(call->bucket)) < 0) {
        s3__send_error(call, -ERR_BUCKET_NOT_FOUND, NULL);
        return;
    }
    switch (call->op) {
    case S3_OP_GET_BUCKET_POLICY:
        get_policy(call);
        return;
    case S3_OP_GET_BUCKET_POLICY_STATUS:
        get_policy_status(call);
        return;
    case S3_OP_PUT_BUCKET_POLICY:
        s3__expect_small_body(call, put_policy_done);
        return;
    default:
        rc = objlayer_bucket_config_delete(call->s3->ol, &call->ctx, call->bucket, "policy");
        if (rc == -ERR_NOT_FOUND)
            rc = 0; /* S3: deleting a policy that is not there succeeds */
        if (rc < 0)
            s3__send_error(call, rc, NULL);
        else
            http_resp_empty(call->req, 204);
    }
}

/*
 * s3/internal.h: what the files of s3/ share: the s3 state, the per-request
 * call, the operation list and each file's entry points.
 */
#ifndef BASALT_S3_INTERNAL_H
#define BASALT_S3_INTERNAL_H

#include "util/base.h"

#include <stdatomic.h>
#include <time.h>

#include "auth/sigv4.h"
#include "http/http.h"
#include "iam/iam.h"
#include "object/objlayer.h"
#include "s3/s3.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/hdrs.h"
#include "util/slice.h"

#define S3_MAX_PUT_SIZE (5ull << 30) /* single PUT: 5 GiB */
#define S3_MAX_XML_BODY (1u << 20)   /* XML request bodies: 1 MiB */
#define S3_MAX_KEY_LEN 1024
#define S3_MAX_HEADER_BYTES (64 * 1024) /* all request headers, names and values */
#define S3_MAX_META_BYTES 2048          /* x-amz-meta-* names and values, as S3 */
#define S3_MAX_KEYS 1000
#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_OWNER_ID IAM_ROOT_CANONICAL_ID /* root's canonical user id */
#define S3_RESERVED_BUCKET "basalt"       /* /basalt/... is Basalt's own API */

/* A bucket's object ownership (acl.c). */
enum s3_ownership {
    S3_OWN_ENFORCED, /* BucketOwnerEnforced: ACLs disabled */
    S3_OWN_PREFERRED,
    S3_OWN_WRITER,
    S3_OWN_NONE, /* DeleteBucketOwnershipControls: behaves as ObjectWriter */
};

/* Virtual-host domains and path prefix (router.c), from struct s3_config. */
struct s3_addressing {
    char **domains; /* lowercase */
    size_t ndomains;
    char *path_prefix; /* "" for none, else "/storage" */
    size_t prefix_len;
};

struct s3 {
    struct objlayer *ol;
    char region[64];
    char *root_user;
    struct buf root_secret; /* zeroed on free */
    uint64_t max_memory;
    atomic_uint_fast64_t mem_used; /* reserved streaming memory; relaxed counter */
    struct s3_addressing addr;     /* read-only after s3_new */
    void (*peers)(void *arg, const char *what, struct buf *out); /* s3_config's */
    void (*rpc_stats)(void *arg, struct buf *out);               /* s3_config's */
    bool (*nodes_majority)(void *arg, bool without_this_node);   /* s3_config's */
    void (*peer_metrics)(void *arg,
                         void (*each)(void *ctx, const char *node, struct slice text,
                                      const char *err),
                         void *ctx); /* s3_config's */
    void *peers_arg;
    void (*service)(void *arg, bool restart); /* s3_config's */
    void *service_arg;
    char *node;                       /* this node's name in admin answers */
    struct s3_metrics *metrics;       /* metrics.c; NULL when the server keeps none (tests) */
    struct metrics *metrics_registry; /* s3_config's, served by the metrics endpoint */
    bool metrics_public;              /* the metrics endpoint answers without authentication */
    _Atomic int64_t metrics_revoked_before; /* metrics.c: the last revocation time read */
    struct audit *audit;                    /* s3_config's; NULL: no audit */
    bool audit_health;                      /* health checks audited too */
    struct iam *iam;                        /* s3_config's; NULL: root is the only identity */
    struct s3_policy_cache *policies;       /* authz.c: compiled bucket policies */
    enum s3_ownership default_ownership;    /* of new buckets (s3_config's) */
};

enum s3_op {
    S3_OP_NONE,
    S3_OP_HEALTH,
    S3_OP_ADMIN_HEAL,
    S3_OP_ADMIN_INFO,
    S3_OP_ADMIN_HEAL_STATUS,
    S3_OP_ADMIN_SERVICE_RESTART, /* POST /basalt/admin/v1/service/restart (admin.c) */
    S3_OP_ADMIN_SERVICE_STOP,    /* POST /basalt/admin/v1/service/stop */
    S3_OP_METRICS,               /* GET /basalt/v1/metrics/node */
    S3_OP_LIST_BUCKETS,
    S3_OP_CREATE_BUCKET,
    S3_OP_HEAD_BUCKET,
    S3_OP_DELETE_BUCKET,
    S3_OP_GET_BUCKET_LOCATION,
    S3_OP_LIST_OBJECTS,
    S3_OP_LIST_OBJECTS_V2,
    S3_OP_PUT_OBJECT,
    S3_OP_GET_OBJECT,
    S3_OP_HEAD_OBJECT,
    S3_OP_DELETE_OBJECT,
    S3_OP_DELETE_OBJECTS,
    S3_OP_COPY_OBJECT,
    S3_OP_POST_OBJECT, /* browser upload: multipart/form-data with a POST policy */
    S3_OP_CREATE_MULTIPART_UPLOAD,
    S3_OP_UPLOAD_PART,
    S3_OP_UPLOAD_PART_COPY,
    S3_OP_COMPLETE_MULTIPART_UPLOAD,
    S3_OP_ABORT_MULTIPART_UPLOAD,
    S3_OP_LIST_PARTS,
    S3_OP_LIST_MULTIPART_UPLOADS,
    S3_OP_GET_OBJECT_TAGGING,
    S3_OP_PUT_OBJECT_TAGGING,
    S3_OP_DELETE_OBJECT_TAGGING,
    S3_OP_GET_BUCKET_TAGGING,
    S3_OP_PUT_BUCKET_TAGGING,
    S3_OP_DELETE_BUCKET_TAGGING,
    S3_OP_GET_BUCKET_CORS,
    S3_OP_PUT_BUCKET_CORS,
    S3_OP_DELETE_BUCKET_CORS,
    S3_OP_CORS_PREFLIGHT, /* OPTIONS, answered from the bucket's CORS configuration */
    S3_OP_GET_OBJECT_ATTRIBUTES,
    S3_OP_GET_BUCKET_POLICY,
    S3_OP_PUT_BUCKET_POLICY,
    S3_OP_DELETE_BUCKET_POLICY,
    S3_OP_GET_BUCKET_POLICY_STATUS,
    S3_OP_GET_BUCKET_ACL,
    S3_OP_PUT_BUCKET_ACL,
    S3_OP_GET_OBJECT_ACL,
    S3_OP_PUT_OBJECT_ACL,
    S3_OP_GET_BUCKET_OWNERSHIP,
    S3_OP_PUT_BUCKET_OWNERSHIP,
    S3_OP_DELETE_BUCKET_OWNERSHIP,
    S3_OP_GET_PUBLIC_ACCESS_BLOCK,
    S3_OP_PUT_PUBLIC_ACCESS_BLOCK,
    S3_OP_DELETE_PUBLIC_ACCESS_BLOCK,
    S3_OP_ADMIN_IAM, /* /basalt/admin/v1/users|groups|policies|service-accounts (admin_iam.c) */
    S3_OP_AWS_QUERY, /* POST / with Action=...: the AWS IAM and STS query APIs (iam_api.c) */
    S3_OP_NOT_IMPLEMENTED,
    S3_OP_METHOD_NOT_ALLOWED,
    S3_OP_BAD_PATH,
    S3_OP__COUNT
};

/* A SHA-256 of the body checked against x-amz-content-sha256 while it streams. */
struct s3_payload {
    void *md_ctx;    /* EVP_MD_CTX, or NULL when the payload is unsigned */
    char expect[65]; /* lowercase hex */
};

/* One request, in the request's arena. */
struct s3_call {
    struct s3 *s3;
    struct http_req *req;
    enum s3_op op;
    char *bucket;   /* decoded; NULL when the path has none */
    char *key;      /* decoded; NULL when the path has none */
    size_t key_len; /* bytes of `key` (a %00 would be inside) */
    struct sigv4_auth auth;
    struct iam_identity *id;    /* who signed (authz.c); anonymous until authenticated */
    const char *sys_key;        /* Basalt's own API: the path under /basalt/ ("admin/v1/users") */
    struct slice session_token; /* x-amz-security-token (header, query or POST field) */
    struct s3_payload payload;
    bool rerouted;        /* authentication added headers (SigV2 presigned): route again */
    struct reqctx ctx;    /* passed to the object layer: request id, caller */
    void *state;          /* the operation's own state (s3__expect_small_body's while it reads) */
    void *handler_arg;    /* a handler's data kept across s3__expect_small_body (admin_iam.c) */
    bool sse_customer;    /* a GET or HEAD with valid SSE-C headers (router.c) */
    int err;              /* the error answered (s3__send_error_code), or 0 */
    const char *err_code; /* its S3 code when not the table's; static or in the arena */
};

/* ---- router.c ---- */
/* Splits and decodes the raw path: 0, or -ERR_BAD_REQUEST on a malformed escape. */
int s3_path_split(struct arena *a, struct slice raw_path, char **bucket, char **key,
                  size_t *key_len);
/* The operation of a request (method, decoded bucket and key, query, headers). */
enum s3_op s3_route(const struct http_req *req, const char *bucket, const char *key);
const char *s3_op_name(enum s3_op op);
/*
 * Addressing (s3.h): splits a request into bucket and key from its Host
 * header (virtual-host style) and raw path (prefix removed). 0; -ERR_BAD_REQUEST
 * on a malformed escape; -ERR_NOT_FOUND for a path outside the prefix.
 */
int s3_target_split(const struct s3_addressing *ad, struct arena *a, struct slice host,
                    struct slice raw_path, char **bucket, char **key, size_t *key_len);
/*
 * The raw path as a path-style request without the prefix would have it:
 * "/storage/b/k" -> "/b/k"; on a virtual host "/k" -> "/<bucket>/k" (the
 * bucket as in the Host; `*vhost` set). The raw path itself outside the prefix.
 */
struct slice s3_path_style_path(const struct s3_addressing *ad, struct arena *a, struct slice host,
                                struct slice raw_path, bool *vhost);
/*
 * Copies the addressing config (struct s3_config's domains and path_prefix)
 * s3_new and s3_free call these.
 */
void s3__router_init(struct s3 *s, const char *const *domains, size_t ndomains,
                     const char *path_prefix);
void s3__router_release(struct s3 *s);

/* ---- error.c ---- */
struct s3_error {
    unsigned status;
    const char *code;
    const char *message;
};
/* The table entry of `err` (either sign); InternalError for an unknown one. */
const struct s3_error *s3_error_lookup(int err);
/* Answers with the XML error document of `err`; `msg` overrides the default. */
void s3__send_error(struct s3_call *call, int err, const char *msg);
/* The same with an S3 code that differs from the table's (e.g. AuthorizationQueryParametersError).
 */
void s3__send_error_code(struct s3_call *call, int err, const char *code, const char *msg);
/* Appends the XML error document to `out`. */
void s3_error_xml(struct buf *out, const struct s3_error *e, const char *code, const char *msg,
                  const char *resource, const char *bucket, const char *key,
                  const char *request_id);

/* ---- names.c ---- */
/* 0, or -ERR_INVALID_BUCKET_NAME: the name of an existing bucket. */
int s3_bucket_name_check(struct slice name);
/* The same for CreateBucket, which also refuses ".-" and "-." (S3's newer rule). */
int s3_bucket_name_check_new(struct slice name);
/* 0, or -ERR_KEY_TOO_LONG, -ERR_INVALID_KEY (empty, invalid UTF-8, NUL). */
int s3_key_check(struct slice key);
bool s3_is_valid_utf8(struct slice s);

/* ---- auth.c ---- */
/* Verifies the request's signature (first call); 0, or an error already answered. */
int s3__authenticate(struct s3_call *call);
/*
 * Sets up payload verification from x-amz-content-sha256. 0, or
 * -ERR_NOT_IMPLEMENTED (STREAMING-*), -ERR_AUTH_MALFORMED (not a hash).
 */
int s3__payload_begin(struct s3_call *call);
void s3__payload_update(struct s3_call *call, const void *p, size_t n);
/* 0 if the body matched (or was unsigned), -ERR_SHA256_MISMATCH. */
int s3__payload_check(struct s3_call *call);

/* Memory budget: true if `n` bytes were reserved. */
bool s3__mem_reserve(struct s3 *s, uint64_t n);
void s3__mem_release(struct s3 *s, uint64_t n);

/* ---- operations (each answers through the call's request) ---- */
void s3__list_buckets(struct s3_call *call);
void s3__create_bucket(struct s3_call *call);
void s3__head_bucket(struct s3_call *call);
void s3__delete_bucket(struct s3_call *call);
void s3__get_bucket_location(struct s3_call *call);
void s3__put_object(struct s3_call *call);
void s3__get_object(struct s3_call *call); /* GET and HEAD */
void s3__delete_object(struct s3_call *call);
void s3__list_objects(struct s3_call *call);   /* V1 and V2 */
void s3__delete_objects(struct s3_call *call); /* delete_objects.c */
void s3__copy_object(struct s3_call *call);    /* copy.c */
void s3__post_object(struct s3_call *call);    /* post.c */
/*
 * auth.c: the secret of `access_key` and who it is (call->id: iam/'s
 * iam_authenticate, or the root credentials when the server has no IAM),
 * the sigv4_lookup_fn of header and query authentication and of the POST
 * policy's signature; `arg` is the struct s3_call. 0, or
 * -ERR_INVALID_ACCESS_KEY, -ERR_INVALID_TOKEN, -ERR_EXPIRED_TOKEN.
 */
int s3__lookup_secret(void *arg, struct slice access_key, struct buf *secret);
void s3__create_multipart(struct s3_call *call);      /* multipart.c */
void s3__upload_part(struct s3_call *call);           /* multipart.c (and UploadPartCopy) */
void s3__complete_multipart(struct s3_call *call);    /* multipart.c */
void s3__abort_multipart(struct s3_call *call);       /* multipart.c */
void s3__list_parts(struct s3_call *call);            /* multipart.c */
void s3__list_uploads(struct s3_call *call);          /* multipart.c */
void s3__object_tagging(struct s3_call *call);        /* tagging.c: Get/Put/DeleteObjectTagging */
void s3__bucket_tagging(struct s3_call *call);        /* tagging.c: Get/Put/DeleteBucketTagging */
void s3__bucket_cors(struct s3_call *call);           /* cors.c: Get/Put/DeleteBucketCors */
void s3__cors_preflight(struct s3_call *call);        /* cors.c: OPTIONS */
void s3__get_object_attributes(struct s3_call *call); /* attributes.c */
void s3__admin_heal(struct s3_call *call);
void s3__admin_info(struct s3_call *call);
void s3__admin_heal_status(struct s3_call *call);
void s3__admin_service_restart(struct s3_call *call);
void s3__admin_service_stop(struct s3_call *call);

/* ---- authz.c ---- */
enum s3_authz_kind {
    S3_AUTHZ_UNSET,    /* no entry: a bug (the table test fails) */
    S3_AUTHZ_PUBLIC,   /* anyone, unsigned too (health, CORS preflight) */
    S3_AUTHZ_ANSWERED, /* an error answered before anything is done; anonymous: AccessDenied */
    S3_AUTHZ_HANDLER,  /* the handler authorizes once it knows what (per key, the form's key) */
    S3_AUTHZ_ADMIN,    /* an admin: action, no resource */
    S3_AUTHZ_ALL,      /* resource arn:aws:s3:::* (ListBuckets) */
    S3_AUTHZ_BUCKET,   /* resource arn:aws:s3:::<bucket> */
    S3_AUTHZ_OBJECT,   /* resource arn:aws:s3:::<bucket>/<key> */
};
struct s3_authz {
    enum s3_authz_kind kind;
    const char *action; /* "s3:GetObject"; NULL for PUBLIC and ANSWERED */
};
/* The table entry of `op`, or NULL when it has none. */
const struct s3_authz *s3_op_authz(enum s3_op op);
void s3__authz_init(struct s3 *s);
void s3__authz_release(struct s3 *s);
/*
 * The front door: whether the caller may do the call's operation (table
 * above) with the bucket's policy. 0, or an error already answered
 * (AccessDenied; NoSuchBucket for an anonymous caller and a missing bucket).
 */
int s3__authorize(struct s3_call *call);
/* Whether the caller may do `action` on bucket/key (key NULL: the bucket); answers nothing. */
bool s3__is_allowed(struct s3_call *call, const char *action, const char *bucket, const char *key);
/*
 * The same with an explicit resource ARN (NULL: none, admin actions): 0,
 * -ERR_ACCESS_DENIED, -ERR_BUCKET_NOT_FOUND (anonymous, missing bucket) or
 * the object layer's error reading the bucket policy. Answers nothing.
 */
int s3__check_access(struct s3_call *call, const char *action, const char *resource,
                     const char *bucket, const char *key);
void
s3__bucket_policy(struct s3_call *call); /* Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus */

/* ---- acl.c: ACLs, object ownership, public access block ---- */
#define S3_ACL_MAX_GRANTS 100        /* S3's limit */
#define S3_ACL_HEADER "x-basalt-acl" /* an object's ACL when not the default (stored header) */
enum s3_acl_perm {                   /* one grant's permission; FULL_CONTROL is all four */
                   S3_PERM_READ = 1,
                   S3_PERM_WRITE = 2,
                   S3_PERM_READ_ACP = 4,
                   S3_PERM_WRITE_ACP = 8,
                   S3_PERM_FULL_CONTROL = 15,
};
enum s3_grantee {
    S3_GRANTEE_USER,  /* a canonical user id */
    S3_GRANTEE_EMAIL, /* a user name given as EmailAddress, until resolved to USER */
    S3_GRANTEE_ALL_USERS,
    S3_GRANTEE_AUTH_USERS,
    S3_GRANTEE_LOG_DELIVERY,
};
struct s3_grant {
    enum s3_grantee type;
    unsigned perm;
    char id[IAM_NAME_MAX + 1]; /* USER: canonical id; EMAIL: the user name; else "" */
};
struct s3_acl {
    char owner[IAM_CANONICAL_ID_LEN + 1];
    size_t n;
    struct s3_grant g[S3_ACL_MAX_GRANTS];
};
/* `a` = FULL_CONTROL to `owner`, the default ACL. */
void s3_acl_private(struct s3_acl *a, const char *owner);
/*
 * The canned ACL `name` for a resource owned by `owner` in a bucket owned by
 * `bucket_owner` (NULL: a bucket's own ACL). 0, or -ERR_INVALID_ARGUMENT.
 */
int s3_acl_canned(struct s3_acl *a, struct slice name, const char *owner, const char *bucket_owner);
/*
 * The x-amz-grant-* headers among `h` as an ACL of `owner` (grants only, as
 * S3: the owner keeps its implicit ACP rights). 1 if there was one, 0 if
 * none, -ERR_INVALID_ARGUMENT (a malformed value, an unknown group URI).
 */
int s3_acl_from_grant_headers(struct s3_acl *a, const struct http_header *h, size_t n,
                              const char *owner);
/* An AccessControlPolicy document: 0, -ERR_MALFORMED_ACL, -ERR_INVALID_ARGUMENT (group URI). */
int s3_acl_parse_xml(struct s3_acl *a, struct slice body);
/* The DisplayName of canonical id `id` (NULL: none), for s3_acl_xml. */
typedef const char *s3_acl_name_fn(void *arg, const char *id);
void s3_acl_xml(const struct s3_acl *a, s3_acl_name_fn *name, void *arg, struct buf *x);
/* The stored form ("OWNER u:ID:f a::1": permission bits in hex), and back (-ERR_CORRUPT). */
void s3_acl_encode(const struct s3_acl *a, struct buf *out);
int s3_acl_decode(struct s3_acl *a, struct slice s);
/* Grants to AllUsers or AuthenticatedUsers (S3's "public"). */
bool s3_acl_is_public(const struct s3_acl *a);
/* `owner` owns it and the only grants are to `owner`: the default, nothing to store. */
bool s3_acl_is_owner_only(const struct s3_acl *a, const char *owner);
/*
 * The permissions (enum s3_acl_perm bits) `a` gives `caller` (a canonical
 * id; NULL: anonymous); public grants ignored with `ignore_public`.
 */
unsigned s3_acl_perms(const struct s3_acl *a, const char *caller, bool ignore_public);
/* The permission an ACL grant needs for `action` (0: ACLs cannot grant it); `*object`: whose. */
unsigned s3_acl_action_perm(const char *action, bool *object);

int s3_ownership_parse(const char *s, enum s3_ownership *out);
const char *s3_ownership_name(enum s3_ownership o);

struct s3_pab {
    bool block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets;
};
/* What access decisions need of a bucket: from its snapshot documents, no I/O (once cached). */
struct s3_bucket_access {
    enum s3_ownership own;
    bool has_pab;
    struct s3_pab pab;
    struct s3_acl acl; /* the bucket's (its owner: acl.owner) */
};
/* 0 and `ba`; -ERR_BUCKET_NOT_FOUND or the object layer's error. */
int s3__bucket_access_get(struct s3_call *call, const char *bucket, struct s3_bucket_access *ba);
bool s3__acls_enabled(const struct s3_bucket_access *ba);
/*
 * Whether an ACL grant (the bucket's, or for object reads the object's:
 * read here) lets the caller do `action` on bucket/key. False when the
 * bucket's ACLs are disabled (BucketOwnerEnforced).
 */
bool s3__acl_allows(struct s3_call *call, const struct s3_bucket_access *ba, const char *action,
                    const char *bucket, const char *key);
/*
 * A new object's ACL (PutObject, CopyObject, CreateMultipartUpload) from
 * x-amz-acl / x-amz-grant-*, its owner by the bucket's ownership, checked
 * against it and the public access block: appends S3_ACL_HEADER to `h` when
 * not the default. 0, or an error to answer (-ERR_ACL_NOT_SUPPORTED,
 * -ERR_ACCESS_DENIED, -ERR_INVALID_REQUEST, -ERR_INVALID_ARGUMENT, ...).
 */
int s3__object_acl_header(struct s3_call *call, struct buf *h);
/*
 * CreateBucket: the new bucket's ACL from the request for ownership `own`,
 * its "acl" document into `acl_doc` (left empty for root's private ACL).
 * 0, -ERR_INVALID_BUCKET_ACL_WITH_OWNERSHIP, or a grant's error.
 */
int s3__bucket_acl_check_new(struct s3_call *call, enum s3_ownership own, struct buf *acl_doc);
void s3__acl(struct s3_call *call);                 /* Get/Put Bucket/Object ACL */
void s3__ownership_controls(struct s3_call *call);  /* Get/Put/DeleteBucketOwnershipControls */
void s3__public_access_block(struct s3_call *call); /* Get/Put/DeletePublicAccessBlock */

/* ---- admin.c ---- */
/* Answers 200 with `doc` as compact JSON (and a newline); takes the reference. */
typedef struct json_t json_t;
void s3__send_json(struct s3_call *call, json_t *doc);

/* ---- admin_iam.c ---- */
/* Whether `key` (the path under /basalt/) is one of the admin API's IAM endpoints. */
bool s3_admin_iam_path(const char *key);
/* The admin API's users, groups, policies and service accounts (JSON). */
void s3__admin_iam(struct s3_call *call);

/* ---- iam_api.c ---- */
/*
 * POST / with a form body (Action=CreateUser&...): the AWS IAM query API
 * (signed for service iam) and STS (AssumeRole, GetCallerIdentity; service
 * sts), answered in AWS's XML; each IAM action authorized as iam:<Action>.
 */
void s3__aws_query(struct s3_call *call);
/*
 * The error document of the query APIs (AWS's ErrorResponse: Type, Code,
 * Message, RequestId; the IAM or STS namespace from the credential scope),
 * with AWS's IAM codes and statuses for the iam/ errors (NoSuchEntity 404,
 * EntityAlreadyExists 409, ...); `code` overrides the symbol's code
 * (ValidationError, InvalidInput, InvalidAction...). error.c answers every
 * error of S3_OP_AWS_QUERY with it.
 */
void s3__aws_query_error(struct s3_call *call, int err, const char *code, const char *msg);

/* ---- audit.c ---- */
/*
 * The client's address: the peer's, or what a trusted proxy forwarded
 * (X-Forwarded-For, right-most untrusted; X-Real-IP); `*forwarded` (may be
 * NULL) the header as received from a trusted proxy, else NULL.
 */
const char *s3__client_addr(struct s3_call *call, const char **forwarded);
/* "read", "write", "delete", "list", "admin" or "health": the audit's class of `op`. */
const char *s3_op_class(enum s3_op op);
/* The request's audit record (metrics.c's completion hook calls it). */
void s3__audit_done(struct s3_call *call, const struct http_done *d);

/* ---- metrics.c ---- */
/*
 * Registers the layer's metrics in `m` (NULL: none are kept) and keeps
 * what counting needs in s->metrics. Start-up only.
 */
void s3__metrics_init(struct s3 *s, struct metrics *m);
void s3__metrics_release(struct s3 *s);
/* First thing of every request: counts it in flight and hooks its completion. */
void s3__metrics_begin(struct s3_call *call);
/*
 * The metrics endpoint before the signature check: answers when it is
 * public or the request carries a bearer token (403 if the token is not
 * good) and returns true; false to go on with the S3 signature check.
 */
bool s3__metrics_preauth(struct s3_call *call);
/*
 * The metrics endpoints once authenticated (call->sys_key says which):
 * v1/metrics/node, v1/metrics/cluster, and MinIO's v2/metrics/node|cluster|
 * bucket; Prometheus text, or OpenMetrics when Accept asks for it; and
 * POST v1/metrics/revoke (scrape tokens issued until now refused).
 */
void s3__metrics_node(struct s3_call *call);
/* Whether /bucket/key is one of MinIO's scrape paths (/minio/v2/metrics/node|cluster|bucket). */
bool s3__is_minio_metrics(const char *bucket, const char *key);

/* ---- sse.c ---- */
#define S3_SSE_MANAGED 1  /* a valid x-amz-server-side-encryption (SSE-S3, SSE-KMS) */
#define S3_SSE_CUSTOMER 2 /* valid SSE-C headers */
/*
 * The server-side encryption headers of request headers `h` as S3 checks
 * them (on a GET or HEAD when `read`): 0 if there are none, S3_SSE_MANAGED
 * or S3_SSE_CUSTOMER for a valid request, or -ERR_INVALID_ARGUMENT with the
 * S3 code (NULL: the table's) in `*code` and the message in `*msg`.
 */
int s3_sse_check(const struct http_header *h, size_t n, bool read, const char **code,
                 const char **msg);
/* The same for the x-amz-copy-source-server-side-encryption-customer-* headers. */
int s3_sse_check_copy_source(const struct http_header *h, size_t n, const char **code,
                             const char **msg);

/* ---- tagging.c ---- */
#define S3_OBJECT_TAGS_MAX 10
#define S3_BUCKET_TAGS_MAX 50
struct s3_tag {
    struct slice key, value; /* in the arena */
};
struct s3_tagset {
    struct s3_tag *tags;
    size_t n;
};
/*
 * A tag set from the query form ("k=v&k2=v2", form-encoded: x-amz-tagging)
 * or a Tagging XML document, into `a`, checked against the S3 limits with
 * at most `max` tags. 0 and `*out`; -ERR_INVALID_TAG (reason in `msg` if not
 * NULL), -ERR_MALFORMED_XML.
 */
int s3_tagging_parse_query(struct arena *a, struct slice q, unsigned max, struct s3_tagset *out,
                           struct buf *msg);
int s3_tagging_parse_xml(struct arena *a, struct slice body, unsigned max, struct s3_tagset *out,
                         struct buf *msg);
/* The query form (URI-encoded keys and values), as stored; the Tagging document (tags sorted by
 * key). */
void s3_tagging_encode(const struct s3_tagset *t, struct buf *out);
void s3_tagging_xml(const struct s3_tagset *t, struct buf *out);
/*
 * PutObject: a valid x-amz-tagging header becomes the stored header
 * "x-amz-tagging" appended to `headers` ("name\0value\0"). 0 (also when
 * absent), or -ERR_INVALID_TAG with the reason in `msg` (not answered).
 */
int s3__tagging_from_request(struct s3_call *call, struct buf *headers, struct buf *msg);
/* GET/HEAD: stored headers that are not returned as they are (x-amz-tagging, x-basalt-*). */
bool s3__is_internal_header(const char *name);
/* GET/HEAD: x-amz-tagging-count when the object has tags. */
void s3__tagging_count_header(struct http_req *req, const struct obj_info *info);
/*
 * Reads a small body (at most S3_MAX_XML_BODY; configuration documents),
 * checking the signed payload hash, Content-MD5 and an x-amz-checksum-<algo>
 * header when sent (-ERR_BAD_DIGEST, -ERR_CHECKSUM_MISMATCH), then calls
 * `done` with 0 or the error to answer. `done` must answer.
 */
typedef void s3_body_done_fn(struct s3_call *call, int rc, struct slice body);
void s3__expect_small_body(struct s3_call *call, s3_body_done_fn *done);
/*
 * The same for larger documents (DeleteObjects, CompleteMultipartUpload): at
 * most `max` bytes, and no x-amz-checksum-<algo> check (on
 * CompleteMultipartUpload that header is the object's checksum, not the
 * body's; DeleteObjects checks it with s3__body_checksum_check()).
 */
void s3__expect_small_body_max(struct s3_call *call, size_t max, s3_body_done_fn *done);
/*
 * The request's first x-amz-checksum-<algo> header against `body`: 1 if it
 * matches, 0 if the request has none, -ERR_CHECKSUM_MISMATCH.
 */
int s3__body_checksum_check(const struct http_req *req, struct slice body);

/* ---- cors.c ---- */
#define S3_CORS_MAX_HEADERS 8
struct s3_cors_config; /* immutable, refcounted */
/* 0 and a new config (one reference), or -ERR_MALFORMED_XML / -ERR_INVALID_REQUEST (+ msg). */
int s3_cors_parse(struct slice body, struct s3_cors_config **out, struct buf *errmsg);
void s3_cors_config_unref(struct s3_cors_config *c);
/* The canonical CORSConfiguration document. */
void s3_cors_xml(const struct s3_cors_config *c, struct buf *out);
/* One '*' in `pattern` matches any run of characters; case-insensitive. */
bool s3_cors_wildcard_match(const char *pattern, struct slice s);
/* Index of the first rule allowing origin, method and every requested header; -1 if none. */
ssize_t s3_cors_match(const struct s3_cors_config *c, struct slice origin, struct slice method,
                      struct slice req_headers);
/* The response headers for rule `rule` (-1: only Vary) into `out` (values in `a`); the count. */
size_t s3_cors_headers(struct arena *a, const struct s3_cors_config *c, ssize_t rule,
                       struct slice origin, bool preflight, struct slice req_headers,
                       struct http_header out[S3_CORS_MAX_HEADERS]);
/* Adds the CORS headers of the bucket's matching rule when the request has an Origin. */
void s3__cors_add_headers(struct s3_call *call);

/* ---- attributes.c ---- */
/* "STANDARD" -> false, "REDUCED_REDUNDANCY" -> true; else -ERR_INVALID_ARGUMENT. */
int s3_storage_class_parse(struct slice v, bool *reduced);
/*
 * PutObject (CopyObject, CreateMultipartUpload): the x-amz-storage-class
 * header. 0 with `*reduced` set (and, for REDUCED_REDUNDANCY, the stored
 * header appended to `headers` when not NULL); or -ERR_INVALID_STORAGE_CLASS
 * (400 InvalidStorageClass) for the caller to answer.
 */
int s3__storage_class_check(struct s3_call *call, bool *reduced, struct buf *headers);
/* The storage class of an object (listings, attributes): "STANDARD" unless stored otherwise. */
const char *s3__storage_class(const struct obj_info *info);
/* A part's stored checksum ("<algo>:<base64>") as its <Checksum<ALGO>> element. */
void s3__add_part_checksum(struct buf *x, const char *cs);
/* The GetObjectAttributesResponse document for the attribute bits of attributes.c. */
void s3_object_attributes_xml(struct buf *x, const struct obj_info *info, unsigned attrs,
                              uint64_t max_parts, uint64_t part_marker);

/* ---- copy.c ---- */
#define S3_MAX_COPY_SIZE (5ull << 30) /* S3 copies at most 5 GiB in one request */
/*
 * The largest source CopyObject and UploadPartCopy take: S3_MAX_COPY_SIZE.
 * Tests lower it to check the refusal without writing 5 GiB.
 */
extern uint64_t s3_copy_max_size;

/* ---- conditional.c ---- */
/*
 * If-None-Match: * and If-Match on a write (PutObject, CopyObject,
 * CompleteMultipartUpload): the condition for the object layer to check at the
 * commit, in the request's arena (`*out` NULL when the request has none). 0,
 * or -ERR_NOT_IMPLEMENTED (If-None-Match other than "*", as S3).
 */
int s3__write_conditions(struct s3_call *call, const struct obj_cond **out);
/*
 * If-Match on DeleteObject ("*": the key exists; else one of the ETags is the
 * current version's): the condition for objlayer_delete_if(), `*out` NULL when
 * the request has none. A failed condition deletes nothing: -ERR_PRECONDITION_FAILED,
 * or -ERR_KEY_NOT_FOUND when there is no current version. 0, or
 * -ERR_NOT_IMPLEMENTED for S3's directory-bucket conditions
 * (x-amz-if-match-last-modified-time, x-amz-if-match-size).
 */
int s3__delete_conditions(struct s3_call *call, const struct obj_cond **out);
/* The same condition from an If-Match value or a DeleteObjects <ETag>, allocated in `a`. */
const struct obj_cond *s3__if_match(struct arena *a, struct slice etags);

/* ---- multipart.c ---- */
/*
 * GET/HEAD with ?partNumber=N: the bytes of part N (206, Content-Range,
 * x-amz-mp-parts-count). 0 when the request has no partNumber, 1 when
 * `off`/`len`/`status` are set, or a negative error already answered.
 */
int s3__part_number_range(struct s3_call *call, const struct obj_info *info, uint64_t *off,
                          uint64_t *len, unsigned *status);

/* ---- copy.c ---- */
/* UploadPartCopy, from s3__upload_part (the part number and upload id checked there). */
void s3__upload_part_copy(struct s3_call *call, const char *upload_id, unsigned number);

/* ---- object.c: what every write of an object shares ---- */
/* The request's key is valid (s3_key_check); else answers the error and returns it. */
int s3__check_key(struct s3_call *call);
/*
 * The headers a new object stores, from the request (PutObject,
 * CreateMultipartUpload, CopyObject with REPLACE): Content-Type (default
 * binary/octet-stream) and the other stored headers, x-amz-meta-* (at most
 * 2 KiB, -ERR_METADATA_TOO_LARGE), x-amz-tagging (-ERR_INVALID_TAG with the
 * reason in `msg`), x-amz-storage-class (-ERR_INVALID_STORAGE_CLASS; sets
 * opts->reduced_redundancy), appended to `h` as "name\0value\0" pairs.
 */
int s3__object_headers(struct s3_call *call, struct buf *h, struct obj_put_opts *opts,
                       struct buf *msg);
/*
 * The stored headers and x-amz-meta-* of a new object from name/value pairs
 * (the request's headers, or a POST form's fields), appended to `h`:
 * Content-Type (default binary/octet-stream), Content-Encoding without
 * aws-chunked, the other stored headers, metadata names in lowercase.
 * -ERR_METADATA_TOO_LARGE past 2 KiB of metadata (not answered).
 */
int s3__stored_headers(struct arena *a, const struct http_header *pairs, size_t n, struct buf *h);
/*
 * The streaming body of an upload (PutObject, UploadPart). begin: the body
 * decoder from the request's headers (body.h), opts->size and Content-MD5
 * (into `md5`, which must outlive the upload), the memory reservation (503
 * SlowDown past the budget), released with the request; 0 and `*out`, or an
 * error for the caller to answer. stream: takes `put` and receives the body
 * into it, answering at the end (ETag and the body's checksum, or the error;
 * nothing is committed unless the whole body checked out).
 */
struct s3_upload;
int s3__upload_begin(struct s3_call *call, struct obj_put_opts *opts, uint8_t md5[16],
                     struct s3_upload **out);
/* The upload's body decoder (s3/body.h), between begin and stream. */
struct s3_body *s3__upload_body(struct s3_upload *u);
void s3__upload_stream(struct s3_upload *u, struct obj_put *put, bool part);

/* Answers 200 with an XML body (Content-Type application/xml); takes `body`'s bytes. */
void s3__send_xml(struct s3_call *call, struct buf *body);

/* ---- object.c: Range ---- */
/*
 * Parses a Range header against an object of `size` bytes. Returns 1 with
 * `*off`/`*len` for a satisfiable single range (206), 0 when the header must
 * be ignored (malformed or several ranges: 200 with the whole object, as S3
 * does), or -ERR_INVALID_RANGE (416).
 */
int s3_range_parse(struct slice hdr, uint64_t size, uint64_t *off, uint64_t *len);

/*
 * Evaluates the conditional headers of a GET or HEAD (If-Match,
 * If-None-Match, If-Modified-Since, If-Unmodified-Since; absent ones are
 * SLICE_NULL) against the object's ETag (hex, no quotes) and modification
 * time, as S3 does: 0 to answer normally, -ERR_PRECONDITION_FAILED (412) or
 * -ERR_NOT_MODIFIED (304). Unparsable dates are ignored.
 */
struct s3_conditions {
    struct slice if_match, if_none_match, if_modified_since, if_unmodified_since;
};
int s3_conditions_eval(const struct s3_conditions *c, const char *etag, time_t mtime);

/* ---- listing.c: the page logic, independent of HTTP and of the object layer ---- */
typedef int s3_list_src_fn(void *src, struct slice prefix, struct slice after, unsigned limit,
                           obj_list_fn *cb, void *cb_arg);

struct s3_list_params {
    struct slice prefix;
    struct slice delimiter;
    struct slice after; /* marker, start-after or the decoded continuation token */
    unsigned max_keys;
};

struct s3_list_item {
    char *key; /* in the arena */
    size_t key_len;
    uint64_t size;
    int64_t mtime_ns;
    char *etag;
    bool reduced;   /* storage class REDUCED_REDUNDANCY */
    bool is_prefix; /* a CommonPrefix */
};

struct s3_list_page {
    struct s3_list_item *items; /* keys and common prefixes, in order */
    size_t nitems;
    size_t nkeys, nprefixes;
    bool truncated;
    struct slice next; /* the last item (NextMarker / continuation token) when truncated */
};

/* Fills one page (see listing.c). Returns 0 or the source's error. */
int s3_list_page(struct arena *a, s3_list_src_fn *src, void *src_arg,
                 const struct s3_list_params *p, struct s3_list_page *out);

#endif

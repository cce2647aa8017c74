/*
 * iam/iam.h: identities and their rights (DESIGN.md "Identity and access").
 *
 * Identities: the root user (the server's credentials); users (a name, an
 * enabled flag, access keys, attached and inline policies, groups); groups
 * (members, attached and inline policies, an enabled flag); service accounts
 * (an access key that belongs to a user or to root, inherits its parent's
 * rights, may carry an inline policy that narrows them, may expire, and
 * stops working the moment its parent is disabled or deleted); temporary
 * credentials from STS AssumeRole (access key, secret, session token,
 * expiry; the caller's rights narrowed by an optional session policy).
 *
 * Storage: IAM data are system objects of the object layer ("iam/...",
 * erasure coded and healed like data; objlayer_sys_*). Secrets are stored
 * encrypted (AES-256-GCM) with a key derived from the root credentials, so
 * that no drive file holds one in clear. Every node serves authentication
 * and authorization from an immutable in-memory snapshot (no I/O per
 * request); a change writes its system object, publishes a new snapshot
 * here and calls the notify hook, and the other nodes re-read it
 * (iam_changed). Temporary credentials are not stored: the session token
 * carries them, sealed (AES-256-GCM) with a key derived from the root
 * credentials, so every node of the deployment (and no other deployment)
 * can open it.
 *
 * Names follow AWS: user, group and policy names 1-64 (policies 128)
 * characters of [A-Za-z0-9+=,.@_-]; access keys 3-128 characters of
 * [A-Za-z0-9+=,.@_-] (generated: 20 upper-case letters and digits, from a
 * CSPRNG), secrets 8-40 characters (generated: 40 of base64's alphabet).
 *
 * Errors: -ERR_NO_SUCH_ENTITY, -ERR_ENTITY_EXISTS, -ERR_DELETE_CONFLICT,
 * -ERR_INVAL (a name or value breaks the rules; the reason in `errmsg`),
 * -ERR_MALFORMED_POLICY / -ERR_POLICY_TOO_LARGE (iam/policy.h), -ERR_QUORUM
 * or another object-layer error when the change could not be stored
 * (nothing changed then).
 */
#ifndef BASALT_IAM_IAM_H
#define BASALT_IAM_IAM_H

#include "util/base.h"

#include "iam/policy.h"
#include "util/buf.h"
#include "util/reqctx.h"
#include "util/slice.h"

#define IAM_NAME_MAX 128
#define IAM_ACCESS_KEY_MAX 128
#define IAM_ARN_MAX 256
#define IAM_STS_MIN_SECONDS 900   /* AssumeRole DurationSeconds: 15 minutes .. */
#define IAM_STS_MAX_SECONDS 43200 /* .. 12 hours */
#define IAM_STS_DEFAULT_SECONDS 3600
#define IAM_SESSION_POLICY_MAX 2048 /* AWS: a session policy's plain text, in characters */
/*
 * Canonical user ids (S3 ACLs, Owner elements): 64 lowercase hex. Root's is
 * fixed (the owner id Basalt always reported); a user's is derived from its
 * unique id (iam_canonical_id_of), so it survives a rename and differs for a
 * user deleted and created again under the same name.
 */
#define IAM_CANONICAL_ID_LEN 64
#define IAM_ROOT_CANONICAL_ID "02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4"

struct iam;
struct objlayer; /* object/objlayer.h */

/* Tells the other nodes that `name` ("user/alice", "policy/readonly", ...) changed. */
typedef void iam_notify_fn(void *arg, const char *topic, const char *name);

struct iam_config {
    struct objlayer *ol; /* where IAM data live; NULL: in memory only (unit tests) */
    const char *root_user;
    const char *root_secret;
    iam_notify_fn *notify; /* NULL: a single node */
    void *notify_arg;
};

/*
 * Reads every IAM object and builds the first snapshot. 0 and `*out`, or
 * -ERR_CORRUPT with the reason in `errmsg` (an IAM object that cannot be
 * decrypted with these root credentials). When the data cannot be read now
 * (-ERR_QUORUM...), it still opens, serving only root (iam_is_loaded()
 * false) until an iam_reload() succeeds.
 */
int iam_open(const struct iam_config *cfg, struct iam **out, struct buf *errmsg);
void iam_close(struct iam *iam);
/* The deployment's account id: 12 digits derived from the root user name. */
const char *iam_account_id(const struct iam *iam);
/*
 * Another node changed `name` ("" or NULL: anything): read it again from
 * the drives and publish a new snapshot. Returns once the new snapshot is
 * published (0) or an error (the old one stays; the periodic reload retries).
 */
int iam_changed(struct iam *iam, const char *name);
/* Reads everything again (the safety net, and a node's start). */
int iam_reload(struct iam *iam);
/*
 * Whether the IAM data were read (iam_open or a later iam_reload): a node
 * that starts while too few drives answer serves only root until then.
 */
bool iam_is_loaded(struct iam *iam);

/* ---- authentication and authorization (request path: no I/O) ---- */

enum iam_principal_type {
    IAM_ANONYMOUS,
    IAM_ROOT,
    IAM_USER,
    IAM_SERVICE_ACCOUNT,
    IAM_ASSUMED_ROLE, /* STS temporary credentials */
};

/* Who signed a request; plain data, copied into the request. */
struct iam_identity {
    enum iam_principal_type type;
    char access_key[IAM_ACCESS_KEY_MAX + 1];
    char user[IAM_NAME_MAX + 1];   /* the user; the parent for service accounts and sessions */
    char userid[IAM_NAME_MAX + 1]; /* aws:userid: the user's unique id ("AIDA...") */
    char arn[IAM_ARN_MAX + 1];     /* the principal's ARN */
    int64_t expires;               /* unix seconds; 0: never */
    /* the canonical user id (ACLs): the user's, the parent's for service accounts and sessions */
    char canonical_id[IAM_CANONICAL_ID_LEN + 1];
    /*
     * A session's policy (from its token, so trusted), "" for none: carried
     * here so that iam_is_allowed needs nothing but the identity (compiled
     * once per distinct text and cached, not per request).
     */
    char session_policy[IAM_SESSION_POLICY_MAX + 1];
};

/* The anonymous identity (no signature). */
void iam_identity_anonymous(struct iam_identity *id);

/*
 * The secret of `access_key` for signature checking, and who it is.
 * `session_token` is the request's x-amz-security-token (SLICE_NULL when
 * absent): required for temporary credentials (the access key of a session
 * is checked against the token's), refused on others. 0 with `secret`
 * (appended; clear with buf_release_secure) and `*id`; -ERR_INVALID_ACCESS_KEY
 * (unknown key, disabled user or key, expired service account, a parent
 * disabled or deleted), -ERR_INVALID_TOKEN (a token that does not open with
 * this deployment's key, was tampered with, or names another key),
 * -ERR_EXPIRED_TOKEN.
 */
int iam_authenticate(struct iam *iam, struct slice access_key, struct slice session_token,
                     struct buf *secret, struct iam_identity *id);

/*
 * Whether `id` may do `r` (iam/policy.h; r->principal, principal_name and
 * account are filled here from `id`, and the keys aws:username, aws:userid,
 * aws:PrincipalType and aws:PrincipalAccount answered here before r->cond),
 * with `bucket_policy` (the bucket's, or NULL):
 *   root: always;
 *   anonymous: the bucket policy allows and does not deny;
 *   a user: (its own, its groups' (enabled ones) or the bucket policy
 *     allows) and none of them denies;
 *   a service account: its parent's answer, and (if it has an inline
 *     policy) that policy allows too; a service account of root: root's
 *     answer narrowed by the inline policy;
 *   a session: the same, narrowed by the session policy.
 * Reads the current snapshot (a user disabled since authentication is
 * refused here too).
 */
bool iam_is_allowed(struct iam *iam, const struct iam_identity *id, const struct iam_request *r,
                    const struct iam_policy *bucket_policy);
/*
 * The same as a tri-state, for S3's combination with ACLs: IAM_DENY (an
 * explicit Deny in any policy, a narrowing policy that does not allow, or
 * an identity no longer valid), IAM_ALLOW (iam_is_allowed's true), or
 * IAM_NONE (no policy says anything: an ACL grant may still allow).
 */
enum iam_decision iam_evaluate(struct iam *iam, const struct iam_identity *id,
                               const struct iam_request *r, const struct iam_policy *bucket_policy);

/* The canonical user id of the user whose unique id is `userid` (hex SHA-256). */
void iam_canonical_id_of(const char *userid, char out[IAM_CANONICAL_ID_LEN + 1]);
/*
 * An ACL grantee: the user (or root) whose canonical id is `canonical_id`,
 * or (canonical_id NULL) whose name is `name` (Basalt users have no email:
 * an S3 grant by EmailAddress names a user). 0 with the canonical id and the
 * name (the DisplayName) in the out-parameters (either may be NULL);
 * -ERR_NO_SUCH_ENTITY. Reads the snapshot; O(users) by id.
 */
int iam_canonical_resolve(struct iam *iam, const char *canonical_id, const char *name,
                          char id_out[IAM_CANONICAL_ID_LEN + 1], char name_out[IAM_NAME_MAX + 1]);

/* ---- management (admin API, AWS IAM API, STS; may block on drive I/O) ---- */

/* The canned policies: readonly, readwrite, writeonly, diagnostics, consoleAdmin. */
bool iam_policy_is_canned(const char *name);

struct iam_user_view {
    const char *name;
    const char *id;  /* unique id, "AIDA" + 17 characters, kept for the user's life */
    int64_t created; /* unix seconds */
    bool enabled;
    const char *const *policies; /* attached policy names */
    size_t npolicies;
    const char *const *inline_names; /* inline policy names */
    size_t ninline;
    const char *const *groups;
    size_t ngroups;
};
typedef int iam_user_fn(void *arg, const struct iam_user_view *u);

/*
 * Creates user `name`. With `access_key` (and `secret`, NULL: generated)
 * also an access key for it, MinIO's way (mc admin user add ALIAS KEY
 * SECRET: the user is named after its key). -ERR_ENTITY_EXISTS, -ERR_INVAL.
 */
int iam_user_create(struct iam *iam, const char *name, const char *access_key, const char *secret,
                    struct buf *errmsg);
/*
 * Deletes user `name`. With `force`, also its access keys, service accounts,
 * inline policies, attachments and memberships (MinIO); without, AWS's rule:
 * -ERR_DELETE_CONFLICT while it has any of them. -ERR_NO_SUCH_ENTITY.
 */
int iam_user_delete(struct iam *iam, const char *name, bool force, struct buf *errmsg);
int iam_user_set_enabled(struct iam *iam, const char *name, bool enabled);
/* Renames (UpdateUser NewUserName); -ERR_ENTITY_EXISTS, -ERR_NO_SUCH_ENTITY. */
int iam_user_rename(struct iam *iam, const char *name, const char *new_name, struct buf *errmsg);
/* `cb` for user `name` (-ERR_NO_SUCH_ENTITY), or for every user (name NULL) by name. */
int iam_user_list(struct iam *iam, const char *name, iam_user_fn *cb, void *arg);

struct iam_group_view {
    const char *name;
    const char *id;
    int64_t created;
    bool enabled;
    const char *const *members;
    size_t nmembers;
    const char *const *policies;
    size_t npolicies;
    const char *const *inline_names;
    size_t ninline;
};
typedef int iam_group_fn(void *arg, const struct iam_group_view *g);
int iam_group_create(struct iam *iam, const char *name, struct buf *errmsg);
/* With `force`, also drops members and policies; without, -ERR_DELETE_CONFLICT while it has any. */
int iam_group_delete(struct iam *iam, const char *name, bool force, struct buf *errmsg);
int iam_group_set_enabled(struct iam *iam, const char *name, bool enabled);
/* Adds or removes user `user` (-ERR_NO_SUCH_ENTITY for either missing). */
int iam_group_add_member(struct iam *iam, const char *group, const char *user);
int iam_group_remove_member(struct iam *iam, const char *group, const char *user);
int iam_group_list(struct iam *iam, const char *name, iam_group_fn *cb, void *arg);

/* Managed policies (canned ones included, which cannot be changed or deleted). */
struct iam_policy_view {
    const char *name;
    const char *doc; /* the JSON as given */
    int64_t created, updated;
    bool canned;
    size_t attachments; /* users and groups it is attached to */
};
typedef int iam_policy_fn(void *arg, const struct iam_policy_view *p);
/*
 * Creates or (with `replace`) replaces policy `name` from JSON `doc`.
 * -ERR_ENTITY_EXISTS (exists and !replace, or canned), -ERR_MALFORMED_POLICY
 * (reason in errmsg), -ERR_POLICY_TOO_LARGE.
 */
int iam_policy_put(struct iam *iam, const char *name, struct slice doc, bool replace,
                   struct buf *errmsg);
/* -ERR_DELETE_CONFLICT while attached (AWS); -ERR_NO_SUCH_ENTITY; canned: -ERR_INVAL. */
int iam_policy_delete(struct iam *iam, const char *name, struct buf *errmsg);
int iam_policy_list(struct iam *iam, const char *name, iam_policy_fn *cb, void *arg);

enum iam_entity { IAM_ENTITY_USER, IAM_ENTITY_GROUP };
/* Attaches or detaches managed policy `policy` (-ERR_NO_SUCH_ENTITY for either missing). */
int iam_policy_attach(struct iam *iam, const char *policy, enum iam_entity kind, const char *name);
int iam_policy_detach(struct iam *iam, const char *policy, enum iam_entity kind, const char *name);
/* Inline policies of a user or group (PutUserPolicy...): doc NULL on put is refused. */
int iam_inline_put(struct iam *iam, enum iam_entity kind, const char *name, const char *policy,
                   struct slice doc, struct buf *errmsg);
/* The document into `doc`; -ERR_NO_SUCH_ENTITY. */
int iam_inline_get(struct iam *iam, enum iam_entity kind, const char *name, const char *policy,
                   struct buf *doc);
int iam_inline_delete(struct iam *iam, enum iam_entity kind, const char *name, const char *policy);

/* Access keys: a user's own (AWS CreateAccessKey, at most 2 per user) or service accounts. */
struct iam_key_view {
    const char *access_key;
    const char *user; /* the owner (a service account's parent; root's name for root's) */
    bool service_account;
    bool enabled;
    int64_t created;
    int64_t expires;                /* 0: never */
    const char *name, *description; /* service accounts; "" when none */
    const char *policy;             /* a service account's inline policy; NULL: none */
};
typedef int iam_key_fn(void *arg, const struct iam_key_view *k);

struct iam_new_key {
    const char *user; /* owner; a service account of root: the root user's name */
    bool service_account;
    const char *access_key;         /* NULL: generated */
    const char *secret;             /* NULL: generated */
    const char *policy;             /* service accounts: inline policy JSON; NULL: none */
    int64_t expires;                /* service accounts: unix seconds; 0: never */
    const char *name, *description; /* service accounts; NULL: none */
};
/*
 * Creates a key. 0 with the access key and secret appended to `access_key`
 * and `secret` (the only time the secret is returned); -ERR_NO_SUCH_ENTITY
 * (no such user), -ERR_ENTITY_EXISTS (the access key is taken),
 * -ERR_LIMIT_EXCEEDED (a user's third own key), -ERR_INVAL, -ERR_MALFORMED_POLICY.
 */
int iam_key_create(struct iam *iam, const struct iam_new_key *nk, struct buf *access_key,
                   struct buf *secret, struct buf *errmsg);
int iam_key_delete(struct iam *iam, const char *access_key);
int iam_key_set_enabled(struct iam *iam, const char *access_key, bool enabled);
/*
 * Edits a service account: a new secret (NULL: kept), inline policy (NULL:
 * kept, "": removed), expiry (-1: kept), name/description (NULL: kept).
 */
int iam_key_edit(struct iam *iam, const char *access_key, const char *secret, const char *policy,
                 int64_t expires, const char *name, const char *description, struct buf *errmsg);
/*
 * Keys of `user` (NULL: all), or the one `access_key` (not NULL): `cb` for
 * each; `service_accounts` selects service accounts (true) or own keys.
 */
int iam_key_list(struct iam *iam, const char *user, const char *access_key, bool service_accounts,
                 iam_key_fn *cb, void *arg);

/* ---- STS ---- */
struct iam_sts_creds {
    char access_key[21];
    char secret[41];
    struct buf token; /* released by iam_sts_creds_release */
    int64_t expires;  /* unix seconds */
};
void iam_sts_creds_release(struct iam_sts_creds *c);
/*
 * AssumeRole as MinIO serves it: temporary credentials for `caller` (a user
 * or root; not a session or a service account: -ERR_ACCESS_DENIED) valid
 * `seconds` (IAM_STS_MIN_SECONDS .. IAM_STS_MAX_SECONDS, else -ERR_INVAL),
 * narrowed by `session_policy` (JSON, NULL: none; -ERR_MALFORMED_POLICY).
 */
int iam_sts_assume_role(struct iam *iam, const struct iam_identity *caller,
                        const char *session_policy, unsigned seconds, struct iam_sts_creds *out,
                        struct buf *errmsg);

#endif

/*
 * iam/internal.h: what the files of iam/ share.
 *
 *   iam.c     open/close, the snapshot, authentication, authorization
 *   manage.c  the management functions of iam.h (users, groups, policies, keys)
 *   store.c   records <-> JSON system objects (objlayer_sys_*, or memory)
 *   crypto.c  HKDF keys, AES-256-GCM sealing, generated keys and ids
 *   sts.c     session tokens (AssumeRole) and the session policy cache
 *   canned.c  the built-in policies
 *
 * Records are immutable once published and refcounted: a snapshot holds a
 * reference to each of its records, and a new snapshot shares every record
 * that did not change (a change copies the pointer arrays, not the records).
 */
#ifndef BASALT_IAM_INTERNAL_H
#define BASALT_IAM_INTERNAL_H

#include "util/base.h"

#include <pthread.h>
#include <stdatomic.h>

#include "iam/iam.h"
#include "iam/policy.h"
#include "util/buf.h"
#include "util/slice.h"

#define IAM_KEY_LEN 32          /* AES-256 */
#define IAM_USER_NAME_MAX 64    /* users and groups (AWS) */
#define IAM_POLICY_NAME_MAX 128 /* policies, inline policies (AWS) */
#define IAM_OWN_KEYS_MAX 2      /* a user's own access keys (AWS) */
#define IAM_GEN_ACCESS_KEY_LEN 20
#define IAM_GEN_SECRET_LEN 40
#define IAM_ID_LEN 21 /* "AIDA" / "AGPA" + 17 */

/* A compiled policy and its text; shared by the records that hold it. */
struct iam_cpol {
    _Atomic unsigned refs;
    struct iam_policy *p;
    size_t len;
    char doc[]; /* len bytes, then a NUL */
};

enum iam_rec_type { IAM_REC_ENT, IAM_REC_POL, IAM_REC_KEY };

/* The head of every record: refcount, type and the name it is sorted by. */
struct iam_rec {
    _Atomic unsigned refs;
    enum iam_rec_type type;
    char *name;
};

struct iam_strv {
    char **v;
    size_t n;
};

struct iam_inline {
    char *name;
    struct iam_cpol *pol;
};

/* A user or a group. */
struct iam_ent {
    struct iam_rec r;
    enum iam_entity kind;
    char id[IAM_ID_LEN + 1];
    int64_t created;
    bool enabled;
    struct iam_strv policies; /* attached managed policies, sorted */
    struct iam_strv members;  /* groups: member users, sorted */
    struct iam_inline *inl;   /* sorted by name */
    size_t ninline;
};

/* A managed policy (canned or stored). */
struct iam_prec {
    struct iam_rec r;
    struct iam_cpol *pol;
    int64_t created, updated;
    bool canned;
};

/* An access key: a user's own, or a service account. */
struct iam_krec {
    struct iam_rec r; /* name: the access key */
    char *secret;     /* in clear (memory only); zeroed when freed */
    char *user;       /* owner / parent */
    bool svc, enabled;
    int64_t created, expires;
    char *sa_name, *desc; /* "" when none */
    struct iam_cpol *pol; /* service accounts: inline policy, NULL: none */
};

struct iam_recv {
    struct iam_rec **v; /* sorted by name */
    size_t n, alloc;
};

struct iam_snap {
    _Atomic unsigned refs;
    struct iam_recv users, groups, pols, keys;
    /* derived (snap_finish): user i's groups are ug[ug_off[i] .. ug_off[i + 1]) */
    uint32_t *ug_off, *ug;
};

struct iam_sp_cache; /* sts.c */

struct iam {
    struct objlayer *ol;
    char *root_user;
    char *root_secret; /* zeroed when freed */
    char account[13];
    uint8_t secrets_key[IAM_KEY_LEN]; /* seals stored secrets */
    uint8_t sts_key[IAM_KEY_LEN];     /* seals session tokens */
    iam_notify_fn *notify;
    void *notify_arg;
    /*
     * Names of the changes made under `mu` ("user/alice\0key/AK\0"), told to
     * the other nodes once `mu` is released: a node never waits on another
     * while holding it (two nodes changing IAM at once would each wait for
     * the other's notification handler, which waits for their `mu`).
     */
    struct buf pending;

    atomic_bool loaded;      /* the snapshot holds what the drives hold (a load succeeded) */
    pthread_mutex_t mu;      /* serializes changes (management, iam_changed, reload) */
    pthread_mutex_t snap_mu; /* the pointer below, for the load and reference only */
    struct iam_snap *snap;

    struct iam_sp_cache *sp_cache;

    /* memory mode (no objlayer): the "stored" documents, under mu */
    struct iam_mem_doc *mem;
    size_t nmem;
    unsigned skip_writes, fail_writes; /* tests: iam__test_fail_writes */
};

/* ---- records (iam.c) ---- */
struct iam_cpol *iam__cpol_new(struct slice doc, struct iam_policy *p);
/* Parses `doc` as an identity policy into a new compiled policy; iam_policy_parse's errors. */
int iam__cpol_parse(struct slice doc, struct iam_cpol **out, struct buf *errmsg);
struct iam_cpol *iam__cpol_ref(struct iam_cpol *c);
void iam__cpol_unref(struct iam_cpol *c);
void iam__rec_unref(struct iam_rec *r);
struct iam_rec *iam__rec_ref(struct iam_rec *r);
void iam__strv_add(struct iam_strv *s, const char *str); /* keeps it sorted, no duplicates */
bool iam__strv_del(struct iam_strv *s, const char *str);
bool iam__strv_has(const struct iam_strv *s, const char *str);
void iam__strv_copy(struct iam_strv *dst, const struct iam_strv *src);
void iam__strv_release(struct iam_strv *s);
struct iam_ent *iam__ent_new(enum iam_entity kind, const char *name);
struct iam_ent *iam__ent_clone(const struct iam_ent *e);
struct iam_krec *iam__krec_new(const char *access_key);
struct iam_krec *iam__krec_clone(const struct iam_krec *k);
struct iam_prec *iam__prec_new(const char *name, struct iam_cpol *pol);
/* Sorted vectors of records: find, set (takes a new reference), remove. */
struct iam_rec *iam__recv_find(const struct iam_recv *v, const char *name);
void iam__recv_set(struct iam_recv *v, struct iam_rec *r);
void iam__recv_del(struct iam_recv *v, const char *name);
void iam__recv_release(struct iam_recv *v);

/* ---- snapshots (iam.c) ---- */
struct iam_snap *iam__snap_new(void);
/* A copy of `s` sharing its records (each referenced anew), not finished. */
struct iam_snap *iam__snap_copy(const struct iam_snap *s);
/* The current snapshot, a new reference. Any thread, no I/O. */
struct iam_snap *iam__snap_get(struct iam *iam);
void iam__snap_unref(struct iam_snap *s);
/* Computes the derived tables of `s` and makes it current. Call with iam->mu held. */
void iam__snap_publish(struct iam *iam, struct iam_snap *s);
/* Queues `kind/name` for the other nodes (iam_notify_fn); under `mu`. */
void iam__notify(struct iam *iam, const char *kind, const char *name);
/* Sends what iam__notify queued; called right after releasing `mu`, with what was taken. */
void iam__notify_send(struct iam *iam, struct buf *pending);

/* ---- storage (store.c); call with iam->mu held ---- */
/* The system object key of a record: "iam/users/<name>.json" ... */
void iam__obj_key(struct buf *out, const char *kind, const char *name);
int iam__save_ent(struct iam *iam, const struct iam_ent *e);
int iam__save_pol(struct iam *iam, const struct iam_prec *p);
int iam__save_key(struct iam *iam, const struct iam_krec *k);
int iam__remove(struct iam *iam, const char *kind, const char *name); /* absent: 0 */
/*
 * Reads one record ("user", "group", "policy", "key") into `*out` (NULL and
 * 0 when it is absent), or every record into a new snapshot (load_all).
 * A key whose secret does not open with this deployment's key: -ERR_CORRUPT
 * with the reason in errmsg.
 */
int iam__load_one(struct iam *iam, const char *kind, const char *name, struct iam_rec **out,
                  struct buf *errmsg);
int iam__load_all(struct iam *iam, struct iam_snap **out, struct buf *errmsg);
void iam__mem_release(struct iam *iam);
/* Tests: after `skip` more writes (put or delete), the next `n` fail with -ERR_QUORUM. */
void iam__test_fail_writes(struct iam *iam, unsigned skip, unsigned n);

/* ---- crypto.c ---- */
void iam__derive_key(const char *root_user, const char *root_secret, const char *info,
                     uint8_t out[IAM_KEY_LEN]);
/* Appends nonce (12) || ciphertext || tag (16) of `pt`, bound to `aad`. */
void iam__seal(const uint8_t key[IAM_KEY_LEN], struct slice aad, struct slice pt, struct buf *out);
/* The reverse; -ERR_CORRUPT if it does not open (other key, tampered, truncated). */
int iam__open(const uint8_t key[IAM_KEY_LEN], struct slice aad, struct slice sealed,
              struct buf *out);
/* `n` characters of `alphabet` (at most 256 characters), uniformly from the CSPRNG, and a NUL. */
void iam__random_string(char *out, size_t n, const char *alphabet);
void iam__base64url_encode(struct buf *out, const void *p, size_t n);
int iam__base64url_decode(struct buf *out, struct slice s);
extern const char iam__upper_digits[]; /* A-Z0-9 */
extern const char iam__base64_chars[]; /* A-Za-z0-9+/ */

/* ---- canned.c ---- */
struct iam_canned {
    const char *name;
    const char *doc;
};
extern const struct iam_canned iam__canned[];
extern const size_t iam__ncanned;

/* ---- sts.c ---- */
void iam__sp_cache_free(struct iam_sp_cache *c);
/*
 * Opens session token `token` for access key `ak`: 0 and the session's
 * secret (appended), identity and session policy text (appended to
 * `policy`, empty: none); -ERR_INVALID_TOKEN, -ERR_EXPIRED_TOKEN.
 */
int iam__sts_open(struct iam *iam, struct slice ak, struct slice token, struct buf *secret,
                  struct iam_identity *id, struct buf *policy);
/* The compiled session policy of `text` (cached), a new reference; NULL if it does not parse. */
struct iam_cpol *iam__session_policy(struct iam *iam, const char *text);

/* ---- validation (manage.c) ---- */
bool iam__is_valid_name(const char *s, size_t max);

#endif

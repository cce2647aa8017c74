/*
 * iam/sts.c: temporary credentials (STS AssumeRole), stateless.
 *
 * Nothing is stored: the session token carries the session, sealed with the
 * STS key (HKDF of the root credentials, info "basalt iam sts v1", another
 * key than the secrets'), so any node of the deployment opens it and no
 * other deployment can:
 *
 *   token = base64url(version (1 byte, 1) || nonce (12) || AES-256-GCM(json) || tag (16))
 *   json  = {"ak": access key, "sk": secret, "u": parent user, "pt": "root" | "user",
 *            "exp": unix seconds, "sp": session policy (absent: none)}
 *
 * with the version byte as associated data. The access key is "ASIA" and 16
 * characters of [A-Z0-9]; the secret 40 characters of base64's alphabet.
 * iam_authenticate opens the token on every request (about a microsecond
 * of AES-GCM and a small JSON parse) and checks that it names the request's
 * access key, has not expired, and that its parent still exists and is
 * enabled. Tokens cannot be revoked one by one; disabling or deleting the
 * parent (or changing the root credentials) ends them all.
 *
 * Session policies are compiled once per distinct text and kept in a small
 * direct-mapped cache keyed by the text's SHA-256 (many sessions share a
 * policy text; a miss compiles it again, nothing fails).
 */
#include "util/base.h"

#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "iam/internal.h"
#include "util/err.h"

#define TOKEN_VERSION 1
#define TOKEN_MAX 8192 /* characters of a token we could have made */
#define SP_CACHE_SLOTS 64

struct sp_slot {
    uint8_t hash[32];
    struct iam_cpol *pol; /* NULL: empty */
};

struct iam_sp_cache {
    pthread_mutex_t mu;
    struct sp_slot slots[SP_CACHE_SLOTS];
};

static pthread_mutex_t sp_init_mu = PTHREAD_MUTEX_INITIALIZER;

static struct iam_sp_cache *
sp_cache(struct iam *iam)
{
    struct iam_sp_cache *c = atomic_load_explicit((_Atomic(struct iam_sp_cache *) *)&iam->sp_cache,
                                                  memory_order_acquire);

    if (c)
        return c;
    pthread_mutex_lock(&sp_init_mu);
    if (!iam->sp_cache) {
        c = xcalloc(1, sizeof(*c));
        pthread_mutex_init(&c->mu, NULL);
        atomic_store_explicit((_Atomic(struct iam_sp_cache *) *)&iam->sp_cache, c,
                              memory_order_release);
    }
    c = iam->sp_cache;
    pthread_mutex_unlock(&sp_init_mu);
    return c;
}

void
iam__sp_cache_free(struct iam_sp_cache *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < SP_CACHE_SLOTS; i++)
        iam__cpol_unref(c->slots[i].pol);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

struct iam_cpol *
iam__session_policy(struct iam *iam, const char *text)
{
    struct iam_sp_cache *c = sp_cache(iam);
    uint8_t hash[32];
    unsigned len = 0;
    struct sp_slot *slot;
    struct iam_cpol *pol = NULL, *old = NULL;

    BUG_ON(EVP_Digest(text, strlen(text), hash, &len, EVP_sha256(), NULL) != 1);
    slot = &c->slots[hash[0] % SP_CACHE_SLOTS];
    pthread_mutex_lock(&c->mu);
    if (slot->pol && !memcmp(slot->hash, hash, sizeof(hash)))
        pol = iam__cpol_ref(slot->pol);
    pthread_mutex_unlock(&c->mu);
    if (pol)
        return pol;
    if (iam__cpol_parse(slice_cstr(text), &pol, NULL) < 0)
        return NULL; /* checked when the token was made: not reached */
    pthread_mutex_lock(&c->mu);
    old = slot->pol;
    slot->pol = iam__cpol_ref(pol);
    memcpy(slot->hash, hash, sizeof(hash));
    pthread_mutex_unlock(&c->mu);
    iam__cpol_unref(old);
    return pol;
}

void
iam_sts_creds_release(struct iam_sts_creds *c)
{
    secure_zero(c->secret, sizeof(c->secret));
    buf_release_secure(&c->token);
}

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

int
iam_sts_assume_role(struct iam *iam, const struct iam_identity *caller, const char *session_policy,
                    unsigned seconds, struct iam_sts_creds *out, struct buf *errmsg)
{
    static const uint8_t version = TOKEN_VERSION;
    struct iam_cpol *sp = NULL;
    struct iam_snap *s;
    struct buf sealed = BUF_INIT;
    json_t *o;
    char *text;
    char ak[21], sk[41];
    bool active;
    int rc;

    if (caller->type != IAM_ROOT && caller->type != IAM_USER) {
        if (errmsg)
            buf_adds(errmsg, "only users and the root user may assume a role");
        return -ERR_ACCESS_DENIED;
    }
    if (seconds < IAM_STS_MIN_SECONDS || seconds > IAM_STS_MAX_SECONDS) {
        if (errmsg)
            buf_addf(errmsg, "DurationSeconds must be between %d and %d", IAM_STS_MIN_SECONDS,
                     IAM_STS_MAX_SECONDS);
        return -ERR_INVAL;
    }
    if (session_policy && *session_policy) {
        if (strlen(session_policy) > IAM_SESSION_POLICY_MAX) {
            if (errmsg)
                buf_addf(errmsg, "a session policy is at most %d characters",
                         IAM_SESSION_POLICY_MAX);
            return -ERR_POLICY_TOO_LARGE;
        }
        rc = iam__cpol_parse(slice_cstr(session_policy), &sp, errmsg);
        if (rc < 0)
            return rc;
        iam__cpol_unref(sp);
    }
    s = iam__snap_get(iam);
    if (caller->type == IAM_ROOT) {
        active = !strcmp(caller->user, iam->root_user);
    } else {
        const struct iam_rec *r = iam__recv_find(&s->users, caller->user);

        active = r && container_of(r, struct iam_ent, r)->enabled;
    }
    iam__snap_unref(s);
    if (!active)
        return -ERR_ACCESS_DENIED;

    memcpy(ak, "ASIA", 4);
    iam__random_string(ak + 4, 16, iam__upper_digits);
    iam__random_string(sk, 40, iam__base64_chars);
    o = json_object();
    json_object_set_new(o, "ak", json_string(ak));
    json_object_set_new(o, "sk", json_string(sk));
    json_object_set_new(o, "u", json_string(caller->user));
    json_object_set_new(o, "pt", json_string(caller->type == IAM_ROOT ? "root" : "user"));
    json_object_set_new(o, "exp", json_integer(now_s() + (int64_t)seconds));
    if (session_policy && *session_policy)
        json_object_set_new(o, "sp", json_string(session_policy));
    text = json_dumps(o, JSON_COMPACT);
    BUG_ON(!text);
    buf_add(&sealed, &version, 1);
    iam__seal(iam->sts_key, slice_make(&version, 1), slice_cstr(text), &sealed);
    memset(out, 0, sizeof(*out));
    memcpy(out->access_key, ak, sizeof(ak));
    memcpy(out->secret, sk, sizeof(sk));
    out->expires = json_integer_value(json_object_get(o, "exp"));
    buf_init(&out->token, 0);
    iam__base64url_encode(&out->token, sealed.ptr, sealed.len);
    secure_zero(text, strlen(text));
    free(text);
    json_object_set_new(o, "sk", json_string(""));
    json_decref(o);
    secure_zero(sk, sizeof(sk));
    buf_release(&sealed);
    return 0;
}

int
iam__sts_open(struct iam *iam, struct slice ak, struct slice token, struct buf *secret,
              struct iam_identity *id, struct buf *policy)
{
    struct buf raw = BUF_INIT, plain = BUF_INIT;
    struct iam_identity tmp;
    struct iam_snap *s = NULL;
    json_t *o = NULL;
    const char *tak, *sk, *user, *pt, *sp;
    int64_t exp;
    int rc = -ERR_INVALID_TOKEN;

    if (token.len > TOKEN_MAX || iam__base64url_decode(&raw, token) < 0 || raw.len < 1 ||
        (uint8_t)raw.ptr[0] != TOKEN_VERSION)
        goto out;
    if (iam__open(iam->sts_key, slice_make(raw.ptr, 1), slice_make(raw.ptr + 1, raw.len - 1),
                  &plain) < 0)
        goto out;
    o = json_loadb(plain.ptr, plain.len, 0, NULL);
    tak = json_string_value(json_object_get(o, "ak"));
    sk = json_string_value(json_object_get(o, "sk"));
    user = json_string_value(json_object_get(o, "u"));
    pt = json_string_value(json_object_get(o, "pt"));
    sp = json_string_value(json_object_get(o, "sp"));
    exp = json_integer_value(json_object_get(o, "exp"));
    if (!tak || !sk || !user || !pt || !slice_eq_cstr(ak, tak))
        goto out; /* a token of another session */
    if (exp <= now_s()) {
        rc = -ERR_EXPIRED_TOKEN;
        goto out;
    }
    memset(&tmp, 0, sizeof(tmp));
    tmp.type = IAM_ASSUMED_ROLE;
    snprintf(tmp.access_key, sizeof(tmp.access_key), "%s", tak);
    snprintf(tmp.user, sizeof(tmp.user), "%s", user);
    snprintf(tmp.arn, sizeof(tmp.arn), "arn:aws:sts::%s:assumed-role/%s/%s", iam->account, user,
             tak);
    snprintf(tmp.session_policy, sizeof(tmp.session_policy), "%s", sp ? sp : "");
    tmp.expires = exp;
    rc = -ERR_INVALID_ACCESS_KEY; /* the parent is gone or disabled */
    if (!strcmp(pt, "root")) {
        if (strcmp(user, iam->root_user))
            goto out;
        snprintf(tmp.userid, sizeof(tmp.userid), "%s", iam->account);
    } else {
        const struct iam_rec *r;
        const struct iam_ent *u;

        s = iam__snap_get(iam);
        r = iam__recv_find(&s->users, user);
        u = r ? container_of(r, struct iam_ent, r) : NULL;
        if (!u || !u->enabled)
            goto out;
        snprintf(tmp.userid, sizeof(tmp.userid), "%s", u->id);
    }
    buf_adds(secret, sk);
    buf_adds(policy, tmp.session_policy);
    *id = tmp;
    rc = 0;
out:
    iam__snap_unref(s);
    if (o) {
        json_object_set_new(o, "sk", json_string(""));
        json_decref(o);
    }
    buf_release_secure(&plain);
    buf_release(&raw);
    return rc;
}

/*
 * iam/iam.c: the IAM store's records and snapshots, open/close/reload, and
 * the request path: iam_authenticate and iam_is_allowed.
 *
 * The snapshot. Every request authenticates and is authorized against the
 * current snapshot: sorted arrays of pointers to immutable, refcounted
 * records (users, groups, policies with their compiled form, keys with their
 * secrets in clear). A reader takes a reference (a short mutex around one
 * load and one atomic increment, as object/bucketmeta.c does) and drops it
 * at the end of the call; a writer (serialized by iam->mu) builds a new
 * snapshot that shares every unchanged record and swaps the pointer under
 * the same short mutex. Readers never wait for a writer's I/O, and writers
 * never wait for readers: a policy evaluation may call the caller's
 * condition callback, which may read an object's tags from the drives, so
 * a read lock held for the whole evaluation (pthread_rwlock) would let one
 * slow drive stall every IAM change, or, with writer preference, stall
 * every request behind a waiting writer.
 */
#include "util/base.h"

#include "iam/iam.h"

#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "iam/internal.h"
#include "obs/log.h"
#include "util/err.h"

/* ---- compiled policies and records ---- */

struct iam_cpol *
iam__cpol_new(struct slice doc, struct iam_policy *p)
{
    struct iam_cpol *c = xmalloc(sizeof(*c) + doc.len + 1);

    atomic_init(&c->refs, 1);
    c->p = p;
    c->len = doc.len;
    memcpy(c->doc, doc.ptr, doc.len);
    c->doc[doc.len] = '\0';
    return c;
}

int
iam__cpol_parse(struct slice doc, struct iam_cpol **out, struct buf *errmsg)
{
    struct iam_policy *p = NULL;
    int rc = iam_policy_parse(doc, IAM_POLICY_IDENTITY, &p, errmsg);

    if (rc < 0)
        return rc;
    *out = iam__cpol_new(doc, p);
    return 0;
}

struct iam_cpol *
iam__cpol_ref(struct iam_cpol *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void
iam__cpol_unref(struct iam_cpol *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    iam_policy_free(c->p);
    free(c);
}

void
iam__strv_add(struct iam_strv *s, const char *str)
{
    size_t i = 0;

    while (i < s->n && strcmp(s->v[i], str) < 0)
        i++;
    if (i < s->n && !strcmp(s->v[i], str))
        return;
    s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
    s->v[i] = xstrdup(str);
    s->n++;
}

bool
iam__strv_del(struct iam_strv *s, const char *str)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], str)) {
            free(s->v[i]);
            memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
            s->n--;
            return true;
        }
    return false;
}

bool
iam__strv_has(const struct iam_strv *s, const char *str)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], str))
            return true;
    return false;
}

void
iam__strv_copy(struct iam_strv *dst, const struct iam_strv *src)
{
    size_t i;

    dst->n = src->n;
    dst->v = src->n ? xmalloc(src->n * sizeof(*dst->v)) : NULL;
    for (i = 0; i < src->n; i++)
        dst->v[i] = xstrdup(src->v[i]);
}

void
iam__strv_release(struct iam_strv *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void
rec_init(struct iam_rec *r, enum iam_rec_type type, const char *name)
{
    atomic_init(&r->refs, 1);
    r->type = type;
    r->name = xstrdup(name);
}

struct iam_ent *
iam__ent_new(enum iam_entity kind, const char *name)
{
    struct iam_ent *e = xcalloc(1, sizeof(*e));

    rec_init(&e->r, IAM_REC_ENT, name);
    e->kind = kind;
    e->enabled = true;
    return e;
}

struct iam_ent *
iam__ent_clone(const struct iam_ent *e)
{
    struct iam_ent *c = iam__ent_new(e->kind, e->r.name);
    size_t i;

    memcpy(c->id, e->id, sizeof(c->id));
    c->created = e->created;
    c->enabled = e->enabled;
    iam__strv_copy(&c->policies, &e->policies);
    iam__strv_copy(&c->members, &e->members);
    c->ninline = e->ninline;
    c->inl = e->ninline ? xmalloc(e->ninline * sizeof(*c->inl)) : NULL;
    for (i = 0; i < e->ninline; i++) {
        c->inl[i].name = xstrdup(e->inl[i].name);
        c->inl[i].pol = iam__cpol_ref(e->inl[i].pol);
    }
    return c;
}

struct iam_krec *
iam__krec_new(const char *access_key)
{
    struct iam_krec *k = xcalloc(1, sizeof(*k));

    rec_init(&k->r, IAM_REC_KEY, access_key);
    k->secret = xstrdup("");
    k->user = xstrdup("");
    k->sa_name = xstrdup("");
    k->desc = xstrdup("");
    k->enabled = true;
    return k;
}

static void
set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = xstrdup(src ? src : "");
}

struct iam_krec *
iam__krec_clone(const struct iam_krec *k)
{
    struct iam_krec *c = iam__krec_new(k->r.name);

    set_str(&c->secret, k->secret);
    set_str(&c->user, k->user);
    set_str(&c->sa_name, k->sa_name);
    set_str(&c->desc, k->desc);
    c->svc = k->svc;
    c->enabled = k->enabled;
    c->created = k->created;
    c->expires = k->expires;
    c->pol = iam__cpol_ref(k->pol);
    return c;
}

struct iam_prec *
iam__prec_new(const char *name, struct iam_cpol *pol)
{
    struct iam_prec *p = xcalloc(1, sizeof(*p));

    rec_init(&p->r, IAM_REC_POL, name);
    p->pol = pol;
    return p;
}

struct iam_rec *
iam__rec_ref(struct iam_rec *r)
{
    atomic_fetch_add(&r->refs, 1);
    return r;
}

void
iam__rec_unref(struct iam_rec *r)
{
    size_t i;

    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    switch (r->type) {
    case IAM_REC_ENT: {
        struct iam_ent *e = container_of(r, struct iam_ent, r);

        iam__strv_release(&e->policies);
        iam__strv_release(&e->members);
        for (i = 0; i < e->ninline; i++) {
            free(e->inl[i].name);
            iam__cpol_unref(e->inl[i].pol);
        }
        free(e->inl);
        break;
    }
    case IAM_REC_POL:
        iam__cpol_unref(container_of(r, struct iam_prec, r)->pol);
        break;
    case IAM_REC_KEY: {
        struct iam_krec *k = container_of(r, struct iam_krec, r);

        secure_zero(k->secret, strlen(k->secret));
        free(k->secret);
        free(k->user);
        free(k->sa_name);
        free(k->desc);
        iam__cpol_unref(k->pol);
        break;
    }
    }
    free(r->name);
    free(r); /* the record head is the first member of each record type */
}

/* ---- sorted vectors of records ---- */

static ssize_t
recv_pos(const struct iam_recv *v, const char *name, bool *found)
{
    size_t lo = 0, hi = v->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v->v[mid]->name, name);

        if (c == 0) {
            *found = true;
            return (ssize_t)mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return (ssize_t)lo;
}

struct iam_rec *
iam__recv_find(const struct iam_recv *v, const char *name)
{
    bool found;
    ssize_t i = recv_pos(v, name, &found);

    return found ? v->v[i] : NULL;
}

void
iam__recv_set(struct iam_recv *v, struct iam_rec *r)
{
    bool found;
    size_t i = (size_t)recv_pos(v, r->name, &found);

    iam__rec_ref(r);
    if (found) {
        iam__rec_unref(v->v[i]);
        v->v[i] = r;
        return;
    }
    if (v->n == v->alloc) {
        v->alloc = v->alloc ? v->alloc * 2 : 16;
        v->v = xrealloc(v->v, v->alloc * sizeof(*v->v));
    }
    memmove(v->v + i + 1, v->v + i, (v->n - i) * sizeof(*v->v));
    v->v[i] = r;
    v->n++;
}

void
iam__recv_del(struct iam_recv *v, const char *name)
{
    bool found;
    size_t i = (size_t)recv_pos(v, name, &found);

    if (!found)
        return;
    iam__rec_unref(v->v[i]);
    memmove(v->v + i, v->v + i + 1, (v->n - i - 1) * sizeof(*v->v));
    v->n--;
}

void
iam__recv_release(struct iam_recv *v)
{
    size_t i;

    for (i = 0; i < v->n; i++)
        iam__rec_unref(v->v[i]);
    free(v->v);
    memset(v, 0, sizeof(*v));
}

static void
recv_copy(struct iam_recv *dst, const struct iam_recv *src)
{
    size_t i;

    dst->n = dst->alloc = src->n;
    dst->v = src->n ? xmalloc(src->n * sizeof(*dst->v)) : NULL;
    for (i = 0; i < src->n; i++)
        dst->v[i] = iam__rec_ref(src->v[i]);
}

/* ---- snapshots ---- */

struct iam_snap *
iam__snap_new(void)
{
    struct iam_snap *s = xcalloc(1, sizeof(*s));

    atomic_init(&s->refs, 1);
    return s;
}

struct iam_snap *
iam__snap_copy(const struct iam_snap *s)
{
    struct iam_snap *c = iam__snap_new();

    recv_copy(&c->users, &s->users);
    recv_copy(&c->groups, &s->groups);
    recv_copy(&c->pols, &s->pols);
    recv_copy(&c->keys, &s->keys);
    return c;
}

void
iam__snap_unref(struct iam_snap *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    iam__recv_release(&s->users);
    iam__recv_release(&s->groups);
    iam__recv_release(&s->pols);
    iam__recv_release(&s->keys);
    free(s->ug_off);
    free(s->ug);
    free(s);
}

struct iam_snap *
iam__snap_get(struct iam *iam)
{
    struct iam_snap *s;

    /* only the load and the increment: a writer may not drop the last reference between them */
    pthread_mutex_lock(&iam->snap_mu);
    s = iam->snap;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&iam->snap_mu);
    return s;
}

static struct iam_ent *
as_ent(struct iam_rec *r)
{
    return r ? container_of(r, struct iam_ent, r) : NULL;
}

static struct iam_krec *
as_key(struct iam_rec *r)
{
    return r ? container_of(r, struct iam_krec, r) : NULL;
}

static struct iam_prec *
as_pol(struct iam_rec *r)
{
    return r ? container_of(r, struct iam_prec, r) : NULL;
}

/* The canned policies are in every snapshot; a stored one of the same name never is. */
static void
add_canned(struct iam_snap *s)
{
    size_t i;

    for (i = 0; i < iam__ncanned; i++) {
        struct slice doc = slice_cstr(iam__canned[i].doc);
        struct iam_policy *p = NULL;
        struct buf err = BUF_INIT;
        struct iam_prec *pr;

        if (iam_policy_parse(doc, IAM_POLICY_IDENTITY, &p, &err) < 0)
            die("iam: canned policy %s does not parse: %s", iam__canned[i].name, err.ptr);
        buf_release(&err);
        pr = iam__prec_new(iam__canned[i].name, iam__cpol_new(doc, p));
        pr->canned = true;
        iam__recv_set(&s->pols, &pr->r);
        iam__rec_unref(&pr->r);
    }
}

/* The users' groups (from the groups' member lists), for authorization without a search. */
static void
snap_finish(struct iam_snap *s)
{
    size_t g, m, total = 0, i;
    uint32_t *fill;

    free(s->ug_off);
    free(s->ug);
    s->ug_off = xcalloc(s->users.n + 1, sizeof(*s->ug_off));
    for (g = 0; g < s->groups.n; g++) {
        const struct iam_ent *ge = as_ent(s->groups.v[g]);

        for (m = 0; m < ge->members.n; m++) {
            bool found;
            ssize_t u = recv_pos(&s->users, ge->members.v[m], &found);

            if (found) {
                s->ug_off[u + 1]++;
                total++;
            }
        }
    }
    for (i = 0; i < s->users.n; i++)
        s->ug_off[i + 1] += s->ug_off[i];
    s->ug = xmalloc((total ? total : 1) * sizeof(*s->ug));
    fill = xcalloc(s->users.n ? s->users.n : 1, sizeof(*fill));
    for (g = 0; g < s->groups.n; g++) {
        const struct iam_ent *ge = as_ent(s->groups.v[g]);

        for (m = 0; m < ge->members.n; m++) {
            bool found;
            ssize_t u = recv_pos(&s->users, ge->members.v[m], &found);

            if (found)
                s->ug[s->ug_off[u] + fill[u]++] = (uint32_t)g;
        }
    }
    free(fill);
}

void
iam__snap_publish(struct iam *iam, struct iam_snap *s)
{
    struct iam_snap *old;

    if (!iam__recv_find(&s->pols, iam__canned[0].name))
        add_canned(s);
    snap_finish(s);
    pthread_mutex_lock(&iam->snap_mu);
    old = iam->snap;
    iam->snap = s;
    pthread_mutex_unlock(&iam->snap_mu);
    iam__snap_unref(old);
}

void
iam__notify(struct iam *iam, const char *kind, const char *name)
{
    if (!iam->notify)
        return;
    buf_addf(&iam->pending, "%s/%s", kind, name);
    buf_addch(&iam->pending, '\0');
}

void
iam__notify_send(struct iam *iam, struct buf *pending)
{
    size_t off = 0;

    while (iam->notify && off < pending->len) {
        const char *name = pending->ptr + off;

        iam->notify(iam->notify_arg, "iam", name);
        off += strlen(name) + 1;
    }
    buf_release(pending);
}

/* ---- open, close, reload ---- */

static void
account_id(const char *root_user, char out[13])
{
    uint8_t md[32];
    unsigned len = 0;
    uint64_t v = 0;
    int i;

    BUG_ON(EVP_Digest(root_user, strlen(root_user), md, &len, EVP_sha256(), NULL) != 1);
    for (i = 0; i < 8; i++)
        v = v << 8 | md[i];
    snprintf(out, 13, "%012llu", (unsigned long long)(v % 1000000000000ULL));
}

int
iam_open(const struct iam_config *cfg, struct iam **out, struct buf *errmsg)
{
    struct iam *iam;
    struct iam_snap *s = NULL;
    int rc;

    if (!cfg->root_user || !*cfg->root_user || !cfg->root_secret || !*cfg->root_secret) {
        if (errmsg)
            buf_adds(errmsg, "iam: the root user and secret are required");
        return -ERR_INVAL;
    }
    iam = xcalloc(1, sizeof(*iam));
    buf_init(&iam->pending, 0);
    iam->ol = cfg->ol;
    iam->root_user = xstrdup(cfg->root_user);
    iam->root_secret = xstrdup(cfg->root_secret);
    iam->notify = cfg->notify;
    iam->notify_arg = cfg->notify_arg;
    account_id(cfg->root_user, iam->account);
    iam__derive_key(cfg->root_user, cfg->root_secret, "basalt iam secrets v1", iam->secrets_key);
    iam__derive_key(cfg->root_user, cfg->root_secret, "basalt iam sts v1", iam->sts_key);
    pthread_mutex_init(&iam->mu, NULL);
    pthread_mutex_init(&iam->snap_mu, NULL);
    iam->snap = iam__snap_new();
    pthread_mutex_lock(&iam->mu);
    rc = iam__load_all(iam, &s, errmsg);
    if (rc == 0)
        iam__snap_publish(iam, s);
    pthread_mutex_unlock(&iam->mu);
    atomic_store(&iam->loaded, rc == 0);
    if (rc == -ERR_CORRUPT) { /* a secret that does not decrypt: other root credentials */
        iam_close(iam);
        return rc;
    }
    if (rc < 0) {
        /*
         * Not readable now (a cluster node starting while too few others
         * answer): only root is served until a reload succeeds (the node's
         * maintenance retries), rather than a node that cannot start.
         */
        log_warn(&(struct log_ctx){ .event = "iam_load_failed" },
                 "iam: the IAM data cannot be read yet (%s); only the root user is served until "
                 "they can",
                 err_name(rc));
        if (errmsg)
            buf_clear(errmsg);
    }
    *out = iam;
    return 0;
}

void
iam_close(struct iam *iam)
{
    if (!iam)
        return;
    iam__snap_unref(iam->snap);
    iam__sp_cache_free(iam->sp_cache);
    iam__mem_release(iam);
    buf_release(&iam->pending);
    pthread_mutex_destroy(&iam->mu);
    pthread_mutex_destroy(&iam->snap_mu);
    secure_zero(iam->root_secret, strlen(iam->root_secret));
    secure_zero(iam->secrets_key, sizeof(iam->secrets_key));
    secure_zero(iam->sts_key, sizeof(iam->sts_key));
    free(iam->root_secret);
    free(iam->root_user);
    free(iam);
}

bool
iam_is_loaded(struct iam *iam)
{
    return atomic_load(&iam->loaded);
}

const char *
iam_account_id(const struct iam *iam)
{
    return iam->account;
}

int
iam_reload(struct iam *iam)
{
    struct buf err = BUF_INIT;
    struct iam_snap *s = NULL;
    int rc;

    pthread_mutex_lock(&iam->mu);
    rc = iam__load_all(iam, &s, &err);
    if (rc == 0)
        iam__snap_publish(iam, s);
    pthread_mutex_unlock(&iam->mu);
    if (rc == 0)
        atomic_store(&iam->loaded, true);
    if (rc < 0)
        log_warn(&(struct log_ctx){ .event = "iam_reload_failed" }, "iam: reload failed: %s (%s)",
                 err.len ? err.ptr : "", err_name(rc));
    buf_release(&err);
    return rc;
}

static const struct {
    const char *prefix; /* of a change's name */
    const char *kind;   /* iam__load_one's */
} change_kinds[] = {
    { "user/", "user" }, { "group/", "group" }, { "policy/", "policy" }, { "key/", "key" }
};

int
iam_changed(struct iam *iam, const char *name)
{
    struct buf err = BUF_INIT;
    struct iam_rec *r = NULL;
    struct iam_snap *s;
    const char *kind = NULL, *ename = NULL;
    size_t i;
    int rc;

    if (!name || !*name)
        return iam_reload(iam);
    for (i = 0; i < ARRAY_SIZE(change_kinds); i++)
        if (!strncmp(name, change_kinds[i].prefix, strlen(change_kinds[i].prefix))) {
            kind = change_kinds[i].kind;
            ename = name + strlen(change_kinds[i].prefix);
        }
    if (!kind || !*ename)
        return iam_reload(iam); /* a name we do not know: everything, to be safe */
    pthread_mutex_lock(&iam->mu);
    rc = iam__load_one(iam, kind, ename, &r, &err);
    if (rc == 0 && !(!strcmp(kind, "policy") && iam_policy_is_canned(ename))) {
        struct iam_recv *v;

        s = iam__snap_copy(iam->snap);
        v = !strcmp(kind, "user")    ? &s->users
            : !strcmp(kind, "group") ? &s->groups
            : !strcmp(kind, "key")   ? &s->keys
                                     : &s->pols;
        if (r)
            iam__recv_set(v, r);
        else
            iam__recv_del(v, ename);
        iam__snap_publish(iam, s);
    }
    pthread_mutex_unlock(&iam->mu);
    iam__rec_unref(r);
    if (rc < 0)
        log_warn(&(struct log_ctx){ .event = "iam_reload_failed" },
                 "iam: reading %s failed: %s (%s)", name, err.len ? err.ptr : "", err_name(rc));
    buf_release(&err);
    return rc;
}

/* ---- authentication ---- */

void
iam_identity_anonymous(struct iam_identity *id)
{
    memset(id, 0, sizeof(*id));
    id->type = IAM_ANONYMOUS;
}

static void
fill_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

static void
user_arn(const struct iam *iam, const char *user, char *out, size_t size)
{
    if (!strcmp(user, iam->root_user))
        snprintf(out, size, "arn:aws:iam::%s:root", iam->account);
    else
        snprintf(out, size, "arn:aws:iam::%s:user/%s", iam->account, user);
}

void
iam_canonical_id_of(const char *userid, char out[IAM_CANONICAL_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t i;

    BUG_ON(!c);
    BUG_ON(EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1);
    BUG_ON(EVP_DigestUpdate(c, "basalt canonical ", 17) != 1);
    BUG_ON(EVP_DigestUpdate(c, userid, strlen(userid)) != 1);
    BUG_ON(EVP_DigestFinal_ex(c, md, &len) != 1 || len != 32);
    EVP_MD_CTX_free(c);
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[IAM_CANONICAL_ID_LEN] = '\0';
}

/* The identity's canonical id: root's (also for root's service accounts and sessions), else the
 * user's. */
static void
fill_canonical(const struct iam *iam, struct iam_identity *id)
{
    if (!strcmp(id->user, iam->root_user))
        fill_str(id->canonical_id, sizeof(id->canonical_id), IAM_ROOT_CANONICAL_ID);
    else
        iam_canonical_id_of(id->userid, id->canonical_id);
}

int
iam_canonical_resolve(struct iam *iam, const char *canonical_id, const char *name,
                      char id_out[IAM_CANONICAL_ID_LEN + 1], char name_out[IAM_NAME_MAX + 1])
{
    char cid[IAM_CANONICAL_ID_LEN + 1];
    const struct iam_ent *u = NULL;
    struct iam_snap *s;
    size_t i;
    int rc = -ERR_NO_SUCH_ENTITY;

    if (canonical_id ? !strcmp(canonical_id, IAM_ROOT_CANONICAL_ID)
                     : !strcmp(name, iam->root_user)) {
        if (id_out)
            fill_str(id_out, IAM_CANONICAL_ID_LEN + 1, IAM_ROOT_CANONICAL_ID);
        if (name_out)
            fill_str(name_out, IAM_NAME_MAX + 1, iam->root_user);
        return 0;
    }
    s = iam__snap_get(iam);
    if (!canonical_id) {
        u = as_ent(iam__recv_find(&s->users, name));
    } else {
        for (i = 0; i < s->users.n && !u; i++) {
            iam_canonical_id_of(as_ent(s->users.v[i])->id, cid);
            if (!strcmp(cid, canonical_id))
                u = as_ent(s->users.v[i]);
        }
    }
    if (u) {
        if (id_out)
            iam_canonical_id_of(u->id, id_out);
        if (name_out)
            fill_str(name_out, IAM_NAME_MAX + 1, u->r.name);
        rc = 0;
    }
    iam__snap_unref(s);
    return rc;
}

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

/*
 * Whether `user` (a key's owner) can act now: root, or a user that exists
 * and is enabled; its id into `userid` (may be NULL).
 */
static bool
owner_is_active(const struct iam *iam, const struct iam_snap *s, const char *user, char *userid,
                size_t size)
{
    const struct iam_ent *u;

    if (!strcmp(user, iam->root_user)) {
        if (userid)
            fill_str(userid, size, iam->account);
        return true;
    }
    u = as_ent(iam__recv_find(&s->users, user));
    if (!u || !u->enabled)
        return false;
    if (userid)
        fill_str(userid, size, u->id);
    return true;
}

int
iam_authenticate(struct iam *iam, struct slice access_key, struct slice session_token,
                 struct buf *secret, struct iam_identity *id)
{
    struct iam_identity tmp;
    struct iam_snap *s;
    const struct iam_krec *k;
    char ak[IAM_ACCESS_KEY_MAX + 1];
    int rc = 0;

    if (access_key.len == 0 || access_key.len > IAM_ACCESS_KEY_MAX)
        return -ERR_INVALID_ACCESS_KEY;
    memcpy(ak, access_key.ptr, access_key.len);
    ak[access_key.len] = '\0';
    memset(&tmp, 0, sizeof(tmp));
    if (session_token.len) {
        struct buf policy = BUF_INIT;

        rc = iam__sts_open(iam, access_key, session_token, secret, id, &policy);
        buf_release(&policy);
        if (rc == 0)
            fill_canonical(iam, id);
        return rc;
    }
    fill_str(tmp.access_key, sizeof(tmp.access_key), ak);
    if (!strcmp(ak, iam->root_user)) {
        tmp.type = IAM_ROOT;
        fill_str(tmp.user, sizeof(tmp.user), iam->root_user);
        fill_str(tmp.userid, sizeof(tmp.userid), iam->account);
        user_arn(iam, iam->root_user, tmp.arn, sizeof(tmp.arn));
        fill_canonical(iam, &tmp);
        buf_adds(secret, iam->root_secret);
        *id = tmp;
        return 0;
    }
    s = iam__snap_get(iam);
    k = as_key(iam__recv_find(&s->keys, ak));
    if (!k || !k->enabled || (k->expires && k->expires <= now_s()) ||
        !owner_is_active(iam, s, k->user, tmp.userid, sizeof(tmp.userid))) {
        rc = -ERR_INVALID_ACCESS_KEY;
        goto out_unref;
    }
    tmp.type = k->svc ? IAM_SERVICE_ACCOUNT : IAM_USER;
    fill_str(tmp.user, sizeof(tmp.user), k->user);
    user_arn(iam, k->user, tmp.arn, sizeof(tmp.arn));
    tmp.expires = k->expires;
    fill_canonical(iam, &tmp);
    buf_adds(secret, k->secret);
    *id = tmp;
out_unref:
    iam__snap_unref(s);
    return rc;
}

/* ---- authorization ---- */

/* The identity's condition keys, answered before the caller's. */
struct cond_ctx {
    const struct iam_identity *id;
    const char *ptype;
    const char *account;
    iam_cond_fn *next;
    void *next_arg;
};

static size_t
one_value(const char *v, struct slice *vals, size_t max)
{
    if (!v || !*v)
        return 0;
    if (max)
        vals[0] = slice_cstr(v);
    return 1;
}

static size_t
identity_cond(void *arg, const char *key, struct slice *vals, size_t max)
{
    const struct cond_ctx *c = arg;

    if (!strcasecmp(key, "aws:username"))
        return c->id->type == IAM_ANONYMOUS ? 0 : one_value(c->id->user, vals, max);
    if (!strcasecmp(key, "aws:userid"))
        return c->id->type == IAM_ANONYMOUS ? 0 : one_value(c->id->userid, vals, max);
    if (!strcasecmp(key, "aws:PrincipalType"))
        return one_value(c->ptype, vals, max);
    if (!strcasecmp(key, "aws:PrincipalAccount"))
        return c->id->type == IAM_ANONYMOUS ? 0 : one_value(c->account, vals, max);
    return c->next ? c->next(c->next_arg, key, vals, max) : 0;
}

/* Accumulates decisions: any Deny wins, else any Allow. */
struct verdict {
    bool allow, deny;
};

static void
eval_into(struct verdict *v, const struct iam_policy *p, const struct iam_request *r)
{
    enum iam_decision d;

    if (!p || v->deny)
        return;
    d = iam_policy_eval(p, r);
    if (d == IAM_DENY)
        v->deny = true;
    else if (d == IAM_ALLOW)
        v->allow = true;
}

static void
eval_ent(struct verdict *v, const struct iam_snap *s, const struct iam_ent *e,
         const struct iam_request *r)
{
    size_t i;

    for (i = 0; i < e->policies.n; i++) {
        const struct iam_prec *p = as_pol(iam__recv_find(&s->pols, e->policies.v[i]));

        if (p)
            eval_into(v, p->pol->p, r);
    }
    for (i = 0; i < e->ninline; i++)
        eval_into(v, e->inl[i].pol->p, r);
}

/* The answer for the user or root `user` itself (its policies, its groups', the bucket's). */
static enum iam_decision
user_decision(struct iam *iam, const struct iam_snap *s, const char *user, const char *userid,
              const struct iam_request *r, const struct iam_policy *bucket_policy)
{
    struct verdict v = { 0 };
    bool found;
    ssize_t ui;
    const struct iam_ent *u;
    uint32_t i;

    if (!strcmp(user, iam->root_user))
        return IAM_ALLOW;
    ui = recv_pos(&s->users, user, &found);
    if (!found)
        return IAM_DENY;
    u = as_ent(s->users.v[ui]);
    if (!u->enabled || (userid && *userid && strcmp(userid, u->id)))
        return IAM_DENY; /* disabled since, or deleted and created again */
    eval_ent(&v, s, u, r);
    for (i = s->ug_off[ui]; i < s->ug_off[ui + 1]; i++) {
        const struct iam_ent *g = as_ent(s->groups.v[s->ug[i]]);

        if (g->enabled)
            eval_ent(&v, s, g, r);
    }
    eval_into(&v, bucket_policy, r);
    return v.deny ? IAM_DENY : v.allow ? IAM_ALLOW : IAM_NONE;
}

/*
 * A narrowing policy (a service account's inline policy, a session policy)
 * applied to the parent's answer: it never adds rights; what it does not
 * allow is denied, even to an ACL grant (AWS: session policies limit
 * resource-based grants too).
 */
static enum iam_decision
narrow(enum iam_decision parent, const struct iam_policy *p, const struct iam_request *r)
{
    if (parent == IAM_DENY || !p)
        return parent;
    return iam_policy_eval(p, r) == IAM_ALLOW ? parent : IAM_DENY;
}

enum iam_decision
iam_evaluate(struct iam *iam, const struct iam_identity *id, const struct iam_request *r,
             const struct iam_policy *bucket_policy)
{
    static const char *const ptypes[] = {
        [IAM_ANONYMOUS] = "Anonymous",
        [IAM_ROOT] = "Account",
        [IAM_USER] = "User",
        [IAM_SERVICE_ACCOUNT] = "User",
        [IAM_ASSUMED_ROLE] = "AssumedRole",
    };
    struct cond_ctx cc = {
        .id = id, .account = iam->account, .next = r->cond, .next_arg = r->cond_arg
    };
    struct iam_request req = *r;
    struct iam_snap *s;
    char parent_arn[IAM_ARN_MAX + 1];
    enum iam_decision d = IAM_DENY;

    if (id->type == IAM_ROOT)
        return IAM_ALLOW;
    cc.ptype = (unsigned)id->type < ARRAY_SIZE(ptypes) ? ptypes[id->type] : NULL;
    req.cond = identity_cond;
    req.cond_arg = &cc;
    req.account = iam->account;
    if (id->type == IAM_ANONYMOUS) {
        req.principal = NULL;
        req.principal_name = NULL;
        return bucket_policy ? iam_policy_eval(bucket_policy, &req) : IAM_NONE;
    }
    if (id->expires && id->expires <= now_s())
        return IAM_DENY;
    /* the parent's rights: evaluated as the parent (its ARN, for bucket policies' Principal) */
    user_arn(iam, id->user, parent_arn, sizeof(parent_arn));
    req.principal = parent_arn;
    req.principal_name = id->user;
    s = iam__snap_get(iam);
    switch (id->type) {
    case IAM_USER: {
        const struct iam_krec *k = as_key(iam__recv_find(&s->keys, id->access_key));

        if (k && k->enabled && !k->svc && !strcmp(k->user, id->user))
            d = user_decision(iam, s, id->user, id->userid, &req, bucket_policy);
        break;
    }
    case IAM_SERVICE_ACCOUNT: {
        const struct iam_krec *k = as_key(iam__recv_find(&s->keys, id->access_key));

        if (k && k->enabled && k->svc && !strcmp(k->user, id->user) &&
            (!k->expires || k->expires > now_s()))
            d = narrow(user_decision(iam, s, id->user, id->userid, &req, bucket_policy),
                       k->pol ? k->pol->p : NULL, &req);
        break;
    }
    case IAM_ASSUMED_ROLE: {
        struct iam_cpol *sp = NULL;

        d = user_decision(iam, s, id->user, id->userid, &req, bucket_policy);
        if (d != IAM_DENY && id->session_policy[0]) {
            sp = iam__session_policy(iam, id->session_policy);
            d = sp ? narrow(d, sp->p, &req) : IAM_DENY;
            iam__cpol_unref(sp);
        }
        break;
    }
    default:
        break;
    }
    iam__snap_unref(s);
    return d;
}

bool
iam_is_allowed(struct iam *iam, const struct iam_identity *id, const struct iam_request *r,
               const struct iam_policy *bucket_policy)
{
    return iam_evaluate(iam, id, r, bucket_policy) == IAM_ALLOW;
}

/*
 * iam/manage.c: the management functions of iam.h (admin API, AWS IAM API).
 *
 * Each change runs under iam->mu: it checks against the current snapshot,
 * writes the system objects it changes (store.c), and only then publishes a
 * new snapshot with what was written, so a failed write changes nothing
 * that readers see. A change of several objects (a forced delete, a rename)
 * writes them one by one, the entity itself last for a delete and first for
 * a rename; if one write fails, what was written is published (the snapshot
 * matches the drives) and the error returned, and the operation can be
 * repeated.
 */
#include "util/base.h"

#include "iam/iam.h"

#include <stdarg.h>
#include <time.h>

#include "iam/internal.h"
#include "util/err.h"

#define SA_NAME_MAX 32  /* MinIO's service account name */
#define SA_DESC_MAX 256 /* and description */

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

static void say(struct buf *errmsg, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void
say(struct buf *errmsg, const char *fmt, ...)
{
    va_list ap;

    if (!errmsg)
        return;
    va_start(ap, fmt);
    buf_vaddf(errmsg, fmt, ap);
    va_end(ap);
}

bool
iam__is_valid_name(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0, i;

    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("+=,.@_-", c)))
            return false;
    }
    return true;
}

static int
check_name(const char *what, const char *s, size_t max, struct buf *errmsg)
{
    if (iam__is_valid_name(s, max))
        return 0;
    say(errmsg, "%s name must be 1 to %zu characters of A-Z a-z 0-9 + = , . @ _ -", what, max);
    return -ERR_INVAL;
}

static int
check_secret(const char *s, struct buf *errmsg)
{
    size_t n = strlen(s), i;

    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            break;
    if (n >= 8 && n <= 40 && i == n)
        return 0;
    say(errmsg, "a secret key must be 8 to 40 printable characters without spaces");
    return -ERR_INVAL;
}

static struct iam_ent *
find_ent(const struct iam_snap *s, enum iam_entity kind, const char *name)
{
    const struct iam_recv *v = kind == IAM_ENTITY_USER ? &s->users : &s->groups;
    struct iam_rec *r = name ? iam__recv_find(v, name) : NULL;

    return r ? container_of(r, struct iam_ent, r) : NULL;
}

static struct iam_krec *
find_key(const struct iam_snap *s, const char *ak)
{
    struct iam_rec *r = ak ? iam__recv_find(&s->keys, ak) : NULL;

    return r ? container_of(r, struct iam_krec, r) : NULL;
}

static struct iam_prec *
find_pol(const struct iam_snap *s, const char *name)
{
    struct iam_rec *r = name ? iam__recv_find(&s->pols, name) : NULL;

    return r ? container_of(r, struct iam_prec, r) : NULL;
}

static struct iam_recv *
ent_vec(struct iam_snap *s, enum iam_entity kind)
{
    return kind == IAM_ENTITY_USER ? &s->users : &s->groups;
}

static const char *
ent_kind(enum iam_entity kind)
{
    return kind == IAM_ENTITY_USER ? "user" : "group";
}

/* Writes `e` and sets it in `s`. */
static int
put_ent(struct iam *iam, struct iam_snap *s, struct iam_ent *e)
{
    int rc = iam__save_ent(iam, e);

    if (rc == 0) {
        iam__recv_set(ent_vec(s, e->kind), &e->r);
        iam__notify(iam, ent_kind(e->kind), e->r.name);
    }
    return rc;
}

static int
put_key(struct iam *iam, struct iam_snap *s, struct iam_krec *k)
{
    int rc = iam__save_key(iam, k);

    if (rc == 0) {
        iam__recv_set(&s->keys, &k->r);
        iam__notify(iam, "key", k->r.name);
    }
    return rc;
}

static int
drop(struct iam *iam, struct iam_snap *s, const char *kind, const char *name)
{
    struct iam_recv *v = !strcmp(kind, "user")    ? &s->users
                         : !strcmp(kind, "group") ? &s->groups
                         : !strcmp(kind, "key")   ? &s->keys
                                                  : &s->pols;
    int rc = iam__remove(iam, kind, name);

    if (rc == 0) {
        iam__recv_del(v, name);
        iam__notify(iam, kind, name);
    }
    return rc;
}

/*
 * A change: starts a copy of the current snapshot (`begin`), which `end`
 * publishes when something was written (`changed`) or drops.
 */
static struct iam_snap *
begin(struct iam *iam)
{
    pthread_mutex_lock(&iam->mu);
    return iam__snap_copy(iam->snap);
}

static void
end(struct iam *iam, struct iam_snap *s, bool changed)
{
    struct buf pending = iam->pending;

    if (changed)
        iam__snap_publish(iam, s);
    else
        iam__snap_unref(s);
    buf_init(&iam->pending, 0);
    pthread_mutex_unlock(&iam->mu);
    iam__notify_send(iam, &pending);
}

static bool
key_taken(const struct iam *iam, const struct iam_snap *s, const char *ak)
{
    return !strcmp(ak, iam->root_user) || find_key(s, ak) || !strncmp(ak, "ASIA", 4);
}

static void
new_id(char out[IAM_ID_LEN + 1], const char *prefix)
{
    memcpy(out, prefix, 4);
    iam__random_string(out + 4, IAM_ID_LEN - 4, iam__upper_digits);
}

/* ---- users ---- */

int
iam_user_create(struct iam *iam, const char *name, const char *access_key, const char *secret,
                struct buf *errmsg)
{
    struct iam_ent *u = NULL;
    struct iam_krec *k = NULL;
    struct iam_snap *s;
    int rc;

    rc = check_name("a user", name, IAM_USER_NAME_MAX, errmsg);
    if (rc == 0 && access_key && !iam__is_valid_name(access_key, IAM_ACCESS_KEY_MAX)) {
        say(errmsg, "an access key must be 3 to 128 characters of A-Z a-z 0-9 + = , . @ _ -");
        rc = -ERR_INVAL;
    }
    if (rc == 0 && access_key && strlen(access_key) < 3) {
        say(errmsg, "an access key must be 3 to 128 characters of A-Z a-z 0-9 + = , . @ _ -");
        rc = -ERR_INVAL;
    }
    if (rc == 0 && access_key && secret)
        rc = check_secret(secret, errmsg);
    if (rc < 0)
        return rc;
    s = begin(iam);
    if (!strcmp(name, iam->root_user) || find_ent(s, IAM_ENTITY_USER, name)) {
        say(errmsg, "user %s already exists", name);
        rc = -ERR_ENTITY_EXISTS;
        goto out;
    }
    if (access_key && key_taken(iam, s, access_key)) {
        say(errmsg, "access key %s already exists", access_key);
        rc = -ERR_ENTITY_EXISTS;
        goto out;
    }
    u = iam__ent_new(IAM_ENTITY_USER, name);
    new_id(u->id, "AIDA");
    u->created = now_s();
    rc = put_ent(iam, s, u);
    if (rc < 0 || !access_key)
        goto out;
    k = iam__krec_new(access_key);
    free(k->user);
    k->user = xstrdup(name);
    k->created = u->created;
    if (secret) {
        free(k->secret);
        k->secret = xstrdup(secret);
    } else {
        char gen[IAM_GEN_SECRET_LEN + 1];

        iam__random_string(gen, IAM_GEN_SECRET_LEN, iam__base64_chars);
        free(k->secret);
        k->secret = xstrdup(gen);
        secure_zero(gen, sizeof(gen));
    }
    rc = put_key(iam, s, k);
    if (rc < 0)
        drop(iam, s, "user", name); /* all or nothing, as far as the drives let us */
out:
    end(iam, s, rc == 0);
    if (u)
        iam__rec_unref(&u->r);
    if (k)
        iam__rec_unref(&k->r);
    return rc;
}

/* The access keys (own and service accounts) of `user`, collected (borrowed from `s`). */
static size_t
keys_of(const struct iam_snap *s, const char *user, const struct iam_krec **out, size_t max)
{
    size_t i, n = 0;

    for (i = 0; i < s->keys.n; i++) {
        const struct iam_krec *k = container_of(s->keys.v[i], struct iam_krec, r);

        if (!strcmp(k->user, user)) {
            if (n < max)
                out[n] = k;
            n++;
        }
    }
    return n;
}

static size_t
groups_of(const struct iam_snap *s, const char *user)
{
    size_t i, n = 0;

    for (i = 0; i < s->groups.n; i++)
        n += iam__strv_has(&container_of(s->groups.v[i], struct iam_ent, r)->members, user);
    return n;
}

int
iam_user_delete(struct iam *iam, const char *name, bool force, struct buf *errmsg)
{
    struct iam_snap *s = begin(iam);
    const struct iam_ent *u = find_ent(s, IAM_ENTITY_USER, name);
    struct iam_strv names = { 0 };
    bool changed = false;
    size_t nkeys, ngroups, i;
    int rc = 0;

    if (!u) {
        say(errmsg, "user %s does not exist", name ? name : "");
        rc = -ERR_NO_SUCH_ENTITY;
        goto out;
    }
    nkeys = keys_of(s, name, NULL, 0);
    ngroups = groups_of(s, name);
    if (!force && (nkeys || ngroups || u->ninline || u->policies.n)) {
        say(errmsg,
            "user %s still has %zu access key(s) or service account(s), %zu group(s), %zu "
            "attached and %zu inline policies",
            name, nkeys, ngroups, u->policies.n, u->ninline);
        rc = -ERR_DELETE_CONFLICT;
        goto out;
    }
    /* keys first: with the user still there, a failure leaves a consistent state */
    for (i = 0; i < s->keys.n; i++) {
        const struct iam_krec *k = container_of(s->keys.v[i], struct iam_krec, r);

        if (!strcmp(k->user, name))
            iam__strv_add(&names, k->r.name);
    }
    for (i = 0; rc == 0 && i < names.n; i++) {
        rc = drop(iam, s, "key", names.v[i]);
        changed |= rc == 0;
    }
    for (i = 0; rc == 0 && i < s->groups.n; i++) {
        const struct iam_ent *g = container_of(s->groups.v[i], struct iam_ent, r);
        struct iam_ent *ng;

        if (!iam__strv_has(&g->members, name))
            continue;
        ng = iam__ent_clone(g);
        iam__strv_del(&ng->members, name);
        rc = put_ent(iam, s, ng);
        changed |= rc == 0;
        iam__rec_unref(&ng->r);
    }
    if (rc == 0) {
        rc = drop(iam, s, "user", name);
        changed |= rc == 0;
    }
out:
    iam__strv_release(&names);
    end(iam, s, changed);
    return rc;
}

static int
ent_set_enabled(struct iam *iam, enum iam_entity kind, const char *name, bool enabled)
{
    struct iam_snap *s = begin(iam);
    const struct iam_ent *e = find_ent(s, kind, name);
    struct iam_ent *ne;
    int rc;

    if (!e) {
        end(iam, s, false);
        return -ERR_NO_SUCH_ENTITY;
    }
    ne = iam__ent_clone(e);
    ne->enabled = enabled;
    rc = put_ent(iam, s, ne);
    end(iam, s, rc == 0);
    iam__rec_unref(&ne->r);
    return rc;
}

int
iam_user_set_enabled(struct iam *iam, const char *name, bool enabled)
{
    return ent_set_enabled(iam, IAM_ENTITY_USER, name, enabled);
}

int
iam_user_rename(struct iam *iam, const char *name, const char *new_name, struct buf *errmsg)
{
    struct iam_snap *s;
    const struct iam_ent *u;
    struct iam_ent *nu = NULL;
    struct iam_strv keys = { 0 };
    bool changed = false;
    size_t i;
    int rc = check_name("a user", new_name, IAM_USER_NAME_MAX, errmsg);

    if (rc < 0)
        return rc;
    s = begin(iam);
    u = find_ent(s, IAM_ENTITY_USER, name);
    if (!u) {
        say(errmsg, "user %s does not exist", name ? name : "");
        rc = -ERR_NO_SUCH_ENTITY;
        goto out;
    }
    if (!strcmp(name, new_name))
        goto out;
    if (!strcmp(new_name, iam->root_user) || find_ent(s, IAM_ENTITY_USER, new_name)) {
        say(errmsg, "user %s already exists", new_name);
        rc = -ERR_ENTITY_EXISTS;
        goto out;
    }
    /* the new name first (same id), then what points at the user, then the old name */
    nu = iam__ent_clone(u);
    free(nu->r.name);
    nu->r.name = xstrdup(new_name);
    rc = put_ent(iam, s, nu);
    changed |= rc == 0;
    for (i = 0; i < s->keys.n; i++)
        if (!strcmp(container_of(s->keys.v[i], struct iam_krec, r)->user, name))
            iam__strv_add(&keys, s->keys.v[i]->name);
    for (i = 0; rc == 0 && i < keys.n; i++) {
        struct iam_krec *k = iam__krec_clone(find_key(s, keys.v[i]));

        free(k->user);
        k->user = xstrdup(new_name);
        rc = put_key(iam, s, k);
        iam__rec_unref(&k->r);
    }
    for (i = 0; rc == 0 && i < s->groups.n; i++) {
        const struct iam_ent *g = container_of(s->groups.v[i], struct iam_ent, r);
        struct iam_ent *ng;

        if (!iam__strv_has(&g->members, name))
            continue;
        ng = iam__ent_clone(g);
        iam__strv_del(&ng->members, name);
        iam__strv_add(&ng->members, new_name);
        rc = put_ent(iam, s, ng);
        iam__rec_unref(&ng->r);
    }
    if (rc == 0)
        rc = drop(iam, s, "user", name);
out:
    iam__strv_release(&keys);
    end(iam, s, changed);
    if (nu)
        iam__rec_unref(&nu->r);
    return rc;
}

int
iam_user_list(struct iam *iam, const char *name, iam_user_fn *cb, void *arg)
{
    struct iam_snap *s = iam__snap_get(iam);
    size_t i, lo = 0, hi = s->users.n;
    int rc = 0;

    if (name) {
        bool found = false;

        for (i = 0; i < s->users.n && !found; i++)
            if (!strcmp(s->users.v[i]->name, name)) {
                lo = i;
                hi = i + 1;
                found = true;
            }
        if (!found) {
            iam__snap_unref(s);
            return -ERR_NO_SUCH_ENTITY;
        }
    }
    for (i = lo; rc == 0 && i < hi; i++) {
        const struct iam_ent *u = container_of(s->users.v[i], struct iam_ent, r);
        size_t ng = s->ug_off[i + 1] - s->ug_off[i], j;
        const char **groups = xcalloc(ng + 1, sizeof(*groups));
        const char **inl = xcalloc(u->ninline + 1, sizeof(*inl));
        struct iam_user_view v = {
            .name = u->r.name,
            .id = u->id,
            .created = u->created,
            .enabled = u->enabled,
            .policies = (const char *const *)u->policies.v,
            .npolicies = u->policies.n,
            .inline_names = inl,
            .ninline = u->ninline,
            .groups = groups,
            .ngroups = ng,
        };

        for (j = 0; j < ng; j++)
            groups[j] = s->groups.v[s->ug[s->ug_off[i] + j]]->name;
        for (j = 0; j < u->ninline; j++)
            inl[j] = u->inl[j].name;
        rc = cb(arg, &v);
        free(groups);
        free(inl);
    }
    iam__snap_unref(s);
    return rc < 0 ? rc : 0;
}

/* ---- groups ---- */

int
iam_group_create(struct iam *iam, const char *name, struct buf *errmsg)
{
    struct iam_snap *s;
    struct iam_ent *g;
    int rc = check_name("a group", name, IAM_USER_NAME_MAX, errmsg);

    if (rc < 0)
        return rc;
    s = begin(iam);
    if (find_ent(s, IAM_ENTITY_GROUP, name)) {
        say(errmsg, "group %s already exists", name);
        end(iam, s, false);
        return -ERR_ENTITY_EXISTS;
    }
    g = iam__ent_new(IAM_ENTITY_GROUP, name);
    new_id(g->id, "AGPA");
    g->created = now_s();
    rc = put_ent(iam, s, g);
    end(iam, s, rc == 0);
    iam__rec_unref(&g->r);
    return rc;
}

int
iam_group_delete(struct iam *iam, const char *name, bool force, struct buf *errmsg)
{
    struct iam_snap *s = begin(iam);
    const struct iam_ent *g = find_ent(s, IAM_ENTITY_GROUP, name);
    int rc;

    if (!g) {
        say(errmsg, "group %s does not exist", name ? name : "");
        end(iam, s, false);
        return -ERR_NO_SUCH_ENTITY;
    }
    if (!force && (g->members.n || g->policies.n || g->ninline)) {
        say(errmsg, "group %s still has %zu member(s), %zu attached and %zu inline policies", name,
            g->members.n, g->policies.n, g->ninline);
        end(iam, s, false);
        return -ERR_DELETE_CONFLICT;
    }
    /* members and policies live in the group's own object: one delete drops them all */
    rc = drop(iam, s, "group", name);
    end(iam, s, rc == 0);
    return rc;
}

int
iam_group_set_enabled(struct iam *iam, const char *name, bool enabled)
{
    return ent_set_enabled(iam, IAM_ENTITY_GROUP, name, enabled);
}

static int
membership(struct iam *iam, const char *group, const char *user, bool add)
{
    struct iam_snap *s = begin(iam);
    const struct iam_ent *g = find_ent(s, IAM_ENTITY_GROUP, group);
    struct iam_ent *ng;
    int rc;

    if (!g || !find_ent(s, IAM_ENTITY_USER, user)) {
        end(iam, s, false);
        return -ERR_NO_SUCH_ENTITY;
    }
    if (iam__strv_has(&g->members, user) == add) {
        end(iam, s, false);
        return 0; /* already so */
    }
    ng = iam__ent_clone(g);
    if (add)
        iam__strv_add(&ng->members, user);
    else
        iam__strv_del(&ng->members, user);
    rc = put_ent(iam, s, ng);
    end(iam, s, rc == 0);
    iam__rec_unref(&ng->r);
    return rc;
}

int
iam_group_add_member(struct iam *iam, const char *group, const char *user)
{
    return membership(iam, group, user, true);
}

int
iam_group_remove_member(struct iam *iam, const char *group, const char *user)
{
    return membership(iam, group, user, false);
}

int
iam_group_list(struct iam *iam, const char *name, iam_group_fn *cb, void *arg)
{
    struct iam_snap *s = iam__snap_get(iam);
    size_t i;
    int rc = 0;

    if (name && !find_ent(s, IAM_ENTITY_GROUP, name)) {
        iam__snap_unref(s);
        return -ERR_NO_SUCH_ENTITY;
    }
    for (i = 0; rc == 0 && i < s->groups.n; i++) {
        const struct iam_ent *g = container_of(s->groups.v[i], struct iam_ent, r);
        const char **inl;
        size_t j;

        if (name && strcmp(name, g->r.name))
            continue;
        inl = xcalloc(g->ninline + 1, sizeof(*inl));
        for (j = 0; j < g->ninline; j++)
            inl[j] = g->inl[j].name;
        rc = cb(arg, &(struct iam_group_view){
                         .name = g->r.name,
                         .id = g->id,
                         .created = g->created,
                         .enabled = g->enabled,
                         .members = (const char *const *)g->members.v,
                         .nmembers = g->members.n,
                         .policies = (const char *const *)g->policies.v,
                         .npolicies = g->policies.n,
                         .inline_names = inl,
                         .ninline = g->ninline,
                     });
        free(inl);
    }
    iam__snap_unref(s);
    return rc < 0 ? rc : 0;
}

/* ---- managed policies ---- */

int
iam_policy_put(struct iam *iam, const char *name, struct slice doc, bool replace,
               struct buf *errmsg)
{
    struct iam_cpol *c = NULL;
    struct iam_snap *s;
    const struct iam_prec *old;
    struct iam_prec *p;
    int rc = check_name("a policy", name, IAM_POLICY_NAME_MAX, errmsg);

    if (rc < 0)
        return rc;
    if (iam_policy_is_canned(name)) {
        say(errmsg, "policy %s is built in and cannot be changed", name);
        return -ERR_ENTITY_EXISTS;
    }
    rc = iam__cpol_parse(doc, &c, errmsg);
    if (rc < 0)
        return rc;
    s = begin(iam);
    old = find_pol(s, name);
    if (old && !replace) {
        say(errmsg, "policy %s already exists", name);
        iam__cpol_unref(c);
        end(iam, s, false);
        return -ERR_ENTITY_EXISTS;
    }
    p = iam__prec_new(name, c);
    p->updated = now_s();
    p->created = old ? old->created : p->updated;
    rc = iam__save_pol(iam, p);
    if (rc == 0) {
        iam__recv_set(&s->pols, &p->r);
        iam__notify(iam, "policy", name);
    }
    end(iam, s, rc == 0);
    iam__rec_unref(&p->r);
    return rc;
}

/* Users and groups `policy` is attached to. */
static size_t
attachments(const struct iam_snap *s, const char *policy)
{
    size_t i, n = 0;

    for (i = 0; i < s->users.n; i++)
        n += iam__strv_has(&container_of(s->users.v[i], struct iam_ent, r)->policies, policy);
    for (i = 0; i < s->groups.n; i++)
        n += iam__strv_has(&container_of(s->groups.v[i], struct iam_ent, r)->policies, policy);
    return n;
}

int
iam_policy_delete(struct iam *iam, const char *name, struct buf *errmsg)
{
    struct iam_snap *s;
    size_t n;
    int rc;

    if (iam_policy_is_canned(name)) {
        say(errmsg, "policy %s is built in and cannot be deleted", name);
        return -ERR_INVAL;
    }
    s = begin(iam);
    if (!find_pol(s, name)) {
        say(errmsg, "policy %s does not exist", name ? name : "");
        end(iam, s, false);
        return -ERR_NO_SUCH_ENTITY;
    }
    n = attachments(s, name);
    if (n) {
        say(errmsg, "policy %s is attached to %zu user(s) or group(s)", name, n);
        end(iam, s, false);
        return -ERR_DELETE_CONFLICT;
    }
    rc = drop(iam, s, "policy", name);
    end(iam, s, rc == 0);
    return rc;
}

int
iam_policy_list(struct iam *iam, const char *name, iam_policy_fn *cb, void *arg)
{
    struct iam_snap *s = iam__snap_get(iam);
    size_t *counts = xcalloc(s->pols.n + 1, sizeof(*counts));
    size_t i, j;
    int rc = 0;

    if (name && !find_pol(s, name)) {
        rc = -ERR_NO_SUCH_ENTITY;
        goto out;
    }
    /* attachment counts in one pass over users and groups */
    for (i = 0; i < s->users.n + s->groups.n; i++) {
        const struct iam_rec *r = i < s->users.n ? s->users.v[i] : s->groups.v[i - s->users.n];
        const struct iam_ent *e = container_of(r, struct iam_ent, r);

        for (j = 0; j < e->policies.n; j++) {
            size_t lo = 0, hi = s->pols.n;

            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(s->pols.v[mid]->name, e->policies.v[j]);

                if (c == 0) {
                    counts[mid]++;
                    break;
                }
                if (c < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
        }
    }
    for (i = 0; rc == 0 && i < s->pols.n; i++) {
        const struct iam_prec *p = container_of(s->pols.v[i], struct iam_prec, r);

        if (name && strcmp(name, p->r.name))
            continue;
        rc = cb(arg, &(struct iam_policy_view){
                         .name = p->r.name,
                         .doc = p->pol->doc,
                         .created = p->created,
                         .updated = p->updated,
                         .canned = p->canned,
                         .attachments = counts[i],
                     });
    }
out:
    free(counts);
    iam__snap_unref(s);
    return rc < 0 ? rc : 0;
}

static int
attach(struct iam *iam, const char *policy, enum iam_entity kind, const char *name, bool on)
{
    struct iam_snap *s = begin(iam);
    const struct iam_ent *e = find_ent(s, kind, name);
    struct iam_ent *ne;
    int rc;

    if (!e || (on && !find_pol(s, policy)) || (!on && !iam__strv_has(&e->policies, policy))) {
        end(iam, s, false);
        return -ERR_NO_SUCH_ENTITY;
    }
    if (on && iam__strv_has(&e->policies, policy)) {
        end(iam, s, false);
        return 0;
    }
    ne = iam__ent_clone(e);
    if (on)
        iam__strv_add(&ne->policies, policy);
    else
        iam__strv_del(&ne->policies, policy);
    rc = put_ent(iam, s, ne);
    end(iam, s, rc == 0);
    iam__rec_unref(&ne->r);
    return rc;
}

int
iam_policy_attach(struct iam *iam, const char *policy, enum iam_entity kind, const char *name)
{
    return attach(iam, policy, kind, name, true);
}

int
iam_policy_detach(struct iam *iam, const char *policy, enum iam_entity kind, const char *name)
{
    return attach(iam, policy, kind, name, false);
}

/* ---- inline policies ---- */

static ssize_t
inline_pos(const struct iam_ent *e, const char *policy)
{
    size_t i;

    for (i = 0; i < e->ninline; i++)
        if (!strcmp(e->inl[i].name, policy))
            return (ssize_t)i;
    return -1;
}

int
iam_inline_put(struct iam *iam, enum iam_entity kind, const char *name, const char *policy,
               struct slice doc, struct buf *errmsg)
{
    struct iam_cpol *c = NULL;
    struct iam_snap *s;
    const struct iam_ent *e;
    struct iam_ent *ne;
    ssize_t at;
    int rc = check_name("a policy", policy, IAM_POLICY_NAME_MAX, errmsg);

    if (rc == 0 && !doc.ptr) {
        say(errmsg, "a policy document is required");
        rc = -ERR_INVAL;
    }
    if (rc == 0)
        rc = iam__cpol_parse(doc, &c, errmsg);
    if (rc < 0)
        return rc;
    s = begin(iam);
    e = find_ent(s, kind, name);
    if (!e) {
        say(errmsg, "%s %s does not exist", ent_kind(kind), name ? name : "");
        iam__cpol_unref(c);
        end(iam, s, false);
        return -ERR_NO_SUCH_ENTITY;
    }
    ne = iam__ent_clone(e);
    at = inline_pos(ne, policy);
    if (at >= 0) {
        iam__cpol_unref(ne->inl[at].pol);
        ne->inl[at].pol = c;
    } else {
        size_t i = 0;

        while (i < ne->ninline && strcmp(ne->inl[i].name, policy) < 0)
            i++;
        ne->inl = xrealloc(ne->inl, (ne->ninline + 1) * sizeof(*ne->inl));
        memmove(ne->inl + i + 1, ne->inl + i, (ne->ninline - i) * sizeof(*ne->inl));
        ne->inl[i].name = xstrdup(policy);
        ne->inl[i].pol = c;
        ne->ninline++;
    }
    rc = put_ent(iam, s, ne);
    end(iam, s, rc == 0);
    iam__rec_unref(&ne->r);
    return rc;
}

int
iam_inline_get(struct iam *iam, enum iam_entity kind, const char *name, const char *policy,
               struct buf *doc)
{
    struct iam_snap *s = iam__snap_get(iam);
    const struct iam_ent *e = find_ent(s, kind, name);
    ssize_t at = e && policy ? inline_pos(e, policy) : -1;

    if (at >= 0)
        buf_add(doc, e->inl[at].pol->doc, e->inl[at].pol->len);
    iam__snap_unref(s);
    return at >= 0 ? 0 : -ERR_NO_SUCH_ENTITY;
}

int
iam_inline_delete(struct iam *iam, enum iam_entity kind, const char *name, const char *policy)
{
    struct iam_snap *s = begin(iam);
    const struct iam_ent *e = find_ent(s, kind, name);
    ssize_t at = e && policy ? inline_pos(e, policy) : -1;
    struct iam_ent *ne;
    int rc;

    if (at < 0) {
        end(iam, s, false);
        return -ERR_NO_SUCH_ENTITY;
    }
    ne = iam__ent_clone(e);
    free(ne->inl[at].name);
    iam__cpol_unref(ne->inl[at].pol);
    memmove(ne->inl + at, ne->inl + at + 1, (ne->ninline - (size_t)at - 1) * sizeof(*ne->inl));
    ne->ninline--;
    rc = put_ent(iam, s, ne);
    end(iam, s, rc == 0);
    iam__rec_unref(&ne->r);
    return rc;
}

/* ---- access keys ---- */

static int
check_sa_text(const char *name, const char *desc, struct buf *errmsg)
{
    if (name && strlen(name) > SA_NAME_MAX) {
        say(errmsg, "a service account name is at most %d characters", SA_NAME_MAX);
        return -ERR_INVAL;
    }
    if (desc && strlen(desc) > SA_DESC_MAX) {
        say(errmsg, "a service account description is at most %d characters", SA_DESC_MAX);
        return -ERR_INVAL;
    }
    return 0;
}

int
iam_key_create(struct iam *iam, const struct iam_new_key *nk, struct buf *access_key,
               struct buf *secret, struct buf *errmsg)
{
    char gen_ak[IAM_GEN_ACCESS_KEY_LEN + 1], gen_sk[IAM_GEN_SECRET_LEN + 1];
    struct iam_cpol *c = NULL;
    struct iam_krec *k = NULL;
    struct iam_snap *s = NULL;
    bool is_root;
    int rc = 0;

    if (!nk->user) {
        say(errmsg, "the key's user is required");
        return -ERR_INVAL;
    }
    is_root = !strcmp(nk->user, iam->root_user);
    if (nk->access_key &&
        (!iam__is_valid_name(nk->access_key, IAM_ACCESS_KEY_MAX) || strlen(nk->access_key) < 3)) {
        say(errmsg, "an access key must be 3 to 128 characters of A-Z a-z 0-9 + = , . @ _ -");
        return -ERR_INVAL;
    }
    if (nk->secret)
        rc = check_secret(nk->secret, errmsg);
    if (rc == 0 && !nk->service_account &&
        (is_root || nk->policy || nk->expires || nk->name || nk->description)) {
        say(errmsg, is_root ? "the root user's own key is the root credential"
                            : "only service accounts have a policy, an expiry, a name or a "
                              "description");
        rc = -ERR_INVAL;
    }
    if (rc == 0 && nk->expires && nk->expires <= now_s()) {
        say(errmsg, "the expiry is in the past");
        rc = -ERR_INVAL;
    }
    if (rc == 0)
        rc = check_sa_text(nk->name, nk->description, errmsg);
    if (rc == 0 && nk->policy && *nk->policy)
        rc = iam__cpol_parse(slice_cstr(nk->policy), &c, errmsg);
    if (rc < 0)
        return rc;
    s = begin(iam);
    if (!is_root && !find_ent(s, IAM_ENTITY_USER, nk->user)) {
        say(errmsg, "user %s does not exist", nk->user);
        rc = -ERR_NO_SUCH_ENTITY;
        goto out;
    }
    if (!nk->service_account) {
        size_t i, own = 0;

        for (i = 0; i < s->keys.n; i++) {
            const struct iam_krec *o = container_of(s->keys.v[i], struct iam_krec, r);

            own += !o->svc && !strcmp(o->user, nk->user);
        }
        if (own >= IAM_OWN_KEYS_MAX) {
            say(errmsg, "user %s already has %d access keys", nk->user, IAM_OWN_KEYS_MAX);
            rc = -ERR_LIMIT_EXCEEDED;
            goto out;
        }
    }
    if (nk->access_key) {
        if (key_taken(iam, s, nk->access_key)) {
            say(errmsg, "access key %s already exists", nk->access_key);
            rc = -ERR_ENTITY_EXISTS;
            goto out;
        }
        snprintf(gen_ak, sizeof(gen_ak), "%s", ""); /* unused */
    } else {
        do
            iam__random_string(gen_ak, IAM_GEN_ACCESS_KEY_LEN, iam__upper_digits);
        while (key_taken(iam, s, gen_ak));
    }
    if (!nk->secret)
        iam__random_string(gen_sk, IAM_GEN_SECRET_LEN, iam__base64_chars);
    k = iam__krec_new(nk->access_key ? nk->access_key : gen_ak);
    free(k->secret);
    k->secret = xstrdup(nk->secret ? nk->secret : gen_sk);
    free(k->user);
    k->user = xstrdup(nk->user);
    k->svc = nk->service_account;
    k->created = now_s();
    k->expires = nk->expires;
    free(k->sa_name);
    k->sa_name = xstrdup(nk->name ? nk->name : "");
    free(k->desc);
    k->desc = xstrdup(nk->description ? nk->description : "");
    k->pol = c;
    c = NULL;
    rc = put_key(iam, s, k);
    if (rc == 0) {
        buf_adds(access_key, k->r.name);
        buf_adds(secret, k->secret);
    }
out:
    end(iam, s, rc == 0);
    iam__cpol_unref(c);
    if (k)
        iam__rec_unref(&k->r);
    secure_zero(gen_sk, sizeof(gen_sk));
    return rc;
}

int
iam_key_delete(struct iam *iam, const char *access_key)
{
    struct iam_snap *s = begin(iam);
    int rc = find_key(s, access_key) ? drop(iam, s, "key", access_key) : -ERR_NO_SUCH_ENTITY;

    end(iam, s, rc == 0);
    return rc;
}

int
iam_key_set_enabled(struct iam *iam, const char *access_key, bool enabled)
{
    struct iam_snap *s = begin(iam);
    const struct iam_krec *k = find_key(s, access_key);
    struct iam_krec *nk;
    int rc;

    if (!k) {
        end(iam, s, false);
        return -ERR_NO_SUCH_ENTITY;
    }
    nk = iam__krec_clone(k);
    nk->enabled = enabled;
    rc = put_key(iam, s, nk);
    end(iam, s, rc == 0);
    iam__rec_unref(&nk->r);
    return rc;
}

int
iam_key_edit(struct iam *iam, const char *access_key, const char *secret, const char *policy,
             int64_t expires, const char *name, const char *description, struct buf *errmsg)
{
    struct iam_cpol *c = NULL;
    struct iam_snap *s;
    const struct iam_krec *k;
    struct iam_krec *nk;
    int rc = secret ? check_secret(secret, errmsg) : 0;

    if (rc == 0)
        rc = check_sa_text(name, description, errmsg);
    if (rc == 0 && expires < -1) {
        say(errmsg, "an expiry is a time, 0 (never) or -1 (kept)");
        rc = -ERR_INVAL;
    }
    if (rc == 0 && policy && *policy)
        rc = iam__cpol_parse(slice_cstr(policy), &c, errmsg);
    if (rc < 0)
        return rc;
    s = begin(iam);
    k = find_key(s, access_key);
    if (!k || !k->svc) {
        say(errmsg,
            k ? "access key %s is not a service account" : "service account %s does not exist",
            access_key ? access_key : "");
        iam__cpol_unref(c);
        end(iam, s, false);
        return k ? -ERR_INVAL : -ERR_NO_SUCH_ENTITY;
    }
    nk = iam__krec_clone(k);
    if (secret) {
        secure_zero(nk->secret, strlen(nk->secret));
        free(nk->secret);
        nk->secret = xstrdup(secret);
    }
    if (policy) {
        iam__cpol_unref(nk->pol);
        nk->pol = c; /* NULL for "": removed */
    }
    if (expires >= 0)
        nk->expires = expires;
    if (name) {
        free(nk->sa_name);
        nk->sa_name = xstrdup(name);
    }
    if (description) {
        free(nk->desc);
        nk->desc = xstrdup(description);
    }
    rc = put_key(iam, s, nk);
    end(iam, s, rc == 0);
    iam__rec_unref(&nk->r);
    return rc;
}

int
iam_key_list(struct iam *iam, const char *user, const char *access_key, bool service_accounts,
             iam_key_fn *cb, void *arg)
{
    struct iam_snap *s = iam__snap_get(iam);
    size_t i;
    int rc = 0;

    if (access_key && !find_key(s, access_key))
        rc = -ERR_NO_SUCH_ENTITY;
    for (i = 0; rc == 0 && i < s->keys.n; i++) {
        const struct iam_krec *k = container_of(s->keys.v[i], struct iam_krec, r);

        if (access_key ? strcmp(access_key, k->r.name)
                       : (k->svc != service_accounts || (user && strcmp(user, k->user))))
            continue;
        rc = cb(arg, &(struct iam_key_view){
                         .access_key = k->r.name,
                         .user = k->user,
                         .service_account = k->svc,
                         .enabled = k->enabled,
                         .created = k->created,
                         .expires = k->expires,
                         .name = k->sa_name,
                         .description = k->desc,
                         .policy = k->pol ? k->pol->doc : NULL,
                     });
    }
    iam__snap_unref(s);
    return rc < 0 ? rc : 0;
}

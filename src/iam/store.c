/*
 * iam/store.c: IAM records as system objects (object/objlayer.h
 * objlayer_sys_*), one JSON document per entity:
 *
 *   iam/users/<name>.json     {"name", "id", "created", "enabled", "policies": [...],
 *                              "inline": {"<policy name>": "<document>", ...}}
 *   iam/groups/<name>.json    the same, plus "members": [...]
 *   iam/policies/<name>.json  {"name", "document", "created", "updated"}
 *   iam/keys/<access>.json    {"access_key", "secret": sealed, "user", "service_account",
 *                              "enabled", "created", "expires", "name", "description",
 *                              "policy": "<document>" | null}
 *
 * A secret is stored sealed: base64(nonce || AES-256-GCM(secret) || tag)
 * with the secrets key (iam.c, derived from the root credentials) and the
 * access key as associated data, so a sealed secret moved to another key's
 * record does not open. Names are checked before they reach a key (no '/'),
 * and the ".json" suffix keeps "." and ".." from being a whole segment.
 *
 * Without an object layer (unit tests, iam_config.ol NULL) the documents
 * live in memory, in the same form, so reload and iam_changed behave alike.
 */
#include "util/base.h"

#include <jansson.h>

#include "iam/internal.h"
#include "object/objlayer.h"
#include "obs/log.h"
#include "util/enc.h"
#include "util/err.h"

struct iam_mem_doc {
    char *key;
    struct buf doc;
};

static const struct {
    const char *kind, *dir;
} kinds[] = {
    { "user", "iam/users/" },
    { "group", "iam/groups/" },
    { "policy", "iam/policies/" },
    { "key", "iam/keys/" },
};

static const char *
kind_dir(const char *kind)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(kinds); i++)
        if (!strcmp(kinds[i].kind, kind))
            return kinds[i].dir;
    BUG_ON(1);
    return NULL;
}

void
iam__obj_key(struct buf *out, const char *kind, const char *name)
{
    buf_addf(out, "%s%s.json", kind_dir(kind), name);
}

/* ---- the documents: drives, or memory ---- */

static ssize_t
mem_find(const struct iam *iam, const char *key, bool *found)
{
    size_t lo = 0, hi = iam->nmem;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(iam->mem[mid].key, key);

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

static int
doc_get(struct iam *iam, const char *key, struct buf *out)
{
    bool found;
    ssize_t i;

    if (iam->ol)
        return objlayer_sys_get(iam->ol, NULL, key, out);
    i = mem_find(iam, key, &found);
    if (!found)
        return -ERR_NOT_FOUND;
    buf_addslice(out, buf_slice(&iam->mem[i].doc));
    return 0;
}

static int
fail_write(struct iam *iam)
{
    if (iam->skip_writes) {
        iam->skip_writes--;
        return 0;
    }
    if (!iam->fail_writes)
        return 0;
    iam->fail_writes--;
    return -ERR_QUORUM;
}

static int
doc_put(struct iam *iam, const char *key, struct slice doc)
{
    bool found;
    size_t i;
    int rc = fail_write(iam);

    if (rc < 0)
        return rc;
    if (iam->ol)
        return objlayer_sys_put(iam->ol, NULL, key, doc);
    i = (size_t)mem_find(iam, key, &found);
    if (!found) {
        iam->mem = xrealloc(iam->mem, (iam->nmem + 1) * sizeof(*iam->mem));
        memmove(iam->mem + i + 1, iam->mem + i, (iam->nmem - i) * sizeof(*iam->mem));
        iam->mem[i].key = xstrdup(key);
        buf_init(&iam->mem[i].doc, doc.len);
        iam->nmem++;
    }
    buf_clear(&iam->mem[i].doc);
    buf_addslice(&iam->mem[i].doc, doc);
    return 0;
}

static int
doc_delete(struct iam *iam, const char *key)
{
    bool found;
    size_t i;
    int rc = fail_write(iam);

    if (rc < 0)
        return rc;
    if (iam->ol) {
        rc = objlayer_sys_delete(iam->ol, NULL, key);
        return rc == -ERR_NOT_FOUND ? 0 : rc;
    }
    i = (size_t)mem_find(iam, key, &found);
    if (!found)
        return 0;
    free(iam->mem[i].key);
    buf_release(&iam->mem[i].doc);
    memmove(iam->mem + i, iam->mem + i + 1, (iam->nmem - i - 1) * sizeof(*iam->mem));
    iam->nmem--;
    return 0;
}

static int
doc_list(struct iam *iam, const char *prefix, objlayer_sys_fn *cb, void *arg)
{
    size_t i, n = strlen(prefix);
    int rc = 0;

    if (iam->ol)
        return objlayer_sys_list(iam->ol, NULL, prefix, cb, arg);
    for (i = 0; rc == 0 && i < iam->nmem; i++)
        if (!strncmp(iam->mem[i].key, prefix, n))
            rc = cb(arg, iam->mem[i].key);
    return rc < 0 ? rc : 0;
}

void
iam__mem_release(struct iam *iam)
{
    size_t i;

    for (i = 0; i < iam->nmem; i++) {
        free(iam->mem[i].key);
        buf_release(&iam->mem[i].doc);
    }
    free(iam->mem);
    iam->mem = NULL;
    iam->nmem = 0;
}

void
iam__test_fail_writes(struct iam *iam, unsigned skip, unsigned n)
{
    pthread_mutex_lock(&iam->mu);
    iam->skip_writes = skip;
    iam->fail_writes = n;
    pthread_mutex_unlock(&iam->mu);
}

/* ---- encoding ---- */

static int
put_json(struct iam *iam, const char *kind, const char *name, json_t *o)
{
    struct buf key = BUF_INIT;
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    int rc;

    BUG_ON(!text);
    iam__obj_key(&key, kind, name);
    rc = doc_put(iam, key.ptr, slice_cstr(text));
    secure_zero(text, strlen(text)); /* sealed, but leave no copy around anyway */
    free(text);
    buf_release(&key);
    json_decref(o);
    return rc;
}

static json_t *
strv_json(const struct iam_strv *s)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < s->n; i++)
        json_array_append_new(a, json_string(s->v[i]));
    return a;
}

int
iam__save_ent(struct iam *iam, const struct iam_ent *e)
{
    json_t *o = json_object(), *inl = json_object();
    size_t i;

    json_object_set_new(o, "name", json_string(e->r.name));
    json_object_set_new(o, "id", json_string(e->id));
    json_object_set_new(o, "created", json_integer(e->created));
    json_object_set_new(o, "enabled", json_boolean(e->enabled));
    json_object_set_new(o, "policies", strv_json(&e->policies));
    if (e->kind == IAM_ENTITY_GROUP)
        json_object_set_new(o, "members", strv_json(&e->members));
    for (i = 0; i < e->ninline; i++)
        json_object_set_new(inl, e->inl[i].name,
                            json_stringn(e->inl[i].pol->doc, e->inl[i].pol->len));
    json_object_set_new(o, "inline", inl);
    return put_json(iam, e->kind == IAM_ENTITY_USER ? "user" : "group", e->r.name, o);
}

int
iam__save_pol(struct iam *iam, const struct iam_prec *p)
{
    json_t *o = json_object();

    json_object_set_new(o, "name", json_string(p->r.name));
    json_object_set_new(o, "document", json_stringn(p->pol->doc, p->pol->len));
    json_object_set_new(o, "created", json_integer(p->created));
    json_object_set_new(o, "updated", json_integer(p->updated));
    return put_json(iam, "policy", p->r.name, o);
}

int
iam__save_key(struct iam *iam, const struct iam_krec *k)
{
    json_t *o = json_object();
    struct buf sealed = BUF_INIT, b64 = BUF_INIT;

    iam__seal(iam->secrets_key, slice_cstr(k->r.name), slice_cstr(k->secret), &sealed);
    base64_encode(&b64, sealed.ptr, sealed.len);
    json_object_set_new(o, "access_key", json_string(k->r.name));
    json_object_set_new(o, "secret", json_string(b64.ptr));
    json_object_set_new(o, "user", json_string(k->user));
    json_object_set_new(o, "service_account", json_boolean(k->svc));
    json_object_set_new(o, "enabled", json_boolean(k->enabled));
    json_object_set_new(o, "created", json_integer(k->created));
    json_object_set_new(o, "expires", json_integer(k->expires));
    json_object_set_new(o, "name", json_string(k->sa_name));
    json_object_set_new(o, "description", json_string(k->desc));
    json_object_set_new(o, "policy", k->pol ? json_stringn(k->pol->doc, k->pol->len) : json_null());
    buf_release(&sealed);
    buf_release(&b64);
    return put_json(iam, "key", k->r.name, o);
}

int
iam__remove(struct iam *iam, const char *kind, const char *name)
{
    struct buf key = BUF_INIT;
    int rc;

    iam__obj_key(&key, kind, name);
    rc = doc_delete(iam, key.ptr);
    buf_release(&key);
    return rc;
}

/* ---- decoding ---- */

static const char *
jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

static int
strv_from(struct iam_strv *s, json_t *a)
{
    size_t i;
    json_t *e;

    if (a && !json_is_array(a))
        return -ERR_CORRUPT;
    json_array_foreach(a, i, e)
    {
        if (!json_is_string(e))
            return -ERR_CORRUPT;
        iam__strv_add(s, json_string_value(e));
    }
    return 0;
}

/* A stored policy document compiles as it did when it was stored; if not, the record is bad. */
static int
cpol_from(json_t *v, struct iam_cpol **out, struct buf *errmsg)
{
    if (!json_is_string(v))
        return -ERR_CORRUPT;
    return iam__cpol_parse(slice_make(json_string_value(v), json_string_length(v)), out, errmsg);
}

static int
inline_cmp(const void *a, const void *b)
{
    return strcmp(((const struct iam_inline *)a)->name, ((const struct iam_inline *)b)->name);
}

static int
decode_ent(json_t *o, enum iam_entity kind, struct iam_rec **out, struct buf *errmsg)
{
    struct iam_ent *e = iam__ent_new(kind, jstr(o, "name"));
    json_t *inl = json_object_get(o, "inline"), *v;
    const char *k;
    int rc = 0;

    snprintf(e->id, sizeof(e->id), "%s", jstr(o, "id"));
    e->created = json_integer_value(json_object_get(o, "created"));
    e->enabled = json_is_true(json_object_get(o, "enabled"));
    if (!*e->r.name || !*e->id)
        rc = -ERR_CORRUPT;
    if (rc == 0)
        rc = strv_from(&e->policies, json_object_get(o, "policies"));
    if (rc == 0)
        rc = strv_from(&e->members, json_object_get(o, "members"));
    if (rc == 0 && inl) {
        e->inl = xcalloc(json_object_size(inl) + 1, sizeof(*e->inl));
        json_object_foreach(inl, k, v)
        {
            struct iam_cpol *c = NULL;

            rc = cpol_from(v, &c, errmsg);
            if (rc < 0)
                break;
            e->inl[e->ninline].name = xstrdup(k);
            e->inl[e->ninline++].pol = c;
        }
        qsort(e->inl, e->ninline, sizeof(*e->inl), inline_cmp);
    }
    if (rc < 0) {
        iam__rec_unref(&e->r);
        return rc;
    }
    *out = &e->r;
    return 0;
}

static int
decode_pol(json_t *o, struct iam_rec **out, struct buf *errmsg)
{
    struct iam_cpol *c = NULL;
    struct iam_prec *p;
    int rc = cpol_from(json_object_get(o, "document"), &c, errmsg);

    if (rc < 0)
        return rc;
    p = iam__prec_new(jstr(o, "name"), c);
    p->created = json_integer_value(json_object_get(o, "created"));
    p->updated = json_integer_value(json_object_get(o, "updated"));
    *out = &p->r;
    return 0;
}

static int
decode_key(struct iam *iam, json_t *o, struct iam_rec **out, struct buf *errmsg)
{
    struct iam_krec *k = iam__krec_new(jstr(o, "access_key"));
    struct buf sealed = BUF_INIT, secret = BUF_INIT;
    json_t *pol = json_object_get(o, "policy");
    int rc;

    rc = base64_decode(&sealed, slice_cstr(jstr(o, "secret"))) < 0 ? -ERR_CORRUPT : 0;
    if (rc == 0 &&
        iam__open(iam->secrets_key, slice_cstr(k->r.name), buf_slice(&sealed), &secret) < 0) {
        if (errmsg)
            buf_addf(errmsg,
                     "the secret of access key %s does not decrypt: the root credentials are not "
                     "those the IAM data were written with",
                     k->r.name);
        rc = -ERR_CORRUPT;
    }
    if (rc == 0) {
        free(k->secret);
        k->secret = xstrndup(secret.ptr, secret.len);
        free(k->user);
        k->user = xstrdup(jstr(o, "user"));
        free(k->sa_name);
        k->sa_name = xstrdup(jstr(o, "name"));
        free(k->desc);
        k->desc = xstrdup(jstr(o, "description"));
        k->svc = json_is_true(json_object_get(o, "service_account"));
        k->enabled = json_is_true(json_object_get(o, "enabled"));
        k->created = json_integer_value(json_object_get(o, "created"));
        k->expires = json_integer_value(json_object_get(o, "expires"));
        if (!*k->r.name || !*k->user)
            rc = -ERR_CORRUPT;
        if (rc == 0 && pol && !json_is_null(pol))
            rc = cpol_from(pol, &k->pol, errmsg);
    }
    buf_release(&sealed);
    buf_release_secure(&secret);
    if (rc < 0) {
        iam__rec_unref(&k->r);
        return rc;
    }
    *out = &k->r;
    return 0;
}

/* Decodes document `doc` of `kind`; -ERR_CORRUPT (or a policy error) when it is bad. */
static int
decode(struct iam *iam, const char *kind, struct slice doc, struct iam_rec **out,
       struct buf *errmsg)
{
    json_error_t jerr;
    json_t *o = json_loadb(doc.ptr, doc.len, 0, &jerr);
    int rc;

    if (!json_is_object(o)) {
        json_decref(o);
        return -ERR_CORRUPT;
    }
    if (!strcmp(kind, "user"))
        rc = decode_ent(o, IAM_ENTITY_USER, out, errmsg);
    else if (!strcmp(kind, "group"))
        rc = decode_ent(o, IAM_ENTITY_GROUP, out, errmsg);
    else if (!strcmp(kind, "policy"))
        rc = decode_pol(o, out, errmsg);
    else
        rc = decode_key(iam, o, out, errmsg);
    json_decref(o);
    return rc;
}

int
iam__load_one(struct iam *iam, const char *kind, const char *name, struct iam_rec **out,
              struct buf *errmsg)
{
    struct buf key = BUF_INIT, doc = BUF_INIT;
    struct iam_rec *r = NULL;
    int rc;

    iam__obj_key(&key, kind, name);
    rc = doc_get(iam, key.ptr, &doc);
    if (rc == -ERR_NOT_FOUND) {
        *out = NULL;
        rc = 0;
    } else if (rc == 0) {
        rc = decode(iam, kind, buf_slice(&doc), &r, errmsg);
        if (rc == 0 && strcmp(r->name, name)) {
            iam__rec_unref(r);
            rc = -ERR_CORRUPT;
        }
        if (rc == 0)
            *out = r;
    }
    if (rc < 0 && errmsg && !errmsg->len)
        buf_addf(errmsg, "%s: %s", key.ptr, err_name(rc));
    buf_release_secure(&doc);
    buf_release(&key);
    return rc;
}

struct load_ctx {
    struct iam *iam;
    struct iam_snap *s;
    struct buf *errmsg;
    struct buf doc;
};

static int
load_key(void *arg, const char *key)
{
    struct load_ctx *c = arg;
    struct iam_rec *r = NULL;
    const char *kind = NULL;
    struct iam_recv *v = NULL;
    size_t i, klen = strlen(key);
    int rc;

    for (i = 0; i < ARRAY_SIZE(kinds); i++)
        if (!strncmp(key, kinds[i].dir, strlen(kinds[i].dir)))
            kind = kinds[i].kind;
    if (!kind || klen < 5 || strcmp(key + klen - 5, ".json"))
        return 0; /* not ours (a later version's): left alone */
    v = !strcmp(kind, "user")    ? &c->s->users
        : !strcmp(kind, "group") ? &c->s->groups
        : !strcmp(kind, "key")   ? &c->s->keys
                                 : &c->s->pols;
    buf_clear(&c->doc);
    rc = doc_get(c->iam, key, &c->doc);
    if (rc == -ERR_NOT_FOUND)
        return 0; /* deleted since the listing */
    if (rc == 0)
        rc = decode(c->iam, kind, buf_slice(&c->doc), &r, c->errmsg);
    secure_zero(c->doc.ptr, c->doc.len);
    if (rc == -ERR_CORRUPT && c->errmsg && c->errmsg->len)
        return rc; /* a secret that does not decrypt: the root credentials changed */
    if (rc < 0) {
        /* one bad record must not lock everybody out: skipped, and said */
        log_warn(&(struct log_ctx){ .key = key, .event = "iam_record_unreadable" },
                 "iam: %s skipped: %s", key, err_name(rc));
        if (c->errmsg)
            buf_clear(c->errmsg);
        return rc == -ERR_QUORUM || rc == -ERR_IO ? rc : 0;
    }
    if (!strcmp(kind, "policy") && iam_policy_is_canned(r->name))
        iam__rec_unref(r); /* canned names are reserved */
    else {
        iam__recv_set(v, r);
        iam__rec_unref(r);
    }
    return 0;
}

int
iam__load_all(struct iam *iam, struct iam_snap **out, struct buf *errmsg)
{
    struct buf err = BUF_INIT;
    struct load_ctx c = { .iam = iam, .s = iam__snap_new(), .errmsg = &err, .doc = BUF_INIT };
    int rc = doc_list(iam, "iam/", load_key, &c);

    buf_release_secure(&c.doc);
    if (rc < 0) {
        if (errmsg)
            buf_addf(errmsg, "iam: %s", err.len ? err.ptr : err_name(rc));
        buf_release(&err);
        iam__snap_unref(c.s);
        return rc;
    }
    buf_release(&err);
    *out = c.s;
    return 0;
}

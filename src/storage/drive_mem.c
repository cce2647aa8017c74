/*
 * storage/drive_mem.c: an in-memory drive for the object layer's unit tests
 * (STYLE 2.1, 2.12). Same semantics as drive_local.c, nothing on disk:
 * shard files live in tmp until drive_meta_commit() makes them committed,
 * committing a new version drops the previous version's shards, listings are
 * in byte order, and a bucket that holds objects is NOT_EMPTY.
 *
 * Thread safety: one mutex `mu` protects everything in struct drive_mem.
 * Listing copies the page under the lock and calls the callback without it,
 * so a callback may call the drive again.
 */
#include "util/base.h"

#include "storage/drive.h"

#include <pthread.h>

#include "storage/internal.h"
#include "util/err.h"

#define MEM_CAPACITY (1ull << 30) /* what drive_info reports as the size */

struct mem_obj {
    char *key; /* malloc'd, NUL-terminated */
    size_t key_len;
    struct obj_meta meta;
};

struct mem_bucket {
    char name[64];
    int64_t created_ns;
    struct mem_obj *objs; /* sorted by key bytes */
    size_t nobjs, alloc;
};

struct mem_shard {
    char vid[OBJMETA_VID_LEN + 1];
    unsigned part;
    bool committed; /* false: in tmp */
    struct buf data;
};

struct drive_mem {
    struct drive base;
    pthread_mutex_t mu; /* protects every field below */
    bool formatted;
    struct buf format;
    struct mem_bucket **buckets; /* sorted by name */
    size_t nbuckets, abuckets;
    struct mem_shard **shards;
    size_t nshards, ashards;
    uint64_t used;            /* bytes of shard data */
    struct mem_item *journal; /* sorted by name, then item bytes */
    size_t njournal;
};

struct mem_item {
    char *name;
    struct buf item;
};

struct mem_writer {
    struct shard_writer base;
    char vid[OBJMETA_VID_LEN + 1];
    unsigned part;
    struct buf data;
};

static const struct drive_ops mem_ops;

static struct drive_mem *
to_mem(struct drive *d)
{
    BUG_ON(d->ops != &mem_ops);
    return container_of(d, struct drive_mem, base);
}

/* ---- lookups (mu held) ---- */

static size_t
bucket_pos(const struct drive_mem *dm, const char *name, bool *found)
{
    size_t lo = 0, hi = dm->nbuckets;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(dm->buckets[mid]->name, name);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static struct mem_bucket *
bucket_find(const struct drive_mem *dm, const char *name)
{
    bool found;
    size_t i = bucket_pos(dm, name, &found);

    return found ? dm->buckets[i] : NULL;
}

/* Position of the first key >= `key` in byte order; `*found` if equal. */
static size_t
obj_pos(const struct mem_bucket *b, struct slice key, bool *found)
{
    size_t lo = 0, hi = b->nobjs;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = slice_cmp(slice_make(b->objs[mid].key, b->objs[mid].key_len), key);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
shard_drop(struct drive_mem *dm, size_t i)
{
    struct mem_shard *s = dm->shards[i];

    dm->used -= s->data.len;
    buf_release(&s->data);
    free(s);
    dm->shards[i] = dm->shards[--dm->nshards];
}

/* Drops the shards of `vid` that are committed (or in tmp). */
static void
shards_drop_vid(struct drive_mem *dm, const char *vid, bool committed)
{
    size_t i = 0;

    while (i < dm->nshards) {
        struct mem_shard *s = dm->shards[i];

        if (s->committed == committed && strcmp(s->vid, vid) == 0)
            shard_drop(dm, i);
        else
            i++;
    }
}

static struct mem_shard *
shard_find(struct drive_mem *dm, const char *vid, unsigned part, bool committed)
{
    size_t i;

    for (i = 0; i < dm->nshards; i++) {
        struct mem_shard *s = dm->shards[i];

        if (s->committed == committed && s->part == part && strcmp(s->vid, vid) == 0)
            return s;
    }
    return NULL;
}

/* ---- drive ---- */

struct drive *
drive_mem_new(const char *name)
{
    struct drive_mem *dm = xcalloc(1, sizeof(*dm));

    drive__init(&dm->base, &mem_ops, name);
    pthread_mutex_init(&dm->mu, NULL);
    buf_init(&dm->format, 0);
    return &dm->base;
}

struct drive *
drive_offline_new(const char *endpoint)
{
    struct drive *d = drive_mem_new(endpoint);

    /* An empty in-memory drive that is offline from the start: every call
     * answers -ERR_OFFLINE, and drive_check() never reports it as empty, so
     * nothing formats or heals it until the server restarts. */
    atomic_store(&d->online, false);
    return d;
}

/* Frees every bucket, object and shard, and format.json (mu held or no other user). */
static void
mem_clear(struct drive_mem *dm)
{
    size_t i, j;

    for (i = 0; i < dm->nbuckets; i++) {
        struct mem_bucket *b = dm->buckets[i];

        for (j = 0; j < b->nobjs; j++) {
            free(b->objs[j].key);
            objmeta_release(&b->objs[j].meta);
        }
        free(b->objs);
        free(b);
    }
    while (dm->nshards > 0)
        shard_drop(dm, 0);
    free(dm->buckets);
    free(dm->shards);
    while (dm->njournal > 0) {
        dm->njournal--;
        free(dm->journal[dm->njournal].name);
        buf_release(&dm->journal[dm->njournal].item);
    }
    free(dm->journal);
    dm->journal = NULL;
    dm->buckets = NULL;
    dm->shards = NULL;
    dm->nbuckets = dm->abuckets = dm->nshards = dm->ashards = 0;
    dm->formatted = false;
    buf_release(&dm->format);
}

static void
mem_close(struct drive *d)
{
    struct drive_mem *dm = to_mem(d);

    mem_clear(dm);
    pthread_mutex_destroy(&dm->mu);
    drive__release(d);
    free(dm);
}

static int
mem_check(struct drive *d)
{
    return drive_is_online(d) ? 0 : -ERR_OFFLINE;
}

static int
mem_reset(struct drive *d)
{
    struct drive_mem *dm = to_mem(d);

    pthread_mutex_lock(&dm->mu);
    mem_clear(dm);
    pthread_mutex_unlock(&dm->mu);
    drive__set_online(d);
    return 0;
}

static int
mem_info(struct drive *d, struct drive_info *out)
{
    struct drive_mem *dm = to_mem(d);

    pthread_mutex_lock(&dm->mu);
    out->total_bytes = MEM_CAPACITY;
    out->free_bytes = dm->used < MEM_CAPACITY ? MEM_CAPACITY - dm->used : 0;
    pthread_mutex_unlock(&dm->mu);
    return 0;
}

static int
mem_format_read(struct drive *d, struct buf *out)
{
    struct drive_mem *dm = to_mem(d);
    int rc = -ERR_NOT_FOUND;

    pthread_mutex_lock(&dm->mu);
    if (dm->formatted) {
        buf_add(out, dm->format.ptr, dm->format.len);
        rc = 0;
    }
    pthread_mutex_unlock(&dm->mu);
    return rc;
}

static int
mem_format_write(struct drive *d, struct slice json)
{
    struct drive_mem *dm = to_mem(d);

    pthread_mutex_lock(&dm->mu);
    buf_clear(&dm->format);
    buf_addslice(&dm->format, json);
    dm->formatted = true;
    pthread_mutex_unlock(&dm->mu);
    return 0;
}

/* ---- buckets ---- */

static int
mem_bucket_make(struct drive *d, const char *bucket, int64_t created_ns)
{
    struct drive_mem *dm = to_mem(d);
    struct mem_bucket *b;
    bool found;
    size_t i;

    pthread_mutex_lock(&dm->mu);
    i = bucket_pos(dm, bucket, &found);
    if (!found) {
        b = xcalloc(1, sizeof(*b));
        snprintf(b->name, sizeof(b->name), "%s", bucket);
        b->created_ns = created_ns;
        if (dm->nbuckets == dm->abuckets) {
            dm->abuckets = dm->abuckets ? 2 * dm->abuckets : 8;
            dm->buckets = xrealloc(dm->buckets, dm->abuckets * sizeof(*dm->buckets));
        }
        memmove(dm->buckets + i + 1, dm->buckets + i, (dm->nbuckets - i) * sizeof(*dm->buckets));
        dm->buckets[i] = b;
        dm->nbuckets++;
    }
    pthread_mutex_unlock(&dm->mu);
    return found ? -ERR_EXISTS : 0;
}

static int
mem_bucket_delete(struct drive *d, const char *bucket, bool force)
{
    struct drive_mem *dm = to_mem(d);
    struct mem_bucket *b;
    bool found;
    size_t i, j;
    int rc = 0;

    pthread_mutex_lock(&dm->mu);
    i = bucket_pos(dm, bucket, &found);
    if (!found) {
        rc = -ERR_NOT_FOUND;
        goto out_unlock;
    }
    b = dm->buckets[i];
    if (b->nobjs > 0 && !force) {
        rc = -ERR_NOT_EMPTY;
        goto out_unlock;
    }
    for (j = 0; j < b->nobjs; j++) {
        shards_drop_vid(dm, b->objs[j].meta.vid, true);
        free(b->objs[j].key);
        objmeta_release(&b->objs[j].meta);
    }
    free(b->objs);
    free(b);
    memmove(dm->buckets + i, dm->buckets + i + 1, (dm->nbuckets - i - 1) * sizeof(*dm->buckets));
    dm->nbuckets--;
out_unlock:
    pthread_mutex_unlock(&dm->mu);
    return rc;
}

static int
mem_bucket_stat(struct drive *d, const char *bucket, int64_t *created_ns)
{
    struct drive_mem *dm = to_mem(d);
    struct mem_bucket *b;
    int rc = -ERR_NOT_FOUND;

    pthread_mutex_lock(&dm->mu);
    b = bucket_find(dm, bucket);
    if (b) {
        *created_ns = b->created_ns;
        rc = 0;
    }
    pthread_mutex_unlock(&dm->mu);
    return rc;
}

static int
mem_bucket_list(struct drive *d, struct bucket_ent **out, size_t *n)
{
    struct drive_mem *dm = to_mem(d);
    struct bucket_ent *ents;
    size_t i;

    pthread_mutex_lock(&dm->mu);
    ents = xcalloc(dm->nbuckets + 1, sizeof(*ents));
    for (i = 0; i < dm->nbuckets; i++) {
        memcpy(ents[i].name, dm->buckets[i]->name, sizeof(ents[i].name));
        ents[i].created_ns = dm->buckets[i]->created_ns;
    }
    *n = dm->nbuckets;
    pthread_mutex_unlock(&dm->mu);
    *out = ents;
    return 0;
}

/* ---- shards ---- */

static int
mem_shard_create(struct drive *d, const char *vid, unsigned part, struct shard_writer **out)
{
    struct mem_writer *w = xcalloc(1, sizeof(*w));

    w->base.drive = d;
    memcpy(w->vid, vid, sizeof(w->vid));
    w->part = part;
    buf_init(&w->data, 0);
    *out = &w->base;
    return 0;
}

static int
mem_shard_append(struct shard_writer *sw, const void *p, size_t n)
{
    struct mem_writer *w = container_of(sw, struct mem_writer, base);

    buf_add(&w->data, p, n);
    return 0;
}

static int
mem_shard_finish(struct shard_writer *sw)
{
    struct mem_writer *w = container_of(sw, struct mem_writer, base);
    struct drive_mem *dm = to_mem(sw->drive);
    struct mem_shard *s;

    pthread_mutex_lock(&dm->mu);
    s = shard_find(dm, w->vid, w->part, false);
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        memcpy(s->vid, w->vid, sizeof(s->vid));
        s->part = w->part;
        buf_init(&s->data, 0);
        if (dm->nshards == dm->ashards) {
            dm->ashards = dm->ashards ? 2 * dm->ashards : 16;
            dm->shards = xrealloc(dm->shards, dm->ashards * sizeof(*dm->shards));
        }
        dm->shards[dm->nshards++] = s;
    }
    dm->used += w->data.len;
    dm->used -= s->data.len;
    buf_release(&s->data);
    s->data = w->data; /* the shard takes the writer's bytes */
    pthread_mutex_unlock(&dm->mu);
    free(w);
    return 0;
}

static void
mem_shard_abort(struct shard_writer *sw)
{
    struct mem_writer *w = container_of(sw, struct mem_writer, base);

    buf_release(&w->data);
    free(w);
}

static int
mem_shard_size(struct drive *d, const char *vid, unsigned part, uint64_t *size)
{
    struct drive_mem *dm = to_mem(d);
    struct mem_shard *s;
    int rc = -ERR_NOT_FOUND;

    pthread_mutex_lock(&dm->mu);
    s = shard_find(dm, vid, part, true);
    if (s) {
        *size = s->data.len;
        rc = 0;
    }
    pthread_mutex_unlock(&dm->mu);
    return rc;
}

static ssize_t
mem_shard_read(struct drive *d, const char *vid, unsigned part, uint64_t off, void *p, size_t n)
{
    struct drive_mem *dm = to_mem(d);
    struct mem_shard *s;
    ssize_t rc = -ERR_NOT_FOUND;

    pthread_mutex_lock(&dm->mu);
    s = shard_find(dm, vid, part, true);
    if (s) {
        size_t got = off < s->data.len ? MIN(n, s->data.len - (size_t)off) : 0;

        if (got)
            memcpy(p, s->data.ptr + off, got);
        rc = (ssize_t)got;
    }
    pthread_mutex_unlock(&dm->mu);
    return rc;
}

/* A new shard in tmp holding a copy of `data` (replacing one of the same name). mu held. */
static void
shard_put_tmp(struct drive_mem *dm, const char *vid, unsigned part, struct slice data)
{
    struct mem_shard *s = shard_find(dm, vid, part, false);

    if (!s) {
        s = xcalloc(1, sizeof(*s));
        snprintf(s->vid, sizeof(s->vid), "%s", vid);
        s->part = part;
        buf_init(&s->data, 0);
        if (dm->nshards == dm->ashards) {
            dm->ashards = dm->ashards ? 2 * dm->ashards : 16;
            dm->shards = xrealloc(dm->shards, dm->ashards * sizeof(*dm->shards));
        }
        dm->shards[dm->nshards++] = s;
    }
    dm->used -= s->data.len;
    buf_clear(&s->data);
    buf_addslice(&s->data, data);
    dm->used += s->data.len;
}

static int
mem_shard_link(struct drive *d, const char *dst_vid, const struct drive_link *links, size_t n)
{
    struct drive_mem *dm = to_mem(d);
    int rc = 0;
    size_t i;

    pthread_mutex_lock(&dm->mu);
    for (i = 0; i < n && rc == 0; i++) {
        struct mem_shard *src = shard_find(dm, links[i].src_vid, links[i].src_part, true);

        if (!src)
            rc = -ERR_NOT_FOUND;
        else /* a copy: nothing here shares bytes, unlike a hard link */
            shard_put_tmp(dm, dst_vid, links[i].dst_part, buf_slice(&src->data));
    }
    pthread_mutex_unlock(&dm->mu);
    return rc;
}

static int
mem_tmp_remove(struct drive *d, const char *vid)
{
    struct drive_mem *dm = to_mem(d);

    pthread_mutex_lock(&dm->mu);
    shards_drop_vid(dm, vid, false);
    pthread_mutex_unlock(&dm->mu);
    return 0;
}

/* ---- records ---- */

/* Makes the tmp shards of `vid` committed (the rename of drive_local.c). mu held. */
static int
commit_shards(struct drive_mem *dm, const char *vid)
{
    bool any = false;
    size_t i;

    for (i = 0; i < dm->nshards; i++) {
        struct mem_shard *s = dm->shards[i];

        if (strcmp(s->vid, vid) == 0)
            any = true;
    }
    if (!any)
        return -ERR_NOT_FOUND;
    for (i = 0; i < dm->nshards; i++) {
        struct mem_shard *s = dm->shards[i];
        struct mem_shard *old;

        if (s->committed || strcmp(s->vid, vid) != 0)
            continue;
        old = shard_find(dm, vid, s->part, true);
        if (!old) {
            s->committed = true;
            continue;
        }
        dm->used -= old->data.len;
        buf_release(&old->data);
        old->data = s->data; /* the committed shard takes the new bytes */
        buf_init(&s->data, 0);
    }
    shards_drop_vid(dm, vid, false);
    return 0;
}

static void
obj_insert(struct mem_bucket *b, size_t i, const char *key, const struct obj_meta *m)
{
    struct mem_obj *o;

    if (b->nobjs == b->alloc) {
        b->alloc = b->alloc ? 2 * b->alloc : 16;
        b->objs = xrealloc(b->objs, b->alloc * sizeof(*b->objs));
    }
    memmove(b->objs + i + 1, b->objs + i, (b->nobjs - i) * sizeof(*b->objs));
    b->nobjs++;
    o = &b->objs[i];
    o->key = xstrdup(key);
    o->key_len = strlen(key);
    objmeta_init(&o->meta);
    objmeta_copy(&o->meta, m);
}

static int
mem_meta_commit(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m)
{
    struct drive_mem *dm = to_mem(d);
    struct mem_bucket *b;
    bool found;
    size_t i;
    int rc = 0;

    pthread_mutex_lock(&dm->mu);
    b = bucket_find(dm, bucket);
    if (!b) {
        rc = -ERR_NOT_FOUND;
        goto out_unlock;
    }
    if (!m->is_inline)
        rc = commit_shards(dm, m->vid);
    if (rc < 0)
        goto out_unlock;
    i = obj_pos(b, slice_cstr(key), &found);
    if (!found) {
        obj_insert(b, i, key, m);
        goto out_unlock;
    }
    if (strcmp(b->objs[i].meta.vid, m->vid) != 0)
        shards_drop_vid(dm, b->objs[i].meta.vid, true);
    objmeta_copy(&b->objs[i].meta, m);
out_unlock:
    pthread_mutex_unlock(&dm->mu);
    return rc;
}

static int
mem_meta_read(struct drive *d, const char *bucket, const char *key, struct obj_meta *out)
{
    struct drive_mem *dm = to_mem(d);
    struct mem_bucket *b;
    bool found = false;
    size_t i = 0;

    pthread_mutex_lock(&dm->mu);
    b = bucket_find(dm, bucket);
    if (b)
        i = obj_pos(b, slice_cstr(key), &found);
    if (found)
        objmeta_copy(out, &b->objs[i].meta);
    pthread_mutex_unlock(&dm->mu);
    return found ? 0 : -ERR_NOT_FOUND;
}

static int
mem_meta_delete(struct drive *d, const char *bucket, const char *key, const char *vid)
{
    struct drive_mem *dm = to_mem(d);
    struct mem_bucket *b;
    struct mem_obj *o;
    bool found = false;
    size_t i = 0;

    pthread_mutex_lock(&dm->mu);
    b = bucket_find(dm, bucket);
    if (b)
        i = obj_pos(b, slice_cstr(key), &found);
    if (found && vid && strcmp(b->objs[i].meta.vid, vid) != 0)
        found = false;
    if (found) {
        o = &b->objs[i];
        shards_drop_vid(dm, o->meta.vid, true);
        free(o->key);
        objmeta_release(&o->meta);
        memmove(o, o + 1, (b->nobjs - i - 1) * sizeof(*o));
        b->nobjs--;
    }
    pthread_mutex_unlock(&dm->mu);
    return found ? 0 : -ERR_NOT_FOUND;
}

/* ---- listing ---- */

struct mem_page {
    struct drive_list_ent *ents;
    size_t n;
};

static void
page_add(struct mem_page *pg, const struct mem_obj *o)
{
    struct drive_list_ent *e;

    pg->ents = xrealloc(pg->ents, (pg->n + 1) * sizeof(*pg->ents));
    e = &pg->ents[pg->n++];
    e->key = xmemdup(o->key, o->key_len + 1);
    e->key_len = o->key_len;
    e->vid = xstrdup(o->meta.vid);
    e->size = o->meta.size;
    e->mtime_ns = o->meta.mtime_ns;
    e->etag = xstrdup(o->meta.etag);
    e->reduced = o->meta.reduced;
}

static void
page_release(struct mem_page *pg)
{
    size_t i;

    for (i = 0; i < pg->n; i++) {
        free((char *)pg->ents[i].key);
        free((char *)pg->ents[i].vid);
        free((char *)pg->ents[i].etag);
    }
    free(pg->ents);
}

/* Copies the matching entries into `pg` (mu held). */
static int
page_fill(struct drive_mem *dm, const char *bucket, struct slice prefix, struct slice after,
          unsigned limit, struct mem_page *pg)
{
    struct mem_bucket *b = bucket_find(dm, bucket);
    bool found;
    size_t i;

    if (!b)
        return -ERR_NOT_FOUND;
    i = obj_pos(b, slice_cmp(after, prefix) > 0 ? after : prefix, &found);
    for (; i < b->nobjs && (limit == 0 || pg->n < limit); i++) {
        struct slice k = slice_make(b->objs[i].key, b->objs[i].key_len);

        if (!slice_starts_with(k, prefix)) {
            if (slice_cmp(k, prefix) > 0)
                break;
            continue;
        }
        if (after.len > 0 && slice_cmp(k, after) <= 0)
            continue;
        page_add(pg, &b->objs[i]);
    }
    return 0;
}

static int
mem_list(struct drive *d, const char *bucket, struct slice prefix, struct slice after,
         unsigned limit, drive_list_fn *cb, void *arg)
{
    struct drive_mem *dm = to_mem(d);
    struct mem_page pg = { NULL, 0 };
    size_t i;
    int rc;

    pthread_mutex_lock(&dm->mu);
    rc = page_fill(dm, bucket, prefix, after, limit, &pg);
    pthread_mutex_unlock(&dm->mu);
    for (i = 0; rc == 0 && i < pg.n; i++) {
        rc = cb(arg, &pg.ents[i]);
        if (rc > 0) {
            rc = 0;
            break;
        }
    }
    page_release(&pg);
    return rc;
}

static int
item_cmp(const struct mem_item *e, const char *name, struct slice item)
{
    int c = strcmp(e->name, name);

    return c ? c : slice_cmp(buf_slice(&e->item), item);
}

/* Position of (name, item) in the journal, and whether it is there (mu held). */
static size_t
journal_pos(const struct drive_mem *dm, const char *name, struct slice item, bool *found)
{
    size_t i;

    for (i = 0; i < dm->njournal; i++) {
        int c = item_cmp(&dm->journal[i], name, item);

        if (c >= 0) {
            *found = c == 0;
            return i;
        }
    }
    *found = false;
    return i;
}

static int
mem_journal_update(struct drive *d, const char *name, const struct slice *put, size_t nput,
                   const struct slice *del, size_t ndel)
{
    struct drive_mem *dm = to_mem(d);
    size_t i, at;
    bool found;

    pthread_mutex_lock(&dm->mu);
    for (i = 0; i < ndel; i++) {
        at = journal_pos(dm, name, del[i], &found);
        if (!found)
            continue;
        free(dm->journal[at].name);
        buf_release(&dm->journal[at].item);
        memmove(dm->journal + at, dm->journal + at + 1,
                (dm->njournal - at - 1) * sizeof(*dm->journal));
        dm->njournal--;
    }
    for (i = 0; i < nput; i++) {
        at = journal_pos(dm, name, put[i], &found);
        if (found)
            continue;
        dm->journal = xrealloc(dm->journal, (dm->njournal + 1) * sizeof(*dm->journal));
        memmove(dm->journal + at + 1, dm->journal + at, (dm->njournal - at) * sizeof(*dm->journal));
        dm->journal[at].name = xstrdup(name);
        buf_init(&dm->journal[at].item, 0);
        buf_addslice(&dm->journal[at].item, put[i]);
        dm->njournal++;
    }
    pthread_mutex_unlock(&dm->mu);
    return 0;
}

static int
mem_journal_list(struct drive *d, const char *name, struct slice after, unsigned limit,
                 drive_journal_fn *cb, void *arg)
{
    struct drive_mem *dm = to_mem(d);
    struct buf copy = BUF_INIT;
    unsigned given = 0;
    size_t i;
    int rc = 0;

    /* One item at a time, without the lock while `cb` runs (it may update the journal). */
    for (;;) {
        bool found;

        pthread_mutex_lock(&dm->mu);
        i = journal_pos(dm, name, given ? buf_slice(&copy) : after, &found);
        if (found)
            i++; /* strictly after */
        if (i >= dm->njournal || strcmp(dm->journal[i].name, name) != 0 ||
            (limit && given >= limit)) {
            pthread_mutex_unlock(&dm->mu);
            break;
        }
        buf_clear(&copy);
        buf_addslice(&copy, buf_slice(&dm->journal[i].item));
        pthread_mutex_unlock(&dm->mu);
        given++;
        rc = cb(arg, buf_slice(&copy));
        if (rc != 0)
            break;
    }
    buf_release(&copy);
    return rc < 0 ? rc : 0;
}

static const struct drive_ops mem_ops = {
    .name = "mem",
    .close = mem_close,
    .check = mem_check,
    .reset = mem_reset,
    .info = mem_info,
    .format_read = mem_format_read,
    .format_write = mem_format_write,
    .bucket_make = mem_bucket_make,
    .bucket_delete = mem_bucket_delete,
    .bucket_stat = mem_bucket_stat,
    .bucket_list = mem_bucket_list,
    .shard_create = mem_shard_create,
    .shard_append = mem_shard_append,
    .shard_finish = mem_shard_finish,
    .shard_abort = mem_shard_abort,
    .shard_read = mem_shard_read,
    .shard_size = mem_shard_size,
    .shard_link = mem_shard_link,
    .tmp_remove = mem_tmp_remove,
    .meta_commit = mem_meta_commit,
    .meta_read = mem_meta_read,
    .meta_delete = mem_meta_delete,
    .list = mem_list,
    .journal_update = mem_journal_update,
    .journal_list = mem_journal_list,
};

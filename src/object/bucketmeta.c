/*
 * object/bucketmeta.c: the one owner of bucket metadata (DESIGN.md
 * "The seams / Bucket metadata").
 *
 * On the drives: every drive of every set keeps the list of buckets in its
 * index; a bucket exists when read quorum of the drives of the first set
 * hold it (all sets are written together), and missing entries are recreated
 * by healing. Names that start with a dot are the layer's own (the system
 * buckets; no S3 bucket name starts with one): objlayer_bucket_list leaves
 * them out. Deleting a bucket removes its configuration documents first, so
 * a bucket made again under the same name starts with none.
 *
 * In memory: one snapshot per node (struct bucket_snap), immutable and
 * refcounted (STYLE 2.5.4): the buckets known to exist, their creation
 * times, and the configuration documents read so far (bucketconfig.c loads
 * them on first use). Requests look a bucket up there without I/O; writers
 * build a new snapshot and swap the pointer under `bucket_mu`. The snapshot
 * is told of changes:
 *   - on this node, by the operations that make them (make, delete, a
 *     document put or deleted), which also call the notify hook of
 *     objlayer_config so that every other node hears of it;
 *   - from another node, by objlayer_bucket_changed(): the bucket is dropped
 *     from the snapshot and read again from the drives on next use;
 *   - as a safety net (a notification lost with a node that was cut off),
 *     by the drive monitor every OBJ_BUCKET_REFRESH_NS, which reads the list
 *     again and forgets documents read more than that long ago.
 * A bucket missing from the snapshot is looked up on the drives (quorum), so
 * a bucket made on another node is found at once even before the
 * notification arrives; only a deletion elsewhere can be seen late (at most
 * until the notification or the refresh), and then the drives, which no
 * longer hold the bucket, refuse the writes.
 */
#include "util/base.h"

#include "obs/log.h"
#include "object/internal.h"
#include "util/clock.h"

struct stat_arg {
    const char *bucket;
    int64_t created_ns;
};

static int
stat_job(struct eset *set, unsigned j, void *arg)
{
    struct stat_arg *a = arg;
    int64_t created;
    int rc = drive_bucket_stat(set->drives[j], a->bucket, &created);

    if (rc == 0)
        __atomic_store_n(&a->created_ns, created, __ATOMIC_RELAXED);
    return rc;
}

/* ---- documents and snapshots ---- */

struct bucket_doc *
object__doc_new(struct slice text)
{
    struct bucket_doc *d = xmalloc(sizeof(*d) + text.len + 1);

    atomic_init(&d->refs, 1);
    d->len = text.len;
    if (text.len)
        memcpy(d->text, text.ptr, text.len);
    d->text[text.len] = '\0';
    return d;
}

static struct bucket_doc *
doc_ref(struct bucket_doc *d)
{
    if (d)
        atomic_fetch_add(&d->refs, 1);
    return d;
}

void
object__doc_unref(struct bucket_doc *d)
{
    if (d && atomic_fetch_sub(&d->refs, 1) == 1)
        free(d);
}

static struct bucket_snap *
snap_new(size_t n)
{
    struct bucket_snap *s = xcalloc(1, sizeof(*s) + n * sizeof(s->recs[0]));

    atomic_init(&s->refs, 1);
    s->n = n;
    return s;
}

void
object__snap_unref(struct bucket_snap *s)
{
    size_t i;
    unsigned d;

    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (i = 0; i < s->n; i++)
        for (d = 0; d < OBJ_BUCKET_DOCS; d++)
            object__doc_unref(s->recs[i].docs[d]);
    free(s);
}

struct bucket_snap *
object__snap_get(struct objlayer *ol)
{
    struct bucket_snap *s;

    /* only the load and the increment: a writer may not drop the last reference between them */
    pthread_mutex_lock(&ol->bucket_snap_mu);
    s = ol->bucket_snap;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&ol->bucket_snap_mu);
    return s;
}

static int
rec_cmp(const void *key, const void *rec)
{
    return strcmp(key, ((const struct bucket_rec *)rec)->name);
}

const struct bucket_rec *
object__snap_find(const struct bucket_snap *s, const char *bucket)
{
    return bsearch(bucket, s->recs, s->n, sizeof(s->recs[0]), rec_cmp);
}

/* Copies record `src` into `dst`, taking references to its documents. */
static void
rec_copy(struct bucket_rec *dst, const struct bucket_rec *src)
{
    unsigned d;

    *dst = *src;
    for (d = 0; d < OBJ_BUCKET_DOCS; d++)
        doc_ref(dst->docs[d]);
}

/* Publishes `s` (its reference passes to the layer); call with bucket_mu held. */
static void
snap_publish(struct objlayer *ol, struct bucket_snap *s)
{
    struct bucket_snap *old;

    pthread_mutex_lock(&ol->bucket_snap_mu);
    old = ol->bucket_snap;
    ol->bucket_snap = s;
    pthread_mutex_unlock(&ol->bucket_snap_mu);
    object__snap_unref(old);
}

/*
 * A new snapshot: the current one with bucket `name` set to `rec` (added or
 * replaced; its documents are referenced anew), or removed (`rec` NULL).
 * Call with bucket_mu held.
 */
static void
snap_set_locked(struct objlayer *ol, const char *name, const struct bucket_rec *rec)
{
    struct bucket_snap *cur, *s;
    size_t i, o = 0;
    bool placed = false;

    cur = object__snap_get(ol);
    s = snap_new(cur->n + 1);
    for (i = 0; i <= cur->n; i++) {
        int c = i < cur->n ? strcmp(cur->recs[i].name, name) : 1;

        if (c >= 0 && !placed && rec) {
            rec_copy(&s->recs[o++], rec);
            placed = true;
        }
        if (i < cur->n && c != 0)
            rec_copy(&s->recs[o++], &cur->recs[i]);
    }
    s->n = o;
    object__snap_unref(cur);
    snap_publish(ol, s);
}

void
object__snap_set_doc(struct objlayer *ol, const char *bucket, unsigned doc, struct bucket_doc *d,
                     uint64_t gen)
{
    struct bucket_snap *cur;
    const struct bucket_rec *r;
    struct bucket_rec rec;

    pthread_mutex_lock(&ol->bucket_mu);
    cur = object__snap_get(ol);
    r = object__snap_find(cur, bucket);
    /* a document read before a change this node heard of since may be stale: not kept */
    if (r && gen == atomic_load(&ol->bucket_gen)) {
        rec = *r; /* shallow: snap_set_locked() takes its own references */
        rec.docs[doc] = d;
        rec.doc_state[doc] = d ? OBJ_DOC_LOADED : OBJ_DOC_NONE;
        rec.doc_read_ns[doc] = clock_mono_ns();
        snap_set_locked(ol, bucket, &rec);
    }
    object__snap_unref(cur);
    pthread_mutex_unlock(&ol->bucket_mu);
}

void
object__bucket_changed(struct objlayer *ol, const char *bucket, bool tell_peers)
{
    pthread_mutex_lock(&ol->bucket_mu);
    atomic_fetch_add(&ol->bucket_gen, 1);
    snap_set_locked(ol, bucket, NULL);
    pthread_mutex_unlock(&ol->bucket_mu);
    if (tell_peers && ol->notify)
        ol->notify(ol->notify_arg, "bucket", bucket);
}

/*
 * Replaces the snapshot by the list `b[0..n)` read from the drives, keeping
 * the documents of buckets that stay (same creation time) unless read more
 * than OBJ_BUCKET_REFRESH_NS ago.
 */
void
object__snap_rebuild(struct objlayer *ol, const struct obj_bucket *b, size_t n, uint64_t gen)
{
    struct bucket_snap *cur, *s;
    int64_t now = clock_mono_ns();
    size_t i;
    unsigned d;

    pthread_mutex_lock(&ol->bucket_mu);
    if (gen != atomic_load(&ol->bucket_gen)) { /* a change since the list was read */
        pthread_mutex_unlock(&ol->bucket_mu);
        return;
    }
    cur = object__snap_get(ol);
    s = snap_new(n);
    for (i = 0; i < n; i++) {
        const struct bucket_rec *old = object__snap_find(cur, b[i].name);
        struct bucket_rec *r = &s->recs[i];

        if (old && old->created_ns == b[i].created_ns)
            rec_copy(r, old);
        memcpy(r->name, b[i].name, sizeof(r->name));
        r->created_ns = b[i].created_ns;
        for (d = 0; d < OBJ_BUCKET_DOCS; d++) {
            if (r->doc_state[d] && now - r->doc_read_ns[d] <= OBJ_BUCKET_REFRESH_NS)
                continue;
            object__doc_unref(r->docs[d]);
            r->docs[d] = NULL;
            r->doc_state[d] = OBJ_DOC_UNKNOWN;
        }
    }
    object__snap_unref(cur);
    snap_publish(ol, s);
    pthread_mutex_unlock(&ol->bucket_mu);
}

/* ---- on the drives ---- */

static int
cmp_bucket(const void *a, const void *b)
{
    return strcmp(((const struct bucket_ent *)a)->name, ((const struct bucket_ent *)b)->name);
}

_Static_assert(sizeof(((struct obj_bucket *)0)->name) == sizeof(((struct bucket_ent *)0)->name),
               "bucket names copy whole");
_Static_assert(sizeof(((struct bucket_rec *)0)->name) == sizeof(((struct bucket_ent *)0)->name),
               "bucket names copy whole");

struct list_job_arg {
    struct bucket_ent *lists[OBJ_MAX_SET];
    size_t ns[OBJ_MAX_SET];
};

static int
list_job(struct eset *set, unsigned j, void *arg)
{
    struct list_job_arg *a = arg;

    return drive_bucket_list(set->drives[j], &a->lists[j], &a->ns[j]);
}

/*
 * Every bucket read quorum of set 0's drives hold, sorted, system buckets
 * included (`*out` malloc'd).
 */
int
object__bucket_read_list(struct objlayer *ol, struct obj_bucket **out, size_t *n)
{
    struct eset *set = &ol->sets[0];
    struct list_job_arg a = { 0 };
    struct bucket_ent *all = NULL;
    struct obj_bucket *res;
    size_t nall = 0, nres = 0, i, run;
    int rcs[OBJ_MAX_SET];
    unsigned j, online = 0;

    object__run_meta(set, NULL, list_job, &a, rcs);
    for (j = 0; j < set->n; j++) {
        if (rcs[j] < 0)
            continue;
        online++;
        all = xrealloc(all, (nall + a.ns[j] + 1) * sizeof(*all));
        if (a.ns[j]) /* an empty drive may answer NULL: memcpy from NULL is undefined */
            memcpy(all + nall, a.lists[j], a.ns[j] * sizeof(*all));
        nall += a.ns[j];
        free(a.lists[j]);
    }
    if (online < set->k) {
        free(all);
        return -ERR_QUORUM;
    }
    if (nall)
        qsort(all, nall, sizeof(*all), cmp_bucket);
    res = xcalloc(nall ? nall : 1, sizeof(*res));
    for (i = 0; i < nall; i += run) {
        for (run = 1; i + run < nall && !strcmp(all[i].name, all[i + run].name); run++)
            ;
        if (run >= set->k) {
            memcpy(res[nres].name, all[i].name, sizeof(res[nres].name));
            res[nres++].created_ns = all[i].created_ns;
        }
    }
    free(all);
    *out = res;
    *n = nres;
    return 0;
}

void
object__bucket_refresh(struct objlayer *ol)
{
    uint64_t gen = atomic_load(&ol->bucket_gen);
    struct obj_bucket *b;
    size_t n;

    if (object__bucket_read_list(ol, &b, &n) < 0)
        return; /* keep what is known: the next refresh tries again */
    object__snap_rebuild(ol, b, n, gen);
    free(b);
}

/* The bucket on the drives (quorum of set 0); added to the snapshot when found. */
int
object__bucket_stat_drives(struct objlayer *ol, const char *bucket, int64_t *created_ns)
{
    struct eset *set = &ol->sets[0];
    struct stat_arg a = { .bucket = bucket };
    uint64_t gen = atomic_load(&ol->bucket_gen);
    struct bucket_rec rec = { 0 };
    int rcs[OBJ_MAX_SET];

    object__run_meta(set, NULL, stat_job, &a, rcs);
    if (object__count_rc(rcs, set->n, 0) >= set->k) {
        if (created_ns)
            *created_ns = a.created_ns;
        snprintf(rec.name, sizeof(rec.name), "%s", bucket);
        rec.created_ns = a.created_ns;
        pthread_mutex_lock(&ol->bucket_mu);
        if (gen == atomic_load(&ol->bucket_gen))
            snap_set_locked(ol, bucket, &rec);
        pthread_mutex_unlock(&ol->bucket_mu);
        return 0;
    }
    /*
     * A bucket is made on at least a write quorum of drives: when fewer than
     * that may hold it (those that have it and those that did not answer), it
     * was never made, or it was deleted while some drives were away.
     */
    if (object__count_rc(rcs, set->n, -ERR_NOT_FOUND) >
        set->n - object__write_quorum(set->k, set->m))
        return -ERR_BUCKET_NOT_FOUND;
    return -ERR_QUORUM;
}

int
object__bucket_check(struct objlayer *ol, const char *bucket)
{
    return object__bucket_stat(ol, bucket, NULL);
}

int
object__bucket_stat(struct objlayer *ol, const char *bucket, int64_t *created_ns)
{
    struct bucket_snap *s = object__snap_get(ol);
    const struct bucket_rec *r = object__snap_find(s, bucket);
    int64_t created = r ? r->created_ns : 0;

    object__snap_unref(s);
    if (!r)
        return object__bucket_stat_drives(ol, bucket, created_ns);
    if (created_ns)
        *created_ns = created;
    return 0;
}

void
object__buckets_init(struct objlayer *ol)
{
    pthread_mutex_init(&ol->bucket_mu, NULL);
    pthread_mutex_init(&ol->bucket_snap_mu, NULL);
    ol->bucket_snap = snap_new(0);
    atomic_init(&ol->bucket_gen, 0);
}

void
object__buckets_release(struct objlayer *ol)
{
    object__snap_unref(ol->bucket_snap);
    ol->bucket_snap = NULL;
    pthread_mutex_destroy(&ol->bucket_mu);
    pthread_mutex_destroy(&ol->bucket_snap_mu);
}

/*
 * object/list.c: listings merged over drives and sets. Each drive lists its
 * own sorted index (no metadata file is read per object); a cursor per drive
 * holds one page; the merge takes the smallest key among the cursors, counts
 * on how many drives of its set it is, and emits it when that count reaches
 * the threshold (the set's read quorum for S3 listings; 1 for healing, which
 * must see every key that any drive holds).
 */
#include "util/base.h"

#include "object/objlayer.h"

#include "object/internal.h"
#include "util/buf.h"

#define LIST_PAGE 512
#define MERGE_END 2 /* merge_step(): no key left */

struct list_row {
    char *key;
    size_t key_len;
    char vid[OBJMETA_VID_LEN + 1];
    char etag[72];
    uint64_t size;
    int64_t mtime_ns;
    bool reduced;
};

struct cursor {
    struct drive *drive;
    unsigned set;
    struct list_row *rows;
    size_t nrows, pos;
    bool eof;
    struct buf last; /* last key fetched: the next page starts after it */
    bool failed;     /* the drive failed a page: its keys are unknown from here on */
};

static int
page_cb(void *arg, const struct drive_list_ent *e)
{
    struct cursor *c = arg;
    struct list_row *r;

    /* Never more than a page, whatever the drive does with the limit. */
    if (c->nrows == LIST_PAGE)
        return 1;
    r = &c->rows[c->nrows++];
    r->key = xmalloc(e->key_len + 1); /* the drive's key need not end in a NUL */
    memcpy(r->key, e->key, e->key_len);
    r->key[e->key_len] = '\0';
    r->key_len = e->key_len;
    snprintf(r->vid, sizeof(r->vid), "%s", e->vid ? e->vid : "");
    snprintf(r->etag, sizeof(r->etag), "%s", e->etag ? e->etag : "");
    r->size = e->size;
    r->mtime_ns = e->mtime_ns;
    r->reduced = e->reduced;
    return 0;
}

static void
cursor_clear_rows(struct cursor *c)
{
    size_t i;

    for (i = 0; i < c->nrows; i++)
        free(c->rows[i].key);
    c->nrows = c->pos = 0;
}

/* Fetches the next page; a drive that fails ends its cursor (eof, failed). */
static int
cursor_fill(struct cursor *c, const char *bucket, struct slice prefix)
{
    int rc;

    cursor_clear_rows(c);
    if (c->eof)
        return 0;
    rc = drive_list(c->drive, bucket, prefix, buf_slice(&c->last), LIST_PAGE, page_cb, c);
    if (rc < 0 && rc != -ERR_NOT_FOUND) {
        cursor_clear_rows(c);
        c->eof = c->failed = true;
        return rc;
    }
    if (c->nrows < LIST_PAGE)
        c->eof = true;
    if (c->nrows) {
        buf_clear(&c->last);
        buf_add(&c->last, c->rows[c->nrows - 1].key, c->rows[c->nrows - 1].key_len);
    }
    return 0;
}

static int
row_cmp(const struct list_row *a, const struct list_row *b)
{
    return slice_cmp(slice_make(a->key, a->key_len), slice_make(b->key, b->key_len));
}

struct merge {
    struct objlayer *ol;
    const char *bucket;
    struct slice prefix;
    struct cursor *cs;
    size_t nc;
    unsigned min_count;
    unsigned *listed;     /* per set: cursors that have not failed */
    struct cursor **hits; /* scratch: the cursors holding the key being merged */
    struct cursor **at;   /* cursor of drive j of set s at [s * OBJ_MAX_SET + j], or NULL */
};

static bool
needs_page(const struct cursor *c)
{
    return c->pos == c->nrows && !c->eof;
}

static int
fill_job(struct eset *set, unsigned j, void *arg)
{
    struct merge *mg = arg;

    return cursor_fill(mg->at[set->idx * OBJ_MAX_SET + j], mg->bucket, mg->prefix);
}

/*
 * Fetches the next page of every cursor that has run out, the drives of a
 * set at once (they run out together: they hold mostly the same keys, and
 * each may be another node's drive, a round trip each). A failure counts as
 * in cursor_head().
 */
static int
prefill(struct merge *mg)
{
    unsigned s, j;

    for (s = 0; s < mg->ol->nsets; s++) {
        struct eset *set = &mg->ol->sets[s];
        bool mask[OBJ_MAX_SET];
        int rcs[OBJ_MAX_SET];
        unsigned want = 0;

        for (j = 0; j < set->n; j++) {
            struct cursor *c = mg->at[s * OBJ_MAX_SET + j];

            mask[j] = c && needs_page(c);
            want += mask[j];
        }
        if (want < 2) /* one: cursor_head() fetches it as it goes */
            continue;
        object__run_meta(set, mask, fill_job, mg, rcs);
        for (j = 0; j < set->n; j++)
            if (mask[j] && rcs[j] < 0 && --mg->listed[s] < set->k)
                return -ERR_QUORUM;
    }
    return 0;
}

/*
 * The head row of cursor c, fetching a page when needed. A drive that fails
 * mid-listing may hide keys: below read quorum of listed drives in a set, the
 * listing fails rather than answer a short list (an empty bucket would be
 * deleted with what the failed drives hold).
 */
static int
cursor_head(struct merge *mg, struct cursor *c, struct list_row **out)
{
    *out = NULL;
    if (needs_page(c) && cursor_fill(c, mg->bucket, mg->prefix) < 0 &&
        --mg->listed[c->set] < mg->ol->sets[c->set].k)
        return -ERR_QUORUM;
    if (c->pos < c->nrows)
        *out = &c->rows[c->pos];
    return 0;
}

static bool
row_newer(const struct list_row *a, const struct list_row *b)
{
    return a->mtime_ns > b->mtime_ns || (a->mtime_ns == b->mtime_ns && strcmp(a->vid, b->vid) > 0);
}

/*
 * Of the cursors in mg->hits (all at the same key), the row of the newest
 * version held by at least the threshold of drives of its set (counted per
 * version, as a read needs k copies of one version), or NULL.
 */
static const struct list_row *
pick_row(struct merge *mg, size_t nhits)
{
    const struct list_row *best = NULL;
    size_t i, j;

    for (i = 0; i < nhits; i++) {
        const struct cursor *c = mg->hits[i];
        const struct list_row *r = &c->rows[c->pos];
        unsigned count = 0, need = mg->min_count ? mg->min_count : mg->ol->sets[c->set].k;

        for (j = 0; j < nhits; j++) {
            const struct cursor *o = mg->hits[j];

            if (o->set == c->set && strcmp(o->rows[o->pos].vid, r->vid) == 0)
                count++;
        }
        if (count >= need && (!best || row_newer(r, best)))
            best = r;
    }
    return best;
}

/*
 * Merges the smallest key of the cursors into `out` (key malloc'd) and
 * advances every cursor past it. Returns 1 if it reaches the threshold, 0 if
 * not, MERGE_END when no key is left, or a negative error.
 */
static int
merge_step(struct merge *mg, struct list_row *out)
{
    struct list_row *min = NULL, *h;
    const struct list_row *best;
    size_t i, nhits = 0;
    int rc = prefill(mg);

    if (rc < 0)
        return rc;
    for (i = 0; i < mg->nc; i++) {
        rc = cursor_head(mg, &mg->cs[i], &h);
        if (rc < 0)
            return rc;
        if (h && (!min || row_cmp(h, min) < 0))
            min = h;
    }
    if (!min)
        return MERGE_END;
    for (i = 0; i < mg->nc; i++) {
        struct cursor *c = &mg->cs[i];

        if (c->pos < c->nrows && row_cmp(&c->rows[c->pos], min) == 0)
            mg->hits[nhits++] = c;
    }
    best = pick_row(mg, nhits);
    *out = best ? *best : *min;
    out->key = xmemdup(min->key, min->key_len + 1);
    for (i = 0; i < nhits; i++)
        mg->hits[i]->pos++;
    return best ? 1 : 0;
}

static void
merge_release(struct merge *mg)
{
    size_t i;

    for (i = 0; i < mg->nc; i++) {
        cursor_clear_rows(&mg->cs[i]);
        free(mg->cs[i].rows);
        buf_release(&mg->cs[i].last);
    }
    free(mg->cs);
    free(mg->listed);
    free(mg->hits);
    free(mg->at);
}

static int
merge_init(struct merge *mg, struct objlayer *ol, const char *bucket, struct slice prefix,
           struct slice after, unsigned min_count)
{
    unsigned s, j;
    size_t n = 0;

    *mg = (struct merge){ .ol = ol, .bucket = bucket, .prefix = prefix, .min_count = min_count };
    mg->cs = xcalloc(ol->ndrives, sizeof(*mg->cs));
    mg->hits = xcalloc(ol->ndrives, sizeof(*mg->hits));
    mg->listed = xcalloc(ol->nsets, sizeof(*mg->listed));
    mg->at = xcalloc((size_t)ol->nsets * OBJ_MAX_SET, sizeof(*mg->at));
    for (s = 0; s < ol->nsets; s++) {
        struct eset *set = &ol->sets[s];

        for (j = 0; j < set->n; j++) {
            struct cursor *c = &mg->cs[n];

            if (!drive_is_online(set->drives[j]))
                continue;
            mg->listed[s]++;
            c->drive = set->drives[j];
            c->set = s;
            mg->at[s * OBJ_MAX_SET + j] = c;
            c->rows = xcalloc(LIST_PAGE, sizeof(*c->rows));
            buf_init(&c->last, 0);
            buf_addslice(&c->last, after);
            n++;
        }
        mg->nc = n;
        if (mg->listed[s] < set->k)
            return -ERR_QUORUM;
    }
    return 0;
}

int
object__list(struct objlayer *ol, const char *bucket, struct slice prefix, struct slice after,
             unsigned limit, unsigned min_count, obj_list_fn *cb, void *arg)
{
    struct merge mg;
    struct list_row row;
    int rc, step, emitted = 0;

    rc = merge_init(&mg, ol, bucket, prefix, after, min_count);
    while (rc == 0 && (limit == 0 || (unsigned)emitted < limit)) {
        step = merge_step(&mg, &row);
        if (step == MERGE_END)
            break;
        if (step < 0) {
            rc = step;
            break;
        }
        if (step == 1) {
            struct obj_list_ent e = {
                .key = slice_make(row.key, row.key_len),
                .size = row.size,
                .mtime_ns = row.mtime_ns,
                .etag = row.etag,
                .reduced = row.reduced,
            };

            emitted++;
            rc = cb ? cb(arg, &e) : 0;
        }
        free(row.key);
        if (rc == 1) {
            rc = 0;
            break;
        }
    }
    merge_release(&mg);
    return rc < 0 ? rc : emitted;
}

int
object__list_bucket(struct objlayer *ol, const char *bucket, struct slice prefix,
                    struct slice after, unsigned limit, obj_list_fn *cb, void *arg)
{
    int rc = object__bucket_stat(ol, bucket, NULL);

    if (rc < 0)
        return rc;
    rc = object__list(ol, bucket, prefix, after, limit, 0, cb, arg);
    return rc < 0 ? rc : 0;
}

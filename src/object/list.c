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

struct list_row {
    char *key;
    size_t key_len;
    char vid[OBJMETA_VID_LEN + 1];
    char etag[72];
    uint64_t size;
    int64_t mtime_ns;
};

struct cursor {
    struct drive *drive;
    unsigned set;
    struct list_row *rows;
    size_t nrows, pos;
    bool eof;
    struct buf last; /* last key fetched: the next page starts after it */
};

struct page_arg {
    struct cursor *c;
};

static int
page_cb(void *arg, const struct drive_list_ent *e)
{
    struct cursor *c = arg;
    struct list_row *r = &c->rows[c->nrows++];

    r->key = xmemdup(e->key, e->key_len + 1);
    r->key[e->key_len] = '\0';
    r->key_len = e->key_len;
    snprintf(r->vid, sizeof(r->vid), "%s", e->vid ? e->vid : "");
    snprintf(r->etag, sizeof(r->etag), "%s", e->etag ? e->etag : "");
    r->size = e->size;
    r->mtime_ns = e->mtime_ns;
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

/* Fetches the next page; a drive that fails is treated as empty (eof). */
static int
cursor_fill(struct cursor *c, const char *bucket, struct slice prefix)
{
    int rc;

    cursor_clear_rows(c);
    if (c->eof)
        return 0;
    rc = drive_list(c->drive, bucket, prefix, buf_slice(&c->last), LIST_PAGE, page_cb, c);
    if (rc < 0 && rc != -ERR_NOT_FOUND) {
        c->eof = true;
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

static struct list_row *
cursor_head(struct cursor *c, const char *bucket, struct slice prefix)
{
    if (c->pos == c->nrows && !c->eof)
        cursor_fill(c, bucket, prefix);
    return c->pos < c->nrows ? &c->rows[c->pos] : NULL;
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
};

/*
 * Emits the smallest key: counts the cursors of each set that hold it, picks
 * the newest row of the set where it reaches the threshold, advances them.
 * Returns 1 if emitted, 0 if the key fell below the threshold, -1 at the end.
 */
static int
merge_step(struct merge *mg, struct list_row *out, bool *owned)
{
    struct list_row *min = NULL, *best = NULL;
    unsigned counts[64] = { 0 }, need;
    size_t i;
    bool emit = false;

    for (i = 0; i < mg->nc; i++) {
        struct list_row *h = cursor_head(&mg->cs[i], mg->bucket, mg->prefix);

        if (h && (!min || row_cmp(h, min) < 0))
            min = h;
    }
    if (!min)
        return -1;
    *out = *min;
    out->key = xmemdup(min->key, min->key_len + 1);
    *owned = true;
    for (i = 0; i < mg->nc; i++) {
        struct cursor *c = &mg->cs[i];
        struct list_row *h = cursor_head(c, mg->bucket, mg->prefix);

        if (!h || row_cmp(h, out) != 0)
            continue;
        counts[c->set % 64]++;
        need = mg->min_count ? mg->min_count : mg->ol->sets[c->set].k;
        if (counts[c->set % 64] >= need)
            emit = true;
        if (!best || h->mtime_ns > best->mtime_ns)
            best = h;
        c->pos++;
    }
    if (best) {
        char *key = out->key;

        *out = *best;
        out->key = key;
    }
    return emit ? 1 : 0;
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
}

static int
merge_init(struct merge *mg, struct objlayer *ol, const char *bucket, struct slice prefix,
           struct slice after, unsigned min_count)
{
    unsigned s, j, online;
    size_t n = 0;

    *mg = (struct merge){ .ol = ol, .bucket = bucket, .prefix = prefix, .min_count = min_count };
    mg->cs = xcalloc(ol->ndrives, sizeof(*mg->cs));
    for (s = 0; s < ol->nsets; s++) {
        struct eset *set = &ol->sets[s];

        online = 0;
        for (j = 0; j < set->n; j++) {
            struct cursor *c = &mg->cs[n];

            if (!drive_is_online(set->drives[j]))
                continue;
            online++;
            c->drive = set->drives[j];
            c->set = s;
            c->rows = xcalloc(LIST_PAGE, sizeof(*c->rows));
            buf_init(&c->last, 0);
            buf_addslice(&c->last, after);
            n++;
        }
        mg->nc = n;
        if (online < set->k)
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
    bool owned = false;
    int rc, step, emitted = 0;

    rc = merge_init(&mg, ol, bucket, prefix, after, min_count);
    while (rc == 0 && (limit == 0 || (unsigned)emitted < limit)) {
        step = merge_step(&mg, &row, &owned);
        if (step < 0)
            break;
        if (step == 1) {
            struct obj_list_ent e = {
                .key = slice_make(row.key, row.key_len),
                .size = row.size,
                .mtime_ns = row.mtime_ns,
                .etag = row.etag,
            };

            emitted++;
            rc = cb ? cb(arg, &e) : 0;
        }
        free(row.key);
        owned = false;
        if (rc == 1) {
            rc = 0;
            break;
        }
    }
    merge_release(&mg);
    return rc < 0 ? rc : emitted;
}

int
objlayer_list(struct objlayer *ol, const char *bucket, struct slice prefix, struct slice after,
              unsigned limit, obj_list_fn *cb, void *arg)
{
    int rc = objlayer_bucket_stat(ol, bucket, NULL);

    if (rc < 0)
        return rc;
    rc = object__list(ol, bucket, prefix, after, limit, 0, cb, arg);
    return rc < 0 ? rc : 0;
}

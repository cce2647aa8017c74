/*
 * object/bucketconfig.c: bucket configuration documents (CORS, tagging;
 * later policy, lifecycle, versioning) as system objects (DESIGN.md "A
 * cluster"): object "buckets/<bucket>/<name>" of the reserved bucket
 * `.basalt.sys`, erasure coded, quorum-read and healed like any object.
 *
 * The reserved bucket's name starts with a dot, which no S3 bucket name may
 * (s3/ refuses it before calling the layer), so no client reaches it; bucket.c
 * hides every such name from objlayer_bucket_list. It is created by the first
 * put of a document. Bucket names hold no '/', so "buckets/<bucket>/" is the
 * prefix of exactly one bucket's documents.
 *
 * object__bucket_config_delete() with a NULL name removes every document of
 * the bucket, without checking that the bucket exists: objlayer_bucket_delete
 * calls it before removing the bucket, so a bucket created again later under
 * the same name starts with no configuration.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include "object/internal.h"

#define SYS_BUCKET ".basalt.sys"
#define CONFIG_MAX (1u << 20) /* a larger document is not one we wrote */

static void
config_key(struct buf *k, const char *bucket, const char *name)
{
    buf_addf(k, "buckets/%s/%s", bucket, name ? name : "");
}

static int
ensure_sys_bucket(struct objlayer *ol)
{
    int rc = object__bucket_stat(ol, SYS_BUCKET, NULL);

    if (rc == -ERR_BUCKET_NOT_FOUND)
        rc = object__bucket_make(ol, SYS_BUCKET);
    return rc == -ERR_BUCKET_EXISTS || rc == -ERR_EXISTS ? 0 : rc;
}

static int
read_all(struct obj_get *g, uint64_t size, struct buf *out)
{
    struct buf doc = BUF_INIT;
    ssize_t n;

    if (size > CONFIG_MAX)
        return -ERR_CORRUPT;
    buf_grow(&doc, (size_t)size);
    n = obj_get_read(g, 0, doc.ptr, (size_t)size);
    if (n < 0 || (uint64_t)n != size) {
        buf_release(&doc);
        return n < 0 ? (int)n : -ERR_CORRUPT;
    }
    buf_setlen(&doc, (size_t)n);
    buf_addslice(out, buf_slice(&doc));
    buf_release(&doc);
    return 0;
}

/* Kinds of documents kept in the bucket snapshot (bucket.c), by index. */
static const char *const doc_names[OBJ_BUCKET_DOCS] = {
    "cors",       "tagging",      "policy", "versioning", "lifecycle",          "object-lock",
    "encryption", "notification", "acl",    "ownership",  "public-access-block"
};

int
object__doc_index(const char *name)
{
    unsigned i;

    for (i = 0; i < OBJ_BUCKET_DOCS; i++)
        if (doc_names[i] && !strcmp(doc_names[i], name))
            return (int)i;
    return -1;
}

/* The document from its system object: 0 and `out`, -ERR_NOT_FOUND, or an error. */
static int
read_doc(struct objlayer *ol, const char *bucket, const char *name, struct buf *out)
{
    struct buf key = BUF_INIT;
    struct obj_get *g = NULL;
    struct obj_info info;
    int rc;

    obj_info_init(&info);
    config_key(&key, bucket, name);
    rc = object__get_open(ol, SYS_BUCKET, key.ptr, &g, &info);
    if (rc == -ERR_BUCKET_NOT_FOUND || rc == -ERR_KEY_NOT_FOUND)
        rc = -ERR_NOT_FOUND;
    if (rc == 0) {
        rc = read_all(g, info.size, out);
        obj_get_close(g);
    }
    obj_info_release(&info);
    buf_release(&key);
    return rc;
}

/*
 * From the snapshot when it holds the document (or knows there is none), else
 * read from its system object and kept there: a bucket's configuration is
 * read on every request that needs it (CORS for each browser request, later
 * policies for each request), so it must cost no I/O.
 */
int
object__bucket_config_get(struct objlayer *ol, const char *bucket, const char *name,
                          struct buf *out)
{
    int idx = object__doc_index(name), rc = object__bucket_stat(ol, bucket, NULL);
    struct bucket_snap *s;
    const struct bucket_rec *r;
    uint64_t gen;

    if (rc < 0 || idx < 0)
        return rc < 0 ? rc : read_doc(ol, bucket, name, out);
    s = object__snap_get(ol);
    r = object__snap_find(s, bucket);
    if (r && r->doc_state[idx] != OBJ_DOC_UNKNOWN) {
        rc = r->doc_state[idx] == OBJ_DOC_NONE ? -ERR_NOT_FOUND : 0;
        if (rc == 0)
            buf_add(out, r->docs[idx]->text, r->docs[idx]->len);
        object__snap_unref(s);
        return rc;
    }
    object__snap_unref(s);
    gen = atomic_load(&ol->bucket_gen); /* before the read: a change meanwhile drops it */
    rc = read_doc(ol, bucket, name, out);
    if (rc == 0 || rc == -ERR_NOT_FOUND) {
        struct bucket_doc *d = rc == 0 ? object__doc_new(buf_slice(out)) : NULL;

        object__snap_set_doc(ol, bucket, (unsigned)idx, d, gen);
        object__doc_unref(d);
    }
    return rc;
}

int
object__bucket_config_put(struct objlayer *ol, const char *bucket, const char *name,
                          struct slice doc)
{
    struct obj_put_opts opts = { .size = (int64_t)doc.len };
    struct buf key = BUF_INIT;
    struct obj_put *p;
    int rc = object__bucket_stat(ol, bucket, NULL);

    if (rc == 0 && doc.len > CONFIG_MAX)
        rc = -ERR_TOO_LARGE;
    if (rc == 0)
        rc = ensure_sys_bucket(ol);
    if (rc < 0)
        return rc;
    config_key(&key, bucket, name);
    rc = object__put_begin(ol, SYS_BUCKET, key.ptr, &opts, NULL, NULL, &p);
    if (rc == 0) {
        rc = obj_put_write(p, doc.ptr, doc.len);
        if (rc == 0)
            rc = obj_put_finish(p, NULL);
        else
            obj_put_abort(p);
    }
    buf_release(&key);
    object__bucket_changed(ol, bucket, true); /* even on failure: it may have half happened */
    return rc;
}

struct drop_ctx {
    struct buf keys; /* NUL-separated */
    size_t n;
};

static int
collect_key(void *arg, const struct obj_list_ent *ent)
{
    struct drop_ctx *c = arg;

    buf_addslice(&c->keys, ent->key);
    buf_addch(&c->keys, '\0');
    c->n++;
    return 0;
}

/* Every document of `bucket` (a bucket holds a handful: the listing is small). */
static int
drop_all(struct objlayer *ol, const char *bucket)
{
    struct drop_ctx c = { .keys = BUF_INIT };
    struct buf prefix = BUF_INIT;
    size_t pos = 0, i;
    int rc;

    config_key(&prefix, bucket, NULL);
    rc = object__list_bucket(ol, SYS_BUCKET, buf_slice(&prefix), SLICE_NULL, 0, collect_key, &c);
    if (rc == -ERR_BUCKET_NOT_FOUND)
        rc = 0;
    for (i = 0; rc == 0 && i < c.n; i++) {
        const char *k = c.keys.ptr + pos;

        pos += strlen(k) + 1;
        rc = object__delete(ol, SYS_BUCKET, k);
        if (rc == -ERR_KEY_NOT_FOUND)
            rc = 0;
    }
    buf_release(&c.keys);
    buf_release(&prefix);
    return rc;
}

int
object__bucket_config_delete(struct objlayer *ol, const char *bucket, const char *name)
{
    struct buf key = BUF_INIT;
    int rc;

    if (!name)
        return drop_all(ol, bucket);
    rc = object__bucket_stat(ol, bucket, NULL);
    if (rc < 0)
        return rc;
    config_key(&key, bucket, name);
    rc = object__delete(ol, SYS_BUCKET, key.ptr);
    if (rc == -ERR_KEY_NOT_FOUND || rc == -ERR_BUCKET_NOT_FOUND)
        rc = 0;
    buf_release(&key);
    object__bucket_changed(ol, bucket, true);
    return rc;
}

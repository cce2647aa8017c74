/*
 * object/sysobj.c: system objects of upper layers (objlayer_sys_*): small
 * documents under "iam/" in the reserved bucket `.basalt.sys`, the one
 * bucketconfig.c keeps bucket configurations in ("buckets/<bucket>/...").
 * They are ordinary objects of that bucket: erasure coded, written with
 * write quorum, read by quorum and healed like data (DESIGN.md "A cluster").
 *
 * Keys are index rows, never file names (DESIGN.md "Data on a drive"), so a
 * key cannot escape a drive's folder; the rules below keep the namespace
 * tidy and keep a caller's bug from reaching "buckets/": a key starts with
 * one of the allowed roots, has no empty, "." or ".." segment and no
 * control character.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include "object/internal.h"
#include "util/reqctx.h"

#define SYS_BUCKET ".basalt.sys" /* bucketconfig.c's */
#define SYS_DOC_MAX (1u << 20)   /* a larger document is not one we wrote */
#define SYS_KEY_MAX 1024

static const char *const sys_roots[] = { "iam/" };

/*
 * Whether `key` may name a system object (`prefix`: a listing prefix, which
 * may also be a root alone or end in '/').
 */
static bool
is_valid_key(const char *key, bool prefix)
{
    size_t len = strlen(key), i, seg = 0;
    bool rooted = false;

    for (i = 0; i < ARRAY_SIZE(sys_roots); i++)
        if (!strncmp(key, sys_roots[i], strlen(sys_roots[i])))
            rooted = true;
    if (!rooted || len > SYS_KEY_MAX)
        return false;
    for (i = 0; i <= len; i++) {
        unsigned char c = (unsigned char)key[i];

        if (c != '\0' && c != '/') {
            if (c < 0x20 || c == 0x7f)
                return false;
            continue;
        }
        /* the end of segment [seg, i) */
        if (i == seg && !(c == '\0' && prefix))
            return false; /* empty: "a//b" or a trailing '/' of a key */
        if ((i - seg == 1 && key[seg] == '.') ||
            (i - seg == 2 && key[seg] == '.' && key[seg + 1] == '.'))
            return false;
        seg = i + 1;
    }
    return true;
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
sys_get(struct objlayer *ol, const char *key, struct buf *out)
{
    struct obj_get *g = NULL;
    struct obj_info info;
    struct buf doc = BUF_INIT;
    ssize_t n;
    int rc;

    if (!is_valid_key(key, false))
        return -ERR_INVAL;
    obj_info_init(&info);
    rc = object__get_open(ol, SYS_BUCKET, key, &g, &info);
    if (rc == -ERR_BUCKET_NOT_FOUND || rc == -ERR_KEY_NOT_FOUND)
        rc = -ERR_NOT_FOUND;
    if (rc < 0)
        goto out_info;
    if (info.size > SYS_DOC_MAX) {
        rc = -ERR_CORRUPT;
        goto out_close;
    }
    buf_grow(&doc, (size_t)info.size);
    n = obj_get_read(g, 0, doc.ptr, (size_t)info.size);
    if (n < 0 || (uint64_t)n != info.size) {
        rc = n < 0 ? (int)n : -ERR_CORRUPT;
        goto out_doc;
    }
    buf_setlen(&doc, (size_t)n);
    buf_addslice(out, buf_slice(&doc));
out_doc:
    buf_release_secure(&doc); /* documents may hold sealed secrets: leave no copy behind */
out_close:
    obj_get_close(g);
out_info:
    obj_info_release(&info);
    return rc;
}

static int
sys_put(struct objlayer *ol, const char *key, struct slice doc)
{
    struct obj_put_opts opts = { .size = (int64_t)doc.len };
    struct obj_put *p;
    int rc;

    if (!is_valid_key(key, false))
        return -ERR_INVAL;
    if (doc.len > SYS_DOC_MAX)
        return -ERR_TOO_LARGE;
    rc = ensure_sys_bucket(ol);
    if (rc < 0)
        return rc;
    rc = object__put_begin(ol, SYS_BUCKET, key, &opts, NULL, NULL, &p);
    if (rc < 0)
        return rc;
    rc = obj_put_write(p, doc.ptr, doc.len);
    if (rc < 0) {
        obj_put_abort(p);
        return rc;
    }
    return obj_put_finish(p, NULL);
}

static int
sys_delete(struct objlayer *ol, const char *key)
{
    int rc;

    if (!is_valid_key(key, false))
        return -ERR_INVAL;
    rc = object__delete(ol, SYS_BUCKET, key);
    if (rc == -ERR_KEY_NOT_FOUND || rc == -ERR_BUCKET_NOT_FOUND)
        rc = -ERR_NOT_FOUND;
    return rc;
}

struct key_list {
    struct buf keys; /* NUL-separated */
    size_t n;
};

static int
collect_key(void *arg, const struct obj_list_ent *ent)
{
    struct key_list *l = arg;

    buf_addslice(&l->keys, ent->key);
    buf_addch(&l->keys, '\0');
    l->n++;
    return 0;
}

/*
 * The keys are gathered first and `cb` called after the listing ended, so
 * that `cb` may read the objects it is told of (objlayer_sys_get) without
 * running inside a listing.
 */
static int
sys_list(struct objlayer *ol, const char *prefix, objlayer_sys_fn *cb, void *arg)
{
    struct key_list l = { .keys = BUF_INIT };
    size_t pos = 0, i;
    int rc;

    if (!is_valid_key(prefix, true))
        return -ERR_INVAL;
    rc = object__list_bucket(ol, SYS_BUCKET, slice_cstr(prefix), SLICE_NULL, 0, collect_key, &l);
    if (rc == -ERR_BUCKET_NOT_FOUND)
        rc = 0; /* nothing stored yet */
    for (i = 0; rc == 0 && i < l.n; i++) {
        const char *k = l.keys.ptr + pos;

        pos += strlen(k) + 1;
        rc = cb(arg, k);
    }
    buf_release(&l.keys);
    return rc < 0 ? rc : 0;
}

#define SCOPED(ctx, call)                                                                          \
    ({                                                                                             \
        const struct reqctx *prev_ = reqctx_enter(ctx);                                            \
        int rc_;                                                                                   \
                                                                                                   \
        atomic_fetch_add(&ol->inflight, 1);                                                        \
        rc_ = (call);                                                                              \
        atomic_fetch_sub(&ol->inflight, 1);                                                        \
        reqctx_leave(prev_);                                                                       \
        rc_;                                                                                       \
    })

int
objlayer_sys_get(struct objlayer *ol, const struct reqctx *ctx, const char *key, struct buf *out)
{
    return SCOPED(ctx, sys_get(ol, key, out));
}

int
objlayer_sys_put(struct objlayer *ol, const struct reqctx *ctx, const char *key, struct slice doc)
{
    return SCOPED(ctx, sys_put(ol, key, doc));
}

int
objlayer_sys_delete(struct objlayer *ol, const struct reqctx *ctx, const char *key)
{
    return SCOPED(ctx, sys_delete(ol, key));
}

int
objlayer_sys_list(struct objlayer *ol, const struct reqctx *ctx, const char *prefix,
                  objlayer_sys_fn *cb, void *arg)
{
    return SCOPED(ctx, sys_list(ol, prefix, cb, arg));
}

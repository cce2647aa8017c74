/*
 * object/api.c: the public entry points of the object layer (objlayer.h).
 * Each scopes the caller's request context (util/reqctx.h) to the thread
 * while its operation runs, so the drive jobs it starts carry it (quorum.c)
 * and log lines name the request, then calls the operation (object__<name>,
 * internal.h) in the file that owns it.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include "object/internal.h"
#include "util/reqctx.h"

/* Also counts the calls running, for the scanner to yield to (scanner.c). */
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
objlayer_bucket_stat(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                     int64_t *created_ns)
{
    return SCOPED(ctx, object__bucket_stat(ol, bucket, created_ns));
}

int
objlayer_bucket_make(struct objlayer *ol, const struct reqctx *ctx, const char *bucket)
{
    return SCOPED(ctx, object__bucket_make(ol, bucket));
}

int
objlayer_bucket_delete(struct objlayer *ol, const struct reqctx *ctx, const char *bucket)
{
    return SCOPED(ctx, object__bucket_delete(ol, bucket));
}

int
objlayer_bucket_list(struct objlayer *ol, const struct reqctx *ctx, struct obj_bucket **out,
                     size_t *n)
{
    return SCOPED(ctx, object__bucket_list(ol, out, n));
}

int
objlayer_bucket_config_get(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                           const char *name, struct buf *out)
{
    return SCOPED(ctx, object__bucket_config_get(ol, bucket, name, out));
}

int
objlayer_bucket_config_put(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                           const char *name, struct slice doc)
{
    return SCOPED(ctx, object__bucket_config_put(ol, bucket, name, doc));
}

int
objlayer_bucket_config_delete(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                              const char *name)
{
    return SCOPED(ctx, object__bucket_config_delete(ol, bucket, name));
}

int
objlayer_delete(struct objlayer *ol, const struct reqctx *ctx, const char *bucket, const char *key)
{
    return SCOPED(ctx, object__delete(ol, bucket, key));
}

int
objlayer_delete_if(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                   const char *key, const struct obj_cond *cond)
{
    return SCOPED(ctx, object__delete_if(ol, bucket, key, cond));
}

int
objlayer_delete_many(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                     const char *const *keys, const struct obj_cond *const *conds, size_t n,
                     int *rcs)
{
    return SCOPED(ctx, object__delete_many(ol, bucket, keys, conds, n, rcs));
}

int
objlayer_head(struct objlayer *ol, const struct reqctx *ctx, const char *bucket, const char *key,
              struct obj_info *info)
{
    return SCOPED(ctx, object__head(ol, bucket, key, info));
}

int
objlayer_get_open(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                  const char *key, struct obj_get **out, struct obj_info *info)
{
    return SCOPED(ctx, object__get_open(ol, bucket, key, out, info));
}

int
objlayer_heal_object(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                     const char *key, struct heal_report *r)
{
    return SCOPED(ctx, object__heal_object(ol, bucket, key, r));
}

int
objlayer_heal(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
              struct slice prefix, struct heal_report *r)
{
    return SCOPED(ctx, object__heal(ol, bucket, prefix, r));
}

int
objlayer_list(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
              struct slice prefix, struct slice after, unsigned limit, obj_list_fn *cb, void *arg)
{
    return SCOPED(ctx, object__list_bucket(ol, bucket, prefix, after, limit, cb, arg));
}

int
objlayer_mp_create(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                   const char *key, const struct obj_put_opts *opts,
                   char upload_id[OBJ_VID_LEN + 1])
{
    return SCOPED(ctx, object__mp_create(ol, bucket, key, opts, upload_id));
}

int
objlayer_mp_stat(struct objlayer *ol, const struct reqctx *ctx, const char *bucket, const char *key,
                 const char *upload_id, struct obj_info *out)
{
    return SCOPED(ctx, object__mp_stat(ol, bucket, key, upload_id, out));
}

int
objlayer_mp_part_begin(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                       const char *key, const char *upload_id, unsigned number,
                       const struct obj_put_opts *opts, struct obj_put **out)
{
    return SCOPED(ctx, object__mp_part_begin(ol, bucket, key, upload_id, number, opts, out));
}

int
objlayer_mp_complete(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                     const char *key, const char *upload_id, const struct obj_mp_part *parts,
                     size_t n, const struct obj_complete_opts *opts, struct obj_info *info)
{
    return SCOPED(ctx, object__mp_complete(ol, bucket, key, upload_id, parts, n, opts, info));
}

int
objlayer_mp_abort(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                  const char *key, const char *upload_id)
{
    return SCOPED(ctx, object__mp_abort(ol, bucket, key, upload_id));
}

int
objlayer_mp_list_parts(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                       const char *key, const char *upload_id, unsigned after, unsigned limit,
                       bool checksums, obj_part_fn *cb, void *arg)
{
    return SCOPED(
        ctx, object__mp_list_parts(ol, bucket, key, upload_id, after, limit, checksums, cb, arg));
}

int
objlayer_mp_list_uploads(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                         struct slice prefix, struct slice after_key, const char *after_id,
                         obj_upload_fn *cb, void *arg)
{
    return SCOPED(ctx, object__mp_list_uploads(ol, bucket, prefix, after_key, after_id, cb, arg));
}

int
objlayer_mp_drop_bucket(struct objlayer *ol, const struct reqctx *ctx, const char *bucket)
{
    return SCOPED(ctx, object__mp_drop_bucket(ol, bucket));
}

int
objlayer_mp_cleanup(struct objlayer *ol, const struct reqctx *ctx, int64_t before_ns)
{
    return SCOPED(ctx, object__mp_cleanup(ol, before_ns));
}

int
objlayer_update_headers(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                        const char *key, const struct obj_header_edit *edits, size_t n)
{
    return SCOPED(ctx, object__update_headers(ol, bucket, key, edits, n));
}

int
objlayer_put_begin(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                   const char *key, const struct obj_put_opts *opts, struct obj_put **out)
{
    return SCOPED(ctx, object__put_begin(ol, bucket, key, opts, NULL, NULL, out));
}

void
objlayer_bucket_changed(struct objlayer *ol, const char *bucket)
{
    object__bucket_changed(ol, bucket, false);
}

/*
 * object/bucket.c: bucket operations. Every drive of every set keeps the list
 * of buckets in its index; a bucket exists when read quorum of the drives of
 * the first set hold it (all sets are written together), and missing entries
 * are recreated by healing. Names that start with a dot are the layer's own
 * (the system buckets; no S3 bucket name starts with one):
 * objlayer_bucket_list leaves them out. Deleting a bucket removes its
 * configuration documents first, so a bucket made again under the same name
 * starts with none. What a node knows of its buckets in memory is
 * bucketmeta.c's.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include "obs/log.h"
#include "object/internal.h"
#include "util/clock.h"

struct bucket_arg {
    const char *bucket;
    int64_t created_ns;
    bool force;
};

static int
make_job(struct eset *set, unsigned j, void *arg)
{
    struct bucket_arg *a = arg;

    return drive_bucket_make(set->drives[j], a->bucket, a->created_ns);
}

static int
delete_job(struct eset *set, unsigned j, void *arg)
{
    struct bucket_arg *a = arg;

    return drive_bucket_delete(set->drives[j], a->bucket, a->force);
}

/* ---- operations ---- */

/*
 * Under the bucket's name lock, so that two nodes making the same bucket at
 * once do not both answer success. Quorum is per set: a total over the sets
 * could hide a set that missed it.
 */
static int
make_locked(struct objlayer *ol, const char *bucket)
{
    struct bucket_arg a = { .bucket = bucket, .created_ns = clock_now_ns() };
    unsigned s;
    int rc = 0;

    if (object__bucket_stat_drives(ol, bucket, NULL) == 0)
        return -ERR_BUCKET_EXISTS;
    for (s = 0; s < ol->nsets; s++) {
        struct eset *set = &ol->sets[s];
        int rcs[OBJ_MAX_SET];

        object__run(set, NULL, make_job, &a, rcs);
        if (object__count_rc(rcs, set->n, 0) + object__count_rc(rcs, set->n, -ERR_EXISTS) <
            object__write_quorum(set->k, set->m))
            rc = -ERR_QUORUM;
    }
    object__bucket_changed(ol, bucket, true);
    return rc;
}

int
object__bucket_make(struct objlayer *ol, const char *bucket)
{
    struct lock_held *lock;
    int rc = object__lock(ol, bucket, NULL, &lock);

    if (rc == 0) {
        rc = make_locked(ol, bucket);
        object__unlock(lock);
    }
    return rc;
}

static int
delete_locked(struct objlayer *ol, const char *bucket)
{
    struct bucket_arg a = { .bucket = bucket, .force = true };
    unsigned s;
    int rc = object__bucket_stat_drives(ol, bucket, NULL);

    if (rc < 0)
        return rc;
    rc = object__list(ol, bucket, SLICE_NULL, SLICE_NULL, 1, 0, NULL, NULL);
    if (rc > 0)
        return -ERR_NOT_EMPTY;
    if (rc < 0)
        return rc;
    rc = object__bucket_config_delete(ol, bucket, NULL);
    if (rc < 0)
        return rc;
    for (s = 0; s < ol->nsets; s++) {
        struct eset *set = &ol->sets[s];
        int rcs[OBJ_MAX_SET];

        object__run(set, NULL, delete_job, &a, rcs);
        if (object__count_rc(rcs, set->n, 0) + object__count_rc(rcs, set->n, -ERR_NOT_FOUND) <
            object__delete_quorum(set->n))
            rc = -ERR_QUORUM;
    }
    object__bucket_changed(ol, bucket, true);
    return rc;
}

int
object__bucket_delete(struct objlayer *ol, const char *bucket)
{
    struct lock_held *lock;
    int rc = object__lock(ol, bucket, NULL, &lock);

    if (rc == 0) {
        rc = delete_locked(ol, bucket);
        object__unlock(lock);
    }
    return rc;
}

/* Read from the drives every time (ListBuckets must see every node's new buckets). */
int
object__bucket_list(struct objlayer *ol, struct obj_bucket **out, size_t *n)
{
    uint64_t gen = atomic_load(&ol->bucket_gen);
    struct obj_bucket *b;
    size_t nb, i, o = 0;
    int rc = object__bucket_read_list(ol, &b, &nb);

    if (rc < 0)
        return rc;
    object__snap_rebuild(ol, b, nb, gen);
    for (i = 0; i < nb; i++)
        if (b[i].name[0] != '.')
            b[o++] = b[i];
    *out = b;
    *n = o;
    return 0;
}

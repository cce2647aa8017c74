/*
 * object/delete.c: DeleteObject with delete quorum (half the set plus one).
 * Under the name lock, so a delete and a PUT commit of the same key do not
 * interleave drive by drive, and the condition of a conditional delete
 * (If-Match) holds for the version that is deleted.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include "object/internal.h"

struct delete_arg {
    const char *bucket, *key;
};

static int
delete_job(struct eset *set, unsigned j, void *arg)
{
    struct delete_arg *a = arg;

    return drive_meta_delete(set->drives[j], a->bucket, a->key, NULL);
}

int
object__delete(struct objlayer *ol, const char *bucket, const char *key)
{
    return object__delete_if(ol, bucket, key, NULL);
}

/* Deletes the key from its set in one pool: 1 deleted, 0 absent there, or -ERR_QUORUM. */
static int
delete_in(struct objlayer *ol, struct eset *set, struct delete_arg *a)
{
    int rcs[OBJ_MAX_SET];
    unsigned ok, notfound, dq = object__delete_quorum(set->n);

    object__run(set, NULL, delete_job, a, rcs);
    ok = object__count_rc(rcs, set->n, 0);
    notfound = object__count_rc(rcs, set->n, -ERR_NOT_FOUND);
    if (ok == 0 && notfound >= dq)
        return 0;
    if (ok + notfound >= dq) {
        if (ok + notfound < set->n)
            object__heal_enqueue(ol, a->bucket, a->key);
        return 1;
    }
    return -ERR_QUORUM;
}

int
object__delete_if(struct objlayer *ol, const char *bucket, const char *key,
                  const struct obj_cond *cond)
{
    struct lock_held *lock = NULL;
    struct delete_arg a = { bucket, key };
    unsigned p, npools = object__roams(ol, bucket) ? ol->npools : 1;
    int rc = object__bucket_stat(ol, bucket, NULL), deleted = 0, r;

    if (rc == 0)
        rc = object__lock(ol, bucket, key, &lock);
    if (rc < 0)
        return rc;
    if (cond) {
        struct eset *set;

        rc = object__locate(ol, bucket, key, &set);
        if (rc == 0 || rc == -ERR_KEY_NOT_FOUND)
            rc = object__check_cond(set, bucket, key, cond);
    }
    if (rc == 0)
        rc = object__lock_check(lock);
    /* every pool the key may be in (one, but for a moment after racing creates: put.c) */
    for (p = 0; p < npools && rc == 0; p++) {
        r = delete_in(ol, object__pool_set(ol, p, bucket, key), &a);
        if (r < 0)
            rc = r;
        else
            deleted += r;
    }
    object__unlock(lock);
    if (rc < 0)
        return rc;
    return deleted ? 0 : -ERR_KEY_NOT_FOUND;
}

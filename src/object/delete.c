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

int
object__delete_if(struct objlayer *ol, const char *bucket, const char *key,
                  const struct obj_cond *cond)
{
    struct eset *set = object__pick_set(ol, bucket, key);
    struct lock_held *lock = NULL;
    struct delete_arg a = { bucket, key };
    int rcs[OBJ_MAX_SET];
    unsigned j, ok = 0, notfound = 0, dq = object__delete_quorum(set->n);
    int rc = object__bucket_stat(ol, bucket, NULL);

    if (rc == 0)
        rc = object__lock(ol, bucket, key, &lock);
    if (rc < 0)
        return rc;
    if (cond)
        rc = object__check_cond(set, bucket, key, cond);
    if (rc == 0)
        rc = object__lock_check(lock);
    if (rc == 0)
        object__run(set, NULL, delete_job, &a, rcs);
    object__unlock(lock);
    if (rc < 0)
        return rc;
    for (j = 0; j < set->n; j++) {
        if (rcs[j] >= 0)
            ok++;
        else if (rcs[j] == -ERR_NOT_FOUND)
            notfound++;
    }
    if (ok == 0 && notfound >= dq)
        return -ERR_KEY_NOT_FOUND;
    if (ok + notfound >= dq) {
        if (ok + notfound < set->n)
            object__heal_enqueue(ol, bucket, key);
        return 0;
    }
    return -ERR_QUORUM;
}

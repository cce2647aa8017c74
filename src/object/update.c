/*
 * object/update.c: objlayer_update_headers, a change of what is stored about
 * the current version of an object without touching its data (object
 * tagging).
 *
 * Under the name lock (so no PUT, DELETE or heal commit interleaves), the
 * records are read by quorum (object__read_metas), the caller's header edits
 * (data, not code: nothing of the caller runs under the lock) are applied to
 * a copy of the chosen one, and every drive that holds the version gets its
 * own record back with the new headers: same version id, same shard index,
 * same inline data, so a drive_meta_commit() of it moves no shard file.
 *
 * The rewritten records carry the modification time plus one nanosecond.
 * That is invisible to clients (Last-Modified has seconds, listings
 * milliseconds), and it makes the edit a newer version for the quorum rules:
 * a drive that missed the edit (offline) holds an older copy, so readers pick
 * the edited copy once k drives hold it, and healing brings the stragglers up
 * to date, exactly as for a PUT. Below write quorum the drives that did
 * commit get their previous record back.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include "obs/log.h"
#include "object/internal.h"
#include "util/hdrs.h"

struct update_arg {
    const char *bucket, *key;
    struct obj_meta *metas; /* the records to commit, per drive */
};

static int
commit_job(struct eset *set, unsigned j, void *arg)
{
    struct update_arg *a = arg;

    return drive_meta_commit(set->drives[j], a->bucket, a->key, &a->metas[j]);
}

/* The records to write: each drive's own, with the edited headers and mtime. */
static void
prepare(struct eset *set, const struct obj_meta *edited, struct obj_meta *old, struct obj_meta *neu,
        const bool *agree)
{
    unsigned j;

    for (j = 0; j < set->n; j++) {
        if (!agree[j])
            continue;
        objmeta_copy(&neu[j], &old[j]);
        buf_clear(&neu[j].headers);
        buf_add(&neu[j].headers, edited->headers.ptr, edited->headers.len);
        neu[j].mtime_ns = edited->mtime_ns;
    }
}

static int
update_locked(struct objlayer *ol, struct eset *set, const char *bucket, const char *key,
              const struct obj_header_edit *edits, size_t nedits, struct obj_meta *old,
              struct obj_meta *neu, const struct lock_held *lock)
{
    struct update_arg a = { bucket, key, neu };
    struct obj_meta edited;
    int rcs[OBJ_MAX_SET];
    bool agree[OBJ_MAX_SET], mask[OBJ_MAX_SET];
    unsigned j, ok = 0, wq;
    size_t i;
    int best;

    best = object__read_metas(set, bucket, key, old, rcs, agree);
    if (best < 0)
        return best;
    objmeta_init(&edited);
    objmeta_copy(&edited, &old[best]);
    for (i = 0; i < nedits; i++)
        hdrs_set(&edited.headers, edits[i].name, edits[i].value);
    edited.mtime_ns = old[best].mtime_ns + 1;
    prepare(set, &edited, old, neu, agree);
    objmeta_release(&edited);
    if (object__lock_check(lock) < 0)
        return -ERR_BUSY;
    object__run(set, agree, commit_job, &a, rcs);
    for (j = 0; j < set->n; j++) {
        mask[j] = agree[j] && rcs[j] >= 0;
        ok += mask[j];
    }
    wq = object__write_quorum(old[best].k, old[best].m);
    if (ok < set->n)
        object__heal_enqueue(ol, bucket, key);
    if (ok >= wq)
        return 0;
    log_warn(&(struct log_ctx){ .bucket = bucket, .key = key, .event = "write_quorum_lost" },
             "metadata update reached %u of %u drives (quorum %u): rolling back", ok, set->n, wq);
    a.metas = old;
    object__run(set, mask, commit_job, &a, rcs);
    return -ERR_QUORUM;
}

int
object__update_headers(struct objlayer *ol, const char *bucket, const char *key,
                       const struct obj_header_edit *edits, size_t n)
{
    struct eset *set;
    struct lock_held *lock;
    struct obj_meta *old, *neu;
    unsigned j;
    int rc = object__lock(ol, bucket, key, &lock);

    if (rc < 0)
        return rc;
    rc = object__locate(ol, bucket, key, &set); /* under the lock: the pool cannot change */
    if (rc < 0) {
        object__unlock(lock);
        return rc;
    }
    old = xcalloc(2 * OBJ_MAX_SET, sizeof(*old));
    neu = old + OBJ_MAX_SET;
    for (j = 0; j < 2 * OBJ_MAX_SET; j++)
        objmeta_init(&old[j]);
    rc = update_locked(ol, set, bucket, key, edits, n, old, neu, lock);
    object__unlock(lock);
    for (j = 0; j < 2 * OBJ_MAX_SET; j++)
        objmeta_release(&old[j]);
    free(old);
    return rc;
}

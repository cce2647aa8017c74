/*
 * object/delete.c: DeleteObject with delete quorum (half the set plus one).
 * Under the name lock, so a delete and a PUT commit of the same key do not
 * interleave drive by drive, and the condition of a conditional delete
 * (If-Match) holds for the version that is deleted.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include <pthread.h>

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

/* The outcome of a set's answers: 1 deleted, 0 absent there, or -ERR_QUORUM. */
static int
delete_result(const struct eset *set, unsigned ok, unsigned notfound)
{
    unsigned dq = object__delete_quorum(set->n);

    if (ok == 0 && notfound >= dq)
        return 0;
    return ok + notfound >= dq ? 1 : -ERR_QUORUM;
}

/* Deletes the key from its set in one pool: 1 deleted, 0 absent there, or -ERR_QUORUM. */
static int
delete_in(struct objlayer *ol, struct eset *set, struct delete_arg *a)
{
    int rcs[OBJ_MAX_SET];
    unsigned ok, notfound;
    int rc;

    object__run(set, NULL, delete_job, a, rcs);
    ok = object__count_rc(rcs, set->n, 0);
    notfound = object__count_rc(rcs, set->n, -ERR_NOT_FOUND);
    rc = delete_result(set, ok, notfound);
    if (rc == 1 && ok + notfound < set->n)
        object__heal_enqueue(ol, a->bucket, a->key);
    return rc;
}

/*
 * A delete of a set of local drives answers at delete quorum, as a small
 * PUT answers at write quorum (put.c commit_all), not after the slowest
 * drive's group commit. The drives still deleting then finish on their own
 * while the name lock stays held (the last one releases it): a later PUT
 * or DELETE of the key, or a heal's commit, waits for them, so no delete
 * in flight can land after a newer commit. Reads meanwhile find fewer than
 * k copies left, the key absent.
 */
struct delete_async {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct objlayer *ol;
    struct lock_held *lock;
    char *bucket, *key;
    unsigned n, pending, ok, notfound;
    bool detached; /* the request went on: the last job frees this */
    struct delete_async_job {
        struct work w;
        struct delete_async *da;
        struct eset *set;
        unsigned j;
        int rc;
    } jobs[OBJ_MAX_SET];
};

static void
delete_async_free(struct delete_async *da)
{
    pthread_mutex_destroy(&da->mu);
    pthread_cond_destroy(&da->cv);
    free(da->bucket);
    free(da->key);
    free(da);
}

/* No request context: the request may be gone when a drive still deleting runs this. */
static void
delete_async_run(struct work *w)
{
    struct delete_async_job *job = container_of(w, struct delete_async_job, w);

    job->rc = drive_meta_delete(job->set->drives[job->j], job->da->bucket, job->da->key, NULL);
}

static void
delete_async_done(struct work *w)
{
    struct delete_async_job *job = container_of(w, struct delete_async_job, w);
    struct delete_async *da = job->da;
    bool last, heal = false;

    pthread_mutex_lock(&da->mu);
    da->ok += job->rc == 0;
    da->notfound += job->rc == -ERR_NOT_FOUND;
    last = --da->pending == 0;
    pthread_cond_signal(&da->cv);
    if (!last || !da->detached) {
        pthread_mutex_unlock(&da->mu);
        return;
    }
    pthread_mutex_unlock(&da->mu);
    /* the last drive of a detached delete: what the request could not see */
    heal = da->ok + da->notfound < da->n;
    object__unlock(da->lock);
    if (heal)
        object__heal_enqueue(da->ol, da->bucket, da->key);
    delete_async_free(da);
}

/*
 * delete_in() for a set of local drives, the name lock `*lock` held: when
 * drives still delete after the answer, they take the lock (`*lock` NULL).
 */
static int
delete_in_async(struct objlayer *ol, struct eset *set, struct delete_arg *a,
                struct lock_held **lock)
{
    struct delete_async *da = xcalloc(1, sizeof(*da));
    unsigned dq = object__delete_quorum(set->n), j, online = 0;
    bool run[OBJ_MAX_SET];
    int rc;

    pthread_mutex_init(&da->mu, NULL);
    pthread_cond_init(&da->cv, NULL);
    da->ol = ol;
    da->bucket = xstrdup(a->bucket);
    da->key = xstrdup(a->key);
    da->n = set->n;
    for (j = 0; j < set->n; j++) { /* online read once (object__start) */
        run[j] = drive_is_online(set->drives[j]);
        online += run[j];
    }
    da->pending = online;
    for (j = 0; j < set->n; j++) {
        if (!run[j])
            continue;
        da->jobs[j] = (struct delete_async_job){
            .w = { .fn = delete_async_run, .done = delete_async_done }, .da = da, .set = set, .j = j
        };
        workq_submit(set->queues[j], &da->jobs[j].w);
    }
    pthread_mutex_lock(&da->mu);
    /* deleted on delete quorum (a copy found is enough to say so), or every answer */
    while (da->pending > 0 && !(da->ok > 0 && da->ok + da->notfound >= dq))
        pthread_cond_wait(&da->cv, &da->mu);
    rc = delete_result(set, da->ok, da->notfound);
    if (da->pending > 0) {
        da->lock = *lock;
        *lock = NULL;
        da->detached = true;
        pthread_mutex_unlock(&da->mu);
        return rc;
    }
    pthread_mutex_unlock(&da->mu);
    if (rc == 1 && da->ok + da->notfound < set->n)
        object__heal_enqueue(ol, a->bucket, a->key);
    delete_async_free(da);
    return rc;
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
        struct eset *set = object__pool_set(ol, p, bucket, key);

        if (npools == 1 && !object__set_has_remote(set))
            r = delete_in_async(ol, set, &a, &lock);
        else
            r = delete_in(ol, set, &a);
        if (r < 0)
            rc = r;
        else
            deleted += r;
    }
    if (lock)
        object__unlock(lock);
    if (rc < 0)
        return rc;
    return deleted ? 0 : -ERR_KEY_NOT_FOUND;
}

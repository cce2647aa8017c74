/*
 * object/delete.c: DeleteObject with delete quorum (half the set plus one).
 * Under the name lock, so a delete and a PUT commit of the same key do not
 * interleave drive by drive, and the condition of a conditional delete
 * (If-Match) holds for the version that is deleted.
 *
 * DeleteObjects (object__delete_many, at the end): the same per key, for a
 * whole batch at once: the name locks taken in key order, the conditions
 * checked under them, then one drive_meta_delete_many() per drive of each
 * set for all of that set's keys, which a local drive applies in one index
 * transaction (one fsync for the batch instead of one group commit per key).
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
 * drive's group commit. As an inline PUT's commits, the deletes are handed
 * from the request thread straight to each drive's group committer
 * (drive_meta_delete_async): no I/O thread per drive waits on a group
 * commit, and each drive answers on its committer thread. The drives still
 * deleting then finish on their own while the name lock stays held (the
 * last one releases it): a later PUT or DELETE of the key, or a heal's
 * commit, waits for them, so no delete in flight can land after a newer
 * commit. Reads meanwhile find fewer than k copies left, the key absent.
 */
struct delete_async {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct objlayer *ol;
    struct lock_held *lock;
    char *bucket, *key;
    unsigned n, dq, pending, ok, notfound;
    bool detached; /* the request went on: the last job frees this */
    struct delete_async_job {
        struct delete_async *da;
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

/* What the request waits for: delete quorum (a copy found is enough to say so), or every answer. */
static bool
answered(const struct delete_async *da)
{
    return da->pending == 0 || (da->ok > 0 && da->ok + da->notfound >= da->dq);
}

/*
 * A drive's answer: on its committer thread, or on the request thread when
 * it answered at once (offline). No request context: the request may be
 * gone when a drive still deleting answers.
 */
static void
delete_async_done(void *arg, int rc)
{
    struct delete_async_job *job = arg;
    struct delete_async *da = job->da;
    bool last, heal = false;

    pthread_mutex_lock(&da->mu);
    job->rc = rc;
    da->ok += rc == 0;
    da->notfound += rc == -ERR_NOT_FOUND;
    last = --da->pending == 0;
    if (answered(da)) /* else the request would wake only to wait again */
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
    unsigned j, online = 0;
    bool run[OBJ_MAX_SET];
    int rc;

    pthread_mutex_init(&da->mu, NULL);
    pthread_cond_init(&da->cv, NULL);
    da->ol = ol;
    da->bucket = xstrdup(a->bucket);
    da->key = xstrdup(a->key);
    da->n = set->n;
    da->dq = object__delete_quorum(set->n);
    for (j = 0; j < set->n; j++) { /* online read once (object__start) */
        run[j] = drive_is_online(set->drives[j]);
        online += run[j];
    }
    da->pending = online;
    for (j = 0; j < set->n; j++) {
        if (!run[j])
            continue;
        da->jobs[j] = (struct delete_async_job){ .da = da };
        drive_meta_delete_async(set->drives[j], da->bucket, da->key, NULL, delete_async_done,
                                &da->jobs[j]);
    }
    pthread_mutex_lock(&da->mu);
    while (!answered(da))
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

/* The condition of a conditional delete, on the current version wherever it is; under the lock. */
static int
check_cond(struct objlayer *ol, const char *bucket, const char *key, const struct obj_cond *cond)
{
    struct eset *set;
    int rc = object__locate(ol, bucket, key, &set);

    if (rc == 0 || rc == -ERR_KEY_NOT_FOUND)
        rc = object__check_cond(set, bucket, key, cond);
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
    if (cond)
        rc = check_cond(ol, bucket, key, cond);
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

/*
 * ---- many keys at once (DeleteObjects) ----
 *
 * The keys are sorted and their name locks taken in that order, one at a
 * time: two batches then never wait on each other in a cycle, and a
 * single-key operation holds one name lock at most (a heal takes its heal
 * lock first, which a batch never takes). Under the locks each key's
 * conditions are checked, then the keys are grouped by erasure set and each
 * drive of a set gets one drive_meta_delete_many() call for all of them:
 * one index transaction per drive for the whole batch. Each key's answer is
 * then what object__delete_if() would have given it.
 *
 * A key given several times acts as the calls would one after the other:
 * the first occurrence whose condition holds deletes, those before it
 * answer their condition's error, those after it find the key gone.
 */

/* An occurrence of a key: sorted by key, then by position in the request. */
struct dm_occ {
    const char *key;
    size_t i; /* its position in the request */
};

/* A distinct key of the batch. */
struct dm_key {
    const char *key;
    size_t occ, nocc;       /* its occurrences: occs[occ .. occ + nocc) */
    struct lock_held *lock; /* NULL: not granted (rc says why) */
    size_t deleter;         /* the occurrence (request position) that deletes; SIZE_MAX: none */
    int rc;                 /* < 0: failed; else the pools it was deleted from */
};

/* The keys a pass deletes in one set, and every drive's answer for each. */
struct dm_set {
    struct eset *set;
    const char *bucket;
    size_t *ks; /* positions in the key array */
    const char **names;
    size_t n, cap;
    int *rcs; /* drive j's answer for names[t]: rcs[j * n + t] */
    int drive_rcs[OBJ_MAX_SET];
    struct set_batch b;
};

static int
cmp_occ(const void *a, const void *b)
{
    const struct dm_occ *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The distinct keys of occs[0..n) (sorted), into `keys`; their count. */
static size_t
dm_distinct(const struct dm_occ *occs, size_t n, struct dm_key *keys)
{
    size_t o, nk = 0;

    for (o = 0; o < n; o++) {
        if (nk > 0 && strcmp(keys[nk - 1].key, occs[o].key) == 0) {
            keys[nk - 1].nocc++;
            continue;
        }
        keys[nk++] =
            (struct dm_key){ .key = occs[o].key, .occ = o, .nocc = 1, .deleter = SIZE_MAX };
    }
    return nk;
}

/*
 * Takes the key's lock and finds the occurrence that deletes (the first
 * whose condition holds); the occurrences before it get their answer here.
 */
static void
dm_prepare(struct objlayer *ol, const char *bucket, struct dm_key *k, const struct dm_occ *occs,
           const struct obj_cond *const *conds, int *rcs)
{
    size_t o;
    int r;

    k->rc = object__lock(ol, bucket, k->key, &k->lock);
    for (o = k->occ; o < k->occ + k->nocc && k->rc == 0; o++) {
        const struct obj_cond *c = conds ? conds[occs[o].i] : NULL;

        r = c ? check_cond(ol, bucket, k->key, c) : 0;
        if (r == 0) {
            k->deleter = occs[o].i;
            return;
        }
        rcs[occs[o].i] = r;
    }
}

static int
dm_job(struct eset *set, unsigned j, void *arg)
{
    struct dm_set *ds = arg;

    return drive_meta_delete_many(set->drives[j], ds->bucket, ds->names, ds->n,
                                  &ds->rcs[(size_t)j * ds->n]);
}

static void
dm_add(struct dm_set *ds, size_t k, const char *key)
{
    if (ds->n == ds->cap) {
        ds->cap = ds->cap ? 2 * ds->cap : 16;
        ds->ks = xrealloc(ds->ks, ds->cap * sizeof(*ds->ks));
        ds->names = xrealloc(ds->names, ds->cap * sizeof(*ds->names));
    }
    ds->ks[ds->n] = k;
    ds->names[ds->n++] = key;
}

/* Each key's answers from the drives of its set, as delete_in() reads them. */
static void
dm_tally(struct objlayer *ol, struct dm_set *ds, struct dm_key *keys)
{
    const struct eset *set = ds->set;
    int col[OBJ_MAX_SET];
    unsigned j, ok, notfound;
    size_t t;
    int r;

    for (t = 0; t < ds->n; t++) {
        struct dm_key *k = &keys[ds->ks[t]];

        for (j = 0; j < set->n; j++)
            col[j] = ds->rcs[(size_t)j * ds->n + t];
        ok = object__count_rc(col, set->n, 0);
        notfound = object__count_rc(col, set->n, -ERR_NOT_FOUND);
        r = delete_result(set, ok, notfound);
        if (r == 1 && ok + notfound < set->n)
            object__heal_enqueue(ol, ds->bucket, k->key);
        if (r < 0)
            k->rc = r;
        else
            k->rc += r;
    }
}

/* Deletes the keys still to delete from their sets of pool `pool`: every set at once. */
static void
dm_pass(struct objlayer *ol, const char *bucket, unsigned pool, struct dm_key *keys, size_t nk)
{
    struct dm_set **by_set = xcalloc(ol->nsets, sizeof(*by_set));
    unsigned s;
    size_t t;
    int r;

    for (t = 0; t < nk; t++) {
        struct eset *set;

        if (keys[t].deleter == SIZE_MAX || keys[t].rc < 0)
            continue;
        r = object__lock_check(keys[t].lock); /* just before the delete, as for one key */
        if (r < 0) {
            keys[t].rc = r;
            continue;
        }
        set = object__pool_set(ol, pool, bucket, keys[t].key);
        if (!by_set[set->idx]) {
            by_set[set->idx] = xcalloc(1, sizeof(struct dm_set));
            by_set[set->idx]->set = set;
            by_set[set->idx]->bucket = bucket;
        }
        dm_add(by_set[set->idx], t, keys[t].key);
    }
    for (s = 0; s < ol->nsets; s++) {
        struct dm_set *ds = by_set[s];

        if (!ds)
            continue;
        ds->rcs = xmalloc((size_t)ds->set->n * ds->n * sizeof(*ds->rcs));
        for (t = 0; t < (size_t)ds->set->n * ds->n; t++)
            ds->rcs[t] = -ERR_OFFLINE; /* what a drive not asked answered */
        object__start(ds->set, NULL, dm_job, ds, ds->drive_rcs, &ds->b);
    }
    for (s = 0; s < ol->nsets; s++) {
        struct dm_set *ds = by_set[s];

        if (!ds)
            continue;
        object__wait(&ds->b);
        dm_tally(ol, ds, keys);
        free(ds->rcs);
        free(ds->ks);
        free(ds->names);
        free(ds);
    }
    free(by_set);
}

/* Every occurrence's answer once the key's delete is done; releases the key's lock. */
static void
dm_finish(struct dm_key *k, const struct dm_occ *occs, const struct obj_cond *const *conds,
          int *rcs)
{
    int del = k->rc < 0 ? k->rc : k->rc > 0 ? 0 : -ERR_KEY_NOT_FOUND, r;
    bool after = false;
    size_t o, i;

    for (o = k->occ; o < k->occ + k->nocc; o++) {
        i = occs[o].i;
        if (!k->lock) {
            rcs[i] = k->rc; /* not granted */
        } else if (i == k->deleter) {
            rcs[i] = del;
            after = true;
        } else if (after && (del == 0 || del == -ERR_KEY_NOT_FOUND)) {
            r = obj_cond_check(conds ? conds[i] : NULL, NULL); /* the key is gone */
            rcs[i] = r < 0 ? r : -ERR_KEY_NOT_FOUND;
        } else if (after) {
            rcs[i] = del;
        }
    }
    if (k->lock)
        object__unlock(k->lock);
    k->lock = NULL;
}

int
object__delete_many(struct objlayer *ol, const char *bucket, const char *const *keys,
                    const struct obj_cond *const *conds, size_t n, int *rcs)
{
    unsigned p, npools = object__roams(ol, bucket) ? ol->npools : 1;
    struct dm_occ *occs;
    struct dm_key *dks;
    size_t i, nk;
    int rc = object__bucket_stat(ol, bucket, NULL);

    for (i = 0; i < n && rc < 0; i++)
        rcs[i] = rc;
    if (rc < 0 || n == 0)
        return rc;
    occs = xmalloc(n * sizeof(*occs));
    dks = xmalloc(n * sizeof(*dks));
    for (i = 0; i < n; i++)
        occs[i] = (struct dm_occ){ keys[i], i };
    qsort(occs, n, sizeof(*occs), cmp_occ);
    nk = dm_distinct(occs, n, dks);
    for (i = 0; i < nk; i++) /* in key order: see above */
        dm_prepare(ol, bucket, &dks[i], occs, conds, rcs);
    /* every pool a key may be in (one, but for a moment after racing creates: put.c) */
    for (p = 0; p < npools; p++)
        dm_pass(ol, bucket, p, dks, nk);
    for (i = 0; i < nk; i++)
        dm_finish(&dks[i], occs, conds, rcs);
    free(dks);
    free(occs);
    return 0;
}

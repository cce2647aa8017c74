/*
 * object/bucket.c: bucket operations. Every drive of every set keeps the list
 * of buckets in its index; a bucket exists when read quorum of the drives of
 * the first set hold it (all sets are written together), and missing entries
 * are recreated by healing.
 *
 * Names that start with a dot are the layer's own (the reserved bucket of
 * bucketconfig.c; no S3 bucket name starts with one): objlayer_bucket_list
 * leaves them out. Deleting a bucket removes its configuration documents
 * first, so a bucket made again under the same name starts with none.
 */
#include "util/base.h"

#include "object/objlayer.h"

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

static int
stat_job(struct eset *set, unsigned j, void *arg)
{
    struct bucket_arg *a = arg;
    int64_t created;
    int rc = drive_bucket_stat(set->drives[j], a->bucket, &created);

    if (rc == 0)
        __atomic_store_n(&a->created_ns, created, __ATOMIC_RELAXED);
    return rc;
}

static unsigned
count_rc(const int *rcs, unsigned n, int want)
{
    unsigned j, c = 0;

    for (j = 0; j < n; j++)
        if (want == 0 ? rcs[j] >= 0 : rcs[j] == want)
            c++;
    return c;
}

int
object__bucket_check(struct objlayer *ol, const char *bucket)
{
    return object__bucket_stat(ol, bucket, NULL);
}

int
object__bucket_stat(struct objlayer *ol, const char *bucket, int64_t *created_ns)
{
    struct eset *set = &ol->sets[0];
    struct bucket_arg a = { .bucket = bucket };
    int rcs[OBJ_MAX_SET];
    unsigned found;

    object__run_meta(set, NULL, stat_job, &a, rcs);
    found = count_rc(rcs, set->n, 0);
    if (found >= set->k) {
        if (created_ns)
            *created_ns = a.created_ns;
        return 0;
    }
    if (count_rc(rcs, set->n, -ERR_NOT_FOUND) > set->n - set->k)
        return -ERR_BUCKET_NOT_FOUND;
    return -ERR_QUORUM;
}

/* Quorum is per set: a total over the sets could hide a set that missed it. */
int
object__bucket_make(struct objlayer *ol, const char *bucket)
{
    struct bucket_arg a = { .bucket = bucket, .created_ns = clock_now_ns() };
    unsigned s;
    int rc = 0;

    if (object__bucket_stat(ol, bucket, NULL) == 0)
        return -ERR_BUCKET_EXISTS;
    for (s = 0; s < ol->nsets; s++) {
        struct eset *set = &ol->sets[s];
        int rcs[OBJ_MAX_SET];

        object__run(set, NULL, make_job, &a, rcs);
        if (count_rc(rcs, set->n, 0) + count_rc(rcs, set->n, -ERR_EXISTS) <
            object__write_quorum(set->k, set->m))
            rc = -ERR_QUORUM;
    }
    return rc;
}

int
object__bucket_delete(struct objlayer *ol, const char *bucket)
{
    struct bucket_arg a = { .bucket = bucket, .force = true };
    unsigned s;
    int rc = object__bucket_stat(ol, bucket, NULL);

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
        if (count_rc(rcs, set->n, 0) + count_rc(rcs, set->n, -ERR_NOT_FOUND) <
            object__delete_quorum(set->n))
            rc = -ERR_QUORUM;
    }
    return rc;
}

_Static_assert(sizeof(((struct obj_bucket *)0)->name) == sizeof(((struct bucket_ent *)0)->name),
               "bucket names copy whole");

static int
cmp_bucket(const void *a, const void *b)
{
    return strcmp(((const struct bucket_ent *)a)->name, ((const struct bucket_ent *)b)->name);
}

int
object__bucket_list(struct objlayer *ol, struct obj_bucket **out, size_t *n)
{
    struct eset *set = &ol->sets[0];
    struct bucket_ent *all = NULL;
    struct obj_bucket *res;
    size_t nall = 0, nres = 0, i, run;
    unsigned j, online = 0;

    for (j = 0; j < set->n; j++) {
        struct bucket_ent *l = NULL;
        size_t ln = 0;

        if (drive_bucket_list(set->drives[j], &l, &ln) < 0)
            continue;
        online++;
        all = xrealloc(all, (nall + ln) * sizeof(*all));
        if (ln) /* an empty drive may answer NULL: memcpy from NULL is undefined */
            memcpy(all + nall, l, ln * sizeof(*l));
        nall += ln;
        free(l);
    }
    if (online < set->k) {
        free(all);
        return -ERR_QUORUM;
    }
    if (nall)
        qsort(all, nall, sizeof(*all), cmp_bucket);
    res = xcalloc(nall ? nall : 1, sizeof(*res));
    for (i = 0; i < nall; i += run) {
        for (run = 1; i + run < nall && !strcmp(all[i].name, all[i + run].name); run++)
            ;
        if (run >= set->k && all[i].name[0] != '.') {
            memcpy(res[nres].name, all[i].name, sizeof(res[nres].name));
            res[nres++].created_ns = all[i].created_ns;
        }
    }
    free(all);
    *out = res;
    *n = nres;
    return 0;
}

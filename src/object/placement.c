/*
 * object/placement.c: part of the layer's floor (internal.h): where an
 * object lives and who may change it. The erasure set of bucket/key (a
 * stable hash), the codec of a layout (built once, shared), and the name
 * locks of the lock service. Nothing here calls an operation of the layer.
 *
 * Pools. Each pool has its own sets; in each pool bucket/key has one set
 * (the hash modulo the pool's set count), and an object lives in one pool:
 * the one its newest version was written to. With several pools, finding it
 * costs a quorum read of its set in each pool (object__locate); a new
 * object goes to a pool picked at random, weighted by free space, among the
 * pools whose set for it can take a write (object__place). An overwrite
 * stays in the object's pool; a commit removes the key from the other pools
 * (put.c: two nodes may have put a new key into two pools at once; the
 * newest version wins, in reads and listings too, until the older copy is
 * removed). Objects of the system buckets (names starting with '.', but the
 * multipart bucket, whose records follow their object) live in pool 0.
 */
#include "util/base.h"

#include "obs/log.h"
#include "object/internal.h"
#include "util/clock.h"

/* FNV-1a 64 of "bucket/key/": stable across versions and machines (it decides placement). */
static uint64_t
hash_pair(struct slice bucket, struct slice key)
{
    uint64_t h = 14695981039346656037ULL;
    const struct slice parts[2] = { bucket, key };
    size_t i, k;

    for (i = 0; i < 2; i++) {
        for (k = 0; k < parts[i].len; k++)
            h = (h ^ (unsigned char)parts[i].ptr[k]) * 1099511628211ULL;
        h = (h ^ '/') * 1099511628211ULL;
    }
    return h;
}

uint64_t
object__hash(const char *bucket, const char *key)
{
    return hash_pair(slice_cstr(bucket), slice_cstr(key));
}

struct eset *
object__pool_set(struct objlayer *ol, unsigned pool, const char *bucket, const char *key)
{
    const struct obj_pool *p = &ol->pools[pool];
    struct slice ob, ok;
    uint64_t h;

    /* A multipart upload and its parts live in the set of the object to be. */
    if (object__mp_owner(bucket, key, &ob, &ok))
        h = hash_pair(ob, ok);
    else
        h = object__hash(bucket, key);
    return &ol->sets[p->first_set + h % p->nsets];
}

struct eset *
object__pick_set(struct objlayer *ol, const char *bucket, const char *key)
{
    return object__pool_set(ol, 0, bucket, key);
}

bool
object__roams(const struct objlayer *ol, const char *bucket)
{
    return ol->npools > 1 && (bucket[0] != '.' || strcmp(bucket, OBJ_MP_BUCKET) == 0);
}

static bool
meta_newer(const struct obj_meta *a, const struct obj_meta *b)
{
    return a->mtime_ns > b->mtime_ns || (a->mtime_ns == b->mtime_ns && strcmp(a->vid, b->vid) > 0);
}

int
object__pools_read(struct objlayer *ol, const char *bucket, const char *key, int skip_pool,
                   struct obj_meta *newest, struct eset **where, uint64_t *holders,
                   bool *any_unsure)
{
    struct obj_meta metas[OBJ_MAX_SET];
    bool agree[OBJ_MAX_SET], found = false, unsure = false, no_bucket = false;
    int rcs[OBJ_MAX_SET];
    unsigned p, j;

    *holders = 0;
    for (j = 0; j < OBJ_MAX_SET; j++)
        objmeta_init(&metas[j]);
    for (p = 0; p < ol->npools; p++) {
        struct eset *set = object__pool_set(ol, p, bucket, key);
        int best;

        if ((int)p == skip_pool)
            continue;
        best = object__read_metas(set, bucket, key, metas, rcs, agree);
        if (best >= 0 && (!found || meta_newer(&metas[best], newest))) {
            objmeta_copy(newest, &metas[best]);
            buf_release(&newest->inline_data);
            *where = set;
            found = true;
        }
        if (best >= 0 || object__count_rc(rcs, set->n, 0) > 0)
            *holders |= 1ull << p; /* a record there, readable or not */
        unsure |= best == -ERR_QUORUM;
        no_bucket |= best == -ERR_BUCKET_NOT_FOUND;
        for (j = 0; j < set->n; j++)
            objmeta_release(&metas[j]);
    }
    if (any_unsure)
        *any_unsure = unsure;
    if (found)
        return 0;
    return unsure ? -ERR_QUORUM : no_bucket ? -ERR_BUCKET_NOT_FOUND : -ERR_KEY_NOT_FOUND;
}

int
object__locate(struct objlayer *ol, const char *bucket, const char *key, struct eset **out)
{
    struct obj_meta newest;
    uint64_t holders;
    int rc;

    *out = object__pick_set(ol, bucket, key);
    if (!object__roams(ol, bucket))
        return 0;
    objmeta_init(&newest);
    rc = object__pools_read(ol, bucket, key, -1, &newest, out, &holders, NULL);
    objmeta_release(&newest);
    return rc;
}

/* A thread's pseudo-random numbers (xorshift64*), seeded from the clock and the thread. */
static uint64_t
pick_random(void)
{
    static _Thread_local uint64_t x;

    if (!x)
        x = (uint64_t)clock_mono_ns() ^ ((uint64_t)(uintptr_t)&x << 17) ^ 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 2685821657736338717ULL;
}

struct eset *
object__place(struct objlayer *ol, const char *bucket, const char *key)
{
    uint64_t w[OBJ_MAX_POOLS], total = 0, r;
    struct eset *set;
    unsigned p, j;

    if (object__locate(ol, bucket, key, &set) == 0) /* one pool: no lookup; else where it is */
        return set;
    for (p = 0; p < ol->npools; p++) {
        unsigned online = 0;

        set = object__pool_set(ol, p, bucket, key);
        for (j = 0; j < set->n; j++)
            online += drive_is_online(set->drives[j]);
        /* a pool whose set cannot take the write is left out; free space in MiB, at least 1 */
        w[p] = online >= object__write_quorum(set->k, set->m)
                   ? atomic_load(&ol->pools[p].free_bytes) / (1024 * 1024) + 1
                   : 0;
        total += w[p];
    }
    if (total == 0) /* none can: the write fails in pool 0, as with one pool */
        return object__pick_set(ol, bucket, key);
    r = pick_random() % total;
    for (p = 0; p + 1 < ol->npools && r >= w[p]; p++)
        r -= w[p];
    return object__pool_set(ol, p, bucket, key);
}

void
object__pools_refresh(struct objlayer *ol)
{
    unsigned p;
    size_t i;

    for (p = 0; p < ol->npools; p++) {
        const struct obj_pool *pool = &ol->pools[p];
        uint64_t free_bytes = 0;

        for (i = pool->first_drive; i < pool->first_drive + pool->ndrives; i++) {
            struct drive_info info = { 0 };

            if (drive_is_online(ol->drives[i]) && drive_info(ol->drives[i], &info) == 0)
                free_bytes += info.free_bytes;
        }
        atomic_store(&ol->pools[p].free_bytes, free_bytes);
    }
}

struct erasure *
object__codec(struct objlayer *ol, unsigned k, unsigned m)
{
    struct erasure *e;

    if (k == 0 || k + m > ERASURE_MAX_SHARDS)
        return NULL;
    pthread_mutex_lock(&ol->codec_mu);
    e = ol->codecs[k][m];
    if (!e)
        e = ol->codecs[k][m] = erasure_new(k, m);
    pthread_mutex_unlock(&ol->codec_mu);
    return e;
}

int
object__lock(struct objlayer *ol, const char *bucket, const char *key, struct lock_held **out)
{
    struct buf res = BUF_INIT;
    int rc;

    if (key)
        buf_addf(&res, "o/%s/%s", bucket, key);
    else
        buf_addf(&res, "b/%s", bucket);
    rc = lock_acquire(ol->locks, res.ptr, LOCK_WRITE,
                      reqctx_deadline(reqctx_current(), OBJ_LOCK_WAIT_NS), out);
    buf_release(&res);
    if (rc == -ERR_QUORUM) { /* too few nodes answer: a write now could not be safe */
        log_warn(&(struct log_ctx){ .bucket = bucket, .key = key, .event = "lock_no_quorum" },
                 "the name lock needs a majority of the nodes; too few answer");
        return -ERR_QUORUM;
    }
    if (rc < 0)
        log_warn(&(struct log_ctx){ .bucket = bucket, .key = key, .event = "lock_timeout" },
                 "the name lock was not granted in time: %s", err_name(rc));
    return rc < 0 ? -ERR_BUSY : 0;
}

int
object__lock_check(const struct lock_held *h)
{
    return lock_is_lost(h) ? -ERR_BUSY : 0;
}

void
object__unlock(struct lock_held *h)
{
    lock_release(h);
}

bool
object__mp_owner(const char *bucket, const char *key, struct slice *ob, struct slice *ok)
{
    const char *b, *slash, *end;
    unsigned seps;

    if (strcmp(bucket, OBJ_MP_BUCKET) != 0 || !(key[0] == 'u' || key[0] == 'p') || key[1] != '/')
        return false;
    b = key + 2;
    slash = strchr(b, '/');
    if (!slash)
        return false;
    /*
     * From the end: the object key itself may contain the separator. An
     * upload's key ends in OBJ_MP_SEP <id>, a part's in OBJ_MP_SEP <id> OBJ_MP_SEP <number>.
     */
    seps = key[0] == 'u' ? 1 : 2;
    for (end = key + strlen(key); end > slash + 1;)
        if (*--end == OBJ_MP_SEP && --seps == 0)
            break;
    if (seps != 0)
        return false;
    *ob = slice_make(b, (size_t)(slash - b));
    *ok = slice_make(slash + 1, (size_t)(end - slash - 1));
    return true;
}

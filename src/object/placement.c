/*
 * object/placement.c: part of the layer's floor (internal.h): where an
 * object lives and who may change it. The erasure set of bucket/key (a
 * stable hash), the codec of a layout (built once, shared), and the name
 * locks of the lock service. Nothing here calls an operation of the layer.
 */
#include "util/base.h"

#include "obs/log.h"
#include "object/internal.h"

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
object__pick_set(struct objlayer *ol, const char *bucket, const char *key)
{
    struct slice ob, ok;

    /* A multipart upload and its parts live in the set of the object to be. */
    if (object__mp_owner(bucket, key, &ob, &ok))
        return &ol->sets[hash_pair(ob, ok) % ol->nsets];
    return &ol->sets[object__hash(bucket, key) % ol->nsets];
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
    if (rc < 0)
        log_warn(&(struct log_ctx){ .bucket = bucket, .key = key, .event = "lock_timeout" },
                 "the name lock was not granted in time: %s", err_name(rc));
    buf_release(&res);
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

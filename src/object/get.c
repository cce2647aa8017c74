/*
 * object/get.c: streaming GET and HEAD.
 *
 * Open reads every drive's record and picks the version to serve (quorum.c).
 * A read fetches the block(s) covering the range: it asks the drives holding
 * the k data shards first, verifies each shard block against its hash, and
 * when one is missing or corrupt asks a drive holding a parity shard instead,
 * then decodes. Any drive found missing, stale or corrupt queues the object
 * for healing; the client still gets correct bytes from any k good shards.
 * One decoded block is cached, so sequential reads cost one fetch per block.
 * Reads copy from the data shards' buffers themselves (a block is its data
 * shards one after the other), which come from the layer's recycling pool
 * (ol->blocks): no block-sized copy and no fresh pages per request.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include <limits.h>

#include "obs/log.h"
#include "object/internal.h"

void
object__get_free(struct obj_get *g)
{
    unsigned j;

    for (j = 0; j < OBJ_MAX_SET; j++) {
        drive_shard_close(g->readers[j]);
        objmeta_release(&g->metas[j]);
        bufpool_put(g->ol->blocks, g->shards[j], g->shard_caps[j]);
    }
    free(g->bucket);
    free(g->key);
    free(g);
}

struct obj_get *
object__get_new(struct objlayer *ol, const char *bucket, const char *key)
{
    struct obj_get *g = xcalloc(1, sizeof(*g));
    unsigned j;

    g->ol = ol;
    g->ctx = reqctx_current();
    g->set = object__pick_set(ol, bucket, key);
    g->bucket = xstrdup(bucket);
    g->key = xstrdup(key);
    g->cur_blk = UINT64_MAX;
    g->cur_part = UINT_MAX;
    for (j = 0; j < OBJ_MAX_SET; j++)
        objmeta_init(&g->metas[j]);
    return g;
}

int
object__get_open_meta(struct obj_get *g)
{
    int best = object__locate(g->ol, g->bucket, g->key, &g->set); /* several pools: which */
    unsigned j;

    if (best == 0 && g->fast)
        best = object__read_metas_fast(g->set, g->bucket, g->key, g->metas, g->rcs, g->agree);
    else if (best == 0)
        best = object__read_metas(g->set, g->bucket, g->key, g->metas, g->rcs, g->agree);
    if (best < 0)
        return best;
    g->m = &g->metas[best];
    /* objmeta_validate() does not bound it: a block buffer of that size is allocated. */
    if (g->m->block_size == 0 || g->m->block_size > ERASURE_BLOCK_SIZE)
        return -ERR_CORRUPT;
    for (j = 0; j < g->set->n; j++) {
        /*
         * A copy that claims another shard than the layout gives its drive
         * would land in the wrong buffer (two fetches into one): not used.
         */
        if (g->agree[j] && g->metas[j].shard_idx != g->m->dist[j])
            g->agree[j] = false;
        if (!g->agree[j] && g->rcs[j] != -ERR_OFFLINE)
            g->heal = true;
    }
    return 0;
}

/*
 * Whether drive j's copy, found missing or stale by the read, may be a
 * commit that answered since: its record read again is the version served.
 */
static bool
settled_since(struct obj_get *g, unsigned j)
{
    struct obj_meta now;
    bool same;

    objmeta_init(&now);
    same = drive_meta_read(g->set->drives[j], g->bucket, g->key, &now) == 0 &&
           object__same_version(&now, g->m) && now.shard_idx == g->m->dist[j];
    objmeta_release(&now);
    return same;
}

/*
 * The read met copies missing, stale or unreadable: the object is queued
 * for healing, unless each copy it found missing or stale is a commit in
 * flight (a PUT answered at write quorum, the last drives still commit: a
 * failure there queues the heal itself) or one that answered since. A heal
 * queued for those would find nothing to do, or worse, race the commit.
 */
static void
heal_after_read(struct obj_get *g)
{
    bool flying[OBJ_MAX_SET];
    unsigned j;

    object__flight_in(g->ol, g->set, g->bucket, g->key, flying);
    for (j = 0; j < g->set->n; j++) {
        if (g->bad[j])
            break; /* a shard that failed to read: no commit explains it */
        if (g->agree[j] || g->rcs[j] == -ERR_OFFLINE || flying[j])
            continue;
        if (!settled_since(g, j))
            break;
    }
    if (j < g->set->n)
        object__heal_enqueue(g->ol, g->bucket, g->key);
}

int
object__head_meta_at(struct objlayer *ol, const char *bucket, const char *key, struct obj_meta *out,
                     struct eset **set)
{
    struct obj_get *g = object__get_new(ol, bucket, key);
    int rc;

    g->fast = true;
    rc = object__get_open_meta(g);
    if (rc == 0) {
        objmeta_copy(out, g->m);
        buf_release(&out->inline_data);
        if (g->heal)
            heal_after_read(g);
        if (set)
            *set = g->set;
    }
    object__get_free(g);
    return rc;
}

int
object__head_meta(struct objlayer *ol, const char *bucket, const char *key, struct obj_meta *out)
{
    return object__head_meta_at(ol, bucket, key, out, NULL);
}

int
object__head(struct objlayer *ol, const char *bucket, const char *key, struct obj_info *info)
{
    struct obj_meta m;
    int rc;

    objmeta_init(&m);
    rc = object__head_meta(ol, bucket, key, &m);
    if (rc == 0)
        object__info_from_meta(info, &m);
    objmeta_release(&m);
    return rc;
}

unsigned
object__nstreams(const struct obj_meta *m)
{
    size_t n = objmeta_nparts(m);

    return n ? (unsigned)n : 1;
}

uint64_t
object__stream_size(const struct obj_meta *m, unsigned part)
{
    return objmeta_nparts(m) ? objmeta_part(m, part)->size : m->size;
}

static int
open_reader_job(struct eset *set, unsigned j, void *arg)
{
    struct obj_get *g = arg;

    return drive_shard_open(set->drives[j], g->m->vid, 1, &g->readers[j]);
}

/* Moves the held shard files to part `part` (opened again lazily by fetch_job). */
static void
readers_to_part(struct obj_get *g, unsigned part)
{
    unsigned j;

    if (g->reader_part == part)
        return;
    for (j = 0; j < OBJ_MAX_SET; j++) {
        drive_shard_close(g->readers[j]);
        g->readers[j] = NULL;
    }
    g->reader_part = part;
}

/*
 * Opens the shard files of the chosen version on every drive that holds it,
 * before any byte is sent: from then on an overwrite cannot take the files
 * away. Returns how many opened.
 */
static unsigned
open_readers(struct obj_get *g)
{
    int rcs[OBJ_MAX_SET];
    unsigned j, n = 0;

    object__run_meta(g->set, g->agree, open_reader_job, g, rcs);
    for (j = 0; j < g->set->n; j++)
        n += g->agree[j] && rcs[j] == 0;
    return n;
}

static void
get_reset(struct obj_get *g)
{
    unsigned j;

    for (j = 0; j < OBJ_MAX_SET; j++) {
        drive_shard_close(g->readers[j]);
        g->readers[j] = NULL;
        objmeta_release(&g->metas[j]);
        objmeta_init(&g->metas[j]);
    }
    g->reader_part = 0;
    g->m = NULL;
}

/*
 * Picks the version and, for one with shard files, opens them. An overwrite
 * that lands between the two removes the files of the version just picked:
 * then the records are read again (a few times) to serve the new version.
 */
static int
open_version(struct obj_get *g)
{
    int tries, rc = 0;

    for (tries = 0; tries < 4; tries++) {
        if (tries)
            get_reset(g);
        rc = object__get_open_meta(g);
        if (rc < 0 || g->m->is_inline || open_readers(g) >= g->m->k)
            return rc;
    }
    return -ERR_QUORUM;
}

int
object__get_open(struct objlayer *ol, const char *bucket, const char *key, struct obj_get **out,
                 struct obj_info *info)
{
    struct obj_get *g = object__get_new(ol, bucket, key);
    int rc;

    g->fast = true;
    rc = open_version(g);

    if (rc < 0) {
        object__get_free(g);
        return rc;
    }
    g->codec = object__codec(ol, g->m->k, g->m->m);
    if (!g->codec) {
        object__get_free(g);
        return -ERR_CORRUPT;
    }
    object__info_from_meta(info, g->m);
    *out = g;
    return 0;
}

/* Reads and verifies drive j's shard block into g->shards[its shard]. */
static int
fetch_job(struct eset *set, unsigned j, void *arg)
{
    struct obj_get *g = arg;
    const struct obj_meta *dm = &g->metas[j];
    uint8_t *dst = g->shards[dm->shard_idx];
    ssize_t n;

    if (g->m->is_inline) {
        if (g->fetch_off + g->fetch_len > dm->inline_data.len)
            return -ERR_CORRUPT;
        memcpy(dst, dm->inline_data.ptr + g->fetch_off, g->fetch_len);
    } else {
        if (!g->readers[j]) {
            int rc = drive_shard_open(set->drives[j], g->m->vid, g->fetch_part + 1, &g->readers[j]);

            if (rc < 0)
                return rc;
        }
        n = drive_shard_pread(g->readers[j], g->fetch_off, dst, g->fetch_len);
        if (n < 0)
            return (int)n;
        if ((size_t)n != g->fetch_len)
            return -ERR_CORRUPT;
    }
    if (!bitrot_verify(dst + ERASURE_HASH_LEN, g->fetch_len - ERASURE_HASH_LEN, dst))
        return -ERR_CORRUPT;
    return 0;
}

/* Picks up to `want` more drives to read, data shards first. */
static unsigned
choose(struct obj_get *g, bool *tried, bool *mask, unsigned want)
{
    unsigned n = g->set->n, picked = 0, pass, j;

    memset(mask, 0, n * sizeof(*mask));
    for (pass = 0; pass < 2 && picked < want; pass++) {
        for (j = 0; j < n && picked < want; j++) {
            bool is_data = g->metas[j].shard_idx < g->m->k;

            if (tried[j] || !g->agree[j] || g->bad[j] || is_data != (pass == 0))
                continue;
            mask[j] = tried[j] = true;
            picked++;
        }
    }
    return picked;
}

static void
note_failures(struct obj_get *g, const bool *mask, const int *rcs, bool *present, unsigned *good)
{
    unsigned j;

    for (j = 0; j < g->set->n; j++) {
        if (!mask[j])
            continue;
        if (rcs[j] >= 0) {
            present[g->metas[j].shard_idx] = true;
            (*good)++;
            continue;
        }
        g->bad[j] = true;
        g->heal = true;
        log_warn(&(struct log_ctx){ .bucket = g->bucket,
                                    .key = g->key,
                                    .drive = drive_endpoint(g->set->drives[j]),
                                    .event = "shard_read_failed" },
                 "shard read failed: %s; reading another shard", err_name(rcs[j]));
    }
}

/*
 * Buffers of at least `need` bytes for shards 0 to n - 1: the k data shards
 * for a read of healthy drives, every shard once a parity shard is read or
 * a decode rebuilds the missing ones.
 */
static void
ensure_buffers(struct obj_get *g, size_t need, unsigned n)
{
    struct bufpool *pool = g->ol->blocks;
    unsigned i;

    for (i = 0; i < n; i++) {
        if (g->shards[i] && g->shard_caps[i] >= need)
            continue;
        bufpool_put(pool, g->shards[i], g->shard_caps[i]);
        g->shards[i] = bufpool_get(pool, need, &g->shard_caps[i]);
    }
}

/* Whether `mask` picks a drive holding a parity shard. */
static bool
picks_parity(const struct obj_get *g, const bool *mask)
{
    unsigned j;

    for (j = 0; j < g->set->n; j++)
        if (mask[j] && g->metas[j].shard_idx >= g->m->k)
            return true;
    return false;
}

int
object__load_block(struct obj_get *g, unsigned part, uint64_t blk, bool all)
{
    const struct obj_meta *m = g->m;
    unsigned k = m->k, i, good = 0;
    uint64_t size = object__stream_size(m, part);
    size_t len = erasure_block_len(size, m->block_size, blk), S = erasure_shard_len(k, len);
    bool tried[OBJ_MAX_SET] = { false }, mask[OBJ_MAX_SET], present[OBJ_MAX_SET] = { false };
    uint8_t *ptrs[OBJ_MAX_SET];
    int rcs[OBJ_MAX_SET];

    g->cur_blk = UINT64_MAX; /* the buffers are overwritten: no block is cached until this one is */
    ensure_buffers(g, S + ERASURE_HASH_LEN, all ? k + m->m : k);
    readers_to_part(g, part);
    g->fetch_part = part;
    g->fetch_off = erasure_shard_offset(k, size, m->block_size, blk);
    g->fetch_len = S + ERASURE_HASH_LEN;
    while (good < k) {
        if (!choose(g, tried, mask, k - good))
            return -ERR_QUORUM;
        if (picks_parity(g, mask))
            ensure_buffers(g, S + ERASURE_HASH_LEN, k + m->m);
        /*
         * An inline object's shards are in the records already read: copy
         * and verify them here, whether the drives are this node's or not;
         * a hand-off to the drives' I/O threads and back would cost more
         * than the work (context switches per GET).
         */
        if (m->is_inline)
            object__run_here(g->set, mask, fetch_job, g, rcs);
        else
            object__run(g->set, mask, fetch_job, g, rcs);
        note_failures(g, mask, rcs, present, &good);
    }
    for (i = 0; i < k + m->m; i++)
        ptrs[i] = g->shards[i] ? g->shards[i] + ERASURE_HASH_LEN : NULL;
    for (i = 0; i < (all ? k + m->m : k) && present[i]; i++)
        ;
    if (i < (all ? k + m->m : k)) {
        ensure_buffers(g, S + ERASURE_HASH_LEN, k + m->m); /* the decode writes every missing one */
        for (i = 0; i < k + m->m; i++)
            ptrs[i] = g->shards[i] + ERASURE_HASH_LEN;
        if (erasure_decode(g->codec, ptrs, present, S) < 0)
            return -ERR_CORRUPT;
    }
    g->cur_part = part;
    g->cur_blk = blk;
    g->cur_len = len;
    g->cur_shard_len = S;
    return 0;
}

/* The part holding byte `pos` of the object and the offset in it (pos < size). */
static unsigned
find_part(const struct obj_meta *m, uint64_t pos, uint64_t *in_part)
{
    size_t n = objmeta_nparts(m), i;

    for (i = 0; i < n; i++) {
        uint64_t sz = objmeta_part(m, i)->size;

        if (pos < sz)
            break;
        pos -= sz;
    }
    *in_part = pos;
    return n ? (unsigned)MIN(i, n - 1) : 0;
}

static ssize_t
get_read(struct obj_get *g, uint64_t off, void *dst, size_t n)
{
    const struct obj_meta *m = g->m;
    size_t done = 0;
    int rc;

    while (done < n && off + done < m->size) {
        uint64_t pos;
        unsigned part = find_part(m, off + done, &pos);
        uint64_t blk = pos / m->block_size;
        size_t in = (size_t)(pos % m->block_size), take;

        if (blk != g->cur_blk || part != g->cur_part) {
            rc = object__load_block(g, part, blk, false);
            if (rc < 0) {
                log_error(&(struct log_ctx){ .bucket = g->bucket,
                                             .key = g->key,
                                             .event = "read_quorum_lost" },
                          "fewer than %u good shards: %s", m->k, err_name(rc));
                return rc;
            }
        }
        /* byte `in` of the block is in data shard in / S, at in % S */
        take = MIN(n - done, g->cur_len - in);
        take = MIN(take, g->cur_shard_len - in % g->cur_shard_len);
        memcpy((char *)dst + done,
               g->shards[in / g->cur_shard_len] + ERASURE_HASH_LEN + in % g->cur_shard_len, take);
        done += take;
    }
    return (ssize_t)done;
}

/* Reads under the request context of the call that opened the GET (util/reqctx.h). */
ssize_t
obj_get_read(struct obj_get *g, uint64_t off, void *dst, size_t n)
{
    const struct reqctx *prev = reqctx_enter(g->ctx);
    ssize_t rc = get_read(g, off, dst, n);

    reqctx_leave(prev);
    return rc;
}

void
obj_get_close(struct obj_get *g)
{
    if (!g)
        return;
    if (g->heal && g->m)
        heal_after_read(g);
    else if (g->heal)
        object__heal_enqueue(g->ol, g->bucket, g->key);
    object__get_free(g);
}

/*
 * object/put.c: the streaming PUT (DESIGN.md "A PUT, end to end").
 *
 *   objlayer_put_begin   pick the set, raise parity for offline drives,
 *                        choose the shard rotation and a new version id
 *   obj_put_write        copy the bytes into the k data shards of a 1 MiB
 *                        block; on each full block: compute m parity
 *                        shards, hash each, append hash + shard to every
 *                        drive's temporary shard file in parallel (the first
 *                        full block opens them), and hand the block to a
 *                        hashing worker for the MD5 (the ETag)
 *   obj_put_finish       objects <= 128 KiB are encoded into the index
 *                        records (inline); others flush the last block and
 *                        fsync their shard files; then, under the name lock,
 *                        commit the record on every drive; answer once write
 *                        quorum committed, else roll back what committed
 *
 * Memory: three stripes of k+m shard buffers, whatever the object size.
 * A drive that fails a write is dropped from this PUT (sticky) and the object
 * is queued for healing; the PUT goes on while write quorum remains.
 */
#include "util/base.h"

#include "object/objlayer.h"

#include "obs/log.h"
#include "object/internal.h"
#include "util/clock.h"
#include "util/enc.h"
#include "util/md5.h"

struct obj_put;

/* One block's shard buffers, and the MD5 job of its data. */
struct stripe {
    uint8_t *shards[OBJ_MAX_SET]; /* hash + shard bytes, indexed by shard number */
    size_t cap;
    size_t len;      /* S: the shard length its block is laid out for */
    size_t data_len; /* bytes of object data in it (the block's length), once encoded */
    struct obj_put *put;
    struct work md5_work;
    struct latch md5_latch;
    struct iovec md5_iov[OBJ_MAX_SET]; /* the block's data in its data shards */
    unsigned md5_iovcnt;
    bool md5_pending; /* started (md5_start), not yet waited for (md5_wait) */
};

/*
 * Stripes per PUT (OBJ_PUT_STRIPES): block N is received into one while the
 * drives write block N-1 and a hashing worker may still be on the MD5 of
 * N-2 (flush_block). objlayer_stream_mem() counts them.
 */
#define PUT_STRIPES OBJ_PUT_STRIPES

struct obj_put {
    struct objlayer *ol;
    struct eset *set;
    struct erasure *codec;
    char *bucket, *key;
    struct obj_meta meta; /* the template record: vid, layout, headers */
    unsigned wq;          /* write quorum */
    int64_t expect_size;
    uint8_t md5_expect[16];
    bool has_md5;
    struct md5 md5;    /* the ETag */
    size_t block_len;  /* bytes of the current block, received into stripes[cur] */
    size_t block_want; /* the length its shards are laid out for; 0: no block begun */
    uint64_t total;    /* bytes received */
    uint64_t flushed;  /* bytes of the blocks before the current one */
    struct stripe stripes[PUT_STRIPES];
    unsigned cur;           /* the stripe the bytes received go into */
    unsigned inflight;      /* the stripe whose appends are in `batch` */
    struct set_batch batch; /* appends of stripes[inflight] in flight */
    /*
     * The MD5 (ETag) of a block runs on a hashing worker (ol->hashq) while
     * this thread receives the next blocks: MD5 is the largest CPU cost of
     * a PUT. A worker hashes the blocks of up to eight PUTs at once in SIMD
     * lanes (util/md5.h), and gathers a block from each PUT streaming
     * before it runs them; a block's MD5 need only be done two blocks
     * later, so the workers can wait for fuller batches. A PUT's blocks are
     * hashed in order, one at a time: while one is queued or running
     * (md5_busy), the next waits in md5_next and its done callback submits
     * it.
     */
    pthread_mutex_t md5_mu; /* protects md5_busy, md5_next (the workers' done callbacks) */
    bool md5_busy;
    struct stripe *md5_next;
    bool md5_producer; /* registered with ol->hashq (workq_producer) */
    int batch_rcs[OBJ_MAX_SET];
    bool batch_mask[OBJ_MAX_SET];
    bool streaming; /* shard files opened */
    bool no_inline; /* a multipart part: always shard files (they become the object's) */
    const struct obj_cond *cond; /* conditional write: checked under the name lock */
    struct shard_writer *w[OBJ_MAX_SET];
    int wrc[OBJ_MAX_SET];        /* per drive: 0, or the sticky error */
    struct buf inl[OBJ_MAX_SET]; /* inline shard data per drive */
    int rc;                      /* sticky error of the whole PUT */
    const struct reqctx *ctx;    /* of the call that began it (borrowed; util/reqctx.h) */
};

static unsigned
alive(const struct obj_put *p)
{
    unsigned j, n = 0;

    for (j = 0; j < p->set->n; j++)
        if (p->wrc[j] == 0)
            n++;
    return n;
}

static void
plan_layout(struct obj_put *p, bool reduced)
{
    struct eset *set = p->set;
    unsigned j, offline = 0, m, start, base = reduced ? MIN(1u, set->m) : set->m;

    for (j = 0; j < set->n; j++) {
        p->wrc[j] = drive_is_online(set->drives[j]) ? 0 : -ERR_OFFLINE;
        if (p->wrc[j])
            offline++;
    }
    /* New objects keep full protection: one more parity per offline drive. */
    m = MIN(base + offline, set->n / 2);
    p->meta.k = (uint8_t)(set->n - m);
    p->meta.m = (uint8_t)m;
    p->meta.block_size = ERASURE_BLOCK_SIZE;
    start = (unsigned)(object__hash(p->bucket, p->key) % set->n);
    for (j = 0; j < set->n; j++)
        p->meta.dist[j] = (uint8_t)((j + start) % set->n);
    p->wq = object__write_quorum(p->meta.k, p->meta.m);
}

/* The layout of a multipart upload, for its parts: same set, shards, rotation. */
static void
use_layout(struct obj_put *p, const struct obj_meta *layout)
{
    unsigned j;

    for (j = 0; j < p->set->n; j++)
        p->wrc[j] = drive_is_online(p->set->drives[j]) ? 0 : -ERR_OFFLINE;
    p->meta.k = layout->k;
    p->meta.m = layout->m;
    p->meta.block_size = layout->block_size;
    memcpy(p->meta.dist, layout->dist, sizeof(p->meta.dist));
    p->wq = object__write_quorum(p->meta.k, p->meta.m);
    p->no_inline = true;
}

static void put_abort(struct obj_put *p);

int
object__put_begin(struct objlayer *ol, const char *bucket, const char *key,
                  const struct obj_put_opts *opts, const struct obj_meta *layout, struct eset *set,
                  struct obj_put **out)
{
    struct obj_put *p;
    unsigned j;
    int rc = object__bucket_stat(ol, bucket, NULL);

    if (rc < 0)
        return rc;
    p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->md5_mu, NULL);
    p->ol = ol;
    p->ctx = reqctx_current();
    p->set = set ? set : object__place(ol, bucket, key);
    p->bucket = xstrdup(bucket);
    p->key = xstrdup(key);
    objmeta_init(&p->meta);
    objmeta_new_vid(p->meta.vid);
    buf_add(&p->meta.headers, opts->headers.ptr, opts->headers.len);
    for (j = 0; j < OBJ_MAX_SET; j++)
        buf_init(&p->inl[j], 0);
    if (layout && layout->k + layout->m == p->set->n)
        use_layout(p, layout);
    else
        plan_layout(p, opts->reduced_redundancy);
    p->codec = object__codec(ol, p->meta.k, p->meta.m);
    p->expect_size = opts->size;
    p->meta.reduced = opts->reduced_redundancy;
    p->cond = opts->cond;
    if (opts->content_md5) {
        memcpy(p->md5_expect, opts->content_md5, 16);
        p->has_md5 = true;
    }
    md5_init(&p->md5);
    if (alive(p) < p->wq || !p->codec) {
        put_abort(p);
        return -ERR_QUORUM;
    }
    *out = p;
    return 0;
}

/*
 * Begins a block in stripes[cur], laid out for `want` bytes: the block's
 * bytes go straight into the data shards as they arrive (shard i holds
 * bytes [i * S, (i + 1) * S)), so no block buffer is copied into them.
 */
static void
begin_block(struct obj_put *p, size_t want)
{
    struct stripe *st = &p->stripes[p->cur];
    unsigned n = p->meta.k + p->meta.m, i;
    size_t S = erasure_shard_len(p->meta.k, want);

    if (S + ERASURE_HASH_LEN > st->cap) {
        for (i = 0; i < n; i++) {
            free(st->shards[i]);
            st->shards[i] = xmalloc(S + ERASURE_HASH_LEN);
        }
        st->cap = S + ERASURE_HASH_LEN;
    }
    st->len = S;
    p->block_want = want;
}

/* The object bytes of stripe `st` (its block of `len` bytes) as iovecs over its data shards. */
static unsigned
block_iov(const struct obj_put *p, const struct stripe *st, size_t len, struct iovec *iov)
{
    size_t off = 0;
    unsigned i;

    for (i = 0; i < p->meta.k && off < len; i++) {
        iov[i].iov_base = st->shards[i] + ERASURE_HASH_LEN;
        iov[i].iov_len = MIN(st->len, len - off);
        off += iov[i].iov_len;
    }
    return i;
}

/*
 * Encodes and hashes the current block in stripes[cur]. A block shorter than
 * its layout (the last one of a body of unknown length) is laid out again
 * for its length first, as erasure_split() would have split it, in place.
 */
static void
encode_block(struct obj_put *p)
{
    struct stripe *st = &p->stripes[p->cur];
    unsigned k = p->meta.k, n = p->meta.k + p->meta.m, i;
    size_t S = erasure_shard_len(k, p->block_len);
    uint8_t *ptrs[OBJ_MAX_SET];

    for (i = 0; i < n; i++)
        ptrs[i] = st->shards[i] + ERASURE_HASH_LEN;
    if (S != st->len) {
        /*
         * In place, last shard first: byte x of the block moves from old
         * shard x / st->len to new shard x / S (S < st->len), so a new shard
         * takes bytes only from old shards at or before its own, which are
         * still unchanged. Its own old bytes move up (memmove), then the
         * ones before them come from earlier shards, then the padding.
         */
        size_t old = st->len, L = p->block_len;

        for (i = k; i-- > 0;) {
            size_t lo = MIN(i * S, L), hi = MIN(lo + S, L), own = MAX(lo, i * old), x;

            if (hi > own)
                memmove(ptrs[i] + (own - lo), ptrs[i] + (own - i * old), hi - own);
            for (x = lo; x < MIN(hi, own);) {
                size_t off = x % old, c = MIN(old - off, MIN(hi, own) - x);

                memcpy(ptrs[i] + (x - lo), ptrs[x / old] + off, c);
                x += c;
            }
            memset(ptrs[i] + (hi - lo), 0, S - (hi - lo));
        }
        st->len = S;
    } else {
        for (i = 0; i < k; i++) { /* zero the data shards past the block's end */
            size_t at = (size_t)i * S, have = at < p->block_len ? MIN(S, p->block_len - at) : 0;

            memset(ptrs[i] + have, 0, S - have);
        }
    }
    st->data_len = p->block_len;
    erasure_encode(p->codec, ptrs, S);
    for (i = 0; i < n; i++)
        bitrot_hash(ptrs[i], S, st->shards[i]);
}

static int
create_job(struct eset *set, unsigned j, void *arg)
{
    struct obj_put *p = arg;

    return drive_shard_create(set->drives[j], p->meta.vid, 1, &p->w[j]);
}

static int
append_job(struct eset *set, unsigned j, void *arg)
{
    struct obj_put *p = arg;
    const struct stripe *st = &p->stripes[p->inflight];

    return drive_shard_append(p->w[j], st->shards[p->meta.dist[j]], st->len + ERASURE_HASH_LEN);
}

static int
finish_job(struct eset *set, unsigned j, void *arg)
{
    struct obj_put *p = arg;
    int rc = drive_shard_finish(p->w[j]);

    p->w[j] = NULL;
    return rc;
}

/* Drops the drives whose job failed; -ERR_QUORUM when too few remain. */
static int
note_results(struct obj_put *p, const bool *mask, const int *rcs, bool abort_writer)
{
    unsigned j;

    for (j = 0; j < p->set->n; j++) {
        if (!mask[j] || rcs[j] >= 0)
            continue;
        p->wrc[j] = rcs[j];
        if (p->w[j] && abort_writer) {
            drive_shard_abort(p->w[j]);
            p->w[j] = NULL;
        }
        log_warn(&(struct log_ctx){ .bucket = p->bucket,
                                    .key = p->key,
                                    .drive = drive_endpoint(p->set->drives[j]) },
                 "shard write failed: %s", err_name(rcs[j]));
    }
    if (alive(p) < p->wq)
        return p->rc = -ERR_QUORUM;
    return 0;
}

/* The hashing workers' batch: the blocks of up to MD5_LANES PUTs at once. */
void
object__md5_batch(struct work **w, unsigned n)
{
    struct md5_input in[WORKQ_MAX_BATCH];
    unsigned i;

    for (i = 0; i < n; i++) {
        struct stripe *st = container_of(w[i], struct stripe, md5_work);

        in[i] = (struct md5_input){ .ctx = &st->put->md5,
                                    .iov = st->md5_iov,
                                    .iovcnt = st->md5_iovcnt };
    }
    md5_update_many(in, n);
}

static void
md5_done(struct work *w)
{
    struct stripe *st = container_of(w, struct stripe, md5_work);
    struct obj_put *p = st->put;
    struct stripe *next;

    pthread_mutex_lock(&p->md5_mu);
    next = p->md5_next;
    p->md5_next = NULL;
    p->md5_busy = next != NULL;
    pthread_mutex_unlock(&p->md5_mu);
    if (next)
        workq_submit(p->ol->hashq, &next->md5_work);
    latch_count_down(&st->md5_latch);
}

static void
md5_start(struct obj_put *p, struct stripe *st)
{
    bool later;

    st->md5_iovcnt = block_iov(p, st, st->data_len, st->md5_iov);
    st->put = p;
    st->md5_work = (struct work){ .done = md5_done };
    if (!p->md5_producer) {
        p->md5_producer = true;
        workq_producer(p->ol->hashq, +1);
    }
    latch_init(&st->md5_latch, 1);
    st->md5_pending = true;
    pthread_mutex_lock(&p->md5_mu);
    later = p->md5_busy;
    if (later) {
        BUG_ON(p->md5_next);
        p->md5_next = st;
    }
    p->md5_busy = true;
    pthread_mutex_unlock(&p->md5_mu);
    if (!later)
        workq_submit(p->ol->hashq, &st->md5_work);
}

/*
 * Waits for the MD5 of the block in `st`. Blocks are waited for oldest
 * first, and a block's done callback submits the next block's job before it
 * counts down, so the job waited for is never still in md5_next: it is
 * queued, running or done, and the nudge reaches it.
 */
static void
md5_wait(struct obj_put *p, struct stripe *st)
{
    if (!st->md5_pending)
        return;
    workq_nudge(p->ol->hashq, &st->md5_work);
    latch_wait(&st->md5_latch);
    latch_release(&st->md5_latch);
    st->md5_pending = false;
}

/* Every block's MD5, oldest first. */
static void
md5_wait_all(struct obj_put *p)
{
    unsigned i;

    /* the stripe receiving is never hashing: cur + 1 is the oldest block, cur + 2 the newest */
    BUG_ON(p->stripes[p->cur].md5_pending);
    for (i = 1; i < PUT_STRIPES; i++)
        md5_wait(p, &p->stripes[(p->cur + i) % PUT_STRIPES]);
}

/* After the last block: this PUT no longer sends blocks for the hashing workers to gather. */
static void
md5_leave(struct obj_put *p)
{
    BUG_ON(p->md5_busy);
    if (p->md5_producer) {
        p->md5_producer = false;
        workq_producer(p->ol->hashq, -1);
    }
}

/* Waits for the appends in flight, if any, and takes their results. */
static int
append_wait(struct obj_put *p)
{
    if (p->batch.n == 0)
        return 0;
    object__wait(&p->batch);
    return note_results(p, p->batch_mask, p->batch_rcs, true);
}

/* Runs a job on the drives still in this PUT (nothing in flight); drops the ones that fail. */
static int
run_alive(struct obj_put *p, set_job_fn *fn)
{
    bool mask[OBJ_MAX_SET];
    int rcs[OBJ_MAX_SET];
    unsigned j;

    BUG_ON(p->batch.n != 0);
    for (j = 0; j < p->set->n; j++)
        mask[j] = p->wrc[j] == 0;
    object__run(p->set, mask, fn, p, rcs);
    return note_results(p, mask, rcs, fn != finish_job);
}

static int
flush_block(struct obj_put *p)
{
    unsigned j;
    int rc;

    if (!p->streaming) {
        p->streaming = true;
        rc = run_alive(p, create_job);
        if (rc < 0)
            return rc;
    }
    encode_block(p); /* block N, in stripes[cur], while the drives write N-1 */
    p->flushed += p->block_len;
    p->block_len = 0;
    p->block_want = 0;
    rc = append_wait(p);
    if (rc < 0)
        return rc;
    /* the MD5 of block N-2: its stripe receives block N+1 next */
    md5_wait(p, &p->stripes[(p->cur + 1) % PUT_STRIPES]);
    for (j = 0; j < p->set->n; j++)
        p->batch_mask[j] = p->wrc[j] == 0;
    p->inflight = p->cur;
    md5_start(p, &p->stripes[p->cur]);
    p->cur = (p->cur + 1) % PUT_STRIPES;
    object__start(p->set, p->batch_mask, append_job, p, p->batch_rcs, &p->batch);
    return 0;
}

static int
put_write(struct obj_put *p, const void *data, size_t n)
{
    const uint8_t *src = data;
    int rc;

    if (p->rc)
        return p->rc;
    if (p->expect_size >= 0 && p->total + n > (uint64_t)p->expect_size)
        return p->rc = -ERR_TOO_LARGE;
    p->total += n;
    while (n) {
        struct stripe *st = &p->stripes[p->cur];
        size_t take, off;

        if (!p->block_want) { /* the block's length, if the body's is known */
            size_t want = ERASURE_BLOCK_SIZE;

            if (p->expect_size >= 0)
                want = (size_t)MIN((uint64_t)want, MAX((uint64_t)p->expect_size - p->flushed, 1));
            begin_block(p, want);
        }
        off = p->block_len % st->len;
        take = MIN(MIN(n, st->len - off), p->block_want - p->block_len);
        BUG_ON(take == 0); /* a body longer than expect_size was refused above */
        memcpy(st->shards[p->block_len / st->len] + ERASURE_HASH_LEN + off, src, take);
        p->block_len += take;
        src += take;
        n -= take;
        if (p->block_len == ERASURE_BLOCK_SIZE) {
            rc = flush_block(p);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

void
obj_put_add_header(struct obj_put *p, const char *name, struct slice value)
{
    objmeta_add_header(&p->meta, name, value);
}

/* Small object: its one block is encoded into each drive's index record. */
static void
encode_inline(struct obj_put *p)
{
    struct iovec iov[OBJ_MAX_SET];
    unsigned cnt, i, j;

    if (p->total == 0)
        return;
    cnt = block_iov(p, &p->stripes[p->cur], p->block_len, iov);
    for (i = 0; i < cnt; i++)
        md5_update(&p->md5, iov[i].iov_base, iov[i].iov_len);
    encode_block(p);
    for (j = 0; j < p->set->n; j++)
        buf_add(&p->inl[j], p->stripes[p->cur].shards[p->meta.dist[j]],
                p->stripes[p->cur].len + ERASURE_HASH_LEN);
    p->block_len = 0;
}

struct commit_arg {
    struct obj_put *p;
    struct obj_meta metas[OBJ_MAX_SET];
    struct obj_meta prev[OBJ_MAX_SET]; /* the record each drive held before the commit */
    bool had_prev[OBJ_MAX_SET];
    /*
     * prev[j] and had_prev[j] are known: read first (read_prev), or answered
     * by drive j's commit (commit_job); else drive j failed before it said.
     */
    bool prev_known[OBJ_MAX_SET];
    /*
     * commit_in_order: drive j committed in some round, whatever its last
     * round answered (a later round's failure leaves this PUT's version there
     * at an earlier time: it must be rolled back with the others)
     */
    bool landed[OBJ_MAX_SET];
    uint64_t other_pools; /* several pools: those that hold a record of the key (dropped after) */
};

/*
 * Commits drive j's record, in order (drive_meta_replace): refused with
 * -ERR_EXISTS when the drive holds another version as new or newer. Either
 * way the drive answers the record it held, kept in a->prev[j] for a
 * rollback; a drive committing again after a refusal elsewhere
 * (commit_in_order) answers this PUT's own record, and the one before it is
 * kept.
 */
static void
commit_answer(struct commit_arg *a, unsigned j, int rc, bool had, const struct obj_meta *prev)
{
    if ((rc == 0 || rc == -ERR_EXISTS) && !(had && strcmp(prev->vid, a->metas[j].vid) == 0)) {
        a->had_prev[j] = had;
        if (had)
            objmeta_copy(&a->prev[j], prev);
        a->prev_known[j] = true;
    }
}

static int
commit_job(struct eset *set, unsigned j, void *arg)
{
    struct commit_arg *a = arg;
    struct obj_meta prev;
    bool had = false;
    int rc;

    objmeta_init(&prev);
    rc = drive_meta_replace(set->drives[j], a->p->bucket, a->p->key, &a->metas[j], &prev, &had);
    commit_answer(a, j, rc, had, &prev);
    objmeta_release(&prev);
    return rc;
}

/* commit_job() for the drives of one node, in one call (drive_meta_replace_many). */
static void
commit_hosts(struct eset *set, const unsigned *js, unsigned n, void *arg, int *rcs)
{
    struct commit_arg *a = arg;
    struct drive_meta_op ops[OBJ_MAX_SET];
    struct obj_meta prev[OBJ_MAX_SET];
    unsigned i;

    for (i = 0; i < n; i++) {
        objmeta_init(&prev[i]);
        ops[i] = (struct drive_meta_op){ .d = set->drives[js[i]],
                                         .m = &a->metas[js[i]],
                                         .out = &prev[i] };
    }
    drive_meta_replace_many(a->p->bucket, a->p->key, ops, n);
    for (i = 0; i < n; i++) {
        commit_answer(a, js[i], ops[i].rc, ops[i].had, &prev[i]);
        rcs[js[i]] = ops[i].rc;
        objmeta_release(&prev[i]);
    }
}

/*
 * One round of commits on the drives of `mask`: an inline record (no file
 * work) one call per node (object__run_hosts), else one per drive on its
 * I/O queue, where the renames and folder fsyncs run in parallel.
 */
static void
commit_round(struct commit_arg *a, const bool *mask, int *rcs)
{
    if (a->p->meta.is_inline)
        object__run_hosts(a->p->set, mask, commit_hosts, a, rcs);
    else
        object__run(a->p->set, mask, commit_job, a, rcs);
}

/* Dates the new version `t` (every drive's record). */
static void
set_mtime(struct commit_arg *a, int64_t t)
{
    unsigned j;

    a->p->meta.mtime_ns = t;
    for (j = 0; j < a->p->set->n; j++)
        a->metas[j].mtime_ns = t;
}

/* Rounds of commits after drives refused an older time (one is enough under the name lock). */
#define COMMIT_ROUNDS 3

/*
 * Commits on the drives of `mask` (commit_round). The
 * version's time was taken without reading the drives' records first (a
 * plain PUT): a drive holding a version as new or newer (a node whose clock
 * runs behind wrote this one) refuses and answers that version; the version
 * is then dated 1 ns after the newest refusal and committed again on every
 * drive that committed or refused, so all hold one time, after every
 * version any of them held. Under the name lock no other commit of the key
 * runs meanwhile, so one more round settles it; a drive still refusing
 * after COMMIT_ROUNDS counts as failed (-ERR_EXISTS).
 */
static void
commit_in_order(struct commit_arg *a, const bool *mask, int *rcs)
{
    struct eset *set = a->p->set;
    bool again[OBJ_MAX_SET];
    int rcs2[OBJ_MAX_SET];
    unsigned j, round;

    commit_round(a, mask, rcs);
    for (j = 0; j < set->n; j++)
        a->landed[j] = mask[j] && rcs[j] == 0;
    for (round = 1; round < COMMIT_ROUNDS; round++) {
        int64_t t = a->p->meta.mtime_ns;
        bool refused = false;

        for (j = 0; j < set->n; j++) {
            if (!mask[j] || rcs[j] != -ERR_EXISTS)
                continue;
            refused = true;
            if (a->prev[j].mtime_ns >= t)
                t = a->prev[j].mtime_ns + 1;
        }
        if (!refused)
            return;
        log_info(&(struct log_ctx){ .bucket = a->p->bucket,
                                    .key = a->p->key,
                                    .event = "version_time_raised" },
                 "a drive holds a version as new or newer (a clock behind?): dated %lld ns later",
                 (long long)(t - a->p->meta.mtime_ns));
        set_mtime(a, t);
        for (j = 0; j < set->n; j++)
            again[j] = mask[j] && (rcs[j] == 0 || rcs[j] == -ERR_EXISTS);
        commit_round(a, again, rcs2);
        for (j = 0; j < set->n; j++) {
            if (!again[j])
                continue;
            rcs[j] = rcs2[j];
            a->landed[j] |= rcs2[j] == 0;
        }
    }
}

/*
 * Undoes drive j's commit: restores the previous record where the drive can
 * (an inline record carries its data; a drive that kept the old shards), else
 * removes the new version (only if it is still the current one).
 */
static int
rollback_job(struct eset *set, unsigned j, void *arg)
{
    struct commit_arg *a = arg;

    if (a->had_prev[j] &&
        drive_meta_commit(set->drives[j], a->p->bucket, a->p->key, &a->prev[j]) == 0)
        return 0;
    return drive_meta_delete(set->drives[j], a->p->bucket, a->p->key, a->p->meta.vid);
}

/*
 * Inline commits handed to the drives' group committers. The request waits
 * until write quorum committed (or every drive answered), not for the
 * slowest drive: a drive's commit still in flight then completes on its own
 * (in order with later commits of the same drive, which are queued behind
 * it), queues the object for healing if it fails, and the last one to finish
 * frees the records it borrowed.
 */
struct commit_async {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned pending, ok, wq;
    bool done[OBJ_MAX_SET];
    bool detached; /* the request went on: the callbacks own this */
    bool heal;     /* a commit failed after the request went on: the last callback heals */
    struct commit_arg *a;
    struct objlayer *ol;
    struct eset *set;
    char *bucket, *key;
    int rcs[OBJ_MAX_SET];
    struct commit_async_cb {
        struct commit_async *ca;
        unsigned j;
    } cbs[OBJ_MAX_SET];
};

static void commit_arg_free(struct commit_arg *a);

static void
commit_async_free(struct commit_async *ca)
{
    pthread_mutex_destroy(&ca->mu);
    pthread_cond_destroy(&ca->cv);
    if (ca->a)
        commit_arg_free(ca->a);
    free(ca->bucket);
    free(ca->key);
    free(ca);
}

static void
commit_done(void *arg, int rc)
{
    struct commit_async_cb *cb = arg;
    struct commit_async *ca = cb->ca;
    bool last, heal;

    /* before any heal it queues, and before the request can see quorum */
    object__flight_end(ca->ol, ca->set, ca->bucket, ca->key, cb->j);
    pthread_mutex_lock(&ca->mu);
    ca->rcs[cb->j] = rc;
    ca->done[cb->j] = true;
    ca->pending--;
    if (rc >= 0)
        ca->ok++;
    if (ca->detached && rc < 0)
        ca->heal = true;
    last = ca->detached && ca->pending == 0;
    heal = last && ca->heal;
    if (ca->pending == 0 || ca->ok >= ca->wq) /* else the request would wake to wait again */
        pthread_cond_signal(&ca->cv);
    pthread_mutex_unlock(&ca->mu);
    /*
     * Only the last callback may touch ca after the unlock: another one that
     * failed and queued the heal itself could read ca->key after the last
     * one freed it.
     */
    if (heal)
        object__heal_enqueue(ca->ol, ca->bucket, ca->key);
    if (last)
        commit_async_free(ca);
}

/*
 * Commits the records on the drives in `mask`. An inline record needs no
 * file work, so it is handed straight to each drive's group committer from
 * this thread (drive_meta_commit_async) and no I/O thread sits waiting on a
 * group commit; records with shard files go through the I/O queues, where
 * the rename and the folder fsync run in parallel. Returns true when `a` was
 * handed to commits still in flight (the caller must not free it); their
 * rcs[] read as 0 (they count for quorum and heal themselves if they fail).
 */
static bool
commit_all(struct commit_arg *a, const bool *mask, int *rcs)
{
    struct eset *set = a->p->set;
    struct commit_async *ca;
    unsigned j, n = 0;
    bool detached;

    /*
     * In flight from here until each drive answers: a read meanwhile finds
     * old records on the drives still committing, and must not queue a
     * heal for them (object__flight_begin).
     */
    object__flight_begin(a->p->ol, set, a->p->bucket, a->p->key, mask);
    /* shard files, or drives of other nodes (whose commits do not run asynchronously) */
    if (!a->p->meta.is_inline || object__set_has_remote(set)) {
        commit_in_order(a, mask, rcs);
        for (j = 0; j < set->n; j++)
            if (mask[j])
                object__flight_end(a->p->ol, set, a->p->bucket, a->p->key, j);
        return false;
    }
    ca = xcalloc(1, sizeof(*ca));
    pthread_mutex_init(&ca->mu, NULL);
    pthread_cond_init(&ca->cv, NULL);
    ca->a = a;
    ca->ol = a->p->ol;
    ca->set = set;
    ca->wq = a->p->wq;
    /* the drives borrow bucket and key until their callbacks: copies that outlive the request */
    ca->bucket = xstrdup(a->p->bucket);
    ca->key = xstrdup(a->p->key);
    for (j = 0; j < set->n; j++) {
        ca->rcs[j] = -ERR_OFFLINE;
        n += mask[j];
    }
    ca->pending = n;
    for (j = 0; j < set->n; j++) {
        if (!mask[j])
            continue;
        ca->cbs[j] = (struct commit_async_cb){ ca, j };
        drive_meta_commit_async(set->drives[j], ca->bucket, ca->key, &a->metas[j], commit_done,
                                &ca->cbs[j]);
    }
    pthread_mutex_lock(&ca->mu);
    while (ca->pending > 0 && ca->ok < ca->wq)
        pthread_cond_wait(&ca->cv, &ca->mu);
    for (j = 0; j < set->n; j++)
        rcs[j] = ca->rcs[j];
    detached = ca->pending > 0;
    if (detached) {
        for (j = 0; j < set->n; j++)
            if (mask[j] && !ca->done[j])
                rcs[j] = 0; /* still in flight: it heals the object itself if it fails */
        ca->detached = true;
    }
    pthread_mutex_unlock(&ca->mu);
    if (!detached) {
        ca->a = NULL;
        commit_async_free(ca);
    }
    return detached;
}

static int
tmp_remove_job(struct eset *set, unsigned j, void *arg)
{
    struct obj_put *p = arg;

    return drive_tmp_remove(set->drives[j], p->meta.vid);
}

static struct commit_arg *
commit_arg_new(struct obj_put *p, bool *mask)
{
    struct commit_arg *a = xcalloc(1, sizeof(*a));
    unsigned j;

    a->p = p;
    for (j = 0; j < OBJ_MAX_SET; j++) {
        objmeta_init(&a->metas[j]);
        objmeta_init(&a->prev[j]);
    }
    for (j = 0; j < p->set->n; j++) {
        objmeta_copy(&a->metas[j], &p->meta);
        a->metas[j].shard_idx = p->meta.dist[j];
        if (p->meta.is_inline)
            buf_add(&a->metas[j].inline_data, p->inl[j].ptr, p->inl[j].len);
        mask[j] = p->wrc[j] == 0;
    }
    return a;
}

static void
commit_arg_free(struct commit_arg *a)
{
    unsigned j;

    for (j = 0; j < OBJ_MAX_SET; j++) {
        objmeta_release(&a->metas[j]);
        objmeta_release(&a->prev[j]);
    }
    free(a);
}

/*
 * Whether rolling back would lose the previous version: it was readable (k
 * copies of one version) and would no longer be, because the drives that
 * committed removed its shards (only an inline record can be put back). A
 * drive whose record is not known (prev_known) may have held it (counted in
 * `total`) but is not relied on to keep it (not in `kept`): when unsure,
 * the answer is yes, and the new version, readable, is kept.
 */
static bool
rollback_loses_old(const struct commit_arg *a, const bool *committed, unsigned n)
{
    unsigned i, j, total, kept, unknown = 0;

    for (j = 0; j < n; j++)
        unknown += !a->prev_known[j];
    for (i = 0; i < n; i++) {
        if (!a->prev_known[i] || !a->had_prev[i])
            continue;
        total = unknown;
        kept = 0;
        for (j = 0; j < n; j++) {
            if (!a->prev_known[j] || !a->had_prev[j] ||
                !object__same_version(&a->prev[j], &a->prev[i]))
                continue;
            total++;
            if (!committed[j] || a->prev[j].is_inline)
                kept++;
        }
        if (total >= a->prev[i].k && kept < a->prev[i].k)
            return true;
    }
    return false;
}

static int
prev_read_job(struct eset *set, unsigned j, void *arg)
{
    struct commit_arg *a = arg;

    return drive_meta_read(set->drives[j], a->p->bucket, a->p->key, &a->prev[j]);
}

/*
 * After a commit below quorum, the records of the drives that failed before
 * they answered what they held (a drive failed, a call timed out): read now.
 * A drive that holds this PUT's version did commit (its answer was lost):
 * marked in `committed`, to be rolled back with the others, its previous
 * record unknown. One that cannot be read stays unknown.
 */
static void
learn_prev(struct commit_arg *a, bool *committed)
{
    struct eset *set = a->p->set;
    bool ask[OBJ_MAX_SET], any = false;
    int rcs[OBJ_MAX_SET];
    unsigned j;

    for (j = 0; j < set->n; j++) {
        ask[j] = !a->prev_known[j] && !committed[j];
        any |= ask[j];
    }
    if (!any)
        return;
    object__run(set, ask, prev_read_job, a, rcs);
    for (j = 0; j < set->n; j++) {
        if (!ask[j])
            continue;
        if (rcs[j] == 0 && strcmp(a->prev[j].vid, a->p->meta.vid) == 0) {
            committed[j] = true;
        } else if (rcs[j] == 0 || rcs[j] == -ERR_NOT_FOUND || rcs[j] == -ERR_KEY_NOT_FOUND) {
            a->had_prev[j] = rcs[j] == 0;
            a->prev_known[j] = true;
        }
    }
}

/*
 * Under the name lock: reads every drive's current record of the key (kept
 * in a->prev: a rollback puts it back, since a drive alone cannot tell an
 * old version from a new one), checks the condition of a conditional write
 * on the version they make current, and dates the new version. Its time is
 * the wall clock, but at least 1 ns after every version any drive holds: a
 * node whose clock runs behind (or a clock stepped back) can never make a
 * new version sort before the one it replaces. Returns 0 or the condition's
 * (or the read's) error.
 */
static int
read_prev(struct commit_arg *a)
{
    struct obj_put *p = a->p;
    int rcs[OBJ_MAX_SET], best, other = -ERR_KEY_NOT_FOUND, rc = 0;
    bool agree[OBJ_MAX_SET], unsure = false;
    int64_t t = clock_now_ns();
    const struct obj_meta *cur = NULL;
    struct obj_meta newest;
    struct eset *where;
    unsigned j;

    objmeta_init(&newest);
    best = object__read_metas(p->set, p->bucket, p->key, a->prev, rcs, agree);
    if (best >= 0)
        cur = &a->prev[best];
    /* several pools: a version of the key in another one (racing creates, a drive away) */
    if (object__roams(p->ol, p->bucket) && strcmp(p->bucket, OBJ_MP_BUCKET) != 0)
        other = object__pools_read(p->ol, p->bucket, p->key, (int)p->set->pool, &newest, &where,
                                   &a->other_pools, &unsure);
    if (other == 0 && (!cur || newest.mtime_ns > cur->mtime_ns))
        cur = &newest;
    if (other == 0 && newest.mtime_ns >= t)
        t = newest.mtime_ns + 1;
    if (p->cond) {
        if (cur)
            rc = obj_cond_check(p->cond, cur->etag);
        else if ((best == -ERR_KEY_NOT_FOUND || best == -ERR_NOT_FOUND) &&
                 other == -ERR_KEY_NOT_FOUND)
            rc = obj_cond_check(p->cond, NULL);
        else
            rc = best == -ERR_KEY_NOT_FOUND || best == -ERR_NOT_FOUND ? -ERR_QUORUM : best;
    }
    objmeta_release(&newest);
    /*
     * Another pool that cannot tell may hold a newer version (a clock ahead):
     * this one could then never be read, though acknowledged. Refused.
     */
    if (rc == 0 && unsure)
        rc = -ERR_QUORUM;
    for (j = 0; j < p->set->n; j++) {
        a->had_prev[j] = rcs[j] >= 0;
        a->prev_known[j] = true; /* a drive that could not be read counts as empty */
        if (a->had_prev[j] && a->prev[j].mtime_ns >= t)
            t = a->prev[j].mtime_ns + 1;
    }
    set_mtime(a, t);
    return rc;
}

/*
 * Whether the drives' records must be read before the commit: to check the
 * condition of a conditional write, to see the key's versions in other pools
 * (several pools), and on a set of this node's drives only (cheap reads
 * there, and the inline commits go to the group committers asynchronously,
 * which answer no previous record). Otherwise the commit itself keeps the
 * version order and answers the previous records (commit_in_order): one
 * round trip to the other nodes instead of two.
 */
static bool
needs_read_first(const struct obj_put *p)
{
    return p->cond || !object__set_has_remote(p->set) ||
           (object__roams(p->ol, p->bucket) && strcmp(p->bucket, OBJ_MP_BUCKET) != 0);
}

static int
drop_job(struct eset *set, unsigned j, void *arg)
{
    struct obj_put *p = arg;

    return drive_meta_delete(set->drives[j], p->bucket, p->key, NULL);
}

/*
 * Several pools, under the name lock, after a commit: the key's records in
 * the other pools hold older versions (the one just committed is the
 * newest): removed. A drive that cannot be reached leaves its copy to the
 * heal (heal.c drop_older_pools).
 */
static void
drop_other_pools(struct obj_put *p, uint64_t others)
{
    int rcs[OBJ_MAX_SET];
    unsigned q;

    for (q = 0; q < p->ol->npools; q++) {
        struct eset *set = object__pool_set(p->ol, q, p->bucket, p->key);

        if (q == p->set->pool || !(others & (1ull << q)))
            continue;
        object__run(set, NULL, drop_job, p, rcs);
        if (object__count_rc(rcs, set->n, 0) + object__count_rc(rcs, set->n, -ERR_NOT_FOUND) <
            set->n)
            object__heal_enqueue(p->ol, p->bucket, p->key);
    }
}

/*
 * Commits the record on every drive still in the PUT; rolls back below
 * quorum (unless that loses the old version too). The modification time is
 * taken and the rollback done under the name lock: mtimes then follow the
 * order of commits (the newest version is the last one committed), and a
 * rollback cannot undo a later PUT's commit. The records a rollback puts
 * back are read first (read_prev) only when needs_read_first() says so;
 * else each drive's commit answers the one it replaced, and the drives
 * that failed before answering are read only when the commit missed quorum
 * (learn_prev).
 */
static int
commit(struct obj_put *p)
{
    struct lock_held *lock = NULL;
    bool mask[OBJ_MAX_SET], detached;
    struct commit_arg *a;
    int rcs[OBJ_MAX_SET];
    unsigned j, ok = 0;
    uint64_t others;
    int rc = object__lock(p->ol, p->bucket, p->key, &lock);

    if (rc < 0)
        return rc;
    a = commit_arg_new(p, mask);
    if (needs_read_first(p))
        rc = read_prev(a);
    else
        set_mtime(a, clock_now_ns()); /* raised by the commit if a drive holds a newer one */
    if (rc == 0)
        rc = object__lock_check(lock);
    if (rc < 0) {
        object__unlock(lock);
        commit_arg_free(a);
        return rc;
    }
    others = a->other_pools; /* `a` may belong to the commits in flight after commit_all() */
    detached = commit_all(a, mask, rcs);
    for (j = 0; j < p->set->n; j++) {
        if (rcs[j] >= 0)
            ok++;
        else if (detached || !a->landed[j])
            mask[j] = false;
        /*
         * else: committed in an earlier round, failed when re-dated: not
         * counted for quorum (its time is not the version's), but it holds
         * this PUT's version, so it is rolled back with the others and its
         * old version counts as gone (rollback_loses_old)
         */
    }
    if (ok < p->wq && !detached)
        learn_prev(a, mask);
    if (ok < p->wq && ok >= p->meta.k && rollback_loses_old(a, mask, p->set->n)) {
        /*
         * Rolling back would leave neither version readable: keep the new
         * one (readable, healed to full width later). The client still hears
         * that the write failed, as S3 allows for a 5xx.
         */
        log_warn(
            &(struct log_ctx){ .bucket = p->bucket, .key = p->key, .event = "write_quorum_lost" },
            "only %u of %u drives committed (quorum %u): kept, the old version is gone", ok,
            p->set->n, p->wq);
        rc = -ERR_QUORUM;
    } else if (ok < p->wq) {
        log_warn(
            &(struct log_ctx){ .bucket = p->bucket, .key = p->key, .event = "write_quorum_lost" },
            "only %u of %u drives committed (quorum %u): rolling back", ok, p->set->n, p->wq);
        object__run(p->set, mask, rollback_job, a, rcs);
        rc = -ERR_QUORUM;
    }
    if (rc == 0 && others)
        drop_other_pools(p, others);
    object__unlock(lock);
    /* Below quorum, the old version may have lost copies that could not be restored. */
    if (ok < p->set->n)
        object__heal_enqueue(p->ol, p->bucket, p->key);
    if (rc == 0 && ok < p->set->n && p->streaming) {
        /* Drives that failed the commit keep the shards in tmp. */
        for (j = 0; j < p->set->n; j++)
            mask[j] = !mask[j];
        object__run(p->set, mask, tmp_remove_job, p, rcs);
    }
    if (!detached)
        commit_arg_free(a);
    return rc;
}

static int
check_digest(struct obj_put *p)
{
    uint8_t md5[MD5_SIZE];

    md5_final(&p->md5, md5);
    hex_encode_to(p->meta.etag, md5, sizeof(md5));
    if (p->has_md5 && memcmp(md5, p->md5_expect, 16) != 0)
        return -ERR_BAD_DIGEST;
    return 0;
}

static int
put_finish(struct obj_put *p, struct obj_info *info)
{
    int rc = p->rc;

    if (rc == 0 && p->expect_size >= 0 && p->total != (uint64_t)p->expect_size)
        rc = -ERR_INCOMPLETE_BODY;
    if (rc == 0) {
        p->meta.size = p->total;
        p->meta.is_inline = !p->no_inline && !p->streaming && p->total <= OBJ_INLINE_MAX;
        if (p->meta.is_inline) {
            encode_inline(p);
        } else {
            if (p->block_len) {
                rc = flush_block(p);
            } else if (!p->streaming) { /* an empty part: an empty shard file */
                p->streaming = true;
                rc = run_alive(p, create_job);
            }
            if (rc == 0)
                rc = append_wait(p);
            md5_wait_all(p);
            md5_leave(p); /* not a producer while its files are finished and committed */
            if (rc == 0)
                rc = run_alive(p, finish_job);
        }
    }
    /* every block went through the MD5 (inline: above; else: the last wait) */
    if (rc == 0)
        rc = check_digest(p);
    if (rc == 0)
        rc = commit(p);
    if (rc == 0 && info)
        object__info_from_meta(info, &p->meta);
    if (rc < 0) {
        p->rc = rc;
        put_abort(p);
        return rc;
    }
    p->streaming = false; /* committed: nothing left in tmp to remove */
    put_abort(p);
    return 0;
}

int
object__commit_staged(struct objlayer *ol, const char *bucket, const char *key,
                      const struct obj_meta *meta, const bool *staged, struct eset *set,
                      const struct obj_cond *cond)
{
    struct obj_put *p = xcalloc(1, sizeof(*p));
    unsigned j;
    int rc;

    pthread_mutex_init(&p->md5_mu, NULL);
    p->ol = ol;
    p->ctx = reqctx_current();
    p->set = set;
    p->bucket = xstrdup(bucket);
    p->key = xstrdup(key);
    objmeta_init(&p->meta);
    objmeta_copy(&p->meta, meta);
    for (j = 0; j < OBJ_MAX_SET; j++) {
        buf_init(&p->inl[j], 0);
        p->wrc[j] = j < p->set->n && staged[j] ? 0 : -ERR_OFFLINE;
    }
    p->wq = object__write_quorum(meta->k, meta->m);
    p->cond = cond;
    p->streaming = true; /* the staged files are in tmp until committed */
    rc = alive(p) < p->wq ? -ERR_QUORUM : commit(p);
    if (rc == 0)
        p->streaming = false;
    put_abort(p);
    return rc;
}

static void
put_abort(struct obj_put *p)
{
    unsigned i, j;
    bool any = false;

    object__wait(&p->batch); /* no job may still use a writer or a stripe */
    md5_wait_all(p);
    md5_leave(p);
    for (j = 0; j < OBJ_MAX_SET; j++) {
        if (p->w[j]) {
            drive_shard_abort(p->w[j]);
            p->w[j] = NULL;
            any = true;
        }
        buf_release(&p->inl[j]);
        for (i = 0; i < PUT_STRIPES; i++)
            free(p->stripes[i].shards[j]);
    }
    if (p->streaming || any) {
        int rcs[OBJ_MAX_SET];

        object__run(p->set, NULL, tmp_remove_job, p, rcs);
    }
    objmeta_release(&p->meta);
    pthread_mutex_destroy(&p->md5_mu);
    free(p->bucket);
    free(p->key);
    free(p);
}

/*
 * The public methods of a PUT: each runs under the request context of the
 * call that began it (util/reqctx.h), so the drive jobs carry it.
 */
int
obj_put_write(struct obj_put *p, const void *data, size_t n)
{
    const struct reqctx *prev = reqctx_enter(p->ctx);
    int rc = put_write(p, data, n);

    reqctx_leave(prev);
    return rc;
}

int
obj_put_finish(struct obj_put *p, struct obj_info *info)
{
    const struct reqctx *prev = reqctx_enter(p->ctx);
    int rc = put_finish(p, info);

    reqctx_leave(prev);
    return rc;
}

void
obj_put_abort(struct obj_put *p)
{
    const struct reqctx *prev = reqctx_enter(p->ctx);

    put_abort(p);
    reqctx_leave(prev);
}

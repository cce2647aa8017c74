/*
 * object/heal.c: healing (DESIGN.md "A cluster", Healing).
 *
 * Heal state of one object (reads and rebuilds without the name lock; the
 * lock is taken to check nothing changed and to commit):
 *
 *   read every record ---- no version readable, only on < k drives --> remove dangling copies
 *        |                 (heal_dangling)
 *        v
 *   classify drives: good | missing/stale record | corrupt shard (verify_job)
 *        |
 *        v  (any bad drive online)
 *   rebuild every block from k good shards (object__load_block, all shards),
 *   write the bad drives' shards to tmp or into their records (inline), then
 *   under the name lock: if no record changed, commit the new records over
 *   the bad ones (the drive drops what a record it replaces held)
 *   several pools: copies left in another pool than the newest version's
 *   are removed (drop_older_pools)
 *
 * One heal of an object at a time in the deployment: the lock service's
 * "h/<bucket>/<key>" lock, held for the whole heal (not the name lock, which
 * writes need).
 *
 * Work arrives from three places: reads and writes that met a failing drive
 * (the heal queue, served by one heal thread), the drive monitor (a drive
 * found empty is formatted back into its place, then everything is healed),
 * and the admin API (objlayer_heal, on demand, with a report).
 */
#include "util/base.h"

#include "object/objlayer.h"

#include <malloc.h>
#include <time.h>

#include "obs/log.h"
#include "object/internal.h"
#include "util/clock.h"

struct heal_ctx {
    struct obj_get *g;
    unsigned part; /* the stream (part) being rebuilt */
    int64_t bucket_created_ns;
    bool bad[OBJ_MAX_SET];
    struct shard_writer *w[OBJ_MAX_SET];
    struct obj_meta recs[OBJ_MAX_SET];
    uint8_t *vbuf[OBJ_MAX_SET];
};

/* Reads every shard block of drive j's copy (every part) and checks its hash. */
static int
verify_job(struct eset *set, unsigned j, void *arg)
{
    struct heal_ctx *h = arg;
    const struct obj_meta *m = h->g->m, *dm = &h->g->metas[j];
    unsigned part, nparts = object__nstreams(m);
    uint8_t *buf = h->vbuf[j];

    for (part = 0; part < nparts; part++) {
        uint64_t size = object__stream_size(m, part);
        uint64_t blk, nblk = erasure_nblocks(size, m->block_size);

        for (blk = 0; blk < nblk; blk++) {
            size_t S = erasure_shard_len(m->k, erasure_block_len(size, m->block_size, blk));
            uint64_t off = erasure_shard_offset(m->k, size, m->block_size, blk);
            const uint8_t *p = buf;

            if (m->is_inline) {
                if (off + S + ERASURE_HASH_LEN > dm->inline_data.len)
                    return -ERR_CORRUPT;
                p = (const uint8_t *)dm->inline_data.ptr + off;
            } else if (drive_shard_read(set->drives[j], m->vid, part + 1, off, buf,
                                        S + ERASURE_HASH_LEN) != (ssize_t)(S + ERASURE_HASH_LEN)) {
                return -ERR_CORRUPT;
            }
            if (!bitrot_verify(p + ERASURE_HASH_LEN, S, p))
                return -ERR_CORRUPT;
        }
    }
    return 0;
}

static int
prepare_job(struct eset *set, unsigned j, void *arg)
{
    struct heal_ctx *h = arg;
    int64_t created;

    drive_tmp_remove(set->drives[j], h->g->m->vid);
    /* A wiped drive lacks the bucket too: recreate it before the record. */
    if (drive_bucket_stat(set->drives[j], h->g->bucket, &created) == -ERR_NOT_FOUND)
        drive_bucket_make(set->drives[j], h->g->bucket, h->bucket_created_ns);
    return 0;
}

static int
create_job(struct eset *set, unsigned j, void *arg)
{
    struct heal_ctx *h = arg;

    return drive_shard_create(set->drives[j], h->g->m->vid, h->part + 1, &h->w[j]);
}

static int
commit_job(struct eset *set, unsigned j, void *arg)
{
    struct heal_ctx *h = arg;

    return drive_meta_commit(set->drives[j], h->g->bucket, h->g->key, &h->recs[j]);
}

/* The shard of drive j for the block just loaded, with a fresh hash in front. */
static uint8_t *
rebuilt_shard(struct heal_ctx *h, unsigned j, size_t S)
{
    uint8_t *p = h->g->shards[h->g->m->dist[j]];

    bitrot_hash(p + ERASURE_HASH_LEN, S, p);
    return p;
}

static int
rebuild_blocks(struct heal_ctx *h, const bool *mask)
{
    struct obj_get *g = h->g;
    const struct obj_meta *m = g->m;
    uint64_t size = object__stream_size(m, h->part);
    uint64_t blk, nblk = erasure_nblocks(size, m->block_size);
    unsigned j;
    int rc;

    for (blk = 0; blk < nblk; blk++) {
        size_t S = erasure_shard_len(m->k, erasure_block_len(size, m->block_size, blk));

        rc = object__load_block(g, h->part, blk, true);
        if (rc < 0)
            return rc;
        for (j = 0; j < g->set->n; j++) {
            uint8_t *p;

            if (!mask[j])
                continue;
            p = rebuilt_shard(h, j, S);
            if (m->is_inline)
                buf_add(&h->recs[j].inline_data, p, S + ERASURE_HASH_LEN);
            else if ((rc = drive_shard_append(h->w[j], p, S + ERASURE_HASH_LEN)) < 0)
                return rc;
        }
    }
    return 0;
}

static int
finish_writers(struct heal_ctx *h, const bool *mask, int rc)
{
    unsigned j;

    for (j = 0; j < h->g->set->n; j++) {
        int frc;

        if (!h->w[j])
            continue;
        if (rc < 0) {
            drive_shard_abort(h->w[j]);
        } else if ((frc = drive_shard_finish(h->w[j])) < 0) {
            rc = frc;
        }
        h->w[j] = NULL;
    }
    return rc;
}

/*
 * Stages the copies of the drives in `mask`: every shard is rebuilt from k
 * good ones into the drives' temporary areas (or into their inline records).
 * Nothing visible changes, so this runs without the name lock; a heal that
 * cannot read k good shards drops nothing.
 */
static int
stage(struct heal_ctx *h, const bool *mask)
{
    struct eset *set = h->g->set;
    int rcs[OBJ_MAX_SET], rc = 0;
    unsigned j;

    for (j = 0; j < set->n; j++) {
        if (!mask[j])
            continue;
        objmeta_copy(&h->recs[j], h->g->m);
        buf_clear(&h->recs[j].inline_data);
        h->recs[j].shard_idx = h->g->m->dist[j];
    }
    if (object__bucket_stat(set->ol, h->g->bucket, &h->bucket_created_ns) < 0)
        return -ERR_BUCKET_NOT_FOUND;
    object__run(set, mask, prepare_job, h, rcs);
    for (j = 0; j < set->n; j++)
        if (mask[j] && rcs[j] < 0)
            rc = rcs[j];
    h->g->codec = object__codec(set->ol, h->g->m->k, h->g->m->m);
    if (rc < 0 || h->g->m->is_inline)
        return rc < 0 ? rc : rebuild_blocks(h, mask);
    /* One shard file per part: create, rebuild, finish, part after part. */
    for (h->part = 0; h->part < object__nstreams(h->g->m) && rc == 0; h->part++) {
        object__run(set, mask, create_job, h, rcs);
        for (j = 0; j < set->n; j++)
            if (mask[j] && rcs[j] < 0)
                rc = rcs[j];
        if (rc == 0)
            rc = rebuild_blocks(h, mask);
        rc = finish_writers(h, mask, rc);
    }
    return rc;
}

/*
 * Under the name lock: commits the staged copies. A corrupt copy of the same
 * version is replaced in one step by the drive (its commit swaps the data
 * folder), so readers never find the drive without a copy.
 */
static int
publish(struct heal_ctx *h, const bool *mask)
{
    struct eset *set = h->g->set;
    int rcs[OBJ_MAX_SET], rc = 0;
    unsigned j;

    object__run(set, mask, commit_job, h, rcs);
    for (j = 0; j < set->n; j++)
        if (mask[j] && rcs[j] < 0)
            rc = rcs[j];
    return rc;
}

static int
tmp_remove_job(struct eset *set, unsigned j, void *arg)
{
    struct heal_ctx *h = arg;

    return drive_tmp_remove(set->drives[j], h->g->m->vid);
}

/*
 * Under the name lock: whether every drive still answers what the heal
 * planned from (same version, or still nothing). A PUT or DELETE that
 * committed meanwhile wins; the staged copies are then thrown away, so a
 * heal never brings back a version that was deleted or replaced.
 */
static bool
is_unchanged(const struct heal_ctx *h)
{
    const struct obj_get *was = h->g;
    struct obj_get *now = object__get_new(was->ol, was->bucket, was->key);
    bool same = object__get_open_meta(now) == 0 && now->set == was->set; /* same pool too */
    unsigned j;

    for (j = 0; same && j < was->set->n; j++) {
        if ((now->rcs[j] >= 0) != (was->rcs[j] >= 0))
            same = false;
        else if (was->rcs[j] >= 0)
            same = object__same_version(&now->metas[j], &was->metas[j]);
        else
            same = now->rcs[j] == was->rcs[j];
    }
    object__get_free(now);
    return same;
}

/*
 * Whether the version drive j holds could still be read: its copies, plus the
 * drives that did not answer (offline, I/O error, unreadable record), which
 * may hold more of them, reach its k.
 */
static bool
may_be_readable(const struct obj_get *g, unsigned j)
{
    unsigned i, count = 0;

    for (i = 0; i < g->set->n; i++) {
        if (g->rcs[i] >= 0 ? object__same_version(&g->metas[i], &g->metas[j])
                           : g->rcs[i] != -ERR_NOT_FOUND)
            count++;
    }
    return count >= g->metas[j].k;
}

/*
 * Removes copies of versions that can never be read: on fewer than their k
 * drives even if every drive that did not answer held one. Read quorum alone
 * (object__read_metas) is not enough to delete: it is decided with the set's
 * k, while a version written with raised parity has a smaller k.
 */
static int
dangling_job(struct eset *set, unsigned j, void *arg)
{
    struct obj_get *g = arg;

    return drive_meta_delete(set->drives[j], g->bucket, g->key, g->metas[j].vid);
}

static int
heal_dangling(struct obj_get *g, struct heal_report *r)
{
    bool mask[OBJ_MAX_SET];
    int rcs[OBJ_MAX_SET];
    unsigned j, removed = 0;

    for (j = 0; j < g->set->n; j++)
        mask[j] = g->rcs[j] >= 0 && !may_be_readable(g, j);
    object__run_meta(g->set, mask, dangling_job, g, rcs);
    for (j = 0; j < g->set->n; j++)
        removed += mask[j] && rcs[j] == 0;
    if (removed) {
        r->objects_dangling_removed++;
        log_warn(&(struct log_ctx){ .bucket = g->bucket, .key = g->key, .event = "heal_dangling" },
                 "removed %u copies of a version too few drives hold", removed);
    }
    return 0;
}

/* Marks drives whose copy is missing, stale or corrupt; returns how many. */
static unsigned
classify(struct heal_ctx *h, struct heal_report *r)
{
    struct obj_get *g = h->g;
    size_t cap = erasure_shard_len(g->m->k, g->m->block_size) + ERASURE_HASH_LEN;
    int rcs[OBJ_MAX_SET];
    unsigned j, nbad = 0;

    for (j = 0; j < g->set->n; j++)
        h->vbuf[j] = g->agree[j] && !g->m->is_inline ? xmalloc(cap) : NULL;
    object__run(g->set, g->agree, verify_job, h, rcs);
    for (j = 0; j < g->set->n; j++) {
        free(h->vbuf[j]);
        h->vbuf[j] = NULL;
        if (!drive_is_online(g->set->drives[j]))
            continue;
        if (!g->agree[j]) {
            r->shards_missing++;
        } else if (rcs[j] < 0) {
            r->shards_corrupt++;
        } else {
            continue;
        }
        h->bad[j] = g->bad[j] = true;
        nbad++;
    }
    return nbad;
}

/*
 * Dangling versions are removed under the name lock, from records read
 * under it: in the key's set of each pool it may live in, where no version
 * is readable.
 */
static int
heal_dangling_locked(struct objlayer *ol, const char *bucket, const char *key,
                     struct heal_report *r)
{
    struct lock_held *lock;
    unsigned p, npools = object__roams(ol, bucket) ? ol->npools : 1;
    int rc = object__lock(ol, bucket, key, &lock);

    for (p = 0; p < npools && rc == 0; p++) {
        struct obj_get *g = object__get_new(ol, bucket, key);

        g->set = object__pool_set(ol, p, bucket, key);
        rc = object__read_metas(g->set, bucket, key, g->metas, g->rcs, g->agree);
        if (rc == -ERR_KEY_NOT_FOUND)
            rc = object__lock_check(lock) < 0 ? -ERR_BUSY : heal_dangling(g, r);
        else if (rc >= 0)
            rc = 0; /* readable there (written since): not dangling */
        object__get_free(g);
    }
    if (lock)
        object__unlock(lock);
    return rc < 0 && rc != -ERR_KEY_NOT_FOUND ? rc : 0;
}

static int
drop_record_job(struct eset *set, unsigned j, void *arg)
{
    const char *const *bk = arg;

    return drive_meta_delete(set->drives[j], bk[0], bk[1], NULL);
}

/*
 * Several pools: copies of bucket/key in other pools than the one with its
 * newest version are older versions (a commit removes them, put.c, unless a
 * drive was away): removed, under the name lock. Nothing is removed when no
 * pool holds a readable version.
 */
static int
drop_older_pools(struct objlayer *ol, const char *bucket, const char *key, struct heal_report *r)
{
    const char *bk[2] = { bucket, key };
    struct obj_meta newest;
    struct lock_held *lock = NULL;
    struct eset *where = NULL;
    uint64_t holders;
    bool unsure = false;
    unsigned p, removed = 0;
    int rc, rcs[OBJ_MAX_SET];

    if (!object__roams(ol, bucket))
        return 0;
    objmeta_init(&newest);
    rc = object__lock(ol, bucket, key, &lock);
    if (rc == 0)
        rc = object__pools_read(ol, bucket, key, -1, &newest, &where, &holders, &unsure);
    if (rc == 0 && unsure)
        rc = -ERR_QUORUM; /* a newer copy may be in the pool that cannot tell: later */
    if (rc == 0)
        rc = object__lock_check(lock);
    for (p = 0; rc == 0 && p < ol->npools; p++) {
        struct eset *set = object__pool_set(ol, p, bucket, key);

        if (set == where || !(holders & (1ull << p)))
            continue;
        object__run_meta(set, NULL, drop_record_job, bk, rcs);
        removed += object__count_rc(rcs, set->n, 0);
        if (object__count_rc(rcs, set->n, 0) + object__count_rc(rcs, set->n, -ERR_NOT_FOUND) <
            set->n)
            rc = -ERR_QUORUM; /* a drive did not answer: again later */
    }
    if (lock)
        object__unlock(lock);
    objmeta_release(&newest);
    if (removed) {
        r->objects_dangling_removed++;
        log_warn(&(struct log_ctx){ .bucket = bucket, .key = key, .event = "heal_older_pool" },
                 "removed %u copies of an older version from another pool", removed);
    }
    return rc == -ERR_KEY_NOT_FOUND ? 0 : rc;
}

static void
add_counts(struct heal_report *r, const struct heal_report *c)
{
    r->shards_missing += c->shards_missing;
    r->shards_corrupt += c->shards_corrupt;
    r->shards_fixed += c->shards_fixed;
    r->objects_healed += c->objects_healed;
}

/*
 * One attempt: reads, verifies and rebuilds without the name lock (a large
 * object takes minutes, and writes of the key would wait that long), then
 * takes the lock only to check that nothing changed and commit. Sets `*changed` when a PUT or
 * DELETE got there first.
 */
static int
heal_once(struct objlayer *ol, const char *bucket, const char *key, struct heal_report *r,
          bool *changed)
{
    struct lock_held *lock = NULL;
    struct heal_report c = { 0 };
    struct heal_ctx h;
    unsigned j, nbad;
    int rc;

    *changed = false;
    memset(&h, 0, sizeof(h));
    h.g = object__get_new(ol, bucket, key);
    for (j = 0; j < OBJ_MAX_SET; j++)
        objmeta_init(&h.recs[j]);
    /* a copy still committing is no missing copy: planned from settled records */
    object__flight_settle(ol, bucket, key, clock_mono_ns() + OBJ_HEAL_LOCK_WAIT_NS);
    rc = object__get_open_meta(h.g);
    if (rc == -ERR_KEY_NOT_FOUND) {
        rc = heal_dangling_locked(ol, bucket, key, r);
        goto out;
    }
    if (rc < 0)
        goto out;
    nbad = classify(&h, &c);
    if (nbad == 0)
        goto out;
    rc = stage(&h, h.bad);
    if (rc == 0)
        rc = object__lock(ol, bucket, key, &lock);
    if (rc == 0) {
        /*
         * A PUT that committed meanwhile may have answered with its last
         * drives still committing (put.c commit_all): no new commit of the
         * key starts while the lock is held, so once those answer, the
         * records read below are final; a heal that commits over a commit
         * in flight would count a copy that was never missing as healed.
         */
        object__flight_settle(ol, bucket, key, clock_mono_ns() + OBJ_HEAL_LOCK_WAIT_NS);
        *changed = !is_unchanged(&h);
        if (!*changed)
            rc = object__lock_check(lock);
        if (!*changed && rc == 0)
            rc = publish(&h, h.bad);
        object__unlock(lock);
    }
    if ((*changed || rc < 0) && !h.g->m->is_inline) {
        int rcs[OBJ_MAX_SET];

        /* What did not commit stays in tmp. */
        object__run(h.g->set, h.bad, tmp_remove_job, &h, rcs);
    }
    if (*changed) {
        rc = 0; /* counted by the attempt that sees the new state */
        goto out;
    }
    if (rc == 0) {
        c.objects_healed++;
        c.shards_fixed += nbad;
    }
    add_counts(r, &c);
out:
    for (j = 0; j < OBJ_MAX_SET; j++)
        objmeta_release(&h.recs[j]);
    object__get_free(h.g);
    return rc;
}

int
object__heal_object(struct objlayer *ol, const char *bucket, const char *key, struct heal_report *r)
{
    struct lock_held *healing = NULL;
    struct buf res = BUF_INIT;
    bool changed = false;
    unsigned attempt;
    int rc;

    /*
     * One heal of an object at a time in the whole deployment (the lock
     * service's "h/" lock, not the name lock: writes go on meanwhile): two
     * would stage into the same tmp/<vid> of the same drives. Another node's
     * heal of it: this one is tried again later.
     */
    buf_addf(&res, "h/%s/%s", bucket, key);
    rc = lock_acquire(ol->locks, res.ptr, LOCK_WRITE, clock_mono_ns() + OBJ_HEAL_LOCK_WAIT_NS,
                      &healing);
    buf_release(&res);
    if (rc < 0) {
        object__heal_enqueue(ol, bucket, key);
        return 0;
    }
    for (attempt = 0; attempt < 3; attempt++) {
        rc = heal_once(ol, bucket, key, r, &changed);
        if (!changed)
            break;
    }
    if (rc == 0 && !changed)
        rc = drop_older_pools(ol, bucket, key, r);
    lock_release(healing);
    if (changed)
        object__heal_enqueue(ol, bucket, key); /* busy key: try again later */
    r->objects_scanned++;
    if (rc < 0) {
        r->objects_failed++;
        log_error(&(struct log_ctx){ .bucket = bucket, .key = key, .event = "heal_failed" },
                  "heal failed: %s", err_name(rc));
    }
    return rc;
}

/* ---- drives and buckets ---- */

/*
 * A drive taken offline when its disk was found unmounted (the drive judges
 * that, drive_reopen() answers at once otherwise): if a disk is mounted there
 * again and it is this drive's (its format.json: this deployment, this
 * position), the drive is opened on it and back online (2); the writes it
 * missed are healed by the caller. Any other disk leaves it offline, said
 * once.
 */
static int
reattach_drive(struct objlayer *ol, size_t i)
{
    struct drive *d = ol->drives[i];
    struct format_check c = { .ol = ol, .pos = i, .why = BUF_INIT };
    struct log_ctx ctx = { .drive = drive_endpoint(d), .event = "drive_reattached" };
    int rc = drive_reopen(d, object__format_is_drive, &c);

    if (rc == -ERR_OFFLINE || rc == -ERR_NOT_MOUNTED || rc == -ERR_NOT_IMPLEMENTED) {
        rc = 0; /* not a remounted disk */
    } else if (rc == 0) {
        ol->reattach_said[i] = false;
        log_warn(&ctx, "the drive's disk is mounted again: back online, healing queued");
        rc = 2;
    } else if (!ol->reattach_said[i]) {
        ol->reattach_said[i] = true;
        ctx.event = "drive_not_reattached";
        log_error(&ctx,
                  "a disk is mounted on this drive's folder, but not this drive's: %s; "
                  "it stays offline",
                  c.why.len ? c.why.ptr : err_msg(rc));
    }
    buf_release(&c.why);
    return rc < 0 ? 0 : rc;
}

/*
 * Formats back a drive found empty (replaced); returns 1 if it did, 2 if it
 * took back the drive's own disk (reattach_drive). Only a drive the drive
 * itself calls present, empty and safe to format (drive_check() answers
 * -ERR_NOT_FOUND, not -ERR_NOT_MOUNTED) is reset: a drive that is merely
 * offline (an earlier I/O error, a folder gone with its disk) still holds
 * data, and drive_reset() would wipe it. A node does this only for its own
 * drives (a remote drive is the business of the node that owns it).
 * Serialized by drive_mu, so the monitor and a heal cannot both see the
 * drive empty and reset it twice (the second reset would wipe what was
 * written after the first).
 */
int
object__heal_drive(struct objlayer *ol, size_t i)
{
    struct drive *d = ol->drives[i];
    struct log_ctx ctx = { .drive = drive_endpoint(d), .event = "drive_formatted" };
    int rc;

    if (drive_is_remote(d))
        return 0;
    pthread_mutex_lock(&ol->drive_mu);
    rc = drive_check(d);
    if (rc == -ERR_OFFLINE || rc == -ERR_NOT_MOUNTED) {
        rc = reattach_drive(ol, i);
        goto out_unlock;
    }
    if (rc != -ERR_NOT_FOUND) {
        rc = 0;
        goto out_unlock;
    }
    rc = drive_reset(d);
    if (rc == 0)
        rc = object__format_back(ol, i);
    if (rc < 0) {
        ctx.event = "drive_format_failed";
        log_error(&ctx, "cannot format the replaced drive back: %s", err_name(rc));
        goto out_unlock;
    }
    log_warn(&ctx, "drive was empty: formatted back into its place");
    rc = 1;
out_unlock:
    pthread_mutex_unlock(&ol->drive_mu);
    return rc;
}

struct bucket_lists {
    struct bucket_ent *l[OBJ_MAX_SET];
    size_t n[OBJ_MAX_SET];
};

static int
bucket_list_job(struct eset *set, unsigned j, void *arg)
{
    struct bucket_lists *bl = arg;

    return drive_bucket_list(set->drives[j], &bl->l[j], &bl->n[j]);
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct bucket_ent *)a)->name, ((const struct bucket_ent *)b)->name);
}

/* Every bucket name any drive holds, sorted, each once. */
static struct bucket_ent *
all_bucket_names(struct objlayer *ol, size_t *n)
{
    struct bucket_ent *all = NULL;
    size_t nall = 0, i, out = 0;
    unsigned s, j;

    for (s = 0; s < ol->nsets; s++) {
        struct bucket_lists bl = { 0 };
        int rcs[OBJ_MAX_SET];

        /* the drives of a set at once (each may be another node's) */
        object__run_meta(&ol->sets[s], NULL, bucket_list_job, &bl, rcs);
        for (j = 0; j < ol->sets[s].n; j++) {
            if (rcs[j] < 0)
                continue;
            all = xrealloc(all, (nall + bl.n[j] + 1) * sizeof(*all));
            if (bl.n[j]) /* an empty drive may answer NULL: memcpy from NULL is undefined */
                memcpy(all + nall, bl.l[j], bl.n[j] * sizeof(*all));
            nall += bl.n[j];
            free(bl.l[j]);
        }
    }
    if (nall)
        qsort(all, nall, sizeof(*all), cmp_name);
    for (i = 0; i < nall; i++)
        if (out == 0 || strcmp(all[out - 1].name, all[i].name) != 0)
            all[out++] = all[i];
    *n = out;
    return all;
}

/* Drive j makes bucket b if it lacks it: 1 if it made it, 0 if it had it, or the error. */
static int
bucket_heal_job(struct eset *set, unsigned j, void *arg)
{
    const struct bucket_ent *b = arg;
    int64_t created;
    int rc = drive_bucket_stat(set->drives[j], b->name, &created);

    if (rc == -ERR_NOT_FOUND)
        rc = drive_bucket_make(set->drives[j], b->name, b->created_ns) == 0 ? 1 : rc;
    return rc;
}

/* Drive j drops bucket b, and what it still holds, if it has it: 1 if it did, else 0 or the error.
 */
static int
bucket_drop_job(struct eset *set, unsigned j, void *arg)
{
    const struct bucket_ent *b = arg;
    int64_t created;
    int rc = drive_bucket_stat(set->drives[j], b->name, &created);

    if (rc == 0)
        rc = drive_bucket_delete(set->drives[j], b->name, true) == 0 ? 1 : rc;
    return rc == -ERR_NOT_FOUND ? 0 : rc;
}

static int
bucket_stat_job(struct eset *set, unsigned j, void *arg)
{
    const struct bucket_ent *b = arg;
    int64_t created;

    return drive_bucket_stat(set->drives[j], b->name, &created);
}

/*
 * Whether set `set` may drop bucket b: fewer than its k drives hold it even
 * counting those that do not answer, so no object of it there can ever be
 * read (an object needs k records, each on a drive that holds the bucket).
 * Drives formatted back say "not found" too: the quorum's answer alone
 * could drop a bucket whose objects are still on k drives.
 */
static bool
bucket_droppable(struct eset *set, const struct bucket_ent *b)
{
    int rcs[OBJ_MAX_SET];
    unsigned holders, unknown;

    object__run_meta(set, NULL, bucket_stat_job, (void *)b, rcs);
    holders = object__count_rc(rcs, set->n, 0);
    unknown = set->n - holders - object__count_rc(rcs, set->n, -ERR_NOT_FOUND);
    return holders + unknown < set->k;
}

/* Whether the drives that answer disagree about bucket b (some hold it, some not). */
static bool
bucket_disputed(struct objlayer *ol, const struct bucket_ent *b)
{
    unsigned s, have = 0, lack = 0;

    for (s = 0; s < ol->nsets; s++) {
        int rcs[OBJ_MAX_SET];

        object__run_meta(&ol->sets[s], NULL, bucket_stat_job, (void *)b, rcs);
        have += object__count_rc(rcs, ol->sets[s].n, 0);
        lack += object__count_rc(rcs, ol->sets[s].n, -ERR_NOT_FOUND);
    }
    return have && lack;
}

/*
 * When the drives disagree about it, under the bucket's name lock (a make or
 * delete of it in progress is not undone), from what the drives say then:
 * recreates the bucket on the drives that lack it when a quorum holds it,
 * or, when a quorum says it is gone (deleted while a drive was away),
 * removes it and what is left in it from the drives that still hold it, in
 * each set where nothing of it could be read (bucket_droppable). System
 * buckets are only made.
 */
static void
heal_bucket(struct objlayer *ol, const struct bucket_ent *b, struct heal_report *r)
{
    struct lock_held *lock;
    unsigned s, j;
    bool changed = false, make;
    int rc;

    r->buckets_scanned++;
    if (!bucket_disputed(ol, b) || object__lock(ol, b->name, NULL, &lock) < 0)
        return;
    rc = object__bucket_stat_drives(ol, b->name, NULL);
    make = rc == 0;
    if ((make || (rc == -ERR_BUCKET_NOT_FOUND && b->name[0] != '.')) &&
        object__lock_check(lock) == 0) {
        for (s = 0; s < ol->nsets; s++) {
            int rcs[OBJ_MAX_SET];

            if (!make && !bucket_droppable(&ol->sets[s], b))
                continue;
            object__run_meta(&ol->sets[s], NULL, make ? bucket_heal_job : bucket_drop_job,
                             (void *)b, rcs);
            for (j = 0; j < ol->sets[s].n; j++)
                changed |= rcs[j] == 1;
        }
    }
    object__unlock(lock);
    if (changed)
        r->buckets_healed++;
    if (changed && !make) {
        object__bucket_changed(ol, b->name, true);
        log_warn(&(struct log_ctx){ .bucket = b->name, .event = "bucket_dropped" },
                 "removed a bucket deleted while some of its drives were away");
    }
}

void
object__heal_buckets(struct objlayer *ol)
{
    struct heal_report r = { 0 };
    struct bucket_ent *names;
    size_t n, i;

    names = all_bucket_names(ol, &n);
    for (i = 0; i < n; i++)
        heal_bucket(ol, &names[i], &r);
    free(names);
    if (r.buckets_healed)
        log_info(&(struct log_ctx){ .event = "buckets_healed" },
                 "healed %llu buckets (made where a quorum holds them, removed where a "
                 "quorum deleted them)",
                 (unsigned long long)r.buckets_healed);
}

/*
 * A whole heal walks the listing on one thread and heals up to
 * OBJ_HEAL_PARALLEL objects at once on the heal workers (ol->healq): one
 * object's heal is mostly round trips (a lock, records, shards, a commit on
 * every drive), so one at a time leaves the drives and the network idle.
 */
struct heal_par {
    struct objlayer *ol;
    const char *bucket;
    struct heal_report *r; /* the caller's: sums, under mu */
    pthread_mutex_t mu;    /* protects r and inflight */
    pthread_cond_t cv;
    unsigned inflight;
};

struct heal_job {
    struct work w;
    struct heal_par *par;
    const struct reqctx *ctx;
    uint64_t size;
    char key[];
};

static void
sum_report(struct heal_report *r, const struct heal_report *c)
{
    r->objects_scanned += c->objects_scanned;
    r->objects_failed += c->objects_failed;
    r->objects_dangling_removed += c->objects_dangling_removed;
    add_counts(r, c);
}

static void
heal_job_run(struct work *w)
{
    struct heal_job *job = container_of(w, struct heal_job, w);
    struct heal_par *par = job->par;
    struct obj_progress *pr = &par->ol->heal_job;
    const struct reqctx *prev = reqctx_enter(job->ctx);
    struct heal_report r = { 0 };

    object__heal_object(par->ol, par->bucket, job->key, &r);
    reqctx_leave(prev);
    atomic_fetch_add(&pr->scanned, 1);
    atomic_fetch_add(&pr->bytes_scanned, job->size);
    if (r.objects_healed) {
        atomic_fetch_add(&pr->healed, 1);
        atomic_fetch_add(&pr->bytes_healed, job->size);
    }
    atomic_fetch_add(&pr->failed, r.objects_failed);
    pthread_mutex_lock(&par->mu);
    sum_report(par->r, &r);
    par->inflight--;
    pthread_cond_broadcast(&par->cv);
    pthread_mutex_unlock(&par->mu);
}

/* After heal_job_run, on the same worker (which reads `done` after `fn`: the job lives until here).
 */
static void
heal_job_free(struct work *w)
{
    free(container_of(w, struct heal_job, w));
}

static int
heal_key_cb(void *arg, const struct obj_list_ent *e)
{
    struct heal_par *par = arg;
    struct heal_job *job;

    if (atomic_load(&par->ol->closing))
        return 1; /* the layer closes: a whole heal stops here (the scanner finds the rest) */
    job = xcalloc(1, sizeof(*job) + e->key.len + 1);
    job->w.fn = heal_job_run;
    job->w.done = heal_job_free;
    job->par = par;
    job->ctx = reqctx_current();
    job->size = e->size;
    memcpy(job->key, e->key.ptr, e->key.len);
    pthread_mutex_lock(&par->mu);
    while (par->inflight >= 2 * OBJ_HEAL_PARALLEL) /* the listing waits for the workers */
        pthread_cond_wait(&par->cv, &par->mu);
    par->inflight++;
    pthread_mutex_unlock(&par->mu);
    workq_submit(par->ol->healq, &job->w);
    return 0;
}

/* Waits until every object handed to the workers is healed. */
static void
heal_par_wait(struct heal_par *par)
{
    pthread_mutex_lock(&par->mu);
    while (par->inflight > 0)
        pthread_cond_wait(&par->cv, &par->mu);
    pthread_mutex_unlock(&par->mu);
}

static int heal_all(struct objlayer *ol, const char *bucket, struct slice prefix,
                    struct heal_report *r);

/* A whole heal starts: its progress counted from zero (objlayer_status). */
static void
job_start(struct objlayer *ol)
{
    struct obj_progress *pr = &ol->heal_job;

    if (atomic_fetch_add(&ol->heal_jobs, 1) > 0)
        return; /* another runs: its counts go on */
    atomic_store(&pr->scanned, 0);
    atomic_store(&pr->healed, 0);
    atomic_store(&pr->failed, 0);
    atomic_store(&pr->bytes_scanned, 0);
    atomic_store(&pr->bytes_healed, 0);
    atomic_store(&pr->started_ns, clock_now_ns());
}

/* It ended: a scan confirms what is left (heal says done only after one). */
static void
job_end(struct objlayer *ol)
{
    atomic_store(&ol->heal_job.finished_ns, clock_now_ns());
    if (atomic_fetch_sub(&ol->heal_jobs, 1) == 1)
        object__scan_soon(ol);
}

int
object__heal(struct objlayer *ol, const char *bucket, struct slice prefix, struct heal_report *r)
{
    int rc;

    job_start(ol);
    rc = heal_all(ol, bucket, prefix, r);
    job_end(ol);
    return rc;
}

static int
heal_all(struct objlayer *ol, const char *bucket, struct slice prefix, struct heal_report *r)
{
    struct bucket_ent *names;
    struct heal_report objs = { 0 };
    struct heal_par par = { .ol = ol, .r = &objs };
    size_t i, n;
    int rc = 0;

    for (i = 0; i < ol->ndrives; i++)
        if (object__heal_drive(ol, i) == 1)
            r->drives_formatted++;
    pthread_mutex_init(&par.mu, NULL);
    pthread_cond_init(&par.cv, NULL);
    names = all_bucket_names(ol, &n);
    for (i = 0; i < n && !atomic_load(&ol->closing); i++) {
        if (bucket && strcmp(bucket, names[i].name) != 0)
            continue;
        heal_bucket(ol, &names[i], r);
        if (object__bucket_stat(ol, names[i].name, NULL) < 0)
            continue;
        heal_par_wait(&par); /* the workers read par.bucket */
        par.bucket = names[i].name;
        rc = object__list(ol, names[i].name, prefix, SLICE_NULL, 0, 1, heal_key_cb, &par);
        if (rc < 0)
            break;
    }
    heal_par_wait(&par);
    sum_report(r, &objs);
    pthread_mutex_destroy(&par.mu);
    pthread_cond_destroy(&par.cv);
    free(names);
    if (bucket && rc == 0 && object__bucket_stat(ol, bucket, NULL) < 0)
        rc = -ERR_BUCKET_NOT_FOUND;
    return rc < 0 ? rc : 0;
}

/* ---- the heal worker ---- */

/* Whether a drive the item is about (its key's set; any, for a whole heal) is offline now. */
static bool
item_misses_a_drive(struct objlayer *ol, const struct heal_item *it)
{
    size_t i;

    if (it->key)
        return object__key_misses_a_drive(ol, it->bucket, it->key);
    for (i = 0; i < ol->ndrives; i++)
        if (!drive_is_online(ol->drives[i]))
            return true;
    return false;
}

static void
heal_item_run(struct objlayer *ol, struct heal_item *it)
{
    struct heal_report r = { 0 };

    if (it->key)
        object__heal_object(ol, it->bucket, it->key, &r);
    else
        object__heal(ol, it->bucket, SLICE_NULL, &r);
    if (it->key && r.objects_scanned && !r.objects_healed && !r.objects_dangling_removed &&
        !r.objects_failed)
        object__heal_needless(ol);
    if (r.objects_healed || r.objects_dangling_removed || r.buckets_healed)
        log_info(&(struct log_ctx){ .bucket = it->bucket, .key = it->key, .event = "healed" },
                 "healed %llu objects (%llu shards), %llu buckets, %llu dangling removed",
                 (unsigned long long)r.objects_healed, (unsigned long long)r.shards_fixed,
                 (unsigned long long)r.buckets_healed,
                 (unsigned long long)r.objects_dangling_removed);
}

void *
object__heal_main(void *arg)
{
    struct objlayer *ol = arg;

    struct heal_item *it;

    pthread_setname_np(pthread_self(), "heal");
    while ((it = object__heal_dequeue(ol)) != NULL) {
        heal_item_run(ol, it);
        /* an offline drive may still miss what the item is about: again when it is back */
        if (item_misses_a_drive(ol, it))
            object__heal_park(ol, it);
        else
            object__heal_done(ol, it);
    }
    return NULL;
}

/*
 * storage/drive.c: the public functions of drive.h. Each checks the drive's
 * offline flag (sticky failure, STYLE 2.4: an offline drive answers
 * -ERR_OFFLINE until drive_reset()) and calls through the implementation's
 * `struct drive_ops` (internal.h), as SQLite calls through a VFS.
 *
 * Every call is watched: it holds one of the drive's busy slots, stamped
 * with its start time, for as long as it runs (a commit handed to the group
 * committer until its `done`). drive_watch() reads the oldest stamp, so a
 * disk that stops answering (a dead NFS server, a disk stuck in D state) is
 * found without calling it.
 */
#include "util/base.h"

#include "storage/drive.h"

#include <unistd.h>

#include "obs/log.h"
#include "obs/metrics.h"
#include "storage/internal.h"
#include "util/clock.h"
#include "util/err.h"

/* ---- the busy slots ---- */

static _Atomic unsigned next_hint;
static _Thread_local unsigned hint; /* where this thread starts looking (spreads threads) */

/* Takes a free slot stamped with now; returns its index + 1, or 0 if all are taken. */
static unsigned
busy_begin(struct drive *d)
{
    int64_t now = clock_mono_ns();
    unsigned i;

    if (!hint)
        hint = atomic_fetch_add(&next_hint, 7) + 1;
    for (i = 0; i < DRIVE_BUSY_SLOTS; i++) {
        unsigned s = (hint + i) % DRIVE_BUSY_SLOTS;
        int64_t free_ = 0;

        if (atomic_load_explicit(&d->busy[s], memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&d->busy[s], &free_, now))
            return s + 1;
    }
    return 0; /* more calls than slots: this one goes unwatched, the others are enough */
}

static void
busy_end(struct drive *d, unsigned slot)
{
    if (slot)
        atomic_store(&d->busy[slot - 1], 0);
}

unsigned
drive__busy_begin(struct drive *d)
{
    return busy_begin(d);
}

void
drive__busy_end(struct drive *d, unsigned slot)
{
    busy_end(d, slot);
}

#define WATCHED(d, call)                                                                           \
    __extension__({                                                                                \
        unsigned slot_ = busy_begin(d);                                                            \
        __typeof__(call) rc_ = (call);                                                             \
        busy_end((d), slot_);                                                                      \
        rc_;                                                                                       \
    })

struct async_watch {
    struct drive *d;
    unsigned slot;
    drive_done_fn *done;
    void *arg;
};

static void
async_watch_done(void *arg, int rc)
{
    struct async_watch aw = *(struct async_watch *)arg;

    free(arg);
    busy_end(aw.d, aw.slot);
    aw.done(aw.arg, rc);
}

int64_t
drive_stuck_ns(struct drive *d)
{
    int64_t oldest = 0, now;
    unsigned i;

    for (i = 0; i < DRIVE_BUSY_SLOTS; i++) {
        int64_t t = atomic_load_explicit(&d->busy[i], memory_order_relaxed);

        if (t && (!oldest || t < oldest))
            oldest = t;
    }
    if (!oldest)
        return 0;
    now = clock_mono_ns();
    return now > oldest ? now - oldest : 0;
}

int
drive_watch(struct drive *d, int64_t hang_ns)
{
    struct log_ctx ctx = { .drive = d->endpoint };
    int64_t stuck = drive_stuck_ns(d);
    bool expect = true;

    if (stuck >= hang_ns) {
        if (!atomic_load(&d->online))
            return atomic_load(&d->hung) ? DRIVE_HUNG : DRIVE_OK;
        atomic_store(&d->hung, true);
        if (!atomic_exchange(&d->online, false)) { /* an error took it offline meanwhile */
            atomic_store(&d->hung, false);
            return DRIVE_OK;
        }
        ctx.event = "drive_hung";
        log_error(&ctx,
                  "a call to the drive has not returned for %.2f s: drive taken offline, "
                  "requests go on without it",
                  (double)stuck / 1e9);
        return DRIVE_HUNG_NOW;
    }
    if (!atomic_load(&d->hung))
        return DRIVE_OK;
    /* every call returned: back, unless an error took it offline since (that cleared hung) */
    if (!atomic_compare_exchange_strong(&d->hung, &expect, false))
        return DRIVE_OK;
    if (atomic_exchange(&d->online, true))
        return DRIVE_OK;
    ctx.event = "drive_online";
    log_warn(&ctx, "the drive answers again: back online");
    return DRIVE_BACK;
}

bool
drive_is_hung(const struct drive *d)
{
    return atomic_load(&((struct drive *)d)->hung);
}

/* ---- the calls ---- */

void
drive__register_check(const struct drive_ops *ops)
{
    BUG_ON(!ops || !ops->name);
    BUG_ON(!ops->close || !ops->check || !ops->reset || !ops->info);
    BUG_ON(!ops->format_read || !ops->format_write);
    BUG_ON(!ops->bucket_make || !ops->bucket_delete || !ops->bucket_stat || !ops->bucket_list);
    BUG_ON(!ops->shard_create || !ops->shard_append || !ops->shard_finish || !ops->shard_abort);
    BUG_ON(!ops->shard_read || !ops->tmp_remove || !ops->shard_link || !ops->shard_size);
    BUG_ON(!ops->meta_commit || !ops->meta_read || !ops->meta_delete || !ops->list);
}

void
drive__init(struct drive *d, const struct drive_ops *ops, const char *endpoint)
{
    drive__register_check(ops);
    d->ops = ops;
    d->endpoint = xstrdup(endpoint);
    atomic_init(&d->online, true);
    atomic_init(&d->hung, false);
    for (unsigned i = 0; i < DRIVE_BUSY_SLOTS; i++)
        atomic_init(&d->busy[i], 0);
    atomic_init(&d->metrics, NULL);
}

void
drive__release(struct drive *d)
{
    free(d->endpoint);
    d->endpoint = NULL;
    free(atomic_exchange(&d->metrics, NULL));
}

void
drive__set_online(struct drive *d)
{
    struct log_ctx ctx = { .drive = d->endpoint, .event = "drive_online" };

    atomic_store(&d->hung, false);
    if (!atomic_exchange(&d->online, true))
        log_info(&ctx, "drive back online");
}

void
drive_close(struct drive *d)
{
    if (d)
        d->ops->close(d);
}

void
drive_set_metrics(struct drive *d, const struct drive_metrics *dm)
{
    struct drive_metrics *copy = xmalloc(sizeof(*copy)), *none = NULL;

    *copy = *dm;
    if (!atomic_compare_exchange_strong(&d->metrics, &none, copy))
        free(copy);
}

void
drive__observe_commit(struct drive *d, size_t records, int64_t ns)
{
    struct drive_metrics *dm = atomic_load_explicit(&d->metrics, memory_order_acquire);

    if (!dm)
        return;
    if (dm->commit_records)
        metric_observe(dm->commit_records, dm->series, records);
    if (dm->commit_ns)
        metric_observe(dm->commit_ns, dm->series, ns > 0 ? (uint64_t)ns : 0);
}

void
drive__observe_fsync(struct drive *d, int64_t ns)
{
    struct drive_metrics *dm = atomic_load_explicit(&d->metrics, memory_order_acquire);

    if (dm && dm->fsync_ns)
        metric_observe(dm->fsync_ns, dm->series, ns > 0 ? (uint64_t)ns : 0);
}

int
drive__fsync(struct drive *d, int fd)
{
    int64_t t0 = clock_mono_ns();
    int rc = fsync(fd);
    int e = errno;

    drive__observe_fsync(d, clock_mono_ns() - t0);
    errno = e;
    return rc;
}

const char *
drive_endpoint(const struct drive *d)
{
    return d->endpoint;
}

bool
drive_is_remote(const struct drive *d)
{
    return d->ops->is_remote;
}

bool
drive_is_online(const struct drive *d)
{
    return atomic_load(&((struct drive *)d)->online);
}

void
drive_set_offline(struct drive *d, int err)
{
    struct log_ctx ctx = { .drive = d->endpoint, .event = "drive_offline" };

    if (err != -ERR_OFFLINE)
        atomic_store(&d->hung, false); /* a real error: it stays offline when its calls return */
    if (atomic_exchange(&d->online, false))
        log_error(&ctx, "drive taken offline after error %s", err_name(err));
}

int
drive_check(struct drive *d)
{
    if (drive_is_hung(d))
        return -ERR_OFFLINE; /* the check would hang as the calls did */
    return WATCHED(d, d->ops->check(d));
}

int
drive_reset(struct drive *d)
{
    return WATCHED(d, d->ops->reset(d));
}

int
drive_reopen(struct drive *d, drive_accept_fn *accept, void *arg)
{
    if (!d->ops->reopen)
        return -ERR_NOT_IMPLEMENTED;
    return WATCHED(d, d->ops->reopen(d, accept, arg));
}

int
drive_info(struct drive *d, struct drive_info *out)
{
    struct drive_info info = { 0 };
    int rc;

    if (drive_is_hung(d)) { /* statvfs would hang as the calls did: no sizes */
        *out = info;
        return 0;
    }
    rc = WATCHED(d, d->ops->info(d, &info));
    if (rc < 0)
        return rc;
    info.online = drive_is_online(d);
    *out = info;
    return 0;
}

int
drive_format_read(struct drive *d, struct buf *out)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    return WATCHED(d, d->ops->format_read(d, out));
}

int
drive_format_write(struct drive *d, struct slice json)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    return WATCHED(d, d->ops->format_write(d, json));
}

int
drive_bucket_make(struct drive *d, const char *bucket, int64_t created_ns)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    if (strlen(bucket) >= sizeof(((struct bucket_ent *)NULL)->name))
        return -ERR_INVAL;
    return WATCHED(d, d->ops->bucket_make(d, bucket, created_ns));
}

int
drive_bucket_delete(struct drive *d, const char *bucket, bool force)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    return WATCHED(d, d->ops->bucket_delete(d, bucket, force));
}

int
drive_bucket_stat(struct drive *d, const char *bucket, int64_t *created_ns)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    return WATCHED(d, d->ops->bucket_stat(d, bucket, created_ns));
}

int
drive_bucket_list(struct drive *d, struct bucket_ent **out, size_t *n)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    return WATCHED(d, d->ops->bucket_list(d, out, n));
}

int
drive_shard_create(struct drive *d, const char *vid, unsigned part, struct shard_writer **out)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    if (!objmeta_vid_is_valid(vid))
        return -ERR_INVAL;
    return WATCHED(d, d->ops->shard_create(d, vid, part, out));
}

int
drive_shard_append(struct shard_writer *w, const void *p, size_t n)
{
    int rc;

    if (w->failed)
        return -ERR_IO;
    if (!drive_is_online(w->drive))
        rc = -ERR_OFFLINE;
    else
        rc = WATCHED(w->drive, w->drive->ops->shard_append(w, p, n));
    if (rc < 0)
        w->failed = true;
    return rc;
}

int
drive_shard_finish(struct shard_writer *w)
{
    struct drive *d = w->drive;

    if (w->failed || !drive_is_online(d)) {
        drive_shard_abort(w);
        return drive_is_online(d) ? -ERR_IO : -ERR_OFFLINE;
    }
    return WATCHED(d, d->ops->shard_finish(w));
}

void
drive_shard_abort(struct shard_writer *w)
{
    struct drive *d;
    unsigned slot;

    if (!w)
        return;
    d = w->drive;
    slot = busy_begin(d);
    d->ops->shard_abort(w);
    busy_end(d, slot);
}

ssize_t
drive_shard_read(struct drive *d, const char *vid, unsigned part, uint64_t off, void *p, size_t n)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    if (!objmeta_vid_is_valid(vid))
        return -ERR_INVAL;
    return WATCHED(d, d->ops->shard_read(d, vid, part, off, p, n));
}

int
drive_shard_link(struct drive *d, const char *dst_vid, const struct drive_link *links, size_t n)
{
    size_t i;

    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    if (!objmeta_vid_is_valid(dst_vid))
        return -ERR_INVAL;
    for (i = 0; i < n; i++)
        if (!objmeta_vid_is_valid(links[i].src_vid) || links[i].dst_part == 0)
            return -ERR_INVAL;
    return WATCHED(d, d->ops->shard_link(d, dst_vid, links, n));
}

int
drive_tmp_remove(struct drive *d, const char *vid)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    if (!objmeta_vid_is_valid(vid))
        return -ERR_INVAL;
    return WATCHED(d, d->ops->tmp_remove(d, vid));
}

int
drive_meta_commit(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m)
{
    int rc;

    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    rc = objmeta_validate(m);
    if (rc < 0)
        return rc;
    return WATCHED(d, d->ops->meta_commit(d, bucket, key, m));
}

int
drive_shard_open(struct drive *d, const char *vid, unsigned part, struct shard_reader **out)
{
    struct shard_reader *r;
    char probe;
    ssize_t n;

    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    if (!objmeta_vid_is_valid(vid))
        return -ERR_INVAL;
    if (d->ops->shard_open)
        return WATCHED(d, d->ops->shard_open(d, vid, part, out));
    /* Generic reader: no file to hold, but answer -ERR_NOT_FOUND as a real open would. */
    n = WATCHED(d, d->ops->shard_read(d, vid, part, 0, &probe, 1));
    if (n < 0)
        return (int)n;
    r = xcalloc(1, sizeof(*r));
    r->drive = d;
    snprintf(r->vid, sizeof(r->vid), "%s", vid);
    r->part = part;
    *out = r;
    return 0;
}

ssize_t
drive_shard_pread(struct shard_reader *r, uint64_t off, void *p, size_t n)
{
    struct drive *d = r->drive;

    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    if (d->ops->shard_pread)
        return WATCHED(d, d->ops->shard_pread(r, off, p, n));
    return WATCHED(d, d->ops->shard_read(d, r->vid, r->part, off, p, n));
}

int
drive_shard_size(struct shard_reader *r, uint64_t *size)
{
    struct drive *d = r->drive;

    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    if (d->ops->shard_reader_size)
        return WATCHED(d, d->ops->shard_reader_size(r, size));
    return WATCHED(d, d->ops->shard_size(d, r->vid, r->part, size));
}

void
drive_shard_close(struct shard_reader *r)
{
    struct drive *d;
    unsigned slot;

    if (!r)
        return;
    d = r->drive;
    if (!d->ops->shard_close) {
        free(r);
        return;
    }
    slot = busy_begin(d);
    d->ops->shard_close(r);
    busy_end(d, slot);
}

void
drive_meta_commit_async(struct drive *d, const char *bucket, const char *key,
                        const struct obj_meta *m, drive_done_fn *done, void *arg)
{
    int rc = drive_is_online(d) ? objmeta_validate(m) : -ERR_OFFLINE;

    if (rc == 0 && d->ops->meta_commit_async) {
        struct async_watch *aw = xmalloc(sizeof(*aw));

        *aw = (struct async_watch){ .d = d, .slot = busy_begin(d), .done = done, .arg = arg };
        d->ops->meta_commit_async(d, bucket, key, m, async_watch_done, aw);
        return;
    }
    if (rc == 0)
        rc = WATCHED(d, d->ops->meta_commit(d, bucket, key, m));
    done(arg, rc);
}

/*
 * drive_meta_replace() of a drive without its own: read, compare, commit.
 * Not atomic, but the caller holds the key's name lock, so no other commit
 * of the key runs in between.
 */
static int
replace_by_read(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m,
                struct obj_meta *prev, bool *had_prev)
{
    struct obj_meta cur;
    bool had;
    int rc;

    objmeta_init(&cur);
    rc = d->ops->meta_read(d, bucket, key, &cur);
    had = rc == 0;
    if (rc < 0 && rc != -ERR_NOT_FOUND && rc != -ERR_CORRUPT)
        goto out;
    if (had && strcmp(cur.vid, m->vid) != 0 && cur.mtime_ns >= m->mtime_ns)
        rc = -ERR_EXISTS;
    else
        rc = d->ops->meta_commit(d, bucket, key, m);
    if (rc == 0 || rc == -ERR_EXISTS) {
        *had_prev = had;
        if (had)
            objmeta_copy(prev, &cur);
    }
out:
    objmeta_release(&cur);
    return rc;
}

int
drive_meta_replace(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m,
                   struct obj_meta *prev, bool *had_prev)
{
    int rc;

    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    rc = objmeta_validate(m);
    if (rc < 0)
        return rc;
    if (d->ops->meta_replace) {
        rc = WATCHED(d, d->ops->meta_replace(d, bucket, key, m, prev, had_prev));
        if (rc != -ERR_NOT_IMPLEMENTED) /* a remote drive's node of an older version */
            return rc;
    }
    return WATCHED(d, replace_by_read(d, bucket, key, m, prev, had_prev));
}

const void *
drive_host(const struct drive *d)
{
    return d->ops->host ? d->ops->host(d) : NULL;
}

enum many_kind { MANY_REPLACE, MANY_READ };

/* One drive alone, as the single call. */
static void
many_one(enum many_kind kind, const char *bucket, const char *key, struct drive_meta_op *op)
{
    op->had = false;
    if (kind == MANY_READ)
        op->rc = drive_meta_read(op->d, bucket, key, op->out);
    else
        op->rc = drive_meta_replace(op->d, bucket, key, op->m, op->out, &op->had);
}

static bool
in_group(const struct drive_meta_op *g, size_t n, const struct drive *d)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (g[i].d == d)
            return true;
    return false;
}

/*
 * The batched calls: ops[] split into groups of drives of one ops table and
 * one host (in order of their first op; a drive given twice goes to another
 * group), each group of two or more in one call of its batched op (each
 * drive stamped busy meanwhile, for the hung watch), the rest one by one.
 */
static void
many(enum many_kind kind, const char *bucket, const char *key, struct drive_meta_op *ops, size_t n)
{
    struct drive_meta_op *g = xcalloc(n ? n : 1, sizeof(*g));
    unsigned *slots = xcalloc(n ? n : 1, sizeof(*slots));
    size_t *at = xcalloc(n ? n : 1, sizeof(*at));
    bool *taken = xcalloc(n ? n : 1, sizeof(*taken));
    size_t i, j, cnt;
    bool remote;
    int rc;

    for (i = 0; i < n; i++) {
        struct drive *d = ops[i].d;
        const void *host = drive_host(d);
        int (*fn)(const char *, const char *, struct drive_meta_op *, size_t) =
            kind == MANY_READ ? d->ops->meta_read_many : d->ops->meta_replace_many;

        if (taken[i])
            continue;
        taken[i] = true;
        ops[i].had = false;
        ops[i].rc = drive_is_online(d) ? 0 : -ERR_OFFLINE;
        if (ops[i].rc == 0 && kind == MANY_REPLACE)
            ops[i].rc = objmeta_validate(ops[i].m);
        if (ops[i].rc < 0)
            continue;
        cnt = 0;
        if (fn && host) {
            for (j = i; j < n; j++) {
                if (j > i && (taken[j] || ops[j].d->ops != d->ops || drive_host(ops[j].d) != host ||
                              in_group(g, cnt, ops[j].d) || !drive_is_online(ops[j].d) ||
                              (kind == MANY_REPLACE && objmeta_validate(ops[j].m) < 0)))
                    continue;
                taken[j] = true;
                at[cnt] = j;
                g[cnt] = ops[j];
                g[cnt].had = false;
                g[cnt].rc = 0;
                cnt++;
            }
        }
        if (cnt < 2) {
            for (j = 0; j < cnt; j++)
                taken[at[j]] = false;
            taken[i] = true;
            many_one(kind, bucket, key, &ops[i]);
            continue;
        }
        /*
         * A remote group is one call: its drives are busy until it returns. A
         * local group stamps each drive itself and ends each stamp when that
         * drive's commit is done: one hung drive must not make the watch take
         * the others of its node for hung too.
         */
        remote = drive_is_remote(g[0].d);
        for (j = 0; j < cnt; j++)
            slots[j] = remote ? busy_begin(g[j].d) : 0;
        rc = fn(bucket, key, g, cnt);
        for (j = 0; j < cnt; j++)
            busy_end(g[j].d, slots[j]);
        for (j = 0; j < cnt; j++) {
            if (rc == -ERR_NOT_IMPLEMENTED) { /* a node of an older version: one by one */
                many_one(kind, bucket, key, &ops[at[j]]);
                continue;
            }
            ops[at[j]].rc = g[j].rc;
            ops[at[j]].had = g[j].had;
        }
    }
    free(taken);
    free(at);
    free(slots);
    free(g);
}

void
drive_meta_replace_many(const char *bucket, const char *key, struct drive_meta_op *ops, size_t n)
{
    many(MANY_REPLACE, bucket, key, ops, n);
}

void
drive_meta_read_many(const char *bucket, const char *key, struct drive_meta_op *ops, size_t n)
{
    many(MANY_READ, bucket, key, ops, n);
}

int
drive_meta_read(struct drive *d, const char *bucket, const char *key, struct obj_meta *out)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    return WATCHED(d, d->ops->meta_read(d, bucket, key, out));
}

int
drive_meta_delete(struct drive *d, const char *bucket, const char *key, const char *vid)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    return WATCHED(d, d->ops->meta_delete(d, bucket, key, vid));
}

void
drive_meta_delete_async(struct drive *d, const char *bucket, const char *key, const char *vid,
                        drive_done_fn *done, void *arg)
{
    int rc;

    if (drive_is_online(d) && d->ops->meta_delete_async) {
        struct async_watch *aw = xmalloc(sizeof(*aw));

        *aw = (struct async_watch){ .d = d, .slot = busy_begin(d), .done = done, .arg = arg };
        d->ops->meta_delete_async(d, bucket, key, vid, async_watch_done, aw);
        return;
    }
    rc = drive_meta_delete(d, bucket, key, vid);
    done(arg, rc);
}

int
drive_meta_delete_many(struct drive *d, const char *bucket, const char *const *keys, size_t n,
                       int *rcs)
{
    size_t i;
    int rc = 0;

    if (!drive_is_online(d))
        rc = -ERR_OFFLINE;
    else if (d->ops->meta_delete_many)
        rc = WATCHED(d, d->ops->meta_delete_many(d, bucket, keys, n, rcs));
    else
        for (i = 0; i < n; i++)
            rcs[i] = drive_meta_delete(d, bucket, keys[i], NULL);
    for (i = 0; i < n && rc < 0; i++)
        rcs[i] = rc;
    return rc;
}

int
drive_list(struct drive *d, const char *bucket, struct slice prefix, struct slice after,
           unsigned limit, drive_list_fn *cb, void *arg)
{
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    return WATCHED(d, d->ops->list(d, bucket, prefix, after, limit, cb, arg));
}

#define JOURNAL_ITEM_MAX 4096

int
drive_journal_update(struct drive *d, const char *name, const struct slice *put, size_t nput,
                     const struct slice *del, size_t ndel)
{
    size_t i;

    if (!d->ops->journal_update)
        return -ERR_NOT_IMPLEMENTED;
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    for (i = 0; i < nput; i++)
        if (put[i].len > JOURNAL_ITEM_MAX)
            return -ERR_INVAL;
    return WATCHED(d, d->ops->journal_update(d, name, put, nput, del, ndel));
}

int
drive_journal_list(struct drive *d, const char *name, struct slice after, unsigned limit,
                   drive_journal_fn *cb, void *arg)
{
    if (!d->ops->journal_list)
        return -ERR_NOT_IMPLEMENTED;
    if (!drive_is_online(d))
        return -ERR_OFFLINE;
    return WATCHED(d, d->ops->journal_list(d, name, after, limit, cb, arg));
}

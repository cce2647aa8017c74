/*
 * storage/drive_faulty.c: the fault-injecting drive of drive_faulty.h. Every
 * op consults the fault settings, then forwards to the inner drive through
 * its public drive.h functions (so the inner drive's own offline state is
 * honoured too). The faulty drive has its own offline flag: a failed fsync or
 * drive_faulty_go_offline() takes it offline while the inner drive stays as
 * it was, as a real drive that stopped answering would.
 */
#include "util/base.h"

#include "storage/drive_faulty.h"

#include <pthread.h>
#include <stdatomic.h>

#include "storage/internal.h"
#include "util/err.h"
#include "util/reqctx.h"

struct drive_faulty {
    struct drive base;
    struct drive *inner; /* owned */
    pthread_mutex_t mu;  /* protects the fields up to hang_cv */
    unsigned fail_mask;
    uint64_t fail_n;
    uint64_t fail_count;
    int fail_err;
    unsigned hang_mask; /* calls of these ops block until cleared */
    unsigned hanging;   /* calls blocked now */
    pthread_cond_t hang_cv;
    char last_request[REQCTX_ID_LEN + 1]; /* request id of the last call (reqctx_current) */
    _Atomic bool flip;
    _Atomic bool short_io;
    _Atomic bool enospc;
    _Atomic bool fail_fsync;
    _Atomic bool async; /* meta_commit_async, meta_delete_async on threads of their own */
};

struct faulty_writer {
    struct shard_writer base;
    struct shard_writer *inner;
};

static const struct drive_ops faulty_ops;

static struct drive_faulty *
to_faulty(struct drive *d)
{
    BUG_ON(d->ops != &faulty_ops);
    return container_of(d, struct drive_faulty, base);
}

/* Counts a call of `op` (blocking while it is set to hang); returns the error to inject, or 0. */
static int
fault(struct drive_faulty *f, unsigned op)
{
    const struct reqctx *ctx = reqctx_current();
    int rc = 0;

    pthread_mutex_lock(&f->mu);
    snprintf(f->last_request, sizeof(f->last_request), "%s", ctx ? ctx->id : "");
    if (f->hang_mask & op) {
        f->hanging++;
        pthread_cond_broadcast(&f->hang_cv);
        while (f->hang_mask & op)
            pthread_cond_wait(&f->hang_cv, &f->mu);
        f->hanging--;
    }
    if (f->fail_mask & op) {
        f->fail_count++;
        if (f->fail_count >= f->fail_n)
            rc = f->fail_err;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

struct drive *
drive_faulty_new(struct drive *inner)
{
    struct drive_faulty *f = xcalloc(1, sizeof(*f));

    drive__init(&f->base, &faulty_ops, drive_endpoint(inner));
    f->inner = inner;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->hang_cv, NULL);
    return &f->base;
}

void
drive_faulty_hang(struct drive *d, unsigned op_mask)
{
    struct drive_faulty *f = to_faulty(d);

    pthread_mutex_lock(&f->mu);
    f->hang_mask = op_mask;
    pthread_cond_broadcast(&f->hang_cv);
    pthread_mutex_unlock(&f->mu);
}

unsigned
drive_faulty_hanging(struct drive *d)
{
    struct drive_faulty *f = to_faulty(d);
    unsigned n;

    pthread_mutex_lock(&f->mu);
    n = f->hanging;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void
drive_faulty_last_request(struct drive *d, char out[REQCTX_ID_LEN + 1])
{
    struct drive_faulty *f = to_faulty(d);

    pthread_mutex_lock(&f->mu);
    memcpy(out, f->last_request, REQCTX_ID_LEN + 1);
    pthread_mutex_unlock(&f->mu);
}

void
drive_faulty_fail_after(struct drive *d, unsigned op_mask, unsigned n, int err)
{
    struct drive_faulty *f = to_faulty(d);

    pthread_mutex_lock(&f->mu);
    f->fail_mask = n ? op_mask : 0;
    f->fail_n = n;
    f->fail_count = 0;
    f->fail_err = err;
    pthread_mutex_unlock(&f->mu);
}

void
drive_faulty_flip_bits_on_read(struct drive *d, bool on)
{
    atomic_store(&to_faulty(d)->flip, on);
}

void
drive_faulty_short_io(struct drive *d, bool on)
{
    atomic_store(&to_faulty(d)->short_io, on);
}

void
drive_faulty_enospc(struct drive *d, bool on)
{
    atomic_store(&to_faulty(d)->enospc, on);
}

void
drive_faulty_fail_fsync(struct drive *d, bool on)
{
    atomic_store(&to_faulty(d)->fail_fsync, on);
}

void
drive_faulty_go_offline(struct drive *d)
{
    drive_set_offline(d, -ERR_OFFLINE);
}

void
drive_faulty_async_commits(struct drive *d, bool on)
{
    atomic_store(&to_faulty(d)->async, on);
}

void
drive_faulty_clear(struct drive *d)
{
    drive_faulty_fail_after(d, 0, 0, 0);
    drive_faulty_flip_bits_on_read(d, false);
    drive_faulty_short_io(d, false);
    drive_faulty_enospc(d, false);
    drive_faulty_fail_fsync(d, false);
    drive_faulty_hang(d, 0);
}

static void
faulty_close(struct drive *d)
{
    struct drive_faulty *f = to_faulty(d);

    drive_close(f->inner);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->hang_cv);
    drive__release(d);
    free(f);
}

static int
faulty_check(struct drive *d)
{
    int rc = drive_check(to_faulty(d)->inner);

    if (rc == 0 && !drive_is_online(d))
        rc = -ERR_OFFLINE;
    return rc;
}

static int
faulty_reset(struct drive *d)
{
    int rc;

    drive_faulty_clear(d);
    rc = drive_reset(to_faulty(d)->inner);
    if (rc == 0)
        drive__set_online(d);
    return rc;
}

static int
faulty_info(struct drive *d, struct drive_info *out)
{
    return drive_info(to_faulty(d)->inner, out);
}

static int
faulty_format_read(struct drive *d, struct buf *out)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_FORMAT);

    return rc < 0 ? rc : drive_format_read(to_faulty(d)->inner, out);
}

static int
faulty_format_write(struct drive *d, struct slice json)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_FORMAT);

    return rc < 0 ? rc : drive_format_write(to_faulty(d)->inner, json);
}

static int
faulty_bucket_make(struct drive *d, const char *bucket, int64_t created_ns)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_BUCKET);

    return rc < 0 ? rc : drive_bucket_make(to_faulty(d)->inner, bucket, created_ns);
}

static int
faulty_bucket_delete(struct drive *d, const char *bucket, bool force)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_BUCKET);

    return rc < 0 ? rc : drive_bucket_delete(to_faulty(d)->inner, bucket, force);
}

static int
faulty_bucket_stat(struct drive *d, const char *bucket, int64_t *created_ns)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_BUCKET);

    return rc < 0 ? rc : drive_bucket_stat(to_faulty(d)->inner, bucket, created_ns);
}

static int
faulty_bucket_list(struct drive *d, struct bucket_ent **out, size_t *n)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_BUCKET);

    return rc < 0 ? rc : drive_bucket_list(to_faulty(d)->inner, out, n);
}

static int
faulty_shard_create(struct drive *d, const char *vid, unsigned part, struct shard_writer **out)
{
    struct drive_faulty *f = to_faulty(d);
    struct shard_writer *inner = NULL;
    struct faulty_writer *w;
    int rc;

    rc = fault(f, DRIVE_FAULTY_OP_SHARD_CREATE);
    if (rc == 0)
        rc = drive_shard_create(f->inner, vid, part, &inner);
    if (rc < 0)
        return rc;
    w = xcalloc(1, sizeof(*w));
    w->base.drive = d;
    w->inner = inner;
    *out = &w->base;
    return 0;
}

static int
faulty_shard_append(struct shard_writer *sw, const void *p, size_t n)
{
    struct faulty_writer *w = container_of(sw, struct faulty_writer, base);
    struct drive_faulty *f = to_faulty(sw->drive);
    int rc;

    rc = fault(f, DRIVE_FAULTY_OP_SHARD_APPEND);
    if (rc < 0)
        return rc;
    if (atomic_load(&f->enospc))
        return -ERR_NO_SPACE;
    if (!atomic_load(&f->short_io))
        return drive_shard_append(w->inner, p, n);
    rc = drive_shard_append(w->inner, p, n / 2);
    return rc < 0 ? rc : -ERR_IO;
}

static int
faulty_shard_finish(struct shard_writer *sw)
{
    struct faulty_writer *w = container_of(sw, struct faulty_writer, base);
    struct drive_faulty *f = to_faulty(sw->drive);
    int rc;

    rc = fault(f, DRIVE_FAULTY_OP_SHARD_FINISH);
    if (rc == 0 && atomic_load(&f->fail_fsync)) {
        drive_set_offline(&f->base, -ERR_IO);
        rc = -ERR_IO;
    }
    if (rc < 0)
        drive_shard_abort(w->inner);
    else
        rc = drive_shard_finish(w->inner);
    free(w);
    return rc;
}

static void
faulty_shard_abort(struct shard_writer *sw)
{
    struct faulty_writer *w = container_of(sw, struct faulty_writer, base);

    drive_shard_abort(w->inner);
    free(w);
}

static int
faulty_shard_size(struct drive *d, const char *vid, unsigned part, uint64_t *size)
{
    struct drive_faulty *f = to_faulty(d);
    struct shard_reader *r;
    int rc = fault(f, DRIVE_FAULTY_OP_SHARD_READ);

    if (rc == 0)
        rc = drive_shard_open(f->inner, vid, part, &r);
    if (rc == 0) {
        rc = drive_shard_size(r, size);
        drive_shard_close(r);
    }
    return rc;
}

static ssize_t
faulty_shard_read(struct drive *d, const char *vid, unsigned part, uint64_t off, void *p, size_t n)
{
    struct drive_faulty *f = to_faulty(d);
    ssize_t rc;

    rc = fault(f, DRIVE_FAULTY_OP_SHARD_READ);
    if (rc < 0)
        return rc;
    rc = drive_shard_read(f->inner, vid, part, off, p, n);
    if (rc > 0 && atomic_load(&f->flip))
        ((unsigned char *)p)[rc / 2] ^= 0x01;
    if (rc > 1 && atomic_load(&f->short_io))
        rc /= 2;
    return rc;
}

static int
faulty_shard_link(struct drive *d, const char *dst_vid, const struct drive_link *links, size_t n)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_SHARD_LINK);

    return rc < 0 ? rc : drive_shard_link(to_faulty(d)->inner, dst_vid, links, n);
}

static int
faulty_tmp_remove(struct drive *d, const char *vid)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_TMP_REMOVE);

    return rc < 0 ? rc : drive_tmp_remove(to_faulty(d)->inner, vid);
}

static int
faulty_meta_commit(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m)
{
    struct drive_faulty *f = to_faulty(d);
    int rc = fault(f, DRIVE_FAULTY_OP_META_COMMIT);

    if (rc == 0 && atomic_load(&f->enospc))
        rc = -ERR_NO_SPACE;
    return rc < 0 ? rc : drive_meta_commit(f->inner, bucket, key, m);
}

/* The faults of a commit; then the inner drive's own replace (read and commit in one). */
static int
faulty_meta_replace(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m,
                    struct obj_meta *prev, bool *had_prev)
{
    struct drive_faulty *f = to_faulty(d);
    int rc = fault(f, DRIVE_FAULTY_OP_META_COMMIT);

    if (rc == 0 && atomic_load(&f->enospc))
        rc = -ERR_NO_SPACE;
    return rc < 0 ? rc : drive_meta_replace(f->inner, bucket, key, m, prev, had_prev);
}

static int faulty_meta_delete(struct drive *d, const char *bucket, const char *key,
                              const char *vid);

/* A commit (`m`) or a delete (`m` NULL, `vid`) answered on a thread of its own. */
struct async_commit {
    struct drive *d;
    const char *bucket, *key, *vid;
    const struct obj_meta *m;
    drive_done_fn *done;
    void *arg;
};

static void *
async_commit_main(void *arg)
{
    struct async_commit *ac = arg;

    if (ac->m)
        ac->done(ac->arg, faulty_meta_commit(ac->d, ac->bucket, ac->key, ac->m));
    else
        ac->done(ac->arg, faulty_meta_delete(ac->d, ac->bucket, ac->key, ac->vid));
    free(ac);
    return NULL;
}

/* A group committer's way (drive_local): the caller goes on, the commit answers later. */
static void
faulty_meta_commit_async(struct drive *d, const char *bucket, const char *key,
                         const struct obj_meta *m, drive_done_fn *done, void *arg)
{
    struct async_commit *ac;
    pthread_t t;

    if (!atomic_load(&to_faulty(d)->async)) {
        done(arg, faulty_meta_commit(d, bucket, key, m));
        return;
    }
    ac = xmalloc(sizeof(*ac));
    *ac = (struct async_commit){
        .d = d, .bucket = bucket, .key = key, .m = m, .done = done, .arg = arg
    };
    BUG_ON(pthread_create(&t, NULL, async_commit_main, ac) != 0);
    pthread_detach(t);
}

static int
faulty_meta_read(struct drive *d, const char *bucket, const char *key, struct obj_meta *out)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_META_READ);

    return rc < 0 ? rc : drive_meta_read(to_faulty(d)->inner, bucket, key, out);
}

static int
faulty_meta_delete(struct drive *d, const char *bucket, const char *key, const char *vid)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_META_DELETE);

    return rc < 0 ? rc : drive_meta_delete(to_faulty(d)->inner, bucket, key, vid);
}

/* As faulty_meta_commit_async(): on a thread of its own when async commits are on. */
static void
faulty_meta_delete_async(struct drive *d, const char *bucket, const char *key, const char *vid,
                         drive_done_fn *done, void *arg)
{
    struct async_commit *ac;
    pthread_t t;

    if (!atomic_load(&to_faulty(d)->async)) {
        done(arg, faulty_meta_delete(d, bucket, key, vid));
        return;
    }
    ac = xmalloc(sizeof(*ac));
    *ac = (struct async_commit){
        .d = d, .bucket = bucket, .key = key, .vid = vid, .done = done, .arg = arg
    };
    BUG_ON(pthread_create(&t, NULL, async_commit_main, ac) != 0);
    pthread_detach(t);
}

static int
faulty_list(struct drive *d, const char *bucket, struct slice prefix, struct slice after,
            unsigned limit, drive_list_fn *cb, void *arg)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_LIST);

    return rc < 0 ? rc : drive_list(to_faulty(d)->inner, bucket, prefix, after, limit, cb, arg);
}

static int
faulty_journal_update(struct drive *d, const char *name, const struct slice *put, size_t nput,
                      const struct slice *del, size_t ndel)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_META_COMMIT);

    return rc < 0 ? rc : drive_journal_update(to_faulty(d)->inner, name, put, nput, del, ndel);
}

static int
faulty_journal_list(struct drive *d, const char *name, struct slice after, unsigned limit,
                    drive_journal_fn *cb, void *arg)
{
    int rc = fault(to_faulty(d), DRIVE_FAULTY_OP_META_READ);

    return rc < 0 ? rc : drive_journal_list(to_faulty(d)->inner, name, after, limit, cb, arg);
}

static const struct drive_ops faulty_ops = {
    .name = "faulty",
    .close = faulty_close,
    .check = faulty_check,
    .reset = faulty_reset,
    .info = faulty_info,
    .format_read = faulty_format_read,
    .format_write = faulty_format_write,
    .bucket_make = faulty_bucket_make,
    .bucket_delete = faulty_bucket_delete,
    .bucket_stat = faulty_bucket_stat,
    .bucket_list = faulty_bucket_list,
    .shard_create = faulty_shard_create,
    .shard_append = faulty_shard_append,
    .shard_finish = faulty_shard_finish,
    .shard_abort = faulty_shard_abort,
    .shard_read = faulty_shard_read,
    .shard_size = faulty_shard_size,
    .shard_link = faulty_shard_link,
    .tmp_remove = faulty_tmp_remove,
    .meta_commit = faulty_meta_commit,
    .meta_commit_async = faulty_meta_commit_async,
    .meta_replace = faulty_meta_replace,
    .meta_read = faulty_meta_read,
    .meta_delete = faulty_meta_delete,
    .meta_delete_async = faulty_meta_delete_async,
    .list = faulty_list,
    .journal_update = faulty_journal_update,
    .journal_list = faulty_journal_list,
};

/*
 * storage/internal.h: what the files of the storage layer share, and nothing
 * outside storage/ may include (STYLE 2.2): the base `struct drive` that each
 * implementation embeds first, the table of operations it fills (SQLite VFS
 * style, STYLE 2.1), the base `struct shard_writer`, and test hooks.
 *
 * drive.c holds the public wrappers of drive.h: they check the offline flag
 * (sticky, STYLE 2.4) and call through `d->ops`. An implementation:
 *   - embeds `struct drive` as its first member and calls drive__init() with
 *     its `const struct drive_ops`, which drive__register_check()s the table;
 *   - embeds `struct shard_writer` first in its writer and sets `drive`;
 *   - calls drive_set_offline() itself after an EIO-class failure.
 */
#ifndef BASALT_STORAGE_INTERNAL_H
#define BASALT_STORAGE_INTERNAL_H

#include "util/base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "storage/drive.h"
#include "util/buf.h"
#include "util/list.h"

/*
 * One function per drive.h operation. The wrappers of drive.c have already
 * checked that the drive is online, except for close, check, reset, reopen,
 * info and shard_abort, which run whatever the state. Every op is mandatory
 * but reopen (drive_reopen() answers -ERR_NOT_IMPLEMENTED without it).
 */
struct drive_ops {
    const char *name; /* "local", "mem", "faulty" */
    /*
     * Calls cross the network (a drive on another node): the object layer
     * then runs even cheap metadata calls in parallel on the I/O queues
     * instead of one after the other on the request thread.
     */
    bool is_remote;
    void (*close)(struct drive *d);
    int (*check)(struct drive *d);
    int (*reset)(struct drive *d);
    int (*reopen)(struct drive *d, drive_accept_fn *accept, void *arg);
    int (*info)(struct drive *d, struct drive_info *out);
    int (*format_read)(struct drive *d, struct buf *out);
    int (*format_write)(struct drive *d, struct slice json);
    int (*bucket_make)(struct drive *d, const char *bucket, int64_t created_ns);
    int (*bucket_delete)(struct drive *d, const char *bucket, bool force);
    int (*bucket_stat)(struct drive *d, const char *bucket, int64_t *created_ns);
    int (*bucket_list)(struct drive *d, struct bucket_ent **out, size_t *n);
    int (*shard_create)(struct drive *d, const char *vid, unsigned part, struct shard_writer **out);
    int (*shard_append)(struct shard_writer *w, const void *p, size_t n);
    int (*shard_finish)(struct shard_writer *w); /* frees w */
    void (*shard_abort)(struct shard_writer *w); /* frees w */
    ssize_t (*shard_read)(struct drive *d, const char *vid, unsigned part, uint64_t off, void *p,
                          size_t n);
    /*
     * Optional, all three or none: a reader that holds the file. Without
     * them, drive.c gives a reader that calls shard_read for each read.
     */
    int (*shard_open)(struct drive *d, const char *vid, unsigned part, struct shard_reader **out);
    ssize_t (*shard_pread)(struct shard_reader *r, uint64_t off, void *p, size_t n);
    void (*shard_close)(struct shard_reader *r); /* frees r */
    /* Optional with the three above: the size of the file a reader holds. */
    int (*shard_reader_size)(struct shard_reader *r, uint64_t *size);
    /* The size of committed shard file `part` of `vid`; -ERR_NOT_FOUND. */
    int (*shard_size)(struct drive *d, const char *vid, unsigned part, uint64_t *size);
    int (*shard_link)(struct drive *d, const char *dst_vid, const struct drive_link *links,
                      size_t n);
    int (*tmp_remove)(struct drive *d, const char *vid);
    int (*meta_commit)(struct drive *d, const char *bucket, const char *key,
                       const struct obj_meta *m);
    /* Optional: NULL runs meta_commit and calls done before returning. */
    void (*meta_commit_async)(struct drive *d, const char *bucket, const char *key,
                              const struct obj_meta *m, drive_done_fn *done, void *arg);
    /*
     * Optional: NULL (or -ERR_NOT_IMPLEMENTED from it: a remote node of an
     * older version) reads the record, compares and commits (drive.c).
     */
    int (*meta_replace)(struct drive *d, const char *bucket, const char *key,
                        const struct obj_meta *m, struct obj_meta *prev, bool *had_prev);
    int (*meta_read)(struct drive *d, const char *bucket, const char *key, struct obj_meta *out);
    /*
     * Optional: drive_host()'s token (NULL: shares none). The batched calls
     * below get only drives of this ops table and one host; they write
     * every op's rc (and had, *out) and return 0, or return
     * -ERR_NOT_IMPLEMENTED having written nothing (a remote node of an older
     * version): drive.c then calls each drive on its own. Optional, both.
     */
    const void *(*host)(const struct drive *d);
    int (*meta_replace_many)(const char *bucket, const char *key, struct drive_meta_op *ops,
                             size_t n);
    int (*meta_read_many)(const char *bucket, const char *key, struct drive_meta_op *ops, size_t n);
    int (*meta_delete)(struct drive *d, const char *bucket, const char *key, const char *vid);
    /* Optional: NULL runs meta_delete and calls done before returning. */
    void (*meta_delete_async)(struct drive *d, const char *bucket, const char *key, const char *vid,
                              drive_done_fn *done, void *arg);
    int (*list)(struct drive *d, const char *bucket, struct slice prefix, struct slice after,
                unsigned limit, drive_list_fn *cb, void *arg);
    /* Optional, both or neither (drive_journal_update() answers -ERR_NOT_IMPLEMENTED). */
    int (*journal_update)(struct drive *d, const char *name, const struct slice *put, size_t nput,
                          const struct slice *del, size_t ndel);
    int (*journal_list)(struct drive *d, const char *name, struct slice after, unsigned limit,
                        drive_journal_fn *cb, void *arg);
    /* Optional: NULL runs meta_delete for each key (drive_meta_delete_many()). */
    int (*meta_delete_many)(struct drive *d, const char *bucket, const char *const *keys, size_t n,
                            int *rcs);
};

#define DRIVE_BUSY_SLOTS 64

struct drive {
    const struct drive_ops *ops;
    char *endpoint;      /* malloc'd; drive_endpoint() */
    _Atomic bool online; /* cleared by drive_set_offline(), set by drive__set_online() */
    /*
     * Hung-call watch (drive.c): each call in flight holds a slot with the
     * monotonic time it started (0: free); `hung` is set while the drive is
     * offline only because a call stopped returning (drive_watch()).
     */
    _Atomic int64_t busy[DRIVE_BUSY_SLOTS];
    _Atomic bool hung;
    /* drive_set_metrics(): NULL until set, then never changed; the families outlive the drive */
    struct drive_metrics *_Atomic metrics;
};

struct shard_writer {
    struct drive *drive;
    bool failed; /* sticky: after an append error only abort is allowed */
};

struct shard_reader {
    struct drive *drive;
    char vid[OBJMETA_VID_LEN + 1];
    unsigned part;
};

/* BUG()s if any op of `ops` is NULL: a missing op is a programming error, caught at open. */
void drive__register_check(const struct drive_ops *ops);
/* Checks `ops`, fills the base fields (online), copies `endpoint`. */
void drive__init(struct drive *d, const struct drive_ops *ops, const char *endpoint);
/* Frees what drive__init() allocated. */
void drive__release(struct drive *d);
/*
 * Counting into the families of drive_set_metrics() (no-ops before): a group
 * commit of `records` index records whose commit took `ns`; an fsync() that
 * took `ns`. Lock-free (relaxed atomic adds); any thread.
 */
void drive__observe_commit(struct drive *d, size_t records, int64_t ns);
void drive__observe_fsync(struct drive *d, int64_t ns);
/* fsync(fd), timed into drive__observe_fsync(); returns fsync's result (errno set). */
int drive__fsync(struct drive *d, int fd);
/* Brings the drive back online (drive_reset); logs event "drive_online" if it was offline. */
void drive__set_online(struct drive *d);

/*
 * ---- the local drive: shared by drive_local.c (files, ops table) and
 * drive_local_index.c (SQLite index, group committer, read pool) ----
 */

struct conn; /* a SQLite connection with its statements (drive_local_index.c) */

enum drive_local_req_kind {
    DRIVE_LOCAL_REQ_BUCKET_MAKE,
    DRIVE_LOCAL_REQ_BUCKET_DELETE,
    DRIVE_LOCAL_REQ_META_PUT,
    DRIVE_LOCAL_REQ_META_DELETE,
    DRIVE_LOCAL_REQ_JOURNAL /* `bucket` is the journal's name */
};

/* The changes of one DRIVE_LOCAL_REQ_JOURNAL request (borrowed). */
struct drive_local_journal {
    const struct slice *put, *del;
    size_t nput, ndel;
};

/* A write queued for the committer; lives on the waiting writer's stack. */
struct drive_local_req {
    struct list_node link; /* in drive_local.queue, protected by mu */
    enum drive_local_req_kind kind;
    const char *bucket;
    const char *key;
    const struct obj_meta *m; /* DRIVE_LOCAL_REQ_META_PUT */
    struct slice rec;         /* DRIVE_LOCAL_REQ_META_PUT: objmeta_encode(m) */
    const char *vid;          /* DRIVE_LOCAL_REQ_META_DELETE: delete only this version; NULL: any */
    /*
     * DRIVE_LOCAL_REQ_META_PUT of drive_meta_replace(): refused (-ERR_EXISTS)
     * when the current record is another version as new or newer; `prev`
     * receives the current record, `had_prev` whether there was one.
     */
    struct obj_meta *prev;
    bool had_prev;

    int64_t created_ns;                        /* DRIVE_LOCAL_REQ_BUCKET_MAKE */
    bool force;                                /* DRIVE_LOCAL_REQ_BUCKET_DELETE */
    const struct drive_local_journal *journal; /* DRIVE_LOCAL_REQ_JOURNAL */
    /* asynchronous requests (drive_meta_commit_async, drive_meta_delete_async) only, else NULL */
    struct drive_local_async *async;
    /* results, written by the committer before `done` */
    int rc;
    struct buf old_vids; /* 32-char vids whose data folders the writer removes */
    bool done;           /* protected by mu */
};

/* A commit or delete queued by drive_meta_{commit,delete}_async(): freed by the committer when
 * done. */
struct drive_local_async {
    struct drive_local_req r;
    struct buf rec; /* objmeta_encode() of the record (a commit) */
    drive_done_fn *done;
    void *arg;
};

struct drive_local {
    struct drive base;
    char *path; /* the drive folder */
    bool sync;
    char **siblings; /* the node's other local drive folders (drive_local_opts) */
    size_t nsiblings;
    /*
     * The drive is offline because its folder looked like a disk that did
     * not mount (at open, or when drive_check() found it emptied): only then
     * may drive_reopen() take a disk mounted there. `not_mounted_said`: the
     * drive_not_mounted event was logged for this episode. Both written by
     * open, check and reopen (the drive monitor: one thread) only.
     */
    bool not_mounted;
    bool not_mounted_said;
    pthread_rwlock_t life;     /* shared: every op; exclusive: reset */
    pthread_mutex_t format_mu; /* one format.json writer at a time */
    dev_t index_dev;           /* identity of index.db when opened (drive_check) */
    ino_t index_ino;

    pthread_mutex_t mu;     /* protects queue, stop, req->done */
    pthread_cond_t cv;      /* queue not empty, or stop */
    pthread_cond_t done_cv; /* some request is done */
    struct list_node queue; /* of struct drive_local_req */
    bool stop;
    bool committer_running; /* open/reset/close only */
    pthread_t committer;
    struct conn *wc;       /* committer thread only (and open/reset before it starts) */
    _Atomic uint64_t ntxn; /* transactions committed */

    pthread_mutex_t pool_mu; /* protects pool, npool */
    struct conn *pool;
    unsigned npool;

    pthread_mutex_t trash_mu; /* protects trash_pending, trash_stop */
    pthread_cond_t trash_cv;  /* trash_pending or trash_stop */
    bool trash_pending;       /* something was moved to trash/ since the last sweep */
    bool trash_stop;
    bool trash_running; /* open/reset/close only */
    pthread_t trash_thread;
    _Atomic uint64_t trash_removed; /* entries removed by the trash thread */
};

/*
 * Whether a folder whose mount information is info[pos] looks like a disk
 * that did not mount: not a mount point, and on the very file system that
 * another folder's disk (info[j], a mount point) is mounted onto. Pure, for
 * tests. info[] as drive_info() fills it (zeros: unknown, never "not mounted").
 */
bool drive_local__not_mounted_in(const struct drive_info *info, size_t n, size_t pos);

/* Logs errno `e` once, converts it; takes the drive offline on -ERR_IO. Any thread. */
int drive_local__sys_fail(struct drive_local *l, int e, const char *what, const char *path);
/* Writes "<path>/.basalt/<fmt...>" into `dst` (PATH_MAX bytes). */
void drive_local__path(const struct drive_local *l, char *dst, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

/* Opens (creating) index.db with WAL and the schema: the write connection. Before start. */
int drive_local__index_open(struct drive_local *l);
/* 1 if an index record names `vid`, 0 if none, < 0 on error. Between open and start. */
int drive_local__index_vid_used(struct drive_local *l, const char *vid);
/* Starts the committer thread. */
int drive_local__index_start(struct drive_local *l);
/* Lets queued writes finish, stops the committer, closes every connection. */
void drive_local__index_close(struct drive_local *l);

/* Initializes a write request of `kind` on `bucket`; release r->old_vids after. */
void drive_local__req_init(struct drive_local_req *r, enum drive_local_req_kind kind,
                           const char *bucket);
/*
 * Queues `r` for the committer and waits until its transaction committed or
 * failed. Returns r->rc: 0, -ERR_NOT_FOUND (bucket, or key for a delete),
 * -ERR_EXISTS, -ERR_NOT_EMPTY, or an index error. On success r->old_vids
 * lists the versions whose data folders the caller removes.
 */
int drive_local__index_write(struct drive_local *l, struct drive_local_req *r);
/*
 * The same for rs[0..n) at once: queued together, so the committer runs
 * them in one transaction; waits for every one. 0 (each rs[i].rc says its
 * result), or -ERR_OFFLINE when the index is closed (nothing was queued).
 */
int drive_local__index_write_many(struct drive_local *l, struct drive_local_req *rs, size_t n);
/*
 * Queues a request and returns at once: an asynchronous one (r->async set)
 * the committer completes (drive_local_async.done) and frees; another one
 * (initialized by drive_local__req_init) is waited for by
 * drive_local__index_wait(). -ERR_OFFLINE
 * if the index is closed (then nothing was queued). Call under `life` (shared).
 */
int drive_local__index_submit(struct drive_local *l, struct drive_local_req *r);
/* Waits for a request queued by drive_local__index_submit() (not async): its rc. */
int drive_local__index_wait(struct drive_local *l, struct drive_local_req *r);
/* Whether that request is done, waiting for it at most `wait_ns` (0: a look only). */
bool drive_local__index_done(struct drive_local *l, struct drive_local_req *r, int64_t wait_ns);
/*
 * The hung watch's busy stamps (drive.c): a drive's call that drive.c does
 * not stamp itself (a local group of drive_meta_replace_many()) stamps each
 * drive and ends each stamp when that drive's part is done.
 */
unsigned drive__busy_begin(struct drive *d);
void drive__busy_end(struct drive *d, unsigned slot);
/* Removes the data folders of the vids in `vids` (32 chars each); errors are logged. */
void drive_local__remove_old_vids(struct drive_local *l, const struct buf *vids);

/* Readers (any thread): the drive.h semantics of the functions of the same names. */
int drive_local__index_bucket_stat(struct drive_local *l, const char *bucket, int64_t *created_ns);
int drive_local__index_bucket_list(struct drive_local *l, struct bucket_ent **out, size_t *n);
int drive_local__index_meta_read(struct drive_local *l, const char *bucket, const char *key,
                                 struct obj_meta *out);
int drive_local__index_list(struct drive_local *l, const char *bucket, struct slice prefix,
                            struct slice after, unsigned limit, drive_list_fn *cb, void *arg);
int drive_local__index_journal_list(struct drive_local *l, const char *name, struct slice after,
                                    unsigned limit, drive_journal_fn *cb, void *arg);

/*
 * Test hook of drive_local.c: the number of index transactions the committer
 * ran since open (group commit puts many writes in one). `d` must be a local
 * drive. Any thread.
 */
uint64_t drive_local__ntxn(struct drive *d);
/* Entries of trash/ the trash thread has removed since open (for tests). */
uint64_t drive_local__trash_removed(struct drive *d);

#endif

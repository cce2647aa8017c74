/*
 * storage/drive.h: the drive interface (DESIGN.md, STYLE 2.1). The object
 * layer talks to every drive through these functions and never knows whether
 * a drive is local (drive_local.c), on another node (drive_remote.c),
 * in memory (drive_mem.c, tests) or failing on purpose (drive_faulty.c, tests).
 *
 * A drive holds, for the buckets and objects of its erasure set:
 *   - format.json (its identity and the set layout),
 *   - an index of buckets and object metadata records (struct obj_meta),
 *   - shard files, written first under a temporary name (shard_create ...
 *     shard_finish), then made visible together with the metadata record by
 *     drive_meta_commit().
 *
 * Every call blocks (except drive_meta_commit_async). The object layer runs
 * data calls (shard writes and reads, commits with shard files) on the
 * drive's own I/O queue, and cheap index calls of local drives (lookups,
 * listings, inline commits through the async committer) on the request
 * thread; see object/quorum.c. Every call returns 0 (or a size) or a negative -ERR_*:
 * -ERR_NOT_FOUND, -ERR_IO, -ERR_NO_SPACE, -ERR_CORRUPT, -ERR_OFFLINE (the
 * drive failed before and is offline: sticky, STYLE 2.4), plus the ones named
 * per function.
 *
 * Names given to these functions are checked by the object and s3 layers
 * (bucket names per S3 rules, keys valid UTF-8 without NUL, <= 1,024 bytes);
 * keys never become file names, so no key can escape the drive's folder.
 */
#ifndef BASALT_STORAGE_DRIVE_H
#define BASALT_STORAGE_DRIVE_H

#include "util/base.h"

#include "storage/objmeta.h"
#include "util/buf.h"
#include "util/slice.h"

struct drive;
struct shard_writer;
struct shard_reader;

struct drive_info {
    uint64_t total_bytes;
    uint64_t free_bytes;
    bool online;
    /*
     * The drive folder is the root of a mounted file system (another device
     * than its parent folder): a disk mounted there. fs_id and parent_fs_id
     * identify the file systems of the folder and of its parent (st_dev).
     * All 0 for drives that are not folders.
     */
    bool mount_point;
    uint64_t fs_id;
    uint64_t parent_fs_id;
};

struct bucket_ent {
    char name[64];
    int64_t created_ns;
};

/* One row of a listing; every pointer is borrowed for the callback's duration. */
struct drive_list_ent {
    const char *key;
    size_t key_len;
    const char *vid;
    uint64_t size;
    int64_t mtime_ns;
    const char *etag;
    bool reduced; /* struct obj_meta's `reduced` */
};

/*
 * Return 0 to continue, 1 to stop the listing early (not an error), < 0 to
 * abort the listing with that error.
 */
typedef int drive_list_fn(void *arg, const struct drive_list_ent *ent);

struct drive_local_opts {
    bool sync; /* fsync on commit (default true); false only for benchmarks (--sync=off) */
    /*
     * The folders of the node's other local drives, to tell a disk that did
     * not mount (below): borrowed for the call to drive_local_open() only.
     */
    const char *const *siblings;
    size_t nsiblings;
};

/*
 * Opens a local drive at folder `path`, creating the folder if it is missing.
 * An unformatted drive opens fine: drive_format_read() then answers
 * -ERR_NOT_FOUND until drive_format_write(). Starts the drive's index
 * committer thread. Returns 0 and `*out`, or -ERR_IO with a reason in `errmsg`.
 *
 * A disk that did not mount leaves an empty folder of the file system
 * underneath (often the root one), and writing there would send the drive's
 * data to the wrong disk. The local drive judges that itself: a folder that
 * is not a mount point, holds no .basalt/format.json, and lies on the very
 * file system that a sibling's disk is mounted onto (the parent of a sibling
 * folder that is a mount point) "looks not mounted". Such a drive opens
 * deferred: nothing in the folder is created, read or changed, it is offline,
 * logs event drive_not_mounted once, and drive_check() answers
 * -ERR_NOT_MOUNTED until a disk is mounted there (drive_reopen() of a disk
 * holding a format.json, drive_reset() of an empty one).
 */
int drive_local_open(const char *path, const struct drive_local_opts *opts, struct drive **out,
                     struct buf *errmsg);
/* An in-memory drive for tests: same semantics as a local drive, nothing on disk. */
struct drive *drive_mem_new(const char *name);

/*
 * A drive of another node (drive_remote.c): every call goes over RPC to
 * `peer` (borrowed: it must outlive the drive), which serves its drive at
 * `folder` (drive_serve.c). `endpoint` names it in logs ("http://h:p/f").
 * Never fails; the drive is online until a call finds otherwise.
 */
struct rpc_peer;
struct drive *drive_remote_new(struct rpc_peer *peer, const char *endpoint, const char *folder);

/*
 * A placeholder for a drive that could not be opened at start-up (unreadable
 * index, permission, I/O error): offline from the start and for the life of
 * the process, so the server can still start and serve from the other drives.
 */
struct drive *drive_offline_new(const char *endpoint);

/* Closes the drive: stops its threads, frees it. No call on `d` may be in flight. */
void drive_close(struct drive *d);

/* The endpoint as given at start-up ("/srv/d1", "mem:a"); borrowed. */
const char *drive_endpoint(const struct drive *d);
bool drive_is_online(const struct drive *d);
/* Whether calls cross the network (false for local, in-memory and test drives). */
bool drive_is_remote(const struct drive *d);

/*
 * The families a drive counts into (docs/metrics.md), registered by the
 * object layer with this drive's series `series`: histograms of records per
 * group commit of the index, of the commit's duration (the write of the
 * WAL and its fsync; nanoseconds) and of each fsync() of a shard file,
 * folder or format.json (nanoseconds). Any may be NULL. A local drive
 * counts; others do not.
 */
struct metric;
struct drive_metrics {
    struct metric *commit_records;
    struct metric *commit_ns;
    struct metric *fsync_ns;
    size_t series;
};
/* Sets them once (copied; later calls are ignored). Any thread; the families must outlive `d`. */
void drive_set_metrics(struct drive *d, const struct drive_metrics *dm);
/* Takes the drive offline (sticky) after an error the caller saw; logs once. */
void drive_set_offline(struct drive *d, int err);
/*
 * Checks that the drive is usable (folder and index present, same identity as
 * when opened). If the folder was removed or replaced by an empty one, the
 * drive goes offline and this returns -ERR_OFFLINE; -ERR_NOT_FOUND when the
 * folder exists, is empty and is safe to format (a replaced disk: ready to be
 * formatted back by drive_reset() by the node that owns the drive);
 * -ERR_NOT_MOUNTED when it is empty but looks like a disk that did not mount
 * or was unmounted (see drive_local_open; never to be reset). A drive taken
 * offline by an earlier error also answers -ERR_OFFLINE. Runs whatever the
 * drive's state (not refused when offline).
 */
int drive_check(struct drive *d); /* a hung drive (drive_watch()): -ERR_OFFLINE, not asked */
/*
 * Re-creates an empty drive in the same folder (new index, no format.json),
 * and brings it back online. For a replaced drive, before it is formatted
 * back into its place and healed. Waits for calls in flight on `d` to end, so
 * it must not be called from a drive_list() callback of the same drive.
 */
int drive_reset(struct drive *d);
/*
 * Opens the drive again on what its folder holds now, if `accept(arg,
 * text)` returns 0 for the format.json found there (read before anything of
 * the folder is opened or changed): for a drive taken offline when its disk
 * was found unmounted, once a disk with a format.json is mounted there again.
 * Then the drive is back online and this returns 0; else it stays offline
 * and as it was, and this returns accept's error, -ERR_NOT_FOUND (no
 * format.json) or the error of reading it or of opening the drive. Cheap to
 * call on every monitor tick: a drive offline for another reason than an
 * unmounted disk answers -ERR_OFFLINE, one whose folder still looks not
 * mounted -ERR_NOT_MOUNTED, without reading anything or asking `accept`.
 * -ERR_NOT_IMPLEMENTED for drives that cannot (in-memory, remote). The
 * format is asked about first with nothing stopped; only an accepted disk
 * waits, as drive_reset() does, for the calls in flight on `d` (it may be
 * asked twice).
 */
typedef int drive_accept_fn(void *arg, struct slice format_json);
int drive_reopen(struct drive *d, drive_accept_fn *accept, void *arg);

/*
 * Hung drives. A disk can stop answering without failing (a dead NFS
 * server, a dying disk in D state): its calls never return. drive.c stamps
 * every call in flight with its start time; drive_stuck_ns() is the age of
 * the oldest (0: none), and drive_watch(), called by a thread that never
 * calls the drive itself, judges it:
 *
 *   DRIVE_HUNG_NOW  a call is older than `hang_ns`: the drive was just taken
 *                   offline (event "drive_hung"), new calls answer
 *                   -ERR_OFFLINE at once; the calls that hang go on hanging
 *   DRIVE_HUNG      still offline for that reason, calls still stuck
 *   DRIVE_BACK      it was hung and every call returned: back online (event
 *                   "drive_online"); what it missed needs healing
 *   DRIVE_OK        none of these
 *
 * An error seen meanwhile (drive_set_offline() with anything but
 * -ERR_OFFLINE) makes it an ordinary offline drive, which stays offline.
 * drive_is_hung(): offline because hung (then drive_check() and
 * drive_info() would hang too: callers skip them).
 */
enum { DRIVE_OK, DRIVE_HUNG_NOW, DRIVE_HUNG, DRIVE_BACK };
int64_t drive_stuck_ns(struct drive *d);
int drive_watch(struct drive *d, int64_t hang_ns);
bool drive_is_hung(const struct drive *d);

/* Sizes from statvfs (local); answers when offline too, with `online` false (hung: no sizes). */
int drive_info(struct drive *d, struct drive_info *out);

/* format.json: -ERR_NOT_FOUND if the drive is not formatted. */
int drive_format_read(struct drive *d, struct buf *out);
/* Writes format.json atomically (tmp, fsync, rename, fsync dir). */
int drive_format_write(struct drive *d, struct slice json);

/* -ERR_EXISTS if the bucket exists on this drive; -ERR_INVAL if the name has 64 bytes or more. */
int drive_bucket_make(struct drive *d, const char *bucket, int64_t created_ns);
/* -ERR_NOT_FOUND; -ERR_NOT_EMPTY if it holds objects (unless `force`). */
int drive_bucket_delete(struct drive *d, const char *bucket, bool force);
/* -ERR_NOT_FOUND; writes `*created_ns` on success. */
int drive_bucket_stat(struct drive *d, const char *bucket, int64_t *created_ns);
/* All buckets sorted by name; `*out` is malloc'd (free it), `*n` its length. */
int drive_bucket_list(struct drive *d, struct bucket_ent **out, size_t *n);

/*
 * Starts shard file `part` (1 for a plain object) of version `vid` in the
 * drive's temporary area. Returns 0 and `*out`. Here and below, a `vid` that
 * is not 32 lowercase hex characters answers -ERR_INVAL (it names a folder).
 */
int drive_shard_create(struct drive *d, const char *vid, unsigned part, struct shard_writer **out);
/* Appends bytes. After an error the writer is failed (sticky): only abort is allowed. */
int drive_shard_append(struct shard_writer *w, const void *p, size_t n);
/*
 * Flushes and fsyncs (when sync is on) and closes the file; it stays in tmp.
 * Frees `w`. On a failed writer it aborts instead and returns -ERR_IO (or
 * -ERR_OFFLINE). A failed fsync takes the drive offline.
 */
int drive_shard_finish(struct shard_writer *w);
/* Closes and removes the temporary file. Frees `w`. */
void drive_shard_abort(struct shard_writer *w);
/*
 * Reads up to `n` bytes at `off` of committed shard file `part` of `vid`.
 * Returns the bytes read (short only at end of file), -ERR_NOT_FOUND.
 */
ssize_t drive_shard_read(struct drive *d, const char *vid, unsigned part, uint64_t off, void *p,
                         size_t n);
/*
 * Opens committed shard file `part` of `vid` for a stream of reads. The
 * reader holds the file: a commit that replaces or deletes the version while
 * a GET streams it does not cut that GET short (the bytes stay readable until
 * drive_shard_close). -ERR_NOT_FOUND if the file does not exist.
 */
int drive_shard_open(struct drive *d, const char *vid, unsigned part, struct shard_reader **out);
/* Reads up to `n` bytes at `off`; the size read (short only at the end), or -ERR_*. */
ssize_t drive_shard_pread(struct shard_reader *r, uint64_t off, void *p, size_t n);
/* The size of the file the reader holds: 0 and `*size`, or -ERR_*. */
int drive_shard_size(struct shard_reader *r, uint64_t *size);
/* Closes and frees the reader. */
void drive_shard_close(struct shard_reader *r);
/*
 * Completing a multipart upload: makes committed shard files of other
 * versions (the parts, each committed as a version of its own) the shard
 * files `dst_part` of version `dst_vid` in the temporary area, without
 * copying a byte (hard links on a local drive), durably (one fsync of the
 * folder for all). drive_meta_commit() of `dst_vid` then commits them as for
 * any write, and removing the part versions later leaves them in place.
 * -ERR_NOT_FOUND if a source file is missing (what was linked stays in tmp
 * for drive_tmp_remove()).
 */
struct drive_link {
    const char *src_vid;
    unsigned src_part;
    unsigned dst_part;
};
int drive_shard_link(struct drive *d, const char *dst_vid, const struct drive_link *links,
                     size_t n);
/* Removes the temporary area of `vid` (a write that did not commit). Absent is fine. */
int drive_tmp_remove(struct drive *d, const char *vid);

/*
 * Commits a version: if `m` is not inline, moves tmp/<vid> into data/<vid>
 * (rename, then fsync of the parent folder); then writes the index record
 * (through the drive's group committer: returns once it is on stable storage,
 * when sync is on). Committing a version whose data folder already exists
 * (healing a corrupt copy) swaps the new folder in atomically. The record replaces the key's
 * previous version, whose data folder is then removed. -ERR_NOT_FOUND if the bucket is missing, or
 * if `m` is not inline and `vid` has neither shards in tmp nor committed ones
 * (committing the same version twice is fine). -ERR_INVAL if `m` fails
 * objmeta_validate(). On failure the shards stay in tmp (drive_tmp_remove()).
 */
int drive_meta_commit(struct drive *d, const char *bucket, const char *key,
                      const struct obj_meta *m);
/* Completion of an asynchronous drive call: `rc` as the synchronous call would return. */
typedef void drive_done_fn(void *arg, int rc);
/*
 * drive_meta_commit() without waiting: returns at once and calls
 * `done(arg, rc)` exactly once, on another thread (the drive's committer) or
 * before returning (offline drive, invalid record, or a drive without an
 * asynchronous path). `bucket`, `key` and `m` are borrowed until `done` runs.
 * Lets one request thread commit on every drive of a set without a thread
 * per drive waiting on each group commit.
 */
void drive_meta_commit_async(struct drive *d, const char *bucket, const char *key,
                             const struct obj_meta *m, drive_done_fn *done, void *arg);
/*
 * drive_meta_commit() that answers the record it replaced in the same call
 * (for a remote drive: one round trip, no read first), and keeps version
 * order: the commit is refused when the key's current record is another
 * version at least as new as `m` (its mtime_ns >= m->mtime_ns), which a
 * writer whose clock runs behind would otherwise hide. Returns 0
 * (committed) or -ERR_EXISTS (refused: nothing changed), and in both cases
 * `*had_prev` and `prev` (initialized by the caller): the record the key
 * held (a record that fails its checksum counts as none). Other errors as
 * drive_meta_commit(); `prev` and `*had_prev` are then unchanged. Blocks;
 * the caller holds the key's name lock (the local drive checks and commits
 * in one index transaction; drives without their own answer read, then commit).
 */
int drive_meta_replace(struct drive *d, const char *bucket, const char *key,
                       const struct obj_meta *m, struct obj_meta *prev, bool *had_prev);
/* Reads the current record of `key`. `out` initialized by the caller. */
int drive_meta_read(struct drive *d, const char *bucket, const char *key, struct obj_meta *out);

/*
 * Batched record calls: one key on several drives in one go. The drives
 * one call reaches together are those with the same drive_host() (the
 * drives of one other node; this node's own drives): the object layer fans
 * out one call per host (object/quorum.c object__run_hosts) instead of one
 * per drive. drive_host() is NULL for a drive that shares none (in-memory
 * and test drives).
 */
const void *drive_host(const struct drive *d);
/*
 * One drive's part of a batched call: `d` and `m` set by the caller, `out`
 * initialized by the caller (or NULL for a replace that does not want the
 * previous record); `rc`, `had` and *out written by the call.
 */
struct drive_meta_op {
    struct drive *d;
    const struct obj_meta *m; /* replace: the record to commit */
    struct obj_meta *out;     /* replace: the record replaced; read: the record */
    bool had;                 /* replace: the key held a record (drive_meta_replace's had_prev) */
    int rc;                   /* the drive's result, as the single call would answer */
};
/*
 * drive_meta_replace() of ops[i].m on each ops[i].d, as n calls would do,
 * with each drive's own result: the drives of another node in one round
 * trip (a node of an older version, without the route, gets one call per
 * drive), this node's drives committed in parallel (one wait for their
 * group commits), others one after the other. Blocks; the caller holds the
 * key's name lock. `ops[i].out` must be non-NULL.
 */
void drive_meta_replace_many(const char *bucket, const char *key, struct drive_meta_op *ops,
                             size_t n);
/* drive_meta_read() on each ops[i].d into ops[i].out, batched as above (`m` unused). */
void drive_meta_read_many(const char *bucket, const char *key, struct drive_meta_op *ops, size_t n);
/*
 * Deletes `key`'s record and its data folder. With `vid` non-NULL, only if the
 * current version is `vid` (else -ERR_NOT_FOUND): used to roll back a write
 * that missed quorum.
 */
int drive_meta_delete(struct drive *d, const char *bucket, const char *key, const char *vid);
/*
 * drive_meta_delete() without waiting, as drive_meta_commit_async() is to
 * drive_meta_commit(): returns at once and calls `done(arg, rc)` exactly
 * once, on another thread or before returning (offline drive, or a drive
 * without an asynchronous path). A local drive queues it to its group
 * committer, in order with the commits queued before and after it, so a
 * DELETE costs no I/O thread waiting on a group commit. `bucket`, `key` and
 * `vid` are borrowed until `done` runs.
 */
void drive_meta_delete_async(struct drive *d, const char *bucket, const char *key, const char *vid,
                             drive_done_fn *done, void *arg);

/*
 * Calls `cb` for each key of `bucket` that starts with `prefix` and sorts
 * strictly after `after` (byte order), in byte order, at most `limit` times
 * (0 = no limit). -ERR_NOT_FOUND if the bucket is missing. `cb` may call
 * other functions of the drive, but not drive_reset() or drive_close().
 */
int drive_list(struct drive *d, const char *bucket, struct slice prefix, struct slice after,
               unsigned limit, drive_list_fn *cb, void *arg);

/*
 * The node's journal: small persistent sets of items by name (the heal queue
 * of what could not be healed yet, the scanner's place), kept on a drive of
 * this node (local and in-memory drives; others answer -ERR_NOT_IMPLEMENTED).
 * An update removes the items of `del` (an absent one is fine), then adds
 * those of `put`, in one transaction, durable when it returns. A listing gives
 * the items of `name` after `after`, in byte order, at most `limit` (0: all);
 * `cb` returns 0 to go on, non-zero to stop. Items are at most 4 KiB.
 */
typedef int drive_journal_fn(void *arg, struct slice item);
int drive_journal_update(struct drive *d, const char *name, const struct slice *put, size_t nput,
                         const struct slice *del, size_t ndel);
int drive_journal_list(struct drive *d, const char *name, struct slice after, unsigned limit,
                       drive_journal_fn *cb, void *arg);

/*
 * Deletes the records of keys[0..n) of `bucket` and their data folders, as
 * n calls of drive_meta_delete(d, bucket, keys[i], NULL) would, each key's
 * result in rcs[i] (0, -ERR_NOT_FOUND, ...). A local drive applies them all
 * in one index transaction (one fsync), the removed versions' data folders
 * then going to trash/ as drive_meta_delete() sends them; other drives
 * delete them one by one. Returns 0 once every rcs[i] is written, or an
 * error of the whole call (-ERR_OFFLINE, -ERR_NOT_IMPLEMENTED never), then
 * also written into every rcs[i]. A key given twice: the second finds it
 * gone. `keys` borrowed for the call.
 */
int drive_meta_delete_many(struct drive *d, const char *bucket, const char *const *keys, size_t n,
                           int *rcs);

#endif

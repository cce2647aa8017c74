/*
 * object/objlayer.h: the object layer (DESIGN.md): drives grouped into
 * erasure sets; objects spread over sets by a stable hash of bucket and key;
 * quorum reads, writes and deletes; healing; merged listings.
 *
 * Every function here may block on drive I/O; call from request threads
 * (libmicrohttpd connection threads), never while holding a lock.
 *
 * Errors are the generic symbols of util/errors.def; s3/ refines them
 * (-ERR_NOT_FOUND on a bucket lookup becomes NoSuchBucket). Specific ones:
 * -ERR_BUCKET_NOT_FOUND, -ERR_BUCKET_EXISTS, -ERR_NOT_EMPTY,
 * -ERR_KEY_NOT_FOUND, -ERR_QUORUM (not enough drives answered),
 * -ERR_BAD_DIGEST (Content-MD5 mismatch), -ERR_INCOMPLETE_BODY.
 */
#ifndef BASALT_OBJECT_OBJLAYER_H
#define BASALT_OBJECT_OBJLAYER_H

#include "util/base.h"

#include "object/objinfo.h"
#include "util/reqctx.h"
#include "util/buf.h"
#include "util/slice.h"

struct objlayer;
struct obj_put;
struct obj_get;
struct drive;        /* storage/drive.h: only tests pass drives in (objlayer_config.prebuilt) */
struct lock_service; /* cluster/lock.h */
struct metrics;      /* obs/metrics.h */

/*
 * Tells the other nodes of a cluster that something changed (`topic`
 * "bucket", `name` the bucket): they call objlayer_bucket_changed(). Called
 * after the change is on the drives, on the thread that made it; must not
 * block for long (a bounded broadcast).
 */
typedef void objlayer_notify_fn(void *arg, const char *topic, const char *name);

/*
 * Called while opening is waiting for other nodes (their drives to answer,
 * the first node to format a fresh deployment), about once a second with a
 * sentence saying what for: returns 0 to go on waiting (after a pause of
 * its own, about a second), < 0 to give up (the open then fails).
 */
typedef int objlayer_wait_fn(void *arg, const char *waiting_for);
/* Whether node `node` (of scan_shares) answers now, as this node last saw it. */
typedef bool objlayer_online_fn(void *arg, unsigned node);

/*
 * A pool: a run of consecutive drives (of `drives` or `prebuilt`) split into
 * erasure sets of its own size. A deployment grows by adding a pool; every
 * object lives in one pool (placement.c).
 */
struct objlayer_pool {
    size_t ndrives;
    unsigned set_size; /* 0: choose (the largest of 16..2 that divides ndrives) */
    unsigned parity;   /* 0: default for the set size (2: 1, 4-5: 2, 6-7: 3, 8+: 4) */
};

struct objlayer_config {
    const char *const *drives; /* drive folders, in the order given on the command line */
    size_t ndrives;
    bool sync;         /* fsync before acknowledging (default true) */
    unsigned set_size; /* without `pools`: of the one pool of all the drives, as below */
    unsigned parity;
    /* The pools, in order, their drive counts adding up to ndrives; NULL: one pool. */
    const struct objlayer_pool *pools;
    size_t npools;
    /* Multipart uploads untouched for this long are aborted (0: 24 hours). */
    int64_t stale_upload_ns;
    /*
     * The lock service of the name locks (cluster/lock.h), borrowed: the
     * cluster's quorum service. NULL: the layer makes a local one.
     */
    struct lock_service *locks;
    objlayer_notify_fn *notify; /* NULL: one node, nobody to tell */
    void *notify_arg;
    /*
     * A deployment with no formatted drive: this node formats it
     * (`format_fresh`: single-node mode, and the first node of a cluster),
     * or waits for `formatter` (its name, for the message) to do it. A fresh
     * deployment is formatted only once every drive answers.
     */
    bool format_fresh;
    const char *formatter;
    objlayer_wait_fn *wait; /* NULL: fail instead of waiting */
    void *wait_arg;
    /*
     * The background scanner (object/scanner.c) looks at the keys whose hash
     * modulo `scan_shares` is `scan_share` (a cluster: this node's index and
     * the node count; 0 and 0 or 1: all), one cycle every
     * `scan_interval_ns` (0: an hour).
     */
    unsigned scan_share, scan_shares;
    int64_t scan_interval_ns;
    /*
     * A cluster: whether another node answers. A node that does not has its
     * share scanned by the next node (in index order, wrapping) that does,
     * and the deployment-wide chores (stale uploads) are done by the first
     * node that answers. NULL: every other node counts as up.
     */
    objlayer_online_fn *node_online;
    void *node_online_arg;
    /*
     * A call to one of this node's drives that has not returned after this
     * long makes the drive hung: offline until its calls return (0: 30 s;
     * monitor.c).
     */
    int64_t drive_timeout_ns;
    /* Tests may pass drives already opened (drive_mem_new, drive_faulty_new): */
    struct drive **prebuilt; /* NULL, or ndrives drives; ownership passes to the layer */
};

/*
 * Opens every drive, reads or writes format.json (formatting fresh drives
 * when none is formatted; formatting a replaced, empty drive back into its
 * place), runs the codec self-check and starts the I/O queues and the heal
 * worker. Returns 0 and `*out`, or a negative error with the reason in
 * `errmsg` (the server prints it and exits).
 */
int objlayer_open(const struct objlayer_config *cfg, struct objlayer **out, struct buf *errmsg);
void objlayer_close(struct objlayer *ol);

/* Description for the start-up banner: "1 set of 4 drives, EC 2+2". */
void objlayer_describe(struct objlayer *ol, struct buf *out);

/* Buckets. Names are validated by s3/ before these are called. */
int objlayer_bucket_make(struct objlayer *ol, const struct reqctx *ctx,
                         const char *bucket); /* -ERR_BUCKET_EXISTS */
int objlayer_bucket_delete(struct objlayer *ol, const struct reqctx *ctx,
                           const char *bucket); /* -ERR_BUCKET_NOT_FOUND, -ERR_NOT_EMPTY */
int objlayer_bucket_stat(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                         int64_t *created_ns);
/* All buckets sorted by name; `*out` malloc'd. */
struct obj_bucket {
    char name[64];
    int64_t created_ns;
};
int objlayer_bucket_list(struct objlayer *ol, const struct reqctx *ctx, struct obj_bucket **out,
                         size_t *n);

/*
 * PUT, streaming (push): begin, write the body in pieces of any size, finish.
 * Memory is bounded by a block per shard, whatever the object size.
 */
/*
 * A condition on the current version of the key (conditional writes and
 * deletes), checked by the object layer under the key's lock at the commit
 * or the delete. It is data, not a callback: no caller's code runs while the
 * lock is held (DESIGN.md "Locks"). obj_cond_check() says what it gives.
 */
struct obj_cond {
    bool if_none_match; /* If-None-Match: *: the key must not exist */
    /*
     * If-Match: the current version's ETag must be in this list (ETags
     * separated by commas, each quoted or bare, or "*" for any); SLICE_NULL
     * when absent. Borrowed until the call returns.
     */
    struct slice if_match;
};
/*
 * Evaluates `c` against the current version's ETag (`etag`, hex without
 * quotes; NULL when the key does not exist): 0, -ERR_PRECONDITION_FAILED
 * (exists with If-None-Match, or an ETag not in the If-Match list), or
 * -ERR_KEY_NOT_FOUND (If-Match on a key that does not exist). A NULL `c` is 0.
 */
int obj_cond_check(const struct obj_cond *c, const char *etag);

struct obj_put_opts {
    int64_t size;                /* Content-Length, or -1 if unknown (chunked) */
    const struct obj_cond *cond; /* NULL, or the condition of a conditional write */
    const uint8_t *content_md5;  /* 16 bytes expected (Content-MD5), or NULL */
    /* Headers to store, "name\0value\0..." (util/hdrs.h); copied. */
    struct slice headers;
    /*
     * Storage class REDUCED_REDUNDANCY: one parity shard instead of the set's
     * default (MinIO's RRS default, EC:1), raised again for offline drives.
     */
    bool reduced_redundancy;
};
/* -ERR_BUCKET_NOT_FOUND, -ERR_QUORUM (too few drives online to write). */
int objlayer_put_begin(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                       const char *key, const struct obj_put_opts *opts, struct obj_put **out);
/* Sticky: after an error, only obj_put_abort() is allowed. */
int obj_put_write(struct obj_put *p, const void *data, size_t n);
/*
 * Adds a header to store (lowercase name), before obj_put_finish(): for what
 * is known only at the end of the body (a checksum sent as a trailer).
 */
void obj_put_add_header(struct obj_put *p, const char *name, struct slice value);
/*
 * Completes the write: checks the size (-ERR_INCOMPLETE_BODY if fewer bytes
 * than opts.size arrived) and Content-MD5 (-ERR_BAD_DIGEST), commits on the
 * drives and answers once write quorum committed (-ERR_QUORUM otherwise, with
 * what did commit rolled back). On success fills `info` (size, etag, mtime,
 * headers) if non-NULL. Frees `p` in every case.
 */
int obj_put_finish(struct obj_put *p, struct obj_info *info);
/* Drops the write: nothing becomes visible, temporary files are removed. Frees `p`. */
void obj_put_abort(struct obj_put *p);

/*
 * GET: open reads the metadata by quorum and fills `info` (initialized by the
 * caller); reads then return object bytes from any `k` good shards,
 * verifying every shard block and queueing the object for healing when a
 * shard is missing or corrupt. -ERR_BUCKET_NOT_FOUND, -ERR_KEY_NOT_FOUND,
 * -ERR_QUORUM.
 */
int objlayer_get_open(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                      const char *key, struct obj_get **out, struct obj_info *info);
/*
 * Reads up to `n` bytes at `off` (any offset; sequential reads are fast).
 * Returns the bytes read (0 at the end), or -ERR_QUORUM / -ERR_CORRUPT when
 * fewer than k good shards remain.
 */
ssize_t obj_get_read(struct obj_get *g, uint64_t off, void *dst, size_t n);
void obj_get_close(struct obj_get *g);

/* HEAD: metadata by quorum. */
int objlayer_head(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                  const char *key, struct obj_info *info);

/*
 * Changes stored headers of the current version of `key` without touching
 * its data (object tagging): each edit replaces header `name` with `value`,
 * or removes it (`value` NULL). Under the key's lock, reads the version by
 * quorum and rewrites every holding drive's own record with the new headers,
 * keeping the version id. Returns 0 once write quorum rewrote it;
 * -ERR_KEY_NOT_FOUND, -ERR_BUCKET_NOT_FOUND, -ERR_QUORUM. Implemented in
 * object/update.c.
 */
struct obj_header_edit {
    const char *name;  /* lowercase */
    const char *value; /* NULL: remove */
};
int objlayer_update_headers(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                            const char *key, const struct obj_header_edit *edits, size_t n);

/*
 * Bucket configuration documents (CORS, tagging; later policy, lifecycle,
 * versioning), by `name` ("cors", "tagging"): stored as system objects in the
 * reserved bucket, erasure coded like any object (DESIGN.md "A cluster"),
 * removed with their bucket. get: -ERR_NOT_FOUND when the bucket has none,
 * -ERR_BUCKET_NOT_FOUND. Implemented in object/bucketconfig.c.
 */
int objlayer_bucket_config_get(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                               const char *name, struct buf *out);
int objlayer_bucket_config_put(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                               const char *name, struct slice doc);
int objlayer_bucket_config_delete(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                                  const char *name);

/*
 * System objects of upper layers (object/sysobj.c): small documents such as
 * IAM's users and policies, kept in the reserved bucket as objects of their
 * own (erasure coded, quorum-read and healed like data; DESIGN.md "A
 * cluster"). Keys start with "iam/" and have no empty, "." or ".." segment
 * and no control character, else -ERR_INVAL; a document is at most 1 MiB
 * (-ERR_TOO_LARGE). get appends the document to `out`; get and delete answer
 * -ERR_NOT_FOUND when there is none. put replaces any previous document.
 * list calls `cb` with each key (NUL-terminated, borrowed for the call) that
 * starts with `prefix` (itself rooted as above, e.g. "iam/users/"), in byte
 * order, after the listing has ended (so `cb` may call objlayer_sys_get);
 * `cb` returns 0 to go on, 1 to stop, < 0 to abort with that error.
 */
typedef int objlayer_sys_fn(void *arg, const char *key);
int objlayer_sys_get(struct objlayer *ol, const struct reqctx *ctx, const char *key,
                     struct buf *out);
int objlayer_sys_put(struct objlayer *ol, const struct reqctx *ctx, const char *key,
                     struct slice doc);
int objlayer_sys_delete(struct objlayer *ol, const struct reqctx *ctx, const char *key);
int objlayer_sys_list(struct objlayer *ol, const struct reqctx *ctx, const char *prefix,
                      objlayer_sys_fn *cb, void *arg);

/*
 * Another node changed bucket `bucket` (objlayer_notify_fn): what this node
 * knows of it is dropped and read again from the drives on next use. Any
 * thread; no I/O.
 */
void objlayer_bucket_changed(struct objlayer *ol, const char *bucket);

/* Deletes `key` with delete quorum; -ERR_KEY_NOT_FOUND if absent, -ERR_BUCKET_NOT_FOUND. */
int objlayer_delete(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                    const char *key);
/*
 * The same, if `cond` holds (checked under the key's lock on the current
 * version, as for a conditional write); else its error (obj_cond_check), and
 * nothing is deleted. A NULL `cond` is objlayer_delete().
 */
int objlayer_delete_if(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                       const char *key, const struct obj_cond *cond);
/*
 * Deletes keys[0..n) of `bucket` (DeleteObjects), each if conds[i] holds
 * (`conds` NULL, or n conditions each possibly NULL), writing into rcs[i]
 * what objlayer_delete_if(keys[i], conds[i]) would return; a key given
 * twice acts as two calls in that order. The drives of a set delete the
 * whole batch in one index transaction each (object/delete.c). Returns 0,
 * or an error of the whole batch (-ERR_BUCKET_NOT_FOUND), then also in
 * every rcs[i]. Borrows `keys` and `conds` for the call.
 */
int objlayer_delete_many(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                         const char *const *keys, const struct obj_cond *const *conds, size_t n,
                         int *rcs);

/*
 * Listing: keys of `bucket` that start with `prefix` and sort strictly after
 * `after`, in byte order, merged over the drives and sets, each key once
 * (present on at least read quorum of its set's drives), at most `limit`
 * (0 = no limit). `cb` returns 0 to go on, 1 to stop, < 0 to abort.
 */
struct obj_list_ent {
    struct slice key;
    uint64_t size;
    int64_t mtime_ns;
    const char *etag;
    bool reduced; /* written with reduced redundancy (storage class) */
};
typedef int obj_list_fn(void *arg, const struct obj_list_ent *ent);
int objlayer_list(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                  struct slice prefix, struct slice after, unsigned limit, obj_list_fn *cb,
                  void *arg);

/*
 * Multipart uploads (object/multipart.c). An upload fixes the erasure set and
 * layout of the object to be; each part is written like an object of its own
 * (streaming, erasure coded, committed with quorum) and completion turns the
 * chosen parts into the shard files of the new version without copying
 * (drive_shard_link), then commits it like a PUT. Upload ids are 32
 * lowercase hex characters; any other answers -ERR_NO_SUCH_UPLOAD.
 */
#define OBJ_MP_MIN_PART (5u << 20)   /* every part but the last: at least 5 MiB */
#define OBJ_MP_MAX_SIZE (5ull << 40) /* a multipart object: at most 5 TiB (S3) */
#define OBJ_MP_MAX_PARTS 10000       /* part numbers 1 .. 10,000 (S3) */

/* -ERR_BUCKET_NOT_FOUND, -ERR_QUORUM. `opts->headers` and storage class are kept for the object. */
int objlayer_mp_create(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                       const char *key, const struct obj_put_opts *opts,
                       char upload_id[OBJ_VID_LEN + 1]);
/*
 * Starts part `number` (1 .. 10,000) of an upload: then obj_put_write() and
 * obj_put_finish() as for a PUT (info->etag is the part's MD5). Uploading a
 * part number again replaces it. -ERR_NO_SUCH_UPLOAD, -ERR_QUORUM.
 */
int objlayer_mp_part_begin(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                           const char *key, const char *upload_id, unsigned number,
                           const struct obj_put_opts *opts, struct obj_put **out);
/* The upload's record (headers, initiation time in mtime_ns). -ERR_NO_SUCH_UPLOAD. */
int objlayer_mp_stat(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                     const char *key, const char *upload_id, struct obj_info *out);
/* A part the client names in CompleteMultipartUpload. */
struct obj_mp_part {
    unsigned number;
    char etag[36]; /* hex MD5, quotes removed */
};
/*
 * Completes the upload with `parts` (ascending numbers, each uploaded with
 * that ETag, all but the last >= OBJ_MP_MIN_PART): the object becomes the
 * new version of `key`; the upload and its parts are removed. Before the
 * commit, and before any lock is taken, `opts->edit(edit_arg, info)` (if
 * `opts` and `edit` are not NULL) sees the new version, with each part's
 * `checksum` taken from the part record's x-amz-checksum-<algo> header
 * ("<algo>:<value>"), and may change its headers (only them) or refuse (its
 * error is returned; nothing changes). On success fills `info` (ETag "<md5 of the
 * parts' md5s>-<n>"). -ERR_NO_SUCH_UPLOAD, -ERR_INVALID_PART_ORDER,
 * -ERR_INVALID_PART, -ERR_ENTITY_TOO_SMALL, -ERR_INVAL (no parts, too many),
 * -ERR_TOO_LARGE (over OBJ_MP_MAX_SIZE), -ERR_QUORUM.
 */
typedef int objlayer_edit_fn(void *arg, struct obj_info *info);
struct obj_complete_opts {
    objlayer_edit_fn *edit;
    void *edit_arg;
    const struct obj_cond *cond; /* as in struct obj_put_opts */
};
int objlayer_mp_complete(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                         const char *key, const char *upload_id, const struct obj_mp_part *parts,
                         size_t n, const struct obj_complete_opts *opts, struct obj_info *info);
/* Removes the upload and its parts. -ERR_NO_SUCH_UPLOAD. */
int objlayer_mp_abort(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                      const char *key, const char *upload_id);
/*
 * Parts of an upload numbered above `after`, ascending, at most `limit` (0:
 * all). With `checksums`, each part's record is read for its checksum
 * (part->checksum; one metadata read per part), else part->checksum is empty.
 */
typedef int obj_part_fn(void *arg, const struct obj_info_part *part, int64_t mtime_ns);
int objlayer_mp_list_parts(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                           const char *key, const char *upload_id, unsigned after, unsigned limit,
                           bool checksums, obj_part_fn *cb, void *arg);
/*
 * Uploads in progress in `bucket` whose key starts with `prefix`, ordered by
 * key then upload id (upload ids begin with their creation time, so this is
 * S3's order: by key, then by initiation time), after (`after_key`,
 * `after_id`): an empty `after_id` skips every upload of `after_key`. `cb`
 * gets the upload's storage class (`reduced`) and returns 0 to go on, 1 to stop.
 */
typedef int obj_upload_fn(void *arg, struct slice key, const char *upload_id, int64_t initiated_ns,
                          bool reduced);
int objlayer_mp_list_uploads(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                             struct slice prefix, struct slice after_key, const char *after_id,
                             obj_upload_fn *cb, void *arg);
/* Aborts the uploads of `bucket` (all of them when the bucket is deleted). */
int objlayer_mp_drop_bucket(struct objlayer *ol, const struct reqctx *ctx, const char *bucket);
/*
 * Aborts uploads initiated before `before_ns` and removes parts left by
 * uploads that no longer exist; the drive monitor runs it periodically with
 * the configured age. Returns the number of uploads removed.
 */
int objlayer_mp_cleanup(struct objlayer *ol, const struct reqctx *ctx, int64_t before_ns);

/*
 * Healing (on demand): for every bucket (or `bucket`), every object under
 * `prefix`: reads every drive's record and every shard (verifying hashes),
 * rewrites missing, stale or corrupt shards and records, recreates missing
 * buckets, removes dangling versions that can never be read. Fills the report.
 */
struct heal_report {
    uint64_t buckets_scanned, buckets_healed;
    uint64_t objects_scanned, objects_healed, objects_failed, objects_dangling_removed;
    uint64_t shards_missing, shards_corrupt, shards_fixed;
    uint64_t drives_formatted; /* replaced drives formatted back at start-up or during heal */
};
int objlayer_heal(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                  struct slice prefix, struct heal_report *r);
/* Heals one object (same as above, for one key). */
int objlayer_heal_object(struct objlayer *ol, const struct reqctx *ctx, const char *bucket,
                         const char *key, struct heal_report *r);

/*
 * Bytes of buffer memory one streaming PUT holds (its stripes of shard
 * buffers; a body of unknown length also copies its last block once): s3/
 * reserves this much from the server's memory budget per request, and
 * answers 503 SlowDown when the budget is spent.
 */
size_t objlayer_stream_mem(struct objlayer *ol);
/* The same for a streaming GET, which holds a block and one stripe. */
size_t objlayer_get_mem(struct objlayer *ol);

/*
 * Health, from the drives' online flags (no I/O): with `for_writes` false,
 * whether every set has read quorum (k drives) online; with true, whether
 * every set has write quorum online for new objects. With
 * `without_this_node`, counting only the other nodes' drives (would the
 * cluster still have quorum if this node went down for maintenance?).
 */
bool objlayer_has_quorum(struct objlayer *ol, bool for_writes, bool without_this_node);

/*
 * Background work of this node, for the admin API (basalt admin heal
 * --status): the whole heal running or last run (a drive formatted back, an
 * admin heal), the heal queue, the scanner's current and last cycle. `done`
 * says the deployment is whole as far as this node knows: no whole heal
 * running, nothing queued or parked for healing, every drive online, and a
 * scanner cycle that ended after the last heal found nothing below full
 * redundancy.
 */
struct objlayer_status {
    bool heal_running;
    uint64_t heal_scanned, heal_healed, heal_failed, heal_bytes_scanned, heal_bytes_healed;
    int64_t heal_started_ns, heal_finished_ns; /* wall clock; 0: never */
    uint64_t heal_total_estimate;              /* objects a whole heal walks (the last scans') */
    size_t queued, parked;
    unsigned drives_offline;
    bool scan_running;
    uint64_t scan_cycles, scan_scanned, scan_below, scan_bytes;
    int64_t scan_started_ns;
    uint64_t last_scan_total, last_scan_below;
    int64_t last_scan_end_ns, last_scan_duration_ns;
    bool done;
};
void objlayer_status(struct objlayer *ol, struct objlayer_status *out);

/* Per-drive state for the admin API: endpoint, online, set index. */
struct objlayer_drive_state {
    const char *endpoint;
    bool online;
    bool hung;    /* offline because a call to it stopped returning (sizes then 0) */
    bool local;   /* this node's (not another node's) */
    unsigned set; /* over all pools */
    unsigned pool;
    uint64_t total_bytes, free_bytes;
};
/* Fills up to `max` entries; returns the number of drives. */
size_t objlayer_drives(struct objlayer *ol, struct objlayer_drive_state *out, size_t max);

/*
 * Registers the layer's metrics (object/metrics.c: this node's drives,
 * online, capacity, free and used bytes, read at scrape time) in `m`, which
 * must not be exposed after objlayer_close. Start-up only, once.
 */
void objlayer_metrics_register(struct objlayer *ol, struct metrics *m);

#endif

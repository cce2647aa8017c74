/*
 * object/internal.h: structures shared by the files of the object layer.
 *
 * The floor (never calls an operation back; scripts/check-layers.sh):
 *   placement.c  pools and sets of a key, codecs, name and heal locks
 *   quorum.c     per-drive jobs run in parallel, and the one reduction of
 *                per-drive results under the quorum rules (STYLE 2.4)
 *   healq.c      the heal queue, parked items and their journal; commits in
 *                flight (so that reads and heals do not take them for damage)
 *   bucketmeta.c the bucket snapshot (names, configuration documents)
 *   objinfo.c    struct obj_info from records
 * The operations:
 *   api.c        the public entry points (request context around each)
 *   objlayer.c   open/close, pools and sets, status for the admin API
 *   bucket.c, bucketconfig.c  buckets and their configuration documents
 *   put.c        streaming PUT: encode, write shards, commit, roll back
 *   get.c        streaming GET/HEAD: quorum metadata, verified shard reads, decode
 *   list.c       listings merged over drives, sets and pools
 *   delete.c, update.c        DeleteObject; metadata edits (tagging)
 *   multipart.c  multipart uploads
 *   format.c     format.json of every pool, agreed at open
 *   heal.c       healing of objects, buckets and replaced drives
 *   monitor.c    the drive monitor and the hung-drive watch threads
 *   scanner.c    the background scanner
 */
#ifndef BASALT_OBJECT_INTERNAL_H
#define BASALT_OBJECT_INTERNAL_H

#include "util/base.h"

#include <pthread.h>
#include <stdatomic.h>

#include "cluster/lock.h"
#include "erasure/erasure.h"
#include "object/objlayer.h"
#include "storage/drive.h"
#include "util/bufpool.h"
#include "util/err.h"
#include "util/list.h"
#include "util/reqctx.h"
#include "util/workq.h"

#define OBJ_MAX_SET 16
#define OBJ_MAX_POOLS 64
#define OBJ_INLINE_MAX (128 * 1024) /* objects up to this size live in the index */
#define OBJ_IO_THREADS 12           /* I/O workers per drive (commits wait on group commit) */
#define OBJ_LOCK_WAIT_NS (10 * 1000000000LL)     /* longest wait for a name lock: then SlowDown */
#define OBJ_HEAL_LOCK_WAIT_NS (2 * 1000000000LL) /* for an object's heal lock: then later */
#define OBJ_HEAL_PARALLEL 8 /* objects a whole heal heals at once (heal.c, ol->healq) */
#define OBJ_PUT_STRIPES 3   /* shard buffers per streaming PUT (put.c flush_block) */
#define OBJ_BLOCK_POOL_BYTES (32u << 20) /* kept shard buffers of reads (ol->blocks) */
#define OBJ_BLOCK_POOL_MIN (64u << 10)   /* the smallest buffer it keeps */
#define OBJ_HEAL_QUEUE_MAX 10000
#define OBJ_HEAL_WAITING_MAX 100000 /* items parked until an offline drive is back */
#define OBJ_STALE_UPLOAD_NS (24 * 3600 * 1000000000LL) /* default age of stale uploads */

struct metric;        /* obs/metrics.h */
struct commit_flight; /* healq.c */

/* An erasure set: a fixed group of drives that store whole objects together. */
struct eset {
    unsigned idx;
    unsigned pool; /* the pool it belongs to */
    unsigned n;    /* drives in the set */
    unsigned k, m; /* default data and parity shards */
    struct drive *drives[OBJ_MAX_SET];
    struct workq *queues[OBJ_MAX_SET]; /* one I/O queue per drive */
    struct objlayer *ol;
};

/*
 * Bucket metadata in memory (bucket.c): documents and snapshots. A document
 * (a bucket configuration: CORS, tagging, ...) is immutable and refcounted,
 * shared by the snapshots that hold it.
 */
#define OBJ_BUCKET_DOCS 11                        /* kinds of documents: object__doc_index() */
#define OBJ_BUCKET_REFRESH_NS (10 * 1000000000LL) /* safety-net reread of the list and docs */
enum obj_doc_state { OBJ_DOC_UNKNOWN = 0, OBJ_DOC_NONE, OBJ_DOC_LOADED };

struct bucket_doc {
    _Atomic unsigned refs;
    size_t len;
    char text[]; /* len bytes, then a NUL */
};

struct bucket_rec {
    char name[64];
    int64_t created_ns;
    struct bucket_doc *docs[OBJ_BUCKET_DOCS]; /* OBJ_DOC_LOADED: the document */
    uint8_t doc_state[OBJ_BUCKET_DOCS];       /* enum obj_doc_state */
    int64_t doc_read_ns[OBJ_BUCKET_DOCS];     /* CLOCK_MONOTONIC, when read */
};

/* The buckets known to exist, sorted by name; immutable once published. */
struct bucket_snap {
    _Atomic unsigned refs;
    size_t n;
    struct bucket_rec recs[];
};

struct heal_item {
    struct list_node link;
    char *bucket;
    char *key;                   /* NULL: heal everything (a drive was formatted back) */
    bool journaled;              /* parked: in the journal until healed with every drive online */
    struct heal_item *park_next; /* parked: the next in its chain of ol->park_tab */
};

/* Progress of background work (scanner.c, heal.c): relaxed atomics, read for status. */
struct obj_progress {
    _Atomic uint64_t scanned, healed, failed, bytes_scanned, bytes_healed;
    _Atomic int64_t started_ns;  /* wall clock; 0: not running */
    _Atomic int64_t finished_ns; /* of the last run */
};

#define OBJ_SCAN_FIRST_NS (5 * 1000000000LL)       /* the first scan after start */
#define OBJ_SCAN_INTERVAL_NS (3600 * 1000000000LL) /* between cycles, by default */
#define OBJ_DRIVE_TIMEOUT_NS (30 * 1000000000LL)   /* a call older than this: drive hung */

/*
 * A pool: drives [first_drive, first_drive + ndrives) of the layer, in sets
 * [first_set, first_set + nsets) of set_size drives (set s holds the pool's
 * drives (s - first_set) * set_size ...).
 */
struct obj_pool {
    size_t first_drive, ndrives;
    unsigned first_set, nsets;
    unsigned set_size, parity;
    _Atomic uint64_t free_bytes; /* of its online drives, refreshed by the monitor */
};

struct objlayer {
    struct object_metrics *metrics; /* metrics.c: NULL until objlayer_metrics_register */
    unsigned nsets;
    struct eset *sets; /* every pool's, in pool order */
    unsigned npools;
    struct obj_pool *pools;
    size_t ndrives;
    struct drive **drives; /* in command-line order (pool after pool) */
    bool sync;
    char deployment_id[37];
    uint64_t drives_formatted;

    /* bucket metadata (bucket.c) */
    pthread_mutex_t bucket_mu;      /* serializes snapshot writers */
    pthread_mutex_t bucket_snap_mu; /* protects the pointer, for the load and reference only */
    struct bucket_snap *bucket_snap;
    _Atomic uint64_t bucket_gen;    /* bumped by every change heard of (stale reads are dropped) */
    int64_t next_bucket_refresh_ns; /* monitor thread only */
    objlayer_notify_fn *notify;     /* objlayer_config's: tells the other nodes */
    void *notify_arg;
    bool format_fresh;      /* objlayer_config's (format.c) */
    bool format_settled;    /* format.c: looked twice before formatting back */
    bool pool_added;        /* format.c: formatted a new pool of a deployment at open */
    const char *formatter;  /* objlayer_config's, borrowed during open */
    objlayer_wait_fn *wait; /* objlayer_config's, during open */
    void *wait_arg;

    struct bufpool *blocks; /* shard buffers of reads (get.c), recycled */
    struct workq *hashq;    /* hashing workers (PUTs' MD5, in batches: object__md5_batch) */
    struct workq *healq;    /* a whole heal's workers (heal.c): OBJ_HEAL_PARALLEL objects at once */
    pthread_mutex_t codec_mu; /* protects codecs */
    struct erasure *codecs[ERASURE_MAX_SHARDS + 1][ERASURE_MAX_SHARDS + 1];

    struct lock_service *locks; /* name locks (cluster/lock.h): local, or quorum in a cluster */
    bool own_locks;             /* made by objlayer_open (none was given): freed by close */
    pthread_mutex_t drive_mu;   /* serializes checking and formatting back replaced drives */
    bool *reattach_said;        /* per drive: drive_not_reattached logged (drive_mu) */

    pthread_mutex_t heal_mu; /* protects heal_queue, heal_len, heal_waiting, nwaiting, stopping */
    pthread_cond_t heal_cv;
    struct list_node heal_queue;
    size_t heal_len;
    struct list_node heal_waiting; /* healed while a drive of the set was offline: again later */
    size_t nwaiting;
    struct heal_item **park_tab; /* the parked items by bucket/key hash, each key once */
    /*
     * The journal mirror of the parked items (healq.c), so that a restart
     * does not forget them: changes gathered here (length-prefixed items,
     * protected by heal_mu) and written to `journal` (this node's first
     * drive, NULL if none keeps a journal) by the monitor every tick.
     */
    struct buf jput, jdel;
    struct drive *journal;
    int64_t heal_full_logged_ns; /* last "heal_queue_full" log line (relaxed atomics) */
    /*
     * Commits in flight (healq.c object__flight_*): per key, the drives whose
     * commit has not answered yet, so that neither a read nor a heal takes
     * one for a missing copy. Protected by flight_mu; flight_cv: one ended.
     */
    pthread_mutex_t flight_mu;
    pthread_cond_t flight_cv;
    struct commit_flight *flights;
    size_t nflights, flights_cap;
    /* queued heals that found nothing to repair (heal.c), and their metric (metrics.c) */
    _Atomic uint64_t heals_needless;
    struct metric *_Atomic heal_needless_metric;
    bool stopping;
    atomic_bool closing; /* set first by objlayer_close: long loops stop (read without a lock) */
    pthread_t heal_thread;
    pthread_t monitor_thread;
    pthread_t watch_thread;   /* the hung-drive watch (monitor.c) */
    pthread_cond_t watch_cv;  /* with heal_mu: wakes the watch to stop */
    int64_t drive_timeout_ns; /* a call older than this: the drive is hung */
    bool *bypassed;           /* per drive: its I/O queue bypassed (watch thread only) */
    pthread_t scanner_thread;

    /* the scanner (scanner.c); scan_asked and scan_cv under heal_mu */
    unsigned scan_share, scan_shares; /* this node's share of the keys, of how many */
    objlayer_online_fn *node_online;  /* objlayer_config's: shares of nodes that are down */
    void *node_online_arg;
    int64_t scan_interval_ns;
    bool scan_asked;
    pthread_cond_t scan_cv;
    struct buf scan_place;    /* scanner thread only: the journal's "bucket\0key" */
    struct obj_progress scan; /* the current cycle */
    _Atomic uint64_t scan_below, scan_cycles, scan_last_total, scan_last_below;
    _Atomic int64_t scan_last_end_ns, scan_last_duration_ns;
    struct obj_progress heal_job; /* the current or last whole heal (heal.c object__heal) */
    _Atomic int heal_jobs;        /* whole heals running */
    _Atomic int inflight;         /* entry points running (api.c): the scanner yields */
    int64_t stale_upload_ns;      /* multipart uploads older than this are aborted */
    int64_t next_mp_cleanup_ns;   /* monitor thread only */
    bool threads_started;
};

/* HEAD with the record itself (without inline data): objlayer_head()'s errors. */
int object__head_meta(struct objlayer *ol, const char *bucket, const char *key,
                      struct obj_meta *out);
/* The same, with the set that holds it (several pools: the one found). */
int object__head_meta_at(struct objlayer *ol, const char *bucket, const char *key,
                         struct obj_meta *out, struct eset **set);
/*
 * The operations behind the public entry points of objlayer.h, one each,
 * with the same contracts (see there); object/api.c scopes the caller's
 * request context around them. Called directly inside the layer.
 */
int object__bucket_stat(struct objlayer *ol, const char *bucket, int64_t *created_ns);
int object__bucket_make(struct objlayer *ol, const char *bucket);
int object__bucket_delete(struct objlayer *ol, const char *bucket);
int object__bucket_list(struct objlayer *ol, struct obj_bucket **out, size_t *n);
int object__bucket_config_get(struct objlayer *ol, const char *bucket, const char *name,
                              struct buf *out);
int object__bucket_config_put(struct objlayer *ol, const char *bucket, const char *name,
                              struct slice doc);
int object__bucket_config_delete(struct objlayer *ol, const char *bucket, const char *name);
int object__delete(struct objlayer *ol, const char *bucket, const char *key);
int object__delete_if(struct objlayer *ol, const char *bucket, const char *key,
                      const struct obj_cond *cond);
int object__delete_many(struct objlayer *ol, const char *bucket, const char *const *keys,
                        const struct obj_cond *const *conds, size_t n, int *rcs);
int object__head(struct objlayer *ol, const char *bucket, const char *key, struct obj_info *info);
int object__get_open(struct objlayer *ol, const char *bucket, const char *key, struct obj_get **out,
                     struct obj_info *info);
int object__heal_object(struct objlayer *ol, const char *bucket, const char *key,
                        struct heal_report *r);
int object__heal(struct objlayer *ol, const char *bucket, struct slice prefix,
                 struct heal_report *r);
int object__list_bucket(struct objlayer *ol, const char *bucket, struct slice prefix,
                        struct slice after, unsigned limit, obj_list_fn *cb, void *arg);
int object__mp_create(struct objlayer *ol, const char *bucket, const char *key,
                      const struct obj_put_opts *opts, char upload_id[OBJ_VID_LEN + 1]);
int object__mp_stat(struct objlayer *ol, const char *bucket, const char *key, const char *upload_id,
                    struct obj_info *out);
int object__mp_part_begin(struct objlayer *ol, const char *bucket, const char *key,
                          const char *upload_id, unsigned number, const struct obj_put_opts *opts,
                          struct obj_put **out);
int object__mp_complete(struct objlayer *ol, const char *bucket, const char *key,
                        const char *upload_id, const struct obj_mp_part *parts, size_t n,
                        const struct obj_complete_opts *opts, struct obj_info *info);
int object__mp_abort(struct objlayer *ol, const char *bucket, const char *key,
                     const char *upload_id);
int object__mp_list_parts(struct objlayer *ol, const char *bucket, const char *key,
                          const char *upload_id, unsigned after, unsigned limit, bool checksums,
                          obj_part_fn *cb, void *arg);
int object__mp_list_uploads(struct objlayer *ol, const char *bucket, struct slice prefix,
                            struct slice after_key, const char *after_id, obj_upload_fn *cb,
                            void *arg);
int object__mp_drop_bucket(struct objlayer *ol, const char *bucket);
int object__mp_cleanup(struct objlayer *ol, int64_t before_ns);
int object__update_headers(struct objlayer *ol, const char *bucket, const char *key,
                           const struct obj_header_edit *edits, size_t n);

/* The view of record `m` for upper layers (objinfo.c); `dst` initialized. */
void object__info_from_meta(struct obj_info *dst, const struct obj_meta *m);

/* The codec for k+m (built on first use, then shared). */
struct erasure *object__codec(struct objlayer *ol, unsigned k, unsigned m);
/* Layer drive `i`'s set and its slot in it. */
void object__drive_pos(const struct objlayer *ol, size_t i, struct eset **set, unsigned *slot);
/*
 * Placement over pools (placement.c). object__pool_set: the set of
 * bucket/key in pool `pool` (stable hash; a multipart record: its object's).
 * object__pick_set: in pool 0 (with one pool: the object's set, no I/O).
 */
struct eset *object__pool_set(struct objlayer *ol, unsigned pool, const char *bucket,
                              const char *key);
struct eset *object__pick_set(struct objlayer *ol, const char *bucket, const char *key);
/* Whether keys of `bucket` may live in any pool (several pools; not a system bucket but uploads).
 */
bool object__roams(const struct objlayer *ol, const char *bucket);
/*
 * The set holding bucket/key: with one pool (or a system bucket) its set,
 * without I/O, and 0; with several, a quorum read of its set in each pool:
 * 0 and the set of the pool with the newest version, else (*out then pool
 * 0's set) -ERR_KEY_NOT_FOUND, -ERR_BUCKET_NOT_FOUND, or -ERR_QUORUM when a
 * pool could not tell.
 */
int object__locate(struct objlayer *ol, const char *bucket, const char *key, struct eset **out);
/*
 * The set a write of bucket/key goes to: the object's, or for a new object
 * one of a pool picked at random weighted by free space among those whose
 * set can take it (object__locate's -ERR_QUORUM counts as new: the newest
 * version wins wherever it is).
 */
struct eset *object__place(struct objlayer *ol, const char *bucket, const char *key);
/*
 * The newest version of bucket/key in any pool but `skip_pool` (-1: none
 * skipped), a quorum read of each: 0, its record in `newest` (without inline
 * data; initialized by the caller) and its set in `*where`; or as
 * object__locate. `*holders` gets a bit per pool where a drive has a record
 * of the key, readable or not; `*any_unsure` (may be NULL) whether a pool
 * could not tell (below read quorum), even when another had a version.
 */
int object__pools_read(struct objlayer *ol, const char *bucket, const char *key, int skip_pool,
                       struct obj_meta *newest, struct eset **where, uint64_t *holders,
                       bool *any_unsure);
/* Each pool's free space from its online drives (the monitor, every tick; and at open). */
void object__pools_refresh(struct objlayer *ol);
/* A stable 64-bit hash of bucket/key, also used for the shard rotation. */
uint64_t object__hash(const char *bucket, const char *key);
/*
 * The name lock of bucket/key (a write lock of the lock service), held for a
 * commit, a delete, a metadata update or a heal's commit, never across data
 * I/O; of the bucket itself when `key` is NULL (making and deleting it): 0
 * and `*out`, or -ERR_BUSY (not granted within OBJ_LOCK_WAIT_NS or the
 * request's deadline: 503 SlowDown), -ERR_QUORUM (a cluster: too few nodes
 * answer for a majority; said at once, 503). Release with object__unlock().
 */
int object__lock(struct objlayer *ol, const char *bucket, const char *key, struct lock_held **out);
/*
 * Before a commit under the lock: -ERR_BUSY if the lock service says the
 * lock may have been lost meanwhile (a quorum lock cut off by a partition),
 * else 0.
 */
int object__lock_check(const struct lock_held *h);
void object__unlock(struct lock_held *h);

/* Quorum sizes of a set for an object with k data and m parity shards. */
unsigned object__write_quorum(unsigned k, unsigned m);
unsigned object__delete_quorum(unsigned n);

/*
 * Runs `fn(set, j, arg)` for every drive j of `set` with mask[j] true (NULL:
 * all drives), each on its drive's I/O queue, in parallel; waits for all;
 * writes each result into rcs[j] (-ERR_OFFLINE for drives skipped or offline).
 */
typedef int set_job_fn(struct eset *set, unsigned j, void *arg);
void object__run(struct eset *set, const bool *mask, set_job_fn *fn, void *arg, int *rcs);

/* One drive's job of a parallel run, on that drive's I/O queue. */
struct set_job {
    struct work w;
    const struct reqctx *ctx; /* the submitter's, entered around fn on the worker */
    struct eset *set;
    unsigned j;
    set_job_fn *fn;
    void *arg;
    int *rc;
    struct latch *latch;
};

/*
 * A parallel run in flight, for callers that work while the drives do
 * (the PUT pipeline): object__start() submits like object__run() and returns;
 * object__wait() waits for every job. `rcs` must stay valid until the wait.
 */
struct set_batch {
    struct set_job jobs[OBJ_MAX_SET];
    struct latch latch;
    unsigned n; /* jobs submitted and not yet waited for */
};
void object__start(struct eset *set, const bool *mask, set_job_fn *fn, void *arg, int *rcs,
                   struct set_batch *b);
void object__wait(struct set_batch *b);

/*
 * Like object__run, for cheap metadata calls (index lookups): when no drive
 * of the set is remote they run one after the other on the calling thread,
 * since a lookup in a local SQLite index costs microseconds and a hand-off
 * to an I/O thread and back costs more (two context switches per drive).
 */
void object__run_meta(struct eset *set, const bool *mask, set_job_fn *fn, void *arg, int *rcs);
/*
 * The same jobs one after the other on the calling thread, whatever the
 * drives: for jobs that do no drive I/O (an inline object's shards, copied
 * and verified from the records already read).
 */
void object__run_here(struct eset *set, const bool *mask, set_job_fn *fn, void *arg, int *rcs);
/*
 * Runs `fn(set, js, n, arg, rcs)` once per host (storage/drive.h
 * drive_host(): the drives of one node) for the drives j of `set` with
 * mask[j] true (NULL: all) and online, js[0..n) those of the host, which
 * fn answers with one batched call (drive_meta_replace_many, ...): other
 * nodes' groups on the I/O queue of their first drive, in parallel, but the
 * last one, which the calling thread runs after this node's (and those of
 * drives without a host, alone), instead of only waiting: a GET that asks
 * one other node hands nothing to another thread. Waits for all. fn writes rcs[js[i]]; rcs[j] is
 * -ERR_OFFLINE for drives skipped or offline. For sets with remote drives: one call per node
 * instead of one per drive, and a hand-off per node but one.
 */
typedef void set_hosts_fn(struct eset *set, const unsigned *js, unsigned n, void *arg, int *rcs);
void object__run_hosts(struct eset *set, const bool *mask, set_hosts_fn *fn, void *arg, int *rcs);
/* Whether a drive of `set` is another node's (drive_is_remote). */
bool object__set_has_remote(const struct eset *set);

/*
 * The one reduction of per-drive results (STYLE 2.4): returns 0 when at least
 * `quorum` drives succeeded; -ERR_NOT_FOUND when `notfound_quorum` drives
 * answered not found; else -ERR_QUORUM.
 */
int object__reduce(const int *rcs, unsigned n, unsigned quorum, unsigned notfound_quorum);
/* How many of rcs[0..n) succeeded (`want` 0) or answered exactly `want` (an -ERR_*). */
unsigned object__count_rc(const int *rcs, unsigned n, int want);

/*
 * Reads the metadata of bucket/key from every drive of `set` into metas[]
 * (initialized by the caller), rcs[] per drive, and picks the version to
 * serve: the newest one held by at least its k drives. Returns the index of a
 * drive holding it, -ERR_KEY_NOT_FOUND, -ERR_BUCKET_NOT_FOUND or -ERR_QUORUM.
 * `agree[j]` is set for the drives that hold the chosen version.
 */
/*
 * The same for a GET or HEAD, asking first only as many drives (this node's,
 * then others') as a committed version or delete must show on: when they all
 * hold the same inline version, k copies of it, the others are not asked
 * (their rcs[] say -ERR_OFFLINE; nothing is known to heal there); else (a
 * miss too: a drive formatted back says "not found" to everything) the
 * others are asked and the full rules apply. Two of a 4+4 set's 6 remote
 * reads for a small object, instead of 6; in a set of local drives, those
 * holding the data shards: two index lookups of a 2+2 set instead of 4.
 */
int object__read_metas_fast(struct eset *set, const char *bucket, const char *key,
                            struct obj_meta *metas, int *rcs, bool *agree);
int object__read_metas(struct eset *set, const char *bucket, const char *key,
                       struct obj_meta *metas, int *rcs, bool *agree);
bool object__same_version(const struct obj_meta *a, const struct obj_meta *b);
/*
 * The condition of a conditional write or delete on the current version of
 * bucket/key; the caller holds the key's name lock. obj_cond_check()'s
 * result, or the read's error (-ERR_QUORUM...).
 */
int object__check_cond(struct eset *set, const char *bucket, const char *key,
                       const struct obj_cond *cond);

/*
 * put.c, for multipart uploads: a PUT with the layout of `layout` (k, m,
 * dist: the upload's) that always writes shard files (a part); and the commit
 * of `meta` whose shard files were staged in tmp on the drives with
 * staged[j] (drive_shard_link) of `set`, with a PUT's quorum and rollback
 * rules. A PUT goes to `set`, or with NULL where object__place() says.
 */
int object__put_begin(struct objlayer *ol, const char *bucket, const char *key,
                      const struct obj_put_opts *opts, const struct obj_meta *layout,
                      struct eset *set, struct obj_put **out);
int object__commit_staged(struct objlayer *ol, const char *bucket, const char *key,
                          const struct obj_meta *meta, const bool *staged, struct eset *set,
                          const struct obj_cond *cond);
/* The batch function of ol->hashq: MD5 of the blocks of several PUTs at once. */
void object__md5_batch(struct work **w, unsigned n);

/* multipart.c: the system bucket of uploads and parts, and placement of its keys. */
#define OBJ_MP_BUCKET ".basalt.multipart"
#define OBJ_MP_SEP '\x01' /* between key, upload id and part number in OBJ_MP_BUCKET's keys */
/*
 * For a key of OBJ_MP_BUCKET ("u/<bucket>/<key>\x01..." or
 * "p/<bucket>/<key>\x01..."), the bucket and key of the object it belongs
 * to, so that uploads and parts live in that object's set. False otherwise.
 */
bool object__mp_owner(const char *bucket, const char *key, struct slice *ob, struct slice *ok);
/* Creates the system bucket on every drive that lacks it (at open). */
void object__mp_init(struct objlayer *ol);

/* Whether a bucket exists (on read quorum of the drives of set 0... of any set). */
int object__bucket_check(struct objlayer *ol, const char *bucket);

/* bucket.c: the bucket snapshot. */
void object__buckets_init(struct objlayer *ol);
void object__buckets_release(struct objlayer *ol);
/* The current snapshot: a new reference (object__snap_unref). Any thread, no I/O. */
struct bucket_snap *object__snap_get(struct objlayer *ol);
void object__snap_unref(struct bucket_snap *s);
/* Bucket `bucket`'s record in `s`, borrowed from `s`, or NULL. */
const struct bucket_rec *object__snap_find(const struct bucket_snap *s, const char *bucket);
/* A document of `text` (copied), one reference; unref NULL is fine. */
struct bucket_doc *object__doc_new(struct slice text);
void object__doc_unref(struct bucket_doc *d);
/*
 * Records document kind `doc` of `bucket` as `d` (NULL: the bucket has none),
 * read when the change counter was `gen`: kept only if nothing changed since
 * (else a concurrent change could be overwritten by what was read before
 * it). Borrows `d` (the snapshot takes its own reference).
 */
void object__snap_set_doc(struct objlayer *ol, const char *bucket, unsigned doc,
                          struct bucket_doc *d, uint64_t gen);
/*
 * Bucket `bucket` changed (made, deleted, a document put or deleted): it is
 * dropped from the snapshot and read again on next use; with `tell_peers`
 * the other nodes hear of it (objlayer_config.notify).
 */
void object__bucket_changed(struct objlayer *ol, const char *bucket, bool tell_peers);
/*
 * Every bucket read quorum of set 0's drives hold, sorted, system buckets
 * included (`*out` malloc'd); -ERR_QUORUM.
 */
int object__bucket_read_list(struct objlayer *ol, struct obj_bucket **out, size_t *n);
/*
 * Replaces the snapshot by a list read from the drives (the change counter
 * `gen` read before it: dropped if anything changed meanwhile).
 */
void object__snap_rebuild(struct objlayer *ol, const struct obj_bucket *b, size_t n, uint64_t gen);
/* The bucket on the drives (quorum of set 0), added to the snapshot when found. */
int object__bucket_stat_drives(struct objlayer *ol, const char *bucket, int64_t *created_ns);
/* Reads the bucket list from the drives into the snapshot (the monitor's safety net). */
void object__bucket_refresh(struct objlayer *ol);
/* The index of a document kind ("cors", "tagging", ...), or -1 for one that is not cached. */
int object__doc_index(const char *name);

/*
 * Merged listing over all drives of all sets; keys present on at least
 * `min_count` drives of their set (0: the set's k).
 */
int object__list(struct objlayer *ol, const char *bucket, struct slice prefix, struct slice after,
                 unsigned limit, unsigned min_count, obj_list_fn *cb, void *arg);

/* A GET in progress (get.c); heal.c reuses it to read good shards. */
struct obj_get {
    struct objlayer *ol;
    const struct reqctx *ctx; /* of the call that opened it (borrowed; util/reqctx.h) */
    struct eset *set;
    struct erasure *codec;
    char *bucket, *key;
    struct obj_meta metas[OBJ_MAX_SET];
    int rcs[OBJ_MAX_SET];
    bool agree[OBJ_MAX_SET];
    bool bad[OBJ_MAX_SET]; /* drive failed a read of this object */
    const struct obj_meta *m;
    uint8_t *shards[OBJ_MAX_SET];   /* hash + shard bytes, by shard number (from ol->blocks) */
    size_t shard_caps[OBJ_MAX_SET]; /* their capacities */
    /*
     * open shard files of part `reader_part` (0-based), by drive: held so
     * that an overwrite cannot cut the stream (of a multipart object, only
     * the part being read is held)
     */
    struct shard_reader *readers[OBJ_MAX_SET];
    unsigned reader_part;
    unsigned cur_part; /* the block in the shard buffers: part and block in it */
    uint64_t cur_blk;
    size_t cur_len;       /* its length */
    size_t cur_shard_len; /* S, the bytes of it each data shard holds */
    bool heal;
    bool fast; /* a GET or HEAD: object__read_metas_fast() (not for a heal or the scanner) */
    /* per-fetch state for the jobs */
    unsigned fetch_part;
    uint64_t fetch_off;
    size_t fetch_len; /* hash + S */
};

struct obj_get *object__get_new(struct objlayer *ol, const char *bucket, const char *key);
void object__get_free(struct obj_get *g);
/* Reads the records and picks the version (sets g->m, agree[], heal). */
int object__get_open_meta(struct obj_get *g);
/*
 * Fetches block `blk` of part `part` (0 for an object of one PUT) from k good
 * shards (skipping drives marked bad[]) and decodes it: the block is then
 * g->shards[0..k-1] one after the other, g->cur_shard_len bytes each after
 * the hash (the last shard padded). With `all`, every shard (data and parity)
 * is rebuilt into g->shards (the hash in front of rebuilt shards is not
 * recomputed).
 */
int object__load_block(struct obj_get *g, unsigned part, uint64_t blk, bool all);

/*
 * The erasure-coded streams of a version: one per part of a multipart object
 * (shard file part + 1), else one of the whole object (shard file 1).
 */
unsigned object__nstreams(const struct obj_meta *m);
uint64_t object__stream_size(const struct obj_meta *m, unsigned part);

/*
 * format.c: reads every drive's format.json, formats a fresh deployment, a
 * fresh pool or drives found empty, checks every drive's pool and slot;
 * fills each pool's geometry (set size, parity, set count) and the
 * deployment id. 0, or an error with the reason in `errmsg`.
 */
int object__agree_format(struct objlayer *ol, struct buf *errmsg);
/* Rewrites the format.json of drive `pos` (command-line order) from another drive's. */
int object__format_back(struct objlayer *ol, size_t pos);
/*
 * drive_accept_fn for drive_reopen(): 0 if the format.json `text` is drive
 * `pos` of this deployment, else an error and the reason in `why`.
 */
struct format_check {
    struct objlayer *ol;
    size_t pos;
    struct buf why;
};
int object__format_is_drive(void *arg, struct slice text);
/* scanner.c */
void *object__scanner_main(void *arg);
/* Whether node `node` answers (this one does; objlayer_config.node_online). */
bool object__node_up(const struct objlayer *ol, unsigned node);
/* Starts a scanner cycle soon (after a whole heal: to confirm nothing is left below). */
void object__scan_soon(struct objlayer *ol);

/*
 * healq.c: the heal queue. Enqueue: a key to heal (NULL key: everything of
 * `bucket`, or of every bucket with a NULL bucket). Dequeue: blocks until an
 * item comes (free it with object__heal_item_free) or the layer stops (NULL).
 */
void object__heal_enqueue(struct objlayer *ol, const char *bucket, const char *key);
/* Whether a drive of a set bucket/key may live in (each pool's) is offline: its heal waits. */
bool object__key_misses_a_drive(struct objlayer *ol, const char *bucket, const char *key);
struct heal_item *object__heal_dequeue(struct objlayer *ol);
/*
 * Commits in flight. A PUT answers once write quorum committed, and the
 * last drives commit after it (put.c commit_all): until they answer, their
 * records are the old ones, and a read or a heal must not take that for a
 * missing copy (a commit that fails queues the heal itself). begin: the
 * drives of `mask` start committing bucket/key in `set`; end: drive j
 * answered. in_flight: which drives of `set` commit bucket/key now (into
 * `mask`), true if any. settle: waits until no commit of bucket/key is in
 * flight or `deadline_ns` (clock_mono_ns) passes; false then.
 */
void object__flight_begin(struct objlayer *ol, const struct eset *set, const char *bucket,
                          const char *key, const bool *mask);
void object__flight_end(struct objlayer *ol, const struct eset *set, const char *bucket,
                        const char *key, unsigned j);
bool object__flight_in(struct objlayer *ol, const struct eset *set, const char *bucket,
                       const char *key, bool *mask);
bool object__flight_settle(struct objlayer *ol, const char *bucket, const char *key,
                           int64_t deadline_ns);
/* A queued heal found nothing to repair: counted (objlayer metric basalt_heal_needless_total). */
void object__heal_needless(struct objlayer *ol);
void object__heal_item_free(struct heal_item *it);
/*
 * Parks an item that was healed while a drive of its set was offline (that
 * drive may still miss what the item is about): it is queued again, with
 * every parked item, by object__heal_wake() when a drive comes back. Takes
 * the item (dropped, and said, past OBJ_HEAL_WAITING_MAX: the scanner finds
 * it later).
 */
void object__heal_park(struct objlayer *ol, struct heal_item *it);
void object__heal_wake(struct objlayer *ol);
/* A parked item was healed with every drive online: it leaves the journal. Takes `it`. */
void object__heal_done(struct objlayer *ol, struct heal_item *it);
/* Writes the gathered journal changes (the monitor, every tick; and at close). */
void object__heal_flush(struct objlayer *ol);
/* At open: picks the journal drive and parks what a previous run had parked. */
void object__heal_load(struct objlayer *ol);
/*
 * heal.c: a replaced drive of this node (position `pos`) formatted back (1),
 * its own disk remounted and taken back (2), or nothing to do (0).
 */
int object__heal_drive(struct objlayer *ol, size_t pos);
/*
 * Every bucket any drive holds, healed: made on the drives that lack it when
 * a quorum holds it (a pool just added), removed from those that still hold
 * it when a quorum says it was deleted (while they were away), in each set
 * where fewer than k drives may hold it (nothing of it readable there).
 */
void object__heal_buckets(struct objlayer *ol);
void *object__heal_main(void *arg);
void *object__monitor_main(void *arg);
void *object__watch_main(void *arg);

/* metrics.c: frees what objlayer_metrics_register kept (objlayer_close). */
void object__metrics_free(struct objlayer *ol);
/*
 * metrics.c: one bucket's usage as a whole scanner cycle counted it (this
 * node's share of the keys): objects, their bytes, their versions (one per
 * object: no versioning), and how many fall in each size range of
 * object__usage_size_range().
 */
#define OBJ_USAGE_RANGES 7
struct obj_usage {
    char bucket[64];
    uint64_t objects, bytes, versions;
    uint64_t sizes[OBJ_USAGE_RANGES];
    bool gone; /* deleted during the cycle: not published */
};
/* The size range of an object of `size` bytes (MinIO's, docs/metrics.md). */
unsigned object__usage_size_range(uint64_t size);
/* Publishes the usage of every user bucket a whole cycle saw (scanner thread; NULL metrics: no-op).
 */
void object__metrics_usage(struct objlayer *ol, const struct obj_usage *u, size_t n);

#endif

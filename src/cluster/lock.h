/*
 * cluster/lock.h: the lock service (DESIGN.md "The seams / Locks"). Writers of
 * one object name are serialized by a lock on that name; callers ask this
 * service and never hold a raw mutex of another layer.
 *
 * Two implementations behind one table of operations (cluster/lock_internal.h,
 * as storage/drive.h does for drives):
 *   - local (lock_local.c): one node. Exact names, read/write locks with
 *     writer preference, waits on condition variables until a deadline.
 *   - quorum (lock_quorum.c): a cluster, MinIO's model. A lock is granted by
 *     a quorum of the nodes' lock tables (cluster/lock_table.h) through an
 *     abstract transport (struct lock_transport, bound to the RPC layer by
 *     the server), refreshed while held, and expires on every node when its
 *     holder dies or is cut off.
 *
 * Acquiring takes a deadline (CLOCK_MONOTONIC nanoseconds, clock_mono_ns())
 * and can fail with -ERR_TIMEOUT; the S3 request then answers 503 SlowDown.
 * Locks are not reentrant: a thread that asks again for a name it holds
 * (even a read lock under a read lock, when a writer waits in between) waits
 * for its deadline.
 *
 * Thread safety: every function may be called from any thread; a lock may be
 * released by another thread than the one that acquired it.
 */
#ifndef BASALT_CLUSTER_LOCK_H
#define BASALT_CLUSTER_LOCK_H

#include "util/base.h"

enum lock_mode {
    LOCK_READ,  /* shared with other readers */
    LOCK_WRITE, /* exclusive */
};

struct lock_service;
struct lock_held; /* one acquired lock */

#define LOCK_RESOURCE_MAX 1536 /* bytes of a resource name, without the NUL */

/*
 * Waits until `resource` is granted in `mode` or `deadline_ns` passes. On
 * success returns 0 and sets `*out` (release it with lock_release()). Errors:
 * -ERR_TIMEOUT (not granted by the deadline; nothing is held), -ERR_QUORUM
 * (quorum service: twice running, too few nodes answered to make a quorum,
 * offline or unreachable: answered without waiting for the deadline),
 * -ERR_INVAL (an unknown mode, a NULL or longer than LOCK_RESOURCE_MAX
 * resource). `*out` is
 * untouched on error. `resource` is any string ("bucket/key"), copied.
 * A deadline already past makes one attempt that does not wait (local) or
 * answers -ERR_TIMEOUT at once (quorum: there is no time for a round trip).
 */
int lock_acquire(struct lock_service *ls, const char *resource, enum lock_mode mode,
                 int64_t deadline_ns, struct lock_held **out);

/*
 * Releases `h` and frees it. Never waits on the network: a quorum lock's
 * releases are sent in the background, best effort (the lease removes what a
 * lost release left). NULL is a no-op.
 */
void lock_release(struct lock_held *h);

/*
 * True once the service knows the lock may have been lost: a quorum lock
 * whose refresh was not confirmed by a quorum of nodes (a partition, nodes
 * restarted), or whose last confirmed refresh is older than the lease. The
 * holder must then not commit under it (it still calls lock_release()).
 * Always false for a local lock.
 */
bool lock_is_lost(const struct lock_held *h);

/* The resource name `h` holds (borrowed, valid until lock_release()). */
const char *lock_held_resource(const struct lock_held *h);

/*
 * The families lock_acquire() counts into (docs/metrics.md): `acquire_ns`, a
 * histogram by mode (series 0 read, 1 write) of the time an acquire took,
 * granted or not (nanoseconds: the wait for a contended lock, and a quorum
 * lock's round trips); `outcomes`, a counter by mode and outcome (series
 * mode * LOCK_OUTCOMES + one of enum lock_outcome). Either may be NULL. Set
 * once (copied; later calls ignored), any thread; the families must outlive
 * the service. Counting is relaxed atomic adds: no lock.
 */
enum lock_outcome {
    LOCK_OUTCOME_GRANTED,
    LOCK_OUTCOME_TIMEOUT,
    LOCK_OUTCOME_FAILED,
    LOCK_OUTCOMES
};
struct metric;
struct lock_metrics {
    struct metric *acquire_ns;
    struct metric *outcomes;
};
void lock_service_set_metrics(struct lock_service *ls, const struct lock_metrics *lm);

/*
 * Stops the service's threads and frees it. No lock may be held (BUG_ON).
 * A quorum service waits for its calls in flight, each bounded by its own
 * deadline (at most the config's call timeout). NULL is a no-op.
 */
void lock_service_free(struct lock_service *ls);

/*
 * The local service: locks on this node only.
 *
 * DESIGN: 64 stripes, each a mutex over a small chained hash of entries keyed
 * by the exact name (two names never block each other, even in one stripe).
 * An entry exists only while a thread holds or waits for its name: memory is
 * bounded by the number of such threads. Each entry has its own condition
 * variable (CLOCK_MONOTONIC) on which its readers and writers wait; a waiting
 * writer holds new readers back (writer preference), and when it gives up at
 * its deadline the readers it held back are woken.
 */
struct lock_service *lock_service_local_new(void);

/*
 * The transport of the quorum service, bound by the server to node-to-node
 * RPC. Every call blocks until answered or `deadline_ns` (CLOCK_MONOTONIC)
 * passes; `node` is in 0..n-1 and may be this node. Each returns 0, or:
 *   try_lock: -ERR_BUSY (the node refuses: the name is held there in a
 *     conflicting mode), another -ERR_* (the node is offline, timed out or the
 *     answer was lost: the grant may or may not have happened there);
 *   refresh: -ERR_NOT_FOUND (the node no longer holds the grant), another
 *     -ERR_* (unknown);
 *   release: any -ERR_* (ignored).
 *   release_many (optional, NULL: none): the releases of several locks
 *     queued for `node`, in one call (they are sent in the background, so
 *     under load they gather while the previous batch is in flight);
 *     -ERR_NOT_IMPLEMENTED makes the service send them one by one instead
 *     (a node of an older version); any other -ERR_* is ignored.
 * The server side of each call is the lock table of `node`
 * (lock_table_try(), _refresh(), _release()), with `owner_node` the calling
 * node as the RPC layer authenticated it. A transport may retry a call with
 * the same uid: grants are idempotent per uid. It should fail at once
 * (-ERR_OFFLINE) for a node it knows is down, so that calls do not queue up
 * behind a dead peer's deadlines.
 */
struct lock_transport {
    int (*try_lock)(void *arg, unsigned node, const char *resource, enum lock_mode mode,
                    const char *uid, int64_t lease_ns, int64_t deadline_ns);
    int (*refresh)(void *arg, unsigned node, const char *resource, const char *uid,
                   int64_t deadline_ns);
    int (*release)(void *arg, unsigned node, const char *resource, const char *uid,
                   int64_t deadline_ns);
    void *arg;
    int (*release_many)(void *arg, unsigned node, const char *const *resources,
                        const char *const *uids, size_t n, int64_t deadline_ns);
    /*
     * Optional: the calls for node `self` never block (this node's lock
     * table in memory), so tries and releases of that node are made on the
     * caller's thread (the acquirer's, the releaser's, under the attempt's
     * mutex) instead of a hand-off to its queue.
     */
    bool self_inline;
};
#define LOCK_RELEASE_BATCH_MAX 256 /* releases in one release_many call at most */

#define LOCK_MAX_NODES 1024
#define LOCK_DEFAULT_LEASE_NS (30LL * 1000000000)       /* 30 s */
#define LOCK_DEFAULT_CALL_TIMEOUT_NS (1LL * 1000000000) /* 1 s */
#define LOCK_DEFAULT_THREADS_PER_NODE 4

struct lock_quorum_config {
    unsigned n;       /* nodes, 1..LOCK_MAX_NODES */
    unsigned self;    /* this node's id, 0..n-1 (log lines) */
    int64_t lease_ns; /* 0: LOCK_DEFAULT_LEASE_NS; refreshed every lease/3 */
    /*
     * The longest a single transport call may take (the deadline of one try
     * round, of each refresh and release); 0: LOCK_DEFAULT_CALL_TIMEOUT_NS.
     * Must be below lease/3.
     */
    int64_t call_timeout_ns;
    unsigned threads_per_node;       /* 0: LOCK_DEFAULT_THREADS_PER_NODE */
    struct lock_transport transport; /* copied; every function mandatory */
};

/*
 * The quorum service. Returns NULL for an invalid `cfg` (n out of range, self
 * >= n, a missing transport function, a negative lease or call timeout, a
 * lease above LOCK_TABLE_LEASE_MAX, a call timeout not below lease/3).
 *
 * DESIGN: a write lock needs n/2+1 grants, a read lock n - (n/2+1) + 1, so
 * every read quorum meets every write quorum and two write quorums always
 * meet. An attempt sends try_lock with a fresh random uid to a quorum of
 * nodes in parallel, more when one refuses or fails or answers are slow (one
 * queue of `threads_per_node` threads per node: a hung node delays only its
 * own queue), and waits until quorum is reached, can no longer be reached,
 * or the round's deadline; a failed attempt releases its grants
 * in the background and the next one follows a randomized backoff growing
 * from 2 ms to 50 ms. A fresh uid per attempt (not per acquisition) keeps a
 * late release of a failed attempt from removing a grant of the next one. A
 * refresher thread renews every held lock every lease/3; a round that fewer
 * than a quorum of nodes confirm marks the lock lost (event "lock_lost").
 * Leases are measured by each lock server on its own monotonic clock: no
 * clock synchronization is assumed.
 *
 * Known limit: the lock tables have no writer preference, so a writer can
 * be starved by an endless overlap of readers until its deadline.
 */
struct lock_service *lock_service_quorum_new(const struct lock_quorum_config *cfg);

#endif

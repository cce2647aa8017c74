/*
 * cluster/lock_table.h: the lock table, the state one node keeps as a lock
 * server for the quorum lock service (cluster/lock.h). The RPC handlers of
 * the quorum transport call it; nothing in it blocks: a conflicting request
 * is refused (-ERR_BUSY) and the client retries.
 *
 * A grant is (resource, uid, mode, owner node, lease). A write grant excludes
 * every other grant of its resource; read grants share it. A grant lasts
 * `lease_ns` from its last try or refresh, measured on this node's monotonic
 * clock; an expired grant is removed lazily when its resource is touched,
 * when the table is full, and by lock_table_expire(), which the owner of the
 * table runs periodically (the server, every few seconds) to return memory.
 *
 * Memory bound: at most `max_grants` grants live at once (a try beyond is
 * refused with -ERR_BUSY after a sweep of expired grants). A grant costs 96
 * bytes (up to 192 with the slack of its entry's doubling array) and each
 * resource with grants one entry of about 64 bytes plus its name (at most
 * LOCK_RESOURCE_MAX), so the table stays under
 * max_grants * (192 + 64 + LOCK_RESOURCE_MAX) bytes: about 58 MiB for the
 * default 32,768 grants on names of the longest kind, a few MiB for usual
 * ones; plus a fixed 32 KiB of hash chains.
 *
 * Thread safety: every function may be called from any thread; the table is
 * striped (one mutex per stripe of names), and lock_table_drop_owner() and
 * lock_table_expire() take the stripes one after the other.
 */
#ifndef BASALT_CLUSTER_LOCK_TABLE_H
#define BASALT_CLUSTER_LOCK_TABLE_H

#include "util/base.h"

#include "cluster/lock.h"

#define LOCK_UID_MAX 64                            /* bytes of a uid, without the NUL */
#define LOCK_TABLE_LEASE_MAX (3600LL * 1000000000) /* 1 hour */
#define LOCK_TABLE_DEFAULT_MAX_GRANTS 32768

struct lock_table;

/* A new empty table holding at most `max_grants` grants (0: the default). */
struct lock_table *lock_table_new(size_t max_grants);
/* Frees the table and every grant in it. NULL is a no-op. */
void lock_table_free(struct lock_table *t);

/*
 * Grants `resource` in `mode` to `uid` on behalf of `owner_node` for
 * `lease_ns`. Returns 0 (granted), -ERR_BUSY (a live grant of another uid
 * conflicts, or the table is full), -ERR_INVAL (a NULL, empty or longer than
 * LOCK_UID_MAX uid, a NULL or longer than LOCK_RESOURCE_MAX resource, an
 * unknown mode, a lease not in 1..LOCK_TABLE_LEASE_MAX ns, or `uid` already
 * holds `resource` in the other mode). Idempotent: a try of a uid that already
 * holds the resource in `mode` is granted again and renews the lease, so a
 * retried call whose first answer was lost does not wedge the lock.
 */
int lock_table_try(struct lock_table *t, const char *resource, enum lock_mode mode, const char *uid,
                   unsigned owner_node, int64_t lease_ns);

/*
 * Renews the lease of `uid` on `resource` (from now, by its lease). Returns 0,
 * or -ERR_NOT_FOUND when there is no such live grant (it expired, was released
 * or dropped, or never was: the holder has lost it here), -ERR_INVAL for a bad
 * argument.
 */
int lock_table_refresh(struct lock_table *t, const char *resource, const char *uid);

/* Removes the grant of `uid` on `resource`. Returns 0, -ERR_NOT_FOUND, -ERR_INVAL. */
int lock_table_release(struct lock_table *t, const char *resource, const char *uid);

/*
 * Removes every grant held for `owner_node`: that node restarted, and
 * nothing its previous life held is held any more. The caller must make sure
 * it runs before the restarted node asks for new locks (the server calls it
 * when a peer's boot identity changes, or a starting node asks every peer
 * before it serves). Returns the number of grants removed.
 */
size_t lock_table_drop_owner(struct lock_table *t, unsigned owner_node);

/* Removes every grant whose lease ended at or before `now_ns` (CLOCK_MONOTONIC); returns how many.
 */
size_t lock_table_expire(struct lock_table *t, int64_t now_ns);

/* The number of grants in the table, expired ones not yet removed included. */
size_t lock_table_count(struct lock_table *t);

#endif

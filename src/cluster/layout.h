/*
 * cluster/layout.h: the layout of a deployment: its pools, their drives in
 * layout order, the nodes that hold them, and each pool's erasure set size
 * and parity. It is a pure function of the server's drive arguments and the
 * default port (no I/O, no DNS), so every node started with the same
 * arguments computes the same layout; at start-up nodes exchange
 * layout_digest() and refuse a peer whose layout differs, naming the first
 * difference (layout_diff() on the peer's layout_encode()d layout).
 *
 * Modes. Every endpoint is a URL (a cluster, even of one node) or every one
 * is a folder path (single-node mode: one node, named "local", every drive
 * local); a mix is an error. So is a mix of http:// and https://.
 *
 * Pools. With ellipses, each argument is a pool (MinIO); so is an argument
 * that lists endpoints separated by white space (a URL holds none: for
 * explicit lists of several pools, e.g. nodes on one machine that need a
 * folder each); without either, all the arguments together are one pool;
 * mixing the two kinds of arguments is an error. In folder mode all the arguments are one pool,
 * ellipses or not (a single node: as single-node deployments have always
 * been formatted, `/srv/d{1...4} /srv/e{1...4}` one set of 8). Pools keep the order of the
 * arguments. A drive (same canonical endpoint text, cluster/endpoint.h) may appear only once in
 * all.
 *
 * Nodes. The distinct HOST:PORT values of the endpoints, numbered from 0 in
 * order of first appearance over the whole command line (after expansion);
 * `struct endpoint.node` is that number.
 *
 * Drive order. The position of a drive in its pool decides its erasure set
 * and its slot, and format.json records it: THIS RULE MAY NEVER CHANGE for an
 * existing deployment.
 *  1. Take the pool's endpoints in command-line order (arguments left to
 *     right, each one's ellipses expanded leftmost fastest).
 *  2. Number the pool's nodes 0, 1, ... in order of first appearance in that
 *     sequence, and each node's drives 0, 1, ... in that sequence (its rank).
 *  3. Layout order is by (rank, node number): round 0 takes the first drive
 *     of every node, round 1 the second drive of every node that has one,
 *     and so on (round robin over the nodes).
 * So consecutive positions sit on different nodes. An explicit list
 * `n1/d1 n1/d2 n2/d1 n2/d2` becomes n1/d1 n2/d1 n1/d2 n2/d2. For an ellipsis
 * argument, whose host part (left of the path) varies fastest, the rule
 * gives the expansion order itself: http://n{1...4}:9000/d{1...2} is n1/d1
 * n2/d1 n3/d1 n4/d1 n1/d2 ... Folder paths are one node: the given order.
 *
 * Erasure sets. With set size S, positions [i*S, (i+1)*S) of a pool are its
 * set i, and a drive's slot is its position mod S. S is the caller's, or
 * the largest of 16..2 that divides the pool's drive count D and is
 * symmetric with the pool's node count N (S % N == 0 or N % S == 0: every
 * set then holds the same number of drives of each of its nodes when the
 * nodes have equal drive counts), else the largest of 16..2 that divides D.
 * Parity is the caller's, or by set size 2-3: 1, 4-5: 2, 6-7: 3, 8-16: 4.
 * The same overrides apply to every pool.
 *
 * Messages count pools and positions from 1.
 *
 * Threads: a layout is built and marked (layout_mark_local()) by one thread
 * at start-up; after that it is read-only and any thread may read it.
 */
#ifndef BASALT_CLUSTER_LAYOUT_H
#define BASALT_CLUSTER_LAYOUT_H

#include "util/base.h"

#include "cluster/endpoint.h"
#include "util/buf.h"

#define LAYOUT_MAX_POOLS 64
#define LAYOUT_MAX_DRIVES 16384 /* over all pools */
#define LAYOUT_MIN_SET 2
#define LAYOUT_MAX_SET 16
/* Bytes of the largest layout_encode() output: layout_decode() refuses more. */
#define LAYOUT_MAX_ENCODED (LAYOUT_MAX_DRIVES * (ENDPOINT_MAX_LEN + 3) + LAYOUT_MAX_POOLS * 64 + 64)
#define LAYOUT_DIGEST_HEX 65 /* 64 lowercase hex digits and a NUL */

struct layout;

struct layout_opts {
    unsigned default_port; /* port of URLs without one (the port of --address); 0: required */
    unsigned set_size;     /* 0: chosen per pool (above) */
    unsigned parity;       /* 0: the default for the set size */
};

/*
 * Builds the layout of the drive arguments `argv[0..argc)` (as typed:
 * ellipses are expanded here). Returns 0 and a new layout in `*out` (free it
 * with layout_free()), or -ERR_INVAL with a sentence in `errmsg` (when
 * non-NULL) naming the offending argument: no argument, any error of
 * endpoint_expand() or endpoint_parse(), mixed ellipsis and plain
 * arguments, mixed URLs and folders, mixed http and https, a drive given
 * twice, more than LAYOUT_MAX_POOLS pools or LAYOUT_MAX_DRIVES drives, a
 * pool whose drives cannot be split into sets of 2 to 16 (or of
 * `opts->set_size`), a parity above half the set size. `*out` is untouched
 * on error. `opts` may be NULL (no default port, no overrides).
 */
int layout_from_args(int argc, char *const *argv, const struct layout_opts *opts,
                     struct layout **out, struct buf *errmsg);

/* Frees `l` and its endpoints; NULL is fine. */
void layout_free(struct layout *l);

/* True for URL endpoints (a cluster), false in single-node folder mode. */
bool layout_is_cluster(const struct layout *l);
size_t layout_pool_count(const struct layout *l);
/* The drives of pool `pool` (< layout_pool_count()) in layout order; `*n` their count. */
const struct endpoint *layout_pool_drives(const struct layout *l, size_t pool, size_t *n);
unsigned layout_set_size(const struct layout *l, size_t pool);
unsigned layout_parity(const struct layout *l, size_t pool);
/* The default parity of a set of `set_size` drives (above): the one rule, object/ uses it too. */
unsigned layout_default_parity(unsigned set_size);
size_t layout_node_count(const struct layout *l);
/* "HOST:PORT" of node `node` (< layout_node_count()), "local" in folder mode. */
const char *layout_node_name(const struct layout *l, size_t node);
/* This process's node after layout_mark_local(), -1 before. */
int layout_local_node(const struct layout *l);

/*
 * Appends one line (a sentence ending in '\n') per pool and node that holds
 * more than `parity` drives of one of the pool's sets, so that losing that
 * node loses those sets; returns the number of lines. Warnings for the
 * caller to log: such a layout still works while every node is up. None
 * for a layout of one node (folder mode, or one URL host), where losing the
 * node loses everything anyway.
 */
size_t layout_spread_warnings(const struct layout *l, struct buf *out);

/*
 * Appends the canonical text of `l`: the line "basalt-layout 1", then per
 * pool a line "pool P drives D set_size S parity M" (P from 1) followed by
 * its D endpoint texts, one per line, in layout order.
 */
void layout_canonical_text(const struct layout *l, struct buf *out);

/* Writes the SHA-256 of layout_canonical_text() in hex. */
void layout_digest(const struct layout *l, char out[LAYOUT_DIGEST_HEX]);

/*
 * True when `a` and `b` differ (as their digests would); then appends to
 * `why` (when non-NULL) a sentence naming the first difference, `a`'s value
 * first: the pool count, the drive count of pool P, the endpoint at position
 * I of pool P ('X' vs 'Y'), the set size or the parity of pool P. The node
 * marks (layout_mark_local()) are not compared.
 */
bool layout_diff(const struct layout *a, const struct layout *b, struct buf *why);

/*
 * Appends the compact JSON form of `l` for the start-up handshake:
 *   {"version":1,"pools":[{"set_size":S,"parity":M,"drives":["http://...",...]},...]}
 * with endpoint texts in layout order (at most LAYOUT_MAX_ENCODED bytes).
 * Returns 0, or -ERR_INVAL for a folder-mode layout (nodes exchange only
 * cluster layouts; `out` is then unchanged).
 */
int layout_encode(const struct layout *l, struct buf *out);

/*
 * Parses layout_encode() output from an untrusted peer: at most
 * LAYOUT_MAX_ENCODED bytes, version 1, no unknown or duplicate keys, every
 * drive a URL endpoint with a port, pools and drives within the limits, set
 * sizes and parities valid, no drive twice. Drive order is taken as given
 * (it is already layout order). Returns 0 and a new layout in `*out`, or
 * -ERR_INVAL (-ERR_TOO_LARGE for oversized input) with a sentence in
 * `errmsg`; `*out` is untouched on error. The result's digest equals that of
 * the encoded layout.
 */
int layout_decode(const char *p, size_t n, struct layout **out, struct buf *errmsg);

/*
 * Marks the drives this process serves, listening on `listen_address`
 * ("HOST:PORT", "[IPV6]:PORT", ":PORT"): those of the one node whose port is
 * the listen port and whose host is the listen host (same canonical text, or
 * else resolving to one of its addresses) or, when listening on every
 * address (empty host, 0.0.0.0 or ::), whose host resolves to an address of
 * one of this machine's interfaces, any of 127.0.0.0/8 and ::1 included. In
 * folder mode every drive is local. Sets `struct endpoint.is_local` and
 * layout_local_node(). Returns 0, or with a sentence in `errmsg`:
 * -ERR_INVAL when `listen_address` is malformed, when no node is this one
 * ("this node (--address X) is none of the endpoints: ..."), or when several
 * nodes are (one process would count as several nodes in every quorum);
 * -ERR_IO when the interfaces cannot be listed. Marks are unchanged on
 * error. Blocks on name resolution (getaddrinfo) for host names: call at
 * start-up, before sharing the layout.
 */
int layout_mark_local(struct layout *l, const char *listen_address, struct buf *errmsg);

#endif

/*
 * server/cluster.h: this process as a node of a cluster (DESIGN.md "A
 * cluster"): the node-to-node RPC server and client, the drives of this node
 * served to the others and theirs reached as remote drives, the quorum lock
 * service over every node's lock table, peer notifications, and the
 * start-up handshake that refuses a peer started with another layout or
 * other root credentials.
 *
 * Life: cluster_new() (binds nothing: the HTTP server is server.c's) ->
 * HTTP serving, with cluster_handle_rpc() for /basalt/rpc/ ->
 * cluster_handshake() -> the object layer opened over cluster_drives() with
 * cluster_locks() and cluster_notify() -> cluster_set_objlayer() -> ...
 * -> cluster_free() after the HTTP server stopped.
 */
#ifndef BASALT_SERVER_CLUSTER_H
#define BASALT_SERVER_CLUSTER_H

#include "util/base.h"

#include "util/buf.h"

struct cluster;
struct layout;
struct http_req;
struct drive;
struct objlayer;
struct lock_service;

struct cluster_config {
    struct layout *layout;      /* marked (layout_mark_local); borrowed for the cluster's life */
    const char *root_user;      /* the cluster key derives from these ... */
    const char *root_password;  /* ... unless a cluster secret is given */
    const char *cluster_secret; /* BASALT_CLUSTER_SECRET, or NULL */
    bool sync;                  /* fsync (the local drives' option) */
    /*
     * Another node asks this one to restart or stop (the admin API's service
     * calls, POST /admin/service/restart|stop): called on a connection thread
     * once the answer was sent; this node answers "starting" (not
     * acknowledged) until its object layer is open. NULL: never acknowledged.
     */
    void (*service)(void *arg, bool restart);
    void *service_arg;
    const char *certs_dir; /* https:// endpoints: peers verified against DIR/CAs/ */
};

/*
 * Opens this node's drives (pool 0's local endpoints), makes the RPC server
 * with every route (drives, locks, notifications, hello) and the client
 * with every other node as a peer, and the quorum lock service. Returns 0
 * and `*out`, or an error with a sentence in `errmsg`.
 */
int cluster_new(const struct cluster_config *cfg, struct cluster **out, struct buf *errmsg);
/* Serves a request under /basalt/rpc/ (the HTTP handler, any connection thread). */
void cluster_handle_rpc(struct cluster *c, struct http_req *req);
/*
 * Says hello to every node that answers: each side compares the other's
 * layout and answers with its own. Returns 0, or with a sentence in
 * `errmsg`: -ERR_INVAL when a node has another layout (naming the first
 * difference), -ERR_PEER_AUTH when a node refuses our calls (root
 * credentials or BASALT_CLUSTER_SECRET differ). Nodes that do not answer are
 * not waited for (they say hello when they start).
 */
int cluster_handshake(struct cluster *c, struct buf *errmsg);
/* Every drive of pool 0 in layout order: this node's and the others' (remote). Borrowed. */
struct drive **cluster_drives(struct cluster *c, size_t *n);
/* Drops the drives handed to the object layer (it closes them itself). */
void cluster_drives_given(struct cluster *c);
struct lock_service *cluster_locks(struct cluster *c);
/*
 * The other nodes' RPC handles and names, in node order (borrowed: they live
 * as long as `c`): fills at most `max` of each, returns how many there are.
 */
struct rpc_peer;
size_t cluster_rpc_peers(struct cluster *c, struct rpc_peer **peers, const char **names,
                         size_t max);
/* Whether this node formats a fresh deployment (the first node), and the name of the one that does.
 */
bool cluster_is_formatter(const struct cluster *c);
const char *cluster_formatter(const struct cluster *c);
/* This node's name ("HOST:PORT"). */
const char *cluster_node_name(const struct cluster *c);
/*
 * s3_config.peers: every other node's answer to the admin `what` ("status",
 * "info", "service/restart", "service/stop") as a JSON array (2 s at most per node; a node that
 * does not answer is an element with an error).
 */
void cluster_peers(void *arg, const char *what, struct buf *out);
/*
 * s3_config.peer_metrics: calls `each` once per other node with its metrics
 * (metrics_expose() text), or an empty text and the reason it has none. The
 * nodes are asked in parallel, 5 s at most in all.
 */
typedef void cluster_metrics_fn(void *ctx, const char *node, struct slice text, const char *err);
void cluster_peer_metrics(void *arg, cluster_metrics_fn *each, void *ctx);
/* Every layer registered its metrics in `m`: the others may ask for them (NULL: stop). */
struct metrics;
void cluster_set_metrics(struct cluster *c, struct metrics *m);
/*
 * This node's view of the others' RPC (s3_config.rpc_stats): a JSON array,
 * per peer, {"peer","online","calls","failures","connects"} (counters since
 * start: calls and streams started, those that failed, TCP connections
 * opened).
 */
void cluster_rpc_stats(void *arg, struct buf *out);
/*
 * Whether more than half of the nodes answer (this one counted unless
 * `without_this_node`; the others as the RPC layer last saw them): what the
 * quorum locks of writes need (s3_config.nodes_majority).
 */
bool cluster_has_majority(void *arg, bool without_this_node);
/* Whether node `node` answers (this one does): objlayer_config.node_online. */
bool cluster_node_online(void *arg, unsigned node);
/* objlayer_notify_fn: tells every other node (bounded: a second each at most). */
void cluster_notify(void *arg, const char *topic, const char *name);
/* The object layer is open: notifications from other nodes go to it from now on. */
void cluster_set_objlayer(struct cluster *c, struct objlayer *ol);
/* IAM changes other nodes announce (topic "iam") go to `iam` (NULL: none, while closing). */
struct iam;
void cluster_set_iam(struct cluster *c, struct iam *iam);
/*
 * https:// endpoints: reads --certs-dir's CAs/ and the system's bundle again
 * for the connections to peers from now on (rpc_client_set_cas()). Returns
 * the number of certificates of CAs/ and the system's in `*system_certs`
 * (0 and 0 with http://), or -ERR_* with a sentence naming the file in
 * `errmsg`, and the CAs in use stay. Any thread.
 */
ssize_t cluster_reload_cas(struct cluster *c, size_t *system_certs, struct buf *errmsg);
/* Stops the client and frees everything but the drives the object layer took. */
void cluster_free(struct cluster *c);

#endif

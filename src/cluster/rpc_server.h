/*
 * cluster/rpc_server.h: the receiving side of node-to-node RPC: every request
 * under /basalt/rpc/ is verified here, then dispatched to the route an upper
 * layer registered (storage/'s remote drive, the lock service, peer
 * notifications).
 *
 * A request is `METHOD /basalt/rpc/vN/<route path>?<query>`. In order:
 *   1. vN must be one of the versions this node speaks (RPC_VERSIONS: its own
 *      and the previous one, for rolling upgrades): else 400, refusal
 *      "version", naming them in X-Basalt-Rpc-Versions.
 *   2. The signed headers (cluster/rpc_auth.h) must be present and the
 *      signature valid: else 403 "cluster-auth". The time must be within
 *      15 minutes of this node's clock: else 403 "clock-skew" (with this
 *      node's time in X-Basalt-Rpc-Time). (node, boot, seq) must not have
 *      been seen: else 403 "replay".
 *   3. The route (method + exact path) must exist: else 404 "no-route".
 *   4. Plain routes: the body (at most RPC_MAX_BODY, else 413 "too-large") is
 *      read, its SHA-256 must match the signed digest (else 403
 *      "cluster-auth"), then the handler runs with the whole body.
 *      Streaming routes: the body must be framed (cluster/rpc_frame.h); the
 *      handler gets the pieces as they arrive, then end(ok): ok only when the
 *      stream's tag checked out.
 * No handler runs for a refused request. Refusals carry the header
 * X-Basalt-Rpc-Refused: <code> and a sentence in the body; they are logged
 * (event "rpc_refused") at most once per sender per minute, never with the
 * signature. Errors a handler reports with rpc_reply_error() carry
 * X-Basalt-Rpc-Error: <ERR name> instead.
 *
 * Responses are not signed (transport security comes with TLS, another issue).
 *
 * Built-in route: GET /health answers {"node","boot_id","boot_time_ns",
 * "version","time_ms"} (JSON), used by the clients' probers.
 *
 * Threads: register every route before the HTTP server calls
 * rpc_server_handle(); after that the server is read-only except for its
 * internally locked replay and log-limit tables, and any connection thread
 * may call rpc_server_handle() concurrently.
 */
#ifndef BASALT_CLUSTER_RPC_SERVER_H
#define BASALT_CLUSTER_RPC_SERVER_H

#include "util/base.h"

#include "cluster/rpc_auth.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/slice.h"

#define RPC_MAX_BODY (8u << 20) /* a plain route's body */

struct rpc_server;
struct http_req;

/* A verified request, as a handler sees it. Valid until the reply is sent. */
struct rpc_req {
    struct slice method;
    struct slice path;              /* the route path, after "/basalt/rpc/vN": "/drive/meta/read" */
    struct slice query;             /* raw */
    struct slice sender;            /* the verified node id of the caller */
    struct slice caller_request_id; /* the request id the caller sent (may be empty) */
    unsigned version;               /* the protocol version of the call */
    const char *id;                 /* this request's id, for logs */
    struct slice body;              /* plain routes: the whole verified body */
    struct arena *arena;            /* the request's arena */
    void *ctx;                      /* the handler's */
    /* internal: */
    struct http_req *_http;
    bool _gone; /* the connection is gone: replies are ignored */
};

/* A plain route: runs once the whole body is verified; must reply (else 500). */
typedef void rpc_handler_fn(void *arg, struct rpc_req *r);

/* A streaming route (an upload): */
struct rpc_stream_ops {
    /*
     * The headers are verified: prepare (r->ctx). Return 0 to receive the
     * body, or reply (rpc_reply_error) and return < 0: end() is then not called.
     */
    int (*begin)(void *arg, struct rpc_req *r);
    /* A piece of the body, not yet authenticated. 0, or -ERR_* to fail the stream. */
    int (*data)(struct rpc_req *r, const void *p, size_t n);
    /*
     * Called exactly once after begin() returned 0. ok: the stream's tag
     * checked out; make the data visible and reply. !ok: the stream was
     * truncated, corrupt, its tag wrong, data() failed or the connection was
     * lost: discard everything; any reply is ignored (the transport answers,
     * when there is still someone to answer).
     */
    void (*end)(struct rpc_req *r, bool ok);
};

/* The byte source of a streamed reply; see http_stream_fn (same contract). */
typedef ssize_t rpc_stream_fn(void *arg, uint64_t off, void *dst, size_t n);
typedef void rpc_stream_free_fn(void *arg);

/* Copies `self` and `key`. `self` is this node (health answers, logs). */
struct rpc_server *rpc_server_new(const struct rpc_key *key, const struct rpc_identity *self);
void rpc_server_free(struct rpc_server *srv);

/*
 * Registers `handler(arg, r)` for `method` and the exact route `path`
 * ("/drive/meta/read"). Returns 0, -ERR_EXISTS (already registered) or
 * -ERR_INVAL (path not starting with '/'). Before serving only.
 */
int rpc_server_route(struct rpc_server *srv, const char *method, const char *path,
                     rpc_handler_fn *handler, void *arg);
/* Same, for a streaming route; `ops` is borrowed for the server's life. */
int rpc_server_route_stream(struct rpc_server *srv, const char *method, const char *path,
                            const struct rpc_stream_ops *ops, void *arg);

/*
 * Serves one request whose path starts with RPC_PATH_PREFIX: call it from the
 * HTTP handler (server/), on the connection thread, with the headers
 * complete. It answers, or arranges to read the body and answer.
 */
void rpc_server_handle(struct rpc_server *srv, struct http_req *req);

/* Decoded query parameter lookup (exact name); false if absent. */
bool rpc_req_param(const struct rpc_req *r, const char *name, struct slice *out);
/* Request header lookup (case-insensitive); false if absent. */
bool rpc_req_header(const struct rpc_req *r, const char *name, struct slice *out);

/* Adds a response header (copied). Before the reply. */
void rpc_reply_header(struct rpc_req *r, const char *name, const char *value);
/* Replies with `body` (its bytes are taken over; NULL: empty). */
void rpc_reply(struct rpc_req *r, unsigned status, struct buf *body);
/*
 * Replies with an error the caller's rpc_resp.err will hold (-ERR_* or
 * ERR_*), and `msg` (may be NULL) as the body. Status: 404 for
 * NOT_FOUND-like errors, 400 for invalid arguments, else 500.
 */
void rpc_reply_error(struct rpc_req *r, int err, const char *msg);
/*
 * Replies with a body of `size` bytes read by `fn` after the handler returns
 * (a shard download). Takes ownership of `arg` (free_fn runs exactly once).
 */
void rpc_reply_stream(struct rpc_req *r, unsigned status, uint64_t size, rpc_stream_fn *fn,
                      rpc_stream_free_fn *free_fn, void *arg);

/* Test seam: `ns` is added to this node's clock in the time check (simulates skew). */
void rpc_server_set_clock_offset(struct rpc_server *srv, int64_t ns);

#endif

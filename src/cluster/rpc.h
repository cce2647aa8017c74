/*
 * cluster/rpc.h: the calling side of node-to-node RPC (DESIGN.md "A
 * cluster"): signed calls over HTTP/1.1 to the other nodes, on pooled
 * keep-alive connections (libcurl), with deadlines and peer health.
 *
 *   struct rpc_client   this node: identity, key, sequence counter, peers, prober
 *   struct rpc_peer     one remote node, "http://host:port": its connection
 *                       pool and its health (online / offline)
 *
 * Three kinds of calls, all authenticated (cluster/rpc_auth.h) and all
 * under a deadline (absolute, on clock_mono_ns()):
 *   - rpc_call(): a small request and answer (metadata, listings, locks);
 *   - rpc_upload_*(): a streamed request body (a shard file), written in
 *     pieces, possibly each from another thread (never two at once), framed
 *     and MACed (cluster/rpc_frame.h), with bounded memory;
 *   - rpc_download_*(): a streamed answer (a shard file), read in pieces with
 *     back-pressure.
 *
 * Health: a peer starts online. A call that misses its deadline, or cannot
 * connect, marks its peer offline; later calls to it fail at once with
 * -ERR_OFFLINE, without touching the network, until the client's prober (one
 * thread per client, every probe_interval) gets a 200 from the peer's
 * GET /health and marks it online again. Every transition is logged (events
 * "rpc_peer_offline", "rpc_peer_online"), counted (rpc_peer_stats) and
 * reported to cfg.on_peer_state.
 *
 * Refusals by the peer come back as errors: -ERR_PEER_AUTH (the peer does
 * not accept our signature: root credentials or BASALT_CLUSTER_SECRET
 * differ), -ERR_TIME_SKEWED (the clocks are more than 15 minutes apart),
 * -ERR_PEER_VERSION (the peer does not speak our protocol version),
 * -ERR_REPLAY, -ERR_NOT_IMPLEMENTED (the peer has no such route). The first
 * three are logged here at most once per peer per minute ("peer X refuses
 * our calls: ...", event "rpc_peer_refuses"; "clock skew with peer X",
 * event "rpc_clock_skew").
 *
 * Responses are not authenticated (transport security comes with TLS,
 * another issue).
 *
 * Outcome not known: libcurl resends a call once on a fresh connection when a
 * pooled one dies before any byte of the answer; if the peer had run the
 * first copy, the second is refused as a replay (-ERR_REPLAY). A peer that
 * refuses a stream while its body is being sent may close before the refusal
 * is read: the stream then fails with -ERR_IO. Callers treat both as "the
 * call may or may not have run", as they must any -ERR_TIMEOUT.
 *
 * Threads: any thread may call rpc_call(), rpc_upload_begin() and
 * rpc_download_begin() on any peer concurrently. An upload or download is
 * used by one thread at a time (any thread). rpc_client_free() requires that
 * no call is in flight and no stream is open.
 */
#ifndef BASALT_CLUSTER_RPC_H
#define BASALT_CLUSTER_RPC_H

#include "util/base.h"

#include "cluster/rpc_auth.h"
#include "util/buf.h"
#include "util/slice.h"

#define RPC_DEFAULT_PROBE_INTERVAL_NS (1000 * 1000000ll)
#define RPC_DEFAULT_PROBE_TIMEOUT_NS (2000 * 1000000ll)
#define RPC_DEFAULT_POOL_IDLE 16        /* idle connections kept per peer */
#define RPC_MAX_RESP_BODY (8u << 20)    /* of a plain call's answer */
#define RPC_STREAM_BUFFER (512u * 1024) /* libcurl's per-stream buffer, each way */

struct rpc_client;
struct rpc_peer;
struct rpc_upload;
struct rpc_download;

/* A peer went online (true) or offline; runs on the thread that noticed. Must not block. */
typedef void rpc_peer_state_fn(void *arg, struct rpc_peer *p, bool online);

struct rpc_client_config {
    const struct rpc_key *key;        /* copied */
    const struct rpc_identity *self;  /* copied; the server side uses the same one */
    int64_t probe_interval_ns;        /* 0: RPC_DEFAULT_PROBE_INTERVAL_NS */
    int64_t probe_timeout_ns;         /* 0: RPC_DEFAULT_PROBE_TIMEOUT_NS */
    unsigned pool_idle;               /* 0: RPC_DEFAULT_POOL_IDLE */
    rpc_peer_state_fn *on_peer_state; /* may be NULL */
    void *on_peer_state_arg;
    int64_t clock_offset_ns; /* tests: added to the time this node signs (simulates skew) */
    /*
     * https:// peers: PEM of CAs trusted besides the system's (libcurl's
     * default bundle) (--certs-dir's CAs/), parsed at once with the
     * system's (rpc_client_set_cas()); NULL: the system's only. Peers' names
     * are checked.
     */
    const char *ca_pem;
};

/*
 * A new client and its prober thread. Returns 0 and `*out`, or -ERR_INVAL
 * (no key or identity, or a `ca_pem` that is not PEM certificates).
 */
int rpc_client_new(const struct rpc_client_config *cfg, struct rpc_client **out);
/* Stops the prober, frees every peer and pooled connection. No call may be in flight. */
void rpc_client_free(struct rpc_client *c);

/*
 * Replaces the CAs of https:// peers (as rpc_client_config.ca_pem, may be
 * NULL; the system's bundle is read again): new connections verify against
 * them, and each pooled connection is replaced by a new one, verified
 * likewise, at its next call; calls in flight finish on their connection.
 * Returns the number of certificates in `ca_pem` and, if not NULL, the
 * system's in `*system_certs`; or -ERR_INVAL (a PEM block is broken, or
 * there is no certificate) with the reason in `errmsg`, and the CAs in use
 * stay. Any thread, any time.
 */
ssize_t rpc_client_set_cas(struct rpc_client *c, const char *ca_pem, size_t *system_certs,
                           struct buf *errmsg);

/*
 * Adds the peer at `endpoint` ("http://host:port" or "https://...", no path). Returns 0 and
 * `*out` (owned by the client), or -ERR_INVAL. Any thread, any time.
 */
int rpc_client_add_peer(struct rpc_client *c, const char *endpoint, struct rpc_peer **out);

/* "host:port", for logs. */
const char *rpc_peer_name(const struct rpc_peer *p);
bool rpc_peer_is_online(const struct rpc_peer *p);

struct rpc_peer_stats {
    uint64_t calls;    /* calls and streams started (offline fail-fasts excluded) */
    uint64_t failures; /* of those, ended with an error */
    uint64_t connects; /* TCP connections opened (all the others reused a pooled one) */
    uint64_t offline;  /* transitions to offline */
    uint64_t online;   /* transitions back online */
};
/* Relaxed counters: a snapshot, not a consistent cut. */
void rpc_peer_stats(const struct rpc_peer *p, struct rpc_peer_stats *out);
/*
 * Makes rpc_call() observe each call's duration (nanoseconds, from the call
 * to its answer or error; offline fail-fasts excluded) into histogram
 * `duration_ns`, series `series` (docs/metrics.md). Set once, before or
 * while calls run (later calls ignored); the family must outlive the client.
 */
struct metric;
void rpc_peer_set_metrics(struct rpc_peer *p, struct metric *duration_ns, size_t series);

struct rpc_call {
    const char *method;      /* "GET", "POST", "PUT", "DELETE" */
    const char *path;        /* the route, "/drive/meta/read": printable ASCII, no '?' '#' */
    const char *query;       /* raw and encoded (rpc_query_add), or NULL */
    struct slice body;       /* rpc_call() only; borrowed for the call */
    int64_t deadline_ns;     /* absolute, clock_mono_ns(): the whole call, or a stream's begin */
    int64_t step_timeout_ns; /* streams: each later step must also end within this (0: none) */
    const char *request_id;  /* the request this call serves, for the peer's logs; may be NULL */
};

/* An answer. Initialise with RPC_RESP_INIT; release with rpc_resp_release(). */
struct rpc_resp {
    unsigned status;
    int err;         /* the -ERR_* a handler named with rpc_reply_error(), else 0 */
    struct buf body; /* plain calls and finished uploads */
    struct buf _headers;
};
#define RPC_RESP_INIT                                                                              \
    {                                                                                              \
        0, 0, BUF_INIT, BUF_INIT                                                                   \
    }

void rpc_resp_release(struct rpc_resp *r);
/* A response header (case-insensitive); false if absent. */
bool rpc_resp_header(const struct rpc_resp *r, const char *name, struct slice *out);

/* Appends "name=value" (percent-encoded, '&' between pairs) to a query. */
void rpc_query_add(struct buf *q, const char *name, struct slice value);

/*
 * One small call: sends `call` to `p` and waits for the answer, at most until
 * call->deadline_ns. Returns 0 with `resp` filled (any HTTP status; check
 * resp->status and resp->err), or:
 *   -ERR_OFFLINE  the peer is marked offline (no network used);
 *   -ERR_TIMEOUT  the deadline passed (the peer is now offline);
 *   -ERR_IO       connection refused (the peer is now offline), reset, or a
 *                 garbage or truncated answer;
 *   -ERR_TOO_LARGE the answer's body exceeds RPC_MAX_RESP_BODY;
 *   -ERR_PEER_AUTH, -ERR_TIME_SKEWED, -ERR_PEER_VERSION, -ERR_REPLAY,
 *   -ERR_NOT_IMPLEMENTED  refused by the peer (above);
 *   -ERR_INVAL    a malformed call (path, query, method).
 * On error `resp` is left empty. Any thread.
 */
int rpc_call(struct rpc_peer *p, const struct rpc_call *call, struct rpc_resp *resp);

/*
 * Starts a streamed upload (call->body is ignored): connects and sends the
 * request headers, by call->deadline_ns. Returns 0 and `*out`, or the errors
 * of rpc_call() that mean the request could not be sent (offline, deadline,
 * connection refused or reset, a malformed call). The peer's answer, even
 * one it sends as soon as it has the headers (a refusal, an unknown route),
 * is never returned here but by the next write or by finish. The stream
 * must end with rpc_upload_finish() or rpc_upload_abort().
 */
int rpc_upload_begin(struct rpc_peer *p, const struct rpc_call *call, struct rpc_upload **out);
/*
 * Sends `n` bytes: returns once libcurl has handed all of them to the socket
 * (back-pressure from a slow peer blocks here), or the step's deadline
 * passed. Returns 0 or -ERR_* (as rpc_call(); also a refusal the peer sent
 * early). After an error the stream is failed: only finish or abort remain.
 * `p` is not used after the return.
 */
int rpc_upload_write(struct rpc_upload *up, const void *p, size_t n);
/*
 * Sends the stream's end and tag and waits for the answer: returns 0 with
 * `resp` (as rpc_call()), or -ERR_*. Frees `up` in every case.
 */
int rpc_upload_finish(struct rpc_upload *up, struct rpc_resp *resp);
/* Drops the stream (its connection is closed: the peer's handler is told to abort). Frees `up`. */
void rpc_upload_abort(struct rpc_upload *up);
/* Moves the stream's overall deadline (absolute, clock_mono_ns()). */
void rpc_upload_set_deadline(struct rpc_upload *up, int64_t deadline_ns);

/*
 * Starts a call whose answer is streamed: returns 0 once the status and
 * headers are known, with `head` filled (status, err, headers; no body),
 * and `*out`; or the errors of rpc_call().
 */
int rpc_download_begin(struct rpc_peer *p, const struct rpc_call *call, struct rpc_download **out,
                       struct rpc_resp *head);
/*
 * Reads up to `n` bytes of the answer's body into `dst`: returns the number
 * read (> 0), 0 at the end, or -ERR_TIMEOUT (the step's deadline), -ERR_IO
 * (connection lost, truncated body). At most RPC_STREAM_BUFFER * 2 bytes are
 * buffered ahead of the reader.
 */
ssize_t rpc_download_read(struct rpc_download *dl, void *dst, size_t n);
/*
 * Ends the download and frees `dl`. Closed before the end, the connection is
 * dropped rather than drained (it is not returned to the pool).
 */
void rpc_download_close(struct rpc_download *dl);
void rpc_download_set_deadline(struct rpc_download *dl, int64_t deadline_ns);

#endif

/*
 * cluster/internal.h: what rpc.c (the client, plain calls, the prober) and
 * rpc_stream.c (uploads and downloads) share: the client, peer and pooled
 * connection structs, and the transfer machinery over a libcurl multi handle
 * driven by the calling thread.
 */
#ifndef BASALT_CLUSTER_INTERNAL_H
#define BASALT_CLUSTER_INTERNAL_H

#include "util/base.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cluster/rpc.h"

/*
 * One pooled connection: a multi handle (its connection cache holds the
 * kept-alive TCP connection) and an easy handle (the transfer). Used by one
 * call at a time; idle ones sit in their peer's list.
 */
struct rpc_conn {
    struct rpc_conn *next; /* in peer->idle, under peer->lock */
    CURLM *multi;
    CURL *easy;
    struct curl_slist *headers; /* the current transfer's */
    bool added;                 /* easy is in multi */
    /* the current transfer: */
    bool done;
    CURLcode result;
    unsigned status;
    bool headers_done;
    struct buf resp_headers; /* "name\0value\0"..., names lowercase */
    char errbuf[CURL_ERROR_SIZE];
    uint64_t cas_gen; /* https://: the generation of the CAs its last call was set up with */
};

struct rpc_peer {
    struct rpc_client *client;
    char *base; /* "http://host:port" or "https://host:port" */
    char *name; /* "host:port" */
    atomic_bool online;
    pthread_mutex_t lock; /* protects idle and nidle */
    struct rpc_conn *idle;
    unsigned nidle;
    atomic_int_fast64_t refusal_logged_ns; /* rate limit of refusal logs */
    atomic_uint_fast64_t calls, failures, connects, offline, onlines;
    /* rpc_peer_set_metrics(): the histogram of plain calls' durations and its series */
    struct metric *_Atomic duration_ns;
    size_t duration_series; /* written before duration_ns is published */
};

struct rpc_client {
    struct rpc_key key;           /* immutable */
    struct rpc_identity self;     /* immutable */
    struct rpc_client_config cfg; /* immutable; key and self point above */
    atomic_uint_fast64_t next_seq;
    pthread_mutex_t lock; /* protects peers, npeers, stopping */
    pthread_cond_t wake;  /* the prober's sleep (CLOCK_MONOTONIC) */
    struct rpc_peer **peers;
    size_t npeers;
    bool stopping;
    pthread_t prober;
    struct rpc_cas *cas; /* https:// peers' CAs (rpc_tls.c) */
};

/* A connection to `p` from its pool, or a new one. */
struct rpc_conn *rpc__conn_get(struct rpc_peer *p);
/* Back to the pool (or freed if the pool is full). The transfer must be over. */
void rpc__conn_put(struct rpc_peer *p, struct rpc_conn *c);
/*
 * Prepares `c` for `call` to `p`: URL, method, signed headers (body digest
 * `body_sha256`, NULL for a framed stream), response header capture,
 * connect timeout. Returns 0, or -ERR_INVAL (malformed call). Fills `sig`
 * (for a stream's MAC) when non-NULL.
 */
int rpc__setup(struct rpc_peer *p, struct rpc_conn *c, const struct rpc_call *call,
               const uint8_t *body_sha256, uint8_t *sig);
/* Adds the easy handle to the multi: the transfer starts at the next rpc__drive(). */
void rpc__start(struct rpc_conn *c);
/*
 * Runs the transfer until it is done or `until(arg)` holds, at most until
 * `deadline_ns`. Returns 0, or -ERR_TIMEOUT (the transfer is still running),
 * -ERR_IO (libcurl's multi failed).
 */
int rpc__drive(struct rpc_conn *c, int64_t deadline_ns, bool (*until)(void *), void *arg);
/* Removes the easy handle (a transfer not done closes its connection); counts connects. */
void rpc__stop(struct rpc_peer *p, struct rpc_conn *c);
/*
 * The outcome of a transfer that is done, or of rpc__drive()'s error `rc`:
 * marks the peer offline on a timeout or a failed connect, maps libcurl's
 * result and the peer's refusals (X-Basalt-Rpc-Refused) to -ERR_*, logs
 * refusals (rate-limited). `body` is the answer's body when known (for the
 * refusal's sentence). Returns 0 or -ERR_*.
 */
int rpc__outcome(struct rpc_peer *p, struct rpc_conn *c, int rc, struct slice body);
/* Fills `resp`'s status, err and headers from a done transfer. */
void rpc__fill_resp(struct rpc_conn *c, struct rpc_resp *resp);
/* The earlier of `deadline` and now + `step` (step 0: deadline). */
int64_t rpc__step_deadline(int64_t deadline, int64_t step);
/* Counts a call's end in the peer's stats. */
void rpc__count(struct rpc_peer *p, int rc);

/* ---- rpc_tls.c: the CAs https:// peers are verified against ---- */

struct rpc_cas;
struct rpc_cas *rpc__cas_new(void);
/* After the last connection of the client is freed. */
void rpc__cas_free(struct rpc_cas *cas);
/* As rpc_client_set_cas(). */
ssize_t rpc__cas_set(struct rpc_cas *cas, const char *ca_pem, size_t *system_certs,
                     struct buf *errmsg);
/*
 * Makes the transfer on `easy` (just reset) verify a new connection's peer
 * against the current CAs. Returns true if the CAs changed since `*conn_gen`
 * (the pooled connection's generation, 0 when new; updated): the caller
 * must then not reuse the connection it holds.
 */
bool rpc__cas_apply(struct rpc_cas *cas, uint64_t *conn_gen, CURL *easy);

#endif

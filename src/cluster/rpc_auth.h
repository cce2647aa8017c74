/*
 * cluster/rpc_auth.h: authentication of node-to-node RPC calls (DESIGN.md
 * "A cluster"): the cluster key, a node's identity, the signed header set of
 * a call, its verification, and the per-sender anti-replay windows.
 *
 * Key. An HMAC-SHA256 key derived (HKDF-SHA256, fixed labels) from
 * BASALT_CLUSTER_SECRET when it is set, else from the root user and root
 * password. It is never sent: two nodes with different credentials fail
 * each other's verification (the caller is told "cluster-auth").
 *
 * A call carries these headers (rpc_auth_hdr_* below), each signed as sent:
 *
 *   X-Basalt-Rpc-Version    protocol version, decimal ("1"); equals the vN of the path
 *   X-Basalt-Rpc-Node       sender node id, e.g. "127.0.0.2:9000" ([A-Za-z0-9._:[]-], 1-255)
 *   X-Basalt-Rpc-Boot-Id    the sender process's random boot id, 32 lowercase hex digits
 *   X-Basalt-Rpc-Boot-Time  when that process started, wall-clock ns since the epoch
 *   X-Basalt-Rpc-Seq        sequence number, unique per (sender, boot), from 1
 *   X-Basalt-Rpc-Time       when the call was made, wall-clock ms since the epoch
 *   X-Basalt-Rpc-Body       SHA-256 of the body in hex, or RPC_BODY_STREAM (framed body,
 *                           MAC at its end: cluster/rpc_frame.h)
 *   X-Basalt-Rpc-Request-Id the request this call serves, for logs ([A-Za-z0-9._-], 0-64)
 *   X-Basalt-Rpc-Signature  HMAC-SHA256(key, canonical) in hex
 *
 * canonical = for each of the label "basalt-rpc", method, raw path (with
 * "/basalt/rpc/vN"), raw query and the eight header values above in that
 * order: its length as a 32-bit big-endian integer, then its bytes. Length
 * prefixes make the string unambiguous whatever bytes a field holds.
 *
 * Verification (rpc_auth_verify): well-formed headers, signature (constant
 * time), then time: a call more than RPC_MAX_SKEW_MS off the verifier's clock
 * is refused (-ERR_TIME_SKEWED) so the caller can log a clock skew; anything
 * inside that window (a 10-minute skew) works. Then replay (rpc_replay_check):
 * per sender, the newest (boot time, boot id) seen and a sliding bitmap of
 * RPC_REPLAY_WINDOW sequence numbers (IPsec's anti-replay window, RFC 4303
 * 3.4.3; calls arrive out of order over several connections). A sequence
 * number seen before or older than the window, or a boot older than the one
 * seen, is refused (-ERR_REPLAY).
 *
 * Limits, by design: responses are not signed and nothing is encrypted
 * (transport security comes with TLS, another issue); the replay state lives
 * in memory, so a receiver that restarts accepts once more a call captured
 * less than RPC_MAX_SKEW_MS before (the time check bounds that window).
 */
#ifndef BASALT_CLUSTER_RPC_AUTH_H
#define BASALT_CLUSTER_RPC_AUTH_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

#define RPC_PATH_PREFIX "/basalt/rpc/"
#define RPC_VERSION 1 /* the protocol version this node sends */
#define RPC_KEY_SIZE 32
#define RPC_SIG_SIZE 32
#define RPC_BOOT_ID_SIZE 16
#define RPC_NODE_MAX 255
#define RPC_REQUEST_ID_MAX 64
#define RPC_MAX_SKEW_MS (15 * 60 * 1000ll)
#define RPC_REPLAY_WINDOW 65536 /* sequence numbers, a multiple of 64 */
#define RPC_REPLAY_SENDERS 1024 /* senders remembered by one node */
#define RPC_BODY_STREAM "STREAMING-POLY1305-FRAMES"

#define RPC_HDR_VERSION "X-Basalt-Rpc-Version"
#define RPC_HDR_NODE "X-Basalt-Rpc-Node"
#define RPC_HDR_BOOT_ID "X-Basalt-Rpc-Boot-Id"
#define RPC_HDR_BOOT_TIME "X-Basalt-Rpc-Boot-Time"
#define RPC_HDR_SEQ "X-Basalt-Rpc-Seq"
#define RPC_HDR_TIME "X-Basalt-Rpc-Time"
#define RPC_HDR_BODY "X-Basalt-Rpc-Body"
#define RPC_HDR_REQUEST_ID "X-Basalt-Rpc-Request-Id"
#define RPC_HDR_SIGNATURE "X-Basalt-Rpc-Signature"
/* response headers (cluster/rpc_server.h) */
#define RPC_HDR_REFUSED "X-Basalt-Rpc-Refused"
#define RPC_HDR_ERROR "X-Basalt-Rpc-Error"
#define RPC_HDR_VERSIONS "X-Basalt-Rpc-Versions"
#define RPC_HDR_SERVER_TIME "X-Basalt-Rpc-Time"

/* The cluster key; zero it with secure_zero when done. Embeddable, owns nothing. */
struct rpc_key {
    uint8_t _k[RPC_KEY_SIZE];
};

/*
 * Derives the key from `cluster_secret` when it is non-NULL and non-empty
 * (the server passes getenv("BASALT_CLUSTER_SECRET")), else from the root
 * user and password (NULL counts as empty).
 */
void rpc_key_derive(struct rpc_key *out, const char *cluster_secret, const char *root_user,
                    const char *root_password);

/*
 * HMAC-SHA256 (the signatures, the keys derived from the cluster key) and
 * SHA-256 (the signed digest of a call's body): the SHA extensions where
 * the CPU has them, OpenSSL elsewhere; the same results either way.
 */
void rpc_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, uint8_t out[32]);
void rpc_body_sha256(const void *p, size_t n, uint8_t out[32]);

/* Who this process is: the node id given at start-up and this boot. Embeddable. */
struct rpc_identity {
    char node[RPC_NODE_MAX + 1];
    char boot_id[2 * RPC_BOOT_ID_SIZE + 1]; /* lowercase hex */
    int64_t boot_time_ns;                   /* wall clock */
};

/*
 * Fills `id` for node `node` with a random boot id and the current time.
 * Returns 0, or -ERR_INVAL if `node` is empty, too long or holds a byte
 * outside [A-Za-z0-9._:[]-] (`id` unchanged).
 */
int rpc_identity_init(struct rpc_identity *id, const char *node);
/* Whether `s` is a valid node id (see above). */
bool rpc_node_id_valid(struct slice s);

/*
 * The signed header set of one call, as text (slices: borrowed, from the
 * request's headers or from the `_text` below) and parsed.
 */
struct rpc_auth_hdr {
    struct slice version, node, boot_id, boot_time, seq, time, body, request_id, signature;
    /* parsed by rpc_auth_hdr_parse (or set by rpc_auth_hdr_make): */
    unsigned v;
    uint8_t boot[RPC_BOOT_ID_SIZE];
    int64_t boot_time_ns;
    uint64_t seq_no;
    int64_t time_ms;
    bool streaming; /* body == RPC_BODY_STREAM */
    uint8_t body_sha256[32];
    uint8_t sig[RPC_SIG_SIZE];
    char _text[640]; /* rpc_auth_hdr_make's storage of the values */
};

/* Looks up a request header by name (case-insensitive); false if absent. */
typedef bool rpc_header_get_fn(void *arg, const char *name, struct slice *out);
/* Emits one header of a call. */
typedef void rpc_header_put_fn(void *arg, const char *name, struct slice value);

/*
 * Parses the nine headers through `get`. Returns 0, or -ERR_AUTH_MALFORMED
 * when one is missing or malformed (`*h` then undefined).
 */
int rpc_auth_hdr_parse(rpc_header_get_fn *get, void *arg, struct rpc_auth_hdr *h);

/*
 * Builds and signs the header set of a call by `self` at `time_ms` (wall
 * clock), with `body_sha256` (NULL for a streaming body), for `method`,
 * `path` (raw, with "/basalt/rpc/vN") and `query` (raw). `request_id` is
 * truncated to RPC_REQUEST_ID_MAX and its invalid bytes replaced by '_'.
 */
void rpc_auth_hdr_make(struct rpc_auth_hdr *h, const struct rpc_key *key,
                       const struct rpc_identity *self, unsigned version, uint64_t seq,
                       int64_t time_ms, const uint8_t *body_sha256, const char *request_id,
                       struct slice method, struct slice path, struct slice query);
/* Calls put() for each of the nine headers of `h`. */
void rpc_auth_hdr_emit(const struct rpc_auth_hdr *h, rpc_header_put_fn *put, void *arg);

/* The signature of `h`'s values for that request. */
void rpc_auth_sign(const struct rpc_key *key, struct slice method, struct slice path,
                   struct slice query, const struct rpc_auth_hdr *h, uint8_t out[RPC_SIG_SIZE]);

/*
 * Checks the signature of a parsed `h` for that request, then its time
 * against `now_ms`. Returns 0, -ERR_SIG_MISMATCH, or -ERR_TIME_SKEWED.
 * Pure: no replay state (see rpc_replay_check).
 */
int rpc_auth_verify(const struct rpc_key *key, struct slice method, struct slice path,
                    struct slice query, const struct rpc_auth_hdr *h, int64_t now_ms);

/*
 * Per-sender anti-replay state (bounded: RPC_REPLAY_SENDERS senders of
 * 8 KiB each). Thread-safe: a lock over the sender table, taken briefly,
 * plus one lock per sender.
 */
struct rpc_replay;

struct rpc_replay *rpc_replay_new(void);
void rpc_replay_free(struct rpc_replay *t);
/*
 * Checks the (node, boot, seq) of a verified `h`; when `commit`, also records
 * it. Returns 0, or -ERR_REPLAY (a sequence number already recorded or older
 * than the window, a boot older than the newest seen from that node), or
 * -ERR_BUSY (RPC_REPLAY_SENDERS other senders already known: nothing recorded).
 */
int rpc_replay_check(struct rpc_replay *t, const struct rpc_auth_hdr *h, bool commit);

#endif

/*
 * cluster/rpc_frame.h: the framed, authenticated body of a streaming RPC
 * upload (a shard file: GiBs, written in pieces as a PUT produces them).
 *
 * Wire format of the body (sent with Transfer-Encoding: chunked; the frames
 * are independent of the chunks):
 *
 *   frame* end
 *   frame = len:u32 big-endian (1..RPC_FRAME_MAX) then `len` bytes of data
 *   end   = 0:u32 then the 16-byte tag
 *
 * The tag is Poly1305 over every byte before it (frame headers, data, the
 * zero length), keyed with a one-time key derived from the cluster key and
 * the request's signature: HMAC-SHA256(key, "basalt-rpc-stream" || sig). The
 * signature is unique per call (it signs the sequence number), so a key is
 * never used twice, as Poly1305 requires. Why Poly1305 and not HMAC-SHA256:
 * OpenSSL's Poly1305 runs at several GB/s (AVX2/AVX-512), about 3 times
 * HMAC-SHA256 with the SHA extensions; shard streams carry GiBs.
 *
 * The receiver hands each piece of data on before the tag is known; only a
 * verified end (rpc_frame_finish() == 0) makes the stream good. A truncated
 * stream, a bad length, bytes after the tag or a wrong tag fail it.
 */
#ifndef BASALT_CLUSTER_RPC_FRAME_H
#define BASALT_CLUSTER_RPC_FRAME_H

#include "util/base.h"

#include "cluster/rpc_auth.h"

#define RPC_TAG_SIZE 16
#define RPC_FRAME_HDR_SIZE 4
#define RPC_FRAME_MAX (16u << 20)

/* A running stream MAC. Not thread-safe: one stream, one thread at a time. */
struct rpc_mac;

/* A new MAC for the stream of the call signed `sig`. */
struct rpc_mac *rpc_mac_new(const struct rpc_key *key, const uint8_t sig[RPC_SIG_SIZE]);
void rpc_mac_update(struct rpc_mac *m, const void *p, size_t n);
/* Writes the tag; the MAC must not be updated afterwards. */
void rpc_mac_final(struct rpc_mac *m, uint8_t tag[RPC_TAG_SIZE]);
void rpc_mac_free(struct rpc_mac *m);

/* Writes the header of a frame of `len` bytes (0: the end, the tag follows). */
void rpc_frame_hdr(uint8_t out[RPC_FRAME_HDR_SIZE], uint32_t len);

/* Receives a piece of data (not yet authenticated); returns 0 or -ERR_* (fails the stream). */
typedef int rpc_frame_data_fn(void *arg, const void *p, size_t n);

/* The receiving side's incremental parser. Embeddable; fields are internal. */
struct rpc_frame_parser {
    struct rpc_mac *_mac; /* owned */
    rpc_frame_data_fn *_fn;
    void *_arg;
    int _state;
    int _rc; /* sticky failure */
    uint32_t _left;
    unsigned _n; /* bytes of the current header or tag */
    uint8_t _hdr[RPC_FRAME_HDR_SIZE];
    uint8_t _tag[RPC_TAG_SIZE];
    uint64_t bytes; /* data bytes handed to fn so far */
};

/* Starts parsing a stream authenticated by `mac` (the parser takes it over). */
void rpc_frame_parser_init(struct rpc_frame_parser *p, struct rpc_mac *mac, rpc_frame_data_fn *fn,
                           void *arg);
/*
 * Feeds the next `n` bytes of the body (any split). Returns 0, or (sticky)
 * -ERR_INVALID_CHUNK (a frame length of 0 with no tag after it, above
 * RPC_FRAME_MAX, or bytes after the tag), -ERR_SIG_MISMATCH (wrong tag), or
 * the error of fn.
 */
int rpc_frame_feed(struct rpc_frame_parser *p, const void *data, size_t n);
/*
 * At the end of the body: 0 when the tag was received and matched, else the
 * sticky error or -ERR_INCOMPLETE_BODY (the stream stops before its tag).
 */
int rpc_frame_finish(struct rpc_frame_parser *p);
void rpc_frame_parser_release(struct rpc_frame_parser *p);

#endif

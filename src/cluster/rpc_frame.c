/*
 * cluster/rpc_frame.c: the stream MAC (OpenSSL's Poly1305 through EVP_MAC)
 * and the incremental parser of framed upload bodies (see rpc_frame.h).
 *
 * The parser is a three-state machine fed pieces of any size:
 *
 *   HDR --len > 0--> DATA --len bytes--> HDR
 *   HDR --len == 0--> TAG --16 bytes, match--> DONE (more bytes: error)
 *
 * Data is handed on in place (no copy); only headers and the tag are
 * gathered across pieces.
 */
#include "util/base.h"

#include "cluster/rpc_frame.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "util/err.h"

enum { ST_HDR, ST_DATA, ST_TAG, ST_DONE };

struct rpc_mac {
    EVP_MAC_CTX *ctx;
};

struct rpc_mac *
rpc_mac_new(const struct rpc_key *key, const uint8_t sig[RPC_SIG_SIZE])
{
    static const char label[] = "basalt-rpc-stream";
    uint8_t msg[sizeof(label) - 1 + RPC_SIG_SIZE], otk[32];
    struct rpc_mac *m = xcalloc(1, sizeof(*m));
    EVP_MAC *mac;

    memcpy(msg, label, sizeof(label) - 1);
    memcpy(msg + sizeof(label) - 1, sig, RPC_SIG_SIZE);
    rpc_hmac_sha256(key->_k, sizeof(key->_k), msg, sizeof(msg), otk);
    mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
    BUG_ON(!mac);
    m->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    BUG_ON(!m->ctx || EVP_MAC_init(m->ctx, otk, sizeof(otk), NULL) != 1);
    secure_zero(otk, sizeof(otk));
    return m;
}

void
rpc_mac_update(struct rpc_mac *m, const void *p, size_t n)
{
    if (n)
        BUG_ON(EVP_MAC_update(m->ctx, p, n) != 1);
}

void
rpc_mac_final(struct rpc_mac *m, uint8_t tag[RPC_TAG_SIZE])
{
    size_t len = 0;

    BUG_ON(EVP_MAC_final(m->ctx, tag, &len, RPC_TAG_SIZE) != 1 || len != RPC_TAG_SIZE);
}

void
rpc_mac_free(struct rpc_mac *m)
{
    if (!m)
        return;
    EVP_MAC_CTX_free(m->ctx);
    free(m);
}

void
rpc_frame_hdr(uint8_t out[RPC_FRAME_HDR_SIZE], uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}

void
rpc_frame_parser_init(struct rpc_frame_parser *p, struct rpc_mac *mac, rpc_frame_data_fn *fn,
                      void *arg)
{
    memset(p, 0, sizeof(*p));
    p->_mac = mac;
    p->_fn = fn;
    p->_arg = arg;
    p->_state = ST_HDR;
}

void
rpc_frame_parser_release(struct rpc_frame_parser *p)
{
    rpc_mac_free(p->_mac);
    p->_mac = NULL;
}

/* A complete frame header in p->_hdr: the next state. */
static int
on_header(struct rpc_frame_parser *p)
{
    uint32_t len = (uint32_t)p->_hdr[0] << 24 | (uint32_t)p->_hdr[1] << 16 |
                   (uint32_t)p->_hdr[2] << 8 | p->_hdr[3];

    rpc_mac_update(p->_mac, p->_hdr, sizeof(p->_hdr));
    p->_n = 0;
    if (len > RPC_FRAME_MAX)
        return -ERR_INVALID_CHUNK;
    p->_left = len;
    p->_state = len ? ST_DATA : ST_TAG;
    return 0;
}

static int
on_tag(struct rpc_frame_parser *p)
{
    uint8_t want[RPC_TAG_SIZE];

    rpc_mac_final(p->_mac, want);
    p->_state = ST_DONE;
    return ct_equal(want, p->_tag, sizeof(want)) ? 0 : -ERR_SIG_MISMATCH;
}

/* Consumes up to `n` bytes in the current state; returns the bytes used or -ERR_*. */
static ssize_t
feed_step(struct rpc_frame_parser *p, const uint8_t *d, size_t n)
{
    size_t take;
    int rc = 0;

    switch (p->_state) {
    case ST_HDR:
        take = MIN(n, sizeof(p->_hdr) - p->_n);
        memcpy(p->_hdr + p->_n, d, take);
        p->_n += (unsigned)take;
        if (p->_n == sizeof(p->_hdr))
            rc = on_header(p);
        break;
    case ST_DATA:
        take = MIN(n, p->_left);
        rpc_mac_update(p->_mac, d, take);
        rc = p->_fn(p->_arg, d, take);
        p->bytes += take;
        p->_left -= (uint32_t)take;
        if (p->_left == 0)
            p->_state = ST_HDR;
        break;
    case ST_TAG:
        take = MIN(n, sizeof(p->_tag) - p->_n);
        memcpy(p->_tag + p->_n, d, take);
        p->_n += (unsigned)take;
        if (p->_n == sizeof(p->_tag))
            rc = on_tag(p);
        break;
    default:
        return -ERR_INVALID_CHUNK; /* bytes after the tag */
    }
    return rc < 0 ? rc : (ssize_t)take;
}

int
rpc_frame_feed(struct rpc_frame_parser *p, const void *data, size_t n)
{
    const uint8_t *d = data;
    ssize_t used;

    while (p->_rc == 0 && n > 0) {
        used = feed_step(p, d, n);
        if (used < 0) {
            p->_rc = (int)used;
            break;
        }
        d += used;
        n -= (size_t)used;
    }
    return p->_rc;
}

int
rpc_frame_finish(struct rpc_frame_parser *p)
{
    if (p->_rc == 0 && p->_state != ST_DONE)
        p->_rc = -ERR_INCOMPLETE_BODY;
    return p->_rc;
}

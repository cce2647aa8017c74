/*
 * fuzz/rpc_frames.c: the parser of framed, MACed upload bodies
 * (cluster/rpc_frame.h) on arbitrary bytes. The first input byte picks the
 * mode and the split:
 *   - odd: the rest is a body, fed to the parser in pieces of 1 + byte0 / 2
 *     bytes; whatever it holds, the parser must not hand out more bytes than
 *     it was fed, and a body it accepts must end exactly with a good tag;
 *   - even: the rest is data, framed with frames of 1 + byte0 bytes and the
 *     tag of the stream's key, then parsed whole: it must verify and give the
 *     data back; with any one byte of the encoding flipped it must not.
 */
#include "util/base.h"

#include "cluster/rpc_frame.h"
#include "util/buf.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
collect(void *arg, const void *p, size_t n)
{
    buf_add(arg, p, n);
    return 0;
}

static int
parse(const struct rpc_key *k, const uint8_t *sig, const uint8_t *p, size_t n, size_t piece,
      struct buf *out)
{
    struct rpc_frame_parser fp;
    size_t off;
    int rc = 0;

    rpc_frame_parser_init(&fp, rpc_mac_new(k, sig), collect, out);
    for (off = 0; off < n && rc == 0; off += piece)
        rc = rpc_frame_feed(&fp, p + off, MIN(piece, n - off));
    rc = rpc_frame_finish(&fp);
    rpc_frame_parser_release(&fp);
    return rc;
}

static void
encode(const struct rpc_key *k, const uint8_t *sig, const uint8_t *p, size_t n, size_t fmax,
       struct buf *out)
{
    struct rpc_mac *m = rpc_mac_new(k, sig);
    uint8_t hdr[RPC_FRAME_HDR_SIZE], tag[RPC_TAG_SIZE];
    size_t off, len;

    for (off = 0; off < n; off += len) {
        len = MIN(fmax, n - off);
        rpc_frame_hdr(hdr, (uint32_t)len);
        rpc_mac_update(m, hdr, sizeof(hdr));
        rpc_mac_update(m, p + off, len);
        buf_add(out, hdr, sizeof(hdr));
        buf_add(out, p + off, len);
    }
    rpc_frame_hdr(hdr, 0);
    rpc_mac_update(m, hdr, sizeof(hdr));
    rpc_mac_final(m, tag);
    buf_add(out, hdr, sizeof(hdr));
    buf_add(out, tag, sizeof(tag));
    rpc_mac_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sig[RPC_SIG_SIZE] = { 0 };
    struct buf enc = BUF_INIT, out = BUF_INIT;
    struct rpc_key k;
    int rc;

    if (size == 0)
        return 0;
    rpc_key_derive(&k, "fuzz", NULL, NULL);
    if (data[0] & 1) {
        rc = parse(&k, sig, data + 1, size - 1, 1 + data[0] / 2, &out);
        if (out.len > size || (rc == 0 && size - 1 < RPC_FRAME_HDR_SIZE + RPC_TAG_SIZE))
            abort();
    } else {
        encode(&k, sig, data + 1, size - 1, 1 + data[0], &enc);
        if (parse(&k, sig, (uint8_t *)enc.ptr, enc.len, enc.len, &out) != 0 ||
            out.len != size - 1 || memcmp(out.ptr, data + 1, size - 1) != 0)
            abort();
        enc.ptr[size % enc.len] ^= 0x01;
        buf_clear(&out);
        if (parse(&k, sig, (uint8_t *)enc.ptr, enc.len, 7, &out) == 0)
            abort();
    }
    buf_release(&enc);
    buf_release(&out);
    return 0;
}

/*
 * fuzz/layout_decode.c: libFuzzer target over layout_decode(), the parser of
 * the layout a peer sends in the start-up handshake (cluster/layout.h). Any
 * input must either fail with a message, or decode to a layout whose pools
 * split into valid sets, whose endpoints are URLs on known nodes, and which
 * encodes and decodes again to the same digest with no difference.
 * Seeds: fuzz/corpus/layout_decode/; dictionary: fuzz/dict/layout.dict.
 *
 *   make fuzz && build-fuzzer/fuzz/layout_decode -dict=fuzz/dict/layout.dict \
 *       -max_total_time=60 fuzz/corpus/layout_decode
 */
#include "util/base.h"

#include "cluster/layout.h"
#include "util/buf.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_layout(const struct layout *l)
{
    struct buf w = BUF_INIT;
    size_t p, i, n;

    if (!layout_is_cluster(l) || layout_pool_count(l) == 0 || layout_node_count(l) == 0)
        abort();
    for (p = 0; p < layout_pool_count(l); p++) {
        const struct endpoint *e = layout_pool_drives(l, p, &n);
        unsigned s = layout_set_size(l, p), m = layout_parity(l, p);

        if (s < LAYOUT_MIN_SET || s > LAYOUT_MAX_SET || n % s || m < 1 || m > s / 2)
            abort();
        for (i = 0; i < n; i++)
            if (!e[i].is_url || e[i].node >= layout_node_count(l) || e[i].is_local)
                abort();
    }
    (void)layout_spread_warnings(l, &w);
    buf_release(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct layout *l = NULL, *again = NULL;
    struct buf msg = BUF_INIT, enc = BUF_INIT, why = BUF_INIT;
    char d1[LAYOUT_DIGEST_HEX], d2[LAYOUT_DIGEST_HEX];
    int rc = layout_decode((const char *)data, size, &l, &msg);

    if (rc < 0) {
        if (msg.len == 0 || l || (rc != -ERR_INVAL && rc != -ERR_TOO_LARGE))
            abort();
        goto out;
    }
    check_layout(l);
    if (layout_encode(l, &enc) < 0 || enc.len > LAYOUT_MAX_ENCODED)
        abort();
    if (layout_decode(enc.ptr, enc.len, &again, &msg) < 0)
        abort();
    layout_digest(l, d1);
    layout_digest(again, d2);
    if (layout_diff(l, again, &why) || why.len || strcmp(d1, d2) != 0)
        abort();
out:
    layout_free(l);
    layout_free(again);
    buf_release(&msg);
    buf_release(&enc);
    buf_release(&why);
    return 0;
}

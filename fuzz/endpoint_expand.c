/*
 * fuzz/endpoint_expand.c: ellipsis expansion, endpoint parsing and layout
 * building on arbitrary bytes. The input, cut at its first NUL, is split at
 * '\n' into arguments for endpoint_expand_all (every expansion must stay
 * within the limit and be non-empty) and for layout_from_args (a layout must
 * have valid sets and nodes; a cluster layout must encode and decode again
 * to the same digest, and re-parsing every endpoint's canonical text must
 * give the same text). Errors must come with a message.
 */
#include "util/base.h"

#include "cluster/endpoint.h"
#include "cluster/layout.h"
#include "util/buf.h"

#define MAX_ARGS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_expand(int argc, char **argv)
{
    struct endpoint_list l = ENDPOINT_LIST_INIT;
    struct buf msg = BUF_INIT;
    size_t i;

    if (endpoint_expand_all(argc, argv, &l, &msg) == 0) {
        if (l.n > (size_t)argc * ENDPOINT_MAX_EXPANSION)
            abort();
        for (i = 0; i < l.n; i++)
            if (!l.items[i][0])
                abort();
    } else if (msg.len == 0 || l.n != 0) {
        abort();
    }
    endpoint_list_release(&l);
    buf_release(&msg);
}

/* Every endpoint's text parses again to the same text. */
static void
check_endpoints(const struct layout *l)
{
    size_t p, i, n;

    for (p = 0; p < layout_pool_count(l); p++) {
        const struct endpoint *e = layout_pool_drives(l, p, &n);
        unsigned s = layout_set_size(l, p);

        if (s < LAYOUT_MIN_SET || s > LAYOUT_MAX_SET || n % s || layout_parity(l, p) > s / 2)
            abort();
        for (i = 0; i < n; i++) {
            struct endpoint again;

            if (e[i].node >= layout_node_count(l) || endpoint_parse(e[i].text, 0, &again, NULL) < 0)
                abort();
            if (strcmp(again.text, e[i].text) != 0)
                abort();
            endpoint_release(&again);
        }
    }
}

static void
check_layout(int argc, char **argv)
{
    static const struct layout_opts opts = { .default_port = 9000 };
    struct layout *l = NULL, *again = NULL;
    struct buf msg = BUF_INIT, enc = BUF_INIT;

    if (layout_from_args(argc, argv, &opts, &l, &msg) < 0) {
        if (msg.len == 0 || l)
            abort();
        goto out;
    }
    check_endpoints(l);
    (void)layout_spread_warnings(l, &msg);
    if (layout_is_cluster(l)) {
        if (layout_encode(l, &enc) < 0 || layout_decode(enc.ptr, enc.len, &again, NULL) < 0)
            abort();
        if (layout_diff(l, again, NULL))
            abort();
    }
out:
    layout_free(l);
    layout_free(again);
    buf_release(&msg);
    buf_release(&enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size), *argv[MAX_ARGS], *p = s;
    int argc = 0;

    while (p && argc < MAX_ARGS) {
        argv[argc++] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    check_expand(argc, argv);
    check_layout(argc, argv);
    free(s);
    return 0;
}

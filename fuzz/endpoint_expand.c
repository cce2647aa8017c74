/*
 * fuzz/endpoint_expand.c: ellipsis expansion on arbitrary bytes. The input,
 * cut at its first NUL, is split at '\n' into arguments for
 * endpoint_expand_all; every expansion must stay within the limit and be
 * non-empty.
 */
#include "util/base.h"

#include "cluster/endpoint.h"
#include "util/buf.h"

#define MAX_ARGS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size), *argv[MAX_ARGS], *p = s;
    struct endpoint_list l = ENDPOINT_LIST_INIT;
    struct buf msg = BUF_INIT;
    int argc = 0;
    size_t i;

    while (p && argc < MAX_ARGS) {
        argv[argc++] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
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
    free(s);
    return 0;
}

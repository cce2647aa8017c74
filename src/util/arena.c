/*
 * util/arena.c: the request arena: a list of chunks, each bumped until full,
 * and a stack of deferred cleanups (after nginx's pool and its cleanup
 * handlers). Requests larger than a quarter of a chunk get their own chunk.
 */
#include "util/base.h"

#include "util/arena.h"

#include <stdarg.h>

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 16

struct arena_chunk {
    struct arena_chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
    struct arena_cleanup *next;
    arena_defer_fn *fn; /* NULL once cancelled */
    void *arg;
};

struct arena {
    struct arena_chunk *chunks; /* the current chunk first */
    struct arena_cleanup *cleanups;
    size_t bytes;
};

static struct arena_chunk *
chunk_new(struct arena *a, size_t size)
{
    struct arena_chunk *c = xmalloc(sizeof(*c) + size);

    c->size = size;
    c->used = 0;
    a->bytes += sizeof(*c) + size;
    return c;
}

struct arena *
arena_new(size_t hint)
{
    struct arena *a = xcalloc(1, sizeof(*a));

    a->chunks = chunk_new(a, hint ? hint : ARENA_CHUNK);
    a->chunks->next = NULL;
    return a;
}

void
arena_free(struct arena *a)
{
    struct arena_chunk *c, *next;
    struct arena_cleanup *cl;

    if (!a)
        return;
    /* Cleanups live in the arena's memory: run them all before freeing chunks. */
    for (cl = a->cleanups; cl; cl = cl->next)
        if (cl->fn)
            cl->fn(cl->arg);
    for (c = a->chunks; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = a->chunks;
    size_t off = (c->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

    if (n == 0)
        n = 1;
    if (off + n <= c->size) {
        c->used = off + n;
        return c->data + off;
    }
    if (n > ARENA_CHUNK / 4) {
        /* A big block: its own chunk, linked behind the current one. */
        struct arena_chunk *big = chunk_new(a, n);

        big->used = n;
        big->next = c->next;
        c->next = big;
        return big->data;
    }
    c = chunk_new(a, ARENA_CHUNK);
    c->next = a->chunks;
    a->chunks = c;
    c->used = n;
    return c->data;
}

void *
arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);

    memset(p, 0, n);
    return p;
}

char *
arena_slicedup(struct arena *a, struct slice s)
{
    char *p = arena_alloc(a, s.len + 1);

    if (s.len)
        memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
    return arena_slicedup(a, slice_cstr(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    BUG_ON(n < 0);
    p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *
arena_defer(struct arena *a, arena_defer_fn *fn, void *arg)
{
    struct arena_cleanup *cl = arena_alloc(a, sizeof(*cl));

    cl->fn = fn;
    cl->arg = arg;
    cl->next = a->cleanups;
    a->cleanups = cl;
    return cl;
}

void
arena_cancel(struct arena *a, void *handle)
{
    struct arena_cleanup *cl = handle;

    if (cl)
        cl->fn = NULL;
}

size_t
arena_bytes(const struct arena *a)
{
    return a->bytes;
}

/*
 * util/bufpool.h: a recycling pool of large buffers (STYLE 2.5, item 3).
 *
 * Object bytes move through buffers of a block's shards (hundreds of KiB
 * each). Allocated and freed per request, such a buffer comes from mmap and
 * goes back with munmap or madvise, and each request then pays a page fault
 * and a page clear per 4 KiB touched: on 1 MiB GETs that was a third of the
 * server's CPU (docs/benchmarks.md, "1 MiB GET"). A pool keeps returned
 * buffers, up to a bound on the bytes it holds, and hands them out again.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef BASALT_UTIL_BUFPOOL_H
#define BASALT_UTIL_BUFPOOL_H

#include "util/base.h"

struct bufpool;

struct bufpool_stats {
    size_t held_bytes;  /* buffers kept for reuse */
    size_t held;        /* how many */
    uint64_t reused;    /* bufpool_get() answered from the pool */
    uint64_t allocated; /* bufpool_get() that had to allocate */
};

/*
 * A pool that keeps at most `max_bytes` of returned buffers (0: keeps none),
 * each of `min_bytes` or more: smaller ones come from malloc's own free
 * lists cheaply, and would take the pool's slots from the large ones.
 */
struct bufpool *bufpool_new(size_t min_bytes, size_t max_bytes);
/* Frees the pool and every buffer it holds (buffers handed out stay the caller's). */
void bufpool_free(struct bufpool *p);
/*
 * A buffer of at least `len` bytes (uninitialised), its capacity in `*cap`:
 * a kept one of capacity len to 2 * len when there is one, else a new one.
 * The caller returns it with bufpool_put() (or free()).
 */
void *bufpool_get(struct bufpool *p, size_t len, size_t *cap);
/*
 * Takes ownership of `buf` (capacity `cap`, from bufpool_get(); NULL is
 * ignored): kept for reuse while the pool holds less than its bound, else
 * freed.
 */
void bufpool_put(struct bufpool *p, void *buf, size_t cap);
void bufpool_get_stats(struct bufpool *p, struct bufpool_stats *st);

#endif

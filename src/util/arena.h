/*
 * util/arena.h: the request arena (STYLE 2.5.2). A bump allocator for memory
 * that lives exactly as long as one request: parsed headers, query
 * parameters, XML output, listing pages. Non-memory resources (an open
 * streaming PUT, a memory-budget reservation) are registered with
 * arena_defer() and released, in reverse order of registration, by
 * arena_free(). Object bytes never go in an arena (STYLE 2.5.3).
 *
 * An arena is used by one thread at a time (the request's connection thread).
 */
#ifndef BASALT_UTIL_ARENA_H
#define BASALT_UTIL_ARENA_H

#include "util/base.h"

#include "util/slice.h"

struct arena;

typedef void arena_defer_fn(void *arg);

/* A new empty arena whose first chunk holds `hint` bytes (0: a default). */
struct arena *arena_new(size_t hint);
/* Runs the deferred cleanups (last registered first), then frees all memory. */
void arena_free(struct arena *a);

/* `n` bytes aligned for any type, uninitialized; never NULL (aborts on OOM). */
void *arena_alloc(struct arena *a, size_t n);
/* `n` zeroed bytes. */
void *arena_zalloc(struct arena *a, size_t n);
/* A NUL-terminated copy of `s` in the arena. */
char *arena_strdup(struct arena *a, const char *s);
/* A NUL-terminated copy of the bytes of `s` (which may hold NULs). */
char *arena_slicedup(struct arena *a, struct slice s);
/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * Registers `fn(arg)` to run when the arena is freed. Cleanups run in reverse
 * order of registration. Returns a handle for arena_cancel().
 */
void *arena_defer(struct arena *a, arena_defer_fn *fn, void *arg);
/* Unregisters a cleanup (it will not run); for resources released early. */
void arena_cancel(struct arena *a, void *handle);

/* Bytes allocated from the system by this arena (for metrics). */
size_t arena_bytes(const struct arena *a);

#endif

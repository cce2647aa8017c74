/*
 * cluster/lock_internal.h: what the files of the lock service share and
 * nothing outside cluster/ may include (STYLE 2.2): the base structs every
 * implementation embeds first, its table of operations (SQLite VFS style,
 * STYLE 2.1), and the name hash.
 *
 * lock.c holds the public wrappers of lock.h: they check the arguments and
 * call through `ls->ops`. An implementation embeds `struct lock_service`
 * first and calls lock__init() with its `const struct lock_ops`, and embeds
 * `struct lock_held` first in its held locks, filling `ls` and `resource`.
 */
#ifndef BASALT_CLUSTER_LOCK_INTERNAL_H
#define BASALT_CLUSTER_LOCK_INTERNAL_H

#include "util/base.h"

#include <stdatomic.h>

#include "cluster/lock.h"

/* Every op is mandatory. The wrappers have validated the arguments. */
struct lock_ops {
    const char *name; /* "local", "quorum" */
    int (*acquire)(struct lock_service *ls, const char *resource, enum lock_mode mode,
                   int64_t deadline_ns, struct lock_held **out);
    void (*release)(struct lock_held *h);
    bool (*is_lost)(const struct lock_held *h);
    void (*free)(struct lock_service *ls);
};

struct lock_service {
    const struct lock_ops *ops;
    struct lock_metrics *_Atomic metrics; /* lock_service_set_metrics(): set once, then read */
};

struct lock_held {
    struct lock_service *ls;
    const char *resource; /* owned by the implementation's struct */
};

/* Sets `ls->ops` after checking that every op is there (BUG_ON otherwise). */
void lock__init(struct lock_service *ls, const struct lock_ops *ops);

/* FNV-1a 64 of a NUL-terminated name: picks stripes and hash chains. */
static inline uint64_t
lock__hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

#endif

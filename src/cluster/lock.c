/*
 * cluster/lock.c: the public wrappers of the lock service (cluster/lock.h).
 * They validate the arguments once for every implementation and call through
 * the service's table of operations (cluster/lock_internal.h).
 */
#include "util/base.h"

#include "cluster/lock.h"

#include "cluster/lock_internal.h"
#include "util/err.h"

void
lock__init(struct lock_service *ls, const struct lock_ops *ops)
{
    BUG_ON(!ops || !ops->name);
    BUG_ON(!ops->acquire || !ops->release || !ops->is_lost || !ops->free);
    ls->ops = ops;
}

int
lock_acquire(struct lock_service *ls, const char *resource, enum lock_mode mode,
             int64_t deadline_ns, struct lock_held **out)
{
    if (!resource || strnlen(resource, LOCK_RESOURCE_MAX + 1) > LOCK_RESOURCE_MAX)
        return -ERR_INVAL;
    if (mode != LOCK_READ && mode != LOCK_WRITE)
        return -ERR_INVAL;
    return ls->ops->acquire(ls, resource, mode, deadline_ns, out);
}

void
lock_release(struct lock_held *h)
{
    if (h)
        h->ls->ops->release(h);
}

bool
lock_is_lost(const struct lock_held *h)
{
    return h->ls->ops->is_lost(h);
}

const char *
lock_held_resource(const struct lock_held *h)
{
    return h->resource;
}

void
lock_service_free(struct lock_service *ls)
{
    if (ls)
        ls->ops->free(ls);
}

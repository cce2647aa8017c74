/*
 * cluster/lock.c: the public wrappers of the lock service (cluster/lock.h).
 * They validate the arguments once for every implementation and call through
 * the service's table of operations (cluster/lock_internal.h).
 */
#include "util/base.h"

#include "cluster/lock.h"

#include "cluster/lock_internal.h"
#include "obs/metrics.h"
#include "util/clock.h"
#include "util/err.h"

void
lock__init(struct lock_service *ls, const struct lock_ops *ops)
{
    BUG_ON(!ops || !ops->name);
    BUG_ON(!ops->acquire || !ops->release || !ops->is_lost || !ops->free);
    ls->ops = ops;
    atomic_init(&ls->metrics, NULL);
}

void
lock_service_set_metrics(struct lock_service *ls, const struct lock_metrics *lm)
{
    struct lock_metrics *copy = xmalloc(sizeof(*copy)), *none = NULL;

    *copy = *lm;
    if (!atomic_compare_exchange_strong(&ls->metrics, &none, copy))
        free(copy);
}

static void
count_acquire(struct lock_service *ls, enum lock_mode mode, int rc, int64_t ns)
{
    struct lock_metrics *lm = atomic_load_explicit(&ls->metrics, memory_order_acquire);
    size_t m = mode == LOCK_READ ? 0 : 1;
    enum lock_outcome o = rc == 0              ? LOCK_OUTCOME_GRANTED
                          : rc == -ERR_TIMEOUT ? LOCK_OUTCOME_TIMEOUT
                                               : LOCK_OUTCOME_FAILED;

    if (!lm)
        return;
    if (lm->acquire_ns)
        metric_observe(lm->acquire_ns, m, ns > 0 ? (uint64_t)ns : 0);
    if (lm->outcomes)
        metric_add(lm->outcomes, m * LOCK_OUTCOMES + o, 1);
}

int
lock_acquire(struct lock_service *ls, const char *resource, enum lock_mode mode,
             int64_t deadline_ns, struct lock_held **out)
{
    int64_t t0;
    int rc;

    if (!resource || strnlen(resource, LOCK_RESOURCE_MAX + 1) > LOCK_RESOURCE_MAX)
        return -ERR_INVAL;
    if (mode != LOCK_READ && mode != LOCK_WRITE)
        return -ERR_INVAL;
    t0 = clock_mono_ns();
    rc = ls->ops->acquire(ls, resource, mode, deadline_ns, out);
    count_acquire(ls, mode, rc, clock_mono_ns() - t0);
    return rc;
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
    struct lock_metrics *lm;

    if (!ls)
        return;
    lm = atomic_exchange(&ls->metrics, NULL);
    ls->ops->free(ls);
    free(lm);
}

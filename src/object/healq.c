/*
 * object/healq.c: part of the layer's floor (internal.h): the heal queue.
 * Reads and writes that met a missing, stale or corrupt copy queue the
 * object here; the heal worker (heal.c) takes items in order. The queue
 * holds at most OBJ_HEAL_QUEUE_MAX items: past that, new items are dropped
 * (and found again by the next full heal), said at most once a minute.
 */
#include "util/base.h"

#include "obs/log.h"
#include "object/internal.h"
#include "util/clock.h"

static bool
set_has_offline(const struct eset *set)
{
    unsigned j;

    for (j = 0; j < set->n; j++)
        if (!drive_is_online(set->drives[j]))
            return true;
    return false;
}

void
object__heal_enqueue(struct objlayer *ol, const char *bucket, const char *key)
{
    struct heal_item *it;

    /*
     * A write that missed a drive which is offline now (a node down): there
     * is nothing to heal until it is back, and healing would only read every
     * drive for nothing. Parked at once.
     */
    if (key && set_has_offline(object__pick_set(ol, bucket, key))) {
        it = xcalloc(1, sizeof(*it));
        it->bucket = xstrdup(bucket);
        it->key = xstrdup(key);
        object__heal_park(ol, it);
        return;
    }
    pthread_mutex_lock(&ol->heal_mu);
    if (ol->heal_len >= OBJ_HEAL_QUEUE_MAX || ol->stopping) {
        bool full = !ol->stopping;

        pthread_mutex_unlock(&ol->heal_mu);
        /* Dropped work is found again by `basalt admin heal`; say so, at most once a minute. */
        if (full && clock_mono_ns() - __atomic_load_n(&ol->heal_full_logged_ns, __ATOMIC_RELAXED) >
                        60 * 1000000000LL) {
            __atomic_store_n(&ol->heal_full_logged_ns, clock_mono_ns(), __ATOMIC_RELAXED);
            log_warn(&(struct log_ctx){ .bucket = bucket, .key = key, .event = "heal_queue_full" },
                     "heal queue full (%d items): dropped; run basalt admin heal",
                     OBJ_HEAL_QUEUE_MAX);
        }
        return;
    }
    it = xcalloc(1, sizeof(*it));
    it->bucket = bucket ? xstrdup(bucket) : NULL;
    it->key = key ? xstrdup(key) : NULL;
    list_add_tail(&ol->heal_queue, &it->link);
    ol->heal_len++;
    pthread_cond_broadcast(&ol->heal_cv);
    pthread_mutex_unlock(&ol->heal_mu);
}

struct heal_item *
object__heal_dequeue(struct objlayer *ol)
{
    struct heal_item *it = NULL;

    pthread_mutex_lock(&ol->heal_mu);
    while (!ol->stopping) {
        struct list_node *n = list_pop(&ol->heal_queue);

        if (n) {
            ol->heal_len--;
            it = container_of(n, struct heal_item, link);
            break;
        }
        pthread_cond_wait(&ol->heal_cv, &ol->heal_mu);
    }
    pthread_mutex_unlock(&ol->heal_mu);
    return it;
}

void
object__heal_item_free(struct heal_item *it)
{
    if (!it)
        return;
    free(it->bucket);
    free(it->key);
    free(it);
}

void
object__heal_park(struct objlayer *ol, struct heal_item *it)
{
    pthread_mutex_lock(&ol->heal_mu);
    if (ol->nwaiting < OBJ_HEAL_WAITING_MAX && !ol->stopping) {
        list_add_tail(&ol->heal_waiting, &it->link);
        ol->nwaiting++;
        it = NULL;
    }
    pthread_mutex_unlock(&ol->heal_mu);
    if (it)
        log_warn(
            &(struct log_ctx){ .bucket = it->bucket, .key = it->key, .event = "heal_queue_full" },
            "too many objects wait for offline drives: this one is left to the scanner");
    object__heal_item_free(it);
}

void
object__heal_wake(struct objlayer *ol)
{
    pthread_mutex_lock(&ol->heal_mu);
    if (ol->nwaiting) {
        log_info(&(struct log_ctx){ .event = "heal_resumed" },
                 "a drive is back: healing the %zu objects written while it was away",
                 ol->nwaiting);
        list_splice_tail(&ol->heal_queue, &ol->heal_waiting);
        ol->heal_len += ol->nwaiting;
        ol->nwaiting = 0;
        pthread_cond_broadcast(&ol->heal_cv);
    }
    pthread_mutex_unlock(&ol->heal_mu);
}

/*
 * util/bufpool.c: the recycling pool of large buffers. A small array of
 * kept buffers under one mutex; the most recently returned fitting buffer is
 * handed out first (its pages are the likeliest to be in the CPU's caches).
 * A handful of lookups per request: the mutex is not contended enough to
 * matter against the page faults it saves.
 */
#include "util/base.h"

#include "util/bufpool.h"

#include <pthread.h>

#define BUFPOOL_SLOTS 256 /* kept buffers at most, whatever their size */

struct bufpool {
    pthread_mutex_t mu; /* protects everything below */
    size_t min_bytes, max_bytes;
    size_t held_bytes;
    unsigned n;
    struct bufpool_slot {
        void *buf;
        size_t cap;
    } slots[BUFPOOL_SLOTS];
    uint64_t reused, allocated;
};

struct bufpool *
bufpool_new(size_t min_bytes, size_t max_bytes)
{
    struct bufpool *p = xcalloc(1, sizeof(*p));

    pthread_mutex_init(&p->mu, NULL);
    p->min_bytes = min_bytes;
    p->max_bytes = max_bytes;
    return p;
}

void
bufpool_free(struct bufpool *p)
{
    unsigned i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++)
        free(p->slots[i].buf);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void *
bufpool_get(struct bufpool *p, size_t len, size_t *cap)
{
    void *buf = NULL;
    unsigned i;

    len = MAX(len, (size_t)1);
    if (len < p->min_bytes) { /* never kept: not counted either */
        *cap = len;
        return xmalloc(len);
    }
    pthread_mutex_lock(&p->mu);
    for (i = p->n; i-- > 0;) {
        struct bufpool_slot *s = &p->slots[i];

        if (s->cap < len || s->cap / 2 > len)
            continue;
        buf = s->buf;
        *cap = s->cap;
        p->held_bytes -= s->cap;
        *s = p->slots[--p->n];
        break;
    }
    if (buf)
        p->reused++;
    else
        p->allocated++;
    pthread_mutex_unlock(&p->mu);
    if (!buf) {
        buf = xmalloc(len);
        *cap = len;
    }
    return buf;
}

void
bufpool_put(struct bufpool *p, void *buf, size_t cap)
{
    bool keep;

    if (!buf)
        return;
    if (cap < p->min_bytes) {
        free(buf);
        return;
    }
    pthread_mutex_lock(&p->mu);
    keep = p->n < BUFPOOL_SLOTS && p->held_bytes + cap <= p->max_bytes;
    if (keep) {
        p->slots[p->n++] = (struct bufpool_slot){ buf, cap };
        p->held_bytes += cap;
    }
    pthread_mutex_unlock(&p->mu);
    if (!keep)
        free(buf);
}

void
bufpool_get_stats(struct bufpool *p, struct bufpool_stats *st)
{
    pthread_mutex_lock(&p->mu);
    *st = (struct bufpool_stats){
        .held_bytes = p->held_bytes, .held = p->n, .reused = p->reused, .allocated = p->allocated
    };
    pthread_mutex_unlock(&p->mu);
}

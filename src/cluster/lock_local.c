/*
 * cluster/lock_local.c: the local lock service (cluster/lock.h), the one a
 * single node uses: read/write locks on exact names, with deadlines.
 *
 * DESIGN (the entry life cycle, all under the entry's stripe mutex):
 *   - lock_acquire() finds or creates the entry of the name and counts
 *     itself in `refs` while it waits or holds; the entry is freed when
 *     `refs` drops to 0, so an unused name costs nothing.
 *   - a writer counts itself in `writers_waiting` while it waits; readers do
 *     not enter while `writer` or `writers_waiting` is set (writer preference:
 *     a stream of readers cannot starve a writer).
 *   - a waiter that reaches its deadline leaves with -ERR_TIMEOUT; the last
 *     waiting writer that leaves wakes the readers it held back.
 *   - every change that can let a waiter in broadcasts the entry's condition.
 * Waiters of one name share one condition variable; other names, even in
 * the same stripe, have their own, so a release wakes only its name's waiters.
 */
#include "util/base.h"

#include "cluster/lock.h"

#include <pthread.h>
#include <time.h>

#include "cluster/lock_internal.h"
#include "util/err.h"

#define LOCAL_STRIPES 64 /* mutexes */
#define LOCAL_CHAINS 16  /* hash chains per stripe */

struct lentry {
    struct lentry *next; /* chain; protected by the stripe's mu, as every field below */
    pthread_cond_t cv;   /* readers and writers of this name wait here */
    uint64_t hash;
    unsigned refs;            /* holders and waiters */
    unsigned readers;         /* read locks held */
    unsigned writers_waiting; /* writers in wait_write() */
    bool writer;              /* the write lock is held */
    char name[];
};

struct lstripe {
    pthread_mutex_t mu;
    struct lentry *chains[LOCAL_CHAINS];
    unsigned nentries;
} __attribute__((aligned(64)));

struct local_service {
    struct lock_service base;
    pthread_condattr_t cattr; /* CLOCK_MONOTONIC; read-only after creation */
    struct lstripe stripes[LOCAL_STRIPES];
};

struct local_held {
    struct lock_held base;
    struct lstripe *stripe;
    struct lentry *e;
    enum lock_mode mode;
};

static struct lentry **
chain_of(struct lstripe *s, uint64_t hash)
{
    return &s->chains[(hash / LOCAL_STRIPES) % LOCAL_CHAINS];
}

/* The entry of `name`, created if needed, with one more ref. Under s->mu. */
static struct lentry *
entry_get(struct local_service *svc, struct lstripe *s, uint64_t hash, const char *name)
{
    struct lentry **chain = chain_of(s, hash);
    struct lentry *e;
    size_t len;

    for (e = *chain; e; e = e->next) {
        if (e->hash == hash && strcmp(e->name, name) == 0) {
            e->refs++;
            return e;
        }
    }
    len = strlen(name);
    e = xcalloc(1, sizeof(*e) + len + 1);
    memcpy(e->name, name, len + 1);
    e->hash = hash;
    e->refs = 1;
    pthread_cond_init(&e->cv, &svc->cattr);
    e->next = *chain;
    *chain = e;
    s->nentries++;
    return e;
}

/* Drops one ref; frees the entry with the last. Under s->mu. */
static void
entry_put(struct lstripe *s, struct lentry *e)
{
    struct lentry **p;

    BUG_ON(e->refs == 0);
    if (--e->refs)
        return;
    BUG_ON(e->readers || e->writer || e->writers_waiting);
    for (p = chain_of(s, e->hash); *p != e; p = &(*p)->next)
        BUG_ON(!*p);
    *p = e->next;
    s->nentries--;
    pthread_cond_destroy(&e->cv);
    free(e);
}

/* Waits on e->cv until woken or `deadline_ns`; false once the deadline has passed. */
static bool
wait_until(struct lentry *e, pthread_mutex_t *mu, int64_t deadline_ns)
{
    struct timespec ts;

    if (deadline_ns <= 0)
        return false;
    ts.tv_sec = deadline_ns / 1000000000;
    ts.tv_nsec = deadline_ns % 1000000000;
    return pthread_cond_timedwait(&e->cv, mu, &ts) != ETIMEDOUT;
}

static int
wait_write(struct lstripe *s, struct lentry *e, int64_t deadline_ns)
{
    bool in_time = true;

    e->writers_waiting++;
    while ((e->writer || e->readers) && in_time)
        in_time = wait_until(e, &s->mu, deadline_ns);
    e->writers_waiting--;
    if (!e->writer && !e->readers) {
        e->writer = true;
        return 0;
    }
    /* Readers that waited only because of this writer may go now. */
    if (e->writers_waiting == 0 && !e->writer)
        pthread_cond_broadcast(&e->cv);
    return -ERR_TIMEOUT;
}

static int
wait_read(struct lstripe *s, struct lentry *e, int64_t deadline_ns)
{
    bool in_time = true;

    while ((e->writer || e->writers_waiting) && in_time)
        in_time = wait_until(e, &s->mu, deadline_ns);
    if (e->writer || e->writers_waiting)
        return -ERR_TIMEOUT;
    e->readers++;
    return 0;
}

static int
local_acquire(struct lock_service *ls, const char *resource, enum lock_mode mode,
              int64_t deadline_ns, struct lock_held **out)
{
    struct local_service *svc = container_of(ls, struct local_service, base);
    uint64_t hash = lock__hash(resource);
    struct lstripe *s = &svc->stripes[hash % LOCAL_STRIPES];
    struct local_held *h;
    struct lentry *e;
    int rc;

    pthread_mutex_lock(&s->mu);
    e = entry_get(svc, s, hash, resource);
    rc = mode == LOCK_WRITE ? wait_write(s, e, deadline_ns) : wait_read(s, e, deadline_ns);
    if (rc < 0)
        entry_put(s, e);
    pthread_mutex_unlock(&s->mu);
    if (rc < 0)
        return rc;
    h = xcalloc(1, sizeof(*h));
    h->base.ls = ls;
    h->base.resource = e->name; /* the entry lives as long as its ref */
    h->stripe = s;
    h->e = e;
    h->mode = mode;
    *out = &h->base;
    return 0;
}

static void
local_release(struct lock_held *lh)
{
    struct local_held *h = container_of(lh, struct local_held, base);
    struct lstripe *s = h->stripe;
    struct lentry *e = h->e;

    pthread_mutex_lock(&s->mu);
    if (h->mode == LOCK_WRITE) {
        BUG_ON(!e->writer);
        e->writer = false;
        pthread_cond_broadcast(&e->cv);
    } else {
        BUG_ON(e->readers == 0);
        if (--e->readers == 0 && e->writers_waiting)
            pthread_cond_broadcast(&e->cv);
    }
    entry_put(s, e);
    pthread_mutex_unlock(&s->mu);
    free(h);
}

static bool
local_is_lost(const struct lock_held *h)
{
    return false;
}

static void
local_free(struct lock_service *ls)
{
    struct local_service *svc = container_of(ls, struct local_service, base);
    unsigned i;

    for (i = 0; i < LOCAL_STRIPES; i++) {
        BUG_ON(svc->stripes[i].nentries != 0); /* a lock is still held or waited for */
        pthread_mutex_destroy(&svc->stripes[i].mu);
    }
    pthread_condattr_destroy(&svc->cattr);
    free(svc);
}

static const struct lock_ops local_ops = {
    .name = "local",
    .acquire = local_acquire,
    .release = local_release,
    .is_lost = local_is_lost,
    .free = local_free,
};

struct lock_service *
lock_service_local_new(void)
{
    struct local_service *svc;
    unsigned i;

    /* aligned_alloc: the stripes are cache-line aligned. */
    svc = aligned_alloc(64, DIV_ROUND_UP(sizeof(*svc), 64) * 64);
    if (!svc)
        die("out of memory");
    memset(svc, 0, sizeof(*svc));
    lock__init(&svc->base, &local_ops);
    pthread_condattr_init(&svc->cattr);
    pthread_condattr_setclock(&svc->cattr, CLOCK_MONOTONIC);
    for (i = 0; i < LOCAL_STRIPES; i++)
        pthread_mutex_init(&svc->stripes[i].mu, NULL);
    return &svc->base;
}

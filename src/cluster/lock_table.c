/*
 * cluster/lock_table.c: the lock table of one lock server (cluster/lock_table.h).
 *
 * DESIGN: 32 stripes, each a mutex over 128 hash chains of entries; an entry
 * is one resource with an array of its live grants (one writer, or readers).
 * An entry exists only while it has grants. Every access to an entry first
 * prunes its expired grants, so correctness never depends on the periodic
 * sweep; the sweep (lock_table_expire()) only returns the memory of names
 * nobody touches again. The table-wide grant count is an atomic reserved
 * before a grant is added, so `max_grants` is a hard bound.
 */
#include "util/base.h"

#include "cluster/lock_table.h"

#include <pthread.h>
#include <stdatomic.h>

#include "cluster/lock_internal.h"
#include "util/clock.h"
#include "util/err.h"

#define TABLE_STRIPES 32
#define TABLE_CHAINS 128 /* per stripe */

struct grant {
    int64_t expires_ns; /* CLOCK_MONOTONIC */
    int64_t lease_ns;
    unsigned owner;
    enum lock_mode mode;
    char uid[LOCK_UID_MAX + 1];
};

struct tentry {
    struct tentry *next; /* chain; protected by the stripe's mu, as every field below */
    uint64_t hash;
    struct grant *grants;
    unsigned ngrants, alloc;
    char name[];
};

struct tstripe {
    pthread_mutex_t mu;
    struct tentry *chains[TABLE_CHAINS];
} __attribute__((aligned(64)));

struct lock_table {
    size_t max_grants;     /* read-only */
    atomic_size_t ngrants; /* every grant of every stripe; relaxed */
    struct tstripe stripes[TABLE_STRIPES];
};

struct lock_table *
lock_table_new(size_t max_grants)
{
    struct lock_table *t;
    unsigned i;

    t = aligned_alloc(64, DIV_ROUND_UP(sizeof(*t), 64) * 64);
    if (!t)
        die("out of memory");
    memset(t, 0, sizeof(*t));
    t->max_grants = max_grants ? max_grants : LOCK_TABLE_DEFAULT_MAX_GRANTS;
    atomic_init(&t->ngrants, 0);
    for (i = 0; i < TABLE_STRIPES; i++)
        pthread_mutex_init(&t->stripes[i].mu, NULL);
    return t;
}

static void
entry_free(struct tentry *e)
{
    free(e->grants);
    free(e);
}

void
lock_table_free(struct lock_table *t)
{
    unsigned i, c;

    if (!t)
        return;
    for (i = 0; i < TABLE_STRIPES; i++) {
        for (c = 0; c < TABLE_CHAINS; c++) {
            struct tentry *e, *next;

            for (e = t->stripes[i].chains[c]; e; e = next) {
                next = e->next;
                entry_free(e);
            }
        }
        pthread_mutex_destroy(&t->stripes[i].mu);
    }
    free(t);
}

static bool
valid_name(const char *s, size_t max)
{
    return s && strnlen(s, max + 1) <= max;
}

static bool
valid_uid(const char *uid)
{
    return valid_name(uid, LOCK_UID_MAX) && uid[0] != '\0';
}

static struct tstripe *
stripe_of(struct lock_table *t, uint64_t hash)
{
    return &t->stripes[hash % TABLE_STRIPES];
}

static struct tentry **
chain_of(struct tstripe *s, uint64_t hash)
{
    return &s->chains[(hash / TABLE_STRIPES) % TABLE_CHAINS];
}

static struct tentry *
entry_find(struct tstripe *s, uint64_t hash, const char *name)
{
    struct tentry *e;

    for (e = *chain_of(s, hash); e; e = e->next)
        if (e->hash == hash && strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static struct tentry *
entry_create(struct tstripe *s, uint64_t hash, const char *name)
{
    struct tentry **chain = chain_of(s, hash);
    size_t len = strlen(name);
    struct tentry *e = xcalloc(1, sizeof(*e) + len + 1);

    memcpy(e->name, name, len + 1);
    e->hash = hash;
    e->next = *chain;
    *chain = e;
    return e;
}

/* Unlinks and frees `e` if it has no grant left. Under s->mu. */
static void
entry_drop_if_empty(struct tstripe *s, struct tentry *e)
{
    struct tentry **p;

    if (!e || e->ngrants)
        return;
    for (p = chain_of(s, e->hash); *p != e; p = &(*p)->next)
        BUG_ON(!*p);
    *p = e->next;
    entry_free(e);
}

/* Removes grant `i` of `e` (the last one takes its place). Under the stripe's mu. */
static void
grant_remove(struct lock_table *t, struct tentry *e, unsigned i)
{
    BUG_ON(i >= e->ngrants);
    e->grants[i] = e->grants[--e->ngrants];
    atomic_fetch_sub_explicit(&t->ngrants, 1, memory_order_relaxed);
}

/* Removes the grants of `e` that `drop` selects; returns how many. Under the stripe's mu. */
static size_t
entry_remove_if(struct lock_table *t, struct tentry *e, bool (*drop)(const struct grant *, int64_t),
                int64_t arg)
{
    size_t n = 0;
    unsigned i = 0;

    while (i < e->ngrants) {
        if (drop(&e->grants[i], arg)) {
            grant_remove(t, e, i);
            n++;
        } else {
            i++;
        }
    }
    return n;
}

static bool
is_expired(const struct grant *g, int64_t now_ns)
{
    return g->expires_ns <= now_ns;
}

static bool
is_owned_by(const struct grant *g, int64_t owner)
{
    return g->owner == (unsigned)owner;
}

static int
grant_find(const struct tentry *e, const char *uid)
{
    unsigned i;

    for (i = 0; i < e->ngrants; i++)
        if (strcmp(e->grants[i].uid, uid) == 0)
            return (int)i;
    return -1;
}

static bool
conflicts(const struct tentry *e, enum lock_mode mode)
{
    if (!e || e->ngrants == 0)
        return false;
    return mode == LOCK_WRITE || e->grants[0].mode == LOCK_WRITE;
}

/* Counts one more grant unless the table is full. */
static bool
reserve(struct lock_table *t)
{
    size_t n = atomic_load_explicit(&t->ngrants, memory_order_relaxed);

    do {
        if (n >= t->max_grants)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&t->ngrants, &n, n + 1, memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

static void
grant_add(struct tentry *e, const char *uid, enum lock_mode mode, unsigned owner, int64_t lease_ns,
          int64_t now_ns)
{
    struct grant *g;

    if (e->ngrants == e->alloc) {
        e->alloc = e->alloc ? e->alloc * 2 : 2;
        e->grants = xrealloc(e->grants, e->alloc * sizeof(*e->grants));
    }
    g = &e->grants[e->ngrants++];
    memset(g, 0, sizeof(*g));
    snprintf(g->uid, sizeof(g->uid), "%s", uid);
    g->mode = mode;
    g->owner = owner;
    g->lease_ns = lease_ns;
    g->expires_ns = now_ns + lease_ns;
}

/* The body of lock_table_try() under the stripe's mutex. */
static int
try_locked(struct lock_table *t, struct tstripe *s, uint64_t hash, const char *resource,
           enum lock_mode mode, const char *uid, unsigned owner, int64_t lease_ns)
{
    int64_t now = clock_mono_ns();
    struct tentry *e = entry_find(s, hash, resource);
    int i;

    if (e) {
        entry_remove_if(t, e, is_expired, now);
        i = grant_find(e, uid);
        if (i >= 0) {
            if (e->grants[i].mode != mode)
                return -ERR_INVAL;
            e->grants[i].lease_ns = lease_ns;
            e->grants[i].expires_ns = now + lease_ns;
            return 0;
        }
    }
    if (conflicts(e, mode) || !reserve(t)) {
        entry_drop_if_empty(s, e);
        return -ERR_BUSY;
    }
    if (!e)
        e = entry_create(s, hash, resource);
    grant_add(e, uid, mode, owner, lease_ns, now);
    return 0;
}

int
lock_table_try(struct lock_table *t, const char *resource, enum lock_mode mode, const char *uid,
               unsigned owner_node, int64_t lease_ns)
{
    uint64_t hash;
    struct tstripe *s;
    int rc;

    if (!valid_name(resource, LOCK_RESOURCE_MAX) || !valid_uid(uid))
        return -ERR_INVAL;
    if ((mode != LOCK_READ && mode != LOCK_WRITE) || lease_ns <= 0 ||
        lease_ns > LOCK_TABLE_LEASE_MAX)
        return -ERR_INVAL;
    /* Full: sweep before giving up (outside the stripe lock: the sweep takes every stripe). */
    if (atomic_load_explicit(&t->ngrants, memory_order_relaxed) >= t->max_grants)
        lock_table_expire(t, clock_mono_ns());
    hash = lock__hash(resource);
    s = stripe_of(t, hash);
    pthread_mutex_lock(&s->mu);
    rc = try_locked(t, s, hash, resource, mode, uid, owner_node, lease_ns);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/*
 * Finds the live grant of `uid` on `resource` and, when found, renews it
 * (`release` false) or removes it (`release` true).
 */
static int
touch(struct lock_table *t, const char *resource, const char *uid, bool release)
{
    int64_t now = clock_mono_ns();
    uint64_t hash;
    struct tstripe *s;
    struct tentry *e;
    int i = -1;

    if (!valid_name(resource, LOCK_RESOURCE_MAX) || !valid_uid(uid))
        return -ERR_INVAL;
    hash = lock__hash(resource);
    s = stripe_of(t, hash);
    pthread_mutex_lock(&s->mu);
    e = entry_find(s, hash, resource);
    if (e) {
        entry_remove_if(t, e, is_expired, now);
        i = grant_find(e, uid);
        if (i >= 0 && release)
            grant_remove(t, e, (unsigned)i);
        else if (i >= 0)
            e->grants[i].expires_ns = now + e->grants[i].lease_ns;
        entry_drop_if_empty(s, e);
    }
    pthread_mutex_unlock(&s->mu);
    return i >= 0 ? 0 : -ERR_NOT_FOUND;
}

int
lock_table_refresh(struct lock_table *t, const char *resource, const char *uid)
{
    return touch(t, resource, uid, false);
}

int
lock_table_release(struct lock_table *t, const char *resource, const char *uid)
{
    return touch(t, resource, uid, true);
}

/* Removes the grants `drop` selects from every entry of the table; returns how many. */
static size_t
sweep(struct lock_table *t, bool (*drop)(const struct grant *, int64_t), int64_t arg)
{
    size_t n = 0;
    unsigned i, c;

    for (i = 0; i < TABLE_STRIPES; i++) {
        struct tstripe *s = &t->stripes[i];

        pthread_mutex_lock(&s->mu);
        for (c = 0; c < TABLE_CHAINS; c++) {
            struct tentry *e, *next;

            for (e = s->chains[c]; e; e = next) {
                next = e->next;
                n += entry_remove_if(t, e, drop, arg);
                entry_drop_if_empty(s, e);
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
    return n;
}

size_t
lock_table_drop_owner(struct lock_table *t, unsigned owner_node)
{
    return sweep(t, is_owned_by, (int64_t)owner_node);
}

size_t
lock_table_expire(struct lock_table *t, int64_t now_ns)
{
    return sweep(t, is_expired, now_ns);
}

size_t
lock_table_count(struct lock_table *t)
{
    return atomic_load_explicit(&t->ngrants, memory_order_relaxed);
}

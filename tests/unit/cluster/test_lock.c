/*
 * tests/unit/cluster/test_lock.c: the lock service (cluster/lock.h) and the
 * lock table (cluster/lock_table.h).
 *
 * The quorum tests need no sockets: a fake cluster of N in-process lock
 * tables sits behind a fake transport whose nodes can be down (-ERR_OFFLINE
 * at once), hung (sleep until the call's deadline), drop their replies (the
 * table acts, the caller sees an error) or refuse refreshes; a client (one
 * quorum service) can be cut off from every node, as a holder that died.
 */
#include "util/base.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "cluster/lock.h"
#include "cluster/lock_table.h"
#include "harness.h"
#include "util/clock.h"

#define MS (1000000LL)

static int64_t
in_ms(int64_t ms)
{
    return clock_mono_ns() + ms * MS;
}

static int64_t
ms_since(int64_t start_ns)
{
    return (clock_mono_ns() - start_ns) / MS;
}

static void
sleep_ms(int64_t ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * MS };

    nanosleep(&ts, NULL);
}

/* ---- local ---- */

TEST(lock_local_write_excludes_write_and_read)
{
    struct lock_service *ls = lock_service_local_new();
    struct lock_held *w, *other = NULL;

    ASSERT_OK(lock_acquire(ls, "b/k", LOCK_WRITE, in_ms(1000), &w));
    ASSERT_STREQ(lock_held_resource(w), "b/k");
    ASSERT(!lock_is_lost(w));
    ASSERT_EQ(lock_acquire(ls, "b/k", LOCK_WRITE, in_ms(50), &other), -ERR_TIMEOUT);
    ASSERT_EQ(lock_acquire(ls, "b/k", LOCK_READ, in_ms(50), &other), -ERR_TIMEOUT);
    ASSERT(other == NULL);
    lock_release(w);
    ASSERT_OK(lock_acquire(ls, "b/k", LOCK_WRITE, in_ms(50), &w));
    lock_release(w);
    lock_service_free(ls);
}

TEST(lock_local_reads_share)
{
    struct lock_service *ls = lock_service_local_new();
    struct lock_held *r1, *r2, *w;

    ASSERT_OK(lock_acquire(ls, "b/k", LOCK_READ, in_ms(100), &r1));
    ASSERT_OK(lock_acquire(ls, "b/k", LOCK_READ, in_ms(100), &r2));
    ASSERT_EQ(lock_acquire(ls, "b/k", LOCK_WRITE, in_ms(50), &w), -ERR_TIMEOUT);
    lock_release(r1);
    ASSERT_EQ(lock_acquire(ls, "b/k", LOCK_WRITE, in_ms(50), &w), -ERR_TIMEOUT);
    lock_release(r2);
    ASSERT_OK(lock_acquire(ls, "b/k", LOCK_WRITE, in_ms(50), &w));
    lock_release(w);
    lock_service_free(ls);
}

TEST(lock_local_deadline)
{
    struct lock_service *ls = lock_service_local_new();
    struct lock_held *w, *other;
    int64_t start, ms;

    ASSERT_OK(lock_acquire(ls, "k", LOCK_WRITE, in_ms(100), &w));
    start = clock_mono_ns();
    ASSERT_EQ(lock_acquire(ls, "k", LOCK_WRITE, in_ms(200), &other), -ERR_TIMEOUT);
    ms = ms_since(start);
    ASSERT(ms >= 199 && ms < 1000); /* upper bounds with room for a loaded machine */
    /* A deadline in the past: one try that does not wait. */
    start = clock_mono_ns();
    ASSERT_EQ(lock_acquire(ls, "k", LOCK_READ, 0, &other), -ERR_TIMEOUT);
    ASSERT(ms_since(start) < 1000);
    ASSERT_OK(lock_acquire(ls, "other", LOCK_READ, 0, &other));
    lock_release(other);
    lock_release(w);
    lock_service_free(ls);
}

TEST(lock_local_bad_input)
{
    struct lock_service *ls = lock_service_local_new();
    struct lock_held *h = NULL;
    char *longname = xcalloc(1, LOCK_RESOURCE_MAX + 2);

    memset(longname, 'a', LOCK_RESOURCE_MAX + 1);
    ASSERT_EQ(lock_acquire(ls, "k", (enum lock_mode)7, in_ms(10), &h), -ERR_INVAL);
    ASSERT_EQ(lock_acquire(ls, NULL, LOCK_READ, in_ms(10), &h), -ERR_INVAL);
    ASSERT_EQ(lock_acquire(ls, longname, LOCK_READ, in_ms(10), &h), -ERR_INVAL);
    ASSERT(h == NULL);
    longname[LOCK_RESOURCE_MAX] = '\0';
    ASSERT_OK(lock_acquire(ls, longname, LOCK_WRITE, in_ms(10), &h));
    lock_release(h);
    ASSERT_OK(lock_acquire(ls, "", LOCK_WRITE, in_ms(10), &h)); /* any string */
    lock_release(h);
    lock_release(NULL);
    lock_service_free(NULL);
    free(longname);
    lock_service_free(ls);
}

struct waiter {
    struct lock_service *ls;
    const char *name;
    enum lock_mode mode;
    int64_t deadline_ns;
    int rc;
    int64_t waited_ms;
    bool release; /* release at once when granted */
    struct lock_held *h;
    int64_t done_ns; /* when lock_acquire() returned */
};

static void *
waiter_main(void *arg)
{
    struct waiter *w = arg;
    int64_t start = clock_mono_ns();

    w->rc = lock_acquire(w->ls, w->name, w->mode, w->deadline_ns, &w->h);
    w->done_ns = clock_mono_ns();
    w->waited_ms = ms_since(start);
    if (w->rc == 0 && w->release)
        lock_release(w->h);
    return NULL;
}

/*
 * Waits up to `ms` until a new reader of `name` is turned away at once (only readers hold it,
 * so a writer waits): rather than sleeping a fixed time for the writer's thread to get there.
 */
static bool
reader_held_back_within(struct lock_service *ls, const char *name, int64_t ms)
{
    int64_t end = in_ms(ms);
    struct lock_held *h;

    for (;;) {
        if (lock_acquire(ls, name, LOCK_READ, 0, &h) != 0)
            return true;
        lock_release(h);
        if (clock_mono_ns() >= end)
            return false;
        sleep_ms(2);
    }
}

TEST(lock_local_writer_preference)
{
    struct lock_service *ls = lock_service_local_new();
    struct waiter wr = { ls, "k", LOCK_WRITE, in_ms(5000), 0, 0, true, NULL, 0 };
    struct lock_held *r1, *r2;
    pthread_t t;

    ASSERT_OK(lock_acquire(ls, "k", LOCK_READ, in_ms(100), &r1));
    pthread_create(&t, NULL, waiter_main, &wr);
    /* A new reader is held back by the waiting writer, though only readers hold the lock. */
    ASSERT(reader_held_back_within(ls, "k", 3000));
    ASSERT_EQ(lock_acquire(ls, "k", LOCK_READ, in_ms(100), &r2), -ERR_TIMEOUT);
    lock_release(r1);
    pthread_join(t, NULL);
    ASSERT_OK(wr.rc);
    ASSERT(wr.waited_ms < 1000);
    lock_service_free(ls);
}

TEST(lock_local_writer_timeout_lets_readers_in)
{
    struct lock_service *ls = lock_service_local_new();
    struct waiter wr = { ls, "k", LOCK_WRITE, in_ms(1000), 0, 0, true, NULL, 0 };
    struct waiter rd = { ls, "k", LOCK_READ, in_ms(5000), 0, 0, true, NULL, 0 };
    struct lock_held *r1;
    pthread_t tw, tr;

    ASSERT_OK(lock_acquire(ls, "k", LOCK_READ, in_ms(100), &r1));
    pthread_create(&tw, NULL, waiter_main, &wr);
    ASSERT(reader_held_back_within(ls, "k", 900)); /* the writer waits */
    pthread_create(&tr, NULL, waiter_main, &rd);   /* held back by the writer */
    pthread_join(tw, NULL);
    pthread_join(tr, NULL);
    ASSERT_EQ(wr.rc, -ERR_TIMEOUT);
    ASSERT_OK(rd.rc);
    /* Woken when the writer gave up, not before, and not at its own deadline (4 s later). */
    ASSERT(rd.done_ns >= wr.deadline_ns && rd.done_ns < wr.deadline_ns + 2000 * MS);
    lock_release(r1);
    lock_service_free(ls);
}

TEST(lock_local_distinct_names_never_block)
{
    struct lock_service *ls = lock_service_local_new();
    struct lock_held *h[1000];
    char name[32];
    unsigned i;

    /* 1000 names share 64 stripes and their chains: a past deadline, so any wait fails. */
    for (i = 0; i < ARRAY_SIZE(h); i++) {
        snprintf(name, sizeof(name), "bucket/key-%u", i);
        ASSERT_OK(lock_acquire(ls, name, i % 2 ? LOCK_WRITE : LOCK_READ, 0, &h[i]));
    }
    for (i = 0; i < ARRAY_SIZE(h); i++) {
        snprintf(name, sizeof(name), "bucket/key-%u", i);
        ASSERT_STREQ(lock_held_resource(h[i]), name);
        lock_release(h[i]);
    }
    lock_service_free(ls); /* BUG_ON if an entry was left behind */
}

/*
 * The shared state of the stress tests: a counter a missing exclusion would corrupt. Each thread
 * runs `iters` iterations, or fewer if the time budget runs out first: a loaded machine may run
 * a thread that yields inside the critical section only milliseconds later, every time.
 */
#define STRESS_BUDGET_MS 10000

struct stress {
    struct lock_service *ls[3];
    unsigned nls;
    unsigned iters;
    int64_t until_ns;  /* the time budget's end */
    atomic_uint done;  /* iterations done, by all threads */
    atomic_uint next;  /* hands out threads to services */
    atomic_int inside; /* threads inside the critical section */
    atomic_int overlaps;
    atomic_int failures;
    long counter; /* protected by the lock under test, nothing else */
};

static void *
stress_main(void *arg)
{
    struct stress *s = arg;
    struct lock_service *ls = s->ls[atomic_fetch_add(&s->next, 1) % s->nls];
    unsigned i;

    for (i = 0; i < s->iters && (i == 0 || clock_mono_ns() < s->until_ns); i++) {
        struct lock_held *h;
        long v;

        if (lock_acquire(ls, "bucket/hot", LOCK_WRITE, in_ms(20000), &h) != 0) {
            atomic_fetch_add(&s->failures, 1);
            continue;
        }
        if (atomic_fetch_add(&s->inside, 1) != 0)
            atomic_fetch_add(&s->overlaps, 1);
        v = s->counter;
        if (i % 4 == 0)
            sched_yield(); /* widen the window a missing exclusion would hit */
        s->counter = v + 1;
        atomic_fetch_sub(&s->inside, 1);
        atomic_fetch_add(&s->done, 1);
        lock_release(h);
    }
    return NULL;
}

static void
stress_run(struct stress *s, unsigned nthreads)
{
    pthread_t t[16];
    unsigned i;

    BUG_ON(nthreads > ARRAY_SIZE(t));
    s->until_ns = in_ms(STRESS_BUDGET_MS);
    for (i = 0; i < nthreads; i++)
        pthread_create(&t[i], NULL, stress_main, s);
    for (i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(atomic_load(&s->failures), 0);
    ASSERT_EQ(atomic_load(&s->overlaps), 0);
    ASSERT(atomic_load(&s->done) >= nthreads); /* each thread's first iteration is always run */
    ASSERT_EQ(s->counter, atomic_load(&s->done));
}

TEST(lock_local_stress_8_threads)
{
    struct stress s = { .nls = 1, .iters = 5000 };

    s.ls[0] = lock_service_local_new();
    stress_run(&s, 8);
    lock_service_free(s.ls[0]);
}

/* ---- lock table ---- */

TEST(lock_table_modes)
{
    struct lock_table *t = lock_table_new(0);
    int64_t lease = 10000 * MS;

    ASSERT_OK(lock_table_try(t, "b/k", LOCK_WRITE, "u1", 1, lease));
    ASSERT_EQ(lock_table_try(t, "b/k", LOCK_WRITE, "u2", 2, lease), -ERR_BUSY);
    ASSERT_EQ(lock_table_try(t, "b/k", LOCK_READ, "u2", 2, lease), -ERR_BUSY);
    ASSERT_OK(lock_table_try(t, "b/other", LOCK_WRITE, "u2", 2, lease));
    ASSERT_OK(lock_table_refresh(t, "b/k", "u1"));
    ASSERT_EQ(lock_table_refresh(t, "b/k", "u2"), -ERR_NOT_FOUND);
    ASSERT_EQ(lock_table_release(t, "b/k", "u2"), -ERR_NOT_FOUND);
    ASSERT_OK(lock_table_release(t, "b/k", "u1"));
    ASSERT_EQ(lock_table_release(t, "b/k", "u1"), -ERR_NOT_FOUND);
    ASSERT_EQ(lock_table_refresh(t, "b/k", "u1"), -ERR_NOT_FOUND);
    /* Readers share, and exclude a writer until the last one leaves. */
    ASSERT_OK(lock_table_try(t, "b/k", LOCK_READ, "r1", 1, lease));
    ASSERT_OK(lock_table_try(t, "b/k", LOCK_READ, "r2", 2, lease));
    ASSERT_OK(lock_table_try(t, "b/k", LOCK_READ, "r3", 3, lease));
    ASSERT_EQ(lock_table_count(t), 4);
    ASSERT_EQ(lock_table_try(t, "b/k", LOCK_WRITE, "w", 2, lease), -ERR_BUSY);
    ASSERT_OK(lock_table_release(t, "b/k", "r2"));
    ASSERT_OK(lock_table_release(t, "b/k", "r1"));
    ASSERT_EQ(lock_table_try(t, "b/k", LOCK_WRITE, "w", 2, lease), -ERR_BUSY);
    ASSERT_OK(lock_table_refresh(t, "b/k", "r3"));
    ASSERT_OK(lock_table_release(t, "b/k", "r3"));
    ASSERT_OK(lock_table_try(t, "b/k", LOCK_WRITE, "w", 2, lease));
    ASSERT_EQ(lock_table_count(t), 2);
    lock_table_free(t);
}

TEST(lock_table_bad_input)
{
    struct lock_table *t = lock_table_new(0);
    char uid[LOCK_UID_MAX + 2], *res = xcalloc(1, LOCK_RESOURCE_MAX + 2);
    int64_t lease = 1000 * MS;

    memset(uid, 'u', sizeof(uid) - 1);
    uid[sizeof(uid) - 1] = '\0';
    memset(res, 'r', LOCK_RESOURCE_MAX + 1);
    ASSERT_EQ(lock_table_try(t, "k", LOCK_WRITE, "", 1, lease), -ERR_INVAL);
    ASSERT_EQ(lock_table_try(t, "k", LOCK_WRITE, NULL, 1, lease), -ERR_INVAL);
    ASSERT_EQ(lock_table_try(t, "k", LOCK_WRITE, uid, 1, lease), -ERR_INVAL);
    ASSERT_EQ(lock_table_try(t, NULL, LOCK_WRITE, "u", 1, lease), -ERR_INVAL);
    ASSERT_EQ(lock_table_try(t, res, LOCK_WRITE, "u", 1, lease), -ERR_INVAL);
    ASSERT_EQ(lock_table_try(t, "k", (enum lock_mode)2, "u", 1, lease), -ERR_INVAL);
    ASSERT_EQ(lock_table_try(t, "k", LOCK_WRITE, "u", 1, 0), -ERR_INVAL);
    ASSERT_EQ(lock_table_try(t, "k", LOCK_WRITE, "u", 1, -5), -ERR_INVAL);
    ASSERT_EQ(lock_table_try(t, "k", LOCK_WRITE, "u", 1, LOCK_TABLE_LEASE_MAX + 1), -ERR_INVAL);
    ASSERT_EQ(lock_table_refresh(t, "k", ""), -ERR_INVAL);
    ASSERT_EQ(lock_table_release(t, NULL, "u"), -ERR_INVAL);
    ASSERT_EQ(lock_table_count(t), 0);
    /* The longest valid names work. */
    uid[LOCK_UID_MAX] = '\0';
    res[LOCK_RESOURCE_MAX] = '\0';
    ASSERT_OK(lock_table_try(t, res, LOCK_READ, uid, 1, lease));
    /* A uid holding a read lock cannot turn it into a write lock. */
    ASSERT_EQ(lock_table_try(t, res, LOCK_WRITE, uid, 1, lease), -ERR_INVAL);
    ASSERT_OK(lock_table_release(t, res, uid));
    free(res);
    lock_table_free(t);
}

TEST(lock_table_idempotent_grants)
{
    struct lock_table *t = lock_table_new(0);

    ASSERT_OK(lock_table_try(t, "k", LOCK_WRITE, "u1", 1, 10000 * MS));
    /* The retry of a try whose answer was lost: granted again, not BUSY, and still one grant. */
    ASSERT_OK(lock_table_try(t, "k", LOCK_WRITE, "u1", 1, 10000 * MS));
    ASSERT_EQ(lock_table_count(t), 1);
    ASSERT_EQ(lock_table_try(t, "k", LOCK_WRITE, "u2", 1, 10000 * MS), -ERR_BUSY);
    ASSERT_OK(lock_table_try(t, "r", LOCK_READ, "u3", 1, 10000 * MS));
    ASSERT_OK(lock_table_try(t, "r", LOCK_READ, "u3", 1, 10000 * MS));
    ASSERT_EQ(lock_table_count(t), 2);
    ASSERT_OK(lock_table_release(t, "r", "u3"));
    ASSERT_EQ(lock_table_release(t, "r", "u3"), -ERR_NOT_FOUND);
    lock_table_free(t);
}

TEST(lock_table_leases_expire)
{
    struct lock_table *t = lock_table_new(0);
    int64_t before, after;

    /* Lazily, on access: an expired grant is lost for its holder and free for others. */
    ASSERT_OK(lock_table_try(t, "k", LOCK_WRITE, "old", 1, 30 * MS));
    ASSERT_EQ(lock_table_try(t, "k", LOCK_WRITE, "new", 2, 30 * MS), -ERR_BUSY);
    sleep_ms(50);
    ASSERT_EQ(lock_table_refresh(t, "k", "old"), -ERR_NOT_FOUND);
    ASSERT_OK(lock_table_try(t, "k", LOCK_WRITE, "new", 2, 30 * MS));
    ASSERT_OK(lock_table_release(t, "k", "new"));
    ASSERT_EQ(lock_table_count(t), 0);
    /* A refresh moves the end of the lease to a lease from now (bounds, not sleeps). */
    ASSERT_OK(lock_table_try(t, "r", LOCK_WRITE, "u", 1, 1000 * MS));
    sleep_ms(5);
    before = clock_mono_ns();
    ASSERT_OK(lock_table_refresh(t, "r", "u"));
    after = clock_mono_ns();
    ASSERT_EQ(lock_table_expire(t, before + 999 * MS), 0); /* would end the unrefreshed lease */
    ASSERT_EQ(lock_table_count(t), 1);
    ASSERT_EQ(lock_table_expire(t, after + 1000 * MS), 1);
    ASSERT_EQ(lock_table_count(t), 0);
    ASSERT_EQ(lock_table_refresh(t, "r", "u"), -ERR_NOT_FOUND);
    /* The sweep takes only what has ended. */
    ASSERT_OK(lock_table_try(t, "a", LOCK_READ, "u", 1, 100 * MS));
    ASSERT_OK(lock_table_try(t, "b", LOCK_READ, "u", 1, 10000 * MS));
    ASSERT_EQ(lock_table_expire(t, clock_mono_ns() + 5000 * MS), 1);
    ASSERT_EQ(lock_table_try(t, "b", LOCK_WRITE, "w", 2, 30 * MS), -ERR_BUSY);
    ASSERT_OK(lock_table_try(t, "a", LOCK_WRITE, "w", 2, 30 * MS));
    lock_table_free(t);
}

TEST(lock_table_drop_owner)
{
    struct lock_table *t = lock_table_new(0);
    char name[32], uid[16];
    unsigned i;

    for (i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "b/k%u", i);
        snprintf(uid, sizeof(uid), "u%u", i);
        ASSERT_OK(lock_table_try(t, name, i % 3 ? LOCK_READ : LOCK_WRITE, uid, i % 2, 10000 * MS));
    }
    ASSERT_OK(lock_table_try(t, "b/k1", LOCK_READ, "extra", 0, 10000 * MS));
    ASSERT_EQ(lock_table_drop_owner(t, 1), 50);
    ASSERT_EQ(lock_table_drop_owner(t, 1), 0);
    ASSERT_EQ(lock_table_count(t), 51);
    /* Owner 1's names are free; owner 0's are not. */
    ASSERT_OK(lock_table_try(t, "b/k3", LOCK_WRITE, "w", 2, 10000 * MS));
    ASSERT_EQ(lock_table_try(t, "b/k1", LOCK_WRITE, "w", 2, 10000 * MS), -ERR_BUSY);
    ASSERT_EQ(lock_table_try(t, "b/k0", LOCK_READ, "w", 2, 10000 * MS), -ERR_BUSY);
    ASSERT_OK(lock_table_refresh(t, "b/k2", "u2"));
    ASSERT_EQ(lock_table_refresh(t, "b/k5", "u5"), -ERR_NOT_FOUND);
    lock_table_free(t); /* frees the grants left (LeakSanitizer) */
}

TEST(lock_table_memory_bound)
{
    struct lock_table *t = lock_table_new(4);
    char name[16];
    unsigned i;

    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "k%u", i);
        ASSERT_OK(lock_table_try(t, name, LOCK_READ, "u", 1, 300 * MS));
    }
    ASSERT_EQ(lock_table_try(t, "k9", LOCK_READ, "u", 1, 300 * MS), -ERR_BUSY);
    ASSERT_EQ(lock_table_try(t, "k0", LOCK_READ, "u2", 1, 300 * MS), -ERR_BUSY);
    ASSERT_OK(lock_table_try(t, "k0", LOCK_READ, "u", 1, 300 * MS)); /* a renewal needs no room */
    ASSERT_EQ(lock_table_count(t), 4);
    sleep_ms(350);
    /* Full of expired grants: the try sweeps them first. */
    ASSERT_OK(lock_table_try(t, "k9", LOCK_READ, "u", 1, 300 * MS));
    ASSERT_EQ(lock_table_count(t), 1);
    lock_table_free(t);
}

/* ---- quorum: a fake cluster ---- */

enum fmode { F_UP, F_DOWN, F_HUNG, F_DROP, F_NO_REFRESH };

struct fnode {
    struct lock_table *t;
    atomic_int mode;       /* enum fmode */
    atomic_uint refreshes; /* refresh calls that reached this node */
};

struct fcluster {
    unsigned n;
    struct fnode nodes[8];
};

struct fclient {
    struct fcluster *c;
    unsigned owner;
    atomic_bool cut; /* this client can reach no node: it died, as far as they know */
    bool retry;      /* retry a try whose answer was lost, with the same uid */
    struct lock_service *ls;
    atomic_uint batches; /* release_many calls (fclient_init_batched) */
    atomic_uint batched; /* releases they carried */
    bool old_version;    /* release_many answers -ERR_NOT_IMPLEMENTED */
};

static void
sleep_until_ns(int64_t until_ns)
{
    struct timespec ts = { until_ns / 1000000000, until_ns % 1000000000 };

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* The fault of `node` for a call from `cl`: 0 to serve it, or the error to answer. */
static int
fault(struct fclient *cl, unsigned node, int64_t deadline_ns)
{
    BUG_ON(node >= cl->c->n);
    if (atomic_load(&cl->cut))
        return -ERR_OFFLINE;
    switch (atomic_load(&cl->c->nodes[node].mode)) {
    case F_DOWN:
        return -ERR_OFFLINE;
    case F_HUNG:
        sleep_until_ns(deadline_ns);
        return -ERR_TIMEOUT;
    default:
        return 0;
    }
}

static int
fake_try(void *arg, unsigned node, const char *resource, enum lock_mode mode, const char *uid,
         int64_t lease_ns, int64_t deadline_ns)
{
    struct fclient *cl = arg;
    struct fnode *fn = &cl->c->nodes[node];
    int rc = fault(cl, node, deadline_ns);

    if (rc)
        return rc;
    rc = lock_table_try(fn->t, resource, mode, uid, cl->owner, lease_ns);
    if (atomic_load(&fn->mode) != F_DROP)
        return rc;
    if (cl->retry) /* what an RPC client does after a lost answer */
        return lock_table_try(fn->t, resource, mode, uid, cl->owner, lease_ns);
    return -ERR_TIMEOUT;
}

static int
fake_refresh(void *arg, unsigned node, const char *resource, const char *uid, int64_t deadline_ns)
{
    struct fclient *cl = arg;
    struct fnode *fn = &cl->c->nodes[node];
    int rc = fault(cl, node, deadline_ns);

    if (rc)
        return rc;
    atomic_fetch_add(&fn->refreshes, 1);
    if (atomic_load(&fn->mode) == F_NO_REFRESH)
        return -ERR_OFFLINE;
    rc = lock_table_refresh(fn->t, resource, uid);
    return atomic_load(&fn->mode) == F_DROP ? -ERR_TIMEOUT : rc;
}

static int
fake_release(void *arg, unsigned node, const char *resource, const char *uid, int64_t deadline_ns)
{
    struct fclient *cl = arg;
    struct fnode *fn = &cl->c->nodes[node];
    int rc = fault(cl, node, deadline_ns);

    if (rc)
        return rc;
    rc = lock_table_release(fn->t, resource, uid);
    return atomic_load(&fn->mode) == F_DROP ? -ERR_TIMEOUT : rc;
}

static int
fake_release_many(void *arg, unsigned node, const char *const *res, const char *const *uids,
                  size_t n, int64_t deadline_ns)
{
    struct fclient *cl = arg;
    size_t i;
    int rc = fault(cl, node, deadline_ns);

    if (rc)
        return rc;
    if (cl->old_version)
        return -ERR_NOT_IMPLEMENTED;
    atomic_fetch_add(&cl->batches, 1);
    atomic_fetch_add(&cl->batched, (unsigned)n);
    for (i = 0; i < n; i++)
        lock_table_release(cl->c->nodes[node].t, res[i], uids[i]);
    return 0;
}

static void
fcluster_init(struct fcluster *c, unsigned n)
{
    unsigned i;

    BUG_ON(n > ARRAY_SIZE(c->nodes));
    memset(c, 0, sizeof(*c));
    c->n = n;
    for (i = 0; i < n; i++) {
        c->nodes[i].t = lock_table_new(0);
        atomic_init(&c->nodes[i].mode, F_UP);
        atomic_init(&c->nodes[i].refreshes, 0);
    }
}

static void
fcluster_release(struct fcluster *c)
{
    unsigned i;

    for (i = 0; i < c->n; i++)
        lock_table_free(c->nodes[i].t);
}

static void
fcluster_set(struct fcluster *c, unsigned node, enum fmode mode)
{
    atomic_store(&c->nodes[node].mode, (int)mode);
}

/* Grants held on every node together. */
static size_t
fcluster_count(struct fcluster *c)
{
    size_t n = 0;
    unsigned i;

    for (i = 0; i < c->n; i++)
        n += lock_table_count(c->nodes[i].t);
    return n;
}

/* Waits up to `ms` for the cluster to hold `want` grants; returns what it holds. */
static size_t
fcluster_wait_count(struct fcluster *c, size_t want, int64_t ms)
{
    int64_t end = in_ms(ms);

    while (fcluster_count(c) != want && clock_mono_ns() < end)
        sleep_ms(2);
    return fcluster_count(c);
}

/*
 * Waits up to `ms` for `n` more refresh calls (than `*seen`) to reach `node`; moves `*seen` to
 * the count. With one lock held by one client, that is `n` refresh rounds begun, so `n - 1` of
 * them finished: the refresher finishes a round before it begins the next.
 */
static bool
fcluster_wait_refreshes(struct fcluster *c, unsigned node, unsigned *seen, unsigned n, int64_t ms)
{
    int64_t end = in_ms(ms);
    unsigned want = *seen + n;

    while ((*seen = atomic_load(&c->nodes[node].refreshes)) < want && clock_mono_ns() < end)
        sleep_ms(2);
    return *seen >= want;
}

/*
 * The lease and call timeout of the tests that watch refreshes and leases run out: short for
 * a quick test, but the fake transport's calls run on worker threads, which a loaded machine
 * (CI runners, sanitizers) may not schedule for a few hundred ms, and a call queued past its
 * timeout is not sent (a refresh round unconfirmed: the lock lost; a release left to the lease).
 */
#define SHORT_LEASE_MS 1500
#define SHORT_CALL_MS 450 /* below lease/3, as the config requires */

/*
 * A client of `c`: a quorum service on node `owner` with the given lease and
 * call timeout; `self_inline`: its own node's calls on the caller's thread.
 */
static void
fclient_init_ex(struct fclient *cl, struct fcluster *c, unsigned owner, int64_t lease_ms,
                int64_t call_ms, bool self_inline)
{
    struct lock_quorum_config cfg = {
        .n = c->n,
        .self = owner,
        .lease_ns = lease_ms * MS,
        .call_timeout_ns = call_ms * MS,
        .threads_per_node = 2,
        .transport = { fake_try, fake_refresh, fake_release, cl, NULL, self_inline },
    };

    memset(cl, 0, sizeof(*cl));
    cl->c = c;
    cl->owner = owner;
    atomic_init(&cl->cut, false);
    cl->ls = lock_service_quorum_new(&cfg);
    BUG_ON(!cl->ls);
}

static void
fclient_init(struct fclient *cl, struct fcluster *c, unsigned owner, int64_t lease_ms,
             int64_t call_ms)
{
    fclient_init_ex(cl, c, owner, lease_ms, call_ms, false);
}

TEST(lock_quorum_config_checked)
{
    struct lock_quorum_config cfg = {
        .n = 4,
        .self = 0,
        .transport = { fake_try, fake_refresh, fake_release, NULL, NULL, false },
    };
    struct lock_service *ls;

    cfg.n = 0;
    ASSERT(lock_service_quorum_new(&cfg) == NULL);
    cfg.n = LOCK_MAX_NODES + 1;
    ASSERT(lock_service_quorum_new(&cfg) == NULL);
    cfg.n = 4;
    cfg.self = 4;
    ASSERT(lock_service_quorum_new(&cfg) == NULL);
    cfg.self = 3;
    cfg.transport.refresh = NULL;
    ASSERT(lock_service_quorum_new(&cfg) == NULL);
    cfg.transport.refresh = fake_refresh;
    cfg.lease_ns = 300 * MS;
    cfg.call_timeout_ns = 100 * MS; /* not below lease/3 */
    ASSERT(lock_service_quorum_new(&cfg) == NULL);
    cfg.lease_ns = -1;
    ASSERT(lock_service_quorum_new(&cfg) == NULL);
    cfg.lease_ns = LOCK_TABLE_LEASE_MAX + 3; /* no lock table would grant it */
    cfg.call_timeout_ns = 1000 * MS;
    ASSERT(lock_service_quorum_new(&cfg) == NULL);
    cfg.lease_ns = 3000 * MS;
    cfg.call_timeout_ns = -1;
    ASSERT(lock_service_quorum_new(&cfg) == NULL);
    cfg.lease_ns = 0; /* the defaults: 30 s and 1 s */
    cfg.call_timeout_ns = 0;
    ls = lock_service_quorum_new(&cfg);
    ASSERT(ls != NULL);
    lock_service_free(ls);
}

TEST(lock_quorum_modes)
{
    struct fcluster c;
    struct fclient a, b;
    struct lock_held *w, *r1, *r2, *x = NULL;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 0, 3000, 500);
    fclient_init(&b, &c, 1, 3000, 500);
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(1000), &w));
    ASSERT(!lock_is_lost(w));
    ASSERT_STREQ(lock_held_resource(w), "b/k");
    ASSERT_EQ(fcluster_wait_count(&c, 4, 500), 4); /* the last node may answer after quorum */
    ASSERT_EQ(lock_acquire(b.ls, "b/k", LOCK_WRITE, in_ms(100), &x), -ERR_TIMEOUT);
    ASSERT_EQ(lock_acquire(b.ls, "b/k", LOCK_READ, in_ms(100), &x), -ERR_TIMEOUT);
    ASSERT_EQ(lock_acquire(a.ls, "b/k", LOCK_READ, in_ms(100), &x), -ERR_TIMEOUT);
    ASSERT(x == NULL);
    ASSERT_OK(lock_acquire(b.ls, "b/other", LOCK_WRITE, in_ms(1000), &x));
    lock_release(x);
    lock_release(w);
    ASSERT_OK(lock_acquire(b.ls, "b/k", LOCK_READ, in_ms(1000), &r1));
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_READ, in_ms(1000), &r2));
    ASSERT_EQ(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(100), &x), -ERR_TIMEOUT);
    lock_release(r1);
    lock_release(r2);
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(1000), &w));
    lock_release(w);
    ASSERT_EQ(fcluster_wait_count(&c, 0, 1000), 0);
    ASSERT_EQ(lock_acquire(a.ls, "b/k", (enum lock_mode)3, in_ms(100), &x), -ERR_INVAL);
    ASSERT_EQ(lock_acquire(a.ls, "b/k", LOCK_WRITE, clock_mono_ns() - 1, &x), -ERR_TIMEOUT);
    lock_service_free(a.ls);
    lock_service_free(b.ls);
    fcluster_release(&c);
}

TEST(lock_quorum_stress_three_clients)
{
    struct fcluster c;
    struct fclient cl[3];
    struct stress s = { .nls = 3, .iters = 200 };
    unsigned i;

    fcluster_init(&c, 4);
    for (i = 0; i < 3; i++) {
        fclient_init(&cl[i], &c, i, 3000, 500);
        s.ls[i] = cl[i].ls;
    }
    stress_run(&s, 6); /* two threads per client */
    for (i = 0; i < 3; i++)
        lock_service_free(cl[i].ls);
    ASSERT_EQ(fcluster_count(&c), 0);
    fcluster_release(&c);
}

/* The same with each client's own node called on the acquiring thread (as a server does). */
TEST(lock_quorum_stress_self_inline)
{
    struct fcluster c;
    struct fclient cl[3];
    struct stress s = { .nls = 3, .iters = 200 };
    struct lock_held *w;
    unsigned i;

    fcluster_init(&c, 4);
    for (i = 0; i < 3; i++) {
        fclient_init_ex(&cl[i], &c, i, 3000, 500, true);
        s.ls[i] = cl[i].ls;
    }
    stress_run(&s, 6); /* two threads per client */
    ASSERT_EQ(fcluster_wait_count(&c, 0, 500), 0);
    /* a release of this node's grant is done when lock_release returns */
    ASSERT_OK(lock_acquire(cl[0].ls, "b/k", LOCK_WRITE, in_ms(1000), &w));
    ASSERT_EQ(lock_table_count(c.nodes[0].t), 1);
    lock_release(w);
    ASSERT_EQ(lock_table_count(c.nodes[0].t), 0);
    for (i = 0; i < 3; i++)
        lock_service_free(cl[i].ls);
    ASSERT_EQ(fcluster_count(&c), 0);
    fcluster_release(&c);
}

/*
 * A node that granted a lock and restarts (its table forgets the grant) must
 * not let a second writer in: every node holds the first writer's grant, so
 * the second finds one node willing, not a quorum. With grants on a quorum
 * only (3 nodes: 2), the restarted node and the one never asked would have
 * made a quorum for the second writer.
 */
static void
restarted_granter_keeps_others_out(bool self_inline)
{
    struct fcluster c;
    struct fclient a, b;
    struct lock_held *w, *w2 = NULL;
    unsigned node;
    int rc;

    for (node = 1; node < 3; node++) { /* either other node restarting */
        fcluster_init(&c, 3);
        fclient_init_ex(&a, &c, 0, 3000, 300, self_inline);
        fclient_init_ex(&b, &c, 2, 3000, 300, self_inline);
        ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(1000), &w));
        /* granted on all three at once, long before the first refresh (lease / 3: 1 s) */
        ASSERT(fcluster_wait_count(&c, 3, 300) == 3);
        ASSERT_EQ(lock_table_drop_owner(c.nodes[node].t, 0), 1); /* the restart */
        rc = lock_acquire(b.ls, "b/k", LOCK_WRITE, in_ms(300), &w2);
        ASSERT(rc == -ERR_TIMEOUT || rc == -ERR_BUSY); /* not granted before the deadline */
        ASSERT(w2 == NULL);
        lock_release(w);
        lock_service_free(a.ls);
        lock_service_free(b.ls);
        fcluster_release(&c);
    }
}

TEST(lock_quorum_restarted_granter_keeps_others_out)
{
    restarted_granter_keeps_others_out(false);
    restarted_granter_keeps_others_out(true);
}

/* With node 3 in `mode`, a write is granted at once, and released without waiting. */
static void
one_node_faulty(enum fmode mode)
{
    struct fcluster c;
    struct fclient a, b;
    struct lock_held *w;
    int64_t start;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 0, 10000, 1000);
    fclient_init(&b, &c, 1, 10000, 1000);
    fcluster_set(&c, 3, mode);
    start = clock_mono_ns();
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(5000), &w));
    /*
     * The bounds here are below the hung node's 1 s call timeout, with room for a loaded
     * machine that schedules the fake transport's workers late.
     */
    ASSERT(ms_since(start) < 900); /* not the hung node's 1 s */
    ASSERT(!lock_is_lost(w));
    start = clock_mono_ns();
    lock_release(w);
    ASSERT(ms_since(start) < 900);
    /*
     * The releases reach the live nodes at once, and then another client gets the lock at
     * once. (Before they land, an attempt that sees 2 grants, a refusal and the hung node
     * must wait for the hung node's deadline: the transport should fail fast for a node it
     * knows is down.)
     */
    ASSERT_EQ(fcluster_wait_count(&c, 0, 900), 0);
    start = clock_mono_ns();
    ASSERT_OK(lock_acquire(b.ls, "b/k", LOCK_WRITE, in_ms(5000), &w));
    ASSERT(ms_since(start) < 900);
    lock_release(w);
    lock_service_free(a.ls); /* waits for the hung node's calls, up to their deadlines */
    lock_service_free(b.ls);
    ASSERT_EQ(fcluster_count(&c), 0);
    fcluster_release(&c);
}

TEST(lock_quorum_one_node_down)
{
    one_node_faulty(F_DOWN);
}

TEST(lock_quorum_one_node_hung)
{
    one_node_faulty(F_HUNG);
}

/* Two of four nodes down (they answer at once that they are offline): no waiting for nothing. */
TEST(lock_quorum_two_nodes_down_fails_fast)
{
    struct fcluster c;
    struct fclient a;
    struct lock_held *h;
    int64_t start;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 0, 10000, 1000);
    fcluster_set(&c, 1, F_DOWN);
    fcluster_set(&c, 2, F_DOWN);
    start = clock_mono_ns();
    ASSERT_EQ(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(5000), &h), -ERR_QUORUM);
    ASSERT(ms_since(start) < 1000);
    /* a read quorum (2 of 4) still is one */
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_READ, in_ms(3000), &h));
    lock_release(h);
    /* one back: writes again */
    fcluster_set(&c, 2, F_UP);
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(3000), &h));
    lock_release(h);
    lock_service_free(a.ls);
    fcluster_release(&c);
}

TEST(lock_quorum_two_nodes_out)
{
    struct fcluster c;
    struct fclient a;
    struct lock_held *h, *h2;
    int64_t start, ms;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 0, 10000, 1000);
    fcluster_set(&c, 1, F_DOWN);
    fcluster_set(&c, 2, F_HUNG);
    /* 2 of 4: no write quorum (3), until the deadline. */
    start = clock_mono_ns();
    ASSERT_EQ(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(300), &h), -ERR_TIMEOUT);
    ms = ms_since(start);
    ASSERT(ms >= 299 && ms < 900); /* the deadline, not the hung node's 1 s */
    /*
     * A read quorum is 2 of 4. Once the failed attempts' grants are released, that is: an
     * attempt that meets one of them (a refusal) with the hung node still pending cannot
     * decide before the hung node's call times out.
     */
    ASSERT_EQ(fcluster_wait_count(&c, 0, 900), 0);
    start = clock_mono_ns();
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_READ, in_ms(3000), &h));
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_READ, in_ms(3000), &h2));
    ASSERT(ms_since(start) < 900); /* not the hung node's 1 s */
    lock_release(h);
    lock_release(h2);
    lock_service_free(a.ls);
    ASSERT_EQ(fcluster_count(&c), 0);
    fcluster_release(&c);
}

TEST(lock_quorum_holder_dies)
{
    struct fcluster c;
    struct fclient a, b;
    struct lock_held *ha, *hb;
    int64_t start, ms;
    unsigned i, seen = 0;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 0, SHORT_LEASE_MS, SHORT_CALL_MS);
    fclient_init(&b, &c, 1, SHORT_LEASE_MS, SHORT_CALL_MS);
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(3000), &ha));
    /* refreshed twice in the meantime (a third round begun): still held */
    ASSERT(fcluster_wait_refreshes(&c, 3, &seen, 3, 5 * SHORT_LEASE_MS));
    ASSERT(!lock_is_lost(ha));
    ASSERT_EQ(lock_acquire(b.ls, "b/k", LOCK_WRITE, in_ms(100), &hb), -ERR_TIMEOUT);
    /* A dies: no refresh, no release reaches any node. */
    atomic_store(&a.cut, true);
    start = clock_mono_ns();
    ASSERT_OK(lock_acquire(b.ls, "b/k", LOCK_WRITE, in_ms(4 * SHORT_LEASE_MS), &hb));
    ms = ms_since(start);
    /* after A's lease ran out (its last refresh at most a refresh interval ago), not before */
    ASSERT(ms >= SHORT_LEASE_MS / 3 && ms < 3 * SHORT_LEASE_MS);
    ASSERT(lock_is_lost(ha));
    ASSERT(!lock_is_lost(hb));
    lock_release(ha);
    lock_release(hb);
    lock_service_free(a.ls);
    lock_service_free(b.ls);
    /*
     * B's grants were released. A's are left to their lease: B needed only 3 nodes, so on the
     * 4th one A's grant may still wait for lock_table_expire(), at most a lease from now.
     */
    ASSERT(fcluster_count(&c) <= 1);
    for (i = 0; i < c.n; i++)
        lock_table_expire(c.nodes[i].t, clock_mono_ns() + SHORT_LEASE_MS * MS);
    ASSERT_EQ(fcluster_count(&c), 0);
    fcluster_release(&c);
}

/* Polls lock_is_lost() for up to `ms`. */
static bool
lost_within(struct lock_held *h, int64_t ms)
{
    int64_t end = in_ms(ms);

    while (!lock_is_lost(h) && clock_mono_ns() < end)
        sleep_ms(5);
    return lock_is_lost(h);
}

TEST(lock_quorum_lost_when_refreshes_fail)
{
    struct fcluster c;
    struct fclient a;
    struct lock_held *w, *r;
    unsigned seen;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 0, SHORT_LEASE_MS, SHORT_CALL_MS);
    ASSERT_OK(lock_acquire(a.ls, "b/w", LOCK_WRITE, in_ms(3000), &w));
    ASSERT_OK(lock_acquire(a.ls, "b/r", LOCK_READ, in_ms(3000), &r));
    /*
     * One node refusing refreshes leaves 3 of 4: both stay held, two rounds at least (two
     * refreshes a round: the one under way may count, then two whole rounds, a fourth begun).
     */
    fcluster_set(&c, 0, F_NO_REFRESH);
    seen = atomic_load(&c.nodes[3].refreshes);
    ASSERT(fcluster_wait_refreshes(&c, 3, &seen, 4 * 2, 6 * SHORT_LEASE_MS));
    ASSERT(!lock_is_lost(w));
    ASSERT(!lock_is_lost(r));
    /* A second one: 2 of 4 is no write quorum, but still a read quorum. */
    fcluster_set(&c, 1, F_NO_REFRESH);
    ASSERT(lost_within(w, 3 * SHORT_LEASE_MS));
    /* A lost lock is no longer refreshed: two more rounds of the read lock alone. */
    seen = atomic_load(&c.nodes[3].refreshes);
    ASSERT(fcluster_wait_refreshes(&c, 3, &seen, 3, 5 * SHORT_LEASE_MS));
    ASSERT(!lock_is_lost(r));
    /* Node 2 restarts and forgets the grants: 1 of 4 confirms, not even a read quorum. */
    lock_table_drop_owner(c.nodes[2].t, 0);
    ASSERT(lost_within(r, 3 * SHORT_LEASE_MS));
    fcluster_set(&c, 0, F_UP);
    fcluster_set(&c, 1, F_UP);
    lock_release(w);
    lock_release(r);
    lock_service_free(a.ls); /* its calls all ran: the releases were sent */
    ASSERT_EQ(fcluster_count(&c), 0);
    fcluster_release(&c);
}

TEST(lock_quorum_restarted_holder_dropped)
{
    struct fcluster c;
    struct fclient a, b;
    struct lock_held *ha, *hb;
    unsigned i;
    int64_t start;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 2, 10000, 500);
    fclient_init(&b, &c, 1, 10000, 500);
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(1000), &ha));
    ASSERT_OK(lock_acquire(b.ls, "b/kept", LOCK_WRITE, in_ms(1000), &hb));
    ASSERT_EQ(fcluster_wait_count(&c, 8, 500), 8); /* the 4th answers may come after quorum */
    /* Node 2 crashes (its grants stay, with a 10 s lease) and comes back: its peers drop them. */
    atomic_store(&a.cut, true);
    for (i = 0; i < c.n; i++)
        ASSERT_EQ(lock_table_drop_owner(c.nodes[i].t, 2), 1);
    start = clock_mono_ns();
    lock_release(hb);
    ASSERT_OK(lock_acquire(b.ls, "b/k", LOCK_WRITE, in_ms(5000), &hb));
    ASSERT(ms_since(start) < 5000); /* not the 10 s lease */
    lock_release(hb);
    lock_release(ha);
    lock_service_free(a.ls);
    lock_service_free(b.ls);
    ASSERT_EQ(fcluster_count(&c), 0);
    fcluster_release(&c);
}

TEST(lock_quorum_lost_replies)
{
    struct fcluster c;
    struct fclient a, b;
    struct lock_held *h;
    int rc;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 0, 10000, 500);
    fclient_init(&b, &c, 1, 10000, 500);
    /* Node 3 grants but its answer is lost: 3 of 4 is enough, and node 3 is released too. */
    fcluster_set(&c, 3, F_DROP);
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(1000), &h));
    ASSERT_EQ(fcluster_wait_count(&c, 4, 500), 4); /* the last node may answer after quorum */
    lock_release(h);
    ASSERT_EQ(fcluster_wait_count(&c, 0, 500), 0);
    /*
     * Two lost answers: no quorum seen (too few nodes answer: -ERR_QUORUM, or the deadline
     * first), and the grants that did happen are not left behind.
     */
    fcluster_set(&c, 2, F_DROP);
    rc = lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(200), &h);
    ASSERT(rc == -ERR_QUORUM || rc == -ERR_TIMEOUT);
    ASSERT_EQ(fcluster_wait_count(&c, 0, 500), 0);
    fcluster_set(&c, 2, F_UP);
    fcluster_set(&c, 3, F_UP);
    ASSERT_OK(lock_acquire(b.ls, "b/k", LOCK_WRITE, in_ms(200), &h));
    lock_release(h);
    lock_service_free(a.ls);
    lock_service_free(b.ls);
    fcluster_release(&c);
}

TEST(lock_quorum_retried_grants_idempotent)
{
    struct fcluster c;
    struct fclient a;
    struct lock_held *h;
    unsigned i;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 0, 10000, 500);
    a.retry = true; /* set before any call: the workers read it */
    /* Every answer is lost once, and the transport retries with the same uid. */
    for (i = 0; i < c.n; i++)
        fcluster_set(&c, i, F_DROP);
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(300), &h));
    ASSERT_EQ(fcluster_wait_count(&c, 4, 500), 4); /* the last node may answer after quorum */
    for (i = 0; i < c.n; i++)
        ASSERT_EQ(lock_table_count(c.nodes[i].t), 1);
    lock_release(h);
    ASSERT_EQ(fcluster_wait_count(&c, 0, 500), 0);
    lock_service_free(a.ls);
    fcluster_release(&c);
}

TEST(lock_quorum_partial_grants_released)
{
    struct fcluster c;
    struct fclient a;
    struct lock_held *h;
    int64_t start;

    fcluster_init(&c, 4);
    fclient_init(&a, &c, 0, 10000, 500);
    /* Someone holds nodes 0 and 1: A gets 2 grants of the 3 it needs, attempt after attempt. */
    ASSERT_OK(lock_table_try(c.nodes[0].t, "b/k", LOCK_WRITE, "x", 9, 10000 * MS));
    ASSERT_OK(lock_table_try(c.nodes[1].t, "b/k", LOCK_WRITE, "x", 9, 10000 * MS));
    ASSERT_EQ(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(150), &h), -ERR_TIMEOUT);
    /* Its grants on nodes 2 and 3 were released, not left to their 10 s lease. */
    ASSERT_EQ(fcluster_wait_count(&c, 2, 500), 2);
    ASSERT_EQ(lock_table_count(c.nodes[2].t), 0);
    ASSERT_OK(lock_table_release(c.nodes[0].t, "b/k", "x"));
    ASSERT_OK(lock_table_release(c.nodes[1].t, "b/k", "x"));
    start = clock_mono_ns();
    ASSERT_OK(lock_acquire(a.ls, "b/k", LOCK_WRITE, in_ms(5000), &h));
    ASSERT(ms_since(start) < 5000); /* not their 10 s lease */
    lock_release(h);
    lock_service_free(a.ls);
    ASSERT_EQ(fcluster_count(&c), 0);
    fcluster_release(&c);
}

TEST(lock_quorum_single_node)
{
    struct fcluster c;
    struct fclient a;
    struct lock_held *w, *x;

    fcluster_init(&c, 1);
    fclient_init(&a, &c, 0, 3000, 500);
    ASSERT_OK(lock_acquire(a.ls, "k", LOCK_WRITE, in_ms(1000), &w));
    ASSERT_EQ(lock_acquire(a.ls, "k", LOCK_READ, in_ms(50), &x), -ERR_TIMEOUT);
    lock_release(w);
    lock_service_free(a.ls);
    ASSERT_EQ(fcluster_count(&c), 0);
    fcluster_release(&c);
}

/* A client whose transport sends releases in batches (release_many). */
static void
fclient_init_batched(struct fclient *cl, struct fcluster *c, unsigned owner, bool old_version)
{
    struct lock_quorum_config cfg = {
        .n = c->n,
        .self = owner,
        .lease_ns = 10000 * MS,
        .call_timeout_ns = 1000 * MS,
        .threads_per_node = 2,
        .transport = { fake_try, fake_refresh, fake_release, cl, fake_release_many, false },
    };

    memset(cl, 0, sizeof(*cl));
    cl->c = c;
    cl->owner = owner;
    cl->old_version = old_version;
    atomic_init(&cl->cut, false);
    cl->ls = lock_service_quorum_new(&cfg);
    BUG_ON(!cl->ls);
}

struct churn {
    struct fclient *cl;
    unsigned id;
};

static void *
churn_main(void *arg)
{
    struct churn *ch = arg;
    char res[32];
    unsigned i;

    for (i = 0; i < 100; i++) {
        struct lock_held *h;

        snprintf(res, sizeof(res), "o/b/k%u-%u", ch->id, i % 7);
        if (lock_acquire(ch->cl->ls, res, LOCK_WRITE, in_ms(5000), &h) == 0)
            lock_release(h);
    }
    return NULL;
}

/* 8 threads x 100 locks: every grant released, the releases gathered in fewer calls. */
TEST(lock_quorum_releases_are_batched)
{
    struct fcluster c;
    struct fclient a;
    struct churn ch[8];
    pthread_t t[8];
    unsigned i;

    fcluster_init(&c, 4);
    fclient_init_batched(&a, &c, 0, false);
    for (i = 0; i < 8; i++) {
        ch[i] = (struct churn){ &a, i };
        ASSERT_EQ(pthread_create(&t[i], NULL, churn_main, &ch[i]), 0);
    }
    for (i = 0; i < 8; i++)
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    ASSERT_EQ(fcluster_wait_count(&c, 0, 5000), 0);
    ASSERT(atomic_load(&a.batched) >= 8 * 100 * 3); /* at least the 3 grants of each lock */
    ASSERT(atomic_load(&a.batches) < atomic_load(&a.batched));
    lock_service_free(a.ls);
    fcluster_release(&c);
}

/* A node of an older version without release_many: the releases go one by one. */
TEST(lock_quorum_release_batches_fall_back_one_by_one)
{
    struct fcluster c;
    struct fclient a;
    struct lock_held *h;
    unsigned i;

    fcluster_init(&c, 4);
    fclient_init_batched(&a, &c, 0, true);
    for (i = 0; i < 20; i++) {
        ASSERT_OK(lock_acquire(a.ls, "o/b/k", LOCK_WRITE, in_ms(3000), &h));
        lock_release(h);
    }
    ASSERT_EQ(fcluster_wait_count(&c, 0, 5000), 0);
    ASSERT_EQ(atomic_load(&a.batches), 0);
    lock_service_free(a.ls);
    fcluster_release(&c);
}

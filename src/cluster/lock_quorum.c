/*
 * cluster/lock_quorum.c: the quorum lock service (cluster/lock.h), the one a
 * cluster uses: a lock is granted by a quorum of the nodes' lock tables
 * (cluster/lock_table.h), reached through an abstract transport.
 *
 * DESIGN
 *
 * Calls. Every transport call is a work item (struct qcall) on the queue of
 * its node (util/workq.h, `threads_per_node` threads each): a node that hangs
 * holds up only its own queue. A call carries a deadline; one still queued
 * when its deadline has passed is answered -ERR_TIMEOUT without being sent,
 * so a queue behind a hung node drains at once when the node's calls time out.
 *
 * Attempts. One attempt (struct qlock) is one fresh uid sent to every node.
 * Each node's answer moves it from PENDING to GRANTED, REFUSED (-ERR_BUSY:
 * certainly not granted) or FAILED (any other error: the grant may have
 * happened, e.g. a lost answer). The acquirer waits on the attempt's
 * condition until the grants reach the quorum, or can no longer reach it, or
 * the round's deadline. The attempt that succeeds is the held lock.
 *
 * Abandoning. When an attempt fails or its lock is released, it is marked
 * `abandoned` under its mutex and a release is sent to every node that
 * answered GRANTED or FAILED; a node still PENDING is released by its own
 * answer's completion, which sees `abandoned` under the same mutex. So every
 * node that may hold the grant gets exactly one release, sent after its try
 * has answered (a release that overtook its try on another worker would leave
 * the grant to its lease). Nobody waits for those releases.
 *
 * References. An attempt is freed by its last reference: the acquirer's (then
 * the holder's), one per call in flight, and the refresher's during a round.
 *
 * Refreshing. The refresher thread renews every held lock every lease/3: a
 * round (struct qround) sends refresh to every node but those that refused,
 * and waits until a quorum confirmed, or can no longer, or the round's
 * deadline. A confirmed round moves the lock's `valid_until` to the round's
 * start plus the lease (no node's lease can end before); an unconfirmed one
 * marks the lock lost and logs "lock_lost". lock_is_lost() is also true once
 * `valid_until` has passed, should the refresher fall behind.
 *
 * Locks: svc->mu (the held list, the refresher's schedule) and each
 * attempt's mu (its node states and counts) are never held together, and
 * neither is held across a transport call; a workq's own mutex is taken under
 * an attempt's mu (submitting calls), never the other way round.
 */
#include "util/base.h"

#include "cluster/lock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>

#include "cluster/lock_internal.h"
#include "cluster/lock_table.h"
#include "obs/log.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/list.h"
#include "util/workq.h"

#define BACKOFF_MIN_NS (2LL * 1000000)  /* 2 ms */
#define BACKOFF_MAX_NS (50LL * 1000000) /* 50 ms */
#define UID_BYTES 16

enum nstate { N_PENDING, N_GRANTED, N_REFUSED, N_FAILED };
enum call_kind { CALL_TRY, CALL_REFRESH, CALL_RELEASE };

/* A release waiting to be sent in a batch (release_many). */
struct rel_item {
    struct list_node link;
    char *resource;
    char uid[2 * UID_BYTES + 1];
};

/* One node's releases to send: a flush job runs while any are queued. */
struct rel_queue {
    pthread_mutex_t mu; /* protects items and flushing */
    struct list_node items;
    bool flushing; /* `w` is queued or running */
    struct work w; /* the flush job, on the node's call queue */
    struct quorum_service *svc;
    unsigned node;
};

struct quorum_service {
    struct lock_service base;
    struct lock_transport tr; /* read-only, as every field up to `mu` */
    unsigned n, self;
    unsigned quorum[2]; /* by enum lock_mode */
    int64_t lease_ns, call_ns, interval_ns;
    struct workq **queues;    /* one per node */
    struct rel_queue *relq;   /* one per node, when the transport has release_many */
    pthread_condattr_t cattr; /* CLOCK_MONOTONIC */
    pthread_mutex_t mu;       /* protects held, nheld, wake_ns, stopping */
    pthread_cond_t cv;        /* wakes the refresher */
    struct list_node held;    /* struct qlock.link of every held lock */
    unsigned nheld;
    int64_t wake_ns; /* when the refresher will look again */
    bool stopping;
    pthread_t refresher;
};

struct qlock {
    struct lock_held base;
    struct quorum_service *svc;
    char *resource;
    enum lock_mode mode;
    char uid[2 * UID_BYTES + 1];
    atomic_uint refs;
    atomic_bool lost;               /* a refresh round was not confirmed */
    _Atomic int64_t valid_until_ns; /* no node's grant ends before */
    struct list_node link;          /* in svc->held; protected by svc->mu */
    int64_t next_refresh_ns;        /* protected by svc->mu */
    pthread_mutex_t mu;             /* protects the fields below */
    pthread_cond_t cv;              /* the acquirer waits for answers */
    unsigned granted, pending;
    bool abandoned;  /* failed or released: answers from now on release their grant */
    uint8_t state[]; /* enum nstate per node */
};

struct qround {
    pthread_mutex_t mu; /* protects ok and pending */
    pthread_cond_t cv;
    unsigned ok, pending;
    atomic_uint refs;
};

struct qcall {
    struct work w;
    struct qlock *lk;     /* a reference */
    struct qround *round; /* CALL_REFRESH: a reference */
    enum call_kind kind;
    unsigned node;
    int64_t deadline_ns;
    int rc;
};

static void
qlock_put(struct qlock *lk)
{
    if (atomic_fetch_sub(&lk->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&lk->mu);
    pthread_cond_destroy(&lk->cv);
    free(lk->resource);
    free(lk);
}

static void
qround_put(struct qround *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

static void
call_fn(struct work *w)
{
    struct qcall *c = container_of(w, struct qcall, w);
    const struct lock_transport *tr = &c->lk->svc->tr;
    const struct qlock *lk = c->lk;

    if (clock_mono_ns() >= c->deadline_ns) {
        c->rc = -ERR_TIMEOUT; /* queued behind a slow node for too long: not sent */
        return;
    }
    switch (c->kind) {
    case CALL_TRY:
        c->rc = tr->try_lock(tr->arg, c->node, lk->resource, lk->mode, lk->uid, lk->svc->lease_ns,
                             c->deadline_ns);
        break;
    case CALL_REFRESH:
        c->rc = tr->refresh(tr->arg, c->node, lk->resource, lk->uid, c->deadline_ns);
        break;
    case CALL_RELEASE:
        c->rc = tr->release(tr->arg, c->node, lk->resource, lk->uid, c->deadline_ns);
        break;
    }
}

static void call_done(struct work *w);

/* Queues a call to `node` about `lk`; the call takes references on `lk` and `round`. */
static void
call_submit(struct qlock *lk, unsigned node, enum call_kind kind, struct qround *round,
            int64_t deadline_ns)
{
    struct qcall *c = xcalloc(1, sizeof(*c));

    c->w.fn = call_fn;
    c->w.done = call_done;
    c->lk = lk;
    c->round = round;
    c->kind = kind;
    c->node = node;
    c->deadline_ns = deadline_ns;
    atomic_fetch_add(&lk->refs, 1);
    if (round)
        atomic_fetch_add(&round->refs, 1);
    workq_submit(lk->svc->queues[node], &c->w);
}

/*
 * Sends every release queued for the node in batches of at most
 * LOCK_RELEASE_BATCH_MAX, until none is left (releases queued meanwhile go
 * in the next batch: under load they gather while a batch is in flight).
 */
static void
rel_flush(struct work *w)
{
    struct rel_queue *q = container_of(w, struct rel_queue, w);
    const struct lock_transport *tr = &q->svc->tr;
    const char *res[LOCK_RELEASE_BATCH_MAX], *uids[LOCK_RELEASE_BATCH_MAX];
    struct rel_item *items[LOCK_RELEASE_BATCH_MAX];

    for (;;) {
        struct list_node *ln;
        int64_t deadline = clock_mono_ns() + q->svc->call_ns;
        size_t n = 0, i;

        pthread_mutex_lock(&q->mu);
        while (n < LOCK_RELEASE_BATCH_MAX && (ln = list_pop(&q->items)) != NULL) {
            items[n] = container_of(ln, struct rel_item, link);
            res[n] = items[n]->resource;
            uids[n] = items[n]->uid;
            n++;
        }
        if (n == 0)
            q->flushing = false;
        pthread_mutex_unlock(&q->mu);
        if (n == 0)
            return;
        if (tr->release_many(tr->arg, q->node, res, uids, n, deadline) == -ERR_NOT_IMPLEMENTED)
            for (i = 0; i < n; i++) /* a node of an older version */
                tr->release(tr->arg, q->node, res[i], uids[i], deadline);
        for (i = 0; i < n; i++) {
            free(items[i]->resource);
            free(items[i]);
        }
    }
}

/* Releases `lk`'s grant on `node`, in the background (batched when the transport can). */
static void
release_send(struct qlock *lk, unsigned node)
{
    struct quorum_service *svc = lk->svc;
    struct rel_queue *q;
    struct rel_item *it;
    bool submit;

    if (node == svc->self && svc->tr.self_inline) {
        svc->tr.release(svc->tr.arg, node, lk->resource, lk->uid, clock_mono_ns() + svc->call_ns);
        return;
    }
    if (!svc->relq) {
        call_submit(lk, node, CALL_RELEASE, NULL, clock_mono_ns() + svc->call_ns);
        return;
    }
    q = &svc->relq[node];
    it = xcalloc(1, sizeof(*it));
    it->resource = xstrdup(lk->resource);
    memcpy(it->uid, lk->uid, sizeof(it->uid));
    pthread_mutex_lock(&q->mu);
    list_add_tail(&q->items, &it->link);
    submit = !q->flushing;
    q->flushing = true;
    pthread_mutex_unlock(&q->mu);
    if (submit)
        workq_submit(svc->queues[node], &q->w);
}

/* Marks `lk` abandoned and releases every node that answered with a possible grant. */
static void
abandon_locked(struct qlock *lk)
{
    unsigned i;

    BUG_ON(lk->abandoned);
    lk->abandoned = true;
    for (i = 0; i < lk->svc->n; i++)
        if (lk->state[i] == N_GRANTED || lk->state[i] == N_FAILED)
            release_send(lk, i);
}

static void
try_answered(struct qlock *lk, unsigned node, int rc)
{
    enum nstate st = rc == 0 ? N_GRANTED : rc == -ERR_BUSY ? N_REFUSED : N_FAILED;

    pthread_mutex_lock(&lk->mu);
    BUG_ON(lk->state[node] != N_PENDING || lk->pending == 0);
    lk->state[node] = (uint8_t)st;
    lk->pending--;
    if (st == N_GRANTED)
        lk->granted++;
    if (lk->abandoned && st != N_REFUSED)
        release_send(lk, node);
    pthread_cond_broadcast(&lk->cv);
    pthread_mutex_unlock(&lk->mu);
}

static void
refresh_answered(struct qround *r, int rc)
{
    pthread_mutex_lock(&r->mu);
    r->pending--;
    if (rc == 0)
        r->ok++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void
call_done(struct work *w)
{
    struct qcall *c = container_of(w, struct qcall, w);

    if (c->kind == CALL_TRY)
        try_answered(c->lk, c->node, c->rc);
    else if (c->kind == CALL_REFRESH)
        refresh_answered(c->round, c->rc);
    if (c->round)
        qround_put(c->round);
    qlock_put(c->lk);
    free(c);
}

/* Waits on `cv` until woken or `deadline_ns`; false once the deadline has passed. */
static bool
wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ns)
{
    struct timespec ts;

    if (deadline_ns <= 0)
        return false;
    ts.tv_sec = deadline_ns / 1000000000;
    ts.tv_nsec = deadline_ns % 1000000000;
    return pthread_cond_timedwait(cv, mu, &ts) != ETIMEDOUT;
}

static struct qlock *
qlock_new(struct quorum_service *svc, const char *resource, enum lock_mode mode, uint64_t *jitter)
{
    struct qlock *lk = xcalloc(1, sizeof(*lk) + svc->n);
    uint8_t rnd[UID_BYTES + sizeof(*jitter)];
    unsigned i;

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        die("getrandom failed");
    for (i = 0; i < UID_BYTES; i++)
        snprintf(&lk->uid[2 * i], 3, "%02x", rnd[i]);
    memcpy(jitter, rnd + UID_BYTES, sizeof(*jitter));
    lk->base.ls = &svc->base;
    lk->resource = xstrdup(resource);
    lk->base.resource = lk->resource;
    lk->svc = svc;
    lk->mode = mode;
    atomic_init(&lk->refs, 1);
    atomic_init(&lk->lost, false);
    atomic_init(&lk->valid_until_ns, 0);
    list_init(&lk->link);
    pthread_mutex_init(&lk->mu, NULL);
    pthread_cond_init(&lk->cv, &svc->cattr);
    lk->pending = svc->n; /* every state[] is N_PENDING (0) */
    return lk;
}

/*
 * One attempt: a fresh uid tried on every node. Returns 0 and the held lock
 * in `*out`, or -ERR_BUSY (no quorum this time; the grants are being
 * released), -ERR_QUORUM when so many nodes failed to answer (offline,
 * unreachable) that the others could not make a quorum. `*jitter` receives
 * random bits for the backoff.
 */
static int
attempt(struct quorum_service *svc, const char *resource, enum lock_mode mode, int64_t deadline_ns,
        struct qlock **out, uint64_t *jitter)
{
    struct qlock *lk = qlock_new(svc, resource, mode, jitter);
    unsigned q = svc->quorum[mode], i, failed = 0;
    int64_t start = clock_mono_ns();
    int64_t round_end = MIN(deadline_ns, start + svc->call_ns);
    bool in_time = true, ok;

    /* this node's table on this thread when it may be (no hand-off), then every other node */
    if (svc->tr.self_inline)
        try_answered(lk, svc->self,
                     svc->tr.try_lock(svc->tr.arg, svc->self, lk->resource, lk->mode, lk->uid,
                                      svc->lease_ns, round_end));
    for (i = 0; i < svc->n; i++)
        if (i != svc->self || !svc->tr.self_inline)
            call_submit(lk, i, CALL_TRY, NULL, round_end);
    pthread_mutex_lock(&lk->mu);
    while (lk->granted < q && lk->granted + lk->pending >= q && in_time)
        in_time = wait_until(&lk->cv, &lk->mu, round_end);
    ok = lk->granted >= q;
    if (!ok)
        abandon_locked(lk);
    for (i = 0; i < svc->n; i++)
        failed += lk->state[i] == N_FAILED;
    pthread_mutex_unlock(&lk->mu);
    if (!ok) {
        qlock_put(lk);
        return svc->n - failed < q ? -ERR_QUORUM : -ERR_BUSY;
    }
    atomic_store(&lk->valid_until_ns, start + svc->lease_ns);
    lk->next_refresh_ns = start + svc->interval_ns;
    *out = lk;
    return 0;
}

/* Sleeps until `until_ns` (CLOCK_MONOTONIC). */
static void
sleep_until(int64_t until_ns)
{
    struct timespec ts = { until_ns / 1000000000, until_ns % 1000000000 };

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void
held_add(struct quorum_service *svc, struct qlock *lk)
{
    pthread_mutex_lock(&svc->mu);
    list_add_tail(&svc->held, &lk->link);
    svc->nheld++;
    if (lk->next_refresh_ns < svc->wake_ns)
        pthread_cond_signal(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
}

static int
quorum_acquire(struct lock_service *ls, const char *resource, enum lock_mode mode,
               int64_t deadline_ns, struct lock_held **out)
{
    struct quorum_service *svc = container_of(ls, struct quorum_service, base);
    int64_t backoff = BACKOFF_MIN_NS, now;
    struct qlock *lk = NULL;
    uint64_t jitter;
    unsigned cut_off = 0;
    int rc;

    for (;;) {
        if (clock_mono_ns() >= deadline_ns)
            return -ERR_TIMEOUT;
        rc = attempt(svc, resource, mode, deadline_ns, &lk, &jitter);
        if (rc == 0)
            break;
        /* Too few nodes answer, twice running (not a blip): waiting would not help. */
        cut_off = rc == -ERR_QUORUM ? cut_off + 1 : 0;
        if (cut_off >= 2)
            return -ERR_QUORUM;
        /* Randomized and growing, so that competing clients stop colliding. */
        now = clock_mono_ns();
        sleep_until(MIN(deadline_ns, now + backoff / 2 + (int64_t)(jitter % (uint64_t)backoff)));
        backoff = MIN(backoff * 2, BACKOFF_MAX_NS);
    }
    held_add(svc, lk);
    *out = &lk->base;
    return 0;
}

static void
quorum_release(struct lock_held *h)
{
    struct qlock *lk = container_of(h, struct qlock, base);
    struct quorum_service *svc = lk->svc;

    pthread_mutex_lock(&svc->mu);
    list_del(&lk->link);
    BUG_ON(svc->nheld == 0);
    svc->nheld--;
    pthread_mutex_unlock(&svc->mu);
    pthread_mutex_lock(&lk->mu);
    abandon_locked(lk);
    pthread_mutex_unlock(&lk->mu);
    qlock_put(lk);
}

static bool
quorum_is_lost(const struct lock_held *h)
{
    const struct qlock *lk = container_of(h, struct qlock, base);

    return atomic_load(&lk->lost) || clock_mono_ns() >= atomic_load(&lk->valid_until_ns);
}

/* One refresh round of one held lock, and the time it was sent. */
struct refresh {
    struct qlock *lk; /* a reference */
    struct qround *round;
    int64_t sent_ns;
};

/* Sends refresh to every node that may hold the grant. */
static void
round_start(struct quorum_service *svc, struct refresh *rf)
{
    struct qlock *lk = rf->lk;
    struct qround *r = xcalloc(1, sizeof(*r));
    unsigned i;

    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, &svc->cattr);
    atomic_init(&r->refs, 1);
    rf->round = r;
    rf->sent_ns = clock_mono_ns();
    pthread_mutex_lock(&lk->mu);
    for (i = 0; i < svc->n; i++)
        r->pending += lk->state[i] != N_REFUSED;
    for (i = 0; i < svc->n; i++)
        if (lk->state[i] != N_REFUSED)
            call_submit(lk, i, CALL_REFRESH, r, rf->sent_ns + svc->call_ns);
    pthread_mutex_unlock(&lk->mu);
}

/* Waits for the round of `rf`, then renews or loses its lock. */
static void
round_finish(struct quorum_service *svc, struct refresh *rf)
{
    struct qlock *lk = rf->lk;
    struct qround *r = rf->round;
    unsigned q = svc->quorum[lk->mode], ok;
    bool in_time = true, released;

    pthread_mutex_lock(&r->mu);
    while (r->ok < q && r->ok + r->pending >= q && in_time)
        in_time = wait_until(&r->cv, &r->mu, rf->sent_ns + svc->call_ns);
    ok = r->ok;
    pthread_mutex_unlock(&r->mu);
    pthread_mutex_lock(&lk->mu);
    released = lk->abandoned;
    pthread_mutex_unlock(&lk->mu);
    if (ok >= q) {
        atomic_store(&lk->valid_until_ns, rf->sent_ns + svc->lease_ns);
    } else if (!released && !atomic_exchange(&lk->lost, true)) {
        log_warn(&(struct log_ctx){ .event = "lock_lost" },
                 "lock on '%s' (%s) lost: %u of %u nodes confirmed its refresh, quorum %u "
                 "(node %u)",
                 lk->resource, lk->mode == LOCK_WRITE ? "write" : "read", ok, svc->n, q, svc->self);
    }
    qround_put(r);
    qlock_put(lk);
}

/*
 * Under svc->mu: takes a reference on every held lock due for a refresh
 * into `*rfs` (`*n` of them) and sets svc->wake_ns to the next due time.
 */
static void
collect_due(struct quorum_service *svc, struct refresh **rfs, unsigned *n)
{
    int64_t now = clock_mono_ns();
    struct list_node *p;
    unsigned k = 0;

    svc->wake_ns = now + svc->interval_ns;
    *rfs = xcalloc(svc->nheld ? svc->nheld : 1, sizeof(**rfs));
    for (p = svc->held.next; p != &svc->held; p = p->next) {
        struct qlock *lk = container_of(p, struct qlock, link);

        if (atomic_load(&lk->lost))
            continue; /* no use: its holder must give it up */
        if (lk->next_refresh_ns <= now) {
            lk->next_refresh_ns = now + svc->interval_ns;
            atomic_fetch_add(&lk->refs, 1);
            (*rfs)[k++].lk = lk;
        }
        svc->wake_ns = MIN(svc->wake_ns, lk->next_refresh_ns);
    }
    *n = k;
}

/*
 * The refresher thread (one per quorum service): renews every held lock
 * every lease/3, all due locks' rounds in parallel.
 */
static void *
refresher_main(void *arg)
{
    struct quorum_service *svc = arg;

    pthread_setname_np(pthread_self(), "lock-refresh");
    pthread_mutex_lock(&svc->mu);
    while (!svc->stopping) {
        struct refresh *rfs;
        unsigned n, i;

        collect_due(svc, &rfs, &n);
        if (n == 0) {
            free(rfs);
            wait_until(&svc->cv, &svc->mu, svc->wake_ns);
            continue;
        }
        pthread_mutex_unlock(&svc->mu);
        for (i = 0; i < n; i++)
            round_start(svc, &rfs[i]);
        for (i = 0; i < n; i++)
            round_finish(svc, &rfs[i]);
        free(rfs);
        pthread_mutex_lock(&svc->mu);
    }
    pthread_mutex_unlock(&svc->mu);
    return NULL;
}

static void
quorum_free(struct lock_service *ls)
{
    struct quorum_service *svc = container_of(ls, struct quorum_service, base);
    unsigned i;

    pthread_mutex_lock(&svc->mu);
    BUG_ON(svc->nheld != 0); /* a lock is still held */
    svc->stopping = true;
    pthread_cond_signal(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
    pthread_join(svc->refresher, NULL);
    /* Calls in flight finish by their deadlines; answers may queue releases on their own node. */
    for (i = 0; i < svc->n; i++)
        workq_free(svc->queues[i]);
    free(svc->queues);
    for (i = 0; svc->relq && i < svc->n; i++) { /* every flush ran to an empty queue */
        BUG_ON(!list_is_empty(&svc->relq[i].items));
        pthread_mutex_destroy(&svc->relq[i].mu);
    }
    free(svc->relq);
    pthread_mutex_destroy(&svc->mu);
    pthread_cond_destroy(&svc->cv);
    pthread_condattr_destroy(&svc->cattr);
    free(svc);
}

static const struct lock_ops quorum_ops = {
    .name = "quorum",
    .acquire = quorum_acquire,
    .release = quorum_release,
    .is_lost = quorum_is_lost,
    .free = quorum_free,
};

static bool
config_valid(const struct lock_quorum_config *cfg, int64_t lease_ns, int64_t call_ns)
{
    const struct lock_transport *tr = &cfg->transport;

    if (cfg->n == 0 || cfg->n > LOCK_MAX_NODES || cfg->self >= cfg->n)
        return false;
    if (!tr->try_lock || !tr->refresh || !tr->release)
        return false;
    if (lease_ns <= 0 || lease_ns > LOCK_TABLE_LEASE_MAX)
        return false; /* every lock table would refuse it */
    return call_ns > 0 && call_ns < lease_ns / 3;
}

struct lock_service *
lock_service_quorum_new(const struct lock_quorum_config *cfg)
{
    int64_t lease = cfg->lease_ns ? cfg->lease_ns : LOCK_DEFAULT_LEASE_NS;
    int64_t call = cfg->call_timeout_ns ? cfg->call_timeout_ns : LOCK_DEFAULT_CALL_TIMEOUT_NS;
    unsigned threads =
        cfg->threads_per_node ? cfg->threads_per_node : LOCK_DEFAULT_THREADS_PER_NODE;
    struct quorum_service *svc;
    unsigned i;

    if (!config_valid(cfg, lease, call))
        return NULL;
    svc = xcalloc(1, sizeof(*svc));
    lock__init(&svc->base, &quorum_ops);
    svc->tr = cfg->transport;
    svc->n = cfg->n;
    svc->self = cfg->self;
    svc->quorum[LOCK_WRITE] = cfg->n / 2 + 1;
    svc->quorum[LOCK_READ] = cfg->n - (cfg->n / 2 + 1) + 1;
    svc->lease_ns = lease;
    svc->call_ns = call;
    svc->interval_ns = lease / 3;
    pthread_condattr_init(&svc->cattr);
    pthread_condattr_setclock(&svc->cattr, CLOCK_MONOTONIC);
    pthread_mutex_init(&svc->mu, NULL);
    pthread_cond_init(&svc->cv, &svc->cattr);
    list_init(&svc->held);
    svc->queues = xcalloc(svc->n, sizeof(*svc->queues));
    for (i = 0; i < svc->n; i++) {
        char name[16];

        snprintf(name, sizeof(name), "lock-%u", i);
        svc->queues[i] = workq_new(name, threads);
    }
    if (svc->tr.release_many) {
        svc->relq = xcalloc(svc->n, sizeof(*svc->relq));
        for (i = 0; i < svc->n; i++) {
            struct rel_queue *q = &svc->relq[i];

            pthread_mutex_init(&q->mu, NULL);
            list_init(&q->items);
            q->w.fn = rel_flush;
            q->svc = svc;
            q->node = i;
        }
    }
    if (pthread_create(&svc->refresher, NULL, refresher_main, svc))
        die("cannot start the lock refresher thread");
    return &svc->base;
}

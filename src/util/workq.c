/*
 * util/workq.c: worker queues. Each queue has its own mutex, condition and
 * threads; a job is taken under the mutex and run outside it.
 */
#include "util/base.h"

#include "util/workq.h"

struct workq {
    pthread_mutex_t mu; /* protects jobs, queued, depth, producers, nudged, stopping */
    pthread_cond_t cv;
    struct list_node jobs;
    unsigned queued; /* jobs in `jobs` */
    unsigned depth;  /* queued and running */
    bool stopping;
    unsigned nthreads;
    unsigned max_batch;   /* 1, or the most jobs `batch` takes at once */
    work_batch_fn *batch; /* NULL: each job's fn */
    unsigned producers;   /* batch queues: workq_producer() count */
    bool nudged;          /* batch queues: a producer waits, run what is queued */
    bool bypass;          /* workq_bypass(): jobs run on their submitter */
    pthread_t *threads;
    char name[16];
};

/*
 * Whether a worker should take jobs now. A batch queue gathers one job per
 * producer (up to max_batch; workq_producer()) before it runs them, unless
 * a producer waits for its job (workq_nudge()) or the queue is stopping.
 */
static bool
ready(const struct workq *q)
{
    unsigned want;

    if (q->queued == 0)
        return false;
    if (!q->batch || q->nudged || q->stopping)
        return true;
    want = MIN(MAX(q->producers / q->nthreads, 1u), q->max_batch);
    return q->queued >= want;
}

static void *
worker_main(void *arg)
{
    struct workq *q = arg;

    pthread_setname_np(pthread_self(), q->name);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        struct work *w[WORKQ_MAX_BATCH];
        struct list_node *n;
        unsigned i, k = 0;

        if (!ready(q)) {
            if (q->stopping && q->queued == 0)
                break;
            pthread_cond_wait(&q->cv, &q->mu);
            continue;
        }
        while (k < q->max_batch && (n = list_pop(&q->jobs)) != NULL) {
            w[k] = container_of(n, struct work, link);
            w[k++]->_queued = false;
        }
        q->queued -= k;
        if (q->queued == 0)
            q->nudged = false;
        else if (ready(q))
            pthread_cond_signal(&q->cv); /* more than one batch is ready: another worker */
        pthread_mutex_unlock(&q->mu);
        if (q->batch)
            q->batch(w, k);
        else
            w[0]->fn(w[0]);
        for (i = 0; i < k; i++)
            if (w[i]->done)
                w[i]->done(w[i]);
        pthread_mutex_lock(&q->mu);
        q->depth -= k;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct workq *
workq_new(const char *name, unsigned nthreads)
{
    return workq_new_batch(name, nthreads, 1, NULL);
}

struct workq *
workq_new_batch(const char *name, unsigned nthreads, unsigned max, work_batch_fn *batch)
{
    struct workq *q = xcalloc(1, sizeof(*q));
    unsigned i;

    BUG_ON(max == 0 || max > WORKQ_MAX_BATCH || (max > 1 && !batch));
    q->max_batch = max;
    q->batch = batch;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    list_init(&q->jobs);
    snprintf(q->name, sizeof(q->name), "%s", name);
    q->nthreads = nthreads ? nthreads : 1;
    q->threads = xcalloc(q->nthreads, sizeof(*q->threads));
    for (i = 0; i < q->nthreads; i++)
        if (pthread_create(&q->threads[i], NULL, worker_main, q))
            die("cannot start worker thread %s", name);
    return q;
}

void
workq_free(struct workq *q)
{
    unsigned i;

    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q->threads);
    free(q);
}

static void
run_one(struct work *w)
{
    w->fn(w);
    if (w->done)
        w->done(w);
}

void
workq_submit(struct workq *q, struct work *w)
{
    pthread_mutex_lock(&q->mu);
    if (q->bypass) {
        pthread_mutex_unlock(&q->mu);
        run_one(w);
        return;
    }
    list_add_tail(&q->jobs, &w->link);
    w->_queued = true;
    q->queued++;
    q->depth++;
    if (ready(q))
        pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

struct drain {
    struct list_node jobs;
};

static void *
drain_main(void *arg)
{
    struct drain *dr = arg;
    struct list_node *n;

    pthread_setname_np(pthread_self(), "workq-drain");
    while ((n = list_pop(&dr->jobs)) != NULL)
        run_one(container_of(n, struct work, link));
    free(dr);
    return NULL;
}

void
workq_bypass(struct workq *q, bool on)
{
    struct drain *dr = NULL;
    pthread_attr_t attr;
    pthread_t t;

    BUG_ON(q->batch);
    pthread_mutex_lock(&q->mu);
    q->bypass = on;
    if (on && q->queued) {
        struct list_node *n;

        dr = xcalloc(1, sizeof(*dr));
        list_init(&dr->jobs);
        while ((n = list_pop(&q->jobs)) != NULL) {
            container_of(n, struct work, link)->_queued = false;
            list_add_tail(&dr->jobs, n);
        }
        q->depth -= q->queued;
        q->queued = 0;
    }
    pthread_mutex_unlock(&q->mu);
    if (!dr)
        return;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, drain_main, dr))
        drain_main(dr); /* no thread to be had: run them here */
    pthread_attr_destroy(&attr);
}

void
workq_producer(struct workq *q, int delta)
{
    pthread_mutex_lock(&q->mu);
    BUG_ON(delta < 0 && q->producers < (unsigned)-delta);
    q->producers = (unsigned)((int)q->producers + delta);
    if (ready(q))
        pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void
workq_nudge(struct workq *q, struct work *w)
{
    pthread_mutex_lock(&q->mu);
    if (w->_queued) {
        q->nudged = true;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
}

unsigned
workq_depth(struct workq *q)
{
    unsigned n;

    pthread_mutex_lock(&q->mu);
    n = q->depth;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void
latch_init(struct latch *l, unsigned count)
{
    pthread_mutex_init(&l->_mu, NULL);
    pthread_cond_init(&l->_cv, NULL);
    l->_count = count;
}

void
latch_release(struct latch *l)
{
    pthread_mutex_destroy(&l->_mu);
    pthread_cond_destroy(&l->_cv);
}

void
latch_count_down(struct latch *l)
{
    pthread_mutex_lock(&l->_mu);
    BUG_ON(l->_count == 0);
    if (--l->_count == 0)
        pthread_cond_broadcast(&l->_cv);
    pthread_mutex_unlock(&l->_mu);
}

void
latch_wait(struct latch *l)
{
    pthread_mutex_lock(&l->_mu);
    while (l->_count)
        pthread_cond_wait(&l->_cv, &l->_mu);
    pthread_mutex_unlock(&l->_mu);
}

/*
 * util/workq.c: worker queues. Each queue has its own mutex, condition and
 * threads; a job is taken under the mutex and run outside it.
 */
#include "util/base.h"

#include "util/workq.h"

struct workq {
    pthread_mutex_t mu; /* protects jobs, depth, stopping */
    pthread_cond_t cv;
    struct list_node jobs;
    unsigned depth;
    bool stopping;
    unsigned nthreads;
    pthread_t *threads;
    char name[16];
};

static void *
worker_main(void *arg)
{
    struct workq *q = arg;

    pthread_setname_np(pthread_self(), q->name);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        struct list_node *n = list_pop(&q->jobs);
        struct work *w;

        if (!n) {
            if (q->stopping)
                break;
            pthread_cond_wait(&q->cv, &q->mu);
            continue;
        }
        pthread_mutex_unlock(&q->mu);
        w = container_of(n, struct work, link);
        w->fn(w);
        if (w->done)
            w->done(w);
        pthread_mutex_lock(&q->mu);
        q->depth--;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct workq *
workq_new(const char *name, unsigned nthreads)
{
    struct workq *q = xcalloc(1, sizeof(*q));
    unsigned i;

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

void
workq_submit(struct workq *q, struct work *w)
{
    pthread_mutex_lock(&q->mu);
    list_add_tail(&q->jobs, &w->link);
    q->depth++;
    pthread_cond_signal(&q->cv);
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

/*
 * tests/unit/util/test_workq.c: batch queues (workq_new_batch): batches of
 * at most `max`, every job run and completed once, and gathering: a job
 * per producer before a batch runs, unless a producer nudges or leaves.
 */
#include "util/base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "harness.h"
#include "util/workq.h"

struct job {
    struct work work;
    struct latch done;
    unsigned runs;  /* batch function only */
    unsigned batch; /* size of the batch it ran in */
};

struct record {
    pthread_mutex_t mu;
    unsigned nbatches;
    unsigned sizes[64];
};

/* The queue's batch function cannot take an argument: one record per test binary run at a time. */
static struct record rec = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
batch_fn(struct work **w, unsigned n)
{
    unsigned i;

    pthread_mutex_lock(&rec.mu);
    if (rec.nbatches < ARRAY_SIZE(rec.sizes))
        rec.sizes[rec.nbatches] = n;
    rec.nbatches++;
    pthread_mutex_unlock(&rec.mu);
    for (i = 0; i < n; i++) {
        struct job *j = container_of(w[i], struct job, work);

        j->runs++;
        j->batch = n;
    }
}

static void
job_done(struct work *w)
{
    latch_count_down(&container_of(w, struct job, work)->done);
}

static void
job_init(struct job *j)
{
    *j = (struct job){ .work = { .done = job_done } };
    latch_init(&j->done, 1);
}

static void
record_reset(void)
{
    pthread_mutex_lock(&rec.mu);
    rec.nbatches = 0;
    pthread_mutex_unlock(&rec.mu);
}

/* Whether the job has completed, after giving a worker 50 ms to (wrongly) run it. */
static bool
ran_after_a_while(struct job *j)
{
    bool done;

    usleep(50 * 1000);
    pthread_mutex_lock(&j->done._mu);
    done = j->done._count == 0;
    pthread_mutex_unlock(&j->done._mu);
    return done;
}

TEST(workq_batch_runs_every_job_once_in_batches_of_at_most_max)
{
    struct workq *q = workq_new_batch("t-batch", 2, 4, batch_fn);
    struct job jobs[40];
    unsigned i, total = 0;

    record_reset();
    for (i = 0; i < ARRAY_SIZE(jobs); i++) {
        job_init(&jobs[i]);
        workq_submit(q, &jobs[i].work);
    }
    for (i = 0; i < ARRAY_SIZE(jobs); i++) {
        latch_wait(&jobs[i].done);
        latch_release(&jobs[i].done);
        ASSERT_EQ(jobs[i].runs, 1);
        ASSERT(jobs[i].batch >= 1 && jobs[i].batch <= 4);
    }
    workq_free(q);
    for (i = 0; i < rec.nbatches; i++) {
        ASSERT(rec.sizes[i] >= 1 && rec.sizes[i] <= 4);
        total += rec.sizes[i];
    }
    ASSERT_EQ(total, ARRAY_SIZE(jobs));
}

TEST(workq_batch_gathers_a_job_per_producer)
{
    struct workq *q = workq_new_batch("t-gather", 1, 8, batch_fn);
    struct job j[3];
    unsigned i;

    record_reset();
    workq_producer(q, +3);
    for (i = 0; i < 3; i++)
        job_init(&j[i]);
    workq_submit(q, &j[0].work);
    workq_submit(q, &j[1].work);
    ASSERT(!ran_after_a_while(&j[0])); /* 2 of 3 producers: the worker waits */
    workq_submit(q, &j[2].work);
    for (i = 0; i < 3; i++) {
        latch_wait(&j[i].done);
        latch_release(&j[i].done);
        ASSERT_EQ(j[i].batch, 3); /* all three together */
    }
    workq_producer(q, -3);
    workq_free(q);
}

TEST(workq_batch_nudge_and_leaving_producers_release_jobs)
{
    struct workq *q = workq_new_batch("t-nudge", 1, 8, batch_fn);
    struct job a, b;

    record_reset();
    workq_producer(q, +3);
    job_init(&a);
    workq_submit(q, &a.work);
    ASSERT(!ran_after_a_while(&a));
    workq_nudge(q, &a.work); /* its producer waits for it: run now, alone */
    latch_wait(&a.done);
    latch_release(&a.done);
    ASSERT_EQ(a.batch, 1);
    workq_nudge(q, &a.work); /* taken already: no effect */

    job_init(&b);
    workq_submit(q, &b.work);
    ASSERT(!ran_after_a_while(&b));
    workq_producer(q, -2); /* one producer left: its one job is a batch */
    latch_wait(&b.done);
    latch_release(&b.done);
    ASSERT_EQ(b.batch, 1);
    ASSERT_EQ(rec.nbatches, 2);
    workq_producer(q, -1);
    workq_free(q);
}

TEST(workq_batch_free_runs_what_is_queued)
{
    struct workq *q = workq_new_batch("t-free", 1, 8, batch_fn);
    struct job j;

    workq_producer(q, +5);
    job_init(&j);
    workq_submit(q, &j.work);
    workq_free(q); /* stopping: the gathered job still runs */
    ASSERT_EQ(j.runs, 1);
    latch_release(&j.done);
}

/* ---- bypass ---- */

struct plain {
    struct work work;
    struct latch done;
    pthread_t ran_on;
    pthread_mutex_t *gate; /* the job holds until it can take this (NULL: runs at once) */
    _Atomic bool started;
};

static void
plain_fn(struct work *w)
{
    struct plain *p = container_of(w, struct plain, work);

    p->ran_on = pthread_self();
    atomic_store(&p->started, true);
    if (p->gate) {
        pthread_mutex_lock(p->gate);
        pthread_mutex_unlock(p->gate);
    }
}

static void
plain_done(struct work *w)
{
    latch_count_down(&container_of(w, struct plain, work)->done);
}

static void
plain_init(struct plain *p, pthread_mutex_t *gate)
{
    *p = (struct plain){ .work = { .fn = plain_fn, .done = plain_done }, .gate = gate };
    latch_init(&p->done, 1);
}

static bool
plain_completed(struct plain *p)
{
    bool done;

    pthread_mutex_lock(&p->done._mu);
    done = p->done._count == 0;
    pthread_mutex_unlock(&p->done._mu);
    return done;
}

TEST(workq_bypass_runs_queued_and_new_jobs_past_stuck_workers)
{
    pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
    struct workq *q = workq_new("test-bypass", 1);
    struct plain stuck, queued[3], inline_job, after;
    unsigned i, waited;

    pthread_mutex_lock(&gate);
    plain_init(&stuck, &gate);
    workq_submit(q, &stuck.work);
    for (waited = 0; !atomic_load(&stuck.started) && waited < 5000; waited++)
        usleep(1000);
    ASSERT(atomic_load(&stuck.started));
    for (i = 0; i < 3; i++) {
        plain_init(&queued[i], NULL);
        workq_submit(q, &queued[i].work);
    }
    /* the only worker is stuck: the queued jobs wait */
    usleep(50 * 1000);
    for (i = 0; i < 3; i++)
        ASSERT(!plain_completed(&queued[i]));
    ASSERT_EQ(workq_depth(q), 4);

    workq_bypass(q, true);
    for (i = 0; i < 3; i++) {
        latch_wait(&queued[i].done); /* run by the drain thread, the worker still stuck */
        ASSERT(!pthread_equal(queued[i].ran_on, stuck.ran_on));
    }
    ASSERT(!plain_completed(&stuck));
    ASSERT_EQ(workq_depth(q), 1);
    plain_init(&inline_job, NULL);
    workq_submit(q, &inline_job.work);
    ASSERT(plain_completed(&inline_job)); /* ran before submit returned, here */
    ASSERT(pthread_equal(inline_job.ran_on, pthread_self()));

    pthread_mutex_unlock(&gate);
    latch_wait(&stuck.done);
    workq_bypass(q, false);
    plain_init(&after, NULL);
    workq_submit(q, &after.work);
    latch_wait(&after.done);
    ASSERT(pthread_equal(after.ran_on, stuck.ran_on)); /* the worker again */
    workq_free(q);
    latch_release(&stuck.done);
    latch_release(&inline_job.done);
    latch_release(&after.done);
    for (i = 0; i < 3; i++)
        latch_release(&queued[i].done);
}

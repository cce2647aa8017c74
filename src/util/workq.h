/*
 * util/workq.h: work items, worker queues and a countdown latch (STYLE 2.7).
 *
 * A `struct workq` is a FIFO served by its own threads (the object layer
 * keeps one queue per drive, so a slow drive delays only its own jobs). A
 * `struct work` carries `fn`, the blocking work, run on a worker, and `done`,
 * run on the same worker right after `fn`, typically to count down a latch
 * that a request handler waits on.
 *
 * Thread safety: workq_submit() may be called from any thread.
 */
#ifndef BASALT_UTIL_WORKQ_H
#define BASALT_UTIL_WORKQ_H

#include "util/base.h"

#include <pthread.h>

#include "util/list.h"

struct work;
typedef void work_fn(struct work *);

struct work {
    struct list_node link;
    work_fn *fn;   /* runs on a worker of the queue */
    work_fn *done; /* runs on the worker right after fn; may be NULL */
    bool _queued;  /* submitted, not yet taken by a worker (protected by the queue's mutex) */
};

struct workq;

/* Starts `nthreads` workers named `name` (for ps/gdb). */
struct workq *workq_new(const char *name, unsigned nthreads);

#define WORKQ_MAX_BATCH 16
typedef void work_batch_fn(struct work **w, unsigned n);
/*
 * A queue whose workers each take up to `max` (<= WORKQ_MAX_BATCH) queued
 * jobs at once and run `batch` on them together, then each job's `done`:
 * for work that costs less done together (util/md5's SIMD lanes). The
 * jobs' `fn` is not used.
 */
struct workq *workq_new_batch(const char *name, unsigned nthreads, unsigned max,
                              work_batch_fn *batch);
/*
 * Batch queues gather: a producer (a client that submits one job at a time
 * and later waits for it) registers with workq_producer(q, +1) and leaves
 * with -1; the workers then wait for a job from each producer (up to `max`
 * per worker) before they run a batch. A producer about to wait for its job
 * calls workq_nudge(q, w), which makes the workers run what is queued now if
 * `w` is still among it: no job waits longer than its producer can.
 */
void workq_producer(struct workq *q, int delta);
void workq_nudge(struct workq *q, struct work *w);
/* Lets queued work finish, joins the workers, frees the queue. */
void workq_free(struct workq *q);
void workq_submit(struct workq *q, struct work *w);
/*
 * Bypass, for a queue whose workers may all be stuck (the I/O queue of a
 * hung drive, storage/drive.h drive_watch()): while on, workq_submit() runs
 * each job (fn, then done) on the submitting thread instead of queueing it,
 * and the jobs queued when it is turned on are run, in order, by a thread of
 * their own: none waits behind the stuck workers. Off again: jobs queue as
 * before. Not for batch queues.
 */
void workq_bypass(struct workq *q, bool on);
/* Number of jobs queued and running (bypassed ones not counted). */
unsigned workq_depth(struct workq *q);

/* A countdown latch: latch_wait() returns once the count reaches zero. */
struct latch {
    pthread_mutex_t _mu;
    pthread_cond_t _cv;
    unsigned _count;
};

void latch_init(struct latch *l, unsigned count);
void latch_release(struct latch *l);
void latch_count_down(struct latch *l);
void latch_wait(struct latch *l);

#endif

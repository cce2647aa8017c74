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
};

struct workq;

/* Starts `nthreads` workers named `name` (for ps/gdb). */
struct workq *workq_new(const char *name, unsigned nthreads);
/* Lets queued work finish, joins the workers, frees the queue. */
void workq_free(struct workq *q);
void workq_submit(struct workq *q, struct work *w);
/* Number of jobs queued and running. */
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

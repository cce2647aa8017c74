/*
 * obs/audit.h: one audit record per request (DESIGN.md Observability), as a
 * JSON line, to any of three targets:
 *
 *   stdout   written by the request's thread, one write(2) per line, with
 *            the log lines (obs/log.h);
 *   a file   appended by the audit thread, reopened by audit_reopen()
 *            (SIGHUP, after logrotate moved it);
 *   webhook  Loki's push API (POST /loki/api/v1/push): batched (up to
 *            AUDIT_BATCH_MAX lines or AUDIT_BATCH_NS), gzip-compressed,
 *            retried with exponential backoff (0.5 s .. 30 s) while the
 *            receiver is down or answers 5xx/429.
 *
 * The file and the webhook take lines through a bounded queue
 * (`queue_max` lines): submitting never blocks a request; a line that finds
 * the queue full is dropped and counted (audit_stats, and a warning at most
 * once a minute). A record holds no secret: callers pass the access key id,
 * never a secret, signature, token or Authorization header.
 */
#ifndef BASALT_OBS_AUDIT_H
#define BASALT_OBS_AUDIT_H

#include "util/base.h"

#include "util/buf.h"

#define AUDIT_QUEUE_DEFAULT 100000 /* lines waiting for the file or the webhook */
#define AUDIT_BATCH_MAX 1000       /* lines per webhook push */
#define AUDIT_BATCH_NS (1000000000LL)

struct audit;
struct metrics; /* obs/metrics.h */

struct audit_config {
    bool to_stdout;
    const char *file;    /* NULL: none */
    const char *webhook; /* Loki's base URL ("http://loki:3100") or the push URL; NULL: none */
    const char *node;    /* this node's name: a field of every record, a label of the stream */
    size_t queue_max;    /* 0: AUDIT_QUEUE_DEFAULT */
};

/* What happened: strings may be NULL (left out); none may hold a secret. */
struct audit_record {
    int64_t time_ns; /* wall clock, when the request arrived */
    const char *request_id;
    const char *api;   /* the S3 operation ("PutObject") */
    const char *class; /* "read", "write", "delete", "list", "admin" */
    const char *bucket;
    const char *object;
    unsigned status;        /* 0: the connection closed before an answer */
    const char *error_code; /* S3 error code when status >= 300 */
    uint64_t bytes_in, bytes_out;
    int64_t duration_ns, ttfb_ns;
    const char *remote;    /* the client's address (a trusted proxy's forwarded one) */
    const char *forwarded; /* X-Forwarded-For / X-Real-IP as received from a trusted proxy */
    const char *user_agent;
    const char *access_key; /* the access key id; NULL: anonymous */
};

/*
 * Opens the targets (the file, for appending; the webhook's URL checked)
 * and starts the audit thread when a file or webhook is set. 0 and `*out`
 * (NULL when no target is set: audit_submit then does nothing), or
 * -ERR_INVAL / -ERR_IO with the reason in `errmsg`.
 */
int audit_new(const struct audit_config *cfg, struct audit **out, struct buf *errmsg);
/* Sends what is queued (bounded: at most 5 s for the webhook), stops the thread, frees. */
void audit_free(struct audit *a);
/* Reopens the file (SIGHUP after logrotate); any thread. */
void audit_reopen(struct audit *a);
/* Formats and hands `r` to the targets; never blocks on the file or the webhook. */
void audit_submit(struct audit *a, const struct audit_record *r);
/* Appends the JSON line of `r` (no newline) to `out`: the format of every target. */
void audit_format(const struct audit_record *r, const char *node, struct buf *out);

struct audit_stats {
    uint64_t submitted, dropped, written, pushed, push_failures;
    size_t queued;
};
void audit_stats(struct audit *a, struct audit_stats *out);
/* Registers basalt_audit_* counters (submitted, dropped, delivered, failures, queued) in `m`. */
void audit_metrics_register(struct audit *a, struct metrics *m);

#endif

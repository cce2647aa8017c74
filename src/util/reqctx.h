/*
 * util/reqctx.h: the request context (DESIGN.md "Request context"): who
 * asked for the work running now, by when it must be done, and which request
 * it belongs to, so that log lines, deadlines and RPCs follow a request
 * through every layer.
 *
 * s3/ makes one per request (the request id it answers in x-amz-request-id,
 * the caller's access key, a deadline). The object layer's entry points take
 * it explicitly (`const struct reqctx *`, NULL for internal work: heal,
 * scanner, tests), and scope it to the thread while they run
 * (reqctx_enter/leave). Work they hand to drive I/O threads carries the
 * context along (object/quorum.c enters it on the worker around each job),
 * so storage/ (the remote drive: deadlines and the request id on RPC calls)
 * and obs/log (the request id of a line that names none) read it with
 * reqctx_current() instead of one more parameter on every drive call.
 * Across RPC, the remote drive sends the request id (the serving node makes
 * a context of it, for its log lines); the time left bounds the call's own
 * deadline on the calling side, it is not sent.
 */
#ifndef BASALT_UTIL_REQCTX_H
#define BASALT_UTIL_REQCTX_H

#include "util/base.h"

#define REQCTX_ID_LEN 16

struct reqctx {
    char id[REQCTX_ID_LEN + 1]; /* the request id; "" for internal work */
    int64_t deadline_ns;        /* CLOCK_MONOTONIC (util/clock.h); 0: none */
    const char *access_key;     /* the caller (borrowed); NULL: internal or anonymous */
    const char *origin;         /* the node the request came in on, for RPC; NULL: this one */
};

/* The context scoped to this thread, or NULL (internal work). */
const struct reqctx *reqctx_current(void);
/*
 * Scopes `ctx` (borrowed, may be NULL) to this thread and returns the one it
 * replaces, to be given back to reqctx_leave() in reverse order (nesting is
 * fine: an entry point called by another).
 */
const struct reqctx *reqctx_enter(const struct reqctx *ctx);
void reqctx_leave(const struct reqctx *prev);
/*
 * The absolute deadline for one step of `ctx`'s work (CLOCK_MONOTONIC):
 * the context's own if it has one, but no later than `max_ns` from now (a
 * single RPC or lock wait never takes longer than its own bound).
 */
int64_t reqctx_deadline(const struct reqctx *ctx, int64_t max_ns);
/* True once the context's deadline has passed (never without one). */
bool reqctx_is_expired(const struct reqctx *ctx);

#endif

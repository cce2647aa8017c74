/*
 * util/reqctx.c: the request context and its thread scope (reqctx.h).
 */
#include "util/base.h"

#include "util/reqctx.h"

#include "util/clock.h"

/*
 * The context of the work this thread runs now: set and restored in pairs by
 * reqctx_enter/leave around an entry point or a drive job, read by the code
 * under it on the same thread. Not shared between threads.
 */
static _Thread_local const struct reqctx *current;

const struct reqctx *
reqctx_current(void)
{
    return current;
}

const struct reqctx *
reqctx_enter(const struct reqctx *ctx)
{
    const struct reqctx *prev = current;

    current = ctx;
    return prev;
}

void
reqctx_leave(const struct reqctx *prev)
{
    current = prev;
}

int64_t
reqctx_deadline(const struct reqctx *ctx, int64_t max_ns)
{
    int64_t cap = clock_mono_ns() + max_ns;

    if (ctx && ctx->deadline_ns && ctx->deadline_ns < cap)
        return ctx->deadline_ns;
    return cap;
}

bool
reqctx_is_expired(const struct reqctx *ctx)
{
    return ctx && ctx->deadline_ns && clock_mono_ns() >= ctx->deadline_ns;
}

/*
 * obs/log.c: JSON lines. One fputs per line under stdout's own lock, so lines
 * from different threads never interleave.
 */
#include "util/base.h"

#include "obs/log.h"

#include <stdarg.h>
#include <stdatomic.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/reqctx.h"

static _Atomic int log_level = LOG_LEVEL_INFO;
/* This node's name on every line ("127.0.0.2:9000"); set once at start-up, before any thread. */
static char log_node[128];

void
log_set_node(const char *node)
{
    snprintf(log_node, sizeof(log_node), "%s", node ? node : "");
}

void
log_set_level(enum log_level level)
{
    atomic_store(&log_level, (int)level);
}

void
log_set_quiet(bool quiet)
{
    atomic_store(&log_level, quiet ? LOG_LEVEL_WARN : LOG_LEVEL_INFO);
}

void
log_json_str(struct buf *b, const char *s)
{
    buf_addch(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            buf_addf(b, "\\%c", c);
        else if (c < 0x20)
            buf_addf(b, "\\u%04x", c);
        else
            buf_addch(b, (char)c);
    }
    buf_addch(b, '"');
}

static void
field(struct buf *b, const char *name, const char *val)
{
    if (!val)
        return;
    buf_addf(b, ",\"%s\":", name);
    log_json_str(b, val);
}

static void
log_vwrite(enum log_level level, const char *file, int line, int err, const struct log_ctx *ctx,
           const char *fmt, va_list ap)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    struct buf b = BUF_INIT, msg = BUF_INIT;

    if ((int)level > atomic_load(&log_level))
        return;
    buf_vaddf(&msg, fmt, ap);
    buf_adds(&b, "{\"time\":\"");
    clock_fmt_iso8601(&b, clock_now_ns());
    buf_addf(&b, "\",\"level\":\"%s\",\"msg\":", names[level]);
    log_json_str(&b, msg.ptr);
    if (err)
        field(&b, "error", strerror(err));
    if (ctx && ctx->node)
        field(&b, "node", ctx->node);
    else if (log_node[0])
        field(&b, "node", log_node);
    if (ctx && ctx->request_id)
        field(&b, "request_id", ctx->request_id);
    else if (reqctx_current() && reqctx_current()->id[0])
        field(&b, "request_id", reqctx_current()->id);
    if (ctx) {
        field(&b, "event", ctx->event);
        field(&b, "bucket", ctx->bucket);
        field(&b, "key", ctx->key);
        field(&b, "drive", ctx->drive);
    }
#ifdef BASALT_DEBUG
    buf_addf(&b, ",\"src\":\"%s:%d\"", file, line);
#endif
    buf_adds(&b, "}\n");
    fputs(b.ptr, stdout);
    fflush(stdout);
    buf_release(&b);
    buf_release(&msg);
}

void
log_write(enum log_level level, const char *file, int line, int err, const struct log_ctx *ctx,
          const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(level, file, line, err, ctx, fmt, ap);
    va_end(ap);
}

void
log_write_errno(const char *file, int line, const struct log_ctx *ctx, int err, const char *fmt,
                ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_ERROR, file, line, err, ctx, fmt, ap);
    va_end(ap);
}

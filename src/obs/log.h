/*
 * obs/log.h: JSON log lines to stdout (DESIGN.md Observability, STYLE 2.8).
 * Each line: {"time":..., "level":..., "msg":..., plus the context fields}.
 * A log_ctx carries what makes a line useful on its own; it has no field that
 * could hold a secret.
 */
#ifndef BASALT_OBS_LOG_H
#define BASALT_OBS_LOG_H

#include "util/base.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

struct log_ctx {
    /* NULL: the request id of the thread's request context (util/reqctx.h), if any */
    const char *request_id;
    const char *node; /* NULL: this node (log_set_node); for lines about another node's work */
    const char *bucket;
    const char *key;
    const char *drive;
    const char *event; /* stable event name operators alert on, e.g. "drive_offline" */
};

/* Lines above `level` are dropped. Default INFO. Set once at start-up. */
void log_set_level(enum log_level level);
/*
 * This node's name (its endpoint "HOST:PORT"), written on every line. Set
 * once at start-up, before any thread starts.
 */
void log_set_node(const char *node);
/* When quiet, INFO and DEBUG lines are dropped (unit tests). */
void log_set_quiet(bool quiet);

/* Appends `s` as a JSON string (quoted, escaped), as log lines write their fields. */
struct buf;
void log_json_str(struct buf *b, const char *s);

void log_write(enum log_level level, const char *file, int line, int err, const struct log_ctx *ctx,
               const char *fmt, ...) PRINTF_LIKE(6, 7);
void log_write_errno(const char *file, int line, const struct log_ctx *ctx, int err,
                     const char *fmt, ...) PRINTF_LIKE(5, 6);

/*
 * log_warn(ctx, fmt, ...). The macros take everything as __VA_ARGS__ so that
 * a compound literal context with commas, &(struct log_ctx){ .bucket = b,
 * .key = k }, can be passed inline.
 */
#define log_error(...) log_write(LOG_LEVEL_ERROR, __FILE__, __LINE__, 0, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __FILE__, __LINE__, 0, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __FILE__, __LINE__, 0, __VA_ARGS__)
/* errno passed explicitly: log_errno(ctx, errno, "open %s", path) */
#define log_errno(...) log_write_errno(__FILE__, __LINE__, __VA_ARGS__)
#ifdef BASALT_DEBUG
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __FILE__, __LINE__, 0, __VA_ARGS__)
#else
#define log_debug(...) ((void)0)
#endif
#endif

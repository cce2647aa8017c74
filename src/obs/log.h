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
    const char *request_id;
    const char *bucket;
    const char *key;
    const char *drive;
    const char *event; /* stable event name operators alert on, e.g. "drive_offline" */
};

/* Lines above `level` are dropped. Default INFO. Set once at start-up. */
void log_set_level(enum log_level level);
/* When quiet, INFO and DEBUG lines are dropped (unit tests). */
void log_set_quiet(bool quiet);

void log_write(enum log_level level, const struct log_ctx *ctx, int err, const char *file,
               int line, const char *fmt, ...) PRINTF_LIKE(6, 7);

#define log_error(ctx, ...) log_write(LOG_LEVEL_ERROR, ctx, 0, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(ctx, ...) log_write(LOG_LEVEL_WARN, ctx, 0, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(ctx, ...) log_write(LOG_LEVEL_INFO, ctx, 0, __FILE__, __LINE__, __VA_ARGS__)
/* errno passed explicitly: log_errno(ctx, errno, "open %s", path) */
#define log_errno(ctx, e, ...) log_write(LOG_LEVEL_ERROR, ctx, e, __FILE__, __LINE__, __VA_ARGS__)
#ifdef BASALT_DEBUG
#define log_debug(ctx, ...) log_write(LOG_LEVEL_DEBUG, ctx, 0, __FILE__, __LINE__, __VA_ARGS__)
#else
#define log_debug(ctx, ...) ((void)(ctx))
#endif

#endif

/*
 * server/metrics.h: the process's own metrics (process_*, basalt_build_info,
 * basalt_uptime_seconds), registered by server_open in the server's registry.
 */
#ifndef BASALT_SERVER_METRICS_H
#define BASALT_SERVER_METRICS_H

#include "util/base.h"

struct metrics;
struct server_metrics;

/* Registers them in `m` (start-up only); the start time is now. */
struct server_metrics *server_metrics_register(struct metrics *m);
void server_metrics_free(struct server_metrics *sm);

#endif

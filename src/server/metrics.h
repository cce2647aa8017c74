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
/*
 * Registers the per-peer RPC series (docs/metrics.md) of the `n` peers, with
 * `names` as their `peer` label, and sets each peer's call-duration
 * histogram (rpc_peer_set_metrics). Start-up only, once; borrows `peers`
 * (they must outlive the registry's scrapes: the cluster closes after the
 * s3 layer stops serving).
 */
struct rpc_peer;
void server_metrics_register_peers(struct server_metrics *sm, struct metrics *m,
                                   struct rpc_peer *const *peers, const char *const *names,
                                   size_t n);

#endif

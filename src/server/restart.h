/*
 * server/restart.h: the second half of a restart asked through the admin
 * API (POST /basalt/admin/v1/service/restart, s3/admin.c): once
 * server_close() returned, the process replaces itself with the same binary
 * and the same arguments. It stays the same process (PID, parent, cgroup),
 * so that systemd or docker see a service that kept running, and the
 * listening port is free again (server_close closed it).
 */
#ifndef BASALT_SERVER_RESTART_H
#define BASALT_SERVER_RESTART_H

#include "util/base.h"

#include <signal.h>

#include "util/buf.h"

/*
 * The signal the admin API's stop or restart sends this process
 * (server.c): a real-time one, queued apart from SIGTERM, so that a
 * SIGTERM from outside that arrives meanwhile is never merged with it
 * and lost (a restart then leaves it pending for the new server).
 */
#define SERVER_SERVICE_SIGNAL (SIGRTMIN)

/*
 * execv() of /proc/self/exe with the argv of /proc/self/cmdline (as
 * started: getopt has permuted the argv this process holds) and the same
 * environment. Every descriptor above 2 still open is marked close-on-exec
 * first: server_close() closed the server's own, the others were inherited
 * (a new process would not get them from a supervisor either). Signals stay
 * blocked across the exec: a SIGTERM from outside that arrives during the
 * restart stays pending and stops the new server gracefully (the service signals queued for a
 * second restart asked meanwhile are dropped). Call from the main thread, with no other thread
 * left. Returns only on failure: -ERR_IO with the reason in `errmsg`.
 */
int server_restart_exec(struct buf *errmsg);

#endif

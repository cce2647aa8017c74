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

#include "util/buf.h"

/*
 * execv() of /proc/self/exe with the argv of /proc/self/cmdline (as
 * started: getopt has permuted the argv this process holds) and the same
 * environment. Every descriptor above 2 still open is marked close-on-exec
 * first: server_close() closed the server's own, the others were inherited
 * (a new process would not get them from a supervisor either). Signals stay
 * blocked across the exec: a SIGTERM from outside that arrives during the
 * restart stays pending and stops the new server gracefully (those the
 * process queued itself for a second restart asked meanwhile are dropped). Call from the main
 * thread, with no other thread left. Returns only on failure: -ERR_IO with the reason in `errmsg`.
 */
int server_restart_exec(struct buf *errmsg);

#endif

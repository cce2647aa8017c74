/*
 * storage/drive_serve.h: this node's drives served to the other nodes of a
 * cluster over RPC (the routes drive_remote.c calls; the list is at the top
 * of drive_serve.c).
 */
#ifndef BASALT_STORAGE_DRIVE_SERVE_H
#define BASALT_STORAGE_DRIVE_SERVE_H

#include "util/base.h"

#include "storage/drive.h"

struct drive_server;
struct rpc_server;

/*
 * Registers the drive routes on `rpc` (before it serves), serving
 * `drives[0..n)`, each named by its drive_endpoint() (the folder given on
 * the command line, which is what the other nodes send). `drives` is
 * borrowed and must outlive the server.
 */
struct drive_server *drive_serve_new(struct rpc_server *rpc, struct drive *const *drives, size_t n);
void drive_serve_free(struct drive_server *ds);

#endif

/*
 * tests/unit/storage/remote_test.h: an in-process "other node" for tests of
 * the remote drive and of the object layer over it: an HTTP server on
 * 127.0.0.1 (port 0) whose RPC server serves some drives (drive_serve.c),
 * and an RPC client with that node as its peer, so that drive_remote_new()
 * drives reach them through real RPC: signed calls, pooled connections,
 * streamed shard files.
 */
#ifndef BASALT_TESTS_UNIT_STORAGE_REMOTE_TEST_H
#define BASALT_TESTS_UNIT_STORAGE_REMOTE_TEST_H

#include "util/base.h"

#include "storage/drive.h"

#define REMOTE_TEST_MAX 16

struct remote_node;

/*
 * Starts a node serving `served[0..n)` (ownership passes to the node: it
 * closes them when stopped). Fails the test on error.
 */
struct remote_node *remote_node_start(struct drive **served, size_t n);
/* A remote drive reaching served drive `i` of `node`; close it before the node stops. */
struct drive *remote_node_drive(struct remote_node *node, size_t i);
/* The served drive `i` itself (borrowed), to inspect or break it from the test. */
struct drive *remote_node_inner(struct remote_node *node, size_t i);
/* The RPC calls made to the node so far (rpc_peer_stats: calls and streams started). */
uint64_t remote_node_calls(struct remote_node *node);
/*
 * Answers the batched record routes (/drive/meta/replace-many, read-many)
 * as a node of an older version does: no such route (after authenticating
 * the call).
 */
void remote_node_hide_batches(struct remote_node *node, bool hide);
/* Stops serving (the node no longer answers: its clients see it down), keeps the drives. */
void remote_node_pause(struct remote_node *node);
/* Stops the node, closes the served drives, frees it. */
void remote_node_stop(struct remote_node *node);

#endif

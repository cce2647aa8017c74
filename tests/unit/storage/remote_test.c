/*
 * tests/unit/storage/remote_test.c: an in-process node serving drives over
 * RPC (remote_test.h).
 */
#include "util/base.h"

#include "remote_test.h"

#include "cluster/rpc.h"
#include "cluster/rpc_server.h"
#include "harness.h"
#include "http/http.h"
#include "storage/drive_serve.h"

#include <stdatomic.h>

struct remote_node {
    struct rpc_key key;
    struct rpc_identity id, client_id;
    struct rpc_server *srv;
    struct rpc_server *old_srv; /* without the batched routes (remote_node_hide_batches) */
    _Atomic bool hide_batches;
    struct drive_server *ds;
    struct http_server *http;
    struct rpc_client *cli;
    struct rpc_peer *peer;
    struct drive *served[REMOTE_TEST_MAX];
    size_t n;
    char endpoint[64];
};

static void
handler(void *arg, struct http_req *req)
{
    struct remote_node *node = arg;

    if (atomic_load(&node->hide_batches) &&
        (slice_ends_with(req->path, SLICE_LIT("/drive/meta/replace-many")) ||
         slice_ends_with(req->path, SLICE_LIT("/drive/meta/read-many"))))
        rpc_server_handle(node->old_srv, req); /* authenticated, then "no such route" */
    else if (slice_starts_with(req->path, SLICE_LIT(RPC_PATH_PREFIX)))
        rpc_server_handle(node->srv, req);
    else
        http_resp_empty(req, 404);
}

struct remote_node *
remote_node_start(struct drive **served, size_t n)
{
    struct remote_node *node = xcalloc(1, sizeof(*node));
    struct http_config cfg = { .address = "127.0.0.1:0",
                               .idle_timeout = 30,
                               .header_limit = 64 * 1024 };
    struct rpc_client_config cc = { .probe_interval_ns = 100 * 1000000LL,
                                    .probe_timeout_ns = 500 * 1000000LL };
    struct buf err = BUF_INIT;

    BUG_ON(n > REMOTE_TEST_MAX);
    memcpy(node->served, served, n * sizeof(*served));
    node->n = n;
    rpc_key_derive(&node->key, NULL, "root", "test-password");
    ASSERT_OK(rpc_identity_init(&node->id, "127.0.0.1:served"));
    ASSERT_OK(rpc_identity_init(&node->client_id, "127.0.0.1:client"));
    node->srv = rpc_server_new(&node->key, &node->id);
    node->ds = drive_serve_new(node->srv, node->served, n);
    node->old_srv = rpc_server_new(&node->key, &node->id);
    ASSERT_OK(http_server_listen(&cfg, &node->http, &err));
    ASSERT_OK(http_server_start(node->http, handler, node, &err));
    snprintf(node->endpoint, sizeof(node->endpoint), "http://127.0.0.1:%d",
             http_server_port(node->http));
    cc.key = &node->key;
    cc.self = &node->client_id;
    ASSERT_OK(rpc_client_new(&cc, &node->cli));
    ASSERT_OK(rpc_client_add_peer(node->cli, node->endpoint, &node->peer));
    buf_release(&err);
    return node;
}

struct drive *
remote_node_drive(struct remote_node *node, size_t i)
{
    char name[128];

    BUG_ON(i >= node->n);
    snprintf(name, sizeof(name), "%s/%s", node->endpoint, drive_endpoint(node->served[i]));
    return drive_remote_new(node->peer, name, drive_endpoint(node->served[i]));
}

struct drive *
remote_node_inner(struct remote_node *node, size_t i)
{
    BUG_ON(i >= node->n);
    return node->served[i];
}

uint64_t
remote_node_calls(struct remote_node *node)
{
    struct rpc_peer_stats st;

    rpc_peer_stats(node->peer, &st);
    return st.calls;
}

void
remote_node_hide_batches(struct remote_node *node, bool hide)
{
    atomic_store(&node->hide_batches, hide);
}

void
remote_node_pause(struct remote_node *node)
{
    http_server_stop(node->http);
    node->http = NULL;
}

void
remote_node_stop(struct remote_node *node)
{
    size_t i;

    rpc_client_free(node->cli);
    http_server_stop(node->http);
    drive_serve_free(node->ds);
    rpc_server_free(node->srv);
    rpc_server_free(node->old_srv);
    for (i = 0; i < node->n; i++)
        drive_close(node->served[i]);
    free(node);
}

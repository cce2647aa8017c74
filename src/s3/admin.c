/*
 * s3/admin.c: Basalt's admin API under /basalt/admin/v1/, signed with SigV4
 * like any S3 request (root credentials only, for now):
 *
 *   POST /basalt/admin/v1/heal?bucket=B&prefix=P   heal on demand, JSON report
 *   GET  /basalt/admin/v1/heal/status              background healing and scanning of
 *                                                  every node, JSON
 *   GET  /basalt/admin/v1/info                     layout, nodes and drives, JSON
 *   POST /basalt/admin/v1/service/restart          every node stops gracefully and starts
 *   POST /basalt/admin/v1/service/stop             again (the same binary, arguments and
 *                                                  PID), or stops; JSON: which nodes
 *                                                  acknowledged
 *
 * In a cluster the answers of status and info gather every node's part
 * (s3_config.peers): a node that does not answer is listed with an error,
 * and the rest still answers.
 *
 * Service restart and stop: the node that receives the request tells every
 * other node first (s3_config.peers, "service/restart"; each answers at once
 * and acts once its answer is sent), then answers, and acts itself once its
 * answer is sent (a cleanup of the request's arena: the client always gets
 * the answer). Acting is the server's graceful stop (s3_config.service), as
 * for SIGTERM: requests in flight finish, new ones are refused.
 *
 * Errors use the S3 XML error document, like every other endpoint.
 */
#include "util/base.h"

#include <jansson.h>

#include "obs/log.h"
#include "s3/internal.h"
#include "util/err.h"

void
s3__send_json(struct s3_call *call, json_t *doc)
{
    struct buf body = BUF_INIT;
    char *text = json_dumps(doc, JSON_COMPACT);

    BUG_ON(!text);
    buf_adds(&body, text);
    buf_addch(&body, '\n');
    free(text);
    json_decref(doc);
    http_resp_header(call->req, "Content-Type", "application/json");
    http_resp_buf(call->req, 200, &body);
    buf_release(&body);
}

void
s3__admin_heal(struct s3_call *call)
{
    struct heal_report r = { 0 };
    struct slice bucket = SLICE_NULL, prefix = SLICE_NULL;
    const char *b = NULL;
    int rc;

    if (http_req_param(call->req, "bucket", &bucket) && bucket.len)
        b = arena_slicedup(call->req->arena, bucket);
    http_req_param(call->req, "prefix", &prefix);
    if (!b && prefix.len) {
        s3__send_error(call, -ERR_INVALID_ARGUMENT, "A prefix needs a bucket.");
        return;
    }
    rc = objlayer_heal(call->s3->ol, &call->ctx, b, prefix, &r);
    if (rc < 0) {
        s3__send_error(call, rc == -ERR_NOT_FOUND ? -ERR_BUCKET_NOT_FOUND : rc, NULL);
        return;
    }
    s3__send_json(
        call,
        json_pack("{sI sI sI sI sI sI sI sI sI sI}", "buckets_scanned",
                  (json_int_t)r.buckets_scanned, "buckets_healed", (json_int_t)r.buckets_healed,
                  "objects_scanned", (json_int_t)r.objects_scanned, "objects_healed",
                  (json_int_t)r.objects_healed, "objects_failed", (json_int_t)r.objects_failed,
                  "objects_dangling_removed", (json_int_t)r.objects_dangling_removed,
                  "shards_missing", (json_int_t)r.shards_missing, "shards_corrupt",
                  (json_int_t)r.shards_corrupt, "shards_fixed", (json_int_t)r.shards_fixed,
                  "drives_formatted", (json_int_t)r.drives_formatted));
}

static json_t *
drives_array(struct objlayer *ol)
{
    struct objlayer_drive_state *st;
    json_t *drives = json_array();
    size_t n, i;

    n = objlayer_drives(ol, NULL, 0);
    st = xcalloc(n + 1, sizeof(*st));
    n = MIN(n, objlayer_drives(ol, st, n));
    for (i = 0; i < n; i++)
        json_array_append_new(drives, json_pack("{ss sb sb sI sI sb sI sI}", "endpoint",
                                                st[i].endpoint ? st[i].endpoint : "", "online",
                                                (int)st[i].online, "hung", (int)st[i].hung, "set",
                                                (json_int_t)st[i].set, "pool",
                                                (json_int_t)st[i].pool, "local", (int)st[i].local,
                                                "total_bytes", (json_int_t)st[i].total_bytes,
                                                "free_bytes", (json_int_t)st[i].free_bytes));
    free(st);
    return drives;
}

static void
dump(json_t *doc, struct buf *out)
{
    char *text = json_dumps(doc, JSON_COMPACT);

    BUG_ON(!text);
    buf_adds(out, text);
    free(text);
    json_decref(doc);
}

void
s3_admin_drives_json(struct objlayer *ol, const char *node, struct slice rpc, struct buf *out)
{
    json_t *doc, *stats;

    if (!ol) {
        dump(json_pack("{ss ss}", "node", node, "error", "starting"), out);
        return;
    }
    doc = json_pack("{ss ss so}", "node", node, "version", BASALT_VERSION, "drives",
                    drives_array(ol));
    stats = rpc.len ? json_loadb(rpc.ptr, rpc.len, 0, NULL) : NULL;
    if (json_is_array(stats))
        json_object_set_new(doc, "rpc", stats);
    else
        json_decref(stats);
    dump(doc, out);
}

/* Every other node's answer to `what` (a JSON array), or an empty array on a single node. */
static json_t *
peers_json(struct s3_call *call, const char *what)
{
    struct buf text = BUF_INIT;
    json_t *arr = NULL;

    if (call->s3->peers) {
        call->s3->peers(call->s3->peers_arg, what, &text);
        arr = json_loadb(text.ptr, text.len, 0, NULL);
    }
    buf_release(&text);
    return json_is_array(arr) ? arr : (json_decref(arr), json_array());
}

void
s3__admin_info(struct s3_call *call)
{
    struct buf layout = BUF_INIT, mine = BUF_INIT, rpc = BUF_INIT;
    json_t *doc, *nodes = peers_json(call, "info");

    objlayer_describe(call->s3->ol, &layout);
    if (call->s3->rpc_stats)
        call->s3->rpc_stats(call->s3->peers_arg, &rpc);
    s3_admin_drives_json(call->s3->ol, call->s3->node, buf_slice(&rpc), &mine);
    buf_release(&rpc);
    json_array_insert_new(nodes, 0, json_loadb(mine.ptr, mine.len, 0, NULL));
    json_object_set_new(json_array_get(nodes, 0), "this", json_true());
    doc = json_pack("{ss so so ss}", "layout", layout.ptr, "drives", drives_array(call->s3->ol),
                    "nodes", nodes, "region", call->s3->region);
    buf_release(&layout);
    buf_release(&mine);
    s3__send_json(call, doc);
}

void
s3_admin_node_json(struct objlayer *ol, const char *node, struct buf *out)
{
    struct objlayer_status st;

    if (!ol) {
        dump(json_pack("{ss ss}", "node", node, "error", "starting"), out);
        return;
    }
    objlayer_status(ol, &st);
    dump(
        json_pack("{ss sb s{sb sI sI sI sI sI sI sI sI} sI sI si s{sb sI sI sI sI sI sI sI sI sI}}",
                  "node", node, "done", (int)st.done, "heal", "running", (int)st.heal_running,
                  "objects_scanned", (json_int_t)st.heal_scanned, "objects_healed",
                  (json_int_t)st.heal_healed, "objects_failed", (json_int_t)st.heal_failed,
                  "bytes_scanned", (json_int_t)st.heal_bytes_scanned, "bytes_healed",
                  (json_int_t)st.heal_bytes_healed, "started_ms",
                  (json_int_t)(st.heal_started_ns / 1000000), "finished_ms",
                  (json_int_t)(st.heal_finished_ns / 1000000), "objects_estimate",
                  (json_int_t)st.heal_total_estimate, "queued", (json_int_t)st.queued, "parked",
                  (json_int_t)st.parked, "drives_offline", (int)st.drives_offline, "scanner",
                  "running", (int)st.scan_running, "cycles", (json_int_t)st.scan_cycles,
                  "objects_scanned", (json_int_t)st.scan_scanned, "objects_below_redundancy",
                  (json_int_t)st.scan_below, "bytes_scanned", (json_int_t)st.scan_bytes,
                  "started_ms", (json_int_t)(st.scan_started_ns / 1000000), "last_objects",
                  (json_int_t)st.last_scan_total, "last_below_redundancy",
                  (json_int_t)st.last_scan_below, "last_end_ms",
                  (json_int_t)(st.last_scan_end_ns / 1000000), "last_duration_ms",
                  (json_int_t)(st.last_scan_duration_ns / 1000000)),
        out);
}

/*
 * Every node's background work, and whether the whole deployment is done
 * healing: every node answered and says it is done. A node that does not
 * answer makes it not done (its drives may hold what others miss).
 */
void
s3__admin_heal_status(struct s3_call *call)
{
    struct buf mine = BUF_INIT;
    json_t *nodes = peers_json(call, "status"), *n;
    size_t i;
    bool done = true;

    s3_admin_node_json(call->s3->ol, call->s3->node, &mine);
    json_array_insert_new(nodes, 0, json_loadb(mine.ptr, mine.len, 0, NULL));
    json_array_foreach(nodes, i, n) done &= json_is_true(json_object_get(n, "done"));
    buf_release(&mine);
    s3__send_json(call, json_pack("{sb so}", "done", (int)done, "nodes", nodes));
}

/* ---- service restart and stop ---- */

struct service_ask {
    struct s3 *s3;
    bool restart;
};

/* The request's arena is freed: the answer went out (or the client left). */
static void
service_act(void *arg)
{
    struct service_ask *a = arg;

    a->s3->service(a->s3->service_arg, a->restart);
}

/*
 * Every node's acknowledgement as {"node","acknowledged"[,"this"][,"error"]},
 * this node first; whether every node acknowledged.
 */
static bool
service_nodes(struct s3_call *call, bool restart, json_t **out)
{
    json_t *nodes = peers_json(call, restart ? "service/restart" : "service/stop"), *n;
    size_t i;
    bool all = true;

    json_array_foreach(nodes, i, n)
    {
        bool ack = json_is_true(json_object_get(n, "acknowledged")) && !json_object_get(n, "error");

        json_object_set_new(n, "acknowledged", json_boolean(ack));
        all &= ack;
    }
    json_array_insert_new(
        nodes, 0, json_pack("{ss sb sb}", "node", call->s3->node, "acknowledged", 1, "this", 1));
    *out = nodes;
    return all;
}

static void
admin_service(struct s3_call *call, bool restart)
{
    const char *action = restart ? "restart" : "stop";
    struct service_ask *a;
    json_t *nodes;
    bool all;

    if (!call->s3->service) {
        s3__send_error(call, -ERR_NOT_IMPLEMENTED,
                       "This server cannot be restarted or stopped through the admin API.");
        return;
    }
    log_warn(&(struct log_ctx){ .request_id = call->req->id, .event = "service_asked" },
             "service %s asked by %s: telling the other nodes", action,
             call->id ? call->id->user : "?");
    all = service_nodes(call, restart, &nodes);
    a = arena_alloc(call->req->arena, sizeof(*a));
    a->s3 = call->s3;
    a->restart = restart;
    arena_defer(call->req->arena, service_act, a);
    s3__send_json(call, json_pack("{ss sb so}", "action", action, "all_acknowledged", (int)all,
                                  "nodes", nodes));
}

void
s3__admin_service_restart(struct s3_call *call)
{
    admin_service(call, true);
}

void
s3__admin_service_stop(struct s3_call *call)
{
    admin_service(call, false);
}

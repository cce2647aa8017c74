/*
 * server/cluster.c: this process as a node of a cluster (cluster.h).
 *
 * Routes this node serves to the others (besides the drives', storage/
 * drive_serve.c, and the RPC layer's own GET /health):
 *   POST /lock/try, /lock/refresh, /lock/release, /lock/release-many   this node's lock table
 *   POST /notify?t=<topic>&n=<name>                 something changed elsewhere
 *   POST /cluster/hello                             layouts compared both ways
 *   POST /admin/status, /admin/info                 this node's part of an admin answer
 *   POST /admin/service/restart, /admin/service/stop  acknowledged, then done once answered
 *
 * Locks: the quorum service (cluster/lock.h) asks every node's lock table;
 * this node's own is called directly, the others' over RPC. A grant belongs
 * to the node that asked (the RPC layer authenticated it); when a node's
 * calls come from a new boot, what its previous life held is dropped first
 * (a restarted node holds nothing).
 *
 * Who is wrong when two nodes disagree (another layout, other root
 * credentials)? The handshake counts: when most of the nodes that answer
 * refuse this one, it is this one, and it stops with the reason; a minority
 * that refuses is logged and left out (its calls fail, its drives are
 * offline) until it is started right.
 */
#include "util/base.h"

#include "server/cluster.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "cluster/layout.h"
#include "cluster/lock.h"
#include "cluster/lock_table.h"
#include "cluster/rpc.h"
#include "cluster/rpc_server.h"
#include "http/http.h"
#include "http/tls.h"
#include "iam/iam.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "object/objlayer.h"
#include "s3/s3.h"
#include "storage/drive.h"
#include "storage/drive_serve.h"
#include "storage/wire.h"
#include "util/clock.h"
#include "util/err.h"

#define HELLO_NS (3 * 1000000000LL)  /* a hello's deadline */
#define NOTIFY_NS (1 * 1000000000LL) /* a notification's */
#define MAINT_NS (2 * 1000000000LL)  /* the maintenance thread's tick */
/* IAM's safety net: everything read again, for a notification lost while cut off */
#define IAM_REFRESH_NS (60 * 1000000000LL)
#define BOOT_HEADER "X-Basalt-Rpc-Boot-Id"

struct cluster {
    struct layout *layout;
    unsigned self, n; /* this node's index, the node count */
    bool tls;         /* https:// endpoints */
    char *certs_dir;  /* --certs-dir when tls: DIR/CAs/ verifies peers */
    struct rpc_key key;
    struct rpc_identity id;
    struct rpc_server *srv;
    struct rpc_client *cli;
    struct rpc_peer **peers; /* by node; NULL for this one */

    pthread_mutex_t boot_mu; /* protects boots */
    char (*boots)[64];       /* by node: the boot id of its last lock call ("" none yet) */
    struct lock_table *table;
    struct lock_service *locks;

    struct drive **local; /* this node's drives, served to the others */
    size_t nlocal;
    struct drive_server *ds;
    struct drive **drives; /* every pool's in layout order (this node's and remote ones) */
    size_t ndrives;
    bool given; /* the object layer took the drives: it closes them */

    struct objlayer *_Atomic ol;
    struct metrics *_Atomic metrics; /* served to the others once every layer registered */
    /*
     * Told of IAM changes on other nodes, and read again periodically; used
     * under iam_mu, so that cluster_set_iam(NULL) returns once nobody does.
     */
    struct iam *iam;
    pthread_mutex_t iam_mu;
    struct buf layout_json;                   /* layout_encode() of ours */
    void (*service)(void *arg, bool restart); /* cluster_config's; read-only */
    void *service_arg;

    pthread_mutex_t maint_mu; /* protects stop */
    pthread_cond_t maint_cv;
    bool stop;
    pthread_t maint;
    bool maint_started;
};

/* The index of node `name`, or -1. */
static int
node_index(const struct cluster *c, struct slice name)
{
    unsigned i;

    for (i = 0; i < c->n; i++)
        if (slice_eq_cstr(name, layout_node_name(c->layout, i)))
            return (int)i;
    return -1;
}

/* ---- locks ---- */

static int
peer_call(struct cluster *c, unsigned node, const char *path, struct buf *q, int64_t deadline,
          struct rpc_resp *resp)
{
    struct rpc_call call = {
        .method = "POST", .path = path, .query = q->ptr, .deadline_ns = deadline
    };
    int rc = rpc_call(c->peers[node], &call, resp);

    buf_release(q);
    if (rc == 0 && resp->err)
        rc = resp->err;
    else if (rc == 0 && resp->status != 200)
        rc = -ERR_IO;
    return rc;
}

static void
lock_query(struct buf *q, const char *resource, const char *uid)
{
    buf_init(q, 0);
    rpc_query_add(q, "r", slice_cstr(resource));
    rpc_query_add(q, "u", slice_cstr(uid));
}

static int
t_try(void *arg, unsigned node, const char *resource, enum lock_mode mode, const char *uid,
      int64_t lease_ns, int64_t deadline_ns)
{
    struct cluster *c = arg;
    struct rpc_resp resp = RPC_RESP_INIT;
    char n[24];
    struct buf q;
    int rc;

    if (node == c->self)
        return lock_table_try(c->table, resource, mode, uid, c->self, lease_ns);
    lock_query(&q, resource, uid);
    rpc_query_add(&q, "m", slice_cstr(mode == LOCK_WRITE ? "w" : "r"));
    snprintf(n, sizeof(n), "%lld", (long long)lease_ns);
    rpc_query_add(&q, "l", slice_cstr(n));
    rc = peer_call(c, node, "/lock/try", &q, deadline_ns, &resp);
    rpc_resp_release(&resp);
    return rc;
}

static int
t_refresh(void *arg, unsigned node, const char *resource, const char *uid, int64_t deadline_ns)
{
    struct cluster *c = arg;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct buf q;
    int rc;

    if (node == c->self)
        return lock_table_refresh(c->table, resource, uid);
    lock_query(&q, resource, uid);
    rc = peer_call(c, node, "/lock/refresh", &q, deadline_ns, &resp);
    rpc_resp_release(&resp);
    return rc;
}

static int
t_release(void *arg, unsigned node, const char *resource, const char *uid, int64_t deadline_ns)
{
    struct cluster *c = arg;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct buf q;
    int rc;

    if (node == c->self)
        return lock_table_release(c->table, resource, uid);
    lock_query(&q, resource, uid);
    rc = peer_call(c, node, "/lock/release", &q, deadline_ns, &resp);
    rpc_resp_release(&resp);
    return rc;
}

/*
 * Several releases to one node in one call: POST /lock/release-many, the
 * body (storage/wire.h) a u32 count and per release its resource and uid as
 * wire bytes.
 */
static int
t_release_many(void *arg, unsigned node, const char *const *res, const char *const *uids, size_t n,
               int64_t deadline_ns)
{
    struct cluster *c = arg;
    struct rpc_resp resp = RPC_RESP_INIT;
    struct buf body = BUF_INIT;
    struct rpc_call call = { .method = "POST", .path = "/lock/release-many" };
    size_t i;
    int rc;

    if (node == c->self) {
        for (i = 0; i < n; i++)
            lock_table_release(c->table, res[i], uids[i]);
        return 0;
    }
    wire_put_u32(&body, (uint32_t)n);
    for (i = 0; i < n; i++) {
        wire_put_bytes(&body, slice_cstr(res[i]));
        wire_put_bytes(&body, slice_cstr(uids[i]));
    }
    call.body = buf_slice(&body);
    call.deadline_ns = deadline_ns;
    rc = rpc_call(c->peers[node], &call, &resp);
    if (rc == 0 && resp.err)
        rc = resp.err;
    else if (rc == 0 && resp.status != 200)
        rc = -ERR_IO;
    rpc_resp_release(&resp);
    buf_release(&body);
    return rc;
}

/*
 * The calling node of a lock route, by index; -1 if it is not one of the
 * layout's. A call from a new boot of that node first drops every grant its
 * previous life held here.
 */
static int
lock_caller(struct cluster *c, struct rpc_req *r)
{
    int node = node_index(c, r->sender);
    struct slice boot = SLICE_NULL;
    bool changed;

    if (node < 0 || (unsigned)node == c->self)
        return -1;
    rpc_req_header(r, BOOT_HEADER, &boot);
    pthread_mutex_lock(&c->boot_mu);
    changed = c->boots[node][0] && !slice_eq_cstr(boot, c->boots[node]);
    snprintf(c->boots[node], sizeof(c->boots[node]), "%.*s", (int)MIN(boot.len, 63), boot.ptr);
    pthread_mutex_unlock(&c->boot_mu);
    if (changed) {
        size_t dropped = lock_table_drop_owner(c->table, (unsigned)node);

        log_warn(&(struct log_ctx){ .event = "locks_dropped" },
                 "node %s restarted: dropped the %zu locks its previous life held here",
                 layout_node_name(c->layout, (unsigned)node), dropped);
    }
    return node;
}

/* Resource and uid of a lock route; NULL (answered) when malformed or from an unknown node. */
static const char *
lock_args(struct cluster *c, struct rpc_req *r, const char **uid, int *node)
{
    struct slice res, u;

    *node = lock_caller(c, r);
    if (*node < 0 || !rpc_req_param(r, "r", &res) || !rpc_req_param(r, "u", &u) ||
        memchr(res.ptr, 0, res.len) || memchr(u.ptr, 0, u.len)) {
        rpc_reply_error(r, -ERR_INVAL, NULL);
        return NULL;
    }
    *uid = arena_slicedup(r->arena, u);
    return arena_slicedup(r->arena, res);
}

static void
reply_rc(struct rpc_req *r, int rc)
{
    if (rc < 0)
        rpc_reply_error(r, rc, NULL);
    else
        rpc_reply(r, 200, NULL);
}

static void
h_lock_try(void *arg, struct rpc_req *r)
{
    struct cluster *c = arg;
    const char *uid, *res;
    struct slice m, l;
    uint64_t lease;
    int node;

    res = lock_args(c, r, &uid, &node);
    if (!res)
        return;
    if (!rpc_req_param(r, "m", &m) || !rpc_req_param(r, "l", &l) || parse_u64(l, &lease) < 0 ||
        lease > INT64_MAX || !(slice_eq_cstr(m, "w") || slice_eq_cstr(m, "r"))) {
        rpc_reply_error(r, -ERR_INVAL, NULL);
        return;
    }
    reply_rc(r, lock_table_try(c->table, res, slice_eq_cstr(m, "w") ? LOCK_WRITE : LOCK_READ, uid,
                               (unsigned)node, (int64_t)lease));
}

static void
h_lock_refresh(void *arg, struct rpc_req *r)
{
    struct cluster *c = arg;
    const char *uid, *res;
    int node;

    res = lock_args(c, r, &uid, &node);
    if (res)
        reply_rc(r, lock_table_refresh(c->table, res, uid));
}

static void
h_lock_release(void *arg, struct rpc_req *r)
{
    struct cluster *c = arg;
    const char *uid, *res;
    int node;

    res = lock_args(c, r, &uid, &node);
    if (res)
        reply_rc(r, lock_table_release(c->table, res, uid));
}

static void
h_lock_release_many(void *arg, struct rpc_req *r)
{
    struct cluster *c = arg;
    struct wire_reader wr;
    uint32_t n, i;
    int node = lock_caller(c, r);

    wire_reader_init(&wr, slice_make(r->body.ptr, r->body.len));
    n = wire_get_u32(&wr);
    if (node < 0 || !wire_ok(&wr, false) || n > LOCK_RELEASE_BATCH_MAX) {
        rpc_reply_error(r, -ERR_INVAL, NULL);
        return;
    }
    for (i = 0; i < n; i++) {
        struct slice res = wire_get_bytes(&wr), uid = wire_get_bytes(&wr);

        if (!wire_ok(&wr, false) || memchr(res.ptr, 0, res.len) || memchr(uid.ptr, 0, uid.len))
            break;
        lock_table_release(c->table, arena_slicedup(r->arena, res), arena_slicedup(r->arena, uid));
    }
    if (i < n || !wire_ok(&wr, true))
        rpc_reply_error(r, -ERR_INVAL, NULL); /* those before the bad one are released */
    else
        rpc_reply(r, 200, NULL);
}

/* ---- notifications ---- */

static void
h_notify(void *arg, struct rpc_req *r)
{
    struct cluster *c = arg;
    struct objlayer *ol = atomic_load(&c->ol);
    struct slice topic, name;

    if (!rpc_req_param(r, "t", &topic) || !rpc_req_param(r, "n", &name) ||
        memchr(name.ptr, 0, name.len)) {
        rpc_reply_error(r, -ERR_INVAL, NULL);
        return;
    }
    if (ol && slice_eq_cstr(topic, "bucket"))
        objlayer_bucket_changed(ol, arena_slicedup(r->arena, name));
    if (slice_eq_cstr(topic, "iam")) {
        pthread_mutex_lock(&c->iam_mu);
        if (c->iam)
            iam_changed(c->iam, arena_slicedup(r->arena, name));
        pthread_mutex_unlock(&c->iam_mu);
    }
    rpc_reply(r, 200, NULL); /* not open yet: nothing known to forget */
}

void
cluster_notify(void *arg, const char *topic, const char *name)
{
    struct cluster *c = arg;
    unsigned i;

    for (i = 0; i < c->n; i++) {
        struct rpc_resp resp = RPC_RESP_INIT;
        struct buf q = BUF_INIT;

        if (i == c->self)
            continue;
        rpc_query_add(&q, "t", slice_cstr(topic));
        rpc_query_add(&q, "n", slice_cstr(name));
        /* a node that misses it (down) reads everything anew when it starts, and refreshes */
        peer_call(c, i, "/notify", &q, clock_mono_ns() + NOTIFY_NS, &resp);
        rpc_resp_release(&resp);
    }
}

/* ---- admin ---- */

#define ADMIN_NS (2 * 1000000000LL) /* a node's part of an admin answer */

void
cluster_rpc_stats(void *arg, struct buf *out)
{
    struct cluster *c = arg;
    unsigned i;
    bool first = true;

    buf_addch(out, '[');
    for (i = 0; i < c->n; i++) {
        struct rpc_peer_stats st;

        if (i == c->self)
            continue;
        rpc_peer_stats(c->peers[i], &st);
        buf_addf(out,
                 "%s{\"peer\":\"%s\",\"online\":%s,\"calls\":%llu,\"failures\":%llu,"
                 "\"connects\":%llu}",
                 first ? "" : ",", layout_node_name(c->layout, i),
                 rpc_peer_is_online(c->peers[i]) ? "true" : "false", (unsigned long long)st.calls,
                 (unsigned long long)st.failures, (unsigned long long)st.connects);
        first = false;
    }
    buf_addch(out, ']');
}

bool
cluster_node_online(void *arg, unsigned node)
{
    struct cluster *c = arg;

    return node == c->self || (node < c->n && rpc_peer_is_online(c->peers[node]));
}

bool
cluster_has_majority(void *arg, bool without_this_node)
{
    struct cluster *c = arg;
    unsigned i, up = without_this_node ? 0 : 1;

    for (i = 0; i < c->n; i++)
        if (i != c->self && rpc_peer_is_online(c->peers[i]))
            up++;
    return up > c->n / 2;
}

static void
h_admin(void *arg, struct rpc_req *r)
{
    struct cluster *c = arg;
    struct objlayer *ol = atomic_load(&c->ol);
    struct buf out = BUF_INIT, rpc = BUF_INIT;

    if (slice_eq_cstr(r->path, "/admin/status")) {
        s3_admin_node_json(ol, cluster_node_name(c), &out);
    } else {
        cluster_rpc_stats(c, &rpc);
        s3_admin_drives_json(ol, cluster_node_name(c), buf_slice(&rpc), &out);
    }
    rpc_reply(r, 200, &out);
    buf_release(&out);
    buf_release(&rpc);
}

struct service_ask {
    struct cluster *c;
    bool restart;
};

/* The answer went out (a cleanup of the request's arena): stop or restart now. */
static void
service_act(void *arg)
{
    struct service_ask *a = arg;

    a->c->service(a->c->service_arg, a->restart);
}

static void
h_service(void *arg, struct rpc_req *r)
{
    struct cluster *c = arg;
    struct service_ask *a;
    struct buf out = BUF_INIT;
    bool restart = slice_eq_cstr(r->path, "/admin/service/restart");

    if (!c->service || !atomic_load(&c->ol)) {
        buf_addf(&out, "{\"node\":\"%s\",\"error\":\"starting\"}", cluster_node_name(c));
    } else {
        log_warn(&(struct log_ctx){ .event = "service_asked" }, "service %s asked by node %.*s",
                 restart ? "restart" : "stop", (int)r->sender.len, r->sender.ptr);
        a = arena_alloc(r->arena, sizeof(*a));
        a->c = c;
        a->restart = restart;
        arena_defer(r->arena, service_act, a);
        buf_addf(&out, "{\"node\":\"%s\",\"acknowledged\":true}", cluster_node_name(c));
    }
    rpc_reply(r, 200, &out);
    buf_release(&out);
}

void
cluster_peers(void *arg, const char *what, struct buf *out)
{
    struct cluster *c = arg;
    char path[32];
    unsigned i;
    bool first = true;

    snprintf(path, sizeof(path), "/admin/%s", what);
    buf_addch(out, '[');
    for (i = 0; i < c->n; i++) {
        struct rpc_call call = { .method = "POST",
                                 .path = path,
                                 .deadline_ns = clock_mono_ns() + ADMIN_NS };
        struct rpc_resp resp = RPC_RESP_INIT;
        int rc;

        if (i == c->self)
            continue;
        buf_adds(out, first ? "" : ",");
        first = false;
        rc = rpc_call(c->peers[i], &call, &resp);
        if (rc == 0 && resp.status == 200 && resp.body.len && resp.body.ptr[0] == '{')
            buf_addslice(out, buf_slice(&resp.body));
        else
            buf_addf(out, "{\"node\":\"%s\",\"error\":\"%s\"}", layout_node_name(c->layout, i),
                     rc == -ERR_OFFLINE || rc == -ERR_TIMEOUT ? "the node does not answer"
                     : rc < 0                                 ? err_msg(rc)
                                                              : "bad answer");
        rpc_resp_release(&resp);
    }
    buf_addch(out, ']');
}

/* ---- metrics ---- */

#define METRICS_NS (5 * 1000000000LL) /* every node's part of a cluster scrape, in parallel */

static void
h_metrics(void *arg, struct rpc_req *r)
{
    struct cluster *c = arg;
    struct metrics *m = atomic_load(&c->metrics);
    struct buf out = BUF_INIT;

    if (!m) {
        rpc_reply_error(r, -ERR_BUSY, "this node is starting");
        return;
    }
    metrics_expose(m, &out);
    rpc_reply(r, 200, &out);
    buf_release(&out);
}

struct metrics_call {
    struct cluster *c;
    unsigned node;
    int64_t deadline;
    int rc;
    struct rpc_resp resp;
    pthread_t thread;
    bool started;
};

static void *
metrics_call_main(void *arg)
{
    struct metrics_call *mc = arg;
    struct rpc_call call = { .method = "POST",
                             .path = "/metrics/node",
                             .deadline_ns = mc->deadline };

    mc->rc = rpc_call(mc->c->peers[mc->node], &call, &mc->resp);
    if (mc->rc == 0 && mc->resp.status != 200)
        mc->rc = mc->resp.err ? mc->resp.err : -ERR_IO;
    return NULL;
}

void
cluster_peer_metrics(void *arg, cluster_metrics_fn *each, void *ctx)
{
    struct cluster *c = arg;
    struct metrics_call *mc = xcalloc(c->n, sizeof(*mc));
    int64_t deadline = clock_mono_ns() + METRICS_NS;
    unsigned i;

    for (i = 0; i < c->n; i++) {
        if (i == c->self)
            continue;
        mc[i] = (struct metrics_call){
            .c = c, .node = i, .deadline = deadline, .rc = -ERR_IO, .resp = RPC_RESP_INIT
        };
        mc[i].started = pthread_create(&mc[i].thread, NULL, metrics_call_main, &mc[i]) == 0;
        if (!mc[i].started)
            metrics_call_main(&mc[i]);
    }
    for (i = 0; i < c->n; i++) {
        const char *why;

        if (i == c->self)
            continue;
        if (mc[i].started)
            pthread_join(mc[i].thread, NULL);
        why = mc[i].rc == -ERR_OFFLINE || mc[i].rc == -ERR_TIMEOUT ? "the node does not answer"
              : mc[i].rc < 0                                       ? err_msg(mc[i].rc)
                                                                   : NULL;
        each(ctx, layout_node_name(c->layout, i), buf_slice(&mc[i].resp.body), why);
        rpc_resp_release(&mc[i].resp);
    }
    free(mc);
}

void
cluster_set_metrics(struct cluster *c, struct metrics *m)
{
    atomic_store(&c->metrics, m);
}

/* ---- hello ---- */

static void
h_hello(void *arg, struct rpc_req *r)
{
    struct cluster *c = arg;
    struct layout *theirs = NULL;
    struct buf why = BUF_INIT, mine = BUF_INIT;

    if (layout_decode(r->body.ptr, r->body.len, &theirs, &why) == 0 &&
        layout_diff(c->layout, theirs, &why)) {
        log_error(&(struct log_ctx){ .event = "cluster_layout_mismatch" },
                  "node %.*s was started with another layout: %s", (int)r->sender.len,
                  r->sender.ptr, why.ptr);
        rpc_reply_error(r, -ERR_INVAL, why.ptr);
    } else if (!theirs) {
        rpc_reply_error(r, -ERR_INVAL, why.ptr);
    } else {
        buf_addslice(&mine, buf_slice(&c->layout_json));
        rpc_reply(r, 200, &mine);
    }
    layout_free(theirs);
    buf_release(&why);
    buf_release(&mine);
}

/* One node's answer to our hello: 0 agrees, 1 does not answer, < 0 refuses (`why` says). */
static int
hello_one(struct cluster *c, unsigned node, struct buf *why)
{
    struct rpc_call call = { .method = "POST",
                             .path = "/cluster/hello",
                             .body = buf_slice(&c->layout_json),
                             .deadline_ns = clock_mono_ns() + HELLO_NS };
    struct rpc_resp resp = RPC_RESP_INIT;
    struct layout *theirs = NULL;
    const char *name = layout_node_name(c->layout, node);
    int rc = rpc_call(c->peers[node], &call, &resp);

    if (rc == -ERR_PEER_AUTH) {
        buf_addf(why,
                 "node %s refuses our calls: the root credentials or BASALT_CLUSTER_SECRET "
                 "differ between the nodes",
                 name);
    } else if (rc < 0) {
        rc = 1; /* not up (yet): it says hello when it starts */
    } else if (resp.err) {
        buf_addf(why, "node %s says our layout differs from its own: %.*s", name,
                 (int)resp.body.len, resp.body.ptr);
        rc = -ERR_INVAL;
    } else if (resp.status != 200 ||
               layout_decode(resp.body.ptr, resp.body.len, &theirs, why) < 0) {
        rc = 1;
    } else if (layout_diff(c->layout, theirs, why)) {
        rc = -ERR_INVAL;
    }
    layout_free(theirs);
    rpc_resp_release(&resp);
    return rc;
}

int
cluster_handshake(struct cluster *c, struct buf *errmsg)
{
    struct buf first_why = BUF_INIT;
    unsigned i, answered = 0, refused = 0;
    int first = 0;

    for (i = 0; i < c->n; i++) {
        struct buf why = BUF_INIT;
        int rc;

        if (i == c->self)
            continue;
        rc = hello_one(c, i, &why);
        if (rc != 1)
            answered++;
        if (rc < 0) {
            refused++;
            log_error(&(struct log_ctx){ .event = "cluster_refused" }, "%s", why.ptr);
            if (!first) {
                first = rc;
                buf_addslice(&first_why, buf_slice(&why));
            }
        }
        buf_release(&why);
    }
    /* Most of those that answer refuse this node: it is the one started wrong. */
    if (refused && 2 * refused > answered)
        buf_addslice(errmsg, buf_slice(&first_why));
    else
        first = 0;
    buf_release(&first_why);
    return first;
}

/* ---- drives ---- */

static int
open_local(struct cluster *c, const struct cluster_config *cfg, struct buf *errmsg)
{
    const struct endpoint **e;
    const char **paths;
    struct drive_local_opts opts = { .sync = cfg->sync };
    struct buf why = BUF_INIT;
    size_t n = 0, i, p, k;

    for (p = 0; p < layout_pool_count(c->layout); p++) { /* every pool's, in order */
        layout_pool_drives(c->layout, p, &k);
        n += k;
    }
    e = xcalloc(n, sizeof(*e));
    for (p = 0, i = 0; p < layout_pool_count(c->layout); p++) {
        const struct endpoint *pe = layout_pool_drives(c->layout, p, &k);

        while (k--)
            e[i++] = pe++;
    }
    paths = xcalloc(n, sizeof(*paths));
    for (i = 0; i < n; i++)
        if (e[i]->is_local)
            paths[c->nlocal++] = e[i]->path;
    opts.siblings = paths;
    opts.nsiblings = c->nlocal;
    c->local = xcalloc(c->nlocal ? c->nlocal : 1, sizeof(*c->local));
    c->drives = xcalloc(n, sizeof(*c->drives));
    c->ndrives = n;
    c->nlocal = 0;
    for (i = 0; i < n; i++) {
        struct drive *d;

        if (!e[i]->is_local) {
            c->drives[i] = drive_remote_new(c->peers[e[i]->node], e[i]->text, e[i]->path);
            continue;
        }
        if (drive_local_open(e[i]->path, &opts, &d, &why) < 0) {
            log_error(&(struct log_ctx){ .drive = e[i]->path, .event = "drive_open_failed" },
                      "cannot open the drive, it stays offline until restart: %s", why.ptr);
            d = drive_offline_new(e[i]->path);
        }
        buf_clear(&why);
        c->drives[i] = c->local[c->nlocal++] = d;
    }
    buf_release(&why);
    free(paths);
    free(e);
    (void)errmsg;
    return 0;
}

struct drive **
cluster_drives(struct cluster *c, size_t *n)
{
    *n = c->ndrives;
    return c->drives;
}

void
cluster_drives_given(struct cluster *c)
{
    c->given = true;
}

/* ---- life ---- */

static void *
maint_main(void *arg)
{
    struct cluster *c = arg;
    int64_t iam_next = clock_mono_ns() + IAM_REFRESH_NS;

    /*
     * Spawn site of the cluster's maintenance thread: expires lock grants
     * every MAINT_NS, reads IAM again every IAM_REFRESH_NS.
     */
    pthread_setname_np(pthread_self(), "cluster-maint");
    pthread_mutex_lock(&c->maint_mu);
    while (!c->stop) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += MAINT_NS / 1000000000LL;
        pthread_cond_timedwait(&c->maint_cv, &c->maint_mu, &ts);
        pthread_mutex_unlock(&c->maint_mu);
        lock_table_expire(c->table, clock_mono_ns());
        pthread_mutex_lock(&c->iam_mu);
        /* not read at start (too few nodes answered): retried every tick until it is */
        if (c->iam && (clock_mono_ns() >= iam_next || !iam_is_loaded(c->iam))) {
            iam_reload(c->iam);
            iam_next = clock_mono_ns() + IAM_REFRESH_NS;
        }
        pthread_mutex_unlock(&c->iam_mu);
        pthread_mutex_lock(&c->maint_mu);
    }
    pthread_mutex_unlock(&c->maint_mu);
    return NULL;
}

static void
on_peer_state(void *arg, struct rpc_peer *p, bool online)
{
    /* The RPC layer logs the transition; remote drives find out on their next call or check. */
    (void)arg;
    (void)p;
    (void)online;
}

static int
make_rpc(struct cluster *c, const struct cluster_config *cfg, struct buf *errmsg)
{
    struct rpc_client_config cc = {
        .key = &c->key, .self = &c->id, .on_peer_state = on_peer_state, .on_peer_state_arg = c
    };
    struct buf cas = BUF_INIT;
    ssize_t n = 0;
    unsigned i;
    int rc = 0;

    rpc_key_derive(&c->key, cfg->cluster_secret, cfg->root_user, cfg->root_password);
    if (c->tls && (n = tls_load_cas(cfg->certs_dir, &cas, errmsg)) < 0)
        rc = (int)n;
    cc.ca_pem = cas.len ? cas.ptr : NULL;
    if (rc == 0)
        rc = rpc_identity_init(&c->id, layout_node_name(c->layout, c->self));
    if (rc == 0 && rpc_client_new(&cc, &c->cli) < 0) {
        buf_addf(errmsg, "%s/CAs: not PEM certificates", cfg->certs_dir);
        rc = -ERR_INVAL;
    }
    buf_release(&cas);
    for (i = 0; i < c->n && rc == 0; i++) {
        char url[300];

        if (i == c->self)
            continue;
        snprintf(url, sizeof(url), "%s://%s", c->tls ? "https" : "http",
                 layout_node_name(c->layout, i));
        rc = rpc_client_add_peer(c->cli, url, &c->peers[i]);
        if (rc < 0)
            buf_addf(errmsg, "node %s: not a valid address", layout_node_name(c->layout, i));
    }
    if (rc < 0)
        return rc;
    c->srv = rpc_server_new(&c->key, &c->id);
    BUG_ON(rpc_server_route(c->srv, "POST", "/lock/try", h_lock_try, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/lock/refresh", h_lock_refresh, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/lock/release", h_lock_release, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/lock/release-many", h_lock_release_many, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/notify", h_notify, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/cluster/hello", h_hello, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/admin/status", h_admin, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/admin/info", h_admin, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/admin/service/restart", h_service, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/admin/service/stop", h_service, c) < 0);
    BUG_ON(rpc_server_route(c->srv, "POST", "/metrics/node", h_metrics, c) < 0);
    return 0;
}

int
cluster_new(const struct cluster_config *cfg, struct cluster **out, struct buf *errmsg)
{
    struct cluster *c = xcalloc(1, sizeof(*c));
    struct lock_quorum_config lq = { 0 };
    int rc;

    c->layout = cfg->layout;
    c->service = cfg->service;
    c->service_arg = cfg->service_arg;
    c->n = (unsigned)layout_node_count(cfg->layout);
    c->self = (unsigned)layout_local_node(cfg->layout);
    c->peers = xcalloc(c->n, sizeof(*c->peers));
    c->boots = xcalloc(c->n, sizeof(*c->boots));
    c->certs_dir = cfg->certs_dir ? xstrdup(cfg->certs_dir) : NULL;
    pthread_mutex_init(&c->boot_mu, NULL);
    pthread_mutex_init(&c->maint_mu, NULL);
    pthread_mutex_init(&c->iam_mu, NULL);
    pthread_cond_init(&c->maint_cv, NULL);
    buf_init(&c->layout_json, 0);
    c->tls = layout_pool_drives(cfg->layout, 0, &(size_t){ 0 })[0].tls;
    if (c->tls != (cfg->certs_dir != NULL)) {
        buf_adds(errmsg, c->tls ? "https:// endpoints: give --certs-dir (this node serves HTTPS "
                                  "to the others)"
                                : "--certs-dir: give https:// endpoints (nodes reach each other "
                                  "with the scheme of the endpoints)");
        rc = -ERR_INVAL;
        goto fail;
    }
    layout_encode(cfg->layout, &c->layout_json);
    rc = make_rpc(c, cfg, errmsg);
    if (rc < 0)
        goto fail;
    c->table = lock_table_new(0);
    lq.n = c->n;
    lq.self = c->self;
    /* this node's table is called directly, in memory: on the caller's thread */
    lq.transport = (struct lock_transport){ t_try, t_refresh, t_release, c, t_release_many, true };
    c->locks = lock_service_quorum_new(&lq);
    BUG_ON(!c->locks);
    open_local(c, cfg, errmsg);
    c->ds = drive_serve_new(c->srv, c->local, c->nlocal);
    if (pthread_create(&c->maint, NULL, maint_main, c))
        die("cannot start the cluster maintenance thread");
    c->maint_started = true;
    *out = c;
    return 0;
fail:
    cluster_free(c);
    return rc;
}

void
cluster_handle_rpc(struct cluster *c, struct http_req *req)
{
    rpc_server_handle(c->srv, req);
}

struct lock_service *
cluster_locks(struct cluster *c)
{
    return c->locks;
}

size_t
cluster_rpc_peers(struct cluster *c, struct rpc_peer **peers, const char **names, size_t max)
{
    size_t k = 0;
    unsigned i;

    for (i = 0; i < c->n; i++) {
        if (i == c->self)
            continue;
        if (k < max) {
            peers[k] = c->peers[i];
            names[k] = layout_node_name(c->layout, i);
        }
        k++;
    }
    return k;
}

bool
cluster_is_formatter(const struct cluster *c)
{
    return c->self == 0;
}

const char *
cluster_formatter(const struct cluster *c)
{
    return layout_node_name(c->layout, 0);
}

const char *
cluster_node_name(const struct cluster *c)
{
    return layout_node_name(c->layout, c->self);
}

void
cluster_set_objlayer(struct cluster *c, struct objlayer *ol)
{
    atomic_store(&c->ol, ol);
}

void
cluster_set_iam(struct cluster *c, struct iam *iam)
{
    pthread_mutex_lock(&c->iam_mu);
    c->iam = iam;
    pthread_mutex_unlock(&c->iam_mu);
}

ssize_t
cluster_reload_cas(struct cluster *c, size_t *system_certs, struct buf *errmsg)
{
    struct buf cas = BUF_INIT;
    ssize_t n;

    *system_certs = 0;
    if (!c->tls)
        return 0;
    n = tls_load_cas(c->certs_dir, &cas, errmsg);
    if (n >= 0)
        n = rpc_client_set_cas(c->cli, cas.len ? cas.ptr : NULL, system_certs, errmsg);
    buf_release(&cas);
    return n;
}

void
cluster_free(struct cluster *c)
{
    size_t i;

    if (!c)
        return;
    if (c->maint_started) {
        pthread_mutex_lock(&c->maint_mu);
        c->stop = true;
        pthread_cond_broadcast(&c->maint_cv);
        pthread_mutex_unlock(&c->maint_mu);
        pthread_join(c->maint, NULL);
    }
    for (i = 0; i < c->ndrives && !c->given; i++)
        drive_close(c->drives[i]);
    lock_service_free(c->locks);
    lock_table_free(c->table);
    drive_serve_free(c->ds);
    rpc_client_free(c->cli);
    rpc_server_free(c->srv);
    buf_release(&c->layout_json);
    pthread_mutex_destroy(&c->boot_mu);
    pthread_mutex_destroy(&c->maint_mu);
    pthread_mutex_destroy(&c->iam_mu);
    pthread_cond_destroy(&c->maint_cv);
    free(c->drives);
    free(c->local);
    free(c->peers);
    free(c->boots);
    free(c->certs_dir);
    free(c);
}

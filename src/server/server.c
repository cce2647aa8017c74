/*
 * server/server.c: start-up and shutdown of one server, single node or a
 * node of a cluster. Order matters:
 *
 *   single node  bind -> object layer (formats or checks the drives,
 *                self-checks the codec) -> S3 layer -> serve
 *   cluster      bind -> the node (cluster.c: its drives opened, RPC server
 *                and client, locks) -> serve RPC (the other nodes need this
 *                node's drives to format and agree; S3 answers 503 until
 *                ready) -> handshake -> object layer over every node's
 *                drives (waits, saying what for, until enough of them
 *                answer) -> S3 layer -> ready
 *
 * and shutdown runs the other way, so that no request ever reaches a closed
 * layer.
 *
 * Threads: libmicrohttpd's polling thread and one thread per connection
 * (request handlers, blocking); the object layer's own I/O workers,
 * committers, heal and monitor threads; in a cluster, the RPC client's
 * prober, the lock service's call queues and refresher, and the cluster's
 * maintenance thread. The main thread only waits for a signal.
 */
#include "util/base.h"

#include "server/server.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "cluster/layout.h"
#include "cluster/rpc_auth.h"
#include "http/http.h"
#include "iam/iam.h"
#include "obs/audit.h"
#include "obs/log.h"
#include "object/objlayer.h"
#include "obs/metrics.h"
#include "s3/s3.h"
#include "server/cluster.h"
#include "server/metrics.h"
#include "server/restart.h"
#include "storage/drive.h"
#include "util/err.h"

struct server {
    struct objlayer *ol;
    struct s3 *s3;
    struct iam *iam;
    struct audit *audit;        /* NULL: no audit target */
    struct s3 *_Atomic serving; /* s3 once ready: until then S3 requests get 503 */
    struct cluster *cluster;    /* NULL on a single node */
    struct http_server *http;
    struct objlayer_pool *pools; /* a cluster: the layout's pools, for the object layer */
    size_t npools;
    bool stop_asked; /* a signal came while starting (main thread only) */
    /* every layer's metrics, served by s3/ at /basalt/v1/metrics/node; outlives the layers */
    struct metrics *metrics;
    struct server_metrics *process; /* metrics.c */
    atomic_int service;             /* SERVER_EXIT_STOP|_RESTART bits asked through the admin API */
};

/*
 * s3_config.service, cluster_config.service: the admin API asks this node
 * to stop (or restart) once its answer went out. The main thread's
 * server_wait() takes the service signal (restart.h) and stops gracefully,
 * as for a SIGTERM from outside; a stop asked with a restart wins
 * (server_exit_asked).
 */
static void
service_asked(void *arg, bool restart)
{
    struct server *srv = arg;

    atomic_fetch_or(&srv->service, restart ? SERVER_EXIT_RESTART : SERVER_EXIT_STOP);
    sigqueue(getpid(), SERVER_SERVICE_SIGNAL, (union sigval){ .sival_int = 0 });
}

enum server_exit
server_exit_asked(struct server *srv)
{
    int v = atomic_load(&srv->service);

    return v & SERVER_EXIT_STOP ? SERVER_EXIT_STOP : (enum server_exit)v;
}

void
server_block_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SERVER_SERVICE_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Before the S3 layer is ready (a cluster node starting): alive, not ready. */
static void
answer_starting(struct http_req *req)
{
    struct buf body = BUF_INIT;
    /* under a --path-prefix too */
    bool live = slice_ends_with(req->path, SLICE_LIT("/basalt/health/live")) ||
                slice_ends_with(req->path, SLICE_LIT("/minio/health/live"));

    if (!req->is_head)
        buf_adds(&body, live ? "OK\n" : "starting: waiting for the other nodes\n");
    http_resp_header(req, "Content-Type", "text/plain");
    http_resp_header(req, "Retry-After", "1");
    http_resp_buf(req, live ? 200 : 503, &body);
    buf_release(&body);
}

/* The HTTP handler: node-to-node RPC, else S3 (and health, admin) once ready. */
static void
handle(void *arg, struct http_req *req)
{
    struct server *srv = arg;
    struct s3 *s3 = atomic_load(&srv->serving);

    if (srv->cluster && slice_starts_with(req->path, SLICE_LIT(RPC_PATH_PREFIX)))
        cluster_handle_rpc(srv->cluster, req);
    else if (s3)
        s3_handle(s3, req);
    else
        answer_starting(req);
}

/*
 * objlayer_wait_fn while a cluster node starts: says what it waits for
 * (once, then every 30 s), waits a second for SIGINT/SIGTERM, and gives up
 * when one comes (the main thread is the one waiting here) or when most
 * nodes refuse this one (another layout, other credentials).
 */
struct start_wait {
    struct server *srv;
    unsigned rounds;
    struct buf said;
};

static int
wait_for_nodes(void *arg, const char *what)
{
    struct start_wait *w = arg;
    struct timespec one = { 1, 0 };
    struct buf why = BUF_INIT;
    sigset_t set;
    int rc = 0;

    if (strcmp(w->said.ptr, what) != 0 || w->rounds % 30 == 0)
        log_warn(&(struct log_ctx){ .event = "cluster_waiting" }, "%s", what);
    buf_clear(&w->said);
    buf_adds(&w->said, what);
    w->rounds++;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigtimedwait(&set, NULL, &one) > 0) {
        w->srv->stop_asked = true;
        return -1;
    }
    if (cluster_handshake(w->srv->cluster, &why) < 0) {
        log_error(&(struct log_ctx){ .event = "cluster_refused" }, "%s", why.ptr);
        rc = -1;
    }
    buf_release(&why);
    return rc;
}

static int
open_cluster(struct server *srv, const struct server_config *cfg, struct objlayer_config *oc,
             struct buf *errmsg)
{
    struct cluster_config cc = { .layout = cfg->layout,
                                 .root_user = cfg->root_user,
                                 .root_password = cfg->root_password,
                                 .cluster_secret = cfg->cluster_secret,
                                 .sync = cfg->sync,
                                 .service = service_asked,
                                 .service_arg = srv,
                                 .certs_dir = cfg->certs_dir };
    size_t p;
    int rc = cluster_new(&cc, &srv->cluster, errmsg);

    if (rc < 0)
        return rc;
    oc->prebuilt = cluster_drives(srv->cluster, &oc->ndrives);
    oc->locks = cluster_locks(srv->cluster);
    oc->notify = cluster_notify;
    oc->notify_arg = srv->cluster;
    oc->format_fresh = cluster_is_formatter(srv->cluster);
    oc->formatter = cluster_formatter(srv->cluster);
    srv->npools = layout_pool_count(cfg->layout);
    srv->pools = xcalloc(srv->npools, sizeof(*srv->pools));
    for (p = 0; p < srv->npools; p++) {
        layout_pool_drives(cfg->layout, p, &srv->pools[p].ndrives);
        srv->pools[p].set_size = layout_set_size(cfg->layout, p);
        srv->pools[p].parity = layout_parity(cfg->layout, p);
    }
    oc->pools = srv->pools;
    oc->npools = srv->npools;
    oc->scan_share = (unsigned)layout_local_node(cfg->layout);
    oc->scan_shares = (unsigned)layout_node_count(cfg->layout);
    oc->node_online = cluster_node_online;
    oc->node_online_arg = srv->cluster;
    return 0;
}

/*
 * BASALT_METRICS=off: no registry at all, so nothing is counted (the request
 * path skips its counting, drives and locks get no families) and the
 * metrics endpoints answer 501. For measuring what counting costs
 * (bench/metrics_cost.sh); read here, not in cli/, as a diagnostic switch.
 */
static bool
metrics_wanted(void)
{
    const char *v = getenv("BASALT_METRICS");

    return !v || strcmp(v, "off");
}

/* The cluster RPC's per-peer series (server/metrics.c): the peers are known once the cluster is. */
static void
register_peer_metrics(struct server *srv)
{
    size_t n = cluster_rpc_peers(srv->cluster, NULL, NULL, 0);
    struct rpc_peer **peers = xcalloc(n + 1, sizeof(*peers));
    const char **names = xcalloc(n + 1, sizeof(*names));

    cluster_rpc_peers(srv->cluster, peers, names, n);
    server_metrics_register_peers(srv->process, srv->metrics, peers, names, n);
    free(peers);
    free(names);
}

static int
open_layers(struct server *srv, const struct server_config *cfg, struct objlayer_config *oc,
            struct buf *errmsg)
{
    struct s3_config sc = { .region = cfg->region,
                            .root_user = cfg->root_user,
                            .root_password = cfg->root_password,
                            .max_memory = cfg->max_memory,
                            .domains = cfg->domains,
                            .ndomains = cfg->ndomains,
                            .path_prefix = cfg->path_prefix,
                            .node = cfg->address,
                            .metrics = srv->metrics,
                            .metrics_public = cfg->metrics_public,
                            .audit = srv->audit,
                            .audit_health = cfg->audit_health,
                            .object_ownership = cfg->object_ownership,
                            .service = service_asked,
                            .service_arg = srv };
    struct iam_config ic = { .root_user = cfg->root_user, .root_secret = cfg->root_password };
    struct start_wait w = { .srv = srv, .said = BUF_INIT };
    int rc;

    if (srv->cluster) {
        sc.peers = cluster_peers;
        sc.rpc_stats = cluster_rpc_stats;
        sc.nodes_majority = cluster_has_majority;
        sc.peer_metrics = cluster_peer_metrics;
        sc.peers_arg = srv->cluster;
        sc.node = cluster_node_name(srv->cluster);
        oc->wait = wait_for_nodes;
        oc->wait_arg = &w;
        rc = cluster_handshake(srv->cluster, errmsg);
        if (rc < 0)
            goto out;
    }
    rc = objlayer_open(oc, &srv->ol, errmsg);
    if (srv->cluster)
        cluster_drives_given(srv->cluster); /* the layer closes them, even on failure */
    if (rc < 0)
        goto out;
    if (srv->cluster)
        cluster_set_objlayer(srv->cluster, srv->ol);
    if (srv->metrics)
        objlayer_metrics_register(srv->ol, srv->metrics);
    if (srv->cluster && srv->metrics)
        register_peer_metrics(srv);
    ic.ol = srv->ol;
    if (srv->cluster) {
        ic.notify = cluster_notify;
        ic.notify_arg = srv->cluster;
    }
    rc = iam_open(&ic, &srv->iam, errmsg);
    if (rc < 0) {
        objlayer_close(srv->ol);
        srv->ol = NULL;
        goto out;
    }
    if (srv->cluster)
        cluster_set_iam(srv->cluster, srv->iam);
    sc.ol = srv->ol;
    sc.iam = srv->iam;
    srv->s3 = s3_new(&sc);
out:
    if (rc < 0 && srv->stop_asked)
        buf_adds(errmsg, " (stopped by a signal while starting)");
    buf_release(&w.said);
    return rc;
}

int
server_open(const struct server_config *cfg, struct server **out, struct buf *errmsg)
{
    struct server *srv = xcalloc(1, sizeof(*srv));
    struct objlayer_config oc = { .drives = cfg->drives,
                                  .ndrives = cfg->ndrives,
                                  .sync = cfg->sync,
                                  .stale_upload_ns = cfg->stale_upload_ns,
                                  .scan_interval_ns = cfg->scan_interval_ns,
                                  .drive_timeout_ns = cfg->drive_timeout_ns };
    struct http_config hc = { .address = cfg->address,
                              .idle_timeout = cfg->idle_timeout,
                              .header_limit = SERVER_HEADER_LIMIT,
                              .max_connections = cfg->max_connections,
                              .max_per_address = cfg->max_per_address,
                              .header_timeout = cfg->header_timeout,
                              .trusted_proxies = cfg->trusted_proxies,
                              .certs_dir = cfg->certs_dir,
                              .engine = cfg->http_engine && !strcmp(cfg->http_engine, "basalt")
                                            ? HTTP_ENGINE_BASALT
                                            : HTTP_ENGINE_MHD };
    int rc;

    if (metrics_wanted()) {
        srv->metrics = metrics_new();
        srv->process = server_metrics_register(srv->metrics);
    }
    {
        struct audit_config ac = { .to_stdout = cfg->audit_stdout,
                                   .file = cfg->audit_file,
                                   .webhook = cfg->audit_webhook,
                                   .node = cfg->address,
                                   .queue_max = cfg->audit_queue };

        if (cfg->layout && layout_is_cluster(cfg->layout))
            ac.node = layout_node_name(cfg->layout, (size_t)layout_local_node(cfg->layout));
        rc = audit_new(&ac, &srv->audit, errmsg);
        if (rc < 0)
            goto out_free;
        audit_metrics_register(srv->audit, srv->metrics);
    }
    /* before any thread: every log line names this node (a cluster's: as the others call it) */
    if (cfg->layout && layout_is_cluster(cfg->layout))
        log_set_node(layout_node_name(cfg->layout, (size_t)layout_local_node(cfg->layout)));
    else
        log_set_node(cfg->address);
    /* Bind first: a busy port is reported before the drives are touched. */
    rc = http_server_listen(&hc, &srv->http, errmsg);
    if (rc < 0)
        goto out_free;
    if (srv->metrics)
        http_server_metrics_register(srv->http, srv->metrics);
    if (cfg->layout && layout_is_cluster(cfg->layout)) {
        rc = open_cluster(srv, cfg, &oc, errmsg);
        if (rc == 0)
            rc = http_server_start(srv->http, handle, srv, errmsg);
        if (rc < 0)
            goto out_stop_http;
    }
    rc = open_layers(srv, cfg, &oc, errmsg);
    if (rc < 0)
        goto out_stop_http;
    if (!srv->cluster)
        rc = http_server_start(srv->http, handle, srv, errmsg);
    if (rc < 0)
        goto out_close;
    atomic_store(&srv->serving, srv->s3);
    if (srv->cluster)
        cluster_set_metrics(srv->cluster, srv->metrics); /* every layer registered its own */
    *out = srv;
    return 0;
out_close:
    s3_free(srv->s3);
    if (srv->cluster)
        cluster_set_iam(srv->cluster, NULL);
    iam_close(srv->iam);
    objlayer_close(srv->ol);
out_stop_http:
    http_server_stop(srv->http);
    cluster_free(srv->cluster);
out_free:
    audit_free(srv->audit);
    free(srv->pools);
    server_metrics_free(srv->process);
    metrics_free(srv->metrics);
    free(srv);
    return rc;
}

void
server_describe(struct server *srv, struct buf *out)
{
    objlayer_describe(srv->ol, out);
}

int
server_port(const struct server *srv)
{
    return http_server_port(srv->http);
}

int
server_wait(struct server *srv)
{
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SERVER_SERVICE_SIGNAL);
    for (;;) {
        while (sigwait(&set, &sig) != 0)
            ;
        if (sig != SIGHUP)
            return sig;
        server_reopen_logs(srv); /* logrotate moved the audit file */
        server_reload_certs(srv);
    }
}

void
server_reload_certs(struct server *srv)
{
    struct buf why = BUF_INIT;
    size_t nsys;
    ssize_t n;

    if (!http_server_is_tls(srv->http))
        return;
    if (http_server_reload_certs(srv->http, &why) < 0)
        log_error(&(struct log_ctx){ .event = "tls_reload_failed" },
                  "certificates not reloaded, the ones in use stay: %s", why.ptr);
    else
        log_info(&(struct log_ctx){ .event = "tls_reloaded" }, "certificates reloaded");
    if (!srv->cluster)
        goto out;
    buf_clear(&why);
    n = cluster_reload_cas(srv->cluster, &nsys, &why);
    if (n < 0)
        log_error(&(struct log_ctx){ .event = "tls_cas_reload_failed" },
                  "CAs/ not reloaded, node-to-node calls keep verifying peers against the CAs "
                  "in use: %s",
                  why.ptr);
    else
        log_info(&(struct log_ctx){ .event = "tls_cas_reloaded" },
                 "CAs/ reloaded: %zd certificates, and %zu of the system's; connections to "
                 "peers are verified again at their next call",
                 n, nsys);
out:
    buf_release(&why);
}

void
server_reopen_logs(struct server *srv)
{
    audit_reopen(srv->audit);
}

void
server_close(struct server *srv)
{
    if (!srv)
        return;
    http_server_stop(srv->http);
    s3_free(srv->s3);
    if (srv->cluster) {
        cluster_set_iam(srv->cluster, NULL);
        cluster_set_metrics(srv->cluster, NULL);
    }
    iam_close(srv->iam);
    objlayer_close(srv->ol);
    cluster_free(srv->cluster);
    audit_free(srv->audit);
    free(srv->pools);
    server_metrics_free(srv->process);
    metrics_free(srv->metrics);
    free(srv);
}

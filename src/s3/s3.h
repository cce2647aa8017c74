/*
 * s3/s3.h: the S3 API (DESIGN.md "s3/"), plus Basalt's own endpoints under
 * /basalt/ (health, admin). The server builds one `struct s3` and gives
 * s3_handle() to http/ as its request handler.
 *
 * Addressing: path style (/bucket/key) always; virtual-host style
 * (Host: bucket.<domain>, path /key) for each configured domain; and the
 * whole API (Basalt's own endpoints too) may live under a path prefix
 * (/storage/bucket/key), so that a reverse proxy can forward /storage/
 * without rewriting: signatures stay valid because the canonical URI is the
 * raw path the client signed, prefix included.
 *
 * Files of the layer: router.c (method + path + query -> operation),
 * auth.c (SigV4 glue), bucket.c, object.c, listing.c, admin.c (operations),
 * error.c (the error document, errors.def), xml.c (XML out and in),
 * names.c (bucket and key rules).
 */
#ifndef BASALT_S3_S3_H
#define BASALT_S3_S3_H

#include "util/base.h"

#include "http/http.h"
#include "object/objlayer.h"
#include "obs/metrics.h"

#define S3_DEFAULT_REGION "us-east-1"

struct s3;
struct iam;
struct audit;

struct s3_config {
    struct objlayer *ol;       /* borrowed; outlives the s3 */
    const char *region;        /* copied */
    const char *root_user;     /* copied */
    const char *root_password; /* copied into a buffer zeroed on free */
    uint64_t max_memory;       /* bytes of streaming buffers admitted at once */
    /*
     * Virtual-host style: a Host of "<bucket>.<domain>" (any port) names the
     * bucket; the bare domain, IP addresses and other hosts stay path style.
     * Lowercase names without port; copied. NULL/0: path style only.
     */
    const char *const *domains;
    size_t ndomains;
    /*
     * "/storage": every request must start with it ("/storage/bucket/key");
     * others answer 404 (the health endpoints /basalt/health/... also answer
     * without it). Starts with '/', no trailing '/'; copied. NULL or "": none.
     */
    const char *path_prefix;
    /*
     * A cluster: appends to `out` a JSON array with what the other nodes
     * answer to `what` ("status": their s3_admin_node_json(); "info": their
     * drives), one element per node, {"node":"H:P","error":"..."} for a node
     * that does not answer. NULL: a single node.
     */
    void (*peers)(void *arg, const char *what, struct buf *out);
    /* A cluster: this node's RPC counters per peer, a JSON array (admin info); NULL: none. */
    void (*rpc_stats)(void *arg, struct buf *out);
    /* A cluster: whether a majority of the nodes answers (with this one, or without). */
    bool (*nodes_majority)(void *arg, bool without_this_node);
    /*
     * A cluster: calls `each` once per other node with its metrics
     * (metrics_expose() text), or an empty text and why it has none
     * (/basalt/v1/metrics/cluster). NULL: a single node.
     */
    void (*peer_metrics)(void *arg,
                         void (*each)(void *ctx, const char *node, struct slice text,
                                      const char *err),
                         void *ctx);
    void *peers_arg; /* of all three */
    /*
     * The admin API's service restart and stop (admin.c): asks the server to
     * stop gracefully, then (`restart`) to start again, once the request
     * that asked has been answered. Called on a connection thread. NULL:
     * the endpoints answer NotImplemented.
     */
    void (*service)(void *arg, bool restart);
    void *service_arg;
    const char *node; /* this node's name in admin answers ("H:P", or the address) */
    /*
     * The registry the layer's metrics (s3/metrics.c) go to, served at
     * /basalt/v1/metrics/node; borrowed, outlives the s3. NULL: none kept.
     */
    struct metrics *metrics;
    /* The metrics endpoint answers without authentication (BASALT_PROMETHEUS_AUTH=public). */
    bool metrics_public;
    /*
     * Identities and policies (iam/iam.h): borrowed, outlives the s3. NULL:
     * the root user is the only identity and unsigned requests are refused.
     */
    struct iam *iam;
    /* audit records (obs/audit.h): borrowed, outlives the s3; NULL: none */
    struct audit *audit;
    bool audit_health; /* health checks are audited too */
    /*
     * The object ownership of new buckets that do not ask for one:
     * "BucketOwnerEnforced" (NULL: the same; S3's default), "ObjectWriter"
     * or "BucketOwnerPreferred" (deployments with legacy clients that set ACLs).
     */
    const char *object_ownership;
};

/*
 * This node's background work (objlayer_status) as a JSON object with its
 * name, for the admin API and for other nodes asking over RPC; `ol` may be
 * NULL (still starting).
 */
void s3_admin_node_json(struct objlayer *ol, const char *node, struct buf *out);
/*
 * The drives as this node sees them (every drive of the deployment, "local"
 * true for its own) as a JSON object {"node":...,"drives":[...]}, likewise,
 * with "rpc": `rpc` (a JSON array, cluster_rpc_stats()) when not empty.
 */
void s3_admin_drives_json(struct objlayer *ol, const char *node, struct slice rpc, struct buf *out);

/* Returns a new s3 (never fails: configuration is validated by server/). */
struct s3 *s3_new(const struct s3_config *cfg);
void s3_free(struct s3 *s);

/*
 * The http_handler_fn: routes, authenticates and runs one request. `arg` is
 * the struct s3. Runs on a libmicrohttpd connection thread and blocks.
 */
void s3_handle(void *arg, struct http_req *req);

#endif

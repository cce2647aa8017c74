/*
 * server/server.h: one running Basalt server: the object layer over the
 * drives, the S3 layer and the HTTP listener, wired together (DESIGN.md
 * "server/"). This is the one `struct server` of the process (STYLE 2.7):
 * no layer below keeps global state; each gets what it needs from here.
 */
#ifndef BASALT_SERVER_SERVER_H
#define BASALT_SERVER_SERVER_H

#include "util/base.h"

#include "util/buf.h"

struct layout;

#define SERVER_DEFAULT_ADDRESS "127.0.0.1:9000"
#define SERVER_DEFAULT_MAX_MEMORY (256ull << 20)
#define SERVER_DEFAULT_IDLE_TIMEOUT 60
/*
 * libmicrohttpd's per-connection memory (it answers 431 itself past it, without
 * our headers): above s3/'s own header limit (64 KiB), which answers with an
 * S3 error document. libmicrohttpd zeroes the pool between two requests of a
 * connection, so its size is CPU per request: 96 KiB instead of 256 took a
 * 4 KiB GET from 84 to 66-76 us of server CPU (docs/benchmarks.md).
 */
#define SERVER_HEADER_LIMIT (96 * 1024)

struct server;

struct server_config {
    const char *address;       /* HOST:PORT */
    const char *region;        /* S3 region, e.g. us-east-1 */
    bool sync;                 /* fsync before acknowledging writes */
    uint64_t max_memory;       /* bytes of streaming buffers admitted at once */
    unsigned idle_timeout;     /* seconds */
    unsigned header_timeout;   /* seconds to send a request's headers (0: 10; http_config) */
    unsigned max_connections;  /* 0: from the open-file limit (http_config) */
    unsigned max_per_address;  /* 0: a quarter of max_connections; UINT_MAX: none */
    const char *const *drives; /* drive folders, already expanded */
    size_t ndrives;
    const char *root_user;
    const char *root_password;
    const char *const *domains; /* virtual-host style domains (s3_config) */
    size_t ndomains;
    const char *path_prefix;  /* "" or "/storage" (s3_config) */
    int64_t stale_upload_ns;  /* multipart uploads older than this are aborted (0: 24 h) */
    int64_t scan_interval_ns; /* between two cycles of the background scanner (0: 1 h) */
    int64_t drive_timeout_ns; /* a drive call older than this: the drive is hung (0: 30 s) */
    /*
     * The layout of the drive arguments (cluster/layout.h), marked with this
     * node: a cluster when its endpoints are URLs (then `drives` is unused),
     * else single-node folders (`drives` lists them). Borrowed for the
     * server's life.
     */
    struct layout *layout;
    const char *cluster_secret; /* BASALT_CLUSTER_SECRET, or NULL: the key derives from root's */
    /* /basalt/v1/metrics/node answers without authentication (BASALT_PROMETHEUS_AUTH=public) */
    bool metrics_public;
    /* audit records (obs/audit.h): to stdout, a file, a Loki push URL; NULL/false: none */
    bool audit_stdout;
    const char *audit_file;
    const char *audit_webhook;
    size_t audit_queue; /* 0: the default */
    bool audit_health;  /* health checks are audited too (default: not) */
    /* proxies whose X-Forwarded-For/X-Real-IP name the client: "10.0.0.0/8,127.0.0.1" */
    const char *trusted_proxies;
    /* new buckets' object ownership ("ObjectWriter"...; NULL: BucketOwnerEnforced; s3_config) */
    const char *object_ownership;
    /* HTTPS with DIR/public.crt, private.key, DIR/NAME/ (SNI), DIR/CAs/ (peers); NULL: HTTP */
    const char *certs_dir;
    /* what serves HTTP (http_config.engine): "mhd" or NULL (libmicrohttpd), "basalt" */
    const char *http_engine;
};

/* Reopens the audit file (SIGHUP after logrotate). */
struct server;
void server_reopen_logs(struct server *srv);
/*
 * Loads the certificates of --certs-dir again, and its CAs/ for the
 * connections to peers of a cluster (SIGHUP); logs the outcomes.
 */
void server_reload_certs(struct server *srv);

/*
 * Opens the object layer, builds the S3 layer and starts listening.
 * Returns 0 and `*out`; or -ERR_* with a sentence in `errmsg`:
 * the object layer failed (its reason), or the address cannot be used
 * (-ERR_EXISTS when it is already in use, -ERR_INVAL when malformed).
 * Call with SIGINT and SIGTERM blocked (server_block_signals) so that every
 * thread started here inherits the mask and server_wait() receives them.
 */
int server_open(const struct server_config *cfg, struct server **out, struct buf *errmsg);

/* Blocks SIGINT and SIGTERM in the calling thread and ignores SIGPIPE. */
void server_block_signals(void);

/* The layout for the banner: "1 set of 4 drives, EC 2+2". */
void server_describe(struct server *srv, struct buf *out);

/* The bound TCP port (after listening on port 0 in tests). */
int server_port(const struct server *srv);

/* Waits for SIGINT or SIGTERM; returns the signal number. */
int server_wait(struct server *srv);

/* Why server_wait() returned: a signal, or the admin API's service stop or restart. */
enum server_exit {
    SERVER_EXIT_SIGNAL = 0,
    SERVER_EXIT_STOP = 1,
    SERVER_EXIT_RESTART = 2,
};
enum server_exit server_exit_asked(struct server *srv);

/*
 * Graceful stop: stops accepting, lets in-flight requests finish (bounded
 * wait), then closes the object layer. Frees `srv`.
 */
void server_close(struct server *srv);

#endif

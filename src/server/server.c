/*
 * server/server.c: start-up and shutdown of one server. Order matters:
 * the object layer opens first (formats or checks the drives, self-checks
 * the codec), then the S3 layer over it, then the HTTP listener; shutdown
 * runs the other way, so that no request ever reaches a closed layer.
 *
 * Threads: libmicrohttpd's polling thread and one thread per connection
 * (request handlers, blocking); the object layer's own I/O workers,
 * committers and heal worker. The main thread only waits for a signal.
 */
#include "util/base.h"

#include "server/server.h"

#include <pthread.h>
#include <signal.h>

#include "http/http.h"
#include "obs/log.h"
#include "object/objlayer.h"
#include "s3/s3.h"
#include "util/err.h"

struct server {
    struct objlayer *ol;
    struct s3 *s3;
    struct http_server *http;
};

void
server_block_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int
server_open(const struct server_config *cfg, struct server **out, struct buf *errmsg)
{
    struct server *srv = xcalloc(1, sizeof(*srv));
    struct objlayer_config oc = { .drives = cfg->drives,
                                  .ndrives = cfg->ndrives,
                                  .sync = cfg->sync,
                                  .stale_upload_ns = cfg->stale_upload_ns };
    struct s3_config sc = { .region = cfg->region,
                            .root_user = cfg->root_user,
                            .root_password = cfg->root_password,
                            .max_memory = cfg->max_memory,
                            .domains = cfg->domains,
                            .ndomains = cfg->ndomains,
                            .path_prefix = cfg->path_prefix };
    struct http_config hc = { .address = cfg->address,
                              .idle_timeout = cfg->idle_timeout,
                              .header_limit = SERVER_HEADER_LIMIT };
    int rc;

    log_set_node(cfg->address); /* before any thread: every log line names this node */
    /* Bind first: a busy port is reported before the drives are touched. */
    rc = http_server_listen(&hc, &srv->http, errmsg);
    if (rc < 0)
        goto out_free;
    rc = objlayer_open(&oc, &srv->ol, errmsg);
    if (rc < 0)
        goto out_stop_http;
    sc.ol = srv->ol;
    srv->s3 = s3_new(&sc);
    rc = http_server_start(srv->http, s3_handle, srv->s3, errmsg);
    if (rc < 0)
        goto out_close;
    *out = srv;
    return 0;
out_close:
    s3_free(srv->s3);
    objlayer_close(srv->ol);
out_stop_http:
    http_server_stop(srv->http);
out_free:
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
    while (sigwait(&set, &sig) != 0)
        ;
    return sig;
}

void
server_close(struct server *srv)
{
    if (!srv)
        return;
    http_server_stop(srv->http);
    s3_free(srv->s3);
    objlayer_close(srv->ol);
    free(srv);
}

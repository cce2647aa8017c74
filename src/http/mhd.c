/*
 * http/mhd.c: the libmicrohttpd engine of http/ (internal.h, struct
 * http_engine; http.h has the request model).
 *
 * libmicrohttpd runs in thread-per-connection mode with an internal polling
 * thread: each connection thread calls on_access() for a request, first
 * with the headers, then with body pieces, then once more at the end of the
 * body; the handler below it blocks on drive I/O in that thread.
 *
 * Raw URI: the URI log callback sees the request target exactly as sent
 * (SigV4 needs it), so it creates the request there and keeps a copy; the
 * unescape callback is a no-op so that libmicrohttpd never rewrites it.
 *
 * When to queue the response: libmicrohttpd refuses to read a body (and
 * closes the connection after the reply) once a response is queued on the
 * first call. That is what we want for a request refused before its body
 * (bad signature: no "100 Continue", no upload); for a request without a
 * body the response is kept until the final call, so keep-alive survives.
 *
 * Its parser is lenient where RFC 9112 allows (obs-fold unfolded, a bare
 * LF taken for CRLF, a value cut at NUL) and answers an invalid
 * Content-Length twice; Basalt never sees those bytes (front.c does).
 */
#include "util/base.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/internal.h"
#include "http/tls.h"
#include "obs/log.h"
#include "util/clock.h"
#include "util/err.h"

#define HTTP_STREAM_BLOCK (256 * 1024)

/* The connection's peer address as text. */
static void
peer_address(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    http__peer_text(ci ? ci->client_addr : NULL, out, cap);
}

/* The connection's guard record (on_connection), or NULL. */
static struct guard_conn *
conn_guard(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

static void *
on_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *srv = cls;
    char remote[48];

    peer_address(conn, remote, sizeof(remote));
    guard_request_line(conn_guard(conn));
    return http__req_new(srv, slice_cstr(uri), remote, clock_mono_ns());
}

static size_t
on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    return strlen(s);
}

struct header_fill {
    struct http_req *req;
    size_t cap;
};

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
             const char *value, size_t value_size)
{
    ((struct header_fill *)cls)->cap++;
    return MHD_YES;
}

static enum MHD_Result
add_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
           size_t value_size)
{
    struct header_fill *f = cls;
    struct http_req *req = f->req;

    if (req->nheaders == f->cap)
        return MHD_NO;
    req->headers[req->nheaders].name = slice_make(key, key_size);
    req->headers[req->nheaders].value = slice_make(value ? value : "", value ? value_size : 0);
    req->header_bytes += key_size + (value ? value_size : 0);
    req->nheaders++;
    return MHD_YES;
}

static void
req_read_headers(struct http_server *srv, struct http_req *req, struct MHD_Connection *conn,
                 const char *method)
{
    struct header_fill f = { req, 0 };

    req->method = slice_make(arena_strdup(req->arena, method), strlen(method));
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, count_header, &f);
    req->headers = arena_alloc(req->arena, (f.cap + 1) * sizeof(*req->headers));
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, add_header, &f);
    http__req_headers_done(srv, req);
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct http_resp *r = cls;
    ssize_t n;

    if (pos >= r->size || !r->fn)
        return MHD_CONTENT_READER_END_OF_STREAM;
    n = r->fn(r->arg, pos, buf, MIN(max, r->size - pos));
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (r->sent)
        *r->sent += (uint64_t)n;
    return n;
}

static void
stream_free(void *cls)
{
    struct http_resp *r = cls;

    if (r->free_fn)
        r->free_fn(r->arg);
    free(r);
}

/*
 * Builds the MHD response. Ownership of the body (or of the stream's
 * argument) moves to libmicrohttpd, so the arena cleanup is cancelled.
 */
static struct MHD_Response *
resp_build(struct http_req *req, struct http_resp *r)
{
    struct MHD_Response *mr;
    struct http_resp *copy;

    arena_cancel(req->arena, r->free_handle);
    if (r->kind == RESP_BUF) {
        if (!r->body)
            return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        mr = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
        BUG_ON(!mr);
        return mr;
    }
    /* The stream outlives the request's arena: give it its own copy. */
    copy = xmemdup(r, sizeof(*r));
    copy->headers = NULL;
    copy->sent = &req->_bytes_out;
    /* libmicrohttpd allocates and clears the block for each response: keep it small for
     * small bodies. */
    mr = MHD_create_response_from_callback(r->size,
                                           (size_t)MIN(MAX(r->size, 4096), HTTP_STREAM_BLOCK),
                                           stream_read, copy, stream_free);
    BUG_ON(!mr);
    return mr;
}

static enum MHD_Result
resp_queue(struct MHD_Connection *conn, struct http_req *req)
{
    struct http_resp *r = req->_resp;
    struct MHD_Response *mr;
    struct resp_header *h;
    enum MHD_Result ret;

    if (!http_resp_is_set(req))
        http_resp_empty(req, 500);
    r = req->_resp;
    mr = resp_build(req, r);
    MHD_add_response_header(mr, "Server", "Basalt");
    MHD_add_response_header(mr, "x-amz-request-id", req->id);
    MHD_add_response_header(mr, "x-amz-id-2", req->id);
    /*
     * libmicrohttpd refuses an empty value; a lone space is optional
     * whitespace that every HTTP client strips, so the header still arrives,
     * empty (S3 returns x-amz-meta-* stored with an empty value).
     */
    for (h = r->headers; h; h = h->next)
        MHD_add_response_header(mr, h->name, h->value[0] ? h->value : " ");
    req->_queued_ns = clock_mono_ns();
    ret = MHD_queue_response(conn, r->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

/* ---- libmicrohttpd callbacks ---- */

static enum MHD_Result
first_call(struct http_server *srv, struct MHD_Connection *conn, struct http_req *req,
           const char *method, const char *version)
{
    struct guard_conn *gc = conn_guard(conn);

    guard_headers_done(gc);
    req_read_headers(srv, req, conn, method);
    if (http__req_refused(srv, req, gc, strcmp(version, "HTTP/1.0") == 0))
        return resp_queue(conn, req);
    srv->handler(srv->arg, req);
    if (http_resp_is_set(req)) {
        /* Answered from the headers: with a body pending, answer now and
         * never read it; without a body, wait for the final call. */
        if (http__req_has_body(req))
            return resp_queue(conn, req);
        return MHD_YES;
    }
    if (!req->_expects_body)
        http_resp_empty(req, 500);
    return MHD_YES;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct http_req *req = *con_cls;

    if (!req) /* no URI log call: cannot happen with the option set */
        return MHD_NO;
    if (!req->_headers_done)
        return first_call(srv, conn, req, method, version);
    if (*upload_data_size) {
        req->_bytes_in += *upload_data_size;
        if (req->_body_rc == 0 && req->_on_body && !http_resp_is_set(req))
            req->_body_rc = req->_on_body(req, upload_data, *upload_data_size);
        else
            req->_discarded += *upload_data_size;
        *upload_data_size = 0;
        /* Discarding a body lets us answer; past a bound, drop the connection instead. */
        return req->_discarded > HTTP_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (!http_resp_is_set(req) && req->_on_end)
        req->_on_end(req);
    return resp_queue(conn, req);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct http_req *req = *con_cls;

    if (!req)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        log_info(&(struct log_ctx){ .request_id = req->id }, "request terminated early (%d)",
                 (int)toe);
    *con_cls = NULL;
    http__req_finish(srv, req, conn_guard(conn), toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
}

static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct http_server *srv = cls;

    return guard_admit(srv->guard, addr) ? MHD_YES : MHD_NO;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    const union MHD_ConnectionInfo *ci, *ai;
    int one = 1;

    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        guard_conn_close(srv->guard, *socket_context);
        *socket_context = NULL;
        return;
    }
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    /* Never let a response wait on Nagle's algorithm (DESIGN.md Concurrency). */
    (void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ai = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    *socket_context = guard_conn_open(srv->guard, ci->connect_fd, ai ? ai->client_addr : NULL);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct buf b = BUF_INIT;

    buf_vaddf(&b, fmt, ap);
    while (b.len && b.ptr[b.len - 1] == '\n')
        buf_setlen(&b, b.len - 1);
    log_warn(&(struct log_ctx){ .event = "http_error" }, "libmicrohttpd: %s", b.ptr);
    buf_release(&b);
}

/* ---- start and stop ---- */

static int
mhd_start(struct http_server *srv, struct buf *errmsg)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem tls[TLS_MHD_OPTIONS] = { { MHD_OPTION_END, 0, NULL } };

    if (srv->family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (srv->tls) {
        flags |= MHD_USE_TLS;
        tls_certs_options(srv->tls, srv->listen_fd, tls);
    }
    /* The logger first, so that libmicrohttpd never writes to stderr itself. */
    /* libmicrohttpd's own connection limit is left above the guard's, which counts refusals */
    srv->daemon = MHD_start_daemon(
        flags, 0, on_accept, srv, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_LISTEN_SOCKET, srv->listen_fd, MHD_OPTION_URI_LOG_CALLBACK, on_uri_log, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)srv->cfg.idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)srv->cfg.header_limit, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)(srv->cfg.max_connections + 64), MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!srv->daemon) {
        buf_addf(errmsg, "cannot start the HTTP server on %s", srv->address);
        return -ERR_IO;
    }
    return 0;
}

static void
mhd_stop(struct http_server *srv)
{
    MHD_socket fd;

    if (!srv->daemon) {
        close(srv->listen_fd);
        return;
    }
    /* Stop accepting, let in-flight requests finish (bounded), then stop. */
    fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    http__wait_inflight(srv);
    MHD_stop_daemon(srv->daemon);
}

const struct http_engine http__engine_mhd = {
    .name = "mhd",
    .start = mhd_start,
    .stop = mhd_stop,
};

/*
 * http/http.h: the HTTP/1.1 server (DESIGN.md "http/"). Upper layers (s3/)
 * see only `struct http_req` and the response builder below, never an
 * engine's type.
 *
 * Model: handlers block (DESIGN.md Concurrency), on a connection thread
 * of libmicrohttpd (the default engine) or on a worker of Basalt's own
 * front (http_config.engine). For each request:
 *
 *   1. headers complete -> cfg.handler(arg, req) on the connection thread.
 *      The handler either answers at once (http_resp_*; e.g. an error or a
 *      request without a body: the body, if any, is then never read and
 *      no "100 Continue" is sent), or calls http_req_expect_body() to
 *      receive the body (then "100 Continue" is sent if the client asked).
 *   2. body pieces -> on_body(req, data, n), any sizes (chunked bodies are
 *      decoded). After on_body fails, the rest of the body
 *      is read and discarded (at most 64 MiB: past that the connection is
 *      closed without an answer).
 *   3. end of body -> on_end(req): must answer (http_resp_*).
 *   4. request complete, or connection closed mid-request -> the done
 *      hook (http_req_on_done), if the handler set one, then the request's
 *      arena is freed, running its deferred cleanups: a streaming PUT that
 *      did not finish is aborted there.
 *
 * Every response carries `x-amz-request-id`, `x-amz-id-2`, `Server: Basalt`
 * and `Date` (RFC 1123).
 */
#ifndef BASALT_HTTP_HTTP_H
#define BASALT_HTTP_HTTP_H

#include "util/base.h"

#include "util/arena.h"
#include "util/buf.h"
#include "util/slice.h"

#define HTTP_REQUEST_ID_LEN 16

struct http_server;
struct http_req;

/* A request header or query parameter; slices borrowed for the request's life. */
struct http_header {
    struct slice name;
    struct slice value;
};

typedef void http_handler_fn(void *arg, struct http_req *req);
/* Returns 0 to go on, or a negative error: the rest of the body is discarded. */
typedef int http_body_fn(struct http_req *req, const void *data, size_t n);
typedef void http_end_fn(struct http_req *req);

/* What http/ knows of a request when it completes (step 4), for metrics and audit. */
struct http_done {
    unsigned status;     /* the response's status; 0 when none was made (connection closed) */
    bool completed;      /* the response was sent completely */
    uint64_t bytes_in;   /* body bytes read (chunked encoding removed), discarded ones too */
    uint64_t bytes_out;  /* body bytes given to the connection (all of them when completed) */
    int64_t duration_ns; /* from the request line to completion */
    int64_t ttfb_ns;     /* from the request line to the response queued (first byte); 0: none */
};
typedef void http_done_fn(struct http_req *req, const struct http_done *done);

/*
 * A streamed response body: read up to `n` bytes at offset `off` of the
 * body into `dst`; returns the bytes read, 0 at the end, < 0 on error (the
 * connection is closed). `free_fn(arg)` runs once when the response is
 * destroyed, whether or not it was sent completely.
 */
typedef ssize_t http_stream_fn(void *arg, uint64_t off, void *dst, size_t n);
typedef void http_stream_free_fn(void *arg);

struct http_req {
    struct slice method; /* "GET" */
    struct slice path;   /* raw, still percent-encoded: "/b/my%20key" */
    struct slice query;  /* raw, without '?': "list-type=2&prefix=a%2F" */
    struct http_header *headers;
    size_t nheaders;
    size_t header_bytes;        /* sum of the names' and values' lengths */
    struct http_header *params; /* query parameters, percent-decoded */
    size_t nparams;
    bool query_ok;          /* false if a parameter had a malformed escape */
    int64_t content_length; /* -1 when absent (chunked or no body) */
    bool is_head;
    struct arena *arena; /* freed when the request completes */
    char id[HTTP_REQUEST_ID_LEN + 1];
    int64_t start_ns; /* clock_mono_ns() when the request line arrived */
    char remote[48];  /* the peer's address ("127.0.0.1", "::1"); "" when unknown */
    /*
     * The client's address: the peer's, or, when the peer is a trusted
     * proxy (http_config.trusted_proxies), the right-most address of
     * X-Forwarded-For that is not itself a trusted proxy, else X-Real-IP.
     * A forwarded header from any other peer is ignored: a client cannot
     * claim another address.
     */
    char client[48];
    const char *forwarded; /* that X-Forwarded-For / X-Real-IP as sent; NULL: none used */
    /* came over TLS, or from a trusted proxy that says X-Forwarded-Proto: https */
    bool secure;
    void *ctx; /* the handler's per-request state */
    /* internal: */
    http_body_fn *_on_body;
    http_end_fn *_on_end;
    int _body_rc;
    uint64_t _discarded; /* body bytes read and dropped after _body_rc */
    struct http_resp *_resp;
    bool _headers_done;
    bool _client_entered; /* holds one of its proxied client's request slots */
    bool _expects_body;
    http_done_fn *_on_done;
    uint64_t _bytes_in, _bytes_out;
    int64_t _queued_ns; /* clock_mono_ns() when the response was queued */
};

/* What serves the connections (internal.h, struct http_engine). */
enum http_engine_id {
    HTTP_ENGINE_MHD,    /* libmicrohttpd, a thread per connection (the default) */
    HTTP_ENGINE_BASALT, /* Basalt's own: an epoll thread, a pool of workers (http/front.c) */
};

struct http_config {
    const char *address;   /* "HOST:PORT"; "[::1]:9000" for IPv6 */
    unsigned idle_timeout; /* seconds without a byte before a connection is closed */
    size_t header_limit;   /* bytes of connection memory (header size limit; 431 past it) */
    /* open connections past which new ones are refused at once (0: from RLIMIT_NOFILE) */
    unsigned max_connections;
    /* connections per client address (0: a quarter of max_connections; UINT_MAX: none) */
    unsigned max_per_address;
    unsigned header_timeout;     /* seconds to send a request's headers (0: 10) */
    const char *trusted_proxies; /* "10.0.0.0/8,::1": proxies that name the client; copied */
    const char *certs_dir; /* HTTPS with the certificates of this folder (http/tls.h); NULL: HTTP */
    enum http_engine_id engine;
};

/* The front's counters (http_server_stats). */
struct http_stats {
    uint64_t open;             /* connections open now */
    uint64_t accepted;         /* connections accepted since start */
    uint64_t refused_limit;    /* refused: max_connections open */
    uint64_t refused_address;  /* refused: max_per_address open from the address */
    uint64_t refused_requests; /* requests answered 503: a proxied client over its limit */
    uint64_t header_timeouts;  /* connections closed at the header deadline */
    uint64_t bad_framing;      /* requests refused for their framing (400, 501) */
    unsigned max_connections, max_per_address, header_timeout; /* in force */
};

/*
 * Loads the certificates of cfg->certs_dir, if set, then binds and listens
 * on cfg->address, without serving yet (so that a busy port or a bad
 * certificate is found before anything slow starts). Returns 0 and `*out`,
 * or -ERR_INVAL (bad address, bad certificate or key), -ERR_EXISTS (address
 * in use), -ERR_NOT_FOUND (no certificate or key file), -ERR_IO, with the
 * reason in `errmsg`. `cfg` is copied.
 */
int http_server_listen(const struct http_config *cfg, struct http_server **out, struct buf *errmsg);
/*
 * Starts serving on the bound socket with `handler(arg, req)`. Returns 0, or
 * -ERR_IO with the reason in `errmsg` (the server is then only freed by
 * http_server_stop).
 */
int http_server_start(struct http_server *srv, http_handler_fn *handler, void *arg,
                      struct buf *errmsg);
void http_server_stats(struct http_server *srv, struct http_stats *out);
struct metrics;
/*
 * Registers the front's series (basalt_http_connections...: docs/metrics.md)
 * in `m`, read from http_server_stats() at each scrape. `srv` must outlive
 * the scrapes of `m`.
 */
void http_server_metrics_register(struct http_server *srv, struct metrics *m);
/*
 * Loads the certificates of cfg->certs_dir again: handshakes from now on
 * use them; open connections are not touched. On error the certificates in
 * use stay and the reason is in `errmsg`. 0 without TLS. Any thread.
 */
int http_server_reload_certs(struct http_server *srv, struct buf *errmsg);
bool http_server_is_tls(const struct http_server *srv);
/* The bound TCP port (useful after listening on port 0 in tests). */
int http_server_port(const struct http_server *srv);
/*
 * Stops accepting, waits (bounded) for in-flight requests to finish, stops
 * the connection threads and frees the server. Accepts a server that was
 * never started.
 */
void http_server_stop(struct http_server *srv);

/* Case-insensitive header lookup; returns false if absent (`*out` unchanged). */
bool http_req_header(const struct http_req *req, const char *name, struct slice *out);
/* Query parameter lookup (exact name); a parameter without '=' has an empty value. */
bool http_req_param(const struct http_req *req, const char *name, struct slice *out);
bool http_req_has_param(const struct http_req *req, const char *name);

/* Asks for the body: step 2 and 3 above. Call from the handler only. */
void http_req_expect_body(struct http_req *req, http_body_fn *on_body, http_end_fn *on_end);

/*
 * Sets the hook run once when the request completes or its connection
 * closes (step 4), on the connection thread, before the arena is freed: the
 * request and its ctx are still valid there. Call from the handler only.
 */
void http_req_on_done(struct http_req *req, http_done_fn *fn);

/*
 * The response builder. http_resp_header copies name and value into the
 * request's arena. Exactly one of http_resp_buf / http_resp_stream /
 * http_resp_empty ends the response; later calls are ignored.
 */
void http_resp_header(struct http_req *req, const char *name, const char *value);
/* A body from memory; takes ownership of `body`'s bytes (`body` is left empty). */
void http_resp_buf(struct http_req *req, unsigned status, struct buf *body);
void http_resp_empty(struct http_req *req, unsigned status);
/*
 * A streamed body of `size` bytes, read by `fn` on the connection thread
 * after the handler returned. For HEAD, the Content-Length is `size` and `fn`
 * is never called (`fn` and `free_fn` may then be NULL). Takes ownership of
 * `arg`: free_fn(arg) runs exactly once, also if the response is never sent.
 */
void http_resp_stream(struct http_req *req, unsigned status, uint64_t size, http_stream_fn *fn,
                      http_stream_free_fn *free_fn, void *arg);
bool http_resp_is_set(const struct http_req *req);

/* Parses "a=1&b&c=%2F" into decoded pairs in `a`. Returns false on a malformed escape. */
bool http_parse_query(struct arena *a, struct slice query, struct http_header **out, size_t *n);

#endif

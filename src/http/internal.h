/*
 * http/internal.h: what the files of http/ share: the server and response
 * structs and the request steps common to both engines (http.c), the
 * engines themselves (mhd.c: libmicrohttpd; front.c: Basalt's own), and
 * the parts tests and fuzz targets reach: the strict head parser
 * (parse.c), request framing (framing.c) and the connection guard
 * (guard.c).
 */
#ifndef BASALT_HTTP_INTERNAL_H
#define BASALT_HTTP_INTERNAL_H

#include "util/base.h"

#include <stdatomic.h>
#include <sys/socket.h>

#include "http/http.h"
#include "util/netaddr.h"

/* ---- framing.c: where a request ends (RFC 9112 section 6) ---- */

struct http_framing {
    int64_t content_length; /* -1: none */
    bool chunked;           /* Transfer-Encoding: chunked */
};

/*
 * Checks a request's header section as received (every field, duplicates
 * included, in order) before any body byte is read. Returns 0 and `*out`,
 * or the status to answer (400, or 501 for a transfer coding Basalt does
 * not implement) with the reason in `*why` (a static string); the
 * connection must then be closed, since where the request ends is unknown.
 */
unsigned http_framing_check(const struct http_header *h, size_t n, bool http10,
                            struct http_framing *out, const char **why);

/* ---- http.c: the server and the request steps both engines share ---- */

#define HTTP_DISCARD_MAX (64ull << 20) /* body bytes read after a body error */
#define HTTP_STOP_WAIT_MS 30000        /* http_server_stop's wait for in-flight requests */

struct MHD_Daemon;
struct front;
struct guard;
struct guard_conn;
struct metric;
struct netmask;

enum resp_kind { RESP_BUF, RESP_STREAM };

struct resp_header {
    struct resp_header *next;
    const char *name;
    const char *value;
};

struct http_resp {
    unsigned status;
    enum resp_kind kind;
    struct resp_header *headers; /* in reverse order of addition */
    char *body;                  /* RESP_BUF: malloc'd, or NULL */
    size_t body_len;
    uint64_t size; /* RESP_STREAM */
    http_stream_fn *fn;
    http_stream_free_fn *free_fn;
    void *arg;
    void *free_handle; /* arena cleanup that frees `arg` until the engine owns it */
    /* RESP_STREAM: the request's bytes_out; the reader runs only before the request completes */
    uint64_t *sent;
};

struct http_server {
    struct http_config cfg;
    char *address; /* cfg.address points here */
    int family;    /* of the listening socket */
    int listen_fd;
    const struct http_engine *engine;
    struct MHD_Daemon *daemon; /* mhd.c */
    struct front *front;       /* front.c */
    http_handler_fn *handler;
    void *arg;
    atomic_uint_fast64_t next_id;
    atomic_int inflight; /* requests between http__req_new and http__req_finish */
    struct guard *guard;
    struct netmask *proxies; /* trusted_proxies */
    size_t nproxies;
    atomic_uint_fast64_t bad_framing;
    struct metric *m_open, *m_max, *m_accepted, *m_refused, *m_requests_refused, *m_timeouts;
    struct tls_certs *tls; /* HTTPS when cfg.certs_dir is set (http/tls.h) */
};

/*
 * An engine: what serves the connections of a listening socket. start()
 * serves srv->listen_fd with srv->handler; stop() stops accepting, waits
 * up to HTTP_STOP_WAIT_MS for in-flight requests, ends every connection
 * and thread and closes srv->listen_fd (also when start() was never
 * called or failed).
 */
struct http_engine {
    const char *name;
    int (*start)(struct http_server *srv, struct buf *errmsg);
    void (*stop)(struct http_server *srv);
};

extern const struct http_engine http__engine_mhd;   /* mhd.c */
extern const struct http_engine http__engine_front; /* front.c */

/*
 * A request whose request line arrived at `start_ns` from `remote` (text,
 * may be ""), for `target` as sent (path and query are split and copied).
 * Counted in flight until http__req_finish.
 */
struct http_req *http__req_new(struct http_server *srv, struct slice target, const char *remote,
                               int64_t start_ns);
/* The headers are in req->headers: parses the query and names the client. */
void http__req_headers_done(struct http_server *srv, struct http_req *req);
/*
 * The front's checks once the headers are in: framing (framing.c) and a
 * proxied client's limit. Returns true when the request is refused: the
 * response is then set (with Connection: close for a framing error).
 */
bool http__req_refused(struct http_server *srv, struct http_req *req, struct guard_conn *gc,
                       bool http10);
/*
 * Sets an S3 error document as the response; `close`: with Connection:
 * close (where the request ends is unknown).
 */
void http__refuse(struct http_req *req, unsigned status, const char *code, const char *msg,
                  bool close);
bool http__req_has_body(const struct http_req *req);
/* Waits up to HTTP_STOP_WAIT_MS for the requests in flight to finish. */
void http__wait_inflight(struct http_server *srv);
/* The request completed (`ok`: its response was sent completely) or its connection closed:
 * the done hook, the client's slot, then the arena. */
void http__req_finish(struct http_server *srv, struct http_req *req, struct guard_conn *gc,
                      bool ok);
/* The peer address as text (IPv4-mapped IPv6 addresses as IPv4); "" if not IP. */
void http__peer_text(const struct sockaddr *sa, char *out, size_t cap);

/* ---- parse.c: the request head, strictly (RFC 9112 sections 2 to 5) ---- */

struct http_head {
    struct slice method; /* a token */
    struct slice target; /* visible bytes, as sent */
    bool http10;         /* HTTP/1.0 (else 1.1: a later 1.x is served as 1.1) */
    size_t nheaders;     /* field lines */
};

/*
 * Parses the request head at the start of buf[0..len), the bytes received
 * so far. Returns the head's length (through its final empty line) and
 * `*out` when it is complete and well formed, and then, if `h` is not
 * NULL, its fields in h[0..out->nheaders) as slices of `buf` (values
 * without their leading whitespace); 0 when more bytes are needed; or
 * -400, -414 (the request line is `limit` bytes or more), -431 (the head
 * is, or `h` has fewer than `cap` entries for it), -505 (not HTTP/1.x),
 * with the reason in `*why` (a static string). Refusals come as soon as
 * the offending byte is in `buf`. `*out` is written only on success.
 */
ssize_t http_head_parse(const char *buf, size_t len, size_t limit, struct http_header *h,
                        size_t cap, struct http_head *out, const char **why);

/*
 * A chunk-size line without its CRLF ("1a", "1a;name=value"): the size
 * in `*out`. False if it is not 1*HEXDIG (at most 15 digits) followed by
 * optional chunk extensions (ignored) free of control bytes.
 */
bool http_chunk_size(struct slice line, uint64_t *out);

bool http__is_tchar(unsigned char c);
/* `s` without leading and trailing spaces and tabs (OWS). */
struct slice http__trim_ows(struct slice s);

/* ---- guard.c: connection limits and the header deadline ---- */

struct guard_config {
    unsigned max_connections;      /* refused past this many open connections */
    unsigned max_per_address;      /* per client address; 0: no limit */
    unsigned header_timeout;       /* seconds from a request's first byte to its last header */
    const struct netmask *proxies; /* trusted proxies: exempt; their clients counted per request */
    size_t nproxies;
};

struct guard_stats {
    uint64_t open;             /* connections open now */
    uint64_t accepted;         /* since start */
    uint64_t refused_limit;    /* refused: max_connections reached */
    uint64_t refused_address;  /* refused: max_per_address reached */
    uint64_t refused_requests; /* requests refused: a proxied client over its limit */
    uint64_t header_timeouts;  /* connections closed at the header deadline */
};

struct guard;
struct guard_conn;

struct guard *guard_new(const struct guard_config *cfg);
/* Stops the deadline thread; every connection must have been closed. */
void guard_free(struct guard *g);
/* At accept: false (and counted) when the connection must be refused. */
bool guard_admit(struct guard *g, const struct sockaddr *sa);
/* The connection admitted last from `sa` starts; `fd` is its socket. */
struct guard_conn *guard_conn_open(struct guard *g, int fd, const struct sockaddr *sa);
void guard_conn_close(struct guard *g, struct guard_conn *c);
/* A request line arrived: its header deadline runs (unless already running). */
void guard_request_line(struct guard_conn *c);
/* The headers are complete: no deadline while the request is served. */
void guard_headers_done(struct guard_conn *c);
/* The request completed: the connection is idle (keep-alive) again. */
void guard_request_done(struct guard_conn *c);
/* Whether the connection's peer is a trusted proxy. */
bool guard_conn_proxied(const struct guard_conn *c);
/*
 * A proxied request from `client` starts: false (counted) if that client
 * already has max_per_address requests in flight; else guard_client_leave()
 * must follow.
 */
bool guard_client_enter(struct guard *g, const struct netaddr *client);
void guard_client_leave(struct guard *g, const struct netaddr *client);
void guard_get_stats(struct guard *g, struct guard_stats *out);
/* A connection closed at the header deadline by an engine that keeps it itself (front.c). */
void guard_count_header_timeout(struct guard *g);

#endif

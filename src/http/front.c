/*
 * http/front.c: Basalt's own HTTP/1.1 engine (`--http-engine basalt`;
 * internal.h, struct http_engine; http.h has the request model).
 *
 * Two kinds of threads:
 *
 * - the loop thread ("http-front", one epoll set) accepts connections
 *   (the guard's limits), holds idle keep-alive connections and reads
 *   request heads, checking each with the strict parser (parse.c) as bytes
 *   arrive; it keeps the idle timeout and the header deadline (from a
 *   head's first byte, however slowly it trickles) with a walk of its
 *   connections every FRONT_TICK_MS;
 * - workers ("http-worker") take a connection whose head is complete (or
 *   wrong), and serve it as http.h says: the handler, "100 Continue" when
 *   asked and the handler wants the body, the body (Content-Length or
 *   chunked) in on_body pieces, the response with blocking writes (each
 *   with the idle timeout as deadline); then requests already received
 *   (pipelined), and the connection goes back to the loop. Handlers block
 *   on drive and network I/O, so the pool grows on demand (a queued
 *   connection and no idle worker: one more, up to max_connections) and a
 *   worker idle for FRONT_WORKER_IDLE_S exits: no request waits behind
 *   another's upload, and node-to-node calls cannot deadlock the pool.
 *
 * A connection is owned by the loop or by one worker (c->busy, set and
 * cleared by the loop; handed over under f->lock), never both. Its socket
 * stays non-blocking; a worker waits with poll(). An idle connection costs
 * its struct conn and the guard's record: its read buffer is allocated
 * when bytes arrive and freed when none are left.
 *
 * TLS (--certs-dir): a GnuTLS session per connection on the same
 * certificates and SNI callback as libmicrohttpd's (tls.c). The handshake
 * runs on the loop thread, non-blocking, within the header deadline; reads
 * and writes go through the session (conn_recv, send_some). GnuTLS may
 * hold decrypted bytes that epoll cannot see: the loop reads them before
 * it waits again (gnutls_record_check_pending).
 */
#include "util/base.h"

#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "http/internal.h"
#include "http/tls.h"
#include "obs/log.h"
#include "util/clock.h"
#include "util/err.h"

#define FRONT_TICK_MS 250
#define FRONT_SCRATCH (64 * 1024)       /* the loop's reads */
#define FRONT_READ_BLOCK (128 * 1024)   /* a worker's reads of a body */
#define FRONT_STREAM_BLOCK (256 * 1024) /* a streamed response's pieces */
#define FRONT_LINE_MAX 4096             /* a chunk-size or trailer line */
#define FRONT_TRAILERS_MAX (64 * 1024)  /* the trailer section of a chunked body */
#define FRONT_LINGER_MS 2000            /* reading what a client still sends before a close */
#define FRONT_WORKER_IDLE_S 30          /* an idle worker exits */
#define FRONT_NEXT_WAIT_MS 2            /* a worker waits this long for the next request */
#define FRONT_MIN_HEADER_LIMIT 4096

struct conn {
    struct conn *prev, *next; /* f->conns, under f->lock */
    struct conn *qnext;       /* f->queue or f->back, under f->lock */
    int fd;
    struct guard_conn *gc;
    char remote[48];
    char *in; /* received and not yet used: in[pos..len); NULL when idle */
    size_t pos, len, cap;
    int64_t first_ns;     /* the first byte of the head being received; 0: none */
    int64_t last_ns;      /* the last byte received, or the last request done */
    ssize_t head;         /* http_head_parse's answer when handed to a worker */
    bool busy;            /* with a worker; loop thread only */
    bool close;           /* handed back to be closed */
    gnutls_session_t tls; /* NULL: plain HTTP */
    bool handshaken;
};

struct front {
    struct http_server *srv;
    int ep, evfd;
    size_t limit; /* the header limit */
    pthread_t loop;
    bool loop_started;
    bool listen_off; /* loop only: out of descriptors, accept paused until the tick */
    atomic_bool stopping;
    pthread_mutex_t lock;
    struct conn conns;          /* every open connection (circular), under lock */
    struct conn *queue, *qtail; /* heads complete, for a worker */
    size_t nqueued;
    struct conn *back; /* handed back to the loop */
    pthread_cond_t work, exited;
    unsigned nthreads, nidle, max_threads;
    char scratch[FRONT_SCRATCH]; /* loop only */
};

/* epoll tags for the two descriptors that are not connections */
static char tag_listen, tag_event;

/* ---- connections: buffers, reads and writes ---- */

/* Room for `n` more bytes at in[len]. */
static void
in_reserve(struct conn *c, size_t n)
{
    if (c->pos == c->len)
        c->pos = c->len = 0;
    if (c->cap - c->len >= n)
        return;
    if (c->pos) {
        memmove(c->in, c->in + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->cap - c->len < n) {
        c->cap = MAX(c->len + n, c->cap * 2);
        c->in = xrealloc(c->in, c->cap);
    }
}

static void
in_release(struct conn *c)
{
    free(c->in);
    c->in = NULL;
    c->pos = c->len = c->cap = 0;
}

static int
timeout_ms(const struct front *f)
{
    return (int)MIN((uint64_t)f->srv->cfg.idle_timeout * 1000, INT32_MAX);
}

/* Waits until `fd` is ready for `events`, at most the idle timeout. */
static bool
wait_ready(const struct front *f, int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    int n;

    do {
        n = poll(&p, 1, f->srv->cfg.idle_timeout ? timeout_ms(f) : -1);
    } while (n < 0 && errno == EINTR);
    return n > 0;
}

/* One read: the bytes, 0 at the end of the stream, -1 with errno (EAGAIN: nothing yet). */
static ssize_t
conn_recv(struct conn *c, void *dst, size_t n)
{
    ssize_t r;

    if (!c->tls)
        return read(c->fd, dst, n);
    r = gnutls_record_recv(c->tls, dst, n);
    if (r >= 0)
        return r;
    if (r == GNUTLS_E_PREMATURE_TERMINATION)
        return 0;
    errno = r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ? EAGAIN : EIO;
    return -1;
}

/* One write of what `m` holds (its first piece only over TLS); as sendmsg(). */
static ssize_t
send_some(struct conn *c, struct msghdr *m, bool more)
{
    ssize_t r;

    if (!c->tls)
        return sendmsg(c->fd, m, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    r = gnutls_record_send(c->tls, m->msg_iov->iov_base, m->msg_iov->iov_len);
    if (r >= 0)
        return r;
    errno = r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ? EAGAIN : EIO;
    return -1;
}

/*
 * A worker's read into c->in (room for a body block). Returns the bytes
 * read, 0 at end of stream, -1 on error or at the idle timeout.
 */
static ssize_t
conn_fill(struct front *f, struct conn *c)
{
    ssize_t n;

    in_reserve(c, FRONT_READ_BLOCK);
    for (;;) {
        n = conn_recv(c, c->in + c->len, c->cap - c->len);
        if (n > 0) {
            c->len += (size_t)n;
            return n;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN || !wait_ready(f, c->fd, POLLIN))
            return -1;
    }
}

/* Writes every byte of `iov`; `more`: more follows at once (MSG_MORE). */
static bool
conn_write(struct front *f, struct conn *c, struct iovec *iov, int niov, bool more)
{
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)niov };
    ssize_t n;

    while (m.msg_iovlen) {
        n = send_some(c, &m, more);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN || !wait_ready(f, c->fd, POLLOUT))
                return false;
            continue;
        }
        while (m.msg_iovlen && (size_t)n >= m.msg_iov->iov_len) {
            n -= (ssize_t)m.msg_iov->iov_len;
            m.msg_iov++;
            m.msg_iovlen--;
        }
        if (m.msg_iovlen) {
            m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + n;
            m.msg_iov->iov_len -= (size_t)n;
        }
    }
    return true;
}

/*
 * Before closing a connection that may still be sending (a body never
 * read): stop writing, and read what comes for a while, so that the
 * close does not reset the connection before the client read the answer.
 */
static void
conn_linger(struct front *f, struct conn *c)
{
    int64_t end = clock_mono_ns() + (int64_t)FRONT_LINGER_MS * 1000000;
    uint64_t total = 0;
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    ssize_t n;

    if (c->tls)
        (void)gnutls_bye(c->tls, GNUTLS_SHUT_WR); /* close_notify, if it fits now */
    (void)shutdown(c->fd, SHUT_WR);
    in_reserve(c, FRONT_READ_BLOCK / 2);
    while (total < HTTP_DISCARD_MAX) {
        int64_t left = (end - clock_mono_ns()) / 1000000;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        n = read(c->fd, c->in, c->cap);
        if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
            break;
        total += n > 0 ? (uint64_t)n : 0;
    }
    c->pos = c->len = 0;
}

/* ---- requests: bodies ---- */

static int
deliver(struct http_req *req, const char *p, size_t n)
{
    req->_bytes_in += n;
    if (req->_body_rc == 0 && req->_on_body && !http_resp_is_set(req))
        req->_body_rc = req->_on_body(req, p, n);
    else
        req->_discarded += n;
    /* Discarding a body lets us answer; past a bound, drop the connection instead. */
    return req->_discarded > HTTP_DISCARD_MAX ? -1 : 0;
}

static int
read_fixed(struct front *f, struct conn *c, struct http_req *req, uint64_t left)
{
    size_t n;

    while (left) {
        if (c->pos == c->len && conn_fill(f, c) <= 0)
            return -1;
        n = (size_t)MIN(left, c->len - c->pos);
        c->pos += n;
        left -= n;
        if (deliver(req, c->in + c->pos - n, n) < 0)
            return -1;
    }
    return 0;
}

/* A line ending in CRLF (bare LF refused), without it; valid until the next read. */
static int
read_line(struct front *f, struct conn *c, struct slice *line)
{
    size_t i, from = c->pos;

    for (;;) {
        for (i = from; i < c->len; i++) {
            if (c->in[i] != '\n')
                continue;
            if (i == c->pos || c->in[i - 1] != '\r')
                return -1;
            *line = slice_make(c->in + c->pos, i - 1 - c->pos);
            c->pos = i + 1;
            return 0;
        }
        if (c->len - c->pos > FRONT_LINE_MAX)
            return -1;
        from = c->len - c->pos; /* offsets move with the read below */
        if (conn_fill(f, c) <= 0)
            return -1;
        from += c->pos;
    }
}

static int
read_chunked(struct front *f, struct conn *c, struct http_req *req)
{
    struct slice line;
    uint64_t size;
    size_t trailers = 0;

    for (;;) {
        if (read_line(f, c, &line) < 0 || !http_chunk_size(line, &size))
            return -1;
        if (size == 0)
            break;
        if (read_fixed(f, c, req, size) < 0 || read_line(f, c, &line) < 0 || line.len)
            return -1;
    }
    do {
        if (read_line(f, c, &line) < 0)
            return -1;
        trailers += line.len + 2;
    } while (line.len && trailers <= FRONT_TRAILERS_MAX);
    return line.len ? -1 : 0;
}

static bool
has_token(const struct http_req *req, const char *name, const char *token)
{
    struct slice v, one;
    size_t i;

    for (i = 0; i < req->nheaders; i++) {
        if (!slice_case_eq_cstr(req->headers[i].name, name))
            continue;
        v = req->headers[i].value;
        while (v.ptr) {
            v = slice_split(v, ',', &one);
            if (slice_case_eq_cstr(http__trim_ows(one), token))
                return true;
        }
    }
    return false;
}

/* ---- requests: responses ---- */

static const char *
reason(unsigned status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 416:
        return "Range Not Satisfiable";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

static bool
is_field_text(const char *s)
{
    return !strpbrk(s, "\r\n");
}

/* The handler's headers in the order they were added; Connection and Content-Length are ours. */
static void
add_headers(struct buf *h, const struct resp_header *rh)
{
    if (!rh)
        return;
    add_headers(h, rh->next);
    if (!strcasecmp(rh->name, "connection") || !strcasecmp(rh->name, "content-length") ||
        !is_field_text(rh->name) || !is_field_text(rh->value))
        return;
    buf_addf(h, "%s: %s\r\n", rh->name, rh->value);
}

static void
build_head(struct http_req *req, bool close, bool http10, struct buf *h)
{
    struct http_resp *r = req->_resp;
    unsigned st = r->status;

    buf_addf(h, "HTTP/1.1 %u %s\r\nServer: Basalt\r\nx-amz-request-id: %s\r\nx-amz-id-2: %s\r\n",
             st, reason(st), req->id, req->id);
    buf_adds(h, "Date: ");
    clock_fmt_rfc1123(h, time(NULL));
    buf_adds(h, "\r\n");
    add_headers(h, r->headers);
    if (st >= 200 && st != 204 && st != 304)
        buf_addf(h, "Content-Length: %llu\r\n",
                 (unsigned long long)(r->kind == RESP_BUF ? r->body_len : r->size));
    if (close)
        buf_adds(h, "Connection: close\r\n");
    else if (http10)
        buf_adds(h, "Connection: keep-alive\r\n");
    buf_adds(h, "\r\n");
}

static bool
send_stream(struct front *f, struct conn *c, struct http_req *req, struct iovec *head)
{
    struct http_resp *r = req->_resp;
    size_t cap = (size_t)MIN(MAX(r->size, 4096), FRONT_STREAM_BLOCK);
    char *block = xmalloc(cap);
    uint64_t off = 0;
    bool ok = conn_write(f, c, head, 1, r->size > 0);
    struct iovec iov;
    ssize_t n;

    while (ok && off < r->size) {
        n = r->fn ? r->fn(r->arg, off, block, (size_t)MIN(cap, r->size - off)) : -1;
        if (n <= 0) { /* an error, or the body ended short: the client must see it */
            ok = false;
            break;
        }
        off += (uint64_t)n;
        req->_bytes_out += (uint64_t)n;
        iov = (struct iovec){ block, (size_t)n };
        ok = conn_write(f, c, &iov, 1, off < r->size);
    }
    free(block);
    return ok;
}

/* Sends the response; true when every byte went out. */
static bool
respond(struct front *f, struct conn *c, struct http_req *req, bool close, bool http10)
{
    struct http_resp *r = req->_resp;
    struct buf h = BUF_INIT;
    struct iovec iov[2];
    bool body = !req->is_head && r->status >= 200 && r->status != 204 && r->status != 304;
    bool ok;

    build_head(req, close, http10, &h);
    req->_queued_ns = clock_mono_ns();
    iov[0] = (struct iovec){ h.ptr, h.len };
    if (body && r->kind == RESP_STREAM) {
        ok = send_stream(f, c, req, iov);
    } else {
        iov[1] = (struct iovec){ r->body, body ? r->body_len : 0 };
        ok = conn_write(f, c, iov, iov[1].iov_len ? 2 : 1, false);
    }
    buf_release(&h);
    return ok;
}

/* ---- requests ---- */

/* A head the parser refused: answered, then the connection closes. */
static void
serve_bad_head(struct front *f, struct conn *c, int64_t start)
{
    struct http_server *srv = f->srv;
    struct http_req *req = http__req_new(srv, SLICE_NULL, c->remote, start);
    unsigned st = (unsigned)-c->head;
    struct http_head head;
    const char *why = "malformed request head";

    (void)http_head_parse(c->in + c->pos, c->len - c->pos, f->limit, NULL, 0, &head, &why);
    atomic_fetch_add(&srv->bad_framing, 1);
    log_info(&(struct log_ctx){ .request_id = req->id, .event = "bad_framing" },
             "refused a request from %s: %s", req->remote, why);
    http__refuse(req, st, st == 505 ? "HttpVersionNotSupported" : "BadRequest", why, true);
    c->pos = c->len;
    http__req_finish(srv, req, NULL, respond(f, c, req, true, false));
    conn_linger(f, c);
}

/* The request's head, copied into its arena, as req->headers. */
static struct http_req *
take_head(struct front *f, struct conn *c, int64_t start, bool *http10)
{
    size_t len = (size_t)c->head;
    struct http_head head;
    const char *why = NULL;
    struct http_req *req;
    char *raw;
    size_t i;

    (void)http_head_parse(c->in + c->pos, len, f->limit, NULL, 0, &head, &why);
    req = http__req_new(f->srv, head.target, c->remote, start);
    raw = arena_alloc(req->arena, len);
    memcpy(raw, c->in + c->pos, len);
    c->pos += len;
    req->headers = arena_alloc(req->arena, (head.nheaders + 1) * sizeof(*req->headers));
    (void)http_head_parse(raw, len, f->limit, req->headers, head.nheaders, &head, &why);
    req->nheaders = head.nheaders;
    for (i = 0; i < req->nheaders; i++)
        req->header_bytes += req->headers[i].name.len + req->headers[i].value.len;
    req->method = head.method;
    *http10 = head.http10;
    return req;
}

/* Serves the request whose head is at c->in[pos]. Returns whether the connection goes on. */
static bool
serve_one(struct front *f, struct conn *c)
{
    struct http_server *srv = f->srv;
    int64_t start = c->first_ns ? c->first_ns : clock_mono_ns();
    struct http_req *req;
    bool http10, refused, unread, close, ok;
    struct resp_header *h;
    struct slice v;

    c->first_ns = 0;
    if (c->head < 0) {
        serve_bad_head(f, c, start);
        return false;
    }
    req = take_head(f, c, start, &http10);
    http__req_headers_done(srv, req);
    refused = http__req_refused(srv, req, c->gc, http10);
    unread = http__req_has_body(req); /* until read: answered from the headers, it never is */
    if (!refused) {
        srv->handler(srv->arg, req);
        if (!http_resp_is_set(req) && req->_expects_body) {
            if (!http10 && http__req_has_body(req) && http_req_header(req, "expect", &v) &&
                slice_case_eq_cstr(http__trim_ows(v), "100-continue") &&
                !conn_write(f, c, &(struct iovec){ (void *)"HTTP/1.1 100 Continue\r\n\r\n", 25 }, 1,
                            false))
                goto out_broken;
            if (req->content_length >= 0  ? read_fixed(f, c, req, (uint64_t)req->content_length)
                : http__req_has_body(req) ? read_chunked(f, c, req)
                                          : 0)
                goto out_broken;
            unread = false;
            if (!http_resp_is_set(req) && req->_on_end)
                req->_on_end(req);
        }
    }
    if (!http_resp_is_set(req))
        http_resp_empty(req, 500);
    close = unread || has_token(req, "connection", "close") ||
            (http10 && !has_token(req, "connection", "keep-alive"));
    for (h = req->_resp->headers; h; h = h->next)
        close |= !strcasecmp(h->name, "connection") && !strcasecmp(h->value, "close");
    ok = respond(f, c, req, close, http10);
    http__req_finish(srv, req, c->gc, ok);
    if (close && ok)
        conn_linger(f, c);
    return ok && !close;
out_broken:
    log_info(&(struct log_ctx){ .request_id = req->id }, "request terminated early (body)");
    http__req_finish(srv, req, c->gc, false);
    return false;
}

/*
 * Whether the next request's bytes arrive within FRONT_NEXT_WAIT_MS of the
 * last response (read into c->in): a client that keeps its connection
 * busy is served on without a trip through the loop thread (two wake-ups
 * and an epoll_ctl per request); one that does not goes back to it.
 */
static bool
next_arrives(struct front *f, struct conn *c)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    ssize_t n;

    if (!(c->tls && gnutls_record_check_pending(c->tls)) && poll(&p, 1, FRONT_NEXT_WAIT_MS) <= 0)
        return false;
    in_reserve(c, FRONT_READ_BLOCK / 2);
    n = conn_recv(c, c->in + c->len, c->cap - c->len);
    if (n <= 0)
        return false; /* nothing after all, or closed: the loop finds out */
    c->len += (size_t)n;
    c->first_ns = clock_mono_ns();
    return true;
}

/* A worker's turn with `c`: its complete head, then the requests that follow at once. */
static void
serve(struct front *f, struct conn *c)
{
    struct http_head head;
    const char *why;
    bool keep;

    for (;;) {
        keep = serve_one(f, c);
        if (!keep)
            break;
        if (c->pos == c->len && !next_arrives(f, c))
            break;
        c->head = http_head_parse(c->in + c->pos, c->len - c->pos, f->limit, NULL, 0, &head, &why);
        if (c->head == 0) {
            if (!c->first_ns)
                c->first_ns = clock_mono_ns();
            break;
        }
    }
    if (c->pos == c->len)
        in_release(c);
    c->close = !keep;
    c->last_ns = clock_mono_ns();
}

/* ---- workers ---- */

static void *
worker_main(void *arg)
{
    struct front *f = arg;
    struct timespec ts;
    struct conn *c;
    uint64_t one = 1;
    int rc;

    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->queue && !atomic_load(&f->stopping)) {
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += FRONT_WORKER_IDLE_S;
            f->nidle++;
            rc = pthread_cond_timedwait(&f->work, &f->lock, &ts);
            f->nidle--;
            if (rc == ETIMEDOUT && !f->queue)
                goto out;
        }
        c = f->queue;
        if (!c)
            break;
        f->queue = c->qnext;
        f->nqueued--;
        pthread_mutex_unlock(&f->lock);
        serve(f, c);
        pthread_mutex_lock(&f->lock);
        c->qnext = f->back;
        f->back = c;
        if (write(f->evfd, &one, sizeof(one)) < 0)
            log_errno(NULL, errno, "eventfd write");
    }
out:
    f->nthreads--;
    pthread_cond_broadcast(&f->exited);
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* Under f->lock: hands `c` to a worker, starting one if none is idle. */
static void
enqueue(struct front *f, struct conn *c)
{
    pthread_attr_t attr;
    pthread_t t;

    c->qnext = NULL;
    if (f->queue)
        f->qtail->qnext = c;
    else
        f->queue = c;
    f->qtail = c;
    f->nqueued++;
    if (f->nqueued > f->nidle && f->nthreads < f->max_threads) {
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker_main, f) == 0) {
            f->nthreads++;
            pthread_setname_np(t, "http-worker");
        } else if (!f->nthreads) {
            log_error(NULL, "cannot start an HTTP worker thread: requests wait");
        }
        pthread_attr_destroy(&attr);
    }
    pthread_cond_signal(&f->work);
}

/* ---- the loop thread ---- */

static void
arm_for(struct front *f, struct conn *c, uint32_t events)
{
    struct epoll_event ev = { .events = events | EPOLLONESHOT, .data.ptr = c };

    if (epoll_ctl(f->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        log_errno(NULL, errno, "epoll_ctl");
}

static void
arm(struct front *f, struct conn *c)
{
    arm_for(f, c, EPOLLIN);
}

static void
conn_close(struct front *f, struct conn *c)
{
    pthread_mutex_lock(&f->lock);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    pthread_mutex_unlock(&f->lock);
    guard_conn_close(f->srv->guard, c->gc);
    if (c->tls)
        gnutls_deinit(c->tls);
    close(c->fd);
    free(c->in);
    free(c);
}

static void
conn_open(struct front *f, int fd, const struct sockaddr *sa)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = c };
    int one = 1;

    /* Never let a response wait on Nagle's algorithm (DESIGN.md Concurrency). */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    if (f->srv->tls && tls_session_new(f->srv->tls, fd, &c->tls) < 0) {
        close(fd);
        free(c);
        return;
    }
    c->gc = guard_conn_open(f->srv->guard, -1, sa);
    http__peer_text(sa, c->remote, sizeof(c->remote));
    c->last_ns = clock_mono_ns();
    pthread_mutex_lock(&f->lock);
    c->next = &f->conns;
    c->prev = f->conns.prev;
    c->prev->next = c;
    f->conns.prev = c;
    pthread_mutex_unlock(&f->lock);
    if (epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        log_errno(NULL, errno, "epoll_ctl");
        conn_close(f, c);
    }
}

static void
accept_all(struct front *f)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    for (;;) {
        len = sizeof(ss);
        fd = accept4(f->srv->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_warn(&(struct log_ctx){ .event = "accept" },
                         "cannot accept a connection: %s (paused until the next tick)",
                         strerror(errno));
                (void)epoll_ctl(f->ep, EPOLL_CTL_MOD, f->srv->listen_fd,
                                &(struct epoll_event){ .events = 0, .data.ptr = &tag_listen });
                f->listen_off = true;
            }
            return;
        }
        if (!guard_admit(f->srv->guard, (struct sockaddr *)&ss)) {
            close(fd);
            continue;
        }
        conn_open(f, fd, (struct sockaddr *)&ss);
    }
}

/*
 * The TLS handshake, on the loop thread: true once done; false when it
 * waits for the socket (re-armed) or failed (closed). Its time counts
 * against the header deadline.
 */
static bool
handshake(struct front *f, struct conn *c)
{
    int grc;

    if (!c->first_ns)
        c->first_ns = clock_mono_ns();
    grc = gnutls_handshake(c->tls);
    if (grc == GNUTLS_E_AGAIN || grc == GNUTLS_E_INTERRUPTED) {
        arm_for(f, c, gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN);
        return false;
    }
    if (grc < 0) {
        log_info(&(struct log_ctx){ .event = "tls_handshake" }, "TLS handshake with %s: %s",
                 c->remote, gnutls_strerror(grc));
        conn_close(f, c);
        return false;
    }
    c->handshaken = true;
    c->first_ns = 0;              /* an idle connection until its first request */
    c->last_ns = clock_mono_ns(); /* idle from now, not from the accept */
    return true;
}

static void
conn_readable(struct front *f, struct conn *c)
{
    struct http_head head;
    const char *why;
    int64_t now;
    ssize_t n;

    if (c->tls && !c->handshaken && !handshake(f, c))
        return;
    for (;;) {
        n = conn_recv(c, f->scratch, sizeof(f->scratch));
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            arm(f, c);
            return;
        }
        if (n <= 0) {
            conn_close(f, c);
            return;
        }
        now = clock_mono_ns();
        if (!c->first_ns)
            c->first_ns = now;
        c->last_ns = now;
        in_reserve(c, (size_t)n);
        memcpy(c->in + c->len, f->scratch, (size_t)n);
        c->len += (size_t)n;
        c->head = http_head_parse(c->in + c->pos, c->len - c->pos, f->limit, NULL, 0, &head, &why);
        if (c->head != 0)
            break;
        if (!c->tls || !gnutls_record_check_pending(c->tls)) {
            arm(f, c);
            return;
        }
    }
    c->busy = true;
    pthread_mutex_lock(&f->lock);
    enqueue(f, c);
    pthread_mutex_unlock(&f->lock);
}

/* Connections handed back by workers: closed, or watched again. */
static void
take_back(struct front *f)
{
    struct conn *c, *next;
    uint64_t n;

    if (read(f->evfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        log_errno(NULL, errno, "eventfd read");
    pthread_mutex_lock(&f->lock);
    c = f->back;
    f->back = NULL;
    pthread_mutex_unlock(&f->lock);
    for (; c; c = next) {
        next = c->qnext;
        c->busy = false;
        if (c->close)
            conn_close(f, c);
        else if (c->tls && gnutls_record_check_pending(c->tls))
            conn_readable(f, c); /* bytes GnuTLS already decrypted: epoll will not say */
        else
            arm(f, c);
    }
}

/* The idle timeout and the header deadline. */
static void
tick(struct front *f, int64_t now)
{
    const struct http_config *cfg = &f->srv->cfg;
    int64_t idle = (int64_t)cfg->idle_timeout * 1000000000;
    int64_t hdr = (int64_t)cfg->header_timeout * 1000000000;
    struct conn *c, *expired = NULL;
    unsigned late = 0;
    char first[48] = "";

    if (f->listen_off) {
        f->listen_off = false;
        (void)epoll_ctl(f->ep, EPOLL_CTL_MOD, f->srv->listen_fd,
                        &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_listen });
    }
    pthread_mutex_lock(&f->lock);
    for (c = f->conns.next; c != &f->conns; c = c->next) {
        if (c->busy)
            continue;
        if (c->first_ns && hdr && now - c->first_ns > hdr) {
            if (!late++)
                memcpy(first, c->remote, sizeof(first));
        } else if (c->first_ns || !idle || now - c->last_ns <= idle) {
            continue;
        }
        c->qnext = expired;
        expired = c;
    }
    pthread_mutex_unlock(&f->lock);
    for (; expired; expired = c) {
        c = expired->qnext;
        if (expired->first_ns)
            guard_count_header_timeout(f->srv->guard);
        conn_close(f, expired);
    }
    if (late)
        log_warn(&(struct log_ctx){ .event = "header_timeout" },
                 "closed %u connection%s that did not send a request's headers within %u s "
                 "(the first from %s)",
                 late, late == 1 ? "" : "s", cfg->header_timeout, first);
}

static void *
loop_main(void *arg)
{
    struct front *f = arg;
    struct epoll_event ev[64];
    int64_t next_tick = 0, now;
    int i, n;

    while (!atomic_load(&f->stopping)) {
        n = epoll_wait(f->ep, ev, ARRAY_SIZE(ev), FRONT_TICK_MS);
        for (i = 0; i < n; i++) {
            if (ev[i].data.ptr == &tag_listen)
                accept_all(f);
            else if (ev[i].data.ptr == &tag_event)
                take_back(f);
            else
                conn_readable(f, ev[i].data.ptr);
        }
        now = clock_mono_ns();
        if (now >= next_tick) {
            tick(f, now);
            next_tick = now + (int64_t)FRONT_TICK_MS * 1000000;
        }
    }
    return NULL;
}

/* ---- start and stop ---- */

static void
front_free(struct front *f)
{
    if (f->ep >= 0)
        close(f->ep);
    if (f->evfd >= 0)
        close(f->evfd);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->work);
    pthread_cond_destroy(&f->exited);
    free(f);
}

static int
front_start(struct http_server *srv, struct buf *errmsg)
{
    struct front *f = xcalloc(1, sizeof(*f));
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &tag_listen };
    pthread_condattr_t ca;

    f->srv = srv;
    srv->front = f; /* front_stop frees it, started or not */
    f->ep = f->evfd = -1;
    f->limit = MAX(srv->cfg.header_limit, FRONT_MIN_HEADER_LIMIT);
    f->max_threads = srv->cfg.max_connections + 64;
    f->conns.next = f->conns.prev = &f->conns;
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&f->exited, NULL);
    if (srv->tls && tls_certs_front(srv->tls, errmsg) < 0)
        return -ERR_IO;
    f->ep = epoll_create1(EPOLL_CLOEXEC);
    f->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->ep < 0 || f->evfd < 0 || fcntl(srv->listen_fd, F_SETFL, O_NONBLOCK) < 0 ||
        epoll_ctl(f->ep, EPOLL_CTL_ADD, srv->listen_fd, &ev) < 0 ||
        epoll_ctl(f->ep, EPOLL_CTL_ADD, f->evfd,
                  &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_event }) < 0 ||
        pthread_create(&f->loop, NULL, loop_main, f) != 0) {
        buf_addf(errmsg, "cannot start the HTTP server on %s: %s", srv->address, strerror(errno));
        return -ERR_IO;
    }
    f->loop_started = true;
    pthread_setname_np(f->loop, "http-front");
    return 0;
}

static void
front_stop(struct http_server *srv)
{
    struct front *f = srv->front;
    struct conn *c;

    if (f)
        (void)epoll_ctl(f->ep, EPOLL_CTL_DEL, srv->listen_fd, NULL);
    close(srv->listen_fd);
    if (!f)
        return;
    http__wait_inflight(srv);
    atomic_store(&f->stopping, true);
    if (f->loop_started)
        pthread_join(f->loop, NULL);
    /* Unblock the workers still at a request, then wait for every one to end. */
    pthread_mutex_lock(&f->lock);
    for (c = f->conns.next; c != &f->conns; c = c->next)
        if (c->busy)
            (void)shutdown(c->fd, SHUT_RDWR);
    pthread_cond_broadcast(&f->work);
    while (f->nthreads)
        pthread_cond_wait(&f->exited, &f->lock);
    pthread_mutex_unlock(&f->lock);
    while (f->conns.next != &f->conns)
        conn_close(f, f->conns.next);
    front_free(f);
    srv->front = NULL;
}

const struct http_engine http__engine_front = {
    .name = "basalt",
    .start = front_start,
    .stop = front_stop,
};

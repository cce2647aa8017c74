/*
 * cluster/rpc_stream.c: streamed RPC calls (see rpc.h): uploads whose body
 * is written in pieces, downloads whose answer is read in pieces. Both run
 * on a pooled {multi, easy} pair driven by whichever thread makes the next
 * step (cluster/internal.h), with no thread of their own.
 *
 * Upload: the body is sent with Transfer-Encoding: chunked and framed and
 * MACed as cluster/rpc_frame.h says. libcurl pulls bytes through read_cb();
 * when the current write's bytes are all handed over, read_cb() answers
 * CURL_READFUNC_PAUSE and rpc_upload_write() returns: libcurl calls it only
 * when its buffer has been sent, so the bytes are on the socket by then.
 * The next write (any thread) points read_cb() at new bytes and unpauses.
 * rpc_upload_finish() queues the end frame and the tag, lets read_cb()
 * report the end of the body, and waits for the answer. Memory: libcurl's
 * upload buffer (RPC_STREAM_BUFFER) and this struct; the caller's bytes are
 * not copied anywhere else.
 *
 * Download: write_cb() appends to a spill buffer; once it holds more than
 * 2 * RPC_STREAM_BUFFER it pauses the transfer (CURL_WRITEFUNC_PAUSE), and
 * rpc_download_read() unpauses it when the reader has emptied the buffer.
 */
#include "util/base.h"

#include "cluster/rpc.h"

#include "cluster/internal.h"
#include "cluster/rpc_frame.h"
#include "util/clock.h"
#include "util/err.h"

struct rpc_upload {
    struct rpc_peer *peer;
    struct rpc_conn *conn;
    struct rpc_mac *mac;
    int64_t deadline_ns;
    int64_t step_ns;
    const uint8_t *src; /* the current write's bytes not yet handed to libcurl */
    size_t left;
    uint32_t frame_left; /* bytes of the current frame not yet handed over */
    uint8_t pend[RPC_FRAME_HDR_SIZE + RPC_TAG_SIZE]; /* a frame header, or the end and tag */
    size_t pend_len;
    size_t pend_off;
    bool finishing;  /* no more writes: send the end and the tag */
    bool end_queued; /* they are in pend[] */
    bool starved;    /* read_cb() had nothing to give: the transfer is paused */
    bool overflow;   /* the answer's body was too large */
    int rc;          /* sticky failure */
    struct buf body; /* the answer's body */
};

struct rpc_download {
    struct rpc_peer *peer;
    struct rpc_conn *conn;
    int64_t deadline_ns;
    int64_t step_ns;
    struct buf spill; /* received, not yet read: bytes from `off` */
    size_t off;
    bool paused; /* write_cb() paused the transfer */
    int rc;      /* sticky failure */
};

/* ---- upload ---- */

/* Queues the header of the next frame of `len` bytes (0: the end, then the tag). */
static void
queue_frame(struct rpc_upload *up, uint32_t len)
{
    rpc_frame_hdr(up->pend, len);
    rpc_mac_update(up->mac, up->pend, RPC_FRAME_HDR_SIZE);
    up->pend_len = RPC_FRAME_HDR_SIZE;
    up->pend_off = 0;
    if (len == 0) {
        rpc_mac_final(up->mac, up->pend + RPC_FRAME_HDR_SIZE);
        up->pend_len += RPC_TAG_SIZE;
        up->end_queued = true;
    }
    up->frame_left = len;
}

/* Copies up to `cap` bytes of what is due next into `dst`; returns the count. */
static size_t
upload_fill(struct rpc_upload *up, char *dst, size_t cap)
{
    size_t out = 0, n;

    while (out < cap) {
        if (up->pend_off < up->pend_len) {
            n = MIN(cap - out, up->pend_len - up->pend_off);
            memcpy(dst + out, up->pend + up->pend_off, n);
            up->pend_off += n;
        } else if (up->frame_left) {
            n = MIN(cap - out, up->frame_left);
            memcpy(dst + out, up->src, n);
            rpc_mac_update(up->mac, up->src, n);
            up->src += n;
            up->left -= n;
            up->frame_left -= (uint32_t)n;
        } else if (up->left) {
            queue_frame(up, (uint32_t)MIN(up->left, RPC_FRAME_MAX));
            continue;
        } else if (up->finishing && !up->end_queued) {
            queue_frame(up, 0);
            continue;
        } else {
            break;
        }
        out += n;
    }
    return out;
}

static size_t
upload_read_cb(char *dst, size_t size, size_t nitems, void *arg)
{
    struct rpc_upload *up = arg;
    size_t out = upload_fill(up, dst, size * nitems);

    if (out)
        return out;
    if (up->end_queued)
        return 0; /* the end and the tag are sent: end of the body */
    up->starved = true;
    return CURL_READFUNC_PAUSE;
}

static size_t
upload_write_cb(char *data, size_t size, size_t nitems, void *arg)
{
    struct rpc_upload *up = arg;
    size_t len = size * nitems;

    if (up->body.len + len > RPC_MAX_RESP_BODY) {
        up->overflow = true;
        return 0;
    }
    buf_add(&up->body, data, len);
    return len;
}

static bool
upload_starved(void *arg)
{
    return ((struct rpc_upload *)arg)->starved;
}

/*
 * Unpauses the transfer and runs it until read_cb() starves again (or, when
 * `to_end`, until the answer is in), by the step's deadline. Returns 0 or
 * -ERR_* (then sticky).
 */
static int
upload_run(struct rpc_upload *up, int64_t deadline, bool to_end)
{
    struct rpc_conn *c = up->conn;
    int rc;

    if (up->starved) {
        up->starved = false;
        curl_easy_pause(c->easy, CURLPAUSE_CONT);
    }
    rc = rpc__drive(c, deadline, to_end ? NULL : upload_starved, up);
    if (rc == 0 && c->done) {
        rc = up->overflow ? -ERR_TOO_LARGE : rpc__outcome(up->peer, c, 0, buf_slice(&up->body));
        if (rc == 0 && !to_end)
            rc = -ERR_IO; /* answered before the end of the stream */
    } else if (rc < 0) {
        rc = rpc__outcome(up->peer, c, rc, SLICE_NULL);
    }
    if (rc < 0)
        up->rc = rc;
    return rc;
}

static void
upload_free(struct rpc_upload *up)
{
    rpc__stop(up->peer, up->conn);
    rpc__conn_put(up->peer, up->conn);
    rpc__count(up->peer, up->rc);
    rpc_mac_free(up->mac);
    buf_release(&up->body);
    free(up);
}

static void
upload_setopt(struct rpc_upload *up, const char *method)
{
    CURL *easy = up->conn->easy;
    struct curl_slist *l = curl_slist_append(up->conn->headers, "Transfer-Encoding: chunked");

    BUG_ON(!l);
    up->conn->headers = l;
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    if (strcmp(method, "POST") != 0)
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, upload_read_cb);
    curl_easy_setopt(easy, CURLOPT_READDATA, up);
    curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, (long)RPC_STREAM_BUFFER);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, upload_write_cb);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, up);
}

int
rpc_upload_begin(struct rpc_peer *p, const struct rpc_call *call, struct rpc_upload **out)
{
    struct rpc_upload *up;
    uint8_t sig[RPC_SIG_SIZE];
    int rc;

    if (!rpc_peer_is_online(p))
        return -ERR_OFFLINE;
    up = xcalloc(1, sizeof(*up));
    up->peer = p;
    up->body = (struct buf)BUF_INIT;
    up->deadline_ns = call->deadline_ns;
    up->step_ns = call->step_timeout_ns;
    up->conn = rpc__conn_get(p);
    rc = rpc__setup(p, up->conn, call, NULL, sig);
    if (rc == 0) {
        up->mac = rpc_mac_new(&p->client->key, sig);
        upload_setopt(up, call->method);
        rpc__start(up->conn);
        /* connect and send the headers: read_cb() then starves */
        rc = upload_run(up, up->deadline_ns, false);
        /*
         * The peer may answer as soon as it has the headers (a refusal, an
         * unknown route), before or after read_cb() starves: which one is
         * up to the scheduler. Such an answer is the stream's outcome, kept
         * in up->rc for write and finish, so that it always comes from the
         * same place; begin fails only when the request could not be sent.
         */
        if (rc < 0 && up->conn->done && up->conn->headers_done)
            rc = 0;
    }
    if (rc < 0) {
        up->rc = rc;
        upload_free(up);
        return rc;
    }
    *out = up;
    return 0;
}

int
rpc_upload_write(struct rpc_upload *up, const void *p, size_t n)
{
    int rc;

    if (up->rc < 0 || n == 0)
        return up->rc;
    up->src = p;
    up->left = n;
    rc = upload_run(up, rpc__step_deadline(up->deadline_ns, up->step_ns), false);
    up->src = NULL;
    return rc;
}

int
rpc_upload_finish(struct rpc_upload *up, struct rpc_resp *resp)
{
    int rc = up->rc;

    if (rc == 0) {
        up->finishing = true;
        rc = upload_run(up, rpc__step_deadline(up->deadline_ns, up->step_ns), true);
    }
    if (rc == 0) {
        rpc__fill_resp(up->conn, resp);
        buf_release(&resp->body);
        resp->body = up->body;
        up->body = (struct buf)BUF_INIT;
    }
    upload_free(up);
    return rc;
}

void
rpc_upload_abort(struct rpc_upload *up)
{
    if (up->rc == 0)
        up->rc = -ERR_IO; /* counted as a failure */
    upload_free(up);
}

void
rpc_upload_set_deadline(struct rpc_upload *up, int64_t deadline_ns)
{
    up->deadline_ns = deadline_ns;
}

/* ---- download ---- */

static size_t
download_write_cb(char *data, size_t size, size_t nitems, void *arg)
{
    struct rpc_download *dl = arg;
    size_t len = size * nitems, have = dl->spill.len - dl->off;

    if (have && have + len > 2 * RPC_STREAM_BUFFER) {
        dl->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (dl->off && (have == 0 || dl->off > RPC_STREAM_BUFFER)) {
        memmove(dl->spill.ptr, dl->spill.ptr + dl->off, have);
        buf_setlen(&dl->spill, have);
        dl->off = 0;
    }
    buf_add(&dl->spill, data, len);
    return len;
}

static bool
download_ready(void *arg)
{
    struct rpc_download *dl = arg;

    return dl->conn->headers_done && dl->spill.len > dl->off;
}

static bool
download_head(void *arg)
{
    return ((struct rpc_download *)arg)->conn->headers_done;
}

static void
download_free(struct rpc_download *dl)
{
    rpc__stop(dl->peer, dl->conn);
    rpc__conn_put(dl->peer, dl->conn);
    rpc__count(dl->peer, dl->rc);
    buf_release(&dl->spill);
    free(dl);
}

/* Connects, sends the request, waits for the answer's headers. */
static int
download_start(struct rpc_download *dl, const struct rpc_call *call)
{
    struct rpc_conn *c = dl->conn;
    uint8_t md[32];
    int rc;

    /* SHA-256 of the empty body */
    static const uint8_t empty[32] = { 0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
                                       0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                                       0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
                                       0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55 };

    memcpy(md, empty, sizeof(md));
    rc = rpc__setup(dl->peer, c, call, md, NULL);
    if (rc < 0)
        return rc;
    if (strcmp(call->method, "GET") == 0) {
        curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, call->method);
    }
    curl_easy_setopt(c->easy, CURLOPT_BUFFERSIZE, (long)RPC_STREAM_BUFFER);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, download_write_cb);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, dl);
    rpc__start(c);
    rc = rpc__drive(c, dl->deadline_ns, download_head, dl);
    if (rc == 0 && !c->headers_done && c->result == CURLE_OK)
        rc = -ERR_IO; /* done without an answer */
    return rpc__outcome(dl->peer, c, rc,
                        slice_make(dl->spill.ptr + dl->off, dl->spill.len - dl->off));
}

int
rpc_download_begin(struct rpc_peer *p, const struct rpc_call *call, struct rpc_download **out,
                   struct rpc_resp *head)
{
    struct rpc_download *dl;
    int rc;

    if (!rpc_peer_is_online(p))
        return -ERR_OFFLINE;
    dl = xcalloc(1, sizeof(*dl));
    dl->peer = p;
    dl->spill = (struct buf)BUF_INIT;
    dl->deadline_ns = call->deadline_ns;
    dl->step_ns = call->step_timeout_ns;
    dl->conn = rpc__conn_get(p);
    rc = download_start(dl, call);
    if (rc < 0) {
        dl->rc = rc;
        download_free(dl);
        return rc;
    }
    rpc__fill_resp(dl->conn, head);
    buf_clear(&head->body);
    *out = dl;
    return 0;
}

/* Hands out buffered bytes; unpauses the transfer once the buffer is empty. */
static size_t
download_take(struct rpc_download *dl, void *dst, size_t n)
{
    size_t have = dl->spill.len - dl->off;

    n = MIN(n, have);
    memcpy(dst, dl->spill.ptr + dl->off, n);
    dl->off += n;
    if (dl->off == dl->spill.len) {
        buf_clear(&dl->spill);
        dl->off = 0;
        if (dl->paused) {
            dl->paused = false;
            curl_easy_pause(dl->conn->easy, CURLPAUSE_CONT); /* may call write_cb at once */
        }
    }
    return n;
}

ssize_t
rpc_download_read(struct rpc_download *dl, void *dst, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    for (;;) {
        if (dl->spill.len > dl->off)
            return (ssize_t)download_take(dl, dst, n);
        if (dl->rc < 0)
            return dl->rc;
        if (dl->conn->done) {
            dl->rc = rpc__outcome(dl->peer, dl->conn, 0, SLICE_NULL);
            return dl->rc;
        }
        rc = rpc__drive(dl->conn, rpc__step_deadline(dl->deadline_ns, dl->step_ns), download_ready,
                        dl);
        if (rc < 0) {
            dl->rc = rpc__outcome(dl->peer, dl->conn, rc, SLICE_NULL);
            return dl->rc;
        }
    }
}

void
rpc_download_close(struct rpc_download *dl)
{
    if (dl)
        download_free(dl);
}

void
rpc_download_set_deadline(struct rpc_download *dl, int64_t deadline_ns)
{
    dl->deadline_ns = deadline_ns;
}

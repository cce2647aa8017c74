/*
 * bench/rpc.c: what node-to-node RPC (cluster/rpc.h) costs on loopback, the
 * server (http/ + cluster/rpc_server) and the client in one process.
 *
 *     make RELEASE=1 -j2 build-release/bench/rpc && build-release/bench/rpc
 *
 * Figures:
 *   mac          the stream MAC (Poly1305) and HMAC-SHA256 for comparison,
 *                bytes per CPU second of one thread over 1 MiB buffers;
 *   small calls  POST of 200 bytes answered with ~230 bytes, for 3 s: calls
 *                per second from 1 thread (one pooled connection) and from
 *                8 threads;
 *   upload       1 GiB in 1 MiB writes to a streaming route that hashes
 *                nothing and drops the bytes, MB/s of wall time;
 *   download     1 GiB streamed answer read in 1 MiB pieces, MB/s.
 * Client and server share the machine's cores: on a 2-core machine the
 * figures are those of both sides at once.
 */
#include "util/base.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "cluster/rpc.h"
#include "cluster/rpc_frame.h"
#include "cluster/rpc_server.h"
#include "http/http.h"
#include "obs/log.h"
#include "util/clock.h"

#define MIB (1u << 20)
#define STREAM_BYTES (1024ull * MIB)

static double
cpu_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double
wall_now(void)
{
    return (double)clock_mono_ns() / 1e9;
}

/* ---- MACs ---- */

static void
bench_mac(void)
{
    uint8_t *buf = xcalloc(1, MIB), sig[RPC_SIG_SIZE] = { 1 }, tag[32];
    struct rpc_key key;
    struct rpc_mac *m;
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *h = EVP_MAC_CTX_new(hmac);
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                             (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end() };
    double t0, t;
    uint64_t n;
    size_t len;

    rpc_key_derive(&key, "bench", NULL, NULL);
    m = rpc_mac_new(&key, sig);
    for (n = 0, t0 = cpu_now(); (t = cpu_now()) - t0 < 1.0; n += MIB)
        rpc_mac_update(m, buf, MIB);
    rpc_mac_final(m, tag);
    rpc_mac_free(m);
    printf("mac: poly1305     %8.0f MB/s\n", (double)n / (t - t0) / 1e6);
    BUG_ON(!h || EVP_MAC_init(h, key._k, sizeof(key._k), params) != 1);
    for (n = 0, t0 = cpu_now(); (t = cpu_now()) - t0 < 1.0; n += MIB)
        EVP_MAC_update(h, buf, MIB);
    EVP_MAC_final(h, tag, &len, sizeof(tag));
    printf("mac: hmac-sha256  %8.0f MB/s\n", (double)n / (t - t0) / 1e6);
    EVP_MAC_CTX_free(h);
    EVP_MAC_free(hmac);
    free(buf);
}

/* ---- the server ---- */

struct sink_ctx {
    uint64_t n;
};

static void
route_echo(void *arg, struct rpc_req *r)
{
    struct buf b = BUF_INIT;

    buf_addf(&b, "%.*s|", (int)r->sender.len, r->sender.ptr);
    buf_addslice(&b, r->body);
    rpc_reply(r, 200, &b);
    buf_release(&b);
}

static int
sink_begin(void *arg, struct rpc_req *r)
{
    r->ctx = arena_zalloc(r->arena, sizeof(struct sink_ctx));
    return 0;
}

static int
sink_data(struct rpc_req *r, const void *p, size_t n)
{
    ((struct sink_ctx *)r->ctx)->n += n;
    return 0;
}

static void
sink_end(struct rpc_req *r, bool ok)
{
    rpc_reply(r, ok ? 200 : 400, NULL);
}

static const struct rpc_stream_ops sink_ops = { sink_begin, sink_data, sink_end };

static ssize_t
zero_read(void *arg, uint64_t off, void *dst, size_t n)
{
    memset(dst, 0, n);
    return (ssize_t)n;
}

static void
route_source(void *arg, struct rpc_req *r)
{
    rpc_reply_stream(r, 200, STREAM_BYTES, zero_read, NULL, NULL);
}

static void
http_handler(void *arg, struct http_req *req)
{
    rpc_server_handle(arg, req);
}

/* ---- small calls ---- */

struct caller {
    struct rpc_peer *peer;
    double until;
    uint64_t calls;
    int errors;
};

static void *
caller_main(void *arg)
{
    struct caller *c = arg;
    struct rpc_resp resp = RPC_RESP_INIT;
    char body[200];
    struct rpc_call call = { .method = "POST", .path = "/echo", .request_id = "bench" };

    memset(body, 'x', sizeof(body));
    call.body = slice_make(body, sizeof(body));
    while (wall_now() < c->until) {
        call.deadline_ns = clock_mono_ns() + 5000 * 1000000ll;
        if (rpc_call(c->peer, &call, &resp) != 0 || resp.status != 200)
            c->errors++;
        c->calls++;
    }
    rpc_resp_release(&resp);
    return NULL;
}

static void
bench_calls(struct rpc_peer *p, unsigned nthreads)
{
    struct caller c[8];
    pthread_t t[8];
    double t0 = wall_now();
    uint64_t total = 0;
    int errors = 0;
    unsigned i;

    for (i = 0; i < nthreads; i++) {
        c[i] = (struct caller){ p, t0 + 3.0, 0, 0 };
        BUG_ON(pthread_create(&t[i], NULL, caller_main, &c[i]) != 0);
    }
    for (i = 0; i < nthreads; i++) {
        pthread_join(t[i], NULL);
        total += c[i].calls;
        errors += c[i].errors;
    }
    printf("small calls, %u thread%s: %8.0f calls/s (%d errors)\n", nthreads,
           nthreads > 1 ? "s" : "", (double)total / (wall_now() - t0), errors);
}

/* ---- streams ---- */

static void
bench_upload(struct rpc_peer *p)
{
    struct rpc_call call = { .method = "POST", .path = "/sink", .request_id = "bench" };
    struct rpc_resp resp = RPC_RESP_INIT;
    uint8_t *buf = xcalloc(1, MIB);
    struct rpc_upload *up;
    double t0 = wall_now();
    uint64_t off;

    call.deadline_ns = clock_mono_ns() + 600 * 1000000000ll;
    call.step_timeout_ns = 10 * 1000000000ll;
    BUG_ON(rpc_upload_begin(p, &call, &up) != 0);
    for (off = 0; off < STREAM_BYTES; off += MIB)
        BUG_ON(rpc_upload_write(up, buf, MIB) != 0);
    BUG_ON(rpc_upload_finish(up, &resp) != 0 || resp.status != 200);
    printf("upload:   %8.0f MB/s\n", (double)STREAM_BYTES / (wall_now() - t0) / 1e6);
    rpc_resp_release(&resp);
    free(buf);
}

static void
bench_download(struct rpc_peer *p)
{
    struct rpc_call call = { .method = "GET", .path = "/source", .request_id = "bench" };
    struct rpc_resp head = RPC_RESP_INIT;
    uint8_t *buf = xmalloc(MIB);
    struct rpc_download *dl;
    double t0 = wall_now();
    uint64_t got = 0;
    ssize_t n;

    call.deadline_ns = clock_mono_ns() + 600 * 1000000000ll;
    call.step_timeout_ns = 10 * 1000000000ll;
    BUG_ON(rpc_download_begin(p, &call, &dl, &head) != 0 || head.status != 200);
    while ((n = rpc_download_read(dl, buf, MIB)) > 0)
        got += (uint64_t)n;
    BUG_ON(n < 0 || got != STREAM_BYTES);
    rpc_download_close(dl);
    printf("download: %8.0f MB/s\n", (double)STREAM_BYTES / (wall_now() - t0) / 1e6);
    rpc_resp_release(&head);
    free(buf);
}

int
main(void)
{
    struct http_config cfg = { "127.0.0.1:0", 30, 64 * 1024 };
    struct rpc_client_config ccfg = { 0 };
    struct rpc_identity sid, cid;
    struct http_server *http = NULL;
    struct rpc_server *srv;
    struct rpc_client *cli;
    struct rpc_peer *peer;
    struct buf err = BUF_INIT;
    struct rpc_key key;
    char ep[64];

    log_set_quiet(true);
    bench_mac();
    rpc_key_derive(&key, NULL, "root", "bench-password");
    BUG_ON(rpc_identity_init(&sid, "127.0.0.1:1") != 0 || rpc_identity_init(&cid, "c:1") != 0);
    srv = rpc_server_new(&key, &sid);
    BUG_ON(rpc_server_route(srv, "POST", "/echo", route_echo, NULL) != 0 ||
           rpc_server_route(srv, "GET", "/source", route_source, NULL) != 0 ||
           rpc_server_route_stream(srv, "POST", "/sink", &sink_ops, NULL) != 0);
    if (http_server_listen(&cfg, &http, &err) != 0 ||
        http_server_start(http, http_handler, srv, &err) != 0)
        die("%s", err.ptr);
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", http_server_port(http));
    ccfg.key = &key;
    ccfg.self = &cid;
    BUG_ON(rpc_client_new(&ccfg, &cli) != 0 || rpc_client_add_peer(cli, ep, &peer) != 0);
    bench_calls(peer, 1);
    bench_calls(peer, 8);
    bench_upload(peer);
    bench_download(peer);
    rpc_client_free(cli);
    http_server_stop(http);
    rpc_server_free(srv);
    buf_release(&err);
    return 0;
}

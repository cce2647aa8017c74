/*
 * bench/rpc_tls.c: what a new https:// node-to-node connection costs the
 * calling node, by the way the peer's CAs are given to libcurl.
 *
 *     make RELEASE=1 -j2 build-release/bench/rpc_tls && bench/rpc_tls.sh [N]
 *
 * bench/rpc_tls.sh makes a CA and a certificate for 127.0.0.1 with the
 * openssl command, then runs `build-release/bench/rpc_tls CERTS_DIR N`: an
 * HTTPS server (http/, GnuTLS, in this process) with CERTS_DIR, and N
 * connections in a row, each a new libcurl {multi, easy} pair doing one GET
 * and closing, as a pooled RPC connection is opened, in each of the modes:
 *   blob+system  CURLOPT_CAINFO_BLOB with CAs/ and the system's bundle
 *                (what rpc.c did before: libcurl parses the PEM per connection);
 *   blob         CURLOPT_CAINFO_BLOB with CAs/ only (the parse of a small PEM);
 *   store        rpc_tls.c (what rpc.c does): CAs/ and the system's bundle
 *                parsed once into an X509_STORE that each connection shares.
 * Figures: CPU milliseconds per connection of the calling thread (the
 * client's work: TLS handshake, verification, the GET), and wall
 * milliseconds per connection (the server's share included; on a shared
 * machine, noisy).
 */
#include "util/base.h"

#include <curl/curl.h>
#include <stdio.h>
#include <time.h>

#include "cluster/internal.h"
#include "http/http.h"
#include "http/tls.h"
#include "obs/log.h"
#include "util/clock.h"

static double
cpu_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
handler(void *arg, struct http_req *req)
{
    (void)arg;
    http_resp_empty(req, 200);
}

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

enum mode { BLOB_SYSTEM, BLOB, STORE };
static const char *const mode_names[] = { "blob+system", "blob", "store" };

/* libcurl's default CA file, as rpc.c's cas_with_system() appended it. */
static void
add_system(struct buf *pem)
{
    CURL *e = curl_easy_init();
    char *path = NULL, chunk[16384];
    FILE *f = NULL;
    size_t n;

    if (e && curl_easy_getinfo(e, CURLINFO_CAINFO, &path) == CURLE_OK && path)
        f = fopen(path, "re");
    while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(pem, chunk, n);
    if (f)
        fclose(f);
    curl_easy_cleanup(e);
}

static void
run(enum mode mode, const char *url, const struct buf *cas, const struct buf *all,
    struct rpc_cas *store, int n)
{
    double c0 = cpu_now();
    int64_t w0 = clock_mono_ns();
    int i, ok = 0;

    for (i = 0; i < n; i++) {
        CURLM *m = curl_multi_init();
        CURL *e = curl_easy_init();
        uint64_t gen = 0;
        int running = 1, left;
        CURLMsg *msg;

        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        if (mode == STORE) {
            rpc__cas_apply(store, &gen, e);
        } else {
            const struct buf *b = mode == BLOB ? cas : all;
            struct curl_blob blob = { b->ptr, b->len, CURL_BLOB_NOCOPY };

            curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
        }
        curl_multi_add_handle(m, e);
        while (running) {
            curl_multi_perform(m, &running);
            if (running)
                curl_multi_poll(m, NULL, 0, 1000, NULL);
        }
        while ((msg = curl_multi_info_read(m, &left)))
            if (msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK)
                ok++;
        curl_multi_remove_handle(m, e);
        curl_easy_cleanup(e);
        curl_multi_cleanup(m);
    }
    printf("%-12s %4d/%d connections ok   %7.2f ms CPU per connection   %7.2f ms wall\n",
           mode_names[mode], ok, n, (cpu_now() - c0) * 1e3 / n,
           (double)(clock_mono_ns() - w0) / 1e6 / n);
}

int
main(int argc, char **argv)
{
    struct http_config cfg = { .address = "127.0.0.1:0", .idle_timeout = 5, .header_limit = 65536 };
    struct buf err = BUF_INIT, cas = BUF_INIT, all = BUF_INIT;
    struct http_server *srv;
    struct rpc_cas *store;
    char url[128];
    size_t sys = 0;
    double t0;
    int n, rounds;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CERTS_DIR [CONNECTIONS]\n", argv[0]);
        return 2;
    }
    n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 200;
    if (n < 10)
        n = 10;
    log_set_quiet(true);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cfg.certs_dir = argv[1];
    if (http_server_listen(&cfg, &srv, &err) < 0 || http_server_start(srv, handler, NULL, &err) < 0)
        die("%s", err.ptr);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", http_server_port(srv));
    if (tls_load_cas(argv[1], &cas, &err) <= 0)
        die("%s/CAs: %s", argv[1], err.len ? err.ptr : "no certificate");
    buf_addslice(&all, buf_slice(&cas));
    add_system(&all);
    store = rpc__cas_new();
    t0 = cpu_now();
    if (rpc__cas_set(store, cas.ptr, &sys, &err) < 0)
        die("%s", err.ptr);
    printf("CAs/: %zu bytes; with the system's bundle (%zu certificates): %zu bytes\n", cas.len,
           sys, all.len);
    printf("store: parsed once in %.2f ms CPU\n", (cpu_now() - t0) * 1e3);
    for (rounds = 0; rounds < 2; rounds++) { /* the second round is the one to read */
        printf("round %d\n", rounds + 1);
        run(BLOB_SYSTEM, url, &cas, &all, store, rounds ? n : n / 10);
        run(BLOB, url, &cas, &all, store, rounds ? n : n / 10);
        run(STORE, url, &cas, &all, store, rounds ? n : n / 10);
    }
    rpc__cas_free(store);
    http_server_stop(srv);
    buf_release(&err);
    buf_release(&cas);
    buf_release(&all);
    return 0;
}

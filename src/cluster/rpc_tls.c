/*
 * cluster/rpc_tls.c: the CAs that https:// peers are verified against
 * (rpc.h: rpc_client_config.ca_pem, rpc_client_set_cas()).
 *
 * Parsed once. --certs-dir's CAs/ and the system's bundle (libcurl's
 * default CA file: about 150 certificates, 220 KB on Debian 12) go into one
 * OpenSSL X509_STORE that the SSL_CTX of every new connection takes a
 * reference to (CURLOPT_SSL_CTX_FUNCTION, SSL_CTX_set1_cert_store), with
 * libcurl's own CA file and folder turned off. Given as CURLOPT_CAINFO_BLOB,
 * the same PEM was parsed again by libcurl for each new pooled connection,
 * 17 times the CPU of the rest of the handshake (docs/benchmarks.md, "CA
 * bundle per RPC connection"). An X509_STORE is safe for concurrent
 * verifications (OpenSSL locks its lookups).
 *
 * Reload. rpc_client_set_cas() builds a new store and swaps it in under
 * `lock`; a connection's SSL_CTX keeps its own reference, so the old store
 * is freed when the last connection verified with it is closed, whatever
 * is in flight. Each pooled connection remembers the generation of the
 * store its last call was set up with: the first call on it after a swap
 * closes the TCP connection its multi handle caches and opens a new one
 * (rpc.c set_tls()), so every peer is verified against the new CAs at its
 * next call, and a CA taken out of CAs/ is no longer trusted by
 * connections that happen to stay open. TLS sessions are not resumed (a
 * resumed session skips the peer's certificate); pooled connections make
 * new handshakes rare anyway.
 *
 * Only for a libcurl built with OpenSSL (Debian's libcurl4-openssl-dev, the
 * one Basalt is built with): with another TLS library the callback cannot
 * be set, libcurl's defaults (the system's CAs) stay, and an error is
 * logged once.
 */
#include "util/base.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "cluster/internal.h"
#include "obs/log.h"
#include "util/buf.h"
#include "util/err.h"

#define SYSTEM_BUNDLE_MAX (8u << 20) /* bytes read from the system's CA file */

struct rpc_cas {
    pthread_mutex_t lock; /* protects store and gen */
    X509_STORE *store;    /* NULL until first needed or set */
    uint64_t gen;         /* 1 for the first store, +1 for each swap */
    atomic_bool warned;   /* the "not OpenSSL" error was logged */
};

/*
 * Adds every certificate of `pem` to `st`. `strict`: a broken PEM block or
 * no certificate at all fails (-ERR_INVAL, the reason in `errmsg`);
 * otherwise (the system's bundle) the certificates before the damage are
 * kept. Returns the number of certificates added. `errmsg` may be NULL.
 */
static ssize_t
add_pem(X509_STORE *st, const char *pem, size_t len, bool strict, struct buf *errmsg)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    ssize_t n = 0;
    unsigned long e;
    X509 *x;

    if (!bio)
        die("OpenSSL: out of memory");
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        if (X509_STORE_add_cert(st, x) != 1) {
            X509_free(x);
            break;
        }
        X509_free(x);
        n++;
    }
    e = ERR_peek_last_error();
    BIO_free(bio);
    if (e &&
        !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE && n > 0)) {
        if (strict) {
            char why[256];

            ERR_error_string_n(e, why, sizeof(why));
            if (errmsg)
                buf_addf(errmsg, "not a PEM certificate (%s)", n == 0 ? "none found" : why);
            n = -ERR_INVAL;
        }
    }
    ERR_clear_error();
    return n;
}

/* The system's bundle (libcurl's default CA file, if any) into `st`; its certificate count. */
static size_t
add_system(X509_STORE *st)
{
    struct buf pem = BUF_INIT;
    CURL *e = curl_easy_init();
    char *path = NULL, chunk[16384];
    FILE *f = NULL;
    ssize_t n = 0;
    size_t got;

    if (e && curl_easy_getinfo(e, CURLINFO_CAINFO, &path) == CURLE_OK && path)
        f = fopen(path, "re");
    while (f && pem.len < SYSTEM_BUNDLE_MAX && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&pem, chunk, got);
    if (f)
        fclose(f);
    curl_easy_cleanup(e);
    if (pem.len)
        n = add_pem(st, pem.ptr, pem.len, false, NULL);
    buf_release(&pem);
    return n > 0 ? (size_t)n : 0;
}

/* A store of `ca_pem` (may be NULL) and the system's CAs, as libcurl would set it up. */
static ssize_t
store_build(const char *ca_pem, X509_STORE **out, size_t *system_certs, struct buf *errmsg)
{
    X509_STORE *st = X509_STORE_new();
    ssize_t n = 0;

    if (!st)
        die("OpenSSL: out of memory");
    /* libcurl's flags for a store it fills (lib/vtls/openssl.c): trust our CAs before the
     * chain's, and a CA of CAs/ that is an intermediate is a trust anchor */
    X509_STORE_set_flags(st, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    if (ca_pem && *ca_pem)
        n = add_pem(st, ca_pem, strlen(ca_pem), true, errmsg);
    if (n < 0) {
        X509_STORE_free(st);
        return n;
    }
    *system_certs = add_system(st);
    *out = st;
    return n;
}

struct rpc_cas *
rpc__cas_new(void)
{
    struct rpc_cas *cas = xcalloc(1, sizeof(*cas));

    BUG_ON(pthread_mutex_init(&cas->lock, NULL) != 0);
    return cas;
}

void
rpc__cas_free(struct rpc_cas *cas)
{
    if (!cas)
        return;
    X509_STORE_free(cas->store);
    pthread_mutex_destroy(&cas->lock);
    free(cas);
}

ssize_t
rpc__cas_set(struct rpc_cas *cas, const char *ca_pem, size_t *system_certs, struct buf *errmsg)
{
    X509_STORE *st, *old;
    size_t sys = 0;
    ssize_t n = store_build(ca_pem, &st, &sys, errmsg);

    if (n < 0)
        return n;
    pthread_mutex_lock(&cas->lock);
    old = cas->store;
    cas->store = st;
    cas->gen++;
    pthread_mutex_unlock(&cas->lock);
    X509_STORE_free(old); /* our reference: connections hold theirs */
    if (system_certs)
        *system_certs = sys;
    return n;
}

ssize_t
rpc_client_set_cas(struct rpc_client *c, const char *ca_pem, size_t *system_certs,
                   struct buf *errmsg)
{
    return rpc__cas_set(c->cas, ca_pem, system_certs, errmsg);
}

/* libcurl's hook, on each new connection's SSL_CTX (after libcurl's own set-up). */
static CURLcode
on_ssl_ctx(CURL *easy, void *ssl_ctx, void *arg)
{
    struct rpc_cas *cas = arg;

    (void)easy;
    pthread_mutex_lock(&cas->lock);
    SSL_CTX_set1_cert_store(ssl_ctx, cas->store); /* a reference of the SSL_CTX's own */
    pthread_mutex_unlock(&cas->lock);
    return CURLE_OK;
}

bool
rpc__cas_apply(struct rpc_cas *cas, uint64_t *conn_gen, CURL *easy)
{
    uint64_t gen;
    bool changed;

    pthread_mutex_lock(&cas->lock);
    if (!cas->store) { /* no CAs/ given: the system's, parsed once */
        size_t sys = 0;

        BUG_ON(store_build(NULL, &cas->store, &sys, NULL) < 0);
        cas->gen++;
    }
    gen = cas->gen;
    pthread_mutex_unlock(&cas->lock);
    changed = *conn_gen && *conn_gen != gen;
    *conn_gen = gen;
    /* a resumed TLS session skips the peer's certificate: every connection verifies it */
    curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    if (curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK) {
        if (!atomic_exchange(&cas->warned, true))
            log_error(&(struct log_ctx){ .event = "rpc_tls_cas_unsupported" },
                      "libcurl is not built with OpenSSL: https:// peers are verified against "
                      "the system's CAs only, not --certs-dir's CAs/");
        return changed;
    }
    curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, cas);
    curl_easy_setopt(easy, CURLOPT_CAINFO, NULL); /* libcurl would parse them again */
    curl_easy_setopt(easy, CURLOPT_CAPATH, NULL);
#if LIBCURL_VERSION_NUM >= 0x075700
    curl_easy_setopt(easy, CURLOPT_CA_CACHE_TIMEOUT, 0L); /* no copy of our store in the multi */
#endif
    return changed;
}

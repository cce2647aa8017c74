/*
 * tests/unit/cluster/test_rpc_tls.c: node-to-node RPC over https:// on
 * loopback, verified against the CAs the client is given, and those CAs
 * replaced while the client runs (rpc_client_set_cas(), SIGHUP's CAs/
 * reload): a peer signed by a CA the client lacks is refused and marked
 * offline, and comes back once the CA is added; a broken PEM keeps the CAs
 * in use; taking a CA out makes the pooled connection verified again at
 * its next call. The CAs and the server's certificate are made here with
 * OpenSSL (EC P-256), written into a --certs-dir folder.
 */
#include "util/base.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/rpc.h"
#include "cluster/rpc_server.h"
#include "harness.h"
#include "http/http.h"
#include "http/tls.h"
#include "obs/log.h"
#include "util/clock.h"

#define MS 1000000ll

struct pki_cert {
    EVP_PKEY *key;
    X509 *crt;
};

static void
add_ext(X509 *crt, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, crt, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    BUG_ON(!ext || X509_add_ext(crt, ext, -1) != 1);
    X509_EXTENSION_free(ext);
}

/* A CA (issuer NULL: self-signed) or a leaf for 127.0.0.1 signed by `issuer`. */
static struct pki_cert
make_cert(const char *cn, const struct pki_cert *issuer, long serial)
{
    struct pki_cert c = { EVP_EC_gen("P-256"), X509_new() };
    X509_NAME *name = X509_NAME_new();

    BUG_ON(!c.key || !c.crt || !name);
    X509_set_version(c.crt, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c.crt), serial);
    X509_gmtime_adj(X509_getm_notBefore(c.crt), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c.crt), 86400);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(c.crt, name);
    X509_set_issuer_name(c.crt, issuer ? X509_get_subject_name(issuer->crt) : name);
    X509_set_pubkey(c.crt, c.key);
    if (issuer) {
        add_ext(c.crt, issuer->crt, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(c.crt, issuer->crt, NID_subject_alt_name, "IP:127.0.0.1");
    } else {
        add_ext(c.crt, c.crt, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c.crt, c.crt, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(c.crt, c.crt, NID_subject_key_identifier, "hash");
    }
    BUG_ON(X509_sign(c.crt, issuer ? issuer->key : c.key, EVP_sha256()) <= 0);
    X509_NAME_free(name);
    return c;
}

static void
cert_free(struct pki_cert *c)
{
    EVP_PKEY_free(c->key);
    X509_free(c->crt);
}

static void
cert_pem(const struct pki_cert *c, struct buf *out)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n;

    BUG_ON(!b || PEM_write_bio_X509(b, c->crt) != 1);
    n = BIO_get_mem_data(b, &p);
    buf_add(out, p, (size_t)n);
    BIO_free(b);
}

static void
write_pem(const char *path, const struct pki_cert *c, bool key)
{
    FILE *f = fopen(path, "w");

    BUG_ON(!f);
    BUG_ON(key ? PEM_write_PrivateKey(f, c->key, NULL, NULL, 0, NULL, NULL) != 1
               : PEM_write_X509(f, c->crt) != 1);
    fclose(f);
}

static void
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    BUG_ON(!f);
    fputs(text, f);
    fclose(f);
}

struct tls_fixture {
    struct pki_cert ca1, ca2, leaf; /* leaf: 127.0.0.1, signed by ca1 */
    char dir[512];                  /* --certs-dir */
    struct http_server *http;
    struct rpc_server *srv;
    struct rpc_client *cli;
    struct rpc_peer *peer;
};

static void
handler(void *arg, struct http_req *req)
{
    struct tls_fixture *f = arg;

    if (slice_starts_with(req->path, SLICE_LIT(RPC_PATH_PREFIX)))
        rpc_server_handle(f->srv, req);
    else
        http_resp_empty(req, 404);
}

static void
route_echo(void *arg, struct rpc_req *r)
{
    struct buf b = BUF_INIT;

    (void)arg;
    buf_add(&b, r->body.ptr, r->body.len);
    rpc_reply(r, 200, &b);
}

/* An HTTPS server with `leaf`, and a client trusting `ca_pem` (NULL: the system's only). */
static void
tls_start(struct tls_fixture *f, const char *ca_pem)
{
    struct http_config cfg = {
        .address = "127.0.0.1:0", .idle_timeout = 5, .header_limit = 64 * 1024, .certs_dir = f->dir
    };
    struct rpc_identity server_id, self;
    struct rpc_key key;
    struct rpc_client_config cc = { .key = &key,
                                    .self = &self,
                                    .probe_interval_ns = 50 * MS,
                                    .probe_timeout_ns = 1000 * MS,
                                    .ca_pem = ca_pem };
    struct buf err = BUF_INIT;
    char endpoint[64];

    log_set_quiet(true);
    rpc_key_derive(&key, NULL, "root", "secret-password");
    ASSERT_OK(rpc_identity_init(&server_id, "127.0.0.1:9001"));
    ASSERT_OK(rpc_identity_init(&self, "127.0.0.2:9000"));
    f->srv = rpc_server_new(&key, &server_id);
    ASSERT_OK(rpc_server_route(f->srv, "POST", "/echo", route_echo, f));
    ASSERT_OK(http_server_listen(&cfg, &f->http, &err));
    ASSERT_OK(http_server_start(f->http, handler, f, &err));
    snprintf(endpoint, sizeof(endpoint), "https://127.0.0.1:%d", http_server_port(f->http));
    ASSERT_OK(rpc_client_new(&cc, &f->cli));
    ASSERT_OK(rpc_client_add_peer(f->cli, endpoint, &f->peer));
    buf_release(&err);
}

static void
tls_fixture_init(struct tls_fixture *f)
{
    struct buf p = BUF_INIT;

    memset(f, 0, sizeof(*f));
    f->ca1 = make_cert("Test CA 1", NULL, 1);
    f->ca2 = make_cert("Test CA 2", NULL, 2);
    f->leaf = make_cert("127.0.0.1", &f->ca1, 3);
    snprintf(f->dir, sizeof(f->dir), "%s", harness_tmpdir());
    buf_addf(&p, "%s/public.crt", f->dir);
    write_pem(p.ptr, &f->leaf, false);
    buf_clear(&p);
    buf_addf(&p, "%s/private.key", f->dir);
    write_pem(p.ptr, &f->leaf, true);
    buf_release(&p);
}

static void
tls_stop(struct tls_fixture *f)
{
    rpc_client_free(f->cli);
    http_server_stop(f->http);
    rpc_server_free(f->srv);
    cert_free(&f->ca1);
    cert_free(&f->ca2);
    cert_free(&f->leaf);
}

static int
echo(struct rpc_peer *p)
{
    struct rpc_resp resp = RPC_RESP_INIT;
    struct rpc_call call = { .method = "POST",
                             .path = "/echo",
                             .body = SLICE_LIT("hi"),
                             .deadline_ns = clock_mono_ns() + 5000 * MS };
    int rc = rpc_call(p, &call, &resp);

    if (rc == 0 && (resp.status != 200 || !slice_eq_cstr(buf_slice(&resp.body), "hi")))
        rc = -ERR_IO;
    rpc_resp_release(&resp);
    return rc;
}

/* Waits for the prober to bring the peer back (its interval is 50 ms). */
static bool
wait_online(struct rpc_peer *p)
{
    int64_t end = clock_mono_ns() + 10000 * MS;

    while (!rpc_peer_is_online(p) && clock_mono_ns() < end)
        usleep(10000);
    return rpc_peer_is_online(p);
}

TEST(rpc_tls_cas_reload)
{
    struct tls_fixture f;
    struct buf ca1 = BUF_INIT, ca2 = BUF_INIT, both = BUF_INIT, err = BUF_INIT;
    struct rpc_peer_stats st;
    size_t sys = 0;
    int i;

    tls_fixture_init(&f);
    cert_pem(&f.ca1, &ca1);
    cert_pem(&f.ca2, &ca2);
    buf_addslice(&both, buf_slice(&ca2));
    buf_addslice(&both, buf_slice(&ca1));

    /* the client trusts CA 2 only: the peer (CA 1) is refused, and offline */
    tls_start(&f, ca2.ptr);
    ASSERT_EQ(echo(f.peer), -ERR_IO);
    ASSERT(!rpc_peer_is_online(f.peer));

    /* a broken PEM is refused, the CAs in use stay */
    ASSERT_EQ(rpc_client_set_cas(f.cli,
                                 "-----BEGIN CERTIFICATE-----\nnot base64\n"
                                 "-----END CERTIFICATE-----\n",
                                 NULL, &err),
              -ERR_INVAL);
    ASSERT(strstr(err.ptr, "not a PEM certificate"));
    buf_clear(&err);
    ASSERT_EQ(rpc_client_set_cas(f.cli, "no certificate here\n", NULL, &err), -ERR_INVAL);

    /* CA 1 added: the prober finds the peer again; calls reuse one connection */
    ASSERT_EQ(rpc_client_set_cas(f.cli, both.ptr, &sys, &err), 2);
    ASSERT(wait_online(f.peer));
    for (i = 0; i < 20; i++)
        ASSERT_OK(echo(f.peer));
    rpc_peer_stats(f.peer, &st);
    ASSERT(st.connects >= 1);
    {
        uint64_t before = st.connects;

        /* the same CAs again: the next call opens a new connection (verified again) */
        ASSERT_EQ(rpc_client_set_cas(f.cli, both.ptr, NULL, &err), 2);
        ASSERT_OK(echo(f.peer));
        rpc_peer_stats(f.peer, &st);
        ASSERT_EQ(st.connects, before + 1);
        ASSERT_OK(echo(f.peer));
        rpc_peer_stats(f.peer, &st);
        ASSERT_EQ(st.connects, before + 1); /* and keeps it */
    }

    /* CA 1 taken out: the pooled connection is not trusted any more */
    ASSERT_EQ(rpc_client_set_cas(f.cli, ca2.ptr, NULL, &err), 1);
    ASSERT_EQ(echo(f.peer), -ERR_IO);
    ASSERT(!rpc_peer_is_online(f.peer));
    /* and stays so: the prober's calls (every 50 ms) do not find the old connection again */
    usleep(400 * 1000);
    ASSERT(!rpc_peer_is_online(f.peer));

    buf_release(&ca1);
    buf_release(&ca2);
    buf_release(&both);
    buf_release(&err);
    tls_stop(&f);
}

/* Without CAs of its own, the client trusts the system's only: a private CA's peer is refused. */
TEST(rpc_tls_system_cas_only)
{
    struct tls_fixture f;
    struct buf ca1 = BUF_INIT, err = BUF_INIT;

    tls_fixture_init(&f);
    tls_start(&f, NULL);
    ASSERT_EQ(echo(f.peer), -ERR_IO);
    cert_pem(&f.ca1, &ca1);
    ASSERT_EQ(rpc_client_set_cas(f.cli, ca1.ptr, NULL, &err), 1);
    ASSERT(wait_online(f.peer));
    ASSERT_OK(echo(f.peer));
    buf_release(&ca1);
    buf_release(&err);
    tls_stop(&f);
}

/* tls_load_cas(): counts certificates, names the file of a broken one. */
TEST(tls_load_cas_counts_and_refuses)
{
    struct tls_fixture f;
    struct buf path = BUF_INIT, pem = BUF_INIT, err = BUF_INIT, two = BUF_INIT;

    tls_fixture_init(&f);
    ASSERT_EQ(tls_load_cas(f.dir, &pem, &err), 0); /* no CAs/ */
    buf_addf(&path, "%s/CAs", f.dir);
    ASSERT_OK(mkdir(path.ptr, 0700) == 0 ? 0 : -ERR_IO);
    buf_addf(&path, "/both.pem");
    cert_pem(&f.ca1, &two);
    cert_pem(&f.ca2, &two);
    write_text(path.ptr, two.ptr);
    buf_setlen(&path, strlen(f.dir) + 4);
    buf_addf(&path, "/notes.txt");
    write_text(path.ptr, "not a certificate: skipped\n");
    ASSERT_EQ(tls_load_cas(f.dir, &pem, &err), 2);
    ASSERT_EQ(pem.len, two.len + 1);
    buf_setlen(&path, strlen(f.dir) + 4);
    buf_addf(&path, "/broken.crt");
    write_text(path.ptr, "-----BEGIN CERTIFICATE-----\nMIIB!!!\n-----END CERTIFICATE-----\n");
    buf_clear(&pem);
    ASSERT_EQ(tls_load_cas(f.dir, &pem, &err), -ERR_INVAL);
    ASSERT(strstr(err.ptr, "broken.crt") && strstr(err.ptr, "not a PEM certificate"));
    buf_release(&path);
    buf_release(&pem);
    buf_release(&err);
    buf_release(&two);
    cert_free(&f.ca1);
    cert_free(&f.ca2);
    cert_free(&f.leaf);
}

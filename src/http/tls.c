/*
 * http/tls.c: the certificates of `--certs-dir` (http/tls.h) and the
 * GnuTLS certificate callback libmicrohttpd (or Basalt's own front,
 * http/front.c, on its sessions) calls on each handshake.
 *
 * Why libmicrohttpd's own TLS (GnuTLS) and not OpenSSL in front of it:
 * libmicrohttpd 0.9.75 can only encrypt through GnuTLS, which it drives
 * from the connection thread, so the HTTP machinery (http.c) is unchanged
 * and there is no second TLS stack to keep up to date on the server; both
 * libraries use AES-NI and reach the same bulk speed (docs/benchmarks.md).
 * The clients (libcurl in client/ and cluster/) keep OpenSSL.
 *
 * Lifetimes. A `struct tls_snap` (every certificate of the folder, as DER)
 * is immutable and refcounted; `t->cur` points at the current one
 * (protected by t->lock). The callback takes a reference, copies the chosen
 * chain and key into objects that GnuTLS owns and frees with the session
 * (GNUTLS_CERT_RETR_DEINIT_ALL), and drops its reference: a reload frees
 * the old snapshot once no callback is using it, whatever handshakes or
 * connections are still open.
 *
 * The callback has no argument of ours: GnuTLS passes the session, whose
 * pointer libmicrohttpd sets to its connection; the connection names the
 * daemon, whose listening socket keys the small table `daemons` below (the
 * one process-wide state here, forced by that callback type). Basalt's own
 * front sets the session's pointer itself, to the tls_certs
 * (on_cert_front).
 */
#include "util/base.h"

#include "http/tls.h"

#include <dirent.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "obs/log.h"
#include "util/err.h"

/* TLS 1.2 and 1.3 only; AEAD ciphers (AES-GCM, ChaCha20-Poly1305) with ECDHE only. */
#define TLS_PRIORITIES                                                                             \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"         \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"
#define TLS_FILE_MAX (1u << 20) /* bytes of a certificate or key file */
#define TLS_MAX_DAEMONS 16

struct tls_cert {
    char *name;            /* "" for DIR/public.crt, else the subfolder's name */
    gnutls_datum_t *chain; /* DER, the leaf first */
    unsigned nchain;
    gnutls_datum_t key;     /* DER, PKCS#8 */
    gnutls_x509_crt_t leaf; /* for the SNI match; read only once loaded */
};

struct tls_snap {
    atomic_int refs;
    struct tls_cert *certs; /* [0] is the default */
    size_t n;
};

struct tls_certs {
    char *dir;
    pthread_mutex_t lock;
    struct tls_snap *cur; /* protected by lock */
    /* Basalt's front (tls_session_new): made once by tls_certs_front(), read only after */
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
};

static struct {
    pthread_mutex_t lock;
    struct {
        int fd;
        struct tls_certs *t;
    } d[TLS_MAX_DAEMONS];
} daemons = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- loading ---- */

static int
read_file(const char *path, struct buf *out, struct buf *errmsg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        buf_addf(errmsg, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? -ERR_NOT_FOUND : -ERR_IO;
    }
    for (;;) {
        buf_grow(out, 64 * 1024);
        n = read(fd, out->ptr + out->len, out->_alloc - out->len - 1);
        if (n <= 0)
            break;
        buf_setlen(out, out->len + (size_t)n);
        if (out->len > TLS_FILE_MAX)
            break;
    }
    close(fd);
    if (n < 0) {
        buf_addf(errmsg, "%s: %s", path, strerror(errno));
        return -ERR_IO;
    }
    if (out->len > TLS_FILE_MAX) {
        buf_addf(errmsg, "%s: larger than %u bytes", path, TLS_FILE_MAX);
        return -ERR_INVAL;
    }
    return 0;
}

static void
cert_release(struct tls_cert *c)
{
    unsigned i;

    for (i = 0; i < c->nchain; i++)
        gnutls_free(c->chain[i].data);
    free(c->chain);
    if (c->key.data) {
        memset(c->key.data, 0, c->key.size);
        gnutls_free(c->key.data);
    }
    if (c->leaf)
        gnutls_x509_crt_deinit(c->leaf);
    free(c->name);
}

/* Warns (does not fail) when the leaf is outside its validity period. */
static void
check_dates(const char *path, gnutls_x509_crt_t leaf)
{
    time_t now = time(NULL);

    if (gnutls_x509_crt_get_expiration_time(leaf) < now)
        log_warn(&(struct log_ctx){ .event = "tls_cert_expired" },
                 "%s: the certificate has expired: clients will refuse it", path);
    else if (gnutls_x509_crt_get_activation_time(leaf) > now)
        log_warn(&(struct log_ctx){ .event = "tls_cert_not_yet_valid" },
                 "%s: the certificate is not valid yet: clients will refuse it", path);
}

/* The certificates of the PEM file `path` (at least one; free with gnutls_free), or -ERR_INVAL. */
static int
import_certs(const char *path, const struct buf *pem, gnutls_x509_crt_t **crts, unsigned *n,
             struct buf *errmsg)
{
    gnutls_datum_t in = { (unsigned char *)pem->ptr, (unsigned)pem->len };
    int grc;

    *crts = NULL;
    *n = 0;
    grc = gnutls_x509_crt_list_import2(crts, n, &in, GNUTLS_X509_FMT_PEM, 0);
    if (grc < 0 || *n == 0) {
        buf_addf(errmsg, "%s: not a PEM certificate (%s)", path,
                 grc < 0 ? gnutls_strerror(grc) : "none found");
        return -ERR_INVAL;
    }
    return 0;
}

static int
load_chain(const char *path, const struct buf *pem, struct tls_cert *c, struct buf *errmsg)
{
    gnutls_x509_crt_t *crts;
    unsigned i, n;
    int grc;

    grc = import_certs(path, pem, &crts, &n, errmsg);
    if (grc < 0)
        return grc;
    c->chain = xcalloc(n, sizeof(*c->chain));
    for (i = 0; i < n; i++) {
        if (grc >= 0 && gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &c->chain[i]) == 0)
            c->nchain++;
        else
            grc = -1;
        if (i > 0)
            gnutls_x509_crt_deinit(crts[i]);
    }
    c->leaf = crts[0];
    gnutls_free(crts);
    if (grc < 0) {
        buf_addf(errmsg, "%s: cannot encode the certificate", path);
        return -ERR_INVAL;
    }
    check_dates(path, c->leaf);
    return 0;
}

/* The key as PKCS#8 DER, after checking that it is the leaf's. */
static int
load_key(const char *path, const struct buf *pem, struct tls_cert *c, struct buf *errmsg)
{
    gnutls_datum_t in = { (unsigned char *)pem->ptr, (unsigned)pem->len };
    gnutls_x509_privkey_t key = NULL;
    unsigned char kid[64], cid[64];
    size_t klen = sizeof(kid), clen = sizeof(cid);
    int rc = -ERR_INVAL, grc;

    gnutls_x509_privkey_init(&key);
    grc = gnutls_x509_privkey_import2(key, &in, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (grc < 0) {
        buf_addf(errmsg, "%s: not a PEM private key, or an encrypted one (%s)", path,
                 gnutls_strerror(grc));
        goto out;
    }
    if (gnutls_x509_privkey_get_key_id(key, 0, kid, &klen) < 0 ||
        gnutls_x509_crt_get_key_id(c->leaf, 0, cid, &clen) < 0 || klen != clen ||
        memcmp(kid, cid, klen)) {
        buf_addf(errmsg, "%s: the private key does not match the certificate in public.crt", path);
        goto out;
    }
    grc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN,
                                            &c->key);
    if (grc < 0) {
        buf_addf(errmsg, "%s: cannot encode the key (%s)", path, gnutls_strerror(grc));
        goto out;
    }
    rc = 0;
out:
    gnutls_x509_privkey_deinit(key);
    return rc;
}

/* DIR[/NAME]/public.crt and private.key into `c`. */
static int
load_pair(const char *dir, const char *name, struct tls_cert *c, struct buf *errmsg)
{
    struct buf crt_path = BUF_INIT, key_path = BUF_INIT, pem = BUF_INIT;
    int rc;

    c->name = xstrdup(name);
    buf_addf(&crt_path, "%s%s%s/public.crt", dir, *name ? "/" : "", name);
    buf_addf(&key_path, "%s%s%s/private.key", dir, *name ? "/" : "", name);
    rc = read_file(crt_path.ptr, &pem, errmsg);
    if (rc == 0)
        rc = load_chain(crt_path.ptr, &pem, c, errmsg);
    buf_clear(&pem);
    if (rc == 0)
        rc = read_file(key_path.ptr, &pem, errmsg);
    if (rc == 0)
        rc = load_key(key_path.ptr, &pem, c, errmsg);
    buf_release_secure(&pem);
    buf_release(&crt_path);
    buf_release(&key_path);
    return rc;
}

static void
snap_unref(struct tls_snap *s)
{
    size_t i;

    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (i = 0; i < s->n; i++)
        cert_release(&s->certs[i]);
    free(s->certs);
    free(s);
}

static bool
has_pair(const char *dir, const char *name)
{
    struct buf p = BUF_INIT;
    struct stat st;
    bool ok;

    buf_addf(&p, "%s/%s/public.crt", dir, name);
    ok = stat(p.ptr, &st) == 0;
    buf_release(&p);
    return ok;
}

/* The default pair, then every DIR/NAME/ holding a public.crt (CAs/ is not a certificate). */
static int
snap_load(const char *dir, struct tls_snap **out, struct buf *errmsg)
{
    struct tls_snap *s = xcalloc(1, sizeof(*s));
    struct dirent *de;
    DIR *d;
    int rc;

    atomic_init(&s->refs, 1);
    s->certs = xcalloc(1, sizeof(*s->certs));
    s->n = 1;
    rc = load_pair(dir, "", &s->certs[0], errmsg);
    d = rc == 0 ? opendir(dir) : NULL;
    while (d && rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, "CAs") || !has_pair(dir, de->d_name))
            continue;
        s->certs = xrealloc(s->certs, (s->n + 1) * sizeof(*s->certs));
        memset(&s->certs[s->n], 0, sizeof(*s->certs));
        rc = load_pair(dir, de->d_name, &s->certs[s->n++], errmsg);
    }
    if (d)
        closedir(d);
    if (rc < 0) {
        snap_unref(s);
        return rc;
    }
    *out = s;
    return 0;
}

int
tls_certs_open(const char *dir, struct tls_certs **out, struct buf *errmsg)
{
    struct tls_snap *s;
    struct tls_certs *t;
    int rc;

    rc = snap_load(dir, &s, errmsg);
    if (rc < 0)
        return rc;
    t = xcalloc(1, sizeof(*t));
    t->dir = xstrdup(dir);
    BUG_ON(pthread_mutex_init(&t->lock, NULL) != 0);
    t->cur = s;
    *out = t;
    return 0;
}

int
tls_certs_reload(struct tls_certs *t, struct buf *errmsg)
{
    struct tls_snap *s, *old;
    int rc;

    rc = snap_load(t->dir, &s, errmsg);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&t->lock);
    old = t->cur;
    t->cur = s;
    pthread_mutex_unlock(&t->lock);
    snap_unref(old);
    return 0;
}

/* ---- the handshake ---- */

static struct tls_certs *
certs_of_session(gnutls_session_t session)
{
    struct MHD_Connection *conn = gnutls_session_get_ptr(session);
    const union MHD_ConnectionInfo *ci;
    const union MHD_DaemonInfo *di;
    struct tls_certs *t = NULL;
    size_t i;

    ci = conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON) : NULL;
    di = ci ? MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_LISTEN_FD) : NULL;
    if (!di)
        return NULL;
    pthread_mutex_lock(&daemons.lock);
    for (i = 0; i < TLS_MAX_DAEMONS; i++)
        if (daemons.d[i].t && daemons.d[i].fd == di->listen_fd)
            t = daemons.d[i].t;
    pthread_mutex_unlock(&daemons.lock);
    return t;
}

static struct tls_snap *
snap_current(struct tls_certs *t)
{
    struct tls_snap *s;

    pthread_mutex_lock(&t->lock);
    s = t->cur;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&t->lock);
    return s;
}

/* The certificate whose names match the client's SNI; the default one otherwise. */
static const struct tls_cert *
pick(const struct tls_snap *s, gnutls_session_t session)
{
    char name[256];
    size_t len = sizeof(name), i;
    unsigned type;

    if (s->n == 1 || gnutls_server_name_get(session, name, &len, &type, 0) < 0 ||
        type != GNUTLS_NAME_DNS)
        return &s->certs[0];
    for (i = 1; i < s->n; i++)
        if (gnutls_x509_crt_check_hostname(s->certs[i].leaf, name))
            return &s->certs[i];
    return &s->certs[0];
}

/* Copies `c` into objects the session owns (freed by GnuTLS: GNUTLS_CERT_RETR_DEINIT_ALL). */
static int
copy_cert(const struct tls_cert *c, gnutls_pcert_st **pcerts, gnutls_privkey_t *key)
{
    gnutls_pcert_st *p = gnutls_calloc(c->nchain, sizeof(*p));
    gnutls_privkey_t k = NULL;
    unsigned i, done = 0;
    int grc = p ? 0 : GNUTLS_E_MEMORY_ERROR;

    for (i = 0; i < c->nchain && grc == 0; i++) {
        grc = gnutls_pcert_import_x509_raw(&p[i], &c->chain[i], GNUTLS_X509_FMT_DER, 0);
        if (grc == 0)
            done++;
    }
    if (grc == 0)
        grc = gnutls_privkey_init(&k);
    if (grc == 0)
        grc = gnutls_privkey_import_x509_raw(k, &c->key, GNUTLS_X509_FMT_DER, NULL, 0);
    if (grc == 0) {
        *pcerts = p;
        *key = k;
        return 0;
    }
    for (i = 0; i < done; i++)
        gnutls_pcert_deinit(&p[i]);
    gnutls_privkey_deinit(k);
    gnutls_free(p);
    return grc;
}

static int
answer_cert(struct tls_certs *t, gnutls_session_t session, gnutls_pcert_st **certs,
            unsigned int *ncerts, gnutls_ocsp_data_st **ocsp, unsigned int *nocsp,
            gnutls_privkey_t *key, unsigned int *flags)
{
    const struct tls_cert *c;
    struct tls_snap *s;
    int grc;

    if (!t)
        return -1;
    s = snap_current(t);
    c = pick(s, session);
    grc = copy_cert(c, certs, key);
    if (grc == 0) {
        *ncerts = c->nchain;
        *ocsp = NULL;
        *nocsp = 0;
        *flags = GNUTLS_CERT_RETR_DEINIT_ALL;
    } else {
        log_warn(&(struct log_ctx){ .event = "tls_error" }, "certificate for a handshake: %s",
                 gnutls_strerror(grc));
    }
    snap_unref(s);
    return grc == 0 ? 0 : -1;
}

/* libmicrohttpd's sessions: the certificates of the daemon's listening socket. */
static int
on_cert(gnutls_session_t session, const struct gnutls_cert_retr_st *info, gnutls_pcert_st **certs,
        unsigned int *ncerts, gnutls_ocsp_data_st **ocsp, unsigned int *nocsp,
        gnutls_privkey_t *key, unsigned int *flags)
{
    return answer_cert(certs_of_session(session), session, certs, ncerts, ocsp, nocsp, key, flags);
}

/* Basalt's front's sessions: the session's pointer is the tls_certs. */
static int
on_cert_front(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
              gnutls_pcert_st **certs, unsigned int *ncerts, gnutls_ocsp_data_st **ocsp,
              unsigned int *nocsp, gnutls_privkey_t *key, unsigned int *flags)
{
    return answer_cert(gnutls_session_get_ptr(session), session, certs, ncerts, ocsp, nocsp, key,
                       flags);
}

int
tls_certs_front(struct tls_certs *t, struct buf *errmsg)
{
    int grc = gnutls_certificate_allocate_credentials(&t->cred);

    if (grc == 0) {
        gnutls_certificate_set_retrieve_function3(t->cred, on_cert_front);
        grc = gnutls_priority_init(&t->prio, TLS_PRIORITIES, NULL);
    }
    if (grc < 0) {
        buf_addf(errmsg, "TLS: %s", gnutls_strerror(grc));
        return -ERR_IO;
    }
    return 0;
}

int
tls_session_new(struct tls_certs *t, int fd, gnutls_session_t *out)
{
    gnutls_session_t s = NULL;
    int grc = gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);

    if (grc == 0)
        grc = gnutls_priority_set(s, t->prio);
    if (grc == 0)
        grc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->cred);
    if (grc < 0) {
        log_warn(&(struct log_ctx){ .event = "tls_error" }, "TLS session: %s",
                 gnutls_strerror(grc));
        if (s)
            gnutls_deinit(s);
        return -ERR_IO;
    }
    gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
    gnutls_session_set_ptr(s, t);
    gnutls_transport_set_int(s, fd);
    *out = s;
    return 0;
}

void
tls_certs_options(struct tls_certs *t, int listen_fd, struct MHD_OptionItem *items)
{
    size_t i;

    pthread_mutex_lock(&daemons.lock);
    for (i = 0; i < TLS_MAX_DAEMONS && daemons.d[i].t; i++)
        ;
    BUG_ON(i == TLS_MAX_DAEMONS);
    daemons.d[i].fd = listen_fd;
    daemons.d[i].t = t;
    pthread_mutex_unlock(&daemons.lock);
    items[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES };
    items[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK2, 0, (void *)on_cert };
    items[2] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}

void
tls_certs_free(struct tls_certs *t)
{
    size_t i;

    if (!t)
        return;
    pthread_mutex_lock(&daemons.lock);
    for (i = 0; i < TLS_MAX_DAEMONS; i++)
        if (daemons.d[i].t == t)
            daemons.d[i].t = NULL;
    pthread_mutex_unlock(&daemons.lock);
    snap_unref(t->cur);
    if (t->cred)
        gnutls_certificate_free_credentials(t->cred);
    if (t->prio)
        gnutls_priority_deinit(t->prio);
    pthread_mutex_destroy(&t->lock);
    free(t->dir);
    free(t);
}

/* ---- trusted CAs ---- */

/* The number of certificates in the PEM file `path`, or -ERR_INVAL if a block is broken. */
static ssize_t
count_certs(const char *path, const struct buf *pem, struct buf *errmsg)
{
    gnutls_x509_crt_t *crts;
    unsigned i, n;

    if (import_certs(path, pem, &crts, &n, errmsg) < 0)
        return -ERR_INVAL;
    for (i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    return n;
}

ssize_t
tls_load_cas(const char *dir, struct buf *pem, struct buf *errmsg)
{
    struct buf path = BUF_INIT, one = BUF_INIT;
    struct dirent *de;
    ssize_t n = 0, ncerts;
    DIR *d;

    buf_addf(&path, "%s/CAs", dir);
    d = opendir(path.ptr);
    if (!d) {
        if (errno != ENOENT) {
            buf_addf(errmsg, "%s: %s", path.ptr, strerror(errno));
            n = -ERR_IO;
        }
        goto out;
    }
    while (n >= 0 && (de = readdir(d))) {
        struct stat st;

        buf_setlen(&path, strlen(dir) + 4);
        buf_addf(&path, "/%s", de->d_name);
        if (de->d_name[0] == '.' || stat(path.ptr, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        buf_clear(&one);
        if (read_file(path.ptr, &one, errmsg) < 0) {
            n = -ERR_IO;
            break;
        }
        if (!strstr(one.ptr, "-----BEGIN CERTIFICATE-----"))
            continue;
        ncerts = count_certs(path.ptr, &one, errmsg);
        if (ncerts < 0) {
            n = ncerts;
            break;
        }
        buf_addslice(pem, buf_slice(&one));
        buf_addch(pem, '\n');
        n += ncerts;
    }
    closedir(d);
out:
    buf_release(&one);
    buf_release(&path);
    return n;
}

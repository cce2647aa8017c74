/*
 * http/tls.h: the server's certificates for HTTPS (`--certs-dir`), in
 * MinIO's layout so that a MinIO deployment's folder carries over:
 *
 *   DIR/public.crt, DIR/private.key     the default certificate (chain) and key
 *   DIR/NAME/public.crt, private.key    more certificates, picked by SNI
 *   DIR/CAs/                            CAs this node trusts for its peers (any file names)
 *
 * TLS runs inside libmicrohttpd (GnuTLS), or in Basalt's own front on its
 * sessions (tls_session_new): tls_certs_options() gives the
 * daemon the priority string (TLS 1.2 and 1.3, AEAD ciphers only) and a
 * certificate callback that picks, per handshake, the certificate whose
 * names match the client's SNI (the default one otherwise) from the
 * current snapshot. A reload builds a new snapshot and swaps it in: new
 * handshakes use it, established connections are not touched. Each
 * handshake gets its own copy of the chosen chain and key (GnuTLS frees it
 * with the session), so a snapshot is freed as soon as it is replaced,
 * never under a handshake.
 */
#ifndef BASALT_HTTP_TLS_H
#define BASALT_HTTP_TLS_H

#include "util/base.h"

#include "util/buf.h"

struct tls_certs;
struct MHD_OptionItem;
typedef struct gnutls_session_int *gnutls_session_t;

#define TLS_MHD_OPTIONS 3 /* items tls_certs_options() fills, the final MHD_OPTION_END included */

/*
 * Loads every certificate of `dir`. Returns 0 and `*out`, or -ERR_NOT_FOUND
 * (no DIR/public.crt or DIR/private.key), -ERR_IO (unreadable),
 * -ERR_INVAL (not PEM, or a key that does not match its certificate), with a
 * sentence naming the file in `errmsg`. Logs a warning for a certificate
 * that is expired or not yet valid (clients will refuse it).
 */
int tls_certs_open(const char *dir, struct tls_certs **out, struct buf *errmsg);

/*
 * Loads `dir` again and swaps the new certificates in for the handshakes
 * that start from now on. On error (as tls_certs_open) the certificates in
 * use stay and the reason is in `errmsg`. Any thread.
 */
int tls_certs_reload(struct tls_certs *t, struct buf *errmsg);

/*
 * Fills `items[TLS_MHD_OPTIONS]` (for MHD_OPTION_ARRAY) for a daemon with
 * MHD_USE_TLS listening on `listen_fd`: the handshakes on that socket use
 * `t`, which must outlive the daemon. Call once per daemon.
 */
void tls_certs_options(struct tls_certs *t, int listen_fd, struct MHD_OptionItem *items);

/*
 * Basalt's front (http/front.c) does TLS on its own sockets with the same
 * certificates and callback: tls_certs_front() makes `t`'s credentials
 * and priorities once (0, or -ERR_IO with the reason in `errmsg`), then
 * tls_session_new() makes a non-blocking server session on `fd` (0 and
 * `*out`, or -ERR_IO, logged). The caller runs the handshake and
 * gnutls_deinit()s the session; `t` must outlive its sessions.
 */
int tls_certs_front(struct tls_certs *t, struct buf *errmsg);
int tls_session_new(struct tls_certs *t, int fd, gnutls_session_t *out);

/* Forgets the daemon of tls_certs_options and frees `t` (NULL is fine). After the daemon stopped.
 */
void tls_certs_free(struct tls_certs *t);

/*
 * Appends the PEM of every file in DIR/CAs/ (any name; subfolders and
 * files without a PEM certificate are skipped) to `pem`. Returns the
 * number of certificates taken (0 when DIR/CAs/ is absent), or -ERR_IO
 * (unreadable), -ERR_INVAL (a file with a broken PEM certificate) with a
 * sentence naming the file in `errmsg`.
 */
ssize_t tls_load_cas(const char *dir, struct buf *pem, struct buf *errmsg);

#endif

/*
 * cluster/endpoint.h: ellipsis expansion of the server's drive arguments, as
 * MinIO writes them: `basalt server http://node{1...4}:9000/data{1...2}`.
 *
 * A `{A...B}` (three dots, A and B decimal, A <= B) stands for A, A+1, ... B;
 * when A has a leading zero (`{01...16}`) every number is zero-padded to the
 * width of A. Braces without three dots (`{1..4}`, `{a,b}`) are kept
 * literally; an unbalanced or nested brace is an error.
 *
 * Several ellipses in one argument give their cartesian product, the leftmost
 * varying fastest (MinIO's order): `http://n{1...2}/d{1...2}` gives n1/d1,
 * n2/d1, n1/d2, n2/d2. So consecutive endpoints sit on different nodes and an
 * erasure set cut from consecutive endpoints spans the nodes.
 *
 * After expansion each endpoint is parsed (endpoint_parse): it is either a
 * folder path (single-node mode, relative or absolute, as before) or a URL
 *
 *     http://HOST[:PORT]/ABSOLUTE/PATH        (https:// is recorded as TLS)
 *
 * where HOST is a DNS name (letters, digits, '-', '_', non-empty labels of at
 * most 63 bytes, 253 in all; compared case-insensitively), a dotted IPv4
 * address or a bracketed IPv6 address ([::1], no zone id). PORT is 1-65535;
 * when absent, the caller's default applies: the port of --address, MinIO's
 * rule, so every node must then listen on the same port (a node that does
 * not computes other endpoints, and the layout handshake refuses it). The
 * path may use %XX escapes; after decoding it must hold no NUL or control
 * character and no '.' or '..' segment, and it may not be "/" itself.
 *
 * Anything that looks like a URL (it holds "://" or starts with "http:" or
 * "https:", in any case) is parsed as a URL and never taken for a folder:
 * `http:/x` is an error, not a folder named "http:".
 *
 * The canonical text of an endpoint (`struct endpoint.text`) is what the
 * layout hashes and nodes compare; two endpoints are the same drive exactly
 * when their texts are equal:
 *  - URL: "http" or "https", "://", the host (DNS name in lowercase, IPv4 and
 *    IPv6 as inet_ntop() writes them, IPv6 in brackets), ':', the port in
 *    decimal, then the decoded path with runs of '/' collapsed and no
 *    trailing '/', in which bytes <= 0x20 or >= 0x7f and the characters
 *    % ? # " \ are written %XX (uppercase hex): always ASCII, and parsing
 *    it again gives the same endpoint;
 *  - folder path: the path with runs of '/' collapsed and no trailing '/'
 *    ("/" stays "/"), otherwise as given.
 */
#ifndef BASALT_CLUSTER_ENDPOINT_H
#define BASALT_CLUSTER_ENDPOINT_H

#include "util/base.h"

#include "util/buf.h"

#define ENDPOINT_MAX_EXPANSION 1024 /* endpoints from one argument */
#define ENDPOINT_MAX_LEN 1024       /* bytes of one endpoint, after expansion */

/* A list of malloc'd strings; zero-initialise or use ENDPOINT_LIST_INIT. */
struct endpoint_list {
    char **items;
    size_t n;
    size_t _alloc;
};

#define ENDPOINT_LIST_INIT                                                                         \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Frees every string and the array; `l` is empty again. */
void endpoint_list_release(struct endpoint_list *l);

/*
 * Expands the ellipses of `arg` and appends the endpoints to `out`, in order.
 * Returns 0, or -ERR_INVAL with a sentence in `errmsg` (when non-NULL) for an
 * empty argument, an unbalanced or nested brace, a bound that is not a
 * decimal number, a descending range, or more than ENDPOINT_MAX_EXPANSION
 * endpoints. `out` is unchanged on error.
 */
int endpoint_expand(const char *arg, struct endpoint_list *out, struct buf *errmsg);

/*
 * endpoint_expand() over `argc` arguments, in order, then rejects an endpoint
 * that appears twice (-ERR_INVAL, naming it). `out` is unchanged on error.
 */
int endpoint_expand_all(int argc, char *const *argv, struct endpoint_list *out, struct buf *errmsg);

/* True when `arg` holds at least one `{A...B}`. */
bool endpoint_has_ellipsis(const char *arg);

/*
 * One parsed endpoint: a drive folder on a node. Filled by endpoint_parse(),
 * released by endpoint_release(); callers read the fields. `node` and
 * `is_local` belong to the layout (cluster/layout.h), which sets them.
 */
struct endpoint {
    char *arg;     /* the endpoint as given (after expansion), for messages */
    char *text;    /* canonical text (see the top of this file) */
    char *host;    /* URL: canonical host, IPv6 without brackets; NULL for a folder path */
    char *path;    /* the drive's folder on its node: decoded, normalised */
    uint16_t port; /* URL: 1..65535; 0 for a folder path */
    bool is_url;
    bool tls;      /* https:// */
    unsigned node; /* the layout's index of HOST:PORT; 0 for a folder path */
    bool is_local; /* this process serves the drive (layout_mark_local()) */
};

/*
 * True when `arg` must be parsed as a URL: it holds "://" or starts with
 * "http:" or "https:" (any case).
 */
bool endpoint_looks_like_url(const char *arg);

/*
 * Parses one endpoint (already expanded: braces are literal here) into `out`.
 * `default_port` is used for a URL without a port; 0 makes the port
 * mandatory. Returns 0, or -ERR_INVAL with a sentence quoting `arg` in
 * `errmsg` (when non-NULL): empty, or longer than ENDPOINT_MAX_LEN as given
 * or as canonical text; a URL not starting with http:// or https:// (`http:/x`,
 * `http:x`, `ftp://`), a query or fragment, user information, an empty or
 * malformed host, a bad or missing port, no absolute path after the host, a
 * bad %-escape, a NUL or control character, a '.' or '..' segment, or the
 * path "/". `out` is written only on success (`node` 0, `is_local` false);
 * release it with endpoint_release().
 */
int endpoint_parse(const char *arg, unsigned default_port, struct endpoint *out,
                   struct buf *errmsg);

/* Frees the strings of `e` and zeroes it; safe on a zeroed endpoint. */
void endpoint_release(struct endpoint *e);

/*
 * Appends the node name of URL endpoint `e`, "HOST:PORT" ("[::1]:9000" for
 * IPv6), the key by which the layout tells nodes apart.
 */
void endpoint_node_name(const struct endpoint *e, struct buf *out);

/*
 * Splits a listen address "HOST:PORT", "[IPV6]:PORT" or ":PORT" (any host)
 * and writes the canonical host (as in endpoint texts; empty for ":PORT")
 * into `host` and the port into `*port`. Returns 0, or -ERR_INVAL with a
 * sentence quoting `address` in `errmsg`; `host` and `*port` are unchanged
 * on error.
 */
int endpoint_split_address(const char *address, struct buf *host, uint16_t *port,
                           struct buf *errmsg);

#endif

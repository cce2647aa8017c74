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
 */
#ifndef BASALT_CLUSTER_ENDPOINT_H
#define BASALT_CLUSTER_ENDPOINT_H

#include "util/base.h"

#include "util/buf.h"

#define ENDPOINT_MAX_EXPANSION 1024 /* endpoints from one argument */

/* A list of malloc'd strings; zero-initialise or use ENDPOINT_LIST_INIT. */
struct endpoint_list {
    char **items;
    size_t n;
    size_t _alloc;
};

#define ENDPOINT_LIST_INIT { NULL, 0, 0 }

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

#endif

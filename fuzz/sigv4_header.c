/*
 * fuzz/sigv4_header.c: sigv4_verify on arbitrary bytes. The input is
 * "AUTHORIZATION\nQUERY\nPATH": an Authorization header value (none when
 * empty), a raw query (presigned parameters or anything) and a raw path.
 * Then a property: a request signed by sigv4_sign over the same path and query
 * must verify, whatever the bytes (the client and server canonicalise alike).
 */
#include "util/base.h"

#include "auth/sigv4.h"
#include "util/buf.h"
#include "util/err.h"

#define T0 ((time_t)1369353600) /* 20130524T000000Z */
#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
lookup(void *arg, struct slice ak, struct buf *secret)
{
    if (!slice_eq_cstr(ak, AK))
        return -ERR_INVALID_ACCESS_KEY;
    buf_adds(secret, SK);
    return 0;
}

/* Signs path and query as the client does, then verifies: must succeed. */
static void
check_roundtrip(struct sigv4_req *r, struct sigv4_header *h)
{
    struct buf authz = BUF_INIT;
    struct sigv4_auth a;

    r->nheaders = 3;
    if (sigv4_is_signed(r))
        return; /* presigned parameters in the query: not a header-signed request */
    sigv4_sign(r, AK, SK, "us-east-1", &authz);
    h[r->nheaders++] = (struct sigv4_header){ SLICE_LIT("authorization"), buf_slice(&authz) };
    if (sigv4_verify(r, lookup, NULL, &a, NULL) != 0)
        abort();
    sigv4_auth_clear(&a);
    buf_release(&authz);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice in = slice_make(data, size), authz, query, path;
    struct sigv4_header h[4] = {
        { SLICE_LIT("host"), SLICE_LIT("examplebucket.s3.amazonaws.com") },
        { SLICE_LIT("x-amz-date"), SLICE_LIT("20130524T000000Z") },
        { SLICE_LIT("x-amz-content-sha256"), SLICE_LIT(SIGV4_EMPTY_SHA256) },
    };
    struct sigv4_req r = { .method = SLICE_LIT("GET"), .headers = h, .nheaders = 3, .now = T0 };
    struct buf msg = BUF_INIT;
    struct sigv4_auth a;

    in = slice_split(in, '\n', &authz);
    path = slice_split(in, '\n', &query);
    r.path = path;
    r.query = query;
    if (authz.len)
        h[r.nheaders++] = (struct sigv4_header){ SLICE_LIT("Authorization"), authz };
    if (sigv4_verify(&r, lookup, NULL, &a, &msg) == 0)
        sigv4_auth_clear(&a);
    buf_release(&msg);
    check_roundtrip(&r, h);
    return 0;
}

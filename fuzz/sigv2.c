/*
 * fuzz/sigv2.c: sigv2_verify on arbitrary bytes. The input is
 * "AUTHORIZATION\nQUERY\nPATH\nX-AMZ-META": an Authorization header value
 * (none when empty), a raw query (presigned parameters, sub-resources or
 * anything), a raw path and the value of an x-amz-meta-a header (none when
 * empty). Then a property: the signature of sigv2_string_to_sign() for the
 * same request, sent in the header, must not be a signature mismatch (the
 * string to sign the verifier builds is the one a client computing it the
 * same way signs; a query with more than 64 sub-resources is refused as
 * malformed instead).
 */
#include "util/base.h"

#include "auth/sigv2.h"
#include "util/buf.h"
#include "util/err.h"

#define NOW ((time_t)1175024202) /* Tue, 27 Mar 2007 19:36:42 GMT */
#define DATE "Tue, 27 Mar 2007 19:36:42 GMT"
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

/* Signs the request as sigv2_string_to_sign() says, in the header; must verify. */
static void
check_roundtrip(struct sigv4_req *r, struct sigv4_header *h, size_t n)
{
    struct buf sts = BUF_INIT, authz = BUF_INIT;
    struct sigv4_auth a;
    char sig[29];

    r->nheaders = n;
    if (sigv2_is_signed(r))
        return; /* AWSAccessKeyId in the query: a presigned request */
    sigv2_string_to_sign(r, r->path, SLICE_LIT(DATE), &sts);
    sigv2_sign(SLICE_LIT(SK), buf_slice(&sts), sig);
    buf_addf(&authz, "AWS %s:%s", AK, sig);
    h[r->nheaders++] = (struct sigv4_header){ SLICE_LIT("authorization"), buf_slice(&authz) };
    /* verified, or refused for its shape (more than 64 sub-resources): never a mismatch */
    if (sigv2_verify(r, &r->path, 1, lookup, NULL, &a, NULL) == -ERR_SIG_MISMATCH)
        abort();
    buf_release(&sts);
    buf_release(&authz);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice in = slice_make(data, size), authz, query, path, meta;
    struct sigv4_header h[4] = { { SLICE_LIT("date"), SLICE_LIT(DATE) } };
    struct sigv4_req r = { .method = SLICE_LIT("PUT"), .headers = h, .now = NOW };
    struct buf msg = BUF_INIT;
    struct sigv4_auth a;
    size_t n = 1;

    in = slice_split(in, '\n', &authz);
    if (!in.ptr)
        return 0;
    in = slice_split(in, '\n', &query);
    if (!in.ptr)
        return 0;
    meta = slice_split(in, '\n', &path);
    r.query = query;
    r.path = path;
    if (meta.ptr && meta.len)
        h[n++] = (struct sigv4_header){ SLICE_LIT("x-amz-meta-a"), meta };
    r.nheaders = n;
    if (authz.len)
        h[r.nheaders++] = (struct sigv4_header){ SLICE_LIT("authorization"), authz };
    if (sigv2_is_signed(&r)) {
        int rc = sigv2_verify(&r, &r.path, 1, lookup, NULL, &a, &msg);

        if (rc == 0 && !a.access_key[0])
            abort(); /* a success names its key */
    }
    buf_release(&msg);
    check_roundtrip(&r, h, n);
    return 0;
}

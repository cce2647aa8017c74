/*
 * s3/body.c: the upload body decoder (see body.h): raw bodies with an
 * optional SHA-256, and aws-chunked bodies, parsed by a byte-driven state
 * machine so that the raw bytes may come in any split:
 *
 *   SIZE_LINE --"0..."--> (signed: check the empty chunk's signature)
 *       |                  +--> END_LINE  (no trailer): "\r\n" -> DONE
 *       |                  +--> TRAILER   lines until "\r\n" -> DONE
 *       +--"<n>..."--> DATA (n bytes to the sink) --> DATA_CR --> DATA_LF
 *                       (signed: check the chunk's signature) --> SIZE_LINE
 *
 * Lines (sizes, trailers) are gathered in one bounded buffer; data bytes are
 * never copied. The trailer signature and the checksums are checked in
 * s3_body_finish().
 *
 * Chunk signatures: while it parses one s3_body_feed() call's bytes, the
 * machine notes where each chunk's data lies in them and the signature it
 * claims (struct chunk_rec). At the end of the call, hash_chunks() hashes
 * the chunks two at a time where the CPU allows (util/sha256: two chunks
 * together cost about half of two one after the other), then checks every
 * chunk whose "\r\n" has arrived, in order, each signature chained from
 * the one before. A chunk still arriving keeps its hash state in its lane
 * for the next call. So a bad chunk is refused at the end of the call that
 * brought its end, before s3_body_feed() returns, and nothing is committed
 * before s3_body_finish() anyway. Without the SHA extensions the same
 * records are hashed with OpenSSL, one after the other.
 */
#include "util/base.h"

#include "s3/body.h"

#include <openssl/evp.h>

#include "auth/sigv4.h"
#include "s3/internal.h"
#include "util/checksum.h"
#include "util/enc.h"
#include "util/err.h"
#include "util/sha256.h"

#define CHUNK_SIG_EXT ";chunk-signature="
#define TRAILER_SIG_NAME "x-amz-trailer-signature"

#define CHUNK_RECS 16 /* chunk records per hash_chunks() pass */

bool s3_body_test_no_sha_ni;

/* One chunk's data in the current s3_body_feed() call, hashed at its end. */
struct chunk_rec {
    const uint8_t *p; /* its bytes in this call (borrowed from the caller) */
    size_t n;
    bool done; /* its end was seen: `sig` holds the signature it claims */
    char sig[65];
    uint8_t hash[32];
};

/* A chunk hash in progress: util/sha256 (b->ni) or OpenSSL. */
struct chunk_lane {
    struct sha256 ni;
    EVP_MD_CTX *evp;
};

enum body_state {
    ST_SIZE_LINE,
    ST_DATA,
    ST_DATA_CR,
    ST_DATA_LF,
    ST_END_LINE, /* after the final chunk, no trailer: the empty line */
    ST_TRAILER,
    ST_DONE,
};

struct s3_body {
    struct s3_call *call;
    bool chunked;
    bool signed_chunks;
    bool trailer_mode; /* a TRAILER mode */
    int rc;            /* sticky */
    int64_t size;      /* payload size, or -1 */
    uint64_t fed;      /* payload bytes given to the sink */
    /* raw body with x-amz-content-sha256 = hex */
    EVP_MD_CTX *payload_md;
    uint8_t payload_expect[32];
    /* flexible checksum */
    enum checksum_algo algo; /* CHECKSUM_NONE: none */
    bool has_expect;         /* from the header, or the trailer once parsed */
    bool from_trailer;       /* the value comes in the trailer (x-amz-trailer) */
    uint8_t expect[CHECKSUM_MAX_SIZE];
    struct checksum ck;
    char result_b64[CHECKSUM_B64_SIZE];
    bool has_result;
    /* aws-chunked */
    enum body_state st;
    char line[S3_BODY_LINE_MAX];
    size_t line_len;
    uint64_t chunk_left;
    char chunk_sig[65]; /* the signature the current chunk claims */
    char prev_sig[65];  /* the last verified signature (the seed at first) */
    /* chunk hashes (signed chunks) */
    bool ni; /* util/sha256, two chunks at a time */
    struct chunk_lane lane[2];
    int open_lane; /* lane of the chunk an earlier call began, or -1 */
    struct chunk_rec rec[CHUNK_RECS];
    unsigned nrec;
    /* trailer */
    char trailer[S3_BODY_TRAILER_MAX]; /* canonical "name:value\n" lines, for its signature */
    size_t trailer_len;
    unsigned trailer_lines;
    bool trailer_blank_skipped; /* one empty line before the trailer is tolerated */
    bool has_trailer_sig;
    char trailer_sig[65];
};

/* ---- set-up ---- */

static void
md_free(void *arg)
{
    EVP_MD_CTX_free(arg);
}

static void
ck_free(void *arg)
{
    checksum_release(arg);
}

static EVP_MD_CTX *
sha256_new(struct arena *a)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    BUG_ON(!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1);
    arena_defer(a, md_free, ctx);
    return ctx;
}

static bool
is_lower_hex(struct slice s, size_t n)
{
    size_t i;

    if (s.len != n)
        return false;
    for (i = 0; i < n; i++)
        if (!((s.ptr[i] >= '0' && s.ptr[i] <= '9') || (s.ptr[i] >= 'a' && s.ptr[i] <= 'f')))
            return false;
    return true;
}

/* The framing from x-amz-content-sha256. */
static int
parse_mode(struct s3_body *b, struct arena *a)
{
    struct slice h = slice_cstr(b->call->auth.payload_hash);

    if (h.len == 0 || slice_eq_cstr(h, SIGV4_UNSIGNED_PAYLOAD))
        return 0;
    if (is_lower_hex(h, 64)) {
        BUG_ON(hex_decode(h, b->payload_expect, 32) < 0);
        b->payload_md = sha256_new(a);
        return 0;
    }
    if (slice_eq_cstr(h, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) {
        b->signed_chunks = true;
    } else if (slice_eq_cstr(h, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")) {
        b->signed_chunks = true;
        b->trailer_mode = true;
    } else if (slice_eq_cstr(h, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")) {
        b->trailer_mode = true;
    } else if (slice_starts_with(h, SLICE_LIT("STREAMING-"))) {
        return -ERR_NOT_IMPLEMENTED; /* SigV4a (ECDSA) chunk signatures */
    } else {
        return -ERR_AUTH_MALFORMED;
    }
    b->chunked = true;
    if (b->signed_chunks) {
        BUG_ON(strlen(b->call->auth.seed_signature) != 64);
        memcpy(b->prev_sig, b->call->auth.seed_signature, 65);
        b->ni = sha256_ni_available() && !s3_body_test_no_sha_ni;
        if (!b->ni) {
            b->lane[0].evp = sha256_new(a);
            b->lane[1].evp = sha256_new(a);
        }
        b->open_lane = -1;
    }
    return 0;
}

/* The payload size: x-amz-decoded-content-length (aws-chunked) or Content-Length. */
static int
parse_size(struct s3_body *b)
{
    struct http_req *req = b->call->req;
    struct slice v;
    uint64_t n;

    b->size = req->content_length;
    if (!b->chunked)
        return 0;
    b->size = -1;
    if (!http_req_header(req, "x-amz-decoded-content-length", &v))
        return 0;
    if (parse_u64(slice_trim(v), &n) < 0)
        return -ERR_INVALID_ARGUMENT;
    if (n > S3_MAX_PUT_SIZE)
        return -ERR_TOO_LARGE;
    b->size = (int64_t)n;
    return 0;
}

bool
s3_checksum_value_header(struct slice name)
{
    struct slice prefix = SLICE_LIT("x-amz-checksum-");

    if (name.len <= prefix.len || !slice_case_eq(slice_make(name.ptr, prefix.len), prefix))
        return false;
    return !slice_case_eq_cstr(name, "x-amz-checksum-mode") &&
           !slice_case_eq_cstr(name, "x-amz-checksum-type") &&
           !slice_case_eq_cstr(name, "x-amz-checksum-algorithm");
}

const char *
s3_checksum_value_msg(struct http_req *req)
{
    uint8_t raw[CHECKSUM_MAX_SIZE];
    enum checksum_algo algo;
    size_t i;

    for (i = 0; i < req->nheaders; i++) {
        struct slice name = req->headers[i].name;

        if (s3_checksum_value_header(name) && checksum_algo_parse(name, &algo) == 0 &&
            checksum_b64_decode(algo, slice_trim(req->headers[i].value), raw) < 0)
            return arena_printf(req->arena, "Value for %s header is invalid.",
                                checksum_header_name(algo));
    }
    return NULL;
}

/* x-amz-checksum-<algo>: <b64> headers; at most one. */
static int
parse_checksum_headers(struct s3_body *b)
{
    struct http_req *req = b->call->req;
    size_t i;
    int rc;

    for (i = 0; i < req->nheaders; i++) {
        struct slice name = req->headers[i].name;
        enum checksum_algo algo;

        if (!s3_checksum_value_header(name))
            continue;
        if (checksum_algo_parse(name, &algo) < 0 || b->algo != CHECKSUM_NONE)
            return -ERR_INVALID_CHECKSUM; /* unknown, or several */
        rc = checksum_b64_decode(algo, slice_trim(req->headers[i].value), b->expect);
        if (rc < 0)
            return rc;
        b->algo = algo;
        b->has_expect = true;
    }
    return 0;
}

/* x-amz-trailer: the one checksum the trailer will carry. */
static int
parse_trailer_header(struct s3_body *b)
{
    struct slice v;
    enum checksum_algo algo;

    if (!http_req_header(b->call->req, "x-amz-trailer", &v) || slice_trim(v).len == 0)
        return 0;
    if (!b->trailer_mode)
        return -ERR_INVALID_REQUEST;
    v = slice_trim(v);
    if (checksum_algo_parse(v, &algo) < 0 || v.len <= strlen("x-amz-checksum-"))
        return -ERR_INVALID_CHECKSUM;
    if (b->algo != CHECKSUM_NONE)
        return -ERR_INVALID_CHECKSUM; /* a header value and a trailer */
    b->algo = algo;
    b->from_trailer = true;
    return 0;
}

/* x-amz-sdk-checksum-algorithm: must agree; alone, the checksum is computed and stored. */
static int
parse_sdk_algorithm(struct s3_body *b)
{
    struct slice v;
    enum checksum_algo algo;

    if (!http_req_header(b->call->req, "x-amz-sdk-checksum-algorithm", &v))
        return 0;
    if (checksum_algo_parse(slice_trim(v), &algo) < 0 ||
        (b->algo != CHECKSUM_NONE && algo != b->algo))
        return -ERR_INVALID_CHECKSUM;
    b->algo = algo;
    return 0;
}

enum checksum_algo
s3_body_algo(const struct s3_body *b)
{
    return b->algo;
}

void
s3_body_compute(struct s3_body *b, enum checksum_algo algo)
{
    BUG_ON(b->fed != 0);
    if (b->algo != CHECKSUM_NONE || algo == CHECKSUM_NONE)
        return;
    b->algo = algo;
    checksum_init(&b->ck, algo);
    arena_defer(b->call->req->arena, ck_free, &b->ck);
}

int
s3_body_begin(struct s3_call *call, struct s3_body **out)
{
    struct arena *a = call->req->arena;
    struct s3_body *b = arena_zalloc(a, sizeof(*b));
    int rc;

    b->call = call;
    b->st = ST_SIZE_LINE;
    rc = parse_mode(b, a);
    if (rc == 0)
        rc = parse_size(b);
    if (rc == 0)
        rc = parse_checksum_headers(b);
    if (rc == 0)
        rc = parse_trailer_header(b);
    if (rc == 0)
        rc = parse_sdk_algorithm(b);
    if (rc < 0)
        return rc;
    if (b->algo != CHECKSUM_NONE) {
        checksum_init(&b->ck, b->algo);
        arena_defer(a, ck_free, &b->ck);
    }
    *out = b;
    return 0;
}

int64_t
s3_body_size(const struct s3_body *b)
{
    return b->size;
}

bool
s3_body_is_chunked(const struct s3_body *b)
{
    return b->chunked;
}

/* ---- payload ---- */

static int
emit(struct s3_body *b, const uint8_t *p, size_t n, s3_body_sink_fn *sink, void *arg)
{
    if (b->size >= 0 && b->fed + n > (uint64_t)b->size)
        return b->chunked ? -ERR_INVALID_CHUNK : -ERR_TOO_LARGE;
    if (b->fed + n > S3_MAX_PUT_SIZE)
        return -ERR_TOO_LARGE;
    b->fed += n;
    if (b->payload_md)
        EVP_DigestUpdate(b->payload_md, p, n);
    if (b->algo != CHECKSUM_NONE)
        checksum_update(&b->ck, p, n);
    return sink ? sink(arg, p, n) : 0;
}

/* ---- chunk signatures ---- */

static void
lane_init(struct s3_body *b, int l)
{
    if (b->ni)
        sha256_init(&b->lane[l].ni);
    else
        BUG_ON(EVP_DigestInit_ex(b->lane[l].evp, EVP_sha256(), NULL) != 1);
}

static void
lane_update(struct s3_body *b, int l, const uint8_t *p, size_t n)
{
    if (b->ni)
        sha256_update(&b->lane[l].ni, p, n);
    else
        EVP_DigestUpdate(b->lane[l].evp, p, n);
}

/* `n` bytes into each lane. */
static void
lanes_update(struct s3_body *b, const uint8_t *p0, const uint8_t *p1, size_t n)
{
    if (b->ni) {
        sha256_update2(&b->lane[0].ni, p0, n, &b->lane[1].ni, p1, n);
    } else {
        EVP_DigestUpdate(b->lane[0].evp, p0, n);
        EVP_DigestUpdate(b->lane[1].evp, p1, n);
    }
}

static void
lane_final(struct s3_body *b, int l, uint8_t out[32])
{
    unsigned len = 0;

    if (b->ni)
        sha256_final(&b->lane[l].ni, out);
    else
        EVP_DigestFinal_ex(b->lane[l].evp, out, &len);
}

/*
 * Lane `l` has hashed all of record cur[l]: finishes it and takes the next
 * record, until one with bytes left. The last record, if its chunk goes on
 * in the next call, stays in its lane (b->open_lane).
 */
static void
lane_next(struct s3_body *b, int l, int cur[2], size_t off[2], unsigned *next)
{
    while (cur[l] >= 0 && off[l] == b->rec[cur[l]].n) {
        struct chunk_rec *r = &b->rec[cur[l]];

        if (!r->done) {
            BUG_ON((unsigned)cur[l] != b->nrec - 1);
            b->open_lane = l;
            cur[l] = -1;
            return;
        }
        lane_final(b, l, r->hash);
        cur[l] = -1;
        if (*next < b->nrec) {
            cur[l] = (int)(*next)++;
            off[l] = 0;
            lane_init(b, l);
        }
    }
}

/*
 * Hashes this call's records, two lanes at a time, then checks the
 * signatures of the chunks that ended, in order. Empties the records.
 */
static int
hash_chunks(struct s3_body *b)
{
    int cur[2] = { -1, -1 }, l;
    size_t off[2] = { 0, 0 }, n;
    unsigned next = 0, i;
    char want[65];

    if (b->open_lane >= 0) /* record 0 goes on with the chunk an earlier call began */
        cur[b->open_lane] = (int)next++;
    b->open_lane = -1;
    for (l = 0; l < 2; l++) {
        if (cur[l] < 0 && next < b->nrec) {
            cur[l] = (int)next++;
            lane_init(b, l);
        }
    }
    for (;;) {
        lane_next(b, 0, cur, off, &next);
        lane_next(b, 1, cur, off, &next);
        if (cur[0] >= 0 && cur[1] >= 0) {
            n = MIN(b->rec[cur[0]].n - off[0], b->rec[cur[1]].n - off[1]);
            lanes_update(b, b->rec[cur[0]].p + off[0], b->rec[cur[1]].p + off[1], n);
            off[0] += n;
            off[1] += n;
        } else if (cur[0] >= 0 || cur[1] >= 0) {
            l = cur[0] >= 0 ? 0 : 1;
            lane_update(b, l, b->rec[cur[l]].p + off[l], b->rec[cur[l]].n - off[l]);
            off[l] = b->rec[cur[l]].n;
        } else {
            break;
        }
    }
    n = b->nrec;
    b->nrec = 0;
    for (i = 0; i < n && b->rec[i].done; i++) {
        sigv4_chunk_sign(&b->call->auth, b->prev_sig, b->rec[i].hash, want);
        if (!ct_equal(want, b->rec[i].sig, 64))
            return -ERR_CHUNK_SIG_MISMATCH;
        memcpy(b->prev_sig, want, 65);
    }
    return 0;
}

/* The record of the current chunk, begun here if need be (a full set is hashed first). */
static int
chunk_rec(struct s3_body *b, struct chunk_rec **out)
{
    int rc;

    if (b->nrec && !b->rec[b->nrec - 1].done) {
        *out = &b->rec[b->nrec - 1];
        return 0;
    }
    if (b->nrec == CHUNK_RECS && (rc = hash_chunks(b)) < 0)
        return rc;
    *out = &b->rec[b->nrec++];
    (*out)->p = NULL;
    (*out)->n = 0;
    (*out)->done = false;
    return 0;
}

/* The current chunk's data p[0..n) in this call. */
static int
chunk_data(struct s3_body *b, const uint8_t *p, size_t n)
{
    struct chunk_rec *r;
    int rc = chunk_rec(b, &r);

    if (rc < 0)
        return rc;
    if (r->n == 0)
        r->p = p;
    BUG_ON(r->p + r->n != p); /* a chunk's bytes in one call are contiguous */
    r->n += n;
    return 0;
}

/* The current chunk ended: its signature is checked at the end of the call. */
static int
chunk_end(struct s3_body *b)
{
    struct chunk_rec *r;
    int rc = chunk_rec(b, &r);

    if (rc < 0)
        return rc;
    r->done = true;
    memcpy(r->sig, b->chunk_sig, 65);
    return 0;
}

/* ---- lines ---- */

/* "<hex>[;ext...]": the size (at most 16 digits) and the rest in `ext`. */
static int
parse_hex_size(struct slice line, uint64_t *size, struct slice *ext)
{
    uint64_t n = 0;
    size_t i;

    for (i = 0; i < line.len && hex_digit_value(line.ptr[i]) >= 0; i++)
        n = n << 4 | (uint64_t)hex_digit_value(line.ptr[i]);
    if (i == 0 || i > 16)
        return -ERR_INVALID_CHUNK;
    *size = n;
    *ext = slice_make(line.ptr + i, line.len - i);
    return 0;
}

/* One chunk-size line (without its CRLF). */
static int
size_line(struct s3_body *b, struct slice line)
{
    struct slice ext, sig;
    uint64_t size;
    int rc = parse_hex_size(line, &size, &ext);

    if (rc < 0)
        return rc;
    if (b->signed_chunks) {
        if (!slice_starts_with(ext, SLICE_LIT(CHUNK_SIG_EXT)))
            return -ERR_INVALID_CHUNK;
        sig = slice_make(ext.ptr + strlen(CHUNK_SIG_EXT), ext.len - strlen(CHUNK_SIG_EXT));
        if (!is_lower_hex(sig, 64))
            return -ERR_INVALID_CHUNK;
        memcpy(b->chunk_sig, sig.ptr, 64);
        b->chunk_sig[64] = '\0';
    } else if (ext.len && ext.ptr[0] != ';') {
        return -ERR_INVALID_CHUNK; /* unsigned: extensions are ignored */
    }
    if (size == 0) { /* the final chunk */
        if (b->signed_chunks && (rc = chunk_end(b)) < 0)
            return rc;
        b->st = b->trailer_mode ? ST_TRAILER : ST_END_LINE;
        return 0;
    }
    if (b->size >= 0 ? size > (uint64_t)b->size - b->fed : size > S3_MAX_PUT_SIZE - b->fed)
        return -ERR_INVALID_CHUNK; /* more than the declared payload */
    b->chunk_left = size;
    b->st = ST_DATA;
    return 0;
}

/* Appends "name:value\n" to the canonical trailer; -ERR_INVALID_CHUNK past its bound. */
static int
trailer_add(struct s3_body *b, struct slice name, struct slice value)
{
    size_t i, n = name.len + 1 + value.len + 1;

    if (b->trailer_len + n > sizeof(b->trailer))
        return -ERR_INVALID_CHUNK;
    for (i = 0; i < name.len; i++) {
        char c = name.ptr[i];

        b->trailer[b->trailer_len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    b->trailer[b->trailer_len++] = ':';
    memcpy(b->trailer + b->trailer_len, value.ptr, value.len);
    b->trailer_len += value.len;
    b->trailer[b->trailer_len++] = '\n';
    return 0;
}

/* One "name:value" trailer line. */
static int
trailer_header(struct s3_body *b, struct slice line)
{
    struct slice name, value;
    int rc;

    value = slice_split(line, ':', &name);
    name = slice_trim(name);
    value = slice_trim(value);
    if (!value.ptr || name.len == 0 || b->has_trailer_sig)
        return -ERR_INVALID_CHUNK; /* no colon, or a line after the signature */
    if (slice_case_eq_cstr(name, TRAILER_SIG_NAME)) {
        if (!b->signed_chunks || !is_lower_hex(value, 64))
            return -ERR_INVALID_CHUNK;
        memcpy(b->trailer_sig, value.ptr, 64);
        b->trailer_sig[64] = '\0';
        b->has_trailer_sig = true;
        return 0;
    }
    /* Only the checksum x-amz-trailer announced, once. */
    if (!b->from_trailer || b->has_expect ||
        !slice_case_eq_cstr(name, checksum_header_name(b->algo)))
        return -ERR_INVALID_CHUNK;
    rc = checksum_b64_decode(b->algo, value, b->expect);
    if (rc < 0)
        return rc;
    b->has_expect = true;
    return trailer_add(b, name, value);
}

static int
trailer_line(struct s3_body *b, struct slice line)
{
    if (line.len == 0) {
        /* Some writers put an empty line between the final chunk and the trailer. */
        if (b->trailer_lines == 0 && !b->trailer_blank_skipped)
            b->trailer_blank_skipped = true;
        else
            b->st = ST_DONE;
        return 0;
    }
    if (++b->trailer_lines > 8)
        return -ERR_INVALID_CHUNK;
    return trailer_header(b, line);
}

/* A complete line (CRLF stripped) in state SIZE_LINE, END_LINE or TRAILER. */
static int
line_done(struct s3_body *b, struct slice line)
{
    switch (b->st) {
    case ST_SIZE_LINE:
        return size_line(b, line);
    case ST_END_LINE:
        if (line.len)
            return -ERR_INVALID_CHUNK;
        b->st = ST_DONE;
        return 0;
    case ST_TRAILER:
        return trailer_line(b, line);
    default:
        BUG_ON(1);
    }
    return -ERR_INTERNAL;
}

/* Gathers line bytes from p[0..n); returns the bytes used, or a negative error. */
static ssize_t
feed_line(struct s3_body *b, const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) + 1 : n;
    int rc;

    if (b->line_len + take > sizeof(b->line))
        return -ERR_INVALID_CHUNK;
    memcpy(b->line + b->line_len, p, take);
    b->line_len += take;
    if (!nl)
        return (ssize_t)take;
    if (b->line_len < 2 || b->line[b->line_len - 2] != '\r')
        return -ERR_INVALID_CHUNK; /* a bare LF */
    rc = line_done(b, slice_make(b->line, b->line_len - 2));
    b->line_len = 0;
    return rc < 0 ? rc : (ssize_t)take;
}

/* One step of the chunked state machine over p[0..n); returns the bytes used. */
static ssize_t
feed_chunked(struct s3_body *b, const uint8_t *p, size_t n, s3_body_sink_fn *sink, void *arg)
{
    size_t take;
    int rc;

    switch (b->st) {
    case ST_DATA:
        take = (size_t)MIN((uint64_t)n, b->chunk_left);
        rc = emit(b, p, take, sink, arg);
        if (rc == 0 && b->signed_chunks)
            rc = chunk_data(b, p, take);
        if (rc < 0)
            return rc;
        b->chunk_left -= take;
        if (b->chunk_left == 0)
            b->st = ST_DATA_CR;
        return (ssize_t)take;
    case ST_DATA_CR:
        if (p[0] != '\r')
            return -ERR_INVALID_CHUNK; /* the chunk is longer than its size line said */
        b->st = ST_DATA_LF;
        return 1;
    case ST_DATA_LF:
        if (p[0] != '\n')
            return -ERR_INVALID_CHUNK;
        b->st = ST_SIZE_LINE;
        return b->signed_chunks && (rc = chunk_end(b)) < 0 ? rc : 1;
    case ST_DONE:
        return -ERR_INVALID_CHUNK; /* bytes after the end */
    default:
        return feed_line(b, p, n);
    }
}

int
s3_body_feed(struct s3_body *b, const void *raw, size_t n, s3_body_sink_fn *sink, void *arg)
{
    const uint8_t *p = raw;
    ssize_t used;
    int rc;

    if (b->rc < 0)
        return b->rc;
    if (!b->chunked) {
        b->rc = emit(b, p, n, sink, arg);
        return b->rc;
    }
    while (n) {
        used = feed_chunked(b, p, n, sink, arg);
        if (used < 0) {
            b->rc = (int)used;
            break;
        }
        p += used;
        n -= (size_t)used;
    }
    /* A bad signature of a chunk before the error is the error. */
    if (b->signed_chunks && b->nrec && (rc = hash_chunks(b)) < 0)
        b->rc = rc;
    return b->rc;
}

/* ---- the end ---- */

static int
check_trailer_sig(struct s3_body *b)
{
    uint8_t hash[32];
    unsigned len = 32;
    char want[65];

    if (!b->has_trailer_sig)
        return -ERR_INVALID_CHUNK;
    BUG_ON(!EVP_Digest(b->trailer, b->trailer_len, hash, &len, EVP_sha256(), NULL));
    sigv4_trailer_sign(&b->call->auth, b->prev_sig, hash, want);
    return ct_equal(want, b->trailer_sig, 64) ? 0 : -ERR_CHUNK_SIG_MISMATCH;
}

/* The framing is complete: the final chunk, then its end line or trailer. */
static int
check_framing(struct s3_body *b)
{
    if (b->line_len)
        return -ERR_INVALID_CHUNK; /* a partial line */
    switch (b->st) {
    case ST_DONE:
    case ST_END_LINE: /* the final chunk without its empty line: accepted */
        break;
    case ST_TRAILER: /* the trailer without its empty line: accepted (what it must hold is below) */
        break;
    default:
        return -ERR_INVALID_CHUNK; /* no final chunk */
    }
    if (b->from_trailer && !b->has_expect)
        return -ERR_INVALID_CHUNK; /* x-amz-trailer announced a checksum that never came */
    return b->signed_chunks && b->trailer_mode ? check_trailer_sig(b) : 0;
}

static int
check_digests(struct s3_body *b)
{
    uint8_t md[32], got[CHECKSUM_MAX_SIZE];
    unsigned len = 0;

    if (b->payload_md) {
        EVP_DigestFinal_ex(b->payload_md, md, &len);
        if (!ct_equal(md, b->payload_expect, 32))
            return -ERR_SHA256_MISMATCH;
    }
    if (b->algo == CHECKSUM_NONE)
        return 0;
    checksum_final(&b->ck, got);
    if (b->has_expect && memcmp(got, b->expect, checksum_size(b->algo)) != 0)
        return -ERR_CHECKSUM_MISMATCH;
    checksum_b64_encode(b->algo, got, b->result_b64);
    b->has_result = true;
    return 0;
}

int
s3_body_finish(struct s3_body *b)
{
    int rc = b->rc;

    if (rc == 0 && b->chunked)
        rc = check_framing(b);
    if (rc == 0 && b->size >= 0 && b->fed < (uint64_t)b->size)
        rc = -ERR_INCOMPLETE_BODY;
    if (rc == 0)
        rc = check_digests(b);
    b->rc = rc < 0 ? rc : -ERR_INVAL; /* finish is the last call */
    return rc;
}

bool
s3_body_checksum(const struct s3_body *b, const char **algo, const char **b64)
{
    if (!b->has_result)
        return false;
    *algo = checksum_algo_lower(b->algo);
    *b64 = b->result_b64;
    return true;
}

/*
 * auth/sigv4.c: AWS Signature Version 4 for S3, both ways: verification of
 * a request signed in the Authorization header or presigned in the query
 * string (the s3/ layer calls sigv4_verify for every request), and signing
 * for Basalt's own client (sigv4_sign, sigv4_presign).
 *
 * Both ways go through one function, sign_input(), that builds the canonical
 * request, the string to sign and the signature from a `struct sig_input`;
 * the verifier fills that struct from what the client claims (credential
 * scope, signed headers, date, payload hash) and compares the result with the
 * client's signature in constant time. So the client and the server cannot
 * disagree on canonicalisation.
 *
 * Canonicalisation, as S3 does it:
 *  - URI: the path as sent, no normalisation and no double encoding; only
 *    bytes that must be encoded but were sent raw (S3's own example sends
 *    "/test$file.text" and signs "/test%24file.text") are encoded; valid %XX
 *    escapes are kept as sent, so "%2F" in a key stays "%2F";
 *  - query: every name and value decoded then encoded again ('/' encoded),
 *    sorted by name then value, "name=" for a parameter without a value;
 *    a malformed escape is taken literally (its '%' becomes "%25");
 *  - headers: the signed names in the order of SignedHeaders, values trimmed
 *    with inner runs of blanks collapsed, several headers of one name joined
 *    with ','.
 *
 * The order of the checks in sigv4_verify: shape (AUTH_MALFORMED), then time
 * (TIME_SKEWED, EXPIRED), then the access key (INVALID_ACCESS_KEY), then the
 * signature (SIG_MISMATCH), so that no secret is looked up for a request that
 * cannot succeed.
 */
#include "util/base.h"

#include "auth/sigv4.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>

#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"
#include "util/sha256.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define SCOPE_TAIL "/s3/aws4_request"
#define AMZ_DATE_LEN 16 /* 20130524T000000Z */

/* Everything a signature covers. */
struct sig_input {
    struct slice method;
    struct slice path;   /* raw */
    struct slice query;  /* raw */
    bool skip_sig_param; /* presigned: X-Amz-Signature is not signed */
    const struct sigv4_header *headers;
    size_t nheaders;
    struct slice signed_headers; /* "host;range;x-amz-date" */
    struct slice payload_hash;
    char amz_date[AMZ_DATE_LEN + 1];
    struct slice date; /* YYYYMMDD of the scope */
    struct slice region;
    struct slice service; /* "s3" (also when empty), "iam", "sts" */
};

/* The parts of the credential "AKID/20130524/us-east-1/s3/aws4_request". */
struct credential {
    struct slice access_key;
    struct slice date;
    struct slice region;
    struct slice service; /* s3, iam or sts */
};

/* The three parts of an Authorization header. */
struct authz_parts {
    struct slice credential;
    struct slice signed_headers;
    struct slice signature;
};

void
sha256_hex(const void *p, size_t n, char out[65])
{
    uint8_t md[32];
    unsigned int len = sizeof(md);

    BUG_ON(!EVP_Digest(p, n, md, &len, EVP_sha256(), NULL));
    hex_encode_to(out, md, sizeof(md));
}

void
hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, uint8_t out[32])
{
    unsigned int len = 32;

    BUG_ON(!HMAC(EVP_sha256(), key, (int)keylen, msg, n, out, &len));
}

void
sigv4_auth_clear(struct sigv4_auth *a)
{
    secure_zero(a->signing_key, sizeof(a->signing_key));
}

static void
errmsg_add(struct buf *errmsg, const char *msg)
{
    if (errmsg)
        buf_adds(errmsg, msg);
}

/*
 * Signing keys derived lately. A key is good for a day, and every request of
 * a credential that day derives the same one: four HMACs, in OpenSSL 3 each
 * with its own fetch of the algorithm and context, about 5% of the server's
 * CPU in the 4 KiB mix. An entry is found by the whole input, the secret
 * known by its SHA-256 (kept instead of the secret, compared in constant
 * time: CRYPTO_memcmp); the least recently used one is zeroed and replaced.
 * Regions or services longer than their fields are derived every time.
 */
#define SIGKEY_SLOTS 16
#define SIGKEY_SECRET_MAX SHA256_SIZE /* what an entry keeps: the SHA-256 of the secret */

struct sigkey_ent {
    uint8_t secret[SIGKEY_SECRET_MAX];
    char date[8], region[32], service[8];
    uint8_t secret_len, region_len, service_len;
    bool valid;
    uint64_t used; /* sigkey_tick when last found or made */
    uint8_t key[32];
};

static pthread_mutex_t sigkey_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sigkey_ent sigkeys[SIGKEY_SLOTS]; /* protected by sigkey_mu */
static uint64_t sigkey_tick;                    /* protected by sigkey_mu */

static bool
sigkey_cacheable(struct slice secret, struct slice date, struct slice region, struct slice service)
{
    return secret.len <= SIGKEY_SECRET_MAX && date.len == 8 && region.len <= 32 && service.len <= 8;
}

static bool
sigkey_matches(const struct sigkey_ent *e, struct slice secret, struct slice date,
               struct slice region, struct slice service)
{
    return e->valid && e->region_len == region.len && e->service_len == service.len &&
           e->secret_len == secret.len && memcmp(e->date, date.ptr, 8) == 0 &&
           memcmp(e->region, region.ptr, region.len) == 0 &&
           memcmp(e->service, service.ptr, service.len) == 0 &&
           CRYPTO_memcmp(e->secret, secret.ptr, secret.len) == 0;
}

/* The cached key into `key`: true if found. */
static bool
sigkey_find(struct slice secret, struct slice date, struct slice region, struct slice service,
            uint8_t key[32])
{
    bool found = false;
    size_t i;

    pthread_mutex_lock(&sigkey_mu);
    for (i = 0; i < SIGKEY_SLOTS && !found; i++) {
        if (!sigkey_matches(&sigkeys[i], secret, date, region, service))
            continue;
        sigkeys[i].used = ++sigkey_tick;
        memcpy(key, sigkeys[i].key, 32);
        found = true;
    }
    pthread_mutex_unlock(&sigkey_mu);
    return found;
}

static void
sigkey_add(struct slice secret, struct slice date, struct slice region, struct slice service,
           const uint8_t key[32])
{
    struct sigkey_ent *e = &sigkeys[0];
    size_t i;

    pthread_mutex_lock(&sigkey_mu);
    for (i = 0; i < SIGKEY_SLOTS; i++) {
        if (sigkey_matches(&sigkeys[i], secret, date, region, service))
            goto out_unlock; /* another thread made it meanwhile */
        if (!sigkeys[i].valid || sigkeys[i].used < e->used)
            e = &sigkeys[i];
        if (!e->valid)
            break;
    }
    secure_zero(e, sizeof(*e));
    memcpy(e->secret, secret.ptr, secret.len);
    memcpy(e->date, date.ptr, 8);
    memcpy(e->region, region.ptr, region.len);
    memcpy(e->service, service.ptr, service.len);
    e->secret_len = (uint8_t)secret.len;
    e->region_len = (uint8_t)region.len;
    e->service_len = (uint8_t)service.len;
    memcpy(e->key, key, 32);
    e->used = ++sigkey_tick;
    e->valid = true;
out_unlock:
    pthread_mutex_unlock(&sigkey_mu);
}

/*
 * The signing key: HMAC chain over "AWS4" + secret, date, region, "s3",
 * "aws4_request". The only place that touches the secret (besides the cache
 * above); every intermediate is zeroed.
 */
static void
derive_signing_key(struct slice secret, struct slice date, struct slice region,
                   struct slice service, uint8_t key[32])
{
    struct buf seed = BUF_INIT;
    uint8_t k1[32], k2[32], id[SHA256_SIZE];
    struct slice sid = slice_make(id, sizeof(id));
    struct sha256 h;
    bool cacheable;

    if (!service.len)
        service = SLICE_LIT("s3");
    /* the cache knows a secret by its SHA-256: no secret stays in it after a rotation */
    sha256_init(&h);
    sha256_update(&h, secret.ptr, secret.len);
    sha256_final(&h, id);
    secure_zero(&h, sizeof(h));
    cacheable = sigkey_cacheable(sid, date, region, service);
    if (cacheable && sigkey_find(sid, date, region, service, key)) {
        secure_zero(id, sizeof(id));
        return;
    }
    buf_grow(&seed, 4 + secret.len); /* sized once: no realloc leaves a copy behind */
    buf_adds(&seed, "AWS4");
    buf_addslice(&seed, secret);
    hmac_sha256(seed.ptr, seed.len, date.ptr, date.len, k1);
    hmac_sha256(k1, sizeof(k1), region.ptr, region.len, k2);
    hmac_sha256(k2, sizeof(k2), service.ptr, service.len, k1);
    hmac_sha256(k1, sizeof(k1), "aws4_request", 12, key);
    secure_zero(k1, sizeof(k1));
    secure_zero(k2, sizeof(k2));
    buf_release_secure(&seed);
    if (cacheable)
        sigkey_add(sid, date, region, service, key);
    secure_zero(id, sizeof(id));
}

static bool
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static bool
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void
canonical_uri(struct buf *out, struct slice path)
{
    size_t i;

    if (path.len == 0) {
        buf_addch(out, '/');
        return;
    }
    for (i = 0; i < path.len; i++) {
        unsigned char c = (unsigned char)path.ptr[i];

        if (c == '%' && i + 2 < path.len && is_hex(path.ptr[i + 1]) && is_hex(path.ptr[i + 2])) {
            buf_add(out, path.ptr + i, 3);
            i += 2;
        } else if (is_unreserved(c) || c == '/') {
            buf_addch(out, (char)c);
        } else {
            uri_encode(out, slice_make(path.ptr + i, 1), true);
        }
    }
}

/* Decodes then encodes `s` (literally when it holds a malformed escape). */
static void
reencode(struct buf *out, struct slice s, struct buf *tmp)
{
    buf_clear(tmp);
    if (uri_decode(tmp, s) < 0)
        uri_encode(out, s, false);
    else
        uri_encode(out, buf_slice(tmp), false);
}

struct qparam {
    struct slice name;
    struct slice value;
};

static int
qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = slice_cmp(x->name, y->name);

    return c ? c : slice_cmp(x->value, y->value);
}

/*
 * Encodes every parameter of `q` into `enc`, recording offsets in `offs`
 * (name offset, name length, value offset, value length). Returns the count.
 */
static size_t
encode_params(struct slice q, bool skip_sig, struct buf *enc, size_t *offs)
{
    struct buf tmp = BUF_INIT;
    size_t n = 0;

    while (q.ptr) {
        struct slice seg, name, value;

        q = slice_split(q, '&', &seg);
        if (seg.len == 0)
            continue;
        value = slice_split(seg, '=', &name);
        if (skip_sig && slice_eq_cstr(name, "X-Amz-Signature"))
            continue;
        offs[4 * n] = enc->len;
        reencode(enc, name, &tmp);
        offs[4 * n + 1] = enc->len - offs[4 * n];
        offs[4 * n + 2] = enc->len;
        reencode(enc, value, &tmp);
        offs[4 * n + 3] = enc->len - offs[4 * n + 2];
        n++;
    }
    buf_release(&tmp);
    return n;
}

static void
canonical_query(struct buf *out, struct slice q, bool skip_sig)
{
    struct buf enc = BUF_INIT;
    struct qparam *params;
    size_t *offs;
    size_t i, n, max = 1;

    for (i = 0; i < q.len; i++)
        max += q.ptr[i] == '&';
    offs = xcalloc(4 * max, sizeof(*offs));
    params = xcalloc(max, sizeof(*params));
    n = q.len ? encode_params(q, skip_sig, &enc, offs) : 0;
    for (i = 0; i < n; i++) {
        params[i].name = slice_make(enc.ptr + offs[4 * i], offs[4 * i + 1]);
        params[i].value = slice_make(enc.ptr + offs[4 * i + 2], offs[4 * i + 3]);
    }
    qsort(params, n, sizeof(*params), qparam_cmp);
    for (i = 0; i < n; i++) {
        if (i)
            buf_addch(out, '&');
        buf_addslice(out, params[i].name);
        buf_addch(out, '=');
        buf_addslice(out, params[i].value);
    }
    free(params);
    free(offs);
    buf_release(&enc);
}

/* Appends `v` trimmed, with inner runs of spaces and tabs collapsed to one space. */
static void
add_header_value(struct buf *out, struct slice v)
{
    bool blank = false;
    size_t i;

    v = slice_trim(v);
    for (i = 0; i < v.len; i++) {
        char c = v.ptr[i];

        if (c == ' ' || c == '\t') {
            blank = true;
            continue;
        }
        if (blank)
            buf_addch(out, ' ');
        blank = false;
        buf_addch(out, c);
    }
}

/* Appends "name:v1,v2\n" for the headers named `name`; -ERR_AUTH_MALFORMED if none. */
static int
add_canonical_header(struct buf *out, const struct sig_input *in, struct slice name)
{
    size_t i, found = 0;

    buf_addslice(out, name);
    buf_addch(out, ':');
    for (i = 0; i < in->nheaders; i++) {
        if (!slice_case_eq(in->headers[i].name, name))
            continue;
        if (found++)
            buf_addch(out, ',');
        add_header_value(out, in->headers[i].value);
    }
    buf_addch(out, '\n');
    return found ? 0 : -ERR_AUTH_MALFORMED;
}

static int
canonical_request(struct buf *out, const struct sig_input *in, struct buf *errmsg)
{
    struct slice rest = in->signed_headers;
    int rc;

    buf_addslice(out, in->method);
    buf_addch(out, '\n');
    canonical_uri(out, in->path);
    buf_addch(out, '\n');
    canonical_query(out, in->query, in->skip_sig_param);
    buf_addch(out, '\n');
    while (rest.ptr) {
        struct slice name;

        rest = slice_split(rest, ';', &name);
        rc = add_canonical_header(out, in, name);
        if (rc < 0) {
            errmsg_add(errmsg, "a signed header is missing from the request");
            return rc;
        }
    }
    buf_addch(out, '\n');
    buf_addslice(out, in->signed_headers);
    buf_addch(out, '\n');
    buf_addslice(out, in->payload_hash);
    return 0;
}

/* Computes the signature of `in` with `key`. */
static int
sign_input(const struct sig_input *in, const uint8_t key[32], uint8_t sig[32], struct buf *errmsg)
{
    struct buf creq = BUF_INIT, sts = BUF_INIT;
    char hash[65];
    int rc;

    rc = canonical_request(&creq, in, errmsg);
    if (rc < 0)
        goto out;
    sha256_hex(creq.ptr, creq.len, hash);
    buf_addf(&sts, ALGORITHM "\n%s\n", in->amz_date);
    buf_addslice(&sts, in->date);
    buf_addch(&sts, '/');
    buf_addslice(&sts, in->region);
    buf_addch(&sts, '/');
    buf_addslice(&sts, in->service.len ? in->service : SLICE_LIT("s3"));
    buf_addf(&sts, "/aws4_request\n%s", hash);
    hmac_sha256(key, 32, sts.ptr, sts.len, sig);
out:
    buf_release(&creq);
    buf_release(&sts);
    return rc;
}

size_t
sigv4_find_header(const struct sigv4_header *h, size_t n, const char *name, struct slice *val)
{
    size_t i, count = 0;

    for (i = 0; i < n; i++) {
        if (!slice_case_eq_cstr(h[i].name, name))
            continue;
        if (!count++)
            *val = h[i].value;
    }
    return count;
}

size_t
sigv4_find_param(struct slice q, const char *name, struct slice *val)
{
    size_t count = 0;

    while (q.ptr) {
        struct slice seg, n, v;

        q = slice_split(q, '&', &seg);
        v = slice_split(seg, '=', &n);
        if (!slice_eq_cstr(n, name))
            continue;
        if (!count++)
            *val = v.ptr ? v : slice_make(seg.ptr + seg.len, 0);
    }
    return count;
}

/*
 * Signing, shared by sigv4_sign and sigv4_presign: derives the key from the
 * secret and signs `in`.
 */
static void
sign_with_secret(const struct sig_input *in, const char *secret_key, char sig_hex[65])
{
    uint8_t key[32], sig[32];

    derive_signing_key(slice_cstr(secret_key), in->date, in->region, in->service, key);
    if (sign_input(in, key, sig, NULL) < 0)
        memset(sig, 0, sizeof(sig)); /* a header vanished: cannot happen when signing */
    hex_encode_to(sig_hex, sig, sizeof(sig));
    secure_zero(key, sizeof(key));
}

/* Fills the date fields of `in` from `t`; `day` receives YYYYMMDD. */
static void
set_input_time(struct sig_input *in, time_t t, char day[9])
{
    struct buf b = BUF_INIT;

    clock_fmt_amz(&b, t);
    BUG_ON(b.len != AMZ_DATE_LEN);
    memcpy(in->amz_date, b.ptr, AMZ_DATE_LEN + 1);
    memcpy(day, b.ptr, 8);
    day[8] = '\0';
    in->date = slice_make(day, 8);
    buf_release(&b);
}

static int
slice_ptr_cmp(const void *a, const void *b)
{
    return slice_cmp(*(const struct slice *)a, *(const struct slice *)b);
}

/* "a;b;c": the lowercase names of all headers, sorted, without duplicates. */
static void
all_header_names(const struct sigv4_header *h, size_t n, struct buf *out)
{
    struct buf lower = BUF_INIT;
    struct slice *names = xcalloc(n ? n : 1, sizeof(*names));
    size_t i, j, off = 0;

    for (i = 0; i < n; i++)
        for (j = 0; j < h[i].name.len; j++)
            buf_addch(&lower, (char)tolower((unsigned char)h[i].name.ptr[j]));
    for (i = 0; i < n; i++) {
        names[i] = slice_make(lower.ptr + off, h[i].name.len);
        off += h[i].name.len;
    }
    qsort(names, n, sizeof(*names), slice_ptr_cmp);
    for (i = 0; i < n; i++) {
        if (i && slice_eq(names[i], names[i - 1]))
            continue;
        if (out->len)
            buf_addch(out, ';');
        buf_addslice(out, names[i]);
    }
    free(names);
    buf_release(&lower);
}

void
sigv4_sign(const struct sigv4_req *r, const char *access_key, const char *secret_key,
           const char *region, struct buf *authorization)
{
    struct sig_input in = { .method = r->method, .path = r->path, .query = r->query };
    struct buf names = BUF_INIT;
    struct slice v;
    char day[9], sig_hex[65];
    time_t t = r->now;

    in.headers = r->headers;
    in.nheaders = r->nheaders;
    in.region = slice_cstr(region);
    /* The same defaults as the verifier: x-amz-date, else Date; an empty payload. */
    if (sigv4_find_header(r->headers, r->nheaders, "x-amz-date", &v))
        clock_parse_amz(slice_trim(v), &t);
    else if (sigv4_find_header(r->headers, r->nheaders, "date", &v))
        clock_parse_http(slice_trim(v), &t);
    set_input_time(&in, t, day);
    in.payload_hash = SLICE_LIT(SIGV4_EMPTY_SHA256);
    if (sigv4_find_header(r->headers, r->nheaders, "x-amz-content-sha256", &v))
        in.payload_hash = slice_trim(v);
    all_header_names(r->headers, r->nheaders, &names);
    in.signed_headers = buf_slice(&names);
    sign_with_secret(&in, secret_key, sig_hex);
    buf_addf(authorization, ALGORITHM " Credential=%s/%s/%s" SCOPE_TAIL, access_key, day, region);
    buf_addf(authorization, ",SignedHeaders=%s,Signature=%s", names.ptr, sig_hex);
    buf_release(&names);
}

void
sigv4_presign(struct slice method, struct slice path, struct slice extra_query, struct slice host,
              time_t now, unsigned expires, const char *access_key, const char *secret_key,
              const char *region, struct buf *out)
{
    struct sigv4_header h = { SLICE_LIT("host"), host };
    struct sig_input in = { .method = method, .path = path, .headers = &h, .nheaders = 1 };
    struct buf q = BUF_INIT, cred = BUF_INIT;
    char day[9], sig_hex[65];

    in.region = slice_cstr(region);
    set_input_time(&in, now, day);
    buf_addf(&cred, "%s/%s/%s" SCOPE_TAIL, access_key, day, region);
    buf_addslice(&q, extra_query);
    if (q.len)
        buf_addch(&q, '&');
    buf_adds(&q, "X-Amz-Algorithm=" ALGORITHM "&X-Amz-Credential=");
    uri_encode(&q, buf_slice(&cred), false);
    buf_addf(&q, "&X-Amz-Date=%s&X-Amz-Expires=%u&X-Amz-SignedHeaders=host", in.amz_date, expires);
    in.query = buf_slice(&q);
    in.signed_headers = SLICE_LIT("host");
    in.payload_hash = SLICE_LIT(SIGV4_UNSIGNED_PAYLOAD);
    sign_with_secret(&in, secret_key, sig_hex);
    buf_addslice(out, buf_slice(&q));
    buf_addf(out, "&X-Amz-Signature=%s", sig_hex);
    buf_release(&q);
    buf_release(&cred);
}

/* ---- verification ---- */

static bool
is_digits(struct slice s)
{
    size_t i;

    for (i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return s.len > 0;
}

/*
 * Splits "AKID/20130524/us-east-1/s3/aws4_request" from the right (a key may
 * hold '/'). The service is s3, or iam and sts for the AWS IAM and STS query
 * APIs served on the same endpoint.
 */
static int
parse_credential(struct slice s, struct credential *c, struct buf *errmsg)
{
    static const char *const services[] = { "s3", "iam", "sts" };
    struct slice tail = SLICE_LIT("/aws4_request");
    ssize_t i;
    size_t j;

    if (s.len < tail.len || !slice_eq(slice_make(s.ptr + s.len - tail.len, tail.len), tail)) {
        errmsg_add(errmsg, "the credential scope must end in s3/aws4_request");
        return -ERR_AUTH_MALFORMED;
    }
    s.len -= tail.len;
    for (i = (ssize_t)s.len - 1; i >= 0 && s.ptr[i] != '/'; i--)
        ;
    c->service = slice_make(s.ptr + i + 1, s.len - (size_t)(i + 1));
    for (j = 0; j < ARRAY_SIZE(services); j++)
        if (slice_eq_cstr(c->service, services[j]))
            break;
    if (i < 0 || j == ARRAY_SIZE(services)) {
        errmsg_add(errmsg, "the credential scope must end in s3/aws4_request");
        return -ERR_AUTH_MALFORMED;
    }
    s.len = (size_t)i;
    for (i = (ssize_t)s.len - 1; i >= 0 && s.ptr[i] != '/'; i--)
        ;
    c->region = slice_make(s.ptr + i + 1, s.len - (size_t)(i + 1));
    if (i < 9 || s.ptr[i - 9] != '/')
        goto malformed;
    c->date = slice_make(s.ptr + i - 8, 8);
    c->access_key = slice_make(s.ptr, (size_t)(i - 9));
    if (!is_digits(c->date) || c->region.len == 0 || c->region.len >= 64 ||
        c->access_key.len == 0 || c->access_key.len >= 128)
        goto malformed;
    return 0;
malformed:
    errmsg_add(errmsg, "the credential must be ACCESS_KEY/YYYYMMDD/REGION/s3/aws4_request");
    return -ERR_AUTH_MALFORMED;
}

static bool
is_header_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* SignedHeaders: lowercase names separated by ';', "host" among them. */
static int
check_signed_headers(struct slice s, struct buf *errmsg)
{
    bool has_host = false;
    size_t i;

    while (s.ptr) {
        struct slice name;

        s = slice_split(s, ';', &name);
        for (i = 0; i < name.len; i++)
            if (!is_header_name_char(name.ptr[i]))
                name.len = 0;
        if (name.len == 0) {
            errmsg_add(errmsg, "SignedHeaders must be lowercase header names separated by ';'");
            return -ERR_AUTH_MALFORMED;
        }
        has_host |= slice_eq_cstr(name, "host");
    }
    if (!has_host) {
        errmsg_add(errmsg, "the host header must be signed");
        return -ERR_AUTH_MALFORMED;
    }
    return 0;
}

static int
check_signature_shape(struct slice sig, struct buf *errmsg)
{
    uint8_t tmp[32];

    if (hex_decode(sig, tmp, sizeof(tmp)) < 0) {
        errmsg_add(errmsg, "the signature must be 64 hex digits");
        return -ERR_AUTH_MALFORMED;
    }
    return 0;
}

/* Records one "Name=value" part of the Authorization header. */
static int
set_authz_part(struct authz_parts *p, struct slice part)
{
    struct slice name, value, *dst;

    value = slice_split(part, '=', &name);
    name = slice_trim(name);
    value = slice_trim(value);
    if (slice_eq_cstr(name, "Credential"))
        dst = &p->credential;
    else if (slice_eq_cstr(name, "SignedHeaders"))
        dst = &p->signed_headers;
    else if (slice_eq_cstr(name, "Signature"))
        dst = &p->signature;
    else
        return -ERR_AUTH_MALFORMED;
    if (dst->ptr || !value.ptr || value.len == 0)
        return -ERR_AUTH_MALFORMED; /* duplicate, or empty */
    *dst = value;
    return 0;
}

/*
 * "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." in any
 * order and spacing; each part exactly once.
 */
static int
parse_authorization(struct slice s, struct authz_parts *p, struct buf *errmsg)
{
    struct slice alg = SLICE_LIT(ALGORITHM);
    int rc = 0;

    memset(p, 0, sizeof(*p));
    s = slice_trim(s);
    if (!slice_starts_with(s, alg) || s.len == alg.len ||
        (s.ptr[alg.len] != ' ' && s.ptr[alg.len] != '\t')) {
        errmsg_add(errmsg, "the Authorization header must start with " ALGORITHM);
        return -ERR_AUTH_MALFORMED;
    }
    s = slice_make(s.ptr + alg.len, s.len - alg.len);
    while (s.ptr && rc == 0) {
        struct slice part;

        s = slice_split(s, ',', &part);
        rc = set_authz_part(p, part);
    }
    if (rc == 0 && (!p->credential.ptr || !p->signed_headers.ptr || !p->signature.ptr))
        rc = -ERR_AUTH_MALFORMED;
    if (rc < 0)
        errmsg_add(errmsg, "the Authorization header needs Credential=, SignedHeaders= and "
                           "Signature=, each once");
    return rc;
}

/* Parses an X-Amz-Date value; the text must be the canonical form of the time. */
static int
parse_amz_date(struct slice s, time_t *t, struct buf *errmsg)
{
    struct buf back = BUF_INIT;
    int rc;

    rc = clock_parse_amz(s, t);
    if (rc == 0) {
        clock_fmt_amz(&back, *t);
        if (!slice_eq(buf_slice(&back), s))
            rc = -ERR_INVAL;
    }
    buf_release(&back);
    if (rc < 0) {
        errmsg_add(errmsg, "X-Amz-Date must be of the form 20130524T000000Z");
        return -ERR_AUTH_MALFORMED;
    }
    return 0;
}

/* x-amz-date, or the Date header when there is none (as AWS does). */
static int
header_request_time(const struct sigv4_req *r, time_t *t, struct buf *errmsg)
{
    struct slice v;

    if (sigv4_find_header(r->headers, r->nheaders, "x-amz-date", &v))
        return parse_amz_date(slice_trim(v), t, errmsg);
    if (sigv4_find_header(r->headers, r->nheaders, "date", &v) &&
        clock_parse_http(slice_trim(v), t) == 0)
        return 0;
    errmsg_add(errmsg, "the request needs a valid x-amz-date or Date header");
    return -ERR_AUTH_MALFORMED;
}

static bool
is_lower_hex64(struct slice s)
{
    size_t i;

    if (s.len != 64)
        return false;
    for (i = 0; i < s.len; i++)
        if (!((s.ptr[i] >= '0' && s.ptr[i] <= '9') || (s.ptr[i] >= 'a' && s.ptr[i] <= 'f')))
            return false;
    return true;
}

/* A SHA-256 in lowercase hex, UNSIGNED-PAYLOAD or a STREAMING-* value. */
static int
check_payload_hash(struct slice v, struct buf *errmsg)
{
    if (is_lower_hex64(v) || slice_eq_cstr(v, SIGV4_UNSIGNED_PAYLOAD) ||
        (slice_starts_with(v, SLICE_LIT("STREAMING-")) && v.len < 80))
        return 0;
    errmsg_add(errmsg, "x-amz-content-sha256 must be a lowercase hex SHA-256, "
                       "UNSIGNED-PAYLOAD or STREAMING-*");
    return -ERR_AUTH_MALFORMED;
}

/* The scope date must be the day of the request time. */
static int
check_scope_date(struct sig_input *in, const struct credential *c, time_t t, char day[9],
                 struct buf *errmsg)
{
    set_input_time(in, t, day);
    in->date = c->date;
    in->region = c->region;
    in->service = c->service;
    if (!slice_eq(c->date, slice_make(day, 8))) {
        errmsg_add(errmsg, "the credential scope date is not the day of the request date");
        return -ERR_AUTH_MALFORMED;
    }
    return 0;
}

static void
copy_slice(char *dst, size_t size, struct slice s)
{
    size_t n = MIN(s.len, size - 1);

    memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

/*
 * The last step of both ways of verification: looks up the secret, derives
 * the key, signs `in` and compares with `sig_hex` in constant time. Fills
 * `out` on success only.
 */
static int
check_signature(const struct sig_input *in, const struct credential *c, struct slice sig_hex,
                sigv4_lookup_fn *lookup, void *lookup_arg, struct sigv4_auth *out,
                struct buf *errmsg)
{
    struct buf secret = BUF_INIT;
    struct sigv4_auth a;
    uint8_t want[32], got[32];
    int rc;

    memset(&a, 0, sizeof(a));
    BUG_ON(hex_decode(sig_hex, want, sizeof(want)) < 0); /* checked by the parser */
    rc = lookup(lookup_arg, c->access_key, &secret);
    if (rc < 0) {
        /* Other errors (the IAM store unreachable) pass through as they are. */
        if (rc == -ERR_INVALID_ACCESS_KEY)
            errmsg_add(errmsg, "the access key id does not exist");
        goto out;
    }
    derive_signing_key(buf_slice(&secret), c->date, c->region, c->service, a.signing_key);
    rc = sign_input(in, a.signing_key, got, errmsg);
    if (rc < 0)
        goto out;
    if (!ct_equal(want, got, sizeof(want))) {
        errmsg_add(errmsg, "the signature does not match: check the secret key and the "
                           "signing method");
        rc = -ERR_SIG_MISMATCH;
        goto out;
    }
    copy_slice(a.access_key, sizeof(a.access_key), c->access_key);
    copy_slice(a.region, sizeof(a.region), c->region);
    copy_slice(a.service, sizeof(a.service), c->service);
    copy_slice(a.date, sizeof(a.date), c->date);
    copy_slice(a.payload_hash, sizeof(a.payload_hash), in->payload_hash);
    hex_encode_to(a.seed_signature, got, sizeof(got));
    *out = a;
out:
    secure_zero(&a, sizeof(a));
    buf_release_secure(&secret);
    return rc;
}

/* Checks the header form's request time, then the signature. */
static int
verify_header_time_and_sig(const struct sigv4_req *r, struct sig_input *in,
                           const struct authz_parts *p, sigv4_lookup_fn *lookup, void *arg,
                           struct sigv4_auth *out, struct buf *errmsg)
{
    struct credential c;
    char day[9];
    time_t t;
    int rc;

    rc = parse_credential(p->credential, &c, errmsg);
    if (rc == 0)
        rc = header_request_time(r, &t, errmsg);
    if (rc == 0)
        rc = check_scope_date(in, &c, t, day, errmsg);
    if (rc < 0)
        return rc;
    if (t > r->now + SIGV4_MAX_SKEW || t < r->now - SIGV4_MAX_SKEW) {
        errmsg_add(errmsg, "the difference between the request time and the server's time "
                           "is too large");
        return -ERR_TIME_SKEWED;
    }
    rc = check_signature(in, &c, p->signature, lookup, arg, out, errmsg);
    if (rc == 0) {
        out->request_time = t;
        out->presigned = false;
    }
    return rc;
}

static int
verify_header(const struct sigv4_req *r, struct slice authz, sigv4_lookup_fn *lookup, void *arg,
              struct sigv4_auth *out, struct buf *errmsg)
{
    struct sig_input in = { .method = r->method, .path = r->path, .query = r->query };
    struct authz_parts p;
    struct slice v = SLICE_LIT(SIGV4_EMPTY_SHA256);
    int rc;

    in.headers = r->headers;
    in.nheaders = r->nheaders;
    rc = parse_authorization(authz, &p, errmsg);
    if (rc == 0)
        rc = check_signed_headers(p.signed_headers, errmsg);
    if (rc == 0)
        rc = check_signature_shape(p.signature, errmsg);
    if (rc < 0)
        return rc;
    /* As MinIO: without x-amz-content-sha256 the payload is signed as empty. */
    if (sigv4_find_header(r->headers, r->nheaders, "x-amz-content-sha256", &v))
        v = slice_trim(v);
    rc = check_payload_hash(v, errmsg);
    if (rc < 0)
        return rc;
    in.payload_hash = v;
    in.signed_headers = p.signed_headers;
    return verify_header_time_and_sig(r, &in, &p, lookup, arg, out, errmsg);
}

/* The decoded presigned query parameters. */
struct presign_params {
    struct buf algorithm;
    struct buf credential;
    struct buf date;
    struct buf expires;
    struct buf signed_headers;
    struct buf signature;
    struct buf content_sha256; /* optional */
};

static void
presign_params_release(struct presign_params *pp)
{
    buf_release(&pp->algorithm);
    buf_release(&pp->credential);
    buf_release(&pp->date);
    buf_release(&pp->expires);
    buf_release(&pp->signed_headers);
    buf_release(&pp->signature);
    buf_release(&pp->content_sha256);
}

/* Decodes the value of the parameter `name` into `dst`; it must be there once (unless optional). */
static int
get_param(struct slice q, const char *name, bool optional, struct buf *dst, struct buf *errmsg)
{
    struct slice v = SLICE_NULL;
    size_t n = sigv4_find_param(q, name, &v);

    if (n == 0 && optional)
        return 0;
    if (n != 1 || uri_decode(dst, v) < 0 || dst->len == 0) {
        if (errmsg)
            buf_addf(errmsg, "the presigned query needs exactly one valid %s", name);
        return -ERR_AUTH_MALFORMED;
    }
    return 0;
}

static int
parse_presign_params(struct slice q, struct presign_params *pp, struct buf *errmsg)
{
    int rc;

    rc = get_param(q, "X-Amz-Algorithm", false, &pp->algorithm, errmsg);
    if (rc == 0 && !slice_eq_cstr(buf_slice(&pp->algorithm), ALGORITHM)) {
        errmsg_add(errmsg, "X-Amz-Algorithm must be " ALGORITHM);
        rc = -ERR_AUTH_MALFORMED;
    }
    if (rc == 0)
        rc = get_param(q, "X-Amz-Credential", false, &pp->credential, errmsg);
    if (rc == 0)
        rc = get_param(q, "X-Amz-Date", false, &pp->date, errmsg);
    if (rc == 0)
        rc = get_param(q, "X-Amz-Expires", false, &pp->expires, errmsg);
    if (rc == 0)
        rc = get_param(q, "X-Amz-SignedHeaders", false, &pp->signed_headers, errmsg);
    if (rc == 0)
        rc = get_param(q, "X-Amz-Signature", false, &pp->signature, errmsg);
    if (rc == 0)
        rc = get_param(q, "X-Amz-Content-Sha256", true, &pp->content_sha256, errmsg);
    if (rc == 0)
        rc = check_signed_headers(buf_slice(&pp->signed_headers), errmsg);
    if (rc == 0)
        rc = check_signature_shape(buf_slice(&pp->signature), errmsg);
    return rc;
}

/* X-Amz-Expires in 1..7 days; the URL neither expired nor dated in the future. */
static int
check_presign_time(const struct sigv4_req *r, time_t t, struct slice expires, struct buf *errmsg)
{
    uint64_t e;

    /* S3's messages; a negative value is refused as such (400), not as expired (403) */
    if (expires.len > 1 && expires.ptr[0] == '-' &&
        parse_u64(slice_make(expires.ptr + 1, expires.len - 1), &e) == 0) {
        errmsg_add(errmsg, "X-Amz-Expires must be non-negative");
        return -ERR_AUTH_MALFORMED;
    }
    if (parse_u64(expires, &e) < 0 || e == 0) {
        errmsg_add(errmsg, "X-Amz-Expires must be a number of seconds from 1 to 604800");
        return -ERR_AUTH_MALFORMED;
    }
    if (e > SIGV4_MAX_EXPIRES) {
        errmsg_add(errmsg, "X-Amz-Expires must be less than a week (in seconds) that is 604800 "
                           "seconds");
        return -ERR_AUTH_MALFORMED;
    }
    if (t > r->now + SIGV4_MAX_SKEW) {
        errmsg_add(errmsg, "the presigned URL is dated in the future");
        return -ERR_TIME_SKEWED;
    }
    if (r->now > t + (time_t)e) {
        errmsg_add(errmsg, "the presigned URL has expired");
        return -ERR_EXPIRED;
    }
    return 0;
}

/* Payload: X-Amz-Content-Sha256 in the query, else the header, else UNSIGNED-PAYLOAD. */
static int
presign_payload(const struct sigv4_req *r, const struct presign_params *pp, struct slice *out,
                struct buf *errmsg)
{
    struct slice v = SLICE_LIT(SIGV4_UNSIGNED_PAYLOAD);

    if (pp->content_sha256.len)
        v = buf_slice(&pp->content_sha256);
    else if (sigv4_find_header(r->headers, r->nheaders, "x-amz-content-sha256", &v))
        v = slice_trim(v);
    *out = v;
    return check_payload_hash(v, errmsg);
}

static int
verify_presigned(const struct sigv4_req *r, sigv4_lookup_fn *lookup, void *arg,
                 struct sigv4_auth *out, struct buf *errmsg)
{
    struct sig_input in = { .method = r->method, .path = r->path, .query = r->query };
    struct presign_params pp = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT,
                                 BUF_INIT, BUF_INIT, BUF_INIT };
    struct credential c;
    char day[9];
    time_t t;
    int rc;

    in.skip_sig_param = true;
    in.headers = r->headers;
    in.nheaders = r->nheaders;
    rc = parse_presign_params(r->query, &pp, errmsg);
    if (rc == 0)
        rc = parse_credential(buf_slice(&pp.credential), &c, errmsg);
    if (rc == 0)
        rc = parse_amz_date(buf_slice(&pp.date), &t, errmsg);
    if (rc == 0)
        rc = check_scope_date(&in, &c, t, day, errmsg);
    if (rc == 0)
        rc = presign_payload(r, &pp, &in.payload_hash, errmsg);
    if (rc == 0)
        rc = check_presign_time(r, t, buf_slice(&pp.expires), errmsg);
    in.signed_headers = buf_slice(&pp.signed_headers);
    if (rc == 0)
        rc = check_signature(&in, &c, buf_slice(&pp.signature), lookup, arg, out, errmsg);
    if (rc == 0) {
        out->request_time = t;
        out->presigned = true;
    }
    presign_params_release(&pp);
    return rc;
}

static bool
has_presign_params(struct slice q)
{
    struct slice v;

    return sigv4_find_param(q, "X-Amz-Signature", &v) ||
           sigv4_find_param(q, "X-Amz-Algorithm", &v) ||
           sigv4_find_param(q, "X-Amz-Credential", &v);
}

bool
sigv4_is_signed(const struct sigv4_req *r)
{
    struct slice v;

    return sigv4_find_header(r->headers, r->nheaders, "authorization", &v) ||
           has_presign_params(r->query);
}

int
sigv4_verify(const struct sigv4_req *r, sigv4_lookup_fn *lookup, void *lookup_arg,
             struct sigv4_auth *out, struct buf *errmsg)
{
    struct slice authz = SLICE_NULL;
    size_t nauthz = sigv4_find_header(r->headers, r->nheaders, "authorization", &authz);
    bool presigned = has_presign_params(r->query);

    if (nauthz == 0 && !presigned)
        return -ERR_ACCESS_DENIED;
    if (nauthz > 1 || (nauthz && presigned)) {
        errmsg_add(errmsg, "only one authentication mechanism is allowed");
        return -ERR_AUTH_MALFORMED;
    }
    if (presigned)
        return verify_presigned(r, lookup, lookup_arg, out, errmsg);
    return verify_header(r, authz, lookup, lookup_arg, out, errmsg);
}

/* ---- aws-chunked: chunk and trailer signatures ---- */

/* Appends `s` at `*p`, advancing it. */
static void
put_str(char **p, const char *s, size_t n)
{
    memcpy(*p, s, n);
    *p += n;
}

/* Writes the 16 characters of X-Amz-Date for `t` ("20130524T000000Z"). */
static void
put_amz_date(char **p, time_t t)
{
    struct tm tm;
    unsigned v[6], w[6] = { 4, 2, 2, 2, 2, 2 };
    unsigned i, j;

    gmtime_r(&t, &tm);
    v[0] = (unsigned)tm.tm_year + 1900;
    v[1] = (unsigned)tm.tm_mon + 1;
    v[2] = (unsigned)tm.tm_mday;
    v[3] = (unsigned)tm.tm_hour;
    v[4] = (unsigned)tm.tm_min;
    v[5] = (unsigned)tm.tm_sec;
    for (i = 0; i < 6; i++) {
        for (j = w[i]; j > 0; j--) {
            (*p)[j - 1] = (char)('0' + v[i] % 10);
            v[i] /= 10;
        }
        *p += w[i];
        if (i == 2)
            *(*p)++ = 'T';
    }
    *(*p)++ = 'Z';
}

/*
 * HMAC of "<algorithm>\n<amz date>\n<scope>\n<prev>\n<extra><hash hex>" with
 * the signing key. Once per chunk on the upload path: no allocation, no
 * printf (they cost more than the HMAC).
 */
static void
sign_chained(const struct sigv4_auth *a, const char *algorithm, const char *prev_sig,
             const char *extra, const uint8_t hash[32], char out[65])
{
    char sts[64 + 17 + 9 + sizeof(a->region) + sizeof(SCOPE_TAIL) + 65 + 65 + 65];
    char *p = sts;
    size_t rlen = strnlen(a->region, sizeof(a->region) - 1);
    uint8_t sig[32];

    put_str(&p, algorithm, strlen(algorithm));
    *p++ = '\n';
    put_amz_date(&p, a->request_time);
    *p++ = '\n';
    put_str(&p, a->date, 8);
    *p++ = '/';
    put_str(&p, a->region, rlen);
    put_str(&p, SCOPE_TAIL "\n", sizeof(SCOPE_TAIL));
    put_str(&p, prev_sig, 64);
    *p++ = '\n';
    put_str(&p, extra, strlen(extra));
    hex_encode_to(p, hash, 32);
    p += 64;
    BUG_ON((size_t)(p - sts) > sizeof(sts));
    hmac_sha256(a->signing_key, sizeof(a->signing_key), sts, (size_t)(p - sts), sig);
    hex_encode_to(out, sig, sizeof(sig));
}

void
sigv4_chunk_sign(const struct sigv4_auth *a, const char *prev_sig, const uint8_t chunk_sha256[32],
                 char out[65])
{
    sign_chained(a, ALGORITHM "-PAYLOAD", prev_sig, SIGV4_EMPTY_SHA256 "\n", chunk_sha256, out);
}

void
sigv4_trailer_sign(const struct sigv4_auth *a, const char *prev_sig,
                   const uint8_t trailer_sha256[32], char out[65])
{
    sign_chained(a, ALGORITHM "-TRAILER", prev_sig, "", trailer_sha256, out);
}

void
sigv4_auth_for_signing(struct sigv4_auth *a, const char *access_key, const char *secret_key,
                       const char *region, time_t t, const char *seed_signature)
{
    struct sig_input in = { 0 };
    char day[9];

    memset(a, 0, sizeof(*a));
    set_input_time(&in, t, day);
    derive_signing_key(slice_cstr(secret_key), slice_make(day, 8), slice_cstr(region), SLICE_NULL,
                       a->signing_key);
    copy_slice(a->access_key, sizeof(a->access_key), slice_cstr(access_key));
    copy_slice(a->region, sizeof(a->region), slice_cstr(region));
    memcpy(a->date, day, sizeof(a->date));
    copy_slice(a->seed_signature, sizeof(a->seed_signature), slice_cstr(seed_signature));
    a->request_time = t;
}

/*
 * auth/post_policy.c: parsing, checking and signing of POST policies (see
 * post_policy.h). The JSON is parsed with jansson into a flat list of
 * conditions; checking is a pass over the conditions and one over the form
 * fields (coverage).
 */
#include "util/base.h"

#include "auth/post_policy.h"

#include "auth/sigv2.h"

#include <jansson.h>
#include <strings.h>

#include "util/clock.h"
#include "util/enc.h"
#include "util/err.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
/* S3's wording */
#define MSG_NO_SUCH_KEY "The AWS Access Key Id you provided does not exist in our records."
#define MSG_SIG_MISMATCH                                                                           \
    "The request signature we calculated does not match the signature you provided. Check your "   \
    "key and signing method."

enum cond_op {
    COND_EQ,
    COND_STARTS_WITH,
    COND_RANGE,
};

struct cond {
    enum cond_op op;
    char *field; /* without '$', as written (compared case-insensitively) */
    char *value; /* NUL-terminated; jansson refuses strings with NULs */
    uint64_t min, max;
};

struct post_policy {
    time_t expiration;
    struct cond *conds;
    size_t nconds;
    bool has_range;
    uint64_t min, max;
};

static void
set_msg(struct buf *errmsg, const char *fmt, const char *arg)
{
    if (!errmsg)
        return;
    buf_clear(errmsg);
    buf_addf(errmsg, fmt, arg ? arg : "");
}

/* Two decimal digits at s[0..1]. */
static bool
two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

/* "2007-12-01T12:00:00.000Z" (fraction optional, UTC only). */
static int
parse_expiration(const char *s, time_t *out)
{
    struct tm tm = { 0 };
    int c, y, i;
    size_t n = strlen(s);

    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -ERR_INVAL;
    if (!two_digits(s, &c) || !two_digits(s + 2, &y) || !two_digits(s + 5, &tm.tm_mon) ||
        !two_digits(s + 8, &tm.tm_mday) || !two_digits(s + 11, &tm.tm_hour) ||
        !two_digits(s + 14, &tm.tm_min) || !two_digits(s + 17, &tm.tm_sec))
        return -ERR_INVAL;
    i = 19;
    if (s[i] == '.') {
        i++;
        if (s[i] < '0' || s[i] > '9')
            return -ERR_INVAL;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (s[i] != 'Z' || s[i + 1] != '\0')
        return -ERR_INVAL;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -ERR_INVAL;
    tm.tm_year = c * 100 + y - 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm);
    return 0;
}

/* A non-negative integer, or a string of digits (some clients quote them). */
static bool
json_to_u64(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return false;
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    if (json_is_string(v))
        return parse_u64(slice_make(json_string_value(v), json_string_length(v)), out) == 0;
    return false;
}

static struct cond *
add_cond(struct post_policy *p, enum cond_op op, const char *field, const char *value)
{
    struct cond *c;

    p->conds = xrealloc(p->conds, (p->nconds + 1) * sizeof(*p->conds));
    c = &p->conds[p->nconds++];
    memset(c, 0, sizeof(*c));
    c->op = op;
    c->field = xstrdup(field);
    c->value = xstrdup(value ? value : "");
    return c;
}

/* ["eq"|"starts-with", "$name", "value"] or ["content-length-range", min, max]. */
static int
parse_array_cond(struct post_policy *p, const json_t *a, struct buf *errmsg)
{
    const json_t *op = json_array_get(a, 0), *x = json_array_get(a, 1), *y = json_array_get(a, 2);
    const char *ops = json_is_string(op) ? json_string_value(op) : "";
    struct cond *c;
    uint64_t min, max;

    if (json_array_size(a) != 3 || !json_is_string(op))
        goto out_bad;
    if (!strcasecmp(ops, "content-length-range")) {
        if (!json_to_u64(x, &min) || !json_to_u64(y, &max) || min > max)
            goto out_bad;
        c = add_cond(p, COND_RANGE, "content-length", NULL);
        c->min = min;
        c->max = max;
        p->min = p->has_range ? MAX(p->min, min) : min;
        p->max = p->has_range ? MIN(p->max, max) : max;
        p->has_range = true;
        return 0;
    }
    if (!json_is_string(x) || !json_is_string(y) || json_string_value(x)[0] != '$' ||
        json_string_value(x)[1] == '\0')
        goto out_bad;
    if (!strcasecmp(ops, "eq"))
        add_cond(p, COND_EQ, json_string_value(x) + 1, json_string_value(y));
    else if (!strcasecmp(ops, "starts-with"))
        add_cond(p, COND_STARTS_WITH, json_string_value(x) + 1, json_string_value(y));
    else
        goto out_bad;
    return 0;
out_bad:
    set_msg(errmsg, "Invalid Policy: Invalid 'conditions' entry: %s", ops);
    return -ERR_MALFORMED_POST;
}

static int
parse_conditions(struct post_policy *p, const json_t *conds, struct buf *errmsg)
{
    const json_t *c, *v;
    const char *name;
    size_t i;
    int rc;

    if (!json_is_array(conds)) {
        set_msg(errmsg, "Invalid Policy: Policy missing conditions.", NULL);
        return -ERR_MALFORMED_POST;
    }
    if (json_array_size(conds) > POST_POLICY_MAX_CONDITIONS) {
        set_msg(errmsg, "Invalid Policy: Too many conditions.", NULL);
        return -ERR_MALFORMED_POST;
    }
    json_array_foreach(conds, i, c)
    {
        if (json_is_array(c)) {
            rc = parse_array_cond(p, c, errmsg);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!json_is_object(c) || json_object_size(c) == 0) {
            set_msg(errmsg, "Invalid Policy: Invalid 'conditions' entry.", NULL);
            return -ERR_MALFORMED_POST;
        }
        json_object_foreach((json_t *)c, name, v)
        {
            if (!json_is_string(v) || name[0] == '\0') {
                set_msg(errmsg, "Invalid Policy: Invalid condition: %s", name);
                return -ERR_MALFORMED_POST;
            }
            add_cond(p, COND_EQ, name, json_string_value(v));
        }
    }
    return 0;
}

static int
parse_document(struct post_policy *p, const struct buf *doc, struct buf *errmsg)
{
    json_error_t jerr;
    json_t *root, *exp;
    int rc = -ERR_MALFORMED_POST;

    root = json_loadb(doc->ptr, doc->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        set_msg(errmsg, "Invalid Policy: Invalid JSON.", NULL);
        goto out_free;
    }
    exp = json_object_get(root, "expiration");
    if (!json_is_string(exp)) {
        set_msg(errmsg, "Invalid Policy: Policy missing expiration.", NULL);
        goto out_free;
    }
    if (parse_expiration(json_string_value(exp), &p->expiration) < 0) {
        set_msg(errmsg, "Invalid Policy: Invalid 'expiration' value: '%s'", json_string_value(exp));
        goto out_free;
    }
    rc = parse_conditions(p, json_object_get(root, "conditions"), errmsg);
out_free:
    json_decref(root);
    return rc;
}

/* Decodes base64 that may be wrapped over lines (MIME encoders wrap at 76 columns). */
static int
decode_wrapped(struct buf *out, struct slice b64)
{
    struct buf clean = BUF_INIT;
    size_t i;
    int rc;

    for (i = 0; i < b64.len; i++)
        if (b64.ptr[i] != '\r' && b64.ptr[i] != '\n' && b64.ptr[i] != ' ' && b64.ptr[i] != '\t')
            buf_addch(&clean, b64.ptr[i]);
    rc = base64_decode(out, buf_slice(&clean));
    buf_release(&clean);
    return rc;
}

int
post_policy_parse(struct slice policy_b64, struct post_policy **out, struct buf *errmsg)
{
    struct post_policy *p = xcalloc(1, sizeof(*p));
    struct buf doc = BUF_INIT;
    int rc;

    rc = decode_wrapped(&doc, policy_b64);
    if (rc < 0 || doc.len == 0) {
        set_msg(errmsg, "Invalid Policy: Invalid Base64 Encoding.", NULL);
        rc = -ERR_MALFORMED_POST;
    } else {
        rc = parse_document(p, &doc, errmsg);
    }
    buf_release(&doc);
    if (rc < 0) {
        post_policy_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void
post_policy_free(struct post_policy *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->nconds; i++) {
        free(p->conds[i].field);
        free(p->conds[i].value);
    }
    free(p->conds);
    free(p);
}

time_t
post_policy_expiration(const struct post_policy *p)
{
    return p->expiration;
}

bool
post_policy_length_range(const struct post_policy *p, uint64_t *min, uint64_t *max)
{
    if (!p->has_range)
        return false;
    *min = p->min;
    *max = p->max;
    return true;
}

/* ---- checking ---- */

static const struct post_field *
find_field(const struct post_field *f, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (slice_case_eq_cstr(f[i].name, name))
            return &f[i];
    return NULL;
}

static bool
starts_with(struct slice v, const char *prefix)
{
    return slice_starts_with(v, slice_cstr(prefix));
}

/* starts-with on Content-Type: each element of a comma-separated list must match. */
static bool
content_type_starts_with(struct slice v, const char *prefix)
{
    struct slice rest = v, one;

    if (!prefix[0])
        return true;
    do {
        rest = slice_split(rest, ',', &one);
        if (!starts_with(slice_trim(one), prefix))
            return false;
    } while (rest.ptr);
    return true;
}

static bool
value_holds(const struct cond *c, struct slice v)
{
    if (c->op == COND_EQ)
        return slice_eq_cstr(v, c->value);
    if (!strcasecmp(c->field, "content-type"))
        return content_type_starts_with(v, c->value);
    return starts_with(v, c->value);
}

static bool
cond_holds(const struct cond *c, const char *bucket, const struct post_field *f, size_t n)
{
    const struct post_field *field = find_field(f, n, c->field);
    struct slice v = field ? field->value : SLICE_LIT("");

    if (c->op == COND_RANGE)
        return true; /* enforced on the file's size by the caller */
    if (!strcasecmp(c->field, "bucket")) {
        if (!value_holds(c, slice_cstr(bucket)))
            return false;
        return !field || value_holds(c, v);
    }
    return value_holds(c, v);
}

/*
 * Fields the policy need not name: the signature's own, the file, x-ignore-*,
 * and x-amz-checksum-<algo> (the file's checksum, which S3 checks itself
 * against the file rather than against the policy).
 */
static bool
is_exempt(struct slice name)
{
    return slice_case_eq_cstr(name, "x-amz-signature") || slice_case_eq_cstr(name, "file") ||
           slice_case_eq_cstr(name, "policy") || slice_case_eq_cstr(name, "awsaccesskeyid") ||
           slice_case_eq_cstr(name, "signature") ||
           (name.len >= 9 && slice_case_eq(slice_make(name.ptr, 9), SLICE_LIT("x-ignore-"))) ||
           (name.len > 15 && slice_case_eq(slice_make(name.ptr, 15), SLICE_LIT("x-amz-checksum-")));
}

static bool
is_covered(const struct post_policy *p, struct slice name)
{
    size_t i;

    for (i = 0; i < p->nconds; i++)
        if (p->conds[i].op != COND_RANGE && slice_case_eq_cstr(name, p->conds[i].field))
            return true;
    return false;
}

static void
cond_text(struct buf *out, const struct cond *c)
{
    if (c->op == COND_RANGE)
        buf_addf(out, "[\"content-length-range\", %llu, %llu]", (unsigned long long)c->min,
                 (unsigned long long)c->max);
    else
        buf_addf(out, "[\"%s\", \"$%s\", \"%s\"]", c->op == COND_EQ ? "eq" : "starts-with",
                 c->field, c->value);
}

int
post_policy_check(const struct post_policy *p, const char *bucket, const struct post_field *fields,
                  size_t nfields, time_t now, struct buf *errmsg)
{
    size_t i;

    if (now > p->expiration) {
        set_msg(errmsg, "Invalid according to Policy: Policy expired.", NULL);
        return -ERR_INVALID_POLICY;
    }
    for (i = 0; i < p->nconds; i++) {
        if (cond_holds(&p->conds[i], bucket, fields, nfields))
            continue;
        if (errmsg) {
            buf_clear(errmsg);
            buf_adds(errmsg, "Invalid according to Policy: Policy Condition failed: ");
            cond_text(errmsg, &p->conds[i]);
        }
        return -ERR_INVALID_POLICY;
    }
    for (i = 0; i < nfields; i++) {
        if (is_exempt(fields[i].name) || is_covered(p, fields[i].name))
            continue;
        if (errmsg) {
            buf_clear(errmsg);
            buf_adds(errmsg, "Invalid according to Policy: Extra input fields: ");
            buf_addslice(errmsg, fields[i].name);
        }
        return -ERR_INVALID_POLICY;
    }
    return 0;
}

/* ---- signature ---- */

static void
derive_key(struct slice secret, const char *date, const char *region, uint8_t key[32])
{
    struct buf seed = BUF_INIT;
    uint8_t k1[32], k2[32];

    buf_adds(&seed, "AWS4");
    buf_addslice(&seed, secret);
    hmac_sha256(seed.ptr, seed.len, date, strlen(date), k1);
    hmac_sha256(k1, sizeof(k1), region, strlen(region), k2);
    hmac_sha256(k2, sizeof(k2), "s3", 2, k1);
    hmac_sha256(k1, sizeof(k1), "aws4_request", 12, key);
    secure_zero(k1, sizeof(k1));
    secure_zero(k2, sizeof(k2));
    buf_release_secure(&seed);
}

void
post_policy_sign(struct slice policy_b64, const char *secret_key, const char *date,
                 const char *region, char sig_hex[65])
{
    uint8_t key[32], sig[32];

    derive_key(slice_cstr(secret_key), date, region, key);
    hmac_sha256(key, sizeof(key), policy_b64.ptr, policy_b64.len, sig);
    hex_encode_to(sig_hex, sig, sizeof(sig));
    secure_zero(key, sizeof(key));
}

static bool
copy_field(char *dst, size_t size, struct slice s)
{
    if (s.len >= size || memchr(s.ptr, '\0', s.len))
        return false;
    memcpy(dst, s.ptr, s.len);
    dst[s.len] = '\0';
    return true;
}

static bool
all_digits(struct slice s)
{
    size_t i;

    for (i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

/*
 * "AK/YYYYMMDD/region/s3/aws4_request": the access key is everything before
 * the last four components. Fills access key, date and region of `a`.
 */
static int
parse_credential(struct slice s, struct sigv4_auth *a, struct buf *errmsg)
{
    struct slice part[4];
    size_t end = s.len, i;
    ssize_t j;

    for (i = 0; i < 4; i++) {
        for (j = (ssize_t)end - 1; j >= 0 && s.ptr[j] != '/'; j--)
            ;
        if (j < 0)
            goto out_bad;
        part[3 - i] = slice_make(s.ptr + j + 1, end - (size_t)j - 1);
        end = (size_t)j;
    }
    if (end == 0 || part[0].len != 8 || !all_digits(part[0]) || !slice_eq_cstr(part[2], "s3") ||
        !slice_eq_cstr(part[3], "aws4_request"))
        goto out_bad;
    if (!copy_field(a->access_key, sizeof(a->access_key), slice_make(s.ptr, end)) ||
        !copy_field(a->date, sizeof(a->date), part[0]) ||
        !copy_field(a->region, sizeof(a->region), part[1]) || !a->region[0])
        goto out_bad;
    return 0;
out_bad:
    set_msg(errmsg,
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
            NULL);
    return -ERR_AUTH_MALFORMED;
}

static int
check_sig_fields(const struct post_sig *sig, const char *region, struct sigv4_auth *a,
                 struct buf *errmsg)
{
    int rc;

    if (!slice_eq_cstr(slice_trim(sig->algorithm), ALGORITHM)) {
        set_msg(errmsg, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"", NULL);
        return -ERR_AUTH_MALFORMED;
    }
    rc = parse_credential(slice_trim(sig->credential), a, errmsg);
    if (rc < 0)
        return rc;
    if (strcmp(a->region, region) != 0) {
        if (errmsg) {
            buf_clear(errmsg);
            buf_addf(errmsg, "the region '%s' is wrong; expecting '%s'", a->region, region);
        }
        return -ERR_AUTH_MALFORMED;
    }
    if (clock_parse_amz(slice_trim(sig->date), &a->request_time) < 0 ||
        memcmp(slice_trim(sig->date).ptr, a->date, 8) != 0) {
        set_msg(errmsg,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\" "
                "on the day of the credential scope",
                NULL);
        return -ERR_AUTH_MALFORMED;
    }
    return 0;
}

int
post_policy_verify(struct slice policy_b64, const struct post_sig *sig, const char *region,
                   sigv4_lookup_fn *lookup, void *lookup_arg, struct sigv4_auth *out,
                   struct buf *errmsg)
{
    struct sigv4_auth a;
    struct buf secret = BUF_INIT;
    struct slice got = slice_trim(sig->signature);
    uint8_t mac[32];
    char hex[65];
    int rc;

    memset(&a, 0, sizeof(a));
    rc = check_sig_fields(sig, region, &a, errmsg);
    if (rc < 0)
        goto out;
    rc = lookup(lookup_arg, slice_cstr(a.access_key), &secret);
    if (rc < 0) {
        set_msg(errmsg, MSG_NO_SUCH_KEY, NULL);
        goto out;
    }
    derive_key(buf_slice(&secret), a.date, a.region, a.signing_key);
    hmac_sha256(a.signing_key, sizeof(a.signing_key), policy_b64.ptr, policy_b64.len, mac);
    hex_encode_to(hex, mac, sizeof(mac));
    if (got.len != 64 || !ct_equal(hex, got.ptr, 64)) {
        set_msg(errmsg, MSG_SIG_MISMATCH, NULL);
        rc = -ERR_SIG_MISMATCH;
        goto out;
    }
    memcpy(a.seed_signature, hex, sizeof(hex));
    *out = a;
out:
    buf_release_secure(&secret);
    sigv4_auth_clear(&a);
    return rc;
}

int
post_policy_verify_v2(struct slice policy_b64, struct slice access_key, struct slice signature,
                      sigv4_lookup_fn *lookup, void *lookup_arg, struct sigv4_auth *out,
                      struct buf *errmsg)
{
    struct buf secret = BUF_INIT;
    struct slice got = slice_trim(signature);
    char want[29];
    int rc;

    memset(out, 0, sizeof(*out));
    access_key = slice_trim(access_key);
    if (access_key.len == 0 || access_key.len >= sizeof(out->access_key)) {
        set_msg(errmsg, MSG_NO_SUCH_KEY, NULL);
        return -ERR_INVALID_ACCESS_KEY;
    }
    rc = lookup(lookup_arg, access_key, &secret);
    if (rc < 0) {
        set_msg(errmsg, MSG_NO_SUCH_KEY, NULL);
        goto out;
    }
    sigv2_sign(buf_slice(&secret), policy_b64, want);
    if (got.len != 28 || !ct_equal(want, got.ptr, 28)) {
        set_msg(errmsg, MSG_SIG_MISMATCH, NULL);
        rc = -ERR_SIG_MISMATCH;
        goto out;
    }
    memcpy(out->access_key, access_key.ptr, access_key.len);
    snprintf(out->payload_hash, sizeof(out->payload_hash), "%s", SIGV4_UNSIGNED_PAYLOAD);
out:
    buf_release_secure(&secret);
    return rc;
}

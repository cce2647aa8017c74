/*
 * auth/jwt.c: HS512 JSON Web Tokens for Prometheus scrapes (jwt.h).
 * Compact serialization: base64url(header) "." base64url(claims) "."
 * base64url(HMAC-SHA512(secret, the first two parts)), without padding.
 * Only HS512 is accepted, whatever the header says ("none" included).
 */
#include "util/base.h"

#include "auth/jwt.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/enc.h"
#include "util/err.h"

#define JWT_HEADER "{\"alg\":\"HS512\",\"typ\":\"JWT\"}"
#define JWT_MAX_LEN 4096
#define JWT_IAT_SKEW_S 300 /* an iat this far ahead of the server's clock is refused */

static void
b64url_encode(struct buf *out, const void *p, size_t n)
{
    struct buf b = BUF_INIT;
    size_t i;

    base64_encode(&b, p, n);
    for (i = 0; i < b.len && b.ptr[i] != '='; i++)
        buf_addch(out, b.ptr[i] == '+' ? '-' : b.ptr[i] == '/' ? '_' : b.ptr[i]);
    buf_release(&b);
}

static int
b64url_decode(struct buf *out, struct slice s)
{
    struct buf b = BUF_INIT;
    size_t i;
    int rc;

    for (i = 0; i < s.len; i++) {
        char c = s.ptr[i];

        if (c == '+' || c == '/' || c == '=') {
            buf_release(&b);
            return -ERR_INVAL;
        }
        buf_addch(&b, c == '-' ? '+' : c == '_' ? '/' : c);
    }
    while (b.len % 4)
        buf_addch(&b, '=');
    rc = base64_decode(out, buf_slice(&b));
    buf_release(&b);
    return rc;
}

static void
hs512(struct slice secret, struct slice msg, unsigned char mac[64])
{
    unsigned len = 64;

    BUG_ON(!HMAC(EVP_sha512(), secret.ptr, (int)secret.len, (const unsigned char *)msg.ptr, msg.len,
                 mac, &len));
}

void
jwt_prometheus_sign(struct slice secret, const char *access_key, int64_t iat, int64_t exp,
                    struct buf *out)
{
    json_t *claims = json_pack("{sI sI ss ss}", "exp", (json_int_t)exp, "iat", (json_int_t)iat,
                               "sub", access_key, "iss", JWT_PROMETHEUS_ISSUER);
    char *text = json_dumps(claims, JSON_COMPACT);
    unsigned char mac[64];
    size_t start = out->len;

    BUG_ON(!text);
    b64url_encode(out, JWT_HEADER, strlen(JWT_HEADER));
    buf_addch(out, '.');
    b64url_encode(out, text, strlen(text));
    hs512(secret, slice_make(out->ptr + start, out->len - start), mac);
    buf_addch(out, '.');
    b64url_encode(out, mac, sizeof(mac));
    free(text);
    json_decref(claims);
}

/* Decodes one part into a JSON object; NULL if it is not one. */
static json_t *
part_json(struct slice part)
{
    struct buf b = BUF_INIT;
    json_t *j = NULL;

    if (b64url_decode(&b, part) == 0)
        j = json_loadb(b.ptr, b.len, JSON_REJECT_DUPLICATES, NULL);
    buf_release(&b);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static int
check_claims(const json_t *hdr, const json_t *claims, const char *access_key, int64_t now,
             int64_t revoked_before)
{
    const json_t *exp = json_object_get(claims, "exp"), *iat = json_object_get(claims, "iat");
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));

    if (!alg || strcmp(alg, "HS512") || !iss || strcmp(iss, JWT_PROMETHEUS_ISSUER) || !sub ||
        strcmp(sub, access_key) || !json_is_number(exp) || (iat && !json_is_number(iat)))
        return -ERR_ACCESS_DENIED;
    if ((iat ? json_number_value(iat) : 0) < (double)revoked_before)
        return -ERR_ACCESS_DENIED; /* revoked: basalt admin prometheus revoke */
    /* issued in the future (a fast clock): a revocation now could not reach it */
    if (iat && json_number_value(iat) > (double)(now + JWT_IAT_SKEW_S))
        return -ERR_ACCESS_DENIED;
    return json_number_value(exp) > (double)now ? 0 : -ERR_EXPIRED;
}

int
jwt_prometheus_verify(struct slice token, struct slice secret, const char *access_key, int64_t now,
                      int64_t revoked_before)
{
    struct slice rest, head, body, sig;
    struct buf got = BUF_INIT;
    json_t *hdr = NULL, *claims = NULL;
    unsigned char mac[64];
    int rc = -ERR_ACCESS_DENIED;

    if (token.len == 0 || token.len > JWT_MAX_LEN)
        return rc;
    rest = slice_split(token, '.', &head);
    sig = slice_split(rest, '.', &body);
    if (!rest.ptr || !sig.ptr || memchr(sig.ptr, '.', sig.len) || b64url_decode(&got, sig) < 0 ||
        got.len != sizeof(mac))
        goto out;
    hs512(secret, slice_make(token.ptr, head.len + 1 + body.len), mac);
    if (CRYPTO_memcmp(mac, got.ptr, sizeof(mac)) != 0)
        goto out;
    hdr = part_json(head);
    claims = part_json(body);
    if (hdr && claims)
        rc = check_claims(hdr, claims, access_key, now, revoked_before);
out:
    json_decref(hdr);
    json_decref(claims);
    buf_release(&got);
    return rc;
}

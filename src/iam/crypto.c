/*
 * iam/crypto.c: the keys IAM derives from the root credentials, sealing
 * (AES-256-GCM: stored secrets, session tokens), and generated access keys,
 * secrets and ids (OpenSSL's CSPRNG, unbiased).
 */
#include "util/base.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "iam/internal.h"
#include "util/enc.h"
#include "util/err.h"

#define NONCE_LEN 12
#define TAG_LEN 16

const char iam__upper_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const char iam__base64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* HKDF-SHA256 (RFC 5869), no salt, input keying material "root_user:root_secret". */
void
iam__derive_key(const char *root_user, const char *root_secret, const char *info,
                uint8_t out[IAM_KEY_LEN])
{
    struct buf ikm = BUF_INIT;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t len = IAM_KEY_LEN;

    buf_addf(&ikm, "%s:%s", root_user, root_secret);
    BUG_ON(!pc);
    BUG_ON(EVP_PKEY_derive_init(pc) <= 0);
    BUG_ON(EVP_PKEY_CTX_set_hkdf_md(pc, EVP_sha256()) <= 0);
    BUG_ON(EVP_PKEY_CTX_set1_hkdf_key(pc, (const unsigned char *)ikm.ptr, (int)ikm.len) <= 0);
    BUG_ON(EVP_PKEY_CTX_add1_hkdf_info(pc, (const unsigned char *)info, (int)strlen(info)) <= 0);
    BUG_ON(EVP_PKEY_derive(pc, out, &len) <= 0 || len != IAM_KEY_LEN);
    EVP_PKEY_CTX_free(pc);
    buf_release_secure(&ikm);
}

void
iam__seal(const uint8_t key[IAM_KEY_LEN], struct slice aad, struct slice pt, struct buf *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    uint8_t nonce[NONCE_LEN];
    size_t start = out->len;
    int n = 0, fin = 0;

    BUG_ON(!c);
    BUG_ON(RAND_bytes(nonce, sizeof(nonce)) != 1);
    buf_add(out, nonce, sizeof(nonce));
    buf_grow(out, pt.len + TAG_LEN);
    BUG_ON(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1);
    BUG_ON(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1);
    BUG_ON(EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) != 1);
    if (aad.len)
        BUG_ON(EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad.ptr, (int)aad.len) != 1);
    BUG_ON(EVP_EncryptUpdate(c, (uint8_t *)out->ptr + out->len, &n, (const uint8_t *)pt.ptr,
                             (int)pt.len) != 1);
    BUG_ON(EVP_EncryptFinal_ex(c, (uint8_t *)out->ptr + out->len + n, &fin) != 1);
    buf_setlen(out, out->len + (size_t)n + (size_t)fin);
    BUG_ON(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out->ptr + out->len) != 1);
    buf_setlen(out, out->len + TAG_LEN);
    BUG_ON(out->len - start != NONCE_LEN + pt.len + TAG_LEN);
    EVP_CIPHER_CTX_free(c);
}

int
iam__open(const uint8_t key[IAM_KEY_LEN], struct slice aad, struct slice sealed, struct buf *out)
{
    EVP_CIPHER_CTX *c;
    const uint8_t *p = (const uint8_t *)sealed.ptr;
    size_t ctlen, start = out->len;
    uint8_t tag[TAG_LEN];
    int n = 0, fin = 0, rc = -ERR_CORRUPT;

    if (sealed.len < NONCE_LEN + TAG_LEN)
        return -ERR_CORRUPT;
    ctlen = sealed.len - NONCE_LEN - TAG_LEN;
    memcpy(tag, p + NONCE_LEN + ctlen, TAG_LEN);
    c = EVP_CIPHER_CTX_new();
    BUG_ON(!c);
    buf_grow(out, ctlen + 16);
    BUG_ON(EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1);
    BUG_ON(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1);
    BUG_ON(EVP_DecryptInit_ex(c, NULL, NULL, key, p) != 1);
    if (aad.len && EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)aad.ptr, (int)aad.len) != 1)
        goto out_free;
    if (EVP_DecryptUpdate(c, (uint8_t *)out->ptr + start, &n, p + NONCE_LEN, (int)ctlen) != 1)
        goto out_free;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
        goto out_free;
    if (EVP_DecryptFinal_ex(c, (uint8_t *)out->ptr + start + n, &fin) != 1)
        goto out_free;
    buf_setlen(out, start + (size_t)n + (size_t)fin);
    rc = 0;
out_free:
    if (rc < 0) {
        secure_zero(out->ptr + start, ctlen);
        buf_setlen(out, start);
    }
    EVP_CIPHER_CTX_free(c);
    return rc;
}

/* Rejection sampling: bytes at or above the largest multiple of the alphabet's size are redrawn. */
void
iam__random_string(char *out, size_t n, const char *alphabet)
{
    size_t k = strlen(alphabet), i = 0;
    unsigned limit = (unsigned)(256 / k * k);
    uint8_t pool[64];

    BUG_ON(k == 0 || k > 256);
    while (i < n) {
        size_t j;

        BUG_ON(RAND_bytes(pool, sizeof(pool)) != 1);
        for (j = 0; j < sizeof(pool) && i < n; j++)
            if (pool[j] < limit)
                out[i++] = alphabet[pool[j] % k];
    }
    out[n] = '\0';
    secure_zero(pool, sizeof(pool));
}

void
iam__base64url_encode(struct buf *out, const void *p, size_t n)
{
    size_t start = out->len, i;

    base64_encode(out, p, n);
    while (out->len > start && out->ptr[out->len - 1] == '=')
        buf_setlen(out, out->len - 1);
    for (i = start; i < out->len; i++)
        if (out->ptr[i] == '+')
            out->ptr[i] = '-';
        else if (out->ptr[i] == '/')
            out->ptr[i] = '_';
}

int
iam__base64url_decode(struct buf *out, struct slice s)
{
    struct buf std = BUF_INIT;
    size_t i;
    int rc;

    for (i = 0; i < s.len; i++) {
        char c = s.ptr[i];

        if (c == '+' || c == '/' || c == '=') {
            buf_release(&std);
            return -ERR_INVAL; /* the URL alphabet only, unpadded */
        }
        buf_addch(&std, c == '-' ? '+' : c == '_' ? '/' : c);
    }
    while (std.len % 4)
        buf_addch(&std, '=');
    rc = base64_decode(out, buf_slice(&std));
    buf_release(&std);
    return rc;
}

/*
 * bench/tls_cipher.c: AES-128-GCM and ChaCha20-Poly1305 sealing speed of GnuTLS (the server's
 * TLS, through libmicrohttpd) against OpenSSL (the clients' TLS, through libcurl), on 16 KiB
 * records (TLS's largest), one thread: the bulk cost of a TLS byte in each library. Not part of
 * the build (issue 16, docs/benchmarks.md):
 *
 *   cc -O2 -o /tmp/tls_cipher bench/tls_cipher.c $(pkg-config --cflags --libs gnutls libcrypto)
 *   /tmp/tls_cipher [SECONDS]
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECORD 16384

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
gnutls_rate(gnutls_cipher_algorithm_t alg, double secs)
{
    unsigned char key[32] = { 1 }, nonce[12] = { 2 }, *in = calloc(1, RECORD),
                  *out = malloc(RECORD + 16);
    gnutls_datum_t k = { key, (unsigned)gnutls_cipher_get_key_size(alg) };
    gnutls_aead_cipher_hd_t h;
    double t0 = now(), n = 0;
    size_t olen;

    if (gnutls_aead_cipher_init(&h, alg, &k) < 0)
        return 0;
    while (now() - t0 < secs) {
        olen = RECORD + 16;
        nonce[0]++;
        gnutls_aead_cipher_encrypt(h, nonce, sizeof(nonce), NULL, 0, 16, in, RECORD, out, &olen);
        n += RECORD;
    }
    gnutls_aead_cipher_deinit(h);
    free(in);
    free(out);
    return n / (now() - t0) / (1 << 20);
}

static double
openssl_rate(const EVP_CIPHER *c, double secs)
{
    unsigned char key[32] = { 1 }, iv[12] = { 2 }, *in = calloc(1, RECORD),
                  *out = malloc(RECORD + 16), tag[16];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    double t0 = now(), n = 0;
    int len;

    EVP_EncryptInit_ex(ctx, c, NULL, key, NULL);
    while (now() - t0 < secs) {
        iv[0]++;
        EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv);
        EVP_EncryptUpdate(ctx, out, &len, in, RECORD);
        EVP_EncryptFinal_ex(ctx, out + len, &len);
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag);
        n += RECORD;
    }
    EVP_CIPHER_CTX_free(ctx);
    free(in);
    free(out);
    return n / (now() - t0) / (1 << 20);
}

int
main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2;

    gnutls_global_init();
    printf("GnuTLS %s, %s\n", gnutls_check_version(NULL), OpenSSL_version(OPENSSL_VERSION));
    printf("AES-128-GCM        GnuTLS %6.0f MiB/s  OpenSSL %6.0f MiB/s\n",
           gnutls_rate(GNUTLS_CIPHER_AES_128_GCM, secs), openssl_rate(EVP_aes_128_gcm(), secs));
    printf("AES-256-GCM        GnuTLS %6.0f MiB/s  OpenSSL %6.0f MiB/s\n",
           gnutls_rate(GNUTLS_CIPHER_AES_256_GCM, secs), openssl_rate(EVP_aes_256_gcm(), secs));
    printf("ChaCha20-Poly1305  GnuTLS %6.0f MiB/s  OpenSSL %6.0f MiB/s\n",
           gnutls_rate(GNUTLS_CIPHER_CHACHA20_POLY1305, secs),
           openssl_rate(EVP_chacha20_poly1305(), secs));
    return 0;
}

/* util/enc.c: hex, base64 and URI encodings. */
#include "util/base.h"

#include "util/enc.h"

#include "util/err.h"

static const char hexdig[] = "0123456789abcdef";

void
hex_encode_to(char *dst, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; i < n; i++) {
        dst[2 * i] = hexdig[s[i] >> 4];
        dst[2 * i + 1] = hexdig[s[i] & 15];
    }
    dst[2 * n] = '\0';
}

void
hex_encode(struct buf *out, const void *p, size_t n)
{
    buf_grow(out, 2 * n);
    hex_encode_to(out->ptr + out->len, p, n);
    buf_setlen(out, out->len + 2 * n);
}

int
hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
hex_decode(struct slice s, void *dst, size_t n)
{
    unsigned char *d = dst;
    size_t i;

    if (s.len != 2 * n)
        return -ERR_INVAL;
    for (i = 0; i < n; i++) {
        int hi = hex_digit_value(s.ptr[2 * i]), lo = hex_digit_value(s.ptr[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -ERR_INVAL;
        d[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
base64_encode(struct buf *out, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        buf_addch(out, b64[s[i] >> 2]);
        buf_addch(out, b64[(s[i] & 3) << 4 | s[i + 1] >> 4]);
        buf_addch(out, b64[(s[i + 1] & 15) << 2 | s[i + 2] >> 6]);
        buf_addch(out, b64[s[i + 2] & 63]);
    }
    if (n - i == 1) {
        buf_addch(out, b64[s[i] >> 2]);
        buf_addch(out, b64[(s[i] & 3) << 4]);
        buf_adds(out, "==");
    } else if (n - i == 2) {
        buf_addch(out, b64[s[i] >> 2]);
        buf_addch(out, b64[(s[i] & 3) << 4 | s[i + 1] >> 4]);
        buf_addch(out, b64[(s[i + 1] & 15) << 2]);
        buf_addch(out, '=');
    }
}

static int
b64val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;

    return p ? (int)(p - b64) : -1;
}

int
base64_decode(struct buf *out, struct slice s)
{
    unsigned acc = 0;
    int bits = 0;
    size_t i, pad = 0;

    if (s.len % 4)
        return -ERR_INVAL;
    for (i = 0; i < s.len; i++) {
        int v;

        if (s.ptr[i] == '=') {
            if (i < s.len - 2)
                return -ERR_INVAL;
            pad++;
            continue;
        }
        if (pad)
            return -ERR_INVAL;
        v = b64val(s.ptr[i]);
        if (v < 0)
            return -ERR_INVAL;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_addch(out, (char)(acc >> bits & 0xff));
        }
    }
    return 0;
}

static bool
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

void
uri_encode(struct buf *out, struct slice s, bool keep_slash)
{
    static const char up[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];

        if (is_unreserved(c) || (keep_slash && c == '/')) {
            buf_addch(out, (char)c);
        } else {
            char e[3] = { '%', up[c >> 4], up[c & 15] };

            buf_add(out, e, 3);
        }
    }
}

int
uri_decode(struct buf *out, struct slice s)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        if (s.ptr[i] != '%') {
            buf_addch(out, s.ptr[i]);
            continue;
        }
        if (i + 2 >= s.len)
            return -ERR_INVAL;
        {
            int hi = hex_digit_value(s.ptr[i + 1]), lo = hex_digit_value(s.ptr[i + 2]);

            if (hi < 0 || lo < 0)
                return -ERR_INVAL;
            buf_addch(out, (char)(hi << 4 | lo));
            i += 2;
        }
    }
    return 0;
}

/*
 * s3/names.c: the naming rules of buckets and object keys.
 *
 * Buckets follow S3's rules for new buckets: 3 to 63 characters of
 * lowercase letters, digits, '.' and '-', starting and ending with a letter
 * or digit, not an IPv4 address, no "..", ".-" or "-.", no "xn--" prefix,
 * no "-s3alias" or "--ol-s3" suffix. The ".-" / "-." rule came later than
 * the others (issue 15): it applies to CreateBucket only, so a bucket made
 * before it stays reachable.
 *
 * Keys are 1 to 1,024 bytes of valid UTF-8 without NUL. Keys never become
 * paths on a drive (DESIGN.md), so "../", "./" and "//" are ordinary bytes
 * that must round-trip exactly; control characters are accepted (the XML
 * writer escapes them).
 */
#include "util/base.h"

#include "s3/internal.h"
#include "util/err.h"

static bool
is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* "192.168.5.4": four dot-separated runs of digits. */
static bool
looks_like_ipv4(struct slice s)
{
    size_t i, dots = 0, digits = 0;

    for (i = 0; i < s.len; i++) {
        if (s.ptr[i] == '.') {
            if (digits == 0)
                return false;
            dots++;
            digits = 0;
        } else if (s.ptr[i] >= '0' && s.ptr[i] <= '9') {
            digits++;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

static bool
ends_with(struct slice s, const char *suffix)
{
    size_t n = strlen(suffix);

    return s.len >= n && memcmp(s.ptr + s.len - n, suffix, n) == 0;
}

static int
bucket_name_check(struct slice name, bool is_new)
{
    size_t i;

    if (name.len < 3 || name.len > 63)
        return -ERR_INVALID_BUCKET_NAME;
    if (!is_lower_alnum(name.ptr[0]) || !is_lower_alnum(name.ptr[name.len - 1]))
        return -ERR_INVALID_BUCKET_NAME;
    for (i = 0; i < name.len; i++) {
        char c = name.ptr[i];

        if (!is_lower_alnum(c) && c != '.' && c != '-')
            return -ERR_INVALID_BUCKET_NAME;
        /* "..", ".-" and "-.": each dot-separated label starts and ends with a letter or digit */
        if (c == '.' && i + 1 < name.len && name.ptr[i + 1] == '.')
            return -ERR_INVALID_BUCKET_NAME;
        if (is_new && i + 1 < name.len &&
            ((c == '.' && name.ptr[i + 1] == '-') || (c == '-' && name.ptr[i + 1] == '.')))
            return -ERR_INVALID_BUCKET_NAME;
    }
    if (looks_like_ipv4(name) || slice_starts_with(name, SLICE_LIT("xn--")) ||
        slice_starts_with(name, SLICE_LIT("sthree-")) || ends_with(name, "-s3alias") ||
        ends_with(name, "--ol-s3"))
        return -ERR_INVALID_BUCKET_NAME;
    return 0;
}

int
s3_bucket_name_check(struct slice name)
{
    return bucket_name_check(name, false);
}

int
s3_bucket_name_check_new(struct slice name)
{
    return bucket_name_check(name, true);
}

/* Length of the UTF-8 sequence starting with `c`, or 0 if `c` cannot start one. */
static size_t
utf8_seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

/* Rejects overlong forms, surrogates and code points past U+10FFFF. */
static bool
utf8_second_ok(unsigned char c0, unsigned char c1)
{
    if (c0 == 0xE0)
        return c1 >= 0xA0 && c1 <= 0xBF;
    if (c0 == 0xED)
        return c1 >= 0x80 && c1 <= 0x9F;
    if (c0 == 0xF0)
        return c1 >= 0x90 && c1 <= 0xBF;
    if (c0 == 0xF4)
        return c1 >= 0x80 && c1 <= 0x8F;
    return c1 >= 0x80 && c1 <= 0xBF;
}

bool
s3_is_valid_utf8(struct slice s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t i = 0, n, j;

    while (i < s.len) {
        n = utf8_seq_len(p[i]);
        if (n == 0 || i + n > s.len)
            return false;
        if (n > 1 && !utf8_second_ok(p[i], p[i + 1]))
            return false;
        for (j = 2; j < n; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
        i += n;
    }
    return true;
}

int
s3_key_check(struct slice key)
{
    if (key.len == 0)
        return -ERR_INVALID_KEY;
    if (key.len > S3_MAX_KEY_LEN)
        return -ERR_KEY_TOO_LONG;
    if (memchr(key.ptr, '\0', key.len))
        return -ERR_INVALID_KEY;
    if (!s3_is_valid_utf8(key))
        return -ERR_INVALID_KEY;
    return 0;
}

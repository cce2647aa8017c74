/* util/slice.c: operations on borrowed byte strings. */
#include "util/base.h"

#include "util/slice.h"

#include <ctype.h>
#include <strings.h>

#include "util/err.h"

bool
slice_eq(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool
slice_eq_cstr(struct slice a, const char *s)
{
    return slice_eq(a, slice_cstr(s));
}

bool
slice_case_eq(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

bool
slice_case_eq_cstr(struct slice a, const char *s)
{
    return slice_case_eq(a, slice_cstr(s));
}

bool
slice_starts_with(struct slice s, struct slice prefix)
{
    return s.len >= prefix.len && (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

bool
slice_ends_with(struct slice s, struct slice suffix)
{
    return s.len >= suffix.len &&
           (suffix.len == 0 || memcmp(s.ptr + s.len - suffix.len, suffix.ptr, suffix.len) == 0);
}

int
slice_cmp(struct slice a, struct slice b)
{
    size_t n = MIN(a.len, b.len);
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;

    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

struct slice
slice_trim(struct slice s)
{
    while (s.len && isspace((unsigned char)s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && isspace((unsigned char)s.ptr[s.len - 1]))
        s.len--;
    return s;
}

ssize_t
slice_find(struct slice s, char c)
{
    const char *p = s.len ? memchr(s.ptr, c, s.len) : NULL;

    return p ? p - s.ptr : -1;
}

struct slice
slice_split(struct slice s, char c, struct slice *head)
{
    ssize_t i = slice_find(s, c);

    if (i < 0) {
        *head = s;
        return SLICE_NULL;
    }
    *head = slice_make(s.ptr, (size_t)i);
    return slice_make(s.ptr + i + 1, s.len - (size_t)i - 1);
}

char *
slice_dup(struct slice s)
{
    return xstrndup(s.len ? s.ptr : "", s.len);
}

int
parse_u64(struct slice s, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (s.len == 0 || s.len > 20)
        return -ERR_INVAL;
    for (i = 0; i < s.len; i++) {
        unsigned d = (unsigned char)s.ptr[i] - '0';

        if (d > 9)
            return -ERR_INVAL;
        if (v > (UINT64_MAX - d) / 10)
            return -ERR_INVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

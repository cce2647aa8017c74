/*
 * util/slice.h: a borrowed byte string, passed by value, not NUL-terminated
 * (STYLE 2.6). Everything parsed from the network is a slice into the request.
 */
#ifndef BASALT_UTIL_SLICE_H
#define BASALT_UTIL_SLICE_H

#include "util/base.h"

struct slice {
    const char *ptr;
    size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })
#define SLICE_NULL ((struct slice){ NULL, 0 })

static inline struct slice
slice_make(const void *p, size_t n)
{
    return (struct slice){ (const char *)p, n };
}

/* A slice over a NUL-terminated string; NULL gives an empty slice. */
static inline struct slice
slice_cstr(const char *s)
{
    return (struct slice){ s, s ? strlen(s) : 0 };
}

bool slice_eq(struct slice a, struct slice b);
bool slice_eq_cstr(struct slice a, const char *s);
bool slice_case_eq(struct slice a, struct slice b);
bool slice_case_eq_cstr(struct slice a, const char *s);
bool slice_starts_with(struct slice s, struct slice prefix);
bool slice_ends_with(struct slice s, struct slice suffix);
/* memcmp order, shorter first on a common prefix. */
int slice_cmp(struct slice a, struct slice b);
struct slice slice_trim(struct slice s);
/* Index of the first `c` in `s`, or -1. */
ssize_t slice_find(struct slice s, char c);
/* Splits `s` at the first `c`: `*head` before it, returns the rest after it
 * (SLICE_NULL with ptr NULL if `c` is absent; then `*head` is all of `s`). */
struct slice slice_split(struct slice s, char c, struct slice *head);
/* A malloc'd NUL-terminated copy; the caller frees it. */
char *slice_dup(struct slice s);

/*
 * Parses a decimal unsigned integer that fills all of `s` (no sign, no
 * spaces, no overflow). Returns 0 and writes `*out`, or -ERR_INVAL and leaves
 * `*out` unchanged.
 */
int parse_u64(struct slice s, uint64_t *out);

#endif

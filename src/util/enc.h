/*
 * util/enc.h: byte encodings: hex, base64, and the URI encoding of SigV4
 * and S3 listings (RFC 3986 unreserved characters kept).
 */
#ifndef BASALT_UTIL_ENC_H
#define BASALT_UTIL_ENC_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

/* Appends 2*n lowercase hex digits. */
void hex_encode(struct buf *out, const void *p, size_t n);
/* Writes 2*n lowercase hex digits and a NUL into `dst` (2*n+1 bytes). */
void hex_encode_to(char *dst, const void *p, size_t n);
/* The value of one hex digit (either case), or -1. */
int hex_digit_value(char c);
/* Decodes exactly `n` bytes from 2*n hex digits; -ERR_INVAL if malformed. */
int hex_decode(struct slice s, void *dst, size_t n);

void base64_encode(struct buf *out, const void *p, size_t n);
/* Appends the decoded bytes; -ERR_INVAL on bad input (out is then undefined). */
int base64_decode(struct buf *out, struct slice s);

/*
 * URI-encodes `s` as SigV4 does: every byte except A-Z a-z 0-9 - _ . ~ is
 * written as %XX (uppercase hex); '/' is kept when `keep_slash`.
 */
void uri_encode(struct buf *out, struct slice s, bool keep_slash);
/*
 * Percent-decodes `s` ('+' is kept as '+'). Returns -ERR_INVAL on a
 * malformed escape.
 */
int uri_decode(struct buf *out, struct slice s);

#endif

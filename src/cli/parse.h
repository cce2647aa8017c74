/*
 * cli/parse.h: the small parsers of the client commands, pure functions
 * with unit tests (tests/unit/cli/test_parse.c): durations, sizes, globs,
 * remote path splitting, safe local paths, metadata attributes, content types.
 */
#ifndef BASALT_CLI_PARSE_H
#define BASALT_CLI_PARSE_H

#include "util/base.h"

#include "util/buf.h"

/*
 * "90s", "30m", "12h", "7d", "2w", or a sum of them ("1d12h"); a bare number
 * is seconds. 0 and `*secs`, or -ERR_INVAL (also past 100 years).
 */
int parse_duration(const char *s, int64_t *secs);

/*
 * An RFC 3339 time, "2025-01-02T03:04:05Z" (fractions of a second allowed
 * and dropped, 't'/'z' too, or an offset "+01:00" / "-0530" instead of Z),
 * into unix seconds. 0 and `*t`, or -ERR_INVAL with `*t` unchanged.
 */
int parse_rfc3339(const char *s, int64_t *t);

/*
 * "512", "10K"/"10KiB"/"10KB" (all 1024-based, like mc), M, G, T. 0 and
 * `*bytes`, or -ERR_INVAL.
 */
int parse_size(const char *s, uint64_t *bytes);

/*
 * Shell glob on a whole string: '*' (any run, '/' included), '?', '[...]'
 * and '\' escapes (fnmatch(3) without FNM_PATHNAME).
 */
bool glob_match(const char *pattern, const char *s);

/*
 * Splits "BUCKET[/KEY]" (the part of a remote path after the alias) into a
 * malloc'd bucket and key (key "" when absent; a key keeps its trailing '/').
 */
void path_split_remote(const char *rest, char **bucket, char **key);

/*
 * Joins the relative path `rel` (an object key, relative to a prefix) under
 * the local folder `dir` into `out`, refusing what would escape `dir`: a
 * ".." segment, or a name with nothing left. Empty and "." segments are
 * dropped, leading '/' included ("/a//./b" -> "DIR/a/b": a key is never an
 * absolute path). 0, or -ERR_INVAL with `out` unchanged.
 */
int path_join_safe(const char *dir, const char *rel, struct buf *out);

/*
 * "k=v;k2=v2" (mc's --attr) into request header lines appended to `hdrs`
 * (a NULL-free array of malloc'd strings, `*n` entries): Content-Type,
 * Cache-Control, Content-Encoding, Content-Disposition, Content-Language and
 * Expires as themselves, anything else as x-amz-meta-<k>. -ERR_INVAL on an
 * entry without '=' or with an empty or invalid name.
 */
int parse_attrs(const char *s, char ***hdrs, size_t *n);

/* The Content-Type for a file name by its extension; application/octet-stream by default. */
const char *content_type_for(const char *name);

#endif

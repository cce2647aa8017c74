/*
 * util/clock.h: time. Wall-clock nanoseconds for object times, monotonic for
 * timeouts, and the two text forms S3 uses: RFC 1123 (HTTP dates) and the
 * ISO 8601 basic form of SigV4 (20130524T000000Z) and ListObjects
 * (2013-05-24T00:00:00.000Z).
 */
#ifndef BASALT_UTIL_CLOCK_H
#define BASALT_UTIL_CLOCK_H

#include "util/base.h"

#include <time.h>

#include "util/buf.h"
#include "util/slice.h"

int64_t clock_now_ns(void);  /* CLOCK_REALTIME */
int64_t clock_mono_ns(void); /* CLOCK_MONOTONIC */

/* "Tue, 24 Nov 2026 04:21:30 GMT" */
void clock_fmt_rfc1123(struct buf *out, time_t t);
/* "20261124T042130Z" */
void clock_fmt_amz(struct buf *out, time_t t);
/* "2026-11-24T04:21:30.123Z" from nanoseconds */
void clock_fmt_iso8601(struct buf *out, int64_t ns);

/* Parses "20261124T042130Z"; -ERR_INVAL if malformed. */
int clock_parse_amz(struct slice s, time_t *out);
/*
 * Parses an RFC 1123 date (GMT, or a numeric zone such as +0000 or -0000;
 * also RFC 850 and asctime forms); -ERR_INVAL if malformed.
 */
int clock_parse_http(struct slice s, time_t *out);

#endif

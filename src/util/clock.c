/* util/clock.c: clocks and time formats. */
#include "util/base.h"

#include "util/clock.h"

#include "util/err.h"

int64_t
clock_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
clock_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
fmt_tm(struct buf *out, time_t t, const char *fmt)
{
    struct tm tm;
    char tmp[64];
    size_t n;

    gmtime_r(&t, &tm);
    n = strftime(tmp, sizeof(tmp), fmt, &tm);
    buf_add(out, tmp, n);
}

void
clock_fmt_rfc1123(struct buf *out, time_t t)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;

    /* strftime's %a/%b depend on the locale; HTTP wants English names. */
    gmtime_r(&t, &tm);
    buf_addf(out, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
clock_fmt_amz(struct buf *out, time_t t)
{
    fmt_tm(out, t, "%Y%m%dT%H%M%SZ");
}

void
clock_fmt_iso8601(struct buf *out, int64_t ns)
{
    time_t t = (time_t)(ns / 1000000000);

    fmt_tm(out, t, "%Y-%m-%dT%H:%M:%S");
    buf_addf(out, ".%03dZ", (int)(ns / 1000000 % 1000));
}

int
clock_parse_amz(struct slice s, time_t *out)
{
    struct tm tm;
    char tmp[17];
    const char *end;

    if (s.len != 16 || s.ptr[8] != 'T' || s.ptr[15] != 'Z')
        return -ERR_INVAL;
    memcpy(tmp, s.ptr, 16);
    tmp[16] = '\0';
    memset(&tm, 0, sizeof(tm));
    end = strptime(tmp, "%Y%m%dT%H%M%SZ", &tm);
    if (!end || *end)
        return -ERR_INVAL;
    *out = timegm(&tm);
    return 0;
}

/* " +hhmm" or " -hhmm" (RFC 2822's numeric zone) at `p`, the whole rest: its offset east of UTC. */
static bool
parse_numeric_zone(const char *p, long *east)
{
    int i;

    if (p[0] != ' ' || (p[1] != '+' && p[1] != '-'))
        return false;
    for (i = 2; i < 6; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    if (p[6] != '\0' || (p[4] - '0') * 10 + (p[5] - '0') > 59)
        return false;
    *east = ((p[2] - '0') * 10 + (p[3] - '0')) * 3600L + ((p[4] - '0') * 10 + (p[5] - '0')) * 60L;
    if (p[1] == '-')
        *east = -*east;
    return true;
}

int
clock_parse_http(struct slice s, time_t *out)
{
    static const char *const fmts[] = { "%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                        "%a %b %e %H:%M:%S %Y" };
    char tmp[64];
    struct tm tm;
    const char *end;
    long east;
    size_t i;

    if (s.len == 0 || s.len >= sizeof(tmp))
        return -ERR_INVAL;
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    for (i = 0; i < ARRAY_SIZE(fmts); i++) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(tmp, fmts[i], &tm);
        if (end && *end == '\0') {
            *out = timegm(&tm);
            return 0;
        }
    }
    /*
     * A numeric zone: "+0000" in S3's SigV2 examples, "-0000" from Python's
     * email.utils.formatdate() (botocore's Date header), any other offset.
     */
    memset(&tm, 0, sizeof(tm));
    end = strptime(tmp, "%a, %d %b %Y %H:%M:%S", &tm);
    if (end && parse_numeric_zone(end, &east)) {
        *out = timegm(&tm) - east;
        return 0;
    }
    return -ERR_INVAL;
}

/* cli/parse.c: the small parsers of the client commands (see parse.h). */
#include "util/base.h"

#include "cli/parse.h"

#include <ctype.h>
#include <fnmatch.h>
#include <time.h>

#include "util/err.h"

int
parse_duration(const char *s, int64_t *secs)
{
    static const int64_t max = 36500LL * 86400;
    const char *p = s;
    int64_t total = 0;

    if (!*p)
        return -ERR_INVAL;
    while (*p) {
        uint64_t v = 0, unit;
        const char *start = p;

        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (uint64_t)(*p - '0');
            if (v > (uint64_t)max)
                return -ERR_INVAL;
            p++;
        }
        if (p == start)
            return -ERR_INVAL;
        switch (*p) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        case 'w':
            unit = 7 * 86400;
            break;
        case '\0':
            if (start != s) /* "1d5" is not a duration */
                return -ERR_INVAL;
            unit = 1;
            break;
        default:
            return -ERR_INVAL;
        }
        if (*p)
            p++;
        if (v > (uint64_t)max / unit || total + (int64_t)(v * unit) > max)
            return -ERR_INVAL;
        total += (int64_t)(v * unit);
    }
    *secs = total;
    return 0;
}

/* "Z", or "+hh:mm" / "-hhmm" (the whole rest of `p`): its offset east of UTC in seconds. */
static int
parse_zone(const char *p, long *east)
{
    int h, m, sign = *p == '-' ? -1 : 1;

    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *east = 0;
        return 0;
    }
    if ((*p != '+' && *p != '-') || !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
        return -ERR_INVAL;
    h = (p[1] - '0') * 10 + (p[2] - '0');
    p += 3 + (p[3] == ':');
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2] != '\0')
        return -ERR_INVAL;
    m = (p[0] - '0') * 10 + (p[1] - '0');
    if (h > 23 || m > 59)
        return -ERR_INVAL;
    *east = (h * 3600L + m * 60L) * sign;
    return 0;
}

int
parse_rfc3339(const char *s, int64_t *t)
{
    struct tm tm;
    const char *end;
    char tmp[64];
    long east;
    size_t i;

    if (strlen(s) >= sizeof(tmp) || strlen(s) < 20)
        return -ERR_INVAL;
    for (i = 0; s[i]; i++)
        tmp[i] = s[i] == 't' ? 'T' : s[i];
    tmp[i] = '\0';
    memset(&tm, 0, sizeof(tm));
    end = strptime(tmp, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || end - tmp != 19)
        return -ERR_INVAL;
    if (*end == '.') {
        end++;
        if (!isdigit((unsigned char)*end))
            return -ERR_INVAL;
        while (isdigit((unsigned char)*end))
            end++;
    }
    if (parse_zone(end, &east) < 0)
        return -ERR_INVAL;
    *t = (int64_t)timegm(&tm) - east;
    return 0;
}

int
parse_size(const char *s, uint64_t *bytes)
{
    static const char units[] = "KMGTP";
    const char *p = s, *u;
    uint64_t v = 0, mul = 1;

    if (!isdigit((unsigned char)*p))
        return -ERR_INVAL;
    while (isdigit((unsigned char)*p)) {
        if (v > UINT64_MAX / 10)
            return -ERR_INVAL;
        v = v * 10 + (uint64_t)(*p++ - '0');
    }
    if (*p && (u = strchr(units, toupper((unsigned char)*p)))) {
        mul = 1ull << (10 * (u - units + 1));
        p++;
        if (!strcmp(p, "iB") || !strcmp(p, "ib") || !strcmp(p, "B") || !strcmp(p, "b"))
            p += strlen(p);
    } else if (!strcmp(p, "B") || !strcmp(p, "b")) {
        p++;
    }
    if (*p || (v && mul > UINT64_MAX / v))
        return -ERR_INVAL;
    *bytes = v * mul;
    return 0;
}

bool
glob_match(const char *pattern, const char *s)
{
    return fnmatch(pattern, s, 0) == 0;
}

void
path_split_remote(const char *rest, char **bucket, char **key)
{
    const char *slash = strchr(rest, '/');

    *bucket = slash ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
    *key = xstrdup(slash ? slash + 1 : "");
}

int
path_join_safe(const char *dir, const char *rel, struct buf *out)
{
    struct buf tmp = BUF_INIT;
    const char *p = rel;
    size_t added = 0;

    buf_adds(&tmp, *dir ? dir : ".");
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (n == 2 && !memcmp(p, "..", 2)) {
            buf_release(&tmp);
            return -ERR_INVAL;
        }
        if (n && !(n == 1 && *p == '.')) {
            if (tmp.len && tmp.ptr[tmp.len - 1] != '/')
                buf_addch(&tmp, '/');
            buf_add(&tmp, p, n);
            added++;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    if (!added) {
        buf_release(&tmp);
        return -ERR_INVAL;
    }
    buf_addslice(out, buf_slice(&tmp));
    buf_release(&tmp);
    return 0;
}

static bool
is_plain_header(const char *name)
{
    static const char *const plain[] = { "content-type",     "cache-control",
                                         "content-encoding", "content-disposition",
                                         "content-language", "expires" };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(plain); i++)
        if (!strcasecmp(name, plain[i]))
            return true;
    return false;
}

static bool
is_token(const char *s, size_t n)
{
    size_t i;

    if (!n)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

int
parse_attrs(const char *s, char ***hdrs, size_t *n)
{
    const char *p = s;

    while (*p) {
        const char *end = strchr(p, ';'), *eq;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        struct buf h = BUF_INIT;
        char *name;

        eq = memchr(p, '=', len);
        if (len == 0) {
            p += end ? 1 : 0;
            continue;
        }
        if (!eq || !is_token(p, (size_t)(eq - p)))
            return -ERR_INVAL;
        name = xstrndup(p, (size_t)(eq - p));
        buf_addf(&h, "%s%s: %.*s", is_plain_header(name) ? "" : "x-amz-meta-", name,
                 (int)(len - (size_t)(eq - p) - 1), eq + 1);
        free(name);
        *hdrs = xrealloc(*hdrs, (*n + 1) * sizeof(**hdrs));
        (*hdrs)[(*n)++] = buf_detach(&h, NULL);
        p += len + (end ? 1 : 0);
    }
    return 0;
}

const char *
content_type_for(const char *name)
{
    static const char *const types[][2] = {
        { "txt", "text/plain" },        { "log", "text/plain" },
        { "html", "text/html" },        { "htm", "text/html" },
        { "css", "text/css" },          { "csv", "text/csv" },
        { "md", "text/markdown" },      { "js", "text/javascript" },
        { "json", "application/json" }, { "xml", "application/xml" },
        { "pdf", "application/pdf" },   { "zip", "application/zip" },
        { "gz", "application/gzip" },   { "tgz", "application/gzip" },
        { "tar", "application/x-tar" }, { "zst", "application/zstd" },
        { "wasm", "application/wasm" }, { "png", "image/png" },
        { "jpg", "image/jpeg" },        { "jpeg", "image/jpeg" },
        { "gif", "image/gif" },         { "svg", "image/svg+xml" },
        { "webp", "image/webp" },       { "ico", "image/x-icon" },
        { "mp4", "video/mp4" },         { "webm", "video/webm" },
        { "mp3", "audio/mpeg" },        { "ogg", "audio/ogg" },
        { "wav", "audio/wav" },         { "woff2", "font/woff2" },
    };
    const char *base = strrchr(name, '/'), *dot;
    size_t i;

    base = base ? base + 1 : name;
    dot = strrchr(base, '.');
    if (!dot || dot == base)
        return "application/octet-stream";
    for (i = 0; i < ARRAY_SIZE(types); i++)
        if (!strcasecmp(dot + 1, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

/*
 * s3/post_form.c: the streaming multipart/form-data parser (see
 * post_form.h). A state machine over bytes; the part data is scanned for
 * the delimiter "\r\n--boundary" with memchr for its first byte. Since a
 * boundary can hold no CR, the delimiter's first byte appears in it only
 * once, so after a mismatch the scan can restart at the current byte without
 * losing an overlapping match (no KMP table needed).
 *
 * The stream is read as if preceded by "\r\n", so that a first delimiter at
 * the very start of the body ("--boundary", RFC 2046) is found like any other.
 */
#include "util/base.h"

#include "s3/post_form.h"

#include "util/err.h"

enum form_state {
    ST_PREAMBLE,    /* before the first delimiter: ignored */
    ST_AFTER_DELIM, /* after a delimiter: "--", or padding then CRLF */
    ST_DASH,        /* one '-' read after a delimiter */
    ST_CR,          /* CR read after a delimiter */
    ST_HEADERS,     /* a part's header block, up to the empty line */
    ST_BODY,        /* a part's data */
    ST_DONE,        /* the closing delimiter was found; the epilogue is ignored */
};

struct post_form {
    post_form_fn *cb;
    void *arg;
    enum form_state st;
    int rc;         /* sticky error */
    size_t matched; /* bytes of `delim` matched so far and held back */
    size_t dlen;
    char delim[4 + POST_FORM_MAX_BOUNDARY + 1]; /* "\r\n--" + boundary */
    size_t hlen;
    char hdr[POST_FORM_MAX_HEADER];
};

static bool
is_lws(char c)
{
    return c == ' ' || c == '\t';
}

/* The value of parameter `name` in "type; a=b; c=\"d\"", as a slice of `s`; false if absent. */
static bool
param_value(struct slice s, const char *name, struct slice *out)
{
    struct slice rest = s, one, key, val;
    ssize_t eq;

    rest = slice_split(rest, ';', &one); /* skip the type */
    while (rest.ptr) {
        rest = slice_split(rest, ';', &one);
        eq = slice_find(one, '=');
        if (eq < 0)
            continue;
        key = slice_trim(slice_make(one.ptr, (size_t)eq));
        val = slice_trim(slice_make(one.ptr + eq + 1, one.len - (size_t)eq - 1));
        if (!slice_case_eq_cstr(key, name))
            continue;
        if (val.len >= 2 && val.ptr[0] == '"' && val.ptr[val.len - 1] == '"')
            val = slice_make(val.ptr + 1, val.len - 2);
        *out = val;
        return true;
    }
    return false;
}

int
post_form_boundary(struct slice content_type, struct slice *boundary)
{
    struct slice type, b;
    size_t i;

    slice_split(content_type, ';', &type);
    if (!slice_case_eq_cstr(slice_trim(type), "multipart/form-data"))
        return -ERR_MALFORMED_POST;
    if (!param_value(content_type, "boundary", &b) || b.len == 0 || b.len > POST_FORM_MAX_BOUNDARY)
        return -ERR_MALFORMED_POST;
    for (i = 0; i < b.len; i++)
        if (b.ptr[i] == '\r' || b.ptr[i] == '\n' || b.ptr[i] == '"')
            return -ERR_MALFORMED_POST;
    *boundary = b;
    return 0;
}

struct post_form *
post_form_new(struct slice boundary, post_form_fn *cb, void *arg)
{
    struct post_form *f = xcalloc(1, sizeof(*f));

    BUG_ON(boundary.len == 0 || boundary.len > POST_FORM_MAX_BOUNDARY);
    f->cb = cb;
    f->arg = arg;
    memcpy(f->delim, "\r\n--", 4);
    memcpy(f->delim + 4, boundary.ptr, boundary.len);
    f->dlen = 4 + boundary.len;
    f->st = ST_PREAMBLE;
    f->matched = 2; /* as if the body began with CRLF */
    return f;
}

void
post_form_free(struct post_form *f)
{
    free(f);
}

bool
post_form_is_done(const struct post_form *f)
{
    return f->st == ST_DONE;
}

static int
emit_data(struct post_form *f, const char *p, size_t n)
{
    if (n == 0 || f->st != ST_BODY)
        return 0;
    return f->cb(f->arg, POST_FORM_DATA, NULL, slice_make(p, n));
}

/*
 * Scans `p` for the delimiter, handing the bytes before it over as data
 * (in ST_BODY). Returns the bytes consumed (up to and including a
 * delimiter, then `*found` is set) or the callback's error.
 */
static ssize_t
scan(struct post_form *f, const char *p, size_t n, bool *found)
{
    size_t i = 0, run = 0, end;
    ssize_t ms = f->matched ? -1 : 0; /* start of the match in p; -1: began in an earlier piece */
    const char *cr;
    int rc;

    *found = false;
    while (i < n) {
        if (f->matched == 0) {
            cr = memchr(p + i, '\r', n - i);
            if (!cr) {
                i = n;
                break;
            }
            i = (size_t)(cr - p);
            ms = (ssize_t)i;
            f->matched = 1;
            i++;
            continue;
        }
        if (p[i] == f->delim[f->matched]) {
            i++;
            if (++f->matched < f->dlen)
                continue;
            f->matched = 0;
            *found = true;
            rc = emit_data(f, p + run, ms >= 0 ? (size_t)ms - run : 0);
            return rc < 0 ? rc : (ssize_t)i;
        }
        /* Mismatch: the held bytes were data after all; p[i] is looked at again. */
        if (ms < 0) {
            rc = emit_data(f, f->delim, f->matched);
            if (rc < 0)
                return rc;
            run = i;
        }
        f->matched = 0;
    }
    end = f->matched == 0 ? n : ms >= 0 ? (size_t)ms : run;
    rc = emit_data(f, p + run, end - run);
    return rc < 0 ? rc : (ssize_t)n;
}

/* Unquotes a quoted-string in place ("a\"b" -> a"b); returns the new slice. */
static struct slice
unquote(struct slice v)
{
    char *w = (char *)v.ptr;
    size_t r;

    for (r = 0; r < v.len; r++) {
        if (v.ptr[r] == '\\' && r + 1 < v.len)
            r++;
        *w++ = v.ptr[r];
    }
    return slice_make(v.ptr, (size_t)(w - v.ptr));
}

/*
 * Parameter `name` of a Content-Disposition value; a quoted value may hold
 * ';' and escaped quotes. Returns false if absent.
 */
static bool
disposition_param(struct slice v, const char *name, struct slice *out)
{
    size_t i = 0, ks, ke, vs;
    bool quoted;

    while (i < v.len && v.ptr[i] != ';')
        i++;
    while (i < v.len) {
        i++; /* the ';' */
        while (i < v.len && is_lws(v.ptr[i]))
            i++;
        ks = i;
        while (i < v.len && v.ptr[i] != '=' && v.ptr[i] != ';')
            i++;
        ke = i;
        while (ke > ks && is_lws(v.ptr[ke - 1]))
            ke--;
        if (i >= v.len || v.ptr[i] == ';')
            continue;
        i++; /* the '=' */
        while (i < v.len && is_lws(v.ptr[i]))
            i++;
        quoted = i < v.len && v.ptr[i] == '"';
        vs = quoted ? ++i : i;
        if (quoted) {
            while (i < v.len && v.ptr[i] != '"')
                i += v.ptr[i] == '\\' ? 2 : 1;
            if (i >= v.len)
                return false; /* unterminated */
        } else {
            while (i < v.len && v.ptr[i] != ';' && !is_lws(v.ptr[i]))
                i++;
        }
        if (slice_case_eq_cstr(slice_make(v.ptr + ks, ke - ks), name)) {
            *out =
                quoted ? unquote(slice_make(v.ptr + vs, i - vs)) : slice_make(v.ptr + vs, i - vs);
            return true;
        }
        if (quoted)
            i++;
        while (i < v.len && v.ptr[i] != ';')
            i++;
    }
    return false;
}

/* Parses the header block in f->hdr (ending with the empty line) and starts the part. */
static int
begin_part(struct post_form *f)
{
    struct post_form_part part = { SLICE_NULL, SLICE_NULL, SLICE_NULL };
    struct slice rest = slice_make(f->hdr, f->hlen - 2), line, name, value;
    struct slice type;
    bool has_disposition = false;
    ssize_t colon;

    while (rest.len > 0) {
        ssize_t nl = slice_find(rest, '\n');

        if (nl < 1 || rest.ptr[nl - 1] != '\r')
            return -ERR_MALFORMED_POST;
        line = slice_make(rest.ptr, (size_t)nl - 1);
        rest = slice_make(rest.ptr + nl + 1, rest.len - (size_t)nl - 1);
        colon = slice_find(line, ':');
        if (colon <= 0)
            return -ERR_MALFORMED_POST;
        name = slice_make(line.ptr, (size_t)colon);
        value = slice_trim(slice_make(line.ptr + colon + 1, line.len - (size_t)colon - 1));
        if (slice_case_eq_cstr(name, "content-type")) {
            part.content_type = value;
        } else if (slice_case_eq_cstr(name, "content-disposition") && !has_disposition) {
            has_disposition = true;
            slice_split(value, ';', &type);
            if (!slice_case_eq_cstr(slice_trim(type), "form-data"))
                return -ERR_MALFORMED_POST;
            if (!disposition_param(value, "name", &part.name) || part.name.len == 0)
                return -ERR_MALFORMED_POST;
            if (!disposition_param(value, "filename", &part.filename))
                part.filename = SLICE_NULL;
        }
    }
    if (!has_disposition)
        return -ERR_MALFORMED_POST;
    f->st = ST_BODY;
    return f->cb(f->arg, POST_FORM_PART_BEGIN, &part, SLICE_NULL);
}

/* Appends header bytes up to the empty line; returns the bytes consumed or an error. */
static ssize_t
feed_headers(struct post_form *f, const char *p, size_t n)
{
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        if (f->hlen == sizeof(f->hdr))
            return -ERR_MALFORMED_POST;
        f->hdr[f->hlen++] = p[i];
        if (p[i] != '\n')
            continue;
        if (f->hlen == 2 && f->hdr[0] == '\r')
            return -ERR_MALFORMED_POST; /* a part without headers has no name */
        if (f->hlen >= 4 && !memcmp(f->hdr + f->hlen - 4, "\r\n\r\n", 4)) {
            rc = begin_part(f);
            return rc < 0 ? rc : (ssize_t)(i + 1);
        }
    }
    return (ssize_t)n;
}

/* One byte after a delimiter. */
static int
after_delim(struct post_form *f, char c)
{
    switch (f->st) {
    case ST_AFTER_DELIM:
        if (c == '-')
            f->st = ST_DASH;
        else if (c == '\r')
            f->st = ST_CR;
        else if (!is_lws(c))
            return -ERR_MALFORMED_POST;
        return 0;
    case ST_DASH:
        if (c != '-')
            return -ERR_MALFORMED_POST;
        f->st = ST_DONE;
        return f->cb(f->arg, POST_FORM_END, NULL, SLICE_NULL);
    case ST_CR:
        if (c != '\n')
            return -ERR_MALFORMED_POST;
        f->st = ST_HEADERS;
        f->hlen = 0;
        return 0;
    default:
        BUG_ON(1);
        return -ERR_INTERNAL;
    }
}

/* Consumes some of `p` in the current state; returns the bytes consumed or an error. */
static ssize_t
step(struct post_form *f, const char *p, size_t n)
{
    enum form_state was = f->st;
    bool found;
    ssize_t used;
    int rc;

    switch (f->st) {
    case ST_PREAMBLE:
    case ST_BODY:
        used = scan(f, p, n, &found);
        if (used < 0 || !found)
            return used;
        f->st = ST_AFTER_DELIM;
        if (was == ST_BODY) {
            rc = f->cb(f->arg, POST_FORM_PART_END, NULL, SLICE_NULL);
            if (rc < 0)
                return rc;
        }
        return used;
    case ST_HEADERS:
        return feed_headers(f, p, n);
    case ST_DONE:
        return (ssize_t)n;
    default:
        rc = after_delim(f, p[0]);
        return rc < 0 ? rc : 1;
    }
}

int
post_form_feed(struct post_form *f, const void *data, size_t n)
{
    const char *p = data;
    ssize_t used;

    while (f->rc == 0 && n > 0) {
        used = step(f, p, n);
        if (used < 0) {
            f->rc = (int)used;
            break;
        }
        p += used;
        n -= (size_t)used;
    }
    return f->rc;
}

int
post_form_finish(struct post_form *f)
{
    if (f->rc < 0)
        return f->rc;
    return f->st == ST_DONE ? 0 : -ERR_MALFORMED_POST;
}

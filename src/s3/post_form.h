/*
 * s3/post_form.h: a streaming multipart/form-data parser (RFC 7578, RFC
 * 2046 section 5.1) for browser POST uploads (post.c).
 *
 * The body is fed in pieces of any size, split at any byte (a boundary may
 * straddle two pieces); the parser calls back with events and never holds
 * more than one part's header block (POST_FORM_MAX_HEADER bytes) plus a few
 * bytes of state, whatever the size of the parts. Part data is handed over
 * as slices into the piece being fed, except for the bytes it held back as a
 * possible start of the delimiter, which come from the delimiter itself.
 *
 *   POST_FORM_PART_BEGIN  headers of a part parsed: `part` is set
 *   POST_FORM_DATA        `data`: bytes of the current part (maybe empty)
 *   POST_FORM_PART_END    the part's delimiter was found
 *   POST_FORM_END         the closing delimiter ("--boundary--") was found;
 *                         what follows (the epilogue) is ignored
 *
 * Errors are sticky: after one, every feed returns it again.
 * Not thread-safe: one parser per request.
 */
#ifndef BASALT_S3_POST_FORM_H
#define BASALT_S3_POST_FORM_H

#include "util/base.h"

#include "util/slice.h"

#define POST_FORM_MAX_BOUNDARY 70       /* RFC 2046 */
#define POST_FORM_MAX_HEADER (8 * 1024) /* header block of one part */

enum post_form_event {
    POST_FORM_PART_BEGIN,
    POST_FORM_DATA,
    POST_FORM_PART_END,
    POST_FORM_END,
};

/* A part's headers; slices borrowed for the duration of the callback only. */
struct post_form_part {
    struct slice name;         /* Content-Disposition name, unquoted */
    struct slice filename;     /* ptr NULL when the part has no filename parameter */
    struct slice content_type; /* ptr NULL when absent */
};

/*
 * `part` is set for PART_BEGIN only, `data` for DATA only. Returns 0 to go
 * on, or a negative error that stops the parser (returned by the feed).
 */
typedef int post_form_fn(void *arg, enum post_form_event ev, const struct post_form_part *part,
                         struct slice data);

struct post_form;

/*
 * Extracts the boundary of a "multipart/form-data; boundary=..." Content-Type
 * (the parameter may be quoted). Returns 0 and sets `*boundary` (a slice of
 * `content_type`), or -ERR_MALFORMED_POST (another type, no boundary, a
 * boundary longer than 70 bytes or with a CR, LF or quote in it).
 */
int post_form_boundary(struct slice content_type, struct slice *boundary);

/* A parser for `boundary` (copied; 1 to 70 bytes) calling `cb(arg, ...)`. */
struct post_form *post_form_new(struct slice boundary, post_form_fn *cb, void *arg);
void post_form_free(struct post_form *f);

/*
 * Feeds `n` bytes. Returns 0, -ERR_MALFORMED_POST (a part header block too
 * large or unparsable, a part without a form-data name, garbage after a
 * delimiter), or the callback's error.
 */
int post_form_feed(struct post_form *f, const void *p, size_t n);

/*
 * Called at the end of the body: 0 if the closing delimiter was found, the
 * sticky error if there was one, else -ERR_MALFORMED_POST (truncated form).
 */
int post_form_finish(struct post_form *f);

/* True once the closing delimiter was found. */
bool post_form_is_done(const struct post_form *f);

#endif

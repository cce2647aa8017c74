/*
 * s3/xml.h: XML for the S3 API. A writer into a struct buf that escapes as
 * S3 does (& < > " ' as entities, control characters as &#xN;), and a
 * bounded reader for request bodies over expat that hands each element's
 * text to a callback. Document type declarations are refused (no entity
 * expansion attacks).
 */
#ifndef BASALT_S3_XML_H
#define BASALT_S3_XML_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

/* Appends `s` escaped for XML text or attribute values. */
void xml_escape(struct buf *out, struct slice s);

/* '<?xml version="1.0" encoding="UTF-8"?>' and a newline. */
void xml_declaration(struct buf *out);
/* <tag xmlns="http://s3.amazonaws.com/doc/2006-03-01/"> */
void xml_open_ns(struct buf *out, const char *tag);
void xml_open(struct buf *out, const char *tag);
void xml_close(struct buf *out, const char *tag);
/* <tag>escaped text</tag> */
void xml_elem(struct buf *out, const char *tag, struct slice text);
void xml_elem_str(struct buf *out, const char *tag, const char *text);
void xml_elem_u64(struct buf *out, const char *tag, uint64_t v);
void xml_elem_bool(struct buf *out, const char *tag, bool v);

/*
 * Called for each element when it closes: `depth` 1 for the root, `name`
 * without namespace prefix, `text` its character data (trimmed of
 * surrounding whitespace). Return 0 to go on, < 0 to stop with that error.
 */
typedef int xml_elem_fn(void *arg, unsigned depth, const char *name, struct slice text);

/*
 * Parses `body` (a complete document). The root element must be `root`.
 * Returns 0, the callback's error, or -ERR_MALFORMED_XML (not well formed,
 * wrong root, a DTD, too deep).
 */
int xml_read(struct slice body, const char *root, xml_elem_fn *fn, void *arg);

/*
 * CreateBucketConfiguration: writes the LocationConstraint text (empty if
 * absent) into `location`. An empty body is allowed (empty location).
 * Returns 0 or -ERR_MALFORMED_XML.
 */
int s3_parse_create_bucket(struct slice body, struct buf *location);

#endif

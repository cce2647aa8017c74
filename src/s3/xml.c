/*
 * s3/xml.c: the XML writer and the expat-based reader of request bodies.
 *
 * Escaping follows S3: the five XML entities, and every control character
 * (below 0x20, including tab, CR and LF, which XML parsers would otherwise
 * normalize) as a numeric reference, so a key round-trips exactly.
 */
#include "util/base.h"

#include "s3/xml.h"

#include <expat.h>

#include "s3/internal.h"
#include "util/err.h"

#define XML_MAX_DEPTH 16

void
xml_escape(struct buf *out, struct slice s)
{
    size_t i, start = 0;
    unsigned char c;

    if (s.len == 0)
        return; /* s.ptr may be NULL: no pointer arithmetic on it */
    for (i = 0; i < s.len; i++) {
        const char *ent = NULL;

        c = (unsigned char)s.ptr[i];
        switch (c) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&apos;";
            break;
        default:
            if (c >= 0x20)
                continue;
        }
        buf_add(out, s.ptr + start, i - start);
        if (ent)
            buf_adds(out, ent);
        else
            buf_addf(out, "&#x%X;", c);
        start = i + 1;
    }
    buf_add(out, s.ptr + start, s.len - start);
}

void
xml_declaration(struct buf *out)
{
    buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

void
xml_open_ns(struct buf *out, const char *tag)
{
    buf_addf(out, "<%s xmlns=\"%s\">", tag, S3_XMLNS);
}

void
xml_open(struct buf *out, const char *tag)
{
    buf_addf(out, "<%s>", tag);
}

void
xml_close(struct buf *out, const char *tag)
{
    buf_addf(out, "</%s>", tag);
}

void
xml_elem(struct buf *out, const char *tag, struct slice text)
{
    buf_addf(out, "<%s>", tag);
    xml_escape(out, text);
    buf_addf(out, "</%s>", tag);
}

void
xml_elem_str(struct buf *out, const char *tag, const char *text)
{
    xml_elem(out, tag, slice_cstr(text));
}

void
xml_elem_u64(struct buf *out, const char *tag, uint64_t v)
{
    buf_addf(out, "<%s>%llu</%s>", tag, (unsigned long long)v, tag);
}

void
xml_elem_bool(struct buf *out, const char *tag, bool v)
{
    buf_addf(out, "<%s>%s</%s>", tag, v ? "true" : "false", tag);
}

/* ---- reader ---- */

struct xml_reader {
    XML_Parser parser;
    const char *root;
    xml_elem_fn *fn;
    void *arg;
    unsigned depth;
    struct buf text[XML_MAX_DEPTH + 1]; /* character data per open element */
    int rc;
};

static void
reader_fail(struct xml_reader *r, int rc)
{
    if (r->rc == 0)
        r->rc = rc;
    XML_StopParser(r->parser, XML_FALSE);
}

/* "ns:Name" -> "Name" */
static const char *
local_name(const char *name)
{
    const char *colon = strrchr(name, ':');

    return colon ? colon + 1 : name;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_reader *r = ud;

    if (r->rc)
        return;
    if (r->depth == XML_MAX_DEPTH) {
        reader_fail(r, -ERR_MALFORMED_XML);
        return;
    }
    if (r->depth == 0 && strcmp(local_name(name), r->root) != 0) {
        reader_fail(r, -ERR_MALFORMED_XML);
        return;
    }
    r->depth++;
    buf_clear(&r->text[r->depth]);
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
    struct xml_reader *r = ud;
    int rc;

    if (r->rc)
        return;
    rc = r->fn(r->arg, r->depth, local_name(name), slice_trim(buf_slice(&r->text[r->depth])));
    if (rc < 0)
        reader_fail(r, rc);
    r->depth--;
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
    struct xml_reader *r = ud;

    if (r->rc || r->depth == 0)
        return;
    if (r->text[r->depth].len + (size_t)len > S3_MAX_XML_BODY) {
        reader_fail(r, -ERR_MALFORMED_XML);
        return;
    }
    buf_add(&r->text[r->depth], s, (size_t)len);
}

static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
           int has_internal_subset)
{
    reader_fail(ud, -ERR_MALFORMED_XML);
}

int
xml_read(struct slice body, const char *root, xml_elem_fn *fn, void *arg)
{
    struct xml_reader r = { .root = root, .fn = fn, .arg = arg };
    size_t i;
    int rc;

    if (body.len > INT32_MAX)
        return -ERR_MALFORMED_XML;
    for (i = 0; i < ARRAY_SIZE(r.text); i++)
        buf_init(&r.text[i], 0);
    r.parser = XML_ParserCreate("UTF-8");
    BUG_ON(!r.parser);
    XML_SetUserData(r.parser, &r);
    XML_SetElementHandler(r.parser, on_start, on_end);
    XML_SetCharacterDataHandler(r.parser, on_text);
    XML_SetStartDoctypeDeclHandler(r.parser, on_doctype);
    if (XML_Parse(r.parser, body.ptr ? body.ptr : "", (int)body.len, XML_TRUE) ==
            XML_STATUS_ERROR &&
        r.rc == 0)
        r.rc = -ERR_MALFORMED_XML;
    rc = r.rc;
    XML_ParserFree(r.parser);
    for (i = 0; i < ARRAY_SIZE(r.text); i++)
        buf_release(&r.text[i]);
    return rc;
}

static int
on_create_bucket_elem(void *arg, unsigned depth, const char *name, struct slice text)
{
    struct buf *location = arg;

    if (depth == 2 && strcmp(name, "LocationConstraint") == 0) {
        buf_clear(location);
        buf_addslice(location, text);
    }
    return 0;
}

int
s3_parse_create_bucket(struct slice body, struct buf *location)
{
    size_t i;

    buf_clear(location);
    for (i = 0; i < body.len; i++)
        if (!strchr(" \t\r\n", body.ptr[i]))
            break;
    if (i == body.len) /* an empty body: no configuration */
        return 0;
    return xml_read(body, "CreateBucketConfiguration", on_create_bucket_elem, location);
}

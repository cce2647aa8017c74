/*
 * fuzz/xml_body.c: XML request bodies: the CreateBucketConfiguration reader
 * and the generic expat-based reader it is built on (s3/xml.c), then the
 * writer's escaping of whatever text came out.
 */
#include "util/base.h"

#include "s3/xml.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
on_elem(void *arg, unsigned depth, const char *name, struct slice text)
{
    struct buf *out = arg;

    BUG_ON(depth == 0);
    xml_elem(out, "T", text);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf loc = BUF_INIT, out = BUF_INIT;
    struct slice body = slice_make(data, size);
    int rc;

    rc = s3_parse_create_bucket(body, &loc);
    BUG_ON(rc != 0 && rc != -ERR_MALFORMED_XML);
    if (rc == 0)
        xml_escape(&out, buf_slice(&loc));
    rc = xml_read(body, "CreateBucketConfiguration", on_elem, &out);
    BUG_ON(rc != 0 && rc != -ERR_MALFORMED_XML);
    BUG_ON(memchr(out.ptr, '<', out.len) && !strstr(out.ptr, "<T>"));
    buf_release(&loc);
    buf_release(&out);
    return 0;
}

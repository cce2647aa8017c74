/*
 * fuzz/http_head.c: the strict request-head parser (http_head_parse) and
 * the framing rules after it, as Basalt's own front applies them. Input:
 * the bytes of a request as received. Checks what a proxy in front relies
 * on: a head is accepted only if it is exactly RFC 9112's (CRLF line ends,
 * no obs-fold, no NUL, CR or LF in a value, token names directly followed
 * by ':'); every prefix of an accepted head is "need more", never a
 * refusal; the fields found are the ones counted; and the chunk-size
 * parser on the first line after the head.
 */
#include "util/base.h"

#include "http/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT 2048
#define MAX_HEADERS 256

static void
check_field(const struct http_header *h)
{
    size_t i;

    BUG_ON(!h->name.len);
    for (i = 0; i < h->name.len; i++)
        BUG_ON(!http__is_tchar((unsigned char)h->name.ptr[i]));
    for (i = 0; i < h->value.len; i++)
        BUG_ON(h->value.ptr[i] == '\0' || h->value.ptr[i] == '\r' || h->value.ptr[i] == '\n');
    /* leading whitespace dropped; trailing whitespace kept, as libmicrohttpd keeps it */
    BUG_ON(h->value.len && (h->value.ptr[0] == ' ' || h->value.ptr[0] == '\t'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct http_header h[MAX_HEADERS];
    const char *p = (const char *)data, *why = NULL;
    struct http_head head, again;
    struct http_framing fr;
    ssize_t n, m;
    size_t i;
    uint64_t v;

    n = http_head_parse(p, size, LIMIT, h, MAX_HEADERS, &head, &why);
    if (n < 0) {
        BUG_ON(n != -400 && n != -414 && n != -431 && n != -505);
        BUG_ON(!why || !*why);
        return 0;
    }
    if (n == 0) {
        BUG_ON(size >= LIMIT);
        return 0;
    }
    BUG_ON((size_t)n > size || (size_t)n > LIMIT);
    BUG_ON(n < 4 || memcmp(p + n - 4, "\r\n\r\n", 4) != 0);
    for (i = 0; i < (size_t)n; i++)
        BUG_ON(p[i] == '\0' || (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')));
    BUG_ON(!head.method.len || !head.target.len);
    for (i = 0; i < head.nheaders; i++)
        check_field(&h[i]);
    /* the same answer counting only, and "more" for a prefix */
    m = http_head_parse(p, size, LIMIT, NULL, 0, &again, &why);
    BUG_ON(m != n || again.nheaders != head.nheaders);
    BUG_ON(http_head_parse(p, (size_t)n - 1, LIMIT, NULL, 0, &again, &why) != 0);
    (void)http_framing_check(h, head.nheaders, head.http10, &fr, &why);
    /* the line after the head, as a chunk-size line */
    for (i = (size_t)n; i < size && p[i] != '\r'; i++)
        ;
    if (http_chunk_size(slice_make(p + n, i - (size_t)n), &v))
        BUG_ON(v >= (1ull << 60));
    return 0;
}

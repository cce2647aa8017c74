/*
 * fuzz/http_framing.c: request framing (http_framing_check). Input: a first
 * byte of flags (bit 0: HTTP/1.0), then header lines "Name: value"
 * separated by '\n' (any bytes, NUL and CR included). Checks what a proxy
 * in front relies on: an accepted request has exactly one way to end (a
 * single plain Content-Length, or a Transfer-Encoding of exactly "chunked",
 * the one value libmicrohttpd decodes as chunks) and refusals say why.
 */
#include "util/base.h"

#include "http/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_header h[MAX_HEADERS];
    struct slice rest, line, value;
    struct http_framing fr;
    const char *why = NULL;
    size_t n = 0, i, ncl = 0, nte = 0;
    unsigned st;
    bool http10;

    if (size < 1)
        return 0;
    http10 = data[0] & 1;
    rest = slice_make(data + 1, size - 1);
    while (rest.ptr && rest.len && n < MAX_HEADERS) {
        rest = slice_split(rest, '\n', &line);
        value = slice_split(line, ':', &h[n].name);
        h[n].value = value.ptr ? value : SLICE_NULL;
        n++;
    }
    st = http_framing_check(h, n, http10, &fr, &why);
    if (st) {
        BUG_ON(st != 400 && st != 501);
        BUG_ON(!why || !*why);
        return 0;
    }
    for (i = 0; i < n; i++) {
        ncl += slice_case_eq_cstr(h[i].name, "content-length");
        if (slice_case_eq_cstr(h[i].name, "transfer-encoding")) {
            nte++;
            /* chunked only as libmicrohttpd decodes it: the exact value */
            BUG_ON(!slice_case_eq_cstr(h[i].value, "chunked"));
        }
    }
    BUG_ON(ncl > 1 || nte > 1 || (ncl && nte));
    BUG_ON(fr.chunked != (nte == 1));
    BUG_ON(fr.chunked && fr.content_length != -1);
    BUG_ON(ncl == 1 && fr.content_length < 0);
    BUG_ON(ncl == 0 && fr.content_length != -1);
    return 0;
}

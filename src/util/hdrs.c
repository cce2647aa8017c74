/*
 * util/hdrs.c: stored header pairs (see hdrs.h).
 */
#include "util/base.h"

#include "util/hdrs.h"

void
hdrs_add(struct buf *h, const char *name, struct slice value)
{
    buf_add(h, name, strlen(name) + 1);
    buf_addslice(h, value);
    buf_addch(h, '\0');
}

void
hdrs_remove(struct buf *h, const char *name)
{
    size_t pos = 0, start;
    const char *n, *v;

    for (;;) {
        start = pos;
        if (!hdrs_next(h, &pos, &n, &v))
            return;
        if (strcmp(n, name) != 0)
            continue;
        memmove(h->ptr + start, h->ptr + pos, h->len - pos);
        buf_setlen(h, h->len - (pos - start));
        pos = start;
    }
}

void
hdrs_set(struct buf *h, const char *name, const char *value)
{
    hdrs_remove(h, name);
    if (value)
        hdrs_add(h, name, slice_cstr(value));
}

bool
hdrs_next(const struct buf *h, size_t *pos, const char **name, const char **value)
{
    size_t p = *pos;
    const char *n, *v;

    if (p >= h->len)
        return false;
    n = h->ptr + p;
    p += strlen(n) + 1;
    if (p >= h->len)
        return false; /* a name without a value: never produced, never decoded */
    v = h->ptr + p;
    p += strlen(v) + 1;
    *name = n;
    *value = v;
    *pos = p;
    return true;
}

const char *
hdrs_get(const struct buf *h, const char *name)
{
    size_t pos = 0;
    const char *n, *v;

    while (hdrs_next(h, &pos, &n, &v))
        if (strcmp(n, name) == 0)
            return v;
    return NULL;
}

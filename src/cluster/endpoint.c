/*
 * cluster/endpoint.c: ellipsis expansion of endpoint arguments (see
 * endpoint.h for the syntax). One pass finds the `{A...B}` ranges and checks
 * the braces; a second generates the cartesian product, leftmost range
 * fastest. Fuzzed by fuzz/endpoint_expand.c.
 */
#include "util/base.h"

#include "cluster/endpoint.h"

#include "util/err.h"
#include "util/slice.h"

#define MAX_RANGES 32 /* ellipses in one argument */

/* One `{A...B}` of an argument. */
struct range {
    size_t start; /* offset of '{' */
    size_t end;   /* offset after '}' */
    uint64_t lo;
    uint64_t hi;
    int width; /* zero padding, 0 for none */
};

struct pattern {
    struct range r[MAX_RANGES];
    size_t n;
    size_t count; /* endpoints it expands to */
};

static void
list_push(struct endpoint_list *l, char *s)
{
    if (l->n == l->_alloc) {
        l->_alloc = l->_alloc ? 2 * l->_alloc : 16;
        l->items = xrealloc(l->items, l->_alloc * sizeof(*l->items));
    }
    l->items[l->n++] = s;
}

void
endpoint_list_release(struct endpoint_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* Moves every item of `from` to the end of `to`; `from` is left empty. */
static void
list_move(struct endpoint_list *to, struct endpoint_list *from)
{
    size_t i;

    for (i = 0; i < from->n; i++)
        list_push(to, from->items[i]);
    from->n = 0;
    endpoint_list_release(from);
}

static int
fail(struct buf *errmsg, const char *arg, const char *what)
{
    if (errmsg)
        buf_addf(errmsg, "endpoint '%s': %s", arg, what);
    return -ERR_INVAL;
}

static bool
is_digits(struct slice s)
{
    size_t i;

    for (i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return s.len > 0;
}

/* Parses "A...B" into `r`; `in` is the text between the braces. */
static int
parse_range(struct slice in, struct range *r, const char *arg, struct buf *errmsg)
{
    const char *dots = memmem(in.ptr, in.len, "...", 3);
    struct slice a = slice_make(in.ptr, (size_t)(dots - in.ptr));
    struct slice b = slice_make(dots + 3, in.len - a.len - 3);

    if (!is_digits(a) || !is_digits(b) || a.len > 9 || b.len > 9)
        return fail(errmsg, arg,
                    "the bounds of {A...B} must be decimal numbers "
                    "of at most 9 digits");
    if (parse_u64(a, &r->lo) < 0 || parse_u64(b, &r->hi) < 0)
        return fail(errmsg, arg, "the bounds of {A...B} must be decimal numbers");
    if (r->lo > r->hi)
        return fail(errmsg, arg, "the range {A...B} must be ascending (A <= B)");
    r->width = a.len > 1 && a.ptr[0] == '0' ? (int)a.len : 0;
    return 0;
}

/* Records the ellipsis of the brace group [start, end) of `arg`, if it is one. */
static int
add_group(struct pattern *p, const char *arg, size_t start, size_t end, struct buf *errmsg)
{
    struct slice in = slice_make(arg + start + 1, end - start - 2);
    struct range *r = &p->r[p->n];
    uint64_t size;
    int rc;

    if (!memmem(in.ptr, in.len, "...", 3))
        return 0; /* "{1..4}": literal */
    if (p->n == MAX_RANGES)
        return fail(errmsg, arg, "too many ellipses (at most 32)");
    rc = parse_range(in, r, arg, errmsg);
    if (rc < 0)
        return rc;
    r->start = start;
    r->end = end;
    size = r->hi - r->lo + 1;
    if (size > ENDPOINT_MAX_EXPANSION || p->count * size > ENDPOINT_MAX_EXPANSION)
        return fail(errmsg, arg, "expands to more than 1024 endpoints");
    p->count *= size;
    p->n++;
    return 0;
}

/* Finds the brace groups of `arg`; every '{' must close before the next brace. */
static int
parse_pattern(const char *arg, struct pattern *p, struct buf *errmsg)
{
    size_t i, len = strlen(arg);
    int rc;

    p->n = 0;
    p->count = 1;
    for (i = 0; i < len; i++) {
        size_t j;

        if (arg[i] == '}')
            return fail(errmsg, arg, "'}' without '{'");
        if (arg[i] != '{')
            continue;
        for (j = i + 1; j < len && arg[j] != '{' && arg[j] != '}'; j++)
            ;
        if (j == len)
            return fail(errmsg, arg, "'{' without '}'");
        if (arg[j] == '{')
            return fail(errmsg, arg, "nested '{'");
        rc = add_group(p, arg, i, j + 1, errmsg);
        if (rc < 0)
            return rc;
        i = j;
    }
    return 0;
}

/* The endpoint number `idx` of the product, leftmost range fastest. */
static char *
generate(const char *arg, const struct pattern *p, size_t idx)
{
    struct buf b = BUF_INIT;
    size_t k, pos = 0;

    for (k = 0; k < p->n; k++) {
        const struct range *r = &p->r[k];
        uint64_t size = r->hi - r->lo + 1;

        buf_add(&b, arg + pos, r->start - pos);
        buf_addf(&b, "%0*llu", r->width, (unsigned long long)(r->lo + idx % size));
        idx /= size;
        pos = r->end;
    }
    buf_adds(&b, arg + pos);
    return buf_detach(&b, NULL);
}

int
endpoint_expand(const char *arg, struct endpoint_list *out, struct buf *errmsg)
{
    struct pattern p;
    size_t i;
    int rc;

    if (!arg || !*arg)
        return fail(errmsg, "", "empty endpoint");
    rc = parse_pattern(arg, &p, errmsg);
    if (rc < 0)
        return rc;
    for (i = 0; i < p.count; i++)
        list_push(out, generate(arg, &p, i));
    return 0;
}

static int
strptr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* -ERR_INVAL naming the first endpoint of `l` given twice. */
static int
check_duplicates(const struct endpoint_list *l, struct buf *errmsg)
{
    char **sorted = xmemdup(l->items, (l->n ? l->n : 1) * sizeof(*sorted));
    int rc = 0;
    size_t i;

    qsort(sorted, l->n, sizeof(*sorted), strptr_cmp);
    for (i = 1; i < l->n && rc == 0; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            if (errmsg)
                buf_addf(errmsg, "endpoint '%s' is given more than once", sorted[i]);
            rc = -ERR_INVAL;
        }
    }
    free(sorted);
    return rc;
}

int
endpoint_expand_all(int argc, char *const *argv, struct endpoint_list *out, struct buf *errmsg)
{
    struct endpoint_list tmp = ENDPOINT_LIST_INIT;
    int i, rc = 0;

    for (i = 0; i < argc && rc == 0; i++)
        rc = endpoint_expand(argv[i], &tmp, errmsg);
    if (rc == 0)
        rc = check_duplicates(&tmp, errmsg);
    if (rc == 0)
        list_move(out, &tmp);
    endpoint_list_release(&tmp);
    return rc;
}

bool
endpoint_has_ellipsis(const char *arg)
{
    struct pattern p;

    return parse_pattern(arg, &p, NULL) == 0 && p.n > 0;
}

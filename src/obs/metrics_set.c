/*
 * obs/metrics_set.c: the parsed expositions of metrics_set.h.
 *
 * A sample keeps its labels as (name, escaped value) pairs and its value as
 * written; a family is a growing array of samples. Lookups are linear: a
 * scrape has tens of families, and only translation rules that drop labels
 * search a family's samples (for the sample to add to).
 */
#include "util/base.h"

#include "obs/metrics_set.h"

#include <math.h>

struct ms_label {
    char *name;
    char *value; /* escaped, as in the text format */
};

struct ms_sample {
    char *suffix; /* "", "_bucket", "_sum", "_count" */
    struct ms_label *labels;
    size_t nlabels;
    char *value;
};

struct ms_family {
    char *name, *type, *help;
    struct ms_sample *samples;
    size_t n, cap;
};

struct metrics_set {
    struct ms_family *fams;
    size_t n, cap;
    struct buf comments;
};

struct metrics_set *
metrics_set_new(void)
{
    struct metrics_set *s = xcalloc(1, sizeof(*s));

    buf_init(&s->comments, 0);
    return s;
}

static void
sample_release(struct ms_sample *x)
{
    size_t i;

    for (i = 0; i < x->nlabels; i++) {
        free(x->labels[i].name);
        free(x->labels[i].value);
    }
    free(x->labels);
    free(x->suffix);
    free(x->value);
}

void
metrics_set_free(struct metrics_set *s)
{
    size_t i, j;

    if (!s)
        return;
    for (i = 0; i < s->n; i++) {
        for (j = 0; j < s->fams[i].n; j++)
            sample_release(&s->fams[i].samples[j]);
        free(s->fams[i].samples);
        free(s->fams[i].name);
        free(s->fams[i].type);
        free(s->fams[i].help);
    }
    free(s->fams);
    buf_release(&s->comments);
    free(s);
}

static struct ms_family *
family_find(const struct metrics_set *s, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strlen(s->fams[i].name) == len && !memcmp(s->fams[i].name, name, len))
            return &s->fams[i];
    return NULL;
}

static struct ms_family *
family_get(struct metrics_set *s, const char *name, size_t len, const char *type)
{
    struct ms_family *f = family_find(s, name, len);

    if (f)
        return f;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->fams = xrealloc(s->fams, s->cap * sizeof(*s->fams));
    }
    f = &s->fams[s->n++];
    *f = (struct ms_family){ .name = slice_dup(slice_make(name, len)),
                             .type = xstrdup(type),
                             .help = xstrdup("") };
    return f;
}

static struct ms_sample *
family_add(struct ms_family *f)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 8;
        f->samples = xrealloc(f->samples, f->cap * sizeof(*f->samples));
    }
    f->samples[f->n] = (struct ms_sample){ 0 };
    return &f->samples[f->n++];
}

static void
sample_label(struct ms_sample *x, const char *name, size_t nlen, const char *value, size_t vlen)
{
    x->labels = xrealloc(x->labels, (x->nlabels + 1) * sizeof(*x->labels));
    x->labels[x->nlabels].name = slice_dup(slice_make(name, nlen));
    x->labels[x->nlabels].value = slice_dup(slice_make(value, vlen));
    x->nlabels++;
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* "\\" and "\n" of a HELP text undone. */
static char *
unescape_help(struct slice v)
{
    char *out = xmalloc(v.len + 1);
    size_t i, n = 0;

    for (i = 0; i < v.len; i++) {
        if (v.ptr[i] == '\\' && i + 1 < v.len) {
            i++;
            out[n++] = v.ptr[i] == 'n' ? '\n' : v.ptr[i];
        } else {
            out[n++] = v.ptr[i];
        }
    }
    out[n] = '\0';
    return out;
}

/* "# HELP name text" / "# TYPE name type": the family, made current. */
static struct ms_family *
parse_meta(struct metrics_set *s, struct slice line)
{
    bool help = slice_starts_with(line, SLICE_LIT("# HELP ")),
         type = slice_starts_with(line, SLICE_LIT("# TYPE "));
    struct slice rest, name;
    struct ms_family *f;
    ssize_t sp;

    if (!help && !type)
        return NULL; /* a comment */
    rest = slice_make(line.ptr + 7, line.len - 7);
    sp = slice_find(rest, ' ');
    name = sp < 0 ? rest : slice_make(rest.ptr, (size_t)sp);
    rest = sp < 0 ? slice_make("", 0) : slice_make(rest.ptr + sp + 1, rest.len - (size_t)sp - 1);
    if (!name.len)
        return NULL;
    f = family_get(s, name.ptr, name.len, "untyped");
    if (help && !f->help[0]) {
        free(f->help);
        f->help = unescape_help(rest);
    } else if (type) {
        free(f->type);
        f->type = slice_dup(slice_trim(rest));
    }
    return f;
}

/* The suffix of sample `name` in family `f`, or NULL if not one of its samples. */
static const char *
suffix_of(const struct ms_family *f, struct slice name)
{
    static const char *const hist[] = { "_bucket", "_sum", "_count" };
    size_t len = strlen(f->name), i;

    if (name.len < len || memcmp(name.ptr, f->name, len))
        return NULL;
    if (name.len == len)
        return "";
    if (strcmp(f->type, "histogram") && strcmp(f->type, "summary"))
        return NULL;
    for (i = 0; i < ARRAY_SIZE(hist); i++)
        if (slice_eq_cstr(slice_make(name.ptr + len, name.len - len), hist[i]))
            return hist[i];
    return NULL;
}

/* Whether the value token parses as a float ("1", "-0.5", "+Inf", "NaN"). */
static bool
is_number(const char *p, size_t len)
{
    char tmp[64], *end;

    if (len >= sizeof(tmp))
        return false;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    strtod(tmp, &end);
    return *end == '\0';
}

/* One sample line; false if it does not parse (nothing added). */
static bool
parse_sample(struct metrics_set *s, struct ms_family **cur, struct slice line, const char *label,
             const char *value)
{
    struct ms_sample x = { 0 };
    struct slice name;
    const char *suffix;
    size_t i = 0, start;

    while (i < line.len && line.ptr[i] != '{' && !is_space(line.ptr[i]))
        i++;
    name = slice_make(line.ptr, i);
    if (!name.len)
        return false;
    if (label)
        sample_label(&x, label, strlen(label), "", 0);
    if (i < line.len && line.ptr[i] == '{') {
        i++;
        for (;;) {
            size_t ns, ne, vs;

            while (i < line.len && (is_space(line.ptr[i]) || line.ptr[i] == ','))
                i++;
            if (i < line.len && line.ptr[i] == '}') {
                i++;
                break;
            }
            ns = i;
            while (i < line.len && line.ptr[i] != '=' && !is_space(line.ptr[i]))
                i++;
            ne = i;
            while (i < line.len && is_space(line.ptr[i]))
                i++;
            if (ns == ne || i + 1 >= line.len || line.ptr[i] != '=' || line.ptr[i + 1] != '"')
                goto fail;
            i += 2;
            vs = i;
            while (i < line.len && line.ptr[i] != '"')
                i += line.ptr[i] == '\\' ? 2 : 1;
            if (i >= line.len)
                goto fail;
            if (label && ne - ns == strlen(label) && !memcmp(line.ptr + ns, label, ne - ns)) {
                i++;
                continue; /* ours replaces it */
            }
            sample_label(&x, line.ptr + ns, ne - ns, line.ptr + vs, i - vs);
            i++;
        }
    }
    while (i < line.len && is_space(line.ptr[i]))
        i++;
    start = i;
    while (i < line.len && !is_space(line.ptr[i]))
        i++;
    if (start == i || !is_number(line.ptr + start, i - start))
        goto fail;
    if (label) {
        struct buf v = BUF_INIT;

        metrics_escape_label(&v, value);
        free(x.labels[0].value);
        x.labels[0].value = buf_detach(&v, NULL);
    }
    suffix = *cur ? suffix_of(*cur, name) : NULL;
    if (!suffix) {
        *cur = family_get(s, name.ptr, name.len, "untyped");
        suffix = "";
    }
    x.suffix = xstrdup(suffix);
    x.value = slice_dup(slice_make(line.ptr + start, i - start));
    *family_add(*cur) = x;
    return true;
fail:
    sample_release(&x);
    return false;
}

size_t
metrics_set_add_text(struct metrics_set *s, struct slice text, const char *label, const char *value)
{
    struct ms_family *cur = NULL;
    size_t bad = 0;

    while (text.len) {
        struct slice line;

        text = slice_split(text, '\n', &line);
        line = slice_trim(line);
        if (!line.len)
            continue;
        if (line.ptr[0] == '#') {
            struct ms_family *f = parse_meta(s, line);

            if (f)
                cur = f;
            continue;
        }
        bad += !parse_sample(s, &cur, line, label, value);
    }
    return bad;
}

/* A double as the text format writes it: shortest of %.15g and %.17g that reads back. */
static char *
format_value(double v)
{
    char tmp[40];

    if (isnan(v))
        return xstrdup("NaN");
    if (isinf(v))
        return xstrdup(v > 0 ? "+Inf" : "-Inf");
    snprintf(tmp, sizeof(tmp), "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof(tmp), "%.17g", v);
    return xstrdup(tmp);
}

void
metrics_set_add(struct metrics_set *s, const char *type, const char *name, const char *help,
                const char *label, const char *label_value, double v)
{
    struct ms_family *f = family_get(s, name, strlen(name), type);
    struct ms_sample *x;

    if (!f->help[0] && help) {
        free(f->help);
        f->help = xstrdup(help);
    }
    x = family_add(f);
    x->suffix = xstrdup("");
    x->value = format_value(v);
    if (label) {
        struct buf e = BUF_INIT;

        metrics_escape_label(&e, label_value);
        sample_label(x, label, strlen(label), e.ptr ? e.ptr : "", e.len);
        buf_release(&e);
    }
}

void
metrics_set_comment(struct metrics_set *s, const char *text)
{
    buf_adds(&s->comments, "# ");
    for (; *text; text++)
        buf_addch(&s->comments, *text == '\n' ? ' ' : *text);
    buf_addch(&s->comments, '\n');
}

static const char *
label_get(const struct ms_sample *x, const char *name)
{
    size_t i;

    for (i = 0; i < x->nlabels; i++)
        if (!strcmp(x->labels[i].name, name))
            return x->labels[i].value;
    return NULL;
}

double
metrics_set_sum(const struct metrics_set *s, const char *name, const char *label, const char *value)
{
    const struct ms_family *f = family_find(s, name, strlen(name));
    double sum = 0;
    size_t i;

    for (i = 0; f && i < f->n; i++) {
        const char *v = label ? label_get(&f->samples[i], label) : NULL;

        if (f->samples[i].suffix[0] || (label && (!v || strcmp(v, value))))
            continue;
        sum += strtod(f->samples[i].value, NULL);
    }
    return sum;
}

bool
metrics_set_has(const struct metrics_set *s, const char *name)
{
    const struct ms_family *f = family_find(s, name, strlen(name));

    return f && f->n;
}

/* Whether `name` is in the comma-separated `list`. */
static bool
in_list(const char *list, const char *name, char sep)
{
    size_t len = strlen(name);

    while (list && *list) {
        const char *end = strchr(list, sep);
        size_t n = end ? (size_t)(end - list) : strlen(list);

        if (n == len && !memcmp(list, name, n))
            return true;
        list = end ? end + 1 : NULL;
    }
    return false;
}

static bool
rule_matches(const struct metrics_rule *r, const struct ms_sample *x)
{
    const char *eq, *v;
    char name[64];

    if (r->suffix && strcmp(x->suffix, r->suffix))
        return false;
    if (!r->match)
        return true;
    eq = strchr(r->match, '=');
    BUG_ON(!eq || (size_t)(eq - r->match) >= sizeof(name));
    memcpy(name, r->match, (size_t)(eq - r->match));
    name[eq - r->match] = '\0';
    v = label_get(x, name);
    return v && in_list(eq + 1, v, '|');
}

static bool
same_labels(const struct ms_sample *a, const struct ms_sample *b)
{
    size_t i;

    if (a->nlabels != b->nlabels || strcmp(a->suffix, b->suffix))
        return false;
    for (i = 0; i < a->nlabels; i++)
        if (strcmp(a->labels[i].name, b->labels[i].name) ||
            strcmp(a->labels[i].value, b->labels[i].value))
            return false;
    return true;
}

/* FNV-1a of a sample's suffix and labels: equal samples (same_labels) hash equal. */
static uint64_t
sample_hash(const struct ms_sample *x)
{
    uint64_t h = 14695981039346656037ULL;
    const char *p;
    size_t i;

    for (p = x->suffix; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (i = 0; i < x->nlabels; i++) {
        h = (h ^ 1) * 1099511628211ULL;
        for (p = x->labels[i].name; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 2) * 1099511628211ULL;
        for (p = x->labels[i].value; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    }
    return h;
}

/*
 * The index of the sample of `f` equal to `y` (open addressing over `tab`,
 * `mask` + 1 slots of index + 1, 0 empty), or f->n after recording that `y`
 * will be appended there. Keeps a summing rule linear in the samples: a
 * bucket scrape sums thousands of them.
 */
static size_t
sample_slot(const struct ms_family *f, size_t *tab, size_t mask, const struct ms_sample *y)
{
    size_t h = (size_t)sample_hash(y) & mask;

    while (tab[h]) {
        if (same_labels(&f->samples[tab[h] - 1], y))
            return tab[h] - 1;
        h = (h + 1) & mask;
    }
    tab[h] = f->n + 1;
    return f->n;
}

static void
translate_one(const struct ms_family *src, const struct metrics_rule *r, struct metrics_set *dst)
{
    struct ms_family *f = family_get(dst, r->to, strlen(r->to), r->type ? r->type : src->type);
    size_t i, j, k, mask = 15, *tab = NULL;

    if (!f->help[0]) {
        free(f->help);
        f->help = xstrdup(r->help ? r->help : src->help);
    }
    if (r->keep) { /* a table of f's samples (those already there, and those added) */
        while (mask + 1 < 2 * (f->n + src->n))
            mask = 2 * mask + 1;
        tab = xcalloc(mask + 1, sizeof(*tab));
        for (k = 0; k < f->n; k++) {
            size_t h = (size_t)sample_hash(&f->samples[k]) & mask;

            while (tab[h])
                h = (h + 1) & mask;
            tab[h] = k + 1;
        }
    }
    for (i = 0; i < src->n; i++) {
        const struct ms_sample *x = &src->samples[i];
        struct ms_sample y = { 0 };

        if (!rule_matches(r, x))
            continue;
        y.suffix = xstrdup(r->suffix ? "" : x->suffix);
        for (j = 0; j < x->nlabels; j++)
            if (!r->keep || !strcmp(x->labels[j].name, "le") ||
                in_list(r->keep, x->labels[j].name, ','))
                sample_label(&y, x->labels[j].name, strlen(x->labels[j].name), x->labels[j].value,
                             strlen(x->labels[j].value));
        k = tab ? sample_slot(f, tab, mask, &y) : f->n;
        if (k < f->n && y.nlabels < x->nlabels) { /* labels dropped: add to the equal sample */
            double v = strtod(f->samples[k].value, NULL) + strtod(x->value, NULL);

            free(f->samples[k].value);
            f->samples[k].value = format_value(v);
            sample_release(&y);
            continue;
        }
        y.value = xstrdup(x->value);
        *family_add(f) = y;
    }
    free(tab);
}

void
metrics_set_translate(const struct metrics_set *src, const struct metrics_rule *rules, size_t n,
                      struct metrics_set *dst)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct ms_family *f = family_find(src, rules[i].from, strlen(rules[i].from));

        if (f && f->n)
            translate_one(f, &rules[i], dst);
    }
}

void
metrics_set_write(const struct metrics_set *s, struct buf *out, enum metrics_format fmt)
{
    size_t i, j, k;

    if (fmt == METRICS_FORMAT_TEXT)
        buf_addslice(out, buf_slice(&s->comments));
    for (i = 0; i < s->n; i++) {
        const struct ms_family *f = &s->fams[i];

        if (!f->n)
            continue;
        metrics__write_meta(out, f->name, f->type, f->help, fmt);
        for (j = 0; j < f->n; j++) {
            const struct ms_sample *x = &f->samples[j];

            buf_addf(out, "%s%s", f->name, x->suffix);
            for (k = 0; k < x->nlabels; k++)
                buf_addf(out, "%s%s=\"%s\"", k ? "," : "{", x->labels[k].name, x->labels[k].value);
            buf_addf(out, "%s %s\n", x->nlabels ? "}" : "", x->value);
        }
    }
    if (fmt == METRICS_FORMAT_OPENMETRICS)
        buf_adds(out, "# EOF\n");
}

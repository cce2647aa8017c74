/*
 * obs/metrics_set.h: expositions parsed back into families, to merge
 * several nodes' metrics into one answer and to translate names and
 * labels (the MinIO-compatible series of docs/metrics.md).
 *
 * A set holds families in the order they were first seen, each with its
 * samples in the order added. metrics_set_add_text() parses the Prometheus
 * text format 0.0.4 that metrics_expose() writes (another node's answer),
 * adding a label to every sample (server="HOST:PORT"); families of the same
 * name from several texts merge, so a family's lines stay together as the
 * format requires. metrics_set_translate() derives new families from a
 * set by a table of rules: rename, keep some labels (samples that then
 * coincide are summed), keep samples whose label has given values. Values
 * are kept as the text they were written in, and summed as doubles.
 *
 * Not thread-safe: one set per scrape.
 */
#ifndef BASALT_OBS_METRICS_SET_H
#define BASALT_OBS_METRICS_SET_H

#include "util/base.h"

#include "obs/metrics.h"
#include "util/buf.h"
#include "util/slice.h"

struct metrics_set;

/* One family derived by metrics_set_translate(). */
struct metrics_rule {
    const char *to;   /* the new family's name */
    const char *from; /* the source family */
    const char *type; /* "counter", "gauge", "histogram", "untyped"; NULL: the source's */
    const char *help; /* NULL: the source's */
    /*
     * Comma-separated label names kept ("server,api"), in the source's order
     * ("le" always kept); samples left with the same labels are summed. NULL:
     * every label kept.
     */
    const char *keep;
    /* "label=v1|v2": only samples whose label has one of these values; NULL: all */
    const char *match;
    /* only the source samples of this suffix ("_bucket"), written without it; NULL: all */
    const char *suffix;
};

struct metrics_set *metrics_set_new(void);
void metrics_set_free(struct metrics_set *s);

/*
 * Parses `text` (format 0.0.4) into `s`, with `label`="`value`" (NULL: none)
 * first in every sample, replacing one of that name. Lines that do not
 * parse are skipped; returns how many were.
 */
size_t metrics_set_add_text(struct metrics_set *s, struct slice text, const char *label,
                            const char *value);
/* Adds one sample to family `name` (made with `type` and `help` if new), with an optional label. */
void metrics_set_add(struct metrics_set *s, const char *type, const char *name, const char *help,
                     const char *label, const char *label_value, double v);
/* A comment line written first in the text format (OpenMetrics has none). */
void metrics_set_comment(struct metrics_set *s, const char *text);
/*
 * The sum of family `name`'s samples without suffix whose `label` is
 * `value` (label NULL: all); 0 if there is no such family.
 */
double metrics_set_sum(const struct metrics_set *s, const char *name, const char *label,
                       const char *value);
/* Whether family `name` has samples. */
bool metrics_set_has(const struct metrics_set *s, const char *name);
/* Adds to `dst` the families `rules` derive from `src` (a rule whose source is absent: none). */
void metrics_set_translate(const struct metrics_set *src, const struct metrics_rule *rules,
                           size_t n, struct metrics_set *dst);
/* Writes every family with samples, in format `fmt` (`# EOF` last in OpenMetrics). */
void metrics_set_write(const struct metrics_set *s, struct buf *out, enum metrics_format fmt);

#endif

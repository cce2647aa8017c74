/*
 * util/hdrs.h: stored header pairs, "name\0value\0name\0value\0" in a struct
 * buf (names lowercase). The one encoding of an object's stored headers, used
 * by the drive's record (storage/objmeta.h) and the object layer's view of a
 * version (object/objinfo.h).
 */
#ifndef BASALT_UTIL_HDRS_H
#define BASALT_UTIL_HDRS_H

#include "util/base.h"

#include "util/buf.h"
#include "util/slice.h"

/* Appends a pair (name lowercased by the caller). */
void hdrs_add(struct buf *h, const char *name, struct slice value);
/* Removes every pair named `name` (no-op when absent). */
void hdrs_remove(struct buf *h, const char *name);
/* Replaces every pair named `name` by one with `value`, or removes them (value NULL). */
void hdrs_set(struct buf *h, const char *name, const char *value);
/*
 * Iterates pairs: start with `*pos = 0`; returns false at the end (or at a
 * name without a value). `*name` and `*value` are borrowed from `h`.
 */
bool hdrs_next(const struct buf *h, size_t *pos, const char **name, const char **value);
/* The value of pair `name`, borrowed from `h`, or NULL if absent. */
const char *hdrs_get(const struct buf *h, const char *name);

#endif

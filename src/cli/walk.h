/*
 * cli/walk.h: the entries under a remote prefix or a local folder, as
 * relative names sorted in byte order, for the commands that work on trees
 * (cp -r, mirror, rm -r, find, du, tree). The whole list is in memory
 * (about 100 bytes per entry).
 */
#ifndef BASALT_CLI_WALK_H
#define BASALT_CLI_WALK_H

#include "util/base.h"

#include <time.h>

#include "client/client.h"
#include "util/buf.h"

struct walk_entry {
    char *rel; /* name below the root: "a/b.txt" */
    uint64_t size;
    time_t mtime;
    char etag[80]; /* remote entries only */
};

struct walk {
    struct walk_entry *v;
    size_t n, cap;
};

/*
 * Every object under `prefix` of `bucket`; rel is the key with `strip`
 * leading bytes removed (the caller's prefix up to its last '/', say).
 */
int walk_remote(struct walk *w, struct client *c, const char *bucket, const char *prefix,
                size_t strip, struct buf *errmsg);

/*
 * Every regular file under folder `root` (symbolic links followed for files,
 * not for folders); rel is the path below `root`, prefixed with `base`
 * ("" or "dir/").
 */
int walk_local(struct walk *w, const char *root, const char *base, struct buf *errmsg);

/* The entry named `rel`, or NULL (binary search: the list is sorted). */
const struct walk_entry *walk_find(const struct walk *w, const char *rel);

void walk_release(struct walk *w);

#endif

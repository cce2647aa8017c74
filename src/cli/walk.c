/* cli/walk.c: listing a remote prefix or a local folder into sorted relative names (walk.h). */
#include "util/base.h"

#include "cli/walk.h"

#include <dirent.h>
#include <sys/stat.h>

#include "client/s3ops.h"
#include "util/err.h"

static struct walk_entry *
walk_push(struct walk *w, char *rel)
{
    struct walk_entry *e;

    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
    }
    e = &w->v[w->n++];
    memset(e, 0, sizeof(*e));
    e->rel = rel;
    return e;
}

struct remote_arg {
    struct walk *w;
    size_t strip;
};

static int
remote_cb(void *arg, const struct s3ops_entry *e)
{
    struct remote_arg *ra = arg;
    struct walk_entry *we;

    if (e->is_prefix || strlen(e->key) <= ra->strip)
        return 0;
    we = walk_push(ra->w, xstrdup(e->key + ra->strip));
    we->size = e->size;
    we->mtime = e->mtime;
    snprintf(we->etag, sizeof(we->etag), "%s", e->etag);
    return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct walk_entry *)a)->rel, ((const struct walk_entry *)b)->rel);
}

int
walk_remote(struct walk *w, struct client *c, const char *bucket, const char *prefix, size_t strip,
            struct buf *errmsg)
{
    struct remote_arg ra = { w, strip };
    int rc = s3ops_list(c, bucket, prefix, true, remote_cb, &ra, errmsg);

    if (w->n > 1)
        qsort(w->v, w->n, sizeof(*w->v), entry_cmp);
    return rc;
}

static int
local_dir(struct walk *w, const char *dir, const char *rel, struct buf *errmsg)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    if (!d) {
        buf_addf(errmsg, "cannot open folder %s: %s", dir, strerror(errno));
        return -ERR_IO;
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        struct buf path = BUF_INIT, r = BUF_INIT;
        struct stat st, lst;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        buf_addf(&path, "%s/%s", dir, de->d_name);
        buf_addf(&r, "%s%s", rel, de->d_name);
        if (lstat(path.ptr, &lst) == 0 && stat(path.ptr, &st) == 0) {
            if (S_ISDIR(st.st_mode) && !S_ISLNK(lst.st_mode)) {
                buf_addch(&r, '/');
                rc = local_dir(w, path.ptr, r.ptr, errmsg);
            } else if (S_ISREG(st.st_mode)) {
                struct walk_entry *e = walk_push(w, buf_detach(&r, NULL));

                e->size = (uint64_t)st.st_size;
                e->mtime = st.st_mtime;
            }
        }
        buf_release(&path);
        buf_release(&r);
    }
    closedir(d);
    return rc;
}

int
walk_local(struct walk *w, const char *root, const char *base, struct buf *errmsg)
{
    int rc = local_dir(w, root, base, errmsg);

    if (w->n > 1)
        qsort(w->v, w->n, sizeof(*w->v), entry_cmp);
    return rc;
}

const struct walk_entry *
walk_find(const struct walk *w, const char *rel)
{
    struct walk_entry key = { .rel = (char *)(uintptr_t)rel };

    if (!w->n)
        return NULL;
    return bsearch(&key, w->v, w->n, sizeof(*w->v), entry_cmp);
}

void
walk_release(struct walk *w)
{
    size_t i;

    for (i = 0; i < w->n; i++)
        free(w->v[i].rel);
    free(w->v);
    memset(w, 0, sizeof(*w));
}

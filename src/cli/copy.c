/* cli/copy.c: one copy between two ends, local or remote (see copy.h). */
#include "util/base.h"

#include "cli/copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/parse.h"
#include "client/s3ops.h"
#include "util/err.h"

int
copy_mkdirs(const char *path, struct buf *errmsg)
{
    char *p = xstrdup(path), *s;
    int rc = 0;

    for (s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            buf_addf(errmsg, "cannot create folder %s: %s", p, strerror(errno));
            rc = -ERR_IO;
            break;
        }
        *s = '/';
    }
    free(p);
    return rc;
}

/* The request headers of an upload: attributes, then defaults they do not override. */
static void
upload_headers(const struct copy_opts *o, const char *name, time_t mtime, struct buf *meta,
               const char *ctype, struct strlist *out, char ***owned, size_t *nowned)
{
    bool has_ctype = false;
    size_t i;

    for (i = 0; i < o->nattrs; i++) {
        out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
        out->v[out->n++] = o->attrs[i];
        has_ctype |= !strncasecmp(o->attrs[i], "content-type:", 13);
    }
    if (!has_ctype) {
        struct buf h = BUF_INIT;

        buf_addf(&h, "Content-Type: %s", ctype ? ctype : content_type_for(name));
        *owned = xrealloc(*owned, (*nowned + 1) * sizeof(**owned));
        (*owned)[(*nowned)++] = buf_detach(&h, NULL);
        out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
        out->v[out->n++] = (*owned)[*nowned - 1];
    }
    if (mtime >= 0) {
        struct buf h = BUF_INIT;

        buf_addf(&h, "x-amz-meta-mtime: %lld", (long long)mtime);
        *owned = xrealloc(*owned, (*nowned + 1) * sizeof(**owned));
        (*owned)[(*nowned)++] = buf_detach(&h, NULL);
        out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
        out->v[out->n++] = (*owned)[*nowned - 1];
    }
    if (meta) { /* metadata carried from a source object, minus mtime (set above) */
        struct slice rest = buf_slice(meta), line;

        while (rest.len) {
            rest = slice_split(rest, '\n', &line);
            if (line.len && !slice_starts_with(line, SLICE_LIT("x-amz-meta-mtime:"))) {
                *owned = xrealloc(*owned, (*nowned + 1) * sizeof(**owned));
                (*owned)[(*nowned)++] = slice_dup(line);
                out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
                out->v[out->n++] = (*owned)[*nowned - 1];
            }
            if (!rest.ptr)
                break;
        }
    }
}

static void
free_owned(char **owned, size_t n, struct strlist *l)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(owned[i]);
    free(owned);
    free(l->v);
}

/* Uploads `size` bytes of `fd` to dst. */
static int
upload(const struct cli *cli, int fd, uint64_t size, const char *name, time_t mtime,
       struct buf *meta, const char *ctype, const struct copy_end *dst, const struct copy_opts *o,
       struct buf *errmsg)
{
    struct strlist hdrs = { 0 };
    char **owned = NULL;
    size_t nowned = 0;
    struct progress pg;
    int rc;

    upload_headers(o, name, mtime, meta, ctype, &hdrs, &owned, &nowned);
    progress_start(&pg, cli, dst->key, size);
    rc = s3ops_upload_fd(dst->c, dst->bucket, dst->key, fd, size, o->part_size, o->threads, hdrs.v,
                         hdrs.n, progress_add, &pg, errmsg);
    progress_end(&pg);
    free_owned(owned, nowned, &hdrs);
    return rc;
}

struct fd_sink {
    int fd;
    int err;
};

static bool
fd_write(void *arg, const void *p, size_t n)
{
    struct fd_sink *s = arg;
    const char *c = p;

    while (n) {
        ssize_t w = write(s->fd, c, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->err = w < 0 ? errno : EIO;
            return false;
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* A temporary file next to `path` (".NAME.basalt-XXXXXX"); its name in `tmp`. */
static int
open_tmp_near(const char *path, struct buf *tmp, struct buf *errmsg)
{
    const char *slash = strrchr(path, '/');
    int fd;

    if (slash)
        buf_addf(tmp, "%.*s/.%s.basalt-XXXXXX", (int)(slash - path), path, slash + 1);
    else
        buf_addf(tmp, ".%s.basalt-XXXXXX", path);
    fd = mkostemp(tmp->ptr, O_CLOEXEC);
    if (fd < 0)
        buf_addf(errmsg, "cannot create a file in the folder of %s: %s", path, strerror(errno));
    return fd;
}

/* GETs src into `fd` (which it truncates first); `st` gets the object's headers. */
static int
download_fd(const struct cli *cli, const struct copy_end *src, int fd, struct s3ops_stat *st,
            struct buf *errmsg)
{
    struct fd_sink sink = { fd, 0 };
    struct progress pg;
    struct s3ops_stat head;
    int rc;

    s3ops_stat_init(&head);
    rc = s3ops_head(src->c, src->bucket, src->key, &head, errmsg);
    if (rc < 0)
        goto out;
    progress_start(&pg, cli, src->key, head.size);
    rc = s3ops_get(src->c, src->bucket, src->key, NULL, fd_write, &sink, progress_add, &pg, st,
                   errmsg);
    progress_end(&pg);
    if (rc == 0 && sink.err) {
        buf_addf(errmsg, "cannot write the local file: %s (the partial download was removed)",
                 strerror(sink.err));
        rc = -ERR_IO;
    }
out:
    s3ops_stat_release(&head);
    return rc;
}

static int
remote_to_local(const struct cli *cli, const struct copy_end *src, const struct copy_end *dst,
                uint64_t *bytes, struct buf *errmsg)
{
    struct buf tmp = BUF_INIT;
    struct s3ops_stat st;
    struct timespec ts[2];
    int fd, rc;

    s3ops_stat_init(&st);
    rc = copy_mkdirs(dst->path, errmsg);
    if (rc < 0)
        goto out;
    fd = open_tmp_near(dst->path, &tmp, errmsg);
    if (fd < 0) {
        rc = -ERR_IO;
        goto out;
    }
    rc = download_fd(cli, src, fd, &st, errmsg);
    if (rc == 0) {
        ts[0].tv_sec = ts[1].tv_sec = st.meta_mtime >= 0 ? st.meta_mtime : st.mtime;
        ts[0].tv_nsec = ts[1].tv_nsec = 0;
        fchmod(fd, 0644 & ~umask(umask(0)));
        /* fsync before rename: a crash must not leave an empty file under the final name */
        if (futimens(fd, ts) < 0 || fsync(fd) < 0 || close(fd) < 0) {
            buf_addf(errmsg, "cannot write %s: %s", dst->path, strerror(errno));
            rc = -ERR_IO;
        }
        fd = -1;
    }
    if (rc == 0 && rename(tmp.ptr, dst->path) < 0) {
        buf_addf(errmsg, "cannot rename %s to %s: %s", tmp.ptr, dst->path, strerror(errno));
        rc = -ERR_IO;
    }
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp.ptr);
    else
        *bytes = st.size;
out:
    s3ops_stat_release(&st);
    buf_release(&tmp);
    return rc;
}

static int
local_to_remote(const struct cli *cli, const struct copy_end *src, const struct copy_end *dst,
                const struct copy_opts *o, uint64_t *bytes, struct buf *errmsg)
{
    struct stat st;
    int fd = open(src->path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0 || fstat(fd, &st) < 0) {
        buf_addf(errmsg, "cannot open %s: %s", src->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        buf_addf(errmsg, "%s is not a regular file%s", src->path,
                 S_ISDIR(st.st_mode) ? " (a folder: use -r)" : "");
        close(fd);
        return -ERR_INVAL;
    }
    rc = upload(cli, fd, (uint64_t)st.st_size, src->path, st.st_mtime, NULL, NULL, dst, o, errmsg);
    if (rc == 0)
        *bytes = (uint64_t)st.st_size;
    close(fd);
    return rc;
}

static bool
same_endpoint(const struct copy_end *a, const struct copy_end *b)
{
    return !strcmp(a->alias->url, b->alias->url) &&
           !strcmp(a->alias->access_key, b->alias->access_key);
}

static int
remote_to_remote(const struct cli *cli, const struct copy_end *src, const struct copy_end *dst,
                 const struct copy_opts *o, uint64_t *bytes, struct buf *errmsg)
{
    struct s3ops_stat st;
    char tmpl[] = "/tmp/basalt-copy-XXXXXX";
    const char *tmpdir = getenv("TMPDIR");
    struct buf tmp = BUF_INIT;
    int fd = -1, rc;

    s3ops_stat_init(&st);
    rc = s3ops_head(src->c, src->bucket, src->key, &st, errmsg);
    if (rc < 0)
        goto out;
    if (same_endpoint(src, dst) && st.size <= S3OPS_MAX_PUT) {
        rc = s3ops_copy(dst->c, src->bucket, src->key, dst->bucket, dst->key,
                        (const char *const *)o->attrs, o->nattrs, errmsg);
        goto out;
    }
    buf_addf(&tmp, "%s/basalt-copy-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    fd = mkostemp(tmp.ptr, O_CLOEXEC);
    if (fd < 0) {
        buf_addf(errmsg, "cannot create a temporary file %s: %s", tmpl, strerror(errno));
        rc = -ERR_IO;
        goto out;
    }
    unlink(tmp.ptr);
    rc = download_fd(cli, src, fd, &st, errmsg);
    if (rc == 0)
        rc = upload(cli, fd, st.size, src->key, st.meta_mtime, &st.meta, st.content_type, dst, o,
                    errmsg);
out:
    if (rc == 0)
        *bytes = st.size;
    if (fd >= 0)
        close(fd);
    s3ops_stat_release(&st);
    buf_release(&tmp);
    return rc;
}

static int
local_to_local(const struct copy_end *src, const struct copy_end *dst, uint64_t *bytes,
               struct buf *errmsg)
{
    struct buf tmp = BUF_INIT;
    struct fd_sink sink = { -1, 0 };
    struct stat st;
    struct timespec ts[2];
    char block[65536];
    ssize_t n;
    int in = open(src->path, O_RDONLY | O_CLOEXEC), rc = -ERR_IO;

    if (in < 0 || fstat(in, &st) < 0) {
        buf_addf(errmsg, "cannot open %s: %s", src->path, strerror(errno));
        goto out;
    }
    if (copy_mkdirs(dst->path, errmsg) < 0 ||
        (sink.fd = open_tmp_near(dst->path, &tmp, errmsg)) < 0)
        goto out;
    while ((n = read(in, block, sizeof(block))) > 0)
        if (!fd_write(&sink, block, (size_t)n))
            break;
    ts[0] = st.st_atim;
    ts[1] = st.st_mtim;
    if (n != 0 || sink.err || futimens(sink.fd, ts) < 0 || close(sink.fd) < 0 ||
        rename(tmp.ptr, dst->path) < 0) {
        buf_addf(errmsg, "cannot copy %s to %s: %s", src->path, dst->path,
                 strerror(sink.err ? sink.err : errno));
        unlink(tmp.ptr);
    } else {
        *bytes = (uint64_t)st.st_size;
        rc = 0;
    }
    sink.fd = -1;
out:
    if (sink.fd >= 0)
        close(sink.fd);
    if (in >= 0)
        close(in);
    buf_release(&tmp);
    return rc;
}

int
copy_one(const struct cli *cli, const struct copy_end *src, const struct copy_end *dst,
         const struct copy_opts *o, uint64_t *bytes, struct buf *errmsg)
{
    *bytes = 0;
    if (src->c && dst->c)
        return remote_to_remote(cli, src, dst, o, bytes, errmsg);
    if (src->c)
        return remote_to_local(cli, src, dst, bytes, errmsg);
    if (dst->c)
        return local_to_remote(cli, src, dst, o, bytes, errmsg);
    return local_to_local(src, dst, bytes, errmsg);
}

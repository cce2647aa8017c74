/*
 * storage/drive_local.c: the local drive, a folder on a local file system
 * (DESIGN.md "Data on a drive"), behind the ops table of internal.h.
 *
 *   <path>/.basalt/format.json          identity and set layout (drive_format_write)
 *   <path>/.basalt/index.db             SQLite, WAL: buckets and object records
 *   <path>/.basalt/data/<vid>/part.<n>  committed shard files
 *   <path>/.basalt/tmp/<vid>/part.<n>   shard files being written
 *   <path>/.basalt/trash/<vid>/         replaced versions' data, removed in the background
 *   <path>/.basalt/multipart/           unused (uploads are records of a system bucket:
 *                                       object/multipart.c)
 *
 * File names are built only from a version id (checked: 32 lowercase hex
 * characters) and a part number; an object key is only ever a BLOB in the
 * index, so no key can name a file.
 *
 * DESIGN: the write path and its crash invariants
 *
 *   1. Shards are written to tmp/<vid>/part.<n>. shard_finish fsyncs the file
 *      and tmp/<vid> (when sync is on). Nothing outside tmp/ points to them:
 *      a crash here leaves only tmp/ garbage.
 *   2. meta_commit renames tmp/<vid> to data/<vid> (one atomic rename of the
 *      folder) and fsyncs data/. A crash after this leaves data/<vid> with no
 *      index record: an orphan.
 *   3. The index record is written by the committer thread in one SQLite
 *      transaction with the other writers queued at the time (group commit);
 *      SQLite's WAL fsync makes it durable. Only now is the version visible,
 *      and only now is the writer answered.
 *   4. If the record replaced a version with another vid, data/<old vid> is
 *      renamed to trash/<old vid> after the transaction (one rename: the
 *      writer does not wait for the files to be freed, which takes as long
 *      as the object is large), and the drive's trash thread removes it. A
 *      crash before the rename leaves an orphan; after it, trash/ garbage.
 *   5. On open, everything under tmp/ is removed (invariant 1) and every
 *      data/<vid> that no index record names is removed (2 and 4); the trash
 *      thread empties trash/. So after any crash, the index and data/ agree
 *      again, and every committed record of a non-inline version has its
 *      data folder.
 *   6. An I/O error (EIO and the like) on a write or fsync takes the drive
 *      offline (sticky, STYLE 2.4): after a failed fsync the page cache may
 *      not match the disk, so nothing more is trusted until drive_reset().
 *      ENOSPC answers -ERR_NO_SPACE and leaves the drive online.
 *
 * The index (SQLite, its group committer and its readers) is in
 * drive_local_index.c; struct drive_local is in internal.h.
 */
#include "util/base.h"

#include "storage/drive.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "obs/log.h"
#include "storage/internal.h"
#include "util/err.h"
#include "util/list.h"

#define FORMAT_MAX (1u << 20) /* format.json larger than this is not ours */
#define RM_DEPTH_MAX 8        /* .basalt/data/<vid>/part.<n> is 3 deep */

static const struct drive_ops local_ops;

static struct drive_local *
to_local(struct drive *d)
{
    BUG_ON(d->ops != &local_ops);
    return container_of(d, struct drive_local, base);
}

/*
 * The syscall wrapper's error path (STYLE 2.4): logs errno once, converts it,
 * and takes the drive offline on an I/O-class error (DESIGN invariant 6).
 */
int
drive_local__sys_fail(struct drive_local *l, int e, const char *what, const char *path)
{
    struct log_ctx ctx = { .drive = l->base.endpoint };
    int rc = err_from_errno(e);

    log_errno(&ctx, e, "%s %s", what, path);
    if (rc == -ERR_IO)
        drive_set_offline(&l->base, rc);
    return rc;
}

/*
 * Writes "<path>/.basalt/<fmt...>" into `dst` (PATH_MAX bytes), without a
 * trailing '/' (an empty `fmt` names .basalt itself). Open checked that every
 * name we build fits.
 */
void
drive_local__path(const struct drive_local *l, char *dst, const char *fmt, ...)
{
    va_list ap;
    int n, m;

    n = snprintf(dst, PATH_MAX, "%s/.basalt/", l->path);
    BUG_ON(n < 0 || n >= PATH_MAX);
    va_start(ap, fmt);
    m = vsnprintf(dst + n, PATH_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    BUG_ON(m < 0 || n + m >= PATH_MAX);
    if (m == 0)
        dst[n - 1] = '\0';
}

/* ---- file system helpers ---- */

static int
make_dir(struct drive_local *l, const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return drive_local__sys_fail(l, errno, "mkdir", path);
    return 0;
}

/* mkdir -p: the drive folder and any missing parent (a fresh machine's /srv/data/d1). */
static int
make_dirs(struct drive_local *l, const char *path)
{
    char tmp[PATH_MAX];
    size_t i, n = strlen(path);

    if (n == 0 || n >= sizeof(tmp))
        return make_dir(l, path);
    memcpy(tmp, path, n + 1);
    for (i = 1; i < n; i++) {
        if (tmp[i] != '/')
            continue;
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return drive_local__sys_fail(l, errno, "mkdir", tmp);
        tmp[i] = '/';
    }
    return make_dir(l, path);
}

static int
fsync_path(struct drive_local *l, const char *path)
{
    int fd, rc = 0;

    if (!l->sync)
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return drive_local__sys_fail(l, errno, "open for fsync", path);
    if (drive__fsync(&l->base, fd) < 0)
        rc = drive_local__sys_fail(l, errno, "fsync", path);
    close(fd);
    return rc;
}

static int
write_all(struct drive_local *l, int fd, const void *p, size_t n, const char *path)
{
    const char *s = p;

    while (n > 0) {
        ssize_t w = write(fd, s, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return drive_local__sys_fail(l, errno, "write", path);
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
read_at(struct drive_local *l, int fd, uint64_t off, void *p, size_t n, const char *path,
        size_t *got)
{
    char *s = p;
    size_t done = 0;

    while (done < n) {
        ssize_t r = pread(fd, s + done, n - done, (off_t)(off + done));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return drive_local__sys_fail(l, errno, "read", path);
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

/* Removes `path` and everything under it; absent is fine. */
static int
rm_tree(struct drive_local *l, const char *path, int depth)
{
    char sub[PATH_MAX];
    struct dirent *de;
    DIR *dir;
    int rc = 0;

    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return drive_local__sys_fail(l, errno, "unlink", path);
    if (depth >= RM_DEPTH_MAX)
        return drive_local__sys_fail(l, ELOOP, "remove (too deep)", path);
    dir = opendir(path);
    if (!dir)
        return errno == ENOENT ? 0 : drive_local__sys_fail(l, errno, "opendir", path);
    while (rc == 0 && (de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub))
            rc = drive_local__sys_fail(l, ENAMETOOLONG, "remove", path);
        else
            rc = rm_tree(l, sub, depth + 1);
    }
    closedir(dir);
    if (rc == 0 && rmdir(path) < 0 && errno != ENOENT)
        rc = drive_local__sys_fail(l, errno, "rmdir", path);
    return rc;
}

typedef int dir_entry_fn(struct drive_local *l, const char *dir, const char *name);

/* Calls `fn` for each entry of folder `dir` but . and ..; stops at the first error. */
static int
for_each_entry(struct drive_local *l, const char *dir, dir_entry_fn *fn)
{
    struct dirent *de;
    DIR *d;
    int rc = 0;

    d = opendir(dir);
    if (!d)
        return drive_local__sys_fail(l, errno, "opendir", dir);
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        rc = fn(l, dir, de->d_name);
    }
    closedir(d);
    return rc;
}

/* Creates <path>, .basalt and its sub-folders; present is fine. */
static int
tree_make(struct drive_local *l)
{
    static const char *const subs[] = { "data", "tmp", "multipart", "trash" };
    char p[PATH_MAX];
    size_t i;
    int rc;

    rc = make_dirs(l, l->path);
    if (rc == 0) {
        drive_local__path(l, p, "%s", "");
        rc = make_dir(l, p);
    }
    for (i = 0; rc == 0 && i < ARRAY_SIZE(subs); i++) {
        drive_local__path(l, p, "%s", subs[i]);
        rc = make_dir(l, p);
    }
    return rc;
}

/*
 * Moves the data folders of versions the index no longer names to trash/,
 * for the trash thread (DESIGN invariant 4). Callers hold `life` shared,
 * or are the committer (which a reset stops first).
 */
void
drive_local__remove_old_vids(struct drive_local *l, const struct buf *vids)
{
    char p[PATH_MAX], t[PATH_MAX];
    bool moved = false;
    size_t i;

    for (i = 0; i + OBJMETA_VID_LEN <= vids->len; i += OBJMETA_VID_LEN) {
        drive_local__path(l, p, "data/%.*s", OBJMETA_VID_LEN, vids->ptr + i);
        drive_local__path(l, t, "trash/%.*s", OBJMETA_VID_LEN, vids->ptr + i);
        if (rename(p, t) == 0)
            moved = true;
        else if (errno != ENOENT || access(p, F_OK) == 0) /* (ENOENT: trash/ itself missing) */
            rm_tree(l, p, 0); /* logged; a leftover is an orphan removed at next open */
    }
    if (moved) {
        pthread_mutex_lock(&l->trash_mu);
        l->trash_pending = true;
        pthread_cond_signal(&l->trash_cv);
        pthread_mutex_unlock(&l->trash_mu);
    }
}

/* ---- the trash thread: removes what drive_local__remove_old_vids() moved ---- */

static bool
trash_stopping(struct drive_local *l)
{
    bool stop;

    pthread_mutex_lock(&l->trash_mu);
    stop = l->trash_stop;
    pthread_mutex_unlock(&l->trash_mu);
    return stop;
}

static int
remove_trash_entry(struct drive_local *l, const char *dir, const char *name)
{
    char p[PATH_MAX];

    if (trash_stopping(l))
        return -ERR_OFFLINE; /* ends the sweep; the rest waits for the next start */
    drive_local__path(l, p, "trash/%s", name);
    if (rm_tree(l, p, 0) == 0) /* else logged; tried again at the next sweep */
        atomic_fetch_add(&l->trash_removed, 1);
    return 0;
}

static void *
trash_main(void *arg)
{
    struct drive_local *l = arg;
    char p[PATH_MAX];

    pthread_setname_np(pthread_self(), "basalt-trash");
    drive_local__path(l, p, "trash");
    for (;;) {
        pthread_mutex_lock(&l->trash_mu);
        while (!l->trash_pending && !l->trash_stop)
            pthread_cond_wait(&l->trash_cv, &l->trash_mu);
        l->trash_pending = false;
        if (l->trash_stop) {
            pthread_mutex_unlock(&l->trash_mu);
            break;
        }
        pthread_mutex_unlock(&l->trash_mu);
        pthread_rwlock_rdlock(&l->life);
        if (drive_is_online(&l->base))
            for_each_entry(l, p, remove_trash_entry);
        pthread_rwlock_unlock(&l->life);
    }
    return NULL;
}

/* Starts the trash thread with a first sweep (what a crash or an earlier run left). */
static void
trash_start(struct drive_local *l)
{
    l->trash_stop = false;
    l->trash_pending = true;
    if (pthread_create(&l->trash_thread, NULL, trash_main, l))
        die("cannot start the trash thread of %s", l->path);
    l->trash_running = true;
}

/* Stops and joins the trash thread; call without holding `life`. */
static void
trash_stop(struct drive_local *l)
{
    if (!l->trash_running)
        return;
    pthread_mutex_lock(&l->trash_mu);
    l->trash_stop = true;
    pthread_cond_signal(&l->trash_cv);
    pthread_mutex_unlock(&l->trash_mu);
    pthread_join(l->trash_thread, NULL);
    l->trash_running = false;
}

/* ---- open, recovery, close ---- */

static int
remove_tmp_entry(struct drive_local *l, const char *dir, const char *name)
{
    struct log_ctx ctx = { .drive = l->base.endpoint };
    char p[PATH_MAX];

    drive_local__path(l, p, "tmp/%s", name);
    log_info(&ctx, "removing partial upload tmp/%s", name);
    return rm_tree(l, p, 0);
}

static int
remove_orphan_entry(struct drive_local *l, const char *dir, const char *name)
{
    struct log_ctx ctx = { .drive = l->base.endpoint };
    char p[PATH_MAX];
    int rc;

    if (!objmeta_vid_is_valid(name)) {
        log_warn(&ctx, "unexpected entry data/%s left alone", name);
        return 0;
    }
    rc = drive_local__index_vid_used(l, name);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    drive_local__path(l, p, "data/%s", name);
    log_info(&ctx, "removing orphan data/%s", name);
    return rm_tree(l, p, 0);
}

/* DESIGN invariant 5: before the committer starts, so the index does not move under the scan. */
static int
recover(struct drive_local *l)
{
    char p[PATH_MAX];
    int rc;

    drive_local__path(l, p, "tmp");
    rc = for_each_entry(l, p, remove_tmp_entry);
    if (rc < 0)
        return rc;
    drive_local__path(l, p, "data");
    return for_each_entry(l, p, remove_orphan_entry);
}

/* Creates the folder tree, opens the index, recovers, starts the committer. */
static int
local_start(struct drive_local *l)
{
    char p[PATH_MAX];
    struct stat st;
    int rc;

    rc = tree_make(l);
    if (rc == 0)
        rc = drive_local__index_open(l);
    if (rc < 0)
        return rc;
    drive_local__path(l, p, "index.db");
    if (stat(p, &st) < 0)
        return drive_local__sys_fail(l, errno, "stat", p);
    l->index_dev = st.st_dev;
    l->index_ino = st.st_ino;
    rc = recover(l);
    if (rc == 0)
        rc = drive_local__index_start(l);
    if (rc == 0)
        trash_start(l);
    return rc;
}

/* Stops the committer and closes every connection. */
static void
local_stop(struct drive_local *l)
{
    drive_local__index_close(l);
}

/* The file systems of `path` and its parent; a mount point is on another device than its parent. */
static void
mount_info(const char *path, struct drive_info *out)
{
    char parent[PATH_MAX];
    struct stat a, b;

    if (snprintf(parent, sizeof(parent), "%s/..", path) >= (int)sizeof(parent) ||
        stat(path, &a) < 0 || stat(parent, &b) < 0)
        return;
    out->fs_id = (uint64_t)a.st_dev;
    out->parent_fs_id = (uint64_t)b.st_dev;
    out->mount_point = a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

bool
drive_local__not_mounted_in(const struct drive_info *info, size_t n, size_t pos)
{
    size_t j;

    if (info[pos].mount_point || info[pos].fs_id == 0)
        return false;
    for (j = 0; j < n; j++)
        if (j != pos && info[j].mount_point && info[j].parent_fs_id == info[pos].fs_id)
            return true;
    return false;
}

/* Whether the drive's folder looks like a disk that did not mount (drive_local_open). */
static bool
looks_not_mounted(const struct drive_local *l)
{
    struct drive_info *info = xcalloc(l->nsiblings + 1, sizeof(*info));
    size_t j;
    bool yes;

    mount_info(l->path, &info[0]);
    for (j = 0; j < l->nsiblings; j++)
        mount_info(l->siblings[j], &info[j + 1]);
    yes = drive_local__not_mounted_in(info, l->nsiblings + 1, 0);
    free(info);
    return yes;
}

/* Takes the drive offline as a disk that did not mount, and says so once per episode. */
static void
set_not_mounted(struct drive_local *l)
{
    struct log_ctx ctx = { .drive = l->path, .event = "drive_not_mounted" };

    atomic_store(&l->base.online, false);
    l->not_mounted = true;
    if (l->not_mounted_said)
        return;
    l->not_mounted_said = true;
    log_error(&ctx,
              "drive folder is empty, not a mount point, and on the file system other drives' "
              "disks are mounted onto: a disk that did not mount, or was unmounted? Not "
              "formatting it; it stays offline. Mount its disk there again, or a new, empty disk "
              "to replace it: either is taken back without a restart");
}

static bool
has_format(const struct drive_local *l)
{
    char p[PATH_MAX];

    drive_local__path(l, p, "format.json");
    return access(p, F_OK) == 0;
}

static void
local_free(struct drive_local *l)
{
    size_t i;

    trash_stop(l);
    local_stop(l);
    pthread_rwlock_destroy(&l->life);
    pthread_mutex_destroy(&l->format_mu);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    pthread_cond_destroy(&l->done_cv);
    pthread_mutex_destroy(&l->pool_mu);
    pthread_mutex_destroy(&l->trash_mu);
    pthread_cond_destroy(&l->trash_cv);
    drive__release(&l->base);
    for (i = 0; i < l->nsiblings; i++)
        free(l->siblings[i]);
    free(l->siblings);
    free(l->path);
    free(l);
}

int
drive_local_open(const char *path, const struct drive_local_opts *opts, struct drive **out,
                 struct buf *errmsg)
{
    struct drive_local *l;
    int rc;

    if (strlen(path) + 128 >= PATH_MAX) {
        if (errmsg)
            buf_addf(errmsg, "drive path too long: %s", path);
        return -ERR_IO;
    }
    l = xcalloc(1, sizeof(*l));
    drive__init(&l->base, &local_ops, path);
    l->path = xstrdup(path);
    l->sync = opts ? opts->sync : true;
    pthread_rwlock_init(&l->life, NULL);
    pthread_mutex_init(&l->format_mu, NULL);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_cond_init(&l->done_cv, NULL);
    pthread_mutex_init(&l->pool_mu, NULL);
    pthread_mutex_init(&l->trash_mu, NULL);
    pthread_cond_init(&l->trash_cv, NULL);
    list_init(&l->queue);
    atomic_init(&l->ntxn, 0);
    atomic_init(&l->trash_removed, 0);
    if (opts && opts->nsiblings) {
        size_t i;

        l->siblings = xcalloc(opts->nsiblings, sizeof(*l->siblings));
        for (i = 0; i < opts->nsiblings; i++)
            l->siblings[i] = xstrdup(opts->siblings[i]);
        l->nsiblings = opts->nsiblings;
    }
    if (!has_format(l) && looks_not_mounted(l)) {
        set_not_mounted(l); /* nothing is created in the folder underneath */
        *out = &l->base;
        return 0;
    }
    rc = local_start(l);
    if (rc < 0) {
        if (errmsg)
            buf_addf(errmsg, "cannot open drive %s: %s", path, err_msg(rc));
        local_free(l);
        return -ERR_IO;
    }
    *out = &l->base;
    return 0;
}

static void
local_close(struct drive *d)
{
    local_free(to_local(d));
}

uint64_t
drive_local__ntxn(struct drive *d)
{
    return atomic_load(&to_local(d)->ntxn);
}

uint64_t
drive_local__trash_removed(struct drive *d)
{
    return atomic_load(&to_local(d)->trash_removed);
}

/* ---- check, reset, info ---- */

static int
local_check(struct drive *d)
{
    struct drive_local *l = to_local(d);
    char p[PATH_MAX];
    struct stat st;

    drive_local__path(l, p, "index.db");
    if (stat(p, &st) == 0) {
        if (st.st_dev == l->index_dev && st.st_ino == l->index_ino)
            return drive_is_online(d) ? 0 : -ERR_OFFLINE;
        drive_set_offline(d, -ERR_OFFLINE); /* another index replaced ours */
        return -ERR_OFFLINE;
    }
    if (errno != ENOENT && errno != ENOTDIR) {
        drive_local__sys_fail(l, errno, "stat", p);
        drive_set_offline(d, -ERR_IO);
        return -ERR_OFFLINE;
    }
    drive_local__path(l, p, "%s", "");
    if (!(stat(l->path, &st) == 0 && S_ISDIR(st.st_mode) && stat(p, &st) < 0 && errno == ENOENT)) {
        drive_set_offline(d, -ERR_NOT_FOUND);
        return -ERR_OFFLINE;
    }
    /* folder present without .basalt: replaced by an empty disk, or a disk gone from under it */
    if (looks_not_mounted(l)) {
        set_not_mounted(l);
        return -ERR_NOT_MOUNTED;
    }
    drive_set_offline(d, -ERR_NOT_FOUND);
    return -ERR_NOT_FOUND;
}

static int
local_reset(struct drive *d)
{
    struct drive_local *l = to_local(d);
    char p[PATH_MAX];
    int rc;

    trash_stop(l); /* it takes `life` shared */
    pthread_rwlock_wrlock(&l->life);
    local_stop(l);
    drive_local__path(l, p, "%s", "");
    /* the old tree may be gone with the folder; rm_tree errors would be about the old disk */
    rm_tree(l, p, 0);
    rc = local_start(l);
    if (rc == 0) {
        l->not_mounted = l->not_mounted_said = false;
        drive__set_online(d);
    } else {
        drive_set_offline(d, rc);
    }
    pthread_rwlock_unlock(&l->life);
    return rc;
}

static int format_read_locked(struct drive_local *l, struct buf *out);

static int
local_reopen(struct drive *d, drive_accept_fn *accept, void *arg)
{
    struct drive_local *l = to_local(d);
    struct buf text = BUF_INIT;
    bool trash_was_running = l->trash_running;
    int rc;

    if (drive_is_online(d) || !l->not_mounted)
        return -ERR_OFFLINE; /* online, or offline after an error: it still holds data */
    if (looks_not_mounted(l))
        return -ERR_NOT_MOUNTED;
    /* Asked first, with nothing stopped: a refused disk (asked every monitor tick) costs a read. */
    pthread_rwlock_rdlock(&l->life);
    rc = format_read_locked(l, &text);
    pthread_rwlock_unlock(&l->life);
    if (rc == 0)
        rc = accept(arg, buf_slice(&text));
    if (rc < 0) {
        buf_release(&text);
        return rc;
    }
    trash_stop(l); /* it takes `life` shared */
    pthread_rwlock_wrlock(&l->life);
    buf_clear(&text);
    rc = format_read_locked(l, &text); /* asked again: the disk may have changed meanwhile */
    if (rc == 0)
        rc = accept(arg, buf_slice(&text));
    if (rc == 0) {
        local_stop(l);
        rc = local_start(l); /* starts the trash thread again */
        if (rc == 0) {
            l->not_mounted = l->not_mounted_said = false;
            drive__set_online(d);
        } else {
            drive_set_offline(d, rc);
        }
    } else if (trash_was_running) {
        trash_start(l);
    }
    pthread_rwlock_unlock(&l->life);
    buf_release(&text);
    return rc;
}

static int
local_info(struct drive *d, struct drive_info *out)
{
    struct drive_local *l = to_local(d);
    struct statvfs sv;

    mount_info(l->path, out);
    if (statvfs(l->path, &sv) < 0)
        return drive_local__sys_fail(l, errno, "statvfs", l->path);
    out->total_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
    out->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
    return 0;
}

/* ---- format.json ---- */

static int
format_read_locked(struct drive_local *l, struct buf *out)
{
    char p[PATH_MAX];
    struct stat st;
    size_t got = 0;
    int fd, rc;

    drive_local__path(l, p, "format.json");
    fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ERR_NOT_FOUND : drive_local__sys_fail(l, errno, "open", p);
    if (fstat(fd, &st) < 0) {
        rc = drive_local__sys_fail(l, errno, "fstat", p);
        goto out_close_fd;
    }
    rc = -ERR_CORRUPT;
    if (st.st_size < 0 || st.st_size > FORMAT_MAX)
        goto out_close_fd;
    buf_grow(out, (size_t)st.st_size);
    rc = read_at(l, fd, 0, out->ptr + out->len, (size_t)st.st_size, p, &got);
    if (rc == 0)
        buf_setlen(out, out->len + got);
out_close_fd:
    close(fd);
    return rc;
}

static int
local_format_read(struct drive *d, struct buf *out)
{
    struct drive_local *l = to_local(d);
    int rc;

    pthread_rwlock_rdlock(&l->life);
    rc = format_read_locked(l, out);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

static int
format_write_locked(struct drive_local *l, struct slice json)
{
    char tmp[PATH_MAX], dst[PATH_MAX];
    int fd, rc;

    drive_local__path(l, tmp, "format.json.tmp");
    drive_local__path(l, dst, "format.json");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return drive_local__sys_fail(l, errno, "open", tmp);
    rc = write_all(l, fd, json.ptr, json.len, tmp);
    if (rc == 0 && l->sync && drive__fsync(&l->base, fd) < 0)
        rc = drive_local__sys_fail(l, errno, "fsync", tmp);
    if (close(fd) < 0 && rc == 0)
        rc = drive_local__sys_fail(l, errno, "close", tmp);
    if (rc == 0 && rename(tmp, dst) < 0)
        rc = drive_local__sys_fail(l, errno, "rename", tmp);
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    drive_local__path(l, dst, "%s", "");
    return fsync_path(l, dst);
}

static int
local_format_write(struct drive *d, struct slice json)
{
    struct drive_local *l = to_local(d);
    int rc;

    pthread_rwlock_rdlock(&l->life);
    /* one writer at a time: this node and another (formatting the deployment) may race */
    pthread_mutex_lock(&l->format_mu);
    rc = format_write_locked(l, json);
    pthread_mutex_unlock(&l->format_mu);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

/* ---- buckets ---- */

static int
local_bucket_make(struct drive *d, const char *bucket, int64_t created_ns)
{
    struct drive_local *l = to_local(d);
    struct drive_local_req r;
    int rc;

    drive_local__req_init(&r, DRIVE_LOCAL_REQ_BUCKET_MAKE, bucket);
    r.created_ns = created_ns;
    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_write(l, &r);
    pthread_rwlock_unlock(&l->life);
    buf_release(&r.old_vids);
    return rc;
}

static int
local_bucket_delete(struct drive *d, const char *bucket, bool force)
{
    struct drive_local *l = to_local(d);
    struct drive_local_req r;
    int rc;

    drive_local__req_init(&r, DRIVE_LOCAL_REQ_BUCKET_DELETE, bucket);
    r.force = force;
    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_write(l, &r);
    if (rc == 0)
        drive_local__remove_old_vids(l, &r.old_vids);
    pthread_rwlock_unlock(&l->life);
    buf_release(&r.old_vids);
    return rc;
}

static int
local_bucket_stat(struct drive *d, const char *bucket, int64_t *created_ns)
{
    struct drive_local *l = to_local(d);
    int rc;

    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_bucket_stat(l, bucket, created_ns);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

static int
local_bucket_list(struct drive *d, struct bucket_ent **out, size_t *n)
{
    struct drive_local *l = to_local(d);
    int rc;

    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_bucket_list(l, out, n);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

/* ---- shard files ---- */

struct local_writer {
    struct shard_writer base;
    int fd;
    char path[PATH_MAX]; /* tmp/<vid>/part.<n> */
    char dir[PATH_MAX];  /* tmp/<vid> */
};

static int
local_shard_create(struct drive *d, const char *vid, unsigned part, struct shard_writer **out)
{
    struct drive_local *l = to_local(d);
    struct local_writer *w = xcalloc(1, sizeof(*w));
    int rc;

    w->base.drive = d;
    w->fd = -1;
    drive_local__path(l, w->dir, "tmp/%s", vid);
    drive_local__path(l, w->path, "tmp/%s/part.%u", vid, part);
    pthread_rwlock_rdlock(&l->life);
    rc = make_dir(l, w->dir);
    if (rc == 0) {
        w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (w->fd < 0)
            rc = drive_local__sys_fail(l, errno, "open", w->path);
    }
    pthread_rwlock_unlock(&l->life);
    if (rc < 0) {
        free(w);
        return rc;
    }
    *out = &w->base;
    return 0;
}

static int
local_shard_append(struct shard_writer *sw, const void *p, size_t n)
{
    struct local_writer *w = container_of(sw, struct local_writer, base);

    return write_all(to_local(sw->drive), w->fd, p, n, w->path);
}

static int
local_shard_finish(struct shard_writer *sw)
{
    struct local_writer *w = container_of(sw, struct local_writer, base);
    struct drive_local *l = to_local(sw->drive);
    int rc = 0;

    if (l->sync && drive__fsync(&l->base, w->fd) < 0)
        rc = drive_local__sys_fail(l, errno, "fsync", w->path);
    if (close(w->fd) < 0 && rc == 0)
        rc = drive_local__sys_fail(l, errno, "close", w->path);
    if (rc == 0)
        rc = fsync_path(l, w->dir);
    free(w);
    return rc;
}

static void
local_shard_abort(struct shard_writer *sw)
{
    struct local_writer *w = container_of(sw, struct local_writer, base);

    if (w->fd >= 0)
        close(w->fd);
    unlink(w->path); /* best effort: tmp/ is emptied at the next open anyway */
    free(w);
}

static int
local_shard_size(struct drive *d, const char *vid, unsigned part, uint64_t *size)
{
    struct drive_local *l = to_local(d);
    char path[PATH_MAX];
    struct stat st;

    drive_local__path(l, path, "data/%s/part.%u", vid, part);
    if (stat(path, &st) < 0)
        return errno == ENOENT ? -ERR_NOT_FOUND : drive_local__sys_fail(l, errno, "stat", path);
    *size = (uint64_t)st.st_size;
    return 0;
}

static ssize_t
local_shard_read(struct drive *d, const char *vid, unsigned part, uint64_t off, void *p, size_t n)
{
    struct drive_local *l = to_local(d);
    char path[PATH_MAX];
    size_t got = 0;
    int fd, rc;

    drive_local__path(l, path, "data/%s/part.%u", vid, part);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ERR_NOT_FOUND : drive_local__sys_fail(l, errno, "open", path);
    rc = read_at(l, fd, off, p, n, path, &got);
    close(fd);
    return rc < 0 ? rc : (ssize_t)got;
}

struct local_reader {
    struct shard_reader base;
    int fd;
};

static int
local_shard_open(struct drive *d, const char *vid, unsigned part, struct shard_reader **out)
{
    struct drive_local *l = to_local(d);
    struct local_reader *r;
    char path[PATH_MAX];
    int fd;

    drive_local__path(l, path, "data/%s/part.%u", vid, part);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ERR_NOT_FOUND : drive_local__sys_fail(l, errno, "open", path);
    r = xcalloc(1, sizeof(*r));
    r->base.drive = d;
    snprintf(r->base.vid, sizeof(r->base.vid), "%s", vid);
    r->base.part = part;
    r->fd = fd;
    *out = &r->base;
    return 0;
}

static ssize_t
local_shard_pread(struct shard_reader *sr, uint64_t off, void *p, size_t n)
{
    struct local_reader *r = container_of(sr, struct local_reader, base);
    struct drive_local *l = to_local(sr->drive);
    char path[PATH_MAX];
    size_t got = 0;
    int rc;

    drive_local__path(l, path, "data/%s/part.%u", sr->vid, sr->part);
    rc = read_at(l, r->fd, off, p, n, path, &got);
    return rc < 0 ? rc : (ssize_t)got;
}

static int
local_reader_size(struct shard_reader *sr, uint64_t *size)
{
    struct local_reader *r = container_of(sr, struct local_reader, base);
    struct stat st;

    if (fstat(r->fd, &st) < 0)
        return drive_local__sys_fail(to_local(sr->drive), errno, "fstat", sr->vid);
    *size = (uint64_t)st.st_size;
    return 0;
}

static void
local_shard_close(struct shard_reader *sr)
{
    struct local_reader *r = container_of(sr, struct local_reader, base);

    close(r->fd);
    free(r);
}

static int
local_shard_link(struct drive *d, const char *dst_vid, const struct drive_link *links, size_t n)
{
    struct drive_local *l = to_local(d);
    char dir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
    size_t i;
    int rc;

    drive_local__path(l, dir, "tmp/%s", dst_vid);
    pthread_rwlock_rdlock(&l->life);
    rc = make_dir(l, dir);
    for (i = 0; i < n && rc == 0; i++) {
        drive_local__path(l, src, "data/%s/part.%u", links[i].src_vid, links[i].src_part);
        drive_local__path(l, dst, "tmp/%s/part.%u", dst_vid, links[i].dst_part);
        if (link(src, dst) == 0)
            continue;
        if (errno == EEXIST && unlink(dst) == 0 && link(src, dst) == 0)
            continue; /* a retry of the same completion */
        rc = errno == ENOENT ? -ERR_NOT_FOUND : drive_local__sys_fail(l, errno, "link", src);
    }
    if (rc == 0)
        rc = fsync_path(l, dir);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

static int
local_tmp_remove(struct drive *d, const char *vid)
{
    struct drive_local *l = to_local(d);
    char p[PATH_MAX];
    int rc;

    drive_local__path(l, p, "tmp/%s", vid);
    pthread_rwlock_rdlock(&l->life);
    rc = rm_tree(l, p, 0);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

/* ---- object records ---- */

/* DESIGN invariant 2: tmp/<vid> -> data/<vid>, fsync data/. `*moved` if this call renamed. */
static int
move_to_data(struct drive_local *l, const char *vid, bool *moved)
{
    char src[PATH_MAX], dst[PATH_MAX];
    struct stat st;

    drive_local__path(l, src, "tmp/%s", vid);
    drive_local__path(l, dst, "data/%s", vid);
    if (rename(src, dst) < 0) {
        int e = errno;

        if (e == ENOTEMPTY || e == EEXIST) {
            /*
             * Healing rewrites a corrupt copy of the same version: swap the
             * new folder in atomically (readers see the old file or the new
             * one, never none), then drop the old one, now under tmp/.
             */
            if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_EXCHANGE) < 0)
                return drive_local__sys_fail(l, errno, "rename (exchange)", src);
            rm_tree(l, src, 0);
        } else if (e != ENOENT) {
            return drive_local__sys_fail(l, e, "rename", src);
        } else if (stat(dst, &st) == 0) {
            return 0; /* committed before: the same version again */
        } else {
            return -ERR_NOT_FOUND;
        }
    }
    *moved = true;
    drive_local__path(l, dst, "data");
    return fsync_path(l, dst);
}

/*
 * The record did not commit: data/<vid> back to tmp/<vid>, where the caller's
 * drive_tmp_remove() or a retry finds it. Failing that, remove it, so that
 * data/ never holds a version the index does not name for long.
 */
static void
undo_move(struct drive_local *l, const char *vid)
{
    char src[PATH_MAX], dst[PATH_MAX];

    drive_local__path(l, src, "data/%s", vid);
    drive_local__path(l, dst, "tmp/%s", vid);
    if (rename(src, dst) < 0) {
        drive_local__sys_fail(l, errno, "rename back", src);
        rm_tree(l, src, 0);
    }
}

/*
 * The commit of a record, in two steps so that several drives can commit at
 * once (local_meta_replace_many): commit_start() moves the shard files into
 * data/ and queues the record to the drive's committer, commit_finish()
 * waits for it. With `prev` non-NULL, drive_meta_replace()'s: the committer
 * reads the current record in the same transaction, refuses (-ERR_EXISTS)
 * when it is another version as new or newer, and hands it back (*had_prev,
 * prev) then or on success.
 */
struct local_commit {
    struct buf rec;
    struct drive_local_req r;
    struct obj_meta cur;
    bool moved;
    bool queued; /* the request is with the committer */
    int rc;      /* commit_start()'s error */
};

static void
commit_start(struct drive_local *l, const char *bucket, const char *key, const struct obj_meta *m,
             bool want_prev, struct local_commit *lc)
{
    memset(lc, 0, sizeof(*lc));
    objmeta_init(&lc->cur);
    buf_init(&lc->rec, 0);
    drive_local__req_init(&lc->r, DRIVE_LOCAL_REQ_META_PUT, bucket);
    if (!m->is_inline)
        lc->rc = move_to_data(l, m->vid, &lc->moved);
    if (lc->rc < 0)
        return;
    objmeta_encode(m, &lc->rec);
    lc->r.key = key;
    lc->r.m = m;
    lc->r.rec = buf_slice(&lc->rec);
    lc->r.prev = want_prev ? &lc->cur : NULL;
    lc->rc = drive_local__index_submit(l, &lc->r);
    lc->queued = lc->rc == 0;
}

static int
commit_finish(struct drive_local *l, struct local_commit *lc, struct obj_meta *prev, bool *had_prev)
{
    int rc = lc->queued ? drive_local__index_wait(l, &lc->r) : lc->rc;

    if (rc == 0) {
        drive_local__remove_old_vids(l, &lc->r.old_vids);
    } else if (lc->moved && drive_is_online(&l->base)) {
        undo_move(l, lc->r.m->vid);
    }
    if (prev && lc->queued && (rc == 0 || rc == -ERR_EXISTS)) {
        *had_prev = lc->r.had_prev;
        if (lc->r.had_prev)
            objmeta_copy(prev, &lc->cur);
    }
    objmeta_release(&lc->cur);
    buf_release(&lc->r.old_vids);
    buf_release(&lc->rec);
    return rc;
}

static int
meta_commit_locked(struct drive_local *l, const char *bucket, const char *key,
                   const struct obj_meta *m, struct obj_meta *prev, bool *had_prev)
{
    struct local_commit lc;

    commit_start(l, bucket, key, m, prev != NULL, &lc);
    return commit_finish(l, &lc, prev, had_prev);
}

static int
local_meta_commit(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m)
{
    struct drive_local *l = to_local(d);
    int rc;

    pthread_rwlock_rdlock(&l->life);
    rc = meta_commit_locked(l, bucket, key, m, NULL, NULL);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

static int
local_meta_replace(struct drive *d, const char *bucket, const char *key, const struct obj_meta *m,
                   struct obj_meta *prev, bool *had_prev)
{
    struct drive_local *l = to_local(d);
    int rc;

    pthread_rwlock_rdlock(&l->life);
    rc = meta_commit_locked(l, bucket, key, m, prev, had_prev);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

/* This node's drives, one host for drive_host(). */
static const char local_host;

static const void *
local_host_of(const struct drive *d)
{
    (void)d;
    return &local_host;
}

/*
 * drive_meta_replace() on several local drives: every record queued to its
 * drive's committer first, then waited for, so the group commits of the
 * drives run at once.
 */
static int
local_meta_replace_many(const char *bucket, const char *key, struct drive_meta_op *ops, size_t n)
{
    struct local_commit *lcs = xcalloc(n ? n : 1, sizeof(*lcs));
    unsigned *slots = xcalloc(n ? n : 1, sizeof(*slots));
    bool *left = xcalloc(n ? n : 1, sizeof(*left));
    size_t i, nleft = n;

    for (i = 0; i < n; i++) {
        struct drive_local *l = to_local(ops[i].d);

        slots[i] = drive__busy_begin(ops[i].d);
        pthread_rwlock_rdlock(&l->life);
        commit_start(l, bucket, key, ops[i].m, true, &lcs[i]);
        left[i] = true;
    }
    /*
     * Each drive finished as soon as its commit is done, in whatever order:
     * its busy stamp and its `life` lock end then, not after a slower (or
     * hung) drive of the group.
     */
    while (nleft > 0) {
        size_t first = n;

        for (i = 0; i < n; i++) {
            struct drive_local *l = to_local(ops[i].d);

            if (!left[i])
                continue;
            if (lcs[i].queued && !drive_local__index_done(l, &lcs[i].r, 0)) {
                if (first == n)
                    first = i;
                continue;
            }
            ops[i].had = false;
            ops[i].rc = commit_finish(l, &lcs[i], ops[i].out, &ops[i].had);
            pthread_rwlock_unlock(&l->life);
            drive__busy_end(ops[i].d, slots[i]);
            left[i] = false;
            nleft--;
        }
        if (first < n)
            drive_local__index_done(to_local(ops[first].d), &lcs[first].r, 2000000);
    }
    free(left);
    free(slots);
    free(lcs);
    return 0;
}

/*
 * Inline records go to the committer without a waiting thread; the committer
 * calls `done`. A record with shard files first needs the rename into data/
 * and the fsync of that folder: those run here, synchronously.
 */
static void
local_meta_commit_async(struct drive *d, const char *bucket, const char *key,
                        const struct obj_meta *m, drive_done_fn *done, void *arg)
{
    struct drive_local *l = to_local(d);
    struct drive_local_async *a;
    int rc;

    if (!m->is_inline) {
        done(arg, local_meta_commit(d, bucket, key, m));
        return;
    }
    a = xcalloc(1, sizeof(*a));
    buf_init(&a->rec, 0);
    objmeta_encode(m, &a->rec);
    drive_local__req_init(&a->r, DRIVE_LOCAL_REQ_META_PUT, bucket);
    a->r.key = key;
    a->r.m = m;
    a->r.rec = buf_slice(&a->rec);
    a->r.async = a;
    a->done = done;
    a->arg = arg;
    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_submit(l, &a->r);
    pthread_rwlock_unlock(&l->life);
    if (rc < 0) {
        buf_release(&a->rec);
        buf_release(&a->r.old_vids);
        free(a);
        done(arg, rc);
    }
}

static int
local_meta_read(struct drive *d, const char *bucket, const char *key, struct obj_meta *out)
{
    struct drive_local *l = to_local(d);
    int rc;

    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_meta_read(l, bucket, key, out);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

static int
local_meta_delete(struct drive *d, const char *bucket, const char *key, const char *vid)
{
    struct drive_local *l = to_local(d);
    struct drive_local_req r;
    int rc;

    drive_local__req_init(&r, DRIVE_LOCAL_REQ_META_DELETE, bucket);
    r.key = key;
    r.vid = vid;
    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_write(l, &r);
    if (rc == 0)
        drive_local__remove_old_vids(l, &r.old_vids);
    pthread_rwlock_unlock(&l->life);
    buf_release(&r.old_vids);
    return rc;
}

/*
 * A delete handed to the committer without a waiting thread, as
 * local_meta_commit_async() does with an inline record: the committer
 * answers it with `done` once its transaction is durable, after moving the
 * removed version's data folder to trash/ (complete_async).
 */
static void
local_meta_delete_async(struct drive *d, const char *bucket, const char *key, const char *vid,
                        drive_done_fn *done, void *arg)
{
    struct drive_local *l = to_local(d);
    struct drive_local_async *a = xcalloc(1, sizeof(*a));
    int rc;

    buf_init(&a->rec, 0);
    drive_local__req_init(&a->r, DRIVE_LOCAL_REQ_META_DELETE, bucket);
    a->r.key = key;
    a->r.vid = vid;
    a->r.async = a;
    a->done = done;
    a->arg = arg;
    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_submit(l, &a->r);
    pthread_rwlock_unlock(&l->life);
    if (rc < 0) {
        buf_release(&a->r.old_vids);
        free(a);
        done(arg, rc);
    }
}

/*
 * Every delete queued to the committer at once: one transaction, one fsync,
 * whatever `n`. The removed versions' data folders go to trash/ after it,
 * as for one delete (DESIGN invariant 4: a crash in between leaves orphans
 * that the next open removes).
 */
static int
local_meta_delete_many(struct drive *d, const char *bucket, const char *const *keys, size_t n,
                       int *rcs)
{
    struct drive_local *l = to_local(d);
    struct drive_local_req *rs = xcalloc(n ? n : 1, sizeof(*rs));
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        drive_local__req_init(&rs[i], DRIVE_LOCAL_REQ_META_DELETE, bucket);
        rs[i].key = keys[i];
    }
    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_write_many(l, rs, n);
    for (i = 0; i < n && rc == 0; i++) {
        rcs[i] = rs[i].rc;
        if (rs[i].rc == 0)
            drive_local__remove_old_vids(l, &rs[i].old_vids);
    }
    pthread_rwlock_unlock(&l->life);
    for (i = 0; i < n; i++)
        buf_release(&rs[i].old_vids);
    free(rs);
    return rc;
}

/* ---- listing ---- */

static int
local_list(struct drive *d, const char *bucket, struct slice prefix, struct slice after,
           unsigned limit, drive_list_fn *cb, void *arg)
{
    struct drive_local *l = to_local(d);
    int rc;

    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_list(l, bucket, prefix, after, limit, cb, arg);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

static int
local_journal_update(struct drive *d, const char *name, const struct slice *put, size_t nput,
                     const struct slice *del, size_t ndel)
{
    struct drive_local *l = to_local(d);
    struct drive_local_journal j = { put, del, nput, ndel };
    struct drive_local_req r;
    int rc;

    drive_local__req_init(&r, DRIVE_LOCAL_REQ_JOURNAL, name);
    r.journal = &j;
    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_write(l, &r);
    pthread_rwlock_unlock(&l->life);
    buf_release(&r.old_vids);
    return rc;
}

static int
local_journal_list(struct drive *d, const char *name, struct slice after, unsigned limit,
                   drive_journal_fn *cb, void *arg)
{
    struct drive_local *l = to_local(d);
    int rc;

    pthread_rwlock_rdlock(&l->life);
    rc = drive_local__index_journal_list(l, name, after, limit, cb, arg);
    pthread_rwlock_unlock(&l->life);
    return rc;
}

static const struct drive_ops local_ops = {
    .name = "local",
    .close = local_close,
    .check = local_check,
    .reset = local_reset,
    .reopen = local_reopen,
    .info = local_info,
    .format_read = local_format_read,
    .format_write = local_format_write,
    .bucket_make = local_bucket_make,
    .bucket_delete = local_bucket_delete,
    .bucket_stat = local_bucket_stat,
    .bucket_list = local_bucket_list,
    .shard_create = local_shard_create,
    .shard_append = local_shard_append,
    .shard_finish = local_shard_finish,
    .shard_abort = local_shard_abort,
    .shard_open = local_shard_open,
    .shard_pread = local_shard_pread,
    .shard_close = local_shard_close,
    .shard_reader_size = local_reader_size,
    .shard_size = local_shard_size,
    .shard_read = local_shard_read,
    .shard_link = local_shard_link,
    .tmp_remove = local_tmp_remove,
    .meta_commit = local_meta_commit,
    .meta_commit_async = local_meta_commit_async,
    .meta_replace = local_meta_replace,
    .host = local_host_of,
    .meta_replace_many = local_meta_replace_many,
    .meta_read = local_meta_read,
    .meta_delete = local_meta_delete,
    .meta_delete_async = local_meta_delete_async,
    .list = local_list,
    .journal_update = local_journal_update,
    .journal_list = local_journal_list,
    .meta_delete_many = local_meta_delete_many,
};

/*
 * tests/unit/storage/test_drive_mount.c: the local drive's own judgement of
 * its folder (storage/drive.h, drive_local_open): a folder that looks like a
 * disk that did not mount is never written to, drive_check() tells it apart
 * from a replaced (empty, safe) disk, and drive_reopen() takes back the
 * drive's own disk once it is mounted again.
 *
 * Real mounts: each "disk" is a small tmpfs (another device than the folder
 * underneath), bind-mounted onto the drive folder so that it can be
 * unmounted and mounted again with its content (mount(2) needs root, as the
 * CI runs; tests/e2e/test_mounts.py does the same end to end). A sibling
 * drive whose folder is a mount point makes the file system underneath
 * recognisable.
 */
#include "util/base.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drive_common.h"
#include "harness.h"
#include "storage/drive.h"
#include "storage/internal.h"

struct disks {
    char root[4096];
    char sib[4200];             /* the sibling drive's folder, its disk mounted */
    char dir[4200], disk[4200]; /* the drive under test and its disk */
};

static void
mkdir_or_fail(const char *p)
{
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        harness_fail(__FILE__, __LINE__, "mkdir %s: %s", p, strerror(errno));
}

static void
mount_tmpfs(const char *at)
{
    if (mount("tmpfs", at, "tmpfs", 0, "size=16m") < 0)
        harness_fail(__FILE__, __LINE__, "mount -t tmpfs %s: %s (the test needs root)", at,
                     strerror(errno));
}

static void
bind(const char *from, const char *to)
{
    if (mount(from, to, NULL, MS_BIND, NULL) < 0)
        harness_fail(__FILE__, __LINE__, "mount --bind %s %s: %s (the test needs root)", from, to,
                     strerror(errno));
}

static void
unbind(const char *path)
{
    ASSERT_EQ(umount2(path, MNT_DETACH), 0);
}

/* A sibling drive folder with its disk mounted; the drive folder, empty, its disk not mounted. */
static void
disks_setup(struct disks *k)
{
    snprintf(k->root, sizeof(k->root), "%s", harness_tmpdir());
    snprintf(k->sib, sizeof(k->sib), "%s/sib", k->root);
    snprintf(k->dir, sizeof(k->dir), "%s/d", k->root);
    snprintf(k->disk, sizeof(k->disk), "%s/d-disk", k->root);
    mkdir_or_fail(k->sib);
    mkdir_or_fail(k->dir);
    mkdir_or_fail(k->disk);
    mount_tmpfs(k->sib);
    mount_tmpfs(k->disk);
}

static void
disks_teardown(struct disks *k)
{
    struct stat a, b;
    char parent[4300];

    unbind(k->sib);
    snprintf(parent, sizeof(parent), "%s/..", k->dir);
    while (stat(k->dir, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev)
        unbind(k->dir);
    unbind(k->disk);
}

static struct drive *
open_drive(const struct disks *k)
{
    const char *sibs[] = { k->sib, k->dir };
    struct drive_local_opts opts = { .sync = true, .siblings = sibs, .nsiblings = 2 };
    struct drive *d = NULL;
    struct buf err = BUF_INIT;

    ASSERT_OK(drive_local_open(k->dir, &opts, &d, &err));
    buf_release(&err);
    return d;
}

static bool
has_basalt(const char *dir)
{
    char p[4300];

    snprintf(p, sizeof(p), "%s/.basalt", dir);
    return access(p, F_OK) == 0;
}

struct accept_arg {
    int answer;
    unsigned calls;
    char seen[64];
};

static int
accept_cb(void *arg, struct slice format_json)
{
    struct accept_arg *a = arg;

    a->calls++;
    snprintf(a->seen, sizeof(a->seen), "%.*s", (int)format_json.len, format_json.ptr);
    return a->answer;
}

TEST(storage_not_mounted_rule)
{
    /* 0: the folder; 1: a sibling mounted onto the file system 7 the folder is on */
    struct drive_info info[3] = {
        { .fs_id = 7, .parent_fs_id = 7 },
        { .mount_point = true, .fs_id = 9, .parent_fs_id = 7 },
        { .fs_id = 0 },
    };

    ASSERT(drive_local__not_mounted_in(info, 2, 0));
    ASSERT(!drive_local__not_mounted_in(info, 1, 0)); /* no sibling: nothing to tell by */
    ASSERT(!drive_local__not_mounted_in(info, 2, 1)); /* a mount point itself */
    ASSERT(!drive_local__not_mounted_in(info, 3, 2)); /* unknown (could not stat) */
    info[1].parent_fs_id = 8;                         /* the sibling's disk is elsewhere */
    ASSERT(!drive_local__not_mounted_in(info, 2, 0));
}

/*
 * A drive folder whose disk did not mount: opened without creating
 * anything, offline, drive_check() -ERR_NOT_MOUNTED (never "empty, format
 * it"), drive_reopen() refuses without asking; once an empty disk is
 * mounted there, drive_check() says it may be formatted, and drive_reset()
 * opens it.
 */
TEST(storage_not_mounted_folder_is_never_written)
{
    struct accept_arg a = { .answer = 0 };
    char vid[OBJMETA_VID_LEN + 1];
    struct disks k;
    struct drive *d;

    disks_setup(&k);
    d = open_drive(&k);
    ASSERT(!drive_is_online(d));
    ASSERT(!has_basalt(k.dir));
    ASSERT_EQ(drive_check(d), -ERR_NOT_MOUNTED);
    ASSERT_EQ(drive_reopen(d, accept_cb, &a), -ERR_NOT_MOUNTED);
    ASSERT_EQ(a.calls, 0);
    ASSERT_EQ(drive_bucket_make(d, "b", 1), -ERR_OFFLINE);
    ASSERT(!has_basalt(k.dir));
    bind(k.disk, k.dir); /* a new, empty disk */
    ASSERT_EQ(drive_check(d), -ERR_NOT_FOUND);
    ASSERT_OK(drive_reset(d));
    ASSERT(drive_is_online(d));
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "abc", vid);
    ASSERT(has_basalt(k.disk)); /* on the disk, not the folder underneath */
    drive_close(d);
    disks_teardown(&k);
}

/*
 * The drive's disk unmounted while it runs, then mounted again: drive_check()
 * finds the folder underneath empty and says -ERR_NOT_MOUNTED (the drive goes
 * offline); drive_reopen() offers the format.json of whatever disk is then
 * mounted, stays offline when refused, and is back online with its data when
 * accepted. A drive offline for another reason is never reopened.
 */
TEST(storage_reopen_after_remount)
{
    struct accept_arg a = { .answer = -ERR_INVAL };
    char vid[OBJMETA_VID_LEN + 1];
    struct obj_meta m;
    struct disks k;
    struct drive *d;

    disks_setup(&k);
    bind(k.disk, k.dir);
    d = open_drive(&k);
    ASSERT(drive_is_online(d));
    ASSERT_OK(drive_format_write(d, SLICE_LIT("{\"mine\":1}")));
    ASSERT_OK(drive_bucket_make(d, "b", 1));
    common_put(d, "b", "k", "abc", vid);
    ASSERT_EQ(drive_reopen(d, accept_cb, &a), -ERR_OFFLINE); /* online: nothing to take back */
    unbind(k.dir);
    ASSERT_EQ(drive_check(d), -ERR_NOT_MOUNTED);
    ASSERT(!drive_is_online(d));
    ASSERT(!has_basalt(k.dir));
    ASSERT_EQ(drive_reopen(d, accept_cb, &a), -ERR_NOT_MOUNTED);
    ASSERT_EQ(a.calls, 0);
    bind(k.disk, k.dir);
    ASSERT_EQ(drive_reopen(d, accept_cb, &a), -ERR_INVAL); /* refused: stays offline */
    ASSERT_EQ(a.calls, 1);
    ASSERT_STREQ(a.seen, "{\"mine\":1}");
    ASSERT(!drive_is_online(d));
    a.answer = 0;
    ASSERT_OK(drive_reopen(d, accept_cb, &a));
    ASSERT(drive_is_online(d));
    ASSERT_OK(drive_check(d));
    objmeta_init(&m);
    ASSERT_OK(drive_meta_read(d, "b", "k", &m));
    ASSERT_STREQ(m.vid, vid);
    objmeta_release(&m);
    /* an I/O error is not an unmounted disk: never reopened */
    drive_set_offline(d, -ERR_IO);
    ASSERT_EQ(drive_reopen(d, accept_cb, &a), -ERR_OFFLINE);
    drive_close(d);
    disks_teardown(&k);
}

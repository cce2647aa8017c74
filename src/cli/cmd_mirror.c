/*
 * cli/cmd_mirror.c: `basalt mirror [--overwrite] [--remove] [--exclude GLOB]...
 * [--dry-run] SOURCE TARGET`: one-way sync of the contents of a folder or
 * prefix to another (local or remote, either way).
 *
 * A source entry is copied when the target lacks it. When both have it, it
 * differs when the sizes differ; or, with the same size, when the ETags of
 * two remote entries differ, when a local source is newer than the remote
 * copy's LastModified, when a remote source's single-part ETag (its MD5) is
 * not the local copy's MD5 (a multipart ETag is not an MD5: then the size
 * decides), or, local to local, when the mtimes differ. A
 * differing entry is replaced only with --overwrite (as mc); without it, it
 * is reported and the run exits 1. --remove deletes target entries the
 * source does not have (remote: DeleteObjects batches). --exclude skips
 * relative names (or base names) matching GLOB, on both sides.
 */
#include "util/base.h"

#include "cli/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include "cli/copy.h"
#include "cli/parse.h"
#include "cli/ui.h"
#include "cli/walk.h"
#include "client/s3ops.h"
#include "util/enc.h"
#include "util/md5.h"

struct side {
    struct cli_path p;
    struct client *c;
    struct buf prefix; /* remote: key prefix ending in '/' (or ""); local: folder with '/' */
    struct walk w;
};

struct mirror_opts {
    bool overwrite, remove, dry_run;
    struct strlist exclude;
};

static bool
excluded(const struct mirror_opts *o, const char *rel)
{
    const char *base = strrchr(rel, '/');
    size_t i;

    for (i = 0; i < o->exclude.n; i++)
        if (glob_match(o->exclude.v[i], rel) || glob_match(o->exclude.v[i], base ? base + 1 : rel))
            return true;
    return false;
}

static int
side_open(struct cli *cli, const char *arg, struct side *s)
{
    struct buf msg = BUF_INIT;
    const char *k;
    int rc;

    if (cli_path_parse(cli, arg, &s->p) < 0)
        return -1;
    if (s->p.remote && (!*s->p.bucket || cli_connect(cli, &s->p, &s->c) < 0)) {
        if (!*s->p.bucket)
            cli_fail(cli, arg, "expected ALIAS/BUCKET[/PREFIX]");
        return -1;
    }
    k = s->p.remote ? s->p.key : arg;
    buf_addf(&s->prefix, "%s%s", k, *k && k[strlen(k) - 1] != '/' ? "/" : "");
    if (s->p.remote)
        rc = walk_remote(&s->w, s->c, s->p.bucket, s->prefix.ptr, s->prefix.len, &msg);
    else
        rc = access(arg, F_OK) == 0 ? walk_local(&s->w, arg, "", &msg) : 0;
    if (rc < 0)
        cli_fail(cli, arg, "%s", msg.ptr);
    buf_release(&msg);
    return rc < 0 ? -1 : 0;
}

static void
side_release(struct side *s)
{
    client_free(s->c);
    cli_path_release(&s->p);
    buf_release(&s->prefix);
    walk_release(&s->w);
}

/* True when the local file's MD5 is not `etag` (a single-part ETag, 32 hex digits). */
static bool
md5_differs(const char *path, const char *etag)
{
    struct md5 m;
    uint8_t sum[MD5_SIZE];
    char hex[2 * MD5_SIZE + 1], block[65536];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return true;
    md5_init(&m);
    while ((n = read(fd, block, sizeof(block))) > 0)
        md5_update(&m, block, (size_t)n);
    close(fd);
    md5_final(&m, sum);
    hex_encode_to(hex, sum, sizeof(sum));
    hex[2 * MD5_SIZE] = '\0';
    return n < 0 || strcasecmp(hex, etag) != 0;
}

static bool
differs(const struct side *src, const struct walk_entry *a, const struct side *dst,
        const struct walk_entry *b)
{
    struct buf path = BUF_INIT;
    bool d;

    if (a->size != b->size)
        return true;
    if (src->c && dst->c)
        return strcmp(a->etag, b->etag) != 0;
    if (!src->c && dst->c)
        return a->mtime > b->mtime;
    if (!src->c && !dst->c)
        return a->mtime != b->mtime;
    if (strlen(a->etag) != 2 * MD5_SIZE) /* a multipart ETag: the size decides */
        return false;
    buf_addf(&path, "%s%s", dst->prefix.ptr, b->rel);
    d = md5_differs(path.ptr, a->etag);
    buf_release(&path);
    return d;
}

static void
report(struct cli *cli, const char *action, const char *from, const char *to, bool dry)
{
    if (cli->json)
        cli_json(json_pack("{s:s, s:s, s:s, s:s, s:b}", "status", "success", "action", action,
                           "source", from ? from : "", "target", to, "dryRun", dry));
    else
        printf("%s%s `%s`%s%s\n", dry ? "would " : "", action, to, from ? " from " : "",
               from ? from : "");
}

static void
name_of(const struct side *s, const char *rel, struct buf *key, struct buf *disp)
{
    buf_addf(key, "%s%s", s->prefix.ptr, rel);
    if (s->p.remote)
        cli_path_display(&s->p, key->ptr, disp);
    else
        buf_adds(disp, key->ptr);
}

static void
copy_entries(struct cli *cli, const struct mirror_opts *o, struct side *src, struct side *dst)
{
    struct copy_opts co = { .part_size = S3OPS_DEFAULT_PART, .threads = S3OPS_DEFAULT_THREADS };
    size_t i;

    for (i = 0; i < src->w.n; i++) {
        const struct walk_entry *a = &src->w.v[i], *b;
        struct buf sk = BUF_INIT, sd = BUF_INIT, dk = BUF_INIT, dd = BUF_INIT, msg = BUF_INIT;
        struct copy_end se = { .c = src->c, .alias = &src->p.alias, .bucket = src->p.bucket };
        struct copy_end de = { .c = dst->c, .alias = &dst->p.alias, .bucket = dst->p.bucket };
        uint64_t n;

        if (excluded(o, a->rel))
            continue;
        b = walk_find(&dst->w, a->rel);
        if (b && !differs(src, a, dst, b))
            continue;
        name_of(src, a->rel, &sk, &sd);
        if (!dst->p.remote && path_join_safe(dst->p.arg, a->rel, &dk) < 0) {
            cli_fail(cli, sd.ptr, "refusing the key: its name would leave the target folder");
            goto next;
        }
        if (dst->p.remote)
            name_of(dst, a->rel, &dk, &dd);
        else
            buf_adds(&dd, dk.ptr);
        if (b && !o->overwrite) {
            cli_fail(cli, dd.ptr, "differs from %s: not replaced (use --overwrite)", sd.ptr);
            goto next;
        }
        se.key = se.path = sk.ptr;
        de.key = de.path = dk.ptr;
        if (!o->dry_run && copy_one(cli, &se, &de, &co, &n, &msg) < 0)
            cli_fail(cli, sd.ptr, "%s", msg.ptr);
        else
            report(cli, b ? "replaced" : "copied", sd.ptr, dd.ptr, o->dry_run);
    next:
        buf_release(&sk);
        buf_release(&sd);
        buf_release(&dk);
        buf_release(&dd);
        buf_release(&msg);
    }
}

static void
remove_extra(struct cli *cli, const struct mirror_opts *o, struct side *src, struct side *dst)
{
    char **keys = xcalloc(dst->w.n + 1, sizeof(*keys));
    struct buf msg = BUF_INIT;
    size_t i, n = 0;

    for (i = 0; i < dst->w.n; i++) {
        struct buf k = BUF_INIT, d = BUF_INIT;

        if (excluded(o, dst->w.v[i].rel) || walk_find(&src->w, dst->w.v[i].rel))
            continue;
        name_of(dst, dst->w.v[i].rel, &k, &d);
        if (!o->dry_run && !dst->c && unlink(k.ptr) < 0)
            cli_fail(cli, d.ptr, "cannot remove: %s", strerror(errno));
        else
            report(cli, "removed", NULL, d.ptr, o->dry_run);
        if (dst->c)
            keys[n++] = buf_detach(&k, NULL);
        buf_release(&k);
        buf_release(&d);
    }
    if (!o->dry_run && dst->c && n &&
        s3ops_delete_many(dst->c, dst->p.bucket, keys, n, NULL, &msg) < 0)
        cli_fail(cli, dst->p.arg, "%s", msg.ptr);
    for (i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    buf_release(&msg);
}

int
cmd_mirror(int argc, char **argv)
{
    struct mirror_opts o = { 0 };
    bool done;
    struct opt opts[] = {
        { "--overwrite", NULL, OPT_FLAG, &o.overwrite, "replace target entries that differ" },
        { "--remove", NULL, OPT_FLAG, &o.remove, "delete target entries the source lacks" },
        { "--exclude", NULL, OPT_LIST, &o.exclude, "skip names matching GLOB (repeatable)" },
        { "--dry-run", NULL, OPT_FLAG, &o.dry_run, "print what would change, change nothing" },
    };
    struct cmd_spec spec = {
        "mirror", "[FLAGS] SOURCE TARGET", "One-way sync of a folder or prefix to another.",
        opts,     ARRAY_SIZE(opts),        2,
        2
    };
    struct side src = { .prefix = BUF_INIT }, dst = { .prefix = BUF_INIT };
    struct cli cli;
    char **args;
    int nargs, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc || done)
        goto out;
    if (side_open(&cli, args[0], &src) == 0 && side_open(&cli, args[1], &dst) == 0) {
        copy_entries(&cli, &o, &src, &dst);
        if (o.remove)
            remove_extra(&cli, &o, &src, &dst);
    }
    rc = cli_status(&cli);
out:
    side_release(&src);
    side_release(&dst);
    free(o.exclude.v);
    free(args);
    return rc;
}

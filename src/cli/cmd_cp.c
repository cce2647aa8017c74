/*
 * cli/cmd_cp.c: `basalt cp [-r] [--attr A] SOURCE... TARGET` and, with the
 * sources removed after each copy, `basalt mv` (cmd_mv.c). Any source and
 * target may be local or remote (cli/copy.h does one copy).
 *
 * Names, as rsync and mc: a single source lands at TARGET, or inside it when
 * TARGET is a folder, a bucket, or ends with '/'. With -r a source "dir"
 * lands as TARGET/dir/..., a source "dir/" (or a bucket) as TARGET/...
 * Keys are checked before they become local paths: a key with a ".."
 * segment (or absolute) is refused, so a download never leaves the target.
 */
#include "util/base.h"

#include "cli/commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include "cli/copy.h"
#include "cli/parse.h"
#include "cli/ui.h"
#include "cli/walk.h"
#include "client/s3ops.h"
#include "util/err.h"

struct cp_ctx {
    struct cli *cli;
    struct copy_opts o;
    bool move;
    struct cli_path dst;
    struct client *dst_c;
    uint64_t files, bytes;
};

static bool
is_local_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *
base_name(const char *s)
{
    size_t n = strlen(s);
    const char *slash;

    while (n > 1 && s[n - 1] == '/')
        n--;
    slash = memrchr(s, '/', n - 1 > 0 ? n - 1 : 0);
    return slash ? slash + 1 : s;
}

/* Copies one object or file, then removes the source for mv; reports the result. */
static void
copy_report(struct cp_ctx *x, const struct cli_path *sp, struct client *sc, const char *skey,
            const char *dkey_or_path)
{
    struct copy_end src = {
        .c = sc, .alias = &sp->alias, .bucket = sp->bucket, .key = skey, .path = skey
    };
    struct copy_end dst = { .c = x->dst_c,
                            .alias = &x->dst.alias,
                            .bucket = x->dst.bucket,
                            .key = dkey_or_path,
                            .path = dkey_or_path };
    struct buf sdisp = BUF_INIT, ddisp = BUF_INIT, msg = BUF_INIT;
    uint64_t n = 0;
    int rc;

    if (sp->remote)
        cli_path_display(sp, skey, &sdisp);
    else
        buf_adds(&sdisp, skey);
    if (x->dst.remote)
        cli_path_display(&x->dst, dkey_or_path, &ddisp);
    else
        buf_adds(&ddisp, dkey_or_path);
    rc = copy_one(x->cli, &src, &dst, &x->o, &n, &msg);
    if (rc == 0 && x->move) {
        if (sc)
            rc = s3ops_delete(sc, sp->bucket, skey, &msg);
        else if (unlink(skey) < 0) {
            buf_addf(&msg, "copied, but cannot remove the source: %s", strerror(errno));
            rc = -ERR_IO;
        }
    }
    if (rc < 0) {
        cli_fail(x->cli, sdisp.ptr, "%s", msg.ptr);
    } else {
        x->files++;
        x->bytes += n;
        if (x->cli->json)
            cli_json(json_pack("{s:s, s:s, s:s, s:I}", "status", "success", "source", sdisp.ptr,
                               "target", ddisp.ptr, "size", (json_int_t)n));
        else
            printf("`%s` -> `%s`\n", sdisp.ptr, ddisp.ptr);
    }
    buf_release(&sdisp);
    buf_release(&ddisp);
    buf_release(&msg);
}

/* The target of `rel` (a relative name) under the target path; false if it would escape. */
static bool
target_of(struct cp_ctx *x, const char *rel, struct buf *out)
{
    const char *k = x->dst.remote ? x->dst.key : x->dst.arg;

    if (x->dst.remote) {
        buf_addf(out, "%s%s%s", k, *k && k[strlen(k) - 1] != '/' ? "/" : "", rel);
        return true;
    }
    return path_join_safe(k, rel, out) == 0;
}

static void
copy_tree(struct cp_ctx *x, const struct cli_path *sp, struct client *sc)
{
    struct walk w = { 0 };
    struct buf msg = BUF_INIT, prefix = BUF_INIT, base = BUF_INIT;
    const char *src = sp->remote ? sp->key : sp->arg;
    size_t n = strlen(src), i;
    int rc;

    if (n && src[n - 1] != '/')
        buf_addf(&base, "%s/", base_name(src));
    if (sp->remote) {
        buf_addf(&prefix, "%s%s", src, n && src[n - 1] != '/' ? "/" : "");
        rc = walk_remote(&w, sc, sp->bucket, prefix.ptr, prefix.len, &msg);
    } else {
        rc = walk_local(&w, src, "", &msg);
    }
    if (rc < 0) {
        cli_fail(x->cli, sp->arg, "%s", msg.ptr);
        goto out;
    }
    for (i = 0; i < w.n; i++) {
        struct buf rel = BUF_INIT, dst = BUF_INIT, skey = BUF_INIT;

        buf_addf(&rel, "%s%s", base.ptr, w.v[i].rel);
        if (sp->remote)
            buf_addf(&skey, "%s%s", prefix.ptr, w.v[i].rel);
        else
            buf_addf(&skey, "%s%s%s", src, src[n - 1] == '/' ? "" : "/", w.v[i].rel);
        if (!target_of(x, rel.ptr, &dst)) {
            struct buf d = BUF_INIT;

            cli_path_display(sp, skey.ptr, &d);
            cli_fail(x->cli, sp->remote ? d.ptr : skey.ptr,
                     "refusing the key: its name would leave the target folder %s", x->dst.arg);
            buf_release(&d);
        } else
            copy_report(x, sp, sc, skey.ptr, dst.ptr);
        buf_release(&rel);
        buf_release(&dst);
        buf_release(&skey);
    }
out:
    walk_release(&w);
    buf_release(&msg);
    buf_release(&prefix);
    buf_release(&base);
}

static void
copy_single(struct cp_ctx *x, const struct cli_path *sp, struct client *sc, bool many)
{
    const char *src = sp->remote ? sp->key : sp->arg;
    const char *dk = x->dst.remote ? x->dst.key : x->dst.arg;
    size_t dn = strlen(dk);
    struct buf dst = BUF_INIT;
    bool into = many || (x->dst.remote ? dn == 0 || dk[dn - 1] == '/'
                                       : dk[dn - 1] == '/' || is_local_dir(dk));

    if (sp->remote && !*src) {
        cli_fail(x->cli, sp->arg, "is a bucket: use -r to copy its objects");
        return;
    }
    if (!into)
        buf_adds(&dst, dk);
    else if (!target_of(x, base_name(src), &dst)) {
        cli_fail(x->cli, sp->arg, "cannot name the target from the source");
        return;
    }
    copy_report(x, sp, sc, src, dst.ptr);
    buf_release(&dst);
}

static void
free_attrs(struct copy_opts *o)
{
    size_t i;

    for (i = 0; i < o->nattrs; i++)
        free(o->attrs[i]);
    free(o->attrs);
}

int
cp_main(int argc, char **argv, bool move)
{
    const char *attr = NULL, *psize = NULL, *parallel = NULL;
    bool recursive = false, done;
    struct opt opts[] = {
        { "--recursive", "-r", OPT_FLAG, &recursive, "copy folders and prefixes" },
        { "--attr", NULL, OPT_STR, &attr, "metadata and headers: \"k=v;k2=v2\"" },
        { "--part-size", NULL, OPT_STR, &psize,
          "multipart part size and threshold (default 16MiB)" },
        { "--parallel", NULL, OPT_STR, &parallel,
          "parts uploaded at once (default 4, at most 16)" },
    };
    struct cmd_spec spec = { move ? "mv" : "cp",
                             "[FLAGS] SOURCE... TARGET",
                             move ? "Moves objects or files: copies, then removes the source."
                                  : "Copies objects or files, local or remote, either way.",
                             opts,
                             ARRAY_SIZE(opts),
                             2,
                             -1 };
    struct cp_ctx x = { .move = move };
    struct cli cli;
    uint64_t threads = S3OPS_DEFAULT_THREADS;
    char **args;
    int nargs, i, rc;

    x.cli = &cli;
    x.o.part_size = S3OPS_DEFAULT_PART;
    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc || done)
        goto out;
    rc = 2;
    if ((attr && parse_attrs(attr, &x.o.attrs, &x.o.nattrs) < 0) ||
        (psize && (parse_size(psize, &x.o.part_size) < 0 || x.o.part_size < S3OPS_MIN_PART)) ||
        (parallel && (parse_u64(slice_cstr(parallel), &threads) < 0 || !threads || threads > 16))) {
        fprintf(stderr, "basalt: %s: bad --attr, --part-size or --parallel\n", spec.name);
        goto out;
    }
    x.o.threads = (unsigned)threads;
    rc = 1;
    if (cli_path_parse(&cli, args[nargs - 1], &x.dst) < 0)
        goto out;
    if (x.dst.remote && (!*x.dst.bucket || cli_connect(&cli, &x.dst, &x.dst_c) < 0)) {
        if (!*x.dst.bucket)
            cli_fail(&cli, args[nargs - 1], "expected ALIAS/BUCKET[/KEY] as the target");
        goto out;
    }
    for (i = 0; i < nargs - 1; i++) {
        struct cli_path sp;
        struct client *sc = NULL;

        if (cli_path_parse(&cli, args[i], &sp) < 0)
            continue;
        if (!sp.remote || cli_connect(&cli, &sp, &sc) == 0) {
            if (recursive)
                copy_tree(&x, &sp, sc);
            else
                copy_single(&x, &sp, sc, nargs > 2);
        }
        client_free(sc);
        cli_path_release(&sp);
    }
    rc = cli_status(&cli);
out:
    free_attrs(&x.o);
    client_free(x.dst_c);
    cli_path_release(&x.dst);
    free(args);
    return rc;
}

int
cmd_cp(int argc, char **argv)
{
    return cp_main(argc, argv, false);
}

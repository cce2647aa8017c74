/*
 * bench/iam_reload.c: what reading every IAM record costs (iam_reload, a
 * node's start and the safety net after a missed notification), with N
 * users each with an access key (2N system objects) on an object layer over
 * 4 local drive folders (one erasure set, EC 2+2), and what the request
 * path costs per call once they are loaded.
 *
 *     make RELEASE=1 -j2 build-release/bench/iam_reload && build-release/bench/iam_reload [N] [DIR]
 *
 * N defaults to 10,000; DIR (default: a new folder under $TMPDIR or /tmp)
 * is removed afterwards. The users are written with fsync off (setup only),
 * then the layer is closed and opened again before the timed reloads, so
 * the reads come from the drives' indexes, not from a cache of the writes.
 */
#include "util/base.h"

#include <sys/stat.h>
#include <time.h>

#include "iam/iam.h"
#include "obs/log.h"
#include "object/objlayer.h"

#define NDRIVES 4
#define ROOT "benchroot"
#define ROOT_SECRET "benchrootsecret"

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct objlayer *
open_layer(const char *dir, bool sync)
{
    static char paths[NDRIVES][4200];
    const char *ptrs[NDRIVES];
    struct objlayer_config cfg = {
        .drives = ptrs, .ndrives = NDRIVES, .sync = sync, .format_fresh = true
    };
    struct buf err = BUF_INIT;
    struct objlayer *ol = NULL;
    unsigned i;

    for (i = 0; i < NDRIVES; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/d%u", dir, i);
        mkdir(paths[i], 0755);
        ptrs[i] = paths[i];
    }
    if (objlayer_open(&cfg, &ol, &err) < 0)
        die("objlayer_open: %s", err.ptr);
    buf_release(&err);
    return ol;
}

static struct iam *
open_iam(struct objlayer *ol)
{
    struct iam_config cfg = { .ol = ol, .root_user = ROOT, .root_secret = ROOT_SECRET };
    struct buf err = BUF_INIT;
    struct iam *iam = NULL;

    if (iam_open(&cfg, &iam, &err) < 0)
        die("iam_open: %s", err.ptr);
    buf_release(&err);
    return iam;
}

int
main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 10000, i;
    char dir[4096], first_ak[64] = "";
    struct objlayer *ol;
    struct iam *iam;
    struct buf err = BUF_INIT, cmd = BUF_INIT;
    struct iam_identity id;
    double t0, t;
    int r;

    log_set_quiet(true);
    if (argc > 2) {
        snprintf(dir, sizeof(dir), "%s", argv[2]);
        mkdir(dir, 0755);
    } else {
        const char *tmp = getenv("TMPDIR");

        snprintf(dir, sizeof(dir), "%s/basalt-iam-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir))
            die("mkdtemp %s failed", dir);
    }

    ol = open_layer(dir, false);
    iam = open_iam(ol);
    t0 = now();
    for (i = 0; i < n; i++) {
        struct iam_new_key nk = { 0 };
        struct buf ak = BUF_INIT, sk = BUF_INIT;
        char name[32];

        snprintf(name, sizeof(name), "user%06u", i);
        nk.user = name;
        if (iam_user_create(iam, name, NULL, NULL, &err) < 0 ||
            iam_key_create(iam, &nk, &ak, &sk, &err) < 0)
            die("creating %s: %s", name, err.ptr);
        if (i == 0)
            snprintf(first_ak, sizeof(first_ak), "%s", ak.ptr);
        buf_release(&ak);
        buf_release_secure(&sk);
    }
    t = now() - t0;
    printf("setup: %u users with a key each (%u system objects), %.1f s (fsync off)\n", n, 2 * n,
           t);
    iam_close(iam);
    objlayer_close(ol);

    ol = open_layer(dir, true);
    t0 = now();
    iam = open_iam(ol);
    printf("iam_open (reads everything): %.3f s\n", now() - t0);
    for (r = 0; r < 3; r++) {
        t0 = now();
        if (iam_reload(iam) < 0)
            die("iam_reload failed");
        printf("iam_reload %d: %.3f s\n", r + 1, now() - t0);
    }

    /* the request path, with everything loaded */
    {
        struct iam_request req = { .action = "s3:GetObject", .resource = "arn:aws:s3:::b/k" };
        struct buf secret = BUF_INIT;
        unsigned calls = 1000000;

        t0 = now();
        for (i = 0; i < calls; i++) {
            buf_clear(&secret);
            if (iam_authenticate(iam, slice_cstr(first_ak), SLICE_NULL, &secret, &id) < 0)
                die("iam_authenticate failed");
        }
        printf("iam_authenticate: %.0f ns per call\n", (now() - t0) / calls * 1e9);
        t0 = now();
        for (i = 0; i < calls; i++)
            (void)iam_is_allowed(iam, &id, &req, NULL);
        printf("iam_is_allowed (no policy attached): %.0f ns per call\n",
               (now() - t0) / calls * 1e9);
        buf_release_secure(&secret);
    }
    iam_close(iam);
    objlayer_close(ol);
    buf_addf(&cmd, "rm -rf '%s'", dir);
    if (system(cmd.ptr) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    buf_release(&cmd);
    buf_release(&err);
    return 0;
}

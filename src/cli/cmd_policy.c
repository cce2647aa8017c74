/*
 * cli/cmd_policy.c: `basalt policy set public|download|upload|none|FILE.json
 * ALIAS/BUCKET[/PREFIX]`, `policy get ALIAS/BUCKET`, `policy remove
 * ALIAS/BUCKET`: a bucket's policy (PutBucketPolicy, GetBucketPolicy,
 * DeleteBucketPolicy on ?policy). The canned names make the documents mc
 * makes (minio-go's pkg/policy): anonymous ("AWS": ["*"]) access,
 *   download: s3:GetBucketLocation, s3:ListBucket on the bucket; s3:GetObject
 *             on its objects;
 *   upload:   s3:GetBucketLocation, s3:ListBucketMultipartUploads on the bucket;
 *             s3:AbortMultipartUpload, s3:DeleteObject,
 *             s3:ListMultipartUploadParts, s3:PutObject on its objects;
 *   public:   both;
 *   none:     no policy (DeleteBucketPolicy).
 * With a PREFIX the object statement covers arn:aws:s3:::BUCKET/PREFIX* only.
 */
#include "util/base.h"

#include "cli/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include "cli/ui.h"
#include "client/s3ops.h"
#include "util/err.h"

static json_t *
strings(const char *const *v, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *
statement(const char *const *actions, size_t n, const char *resource)
{
    return json_pack("{s:s, s:{s:[s]}, s:o, s:[s]}", "Effect", "Allow", "Principal", "AWS", "*",
                     "Action", strings(actions, n), "Resource", resource);
}

/* The canned policy `name` for bucket/prefix as compact JSON, or NULL if not a canned name. */
static char *
canned_policy(const char *name, const char *bucket, const char *prefix)
{
    static const char *const bucket_down[] = { "s3:GetBucketLocation", "s3:ListBucket" };
    static const char *const bucket_up[] = { "s3:GetBucketLocation",
                                             "s3:ListBucketMultipartUploads" };
    static const char *const bucket_pub[] = { "s3:GetBucketLocation", "s3:ListBucket",
                                              "s3:ListBucketMultipartUploads" };
    static const char *const obj_down[] = { "s3:GetObject" };
    static const char *const obj_up[] = { "s3:AbortMultipartUpload", "s3:DeleteObject",
                                          "s3:ListMultipartUploadParts", "s3:PutObject" };
    static const char *const obj_pub[] = { "s3:AbortMultipartUpload", "s3:DeleteObject",
                                           "s3:GetObject", "s3:ListMultipartUploadParts",
                                           "s3:PutObject" };
    struct buf bres = BUF_INIT, ores = BUF_INIT;
    json_t *doc, *st = json_array();
    char *s;

    buf_addf(&bres, "arn:aws:s3:::%s", bucket);
    buf_addf(&ores, "arn:aws:s3:::%s/%s*", bucket, prefix);
    if (!strcmp(name, "download")) {
        json_array_append_new(st, statement(bucket_down, ARRAY_SIZE(bucket_down), bres.ptr));
        json_array_append_new(st, statement(obj_down, ARRAY_SIZE(obj_down), ores.ptr));
    } else if (!strcmp(name, "upload")) {
        json_array_append_new(st, statement(bucket_up, ARRAY_SIZE(bucket_up), bres.ptr));
        json_array_append_new(st, statement(obj_up, ARRAY_SIZE(obj_up), ores.ptr));
    } else if (!strcmp(name, "public")) {
        json_array_append_new(st, statement(bucket_pub, ARRAY_SIZE(bucket_pub), bres.ptr));
        json_array_append_new(st, statement(obj_pub, ARRAY_SIZE(obj_pub), ores.ptr));
    } else {
        json_decref(st);
        st = NULL;
    }
    buf_release(&bres);
    buf_release(&ores);
    if (!st)
        return NULL;
    doc = json_pack("{s:s, s:o}", "Version", "2012-10-17", "Statement", st);
    s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return s;
}

static int
read_policy_file(struct cli *cli, const char *path, struct buf *out)
{
    char tmp[8192];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    json_error_t jerr;
    json_t *j;

    if (fd < 0) {
        cli_fail(cli, path, "not public, download, upload or none, and cannot open it: %s",
                 strerror(errno));
        return -1;
    }
    while ((n = read(fd, tmp, sizeof(tmp))) > 0 && out->len <= 20480)
        buf_add(out, tmp, (size_t)n);
    close(fd);
    j = json_loadb(out->ptr, out->len, 0, &jerr);
    if (!j || out->len > 20480) {
        cli_fail(cli, path, "%s", j ? "larger than 20 KiB" : jerr.text);
        json_decref(j);
        return -1;
    }
    json_decref(j);
    return 0;
}

static int
policy_set(struct cli *cli, struct client *c, const struct cli_path *p, const char *what,
           struct buf *msg)
{
    struct buf doc = BUF_INIT;
    char *canned;
    int rc;

    if (!strcmp(what, "none"))
        return s3ops_delete_sub(c, p->bucket, NULL, "policy", msg);
    canned = canned_policy(what, p->bucket, p->key);
    if (canned)
        buf_adds(&doc, canned);
    else if (read_policy_file(cli, what, &doc) < 0) {
        buf_release(&doc);
        return 1;
    }
    free(canned);
    rc = s3ops_put_sub(c, p->bucket, NULL, "policy", buf_slice(&doc), msg);
    buf_release(&doc);
    return rc;
}

int
cmd_policy(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    struct cmd_spec spec = { "policy",
                             "set public|download|upload|none|FILE.json ALIAS/BUCKET[/PREFIX] | "
                             "get ALIAS/BUCKET | remove ALIAS/BUCKET",
                             "Sets, prints or removes a bucket's policy; the canned names give "
                             "anonymous access as mc's do.",
                             NULL,
                             0,
                             1,
                             2 };
    struct cli_path p = { 0 };
    struct client *c = NULL;
    struct buf msg = BUF_INIT, doc = BUF_INIT;
    struct cli cli;
    bool done, set = !strcmp(sub, "set");
    char **args = NULL;
    int nargs, rc;

    if (!set && strcmp(sub, "get") && strcmp(sub, "remove")) {
        bool help = !strcmp(sub, "--help") || !strcmp(sub, "-h");

        cli_usage(&spec, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    rc = cli_parse(&cli, &spec, argc - 1, argv + 1, &nargs, &args, &done);
    if (rc || done)
        goto out;
    if ((nargs == 2) != set) {
        cli_usage(&spec, stderr);
        rc = 2;
        goto out;
    }
    rc = 1;
    if (cli_path_remote(&cli, args[set ? 1 : 0], &p) < 0 || cli_connect(&cli, &p, &c) < 0)
        goto out;
    if (!*p.bucket || (!set && *p.key)) {
        cli_fail(&cli, p.arg, "expected ALIAS/BUCKET");
        goto out;
    }
    if (set)
        rc = policy_set(&cli, c, &p, args[0], &msg);
    else if (!strcmp(sub, "remove"))
        rc = s3ops_delete_sub(c, p.bucket, NULL, "policy", &msg);
    else
        rc = s3ops_get_sub(c, p.bucket, NULL, "policy", &doc, &msg);
    if (rc == 1)
        goto out;
    if (rc < 0) {
        cli_fail(&cli, p.arg, "%s%s", msg.ptr,
                 rc == -ERR_NOT_IMPLEMENTED ? " (this server has no bucket policies)" : "");
        rc = 1;
        goto out;
    }
    if (!strcmp(sub, "get") && cli.json)
        cli_json(
            json_pack("{s:s, s:s, s:s}", "status", "success", "bucket", p.arg, "policy", doc.ptr));
    else if (!strcmp(sub, "get"))
        printf("%s%s", doc.ptr, doc.len && doc.ptr[doc.len - 1] == '\n' ? "" : "\n");
    else if (cli.json)
        cli_json(json_pack("{s:s, s:s}", "status", "success", "bucket", p.arg));
    else
        printf("Policy %s for `%s`.\n", set ? "set" : "removed", p.arg);
    rc = 0;
out:
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
    buf_release(&doc);
    free(args);
    return rc;
}

/* cli/cmd_stat.c: `basalt stat ALIAS/BUCKET[/KEY]...`: an object's size, date, ETag, type,
 * metadata. */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/ui.h"
#include "client/s3ops.h"

static void
print_stat(struct cli *cli, const struct cli_path *p, const struct s3ops_stat *st)
{
    struct buf date = BUF_INIT, size = BUF_INIT, iso = BUF_INIT;
    struct slice rest = buf_slice(&st->meta), line;
    json_t *meta = json_object();

    while (rest.len) {
        rest = slice_split(rest, '\n', &line);
        if (line.len > 2) {
            ssize_t colon = slice_find(line, ':');
            char *k = xstrndup(line.ptr, (size_t)colon);
            char *v = slice_dup(
                slice_trim(slice_make(line.ptr + colon + 1, line.len - (size_t)colon - 1)));

            json_object_set_new(meta, k, json_string(v));
            free(k);
            free(v);
        }
        if (!rest.ptr)
            break;
    }
    fmt_time(&date, st->mtime);
    fmt_iso(&iso, st->mtime);
    fmt_size(&size, st->size);
    if (cli->json) {
        cli_json(json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "status", "success", "name",
                           p->arg, "lastModified", iso.ptr, "size", (json_int_t)st->size, "etag",
                           st->etag, "type", "file", "contentType", st->content_type, "metadata",
                           meta));
        meta = NULL;
    } else {
        printf("Name      : %s\nDate      : %s\nSize      : %s (%llu bytes)\nETag      : %s\n"
               "Type      : file\nContent-Type: %s\n",
               p->arg, date.ptr, size.ptr, (unsigned long long)st->size, st->etag,
               st->content_type);
        if (st->meta.len)
            printf("Metadata  :\n");
        rest = buf_slice(&st->meta);
        while (rest.len) {
            rest = slice_split(rest, '\n', &line);
            if (line.len)
                printf("  %.*s\n", (int)line.len, line.ptr);
            if (!rest.ptr)
                break;
        }
    }
    json_decref(meta);
    buf_release(&date);
    buf_release(&size);
    buf_release(&iso);
}

static void
stat_one(struct cli *cli, const char *arg)
{
    struct cli_path p;
    struct client *c = NULL;
    struct buf msg = BUF_INIT;
    struct s3ops_stat st;

    s3ops_stat_init(&st);
    if (cli_path_remote(cli, arg, &p) < 0)
        goto out_stat;
    if (!*p.bucket) {
        cli_fail(cli, arg, "expected ALIAS/BUCKET[/KEY]");
        goto out;
    }
    if (cli_connect(cli, &p, &c) < 0)
        goto out;
    if (s3ops_head(c, p.bucket, *p.key ? p.key : NULL, &st, &msg) < 0)
        cli_fail(cli, arg, "%s", msg.ptr);
    else if (!*p.key && cli->json)
        cli_json(json_pack("{s:s, s:s, s:s}", "status", "success", "name", arg, "type", "bucket"));
    else if (!*p.key)
        printf("Name      : %s\nType      : bucket\n", arg);
    else
        print_stat(cli, &p, &st);
out:
    client_free(c);
    cli_path_release(&p);
out_stat:
    s3ops_stat_release(&st);
    buf_release(&msg);
}

int
cmd_stat(int argc, char **argv)
{
    struct cmd_spec spec = { "stat",
                             "ALIAS/BUCKET[/KEY]...",
                             "Shows an object's size, date, ETag, content type and metadata, "
                             "or that a bucket exists.",
                             NULL,
                             0,
                             1,
                             -1 };
    struct cli cli;
    bool done;
    char **args;
    int nargs, i, rc;

    rc = cli_parse(&cli, &spec, argc, argv, &nargs, &args, &done);
    if (rc == 0 && !done)
        for (i = 0; i < nargs; i++)
            stat_one(&cli, args[i]);
    free(args);
    return rc || done ? rc : cli_status(&cli);
}

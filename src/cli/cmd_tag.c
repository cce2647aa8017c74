/*
 * cli/cmd_tag.c: `basalt tag set PATH "k=v&k2=v2"`, `basalt tag list PATH`,
 * `basalt tag remove PATH`: the tags of an object (ALIAS/BUCKET/KEY) or of
 * a bucket (ALIAS/BUCKET), through ?tagging.
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/ui.h"
#include "client/s3ops.h"
#include "util/err.h"

struct tag_list {
    struct cli *cli;
    json_t *tags;
    struct buf key;
};

static void
tag_cb(void *arg, const char *path, struct slice text)
{
    struct tag_list *t = arg;
    char *v;

    if (!strcmp(path, "Tagging/TagSet/Tag/Key")) {
        buf_clear(&t->key);
        buf_addslice(&t->key, text);
    } else if (!strcmp(path, "Tagging/TagSet/Tag/Value")) {
        v = slice_dup(text);
        json_object_set_new(t->tags, t->key.ptr, json_string(v));
        free(v);
    }
}

/* "k=v&k2=v2" into a Tagging document; -ERR_INVAL on an entry without '='. */
static int
tagging_doc(const char *s, struct buf *doc)
{
    char *copy = xstrdup(s), *save = NULL, *kv;
    int rc = 0;

    buf_adds(doc, "<Tagging><TagSet>");
    for (kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');

        if (!eq || eq == kv) {
            rc = -ERR_INVAL;
            break;
        }
        *eq = '\0';
        buf_adds(doc, "<Tag><Key>");
        s3ops_xml_escape(doc, kv);
        buf_adds(doc, "</Key><Value>");
        s3ops_xml_escape(doc, eq + 1);
        buf_adds(doc, "</Value></Tag>");
    }
    buf_adds(doc, "</TagSet></Tagging>");
    free(copy);
    return rc;
}

static void
print_tags(struct cli *cli, const char *arg, const struct buf *xml)
{
    struct tag_list t = { cli, json_object(), BUF_INIT };
    const char *k;
    json_t *v;

    s3ops_xml_walk(buf_slice(xml), tag_cb, &t);
    if (cli->json) {
        cli_json(json_pack("{s:s, s:s, s:O}", "status", "success", "name", arg, "tags", t.tags));
    } else {
        json_object_foreach(t.tags, k, v) printf("%s=%s\n", k, json_string_value(v));
    }
    json_decref(t.tags);
    buf_release(&t.key);
}

int
cmd_tag(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    struct cmd_spec spec = { "tag",
                             "set|list|remove ALIAS/BUCKET[/KEY] [\"k=v&k2=v2\"]",
                             "Sets, lists or removes the tags of an object or a bucket.",
                             NULL,
                             0,
                             1,
                             2 };
    struct cli_path p = { 0 };
    struct client *c = NULL;
    struct buf msg = BUF_INIT, doc = BUF_INIT;
    struct cli cli;
    bool done;
    char **args = NULL;
    int nargs, rc;

    if (strcmp(sub, "set") && strcmp(sub, "list") && strcmp(sub, "remove")) {
        bool help = !strcmp(sub, "--help") || !strcmp(sub, "-h");

        cli_usage(&spec, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    rc = cli_parse(&cli, &spec, argc - 1, argv + 1, &nargs, &args, &done);
    if (rc || done)
        goto out;
    if ((nargs == 2) != !strcmp(sub, "set") ||
        (!strcmp(sub, "set") && tagging_doc(args[1], &doc) < 0)) {
        cli_usage(&spec, stderr);
        rc = 2;
        goto out;
    }
    rc = 1;
    if (cli_path_remote(&cli, args[0], &p) < 0 || cli_connect(&cli, &p, &c) < 0)
        goto out;
    if (!strcmp(sub, "set"))
        rc = s3ops_put_sub(c, p.bucket, p.key, "tagging", buf_slice(&doc), &msg);
    else if (!strcmp(sub, "remove"))
        rc = s3ops_delete_sub(c, p.bucket, p.key, "tagging", &msg);
    else
        rc = s3ops_get_sub(c, p.bucket, p.key, "tagging", &doc, &msg);
    if (rc == -ERR_NO_SUCH_TAG_SET && !strcmp(sub, "list")) {
        buf_clear(&doc);
        rc = 0;
    }
    if (rc < 0) {
        cli_fail(&cli, args[0], "%s", msg.ptr);
        rc = 1;
        goto out;
    }
    if (!strcmp(sub, "list"))
        print_tags(&cli, args[0], &doc);
    else if (cli.json)
        cli_json(json_pack("{s:s, s:s}", "status", "success", "name", args[0]));
    else
        printf("Tags %s for `%s`.\n", !strcmp(sub, "set") ? "set" : "removed", args[0]);
    rc = 0;
out:
    client_free(c);
    cli_path_release(&p);
    buf_release(&msg);
    buf_release(&doc);
    free(args);
    return rc;
}

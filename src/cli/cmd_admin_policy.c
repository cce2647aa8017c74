/*
 * cli/cmd_admin_policy.c: `basalt admin policy create|list|info|attach|detach|remove`,
 * with mc admin's argument order, over the admin API (s3/admin_iam.c):
 *
 *   create ALIAS NAME FILE.json           PUT    policies/NAME (the file as is: the
 *                                         server parses it and says where it is wrong)
 *   list ALIAS                            GET    policies (the canned ones included)
 *   info ALIAS NAME                       GET    policies/NAME
 *   attach|detach ALIAS POLICY... --user USER | --group GROUP
 *                                         POST   policies/POLICY/attach|detach, one per policy
 *   remove ALIAS NAME                     DELETE policies/NAME (DeleteConflict while attached)
 *
 * These are IAM policies for users and groups; bucket policies are
 * `basalt policy` (cmd_policy.c).
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/admin_run.h"

struct policy_opts {
    const char *user;
    const char *group;
};

static int
policy_create(struct admin_run *r)
{
    const char *name = r->args[1];
    struct buf path = BUF_INIT, doc = BUF_INIT;
    int rc = 1;

    if (admin_run_path(r, &path, "policies", name, NULL) < 0 ||
        admin_run_read_file(r, r->args[2], &doc) < 0 ||
        admin_run_call(r, "PUT", path.ptr, NULL, buf_slice(&doc), NULL) < 0)
        goto out;
    rc = admin_run_done(r, json_pack("{s:s}", "policy", name), "Created policy `%s` successfully.",
                        name);
out:
    buf_release(&path);
    buf_release(&doc);
    return rc;
}

static int
policy_list(struct admin_run *r)
{
    json_t *out = NULL, *rows, *p;
    size_t i;

    if (admin_run_call(r, "GET", "policies", NULL, SLICE_NULL, &out) < 0)
        return 1;
    rows = json_pack("[[s,s,s]]", "POLICY", "TYPE", "ATTACHMENTS");
    json_array_foreach(json_object_get(out, "policies"), i, p)
    {
        char n[24];

        if (r->cli.json) {
            admin_run_json(json_incref(p));
            continue;
        }
        snprintf(n, sizeof(n), "%lld",
                 (long long)json_integer_value(json_object_get(p, "attachments")));
        json_array_append_new(
            rows, json_pack("[s,s,s]", json_string_value(json_object_get(p, "name")),
                            json_is_true(json_object_get(p, "canned")) ? "canned" : "custom", n));
    }
    if (!r->cli.json && json_array_size(rows) > 1)
        admin_table_print(rows);
    json_decref(rows);
    json_decref(out);
    return 0;
}

static int
policy_info(struct admin_run *r)
{
    struct buf path = BUF_INIT;
    json_t *p = NULL, *doc;
    char *text;
    int rc = 1;

    if (admin_run_path(r, &path, "policies", r->args[1], NULL) < 0 ||
        admin_run_call(r, "GET", path.ptr, NULL, SLICE_NULL, &p) < 0)
        goto out;
    rc = 0;
    if (r->cli.json) {
        admin_run_json(json_incref(p));
        goto out;
    }
    doc = json_object_get(p, "policy");
    if (json_is_string(doc)) {
        printf("%s\n", json_string_value(doc));
        goto out;
    }
    text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", text ? text : "null");
    free(text);
out:
    json_decref(p);
    buf_release(&path);
    return rc;
}

/* attach or detach POLICY... (args[1..]) to the --user or the --group. */
static int
policy_attach_detach(struct admin_run *r, const char *verb)
{
    const struct policy_opts *o = r->opts;
    const char *kind = o->user ? "user" : "group", *who = o->user ? o->user : o->group;
    bool attach = !strcmp(verb, "attach");
    struct buf path = BUF_INIT;
    int i;

    if (!o->user == !o->group) {
        fprintf(stderr, "basalt: %s: name either --user USER or --group GROUP\n", r->cli.cmd);
        return 2;
    }
    for (i = 1; i < r->nargs; i++) {
        buf_clear(&path);
        if (admin_run_path(r, &path, "policies", r->args[i], verb) < 0 ||
            admin_run_call_json(r, "POST", path.ptr, json_pack("{s:s}", kind, who), NULL) < 0)
            break;
        admin_run_done(r, json_pack("{s:s, s:s}", "policy", r->args[i], kind, who),
                       "%s policy `%s` %s %s `%s` successfully.", attach ? "Attached" : "Detached",
                       r->args[i], attach ? "to" : "from", kind, who);
    }
    buf_release(&path);
    return cli_status(&r->cli);
}

static int
policy_attach(struct admin_run *r)
{
    return policy_attach_detach(r, "attach");
}

static int
policy_detach(struct admin_run *r)
{
    return policy_attach_detach(r, "detach");
}

static int
policy_remove(struct admin_run *r)
{
    const char *name = r->args[1];
    struct buf path = BUF_INIT;
    int rc = 1;

    if (admin_run_path(r, &path, "policies", name, NULL) < 0 ||
        admin_run_call(r, "DELETE", path.ptr, NULL, SLICE_NULL, NULL) < 0)
        goto out;
    rc = admin_run_done(r, json_pack("{s:s}", "policy", name), "Removed policy `%s` successfully.",
                        name);
out:
    buf_release(&path);
    return rc;
}

#define OPT_WHO 0x3 /* --user, --group */

static const struct admin_verb verbs[] = {
    { "create", "ALIAS NAME FILE.json",
      "Creates (or replaces) the IAM policy NAME from an AWS policy document; the server checks "
      "it and says where it is wrong.",
      3, 3, 0, policy_create },
    { "list", "ALIAS",
      "Lists the policies, the canned ones included, and how often each is attached.", 1, 1, 0,
      policy_list },
    { "info", "ALIAS NAME", "Prints a policy's document.", 2, 2, 0, policy_info },
    { "attach", "ALIAS POLICY... --user USER | --group GROUP",
      "Attaches policies to a user or a group; stops at the first that fails.", 2, -1, OPT_WHO,
      policy_attach },
    { "detach", "ALIAS POLICY... --user USER | --group GROUP",
      "Detaches policies from a user or a group; stops at the first that fails.", 2, -1, OPT_WHO,
      policy_detach },
    { "remove", "ALIAS NAME", "Deletes a policy; refused (DeleteConflict) while it is attached.", 2,
      2, 0, policy_remove },
};

int
cmd_admin_policy(int argc, char **argv)
{
    struct policy_opts o = { 0 };
    const struct opt opts[] = {
        { "--user", NULL, OPT_STR, &o.user, "the user to attach to or detach from" },
        { "--group", NULL, OPT_STR, &o.group, "the group to attach to or detach from" },
    };

    return admin_dispatch("policy", verbs, ARRAY_SIZE(verbs), opts, ARRAY_SIZE(opts), &o, argc,
                          argv);
}

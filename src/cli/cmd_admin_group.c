/*
 * cli/cmd_admin_group.c: `basalt admin group add|remove|list|info|enable|disable`,
 * with mc admin's argument order, over the admin API (s3/admin_iam.c):
 *
 *   add ALIAS GROUP [MEMBER...]     PUT groups/GROUP {"members"}; when the group
 *                                   exists: POST groups/GROUP/members {"add"}
 *   remove ALIAS GROUP MEMBER...    POST groups/GROUP/members {"remove"}
 *   remove ALIAS GROUP [--force]    DELETE groups/GROUP[?force=true] (refused
 *                                   while it has members or policies, unless forced)
 *   list ALIAS                      GET groups
 *   info ALIAS GROUP                GET groups/GROUP
 *   enable|disable ALIAS GROUP      POST groups/GROUP/enable|disable
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/admin_run.h"

struct group_opts {
    bool force;
};

static json_t *
members_array(struct admin_run *r)
{
    json_t *a = json_array();
    int i;

    for (i = 2; i < r->nargs; i++)
        json_array_append_new(a, json_string(r->args[i]));
    return a;
}

/* Creates the group with its members, or adds them when it exists already. */
static int
group_add(struct admin_run *r)
{
    const char *group = r->args[1];
    struct buf path = BUF_INIT, members = BUF_INIT;
    struct admin_err err;
    json_t *body = json_pack("{s:o}", "members", members_array(r));
    char *text = json_dumps(body, JSON_COMPACT);
    int rc = 1;

    admin_err_init(&err);
    if (admin_run_path(r, &path, "groups", group, NULL) < 0)
        goto out;
    if (admin_run_request(r, "PUT", path.ptr, NULL, slice_cstr(text), NULL, &err) < 0) {
        if (strcmp(err.code.ptr, "EntityAlreadyExists") != 0 || r->nargs < 3) {
            admin_run_fail(r, &err);
            goto out;
        }
        buf_adds(&path, "/members");
        if (admin_run_call_json(r, "POST", path.ptr, json_pack("{s:o}", "add", members_array(r)),
                                NULL) < 0)
            goto out;
    }
    admin_join(json_object_get(body, "members"), &members);
    rc = admin_run_done(
        r, json_pack("{s:s, s:O}", "group", group, "members", json_object_get(body, "members")),
        r->nargs > 2 ? "Added members `%s` to group `%s` successfully."
                     : "Added group `%s%s` successfully.",
        r->nargs > 2 ? members.ptr : "", group);
out:
    admin_err_release(&err);
    json_decref(body);
    free(text);
    buf_release(&path);
    buf_release(&members);
    return rc;
}

static int
group_remove(struct admin_run *r)
{
    const struct group_opts *o = r->opts;
    const char *group = r->args[1];
    struct buf path = BUF_INIT, members = BUF_INIT;
    json_t *a;
    int rc = 1;

    if (admin_run_path(r, &path, "groups", group, r->nargs > 2 ? "members" : NULL) < 0)
        goto out;
    if (r->nargs > 2) {
        a = members_array(r);
        admin_join(a, &members);
        if (admin_run_call_json(r, "POST", path.ptr, json_pack("{s:O}", "remove", a), NULL) < 0) {
            json_decref(a);
            goto out;
        }
        rc = admin_run_done(r, json_pack("{s:s, s:o}", "group", group, "removed", a),
                            "Removed members `%s` from group `%s` successfully.", members.ptr,
                            group);
        goto out;
    }
    if (admin_run_call(r, "DELETE", path.ptr, o->force ? "force=true" : NULL, SLICE_NULL, NULL) < 0)
        goto out;
    rc = admin_run_done(r, json_pack("{s:s}", "group", group), "Removed group `%s` successfully.",
                        group);
out:
    buf_release(&path);
    buf_release(&members);
    return rc;
}

static int
group_list(struct admin_run *r)
{
    json_t *out = NULL, *rows, *g;
    size_t i;

    if (admin_run_call(r, "GET", "groups", NULL, SLICE_NULL, &out) < 0)
        return 1;
    rows = json_pack("[[s,s,s,s]]", "STATUS", "GROUP", "MEMBERS", "POLICIES");
    json_array_foreach(json_object_get(out, "groups"), i, g)
    {
        struct buf mem = BUF_INIT, pol = BUF_INIT;

        if (r->cli.json) {
            admin_run_json(json_incref(g));
            continue;
        }
        admin_join(json_object_get(g, "members"), &mem);
        admin_join(json_object_get(g, "policies"), &pol);
        json_array_append_new(
            rows, json_pack("[s,s,s,s]",
                            json_is_true(json_object_get(g, "enabled")) ? "enabled" : "disabled",
                            json_string_value(json_object_get(g, "name")), mem.ptr, pol.ptr));
        buf_release(&mem);
        buf_release(&pol);
    }
    if (!r->cli.json && json_array_size(rows) > 1)
        admin_table_print(rows);
    json_decref(rows);
    json_decref(out);
    return 0;
}

static int
group_info(struct admin_run *r)
{
    struct buf path = BUF_INIT, mem = BUF_INIT, pol = BUF_INIT;
    json_t *g = NULL;
    int rc = 1;

    if (admin_run_path(r, &path, "groups", r->args[1], NULL) < 0 ||
        admin_run_call(r, "GET", path.ptr, NULL, SLICE_NULL, &g) < 0)
        goto out;
    rc = 0;
    if (r->cli.json) {
        admin_run_json(json_incref(g));
        goto out;
    }
    admin_join(json_object_get(g, "members"), &mem);
    admin_join(json_object_get(g, "policies"), &pol);
    printf("Group: %s\nStatus: %s\nPolicy: %s\nMembers: %s\n",
           json_string_value(json_object_get(g, "name")),
           json_is_true(json_object_get(g, "enabled")) ? "enabled" : "disabled", pol.ptr, mem.ptr);
out:
    json_decref(g);
    buf_release(&path);
    buf_release(&mem);
    buf_release(&pol);
    return rc;
}

static int
group_set_enabled(struct admin_run *r, bool enable)
{
    const char *group = r->args[1];
    struct buf path = BUF_INIT;
    int rc = 1;

    if (admin_run_path(r, &path, "groups", group, enable ? "enable" : "disable") < 0 ||
        admin_run_call(r, "POST", path.ptr, NULL, SLICE_NULL, NULL) < 0)
        goto out;
    rc = admin_run_done(r, json_pack("{s:s, s:b}", "group", group, "enabled", (int)enable),
                        "%s group `%s` successfully.", enable ? "Enabled" : "Disabled", group);
out:
    buf_release(&path);
    return rc;
}

static int
group_enable(struct admin_run *r)
{
    return group_set_enabled(r, true);
}

static int
group_disable(struct admin_run *r)
{
    return group_set_enabled(r, false);
}

#define OPT_FORCE 0x1

static const struct admin_verb verbs[] = {
    { "add", "ALIAS GROUP [MEMBER...]",
      "Creates GROUP if it does not exist and adds the users MEMBER... to it.", 2, -1, 0,
      group_add },
    { "remove", "ALIAS GROUP [MEMBER...]",
      "Removes the users MEMBER... from GROUP; without members, deletes the group (refused while "
      "it has members or attached policies, unless --force).",
      2, -1, OPT_FORCE, group_remove },
    { "list", "ALIAS", "Lists the groups: status, members, attached policies.", 1, 1, 0,
      group_list },
    { "info", "ALIAS GROUP", "Shows a group: status, attached policies, members.", 2, 2, 0,
      group_info },
    { "enable", "ALIAS GROUP", "Enables a group: its policies apply to its members again.", 2, 2, 0,
      group_enable },
    { "disable", "ALIAS GROUP", "Disables a group: its policies no longer apply to its members.", 2,
      2, 0, group_disable },
};

int
cmd_admin_group(int argc, char **argv)
{
    struct group_opts o = { 0 };
    const struct opt opts[] = {
        { "--force", NULL, OPT_FLAG, &o.force,
          "remove: delete the group even with members or policies" },
    };

    return admin_dispatch("group", verbs, ARRAY_SIZE(verbs), opts, ARRAY_SIZE(opts), &o, argc,
                          argv);
}

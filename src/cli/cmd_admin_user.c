/*
 * cli/cmd_admin_user.c: `basalt admin user add|list|info|enable|disable|remove`,
 * with mc admin's argument order, over the admin API (s3/admin_iam.c):
 *
 *   add ALIAS ACCESS_KEY SECRET_KEY  PUT    users/ACCESS_KEY {"secret_key"}
 *   list ALIAS                       GET    users
 *   info ALIAS USER                  GET    users/USER
 *   enable|disable ALIAS USER        POST   users/USER/enable|disable
 *   remove ALIAS USER                DELETE users/USER
 *
 * A user's name is its first access key, as in mc.
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/admin_run.h"

static int
user_add(struct admin_run *r)
{
    const char *ak = r->args[1];
    struct buf path = BUF_INIT;
    json_t *out = NULL;
    int rc = 1;

    if (admin_run_path(r, &path, "users", ak, NULL) < 0)
        goto out;
    if (admin_run_call_json(r, "PUT", path.ptr, json_pack("{s:s}", "secret_key", r->args[2]),
                            &out) < 0)
        goto out;
    rc = admin_run_done(r, json_pack("{s:s, s:s, s:b}", "user", ak, "access_key", ak, "enabled", 1),
                        "Added user `%s` successfully.", ak);
out:
    json_decref(out);
    buf_release(&path);
    return rc;
}

/* The service accounts among a user's "keys". */
static size_t
count_service_accounts(const json_t *keys)
{
    const json_t *k;
    size_t i, n = 0;

    json_array_foreach(keys, i, k) n += json_is_true(json_object_get(k, "service_account"));
    return n;
}

static int
user_list(struct admin_run *r)
{
    json_t *out = NULL, *rows, *u;
    size_t i;

    if (admin_run_call(r, "GET", "users", NULL, SLICE_NULL, &out) < 0)
        return 1;
    rows = json_pack("[[s,s,s,s]]", "STATUS", "ACCESS KEY", "POLICIES", "GROUPS");
    json_array_foreach(json_object_get(out, "users"), i, u)
    {
        struct buf pol = BUF_INIT, grp = BUF_INIT;

        if (r->cli.json) {
            admin_run_json(json_incref(u));
            continue;
        }
        admin_join(json_object_get(u, "policies"), &pol);
        admin_join(json_object_get(u, "groups"), &grp);
        json_array_append_new(
            rows, json_pack("[s,s,s,s]",
                            json_is_true(json_object_get(u, "enabled")) ? "enabled" : "disabled",
                            json_string_value(json_object_get(u, "name")), pol.ptr, grp.ptr));
        buf_release(&pol);
        buf_release(&grp);
    }
    if (!r->cli.json && json_array_size(rows) > 1)
        admin_table_print(rows);
    json_decref(rows);
    json_decref(out);
    return 0;
}

static int
user_info(struct admin_run *r)
{
    struct buf path = BUF_INIT, pol = BUF_INIT, grp = BUF_INIT, created = BUF_INIT;
    json_t *u = NULL;
    int rc = 1;

    if (admin_run_path(r, &path, "users", r->args[1], NULL) < 0 ||
        admin_run_call(r, "GET", path.ptr, NULL, SLICE_NULL, &u) < 0)
        goto out;
    rc = 0;
    if (r->cli.json) {
        admin_run_json(json_incref(u));
        goto out;
    }
    admin_join(json_object_get(u, "policies"), &pol);
    admin_join(json_object_get(u, "groups"), &grp);
    admin_fmt_time(&created, json_integer_value(json_object_get(u, "created")), "-");
    printf("AccessKey: %s\nStatus: %s\nPolicyName: %s\nMemberOf: %s\nCreated: %s\n"
           "ServiceAccounts: %zu\n",
           json_string_value(json_object_get(u, "name")),
           json_is_true(json_object_get(u, "enabled")) ? "enabled" : "disabled", pol.ptr, grp.ptr,
           created.ptr, count_service_accounts(json_object_get(u, "keys")));
out:
    json_decref(u);
    buf_release(&path);
    buf_release(&pol);
    buf_release(&grp);
    buf_release(&created);
    return rc;
}

/* enable, disable and remove: one call on users/USER, one line of answer. */
static int
user_change(struct admin_run *r, const char *method, const char *verb, const char *done)
{
    const char *user = r->args[1];
    struct buf path = BUF_INIT;
    json_t *obj;
    int rc = 1;

    if (admin_run_path(r, &path, "users", user, verb) < 0 ||
        admin_run_call(r, method, path.ptr, NULL, SLICE_NULL, NULL) < 0)
        goto out;
    obj = json_pack("{s:s}", "user", user);
    if (verb)
        json_object_set_new(obj, "enabled", json_boolean(!strcmp(verb, "enable")));
    rc = admin_run_done(r, obj, "%s user `%s` successfully.", done, user);
out:
    buf_release(&path);
    return rc;
}

static int
user_enable(struct admin_run *r)
{
    return user_change(r, "POST", "enable", "Enabled");
}

static int
user_disable(struct admin_run *r)
{
    return user_change(r, "POST", "disable", "Disabled");
}

static int
user_remove(struct admin_run *r)
{
    return user_change(r, "DELETE", NULL, "Removed");
}

static const struct admin_verb verbs[] = {
    { "add", "ALIAS ACCESS_KEY SECRET_KEY",
      "Adds a user whose name and access key are ACCESS_KEY, with the secret key SECRET_KEY "
      "(8-40 characters). It has no rights until a policy is attached "
      "('basalt admin policy attach').",
      3, 3, 0, user_add },
    { "list", "ALIAS", "Lists the users: status, access key, attached policies, groups.", 1, 1, 0,
      user_list },
    { "info", "ALIAS USER",
      "Shows a user: status, attached policies, groups, creation date, service accounts.", 2, 2, 0,
      user_info },
    { "enable", "ALIAS USER", "Enables a user (and its keys and service accounts).", 2, 2, 0,
      user_enable },
    { "disable", "ALIAS USER",
      "Disables a user: its keys, service accounts and sessions are refused at once.", 2, 2, 0,
      user_disable },
    { "remove", "ALIAS USER",
      "Removes a user with its keys, service accounts and group memberships.", 2, 2, 0,
      user_remove },
};

int
cmd_admin_user(int argc, char **argv)
{
    return admin_dispatch("user", verbs, ARRAY_SIZE(verbs), NULL, 0, NULL, argc, argv);
}

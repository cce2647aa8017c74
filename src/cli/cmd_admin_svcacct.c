/*
 * cli/cmd_admin_svcacct.c: `basalt admin svcacct add|list|info|edit|enable|
 * disable|remove`, with mc admin's argument order, over the admin API
 * (s3/admin_iam.c):
 *
 *   add ALIAS USER [FLAGS]         POST   service-accounts {"parent": USER, ...}:
 *                                  prints the new key pair, the only time the
 *                                  secret is shown
 *   list ALIAS USER                GET    service-accounts?user=USER
 *   info ALIAS KEY                 GET    service-accounts/KEY
 *   edit ALIAS KEY [FLAGS]         POST   service-accounts/KEY {...}
 *   enable|disable ALIAS KEY       POST   service-accounts/KEY {"enabled": B}
 *   remove ALIAS KEY               DELETE service-accounts/KEY
 *
 * --policy FILE.json is sent as a string, so the server parses it and says
 * where it is wrong; --expiry is a duration from now (7d, 12h) or an RFC 3339
 * time, sent as unix seconds.
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/admin_run.h"
#include "cli/parse.h"
#include "util/clock.h"

struct svcacct_opts {
    const char *access_key;
    const char *secret_key;
    const char *policy; /* a file */
    const char *expiry;
    const char *name;
    const char *description;
};

/* "7d" (from now) or "2025-01-02T03:04:05Z" into unix seconds; -1 if neither. */
static int64_t
expiry_time(const char *arg)
{
    int64_t v;

    if (parse_duration(arg, &v) == 0 && v > 0)
        return clock_now_ns() / 1000000000 + v;
    if (parse_rfc3339(arg, &v) == 0 && v > 0)
        return v;
    return -1;
}

/*
 * The flags of add and edit into `body`. 0, 2 on a usage error (printed),
 * or 1 after printing why a policy file cannot be read.
 */
static int
flags_body(struct admin_run *r, json_t *body)
{
    const struct svcacct_opts *o = r->opts;
    struct buf doc = BUF_INIT;
    int64_t exp;

    if (o->expiry) {
        exp = expiry_time(o->expiry);
        if (exp < 0 || exp <= clock_now_ns() / 1000000000) {
            fprintf(stderr,
                    "basalt: %s: --expiry: '%s' is neither a duration (90m, 12h, 7d) nor a "
                    "future RFC 3339 time (2030-01-02T03:04:05Z)\n",
                    r->cli.cmd, o->expiry);
            return 2;
        }
        json_object_set_new(body, "expiry", json_integer(exp));
    }
    if (o->policy) {
        if (admin_run_read_file(r, o->policy, &doc) < 0)
            return 1;
        json_object_set_new(body, "policy", json_stringn(doc.ptr, doc.len));
        buf_release(&doc);
    }
    if (o->access_key)
        json_object_set_new(body, "access_key", json_string(o->access_key));
    if (o->secret_key)
        json_object_set_new(body, "secret_key", json_string(o->secret_key));
    if (o->name)
        json_object_set_new(body, "name", json_string(o->name));
    if (o->description)
        json_object_set_new(body, "description", json_string(o->description));
    return 0;
}

static int
svcacct_add(struct admin_run *r)
{
    json_t *body = json_pack("{s:s}", "parent", r->args[1]), *out = NULL, *exp;
    struct buf when = BUF_INIT;
    int rc;

    rc = flags_body(r, body);
    exp = json_incref(json_object_get(body, "expiry"));
    if (rc)
        goto out;
    rc = 1;
    if (admin_run_call_json(r, "POST", "service-accounts", json_incref(body), &out) < 0)
        goto out;
    admin_fmt_time(&when, json_integer_value(exp), "no-expiry");
    if (r->cli.json) {
        if (exp)
            json_object_set(out, "expires", exp);
        admin_run_json(json_incref(out));
    } else {
        printf("Access Key: %s\nSecret Key: %s\nExpiration: %s\n",
               json_string_value(json_object_get(out, "access_key")),
               json_string_value(json_object_get(out, "secret_key")), when.ptr);
    }
    rc = 0;
out:
    json_decref(exp);
    json_decref(body);
    json_decref(out);
    buf_release(&when);
    return rc;
}

static int
svcacct_list(struct admin_run *r)
{
    struct buf q = BUF_INIT;
    json_t *out = NULL, *rows, *k;
    size_t i;

    client_query_add(&q, "user", r->args[1]);
    if (admin_run_call(r, "GET", "service-accounts", q.ptr, SLICE_NULL, &out) < 0) {
        buf_release(&q);
        return 1;
    }
    rows = json_pack("[[s,s,s,s]]", "ACCESS KEY", "STATUS", "EXPIRES", "NAME");
    json_array_foreach(json_object_get(out, "service_accounts"), i, k)
    {
        struct buf when = BUF_INIT;

        if (r->cli.json) {
            admin_run_json(json_incref(k));
            continue;
        }
        admin_fmt_time(&when, json_integer_value(json_object_get(k, "expires")), "no-expiry");
        json_array_append_new(
            rows, json_pack("[s,s,s,s]", json_string_value(json_object_get(k, "access_key")),
                            json_is_true(json_object_get(k, "enabled")) ? "enabled" : "disabled",
                            when.ptr, json_string_value(json_object_get(k, "name"))));
        buf_release(&when);
    }
    if (!r->cli.json && json_array_size(rows) > 1)
        admin_table_print(rows);
    json_decref(rows);
    json_decref(out);
    buf_release(&q);
    return 0;
}

static int
svcacct_info(struct admin_run *r)
{
    struct buf path = BUF_INIT, when = BUF_INIT;
    json_t *k = NULL;
    int rc = 1;

    if (admin_run_path(r, &path, "service-accounts", r->args[1], NULL) < 0 ||
        admin_run_call(r, "GET", path.ptr, NULL, SLICE_NULL, &k) < 0)
        goto out;
    rc = 0;
    if (r->cli.json) {
        admin_run_json(json_incref(k));
        goto out;
    }
    admin_fmt_time(&when, json_integer_value(json_object_get(k, "expires")), "no-expiry");
    printf("AccessKey: %s\nParentUser: %s\nStatus: %s\nName: %s\nDescription: %s\n"
           "Policy: %s\nExpiration: %s\n",
           json_string_value(json_object_get(k, "access_key")),
           json_string_value(json_object_get(k, "user")),
           json_is_true(json_object_get(k, "enabled")) ? "enabled" : "disabled",
           json_string_value(json_object_get(k, "name")),
           json_string_value(json_object_get(k, "description")),
           json_object_get(k, "policy") ? "embedded" : "implied (the parent's)", when.ptr);
out:
    json_decref(k);
    buf_release(&path);
    buf_release(&when);
    return rc;
}

/* POST service-accounts/KEY with `body` (taken), then one line of answer. */
static int
svcacct_post(struct admin_run *r, json_t *body, const char *done)
{
    const char *key = r->args[1];
    struct buf path = BUF_INIT;
    json_t *obj = json_pack("{s:s}", "access_key", key);
    int rc = 1;

    json_object_update(obj, body);
    json_object_del(obj, "secret_key");
    json_object_del(obj, "policy");
    if (admin_run_path(r, &path, "service-accounts", key, NULL) < 0 ||
        admin_run_call_json(r, "POST", path.ptr, body, NULL) < 0) {
        json_decref(obj);
        goto out;
    }
    rc = admin_run_done(r, obj, "%s service account `%s` successfully.", done, key);
out:
    buf_release(&path);
    return rc;
}

static int
svcacct_edit(struct admin_run *r)
{
    const struct svcacct_opts *o = r->opts;
    json_t *body = json_object();
    int rc;

    if (!o->secret_key && !o->policy && !o->expiry && !o->name && !o->description) {
        json_decref(body);
        fprintf(stderr,
                "basalt: %s: nothing to change: give --secret-key, --policy, --expiry, --name "
                "or --description\n",
                r->cli.cmd);
        return 2;
    }
    rc = flags_body(r, body);
    if (rc) {
        json_decref(body);
        return rc;
    }
    return svcacct_post(r, body, "Edited");
}

static int
svcacct_enable(struct admin_run *r)
{
    return svcacct_post(r, json_pack("{s:b}", "enabled", 1), "Enabled");
}

static int
svcacct_disable(struct admin_run *r)
{
    return svcacct_post(r, json_pack("{s:b}", "enabled", 0), "Disabled");
}

static int
svcacct_remove(struct admin_run *r)
{
    const char *key = r->args[1];
    struct buf path = BUF_INIT;
    int rc = 1;

    if (admin_run_path(r, &path, "service-accounts", key, NULL) < 0 ||
        admin_run_call(r, "DELETE", path.ptr, NULL, SLICE_NULL, NULL) < 0)
        goto out;
    rc = admin_run_done(r, json_pack("{s:s}", "access_key", key),
                        "Removed service account `%s` successfully.", key);
out:
    buf_release(&path);
    return rc;
}

/* Option bits, in the order of the table in cmd_admin_svcacct. */
#define OPT_ACCESS_KEY 0x01
#define OPT_EDIT 0x3e /* --secret-key --policy --expiry --name --description */

static const struct admin_verb verbs[] = {
    { "add", "ALIAS USER [FLAGS]",
      "Adds a service account for USER (a user, or the root user): it has the user's rights, "
      "narrowed by --policy, and stops working when the user is disabled or removed. The new "
      "key pair is printed once: the secret cannot be read again.",
      2, 2, OPT_ACCESS_KEY | OPT_EDIT, svcacct_add },
    { "list", "ALIAS USER", "Lists a user's service accounts.", 2, 2, 0, svcacct_list },
    { "info", "ALIAS ACCESS_KEY", "Shows a service account (never its secret).", 2, 2, 0,
      svcacct_info },
    { "edit", "ALIAS ACCESS_KEY [FLAGS]",
      "Changes a service account's secret key, policy, expiry, name or description.", 2, 2,
      OPT_EDIT, svcacct_edit },
    { "enable", "ALIAS ACCESS_KEY", "Enables a service account.", 2, 2, 0, svcacct_enable },
    { "disable", "ALIAS ACCESS_KEY", "Disables a service account: it is refused at once.", 2, 2, 0,
      svcacct_disable },
    { "remove", "ALIAS ACCESS_KEY", "Removes a service account.", 2, 2, 0, svcacct_remove },
};

int
cmd_admin_svcacct(int argc, char **argv)
{
    struct svcacct_opts o = { 0 };
    const struct opt opts[] = {
        { "--access-key", NULL, OPT_STR, &o.access_key,
          "the access key (3-128 of [A-Za-z0-9+=,.@_-]; default: generated)" },
        { "--secret-key", NULL, OPT_STR, &o.secret_key,
          "the secret key (8-40 characters; default: generated)" },
        { "--policy", NULL, OPT_STR, &o.policy,
          "FILE.json: a policy narrowing the parent's rights" },
        { "--expiry", NULL, OPT_STR, &o.expiry,
          "a duration from now (90m, 12h, 7d) or an RFC 3339 time; default: never" },
        { "--name", NULL, OPT_STR, &o.name, "a name for people" },
        { "--description", NULL, OPT_STR, &o.description, "a description for people" },
    };

    return admin_dispatch("svcacct", verbs, ARRAY_SIZE(verbs), opts, ARRAY_SIZE(opts), &o, argc,
                          argv);
}

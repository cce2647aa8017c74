/*
 * s3/admin_iam.c: the admin API for identities and policies, JSON under
 * /basalt/admin/v1/ (SigV4-signed like every request; each endpoint is
 * authorized by its admin: action, so consoleAdmin is not the only way in).
 * The `basalt admin` commands and the console use it.
 *
 *   GET    users                       every user
 *   GET    users/NAME                  one user, with its keys and service accounts
 *   PUT    users/NAME                  {"secret_key"?}: user NAME with access key NAME
 *                                      (mc admin user add); a generated secret is returned
 *   DELETE users/NAME                  the user and everything it owns
 *   POST   users/NAME/enable|disable
 *   GET    groups | groups/NAME
 *   PUT    groups/NAME                 {"members"?: [..]}: creates it (with members)
 *   DELETE groups/NAME[?force=true]    refused while it has members or policies, unless forced
 *   POST   groups/NAME/members         {"add"?: [..], "remove"?: [..]}
 *   POST   groups/NAME/enable|disable
 *   GET    policies | policies/NAME
 *   PUT    policies/NAME               the policy document: creates or replaces
 *   DELETE policies/NAME               refused while attached
 *   POST   policies/NAME/attach|detach {"user": U} or {"group": G}
 *   GET    service-accounts[?user=U]
 *   GET    service-accounts/KEY
 *   POST   service-accounts            {"parent"?, "access_key"?, "secret_key"?, "policy"?,
 *                                       "expiry"? (unix seconds), "name"?, "description"?}
 *   POST   service-accounts/KEY        edit: {"secret_key"?, "policy"?, "expiry"?, "name"?,
 *                                       "description"?, "enabled"?}
 *   DELETE service-accounts/KEY
 *
 * A user may create, list, edit and delete its own service accounts without
 * any admin: right (as in MinIO). Errors are S3 XML error documents, as for
 * the rest of the admin API.
 */
#include "util/base.h"

#include <jansson.h>

#include "s3/internal.h"
#include "util/err.h"

#define ADMIN_BODY_MAX (64u * 1024) /* a policy (20 KiB) and the rest */

struct admin_req {
    const char *kind; /* "users", "groups", "policies", "service-accounts" */
    const char *name; /* NULL for the collection */
    const char *verb; /* "enable", "members", "attach"...; NULL for none */
};

/* ---- answers ---- */

static void
send_done(struct s3_call *call, int rc, const struct buf *msg)
{
    if (rc < 0)
        s3__send_error(call, rc, msg && msg->len ? msg->ptr : NULL);
    else
        s3__send_json(call, json_pack("{sb}", "ok", 1));
}

static json_t *
str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static int
user_json(void *arg, const struct iam_user_view *u)
{
    json_array_append_new(arg,
                          json_pack("{ss ss sI sb so so so}", "name", u->name, "id", u->id,
                                    "created", (json_int_t)u->created, "enabled", (int)u->enabled,
                                    "policies", str_array(u->policies, u->npolicies),
                                    "inline_policies", str_array(u->inline_names, u->ninline),
                                    "groups", str_array(u->groups, u->ngroups)));
    return 0;
}

static int
group_json(void *arg, const struct iam_group_view *g)
{
    json_array_append_new(arg,
                          json_pack("{ss ss sI sb so so so}", "name", g->name, "id", g->id,
                                    "created", (json_int_t)g->created, "enabled", (int)g->enabled,
                                    "members", str_array(g->members, g->nmembers), "policies",
                                    str_array(g->policies, g->npolicies), "inline_policies",
                                    str_array(g->inline_names, g->ninline)));
    return 0;
}

static int
policy_json(void *arg, const struct iam_policy_view *p)
{
    json_t *doc = json_loads(p->doc, 0, NULL);

    json_array_append_new(arg, json_pack("{ss so sI sI sb sI}", "name", p->name, "policy",
                                         doc ? doc : json_string(p->doc), "created",
                                         (json_int_t)p->created, "updated", (json_int_t)p->updated,
                                         "canned", (int)p->canned, "attachments",
                                         (json_int_t)p->attachments));
    return 0;
}

static int
key_json(void *arg, const struct iam_key_view *k)
{
    json_t *o =
        json_pack("{ss ss sb sb sI sI ss ss}", "access_key", k->access_key, "user", k->user,
                  "service_account", (int)k->service_account, "enabled", (int)k->enabled, "created",
                  (json_int_t)k->created, "expires", (json_int_t)k->expires, "name",
                  k->name ? k->name : "", "description", k->description ? k->description : "");

    if (k->policy) {
        json_t *doc = json_loads(k->policy, 0, NULL);

        json_object_set_new(o, "policy", doc ? doc : json_string(k->policy));
    }
    json_array_append_new(arg, o);
    return 0;
}

/* ---- authorization ---- */

/* 0 if the caller may do admin action `action`; else answered (AccessDenied). */
static int
admin_allowed(struct s3_call *call, const char *action)
{
    int rc = s3__check_access(call, action, NULL, NULL, NULL);

    if (rc < 0)
        s3__send_error(call, rc, NULL);
    return rc;
}

/* A user acting on its own service accounts needs no admin: right (MinIO's rule). */
static bool
is_self(struct s3_call *call, const char *user)
{
    return call->id->type == IAM_USER && user && !strcmp(call->id->user, user);
}

/* ---- request bodies ---- */

static json_t *
body_json(struct s3_call *call, struct slice body)
{
    json_error_t err;
    json_t *doc;

    if (!body.len)
        return json_object();
    doc = json_loadb(body.ptr, body.len, 0, &err);
    if (!doc || !json_is_object(doc)) {
        s3__send_error(call, -ERR_INVAL,
                       arena_printf(call->req->arena, "The body is not a JSON object: %s",
                                    doc ? "not an object" : err.text));
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static const char *
jstr(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* A "policy" member: a JSON object (dumped) or a string holding the document. */
static char *
jpolicy(json_t *o)
{
    json_t *p = json_object_get(o, "policy");

    if (json_is_string(p))
        return xstrdup(json_string_value(p));
    if (json_is_object(p))
        return json_dumps(p, JSON_COMPACT);
    return NULL;
}

/* ---- users ---- */

/* PUT users/NAME: the user, then its access key NAME (removed again if the key fails). */
static void
users_body(struct s3_call *call, int rc, struct slice body)
{
    struct admin_req *ar = call->handler_arg;
    struct iam *iam = call->s3->iam;
    struct buf msg = BUF_INIT, ak = BUF_INIT, sk = BUF_INIT;
    struct iam_new_key nk = { .user = ar->name, .access_key = ar->name };
    json_t *o;

    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    if (!(o = body_json(call, body)))
        return;
    nk.secret = jstr(o, "secret_key");
    rc = iam_user_create(iam, ar->name, NULL, NULL, &msg);
    if (rc == 0) {
        rc = iam_key_create(iam, &nk, &ak, &sk, &msg);
        if (rc < 0)
            iam_user_delete(iam, ar->name, true, NULL);
    }
    if (rc < 0) {
        send_done(call, rc, &msg);
    } else {
        json_t *out = json_pack("{ss ss}", "user", ar->name, "access_key", ak.ptr);

        if (!nk.secret) /* generated: shown once, here */
            json_object_set_new(out, "secret_key", json_string(sk.ptr));
        s3__send_json(call, out);
    }
    json_decref(o);
    buf_release(&msg);
    buf_release_secure(&ak);
    buf_release_secure(&sk);
}

static void
admin_users(struct s3_call *call, struct admin_req *ar, const char *m)
{
    struct iam *iam = call->s3->iam;
    struct buf msg = BUF_INIT;
    json_t *a;
    int rc;

    if (!ar->name) {
        if (strcmp(m, "GET") != 0) {
            s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
            return;
        }
        if (admin_allowed(call, "admin:ListUsers") < 0)
            return;
        a = json_array();
        rc = iam_user_list(iam, NULL, user_json, a);
        if (rc < 0) {
            json_decref(a);
            send_done(call, rc, NULL);
            return;
        }
        s3__send_json(call, json_pack("{so}", "users", a));
        return;
    }
    if (ar->verb) {
        bool enable = !strcmp(ar->verb, "enable");

        if (strcmp(m, "POST") != 0 || (!enable && strcmp(ar->verb, "disable") != 0)) {
            s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
            return;
        }
        if (admin_allowed(call, enable ? "admin:EnableUser" : "admin:DisableUser") < 0)
            return;
        send_done(call, iam_user_set_enabled(iam, ar->name, enable), NULL);
        return;
    }
    if (!strcmp(m, "GET")) {
        json_t *keys, *u;

        if (!is_self(call, ar->name) && admin_allowed(call, "admin:GetUser") < 0)
            return;
        a = json_array();
        rc = iam_user_list(iam, ar->name, user_json, a);
        if (rc < 0) {
            json_decref(a);
            send_done(call, rc, NULL);
            return;
        }
        keys = json_array();
        iam_key_list(iam, ar->name, NULL, false, key_json, keys);
        iam_key_list(iam, ar->name, NULL, true, key_json, keys);
        u = json_incref(json_array_get(a, 0));
        json_object_set_new(u, "keys", keys);
        json_decref(a);
        s3__send_json(call, u);
        return;
    }
    if (!strcmp(m, "PUT")) {
        if (admin_allowed(call, "admin:CreateUser") < 0)
            return;
        s3__expect_small_body_max(call, ADMIN_BODY_MAX, users_body);
        return;
    }
    if (!strcmp(m, "DELETE")) {
        if (admin_allowed(call, "admin:DeleteUser") < 0)
            return;
        rc = iam_user_delete(iam, ar->name, true, &msg);
        send_done(call, rc, &msg);
        buf_release(&msg);
        return;
    }
    s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
}

/* ---- groups ---- */

/* Adds (`add`) or removes the users named in array `a`; the first error. */
static int
group_members(struct iam *iam, const char *group, json_t *a, bool add)
{
    size_t i;
    json_t *v;
    int rc;

    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            return -ERR_INVAL;
        rc = add ? iam_group_add_member(iam, group, json_string_value(v))
                 : iam_group_remove_member(iam, group, json_string_value(v));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void
groups_body(struct s3_call *call, int rc, struct slice body)
{
    struct admin_req *ar = call->handler_arg;
    struct iam *iam = call->s3->iam;
    struct buf msg = BUF_INIT;
    json_t *o;

    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    if (!(o = body_json(call, body)))
        return;
    if (!ar->verb) { /* PUT groups/NAME */
        rc = iam_group_create(iam, ar->name, &msg);
        if (rc == 0)
            rc = group_members(iam, ar->name, json_object_get(o, "members"), true);
    } else {
        rc = group_members(iam, ar->name, json_object_get(o, "add"), true);
        if (rc == 0)
            rc = group_members(iam, ar->name, json_object_get(o, "remove"), false);
    }
    send_done(call, rc, &msg);
    json_decref(o);
    buf_release(&msg);
}

static void
admin_groups(struct s3_call *call, struct admin_req *ar, const char *m)
{
    struct iam *iam = call->s3->iam;
    struct buf msg = BUF_INIT;
    struct slice v;
    json_t *a;
    int rc;

    if (!strcmp(m, "GET") && !ar->verb) {
        if (admin_allowed(call, ar->name ? "admin:GetGroup" : "admin:ListGroups") < 0)
            return;
        a = json_array();
        rc = iam_group_list(iam, ar->name, group_json, a);
        if (rc < 0) {
            json_decref(a);
            send_done(call, rc, NULL);
        } else if (ar->name) {
            s3__send_json(call, json_incref(json_array_get(a, 0)));
            json_decref(a);
        } else {
            s3__send_json(call, json_pack("{so}", "groups", a));
        }
        return;
    }
    if (!ar->name) {
        s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (ar->verb && (!strcmp(ar->verb, "enable") || !strcmp(ar->verb, "disable")) &&
        !strcmp(m, "POST")) {
        bool enable = !strcmp(ar->verb, "enable");

        if (admin_allowed(call, enable ? "admin:EnableGroup" : "admin:DisableGroup") < 0)
            return;
        send_done(call, iam_group_set_enabled(iam, ar->name, enable), NULL);
        return;
    }
    if ((ar->verb && !strcmp(ar->verb, "members") && !strcmp(m, "POST")) ||
        (!ar->verb && !strcmp(m, "PUT"))) {
        if (admin_allowed(call, "admin:AddUserToGroup") < 0)
            return;
        s3__expect_small_body_max(call, ADMIN_BODY_MAX, groups_body);
        return;
    }
    if (!ar->verb && !strcmp(m, "DELETE")) {
        bool force = http_req_param(call->req, "force", &v) && slice_eq_cstr(v, "true");

        if (admin_allowed(call, "admin:RemoveUserFromGroup") < 0)
            return;
        rc = iam_group_delete(iam, ar->name, force, &msg);
        send_done(call, rc, &msg);
        buf_release(&msg);
        return;
    }
    s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
}

/* ---- policies ---- */

static void
policy_put_body(struct s3_call *call, int rc, struct slice body)
{
    struct admin_req *ar = call->handler_arg;
    struct buf msg = BUF_INIT;

    if (rc == 0)
        rc = iam_policy_put(call->s3->iam, ar->name, body, true, &msg);
    send_done(call, rc, &msg);
    buf_release(&msg);
}

static void
policy_attach_body(struct s3_call *call, int rc, struct slice body)
{
    struct admin_req *ar = call->handler_arg;
    bool attach = !strcmp(ar->verb, "attach");
    const char *user, *group;
    json_t *o;

    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    if (!(o = body_json(call, body)))
        return;
    user = jstr(o, "user");
    group = jstr(o, "group");
    if (!user == !group) {
        s3__send_error(call, -ERR_INVAL, "Name either a \"user\" or a \"group\".");
    } else {
        enum iam_entity kind = user ? IAM_ENTITY_USER : IAM_ENTITY_GROUP;
        const char *name = user ? user : group;

        rc = attach ? iam_policy_attach(call->s3->iam, ar->name, kind, name)
                    : iam_policy_detach(call->s3->iam, ar->name, kind, name);
        send_done(call, rc, NULL);
    }
    json_decref(o);
}

static void
admin_policies(struct s3_call *call, struct admin_req *ar, const char *m)
{
    struct iam *iam = call->s3->iam;
    struct buf msg = BUF_INIT;
    json_t *a;
    int rc;

    if (!strcmp(m, "GET") && !ar->verb) {
        if (admin_allowed(call, ar->name ? "admin:GetPolicy" : "admin:ListUserPolicies") < 0)
            return;
        a = json_array();
        rc = iam_policy_list(iam, ar->name, policy_json, a);
        if (rc < 0) {
            json_decref(a);
            send_done(call, rc, NULL);
        } else if (ar->name) {
            s3__send_json(call, json_incref(json_array_get(a, 0)));
            json_decref(a);
        } else {
            s3__send_json(call, json_pack("{so}", "policies", a));
        }
        return;
    }
    if (!ar->name) {
        s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (!ar->verb && !strcmp(m, "PUT")) {
        if (admin_allowed(call, "admin:CreatePolicy") < 0)
            return;
        s3__expect_small_body_max(call, ADMIN_BODY_MAX, policy_put_body);
        return;
    }
    if (!ar->verb && !strcmp(m, "DELETE")) {
        if (admin_allowed(call, "admin:DeletePolicy") < 0)
            return;
        rc = iam_policy_delete(iam, ar->name, &msg);
        send_done(call, rc, &msg);
        buf_release(&msg);
        return;
    }
    if (ar->verb && (!strcmp(ar->verb, "attach") || !strcmp(ar->verb, "detach")) &&
        !strcmp(m, "POST")) {
        if (admin_allowed(call, "admin:AttachUserOrGroupPolicy") < 0)
            return;
        s3__expect_small_body_max(call, ADMIN_BODY_MAX, policy_attach_body);
        return;
    }
    s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
}

/* ---- service accounts ---- */

/* The owner of key `ak` into `user` (IAM_NAME_MAX + 1); -ERR_NO_SUCH_ENTITY. */
static int
key_owner_cb(void *arg, const struct iam_key_view *k)
{
    snprintf(arg, IAM_NAME_MAX + 1, "%s", k->user);
    return 0;
}

static int
svc_owner(struct iam *iam, const char *ak, char *user)
{
    user[0] = '\0';
    iam_key_list(iam, NULL, ak, true, key_owner_cb, user);
    return user[0] ? 0 : -ERR_NO_SUCH_ENTITY;
}

static int64_t
jexpiry(json_t *o, int64_t none)
{
    json_t *v = json_object_get(o, "expiry");

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : none;
}

static void
svc_create_body(struct s3_call *call, int rc, struct slice body)
{
    struct buf msg = BUF_INIT, ak = BUF_INIT, sk = BUF_INIT;
    struct iam_new_key nk = { .service_account = true };
    char *policy = NULL;
    json_t *o;

    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    if (!(o = body_json(call, body)))
        return;
    nk.user = jstr(o, "parent");
    if (!nk.user)
        nk.user = call->id->user; /* the caller's own */
    if (!is_self(call, nk.user) && admin_allowed(call, "admin:CreateServiceAccount") < 0)
        goto out;
    if (call->id->type == IAM_SERVICE_ACCOUNT || call->id->type == IAM_ASSUMED_ROLE) {
        s3__send_error(call, -ERR_ACCESS_DENIED,
                       "Service accounts and sessions cannot create service accounts.");
        goto out;
    }
    nk.access_key = jstr(o, "access_key");
    nk.secret = jstr(o, "secret_key");
    nk.policy = policy = jpolicy(o);
    nk.expires = jexpiry(o, 0);
    nk.name = jstr(o, "name");
    nk.description = jstr(o, "description");
    rc = iam_key_create(call->s3->iam, &nk, &ak, &sk, &msg);
    if (rc < 0)
        send_done(call, rc, &msg);
    else
        s3__send_json(call, json_pack("{ss ss ss}", "access_key", ak.ptr, "secret_key", sk.ptr,
                                      "parent", nk.user));
out:
    free(policy);
    json_decref(o);
    buf_release(&msg);
    buf_release_secure(&ak);
    buf_release_secure(&sk);
}

static void
svc_edit_body(struct s3_call *call, int rc, struct slice body)
{
    struct admin_req *ar = call->handler_arg;
    struct buf msg = BUF_INIT;
    char *policy = NULL;
    json_t *o, *en;

    if (rc < 0) {
        s3__send_error(call, rc, NULL);
        return;
    }
    if (!(o = body_json(call, body)))
        return;
    policy = jpolicy(o);
    rc = iam_key_edit(call->s3->iam, ar->name, jstr(o, "secret_key"), policy, jexpiry(o, -1),
                      jstr(o, "name"), jstr(o, "description"), &msg);
    en = json_object_get(o, "enabled");
    if (rc == 0 && json_is_boolean(en))
        rc = iam_key_set_enabled(call->s3->iam, ar->name, json_is_true(en));
    send_done(call, rc, &msg);
    free(policy);
    json_decref(o);
    buf_release(&msg);
}

static void
admin_service_accounts(struct s3_call *call, struct admin_req *ar, const char *m)
{
    struct iam *iam = call->s3->iam;
    char owner[IAM_NAME_MAX + 1];
    json_t *a;
    int rc;

    if (!ar->name) {
        struct slice u;
        const char *user = NULL;

        if (!strcmp(m, "POST")) {
            s3__expect_small_body_max(call, ADMIN_BODY_MAX, svc_create_body);
            return;
        }
        if (strcmp(m, "GET") != 0) {
            s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
            return;
        }
        if (http_req_param(call->req, "user", &u) && u.len)
            user = arena_slicedup(call->req->arena, u);
        else if (call->id->type == IAM_USER)
            user = call->id->user;
        if (!is_self(call, user) && admin_allowed(call, "admin:ListServiceAccounts") < 0)
            return;
        a = json_array();
        rc = iam_key_list(iam, user, NULL, true, key_json, a);
        if (rc < 0) {
            json_decref(a);
            send_done(call, rc, NULL);
            return;
        }
        s3__send_json(call, json_pack("{so}", "service_accounts", a));
        return;
    }
    rc = svc_owner(iam, ar->name, owner);
    if (rc < 0) {
        /* who may not see it learns nothing more than who may */
        if (admin_allowed(call, "admin:ListServiceAccounts") == 0)
            s3__send_error(call, rc, NULL);
        return;
    }
    if (!strcmp(m, "GET")) {
        if (!is_self(call, owner) && admin_allowed(call, "admin:ListServiceAccounts") < 0)
            return;
        a = json_array();
        iam_key_list(iam, NULL, ar->name, true, key_json, a);
        s3__send_json(call, json_incref(json_array_get(a, 0)));
        json_decref(a);
        return;
    }
    if (!strcmp(m, "POST")) {
        if (!is_self(call, owner) && admin_allowed(call, "admin:UpdateServiceAccount") < 0)
            return;
        s3__expect_small_body_max(call, ADMIN_BODY_MAX, svc_edit_body);
        return;
    }
    if (!strcmp(m, "DELETE")) {
        if (!is_self(call, owner) && admin_allowed(call, "admin:RemoveServiceAccount") < 0)
            return;
        send_done(call, iam_key_delete(iam, ar->name), NULL);
        return;
    }
    s3__send_error(call, -ERR_METHOD_NOT_ALLOWED, NULL);
}

/* ---- routing ---- */

bool
s3_admin_iam_path(const char *key)
{
    static const char *const kinds[] = { "users", "groups", "policies", "service-accounts" };
    size_t i, n;

    if (strncmp(key, "admin/v1/", 9) != 0)
        return false;
    key += 9;
    for (i = 0; i < ARRAY_SIZE(kinds); i++) {
        n = strlen(kinds[i]);
        if (!strncmp(key, kinds[i], n) && (key[n] == '\0' || key[n] == '/'))
            return true;
    }
    return false;
}

void
s3__admin_iam(struct s3_call *call)
{
    struct admin_req *ar = arena_zalloc(call->req->arena, sizeof(*ar));
    char *path = arena_strdup(call->req->arena, call->sys_key + 9), *p, *m;

    if (!call->s3->iam) {
        s3__send_error(call, -ERR_NOT_IMPLEMENTED, NULL);
        return;
    }
    if (call->id->type == IAM_ANONYMOUS) {
        s3__send_error(call, -ERR_ACCESS_DENIED, NULL);
        return;
    }
    ar->kind = path;
    if ((p = strchr(path, '/')) != NULL) {
        *p++ = '\0';
        ar->name = p;
        if ((p = strchr(p, '/')) != NULL) {
            *p++ = '\0';
            ar->verb = p;
        }
    }
    if ((ar->name && !ar->name[0]) || (ar->verb && (!ar->verb[0] || strchr(ar->verb, '/')))) {
        s3__send_error(call, -ERR_BAD_REQUEST, "The admin path is not valid.");
        return;
    }
    call->handler_arg = ar;
    m = arena_slicedup(call->req->arena, call->req->method);
    if (!strcmp(ar->kind, "users"))
        admin_users(call, ar, m);
    else if (!strcmp(ar->kind, "groups"))
        admin_groups(call, ar, m);
    else if (!strcmp(ar->kind, "policies"))
        admin_policies(call, ar, m);
    else
        admin_service_accounts(call, ar, m);
}

/*
 * cli/cmd_admin_service.c: `basalt admin service restart|stop ALIAS`, with
 * mc admin's argument order, over the admin API (s3/admin.c):
 *
 *   restart ALIAS   POST service/restart   -> {"action","all_acknowledged","nodes":[...]}
 *   stop ALIAS      POST service/stop
 *
 * The node at ALIAS tells every other node, answers with which nodes
 * acknowledged, and then every node that acknowledged stops gracefully (as
 * for SIGTERM) and, for a restart, starts again: the same binary, the same
 * arguments, the same PID. Neither is retried after a dropped connection
 * (admin_run.c: a second restart would restart the restarted server).
 */
#include "util/base.h"

#include "cli/commands.h"

#include "cli/admin_run.h"

#define SERVICE_ABOUT                                                                              \
    "restart: every node of the deployment at ALIAS stops gracefully (requests in flight\n"        \
    "  finish, new ones are refused) and starts again: the same binary with the same\n"            \
    "  arguments, the same process (PID), so systemd or docker see it keep running.\n"             \
    "  Needs the admin:ServiceRestart action.\n"                                                   \
    "stop: every node stops gracefully, as for SIGTERM, and exits with status 0; a\n"              \
    "  supervisor set to restart on failure only leaves it stopped. Needs\n"                       \
    "  admin:ServiceStop.\n"                                                                       \
    "\n"                                                                                           \
    "One line per node says whether it acknowledged (--json: one object per node,\n"               \
    "{\"status\",\"node\",\"action\",\"acknowledged\",\"this\"}). The command returns once the\n"  \
    "nodes acknowledged, before they serve again: GET /basalt/health/ready answers\n"              \
    "200 once a node does.\n"                                                                      \
    "\n"                                                                                           \
    "exit status: 0 every node acknowledged; 1 the request failed (AccessDenied, the\n"            \
    "server cannot be reached: nothing was restarted or stopped) or some node did\n"               \
    "not acknowledge (the others did act; each one missing is named on stderr);\n"                 \
    "2 usage error.\n"

/* One node of the answer: a line (or a JSON object), or a failure when it did not acknowledge. */
static void
print_node(struct admin_run *r, const char *action, const json_t *n)
{
    const char *node = json_string_value(json_object_get(n, "node"));
    const char *err = json_string_value(json_object_get(n, "error"));
    bool ack = json_is_true(json_object_get(n, "acknowledged"));
    bool self = json_is_true(json_object_get(n, "this"));

    node = node ? node : "?";
    if (!ack) {
        cli_fail(&r->cli, node, "did not acknowledge the %s: %s", action,
                 err ? err : "no reason given");
        return;
    }
    if (r->cli.json) {
        admin_run_json(json_pack("{s:s, s:s, s:b, s:b}", "node", node, "action", action,
                                 "acknowledged", 1, "this", (int)self));
        return;
    }
    printf("%s: %s%s\n", node, !strcmp(action, "restart") ? "restarting" : "stopping",
           self ? " (the node that was asked)" : "");
}

static int
service(struct admin_run *r, const char *action)
{
    struct buf path = BUF_INIT;
    json_t *out = NULL, *nodes, *n;
    size_t i, acked = 0;

    buf_addf(&path, "service/%s", action);
    if (admin_run_call(r, "POST", path.ptr, NULL, SLICE_NULL, &out) < 0)
        goto out;
    nodes = json_object_get(out, "nodes");
    json_array_foreach(nodes, i, n)
    {
        print_node(r, action, n);
        acked += json_is_true(json_object_get(n, "acknowledged"));
    }
    if (!r->cli.json)
        printf("%s of %s: %zu of %zu nodes acknowledged\n", action, r->args[0], acked,
               json_array_size(nodes));
out:
    json_decref(out);
    buf_release(&path);
    return 0; /* failures counted by cli_fail: admin_dispatch turns them into status 1 */
}

static int
service_restart(struct admin_run *r)
{
    return service(r, "restart");
}

static int
service_stop(struct admin_run *r)
{
    return service(r, "stop");
}

static const struct admin_verb verbs[] = {
    { "restart", "ALIAS",
      "Restarts every node of the deployment at ALIAS: each stops gracefully (requests in "
      "flight finish, new ones are refused) and starts again, the same binary with the same "
      "arguments and the same PID. Exit status 0 when every node acknowledged, 1 when the "
      "request failed or a node did not acknowledge. Needs admin:ServiceRestart.",
      1, 1, 0, service_restart },
    { "stop", "ALIAS",
      "Stops every node of the deployment at ALIAS gracefully, as SIGTERM does (the servers "
      "exit with status 0). Exit status 0 when every node acknowledged, 1 when the request "
      "failed or a node did not acknowledge. Needs admin:ServiceStop.",
      1, 1, 0, service_stop },
};

int
cmd_admin_service(int argc, char **argv)
{
    const char *verb = argc > 1 ? argv[1] : "";

    if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !*verb) {
        fprintf(*verb ? stdout : stderr,
                "usage: basalt admin service restart ALIAS [--json]\n"
                "       basalt admin service stop ALIAS [--json]\n\n" SERVICE_ABOUT);
        return *verb ? 0 : 2;
    }
    return admin_dispatch("service", verbs, ARRAY_SIZE(verbs), NULL, 0, NULL, argc, argv);
}

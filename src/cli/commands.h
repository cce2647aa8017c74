/*
 * cli/commands.h: the command table (after git's commands[] in git.c). One
 * file per command, cli/cmd_<name>.c, exposing cmd_<name>(argc, argv).
 */
#ifndef BASALT_CLI_COMMANDS_H
#define BASALT_CLI_COMMANDS_H

#include "util/base.h"

/* Dispatches argv[1] to its command; prints usage on an unknown one. */
int cli_main(int argc, char **argv);

int cmd_server(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* basalt admin user|group|policy|svcacct (cmd_admin_<group>.c): argv[0] is the group. */
int cmd_admin_user(int argc, char **argv);
int cmd_admin_service(int argc, char **argv);
int cmd_admin_group(int argc, char **argv);
int cmd_admin_policy(int argc, char **argv);
int cmd_admin_svcacct(int argc, char **argv);

int cmd_alias(int argc, char **argv);
int cmd_mb(int argc, char **argv);
int cmd_rb(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_tree(int argc, char **argv);
int cmd_du(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_head(int argc, char **argv);
int cmd_pipe(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_mv(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_mirror(int argc, char **argv);
int cmd_find(int argc, char **argv);
int cmd_share(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_cors(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_ping(int argc, char **argv);

/* cp and mv (cmd_cp.c): mv removes each source once copied. */
int cp_main(int argc, char **argv, bool move);

#endif

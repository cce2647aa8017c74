/*
 * cli/commands.h: the command table (after git's commands[] in git.c). One
 * file per command, cli/cmd_<name>.c, exposing cmd_<name>(argc, argv).
 */
#ifndef BASALT_CLI_COMMANDS_H
#define BASALT_CLI_COMMANDS_H

/* Dispatches argv[1] to its command; prints usage on an unknown one. */
int cli_main(int argc, char **argv);

int cmd_server(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif

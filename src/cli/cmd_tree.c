/* cli/cmd_tree.c: placeholder. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_tree(int argc, char **argv)
{
    fprintf(stderr, "basalt: tree: not implemented yet\n");
    return 1;
}

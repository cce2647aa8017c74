/* cli/cmd_find.c: placeholder. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_find(int argc, char **argv)
{
    fprintf(stderr, "basalt: find: not implemented yet\n");
    return 1;
}

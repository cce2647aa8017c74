/* cli/cmd_du.c: placeholder. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_du(int argc, char **argv)
{
    fprintf(stderr, "basalt: du: not implemented yet\n");
    return 1;
}

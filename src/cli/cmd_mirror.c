/* cli/cmd_mirror.c: placeholder. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_mirror(int argc, char **argv)
{
    fprintf(stderr, "basalt: mirror: not implemented yet\n");
    return 1;
}

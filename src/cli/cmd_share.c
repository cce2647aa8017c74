/* cli/cmd_share.c: placeholder. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_share(int argc, char **argv)
{
    fprintf(stderr, "basalt: share: not implemented yet\n");
    return 1;
}

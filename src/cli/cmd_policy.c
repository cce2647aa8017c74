/* cli/cmd_policy.c: placeholder. */
#include "util/base.h"

#include "cli/commands.h"

int
cmd_policy(int argc, char **argv)
{
    fprintf(stderr, "basalt: policy: not implemented yet\n");
    return 1;
}

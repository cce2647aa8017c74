/* src/main.c: argv -> cli_main(); nothing else. */
#include "util/base.h"

#include "cli/commands.h"

int
main(int argc, char **argv)
{
    return cli_main(argc, argv);
}

/*
 * cairn orchestrator: list, describe.
 */
#include "cli/cli.h"
#include "cli/cmd_component.h"

static int do_list(cli_ctx *ctx, int argc, char **argv)
{
  return cmd_component_list(ctx, "orchestrator", argc, argv);
}

static int do_describe(cli_ctx *ctx, int argc, char **argv)
{
  return cmd_component_describe(ctx, "orchestrator", argc, argv);
}

int cmd_orchestrator(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"list", do_list, "List the orchestrators."},
    {"describe", do_describe, "Show an orchestrator's configuration."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "orchestrator",
                      "Orchestrators: what runs the steps.", commands, argc,
                      argv);
}

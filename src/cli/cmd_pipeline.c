/*
 * cairn pipeline: run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_run_util.h"
#include "pipeline/pipeline.h"
#include "stack/stack.h"

static int64_t step_ms(const cairn_step_run *s)
{
  return s && s->ended_ms > s->started_ms ? s->ended_ms - s->started_ms : 0;
}

static void on_event(const cairn_pipeline_event *ev, void *payload)
{
  const cairn_step_run *s = ev->step_run;
  char took[32];
  size_t i;

  (void)payload;
  cli_format_duration(took, sizeof(took), step_ms(s));
  switch (ev->type) {
  case CAIRN_PIPELINE_STEP_STARTED:
    printf("Step '%s' has started.\n", ev->step);
    break;
  case CAIRN_PIPELINE_STEP_FINISHED:
    printf("Step '%s' has finished successfully in %s.\n", ev->step, took);
    break;
  case CAIRN_PIPELINE_STEP_CACHED:
    printf("Using cached version of step '%s'.\n", ev->step);
    break;
  case CAIRN_PIPELINE_STEP_FAILED:
    printf("Step '%s' failed after %s: %s\n", ev->step, took,
           s && s->error ? s->error : "unknown error");
    break;
  case CAIRN_PIPELINE_STEP_SKIPPED:
    printf("Step '%s' skipped: %s.\n", ev->step,
           s && s->error ? s->error : "a dependency did not complete");
    break;
  case CAIRN_PIPELINE_STEP_CANCELLED:
    printf("Step '%s' was cancelled.\n", ev->step);
    break;
  }
  for (i = 0; ev->type == CAIRN_PIPELINE_STEP_FINISHED && i < ev->noutputs;
       i++)
    printf("  output '%s' -> %s:%d\n", ev->outputs[i].output,
           ev->outputs[i].artifact, ev->outputs[i].version);
  fflush(stdout);
}

static const cli_opt run_opts[] = {
  {"stack", NULL, CLI_VALUE, "NAME", "Run on this stack (default: active)."},
  {"no-cache", NULL, CLI_FLAG, NULL, "Run every step, reusing nothing."},
  {"param", "p", CLI_MULTI, "KEY=VALUE",
   "A parameter, as $CAIRN_PARAM_<KEY> in steps; repeatable."},
  {"parallelism", NULL, CLI_VALUE, "N",
   "Steps run side by side at most (default: the orchestrator's)."},
  CLI_OPT_END};

static const cli_spec run_spec = {
  "cairn pipeline run FILE [--stack NAME] [--no-cache] "
  "[--param KEY=VALUE]... [--parallelism N]",
  "Run the pipeline in FILE on a stack and record every output.",
  run_opts, 1, 1, 0, 0};

static int parse_parallelism(const char *text, int *out)
{
  char *end;
  long n;

  *out = 0;
  if (!text)
    return 0;
  n = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || n < 1 || n > 1024)
    return cli_error("--parallelism must be a whole number from 1 to "
                     "1024, not '%s'", text);
  *out = (int)n;
  return 0;
}

static int do_run(cli_ctx *ctx, int argc, char **argv)
{
  cairn_pipeline_run_options opts = CAIRN_PIPELINE_RUN_OPTIONS_INIT;
  cairn_pipeline *p = NULL;
  cairn_live_stack *stack = NULL;
  const cairn_strlist *params;
  json_t *checked;
  cairn_run run = {0};
  cairn_store *store;
  cli_args args;
  char msg[1024];
  int rc, error;

  if ((rc = cli_parse(ctx, &run_spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  if (parse_parallelism(cli_value(&args, "parallelism"),
                        &opts.parallelism)) {
    cli_args_dispose(&args);
    return 1;
  }
  rc = 1;
  if (!(store = cli_store(ctx)))
    goto done;
  if (cairn_pipeline_load(&p, args.args[0]) < 0 ||
      cairn_live_stack_open(&stack, store, cli_value(&args, "stack")) < 0) {
    rc = cli_fail();
    goto done;
  }
  params = cli_values(&args, "param");
  opts.params = (const char *const *)params->items;
  opts.nparams = params->count;
  if (cairn_pipeline_params_parse(&checked, opts.params, opts.nparams) < 0) {
    rc = cli_fail();
    goto done;
  }
  json_decref(checked);
  opts.no_cache = cli_flag(&args, "no-cache");
  opts.on_event = on_event;

  printf("Running pipeline '%s' on stack '%s' (artifact store: %s).\n",
         p->name, stack->stack.name, stack->store->root);
  fflush(stdout);
  error = cairn_pipeline_run(&run, store, stack, p, &opts);
  snprintf(msg, sizeof(msg), "%s", cairn_error_last()->message);

  if (run.id) {
    printf("\n");
    cmd_run_print_steps(store, &run, stdout);
    printf("Run '%s' %s.\n", run.name, cairn_status_name(run.status));
  }
  rc = error < 0 ? cli_error("%s", msg) : 0;
done:
  cairn_run_dispose(&run);
  cairn_live_stack_free(stack);
  cairn_pipeline_free(p);
  cli_args_dispose(&args);
  return rc;
}

int cmd_pipeline(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"run", do_run, "Run a pipeline file on a stack."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "pipeline", "Pipelines: YAML files of steps.",
                      commands, argc, argv);
}

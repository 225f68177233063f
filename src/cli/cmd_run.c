/*
 * cairn run: list, describe, logs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/fs.h>

#include "cli/cli.h"
#include "cli/cmd_run_util.h"
#include "core/error.h"
#include "core/util.h"

/* ---------------------------------------------------------------- */
/* Shared helpers                                                    */
/* ---------------------------------------------------------------- */

char *cmd_run_metrics_text(const json_t *metrics)
{
  cairn_buf b = CAIRN_BUF_INIT;
  const char *key;
  json_t *v;

  json_object_foreach((json_t *)metrics, key, v) {
    if (b.size)
      cairn_buf_putc(&b, ' ');
    if (json_is_real(v)) {
      double d = json_real_value(v);

      /* four decimals for scores; exponents for the very large or small */
      if (d != 0 && (fabs(d) >= 1e6 || fabs(d) < 1e-3))
        cairn_buf_printf(&b, "%s=%.6g", key, d);
      else
        cairn_buf_printf(&b, "%s=%.4f", key, d);
    } else if (json_is_string(v)) {
      cairn_buf_printf(&b, "%s=%s", key, json_string_value(v));
    } else {
      char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
      cairn_buf_printf(&b, "%s=%s", key, text ? text : "?");
      free(text);
    }
  }
  return b.size ? cairn_buf_detach(&b) : (cairn_buf_dispose(&b), NULL);
}

char *cmd_run_outputs_text(cairn_store *store, const char *step_run_id)
{
  cairn_lineage_edge *edges = NULL;
  cairn_buf b = CAIRN_BUF_INIT;
  size_t n = 0, i;

  if (cairn_store_step_outputs(store, step_run_id, &edges, &n) < 0)
    return NULL;
  for (i = 0; i < n; i++)
    cairn_buf_printf(&b, "%s%s:%d", i ? "\n" : "", edges[i].artifact,
                     edges[i].version);
  cairn_lineage_list_free(edges, n);
  return cairn_buf_detach(&b);
}

int cmd_run_open_store(cairn_live_store **out, cairn_store *store,
                       const char *id)
{
  cairn_component c;
  int error;

  *out = NULL;
  if ((error = cairn_store_component_get(store, &c, "artifact_store",
                                         id)) < 0)
    return error;
  error = cairn_live_store_open(out, store, &c);
  cairn_component_dispose(&c);
  return error;
}

static int64_t step_ms(const cairn_step_run *s)
{
  return s->ended_ms > s->started_ms ? s->ended_ms - s->started_ms : 0;
}

void cmd_run_print_steps(cairn_store *store, const cairn_run *run,
                         FILE *out)
{
  static const char *const columns[] = {"STEP", "STATUS", "DURATION",
                                        "CACHED", "OUTPUTS"};
  cairn_step_run *steps = NULL;
  size_t n = 0, i;
  cli_table *t;
  char took[32];

  if (cairn_store_step_run_list(store, run->id, &steps, &n) < 0)
    return;
  t = cli_table_new(NULL, columns, 5);
  for (i = 0; i < n; i++) {
    char *outs = cmd_run_outputs_text(store, steps[i].id);
    int ran = steps[i].ended_ms > steps[i].started_ms ||
              (steps[i].status != CAIRN_STATUS_SKIPPED &&
               steps[i].status != CAIRN_STATUS_CANCELLED);
    cli_format_duration(took, sizeof(took), step_ms(&steps[i]));
    cli_table_addv(t, steps[i].step, cairn_status_name(steps[i].status),
                   ran ? took : "",
                   steps[i].status == CAIRN_STATUS_CACHED ? "yes" : "",
                   outs ? outs : "");
    free(outs);
  }
  cli_table_print(t, out);
  for (i = 0; i < n; i++) {
    char *m = cmd_run_metrics_text(steps[i].metrics);
    if (m)
      fprintf(out, "%s: %s\n", steps[i].step, m);
    free(m);
  }
  /* why each failed step failed, and where to read more */
  for (i = 0; i < n; i++)
    if (steps[i].status == CAIRN_STATUS_FAILED && steps[i].error &&
        *steps[i].error)
      fprintf(out, "%s failed: %s (its output: cairn run logs %s %s)\n",
              steps[i].step, steps[i].error, run->name, steps[i].step);
  cairn_step_run_list_free(steps, n);
}

static char *stack_name(cairn_store *store, const char *id)
{
  cairn_stack s;
  char *name;

  if (!id || cairn_store_stack_get(store, &s, id) < 0)
    return strdup(id ? id : "");
  name = strdup(s.name);
  cairn_stack_dispose(&s);
  return name;
}

static int64_t run_ms(const cairn_run *r)
{
  int64_t end = r->ended ? r->ended : cairn_time_now();

  return end > r->started ? (end - r->started) * 1000 : 0;
}

/* ---------------------------------------------------------------- */
/* list                                                              */
/* ---------------------------------------------------------------- */

static const cli_opt list_opts[] = {
  {"pipeline", NULL, CLI_VALUE, "NAME", "Only the runs of this pipeline."},
  CLI_OPT_END};

static const cli_spec list_spec = {
  "cairn run list [--pipeline NAME] [--output json]",
  "List pipeline runs, newest first.", list_opts, 0, 0, 0, 1};

static int do_list(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"RUN NAME", "RUN ID", "PIPELINE",
                                        "STATUS", "STACK", "STARTED",
                                        "DURATION"};
  cairn_run *runs = NULL;
  cairn_store *store;
  cli_table *t;
  cli_args args;
  size_t n = 0, i;
  char started[32], took[32];
  int rc;

  if ((rc = cli_parse(ctx, &list_spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  rc = 1;
  if (!(store = cli_store(ctx)))
    goto done;
  cairn_store_run_reap(store);
  if (cairn_store_run_list(store, cli_value(&args, "pipeline"), &runs,
                           &n) < 0) {
    rc = cli_fail();
    goto done;
  }
  rc = 0;
  if (n == 0 && !ctx->json) {
    cli_say("No runs found.");
    goto done;
  }
  t = cli_table_new(NULL, columns, 7);
  for (i = 0; i < n; i++) {
    char *stack = stack_name(store, runs[i].stack_id);
    cli_format_time(started, sizeof(started), runs[i].started);
    cli_format_duration(took, sizeof(took), run_ms(&runs[i]));
    cli_table_addv(t, runs[i].name, runs[i].id, runs[i].pipeline,
                   cairn_status_name(runs[i].status), stack, started, took);
    cli_table_row_json(t, json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "run_name",
        runs[i].name, "run_id", runs[i].id, "pipeline", runs[i].pipeline,
        "status", cairn_status_name(runs[i].status), "stack",
        stack ? stack : "",
        "started", (json_int_t)runs[i].started, "ended",
        (json_int_t)runs[i].ended, "duration_ms",
        (json_int_t)run_ms(&runs[i])));
    free(stack);
  }
  cli_table_emit(ctx, t);
done:
  cairn_run_list_free(runs, n);
  cli_args_dispose(&args);
  return rc;
}

/* ---------------------------------------------------------------- */
/* describe                                                          */
/* ---------------------------------------------------------------- */

static const cli_spec describe_spec = {
  "cairn run describe RUN [--output json]",
  "Show a run: its steps, their status, durations, cache hits, outputs "
  "and metrics.  RUN is a run name or an id prefix.",
  NULL, 1, 1, 0, 1};

static json_t *step_json(cairn_store *store, const cairn_step_run *s)
{
  cairn_lineage_edge *edges = NULL;
  size_t n = 0, i;
  json_t *outs = json_array();
  json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:b,s:s?,s:s?,s:i,s:s?,s:s?}",
                        "step", s->step, "id", s->id, "status",
                        cairn_status_name(s->status), "duration_ms",
                        (json_int_t)step_ms(s), "cached",
                        s->status == CAIRN_STATUS_CACHED, "cached_from",
                        s->cached_from, "cache_key", s->cache_key,
                        "exit_code", s->exit_code, "error", s->error,
                        "log_uri", s->log_uri);

  if (cairn_store_step_outputs(store, s->id, &edges, &n) == 0) {
    for (i = 0; i < n; i++)
      json_array_append_new(outs, json_pack("{s:s,s:s,s:i,s:s}", "output",
                                            edges[i].name, "artifact",
                                            edges[i].artifact, "version",
                                            edges[i].version, "version_id",
                                            edges[i].version_id));
    cairn_lineage_list_free(edges, n);
  }
  json_object_set_new(o, "outputs", outs);
  json_object_set(o, "metrics", s->metrics ? s->metrics : json_object());
  return o;
}

static void describe_json(cairn_store *store, const cairn_run *r,
                          const char *stack)
{
  cairn_step_run *steps = NULL;
  size_t n = 0, i;
  json_t *arr = json_array();
  json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:s?,s:s,s:I,s:I,s:I}",
                        "id", r->id, "name", r->name, "pipeline",
                        r->pipeline, "number", r->number, "status",
                        cairn_status_name(r->status), "stack", stack,
                        "stack_id", r->stack_id, "artifact_store_id",
                        r->artifact_store_id, "started",
                        (json_int_t)r->started, "ended",
                        (json_int_t)r->ended, "duration_ms",
                        (json_int_t)run_ms(r));

  json_object_set(o, "params", r->params ? r->params : json_object());
  if (cairn_store_step_run_list(store, r->id, &steps, &n) == 0) {
    for (i = 0; i < n; i++)
      json_array_append_new(arr, step_json(store, &steps[i]));
    cairn_step_run_list_free(steps, n);
  }
  json_object_set_new(o, "steps", arr);
  cli_json_emit(o);
}

static int do_describe(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"PROPERTY", "VALUE"};
  cairn_store *store;
  cairn_run r = {0};
  cli_table *t;
  cli_args args;
  char started[32], took[32], *stack = NULL, *params = NULL;
  int rc;

  if ((rc = cli_parse(ctx, &describe_spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  rc = 1;
  if (!(store = cli_store(ctx)))
    goto done;
  cairn_store_run_reap(store);
  if (cairn_store_run_get(store, &r, args.args[0]) < 0) {
    rc = cli_fail();
    goto done;
  }
  stack = stack_name(store, r.stack_id);
  rc = 0;
  if (ctx->json) {
    describe_json(store, &r, stack);
    goto done;
  }
  cli_format_time(started, sizeof(started), r.started);
  cli_format_duration(took, sizeof(took), run_ms(&r));
  params = json_object_size(r.params)
               ? json_dumps(r.params, JSON_COMPACT | JSON_SORT_KEYS)
               : NULL;
  t = cli_table_new(NULL, columns, 2);
  cli_table_addv(t, "RUN NAME", r.name);
  cli_table_addv(t, "RUN ID", r.id);
  cli_table_addv(t, "PIPELINE", r.pipeline);
  cli_table_addv(t, "STATUS", cairn_status_name(r.status));
  cli_table_addv(t, "STACK", stack);
  cli_table_addv(t, "ARTIFACT STORE", r.artifact_store_id);
  cli_table_addv(t, "STARTED", started);
  cli_table_addv(t, "DURATION", took);
  cli_table_addv(t, "PARAMETERS", params ? params : "");
  printf("Run '%s':\n", r.name);
  cli_table_print(t, stdout);
  printf("\nSteps:\n");
  cmd_run_print_steps(store, &r, stdout);
done:
  free(params);
  free(stack);
  cairn_run_dispose(&r);
  cli_args_dispose(&args);
  return rc;
}

/* ---------------------------------------------------------------- */
/* logs                                                              */
/* ---------------------------------------------------------------- */

static const cli_spec logs_spec = {
  "cairn run logs RUN [STEP]",
  "Print the logs of a run's steps, read back from the artifact store.",
  NULL, 1, 2, 0, 0};

/* Print the log at @p uri, read through its own folder of store @p ls. */
static int print_log(cairn_live_store *ls, const char *uri)
{
  cairn_fs_file *f = NULL;
  cairn_fs *fs;
  char chunk[16384], *dir;
  size_t n;
  int error, owned = 0;

  if (!(dir = cairn__strdup(uri)))
    return CAIRN_ENOMEM;
  if (strrchr(dir, '/'))
    *strrchr(dir, '/') = '\0';
  error = cairn_live_store_fs_at(ls, dir, &fs, &owned);
  free(dir);
  if (error < 0)
    return error;
  if ((error = cairn_fs_open(&f, fs, uri, "r")) == 0) {
    while ((error = cairn_fs_read(f, chunk, sizeof(chunk), &n)) == 0 && n)
      fwrite(chunk, 1, n, stdout);
    cairn_fs_close(f);
  }
  if (owned)
    cairn_fs_free(fs);
  return error;
}

static int do_logs(cli_ctx *ctx, int argc, char **argv)
{
  cairn_store *store;
  cairn_run r = {0};
  cairn_step_run *steps = NULL;
  cairn_live_store *ls = NULL;
  const char *want;
  cli_args args;
  size_t n = 0, i, shown = 0;
  int rc;

  if ((rc = cli_parse(ctx, &logs_spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  want = args.nargs > 1 ? args.args[1] : NULL;
  rc = 1;
  if (!(store = cli_store(ctx)))
    goto done;
  if (cairn_store_run_get(store, &r, args.args[0]) < 0 ||
      cairn_store_step_run_list(store, r.id, &steps, &n) < 0 ||
      cmd_run_open_store(&ls, store, r.artifact_store_id) < 0) {
    rc = cli_fail();
    goto done;
  }
  rc = 0;
  for (i = 0; i < n; i++) {
    if (want && strcmp(steps[i].step, want) != 0)
      continue;
    shown++;
    if (!want)
      printf("%s==> %s <==\n", shown > 1 ? "\n" : "", steps[i].step);
    if (!steps[i].log_uri) {
      printf("(no log: the step was %s)\n",
             cairn_status_name(steps[i].status));
      continue;
    }
    fflush(stdout);
    if (print_log(ls, steps[i].log_uri) < 0) {
      rc = cli_fail();
      goto done;
    }
  }
  if (want && !shown) {
    cairn_buf names = CAIRN_BUF_INIT;
    for (i = 0; i < n; i++)
      cairn_buf_printf(&names, "%s%s", i ? ", " : "", steps[i].step);
    rc = cli_error("run '%s' has no step '%s' (its steps: %s)", r.name,
                   want, names.size ? names.ptr : "none");
    cairn_buf_dispose(&names);
  }
done:
  cairn_live_store_free(ls);
  cairn_step_run_list_free(steps, n);
  cairn_run_dispose(&r);
  cli_args_dispose(&args);
  return rc;
}

int cmd_run(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"list", do_list, "List pipeline runs."},
    {"describe", do_describe, "Show a run's steps, outputs and metrics."},
    {"logs", do_logs, "Print the logs of a run's steps."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "run", "Pipeline runs.", commands, argc, argv);
}

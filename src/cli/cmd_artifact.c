/*
 * cairn artifact: list, describe, get, import.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cmd_run_util.h"
#include "cli/progress.h"
#include "core/util.h"
#include "pipeline/pipeline.h"

/*
 * Split NAME[:VERSION]: the version is what follows the last ':' that is
 * not part of a "::" separator, a number from 1 or "latest".
 */
static int parse_ref(const char *ref, char **name, int *version)
{
  const char *colon = strrchr(ref, ':');
  const char *d;
  long v = 0;

  *version = 0;
  if (colon && colon > ref && colon[-1] != ':') {
    for (d = colon + 1; *d >= '0' && *d <= '9'; d++)
      ;
    if (strcmp(colon + 1, "latest") != 0) {
      if (*d || d == colon + 1 || d - colon > 11 ||
          (v = strtol(colon + 1, NULL, 10)) < 1 || v > 1000000000)
        return cli_error("bad version in '%s': give NAME:N with N a number "
                         "from 1, or NAME alone for the latest", ref);
    }
    *version = (int)v;
    *name = strndup(ref, (size_t)(colon - ref));
    return *name ? 0 : cli_error("out of memory");
  }
  *name = strdup(ref);
  return *name ? 0 : cli_error("out of memory");
}

static int find_version(cairn_store *store, const char *ref,
                        cairn_artifact_version *out)
{
  char *name = NULL;
  int version, rc;

  memset(out, 0, sizeof(*out));
  if (parse_ref(ref, &name, &version))
    return 1;
  rc = cairn_store_artifact_version_get(store, out, name, version) < 0
           ? cli_fail() : 0;
  free(name);
  return rc;
}

/* ---------------------------------------------------------------- */
/* list                                                              */
/* ---------------------------------------------------------------- */

static const cli_spec list_spec = {
  "cairn artifact list [--output json]",
  "List artifacts with their number of versions.", NULL, 0, 0, 0, 1};

static int do_list(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"NAME", "VERSIONS", "LATEST",
                                        "UPDATED"};
  cairn_artifact_summary *list = NULL;
  cairn_store *store;
  cli_table *t;
  cli_args args;
  size_t n = 0, i;
  char versions[16], latest[16], updated[32];
  int rc;

  if ((rc = cli_parse(ctx, &list_spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&args);
  if (!(store = cli_store(ctx)))
    return 1;
  if (cairn_store_artifact_list(store, &list, &n) < 0)
    return cli_fail();
  if (n == 0 && !ctx->json) {
    cli_say("No artifacts found.");
    return 0;
  }
  t = cli_table_new(NULL, columns, 4);
  for (i = 0; i < n; i++) {
    snprintf(versions, sizeof(versions), "%d", list[i].versions);
    snprintf(latest, sizeof(latest), "%d", list[i].latest);
    cli_format_time(updated, sizeof(updated), list[i].updated);
    cli_table_addv(t, list[i].name, versions, latest, updated);
    cli_table_row_json(t, json_pack("{s:s, s:i, s:i, s:I}", "name",
                                    list[i].name, "versions",
                                    list[i].versions, "latest",
                                    list[i].latest, "updated",
                                    (json_int_t)list[i].updated));
  }
  cli_table_emit(ctx, t);
  cairn_artifact_summary_list_free(list, n);
  return 0;
}

/* ---------------------------------------------------------------- */
/* describe                                                          */
/* ---------------------------------------------------------------- */

static const cli_spec describe_spec = {
  "cairn artifact describe NAME[:VERSION] [--output json]",
  "Show an artifact version: where it is, its checksum, who made it "
  "and what it was made from.  The latest version without :VERSION.",
  NULL, 1, 1, 0, 1};

static char *edges_text(const cairn_lineage_edge *e, size_t n, int names)
{
  cairn_buf b = CAIRN_BUF_INIT;
  size_t i;

  for (i = 0; i < n; i++) {
    if (names)
      cairn_buf_printf(&b, "%s%s: %s:%d", i ? "\n" : "", e[i].name,
                       e[i].artifact, e[i].version);
    else
      cairn_buf_printf(&b, "%s%s:%d", i ? "\n" : "", e[i].artifact,
                       e[i].version);
  }
  return cairn_buf_detach(&b);
}

static json_t *edges_json(const cairn_lineage_edge *e, size_t n)
{
  json_t *a = json_array();
  size_t i;

  for (i = 0; i < n; i++)
    json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:s}", "name",
                                       e[i].name, "artifact", e[i].artifact,
                                       "version", e[i].version,
                                       "version_id", e[i].version_id));
  return a;
}

static int do_describe(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"PROPERTY", "VALUE"};
  cairn_artifact_version v;
  cairn_step_run producer = {0};
  cairn_run run = {0};
  cairn_lineage_edge *ins = NULL, *cons = NULL;
  size_t nins = 0, ncons = 0;
  cairn_store *store;
  cli_table *t;
  cli_args args;
  char size[32], bytes[32], created[32], version[16];
  char *made = NULL, *from = NULL, *used = NULL;
  int rc;

  if ((rc = cli_parse(ctx, &describe_spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  if (!(store = cli_store(ctx)) ||
      find_version(store, args.args[0], &v)) {
    cli_args_dispose(&args);
    return 1;
  }
  cli_args_dispose(&args);

  if (v.producer_step_run_id &&
      cairn_store_step_run_get(store, &producer, v.producer_step_run_id) ==
          0) {
    cairn_store_run_get(store, &run, producer.run_id);
    cairn_store_step_inputs(store, producer.id, &ins, &nins);
  }
  cairn_store_version_consumers(store, v.id, &cons, &ncons);

  if (ctx->json) {
    json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:s?,s:I,s:s?,s:s?,s:s?,"
                          "s:I,s:s?,s:s?,s:s?}",
                          "id", v.id, "name", v.artifact, "version",
                          v.version, "uri", v.uri, "kind", v.kind, "size",
                          (json_int_t)v.size, "sha256", v.sha256,
                          "media_type", v.media_type, "artifact_store_id",
                          v.artifact_store_id, "created",
                          (json_int_t)v.created, "producer_run", run.name,
                          "producer_step", producer.step, "output",
                          v.output);
    json_object_set(o, "metadata", v.metadata ? v.metadata : json_object());
    json_object_set_new(o, "inputs", edges_json(ins, nins));
    json_object_set_new(o, "consumers", edges_json(cons, ncons));
    cli_json_emit(o);
    goto done;
  }

  cli_format_size(size, sizeof(size), v.size);
  snprintf(bytes, sizeof(bytes), "%s (%llu bytes)", size,
           (unsigned long long)v.size);
  cli_format_time(created, sizeof(created), v.created);
  snprintf(version, sizeof(version), "%d", v.version);
  if (run.name)
    made = cairn__sprintf("run %s, step %s, output %s", run.name,
                          producer.step, v.output ? v.output : "?");
  from = edges_text(ins, nins, 1);
  used = edges_text(cons, ncons, 0);
  t = cli_table_new(NULL, columns, 2);
  cli_table_addv(t, "NAME", v.artifact);
  cli_table_addv(t, "VERSION", version);
  cli_table_addv(t, "ID", v.id);
  cli_table_addv(t, "URI", v.uri);
  cli_table_addv(t, "KIND", v.kind);
  cli_table_addv(t, "SIZE", bytes);
  cli_table_addv(t, "SHA-256", v.sha256);
  cli_table_addv(t, "MEDIA TYPE", v.media_type);
  cli_table_addv(t, "CREATED", created);
  cli_table_addv(t, "ARTIFACT STORE", v.artifact_store_id);
  cli_table_addv(t, "PRODUCER", made ? made : "imported");
  cli_table_addv(t, "MADE FROM", from && *from ? from : "nothing");
  cli_table_addv(t, "USED TO MAKE", used && *used ? used : "nothing yet");
  printf("Artifact '%s' version %d:\n", v.artifact, v.version);
  cli_table_print(t, stdout);
done:
  free(made);
  free(from);
  free(used);
  cairn_lineage_list_free(ins, nins);
  cairn_lineage_list_free(cons, ncons);
  cairn_run_dispose(&run);
  cairn_step_run_dispose(&producer);
  cairn_artifact_version_dispose(&v);
  return 0;
}

/* ---------------------------------------------------------------- */
/* Transfer settings, shared by get and import                       */
/* ---------------------------------------------------------------- */

#define TRANSFER_OPTS                                                      \
  {"max-concurrency", NULL, CLI_VALUE, "N",                                \
   "Requests at once (default: the store's max_concurrency, else 16)."},  \
  {"block-size", NULL, CLI_VALUE, "SIZE",                                  \
   "Bytes per block of a large file, such as 8MiB or 64M (default: the "  \
   "store's block_size, else 8MiB)."},                                     \
  {"memory-budget", NULL, CLI_VALUE, "SIZE",                               \
   "Buffers in flight at most, such as 64MiB (default: the store's "      \
   "memory_budget, else 40MiB)."},                                         \
  {"content-md5", NULL, CLI_FLAG, NULL,                                    \
   "Send Content-MD5 with every request, and the whole file's MD5."}

#define TRANSFER_USAGE                                                     \
  "[--max-concurrency N] [--block-size SIZE] [--memory-budget SIZE] "     \
  "[--content-md5]"

/*
 * The store's transfer settings, overridden by the command's options,
 * with @p progress; applied to @p fs.  Prints the error; 1 on failure.
 */
static int apply_transfer(const cli_args *a, const cairn_component *store,
                          cairn_fs *fs, cairn_progress *progress)
{
  cairn_azure_transfer_options o;
  const char *v;
  uint64_t n;
  char *end;
  long c;

  cairn_stack_transfer_options(store, &o);
  if ((v = cli_value(a, "max-concurrency"))) {
    c = strtol(v, &end, 10);
    if (!*v || *end || c < 1 || c > CAIRN_AZURE_CONCURRENCY_MAX)
      return cli_error("--max-concurrency must be a whole number from 1 "
                       "to %d, not '%s'", CAIRN_AZURE_CONCURRENCY_MAX, v);
    o.max_concurrency = (unsigned)c;
  }
  if ((v = cli_value(a, "block-size"))) {
    if (cairn_size_parse(&n, v) < 0)
      return cli_fail();
    if (n < CAIRN_AZURE_BLOCK_MIN || n > CAIRN_AZURE_BLOCK_MAX)
      return cli_error("--block-size must be between %lluKiB and %lluMiB, "
                       "not '%s'", CAIRN_AZURE_BLOCK_MIN >> 10,
                       CAIRN_AZURE_BLOCK_MAX >> 20, v);
    o.block_size = n;
  }
  if ((v = cli_value(a, "memory-budget"))) {
    if (cairn_size_parse(&n, v) < 0)
      return cli_fail();
    if (n < CAIRN_AZURE_BUDGET_MIN || n > CAIRN_AZURE_BUDGET_MAX)
      return cli_error("--memory-budget must be between %lluMiB and "
                       "%lluGiB, not '%s'", CAIRN_AZURE_BUDGET_MIN >> 20,
                       CAIRN_AZURE_BUDGET_MAX >> 30, v);
    o.memory_budget = n;
  }
  if (cli_flag(a, "content-md5"))
    o.content_md5 = 1;
  o.progress = progress;
  if (cairn_fs_set_transfer_options(fs, &o) < 0)
    return cli_fail();
  return 0;
}

/* ---------------------------------------------------------------- */
/* get                                                               */
/* ---------------------------------------------------------------- */

static const cli_opt get_opts[] = {
  {"overwrite", NULL, CLI_FLAG, NULL, "Replace a file that is at DEST."},
  TRANSFER_OPTS,
  CLI_OPT_END};

static const cli_spec get_spec = {
  "cairn artifact get NAME[:VERSION] DEST [--overwrite] " TRANSFER_USAGE,
  "Copy an artifact version to a local path, byte for byte, checking its "
  "SHA-256.  A file goes to DEST (or DEST/<its name> when DEST is a "
  "folder); a folder's files go into folder DEST, new or empty.  A "
  "progress line shows on a terminal.",
  get_opts, 2, 2, 0, 0};

static int do_get(cli_ctx *ctx, int argc, char **argv)
{
  cairn_artifact_version v;
  cairn_progress progress = {0, 0, 0, 0};
  cairn_live_store *ls = NULL;
  cli_progress *bar = NULL;
  cairn_store *store;
  cli_args args;
  struct stat st;
  const char *dest;
  char *written = NULL;
  cairn_fs *fs = NULL;
  int rc, is_dir, owned = 0;
  unsigned flags;

  if ((rc = cli_parse(ctx, &get_spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  if (!*args.args[1]) {
    cli_args_dispose(&args);
    return cli_error("the destination is empty: give a path (a folder, "
                     "such as '.', receives it inside)");
  }
  if (!(store = cli_store(ctx)) ||
      find_version(store, args.args[0], &v)) {
    cli_args_dispose(&args);
    return 1;
  }
  dest = args.args[1];
  is_dir = stat(dest, &st) == 0 && S_ISDIR(st.st_mode);
  flags = cli_flag(&args, "overwrite") ? CAIRN_DOWNLOAD_OVERWRITE : 0;
  if (strcmp(v.kind, "folder") != 0 && !is_dir)
    flags |= CAIRN_DOWNLOAD_TO_FILE;
  if (strcmp(v.kind, "folder") != 0 && !is_dir &&
      stat(dest, &st) == 0 && !S_ISREG(st.st_mode)) {
    rc = cli_error("'%s' is neither a file nor a folder", dest);
  } else if (strcmp(v.kind, "folder") == 0 && stat(dest, &st) == 0 &&
             !is_dir) {
    rc = cli_error("'%s' is a file; a folder artifact needs a folder "
                   "(a new path or an existing folder)", dest);
  } else if (cmd_run_open_store(&ls, store, v.artifact_store_id) < 0 ||
             cairn_live_store_fs_at(ls, v.uri, &fs, &owned) < 0) {
    rc = cli_fail();
  } else if ((rc = apply_transfer(&args, &ls->component, fs, &progress))) {
    /* said */
  } else {
    bar = cli_progress_start(&progress, "Downloading");
    if (cairn__pipeline_download(&written, fs, &v, dest, flags,
                                 &progress) < 0) {
      cli_progress_stop(bar, 0);
      if (cairn_error_last()->code == CAIRN_ECANCELLED)
        rc = cli_error("interrupted: '%s' was left as it was", dest);
      else if (owned && ls->component.connector_id &&
               cairn_error_last()->code == CAIRN_EAUTH)
        rc = cli_error("%s\n  %s:%d lies at %s, outside the path %s of "
                       "artifact store '%s', whose service connector may "
                       "reach that path's container only: connect the "
                       "store to credentials that reach both, or give it "
                       "its old path back", cairn_error_last()->message,
                       v.artifact, v.version, v.uri, ls->root,
                       ls->component.name);
      else
        rc = cli_fail();
    } else {
      cli_progress_stop(bar, 1);
      printf("Saved %s:%d to %s (SHA-256 %s checked).\n", v.artifact,
             v.version, written, v.sha256);
      rc = 0;
    }
  }
  free(written);
  if (owned)
    cairn_fs_free(fs);
  cairn_live_store_free(ls);
  cairn_artifact_version_dispose(&v);
  cli_args_dispose(&args);
  return rc;
}

/* ---------------------------------------------------------------- */
/* import                                                            */
/* ---------------------------------------------------------------- */

static const cli_opt import_opts[] = {
  {"name", "n", CLI_VALUE, "NAME", "The artifact's name (required)."},
  {"stack", NULL, CLI_VALUE, "NAME",
   "Store it in this stack's artifact store (default: active)."},
  TRANSFER_OPTS,
  CLI_OPT_END};

static const cli_spec import_spec = {
  "cairn artifact import PATH --name NAME [--stack NAME] " TRANSFER_USAGE,
  "Store a local file or folder as a new version of an artifact, in the "
  "stack's artifact store.  A progress line shows on a terminal.",
  import_opts, 1, 1, 0, 0};

static int do_import(cli_ctx *ctx, int argc, char **argv)
{
  cairn_artifact_version v;
  cairn_progress progress = {0, 0, 0, 0};
  cairn_live_stack *stack = NULL;
  cli_progress *bar = NULL;
  cairn_store *store;
  cli_args args;
  const char *name;
  char size[32];
  int rc;

  memset(&v, 0, sizeof(v));
  if ((rc = cli_parse(ctx, &import_spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  if (!(name = cli_value(&args, "name"))) {
    rc = cli_error("give the artifact a name with --name NAME");
  } else if (!(store = cli_store(ctx)) ||
             cairn_live_stack_open(&stack, store,
                                   cli_value(&args, "stack")) < 0) {
    rc = cli_fail();
  } else if ((rc = apply_transfer(&args, &stack->store->component,
                                  stack->store->fs, &progress))) {
    /* said */
  } else {
    bar = cli_progress_start(&progress, "Uploading");
    if (cairn_pipeline_import(&v, store, stack->store, args.args[0],
                              name) < 0) {
      cli_progress_stop(bar, 0);
      rc = cairn_error_last()->code == CAIRN_ECANCELLED
               ? cli_error("interrupted: nothing was imported")
               : cli_fail();
    } else {
      cli_progress_stop(bar, 1);
      cli_format_size(size, sizeof(size), v.size);
      printf("Imported '%s' as %s:%d (%s, SHA-256 %s) into %s.\n",
             args.args[0], v.artifact, v.version, size, v.sha256, v.uri);
      rc = 0;
    }
  }
  cairn_artifact_version_dispose(&v);
  cairn_live_stack_free(stack);
  cli_args_dispose(&args);
  return rc;
}

int cmd_artifact(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"list", do_list, "List artifacts."},
    {"describe", do_describe, "Show an artifact version and its lineage."},
    {"get", do_get, "Copy an artifact version to a local path."},
    {"import", do_import,
     "Store a local file or folder as a new artifact version."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "artifact",
                      "Artifacts: the outputs of pipeline steps, and "
                      "files imported.",
                      commands, argc, argv);
}

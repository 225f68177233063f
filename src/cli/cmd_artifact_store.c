/*
 * cairn artifact-store: register, list, describe, get, update, rename,
 * delete, flavor list.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_component.h"
#include "stack/stack.h"

#define TYPE "artifact_store"

static const cli_opt register_opts[] = {
  {"flavor", "f", CLI_VALUE, "FLAVOR", "local or azure (required)."},
  CLI_OPT_END};

static const cli_spec register_spec = {
  "cairn artifact-store register NAME -f local|azure [--path=URI] "
  "[--KEY=VALUE]...",
  "Register an artifact store.  Fields: local: path; azure: path "
  "(az://CONTAINER[/PATH]), authentication_secret (a secret's name), "
  "max_concurrency, block_size.",
  register_opts, 1, 1, 1, 0};

static int do_register(cli_ctx *ctx, int argc, char **argv)
{
  cairn_component c;
  cairn_store *store;
  cli_args a;
  const char *flavor;
  int rc;

  if ((rc = cli_parse(ctx, &register_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if (!(flavor = cli_value(&a, "flavor"))) {
    cli_args_dispose(&a);
    return cli_error("an artifact store needs a flavor: -f local or "
                     "-f azure");
  }
  if (!(store = cli_store(ctx))) {
    cli_args_dispose(&a);
    return 1;
  }
  if (cairn_stack_component_check(store, TYPE, flavor, a.fields) < 0) {
    cli_args_dispose(&a);
    return cli_fail();
  }
  if (cairn_store_component_create(store, &c, TYPE, a.args[0], flavor,
                                   a.fields) < 0) {
    cli_args_dispose(&a);
    return cli_fail();
  }
  cli_say("Successfully registered artifact_store `%s`.", c.name);
  cairn_component_dispose(&c);
  cli_args_dispose(&a);
  return 0;
}

static const cli_spec update_spec = {
  "cairn artifact-store update NAME [--path=URI] [--KEY=VALUE]...",
  "Change fields of an artifact store (merged over the current ones).  "
  "Versions already stored keep their URIs.",
  NULL, 1, 1, 1, 0};

static int do_update(cli_ctx *ctx, int argc, char **argv)
{
  cairn_component c;
  cli_args a;
  const char *key;
  json_t *merged, *value;
  int rc;

  if ((rc = cli_parse(ctx, &update_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if (json_object_size(a.fields) == 0) {
    cli_args_dispose(&a);
    return cli_error("nothing to update: give fields such as "
                     "--path=URI");
  }
  if ((rc = cmd_component_find(ctx, TYPE, a.args[0], &c)) != 0) {
    cli_args_dispose(&a);
    return rc;
  }
  merged = json_deep_copy(c.config);
  json_object_foreach(a.fields, key, value)
    json_object_set(merged, key, value);
  if (cairn_stack_component_check(cli_store(ctx), TYPE, c.flavor,
                                  merged) < 0 ||
      cairn_store_component_update(cli_store(ctx), c.id, merged) < 0)
    rc = cli_fail();
  else
    cli_say("Successfully updated artifact_store `%s`.", c.name);
  json_decref(merged);
  cairn_component_dispose(&c);
  cli_args_dispose(&a);
  return rc;
}

static const cli_spec rename_spec = {
  "cairn artifact-store rename NAME NEW_NAME",
  "Rename an artifact store.", NULL, 2, 2, 0, 0};

static int do_rename(cli_ctx *ctx, int argc, char **argv)
{
  cairn_component c;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &rename_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if ((rc = cmd_component_find(ctx, TYPE, a.args[0], &c)) == 0) {
    if (cairn_store_component_rename(cli_store(ctx), c.id, a.args[1]) < 0)
      rc = cli_fail();
    else
      cli_say("Successfully renamed artifact_store `%s` to `%s`.", c.name,
              a.args[1]);
    cairn_component_dispose(&c);
  }
  cli_args_dispose(&a);
  return rc;
}

static const cli_spec delete_spec = {
  "cairn artifact-store delete NAME",
  "Delete an artifact store that no stack uses.  The artifacts in it are "
  "left where they are.", NULL, 1, 1, 0, 0};

static int do_delete(cli_ctx *ctx, int argc, char **argv)
{
  cairn_component c;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &delete_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if ((rc = cmd_component_find(ctx, TYPE, a.args[0], &c)) == 0) {
    if (cairn_store_component_delete(cli_store(ctx), c.id) < 0)
      rc = cli_fail();
    else
      cli_say("Deleted artifact store: %s", c.name);
    cairn_component_dispose(&c);
  }
  cli_args_dispose(&a);
  return rc;
}

static const cli_spec get_spec = {
  "cairn artifact-store get [--output json]",
  "Show the artifact store of the active stack.", NULL, 0, 0, 0, 1};

static int do_get(cli_ctx *ctx, int argc, char **argv)
{
  cairn_component c;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &get_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&a);
  if ((rc = cmd_component_find(ctx, TYPE, NULL, &c)) != 0)
    return rc;
  if (ctx->json)
    cli_json_emit(json_pack("{s:s, s:s, s:s}", "id", c.id, "name", c.name,
                            "flavor", c.flavor));
  else
    cli_say("Active artifact store: '%s'", c.name);
  cairn_component_dispose(&c);
  return 0;
}

static int do_list(cli_ctx *ctx, int argc, char **argv)
{
  return cmd_component_list(ctx, TYPE, argc, argv);
}

static int do_describe(cli_ctx *ctx, int argc, char **argv)
{
  return cmd_component_describe(ctx, TYPE, argc, argv);
}

static const cli_spec flavor_list_spec = {
  "cairn artifact-store flavor list [--output json]",
  "List the artifact store flavors.", NULL, 0, 0, 0, 1};

static int flavor_list(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"FLAVOR", "INTEGRATION", "SOURCE",
                                        "CONNECTOR TYPE", "RESOURCE TYPE"};
  const cairn_flavor *f;
  cli_table *t;
  cli_args a;
  size_t i;
  int rc;

  if ((rc = cli_parse(ctx, &flavor_list_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&a);
  t = cli_table_new(NULL, columns, 5);
  for (i = 0; (f = cairn_flavor_at(i)); i++) {
    if (strcmp(f->type, TYPE) != 0)
      continue;
    if (strcmp(f->name, "azure") == 0)
      cli_table_addv(t, f->name, "azure", "built in", "-", "-");
    else
      cli_table_addv(t, f->name, "built-in", "built in", "-", "-");
  }
  cli_table_emit(ctx, t);
  return 0;
}

static int do_flavor(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"list", flavor_list, "List the artifact store flavors."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "artifact-store flavor",
                      "Artifact store flavors.", commands, argc, argv);
}

int cmd_artifact_store(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"register", do_register, "Register an artifact store."},
    {"list", do_list, "List the artifact stores."},
    {"describe", do_describe, "Show an artifact store's configuration."},
    {"get", do_get, "Show the active stack's artifact store."},
    {"update", do_update, "Change fields of an artifact store."},
    {"rename", do_rename, "Rename an artifact store."},
    {"delete", do_delete, "Delete an artifact store."},
    {"flavor", do_flavor, "Artifact store flavors ('flavor list')."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "artifact-store",
                      "Manage artifact stores: where artifact bytes live.",
                      commands, argc, argv);
}

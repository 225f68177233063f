/*
 * cairn stack: register, list, describe, set, get, update, rename,
 * delete.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_component.h"

static const char *const part_types[] = {"artifact_store", "orchestrator"};

/* Resolve option value @p name_or_id of @p type to an id (free()). */
static int part_id(cli_ctx *ctx, const char *type, const char *name_or_id,
                   char **out)
{
  cairn_component c;
  int rc;

  *out = NULL;
  if (!name_or_id)
    return 0;
  if ((rc = cmd_component_find(ctx, type, name_or_id, &c)) != 0)
    return rc;
  *out = c.id;
  c.id = NULL;
  cairn_component_dispose(&c);
  return 0;
}

/* Find stack @p name_or_null (the active one when NULL). */
static int find_stack(cli_ctx *ctx, const char *name_or_null,
                      cairn_stack *out)
{
  cairn_store *store = cli_store(ctx);
  int error;

  memset(out, 0, sizeof(*out));
  if (!store)
    return 1;
  error = name_or_null ? cairn_store_stack_get(store, out, name_or_null)
                       : cairn_store_stack_active(store, out);
  return error < 0 ? cli_fail() : 0;
}

static int activate(cli_ctx *ctx, const cairn_stack *s)
{
  if (cairn_store_stack_set_active(cli_store(ctx), s->id) < 0)
    return cli_fail();
  cli_say("Active global stack set to: '%s'", s->name);
  return 0;
}

static const cli_opt register_opts[] = {
  {"artifact-store", "a", CLI_VALUE, "STORE",
   "The artifact store (name, id or id prefix; required)."},
  {"orchestrator", "o", CLI_VALUE, "ORCH",
   "The orchestrator (default: 'default')."},
  {"set", NULL, CLI_FLAG, NULL, "Make it the active stack."},
  CLI_OPT_END};

static const cli_spec register_spec = {
  "cairn stack register NAME -a STORE [-o ORCH] [--set]",
  "Register a stack from an artifact store and an orchestrator.",
  register_opts, 1, 1, 0, 0};

static int do_register(cli_ctx *ctx, int argc, char **argv)
{
  const char *store_name, *orch_name;
  char *sid = NULL, *oid = NULL;
  cairn_stack s;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &register_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  store_name = cli_value(&a, "artifact-store");
  orch_name = cli_value(&a, "orchestrator");
  if (!store_name) {
    cli_args_dispose(&a);
    return cli_error("a stack needs an artifact store: give "
                     "-a STORE (see 'cairn artifact-store list')");
  }
  if ((rc = part_id(ctx, "artifact_store", store_name, &sid)) != 0 ||
      (rc = part_id(ctx, "orchestrator", orch_name ? orch_name : "default",
                    &oid)) != 0)
    goto done;
  if (cairn_store_stack_create(cli_store(ctx), &s, a.args[0], sid, oid)
      < 0) {
    rc = cli_fail();
    goto done;
  }
  cli_say("Stack '%s' successfully registered!", s.name);
  if (cli_flag(&a, "set"))
    rc = activate(ctx, &s);
  cairn_stack_dispose(&s);
done:
  free(sid);
  free(oid);
  cli_args_dispose(&a);
  return rc;
}

static const char *name_of(const cairn_component *list, size_t n,
                           const char *id)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp(list[i].id, id) == 0)
      return list[i].name;
  return "?";
}

static const cli_spec list_spec = {
  "cairn stack list [--output json]", "List the stacks.", NULL, 0, 0, 0, 1};

static int do_list(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"ACTIVE", "STACK NAME", "STACK ID",
                                        "ARTIFACT_STORE", "ORCHESTRATOR"};
  cairn_component *stores = NULL, *orchs = NULL;
  size_t nstacks = 0, nstores = 0, norchs = 0, i;
  cairn_stack *stacks = NULL;
  cairn_store *store;
  cli_table *t;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &list_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&a);
  if (!(store = cli_store(ctx)))
    return 1;
  if (cairn_store_stack_list(store, &stacks, &nstacks) < 0 ||
      cairn_store_component_list(store, part_types[0], &stores,
                                 &nstores) < 0 ||
      cairn_store_component_list(store, part_types[1], &orchs, &norchs)
          < 0) {
    rc = cli_fail();
    goto done;
  }
  t = cli_table_new(NULL, columns, 5);
  for (i = 0; i < nstacks; i++)
    cli_table_addv(t, stacks[i].active ? CLI_ACTIVE_MARK : "",
                   stacks[i].name, stacks[i].id,
                   name_of(stores, nstores, stacks[i].artifact_store_id),
                   name_of(orchs, norchs, stacks[i].orchestrator_id));
  cli_table_emit(ctx, t);
done:
  cairn_stack_list_free(stacks, nstacks);
  cairn_component_list_free(stores, nstores);
  cairn_component_list_free(orchs, norchs);
  return rc;
}

static const cli_spec describe_spec = {
  "cairn stack describe [NAME] [--output json]",
  "Show a stack's components (the active stack when no NAME).",
  NULL, 0, 1, 0, 1};

static int do_describe(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"COMPONENT_TYPE", "COMPONENT_NAME"};
  cairn_component parts[2];
  cairn_stack s;
  cli_args a;
  json_t *obj;
  char title[256];
  const char *ids[2];
  int rc, i;

  if ((rc = cli_parse(ctx, &describe_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  rc = find_stack(ctx, a.nargs ? a.args[0] : NULL, &s);
  cli_args_dispose(&a);
  if (rc)
    return rc;
  ids[0] = s.artifact_store_id;
  ids[1] = s.orchestrator_id;
  memset(parts, 0, sizeof(parts));
  for (i = 0; i < 2 && !rc; i++)
    rc = cmd_component_find(ctx, part_types[i], ids[i], &parts[i]);
  if (rc)
    goto done;
  if (ctx->json) {
    obj = json_pack("{s:s, s:s, s:b, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}",
                    "id", s.id, "name", s.name, "active", s.active,
                    "artifact_store", "id", parts[0].id, "name",
                    parts[0].name, "flavor", parts[0].flavor,
                    "orchestrator", "id", parts[1].id, "name",
                    parts[1].name, "flavor", parts[1].flavor);
    cli_json_emit(obj);
  } else {
    cli_table *t;

    snprintf(title, sizeof(title), "Stack Configuration: '%s' stack%s",
             s.name, s.active ? " (ACTIVE)" : "");
    t = cli_table_new(title, columns, 2);
    for (i = 0; i < 2; i++)
      cli_table_addv(t, cmd_component_upper(part_types[i]), parts[i].name);
    cli_table_print(t, stdout);
    cli_say("Stack '%s' with id '%s'.", s.name, s.id);
  }
done:
  for (i = 0; i < 2; i++)
    cairn_component_dispose(&parts[i]);
  cairn_stack_dispose(&s);
  return rc;
}

static const cli_spec set_spec = {
  "cairn stack set NAME", "Make a stack the active one.", NULL, 1, 1, 0, 0};

static int do_set(cli_ctx *ctx, int argc, char **argv)
{
  cairn_stack s;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &set_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if ((rc = find_stack(ctx, a.args[0], &s)) == 0) {
    rc = activate(ctx, &s);
    cairn_stack_dispose(&s);
  }
  cli_args_dispose(&a);
  return rc;
}

static const cli_spec get_spec = {
  "cairn stack get [--output json]", "Show the active stack.", NULL, 0, 0,
  0, 1};

static int do_get(cli_ctx *ctx, int argc, char **argv)
{
  cairn_stack s;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &get_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&a);
  if ((rc = find_stack(ctx, NULL, &s)) != 0)
    return rc;
  if (ctx->json)
    cli_json_emit(json_pack("{s:s, s:s}", "id", s.id, "name", s.name));
  else
    cli_say("The global active stack is: '%s'", s.name);
  cairn_stack_dispose(&s);
  return 0;
}

static const cli_opt update_opts[] = {
  {"artifact-store", "a", CLI_VALUE, "STORE", "A new artifact store."},
  {"orchestrator", "o", CLI_VALUE, "ORCH", "A new orchestrator."},
  CLI_OPT_END};

static const cli_spec update_spec = {
  "cairn stack update NAME [-a STORE] [-o ORCH]",
  "Replace components of a stack.", update_opts, 1, 1, 0, 0};

static int do_update(cli_ctx *ctx, int argc, char **argv)
{
  char *sid = NULL, *oid = NULL;
  cairn_stack s;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &update_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if (!cli_value(&a, "artifact-store") && !cli_value(&a, "orchestrator")) {
    cli_args_dispose(&a);
    return cli_error("nothing to update: give -a STORE and/or -o ORCH");
  }
  if ((rc = find_stack(ctx, a.args[0], &s)) != 0) {
    cli_args_dispose(&a);
    return rc;
  }
  if ((rc = part_id(ctx, "artifact_store", cli_value(&a, "artifact-store"),
                    &sid)) == 0 &&
      (rc = part_id(ctx, "orchestrator", cli_value(&a, "orchestrator"),
                    &oid)) == 0) {
    if (cairn_store_stack_update(cli_store(ctx), s.id, sid, oid) < 0)
      rc = cli_fail();
    else
      cli_say("Stack '%s' successfully updated!", s.name);
  }
  free(sid);
  free(oid);
  cairn_stack_dispose(&s);
  cli_args_dispose(&a);
  return rc;
}

static const cli_spec rename_spec = {
  "cairn stack rename NAME NEW_NAME", "Rename a stack.", NULL, 2, 2, 0, 0};

static int do_rename(cli_ctx *ctx, int argc, char **argv)
{
  cairn_stack s;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &rename_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if ((rc = find_stack(ctx, a.args[0], &s)) == 0) {
    if (cairn_store_stack_rename(cli_store(ctx), s.id, a.args[1]) < 0)
      rc = cli_fail();
    else
      cli_say("Stack '%s' successfully renamed to '%s'!", s.name,
              a.args[1]);
    cairn_stack_dispose(&s);
  }
  cli_args_dispose(&a);
  return rc;
}

static const cli_opt delete_opts[] = {
  {"yes", "y", CLI_FLAG, NULL, "Do not ask for confirmation."},
  CLI_OPT_END};

static const cli_spec delete_spec = {
  "cairn stack delete NAME [-y]",
  "Delete a stack (not its components).", delete_opts, 1, 1, 0, 0};

static int do_delete(cli_ctx *ctx, int argc, char **argv)
{
  char question[256];
  cairn_stack s;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &delete_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if ((rc = find_stack(ctx, a.args[0], &s)) != 0) {
    cli_args_dispose(&a);
    return rc;
  }
  if (s.active) {
    rc = cli_error("the active stack cannot be deleted: activate another "
                   "with 'cairn stack set NAME' first");
    goto done;
  }
  if (!cli_flag(&a, "yes")) {
    if (!isatty(STDIN_FILENO)) {
      rc = cli_error("not deleting stack '%s' without confirmation: pass "
                     "-y", s.name);
      goto done;
    }
    snprintf(question, sizeof(question),
             "Are you sure you want to delete stack '%s'?", s.name);
    if (!cli_confirm(question)) {
      cli_say("Stack '%s' was not deleted.", s.name);
      goto done;
    }
  }
  if (cairn_store_stack_delete(cli_store(ctx), s.id) < 0)
    rc = cli_fail();
  else
    cli_say("Deleted stack '%s'.", s.name);
done:
  cairn_stack_dispose(&s);
  cli_args_dispose(&a);
  return rc;
}

int cmd_stack(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"register", do_register, "Register a stack."},
    {"list", do_list, "List the stacks."},
    {"describe", do_describe, "Show a stack's components."},
    {"set", do_set, "Make a stack the active one."},
    {"get", do_get, "Show the active stack."},
    {"update", do_update, "Replace components of a stack."},
    {"rename", do_rename, "Rename a stack."},
    {"delete", do_delete, "Delete a stack."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "stack",
                      "Stacks: an artifact store and an orchestrator, one "
                      "of them active.", commands, argc, argv);
}

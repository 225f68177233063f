/*
 * cairn artifact-store: register, list, describe, get, update, rename,
 * delete, connect, disconnect, flavor list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_component.h"
#include "core/error.h"
#include "stack/connector.h"
#include "stack/stack.h"

#define TYPE "artifact_store"

/* ---------------------------------------------------------------- */
/* Service connectors                                                */
/* ---------------------------------------------------------------- */

/*
 * Check that connector @p conn can back store @p c and, unless
 * @p verify is 0, that it reaches the store's container, creating the
 * container when it is missing and the credential allows it.  The rows
 * of the verification go to @p r.  Prints nothing; 0 or an error.
 */
static int connect_check(cairn_live_connector *conn,
                         const cairn_component *c, int verify,
                         cairn_connector_result *r, int *created)
{
  char *container = NULL, *id = NULL;
  int error;

  memset(r, 0, sizeof(*r));
  *created = 0;
  if ((error = cairn_connector_check_store(conn, c, &container)) < 0)
    return error;
  if (verify) {
    char *expired = cairn_connector_expiry_text(&conn->rec);

    if (expired) {
      error = cairn__error(CAIRN_EAUTH, "%s", expired);
      free(expired);
    } else if ((error = cairn_connector_ensure_container(conn, container,
                                                         created)) == 0 &&
               (id = cairn__sprintf("az://%s", container))) {
      error = cairn_connector_verify(conn, CAIRN_RESOURCE_BLOB, id, r);
      if (error < 0 && r->count && r->rows[0].error)
        error = cairn__error(error, "service connector '%s' cannot reach "
                             "%s: %s", conn->rec.name, id,
                             r->rows[0].error);
    }
  }
  free(id);
  free(container);
  return error;
}

/* The success line and the table of a connection. */
static void connected(cli_ctx *ctx, const cairn_component *c,
                      const cairn_live_connector *conn,
                      const cairn_connector_result *r, int created)
{
  static const char *const columns[] = {"CONNECTOR ID", "CONNECTOR NAME",
                                        "CONNECTOR TYPE", "RESOURCE TYPE",
                                        "RESOURCE NAMES"};
  cli_table *t;
  size_t i;

  if (created)
    cli_say("Created the container %s for artifact store `%s`.",
            r->count ? r->rows[0].names.items[0] : "", c->name);
  if (!r->count) {
    cli_say("Successfully connected artifact store `%s` to service "
            "connector `%s` (not verified).", c->name, conn->rec.name);
    if (ctx->json)
      cli_json_emit(json_pack("{s:s, s:s, s:b}", "artifact_store", c->name,
                              "connector", conn->rec.name, "verified", 0));
    return;
  }
  cli_say("Successfully connected artifact store `%s` to the following "
          "resources:", c->name);
  t = cli_table_new(NULL, columns, 5);
  for (i = 0; i < r->count; i++) {
    char *cell = cmd_connector_names_cell(&r->rows[i]);
    json_t *j = cmd_connector_row_json(&r->rows[i]);

    cli_table_addv(t, conn->rec.id, conn->rec.name, conn->rec.type,
                   r->rows[i].resource_type, cell);
    json_object_set_new(j, "connector_id", json_string(conn->rec.id));
    json_object_set_new(j, "connector_name", json_string(conn->rec.name));
    json_object_set_new(j, "connector_type", json_string(conn->rec.type));
    cli_table_row_json(t, j);
    free(cell);
  }
  cli_table_emit(ctx, t);
}

static const cli_opt register_opts[] = {
  {"flavor", "f", CLI_VALUE, "FLAVOR", "local or azure (required)."},
  {"connector", "c", CLI_VALUE, "CONNECTOR",
   "Connect it to this service connector at once (verified)."},
  CLI_OPT_END};

static const cli_spec register_spec = {
  "cairn artifact-store register NAME -f local|azure [--path=URI] "
  "[--KEY=VALUE]... [--connector CONNECTOR]",
  "Register an artifact store.  Fields: local: path; azure: path "
  "(az://CONTAINER[/PATH]), authentication_secret (a secret's name), "
  "max_concurrency, block_size, memory_budget, content_md5 (see "
  "docs/transfers.md).",
  register_opts, 1, 1, 1, 1};

static int do_register(cli_ctx *ctx, int argc, char **argv)
{
  cairn_connector_result r;
  cairn_live_connector conn;
  cairn_component c, draft;
  cairn_store *store;
  cli_args a;
  const char *flavor, *connector;
  int rc, created = 0;

  memset(&conn, 0, sizeof(conn));
  memset(&r, 0, sizeof(r));
  if ((rc = cli_parse(ctx, &register_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  connector = cli_value(&a, "connector");
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
  if (connector) {
    /* Check the connection before anything is written. */
    memset(&draft, 0, sizeof(draft));
    draft.name = a.args[0];
    draft.type = TYPE;
    draft.flavor = (char *)flavor;
    draft.config = a.fields;
    if (cairn_connector_open(&conn, store, connector) < 0 ||
        connect_check(&conn, &draft, 1, &r, &created) < 0) {
      rc = cli_fail();
      goto done;
    }
  }
  if (cairn_store_begin(store) < 0) {
    rc = cli_fail();
    goto done;
  }
  if (cairn_store_component_create(store, &c, TYPE, a.args[0], flavor,
                                   a.fields) < 0 ||
      (connector &&
       cairn_store_component_set_connector(store, c.id, conn.rec.id) < 0)) {
    rc = cli_fail();
    cairn_store_rollback(store);
    goto done;
  }
  if (cairn_store_commit(store) < 0) {
    rc = cli_fail();
    cairn_component_dispose(&c);
    goto done;
  }
  cli_say("Successfully registered artifact_store `%s`.", c.name);
  if (connector)
    connected(ctx, &c, &conn, &r, created);
  else if (ctx->json)
    cli_json_emit(json_pack("{s:s, s:s}", "id", c.id, "name", c.name));
  cairn_component_dispose(&c);
done:
  cairn_connector_result_dispose(&r);
  cairn_live_connector_dispose(&conn);
  cli_args_dispose(&a);
  return rc;
}

static const cli_opt connect_opts[] = {
  {"connector", "c", CLI_VALUE, "CONNECTOR", "The service connector."},
  {"interactive", "i", CLI_FLAG, NULL,
   "Choose among the connectors that reach the store's container."},
  {"resource-id", "r", CLI_VALUE, "ID",
   "The container (az://CONTAINER); it must be the store's."},
  {"no-verify", NULL, CLI_FLAG, NULL, "Connect without verifying."},
  CLI_OPT_END};

static const cli_spec connect_spec = {
  "cairn artifact-store connect NAME (--connector CONNECTOR | -i) "
  "[--no-verify] [--output json]",
  "Connect an artifact store to a service connector: the store then gets "
  "its credentials from it (the container comes from the store's path).  "
  "A missing container is created when the credential allows it.",
  connect_opts, 1, 1, 0, 1};

/*
 * The -i choice: the connectors that reach the store's container (or
 * could create it), numbered; the user picks one by number or name.
 */
static int choose_connector(cairn_store *store, const cairn_component *c,
                            char **out)
{
  static const char *const columns[] = {"#", "CONNECTOR NAME",
                                        "AUTH METHOD", "RESOURCE NAME"};
  cairn_strlist names = CAIRN_STRLIST_INIT, methods = CAIRN_STRLIST_INIT;
  cairn_connector *list = NULL;
  char *container = NULL, *id = NULL, *answer = NULL, num[16];
  size_t n = 0, i, errors = 0;
  cli_table *t;
  int rc = 0;

  *out = NULL;
  if (cairn_store_connector_list(store, &list, &n) < 0)
    return cli_fail();
  fprintf(stderr, "Looking for service connectors that reach artifact "
          "store '%s'...\n", c->name);
  for (i = 0; i < n; i++) {
    cairn_connector_result r;
    cairn_live_connector conn;
    int error;

    if (cairn_connector_open(&conn, store, list[i].id) < 0) {
      errors++;
      continue;
    }
    free(container);
    container = NULL;
    error = cairn_connector_check_store(&conn, c, &container);
    if (!error && !(id = cairn__sprintf("az://%s", container)))
      error = CAIRN_ENOMEM;
    if (!error) {
      error = cairn_connector_verify(&conn, CAIRN_RESOURCE_BLOB, id, &r);
      /* A missing container is made at connect time. */
      if (error == CAIRN_ENOTFOUND &&
          conn.method->kind != CAIRN_CONNECTOR_SAS)
        error = 0;
      if (error && error != CAIRN_EINVAL)
        errors++;
      cairn_connector_result_dispose(&r);
    }
    if (!error) {
      cairn_strlist_add(&names, conn.rec.name);
      cairn_strlist_add(&methods, conn.rec.auth_method);
    }
    free(id);
    id = NULL;
    cairn_live_connector_dispose(&conn);
  }
  if (!names.count) {
    rc = cli_error("no service connector reaches the container of artifact "
                   "store '%s' (%zu in error): register one with 'cairn "
                   "service-connector register NAME --type azure ...', or "
                   "see 'cairn service-connector list-resources "
                   "--connector-type azure --resource-type blob-container "
                   "--resource-id az://%s'", c->name, errors,
                   container ? container : "CONTAINER");
    goto done;
  }
  fprintf(stderr, "Service connectors that reach artifact store '%s':\n",
          c->name);
  t = cli_table_new(NULL, columns, 4);
  id = cairn__sprintf("az://%s", container);
  for (i = 0; i < names.count; i++) {
    snprintf(num, sizeof(num), "%zu", i + 1);
    cli_table_addv(t, num, names.items[i], methods.items[i], id);
  }
  cli_table_print(t, stderr);
  if (cli_prompt("Service connector (number or name): ", 0, &answer) < 0) {
    rc = cli_error("standard input ended before a service connector was "
                   "chosen");
    goto done;
  }
  for (i = 0; i < names.count && !*out; i++) {
    snprintf(num, sizeof(num), "%zu", i + 1);
    if (strcmp(answer, num) == 0 || strcmp(answer, names.items[i]) == 0)
      *out = strdup(names.items[i]);
  }
  if (!*out)
    rc = cli_error("'%s' is not one of the service connectors listed",
                   answer);
done:
  free(answer);
  free(id);
  free(container);
  cairn_strlist_dispose(&names);
  cairn_strlist_dispose(&methods);
  cairn_connector_list_free(list, n);
  return rc;
}

static int do_connect(cli_ctx *ctx, int argc, char **argv)
{
  cairn_connector_result r;
  cairn_live_connector conn;
  cairn_component c;
  cairn_store *store;
  const char *given, *rid;
  char *chosen = NULL;
  cli_args a;
  int rc, created = 0, verify;

  memset(&conn, 0, sizeof(conn));
  memset(&r, 0, sizeof(r));
  memset(&c, 0, sizeof(c));
  if ((rc = cli_parse(ctx, &connect_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  given = cli_value(&a, "connector");
  rid = cli_value(&a, "resource-id");
  verify = !cli_flag(&a, "no-verify");
  if (!given == !cli_flag(&a, "interactive")) {
    cli_args_dispose(&a);
    return cli_error("give either --connector CONNECTOR or -i (to choose "
                     "among the connectors that reach the store)");
  }
  if ((rc = cmd_component_find(ctx, TYPE, a.args[0], &c)) != 0)
    goto done;
  store = cli_store(ctx);
  if (rid) {
    char *want = NULL, *have = NULL;
    const char *path = json_string_value(json_object_get(c.config, "path"));

    if (cairn_connector_container_id(&want, rid) < 0 ||
        cairn_connector_container_id(&have, path ? path : "") < 0 ||
        strcmp(want, have) != 0) {
      rc = cli_error("the resource of artifact store '%s' is the container "
                     "of its path (%s); --resource-id %s does not match it",
                     c.name, path ? path : "none", rid);
      free(want);
      free(have);
      goto done;
    }
    free(want);
    free(have);
  }
  if (!given) {
    if (strcmp(c.flavor, "azure") != 0) {
      rc = cli_error("artifact store '%s' has flavor '%s', which cannot use "
                     "service connectors: only azure stores can", c.name,
                     c.flavor);
      goto done;
    }
    if ((rc = choose_connector(store, &c, &chosen)) != 0)
      goto done;
    given = chosen;
  }
  if (cairn_connector_open(&conn, store, given) < 0 ||
      connect_check(&conn, &c, verify, &r, &created) < 0 ||
      cairn_store_component_set_connector(store, c.id, conn.rec.id) < 0) {
    rc = cli_fail();
    goto done;
  }
  connected(ctx, &c, &conn, &r, created);
done:
  free(chosen);
  cairn_component_dispose(&c);
  cairn_connector_result_dispose(&r);
  cairn_live_connector_dispose(&conn);
  cli_args_dispose(&a);
  return rc;
}

static const cli_spec disconnect_spec = {
  "cairn artifact-store disconnect NAME",
  "Disconnect an artifact store from its service connector: its "
  "credentials come from its authentication secret or the environment "
  "again.", NULL, 1, 1, 0, 0};

static int do_disconnect(cli_ctx *ctx, int argc, char **argv)
{
  cairn_connector conn;
  cairn_component c;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &disconnect_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if ((rc = cmd_component_find(ctx, TYPE, a.args[0], &c)) != 0) {
    cli_args_dispose(&a);
    return rc;
  }
  if (!c.connector_id) {
    rc = cli_error("artifact store '%s' is not connected to a service "
                   "connector", c.name);
  } else if (cairn_store_component_set_connector(cli_store(ctx), c.id,
                                                 NULL) < 0) {
    rc = cli_fail();
  } else if (cairn_store_connector_get(cli_store(ctx), &conn,
                                       c.connector_id) == 0) {
    cli_say("Successfully disconnected artifact store `%s` from service "
            "connector `%s`.", c.name, conn.name);
    cairn_connector_dispose(&conn);
  } else {
    cli_say("Successfully disconnected artifact store `%s`.", c.name);
  }
  cairn_component_dispose(&c);
  cli_args_dispose(&a);
  return rc;
}

/*
 * Check @p config for store @p c and keep it in place of the old one.  A
 * connected store's connector must reach the container of a new path, as
 * when it was connected.
 */
static int save_config(cli_ctx *ctx, const cairn_component *c,
                       json_t *config)
{
  cairn_store *store = cli_store(ctx);
  cairn_connector_result r;
  cairn_live_connector conn;
  cairn_component next = *c;
  int created, error = 0;

  if (cairn_stack_component_check(store, TYPE, c->flavor, config) < 0)
    return cli_fail();
  if (c->connector_id &&
      !json_equal(json_object_get(c->config, "path"),
                  json_object_get(config, "path"))) {
    memset(&conn, 0, sizeof(conn));
    memset(&r, 0, sizeof(r));
    next.config = config;
    if ((error = cairn_connector_open(&conn, store, c->connector_id)) == 0 &&
        (error = connect_check(&conn, &next, 1, &r, &created)) < 0)
      cairn__error_prefix("artifact store '%s' is connected to service "
                          "connector '%s' (disconnect it first to change "
                          "that)", c->name, conn.rec.name);
    cairn_connector_result_dispose(&r);
    cairn_live_connector_dispose(&conn);
  }
  if (error < 0 || cairn_store_component_update(store, c->id, config) < 0)
    return cli_fail();
  cli_say("Successfully updated artifact_store `%s`.", c->name);
  return 0;
}

static const cli_spec update_spec = {
  "cairn artifact-store update NAME [--path=URI] [--KEY=VALUE]...",
  "Change fields of an artifact store (merged over the current ones; "
  "an empty value, as in --authentication_secret=, removes a field).  "
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
  rc = save_config(ctx, &c, merged);
  json_decref(merged);
  cairn_component_dispose(&c);
  cli_args_dispose(&a);
  return rc;
}

static const cli_spec remove_spec = {
  "cairn artifact-store remove-attribute NAME KEY...",
  "Remove optional fields of an artifact store, such as "
  "authentication_secret or block_size.", NULL, 2, -1, 0, 0};

static int do_remove_attribute(cli_ctx *ctx, int argc, char **argv)
{
  cairn_component c;
  cli_args a;
  json_t *merged;
  size_t i;
  int rc;

  if ((rc = cli_parse(ctx, &remove_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if ((rc = cmd_component_find(ctx, TYPE, a.args[0], &c)) != 0) {
    cli_args_dispose(&a);
    return rc;
  }
  merged = json_deep_copy(c.config);
  for (i = 1; i < a.nargs && rc == 0; i++) {
    if (strcmp(a.args[i], "path") == 0)
      rc = cli_error("path cannot be removed: change it with "
                     "'cairn artifact-store update %s --path=...'", c.name);
    else if (json_object_del(merged, a.args[i]) != 0)
      rc = cli_error("artifact store '%s' has no field '%s' to remove",
                     c.name, a.args[i]);
  }
  if (rc == 0)
    rc = save_config(ctx, &c, merged);
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
      cli_table_addv(t, f->name, "azure", "built in", CAIRN_CONNECTOR_TYPE,
                     CAIRN_RESOURCE_BLOB);
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
    {"remove-attribute", do_remove_attribute,
     "Remove optional fields of an artifact store."},
    {"rename", do_rename, "Rename an artifact store."},
    {"delete", do_delete, "Delete an artifact store."},
    {"connect", do_connect, "Connect an artifact store to a connector."},
    {"disconnect", do_disconnect, "Disconnect it from its connector."},
    {"flavor", do_flavor, "Artifact store flavors ('flavor list')."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "artifact-store",
                      "Manage artifact stores: where artifact bytes live.",
                      commands, argc, argv);
}

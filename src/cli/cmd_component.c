/*
 * Listing and describing stack components, shared by the component
 * command groups.
 */
#include "cli/cmd_component.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "stack/stack.h"

const char *cmd_component_upper(const char *type)
{
  return strcmp(type, "artifact_store") == 0 ? "ARTIFACT_STORE"
                                             : "ORCHESTRATOR";
}

const char *cmd_component_title(const char *type)
{
  return strcmp(type, "artifact_store") == 0 ? "Artifact_Store"
                                             : "Orchestrator";
}

const char *cmd_component_label(const char *type)
{
  return strcmp(type, "artifact_store") == 0 ? "artifact store"
                                             : "orchestrator";
}

/* The id of @p type in the active stack (free()), or NULL. */
static char *active_part(cairn_store *store, const char *type)
{
  cairn_stack s;
  char *id;

  if (cairn_store_stack_active(store, &s) < 0)
    return NULL;
  id = strdup(strcmp(type, "artifact_store") == 0 ? s.artifact_store_id
                                                  : s.orchestrator_id);
  cairn_stack_dispose(&s);
  return id;
}

int cmd_component_is_active(cairn_store *store, const cairn_component *c)
{
  char *id = active_part(store, c->type);
  int active = id && strcmp(id, c->id) == 0;

  free(id);
  return active;
}

int cmd_component_find(cli_ctx *ctx, const char *type,
                       const char *name_or_null, cairn_component *out)
{
  cairn_store *store = cli_store(ctx);
  char *id;
  int error;

  memset(out, 0, sizeof(*out));
  if (!store)
    return 1;
  if (name_or_null) {
    if (cairn_store_component_get(store, out, type, name_or_null) < 0)
      return cli_fail();
    return 0;
  }
  if (!(id = active_part(store, type)))
    return cli_fail();
  error = cairn_store_component_get(store, out, type, id);
  free(id);
  return error < 0 ? cli_fail() : 0;
}

char *cmd_component_value_text(const json_t *v)
{
  if (json_is_string(v))
    return strdup(json_string_value(v));
  return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* The command group of a component type: "artifact-store". */
static const char *group_of(const char *type)
{
  return strcmp(type, "artifact_store") == 0 ? "artifact-store"
                                             : "orchestrator";
}

/* A spec whose usage names the real command group. */
static cli_spec type_spec(const char *type, const char *tail,
                          const char *summary, int max_args,
                          char *usage, size_t usage_len)
{
  cli_spec spec = {NULL, summary, NULL, 0, max_args, 0, 1};

  snprintf(usage, usage_len, "cairn %s %s", group_of(type), tail);
  spec.usage = usage;
  return spec;
}

int cmd_component_list(cli_ctx *ctx, const char *type, int argc,
                       char **argv)
{
  static const char *const columns[] = {"ACTIVE", "NAME", "COMPONENT ID",
                                        "FLAVOR"};
  cairn_component *list;
  cairn_store *store;
  cli_table *t;
  cli_args args;
  char *active;
  size_t n, i;
  int rc;

  char usage[96];
  cli_spec spec = type_spec(type, "list [--output json]",
                            "List the registered components of this type.",
                            0, usage, sizeof(usage));

  if ((rc = cli_parse(ctx, &spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&args);
  if (!(store = cli_store(ctx)))
    return 1;
  if (cairn_store_component_list(store, type, &list, &n) < 0)
    return cli_fail();
  active = active_part(store, type);
  t = cli_table_new(NULL, columns, 4);
  for (i = 0; i < n; i++)
    cli_table_addv(t, active && strcmp(active, list[i].id) == 0
                          ? CLI_ACTIVE_MARK : "",
                   list[i].name, list[i].id, list[i].flavor);
  cli_table_emit(ctx, t);
  free(active);
  cairn_component_list_free(list, n);
  return 0;
}

/* Config rows, with the effective values of unset fields. */
static void config_rows(cli_table *t, cairn_store *store,
                        const cairn_component *c)
{
  const char *key;
  json_t *value;
  char *text, *upper, *p;

  json_object_foreach(c->config, key, value) {
    text = cmd_component_value_text(value);
    upper = strdup(key);
    for (p = upper; p && *p; p++)
      *p = (char)toupper((unsigned char)*p);
    cli_table_addv(t, upper, text);
    free(upper);
    free(text);
  }
  if (strcmp(c->type, "artifact_store") == 0 &&
      !json_object_get(c->config, "path")) {
    cairn_buf b = CAIRN_BUF_INIT;

    text = cairn_stack_store_root(store, c);
    cairn_buf_printf(&b, "%s (default)", text ? text : "");
    cli_table_addv(t, "PATH", cairn_buf_cstr(&b));
    cairn_buf_dispose(&b);
    free(text);
  }
  if (strcmp(c->type, "orchestrator") == 0 &&
      !json_object_get(c->config, "parallelism")) {
    char n[48];

    snprintf(n, sizeof(n), "%u (default: online cores)",
             cairn_stack_parallelism(c));
    cli_table_addv(t, "PARALLELISM", n);
  }
}

/*
 * The service connector of an artifact store: a PROPERTY | VALUE table,
 * or a line saying it has none.
 */
static void connector_table(cli_ctx *ctx, cairn_store *store,
                            const cairn_component *c, json_t *obj)
{
  static const char *const columns[] = {"PROPERTY", "VALUE"};
  cairn_connector conn;
  cli_table *t;
  char *resource = NULL;
  const char *path = json_string_value(json_object_get(c->config, "path"));

  if (!c->connector_id) {
    cli_say("No service connector: 'cairn artifact-store connect %s "
            "--connector NAME' connects one.", c->name);
    json_object_set_new(obj, "connector", json_null());
    return;
  }
  if (cairn_store_connector_get(store, &conn, c->connector_id) < 0) {
    cli_say("Service connector: %s", cairn_error_last()->message);
    json_object_set_new(obj, "connector", json_null());
    return;
  }
  /* The store's resource is its container; else the connector's. */
  if (!path || cairn_connector_container_id(&resource, path) < 0)
    resource = strdup(conn.resource_id ? conn.resource_id : "N/A");
  json_object_set_new(obj, "connector", json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s}", "id", conn.id, "name", conn.name,
      "type", conn.type, "auth_method", conn.auth_method, "resource_type",
      CAIRN_RESOURCE_BLOB, "resource_name", resource ? resource : ""));
  if (!ctx->json) {
    t = cli_table_new("Service Connector", columns, 2);
    cli_table_addv(t, "ID", conn.id);
    cli_table_addv(t, "NAME", conn.name);
    cli_table_addv(t, "TYPE", conn.type);
    cli_table_addv(t, "AUTH METHOD", conn.auth_method);
    cli_table_addv(t, "RESOURCE TYPE", CAIRN_RESOURCE_BLOB);
    cli_table_addv(t, "RESOURCE NAME", resource ? resource : "");
    cli_table_print(t, stdout);
  }
  free(resource);
  cairn_connector_dispose(&conn);
}

static void stacks_line(cairn_store *store, const cairn_component *c,
                        json_t *obj)
{
  cairn_strlist users = CAIRN_STRLIST_INIT;
  cairn_buf b = CAIRN_BUF_INIT;
  json_t *arr = json_array();
  size_t i;

  if (cairn_store_stacks_using(store, c->id, &users) == 0) {
    for (i = 0; i < users.count; i++) {
      cairn_buf_printf(&b, "%s'%s'", i ? ", " : "", users.items[i]);
      json_array_append_new(arr, json_string(users.items[i]));
    }
  }
  if (users.count)
    cli_say("Used by stack(s): %s", cairn_buf_cstr(&b));
  else
    cli_say("Used by no stack.");
  json_object_set_new(obj, "stacks", arr);
  cairn_buf_dispose(&b);
  cairn_strlist_dispose(&users);
}


int cmd_component_describe(cli_ctx *ctx, const char *type, int argc,
                           char **argv)
{
  static const char *const columns[] = {"COMPONENT_PROPERTY", "VALUE"};
  cairn_component c;
  cairn_store *store;
  cli_table *t;
  cli_args args;
  json_t *obj;
  char title[256], *root = NULL, *source = NULL;
  int rc, active;

  char usage[96];
  cli_spec spec = type_spec(type, "describe [NAME] [--output json]",
                            "Show a component's configuration (the active "
                            "stack's when no NAME).", 1, usage,
                            sizeof(usage));

  if ((rc = cli_parse(ctx, &spec, argc, argv, &args)) != 0) {
    cli_args_dispose(&args);
    return CLI_PARSED(rc);
  }
  rc = cmd_component_find(ctx, type, args.nargs ? args.args[0] : NULL, &c);
  cli_args_dispose(&args);
  if (rc)
    return rc;
  store = cli_store(ctx);
  active = cmd_component_is_active(store, &c);

  obj = json_pack("{s:s, s:s, s:s, s:s, s:O, s:b}", "id", c.id, "name",
                  c.name, "type", c.type, "flavor", c.flavor, "config",
                  c.config, "active", active);
  cli_say("%s '%s' of flavor '%s' with id '%s'.", cmd_component_title(type),
          c.name, c.flavor, c.id);
  snprintf(title, sizeof(title), "'%s' %s Component Configuration%s",
           c.name, cmd_component_upper(type), active ? " (ACTIVE)" : "");
  if (!ctx->json) {
    t = cli_table_new(title, columns, 2);
    config_rows(t, store, &c);
    cli_table_print(t, stdout);
  }
  if (strcmp(type, "artifact_store") == 0) {
    root = cairn_stack_store_root(store, &c);
    source = cairn_stack_credential_source(store, &c);
    if (strcmp(c.flavor, "azure") == 0)
      connector_table(ctx, store, &c, obj);
    cli_say("Credentials: %s", source ? source : "");
    json_object_set_new(obj, "root", json_string(root ? root : ""));
    json_object_set_new(obj, "credential_source",
                        json_string(source ? source : ""));
  } else {
    json_object_set_new(obj, "parallelism",
                        json_integer(cairn_stack_parallelism(&c)));
  }
  stacks_line(store, &c, obj);
  if (ctx->json)
    cli_json_emit(obj);
  else
    json_decref(obj);
  free(root);
  free(source);
  cairn_component_dispose(&c);
  return 0;
}

/*
 * cairn service-connector: register, list, describe, verify, update,
 * delete, list-resources, list-types, describe-type.  Secret fields are
 * shown as [HIDDEN] unless -x is given; they are kept in a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_component.h"
#include "core/util.h"
#include "stack/connector.h"

#define HIDDEN "[HIDDEN]"

static const char *const resource_columns[] = {"RESOURCE TYPE",
                                               "RESOURCE NAMES"};

/* ---------------------------------------------------------------- */
/* Shared with artifact-store (cmd_component.h)                      */
/* ---------------------------------------------------------------- */

char *cmd_connector_wrap(const char *text, size_t width)
{
  cairn_buf b = CAIRN_BUF_INIT;
  size_t col = 0, word;

  while (*text) {
    word = strcspn(text, " ");
    if (col && col + 1 + word > width) {
      cairn_buf_putc(&b, '\n');
      col = 0;
    } else if (col) {
      cairn_buf_putc(&b, ' ');
      col++;
    }
    cairn_buf_put(&b, text, word);
    col += word;
    text += word;
    text += strspn(text, " ");
  }
  return cairn_buf_detach(&b);
}

char *cmd_connector_names_cell(const cairn_connector_row *row)
{
  cairn_buf b = CAIRN_BUF_INIT;
  char *wrapped;
  size_t i;

  if (row->error) {
    wrapped = cmd_connector_wrap(row->error, 60);
    cairn_buf_printf(&b, "error: %s", wrapped ? wrapped : "");
    free(wrapped);
  } else {
    for (i = 0; i < row->names.count; i++)
      cairn_buf_printf(&b, "%s%s", i ? "\n" : "", row->names.items[i]);
  }
  if (!b.size)
    cairn_buf_puts(&b, "(none yet)");
  return cairn_buf_detach(&b);
}

json_t *cmd_connector_row_json(const cairn_connector_row *row)
{
  json_t *names = json_array();
  size_t i;

  for (i = 0; i < row->names.count; i++)
    json_array_append_new(names, json_string(row->names.items[i]));
  return json_pack("{s:s, s:o, s:s?}", "resource_type", row->resource_type,
                   "resource_names", names, "error", row->error);
}

void cmd_connector_print_result(cli_ctx *ctx,
                                const cairn_connector_result *r)
{
  cli_table *t = cli_table_new(NULL, resource_columns, 2);
  size_t i;

  for (i = 0; i < r->count; i++) {
    char *cell = cmd_connector_names_cell(&r->rows[i]);

    cli_table_addv(t, r->rows[i].resource_type, cell);
    cli_table_row_json(t, cmd_connector_row_json(&r->rows[i]));
    free(cell);
  }
  cli_table_emit(ctx, t);
}

const char *cmd_connector_first_error(const cairn_connector_result *r)
{
  size_t i;

  for (i = 0; i < r->count; i++)
    if (r->rows[i].error)
      return r->rows[i].error;
  return cairn_error_last()->message;
}

void cmd_connector_expires_in(char *out, size_t outlen,
                              const cairn_connector *c)
{
  int64_t left;

  if (!c->expires_at) {
    snprintf(out, outlen, "%s", "");
    return;
  }
  if (cairn_connector_expired(c)) {
    snprintf(out, outlen, "Expired!");
    return;
  }
  left = c->expires_at - cairn_time_now();
  cli_format_duration(out, outlen, left * 1000);
}

/* ---------------------------------------------------------------- */
/* Prompts                                                           */
/* ---------------------------------------------------------------- */

/*
 * Ask until an answer comes (an empty one is fine unless @p required);
 * the end of standard input is an error naming @p what, or the empty
 * answer (the default) when none is required.
 */
static int ask(const char *question, int hidden, int required,
               const char *what, char **out)
{
  int tries;

  for (tries = 0; tries < 3; tries++) {
    if (cli_prompt(question, hidden, out) < 0) {
      if (!required && (*out = cairn__strdup("")))
        return 0;
      return cli_error("standard input ended before %s was given", what);
    }
    if (**out || !required)
      return 0;
    free(*out);
    *out = NULL;
    cli_warn("%s is required", what);
  }
  return cli_error("no %s was given", what);
}

/* ---------------------------------------------------------------- */
/* register                                                          */
/* ---------------------------------------------------------------- */

static const cli_opt register_opts[] = {
  {"type", "t", CLI_VALUE, "TYPE", "Connector type: azure."},
  {"auth-method", "a", CLI_VALUE, "METHOD",
   "implicit, service-principal, access-token, account-key, sas-token or "
   "connection-string."},
  {"resource-type", "r", CLI_VALUE, "TYPE",
   "Scope it to blob-container or azure-generic (default: both)."},
  {"resource-id", "ri", CLI_VALUE, "ID",
   "Scope it to one resource: az://CONTAINER for blob-container."},
  {"description", "d", CLI_VALUE, "TEXT", "A description."},
  {"expiration-seconds", NULL, CLI_VALUE, "N",
   "Lifetime of the SAS handed to stores (account-key, connection-string; "
   "default 3600), or an access token's expiry from now."},
  {"no-verify", NULL, CLI_FLAG, NULL, "Save without verifying."},
  {"interactive", "i", CLI_FLAG, NULL, "Ask for every value."},
  {"show-secrets", "x", CLI_FLAG, NULL, "Show secret values in the output."},
  CLI_OPT_END};

static const cli_spec register_spec = {
  "cairn service-connector register NAME --type azure --auth-method METHOD "
  "[--FIELD=VALUE]... [-r TYPE] [-ri ID] [--expiration-seconds N] "
  "[--no-verify] [-i]",
  "Register a service connector: Azure credentials that artifact stores "
  "connected to it use.  Fields by auth method (see 'cairn "
  "service-connector describe-type azure'): service-principal: tenant_id, "
  "client_id, client_secret, storage_account; access-token: token, "
  "storage_account, expires_at; implicit: storage_account; account-key: "
  "account_name, account_key; sas-token: account_name, sas_token; "
  "connection-string: connection_string; every method: blob_endpoint.  "
  "A value @FILE is read from FILE.",
  register_opts, 0, 1, CLI_SECRET_KEYS, 1};

/* The --FIELD=VALUE pairs, each value expanded (@FILE). */
static int expanded_fields(const cli_args *a, json_t *out)
{
  const char *key;
  json_t *v;
  char *text;

  json_object_foreach(a->fields, key, v) {
    if (cli_expand_value(json_string_value(v), &text))
      return 1;
    json_object_set_new(out, key, json_string(text));
    explicit_bzero(text, strlen(text));
    free(text);
  }
  return 0;
}

static int parse_seconds(const char *text, int64_t *out)
{
  char *end;
  long long n;

  *out = 0;
  if (!text)
    return 0;
  n = strtoll(text, &end, 10);
  if (!*text || *end || n <= 0)
    return cli_error("--expiration-seconds must be a positive number of "
                     "seconds, not '%s'", text);
  *out = n;
  return 0;
}

/* Text answers that outlive the prompts of a -i flow. */
typedef struct {
  char *name, *type, *method, *rtype, *rid, *description, *seconds;
} answers;

static void answers_dispose(answers *an)
{
  free(an->name);
  free(an->type);
  free(an->method);
  free(an->rtype);
  free(an->rid);
  free(an->description);
  free(an->seconds);
  memset(an, 0, sizeof(*an));
}

/* Ask for one field of @p m unless given; secret ones without echo. */
static int ask_field(const cairn_connector_method *m, const char *field,
                     int required, json_t *fields)
{
  char question[160], *v = NULL;
  int secret = cairn_connector_field_is_secret(m, field), rc;

  if (json_object_get(fields, field))
    return 0;
  if (strcmp(field, "expires_at") == 0)
    snprintf(question, sizeof(question), "%s (ISO 8601; empty: the token's "
             "own expiry or --expiration-seconds): ", field);
  else
    snprintf(question, sizeof(question), "%s%s: ", field,
             required ? "" : " (optional, empty to skip)");
  if ((rc = ask(question, secret, required, field, &v)) != 0)
    return rc;
  if (*v)
    json_object_set_new(fields, field, json_string(v));
  explicit_bzero(v, strlen(v));
  free(v);
  return 0;
}

/* The -i flow: every value not given on the command line is asked. */
static int interactive(const cli_args *a, cairn_connector_draft *d,
                       json_t *fields, answers *an)
{
  const cairn_connector_method *m;
  const char *const *f;
  cairn_buf list = CAIRN_BUF_INIT;
  char question[512];
  size_t i;
  int rc;

  if (!d->name && (rc = ask("Service connector name: ", 0, 1, "a name",
                            &an->name)) != 0)
    return rc;
  if (an->name)
    d->name = an->name;
  if (!d->description &&
      (rc = ask("Description (optional): ", 0, 0, "a description",
                &an->description)) != 0)
    return rc;
  if (an->description)
    d->description = an->description;
  if (!d->type) {
    if ((rc = ask("Connector type [azure]: ", 0, 0, "the connector type",
                  &an->type)) != 0)
      return rc;
    d->type = *an->type ? an->type : CAIRN_CONNECTOR_TYPE;
  }
  if (!cli_value(a, "resource-type")) {
    if ((rc = ask("Resource type (blob-container, azure-generic; empty for "
                  "both): ", 0, 0, "the resource type", &an->rtype)) != 0)
      return rc;
    d->resource_type = *an->rtype ? an->rtype : NULL;
  }
  if (!d->auth_method) {
    for (i = 0; (m = cairn_connector_method_at(i)); i++)
      if (!m->implicit || cairn_connector_implicit_enabled())
        cairn_buf_printf(&list, "%s%s", list.size ? ", " : "", m->name);
    snprintf(question, sizeof(question), "Auth method (%s): ",
             cairn_buf_cstr(&list));
    cairn_buf_dispose(&list);
    if ((rc = ask(question, 0, 1, "the auth method", &an->method)) != 0)
      return rc;
    d->auth_method = an->method;
  }
  if (!(m = cairn_connector_method_find(d->auth_method)))
    return 0; /* from_draft says which methods there are */
  for (f = m->required; *f; f++)
    if ((rc = ask_field(m, *f, 1, fields)) != 0)
      return rc;
  for (f = m->optional; *f; f++)
    if ((rc = ask_field(m, *f, 0, fields)) != 0)
      return rc;
  if (!d->resource_id && d->resource_type &&
      strcmp(d->resource_type, CAIRN_RESOURCE_BLOB) == 0) {
    if ((rc = ask("Resource id (az://CONTAINER; empty for every "
                  "container): ", 0, 0, "the resource id", &an->rid)) != 0)
      return rc;
    d->resource_id = *an->rid ? an->rid : NULL;
  }
  if (!cli_value(a, "expiration-seconds") &&
      (m->kind == CAIRN_CONNECTOR_KEY || m->kind == CAIRN_CONNECTOR_CONNSTR ||
       (m->expiring && !json_object_get(fields, "expires_at")))) {
    if ((rc = ask(m->expiring ? "Expiration seconds (optional: the token's "
                  "own expiry when empty): " : "Lifetime in seconds of the "
                  "SAS handed to stores (empty: 3600): ", 0, 0,
                  "the expiration", &an->seconds)) != 0)
      return rc;
    if (*an->seconds &&
        (rc = parse_seconds(an->seconds, &d->expiration_seconds)) != 0)
      return rc;
  }
  return 0;
}

/* The connector's values for output: secret ones hidden unless shown. */
static json_t *shown_values(const cairn_live_connector *c, int show)
{
  json_t *out = json_object();
  const char *key;
  json_t *v;

  json_object_foreach(c->values, key, v) {
    if (!show && cairn_connector_field_is_secret(c->method, key))
      json_object_set_new(out, key, json_string(HIDDEN));
    else
      json_object_set(out, key, v);
  }
  return out;
}

static void print_configuration(const cairn_live_connector *c, int show)
{
  static const char *const columns[] = {"PROPERTY", "VALUE"};
  json_t *values = shown_values(c, show);
  cli_table *t = cli_table_new("Configuration", columns, 2);
  const char *key;
  json_t *v;

  json_object_foreach(values, key, v)
    cli_table_addv(t, key, json_string_value(v));
  cli_table_print(t, stdout);
  json_decref(values);
}

/*
 * Verify @p c: 0 with the rows in @p r, or 1 after printing the rows
 * and why it failed (@p failure, then the first row's error).
 */
static int verify_quietly(cli_ctx *ctx, cairn_live_connector *c,
                          const char *rtype, const char *rid,
                          const char *failure, cairn_connector_result *r)
{
  int error = cairn_connector_verify(c, rtype, rid, r);

  if (error < 0 && r->count == 0)
    return cli_fail();
  if (error < 0) {
    cmd_connector_print_result(ctx, r);
    cli_error("%s: %s", failure, cmd_connector_first_error(r));
    cairn_connector_result_dispose(r);
    return 1;
  }
  return 0;
}

static int do_register(cli_ctx *ctx, int argc, char **argv)
{
  cairn_connector_result r;
  cairn_connector_draft d;
  cairn_live_connector c;
  cairn_connector existing;
  cairn_store *store;
  answers an;
  json_t *fields = json_object();
  cli_args a;
  int rc, verify;

  memset(&r, 0, sizeof(r));
  memset(&d, 0, sizeof(d));
  memset(&c, 0, sizeof(c));
  memset(&an, 0, sizeof(an));
  if ((rc = cli_parse(ctx, &register_spec, argc, argv, &a)) != 0)
    goto done;
  d.name = a.nargs ? a.args[0] : NULL;
  d.type = cli_value(&a, "type");
  d.auth_method = cli_value(&a, "auth-method");
  d.resource_type = cli_value(&a, "resource-type");
  d.resource_id = cli_value(&a, "resource-id");
  d.description = cli_value(&a, "description");
  d.fields = fields;
  verify = !cli_flag(&a, "no-verify");
  if ((rc = expanded_fields(&a, fields)) ||
      (rc = parse_seconds(cli_value(&a, "expiration-seconds"),
                          &d.expiration_seconds)))
    goto done;
  if (cli_flag(&a, "interactive")) {
    if ((rc = interactive(&a, &d, fields, &an)) != 0)
      goto done;
  } else if (!d.name) {
    rc = cli_error("a service connector needs a name: cairn "
                   "service-connector register NAME --type azure ... (or "
                   "-i to be asked)");
    goto done;
  } else if (!d.type) {
    rc = cli_error("a service connector needs a type: --type azure (or -i "
                   "to be asked for every value)");
    goto done;
  }
  if (!(store = cli_store(ctx))) {
    rc = 1;
    goto done;
  }
  if (cairn_store_connector_get(store, &existing, d.name) == 0) {
    rc = cli_error("a service connector named '%s' exists already: choose "
                   "another name, or change it with 'cairn "
                   "service-connector update %s'", d.name, existing.name);
    cairn_connector_dispose(&existing);
    goto done;
  }
  cairn_error_clear();
  if (cairn_connector_from_draft(&c, &d) < 0) {
    rc = cli_fail();
    goto done;
  }
  if (verify && (rc = verify_quietly(ctx, &c, NULL, NULL,
                                     "the service connector was not "
                                     "registered because its verification "
                                     "failed", &r)) != 0)
    goto done;
  if (cairn_connector_save(store, &c) < 0) {
    rc = cli_fail();
    goto done;
  }
  if (verify) {
    cli_say("Successfully registered service connector `%s` with access to "
            "the following resources:", c.rec.name);
    cmd_connector_print_result(ctx, &r);
  } else {
    cli_say("Successfully registered service connector `%s`.", c.rec.name);
  }
  if (cli_flag(&a, "show-secrets") && !ctx->json)
    print_configuration(&c, 1);
  if (ctx->json && !verify)
    cli_json_emit(json_pack("{s:s, s:s}", "id", c.rec.id, "name",
                            c.rec.name));
done:
  cairn_connector_result_dispose(&r);
  cairn_live_connector_dispose(&c);
  answers_dispose(&an);
  json_decref(fields);
  cli_args_dispose(&a);
  return CLI_PARSED(rc);
}

/* ---------------------------------------------------------------- */
/* list, describe                                                    */
/* ---------------------------------------------------------------- */

static const cli_spec list_spec = {
  "cairn service-connector list [--output json]",
  "List the service connectors.", NULL, 0, 0, 0, 1};

static json_t *types_json(const cairn_connector *c)
{
  json_t *arr = json_array();

  if (!c->resource_type || strcmp(c->resource_type, CAIRN_RESOURCE_BLOB) == 0)
    json_array_append_new(arr, json_string(CAIRN_RESOURCE_BLOB));
  if (!c->resource_type ||
      strcmp(c->resource_type, CAIRN_RESOURCE_GENERIC) == 0)
    json_array_append_new(arr, json_string(CAIRN_RESOURCE_GENERIC));
  return arr;
}

static int do_list(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"NAME", "ID", "TYPE",
                                        "RESOURCE TYPES", "RESOURCE NAME",
                                        "EXPIRES IN"};
  cairn_connector *list;
  cairn_store *store;
  cli_table *t;
  cli_args a;
  size_t n, i;
  char expires[32];
  int rc;

  if ((rc = cli_parse(ctx, &list_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&a);
  if (!(store = cli_store(ctx)))
    return 1;
  if (cairn_store_connector_list(store, &list, &n) < 0)
    return cli_fail();
  if (n == 0 && !ctx->json) {
    cli_say("No service connectors: register one with 'cairn "
            "service-connector register NAME --type azure --auth-method "
            "METHOD ...'.");
    return 0;
  }
  t = cli_table_new(NULL, columns, 6);
  for (i = 0; i < n; i++) {
    /* One resource type a line. */
    const char *types = list[i].resource_type
                            ? list[i].resource_type
                            : CAIRN_RESOURCE_BLOB "\n" CAIRN_RESOURCE_GENERIC;

    cmd_connector_expires_in(expires, sizeof(expires), &list[i]);
    cli_table_addv(t, list[i].name, list[i].id, list[i].type, types,
                   list[i].resource_id ? list[i].resource_id : "<multiple>",
                   expires);
    cli_table_row_json(t, json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:s?, s:I, s:b}", "name", list[i].name,
        "id", list[i].id, "type", list[i].type, "auth_method",
        list[i].auth_method, "resource_types", types_json(&list[i]),
        "resource_name", list[i].resource_id, "expires_at",
        (json_int_t)list[i].expires_at, "expired",
        cairn_connector_expired(&list[i])));
  }
  cli_table_emit(ctx, t);
  cairn_connector_list_free(list, n);
  return 0;
}

static const cli_opt describe_opts[] = {
  {"show-secrets", "x", CLI_FLAG, NULL, "Show the secret values."},
  CLI_OPT_END};

static const cli_spec describe_spec = {
  "cairn service-connector describe NAME [-x] [--output json]",
  "Show a service connector: its properties and configuration (secret "
  "values as [HIDDEN] unless -x).",
  describe_opts, 1, 1, 0, 1};

static void users_line(cairn_store *store, const cairn_connector *c,
                       json_t *obj)
{
  cairn_strlist users = CAIRN_STRLIST_INIT;
  cairn_buf b = CAIRN_BUF_INIT;
  json_t *arr = json_array();
  size_t i;

  if (cairn_store_connector_users(store, c->id, &users) == 0)
    for (i = 0; i < users.count; i++) {
      cairn_buf_printf(&b, "%s%s", i ? ", " : "", users.items[i]);
      json_array_append_new(arr, json_string(users.items[i]));
    }
  if (users.count)
    cli_say("Used by %s.", cairn_buf_cstr(&b));
  else
    cli_say("Used by no component.");
  json_object_set_new(obj, "used_by", arr);
  cairn_buf_dispose(&b);
  cairn_strlist_dispose(&users);
}

static int do_describe(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"PROPERTY", "VALUE"};
  cairn_live_connector c;
  cairn_store *store;
  cli_table *t;
  cli_args a;
  json_t *obj;
  char expires[32], created[32], updated[32], session[32], title[256];
  int rc, show;

  if ((rc = cli_parse(ctx, &describe_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  show = cli_flag(&a, "show-secrets");
  if (!(store = cli_store(ctx)) ||
      cairn_connector_open(&c, store, a.args[0]) < 0) {
    cli_args_dispose(&a);
    return store ? cli_fail() : 1;
  }
  cli_args_dispose(&a);
  cmd_connector_expires_in(expires, sizeof(expires), &c.rec);
  cli_format_time(created, sizeof(created), c.rec.created);
  cli_format_time(updated, sizeof(updated), c.rec.updated);
  if (c.rec.expiration_seconds)
    snprintf(session, sizeof(session), "%llds",
             (long long)c.rec.expiration_seconds);
  else
    snprintf(session, sizeof(session), "%s", "N/A");

  cli_say("Service connector '%s' of type '%s' with id '%s'.", c.rec.name,
          c.rec.type, c.rec.id);
  obj = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s?, s:s?, s:s, s:I, s:I, "
                  "s:b, s:s, s:s, s:o}",
                  "id", c.rec.id, "name", c.rec.name, "type", c.rec.type,
                  "auth_method", c.rec.auth_method, "resource_types",
                  types_json(&c.rec), "resource_name", c.rec.resource_id,
                  "secret_id", c.rec.secret_id, "description",
                  c.rec.description, "expires_at",
                  (json_int_t)c.rec.expires_at, "expiration_seconds",
                  (json_int_t)c.rec.expiration_seconds, "expired",
                  cairn_connector_expired(&c.rec), "created", created,
                  "updated", updated, "configuration",
                  shown_values(&c, show));
  if (!ctx->json) {
    snprintf(title, sizeof(title), "Service connector '%s'", c.rec.name);
    t = cli_table_new(title, columns, 2);
    cli_table_addv(t, "ID", c.rec.id);
    cli_table_addv(t, "NAME", c.rec.name);
    cli_table_addv(t, "TYPE", c.rec.type);
    cli_table_addv(t, "AUTH METHOD", c.rec.auth_method);
    cli_table_addv(t, "RESOURCE TYPES",
                   cairn_connector_resource_types(&c.rec));
    cli_table_addv(t, "RESOURCE NAME",
                   c.rec.resource_id ? c.rec.resource_id : "<multiple>");
    cli_table_addv(t, "SECRET ID", c.rec.secret_id ? c.rec.secret_id : "");
    cli_table_addv(t, "SESSION DURATION", session);
    cli_table_addv(t, "EXPIRES IN", *expires ? expires : "N/A");
    cli_table_addv(t, "DESCRIPTION", c.rec.description);
    cli_table_addv(t, "CREATED_AT", created);
    cli_table_addv(t, "UPDATED_AT", updated);
    cli_table_print(t, stdout);
    print_configuration(&c, show);
  }
  users_line(store, &c.rec, obj);
  if (ctx->json)
    cli_json_emit(obj);
  else
    json_decref(obj);
  cairn_live_connector_dispose(&c);
  return 0;
}

/* ---------------------------------------------------------------- */
/* verify, update, delete                                            */
/* ---------------------------------------------------------------- */

static const cli_opt verify_opts[] = {
  {"resource-type", "r", CLI_VALUE, "TYPE", "Verify this resource type."},
  {"resource-id", "ri", CLI_VALUE, "ID", "Verify this resource."},
  CLI_OPT_END};

static const cli_spec verify_spec = {
  "cairn service-connector verify NAME [-r TYPE] [-ri ID] [--output json]",
  "Check a service connector's credentials against Azure and list what "
  "they reach.  Exits 1 when any resource cannot be reached.",
  verify_opts, 1, 1, 0, 1};

static int do_verify(cli_ctx *ctx, int argc, char **argv)
{
  cairn_connector_result r;
  cairn_live_connector c;
  cairn_store *store;
  cli_args a;
  char failure[256];
  int rc;

  if ((rc = cli_parse(ctx, &verify_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if (!(store = cli_store(ctx)) ||
      cairn_connector_open(&c, store, a.args[0]) < 0) {
    cli_args_dispose(&a);
    return store ? cli_fail() : 1;
  }
  snprintf(failure, sizeof(failure), "service connector '%s' failed "
           "verification", c.rec.name);
  rc = verify_quietly(ctx, &c, cli_value(&a, "resource-type"),
                      cli_value(&a, "resource-id"), failure, &r);
  if (!rc) {
    cli_say("Service connector '%s' is correctly configured with valid "
            "credentials and has access to the following resources:",
            c.rec.name);
    cmd_connector_print_result(ctx, &r);
    cairn_connector_result_dispose(&r);
  }
  cairn_live_connector_dispose(&c);
  cli_args_dispose(&a);
  return rc;
}

static const cli_opt update_opts[] = {
  {"auth-method", "a", CLI_VALUE, "METHOD",
   "Another auth method (its fields must then all be given)."},
  {"resource-type", NULL, CLI_VALUE, "TYPE",
   "blob-container, azure-generic, or \"\" for both."},
  {"resource-id", "ri", CLI_VALUE, "ID", "One resource, or \"\" for all."},
  {"description", "d", CLI_VALUE, "TEXT", "A new description."},
  {"expiration-seconds", NULL, CLI_VALUE, "N",
   "SAS lifetime, or an access token's expiry from now."},
  {"remove-attr", "r", CLI_MULTI, "FIELD", "Remove a field; repeatable."},
  {"no-verify", NULL, CLI_FLAG, NULL, "Save without verifying."},
  CLI_OPT_END};

static const cli_spec update_spec = {
  "cairn service-connector update NAME [--FIELD=VALUE]... [-r FIELD]... "
  "[--auth-method M] [--resource-type T] [-ri ID] [--no-verify]",
  "Change a service connector: fields are merged over the current ones "
  "(a value @FILE is read from FILE), then it is verified again before it "
  "is saved.  Stores connected to it use the new credentials from their "
  "next use.",
  update_opts, 1, 1, CLI_SECRET_KEYS, 1};

/* The draft of an update: the current connector with the changes. */
static int update_draft(const cli_args *a, const cairn_live_connector *old,
                        cairn_connector_draft *d, json_t *fields)
{
  const cairn_strlist *removed = cli_values(a, "remove-attr");
  const char *method = cli_value(a, "auth-method");
  const char *rtype = cli_value(a, "resource-type");
  const char *key;
  json_t *v;
  size_t i;
  int rc;

  memset(d, 0, sizeof(*d));
  d->name = old->rec.name;
  d->type = old->rec.type;
  d->auth_method = method ? method : old->rec.auth_method;
  d->description = cli_value(a, "description");
  if (!d->description)
    d->description = old->rec.description;
  d->resource_type = rtype ? rtype : old->rec.resource_type;
  d->resource_id = cli_value(a, "resource-id");
  if (!d->resource_id && (!rtype || (old->rec.resource_type &&
                                     strcmp(rtype,
                                            old->rec.resource_type) == 0)))
    d->resource_id = old->rec.resource_id;
  if ((rc = parse_seconds(cli_value(a, "expiration-seconds"),
                          &d->expiration_seconds)) != 0)
    return rc;
  if (!d->expiration_seconds && !old->method->expiring &&
      strcmp(d->auth_method, old->rec.auth_method) == 0)
    d->expiration_seconds = old->rec.expiration_seconds;

  /* Same method: the current values, less the removed, plus the new. */
  if (strcmp(d->auth_method, old->rec.auth_method) == 0)
    json_object_foreach(old->values, key, v)
      json_object_set(fields, key, v);
  for (i = 0; i < removed->count; i++) {
    if (!json_object_get(fields, removed->items[i]))
      return cli_error("service connector '%s' has no field '%s' to "
                       "remove", old->rec.name, removed->items[i]);
    json_object_del(fields, removed->items[i]);
  }
  if (expanded_fields(a, fields))
    return 1;
  /* An access token keeps its expiry unless a new one is given. */
  if (old->method->expiring && !d->expiration_seconds &&
      strcmp(d->auth_method, old->rec.auth_method) == 0 &&
      !json_object_get(a->fields, "expires_at") &&
      !json_object_get(a->fields, "token") && old->rec.expires_at) {
    char when[32];

    cairn_time_iso8601(when, sizeof(when), old->rec.expires_at);
    json_object_set_new(fields, "expires_at", json_string(when));
  }
  d->fields = fields;
  return 0;
}

static int do_update(cli_ctx *ctx, int argc, char **argv)
{
  cairn_connector_result r;
  cairn_live_connector old, c;
  cairn_connector_draft d;
  cairn_store *store;
  json_t *fields = json_object();
  cli_args a;
  int rc, i, changes = 0;

  memset(&r, 0, sizeof(r));
  memset(&old, 0, sizeof(old));
  memset(&c, 0, sizeof(c));
  if ((rc = cli_parse(ctx, &update_spec, argc, argv, &a)) != 0)
    goto done;
  for (i = 0; update_opts[i].name; i++)
    if (strcmp(update_opts[i].name, "no-verify") != 0)
      changes += a.counts[i];
  if (!changes && json_object_size(a.fields) == 0) {
    rc = cli_error("nothing to update: give fields (--FIELD=VALUE), "
                   "--remove-attr, --auth-method, --resource-type, "
                   "--resource-id, --description or --expiration-seconds");
    goto done;
  }
  if (!(store = cli_store(ctx)) ||
      cairn_connector_open(&old, store, a.args[0]) < 0) {
    rc = store ? cli_fail() : 1;
    goto done;
  }
  if ((rc = update_draft(&a, &old, &d, fields)) != 0)
    goto done;
  if (cairn_connector_from_draft(&c, &d) < 0) {
    rc = cli_fail();
    goto done;
  }
  /* The same connector, changed: keep its id and its secret. */
  c.rec.id = old.rec.id;
  c.rec.secret_id = old.rec.secret_id;
  old.rec.id = old.rec.secret_id = NULL;
  if (!cli_flag(&a, "no-verify") &&
      (rc = verify_quietly(ctx, &c, NULL, NULL, "the service connector was "
                           "not updated because its verification failed",
                           &r)) != 0)
    goto done;
  if (cairn_connector_save(store, &c) < 0) {
    rc = cli_fail();
    goto done;
  }
  if (r.count) {
    cli_say("Successfully updated service connector `%s` with access to "
            "the following resources:", c.rec.name);
    cmd_connector_print_result(ctx, &r);
  } else {
    cli_say("Successfully updated service connector `%s`.", c.rec.name);
  }
done:
  cairn_connector_result_dispose(&r);
  cairn_live_connector_dispose(&old);
  cairn_live_connector_dispose(&c);
  json_decref(fields);
  cli_args_dispose(&a);
  return CLI_PARSED(rc);
}

static const cli_spec delete_spec = {
  "cairn service-connector delete NAME",
  "Delete a service connector and its secret.  Refused while a component "
  "is connected to it.", NULL, 1, 1, 0, 0};

static int do_delete(cli_ctx *ctx, int argc, char **argv)
{
  cairn_connector c;
  cairn_store *store;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &delete_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if (!(store = cli_store(ctx))) {
    cli_args_dispose(&a);
    return 1;
  }
  if (cairn_store_connector_get(store, &c, a.args[0]) < 0 ||
      cairn_store_connector_delete(store, c.id) < 0)
    rc = cli_fail();
  else
    cli_say("Deleted service connector '%s'.", c.name);
  cairn_connector_dispose(&c);
  cli_args_dispose(&a);
  return rc;
}

/* ---------------------------------------------------------------- */
/* list-resources                                                    */
/* ---------------------------------------------------------------- */

static const cli_opt resources_opts[] = {
  {"connector-type", "c", CLI_VALUE, "TYPE", "Only connectors of TYPE."},
  {"resource-type", "r", CLI_VALUE, "TYPE", "Only resources of TYPE."},
  {"resource-id", "ri", CLI_VALUE, "ID", "Only this resource."},
  {"exclude-errors", "e", CLI_FLAG, NULL, "Leave out connectors in error."},
  CLI_OPT_END};

static const cli_spec resources_spec = {
  "cairn service-connector list-resources [-c azure] [-r TYPE] [-ri ID] "
  "[-e] [--output json]",
  "Verify every service connector and show what each reaches.  Exits 1 "
  "when a connector shown is in error.",
  resources_opts, 0, 0, 0, 1};

static void resources_heading(const char *ctype, const char *rtype,
                              const char *rid)
{
  char by[64];

  snprintf(by, sizeof(by), "%s%s%sservice connectors", ctype ? "'" : "",
           ctype ? ctype : "", ctype ? "' " : "");
  if (rid)
    cli_say("The '%s' resource with name '%s' can be accessed by %s:",
            rtype, rid, by);
  else if (rtype)
    cli_say("The following '%s' resources can be accessed by %s:", rtype,
            by);
  else
    cli_say("The following resources can be accessed by %s:", by);
}

/* One connector's rows: its verification, or why it was not verified. */
static void add_connector_rows(json_t *out, cairn_store *store,
                               const cairn_connector *conn,
                               const char *rtype, const char *rid,
                               int exclude, size_t *failed)
{
  cairn_connector_result r;
  cairn_live_connector c;
  size_t k;
  int error;

  memset(&r, 0, sizeof(r));
  if ((error = cairn_connector_open(&c, store, conn->id)) == 0) {
    error = cairn_connector_verify(&c, rtype, rid, &r);
    cairn_live_connector_dispose(&c);
  }
  if (error == CAIRN_EINVAL && r.count == 0 && rid)
    return; /* scoped to another resource: not a match */
  if (r.count == 0) {
    /* Not even verified: one row with the reason. */
    if (!(r.rows = calloc(1, sizeof(*r.rows))))
      return;
    r.count = 1;
    r.rows[0].code = error;
    if (!(r.rows[0].resource_type = strdup(rtype ? rtype : "-")) ||
        !(r.rows[0].error = strdup(cairn_error_last()->message))) {
      cairn_connector_result_dispose(&r);
      return;
    }
  }
  for (k = 0; k < r.count; k++) {
    char *cell;
    json_t *j;

    if (r.rows[k].error) {
      (*failed)++;
      if (exclude)
        continue;
    }
    cell = cmd_connector_names_cell(&r.rows[k]);
    j = cmd_connector_row_json(&r.rows[k]);
    json_object_set_new(j, "connector_id", json_string(conn->id));
    json_object_set_new(j, "connector_name", json_string(conn->name));
    json_object_set_new(j, "connector_type", json_string(conn->type));
    json_array_append_new(out, json_pack(
        "{s:[s, s, s, s, s], s:o}", "cells", conn->id, conn->name,
        conn->type, r.rows[k].resource_type, cell ? cell : "", "json", j));
    free(cell);
  }
  cairn_connector_result_dispose(&r);
}

static int do_list_resources(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"CONNECTOR ID", "CONNECTOR NAME",
                                        "CONNECTOR TYPE", "RESOURCE TYPE",
                                        "RESOURCE NAMES"};
  const char *ctype, *rtype, *rid;
  cairn_connector *list = NULL;
  cairn_store *store = NULL;
  cli_table *t;
  cli_args a;
  json_t *rows, *row;
  size_t n = 0, i, failed = 0;
  int rc, exclude;

  if ((rc = cli_parse(ctx, &resources_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  ctype = cli_value(&a, "connector-type");
  rtype = cli_value(&a, "resource-type");
  rid = cli_value(&a, "resource-id");
  exclude = cli_flag(&a, "exclude-errors");
  if (rid && !rtype)
    rc = cli_error("--resource-id needs --resource-type: -r blob-container "
                   "-ri az://CONTAINER");
  else if (rtype && !cairn_connector_resource_find(rtype))
    rc = cli_error("unknown resource type '%s': azure connectors offer "
                   "blob-container and azure-generic", rtype);
  else if (!(store = cli_store(ctx)))
    rc = 1;
  else if (cairn_store_connector_list(store, &list, &n) < 0)
    rc = cli_fail();
  if (rc) {
    cli_args_dispose(&a);
    return rc;
  }
  rows = json_array();

  for (i = 0; i < n; i++) {
    if (ctype && strcmp(ctype, list[i].type) != 0)
      continue;
    if (rtype && list[i].resource_type &&
        strcmp(rtype, list[i].resource_type) != 0)
      continue;
    add_connector_rows(rows, store, &list[i], rtype, rid, exclude, &failed);
  }
  if (json_array_size(rows) || ctx->json) {
    resources_heading(ctype, rtype, rid);
    t = cli_table_new(NULL, columns, 5);
    json_array_foreach(rows, i, row) {
      const char *cells[5];
      size_t k;

      for (k = 0; k < 5; k++)
        cells[k] = json_string_value(
            json_array_get(json_object_get(row, "cells"), k));
      cli_table_add(t, cells);
      cli_table_row_json(t, json_incref(json_object_get(row, "json")));
    }
    cli_table_emit(ctx, t);
  } else {
    cli_say("No service connector reaches the resources asked for: "
            "register one with 'cairn service-connector register'.");
  }
  if (failed && !exclude)
    rc = cli_error("%zu resource row(s) could not be reached: see the "
                   "errors above (-e leaves them out)", failed);
  json_decref(rows);
  cairn_connector_list_free(list, n);
  cli_args_dispose(&a);
  return rc;
}

/* ---------------------------------------------------------------- */
/* list-types, describe-type                                         */
/* ---------------------------------------------------------------- */

static const cli_opt types_opts[] = {
  {"type", "t", CLI_VALUE, "TYPE", "Only this connector type."},
  {"resource-type", "r", CLI_VALUE, "TYPE", "Only types offering it."},
  {"auth-method", "a", CLI_VALUE, "METHOD", "Only types offering it."},
  {"detailed", "d", CLI_FLAG, NULL, "Also describe each type."},
  CLI_OPT_END};

static const cli_spec types_spec = {
  "cairn service-connector list-types [-t azure] [-r TYPE] [-a METHOD] [-d] "
  "[--output json]",
  "List the service connector types.", types_opts, 0, 0, 0, 1};

static void describe_type_text(const char *rtype, const char *method);

static int do_list_types(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"NAME", "TYPE", "RESOURCE TYPES",
                                        "AUTH METHODS", "LOCAL", "REMOTE"};
  const cairn_connector_resource *res;
  const cairn_connector_method *m;
  cairn_buf rt = CAIRN_BUF_INIT, am = CAIRN_BUF_INIT;
  const char *type, *rtype, *method;
  json_t *rts = json_array(), *ams = json_array();
  cli_table *t;
  cli_args a;
  size_t i;
  int rc;

  if ((rc = cli_parse(ctx, &types_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    json_decref(rts);
    json_decref(ams);
    return CLI_PARSED(rc);
  }
  type = cli_value(&a, "type");
  rtype = cli_value(&a, "resource-type");
  method = cli_value(&a, "auth-method");
  for (i = 0; (res = cairn_connector_resource_at(i)); i++) {
    cairn_buf_printf(&rt, "%s%s", i ? "\n" : "", res->name);
    json_array_append_new(rts, json_string(res->name));
  }
  for (i = 0; (m = cairn_connector_method_at(i)); i++) {
    cairn_buf_printf(&am, "%s%s", i ? "\n" : "", m->name);
    json_array_append_new(ams, json_string(m->name));
  }
  t = cli_table_new(NULL, columns, 6);
  if ((!type || strcmp(type, CAIRN_CONNECTOR_TYPE) == 0) &&
      (!rtype || cairn_connector_resource_find(rtype)) &&
      (!method || cairn_connector_method_find(method))) {
    cli_table_addv(t, "Azure Service Connector", CAIRN_CONNECTOR_TYPE,
                   cairn_buf_cstr(&rt), cairn_buf_cstr(&am), "yes", "yes");
    cli_table_row_json(t, json_pack("{s:s, s:s, s:O, s:O, s:b, s:b}",
                                     "name", "Azure Service Connector",
                                     "type", CAIRN_CONNECTOR_TYPE,
                                     "resource_types", rts, "auth_methods",
                                     ams, "local", 1, "remote", 1));
  }
  if (cli_table_rows(t) == 0 && !ctx->json) {
    cli_table_print(t, stdout);
    cli_say("No service connector type matches.");
  } else {
    cli_table_emit(ctx, t);
    if (cli_flag(&a, "detailed") && !ctx->json)
      describe_type_text(rtype, method);
  }
  cairn_buf_dispose(&rt);
  cairn_buf_dispose(&am);
  json_decref(rts);
  json_decref(ams);
  cli_args_dispose(&a);
  return 0;
}

static const cli_opt describe_type_opts[] = {
  {"resource-type", "r", CLI_VALUE, "TYPE", "Describe this resource type."},
  {"auth-method", "a", CLI_VALUE, "METHOD", "Describe this auth method."},
  CLI_OPT_END};

static const cli_spec describe_type_spec = {
  "cairn service-connector describe-type azure [-r TYPE] [-a METHOD]",
  "Describe a service connector type, its resource types and auth "
  "methods.", describe_type_opts, 1, 1, 0, 0};

static void print_wrapped(const char *indent, const char *text)
{
  char *w = cmd_connector_wrap(text, 74 - strlen(indent)), *line, *next;

  for (line = w; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    printf("%s%s\n", indent, line);
    if (!next)
      break;
  }
  free(w);
}

static void print_fields(const char *label, const cairn_connector_method *m,
                         const char *const *list)
{
  cairn_buf b = CAIRN_BUF_INIT;

  for (; *list; list++)
    cairn_buf_printf(&b, "%s%s%s", b.size ? ", " : "", *list,
                     cairn_connector_field_is_secret(m, *list) ? " (secret)"
                                                                : "");
  if (b.size) {
    printf("    %s: ", label);
    printf("%s\n", cairn_buf_cstr(&b));
  }
  cairn_buf_dispose(&b);
}

static void describe_type_text(const char *rtype, const char *method)
{
  const cairn_connector_resource *res;
  const cairn_connector_method *m;
  size_t i;

  printf("Azure Service Connector (connector type: azure)\n\n");
  print_wrapped("", "Registers Azure credentials once and hands them to "
                "the artifact stores connected to it, so that pipelines, "
                "servers and teammates need none of their own.  Stores get "
                "the narrowest credential the connector can give: bearer "
                "tokens, or a SAS for their own container instead of an "
                "account key.  Every method takes an optional "
                "blob_endpoint (a sovereign cloud, a private endpoint, "
                "Azurite); token methods name the storage account with "
                "storage_account.");
  printf("\nResource types:\n");
  for (i = 0; (res = cairn_connector_resource_at(i)); i++) {
    if (rtype && strcmp(rtype, res->name) != 0)
      continue;
    printf("  %s: %s\n", res->name, res->title);
    printf("    ids: %s%s\n", res->ids,
           res->multi ? " (many per connector)" : "");
  }
  printf("\nAuth methods:\n");
  for (i = 0; (m = cairn_connector_method_at(i)); i++) {
    if (method && strcmp(method, m->name) != 0)
      continue;
    printf("  %s: %s\n", m->name, m->title);
    print_fields("fields", m, m->required);
    print_fields("optional", m, m->optional);
    print_wrapped("    ", m->description);
  }
}

static int do_describe_type(cli_ctx *ctx, int argc, char **argv)
{
  const char *rtype, *method;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &describe_type_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  rtype = cli_value(&a, "resource-type");
  method = cli_value(&a, "auth-method");
  if (strcmp(a.args[0], CAIRN_CONNECTOR_TYPE) != 0)
    rc = cli_error("unknown connector type '%s': the one type is azure",
                   a.args[0]);
  else if (rtype && !cairn_connector_resource_find(rtype))
    rc = cli_error("unknown resource type '%s': azure connectors offer "
                   "blob-container and azure-generic", rtype);
  else if (method && !cairn_connector_method_find(method))
    rc = cli_error("unknown auth method '%s': see 'cairn service-connector "
                   "describe-type azure'", method);
  else
    describe_type_text(rtype, method);
  cli_args_dispose(&a);
  return rc;
}

int cmd_service_connector(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"register", do_register, "Register a service connector."},
    {"list", do_list, "List the service connectors."},
    {"describe", do_describe, "Show a service connector."},
    {"verify", do_verify, "Check a connector and list what it reaches."},
    {"update", do_update, "Change a service connector."},
    {"delete", do_delete, "Delete a service connector."},
    {"list-resources", do_list_resources,
     "Show what every connector reaches."},
    {"list-types", do_list_types, "List the connector types."},
    {"describe-type", do_describe_type, "Describe a connector type."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "service-connector",
                      "Manage service connectors: named Azure credentials "
                      "that artifact stores connect to.",
                      commands, argc, argv);
}

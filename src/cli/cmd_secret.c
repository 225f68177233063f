/*
 * cairn secret: create, list, get, update, rename, delete, export and
 * rotate-key.  Values are shown only by get and export; everything else
 * shows key names, with values masked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"
#include "stack/stack.h"

#define MASK "***"

static const char *const value_columns[] = {"SECRET_KEY", "SECRET_VALUE"};

/* The pairs of --KEY=VALUE fields, each value expanded (@FILE). */
static int fields_values(const cli_args *a, json_t *out)
{
  const char *key;
  json_t *v;
  char *text;

  json_object_foreach(a->fields, key, v) {
    if (cli_expand_value(json_string_value(v), &text))
      return 1;
    json_object_set_new(out, key, json_string(text));
    free(text);
  }
  return 0;
}

/* --values TEXT|@FILE merged over @p out. */
static int merge_values_option(const cli_args *a, json_t *out)
{
  const char *given = cli_value(a, "values");
  json_t *parsed;
  char *text;
  int rc;

  if (!given)
    return 0;
  if (cli_expand_value(given, &text))
    return 1;
  rc = cli_parse_values(text, "--values", &parsed);
  free(text);
  if (rc)
    return rc;
  json_object_update(out, parsed);
  json_decref(parsed);
  return 0;
}

/* Keys and hidden values from the terminal or a pipe, until "no". */
static int interactive_values(json_t *out)
{
  char *key = NULL, *value = NULL, *more = NULL;
  int rc = 0;

  for (;;) {
    if (cli_prompt("Secret key: ", 0, &key) < 0)
      break;
    if (!*key) {
      free(key);
      break;
    }
    if (json_object_get(out, key)) {
      cli_warn("key '%s' was given already: skipped", key);
    } else {
      char question[160];

      snprintf(question, sizeof(question), "Value for '%.100s': ", key);
      if (cli_prompt(question, 1, &value) < 0) {
        rc = cli_error("no value was given for '%s'", key);
        free(key);
        break;
      }
      json_object_set_new(out, key, json_string(value));
      memset(value, 0, strlen(value));
      free(value);
    }
    free(key);
    if (cli_prompt("Add another key? [y/N]: ", 0, &more) < 0)
      break;
    rc = more[0] == 'y' || more[0] == 'Y';
    free(more);
    if (!rc)
      break;
    rc = 0;
  }
  return rc;
}

static void print_values(const char *title, const json_t *values, int mask)
{
  cli_table *t = cli_table_new(title, value_columns, 2);
  const char *key;
  json_t *v;

  json_object_foreach((json_t *)values, key, v)
    cli_table_addv(t, key, mask ? MASK : json_string_value(v));
  cli_table_print(t, stdout);
}

static const cli_opt create_opts[] = {
  {"values", "v", CLI_VALUE, "JSON|YAML|@FILE",
   "Key/value pairs as JSON or YAML text, or @FILE holding them."},
  {"interactive", "i", CLI_FLAG, NULL,
   "Ask for each key and (hidden) value."},
  CLI_OPT_END};

static const cli_spec create_spec = {
  "cairn secret create NAME [--KEY=VALUE]... [-v JSON|YAML|@FILE] [-i]",
  "Create a secret: named key/value pairs, encrypted at rest.  A value "
  "@FILE is read from FILE; @@x is the text @x.",
  create_opts, 1, 1, CLI_SECRET_KEYS, 0};

static int do_create(cli_ctx *ctx, int argc, char **argv)
{
  cairn_store *store;
  cairn_secret s;
  json_t *values = json_object();
  char title[200];
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &create_spec, argc, argv, &a)) != 0)
    goto done;
  if (cli_flag(&a, "interactive") &&
      (json_object_size(a.fields) || cli_value(&a, "values"))) {
    rc = cli_error("-i asks for every value: do not give values with it");
    goto done;
  }
  if ((rc = fields_values(&a, values)) || (rc = merge_values_option(&a,
                                                                    values)))
    goto done;
  if (cli_flag(&a, "interactive") && (rc = interactive_values(values)))
    goto done;
  if (json_object_size(values) == 0) {
    if (cli_flag(&a, "interactive"))
      rc = cli_error("secret '%s' got no values: type a key and its value "
                     "at the prompts (standard input ended first)",
                     a.args[0]);
    else
      rc = cli_error("secret '%s' needs values: give --KEY=VALUE pairs, "
                     "--values, or -i to type them", a.args[0]);
    goto done;
  }
  if (!(store = cli_store(ctx))) {
    rc = 1;
    goto done;
  }
  if (cairn_store_secret_create(store, &s, a.args[0], values) < 0) {
    rc = cli_fail();
    goto done;
  }
  snprintf(title, sizeof(title), "Secret '%.150s'", s.name);
  print_values(title, values, 1);
  cli_say("Created secret '%s' (id %s).", s.name, s.id);
  cairn_secret_dispose(&s);
done:
  json_decref(values);
  cli_args_dispose(&a);
  return CLI_PARSED(rc);
}

static const cli_spec list_spec = {
  "cairn secret list [--output json]",
  "List the secrets, with their key names (never their values).",
  NULL, 0, 0, 0, 1};

static int do_list(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"NAME", "ID", "KEYS"};
  cairn_secret *list;
  cairn_store *store;
  cli_table *t;
  cli_args a;
  size_t n, i, k;
  int rc;

  if ((rc = cli_parse(ctx, &list_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&a);
  if (!(store = cli_store(ctx)))
    return 1;
  if (cairn_store_secret_list(store, &list, &n) < 0)
    return cli_fail();
  if (n == 0 && !ctx->json) {
    cli_say("No secrets: create one with 'cairn secret create NAME "
            "--KEY=VALUE'.");
    cairn_secret_list_free(list, n);
    return 0;
  }
  t = cli_table_new(NULL, columns, 3);
  for (i = 0; i < n; i++) {
    cairn_buf keys = CAIRN_BUF_INIT;
    json_t *names = json_array();

    for (k = 0; k < list[i].keys.count; k++) {
      cairn_buf_printf(&keys, "%s%s", k ? ", " : "", list[i].keys.items[k]);
      json_array_append_new(names, json_string(list[i].keys.items[k]));
    }
    cli_table_addv(t, list[i].name, list[i].id, cairn_buf_cstr(&keys));
    cli_table_row_json(t, json_pack("{s:s, s:s, s:o, s:I}", "name",
                                    list[i].name, "id", list[i].id, "keys",
                                    names, "updated",
                                    (json_int_t)list[i].updated));
    cairn_buf_dispose(&keys);
  }
  cli_table_emit(ctx, t);
  cairn_secret_list_free(list, n);
  return 0;
}

static const cli_spec get_spec = {
  "cairn secret get NAME [--output json]",
  "Show a secret with its values in clear text.", NULL, 1, 1, 0, 1};

static int do_get(cli_ctx *ctx, int argc, char **argv)
{
  cairn_store *store;
  cairn_secret s;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &get_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if (!(store = cli_store(ctx)) ||
      cairn_store_secret_get(store, &s, a.args[0], 1) < 0) {
    cli_args_dispose(&a);
    return store ? cli_fail() : 1;
  }
  cli_args_dispose(&a);
  if (ctx->json) {
    cli_json_emit(json_pack("{s:s, s:s, s:O}", "id", s.id, "name", s.name,
                            "values", s.values));
  } else {
    cli_say("Secret '%s' (id %s):", s.name, s.id);
    print_values(NULL, s.values, 0);
  }
  cairn_secret_dispose(&s);
  return 0;
}

/*
 * A connector keeps its secret fields in a secret of its own, which only
 * the connector's commands may change: they check what they store.
 */
static int refuse_connector_secret(cairn_store *store, const cairn_secret *s)
{
  cairn_connector *list;
  size_t n, i;
  int rc = 0;

  if (cairn_store_connector_list(store, &list, &n) < 0)
    return cli_fail();
  for (i = 0; i < n && !rc; i++)
    if (list[i].secret_id && strcmp(list[i].secret_id, s->id) == 0)
      rc = cli_error("secret '%s' holds the fields of service connector "
                     "'%s': change them with 'cairn service-connector "
                     "update'", s->name, list[i].name);
  cairn_connector_list_free(list, n);
  return rc;
}

static const cli_opt update_opts[] = {
  {"values", "v", CLI_VALUE, "JSON|YAML|@FILE",
   "Key/value pairs to add or change, as JSON or YAML, or @FILE."},
  {"remove-keys", "r", CLI_MULTI, "KEY", "Remove this key (repeatable)."},
  CLI_OPT_END};

static const cli_spec update_spec = {
  "cairn secret update NAME [--KEY=VALUE]... [-v JSON|YAML|@FILE] "
  "[-r KEY]...",
  "Add or change keys of a secret, or remove them.  Stores that use the "
  "secret are checked against the new values.",
  update_opts, 1, 1, CLI_SECRET_KEYS, 0};

static int do_update(cli_ctx *ctx, int argc, char **argv)
{
  const cairn_strlist *removed;
  cairn_store *store;
  json_t *changes = json_object();
  cairn_secret s;
  cli_args a;
  size_t i;
  int rc;

  memset(&s, 0, sizeof(s));
  if ((rc = cli_parse(ctx, &update_spec, argc, argv, &a)) != 0)
    goto done;
  removed = cli_values(&a, "remove-keys");
  if ((rc = fields_values(&a, changes)) ||
      (rc = merge_values_option(&a, changes)))
    goto done;
  if (json_object_size(changes) == 0 && removed->count == 0) {
    rc = cli_error("nothing to update: give --KEY=VALUE pairs, --values or "
                   "-r KEY");
    goto done;
  }
  if (!(store = cli_store(ctx))) {
    rc = 1;
    goto done;
  }
  if (cairn_store_secret_get(store, &s, a.args[0], 1) < 0) {
    rc = cli_fail();
    goto done;
  }
  if ((rc = refuse_connector_secret(store, &s)) != 0)
    goto done;
  json_object_update(s.values, changes);
  for (i = 0; i < removed->count; i++) {
    if (json_object_del(s.values, removed->items[i]) != 0) {
      rc = cli_error("secret '%s' has no key '%s' to remove", s.name,
                     removed->items[i]);
      goto done;
    }
  }
  if (json_object_size(s.values) == 0) {
    rc = cli_error("that would leave secret '%s' without keys: delete it "
                   "with 'cairn secret delete %s' instead", s.name, s.name);
    goto done;
  }
  if (cairn_stack_secret_check_users(store, s.name, s.values) < 0 ||
      cairn_store_secret_update(store, s.id, s.values) < 0) {
    rc = cli_fail();
    goto done;
  }
  cli_say("Updated secret '%s'.", s.name);
done:
  cairn_secret_dispose(&s);
  json_decref(changes);
  cli_args_dispose(&a);
  return CLI_PARSED(rc);
}

static const cli_opt rename_opts[] = {
  {"new-name", "n", CLI_VALUE, "NEW", "The new name (required)."},
  CLI_OPT_END};

static const cli_spec rename_spec = {
  "cairn secret rename NAME -n NEW",
  "Rename a secret; stores that use it follow.", rename_opts, 1, 1, 0, 0};

static int do_rename(cli_ctx *ctx, int argc, char **argv)
{
  const char *to;
  cairn_store *store;
  cairn_secret s;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &rename_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if (!(to = cli_value(&a, "new-name"))) {
    cli_args_dispose(&a);
    return cli_error("give the new name with -n NEW");
  }
  if (!(store = cli_store(ctx))) {
    cli_args_dispose(&a);
    return 1;
  }
  if (cairn_store_secret_get(store, &s, a.args[0], 0) < 0) {
    cli_args_dispose(&a);
    return cli_fail();
  }
  if ((rc = refuse_connector_secret(store, &s)) != 0)
    ;
  else if (cairn_store_secret_rename(store, s.id, to) < 0)
    rc = cli_fail();
  else
    cli_say("Renamed secret '%s' to '%s'.", s.name, to);
  cairn_secret_dispose(&s);
  cli_args_dispose(&a);
  return rc;
}

static const cli_opt delete_opts[] = {
  {"yes", "y", CLI_FLAG, NULL, "Do not ask for confirmation."},
  CLI_OPT_END};

static const cli_spec delete_spec = {
  "cairn secret delete NAME [-y]",
  "Delete a secret that no artifact store uses.", delete_opts, 1, 1, 0, 0};

static int do_delete(cli_ctx *ctx, int argc, char **argv)
{
  cairn_store *store;
  cairn_secret s;
  char question[256];
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &delete_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if (!(store = cli_store(ctx)) ||
      cairn_store_secret_get(store, &s, a.args[0], 0) < 0) {
    cli_args_dispose(&a);
    return store ? cli_fail() : 1;
  }
  if (!cli_flag(&a, "yes")) {
    if (!isatty(STDIN_FILENO)) {
      rc = cli_error("not deleting secret '%s' without confirmation: pass "
                     "-y", s.name);
      goto done;
    }
    snprintf(question, sizeof(question),
             "Are you sure you want to delete secret '%.150s'?", s.name);
    if (!cli_confirm(question)) {
      cli_say("Secret '%s' was not deleted.", s.name);
      goto done;
    }
  }
  if (cairn_store_secret_delete(store, s.id) < 0)
    rc = cli_fail();
  else
    cli_say("Deleted secret '%s'.", s.name);
done:
  cairn_secret_dispose(&s);
  cli_args_dispose(&a);
  return rc;
}

static const cli_opt export_opts[] = {
  {"filename", "f", CLI_VALUE, "FILE",
   "Where to write (default NAME.yaml; '-' for standard output)."},
  {"overwrite", NULL, CLI_FLAG, NULL, "Replace FILE when it exists."},
  CLI_OPT_END};

static const cli_spec export_spec = {
  "cairn secret export NAME [-f FILE] [--overwrite]",
  "Write a secret's values as YAML (mode 0600), to create it again with "
  "'cairn secret create NAME --values=@FILE'.", export_opts, 1, 1, 0, 0};

static int do_export(cli_ctx *ctx, int argc, char **argv)
{
  cairn_buf yaml = CAIRN_BUF_INIT;
  cairn_store *store;
  const char *file;
  char *path = NULL;
  cairn_secret s;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &export_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  if (!(store = cli_store(ctx)) ||
      cairn_store_secret_get(store, &s, a.args[0], 1) < 0) {
    cli_args_dispose(&a);
    return store ? cli_fail() : 1;
  }
  file = cli_value(&a, "filename");
  if (cairn_yaml_emit_strings(&yaml, s.values) < 0) {
    rc = cli_fail();
  } else if (file && strcmp(file, "-") == 0) {
    fwrite(yaml.ptr, 1, yaml.size, stdout);
  } else {
    struct stat st;
    int there;

    path = file ? strdup(file) : cairn__sprintf("%s.yaml", s.name);
    there = path && lstat(path, &st) == 0;
    if (there && !S_ISREG(st.st_mode))
      rc = cli_error("'%s' is not a regular file: give a file's path, or "
                     "-f - for standard output", path);
    else if (there && !cli_flag(&a, "overwrite"))
      rc = cli_error("'%s' exists: give --overwrite to replace it, or "
                     "another -f FILE", path);
    else if (!path || cairn_file_write_atomic(path, yaml.ptr, yaml.size,
                                              0600) < 0)
      rc = cli_fail();
    else
      cli_say("Exported secret '%s' to '%s'.", s.name, path);
  }
  if (yaml.ptr)
    memset(yaml.ptr, 0, yaml.size);
  cairn_buf_dispose(&yaml);
  free(path);
  cairn_secret_dispose(&s);
  cli_args_dispose(&a);
  return rc;
}

static const cli_spec rotate_spec = {
  "cairn secret rotate-key",
  "Re-encrypt every secret under a new key, which replaces the key file.",
  NULL, 0, 0, 0, 0};

static int do_rotate(cli_ctx *ctx, int argc, char **argv)
{
  cairn_secrets_rotation r;
  cairn_store *store;
  char *where = NULL;
  cli_args a;
  int rc;

  if ((rc = cli_parse(ctx, &rotate_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&a);
  if (!(store = cli_store(ctx)))
    return 1;
  if (cairn_store_secrets_rotate_key(store, &r) < 0)
    return cli_fail();
  if (r.pending_path) {
    cli_say("Re-encrypted %zu secret(s) under a new key (id %s), written to "
            "'%s'.", r.count, r.key_id, r.pending_path);
    cli_say("Set CAIRN_SECRETS_KEY to the content of that file, then "
            "delete the file.");
  } else {
    cairn_store_secrets_key_location(store, &where);
    cli_say("Re-encrypted %zu secret(s) under a new key (id %s) in '%s'.",
            r.count, r.key_id, where ? where : "");
  }
  free(where);
  cairn_secrets_rotation_dispose(&r);
  return 0;
}

int cmd_secret(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"create", do_create, "Create a secret."},
    {"list", do_list, "List the secrets (names and keys)."},
    {"get", do_get, "Show a secret's values."},
    {"update", do_update, "Add, change or remove keys of a secret."},
    {"rename", do_rename, "Rename a secret."},
    {"delete", do_delete, "Delete a secret."},
    {"export", do_export, "Write a secret's values to a YAML file."},
    {"rotate-key", do_rotate, "Re-encrypt every secret under a new key."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "secret",
                      "Manage secrets: named key/value pairs, encrypted at "
                      "rest, such as Azure credentials.",
                      commands, argc, argv);
}

/*
 * Stack components (artifact stores, orchestrators) in the metadata store.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/util.h"
#include "store/db.h"

#define COMPONENT_COLS \
  "id, name, type, flavor, config, created, updated, connector_id"

void cairn_component_dispose(cairn_component *c)
{
  if (!c)
    return;
  free(c->id);
  free(c->name);
  free(c->type);
  free(c->flavor);
  free(c->connector_id);
  json_decref(c->config);
  memset(c, 0, sizeof(*c));
}

void cairn_component_list_free(cairn_component *list, size_t count)
{
  size_t i;

  for (i = 0; list && i < count; i++)
    cairn_component_dispose(&list[i]);
  free(list);
}

static int read_component(sqlite3_stmt *st, cairn_component *out)
{
  out->id = cairn__db_text(st, 0);
  out->name = cairn__db_text(st, 1);
  out->type = cairn__db_text(st, 2);
  out->flavor = cairn__db_text(st, 3);
  out->config = cairn__db_json(st, 4);
  out->created = sqlite3_column_int64(st, 5);
  out->updated = sqlite3_column_int64(st, 6);
  out->connector_id = cairn__db_text(st, 7);
  if (!out->id || !out->name || !out->type || !out->flavor ||
      !out->config) {
    cairn_component_dispose(out);
    return cairn__error_oom();
  }
  return 0;
}

static int get_by_id(cairn_store *s, cairn_component *out, const char *id)
{
  sqlite3_stmt *st;
  int rc, error;

  if ((error = cairn__db_prepare(s, &st, "SELECT " COMPONENT_COLS
                                 " FROM components WHERE id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    error = read_component(st, out);
  else if (rc == SQLITE_DONE)
    error = cairn__error(CAIRN_ENOTFOUND, "no component with id '%s'", id);
  else
    error = cairn__db_error(s, "reading a component");
  sqlite3_finalize(st);
  return error;
}

static int check_name(const char *name, const char *what)
{
  const char *p;

  if (!name || !*name)
    return cairn__error(CAIRN_EINVAL, "a name is needed for the %s", what);
  if (strlen(name) > 128)
    return cairn__error(CAIRN_EINVAL, "the %s name '%.20s...' is longer "
                        "than 128 characters", what, name);
  for (p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
      break;
  if (*p || *name == '.' || *name == '-')
    return cairn__error(CAIRN_EINVAL, "the %s name '%s' is not valid: use "
                        "letters, digits, '-', '_' and '.', starting with a "
                        "letter, a digit or '_'", what, name);
  return 0;
}

int cairn__store_check_name(const char *name, const char *what)
{
  return check_name(name, what);
}

int cairn_store_component_create(cairn_store *store, cairn_component *out,
                                 const char *type, const char *name,
                                 const char *flavor, const json_t *config)
{
  const char *what = cairn__store_type_label(type);
  sqlite3_stmt *st;
  char id[37];
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = check_name(name, what)) < 0)
    return error;
  if (!flavor || !*flavor)
    return cairn__error(CAIRN_EINVAL, "a flavor is needed for the %s", what);
  if ((error = cairn_uuid4(id)) < 0)
    return error;
  if ((error = cairn__db_prepare(store, &st,
         "INSERT INTO components(id, type, name, flavor, config, created, "
         "updated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, type);
  cairn__db_bind_text(st, 3, name);
  cairn__db_bind_text(st, 4, flavor);
  if ((error = cairn__db_bind_json(st, 5, config)) < 0) {
    sqlite3_finalize(st);
    return error;
  }
  sqlite3_bind_int64(st, 6, cairn_time_now());
  error = cairn__db_run(store, st, "registering a component");
  if (error == CAIRN_EEXISTS)
    return cairn__error(CAIRN_EEXISTS, "an %s named '%s' exists already: "
                        "choose another name or update it", what, name);
  if (error < 0)
    return error;
  return get_by_id(store, out, id);
}

int cairn_store_component_get(cairn_store *store, cairn_component *out,
                              const char *type, const char *name_or_id)
{
  char *id;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__db_resolve(store, &id,
         "SELECT id FROM components WHERE type=?1 AND name=?2",
         "SELECT id, name FROM components WHERE type=?1 AND "
         "substr(id, 1, length(?2))=?2 ORDER BY name",
         type, name_or_id, cairn__store_type_label(type))) < 0)
    return error;
  error = get_by_id(store, out, id);
  free(id);
  return error;
}

int cairn_store_component_list(cairn_store *store, const char *type,
                               cairn_component **out, size_t *count)
{
  cairn_component *list = NULL, *grown;
  size_t n = 0;
  sqlite3_stmt *st;
  int rc, error = 0;

  *out = NULL;
  *count = 0;
  if ((error = cairn__db_prepare(store, &st, "SELECT " COMPONENT_COLS
         " FROM components WHERE type=?1 ORDER BY name")) < 0)
    return error;
  cairn__db_bind_text(st, 1, type);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!(grown = realloc(list, (n + 1) * sizeof(*list)))) {
      error = cairn__error_oom();
      break;
    }
    list = grown;
    memset(&list[n], 0, sizeof(*list));
    if ((error = read_component(st, &list[n])) < 0)
      break;
    n++;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "listing components");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_component_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

int cairn_store_component_update(cairn_store *store, const char *id,
                                 const json_t *config)
{
  sqlite3_stmt *st;
  int error;

  if ((error = cairn__db_prepare(store, &st,
         "UPDATE components SET config=?2, updated=?3 WHERE id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  if ((error = cairn__db_bind_json(st, 2, config)) < 0) {
    sqlite3_finalize(st);
    return error;
  }
  sqlite3_bind_int64(st, 3, cairn_time_now());
  if ((error = cairn__db_run(store, st, "updating a component")) < 0)
    return error;
  if (sqlite3_changes(store->db) == 0)
    return cairn__error(CAIRN_ENOTFOUND, "no component with id '%s'", id);
  return 0;
}

/* 1 when component @p id is a default one, 0 when not, or an error. */
static int is_default(cairn_store *s, const char *id, cairn_component *c)
{
  sqlite3_stmt *st;
  int rc, error, result = 0;

  if ((error = get_by_id(s, c, id)) < 0)
    return error;
  if ((error = cairn__db_prepare(s, &st,
         "SELECT is_default FROM components WHERE id=?1")) < 0) {
    cairn_component_dispose(c);
    return error;
  }
  cairn__db_bind_text(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    result = sqlite3_column_int(st, 0) != 0;
  sqlite3_finalize(st);
  return result;
}

int cairn_store_component_rename(cairn_store *store, const char *id,
                                 const char *new_name)
{
  cairn_component c;
  sqlite3_stmt *st;
  const char *what;
  int error, dflt;

  if ((dflt = is_default(store, id, &c)) < 0)
    return dflt;
  what = cairn__store_type_label(c.type);
  if (dflt) {
    error = cairn__error(CAIRN_EPERM, "the default %s cannot be renamed",
                         what);
    goto done;
  }
  if ((error = check_name(new_name, what)) < 0)
    goto done;
  if ((error = cairn__db_prepare(store, &st,
         "UPDATE components SET name=?2, updated=?3 WHERE id=?1")) < 0)
    goto done;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, new_name);
  sqlite3_bind_int64(st, 3, cairn_time_now());
  error = cairn__db_run(store, st, "renaming a component");
  if (error == CAIRN_EEXISTS)
    error = cairn__error(CAIRN_EEXISTS, "an %s named '%s' exists already",
                         what, new_name);
done:
  cairn_component_dispose(&c);
  return error;
}

int cairn_store_stacks_using(cairn_store *store, const char *component_id,
                             cairn_strlist *out)
{
  sqlite3_stmt *st;
  int rc, error;

  if ((error = cairn__db_prepare(store, &st,
         "SELECT name FROM stacks WHERE artifact_store_id=?1 OR "
         "orchestrator_id=?1 ORDER BY name")) < 0)
    return error;
  cairn__db_bind_text(st, 1, component_id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if ((error = cairn_strlist_add(out,
           (const char *)sqlite3_column_text(st, 0))) < 0)
      break;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "listing stacks");
  sqlite3_finalize(st);
  return error;
}

static int in_use_error(const char *what, const char *name,
                        const cairn_strlist *stacks)
{
  cairn_buf b = CAIRN_BUF_INIT;
  size_t i;
  int error;

  for (i = 0; i < stacks->count; i++)
    cairn_buf_printf(&b, "%s'%s'", i ? ", " : "", stacks->items[i]);
  error = cairn__error(CAIRN_EINUSE, "the %s '%s' is used by stack(s) %s: "
                       "delete or update them first", what, name,
                       cairn_buf_cstr(&b));
  cairn_buf_dispose(&b);
  return error;
}

/*
 * An artifact store that holds recorded versions stays: without it they
 * could not be read again.
 */
static int recorded_versions(cairn_store *s, const cairn_component *c)
{
  sqlite3_stmt *st;
  int64_t n = 0;
  int error;

  if (strcmp(c->type, "artifact_store") != 0)
    return 0;
  if ((error = cairn__db_prepare(s, &st,
         "SELECT COUNT(*) FROM artifact_versions WHERE "
         "artifact_store_id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, c->id);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (n > 0)
    return cairn__error(CAIRN_EINUSE, "artifact store '%s' holds %lld "
                        "recorded artifact version(s), which could not be "
                        "read without it: keep it (it costs nothing while "
                        "no stack uses it)", c->name, (long long)n);
  return 0;
}

int cairn_store_component_delete(cairn_store *store, const char *id)
{
  cairn_strlist stacks = CAIRN_STRLIST_INIT;
  cairn_component c;
  sqlite3_stmt *st;
  const char *what;
  int error, dflt;

  if ((error = cairn__db_begin(store)) < 0)
    return error;
  if ((dflt = is_default(store, id, &c)) < 0) {
    cairn__db_rollback(store);
    return dflt;
  }
  what = cairn__store_type_label(c.type);
  if (dflt) {
    error = cairn__error(CAIRN_EPERM, "the default %s cannot be deleted",
                         what);
    goto done;
  }
  if ((error = cairn_store_stacks_using(store, id, &stacks)) < 0)
    goto done;
  if (stacks.count) {
    error = in_use_error(what, c.name, &stacks);
    goto done;
  }
  if ((error = recorded_versions(store, &c)) < 0)
    goto done;
  if ((error = cairn__db_prepare(store, &st,
         "DELETE FROM components WHERE id=?1")) < 0)
    goto done;
  cairn__db_bind_text(st, 1, id);
  error = cairn__db_run(store, st, "deleting a component");
done:
  if (error < 0)
    cairn__db_rollback(store);
  else
    error = cairn__db_commit(store);
  cairn_strlist_dispose(&stacks);
  cairn_component_dispose(&c);
  return error;
}

int cairn_store_component_set_connector(cairn_store *store, const char *id,
                                        const char *connector_id)
{
  sqlite3_stmt *st;
  int error;

  if ((error = cairn__db_prepare(store, &st,
         "UPDATE components SET connector_id=?2, updated=?3 WHERE id=?1"))
      < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, connector_id);
  sqlite3_bind_int64(st, 3, cairn_time_now());
  return cairn__db_run(store, st, "connecting a component");
}

/* Internal: the component @p id, checked to be of @p type. */
int cairn__store_component_check(cairn_store *s, const char *id,
                                 const char *type)
{
  cairn_component c;
  int error;

  if ((error = get_by_id(s, &c, id)) < 0)
    return error;
  if (strcmp(c.type, type) != 0)
    error = cairn__error(CAIRN_EINVAL, "component '%s' is a %s, not a %s",
                         c.name, cairn__store_type_label(c.type),
                         cairn__store_type_label(type));
  cairn_component_dispose(&c);
  return error;
}

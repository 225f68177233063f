/*
 * Service connectors in the metadata store.  A connector row holds its
 * non-secret configuration; its secret fields are a secret of their own
 * (secret_id), so that they are encrypted like every other secret.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/util.h"
#include "store/db.h"

#define CONNECTOR_COLS                                                   \
  "id, name, type, auth_method, resource_type, resource_id, config, "    \
  "secret_id, expires_at, expiration_seconds, description, created, "    \
  "updated"

void cairn_connector_dispose(cairn_connector *c)
{
  if (!c)
    return;
  free(c->id);
  free(c->name);
  free(c->type);
  free(c->auth_method);
  free(c->resource_type);
  free(c->resource_id);
  free(c->secret_id);
  free(c->description);
  json_decref(c->config);
  memset(c, 0, sizeof(*c));
}

void cairn_connector_list_free(cairn_connector *list, size_t count)
{
  size_t i;

  for (i = 0; list && i < count; i++)
    cairn_connector_dispose(&list[i]);
  free(list);
}

static int read_connector(sqlite3_stmt *st, cairn_connector *out)
{
  memset(out, 0, sizeof(*out));
  out->id = cairn__db_text(st, 0);
  out->name = cairn__db_text(st, 1);
  out->type = cairn__db_text(st, 2);
  out->auth_method = cairn__db_text(st, 3);
  out->resource_type = cairn__db_text(st, 4);
  out->resource_id = cairn__db_text(st, 5);
  out->config = cairn__db_json(st, 6);
  out->secret_id = cairn__db_text(st, 7);
  out->expires_at = sqlite3_column_int64(st, 8);
  out->expiration_seconds = sqlite3_column_int64(st, 9);
  out->description = cairn__db_text(st, 10);
  out->created = sqlite3_column_int64(st, 11);
  out->updated = sqlite3_column_int64(st, 12);
  if (!out->id || !out->name || !out->type || !out->auth_method ||
      !out->config || !out->description) {
    cairn_connector_dispose(out);
    return cairn__error_oom();
  }
  return 0;
}

static int get_by_id(cairn_store *s, cairn_connector *out, const char *id)
{
  sqlite3_stmt *st;
  int rc, error;

  if ((error = cairn__db_prepare(s, &st, "SELECT " CONNECTOR_COLS
                                 " FROM service_connectors WHERE id=?1")) <
      0)
    return error;
  cairn__db_bind_text(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    error = read_connector(st, out);
  else if (rc == SQLITE_DONE)
    error = cairn__error(CAIRN_ENOTFOUND, "no service connector with id "
                         "'%s'", id);
  else
    error = cairn__db_error(s, "reading a service connector");
  sqlite3_finalize(st);
  return error;
}

/* Bind every field but id (1) and the times. */
static int bind_fields(sqlite3_stmt *st, const cairn_connector *c)
{
  cairn__db_bind_text(st, 2, c->name);
  cairn__db_bind_text(st, 3, c->type);
  cairn__db_bind_text(st, 4, c->auth_method);
  cairn__db_bind_text(st, 5, c->resource_type);
  cairn__db_bind_text(st, 6, c->resource_id);
  if (cairn__db_bind_json(st, 7, c->config) < 0)
    return CAIRN_ENOMEM;
  cairn__db_bind_text(st, 8, c->secret_id);
  sqlite3_bind_int64(st, 9, c->expires_at);
  sqlite3_bind_int64(st, 10, c->expiration_seconds);
  cairn__db_bind_text(st, 11, c->description ? c->description : "");
  sqlite3_bind_int64(st, 12, cairn_time_now());
  return 0;
}

int cairn_store_connector_create(cairn_store *store, cairn_connector *out,
                                 const cairn_connector *in)
{
  sqlite3_stmt *st;
  char id[37];
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__store_check_name(in->name, "service connector")) < 0)
    return error;
  if ((error = cairn_uuid4(id)) < 0)
    return error;
  if ((error = cairn__db_prepare(store, &st,
         "INSERT INTO service_connectors(id, name, type, auth_method, "
         "resource_type, resource_id, config, secret_id, expires_at, "
         "expiration_seconds, description, created, updated) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)"))
      < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  if ((error = bind_fields(st, in)) < 0) {
    sqlite3_finalize(st);
    return error;
  }
  error = cairn__db_run(store, st, "registering a service connector");
  if (error == CAIRN_EEXISTS)
    return cairn__error(CAIRN_EEXISTS, "a service connector named '%s' "
                        "exists already: choose another name, or change it "
                        "with 'cairn service-connector update %s'", in->name,
                        in->name);
  if (error < 0)
    return error;
  return get_by_id(store, out, id);
}

int cairn_store_connector_get(cairn_store *store, cairn_connector *out,
                              const char *name_or_id)
{
  char *id;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__db_resolve(
           store, &id, "SELECT id FROM service_connectors WHERE name=?2",
           "SELECT id, name FROM service_connectors WHERE id LIKE ?2 || '%'",
           NULL, name_or_id, "service connector")) < 0)
    return error;
  error = get_by_id(store, out, id);
  free(id);
  return error;
}

int cairn_store_connector_list(cairn_store *store, cairn_connector **out,
                               size_t *count)
{
  cairn_connector *list = NULL, *grown;
  size_t n = 0, alloc = 0;
  sqlite3_stmt *st;
  int rc, error;

  *out = NULL;
  *count = 0;
  if ((error = cairn__db_prepare(store, &st, "SELECT " CONNECTOR_COLS
                                 " FROM service_connectors ORDER BY name")) <
      0)
    return error;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == alloc) {
      alloc = alloc ? alloc * 2 : 8;
      if (!(grown = realloc(list, alloc * sizeof(*list)))) {
        error = cairn__error_oom();
        break;
      }
      list = grown;
    }
    if ((error = read_connector(st, &list[n])) < 0)
      break;
    n++;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "listing service connectors");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_connector_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

int cairn_store_connector_update(cairn_store *store,
                                 const cairn_connector *c)
{
  sqlite3_stmt *st;
  int error;

  if ((error = cairn__db_prepare(store, &st,
         "UPDATE service_connectors SET name=?2, type=?3, auth_method=?4, "
         "resource_type=?5, resource_id=?6, config=?7, secret_id=?8, "
         "expires_at=?9, expiration_seconds=?10, description=?11, "
         "updated=?12 WHERE id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, c->id);
  if ((error = bind_fields(st, c)) < 0) {
    sqlite3_finalize(st);
    return error;
  }
  return cairn__db_run(store, st, "updating a service connector");
}

int cairn_store_connector_users(cairn_store *store, const char *id,
                                cairn_strlist *out)
{
  sqlite3_stmt *st;
  int rc, error;

  if ((error = cairn__db_prepare(store, &st,
         "SELECT type, name FROM components WHERE connector_id=?1 "
         "ORDER BY type, name")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    char *who = cairn__sprintf(
        "%s '%s'",
        cairn__store_type_label((const char *)sqlite3_column_text(st, 0)),
        (const char *)sqlite3_column_text(st, 1));
    if (!who || cairn_strlist_take(out, who) < 0) {
      error = CAIRN_ENOMEM;
      break;
    }
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "reading components");
  sqlite3_finalize(st);
  return error;
}

int cairn_store_connector_delete(cairn_store *store, const char *id)
{
  cairn_strlist users = CAIRN_STRLIST_INIT;
  cairn_buf text = CAIRN_BUF_INIT;
  cairn_connector c;
  sqlite3_stmt *st;
  size_t i;
  int error;

  if ((error = get_by_id(store, &c, id)) < 0)
    return error;
  if ((error = cairn_store_connector_users(store, id, &users)) < 0)
    goto done;
  if (users.count) {
    for (i = 0; i < users.count; i++)
      cairn_buf_printf(&text, "%s%s", i ? ", " : "", users.items[i]);
    error = cairn__error(CAIRN_EINUSE, "service connector '%s' is used by "
                         "%zu component(s): %s; disconnect them first with "
                         "'cairn artifact-store disconnect NAME'", c.name,
                         users.count, cairn_buf_cstr(&text));
    goto done;
  }
  if ((error = cairn__db_begin(store)) < 0)
    goto done;
  if ((error = cairn__db_prepare(store, &st,
         "DELETE FROM service_connectors WHERE id=?1")) == 0) {
    cairn__db_bind_text(st, 1, id);
    error = cairn__db_run(store, st, "deleting a service connector");
  }
  /* Its secret fields go with it. */
  if (!error && c.secret_id &&
      (error = cairn__db_prepare(store, &st,
                                 "DELETE FROM secrets WHERE id=?1")) == 0) {
    cairn__db_bind_text(st, 1, c.secret_id);
    error = cairn__db_run(store, st, "deleting a service connector");
  }
  if (error < 0)
    cairn__db_rollback(store);
  else
    error = cairn__db_commit(store);
done:
  cairn_buf_dispose(&text);
  cairn_strlist_dispose(&users);
  cairn_connector_dispose(&c);
  return error;
}

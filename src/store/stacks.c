/*
 * Stacks and the active stack in the metadata store.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/util.h"
#include "store/db.h"

#define STACK_COLS \
  "s.id, s.name, s.artifact_store_id, s.orchestrator_id, " \
  "s.id = (SELECT value FROM settings WHERE key='active_stack'), " \
  "s.created, s.is_default"

void cairn_stack_dispose(cairn_stack *s)
{
  if (!s)
    return;
  free(s->id);
  free(s->name);
  free(s->artifact_store_id);
  free(s->orchestrator_id);
  memset(s, 0, sizeof(*s));
}

void cairn_stack_list_free(cairn_stack *list, size_t count)
{
  size_t i;

  for (i = 0; list && i < count; i++)
    cairn_stack_dispose(&list[i]);
  free(list);
}

static int read_stack(sqlite3_stmt *st, cairn_stack *out)
{
  out->id = cairn__db_text(st, 0);
  out->name = cairn__db_text(st, 1);
  out->artifact_store_id = cairn__db_text(st, 2);
  out->orchestrator_id = cairn__db_text(st, 3);
  out->active = sqlite3_column_int(st, 4) != 0;
  out->created = sqlite3_column_int64(st, 5);
  if (!out->id || !out->name || !out->artifact_store_id ||
      !out->orchestrator_id) {
    cairn_stack_dispose(out);
    return cairn__error_oom();
  }
  return 0;
}

/* Read stack @p id; *is_dflt [nullable] tells whether it is the default. */
static int get_by_id(cairn_store *s, cairn_stack *out, const char *id,
                     int *is_dflt)
{
  sqlite3_stmt *st;
  int rc, error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__db_prepare(s, &st, "SELECT " STACK_COLS
                                 " FROM stacks s WHERE s.id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if (is_dflt)
      *is_dflt = sqlite3_column_int(st, 6) != 0;
    error = read_stack(st, out);
  } else if (rc == SQLITE_DONE) {
    error = cairn__error(CAIRN_ENOTFOUND, "no stack with id '%s'", id);
  } else {
    error = cairn__db_error(s, "reading a stack");
  }
  sqlite3_finalize(st);
  return error;
}

static int check_parts(cairn_store *s, const char *artifact_store_id,
                       const char *orchestrator_id)
{
  int error;

  if (artifact_store_id &&
      (error = cairn__store_component_check(s, artifact_store_id,
                                            "artifact_store")) < 0)
    return error;
  if (orchestrator_id &&
      (error = cairn__store_component_check(s, orchestrator_id,
                                            "orchestrator")) < 0)
    return error;
  return 0;
}

int cairn_store_stack_create(cairn_store *store, cairn_stack *out,
                             const char *name, const char *artifact_store_id,
                             const char *orchestrator_id)
{
  sqlite3_stmt *st;
  char id[37];
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__store_check_name(name, "stack")) < 0)
    return error;
  if (!artifact_store_id || !orchestrator_id)
    return cairn__error(CAIRN_EINVAL, "a stack needs an artifact store "
                        "and an orchestrator");
  if ((error = check_parts(store, artifact_store_id, orchestrator_id)) < 0)
    return error;
  if ((error = cairn_uuid4(id)) < 0)
    return error;
  if ((error = cairn__db_prepare(store, &st,
         "INSERT INTO stacks(id, name, artifact_store_id, orchestrator_id, "
         "created) VALUES(?1, ?2, ?3, ?4, ?5)")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, name);
  cairn__db_bind_text(st, 3, artifact_store_id);
  cairn__db_bind_text(st, 4, orchestrator_id);
  sqlite3_bind_int64(st, 5, cairn_time_now());
  error = cairn__db_run(store, st, "registering a stack");
  if (error == CAIRN_EEXISTS)
    return cairn__error(CAIRN_EEXISTS, "a stack named '%s' exists "
                        "already: choose another name", name);
  if (error < 0)
    return error;
  return get_by_id(store, out, id, NULL);
}

static int resolve(cairn_store *s, char **out, const char *name_or_id)
{
  return cairn__db_resolve(s, out,
      "SELECT id FROM stacks WHERE name=?2",
      "SELECT id, name FROM stacks WHERE substr(id, 1, length(?2))=?2 "
      "ORDER BY name", NULL, name_or_id, "stack");
}

int cairn_store_stack_get(cairn_store *store, cairn_stack *out,
                          const char *name_or_id)
{
  char *id;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = resolve(store, &id, name_or_id)) < 0)
    return error;
  error = get_by_id(store, out, id, NULL);
  free(id);
  return error;
}

int cairn_store_stack_active(cairn_store *store, cairn_stack *out)
{
  char *id;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__store_active_stack_id(store, &id)) < 0)
    return error;
  if (!id)
    return cairn__error(CAIRN_ENOTFOUND, "no stack is active: activate one "
                        "with 'cairn stack set NAME'");
  error = get_by_id(store, out, id, NULL);
  free(id);
  return error;
}

int cairn_store_stack_list(cairn_store *store, cairn_stack **out,
                           size_t *count)
{
  cairn_stack *list = NULL, *grown;
  size_t n = 0;
  sqlite3_stmt *st;
  int rc, error = 0;

  *out = NULL;
  *count = 0;
  if ((error = cairn__db_prepare(store, &st, "SELECT " STACK_COLS
                                 " FROM stacks s ORDER BY s.name")) < 0)
    return error;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!(grown = realloc(list, (n + 1) * sizeof(*list)))) {
      error = cairn__error_oom();
      break;
    }
    list = grown;
    memset(&list[n], 0, sizeof(*list));
    if ((error = read_stack(st, &list[n])) < 0)
      break;
    n++;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "listing stacks");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_stack_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

int cairn_store_stack_set_active(cairn_store *store, const char *id)
{
  cairn_stack s;
  sqlite3_stmt *st;
  int error;

  if ((error = get_by_id(store, &s, id, NULL)) < 0)
    return error;
  cairn_stack_dispose(&s);
  if ((error = cairn__db_prepare(store, &st,
         "INSERT OR REPLACE INTO settings(key, value) "
         "VALUES('active_stack', ?1)")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  return cairn__db_run(store, st, "activating a stack");
}

int cairn_store_stack_update(cairn_store *store, const char *id,
                             const char *artifact_store_id,
                             const char *orchestrator_id)
{
  cairn_stack s;
  sqlite3_stmt *st;
  int error;

  if ((error = get_by_id(store, &s, id, NULL)) < 0)
    return error;
  cairn_stack_dispose(&s);
  if ((error = check_parts(store, artifact_store_id, orchestrator_id)) < 0)
    return error;
  if ((error = cairn__db_prepare(store, &st,
         "UPDATE stacks SET artifact_store_id=COALESCE(?2, "
         "artifact_store_id), orchestrator_id=COALESCE(?3, orchestrator_id) "
         "WHERE id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, artifact_store_id);
  cairn__db_bind_text(st, 3, orchestrator_id);
  return cairn__db_run(store, st, "updating a stack");
}

int cairn_store_stack_rename(cairn_store *store, const char *id,
                             const char *new_name)
{
  cairn_stack s;
  sqlite3_stmt *st;
  int error, dflt = 0;

  if ((error = get_by_id(store, &s, id, &dflt)) < 0)
    return error;
  cairn_stack_dispose(&s);
  if (dflt)
    return cairn__error(CAIRN_EPERM, "the default stack cannot be renamed");
  if ((error = cairn__store_check_name(new_name, "stack")) < 0)
    return error;
  if ((error = cairn__db_prepare(store, &st,
         "UPDATE stacks SET name=?2 WHERE id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, new_name);
  error = cairn__db_run(store, st, "renaming a stack");
  if (error == CAIRN_EEXISTS)
    return cairn__error(CAIRN_EEXISTS, "a stack named '%s' exists already",
                        new_name);
  return error;
}

int cairn_store_stack_delete(cairn_store *store, const char *id)
{
  cairn_stack s;
  sqlite3_stmt *st;
  int error, dflt = 0;

  if ((error = cairn__db_begin(store)) < 0)
    return error;
  if ((error = get_by_id(store, &s, id, &dflt)) < 0)
    goto done;
  if (s.active)
    error = cairn__error(CAIRN_EPERM, "the active stack cannot be deleted: "
                         "activate another with 'cairn stack set NAME' "
                         "first");
  else if (dflt)
    error = cairn__error(CAIRN_EPERM, "the default stack cannot be "
                         "deleted");
  cairn_stack_dispose(&s);
  if (error < 0)
    goto done;
  if ((error = cairn__db_prepare(store, &st,
         "DELETE FROM stacks WHERE id=?1")) < 0)
    goto done;
  cairn__db_bind_text(st, 1, id);
  error = cairn__db_run(store, st, "deleting a stack");
done:
  if (error < 0) {
    cairn__db_rollback(store);
    return error;
  }
  return cairn__db_commit(store);
}

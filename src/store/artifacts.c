/*
 * Artifacts, artifact versions and lineage in the metadata store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/util.h"
#include "store/db.h"

#define VERSION_COLS \
  "v.id, a.name, v.version, v.uri, v.artifact_store_id, v.kind, v.size, " \
  "v.sha256, v.media_type, v.producer_step_run_id, v.output, v.metadata, " \
  "v.created"

#define VERSION_FROM \
  " FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id"

void cairn_artifact_version_dispose(cairn_artifact_version *v)
{
  if (!v)
    return;
  free(v->id);
  free(v->artifact);
  free(v->uri);
  free(v->artifact_store_id);
  free(v->kind);
  free(v->sha256);
  free(v->media_type);
  free(v->producer_step_run_id);
  free(v->output);
  json_decref(v->metadata);
  memset(v, 0, sizeof(*v));
}

void cairn_artifact_version_list_free(cairn_artifact_version *list,
                                      size_t count)
{
  size_t i;

  for (i = 0; list && i < count; i++)
    cairn_artifact_version_dispose(&list[i]);
  free(list);
}

static int read_version(sqlite3_stmt *st, cairn_artifact_version *out)
{
  out->id = cairn__db_text(st, 0);
  out->artifact = cairn__db_text(st, 1);
  out->version = sqlite3_column_int(st, 2);
  out->uri = cairn__db_text(st, 3);
  out->artifact_store_id = cairn__db_text(st, 4);
  out->kind = cairn__db_text(st, 5);
  out->size = (uint64_t)sqlite3_column_int64(st, 6);
  out->sha256 = cairn__db_text(st, 7);
  out->media_type = cairn__db_text(st, 8);
  out->producer_step_run_id = cairn__db_text(st, 9);
  out->output = cairn__db_text(st, 10);
  out->metadata = cairn__db_json(st, 11);
  out->created = sqlite3_column_int64(st, 12);
  if (!out->id || !out->artifact || !out->uri || !out->metadata) {
    cairn_artifact_version_dispose(out);
    return cairn__error_oom();
  }
  return 0;
}

/* Read the versions @p sql selects (?1 = a1, ?2 = a2 when given). */
static int version_query(cairn_store *s, const char *sql, const char *a1,
                         int a2, cairn_artifact_version **out,
                         size_t *count)
{
  cairn_artifact_version *list = NULL, *grown;
  size_t n = 0;
  sqlite3_stmt *st;
  int rc, error = 0;

  *out = NULL;
  *count = 0;
  if ((error = cairn__db_prepare(s, &st, sql)) < 0)
    return error;
  cairn__db_bind_text(st, 1, a1);
  if (sqlite3_bind_parameter_count(st) >= 2)
    sqlite3_bind_int(st, 2, a2);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!(grown = realloc(list, (n + 1) * sizeof(*list)))) {
      error = cairn__error_oom();
      break;
    }
    list = grown;
    memset(&list[n], 0, sizeof(*list));
    if ((error = read_version(st, &list[n])) < 0)
      break;
    n++;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(s, "reading artifact versions");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_artifact_version_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

/* The one version @p sql selects, or CAIRN_ENOTFOUND (no message). */
static int version_one(cairn_store *s, cairn_artifact_version *out,
                       const char *sql, const char *a1, int a2)
{
  cairn_artifact_version *list;
  size_t n;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = version_query(s, sql, a1, a2, &list, &n)) < 0)
    return error;
  if (n == 0) {
    free(list);
    return CAIRN_ENOTFOUND;
  }
  *out = list[0];
  memset(&list[0], 0, sizeof(list[0]));
  cairn_artifact_version_list_free(list, n);
  return 0;
}

static int artifact_id(cairn_store *s, const char *name, char **out)
{
  sqlite3_stmt *st;
  char id[37];
  int rc, error;

  *out = NULL;
  if ((error = cairn_uuid4(id)) < 0)
    return error;
  if ((error = cairn__db_prepare(s, &st,
         "INSERT OR IGNORE INTO artifacts(id, name, created) "
         "VALUES(?1, ?2, ?3)")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, name);
  sqlite3_bind_int64(st, 3, cairn_time_now());
  if ((error = cairn__db_run(s, st, "recording an artifact")) < 0)
    return error;
  if ((error = cairn__db_prepare(s, &st,
         "SELECT id FROM artifacts WHERE name=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, name);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out = cairn__db_text(st, 0);
  else
    error = cairn__db_error(s, "recording an artifact");
  sqlite3_finalize(st);
  if (!error && !*out)
    error = CAIRN_ENOMEM;
  return error;
}

static int insert_version(cairn_store *s, const char *aid,
                          cairn_artifact_version *v)
{
  sqlite3_stmt *st;
  int rc, error;

  if ((error = cairn__db_prepare(s, &st,
         "SELECT COALESCE(MAX(version), 0) + 1 FROM artifact_versions "
         "WHERE artifact_id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, aid);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    v->version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW)
    return cairn__db_error(s, "numbering an artifact version");

  if ((error = cairn__db_prepare(s, &st,
         "INSERT INTO artifact_versions(id, artifact_id, version, uri, "
         "artifact_store_id, kind, size, sha256, media_type, "
         "producer_step_run_id, output, metadata, created) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"))
      < 0)
    return error;
  cairn__db_bind_text(st, 1, v->id);
  cairn__db_bind_text(st, 2, aid);
  sqlite3_bind_int(st, 3, v->version);
  cairn__db_bind_text(st, 4, v->uri);
  cairn__db_bind_text(st, 5, v->artifact_store_id);
  cairn__db_bind_text(st, 6, v->kind);
  sqlite3_bind_int64(st, 7, (sqlite3_int64)v->size);
  cairn__db_bind_text(st, 8, v->sha256);
  cairn__db_bind_text(st, 9, v->media_type);
  cairn__db_bind_text(st, 10, v->producer_step_run_id);
  cairn__db_bind_text(st, 11, v->output);
  if ((error = cairn__db_bind_json(st, 12, v->metadata)) < 0) {
    sqlite3_finalize(st);
    return error;
  }
  sqlite3_bind_int64(st, 13, v->created);
  return cairn__db_run(s, st, "recording an artifact version");
}

/*
 * A version id chosen beforehand (v->id set, so that the upload can use
 * it in its folder name) is kept; otherwise one is made.
 */
int cairn_store_artifact_version_create(cairn_store *store,
                                        cairn_artifact_version *v)
{
  char id[37], *aid = NULL;
  int error;

  if (!v->artifact || !*v->artifact)
    return cairn__error(CAIRN_EINVAL, "an artifact version needs the "
                        "artifact's name");
  if (!v->uri || !*v->uri)
    return cairn__error(CAIRN_EINVAL, "an artifact version needs a URI");
  if (!v->id) {
    if ((error = cairn_uuid4(id)) < 0)
      return error;
    if (!(v->id = cairn__strdup(id)))
      return CAIRN_ENOMEM;
  }
  v->created = cairn_time_now();
  if ((error = cairn__db_begin(store)) < 0)
    return error;
  if ((error = artifact_id(store, v->artifact, &aid)) < 0 ||
      (error = insert_version(store, aid, v)) < 0) {
    cairn__db_rollback(store);
    free(aid);
    return error;
  }
  free(aid);
  return cairn__db_commit(store);
}

int cairn_store_artifact_version_get(cairn_store *store,
                                     cairn_artifact_version *out,
                                     const char *artifact, int version)
{
  int error;

  if (version > 0)
    error = version_one(store, out, "SELECT " VERSION_COLS VERSION_FROM
                        " WHERE a.name=?1 AND v.version=?2", artifact,
                        version);
  else
    error = version_one(store, out, "SELECT " VERSION_COLS VERSION_FROM
                        " WHERE a.name=?1 ORDER BY v.version DESC LIMIT 1",
                        artifact, 0);
  if (error != CAIRN_ENOTFOUND)
    return error;
  if (version > 0 && version_one(store, out, "SELECT " VERSION_COLS
                                 VERSION_FROM " WHERE a.name=?1 ORDER BY "
                                 "v.version DESC LIMIT 1", artifact, 0)
      == 0) {
    int latest = out->version;

    cairn_artifact_version_dispose(out);
    return cairn__error(CAIRN_ENOTFOUND, "artifact '%s' has no version %d "
                        "(the latest is %d)", artifact, version, latest);
  }
  return cairn__error(CAIRN_ENOTFOUND, "no artifact named '%s'", artifact);
}

int cairn_store_artifact_version_get_by_id(cairn_store *store,
                                           cairn_artifact_version *out,
                                           const char *id)
{
  int error = version_one(store, out, "SELECT " VERSION_COLS VERSION_FROM
                          " WHERE v.id=?1", id, 0);

  if (error == CAIRN_ENOTFOUND)
    return cairn__error(CAIRN_ENOTFOUND, "no artifact version with id "
                        "'%s'", id);
  return error;
}

int cairn_store_artifact_version_list(cairn_store *store,
                                      const char *artifact,
                                      cairn_artifact_version **out,
                                      size_t *count)
{
  return version_query(store, "SELECT " VERSION_COLS VERSION_FROM
                       " WHERE ?1 IS NULL OR a.name=?1 "
                       "ORDER BY v.created DESC, v.rowid DESC",
                       artifact, 0, out, count);
}

void cairn_artifact_summary_list_free(cairn_artifact_summary *list,
                                      size_t count)
{
  size_t i;

  for (i = 0; list && i < count; i++)
    free(list[i].name);
  free(list);
}

int cairn_store_artifact_list(cairn_store *store,
                              cairn_artifact_summary **out, size_t *count)
{
  cairn_artifact_summary *list = NULL, *grown;
  size_t n = 0;
  sqlite3_stmt *st;
  int rc, error = 0;

  *out = NULL;
  *count = 0;
  if ((error = cairn__db_prepare(store, &st,
         "SELECT a.name, COUNT(v.id), MAX(v.version), MAX(v.created) "
         "FROM artifacts a JOIN artifact_versions v ON v.artifact_id = a.id "
         "GROUP BY a.id ORDER BY a.name")) < 0)
    return error;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!(grown = realloc(list, (n + 1) * sizeof(*list)))) {
      error = cairn__error_oom();
      break;
    }
    list = grown;
    list[n].name = cairn__db_text(st, 0);
    list[n].versions = sqlite3_column_int(st, 1);
    list[n].latest = sqlite3_column_int(st, 2);
    list[n].updated = sqlite3_column_int64(st, 3);
    if (!list[n].name) {
      error = CAIRN_ENOMEM;
      break;
    }
    n++;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "listing artifacts");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_artifact_summary_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

/* ---------------------------------------------------------------- */
/* Lineage                                                           */
/* ---------------------------------------------------------------- */

static int lineage_add(cairn_store *s, const char *step_run_id,
                       const char *direction, const char *name,
                       const char *version_id)
{
  sqlite3_stmt *st;
  int error;

  if (!name || !*name)
    return cairn__error(CAIRN_EINVAL, "a lineage edge needs a name");
  if ((error = cairn__db_prepare(s, &st,
         "INSERT OR REPLACE INTO lineage(step_run_id, direction, name, "
         "version_id) VALUES(?1, ?2, ?3, ?4)")) < 0)
    return error;
  cairn__db_bind_text(st, 1, step_run_id);
  cairn__db_bind_text(st, 2, direction);
  cairn__db_bind_text(st, 3, name);
  cairn__db_bind_text(st, 4, version_id);
  error = cairn__db_run(s, st, "recording lineage");
  if (error == CAIRN_EINUSE)
    return cairn__error(CAIRN_ENOTFOUND, "recording lineage: no step run "
                        "'%s' or no artifact version '%s'", step_run_id,
                        version_id);
  return error;
}

int cairn_store_lineage_add_input(cairn_store *store,
                                  const char *step_run_id,
                                  const char *input_name,
                                  const char *version_id)
{
  return lineage_add(store, step_run_id, "in", input_name, version_id);
}

int cairn_store_lineage_add_output(cairn_store *store,
                                   const char *step_run_id,
                                   const char *output,
                                   const char *version_id)
{
  return lineage_add(store, step_run_id, "out", output, version_id);
}

void cairn_lineage_list_free(cairn_lineage_edge *list, size_t count)
{
  size_t i;

  for (i = 0; list && i < count; i++) {
    free(list[i].name);
    free(list[i].version_id);
    free(list[i].artifact);
  }
  free(list);
}

/* Edges selected by @p sql as (name, version_id, artifact, version). */
static int edge_query(cairn_store *s, const char *sql, const char *a1,
                      const char *a2, cairn_lineage_edge **out,
                      size_t *count)
{
  cairn_lineage_edge *list = NULL, *grown;
  size_t n = 0;
  sqlite3_stmt *st;
  int rc, error = 0;

  *out = NULL;
  *count = 0;
  if ((error = cairn__db_prepare(s, &st, sql)) < 0)
    return error;
  cairn__db_bind_text(st, 1, a1);
  if (a2)
    cairn__db_bind_text(st, 2, a2);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!(grown = realloc(list, (n + 1) * sizeof(*list)))) {
      error = cairn__error_oom();
      break;
    }
    list = grown;
    list[n].name = cairn__db_text(st, 0);
    list[n].version_id = cairn__db_text(st, 1);
    list[n].artifact = cairn__db_text(st, 2);
    list[n].version = sqlite3_column_int(st, 3);
    n++;
    if (!list[n - 1].name || !list[n - 1].version_id ||
        !list[n - 1].artifact) {
      error = CAIRN_ENOMEM;
      break;
    }
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(s, "reading lineage");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_lineage_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

#define EDGE_SQL \
  "SELECT l.name, l.version_id, a.name, v.version FROM lineage l " \
  "JOIN artifact_versions v ON v.id = l.version_id " \
  "JOIN artifacts a ON a.id = v.artifact_id " \
  "WHERE l.step_run_id=?1 AND l.direction=?2 ORDER BY l.name"

int cairn_store_step_inputs(cairn_store *store, const char *step_run_id,
                            cairn_lineage_edge **out, size_t *count)
{
  return edge_query(store, EDGE_SQL, step_run_id, "in", out, count);
}

int cairn_store_step_outputs(cairn_store *store, const char *step_run_id,
                             cairn_lineage_edge **out, size_t *count)
{
  return edge_query(store, EDGE_SQL, step_run_id, "out", out, count);
}

int cairn_store_version_consumers(cairn_store *store,
                                  const char *version_id,
                                  cairn_lineage_edge **out, size_t *count)
{
  return edge_query(store,
      "SELECT DISTINCT o.name, o.version_id, a.name, v.version "
      "FROM lineage i JOIN lineage o ON o.step_run_id = i.step_run_id "
      "AND o.direction = 'out' "
      "JOIN artifact_versions v ON v.id = o.version_id "
      "JOIN artifacts a ON a.id = v.artifact_id "
      "WHERE i.direction = 'in' AND i.version_id = ?1 "
      "ORDER BY a.name, v.version", version_id, NULL, out, count);
}

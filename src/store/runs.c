/*
 * Pipelines, runs and step runs in the metadata store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/util.h"
#include "store/db.h"

#define RUN_COLS \
  "id, pipeline || '-' || number, pipeline, number, stack_id, " \
  "artifact_store_id, status, pid, started, ended, params"

#define STEP_COLS \
  "id, run_id, step, status, cache_key, cached_from, started_ms, " \
  "ended_ms, exit_code, log_uri, metrics, error"

const char *cairn_status_name(cairn_status s)
{
  switch (s) {
  case CAIRN_STATUS_RUNNING: return "running";
  case CAIRN_STATUS_COMPLETED: return "completed";
  case CAIRN_STATUS_FAILED: return "failed";
  case CAIRN_STATUS_CACHED: return "cached";
  case CAIRN_STATUS_CANCELLED: return "cancelled";
  case CAIRN_STATUS_SKIPPED: return "skipped";
  }
  return "unknown";
}

/* ---------------------------------------------------------------- */
/* Runs                                                              */
/* ---------------------------------------------------------------- */

void cairn_run_dispose(cairn_run *r)
{
  if (!r)
    return;
  free(r->id);
  free(r->name);
  free(r->pipeline);
  free(r->stack_id);
  free(r->artifact_store_id);
  json_decref(r->params);
  memset(r, 0, sizeof(*r));
}

void cairn_run_list_free(cairn_run *list, size_t count)
{
  size_t i;

  for (i = 0; list && i < count; i++)
    cairn_run_dispose(&list[i]);
  free(list);
}

static int read_run(sqlite3_stmt *st, cairn_run *out)
{
  out->id = cairn__db_text(st, 0);
  out->name = cairn__db_text(st, 1);
  out->pipeline = cairn__db_text(st, 2);
  out->number = sqlite3_column_int(st, 3);
  out->stack_id = cairn__db_text(st, 4);
  out->artifact_store_id = cairn__db_text(st, 5);
  out->status = (cairn_status)sqlite3_column_int(st, 6);
  out->pid = sqlite3_column_int(st, 7);
  out->started = sqlite3_column_int64(st, 8);
  out->ended = sqlite3_column_int64(st, 9);
  out->params = cairn__db_json(st, 10);
  if (!out->id || !out->name || !out->pipeline || !out->params) {
    cairn_run_dispose(out);
    return cairn__error_oom();
  }
  return 0;
}

static int run_by_id(cairn_store *s, cairn_run *out, const char *id)
{
  sqlite3_stmt *st;
  int rc, error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__db_prepare(s, &st, "SELECT " RUN_COLS
                                 " FROM runs WHERE id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    error = read_run(st, out);
  else if (rc == SQLITE_DONE)
    error = cairn__error(CAIRN_ENOTFOUND, "no run with id '%s'", id);
  else
    error = cairn__db_error(s, "reading a run");
  sqlite3_finalize(st);
  return error;
}

static int next_run_number(cairn_store *s, const char *pipeline, int *out)
{
  sqlite3_stmt *st;
  int rc, error;

  if ((error = cairn__db_prepare(s, &st,
         "INSERT OR IGNORE INTO pipelines(name, created) VALUES(?1, ?2)"))
      < 0)
    return error;
  cairn__db_bind_text(st, 1, pipeline);
  sqlite3_bind_int64(st, 2, cairn_time_now());
  if ((error = cairn__db_run(s, st, "recording a pipeline")) < 0)
    return error;
  if ((error = cairn__db_prepare(s, &st,
         "SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE pipeline=?1"))
      < 0)
    return error;
  cairn__db_bind_text(st, 1, pipeline);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int(st, 0);
  else
    error = cairn__db_error(s, "numbering a run");
  sqlite3_finalize(st);
  return error;
}

static int insert_run(cairn_store *s, const char *id, const char *pipeline,
                      int number, const char *stack_id,
                      const char *artifact_store_id, const json_t *params)
{
  sqlite3_stmt *st;
  int error;

  if ((error = cairn__db_prepare(s, &st,
         "INSERT INTO runs(id, pipeline, number, stack_id, "
         "artifact_store_id, status, pid, started, ended, params) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, pipeline);
  sqlite3_bind_int(st, 3, number);
  cairn__db_bind_text(st, 4, stack_id);
  cairn__db_bind_text(st, 5, artifact_store_id);
  sqlite3_bind_int(st, 6, CAIRN_STATUS_RUNNING);
  sqlite3_bind_int(st, 7, (int)getpid());
  sqlite3_bind_int64(st, 8, cairn_time_now());
  if ((error = cairn__db_bind_json(st, 9, params)) < 0) {
    sqlite3_finalize(st);
    return error;
  }
  return cairn__db_run(s, st, "recording a run");
}

int cairn_store_run_create(cairn_store *store, cairn_run *out,
                           const char *pipeline, const char *stack_id,
                           const char *artifact_store_id,
                           const json_t *params)
{
  char id[37];
  int number = 0, error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__store_check_name(pipeline, "pipeline")) < 0)
    return error;
  if ((error = cairn_uuid4(id)) < 0)
    return error;
  if ((error = cairn__db_begin(store)) < 0)
    return error;
  if ((error = next_run_number(store, pipeline, &number)) < 0 ||
      (error = insert_run(store, id, pipeline, number, stack_id,
                          artifact_store_id, params)) < 0) {
    cairn__db_rollback(store);
    return error;
  }
  if ((error = cairn__db_commit(store)) < 0)
    return error;
  return run_by_id(store, out, id);
}

int cairn_store_run_get(cairn_store *store, cairn_run *out,
                        const char *name_or_id)
{
  char *id;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__db_resolve(store, &id,
         "SELECT id FROM runs WHERE pipeline || '-' || number = ?2",
         "SELECT id, pipeline || '-' || number FROM runs WHERE "
         "substr(id, 1, length(?2))=?2 ORDER BY started", NULL,
         name_or_id, "run")) < 0)
    return error;
  error = run_by_id(store, out, id);
  free(id);
  return error;
}

int cairn_store_run_list(cairn_store *store, const char *pipeline,
                         cairn_run **out, size_t *count)
{
  cairn_run *list = NULL, *grown;
  size_t n = 0;
  sqlite3_stmt *st;
  int rc, error;

  *out = NULL;
  *count = 0;
  if ((error = cairn_store_run_reap(store)) < 0)
    return error;
  if ((error = cairn__db_prepare(store, &st, "SELECT " RUN_COLS
         " FROM runs WHERE ?1 IS NULL OR pipeline=?1 "
         "ORDER BY started DESC, rowid DESC")) < 0)
    return error;
  cairn__db_bind_text(st, 1, pipeline);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!(grown = realloc(list, (n + 1) * sizeof(*list)))) {
      error = cairn__error_oom();
      break;
    }
    list = grown;
    memset(&list[n], 0, sizeof(*list));
    if ((error = read_run(st, &list[n])) < 0)
      break;
    n++;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "listing runs");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_run_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

int cairn_store_run_finish(cairn_store *store, const char *run_id,
                           cairn_status status)
{
  sqlite3_stmt *st;
  int error;

  if ((error = cairn__db_prepare(store, &st,
         "UPDATE runs SET status=?2, ended=?3 WHERE id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, run_id);
  sqlite3_bind_int(st, 2, status);
  sqlite3_bind_int64(st, 3, cairn_time_now());
  if ((error = cairn__db_run(store, st, "finishing a run")) < 0)
    return error;
  if (sqlite3_changes(store->db) == 0)
    return cairn__error(CAIRN_ENOTFOUND, "no run with id '%s'", run_id);
  return 0;
}

/* Mark run @p id and its running steps failed. */
static int reap_one(cairn_store *s, const char *id)
{
  sqlite3_stmt *st;
  int error;

  if ((error = cairn__db_prepare(s, &st,
         "UPDATE step_runs SET status=?2, ended_ms=?3, "
         "error='the process running it ended' "
         "WHERE run_id=?1 AND status=?4")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  sqlite3_bind_int(st, 2, CAIRN_STATUS_FAILED);
  sqlite3_bind_int64(st, 3, cairn__db_now_ms());
  sqlite3_bind_int(st, 4, CAIRN_STATUS_RUNNING);
  if ((error = cairn__db_run(s, st, "reaping a run")) < 0)
    return error;
  if ((error = cairn__db_prepare(s, &st,
         "UPDATE runs SET status=?2, ended=?3 WHERE id=?1 AND status=?4"))
      < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  sqlite3_bind_int(st, 2, CAIRN_STATUS_FAILED);
  sqlite3_bind_int64(st, 3, cairn_time_now());
  sqlite3_bind_int(st, 4, CAIRN_STATUS_RUNNING);
  return cairn__db_run(s, st, "reaping a run");
}

static int pid_gone(int pid)
{
  return pid > 0 && !cairn_process_alive(pid);
}

int cairn_store_run_reap(cairn_store *store)
{
  cairn_strlist dead = CAIRN_STRLIST_INIT;
  sqlite3_stmt *st;
  size_t i;
  int rc, error;

  if ((error = cairn__db_prepare(store, &st,
         "SELECT id, pid FROM runs WHERE status=?1")) < 0)
    return error;
  sqlite3_bind_int(st, 1, CAIRN_STATUS_RUNNING);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!pid_gone(sqlite3_column_int(st, 1)))
      continue;
    if ((error = cairn_strlist_add(&dead,
           (const char *)sqlite3_column_text(st, 0))) < 0)
      break;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "looking for abandoned runs");
  sqlite3_finalize(st);
  if (error < 0 || dead.count == 0)
    goto done;
  if ((error = cairn__db_begin(store)) < 0)
    goto done;
  for (i = 0; i < dead.count && !error; i++)
    error = reap_one(store, dead.items[i]);
  if (error < 0)
    cairn__db_rollback(store);
  else
    error = cairn__db_commit(store);
done:
  cairn_strlist_dispose(&dead);
  return error;
}

/* ---------------------------------------------------------------- */
/* Step runs                                                         */
/* ---------------------------------------------------------------- */

void cairn_step_run_dispose(cairn_step_run *s)
{
  if (!s)
    return;
  free(s->id);
  free(s->run_id);
  free(s->step);
  free(s->cache_key);
  free(s->cached_from);
  free(s->log_uri);
  json_decref(s->metrics);
  free(s->error);
  memset(s, 0, sizeof(*s));
}

void cairn_step_run_list_free(cairn_step_run *list, size_t count)
{
  size_t i;

  for (i = 0; list && i < count; i++)
    cairn_step_run_dispose(&list[i]);
  free(list);
}

static int read_step(sqlite3_stmt *st, cairn_step_run *out)
{
  out->id = cairn__db_text(st, 0);
  out->run_id = cairn__db_text(st, 1);
  out->step = cairn__db_text(st, 2);
  out->status = (cairn_status)sqlite3_column_int(st, 3);
  out->cache_key = cairn__db_text(st, 4);
  out->cached_from = cairn__db_text(st, 5);
  out->started_ms = sqlite3_column_int64(st, 6);
  out->ended_ms = sqlite3_column_int64(st, 7);
  out->exit_code = sqlite3_column_int(st, 8);
  out->log_uri = cairn__db_text(st, 9);
  out->metrics = cairn__db_json(st, 10);
  out->error = cairn__db_text(st, 11);
  if (!out->id || !out->run_id || !out->step || !out->metrics) {
    cairn_step_run_dispose(out);
    return cairn__error_oom();
  }
  return 0;
}

/* Run @p sql (binding ?1 to @p a1, ?2 to @p a2) and read one step run. */
static int step_query_one(cairn_store *s, cairn_step_run *out,
                          const char *sql, const char *a1, const char *a2,
                          const char *missing)
{
  sqlite3_stmt *st;
  int rc, error;

  memset(out, 0, sizeof(*out));
  if ((error = cairn__db_prepare(s, &st, sql)) < 0)
    return error;
  cairn__db_bind_text(st, 1, a1);
  if (a2)
    cairn__db_bind_text(st, 2, a2);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    error = read_step(st, out);
  else if (rc == SQLITE_DONE)
    error = cairn__error(CAIRN_ENOTFOUND, "%s", missing);
  else
    error = cairn__db_error(s, "reading a step run");
  sqlite3_finalize(st);
  return error;
}

int cairn_store_step_run_get(cairn_store *store, cairn_step_run *out,
                             const char *id)
{
  char missing[128];

  snprintf(missing, sizeof(missing), "no step run with id '%.60s'", id);
  return step_query_one(store, out, "SELECT " STEP_COLS
                        " FROM step_runs WHERE id=?1", id, NULL, missing);
}

int cairn_store_step_run_create(cairn_store *store, cairn_step_run *out,
                                const char *run_id, const char *step,
                                const char *cache_key)
{
  sqlite3_stmt *st;
  char id[37];
  int error;

  memset(out, 0, sizeof(*out));
  if (!step || !*step)
    return cairn__error(CAIRN_EINVAL, "a step run needs a step name");
  if ((error = cairn_uuid4(id)) < 0)
    return error;
  if ((error = cairn__db_prepare(store, &st,
         "INSERT INTO step_runs(id, run_id, step, status, cache_key, "
         "started_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")) < 0)
    return error;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, run_id);
  cairn__db_bind_text(st, 3, step);
  sqlite3_bind_int(st, 4, CAIRN_STATUS_RUNNING);
  cairn__db_bind_text(st, 5, cache_key);
  sqlite3_bind_int64(st, 6, cairn__db_now_ms());
  if ((error = cairn__db_run(store, st, "recording a step run")) < 0)
    return error;
  return cairn_store_step_run_get(store, out, id);
}

int cairn_store_step_run_update(cairn_store *store, const cairn_step_run *s)
{
  sqlite3_stmt *st;
  int error;

  if ((error = cairn__db_prepare(store, &st,
         "UPDATE step_runs SET status=?2, cache_key=?3, cached_from=?4, "
         "started_ms=?5, ended_ms=?6, exit_code=?7, log_uri=?8, "
         "metrics=?9, error=?10 WHERE id=?1")) < 0)
    return error;
  cairn__db_bind_text(st, 1, s->id);
  sqlite3_bind_int(st, 2, s->status);
  cairn__db_bind_text(st, 3, s->cache_key);
  cairn__db_bind_text(st, 4, s->cached_from);
  sqlite3_bind_int64(st, 5, s->started_ms);
  sqlite3_bind_int64(st, 6, s->ended_ms);
  sqlite3_bind_int(st, 7, s->exit_code);
  cairn__db_bind_text(st, 8, s->log_uri);
  if ((error = cairn__db_bind_json(st, 9, s->metrics)) < 0) {
    sqlite3_finalize(st);
    return error;
  }
  cairn__db_bind_text(st, 10, s->error);
  if ((error = cairn__db_run(store, st, "updating a step run")) < 0)
    return error;
  if (sqlite3_changes(store->db) == 0)
    return cairn__error(CAIRN_ENOTFOUND, "no step run with id '%s'",
                        s->id);
  return 0;
}

int cairn_store_step_run_list(cairn_store *store, const char *run_id,
                              cairn_step_run **out, size_t *count)
{
  cairn_step_run *list = NULL, *grown;
  size_t n = 0;
  sqlite3_stmt *st;
  int rc, error = 0;

  *out = NULL;
  *count = 0;
  if ((error = cairn__db_prepare(store, &st, "SELECT " STEP_COLS
         " FROM step_runs WHERE run_id=?1 ORDER BY rowid")) < 0)
    return error;
  cairn__db_bind_text(st, 1, run_id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!(grown = realloc(list, (n + 1) * sizeof(*list)))) {
      error = cairn__error_oom();
      break;
    }
    list = grown;
    memset(&list[n], 0, sizeof(*list));
    if ((error = read_step(st, &list[n])) < 0)
      break;
    n++;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "listing step runs");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_step_run_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

int cairn_store_step_run_find_cached(cairn_store *store,
                                     cairn_step_run *out,
                                     const char *cache_key,
                                     const char *artifact_store_id)
{
  char sql[512];

  snprintf(sql, sizeof(sql),
           "SELECT " STEP_COLS " FROM step_runs WHERE cache_key=?1 AND "
           "status=%d AND run_id IN (SELECT id FROM runs WHERE "
           "artifact_store_id=?2) ORDER BY ended_ms DESC, rowid DESC "
           "LIMIT 1", (int)CAIRN_STATUS_COMPLETED);
  return step_query_one(store, out, sql, cache_key, artifact_store_id,
                        "no cached result for this step");
}

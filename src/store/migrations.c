/*
 * The versioned schema of the metadata store.  Each migration runs once,
 * in order, inside the transaction that opens the store; the table
 * schema_version records the ones applied.  A migration is never edited
 * once released: a change is a new migration.
 */
#include <stdio.h>

#include "core/error.h"
#include "store/db.h"

static const char migration_1[] =
  "CREATE TABLE settings ("
  "  key TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL);"

  "CREATE TABLE components ("
  "  id TEXT PRIMARY KEY,"
  "  type TEXT NOT NULL,"
  "  name TEXT NOT NULL,"
  "  flavor TEXT NOT NULL,"
  "  config TEXT NOT NULL DEFAULT '{}',"
  "  is_default INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL,"
  "  updated INTEGER NOT NULL,"
  "  UNIQUE(type, name));"

  "CREATE TABLE stacks ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  artifact_store_id TEXT NOT NULL REFERENCES components(id),"
  "  orchestrator_id TEXT NOT NULL REFERENCES components(id),"
  "  is_default INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL);"

  "CREATE TABLE pipelines ("
  "  name TEXT PRIMARY KEY,"
  "  created INTEGER NOT NULL);"

  "CREATE TABLE runs ("
  "  id TEXT PRIMARY KEY,"
  "  pipeline TEXT NOT NULL REFERENCES pipelines(name),"
  "  number INTEGER NOT NULL,"
  "  stack_id TEXT,"
  "  artifact_store_id TEXT,"
  "  status INTEGER NOT NULL,"
  "  pid INTEGER NOT NULL DEFAULT 0,"
  "  started INTEGER NOT NULL,"
  "  ended INTEGER NOT NULL DEFAULT 0,"
  "  params TEXT NOT NULL DEFAULT '{}',"
  "  UNIQUE(pipeline, number));"
  "CREATE INDEX runs_status ON runs(status);"

  "CREATE TABLE step_runs ("
  "  id TEXT PRIMARY KEY,"
  "  run_id TEXT NOT NULL REFERENCES runs(id),"
  "  step TEXT NOT NULL,"
  "  status INTEGER NOT NULL,"
  "  cache_key TEXT,"
  "  cached_from TEXT,"
  "  started_ms INTEGER NOT NULL DEFAULT 0,"
  "  ended_ms INTEGER NOT NULL DEFAULT 0,"
  "  exit_code INTEGER NOT NULL DEFAULT 0,"
  "  log_uri TEXT,"
  "  metrics TEXT NOT NULL DEFAULT '{}',"
  "  error TEXT);"
  "CREATE INDEX step_runs_run ON step_runs(run_id);"
  "CREATE INDEX step_runs_cache ON step_runs(cache_key);"

  "CREATE TABLE artifacts ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  created INTEGER NOT NULL);"

  "CREATE TABLE artifact_versions ("
  "  id TEXT PRIMARY KEY,"
  "  artifact_id TEXT NOT NULL REFERENCES artifacts(id),"
  "  version INTEGER NOT NULL,"
  "  uri TEXT NOT NULL,"
  "  artifact_store_id TEXT,"
  "  kind TEXT,"
  "  size INTEGER NOT NULL DEFAULT 0,"
  "  sha256 TEXT,"
  "  media_type TEXT,"
  "  producer_step_run_id TEXT REFERENCES step_runs(id),"
  "  output TEXT,"
  "  metadata TEXT NOT NULL DEFAULT '{}',"
  "  created INTEGER NOT NULL,"
  "  UNIQUE(artifact_id, version));"

  "CREATE TABLE lineage ("
  "  step_run_id TEXT NOT NULL REFERENCES step_runs(id),"
  "  direction TEXT NOT NULL CHECK(direction IN ('in', 'out')),"
  "  name TEXT NOT NULL,"
  "  version_id TEXT NOT NULL REFERENCES artifact_versions(id),"
  "  PRIMARY KEY(step_run_id, direction, name));"
  "CREATE INDEX lineage_version ON lineage(version_id);";

/*
 * Secrets: values are one authenticated ciphertext per secret (see
 * secrets.c); key names are kept in clear so that listings work without
 * the key, and key_id names the secrets key that encrypted the row.
 */
static const char migration_2[] =
  "CREATE TABLE secrets ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  keys TEXT NOT NULL DEFAULT '[]',"
  "  key_id TEXT NOT NULL,"
  "  nonce BLOB NOT NULL,"
  "  ciphertext BLOB NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  updated INTEGER NOT NULL);";

/*
 * Service connectors: named Azure credentials with an auth method, a
 * resource scope and an expiry; their secret fields live in a secret.
 * Components may be connected to one.
 */
static const char migration_3[] =
  "CREATE TABLE service_connectors ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  type TEXT NOT NULL,"
  "  auth_method TEXT NOT NULL,"
  "  resource_type TEXT,"
  "  resource_id TEXT,"
  "  config TEXT NOT NULL DEFAULT '{}',"
  "  secret_id TEXT REFERENCES secrets(id),"
  "  expires_at INTEGER NOT NULL DEFAULT 0,"
  "  expiration_seconds INTEGER NOT NULL DEFAULT 0,"
  "  description TEXT NOT NULL DEFAULT '',"
  "  created INTEGER NOT NULL,"
  "  updated INTEGER NOT NULL);"
  "ALTER TABLE components ADD COLUMN connector_id TEXT "
  "  REFERENCES service_connectors(id);";

static const char *const migrations[] = {
  migration_1,
  migration_2,
  migration_3,
};

#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int stored_version(cairn_store *s, int *out)
{
  sqlite3_stmt *st;
  int rc, error;

  *out = 0;
  if ((error = cairn__db_prepare(s, &st,
         "SELECT COALESCE(MAX(version), 0) FROM schema_version")) < 0)
    return error;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW)
    return cairn__db_error(s, "reading the schema version");
  return 0;
}

int cairn__db_migrate(cairn_store *s)
{
  char sql[96];
  int version, i, error;

  if ((error = cairn__db_exec(s,
         "CREATE TABLE IF NOT EXISTS schema_version ("
         "  version INTEGER NOT NULL PRIMARY KEY,"
         "  applied INTEGER NOT NULL DEFAULT (strftime('%s', 'now')))"))
      < 0)
    return error;
  if ((error = stored_version(s, &version)) < 0)
    return error;
  if (version > MIGRATION_COUNT)
    return cairn__error(CAIRN_ERROR,
                        "the metadata store in '%s' has schema version %d, "
                        "newer than this cairn knows (%d): upgrade cairn",
                        s->home, version, MIGRATION_COUNT);
  for (i = version; i < MIGRATION_COUNT; i++) {
    if ((error = cairn__db_exec(s, migrations[i])) < 0)
      return cairn__error_prefix("schema migration %d", i + 1);
    snprintf(sql, sizeof(sql),
             "INSERT INTO schema_version(version) VALUES(%d)", i + 1);
    if ((error = cairn__db_exec(s, sql)) < 0)
      return error;
  }
  return 0;
}

/*
 * Opening the SQLite metadata store, its helpers and transactions.
 */
#define _GNU_SOURCE
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"

#define BUSY_TIMEOUT_MS 10000

int cairn__db_error(cairn_store *s, const char *what)
{
  int rc = sqlite3_extended_errcode(s->db);
  const char *msg = sqlite3_errmsg(s->db);

  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return cairn__error(CAIRN_ETIMEOUT,
                        "%s: the metadata store stayed locked by another "
                        "cairn process for over %d s; try again",
                        what, BUSY_TIMEOUT_MS / 1000);
  case SQLITE_CONSTRAINT:
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
      return cairn__error(CAIRN_EINUSE, "%s: still referenced (%s)", what,
                          msg);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
      return cairn__error(CAIRN_EEXISTS, "%s: already exists (%s)", what,
                          msg);
    return cairn__error(CAIRN_EINVAL, "%s: %s", what, msg);
  case SQLITE_NOMEM:
    return cairn__error_oom();
  case SQLITE_READONLY:
  case SQLITE_PERM:
  case SQLITE_AUTH:
  case SQLITE_CANTOPEN:
    /* the database writes its journal beside itself: the folder counts */
    return cairn__error(CAIRN_EPERM, "%s: %s (check that this user may "
                        "write %s/cairn.db and the folder %s)", what, msg,
                        s->home, s->home);
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return cairn__error(CAIRN_ERROR, "%s: %s/cairn.db is damaged or not a "
                        "cairn database", what, s->home);
  case SQLITE_FULL:
  case SQLITE_IOERR:
    return cairn__error(CAIRN_EIO, "%s: %s", what, msg);
  default:
    return cairn__error(CAIRN_ERROR, "%s: %s", what, msg);
  }
}

int cairn__db_exec(cairn_store *s, const char *sql)
{
  if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return cairn__db_error(s, "metadata store");
  return 0;
}

int cairn__db_prepare(cairn_store *s, sqlite3_stmt **out, const char *sql)
{
  *out = NULL;
  if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK) {
    log_error("store", "cannot prepare: %s", sqlite3_errmsg(s->db));
    return cairn__db_error(s, "metadata store");
  }
  return 0;
}

int cairn__db_run(cairn_store *s, sqlite3_stmt *st, const char *what)
{
  int rc = sqlite3_step(st);
  int error = 0;

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    error = cairn__db_error(s, what);
  sqlite3_finalize(st);
  return error;
}

void cairn__db_bind_text(sqlite3_stmt *st, int idx, const char *text)
{
  if (text)
    sqlite3_bind_text(st, idx, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, idx);
}

int cairn__db_bind_json(sqlite3_stmt *st, int idx, const json_t *value)
{
  char *text;

  if (!value) {
    sqlite3_bind_text(st, idx, "{}", -1, SQLITE_STATIC);
    return 0;
  }
  text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (!text)
    return cairn__error_oom();
  sqlite3_bind_text(st, idx, text, -1, free);
  return 0;
}

char *cairn__db_text(sqlite3_stmt *st, int col)
{
  const unsigned char *t = sqlite3_column_text(st, col);

  return t ? cairn__strdup((const char *)t) : NULL;
}

json_t *cairn__db_json(sqlite3_stmt *st, int col)
{
  const char *t = (const char *)sqlite3_column_text(st, col);
  json_t *v = NULL;

  if (t)
    v = json_loads(t, JSON_DECODE_ANY, NULL);
  return v ? v : json_object();
}

int cairn__db_begin(cairn_store *s)
{
  int error;

  if (s->depth > 0) {
    s->depth++;
    return 0;
  }
  if ((error = cairn__db_exec(s, "BEGIN IMMEDIATE")) < 0)
    return error;
  s->depth = 1;
  return 0;
}

int cairn__db_commit(cairn_store *s)
{
  int error;

  if (s->depth <= 0)
    return cairn__error(CAIRN_ERROR, "commit without a transaction");
  if (--s->depth > 0)
    return 0;
  if ((error = cairn__db_exec(s, "COMMIT")) < 0) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return error;
  }
  return 0;
}

void cairn__db_rollback(cairn_store *s)
{
  if (s->depth <= 0)
    return;
  if (--s->depth == 0)
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int cairn_store_begin(cairn_store *store)
{
  return cairn__db_begin(store);
}

int cairn_store_commit(cairn_store *store)
{
  return cairn__db_commit(store);
}

void cairn_store_rollback(cairn_store *store)
{
  cairn__db_rollback(store);
}

int64_t cairn__db_now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *cairn__store_type_label(const char *type)
{
  if (strcmp(type, "artifact_store") == 0)
    return "artifact store";
  return type;
}

/* Collect up to a few names of rows matching a prefix, for messages. */
static int resolve_prefix(cairn_store *s, char **out, const char *sql,
                          const char *scope, const char *key,
                          const char *what)
{
  cairn_buf names = CAIRN_BUF_INIT;
  sqlite3_stmt *st;
  char *id = NULL;
  int rc, n = 0, error;

  if ((error = cairn__db_prepare(s, &st, sql)) < 0)
    return error;
  cairn__db_bind_text(st, 1, scope);
  cairn__db_bind_text(st, 2, key);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n++ == 0)
      id = cairn__db_text(st, 0);
    cairn_buf_printf(&names, "%s'%s'", n > 1 ? ", " : "",
                     (const char *)sqlite3_column_text(st, 1));
  }
  if (rc != SQLITE_DONE) {
    error = cairn__db_error(s, "metadata store");
  } else if (n == 0) {
    error = cairn__error(CAIRN_ENOTFOUND,
                         "no %s '%s' (looked for a name, an id and an id "
                         "prefix)", what, key);
  } else if (n > 1) {
    error = cairn__error(CAIRN_EINVAL,
                         "'%s' is ambiguous: it starts the ids of %s %s; "
                         "give more of the id or the name",
                         key, what, cairn_buf_cstr(&names));
  } else if (!id) {
    error = CAIRN_ENOMEM;
  }
  sqlite3_finalize(st);
  cairn_buf_dispose(&names);
  if (error < 0) {
    free(id);
    return error;
  }
  *out = id;
  return 0;
}

int cairn__db_resolve(cairn_store *s, char **out, const char *sql_name,
                      const char *sql_prefix, const char *scope,
                      const char *key, const char *what)
{
  sqlite3_stmt *st;
  int rc, error;

  *out = NULL;
  if (!key || !*key)
    return cairn__error(CAIRN_EINVAL, "no %s name given", what);
  if ((error = cairn__db_prepare(s, &st, sql_name)) < 0)
    return error;
  cairn__db_bind_text(st, 1, scope);
  cairn__db_bind_text(st, 2, key);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = cairn__db_text(st, 0);
    sqlite3_finalize(st);
    return *out ? 0 : CAIRN_ENOMEM;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return cairn__db_error(s, "metadata store");
  if (strlen(key) < 4)
    return cairn__error(CAIRN_ENOTFOUND, "no %s '%s' (looked for a name "
                        "and an id; a prefix of an id needs 4 characters "
                        "or more)", what, key);
  return resolve_prefix(s, out, sql_prefix, scope, key, what);
}

/* ---------------------------------------------------------------- */
/* Opening                                                           */
/* ---------------------------------------------------------------- */

static int prepare_home(const char *home)
{
  struct stat st;
  int error;

  if (stat(home, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return cairn__error(CAIRN_EINVAL, "cairn home '%s' is not a folder",
                          home);
    return 0;
  }
  if (errno != ENOENT)
    return cairn__error_errno("cannot use cairn home", home);
  if ((error = cairn_mkdirs(home, 0700)) < 0)
    return error;
  if (chmod(home, 0700) < 0)
    return cairn__error_errno("cannot set the permissions of", home);
  return 0;
}

static int prepare_db_file(const char *path)
{
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  if (fd < 0) {
    if (errno == EEXIST)
      return 0;
    return cairn__error_errno("cannot create the metadata store", path);
  }
  close(fd);
  if (chmod(path, 0600) < 0)
    return cairn__error_errno("cannot set the permissions of", path);
  return 0;
}

static int get_setting(cairn_store *s, const char *key, char **out)
{
  sqlite3_stmt *st;
  int rc, error;

  *out = NULL;
  if ((error = cairn__db_prepare(s, &st,
                                 "SELECT value FROM settings WHERE key=?1"))
      < 0)
    return error;
  cairn__db_bind_text(st, 1, key);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out = cairn__db_text(st, 0);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return cairn__db_error(s, "reading settings");
  return 0;
}

static int insert_default_component(cairn_store *s, const char *type,
                                    const char *path_prefix)
{
  sqlite3_stmt *st;
  char id[37];
  json_t *config = json_object();
  char *path = NULL;
  int64_t now = cairn_time_now();
  int error;

  if (!config)
    return cairn__error_oom();
  if ((error = cairn_uuid4(id)) < 0)
    goto done;
  if (path_prefix) {
    if (!(path = cairn__sprintf("%s/%s", path_prefix, id))) {
      error = CAIRN_ENOMEM;
      goto done;
    }
    json_object_set_new(config, "path", json_string(path));
  }
  if ((error = cairn__db_prepare(s, &st,
         "INSERT OR IGNORE INTO components(id, type, name, flavor, config, "
         "is_default, created, updated) "
         "VALUES(?1, ?2, 'default', 'local', ?3, 1, ?4, ?4)")) < 0)
    goto done;
  cairn__db_bind_text(st, 1, id);
  cairn__db_bind_text(st, 2, type);
  if ((error = cairn__db_bind_json(st, 3, config)) < 0) {
    sqlite3_finalize(st);
    goto done;
  }
  sqlite3_bind_int64(st, 4, now);
  error = cairn__db_run(s, st, "creating the default components");
done:
  json_decref(config);
  free(path);
  return error;
}

/*
 * The default orchestrator, artifact store and stack, once per home.
 * Runs inside the open transaction; INSERT OR IGNORE on the unique
 * names keeps a racing process from making a second set.
 */
static int create_defaults(cairn_store *s)
{
  char *done = NULL, *stores = NULL, sid[37];
  sqlite3_stmt *st;
  int error;

  if ((error = get_setting(s, "defaults", &done)) < 0)
    return error;
  if (done) {
    free(done);
    return 0;
  }
  if (!(stores = cairn_path_join(s->home, "local_stores")))
    return CAIRN_ENOMEM;
  error = insert_default_component(s, "orchestrator", NULL);
  if (!error)
    error = insert_default_component(s, "artifact_store", stores);
  free(stores);
  if (error < 0 || (error = cairn_uuid4(sid)) < 0)
    return error;

  if ((error = cairn__db_prepare(s, &st,
         "INSERT OR IGNORE INTO stacks(id, name, artifact_store_id, "
         "orchestrator_id, is_default, created) SELECT ?1, 'default', "
         "(SELECT id FROM components WHERE type='artifact_store' AND "
         "name='default'), (SELECT id FROM components WHERE "
         "type='orchestrator' AND name='default'), 1, ?2")) < 0)
    return error;
  cairn__db_bind_text(st, 1, sid);
  sqlite3_bind_int64(st, 2, cairn_time_now());
  if ((error = cairn__db_run(s, st, "creating the default stack")) < 0)
    return error;
  return cairn__db_exec(s,
      "INSERT OR IGNORE INTO settings(key, value) SELECT 'active_stack', id "
      "FROM stacks WHERE name='default';"
      "INSERT OR REPLACE INTO settings(key, value) VALUES('defaults', '1');");
}

static int setup_once(cairn_store *s)
{
  int error;

  if ((error = cairn__db_exec(s, "PRAGMA journal_mode=WAL")) < 0 ||
      (error = cairn__db_exec(s, "PRAGMA foreign_keys=ON")) < 0 ||
      (error = cairn__db_exec(s, "PRAGMA synchronous=NORMAL")) < 0)
    return error;
  if ((error = cairn__db_begin(s)) < 0)
    return error;
  if ((error = cairn__db_migrate(s)) < 0 ||
      (error = create_defaults(s)) < 0) {
    cairn__db_rollback(s);
    return error;
  }
  return cairn__db_commit(s);
}

/*
 * Switching to WAL and the first migration take locks for which SQLite
 * does not always wait (it reports busy at once to avoid a deadlock), so
 * racing first opens retry here, within the same 10 s budget.
 */
static int setup(cairn_store *s)
{
  int64_t deadline = cairn_time_monotonic_ms() + BUSY_TIMEOUT_MS;
  struct timespec pause;
  unsigned char r;
  int error;

  for (;;) {
    error = setup_once(s);
    if (error != CAIRN_ETIMEOUT || cairn_time_monotonic_ms() > deadline)
      return error;
    if (cairn_random_bytes(&r, 1) < 0)
      r = 0;
    pause.tv_sec = 0;
    pause.tv_nsec = (5 + r % 20) * 1000000L;
    nanosleep(&pause, NULL);
  }
}

int cairn_store_open(cairn_store **out, const char *home)
{
  cairn_store *s;
  char *path = NULL;
  int error;

  *out = NULL;
  if (!home || !*home)
    return cairn__error(CAIRN_EINVAL, "no cairn home folder given");
  if (!(s = cairn__calloc(1, sizeof(*s))))
    return CAIRN_ENOMEM;
  if (!(s->home = cairn_path_absolute(home))) {
    error = CAIRN_ENOMEM;
    goto fail;
  }
  if ((error = prepare_home(s->home)) < 0)
    goto fail;
  if (!(path = cairn_path_join(s->home, "cairn.db"))) {
    error = CAIRN_ENOMEM;
    goto fail;
  }
  if ((error = prepare_db_file(path)) < 0)
    goto fail;
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
                      SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK) {
    error = s->db ? cairn__db_error(s, "opening the metadata store")
                  : cairn__error_oom();
    goto fail;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
  if ((error = setup(s)) < 0 || (error = cairn_store_run_reap(s)) < 0)
    goto fail;
  log_debug("store", "opened %s", path);
  free(path);
  *out = s;
  return 0;
fail:
  free(path);
  cairn_store_free(s);
  return error;
}

void cairn_store_free(cairn_store *store)
{
  if (!store)
    return;
  if (store->db)
    sqlite3_close_v2(store->db);
  free(store->home);
  free(store->config_dir);
  free(store);
}

const char *cairn_store_home(const cairn_store *store)
{
  return store->home;
}

int cairn_store_schema_version(cairn_store *store)
{
  sqlite3_stmt *st;
  int version = -1;

  if (cairn__db_prepare(store, &st,
                        "SELECT MAX(version) FROM schema_version") < 0)
    return -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return version;
}

/* Internal to the store: the active stack id, NULL when none. */
int cairn__store_active_stack_id(cairn_store *s, char **out)
{
  return get_setting(s, "active_stack", out);
}

/*
 * Internal to the SQLite metadata store: the handle and the helpers its
 * files share (statements, binding, columns, transactions, lookups).
 */
#ifndef CAIRN_STORE_DB_H
#define CAIRN_STORE_DB_H

#include <sqlite3.h>

#include "store/store.h"

struct cairn_store {
  sqlite3 *db;
  char *home;
  char *config_dir; /* where the secrets key lives; NULL: from the env */
  int depth; /* nesting of cairn__db_begin() */
};

/* The schema version that cairn__db_migrate() brings a database to. */
#define CAIRN__SCHEMA_VERSION 3

/* Apply every migration above the stored version.  In a transaction. */
int cairn__db_migrate(cairn_store *s);

/* Map the connection's last SQLite error to a cairn error about @p what. */
int cairn__db_error(cairn_store *s, const char *what);

/* Run SQL without results. */
int cairn__db_exec(cairn_store *s, const char *sql);
/* Prepare one statement; *out is NULL on failure. */
int cairn__db_prepare(cairn_store *s, sqlite3_stmt **out, const char *sql);
/* Step a write statement to its end and finalize it. */
int cairn__db_run(cairn_store *s, sqlite3_stmt *st, const char *what);

/* Bind a string (NULL binds SQL NULL); copied. */
void cairn__db_bind_text(sqlite3_stmt *st, int idx, const char *text);
/* Bind JSON as compact text (NULL binds "{}"). */
int cairn__db_bind_json(sqlite3_stmt *st, int idx, const json_t *value);

/* A column as a new string (free()), NULL for SQL NULL. */
char *cairn__db_text(sqlite3_stmt *st, int col);
/* A column of JSON text as a new reference; an empty object if NULL. */
json_t *cairn__db_json(sqlite3_stmt *st, int col);

/* Transactions that nest: only the outermost BEGIN IMMEDIATE/COMMIT run. */
int cairn__db_begin(cairn_store *s);
int cairn__db_commit(cairn_store *s);
void cairn__db_rollback(cairn_store *s);

/*
 * Find the id of a row by name, full id or unique id prefix (>= 4
 * characters).  @p sql_name selects the id by name (?2), @p sql_prefix
 * selects "id, name" of rows whose id starts with ?2; both may use ?1,
 * bound to @p scope [nullable].  @p what names the kind of thing for
 * messages ("artifact store").  CAIRN_ENOTFOUND or, for an ambiguous
 * prefix, CAIRN_EINVAL.
 */
int cairn__db_resolve(cairn_store *s, char **out, const char *sql_name,
                      const char *sql_prefix, const char *scope,
                      const char *key, const char *what);

/* The active stack's id (free()), NULL when none is set. */
int cairn__store_active_stack_id(cairn_store *s, char **out);

/* Check a user-given name of a @p what; CAIRN_EINVAL if unusable. */
int cairn__store_check_name(const char *name, const char *what);
/* Component @p id exists and is of @p type. */
int cairn__store_component_check(cairn_store *s, const char *id,
                                 const char *type);

/* Wall-clock milliseconds since the epoch. */
int64_t cairn__db_now_ms(void);

/* Display name of a component type: "artifact store", "orchestrator". */
const char *cairn__store_type_label(const char *type);

#endif

/*
 * The metadata store: components, stacks, pipelines, runs, step runs,
 * artifacts, artifact versions and lineage, over SQLite.
 *
 * One interface; a client of the cairn server will implement it later.
 * Records are plain structs owned by the caller and emptied with their
 * _dispose function.  Ids are UUID strings.  Lookups by name or id
 * return CAIRN_ENOTFOUND with a message naming what was missing.
 */
#ifndef CAIRN_STORE_STORE_H
#define CAIRN_STORE_STORE_H

#include <cairn/common.h>
#include <jansson.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct cairn_store cairn_store;

/*
 * Open (creating and migrating) the database under @p home
 * (<home>/cairn.db, mode 0600), with a busy timeout so that two
 * processes can work on one home.  The first open creates the default
 * components and stack:
 *   orchestrator "default" flavor local,
 *   artifact store "default" flavor local, path <home>/local_stores/<id>,
 *   stack "default" with both, active.
 */
int cairn_store_open(cairn_store **out, const char *home);
void cairn_store_free(cairn_store *store);
const char *cairn_store_home(const cairn_store *store);
/* The schema version after migrations. */
int cairn_store_schema_version(cairn_store *store);

/* Transactions, for writes that must land together. */
int cairn_store_begin(cairn_store *store);
int cairn_store_commit(cairn_store *store);
void cairn_store_rollback(cairn_store *store);

/* ---------------------------------------------------------------- */
/* Components and stacks                                             */
/* ---------------------------------------------------------------- */

typedef struct {
  char *id;
  char *name;
  char *type;    /* "artifact_store" or "orchestrator" */
  char *flavor;  /* "local", "azure" */
  json_t *config; /* object of the flavor's fields ("path", ...) */
  int64_t created;
  int64_t updated;
  char *connector_id; /* the service connector it is connected to, or NULL */
} cairn_component;

void cairn_component_dispose(cairn_component *c);

/* Register; CAIRN_EEXISTS when type+name is taken. config is copied. */
int cairn_store_component_create(cairn_store *store, cairn_component *out,
                                 const char *type, const char *name,
                                 const char *flavor, const json_t *config);
/* Find by name, id or unique id prefix within a type. */
int cairn_store_component_get(cairn_store *store, cairn_component *out,
                              const char *type, const char *name_or_id);
/* All of a type, ordered by name. */
int cairn_store_component_list(cairn_store *store, const char *type,
                               cairn_component **out, size_t *count);
void cairn_component_list_free(cairn_component *list, size_t count);
int cairn_store_component_update(cairn_store *store, const char *id,
                                 const json_t *config);
/* Connect component @p id to a service connector (NULL disconnects). */
int cairn_store_component_set_connector(cairn_store *store, const char *id,
                                        const char *connector_id);
int cairn_store_component_rename(cairn_store *store, const char *id,
                                 const char *new_name);
/*
 * Delete; CAIRN_EINUSE naming the stacks that use it, CAIRN_EPERM for a
 * default component.
 */
int cairn_store_component_delete(cairn_store *store, const char *id);

typedef struct {
  char *id;
  char *name;
  char *artifact_store_id;
  char *orchestrator_id;
  int active;
  int64_t created;
} cairn_stack;

void cairn_stack_dispose(cairn_stack *s);

int cairn_store_stack_create(cairn_store *store, cairn_stack *out,
                             const char *name, const char *artifact_store_id,
                             const char *orchestrator_id);
int cairn_store_stack_get(cairn_store *store, cairn_stack *out,
                          const char *name_or_id);
int cairn_store_stack_active(cairn_store *store, cairn_stack *out);
int cairn_store_stack_list(cairn_store *store, cairn_stack **out,
                           size_t *count);
void cairn_stack_list_free(cairn_stack *list, size_t count);
int cairn_store_stack_set_active(cairn_store *store, const char *id);
/* NULL leaves a component as it is. */
int cairn_store_stack_update(cairn_store *store, const char *id,
                             const char *artifact_store_id,
                             const char *orchestrator_id);
int cairn_store_stack_rename(cairn_store *store, const char *id,
                             const char *new_name);
/* CAIRN_EPERM for the active stack (and for "default"). */
int cairn_store_stack_delete(cairn_store *store, const char *id);
/* Names of the stacks that use component @p id. */
int cairn_store_stacks_using(cairn_store *store, const char *component_id,
                             cairn_strlist *out);

/* ---------------------------------------------------------------- */
/* Pipelines, runs and step runs                                     */
/* ---------------------------------------------------------------- */

typedef enum {
  CAIRN_STATUS_RUNNING = 0,
  CAIRN_STATUS_COMPLETED,
  CAIRN_STATUS_FAILED,
  CAIRN_STATUS_CACHED,
  CAIRN_STATUS_CANCELLED,
  CAIRN_STATUS_SKIPPED   /* not run because a dependency failed */
} cairn_status;

const char *cairn_status_name(cairn_status s); /* "running", ... */

typedef struct {
  char *id;
  char *name;          /* "<pipeline>-<n>" */
  char *pipeline;      /* pipeline name */
  int number;          /* n */
  char *stack_id;
  char *artifact_store_id;
  cairn_status status;
  int pid;             /* process running it, for crash detection */
  int64_t started;     /* seconds since the epoch */
  int64_t ended;       /* 0 while running */
  json_t *params;      /* object */
} cairn_run;

void cairn_run_dispose(cairn_run *r);

/*
 * Create a run of @p pipeline with the next number for that pipeline
 * (atomic: two processes get distinct numbers).  Status running, pid =
 * the calling process.
 */
int cairn_store_run_create(cairn_store *store, cairn_run *out,
                           const char *pipeline, const char *stack_id,
                           const char *artifact_store_id,
                           const json_t *params);
/* By name ("p-3"), id, or unique id prefix. */
int cairn_store_run_get(cairn_store *store, cairn_run *out,
                        const char *name_or_id);
/* Newest first; @p pipeline [nullable] filters. */
int cairn_store_run_list(cairn_store *store, const char *pipeline,
                         cairn_run **out, size_t *count);
void cairn_run_list_free(cairn_run *list, size_t count);
int cairn_store_run_finish(cairn_store *store, const char *run_id,
                           cairn_status status);
/*
 * Runs left "running" by a process that no longer exists are marked
 * failed.  Called on open and before listings.
 */
int cairn_store_run_reap(cairn_store *store);

typedef struct {
  char *id;
  char *run_id;
  char *step;          /* step name */
  cairn_status status;
  char *cache_key;     /* hex */
  char *cached_from;   /* step run id whose outputs were reused, or NULL */
  int64_t started_ms;  /* milliseconds since the epoch */
  int64_t ended_ms;
  int exit_code;
  char *log_uri;       /* where the log is kept in the artifact store */
  json_t *metrics;     /* object, may be empty */
  char *error;         /* one line when failed, else NULL */
} cairn_step_run;

void cairn_step_run_dispose(cairn_step_run *s);

int cairn_store_step_run_create(cairn_store *store, cairn_step_run *out,
                                const char *run_id, const char *step,
                                const char *cache_key);
/* Write every field of @p s back (status, times, metrics, ...). */
int cairn_store_step_run_update(cairn_store *store, const cairn_step_run *s);
/* In the order they were created. */
int cairn_store_step_run_list(cairn_store *store, const char *run_id,
                              cairn_step_run **out, size_t *count);
void cairn_step_run_list_free(cairn_step_run *list, size_t count);
/*
 * The newest completed (not cached) step run with @p cache_key whose
 * run used artifact store @p artifact_store_id; CAIRN_ENOTFOUND if none.
 */
int cairn_store_step_run_find_cached(cairn_store *store,
                                     cairn_step_run *out,
                                     const char *cache_key,
                                     const char *artifact_store_id);

/* ---------------------------------------------------------------- */
/* Artifacts, versions and lineage                                   */
/* ---------------------------------------------------------------- */

typedef struct {
  char *id;
  char *artifact;      /* artifact name */
  int version;         /* 1, 2, ... per artifact */
  char *uri;           /* absolute URI of the version folder */
  char *artifact_store_id;
  char *kind;          /* "file" or "folder" */
  uint64_t size;       /* bytes, all files */
  char *sha256;        /* hex: the file's, or the manifest's for a folder */
  char *media_type;
  char *producer_step_run_id; /* NULL for imports */
  char *output;        /* output name in the producing step */
  json_t *metadata;    /* object */
  int64_t created;
} cairn_artifact_version;

void cairn_artifact_version_dispose(cairn_artifact_version *v);

/*
 * Record a new version of @p v->artifact: the version number is chosen
 * atomically (the next after the highest); id and created are filled
 * in.  The other fields are copied from @p v.
 */
int cairn_store_artifact_version_create(cairn_store *store,
                                        cairn_artifact_version *v);
/* @p version 0 means the latest. */
int cairn_store_artifact_version_get(cairn_store *store,
                                     cairn_artifact_version *out,
                                     const char *artifact, int version);
int cairn_store_artifact_version_get_by_id(cairn_store *store,
                                           cairn_artifact_version *out,
                                           const char *id);
/* Newest first; @p artifact [nullable] filters by name. */
int cairn_store_artifact_version_list(cairn_store *store,
                                      const char *artifact,
                                      cairn_artifact_version **out,
                                      size_t *count);
void cairn_artifact_version_list_free(cairn_artifact_version *list,
                                      size_t count);

/* Artifacts with their number of versions and latest version. */
typedef struct {
  char *name;
  int versions;
  int latest;
  int64_t updated;
} cairn_artifact_summary;

int cairn_store_artifact_list(cairn_store *store,
                              cairn_artifact_summary **out, size_t *count);
void cairn_artifact_summary_list_free(cairn_artifact_summary *list,
                                      size_t count);

/* Lineage: step run @p step_run_id read version @p version_id as input. */
int cairn_store_lineage_add_input(cairn_store *store,
                                  const char *step_run_id,
                                  const char *input_name,
                                  const char *version_id);
/*
 * Step run @p step_run_id has output @p output as version
 * @p version_id (also used when a cached step reuses a version).
 */
int cairn_store_lineage_add_output(cairn_store *store,
                                   const char *step_run_id,
                                   const char *output,
                                   const char *version_id);

typedef struct {
  char *name;       /* input or output name */
  char *version_id;
  char *artifact;
  int version;
} cairn_lineage_edge;

void cairn_lineage_list_free(cairn_lineage_edge *list, size_t count);
int cairn_store_step_inputs(cairn_store *store, const char *step_run_id,
                            cairn_lineage_edge **out, size_t *count);
int cairn_store_step_outputs(cairn_store *store, const char *step_run_id,
                             cairn_lineage_edge **out, size_t *count);
/* Versions that step runs consuming @p version_id produced. */
int cairn_store_version_consumers(cairn_store *store,
                                  const char *version_id,
                                  cairn_lineage_edge **out, size_t *count);
int cairn_store_step_run_get(cairn_store *store, cairn_step_run *out,
                             const char *id);

/* ---------------------------------------------------------------- */
/* Secrets                                                           */
/* ---------------------------------------------------------------- */

/*
 * A named set of key/value pairs, encrypted at rest.  The values are
 * decrypted only when asked for.  The key that encrypts them is kept
 * apart from the database: CAIRN_SECRETS_KEY (base64 of 32 bytes), else
 * the file secrets.key (mode 0600) in the cairn config folder, created
 * by the first secret.
 */
typedef struct {
  char *id;
  char *name;
  cairn_strlist keys;  /* key names, sorted; never secret */
  json_t *values;      /* object of strings, or NULL when not read */
  int64_t created;
  int64_t updated;
} cairn_secret;

void cairn_secret_dispose(cairn_secret *s);
void cairn_secret_list_free(cairn_secret *list, size_t count);

/*
 * The config folder holding the secrets key (copied); NULL goes back to
 * $XDG_CONFIG_HOME/cairn, else ~/.config/cairn.
 */
int cairn_store_set_config_dir(cairn_store *store, const char *dir);
/* Where the key is taken from, for messages: a path or the variable. */
int cairn_store_secrets_key_location(cairn_store *store, char **out);

/*
 * Create a secret.  @p values: an object of text values whose keys are
 * identifiers other than "name".  CAIRN_EEXISTS when the name is taken.
 */
int cairn_store_secret_create(cairn_store *store, cairn_secret *out,
                              const char *name, const json_t *values);
/*
 * By name, id or unique id prefix; with @p with_values the values are
 * decrypted (CAIRN_EAUTH naming the unreadable secrets when the key is
 * missing or wrong).
 */
int cairn_store_secret_get(cairn_store *store, cairn_secret *out,
                           const char *name_or_id, int with_values);
/* Every secret, by name, without values. */
int cairn_store_secret_list(cairn_store *store, cairn_secret **out,
                            size_t *count);
/* Replace the values of secret @p id. */
int cairn_store_secret_update(cairn_store *store, const char *id,
                              const json_t *values);
/* Rename; components that name the secret follow. */
int cairn_store_secret_rename(cairn_store *store, const char *id,
                              const char *new_name);
/* Delete; CAIRN_EINUSE naming the components that use it. */
int cairn_store_secret_delete(cairn_store *store, const char *id);
/* "artifact store 'x'" for each component that names secret @p id. */
int cairn_store_secret_users(cairn_store *store, const char *id,
                             cairn_strlist *out);

/* ---------------------------------------------------------------- */
/* Service connectors                                                */
/* ---------------------------------------------------------------- */

/*
 * A named credential of a connector type ("azure") with an auth method,
 * scoped to a resource type and id when those are set.  config holds
 * the non-secret fields; the secret ones are the values of secret
 * secret_id.  expires_at 0: no expiry.
 */
typedef struct {
  char *id;
  char *name;
  char *type;
  char *auth_method;
  char *resource_type; /* NULL: every resource type of the connector type */
  char *resource_id;   /* canonical ("az://c"), NULL when not scoped */
  json_t *config;
  char *secret_id;     /* NULL when the method has no secret fields */
  int64_t expires_at;
  int64_t expiration_seconds; /* lifetime of credentials handed out */
  char *description;
  int64_t created;
  int64_t updated;
} cairn_connector;

void cairn_connector_dispose(cairn_connector *c);
void cairn_connector_list_free(cairn_connector *list, size_t count);

/* Register (@p in's id and times are ignored); CAIRN_EEXISTS for a name. */
int cairn_store_connector_create(cairn_store *store, cairn_connector *out,
                                 const cairn_connector *in);
/* By name, id or unique id prefix. */
int cairn_store_connector_get(cairn_store *store, cairn_connector *out,
                              const char *name_or_id);
int cairn_store_connector_list(cairn_store *store, cairn_connector **out,
                               size_t *count);
/* Write every field of @p c back (found by its id). */
int cairn_store_connector_update(cairn_store *store,
                                 const cairn_connector *c);
/* "artifact store 'x'" for each component connected to @p id. */
int cairn_store_connector_users(cairn_store *store, const char *id,
                                cairn_strlist *out);
/* Delete it and its secret; CAIRN_EINUSE while a component uses it. */
int cairn_store_connector_delete(cairn_store *store, const char *id);

typedef struct {
  size_t count;       /* secrets re-encrypted */
  char key_id[17];    /* id of the new key */
  char *pending_path; /* with CAIRN_SECRETS_KEY: the file holding the new
                         key, for the user to move into the variable */
} cairn_secrets_rotation;

/*
 * Re-encrypt every secret under a new key, which replaces the key file;
 * with CAIRN_SECRETS_KEY the new key is left in a file (out->pending_path)
 * whose content the user must put in the variable.
 */
int cairn_store_secrets_rotate_key(cairn_store *store,
                                   cairn_secrets_rotation *out);
void cairn_secrets_rotation_dispose(cairn_secrets_rotation *r);

#endif

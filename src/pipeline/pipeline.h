/*
 * Pipelines: parse a pipeline file, order its steps, compute cache keys
 * and run the steps on a live stack, recording runs, step runs, artifact
 * versions and lineage in the metadata store.
 *
 * A pipeline file is YAML:
 *
 *   name: breast_cancer
 *   steps:
 *     load:
 *       run: python3 steps/load.py
 *       code: [steps/load.py]
 *       inputs: {dataset: fetch.dataset}
 *       outputs: [train, test]        (or {model: artifact_name})
 *       env: {K: "v"}
 *       timeout: 300
 *
 * Store layout written by the runner, below the artifact store's root:
 *   <pipeline>/<step>/<output>/<version id>/...       the output
 *   <pipeline>/<step>/<output>/<version id>/cairn-manifest.json
 *   <pipeline>/<step>/logs/<run name>.log
 * The manifest is written last; a version folder without one is an
 * upload that broke off.
 */
#ifndef CAIRN_PIPELINE_PIPELINE_H
#define CAIRN_PIPELINE_PIPELINE_H

#include <cairn/common.h>
#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "store/store.h"

/* The name of the manifest file in every version folder. */
#define CAIRN_MANIFEST_NAME "cairn-manifest.json"

/* One input of a step: another step's output. */
typedef struct {
  char *name;       /* input name, as the step sees it */
  char *step;       /* producing step */
  char *output;     /* output name in the producing step */
  size_t step_index;
} cairn_pipeline_input;

/* One output of a step and the artifact it is recorded as. */
typedef struct {
  char *name;       /* output name */
  char *artifact;   /* artifact name: given, or <pipeline>::<step>::<out> */
} cairn_pipeline_output;

typedef struct {
  char *key;
  char *value;
} cairn_pipeline_kv;

typedef struct {
  char *name;
  char *run;                      /* the command, for sh -c */
  cairn_strlist code;             /* paths relative to the pipeline dir */
  cairn_pipeline_input *inputs;   /* in file order */
  size_t ninputs;
  cairn_pipeline_output *outputs; /* in file order */
  size_t noutputs;
  cairn_pipeline_kv *env;         /* in file order */
  size_t nenv;
  int timeout;                    /* seconds; 0 for none */
  int level;                      /* 0 for steps without inputs */
  size_t *deps;                   /* distinct producing steps */
  size_t ndeps;
} cairn_pipeline_step;

typedef struct {
  char *name;
  char *path;                 /* the pipeline file, absolute */
  char *dir;                  /* its folder, absolute */
  cairn_pipeline_step *steps; /* in file order */
  size_t nsteps;
  size_t *order;              /* step indices by level, then file order */
  int nlevels;
} cairn_pipeline;

/*
 * Load the pipeline file at @p path.  CAIRN_EINVAL with a message that
 * names the file, the step and the key for every mistake in it;
 * CAIRN_ENOTFOUND when the file (or a code file) is missing.  Free the
 * result with cairn_pipeline_free().
 */
int cairn_pipeline_load(cairn_pipeline **out, const char *path);

/*
 * Parse pipeline text; @p source names it in errors and @p dir is the
 * folder that code paths are relative to.
 */
int cairn_pipeline_parse(cairn_pipeline **out, const char *text, size_t len,
                         const char *source, const char *dir);

void cairn_pipeline_free(cairn_pipeline *p);

/*
 * Names of pipelines, steps, outputs and artifacts become folders in the
 * work area and the store: "." and ".." would leave their place, Azure
 * drops a trailing '.' from a blob name, and a leading '-' reads as an
 * option on the command line.
 */
#define CAIRN_PIPELINE_NAME_RULE                                           \
  "up to 128 letters, digits, '_', '.' and '-', not starting with '.' or " \
  "'-' nor ending with '.'"
#define CAIRN_PIPELINE_NAME_MAX 128
/*
 * The longest value of a parameter or env variable a step is given (an
 * environment string is limited to 128 KiB).
 */
#define CAIRN_PIPELINE_VALUE_MAX (64 * 1024)

/* 1 when @p name follows CAIRN_PIPELINE_NAME_RULE. */
int cairn_pipeline_name_valid(const char *name);

/* The index of step @p name, or -1. */
int cairn_pipeline_step_index(const cairn_pipeline *p, const char *name);

/*
 * The environment variable for an input or output: @p prefix followed
 * by @p name upper-cased, other characters than letters and digits
 * turned into '_'.  A new string (free()).
 */
char *cairn_pipeline_env_name(const char *prefix, const char *name);

/* ---------------------------------------------------------------- */
/* Ordering (graph.c)                                                */
/* ---------------------------------------------------------------- */

/*
 * Resolve inputs to steps, set deps, levels and the order.  CAIRN_EINVAL
 * naming the steps of a cycle.  Called by the parser.
 */
int cairn__pipeline_order(cairn_pipeline *p, const char *source);

/* ---------------------------------------------------------------- */
/* Cache keys (cache.c)                                              */
/* ---------------------------------------------------------------- */

/* A borrowed name/value pair for the key's parts. */
typedef struct {
  const char *name;
  const char *value;
} cairn_cache_kv;

/*
 * Everything a step's cache key covers.  Lists are sorted by name
 * inside the key, so their order here does not matter.
 */
typedef struct {
  const char *command;
  const cairn_cache_kv *code;     /* path -> SHA-256 hex of its content */
  size_t ncode;
  const cairn_cache_kv *inputs;   /* input name -> version SHA-256 hex */
  size_t ninputs;
  const cairn_cache_kv *env;      /* the step's env */
  size_t nenv;
  const cairn_cache_kv *params;   /* the run's parameters */
  size_t nparams;
  const char *const *outputs;     /* output names */
  size_t noutputs;
  const char *artifact_store_id;
} cairn_cache_key_parts;

/*
 * The SHA-256 (hex) of the canonical encoding of @p parts:
 *   "cairn-cache-key/1\n", then each field as "<tag> <len>:<bytes>\n":
 *   cmd <command>; for each code file sorted by path: code <path>,
 *   sha <hex>; for each input sorted by name: in <name>, sha <hex>; for
 *   each env entry sorted by name: env <name>, val <value>; likewise
 *   param/val for the parameters; out <name> for each output sorted;
 *   store <artifact store id>.  <len> is the decimal byte count.
 */
int cairn_pipeline_cache_key(char out[65], const cairn_cache_key_parts *parts);

/*
 * The cache key of step @p index of @p p: hashes its code files (from
 * the pipeline's folder), with @p input_sha256 the SHA-256 of each
 * input's version (in the step's input order), @p params [nullable] an
 * object of strings, and the artifact store id.
 */
int cairn_pipeline_step_cache_key(char out[65], const cairn_pipeline *p,
                                  size_t index,
                                  const char *const *input_sha256,
                                  const json_t *params,
                                  const char *artifact_store_id);

/* ---------------------------------------------------------------- */
/* Running (run.c)                                                   */
/* ---------------------------------------------------------------- */

typedef struct cairn_live_stack cairn_live_stack;

typedef enum {
  CAIRN_PIPELINE_STEP_STARTED = 1,
  CAIRN_PIPELINE_STEP_FINISHED, /* completed */
  CAIRN_PIPELINE_STEP_CACHED,
  CAIRN_PIPELINE_STEP_FAILED,
  CAIRN_PIPELINE_STEP_SKIPPED,
  CAIRN_PIPELINE_STEP_CANCELLED
} cairn_pipeline_event_type;

typedef struct {
  cairn_pipeline_event_type type;
  const cairn_run *run;
  const char *step;
  const cairn_step_run *step_run;          /* the record as stored */
  const cairn_artifact_version *outputs;   /* FINISHED and CACHED */
  size_t noutputs;
} cairn_pipeline_event;

typedef void (*cairn_pipeline_event_cb)(const cairn_pipeline_event *ev,
                                        void *payload);

typedef struct {
  int no_cache;                 /* run every step */
  const char *const *params;    /* "k=v" strings */
  size_t nparams;
  int parallelism;              /* > 0 overrides the stack's */
  int no_signal_handlers;       /* leave SIGINT/SIGTERM alone */
  cairn_pipeline_event_cb on_event;
  void *payload;
} cairn_pipeline_run_options;

#define CAIRN_PIPELINE_RUN_OPTIONS_INIT {0, NULL, 0, 0, 0, NULL, NULL}

/*
 * Parameters "k=v" into an object of strings: names of letters, digits,
 * '_', '-' and '.', each given once and reaching steps under a distinct
 * variable, values that fit a step's environment.  CAIRN_EINVAL saying
 * which and why.
 */
int cairn_pipeline_params_parse(json_t **out, const char *const *params,
                                size_t n);

/*
 * Run pipeline @p p on @p stack, recording everything in @p store.
 * Fills @p out with the run record (also when the run failed, as soon
 * as it was created; empty it with cairn_run_dispose()).
 * Returns 0 when every step completed or was cached; CAIRN_ERROR with
 * "step 'x' failed: ..." when a step failed; CAIRN_ECANCELLED when
 * stopped by SIGINT/SIGTERM or cairn_pipeline_cancel(); CAIRN_EINVAL for
 * bad parameters; other codes when recording failed.
 */
int cairn_pipeline_run(cairn_run *out, cairn_store *store,
                       cairn_live_stack *stack, const cairn_pipeline *p,
                       const cairn_pipeline_run_options *opts);

/*
 * Ask a running cairn_pipeline_run() to stop: no more steps start and
 * running ones get SIGTERM.  Async-signal-safe.
 */
void cairn_pipeline_cancel(void);

/* ---------------------------------------------------------------- */
/* Versions in the artifact store (artifacts.c)                      */
/* ---------------------------------------------------------------- */

struct cairn_fs;

/*
 * Upload local file or folder @p local as version folder @p vdir (a
 * full path in @p fs that must not exist), then write the manifest.
 * Fills v->kind, size, sha256, media_type and uri (v->artifact must be
 * set: it goes into the manifest).  On failure the caller removes
 * @p vdir.
 */
int cairn__pipeline_upload_output(cairn_artifact_version *v,
                                  struct cairn_fs *fs, const char *vdir,
                                  const char *local);

/* Flags of cairn__pipeline_download(). */
#define CAIRN_DOWNLOAD_TO_FILE 1u  /* a file goes to dest itself */
#define CAIRN_DOWNLOAD_OVERWRITE 2u /* replace a file that is there */

/*
 * Download version @p v (its folder in @p fs) and check it against the
 * recorded SHA-256 (CAIRN_EINTEGRITY).  A folder goes to folder
 * @p dest (new or empty); a file to @p dest itself with
 * CAIRN_DOWNLOAD_TO_FILE, else to dest/<its file name>, and an existing
 * file is replaced only with CAIRN_DOWNLOAD_OVERWRITE.  What was at the
 * path stays as it was when the download fails.  *out is the local path
 * written (free()).  @p progress [nullable] gets the totals.
 */
int cairn__pipeline_download(char **out, struct cairn_fs *fs,
                             const cairn_artifact_version *v,
                             const char *dest, unsigned flags,
                             cairn_progress *progress);

/* Read and check the manifest of version folder @p vdir. */
int cairn__pipeline_read_manifest(json_t **out, struct cairn_fs *fs,
                                  const char *vdir);

/* SHA-256 hex of a manifest's files list (the folder checksum). */
int cairn__pipeline_files_sha(char out[65], const json_t *files);

/* rm -rf of a local path, best effort. */
void cairn__pipeline_rm_local(const char *path);

/*
 * Import local file or folder @p local as a new version of artifact
 * @p name in artifact store @p ls: uploaded below
 * <root>/imports/<name>/<version id>/ with its manifest, then recorded.
 * Nothing is recorded, and nothing is left in the store, on failure.
 * @p v is filled with the version as recorded.
 */
struct cairn_live_store;
int cairn_pipeline_import(cairn_artifact_version *v, cairn_store *store,
                          struct cairn_live_store *ls, const char *local,
                          const char *name);

/*
 * Notes of uploads under way (journal.c), so that an upload that broke
 * off resumes into the same version folder.  The path of the note for
 * @p key (what identifies the upload) is a new string, or NULL.
 */
char *cairn__journal_path(cairn_store *store, const char *key);
/*
 * The version id noted; CAIRN_ENOTFOUND when there is no note, and
 * CAIRN_EINUSE when the process that wrote it is still running (the same
 * upload at once in two processes: the caller takes a version of its own
 * and leaves the note alone).
 */
int cairn__journal_read(const char *path, char vid[37]);
int cairn__journal_write(const char *path, const char *vid);
void cairn__journal_remove(const char *path);

/*
 * Guess a media type from a file name's extension
 * ("application/octet-stream" when unknown).  Static string.
 */
const char *cairn_pipeline_media_type(const char *filename);

#endif

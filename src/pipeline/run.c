/*
 * The runner: steps as child processes in dependency order, independent
 * steps side by side, with inputs downloaded into a work folder, outputs
 * uploaded with their manifests and everything recorded.
 *
 * One thread.  The loop starts every ready step up to the parallelism,
 * reaps finished children with waitpid(WNOHANG), enforces timeouts and
 * reacts to cancellation, sleeping in short poll() calls in between.
 * Uploads and downloads happen in this thread while other steps keep
 * running in their own processes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cairn/fs.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"
#include "pipeline/pipeline.h"
#include "stack/stack.h"

extern char **environ;

#define KILL_GRACE_MS 5000
#define TICK_MS 20

void cairn_pipeline_cancel(void)
{
  cairn_cancel();
}

static void on_signal(int sig)
{
  (void)sig;
  cairn_cancel();
}

enum step_state { PENDING = 0, RUNNING, DONE };

struct step {
  enum step_state state;
  cairn_step_run rec;
  int has_rec;
  cairn_artifact_version *outs; /* one per declared output when ok */
  size_t nouts;
  pid_t pid;
  int64_t deadline;             /* monotonic ms; 0 for none */
  int64_t kill_at;              /* SIGKILL after this, once terminated */
  int timed_out;
  int cancelled;
  char *workdir;
  char *log;
  char *metrics;
};

struct runner {
  cairn_store *store;
  const cairn_pipeline *p;
  const cairn_pipeline_run_options *opts;
  cairn_fs *fs;
  cairn_live_store *ls; /* the store fs belongs to */
  const char *store_id;
  cairn_run *run;
  json_t *params;
  char *tmpdir;
  struct step *steps;
  int parallelism;
  int running;
  int cancelling;
  char *failure;               /* first "step 'x' failed: ..." */
};

static int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit(struct runner *r, size_t i, cairn_pipeline_event_type type)
{
  cairn_pipeline_event ev;
  struct step *s = &r->steps[i];

  if (!r->opts->on_event)
    return;
  memset(&ev, 0, sizeof(ev));
  ev.type = type;
  ev.run = r->run;
  ev.step = r->p->steps[i].name;
  ev.step_run = s->has_rec ? &s->rec : NULL;
  if (type == CAIRN_PIPELINE_STEP_FINISHED ||
      type == CAIRN_PIPELINE_STEP_CACHED) {
    ev.outputs = s->outs;
    ev.noutputs = s->nouts;
  }
  r->opts->on_event(&ev, r->opts->payload);
}

static void free_outs(struct step *s)
{
  size_t i;

  for (i = 0; i < s->nouts; i++)
    cairn_artifact_version_dispose(&s->outs[i]);
  free(s->outs);
  s->outs = NULL;
  s->nouts = 0;
}

/*
 * Finish step @p i with @p status and one-line @p error [nullable]:
 * write the record, tell the caller, note the run's first failure.
 */
static void settle(struct runner *r, size_t i, cairn_status status,
                   const char *error)
{
  struct step *s = &r->steps[i];
  const char *name = r->p->steps[i].name;
  cairn_pipeline_event_type type;

  s->state = DONE;
  if (status != CAIRN_STATUS_COMPLETED && status != CAIRN_STATUS_CACHED)
    free_outs(s);
  if (s->has_rec) {
    s->rec.status = status;
    if (!s->rec.ended_ms)
      s->rec.ended_ms = wall_ms();
    free(s->rec.error);
    s->rec.error = error ? strdup(error) : NULL;
    if (cairn_store_step_run_update(r->store, &s->rec) < 0)
      log_error("pipeline", "recording step '%s': %s", name,
                cairn_error_last()->message);
  }
  if (status == CAIRN_STATUS_FAILED && !r->failure)
    r->failure = cairn__sprintf("step '%s' failed: %s", name,
                                error ? error : "unknown error");
  switch (status) {
  case CAIRN_STATUS_COMPLETED: type = CAIRN_PIPELINE_STEP_FINISHED; break;
  case CAIRN_STATUS_CACHED: type = CAIRN_PIPELINE_STEP_CACHED; break;
  case CAIRN_STATUS_SKIPPED: type = CAIRN_PIPELINE_STEP_SKIPPED; break;
  case CAIRN_STATUS_CANCELLED: type = CAIRN_PIPELINE_STEP_CANCELLED; break;
  default: type = CAIRN_PIPELINE_STEP_FAILED; break;
  }
  emit(r, i, type);
  cairn__pipeline_rm_local(s->workdir);
}

/* A step that never ran: record it (skipped or cancelled) and move on. */
static void settle_unrun(struct runner *r, size_t i, cairn_status status,
                         const char *why)
{
  struct step *s = &r->steps[i];

  if (!s->has_rec &&
      cairn_store_step_run_create(r->store, &s->rec, r->run->id,
                                  r->p->steps[i].name, "") == 0)
    s->has_rec = 1;
  if (s->has_rec)
    s->rec.ended_ms = s->rec.started_ms;
  settle(r, i, status, why);
}

/* ---------------------------------------------------------------- */
/* Cache                                                             */
/* ---------------------------------------------------------------- */

static int output_edge(const cairn_lineage_edge *edges, size_t n,
                       const char *name)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp(edges[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* Reuse a completed step run with the same key; 1 on a hit. */
static int try_cache(struct runner *r, size_t i)
{
  const cairn_pipeline_step *ps = &r->p->steps[i];
  struct step *s = &r->steps[i];
  cairn_step_run prev = {0};
  cairn_lineage_edge *edges = NULL;
  cairn_fs *fs;
  size_t n = 0, k;
  int hit = 0, e, exists, owned;

  if (cairn_store_step_run_find_cached(r->store, &prev, s->rec.cache_key,
                                       r->store_id) < 0)
    return 0;
  if (cairn_store_step_outputs(r->store, prev.id, &edges, &n) < 0)
    goto done;
  s->outs = cairn__calloc(ps->noutputs + 1, sizeof(*s->outs));
  if (!s->outs)
    goto done;
  for (k = 0; k < ps->noutputs; k++) {
    char *manifest;
    e = output_edge(edges, n, ps->outputs[k].name);
    if (e < 0 || cairn_store_artifact_version_get_by_id(
                     r->store, &s->outs[k], edges[e].version_id) < 0)
      goto done;
    s->nouts = k + 1;
    /* The bytes must still be there. */
    manifest = cairn_path_join(s->outs[k].uri, CAIRN_MANIFEST_NAME);
    exists = 0;
    if (manifest &&
        cairn_live_store_fs_at(r->ls, s->outs[k].uri, &fs, &owned) == 0) {
      if (cairn_fs_exists(fs, manifest, &exists) < 0)
        exists = 0;
      if (owned)
        cairn_fs_free(fs);
    }
    free(manifest);
    if (!exists) {
      log_info("pipeline", "cached output of step '%s' is gone from %s",
               ps->name, s->outs[k].uri);
      goto done;
    }
  }
  for (k = 0; k < ps->noutputs; k++)
    if (cairn_store_lineage_add_output(r->store, s->rec.id,
                                       ps->outputs[k].name,
                                       s->outs[k].id) < 0)
      goto done;
  s->rec.cached_from = prev.id;
  prev.id = NULL;
  json_decref(s->rec.metrics);
  s->rec.metrics = prev.metrics ? json_deep_copy(prev.metrics)
                                : json_object();
  free(s->rec.log_uri);
  s->rec.log_uri = prev.log_uri;
  prev.log_uri = NULL;
  s->rec.exit_code = 0;
  hit = 1;
done:
  if (!hit)
    free_outs(s);
  cairn_lineage_list_free(edges, n);
  cairn_step_run_dispose(&prev);
  return hit;
}

/* ---------------------------------------------------------------- */
/* Starting a step                                                   */
/* ---------------------------------------------------------------- */

static int env_add(cairn_strlist *env, const char *name, const char *value)
{
  char *kv = cairn__sprintf("%s=%s", name, value);

  return kv ? cairn_strlist_take(env, kv) : CAIRN_ENOMEM;
}

static int env_add_named(cairn_strlist *env, const char *prefix,
                         const char *name, const char *value)
{
  char *var = cairn_pipeline_env_name(prefix, name);
  int error;

  if (!var)
    return CAIRN_ENOMEM;
  error = env_add(env, var, value);
  free(var);
  return error;
}

/*
 * Our variables, then the inherited ones that ours do not replace.  The
 * secrets key never reaches a step: a step that prints its environment
 * would put it in a log.
 */
static char **env_build(cairn_strlist *env)
{
  char **envp, **e;
  size_t n = env->count, i, len;

  for (e = environ; *e; e++)
    n++;
  if (!(envp = cairn__calloc(n + 1, sizeof(*envp))))
    return NULL;
  for (i = 0; i < env->count; i++)
    envp[i] = env->items[i];
  n = env->count;
  for (e = environ; *e; e++) {
    int replaced = 0;
    len = strcspn(*e, "=");
    for (i = 0; i < env->count && !replaced; i++)
      replaced = strncmp(env->items[i], *e, len + 1) == 0;
    if (!replaced && strncmp(*e, "CAIRN_SECRETS_KEY=", 18) != 0)
      envp[n++] = *e;
  }
  return envp;
}

/* Download inputs and set the variables of step @p i. */
static int prepare(struct runner *r, size_t i, cairn_strlist *env)
{
  const cairn_pipeline_step *ps = &r->p->steps[i];
  struct step *s = &r->steps[i];
  char *dir = NULL, *local = NULL, *outdir = NULL, *path = NULL;
  const char *key;
  json_t *value;
  cairn_fs *fs;
  size_t k;
  int owned;
  int error = 0;

  s->workdir = cairn_path_join(r->tmpdir, ps->name);
  outdir = s->workdir ? cairn_path_join(s->workdir, "outputs") : NULL;
  if (!outdir)
    return CAIRN_ENOMEM;
  if (cairn_mkdirs(outdir, 0700) < 0) {
    error = cairn__error_errno("creating the work folder", outdir);
    goto done;
  }
  s->log = cairn_path_join(s->workdir, "step.log");
  s->metrics = cairn_path_join(s->workdir, "metrics.json");
  if (!s->log || !s->metrics) {
    error = CAIRN_ENOMEM;
    goto done;
  }

  for (k = 0; k < ps->ninputs; k++) {
    const cairn_pipeline_input *in = &ps->inputs[k];
    const struct step *dep = &r->steps[in->step_index];
    const cairn_pipeline_step *dps = &r->p->steps[in->step_index];
    size_t o;
    for (o = 0; o < dps->noutputs; o++)
      if (strcmp(dps->outputs[o].name, in->output) == 0)
        break;
    free(dir);
    dir = cairn__sprintf("%s/inputs/%s", s->workdir, in->name);
    if (!dir) {
      error = CAIRN_ENOMEM;
      goto done;
    }
    if ((error = cairn_live_store_fs_at(r->ls, dep->outs[o].uri, &fs,
                                        &owned)) == 0) {
      error = cairn__pipeline_download(&local, fs, &dep->outs[o], dir, 0,
                                       NULL);
      if (owned)
        cairn_fs_free(fs);
    }
    if (error < 0) {
      cairn__error_prefix("downloading input '%s'", in->name);
      goto done;
    }
    error = env_add_named(env, "CAIRN_INPUT_", in->name, local);
    free(local);
    local = NULL;
    if (error < 0)
      goto done;
  }

  for (k = 0; k < ps->noutputs; k++) {
    free(path);
    if (!(path = cairn_path_join(outdir, ps->outputs[k].name)) ||
        (error = env_add_named(env, "CAIRN_OUTPUT_", ps->outputs[k].name,
                               path)) < 0)
      goto nomem;
  }
  json_object_foreach(r->params, key, value)
    if ((error = env_add_named(env, "CAIRN_PARAM_", key,
                               json_string_value(value))) < 0)
      goto nomem;
  for (k = 0; k < ps->nenv; k++)
    if ((error = env_add(env, ps->env[k].key, ps->env[k].value)) < 0)
      goto nomem;
  if ((error = env_add(env, "CAIRN_METRICS", s->metrics)) < 0 ||
      (error = env_add(env, "CAIRN_RUN_NAME", r->run->name)) < 0 ||
      (error = env_add(env, "CAIRN_STEP_NAME", ps->name)) < 0)
    goto nomem;
  goto done;
nomem:
  if (!error)
    error = cairn__error_oom();
done:
  free(dir);
  free(local);
  free(outdir);
  free(path);
  return error;
}

static void child_exec(const char *dir, const char *cmd, int logfd,
                       char **envp)
{
  char *argv[4];
  sigset_t none;
  int devnull;

  setpgid(0, 0);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0)
    dup2(devnull, 0);
  dup2(logfd, 1);
  dup2(logfd, 2);
  if (chdir(dir) != 0) {
    dprintf(2, "cairn: cannot enter %s: %s\n", dir, strerror(errno));
    _exit(126);
  }
  argv[0] = "sh";
  argv[1] = "-c";
  argv[2] = (char *)cmd;
  argv[3] = NULL;
  execve("/bin/sh", argv, envp);
  dprintf(2, "cairn: cannot run /bin/sh: %s\n", strerror(errno));
  _exit(127);
}

/* Launch step @p i after its cache miss. */
static int launch(struct runner *r, size_t i)
{
  const cairn_pipeline_step *ps = &r->p->steps[i];
  struct step *s = &r->steps[i];
  cairn_strlist env = CAIRN_STRLIST_INIT;
  char **envp = NULL;
  int logfd = -1, error;
  pid_t pid;

  if ((error = prepare(r, i, &env)) < 0)
    goto done;
  if (!(envp = env_build(&env))) {
    error = CAIRN_ENOMEM;
    goto done;
  }
  logfd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (logfd < 0) {
    error = cairn__error_errno("creating the step log", s->log);
    goto done;
  }
  pid = fork();
  if (pid < 0) {
    error = cairn__error_errno("starting step", ps->name);
    goto done;
  }
  if (pid == 0)
    child_exec(r->p->dir, ps->run, logfd, envp);
  setpgid(pid, pid);
  s->pid = pid;
  s->state = RUNNING;
  s->deadline = ps->timeout ? cairn_time_monotonic_ms() +
                              (int64_t)ps->timeout * 1000 : 0;
  r->running++;
  log_debug("pipeline", "step '%s' started as process %d", ps->name,
            (int)pid);
done:
  if (logfd >= 0)
    close(logfd);
  free(envp);
  cairn_strlist_dispose(&env);
  return error;
}

static int input_shas(struct runner *r, size_t i, const char ***out)
{
  const cairn_pipeline_step *ps = &r->p->steps[i];
  const char **shas = cairn__calloc(ps->ninputs + 1, sizeof(*shas));
  size_t k, o;

  if (!shas)
    return CAIRN_ENOMEM;
  for (k = 0; k < ps->ninputs; k++) {
    const cairn_pipeline_input *in = &ps->inputs[k];
    const cairn_pipeline_step *dps = &r->p->steps[in->step_index];
    for (o = 0; o < dps->noutputs; o++)
      if (strcmp(dps->outputs[o].name, in->output) == 0)
        shas[k] = r->steps[in->step_index].outs[o].sha256;
  }
  *out = shas;
  return 0;
}

/* Start step @p i: key, record, cache or launch. */
static void start_step(struct runner *r, size_t i)
{
  const cairn_pipeline_step *ps = &r->p->steps[i];
  struct step *s = &r->steps[i];
  const char **shas = NULL;
  char key[65], why[512];
  size_t k;
  int error;

  key[0] = '\0';
  if ((error = input_shas(r, i, &shas)) == 0)
    error = cairn_pipeline_step_cache_key(key, r->p, i, shas, r->params,
                                          r->store_id);
  free(shas);
  if (error < 0)
    snprintf(why, sizeof(why), "%s", cairn_error_last()->message);
  if (cairn_store_step_run_create(r->store, &s->rec, r->run->id, ps->name,
                                  key) == 0) {
    s->has_rec = 1;
  } else if (error == 0) {
    error = cairn__error_code();
    snprintf(why, sizeof(why), "%s", cairn_error_last()->message);
  }
  if (error < 0) {
    settle(r, i, CAIRN_STATUS_FAILED, why);
    return;
  }
  s->rec.started_ms = wall_ms();
  for (k = 0; k < ps->ninputs; k++) {
    const cairn_pipeline_input *in = &ps->inputs[k];
    const cairn_pipeline_step *dps = &r->p->steps[in->step_index];
    size_t o;
    for (o = 0; o < dps->noutputs; o++)
      if (strcmp(dps->outputs[o].name, in->output) == 0 &&
          cairn_store_lineage_add_input(
              r->store, s->rec.id, in->name,
              r->steps[in->step_index].outs[o].id) < 0)
        log_error("pipeline", "recording lineage of step '%s': %s",
                  ps->name, cairn_error_last()->message);
  }

  if (!r->opts->no_cache && try_cache(r, i)) {
    s->rec.ended_ms = wall_ms();
    settle(r, i, CAIRN_STATUS_CACHED, NULL);
    return;
  }
  emit(r, i, CAIRN_PIPELINE_STEP_STARTED);
  if (launch(r, i) < 0) {
    snprintf(why, sizeof(why), "%s", cairn_error_last()->message);
    settle(r, i, CAIRN_STATUS_FAILED, why);
  }
}

/* ---------------------------------------------------------------- */
/* Finishing a step                                                  */
/* ---------------------------------------------------------------- */

static void upload_log(struct runner *r, size_t i)
{
  const cairn_pipeline_step *ps = &r->p->steps[i];
  struct step *s = &r->steps[i];
  char *rel, *dir = NULL, *dst = NULL;

  if (access(s->log, R_OK) != 0)
    return;
  rel = cairn__sprintf("%s/%s/logs", r->p->name, ps->name);
  dir = rel ? cairn_fs_path(r->fs, rel) : NULL;
  dst = dir ? cairn__sprintf("%s/%s.log", dir, r->run->name) : NULL;
  if (dst && cairn_fs_makedirs(r->fs, dir) == 0 &&
      cairn_fs_put_file(r->fs, s->log, dst, NULL) == 0) {
    free(s->rec.log_uri);
    s->rec.log_uri = dst;
    dst = NULL;
  } else {
    log_warn("pipeline", "keeping the log of step '%s': %s", ps->name,
             cairn_error_last()->message);
  }
  free(rel);
  free(dir);
  free(dst);
}

static int read_metrics(struct runner *r, size_t i)
{
  struct step *s = &r->steps[i];
  cairn_buf text = CAIRN_BUF_INIT;
  json_error_t jerr;
  json_t *m;
  int error;

  if (access(s->metrics, F_OK) != 0)
    return 0;
  if ((error = cairn_file_read(&text, s->metrics, 16u << 20)) < 0)
    return error;
  m = json_loadb(text.ptr ? text.ptr : "", text.size, 0, &jerr);
  cairn_buf_dispose(&text);
  if (!json_is_object(m)) {
    json_decref(m);
    return cairn__error(CAIRN_EINVAL, "the metrics file ($CAIRN_METRICS) "
                        "must hold one JSON object%s%s",
                        m ? "" : ": ", m ? "" : jerr.text);
  }
  json_decref(s->rec.metrics);
  s->rec.metrics = m;
  return 0;
}

/*
 * The version id of output @p k of step @p i: the one noted by an upload
 * of the same file output of a step run with the same cache key that
 * broke off, so that the blocks it sent are not sent again; else a new
 * one, noted in *note until the output is recorded.
 */
static int output_vid(struct runner *r, size_t i, size_t k, char **note,
                      char vid[37])
{
  const cairn_pipeline_step *ps = &r->p->steps[i];
  struct step *s = &r->steps[i];
  struct stat st;
  char *local, *key;
  int error;

  *note = NULL;
  local = cairn__sprintf("%s/outputs/%s", s->workdir, ps->outputs[k].name);
  if (!local)
    return CAIRN_ENOMEM;
  error = stat(local, &st);
  free(local);
  if (error != 0 || !S_ISREG(st.st_mode) || !s->rec.cache_key)
    return cairn_uuid4(vid);
  key = cairn__sprintf("step\n%s\n%s\n%s\n%llu", r->store_id,
                       s->rec.cache_key, ps->outputs[k].name,
                       (unsigned long long)st.st_size);
  *note = key ? cairn__journal_path(r->store, key) : NULL;
  free(key);
  if (!*note)
    return CAIRN_ENOMEM;
  error = cairn__journal_read(*note, vid);
  if (error == 0) {
    log_info("pipeline", "step '%s': output '%s' goes on where an upload "
             "that broke off stopped", ps->name, ps->outputs[k].name);
    return 0;
  }
  if (error == CAIRN_EINUSE) {
    free(*note);
    *note = NULL;
  }
  if ((error = cairn_uuid4(vid)) < 0)
    return error;
  return *note ? cairn__journal_write(*note, vid) : 0;
}

/* Upload every output, then record them all; nothing on failure. */
static int collect_outputs(struct runner *r, size_t i)
{
  const cairn_pipeline_step *ps = &r->p->steps[i];
  struct step *s = &r->steps[i];
  char **vdirs = NULL, **notes = NULL, *local = NULL, *rel = NULL;
  char vid[37];
  struct stat st;
  size_t k, made = 0;
  int error = 0, began = 0;

  for (k = 0; k < ps->noutputs; k++) {
    char *var;
    local = cairn__sprintf("%s/outputs/%s", s->workdir, ps->outputs[k].name);
    if (!local)
      return CAIRN_ENOMEM;
    error = stat(local, &st);
    free(local);
    local = NULL;
    if (error == 0)
      continue;
    var = cairn_pipeline_env_name("CAIRN_OUTPUT_", ps->outputs[k].name);
    error = cairn__error(CAIRN_ENOTFOUND, "it did not create output '%s' "
                         "(a file or folder at $%s)", ps->outputs[k].name,
                         var ? var : "CAIRN_OUTPUT_...");
    free(var);
    return error;
  }
  if ((error = read_metrics(r, i)) < 0)
    return error;

  vdirs = cairn__calloc(ps->noutputs + 1, sizeof(*vdirs));
  notes = cairn__calloc(ps->noutputs + 1, sizeof(*notes));
  s->outs = cairn__calloc(ps->noutputs + 1, sizeof(*s->outs));
  if (!vdirs || !notes || !s->outs) {
    error = CAIRN_ENOMEM;
    goto done;
  }
  for (k = 0; k < ps->noutputs; k++) {
    cairn_artifact_version *v = &s->outs[k];
    s->nouts = k + 1;
    if ((error = output_vid(r, i, k, &notes[k], vid)) < 0)
      goto done;
    rel = cairn__sprintf("%s/%s/%s/%s", r->p->name, ps->name,
                         ps->outputs[k].name, vid);
    local = cairn__sprintf("%s/outputs/%s", s->workdir, ps->outputs[k].name);
    v->artifact = cairn__strdup(ps->outputs[k].artifact);
    v->output = cairn__strdup(ps->outputs[k].name);
    v->artifact_store_id = cairn__strdup(r->store_id);
    v->producer_step_run_id = cairn__strdup(s->rec.id);
    v->metadata = json_object();
    if (!rel || !local || !v->artifact || !v->output ||
        !v->artifact_store_id || !v->producer_step_run_id || !v->metadata ||
        !(vdirs[k] = cairn_fs_path(r->fs, rel))) {
      error = cairn__error_oom();
      goto done;
    }
    made = k + 1;
    if ((error = cairn__pipeline_upload_output(v, r->fs, vdirs[k],
                                               local)) < 0) {
      cairn__error_prefix("uploading output '%s'", ps->outputs[k].name);
      goto done;
    }
    free(rel);
    free(local);
    rel = local = NULL;
  }

  if ((error = cairn_store_begin(r->store)) < 0)
    goto done;
  began = 1;
  for (k = 0; k < ps->noutputs; k++)
    if ((error = cairn_store_artifact_version_create(r->store,
                                                     &s->outs[k])) < 0 ||
        (error = cairn_store_lineage_add_output(r->store, s->rec.id,
                                                ps->outputs[k].name,
                                                s->outs[k].id)) < 0)
      goto done;
  error = cairn_store_commit(r->store);
  began = 0;
done:
  if (began)
    cairn_store_rollback(r->store);
  if (error < 0) {
    /* Remove what was uploaded, keeping the message of the failure. */
    int held = cairn__cancel_hold();
    char msg[512];

    snprintf(msg, sizeof(msg), "%s", cairn_error_last()->message);
    for (k = 0; k < made; k++) {
      int exists = 0;
      if (cairn_fs_exists(r->fs, vdirs[k], &exists) == 0 && exists)
        cairn_fs_rmtree(r->fs, vdirs[k]);
    }
    cairn__cancel_restore(held);
    error = cairn__error(error, "%s", msg);
  }
  for (k = 0; vdirs && k < ps->noutputs; k++)
    free(vdirs[k]);
  /* recorded, or failed and cleaned up: nothing to go on with */
  for (k = 0; notes && k < ps->noutputs; k++) {
    cairn__journal_remove(notes[k]);
    free(notes[k]);
  }
  free(notes);
  free(vdirs);
  free(rel);
  free(local);
  return error;
}

static void finish_step(struct runner *r, size_t i, int wstatus)
{
  const cairn_pipeline_step *ps = &r->p->steps[i];
  struct step *s = &r->steps[i];
  char why[128], msg[512];
  int error;

  r->running--;
  s->pid = 0;
  s->rec.ended_ms = wall_ms();
  s->rec.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
                                        : 128 + WTERMSIG(wstatus);
  upload_log(r, i);
  if (s->cancelled) {
    settle(r, i, CAIRN_STATUS_CANCELLED, "cancelled");
    return;
  }
  if (s->timed_out) {
    snprintf(why, sizeof(why), "timed out after %d s", ps->timeout);
    settle(r, i, CAIRN_STATUS_FAILED, why);
    return;
  }
  if (WIFSIGNALED(wstatus)) {
    snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(wstatus));
    settle(r, i, CAIRN_STATUS_FAILED, why);
    return;
  }
  if (WEXITSTATUS(wstatus) != 0) {
    snprintf(why, sizeof(why), "exited with status %d",
             WEXITSTATUS(wstatus));
    settle(r, i, CAIRN_STATUS_FAILED, why);
    return;
  }
  if ((error = collect_outputs(r, i)) < 0) {
    snprintf(msg, sizeof(msg), "%s", cairn_error_last()->message);
    settle(r, i, error == CAIRN_ECANCELLED ? CAIRN_STATUS_CANCELLED
                                           : CAIRN_STATUS_FAILED, msg);
    return;
  }
  settle(r, i, CAIRN_STATUS_COMPLETED, NULL);
}

/* ---------------------------------------------------------------- */
/* The loop                                                          */
/* ---------------------------------------------------------------- */

/* Start what can start; 1 when something changed. */
static int launch_ready(struct runner *r)
{
  const cairn_pipeline *p = r->p;
  size_t n, i, d;
  int changed = 0;
  char why[160];

  for (n = 0; n < p->nsteps; n++) {
    const cairn_pipeline_step *ps;
    int blocked = 0, ready = 1;
    i = p->order[n];
    ps = &p->steps[i];
    if (r->steps[i].state != PENDING)
      continue;
    for (d = 0; d < ps->ndeps; d++) {
      const struct step *dep = &r->steps[ps->deps[d]];
      if (dep->state != DONE)
        ready = 0;
      else if (dep->rec.status != CAIRN_STATUS_COMPLETED &&
               dep->rec.status != CAIRN_STATUS_CACHED && !blocked) {
        blocked = 1;
        snprintf(why, sizeof(why), "step '%s' did not complete",
                 p->steps[ps->deps[d]].name);
      }
    }
    if (blocked) {
      settle_unrun(r, i, CAIRN_STATUS_SKIPPED, why);
      changed = 1;
    } else if (ready && r->running < r->parallelism) {
      start_step(r, i);
      changed = 1;
    }
  }
  return changed;
}

static void signal_group(struct step *s, int sig)
{
  if (s->pid > 0)
    killpg(s->pid, sig);
}

static void check_clock(struct runner *r)
{
  int64_t now = cairn_time_monotonic_ms();
  size_t i;

  for (i = 0; i < r->p->nsteps; i++) {
    struct step *s = &r->steps[i];
    if (s->state != RUNNING)
      continue;
    if (s->kill_at && now >= s->kill_at) {
      signal_group(s, SIGKILL);
      s->kill_at = 0;
    }
    if (s->deadline && now >= s->deadline && !s->timed_out) {
      log_info("pipeline", "step '%s' timed out", r->p->steps[i].name);
      s->timed_out = 1;
      signal_group(s, SIGTERM);
      s->kill_at = now + KILL_GRACE_MS;
    }
  }
}

static void begin_cancel(struct runner *r)
{
  int64_t now = cairn_time_monotonic_ms();
  size_t i;

  r->cancelling = 1;
  for (i = 0; i < r->p->nsteps; i++) {
    struct step *s = &r->steps[i];
    if (s->state == RUNNING) {
      s->cancelled = 1;
      signal_group(s, SIGTERM);
      s->kill_at = now + KILL_GRACE_MS;
    }
  }
}

static void reap(struct runner *r)
{
  size_t i;
  int wstatus;
  pid_t got;

  for (i = 0; i < r->p->nsteps; i++) {
    struct step *s = &r->steps[i];
    if (s->state != RUNNING)
      continue;
    got = waitpid(s->pid, &wstatus, WNOHANG);
    if (got == s->pid) {
      /* Leftover children of the step go with it. */
      killpg(s->pid, SIGKILL);
      finish_step(r, i, wstatus);
    } else if (got < 0 && errno == ECHILD) {
      finish_step(r, i, 127 << 8);
    }
  }
}

static void loop(struct runner *r)
{
  size_t i;

  for (;;) {
    if (cairn_cancelled() && !r->cancelling)
      begin_cancel(r);
    if (!r->cancelling)
      while (launch_ready(r) && !cairn_cancelled())
        ;
    if (r->running == 0)
      break;
    poll(NULL, 0, TICK_MS);
    reap(r);
    check_clock(r);
  }
  for (i = 0; i < r->p->nsteps; i++)
    if (r->steps[i].state == PENDING)
      settle_unrun(r, i, r->cancelling ? CAIRN_STATUS_CANCELLED
                                       : CAIRN_STATUS_SKIPPED,
                   r->cancelling ? "cancelled" : "not started");
}

/* ---------------------------------------------------------------- */
/* Entry                                                             */
/* ---------------------------------------------------------------- */

/* One "k=v" into @p params, checked against those already there. */
static int add_param(json_t *params, const char *kv)
{
  const char *eq = strchr(kv, '='), *c, *key;
  char *name, *var, *other_var;
  json_t *v;
  int error = 0;

  if (!eq || eq == kv)
    return cairn__error(CAIRN_EINVAL, "bad parameter '%s': write "
                        "--param key=value", kv);
  for (c = kv; c < eq; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
      return cairn__error(CAIRN_EINVAL, "bad parameter name in '%.*s': "
                          "use letters, digits, '_', '-', '.'",
                          (int)(eq - kv), kv);
  if (strlen(eq + 1) > CAIRN_PIPELINE_VALUE_MAX)
    return cairn__error(CAIRN_EINVAL, "the value of parameter '%.*s' has "
                        "%zu bytes, more than the %d a step's environment "
                        "can take: pass a file's path instead",
                        (int)(eq - kv), kv, strlen(eq + 1),
                        CAIRN_PIPELINE_VALUE_MAX);
  if (!cairn_utf8_valid(eq + 1))
    return cairn__error(CAIRN_EINVAL, "the value of parameter '%.*s' is "
                        "not UTF-8 text", (int)(eq - kv), kv);
  if (!(name = cairn__strndup(kv, (size_t)(eq - kv))) ||
      !(var = cairn_pipeline_env_name("CAIRN_PARAM_", name))) {
    free(name);
    return CAIRN_ENOMEM;
  }
  json_object_foreach(params, key, v) {
    if (strcmp(key, name) == 0) {
      error = cairn__error(CAIRN_EINVAL, "parameter '%s' is given twice: "
                           "give it once", name);
      break;
    }
    if (!(other_var = cairn_pipeline_env_name("CAIRN_PARAM_", key))) {
      error = CAIRN_ENOMEM;
      break;
    }
    if (strcmp(var, other_var) == 0)
      error = cairn__error(CAIRN_EINVAL, "parameters '%s' and '%s' would "
                           "both reach steps as $%s: rename one", key, name,
                           var);
    free(other_var);
    if (error)
      break;
  }
  if (!error && json_object_set_new(params, name, json_string(eq + 1)) < 0)
    error = cairn__error_oom();
  free(name);
  free(var);
  return error;
}

int cairn_pipeline_params_parse(json_t **out, const char *const *params,
                                size_t n)
{
  json_t *obj = json_object();
  size_t i;
  int error = 0;

  *out = NULL;
  if (!obj)
    return cairn__error_oom();
  for (i = 0; i < n && !error; i++)
    error = add_param(obj, params[i]);
  if (error < 0) {
    json_decref(obj);
    return error;
  }
  *out = obj;
  return 0;
}

static int make_tmpdir(struct runner *r)
{
  const char *tmp = cairn_getenv("TMPDIR");
  char *tmpl;

  if (!tmp)
    tmp = "/tmp";
  if (!(tmpl = cairn__sprintf("%s/cairn-%s-XXXXXX", tmp, r->run->name)))
    return CAIRN_ENOMEM;
  if (!mkdtemp(tmpl)) {
    int error = cairn__error_errno("creating a work folder in", tmp);
    free(tmpl);
    return error;
  }
  r->tmpdir = tmpl;
  return 0;
}

static cairn_status run_status(struct runner *r)
{
  size_t i;
  cairn_status st = CAIRN_STATUS_COMPLETED;

  if (r->cancelling)
    return CAIRN_STATUS_CANCELLED;
  for (i = 0; i < r->p->nsteps; i++)
    if (r->steps[i].rec.status != CAIRN_STATUS_COMPLETED &&
        r->steps[i].rec.status != CAIRN_STATUS_CACHED)
      st = CAIRN_STATUS_FAILED;
  return st;
}

/*
 * Reach the artifact store once before any step runs, so that refused
 * credentials or an unreachable endpoint stop the run at once instead of
 * after the first step's work.
 */
static int check_store(cairn_live_stack *stack)
{
  int exists;

  if (cairn_fs_exists(stack->store->fs, stack->store->root, &exists) < 0)
    return cairn__error_prefix("cannot reach artifact store '%s'",
                               stack->store->component.name);
  return 0;
}

int cairn_pipeline_run(cairn_run *out, cairn_store *store,
                       cairn_live_stack *stack, const cairn_pipeline *p,
                       const cairn_pipeline_run_options *opts)
{
  static const cairn_pipeline_run_options defaults =
      CAIRN_PIPELINE_RUN_OPTIONS_INIT;
  struct runner r;
  struct sigaction sa, old_int, old_term;
  cairn_status status;
  size_t i;
  long cores;
  int error;

  memset(out, 0, sizeof(*out));
  memset(&r, 0, sizeof(r));
  r.store = store;
  r.p = p;
  r.opts = opts ? opts : &defaults;
  r.run = out;
  r.fs = stack->store->fs;
  r.ls = stack->store;
  r.store_id = stack->store->component.id;
  r.parallelism = r.opts->parallelism > 0 ? r.opts->parallelism
                                          : (int)stack->parallelism;
  if (r.parallelism <= 0) {
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    r.parallelism = cores > 0 ? (int)cores : 1;
  }

  if ((error = cairn_pipeline_params_parse(&r.params, r.opts->params,
                                           r.opts->nparams)) < 0)
    return error;
  if ((error = check_store(stack)) < 0)
    goto done;
  if ((error = cairn_store_run_create(store, out, p->name,
                                      stack->stack.id, r.store_id,
                                      r.params)) < 0)
    goto done;
  if ((error = make_tmpdir(&r)) < 0) {
    cairn_store_run_finish(store, out->id, CAIRN_STATUS_FAILED);
    out->status = CAIRN_STATUS_FAILED;
    goto done;
  }
  if (!(r.steps = cairn__calloc(p->nsteps, sizeof(*r.steps)))) {
    error = CAIRN_ENOMEM;
    goto done;
  }
  log_info("pipeline", "run %s of %s with parallelism %d", out->name,
           p->name, r.parallelism);

  cairn_cancel_reset();
  if (!r.opts->no_signal_handlers) {
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  loop(&r);
  if (!r.opts->no_signal_handlers) {
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
  }

  status = run_status(&r);
  if ((error = cairn_store_run_finish(store, out->id, status)) < 0)
    goto done;
  out->status = status;
  out->ended = cairn_time_now();
  if (status == CAIRN_STATUS_CANCELLED)
    error = cairn__error(CAIRN_ECANCELLED, "run '%s' was cancelled",
                         out->name);
  else if (status == CAIRN_STATUS_FAILED)
    error = cairn__error(CAIRN_ERROR, "%s", r.failure ? r.failure
                         : "a step did not complete");
done:
  for (i = 0; r.steps && i < p->nsteps; i++) {
    free_outs(&r.steps[i]);
    cairn_step_run_dispose(&r.steps[i].rec);
    free(r.steps[i].workdir);
    free(r.steps[i].log);
    free(r.steps[i].metrics);
  }
  free(r.steps);
  cairn__pipeline_rm_local(r.tmpdir);
  free(r.tmpdir);
  free(r.failure);
  json_decref(r.params);
  return error;
}

/*
 * The runner, end to end on a temporary cairn home with the default
 * local stack: outputs, folders, metrics, failures and what depends on
 * them, the cache, timeouts and cancellation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "pipeline/pipeline.h"
#include "stack/stack.h"
#include "store/store.h"

struct fixture {
  char home[64];
  char dir[64];
  char tmp[64];
  cairn_store *store;
  cairn_live_stack *stack;
  int events[8];
  int cancel_on_start;
};

static void rm_rf(const char *path)
{
  char cmd[256];

  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
  assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));

  strcpy(f->home, "/tmp/cairn-run-home-XXXXXX");
  strcpy(f->dir, "/tmp/cairn-run-pipe-XXXXXX");
  strcpy(f->tmp, "/tmp/cairn-run-tmp-XXXXXX");
  assert_non_null(mkdtemp(f->home));
  assert_non_null(mkdtemp(f->dir));
  assert_non_null(mkdtemp(f->tmp));
  setenv("TMPDIR", f->tmp, 1);
  assert_int_equal(cairn_store_open(&f->store, f->home), 0);
  assert_int_equal(cairn_live_stack_open(&f->stack, f->store, NULL), 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;

  cairn_live_stack_free(f->stack);
  cairn_store_free(f->store);
  rm_rf(f->home);
  rm_rf(f->dir);
  rm_rf(f->tmp);
  free(f);
  return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
  char *path = cairn_path_join(dir, name);
  FILE *fp = fopen(path, "w");

  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
  free(path);
}

static char *read_text(const char *dir, const char *name)
{
  char *path = cairn_path_join(dir, name);
  cairn_buf b = CAIRN_BUF_INIT;

  assert_int_equal(cairn_file_read(&b, path, 0), 0);
  free(path);
  return cairn_buf_detach(&b);
}

static void on_event(const cairn_pipeline_event *ev, void *payload)
{
  struct fixture *f = payload;

  assert_non_null(ev->step);
  assert_non_null(ev->run);
  f->events[ev->type]++;
  if (ev->type == CAIRN_PIPELINE_STEP_STARTED && f->cancel_on_start)
    cairn_pipeline_cancel();
}

static int run(struct fixture *f, cairn_run *out, const char *yaml,
               const char *const *params, size_t nparams, int no_cache)
{
  cairn_pipeline_run_options o = CAIRN_PIPELINE_RUN_OPTIONS_INIT;
  cairn_pipeline *p = NULL;
  char *path;
  int error;

  write_file(f->dir, "pipeline.yaml", yaml);
  path = cairn_path_join(f->dir, "pipeline.yaml");
  assert_int_equal(cairn_pipeline_load(&p, path), 0);
  free(path);
  memset(f->events, 0, sizeof(f->events));
  o.params = params;
  o.nparams = nparams;
  o.no_cache = no_cache;
  o.on_event = on_event;
  o.payload = f;
  o.no_signal_handlers = 1;
  error = cairn_pipeline_run(out, f->store, f->stack, p, &o);
  cairn_pipeline_free(p);
  return error;
}

static cairn_step_run *find_step(cairn_step_run *list, size_t n,
                                 const char *name)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp(list[i].step, name) == 0)
      return &list[i];
  fail_msg("no step run '%s'", name);
  return NULL;
}

static int count_versions(struct fixture *f, const char *artifact)
{
  cairn_artifact_version *list = NULL;
  size_t n = 0;

  assert_int_equal(cairn_store_artifact_version_list(f->store, artifact,
                                                     &list, &n), 0);
  cairn_artifact_version_list_free(list, n);
  return (int)n;
}

static void assert_tmp_empty(struct fixture *f)
{
  DIR *d = opendir(f->tmp);
  struct dirent *e;
  int n = 0;

  assert_non_null(d);
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      n++;
  closedir(d);
  assert_int_equal(n, 0);
}

static const char *good_yaml =
  "name: demo\n"
  "steps:\n"
  "  gen:\n"
  "    run: >-\n"
  "      printf 'hello\\n' > \"$CAIRN_OUTPUT_GREETING\" &&\n"
  "      mkdir -p \"$CAIRN_OUTPUT_DATA/sub\" &&\n"
  "      echo a > \"$CAIRN_OUTPUT_DATA/a.txt\" &&\n"
  "      echo b > \"$CAIRN_OUTPUT_DATA/sub/b.txt\" &&\n"
  "      cat gen.txt && echo \"gen ran in $CAIRN_RUN_NAME/$CAIRN_STEP_NAME\"\n"
  "    code: [gen.txt]\n"
  "    outputs: [greeting, data]\n"
  "  use:\n"
  "    run: >-\n"
  "      cat \"$CAIRN_INPUT_G\" \"$CAIRN_INPUT_D/sub/b.txt\" > out.tmp &&\n"
  "      echo \"$CAIRN_PARAM_LR $MYVAR\" >> out.tmp &&\n"
  "      mv out.tmp \"$CAIRN_OUTPUT_OUT\" &&\n"
  "      printf '{\"accuracy\": 0.97}' > \"$CAIRN_METRICS\"\n"
  "    inputs: {g: gen.greeting, d: gen.data}\n"
  "    outputs: {out: final}\n"
  "    env: {MYVAR: 7}\n";

static void test_good_then_cached(void **state)
{
  struct fixture *f = *state;
  const char *params[] = {"lr=0.1"};
  const char *params2[] = {"lr=0.2"};
  cairn_run r = {0};
  cairn_step_run *steps = NULL, *gen, *use;
  cairn_artifact_version v = {0};
  cairn_lineage_edge *edges = NULL;
  size_t n = 0, ne = 0;
  char *text, *first_use_id;

  write_file(f->dir, "gen.txt", "code v1\n");
  assert_int_equal(run(f, &r, good_yaml, params, 1, 0), 0);
  assert_string_equal(r.name, "demo-1");
  assert_int_equal(r.status, CAIRN_STATUS_COMPLETED);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_STARTED], 2);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_FINISHED], 2);

  /* The file output through two steps, params and env included. */
  assert_int_equal(cairn_store_artifact_version_get(f->store, &v, "final",
                                                    0), 0);
  assert_int_equal(v.version, 1);
  assert_string_equal(v.kind, "file");
  text = read_text(v.uri, "out");
  assert_string_equal(text, "hello\nb\n0.1 7\n");
  free(text);
  assert_int_equal(v.size, 14);
  text = read_text(v.uri, CAIRN_MANIFEST_NAME);
  assert_non_null(strstr(text, v.sha256));
  free(text);
  cairn_artifact_version_dispose(&v);

  /* The folder output, with its manifest. */
  assert_int_equal(cairn_store_artifact_version_get(f->store, &v,
                                                    "demo::gen::data", 0),
                   0);
  assert_string_equal(v.kind, "folder");
  assert_int_equal(v.size, 4);
  text = read_text(v.uri, "sub/b.txt");
  assert_string_equal(text, "b\n");
  free(text);
  assert_non_null(strstr(v.uri, "/demo/gen/data/"));
  cairn_artifact_version_dispose(&v);

  /* Step records: metrics, log, lineage. */
  assert_int_equal(cairn_store_step_run_list(f->store, r.id, &steps, &n), 0);
  assert_int_equal(n, 2);
  use = find_step(steps, n, "use");
  gen = find_step(steps, n, "gen");
  assert_int_equal(use->status, CAIRN_STATUS_COMPLETED);
  assert_int_equal(json_real_value(json_object_get(use->metrics,
                                                   "accuracy")) * 100, 97);
  assert_non_null(gen->log_uri);
  assert_non_null(strstr(gen->log_uri, "/demo/gen/logs/demo-1.log"));
  text = read_text(gen->log_uri, "");
  assert_string_equal(text, "code v1\ngen ran in demo-1/gen\n");
  free(text);
  assert_int_equal(cairn_store_step_inputs(f->store, use->id, &edges, &ne),
                   0);
  assert_int_equal(ne, 2);
  cairn_lineage_list_free(edges, ne);
  first_use_id = strdup(use->id);
  cairn_step_run_list_free(steps, n);
  cairn_run_dispose(&r);
  assert_tmp_empty(f);

  /* Same again: both cached, nothing new stored. */
  assert_int_equal(run(f, &r, good_yaml, params, 1, 0), 0);
  assert_string_equal(r.name, "demo-2");
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_CACHED], 2);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_STARTED], 0);
  assert_int_equal(count_versions(f, "final"), 1);
  assert_int_equal(cairn_store_step_run_list(f->store, r.id, &steps, &n), 0);
  use = find_step(steps, n, "use");
  assert_int_equal(use->status, CAIRN_STATUS_CACHED);
  assert_string_equal(use->cached_from, first_use_id);
  assert_non_null(json_object_get(use->metrics, "accuracy"));
  assert_int_equal(cairn_store_step_outputs(f->store, use->id, &edges, &ne),
                   0);
  assert_int_equal(ne, 1);
  assert_string_equal(edges[0].artifact, "final");
  assert_int_equal(edges[0].version, 1);
  cairn_lineage_list_free(edges, ne);
  cairn_step_run_list_free(steps, n);
  cairn_run_dispose(&r);

  /* Another parameter: every step's key changes. */
  assert_int_equal(run(f, &r, good_yaml, params2, 1, 0), 0);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_CACHED], 0);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_FINISHED], 2);
  assert_int_equal(count_versions(f, "final"), 2);
  cairn_run_dispose(&r);

  /*
   * The code file changed: gen runs again; its outputs are the same
   * bytes, so use (keyed by their hashes) is cached.
   */
  write_file(f->dir, "gen.txt", "code v2\n");
  assert_int_equal(run(f, &r, good_yaml, params2, 1, 0), 0);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_FINISHED], 1);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_CACHED], 1);
  assert_int_equal(count_versions(f, "demo::gen::data"), 3);
  assert_int_equal(count_versions(f, "final"), 2);
  cairn_run_dispose(&r);

  /* --no-cache runs everything. */
  assert_int_equal(run(f, &r, good_yaml, params2, 1, 1), 0);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_FINISHED], 2);
  assert_int_equal(count_versions(f, "final"), 3);
  cairn_run_dispose(&r);
  free(first_use_id);
  assert_tmp_empty(f);
}

static void test_failure_and_dependents(void **state)
{
  struct fixture *f = *state;
  const char *yaml =
    "name: bad\n"
    "steps:\n"
    "  ok: {run: 'echo ok > \"$CAIRN_OUTPUT_O\"', outputs: [o]}\n"
    "  boom:\n"
    "    run: 'echo partial > \"$CAIRN_OUTPUT_O\"; echo oops; exit 3'\n"
    "    outputs: [o]\n"
    "  after: {run: 'true', inputs: {x: boom.o}}\n"
    "  last: {run: 'true', inputs: {x: ok.o, y: after.o}}\n"
    "  indep: {run: 'sleep 0.3; echo hi > \"$CAIRN_OUTPUT_O\"',"
    " outputs: [o]}\n";
  cairn_run r = {0};
  cairn_step_run *steps = NULL, *boom;
  size_t n = 0;
  char *text;

  /* "after" has no output o: refused before running. */
  write_file(f->dir, "pipeline.yaml", yaml);
  {
    cairn_pipeline *p = NULL;
    char *path = cairn_path_join(f->dir, "pipeline.yaml");
    assert_int_equal(cairn_pipeline_load(&p, path), CAIRN_EINVAL);
    assert_non_null(strstr(cairn_error_last()->message, "no such output"));
    free(path);
  }
  yaml =
    "name: bad\n"
    "steps:\n"
    "  ok: {run: 'echo ok > \"$CAIRN_OUTPUT_O\"', outputs: [o]}\n"
    "  boom:\n"
    "    run: 'echo partial > \"$CAIRN_OUTPUT_O\"; echo oops; exit 3'\n"
    "    outputs: [o]\n"
    "  after: {run: 'true', inputs: {x: boom.o}, outputs: [o]}\n"
    "  last: {run: 'true', inputs: {x: ok.o, y: after.o}}\n"
    "  indep: {run: 'sleep 0.3; echo hi > \"$CAIRN_OUTPUT_O\"',"
    " outputs: [o]}\n";
  assert_int_equal(run(f, &r, yaml, NULL, 0, 0), CAIRN_ERROR);
  assert_string_equal(cairn_error_last()->message,
                      "step 'boom' failed: exited with status 3");
  assert_int_equal(r.status, CAIRN_STATUS_FAILED);
  assert_int_equal(cairn_store_step_run_list(f->store, r.id, &steps, &n), 0);
  assert_int_equal(n, 5);
  assert_int_equal(find_step(steps, n, "ok")->status,
                   CAIRN_STATUS_COMPLETED);
  assert_int_equal(find_step(steps, n, "indep")->status,
                   CAIRN_STATUS_COMPLETED);
  assert_int_equal(find_step(steps, n, "after")->status,
                   CAIRN_STATUS_SKIPPED);
  assert_int_equal(find_step(steps, n, "last")->status,
                   CAIRN_STATUS_SKIPPED);
  boom = find_step(steps, n, "boom");
  assert_int_equal(boom->status, CAIRN_STATUS_FAILED);
  assert_int_equal(boom->exit_code, 3);
  assert_string_equal(boom->error, "exited with status 3");
  text = read_text(boom->log_uri, "");
  assert_string_equal(text, "oops\n");
  free(text);
  assert_int_equal(count_versions(f, "bad::boom::o"), 0);
  assert_int_equal(count_versions(f, "bad::ok::o"), 1);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_FAILED], 1);
  assert_int_equal(f->events[CAIRN_PIPELINE_STEP_SKIPPED], 2);
  cairn_step_run_list_free(steps, n);
  cairn_run_dispose(&r);
  assert_tmp_empty(f);
}

static void test_output_and_metrics_checks(void **state)
{
  struct fixture *f = *state;
  cairn_run r = {0};
  char *path;
  struct stat st;

  assert_int_equal(run(f, &r, "name: m\nsteps:\n"
                       "  a: {run: 'true', outputs: [model-x]}\n",
                       NULL, 0, 0), CAIRN_ERROR);
  assert_string_equal(cairn_error_last()->message,
                      "step 'a' failed: it did not create output 'model-x' "
                      "(a file or folder at $CAIRN_OUTPUT_MODEL_X)");
  cairn_run_dispose(&r);

  assert_int_equal(run(f, &r, "name: m\nsteps:\n"
                       "  a: {run: 'echo 1 > \"$CAIRN_OUTPUT_O\"; "
                       "echo \"{nope\" > \"$CAIRN_METRICS\"', outputs: [o]}\n",
                       NULL, 0, 0), CAIRN_ERROR);
  assert_non_null(strstr(cairn_error_last()->message,
                         "must hold one JSON object"));
  assert_int_equal(count_versions(f, "m::a::o"), 0);
  /* Nothing left behind under the step's output folder. */
  path = cairn__sprintf("%s/m/a/o", f->stack->store->root);
  assert_true(stat(path, &st) != 0 || S_ISDIR(st.st_mode));
  if (stat(path, &st) == 0) {
    DIR *d = opendir(path);
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)))
      count += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(count, 0);
  }
  free(path);
  cairn_run_dispose(&r);

  /* An upload that fails half way is removed, with its reason kept. */
  assert_int_equal(run(f, &r, "name: m\nsteps:\n"
                       "  b: {run: 'mkdir \"$CAIRN_OUTPUT_O\" && echo x > "
                       "\"$CAIRN_OUTPUT_O/cairn-manifest.json\"', "
                       "outputs: [o]}\n", NULL, 0, 0), CAIRN_ERROR);
  assert_non_null(strstr(cairn_error_last()->message,
                         "uploading output 'o': a folder output may not"));
  path = cairn__sprintf("%s/m/b/o", f->stack->store->root);
  {
    DIR *d = opendir(path);
    struct dirent *e;
    int count = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
      count += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(count, 0);
  }
  free(path);
  cairn_run_dispose(&r);
}

static void test_timeout(void **state)
{
  struct fixture *f = *state;
  cairn_run r = {0};
  int64_t t0 = cairn_time_monotonic_ms();

  assert_int_equal(run(f, &r, "name: t\nsteps:\n"
                       "  slow: {run: 'sleep 30', timeout: 1}\n",
                       NULL, 0, 0), CAIRN_ERROR);
  assert_string_equal(cairn_error_last()->message,
                      "step 'slow' failed: timed out after 1 s");
  assert_true(cairn_time_monotonic_ms() - t0 < 8000);
  cairn_run_dispose(&r);
}

static void test_cancel(void **state)
{
  struct fixture *f = *state;
  cairn_run r = {0}, again = {0};
  cairn_step_run *steps = NULL;
  size_t n = 0;
  int64_t t0 = cairn_time_monotonic_ms();

  f->cancel_on_start = 1;
  assert_int_equal(run(f, &r, "name: c\nsteps:\n"
                       "  slow: {run: 'sleep 30', outputs: [o]}\n"
                       "  next: {run: 'true', inputs: {i: slow.o}}\n",
                       NULL, 0, 0), CAIRN_ECANCELLED);
  f->cancel_on_start = 0;
  assert_true(cairn_time_monotonic_ms() - t0 < 8000);
  assert_int_equal(r.status, CAIRN_STATUS_CANCELLED);
  assert_int_equal(cairn_store_run_get(f->store, &again, r.id), 0);
  assert_int_equal(again.status, CAIRN_STATUS_CANCELLED);
  assert_int_equal(cairn_store_step_run_list(f->store, r.id, &steps, &n), 0);
  assert_int_equal(find_step(steps, n, "slow")->status,
                   CAIRN_STATUS_CANCELLED);
  assert_int_equal(find_step(steps, n, "next")->status,
                   CAIRN_STATUS_CANCELLED);
  cairn_step_run_list_free(steps, n);
  cairn_run_dispose(&again);
  cairn_run_dispose(&r);
}

/* Independent steps run side by side: each waits for the other. */
static void test_parallel(void **state)
{
  struct fixture *f = *state;
  cairn_run r = {0};
  char yaml[1024];

  snprintf(yaml, sizeof(yaml),
           "name: par\nsteps:\n"
           "  a: {run: 'touch %s/a; for i in $(seq 80); do "
           "[ -e %s/b ] && exit 0; sleep 0.05; done; exit 1'}\n"
           "  b: {run: 'touch %s/b; for i in $(seq 80); do "
           "[ -e %s/a ] && exit 0; sleep 0.05; done; exit 1'}\n",
           f->dir, f->dir, f->dir, f->dir);
  assert_int_equal(run(f, &r, yaml, NULL, 0, 0), 0);
  cairn_run_dispose(&r);
}

static void test_bad_param(void **state)
{
  struct fixture *f = *state;
  const char *params[] = {"novalue"};
  cairn_run r = {0};

  assert_int_equal(run(f, &r, "name: q\nsteps:\n  a: {run: 'true'}\n",
                       params, 1, 0), CAIRN_EINVAL);
  assert_non_null(strstr(cairn_error_last()->message, "--param"));
  cairn_run_dispose(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_good_then_cached, setup, teardown),
    cmocka_unit_test_setup_teardown(test_failure_and_dependents, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_output_and_metrics_checks, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
    cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_param, setup, teardown),
  };

  cairn_global_init();
  return cmocka_run_group_tests(tests, NULL, NULL);
}

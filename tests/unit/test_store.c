/*
 * The SQLite metadata store: defaults, components, stacks, runs, step
 * runs, artifact versions, lineage, reaping and concurrent numbering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

struct fixture {
  char home[64];
  cairn_store *store;
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));
  char base[] = "/tmp/cairn-test-store-XXXXXX";

  if (!f || !mkdtemp(base))
    return -1;
  /* The home itself does not exist yet: open must create it 0700. */
  snprintf(f->home, sizeof(f->home), "%s/home", base);
  if (cairn_store_open(&f->store, f->home) < 0)
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  char cmd[128];

  cairn_store_free(f->store);
  snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(f->home) - 5),
           f->home);
  if (system(cmd) != 0)
    return -1;
  free(f);
  return 0;
}

static void test_defaults_once(void **state)
{
  struct fixture *f = *state;
  cairn_store *again;
  cairn_stack *stacks, active;
  cairn_component *list;
  size_t n, m;
  struct stat st;
  char path[128];
  const char *root;

  assert_int_equal(cairn_store_schema_version(f->store), 3);
  assert_int_equal(cairn_store_open(&again, f->home), 0);
  assert_int_equal(cairn_store_stack_list(again, &stacks, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(stacks[0].name, "default");
  assert_true(stacks[0].active);
  cairn_stack_list_free(stacks, n);

  assert_int_equal(cairn_store_component_list(again, "artifact_store",
                                              &list, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(list[0].flavor, "local");
  root = json_string_value(json_object_get(list[0].config, "path"));
  assert_non_null(root);
  snprintf(path, sizeof(path), "%s/local_stores/%s", f->home, list[0].id);
  assert_string_equal(root, path);
  assert_int_equal(cairn_store_stack_active(again, &active), 0);
  assert_string_equal(active.artifact_store_id, list[0].id);
  cairn_stack_dispose(&active);
  cairn_component_list_free(list, n);
  assert_int_equal(cairn_store_component_list(again, "orchestrator", &list,
                                              &m), 0);
  assert_int_equal(m, 1);
  cairn_component_list_free(list, m);
  cairn_store_free(again);

  assert_int_equal(stat(f->home, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  snprintf(path, sizeof(path), "%s/cairn.db", f->home);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_components(void **state)
{
  struct fixture *f = *state;
  cairn_component c, g;
  json_t *config = json_pack("{s:s}", "path", "az://data");
  char prefix[9];

  assert_int_equal(cairn_store_component_create(f->store, &c,
                   "artifact_store", "blob", "azure", config), 0);
  assert_string_equal(c.name, "blob");
  assert_string_equal(json_string_value(json_object_get(c.config, "path")),
                      "az://data");
  assert_int_equal(cairn_store_component_create(f->store, &g,
                   "artifact_store", "blob", "local", NULL), CAIRN_EEXISTS);
  /* Same name, other type: fine. */
  assert_int_equal(cairn_store_component_create(f->store, &g,
                   "orchestrator", "blob", "local", NULL), 0);
  cairn_component_dispose(&g);

  /* By name, id, prefix; too short a prefix is not found. */
  assert_int_equal(cairn_store_component_get(f->store, &g, "artifact_store",
                                             c.id), 0);
  assert_string_equal(g.name, "blob");
  cairn_component_dispose(&g);
  memcpy(prefix, c.id, 8);
  prefix[8] = '\0';
  assert_int_equal(cairn_store_component_get(f->store, &g, "artifact_store",
                                             prefix), 0);
  assert_string_equal(g.id, c.id);
  cairn_component_dispose(&g);
  prefix[3] = '\0';
  assert_int_equal(cairn_store_component_get(f->store, &g, "artifact_store",
                                             prefix), CAIRN_ENOTFOUND);
  assert_non_null(strstr(cairn_error_last()->message,
                         "a prefix of an id needs 4 characters or more"));
  assert_int_equal(cairn_store_component_get(f->store, &g, "artifact_store",
                                             "nope"), CAIRN_ENOTFOUND);
  assert_non_null(strstr(cairn_error_last()->message, "nope"));

  json_object_set_new(config, "path", json_string("az://other"));
  assert_int_equal(cairn_store_component_update(f->store, c.id, config), 0);
  assert_int_equal(cairn_store_component_rename(f->store, c.id, "blob2"), 0);
  assert_int_equal(cairn_store_component_get(f->store, &g, "artifact_store",
                                             "blob2"), 0);
  assert_string_equal(json_string_value(json_object_get(g.config, "path")),
                      "az://other");
  cairn_component_dispose(&g);
  assert_int_equal(cairn_store_component_rename(f->store, c.id, "default"),
                   CAIRN_EEXISTS);

  assert_int_equal(cairn_store_component_delete(f->store, c.id), 0);
  assert_int_equal(cairn_store_component_get(f->store, &g, "artifact_store",
                                             "blob2"), CAIRN_ENOTFOUND);
  assert_int_equal(cairn_store_component_get(f->store, &g, "artifact_store",
                                             "default"), 0);
  assert_int_equal(cairn_store_component_delete(f->store, g.id),
                   CAIRN_EPERM);
  cairn_component_dispose(&g);
  cairn_component_dispose(&c);
  json_decref(config);
}

/* Run SQL on the store's file through a second connection. */
static void raw_sql(const struct fixture *f, const char *sql)
{
  sqlite3 *db;
  char path[128];

  snprintf(path, sizeof(path), "%s/cairn.db", f->home);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

/* Two ids sharing a prefix: the prefix is ambiguous, a longer one not. */
static void test_ambiguous_prefix(void **state)
{
  struct fixture *f = *state;
  cairn_component g;

  raw_sql(f, "INSERT INTO components(id, type, name, flavor, created, "
             "updated) VALUES('abcd1111-0000-4000-8000-000000000000', "
             "'orchestrator', 'o1', 'local', 0, 0), "
             "('abcd2222-0000-4000-8000-000000000000', 'orchestrator', "
             "'o2', 'local', 0, 0)");
  assert_int_equal(cairn_store_component_get(f->store, &g, "orchestrator",
                                             "abcd"), CAIRN_EINVAL);
  assert_non_null(strstr(cairn_error_last()->message, "ambiguous"));
  assert_non_null(strstr(cairn_error_last()->message, "'o1', 'o2'"));
  assert_int_equal(cairn_store_component_get(f->store, &g, "orchestrator",
                                             "abcd2"), 0);
  assert_string_equal(g.name, "o2");
  cairn_component_dispose(&g);
  /* Another type does not count. */
  assert_int_equal(cairn_store_component_get(f->store, &g, "artifact_store",
                                             "abcd"), CAIRN_ENOTFOUND);
}

static void test_stacks(void **state)
{
  struct fixture *f = *state;
  cairn_component a, o, d;
  cairn_stack s, g, dflt;
  cairn_strlist users = CAIRN_STRLIST_INIT;

  assert_int_equal(cairn_store_component_create(f->store, &a,
                   "artifact_store", "st", "local", NULL), 0);
  assert_int_equal(cairn_store_component_get(f->store, &o, "orchestrator",
                                             "default"), 0);
  assert_int_equal(cairn_store_stack_create(f->store, &s, "dev", a.id,
                                            o.id), 0);
  assert_false(s.active);
  assert_int_equal(cairn_store_stack_create(f->store, &g, "dev", a.id,
                                            o.id), CAIRN_EEXISTS);
  /* Parts of the wrong type are refused. */
  assert_int_equal(cairn_store_stack_create(f->store, &g, "bad", o.id,
                                            o.id), CAIRN_EINVAL);
  assert_int_equal(cairn_store_stack_create(f->store, &g, "b2", a.id,
                                            a.id), CAIRN_EINVAL);

  assert_int_equal(cairn_store_stack_create(f->store, &g, "qa", a.id,
                                            o.id), 0);
  assert_int_equal(cairn_store_component_delete(f->store, a.id),
                   CAIRN_EINUSE);
  assert_non_null(strstr(cairn_error_last()->message,
                         "used by stack(s) 'dev', 'qa': delete or update "
                         "them first"));
  assert_int_equal(cairn_store_stacks_using(f->store, a.id, &users), 0);
  assert_int_equal(users.count, 2);
  cairn_strlist_dispose(&users);

  /* Activate dev; the active stack cannot be deleted. */
  assert_int_equal(cairn_store_stack_set_active(f->store, s.id), 0);
  cairn_stack_dispose(&s);
  assert_int_equal(cairn_store_stack_active(f->store, &s), 0);
  assert_string_equal(s.name, "dev");
  assert_true(s.active);
  assert_int_equal(cairn_store_stack_delete(f->store, s.id), CAIRN_EPERM);
  assert_non_null(strstr(cairn_error_last()->message,
                         "the active stack cannot be deleted: activate "
                         "another with 'cairn stack set NAME' first"));
  assert_int_equal(cairn_store_stack_get(f->store, &dflt, "default"), 0);
  assert_false(dflt.active);

  /* Rename and update. */
  assert_int_equal(cairn_store_stack_rename(f->store, g.id, "qa2"), 0);
  assert_int_equal(cairn_store_stack_rename(f->store, g.id, "dev"),
                   CAIRN_EEXISTS);
  assert_int_equal(cairn_store_stack_rename(f->store, dflt.id, "x"),
                   CAIRN_EPERM);
  assert_int_equal(cairn_store_stack_update(f->store, g.id,
                   dflt.artifact_store_id, NULL), 0);
  cairn_stack_dispose(&g);
  assert_int_equal(cairn_store_stack_get(f->store, &g, "qa2"), 0);
  assert_string_equal(g.artifact_store_id, dflt.artifact_store_id);
  assert_string_equal(g.orchestrator_id, o.id);
  assert_int_equal(cairn_store_stack_delete(f->store, g.id), 0);
  cairn_stack_dispose(&g);
  assert_int_equal(cairn_store_stack_get(f->store, &g, "qa2"),
                   CAIRN_ENOTFOUND);

  /* Back to default; now dev can go, then its store. */
  assert_int_equal(cairn_store_stack_set_active(f->store, dflt.id), 0);
  assert_int_equal(cairn_store_stack_delete(f->store, s.id), 0);
  assert_int_equal(cairn_store_stack_delete(f->store, dflt.id), CAIRN_EPERM);
  assert_int_equal(cairn_store_component_delete(f->store, a.id), 0);
  assert_int_equal(cairn_store_component_get(f->store, &d, "artifact_store",
                                             a.id), CAIRN_ENOTFOUND);
  cairn_stack_dispose(&s);
  cairn_stack_dispose(&dflt);
  cairn_component_dispose(&a);
  cairn_component_dispose(&o);
}

static void test_runs_and_steps(void **state)
{
  struct fixture *f = *state;
  cairn_run r1, r2, r3, g, *runs;
  cairn_step_run s1, s2, c, *steps;
  json_t *params = json_pack("{s:s}", "lr", "0.1");
  size_t n;

  assert_int_equal(cairn_store_run_create(f->store, &r1, "p", "S", "A",
                                          params), 0);
  assert_int_equal(cairn_store_run_create(f->store, &r2, "p", "S", "A",
                                          NULL), 0);
  assert_int_equal(cairn_store_run_create(f->store, &r3, "q-x", "S", "B",
                                          NULL), 0);
  assert_string_equal(r1.name, "p-1");
  assert_string_equal(r2.name, "p-2");
  assert_string_equal(r3.name, "q-x-1");
  assert_int_equal(r2.number, 2);
  assert_int_equal(r1.status, CAIRN_STATUS_RUNNING);
  assert_int_equal(r1.pid, (int)getpid());
  assert_string_equal(json_string_value(json_object_get(r1.params, "lr")),
                      "0.1");

  assert_int_equal(cairn_store_run_get(f->store, &g, "p-2"), 0);
  assert_string_equal(g.id, r2.id);
  cairn_run_dispose(&g);
  assert_int_equal(cairn_store_run_get(f->store, &g, "q-x-1"), 0);
  assert_string_equal(g.id, r3.id);
  cairn_run_dispose(&g);
  assert_int_equal(cairn_store_run_get(f->store, &g, "p-9"),
                   CAIRN_ENOTFOUND);
  assert_int_equal(cairn_store_run_list(f->store, "p", &runs, &n), 0);
  assert_int_equal(n, 2);
  cairn_run_list_free(runs, n);
  assert_int_equal(cairn_store_run_list(f->store, NULL, &runs, &n), 0);
  assert_int_equal(n, 3);
  cairn_run_list_free(runs, n);

  /* Step runs in creation order; update writes every field. */
  assert_int_equal(cairn_store_step_run_create(f->store, &s1, r1.id,
                                               "train", "k1"), 0);
  assert_int_equal(cairn_store_step_run_create(f->store, &s2, r1.id,
                                               "eval", "k2"), 0);
  s1.status = CAIRN_STATUS_COMPLETED;
  s1.ended_ms = s1.started_ms + 5;
  s1.exit_code = 0;
  s1.log_uri = strdup("/x/log");
  json_object_set_new(s1.metrics, "acc", json_real(0.5));
  assert_int_equal(cairn_store_step_run_update(f->store, &s1), 0);
  s2.status = CAIRN_STATUS_FAILED;
  s2.exit_code = 3;
  s2.error = strdup("boom");
  assert_int_equal(cairn_store_step_run_update(f->store, &s2), 0);
  assert_int_equal(cairn_store_step_run_list(f->store, r1.id, &steps, &n),
                   0);
  assert_int_equal(n, 2);
  assert_string_equal(steps[0].step, "train");
  assert_string_equal(steps[1].step, "eval");
  assert_string_equal(steps[0].log_uri, "/x/log");
  assert_true(json_real_value(json_object_get(steps[0].metrics, "acc"))
              == 0.5);
  assert_int_equal(steps[1].exit_code, 3);
  assert_string_equal(steps[1].error, "boom");
  cairn_step_run_list_free(steps, n);

  /* Cache: same store and completed only. */
  assert_int_equal(cairn_store_step_run_find_cached(f->store, &c, "k1",
                                                    "A"), 0);
  assert_string_equal(c.id, s1.id);
  cairn_step_run_dispose(&c);
  assert_int_equal(cairn_store_step_run_find_cached(f->store, &c, "k1",
                                                    "B"), CAIRN_ENOTFOUND);
  assert_int_equal(cairn_store_step_run_find_cached(f->store, &c, "k2",
                                                    "A"), CAIRN_ENOTFOUND);

  assert_int_equal(cairn_store_run_finish(f->store, r1.id,
                                          CAIRN_STATUS_COMPLETED), 0);
  assert_int_equal(cairn_store_run_get(f->store, &g, r1.id), 0);
  assert_int_equal(g.status, CAIRN_STATUS_COMPLETED);
  assert_true(g.ended > 0);
  cairn_run_dispose(&g);

  cairn_step_run_dispose(&s1);
  cairn_step_run_dispose(&s2);
  cairn_run_dispose(&r1);
  cairn_run_dispose(&r2);
  cairn_run_dispose(&r3);
  json_decref(params);
}

static void test_versions_and_lineage(void **state)
{
  struct fixture *f = *state;
  cairn_artifact_version v, g, *list;
  cairn_artifact_summary *sum;
  cairn_lineage_edge *edges;
  cairn_run r;
  cairn_step_run prod, cons;
  char *v1 = NULL, *v2 = NULL;
  size_t n;
  int i;

  assert_int_equal(cairn_store_run_create(f->store, &r, "p", NULL, "A",
                                          NULL), 0);
  assert_int_equal(cairn_store_step_run_create(f->store, &prod, r.id,
                                               "make", NULL), 0);
  assert_int_equal(cairn_store_step_run_create(f->store, &cons, r.id,
                                               "use", NULL), 0);
  for (i = 1; i <= 2; i++) {
    memset(&v, 0, sizeof(v));
    v.artifact = strdup("p::make::data");
    v.uri = strdup("/store/p/make/data/x");
    v.kind = strdup("file");
    v.size = 10;
    v.producer_step_run_id = strdup(prod.id);
    v.output = strdup("data");
    assert_int_equal(cairn_store_artifact_version_create(f->store, &v), 0);
    assert_int_equal(v.version, i);
    assert_non_null(v.id);
    if (i == 1)
      v1 = strdup(v.id);
    else
      v2 = strdup(v.id);
    cairn_artifact_version_dispose(&v);
  }
  /* A chosen id is kept. */
  memset(&v, 0, sizeof(v));
  v.artifact = strdup("other");
  v.uri = strdup("/store/imports/other/1");
  v.id = strdup("11111111-2222-4333-8444-555555555555");
  assert_int_equal(cairn_store_artifact_version_create(f->store, &v), 0);
  assert_int_equal(v.version, 1);
  cairn_artifact_version_dispose(&v);
  assert_int_equal(cairn_store_artifact_version_get_by_id(f->store, &g,
                   "11111111-2222-4333-8444-555555555555"), 0);
  assert_string_equal(g.artifact, "other");
  cairn_artifact_version_dispose(&g);

  assert_int_equal(cairn_store_artifact_version_get(f->store, &g,
                   "p::make::data", 0), 0);
  assert_int_equal(g.version, 2);
  assert_string_equal(g.id, v2);
  assert_int_equal((int)g.size, 10);
  cairn_artifact_version_dispose(&g);
  assert_int_equal(cairn_store_artifact_version_get(f->store, &g,
                   "p::make::data", 1), 0);
  assert_string_equal(g.id, v1);
  cairn_artifact_version_dispose(&g);
  assert_int_equal(cairn_store_artifact_version_get(f->store, &g,
                   "p::make::data", 7), CAIRN_ENOTFOUND);
  assert_non_null(strstr(cairn_error_last()->message, "latest is 2"));
  assert_int_equal(cairn_store_artifact_version_get(f->store, &g, "none",
                                                    0), CAIRN_ENOTFOUND);

  assert_int_equal(cairn_store_artifact_version_list(f->store,
                   "p::make::data", &list, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(list[0].version, 2);
  cairn_artifact_version_list_free(list, n);
  assert_int_equal(cairn_store_artifact_list(f->store, &sum, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(sum[1].name, "p::make::data");
  assert_int_equal(sum[1].versions, 2);
  assert_int_equal(sum[1].latest, 2);
  cairn_artifact_summary_list_free(sum, n);

  /* Lineage: make -> data v1; use reads v1, writes other. */
  assert_int_equal(cairn_store_lineage_add_output(f->store, prod.id, "data",
                                                  v1), 0);
  assert_int_equal(cairn_store_lineage_add_input(f->store, cons.id, "data",
                                                 v1), 0);
  assert_int_equal(cairn_store_lineage_add_output(f->store, cons.id, "res",
                   "11111111-2222-4333-8444-555555555555"), 0);
  assert_int_equal(cairn_store_lineage_add_input(f->store, cons.id, "x",
                                                 "missing"),
                   CAIRN_ENOTFOUND);
  assert_int_equal(cairn_store_step_inputs(f->store, cons.id, &edges, &n),
                   0);
  assert_int_equal(n, 1);
  assert_string_equal(edges[0].name, "data");
  assert_string_equal(edges[0].artifact, "p::make::data");
  assert_int_equal(edges[0].version, 1);
  cairn_lineage_list_free(edges, n);
  assert_int_equal(cairn_store_step_outputs(f->store, prod.id, &edges, &n),
                   0);
  assert_int_equal(n, 1);
  assert_string_equal(edges[0].version_id, v1);
  cairn_lineage_list_free(edges, n);
  assert_int_equal(cairn_store_version_consumers(f->store, v1, &edges, &n),
                   0);
  assert_int_equal(n, 1);
  assert_string_equal(edges[0].artifact, "other");
  cairn_lineage_list_free(edges, n);

  free(v1);
  free(v2);
  cairn_step_run_dispose(&prod);
  cairn_step_run_dispose(&cons);
  cairn_run_dispose(&r);
}

static void test_reap(void **state)
{
  struct fixture *f = *state;
  cairn_run r, g;
  cairn_step_run s, *steps;
  sqlite3_int64 dead;
  pid_t child;
  size_t n;
  int status;
  char sql[160];

  child = fork();
  assert_true(child >= 0);
  if (child == 0)
    _exit(0);
  assert_int_equal(waitpid(child, &status, 0), child);
  dead = child;

  assert_int_equal(cairn_store_run_create(f->store, &r, "p", NULL, "A",
                                          NULL), 0);
  assert_int_equal(cairn_store_step_run_create(f->store, &s, r.id, "a",
                                               NULL), 0);
  /* A live run (ours) is left alone. */
  assert_int_equal(cairn_store_run_reap(f->store), 0);
  assert_int_equal(cairn_store_run_get(f->store, &g, r.id), 0);
  assert_int_equal(g.status, CAIRN_STATUS_RUNNING);
  cairn_run_dispose(&g);

  snprintf(sql, sizeof(sql), "UPDATE runs SET pid=%lld WHERE id='%s'",
           (long long)dead, r.id);
  raw_sql(f, sql);
  assert_int_equal(cairn_store_run_reap(f->store), 0);
  assert_int_equal(cairn_store_run_get(f->store, &g, r.id), 0);
  assert_int_equal(g.status, CAIRN_STATUS_FAILED);
  assert_true(g.ended > 0);
  cairn_run_dispose(&g);
  assert_int_equal(cairn_store_step_run_list(f->store, r.id, &steps, &n),
                   0);
  assert_int_equal(n, 1);
  assert_int_equal(steps[0].status, CAIRN_STATUS_FAILED);
  assert_string_equal(steps[0].error, "the process running it ended");
  cairn_step_run_list_free(steps, n);
  cairn_step_run_dispose(&s);
  cairn_run_dispose(&r);
}

/* Each child opens its own store and records 20 versions, and 5 runs. */
static int child_work(const char *home)
{
  cairn_artifact_version v;
  cairn_store *s;
  cairn_run r;
  int i;

  if (cairn_store_open(&s, home) < 0)
    return 1;
  for (i = 0; i < 20; i++) {
    memset(&v, 0, sizeof(v));
    v.artifact = strdup("shared");
    v.uri = strdup("/x");
    if (cairn_store_artifact_version_create(s, &v) < 0) {
      cairn_artifact_version_dispose(&v);
      cairn_store_free(s);
      return 2;
    }
    cairn_artifact_version_dispose(&v);
    if (i % 4 == 0) {
      if (cairn_store_run_create(s, &r, "par", NULL, NULL, NULL) < 0) {
        cairn_store_free(s);
        return 3;
      }
      cairn_run_dispose(&r);
    }
  }
  cairn_store_free(s);
  return 0;
}

static void test_two_processes(void **state)
{
  struct fixture *f = *state;
  cairn_artifact_version *list;
  cairn_run *runs;
  pid_t kids[2];
  int seen[41] = {0}, status, i;
  size_t n;

  for (i = 0; i < 2; i++) {
    kids[i] = fork();
    assert_true(kids[i] >= 0);
    if (kids[i] == 0)
      _exit(child_work(f->home));
  }
  for (i = 0; i < 2; i++) {
    assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  assert_int_equal(cairn_store_artifact_version_list(f->store, "shared",
                                                     &list, &n), 0);
  assert_int_equal(n, 40);
  for (i = 0; i < 40; i++) {
    assert_true(list[i].version >= 1 && list[i].version <= 40);
    assert_int_equal(seen[list[i].version], 0);
    seen[list[i].version] = 1;
  }
  cairn_artifact_version_list_free(list, n);
  assert_int_equal(cairn_store_run_list(f->store, "par", &runs, &n), 0);
  assert_int_equal(n, 10);
  cairn_run_list_free(runs, n);
}

/* Two processes opening a fresh home at once make one default stack. */
static void test_racing_first_open(void **state)
{
  char base[] = "/tmp/cairn-test-race-XXXXXX", home[64], cmd[96];
  cairn_store *s;
  cairn_stack *stacks;
  pid_t kids[4];
  size_t n;
  int i, status;

  (void)state;
  assert_non_null(mkdtemp(base));
  snprintf(home, sizeof(home), "%s/h", base);
  for (i = 0; i < 4; i++) {
    kids[i] = fork();
    assert_true(kids[i] >= 0);
    if (kids[i] == 0) {
      int rc = cairn_store_open(&s, home);

      cairn_store_free(s);
      _exit(rc < 0);
    }
  }
  for (i = 0; i < 4; i++) {
    assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  assert_int_equal(cairn_store_open(&s, home), 0);
  assert_int_equal(cairn_store_stack_list(s, &stacks, &n), 0);
  assert_int_equal(n, 1);
  cairn_stack_list_free(stacks, n);
  cairn_store_free(s);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_defaults_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_components, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ambiguous_prefix, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stacks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_runs_and_steps, setup, teardown),
    cmocka_unit_test_setup_teardown(test_versions_and_lineage, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_reap, setup, teardown),
    cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
    cmocka_unit_test(test_racing_first_open),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Cache keys: known answers (computed with an independent script over
 * the documented encoding) and the effect of each part.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "pipeline/pipeline.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static cairn_cache_kv code[] = {{"train.py", SHA_A}};
static cairn_cache_kv inputs[] = {{"data", SHA_B}};
static cairn_cache_kv env[] = {{"SEED", "42"}, {"A", "x"}};
static cairn_cache_kv env_rev[] = {{"A", "x"}, {"SEED", "42"}};
static cairn_cache_kv params[] = {{"lr", "0.1"}};
static const char *outs[] = {"model", "metrics"};
static const char *outs_rev[] = {"metrics", "model"};

static cairn_cache_key_parts base(void)
{
  cairn_cache_key_parts p = {0};

  p.command = "python3 train.py";
  p.code = code;
  p.ncode = 1;
  p.inputs = inputs;
  p.ninputs = 1;
  p.env = env;
  p.nenv = 2;
  p.params = params;
  p.nparams = 1;
  p.outputs = outs;
  p.noutputs = 2;
  p.artifact_store_id = "store-1";
  return p;
}

static void key_of(char out[65], const cairn_cache_key_parts *p)
{
  assert_int_equal(cairn_pipeline_cache_key(out, p), 0);
  assert_int_equal(strlen(out), 64);
}

static void test_known_answers(void **state)
{
  cairn_cache_key_parts p = base(), empty = {0}, small = {0};
  const char *one[] = {"out"};
  char k[65];

  (void)state;
  key_of(k, &p);
  assert_string_equal(k, "cfd5f0efb8636d70b26f718d134c9c75"
                         "5cf931c90a4e718bfcbf608595fd7647");
  empty.command = "";
  empty.artifact_store_id = "";
  key_of(k, &empty);
  assert_string_equal(k, "ced000f4fb5c6951fadbcc71b79ee028"
                         "5ace5424256f891d729ab8c551db88c7");
  small.command = "echo hi";
  small.outputs = one;
  small.noutputs = 1;
  small.artifact_store_id = "s";
  key_of(k, &small);
  assert_string_equal(k, "eab3ba5e91dead6b54fca1eb4fb28e97"
                         "4e823f6d672a50a70fd3119d6e148fab");
}

static void test_order_does_not_matter(void **state)
{
  cairn_cache_key_parts p = base(), q = base();
  char a[65], b[65];

  (void)state;
  q.env = env_rev;
  q.outputs = outs_rev;
  key_of(a, &p);
  key_of(b, &q);
  assert_string_equal(a, b);
}

static void test_each_part_changes_key(void **state)
{
  cairn_cache_key_parts p = base(), q;
  cairn_cache_kv code2[] = {{"train.py", SHA_B}};
  cairn_cache_kv code3[] = {{"other.py", SHA_A}};
  cairn_cache_kv in2[] = {{"data", SHA_A}};
  cairn_cache_kv in3[] = {{"dat", SHA_B}};
  cairn_cache_kv env2[] = {{"SEED", "43"}, {"A", "x"}};
  cairn_cache_kv prm2[] = {{"lr", "0.2"}};
  const char *outs2[] = {"model", "metric"};
  char ref[65], k[65];
  int i;

  (void)state;
  key_of(ref, &p);
  for (i = 0; i < 10; i++) {
    q = base();
    switch (i) {
    case 0: q.command = "python3 train.py "; break;
    case 1: q.code = code2; break;
    case 2: q.code = code3; break;
    case 3: q.inputs = in2; break;
    case 4: q.inputs = in3; break;
    case 5: q.env = env2; break;
    case 6: q.params = prm2; break;
    case 7: q.nparams = 0; break;
    case 8: q.outputs = outs2; break;
    case 9: q.artifact_store_id = "store-2"; break;
    }
    key_of(k, &q);
    assert_string_not_equal(k, ref);
  }
}

/* Length prefixes keep "ab"+"c" apart from "a"+"bc". */
static void test_no_ambiguity(void **state)
{
  cairn_cache_kv e1[] = {{"ab", "c"}};
  cairn_cache_kv e2[] = {{"a", "bc"}};
  cairn_cache_key_parts p = {0}, q = {0};
  char a[65], b[65];

  (void)state;
  p.command = q.command = "x";
  p.artifact_store_id = q.artifact_store_id = "s";
  p.env = e1;
  q.env = e2;
  p.nenv = q.nenv = 1;
  key_of(a, &p);
  key_of(b, &q);
  assert_string_not_equal(a, b);
}

/* A step's key follows the content of its code files. */
static void test_step_key_code_content(void **state)
{
  char dir[] = "/tmp/cairn-cache-test-XXXXXX";
  const char *yaml = "name: p\nsteps:\n  a:\n    run: sh a.sh\n"
                     "    code: [a.sh]\n    outputs: [o]\n"
                     "    env: {N: 1}\n";
  cairn_pipeline *p = NULL;
  char k1[65], k2[65], k3[65], *path;
  json_t *params;
  FILE *f;

  (void)state;
  assert_non_null(mkdtemp(dir));
  path = cairn_path_join(dir, "a.sh");
  f = fopen(path, "w");
  fputs("echo one\n", f);
  fclose(f);
  assert_int_equal(cairn_pipeline_parse(&p, yaml, strlen(yaml), "p.yaml",
                                        dir), 0);
  params = json_pack("{s:s}", "k", "v");
  assert_int_equal(cairn_pipeline_step_cache_key(k1, p, 0, NULL, params,
                                                 "s"), 0);
  assert_int_equal(cairn_pipeline_step_cache_key(k2, p, 0, NULL, params,
                                                 "s"), 0);
  assert_string_equal(k1, k2);
  f = fopen(path, "w");
  fputs("echo two\n", f);
  fclose(f);
  assert_int_equal(cairn_pipeline_step_cache_key(k3, p, 0, NULL, params,
                                                 "s"), 0);
  assert_string_not_equal(k1, k3);
  assert_int_equal(cairn_pipeline_step_cache_key(k2, p, 0, NULL, NULL,
                                                 "s"), 0);
  assert_string_not_equal(k2, k3);
  unlink(path);
  assert_int_not_equal(cairn_pipeline_step_cache_key(k2, p, 0, NULL, NULL,
                                                     "s"), 0);
  rmdir(dir);
  free(path);
  json_decref(params);
  cairn_pipeline_free(p);
}

/* The same step in another pipeline, or with its output renamed, makes
 * other artifacts: its key differs. */
static void test_step_key_artifact_names(void **state)
{
  const char *base = "steps:\n  a:\n    run: echo\n    outputs: ";
  const char *variants[] = {"name: p\n%s[o]\n", "name: q\n%s[o]\n",
                            "name: p\n%s{o: model}\n"};
  char keys[3][65], yaml[160];
  cairn_pipeline *p;
  size_t i;

  (void)state;
  for (i = 0; i < 3; i++) {
    snprintf(yaml, sizeof(yaml), variants[i], base);
    p = NULL;
    assert_int_equal(cairn_pipeline_parse(&p, yaml, strlen(yaml), "p.yaml",
                                          "/"), 0);
    assert_int_equal(cairn_pipeline_step_cache_key(keys[i], p, 0, NULL,
                                                   NULL, "s"), 0);
    cairn_pipeline_free(p);
  }
  assert_string_not_equal(keys[0], keys[1]);
  assert_string_not_equal(keys[0], keys[2]);
  assert_string_not_equal(keys[1], keys[2]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_known_answers),
    cmocka_unit_test(test_order_does_not_matter),
    cmocka_unit_test(test_each_part_changes_key),
    cmocka_unit_test(test_no_ambiguity),
    cmocka_unit_test(test_step_key_code_content),
    cmocka_unit_test(test_step_key_artifact_names),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

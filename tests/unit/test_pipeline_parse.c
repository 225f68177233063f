/*
 * Pipeline files: a good file parsed in full, and each mistake refused
 * with a message naming the step and the key.
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

static int parse(cairn_pipeline **out, const char *yaml)
{
  return cairn_pipeline_parse(out, yaml, strlen(yaml), "p.yaml", "/tmp");
}

static void test_good_file(void **state)
{
  const char *yaml =
    "name: demo\n"
    "steps:\n"
    "  load:\n"
    "    run: echo load\n"
    "    outputs: [train, test]\n"
    "  prep:\n"
    "    run: echo prep\n"
    "    outputs: {features: feats}\n"
    "  train:\n"
    "    run: echo train\n"
    "    inputs: {data: load.train, f: prep.features}\n"
    "    outputs: [model.pkl]\n"
    "    env: {SEED: 42, NAME: x, R: 0.5, B: true}\n"
    "    timeout: 30\n"
    "  evaluate:\n"
    "    run: echo eval\n"
    "    inputs: {model: train.model.pkl, test: load.test}\n";
  cairn_pipeline *p = NULL;
  const cairn_pipeline_step *t;

  (void)state;
  assert_int_equal(parse(&p, yaml), 0);
  assert_string_equal(p->name, "demo");
  assert_string_equal(p->dir, "/tmp");
  assert_int_equal(p->nsteps, 4);
  assert_int_equal(p->nlevels, 3);
  assert_string_equal(p->steps[0].outputs[0].artifact, "demo::load::train");
  assert_string_equal(p->steps[1].outputs[0].artifact, "feats");

  t = &p->steps[2];
  assert_string_equal(t->name, "train");
  assert_int_equal(t->ninputs, 2);
  assert_string_equal(t->inputs[0].name, "data");
  assert_string_equal(t->inputs[0].step, "load");
  assert_string_equal(t->inputs[0].output, "train");
  assert_int_equal(t->inputs[1].step_index, 1);
  assert_int_equal(t->ndeps, 2);
  assert_int_equal(t->timeout, 30);
  assert_int_equal(t->nenv, 4);
  assert_string_equal(t->env[0].key, "SEED");
  assert_string_equal(t->env[0].value, "42");
  assert_string_equal(t->env[2].value, "0.5");
  assert_string_equal(t->env[3].value, "true");

  /* The output name with a dot resolves against the step's outputs. */
  assert_string_equal(p->steps[3].inputs[0].step, "train");
  assert_string_equal(p->steps[3].inputs[0].output, "model.pkl");
  assert_int_equal(p->steps[3].level, 2);
  assert_int_equal(p->steps[3].ndeps, 2);

  assert_int_equal(p->order[0], 0);
  assert_int_equal(p->order[1], 1);
  assert_int_equal(p->order[2], 2);
  assert_int_equal(p->order[3], 3);
  assert_int_equal(cairn_pipeline_step_index(p, "train"), 2);
  assert_int_equal(cairn_pipeline_step_index(p, "nope"), -1);
  cairn_pipeline_free(p);
}

static void test_order_by_level(void **state)
{
  /* Declared last, used first: the order follows dependencies. */
  const char *yaml =
    "name: p\nsteps:\n"
    "  b: {run: x, inputs: {i: a.o}}\n"
    "  c: {run: x}\n"
    "  a: {run: x, outputs: [o]}\n";
  cairn_pipeline *p = NULL;

  (void)state;
  assert_int_equal(parse(&p, yaml), 0);
  assert_int_equal(p->nlevels, 2);
  assert_int_equal(p->order[0], 1);  /* c */
  assert_int_equal(p->order[1], 2);  /* a */
  assert_int_equal(p->order[2], 0);  /* b */
  assert_int_equal(p->steps[0].level, 1);
  cairn_pipeline_free(p);
}

static void test_env_name(void **state)
{
  char *n = cairn_pipeline_env_name("CAIRN_INPUT_", "my-data.csv");

  (void)state;
  assert_string_equal(n, "CAIRN_INPUT_MY_DATA_CSV");
  free(n);
}

/* Each bad file: the code and words the message must contain. */
static void expect_error(const char *yaml, const char *w1, const char *w2)
{
  cairn_pipeline *p = NULL;
  const char *msg;

  assert_int_equal(parse(&p, yaml), CAIRN_EINVAL);
  assert_null(p);
  msg = cairn_error_last()->message;
  if (!strstr(msg, w1) || (w2 && !strstr(msg, w2)))
    fail_msg("message '%s' lacks '%s' / '%s'", msg, w1, w2 ? w2 : "");
  assert_non_null(strstr(msg, "p.yaml"));
}

static void test_cycle(void **state)
{
  (void)state;
  expect_error("name: p\nsteps:\n"
               "  a: {run: x, inputs: {i: c.o}, outputs: [o]}\n"
               "  b: {run: x, inputs: {i: a.o}, outputs: [o]}\n"
               "  c: {run: x, inputs: {i: b.o}, outputs: [o]}\n"
               "  d: {run: x}\n",
               "cycle", "a -> b -> c -> a");
  expect_error("name: p\nsteps:\n"
               "  a: {run: x, inputs: {i: a.o}, outputs: [o]}\n",
               "cycle: a -> a", NULL);
}

static void test_missing_step_and_output(void **state)
{
  (void)state;
  expect_error("name: p\nsteps:\n"
               "  a: {run: x, inputs: {data: nope.o}}\n",
               "step 'a': input 'data'", "step 'nope', which does not");
  expect_error("name: p\nsteps:\n"
               "  a: {run: x, outputs: [o1, o2]}\n"
               "  b: {run: x, inputs: {data: a.zz}}\n",
               "no such output", "its outputs: o1, o2");
  expect_error("name: p\nsteps:\n"
               "  a: {run: x, inputs: {data: a}}\n",
               "step.output", NULL);
}

static void test_unknown_keys(void **state)
{
  (void)state;
  expect_error("name: p\nsteps:\n  a: {run: x, output: [o]}\n",
               "step 'a': unknown key 'output'", "valid keys: run, code");
  expect_error("name: p\nsteps:\n  a: {run: x}\n  a: {run: y}\n",
               "4:3: duplicate key 'a' in a mapping", NULL);
  expect_error("name: p\nstep:\n  a: {run: x}\n",
               "unknown key 'step'", "valid keys: name");
}

static void test_missing_run(void **state)
{
  (void)state;
  expect_error("name: p\nsteps:\n  a: {outputs: [o]}\n",
               "step 'a': missing 'run'", NULL);
  expect_error("name: p\nsteps:\n  a:\n", "step 'a' must be a mapping",
               NULL);
}

static void test_bad_outputs(void **state)
{
  (void)state;
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: model}\n",
               "step 'a': 'outputs' must be", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: [o, o]}\n",
               "output 'o' is listed twice", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: [a/b]}\n",
               "bad output name 'a/b'", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: [[1]]}\n",
               "output 1 must be a name", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: {m: art}}\n"
               "  b: {run: x, outputs: {n: art}}\n",
               "artifact name 'art' is used", "step 'b'");
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: [o-x, o_x]}\n",
               "same variable", NULL);
}

static void test_bad_names_and_values(void **state)
{
  (void)state;
  expect_error("name: 'a b'\nsteps:\n  a: {run: x}\n",
               "pipeline name 'a b' is not valid", NULL);
  expect_error("name: 123\nsteps:\n  a: {run: x}\n", "'name'",
               "quote it");
  /* Names that would leave their folder: "." and "..". */
  expect_error("name: p\nsteps:\n  '..': {run: x}\n", "bad step name '..'",
               "not starting with '.' or '-'");
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: "
               "[cairn-manifest.json]}\n", "is reserved", NULL);
  /* Azure would drop a trailing '.' from the folder's name. */
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: ['model.']}\n",
               "bad output name 'model.'", NULL);
  expect_error("name: p\nsteps:\n  '.': {run: x}\n", "bad step name '.'",
               NULL);
  expect_error("name: '..'\nsteps:\n  a: {run: x}\n", "pipeline name '..'",
               NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: ['..']}\n",
               "bad output name '..'", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, outputs: {o: '..'}}\n",
               "bad artifact name '..'", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, inputs: {'..': b.o}}\n"
               "  b: {run: x, outputs: [o]}\n", "bad input name '..'", NULL);
  expect_error("name: p\nsteps:\n  a: {run: true}\n", "'run' must be",
               "quote it");
  expect_error("name: p\nsteps:\n  a: {run: x, timeout: 0}\n",
               "from 1 to 604800", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, code: ['.']}\n",
               "is a folder", NULL);
  expect_error("steps:\n  a: {run: x}\n", "'name'", NULL);
  expect_error("name: p\nsteps:\n  'a/b': {run: x}\n", "bad step name",
               NULL);
  expect_error("name: p\nsteps: {}\n", "at least one step", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, timeout: soon}\n",
               "step 'a': 'timeout'", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, env: {K: [1]}}\n",
               "env: 'K' must be text", NULL);
  expect_error("name: p\nsteps:\n  a: {run: x, env: {CAIRN_OUTPUT_X: y}}\n",
               "'CAIRN_OUTPUT_X' is cairn's to set", NULL);
  expect_error("name: p\nsteps:\n  '-a': {run: x}\n", "bad step name",
               NULL);
  assert_false(cairn_pipeline_name_valid("-dash"));
  assert_true(cairn_pipeline_name_valid("a-dash"));
  expect_error("name: p\nsteps:\n  a: {run: x, code: [nope.py]}\n",
               "code file 'nope.py' not found", NULL);
  expect_error("- a\n", "a pipeline file is a mapping", NULL);
}

/* Nesting is bounded: a hostile file gets an error, not a crash. */
static void test_deep_nesting(void **state)
{
  size_t depth = 50000, i;
  cairn_buf b = CAIRN_BUF_INIT;

  (void)state;
  assert_int_equal(cairn_buf_puts(&b, "name: p\nsteps:\n  a:\n    run: x"
                                      "\n    env: {X: "), 0);
  for (i = 0; i < depth; i++)
    assert_int_equal(cairn_buf_putc(&b, '['), 0);
  for (i = 0; i < depth; i++)
    assert_int_equal(cairn_buf_putc(&b, ']'), 0);
  assert_int_equal(cairn_buf_puts(&b, "}\n"), 0);
  expect_error(cairn_buf_cstr(&b), "nest deeper than 64 levels", NULL);
  cairn_buf_dispose(&b);
}

static void params_refused(const char *const *kv, size_t n, const char *w)
{
  json_t *out = (json_t *)1;

  assert_int_equal(cairn_pipeline_params_parse(&out, kv, n), CAIRN_EINVAL);
  assert_null(out);
  assert_non_null(strstr(cairn_error_last()->message, w));
}

static void test_params(void **state)
{
  const char *good[] = {"lr=0.1", "run.name=a=b", "empty="};
  const char *twice[] = {"x=1", "x=2"};
  const char *clash[] = {"a-b=1", "a_b=2"};
  const char *noeq[] = {"flag"};
  const char *bad[] = {"a b=1"};
  const char *big[1];
  char *value = malloc(70000 + 3);
  json_t *out;

  (void)state;
  assert_int_equal(cairn_pipeline_params_parse(&out, good, 3), 0);
  assert_string_equal(json_string_value(json_object_get(out, "run.name")),
                      "a=b");
  assert_string_equal(json_string_value(json_object_get(out, "empty")), "");
  json_decref(out);
  params_refused(twice, 2, "given twice");
  params_refused(clash, 2, "$CAIRN_PARAM_A_B");
  params_refused(noeq, 1, "key=value");
  params_refused(bad, 1, "bad parameter name");
  assert_non_null(value);
  memcpy(value, "v=", 2);
  memset(value + 2, 'x', 70000);
  value[70002] = '\0';
  big[0] = value;
  params_refused(big, 1, "pass a file's path instead");
  free(value);
}

static void test_load_file(void **state)
{
  char dir[] = "/tmp/cairn-parse-test-XXXXXX";
  char *path, *code;
  cairn_pipeline *p = NULL;
  FILE *f;

  (void)state;
  assert_non_null(mkdtemp(dir));
  path = cairn_path_join(dir, "pipeline.yaml");
  code = cairn_path_join(dir, "s.sh");
  f = fopen(code, "w");
  fputs("echo\n", f);
  fclose(f);
  f = fopen(path, "w");
  fputs("name: p\nsteps:\n  a: {run: sh s.sh, code: s.sh}\n", f);
  fclose(f);
  assert_int_equal(cairn_pipeline_load(&p, path), 0);
  assert_string_equal(p->dir, dir);
  assert_string_equal(p->path, path);
  assert_int_equal(p->steps[0].code.count, 1);
  cairn_pipeline_free(p);
  unlink(code);
  assert_int_equal(cairn_pipeline_load(&p, path), CAIRN_EINVAL);
  unlink(path);
  assert_int_not_equal(cairn_pipeline_load(&p, path), 0);
  rmdir(dir);
  free(path);
  free(code);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_good_file),
    cmocka_unit_test(test_order_by_level),
    cmocka_unit_test(test_env_name),
    cmocka_unit_test(test_cycle),
    cmocka_unit_test(test_missing_step_and_output),
    cmocka_unit_test(test_unknown_keys),
    cmocka_unit_test(test_missing_run),
    cmocka_unit_test(test_bad_outputs),
    cmocka_unit_test(test_bad_names_and_values),
    cmocka_unit_test(test_deep_nesting),
    cmocka_unit_test(test_params),
    cmocka_unit_test(test_load_file),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

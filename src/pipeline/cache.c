/*
 * Cache keys: a SHA-256 over a canonical, length-prefixed encoding of
 * everything that decides a step's outputs.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/util.h"
#include "pipeline/pipeline.h"

static void put_field(cairn_sha256 *h, const char *tag, const char *value)
{
  char head[48];
  size_t len = value ? strlen(value) : 0;
  int n = snprintf(head, sizeof(head), "%s %zu:", tag, len);

  cairn_sha256_update(h, head, (size_t)n);
  cairn_sha256_update(h, value ? value : "", len);
  cairn_sha256_update(h, "\n", 1);
}

static int compare_kv(const void *a, const void *b)
{
  const cairn_cache_kv *x = a, *y = b;
  int c = strcmp(x->name, y->name);

  return c ? c : strcmp(x->value ? x->value : "", y->value ? y->value : "");
}

static int compare_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int put_pairs(cairn_sha256 *h, const cairn_cache_kv *items, size_t n,
                     const char *tag, const char *vtag)
{
  cairn_cache_kv *sorted;
  size_t i;

  if (n == 0)
    return 0;
  if (!(sorted = cairn__calloc(n, sizeof(*sorted))))
    return CAIRN_ENOMEM;
  memcpy(sorted, items, n * sizeof(*sorted));
  qsort(sorted, n, sizeof(*sorted), compare_kv);
  for (i = 0; i < n; i++) {
    put_field(h, tag, sorted[i].name);
    put_field(h, vtag, sorted[i].value);
  }
  free(sorted);
  return 0;
}

int cairn_pipeline_cache_key(char out[65], const cairn_cache_key_parts *parts)
{
  cairn_sha256 *h = NULL;
  const char **outs = NULL;
  unsigned char digest[CAIRN_SHA256_LEN];
  size_t i;
  int error;

  out[0] = '\0';
  if ((error = cairn_sha256_new(&h)) < 0)
    return error;
  cairn_sha256_update(h, "cairn-cache-key/1\n", 18);
  put_field(h, "cmd", parts->command);
  if ((error = put_pairs(h, parts->code, parts->ncode, "code", "sha")) < 0 ||
      (error = put_pairs(h, parts->inputs, parts->ninputs, "in", "sha")) < 0 ||
      (error = put_pairs(h, parts->env, parts->nenv, "env", "val")) < 0 ||
      (error = put_pairs(h, parts->params, parts->nparams, "param",
                         "val")) < 0)
    goto done;

  if (parts->noutputs) {
    if (!(outs = cairn__calloc(parts->noutputs, sizeof(*outs)))) {
      error = CAIRN_ENOMEM;
      goto done;
    }
    memcpy(outs, parts->outputs, parts->noutputs * sizeof(*outs));
    qsort(outs, parts->noutputs, sizeof(*outs), compare_str);
  }
  for (i = 0; i < parts->noutputs; i++)
    put_field(h, "out", outs[i]);
  put_field(h, "store", parts->artifact_store_id);

  cairn_sha256_final(h, digest);
  cairn_hex_encode(out, digest, sizeof(digest));
done:
  free(outs);
  cairn_sha256_free(h);
  return error;
}

int cairn_pipeline_step_cache_key(char out[65], const cairn_pipeline *p,
                                  size_t index,
                                  const char *const *input_sha256,
                                  const json_t *params,
                                  const char *artifact_store_id)
{
  const cairn_pipeline_step *s = &p->steps[index];
  cairn_cache_key_parts parts = {0};
  cairn_cache_kv *code = NULL, *inputs = NULL, *env = NULL, *prm = NULL;
  const char **outs = NULL;
  char (*hex)[65] = NULL;
  const char *key;
  json_t *value;
  size_t i, n = 0;
  int error = 0;

  out[0] = '\0';
  code = cairn__calloc(s->code.count + 1, sizeof(*code));
  hex = cairn__calloc(s->code.count + 1, sizeof(*hex));
  inputs = cairn__calloc(s->ninputs + 1, sizeof(*inputs));
  env = cairn__calloc(s->nenv + 1, sizeof(*env));
  prm = cairn__calloc(json_object_size(params) + 1, sizeof(*prm));
  outs = cairn__calloc(s->noutputs + 1, sizeof(*outs));
  if (!code || !hex || !inputs || !env || !prm || !outs) {
    error = CAIRN_ENOMEM;
    goto done;
  }

  for (i = 0; i < s->code.count; i++) {
    const char *rel = s->code.items[i];
    char *full = rel[0] == '/' ? cairn__strdup(rel)
                               : cairn_path_join(p->dir, rel);
    if (!full) {
      error = cairn__error_oom();
      goto done;
    }
    error = cairn_sha256_file_hex(hex[i], full);
    free(full);
    if (error < 0) {
      error = cairn__error_prefix("step '%s': code file '%s'", s->name, rel);
      goto done;
    }
    code[i].name = rel;
    code[i].value = hex[i];
  }
  for (i = 0; i < s->ninputs; i++) {
    inputs[i].name = s->inputs[i].name;
    inputs[i].value = input_sha256[i];
  }
  for (i = 0; i < s->nenv; i++) {
    env[i].name = s->env[i].key;
    env[i].value = s->env[i].value;
  }
  json_object_foreach((json_t *)params, key, value) {
    prm[n].name = key;
    prm[n++].value = json_is_string(value) ? json_string_value(value) : "";
  }
  /* An output's artifact name is part of what the step makes: a step
   * of another pipeline, or an output renamed, is not the same. */
  for (i = 0; i < s->noutputs; i++)
    if (!(outs[i] = cairn__sprintf("%s=%s", s->outputs[i].name,
                                   s->outputs[i].artifact))) {
      error = CAIRN_ENOMEM;
      goto done;
    }

  parts.command = s->run;
  parts.code = code;
  parts.ncode = s->code.count;
  parts.inputs = inputs;
  parts.ninputs = s->ninputs;
  parts.env = env;
  parts.nenv = s->nenv;
  parts.params = prm;
  parts.nparams = n;
  parts.outputs = outs;
  parts.noutputs = s->noutputs;
  parts.artifact_store_id = artifact_store_id;
  error = cairn_pipeline_cache_key(out, &parts);
done:
  free(code);
  free(hex);
  free(inputs);
  free(env);
  free(prm);
  for (i = 0; outs && i < s->noutputs; i++)
    free((char *)outs[i]);
  free(outs);
  return error;
}

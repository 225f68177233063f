/*
 * Pipeline files: YAML to a checked cairn_pipeline.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/util.h"
#include "pipeline/pipeline.h"

static const char *const top_keys[] = {"name", "description", "steps", NULL};
static const char *const step_keys[] = {"run", "code", "inputs", "outputs",
                                        "env", "timeout", "description",
                                        NULL};

#define NAME_RULE CAIRN_PIPELINE_NAME_RULE
#define valid_name cairn_pipeline_name_valid

int cairn_pipeline_name_valid(const char *s)
{
  size_t len = s ? strlen(s) : 0;

  if (!len || len > CAIRN_PIPELINE_NAME_MAX || *s == '.' || *s == '-' ||
      s[len - 1] == '.')
    return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
      return 0;
  return 1;
}

static int key_known(const char *key, const char *const *keys)
{
  for (; *keys; keys++)
    if (strcmp(key, *keys) == 0)
      return 1;
  return 0;
}

/* "a, b, c" for an error message. */
static void key_list(char *out, size_t outlen, const char *const *keys)
{
  size_t used = 0;

  out[0] = '\0';
  for (; *keys && used < outlen; keys++)
    used += (size_t)snprintf(out + used, outlen - used, "%s%s",
                             used ? ", " : "", *keys);
}

static int check_keys(const json_t *obj, const char *const *keys,
                      const char *source, const char *step)
{
  const char *key;
  json_t *value;
  char valid[160];

  json_object_foreach((json_t *)obj, key, value) {
    if (key_known(key, keys))
      continue;
    key_list(valid, sizeof(valid), keys);
    if (step)
      return cairn__error(CAIRN_EINVAL,
                          "%s: step '%s': unknown key '%s' "
                          "(valid keys: %s)", source, step, key, valid);
    return cairn__error(CAIRN_EINVAL,
                        "%s: unknown key '%s' (valid keys: %s)", source,
                        key, valid);
  }
  return 0;
}

char *cairn_pipeline_env_name(const char *prefix, const char *name)
{
  char *out = cairn__sprintf("%s%s", prefix, name);
  char *c;

  if (!out)
    return NULL;
  for (c = out + strlen(prefix); *c; c++)
    *c = isalnum((unsigned char)*c) ? (char)toupper((unsigned char)*c)
                                    : '_';
  return out;
}

int cairn_pipeline_step_index(const cairn_pipeline *p, const char *name)
{
  size_t i;

  for (i = 0; i < p->nsteps; i++)
    if (strcmp(p->steps[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* A scalar as text for env values: strings, numbers and booleans. */
static char *scalar_text(const json_t *v)
{
  if (json_is_string(v))
    return cairn__strdup(json_string_value(v));
  if (json_is_integer(v))
    return cairn__sprintf("%lld", (long long)json_integer_value(v));
  if (json_is_real(v))
    return cairn__sprintf("%.17g", json_real_value(v));
  if (json_is_boolean(v))
    return cairn__strdup(json_is_true(v) ? "true" : "false");
  return NULL;
}

static int parse_code(cairn_pipeline_step *s, const json_t *v,
                      const char *source, const char *dir)
{
  size_t i;
  json_t *item;
  struct stat st;
  char *full;
  int error;

  if (json_is_string(v)) {
    json_t *one = json_pack("[O]", v);
    error = parse_code(s, one, source, dir);
    json_decref(one);
    return error;
  }
  if (!json_is_array(v))
    return cairn__error(CAIRN_EINVAL, "%s: step '%s': 'code' must be a list "
                        "of file paths, e.g. code: [steps/train.py]",
                        source, s->name);
  json_array_foreach(v, i, item) {
    const char *rel = json_string_value(item);
    if (!rel || !*rel)
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': 'code' entry %zu "
                          "must be a file path", source, s->name, i + 1);
    full = rel[0] == '/' ? cairn__strdup(rel) : cairn_path_join(dir, rel);
    if (!full)
      return CAIRN_ENOMEM;
    if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
      error = cairn__error(CAIRN_EINVAL, "%s: step '%s': code entry '%s' "
                           "is a folder: list the files in it", source,
                           s->name, rel);
      free(full);
      return error;
    }
    if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
      error = cairn__error(CAIRN_EINVAL, "%s: step '%s': code file '%s' "
                           "not found (paths are relative to %s)", source,
                           s->name, rel, dir);
      free(full);
      return error;
    }
    free(full);
    if ((error = cairn_strlist_add(&s->code, rel)) < 0)
      return error;
  }
  return 0;
}

static int parse_inputs(cairn_pipeline_step *s, const json_t *v,
                        const char *source)
{
  const char *key;
  json_t *value;
  size_t n = 0;

  if (!json_is_object(v))
    return cairn__error(CAIRN_EINVAL, "%s: step '%s': 'inputs' must be a "
                        "mapping of input name to step.output, e.g. "
                        "inputs: {data: load.train}", source, s->name);
  s->inputs = cairn__calloc(json_object_size(v) + 1, sizeof(*s->inputs));
  if (!s->inputs)
    return CAIRN_ENOMEM;
  json_object_foreach((json_t *)v, key, value) {
    const char *ref = json_string_value(value);
    cairn_pipeline_input *in = &s->inputs[n];
    if (!valid_name(key))
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': bad input name "
                          "'%s' (use " NAME_RULE ")", source, s->name, key);
    if (!ref || !strchr(ref, '.') || ref[0] == '.')
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': input '%s' must "
                          "name another step's output as step.output",
                          source, s->name, key);
    in->name = cairn__strdup(key);
    in->step = cairn__strdup(ref);   /* split by the graph pass */
    s->ninputs = ++n;
    if (!in->name || !in->step)
      return CAIRN_ENOMEM;
  }
  return 0;
}

static int add_output(cairn_pipeline *p, cairn_pipeline_step *s,
                      const char *name, const char *artifact,
                      const char *source)
{
  cairn_pipeline_output *o = &s->outputs[s->noutputs];
  size_t i;

  if (!valid_name(name))
    return cairn__error(CAIRN_EINVAL, "%s: step '%s': bad output name "
                        "'%s' (use " NAME_RULE ")", source, s->name, name);
  if (strcmp(name, CAIRN_MANIFEST_NAME) == 0)
    return cairn__error(CAIRN_EINVAL, "%s: step '%s': the output name '%s' "
                        "is reserved for the manifest of every version; "
                        "choose another", source, s->name, name);
  if (artifact && !valid_name(artifact))
    return cairn__error(CAIRN_EINVAL, "%s: step '%s': bad artifact name "
                        "'%s' for output '%s' (use " NAME_RULE ")", source,
                        s->name, artifact, name);
  for (i = 0; i < s->noutputs; i++)
    if (strcmp(s->outputs[i].name, name) == 0)
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': output '%s' is "
                          "listed twice", source, s->name, name);
  o->name = cairn__strdup(name);
  o->artifact = artifact ? cairn__strdup(artifact)
                         : cairn__sprintf("%s::%s::%s", p->name, s->name,
                                          name);
  s->noutputs++;
  if (!o->name || !o->artifact)
    return CAIRN_ENOMEM;
  return 0;
}

static int parse_outputs(cairn_pipeline *p, cairn_pipeline_step *s,
                         const json_t *v, const char *source)
{
  size_t i;
  const char *key;
  json_t *item;
  int error;
  size_t n = json_is_array(v) ? json_array_size(v)
                              : json_is_object(v) ? json_object_size(v) : 0;

  if (!json_is_array(v) && !json_is_object(v))
    return cairn__error(CAIRN_EINVAL, "%s: step '%s': 'outputs' must be a "
                        "list of names, e.g. outputs: [model], or a mapping "
                        "of name to artifact name", source, s->name);
  s->outputs = cairn__calloc(n + 1, sizeof(*s->outputs));
  if (!s->outputs)
    return CAIRN_ENOMEM;
  if (json_is_array(v)) {
    json_array_foreach(v, i, item) {
      if (!json_is_string(item))
        return cairn__error(CAIRN_EINVAL, "%s: step '%s': output %zu must "
                            "be a name", source, s->name, i + 1);
      if ((error = add_output(p, s, json_string_value(item), NULL,
                              source)) < 0)
        return error;
    }
    return 0;
  }
  json_object_foreach((json_t *)v, key, item) {
    if (!json_is_string(item) && !json_is_null(item))
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': output '%s' must "
                          "map to an artifact name", source, s->name, key);
    if ((error = add_output(p, s, key, json_string_value(item),
                            source)) < 0)
      return error;
  }
  return 0;
}

static int parse_env(cairn_pipeline_step *s, const json_t *v,
                     const char *source)
{
  const char *key;
  json_t *value;
  size_t len;

  if (!json_is_object(v))
    return cairn__error(CAIRN_EINVAL, "%s: step '%s': 'env' must be a "
                        "mapping of variable to text, e.g. env: {SEED: "
                        "\"42\"}", source, s->name);
  s->env = cairn__calloc(json_object_size(v) + 1, sizeof(*s->env));
  if (!s->env)
    return CAIRN_ENOMEM;
  json_object_foreach((json_t *)v, key, value) {
    cairn_pipeline_kv *kv = &s->env[s->nenv];
    const char *c;
    for (c = key; *c; c++)
      if (!isalnum((unsigned char)*c) && *c != '_')
        break;
    if (!*key || *c || isdigit((unsigned char)key[0]))
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': env: bad variable "
                          "name '%s' (use letters, digits and '_')", source,
                          s->name, key);
    if (strncmp(key, "CAIRN_", 6) == 0)
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': env: '%s' is "
                          "cairn's to set (CAIRN_ variables carry the "
                          "step's inputs, outputs and metrics file): give "
                          "it another name", source, s->name, key);
    kv->value = scalar_text(value);
    if (!kv->value)
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': env: '%s' must be "
                          "text or a number", source, s->name, key);
    if ((len = strlen(kv->value)) > CAIRN_PIPELINE_VALUE_MAX) {
      free(kv->value);
      kv->value = NULL;
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': env: '%s' has %zu "
                          "bytes, more than the %d a step's environment "
                          "can take: put it in a file and pass its path",
                          source, s->name, key, len,
                          CAIRN_PIPELINE_VALUE_MAX);
    }
    kv->key = cairn__strdup(key);
    if (!kv->key) {
      free(kv->value);
      kv->value = NULL;
      return CAIRN_ENOMEM;
    }
    s->nenv++;
  }
  return 0;
}

/* Two names that give the same environment variable. */
static int check_env_clash(const cairn_pipeline_step *s, const char *source)
{
  size_t i, j;

  for (i = 0; i < s->ninputs; i++)
    for (j = i + 1; j < s->ninputs; j++) {
      char *a = cairn_pipeline_env_name("", s->inputs[i].name);
      char *b = cairn_pipeline_env_name("", s->inputs[j].name);
      int same = a && b && strcmp(a, b) == 0;
      free(a);
      free(b);
      if (same)
        return cairn__error(CAIRN_EINVAL, "%s: step '%s': inputs '%s' and "
                            "'%s' give the same variable CAIRN_INPUT_*; "
                            "rename one", source, s->name,
                            s->inputs[i].name, s->inputs[j].name);
    }
  for (i = 0; i < s->noutputs; i++)
    for (j = i + 1; j < s->noutputs; j++) {
      char *a = cairn_pipeline_env_name("", s->outputs[i].name);
      char *b = cairn_pipeline_env_name("", s->outputs[j].name);
      int same = a && b && strcmp(a, b) == 0;
      free(a);
      free(b);
      if (same)
        return cairn__error(CAIRN_EINVAL, "%s: step '%s': outputs '%s' and "
                            "'%s' give the same variable CAIRN_OUTPUT_*; "
                            "rename one", source, s->name,
                            s->outputs[i].name, s->outputs[j].name);
    }
  return 0;
}

static int parse_step(cairn_pipeline *p, cairn_pipeline_step *s,
                      const json_t *v, const char *source, const char *dir)
{
  json_t *f;
  int error;

  if (!json_is_object(v))
    return cairn__error(CAIRN_EINVAL, "%s: step '%s' must be a mapping "
                        "with at least 'run'", source, s->name);
  if ((error = check_keys(v, step_keys, source, s->name)) < 0)
    return error;

  f = json_object_get(v, "run");
  if (f && !json_is_null(f) && !json_is_string(f))
    return cairn__error(CAIRN_EINVAL, "%s: step '%s': 'run' must be the "
                        "command as text (quote it if it reads as a number "
                        "or a boolean)", source, s->name);
  if (!f || !json_is_string(f) || !*json_string_value(f))
    return cairn__error(CAIRN_EINVAL, "%s: step '%s': missing 'run' (the "
                        "command to execute, e.g. run: python3 train.py)",
                        source, s->name);
  if (!(s->run = cairn__strdup(json_string_value(f))))
    return CAIRN_ENOMEM;

  if ((f = json_object_get(v, "code")) && !json_is_null(f) &&
      (error = parse_code(s, f, source, dir)) < 0)
    return error;
  if ((f = json_object_get(v, "inputs")) && !json_is_null(f) &&
      (error = parse_inputs(s, f, source)) < 0)
    return error;
  if ((f = json_object_get(v, "outputs")) && !json_is_null(f) &&
      (error = parse_outputs(p, s, f, source)) < 0)
    return error;
  if ((f = json_object_get(v, "env")) && !json_is_null(f) &&
      (error = parse_env(s, f, source)) < 0)
    return error;

  if ((f = json_object_get(v, "timeout")) && !json_is_null(f)) {
    if (!json_is_integer(f) || json_integer_value(f) <= 0 ||
        json_integer_value(f) > 7 * 24 * 3600)
      return cairn__error(CAIRN_EINVAL, "%s: step '%s': 'timeout' must be "
                          "a whole number of seconds from 1 to 604800 (a "
                          "week), e.g. timeout: 300", source, s->name);
    s->timeout = (int)json_integer_value(f);
  }
  return check_env_clash(s, source);
}

static int check_artifact_names(const cairn_pipeline *p, const char *source)
{
  size_t a, b, i, j;

  for (a = 0; a < p->nsteps; a++)
    for (i = 0; i < p->steps[a].noutputs; i++)
      for (b = a; b < p->nsteps; b++)
        for (j = (b == a ? i + 1 : 0); j < p->steps[b].noutputs; j++)
          if (strcmp(p->steps[a].outputs[i].artifact,
                     p->steps[b].outputs[j].artifact) == 0)
            return cairn__error(CAIRN_EINVAL, "%s: artifact name '%s' is "
                                "used by output '%s' of step '%s' and output "
                                "'%s' of step '%s'; give each its own",
                                source, p->steps[a].outputs[i].artifact,
                                p->steps[a].outputs[i].name,
                                p->steps[a].name,
                                p->steps[b].outputs[j].name,
                                p->steps[b].name);
  return 0;
}

static int parse_doc(cairn_pipeline *p, const json_t *doc,
                     const char *source, const char *dir)
{
  json_t *f, *steps, *value;
  const char *key;
  int error;

  if (!json_is_object(doc))
    return cairn__error(CAIRN_EINVAL, "%s: a pipeline file is a mapping "
                        "with 'name' and 'steps'", source);
  if ((error = check_keys(doc, top_keys, source, NULL)) < 0)
    return error;

  f = json_object_get(doc, "name");
  if (json_is_string(f) && !valid_name(json_string_value(f)))
    return cairn__error(CAIRN_EINVAL, "%s: the pipeline name '%s' is not "
                        "valid: use " NAME_RULE, source,
                        json_string_value(f));
  if (!json_is_string(f))
    return cairn__error(CAIRN_EINVAL, "%s: 'name' must be the pipeline's "
                        "name as text (quote it if it reads as a number)",
                        source);
  if (!(p->name = cairn__strdup(json_string_value(f))))
    return CAIRN_ENOMEM;

  steps = json_object_get(doc, "steps");
  if (!json_is_object(steps) || json_object_size(steps) == 0)
    return cairn__error(CAIRN_EINVAL, "%s: 'steps' must be a mapping of "
                        "step name to step, with at least one step", source);
  p->steps = cairn__calloc(json_object_size(steps), sizeof(*p->steps));
  if (!p->steps)
    return CAIRN_ENOMEM;
  json_object_foreach(steps, key, value) {
    cairn_pipeline_step *s = &p->steps[p->nsteps];
    if (!valid_name(key))
      return cairn__error(CAIRN_EINVAL, "%s: bad step name '%s' (use "
                          NAME_RULE ")", source, key);
    if (!(s->name = cairn__strdup(key)))
      return CAIRN_ENOMEM;
    p->nsteps++;
    if ((error = parse_step(p, s, value, source, dir)) < 0)
      return error;
  }
  if ((error = check_artifact_names(p, source)) < 0)
    return error;
  return cairn__pipeline_order(p, source);
}

int cairn_pipeline_parse(cairn_pipeline **out, const char *text, size_t len,
                         const char *source, const char *dir)
{
  cairn_pipeline *p;
  json_t *doc = NULL;
  int error;

  *out = NULL;
  if (!source)
    source = "<pipeline>";
  if ((error = cairn_yaml_parse(&doc, text, len, source)) < 0)
    return error;
  if (!(p = cairn__calloc(1, sizeof(*p)))) {
    json_decref(doc);
    return CAIRN_ENOMEM;
  }
  p->dir = cairn_path_absolute(dir ? dir : ".");
  p->path = cairn_path_join(p->dir, cairn_path_basename(source));
  if (!p->dir || !p->path)
    error = cairn__error_oom();
  else
    error = parse_doc(p, doc, source, p->dir);
  json_decref(doc);
  if (error < 0) {
    cairn_pipeline_free(p);
    return error;
  }
  *out = p;
  return 0;
}

int cairn_pipeline_load(cairn_pipeline **out, const char *path)
{
  cairn_buf text = CAIRN_BUF_INIT;
  char *abs = NULL, *dir = NULL, *slash;
  int error;

  *out = NULL;
  if ((error = cairn_file_read(&text, path, 1 << 20)) < 0)
    return error;
  abs = cairn_path_absolute(path);
  dir = abs ? cairn__strdup(abs) : NULL;
  if (!dir) {
    error = cairn__error_oom();
    goto done;
  }
  slash = strrchr(dir, '/');
  if (slash == dir)
    slash[1] = '\0';
  else if (slash)
    *slash = '\0';
  error = cairn_pipeline_parse(out, text.ptr ? text.ptr : "", text.size,
                               path, dir);
  if (error == 0) {
    free((*out)->path);
    (*out)->path = abs;
    abs = NULL;
  }
done:
  free(abs);
  free(dir);
  cairn_buf_dispose(&text);
  return error;
}

void cairn_pipeline_free(cairn_pipeline *p)
{
  size_t i, j;

  if (!p)
    return;
  for (i = 0; i < p->nsteps; i++) {
    cairn_pipeline_step *s = &p->steps[i];
    free(s->name);
    free(s->run);
    cairn_strlist_dispose(&s->code);
    for (j = 0; j < s->ninputs; j++) {
      free(s->inputs[j].name);
      free(s->inputs[j].step);
      free(s->inputs[j].output);
    }
    free(s->inputs);
    for (j = 0; j < s->noutputs; j++) {
      free(s->outputs[j].name);
      free(s->outputs[j].artifact);
    }
    free(s->outputs);
    for (j = 0; j < s->nenv; j++) {
      free(s->env[j].key);
      free(s->env[j].value);
    }
    free(s->env);
    free(s->deps);
  }
  free(p->steps);
  free(p->order);
  free(p->name);
  free(p->path);
  free(p->dir);
  free(p);
}

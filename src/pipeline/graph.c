/*
 * Step ordering: inputs resolved to producing steps, cycles refused,
 * levels so that the steps of one level can run side by side.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "pipeline/pipeline.h"

static int output_index(const cairn_pipeline_step *s, const char *name)
{
  size_t i;

  for (i = 0; i < s->noutputs; i++)
    if (strcmp(s->outputs[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int missing_input(const cairn_pipeline *p,
                         const cairn_pipeline_step *s,
                         const cairn_pipeline_input *in, const char *source)
{
  const char *ref = in->step;
  size_t i, len;
  cairn_buf outs = CAIRN_BUF_INIT;
  int error;

  /* A step whose name is a prefix of the reference: a missing output. */
  for (i = 0; i < p->nsteps; i++) {
    const cairn_pipeline_step *t = &p->steps[i];
    size_t j;
    len = strlen(t->name);
    if (strncmp(ref, t->name, len) != 0 || ref[len] != '.')
      continue;
    for (j = 0; j < t->noutputs; j++)
      cairn_buf_printf(&outs, "%s%s", j ? ", " : "", t->outputs[j].name);
    error = cairn__error(CAIRN_EINVAL, "%s: step '%s': input '%s' names "
                         "output '%s' of step '%s', which has no such "
                         "output (its outputs: %s)", source, s->name,
                         in->name, ref + len + 1, t->name,
                         outs.size ? outs.ptr : "none");
    cairn_buf_dispose(&outs);
    return error;
  }
  len = strcspn(ref, ".");
  return cairn__error(CAIRN_EINVAL, "%s: step '%s': input '%s' names step "
                      "'%.*s', which does not exist (write step.output with "
                      "a step of this file)", source, s->name, in->name,
                      (int)len, ref);
}

static int resolve_input(const cairn_pipeline *p, cairn_pipeline_step *s,
                         cairn_pipeline_input *in, const char *source)
{
  size_t i, len;

  for (i = 0; i < p->nsteps; i++) {
    const cairn_pipeline_step *t = &p->steps[i];
    len = strlen(t->name);
    if (strncmp(in->step, t->name, len) != 0 || in->step[len] != '.' ||
        output_index(t, in->step + len + 1) < 0)
      continue;
    if (!(in->output = cairn__strdup(in->step + len + 1)))
      return CAIRN_ENOMEM;
    in->step[len] = '\0';
    in->step_index = i;
    return 0;
  }
  return missing_input(p, s, in, source);
}

static int add_dep(cairn_pipeline_step *s, size_t dep)
{
  size_t i;

  for (i = 0; i < s->ndeps; i++)
    if (s->deps[i] == dep)
      return 0;
  s->deps[s->ndeps++] = dep;
  return 0;
}

/* Name the steps of one cycle among the unordered steps. */
static int cycle_error(const cairn_pipeline *p, const int *done,
                       const char *source)
{
  size_t *path = calloc(p->nsteps + 1, sizeof(*path));
  int *onpath = calloc(p->nsteps, sizeof(*onpath));
  cairn_buf msg = CAIRN_BUF_INIT;
  size_t n = 0, cur = 0, i, start = 0, first, len;
  int error;

  if (!path || !onpath) {
    free(path);
    free(onpath);
    return cairn__error_oom();
  }
  while (cur < p->nsteps && done[cur])
    cur++;
  /* Walk dependencies among the unordered steps until one repeats. */
  while (!onpath[cur]) {
    onpath[cur] = 1;
    path[n++] = cur;
    for (i = 0; i < p->steps[cur].ndeps; i++)
      if (!done[p->steps[cur].deps[i]])
        break;
    cur = p->steps[cur].deps[i];
  }
  while (path[start] != cur)
    start++;
  first = start;
  /*
   * The walk follows dependencies; print in the direction data flows,
   * from the step that comes first in the file.
   */
  len = n - start;
  for (i = start; i < n; i++)
    if (path[i] < path[first])
      first = i;
  for (i = 0; i <= len; i++) {
    size_t k = start + (first - start + len - i % len) % len;
    cairn_buf_printf(&msg, "%s%s", i ? " -> " : "", p->steps[path[k]].name);
  }
  error = cairn__error(CAIRN_EINVAL, "%s: the steps form a cycle: %s "
                       "(a step cannot use its own outputs, directly or "
                       "through other steps)", source,
                       cairn_buf_cstr(&msg));
  cairn_buf_dispose(&msg);
  free(path);
  free(onpath);
  return error;
}

int cairn__pipeline_order(cairn_pipeline *p, const char *source)
{
  size_t i, j, n = 0;
  int *done = NULL, error = 0, level;

  for (i = 0; i < p->nsteps; i++) {
    cairn_pipeline_step *s = &p->steps[i];
    s->deps = cairn__calloc(s->ninputs + 1, sizeof(*s->deps));
    if (!s->deps)
      return CAIRN_ENOMEM;
    for (j = 0; j < s->ninputs; j++) {
      if ((error = resolve_input(p, s, &s->inputs[j], source)) < 0)
        return error;
      add_dep(s, s->inputs[j].step_index);
    }
  }

  done = cairn__calloc(p->nsteps, sizeof(*done));
  p->order = cairn__calloc(p->nsteps, sizeof(*p->order));
  if (!done || !p->order) {
    free(done);
    return CAIRN_ENOMEM;
  }

  /* Level by level: a step whose dependencies are all on earlier levels. */
  for (level = 0; n < p->nsteps; level++) {
    size_t first = n;
    for (i = 0; i < p->nsteps; i++) {
      cairn_pipeline_step *s = &p->steps[i];
      int ready = !done[i];
      for (j = 0; ready && j < s->ndeps; j++)
        ready = done[s->deps[j]];
      if (!ready)
        continue;
      s->level = level;
      p->order[n++] = i;
    }
    if (n == first) {
      error = cycle_error(p, done, source);
      break;
    }
    for (i = first; i < n; i++)
      done[p->order[i]] = 1;
  }
  p->nlevels = level;
  free(done);
  return error;
}

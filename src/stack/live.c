/*
 * Live artifact stores and stacks built from stored configurations, and
 * the one place that resolves credentials for Azure stores.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "stack/stack.h"

static const char *config_text(const cairn_component *c, const char *key)
{
  return json_string_value(json_object_get(c->config, key));
}

static unsigned config_uint(const cairn_component *c, const char *key)
{
  json_t *v = json_object_get(c->config, key);

  if (json_is_integer(v) && json_integer_value(v) > 0)
    return (unsigned)json_integer_value(v);
  return 0;
}

unsigned cairn_stack_parallelism(const cairn_component *orchestrator)
{
  unsigned n = orchestrator ? config_uint(orchestrator, "parallelism") : 0;
  long cores;

  if (n)
    return n;
  cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 0 ? (unsigned)cores : 1;
}

char *cairn_stack_store_root(cairn_store *store, const cairn_component *c)
{
  const char *path = config_text(c, "path");

  if (path && *path)
    return cairn__strdup(path);
  return cairn__sprintf("%s/local_stores/%s", cairn_store_home(store),
                        c->id);
}

void cairn_live_store_free(cairn_live_store *s)
{
  if (!s)
    return;
  cairn_fs_free(s->fs); /* before the account it borrows */
  if (s->lease)
    cairn_azure_sas_lease_free(s->lease); /* with its account */
  else
    cairn_azure_account_free(s->account);
  cairn_component_dispose(&s->component);
  free(s->root);
  free(s->credential_source);
  free(s);
}

static int copy_component(cairn_component *out, const cairn_component *c)
{
  memset(out, 0, sizeof(*out));
  out->id = cairn__strdup(c->id);
  out->name = cairn__strdup(c->name);
  out->type = cairn__strdup(c->type);
  out->flavor = cairn__strdup(c->flavor);
  out->config = c->config ? json_deep_copy(c->config) : json_object();
  out->connector_id = c->connector_id ? cairn__strdup(c->connector_id)
                                      : NULL;
  out->created = c->created;
  out->updated = c->updated;
  if (!out->id || !out->name || !out->type || !out->flavor ||
      !out->config || (c->connector_id && !out->connector_id)) {
    cairn_component_dispose(out);
    return cairn__error_oom();
  }
  return 0;
}

static uint64_t config_u64(const cairn_component *c, const char *key)
{
  json_t *v = json_object_get(c->config, key);

  if (json_is_integer(v) && json_integer_value(v) > 0)
    return (uint64_t)json_integer_value(v);
  return 0;
}

void cairn_stack_transfer_options(const cairn_component *c,
                                  cairn_azure_transfer_options *opts)
{
  memset(opts, 0, sizeof(*opts));
  opts->max_concurrency = config_uint(c, "max_concurrency");
  opts->block_size = config_u64(c, "block_size");
  opts->memory_budget = config_u64(c, "memory_budget");
  opts->content_md5 = json_is_true(json_object_get(c->config,
                                                   "content_md5"));
}

static void transfer_options(const cairn_live_store *s,
                             cairn_azure_transfer_options *opts)
{
  cairn_stack_transfer_options(&s->component, opts);
}

int cairn_live_store_fs_at(cairn_live_store *s, const char *uri,
                           cairn_fs **out, int *owned)
{
  cairn_azure_transfer_options opts;
  struct stat st;
  int error;

  *out = NULL;
  *owned = 0;
  if (cairn_fs_contains(s->fs, uri)) {
    *out = s->fs;
    return 0;
  }
  if (s->account) {
    transfer_options(s, &opts);
    error = cairn_fs_azure_new(out, uri, s->account, &opts);
  } else if (stat(uri, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return cairn__error(CAIRN_ENOTFOUND, "'%s' is missing: it was recorded "
                        "by artifact store '%s' but is not on this disk any "
                        "more", uri, s->component.name);
  } else {
    error = cairn_fs_local_new(out, uri);
  }
  if (error < 0)
    return cairn__error_prefix("artifact store '%s'", s->component.name);
  log_debug("stack", "reading '%s', outside the root '%s' of store '%s'",
            uri, s->root, s->component.name);
  *owned = 1;
  return 0;
}

static int open_azure(cairn_live_store *s, cairn_store *store)
{
  cairn_azure_transfer_options opts;
  int error;

  transfer_options(s, &opts);
  if ((error = cairn_stack_resolve_azure_account(&s->account, &s->lease,
                                                 store, &s->component)) <
      0)
    return error;
  if (!(s->credential_source =
          cairn__strdup(cairn_azure_account_source(s->account))))
    return CAIRN_ENOMEM;
  error = cairn_fs_azure_new(&s->fs, s->root, s->account, &opts);
  if (error < 0)
    return cairn__error_prefix("artifact store '%s'", s->component.name);
  return 0;
}

int cairn_live_store_open(cairn_live_store **out, cairn_store *store,
                          const cairn_component *c)
{
  cairn_live_store *s;
  int error;

  *out = NULL;
  if (strcmp(c->type, "artifact_store") != 0)
    return cairn__error(CAIRN_EINVAL, "component '%s' is not an artifact "
                        "store", c->name);
  if (!cairn_flavor_find(c->type, c->flavor))
    return cairn__error(CAIRN_EINVAL, "artifact store '%s' has flavor '%s', "
                        "which this cairn does not know", c->name,
                        c->flavor);
  if (!(s = cairn__calloc(1, sizeof(*s))))
    return CAIRN_ENOMEM;
  if ((error = copy_component(&s->component, c)) < 0)
    goto fail;
  if (!(s->root = cairn_stack_store_root(store, c))) {
    error = CAIRN_ENOMEM;
    goto fail;
  }
  if (strcmp(c->flavor, "azure") == 0) {
    error = open_azure(s, store);
  } else {
    if (!(s->credential_source = cairn__strdup("local disk")))
      error = CAIRN_ENOMEM;
    else if ((error = cairn_fs_local_new(&s->fs, s->root)) < 0)
      cairn__error_prefix("artifact store '%s'", c->name);
  }
  if (error < 0)
    goto fail;
  *out = s;
  return 0;
fail:
  cairn_live_store_free(s);
  return error;
}

void cairn_live_stack_free(cairn_live_stack *s)
{
  if (!s)
    return;
  cairn_live_store_free(s->store);
  cairn_component_dispose(&s->orchestrator);
  cairn_stack_dispose(&s->stack);
  free(s);
}

int cairn_live_stack_open(cairn_live_stack **out, cairn_store *store,
                          const char *name_or_null)
{
  cairn_component as;
  cairn_live_stack *s;
  int error;

  *out = NULL;
  if (!(s = cairn__calloc(1, sizeof(*s))))
    return CAIRN_ENOMEM;
  if (name_or_null)
    error = cairn_store_stack_get(store, &s->stack, name_or_null);
  else
    error = cairn_store_stack_active(store, &s->stack);
  if (error < 0)
    goto fail;
  if ((error = cairn_store_component_get(store, &s->orchestrator,
                                         "orchestrator",
                                         s->stack.orchestrator_id)) < 0)
    goto fail;
  if (!cairn_flavor_find("orchestrator", s->orchestrator.flavor)) {
    error = cairn__error(CAIRN_EINVAL, "orchestrator '%s' has flavor '%s', "
                         "which this cairn does not know",
                         s->orchestrator.name, s->orchestrator.flavor);
    goto fail;
  }
  if ((error = cairn_store_component_get(store, &as, "artifact_store",
                                         s->stack.artifact_store_id)) < 0)
    goto fail;
  error = cairn_live_store_open(&s->store, store, &as);
  cairn_component_dispose(&as);
  if (error < 0)
    goto fail;
  s->parallelism = cairn_stack_parallelism(&s->orchestrator);
  *out = s;
  return 0;
fail:
  cairn_live_stack_free(s);
  return error;
}

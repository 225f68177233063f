/*
 * The flavor registry: each flavor's fields, validation and
 * normalisation of a stored configuration.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/util.h"
#include "stack/stack.h"

static const char *const local_store_fields[] = {"path", NULL};
static const char *const azure_store_fields[] = {
  "path", "authentication_secret", "max_concurrency", "block_size",
  "memory_budget", "content_md5", NULL};
static const char *const local_orchestrator_fields[] = {"parallelism", NULL};

static const cairn_flavor flavors[] = {
  {"artifact_store", "local", "a folder on this machine",
   local_store_fields},
  {"artifact_store", "azure", "a container in Azure Blob Storage",
   azure_store_fields},
  {"orchestrator", "local",
   "runs steps as processes on this machine, in parallel",
   local_orchestrator_fields},
};

#define FLAVOR_COUNT (sizeof(flavors) / sizeof(flavors[0]))

size_t cairn_flavor_count(void)
{
  return FLAVOR_COUNT;
}

const cairn_flavor *cairn_flavor_at(size_t i)
{
  return i < FLAVOR_COUNT ? &flavors[i] : NULL;
}

const cairn_flavor *cairn_flavor_find(const char *type, const char *name)
{
  size_t i;

  if (!type || !name)
    return NULL;
  for (i = 0; i < FLAVOR_COUNT; i++)
    if (strcmp(flavors[i].type, type) == 0 &&
        strcmp(flavors[i].name, name) == 0)
      return &flavors[i];
  return NULL;
}

static const char *type_label(const char *type)
{
  return strcmp(type, "artifact_store") == 0 ? "artifact store" : type;
}

static int unknown_flavor(const char *type, const char *name)
{
  cairn_buf names = CAIRN_BUF_INIT;
  size_t i;
  int error;

  for (i = 0; i < FLAVOR_COUNT; i++)
    if (strcmp(flavors[i].type, type) == 0)
      cairn_buf_printf(&names, "%s%s", names.size ? ", " : "",
                       flavors[i].name);
  if (!names.size)
    error = cairn__error(CAIRN_EINVAL, "unknown component type '%s': the "
                         "types are artifact_store and orchestrator", type);
  else
    error = cairn__error(CAIRN_EINVAL, "unknown %s flavor '%s': the "
                         "flavors are %s", type_label(type),
                         name ? name : "", cairn_buf_cstr(&names));
  cairn_buf_dispose(&names);
  return error;
}

static int has_field(const cairn_flavor *f, const char *key)
{
  const char *const *p;

  for (p = f->fields; *p; p++)
    if (strcmp(*p, key) == 0)
      return 1;
  return 0;
}

static int unknown_field(const cairn_flavor *f, const char *key)
{
  cairn_buf names = CAIRN_BUF_INIT;
  const char *const *p;
  int error;

  for (p = f->fields; *p; p++)
    cairn_buf_printf(&names, "%s%s", p == f->fields ? "" : ", ", *p);
  error = cairn__error(CAIRN_EINVAL, "unknown field '%s' for the %s %s "
                       "flavor: the valid fields are %s", key, f->name,
                       type_label(f->type), cairn_buf_cstr(&names));
  cairn_buf_dispose(&names);
  return error;
}

/* Strip quotes ' " ` and spaces from both ends, as a new string. */
static char *strip_quotes(const char *s)
{
  const char *end = s + strlen(s);

  while (*s && strchr("'\"` \t", *s))
    s++;
  while (end > s && strchr("'\"` \t", end[-1]))
    end--;
  return cairn__strndup(s, (size_t)(end - s));
}

/* An integer field: a JSON integer or a string of digits, 1..max. */
static int normalise_int(json_t *config, const char *key, long long max)
{
  json_t *v = json_object_get(config, key);
  long long n;
  char *end;

  if (!v)
    return 0;
  if (json_is_integer(v)) {
    n = json_integer_value(v);
  } else if (json_is_string(v)) {
    char *text = strip_quotes(json_string_value(v));

    if (!text)
      return CAIRN_ENOMEM;
    errno = 0;
    n = strtoll(text, &end, 10);
    if (!*text || *end || errno || !isdigit((unsigned char)text[0])) {
      int error = cairn__error(CAIRN_EINVAL, "%s must be a whole number, "
                               "not '%s'", key, text);

      free(text);
      return error;
    }
    free(text);
  } else {
    return cairn__error(CAIRN_EINVAL, "%s must be a whole number", key);
  }
  if (n < 1 || n > max)
    return cairn__error(CAIRN_EINVAL, "%s must be between 1 and %lld, not "
                        "%lld", key, max, n);
  json_object_set_new(config, key, json_integer(n));
  return 0;
}

/* A size field: bytes as an integer, or text such as "8MiB", min..max. */
static int normalise_size(json_t *config, const char *key, uint64_t min,
                          uint64_t max)
{
  json_t *v = json_object_get(config, key);
  char *text, shown[32];
  uint64_t n;
  int error;

  if (!v)
    return 0;
  if (json_is_integer(v) && json_integer_value(v) >= 0) {
    n = (uint64_t)json_integer_value(v);
  } else if (json_is_string(v)) {
    if (!(text = strip_quotes(json_string_value(v))))
      return CAIRN_ENOMEM;
    error = cairn_size_parse(&n, text);
    free(text);
    if (error < 0)
      return cairn__error_prefix("%s", key);
  } else {
    return cairn__error(CAIRN_EINVAL, "%s must be a size such as 8MiB",
                        key);
  }
  if (n < min || n > max) {
    snprintf(shown, sizeof(shown), "%llu", (unsigned long long)n);
    return cairn__error(CAIRN_EINVAL, "%s must be between %llu KiB and "
                        "%llu MiB, not %s bytes", key,
                        (unsigned long long)(min >> 10),
                        (unsigned long long)(max >> 20), shown);
  }
  json_object_set_new(config, key, json_integer((json_int_t)n));
  return 0;
}

/* A yes/no field: true/false, yes/no, 1/0 in any case. */
static int normalise_bool(json_t *config, const char *key)
{
  json_t *v = json_object_get(config, key);
  const char *t;
  int b;

  if (!v || json_is_boolean(v))
    return 0;
  t = json_string_value(v);
  if (json_is_integer(v) && (json_integer_value(v) == 0 ||
                             json_integer_value(v) == 1))
    b = (int)json_integer_value(v);
  else if (t && (!strcasecmp(t, "true") || !strcasecmp(t, "yes") ||
                 !strcmp(t, "1")))
    b = 1;
  else if (t && (!strcasecmp(t, "false") || !strcasecmp(t, "no") ||
                 !strcmp(t, "0")))
    b = 0;
  else
    return cairn__error(CAIRN_EINVAL, "%s must be true or false (or yes, "
                        "no, 1, 0)", key);
  json_object_set_new(config, key, json_boolean(b));
  return 0;
}

static const char *const remote_prefixes[] = {
  "az://", "abfs://", "abfss://", "s3://", "gs://", "gcs://", "hdfs://",
  "http://", "https://", "wasb://", "wasbs://", "adl://", NULL};

static int looks_remote(const char *path)
{
  const char *const *p;

  for (p = remote_prefixes; *p; p++)
    if (strncasecmp(path, *p, strlen(*p)) == 0)
      return 1;
  return strstr(path, "://") != NULL;
}

/* "~" and "~/x" against $HOME, then absolute; a new string. */
static char *local_absolute(const char *path)
{
  const char *home = cairn_getenv("HOME");

  if (home && (strcmp(path, "~") == 0 || strncmp(path, "~/", 2) == 0))
    return cairn_path_join(home, path + 1);
  return cairn_path_absolute(path);
}

/*
 * A local store's folder must be a folder, or be one that can be made:
 * its nearest existing parent is a folder this user may write in.
 */
static int usable_folder(const char *abs)
{
  struct stat st;
  char *up = cairn__strdup(abs), *slash;
  int error = 0;

  if (!up)
    return CAIRN_ENOMEM;
  if (stat(abs, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      error = cairn__error(CAIRN_EINVAL, "'%s' exists and is not a folder: "
                           "give the path of a folder, new or existing",
                           abs);
    free(up);
    return error;
  }
  while ((slash = strrchr(up, '/')) && slash != up) {
    *slash = '\0';
    if (stat(up, &st) == 0)
      break;
  }
  if (!slash || slash == up)
    snprintf(up, strlen(abs) + 1, "/");
  if (stat(up, &st) != 0 || !S_ISDIR(st.st_mode) || access(up, W_OK) != 0)
    error = cairn__error(CAIRN_EINVAL, "cannot make the folder '%s': '%s' "
                         "is not a folder this user may write in", abs, up);
  free(up);
  return error;
}

static int validate_local_path(json_t *config, const char *path)
{
  char *abs;
  int error;

  if (!*path) {
    json_object_del(config, "path");
    return 0;
  }
  if (looks_remote(path))
    return cairn__error(CAIRN_EINVAL, "the local artifact store takes a "
                        "folder, not the remote URI '%s': register it with "
                        "-f azure for Azure Blob Storage", path);
  if (!(abs = local_absolute(path)))
    return CAIRN_ENOMEM;
  if ((error = usable_folder(abs)) == 0)
    json_object_set_new(config, "path", json_string(abs));
  free(abs);
  return error;
}

static int validate_azure_path(json_t *config, const char *path)
{
  cairn_azure_uri uri;
  int error;

  if (!*path)
    return cairn__error(CAIRN_EINVAL, "the azure artifact store needs "
                        "--path=az://CONTAINER[/PATH]");
  memset(&uri, 0, sizeof(uri));
  if ((error = cairn_azure_uri_parse(&uri, path)) < 0)
    return error;
  cairn_azure_uri_dispose(&uri);
  json_object_set_new(config, "path", json_string(path));
  return 0;
}

static int validate_path(const cairn_flavor *f, json_t *config)
{
  json_t *v = json_object_get(config, "path");
  char *path;
  int error;

  if (!v) {
    if (strcmp(f->name, "azure") == 0)
      return cairn__error(CAIRN_EINVAL, "the azure artifact store needs "
                          "--path=az://CONTAINER[/PATH]");
    return 0;
  }
  if (!json_is_string(v))
    return cairn__error(CAIRN_EINVAL, "path must be text");
  if (!(path = strip_quotes(json_string_value(v))))
    return CAIRN_ENOMEM;
  if (strcmp(f->name, "azure") == 0)
    error = validate_azure_path(config, path);
  else
    error = validate_local_path(config, path);
  free(path);
  return error;
}

int cairn_flavor_validate(const char *type, const char *flavor,
                          json_t *config)
{
  const cairn_flavor *f = cairn_flavor_find(type, flavor);
  const char *key;
  json_t *value;
  void *tmp;
  int error;

  if (!f)
    return unknown_flavor(type ? type : "", flavor);
  if (!json_is_object(config))
    return cairn__error(CAIRN_EINVAL, "a component configuration must be "
                        "an object of fields");
  json_object_foreach_safe(config, tmp, key, value) {
    if (!has_field(f, key))
      return unknown_field(f, key);
    /* An empty value clears an optional field: --authentication_secret= */
    if (strcmp(key, "path") != 0 && json_is_string(value) &&
        !*json_string_value(value))
      json_object_del(config, key);
  }
  if (has_field(f, "path") && (error = validate_path(f, config)) < 0)
    return error;
  if ((error = normalise_int(config, "parallelism", 1024)) < 0 ||
      (error = normalise_int(config, "max_concurrency",
                             CAIRN_AZURE_CONCURRENCY_MAX)) < 0 ||
      (error = normalise_size(config, "block_size", CAIRN_AZURE_BLOCK_MIN,
                              CAIRN_AZURE_BLOCK_MAX)) < 0 ||
      (error = normalise_size(config, "memory_budget",
                              CAIRN_AZURE_BUDGET_MIN,
                              CAIRN_AZURE_BUDGET_MAX)) < 0 ||
      (error = normalise_bool(config, "content_md5")) < 0)
    return error;
  return 0;
}

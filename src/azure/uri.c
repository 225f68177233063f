/*
 * Azure artifact-store URIs and container names.
 */
#include <cairn/azure.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"

#define ACCEPTED_FORMS                                                     \
  "accepted forms: az://CONTAINER[/PATH], abfs://CONTAINER[/PATH], "       \
  "abfss://CONTAINER[/PATH], each also as "                                \
  "SCHEME://CONTAINER@ACCOUNT.blob.SUFFIX[/PATH] or "                      \
  "SCHEME://CONTAINER@ACCOUNT.dfs.SUFFIX[/PATH]"

static const char *const schemes[] = {"az", "abfs", "abfss"};

/* The URI refused, shown without any query (which may hold a SAS). */
static int refuse(const char *uri, const char *why)
{
  return cairn__error(CAIRN_EINVAL, "'%.*s' %s; " ACCEPTED_FORMS,
                      (int)strcspn(uri, "?#"), uri, why);
}

int cairn_azure_container_name_check(const char *name)
{
  size_t len = strlen(name), i;

  if (strcmp(name, "$root") == 0 || strcmp(name, "$web") == 0 ||
      strcmp(name, "$logs") == 0)
    return 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];

    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return cairn__error(CAIRN_EINVAL, "container name '%s' may hold only "
                          "lowercase letters, digits and hyphens ('%c' is "
                          "not allowed)", name, isprint(c) ? c : '?');
  }
  if (len < 3 || len > 63)
    return cairn__error(CAIRN_EINVAL, "container name '%s' must be 3 to 63 "
                        "characters long (it has %zu)", name, len);
  if (name[0] == '-' || name[len - 1] == '-')
    return cairn__error(CAIRN_EINVAL, "container name '%s' must start and "
                        "end with a letter or digit", name);
  if (strstr(name, "--"))
    return cairn__error(CAIRN_EINVAL, "container name '%s' must not hold "
                        "two hyphens in a row ('--')", name);
  return 0;
}

/*
 * Normalise the path after the container: no leading or trailing '/',
 * runs of '/' collapsed; a segment ending in '.' is refused, because the
 * service would store the blob under another name.
 */
/* The longest blob name the service takes, in characters. */
#define MAX_BLOB_NAME 1024

static int normalise_path(char **out, const char *path)
{
  cairn_buf b = CAIRN_BUF_INIT;
  int error = cairn_buf_puts(&b, "");
  size_t i;

  *out = NULL;
  while (!error && *path) {
    size_t len;

    while (*path == '/')
      path++;
    len = strcspn(path, "/");
    if (len == 0)
      break;
    for (i = 0; i < len; i++)
      if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
        break;
    if (i < len) {
      error = cairn__error(CAIRN_EINVAL, "the path holds a control "
                           "character (byte 0x%02x), which blob names "
                           "cannot carry", (unsigned char)path[i]);
      break;
    }
    if (path[len - 1] == '.') {
      error = cairn__error(CAIRN_EINVAL, "path segment '%.*s' ends in '.': "
                           "Azure drops trailing dots, so the blob would be "
                           "stored under another name; rename it",
                           (int)len, path);
      break;
    }
    if (b.size)
      error = cairn_buf_putc(&b, '/');
    if (!error)
      error = cairn_buf_put(&b, path, len);
    path += len;
  }
  if (!error) {
    size_t chars = 0;

    for (i = 0; i < b.size; i++)
      chars += ((unsigned char)b.ptr[i] & 0xc0) != 0x80; /* UTF-8 */
    if (chars > MAX_BLOB_NAME)
      error = cairn__error(CAIRN_EINVAL, "the path is %zu characters "
                           "long; blob names take at most %d", chars,
                           MAX_BLOB_NAME);
  }
  if (error < 0) {
    cairn_buf_dispose(&b);
    return error;
  }
  *out = cairn_buf_detach(&b);
  return 0;
}

/*
 * Split "ACCOUNT.blob.SUFFIX" or "ACCOUNT.dfs.SUFFIX" in @p host (of
 * @p len bytes).  Returns 0 or -1 when the host has neither form.
 */
static int split_host(const char *host, size_t len, size_t *account_len,
                      const char **suffix, size_t *suffix_len)
{
  const char *dot = memchr(host, '.', len);
  const char *kind, *rest;
  size_t i;

  if (!dot || dot == host)
    return -1;
  for (i = 0; host + i < dot; i++)
    if (!isalnum((unsigned char)host[i]))
      return -1;
  kind = dot + 1;
  if ((size_t)(kind - host) + 5 <= len && strncmp(kind, "blob.", 5) == 0)
    rest = kind + 5;
  else if ((size_t)(kind - host) + 4 <= len && strncmp(kind, "dfs.", 4) == 0)
    rest = kind + 4;
  else
    return -1;
  if (rest >= host + len || *rest == '.' || host[len - 1] == '.')
    return -1;
  for (i = (size_t)(rest - host); i < len; i++)
    if (!isalnum((unsigned char)host[i]) && host[i] != '.' && host[i] != '-')
      return -1;
  *account_len = (size_t)(dot - host);
  *suffix = rest;
  *suffix_len = len - (size_t)(rest - host);
  return 0;
}

static void set_empty(char **field, int *error)
{
  if (!*field && !*error) {
    *field = cairn__strdup("");
    if (!*field)
      *error = CAIRN_ENOMEM;
  }
}

int cairn_azure_uri_parse(cairn_azure_uri *out, const char *uri)
{
  const char *sep, *auth, *slash, *at;
  size_t scheme_len, auth_len, i;
  int error = 0, known = 0;

  memset(out, 0, sizeof(*out));
  sep = strstr(uri, "://");
  if (!sep)
    return refuse(uri, "is not an Azure artifact-store URI");
  scheme_len = (size_t)(sep - uri);
  for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
    if (strlen(schemes[i]) == scheme_len &&
        strncasecmp(uri, schemes[i], scheme_len) == 0)
      known = 1;
  if (!known)
    return refuse(uri, "has a scheme cairn does not take for Azure");

  auth = sep + 3;
  slash = strchr(auth, '/');
  auth_len = slash ? (size_t)(slash - auth) : strlen(auth);
  at = memchr(auth, '@', auth_len);
  if ((at ? at : auth + auth_len) == auth)
    return refuse(uri, "names no container");

  out->scheme = cairn__strndup(uri, scheme_len);
  if (!out->scheme)
    return CAIRN_ENOMEM;
  for (i = 0; out->scheme[i]; i++)
    out->scheme[i] = (char)tolower((unsigned char)out->scheme[i]);

  if (at) {
    const char *host = at + 1, *suffix;
    size_t host_len = auth_len - (size_t)(host - auth), acct_len, suf_len;

    if (split_host(host, host_len, &acct_len, &suffix, &suf_len) < 0) {
      cairn_azure_uri_dispose(out);
      return refuse(uri, "has a host that is neither ACCOUNT.blob.SUFFIX "
                    "nor ACCOUNT.dfs.SUFFIX");
    }
    out->container = cairn__strndup(auth, (size_t)(at - auth));
    out->account = cairn__strndup(host, acct_len);
    out->suffix = cairn__strndup(suffix, suf_len);
    if (!out->container || !out->account || !out->suffix)
      error = CAIRN_ENOMEM;
  } else {
    out->container = cairn__strndup(auth, auth_len);
    if (!out->container)
      error = CAIRN_ENOMEM;
  }
  set_empty(&out->account, &error);
  set_empty(&out->suffix, &error);

  if (!error)
    error = cairn_azure_container_name_check(out->container);
  if (!error)
    error = normalise_path(&out->path, slash ? slash : "");
  if (error < 0)
    cairn_azure_uri_dispose(out);
  return error;
}

void cairn_azure_uri_dispose(cairn_azure_uri *uri)
{
  if (!uri)
    return;
  free(uri->scheme);
  free(uri->container);
  free(uri->account);
  free(uri->suffix);
  free(uri->path);
  memset(uri, 0, sizeof(*uri));
}

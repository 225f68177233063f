/*
 * The blob client: one HTTP engine per account, request signing, and
 * container operations.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure/account.h"
#include "azure/auth.h"
#include "azure/client.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"

#define DEFAULT_CONCURRENCY 16
#define DEFAULT_BLOCK (8 * CAIRN_AZURE_MIB)
#define DEFAULT_SINGLE_PUT (8 * CAIRN_AZURE_MIB)
#define MAX_BLOCK (4000 * CAIRN_AZURE_MIB) /* the service's limit */

int cairn_azure_client_new(cairn_azure_client **out,
                           const cairn_azure_account *account,
                           const cairn_azure_transfer_options *options)
{
  cairn_azure_client *c;
  cairn_http_options http = {0, 0, 0, 0};
  int error;

  *out = NULL;
  if (!account)
    return cairn__error(CAIRN_EINVAL, "no account given for the client");
  if (!(c = cairn__calloc(1, sizeof(*c))))
    return CAIRN_ENOMEM;
  c->account = account;
  if (options)
    c->opts = *options;
  if (!c->opts.max_concurrency)
    c->opts.max_concurrency = DEFAULT_CONCURRENCY;
  if (!c->opts.block_size)
    c->opts.block_size = DEFAULT_BLOCK;
  if (c->opts.block_size > MAX_BLOCK)
    c->opts.block_size = MAX_BLOCK;
  if (!c->opts.single_put_max)
    c->opts.single_put_max = DEFAULT_SINGLE_PUT;
  if (!c->opts.memory_budget)
    c->opts.memory_budget = CAIRN_AZURE_INFLIGHT_MAX;

  http.max_concurrency = c->opts.max_concurrency;
  if ((error = cairn_http_client_new(&c->http, &http)) < 0) {
    free(c);
    return error;
  }
  *out = c;
  return 0;
}

void cairn_azure_client_free(cairn_azure_client *c)
{
  if (!c)
    return;
  cairn_http_client_free(c->http);
  free(c);
}

/* Authorization: Bearer, with a token that is fresh enough. */
static int bearer(cairn_azure_client *c, cairn_http_request *req)
{
  char *token = NULL, *value;
  int error;

  if ((error = cairn__azure_tokens_get(c->account->tokens, &token, NULL,
                                       &c->token_generation)) < 0)
    return error;
  value = cairn__sprintf("Bearer %s", token);
  explicit_bzero(token, strlen(token));
  free(token);
  if (!value)
    return CAIRN_ENOMEM;
  error = cairn_http_headers_set(&req->headers, "Authorization", value);
  explicit_bzero(value, strlen(value));
  free(value);
  return error;
}

/*
 * A 401 to a bearer request: the token expired or was revoked early.
 * Drop it so that the one retry fetches another.  A 403 means the
 * identity lacks a role, which a new token would not change.
 */
static int reauth(cairn_http_request *req, void *data)
{
  cairn_azure_client *c = data;

  (void)req;
  if (cairn_azure_account_auth(c->account) != CAIRN_AZURE_AUTH_BEARER)
    return 0;
  return cairn__azure_tokens_invalidate(c->account->tokens,
                                        c->token_generation);
}

/* The prepare callback: date, version and signature for one attempt. */
static int sign(cairn_http_request *req, void *data)
{
  cairn_azure_client *c = data;
  cairn__azure_header *list;
  char date[64], *auth = NULL;
  size_t i;
  int error;

  cairn_time_rfc1123(date, sizeof(date), cairn_time_now());
  if ((error = cairn_http_headers_set(&req->headers, "x-ms-date", date)) <
          0 ||
      (error = cairn_http_headers_set(&req->headers, "x-ms-version",
                                      CAIRN_AZURE_API_VERSION)) < 0)
    return error;

  switch (cairn_azure_account_auth(c->account)) {
  case CAIRN_AZURE_AUTH_SHARED_KEY:
    break;
  case CAIRN_AZURE_AUTH_BEARER:
    return bearer(c, req);
  default:
    return 0; /* a SAS rides in the URL; anonymous needs nothing */
  }

  if (!(list = cairn__calloc(req->headers.count + 1, sizeof(*list))))
    return CAIRN_ENOMEM;
  for (i = 0; i < req->headers.count; i++) {
    list[i].name = req->headers.items[i].name;
    list[i].value = req->headers.items[i].value;
  }
  error = cairn__azure_shared_key(&auth, c->account, req->method, req->url,
                                  list, req->headers.count);
  free(list);
  if (error < 0)
    return error;
  error = cairn_http_headers_set(&req->headers, "Authorization", auth);
  free(auth);
  return error;
}

int cairn__azure_request(cairn_http_request *req, cairn_azure_client *c,
                         const char *method, const char *container,
                         const char *name, const char *query)
{
  char *url;
  int error;

  if (!(url = cairn__azure_url(c->account, container, name, query)))
    return CAIRN_ENOMEM;
  error = cairn_http_request_setup(req, method, url);
  free(url);
  if (error < 0)
    return error;
  req->idempotent = 1;
  req->prepare = sign;
  req->prepare_data = c;
  req->reauth = reauth;
  return 0;
}

int cairn__azure_send(cairn_azure_client *c, cairn_http_request *req,
                      const char *container, const char *name)
{
  cairn_http_send(c->http, req);
  if (req->result == 0 && req->status >= 200 && req->status <= 299) {
    c->last_code[0] = '\0';
    return 0;
  }
  return cairn__azure_error(c, req, container, name);
}

int cairn__azure_is_true(const char *value)
{
  return value && strcasecmp(value, "true") == 0;
}

int cairn__azure_add_md5(cairn_azure_client *c, cairn_http_request *req,
                         const void *data, size_t len)
{
  unsigned char md5[CAIRN_MD5_LEN];
  char *b64;
  int error;

  if (!c->opts.content_md5)
    return 0;
  cairn_md5_digest(md5, data, len);
  if (!(b64 = cairn_base64_encode(md5, sizeof(md5))))
    return cairn__error_oom();
  error = cairn_http_headers_set(&req->headers, "Content-MD5", b64);
  free(b64);
  return error;
}

int cairn__azure_info_from_headers(cairn_azure_blob_info *out,
                                   const cairn_http_headers *h,
                                   const char *name)
{
  const char *v;
  int64_t t;

  memset(out, 0, sizeof(*out));
  if (!(out->name = cairn__strdup(name)))
    return CAIRN_ENOMEM;
  if ((v = cairn_http_headers_get(h, "Content-Length")))
    out->size = strtoull(v, NULL, 10);
  if ((v = cairn_http_headers_get(h, "Last-Modified")) &&
      cairn_time_parse_rfc1123(&t, v) == 0)
    out->last_modified = t;
  if ((v = cairn_http_headers_get(h, "ETag")))
    snprintf(out->etag, sizeof(out->etag), "%s", v);
  out->is_dir_marker = out->size == 0 && cairn__azure_is_true(
      cairn_http_headers_get(h, "x-ms-meta-hdi_isfolder"));
  if ((v = cairn_http_headers_get(h, "x-ms-meta-cairnsha256")))
    snprintf(out->sha256, sizeof(out->sha256), "%s", v);
  return 0;
}

void cairn_azure_blob_info_dispose(cairn_azure_blob_info *info)
{
  if (!info)
    return;
  free(info->name);
  memset(info, 0, sizeof(*info));
}

/* ------------------------------------------------------------------ */
/* Containers                                                          */
/* ------------------------------------------------------------------ */

static int container_call(cairn_azure_client *c, const char *method,
                          const char *container)
{
  cairn_http_request req;
  int error;

  if ((error = cairn_azure_container_name_check(container)) < 0)
    return error;
  cairn_http_request_init(&req);
  error = cairn__azure_request(&req, c, method, container, NULL,
                               "restype=container");
  if (!error)
    error = cairn__azure_send(c, &req, container, NULL);
  cairn_http_request_dispose(&req);
  return error;
}

int cairn_azure_container_create(cairn_azure_client *c,
                                 const char *container)
{
  return container_call(c, "PUT", container);
}

int cairn_azure_container_exists(cairn_azure_client *c,
                                 const char *container)
{
  int error = container_call(c, "HEAD", container), found;

  /*
   * A container or blob SAS may not read the container's properties;
   * listing one blob answers the same question with the list right
   * such a SAS usually has.
   */
  if ((error == CAIRN_EPERM || error == CAIRN_EAUTH) &&
      cairn_azure_account_auth(c->account) == CAIRN_AZURE_AUTH_SAS) {
    log_debug("azure", "container '%s': properties refused to the SAS, "
              "listing instead", container);
    cairn_error_clear();
    error = cairn_azure_list_any(c, container, NULL, &found);
  }
  return error;
}

int cairn_azure_container_delete(cairn_azure_client *c,
                                 const char *container)
{
  return container_call(c, "DELETE", container);
}

int cairn__azure_container_recover(cairn_azure_client *c,
                                   const char *container)
{
  int error;

  log_info("azure", "container '%s' is missing: creating it", container);
  error = cairn_azure_container_create(c, container);
  if (error == 0 || error == CAIRN_EEXISTS)
    return 0;
  return cairn__error_prefix("container '%s' does not exist and could not "
                             "be created", container);
}

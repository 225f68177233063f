/*
 * Single-request blob operations: properties, put, get, delete, copy.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "azure/auth.h"
#include "azure/client.h"
#include "core/error.h"
#include "core/log.h"

#define COPY_POLLS 120     /* checks of a pending copy */
#define COPY_POLL_MS 250   /* between two checks */

int cairn_azure_blob_properties(cairn_azure_client *c, const char *container,
                                const char *name, cairn_azure_blob_info *out)
{
  cairn_http_request req;
  int error;

  memset(out, 0, sizeof(*out));
  cairn_http_request_init(&req);
  error = cairn__azure_request(&req, c, "HEAD", container, name, NULL);
  if (!error)
    error = cairn__azure_send(c, &req, container, name);
  if (!error)
    error = cairn__azure_info_from_headers(out, &req.response_headers, name);
  cairn_http_request_dispose(&req);
  return error;
}

/* The message for a create-only write that found the blob there. */
int cairn__azure_exists_error(cairn_azure_client *c, const char *container,
                              const char *name)
{
  return cairn__error(CAIRN_EEXISTS,
                      "blob '%s' exists already in container '%s' (%s): "
                      "remove it first or allow overwriting", name,
                      container, *c->last_code ? c->last_code : "exists");
}

static int put_once(cairn_azure_client *c, const char *container,
                    const char *name, const void *data, size_t len,
                    unsigned flags, const char *sha256_hex)
{
  cairn_http_request req;
  int error;

  cairn_http_request_init(&req);
  if ((error = cairn__azure_request(&req, c, "PUT", container, name,
                                    NULL)) < 0)
    goto done;
  error = cairn_http_headers_add(&req.headers, "x-ms-blob-type", "BlockBlob");
  if (!error && (flags & CAIRN_AZURE_CREATE_ONLY))
    error = cairn_http_headers_add(&req.headers, "If-None-Match", "*");
  if (!error && (flags & CAIRN_AZURE_DIR_MARKER))
    error = cairn_http_headers_add(&req.headers, "x-ms-meta-hdi_isfolder",
                                   "true");
  if (!error && sha256_hex)
    error = cairn_http_headers_add(&req.headers, "x-ms-meta-cairnsha256",
                                   sha256_hex);
  if (!error && len)
    error = cairn__azure_add_md5(c, &req, data, len);
  if (error < 0)
    goto done;
  if (len) {
    req.body.kind = CAIRN_HTTP_BODY_MEM;
    req.body.data = data;
    req.body.len = len;
  }
  error = cairn__azure_send(c, &req, container, name);
  if ((flags & CAIRN_AZURE_CREATE_ONLY) &&
      (error == CAIRN_EEXISTS || error == CAIRN_EPRECONDITION))
    error = cairn__azure_exists_error(c, container, name);

done:
  cairn_http_request_dispose(&req);
  return error;
}

int cairn__azure_put_blob(cairn_azure_client *c, const char *container,
                          const char *name, const void *data, size_t len,
                          unsigned flags, const char *sha256_hex)
{
  int error;

  error = put_once(c, container, name, data, len, flags, sha256_hex);
  if (error == CAIRN_ENOTFOUND && cairn__azure_container_missing(c)) {
    if ((error = cairn__azure_container_recover(c, container)) < 0)
      return error;
    error = put_once(c, container, name, data, len, flags, sha256_hex);
  }
  return error;
}

int cairn_azure_blob_put(cairn_azure_client *c, const char *container,
                         const char *name, const void *data, size_t len,
                         unsigned flags)
{
  return cairn__azure_put_blob(c, container, name, data, len, flags, NULL);
}

int cairn_azure_blob_get(cairn_azure_client *c, const char *container,
                         const char *name, char **out, size_t *outlen)
{
  cairn_http_request req;
  int error;

  *out = NULL;
  if (outlen)
    *outlen = 0;
  cairn_http_request_init(&req);
  error = cairn__azure_request(&req, c, "GET", container, name, NULL);
  if (!error) {
    req.sink.kind = CAIRN_HTTP_SINK_BUF;
    error = cairn__azure_send(c, &req, container, name);
  }
  if (!error) {
    if (outlen)
      *outlen = req.response.size;
    if (!(*out = cairn_buf_detach(&req.response)))
      error = CAIRN_ENOMEM;
  }
  cairn_http_request_dispose(&req);
  return error;
}

int cairn_azure_blob_delete(cairn_azure_client *c, const char *container,
                            const char *name)
{
  cairn_http_request req;
  int error;

  cairn_http_request_init(&req);
  error = cairn__azure_request(&req, c, "DELETE", container, name, NULL);
  if (!error)
    error = cairn__azure_send(c, &req, container, name);
  cairn_http_request_dispose(&req);
  return error;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  nanosleep(&ts, NULL);
}

/* Wait for a pending copy to @p dst to end. */
static int copy_wait(cairn_azure_client *c, const char *container,
                     const char *dst)
{
  cairn_http_request req;
  const char *status = "pending";
  int error = 0, i;

  cairn_http_request_init(&req);
  for (i = 0; i < COPY_POLLS; i++) {
    sleep_ms(COPY_POLL_MS);
    if ((error = cairn__azure_request(&req, c, "HEAD", container, dst,
                                      NULL)) < 0 ||
        (error = cairn__azure_send(c, &req, container, dst)) < 0)
      break;
    status = cairn_http_headers_get(&req.response_headers,
                                    "x-ms-copy-status");
    if (!status || strcasecmp(status, "pending") != 0)
      break;
  }
  if (!error && status && strcasecmp(status, "success") != 0)
    error = cairn__error(CAIRN_ERROR,
                         "the copy to blob '%s' in container '%s' did not "
                         "succeed (copy status %s)", dst, container, status);
  cairn_http_request_dispose(&req);
  return error;
}

int cairn_azure_blob_copy(cairn_azure_client *c, const char *container,
                          const char *src, const char *dst, unsigned flags)
{
  cairn_http_request req;
  const char *status;
  char *source;
  int error;

  if (!(source = cairn__azure_url(c->account, container, src, NULL)))
    return CAIRN_ENOMEM;
  cairn_http_request_init(&req);
  error = cairn__azure_request(&req, c, "PUT", container, dst, NULL);
  if (!error)
    error = cairn_http_headers_add(&req.headers, "x-ms-copy-source", source);
  if (!error && (flags & CAIRN_AZURE_CREATE_ONLY))
    error = cairn_http_headers_add(&req.headers, "If-None-Match", "*");
  if (!error)
    error = cairn__azure_send(c, &req, container, dst);

  if (error == CAIRN_ENOTFOUND && !cairn__azure_container_missing(c))
    error = cairn__error(CAIRN_ENOTFOUND,
                         "no blob '%s' in container '%s' to copy (%s)", src,
                         container, *c->last_code ? c->last_code : "404");
  else if ((flags & CAIRN_AZURE_CREATE_ONLY) &&
           (error == CAIRN_EEXISTS || error == CAIRN_EPRECONDITION))
    error = cairn__azure_exists_error(c, container, dst);
  if (!error) {
    status = cairn_http_headers_get(&req.response_headers,
                                    "x-ms-copy-status");
    if (status && strcasecmp(status, "pending") == 0)
      error = copy_wait(c, container, dst);
    else if (status && strcasecmp(status, "success") != 0)
      error = cairn__error(CAIRN_ERROR,
                           "the copy of blob '%s' to '%s' did not succeed "
                           "(copy status %s)", src, dst, status);
  }
  cairn_http_request_dispose(&req);
  free(source);
  return error;
}

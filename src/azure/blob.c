/*
 * Single-request blob operations: properties, metadata, put, get,
 * delete, copy; and deleting many blobs at once.
 *
 * Every request is safe to repeat, so the engine (and libcurl itself, on
 * a kept-alive connection that died) sends it again after a lost answer;
 * req.sends counts every time it went out.  A request sent more than
 * once may find its own work done: a create-only write or copy the blob
 * its first attempt made, a delete its blob gone.  Both count as
 * success.  A write recognises its blob by the SHA-256 it stored, a copy
 * by the source it names; a request sent once keeps its answer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "azure/auth.h"
#include "azure/client.h"
#include "azure/transfer.h"
#include "core/error.h"
#include "core/log.h"

#define COPY_POLLS 120     /* checks of a pending copy */
#define COPY_POLL_MS 250   /* between two checks */
#define NAME_MAX_CHARS 1024
#define META_MAX_BYTES 8192
#define META_NAME_MAX 256

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

int cairn_azure_blob_name_check(const char *name)
{
  const char *seg, *end;
  size_t n;

  if (!name || !*name)
    return cairn__error(CAIRN_EINVAL, "empty blob name");
  if (strlen(name) > NAME_MAX_CHARS)
    return cairn__error(CAIRN_EINVAL, "blob name '%.40s...' is longer "
                        "than the %d characters Azure allows", name,
                        NAME_MAX_CHARS);
  if (strchr(name, '\\'))
    return cairn__error(CAIRN_EINVAL, "blob name '%s' holds a '\\': Azure "
                        "reads it as '/', so the blob would be stored "
                        "under another name; rename it", name);
  for (seg = name; *seg; seg = *end ? end + 1 : end) {
    end = seg + strcspn(seg, "/");
    n = (size_t)(end - seg);
    if (n && seg[n - 1] == '.')
      return cairn__error(CAIRN_EINVAL,
                          "blob name '%s' has a part ending in '.' "
                          "('%.*s'): Azure drops a trailing dot, so the "
                          "blob would be stored under another name; "
                          "rename it", name, (int)n, seg);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                            */
/* ------------------------------------------------------------------ */

static int is_reserved(const char *name)
{
  return strcasecmp(name, "hdi_isfolder") == 0 ||
         strcasecmp(name, "cairnsha256") == 0;
}

static int meta_name_check(const char *name)
{
  const char *p;

  if (!name || !*name)
    return cairn__error(CAIRN_EINVAL, "empty metadata name");
  if (strlen(name) > META_NAME_MAX)
    return cairn__error(CAIRN_EINVAL, "metadata name '%.40s...' is too "
                        "long (at most %d characters)", name,
                        META_NAME_MAX);
  if (isdigit((unsigned char)name[0]))
    return cairn__error(CAIRN_EINVAL, "metadata name '%s' starts with a "
                        "digit; names are C identifiers (letters, digits, "
                        "'_')", name);
  for (p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_')
      return cairn__error(CAIRN_EINVAL, "metadata name '%s' holds '%c'; "
                          "names are C identifiers (letters, digits, "
                          "'_')", name, *p);
  if (is_reserved(name))
    return cairn__error(CAIRN_EINVAL, "metadata name '%s' is kept for "
                        "cairn's own use", name);
  return 0;
}

static size_t meta_bytes(const cairn_azure_metadata *md, size_t skip)
{
  size_t i, n = 0;

  for (i = 0; i < md->count; i++)
    if (i != skip)
      n += strlen(md->items[i].name) + strlen(md->items[i].value);
  return n;
}

/*
 * Fold each run of spaces and tabs to one space.  Shared Key signing
 * folds them in the string to sign, and services differ on whether the
 * stored value keeps them (Azurite signs the value as sent): a value
 * without runs signs and reads back the same everywhere.
 */
static void fold_spaces(char *v)
{
  char *o = v;
  int space = 0;

  for (; *v; v++) {
    if (*v == ' ' || *v == '\t') {
      if (!space)
        *o++ = ' ';
      space = 1;
      continue;
    }
    space = 0;
    *o++ = *v;
  }
  *o = '\0';
}

int cairn_azure_metadata_set(cairn_azure_metadata *md, const char *name,
                             const char *value)
{
  const char *v = value ? value : "", *e;
  char *n = NULL, *val = NULL;
  size_t i, at, len;
  int error;

  if ((error = meta_name_check(name)) < 0)
    return error;
  while (*v == ' ' || *v == '\t')
    v++;
  e = v + strlen(v);
  while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  len = (size_t)(e - v);
  for (i = 0; i < len; i++)
    if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
      return cairn__error(CAIRN_EINVAL, "the value of metadata '%s' holds "
                          "a character that is not printable ASCII; "
                          "encode it (for example percent-encoding)", name);

  for (at = 0; at < md->count; at++)
    if (strcasecmp(md->items[at].name, name) == 0)
      break;
  if (meta_bytes(md, at) + strlen(name) + len > META_MAX_BYTES)
    return cairn__error(CAIRN_EINVAL, "metadata '%s' would take the "
                        "metadata past the %d bytes Azure allows", name,
                        META_MAX_BYTES);
  if (!(n = cairn__strdup(name)) || !(val = cairn__strndup(v, len))) {
    free(n);
    return CAIRN_ENOMEM;
  }
  fold_spaces(val);
  if (at < md->count) {
    free(md->items[at].name);
    free(md->items[at].value);
  } else {
    if (md->count == md->alloc) {
      size_t alloc = md->alloc ? md->alloc * 2 : 8;
      cairn_azure_meta *grown = realloc(md->items, alloc * sizeof(*grown));

      if (!grown) {
        free(n);
        free(val);
        return cairn__error_oom();
      }
      md->items = grown;
      md->alloc = alloc;
    }
    md->count++;
  }
  md->items[at].name = n;
  md->items[at].value = val;
  return 0;
}

const char *cairn_azure_metadata_get(const cairn_azure_metadata *md,
                                     const char *name)
{
  size_t i;

  for (i = 0; md && name && i < md->count; i++)
    if (strcasecmp(md->items[i].name, name) == 0)
      return md->items[i].value;
  return NULL;
}

void cairn_azure_metadata_dispose(cairn_azure_metadata *md)
{
  size_t i;

  if (!md)
    return;
  for (i = 0; i < md->count; i++) {
    free(md->items[i].name);
    free(md->items[i].value);
  }
  free(md->items);
  memset(md, 0, sizeof(*md));
}

int cairn__azure_add_metadata(cairn_http_request *req,
                              const cairn_azure_metadata *md)
{
  char header[8 + META_NAME_MAX + 4];
  size_t i;
  int error;

  for (i = 0; md && i < md->count; i++) {
    snprintf(header, sizeof(header), "x-ms-meta-%s", md->items[i].name);
    if ((error = cairn_http_headers_add(&req->headers, header,
                                        md->items[i].value)) < 0)
      return error;
  }
  return 0;
}

int cairn_azure_blob_metadata(cairn_azure_client *c, const char *container,
                              const char *name, cairn_azure_metadata *out)
{
  cairn_http_request req;
  const cairn_http_header *h;
  size_t i;
  int error;

  memset(out, 0, sizeof(*out));
  cairn_http_request_init(&req);
  error = cairn__azure_request(&req, c, "HEAD", container, name, NULL);
  if (!error)
    error = cairn__azure_send(c, &req, container, name);
  for (i = 0; !error && i < req.response_headers.count; i++) {
    h = &req.response_headers.items[i];
    if (strncasecmp(h->name, "x-ms-meta-", 10) || is_reserved(h->name + 10))
      continue;
    /* what the service sends back, even if we would not write it */
    if (meta_name_check(h->name + 10) < 0) {
      cairn_error_clear();
      continue;
    }
    error = cairn_azure_metadata_set(out, h->name + 10, h->value);
  }
  if (error)
    cairn_azure_metadata_dispose(out);
  cairn_http_request_dispose(&req);
  return error;
}

/* ------------------------------------------------------------------ */
/* Single blobs                                                        */
/* ------------------------------------------------------------------ */

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

int cairn__azure_landed_earlier(cairn_azure_client *c, const char *container,
                                const char *name, const char *sha256_hex)
{
  cairn_azure_blob_info info;
  char code[sizeof(c->last_code)];
  int same;

  if (!sha256_hex || !*sha256_hex)
    return 0;
  memcpy(code, c->last_code, sizeof(code));
  same = cairn_azure_blob_properties(c, container, name, &info) == 0 &&
         strcasecmp(info.sha256, sha256_hex) == 0;
  cairn_azure_blob_info_dispose(&info);
  memcpy(c->last_code, code, sizeof(code));
  if (same)
    log_debug("azure", "blob '%s': an earlier attempt of this write "
              "landed", name);
  return same;
}

static int put_once(cairn_azure_client *c, const char *container,
                    const char *name, const void *data, size_t len,
                    unsigned flags, const char *sha256_hex,
                    const cairn_azure_metadata *md)
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
  if (!error)
    error = cairn__azure_add_metadata(&req, md);
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
      (error == CAIRN_EEXISTS || error == CAIRN_EPRECONDITION)) {
    if (req.sends > 1 &&
        cairn__azure_landed_earlier(c, container, name, sha256_hex)) {
      cairn_error_clear();
      error = 0;
    } else {
      error = cairn__azure_exists_error(c, container, name);
    }
  }

done:
  cairn_http_request_dispose(&req);
  return error;
}

int cairn__azure_put_blob_md(cairn_azure_client *c, const char *container,
                             const char *name, const void *data, size_t len,
                             unsigned flags, const char *sha256_hex,
                             const cairn_azure_metadata *md)
{
  int error;

  if ((error = cairn_azure_blob_name_check(name)) < 0)
    return error;
  error = put_once(c, container, name, data, len, flags, sha256_hex, md);
  if (error == CAIRN_ENOTFOUND && cairn__azure_container_missing(c)) {
    if ((error = cairn__azure_container_recover(c, container)) < 0)
      return error;
    error = put_once(c, container, name, data, len, flags, sha256_hex, md);
  }
  return error;
}

int cairn__azure_put_blob(cairn_azure_client *c, const char *container,
                          const char *name, const void *data, size_t len,
                          unsigned flags, const char *sha256_hex)
{
  return cairn__azure_put_blob_md(c, container, name, data, len, flags,
                                  sha256_hex, NULL);
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
  /* a repeated delete whose first attempt landed */
  if (error == CAIRN_ENOTFOUND && req.sends > 1 &&
      !cairn__azure_container_missing(c)) {
    cairn_error_clear();
    error = 0;
  }
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

/* 1 when @p a and @p b are the same URL up to their queries. */
static int same_resource(const char *a, const char *b)
{
  size_t na = strcspn(a, "?"), nb = strcspn(b, "?");

  return na == nb && strncmp(a, b, na) == 0;
}

/*
 * After a create-only copy found @p dst: 1 when @p dst is a copy of
 * @p source that succeeded, the work of an earlier attempt of this copy
 * whose answer was lost.
 */
static int copy_landed_earlier(cairn_azure_client *c, const char *container,
                               const char *dst, const char *source)
{
  cairn_http_request req;
  const char *from, *status;
  int same = 0;

  cairn_http_request_init(&req);
  if (cairn__azure_request(&req, c, "HEAD", container, dst, NULL) == 0 &&
      cairn__azure_send(c, &req, container, dst) == 0) {
    from = cairn_http_headers_get(&req.response_headers,
                                  "x-ms-copy-source");
    status = cairn_http_headers_get(&req.response_headers,
                                    "x-ms-copy-status");
    same = from && status && strcasecmp(status, "success") == 0 &&
           same_resource(from, source);
  }
  cairn_error_clear();
  cairn_http_request_dispose(&req);
  return same;
}

int cairn_azure_blob_copy(cairn_azure_client *c, const char *container,
                          const char *src, const char *dst, unsigned flags)
{
  cairn_http_request req;
  const char *status;
  char *source;
  int error;

  if ((error = cairn_azure_blob_name_check(dst)) < 0)
    return error;
  /* the source URL carries the account's SAS, if it uses one */
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
           (error == CAIRN_EEXISTS || error == CAIRN_EPRECONDITION)) {
    if (req.sends > 1 &&
        copy_landed_earlier(c, container, dst, source)) {
      free(source);
      cairn_http_request_dispose(&req);
      return 0;
    }
    error = cairn__azure_exists_error(c, container, dst);
  }
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

/* ------------------------------------------------------------------ */
/* Many deletes at once                                                */
/* ------------------------------------------------------------------ */

typedef struct delete_state delete_state;

typedef struct {
  cairn_http_request req;
  delete_state *st;
  size_t index;
  int busy;
} delete_slot;

struct delete_state {
  cairn_azure_client *c;
  const char *container;
  const char *const *names;
  size_t count;
  size_t next;
  delete_slot *slots;
  unsigned nslots;
};

static int delete_done(cairn_http_request *req, void *payload)
{
  delete_slot *s = payload;
  delete_state *st = s->st;

  s->busy = 0;
  if (req->result == CAIRN_ECANCELLED)
    return 0;
  if (req->result == 0 && req->status >= 200 && req->status <= 299)
    return 0;
  if (req->result == 0 && req->status == 404 &&
      cairn_http_headers_get(&req->response_headers, "x-ms-error-code") &&
      strcasecmp(cairn_http_headers_get(&req->response_headers,
                                        "x-ms-error-code"),
                 "BlobNotFound") == 0)
    return 0; /* gone already, perhaps by an earlier attempt */
  return cairn__azure_error(st->c, req, st->container,
                            st->names[s->index]);
}

static int delete_next(cairn_http_request **out, void *payload)
{
  delete_state *st = payload;
  delete_slot *s = NULL;
  unsigned i;
  int error;

  *out = NULL;
  if (st->next >= st->count)
    return 0;
  for (i = 0; i < st->nslots && !s; i++)
    if (!st->slots[i].busy)
      s = &st->slots[i];
  if (!s)
    return 0;
  /* a blob goes with its snapshots, or the service refuses (409) */
  if ((error = cairn__azure_request(&s->req, st->c, "DELETE", st->container,
                                    st->names[st->next], NULL)) < 0 ||
      (error = cairn_http_headers_add(&s->req.headers,
                                      "x-ms-delete-snapshots",
                                      "include")) < 0)
    return error;
  s->req.done = delete_done;
  s->req.payload = s;
  s->index = st->next++;
  s->busy = 1;
  *out = &s->req;
  return 0;
}

int cairn_azure_blob_delete_many(cairn_azure_client *c,
                                 const char *container,
                                 const char *const *names, size_t count)
{
  delete_state st;
  unsigned i;
  int error;

  if (!count)
    return 0;
  memset(&st, 0, sizeof(st));
  st.c = c;
  st.container = container;
  st.names = names;
  st.count = count;
  st.nslots = c->opts.max_concurrency;
  if (!(st.slots = cairn__calloc(st.nslots, sizeof(*st.slots))))
    return CAIRN_ENOMEM;
  for (i = 0; i < st.nslots; i++) {
    cairn_http_request_init(&st.slots[i].req);
    st.slots[i].st = &st;
  }
  error = cairn_http_run(c->http, delete_next, &st);
  for (i = 0; i < st.nslots; i++)
    cairn_http_request_dispose(&st.slots[i].req);
  free(st.slots);
  return error;
}

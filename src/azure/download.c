/*
 * Downloads with bounded memory: ranges fetched in parallel into a small
 * pool of buffers, each written in place and hashed in order, and a
 * streaming reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azure/auth.h"
#include "azure/client.h"
#include "azure/transfer.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"

/* ------------------------------------------------------------------ */
/* Download                                                            */
/* ------------------------------------------------------------------ */

typedef struct download_state download_state;

enum { SLOT_FREE = 0, SLOT_BUSY, SLOT_READY };

typedef struct {
  cairn_http_request req;
  download_state *dl;
  char *buf;
  size_t len;
  uint64_t index;
  int state;
} download_slot;

struct download_state {
  cairn_azure_client *c;
  const char *container;
  const char *name;
  const char *path;
  const char *etag;
  int fd;
  uint64_t size;
  uint64_t block;
  uint64_t count;
  uint64_t next_issue;
  uint64_t next_hash;
  download_slot *slots;
  unsigned nslots;
  cairn_sha256 *sha;
  EVP_MD_CTX *md5; /* [nullable] when the blob's MD5 is checked */
};

/* Hash the ranges that are ready, in order, freeing their buffers. */
static void hash_ready(download_state *dl)
{
  download_slot *s;

  while (dl->next_hash < dl->count) {
    s = &dl->slots[dl->next_hash % dl->nslots];
    if (s->state != SLOT_READY || s->index != dl->next_hash)
      return;
    cairn_sha256_update(dl->sha, s->buf, s->len);
    if (dl->md5)
      EVP_DigestUpdate(dl->md5, s->buf, s->len);
    s->state = SLOT_FREE;
    dl->next_hash++;
  }
}

static int download_done(cairn_http_request *req, void *payload)
{
  download_slot *s = payload;
  download_state *dl = s->dl;
  int error;

  if (req->result == CAIRN_ECANCELLED) {
    s->state = SLOT_FREE;
    return 0;
  }
  if (req->result < 0 || (req->status != 206 && req->status != 200)) {
    error = cairn__azure_error(dl->c, req, dl->container, dl->name);
    if (error == CAIRN_EPRECONDITION)
      error = cairn__error(CAIRN_EPRECONDITION,
                           "blob '%s' changed while it was being "
                           "downloaded: try again", dl->name);
    return error;
  }
  if (req->received != s->len)
    return cairn__error(CAIRN_ENET,
                        "short answer for a range of blob '%s' (%llu of "
                        "%zu bytes)", dl->name,
                        (unsigned long long)req->received, s->len);
  if ((error = cairn__azure_write_full(dl->fd, s->buf, s->len,
                                      s->index * dl->block, dl->path)) < 0)
    return error;
  cairn__azure_progress(dl->c, s->len, 0);
  s->state = SLOT_READY;
  hash_ready(dl);
  return 0;
}

static int download_next(cairn_http_request **out, void *payload)
{
  download_state *dl = payload;
  download_slot *s;
  uint64_t offset;
  char range[64];
  int error;

  *out = NULL;
  if (dl->next_issue >= dl->count ||
      dl->next_issue >= dl->next_hash + dl->nslots)
    return 0;
  s = &dl->slots[dl->next_issue % dl->nslots];
  if (s->state != SLOT_FREE)
    return 0;

  offset = dl->next_issue * dl->block;
  s->len = (size_t)(dl->size - offset < dl->block ? dl->size - offset
                                                   : dl->block);
  if (!s->buf && !(s->buf = malloc((size_t)dl->block)))
    return cairn__error_oom();
  snprintf(range, sizeof(range), "bytes=%llu-%llu",
           (unsigned long long)offset,
           (unsigned long long)(offset + s->len - 1));
  if ((error = cairn__azure_request(&s->req, dl->c, "GET", dl->container,
                                    dl->name, NULL)) < 0 ||
      (error = cairn_http_headers_add(&s->req.headers, "x-ms-range",
                                      range)) < 0)
    return error;
  if (dl->etag[0] && (error = cairn_http_headers_add(&s->req.headers,
                                                     "If-Match",
                                                     dl->etag)) < 0)
    return error;
  s->req.sink.kind = CAIRN_HTTP_SINK_MEM;
  s->req.sink.data = s->buf;
  s->req.sink.cap = s->len;
  s->req.done = download_done;
  s->req.payload = s;
  s->index = dl->next_issue++;
  s->state = SLOT_BUSY;
  *out = &s->req;
  return 0;
}

static int download_ranges(download_state *dl)
{
  unsigned i;
  int error;

  dl->block = dl->c->opts.block_size;
  dl->count = (dl->size + dl->block - 1) / dl->block;
  dl->nslots = cairn__azure_pool_size(dl->c, dl->block);
  if (!(dl->slots = cairn__calloc(dl->nslots, sizeof(*dl->slots))))
    return CAIRN_ENOMEM;
  for (i = 0; i < dl->nslots; i++) {
    cairn_http_request_init(&dl->slots[i].req);
    dl->slots[i].dl = dl;
  }
  error = cairn_http_run(dl->c->http, download_next, dl);
  if (!error && dl->next_hash != dl->count)
    error = cairn__error(CAIRN_ERROR, "download of blob '%s' stopped "
                         "early", dl->name);
  for (i = 0; i < dl->nslots; i++) {
    cairn_http_request_dispose(&dl->slots[i].req);
    free(dl->slots[i].buf);
  }
  free(dl->slots);
  return error;
}

/*
 * HEAD a blob: its properties and its stored Content-MD5 (base64 into
 * @p md5, "" when none).
 */
static int head_blob(cairn_azure_client *c, const char *container,
                     const char *name, cairn_azure_blob_info *info,
                     char md5[64])
{
  cairn_http_request req;
  const char *v;
  int error;

  memset(info, 0, sizeof(*info));
  md5[0] = '\0';
  cairn_http_request_init(&req);
  error = cairn__azure_request(&req, c, "HEAD", container, name, NULL);
  if (!error)
    error = cairn__azure_send(c, &req, container, name);
  if (!error)
    error = cairn__azure_info_from_headers(info, &req.response_headers,
                                           name);
  if (!error && (v = cairn_http_headers_get(&req.response_headers,
                                            "Content-MD5")))
    snprintf(md5, 64, "%s", v);
  cairn_http_request_dispose(&req);
  return error;
}

/*
 * Check what was read against what the blob records: its cairnsha256,
 * else (a blob another tool wrote) its Content-MD5.  A blob with
 * neither is taken as read, with a note in the log.
 */
static int verify_download(download_state *dl,
                           const cairn_azure_blob_info *info,
                           const char *md5_stored, const char *hex)
{
  char *md5;
  int same;

  if (info->sha256[0]) {
    if (strcasecmp(hex, info->sha256) == 0)
      return 0;
    return cairn__error(CAIRN_EINTEGRITY,
                        "blob '%s' in container '%s' does not match its "
                        "SHA-256 (stored %s, read %s): the data is damaged",
                        dl->name, dl->container, info->sha256, hex);
  }
  if (!dl->md5) {
    log_debug("azure", "blob '%s' records no checksum: not verified",
              dl->name);
    return 0;
  }
  if (!(md5 = cairn__azure_md5_b64(dl->md5)))
    return CAIRN_ENOMEM;
  same = strcmp(md5, md5_stored) == 0;
  free(md5);
  if (same)
    return 0;
  return cairn__error(CAIRN_EINTEGRITY,
                      "blob '%s' in container '%s' does not match its "
                      "Content-MD5 (stored %s): the data is damaged",
                      dl->name, dl->container, md5_stored);
}

int cairn_azure_blob_download_file(cairn_azure_client *c,
                                   const char *container, const char *name,
                                   const char *local_path,
                                   char sha256_hex[65])
{
  download_state dl;
  cairn_azure_blob_info info;
  char hex[65], md5_stored[64];
  int error;

  memset(&dl, 0, sizeof(dl));
  dl.fd = -1;
  if ((error = head_blob(c, container, name, &info, md5_stored)) < 0)
    return error;
  dl.c = c;
  dl.container = container;
  dl.name = name;
  dl.path = local_path;
  dl.etag = info.etag;
  dl.size = info.size;
  dl.fd = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (dl.fd < 0) {
    error = cairn__error_errno("cannot create", local_path);
    goto done;
  }
  if ((error = cairn_sha256_new(&dl.sha)) < 0)
    goto done;
  if (!info.sha256[0] && md5_stored[0] &&
      !(dl.md5 = cairn__azure_md5_new())) {
    error = CAIRN_ERROR;
    goto done;
  }
  if (dl.size && ftruncate(dl.fd, (off_t)dl.size) < 0) {
    error = cairn__error_errno("cannot size", local_path);
    goto done;
  }
  /* an empty blob is never asked for a range (the service answers 416) */
  if (dl.size && (error = download_ranges(&dl)) < 0)
    goto done;
  cairn__azure_sha_hex(dl.sha, hex);
  if ((error = verify_download(&dl, &info, md5_stored, hex)) < 0)
    goto done;
  if (sha256_hex)
    memcpy(sha256_hex, hex, sizeof(hex));
  cairn__azure_progress(c, 0, 1);

done:
  cairn_sha256_free(dl.sha);
  EVP_MD_CTX_free(dl.md5);
  if (dl.fd >= 0 && close(dl.fd) < 0 && !error)
    error = cairn__error_errno("cannot write", local_path);
  if (error && dl.fd >= 0)
    unlink(local_path);
  cairn_azure_blob_info_dispose(&info);
  return error;
}

/* ------------------------------------------------------------------ */
/* Streaming reader                                                    */
/* ------------------------------------------------------------------ */

struct cairn_azure_reader {
  cairn_azure_client *c;
  char *container;
  char *name;
  cairn_azure_blob_info info;
  uint64_t pos; /* next byte to fetch */
  char *buf;
  size_t cap, len, off;
  cairn_http_request req;
};

int cairn_azure_reader_open(cairn_azure_reader **out,
                            cairn_azure_client *c, const char *container,
                            const char *name)
{
  cairn_azure_reader *r;
  int error;

  *out = NULL;
  if (!(r = cairn__calloc(1, sizeof(*r))))
    return CAIRN_ENOMEM;
  r->c = c;
  cairn_http_request_init(&r->req);
  if (!(r->container = cairn__strdup(container)) ||
      !(r->name = cairn__strdup(name))) {
    cairn_azure_reader_close(r);
    return CAIRN_ENOMEM;
  }
  if ((error = cairn_azure_blob_properties(c, container, name,
                                           &r->info)) < 0) {
    cairn_azure_reader_close(r);
    return error;
  }
  r->cap = (size_t)(r->info.size < c->opts.block_size ? r->info.size
                                                      : c->opts.block_size);
  *out = r;
  return 0;
}

static int reader_fill(cairn_azure_reader *r)
{
  char range[64];
  size_t len;
  int error;

  if (!r->buf && !(r->buf = malloc(r->cap ? r->cap : 1)))
    return cairn__error_oom();
  len = (size_t)(r->info.size - r->pos < r->cap ? r->info.size - r->pos
                                                 : r->cap);
  snprintf(range, sizeof(range), "bytes=%llu-%llu",
           (unsigned long long)r->pos,
           (unsigned long long)(r->pos + len - 1));
  if ((error = cairn__azure_request(&r->req, r->c, "GET", r->container,
                                    r->name, NULL)) < 0 ||
      (error = cairn_http_headers_add(&r->req.headers, "x-ms-range",
                                      range)) < 0 ||
      (r->info.etag[0] &&
       (error = cairn_http_headers_add(&r->req.headers, "If-Match",
                                       r->info.etag)) < 0))
    return error;
  r->req.sink.kind = CAIRN_HTTP_SINK_MEM;
  r->req.sink.data = r->buf;
  r->req.sink.cap = len;
  if ((error = cairn__azure_send(r->c, &r->req, r->container,
                                 r->name)) < 0) {
    if (error == CAIRN_EPRECONDITION)
      error = cairn__error(CAIRN_EPRECONDITION,
                           "blob '%s' changed while it was being read",
                           r->name);
    return error;
  }
  if (r->req.received != len)
    return cairn__error(CAIRN_ENET, "short answer reading blob '%s'",
                        r->name);
  r->pos += len;
  r->len = len;
  r->off = 0;
  return 0;
}

int cairn_azure_reader_read(cairn_azure_reader *r, void *buf, size_t len,
                            size_t *nread)
{
  size_t n;
  int error;

  *nread = 0;
  if (r->off == r->len) {
    if (r->pos >= r->info.size || !len)
      return 0;
    if ((error = reader_fill(r)) < 0)
      return error;
  }
  n = r->len - r->off < len ? r->len - r->off : len;
  memcpy(buf, r->buf + r->off, n);
  r->off += n;
  *nread = n;
  return 0;
}

void cairn_azure_reader_close(cairn_azure_reader *r)
{
  if (!r)
    return;
  cairn_http_request_dispose(&r->req);
  cairn_azure_blob_info_dispose(&r->info);
  free(r->container);
  free(r->name);
  free(r->buf);
  free(r);
}


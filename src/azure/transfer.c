/*
 * Large transfers with bounded memory.
 *
 * Uploads read the file block by block into a small pool of buffers,
 * hash each block as it is read, and send the blocks in parallel; a Put
 * Block List commits them.  Downloads fetch ranges in parallel into the
 * pool, write each in place, and hash them in order.  The pool holds at
 * most CAIRN_AZURE_INFLIGHT_MAX bytes (fewer buffers for bigger blocks).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azure/client.h"
#include "azure/auth.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"

/* ------------------------------------------------------------------ */
/* Shared pieces                                                       */
/* ------------------------------------------------------------------ */

/* Buffers to keep in flight for blocks of @p block bytes. */
static unsigned pool_size(const cairn_azure_client *c, uint64_t block)
{
  uint64_t n = CAIRN_AZURE_INFLIGHT_MAX / block;

  if (n < 1)
    n = 1;
  if (n > c->opts.max_concurrency)
    n = c->opts.max_concurrency;
  return (unsigned)n;
}

/* Block size for @p size bytes: the configured one, or more to stay
 * within the service's block count. */
static uint64_t block_for(const cairn_azure_client *c, uint64_t size)
{
  uint64_t need = (size + CAIRN_AZURE_MAX_BLOCKS - 1) / CAIRN_AZURE_MAX_BLOCKS;

  return need > c->opts.block_size ? need : c->opts.block_size;
}

/* The id of block @p index, base64 of a fixed-width text (free()). */
static char *block_id(uint64_t index)
{
  char raw[32];

  snprintf(raw, sizeof(raw), "cairnblock%08llu", (unsigned long long)index);
  return cairn_base64_encode(raw, strlen(raw));
}

/* Set @p req up as Put Block @p index with @p len bytes from @p data. */
static int block_request(cairn_http_request *req, cairn_azure_client *c,
                         const char *container, const char *name,
                         uint64_t index, const void *data, size_t len)
{
  char *id, *enc, *query;
  int error;

  if (!(id = block_id(index)))
    return cairn__error_oom();
  enc = cairn__azure_encode_query(id);
  free(id);
  if (!enc)
    return CAIRN_ENOMEM;
  query = cairn__sprintf("comp=block&blockid=%s", enc);
  free(enc);
  if (!query)
    return CAIRN_ENOMEM;
  error = cairn__azure_request(req, c, "PUT", container, name, query);
  free(query);
  if (error < 0)
    return error;
  req->body.kind = CAIRN_HTTP_BODY_MEM;
  req->body.data = data;
  req->body.len = len;
  return cairn__azure_add_md5(c, req, data, len);
}

/* Put Block List of blocks 0..count-1. */
static int commit_blocks(cairn_azure_client *c, const char *container,
                         const char *name, uint64_t count, unsigned flags,
                         const char *sha256_hex)
{
  cairn_http_request req;
  cairn_buf body = CAIRN_BUF_INIT;
  uint64_t i;
  char *id;
  int error;

  error = cairn_buf_puts(&body, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                                "<BlockList>");
  for (i = 0; !error && i < count; i++) {
    if (!(id = block_id(i)))
      error = cairn__error_oom();
    else
      error = cairn_buf_printf(&body, "<Latest>%s</Latest>", id);
    free(id);
  }
  if (!error)
    error = cairn_buf_puts(&body, "</BlockList>");
  if (error < 0) {
    cairn_buf_dispose(&body);
    return error;
  }

  cairn_http_request_init(&req);
  error = cairn__azure_request(&req, c, "PUT", container, name,
                               "comp=blocklist");
  if (!error)
    error = cairn_http_headers_add(&req.headers, "Content-Type",
                                   "application/xml");
  if (!error && sha256_hex)
    error = cairn_http_headers_add(&req.headers, "x-ms-meta-cairnsha256",
                                   sha256_hex);
  if (!error && (flags & CAIRN_AZURE_CREATE_ONLY))
    error = cairn_http_headers_add(&req.headers, "If-None-Match", "*");
  if (!error && (flags & CAIRN_AZURE_DIR_MARKER))
    error = cairn_http_headers_add(&req.headers, "x-ms-meta-hdi_isfolder",
                                   "true");
  if (!error)
    error = cairn__azure_add_md5(c, &req, body.ptr, body.size);
  if (!error) {
    req.body.kind = CAIRN_HTTP_BODY_MEM;
    req.body.data = body.ptr;
    req.body.len = body.size;
    error = cairn__azure_send(c, &req, container, name);
  }
  if ((flags & CAIRN_AZURE_CREATE_ONLY) &&
      (error == CAIRN_EEXISTS || error == CAIRN_EPRECONDITION))
    error = cairn__azure_exists_error(c, container, name);
  cairn_http_request_dispose(&req);
  cairn_buf_dispose(&body);
  return error;
}

/* With CAIRN_AZURE_CREATE_ONLY: refuse before sending any data. */
static int check_absent(cairn_azure_client *c, const char *container,
                        const char *name)
{
  cairn_azure_blob_info info;
  int error;

  error = cairn_azure_blob_properties(c, container, name, &info);
  cairn_azure_blob_info_dispose(&info);
  if (error == 0) {
    snprintf(c->last_code, sizeof(c->last_code), "BlobAlreadyExists");
    return cairn__azure_exists_error(c, container, name);
  }
  if (error == CAIRN_ENOTFOUND)
    return 0;
  return error;
}

static int read_full(int fd, char *buf, size_t len, uint64_t offset,
                     const char *path)
{
  size_t done = 0;
  ssize_t n;

  while (done < len) {
    n = pread(fd, buf + done, len - done, (off_t)(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cairn__error_errno("cannot read", path);
    if (n == 0)
      return cairn__error(CAIRN_EIO, "'%s' became shorter while being "
                          "uploaded", path);
    done += (size_t)n;
  }
  return 0;
}

static int write_full(int fd, const char *buf, size_t len, uint64_t offset,
                      const char *path)
{
  size_t done = 0;
  ssize_t n;

  while (done < len) {
    n = pwrite(fd, buf + done, len - done, (off_t)(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return cairn__error_errno("cannot write", path);
    done += (size_t)n;
  }
  return 0;
}

static void sha_hex(cairn_sha256 *h, char out[65])
{
  unsigned char digest[CAIRN_SHA256_LEN];

  cairn_sha256_final(h, digest);
  cairn_hex_encode(out, digest, sizeof(digest));
}

/* ------------------------------------------------------------------ */
/* Upload                                                              */
/* ------------------------------------------------------------------ */

typedef struct upload_state upload_state;

typedef struct {
  cairn_http_request req;
  upload_state *up;
  char *buf;
  int busy;
} upload_slot;

struct upload_state {
  cairn_azure_client *c;
  const char *container;
  const char *name;
  const char *path;
  int fd;
  uint64_t size;
  uint64_t block;
  uint64_t count; /* blocks in all */
  uint64_t next;  /* next block to read */
  upload_slot *slots;
  unsigned nslots;
  cairn_sha256 *sha;
};

static int upload_done(cairn_http_request *req, void *payload)
{
  upload_slot *s = payload;

  s->busy = 0;
  if (req->result == CAIRN_ECANCELLED)
    return 0;
  if (req->result < 0 || req->status != 201)
    return cairn__azure_error(s->up->c, req, s->up->container,
                              s->up->name);
  return 0;
}

static int upload_next(cairn_http_request **out, void *payload)
{
  upload_state *up = payload;
  upload_slot *s = NULL;
  uint64_t offset;
  size_t len;
  unsigned i;
  int error;

  *out = NULL;
  if (up->next >= up->count)
    return 0;
  for (i = 0; i < up->nslots && !s; i++)
    if (!up->slots[i].busy)
      s = &up->slots[i];
  if (!s)
    return 0;

  offset = up->next * up->block;
  len = (size_t)(up->size - offset < up->block ? up->size - offset
                                                : up->block);
  if (!s->buf && !(s->buf = malloc((size_t)up->block)))
    return cairn__error_oom();
  if ((error = read_full(up->fd, s->buf, len, offset, up->path)) < 0)
    return error;
  cairn_sha256_update(up->sha, s->buf, len);
  if ((error = block_request(&s->req, up->c, up->container, up->name,
                             up->next, s->buf, len)) < 0)
    return error;
  s->req.done = upload_done;
  s->req.payload = s;
  s->busy = 1;
  up->next++;
  *out = &s->req;
  return 0;
}

static int upload_blocks(upload_state *up, unsigned flags, char hex[65])
{
  int error;

  up->next = 0;
  cairn_sha256_reset(up->sha);
  if ((error = cairn_http_run(up->c->http, upload_next, up)) < 0)
    return error;
  sha_hex(up->sha, hex);
  return commit_blocks(up->c, up->container, up->name, up->count, flags,
                       hex);
}

static int upload_large(upload_state *up, unsigned flags, char hex[65])
{
  unsigned i;
  int error;

  up->block = block_for(up->c, up->size);
  up->count = (up->size + up->block - 1) / up->block;
  up->nslots = pool_size(up->c, up->block);
  if (!(up->slots = cairn__calloc(up->nslots, sizeof(*up->slots))))
    return CAIRN_ENOMEM;
  for (i = 0; i < up->nslots; i++) {
    cairn_http_request_init(&up->slots[i].req);
    up->slots[i].up = up;
  }
  log_debug("azure", "uploading '%s': %llu blocks of %llu bytes, %u at once",
            up->name, (unsigned long long)up->count,
            (unsigned long long)up->block, up->nslots);

  error = upload_blocks(up, flags, hex);
  if (error == CAIRN_ENOTFOUND && cairn__azure_container_missing(up->c)) {
    if ((error = cairn__azure_container_recover(up->c, up->container)) == 0)
      error = upload_blocks(up, flags, hex);
  }
  for (i = 0; i < up->nslots; i++) {
    cairn_http_request_dispose(&up->slots[i].req);
    free(up->slots[i].buf);
  }
  free(up->slots);
  return error;
}

static int upload_small(upload_state *up, unsigned flags, char hex[65])
{
  char *data = NULL;
  int error;

  if (up->size && !(data = malloc((size_t)up->size)))
    return cairn__error_oom();
  error = read_full(up->fd, data, (size_t)up->size, 0, up->path);
  if (!error) {
    cairn_sha256_update(up->sha, data, (size_t)up->size);
    sha_hex(up->sha, hex);
    error = cairn__azure_put_blob(up->c, up->container, up->name, data,
                                  (size_t)up->size, flags, hex);
  }
  free(data);
  return error;
}

int cairn_azure_blob_upload_file(cairn_azure_client *c, const char *container,
                                 const char *name, const char *local_path,
                                 unsigned flags, char sha256_hex[65])
{
  upload_state up;
  struct stat stbuf;
  char hex[65] = "";
  uint64_t single_max = c->opts.single_put_max;
  int error;

  memset(&up, 0, sizeof(up));
  up.c = c;
  up.container = container;
  up.name = name;
  up.path = local_path;
  if ((up.fd = open(local_path, O_RDONLY | O_CLOEXEC)) < 0)
    return cairn__error_errno("cannot open", local_path);
  if (fstat(up.fd, &stbuf) < 0) {
    error = cairn__error_errno("cannot read", local_path);
    goto done;
  }
  if (!S_ISREG(stbuf.st_mode)) {
    error = cairn__error(CAIRN_EINVAL, "'%s' is not a regular file",
                         local_path);
    goto done;
  }
  up.size = (uint64_t)stbuf.st_size;
  if ((error = cairn_sha256_new(&up.sha)) < 0)
    goto done;
  if (single_max > CAIRN_AZURE_INFLIGHT_MAX)
    single_max = CAIRN_AZURE_INFLIGHT_MAX;

  if (up.size <= single_max) {
    error = upload_small(&up, flags, hex);
  } else {
    if ((flags & CAIRN_AZURE_CREATE_ONLY) &&
        (error = check_absent(c, container, name)) < 0)
      goto done;
    error = upload_large(&up, flags, hex);
  }
  if (!error && sha256_hex)
    memcpy(sha256_hex, hex, sizeof(hex));

done:
  cairn_sha256_free(up.sha);
  close(up.fd);
  return error;
}

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
  if ((error = write_full(dl->fd, s->buf, s->len, s->index * dl->block,
                          dl->path)) < 0)
    return error;
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
  dl->nslots = pool_size(dl->c, dl->block);
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

int cairn_azure_blob_download_file(cairn_azure_client *c,
                                   const char *container, const char *name,
                                   const char *local_path,
                                   char sha256_hex[65])
{
  download_state dl;
  cairn_azure_blob_info info;
  char hex[65];
  int error;

  memset(&dl, 0, sizeof(dl));
  if ((error = cairn_azure_blob_properties(c, container, name, &info)) < 0)
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
  if (dl.size && ftruncate(dl.fd, (off_t)dl.size) < 0) {
    error = cairn__error_errno("cannot size", local_path);
    goto done;
  }
  if (dl.size && (error = download_ranges(&dl)) < 0)
    goto done;
  sha_hex(dl.sha, hex);
  if (info.sha256[0] && strcasecmp(hex, info.sha256) != 0) {
    error = cairn__error(CAIRN_EINTEGRITY,
                         "blob '%s' in container '%s' does not match its "
                         "SHA-256 (stored %s, read %s): the data is damaged",
                         name, container, info.sha256, hex);
    goto done;
  }
  if (sha256_hex)
    memcpy(sha256_hex, hex, sizeof(hex));

done:
  cairn_sha256_free(dl.sha);
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

/* ------------------------------------------------------------------ */
/* Streaming writer                                                    */
/* ------------------------------------------------------------------ */

struct cairn_azure_writer {
  cairn_azure_client *c;
  char *container;
  char *name;
  unsigned flags;
  uint64_t block;
  uint64_t blocks; /* blocks sent */
  char *buf;
  size_t len, alloc;
  cairn_sha256 *sha;
  cairn_http_request req;
};

int cairn_azure_writer_open(cairn_azure_writer **out,
                            cairn_azure_client *c, const char *container,
                            const char *name, unsigned flags)
{
  cairn_azure_writer *w;
  int error;

  *out = NULL;
  if (!(w = cairn__calloc(1, sizeof(*w))))
    return CAIRN_ENOMEM;
  w->c = c;
  w->flags = flags;
  w->block = c->opts.block_size;
  cairn_http_request_init(&w->req);
  if (!(w->container = cairn__strdup(container)) ||
      !(w->name = cairn__strdup(name)) ||
      (error = cairn_sha256_new(&w->sha)) < 0) {
    cairn_azure_writer_abort(w);
    return CAIRN_ENOMEM;
  }
  if ((flags & CAIRN_AZURE_CREATE_ONLY) &&
      (error = check_absent(c, container, name)) < 0) {
    cairn_azure_writer_abort(w);
    return error;
  }
  *out = w;
  return 0;
}

static int writer_put_block(cairn_azure_writer *w)
{
  int error;

  error = block_request(&w->req, w->c, w->container, w->name, w->blocks,
                        w->buf, w->len);
  if (!error)
    error = cairn__azure_send(w->c, &w->req, w->container, w->name);
  if (error == CAIRN_ENOTFOUND && w->blocks == 0 &&
      cairn__azure_container_missing(w->c)) {
    if ((error = cairn__azure_container_recover(w->c, w->container)) == 0)
      error = cairn__azure_send(w->c, &w->req, w->container, w->name);
  }
  if (error < 0)
    return error;
  w->blocks++;
  w->len = 0;
  return 0;
}

int cairn_azure_writer_write(cairn_azure_writer *w, const void *data,
                             size_t len)
{
  const char *p = data;
  size_t room, n, want;
  char *grown;
  int error;

  while (len) {
    if (w->len == w->block && (error = writer_put_block(w)) < 0)
      return error;
    room = (size_t)w->block - w->len;
    n = len < room ? len : room;
    if (w->len + n > w->alloc) {
      /* grow towards one block, so small blobs stay small */
      want = w->alloc ? w->alloc * 2 : 64 * 1024;
      while (want < w->len + n)
        want *= 2;
      if (want > w->block)
        want = (size_t)w->block;
      if (!(grown = realloc(w->buf, want)))
        return cairn__error_oom();
      w->buf = grown;
      w->alloc = want;
    }
    memcpy(w->buf + w->len, p, n);
    cairn_sha256_update(w->sha, p, n);
    w->len += n;
    p += n;
    len -= n;
  }
  return 0;
}

int cairn_azure_writer_close(cairn_azure_writer *w)
{
  char hex[65];
  int error = 0;

  if (!w)
    return cairn__error(CAIRN_EINVAL, "no writer to close");
  sha_hex(w->sha, hex);
  if (!w->blocks) {
    error = cairn__azure_put_blob(w->c, w->container, w->name, w->buf,
                                  w->len, w->flags, hex);
  } else {
    if (w->len)
      error = writer_put_block(w);
    if (!error)
      error = commit_blocks(w->c, w->container, w->name, w->blocks,
                            w->flags, hex);
  }
  cairn_azure_writer_abort(w);
  return error;
}

void cairn_azure_writer_abort(cairn_azure_writer *w)
{
  if (!w)
    return;
  cairn_http_request_dispose(&w->req);
  cairn_sha256_free(w->sha);
  free(w->container);
  free(w->name);
  free(w->buf);
  free(w);
}

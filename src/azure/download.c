/*
 * Downloads with bounded memory: ranges fetched in parallel into a small
 * pool of buffers, each written in place and hashed in order, and a
 * streaming reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
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

/* Bytes the hashing thread reads back at a time: small enough to stay in
 * the processor's cache between the read and the hash. */
#define HASH_CHUNK (256 * 1024)

typedef struct {
  cairn_http_request req;
  download_state *dl;
  uint64_t index;
  int busy;
} download_slot;

/*
 * Ranges are fetched in parallel and written in place by the transport
 * as they arrive (each piece goes to the file while it is still in the
 * processor's cache).  A thread of its own reads the file back in order,
 * as far as the ranges are complete, and hashes it, so that the event
 * loop never waits for the hash.
 */
struct download_state {
  cairn_azure_client *c;
  const char *container;
  const char *name;
  const char *path;
  const char *etag;
  int fd;
  uint64_t size;
  uint64_t *ends; /* where each range ends; range i starts at ends[i-1] */
  uint64_t count;
  uint64_t next_issue;
  download_slot *slots;
  unsigned nslots;
  cairn_sha256 *sha;
  EVP_MD_CTX *md5; /* [nullable] when the blob's MD5 is checked */

  pthread_t hasher;
  pthread_mutex_t lock;
  pthread_cond_t ready;
  unsigned char *done; /* per range, under lock */
  uint64_t complete;   /* ranges complete from the start, under lock */
  uint64_t hashed;     /* bytes hashed, by the hasher */
  int stop;            /* under lock */
  int hash_error;      /* errno of a failed read back */
};

/* Where range @p i starts; the size of the blob past the last. */
static uint64_t range_start(const download_state *dl, uint64_t i)
{
  return i == 0 ? 0 : dl->ends[i - 1];
}

uint64_t *cairn__azure_plan_ranges(uint64_t size, uint64_t block,
                                   unsigned concurrency, uint64_t *count)
{
  uint64_t conc = concurrency ? concurrency : 1, full, len, off;
  uint64_t *ends, *grown;
  size_t n, cap = 64;

  full = size / (2 * conc);
  if (full < block)
    full = block;
  if (full > CAIRN_AZURE_MAX_RANGE)
    full = CAIRN_AZURE_MAX_RANGE;
  if (!(ends = malloc(cap * sizeof(*ends))))
    return NULL;
  for (n = 0, off = 0; off < size; n++, off += len) {
    len = n < conc && size > full ? full * (n + 1) / conc : full;
    if (len < CAIRN_AZURE_MIN_RANGE)
      len = CAIRN_AZURE_MIN_RANGE;
    if (len > size - off)
      len = size - off;
    if (n == cap) {
      cap *= 2;
      if (!(grown = realloc(ends, cap * sizeof(*grown)))) {
        free(ends);
        return NULL;
      }
      ends = grown;
    }
    ends[n] = off + len;
  }
  *count = n;
  return ends;
}

static void *hash_thread(void *arg)
{
  download_state *dl = arg;
  char *buf = malloc(HASH_CHUNK);
  uint64_t upto;
  ssize_t n;

  if (!buf) {
    dl->hash_error = ENOMEM;
    return NULL;
  }
  for (;;) {
    pthread_mutex_lock(&dl->lock);
    while (range_start(dl, dl->complete) <= dl->hashed && !dl->stop)
      pthread_cond_wait(&dl->ready, &dl->lock);
    upto = range_start(dl, dl->complete);
    pthread_mutex_unlock(&dl->lock);
    if (dl->hashed >= upto)
      break; /* stopped, with nothing more complete */
    while (dl->hashed < upto) {
      size_t want = upto - dl->hashed < HASH_CHUNK
                        ? (size_t)(upto - dl->hashed) : HASH_CHUNK;

      n = pread(dl->fd, buf, want, (off_t)dl->hashed);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        dl->hash_error = n < 0 ? errno : EIO;
        free(buf);
        return NULL;
      }
      cairn_sha256_update(dl->sha, buf, (size_t)n);
      if (dl->md5)
        EVP_DigestUpdate(dl->md5, buf, (size_t)n);
      dl->hashed += (uint64_t)n;
    }
    if (dl->hashed >= dl->size)
      break;
  }
  free(buf);
  return NULL;
}

static int download_done(cairn_http_request *req, void *payload)
{
  download_slot *s = payload;
  download_state *dl = s->dl;
  uint64_t len;
  int error;

  s->busy = 0;
  if (req->result == CAIRN_ECANCELLED)
    return 0;
  if (req->sink_errno) {
    errno = req->sink_errno;
    return cairn__error_errno("cannot write", dl->path);
  }
  if (req->result < 0 || (req->status != 206 && req->status != 200)) {
    error = cairn__azure_error(dl->c, req, dl->container, dl->name);
    if (error == CAIRN_EPRECONDITION)
      error = cairn__error(CAIRN_EPRECONDITION,
                           "blob '%s' changed while it was being "
                           "downloaded: try again", dl->name);
    return error;
  }
  len = dl->ends[s->index] - range_start(dl, s->index);
  if (req->received != len)
    return cairn__error(CAIRN_ENET,
                        "short answer for a range of blob '%s' (%llu of "
                        "%llu bytes)", dl->name,
                        (unsigned long long)req->received,
                        (unsigned long long)len);
  cairn__azure_progress(dl->c, len, 0);
  pthread_mutex_lock(&dl->lock);
  dl->done[s->index] = 1;
  while (dl->complete < dl->count && dl->done[dl->complete])
    dl->complete++;
  pthread_cond_signal(&dl->ready);
  pthread_mutex_unlock(&dl->lock);
  return 0;
}

static int download_next(cairn_http_request **out, void *payload)
{
  download_state *dl = payload;
  download_slot *s = NULL;
  uint64_t offset, len;
  char range[64];
  unsigned i;
  int error;

  *out = NULL;
  if (dl->next_issue >= dl->count)
    return 0;
  for (i = 0; i < dl->nslots && !s; i++)
    if (!dl->slots[i].busy)
      s = &dl->slots[i];
  if (!s)
    return 0;
  offset = range_start(dl, dl->next_issue);
  len = dl->ends[dl->next_issue] - offset;
  snprintf(range, sizeof(range), "bytes=%llu-%llu",
           (unsigned long long)offset,
           (unsigned long long)(offset + len - 1));
  if ((error = cairn__azure_request(&s->req, dl->c, "GET", dl->container,
                                    dl->name, NULL)) < 0 ||
      (error = cairn_http_headers_add(&s->req.headers, "x-ms-range",
                                      range)) < 0)
    return error;
  if (dl->etag[0] && (error = cairn_http_headers_add(&s->req.headers,
                                                     "If-Match",
                                                     dl->etag)) < 0)
    return error;
  s->req.sink.kind = CAIRN_HTTP_SINK_FD;
  s->req.sink.fd = dl->fd;
  s->req.sink.offset = offset;
  s->req.done = download_done;
  s->req.payload = s;
  s->index = dl->next_issue++;
  s->busy = 1;
  *out = &s->req;
  return 0;
}

static int download_ranges(download_state *dl)
{
  unsigned i;
  int error;

  if (!(dl->ends = cairn__azure_plan_ranges(dl->size,
                                            dl->c->opts.block_size,
                                            dl->c->opts.max_concurrency,
                                            &dl->count)))
    return cairn__error_oom();
  dl->nslots = dl->c->opts.max_concurrency;
  if (dl->nslots > dl->count)
    dl->nslots = (unsigned)dl->count;
  if (!(dl->slots = cairn__calloc(dl->nslots, sizeof(*dl->slots))) ||
      !(dl->done = cairn__calloc(dl->count, 1))) {
    free(dl->slots);
    free(dl->ends);
    return CAIRN_ENOMEM;
  }
  for (i = 0; i < dl->nslots; i++) {
    cairn_http_request_init(&dl->slots[i].req);
    dl->slots[i].dl = dl;
  }
  pthread_mutex_init(&dl->lock, NULL);
  pthread_cond_init(&dl->ready, NULL);
  if (pthread_create(&dl->hasher, NULL, hash_thread, dl) != 0) {
    error = cairn__error(CAIRN_ERROR, "cannot start a thread to hash "
                         "blob '%s'", dl->name);
  } else {
    error = cairn_http_run(dl->c->http, download_next, dl);
    /* no more ranges come: the hasher ends at the last or at a gap */
    pthread_mutex_lock(&dl->lock);
    dl->stop = 1;
    pthread_cond_signal(&dl->ready);
    pthread_mutex_unlock(&dl->lock);
    pthread_join(dl->hasher, NULL);
  }
  if (!error && dl->hash_error) {
    errno = dl->hash_error;
    error = cairn__error_errno("cannot read back", dl->path);
  }
  if (!error && dl->hashed != dl->size)
    error = cairn__error(CAIRN_ERROR, "download of blob '%s' stopped "
                         "early", dl->name);
  pthread_cond_destroy(&dl->ready);
  pthread_mutex_destroy(&dl->lock);
  for (i = 0; i < dl->nslots; i++)
    cairn_http_request_dispose(&dl->slots[i].req);
  free(dl->slots);
  free(dl->done);
  free(dl->ends);
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
  dl.fd = open(local_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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


/* ------------------------------------------------------------------ */
/* Many blobs                                                          */
/* ------------------------------------------------------------------ */

typedef struct many_state many_state;

typedef struct {
  cairn_http_request req;
  many_state *st;
  size_t job;
  int busy;
} many_slot;

struct many_state {
  cairn_azure_client *c;
  const char *container;
  cairn_azure_download_job *jobs;
  size_t count;
  size_t next;
  uint64_t first;   /* bytes asked for in the one request of a blob */
  many_slot *slots;
  unsigned nslots;
  size_t *later;    /* blobs larger than that, fetched in ranges after */
  size_t nlater;
};

static int many_fail(many_state *st, size_t job, int error)
{
  cairn__error_prefix("cannot read blob '%s' into '%s'",
                      st->jobs[job].name, st->jobs[job].local_path);
  return error;
}

/* The blob's whole size from a ranged answer, or -1. */
static int64_t total_size(const cairn_http_request *req)
{
  const char *v = cairn_http_headers_get(&req->response_headers,
                                         "Content-Range");
  const char *slash = v ? strrchr(v, '/') : NULL;

  if (slash && slash[1] != '*')
    return strtoll(slash + 1, NULL, 10);
  if (req->status == 200 &&
      (v = cairn_http_headers_get(&req->response_headers,
                                  "Content-Length")))
    return strtoll(v, NULL, 10);
  return -1;
}

/* Check a whole blob read in one answer, and write it to its file. */
static int many_store(many_state *st, size_t job,
                      const cairn_http_request *req)
{
  cairn_azure_download_job *j = &st->jobs[job];
  const char *data = req->response.ptr ? req->response.ptr : "";
  size_t len = req->status == 416 ? 0 : req->response.size;
  const char *want, *md5_want;
  unsigned char digest[CAIRN_SHA256_LEN], md5[CAIRN_MD5_LEN];
  char *md5_got;
  int fd, error;

  cairn_sha256_digest(digest, data, len);
  cairn_hex_encode(j->sha256, digest, sizeof(digest));
  want = cairn_http_headers_get(&req->response_headers,
                                "x-ms-meta-cairnsha256");
  md5_want = cairn_http_headers_get(&req->response_headers,
                                    "x-ms-blob-content-md5");
  if (want && strcasecmp(want, j->sha256) != 0)
    return cairn__error(CAIRN_EINTEGRITY, "blob '%s' in container '%s' "
                        "does not match its SHA-256 (stored %s, read %s): "
                        "the data is damaged", j->name, st->container, want,
                        j->sha256);
  if (!want && md5_want) {
    cairn_md5_digest(md5, data, len);
    if (!(md5_got = cairn_base64_encode(md5, sizeof(md5))))
      return cairn__error_oom();
    error = strcmp(md5_got, md5_want) != 0;
    free(md5_got);
    if (error)
      return cairn__error(CAIRN_EINTEGRITY, "blob '%s' in container '%s' "
                          "does not match its Content-MD5 (stored %s): the "
                          "data is damaged", j->name, st->container,
                          md5_want);
  }
  fd = open(j->local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return cairn__error_errno("cannot create", j->local_path);
  error = cairn__azure_write_full(fd, data, len, 0, j->local_path);
  if (close(fd) < 0 && !error)
    error = cairn__error_errno("cannot write", j->local_path);
  if (error < 0) {
    unlink(j->local_path);
    return error;
  }
  j->size = len;
  cairn__azure_progress(st->c, len, 1);
  return 0;
}

static int many_done(cairn_http_request *req, void *payload)
{
  many_slot *s = payload;
  many_state *st = s->st;
  int64_t total;
  int error;

  s->busy = 0;
  if (req->result == CAIRN_ECANCELLED)
    return 0;
  /* an empty blob has no range to give: 416 with "bytes * /0" */
  if (req->result == 0 && req->status == 416 && total_size(req) == 0)
    return (error = many_store(st, s->job, req)) < 0
               ? many_fail(st, s->job, error) : 0;
  if (req->result < 0 || (req->status != 200 && req->status != 206))
    return many_fail(st, s->job,
                     cairn__azure_error(st->c, req, st->container,
                                        st->jobs[s->job].name));
  total = total_size(req);
  if (total < 0 || (uint64_t)total != req->response.size) {
    /* larger than one answer: read in ranges once the others are done */
    st->later[st->nlater++] = s->job;
    cairn_buf_clear(&req->response);
    return 0;
  }
  error = many_store(st, s->job, req);
  cairn_buf_clear(&req->response);
  return error < 0 ? many_fail(st, s->job, error) : 0;
}

static int many_next(cairn_http_request **out, void *payload)
{
  many_state *st = payload;
  many_slot *s = NULL;
  char range[64];
  unsigned i;
  size_t job;
  int error;

  *out = NULL;
  for (i = 0; i < st->nslots && !s; i++)
    if (!st->slots[i].busy)
      s = &st->slots[i];
  if (!s || st->next >= st->count)
    return 0;
  job = st->next;
  snprintf(range, sizeof(range), "bytes=0-%llu",
           (unsigned long long)(st->first - 1));
  if ((error = cairn__azure_request(&s->req, st->c, "GET", st->container,
                                    st->jobs[job].name, NULL)) < 0 ||
      (error = cairn_http_headers_set(&s->req.headers, "x-ms-range",
                                      range)) < 0)
    return many_fail(st, job, error);
  s->req.sink.kind = CAIRN_HTTP_SINK_BUF;
  s->req.done = many_done;
  s->req.payload = s;
  s->job = job;
  s->busy = 1;
  st->next++;
  *out = &s->req;
  return 0;
}

int cairn_azure_blob_download_many(cairn_azure_client *c,
                                   const char *container,
                                   cairn_azure_download_job *jobs,
                                   size_t count)
{
  many_state st;
  struct stat sb;
  unsigned i;
  size_t k;
  int error;

  memset(&st, 0, sizeof(st));
  if (!count)
    return 0;
  st.c = c;
  st.container = container;
  st.jobs = jobs;
  st.count = count;
  st.nslots = c->opts.max_concurrency;
  /* one request a blob, its answer within the memory budget */
  st.first = c->opts.memory_budget / st.nslots;
  if (st.first > c->opts.block_size)
    st.first = c->opts.block_size;
  if (st.first < 64 * 1024)
    st.first = 64 * 1024;
  if (!(st.slots = cairn__calloc(st.nslots, sizeof(*st.slots))) ||
      !(st.later = cairn__calloc(count, sizeof(*st.later)))) {
    free(st.slots);
    return CAIRN_ENOMEM;
  }
  for (i = 0; i < st.nslots; i++) {
    cairn_http_request_init(&st.slots[i].req);
    st.slots[i].st = &st;
  }
  error = cairn_http_run(c->http, many_next, &st);
  for (i = 0; i < st.nslots; i++)
    cairn_http_request_dispose(&st.slots[i].req);
  for (k = 0; !error && k < st.nlater; k++) {
    cairn_azure_download_job *j = &jobs[st.later[k]];

    if ((error = cairn_azure_blob_download_file(c, container, j->name,
                                                j->local_path,
                                                j->sha256)) < 0)
      error = many_fail(&st, st.later[k], error);
    else if (stat(j->local_path, &sb) == 0)
      j->size = (uint64_t)sb.st_size;
  }
  free(st.later);
  free(st.slots);
  return error;
}

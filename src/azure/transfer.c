/*
 * Large transfers with bounded memory.
 *
 * Uploads read the file block by block into a small pool of buffers,
 * hash each block as it is read, and send the blocks in parallel; a Put
 * Block List commits them with the whole file's MD5 and SHA-256.
 * Downloads are in download.c.  The pool holds at most the client's
 * memory budget (fewer buffers for bigger blocks).
 * Streams of unknown length go through a writer whose blocks grow so
 * that the service's 50,000 blocks hold the largest size allowed.  Many
 * small files go as one Put Blob each, in parallel on one client.
 */
#include <errno.h>
#include <expat.h>
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
/* Shared pieces                                                       */
/* ------------------------------------------------------------------ */

uint64_t cairn__azure_block_size(uint64_t configured, uint64_t size)
{
  uint64_t need = size / CAIRN_AZURE_MAX_BLOCKS +
                  (size % CAIRN_AZURE_MAX_BLOCKS ? 1 : 0);
  uint64_t block = need > configured ? need : configured;

  if (!block)
    block = 1;
  if (need > CAIRN_AZURE_MAX_BLOCK)
    return 0;
  return block > CAIRN_AZURE_MAX_BLOCK ? CAIRN_AZURE_MAX_BLOCK : block;
}

uint64_t cairn__azure_stream_block(uint64_t configured, uint64_t max_size,
                                   uint64_t index)
{
  const uint64_t small = CAIRN_AZURE_STREAM_SMALL_BLOCKS;
  const uint64_t rest = CAIRN_AZURE_MAX_BLOCKS - small;
  uint64_t held, big;

  if (!configured)
    configured = 1;
  if (configured > CAIRN_AZURE_MAX_BLOCK)
    configured = CAIRN_AZURE_MAX_BLOCK;
  if (max_size > CAIRN_AZURE_MAX_BLOB || index >= CAIRN_AZURE_MAX_BLOCKS)
    return 0;
  held = configured * small;
  if (held >= max_size)
    return configured;
  big = (max_size - held) / rest + ((max_size - held) % rest ? 1 : 0);
  if (big < configured)
    big = configured;
  if (big > CAIRN_AZURE_MAX_BLOCK)
    /* too close to the largest blob for two sizes: one size for all */
    return cairn__azure_block_size(configured, max_size);
  return index < small ? configured : big;
}

/* The refusal of a size no block blob can hold. */
static int too_big(const char *name, uint64_t size)
{
  return cairn__error(CAIRN_EINVAL,
                      "blob '%s' would hold %llu bytes, more than the "
                      "%llu bytes (50,000 blocks of 4000 MiB) a block blob "
                      "can hold", name, (unsigned long long)size,
                      (unsigned long long)CAIRN_AZURE_MAX_BLOB);
}

/* Buffers to keep in flight for blocks of @p block bytes. */
unsigned cairn__azure_pool_size(const cairn_azure_client *c, uint64_t block)
{
  uint64_t n = c->opts.memory_budget / block;

  if (n < 1)
    n = 1;
  if (n > c->opts.max_concurrency)
    n = c->opts.max_concurrency;
  return (unsigned)n;
}

/*
 * The id of block @p index, base64 of a fixed-width text (free()).
 * With @p prefix (the SHA-256 of the file up to the block's end), the id
 * names the content too, so that a block sent by an upload that broke
 * off is known again and not sent twice.
 */
static char *block_id(uint64_t index, const unsigned char *prefix)
{
  char raw[48], hex[2 * CAIRN_SHA256_LEN + 1];

  if (prefix) {
    cairn_hex_encode(hex, prefix, 12);
    snprintf(raw, sizeof(raw), "cb%08llu%s", (unsigned long long)index,
             hex);
  } else {
    snprintf(raw, sizeof(raw), "cairnblock%08llu",
             (unsigned long long)index);
  }
  return cairn_base64_encode(raw, strlen(raw));
}

/*
 * Set @p req up as Put Block @p id with @p len bytes from @p data, or,
 * when @p data is NULL, from the file the caller sets as the body.
 */
static int block_request(cairn_http_request *req, cairn_azure_client *c,
                         const char *container, const char *name,
                         const char *id, const void *data, size_t len)
{
  char *enc, *query;
  int error;

  if (!(enc = cairn__azure_encode_query(id)))
    return CAIRN_ENOMEM;
  query = cairn__sprintf("comp=block&blockid=%s", enc);
  free(enc);
  if (!query)
    return CAIRN_ENOMEM;
  error = cairn__azure_request(req, c, "PUT", container, name, query);
  free(query);
  if (error < 0 || !data)
    return error;
  req->body.kind = CAIRN_HTTP_BODY_MEM;
  req->body.data = data;
  req->body.len = len;
  return cairn__azure_add_md5(c, req, data, len);
}

/* What a commit stores besides the blocks. */
typedef struct {
  unsigned flags;
  const char *sha256_hex;           /* [nullable] */
  const char *md5_b64;              /* [nullable] whole-blob MD5 */
  const cairn_azure_metadata *meta; /* [nullable] */
} commit_props;

/* Put Block List of blocks 0..count-1. */
static int commit_blocks(cairn_azure_client *c, const char *container,
                         const char *name, uint64_t count,
                         char *const *ids, const commit_props *p)
{
  cairn_http_request req;
  cairn_buf body = CAIRN_BUF_INIT;
  uint64_t i;
  char *id;
  int error;

  log_debug("azure", "committing %llu blocks of '%s'",
            (unsigned long long)count, name);
  error = cairn_buf_puts(&body, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                                "<BlockList>");
  for (i = 0; !error && i < count; i++) {
    if (ids)
      error = cairn_buf_printf(&body, "<Latest>%s</Latest>", ids[i]);
    else if (!(id = block_id(i, NULL)))
      error = cairn__error_oom();
    else
      error = cairn_buf_printf(&body, "<Latest>%s</Latest>", id);
    if (!ids)
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
  if (!error && p->sha256_hex)
    error = cairn_http_headers_add(&req.headers, "x-ms-meta-cairnsha256",
                                   p->sha256_hex);
  if (!error && p->md5_b64)
    error = cairn_http_headers_add(&req.headers, "x-ms-blob-content-md5",
                                   p->md5_b64);
  if (!error && (p->flags & CAIRN_AZURE_CREATE_ONLY))
    error = cairn_http_headers_add(&req.headers, "If-None-Match", "*");
  if (!error && (p->flags & CAIRN_AZURE_DIR_MARKER))
    error = cairn_http_headers_add(&req.headers, "x-ms-meta-hdi_isfolder",
                                   "true");
  if (!error)
    error = cairn__azure_add_metadata(&req, p->meta);
  if (!error)
    error = cairn__azure_add_md5(c, &req, body.ptr, body.size);
  if (!error) {
    req.body.kind = CAIRN_HTTP_BODY_MEM;
    req.body.data = body.ptr;
    req.body.len = body.size;
    error = cairn__azure_send(c, &req, container, name);
  }
  if ((p->flags & CAIRN_AZURE_CREATE_ONLY) &&
      (error == CAIRN_EEXISTS || error == CAIRN_EPRECONDITION)) {
    if (req.sends > 1 &&
        cairn__azure_landed_earlier(c, container, name, p->sha256_hex)) {
      cairn_error_clear();
      error = 0;
    } else {
      error = cairn__azure_exists_error(c, container, name);
    }
  }
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
  if (error == CAIRN_ENOTFOUND) {
    /* no blob, or no container yet: the first write creates it */
    cairn_error_clear();
    return 0;
  }
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

int cairn__azure_write_full(int fd, const char *buf, size_t len,
                            uint64_t offset, const char *path)
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

void cairn__azure_sha_hex(cairn_sha256 *h, char out[65])
{
  unsigned char digest[CAIRN_SHA256_LEN];

  cairn_sha256_final(h, digest);
  cairn_hex_encode(out, digest, sizeof(digest));
}

/* A streaming MD5 (for x-ms-blob-content-md5), over OpenSSL. */
EVP_MD_CTX *cairn__azure_md5_new(void)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();

  if (ctx && !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
    EVP_MD_CTX_free(ctx);
    ctx = NULL;
  }
  if (!ctx)
    cairn__error(CAIRN_ERROR, "cannot start an MD5 digest");
  return ctx;
}

static void md5_reset(EVP_MD_CTX *ctx)
{
  EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
}

/* The digest as base64 (free()), or NULL with the error set. */
char *cairn__azure_md5_b64(EVP_MD_CTX *ctx)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  char *out;

  EVP_DigestFinal_ex(ctx, digest, &n);
  if (!(out = cairn_base64_encode(digest, n)))
    cairn__error_oom();
  return out;
}

/* Bytes read and hashed at a time: they stay in the processor's cache. */
#define HASH_PIECE (256 * 1024)

/* ------------------------------------------------------------------ */
/* Upload                                                              */
/* ------------------------------------------------------------------ */

typedef struct upload_state upload_state;

typedef struct {
  cairn_http_request req;
  upload_state *up;
  int busy;
} upload_slot;

struct upload_state {
  cairn_azure_client *c;
  const char *container;
  const char *name;
  const char *path;
  int fd;
  struct stat st; /* of the file when opened */
  uint64_t size;
  uint64_t block;
  uint64_t count; /* blocks in all */
  uint64_t next;  /* next block to read */
  upload_slot *slots;
  unsigned nslots;
  cairn_sha256 *sha;
  EVP_MD_CTX *md5;
  EVP_MD_CTX *block_md5; /* [nullable] the MD5 of each block */
  char *piece;           /* HASH_PIECE bytes, read and hashed */
  char **ids;           /* of every block, as they are read */
  cairn_strlist known;  /* "<id> <size>" of blocks there already, sorted */
  uint64_t reused;      /* blocks not sent again */
};

/* Reading a block list: "<id> <size>" of each uncommitted block. */
struct block_list {
  XML_Parser parser;
  cairn_strlist *out;
  cairn_buf text;
  char name[128];
  int in_uncommitted;
  int error;
};

static void XMLCALL bl_start(void *p, const XML_Char *el,
                             const XML_Char **attr)
{
  struct block_list *b = p;

  (void)attr;
  cairn_buf_clear(&b->text);
  if (strcmp(el, "UncommittedBlocks") == 0)
    b->in_uncommitted = 1;
}

static void XMLCALL bl_end(void *p, const XML_Char *el)
{
  struct block_list *b = p;
  char line[160];

  if (strcmp(el, "UncommittedBlocks") == 0)
    b->in_uncommitted = 0;
  else if (b->in_uncommitted && strcmp(el, "Name") == 0)
    snprintf(b->name, sizeof(b->name), "%s", cairn_buf_cstr(&b->text));
  else if (b->in_uncommitted && strcmp(el, "Size") == 0) {
    snprintf(line, sizeof(line), "%s %s", b->name,
             cairn_buf_cstr(&b->text));
    if (cairn_strlist_add(b->out, line) < 0)
      b->error = CAIRN_ENOMEM;
  }
  cairn_buf_clear(&b->text);
}

static void XMLCALL bl_text(void *p, const XML_Char *s, int len)
{
  struct block_list *b = p;

  if (cairn_buf_put(&b->text, s, (size_t)len) < 0)
    b->error = CAIRN_ENOMEM;
}

/*
 * The blocks of blob @p name that an upload sent but did not commit
 * (none when the blob is not there), so that they are not sent again.
 */
static int uncommitted_blocks(cairn_azure_client *c, const char *container,
                              const char *name, cairn_strlist *out)
{
  struct block_list b;
  cairn_http_request req;
  int error;

  memset(&b, 0, sizeof(b));
  b.out = out;
  cairn_http_request_init(&req);
  error = cairn__azure_request(&req, c, "GET", container, name,
                               "comp=blocklist&blocklisttype=uncommitted");
  if (!error) {
    req.sink.kind = CAIRN_HTTP_SINK_BUF;
    error = cairn__azure_send(c, &req, container, name);
  }
  if (error == CAIRN_ENOTFOUND) {
    cairn_error_clear();
    error = 0;
    goto done;
  }
  if (error < 0)
    goto done;
  if (!(b.parser = XML_ParserCreate("UTF-8"))) {
    error = cairn__error_oom();
    goto done;
  }
  XML_SetUserData(b.parser, &b);
  XML_SetElementHandler(b.parser, bl_start, bl_end);
  XML_SetCharacterDataHandler(b.parser, bl_text);
  if (XML_Parse(b.parser, req.response.ptr ? req.response.ptr : "",
                (int)req.response.size, 1) != XML_STATUS_OK)
    error = cairn__error(CAIRN_ERROR, "the block list of blob '%s' is not "
                         "valid XML", name);
  else
    error = b.error;
  XML_ParserFree(b.parser);
  cairn_strlist_sort(out);
done:
  cairn_buf_dispose(&b.text);
  cairn_http_request_dispose(&req);
  return error;
}

static int upload_done(cairn_http_request *req, void *payload)
{
  upload_slot *s = payload;

  s->busy = 0;
  if (req->result == CAIRN_ECANCELLED)
    return 0;
  if (req->result < 0 || req->status != 201)
    return cairn__azure_error(s->up->c, req, s->up->container,
                              s->up->name);
  cairn__azure_progress(s->up->c, req->body.len, 0);
  log_debug("azure", "sent a block of %llu bytes of '%s'",
            (unsigned long long)req->body.len, s->up->name);
  return 0;
}

/*
 * Hash a block of the file, a piece at a time, each piece while it is
 * still in the processor's cache; the transport reads the block from
 * the file again when it sends it, so no block is held in memory.
 * Blocks are hashed in order.  With Content-MD5 asked for, the block's
 * own MD5 goes into @p block_md5 (base64).
 */
static int read_hash(upload_state *up, size_t len, uint64_t offset,
                     char block_md5[32])
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  size_t done, piece;
  char *b64;
  int error;

  if (up->block_md5)
    EVP_DigestInit_ex(up->block_md5, EVP_md5(), NULL);
  for (done = 0; done < len; done += piece) {
    piece = len - done < HASH_PIECE ? len - done : HASH_PIECE;
    if ((error = read_full(up->fd, up->piece, piece, offset + done,
                           up->path)) < 0)
      return error;
    cairn_sha256_update(up->sha, up->piece, piece);
    if (up->md5)
      EVP_DigestUpdate(up->md5, up->piece, piece);
    if (up->block_md5)
      EVP_DigestUpdate(up->block_md5, up->piece, piece);
  }
  block_md5[0] = '\0';
  if (up->block_md5) {
    EVP_DigestFinal_ex(up->block_md5, digest, &n);
    if (!(b64 = cairn_base64_encode(digest, n)))
      return cairn__error_oom();
    snprintf(block_md5, 32, "%s", b64);
    free(b64);
  }
  return 0;
}

static int upload_next(cairn_http_request **out, void *payload)
{
  upload_state *up = payload;
  upload_slot *s = NULL;
  uint64_t offset;
  char md5[32];
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

  /* blocks that an earlier upload sent are read and hashed, not sent */
  for (;;) {
    unsigned char prefix[CAIRN_SHA256_LEN];
    char key[96];

    offset = up->next * up->block;
    len = (size_t)(up->size - offset < up->block ? up->size - offset
                                                  : up->block);
    if ((error = read_hash(up, len, offset, md5)) < 0)
      return error;
    free(up->ids[up->next]); /* of an earlier pass, such as before the
                                container was created */
    if (cairn_sha256_peek(up->sha, prefix) < 0 ||
        !(up->ids[up->next] = block_id(up->next, prefix)))
      return cairn__error_oom();
    snprintf(key, sizeof(key), "%s %zu", up->ids[up->next], len);
    if (!cairn_strlist_sorted_contains(&up->known, key))
      break;
    up->reused++;
    cairn__azure_progress(up->c, len, 0);
    if (++up->next >= up->count)
      return 0;
  }
  if ((error = block_request(&s->req, up->c, up->container, up->name,
                             up->ids[up->next], NULL, len)) < 0 ||
      (md5[0] && (error = cairn_http_headers_set(&s->req.headers,
                                                 "Content-MD5", md5)) < 0))
    return error;
  s->req.body.kind = CAIRN_HTTP_BODY_FD;
  s->req.body.fd = up->fd;
  s->req.body.offset = offset;
  s->req.body.len = len;
  s->req.done = upload_done;
  s->req.payload = s;
  s->busy = 1;
  up->next++;
  *out = &s->req;
  return 0;
}

static int upload_blocks(upload_state *up, unsigned flags, char hex[65])
{
  commit_props props = {flags, hex, NULL, NULL};
  char *md5 = NULL;
  int error;

  up->next = 0;
  up->reused = 0;
  cairn_sha256_reset(up->sha);
  if (up->md5)
    md5_reset(up->md5);
  if ((error = cairn_http_run(up->c->http, upload_next, up)) < 0)
    return error;
  /* blocks are hashed and sent in two reads: both must see the same */
  if ((error = cairn_file_unchanged(up->fd, &up->st, up->path)) < 0)
    return error;
  if (up->reused)
    log_info("azure", "'%s': %llu of %llu blocks were there from an "
             "earlier upload and were not sent again", up->name,
             (unsigned long long)up->reused,
             (unsigned long long)up->count);
  cairn__azure_sha_hex(up->sha, hex);
  if (up->md5 && !(md5 = cairn__azure_md5_b64(up->md5)))
    return CAIRN_ENOMEM;
  props.md5_b64 = md5;
  error = commit_blocks(up->c, up->container, up->name, up->count, up->ids,
                        &props);
  free(md5);
  return error;
}

static int upload_large(upload_state *up, unsigned flags, char hex[65])
{
  unsigned i;
  int error;

  if (!(up->block = cairn__azure_block_size(up->c->opts.block_size,
                                            up->size)))
    return too_big(up->name, up->size);
  up->count = (up->size + up->block - 1) / up->block;
  /* blocks are sent from the file: no buffer of ours per request */
  up->nslots = up->c->opts.max_concurrency;
  if (up->nslots > up->count)
    up->nslots = (unsigned)up->count;
  /* the whole blob's MD5 costs a second pass: only when asked for */
  if (up->c->opts.content_md5 && !(up->md5 = cairn__azure_md5_new()))
    return CAIRN_ERROR;
  if (!(up->slots = cairn__calloc(up->nslots, sizeof(*up->slots)))) {
    EVP_MD_CTX_free(up->md5);
    return CAIRN_ENOMEM;
  }
  for (i = 0; i < up->nslots; i++) {
    cairn_http_request_init(&up->slots[i].req);
    up->slots[i].up = up;
  }
  if (!(up->ids = cairn__calloc(up->count + 1, sizeof(*up->ids))) ||
      !(up->piece = malloc(HASH_PIECE)) ||
      (up->c->opts.content_md5 && !(up->block_md5 = EVP_MD_CTX_new()))) {
    error = CAIRN_ENOMEM;
    goto done;
  }
  if ((error = uncommitted_blocks(up->c, up->container, up->name,
                                  &up->known)) < 0)
    goto done;
  log_debug("azure", "uploading '%s': %llu blocks of %llu bytes, %u at once",
            up->name, (unsigned long long)up->count,
            (unsigned long long)up->block, up->nslots);

  error = upload_blocks(up, flags, hex);
  if (error == CAIRN_ENOTFOUND && cairn__azure_container_missing(up->c)) {
    if ((error = cairn__azure_container_recover(up->c, up->container)) == 0)
      error = upload_blocks(up, flags, hex);
  }
done:
  for (i = 0; i < up->nslots; i++) {
    cairn_http_request_dispose(&up->slots[i].req);
  }
  free(up->slots);
  free(up->piece);
  EVP_MD_CTX_free(up->block_md5);
  for (i = 0; up->ids && i < up->count; i++)
    free(up->ids[i]);
  free(up->ids);
  cairn_strlist_dispose(&up->known);
  EVP_MD_CTX_free(up->md5);
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
    cairn__azure_sha_hex(up->sha, hex);
    error = cairn__azure_put_blob(up->c, up->container, up->name, data,
                                  (size_t)up->size, flags, hex);
  }
  free(data);
  return error;
}

/* The most one Put Blob carries for this client. */
static uint64_t single_put_max(const cairn_azure_client *c)
{
  uint64_t max = c->opts.single_put_max;

  return max > c->opts.memory_budget ? c->opts.memory_budget : max;
}

int cairn_azure_blob_upload_file(cairn_azure_client *c, const char *container,
                                 const char *name, const char *local_path,
                                 unsigned flags, char sha256_hex[65])
{
  upload_state up;
  char hex[65] = "";
  int error;

  if ((error = cairn_azure_blob_name_check(name)) < 0)
    return error;
  memset(&up, 0, sizeof(up));
  up.c = c;
  up.container = container;
  up.name = name;
  up.path = local_path;
  if ((up.fd = open(local_path, O_RDONLY | O_CLOEXEC)) < 0)
    return cairn__error_errno("cannot open", local_path);
  if (fstat(up.fd, &up.st) < 0) {
    error = cairn__error_errno("cannot read", local_path);
    goto done;
  }
  if (!S_ISREG(up.st.st_mode)) {
    error = cairn__error(CAIRN_EINVAL, "'%s' is not a regular file",
                         local_path);
    goto done;
  }
  up.size = (uint64_t)up.st.st_size;
  if ((error = cairn_sha256_new(&up.sha)) < 0)
    goto done;

  if (up.size <= single_put_max(c)) {
    error = upload_small(&up, flags, hex);
  } else {
    /* refuse before sending a byte: too big, or there already */
    if (!cairn__azure_block_size(c->opts.block_size, up.size)) {
      error = too_big(name, up.size);
      goto done;
    }
    if ((flags & CAIRN_AZURE_CREATE_ONLY) &&
        (error = check_absent(c, container, name)) < 0)
      goto done;
    error = upload_large(&up, flags, hex);
  }
  if (!error && sha256_hex)
    memcpy(sha256_hex, hex, sizeof(hex));
  if (!error)
    cairn__azure_progress(c, up.size <= single_put_max(c) ? up.size : 0,
                          1);

done:
  cairn_sha256_free(up.sha);
  close(up.fd);
  return error;
}

/* ------------------------------------------------------------------ */
/* Many files                                                          */
/* ------------------------------------------------------------------ */

typedef struct many_state many_state;

typedef struct {
  cairn_http_request req;
  many_state *st;
  size_t job;
  char *buf;
  size_t len;
  int busy;
} many_slot;

struct many_state {
  cairn_azure_client *c;
  const char *container;
  cairn_azure_upload_job *jobs;
  size_t count;
  unsigned flags;
  size_t next;
  many_slot *slots;
  unsigned nslots;
  uint64_t buffered; /* bytes read and not yet sent */
  size_t *later;     /* files sent block by block after the run */
  size_t nlater;
  size_t *recheck;   /* repeated create-only writes refused */
  size_t nrecheck;
};

/* Name the file in the message of a failure, and pass it on. */
static int many_fail(many_state *st, size_t job, int error)
{
  cairn__error_prefix("cannot store '%s' as blob '%s'",
                      st->jobs[job].local_path, st->jobs[job].name);
  return error;
}

static int many_done(cairn_http_request *req, void *payload)
{
  many_slot *s = payload;
  many_state *st = s->st;
  int error;
  size_t len = s->len;

  s->busy = 0;
  st->buffered -= s->len;
  s->len = 0;
  free(s->buf);
  s->buf = NULL;
  if (req->result == CAIRN_ECANCELLED)
    return 0;
  if (req->result == 0 && req->status == 201) {
    cairn__azure_progress(st->c, len, 1);
    return 0;
  }
  error = cairn__azure_error(st->c, req, st->container,
                             st->jobs[s->job].name);
  if ((st->flags & CAIRN_AZURE_CREATE_ONLY) &&
      (error == CAIRN_EEXISTS || error == CAIRN_EPRECONDITION)) {
    if (req->sends > 1) {
      /* perhaps our own earlier attempt: checked after the run */
      cairn_error_clear();
      st->recheck[st->nrecheck++] = s->job;
      return 0;
    }
    error = cairn__azure_exists_error(st->c, st->container,
                                      st->jobs[s->job].name);
  }
  return many_fail(st, s->job, error);
}

/* Read one small file into a slot and hash it. */
static int many_read(many_state *st, many_slot *s, size_t job, int fd,
                     size_t size)
{
  unsigned char digest[CAIRN_SHA256_LEN];
  int error;

  s->len = 0;
  if (!(s->buf = malloc(size ? size : 1)))
    return cairn__error_oom();
  s->len = size;
  st->buffered += size;
  if ((error = read_full(fd, s->buf, size, 0,
                         st->jobs[job].local_path)) < 0)
    return error;
  cairn_sha256_digest(digest, s->buf, size);
  cairn_hex_encode(st->jobs[job].sha256, digest, sizeof(digest));
  st->jobs[job].size = size;
  return 0;
}

static int many_request(many_state *st, many_slot *s, size_t job)
{
  cairn_http_request *req = &s->req;
  int error;

  if ((error = cairn__azure_request(req, st->c, "PUT", st->container,
                                    st->jobs[job].name, NULL)) < 0 ||
      (error = cairn_http_headers_add(&req->headers, "x-ms-blob-type",
                                      "BlockBlob")) < 0 ||
      (error = cairn_http_headers_add(&req->headers, "x-ms-meta-cairnsha256",
                                      st->jobs[job].sha256)) < 0)
    return error;
  if ((st->flags & CAIRN_AZURE_CREATE_ONLY) &&
      (error = cairn_http_headers_add(&req->headers, "If-None-Match",
                                      "*")) < 0)
    return error;
  if (s->len && (error = cairn__azure_add_md5(st->c, req, s->buf,
                                              s->len)) < 0)
    return error;
  if (s->len) {
    req->body.kind = CAIRN_HTTP_BODY_MEM;
    req->body.data = s->buf;
    req->body.len = s->len;
  }
  req->done = many_done;
  req->payload = s;
  return 0;
}

static int many_next(cairn_http_request **out, void *payload)
{
  many_state *st = payload;
  many_slot *s = NULL;
  struct stat sb;
  unsigned i;
  size_t job;
  int fd, error;

  *out = NULL;
  for (i = 0; i < st->nslots && !s; i++)
    if (!st->slots[i].busy)
      s = &st->slots[i];
  while (s && st->next < st->count) {
    job = st->next;
    if ((error = cairn_azure_blob_name_check(st->jobs[job].name)) < 0)
      return error;
    if ((fd = open(st->jobs[job].local_path, O_RDONLY | O_CLOEXEC)) < 0)
      return cairn__error_errno("cannot open", st->jobs[job].local_path);
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
      close(fd);
      return cairn__error(CAIRN_EINVAL, "'%s' is not a regular file",
                          st->jobs[job].local_path);
    }
    if ((uint64_t)sb.st_size > single_put_max(st->c)) {
      /* sent block by block once the small files are done */
      close(fd);
      st->later[st->nlater++] = job;
      st->next++;
      continue;
    }
    /* bounded memory: wait for answers before reading more */
    if (st->buffered && st->buffered + (uint64_t)sb.st_size >
                            st->c->opts.memory_budget) {
      close(fd);
      return 0;
    }
    error = many_read(st, s, job, fd, (size_t)sb.st_size);
    close(fd);
    if (!error)
      error = many_request(st, s, job);
    if (error < 0) {
      st->buffered -= s->len;
      s->len = 0;
      free(s->buf);
      s->buf = NULL;
      return many_fail(st, job, error);
    }
    s->job = job;
    s->busy = 1;
    st->next++;
    *out = &s->req;
    return 0;
  }
  return 0;
}

/* One run over the small files; the large ones are put aside. */
static int many_run(many_state *st)
{
  unsigned i;
  int error;

  st->next = 0;
  st->buffered = 0;
  st->nrecheck = 0;
  st->nlater = 0;
  for (i = 0; i < st->nslots; i++) {
    cairn_http_request_init(&st->slots[i].req);
    st->slots[i].st = st;
  }
  error = cairn_http_run(st->c->http, many_next, st);
  for (i = 0; i < st->nslots; i++) {
    cairn_http_request_dispose(&st->slots[i].req);
    free(st->slots[i].buf);
    st->slots[i].buf = NULL;
    st->slots[i].len = 0;
    st->slots[i].busy = 0;
  }
  return error;
}

int cairn_azure_blob_upload_many(cairn_azure_client *c,
                                 const char *container,
                                 cairn_azure_upload_job *jobs, size_t count,
                                 unsigned flags)
{
  many_state st;
  size_t i, job;
  int error;

  if (!count)
    return 0;
  memset(&st, 0, sizeof(st));
  st.c = c;
  st.container = container;
  st.jobs = jobs;
  st.count = count;
  st.flags = flags;
  st.nslots = c->opts.max_concurrency;
  if (!(st.slots = cairn__calloc(st.nslots, sizeof(*st.slots))) ||
      !(st.recheck = cairn__calloc(count, sizeof(*st.recheck))) ||
      !(st.later = cairn__calloc(count, sizeof(*st.later)))) {
    free(st.slots);
    free(st.recheck);
    return CAIRN_ENOMEM;
  }

  error = many_run(&st);
  if (error == CAIRN_ENOTFOUND && cairn__azure_container_missing(c)) {
    /* nothing landed without a container: make it, then all again */
    if ((error = cairn__azure_container_recover(c, container)) == 0)
      error = many_run(&st);
  }
  for (i = 0; !error && i < st.nrecheck; i++) {
    job = st.recheck[i];
    if (!cairn__azure_landed_earlier(c, container, jobs[job].name,
                                     jobs[job].sha256)) {
      snprintf(c->last_code, sizeof(c->last_code), "BlobAlreadyExists");
      error = many_fail(&st, job, cairn__azure_exists_error(
                                      c, container, jobs[job].name));
    }
  }
  for (i = 0; !error && i < st.nlater; i++) {
    job = st.later[i];
    error = cairn_azure_blob_upload_file(c, container, jobs[job].name,
                                         jobs[job].local_path, flags,
                                         jobs[job].sha256);
    if (error < 0) {
      error = many_fail(&st, job, error);
      break;
    }
    {
      struct stat sb;

      if (stat(jobs[job].local_path, &sb) == 0)
        jobs[job].size = (uint64_t)sb.st_size;
    }
  }
  free(st.later);
  free(st.recheck);
  free(st.slots);
  return error;
}

/* ------------------------------------------------------------------ */
/* Streaming writer                                                    */
/* ------------------------------------------------------------------ */

struct cairn_azure_writer {
  cairn_azure_client *c;
  char *container;
  char *name;
  unsigned flags;
  uint64_t max_size;          /* the most the stream may hold */
  uint64_t block;             /* size of the block being filled */
  uint64_t blocks;            /* blocks sent */
  uint64_t total;             /* bytes written so far */
  char *buf;
  size_t len, alloc;
  cairn_sha256 *sha;
  EVP_MD_CTX *md5;
  cairn_azure_metadata meta;  /* stored on commit */
  cairn_http_request req;
};

static int writer_open_full(cairn_azure_writer **out, cairn_azure_client *c,
                            const char *container, const char *name,
                            unsigned flags, const cairn_azure_metadata *md,
                            uint64_t max_size)
{
  cairn_azure_writer *w;
  size_t i;
  int error;

  *out = NULL;
  if ((error = cairn_azure_blob_name_check(name)) < 0)
    return error;
  if (!max_size)
    max_size = CAIRN_AZURE_STREAM_MAX_DEFAULT;
  /* a size no schedule of blocks covers is refused before any data */
  if (!cairn__azure_stream_block(c->opts.block_size, max_size,
                                 CAIRN_AZURE_MAX_BLOCKS - 1))
    return too_big(name, max_size);
  if (!(w = cairn__calloc(1, sizeof(*w))))
    return CAIRN_ENOMEM;
  w->c = c;
  w->flags = flags;
  w->max_size = max_size;
  w->block = cairn__azure_stream_block(c->opts.block_size, max_size, 0);
  cairn_http_request_init(&w->req);
  if (!(w->container = cairn__strdup(container)) ||
      !(w->name = cairn__strdup(name)) ||
      (error = cairn_sha256_new(&w->sha)) < 0 ||
      (c->opts.content_md5 && !(w->md5 = cairn__azure_md5_new()))) {
    cairn_azure_writer_abort(w);
    return cairn__error_code() ? cairn__error_code() : CAIRN_ENOMEM;
  }
  for (i = 0; md && i < md->count; i++) {
    if ((error = cairn_azure_metadata_set(&w->meta, md->items[i].name,
                                          md->items[i].value)) < 0) {
      cairn_azure_writer_abort(w);
      return error;
    }
  }
  if ((flags & CAIRN_AZURE_CREATE_ONLY) &&
      (error = check_absent(c, container, name)) < 0) {
    cairn_azure_writer_abort(w);
    return error;
  }
  *out = w;
  return 0;
}

int cairn_azure_writer_open(cairn_azure_writer **out,
                            cairn_azure_client *c, const char *container,
                            const char *name, unsigned flags)
{
  return writer_open_full(out, c, container, name, flags, NULL, 0);
}

int cairn_azure_writer_open_with(cairn_azure_writer **out,
                                 cairn_azure_client *c, const char *container,
                                 const char *name, unsigned flags,
                                 const cairn_azure_metadata *metadata)
{
  return writer_open_full(out, c, container, name, flags, metadata, 0);
}

static int writer_put_block(cairn_azure_writer *w)
{
  char *id;
  int error;

  if (!(id = block_id(w->blocks, NULL)))
    return cairn__error_oom();
  error = block_request(&w->req, w->c, w->container, w->name, id,
                        w->buf, w->len);
  free(id);
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
  w->block = cairn__azure_stream_block(w->c->opts.block_size, w->max_size,
                                       w->blocks);
  return 0;
}

int cairn_azure_writer_write(cairn_azure_writer *w, const void *data,
                             size_t len)
{
  const char *p = data;
  size_t room, n, want;
  char *grown;
  int error;

  if (len > w->max_size - w->total)
    return cairn__error(CAIRN_EINVAL,
                        "blob '%s' grew past the %llu bytes it was opened "
                        "for; nothing was committed", w->name,
                        (unsigned long long)w->max_size);
  while (len) {
    if (w->len == w->block && (error = writer_put_block(w)) < 0)
      return error;
    if (!w->block)
      return cairn__error(CAIRN_EINVAL, "blob '%s' needs more than the "
                          "50,000 blocks a blob can hold", w->name);
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
    if (w->md5)
      EVP_DigestUpdate(w->md5, p, n);
    w->len += n;
    w->total += n;
    p += n;
    len -= n;
  }
  return 0;
}

/* Commit the blob, its SHA-256 into @p hex; frees @p w. */
static int writer_commit(cairn_azure_writer *w, char hex[65])
{
  commit_props props;
  char *md5 = NULL;
  int error = 0;

  cairn__azure_sha_hex(w->sha, hex);
  if (!w->blocks) {
    error = cairn__azure_put_blob_md(w->c, w->container, w->name, w->buf,
                                     w->len, w->flags, hex, &w->meta);
  } else {
    if (w->len)
      error = writer_put_block(w);
    if (!error && w->md5 && !(md5 = cairn__azure_md5_b64(w->md5)))
      error = CAIRN_ENOMEM;
    props.flags = w->flags;
    props.sha256_hex = hex;
    props.md5_b64 = md5;
    props.meta = &w->meta;
    if (!error)
      error = commit_blocks(w->c, w->container, w->name, w->blocks, NULL,
                            &props);
  }
  free(md5);
  cairn_azure_writer_abort(w);
  return error;
}

int cairn_azure_writer_close(cairn_azure_writer *w)
{
  char hex[65];

  if (!w)
    return cairn__error(CAIRN_EINVAL, "no writer to close");
  return writer_commit(w, hex);
}

void cairn_azure_writer_abort(cairn_azure_writer *w)
{
  if (!w)
    return;
  cairn_http_request_dispose(&w->req);
  cairn_sha256_free(w->sha);
  EVP_MD_CTX_free(w->md5);
  cairn_azure_metadata_dispose(&w->meta);
  free(w->container);
  free(w->name);
  free(w->buf);
  free(w);
}

/* ------------------------------------------------------------------ */
/* Streams of unknown length                                           */
/* ------------------------------------------------------------------ */

#define STREAM_CHUNK (256 * 1024)

int cairn_azure_blob_upload_stream(cairn_azure_client *c,
                                   const char *container, const char *name,
                                   cairn_azure_read_fn read, void *payload,
                                   uint64_t max_size, unsigned flags,
                                   char sha256_hex[65])
{
  cairn_azure_writer *w = NULL;
  char *chunk = NULL, hex[65];
  size_t n;
  int error;

  if ((error = writer_open_full(&w, c, container, name, flags, NULL,
                                max_size)) < 0)
    return error;
  if (!(chunk = malloc(STREAM_CHUNK))) {
    error = cairn__error_oom();
    goto fail;
  }
  for (;;) {
    n = 0;
    if ((error = read(payload, chunk, STREAM_CHUNK, &n)) < 0) {
      cairn__error_prefix("reading the stream for blob '%s'", name);
      goto fail;
    }
    if (!n)
      break;
    if ((error = cairn_azure_writer_write(w, chunk, n)) < 0)
      goto fail;
  }
  free(chunk);
  chunk = NULL;
  if ((error = writer_commit(w, hex)) == 0 && sha256_hex)
    memcpy(sha256_hex, hex, sizeof(hex));
  return error;

fail:
  cairn_azure_writer_abort(w);
  free(chunk);
  return error;
}

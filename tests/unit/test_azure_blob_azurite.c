/*
 * The blob client against a real Azurite (CAIRN_TEST_AZURITE_ENDPOINT).
 * Every run works in containers of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cairn/azure.h>
#include <cairn/common.h>

#include "azure/auth.h"
#include "azure/client.h"
#include "core/hash.h"
#include "core/util.h"

#define DEV_KEY                                                            \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="
#define MIB (1024 * 1024)
#define EMPTY_SHA256                                                       \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char *endpoint;
static cairn_azure_account *account;
static cairn_azure_client *client;
static char container[64];
static char container2[64];
static char container3[64];
static char tmpdir[256];

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
  cairn_azure_transfer_options opts = {
      .max_concurrency = 16, .block_size = MIB, .single_put_max = MIB};
  unsigned char rnd[4];
  char hex[9];

  (void)state;
  endpoint = getenv("CAIRN_TEST_AZURITE_ENDPOINT");
  if (!endpoint || !*endpoint) {
    fprintf(stderr, "CAIRN_TEST_AZURITE_ENDPOINT is not set\n");
    return -1;
  }
  if (cairn_global_init() < 0)
    return -1;
  if (cairn_random_bytes(rnd, sizeof(rnd)) < 0)
    return -1;
  cairn_hex_encode(hex, rnd, sizeof(rnd));
  snprintf(container, sizeof(container), "blob-%d-%s", (int)getpid(), hex);
  snprintf(container2, sizeof(container2), "blob2-%d-%s", (int)getpid(),
           hex);
  snprintf(container3, sizeof(container3), "blob3-%d-%s", (int)getpid(),
           hex);
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/cairn-blob-test-%d", (int)getpid());
  mkdir(tmpdir, 0700);
  if (cairn_azure_account_from_key(&account, "devstoreaccount1", DEV_KEY,
                                   endpoint) < 0)
    return -1;
  if (cairn_azure_client_new(&client, account, &opts) < 0)
    return -1;
  if (cairn_azure_container_create(client, container) < 0) {
    fprintf(stderr, "%s\n", cairn_error_last()->message);
    return -1;
  }
  return 0;
}

static int teardown(void **state)
{
  char cmd[300];

  (void)state;
  cairn_azure_container_delete(client, container);
  cairn_azure_container_delete(client, container2);
  cairn_azure_container_delete(client, container3);
  cairn_azure_client_free(client);
  cairn_azure_account_free(account);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", tmpdir);
  cairn_global_cleanup();
  return 0;
}

static void put_text(const char *name, const char *text)
{
  int error = cairn_azure_blob_put(client, container, name, text,
                                   strlen(text), 0);

  if (error)
    fprintf(stderr, "put '%s': %s\n", name, cairn_error_last()->message);
  assert_int_equal(error, 0);
}

static void expect_text(const char *name, const char *text)
{
  char *data = NULL;
  size_t len = 0;

  assert_int_equal(cairn_azure_blob_get(client, container, name, &data,
                                        &len), 0);
  assert_int_equal(len, strlen(text));
  assert_memory_equal(data, text, len);
  free(data);
}

/* ------------------------------------------------------------------ */

static void test_containers(void **state)
{
  char missing[80];

  (void)state;
  assert_int_equal(cairn_azure_container_exists(client, container), 0);
  assert_int_equal(cairn_azure_container_create(client, container),
                   CAIRN_EEXISTS);
  snprintf(missing, sizeof(missing), "%s-none", container);
  assert_int_equal(cairn_azure_container_exists(client, missing),
                   CAIRN_ENOTFOUND);
  assert_non_null(strstr(cairn_error_last()->message, missing));
  assert_int_equal(cairn_azure_container_create(client, "Bad_Name"),
                   CAIRN_EINVAL);
}

static void test_put_get_delete(void **state)
{
  cairn_azure_blob_info info;

  (void)state;
  put_text("hello.txt", "hello, blob");
  expect_text("hello.txt", "hello, blob");
  assert_int_equal(cairn_azure_blob_properties(client, container,
                                               "hello.txt", &info), 0);
  assert_int_equal(info.size, 11);
  assert_string_equal(info.name, "hello.txt");
  assert_true(info.etag[0] != '\0');
  assert_true(info.last_modified > 1600000000);
  assert_int_equal(info.is_dir_marker, 0);
  cairn_azure_blob_info_dispose(&info);

  assert_int_equal(cairn_azure_blob_delete(client, container, "hello.txt"),
                   0);
  assert_int_equal(cairn_azure_blob_properties(client, container,
                                               "hello.txt", &info),
                   CAIRN_ENOTFOUND);
  assert_non_null(strstr(cairn_error_last()->message, "hello.txt"));
  assert_int_equal(cairn_azure_blob_delete(client, container, "hello.txt"),
                   CAIRN_ENOTFOUND);
  assert_non_null(strstr(cairn_error_last()->message, "BlobNotFound"));
}

static const char *const odd_names[] = {
  "odd/a b.txt",      "odd/é ü.txt",          "odd/a+b.txt",
  "odd/100%.txt",     "odd/a%20b.txt",        "odd/r#1.txt",
  "odd/q?.txt",       "odd/x&y=1.txt",        "odd/x=1/y.txt",
  "odd/k@v!(1);2,3*'.txt", "odd/a b+c%20.txt", "odd/(paren).txt",
};
#define ODD_COUNT (sizeof(odd_names) / sizeof(odd_names[0]))

typedef struct {
  char *names[6000];
  size_t count;
  size_t prefixes;
  size_t markers;
  int flags[6000]; /* is_prefix | is_dir_marker << 1 */
} collected;

static int collect(const cairn_azure_blob_info *e, void *payload)
{
  collected *c = payload;

  if (c->count >= 6000)
    return -99;
  c->flags[c->count] = e->is_prefix | (e->is_dir_marker << 1);
  c->names[c->count++] = strdup(e->name);
  c->prefixes += e->is_prefix;
  c->markers += e->is_dir_marker;
  return 0;
}

static void collected_free(collected *c)
{
  size_t i;

  for (i = 0; i < c->count; i++)
    free(c->names[i]);
  free(c);
}

static int find(const collected *c, const char *name)
{
  size_t i;

  for (i = 0; i < c->count; i++)
    if (strcmp(c->names[i], name) == 0)
      return (int)i;
  return -1;
}

static void test_odd_names(void **state)
{
  collected *c = calloc(1, sizeof(*c));
  size_t i;
  int at;

  (void)state;
  for (i = 0; i < ODD_COUNT; i++)
    put_text(odd_names[i], odd_names[i]);
  assert_int_equal(cairn_azure_list(client, container, "odd/", NULL,
                                    collect, c), 0);
  assert_int_equal(c->count, ODD_COUNT);
  for (i = 0; i < ODD_COUNT; i++) {
    at = find(c, odd_names[i]);
    if (at < 0)
      fprintf(stderr, "not listed: '%s'\n", odd_names[i]);
    assert_true(at >= 0);
    expect_text(odd_names[i], odd_names[i]);
  }
  collected_free(c);
  /* a name with '(' copies (Azurite once failed these) */
  assert_int_equal(cairn_azure_blob_copy(client, container,
                                         "odd/k@v!(1);2,3*'.txt",
                                         "odd-copy/k@v!(1) copy.txt", 0), 0);
  expect_text("odd-copy/k@v!(1) copy.txt", "odd/k@v!(1);2,3*'.txt");
}

static void test_zero_byte(void **state)
{
  char path[300], hex[65];
  struct stat st;

  (void)state;
  assert_int_equal(cairn_azure_blob_put(client, container, "empty", "", 0,
                                        0), 0);
  snprintf(path, sizeof(path), "%s/empty", tmpdir);
  assert_int_equal(cairn_azure_blob_download_file(client, container,
                                                  "empty", path, hex), 0);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_size, 0);
  assert_string_equal(hex, EMPTY_SHA256);
  expect_text("empty", "");
}

static void test_create_only(void **state)
{
  cairn_azure_writer *w = NULL;
  char path[300];
  int fd;
  char *big;

  (void)state;
  put_text("once.txt", "first");
  assert_int_equal(cairn_azure_blob_put(client, container, "once.txt",
                                        "second", 6,
                                        CAIRN_AZURE_CREATE_ONLY),
                   CAIRN_EEXISTS);
  assert_non_null(strstr(cairn_error_last()->message, "once.txt"));
  expect_text("once.txt", "first");

  /* a multi-block upload is refused before any data is sent */
  snprintf(path, sizeof(path), "%s/three-mib", tmpdir);
  big = calloc(1, 3 * MIB);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, big, 3 * MIB), 3 * MIB);
  close(fd);
  free(big);
  assert_int_equal(cairn_azure_blob_upload_file(client, container,
                                                "once.txt", path,
                                                CAIRN_AZURE_CREATE_ONLY,
                                                NULL),
                   CAIRN_EEXISTS);
  assert_int_equal(cairn_azure_writer_open(&w, client, container,
                                           "once.txt",
                                           CAIRN_AZURE_CREATE_ONLY),
                   CAIRN_EEXISTS);
  assert_null(w);
  expect_text("once.txt", "first");
  /* a new name is fine */
  assert_int_equal(cairn_azure_blob_upload_file(client, container,
                                                "once-big.bin", path,
                                                CAIRN_AZURE_CREATE_ONLY,
                                                NULL), 0);
}

/* Many tiny blobs in parallel through the engine. */
typedef struct {
  cairn_http_request reqs[16];
  int busy[16];
  unsigned next, total, failed;
} many_state;

static int many_done(cairn_http_request *req, void *payload)
{
  many_state *m = payload;
  size_t i = (size_t)(req - m->reqs);

  m->busy[i] = 0;
  if (req->result < 0 || req->status != 201)
    m->failed++;
  return 0;
}

static int many_next(cairn_http_request **out, void *payload)
{
  many_state *m = payload;
  char name[64];
  size_t i;

  *out = NULL;
  if (m->next >= m->total)
    return 0;
  for (i = 0; i < 16; i++)
    if (!m->busy[i])
      break;
  if (i == 16)
    return 0;
  snprintf(name, sizeof(name), "many/%05u", m->next++);
  assert_int_equal(cairn__azure_request(&m->reqs[i], client, "PUT",
                                        container, name, NULL), 0);
  assert_int_equal(cairn_http_headers_add(&m->reqs[i].headers,
                                          "x-ms-blob-type", "BlockBlob"),
                   0);
  m->reqs[i].done = many_done;
  m->reqs[i].payload = m;
  m->busy[i] = 1;
  *out = &m->reqs[i];
  return 0;
}

static void test_list_many(void **state)
{
  many_state *m = calloc(1, sizeof(*m));
  collected *c = calloc(1, sizeof(*c));
  double t0 = now_s();
  size_t i;
  char name[64];

  (void)state;
  for (i = 0; i < 16; i++)
    cairn_http_request_init(&m->reqs[i]);
  m->total = 5100;
  assert_int_equal(cairn_http_run(client->http, many_next, m), 0);
  assert_int_equal(m->failed, 0);
  fprintf(stderr, "  5100 puts: %.2f s\n", now_s() - t0);
  for (i = 0; i < 16; i++)
    cairn_http_request_dispose(&m->reqs[i]);
  free(m);

  assert_int_equal(cairn_azure_list(client, container, "many/", NULL,
                                    collect, c), 0);
  assert_int_equal(c->count, 5100);
  for (i = 0; i < 5100; i++) {
    snprintf(name, sizeof(name), "many/%05zu", i);
    assert_string_equal(c->names[i], name);
  }
  collected_free(c);
}

static int stop_at_three(const cairn_azure_blob_info *e, void *payload)
{
  int *n = payload;

  (void)e;
  return ++*n == 3 ? 42 : 0;
}

static void test_list_delimiter_and_markers(void **state)
{
  collected *c = calloc(1, sizeof(*c));
  cairn_http_request req;
  cairn_azure_blob_info info;
  int n = 0, at;

  (void)state;
  put_text("tree/a/1", "1");
  put_text("tree/a/2", "2");
  put_text("tree/b", "b");
  put_text("tree/c/3", "3");
  assert_int_equal(cairn_azure_blob_put(client, container, "tree/d", NULL,
                                        0, CAIRN_AZURE_DIR_MARKER), 0);
  /* a marker written by another tool, metadata in another case */
  cairn_http_request_init(&req);
  assert_int_equal(cairn__azure_request(&req, client, "PUT", container,
                                        "tree/e", NULL), 0);
  assert_int_equal(cairn_http_headers_add(&req.headers, "x-ms-blob-type",
                                          "BlockBlob"), 0);
  assert_int_equal(cairn_http_headers_add(&req.headers,
                                          "x-ms-meta-Hdi_isfolder", "True"),
                   0);
  assert_int_equal(cairn__azure_send(client, &req, container, "tree/e"), 0);
  cairn_http_request_dispose(&req);

  assert_int_equal(cairn_azure_list(client, container, "tree/", "/",
                                    collect, c), 0);
  assert_int_equal(c->count, 5);
  assert_int_equal(c->prefixes, 2);
  assert_int_equal(c->markers, 2);
  assert_true((at = find(c, "tree/a/")) >= 0 && c->flags[at] == 1);
  assert_true((at = find(c, "tree/c/")) >= 0 && c->flags[at] == 1);
  assert_true((at = find(c, "tree/b")) >= 0 && c->flags[at] == 0);
  assert_true((at = find(c, "tree/d")) >= 0 && c->flags[at] == 2);
  assert_true((at = find(c, "tree/e")) >= 0 && c->flags[at] == 2);
  collected_free(c);

  assert_int_equal(cairn_azure_blob_properties(client, container, "tree/e",
                                               &info), 0);
  assert_int_equal(info.is_dir_marker, 1);
  cairn_azure_blob_info_dispose(&info);
  assert_int_equal(cairn_azure_list(client, container, "tree/", NULL,
                                    stop_at_three, &n), 42);
  assert_int_equal(n, 3);
}

static void write_random_file(const char *path, size_t size)
{
  unsigned char *data = malloc(size);
  int fd;

  assert_non_null(data);
  assert_int_equal(cairn_random_bytes(data, size), 0);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, size), (ssize_t)size);
  close(fd);
  free(data);
}

static int files_equal(const char *a, const char *b)
{
  char cmd[700];

  snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
  return system(cmd) == 0;
}

static void test_upload_download_40mib(void **state)
{
  char src[300], dst[300], up[65], down[65], local[65];
  cairn_azure_blob_info info;
  double t0, t1, t2;

  (void)state;
  snprintf(src, sizeof(src), "%s/big.src", tmpdir);
  snprintf(dst, sizeof(dst), "%s/big.dst", tmpdir);
  write_random_file(src, 40 * MIB + 12345);
  assert_int_equal(cairn_sha256_file_hex(local, src), 0);

  t0 = now_s();
  assert_int_equal(cairn_azure_blob_upload_file(client, container,
                                                "big/file.bin", src, 0, up),
                   0);
  t1 = now_s();
  assert_string_equal(up, local);
  assert_int_equal(cairn_azure_blob_properties(client, container,
                                               "big/file.bin", &info), 0);
  assert_int_equal(info.size, 40 * MIB + 12345);
  assert_string_equal(info.sha256, local);
  cairn_azure_blob_info_dispose(&info);

  t2 = now_s();
  assert_int_equal(cairn_azure_blob_download_file(client, container,
                                                  "big/file.bin", dst, down),
                   0);
  fprintf(stderr, "  40 MiB: upload %.0f MiB/s, download %.0f MiB/s\n",
          40 / (t1 - t0), 40 / (now_s() - t2));
  assert_string_equal(down, local);
  assert_true(files_equal(src, dst));
}

static void test_integrity_mismatch(void **state)
{
  cairn_http_request req;
  char path[300];

  (void)state;
  /* a blob whose recorded SHA-256 is wrong */
  cairn_http_request_init(&req);
  assert_int_equal(cairn__azure_request(&req, client, "PUT", container,
                                        "bad-sha", NULL), 0);
  assert_int_equal(cairn_http_headers_add(&req.headers, "x-ms-blob-type",
                                          "BlockBlob"), 0);
  assert_int_equal(cairn_http_headers_add(&req.headers,
                                          "x-ms-meta-cairnsha256",
                                          EMPTY_SHA256), 0);
  req.body.kind = CAIRN_HTTP_BODY_MEM;
  req.body.data = "not empty";
  req.body.len = 9;
  assert_int_equal(cairn__azure_send(client, &req, container, "bad-sha"), 0);
  cairn_http_request_dispose(&req);
  snprintf(path, sizeof(path), "%s/bad-sha", tmpdir);
  assert_int_equal(cairn_azure_blob_download_file(client, container,
                                                  "bad-sha", path, NULL),
                   CAIRN_EINTEGRITY);
  assert_non_null(strstr(cairn_error_last()->message, "bad-sha"));
  assert_int_not_equal(access(path, F_OK), 0);
}

static void test_wrong_key(void **state)
{
  cairn_azure_account *bad = NULL;
  cairn_azure_client *bc = NULL;
  /* a valid base64 key of 64 bytes that is not the account's */
  const char *key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w"
                    "cXJzdHV2d3h5ejAxMjM0NTY3ODkrLw==";
  const char *msg;
  collected *c = calloc(1, sizeof(*c));

  (void)state;
  assert_int_equal(cairn_azure_account_from_key(&bad, "devstoreaccount1",
                                                key, endpoint), 0);
  assert_int_equal(cairn_azure_client_new(&bc, bad, NULL), 0);
  assert_int_equal(cairn_azure_list(bc, container, NULL, NULL, collect, c),
                   CAIRN_EAUTH);
  msg = cairn_error_last()->message;
  assert_true(strstr(msg, "AuthorizationFailure") ||
              strstr(msg, "AuthenticationFailed"));
  assert_null(strstr(msg, key));
  assert_null(strstr(msg, "QUJDREVG"));
  assert_int_equal(cairn_azure_container_exists(bc, container), CAIRN_EAUTH);
  assert_null(strstr(cairn_error_last()->message, "QUJDREVG"));
  collected_free(c);
  cairn_azure_client_free(bc);
  cairn_azure_account_free(bad);
}

static void test_connection_refused(void **state)
{
  cairn_azure_account *acct = NULL;
  cairn_azure_client *cc = NULL;

  (void)state;
  assert_int_equal(cairn_azure_account_from_key(
                       &acct, "devstoreaccount1", DEV_KEY,
                       "http://127.0.0.1:1/devstoreaccount1"), 0);
  assert_int_equal(cairn_azure_client_new(&cc, acct, NULL), 0);
  assert_int_equal(cairn_azure_container_exists(cc, container), CAIRN_ENET);
  assert_non_null(strstr(cairn_error_last()->message,
                         "http://127.0.0.1:1/devstoreaccount1"));
  cairn_azure_client_free(cc);
  cairn_azure_account_free(acct);
}

static void test_missing_container_created(void **state)
{
  char path[300];

  (void)state;
  assert_int_equal(cairn_azure_container_exists(client, container2),
                   CAIRN_ENOTFOUND);
  assert_int_equal(cairn_azure_blob_put(client, container2, "first", "x", 1,
                                        0), 0);
  assert_int_equal(cairn_azure_container_exists(client, container2), 0);

  /* a multi-block upload and a writer into missing containers */
  snprintf(path, sizeof(path), "%s/three-mib", tmpdir);
  assert_int_equal(cairn_azure_container_exists(client, container3),
                   CAIRN_ENOTFOUND);
  assert_int_equal(cairn_azure_blob_upload_file(client, container3, "up",
                                                path, 0, NULL), 0);
  assert_int_equal(cairn_azure_container_exists(client, container3), 0);
}

static void test_writer_reader(void **state)
{
  cairn_azure_writer *w = NULL;
  cairn_azure_reader *r = NULL;
  cairn_azure_blob_info info;
  size_t size = 3 * MIB + MIB / 2 + 17, off, n, got;
  unsigned char *data = malloc(size), *back = malloc(size + 1);
  unsigned char digest[CAIRN_SHA256_LEN];
  char hex[65];

  (void)state;
  assert_int_equal(cairn_random_bytes(data, size), 0);
  assert_int_equal(cairn_azure_writer_open(&w, client, container,
                                           "stream/multi", 0), 0);
  for (off = 0; off < size; off += n) {
    n = size - off < 100000 ? size - off : 100000;
    assert_int_equal(cairn_azure_writer_write(w, data + off, n), 0);
  }
  assert_int_equal(cairn_azure_writer_close(w), 0);

  cairn_sha256_digest(digest, data, size);
  cairn_hex_encode(hex, digest, sizeof(digest));
  assert_int_equal(cairn_azure_blob_properties(client, container,
                                               "stream/multi", &info), 0);
  assert_int_equal(info.size, size);
  assert_string_equal(info.sha256, hex);
  cairn_azure_blob_info_dispose(&info);

  assert_int_equal(cairn_azure_reader_open(&r, client, container,
                                           "stream/multi"), 0);
  for (off = 0;; off += got) {
    assert_int_equal(cairn_azure_reader_read(r, back + off, 77777, &got), 0);
    if (!got)
      break;
    assert_true(off + got <= size);
  }
  cairn_azure_reader_close(r);
  assert_int_equal(off, size);
  assert_memory_equal(back, data, size);

  /* a small stream is one Put Blob; an aborted one leaves nothing */
  assert_int_equal(cairn_azure_writer_open(&w, client, container,
                                           "stream/small", 0), 0);
  assert_int_equal(cairn_azure_writer_write(w, "tiny", 4), 0);
  assert_int_equal(cairn_azure_writer_close(w), 0);
  expect_text("stream/small", "tiny");
  assert_int_equal(cairn_azure_writer_open(&w, client, container,
                                           "stream/aborted", 0), 0);
  assert_int_equal(cairn_azure_writer_write(w, data, 2 * MIB + 5), 0);
  cairn_azure_writer_abort(w);
  assert_int_equal(cairn_azure_blob_properties(client, container,
                                               "stream/aborted", &info),
                   CAIRN_ENOTFOUND);
  free(data);
  free(back);
}

static void test_copy(void **state)
{
  (void)state;
  put_text("copy/src", "copied bytes");
  assert_int_equal(cairn_azure_blob_copy(client, container, "copy/src",
                                         "copy/dst", 0), 0);
  expect_text("copy/dst", "copied bytes");
  assert_int_equal(cairn_azure_blob_copy(client, container, "copy/src",
                                         "copy/dst",
                                         CAIRN_AZURE_CREATE_ONLY),
                   CAIRN_EEXISTS);
  assert_int_equal(cairn_azure_blob_copy(client, container, "copy/none",
                                         "copy/dst2", 0),
                   CAIRN_ENOTFOUND);
  assert_non_null(strstr(cairn_error_last()->message, "copy/none"));
}

/* One raw request with a header, for blobs as other tools leave them. */
static void raw_request(const char *method, const char *name,
                        const char *query, const char *header,
                        const char *value, const char *body)
{
  cairn_http_request req;

  cairn_http_request_init(&req);
  assert_int_equal(cairn__azure_request(&req, client, method, container,
                                        name, query), 0);
  if (header)
    assert_int_equal(cairn_http_headers_add(&req.headers, header, value),
                     0);
  if (body) {
    req.body.kind = CAIRN_HTTP_BODY_MEM;
    req.body.data = body;
    req.body.len = strlen(body);
  }
  if (cairn__azure_send(client, &req, container, name) != 0)
    fail_msg("%s %s: %s", method, name, cairn_error_last()->message);
  cairn_http_request_dispose(&req);
}

/*
 * Whole-blob MD5 on block uploads, so that other tools can check them;
 * blobs of other tools are checked with their MD5 when they have no
 * SHA-256, and read without a check when they have neither.
 */
static void test_content_md5(void **state)
{
  unsigned char *data, md5[16];
  char path[300], *b64, *got = NULL;
  cairn_http_request req;
  const char *stored;
  size_t len = 3 * MIB + 5, glen;
  int fd;

  (void)state;
  data = malloc(len);
  assert_non_null(data);
  assert_int_equal(cairn_random_bytes(data, len), 0);
  snprintf(path, sizeof(path), "%s/md5-src", tmpdir);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  close(fd);
  cairn_md5_digest(md5, data, len);
  b64 = cairn_base64_encode(md5, sizeof(md5));

  /* 1 MiB blocks: four of them; the MD5 of all costs a second pass
     over the data, so the commit carries it only when asked for */
  assert_int_equal(cairn_azure_blob_upload_file(client, container,
                                                "md5/plain", path, 0,
                                                NULL), 0);
  cairn_http_request_init(&req);
  assert_int_equal(cairn__azure_request(&req, client, "HEAD", container,
                                        "md5/plain", NULL), 0);
  assert_int_equal(cairn__azure_send(client, &req, container, "md5/plain"),
                   0);
  assert_null(cairn_http_headers_get(&req.response_headers, "Content-MD5"));
  cairn_http_request_dispose(&req);
  {
    cairn_azure_transfer_options opts;
    cairn_azure_client *md5_client;

    memset(&opts, 0, sizeof(opts));
    opts.block_size = 1024 * 1024;
    opts.content_md5 = 1;
    assert_int_equal(cairn_azure_client_new(&md5_client, account, &opts), 0);
    assert_int_equal(cairn_azure_blob_upload_file(md5_client, container,
                                                  "md5/blocks", path, 0,
                                                  NULL), 0);
    cairn_azure_client_free(md5_client);
  }
  cairn_http_request_init(&req);
  assert_int_equal(cairn__azure_request(&req, client, "HEAD", container,
                                        "md5/blocks", NULL), 0);
  assert_int_equal(cairn__azure_send(client, &req, container, "md5/blocks"),
                   0);
  stored = cairn_http_headers_get(&req.response_headers, "Content-MD5");
  assert_non_null(stored);
  assert_string_equal(stored, b64);
  cairn_http_request_dispose(&req);
  free(b64);
  free(data);

  /* another tool's blob: an MD5 but no SHA-256; a wrong one is caught */
  put_text("md5/foreign", "foreign bytes");
  snprintf(path, sizeof(path), "%s/md5-foreign", tmpdir);
  assert_int_equal(cairn_azure_blob_download_file(client, container,
                                                  "md5/foreign", path, NULL),
                   0);
  raw_request("PUT", "md5/foreign", "comp=properties",
              "x-ms-blob-content-md5", "AAAAAAAAAAAAAAAAAAAAAA==", NULL);
  assert_int_equal(cairn_azure_blob_download_file(client, container,
                                                  "md5/foreign", path, NULL),
                   CAIRN_EINTEGRITY);
  assert_non_null(strstr(cairn_error_last()->message, "Content-MD5"));
  assert_int_not_equal(access(path, F_OK), 0);

  /* neither checksum: read as it is, never reported as damaged */
  {
    char *id = cairn_base64_encode("block-0", 7);
    char *enc = cairn__azure_encode_query(id), q[160], list[160];

    snprintf(q, sizeof(q), "comp=block&blockid=%s", enc);
    raw_request("PUT", "md5/bare", q, NULL, NULL, "no checksum at all");
    snprintf(list, sizeof(list), "<?xml version=\"1.0\"?><BlockList>"
             "<Latest>%s</Latest></BlockList>", id);
    raw_request("PUT", "md5/bare", "comp=blocklist", NULL, NULL, list);
    free(enc);
    free(id);
  }
  snprintf(path, sizeof(path), "%s/md5-bare", tmpdir);
  assert_int_equal(cairn_azure_blob_download_file(client, container,
                                                  "md5/bare", path, NULL),
                   0);
  assert_int_equal(cairn_azure_blob_get(client, container, "md5/bare", &got,
                                        &glen), 0);
  assert_int_equal(glen, 18);
  free(got);
}

/* Read a whole local file (free()). */
static char *slurp(const char *path, size_t *len)
{
  cairn_buf b = CAIRN_BUF_INIT;

  assert_int_equal(cairn_file_read(&b, path, 0), 0);
  *len = b.size;
  return cairn_buf_detach(&b);
}

/*
 * Many blobs in one go: small ones in one request each, an empty one,
 * one larger than a single answer (fetched in ranges), and a blob that
 * does not match its SHA-256.
 */
static void test_download_many(void **state)
{
  cairn_azure_transfer_options opts;
  cairn_azure_client *small;
  cairn_azure_download_job jobs[4];
  char paths[4][300], src[300], *got, sha[65];
  unsigned char *big;
  size_t len, i, biglen = 3 * MIB + 17;
  int fd;

  (void)state;
  big = malloc(biglen);
  assert_non_null(big);
  assert_int_equal(cairn_random_bytes(big, biglen), 0);
  snprintf(src, sizeof(src), "%s/many-big", tmpdir);
  fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_int_equal(write(fd, big, biglen), (ssize_t)biglen);
  close(fd);
  assert_int_equal(cairn_azure_blob_upload_file(client, container,
                                                "dlmany/big", src, 0, sha), 0);
  assert_int_equal(cairn_azure_blob_put(client, container, "dlmany/a",
                                        "alpha", 5, 0), 0);
  assert_int_equal(cairn_azure_blob_put(client, container, "dlmany/empty",
                                        "", 0, 0), 0);
  put_text("dlmany/b", "beta, with metadata from elsewhere");

  /* a budget of 1 MiB over 4 requests: one answer holds 256 KiB */
  memset(&opts, 0, sizeof(opts));
  opts.max_concurrency = 4;
  opts.memory_budget = MIB;
  assert_int_equal(cairn_azure_client_new(&small, account, &opts), 0);
  memset(jobs, 0, sizeof(jobs));
  jobs[0].name = "dlmany/a";
  jobs[1].name = "dlmany/empty";
  jobs[2].name = "dlmany/big";
  jobs[3].name = "dlmany/b";
  for (i = 0; i < 4; i++) {
    snprintf(paths[i], sizeof(paths[i]), "%s/many-%zu", tmpdir, i);
    jobs[i].local_path = paths[i];
  }
  if (cairn_azure_blob_download_many(small, container, jobs, 4) != 0)
    fail_msg("%s", cairn_error_last()->message);
  got = slurp(paths[0], &len);
  assert_int_equal(len, 5);
  assert_memory_equal(got, "alpha", 5);
  free(got);
  assert_int_equal(jobs[1].size, 0);
  got = slurp(paths[1], &len);
  assert_int_equal(len, 0);
  free(got);
  got = slurp(paths[2], &len);
  assert_int_equal(len, biglen);
  assert_memory_equal(got, big, biglen);
  assert_string_equal(jobs[2].sha256, sha);
  free(got);
  assert_int_equal(jobs[3].size, strlen("beta, with metadata from "
                                        "elsewhere"));

  /* a blob whose bytes do not match its recorded SHA-256 */
  raw_request("PUT", "dlmany/a", "comp=metadata", "x-ms-meta-cairnsha256",
              "0000000000000000000000000000000000000000000000000000000000000000",
              NULL);
  assert_int_equal(cairn_azure_blob_download_many(small, container, jobs,
                                                  1), CAIRN_EINTEGRITY);
  assert_non_null(strstr(cairn_error_last()->message, "dlmany/a"));
  cairn_azure_client_free(small);
  free(big);
}

/* Azurite closes idle connections after 5 s; the next request still
 * succeeds on the same client. */
static void test_idle_connection(void **state)
{
  (void)state;
  put_text("idle.txt", "before");
  sleep(6);
  expect_text("idle.txt", "before");
  put_text("idle.txt", "after");
  expect_text("idle.txt", "after");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_containers),
    cmocka_unit_test(test_put_get_delete),
    cmocka_unit_test(test_odd_names),
    cmocka_unit_test(test_zero_byte),
    cmocka_unit_test(test_create_only),
    cmocka_unit_test(test_list_delimiter_and_markers),
    cmocka_unit_test(test_upload_download_40mib),
    cmocka_unit_test(test_integrity_mismatch),
    cmocka_unit_test(test_wrong_key),
    cmocka_unit_test(test_connection_refused),
    cmocka_unit_test(test_missing_container_created),
    cmocka_unit_test(test_writer_reader),
    cmocka_unit_test(test_copy),
    cmocka_unit_test(test_content_md5),
    cmocka_unit_test(test_download_many),
    cmocka_unit_test(test_idle_connection),
    cmocka_unit_test(test_list_many),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

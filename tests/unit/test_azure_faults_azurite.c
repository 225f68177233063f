/*
 * The Azure store under faults: tests/harness/fault_proxy.py between
 * cairn and Azurite answers a share of requests 503 ServerBusy or 500
 * OperationTimedOut, drops connections before or after Azurite did the
 * work, caps the requests it serves at once, or slows bodies down.
 * Everything must still land, exactly once and byte for byte, and what
 * must not be repeated is not.  These are the short versions; the long
 * ones (10,000 files, huge blocks) are in test_azure_long_azurite.c.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cairn/azure.h>
#include <cairn/fs.h>

#include "azure/client.h"
#include "core/buf.h"
#include "core/hash.h"

#include "../conformance/fault_proxy.h"

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY                                                            \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="
#define MIB (1024 * 1024)

static struct fault_proxy proxy;
static cairn_azure_account *direct_account; /* straight to Azurite */
static cairn_azure_client *direct;
static cairn_azure_account *proxied_account; /* through the proxy */
static char container[64];
static char scratch[256];

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int setup(void **state)
{
  const char *endpoint = getenv("CAIRN_TEST_AZURITE_ENDPOINT");
  unsigned char r[5];
  char hex[11];

  (void)state;
  if (!endpoint || cairn_global_init() < 0)
    return -1;
  if (fault_proxy_start(&proxy, "--seed 7") < 0) {
    fprintf(stderr, "cannot start %s\n", FAULT_PROXY_SCRIPT);
    return -1;
  }
  if (cairn_random_bytes(r, sizeof(r)) < 0)
    return -1;
  cairn_hex_encode(hex, r, sizeof(r));
  snprintf(container, sizeof(container), "faults-%s", hex);
  snprintf(scratch, sizeof(scratch), "/tmp/cairn-faults-XXXXXX");
  if (!mkdtemp(scratch))
    return -1;
  if (cairn_azure_account_from_key(&direct_account, DEV_ACCOUNT, DEV_KEY,
                                   endpoint) < 0 ||
      cairn_azure_client_new(&direct, direct_account, NULL) < 0 ||
      cairn_azure_account_from_key(&proxied_account, DEV_ACCOUNT, DEV_KEY,
                                   proxy.endpoint) < 0 ||
      cairn_azure_container_create(direct, container) < 0) {
    fprintf(stderr, "%s\n", cairn_error_last()->message);
    return -1;
  }
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fault_proxy_stop(&proxy);
  cairn_azure_container_delete(direct, container);
  cairn_azure_client_free(direct);
  cairn_azure_account_free(direct_account);
  cairn_azure_account_free(proxied_account);
  nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  cairn_global_cleanup();
  return 0;
}

static char *local(const char *rel)
{
  static char buf[4][512];
  static int i;

  i = (i + 1) % 4;
  snprintf(buf[i], sizeof(buf[i]), "%s/%s", scratch, rel);
  return buf[i];
}

static void write_file(const char *path, size_t len, uint32_t seed)
{
  unsigned char *buf = malloc(len ? len : 1);
  size_t i;
  int fd;

  assert_non_null(buf);
  for (i = 0; i < len; i++) {
    seed = seed * 1103515245u + 12345u;
    buf[i] = (unsigned char)(seed >> 16);
  }
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, buf, len), (ssize_t)len);
  close(fd);
  free(buf);
}

/* A folder of @p n small files and @p big files of 2.5 MiB. */
static void make_tree(const char *dir, size_t n, size_t big)
{
  char path[600];
  size_t i;

  assert_int_equal(mkdir(dir, 0777), 0);
  for (i = 0; i < n; i++) {
    snprintf(path, sizeof(path), "%s/s%04zu", dir, i);
    write_file(path, 100 + i % 900, (uint32_t)i);
  }
  for (i = 0; i < big; i++) {
    snprintf(path, sizeof(path), "%s/big%zu", dir, i);
    write_file(path, 5 * MIB / 2 + i, (uint32_t)(1000 + i));
  }
}

typedef struct {
  size_t count;
  int mismatches;
  const cairn_fs_tree *tree;
  const char *prefix;
} landed;

static int check_landed(const cairn_azure_blob_info *e, void *payload)
{
  landed *l = payload;
  const char *rel = e->name + strlen(l->prefix);
  size_t i;

  l->count++;
  for (i = 0; i < l->tree->count; i++)
    if (!strcmp(l->tree->items[i].rel, rel))
      break;
  if (i == l->tree->count || e->size != l->tree->items[i].size ||
      strcmp(e->sha256, l->tree->items[i].sha256) != 0)
    l->mismatches++;
  return 0;
}

/* Count, behind the proxy's back, what landed under @p prefix. */
static void expect_landed(const char *prefix, const cairn_fs_tree *tree)
{
  landed l = {0, 0, tree, prefix};

  assert_int_equal(cairn_azure_list(direct, container, prefix, NULL,
                                    check_landed, &l), 0);
  assert_int_equal(l.count, tree->count);
  assert_int_equal(l.mismatches, 0);
}

static cairn_fs *proxied_fs(const char *root_rel,
                            const cairn_azure_transfer_options *o)
{
  cairn_fs *fs = NULL;
  char root[128];

  snprintf(root, sizeof(root), "az://%s/%s", container, root_rel);
  assert_int_equal(cairn_fs_azure_new(&fs, root, proxied_account, o), 0);
  return fs;
}

/*
 * Many files in parallel while the service is busy, times out, and
 * connections break before and after the work is done: all land once.
 */
static void test_azure_faults__parallel_uploads_land(void **state)
{
  cairn_azure_transfer_options o = {
      .max_concurrency = 16, .block_size = MIB, .single_put_max = MIB};
  cairn_fs_tree tree = {0};
  cairn_fs *fs;
  double t0;
  int out = 7;

  (void)state;
  make_tree(local("tree"), 300, 2);
  assert_int_equal(fault_proxy_reset(&proxy,
                                     "{\"busy\": 0.15, \"retry_after\": 1, "
                                     "\"timeout\": 0.05, \"drop\": 0.02, "
                                     "\"drop_after\": 0.02}"), 0);
  fs = proxied_fs("up", &o);
  t0 = now_s();
  {
    char dst[128];

    snprintf(dst, sizeof(dst), "az://%s/up/v1", container);
    if (cairn_fs_put_tree(fs, local("tree"), dst, &tree) != 0)
      fail_msg("put_tree: %s", cairn_error_last()->message);
  }
  fprintf(stderr, "  302 files through faults: %.1f s, %ld requests, "
          "%ld busy, %ld timeouts, %ld drops, %ld lost answers\n",
          now_s() - t0, fault_proxy_stat(&proxy, "requests"),
          fault_proxy_stat(&proxy, "busy"),
          fault_proxy_stat(&proxy, "timeouts"),
          fault_proxy_stat(&proxy, "drops"),
          fault_proxy_stat(&proxy, "drops_after"));
  /* the faults happened... */
  assert_true(fault_proxy_stat(&proxy, "busy") > 0);
  assert_true(fault_proxy_stat(&proxy, "timeouts") > 0);
  assert_true(fault_proxy_stat(&proxy, "drops") > 0);
  assert_true(fault_proxy_stat(&proxy, "drops_after") > 0);
  /* ...and every file landed, byte for byte */
  assert_int_equal(tree.count, 302);
  expect_landed("up/v1/", &tree);

  /* deleting them all through the same faults leaves nothing */
  {
    char dir[128];

    snprintf(dir, sizeof(dir), "az://%s/up/v1", container);
    assert_int_equal(cairn_fs_rmtree(fs, dir), 0);
    assert_int_equal(cairn_fs_exists(fs, dir, &out), 0);
    assert_int_equal(out, 0);
  }
  assert_int_equal(cairn_azure_list_any(direct, container, "up/v1/", &out),
                   0);
  assert_int_equal(out, 0);
  cairn_fs_tree_dispose(&tree);
  cairn_fs_free(fs);
}

/*
 * A service that serves 4 requests at once: the client, starting at 16,
 * lowers its concurrency, and every file lands.
 */
static void test_azure_faults__concurrency_adapts(void **state)
{
  cairn_azure_transfer_options o = {
      .max_concurrency = 16, .block_size = MIB, .single_put_max = MIB};
  cairn_azure_upload_job jobs[200];
  cairn_azure_client *c = NULL;
  char names[200][32];
  size_t i;
  long busy;

  (void)state;
  write_file(local("one-kib"), 1024, 3);
  assert_int_equal(fault_proxy_reset(&proxy, "{\"max_inflight\": 4, "
                                             "\"retry_after\": 0}"), 0);
  assert_int_equal(cairn_azure_client_new(&c, proxied_account, &o), 0);
  for (i = 0; i < 200; i++) {
    snprintf(names[i], sizeof(names[i]), "adapt/f%03zu", i);
    memset(&jobs[i], 0, sizeof(jobs[i]));
    jobs[i].name = names[i];
    jobs[i].local_path = local("one-kib");
  }
  if (cairn_azure_blob_upload_many(c, container, jobs, 200,
                                   CAIRN_AZURE_CREATE_ONLY) != 0)
    fail_msg("upload_many: %s", cairn_error_last()->message);
  busy = fault_proxy_stat(&proxy, "busy");
  fprintf(stderr, "  200 files, 4 at once: %ld busy answers, limit %u\n",
          busy, cairn_http_client_limit(c->http));
  assert_true(busy > 0);
  assert_true(cairn_http_client_limit(c->http) < 16);
  /* without adaptation about 3 in 4 attempts are turned away */
  assert_true(busy < 120);
  for (i = 0; i < 200; i++)
    assert_int_equal(jobs[i].size, 1024);
  assert_int_equal(fault_proxy_reset(&proxy, "{\"max_inflight\": 0}"), 0);
  cairn_azure_client_free(c);
}

/*
 * Answers lost after the work was done: the repeated create-only write,
 * copy and delete find their own work and succeed.
 */
static void test_azure_faults__lost_answers(void **state)
{
  cairn_azure_client *c = NULL;
  cairn_azure_blob_info info;
  char name[64], copy[64];
  char *data = NULL;
  size_t len = 0;
  int i;

  (void)state;
  assert_int_equal(fault_proxy_reset(&proxy, "{\"drop_after_every\": 2}"),
                   0);
  assert_int_equal(cairn_azure_client_new(&c, proxied_account, NULL), 0);
  for (i = 0; i < 10; i++) {
    snprintf(name, sizeof(name), "lost/%d", i);
    snprintf(copy, sizeof(copy), "lost/copy-%d", i);
    if (cairn__azure_put_blob(c, container, name, name, strlen(name),
                              CAIRN_AZURE_CREATE_ONLY,
                              "0000000000000000000000000000000000000000"
                              "000000000000000000000000") != 0)
      fail_msg("put %s: %s", name, cairn_error_last()->message);
    if (cairn_azure_blob_copy(c, container, name, copy,
                              CAIRN_AZURE_CREATE_ONLY) != 0)
      fail_msg("copy %s: %s", name, cairn_error_last()->message);
    if (cairn_azure_blob_delete(c, container, name) != 0)
      fail_msg("delete %s: %s", name, cairn_error_last()->message);
  }
  assert_true(fault_proxy_stat(&proxy, "drops_after") >= 14);
  /* behind the proxy: the copies are there, the sources are gone */
  for (i = 0; i < 10; i++) {
    snprintf(name, sizeof(name), "lost/%d", i);
    snprintf(copy, sizeof(copy), "lost/copy-%d", i);
    assert_int_equal(cairn_azure_blob_get(direct, container, copy, &data,
                                          &len), 0);
    assert_int_equal(len, strlen(name));
    assert_memory_equal(data, name, len);
    free(data);
    assert_int_equal(cairn_azure_blob_properties(direct, container, name,
                                                 &info),
                     CAIRN_ENOTFOUND);
  }
  /* a blob that really was there before is still refused */
  assert_int_equal(fault_proxy_reset(&proxy, "{\"drop_after_every\": 0}"),
                   0);
  assert_int_equal(cairn__azure_put_blob(c, container, "lost/copy-0", "x",
                                         1, CAIRN_AZURE_CREATE_ONLY,
                                         "1111111111111111111111111111111111"
                                         "111111111111111111111111111111"),
                   CAIRN_EEXISTS);
  cairn_azure_client_free(c);
}

/* Client errors are answered once: no request is repeated. */
static void test_azure_faults__client_errors_not_repeated(void **state)
{
  cairn_azure_client *c = NULL, *bad = NULL;
  cairn_azure_account *wrong = NULL;
  cairn_azure_blob_info info;
  char *data = NULL;
  size_t len;

  (void)state;
  assert_int_equal(cairn_azure_client_new(&c, proxied_account, NULL), 0);
  assert_int_equal(cairn_azure_blob_put(direct, container, "once", "1", 1,
                                        0), 0);
  assert_int_equal(fault_proxy_reset(&proxy, NULL), 0);
  /* 409: exists */
  assert_int_equal(cairn_azure_blob_put(c, container, "once", "2", 1,
                                        CAIRN_AZURE_CREATE_ONLY),
                   CAIRN_EEXISTS);
  assert_int_equal(fault_proxy_stat(&proxy, "requests"), 1);
  /* 404: missing */
  assert_int_equal(cairn_azure_blob_get(c, container, "none", &data, &len),
                   CAIRN_ENOTFOUND);
  assert_int_equal(fault_proxy_stat(&proxy, "requests"), 2);
  /* 403: a wrong key */
  assert_int_equal(cairn_azure_account_from_key(
                       &wrong, DEV_ACCOUNT,
                       "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2x"
                       "tbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrLw==",
                       proxy.endpoint), 0);
  assert_int_equal(cairn_azure_client_new(&bad, wrong, NULL), 0);
  assert_int_equal(cairn_azure_blob_properties(bad, container, "once",
                                               &info),
                   CAIRN_EAUTH);
  assert_int_equal(fault_proxy_stat(&proxy, "requests"), 3);
  cairn_azure_client_free(bad);
  cairn_azure_account_free(wrong);
  cairn_azure_client_free(c);
}

/*
 * A slow link: bodies move at 1 MiB/s each way.  Blocks take seconds,
 * and nothing is cut for it.
 */
static void test_azure_faults__slow_link(void **state)
{
  cairn_azure_transfer_options o = {
      .max_concurrency = 2, .block_size = 2 * MIB, .single_put_max = MIB};
  cairn_azure_client *c = NULL;
  char up[65], down[65], want[65];
  double t0, took;

  (void)state;
  write_file(local("slow.bin"), 6 * MIB + 11, 99);
  assert_int_equal(cairn_sha256_file_hex(want, local("slow.bin")), 0);
  assert_int_equal(fault_proxy_reset(&proxy, "{\"slow\": 1048576}"), 0);
  assert_int_equal(cairn_azure_client_new(&c, proxied_account, &o), 0);
  t0 = now_s();
  if (cairn_azure_blob_upload_file(c, container, "slow.bin",
                                   local("slow.bin"), 0, up) != 0)
    fail_msg("upload: %s", cairn_error_last()->message);
  took = now_s() - t0;
  if (cairn_azure_blob_download_file(c, container, "slow.bin",
                                     local("slow.back"), down) != 0)
    fail_msg("download: %s", cairn_error_last()->message);
  fprintf(stderr, "  6 MiB at 1 MiB/s per connection: up %.1f s, in all "
          "%.1f s\n", took, now_s() - t0);
  /* 3+ blocks over 2 connections at 1 MiB/s: the link was slow */
  assert_true(took > 2.5);
  assert_string_equal(up, want);
  assert_string_equal(down, want);
  assert_int_equal(fault_proxy_reset(&proxy, "{\"slow\": 0}"), 0);
  cairn_azure_client_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_azure_faults__parallel_uploads_land),
    cmocka_unit_test(test_azure_faults__concurrency_adapts),
    cmocka_unit_test(test_azure_faults__lost_answers),
    cmocka_unit_test(test_azure_faults__client_errors_not_repeated),
    cmocka_unit_test(test_azure_faults__slow_link),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * The long versions of the field cases, minutes each, outside the
 * default test run (CTest label "long"; see tests/harness/README.md):
 * 10,000 files uploaded in parallel while the service is busy, 12,345
 * blobs listed and removed, one write of more than 2 GiB, and blocks of
 * 100 MiB over a link of 1 MiB/s.
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
#include <sys/mman.h>
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
#define MIB ((size_t)1024 * 1024)

static struct fault_proxy proxy;
static cairn_azure_account *direct_account;
static cairn_azure_client *direct;
static cairn_azure_account *proxied_account;
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

/* A fresh container for each test: Azurite slows down with many blobs. */
static int test_setup(void **state)
{
  unsigned char r[5];
  char hex[11];

  (void)state;
  if (cairn_random_bytes(r, sizeof(r)) < 0)
    return -1;
  cairn_hex_encode(hex, r, sizeof(r));
  snprintf(container, sizeof(container), "long-%s", hex);
  snprintf(scratch, sizeof(scratch), "/tmp/cairn-long-XXXXXX");
  if (!mkdtemp(scratch) || cairn_azure_container_create(direct,
                                                        container) < 0)
    return -1;
  return fault_proxy_reset(&proxy, NULL);
}

static int test_teardown(void **state)
{
  (void)state;
  cairn_azure_container_delete(direct, container);
  nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

static int setup(void **state)
{
  const char *endpoint = getenv("CAIRN_TEST_AZURITE_ENDPOINT");

  (void)state;
  if (!endpoint || cairn_global_init() < 0 ||
      fault_proxy_start(&proxy, "--seed 11") < 0)
    return -1;
  if (cairn_azure_account_from_key(&direct_account, DEV_ACCOUNT, DEV_KEY,
                                   endpoint) < 0 ||
      cairn_azure_client_new(&direct, direct_account, NULL) < 0 ||
      cairn_azure_account_from_key(&proxied_account, DEV_ACCOUNT, DEV_KEY,
                                   proxy.endpoint) < 0)
    return -1;
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fault_proxy_stop(&proxy);
  cairn_azure_client_free(direct);
  cairn_azure_account_free(direct_account);
  cairn_azure_account_free(proxied_account);
  cairn_global_cleanup();
  return 0;
}

static const char *local(const char *rel)
{
  static char buf[4][512];
  static int i;

  i = (i + 1) % 4;
  snprintf(buf[i], sizeof(buf[i]), "%s/%s", scratch, rel);
  return buf[i];
}

static int count_entry(const cairn_azure_blob_info *e, void *payload)
{
  (void)e;
  (*(size_t *)payload)++;
  return 0;
}

static size_t count_blobs(const char *prefix)
{
  size_t n = 0;

  assert_int_equal(cairn_azure_list(direct, container, prefix, NULL,
                                    count_entry, &n), 0);
  return n;
}

/*
 * 10,000 files, 64 at once, while the first fifth of the requests are
 * answered ServerBusy with Retry-After: 3 and 5% OperationTimedOut.
 */
static void test_long__ten_thousand_files_busy(void **state)
{
  cairn_azure_transfer_options o = {.max_concurrency = 64};
  cairn_fs_tree tree = {0};
  cairn_fs *fs = NULL;
  char path[600], root[128], dst[160];
  size_t i;
  double t0;
  int fd;

  (void)state;
  assert_int_equal(mkdir(local("tenk"), 0777), 0);
  for (i = 0; i < 10000; i++) {
    snprintf(path, sizeof(path), "%s/f%05zu", local("tenk"), i);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, path, strlen(path)), (ssize_t)strlen(path));
    close(fd);
  }
  assert_int_equal(fault_proxy_reset(&proxy,
                                     "{\"busy\": 0.2, \"busy_first\": 2000, "
                                     "\"retry_after\": 3, "
                                     "\"timeout\": 0.05}"), 0);
  snprintf(root, sizeof(root), "az://%s/ds", container);
  snprintf(dst, sizeof(dst), "%s/v1", root);
  assert_int_equal(cairn_fs_azure_new(&fs, root, proxied_account, &o), 0);
  t0 = now_s();
  if (cairn_fs_put_tree(fs, local("tenk"), dst, &tree) != 0)
    fail_msg("put_tree: %s", cairn_error_last()->message);
  fprintf(stderr, "  10,000 files in %.0f s: %ld requests, %ld busy, %ld "
          "timeouts\n", now_s() - t0, fault_proxy_stat(&proxy, "requests"),
          fault_proxy_stat(&proxy, "busy"),
          fault_proxy_stat(&proxy, "timeouts"));
  assert_true(fault_proxy_stat(&proxy, "busy") > 100);
  assert_int_equal(tree.count, 10000);
  assert_int_equal(count_blobs("ds/v1/"), 10000);
  cairn_fs_tree_dispose(&tree);
  cairn_fs_free(fs);
}

/* 12,345 blobs: every page of the listing, and a removal that ends. */
static void test_long__listing_and_rmtree(void **state)
{
  const size_t n = 12345;
  cairn_azure_upload_job *jobs = calloc(n, sizeof(*jobs));
  char **names = calloc(n, sizeof(*names));
  cairn_fs_list l = {0};
  cairn_fs *fs = NULL;
  char root[128], dir[160];
  size_t i;
  int found = 1;
  double t0;

  (void)state;
  assert_non_null(jobs);
  assert_non_null(names);
  {
    int fd = open(local("one"), O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "1", 1), 1);
    close(fd);
  }
  for (i = 0; i < n; i++) {
    assert_true(asprintf(&names[i], "runs/r%05zu", i) > 0);
    jobs[i].name = names[i];
    jobs[i].local_path = local("one");
  }
  t0 = now_s();
  assert_int_equal(cairn_azure_blob_upload_many(direct, container, jobs, n,
                                                0), 0);
  fprintf(stderr, "  12,345 blobs up in %.0f s\n", now_s() - t0);

  snprintf(root, sizeof(root), "az://%s", container);
  snprintf(dir, sizeof(dir), "%s/runs", root);
  assert_int_equal(cairn_fs_azure_new(&fs, root, direct_account, NULL), 0);
  assert_int_equal(cairn_fs_listdir(fs, dir, &l), 0);
  assert_int_equal(l.count, n);
  cairn_fs_list_dispose(&l);
  assert_int_equal(count_blobs("runs/"), n);

  t0 = now_s();
  assert_int_equal(cairn_fs_rmtree(fs, dir), 0);
  fprintf(stderr, "  12,345 blobs removed in %.0f s\n", now_s() - t0);
  assert_int_equal(cairn_azure_list_any(direct, container, "runs/", &found),
                   0);
  assert_int_equal(found, 0);
  cairn_fs_free(fs);
  for (i = 0; i < n; i++)
    free(names[i]);
  free(names);
  free(jobs);
}

static int count_blocks(const char *name)
{
  cairn_http_request req;
  const char *p;
  int n = 0;

  cairn_http_request_init(&req);
  assert_int_equal(cairn__azure_request(&req, direct, "GET", container,
                                        name,
                                        "comp=blocklist&blocklisttype="
                                        "committed"), 0);
  req.sink.kind = CAIRN_HTTP_SINK_BUF;
  assert_int_equal(cairn__azure_send(direct, &req, container, name), 0);
  for (p = cairn_buf_cstr(&req.response); (p = strstr(p, "<Block>"));
       p++)
    n++;
  cairn_http_request_dispose(&req);
  return n;
}

/* One write of 2 GiB + 10 bytes: blocks of the configured size. */
static void test_long__one_write_over_two_gib(void **state)
{
  const size_t len = ((size_t)2 << 30) + 10;
  cairn_azure_blob_info info;
  unsigned char digest[CAIRN_SHA256_LEN];
  cairn_sha256 *h = NULL;
  cairn_fs_file *f = NULL;
  cairn_fs *fs = NULL;
  char root[128], path[160], want[65];
  void *zeros;
  size_t off;

  (void)state;
  /* zero pages cost no memory until written */
  zeros = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
               MAP_NORESERVE, -1, 0);
  assert_true(zeros != MAP_FAILED);
  assert_int_equal(cairn_sha256_new(&h), 0);
  for (off = 0; off < len; off += 64 * MIB)
    cairn_sha256_update(h, (char *)zeros + off,
                        len - off < 64 * MIB ? len - off : 64 * MIB);
  cairn_sha256_final(h, digest);
  cairn_sha256_free(h);
  cairn_hex_encode(want, digest, sizeof(digest));

  snprintf(root, sizeof(root), "az://%s", container);
  snprintf(path, sizeof(path), "%s/big.bin", root);
  assert_int_equal(cairn_fs_azure_new(&fs, root, direct_account, NULL), 0);
  assert_int_equal(cairn_fs_open(&f, fs, path, "wb"), 0);
  if (cairn_fs_write(f, zeros, len) != 0 || cairn_fs_close(f) != 0)
    fail_msg("write: %s", cairn_error_last()->message);
  munmap(zeros, len);

  assert_int_equal(cairn_azure_blob_properties(direct, container, "big.bin",
                                               &info), 0);
  assert_int_equal(info.size, len);
  assert_string_equal(info.sha256, want);
  cairn_azure_blob_info_dispose(&info);
  /* 8 MiB blocks: 256 full ones and the 10 bytes */
  assert_int_equal(count_blocks("big.bin"), 257);
  cairn_fs_free(fs);
}

/* Blocks of 100 MiB over a link of 1 MiB/s: no deadline cuts them. */
static void test_long__big_blocks_slow_link(void **state)
{
  cairn_azure_transfer_options o = {
      .max_concurrency = 2, .block_size = 100 * MIB, .single_put_max = 8 * MIB};
  cairn_azure_client *c = NULL;
  char up[65], want[65];
  double t0;
  int fd;

  (void)state;
  fd = open(local("big"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)(200 * MIB)), 0);
  assert_int_equal(pwrite(fd, "end", 3, (off_t)(200 * MIB - 3)), 3);
  close(fd);
  assert_int_equal(cairn_sha256_file_hex(want, local("big")), 0);
  assert_int_equal(fault_proxy_reset(&proxy, "{\"slow\": 1048576}"), 0);
  assert_int_equal(cairn_azure_client_new(&c, proxied_account, &o), 0);
  t0 = now_s();
  if (cairn_azure_blob_upload_file(c, container, "slow-big", local("big"),
                                   0, up) != 0)
    fail_msg("upload: %s", cairn_error_last()->message);
  fprintf(stderr, "  200 MiB at 1 MiB/s per connection: %.0f s\n",
          now_s() - t0);
  /* each block took well over the 60 s an inactivity limit allows */
  assert_true(now_s() - t0 > 90);
  assert_string_equal(up, want);
  cairn_azure_client_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_long__ten_thousand_files_busy,
                                    test_setup, test_teardown),
    cmocka_unit_test_setup_teardown(test_long__listing_and_rmtree,
                                    test_setup, test_teardown),
    cmocka_unit_test_setup_teardown(test_long__one_write_over_two_gib,
                                    test_setup, test_teardown),
    cmocka_unit_test_setup_teardown(test_long__big_blocks_slow_link,
                                    test_setup, test_teardown),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

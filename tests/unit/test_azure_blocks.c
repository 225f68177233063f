/*
 * Block sizes, fixed before a byte is sent: a file of known size fits
 * the service's 50,000 blocks, a stream of unknown length gets blocks
 * that grow to cover the largest size it may reach, and sizes no block
 * blob can hold are refused up front.  Pure arithmetic, no huge files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cairn/azure.h>

#include "azure/transfer.h"

#define MIB ((uint64_t)1024 * 1024)
#define GIB (1024 * MIB)
#define TIB (1024 * GIB)

static void test_azure_blocks__known_size(void **state)
{
  uint64_t b;

  (void)state;
  /* small files keep the configured size */
  assert_int_equal(cairn__azure_block_size(8 * MIB, 0), 8 * MIB);
  assert_int_equal(cairn__azure_block_size(8 * MIB, 100 * MIB), 8 * MIB);
  /* 8 MiB blocks hold up to 390.6 GiB in 50,000 blocks */
  assert_int_equal(cairn__azure_block_size(8 * MIB, 50000 * 8 * MIB),
                   8 * MIB);
  assert_int_equal(cairn__azure_block_size(8 * MIB, 50000 * 8 * MIB + 1),
                   8 * MIB + 1);
  /* the field case: 4 MiB blocks fail a 267 GiB file, not here */
  b = cairn__azure_block_size(4 * MIB, 267 * GIB);
  assert_true(b > 4 * MIB);
  assert_true(b * 50000 >= 267 * GIB);
  assert_true((b - 1) * 50000 < 267 * GIB);
  /* 1 TiB: ceil(size / 50,000) */
  assert_int_equal(cairn__azure_block_size(8 * MIB, TIB),
                   (TIB + 49999) / 50000);
  /* the largest blob takes 4000 MiB blocks; one byte more is refused */
  assert_int_equal(cairn__azure_block_size(8 * MIB, CAIRN_AZURE_MAX_BLOB),
                   CAIRN_AZURE_MAX_BLOCK);
  assert_int_equal(cairn__azure_block_size(8 * MIB,
                                           CAIRN_AZURE_MAX_BLOB + 1), 0);
  /* a configured size over the service's limit is brought down to it */
  assert_int_equal(cairn__azure_block_size(5000 * MIB, GIB),
                   CAIRN_AZURE_MAX_BLOCK);
}

/* Bytes that blocks 0..49,999 of a stream hold together. */
static uint64_t stream_capacity(uint64_t configured, uint64_t max)
{
  uint64_t i, total = 0, b;

  for (i = 0; i < 50000; i++) {
    b = cairn__azure_stream_block(configured, max, i);
    if (!b)
      return 0;
    total += b;
  }
  return total;
}

static void test_azure_blocks__stream(void **state)
{
  uint64_t max = CAIRN_AZURE_STREAM_MAX_DEFAULT, big;

  (void)state;
  /* the first 10,000 blocks keep the configured size: bounded buffers */
  assert_int_equal(cairn__azure_stream_block(8 * MIB, max, 0), 8 * MIB);
  assert_int_equal(cairn__azure_stream_block(8 * MIB, max, 9999), 8 * MIB);
  /* then one bigger size, enough to reach 5 TiB in all */
  big = cairn__azure_stream_block(8 * MIB, max, 10000);
  assert_true(big > 100 * MIB && big < 140 * MIB);
  assert_int_equal(cairn__azure_stream_block(8 * MIB, max, 49999), big);
  assert_true(stream_capacity(8 * MIB, max) >= max);
  /* past the 50,000th block there is none */
  assert_int_equal(cairn__azure_stream_block(8 * MIB, max, 50000), 0);

  /* a small maximum needs no bigger blocks at all */
  assert_int_equal(cairn__azure_stream_block(8 * MIB, 10 * GIB, 30000),
                   8 * MIB);
  /* the largest blob is reachable, one byte more is not */
  assert_true(stream_capacity(8 * MIB, CAIRN_AZURE_MAX_BLOB) >=
              CAIRN_AZURE_MAX_BLOB);
  assert_int_equal(cairn__azure_stream_block(8 * MIB,
                                             CAIRN_AZURE_MAX_BLOB + 1, 0),
                   0);
  /* ~100 MiB blocks for ~5 TB, as the service's guidance has it */
  assert_true(cairn__azure_stream_block(4 * MIB, 5 * TIB, 20000) >=
              100 * MIB);
}

/* A stream may not be opened for more than a blob can hold. */
static void test_azure_blocks__refused_up_front(void **state)
{
  cairn_azure_account *a = NULL;
  cairn_azure_client *c = NULL;
  static const char *never = "read callback never called";

  (void)state;
  cairn_global_init();
  /* an endpoint nobody listens on: a request would fail with ENET */
  assert_int_equal(cairn_azure_account_from_key(
                       &a, "devstoreaccount1",
                       "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2U"
                       "VErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
                       "http://127.0.0.1:1/devstoreaccount1"), 0);
  assert_int_equal(cairn_azure_client_new(&c, a, NULL), 0);
  assert_int_equal(cairn_azure_blob_upload_stream(
                       c, "ctr", "huge", NULL, (void *)never,
                       CAIRN_AZURE_MAX_BLOB + 1, 0, NULL),
                   CAIRN_EINVAL);
  assert_non_null(strstr(cairn_error_last()->message, "huge"));
  assert_non_null(strstr(cairn_error_last()->message, "50,000 blocks"));
  /* and names the service would change are refused before any request */
  assert_int_equal(cairn_azure_blob_upload_stream(c, "ctr", "out/file.",
                                                  NULL, NULL, 0, 0, NULL),
                   CAIRN_EINVAL);
  assert_non_null(strstr(cairn_error_last()->message, "'.'"));
  assert_int_equal(cairn_azure_blob_put(c, "ctr", "dir./x", "x", 1, 0),
                   CAIRN_EINVAL);
  assert_int_equal(cairn_azure_blob_name_check("a/b.c/d"), 0);
  assert_int_equal(cairn_azure_blob_name_check(""), CAIRN_EINVAL);
  cairn_azure_client_free(c);
  cairn_azure_account_free(a);
  cairn_global_cleanup();
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_azure_blocks__known_size),
    cmocka_unit_test(test_azure_blocks__stream),
    cmocka_unit_test(test_azure_blocks__refused_up_front),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

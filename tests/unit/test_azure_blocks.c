/*
 * Block sizes, fixed before a byte is sent: a file of known size fits
 * the service's 50,000 blocks, a stream of unknown length gets blocks
 * that grow to cover the largest size it may reach, and sizes no block
 * blob can hold are refused up front.  Download ranges cover a blob
 * exactly.  Pure arithmetic, no huge files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
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

/* Check that @p ends covers @p size exactly; the ranges' number. */
static uint64_t check_cover(const uint64_t *ends, uint64_t count,
                            uint64_t size)
{
  uint64_t i, start = 0;

  assert_non_null(ends);
  assert_true(count > 0);
  for (i = 0; i < count; i++) {
    assert_true(ends[i] > start);
    assert_true(ends[i] - start <= CAIRN_AZURE_MAX_RANGE);
    /* only the last range may be under the floor */
    if (i + 1 < count)
      assert_true(ends[i] - start >= CAIRN_AZURE_MIN_RANGE);
    start = ends[i];
  }
  assert_int_equal(start, size);
  return count;
}

static void test_azure_blocks__download_ranges(void **state)
{
  uint64_t *ends, count, i, sizes[] = {1, MIB - 1, 8 * MIB, 8 * MIB + 1,
                                       100 * MIB + 7, GIB, 5 * GIB + 3};

  (void)state;
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    ends = cairn__azure_plan_ranges(sizes[i], 8 * MIB, 16, &count);
    check_cover(ends, count, sizes[i]);
    free(ends);
  }

  /* a blob of one block is one request */
  ends = cairn__azure_plan_ranges(8 * MIB, 8 * MIB, 16, &count);
  assert_int_equal(count, 1);
  free(ends);

  /* 1 GiB over 16 streams: the first round grows to 32 MiB ranges, so
     that the ranges complete in order, then 32 MiB to the end */
  ends = cairn__azure_plan_ranges(GIB, 8 * MIB, 16, &count);
  assert_int_equal(ends[0], 2 * MIB);
  for (i = 1; i < 16; i++)
    assert_int_equal(ends[i] - ends[i - 1], 2 * MIB * (i + 1));
  for (i = 16; i + 1 < count; i++)
    assert_int_equal(ends[i] - ends[i - 1], 32 * MIB);
  assert_true(count < 48);
  free(ends);

  /* huge blobs stop at the largest range; one stream, one full range */
  ends = cairn__azure_plan_ranges(100 * GIB, 8 * MIB, 16, &count);
  check_cover(ends, count, 100 * GIB);
  assert_int_equal(ends[count / 2] - ends[count / 2 - 1],
                   CAIRN_AZURE_MAX_RANGE);
  free(ends);
  ends = cairn__azure_plan_ranges(GIB, 8 * MIB, 1, &count);
  assert_int_equal(ends[0], 256 * MIB);
  check_cover(ends, count, GIB);
  free(ends);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_azure_blocks__known_size),
    cmocka_unit_test(test_azure_blocks__stream),
    cmocka_unit_test(test_azure_blocks__refused_up_front),
    cmocka_unit_test(test_azure_blocks__download_ranges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The core layer's parsers with known answers: sizes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cairn/common.h>

#include "core/util.h"

static void test_size_parse(void **state)
{
  static const struct {
    const char *text;
    uint64_t bytes;
  } good[] = {
    {"0", 0},
    {"4096", 4096},
    {"17B", 17},
    {"8MiB", 8ull << 20},
    {"8mib", 8ull << 20},
    {"64M", 64ull << 20},
    {"64 M", 64ull << 20},
    {"1GiB", 1ull << 30},
    {"1g", 1ull << 30},
    {"512k", 512ull << 10},
    {"2KB", 2000},
    {"3MB", 3000000},
    {"1TiB", 1ull << 40},
    {"18446744073709551615", UINT64_MAX},
  };
  static const char *const bad[] = {
    "", "M", "-1", "1.5M", "8 MiBs", "8MiB ", " 8M", "1e6", "0x10",
    "18446744073709551616", "17179869184GiB", "8  M",
  };
  uint64_t n;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    if (cairn_size_parse(&n, good[i].text) != 0)
      fail_msg("'%s' refused: %s", good[i].text,
               cairn_error_last()->message);
    assert_true(n == good[i].bytes);
  }
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (cairn_size_parse(&n, bad[i]) != CAIRN_EINVAL)
      fail_msg("'%s' accepted", bad[i]);
    assert_non_null(strstr(cairn_error_last()->message, "is not a size"));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_size_parse),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The core layer's parsers with known answers (sizes, UTF-8), and
 * whether a process runs.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

static void test_utf8_valid(void **state)
{
  static const char *const good[] = {
    "", "plain", "h\xc3\xa9llo", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
    "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf",
  };
  static const char *const bad[] = {
    "\xff", "x\xfey", "\xc3", "\xc3(", "\xc0\xaf", "\xe0\x80\xaf",
    "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf0\x8f\xbf\xbf", "\x80",
    "ab\xe2\x82",
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    if (!cairn_utf8_valid(good[i]))
      fail_msg("good text %zu refused", i);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (cairn_utf8_valid(bad[i]))
      fail_msg("bad text %zu taken", i);
}

/* A child that has exited but is not yet waited for does not run. */
static void test_process_alive(void **state)
{
  siginfo_t info;
  pid_t child;

  (void)state;
  assert_int_equal(cairn_process_alive(getpid()), 1);
  assert_int_equal(cairn_process_alive(0), 0);
  assert_int_equal(cairn_process_alive(-1), 0);
  child = fork();
  assert_true(child >= 0);
  if (child == 0)
    _exit(0);
  /* wait for it to end, leaving it a zombie */
  assert_int_equal(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT), 0);
  assert_int_equal(kill(child, 0), 0);
  assert_int_equal(cairn_process_alive(child), 0);
  assert_int_equal(waitpid(child, NULL, 0), child);
  assert_int_equal(cairn_process_alive(child), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_size_parse),
    cmocka_unit_test(test_process_alive),
    cmocka_unit_test(test_utf8_valid),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

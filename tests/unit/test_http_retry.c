/*
 * The retry policy: statuses, Retry-After parsing, backoff bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "http/http.h"

static void test_http_retry__statuses(void **state)
{
  static const long yes[] = {408, 429, 500, 502, 503, 504};
  static const long no[] = {200, 201, 206, 304, 400, 401, 403,
                            404, 409, 412, 416, 501, 505};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    assert_int_equal(cairn_http_retry_status(yes[i]), 1);
  for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    assert_int_equal(cairn_http_retry_status(no[i]), 0);
}

static void test_http_retry__retry_after_seconds(void **state)
{
  cairn_http_headers h = CAIRN_HTTP_HEADERS_INIT;

  (void)state;
  assert_int_equal(cairn_http_retry_after_ms(&h, 1000), -1);
  assert_int_equal(cairn_http_headers_add(&h, "retry-after", " 3"), 0);
  assert_int_equal(cairn_http_retry_after_ms(&h, 1000), 3000);
  cairn_http_headers_clear(&h);
  assert_int_equal(cairn_http_headers_add(&h, "Retry-After", "3s"), 0);
  assert_int_equal(cairn_http_retry_after_ms(&h, 1000), -1);
  /* x-ms-retry-after-ms wins over Retry-After */
  assert_int_equal(cairn_http_headers_add(&h, "X-MS-Retry-After-MS", "1500"),
                   0);
  assert_int_equal(cairn_http_retry_after_ms(&h, 1000), 1500);
  cairn_http_headers_dispose(&h);
}

static void test_http_retry__retry_after_date(void **state)
{
  cairn_http_headers h = CAIRN_HTTP_HEADERS_INIT;
  int64_t t;
  char date[64];

  (void)state;
  assert_int_equal(cairn_time_parse_rfc1123(&t,
                                            "Thu, 03 Dec 2026 19:21:29 GMT"),
                   0);
  cairn_time_rfc1123(date, sizeof(date), t + 7);
  assert_int_equal(cairn_http_headers_add(&h, "Retry-After", date), 0);
  assert_int_equal(cairn_http_retry_after_ms(&h, t), 7000);
  /* a date in the past means now */
  assert_int_equal(cairn_http_retry_after_ms(&h, t + 60), 0);
  cairn_http_headers_clear(&h);
  assert_int_equal(cairn_http_headers_add(&h, "Retry-After", "soon"), 0);
  assert_int_equal(cairn_http_retry_after_ms(&h, t), -1);
  cairn_http_headers_dispose(&h);
}

static void test_http_retry__backoff_bounds(void **state)
{
  cairn_http_retry_policy p = {5, 250, 20000, 60000, 0};
  unsigned attempt;
  int64_t expect, lo, hi;

  (void)state;
  for (attempt = 1; attempt <= 12; attempt++) {
    expect = 250;
    for (unsigned i = 1; i < attempt && expect < 20000; i++)
      expect *= 2;
    if (expect > 20000)
      expect = 20000;
    lo = cairn_http_retry_backoff_ms(&p, attempt, 0);
    hi = cairn_http_retry_backoff_ms(&p, attempt, 0xffffffffu);
    assert_int_equal(lo, expect / 2);
    assert_true(hi <= expect && hi >= expect - 1);
    assert_true(cairn_http_retry_backoff_ms(&p, attempt, 0x80000000u) >
                lo);
  }
  assert_int_equal(cairn_http_retry_backoff_ms(&p, 1, 0), 125);
  assert_int_equal(cairn_http_retry_backoff_ms(&p, 30, 0), 10000);
}

static void test_http_retry__decide(void **state)
{
  cairn_http_retry_policy p = {5, 250, 20000, 60000, 0};
  cairn_http_headers h = CAIRN_HTTP_HEADERS_INIT;
  int64_t d;

  (void)state;
  /* retried: throttling and server errors, transient failures */
  assert_int_equal(cairn_http_retry_decide(&d, &p, 1, 1, 0, 503, &h, 0, 0),
                   1);
  assert_int_equal(d, 125);
  assert_int_equal(cairn_http_retry_decide(&d, &p, 2, 1, 1, 0, NULL, 0, 0),
                   1);
  assert_int_equal(d, 250);
  /* not retried: client errors, unsafe requests, attempts used up */
  assert_int_equal(cairn_http_retry_decide(&d, &p, 1, 1, 0, 404, &h, 0, 0),
                   0);
  assert_int_equal(cairn_http_retry_decide(&d, &p, 1, 0, 0, 503, &h, 0, 0),
                   0);
  assert_int_equal(cairn_http_retry_decide(&d, &p, 5, 1, 0, 503, &h, 0, 0),
                   0);
  assert_int_equal(cairn_http_retry_decide(&d, &p, 5, 1, 1, 0, NULL, 0, 0),
                   0);
  /* the server's hint wins, within its cap */
  assert_int_equal(cairn_http_headers_add(&h, "Retry-After", "3"), 0);
  assert_int_equal(cairn_http_retry_decide(&d, &p, 1, 1, 0, 429, &h, 0, 0),
                   1);
  assert_int_equal(d, 3000);
  assert_int_equal(cairn_http_headers_set(&h, "retry-after", "3600"), 0);
  assert_int_equal(cairn_http_retry_decide(&d, &p, 1, 1, 0, 429, &h, 0, 0),
                   1);
  assert_int_equal(d, 60000);
  cairn_http_headers_dispose(&h);
}

/* A busy service gets more patience than a failing one. */
static void test_http_retry__throttled_attempts(void **state)
{
  cairn_http_retry_policy p = CAIRN_HTTP_RETRY_DEFAULT;
  cairn_http_headers h = CAIRN_HTTP_HEADERS_INIT;
  int64_t d;
  unsigned n;

  (void)state;
  for (n = 1; n < 10; n++) {
    assert_int_equal(cairn_http_retry_decide(&d, &p, n, 1, 0, 503, &h, 0,
                                             0), 1);
    assert_int_equal(cairn_http_retry_decide(&d, &p, n, 1, 0, 429, &h, 0,
                                             0), 1);
  }
  assert_int_equal(cairn_http_retry_decide(&d, &p, 10, 1, 0, 503, &h, 0, 0),
                   0);
  /* server errors and broken connections keep the smaller budget */
  assert_int_equal(cairn_http_retry_decide(&d, &p, 4, 1, 0, 500, &h, 0, 0),
                   1);
  assert_int_equal(cairn_http_retry_decide(&d, &p, 5, 1, 0, 500, &h, 0, 0),
                   0);
  assert_int_equal(cairn_http_retry_decide(&d, &p, 5, 1, 1, 0, NULL, 0, 0),
                   0);
  /* never for a request that is not safe to repeat */
  assert_int_equal(cairn_http_retry_decide(&d, &p, 1, 0, 0, 503, &h, 0, 0),
                   0);
}

static void test_http_retry__headers(void **state)
{
  cairn_http_headers h = CAIRN_HTTP_HEADERS_INIT;

  (void)state;
  assert_int_equal(cairn_http_headers_add(&h, "x-ms-meta-Hdi_isfolder",
                                          "True"), 0);
  assert_int_equal(cairn_http_headers_set(&h, "Content-Length", "5"), 0);
  assert_int_equal(cairn_http_headers_set(&h, "content-length", "7"), 0);
  assert_int_equal(h.count, 2);
  assert_string_equal(cairn_http_headers_get(&h, "X-MS-META-HDI_ISFOLDER"),
                      "True");
  assert_string_equal(cairn_http_headers_get(&h, "CONTENT-LENGTH"), "7");
  assert_null(cairn_http_headers_get(&h, "etag"));
  cairn_http_headers_dispose(&h);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_http_retry__statuses),
    cmocka_unit_test(test_http_retry__retry_after_seconds),
    cmocka_unit_test(test_http_retry__retry_after_date),
    cmocka_unit_test(test_http_retry__backoff_bounds),
    cmocka_unit_test(test_http_retry__decide),
    cmocka_unit_test(test_http_retry__throttled_attempts),
    cmocka_unit_test(test_http_retry__headers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The retry policy: which failures are repeated, and how long to wait.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "http/http.h"

int cairn_http_retry_status(long status)
{
  switch (status) {
  case 408: /* request timeout */
  case 429: /* too many requests */
  case 500: /* internal error, operation timed out */
  case 502: /* bad gateway */
  case 503: /* server busy */
  case 504: /* gateway timeout */
    return 1;
  default:
    return 0;
  }
}

/* Parse a whole decimal number of at most 12 digits; -1 if not one. */
static int64_t parse_count(const char *s)
{
  int64_t v = 0;
  int digits = 0;

  while (*s == ' ' || *s == '\t')
    s++;
  while (isdigit((unsigned char)*s) && digits < 12) {
    v = v * 10 + (*s++ - '0');
    digits++;
  }
  while (*s == ' ' || *s == '\t')
    s++;
  if (!digits || *s)
    return -1;
  return v;
}

int64_t cairn_http_retry_after_ms(const cairn_http_headers *headers,
                                  int64_t now_s)
{
  const char *v;
  int64_t n, when;

  v = cairn_http_headers_get(headers, "x-ms-retry-after-ms");
  if (v && (n = parse_count(v)) >= 0)
    return n;

  v = cairn_http_headers_get(headers, "Retry-After");
  if (!v)
    return -1;
  if ((n = parse_count(v)) >= 0)
    return n * 1000;
  while (*v == ' ')
    v++;
  if (cairn_time_parse_rfc1123(&when, v) < 0)
    return -1;
  return when > now_s ? (when - now_s) * 1000 : 0;
}

int64_t cairn_http_retry_backoff_ms(const cairn_http_retry_policy *p,
                                    unsigned attempt, uint32_t rnd)
{
  int64_t d = p->base_ms;
  unsigned i;

  for (i = 1; i < attempt && d < p->cap_ms; i++)
    d *= 2;
  if (d > p->cap_ms)
    d = p->cap_ms;
  /* jitter: a uniform share of the upper half */
  return d / 2 + (int64_t)((double)(d - d / 2) * (rnd / 4294967296.0));
}

int cairn_http_retry_decide(int64_t *delay_ms,
                            const cairn_http_retry_policy *p,
                            unsigned attempts, int idempotent,
                            int transient, long status,
                            const cairn_http_headers *headers, int64_t now_s,
                            uint32_t rnd)
{
  int64_t hint;
  unsigned limit = p->max_attempts;

  *delay_ms = 0;
  if (!transient && (status == 503 || status == 429) &&
      p->throttle_attempts > limit)
    limit = p->throttle_attempts;
  if (!idempotent || attempts >= limit)
    return 0;
  if (!transient && !cairn_http_retry_status(status))
    return 0;

  *delay_ms = cairn_http_retry_backoff_ms(p, attempts, rnd);
  if (!transient && headers) {
    hint = cairn_http_retry_after_ms(headers, now_s);
    if (hint >= 0)
      *delay_ms = hint < p->hint_cap_ms ? hint : p->hint_cap_ms;
  }
  return 1;
}

/*
 * The process-wide log sink and level.
 */
#include "core/log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

cairn_log_level cairn__log_level = CAIRN_LOG_WARN;

static cairn_log_sink log_sink;
static void *log_payload;

void cairn_log_set_sink(cairn_log_sink sink, void *payload)
{
  log_sink = sink;
  log_payload = payload;
}

void cairn_log_set_level(cairn_log_level level)
{
  cairn__log_level = level;
}

cairn_log_level cairn_log_get_level(void)
{
  return cairn__log_level;
}

int cairn_log_level_parse(cairn_log_level *out, const char *name)
{
  static const struct {
    const char *name;
    cairn_log_level level;
  } names[] = {
    {"error", CAIRN_LOG_ERROR}, {"warn", CAIRN_LOG_WARN},
    {"warning", CAIRN_LOG_WARN}, {"info", CAIRN_LOG_INFO},
    {"debug", CAIRN_LOG_DEBUG}, {"trace", CAIRN_LOG_TRACE},
  };
  size_t i;

  for (i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
    if (strcasecmp(name, names[i].name) == 0) {
      *out = names[i].level;
      return CAIRN_OK;
    }
  }
  return CAIRN_EINVAL;
}

void cairn__log(cairn_log_level level, const char *category,
                const char *fmt, ...)
{
  char raw[2048];
  char clean[2048];
  va_list ap;

  if (!log_sink || level > cairn__log_level)
    return;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof(raw), fmt, ap);
  va_end(ap);
  cairn__redact(clean, sizeof(clean), raw);
  log_sink(level, category, clean, log_payload);
}

/* Markers after which a value is a secret, up to a delimiter. */
static const char *const secret_marks[] = {
  "sig=", "AccountKey=", "SharedAccessSignature=", "client_secret=",
  "account_key=", "sas_token=", "Authorization: ", "authorization: ",
  "access_token\":\"", "client_assertion=", "token=",
};

static size_t secret_mark_at(const char *p)
{
  size_t i, n;

  for (i = 0; i < sizeof(secret_marks) / sizeof(secret_marks[0]); i++) {
    n = strlen(secret_marks[i]);
    if (strncmp(p, secret_marks[i], n) == 0)
      return n;
  }
  return 0;
}

static int ends_secret(char c, int header)
{
  if (header)
    return c == '\r' || c == '\n';
  return c == '&' || c == ';' || c == ' ' || c == '"' || c == '\'' ||
         c == '\r' || c == '\n' || c == ',';
}

void cairn__redact(char *out, size_t outlen, const char *in)
{
  size_t o = 0, mark;
  const char *p = in;
  int header;

  if (!outlen)
    return;
  while (*p && o + 1 < outlen) {
    mark = secret_mark_at(p);
    if (!mark) {
      out[o++] = *p++;
      continue;
    }
    header = strncasecmp(p, "authorization: ", 15) == 0;
    while (mark-- && o + 1 < outlen)
      out[o++] = *p++;
    if (header) {
      /* keep the scheme word ("SharedKey", "Bearer"), hide the rest */
      while (*p && !isspace((unsigned char)*p) && o + 1 < outlen)
        out[o++] = *p++;
      if (*p == ' ' && o + 1 < outlen)
        out[o++] = *p++;
    }
    if (*p && !ends_secret(*p, header)) {
      const char *mask = "***";
      while (*mask && o + 1 < outlen)
        out[o++] = *mask++;
    }
    while (*p && !ends_secret(*p, header))
      p++;
  }
  out[o] = '\0';
}

/*
 * The per-thread last error.
 */
#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MESSAGE_MAX 1024

static _Thread_local char message[MESSAGE_MAX];
static _Thread_local cairn_error last = {CAIRN_OK, ""};

static void set_message(int code, const char *fmt, va_list ap)
{
  vsnprintf(message, sizeof(message), fmt, ap);
  last.code = code;
  last.message = message;
}

int cairn__error(int code, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  set_message(code, fmt, ap);
  va_end(ap);
  return code;
}

int cairn__error_oom(void)
{
  return cairn__error(CAIRN_ENOMEM, "out of memory");
}

int cairn__error_prefix(const char *fmt, ...)
{
  char prefix[MESSAGE_MAX];
  char old[MESSAGE_MAX];
  va_list ap;

  if (last.code == CAIRN_OK)
    return CAIRN_OK;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof(prefix), fmt, ap);
  va_end(ap);
  memcpy(old, message, sizeof(old));
  if (snprintf(message, sizeof(message), "%s: %s", prefix, old) < 0)
    message[0] = '\0';
  return last.code;
}

int cairn__error_errno(const char *what, const char *path)
{
  int err = errno;
  int code = CAIRN_EIO;

  if (err == ENOENT || err == ENOTDIR)
    code = CAIRN_ENOTFOUND;
  else if (err == EEXIST || err == ENOTEMPTY)
    code = CAIRN_EEXISTS;
  else if (err == EACCES || err == EPERM || err == EROFS)
    code = CAIRN_EPERM;
  else if (err == ENOMEM)
    code = CAIRN_ENOMEM;
  if (path)
    return cairn__error(code, "%s '%s': %s", what, path, strerror(err));
  return cairn__error(code, "%s: %s", what, strerror(err));
}

int cairn__error_code(void)
{
  return last.code;
}

const cairn_error *cairn_error_last(void)
{
  if (!last.message)
    last.message = "";
  return &last;
}

void cairn_error_clear(void)
{
  last.code = CAIRN_OK;
  message[0] = '\0';
  last.message = message;
}

const char *cairn_strerror(int code)
{
  switch (code) {
  case CAIRN_OK: return "success";
  case CAIRN_ENOMEM: return "out of memory";
  case CAIRN_ENOTFOUND: return "not found";
  case CAIRN_EEXISTS: return "already exists";
  case CAIRN_EINVAL: return "invalid input";
  case CAIRN_EAUTH: return "authentication failed";
  case CAIRN_EPERM: return "permission denied";
  case CAIRN_ETHROTTLED: return "throttled";
  case CAIRN_EPRECONDITION: return "precondition failed";
  case CAIRN_EIO: return "input/output error";
  case CAIRN_ENET: return "network error";
  case CAIRN_EINTEGRITY: return "checksum mismatch";
  case CAIRN_ECANCELLED: return "cancelled";
  case CAIRN_ETIMEOUT: return "timed out";
  case CAIRN_EINUSE: return "in use";
  default: return "error";
  }
}

/*
 * Process-wide set-up and the version.
 */
#include <cairn/common.h>
#include <curl/curl.h>
#include <signal.h>

#include "core/error.h"

static volatile sig_atomic_t cancel_flag;

void cairn_cancel(void)
{
  cancel_flag = 1;
}

int cairn_cancelled(void)
{
  return cancel_flag != 0;
}

void cairn_cancel_reset(void)
{
  cancel_flag = 0;
}

int cairn__cancel_hold(void)
{
  int was = cancel_flag != 0;

  cancel_flag = 0;
  return was;
}

void cairn__cancel_restore(int was)
{
  if (was)
    cancel_flag = 1;
}

const char *cairn_version(void)
{
  return CAIRN_VERSION_STRING;
}

int cairn_global_init(void)
{
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return cairn__error(CAIRN_ERROR, "cannot initialise libcurl");
  return 0;
}

void cairn_global_cleanup(void)
{
  curl_global_cleanup();
}

/*
 * Process-wide set-up and the version.
 */
#include <cairn/common.h>
#include <curl/curl.h>

#include "core/error.h"

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

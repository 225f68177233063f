/*
 * cairn integration: list, install.  Azure support is compiled in; the
 * one thing to check is that libcurl can speak TLS.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* 1 when this libcurl has TLS; *version gets its version text. */
static int curl_has_tls(const char **version, const char **tls)
{
  const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);

  *version = info && info->version ? info->version : "?";
  *tls = info && info->ssl_version ? info->ssl_version : "none";
  return info && (info->features & CURL_VERSION_SSL) != 0;
}

static const cli_spec list_spec = {
  "cairn integration list [--output json]",
  "List the integrations and whether they are ready.", NULL, 0, 0, 0, 1};

static int do_list(cli_ctx *ctx, int argc, char **argv)
{
  static const char *const columns[] = {"INSTALLED", "INTEGRATION",
                                        "REQUIRED_PACKAGES"};
  const char *version, *tls;
  char needs[160];
  cli_table *t;
  cli_args a;
  int rc, ok;

  if ((rc = cli_parse(ctx, &list_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&a);
  ok = curl_has_tls(&version, &tls);
  snprintf(needs, sizeof(needs), "built in (libcurl %s with TLS: %s)",
           version, tls);
  t = cli_table_new(NULL, columns, 3);
  cli_table_addv(t, ok ? "\xe2\x9c\x85" : "", "azure", needs);
  cli_table_row_json(t, json_pack("{s:b, s:s, s:s, s:s}", "installed", ok,
                                  "integration", "azure", "libcurl",
                                  version, "tls", tls));
  cli_table_emit(ctx, t);
  return 0;
}

static const cli_opt install_opts[] = {
  {"yes", "y", CLI_FLAG, NULL, "Do not ask for confirmation."},
  CLI_OPT_END};

static const cli_spec install_spec = {
  "cairn integration install [azure] [-y]",
  "Make an integration ready.  Azure is built into cairn: this checks "
  "that libcurl has TLS.", install_opts, 0, -1, 0, 0};

static int do_install(cli_ctx *ctx, int argc, char **argv)
{
  const char *version, *tls;
  cli_args a;
  size_t i;
  int rc;

  if ((rc = cli_parse(ctx, &install_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  for (i = 0; i < a.nargs; i++) {
    if (strcmp(a.args[i], "azure") != 0) {
      rc = cli_error("unknown integration '%s': the integrations are "
                     "azure", a.args[i]);
      cli_args_dispose(&a);
      return rc;
    }
  }
  cli_args_dispose(&a);
  cli_say("Azure support is built into cairn; nothing to install.");
  if (!curl_has_tls(&version, &tls))
    return cli_error("this cairn's libcurl %s has no TLS support, so it "
                     "cannot reach Azure over https: rebuild cairn against "
                     "a libcurl built with OpenSSL", version);
  cli_say("libcurl %s with %s: https to Azure is available.", version, tls);
  return 0;
}

int cmd_integration(cli_ctx *ctx, int argc, char **argv)
{
  static const cli_command commands[] = {
    {"list", do_list, "List the integrations."},
    {"install", do_install, "Make an integration ready (azure)."},
    CLI_COMMAND_END};

  return cli_dispatch(ctx, "integration",
                      "Integrations: Azure support is built in.", commands,
                      argc, argv);
}

/*
 * Service answers turned into messages a user can act on, from canned
 * responses: an expired or not-yet-valid SAS, a missing SAS permission
 * named with its letter, account keys refused by the account, a
 * principal without a data role, a skewed clock.  None of them is
 * retried, and no message shows a key or a signature.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/azure.h>

#include "azure/client.h"
#include "core/util.h"

#define DEV_KEY                                                            \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="
#define ENDPOINT "https://acct.blob.core.windows.net"
#define SECRET_SIG "ZmFrZS1zaWduYXR1cmUtb2YtdGhpcnR5LXR3by1ieXQ%3D"

/* A finished request as the engine leaves it after a final answer. */
static void canned(cairn_http_request *req, const char *method,
                   const char *url, long status, const char *code,
                   const char *date, const char *body)
{
  cairn_http_request_init(req);
  assert_int_equal(cairn_http_request_setup(req, method, url), 0);
  req->status = status;
  req->attempts = 1;
  if (code)
    assert_int_equal(cairn_http_headers_add(&req->response_headers,
                                            "x-ms-error-code", code), 0);
  if (date)
    assert_int_equal(cairn_http_headers_add(&req->response_headers, "Date",
                                            date), 0);
  if (body)
    assert_int_equal(cairn_buf_puts(&req->response, body), 0);
}

/* The error cairn makes of @p req with an account made by the caller. */
static int error_for(cairn_azure_account *account, cairn_http_request *req,
                     const char *name)
{
  cairn_azure_client *c = NULL;
  int error;

  assert_int_equal(cairn_azure_client_new(&c, account, NULL), 0);
  error = cairn__azure_error(c, req, "ctr", name);
  cairn_azure_client_free(c);
  return error;
}

static void message_has(const char *needle)
{
  const char *msg = cairn_error_last()->message;

  if (!strstr(msg, needle))
    fail_msg("message '%s' does not name '%s'", msg, needle);
}

static void message_lacks(const char *needle)
{
  const char *msg = cairn_error_last()->message;

  if (strstr(msg, needle))
    fail_msg("message '%s' shows '%s'", msg, needle);
}

static cairn_azure_account *sas_account(const char *st, const char *se,
                                        const char *sp)
{
  cairn_azure_account *a = NULL;
  char sas[512];

  snprintf(sas, sizeof(sas),
           "sv=2023-11-03&ss=b&srt=sco&st=%s&se=%s&sp=%s&sig=%s", st, se,
           sp, SECRET_SIG);
  assert_int_equal(cairn_azure_account_from_sas(&a, "acct", sas, ENDPOINT),
                   0);
  return a;
}

static void no_retry(const cairn_http_request *req)
{
  cairn_http_retry_policy p = CAIRN_HTTP_RETRY_DEFAULT;
  int64_t delay;

  assert_int_equal(cairn_http_retry_decide(&delay, &p, 1, 1, 0, req->status,
                                           &req->response_headers,
                                           cairn_time_now(), 12345), 0);
}

static void test_azure_errors__sas_expired(void **state)
{
  static const char *azure_body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error>"
      "<Code>AuthenticationFailed</Code><Message>Server failed to "
      "authenticate the request.</Message><AuthenticationErrorDetail>"
      "Signature not valid in the specified time frame: Start [Wed, 01 Jan "
      "2020 00:00:00 GMT] - Expiry [Wed, 01 Jan 2020 01:00:00 GMT] - "
      "Current [Thu, 03 Dec 2026 19:00:00 GMT]</AuthenticationErrorDetail>"
      "</Error>";
  cairn_azure_account *a = sas_account("2020-01-01T00%3A00%3A00Z",
                                       "2020-01-01T01%3A00%3A00Z", "rl");
  cairn_http_request req;

  (void)state;
  /* as Azure answers */
  canned(&req, "GET", ENDPOINT "/ctr?restype=container&comp=list&sig=x",
         403, "AuthenticationFailed", "Thu, 03 Dec 2026 19:00:00 GMT",
         azure_body);
  assert_int_equal(error_for(a, &req, NULL), CAIRN_EAUTH);
  message_has("expired");
  message_has("2020-01-01T01:00:00Z");
  message_has("AuthenticationFailed");
  message_lacks("ZmFrZS1z");
  message_lacks("Signature not valid");
  no_retry(&req);
  cairn_http_request_dispose(&req);

  /* as Azurite answers: another code, no detail */
  canned(&req, "GET", ENDPOINT "/ctr/blob", 403, "AuthorizationFailure",
         "Thu, 03 Dec 2026 19:00:00 GMT", NULL);
  assert_int_equal(error_for(a, &req, "blob"), CAIRN_EAUTH);
  message_has("expired");
  message_has("AuthorizationFailure");
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

static void test_azure_errors__sas_not_yet_valid(void **state)
{
  cairn_azure_account *a = sas_account("2026-12-03T20%3A00%3A00Z",
                                       "2026-12-04T20%3A00%3A00Z", "r");
  cairn_http_request req;

  (void)state;
  /* the service's clock is an hour behind the SAS's start */
  canned(&req, "GET", ENDPOINT "/ctr/b", 403, "AuthenticationFailed",
         "Thu, 03 Dec 2026 19:00:00 GMT", NULL);
  assert_int_equal(error_for(a, &req, "b"), CAIRN_EAUTH);
  message_has("not valid before 2026-12-03T20:00:00Z");
  message_has("start time");
  message_lacks("expired");
  cairn_http_request_dispose(&req);

  /* within its window, the SAS is simply refused: no time is blamed */
  canned(&req, "GET", ENDPOINT "/ctr/b", 403, "AuthenticationFailed",
         "Thu, 03 Dec 2026 21:00:00 GMT", NULL);
  assert_int_equal(error_for(a, &req, "b"), CAIRN_EAUTH);
  message_has("SAS token was refused");
  message_lacks("expired");
  message_lacks("not valid before");
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

static void test_azure_errors__sas_permission(void **state)
{
  static const struct {
    const char *method, *url, *header, *perm;
  } cases[] = {
    {"PUT", "/ctr/a.txt", NULL, "write (w)"},
    {"PUT", "/ctr/a.txt?comp=block&blockid=x", NULL, "write (w)"},
    {"PUT", "/ctr/a.txt", "x-ms-copy-source", "read (r) on the source"},
    {"DELETE", "/ctr/a.txt", NULL, "delete (d)"},
    {"GET", "/ctr?restype=container&comp=list&prefix=a", NULL, "list (l)"},
    {"GET", "/ctr/a.txt", NULL, "read (r)"},
    {"HEAD", "/ctr/a.txt", NULL, "read (r)"},
    {"PUT", "/ctr?restype=container", NULL, "create (c)"},
  };
  cairn_azure_account *a = sas_account("2020-01-01T00%3A00%3A00Z",
                                       "2099-01-01T00%3A00%3A00Z", "r");
  cairn_http_request req;
  char url[256];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    snprintf(url, sizeof(url), "%s%s", ENDPOINT, cases[i].url);
    canned(&req, cases[i].method, url, 403,
           "AuthorizationPermissionMismatch",
           "Thu, 03 Dec 2026 19:00:00 GMT", NULL);
    if (cases[i].header)
      assert_int_equal(cairn_http_headers_add(&req.headers, cases[i].header,
                                              ENDPOINT "/ctr/src"), 0);
    assert_int_equal(error_for(a, &req, "a.txt"), CAIRN_EPERM);
    message_has(cases[i].perm);
    message_has("AuthorizationPermissionMismatch");
    message_lacks("ZmFrZS1z");
    no_retry(&req);
    cairn_http_request_dispose(&req);
  }

  canned(&req, "GET", ENDPOINT "/ctr/a", 403,
         "AuthorizationResourceTypeMismatch", NULL, NULL);
  assert_int_equal(error_for(a, &req, "a"), CAIRN_EPERM);
  message_has("srt=sco");
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

static void test_azure_errors__key_not_permitted(void **state)
{
  cairn_azure_account *a = NULL;
  cairn_http_request req;

  (void)state;
  assert_int_equal(cairn_azure_account_from_key(&a, "acct", DEV_KEY,
                                                ENDPOINT), 0);
  canned(&req, "GET", ENDPOINT "/ctr?restype=container&comp=list", 403,
         "KeyBasedAuthenticationNotPermitted",
         "Thu, 03 Dec 2026 19:00:00 GMT",
         "<Error><Code>KeyBasedAuthenticationNotPermitted</Code><Message>Key "
         "based authentication is not permitted on this storage account."
         "</Message></Error>");
  assert_int_equal(error_for(a, &req, NULL), CAIRN_EAUTH);
  message_has("KeyBasedAuthenticationNotPermitted");
  message_has("Entra ID");
  message_has("service principal");
  message_has("managed identity");
  message_has("user-delegation SAS");
  message_lacks("Eby8vdM0");
  no_retry(&req);
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

static void test_azure_errors__no_data_role(void **state)
{
  cairn_azure_account *a = NULL;
  cairn_http_request req;

  (void)state;
  assert_int_equal(cairn_azure_account_from_token(
                       &a, "acct", "eyJ0eXAiOiJKV1QifQ.e30.c2lnbmF0dXJl", 0,
                       ENDPOINT), 0);
  canned(&req, "PUT", ENDPOINT "/ctr/a", 403,
         "AuthorizationPermissionMismatch", NULL, NULL);
  assert_int_equal(error_for(a, &req, "a"), CAIRN_EPERM);
  message_has("Storage Blob Data Contributor");
  message_has("Storage Blob Data Reader");
  message_has("data-plane role");
  message_has("AuthorizationPermissionMismatch");
  message_lacks("eyJ0eXAi");
  no_retry(&req);
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

static void test_azure_errors__clock_skew(void **state)
{
  cairn_azure_account *a = NULL;
  cairn_http_request req;
  char sent[64], service[64];
  int64_t now = cairn_time_now();

  (void)state;
  assert_int_equal(cairn_azure_account_from_key(&a, "acct", DEV_KEY,
                                                ENDPOINT), 0);

  /* our clock 30 minutes ahead of the service's */
  cairn_time_rfc1123(sent, sizeof(sent), now);
  cairn_time_rfc1123(service, sizeof(service), now - 30 * 60);
  canned(&req, "GET", ENDPOINT "/ctr/a", 403, "AuthenticationFailed",
         service, "<Error><Code>AuthenticationFailed</Code>"
                  "<AuthenticationErrorDetail>Request date header too old"
                  "</AuthenticationErrorDetail></Error>");
  assert_int_equal(cairn_http_headers_add(&req.headers, "x-ms-date", sent),
                   0);
  assert_int_equal(error_for(a, &req, "a"), CAIRN_EAUTH);
  message_has("clock");
  message_has("30 minutes ahead of");
  message_has(sent);
  message_has(service);
  no_retry(&req);
  cairn_http_request_dispose(&req);

  /* 30 minutes behind */
  cairn_time_rfc1123(service, sizeof(service), now + 30 * 60 + 5);
  canned(&req, "GET", ENDPOINT "/ctr/a", 403, "AuthenticationFailed",
         service, NULL);
  assert_int_equal(cairn_http_headers_add(&req.headers, "x-ms-date", sent),
                   0);
  assert_int_equal(error_for(a, &req, "a"), CAIRN_EAUTH);
  message_has("30 minutes behind");
  message_has(service);
  cairn_http_request_dispose(&req);

  /* clocks agree: the key is to blame, not the clock */
  cairn_time_rfc1123(service, sizeof(service), now - 60);
  canned(&req, "GET", ENDPOINT "/ctr/a", 403, "AuthenticationFailed",
         service, NULL);
  assert_int_equal(cairn_http_headers_add(&req.headers, "x-ms-date", sent),
                   0);
  assert_int_equal(error_for(a, &req, "a"), CAIRN_EAUTH);
  message_has("account key was refused");
  message_lacks("minutes");
  message_lacks("Eby8vdM0");
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

/* An API version the service does not know: how to get on. */
static void test_azure_errors__api_version(void **state)
{
  cairn_azure_account *a = NULL;
  cairn_http_request req;

  (void)state;
  assert_int_equal(cairn_azure_account_from_key(&a, "acct", DEV_KEY,
                                                ENDPOINT), 0);
  canned(&req, "GET", ENDPOINT "/ctr?restype=container", 400,
         "InvalidHeaderValue", NULL,
         "<Error><Code>InvalidHeaderValue</Code><Message>The API version "
         "2023-11-03 is not supported by Azurite.</Message><HeaderName>"
         "x-ms-version</HeaderName></Error>");
  assert_int_equal(error_for(a, &req, NULL), CAIRN_EINVAL);
  message_has(CAIRN_AZURE_API_VERSION);
  message_has("--skipApiVersionCheck");
  no_retry(&req);
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

/*
 * An emulator endpoint without its account segment: Azurite answers
 * 404 ResourceNotFound, which points at the endpoint, not at the blob.
 */
static void test_azure_errors__endpoint_without_account(void **state)
{
  cairn_azure_account *a = NULL;
  cairn_http_request req;

  (void)state;
  assert_int_equal(cairn_azure_account_from_key(&a, "devstoreaccount1",
                                                DEV_KEY,
                                                "http://localhost:10000"),
                   0);
  canned(&req, "GET", "http://localhost:10000/ctr?restype=container", 404,
         "ResourceNotFound", NULL, NULL);
  assert_int_equal(error_for(a, &req, "b"), CAIRN_ENOTFOUND);
  message_has("ResourceNotFound");
  message_has("http://localhost:10000");
  message_has("account name 'devstoreaccount1'");
  cairn_http_request_dispose(&req);

  /* Azurite answers a HEAD there with a bare 400: no code, no body */
  canned(&req, "HEAD", "http://localhost:10000/ctr/b", 400, NULL, NULL,
         NULL);
  assert_int_equal(error_for(a, &req, "b"), CAIRN_EINVAL);
  message_has("account in its path");
  message_has("http://localhost:10000");
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);

  /* with the account in the path, a bare 400 is not blamed on it */
  assert_int_equal(cairn_azure_account_from_key(
                       &a, "devstoreaccount1", DEV_KEY,
                       "http://localhost:10000/devstoreaccount1"), 0);
  canned(&req, "HEAD", "http://localhost:10000/devstoreaccount1/ctr/b", 400,
         NULL, NULL, NULL);
  assert_int_equal(error_for(a, &req, "b"), CAIRN_EINVAL);
  assert_null(strstr(cairn_error_last()->message, "account in its path"));
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

/*
 * A request that never went out (its token could not be had) is not
 * blamed on the storage endpoint, and its long reason comes whole.
 */
static void test_azure_errors__unsent(void **state)
{
  static const char why[] =
      "cannot reach the token endpoint https://login.microsoftonline.com/"
      "contoso.onmicrosoft.com/oauth2/v2.0/token for client "
      "'11111111-1111-1111-1111-111111111111' of tenant "
      "'contoso.onmicrosoft.com' (Could not resolve host: "
      "login.microsoftonline.com): check the address and the network";
  cairn_azure_account *a = NULL;
  cairn_http_request req;

  (void)state;
  assert_int_equal(cairn_azure_account_from_key(&a, "acct", DEV_KEY,
                                                ENDPOINT), 0);
  canned(&req, "GET", ENDPOINT "/ctr/b", 0, NULL, NULL, NULL);
  req.result = CAIRN_ENET;
  req.unsent = 1;
  assert_true(sizeof(why) <= sizeof(req.error));
  snprintf(req.error, sizeof(req.error), "%s", why);
  assert_int_equal(error_for(a, &req, "b"), CAIRN_ENET);
  assert_string_equal(cairn_error_last()->message, why);
  message_lacks("storage endpoint");

  /* one that went out and found no server is the endpoint's */
  req.unsent = 0;
  snprintf(req.error, sizeof(req.error), "Could not connect to server");
  assert_int_equal(error_for(a, &req, "b"), CAIRN_ENET);
  message_has("cannot reach the storage endpoint " ENDPOINT);
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

/* A container SAS asked for the account's containers is named as such. */
static void test_azure_errors__container_sas_listing(void **state)
{
  cairn_azure_account *a = NULL;
  cairn_http_request req;
  char sas[512];

  (void)state;
  snprintf(sas, sizeof(sas), "sv=2023-11-03&se=2099-01-01T00%%3A00%%3A00Z"
           "&sr=c&sp=racwdl&sig=%s", SECRET_SIG);
  assert_int_equal(cairn_azure_account_from_sas(&a, "acct", sas, ENDPOINT),
                   0);
  canned(&req, "GET", ENDPOINT "/?comp=list", 403, "AuthorizationFailure",
         NULL, NULL);
  assert_int_equal(error_for(a, &req, NULL), CAIRN_EAUTH);
  message_has("container SAS (sr=c)");
  message_has("-ri az://CONTAINER");
  cairn_http_request_dispose(&req);
  /* within its container, the usual message */
  canned(&req, "GET", ENDPOINT "/ctr?restype=container&comp=list", 403,
         "AuthorizationFailure", NULL, NULL);
  assert_int_equal(error_for(a, &req, NULL), CAIRN_EAUTH);
  assert_null(strstr(cairn_error_last()->message, "sr=c"));
  cairn_http_request_dispose(&req);
  cairn_azure_account_free(a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_azure_errors__sas_expired),
    cmocka_unit_test(test_azure_errors__sas_not_yet_valid),
    cmocka_unit_test(test_azure_errors__sas_permission),
    cmocka_unit_test(test_azure_errors__container_sas_listing),
    cmocka_unit_test(test_azure_errors__key_not_permitted),
    cmocka_unit_test(test_azure_errors__no_data_role),
    cmocka_unit_test(test_azure_errors__clock_skew),
    cmocka_unit_test(test_azure_errors__api_version),
    cmocka_unit_test(test_azure_errors__endpoint_without_account),
    cmocka_unit_test(test_azure_errors__unsent),
  };

  cairn_global_init();
  return cmocka_run_group_tests(tests, NULL, NULL);
}

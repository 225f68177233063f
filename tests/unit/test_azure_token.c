/*
 * Bearer tokens: the answers of token endpoints, the client assertion
 * of a certificate, the environment's chain in its fixed order, the
 * Azure CLI, expiry and refresh of cached tokens.  No network: the
 * servers are in the tests that need Azurite and the token issuer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azure/account.h"
#include "azure/token.h"
#include "core/hash.h"
#include "core/util.h"

static const char *const chain_vars[] = {
    "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_BLOB_ENDPOINT", "AZURE_STORAGE_CLIENT_ID",
    "AZURE_STORAGE_CLIENT_SECRET", "AZURE_STORAGE_TENANT_ID",
    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
    "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
    "AZURE_USE_IMDS", "AZURE_AUTHORITY_HOST"};

static char tmpdir[64];

static int setup(void **state)
{
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(chain_vars) / sizeof(chain_vars[0]); i++)
    unsetenv(chain_vars[i]);
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/cairn-token-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  /* no 'az' unless a test puts one there */
  setenv("PATH", tmpdir, 1);
  return 0;
}

static int teardown(void **state)
{
  char cmd[128];

  (void)state;
  snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", tmpdir);
  assert_int_equal(system(cmd), 0);
  return 0;
}

static void write_file(const char *path, const char *text, int mode)
{
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* ------------------------------------------------------------------ */

static void test_parse_answers(void **state)
{
  static const char v2[] =
      "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
      "\"ext_expires_in\":3599,\"access_token\":\"eyJ0.a.b\"}";
  static const char msi[] =
      "{\"access_token\":\"tok\",\"expires_on\":\"1796372000\","
      "\"resource\":\"https://storage.azure.com/\",\"token_type\":"
      "\"Bearer\"}";
  static const char cli[] =
      "{\"accessToken\":\"cli-tok\",\"expiresOn\":\"2026-12-04 09:00:00."
      "000000\",\"expires_on\":1796374800,\"tokenType\":\"Bearer\"}";
  char *tok;
  int64_t exp;

  (void)state;
  assert_int_equal(cairn__azure_token_parse(v2, strlen(v2), 1000, &tok,
                                            &exp), 0);
  assert_string_equal(tok, "eyJ0.a.b");
  assert_int_equal(exp, 1000 + 3599);
  free(tok);
  assert_int_equal(cairn__azure_token_parse(msi, strlen(msi), 1000, &tok,
                                            &exp), 0);
  assert_string_equal(tok, "tok");
  assert_int_equal(exp, 1796372000);
  free(tok);
  assert_int_equal(cairn__azure_token_parse(cli, strlen(cli), 1000, &tok,
                                            &exp), 0);
  assert_string_equal(tok, "cli-tok");
  assert_int_equal(exp, 1796374800);
  free(tok);
  assert_int_equal(cairn__azure_token_parse("{\"expires_in\":5}", 16, 0,
                                            &tok, &exp), CAIRN_ERROR);
  assert_null(tok);
  assert_int_equal(cairn__azure_token_parse("not json", 8, 0, &tok, &exp),
                   CAIRN_ERROR);
}

static void test_error_text(void **state)
{
  static const char entra[] =
      "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215:"
      " Invalid client secret provided.\\r\\nTrace ID: 1\\r\\n"
      "Correlation ID: 2\",\"error_codes\":[7000215]}";
  static const char msi[] =
      "{\"error\":{\"code\":\"BadRequest\",\"message\":\"No identity\"}}";
  char out[256];

  (void)state;
  cairn__azure_token_error_text(out, sizeof(out), entra, strlen(entra));
  assert_string_equal(out, "invalid_client: AADSTS7000215: Invalid client "
                           "secret provided.");
  cairn__azure_token_error_text(out, sizeof(out), msi, strlen(msi));
  assert_string_equal(out, "BadRequest: No identity");
  cairn__azure_token_error_text(out, sizeof(out), "<html>", 6);
  assert_string_equal(out, "");
}

static void test_token_url(void **state)
{
  char *url;

  (void)state;
  url = cairn__azure_token_url("https://login.microsoftonline.us", "t1");
  assert_string_equal(url,
                      "https://login.microsoftonline.us/t1/oauth2/v2.0/token");
  free(url);
}

/* ------------------------------------------------------------------ */
/* The client assertion                                                */
/* ------------------------------------------------------------------ */

/* A self-signed certificate with its key, as one PEM file. */
static EVP_PKEY *make_cert_pem(const char *path, X509 **cert_out)
{
  EVP_PKEY *key = EVP_RSA_gen(2048);
  X509 *cert = X509_new();
  FILE *f;

  assert_non_null(key);
  assert_non_null(cert);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             (const unsigned char *)"cairn-test", -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
  f = fopen(path, "w");
  assert_non_null(f);
  assert_true(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
  assert_true(PEM_write_X509(f, cert));
  fclose(f);
  *cert_out = cert;
  return key;
}

/* Decode one base64url part of a JWT. */
static unsigned char *b64url_decode(const char *s, size_t len, size_t *out)
{
  char *std = calloc(1, len + 4);
  unsigned char *bytes = NULL;
  size_t i;

  assert_non_null(std);
  for (i = 0; i < len; i++)
    std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
  while (i % 4)
    std[i++] = '=';
  assert_int_equal(cairn_base64_decode(&bytes, out, std), 0);
  free(std);
  return bytes;
}

static json_t *jwt_part(const char *s, size_t len)
{
  size_t n;
  unsigned char *raw = b64url_decode(s, len, &n);
  json_t *j = json_loadb((const char *)raw, n, 0, NULL);

  free(raw);
  assert_non_null(j);
  return j;
}

static void test_client_assertion(void **state)
{
  char pem[128], *jwt, *dot1, *dot2, x5t[64];
  unsigned char *der = NULL, sha[SHA_DIGEST_LENGTH], *sig;
  const char *aud = "https://127.0.0.1:1/t1/oauth2/v2.0/token";
  EVP_PKEY *key;
  EVP_MD_CTX *md;
  X509 *cert;
  json_t *h, *c;
  size_t siglen;
  char *b64, *p;
  int len;

  (void)state;
  snprintf(pem, sizeof(pem), "%s/client.pem", tmpdir);
  key = make_cert_pem(pem, &cert);
  assert_int_equal(cairn__azure_client_assertion(&jwt, pem, NULL, "app-1",
                                                 aud, 1000000), 0);
  dot1 = strchr(jwt, '.');
  assert_non_null(dot1);
  dot2 = strchr(dot1 + 1, '.');
  assert_non_null(dot2);

  h = jwt_part(jwt, (size_t)(dot1 - jwt));
  assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
  len = i2d_X509(cert, &der);
  SHA1(der, (size_t)len, sha);
  OPENSSL_free(der);
  b64 = cairn_base64_encode(sha, sizeof(sha));
  for (p = b64; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p == '=' ? '\0' : *p;
  snprintf(x5t, sizeof(x5t), "%s", b64);
  free(b64);
  assert_string_equal(json_string_value(json_object_get(h, "x5t")), x5t);

  c = jwt_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
  assert_string_equal(json_string_value(json_object_get(c, "aud")), aud);
  assert_string_equal(json_string_value(json_object_get(c, "iss")), "app-1");
  assert_string_equal(json_string_value(json_object_get(c, "sub")), "app-1");
  assert_int_equal(json_integer_value(json_object_get(c, "nbf")), 1000000);
  assert_true(json_integer_value(json_object_get(c, "exp")) > 1000000);
  assert_non_null(json_string_value(json_object_get(c, "jti")));

  /* the signature checks out with the certificate's key */
  sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &siglen);
  md = EVP_MD_CTX_new();
  assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key),
                   1);
  assert_int_equal(EVP_DigestVerify(md, sig, siglen,
                                    (const unsigned char *)jwt,
                                    (size_t)(dot2 - jwt)), 1);
  /* and not for other bytes */
  jwt[1] ^= 1;
  assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key),
                   1);
  assert_int_not_equal(EVP_DigestVerify(md, sig, siglen,
                                        (const unsigned char *)jwt,
                                        (size_t)(dot2 - jwt)), 1);
  EVP_MD_CTX_free(md);
  free(sig);
  json_decref(h);
  json_decref(c);
  free(jwt);
  X509_free(cert);
  EVP_PKEY_free(key);

  /* a file without a key says so */
  write_file(pem, "not a pem\n", 0600);
  assert_int_equal(cairn__azure_client_assertion(&jwt, pem, NULL, "app-1",
                                                 aud, 1000000), CAIRN_EAUTH);
  assert_non_null(strstr(cairn_error_last()->message, "no private key"));
}

/* ------------------------------------------------------------------ */
/* The chain                                                           */
/* ------------------------------------------------------------------ */

static void chain_is(const char *method, const char *where)
{
  cairn__azure_tokens *t = NULL;
  char *w = NULL;
  int rc = cairn__azure_tokens_from_env(&t, &w);

  if (rc != 0)
    print_error("%s\n", cairn_error_last()->message);
  assert_int_equal(rc, 0);
  assert_string_equal(cairn__azure_tokens_method(t), method);
  assert_string_equal(w, where);
  free(w);
  cairn__azure_tokens_free(t);
}

static void chain_refused(int code, const char *words)
{
  cairn__azure_tokens *t = (cairn__azure_tokens *)1;
  char *w = (char *)1;

  assert_int_equal(cairn__azure_tokens_from_env(&t, &w), code);
  assert_null(t);
  assert_null(w);
  assert_non_null(strstr(cairn_error_last()->message, words));
}

static void test_chain_order(void **state)
{
  char az[128], pem[128];

  (void)state;
  chain_refused(CAIRN_EAUTH, "az login");

  /* each source below a later one in the order, added one by one */
  snprintf(az, sizeof(az), "%s/az", tmpdir);
  write_file(az, "#!/bin/sh\nexit 1\n", 0755);
  chain_is("Azure CLI login", "the Azure CLI ('az' on the PATH)");

  setenv("AZURE_USE_IMDS", "0", 1);
  chain_is("Azure CLI login", "the Azure CLI ('az' on the PATH)");
  setenv("AZURE_USE_IMDS", "1", 1);
  chain_is("managed identity through the instance metadata service",
           "AZURE_USE_IMDS=1");

  setenv("IDENTITY_ENDPOINT", "https://127.0.0.1:1/msi/token", 1);
  chain_is("managed identity through the instance metadata service",
           "AZURE_USE_IMDS=1");
  setenv("IDENTITY_HEADER", "h", 1);
  chain_is("managed identity", "IDENTITY_ENDPOINT + IDENTITY_HEADER");

  setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token", 1);
  chain_refused(CAIRN_EINVAL, "AZURE_FEDERATED_TOKEN_FILE is set but "
                              "AZURE_CLIENT_ID is not");
  setenv("AZURE_CLIENT_ID", "app-1", 1);
  setenv("AZURE_TENANT_ID", "t1", 1);
  chain_is("workload identity", "AZURE_FEDERATED_TOKEN_FILE + "
                                "AZURE_CLIENT_ID + AZURE_TENANT_ID");

  snprintf(pem, sizeof(pem), "%s/client.pem", tmpdir);
  setenv("AZURE_CLIENT_CERTIFICATE_PATH", pem, 1);
  chain_is("service principal with a client certificate",
           "AZURE_CLIENT_CERTIFICATE_PATH + AZURE_CLIENT_ID + "
           "AZURE_TENANT_ID");

  setenv("AZURE_CLIENT_SECRET", "s1", 1);
  chain_is("service principal with a client secret",
           "AZURE_CLIENT_ID + AZURE_CLIENT_SECRET + AZURE_TENANT_ID");

  setenv("AZURE_STORAGE_CLIENT_SECRET", "s2", 1);
  chain_refused(CAIRN_EINVAL, "AZURE_STORAGE_CLIENT_SECRET is set but "
                              "AZURE_STORAGE_CLIENT_ID is not");
  setenv("AZURE_STORAGE_CLIENT_ID", "app-2", 1);
  setenv("AZURE_STORAGE_TENANT_ID", "t2", 1);
  chain_is("service principal with a client secret",
           "AZURE_STORAGE_CLIENT_ID + AZURE_STORAGE_CLIENT_SECRET + "
           "AZURE_STORAGE_TENANT_ID");
}

static void test_env_account_uses_chain(void **state)
{
  cairn_azure_account *a = NULL;

  (void)state;
  setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct", 1);
  setenv("AZURE_CLIENT_ID", "app-1", 1);
  setenv("AZURE_CLIENT_SECRET", "s1-secret-value", 1);
  setenv("AZURE_TENANT_ID", "t1", 1);
  assert_int_equal(cairn_azure_account_from_env(&a), 0);
  assert_int_equal(cairn_azure_account_auth(a), CAIRN_AZURE_AUTH_BEARER);
  assert_string_equal(cairn_azure_account_source(a),
                      "environment: AZURE_STORAGE_ACCOUNT_NAME + "
                      "AZURE_CLIENT_ID + AZURE_CLIENT_SECRET + "
                      "AZURE_TENANT_ID (bearer token: service principal "
                      "with a client secret)");
  assert_null(strstr(cairn_azure_account_source(a), "s1-secret-value"));
  assert_string_equal(cairn_azure_account_endpoint(a),
                      "https://acct.blob.core.windows.net");
  cairn_azure_account_free(a);

  /* tokens never go over plain http */
  setenv("AZURE_STORAGE_BLOB_ENDPOINT", "http://127.0.0.1:10000/acct", 1);
  assert_int_equal(cairn_azure_account_from_env(&a), CAIRN_EINVAL);
  assert_non_null(strstr(cairn_error_last()->message, "https only"));
  assert_null(a);
}

/* ------------------------------------------------------------------ */
/* The Azure CLI and cached tokens                                     */
/* ------------------------------------------------------------------ */

/* A CLI token source; the fake 'az' in tmpdir comes first on the PATH. */
static cairn__azure_tokens *cli_tokens(void)
{
  cairn__token_config c;
  cairn__azure_tokens *t = NULL;
  char path[160];

  snprintf(path, sizeof(path), "%s:/usr/bin:/bin", tmpdir);
  setenv("PATH", path, 1);
  memset(&c, 0, sizeof(c));
  c.kind = CAIRN__TOKEN_AZURE_CLI;
  assert_int_equal(cairn__azure_tokens_new(&t, &c), 0);
  return t;
}

static void test_cli(void **state)
{
  char az[128], log[128], script[1024], *tok;
  cairn__azure_tokens *t;
  unsigned gen1, gen2;
  int64_t exp, now = cairn_time_now();
  cairn_buf args = CAIRN_BUF_INIT;

  (void)state;
  snprintf(az, sizeof(az), "%s/az", tmpdir);
  snprintf(log, sizeof(log), "%s/az.log", tmpdir);
  /* a token that expires in 2 s, so that each get fetches anew */
  snprintf(script, sizeof(script),
           "#!/bin/sh\necho \"$@\" >> '%s'\n"
           "n=$(wc -l < '%s')\n"
           "echo \"{\\\"accessToken\\\": \\\"tok-$n\\\", "
           "\\\"expires_on\\\": $(( $(date +%%s) + 2 )), "
           "\\\"tokenType\\\": \\\"Bearer\\\"}\"\n",
           log, log);
  write_file(az, script, 0755);
  t = cli_tokens();
  assert_int_equal(cairn__azure_tokens_get(t, &tok, &exp, &gen1), 0);
  assert_string_equal(tok, "tok-1");
  assert_true(exp >= now + 1 && exp <= now + 4);
  free(tok);
  assert_int_equal(cairn_file_read(&args, log, 0), 0);
  assert_string_equal(cairn_buf_cstr(&args),
                      "account get-access-token --resource "
                      "https://storage.azure.com/ --output json\n");
  cairn_buf_dispose(&args);
  /* within the margin of a short-lived token: fetched again */
  sleep(2);
  assert_int_equal(cairn__azure_tokens_get(t, &tok, &exp, &gen2), 0);
  assert_string_equal(tok, "tok-2");
  assert_int_not_equal(gen1, gen2);
  free(tok);
  cairn__azure_tokens_free(t);

  /* a refused login is reported with the CLI's own words */
  write_file(az, "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup "
                 "account.\" >&2\nexit 1\n", 0755);
  t = cli_tokens();
  assert_int_equal(cairn__azure_tokens_get(t, &tok, &exp, &gen1),
                   CAIRN_EAUTH);
  assert_non_null(strstr(cairn_error_last()->message,
                         "Please run 'az login'"));
  cairn__azure_tokens_free(t);

  /* the older CLIs give only expiresOn, in local time */
  write_file(az, "#!/bin/sh\necho '{\"accessToken\": \"old\", \"expiresOn\":"
                 " \"2030-01-02 03:04:05.000000\"}'\n", 0755);
  t = cli_tokens();
  assert_int_equal(cairn__azure_tokens_get(t, &tok, &exp, &gen1), 0);
  assert_string_equal(tok, "old");
  {
    struct tm tm = {0};

    tm.tm_year = 130;
    tm.tm_mon = 0;
    tm.tm_mday = 2;
    tm.tm_hour = 3;
    tm.tm_min = 4;
    tm.tm_sec = 5;
    tm.tm_isdst = -1;
    assert_int_equal(exp, (int64_t)mktime(&tm));
  }
  free(tok);
  cairn__azure_tokens_free(t);
}

static void test_cache_and_invalidate(void **state)
{
  char az[128], log[128], script[512], *tok;
  cairn__azure_tokens *t;
  unsigned gen, gen2;
  int64_t exp;
  cairn_buf text = CAIRN_BUF_INIT;

  (void)state;
  snprintf(az, sizeof(az), "%s/az", tmpdir);
  snprintf(log, sizeof(log), "%s/calls", tmpdir);
  snprintf(script, sizeof(script),
           "#!/bin/sh\necho x >> '%s'\nn=$(wc -l < '%s')\n"
           "echo \"{\\\"accessToken\\\": \\\"t$n\\\", \\\"expires_on\\\": "
           "$(( $(date +%%s) + 3600 ))}\"\n", log, log);
  write_file(az, script, 0755);
  t = cli_tokens();
  /* an hour-long token is fetched once and then cached */
  assert_int_equal(cairn__azure_tokens_get(t, &tok, &exp, &gen), 0);
  assert_string_equal(tok, "t1");
  free(tok);
  assert_int_equal(cairn__azure_tokens_get(t, &tok, &exp, &gen2), 0);
  assert_string_equal(tok, "t1");
  assert_int_equal(gen, gen2);
  free(tok);
  /* a stale generation does not drop the newer token */
  assert_int_equal(cairn__azure_tokens_invalidate(t, gen + 5), 1);
  assert_int_equal(cairn__azure_tokens_get(t, &tok, &exp, &gen2), 0);
  assert_string_equal(tok, "t1");
  free(tok);
  /* a refused one is replaced on the next get */
  assert_int_equal(cairn__azure_tokens_invalidate(t, gen), 1);
  assert_int_equal(cairn__azure_tokens_get(t, &tok, &exp, &gen2), 0);
  assert_string_equal(tok, "t2");
  assert_int_not_equal(gen, gen2);
  free(tok);
  cairn__azure_tokens_free(t);
  assert_int_equal(cairn_file_read(&text, log, 0), 0);
  assert_int_equal(text.size, 4); /* two calls of the CLI */
  cairn_buf_dispose(&text);
}

static void test_static_token(void **state)
{
  cairn_azure_account *a = NULL;
  char *tok;
  int64_t exp;

  (void)state;
  assert_int_equal(cairn_azure_account_from_token(
                       &a, "acct", "given", cairn_time_now() + 600, NULL),
                   0);
  assert_int_equal(cairn_azure_account_token(a, &tok, &exp), 0);
  assert_string_equal(tok, "given");
  free(tok);
  assert_string_equal(cairn_azure_account_source(a),
                      "access token (bearer token: access token)");
  assert_int_equal(cairn__azure_tokens_invalidate(a->tokens, 1), 0);
  cairn_azure_account_free(a);

  assert_int_equal(cairn_azure_account_from_token(
                       &a, "acct", "old", cairn_time_now() - 1, NULL), 0);
  assert_int_equal(cairn_azure_account_token(a, &tok, &exp), CAIRN_EAUTH);
  assert_non_null(strstr(cairn_error_last()->message, "expired"));
  cairn_azure_account_free(a);

  /* accounts without tokens have none to give */
  assert_int_equal(cairn_azure_account_from_sas(&a, "acct", "sv=1&sig=kPh%2BO8dhn%2B0YhbhROjTTTDvATQiEG5sGWWgHlpx8Y%2BI%3D",
                                                NULL), 0);
  assert_int_equal(cairn_azure_account_token(a, &tok, &exp), CAIRN_EINVAL);
  cairn_azure_account_free(a);
}

/* Client credentials never go to an authority over plain http. */
static void test_authority_https_only(void **state)
{
  cairn__token_config c;
  cairn__azure_tokens *t = NULL;

  (void)state;
  memset(&c, 0, sizeof(c));
  c.kind = CAIRN__TOKEN_CLIENT_SECRET;
  c.tenant_id = "tenant";
  c.client_id = "client";
  c.client_secret = "not-to-be-sent";
  c.authority = "http://127.0.0.1:9";
  assert_int_equal(cairn__azure_tokens_new(&t, &c), CAIRN_EINVAL);
  assert_null(t);
  assert_non_null(strstr(cairn_error_last()->message, "https://"));
  assert_null(strstr(cairn_error_last()->message, "not-to-be-sent"));

  setenv("AZURE_AUTHORITY_HOST", "HTTP://login.example", 1);
  c.authority = NULL;
  c.kind = CAIRN__TOKEN_FEDERATED;
  c.client_secret = NULL;
  c.federated_token_file = "/nonexistent";
  assert_int_equal(cairn__azure_tokens_new(&t, &c), CAIRN_EINVAL);

  /* a managed identity's local endpoint is http by design */
  memset(&c, 0, sizeof(c));
  c.kind = CAIRN__TOKEN_MANAGED_IDENTITY;
  c.identity_endpoint = "http://127.0.0.1:9/msi/token";
  c.identity_header = "h";
  assert_int_equal(cairn__azure_tokens_new(&t, &c), 0);
  cairn__azure_tokens_free(t);

  setenv("AZURE_AUTHORITY_HOST", "https://login.example/", 1);
  memset(&c, 0, sizeof(c));
  c.kind = CAIRN__TOKEN_CLIENT_SECRET;
  c.tenant_id = "tenant";
  c.client_id = "client";
  c.client_secret = "s";
  assert_int_equal(cairn__azure_tokens_new(&t, &c), 0);
  cairn__azure_tokens_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_answers),
      cmocka_unit_test(test_error_text),
      cmocka_unit_test(test_token_url),
      cmocka_unit_test_setup_teardown(test_client_assertion, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_chain_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_env_account_uses_chain, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache_and_invalidate, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_static_token, setup, teardown),
      cmocka_unit_test_setup_teardown(test_authority_https_only, setup,
                                      teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Connection strings, keys, SAS tokens and the environment
 * (field cases B01-B04, B11, B15).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/log.h>

#include "azure/account.h"
#include "core/hash.h"

#define DEV_KEY CAIRN_AZURE_DEV_KEY
#define DEV_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"
/* 64 bytes of base64 holding '+' and '/' and ending in "==". */
#define KEY "++//+gABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoK" \
            "SorLC0uLzAxMjM0NTY3ODk6Ow=="
#define SIG "kPh%2BO8dhn%2B0YhbhROjTTTDvATQiEG5sGWWgHlpx8Y%2BI%3D"
#define SAS "sv=2022-11-02&sp=rl&sig=" SIG
#define KEY_PART "gABAgMEBQYH"

static cairn_azure_account *parse_ok(const char *cs)
{
  cairn_azure_account *a = NULL;
  int rc = cairn_azure_account_from_connection_string(&a, cs);

  if (rc != 0)
    print_error("'%s': %s\n", cs, cairn_error_last()->message);
  assert_int_equal(rc, 0);
  assert_non_null(a);
  return a;
}

static void assert_key(const cairn_azure_account *a, const char *key64)
{
  unsigned char *bytes = NULL;
  size_t len = 0;

  assert_int_equal(cairn_base64_decode(&bytes, &len, key64), 0);
  assert_int_equal(a->key_len, len);
  assert_memory_equal(a->key, bytes, len);
  free(bytes);
}

static void assert_dev(const char *cs)
{
  cairn_azure_account *a = parse_ok(cs);

  assert_string_equal(cairn_azure_account_name(a), "devstoreaccount1");
  assert_string_equal(cairn_azure_account_endpoint(a), DEV_ENDPOINT);
  assert_int_equal(cairn_azure_account_auth(a), CAIRN_AZURE_AUTH_SHARED_KEY);
  assert_key(a, DEV_KEY);
  assert_null(a->sas);
  cairn_azure_account_free(a);
}

static void test_b01_dev_storage(void **state)
{
  cairn_azure_account *a;

  (void)state;
  assert_dev("UseDevelopmentStorage=true;");
  assert_dev("UseDevelopmentStorage=true");
  assert_dev("usedevelopmentstorage=TRUE");
  assert_dev(" UseDevelopmentStorage = \"true\" ;;");

  a = parse_ok("UseDevelopmentStorage=true;"
               "DevelopmentStorageProxyUri=http://azurite.local");
  assert_string_equal(cairn_azure_account_endpoint(a),
                      "http://azurite.local:10000/devstoreaccount1");
  cairn_azure_account_free(a);
}

static void assert_endpoint(const char *cs, const char *endpoint)
{
  cairn_azure_account *a = parse_ok(cs);

  assert_string_equal(cairn_azure_account_endpoint(a), endpoint);
  assert_null(strstr(cairn_azure_account_endpoint(a), ".."));
  assert_string_equal(cairn_azure_account_name(a), "acct");
  cairn_azure_account_free(a);
}

static void test_b02_suffix(void **state)
{
  (void)state;
  assert_endpoint("DefaultEndpointsProtocol=https;AccountName=acct;"
                  "AccountKey=" KEY,
                  "https://acct.blob.core.windows.net");
  assert_endpoint("AccountName=acct;AccountKey=" KEY,
                  "https://acct.blob.core.windows.net");
  assert_endpoint("DefaultEndpointsProtocol=https;AccountName=acct;"
                  "AccountKey=" KEY ";EndpointSuffix=core.chinacloudapi.cn",
                  "https://acct.blob.core.chinacloudapi.cn");
  assert_endpoint("DefaultEndpointsProtocol=https;AccountName=acct;"
                  "AccountKey=" KEY ";EndpointSuffix=.core.windows.net",
                  "https://acct.blob.core.windows.net");
  assert_endpoint("DefaultEndpointsProtocol=HTTP;AccountName=acct;"
                  "AccountKey=" KEY,
                  "http://acct.blob.core.windows.net");
  assert_endpoint("AccountName=acct;AccountKey=" KEY ";"
                  "BlobEndpoint=https://acct.blob.core.windows.net/",
                  "https://acct.blob.core.windows.net");
}

static void test_b03_quotes_and_splitting(void **state)
{
  cairn_azure_account *a, *b = NULL;

  (void)state;
  a = parse_ok("AccountName=acct; AccountKey=\"" KEY "\" ;;"
               "EndpointSuffix=core.windows.net;");
  assert_string_equal(cairn_azure_account_name(a), "acct");
  assert_string_equal(cairn_azure_account_endpoint(a),
                      "https://acct.blob.core.windows.net");
  assert_int_equal(cairn_azure_account_from_key(&b, "acct", KEY, NULL), 0);
  assert_int_equal(a->key_len, 64);
  assert_int_equal(b->key_len, 64);
  assert_memory_equal(a->key, b->key, 64);
  assert_key(a, KEY);
  cairn_azure_account_free(a);
  cairn_azure_account_free(b);

  /* Keys in any case; the SAS value kept byte for byte. */
  a = parse_ok("blobendpoint=https://acct.blob.core.windows.net/;"
               "SHAREDACCESSSIGNATURE=" SAS);
  assert_int_equal(cairn_azure_account_auth(a), CAIRN_AZURE_AUTH_SAS);
  assert_string_equal(a->sas, SAS);
  assert_null(a->key);
  cairn_azure_account_free(a);
}

static void test_b04_sas_only(void **state)
{
  cairn_azure_account *a;

  (void)state;
  a = parse_ok("BlobEndpoint=https://acct.blob.core.windows.net/;"
               "SharedAccessSignature=?" SAS);
  assert_string_equal(cairn_azure_account_name(a), "acct");
  assert_string_equal(cairn_azure_account_endpoint(a),
                      "https://acct.blob.core.windows.net");
  assert_string_equal(a->sas, SAS);
  assert_string_equal(cairn_azure_account_source(a),
                      "connection string (SAS)");
  cairn_azure_account_free(a);

  /* Path style (Azurite): the name is the first path segment. */
  a = parse_ok("BlobEndpoint=" DEV_ENDPOINT ";SharedAccessSignature=" SAS);
  assert_string_equal(cairn_azure_account_name(a), "devstoreaccount1");
  assert_string_equal(cairn_azure_account_endpoint(a), DEV_ENDPOINT);
  cairn_azure_account_free(a);

  /* Both: the key wins. */
  a = parse_ok("AccountName=acct;AccountKey=" KEY
               ";SharedAccessSignature=" SAS);
  assert_int_equal(cairn_azure_account_auth(a), CAIRN_AZURE_AUTH_SHARED_KEY);
  assert_null(a->sas);
  assert_string_equal(cairn_azure_account_source(a),
                      "connection string (shared key)");
  cairn_azure_account_free(a);
}

static void assert_refused(const char *cs, int code, const char *words,
                           const char *secret)
{
  cairn_azure_account *a = (cairn_azure_account *)1;
  const char *msg;

  assert_int_equal(cairn_azure_account_from_connection_string(&a, cs), code);
  assert_null(a);
  msg = cairn_error_last()->message;
  assert_non_null(strstr(msg, words));
  if (secret)
    assert_null(strstr(msg, secret));
}

static void test_bad_key(void **state)
{
  cairn_azure_account *a = NULL;

  (void)state;
  /* Padding missing, '+' turned to a space, too short, junk. */
  assert_refused("AccountName=acct;AccountKey=++//+gABAgMEBQYHCAkKCwwND"
                 "g8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NT"
                 "Y3ODk6Ow", CAIRN_EINVAL,
                 "the account key is not valid base64", "++//+gAB");
  assert_refused("AccountName=acct;AccountKey= +//+gABAgMEBQYHCAkKCwwND"
                 "g8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NT"
                 "Y3ODk6Ow==", CAIRN_EINVAL,
                 "the account key is not valid base64", "+//+gAB");
  assert_refused("AccountName=acct;AccountKey=+ //+gABAgMEBQYHCAkKCwwND"
                 "g8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NT"
                 "Y3ODk6Ow==", CAIRN_EINVAL,
                 "the account key is not valid base64", "gABAgM");
  assert_refused("AccountName=acct;AccountKey=c2hvcnQ=", CAIRN_EINVAL,
                 "the account key is not valid base64", "c2hvcnQ");
  assert_int_equal(cairn_azure_account_from_key(&a, "acct", "n0t-base64!!",
                                                NULL), CAIRN_EINVAL);
  assert_null(a);
  assert_null(strstr(cairn_error_last()->message, "n0t-base64"));

  /* The newline of a key file is not part of the key. */
  assert_int_equal(cairn_azure_account_from_key(&a, "acct", " " KEY "\n",
                                                NULL), 0);
  assert_int_equal(cairn_azure_account_auth(a), CAIRN_AZURE_AUTH_SHARED_KEY);
  assert_int_equal(a->key_len, 64);
  cairn_azure_account_free(a);
  a = NULL;

  assert_refused("AccountName=acct", CAIRN_EAUTH, "AccountKey", NULL);
  assert_refused("AccountName=acct;junk;AccountKey=" KEY, CAIRN_EINVAL,
                 "segment 2 has no '='", "junk");
  /* A mistyped '=' must not put the key in the error. */
  assert_refused("AccountName=acct;AccountKey:++//+gABAgMEBQYHCAkK",
                 CAIRN_EINVAL, "segment 2 starts with 'AccountKey' but has "
                 "no '=': write it as AccountKey=VALUE", KEY_PART);
  assert_refused("AccountName=acct;++//+gABAgMEBQYHCAkK", CAIRN_EINVAL,
                 "segment 2 has no '='", KEY_PART);
  assert_refused("AccountName=acct;AccountKey=" KEY
                 ";BlobEndpoint=ftp://x", CAIRN_EINVAL, "ftp://x", NULL);
  assert_refused("AccountName=acct;AccountKey=" KEY
                 ";DefaultEndpointsProtocol=gopher", CAIRN_EINVAL,
                 "gopher", NULL);
}

static const char *const env_vars[] = {
    "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_BLOB_ENDPOINT", "AZURE_STORAGE_CLIENT_ID",
    "AZURE_STORAGE_CLIENT_SECRET", "AZURE_STORAGE_TENANT_ID",
    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
    "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_USE_IMDS"};

static int env_clear(void **state)
{
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
    unsetenv(env_vars[i]);
  return 0;
}

static cairn_azure_account *env_ok(const char *source)
{
  cairn_azure_account *a = NULL;
  int rc = cairn_azure_account_from_env(&a);

  if (rc != 0)
    print_error("%s\n", cairn_error_last()->message);
  assert_int_equal(rc, 0);
  assert_string_equal(cairn_azure_account_source(a), source);
  return a;
}

static void test_env_order(void **state)
{
  cairn_azure_account *a;

  (void)state;
  setenv("AZURE_STORAGE_ACCOUNT", "acct", 1);
  setenv("AZURE_STORAGE_KEY", KEY, 1);
  a = env_ok("environment: AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY "
             "(shared key)");
  assert_string_equal(cairn_azure_account_name(a), "acct");
  assert_string_equal(cairn_azure_account_endpoint(a),
                      "https://acct.blob.core.windows.net");
  assert_key(a, KEY);
  cairn_azure_account_free(a);

  /* The primary names win over the aliases. */
  setenv("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1", 1);
  setenv("AZURE_STORAGE_ACCOUNT_KEY", DEV_KEY, 1);
  setenv("AZURE_STORAGE_SAS_TOKEN", SAS, 1);
  a = env_ok("environment: AZURE_STORAGE_ACCOUNT_NAME + "
             "AZURE_STORAGE_ACCOUNT_KEY (shared key)");
  assert_string_equal(cairn_azure_account_name(a), "devstoreaccount1");
  assert_key(a, DEV_KEY);
  cairn_azure_account_free(a);

  /* The connection string comes first. */
  setenv("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true", 1);
  a = env_ok("environment: AZURE_STORAGE_CONNECTION_STRING (shared key)");
  assert_string_equal(cairn_azure_account_endpoint(a), DEV_ENDPOINT);
  cairn_azure_account_free(a);
}

static void test_env_sas_and_endpoint(void **state)
{
  cairn_azure_account *a;

  (void)state;
  setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct", 1);
  setenv("AZURE_STORAGE_SAS_TOKEN", "?" SAS, 1);
  a = env_ok("environment: AZURE_STORAGE_ACCOUNT_NAME + "
             "AZURE_STORAGE_SAS_TOKEN (SAS)");
  assert_string_equal(a->sas, SAS);
  assert_string_equal(cairn_azure_account_endpoint(a),
                      "https://acct.blob.core.windows.net");
  cairn_azure_account_free(a);

  setenv("AZURE_STORAGE_BLOB_ENDPOINT", DEV_ENDPOINT "/", 1);
  a = env_ok("environment: AZURE_STORAGE_ACCOUNT_NAME + "
             "AZURE_STORAGE_SAS_TOKEN (SAS), endpoint "
             "AZURE_STORAGE_BLOB_ENDPOINT");
  assert_string_equal(cairn_azure_account_endpoint(a), DEV_ENDPOINT);
  cairn_azure_account_free(a);

  /* A SAS and an endpoint are enough. */
  unsetenv("AZURE_STORAGE_ACCOUNT_NAME");
  a = env_ok("environment: AZURE_STORAGE_SAS_TOKEN (SAS), endpoint "
             "AZURE_STORAGE_BLOB_ENDPOINT");
  assert_string_equal(cairn_azure_account_name(a), "devstoreaccount1");
  cairn_azure_account_free(a);
}

static void env_refused(const char *words)
{
  cairn_azure_account *a = (cairn_azure_account *)1;

  assert_int_equal(cairn_azure_account_from_env(&a), CAIRN_EAUTH);
  assert_null(a);
  assert_non_null(strstr(cairn_error_last()->message, words));
}

static void test_env_missing(void **state)
{
  cairn_azure_account *a = NULL;

  (void)state;
  env_refused("AZURE_STORAGE_CONNECTION_STRING");
  env_refused("AZURE_STORAGE_ACCOUNT_KEY");
  env_refused("AZURE_STORAGE_SAS_TOKEN");

  /* A name alone asks for tokens, and there is no source of them. */
  setenv("PATH", "/nonexistent", 1);
  setenv("AZURE_STORAGE_ACCOUNT", "acct", 1);
  env_refused("AZURE_STORAGE_ACCOUNT is set without a key or a SAS");
  env_refused("AZURE_STORAGE_CLIENT_ID");
  unsetenv("AZURE_STORAGE_ACCOUNT");

  setenv("AZURE_STORAGE_KEY", KEY, 1);
  env_refused("AZURE_STORAGE_ACCOUNT_NAME");
  unsetenv("AZURE_STORAGE_KEY");

  /* A bad key in the environment is refused without showing it. */
  setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct", 1);
  setenv("AZURE_STORAGE_ACCOUNT_KEY", "abc=", 1);
  assert_int_equal(cairn_azure_account_from_env(&a), CAIRN_EINVAL);
  assert_null(a);
  assert_non_null(strstr(cairn_error_last()->message,
                         "the account key is not valid base64"));
  assert_null(strstr(cairn_error_last()->message, "abc="));
}

static void test_from_sas_and_key(void **state)
{
  cairn_azure_account *a = NULL;

  (void)state;
  assert_int_equal(cairn_azure_account_from_sas(&a, "acct", "?" SAS, NULL),
                   0);
  assert_string_equal(a->sas, SAS);
  assert_string_equal(cairn_azure_account_endpoint(a),
                      "https://acct.blob.core.windows.net");
  cairn_azure_account_free(a);

  assert_int_equal(cairn_azure_account_from_sas(&a, NULL, SAS, NULL),
                   CAIRN_EINVAL);
  assert_int_equal(cairn_azure_account_from_sas(&a, "acct", "?", NULL),
                   CAIRN_EINVAL);
  assert_int_equal(cairn_azure_account_from_key(&a, NULL, KEY, NULL),
                   CAIRN_EINVAL);
  assert_int_equal(cairn_azure_account_from_key(&a, "Bad_Name", KEY, NULL),
                   CAIRN_EINVAL);
  assert_int_equal(cairn_azure_account_from_key(&a, "acct", KEY,
                                                "acct.blob.x"),
                   CAIRN_EINVAL);
  assert_null(a);
  cairn_azure_account_free(NULL);
}

static char warned[512];

static void keep_warning(cairn_log_level level, const char *category,
                         const char *message, void *payload)
{
  (void)category;
  (void)payload;
  if (level == CAIRN_LOG_WARN)
    snprintf(warned, sizeof(warned), "%s", message);
}

static void keep_all(cairn_log_level level, const char *category,
                     const char *message, void *payload)
{
  size_t len = strlen(warned);

  (void)level;
  (void)category;
  (void)payload;
  snprintf(warned + len, sizeof(warned) - len, "%s\n", message);
}

/* Segments that are ignored are logged by name, never by value. */
static void test_ignored_segments_logged(void **state)
{
  cairn_azure_account *a = (cairn_azure_account *)1;
  cairn_log_level level = cairn_log_get_level();

  (void)state;
  cairn_log_set_sink(keep_all, NULL);
  cairn_log_set_level(CAIRN_LOG_DEBUG);
  warned[0] = '\0';
  assert_int_equal(cairn_azure_account_from_connection_string(&a,
                   "AccountName=acct;AccountKey:" KEY ";Color=blue"),
                   CAIRN_EAUTH);
  assert_null(a);
  cairn_log_set_level(level);
  cairn_log_set_sink(NULL, NULL);
  assert_non_null(strstr(warned, "ignoring segment 2"));
  assert_non_null(strstr(warned, "ignoring 'Color'"));
  assert_null(strstr(warned, KEY_PART));
  assert_null(strstr(cairn_error_last()->message, KEY_PART));
}

/* A credential that is set but shadowed by another is warned about. */
static void test_env_shadowed_warning(void **state)
{
  cairn_azure_account *a;

  (void)state;
  cairn_log_set_sink(keep_warning, NULL);
  warned[0] = '\0';
  setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct", 1);
  setenv("AZURE_STORAGE_ACCOUNT_KEY", KEY, 1);
  a = env_ok("environment: AZURE_STORAGE_ACCOUNT_NAME + "
             "AZURE_STORAGE_ACCOUNT_KEY (shared key)");
  cairn_azure_account_free(a);
  assert_string_equal(warned, "");
  setenv("AZURE_STORAGE_CLIENT_ID", "app", 1);
  setenv("AZURE_STORAGE_CLIENT_SECRET", "s", 1);
  a = env_ok("environment: AZURE_STORAGE_ACCOUNT_NAME + "
             "AZURE_STORAGE_ACCOUNT_KEY (shared key)");
  cairn_azure_account_free(a);
  assert_non_null(strstr(warned, "AZURE_STORAGE_CLIENT_ID and "
                                 "AZURE_STORAGE_CLIENT_SECRET are ignored"));
  cairn_log_set_sink(NULL, NULL);
}

/* A SAS pasted wrong is refused at once, without showing it. */
static void test_bad_sas_and_endpoint(void **state)
{
  static const char *const bad[] = {
    "sv=2020-08-04&sp=rl",                       /* no signature */
    "sv=2020-08-04&sig=%%%",                     /* not base64 */
    "sv=2020-08-04&sig=abc%3D",                  /* too short */
    "sv=2020-08-04&sig=" SIG "AAAA",             /* too long */
    "?&",                                        /* nothing */
  };
  cairn_azure_account *a = NULL;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(cairn_azure_account_from_sas(&a, "acct", bad[i], NULL),
                     CAIRN_EINVAL);
    assert_null(a);
    assert_non_null(strstr(cairn_error_last()->message, "SAS token"));
    assert_null(strstr(cairn_error_last()->message, "%%%"));
  }
  /* a whole SAS URL, pasted for the token, is named as such */
  assert_int_equal(cairn_azure_account_from_sas(
                       &a, "acct", "https://acct.blob.core.windows.net/"
                                   "?sv=2020-08-04&sig=" SIG, NULL),
                   CAIRN_EINVAL);
  assert_non_null(strstr(cairn_error_last()->message, "whole URL"));
  assert_null(strstr(cairn_error_last()->message, SIG));
  /* a user and password in an endpoint are refused, and not shown */
  assert_int_equal(cairn_azure_account_from_key(
                       &a, "acct", KEY, "https://me:pa55@acct.blob.core."
                                        "windows.net/"), CAIRN_EINVAL);
  assert_non_null(strstr(cairn_error_last()->message, "user name"));
  assert_null(strstr(cairn_error_last()->message, "pa55"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_sas_and_endpoint),
      cmocka_unit_test_setup_teardown(test_env_shadowed_warning, env_clear,
                                      env_clear),
      cmocka_unit_test(test_b01_dev_storage),
      cmocka_unit_test(test_b02_suffix),
      cmocka_unit_test(test_b03_quotes_and_splitting),
      cmocka_unit_test(test_b04_sas_only),
      cmocka_unit_test(test_bad_key),
      cmocka_unit_test(test_ignored_segments_logged),
      cmocka_unit_test_setup_teardown(test_env_order, env_clear, env_clear),
      cmocka_unit_test_setup_teardown(test_env_sas_and_endpoint, env_clear,
                                      env_clear),
      cmocka_unit_test_setup_teardown(test_env_missing, env_clear,
                                      env_clear),
      cmocka_unit_test(test_from_sas_and_key),
  };

  return cmocka_run_group_tests(tests, env_clear, NULL);
}

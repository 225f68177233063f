/*
 * Azure artifact-store URIs and container names (B27, B28, B29, B32).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cairn/azure.h>

static void parse_ok(const char *uri, const char *scheme,
                     const char *container, const char *account,
                     const char *suffix, const char *path)
{
  cairn_azure_uri u;
  int rc = cairn_azure_uri_parse(&u, uri);

  if (rc != 0)
    print_error("'%s': %s\n", uri, cairn_error_last()->message);
  assert_int_equal(rc, 0);
  assert_string_equal(u.scheme, scheme);
  assert_string_equal(u.container, container);
  assert_string_equal(u.account, account);
  assert_string_equal(u.suffix, suffix);
  assert_string_equal(u.path, path);
  cairn_azure_uri_dispose(&u);
}

static void test_accepted_forms(void **state)
{
  (void)state;
  parse_ok("az://c1c", "az", "c1c", "", "", "");
  parse_ok("az://c1c/", "az", "c1c", "", "", "");
  parse_ok("az://models/p/f", "az", "models", "", "", "p/f");
  parse_ok("abfs://models/p/f", "abfs", "models", "", "", "p/f");
  parse_ok("abfss://models/p/f", "abfss", "models", "", "", "p/f");
  parse_ok("AZ://models/p", "az", "models", "", "", "p");
  /* B27 */
  parse_ok("abfss://ccc@acct.dfs.core.windows.net/p/f", "abfss", "ccc",
           "acct", "core.windows.net", "p/f");
  parse_ok("az://ccc@acct.blob.core.windows.net/p/f", "az", "ccc", "acct",
           "core.windows.net", "p/f");
  parse_ok("abfs://ccc@acct.dfs.core.chinacloudapi.cn", "abfs", "ccc",
           "acct", "core.chinacloudapi.cn", "");
  parse_ok("az://$root/x", "az", "$root", "", "", "x");
}

static void test_path_normalised(void **state)
{
  (void)state;
  /* B29: trailing slashes trimmed, doubled ones collapsed. */
  parse_ok("az://ccc/folder", "az", "ccc", "", "", "folder");
  parse_ok("az://ccc/folder/", "az", "ccc", "", "", "folder");
  parse_ok("az://ccc/folder//", "az", "ccc", "", "", "folder");
  parse_ok("az://ccc//a//b///c/", "az", "ccc", "", "", "a/b/c");
  parse_ok("az://ccc/a b/r#1.txt", "az", "ccc", "", "", "a b/r#1.txt");
  parse_ok("az://ccc/v.1/x.y", "az", "ccc", "", "", "v.1/x.y");
}

static void refused(const char *uri, const char *words)
{
  cairn_azure_uri u;

  assert_int_equal(cairn_azure_uri_parse(&u, uri), CAIRN_EINVAL);
  assert_null(u.scheme);
  assert_null(u.container);
  if (!strstr(cairn_error_last()->message, words))
    print_error("'%s': %s\n", uri, cairn_error_last()->message);
  assert_non_null(strstr(cairn_error_last()->message, words));
}

#define FORMS "accepted forms: az://CONTAINER[/PATH], abfs://CONTAINER"

static void test_refused_forms(void **state)
{
  (void)state;
  refused("https://acct.blob.core.windows.net/c/x", FORMS);
  refused("wasbs://c@acct.blob.core.windows.net/x", FORMS);
  refused("s3://bucket/x", FORMS);
  refused("models", FORMS);
  refused("", FORMS);
  refused("az://", FORMS);
  refused("az:///p", FORMS);
  refused("az://@acct.blob.core.windows.net/p", FORMS);
  refused("az://ccc@acct.file.core.windows.net/p", FORMS);
  refused("az://ccc@acct.blob./p", FORMS);
  refused("az://ccc@.blob.core.windows.net/p", FORMS);
  refused("az:/ccc/p", FORMS);
  refused("wasb://ccc/p", "SCHEME://CONTAINER@ACCOUNT.dfs.SUFFIX[/PATH]");
  refused("az://ccc@acct.blob.core.windows.net@x", FORMS);
  refused("az://ccc@acct.blob.core.windows.net:443/p", FORMS);
}

/* Paths a blob name cannot carry are refused when the URI is read. */
static void test_unusable_paths(void **state)
{
  cairn_azure_uri u;
  char long_uri[1200];
  size_t n;

  (void)state;
  assert_int_equal(cairn_azure_uri_parse(&u, "az://ccc/a\x01" "b"), CAIRN_EINVAL);
  assert_non_null(strstr(cairn_error_last()->message, "0x01"));
  assert_int_equal(cairn_azure_uri_parse(&u, "az://ccc/a\nb"), CAIRN_EINVAL);
  assert_int_equal(cairn_azure_uri_parse(&u, "az://ccc/a\x7f"), CAIRN_EINVAL);

  n = (size_t)snprintf(long_uri, sizeof(long_uri), "az://ccc/");
  memset(long_uri + n, 'x', 1024);
  long_uri[n + 1024] = '\0';
  assert_int_equal(cairn_azure_uri_parse(&u, long_uri), 0);
  cairn_azure_uri_dispose(&u);
  long_uri[n + 1024] = 'y';
  long_uri[n + 1025] = '\0';
  assert_int_equal(cairn_azure_uri_parse(&u, long_uri), CAIRN_EINVAL);
  assert_non_null(strstr(cairn_error_last()->message, "1025 characters"));
  /* characters, not bytes: 590 two-byte letters (1,180 bytes) fit */
  n = (size_t)snprintf(long_uri, sizeof(long_uri), "az://ccc/");
  while (n + 2 < 9 + 1200 && n < 9 + 2 * 590) {
    long_uri[n++] = (char)0xc3;
    long_uri[n++] = (char)0xa9;
  }
  long_uri[n] = '\0';
  assert_int_equal(cairn_azure_uri_parse(&u, long_uri), 0);
  cairn_azure_uri_dispose(&u);
}

static void test_no_secret_in_message(void **state)
{
  cairn_azure_uri u;

  (void)state;
  assert_int_equal(cairn_azure_uri_parse(&u, "https://a.blob.core.windows."
                                         "net/c?sv=1&sig=SECRET"),
                   CAIRN_EINVAL);
  assert_null(strstr(cairn_error_last()->message, "SECRET"));
  assert_non_null(strstr(cairn_error_last()->message,
                         "'https://a.blob.core.windows.net/c'"));
}

static void name_refused(const char *name, const char *words)
{
  char uri[128] = "az://";

  assert_int_equal(cairn_azure_container_name_check(name), CAIRN_EINVAL);
  if (!strstr(cairn_error_last()->message, words))
    print_error("'%s': %s\n", name, cairn_error_last()->message);
  assert_non_null(strstr(cairn_error_last()->message, name));
  assert_non_null(strstr(cairn_error_last()->message, words));

  strcat(uri, name);
  strcat(uri, "/a");
  refused(uri, name);
  assert_non_null(strstr(cairn_error_last()->message, words));
}

static void test_b28_container_names(void **state)
{
  char long_name[65];

  (void)state;
  assert_int_equal(cairn_azure_container_name_check("abc"), 0);
  assert_int_equal(cairn_azure_container_name_check("a-b-9"), 0);
  assert_int_equal(cairn_azure_container_name_check("$logs"), 0);
  memset(long_name, 'a', 63);
  long_name[63] = '\0';
  assert_int_equal(cairn_azure_container_name_check(long_name), 0);

  name_refused("My_Models", "lowercase letters, digits and hyphens");
  name_refused("models_v1", "'_' is not allowed");
  name_refused("ab", "3 to 63 characters");
  name_refused("a--b", "two hyphens in a row");
  name_refused("-abc", "start and end with a letter or digit");
  name_refused("abc-", "start and end with a letter or digit");
  long_name[63] = 'a';
  long_name[64] = '\0';
  name_refused(long_name, "characters long (it has 64)");
}

static void test_b32_trailing_dots(void **state)
{
  (void)state;
  refused("az://ccc/out/file.", "'file.' ends in '.'");
  refused("az://ccc/out./z", "'out.' ends in '.'");
  refused("az://ccc/a/../b", "'..' ends in '.'");
  refused("az://ccc/./b", "'.' ends in '.'");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accepted_forms),
      cmocka_unit_test(test_path_normalised),
      cmocka_unit_test(test_refused_forms),
      cmocka_unit_test(test_unusable_paths),
      cmocka_unit_test(test_no_secret_in_message),
      cmocka_unit_test(test_b28_container_names),
      cmocka_unit_test(test_b32_trailing_dots),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Shared Key signing, SAS joining and URL encoding, against the requests
 * Azurite accepted (shared/vectors/azurite-wire.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "azure/account.h"
#include "azure/auth.h"

#define DEV_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"
#define DATE "Thu, 03 Dec 2026 19:21:29 GMT"

static cairn_azure_account *dev_account(void)
{
  cairn_azure_account *a = NULL;

  assert_int_equal(cairn_azure_account_from_key(&a, "devstoreaccount1",
                                                CAIRN_AZURE_DEV_KEY,
                                                DEV_ENDPOINT), 0);
  return a;
}

/* Check both the string-to-sign and the Authorization value. */
static void check(const char *method, const char *url,
                  const cairn__azure_header *h, size_t n,
                  const char *sts, const char *auth)
{
  cairn_azure_account *a = dev_account();
  char *got = NULL;

  assert_int_equal(cairn__azure_string_to_sign(&got, a, method, url, h, n),
                   0);
  assert_string_equal(got, sts);
  free(got);
  if (auth) {
    assert_int_equal(cairn__azure_shared_key(&got, a, method, url, h, n), 0);
    assert_string_equal(got, auth);
    free(got);
  }
  cairn_azure_account_free(a);
}

static void test_create_container(void **state)
{
  const cairn__azure_header h[] = {{"x-ms-version", "2023-11-03"},
                                   {"x-ms-date", DATE},
                                   {"Content-Length", "0"}};

  (void)state;
  check("PUT", DEV_ENDPOINT "/wire?restype=container", h, 3,
        "PUT\n\n\n\n\n\n\n\n\n\n\n\n"
        "x-ms-date:" DATE "\nx-ms-version:2023-11-03\n"
        "/devstoreaccount1/devstoreaccount1/wire\nrestype:container",
        "SharedKey devstoreaccount1:"
        "6bnwRUFjBuV77+QUxt3jB/A12zqZtsl5pnC1svoKSik=");
}

static void test_put_block(void **state)
{
  const cairn__azure_header h[] = {{"x-ms-version", "2023-11-03"},
                                   {"x-ms-date", DATE},
                                   {"Content-Length", "10"},
                                   {"Expect", "100-continue"}};

  (void)state;
  check("PUT",
        DEV_ENDPOINT "/wire/blocks.bin?comp=block&blockid=YmxrLTAwMDA%3D",
        h, 4,
        "PUT\n\n\n10\n\n\n\n\n\n\n\n\n"
        "x-ms-date:" DATE "\nx-ms-version:2023-11-03\n"
        "/devstoreaccount1/devstoreaccount1/wire/blocks.bin\n"
        "blockid:YmxrLTAwMDA=\ncomp:block",
        "SharedKey devstoreaccount1:"
        "JEiygw580OZbbnnmUS/waQcKMLa50e+eTvOtDWpa8Ag=");
}

static void test_put_block_list(void **state)
{
  const cairn__azure_header h[] = {
      {"x-ms-blob-content-type", "application/octet-stream"},
      {"x-ms-version", "2023-11-03"},
      {"x-ms-date", DATE},
      {"Content-Length", "119"}};

  (void)state;
  check("PUT", DEV_ENDPOINT "/wire/blocks.bin?comp=blocklist", h, 4,
        "PUT\n\n\n119\n\n\n\n\n\n\n\n\n"
        "x-ms-blob-content-type:application/octet-stream\n"
        "x-ms-date:" DATE "\nx-ms-version:2023-11-03\n"
        "/devstoreaccount1/devstoreaccount1/wire/blocks.bin\n"
        "comp:blocklist",
        "SharedKey devstoreaccount1:"
        "mp7T4nFroJmzHwueMtbCPv9IYd7Nn7yb7Tdb6cicMNQ=");
}

static void test_get_range(void **state)
{
  /* Mixed case and out of order: the signer lowercases and sorts. */
  const cairn__azure_header h[] = {{"X-MS-Version", "2023-11-03"},
                                   {"x-ms-range", "bytes=6-15"},
                                   {"X-Ms-Date", DATE}};

  (void)state;
  check("GET", DEV_ENDPOINT "/wire/blocks.bin", h, 3,
        "GET\n\n\n\n\n\n\n\n\n\n\n\n"
        "x-ms-date:" DATE "\nx-ms-range:bytes=6-15\n"
        "x-ms-version:2023-11-03\n"
        "/devstoreaccount1/devstoreaccount1/wire/blocks.bin",
        "SharedKey devstoreaccount1:"
        "fX8gTIVHtX8By9Vl3BSXTwMEzyRKWsfBoqTotw2Vdh0=");
}

/* The standard header slots in order (azurite.md section 4). */
static void test_standard_headers(void **state)
{
  const cairn__azure_header h[] = {
      {"x-ms-version", "2023-11-03"},
      {"Content-Type", "text/plain"},
      {"content-md5", "yKyhZNjzrsX8J8H2pNRSdQ=="},
      {"Date", "Wed, 02 Dec 2026 00:00:00 GMT"},
      {"x-ms-date", "Thu, 03 Dec 2026 19:01:52 GMT"},
      {"Content-Length", "14"},
      {"x-ms-blob-type", "BlockBlob"},
      {"If-None-Match", "*"},
      {"Range", "bytes=0-1"},
      {"If-Match", "\"0x1\""},
      {"Content-Encoding", "gzip"},
      {"Content-Language", "en"},
      {"If-Modified-Since", "A"},
      {"If-Unmodified-Since", "B"}};

  (void)state;
  check("PUT", DEV_ENDPOINT "/demo/hello.txt", h, 14,
        "PUT\ngzip\nen\n14\nyKyhZNjzrsX8J8H2pNRSdQ==\ntext/plain\n\n"
        "A\n\"0x1\"\n*\nB\nbytes=0-1\n"
        "x-ms-blob-type:BlockBlob\n"
        "x-ms-date:Thu, 03 Dec 2026 19:01:52 GMT\n"
        "x-ms-version:2023-11-03\n"
        "/devstoreaccount1/devstoreaccount1/demo/hello.txt",
        NULL);
}

/* Date counts when there is no x-ms-date; values are folded. */
static void test_date_and_folding(void **state)
{
  const cairn__azure_header h[] = {
      {"Date", "Thu, 03 Dec 2026 19:01:52 GMT"},
      {"x-ms-meta-Note", "  two   spaces\there "},
      {"x-ms-meta-RunId", "42"}};

  (void)state;
  check("HEAD", DEV_ENDPOINT "/c/b", h, 3,
        "HEAD\n\n\n\n\n\n"
        "Thu, 03 Dec 2026 19:01:52 GMT\n\n\n\n\n\n"
        "x-ms-meta-note:two spaces here\nx-ms-meta-runid:42\n"
        "/devstoreaccount1/devstoreaccount1/c/b",
        NULL);
}

/* Host style: the path has no account and stays encoded as sent (B16,
 * B33); query names lowercased, sorted, values decoded, repeats joined. */
static void test_host_style_resource(void **state)
{
  cairn_azure_account *a = NULL;
  char *got = NULL;

  (void)state;
  assert_int_equal(cairn_azure_account_from_key(&a, "myacct",
                                                CAIRN_AZURE_DEV_KEY, NULL),
                   0);
  assert_int_equal(cairn__azure_string_to_sign(
      &got, a, "GET",
      "https://myacct.blob.core.windows.net/c/t/a%20b%23%3F%25%2B.txt"
      "?Restype=container&comp=list&include=metadata&include=copy"
      "&prefix=x%2By",
      NULL, 0), 0);
  assert_string_equal(got,
                      "GET\n\n\n\n\n\n\n\n\n\n\n\n"
                      "/myacct/c/t/a%20b%23%3F%25%2B.txt\n"
                      "comp:list\ninclude:copy,metadata\nprefix:x+y\n"
                      "restype:container");
  free(got);

  assert_int_equal(cairn__azure_string_to_sign(
      &got, a, "GET", "https://myacct.blob.core.windows.net/?comp=list",
      NULL, 0), 0);
  assert_string_equal(got, "GET\n\n\n\n\n\n\n\n\n\n\n\n/myacct/\ncomp:list");
  free(got);
  cairn_azure_account_free(a);
}

static void test_no_key(void **state)
{
  cairn_azure_account *a = NULL;
  char *got = (char *)"x";

  (void)state;
  assert_int_equal(cairn_azure_account_from_sas(&a, NULL, "sv=1&sig=kPh%2BO8dhn%2B0YhbhROjTTTDvATQiEG5sGWWgHlpx8Y%2BI%3D",
                                                DEV_ENDPOINT), 0);
  assert_int_equal(cairn__azure_shared_key(&got, a, "GET",
                                           DEV_ENDPOINT "/c", NULL, 0),
                   CAIRN_EAUTH);
  assert_null(got);
  cairn_azure_account_free(a);
}

static void test_encode_path(void **state)
{
  static const char *const cases[][2] = {
      {"t/a b.txt", "t/a%20b.txt"},
      {"r#1.txt", "r%231.txt"},
      {"q?.txt", "q%3F.txt"},
      {"a%20b.txt", "a%2520b.txt"},
      {"100%.txt", "100%25.txt"},
      {"a+b.txt", "a%2Bb.txt"},
      {"a b+c%20.txt", "a%20b%2Bc%2520.txt"},
      {"t/x=1/y.txt", "t/x%3D1/y.txt"},
      {"t/k@v!(1);2,3*'.txt", "t/k%40v%21%281%29%3B2%2C3%2A%27.txt"},
      {"\xc3\xa9 ~-_.", "%C3%A9%20~-_."},
      {"", ""}};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *got = cairn__azure_encode_path(cases[i][0]);

    assert_non_null(got);
    assert_string_equal(got, cases[i][1]);
    free(got);
  }
}

static void test_encode_query(void **state)
{
  char *got = cairn__azure_encode_query("YmxrLTAwMDA=/a b+&");

  (void)state;
  assert_string_equal(got, "YmxrLTAwMDA%3D%2Fa%20b%2B%26");
  free(got);
}

static void test_sas_join(void **state)
{
  static const char *const cases[][3] = {
      {"http://h/a/c", "sv=1&sig=x%3D", "http://h/a/c?sv=1&sig=x%3D"},
      {"http://h/a/c", "?sv=1&sig=x%3D", "http://h/a/c?sv=1&sig=x%3D"},
      {"http://h/a/c?comp=list", "sv=1", "http://h/a/c?comp=list&sv=1"},
      {"http://h/a/c?comp=list", "?sv=1", "http://h/a/c?comp=list&sv=1"},
      {"http://h/a/c?", "?sv=1", "http://h/a/c?sv=1"},
      {"http://h/a/c?comp=list&", "?sv=1", "http://h/a/c?comp=list&sv=1"},
      {"http://h/a/c?x=1", "", "http://h/a/c?x=1"},
      {"http://h/a/c", "?", "http://h/a/c"}};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *got = cairn__azure_sas_join(cases[i][0], cases[i][1]);

    assert_non_null(got);
    assert_string_equal(got, cases[i][2]);
    assert_null(strstr(got, "??"));
    assert_null(strstr(got, "&&"));
    free(got);
  }
}

static void test_sas_normalise(void **state)
{
  /* raw, encoded, with '?', with blanks and empty parameters: one form */
  static const char *const cases[][2] = {
      {"sv=2023-11-03&st=2026-12-04T07:38:07Z&sr=c&sp=racwdl"
       "&sig=kPh+O8d/n+0Y=",
       "sv=2023-11-03&st=2026-12-04T07%3A38%3A07Z&sr=c&sp=racwdl"
       "&sig=kPh%2BO8d%2Fn%2B0Y%3D"},
      {"?sv=2023-11-03&st=2026-12-04T07%3A38%3A07Z&sr=c&sp=racwdl"
       "&sig=kPh%2BO8d%2Fn%2B0Y%3D",
       "sv=2023-11-03&st=2026-12-04T07%3A38%3A07Z&sr=c&sp=racwdl"
       "&sig=kPh%2BO8d%2Fn%2B0Y%3D"},
      {"  ?&sv=1&&spr=https,http&sig=a%2bb \n", "sv=1&spr=https%2Chttp"
       "&sig=a%2Bb"},
      {"?", ""},
      {"flag&x=", "flag&x="}};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *got = cairn__azure_sas_normalise(cases[i][0]);

    assert_non_null(got);
    assert_string_equal(got, cases[i][1]);
    free(got);
  }
}

static void test_url(void **state)
{
  cairn_azure_account *key = dev_account(), *sas = NULL;
  char *got;

  (void)state;
  got = cairn__azure_url(key, "wire", "dir/a b#.txt", "comp=block");
  assert_string_equal(got, DEV_ENDPOINT "/wire/dir/a%20b%23.txt?comp=block");
  free(got);
  got = cairn__azure_url(key, "wire", NULL, "restype=container");
  assert_string_equal(got, DEV_ENDPOINT "/wire?restype=container");
  free(got);
  got = cairn__azure_url(key, NULL, NULL, "comp=list");
  assert_string_equal(got, DEV_ENDPOINT "/?comp=list");
  free(got);

  assert_int_equal(cairn_azure_account_from_sas(&sas, NULL,
                                                "?sv=2023-11-03&sig=kPh%2BO8dhn%2B0YhbhROjTTTDvATQiEG5sGWWgHlpx8Y%2BI%3D",
                                                DEV_ENDPOINT "/"), 0);
  got = cairn__azure_url(sas, "wire", "x", NULL);
  assert_string_equal(got, DEV_ENDPOINT "/wire/x?sv=2023-11-03&sig=kPh%2BO8dhn%2B0YhbhROjTTTDvATQiEG5sGWWgHlpx8Y%2BI%3D");
  free(got);
  got = cairn__azure_url(sas, "wire", NULL, "restype=container&comp=list");
  assert_string_equal(got, DEV_ENDPOINT
                      "/wire?restype=container&comp=list"
                      "&sv=2023-11-03&sig=kPh%2BO8dhn%2B0YhbhROjTTTDvATQiEG5sGWWgHlpx8Y%2BI%3D");
  free(got);
  cairn_azure_account_free(key);
  cairn_azure_account_free(sas);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_container),
      cmocka_unit_test(test_put_block),
      cmocka_unit_test(test_put_block_list),
      cmocka_unit_test(test_get_range),
      cmocka_unit_test(test_standard_headers),
      cmocka_unit_test(test_date_and_folding),
      cmocka_unit_test(test_host_style_resource),
      cmocka_unit_test(test_no_key),
      cmocka_unit_test(test_encode_path),
      cmocka_unit_test(test_encode_query),
      cmocka_unit_test(test_sas_join),
      cmocka_unit_test(test_sas_normalise),
      cmocka_unit_test(test_url),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

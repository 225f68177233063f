/*
 * The service SAS signer and SAS leases, offline: known answers, the
 * refusals, and a lease that renews its SAS without ever holding the
 * key in the account it hands out.
 *
 * The expected tokens were made once, independently of cairn, with the
 * Azure SDK for JavaScript (@azure/storage-blob 12.32.0,
 * generateBlobSASQueryParameters with version 2023-11-03 and
 * StorageSharedKeyCredential of the Azurite account below).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairn/azure.h>

#include "azure/account.h"
#include "azure/auth.h"
#include "core/util.h"

#define DEV_KEY                                                            \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="

static cairn_azure_account *key_account(const char *endpoint)
{
  cairn_azure_account *a = NULL;

  assert_int_equal(cairn_azure_account_from_key(&a, "devstoreaccount1",
                                                DEV_KEY, endpoint), 0);
  return a;
}

static const char *message(void)
{
  return cairn_error_last()->message;
}

/* 2026-01-01T00:00:00Z and friends, as epoch seconds. */
static int64_t at(const char *iso)
{
  int64_t t;

  assert_int_equal(cairn_time_parse_iso8601(&t, iso), 0);
  return t;
}

static void test_container_known_answer(void **state)
{
  cairn_azure_account *a = key_account(NULL);
  cairn_azure_sas_options o;
  char *sas;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.container = "known-answer";
  o.permissions = "racwdl";
  o.protocol = "https";
  o.start = at("2026-01-01T00:00:00Z");
  o.expiry = at("2026-01-01T01:00:00Z");
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), 0);
  assert_string_equal(sas,
      "sv=2023-11-03&spr=https&st=2026-01-01T00%3A00%3A00Z"
      "&se=2026-01-01T01%3A00%3A00Z&sr=c&sp=racwdl"
      "&sig=XTcy4EGbO9iz0Vu2s7d13yw0tlQGtZafJFxoq97J94k%3D");
  free(sas);

  /* No start, no protocol; letters given in another order. */
  memset(&o, 0, sizeof(o));
  o.container = "known-answer";
  o.permissions = "lwr";
  o.expiry = at("2030-06-15T12:34:56Z");
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), 0);
  assert_string_equal(sas,
      "sv=2023-11-03&se=2030-06-15T12%3A34%3A56Z&sr=c&sp=rwl"
      "&sig=3pxFJmnB5ZGId9kDORx%2BQlWIZqYYBJZtBd0WX35f%2BMQ%3D");
  free(sas);
  cairn_azure_account_free(a);
}

static void test_blob_known_answer(void **state)
{
  cairn_azure_account *a = key_account(NULL);
  cairn_azure_sas_options o;
  char *sas;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.container = "known-answer";
  o.blob = "dir/a b+c.txt";
  o.permissions = "r";
  o.protocol = "https,http";
  o.start = at("2026-01-01T00:00:00Z");
  o.expiry = at("2026-01-02T00:00:00Z");
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), 0);
  assert_string_equal(sas,
      "sv=2023-11-03&spr=https%2Chttp&st=2026-01-01T00%3A00%3A00Z"
      "&se=2026-01-02T00%3A00%3A00Z&sr=b&sp=r"
      "&sig=VzV%2F%2Bg2xYE03AWKRg5zHDuCiczIK61RM7zADpdEn02M%3D");
  free(sas);
  cairn_azure_account_free(a);
}

static void test_refusals(void **state)
{
  cairn_azure_account *a = key_account(NULL), *sas_account = NULL;
  cairn_azure_sas_options o;
  char *sas = NULL;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.container = "known-answer";
  o.permissions = "rl";
  o.expiry = at("2030-01-01T00:00:00Z");

  o.permissions = "rq";
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "'q'"));
  o.permissions = "";
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), CAIRN_EINVAL);
  o.permissions = "rl";
  o.blob = "x.txt";
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "'l'"));
  o.blob = "ends-with-a-dot.";
  o.permissions = "r";
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), CAIRN_EINVAL);
  o.blob = NULL;
  o.permissions = "rl";
  o.container = "Not_Valid";
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), CAIRN_EINVAL);
  o.container = "known-answer";
  o.start = o.expiry;
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), CAIRN_EINVAL);
  o.start = 0;
  o.expiry = 0;
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), CAIRN_EINVAL);
  o.expiry = at("2030-01-01T00:00:00Z");
  o.protocol = "http";
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), CAIRN_EINVAL);
  o.protocol = NULL;
  assert_null(sas);

  /* A SAS account cannot sign another SAS. */
  assert_int_equal(cairn_azure_sas_sign(&sas, a, &o), 0);
  assert_int_equal(cairn_azure_account_from_sas(&sas_account,
                                                "devstoreaccount1", sas,
                                                NULL), 0);
  free(sas);
  sas = NULL;
  assert_int_equal(cairn_azure_sas_sign(&sas, sas_account, &o),
                   CAIRN_EAUTH);
  assert_null(sas);
  assert_null(strstr(message(), DEV_KEY));
  cairn_azure_account_free(sas_account);
  cairn_azure_account_free(a);
}

/* The value of query parameter @p name in @p url (new string). */
static char *param(const char *url, const char *name)
{
  size_t n = strlen(name);
  const char *p = strchr(url, '?');

  while (p) {
    p++;
    if (strncmp(p, name, n) == 0 && p[n] == '=')
      return strndup(p + n + 1, strcspn(p + n + 1, "&"));
    p = strchr(p, '&');
  }
  return NULL;
}

static void test_lease(void **state)
{
  cairn_azure_account *a = key_account("https://127.0.0.1:1/"
                                       "devstoreaccount1");
  cairn_azure_sas_lease *lease = NULL;
  cairn_azure_account *handed;
  int64_t now = cairn_time_now(), first_expiry;
  char *url, *first_sig, *sig = NULL, *se;
  int i;

  (void)state;
  assert_int_equal(cairn_azure_sas_lease_new(&lease, a, "leased", "rwl", 0),
                   CAIRN_EINVAL);
  assert_int_equal(cairn_azure_sas_lease_new(&lease, a, "No", "rwl", 60),
                   CAIRN_EINVAL);
  assert_int_equal(cairn_azure_sas_lease_new(&lease, a, "leased", "rwl", 2),
                   0);
  handed = cairn_azure_sas_lease_account(lease);

  /* The account handed out has a SAS and no key; the key's owner is. */
  assert_int_equal(cairn_azure_account_auth(handed), CAIRN_AZURE_AUTH_SAS);
  assert_null(handed->key);
  assert_string_equal(cairn_azure_account_name(handed), "devstoreaccount1");
  assert_string_equal(cairn_azure_account_endpoint(handed),
                      "https://127.0.0.1:1/devstoreaccount1");
  assert_non_null(strstr(cairn_azure_account_source(handed),
                         "as a SAS for container 'leased'"));
  first_expiry = cairn_azure_sas_lease_expiry(lease);
  assert_true(first_expiry >= now + 2 && first_expiry <= now + 4);

  url = cairn__azure_url(handed, "leased", "a.txt", NULL);
  assert_non_null(url);
  assert_null(strstr(url, DEV_KEY));
  first_sig = param(url, "sig");
  se = param(url, "sr");
  assert_string_equal(se, "c");
  free(se);
  se = param(url, "spr");
  assert_string_equal(se, "https");
  free(se);
  se = param(url, "sp");
  assert_string_equal(se, "rwl");
  free(se);
  free(url);
  assert_non_null(first_sig);

  /* Half its life later (1 s), another SAS with a later expiry. */
  for (i = 0; i < 40; i++) {
    usleep(100 * 1000);
    url = cairn__azure_url(handed, "leased", "a.txt", NULL);
    sig = param(url, "sig");
    free(url);
    if (strcmp(sig, first_sig) != 0)
      break;
    free(sig);
    sig = NULL;
  }
  assert_non_null(sig);
  assert_true(cairn_azure_sas_lease_expiry(lease) > first_expiry);
  free(sig);
  free(first_sig);
  cairn_azure_sas_lease_free(lease);
  cairn_azure_sas_lease_free(NULL);

  /* Only a key can back a lease. */
  cairn_azure_account_free(a);
  assert_int_equal(cairn_azure_account_from_token(&a, "devstoreaccount1",
                                                  "tok", 0, NULL), 0);
  assert_int_equal(cairn_azure_sas_lease_new(&lease, a, "leased", "rwl", 60),
                   CAIRN_EAUTH);
  assert_null(lease);
  cairn_azure_account_free(a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_container_known_answer),
    cmocka_unit_test(test_blob_known_answer),
    cmocka_unit_test(test_refusals),
    cmocka_unit_test(test_lease),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

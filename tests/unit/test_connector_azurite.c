/*
 * SAS that cairn signs, against a real Azurite
 * (CAIRN_TEST_AZURITE_ENDPOINT): a container SAS reaches its container
 * and nothing else, a blob SAS its blob for what it grants, and a lease
 * keeps working past the life of its first SAS while a SAS that is not
 * renewed stops.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairn/azure.h>
#include <cairn/common.h>

#include "core/util.h"

#define DEV_KEY                                                            \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="

static cairn_azure_account *key_account;
static cairn_azure_client *key_client;
static char container[32], other[32];

static int setup(void **state)
{
  const char *endpoint = getenv("CAIRN_TEST_AZURITE_ENDPOINT");

  (void)state;
  if (!endpoint || cairn_global_init() < 0 ||
      cairn_azure_account_from_key(&key_account, "devstoreaccount1", DEV_KEY,
                                   endpoint) < 0 ||
      cairn_azure_client_new(&key_client, key_account, NULL) < 0)
    return -1;
  snprintf(container, sizeof(container), "sas%d", (int)getpid());
  snprintf(other, sizeof(other), "sas%d-other", (int)getpid());
  if (cairn_azure_container_create(key_client, container) < 0 ||
      cairn_azure_container_create(key_client, other) < 0 ||
      cairn_azure_blob_put(key_client, other, "kept.txt", "x", 1, 0) < 0)
    return -1;
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  cairn_azure_container_delete(key_client, container);
  cairn_azure_container_delete(key_client, other);
  cairn_azure_client_free(key_client);
  cairn_azure_account_free(key_account);
  cairn_global_cleanup();
  return 0;
}

/* An account and client reaching Azurite with @p sas. */
static void sas_client(const char *sas, cairn_azure_account **a,
                       cairn_azure_client **c)
{
  assert_int_equal(cairn_azure_account_from_sas(
                       a, "devstoreaccount1", sas,
                       cairn_azure_account_endpoint(key_account)), 0);
  assert_int_equal(cairn_azure_client_new(c, *a, NULL), 0);
}

static void test_container_sas(void **state)
{
  cairn_azure_sas_options o;
  cairn_azure_account *a;
  cairn_azure_client *c;
  int64_t now = cairn_time_now();
  char *sas, *data;
  size_t len;
  int found;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.container = container;
  o.permissions = "racwdl";
  o.start = now - CAIRN_AZURE_SAS_BACKDATE;
  o.expiry = now + 600;
  assert_int_equal(cairn_azure_sas_sign(&sas, key_account, &o), 0);
  sas_client(sas, &a, &c);
  free(sas);

  assert_int_equal(cairn_azure_blob_put(c, container, "dir/a.txt", "hello",
                                        5, 0), 0);
  assert_int_equal(cairn_azure_blob_get(c, container, "dir/a.txt", &data,
                                        &len), 0);
  assert_int_equal(len, 5);
  assert_memory_equal(data, "hello", 5);
  free(data);
  assert_int_equal(cairn_azure_list_any(c, container, "dir/", &found), 0);
  assert_true(found);
  assert_int_equal(cairn_azure_container_exists(c, container), 0);

  /* Nothing outside its container: not another one, not the account. */
  assert_true(cairn_azure_blob_get(c, other, "kept.txt", &data, &len) < 0);
  assert_true(cairn_azure_blob_put(c, other, "new.txt", "x", 1, 0) < 0);
  assert_true(cairn_azure_container_create(c, "sas-made-this") < 0);
  assert_int_equal(cairn_azure_blob_delete(c, container, "dir/a.txt"), 0);
  cairn_azure_client_free(c);
  cairn_azure_account_free(a);
}

static void test_blob_sas(void **state)
{
  cairn_azure_sas_options o;
  cairn_azure_account *a;
  cairn_azure_client *c;
  int64_t now = cairn_time_now();
  char *sas, *data;
  size_t len;

  (void)state;
  assert_int_equal(cairn_azure_blob_put(key_client, container, "one b.txt",
                                        "one", 3, 0), 0);
  assert_int_equal(cairn_azure_blob_put(key_client, container, "two.txt",
                                        "two", 3, 0), 0);
  memset(&o, 0, sizeof(o));
  o.container = container;
  o.blob = "one b.txt";
  o.permissions = "r";
  o.start = now - CAIRN_AZURE_SAS_BACKDATE;
  o.expiry = now + 600;
  assert_int_equal(cairn_azure_sas_sign(&sas, key_account, &o), 0);
  assert_non_null(strstr(sas, "sr=b"));
  sas_client(sas, &a, &c);
  free(sas);

  assert_int_equal(cairn_azure_blob_get(c, container, "one b.txt", &data,
                                        &len), 0);
  assert_memory_equal(data, "one", 3);
  free(data);
  /* Read only, and that blob only. */
  assert_true(cairn_azure_blob_put(c, container, "one b.txt", "1", 1, 0) <
              0);
  assert_true(cairn_azure_blob_get(c, container, "two.txt", &data, &len) <
              0);
  cairn_azure_client_free(c);
  cairn_azure_account_free(a);
}

static void test_lease_outlives_its_first_sas(void **state)
{
  cairn_azure_sas_lease *lease;
  cairn_azure_sas_options o;
  cairn_azure_account *fixed;
  cairn_azure_client *leased, *c;
  int64_t now = cairn_time_now();
  char *sas;

  (void)state;
  /* Both valid for 3 s; only the lease renews (every 1.5 s). */
  assert_int_equal(cairn_azure_sas_lease_new(&lease, key_account, container,
                                             "racwdl", 3), 0);
  memset(&o, 0, sizeof(o));
  o.container = container;
  o.permissions = "racwdl";
  o.start = now - CAIRN_AZURE_SAS_BACKDATE;
  o.expiry = now + 3;
  assert_int_equal(cairn_azure_sas_sign(&sas, key_account, &o), 0);
  sas_client(sas, &fixed, &c);
  free(sas);
  assert_int_equal(cairn_azure_client_new(&leased,
                                          cairn_azure_sas_lease_account(lease),
                                          NULL), 0);
  assert_int_equal(cairn_azure_blob_put(leased, container, "l1", "a", 1, 0),
                   0);
  assert_int_equal(cairn_azure_blob_put(c, container, "f1", "a", 1, 0), 0);

  sleep(5);
  assert_true(cairn_azure_sas_lease_expiry(lease) > now + 3);
  assert_int_equal(cairn_azure_blob_put(leased, container, "l2", "b", 1, 0),
                   0);
  assert_int_equal(cairn_azure_blob_put(c, container, "f2", "b", 1, 0),
                   CAIRN_EAUTH);
  assert_non_null(strstr(cairn_error_last()->message, "SAS"));

  cairn_azure_client_free(leased);
  cairn_azure_sas_lease_free(lease);
  cairn_azure_client_free(c);
  cairn_azure_account_free(fixed);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_container_sas),
    cmocka_unit_test(test_blob_sas),
    cmocka_unit_test(test_lease_outlives_its_first_sas),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}

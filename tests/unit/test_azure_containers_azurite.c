/*
 * List Containers against a real Azurite (CAIRN_TEST_AZURITE_ENDPOINT):
 * prefixes, every page, and a callback that stops early.
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

#define DEV_KEY                                                            \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="

static cairn_azure_account *account;
static cairn_azure_client *client;
static char prefix[32];

struct seen {
  int count;
  int stop_after;
  char last[64];
};

static int collect(const char *name, void *payload)
{
  struct seen *s = payload;

  snprintf(s->last, sizeof(s->last), "%s", name);
  s->count++;
  return s->stop_after && s->count == s->stop_after ? 7 : 0;
}

static int setup(void **state)
{
  const char *endpoint = getenv("CAIRN_TEST_AZURITE_ENDPOINT");
  char name[64];
  int i;

  (void)state;
  if (!endpoint || cairn_global_init() < 0 ||
      cairn_azure_account_from_key(&account, "devstoreaccount1", DEV_KEY,
                                   endpoint) < 0 ||
      cairn_azure_client_new(&client, account, NULL) < 0)
    return -1;
  snprintf(prefix, sizeof(prefix), "lc%d-", (int)getpid());
  for (i = 0; i < 3; i++) {
    snprintf(name, sizeof(name), "%s%d", prefix, i);
    if (cairn_azure_container_create(client, name) < 0)
      return -1;
  }
  return 0;
}

static int teardown(void **state)
{
  char name[64];
  int i;

  (void)state;
  for (i = 0; i < 3; i++) {
    snprintf(name, sizeof(name), "%s%d", prefix, i);
    cairn_azure_container_delete(client, name);
  }
  cairn_azure_client_free(client);
  cairn_azure_account_free(account);
  cairn_global_cleanup();
  return 0;
}

static void test_list(void **state)
{
  struct seen all = {0, 0, ""}, some = {0, 0, ""}, stopped = {0, 2, ""};
  char want[64];

  (void)state;
  assert_int_equal(cairn_azure_list_containers(client, prefix, collect,
                                               &some), 0);
  assert_int_equal(some.count, 3);
  snprintf(want, sizeof(want), "%s2", prefix);
  assert_string_equal(some.last, want);
  assert_int_equal(cairn_azure_list_containers(client, NULL, collect, &all),
                   0);
  assert_true(all.count >= 3);
  assert_int_equal(cairn_azure_list_containers(client, prefix, collect,
                                               &stopped), 7);
  assert_int_equal(stopped.count, 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_list),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}

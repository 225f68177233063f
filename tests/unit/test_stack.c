/*
 * Flavors: validation and normalisation; opening the default local
 * store and stack.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stack/stack.h"

static const char *message(void)
{
  return cairn_error_last()->message;
}

static void test_registry(void **state)
{
  const cairn_flavor *f;
  size_t i, n = cairn_flavor_count();

  (void)state;
  assert_int_equal(n, 3);
  for (i = 0; i < n; i++)
    assert_non_null(cairn_flavor_at(i)->fields);
  assert_null(cairn_flavor_at(n));
  f = cairn_flavor_find("artifact_store", "azure");
  assert_non_null(f);
  assert_string_equal(f->fields[0], "path");
  assert_null(cairn_flavor_find("artifact_store", "s3"));
  assert_null(cairn_flavor_find("orchestrator", "azure"));
}

static void test_unknown(void **state)
{
  json_t *c = json_object();

  (void)state;
  assert_int_equal(cairn_flavor_validate("artifact_store", "s3", c),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), "'s3'"));
  assert_non_null(strstr(message(), "local, azure"));

  json_object_set_new(c, "pth", json_string("/x"));
  assert_int_equal(cairn_flavor_validate("artifact_store", "local", c),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), "unknown field 'pth'"));
  assert_non_null(strstr(message(), "valid fields are path"));
  json_decref(c);
}

static void test_azure_path(void **state)
{
  json_t *c = json_pack("{s:s}", "path",
                        "https://acct.blob.core.windows.net/c");

  (void)state;
  assert_int_equal(cairn_flavor_validate("artifact_store", "azure", c),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), "az://"));
  assert_non_null(strstr(message(), "abfss://"));
  json_decref(c);

  /* Required. */
  c = json_object();
  assert_int_equal(cairn_flavor_validate("artifact_store", "azure", c),
                   CAIRN_EINVAL);
  json_decref(c);

  /* Quotes stripped, numbers normalised. */
  c = json_pack("{s:s, s:s, s:i}", "path", "'az://my-data/sub'",
                "max_concurrency", "8", "block_size", 1048576);
  assert_int_equal(cairn_flavor_validate("artifact_store", "azure", c), 0);
  assert_string_equal(json_string_value(json_object_get(c, "path")),
                      "az://my-data/sub");
  assert_int_equal(json_integer_value(json_object_get(c,
                   "max_concurrency")), 8);
  json_object_set_new(c, "max_concurrency", json_string("lots"));
  assert_int_equal(cairn_flavor_validate("artifact_store", "azure", c),
                   CAIRN_EINVAL);
  json_object_set_new(c, "max_concurrency", json_integer(0));
  assert_int_equal(cairn_flavor_validate("artifact_store", "azure", c),
                   CAIRN_EINVAL);
  json_decref(c);
}

static void test_local_path(void **state)
{
  char cwd[1024], want[1100];
  json_t *c = json_pack("{s:s}", "path", "\"`rel/dir`\"");

  (void)state;
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(cairn_flavor_validate("artifact_store", "local", c), 0);
  snprintf(want, sizeof(want), "%s/rel/dir", cwd);
  assert_string_equal(json_string_value(json_object_get(c, "path")), want);
  json_decref(c);

  c = json_pack("{s:s}", "path", "az://data");
  assert_int_equal(cairn_flavor_validate("artifact_store", "local", c),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), "-f azure"));
  json_decref(c);
  c = json_pack("{s:s}", "path", "s3://bucket");
  assert_int_equal(cairn_flavor_validate("artifact_store", "local", c),
                   CAIRN_EINVAL);
  json_decref(c);

  c = json_pack("{s:s}", "parallelism", "4");
  assert_int_equal(cairn_flavor_validate("orchestrator", "local", c), 0);
  assert_int_equal(json_integer_value(json_object_get(c, "parallelism")),
                   4);
  json_decref(c);
}

static void test_default_stack(void **state)
{
  char base[] = "/tmp/cairn-test-stack-XXXXXX", cmd[96], want[128];
  cairn_live_stack *live;
  cairn_store *store;
  struct stat st;

  (void)state;
  assert_non_null(mkdtemp(base));
  assert_int_equal(cairn_store_open(&store, base), 0);
  assert_int_equal(cairn_live_stack_open(&live, store, NULL), 0);
  assert_string_equal(live->stack.name, "default");
  assert_string_equal(live->orchestrator.name, "default");
  assert_true(live->parallelism >= 1);
  assert_non_null(live->store->fs);
  assert_null(live->store->account);
  assert_string_equal(live->store->credential_source, "local disk");
  snprintf(want, sizeof(want), "%s/local_stores/%s", base,
           live->store->component.id);
  assert_string_equal(live->store->root, want);
  assert_string_equal(cairn_fs_flavor(live->store->fs), "local");
  assert_int_equal(stat(want, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  cairn_live_stack_free(live);

  assert_int_equal(cairn_live_stack_open(&live, store, "nope"),
                   CAIRN_ENOTFOUND);
  assert_null(live);
  cairn_store_free(store);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
}

#define DEV_KEY                                                          \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZ"   \
  "FPTOtr/KBHBeksoGMGw=="

/* An account in the URI must agree with the environment's credentials. */
static void test_azure_account_mismatch(void **state)
{
  cairn_component c;
  cairn_azure_account *a;

  (void)state;
  memset(&c, 0, sizeof(c));
  c.id = "x";
  c.name = "blob";
  c.type = "artifact_store";
  c.flavor = "azure";
  c.config = json_pack("{s:s}", "path",
                       "az://data@other.blob.core.windows.net/p");
  setenv("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1", 1);
  /* The well-known public key of the Azurite emulator. */
  setenv("AZURE_STORAGE_ACCOUNT_KEY", DEV_KEY, 1);
  unsetenv("AZURE_STORAGE_CONNECTION_STRING");
  unsetenv("AZURE_STORAGE_SAS_TOKEN");
  unsetenv("AZURE_STORAGE_BLOB_ENDPOINT");
  assert_int_equal(cairn_stack_resolve_azure_account(&a, &c), CAIRN_EAUTH);
  assert_non_null(strstr(message(), "'other'"));
  assert_null(strstr(message(), "Eby8"));
  json_decref(c.config);
  c.config = NULL;

  c.config = json_pack("{s:s}", "path", "az://data/p");
  assert_int_equal(cairn_stack_resolve_azure_account(&a, &c), 0);
  assert_string_equal(cairn_azure_account_name(a), "devstoreaccount1");
  cairn_azure_account_free(a);
  json_decref(c.config);
  unsetenv("AZURE_STORAGE_ACCOUNT_NAME");
  unsetenv("AZURE_STORAGE_ACCOUNT_KEY");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_registry),
    cmocka_unit_test(test_unknown),
    cmocka_unit_test(test_azure_path),
    cmocka_unit_test(test_local_path),
    cmocka_unit_test(test_default_stack),
    cmocka_unit_test(test_azure_account_mismatch),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

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
  assert_int_equal(cairn_stack_resolve_azure_account(&a, NULL, NULL, &c), CAIRN_EAUTH);
  assert_non_null(strstr(message(), "'other'"));
  assert_null(strstr(message(), "Eby8"));
  json_decref(c.config);
  c.config = NULL;

  c.config = json_pack("{s:s}", "path", "az://data/p");
  assert_int_equal(cairn_stack_resolve_azure_account(&a, NULL, NULL, &c), 0);
  assert_string_equal(cairn_azure_account_name(a), "devstoreaccount1");
  cairn_azure_account_free(a);
  json_decref(c.config);
  unsetenv("AZURE_STORAGE_ACCOUNT_NAME");
  unsetenv("AZURE_STORAGE_ACCOUNT_KEY");
}

/* Resolve the store at @p path; its endpoint, or NULL when refused. */
static char *endpoint_for(const char *path)
{
  cairn_component c;
  cairn_azure_account *a = NULL;
  char *endpoint = NULL;

  memset(&c, 0, sizeof(c));
  c.id = "x";
  c.name = "blob";
  c.type = "artifact_store";
  c.flavor = "azure";
  c.config = json_pack("{s:s}", "path", path);
  if (cairn_stack_resolve_azure_account(&a, NULL, NULL, &c) == 0)
    endpoint = strdup(cairn_azure_account_endpoint(a));
  else
    print_message("%s: %s\n", path, message());
  cairn_azure_account_free(a);
  json_decref(c.config);
  return endpoint;
}

/* A suffix in the URI chooses the cloud when the credentials do not. */
static void test_azure_endpoint_from_uri(void **state)
{
  char *e;

  (void)state;
  unsetenv("AZURE_STORAGE_CONNECTION_STRING");
  unsetenv("AZURE_STORAGE_SAS_TOKEN");
  unsetenv("AZURE_STORAGE_BLOB_ENDPOINT");
  setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct", 1);
  setenv("AZURE_STORAGE_ACCOUNT_KEY", DEV_KEY, 1);
  e = endpoint_for("abfs://ctr@acct.dfs.core.chinacloudapi.cn/p/f");
  assert_string_equal(e, "https://acct.blob.core.chinacloudapi.cn");
  free(e);
  e = endpoint_for("az://ctr@acct.blob.core.usgovcloudapi.net");
  assert_string_equal(e, "https://acct.blob.core.usgovcloudapi.net");
  free(e);
  e = endpoint_for("az://ctr/p");
  assert_string_equal(e, "https://acct.blob.core.windows.net");
  free(e);

  /* an explicit endpoint elsewhere disagrees with the URI's */
  setenv("AZURE_STORAGE_BLOB_ENDPOINT", "http://127.0.0.1:10000/acct", 1);
  assert_null(endpoint_for("az://ctr@acct.blob.core.chinacloudapi.cn"));
  assert_non_null(strstr(message(), "make them agree"));
  e = endpoint_for("az://ctr/p");
  assert_string_equal(e, "http://127.0.0.1:10000/acct");
  free(e);
  unsetenv("AZURE_STORAGE_BLOB_ENDPOINT");

  /* with no account in the environment, the URI's takes tokens */
  unsetenv("AZURE_STORAGE_ACCOUNT_NAME");
  unsetenv("AZURE_STORAGE_ACCOUNT_KEY");
  setenv("AZURE_CLIENT_ID", "app", 1);
  setenv("AZURE_CLIENT_SECRET", "secret", 1);
  setenv("AZURE_TENANT_ID", "tenant", 1);
  e = endpoint_for("abfss://ctr@other.dfs.core.windows.net/p");
  assert_string_equal(e, "https://other.blob.core.windows.net");
  free(e);
  unsetenv("AZURE_CLIENT_ID");
  unsetenv("AZURE_CLIENT_SECRET");
  unsetenv("AZURE_TENANT_ID");
}

/* The Azure secret schema: the order that decides, and what is refused. */
static void test_secret_schema(void **state)
{
  static const struct {
    const char *json;
    int method; /* -1: refused */
    const char *says;
  } cases[] = {
    {"{\"connection_string\": \"UseDevelopmentStorage=true\"}",
     CAIRN_AZURE_METHOD_CONNECTION_STRING, NULL},
    /* The connection string wins over a key given with it. */
    {"{\"connection_string\": \"x\", \"account_name\": \"a\", "
     "\"account_key\": \"k\"}", CAIRN_AZURE_METHOD_CONNECTION_STRING,
     NULL},
    {"{\"account_name\": \"a\", \"account_key\": \"k\", "
     "\"sas_token\": \"sv=1\"}", CAIRN_AZURE_METHOD_KEY, NULL},
    {"{\"account_name\": \"a\", \"sas_token\": \"sv=1\", "
     "\"client_id\": \"c\", \"client_secret\": \"s\", "
     "\"tenant_id\": \"t\"}", CAIRN_AZURE_METHOD_SAS, NULL},
    {"{\"blob_endpoint\": \"https://a.blob.core.windows.net\", "
     "\"sas_token\": \"sv=1\"}", CAIRN_AZURE_METHOD_SAS, NULL},
    {"{\"account_name\": \"a\", \"client_id\": \"c\", "
     "\"client_secret\": \"s\", \"tenant_id\": \"t\"}",
     CAIRN_AZURE_METHOD_SERVICE_PRINCIPAL, NULL},
    {"{\"account_name\": \"a\"}", CAIRN_AZURE_METHOD_CHAIN, NULL},
    {"{\"account_name\": \"a\", \"password\": \"p\"}", -1,
     "'password'"},
    {"{\"account_key\": \"k\"}", -1, "account_key needs account_name"},
    {"{\"sas_token\": \"sv=1\"}", -1, "sas_token needs account_name"},
    {"{\"account_name\": \"a\", \"account_key\": \"k\", "
     "\"client_id\": \"c\"}", -1, "all of client_id, client_secret"},
    {"{\"client_id\": \"c\", \"client_secret\": \"s\", "
     "\"tenant_id\": \"t\"}", -1, "needs account_name"},
    {"{\"connection_string\": \"x\", \"blob_endpoint\": \"y\"}", -1,
     "BlobEndpoint"},
    {"{}", -1, "names no account"},
  };
  cairn_azure_method m;
  json_t *v;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    v = json_loads(cases[i].json, 0, NULL);
    assert_non_null(v);
    if (cases[i].method >= 0) {
      assert_int_equal(cairn_stack_azure_secret_method(v, "s", &m), 0);
      assert_int_equal(m, cases[i].method);
    } else {
      assert_int_equal(cairn_stack_azure_secret_method(v, "s", &m),
                       CAIRN_EINVAL);
      assert_non_null(strstr(message(), cases[i].says));
      /* Every refusal lists the combinations that work. */
      if (strstr(cases[i].says, "'") == NULL)
        assert_non_null(strstr(message(), "the valid combinations"));
    }
    json_decref(v);
  }
}

/* Accounts built from secret values, and a key refused for its base64. */
static void test_secret_accounts(void **state)
{
  cairn_azure_account *a;
  json_t *v;

  (void)state;
  v = json_pack("{s:s, s:s, s:s}", "account_name", "devstoreaccount1",
                "account_key", DEV_KEY, "blob_endpoint",
                "http://127.0.0.1:10000/devstoreaccount1");
  assert_int_equal(cairn_stack_azure_account_from_values(&a, v, "az"), 0);
  assert_int_equal(cairn_azure_account_auth(a), CAIRN_AZURE_AUTH_SHARED_KEY);
  assert_string_equal(cairn_azure_account_source(a),
                      "secret 'az': account key (shared key)");
  assert_string_equal(cairn_azure_account_endpoint(a),
                      "http://127.0.0.1:10000/devstoreaccount1");
  cairn_azure_account_free(a);
  json_decref(v);

  v = json_pack("{s:s, s:s}", "account_name", "acct", "account_key",
                "not-base64");
  assert_int_equal(cairn_stack_azure_account_from_values(&a, v, "az"),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), "not valid base64"));
  assert_null(strstr(message(), "not-base64"));
  json_decref(v);

  v = json_pack("{s:s, s:s}", "account_name", "acct", "sas_token",
                "?sv=2023-11-03&sp=rl&sig=kPh%2BO8dhn%2B0YhbhROjTTTDvATQiEG5sGWWgHlpx8Y%2BI%3D");
  assert_int_equal(cairn_stack_azure_account_from_values(&a, v, "sas"), 0);
  assert_int_equal(cairn_azure_account_auth(a), CAIRN_AZURE_AUTH_SAS);
  assert_string_equal(cairn_azure_account_source(a),
                      "secret 'sas': SAS token (SAS)");
  assert_string_equal(cairn_azure_account_endpoint(a),
                      "https://acct.blob.core.windows.net");
  cairn_azure_account_free(a);
  json_decref(v);
}

/* Registering a store checks the secret it names, through the store. */
static void test_component_check(void **state)
{
  char base[] = "/tmp/cairn-test-stack-XXXXXX", cmd[96], cfg[64];
  cairn_store *store;
  cairn_secret s;
  json_t *config, *v;

  (void)state;
  assert_non_null(mkdtemp(base));
  snprintf(cfg, sizeof(cfg), "%s/config", base);
  assert_int_equal(cairn_store_open(&store, base), 0);
  assert_int_equal(cairn_store_set_config_dir(store, cfg), 0);
  v = json_pack("{s:s, s:s}", "account_name", "acct", "account_key",
                DEV_KEY);
  assert_int_equal(cairn_store_secret_create(store, &s, "good", v), 0);
  json_decref(v);
  v = json_pack("{s:s}", "account_key", DEV_KEY);
  cairn_secret_dispose(&s);
  assert_int_equal(cairn_store_secret_create(store, &s, "bad", v), 0);
  json_decref(v);
  cairn_secret_dispose(&s);

  config = json_pack("{s:s, s:s}", "path", "az://data",
                     "authentication_secret", "good");
  assert_int_equal(cairn_stack_component_check(store, "artifact_store",
                                               "azure", config), 0);
  json_decref(config);
  config = json_pack("{s:s, s:s}", "path", "az://data",
                     "authentication_secret", "bad");
  assert_int_equal(cairn_stack_component_check(store, "artifact_store",
                                               "azure", config),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), "account_key needs account_name"));
  json_decref(config);
  config = json_pack("{s:s, s:s}", "path", "az://data",
                     "authentication_secret", "missing");
  assert_int_equal(cairn_stack_component_check(store, "artifact_store",
                                               "azure", config),
                   CAIRN_ENOTFOUND);
  assert_non_null(strstr(message(), "cairn secret create missing"));
  json_decref(config);
  /* The local flavor has no such field. */
  config = json_pack("{s:s}", "authentication_secret", "good");
  assert_int_equal(cairn_stack_component_check(store, "artifact_store",
                                               "local", config),
                   CAIRN_EINVAL);
  json_decref(config);
  cairn_store_free(store);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
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
    cmocka_unit_test(test_azure_endpoint_from_uri),
    cmocka_unit_test(test_secret_schema),
    cmocka_unit_test(test_secret_accounts),
    cmocka_unit_test(test_component_check),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

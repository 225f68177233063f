/*
 * Service connectors, offline: the method table, container ids, the
 * check of drafts, expiry, saving and loading with the secret fields in
 * a secret, and what a connected store gets (a container SAS, never the
 * key) -- everything that needs no service.
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

#include "azure/account.h"
#include "azure/auth.h"
#include "core/util.h"
#include "stack/connector.h"
#include "stack/stack.h"

#define DEV_KEY                                                            \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="
#define ENDPOINT "http://127.0.0.1:1/devstoreaccount1"
#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define CLIENT "11111111-2222-3333-4444-555555555555"
/* JWTs whose claims say exp 2100-01-01 and 2020-01-01. */
#define JWT_2100                                                           \
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."                                  \
  "eyJhdWQiOiJodHRwczovL3N0b3JhZ2UuYXp1cmUuY29tIiwiZXhwIjo0MTAyNDQ0ODAwfQ." \
  "c2ln"
#define JWT_2020                                                           \
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE1Nzc4MzY4MDB9.c2ln"

static const char *message(void)
{
  return cairn_error_last()->message;
}

/* A draft of @p method with the NULL-terminated field/value pairs. */
static cairn_connector_draft draft(const char *method, json_t *fields)
{
  cairn_connector_draft d;

  memset(&d, 0, sizeof(d));
  d.name = "conn";
  d.type = "azure";
  d.auth_method = method;
  d.fields = fields;
  return d;
}

static json_t *key_fields(void)
{
  return json_pack("{s:s, s:s, s:s}", "account_name", "devstoreaccount1",
                   "account_key", DEV_KEY, "blob_endpoint", ENDPOINT);
}

static void test_tables(void **state)
{
  const cairn_connector_method *m;
  size_t i;

  (void)state;
  for (i = 0; (m = cairn_connector_method_at(i)); i++) {
    const char *const *f;

    assert_ptr_equal(cairn_connector_method_find(m->name), m);
    /* Every secret field is a field of the method. */
    for (f = m->secret; *f; f++)
      assert_true(cairn_connector_field_known(m, *f));
    /* Every method takes a blob endpoint. */
    assert_true(cairn_connector_field_known(m, "blob_endpoint"));
    assert_false(cairn_connector_field_is_secret(m, "blob_endpoint"));
  }
  assert_int_equal(i, 6);
  assert_null(cairn_connector_method_find("password"));

  m = cairn_connector_method_find("account-key");
  assert_true(cairn_connector_field_is_secret(m, "account_key"));
  assert_false(cairn_connector_field_is_secret(m, "account_name"));
  assert_int_equal(m->kind, CAIRN_CONNECTOR_KEY);
  m = cairn_connector_method_find("service-principal");
  assert_true(cairn_connector_field_is_secret(m, "client_secret"));
  assert_true(cairn_connector_field_known(m, "storage_account"));
  assert_false(cairn_connector_field_known(m, "account_name"));
  m = cairn_connector_method_find("access-token");
  assert_true(m->expiring);
  assert_true(cairn_connector_field_is_secret(m, "token"));
  assert_true(cairn_connector_method_find("implicit")->implicit);

  assert_non_null(cairn_connector_resource_find("blob-container"));
  assert_true(cairn_connector_resource_find("blob-container")->multi);
  assert_false(cairn_connector_resource_find("azure-generic")->multi);
  assert_null(cairn_connector_resource_find("kubernetes-cluster"));
}

static void test_container_ids(void **state)
{
  static const char *const good[][2] = {
    {"az://data", "az://data"},
    {"abfs://data", "az://data"},
    {"abfss://data/some/path", "az://data"},
    {"az://data@acct.blob.core.windows.net/x", "az://data"},
    {"data", "az://data"},
    {"my-data-2", "az://my-data-2"}};
  static const char *const bad[] = {
    "", "Data", "da", "data_set", "a--b",
    "https://acct.blob.core.windows.net/c", "s3://bucket", "az://"};
  char *id;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    assert_int_equal(cairn_connector_container_id(&id, good[i][0]), 0);
    assert_string_equal(id, good[i][1]);
    free(id);
  }
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(cairn_connector_container_id(&id, bad[i]),
                     CAIRN_EINVAL);
    assert_null(id);
  }
  assert_int_equal(cairn_connector_container_id(&id, "https://a.blob.core."
                                                "windows.net/c"),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), "az://"));
}

static void test_draft_refusals(void **state)
{
  cairn_live_connector c;
  cairn_connector_draft d;
  json_t *f = key_fields();

  (void)state;
  d = draft("account-key", f);
  d.type = "aws";
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "azure"));

  d = draft("password", f);
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "service-principal"));
  assert_non_null(strstr(message(), "connection-string"));

  d = draft("account-key", f);
  d.resource_type = "kubernetes-cluster";
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  d.resource_type = NULL;
  d.resource_id = "az://data";
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "--resource-type"));
  d.resource_type = "blob-container";
  d.resource_id = "Bad_Name";
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  d.resource_type = "azure-generic";
  d.resource_id = "otheraccount";
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "devstoreaccount1"));

  /* Unknown and missing fields are named, with the valid ones. */
  json_object_set_new(f, "client_id", json_string(CLIENT));
  d = draft("account-key", f);
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "'client_id'"));
  assert_non_null(strstr(message(), "account_name and account_key"));
  json_object_del(f, "client_id");
  json_object_del(f, "account_key");
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "--account_key"));
  json_object_set_new(f, "account_key", json_string("  \n"));
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "empty"));
  json_object_set_new(f, "account_key", json_string("not base64!"));
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_null(strstr(message(), "not base64!"));
  json_object_set_new(f, "account_key", json_string(DEV_KEY));
  json_object_set_new(f, "account_name", json_string("Bad_Account"));
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  json_decref(f);

  /* A service principal: ids checked, an https endpoint for tokens. */
  f = json_pack("{s:s, s:s, s:s, s:s}", "tenant_id", TENANT, "client_id",
                "not-a-uuid", "client_secret", "s", "storage_account",
                "devstoreaccount1");
  d = draft("service-principal", f);
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "client_id"));
  json_object_set_new(f, "client_id", json_string(CLIENT));
  json_object_set_new(f, "tenant_id", json_string("not a tenant"));
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  json_object_set_new(f, "tenant_id", json_string("contoso.onmicrosoft.com"));
  json_object_set_new(f, "blob_endpoint", json_string(ENDPOINT));
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "https"));
  json_object_del(f, "storage_account");
  json_object_del(f, "blob_endpoint");
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "--storage_account"));
  json_object_set_new(f, "storage_account", json_string("devstoreaccount1"));
  d.expiration_seconds = 60;
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "--expiration-seconds"));
  d.expiration_seconds = 0;
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  assert_string_equal(c.rec.auth_method, "service-principal");
  cairn_live_connector_dispose(&c);
  json_decref(f);
}

static void test_implicit_switch(void **state)
{
  cairn_live_connector c;
  cairn_connector_draft d;
  json_t *f = json_pack("{s:s}", "storage_account", "devstoreaccount1");

  (void)state;
  d = draft("implicit", f);
  unsetenv(CAIRN_CONNECTOR_IMPLICIT_ENV);
  assert_false(cairn_connector_implicit_enabled());
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EPERM);
  assert_non_null(strstr(message(), CAIRN_CONNECTOR_IMPLICIT_ENV));
  setenv(CAIRN_CONNECTOR_IMPLICIT_ENV, "false", 1);
  assert_false(cairn_connector_implicit_enabled());
  setenv(CAIRN_CONNECTOR_IMPLICIT_ENV, "true", 1);
  assert_true(cairn_connector_implicit_enabled());
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  assert_int_equal(json_object_size(c.rec.config), 1);
  assert_null(c.rec.expires_at ? "expiry" : NULL);
  cairn_live_connector_dispose(&c);
  unsetenv(CAIRN_CONNECTOR_IMPLICIT_ENV);
  json_decref(f);
}

static void test_expiry(void **state)
{
  cairn_live_connector c;
  cairn_connector_draft d;
  cairn_azure_account *key = NULL;
  cairn_azure_sas_options o;
  int64_t now = cairn_time_now(), t;
  json_t *f;
  char *sas, *text, cs[512];

  (void)state;
  /* An access token: expires_at, else --expiration-seconds, else exp. */
  f = json_pack("{s:s, s:s, s:s}", "token", "opaque-token",
                "storage_account", "devstoreaccount1", "expires_at",
                "2099-03-04T05:06:07Z");
  d = draft("access-token", f);
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  assert_int_equal(cairn_time_parse_iso8601(&t, "2099-03-04T05:06:07Z"), 0);
  assert_int_equal(c.rec.expires_at, t);
  assert_null(json_object_get(c.values, "expires_at"));
  assert_false(cairn_connector_expired(&c.rec));
  assert_null(cairn_connector_expiry_text(&c.rec));
  cairn_live_connector_dispose(&c);

  json_object_set_new(f, "expires_at", json_string("next tuesday"));
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "ISO 8601"));
  json_object_del(f, "expires_at");
  assert_int_equal(cairn_connector_from_draft(&c, &d), CAIRN_EINVAL);
  assert_non_null(strstr(message(), "--expiration-seconds"));
  d.expiration_seconds = 600;
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  assert_in_range(c.rec.expires_at, now + 600, now + 602);
  cairn_live_connector_dispose(&c);
  d.expiration_seconds = 0;
  json_object_set_new(f, "token", json_string(JWT_2100));
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  assert_int_equal(c.rec.expires_at, 4102444800);
  cairn_live_connector_dispose(&c);

  /* Expired, and within the skew tolerance, each say so. */
  json_object_set_new(f, "token", json_string(JWT_2020));
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  assert_true(cairn_connector_expired(&c.rec));
  text = cairn_connector_expiry_text(&c.rec);
  assert_non_null(strstr(text, "expired at 2020-01-01T00:00:00Z"));
  free(text);
  c.rec.expires_at = cairn_time_now() + 60;
  assert_true(cairn_connector_expired(&c.rec));
  text = cairn_connector_expiry_text(&c.rec);
  assert_non_null(strstr(text, "clock skew"));
  free(text);
  c.rec.expires_at = cairn_time_now() + CAIRN_CONNECTOR_SKEW + 60;
  assert_false(cairn_connector_expired(&c.rec));
  cairn_live_connector_dispose(&c);
  json_decref(f);

  /* A SAS token expires with its se. */
  assert_int_equal(cairn_azure_account_from_key(&key, "devstoreaccount1",
                                                DEV_KEY, NULL), 0);
  memset(&o, 0, sizeof(o));
  o.container = "data";
  o.permissions = "rl";
  o.expiry = now + 7200;
  assert_int_equal(cairn_azure_sas_sign(&sas, key, &o), 0);
  f = json_pack("{s:s, s:s}", "account_name", "devstoreaccount1",
                "sas_token", sas);
  d = draft("sas-token", f);
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  assert_int_equal(c.rec.expires_at, now + 7200);
  assert_null(json_object_get(c.rec.config, "sas_token"));
  cairn_live_connector_dispose(&c);
  json_decref(f);
  snprintf(cs, sizeof(cs), "AccountName=devstoreaccount1;BlobEndpoint="
           ENDPOINT ";SharedAccessSignature=%s", sas);
  f = json_pack("{s:s}", "connection_string", cs);
  d = draft("connection-string", f);
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  assert_int_equal(c.rec.expires_at, now + 7200);
  cairn_live_connector_dispose(&c);
  json_decref(f);
  free(sas);

  /* A key's SAS lifetime is --expiration-seconds; the key never ends. */
  f = key_fields();
  d = draft("account-key", f);
  d.expiration_seconds = 900;
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  assert_int_equal(c.rec.expires_at, 0);
  assert_int_equal(c.rec.expiration_seconds, 900);
  cairn_live_connector_dispose(&c);
  json_decref(f);
  cairn_azure_account_free(key);
}

/* ------------------------------------------------------------------ */
/* With a metadata store                                               */
/* ------------------------------------------------------------------ */

struct fixture {
  char base[64];
  char home[96];
  cairn_store *store;
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));
  char config[128];

  if (!f)
    return -1;
  strcpy(f->base, "/tmp/cairn-test-connector-XXXXXX");
  if (!mkdtemp(f->base))
    return -1;
  snprintf(f->home, sizeof(f->home), "%s/home", f->base);
  snprintf(config, sizeof(config), "%s/config", f->base);
  unsetenv("CAIRN_SECRETS_KEY");
  if (cairn_store_open(&f->store, f->home) < 0 ||
      cairn_store_set_config_dir(f->store, config) < 0)
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  char cmd[128];

  cairn_store_free(f->store);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->base);
  if (system(cmd) != 0)
    return -1;
  free(f);
  return 0;
}

/* The records alone, as the metadata store keeps them. */
static void test_records(void **state)
{
  struct fixture *f = *state;
  cairn_connector in, a, b, got, *list;
  char prefix[9];
  size_t n;

  memset(&in, 0, sizeof(in));
  in.name = "zeta";
  in.type = "azure";
  in.auth_method = "implicit";
  in.config = json_pack("{s:s}", "storage_account", "acct");
  assert_int_equal(cairn_store_connector_create(f->store, &a, &in), 0);
  in.name = "alpha";
  in.resource_type = "blob-container";
  in.resource_id = "az://data";
  in.expires_at = 4102444800;
  assert_int_equal(cairn_store_connector_create(f->store, &b, &in), 0);
  assert_int_equal(cairn_store_connector_create(f->store, &got, &in),
                   CAIRN_EEXISTS);
  assert_non_null(strstr(message(), "'alpha'"));
  in.name = "a/b";
  assert_int_equal(cairn_store_connector_create(f->store, &got, &in),
                   CAIRN_EINVAL);

  assert_int_equal(cairn_store_connector_list(f->store, &list, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(list[0].name, "alpha");
  assert_string_equal(list[0].resource_id, "az://data");
  assert_int_equal(list[0].expires_at, 4102444800);
  assert_null(list[1].resource_type);
  assert_string_equal(json_string_value(json_object_get(list[1].config,
                                                        "storage_account")),
                      "acct");
  cairn_connector_list_free(list, n);

  /* By a prefix of its id; changed and read back. */
  snprintf(prefix, sizeof(prefix), "%.8s", a.id);
  assert_int_equal(cairn_store_connector_get(f->store, &got, prefix), 0);
  assert_string_equal(got.name, "zeta");
  free(got.description);
  got.description = strdup("changed");
  got.expires_at = 42;
  assert_int_equal(cairn_store_connector_update(f->store, &got), 0);
  cairn_connector_dispose(&got);
  assert_int_equal(cairn_store_connector_get(f->store, &got, "zeta"), 0);
  assert_string_equal(got.description, "changed");
  assert_int_equal(got.expires_at, 42);
  cairn_connector_dispose(&got);
  assert_int_equal(cairn_store_connector_get(f->store, &got, "nobody"),
                   CAIRN_ENOTFOUND);

  assert_int_equal(cairn_store_connector_delete(f->store, a.id), 0);
  assert_int_equal(cairn_store_connector_get(f->store, &got, "zeta"),
                   CAIRN_ENOTFOUND);
  cairn_connector_dispose(&a);
  cairn_connector_dispose(&b);
  json_decref(in.config);
}

/* Register a key connector named @p name, scoped to @p resource_id. */
static void save_key(struct fixture *f, const char *name,
                     const char *resource_id, cairn_live_connector *out)
{
  cairn_connector_draft d;
  json_t *fields = key_fields();

  d = draft("account-key", fields);
  d.name = name;
  if (resource_id) {
    d.resource_type = "blob-container";
    d.resource_id = resource_id;
  }
  assert_int_equal(cairn_connector_from_draft(out, &d), 0);
  assert_int_equal(cairn_connector_save(f->store, out), 0);
  json_decref(fields);
}

static void test_save_and_open(void **state)
{
  struct fixture *f = *state;
  cairn_live_connector c, back;
  cairn_connector_draft d;
  cairn_secret s;
  json_t *fields;
  char *id, *secret_id;

  save_key(f, "keyed", "abfs://data/sub", &c);
  assert_non_null(c.rec.id);
  assert_non_null(c.rec.secret_id);
  assert_string_equal(c.rec.resource_id, "az://data");
  /* The record holds no secret; the secret holds it, encrypted. */
  assert_null(json_object_get(c.rec.config, "account_key"));
  assert_string_equal(json_string_value(json_object_get(c.rec.config,
                                                        "account_name")),
                      "devstoreaccount1");
  assert_int_equal(cairn_store_secret_get(f->store, &s, c.rec.secret_id, 1),
                   0);
  assert_string_equal(json_string_value(json_object_get(s.values,
                                                        "account_key")),
                      DEV_KEY);
  assert_int_equal(json_object_size(s.values), 1);
  cairn_secret_dispose(&s);

  /* Loaded by name or id, with every value. */
  assert_int_equal(cairn_connector_open(&back, f->store, "keyed"), 0);
  assert_string_equal(back.rec.id, c.rec.id);
  assert_string_equal(json_string_value(json_object_get(back.values,
                                                        "account_key")),
                      DEV_KEY);
  assert_ptr_equal(back.method, cairn_connector_method_find("account-key"));
  cairn_live_connector_dispose(&back);

  /* A second one of the same name is refused, and nothing is left. */
  fields = key_fields();
  d = draft("account-key", fields);
  d.name = "keyed";
  assert_int_equal(cairn_connector_from_draft(&back, &d), 0);
  assert_int_equal(cairn_connector_save(f->store, &back), CAIRN_EEXISTS);
  assert_null(back.rec.id);
  assert_null(back.rec.secret_id);
  cairn_live_connector_dispose(&back);
  json_decref(fields);

  /* Another method without secret fields drops the secret. */
  setenv(CAIRN_CONNECTOR_IMPLICIT_ENV, "1", 1);
  fields = json_pack("{s:s}", "storage_account", "devstoreaccount1");
  d = draft("implicit", fields);
  d.name = "keyed";
  assert_int_equal(cairn_connector_from_draft(&back, &d), 0);
  id = strdup(c.rec.id);
  secret_id = strdup(c.rec.secret_id);
  back.rec.id = strdup(id);
  back.rec.secret_id = strdup(secret_id);
  assert_int_equal(cairn_connector_save(f->store, &back), 0);
  assert_null(back.rec.secret_id);
  assert_int_equal(cairn_store_secret_get(f->store, &s, secret_id, 0),
                   CAIRN_ENOTFOUND);
  cairn_live_connector_dispose(&back);
  assert_int_equal(cairn_connector_open(&back, f->store, id), 0);
  assert_string_equal(back.rec.auth_method, "implicit");
  cairn_live_connector_dispose(&back);
  unsetenv(CAIRN_CONNECTOR_IMPLICIT_ENV);
  json_decref(fields);
  free(id);
  free(secret_id);
  cairn_live_connector_dispose(&c);
}

static void test_in_use(void **state)
{
  struct fixture *f = *state;
  cairn_strlist users = CAIRN_STRLIST_INIT;
  cairn_live_connector c;
  cairn_component comp;
  cairn_secret s;
  json_t *config = json_pack("{s:s}", "path", "az://data/art");

  save_key(f, "used", NULL, &c);
  assert_int_equal(cairn_store_component_create(f->store, &comp,
                                                "artifact_store", "az-store",
                                                "azure", config), 0);
  assert_int_equal(cairn_store_component_set_connector(f->store, comp.id,
                                                       c.rec.id), 0);

  /* Neither the connector nor its secret can go while a store uses it. */
  assert_int_equal(cairn_store_connector_delete(f->store, c.rec.id),
                   CAIRN_EINUSE);
  assert_non_null(strstr(message(), "artifact store 'az-store'"));
  assert_int_equal(cairn_store_secret_delete(f->store, c.rec.secret_id),
                   CAIRN_EINUSE);
  assert_non_null(strstr(message(), "service connector 'used'"));
  assert_int_equal(cairn_store_connector_users(f->store, c.rec.id, &users),
                   0);
  assert_int_equal(users.count, 1);
  cairn_strlist_dispose(&users);

  /* Disconnected, it goes, and its secret with it. */
  assert_int_equal(cairn_store_component_set_connector(f->store, comp.id,
                                                       NULL), 0);
  assert_int_equal(cairn_store_connector_delete(f->store, c.rec.id), 0);
  assert_int_equal(cairn_store_secret_get(f->store, &s, c.rec.secret_id, 0),
                   CAIRN_ENOTFOUND);
  cairn_component_dispose(&comp);
  cairn_live_connector_dispose(&c);
  json_decref(config);
}

/* The query parameter @p name of the URL that @p a makes (new). */
static char *url_param(const cairn_azure_account *a, const char *name)
{
  char *url = cairn__azure_url(a, "data", "x.txt", NULL), *p, *v = NULL;
  size_t n = strlen(name);

  for (p = strchr(url, '?'); p; p = strchr(p, '&')) {
    p++;
    if (strncmp(p, name, n) == 0 && p[n] == '=') {
      v = strndup(p + n + 1, strcspn(p + n + 1, "&"));
      break;
    }
  }
  free(url);
  return v;
}

static void test_store_gets_sas(void **state)
{
  struct fixture *f = *state;
  cairn_azure_account *a = NULL;
  cairn_azure_sas_lease *lease = NULL;
  cairn_live_connector c;
  cairn_component comp;
  json_t *config = json_pack("{s:s}", "path", "az://data/art");
  char *container, *sr, *sp, *source;
  int64_t now = cairn_time_now();

  save_key(f, "handing", NULL, &c);
  assert_int_equal(cairn_store_component_create(f->store, &comp,
                                                "artifact_store", "handed",
                                                "azure", config), 0);
  assert_int_equal(cairn_connector_check_store(&c, &comp, &container), 0);
  assert_string_equal(container, "data");

  /* One-off: a container SAS, no key. */
  assert_int_equal(cairn_connector_store_account(&c, container, &a, NULL),
                   0);
  assert_int_equal(cairn_azure_account_auth(a), CAIRN_AZURE_AUTH_SAS);
  assert_null(a->key);
  sr = url_param(a, "sr");
  sp = url_param(a, "sp");
  assert_string_equal(sr, "c");
  assert_string_equal(sp, CAIRN_CONNECTOR_SAS_PERMISSIONS);
  free(sr);
  free(sp);
  assert_non_null(strstr(cairn_azure_account_source(a),
                          "service connector 'handing', account-key: a SAS "
                          "for container 'data' (SAS)"));
  cairn_azure_account_free(a);

  /* Renewed: the lease owns the account. */
  assert_int_equal(cairn_connector_store_account(&c, container, &a, &lease),
                   0);
  assert_non_null(lease);
  assert_ptr_equal(a, cairn_azure_sas_lease_account(lease));
  assert_null(a->key);
  assert_in_range(cairn_azure_sas_lease_expiry(lease),
                  now + CAIRN_CONNECTOR_SAS_SECONDS,
                  now + CAIRN_CONNECTOR_SAS_SECONDS + 2);
  cairn_azure_sas_lease_free(lease);

  /* Through the one place that resolves credentials: connector first. */
  assert_int_equal(cairn_store_component_set_connector(f->store, comp.id,
                                                       c.rec.id), 0);
  cairn_component_dispose(&comp);
  assert_int_equal(cairn_store_component_get(f->store, &comp,
                                             "artifact_store", "handed"), 0);
  json_object_set_new(comp.config, "authentication_secret",
                      json_string("no-such-secret"));
  assert_int_equal(cairn_stack_resolve_azure_account(&a, NULL, f->store,
                                                     &comp), 0);
  assert_int_equal(cairn_azure_account_auth(a), CAIRN_AZURE_AUTH_SAS);
  cairn_azure_account_free(a);
  source = cairn_stack_credential_source(f->store, &comp);
  assert_non_null(strstr(source, "service connector 'handing'"));
  assert_non_null(strstr(source, "(SAS)"));
  assert_null(strstr(source, DEV_KEY));
  free(source);

  /* A connector scoped to another container does not fit the store. */
  cairn_live_connector_dispose(&c);
  free(container);
  save_key(f, "other", "az://elsewhere", &c);
  assert_int_equal(cairn_connector_check_store(&c, &comp, &container),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), "az://elsewhere"));
  assert_null(container);
  cairn_live_connector_dispose(&c);
  cairn_component_dispose(&comp);
  json_decref(config);
}

static void test_expired_connector(void **state)
{
  struct fixture *f = *state;
  cairn_connector_result r;
  cairn_azure_account *a = NULL;
  cairn_live_connector c;
  cairn_connector_draft d;
  json_t *fields = json_pack("{s:s, s:s, s:s}", "token", JWT_2020,
                             "storage_account", "devstoreaccount1",
                             "blob_endpoint", "https://127.0.0.1:1/x");
  size_t i;

  (void)f;
  d = draft("access-token", fields);
  d.name = "old";
  assert_int_equal(cairn_connector_from_draft(&c, &d), 0);
  /* Every row says so, and no service is called (port 1 would fail). */
  assert_int_equal(cairn_connector_verify(&c, NULL, NULL, &r), CAIRN_EAUTH);
  assert_int_equal(r.count, 2);
  for (i = 0; i < r.count; i++) {
    assert_non_null(strstr(r.rows[i].error, "expired at"));
    assert_int_equal(r.rows[i].code, CAIRN_EAUTH);
  }
  cairn_connector_result_dispose(&r);
  assert_int_equal(cairn_connector_store_account(&c, "data", &a, NULL),
                   CAIRN_EAUTH);
  assert_null(a);
  assert_non_null(strstr(message(), "service connector 'old' expired"));

  /* A type the connector does not offer is refused before anything. */
  c.rec.resource_type = strdup("azure-generic");
  assert_int_equal(cairn_connector_verify(&c, "blob-container", NULL, &r),
                   CAIRN_EINVAL);
  assert_int_equal(r.count, 0);
  assert_int_equal(cairn_connector_verify(&c, NULL, "az://data", &r),
                   CAIRN_EINVAL);
  cairn_live_connector_dispose(&c);
  json_decref(fields);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tables),
    cmocka_unit_test(test_container_ids),
    cmocka_unit_test(test_draft_refusals),
    cmocka_unit_test(test_implicit_switch),
    cmocka_unit_test(test_expiry),
    cmocka_unit_test_setup_teardown(test_records, setup, teardown),
    cmocka_unit_test_setup_teardown(test_save_and_open, setup, teardown),
    cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
    cmocka_unit_test_setup_teardown(test_store_gets_sas, setup, teardown),
    cmocka_unit_test_setup_teardown(test_expired_connector, setup,
                                    teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

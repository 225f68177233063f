/*
 * Secrets at rest: encryption under a key kept apart from the database,
 * lost and wrong keys, rotation (also interrupted), tampering, and the
 * components that name a secret.
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

#include <sqlite3.h>

#include "core/buf.h"
#include "core/util.h"
#include "store/store.h"

#define VALUE "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"

struct fixture {
  char base[64];
  char home[96];
  char config[96];
  char key[128];
  cairn_store *store;
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));

  if (!f)
    return -1;
  strcpy(f->base, "/tmp/cairn-test-secrets-XXXXXX");
  if (!mkdtemp(f->base))
    return -1;
  snprintf(f->home, sizeof(f->home), "%s/home", f->base);
  snprintf(f->config, sizeof(f->config), "%s/config", f->base);
  snprintf(f->key, sizeof(f->key), "%s/secrets.key", f->config);
  unsetenv("CAIRN_SECRETS_KEY");
  if (cairn_store_open(&f->store, f->home) < 0 ||
      cairn_store_set_config_dir(f->store, f->config) < 0)
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  char cmd[128];

  cairn_store_free(f->store);
  unsetenv("CAIRN_SECRETS_KEY");
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->base);
  if (system(cmd) != 0)
    return -1;
  free(f);
  return 0;
}

static const char *message(void)
{
  return cairn_error_last()->message;
}

static void create(struct fixture *f, const char *name, const char *value)
{
  json_t *v = json_pack("{s:s, s:s}", "account_name", "acct",
                        "account_key", value);
  cairn_secret s;

  assert_int_equal(cairn_store_secret_create(f->store, &s, name, v), 0);
  assert_string_equal(s.name, name);
  assert_null(s.values);
  cairn_secret_dispose(&s);
  json_decref(v);
}

static void assert_value(struct fixture *f, const char *name,
                         const char *expected)
{
  cairn_secret s;

  assert_int_equal(cairn_store_secret_get(f->store, &s, name, 1), 0);
  assert_string_equal(json_string_value(json_object_get(s.values,
                                                        "account_key")),
                      expected);
  cairn_secret_dispose(&s);
}

/* A database file and its contents, to look for a value in clear. */
static int file_contains(const char *path, const char *needle)
{
  cairn_buf b = CAIRN_BUF_INIT;
  size_t n = strlen(needle), i;
  int found = 0;

  assert_int_equal(cairn_file_read(&b, path, 0), 0);
  for (i = 0; i + n <= b.size && !found; i++)
    found = memcmp(b.ptr + i, needle, n) == 0;
  cairn_buf_dispose(&b);
  return found;
}

static void test_round_trip_and_at_rest(void **state)
{
  struct fixture *f = *state;
  char db[128];
  struct stat st;
  cairn_secret *list;
  size_t n;

  create(f, "az", VALUE);
  assert_value(f, "az", VALUE);

  /* The key file was made 0600 in a 0700 folder. */
  assert_int_equal(stat(f->key, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(stat(f->config, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);

  /* The value is nowhere in the database file; key names are. */
  snprintf(db, sizeof(db), "%s/cairn.db", f->home);
  assert_int_equal(stat(db, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  cairn_store_free(f->store);
  f->store = NULL;
  assert_false(file_contains(db, "Eby8vdM02"));
  assert_true(file_contains(db, "account_key"));
  assert_int_equal(cairn_store_open(&f->store, f->home), 0);
  assert_int_equal(cairn_store_set_config_dir(f->store, f->config), 0);

  assert_int_equal(cairn_store_secret_list(f->store, &list, &n), 0);
  assert_int_equal(n, 1);
  assert_null(list[0].values);
  assert_int_equal(list[0].keys.count, 2);
  assert_string_equal(list[0].keys.items[0], "account_key");
  cairn_secret_list_free(list, n);
}

static void test_names_and_keys(void **state)
{
  struct fixture *f = *state;
  json_t *v = json_pack("{s:s}", "a", "b");
  cairn_secret s;

  assert_int_equal(cairn_store_secret_create(f->store, &s, "name", v),
                   CAIRN_EINVAL);
  assert_int_equal(cairn_store_secret_create(f->store, &s, "a/b", v),
                   CAIRN_EINVAL);
  json_decref(v);
  v = json_pack("{s:s}", "name", "b");
  assert_int_equal(cairn_store_secret_create(f->store, &s, "x", v),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), "'name'"));
  json_decref(v);
  v = json_pack("{s:s}", "1abc", "b");
  assert_int_equal(cairn_store_secret_create(f->store, &s, "x", v),
                   CAIRN_EINVAL);
  json_decref(v);
  v = json_pack("{s:i}", "a", 1);
  assert_int_equal(cairn_store_secret_create(f->store, &s, "x", v),
                   CAIRN_EINVAL);
  json_decref(v);
  v = json_object();
  assert_int_equal(cairn_store_secret_create(f->store, &s, "x", v),
                   CAIRN_EINVAL);
  json_decref(v);

  create(f, "dup", "1");
  v = json_pack("{s:s}", "a", "b");
  assert_int_equal(cairn_store_secret_create(f->store, &s, "dup", v),
                   CAIRN_EEXISTS);
  json_decref(v);
  assert_int_equal(cairn_store_secret_get(f->store, &s, "nope", 0),
                   CAIRN_ENOTFOUND);
}

static void test_update_rename_delete(void **state)
{
  struct fixture *f = *state;
  cairn_component c;
  cairn_strlist users = CAIRN_STRLIST_INIT;
  json_t *config, *v;
  cairn_secret s;

  create(f, "az", VALUE);
  assert_int_equal(cairn_store_secret_get(f->store, &s, "az", 0), 0);
  v = json_pack("{s:s, s:s}", "account_name", "acct", "account_key", "new");
  assert_int_equal(cairn_store_secret_update(f->store, s.id, v), 0);
  json_decref(v);
  assert_value(f, "az", "new");

  /* A store that names the secret keeps it from being deleted, and
   * follows it when it is renamed. */
  config = json_pack("{s:s, s:s}", "path", "az://c",
                     "authentication_secret", "az");
  assert_int_equal(cairn_store_component_create(f->store, &c,
                                                "artifact_store", "blob",
                                                "azure", config), 0);
  json_decref(config);
  assert_int_equal(cairn_store_secret_users(f->store, s.id, &users), 0);
  assert_int_equal(users.count, 1);
  assert_string_equal(users.items[0], "artifact store 'blob'");
  cairn_strlist_dispose(&users);
  assert_int_equal(cairn_store_secret_delete(f->store, s.id), CAIRN_EINUSE);
  assert_non_null(strstr(message(), "'blob'"));

  assert_int_equal(cairn_store_secret_rename(f->store, s.id, "az2"), 0);
  cairn_component_dispose(&c);
  assert_int_equal(cairn_store_component_get(f->store, &c, "artifact_store",
                                             "blob"), 0);
  assert_string_equal(json_string_value(json_object_get(
                          c.config, "authentication_secret")), "az2");
  assert_value(f, "az2", "new");

  assert_int_equal(cairn_store_component_delete(f->store, c.id), 0);
  cairn_component_dispose(&c);
  assert_int_equal(cairn_store_secret_delete(f->store, s.id), 0);
  cairn_secret_dispose(&s);
  assert_int_equal(cairn_store_secret_get(f->store, &s, "az2", 0) ==
                   CAIRN_ENOTFOUND, 1);
  cairn_secret_dispose(&s);
}

static void test_lost_key(void **state)
{
  struct fixture *f = *state;
  char moved[160];
  json_t *v;
  cairn_secret s;

  create(f, "one", VALUE);
  create(f, "two", VALUE);
  snprintf(moved, sizeof(moved), "%s.saved", f->key);
  assert_int_equal(rename(f->key, moved), 0);

  /* Reading names every secret that cannot be read. */
  assert_int_equal(cairn_store_secret_get(f->store, &s, "one", 1),
                   CAIRN_EAUTH);
  assert_non_null(strstr(message(), "'one', 'two'"));
  assert_non_null(strstr(message(), f->key));
  /* Without values, a secret is still found. */
  assert_int_equal(cairn_store_secret_get(f->store, &s, "one", 0), 0);
  cairn_secret_dispose(&s);
  /* No new key is made while secrets need the lost one. */
  v = json_pack("{s:s}", "a", "b");
  assert_int_equal(cairn_store_secret_create(f->store, &s, "three", v),
                   CAIRN_EAUTH);
  json_decref(v);
  assert_int_equal(access(f->key, F_OK), -1);

  /* Another key is named as the wrong one. */
  setenv("CAIRN_SECRETS_KEY",
         "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", 1);
  assert_int_equal(cairn_store_secret_get(f->store, &s, "two", 1),
                   CAIRN_EAUTH);
  assert_non_null(strstr(message(), "CAIRN_SECRETS_KEY"));
  assert_non_null(strstr(message(), "'one', 'two'"));
  unsetenv("CAIRN_SECRETS_KEY");

  assert_int_equal(rename(moved, f->key), 0);
  assert_value(f, "two", VALUE);

  /* A key file others can read is refused. */
  assert_int_equal(chmod(f->key, 0644), 0);
  assert_int_equal(cairn_store_secret_get(f->store, &s, "two", 1),
                   CAIRN_EPERM);
  assert_non_null(strstr(message(), "chmod 600"));
  assert_int_equal(chmod(f->key, 0600), 0);
}

static void test_env_key(void **state)
{
  struct fixture *f = *state;
  cairn_secret s;

  setenv("CAIRN_SECRETS_KEY", "not base64!", 1);
  {
    json_t *v = json_pack("{s:s}", "a", "b");

    assert_int_equal(cairn_store_secret_create(f->store, &s, "x", v),
                     CAIRN_EINVAL);
    assert_non_null(strstr(message(), "not base64 of 32 bytes"));
    json_decref(v);
  }
  /* The variable wins over the file, and no file is written. */
  setenv("CAIRN_SECRETS_KEY",
         "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", 1);
  create(f, "env", VALUE);
  assert_int_equal(access(f->key, F_OK), -1);
  assert_value(f, "env", VALUE);
  unsetenv("CAIRN_SECRETS_KEY");
  assert_int_equal(cairn_store_secret_get(f->store, &s, "env", 1),
                   CAIRN_EAUTH);
}

static void test_rotate(void **state)
{
  struct fixture *f = *state;
  cairn_buf before = CAIRN_BUF_INIT, after = CAIRN_BUF_INIT;
  cairn_secrets_rotation r;
  char pending[160];

  create(f, "a", VALUE);
  create(f, "b", "other");
  assert_int_equal(cairn_file_read(&before, f->key, 0), 0);
  assert_int_equal(cairn_store_secrets_rotate_key(f->store, &r), 0);
  assert_int_equal(r.count, 2);
  assert_null(r.pending_path);
  cairn_secrets_rotation_dispose(&r);
  assert_int_equal(cairn_file_read(&after, f->key, 0), 0);
  assert_string_not_equal(cairn_buf_cstr(&before), cairn_buf_cstr(&after));
  snprintf(pending, sizeof(pending), "%s.new", f->key);
  assert_int_equal(access(pending, F_OK), -1);
  assert_value(f, "a", VALUE);
  assert_value(f, "b", "other");

  /* The old key opens nothing any more. */
  assert_int_equal(cairn_file_write_atomic(f->key, before.ptr, before.size,
                                           0600), 0);
  {
    cairn_secret s;

    assert_int_equal(cairn_store_secret_get(f->store, &s, "a", 1),
                     CAIRN_EAUTH);
  }
  /*
   * A rotation cut off after its commit, before the rename: the rows
   * are sealed with the key in secrets.key.new, which the next load
   * takes over.
   */
  assert_int_equal(cairn_file_write_atomic(pending, after.ptr, after.size,
                                           0600), 0);
  assert_value(f, "a", VALUE);
  assert_int_equal(access(pending, F_OK), -1);
  cairn_buf_clear(&before);
  assert_int_equal(cairn_file_read(&before, f->key, 0), 0);
  assert_string_equal(cairn_buf_cstr(&before), cairn_buf_cstr(&after));
  cairn_buf_dispose(&before);
  cairn_buf_dispose(&after);
}

static void test_rotate_env(void **state)
{
  struct fixture *f = *state;
  cairn_buf fresh = CAIRN_BUF_INIT;
  cairn_secrets_rotation r, again;
  char *text, *nl;

  setenv("CAIRN_SECRETS_KEY",
         "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", 1);
  create(f, "a", VALUE);
  assert_int_equal(cairn_store_secrets_rotate_key(f->store, &r), 0);
  assert_non_null(r.pending_path);
  /* Until the variable changes, the pending file still opens them. */
  assert_value(f, "a", VALUE);
  create(f, "b", "later");
  /* A second rotation waits until the first one is taken over. */
  assert_int_equal(cairn_store_secrets_rotate_key(f->store, &again),
                   CAIRN_EINVAL);
  assert_non_null(strstr(message(), r.pending_path));
  assert_int_equal(cairn_file_read(&fresh, r.pending_path, 0), 0);
  text = cairn_buf_detach(&fresh);
  if ((nl = strchr(text, '\n')))
    *nl = '\0';
  setenv("CAIRN_SECRETS_KEY", text, 1);
  assert_int_equal(unlink(r.pending_path), 0);
  assert_value(f, "a", VALUE);
  assert_value(f, "b", "later");
  free(text);
  cairn_secrets_rotation_dispose(&r);
}

/* A ciphertext moved to another row does not open there. */
static void test_tampering(void **state)
{
  struct fixture *f = *state;
  char db[128];
  sqlite3 *h;
  cairn_secret s;

  create(f, "a", VALUE);
  create(f, "b", "other");
  snprintf(db, sizeof(db), "%s/cairn.db", f->home);
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  assert_int_equal(sqlite3_exec(h,
      "UPDATE secrets SET nonce=(SELECT nonce FROM secrets WHERE name='a'),"
      " ciphertext=(SELECT ciphertext FROM secrets WHERE name='a')"
      " WHERE name='b'", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(h);
  assert_int_equal(cairn_store_secret_get(f->store, &s, "b", 1),
                   CAIRN_EINTEGRITY);
  assert_non_null(strstr(message(), "'b'"));
  assert_value(f, "a", VALUE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_round_trip_and_at_rest, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_names_and_keys, setup, teardown),
    cmocka_unit_test_setup_teardown(test_update_rename_delete, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_lost_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_env_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
    cmocka_unit_test_setup_teardown(test_rotate_env, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The store filesystem conformance suite on the Azure flavor reached with
 * a SAS instead of the account key, against Azurite
 * (CAIRN_TEST_AZURITE_ENDPOINT).  The tokens are minted by the Azure SDK
 * for JavaScript (tests/e2e/make_sas.js), not by cairn.  Every copy and
 * rename carries the SAS on its source URL, every listing page carries
 * it next to its marker, and odd names go through it unchanged.
 */
#include "../conformance/fs_suite.h"

#include <cairn/azure.h>

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY                                                           \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="
#define MAKE_SAS CAIRN_TEST_DATA "/../e2e/make_sas.js"

struct sas_fixture {
  const char *endpoint;
  char sas[1024];               /* account SAS, sp=rwdlacup, 2 hours */
  cairn_azure_account *account; /* through the SAS */
  cairn_azure_client *client;
  cairn_azure_account *key_account; /* for checks behind the SAS's back */
  cairn_azure_client *key_client;
  char container[64];
};

static struct sas_fixture fixture;

/* Mint a SAS with the SDK: "account PERMS SECONDS" or "container ...". */
static int make_sas(char *out, size_t outlen, const char *args)
{
  char cmd[512];
  FILE *p;
  size_t n;
  int rc;

  snprintf(cmd, sizeof(cmd), "node '%s' %s", MAKE_SAS, args);
  if (!(p = popen(cmd, "r")))
    return -1;
  n = fread(out, 1, outlen - 1, p);
  rc = pclose(p);
  out[n] = '\0';
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
    out[--n] = '\0';
  return rc == 0 && n ? 0 : -1;
}

static int new_container_name(char out[64])
{
  unsigned char r[6];
  char hex[13];

  if (cairn_random_bytes(r, sizeof(r)) < 0)
    return -1;
  cairn_hex_encode(hex, r, sizeof(r));
  snprintf(out, 64, "sas-%s", hex);
  return 0;
}

static int suite_fs_new(struct suite_ctx *ctx)
{
  char root[128];
  int error;

  if (new_container_name(fixture.container) < 0)
    return -1;
  /* the account SAS may create containers (srt includes c) */
  if ((error = cairn_azure_container_create(fixture.client,
                                            fixture.container)) < 0)
    return error;
  snprintf(root, sizeof(root), "az://%s/root/", fixture.container);
  ctx->azure = 1;
  ctx->sas = 1;
  ctx->priv = &fixture;
  return cairn_fs_azure_new(&ctx->fs, root, fixture.account, NULL);
}

static void suite_fs_free(struct suite_ctx *ctx)
{
  cairn_fs_free(ctx->fs);
  ctx->fs = NULL;
  cairn_azure_container_delete(fixture.key_client, fixture.container);
}

static int group_setup(void **state)
{
  (void)state;
  fixture.endpoint = getenv("CAIRN_TEST_AZURITE_ENDPOINT");
  if (!fixture.endpoint || !*fixture.endpoint) {
    fprintf(stderr, "CAIRN_TEST_AZURITE_ENDPOINT is not set\n");
    return -1;
  }
  if (make_sas(fixture.sas, sizeof(fixture.sas),
               "account rwdlacup 7200") < 0) {
    fprintf(stderr, "cannot mint a SAS with %s (node and "
            "tests/harness/node_modules are needed)\n", MAKE_SAS);
    return -1;
  }
  if (cairn_global_init() < 0 ||
      cairn_azure_account_from_sas(&fixture.account, DEV_ACCOUNT,
                                   fixture.sas, fixture.endpoint) < 0 ||
      cairn_azure_client_new(&fixture.client, fixture.account, NULL) < 0 ||
      cairn_azure_account_from_key(&fixture.key_account, DEV_ACCOUNT,
                                   DEV_KEY, fixture.endpoint) < 0 ||
      cairn_azure_client_new(&fixture.key_client, fixture.key_account,
                             NULL) < 0) {
    fprintf(stderr, "azurite: %s\n", cairn_error_last()->message);
    return -1;
  }
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  cairn_azure_client_free(fixture.client);
  cairn_azure_account_free(fixture.account);
  cairn_azure_client_free(fixture.key_client);
  cairn_azure_account_free(fixture.key_account);
  cairn_global_cleanup();
  return 0;
}

/* An fs over the fixture's container, reached with @p sas. */
static cairn_fs *fs_with_sas(cairn_azure_account **acct, const char *sas)
{
  cairn_fs *fs = NULL;
  char root[128];

  CHECK(cairn_azure_account_from_sas(acct, DEV_ACCOUNT, sas,
                                     fixture.endpoint));
  snprintf(root, sizeof(root), "az://%s/root", fixture.container);
  CHECK(cairn_fs_azure_new(&fs, root, *acct, NULL));
  return fs;
}

/*
 * A listing longer than one page through a SAS: the marker of the next
 * page joins the SAS with '&', never "??" or "&&".
 */
static void test_sas_listing_pages(void **state)
{
  const size_t n = 5050;
  cairn_azure_upload_job *jobs = calloc(n, sizeof(*jobs));
  char **names = calloc(n, sizeof(*names));
  cairn_fs_list l = {0};
  const char *one = L("one");
  size_t i;

  (void)state;
  assert_non_null(jobs);
  assert_non_null(names);
  local_write(one, "1", 1);
  for (i = 0; i < n; i++) {
    assert_true(asprintf(&names[i], "root/pages/f%05zu", i) > 0);
    jobs[i].name = names[i];
    jobs[i].local_path = one;
  }
  /* all of them in parallel on the SAS client */
  CHECK(cairn_azure_blob_upload_many(fixture.client, fixture.container,
                                     jobs, n, CAIRN_AZURE_CREATE_ONLY));
  assert_int_equal(jobs[n - 1].size, 1);
  CHECK(cairn_fs_listdir(suite.fs, P("pages"), &l));
  assert_int_equal(l.count, n);
  assert_string_equal(l.items[n - 1], "f05049");
  cairn_fs_list_dispose(&l);
  assert_int_equal(count_glob("/pages/f050*"), 50);
  for (i = 0; i < n; i++)
    free(names[i]);
  free(names);
  free(jobs);
}

/* A path of the fixture's store, in the form of root @p root. */
static const char *in_root(const char *rel)
{
  char *s = NULL;

  assert_true(asprintf(&s, "az://%s/root/%s", fixture.container, rel) > 0);
  return keep(s);
}

static void write_via(cairn_fs *fs, const char *path, const char *text)
{
  cairn_fs_file *f = NULL;

  CHECK(cairn_fs_open(&f, fs, path, "w"));
  CHECK(cairn_fs_write(f, text, strlen(text)));
  CHECK(cairn_fs_close(f));
}

/* "sv=..." and "?sv=..." are the same token for every operation. */
static void test_sas_spellings(void **state)
{
  static const char *name = "q/a b+c%20#1?.txt";
  cairn_azure_account *acct = NULL;
  cairn_fs_list l = {0};
  cairn_fs *fs;
  char with_q[1100];
  int out = 7;

  (void)state;
  snprintf(with_q, sizeof(with_q), "?%s", fixture.sas);
  fs = fs_with_sas(&acct, with_q);
  CHECK(cairn_fs_makedirs(fs, in_root("q")));
  write_via(fs, in_root(name), "spelled with ?");
  /* copy and rename: the source URL carries the SAS once */
  CHECK(cairn_fs_copyfile(fs, in_root(name), in_root("q/copy.txt"), 0));
  CHECK(cairn_fs_rename(fs, in_root("q/copy.txt"), in_root("q/moved.txt"),
                        0));
  CHECK(cairn_fs_listdir(fs, in_root("q"), &l));
  assert_string_equal(joined(&l, NULL), "a b+c%20#1?.txt,moved.txt");
  cairn_fs_list_dispose(&l);
  CHECK(cairn_fs_exists(fs, in_root("q/copy.txt"), &out));
  assert_int_equal(out, 0);
  cairn_fs_free(fs);
  cairn_azure_account_free(acct);

  /* the other spelling sees the same blobs */
  assert_string_equal(get_str("q/moved.txt", NULL), "spelled with ?");
  assert_string_equal(get_str(name, NULL), "spelled with ?");
}

/* A container SAS reaches its container with no account-level call. */
static void test_sas_container_scoped(void **state)
{
  cairn_azure_account *acct = NULL;
  cairn_fs_list l = {0};
  cairn_fs *fs;
  char sas[1024], args[128], other[128];
  int out = 0;

  (void)state;
  snprintf(args, sizeof(args), "container %s racwdl 600", fixture.container);
  assert_int_equal(make_sas(sas, sizeof(sas), args), 0);
  fs = fs_with_sas(&acct, sas);
  CHECK(cairn_fs_exists(fs, in_root(""), &out));
  assert_int_equal(out, 1);
  CHECK(cairn_fs_makedirs(fs, in_root("c")));
  write_via(fs, in_root("c/a.txt"), "scoped");
  CHECK(cairn_fs_copyfile(fs, in_root("c/a.txt"), in_root("c/b.txt"), 0));
  CHECK(cairn_fs_rename(fs, in_root("c/b.txt"), in_root("c/d.txt"), 0));
  CHECK(cairn_fs_listdir(fs, in_root("c"), &l));
  assert_string_equal(joined(&l, NULL), "a.txt,d.txt");
  cairn_fs_list_dispose(&l);
  CHECK(cairn_fs_rmtree(fs, in_root("c")));
  CHECK(cairn_fs_exists(fs, in_root("c"), &out));
  assert_int_equal(out, 0);
  cairn_fs_free(fs);

  /* another container is out of its reach, and it says so */
  snprintf(other, sizeof(other), "az://%sx/root", fixture.container);
  CHECK(cairn_fs_azure_new(&fs, other, acct, NULL));
  EXPECT(cairn_fs_makedirs(fs, other), CAIRN_EAUTH);
  cairn_fs_free(fs);
  cairn_azure_account_free(acct);
}

/* An expired SAS says so, without showing the token. */
static void test_sas_expired(void **state)
{
  cairn_azure_account *acct = NULL;
  cairn_fs_file *f = NULL;
  cairn_fs *fs;
  char sas[1024], *sig;
  int out = 7;

  (void)state;
  assert_int_equal(make_sas(sas, sizeof(sas), "account rwdl -60"), 0);
  fs = fs_with_sas(&acct, sas);
  EXPECT(cairn_fs_exists(fs, in_root("x"), &out), CAIRN_EAUTH);
  message_has("expired");
  sig = strstr(sas, "sig=");
  assert_non_null(sig);
  if (strstr(cairn_error_last()->message, sig + 4))
    fail_msg("the message shows the signature");
  EXPECT(cairn_fs_open(&f, fs, in_root("y"), "w"), CAIRN_EAUTH);
  message_has("expired");
  cairn_fs_free(fs);
  cairn_azure_account_free(acct);
}

/* A read-only SAS reads; a write names the permission it lacks. */
static void test_sas_read_only(void **state)
{
  cairn_azure_account *acct = NULL;
  cairn_fs_file *f = NULL;
  cairn_fs *fs;
  char sas[1024];

  (void)state;
  put_str("ro.txt", "readable");
  assert_int_equal(make_sas(sas, sizeof(sas), "account rl 600"), 0);
  fs = fs_with_sas(&acct, sas);
  {
    char buf[16];
    size_t n = 0;

    CHECK(cairn_fs_open(&f, fs, in_root("ro.txt"), "r"));
    CHECK(cairn_fs_read(f, buf, sizeof(buf), &n));
    assert_int_equal(n, 8);
    CHECK(cairn_fs_close(f));
  }
  CHECK(cairn_fs_open(&f, fs, in_root("new.txt"), "w"));
  CHECK(cairn_fs_write(f, "w", 1));
  EXPECT(cairn_fs_close(f), CAIRN_EPERM);
  message_has("write (w)");
  message_has("AuthorizationPermissionMismatch");
  EXPECT(cairn_fs_remove(fs, in_root("ro.txt")), CAIRN_EPERM);
  message_has("delete (d)");
  assert_string_equal(get_str("ro.txt", NULL), "readable");
  cairn_fs_free(fs);
  cairn_azure_account_free(acct);
}

/* A missing container does not exist, through a SAS as well. */
static void test_sas_missing_container(void **state)
{
  cairn_fs *fs = NULL;
  char root[96], name[64], path[128];
  int out = 7;

  (void)state;
  assert_int_equal(new_container_name(name), 0);
  snprintf(root, sizeof(root), "az://%s", name);
  CHECK(cairn_fs_azure_new(&fs, root, fixture.account, NULL));
  CHECK(cairn_fs_exists(fs, root, &out));
  assert_int_equal(out, 0);
  snprintf(path, sizeof(path), "%s/x", root);
  out = 7;
  CHECK(cairn_fs_exists(fs, path, &out));
  assert_int_equal(out, 0);
  CHECK(cairn_fs_isdir(fs, path, &out));
  assert_int_equal(out, 0);
  cairn_fs_free(fs);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      FS_SUITE_BASE_TESTS,
      FS_SUITE_TEST(test_sas_listing_pages),
      FS_SUITE_TEST(test_sas_spellings),
      FS_SUITE_TEST(test_sas_container_scoped),
      FS_SUITE_TEST(test_sas_expired),
      FS_SUITE_TEST(test_sas_read_only),
      FS_SUITE_TEST(test_sas_missing_container),
  };

  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * The store filesystem conformance suite on the Azure flavor, against
 * Azurite (CAIRN_TEST_AZURITE_ENDPOINT).  Each test gets a fresh
 * container and the root az://<container>/root, so that the sibling
 * prefix az://<container>/rootbase is exercised.  Extra tests cover
 * what only a flat blob namespace can get wrong: markers written by
 * other tools, directories without markers, missing containers.
 */
#include "../conformance/fs_suite.h"

#include <cairn/azure.h>

#include "azure/client.h"
#include "core/util.h"

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY                                                           \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="

struct azure_fixture {
  cairn_azure_account *account;
  cairn_azure_client *client;
  char container[64];
};

static struct azure_fixture fixture;

static int new_container_name(char out[64])
{
  unsigned char r[6];
  char hex[13];

  if (cairn_random_bytes(r, sizeof(r)) < 0)
    return -1;
  cairn_hex_encode(hex, r, sizeof(r));
  snprintf(out, 64, "fs-%s", hex);
  return 0;
}

static int suite_fs_new(struct suite_ctx *ctx)
{
  char root[128];
  int error;

  if (new_container_name(fixture.container) < 0)
    return -1;
  if ((error = cairn_azure_container_create(fixture.client,
                                            fixture.container)) < 0)
    return error;
  snprintf(root, sizeof(root), "az://%s/root/", fixture.container);
  ctx->azure = 1;
  ctx->priv = &fixture;
  return cairn_fs_azure_new(&ctx->fs, root, fixture.account, NULL);
}

static void suite_fs_free(struct suite_ctx *ctx)
{
  cairn_fs_free(ctx->fs);
  ctx->fs = NULL;
  cairn_azure_container_delete(fixture.client, fixture.container);
}

static int group_setup(void **state)
{
  const char *endpoint = getenv("CAIRN_TEST_AZURITE_ENDPOINT");

  (void)state;
  if (!endpoint || !*endpoint) {
    fprintf(stderr, "CAIRN_TEST_AZURITE_ENDPOINT is not set\n");
    return -1;
  }
  if (cairn_global_init() < 0 ||
      cairn_azure_account_from_key(&fixture.account, DEV_ACCOUNT, DEV_KEY,
                                   endpoint) < 0 ||
      cairn_azure_client_new(&fixture.client, fixture.account, NULL) < 0) {
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
  cairn_global_cleanup();
  return 0;
}

/* A blob name under the root. */
static const char *B(const char *rel)
{
  char *s = NULL;

  assert_true(asprintf(&s, "root/%s", rel) > 0);
  return keep(s);
}

static void raw_put(const char *name, const char *data, unsigned flags)
{
  CHECK(cairn_azure_blob_put(fixture.client, fixture.container, name, data,
                             strlen(data), flags));
}

/*
 * A zero-length blob with a marker's metadata, as other tools write it:
 * the metadata name and value in the case they choose.
 */
static void raw_marker(const char *name, const char *meta_name,
                       const char *meta_value)
{
  cairn_http_request req;

  cairn_http_request_init(&req);
  CHECK(cairn__azure_request(&req, fixture.client, "PUT", fixture.container,
                             name, NULL));
  CHECK(cairn_http_headers_add(&req.headers, "x-ms-blob-type",
                               "BlockBlob"));
  CHECK(cairn_http_headers_add(&req.headers, meta_name, meta_value));
  CHECK(cairn__azure_send(fixture.client, &req, fixture.container, name));
  cairn_http_request_dispose(&req);
}

/* A marker written by another tool is a directory, never a file. */
static void test_azure_foreign_marker(void **state)
{
  cairn_fs_tree tree = {0};
  cairn_fs_info st;
  struct stat lst;
  struct walk_log w;

  (void)state;
  raw_marker(B("data/year=2024"), "x-ms-meta-hdi_isfolder", "true");
  raw_marker(B("data/year=2025"), "x-ms-meta-Hdi_isfolder", "True");
  raw_marker(B("data/year=2026"), "x-ms-meta-HDI_ISFOLDER", "TRUE");
  raw_put(B("data/year=2024/part-0.parquet"), "PAR1", 0);
  /* a zero-length blob without the metadata stays a file */
  raw_put(B("data/_SUCCESS"), "", 0);

  assert_string_equal(ls("data"), "_SUCCESS,year=2024,year=2025,year=2026");
  assert_int_equal(isdir("data/year=2026"), 1);
  assert_int_equal(isdir("data/_SUCCESS"), 0);
  memset(&w, 0, sizeof(w));
  w.root_len = strlen(cairn_fs_root(suite.fs));
  CHECK(cairn_fs_walk(suite.fs, P("data"), walk_cb, &w));
  assert_string_equal(w.text, "data:year=2024/,year=2025/,year=2026/|"
                              "_SUCCESS;data/year=2024:|part-0.parquet;"
                              "data/year=2025:|;data/year=2026:|;");
  CHECK(cairn_fs_remove(suite.fs, P("data/_SUCCESS")));
  CHECK(cairn_fs_rmtree(suite.fs, P("data/year=2026")));

  assert_string_equal(ls("data"), "year=2024,year=2025");
  assert_int_equal(isdir("data/year=2024"), 1);
  assert_int_equal(isdir("data/year=2025"), 1);
  CHECK(cairn_fs_stat(suite.fs, P("data/year=2025"), &st));
  assert_int_equal(st.type, CAIRN_FS_DIR);
  assert_string_equal(ls("data/year=2025"), "");
  assert_string_equal(ls("data/year=2024"), "part-0.parquet");
  assert_string_equal(glob_rel("/data/**/*.parquet"),
                      "data/year=2024/part-0.parquet");
  assert_string_equal(glob_rel("/data/*"), "data/year=2024,data/year=2025");
  {
    cairn_fs_file *f = NULL;

    EXPECT(cairn_fs_open(&f, suite.fs, P("data/year=2025"), "r"),
           CAIRN_EINVAL);
    EXPECT(cairn_fs_remove(suite.fs, P("data/year=2025")), CAIRN_EINVAL);
  }

  /* A recursive download makes folders, not zero-byte files. */
  CHECK(cairn_fs_get_tree(suite.fs, P("data"), L("out"), &tree));
  assert_int_equal(tree.count, 1);
  assert_string_equal(tree.items[0].rel, "year=2024/part-0.parquet");
  assert_int_equal(stat(L("out/year=2025"), &lst), 0);
  assert_true(S_ISDIR(lst.st_mode));
  cairn_fs_tree_dispose(&tree);

  /* rmtree takes the markers too. */
  CHECK(cairn_fs_rmtree(suite.fs, P("data")));
  assert_int_equal(exists("data"), 0);
  assert_int_equal(exists("data/year=2025"), 0);
}

/* mkdir writes a marker blob that other tools recognise. */
static void test_azure_mkdir_marker(void **state)
{
  cairn_azure_blob_info info;

  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("m/n")));
  memset(&info, 0, sizeof(info));
  CHECK(cairn_azure_blob_properties(fixture.client, fixture.container,
                                    B("m/n"), &info));
  assert_true(info.is_dir_marker);
  assert_int_equal(info.size, 0);
  cairn_azure_blob_info_dispose(&info);
  CHECK(cairn_azure_blob_properties(fixture.client, fixture.container,
                                    B("m"), &info));
  assert_true(info.is_dir_marker);
  cairn_azure_blob_info_dispose(&info);
}

/* Directories without markers exist through the blobs below them. */
static void test_azure_no_markers(void **state)
{
  cairn_fs_info st;
  struct walk_log w;
  cairn_fs *cold = NULL;
  char path[160];
  int out = 0;

  (void)state;
  raw_put(B("a/b/c.txt"), "c", 0);
  /* a store made after the upload, that has listed nothing yet */
  CHECK(cairn_fs_azure_new(&cold, cairn_fs_root(suite.fs), fixture.account,
                           NULL));
  snprintf(path, sizeof(path), "%s/a/b", cairn_fs_root(suite.fs));
  CHECK(cairn_fs_exists(cold, path, &out));
  assert_int_equal(out, 1);
  snprintf(path, sizeof(path), "%s/a", cairn_fs_root(suite.fs));
  CHECK(cairn_fs_isdir(cold, path, &out));
  assert_int_equal(out, 1);
  cairn_fs_free(cold);
  assert_int_equal(exists("a"), 1);
  assert_int_equal(isdir("a"), 1);
  assert_int_equal(exists("a/b"), 1);
  assert_int_equal(isdir("a/b"), 1);
  assert_int_equal(isdir("a/b/c.txt"), 0);
  assert_int_equal(exists("a/b/c"), 0);
  assert_int_equal(exists("a/b/c.tx"), 0);
  CHECK(cairn_fs_stat(suite.fs, P("a/b"), &st));
  assert_int_equal(st.type, CAIRN_FS_DIR);
  assert_string_equal(ls(""), "a");
  assert_string_equal(ls("a"), "b");
  assert_string_equal(ls("a/b"), "c.txt");
  EXPECT(cairn_fs_mkdir(suite.fs, P("a/b")), CAIRN_EEXISTS);
  CHECK(cairn_fs_mkdir(suite.fs, P("a/b/d")));
  assert_string_equal(ls("a/b"), "c.txt,d");

  memset(&w, 0, sizeof(w));
  w.root_len = strlen(cairn_fs_root(suite.fs));
  CHECK(cairn_fs_walk(suite.fs, P(""), walk_cb, &w));
  assert_string_equal(w.text, ".:a/|;a:b/|;a/b:d/|c.txt;a/b/d:|;");
}

/* A missing container: nothing exists, and nothing fails. */
static void test_azure_missing_container(void **state)
{
  cairn_fs *fs = NULL;
  cairn_fs_list l = {0};
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
  CHECK(cairn_fs_isdir(fs, root, &out));
  assert_int_equal(out, 0);
  EXPECT(cairn_fs_listdir(fs, root, &l), CAIRN_ENOTFOUND);
  message_has(name);

  /* makedirs creates the container. */
  snprintf(path, sizeof(path), "%s/made/here", root);
  CHECK(cairn_fs_makedirs(fs, path));
  CHECK(cairn_fs_isdir(fs, path, &out));
  assert_int_equal(out, 1);
  CHECK(cairn_fs_exists(fs, root, &out));
  assert_int_equal(out, 1);
  CHECK(cairn_azure_container_exists(fixture.client, name));
  cairn_fs_free(fs);
  CHECK(cairn_azure_container_delete(fixture.client, name));
}

/* Other containers and other forms of the URI stay outside. */
static void test_azure_confinement_extra(void **state)
{
  cairn_fs *fs = NULL;
  char other[128];
  int out = 7;

  (void)state;
  raw_put("rootbase/x", "outside", 0);
  raw_put("x", "outside", 0);
  snprintf(other, sizeof(other), "az://%sx/root/a", fixture.container);
  EXPECT(cairn_fs_exists(suite.fs, other, &out), CAIRN_EPERM);
  EXPECT(cairn_fs_exists(suite.fs, "/tmp/x", &out), CAIRN_EPERM);
  EXPECT(cairn_fs_remove(suite.fs, RAW("base/x")), CAIRN_EPERM);
  EXPECT(cairn_fs_remove(suite.fs, RAW("/../x")), CAIRN_EPERM);
  {
    cairn_azure_blob_info info;

    memset(&info, 0, sizeof(info));
    CHECK(cairn_azure_blob_properties(fixture.client, fixture.container,
                                      "rootbase/x", &info));
    cairn_azure_blob_info_dispose(&info);
  }
  assert_string_equal(ls(""), "");

  /* The root's own forms. */
  EXPECT(cairn_fs_azure_new(&fs, "https://x.blob.core.windows.net/c",
                            fixture.account, NULL),
         CAIRN_EINVAL);
  EXPECT(cairn_fs_azure_new(&fs, "az://Bad_Name/x", fixture.account, NULL),
         CAIRN_EINVAL);
  EXPECT(cairn_fs_azure_new(&fs, "az://ccc@other.blob.core.windows.net/x",
                            fixture.account, NULL),
         CAIRN_EINVAL);
  message_has("other");
  assert_null(fs);
}

/* A container-level root: no prefix at all. */
static void test_azure_container_root(void **state)
{
  cairn_fs *fs = NULL;
  cairn_fs_list l = {0};
  char root[96], path[128];

  (void)state;
  snprintf(root, sizeof(root), "az://%s/", fixture.container);
  CHECK(cairn_fs_azure_new(&fs, root, fixture.account, NULL));
  root[strlen(root) - 1] = '\0';
  assert_string_equal(cairn_fs_root(fs), root);
  raw_put("top.txt", "t", 0);
  put_str("in-root.txt", "r");
  CHECK(cairn_fs_listdir(fs, root, &l));
  assert_string_equal(joined(&l, NULL), "root,top.txt");
  cairn_fs_list_dispose(&l);
  snprintf(path, sizeof(path), "%s/root", root);
  CHECK(cairn_fs_listdir(fs, path, &l));
  assert_string_equal(joined(&l, NULL), "in-root.txt");
  cairn_fs_list_dispose(&l);
  cairn_fs_free(fs);
}

/* The query value of @p name in @p url, decoded of %3A ("" if none). */
static const char *query_value(const char *url, const char *name)
{
  static char out[64];
  const char *p = strstr(url, name);
  size_t o = 0;

  out[0] = '\0';
  if (!p)
    return out;
  for (p += strlen(name); *p && *p != '&' && o + 1 < sizeof(out); p++) {
    if (!strncmp(p, "%3A", 3)) {
      out[o++] = ':';
      p += 2;
    } else {
      out[o++] = *p;
    }
  }
  out[o] = '\0';
  return out;
}

/* A presigned URL: back-dated start, expiry from now, read only. */
static void test_azure_presign_window(void **state)
{
  cairn_buf body = CAIRN_BUF_INIT;
  char *url = NULL;
  int64_t st, se, now = cairn_time_now();

  (void)state;
  put_str("w.txt", "window");
  CHECK(cairn_fs_presign(&url, suite.fs, P("w.txt"), 3600));
  assert_non_null(strstr(url, "sp=r"));
  assert_non_null(strstr(url, "sr=b"));
  CHECK(cairn_time_parse_iso8601(&st, query_value(url, "st=")));
  CHECK(cairn_time_parse_iso8601(&se, query_value(url, "se=")));
  /* a service clock some minutes behind still takes it at once */
  assert_true(st <= now - 14 * 60 && st >= now - 16 * 60);
  assert_true(se >= now + 3590 && se <= now + 3610);
  assert_int_equal(fetch(url, &body), 200);
  assert_string_equal(cairn_buf_cstr(&body), "window");
  /* read only: the same URL cannot write */
  {
    CURL *easy = curl_easy_init();
    long status = 0;

    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "DELETE");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, fetch_sink);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    assert_int_equal(curl_easy_perform(easy), CURLE_OK);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(easy);
    assert_int_equal(status, 403);
  }
  assert_string_equal(get_str("w.txt", NULL), "window");
  free(url);

  /* a short-lived URL stops working when it expires */
  CHECK(cairn_fs_presign(&url, suite.fs, P("w.txt"), 1));
  sleep(2);
  assert_int_equal(fetch(url, &body), 403);
  free(url);
  cairn_buf_dispose(&body);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      FS_SUITE_TESTS,
      FS_SUITE_TEST(test_azure_presign_window),
      FS_SUITE_TEST(test_azure_foreign_marker),
      FS_SUITE_TEST(test_azure_mkdir_marker),
      FS_SUITE_TEST(test_azure_no_markers),
      FS_SUITE_TEST(test_azure_missing_container),
      FS_SUITE_TEST(test_azure_confinement_extra),
      FS_SUITE_TEST(test_azure_container_root),
  };

  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * The store filesystem conformance suite on the local flavor: each test
 * gets a fresh folder `<tmp>/root`, so that `<tmp>/rootbase` is a real
 * sibling outside the store.
 */
#include "../conformance/fs_suite.h"

struct local_fixture {
  char base[256];
};

static struct local_fixture fixture;

static int suite_fs_new(struct suite_ctx *ctx)
{
  char root[300];

  snprintf(fixture.base, sizeof(fixture.base), "/tmp/cairn-fs-local-XXXXXX");
  if (!mkdtemp(fixture.base))
    return -1;
  snprintf(root, sizeof(root), "%s/root/", fixture.base);
  ctx->azure = 0;
  ctx->priv = &fixture;
  return cairn_fs_local_new(&ctx->fs, root);
}

static void suite_fs_free(struct suite_ctx *ctx)
{
  cairn_fs_free(ctx->fs);
  ctx->fs = NULL;
  rm_local_tree(fixture.base);
}

/* A real sibling folder with the root's name as prefix stays out. */
static void test_local_sibling_folder(void **state)
{
  cairn_fs_file *f = NULL;
  char sibling[300], path[400];
  int out = -1;

  (void)state;
  snprintf(sibling, sizeof(sibling), "%s/rootbase", fixture.base);
  assert_int_equal(mkdir(sibling, 0777), 0);
  snprintf(path, sizeof(path), "%s/x", sibling);
  local_write(path, "secret", 6);
  EXPECT(cairn_fs_open(&f, suite.fs, path, "r"), CAIRN_EPERM);
  EXPECT(cairn_fs_exists(suite.fs, path, &out), CAIRN_EPERM);
  EXPECT(cairn_fs_remove(suite.fs, path), CAIRN_EPERM);
  assert_int_equal(access(path, F_OK), 0);
  EXPECT(cairn_fs_exists(suite.fs, "/etc/passwd", &out), CAIRN_EPERM);
  EXPECT(cairn_fs_exists(suite.fs, "az://c/x", &out), CAIRN_EPERM);
}

/* The root is made absolute and created; a relative path is resolved. */
static void test_local_root(void **state)
{
  char want[300], cwd[256];
  cairn_fs *fs = NULL;
  int out = 0;

  (void)state;
  snprintf(want, sizeof(want), "%s/root", fixture.base);
  assert_string_equal(cairn_fs_root(suite.fs), want);

  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(chdir(fixture.base), 0);
  CHECK(cairn_fs_local_new(&fs, "made/here//"));
  snprintf(want, sizeof(want), "%s/made/here", fixture.base);
  assert_string_equal(cairn_fs_root(fs), want);
  CHECK(cairn_fs_isdir(fs, "made/here", &out));
  assert_int_equal(out, 1);
  EXPECT(cairn_fs_isdir(fs, "made", &out), CAIRN_EPERM);
  cairn_fs_free(fs);
  assert_int_equal(chdir(cwd), 0);

  EXPECT(cairn_fs_local_new(&fs, "az://c/p"), CAIRN_EINVAL);
  assert_null(fs);
  EXPECT(cairn_fs_local_new(&fs, ""), CAIRN_EINVAL);
}

/* No temporary names are left behind by writes, aborts and copies. */
static void test_local_no_leftovers(void **state)
{
  cairn_fs_file *f = NULL;

  (void)state;
  put_str("a", "1");
  put_str("a", "2");
  CHECK(cairn_fs_open(&f, suite.fs, P("b"), "w"));
  CHECK(cairn_fs_write(f, "x", 1));
  cairn_fs_abort(f);
  CHECK(cairn_fs_copyfile(suite.fs, P("a"), P("c"), 0));
  CHECK(cairn_fs_copyfile(suite.fs, P("a"), P("c"), 1));
  local_write(L("l"), "l", 1);
  CHECK(cairn_fs_put_file(suite.fs, L("l"), P("d"), NULL));
  assert_string_equal(ls(""), "a,c,d");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      FS_SUITE_TESTS,
      FS_SUITE_TEST(test_local_sibling_folder),
      FS_SUITE_TEST(test_local_root),
      FS_SUITE_TEST(test_local_no_leftovers),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

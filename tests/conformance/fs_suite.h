/*
 * The conformance suite of the store filesystem: one list of cmocka
 * tests that every flavor must pass.
 *
 * A test program includes this file, defines the two fixture hooks
 *
 *   static int suite_fs_new(struct suite_ctx *ctx);   fresh fs, empty root
 *   static void suite_fs_free(struct suite_ctx *ctx);
 *
 * (before or after the include; they are declared here) and runs
 * FS_SUITE_TESTS, which sets up a fresh root and a local scratch folder
 * for every test.  The root must be a path below a parent in which a
 * sibling `<root>base` is meaningful, so that confinement is exercised.
 */
#ifndef CAIRN_TEST_FS_SUITE_H
#define CAIRN_TEST_FS_SUITE_H

#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cairn/fs.h>

#include "core/buf.h"
#include "core/hash.h"

struct suite_ctx {
  cairn_fs *fs;
  int azure;          /* set by the hooks */
  int sas;            /* reached with a SAS: no account key to presign */
  void *priv;         /* the hooks' own state */
  char scratch[256];  /* a fresh local folder for put/get */
  char *strings[2048]; /* freed after each test */
  size_t nstrings;
};

static int suite_fs_new(struct suite_ctx *ctx);
static void suite_fs_free(struct suite_ctx *ctx);

static struct suite_ctx suite;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

#define CHECK(expr)                                                       \
  do {                                                                    \
    int check_rc_ = (expr);                                               \
    if (check_rc_ != 0)                                                   \
      fail_msg("%s -> %d: %s", #expr, check_rc_,                          \
               cairn_error_last()->message);                              \
  } while (0)

#define EXPECT(expr, code)                                                \
  do {                                                                    \
    int expect_rc_ = (expr);                                              \
    if (expect_rc_ != (code))                                             \
      fail_msg("%s -> %d, expected %d (%s)", #expr, expect_rc_,           \
               (int)(code), cairn_error_last()->message);                 \
  } while (0)

static const char *keep(char *s)
{
  assert_non_null(s);
  assert_true(suite.nstrings < sizeof(suite.strings) / sizeof(char *));
  suite.strings[suite.nstrings++] = s;
  return s;
}

/* Full store path of @p rel. */
static const char *P(const char *rel)
{
  return keep(cairn_fs_path(suite.fs, rel));
}

/* Raw text appended to the root (no normalisation by the helper). */
static const char *RAW(const char *suffix)
{
  char *s = NULL;

  assert_true(asprintf(&s, "%s%s", cairn_fs_root(suite.fs), suffix) > 0);
  return keep(s);
}

/* A path in the local scratch folder. */
static const char *L(const char *rel)
{
  char *s = NULL;

  assert_true(asprintf(&s, "%s/%s", suite.scratch, rel) > 0);
  return keep(s);
}

static void put_bytes(const char *rel, const void *data, size_t len)
{
  cairn_fs_file *f = NULL;

  CHECK(cairn_fs_open(&f, suite.fs, P(rel), "wb"));
  CHECK(cairn_fs_write(f, data, len));
  CHECK(cairn_fs_close(f));
}

static void put_str(const char *rel, const char *text)
{
  put_bytes(rel, text, strlen(text));
}

/* The whole content of a store file, NUL-terminated (kept). */
static const char *get_str(const char *rel, size_t *len_out)
{
  cairn_fs_file *f = NULL;
  char *buf = NULL;
  size_t len = 0, n;

  CHECK(cairn_fs_open(&f, suite.fs, P(rel), "rb"));
  for (;;) {
    buf = realloc(buf, len + 4097);
    assert_non_null(buf);
    CHECK(cairn_fs_read(f, buf + len, 4096, &n));
    if (!n)
      break;
    len += n;
  }
  CHECK(cairn_fs_close(f));
  buf[len] = '\0';
  if (len_out)
    *len_out = len;
  return keep(buf);
}

static int exists(const char *rel)
{
  int out = -1;

  CHECK(cairn_fs_exists(suite.fs, P(rel), &out));
  return out;
}

static int isdir(const char *rel)
{
  int out = -1;

  CHECK(cairn_fs_isdir(suite.fs, P(rel), &out));
  return out;
}

/* A listing or glob joined with ',' (kept). */
static const char *joined(const cairn_fs_list *l, const char *strip)
{
  size_t i, len = 1, sl = strip ? strlen(strip) : 0;
  char *s;

  for (i = 0; i < l->count; i++)
    len += strlen(l->items[i]) + 1;
  s = calloc(1, len);
  assert_non_null(s);
  for (i = 0; i < l->count; i++) {
    const char *item = l->items[i];

    if (strip && !strncmp(item, strip, sl))
      item += sl;
    if (i)
      strcat(s, ",");
    strcat(s, item);
  }
  return keep(s);
}

static const char *ls(const char *rel)
{
  cairn_fs_list l = {0};
  const char *s;

  CHECK(cairn_fs_listdir(suite.fs, P(rel), &l));
  s = joined(&l, NULL);
  cairn_fs_list_dispose(&l);
  return s;
}

/* Glob @p pattern (relative to the root); results without the root/. */
static const char *glob_rel(const char *pattern)
{
  cairn_fs_list l = {0};
  const char *strip = RAW("/");
  const char *s;

  CHECK(cairn_fs_glob(suite.fs, RAW(pattern), &l));
  s = joined(&l, strip);
  cairn_fs_list_dispose(&l);
  return s;
}

static void message_has(const char *needle)
{
  const char *msg = cairn_error_last()->message;

  if (!strstr(msg, needle))
    fail_msg("message '%s' does not name '%s'", msg, needle);
}

/* A deterministic byte pattern. */
static void fill(unsigned char *buf, size_t len, uint32_t seed)
{
  size_t i;

  for (i = 0; i < len; i++) {
    seed = seed * 1103515245u + 12345u;
    buf[i] = (unsigned char)(seed >> 16);
  }
}

static void local_write(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");

  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static void local_random(const char *path, size_t len, uint32_t seed)
{
  unsigned char *buf = malloc(len ? len : 1);

  assert_non_null(buf);
  fill(buf, len, seed);
  local_write(path, buf, len);
  free(buf);
}

static void local_same(const char *a, const char *b)
{
  char ha[65], hb[65];
  struct stat sa, sb;

  assert_int_equal(stat(a, &sa), 0);
  assert_int_equal(stat(b, &sb), 0);
  assert_int_equal(sa.st_size, sb.st_size);
  CHECK(cairn_sha256_file_hex(ha, a));
  CHECK(cairn_sha256_file_hex(hb, b));
  assert_string_equal(ha, hb);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void rm_local_tree(const char *path)
{
  nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int suite_setup(void **state)
{
  /* a stream test closes a pipe early; its writer must not die */
  signal(SIGPIPE, SIG_IGN);
  memset(&suite, 0, sizeof(suite));
  snprintf(suite.scratch, sizeof(suite.scratch),
           "/tmp/cairn-fs-scratch-XXXXXX");
  if (!mkdtemp(suite.scratch))
    return -1;
  if (suite_fs_new(&suite) != 0) {
    fprintf(stderr, "fixture: %s\n", cairn_error_last()->message);
    return -1;
  }
  *state = &suite;
  return 0;
}

static int suite_teardown(void **state)
{
  size_t i;

  (void)state;
  suite_fs_free(&suite);
  rm_local_tree(suite.scratch);
  for (i = 0; i < suite.nstrings; i++)
    free(suite.strings[i]);
  suite.nstrings = 0;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Streaming files                                                     */
/* ------------------------------------------------------------------ */

static void test_fs_write_read_small(void **state)
{
  size_t len;
  cairn_fs_info st;

  (void)state;
  put_str("hello.txt", "hello, store\n");
  assert_string_equal(get_str("hello.txt", &len), "hello, store\n");
  assert_int_equal(len, 13);
  CHECK(cairn_fs_stat(suite.fs, P("hello.txt"), &st));
  assert_int_equal(st.type, CAIRN_FS_FILE);
  assert_int_equal(st.size, 13);

  /* "w" replaces. */
  put_str("hello.txt", "two");
  assert_string_equal(get_str("hello.txt", NULL), "two");
}

static void test_fs_write_read_streamed(void **state)
{
  const size_t total = 5 * 1024 * 1024 + 123, wchunk = 65536 + 7;
  unsigned char *data = malloc(total), *back = malloc(total + 100000);
  cairn_fs_file *f = NULL;
  size_t off, n, got = 0;
  uint64_t size;

  (void)state;
  assert_non_null(data);
  assert_non_null(back);
  fill(data, total, 7);
  CHECK(cairn_fs_makedirs(suite.fs, P("big")));
  CHECK(cairn_fs_open(&f, suite.fs, P("big/stream.bin"), "wb"));
  for (off = 0; off < total; off += wchunk) {
    n = total - off < wchunk ? total - off : wchunk;
    CHECK(cairn_fs_write(f, data + off, n));
  }
  CHECK(cairn_fs_close(f));

  CHECK(cairn_fs_size(suite.fs, P("big/stream.bin"), &size));
  assert_int_equal(size, total);
  CHECK(cairn_fs_open(&f, suite.fs, P("big/stream.bin"), "rb"));
  for (;;) {
    CHECK(cairn_fs_read(f, back + got, 100000, &n));
    if (!n)
      break;
    got += n;
    assert_true(got <= total);
  }
  CHECK(cairn_fs_close(f));
  assert_int_equal(got, total);
  assert_memory_equal(back, data, total);
  free(data);
  free(back);
}

static void test_fs_create_only(void **state)
{
  cairn_fs_file *f = NULL;

  (void)state;
  CHECK(cairn_fs_open(&f, suite.fs, P("once.txt"), "x"));
  CHECK(cairn_fs_write(f, "first", 5));
  CHECK(cairn_fs_close(f));
  f = NULL;
  EXPECT(cairn_fs_open(&f, suite.fs, P("once.txt"), "x"), CAIRN_EEXISTS);
  assert_null(f);
  message_has("once.txt");
  assert_string_equal(get_str("once.txt", NULL), "first");

  /* Two writers racing: the one that commits second loses. */
  {
    cairn_fs_file *a = NULL, *b = NULL;

    CHECK(cairn_fs_open(&a, suite.fs, P("race.txt"), "x"));
    CHECK(cairn_fs_open(&b, suite.fs, P("race.txt"), "x"));
    CHECK(cairn_fs_write(a, "a", 1));
    CHECK(cairn_fs_write(b, "b", 1));
    CHECK(cairn_fs_close(a));
    EXPECT(cairn_fs_close(b), CAIRN_EEXISTS);
    assert_string_equal(get_str("race.txt", NULL), "a");
  }

  /* Bad modes. */
  EXPECT(cairn_fs_open(&f, suite.fs, P("m.txt"), "a"), CAIRN_EINVAL);
  EXPECT(cairn_fs_open(&f, suite.fs, P("m.txt"), "r+"), CAIRN_EINVAL);
}

static void test_fs_abort_and_visibility(void **state)
{
  cairn_fs_file *f = NULL;

  (void)state;
  CHECK(cairn_fs_open(&f, suite.fs, P("gone.txt"), "w"));
  CHECK(cairn_fs_write(f, "data", 4));
  assert_int_equal(exists("gone.txt"), 0);
  cairn_fs_abort(f);
  assert_int_equal(exists("gone.txt"), 0);
  assert_string_equal(ls(""), "");

  /* Not visible before close; visible after. */
  CHECK(cairn_fs_open(&f, suite.fs, P("late.txt"), "w"));
  CHECK(cairn_fs_write(f, "data", 4));
  assert_int_equal(exists("late.txt"), 0);
  assert_string_equal(ls(""), "");
  CHECK(cairn_fs_close(f));
  assert_int_equal(exists("late.txt"), 1);

  /* Aborting a replacement keeps the old content. */
  CHECK(cairn_fs_open(&f, suite.fs, P("late.txt"), "w"));
  CHECK(cairn_fs_write(f, "new!", 4));
  cairn_fs_abort(f);
  assert_string_equal(get_str("late.txt", NULL), "data");
  assert_string_equal(ls(""), "late.txt");
}

static void test_fs_open_errors(void **state)
{
  cairn_fs_file *f = NULL;
  size_t n;

  (void)state;
  EXPECT(cairn_fs_open(&f, suite.fs, P("missing.txt"), "r"),
         CAIRN_ENOTFOUND);
  message_has("missing.txt");
  CHECK(cairn_fs_mkdir(suite.fs, P("dir")));
  EXPECT(cairn_fs_open(&f, suite.fs, P("dir"), "r"), CAIRN_EINVAL);
  EXPECT(cairn_fs_open(&f, suite.fs, P("dir"), "w"), CAIRN_EINVAL);
  assert_int_equal(isdir("dir"), 1);

  /* Reading a writer and writing a reader are refused. */
  put_str("f.txt", "x");
  CHECK(cairn_fs_open(&f, suite.fs, P("f.txt"), "r"));
  EXPECT(cairn_fs_write(f, "y", 1), CAIRN_EINVAL);
  CHECK(cairn_fs_close(f));
  CHECK(cairn_fs_open(&f, suite.fs, P("g.txt"), "w"));
  EXPECT(cairn_fs_read(f, &n, 1, &n), CAIRN_EINVAL);
  cairn_fs_abort(f);
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

static void test_fs_exists_isdir(void **state)
{
  (void)state;
  put_str("file.txt", "x");
  CHECK(cairn_fs_makedirs(suite.fs, P("d/e")));
  put_str("d/e/f.txt", "y");

  assert_int_equal(exists(""), 1);
  assert_int_equal(isdir(""), 1);
  assert_int_equal(exists("file.txt"), 1);
  assert_int_equal(isdir("file.txt"), 0);
  assert_int_equal(exists("d"), 1);
  assert_int_equal(isdir("d"), 1);
  assert_int_equal(isdir("d/e"), 1);
  assert_int_equal(exists("d/e/f.txt"), 1);
  assert_int_equal(exists("missing"), 0);
  assert_int_equal(isdir("missing"), 0);
  assert_int_equal(exists("d/missing/deeper"), 0);
  assert_int_equal(exists("file.txt/below"), 0);

  /* Prefix boundary: "fil" and "d/e/f" are not there. */
  assert_int_equal(exists("fil"), 0);
  assert_int_equal(exists("d/e/f"), 0);
  assert_int_equal(isdir("d/e/f"), 0);
}

static void test_fs_listdir(void **state)
{
  cairn_fs_list l = {0};

  (void)state;
  put_str("b.txt", "b");
  put_str("a.txt", "a");
  CHECK(cairn_fs_mkdir(suite.fs, P("d1")));
  CHECK(cairn_fs_mkdir(suite.fs, P("d2")));
  put_str("d2/inner.txt", "i");
  CHECK(cairn_fs_makedirs(suite.fs, P("d2/sub")));

  assert_string_equal(ls(""), "a.txt,b.txt,d1,d2");
  assert_string_equal(ls("d2"), "inner.txt,sub");
  assert_string_equal(ls("d1"), "");
  assert_string_equal(ls("d2/sub"), "");
  assert_int_equal(isdir("d2/sub"), 1);
  assert_int_equal(isdir("d2/inner.txt"), 0);

  /* Trailing separators name the same directory. */
  CHECK(cairn_fs_listdir(suite.fs, RAW("/d2/"), &l));
  assert_string_equal(joined(&l, NULL), "inner.txt,sub");
  cairn_fs_list_dispose(&l);
  CHECK(cairn_fs_listdir(suite.fs, RAW("//d2//"), &l));
  assert_string_equal(joined(&l, NULL), "inner.txt,sub");
  cairn_fs_list_dispose(&l);
  assert_null(l.items);
}

static void test_fs_listdir_errors(void **state)
{
  cairn_fs_list l = {0};

  (void)state;
  EXPECT(cairn_fs_listdir(suite.fs, P("nowhere"), &l), CAIRN_ENOTFOUND);
  message_has(P("nowhere"));
  assert_int_equal(l.count, 0);
  put_str("plain.txt", "p");
  EXPECT(cairn_fs_listdir(suite.fs, P("plain.txt"), &l), CAIRN_EINVAL);
  message_has("plain.txt");
}

static void test_fs_listdir_no_sibling_leak(void **state)
{
  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("folder")));
  CHECK(cairn_fs_makedirs(suite.fs, P("folder1")));
  CHECK(cairn_fs_makedirs(suite.fs, P("folder2")));
  put_str("folder/a", "a");
  put_str("folder1/b", "b");
  put_str("folder2/c", "c");
  put_str("folderx.txt", "x");
  assert_string_equal(ls("folder"), "a");
  assert_string_equal(ls("folder/"), "a");
  assert_string_equal(ls("folder//"), "a");
  assert_string_equal(ls("folder1"), "b");
  assert_string_equal(ls(""), "folder,folder1,folder2,folderx.txt");
}

static void test_fs_stat_size(void **state)
{
  cairn_fs_info st;
  uint64_t size = 99;
  time_t now = time(NULL);

  (void)state;
  put_str("three", "abc");
  CHECK(cairn_fs_stat(suite.fs, P("three"), &st));
  assert_int_equal(st.type, CAIRN_FS_FILE);
  assert_int_equal(st.size, 3);
  assert_true(st.mtime > (int64_t)now - 600 && st.mtime < now + 600);
  CHECK(cairn_fs_size(suite.fs, P("three"), &size));
  assert_int_equal(size, 3);

  CHECK(cairn_fs_mkdir(suite.fs, P("dir")));
  CHECK(cairn_fs_stat(suite.fs, P("dir"), &st));
  assert_int_equal(st.type, CAIRN_FS_DIR);
  assert_int_equal(st.size, 0);
  EXPECT(cairn_fs_size(suite.fs, P("dir"), &size), CAIRN_EINVAL);
  CHECK(cairn_fs_stat(suite.fs, P(""), &st));
  assert_int_equal(st.type, CAIRN_FS_DIR);

  EXPECT(cairn_fs_stat(suite.fs, P("nope"), &st), CAIRN_ENOTFOUND);
  message_has("nope");
  EXPECT(cairn_fs_size(suite.fs, P("nope"), &size), CAIRN_ENOTFOUND);
}

/* ------------------------------------------------------------------ */
/* Changes                                                             */
/* ------------------------------------------------------------------ */

static void test_fs_mkdir(void **state)
{
  (void)state;
  CHECK(cairn_fs_mkdir(suite.fs, P("one")));
  assert_int_equal(isdir("one"), 1);
  assert_string_equal(ls(""), "one");
  assert_string_equal(ls("one"), "");
  EXPECT(cairn_fs_mkdir(suite.fs, P("one")), CAIRN_EEXISTS);
  message_has("one");
  EXPECT(cairn_fs_mkdir(suite.fs, P("two/three")), CAIRN_ENOTFOUND);
  message_has("two");
  assert_int_equal(exists("two"), 0);
  CHECK(cairn_fs_mkdir(suite.fs, P("one/two")));
  assert_string_equal(ls("one"), "two");

  put_str("file", "f");
  EXPECT(cairn_fs_mkdir(suite.fs, P("file")), CAIRN_EEXISTS);
  EXPECT(cairn_fs_mkdir(suite.fs, P("file/sub")), CAIRN_EINVAL);
}

static void test_fs_makedirs(void **state)
{
  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("a/b/c")));
  assert_int_equal(isdir("a"), 1);
  assert_int_equal(isdir("a/b"), 1);
  assert_int_equal(isdir("a/b/c"), 1);
  assert_string_equal(ls("a/b/c"), "");
  assert_string_equal(ls("a"), "b");
  CHECK(cairn_fs_makedirs(suite.fs, P("a/b/c")));
  CHECK(cairn_fs_makedirs(suite.fs, P("a/b")));
  CHECK(cairn_fs_makedirs(suite.fs, P("a/b/d")));
  assert_string_equal(ls("a/b"), "c,d");
  CHECK(cairn_fs_makedirs(suite.fs, P("")));

  put_str("a/file", "f");
  EXPECT(cairn_fs_makedirs(suite.fs, P("a/file")), CAIRN_EEXISTS);
  EXPECT(cairn_fs_makedirs(suite.fs, P("a/file/sub")), CAIRN_EEXISTS);
  message_has("file");
}

static void test_fs_remove(void **state)
{
  (void)state;
  put_str("r.txt", "r");
  put_str("r.txt.keep", "k");
  CHECK(cairn_fs_remove(suite.fs, P("r.txt")));
  assert_int_equal(exists("r.txt"), 0);
  assert_int_equal(exists("r.txt.keep"), 1);
  EXPECT(cairn_fs_remove(suite.fs, P("r.txt")), CAIRN_ENOTFOUND);
  message_has("r.txt");
  CHECK(cairn_fs_mkdir(suite.fs, P("dir")));
  EXPECT(cairn_fs_remove(suite.fs, P("dir")), CAIRN_EINVAL);
  assert_int_equal(isdir("dir"), 1);
}

static void test_fs_copyfile(void **state)
{
  (void)state;
  put_str("src.txt", "source");
  CHECK(cairn_fs_copyfile(suite.fs, P("src.txt"), P("dst.txt"), 0));
  assert_string_equal(get_str("dst.txt", NULL), "source");
  assert_string_equal(get_str("src.txt", NULL), "source");

  put_str("other.txt", "other");
  EXPECT(cairn_fs_copyfile(suite.fs, P("other.txt"), P("dst.txt"), 0),
         CAIRN_EEXISTS);
  message_has("dst.txt");
  assert_string_equal(get_str("dst.txt", NULL), "source");
  CHECK(cairn_fs_copyfile(suite.fs, P("other.txt"), P("dst.txt"), 1));
  assert_string_equal(get_str("dst.txt", NULL), "other");

  CHECK(cairn_fs_makedirs(suite.fs, P("sub")));
  CHECK(cairn_fs_copyfile(suite.fs, P("src.txt"), P("sub/copy.txt"), 0));
  assert_string_equal(get_str("sub/copy.txt", NULL), "source");

  EXPECT(cairn_fs_copyfile(suite.fs, P("none.txt"), P("x.txt"), 0),
         CAIRN_ENOTFOUND);
  message_has("none.txt");
  EXPECT(cairn_fs_copyfile(suite.fs, P("sub"), P("x.txt"), 0),
         CAIRN_EINVAL);
  EXPECT(cairn_fs_copyfile(suite.fs, P("src.txt"), P("sub"), 1),
         CAIRN_EINVAL);
  EXPECT(cairn_fs_copyfile(suite.fs, P("src.txt"), P("src.txt"), 1),
         CAIRN_EINVAL);
  assert_int_equal(exists("x.txt"), 0);
}

static void test_fs_rename(void **state)
{
  (void)state;
  put_str("a.txt", "A");
  CHECK(cairn_fs_rename(suite.fs, P("a.txt"), P("b.txt"), 0));
  assert_int_equal(exists("a.txt"), 0);
  assert_string_equal(get_str("b.txt", NULL), "A");

  put_str("c.txt", "C");
  EXPECT(cairn_fs_rename(suite.fs, P("c.txt"), P("b.txt"), 0),
         CAIRN_EEXISTS);
  message_has("b.txt");
  assert_string_equal(get_str("b.txt", NULL), "A");
  assert_string_equal(get_str("c.txt", NULL), "C");
  CHECK(cairn_fs_rename(suite.fs, P("c.txt"), P("b.txt"), 1));
  assert_string_equal(get_str("b.txt", NULL), "C");
  assert_int_equal(exists("c.txt"), 0);

  CHECK(cairn_fs_makedirs(suite.fs, P("d")));
  CHECK(cairn_fs_rename(suite.fs, P("b.txt"), P("d/b.txt"), 0));
  assert_string_equal(ls(""), "d");
  assert_string_equal(ls("d"), "b.txt");
  EXPECT(cairn_fs_rename(suite.fs, P("zzz"), P("y"), 1), CAIRN_ENOTFOUND);
  EXPECT(cairn_fs_rename(suite.fs, P("d"), P("e"), 1), CAIRN_EINVAL);
  EXPECT(cairn_fs_rename(suite.fs, P("d/b.txt"), P("d"), 1), CAIRN_EINVAL);
}

static void test_fs_rmtree(void **state)
{
  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("t/b")));
  CHECK(cairn_fs_makedirs(suite.fs, P("t/empty")));
  put_str("t/b/c.txt", "c");
  put_str("t/d.txt", "d");
  put_str("t.txt", "sibling file");
  CHECK(cairn_fs_makedirs(suite.fs, P("t1")));
  put_str("t1/x", "sibling dir");

  CHECK(cairn_fs_rmtree(suite.fs, P("t")));
  assert_int_equal(exists("t"), 0);
  assert_int_equal(exists("t/b/c.txt"), 0);
  assert_int_equal(exists("t/empty"), 0);
  assert_string_equal(ls(""), "t.txt,t1");
  assert_string_equal(get_str("t1/x", NULL), "sibling dir");

  EXPECT(cairn_fs_rmtree(suite.fs, P("t")), CAIRN_ENOTFOUND);
  message_has("t");
  EXPECT(cairn_fs_rmtree(suite.fs, P("t.txt")), CAIRN_EINVAL);
  assert_int_equal(exists("t.txt"), 1);
}

/* ------------------------------------------------------------------ */
/* Walk and glob                                                       */
/* ------------------------------------------------------------------ */

struct walk_log {
  char text[4096];
  size_t root_len;
  int stop_at;
  int calls;
};

static int walk_cb(const char *dirpath, const cairn_fs_list *dirs,
                   const cairn_fs_list *files, void *payload)
{
  struct walk_log *w = payload;
  size_t i;
  char *t = w->text + strlen(w->text);
  size_t left = sizeof(w->text) - strlen(w->text);
  int n;

  n = snprintf(t, left, "%s:", strlen(dirpath) > w->root_len
                                   ? dirpath + w->root_len + 1
                                   : ".");
  t += n;
  left -= (size_t)n;
  for (i = 0; i < dirs->count; i++) {
    n = snprintf(t, left, "%s%s/", i ? "," : "", dirs->items[i]);
    t += n;
    left -= (size_t)n;
  }
  n = snprintf(t, left, "|");
  t += n;
  left -= (size_t)n;
  for (i = 0; i < files->count; i++) {
    n = snprintf(t, left, "%s%s", i ? "," : "", files->items[i]);
    t += n;
    left -= (size_t)n;
  }
  snprintf(t, left, ";");
  w->calls++;
  return w->calls == w->stop_at ? 42 : 0;
}

static void test_fs_walk(void **state)
{
  struct walk_log w;

  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("a/b")));
  CHECK(cairn_fs_makedirs(suite.fs, P("a/empty")));
  CHECK(cairn_fs_makedirs(suite.fs, P("z")));
  put_str("c.txt", "c");
  put_str("a/f1", "1");
  put_str("a/f0", "0");
  put_str("a/b/f2", "2");
  put_str("z/zz", "z");

  memset(&w, 0, sizeof(w));
  w.root_len = strlen(cairn_fs_root(suite.fs));
  CHECK(cairn_fs_walk(suite.fs, P(""), walk_cb, &w));
  assert_string_equal(w.text, ".:a/,z/|c.txt;"
                              "a:b/,empty/|f0,f1;"
                              "a/b:|f2;"
                              "a/empty:|;"
                              "z:|zz;");

  memset(&w, 0, sizeof(w));
  w.root_len = strlen(cairn_fs_root(suite.fs));
  CHECK(cairn_fs_walk(suite.fs, P("a/b"), walk_cb, &w));
  assert_string_equal(w.text, "a/b:|f2;");

  /* The callback stops the walk; its value comes back. */
  memset(&w, 0, sizeof(w));
  w.root_len = strlen(cairn_fs_root(suite.fs));
  w.stop_at = 2;
  assert_int_equal(cairn_fs_walk(suite.fs, P(""), walk_cb, &w), 42);
  assert_int_equal(w.calls, 2);

  EXPECT(cairn_fs_walk(suite.fs, P("nope"), walk_cb, &w), CAIRN_ENOTFOUND);
  EXPECT(cairn_fs_walk(suite.fs, P("c.txt"), walk_cb, &w), CAIRN_EINVAL);
}

static void test_fs_glob(void **state)
{
  static const char *files[] = {"a.txt", "b.txt", "c.csv", "x1.txt",
                                "x2.txt", "xa.txt", "d/e.txt",
                                "d/f/g.txt", "d/f/h.csv", "d/f/i/j.txt"};
  cairn_fs_list l = {0};
  size_t i;

  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("d/f/i")));
  CHECK(cairn_fs_makedirs(suite.fs, P("d/empty")));
  for (i = 0; i < sizeof(files) / sizeof(*files); i++)
    put_str(files[i], files[i]);

  assert_string_equal(glob_rel("/*.txt"),
                      "a.txt,b.txt,x1.txt,x2.txt,xa.txt");
  assert_string_equal(glob_rel("/?.txt"), "a.txt,b.txt");
  assert_string_equal(glob_rel("/x[0-9].txt"), "x1.txt,x2.txt");
  assert_string_equal(glob_rel("/x[!0-9].txt"), "xa.txt");
  assert_string_equal(glob_rel("/[ab].*"), "a.txt,b.txt");
  assert_string_equal(glob_rel("/d/*"), "d/e.txt,d/empty,d/f");
  assert_string_equal(glob_rel("/*/*.txt"), "d/e.txt");
  assert_string_equal(glob_rel("/**/*.csv"), "c.csv,d/f/h.csv");
  assert_string_equal(glob_rel("/d/**/*.txt"),
                      "d/e.txt,d/f/g.txt,d/f/i/j.txt");
  assert_string_equal(glob_rel("/d/**/j.txt"), "d/f/i/j.txt");
  assert_string_equal(glob_rel("/d/f/**"), "d/f/g.txt,d/f/h.csv,d/f/i,"
                                           "d/f/i/j.txt");
  assert_string_equal(glob_rel("/**/i"), "d/f/i");
  assert_string_equal(glob_rel("/a.txt"), "a.txt");
  assert_string_equal(glob_rel("/d"), "d");
  assert_string_equal(glob_rel("/missing.txt"), "");
  assert_string_equal(glob_rel("/missing/*"), "");
  assert_string_equal(glob_rel("/a.txt/*"), "");
  assert_string_equal(glob_rel("/*.parquet"), "");

  /* Results are full paths. */
  CHECK(cairn_fs_glob(suite.fs, RAW("/?.csv"), &l));
  assert_int_equal(l.count, 1);
  assert_string_equal(l.items[0], P("c.csv"));
  cairn_fs_list_dispose(&l);

  EXPECT(cairn_fs_glob(suite.fs, RAW("/../*"), &l), CAIRN_EPERM);
  EXPECT(cairn_fs_glob(suite.fs, RAW("base/*"), &l), CAIRN_EPERM);
  assert_int_equal(l.count, 0);
}

/* ------------------------------------------------------------------ */
/* Names and paths                                                     */
/* ------------------------------------------------------------------ */

static void test_fs_odd_names(void **state)
{
  static const char *names[] = {
      "100%.txt", "a b+c%20.txt", "a+b.txt", "q=1&x.txt", "r#1.txt",
      "with space.txt", "\xc3\xbcnic\xc3\xb6" "de.txt"};
  char expect[512] = "";
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
    put_str(names[i], names[i]);
    if (i)
      strcat(expect, ",");
    strcat(expect, names[i]);
  }
  assert_string_equal(ls(""), expect);
  for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
    assert_string_equal(get_str(names[i], NULL), names[i]);
    assert_int_equal(exists(names[i]), 1);
  }
  CHECK(cairn_fs_makedirs(suite.fs, P("dir with space/+%#")));
  put_str("dir with space/+%#/f", "deep");
  assert_string_equal(ls("dir with space"), "+%#");
  assert_string_equal(get_str("dir with space/+%#/f", NULL), "deep");
  assert_string_equal(glob_rel("/dir with space/*/f"),
                      "dir with space/+%#/f");
}

static void test_fs_zero_byte(void **state)
{
  cairn_fs_file *f = NULL;
  cairn_fs_info st;
  char sha[65];
  size_t len = 9;

  (void)state;
  CHECK(cairn_fs_open(&f, suite.fs, P("empty"), "w"));
  CHECK(cairn_fs_close(f));
  assert_int_equal(exists("empty"), 1);
  assert_int_equal(isdir("empty"), 0);
  CHECK(cairn_fs_stat(suite.fs, P("empty"), &st));
  assert_int_equal(st.type, CAIRN_FS_FILE);
  assert_int_equal(st.size, 0);
  assert_string_equal(get_str("empty", &len), "");
  assert_int_equal(len, 0);
  assert_string_equal(ls(""), "empty");

  local_write(L("zero"), "", 0);
  CHECK(cairn_fs_put_file(suite.fs, L("zero"), P("zero2"), sha));
  assert_string_equal(sha, "e3b0c44298fc1c149afbf4c8996fb924"
                           "27ae41e4649b934ca495991b7852b855");
  CHECK(cairn_fs_get_file(suite.fs, P("zero2"), L("zero3"), sha));
  local_same(L("zero"), L("zero3"));
}

static void test_fs_paths(void **state)
{
  char *p;

  (void)state;
  p = cairn_fs_path(suite.fs, "a//b/");
  assert_non_null(p);
  assert_string_equal(p, RAW("/a/b"));
  free(p);
  p = cairn_fs_path(suite.fs, "a\\b\\c");
  assert_string_equal(p, RAW("/a/b/c"));
  free(p);
  p = cairn_fs_path(suite.fs, "");
  assert_string_equal(p, cairn_fs_root(suite.fs));
  free(p);
  p = cairn_fs_path(suite.fs, "x/./y/../z");
  assert_string_equal(p, RAW("/x/z"));
  free(p);
  assert_null(cairn_fs_path(suite.fs, "../out"));
  assert_int_equal(cairn_error_last()->code, CAIRN_EPERM);

  /* Messy spellings reach the same file. */
  CHECK(cairn_fs_makedirs(suite.fs, RAW("//n\\m/")));
  put_bytes("n/m/f", "nm", 2);
  assert_string_equal(get_str("n//m/./f", NULL), "nm");
  assert_int_equal(isdir("n/m"), 1);
  assert_string_equal(ls("n"), "m");
}

static void test_fs_confinement(void **state)
{
  cairn_fs_file *f = NULL;
  cairn_fs_list l = {0};
  cairn_fs_info st;
  const char *up = RAW("/../x");
  const char *sibling = RAW("base/x");
  const char *climb = RAW("/a/../../x");
  const char *bad[3];
  char sha[65];
  int out = 7;
  size_t i;

  (void)state;
  bad[0] = up;
  bad[1] = sibling;
  bad[2] = climb;
  put_str("inside.txt", "in");
  local_write(L("local.txt"), "loc", 3);

  for (i = 0; i < 3; i++) {
    EXPECT(cairn_fs_exists(suite.fs, bad[i], &out), CAIRN_EPERM);
    message_has(bad[i]);
    message_has(cairn_fs_root(suite.fs));
    EXPECT(cairn_fs_isdir(suite.fs, bad[i], &out), CAIRN_EPERM);
    EXPECT(cairn_fs_open(&f, suite.fs, bad[i], "w"), CAIRN_EPERM);
    assert_null(f);
    EXPECT(cairn_fs_open(&f, suite.fs, bad[i], "r"), CAIRN_EPERM);
    EXPECT(cairn_fs_listdir(suite.fs, bad[i], &l), CAIRN_EPERM);
    EXPECT(cairn_fs_mkdir(suite.fs, bad[i]), CAIRN_EPERM);
    EXPECT(cairn_fs_makedirs(suite.fs, bad[i]), CAIRN_EPERM);
    EXPECT(cairn_fs_remove(suite.fs, bad[i]), CAIRN_EPERM);
    EXPECT(cairn_fs_rmtree(suite.fs, bad[i]), CAIRN_EPERM);
    EXPECT(cairn_fs_stat(suite.fs, bad[i], &st), CAIRN_EPERM);
    EXPECT(cairn_fs_copyfile(suite.fs, P("inside.txt"), bad[i], 1),
           CAIRN_EPERM);
    EXPECT(cairn_fs_rename(suite.fs, P("inside.txt"), bad[i], 1),
           CAIRN_EPERM);
    EXPECT(cairn_fs_put_file(suite.fs, L("local.txt"), bad[i], sha),
           CAIRN_EPERM);
    EXPECT(cairn_fs_put_tree(suite.fs, suite.scratch, bad[i], NULL),
           CAIRN_EPERM);
    EXPECT(cairn_fs_get_file(suite.fs, bad[i], L("got"), sha),
           CAIRN_EPERM);
  }
  assert_string_equal(get_str("inside.txt", NULL), "in");

  /* ".." that stays inside is fine. */
  CHECK(cairn_fs_exists(suite.fs, RAW("/a/../inside.txt"), &out));
  assert_int_equal(out, 1);
  /* The root itself is inside. */
  CHECK(cairn_fs_exists(suite.fs, cairn_fs_root(suite.fs), &out));
  assert_int_equal(out, 1);
  CHECK(cairn_fs_exists(suite.fs, RAW("/"), &out));
  assert_int_equal(out, 1);
}

/* ------------------------------------------------------------------ */
/* Transfers                                                           */
/* ------------------------------------------------------------------ */

static void test_fs_put_get_file(void **state)
{
  char sha_put[65], sha_get[65], sha_src[65];
  uint64_t size;

  (void)state;
  local_random(L("src.bin"), 3 * 1024 * 1024 + 17, 11);
  CHECK(cairn_sha256_file_hex(sha_src, L("src.bin")));

  CHECK(cairn_fs_put_file(suite.fs, L("src.bin"), P("up.bin"), sha_put));
  assert_string_equal(sha_put, sha_src);
  CHECK(cairn_fs_size(suite.fs, P("up.bin"), &size));
  assert_int_equal(size, 3 * 1024 * 1024 + 17);

  /* Create-only. */
  local_write(L("other"), "other", 5);
  EXPECT(cairn_fs_put_file(suite.fs, L("other"), P("up.bin"), NULL),
         CAIRN_EEXISTS);
  message_has("up.bin");
  CHECK(cairn_fs_size(suite.fs, P("up.bin"), &size));
  assert_int_equal(size, 3 * 1024 * 1024 + 17);

  CHECK(cairn_fs_get_file(suite.fs, P("up.bin"), L("down.bin"), sha_get));
  assert_string_equal(sha_get, sha_src);
  local_same(L("src.bin"), L("down.bin"));
  /* get_file replaces a local file. */
  CHECK(cairn_fs_get_file(suite.fs, P("up.bin"), L("other"), NULL));
  local_same(L("src.bin"), L("other"));

  EXPECT(cairn_fs_put_file(suite.fs, L("no-such"), P("x"), NULL),
         CAIRN_ENOTFOUND);
  message_has("no-such");
  EXPECT(cairn_fs_get_file(suite.fs, P("no-such"), L("x"), NULL),
         CAIRN_ENOTFOUND);
  message_has("no-such");
  CHECK(cairn_fs_mkdir(suite.fs, P("dir")));
  EXPECT(cairn_fs_get_file(suite.fs, P("dir"), L("x"), NULL),
         CAIRN_EINVAL);
  EXPECT(cairn_fs_put_file(suite.fs, suite.scratch, P("y"), NULL),
         CAIRN_EINVAL);
  assert_int_equal(exists("x"), 0);
  assert_int_equal(exists("y"), 0);
}

static void test_fs_put_get_tree(void **state)
{
  static const char *rels[] = {"a.txt", "sub/b.bin", "sub/deeper/c.txt",
                               "zero"};
  cairn_fs_tree tree = {0}, back = {0};
  char sha[65];
  size_t i;

  (void)state;
  assert_int_equal(mkdir(L("top"), 0777), 0);
  assert_int_equal(mkdir(L("top/sub"), 0777), 0);
  assert_int_equal(mkdir(L("top/sub/deeper"), 0777), 0);
  assert_int_equal(mkdir(L("top/empty"), 0777), 0);
  local_write(L("top/a.txt"), "alpha", 5);
  local_random(L("top/sub/b.bin"), 1024 * 1024 + 5, 3);
  local_write(L("top/sub/deeper/c.txt"), "gamma", 5);
  local_write(L("top/zero"), "", 0);

  CHECK(cairn_fs_put_tree(suite.fs, L("top"), P("stored/v1"), &tree));
  assert_int_equal(tree.count, 4);
  for (i = 0; i < 4; i++) {
    char *lp = NULL;

    assert_string_equal(tree.items[i].rel, rels[i]);
    assert_true(asprintf(&lp, "%s/top/%s", suite.scratch, rels[i]) > 0);
    CHECK(cairn_sha256_file_hex(sha, lp));
    assert_string_equal(tree.items[i].sha256, sha);
    free(lp);
  }
  assert_int_equal(tree.items[1].size, 1024 * 1024 + 5);
  assert_int_equal(tree.items[3].size, 0);
  assert_string_equal(ls("stored/v1"), "a.txt,empty,sub,zero");
  assert_int_equal(isdir("stored/v1/empty"), 1);
  assert_string_equal(get_str("stored/v1/sub/deeper/c.txt", NULL), "gamma");

  EXPECT(cairn_fs_put_tree(suite.fs, L("top"), P("stored/v1"), NULL),
         CAIRN_EEXISTS);
  EXPECT(cairn_fs_put_tree(suite.fs, L("nothing"), P("stored/v2"), NULL),
         CAIRN_ENOTFOUND);
  EXPECT(cairn_fs_put_tree(suite.fs, L("top/a.txt"), P("stored/v3"), NULL),
         CAIRN_EINVAL);
  assert_int_equal(exists("stored/v2"), 0);
  assert_int_equal(exists("stored/v3"), 0);

  CHECK(cairn_fs_get_tree(suite.fs, P("stored/v1"), L("out/copy"), &back));
  assert_int_equal(back.count, 4);
  for (i = 0; i < 4; i++) {
    assert_string_equal(back.items[i].rel, rels[i]);
    assert_string_equal(back.items[i].sha256, tree.items[i].sha256);
    assert_int_equal(back.items[i].size, tree.items[i].size);
  }
  local_same(L("top/a.txt"), L("out/copy/a.txt"));
  local_same(L("top/sub/b.bin"), L("out/copy/sub/b.bin"));
  local_same(L("top/sub/deeper/c.txt"), L("out/copy/sub/deeper/c.txt"));
  local_same(L("top/zero"), L("out/copy/zero"));
  {
    struct stat st;

    assert_int_equal(stat(L("out/copy/empty"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
  }
  EXPECT(cairn_fs_get_tree(suite.fs, P("stored/none"), L("out/x"), NULL),
         CAIRN_ENOTFOUND);
  EXPECT(cairn_fs_get_tree(suite.fs, P("stored/v1/a.txt"), L("out/y"),
                           NULL),
         CAIRN_EINVAL);
  cairn_fs_tree_dispose(&tree);
  cairn_fs_tree_dispose(&back);
  assert_null(tree.items);
}

static void test_fs_object(void **state)
{
  (void)state;
  assert_string_equal(cairn_fs_flavor(suite.fs),
                      suite.azure ? "azure" : "local");
  assert_true(strlen(cairn_fs_root(suite.fs)) > 0);
  assert_true(cairn_fs_root(suite.fs)[strlen(cairn_fs_root(suite.fs)) -
                                      1] != '/');
  cairn_fs_free(NULL);
  cairn_fs_list_dispose(NULL);
  cairn_fs_tree_dispose(NULL);
}

/* ------------------------------------------------------------------ */
/* Field cases: names, slashes, dots, empty files, many entries        */
/* ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names users keep reporting: signing, URL encoding, listing. */
static const char *const field_names[] = {
    "a b.txt", "k@v!(1);2,3*'.txt", "\xc3\xa9 \xc3\xbc.txt", "q?.txt",
    "r#1.txt", "100%.txt", "a%20b.txt", "a+b.txt", "a b+c%20.txt",
    "x&y=1.txt", "(paren) [sq] {br}.txt"};
#define FIELD_COUNT (sizeof(field_names) / sizeof(field_names[0]))

static const char *under(const char *dir, const char *name)
{
  char *s = NULL;

  assert_true(asprintf(&s, "%s/%s", dir, name) > 0);
  return keep(s);
}

/* Count the entries of a listing or glob. */
static size_t count_glob(const char *pattern)
{
  cairn_fs_list l = {0};
  size_t n;

  CHECK(cairn_fs_glob(suite.fs, RAW(pattern), &l));
  n = l.count;
  cairn_fs_list_dispose(&l);
  return n;
}

static void test_fs_field_names(void **state)
{
  const char *sorted[FIELD_COUNT + 1];
  char expect[1024] = "", sha[65], got_sha[65];
  uint64_t size;
  size_t i;

  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("b16/x=1")));
  CHECK(cairn_fs_makedirs(suite.fs, P("copy/x=1")));
  CHECK(cairn_fs_makedirs(suite.fs, P("moved/up")));
  for (i = 0; i < FIELD_COUNT; i++)
    put_str(under("b16", field_names[i]), field_names[i]);
  put_str("b16/x=1/y.txt", "y");

  /* listed names equal the inputs byte for byte */
  for (i = 0; i < FIELD_COUNT; i++)
    sorted[i] = field_names[i];
  sorted[FIELD_COUNT] = "x=1";
  qsort(sorted, FIELD_COUNT + 1, sizeof(*sorted), cmp_str);
  for (i = 0; i < FIELD_COUNT + 1; i++) {
    if (i)
      strcat(expect, ",");
    strcat(expect, sorted[i]);
  }
  assert_string_equal(ls("b16"), expect);
  assert_string_equal(ls("b16/x=1"), "y.txt");

  /* glob: '?' and '*' in a name are matched like any character */
  assert_int_equal(count_glob("/b16/*"), FIELD_COUNT + 1);
  assert_int_equal(count_glob("/b16/*.txt"), FIELD_COUNT);
  assert_string_equal(glob_rel("/b16/q?.txt"), "b16/q?.txt");
  assert_string_equal(glob_rel("/b16/[kq]*"),
                      "b16/k@v!(1);2,3*'.txt,b16/q?.txt");
  assert_string_equal(glob_rel("/b16/**/y.txt"), "b16/x=1/y.txt");
  assert_string_equal(glob_rel("/b16/100%.txt"), "b16/100%.txt");

  for (i = 0; i < FIELD_COUNT; i++) {
    const char *name = field_names[i];
    const char *src = under("b16", name), *dst = under("copy", name);

    /* read back */
    assert_string_equal(get_str(src, NULL), name);
    assert_int_equal(exists(src), 1);
    assert_int_equal(isdir(src), 0);
    CHECK(cairn_fs_size(suite.fs, P(src), &size));
    assert_int_equal(size, strlen(name));

    /* server-side copy, then the overwrite rules */
    CHECK(cairn_fs_copyfile(suite.fs, P(src), P(dst), 0));
    assert_string_equal(get_str(dst, NULL), name);
    EXPECT(cairn_fs_copyfile(suite.fs, P(src), P(dst), 0), CAIRN_EEXISTS);
    message_has(name);
    CHECK(cairn_fs_copyfile(suite.fs, P(src), P(dst), 1));

    /* rename: copy and delete */
    CHECK(cairn_fs_rename(suite.fs, P(dst), P(under("moved", name)), 0));
    assert_int_equal(exists(dst), 0);
    assert_string_equal(get_str(under("moved", name), NULL), name);
    put_str(dst, "again");
    EXPECT(cairn_fs_rename(suite.fs, P(dst), P(under("moved", name)), 0),
           CAIRN_EEXISTS);
    assert_string_equal(get_str(dst, NULL), "again");
    CHECK(cairn_fs_rename(suite.fs, P(dst), P(under("moved", name)), 1));
    assert_string_equal(get_str(under("moved", name), NULL), "again");

    /* to a local file and back */
    CHECK(cairn_fs_get_file(suite.fs, P(src), L(name), sha));
    CHECK(cairn_sha256_file_hex(got_sha, L(name)));
    assert_string_equal(sha, got_sha);
    CHECK(cairn_fs_put_file(suite.fs, L(name), P(under("moved/up", name)),
                            NULL));
    assert_string_equal(get_str(under("moved/up", name), NULL), name);
  }
  CHECK(cairn_fs_copyfile(suite.fs, P("b16/x=1/y.txt"),
                          P("copy/x=1/y.txt"), 0));
  assert_string_equal(ls("copy"), "x=1");
  assert_int_equal(count_glob("/moved/*"), FIELD_COUNT + 1);
  assert_int_equal(count_glob("/moved/up/*"), FIELD_COUNT);
}

/* Trailing and doubled separators name the same thing, with no leaks. */
static void test_fs_slashes(void **state)
{
  cairn_fs_list l = {0};
  cairn_fs_info st;
  struct walk_log w;
  int out = -1;

  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("folder")));
  CHECK(cairn_fs_makedirs(suite.fs, P("folder1")));
  CHECK(cairn_fs_makedirs(suite.fs, P("folder2")));
  put_str("folder/a", "a");
  put_str("folder1/b", "b");
  put_str("folder2/c", "c");

  CHECK(cairn_fs_listdir(suite.fs, RAW("//folder///"), &l));
  assert_string_equal(joined(&l, NULL), "a");
  cairn_fs_list_dispose(&l);
  CHECK(cairn_fs_exists(suite.fs, RAW("/folder/"), &out));
  assert_int_equal(out, 1);
  CHECK(cairn_fs_isdir(suite.fs, RAW("/folder//"), &out));
  assert_int_equal(out, 1);
  CHECK(cairn_fs_stat(suite.fs, RAW("//folder//a"), &st));
  assert_int_equal(st.type, CAIRN_FS_FILE);
  assert_int_equal(st.size, 1);
  assert_string_equal(get_str("folder//a", NULL), "a");
  assert_string_equal(glob_rel("//folder//*"), "folder/a");
  assert_string_equal(glob_rel("/folder/"), "folder");

  memset(&w, 0, sizeof(w));
  w.root_len = strlen(cairn_fs_root(suite.fs));
  CHECK(cairn_fs_walk(suite.fs, RAW("/folder//"), walk_cb, &w));
  assert_string_equal(w.text, "folder:|a;");

  /* removing "folder1/" leaves "folder" and "folder2" alone */
  CHECK(cairn_fs_rmtree(suite.fs, RAW("/folder1/")));
  assert_string_equal(ls(""), "folder,folder2");
  assert_string_equal(ls("folder2"), "c");
  CHECK(cairn_fs_remove(suite.fs, RAW("/folder2//c")));
  assert_string_equal(ls("folder2"), "");
}

/* A name or a part ending in '.' is refused before anything is stored. */
/*
 * A local tree holding file @p bad (at most one folder deep) beside a good
 * file is refused whole, with @p says in the message, storing nothing.
 */
static void tree_refused(const char *bad, const char *says)
{
  const char *slash = strchr(bad, '/');
  char rel[256];

  assert_int_equal(mkdir(L("tree"), 0777), 0);
  if (slash) {
    snprintf(rel, sizeof(rel), "tree/%.*s", (int)(slash - bad), bad);
    assert_int_equal(mkdir(L(rel), 0777), 0);
  }
  local_write(L("tree/good.txt"), "g", 1);
  snprintf(rel, sizeof(rel), "tree/%s", bad);
  local_write(L(rel), "b", 1);
  EXPECT(cairn_fs_put_tree(suite.fs, L("tree"), P("stored"), NULL),
         CAIRN_EINVAL);
  message_has(says);
  assert_int_equal(exists("stored"), 0);
}

static void test_fs_trailing_dot(void **state)
{
  static const char *bad[] = {"out/file.", "out./z", "a/b../c", "...",
                              "dir./"};
  cairn_fs_file *f = NULL;
  cairn_fs_info st;
  size_t i;
  int out = 7;
  char *url = NULL;

  (void)state;
  put_str("ok.txt", "ok");
  CHECK(cairn_fs_makedirs(suite.fs, P("out")));
  local_write(L("local"), "l", 1);
  for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    const char *p = RAW(under("", bad[i]));

    EXPECT(cairn_fs_open(&f, suite.fs, p, "w"), CAIRN_EINVAL);
    message_has("'.'");
    assert_null(f);
    EXPECT(cairn_fs_open(&f, suite.fs, p, "r"), CAIRN_EINVAL);
    EXPECT(cairn_fs_exists(suite.fs, p, &out), CAIRN_EINVAL);
    EXPECT(cairn_fs_stat(suite.fs, p, &st), CAIRN_EINVAL);
    EXPECT(cairn_fs_mkdir(suite.fs, p), CAIRN_EINVAL);
    EXPECT(cairn_fs_makedirs(suite.fs, p), CAIRN_EINVAL);
    EXPECT(cairn_fs_copyfile(suite.fs, P("ok.txt"), p, 1), CAIRN_EINVAL);
    EXPECT(cairn_fs_rename(suite.fs, P("ok.txt"), p, 1), CAIRN_EINVAL);
    EXPECT(cairn_fs_put_file(suite.fs, L("local"), p, NULL), CAIRN_EINVAL);
    EXPECT(cairn_fs_presign(&url, suite.fs, p, 60), CAIRN_EINVAL);
    assert_null(url);
  }
  EXPECT(cairn_fs_open(&f, suite.fs, RAW("/out/file."), "w"), CAIRN_EINVAL);
  message_has("out/file.");
  /* a path built for such a name is refused too */
  assert_null(cairn_fs_path(suite.fs, "out/file."));
  assert_int_equal(cairn_error_last()->code, CAIRN_EINVAL);

  tree_refused("bad.", "bad.");

  /* dots elsewhere are fine */
  put_str(".hidden", "h");
  CHECK(cairn_fs_makedirs(suite.fs, P("v1.0")));
  put_str("v1.0/x.y.z", "v");
  assert_string_equal(get_str("v1.0/x.y.z", NULL), "v");
  assert_string_equal(ls(""), ".hidden,ok.txt,out,v1.0");
  assert_string_equal(ls("out"), "");
}

/*
 * A backslash is '/' in store paths, as on Azure: a local folder with one
 * in a name could not come back as it was, and is refused whole.
 */
static void test_fs_backslash_in_tree(void **state)
{
  (void)state;
  tree_refused("sub/a\\b", "sub/a\\b' has a '\\'");

  /* a path given to the store reads it as '/' */
  CHECK(cairn_fs_makedirs(suite.fs, P("x")));
  put_str("x\\y", "xy");
  assert_string_equal(ls("x"), "y");
  assert_string_equal(get_str("x/y", NULL), "xy");
}

struct scribbler {
  const char *path;
  volatile int stop;
};

/* Overwrite one byte of a file every millisecond until told to stop. */
static void *scribble(void *arg)
{
  struct scribbler *sc = arg;
  int fd = open(sc->path, O_WRONLY | O_CLOEXEC);
  unsigned char b = 0;
  int i;

  /* bounded: at most 20 s */
  for (i = 0; fd >= 0 && !sc->stop && i < 20000; i++) {
    b++;
    if (pwrite(fd, &b, 1, (off_t)(i % 4096) * 4096) != 1)
      break;
    usleep(1000);
  }
  if (fd >= 0)
    close(fd);
  return NULL;
}

/*
 * A file written to while it is stored is refused: what was stored and
 * the SHA-256 recorded for it could describe different bytes.
 */
static void test_fs_put_changing_file(void **state)
{
  struct scribbler sc = {NULL, 0};
  char sha[65];
  pthread_t t;
  int error;

  (void)state;
  local_random(L("moving.bin"), 48u << 20, 5);
  sc.path = L("moving.bin");
  assert_int_equal(pthread_create(&t, NULL, scribble, &sc), 0);
  error = cairn_fs_put_file(suite.fs, sc.path, P("moving.bin"), sha);
  sc.stop = 1;
  pthread_join(t, NULL);
  assert_int_equal(error, CAIRN_EIO);
  message_has("changed while being read");
  assert_int_equal(exists("moving.bin"), 0);

  /* left alone, it is stored, with the SHA-256 of what is stored */
  CHECK(cairn_fs_put_file(suite.fs, L("moving.bin"), P("moving.bin"), sha));
  CHECK(cairn_fs_get_file(suite.fs, P("moving.bin"), L("back.bin"), NULL));
  local_same(L("moving.bin"), L("back.bin"));
}

/* An empty file goes through every path, and is never asked a range. */
static void test_fs_empty_file_paths(void **state)
{
  cairn_fs_tree tree = {0};
  cairn_fs_file *f = NULL;
  struct stat lst;
  char buf[8];
  size_t n = 99;
  uint64_t size = 99;

  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("d/sub")));
  put_bytes("d/empty", "", 0);
  put_bytes("d/sub/also-empty", "", 0);
  put_str("d/full", "full");

  CHECK(cairn_fs_open(&f, suite.fs, P("d/empty"), "rb"));
  CHECK(cairn_fs_read(f, buf, sizeof(buf), &n));
  assert_int_equal(n, 0);
  CHECK(cairn_fs_read(f, buf, sizeof(buf), &n));
  assert_int_equal(n, 0);
  CHECK(cairn_fs_close(f));
  CHECK(cairn_fs_size(suite.fs, P("d/empty"), &size));
  assert_int_equal(size, 0);

  CHECK(cairn_fs_copyfile(suite.fs, P("d/empty"), P("d/copy"), 0));
  CHECK(cairn_fs_rename(suite.fs, P("d/copy"), P("d/moved"), 0));
  assert_string_equal(get_str("d/moved", NULL), "");
  assert_string_equal(ls("d"), "empty,full,moved,sub");

  CHECK(cairn_fs_get_tree(suite.fs, P("d"), L("out"), &tree));
  assert_int_equal(tree.count, 4);
  assert_string_equal(tree.items[0].rel, "empty");
  assert_int_equal(tree.items[0].size, 0);
  assert_string_equal(tree.items[3].rel, "sub/also-empty");
  cairn_fs_tree_dispose(&tree);
  assert_int_equal(stat(L("out/sub/also-empty"), &lst), 0);
  assert_true(S_ISREG(lst.st_mode));
  assert_int_equal(lst.st_size, 0);
}

/* A local tree of @p n files "f00000".. plus sub/s0..s2. */
static void make_many(const char *dir, size_t n)
{
  char path[512];
  size_t i;
  int fd;

  assert_int_equal(mkdir(dir, 0777), 0);
  for (i = 0; i < n; i++) {
    snprintf(path, sizeof(path), "%s/f%05zu", dir, i);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, path + strlen(dir) + 1, 6), 6);
    close(fd);
  }
  snprintf(path, sizeof(path), "%s/sub", dir);
  assert_int_equal(mkdir(path, 0777), 0);
  for (i = 0; i < 3; i++) {
    snprintf(path, sizeof(path), "%s/sub/s%zu", dir, i);
    local_write(path, "s", 1);
  }
}

struct walk_count {
  size_t dirs, files, calls;
};

static int count_cb(const char *dirpath, const cairn_fs_list *dirs,
                    const cairn_fs_list *files, void *payload)
{
  struct walk_count *c = payload;

  (void)dirpath;
  c->dirs += dirs->count;
  c->files += files->count;
  c->calls++;
  return 0;
}

/*
 * More entries than one listing page (5,000) holds: nothing is missed.
 * (Left out of FS_SUITE_BASE_TESTS, hence "unused" there.)
 */
__attribute__((unused)) static void test_fs_many_entries(void **state)
{
  const size_t n = 5100;
  cairn_fs_tree tree = {0};
  cairn_fs_list l = {0};
  struct walk_count c = {0, 0, 0};

  (void)state;
  make_many(L("many"), n);
  CHECK(cairn_fs_put_tree(suite.fs, L("many"), P("runs/many"), &tree));
  assert_int_equal(tree.count, n + 3);
  assert_string_equal(tree.items[n - 1].rel, "f05099");
  cairn_fs_tree_dispose(&tree);

  CHECK(cairn_fs_listdir(suite.fs, P("runs/many"), &l));
  assert_int_equal(l.count, n + 1);
  assert_string_equal(l.items[0], "f00000");
  assert_string_equal(l.items[n - 1], "f05099");
  assert_string_equal(l.items[n], "sub");
  cairn_fs_list_dispose(&l);

  CHECK(cairn_fs_walk(suite.fs, P("runs"), count_cb, &c));
  assert_int_equal(c.files, n + 3);
  assert_int_equal(c.dirs, 2);
  assert_int_equal(c.calls, 3);

  assert_int_equal(count_glob("/runs/many/*"), n + 1);
  assert_int_equal(count_glob("/runs/many/f0[0-4]*"), 5000);
  assert_int_equal(count_glob("/runs/many/f050??"), 100);
  assert_int_equal(count_glob("/runs/**"), n + 5);
  assert_string_equal(get_str("runs/many/f05099", NULL), "f05099");

  CHECK(cairn_fs_rmtree(suite.fs, P("runs/many")));
  assert_int_equal(exists("runs/many"), 0);
  assert_int_equal(exists("runs/many/f05099"), 0);
  assert_int_equal(count_glob("/runs/**"), 0);
}

/* ------------------------------------------------------------------ */
/* Metadata, streams, large writes, presigned URLs                     */
/* ------------------------------------------------------------------ */

static void test_fs_metadata(void **state)
{
  cairn_fs_metadata md = {0}, back = {0};
  cairn_fs_file *f = NULL;
  size_t i;
  int found = 0;

  (void)state;
  CHECK(cairn_azure_metadata_set(&md, "RunId", "42"));
  CHECK(cairn_azure_metadata_set(&md, "stepName", "train"));
  CHECK(cairn_azure_metadata_set(&md, "note", " two  spaces "));
  /* names differing only in case are one entry */
  CHECK(cairn_azure_metadata_set(&md, "runid", "43"));
  assert_int_equal(md.count, 3);
  assert_string_equal(cairn_azure_metadata_get(&md, "RUNID"), "43");

  CHECK(cairn_fs_open_with(&f, suite.fs, P("meta.txt"), "w", &md));
  CHECK(cairn_fs_write(f, "m", 1));
  CHECK(cairn_fs_close(f));
  CHECK(cairn_fs_read_metadata(suite.fs, P("meta.txt"), &back));
  assert_int_equal(back.count, 3);
  assert_string_equal(cairn_azure_metadata_get(&back, "runid"), "43");
  assert_string_equal(cairn_azure_metadata_get(&back, "STEPNAME"), "train");
  /* trimmed, and the inner run folded, as Shared Key signing does */
  assert_string_equal(cairn_azure_metadata_get(&back, "Note"),
                      "two spaces");
  for (i = 0; i < back.count; i++)
    found += strcmp(back.items[i].name, "stepName") == 0;
  assert_int_equal(found, 1);
  assert_string_equal(get_str("meta.txt", NULL), "m");
  cairn_azure_metadata_dispose(&back);

  /* a replacement carries its own metadata, none here */
  put_str("meta.txt", "n");
  CHECK(cairn_fs_read_metadata(suite.fs, P("meta.txt"), &back));
  assert_int_equal(back.count, 0);
  cairn_azure_metadata_dispose(&back);

  /* create-only writes and multi-block writes keep it too */
  {
    size_t big = 9 * 1024 * 1024 + 5;
    unsigned char *data = malloc(big);

    assert_non_null(data);
    fill(data, big, 5);
    CHECK(cairn_fs_open_with(&f, suite.fs, P("big-meta.bin"), "x", &md));
    CHECK(cairn_fs_write(f, data, big));
    CHECK(cairn_fs_close(f));
    free(data);
  }
  CHECK(cairn_fs_read_metadata(suite.fs, P("big-meta.bin"), &back));
  assert_string_equal(cairn_azure_metadata_get(&back, "stepname"), "train");
  cairn_azure_metadata_dispose(&back);

  /* the rules, the same on every flavor */
  EXPECT(cairn_azure_metadata_set(&md, "1abc", "x"), CAIRN_EINVAL);
  EXPECT(cairn_azure_metadata_set(&md, "a-b", "x"), CAIRN_EINVAL);
  EXPECT(cairn_azure_metadata_set(&md, "Hdi_IsFolder", "true"),
         CAIRN_EINVAL);
  EXPECT(cairn_azure_metadata_set(&md, "cairnsha256", "x"), CAIRN_EINVAL);
  EXPECT(cairn_azure_metadata_set(&md, "ok", "caf\xc3\xa9"), CAIRN_EINVAL);
  assert_int_equal(md.count, 3);
  EXPECT(cairn_fs_open_with(&f, suite.fs, P("meta.txt"), "r", &md),
         CAIRN_EINVAL);
  CHECK(cairn_fs_makedirs(suite.fs, P("dir")));
  EXPECT(cairn_fs_read_metadata(suite.fs, P("dir"), &back), CAIRN_EINVAL);
  EXPECT(cairn_fs_read_metadata(suite.fs, P("none"), &back),
         CAIRN_ENOTFOUND);
  cairn_azure_metadata_dispose(&md);
  assert_null(md.items);
}

struct feeder {
  int fd;
  const unsigned char *data;
  size_t len;
};

/* Write to a pipe in uneven pieces, as a producing program would. */
static void *feed(void *arg)
{
  struct feeder *fd = arg;
  size_t off = 0, n, step = 1;

  while (off < fd->len) {
    n = fd->len - off < step ? fd->len - off : step;
    if (write(fd->fd, fd->data + off, n) != (ssize_t)n)
      break;
    off += n;
    step = step * 3 + 1;
    if (step > 300000)
      step = 7;
  }
  close(fd->fd);
  return NULL;
}

/* Upload @p len bytes through a pipe to @p rel; returns the result. */
static int stream_through_pipe(const char *rel, const unsigned char *data,
                               size_t len, char sha[65])
{
  struct feeder fd;
  pthread_t t;
  int fds[2], error;

  assert_int_equal(pipe(fds), 0);
  fd.fd = fds[1];
  fd.data = data;
  fd.len = len;
  assert_int_equal(pthread_create(&t, NULL, feed, &fd), 0);
  error = cairn_fs_put_stream(suite.fs, fds[0], P(rel), sha);
  /* unblock a writer whose data was refused */
  close(fds[0]);
  pthread_join(t, NULL);
  return error;
}

static void test_fs_put_stream(void **state)
{
  size_t len = 9 * 1024 * 1024 + 77;
  unsigned char *data = malloc(len);
  unsigned char digest[CAIRN_SHA256_LEN];
  char sha[65], want[65];
  uint64_t size;
  int fds[2];
  char left[8];

  (void)state;
  assert_non_null(data);
  fill(data, len, 9);
  cairn_sha256_digest(digest, data, len);
  cairn_hex_encode(want, digest, sizeof(digest));

  CHECK(stream_through_pipe("stdin.bin", data, len, sha));
  assert_string_equal(sha, want);
  CHECK(cairn_fs_size(suite.fs, P("stdin.bin"), &size));
  assert_int_equal(size, len);
  CHECK(cairn_fs_get_file(suite.fs, P("stdin.bin"), L("back"), sha));
  assert_string_equal(sha, want);

  /* create-only: refused before a byte is read */
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(write(fds[1], "unread", 6), 6);
  close(fds[1]);
  EXPECT(cairn_fs_put_stream(suite.fs, fds[0], P("stdin.bin"), sha),
         CAIRN_EEXISTS);
  message_has("stdin.bin");
  assert_int_equal(read(fds[0], left, sizeof(left)), 6);
  close(fds[0]);

  /* an empty stream is an empty file */
  CHECK(stream_through_pipe("empty-stream", data, 0, sha));
  assert_string_equal(sha, "e3b0c44298fc1c149afbf4c8996fb924"
                           "27ae41e4649b934ca495991b7852b855");
  assert_string_equal(get_str("empty-stream", NULL), "");
  EXPECT(cairn_fs_put_stream(suite.fs, -1, P("x"), sha), CAIRN_EINVAL);
  free(data);
}

/* One write far larger than a block lands whole (split into blocks). */
static void test_fs_large_single_write(void **state)
{
  size_t len = 17 * 1024 * 1024 + 3;
  unsigned char *data = malloc(len);
  unsigned char digest[CAIRN_SHA256_LEN];
  cairn_fs_file *f = NULL;
  char sha[65], want[65];
  uint64_t size;

  (void)state;
  assert_non_null(data);
  fill(data, len, 17);
  cairn_sha256_digest(digest, data, len);
  cairn_hex_encode(want, digest, sizeof(digest));
  CHECK(cairn_fs_open(&f, suite.fs, P("one-write.bin"), "wb"));
  CHECK(cairn_fs_write(f, data, len));
  CHECK(cairn_fs_close(f));
  CHECK(cairn_fs_size(suite.fs, P("one-write.bin"), &size));
  assert_int_equal(size, len);
  CHECK(cairn_fs_get_file(suite.fs, P("one-write.bin"), L("one"), sha));
  assert_string_equal(sha, want);
  free(data);
}

static size_t fetch_sink(char *data, size_t size, size_t n, void *p)
{
  cairn_buf *b = p;

  return cairn_buf_put(b, data, size * n) < 0 ? 0 : size * n;
}

/* GET @p url with libcurl, as a user's browser or tool would. */
static long fetch(const char *url, cairn_buf *body)
{
  CURL *easy = curl_easy_init();
  long status = 0;
  CURLcode rc;

  assert_non_null(easy);
  cairn_buf_clear(body);
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, fetch_sink);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
  rc = curl_easy_perform(easy);
  if (rc != CURLE_OK)
    fail_msg("fetching %.*s: %s", (int)strcspn(url, "?"), url,
             curl_easy_strerror(rc));
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(easy);
  return status;
}

static void test_fs_presign(void **state)
{
  static const char *names[] = {"p/plain.txt", "p/r#1 q?.txt",
                                "p/100% a+b%20.txt",
                                "p/\xc3\xa9t\xc3\xa9.txt"};
  cairn_buf body = CAIRN_BUF_INIT;
  char *url = NULL;
  size_t i;
  long status;

  (void)state;
  CHECK(cairn_fs_makedirs(suite.fs, P("p")));
  for (i = 0; i < sizeof(names) / sizeof(*names); i++)
    put_str(names[i], names[i]);
  if (suite.sas) {
    /* a SAS cannot mint another SAS: refused, saying why */
    EXPECT(cairn_fs_presign(&url, suite.fs, P(names[0]), 600), CAIRN_EAUTH);
    message_has("key");
    assert_null(url);
    return;
  }
  for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
    CHECK(cairn_fs_presign(&url, suite.fs, P(names[i]), 600));
    /* the path is encoded once: no raw space, '#', '?' before the query */
    assert_null(memchr(url, ' ', strlen(url)));
    assert_null(memchr(url, '#', strlen(url)));
    status = fetch(url, &body);
    if (status != 200 && status != 0)
      fail_msg("GET %s: HTTP %ld", names[i], status);
    assert_string_equal(cairn_buf_cstr(&body), names[i]);
    free(url);
    url = NULL;
  }
  EXPECT(cairn_fs_presign(&url, suite.fs, P("p/none"), 600),
         CAIRN_ENOTFOUND);
  EXPECT(cairn_fs_presign(&url, suite.fs, P("p"), 600), CAIRN_EINVAL);
  EXPECT(cairn_fs_presign(&url, suite.fs, P(names[0]), 0), CAIRN_EINVAL);
  assert_null(url);
  cairn_buf_dispose(&body);
}

#define FS_SUITE_TEST(fn)                                                 \
  cmocka_unit_test_setup_teardown(fn, suite_setup, suite_teardown)

/*
 * Every test but the one with more than 5,000 files, for second runs of
 * the suite on the same server (that test takes a minute on Azurite).
 */
#define FS_SUITE_BASE_TESTS                                               \
  FS_SUITE_TEST(test_fs_object),                                          \
  FS_SUITE_TEST(test_fs_write_read_small),                                \
  FS_SUITE_TEST(test_fs_write_read_streamed),                             \
  FS_SUITE_TEST(test_fs_create_only),                                     \
  FS_SUITE_TEST(test_fs_abort_and_visibility),                            \
  FS_SUITE_TEST(test_fs_open_errors),                                     \
  FS_SUITE_TEST(test_fs_exists_isdir),                                    \
  FS_SUITE_TEST(test_fs_listdir),                                         \
  FS_SUITE_TEST(test_fs_listdir_errors),                                  \
  FS_SUITE_TEST(test_fs_listdir_no_sibling_leak),                         \
  FS_SUITE_TEST(test_fs_stat_size),                                       \
  FS_SUITE_TEST(test_fs_mkdir),                                           \
  FS_SUITE_TEST(test_fs_makedirs),                                        \
  FS_SUITE_TEST(test_fs_remove),                                          \
  FS_SUITE_TEST(test_fs_copyfile),                                        \
  FS_SUITE_TEST(test_fs_rename),                                          \
  FS_SUITE_TEST(test_fs_rmtree),                                          \
  FS_SUITE_TEST(test_fs_walk),                                            \
  FS_SUITE_TEST(test_fs_glob),                                            \
  FS_SUITE_TEST(test_fs_odd_names),                                       \
  FS_SUITE_TEST(test_fs_zero_byte),                                       \
  FS_SUITE_TEST(test_fs_paths),                                           \
  FS_SUITE_TEST(test_fs_confinement),                                     \
  FS_SUITE_TEST(test_fs_put_get_file),                                    \
  FS_SUITE_TEST(test_fs_put_get_tree),                                    \
  FS_SUITE_TEST(test_fs_field_names),                                     \
  FS_SUITE_TEST(test_fs_slashes),                                         \
  FS_SUITE_TEST(test_fs_trailing_dot),                                    \
  FS_SUITE_TEST(test_fs_backslash_in_tree),                               \
  FS_SUITE_TEST(test_fs_put_changing_file),                               \
  FS_SUITE_TEST(test_fs_empty_file_paths),                                \
  FS_SUITE_TEST(test_fs_metadata),                                        \
  FS_SUITE_TEST(test_fs_put_stream),                                      \
  FS_SUITE_TEST(test_fs_large_single_write),                              \
  FS_SUITE_TEST(test_fs_presign)

#define FS_SUITE_TESTS                                                    \
  FS_SUITE_BASE_TESTS,                                                    \
  FS_SUITE_TEST(test_fs_many_entries)

#endif

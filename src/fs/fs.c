/*
 * The store filesystem: what is decided once for both flavors.
 *
 * Every public call normalises its path arguments, confines them to the
 * root with a separator-boundary check, checks the arguments against
 * the store (a file where a directory is needed, a target that exists)
 * and only then hands them to the flavor.  Walk, glob and the tree
 * transfers are built here on the flavor's listdir and file transfers.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "fs/fs_internal.h"

/* ------------------------------------------------------------------ */
/* Paths                                                               */
/* ------------------------------------------------------------------ */

void cairn__fs_init(cairn_fs *fs, const struct cairn_fs_ops *ops,
                    char *root)
{
  const char *sep = strstr(root, "://");

  fs->ops = ops;
  fs->root = root;
  fs->root_len = strlen(root);
  fs->root_pfx = 0;
  if (sep) {
    const char *slash = strchr(sep + 3, '/');

    fs->root_pfx = slash ? (size_t)(slash - root) : fs->root_len;
  }
}

int cairn__fs_normalise(char *path, size_t path_start)
{
  char *p, *out, *seg;
  size_t len;

  for (p = path; *p; p++)
    if (*p == '\\')
      *p = '/';
  len = strlen(path);
  if (path_start > len)
    path_start = len;

  /* Rebuild the path part level by level. */
  out = path + path_start;
  p = out;
  while (*p) {
    size_t n;

    while (*p == '/')
      p++;
    if (!*p)
      break;
    seg = p;
    while (*p && *p != '/')
      p++;
    n = (size_t)(p - seg);
    if (n == 1 && seg[0] == '.')
      continue;
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
      char *prev;

      if (out == path + path_start)
        return CAIRN_EPERM;
      prev = out - 1;
      while (prev > path + path_start && *prev != '/')
        prev--;
      out = prev;
      continue;
    }
    *out++ = '/';
    memmove(out, seg, n);
    out += n;
  }
  *out = '\0';

  /* A local path keeps its leading '/' even when it is the root. */
  if (path_start == 0 && path[0] == '\0' && len > 0) {
    path[0] = '/';
    path[1] = '\0';
  }
  return 0;
}

const char *cairn__fs_rel(const cairn_fs *fs, const char *path)
{
  const char *rel = path + fs->root_len;

  if (fs->root_len == 1 && fs->root[0] == '/')
    return path + 1;
  return *rel == '/' ? rel + 1 : rel;
}

const char *cairn__fs_basename(const char *path)
{
  const char *slash = strrchr(path, '/');

  return slash ? slash + 1 : path;
}

char *cairn__fs_parent(const char *path)
{
  const char *slash = strrchr(path, '/');

  if (!slash)
    return cairn__strdup("");
  if (slash == path)
    return cairn__strdup("/");
  return cairn__strndup(path, (size_t)(slash - path));
}

static int inside_root(const cairn_fs *fs, const char *path)
{
  if (fs->root_len == 1 && fs->root[0] == '/')
    return path[0] == '/';
  return strncmp(path, fs->root, fs->root_len) == 0 &&
         (path[fs->root_len] == '\0' || path[fs->root_len] == '/');
}

static int outside(const cairn_fs *fs, const char *path)
{
  return cairn__error(CAIRN_EPERM,
                      "path '%s' is outside the store root '%s'; give a "
                      "path below the root", path, fs->root);
}

/*
 * Refuse a path whose part below the root ends in '.': Azure drops the
 * dot, and the local flavor refuses what the Azure one cannot store.
 */
static int names_check(const cairn_fs *fs, const char *full)
{
  const char *rel = cairn__fs_rel(fs, full), *seg, *end;
  size_t n;

  for (seg = rel; *seg; seg = *end ? end + 1 : end) {
    end = seg + strcspn(seg, "/");
    n = (size_t)(end - seg);
    if (n && seg[n - 1] == '.')
      return cairn__error(CAIRN_EINVAL,
                          "'%s' has a part ending in '.' ('%.*s'): Azure "
                          "drops a trailing dot and would store it under "
                          "another name, so no store takes such names; "
                          "rename it", full, (int)n, seg);
  }
  return 0;
}

/*
 * Normalise @p path and confine it to the root.  *out is a new string
 * (free()).  CAIRN_EPERM naming the path and the root when outside.
 * With @p names, parts ending in '.' are refused (CAIRN_EINVAL).
 */
static int resolve_as(char **out, const cairn_fs *fs, const char *path,
                      int names)
{
  size_t start = 0;
  char *copy;

  *out = NULL;
  if (!path || !*path)
    return cairn__error(CAIRN_EINVAL, "empty path; give a path below the "
                        "store root '%s'", fs->root);
  if (fs->root_pfx) {
    const char *sep = strstr(path, "://");
    const char *slash;

    if (!sep)
      return outside(fs, path);
    slash = strchr(sep + 3, '/');
    start = slash ? (size_t)(slash - path) : strlen(path);
    copy = cairn__strdup(path);
  } else if (path[0] == '/' || path[0] == '\\') {
    copy = cairn__strdup(path);
  } else {
    copy = cairn_path_absolute(path);
  }
  if (!copy)
    return CAIRN_ENOMEM;
  if (cairn__fs_normalise(copy, start) < 0 || !inside_root(fs, copy)) {
    free(copy);
    return outside(fs, path);
  }
  if (names) {
    int error = names_check(fs, copy);

    if (error < 0) {
      free(copy);
      return error;
    }
  }
  *out = copy;
  return 0;
}

static int resolve(char **out, const cairn_fs *fs, const char *path)
{
  return resolve_as(out, fs, path, 1);
}

/* Stat that turns "missing" into *found = 0 without an error. */
static int probe(cairn_fs *fs, const char *path, cairn_fs_info *st,
                 int *found)
{
  int error = fs->ops->stat(fs, path, st);

  *found = error == 0;
  if (error == CAIRN_ENOTFOUND) {
    cairn_error_clear();
    return 0;
  }
  return error;
}

static int is_root(const cairn_fs *fs, const char *path)
{
  return strcmp(path, fs->root) == 0;
}

/* ------------------------------------------------------------------ */
/* Object                                                              */
/* ------------------------------------------------------------------ */

void cairn_fs_free(cairn_fs *fs)
{
  if (!fs)
    return;
  fs->ops->free(fs);
  free(fs->root);
  free(fs);
}

const char *cairn_fs_root(const cairn_fs *fs)
{
  return fs->root;
}

const char *cairn_fs_flavor(const cairn_fs *fs)
{
  return fs->ops->flavor;
}

char *cairn_fs_path(const cairn_fs *fs, const char *rel)
{
  char *joined, *out = NULL;

  while (rel && (*rel == '/' || *rel == '\\'))
    rel++;
  joined = cairn__sprintf("%s/%s", fs->root, rel ? rel : "");
  if (!joined)
    return NULL;
  if (resolve(&out, fs, joined) < 0)
    out = NULL;
  free(joined);
  return out;
}

void cairn_fs_list_dispose(cairn_fs_list *list)
{
  size_t i;

  if (!list)
    return;
  for (i = 0; i < list->count; i++)
    free(list->items[i]);
  free(list->items);
  list->items = NULL;
  list->count = list->alloc = 0;
}

void cairn_fs_tree_dispose(cairn_fs_tree *tree)
{
  size_t i;

  if (!tree)
    return;
  for (i = 0; i < tree->count; i++)
    free(tree->items[i].rel);
  free(tree->items);
  tree->items = NULL;
  tree->count = tree->alloc = 0;
}

/* Move a string list into a public list (the strlist becomes empty). */
static void list_take(cairn_fs_list *out, cairn_strlist *l)
{
  out->items = l->items;
  out->count = l->count;
  out->alloc = l->alloc;
  l->items = NULL;
  l->count = l->alloc = 0;
}

/* ------------------------------------------------------------------ */
/* Streaming files                                                     */
/* ------------------------------------------------------------------ */

static int parse_mode(enum cairn__fs_mode *out, const char *mode)
{
  if (!mode)
    mode = "r";
  if (!strcmp(mode, "r") || !strcmp(mode, "rb"))
    *out = CAIRN__FS_READ;
  else if (!strcmp(mode, "w") || !strcmp(mode, "wb"))
    *out = CAIRN__FS_WRITE;
  else if (!strcmp(mode, "x") || !strcmp(mode, "xb"))
    *out = CAIRN__FS_CREATE;
  else
    return cairn__error(CAIRN_EINVAL, "open mode '%s' is not supported; "
                        "use r, rb, w, wb, x or xb", mode);
  return 0;
}

static int open_as(cairn_fs_file **out, cairn_fs *fs, const char *path,
                   const char *mode, const cairn_fs_metadata *md)
{
  enum cairn__fs_mode m = CAIRN__FS_READ;
  cairn_fs_info st;
  char *full = NULL;
  int error, found;

  *out = NULL;
  if ((error = parse_mode(&m, mode)) < 0)
    return error;
  if (md && m == CAIRN__FS_READ)
    return cairn__error(CAIRN_EINVAL, "metadata is stored by writing; "
                        "open with w, wb, x or xb");
  if ((error = resolve(&full, fs, path)) < 0)
    return error;
  if ((error = probe(fs, full, &st, &found)) < 0)
    goto done;

  if (m == CAIRN__FS_READ && !found)
    error = cairn__error(CAIRN_ENOTFOUND, "no file '%s'", full);
  else if (found && st.type == CAIRN_FS_DIR)
    error = cairn__error(CAIRN_EINVAL, "'%s' is a directory, not a file",
                         full);
  else if (m == CAIRN__FS_CREATE && found)
    error = cairn__error(CAIRN_EEXISTS, "file '%s' exists already; open "
                         "it with \"w\" to replace it", full);
  else
    error = fs->ops->open(out, fs, full, m, md);
done:
  free(full);
  return error;
}

int cairn_fs_open(cairn_fs_file **out, cairn_fs *fs, const char *path,
                  const char *mode)
{
  return open_as(out, fs, path, mode, NULL);
}

int cairn_fs_open_with(cairn_fs_file **out, cairn_fs *fs, const char *path,
                       const char *mode, const cairn_fs_metadata *metadata)
{
  return open_as(out, fs, path, mode, metadata);
}

int cairn_fs_read(cairn_fs_file *f, void *buf, size_t len, size_t *nread)
{
  *nread = 0;
  if (!f || f->mode != CAIRN__FS_READ)
    return cairn__error(CAIRN_EINVAL, "file is not open for reading");
  if (!len)
    return 0;
  return f->fs->ops->read(f, buf, len, nread);
}

int cairn_fs_write(cairn_fs_file *f, const void *data, size_t len)
{
  if (!f || f->mode == CAIRN__FS_READ)
    return cairn__error(CAIRN_EINVAL, "file is not open for writing");
  if (!len)
    return 0;
  return f->fs->ops->write(f, data, len);
}

int cairn_fs_close(cairn_fs_file *f)
{
  if (!f)
    return 0;
  return f->fs->ops->close(f);
}

void cairn_fs_abort(cairn_fs_file *f)
{
  if (f)
    f->fs->ops->abort(f);
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

int cairn_fs_stat(cairn_fs *fs, const char *path, cairn_fs_info *out)
{
  char *full = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = resolve(&full, fs, path)) < 0)
    return error;
  error = fs->ops->stat(fs, full, out);
  free(full);
  return error;
}

int cairn_fs_size(cairn_fs *fs, const char *path, uint64_t *out)
{
  cairn_fs_info st;
  int error;

  *out = 0;
  if ((error = cairn_fs_stat(fs, path, &st)) < 0)
    return error;
  if (st.type == CAIRN_FS_DIR)
    return cairn__error(CAIRN_EINVAL, "'%s' is a directory; size is for "
                        "files", path);
  *out = st.size;
  return 0;
}

int cairn_fs_exists(cairn_fs *fs, const char *path, int *out)
{
  cairn_fs_info st;
  char *full = NULL;
  int error;

  *out = 0;
  if ((error = resolve(&full, fs, path)) < 0)
    return error;
  error = probe(fs, full, &st, out);
  free(full);
  return error;
}

int cairn_fs_isdir(cairn_fs *fs, const char *path, int *out)
{
  cairn_fs_info st;
  char *full = NULL;
  int error, found;

  *out = 0;
  if ((error = resolve(&full, fs, path)) < 0)
    return error;
  error = probe(fs, full, &st, &found);
  *out = error == 0 && found && st.type == CAIRN_FS_DIR;
  free(full);
  return error;
}

int cairn_fs_listdir(cairn_fs *fs, const char *path, cairn_fs_list *out)
{
  cairn_strlist dirs = CAIRN_STRLIST_INIT, files = CAIRN_STRLIST_INIT;
  char *full = NULL;
  size_t i;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = resolve(&full, fs, path)) < 0)
    return error;
  if ((error = fs->ops->listdir(fs, full, &dirs, &files)) < 0)
    goto done;
  for (i = 0; i < files.count; i++) {
    if ((error = cairn_strlist_take(&dirs, files.items[i])) < 0) {
      files.items[i] = NULL;
      goto done;
    }
    files.items[i] = NULL;
  }
  cairn_strlist_sort(&dirs);
  list_take(out, &dirs);
done:
  cairn_strlist_dispose(&dirs);
  cairn_strlist_dispose(&files);
  free(full);
  return error;
}

/* ------------------------------------------------------------------ */
/* Changes                                                             */
/* ------------------------------------------------------------------ */

int cairn_fs_mkdir(cairn_fs *fs, const char *path)
{
  cairn_fs_info st;
  char *full = NULL, *parent = NULL;
  int error, found;

  if ((error = resolve(&full, fs, path)) < 0)
    return error;
  if ((error = probe(fs, full, &st, &found)) < 0)
    goto done;
  if (found) {
    error = cairn__error(CAIRN_EEXISTS, "'%s' exists already", full);
    goto done;
  }
  if (!is_root(fs, full)) {
    if (!(parent = cairn__fs_parent(full))) {
      error = CAIRN_ENOMEM;
      goto done;
    }
    if ((error = probe(fs, parent, &st, &found)) < 0)
      goto done;
    if (!found) {
      error = cairn__error(CAIRN_ENOTFOUND, "parent '%s' of '%s' does not "
                           "exist; use makedirs to create both", parent,
                           full);
      goto done;
    }
    if (st.type != CAIRN_FS_DIR) {
      error = cairn__error(CAIRN_EINVAL, "parent '%s' of '%s' is a file",
                           parent, full);
      goto done;
    }
  }
  error = fs->ops->mkdir(fs, full);
done:
  free(parent);
  free(full);
  return error;
}

/* Make one level of makedirs: *creating once a level was missing. */
static int makedirs_level(cairn_fs *fs, const char *level, int *creating)
{
  cairn_fs_info st;
  int error, found;

  if (!*creating) {
    if ((error = probe(fs, level, &st, &found)) < 0)
      return error;
    if (found && st.type != CAIRN_FS_DIR)
      return cairn__error(CAIRN_EEXISTS, "'%s' is a file, not a directory",
                          level);
    *creating = !found;
  }
  return *creating ? fs->ops->mkdir(fs, level) : 0;
}

/* makedirs on a resolved path (changed and restored on the way). */
static int makedirs_full(cairn_fs *fs, char *full)
{
  cairn_fs_info st;
  size_t len = strlen(full), i;
  int error, found, creating = 0;

  if ((error = probe(fs, full, &st, &found)) < 0)
    return error;
  if (found && st.type == CAIRN_FS_DIR)
    return 0;
  if (found)
    return cairn__error(CAIRN_EEXISTS, "'%s' is a file, not a directory",
                        full);

  /* From the root down: find the first missing level, create the rest. */
  for (i = fs->root_len; i <= len; i++) {
    char saved = full[i];

    if ((saved != '/' && saved != '\0') || (fs->root_len == 1 && i == 1))
      continue;
    full[i] = '\0';
    error = makedirs_level(fs, full, &creating);
    full[i] = saved;
    if (error < 0)
      return error;
  }
  return 0;
}

int cairn_fs_makedirs(cairn_fs *fs, const char *path)
{
  char *full = NULL;
  int error;

  if ((error = resolve(&full, fs, path)) < 0)
    return error;
  error = makedirs_full(fs, full);
  free(full);
  return error;
}

/* Resolve and check a path that must be an existing file. */
static int resolve_file(char **out, cairn_fs *fs, const char *path,
                        const char *hint)
{
  cairn_fs_info st;
  int error;

  if ((error = resolve(out, fs, path)) < 0)
    return error;
  if ((error = fs->ops->stat(fs, *out, &st)) < 0)
    goto fail;
  if (st.type == CAIRN_FS_DIR) {
    error = cairn__error(CAIRN_EINVAL, "'%s' is a directory%s", *out,
                         hint);
    goto fail;
  }
  return 0;
fail:
  free(*out);
  *out = NULL;
  return error;
}

int cairn_fs_read_metadata(cairn_fs *fs, const char *path,
                           cairn_fs_metadata *out)
{
  char *full = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = resolve_file(&full, fs, path, "; metadata is kept with "
                            "files")) < 0)
    return error;
  error = fs->ops->metadata(fs, full, out);
  free(full);
  return error;
}

int cairn_fs_presign(char **out, cairn_fs *fs, const char *path,
                     int64_t expires_in_s)
{
  char *full = NULL;
  int error;

  *out = NULL;
  if (expires_in_s <= 0)
    return cairn__error(CAIRN_EINVAL, "a presigned URL needs a lifetime "
                        "of at least one second");
  if ((error = resolve_file(&full, fs, path, "; only files have URLs")) <
      0)
    return error;
  error = fs->ops->presign(fs, full, expires_in_s, out);
  free(full);
  return error;
}

int cairn_fs_remove(cairn_fs *fs, const char *path)
{
  char *full = NULL;
  int error;

  if ((error = resolve_file(&full, fs, path, "; use rmtree")) < 0)
    return error;
  error = fs->ops->remove(fs, full);
  free(full);
  return error;
}

int cairn_fs_rmtree(cairn_fs *fs, const char *path)
{
  cairn_fs_info st;
  char *full = NULL;
  int error;

  if ((error = resolve(&full, fs, path)) < 0)
    return error;
  if ((error = fs->ops->stat(fs, full, &st)) < 0)
    goto done;
  if (st.type != CAIRN_FS_DIR) {
    error = cairn__error(CAIRN_EINVAL, "'%s' is a file; use remove", full);
    goto done;
  }
  error = fs->ops->rmtree(fs, full);
done:
  free(full);
  return error;
}

/* The checks shared by copyfile and rename. */
static int two_paths(char **src_out, char **dst_out, cairn_fs *fs,
                     const char *src, const char *dst, int overwrite)
{
  cairn_fs_info st;
  int error, found;

  *dst_out = NULL;
  if ((error = resolve_file(src_out, fs, src, "")) < 0)
    return error;
  if ((error = resolve(dst_out, fs, dst)) < 0)
    goto fail;
  if (!strcmp(*src_out, *dst_out)) {
    error = cairn__error(CAIRN_EINVAL, "source and destination are both "
                         "'%s'", *dst_out);
    goto fail;
  }
  if ((error = probe(fs, *dst_out, &st, &found)) < 0)
    goto fail;
  if (found && st.type == CAIRN_FS_DIR) {
    error = cairn__error(CAIRN_EINVAL, "destination '%s' is a directory",
                         *dst_out);
    goto fail;
  }
  if (found && !overwrite) {
    error = cairn__error(CAIRN_EEXISTS, "destination '%s' exists; allow "
                         "overwrite to replace it", *dst_out);
    goto fail;
  }
  return 0;
fail:
  free(*src_out);
  free(*dst_out);
  *src_out = *dst_out = NULL;
  return error;
}

int cairn_fs_copyfile(cairn_fs *fs, const char *src, const char *dst,
                      int overwrite)
{
  char *s = NULL, *d = NULL;
  int error;

  if ((error = two_paths(&s, &d, fs, src, dst, overwrite)) < 0)
    return error;
  error = fs->ops->copyfile(fs, s, d, overwrite);
  free(s);
  free(d);
  return error;
}

int cairn_fs_rename(cairn_fs *fs, const char *src, const char *dst,
                    int overwrite)
{
  char *s = NULL, *d = NULL;
  int error;

  if ((error = two_paths(&s, &d, fs, src, dst, overwrite)) < 0)
    return error;
  error = fs->ops->rename(fs, s, d, overwrite);
  free(s);
  free(d);
  return error;
}

/* ------------------------------------------------------------------ */
/* Walk and glob                                                       */
/* ------------------------------------------------------------------ */

typedef int (*walk_fn)(const char *dir, cairn_strlist *dirs,
                       cairn_strlist *files, void *payload);

/*
 * Walk @p dir top-down, @p depth levels deep (-1: all); entries sorted.
 * A non-zero return of @p fn stops the walk and is returned.
 */
static int walk_dir(cairn_fs *fs, const char *dir, int depth, walk_fn fn,
                    void *payload)
{
  cairn_strlist dirs = CAIRN_STRLIST_INIT, files = CAIRN_STRLIST_INIT;
  size_t i;
  int error;

  if ((error = fs->ops->listdir(fs, dir, &dirs, &files)) < 0)
    goto done;
  cairn_strlist_sort(&dirs);
  cairn_strlist_sort(&files);
  if ((error = fn(dir, &dirs, &files, payload)) != 0)
    goto done;
  if (depth == 1)
    goto done;
  for (i = 0; i < dirs.count; i++) {
    char *child = cairn__sprintf("%s/%s", dir, dirs.items[i]);

    if (!child) {
      error = CAIRN_ENOMEM;
      goto done;
    }
    error = walk_dir(fs, child, depth < 0 ? -1 : depth - 1, fn, payload);
    free(child);
    if (error)
      goto done;
  }
done:
  cairn_strlist_dispose(&dirs);
  cairn_strlist_dispose(&files);
  return error;
}

struct user_walk {
  cairn_fs_walk_cb cb;
  void *payload;
};

static int user_walk_fn(const char *dir, cairn_strlist *dirs,
                        cairn_strlist *files, void *payload)
{
  struct user_walk *w = payload;
  cairn_fs_list d = {dirs->items, dirs->count, dirs->alloc};
  cairn_fs_list f = {files->items, files->count, files->alloc};

  return w->cb(dir, &d, &f, w->payload);
}

int cairn_fs_walk(cairn_fs *fs, const char *top, cairn_fs_walk_cb cb,
                  void *payload)
{
  struct user_walk w = {cb, payload};
  char *full = NULL;
  int error;

  if ((error = resolve(&full, fs, top)) < 0)
    return error;
  error = walk_dir(fs, full, -1, user_walk_fn, &w);
  free(full);
  return error;
}

struct glob_state {
  const char *base; /* full path the walk starts at */
  const char *rest; /* pattern below base */
  cairn_strlist *out;
};

static int glob_add(struct glob_state *g, const char *dir,
                    const char *name)
{
  const char *rel = dir + strlen(g->base);
  char *r;
  int error = 0;

  if (*rel == '/')
    rel++;
  r = *rel ? cairn__sprintf("%s/%s", rel, name) : cairn__strdup(name);
  if (!r)
    return CAIRN_ENOMEM;
  if (cairn__glob_match(g->rest, r)) {
    char *full = cairn__sprintf("%s/%s", dir, name);

    error = full ? cairn_strlist_take(g->out, full) : CAIRN_ENOMEM;
  }
  free(r);
  return error;
}

static int glob_fn(const char *dir, cairn_strlist *dirs,
                   cairn_strlist *files, void *payload)
{
  size_t i;
  int error;

  for (i = 0; i < dirs->count; i++)
    if ((error = glob_add(payload, dir, dirs->items[i])) < 0)
      return error;
  for (i = 0; i < files->count; i++)
    if ((error = glob_add(payload, dir, files->items[i])) < 0)
      return error;
  return 0;
}

/* Levels of @p rest, or -1 when one of them is `**`. */
static int glob_depth(const char *rest)
{
  int depth = 1;
  const char *p = rest, *e;

  for (;;) {
    e = strchr(p, '/');
    if ((e ? (size_t)(e - p) : strlen(p)) == 2 && p[0] == '*' &&
        p[1] == '*')
      return -1;
    if (!e)
      return depth;
    depth++;
    p = e + 1;
  }
}

int cairn_fs_glob(cairn_fs *fs, const char *pattern, cairn_fs_list *out)
{
  cairn_strlist found = CAIRN_STRLIST_INIT;
  struct glob_state g;
  cairn_fs_info st;
  char *full = NULL, *base = NULL;
  const char *rel, *p, *cut;
  int error, exists;

  memset(out, 0, sizeof(*out));
  if ((error = resolve_as(&full, fs, pattern, 0)) < 0)
    return error;
  rel = cairn__fs_rel(fs, full);

  /* The levels before the first one with a special character. */
  cut = NULL;
  for (p = rel; *p;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);

    if (cairn__glob_has_magic(p, n)) {
      cut = p;
      break;
    }
    p += n;
    if (*p == '/')
      p++;
  }

  if (!cut) {
    /* No pattern at all: the path itself when it exists. */
    if ((error = probe(fs, full, &st, &exists)) < 0)
      goto done;
    if (exists)
      error = cairn_strlist_add(&found, full);
    goto done;
  }
  base = cairn__strndup(full, (size_t)(cut - full));
  if (!base) {
    error = CAIRN_ENOMEM;
    goto done;
  }
  if (strlen(base) > 1 && base[strlen(base) - 1] == '/')
    base[strlen(base) - 1] = '\0';
  if ((error = probe(fs, base, &st, &exists)) < 0)
    goto done;
  if (!exists || st.type != CAIRN_FS_DIR)
    goto done;

  g.base = base;
  g.rest = cut;
  g.out = &found;
  error = walk_dir(fs, base, glob_depth(cut), glob_fn, &g);
done:
  if (!error) {
    cairn_strlist_sort(&found);
    list_take(out, &found);
  }
  cairn_strlist_dispose(&found);
  free(base);
  free(full);
  return error;
}

/* ------------------------------------------------------------------ */
/* Transfers                                                           */
/* ------------------------------------------------------------------ */

static int local_file_check(const char *local)
{
  struct stat st;

  if (stat(local, &st) < 0)
    return cairn__error_errno("cannot read local file", local);
  if (S_ISDIR(st.st_mode))
    return cairn__error(CAIRN_EINVAL, "local path '%s' is a folder, not a "
                        "file", local);
  return 0;
}

void cairn__fs_progress(cairn_fs *fs, uint64_t bytes, uint64_t files)
{
  if (!fs->progress)
    return;
  __atomic_fetch_add(&fs->progress->bytes_done, bytes, __ATOMIC_RELAXED);
  __atomic_fetch_add(&fs->progress->files_done, files, __ATOMIC_RELAXED);
}

/* Count @p bytes in @p files more to move. */
static void progress_total(cairn_fs *fs, uint64_t bytes, uint64_t files)
{
  if (!fs->progress)
    return;
  __atomic_fetch_add(&fs->progress->bytes_total, bytes, __ATOMIC_RELAXED);
  __atomic_fetch_add(&fs->progress->files_total, files, __ATOMIC_RELAXED);
}

/* Progress of one file moved by a flavor that does not count its own. */
static void file_moved(cairn_fs *fs, const char *local_path)
{
  struct stat st;

  if (fs->progress && !fs->ops->set_options && stat(local_path, &st) == 0)
    cairn__fs_progress(fs, (uint64_t)st.st_size, 1);
}

int cairn_fs_set_transfer_options(cairn_fs *fs,
                                  const cairn_azure_transfer_options *o)
{
  static const cairn_azure_transfer_options none;
  int error;

  if (fs->ops->set_options &&
      (error = fs->ops->set_options(fs, o ? o : &none)) < 0)
    return error;
  fs->progress = o ? o->progress : NULL;
  return 0;
}

/* The full path of upload target @p dst, which must not exist yet. */
static int resolve_new(char **full, cairn_fs *fs, const char *dst)
{
  cairn_fs_info st;
  int error, found;

  if ((error = resolve(full, fs, dst)) < 0)
    return error;
  if ((error = probe(fs, *full, &st, &found)) < 0)
    return error;
  if (found)
    return cairn__error(CAIRN_EEXISTS, "'%s' exists already; the store "
                        "never replaces a file on upload", *full);
  return 0;
}

int cairn_fs_put_file(cairn_fs *fs, const char *local_path,
                      const char *dst, char sha256_hex[65])
{
  char *full = NULL;
  char sha[65];
  int error;

  if ((error = local_file_check(local_path)) < 0)
    return error;
  if ((error = resolve_new(&full, fs, dst)) < 0)
    goto done;
  if (fs->progress) {
    struct stat lst;

    if (stat(local_path, &lst) == 0)
      progress_total(fs, (uint64_t)lst.st_size, 1);
  }
  if ((error = fs->ops->put_file(fs, local_path, full, sha)) < 0)
    goto done;
  file_moved(fs, local_path);
  if (sha256_hex)
    memcpy(sha256_hex, sha, 65);
done:
  free(full);
  return error;
}

int cairn_fs_put_stream(cairn_fs *fs, int fd, const char *dst,
                        char sha256_hex[65])
{
  char *full = NULL;
  char sha[65];
  int error;

  if (fd < 0)
    return cairn__error(CAIRN_EINVAL, "no stream to read (fd %d)", fd);
  if ((error = resolve_new(&full, fs, dst)) < 0)
    goto done;
  if ((error = fs->ops->put_stream(fs, fd, full, sha)) < 0)
    goto done;
  if (sha256_hex)
    memcpy(sha256_hex, sha, 65);
done:
  free(full);
  return error;
}

int cairn_fs_get_file(cairn_fs *fs, const char *src, const char *local_path,
                      char sha256_hex[65])
{
  char *full = NULL;
  char sha[65];
  int error;

  if ((error = resolve_file(&full, fs, src, ", not a file")) < 0)
    return error;
  if ((error = fs->ops->get_file(fs, full, local_path, sha)) < 0)
    goto done;
  file_moved(fs, local_path);
  if (sha256_hex)
    memcpy(sha256_hex, sha, 65);
done:
  free(full);
  return error;
}

/* A tree as relative paths of its directories and files. */
struct tree_list {
  const char *top;
  cairn_strlist dirs;
  cairn_strlist files;
  int local; /* a local folder to be stored: its entries are checked */
};

/*
 * What a stored tree may hold: folders, regular files, and links to
 * regular files (stored as the file, as a link in a model cache is
 * meant).  A link to a folder could lead out of the tree or round in a
 * loop, and a FIFO, socket or device has no content to store.
 */
static int tree_entry_check(const char *dir, const char *name)
{
  struct stat st;
  char *path = cairn_path_join(dir, name);
  int error = 0;

  if (!path)
    return CAIRN_ENOMEM;
  if (lstat(path, &st) < 0) {
    error = cairn__error_errno("cannot read", path);
  } else if (S_ISLNK(st.st_mode)) {
    if (stat(path, &st) < 0)
      error = cairn__error_errno("cannot follow the link", path);
    else if (S_ISDIR(st.st_mode))
      error = cairn__error(CAIRN_EINVAL, "'%s' is a link to a folder, "
                           "which cairn does not follow (it could lead "
                           "out of the tree or round in a loop): replace "
                           "it with a copy of the folder (cp -rL) or "
                           "remove it", path);
    else if (!S_ISREG(st.st_mode))
      error = cairn__error(CAIRN_EINVAL, "'%s' links to something that is "
                           "neither a file nor a folder (a FIFO, socket "
                           "or device): remove it", path);
  } else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    error = cairn__error(CAIRN_EINVAL, "'%s' is neither a file nor a "
                         "folder (a FIFO, socket or device): remove it, "
                         "since it has no content to store", path);
  }
  free(path);
  return error;
}

static int tree_fn(const char *dir, cairn_strlist *dirs,
                   cairn_strlist *files, void *payload)
{
  struct tree_list *t = payload;
  const char *rel = dir + strlen(t->top);
  size_t i;
  int error;

  if (*rel == '/')
    rel++;
  for (i = 0; i < dirs->count + files->count; i++) {
    int is_dir = i < dirs->count;
    const char *name = is_dir ? dirs->items[i]
                              : files->items[i - dirs->count];
    char *r;

    if (t->local && (error = tree_entry_check(dir, name)) < 0)
      return error;
    r = *rel ? cairn__sprintf("%s/%s", rel, name) : cairn__strdup(name);
    if (!r)
      return CAIRN_ENOMEM;
    error = cairn_strlist_take(is_dir ? &t->dirs : &t->files, r);
    if (error < 0)
      return error;
  }
  return 0;
}

static void tree_list_dispose(struct tree_list *t)
{
  cairn_strlist_dispose(&t->dirs);
  cairn_strlist_dispose(&t->files);
}

/* The jobs of a transfer, with the strings they point to. */
struct batch {
  struct cairn__fs_job *jobs;
  cairn_strlist strings;
  size_t count;
};

static int batch_build(struct batch *b, const cairn_strlist *rels,
                       const char *local_top, const char *remote_top)
{
  size_t i;
  int error;

  memset(b, 0, sizeof(*b));
  if (!rels->count)
    return 0;
  if (!(b->jobs = cairn__calloc(rels->count, sizeof(*b->jobs))))
    return CAIRN_ENOMEM;
  for (i = 0; i < rels->count; i++) {
    char *l = cairn_path_join(local_top, rels->items[i]);
    char *r = cairn__sprintf("%s/%s", remote_top, rels->items[i]);

    if (!l || !r) {
      free(l);
      free(r);
      return CAIRN_ENOMEM;
    }
    if ((error = cairn_strlist_take(&b->strings, l)) < 0) {
      free(r);
      return error;
    }
    if ((error = cairn_strlist_take(&b->strings, r)) < 0)
      return error;
    b->jobs[i].local = l;
    b->jobs[i].remote = r;
    b->count++;
  }
  return 0;
}

static void batch_dispose(struct batch *b)
{
  free(b->jobs);
  cairn_strlist_dispose(&b->strings);
}

static int tree_out(cairn_fs_tree *out, const struct batch *b,
                    const cairn_strlist *rels)
{
  size_t i;

  if (!out || !b->count)
    return 0;
  if (!(out->items = cairn__calloc(b->count, sizeof(*out->items))))
    return CAIRN_ENOMEM;
  out->alloc = b->count;
  for (i = 0; i < b->count; i++) {
    cairn_fs_tree_entry *e = &out->items[i];

    if (!(e->rel = cairn__strdup(rels->items[i])))
      return CAIRN_ENOMEM;
    e->size = b->jobs[i].size;
    memcpy(e->sha256, b->jobs[i].sha256, 65);
    out->count++;
  }
  return 0;
}

static int run_batch(cairn_fs *fs, struct batch *b, int put)
{
  int (*many)(cairn_fs *, struct cairn__fs_job *, size_t) =
      put ? fs->ops->put_many : fs->ops->get_many;
  size_t i;
  int error;

  if (!b->count)
    return 0;
  for (i = 0; put && fs->progress && i < b->count; i++) {
    struct stat st;

    if (stat(b->jobs[i].local, &st) == 0)
      progress_total(fs, (uint64_t)st.st_size, 1);
  }
  if (many)
    return many(fs, b->jobs, b->count);
  for (i = 0; i < b->count; i++) {
    struct cairn__fs_job *j = &b->jobs[i];
    struct stat st;

    if (put)
      error = fs->ops->put_file(fs, j->local, j->remote, j->sha256);
    else
      error = fs->ops->get_file(fs, j->remote, j->local, j->sha256);
    if (error < 0)
      return error;
    if (stat(j->local, &st) == 0)
      j->size = (uint64_t)st.st_size;
    file_moved(fs, j->local);
  }
  return 0;
}

/* Remove a half-made tree after a failure, keeping the first error. */
static void undo_tree(cairn_fs *fs, const char *top)
{
  const cairn_error *e = cairn_error_last();
  int code = e->code;
  char *msg = cairn__strdup(e->message);
  int held = cairn__cancel_hold(); /* a stopped transfer is cleaned up */

  if (fs->ops->rmtree(fs, top) < 0)
    log_warn("fs", "could not remove the partial tree '%s'", top);
  cairn__cancel_restore(held);
  if (msg)
    cairn__error(code, "%s", msg);
  free(msg);
}

int cairn_fs_put_tree(cairn_fs *fs, const char *local_dir, const char *dst,
                      cairn_fs_tree *out)
{
  struct tree_list t = {NULL, CAIRN_STRLIST_INIT, CAIRN_STRLIST_INIT, 0};
  struct batch b = {NULL, CAIRN_STRLIST_INIT, 0};
  cairn_fs *lfs = NULL;
  cairn_fs_info st;
  struct stat lst;
  char *full = NULL;
  int error, found, made = 0;
  size_t i;

  if (out)
    memset(out, 0, sizeof(*out));
  if (stat(local_dir, &lst) < 0)
    return cairn__error_errno("cannot read local folder", local_dir);
  if (!S_ISDIR(lst.st_mode))
    return cairn__error(CAIRN_EINVAL, "local path '%s' is not a folder",
                        local_dir);
  if ((error = resolve(&full, fs, dst)) < 0)
    return error;
  if ((error = probe(fs, full, &st, &found)) < 0)
    goto done;
  if (found) {
    error = cairn__error(CAIRN_EEXISTS, "'%s' exists already; a tree is "
                         "stored only under a new path", full);
    goto done;
  }

  /* List the local tree. */
  if ((error = cairn_fs_local_new(&lfs, local_dir)) < 0)
    goto done;
  t.top = lfs->root;
  t.local = 1;
  if ((error = walk_dir(lfs, lfs->root, -1, tree_fn, &t)) < 0)
    goto done;
  cairn_strlist_sort(&t.files);
  if ((error = batch_build(&b, &t.files, lfs->root, full)) < 0)
    goto done;
  /* every name is checked before anything is stored */
  for (i = 0; i < t.dirs.count + b.count; i++) {
    const char *rel = i < t.dirs.count ? t.dirs.items[i]
                                       : t.files.items[i - t.dirs.count];
    char *d;

    if (strchr(rel, '\\')) {
      error = cairn__error(CAIRN_EINVAL, "'%s/%s' has a '\\' in its name: "
                           "stores read '\\' as '/', so it would come back "
                           "under another name; rename it", local_dir, rel);
      goto done;
    }
    d = cairn__sprintf("%s/%s", full, rel);
    if (!d) {
      error = CAIRN_ENOMEM;
      goto done;
    }
    error = names_check(fs, d);
    free(d);
    if (error < 0)
      goto done;
  }

  /* Directories first (parents before children), then the files. */
  if ((error = makedirs_full(fs, full)) < 0)
    goto done;
  made = 1;
  for (i = 0; i < t.dirs.count; i++) {
    char *d = cairn__sprintf("%s/%s", full, t.dirs.items[i]);

    if (!d) {
      error = CAIRN_ENOMEM;
      goto done;
    }
    error = fs->ops->mkdir(fs, d);
    free(d);
    if (error < 0)
      goto done;
  }
  if ((error = run_batch(fs, &b, 1)) < 0)
    goto done;
  error = tree_out(out, &b, &t.files);
done:
  if (error < 0 && made)
    undo_tree(fs, full);
  if (error < 0 && out)
    cairn_fs_tree_dispose(out);
  batch_dispose(&b);
  tree_list_dispose(&t);
  cairn_fs_free(lfs);
  free(full);
  return error;
}

int cairn_fs_get_tree(cairn_fs *fs, const char *src, const char *local_dir,
                      cairn_fs_tree *out)
{
  struct tree_list t = {NULL, CAIRN_STRLIST_INIT, CAIRN_STRLIST_INIT, 0};
  struct batch b = {NULL, CAIRN_STRLIST_INIT, 0};
  cairn_fs_info st;
  char *full = NULL;
  int error;
  size_t i;

  if (out)
    memset(out, 0, sizeof(*out));
  if ((error = resolve(&full, fs, src)) < 0)
    return error;
  if ((error = fs->ops->stat(fs, full, &st)) < 0)
    goto done;
  if (st.type != CAIRN_FS_DIR) {
    error = cairn__error(CAIRN_EINVAL, "'%s' is a file; use get_file",
                         full);
    goto done;
  }
  t.top = full;
  if ((error = walk_dir(fs, full, -1, tree_fn, &t)) < 0)
    goto done;
  cairn_strlist_sort(&t.files);

  if ((error = cairn_mkdirs(local_dir, 0777)) < 0)
    goto done;
  for (i = 0; i < t.dirs.count; i++) {
    char *d = cairn_path_join(local_dir, t.dirs.items[i]);

    if (!d) {
      error = CAIRN_ENOMEM;
      goto done;
    }
    error = cairn_mkdirs(d, 0777);
    free(d);
    if (error < 0)
      goto done;
  }
  if ((error = batch_build(&b, &t.files, local_dir, full)) < 0)
    goto done;
  if ((error = run_batch(fs, &b, 0)) < 0)
    goto done;
  error = tree_out(out, &b, &t.files);
done:
  if (error < 0 && out)
    cairn_fs_tree_dispose(out);
  batch_dispose(&b);
  tree_list_dispose(&t);
  free(full);
  return error;
}

int cairn_fs_contains(const cairn_fs *fs, const char *path)
{
  char *copy;

  if (resolve_as(&copy, fs, path, 0) < 0) {
    cairn_error_clear();
    return 0;
  }
  free(copy);
  return 1;
}

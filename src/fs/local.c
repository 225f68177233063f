/*
 * The local store flavor: a folder on this machine, plain POSIX.
 *
 * A file written through the store appears whole or not at all: the
 * bytes go to an unnamed file (O_TMPFILE) in the target's folder, or a
 * hidden temporary name where that is not supported, and are linked or
 * renamed into place when the file is closed.  Create-only writes link
 * the new file, which fails when the name exists.  Metadata is kept in
 * extended attributes "user.cairn.<name>", set on the file before it
 * appears.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"
#include "fs/fs_internal.h"

#define COPY_CHUNK (1u << 20)
#define XATTR_PREFIX "user.cairn."
#define XATTR_PREFIX_LEN (sizeof(XATTR_PREFIX) - 1)
/* The kernel copies this much between checks for a stop request. */
#define COPY_STEP (16u << 20)
/* Files at least this big are hashed in a second thread while copying. */
#define THREADED_MIN (8u << 20)

struct local_fs {
  cairn_fs base;
};

struct local_file {
  cairn_fs_file base;
  int fd;
  char *path; /* the target */
  char *tmp;  /* named temporary, or NULL for an O_TMPFILE */
  int failed; /* a write failed: close refuses to commit */
};

/* ------------------------------------------------------------------ */
/* Unnamed or temporary files that are committed in one step           */
/* ------------------------------------------------------------------ */

struct pending {
  int fd;
  char *path;
  char *tmp;
};

static char *temp_name(const char *path)
{
  char *parent = cairn__fs_parent(path);
  char id[37];
  char *out;

  if (!parent)
    return NULL;
  if (cairn_uuid4(id) < 0) {
    free(parent);
    return NULL;
  }
  out = cairn__sprintf("%s/.cairn-tmp-%.8s", parent, id);
  free(parent);
  return out;
}

/* Start a file that will appear at @p path on commit. */
static int pending_open(struct pending *p, const char *path)
{
  char *parent = cairn__fs_parent(path);
  int i;

  p->fd = -1;
  p->tmp = NULL;
  p->path = NULL;
  if (!parent)
    return CAIRN_ENOMEM;
  p->fd = open(*parent ? parent : "/", O_TMPFILE | O_RDWR | O_CLOEXEC,
               0666);
  if (p->fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
    int error = cairn__error(CAIRN_ENOTFOUND, "folder '%s' does not exist; "
                             "create it first", parent);

    free(parent);
    return error;
  }
  free(parent);
  if (p->fd < 0 || access("/proc/self/fd", X_OK) < 0) {
    if (p->fd >= 0)
      close(p->fd);
    /* No O_TMPFILE here: a hidden name in the same folder. */
    for (i = 0; i < 10; i++) {
      free(p->tmp);
      if (!(p->tmp = temp_name(path)))
        return CAIRN_ENOMEM;
      p->fd = open(p->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (p->fd >= 0 || errno != EEXIST)
        break;
    }
    if (p->fd < 0) {
      int error = cairn__error_errno("cannot create a file next to", path);

      free(p->tmp);
      p->tmp = NULL;
      return error;
    }
  }
  if (!(p->path = cairn__strdup(path))) {
    close(p->fd);
    if (p->tmp)
      unlink(p->tmp);
    free(p->tmp);
    return CAIRN_ENOMEM;
  }
  return 0;
}

static void pending_drop(struct pending *p)
{
  if (p->fd >= 0)
    close(p->fd);
  if (p->tmp)
    unlink(p->tmp);
  free(p->tmp);
  free(p->path);
  p->fd = -1;
  p->tmp = p->path = NULL;
}

static int link_error(const char *path)
{
  if (errno == EEXIST)
    return cairn__error(CAIRN_EEXISTS, "file '%s' exists already", path);
  return cairn__error_errno("cannot create", path);
}

/* Make the file appear at its path; frees @p p whatever the result. */
static int pending_commit(struct pending *p, int create_only)
{
  char proc[64];
  char *tmp = NULL;
  int error = 0;

  if (p->tmp) {
    if (create_only) {
      if (link(p->tmp, p->path) < 0)
        error = link_error(p->path);
    } else if (rename(p->tmp, p->path) < 0) {
      error = cairn__error_errno("cannot create", p->path);
    } else {
      free(p->tmp);
      p->tmp = NULL;
    }
    goto done;
  }

  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", p->fd);
  if (linkat(AT_FDCWD, proc, AT_FDCWD, p->path, AT_SYMLINK_FOLLOW) == 0)
    goto done;
  if (errno != EEXIST || create_only) {
    error = link_error(p->path);
    goto done;
  }
  /* Replace: link under a temporary name, then rename over. */
  if (!(tmp = temp_name(p->path))) {
    error = CAIRN_ENOMEM;
    goto done;
  }
  if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0) {
    error = cairn__error_errno("cannot create a file next to", p->path);
    goto done;
  }
  if (rename(tmp, p->path) < 0) {
    error = cairn__error_errno("cannot replace", p->path);
    unlink(tmp);
  }
done:
  free(tmp);
  pending_drop(p);
  return error;
}

static int write_all(int fd, const void *data, size_t len, const char *path)
{
  const char *p = data;

  while (len) {
    ssize_t n = write(fd, p, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cairn__error_errno("cannot write", path);
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Copying with the SHA-256 in the same pass                           */
/* ------------------------------------------------------------------ */

/*
 * A second thread hashes the copy, reading it back just behind the
 * copier, so that the SHA-256 describes the bytes stored even when the
 * source changes meanwhile.  The copier publishes how far it got.
 */
struct hasher {
  int fd; /* the copy */
  cairn_sha256 *h;
  pthread_mutex_t lock;
  pthread_cond_t more;
  uint64_t copied; /* bytes of the copy that are complete */
  int done;        /* the copier stopped */
  int err;         /* errno of a failed read */
};

static void copied_up_to(struct hasher *hs, uint64_t off)
{
  if (!hs)
    return;
  pthread_mutex_lock(&hs->lock);
  hs->copied = off;
  pthread_cond_signal(&hs->more);
  pthread_mutex_unlock(&hs->lock);
}

static void copy_over(struct hasher *hs)
{
  pthread_mutex_lock(&hs->lock);
  hs->done = 1;
  pthread_cond_signal(&hs->more);
  pthread_mutex_unlock(&hs->lock);
}

static void *hash_thread(void *arg)
{
  struct hasher *hs = arg;
  char *buf = malloc(COPY_CHUNK);
  uint64_t off = 0, end;
  int done;

  if (!buf) {
    hs->err = ENOMEM;
    return NULL;
  }
  for (;;) {
    pthread_mutex_lock(&hs->lock);
    while (hs->copied <= off && !hs->done)
      pthread_cond_wait(&hs->more, &hs->lock);
    end = hs->copied;
    done = hs->done;
    pthread_mutex_unlock(&hs->lock);
    if (off >= end && done)
      break;
    while (off < end) {
      size_t want = end - off < COPY_CHUNK ? (size_t)(end - off) : COPY_CHUNK;
      ssize_t n = pread(hs->fd, buf, want, (off_t)off);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        hs->err = n < 0 ? errno : EIO;
        goto out;
      }
      cairn_sha256_update(hs->h, buf, (size_t)n);
      off += (uint64_t)n;
    }
  }
out:
  free(buf);
  return NULL;
}

static int shorter(const char *src)
{
  return cairn__error(CAIRN_EIO, "'%s' got shorter while being copied: "
                      "try again when nothing writes to it", src);
}

static int stopped(void)
{
  return cairn__error(CAIRN_ECANCELLED, "stopped on request");
}

/* Copy with read and write, hashing when @p h is given. */
static int copy_rw(int in, int out, uint64_t size, cairn_sha256 *h,
                   struct hasher *hs, const char *src, const char *dst)
{
  char *buf = malloc(COPY_CHUNK);
  uint64_t off = 0;
  int error = 0;

  if (!buf)
    return cairn__error_oom();
  while (off < size) {
    ssize_t n;

    if (cairn_cancelled()) {
      error = stopped();
      break;
    }
    n = pread(in, buf, COPY_CHUNK, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = cairn__error_errno("cannot read", src);
      break;
    }
    if (n == 0) {
      error = shorter(src);
      break;
    }
    if ((error = write_all(out, buf, (size_t)n, dst)) < 0)
      break;
    if (h)
      cairn_sha256_update(h, buf, (size_t)n);
    off += (uint64_t)n;
    copied_up_to(hs, off);
  }
  free(buf);
  return error;
}

/*
 * Copy in the kernel where it can, in steps so that a stop request and
 * the hashing thread are heard; read and write where it cannot.
 */
static int copy_plain(int in, int out, uint64_t size, struct hasher *hs,
                      const char *src, const char *dst)
{
  loff_t off_in = 0, off_out = 0;

  while ((uint64_t)off_in < size) {
    size_t want = size - (uint64_t)off_in > COPY_STEP
                      ? COPY_STEP
                      : (size_t)(size - (uint64_t)off_in);
    ssize_t n;

    if (cairn_cancelled())
      return stopped();
    n = copy_file_range(in, &off_in, out, &off_out, want, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && off_in == 0 &&
        (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
         errno == EOPNOTSUPP || errno == EBADF))
      return copy_rw(in, out, size, NULL, hs, src, dst);
    if (n < 0)
      return cairn__error_errno("cannot copy to", dst);
    if (n == 0)
      return shorter(src);
    copied_up_to(hs, (uint64_t)off_out);
  }
  return 0;
}

/*
 * Copy the regular file open on @p in (of @p size bytes) to @p out, open
 * for reading too.  With @p sha256_hex, hash what is written in the same
 * pass: big files are hashed by a second thread while the kernel copies.
 */
static int copy_fd(int in, int out, uint64_t size, const char *src,
                   const char *dst, char sha256_hex[65])
{
  unsigned char digest[CAIRN_SHA256_LEN];
  struct hasher hs = {.fd = out};
  pthread_t thread;
  int error;

  if (!sha256_hex)
    return copy_plain(in, out, size, NULL, src, dst);
  if ((error = cairn_sha256_new(&hs.h)) < 0)
    return error;
  pthread_mutex_init(&hs.lock, NULL);
  pthread_cond_init(&hs.more, NULL);
  if (size < THREADED_MIN ||
      pthread_create(&thread, NULL, hash_thread, &hs) != 0) {
    error = copy_rw(in, out, size, hs.h, NULL, src, dst);
  } else {
    error = copy_plain(in, out, size, &hs, src, dst);
    copy_over(&hs);
    pthread_join(thread, NULL);
    if (!error && hs.err) {
      errno = hs.err;
      error = cairn__error_errno("cannot read back", dst);
    }
  }
  if (!error) {
    cairn_sha256_final(hs.h, digest);
    cairn_hex_encode(sha256_hex, digest, sizeof(digest));
  }
  cairn_sha256_free(hs.h);
  pthread_cond_destroy(&hs.more);
  pthread_mutex_destroy(&hs.lock);
  return error;
}

/*
 * Copy local file @p src to @p dst, which appears whole on success
 * (create-only, or replacing).
 */
static int copy_file(const char *src, const char *dst, int create_only,
                     char sha256_hex[65])
{
  struct pending p = {-1, NULL, NULL};
  struct stat st;
  int in, error;

  in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return cairn__error_errno("cannot open", src);
  if (fstat(in, &st) < 0) {
    error = cairn__error_errno("cannot read", src);
    goto done;
  }
  if (S_ISDIR(st.st_mode)) {
    error = cairn__error(CAIRN_EINVAL, "'%s' is a folder, not a file", src);
    goto done;
  }
  if (create_only && access(dst, F_OK) == 0) {
    error = cairn__error(CAIRN_EEXISTS, "file '%s' exists already", dst);
    goto done;
  }
  if ((error = pending_open(&p, dst)) < 0)
    goto done;
  posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
  error = copy_fd(in, p.fd, (uint64_t)st.st_size, src, dst, sha256_hex);
  if (!error)
    error = cairn_file_unchanged(in, &st, src);
  if (error < 0)
    pending_drop(&p);
  else
    error = pending_commit(&p, create_only);
done:
  close(in);
  return error;
}

/* ------------------------------------------------------------------ */
/* Streaming files                                                     */
/* ------------------------------------------------------------------ */

/* Store @p md on the file open on @p fd as extended attributes. */
static int xattrs_set(int fd, const char *path, const cairn_fs_metadata *md)
{
  char name[XATTR_PREFIX_LEN + 260];
  size_t i;

  for (i = 0; md && i < md->count; i++) {
    snprintf(name, sizeof(name), XATTR_PREFIX "%s", md->items[i].name);
    if (fsetxattr(fd, name, md->items[i].value,
                  strlen(md->items[i].value), 0) == 0)
      continue;
    if (errno == ENOTSUP)
      return cairn__error(CAIRN_EINVAL, "the file system of '%s' keeps no "
                          "extended attributes, so its files cannot carry "
                          "metadata", path);
    return cairn__error_errno("cannot store metadata for", path);
  }
  return 0;
}

static int local_open(cairn_fs_file **out, cairn_fs *fs, const char *path,
                      enum cairn__fs_mode mode, const cairn_fs_metadata *md)
{
  struct local_file *f = cairn__calloc(1, sizeof(*f));
  struct stat st;
  int error;

  if (!f)
    return CAIRN_ENOMEM;
  f->base.fs = fs;
  f->base.mode = mode;
  f->fd = -1;
  if (mode == CAIRN__FS_READ) {
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
      error = cairn__error_errno("cannot open", path);
      goto fail;
    }
    if (fstat(f->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      error = cairn__error(CAIRN_EINVAL, "'%s' is a directory, not a file",
                           path);
      goto fail;
    }
    if (!(f->path = cairn__strdup(path))) {
      error = CAIRN_ENOMEM;
      goto fail;
    }
  } else {
    struct pending p;

    if ((error = pending_open(&p, path)) < 0)
      goto fail;
    if ((error = xattrs_set(p.fd, path, md)) < 0) {
      pending_drop(&p);
      goto fail;
    }
    f->fd = p.fd;
    f->path = p.path;
    f->tmp = p.tmp;
  }
  *out = &f->base;
  return 0;
fail:
  if (f->fd >= 0)
    close(f->fd);
  free(f->path);
  free(f);
  return error;
}

static int local_read(cairn_fs_file *file, void *buf, size_t len,
                      size_t *nread)
{
  struct local_file *f = (struct local_file *)file;
  ssize_t n;

  do
    n = read(f->fd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return cairn__error_errno("cannot read", f->path);
  *nread = (size_t)n;
  return 0;
}

static int local_write(cairn_fs_file *file, const void *data, size_t len)
{
  struct local_file *f = (struct local_file *)file;
  int error = write_all(f->fd, data, len, f->path);

  if (error < 0)
    f->failed = 1;
  return error;
}

static void local_abort(cairn_fs_file *file)
{
  struct local_file *f = (struct local_file *)file;
  struct pending p = {f->fd, f->path, f->tmp};

  pending_drop(&p);
  free(f);
}

static int local_close(cairn_fs_file *file)
{
  struct local_file *f = (struct local_file *)file;
  struct pending p = {f->fd, f->path, f->tmp};
  int error;

  if (f->base.mode == CAIRN__FS_READ) {
    close(f->fd);
    free(f->path);
    free(f);
    return 0;
  }
  if (f->failed) {
    error = cairn__error(CAIRN_EIO, "'%s' was not written: an earlier "
                         "write failed", f->path);
    pending_drop(&p);
  } else {
    error = pending_commit(&p, f->base.mode == CAIRN__FS_CREATE);
  }
  free(f);
  return error;
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

static int local_stat(cairn_fs *fs, const char *path, cairn_fs_info *out)
{
  struct stat st;

  memset(out, 0, sizeof(*out));
  if (stat(path, &st) < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return cairn__error(CAIRN_ENOTFOUND, "no file or directory '%s'",
                          path);
    return cairn__error_errno("cannot read", path);
  }
  out->type = S_ISDIR(st.st_mode) ? CAIRN_FS_DIR : CAIRN_FS_FILE;
  out->size = out->type == CAIRN_FS_DIR ? 0 : (uint64_t)st.st_size;
  out->mtime = (int64_t)st.st_mtime;
  return 0;
}

static int local_listdir(cairn_fs *fs, const char *path, cairn_strlist *dirs,
                         cairn_strlist *files)
{
  DIR *d = opendir(path);
  struct dirent *e;
  int error = 0;

  if (!d) {
    if (errno == ENOENT)
      return cairn__error(CAIRN_ENOTFOUND, "no directory '%s'", path);
    if (errno == ENOTDIR)
      return cairn__error(CAIRN_EINVAL, "'%s' is a file, not a directory",
                          path);
    return cairn__error_errno("cannot list", path);
  }
  while ((e = readdir(d)) != NULL) {
    int is_dir;

    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      struct stat st;

      is_dir = fstatat(dirfd(d), e->d_name, &st, 0) == 0 &&
               S_ISDIR(st.st_mode);
    }
    if ((error = cairn_strlist_add(is_dir ? dirs : files, e->d_name)) < 0)
      break;
  }
  closedir(d);
  return error;
}

static int local_mkdir(cairn_fs *fs, const char *path)
{
  if (mkdir(path, 0777) < 0) {
    if (errno == EEXIST)
      return cairn__error(CAIRN_EEXISTS, "'%s' exists already", path);
    return cairn__error_errno("cannot create directory", path);
  }
  return 0;
}

static int local_remove(cairn_fs *fs, const char *path)
{
  if (unlink(path) < 0)
    return cairn__error_errno("cannot remove", path);
  return 0;
}

static int local_copyfile(cairn_fs *fs, const char *src, const char *dst,
                          int overwrite)
{
  return copy_file(src, dst, !overwrite, NULL);
}

static int local_rename(cairn_fs *fs, const char *src, const char *dst,
                        int overwrite)
{
  if (overwrite) {
    if (rename(src, dst) < 0)
      return cairn__error_errno("cannot move to", dst);
    return 0;
  }
  if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return link_error(dst);
  /* No RENAME_NOREPLACE on this file system: link, then unlink. */
  if (link(src, dst) < 0)
    return link_error(dst);
  if (unlink(src) < 0)
    return cairn__error_errno("cannot remove", src);
  return 0;
}

static int rm_rec(const char *path)
{
  DIR *d = opendir(path);
  struct dirent *e;
  int error = 0;

  if (!d)
    return cairn__error_errno("cannot list", path);
  while (!error && (e = readdir(d)) != NULL) {
    struct stat st;
    char *child;

    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (!(child = cairn_path_join(path, e->d_name))) {
      error = CAIRN_ENOMEM;
      break;
    }
    if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
      error = rm_rec(child);
    else if (unlink(child) < 0 && errno != ENOENT)
      error = cairn__error_errno("cannot remove", child);
    free(child);
  }
  closedir(d);
  if (!error && rmdir(path) < 0)
    error = cairn__error_errno("cannot remove directory", path);
  return error;
}

static int local_rmtree(cairn_fs *fs, const char *path)
{
  return rm_rec(path);
}

static int local_put_file(cairn_fs *fs, const char *local, const char *dst,
                          char sha256_hex[65])
{
  return copy_file(local, dst, 1, sha256_hex);
}

static int local_get_file(cairn_fs *fs, const char *src, const char *local,
                          char sha256_hex[65])
{
  return copy_file(src, local, 0, sha256_hex);
}

static int local_metadata(cairn_fs *fs, const char *path,
                          cairn_fs_metadata *out)
{
  char *names = NULL, *n, value[8192];
  ssize_t len, vlen;
  int error = 0;

  memset(out, 0, sizeof(*out));
  len = listxattr(path, NULL, 0);
  if (len < 0 && errno == ENOTSUP)
    return 0;
  if (len < 0)
    return cairn__error_errno("cannot read the metadata of", path);
  if (len == 0)
    return 0;
  if (!(names = malloc((size_t)len)))
    return cairn__error_oom();
  if ((len = listxattr(path, names, (size_t)len)) < 0) {
    free(names);
    return cairn__error_errno("cannot read the metadata of", path);
  }
  for (n = names; !error && n < names + len; n += strlen(n) + 1) {
    if (strncmp(n, XATTR_PREFIX, XATTR_PREFIX_LEN) != 0)
      continue;
    if ((vlen = getxattr(path, n, value, sizeof(value) - 1)) < 0) {
      error = cairn__error_errno("cannot read the metadata of", path);
      break;
    }
    value[vlen] = '\0';
    error = cairn_azure_metadata_set(out, n + XATTR_PREFIX_LEN, value);
  }
  free(names);
  if (error)
    cairn_azure_metadata_dispose(out);
  return error;
}

/* Store the stream on @p fd as @p dst, create-only, hashing it. */
static int local_put_stream(cairn_fs *fs, int fd, const char *dst,
                            char sha256_hex[65])
{
  unsigned char digest[CAIRN_SHA256_LEN];
  struct pending p = {-1, NULL, NULL};
  cairn_sha256 *h = NULL;
  char *buf = NULL;
  ssize_t n;
  int error;

  if ((error = cairn_sha256_new(&h)) < 0)
    return error;
  if (!(buf = malloc(COPY_CHUNK))) {
    cairn_sha256_free(h);
    return cairn__error_oom();
  }
  if ((error = pending_open(&p, dst)) < 0)
    goto done;
  for (;;) {
    n = read(fd, buf, COPY_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = cairn__error_errno("cannot read the stream for", dst);
      break;
    }
    if (n == 0)
      break;
    cairn_sha256_update(h, buf, (size_t)n);
    if ((error = write_all(p.fd, buf, (size_t)n, dst)) < 0)
      break;
  }
  if (error < 0) {
    pending_drop(&p);
    goto done;
  }
  if ((error = pending_commit(&p, 1)) == 0) {
    cairn_sha256_final(h, digest);
    cairn_hex_encode(sha256_hex, digest, sizeof(digest));
  }
done:
  free(buf);
  cairn_sha256_free(h);
  return error;
}

/* A file:// URL of @p path, each byte outside [A-Za-z0-9-._~/] encoded. */
static int local_presign(cairn_fs *fs, const char *path,
                         int64_t expires_in_s, char **out)
{
  static const char hex[] = "0123456789ABCDEF";
  cairn_buf b = CAIRN_BUF_INIT;
  const unsigned char *p;
  int error;

  (void)expires_in_s;
  error = cairn_buf_puts(&b, "file://");
  for (p = (const unsigned char *)path; !error && *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
        (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
      error = cairn_buf_putc(&b, (char)*p);
    else
      error = cairn_buf_printf(&b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
  }
  if (error < 0) {
    cairn_buf_dispose(&b);
    return error;
  }
  *out = cairn_buf_detach(&b);
  return *out ? 0 : CAIRN_ENOMEM;
}

static void local_free(cairn_fs *fs)
{
  (void)fs;
}

static const struct cairn_fs_ops local_ops = {
    "local",       local_free,     local_open,    local_read,
    local_write,   local_close,    local_abort,   local_stat,
    local_listdir, local_mkdir,    local_remove,  local_copyfile,
    local_rename,  local_rmtree,   local_put_file, local_get_file,
    NULL,          NULL,           local_metadata, local_put_stream,
    local_presign, NULL,
};

int cairn_fs_local_new(cairn_fs **out, const char *root)
{
  struct local_fs *fs;
  char *abs;
  int error;

  *out = NULL;
  if (!root || !*root)
    return cairn__error(CAIRN_EINVAL, "empty root folder for a local "
                        "store");
  if (strstr(root, "://"))
    return cairn__error(CAIRN_EINVAL, "'%s' is a URI; a local store's root "
                        "is a folder", root);
  if (!(abs = cairn_path_absolute(root)))
    return CAIRN_ENOMEM;
  if (cairn__fs_normalise(abs, 0) < 0) {
    error = cairn__error(CAIRN_EINVAL, "root folder '%s' climbs above '/'",
                         root);
    free(abs);
    return error;
  }
  if ((error = cairn_mkdirs(abs, 0777)) < 0) {
    free(abs);
    return error;
  }
  if (!(fs = cairn__calloc(1, sizeof(*fs)))) {
    free(abs);
    return CAIRN_ENOMEM;
  }
  cairn__fs_init(&fs->base, &local_ops, abs);
  log_debug("fs", "local store at '%s'", abs);
  *out = &fs->base;
  return 0;
}

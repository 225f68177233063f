/*
 * The store filesystem's insides: the table of operations each flavor
 * fills, and the helpers the flavors share.  Internal to libcairn.
 *
 * src/fs/fs.c decides everything that is the same for both flavors:
 * path normalisation and confinement, argument checks with their
 * messages, walk, glob and the tree transfers.  A flavor's operations
 * receive paths that are already normalised and inside the root (full
 * paths in the root's form); cairn__fs_rel() gives the part below the
 * root.
 */
#ifndef CAIRN_FS_INTERNAL_H
#define CAIRN_FS_INTERNAL_H

#include <cairn/fs.h>

#include "core/buf.h"

/* Open modes, after fs.c has read the mode string. */
enum cairn__fs_mode {
  CAIRN__FS_READ = 'r',
  CAIRN__FS_WRITE = 'w',  /* replace */
  CAIRN__FS_CREATE = 'x'  /* create-only */
};

/* One file of a batch transfer (put_tree, get_tree). */
struct cairn__fs_job {
  const char *local;  /* local file */
  const char *remote; /* full path in the store */
  uint64_t size;      /* filled by the transfer */
  char sha256[65];    /* filled by the transfer */
};

struct cairn_fs_ops {
  const char *flavor;
  void (*free)(cairn_fs *fs);

  /* @p md [nullable]: metadata to store with a file being written. */
  int (*open)(cairn_fs_file **out, cairn_fs *fs, const char *path,
              enum cairn__fs_mode mode, const cairn_fs_metadata *md);
  int (*read)(cairn_fs_file *f, void *buf, size_t len, size_t *nread);
  int (*write)(cairn_fs_file *f, const void *data, size_t len);
  int (*close)(cairn_fs_file *f); /* commits; frees f */
  void (*abort)(cairn_fs_file *f); /* frees f */

  /* CAIRN_ENOTFOUND naming the path when missing. */
  int (*stat)(cairn_fs *fs, const char *path, cairn_fs_info *out);
  /*
   * Names in directory @p path into @p dirs and @p files (any order);
   * CAIRN_ENOTFOUND when missing, CAIRN_EINVAL when a file.
   */
  int (*listdir)(cairn_fs *fs, const char *path, cairn_strlist *dirs,
                 cairn_strlist *files);
  /* Create one directory; fs.c has checked parent and existence. */
  int (*mkdir)(cairn_fs *fs, const char *path);
  /* Delete one file; fs.c has checked that it is a file. */
  int (*remove)(cairn_fs *fs, const char *path);
  /* fs.c has checked src is a file and dst is not a directory. */
  int (*copyfile)(cairn_fs *fs, const char *src, const char *dst,
                  int overwrite);
  int (*rename)(cairn_fs *fs, const char *src, const char *dst,
                int overwrite);
  /* fs.c has checked that @p path is a directory. */
  int (*rmtree)(cairn_fs *fs, const char *path);
  /* Create-only upload of a local file; size and SHA-256 on the way. */
  int (*put_file)(cairn_fs *fs, const char *local, const char *dst,
                  char sha256_hex[65]);
  /* Download to a local file (replaced). */
  int (*get_file)(cairn_fs *fs, const char *src, const char *local,
                  char sha256_hex[65]);
  /*
   * [nullable] Many files at once (in parallel); fills each job's
   * sha256.  NULL: fs.c calls put_file / get_file one by one.
   */
  int (*put_many)(cairn_fs *fs, struct cairn__fs_job *jobs, size_t n);
  int (*get_many)(cairn_fs *fs, struct cairn__fs_job *jobs, size_t n);
  /* The metadata of a file; fs.c has checked that it is a file. */
  int (*metadata)(cairn_fs *fs, const char *path, cairn_fs_metadata *out);
  /* Create-only upload of a stream; fs.c has checked @p dst is free. */
  int (*put_stream)(cairn_fs *fs, int fd, const char *dst,
                    char sha256_hex[65]);
  /* A read URL of a file; fs.c has checked that it is a file. */
  int (*presign)(cairn_fs *fs, const char *path, int64_t expires_in_s,
                 char **out);
  /*
   * [nullable] Take new transfer settings.  A flavor that has it counts
   * its own progress as data moves; fs.c counts it for the others, a
   * file at a time.
   */
  int (*set_options)(cairn_fs *fs, const cairn_azure_transfer_options *o);
};

struct cairn_fs {
  const struct cairn_fs_ops *ops;
  char *root;      /* normalised, no trailing '/' */
  size_t root_len;
  size_t root_pfx; /* bytes of root before its first path byte */
  cairn_progress *progress; /* [nullable] */
};

/* Add to the progress counters of @p fs, if it has them. */
void cairn__fs_progress(cairn_fs *fs, uint64_t bytes, uint64_t files);

/* Every flavor's file starts with this. */
struct cairn_fs_file {
  cairn_fs *fs;
  enum cairn__fs_mode mode;
};

/*
 * Fill the common part of a new filesystem: @p root is taken over
 * (normalised by the caller with cairn__fs_normalise()).
 */
void cairn__fs_init(cairn_fs *fs, const struct cairn_fs_ops *ops,
                    char *root);

/*
 * Normalise a path in place: backslashes to '/', "//" collapsed (not
 * the one of "scheme://"), "." dropped and ".." resolved without going
 * above the start of the path part, trailing '/' trimmed.
 * @p path_start is the offset of the path part (after "scheme://C" for
 * URIs, 0 for local paths).  Returns 0, or CAIRN_EPERM when ".." would
 * climb above the start (the caller names the path in its message).
 */
int cairn__fs_normalise(char *path, size_t path_start);

/*
 * The part of full path @p path below the root: "" for the root itself.
 * Borrowed from @p path.
 */
const char *cairn__fs_rel(const cairn_fs *fs, const char *path);

/* The last component and the parent of a full path (parent: free()). */
const char *cairn__fs_basename(const char *path);
char *cairn__fs_parent(const char *path);

/*
 * Match a '/'-separated relative path against a glob pattern: `*`, `?`
 * and `[...]` (with `!` or `^` to negate, ranges a-z) within one level,
 * a whole `**` level for zero or more levels.  Returns 1 on a match.
 */
int cairn__glob_match(const char *pattern, const char *path);
/* 1 when @p s (up to @p len bytes) holds a glob special character. */
int cairn__glob_has_magic(const char *s, size_t len);

#endif

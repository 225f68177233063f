/**
 * @file cairn/fs.h
 * @brief The artifact store filesystem: one interface, a local and an
 *        Azure implementation.
 *
 * A cairn_fs is rooted at a store's root: a local absolute folder, or an
 * Azure URI (az://C[/P], abfs://..., see cairn/azure.h).  Paths given to
 * every call are full paths in the same form as the root (an absolute
 * local path, or a URI with the root's scheme); a path outside the root
 * is refused with a separator-boundary check (root az://data does not
 * admit az://database/x), with CAIRN_EPERM.  A missing path gives
 * CAIRN_ENOTFOUND with a message naming it.
 *
 * Directories on Azure are blob-name prefixes; mkdir and makedirs also
 * write a zero-length marker blob with metadata hdi_isfolder=true, and
 * markers written by other tools are directories, never files.
 *
 * Names: a path with a part ending in '.' ("out/file.", "out./z") is
 * refused with CAIRN_EINVAL on every flavor, because Azure drops the
 * dot and would store the file under another name.  Anything else
 * (spaces, unicode, + % # ? & = @ ! ( ) ; , * ') is kept byte for byte.
 * Trailing and doubled '/' are the same path as without them.
 */
#ifndef CAIRN_FS_H
#define CAIRN_FS_H

#include <stdint.h>

#include "azure.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A store filesystem.  Opaque. */
typedef struct cairn_fs cairn_fs;

/** A local store rooted at folder @p root (made absolute, created). */
CAIRN_EXTERN(int) cairn_fs_local_new(cairn_fs **out, const char *root);

/**
 * An Azure store rooted at @p root_uri, reached with @p account
 * (borrowed: it must outlive the filesystem).
 * @param options [nullable] transfer settings
 */
CAIRN_EXTERN(int) cairn_fs_azure_new(
    cairn_fs **out, const char *root_uri, const cairn_azure_account *account,
    const cairn_azure_transfer_options *options);

CAIRN_EXTERN(void) cairn_fs_free(cairn_fs *fs);

/**
 * Change the transfer settings of @p fs: concurrency, block size and
 * memory budget for an Azure store, and for every flavor the progress
 * counters (options->progress [nullable]) that transfers raise; the
 * totals are set by cairn_fs_put_file(), get_file(), put_tree() and
 * get_tree() before they move data.
 */
CAIRN_EXTERN(int) cairn_fs_set_transfer_options(
    cairn_fs *fs, const cairn_azure_transfer_options *options);

/** The root as given (normalised: no trailing '/').  Borrowed. */
CAIRN_EXTERN(const char *) cairn_fs_root(const cairn_fs *fs);
/** "local" or "azure". */
CAIRN_EXTERN(const char *) cairn_fs_flavor(const cairn_fs *fs);

/** 1 when @p path lies at or below the root of @p fs, else 0. */
CAIRN_EXTERN(int) cairn_fs_contains(const cairn_fs *fs, const char *path);

/**
 * Join @p rel (a '/'-separated relative path) to the root, as a new
 * string (free()).
 */
CAIRN_EXTERN(char *) cairn_fs_path(const cairn_fs *fs, const char *rel);

/* ------------------------------------------------------------------ */
/* Streaming files                                                     */
/* ------------------------------------------------------------------ */

typedef struct cairn_fs_file cairn_fs_file;

/**
 * Open @p path for reading ("r", "rb") or writing ("w", "wb").  A file
 * opened for writing appears only when cairn_fs_file_close() succeeds;
 * "w" replaces an existing file; "x" fails with CAIRN_EEXISTS when
 * the file exists (create-only).
 */
CAIRN_EXTERN(int) cairn_fs_open(cairn_fs_file **out, cairn_fs *fs,
                                const char *path, const char *mode);
/** Read up to @p len bytes; *nread == 0 at the end of the file. */
CAIRN_EXTERN(int) cairn_fs_read(cairn_fs_file *f, void *buf, size_t len,
                                size_t *nread);
CAIRN_EXTERN(int) cairn_fs_write(cairn_fs_file *f, const void *data,
                                 size_t len);
/** Finish (commit a write).  Frees @p f whatever the result. */
CAIRN_EXTERN(int) cairn_fs_close(cairn_fs_file *f);
/** Drop a file opened for writing without creating it; frees @p f. */
CAIRN_EXTERN(void) cairn_fs_abort(cairn_fs_file *f);

/**
 * Metadata of a file: name/value pairs, names compared without regard to
 * case.  Build and read it with cairn_azure_metadata_set(), _get() and
 * _dispose() (cairn/azure.h), whose rules hold on every flavor.
 */
typedef cairn_azure_metadata cairn_fs_metadata;

/**
 * cairn_fs_open() for writing ("w", "wb", "x", "xb"), storing
 * @p metadata [nullable] with the file: blob metadata on Azure, extended
 * attributes "user.cairn.<name>" on a local disk.  The file and its
 * metadata appear together on cairn_fs_close().  CAIRN_EINVAL for a mode
 * that reads, or when the local file system keeps no extended attributes.
 */
CAIRN_EXTERN(int) cairn_fs_open_with(cairn_fs_file **out, cairn_fs *fs,
                                     const char *path, const char *mode,
                                     const cairn_fs_metadata *metadata);

/**
 * The metadata stored with file @p path, names as they were written.
 * Dispose of @p out with cairn_azure_metadata_dispose().
 */
CAIRN_EXTERN(int) cairn_fs_read_metadata(cairn_fs *fs, const char *path,
                                         cairn_fs_metadata *out);

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

/** Entry types for stat and walk. */
typedef enum { CAIRN_FS_FILE = 1, CAIRN_FS_DIR = 2 } cairn_fs_type;

/** What cairn_fs_stat() reports about a path. */
typedef struct {
  cairn_fs_type type;
  uint64_t size;         /**< bytes; 0 for directories */
  int64_t mtime;         /**< seconds since the epoch, 0 if unknown */
} cairn_fs_info;

/** A list of strings owned by the caller; empty it with _dispose. */
typedef struct {
  char **items;
  size_t count;
  size_t alloc;
} cairn_fs_list;

CAIRN_EXTERN(void) cairn_fs_list_dispose(cairn_fs_list *list);

/** Copy a file; CAIRN_EEXISTS when @p dst exists and !overwrite. */
CAIRN_EXTERN(int) cairn_fs_copyfile(cairn_fs *fs, const char *src,
                                    const char *dst, int overwrite);
/** *out = 1 when @p path is a file or a directory.  Never ENOTFOUND. */
CAIRN_EXTERN(int) cairn_fs_exists(cairn_fs *fs, const char *path, int *out);
/** *out = 1 when @p path is a directory. */
CAIRN_EXTERN(int) cairn_fs_isdir(cairn_fs *fs, const char *path, int *out);
/**
 * Full paths matching @p pattern (`*`, `?`, `[...]` within one level,
 * `**` for any depth), sorted.  Files and directories match alike, as
 * on a disk; a directory marker is a directory, never a file.
 */
CAIRN_EXTERN(int) cairn_fs_glob(cairn_fs *fs, const char *pattern,
                                cairn_fs_list *out);
/** Names (not paths) of the entries of directory @p path, sorted. */
CAIRN_EXTERN(int) cairn_fs_listdir(cairn_fs *fs, const char *path,
                                   cairn_fs_list *out);
/** Create @p path and its parents; fine when it exists. */
CAIRN_EXTERN(int) cairn_fs_makedirs(cairn_fs *fs, const char *path);
/**
 * Create one directory: its parent must exist (CAIRN_ENOTFOUND), and it
 * must not (CAIRN_EEXISTS).
 */
CAIRN_EXTERN(int) cairn_fs_mkdir(cairn_fs *fs, const char *path);
/** Delete one file; CAIRN_ENOTFOUND when missing. */
CAIRN_EXTERN(int) cairn_fs_remove(cairn_fs *fs, const char *path);
/** Move a file; CAIRN_EEXISTS when @p dst exists and !overwrite. */
CAIRN_EXTERN(int) cairn_fs_rename(cairn_fs *fs, const char *src,
                                  const char *dst, int overwrite);
/** Delete a directory and everything under it. */
CAIRN_EXTERN(int) cairn_fs_rmtree(cairn_fs *fs, const char *path);
/** What @p path is; CAIRN_ENOTFOUND naming it when missing. */
CAIRN_EXTERN(int) cairn_fs_stat(cairn_fs *fs, const char *path,
                                cairn_fs_info *out);
/** Size of a file in bytes. */
CAIRN_EXTERN(int) cairn_fs_size(cairn_fs *fs, const char *path,
                                uint64_t *out);

/**
 * Walk callback: @p dirpath is a full path; @p dirs and @p files the
 * names in it.  Return non-zero to stop the walk (that value is returned).
 */
typedef int (*cairn_fs_walk_cb)(const char *dirpath,
                                const cairn_fs_list *dirs,
                                const cairn_fs_list *files, void *payload);

/** Walk the tree under @p top, top-down, entries sorted. */
CAIRN_EXTERN(int) cairn_fs_walk(cairn_fs *fs, const char *top,
                                cairn_fs_walk_cb cb, void *payload);

/* ------------------------------------------------------------------ */
/* Bulk transfers between the local disk and the store                 */
/* ------------------------------------------------------------------ */

/**
 * Store local file @p local_path at @p dst, create-only (CAIRN_EEXISTS
 * when @p dst exists).  Writes the SHA-256 as hex to @p sha256_hex
 * [nullable], computed in the same pass.
 */
CAIRN_EXTERN(int) cairn_fs_put_file(cairn_fs *fs, const char *local_path,
                                    const char *dst, char sha256_hex[65]);
/**
 * Store everything read from @p fd up to its end (a pipe, standard
 * input: the length need not be known) at @p dst, create-only
 * (CAIRN_EEXISTS before reading when @p dst exists), with bounded memory.
 * On Azure the blocks grow so that a stream of up to
 * CAIRN_AZURE_STREAM_MAX_DEFAULT bytes fits the service's 50,000 blocks.
 * Writes the SHA-256 to @p sha256_hex [nullable].
 */
CAIRN_EXTERN(int) cairn_fs_put_stream(cairn_fs *fs, int fd, const char *dst,
                                      char sha256_hex[65]);

/**
 * A URL that reads file @p path without credentials: on Azure the blob's
 * URL with a read-only SAS valid for @p expires_in_s seconds (see
 * cairn_azure_blob_presign(); it needs the account key); on a local disk
 * a file:// URL, which does not expire.  *out is a new string (free()).
 * CAIRN_ENOTFOUND when @p path is missing, CAIRN_EINVAL for a directory.
 */
CAIRN_EXTERN(int) cairn_fs_presign(char **out, cairn_fs *fs,
                                   const char *path, int64_t expires_in_s);

/**
 * Copy @p src to local file @p local_path (replaced), byte-exact.
 * Writes the SHA-256 to @p sha256_hex [nullable].
 */
CAIRN_EXTERN(int) cairn_fs_get_file(cairn_fs *fs, const char *src,
                                    const char *local_path,
                                    char sha256_hex[65]);

/** One file of a tree transfer. */
typedef struct {
  char *rel;        /**< path relative to the tree's top, '/'-separated */
  uint64_t size;
  char sha256[65];  /**< lowercase hex */
} cairn_fs_tree_entry;

/** The files of a tree transfer, sorted by rel; empty with _dispose. */
typedef struct {
  cairn_fs_tree_entry *items;
  size_t count;
  size_t alloc;
} cairn_fs_tree;

CAIRN_EXTERN(void) cairn_fs_tree_dispose(cairn_fs_tree *tree);

/**
 * Store every file under local folder @p local_dir below @p dst (which
 * must not exist), many files in parallel on Azure.  Fills @p out
 * [nullable] with each file's relative path, size and SHA-256.
 */
CAIRN_EXTERN(int) cairn_fs_put_tree(cairn_fs *fs, const char *local_dir,
                                    const char *dst, cairn_fs_tree *out);
/**
 * Copy every file under @p src into local folder @p local_dir (created),
 * byte-exact, recreating empty directories.
 */
CAIRN_EXTERN(int) cairn_fs_get_tree(cairn_fs *fs, const char *src,
                                    const char *local_dir,
                                    cairn_fs_tree *out);

#ifdef __cplusplus
}
#endif
#endif

/*
 * The Azure store flavor: a container (and a path prefix in it) on a
 * flat blob namespace, over the public client of cairn/azure.h.
 *
 * Directories are blob-name prefixes.  mkdir writes a zero-length
 * marker blob (metadata hdi_isfolder=true) so that an empty directory
 * exists; markers, ours or other tools', are directories and never
 * files.  A path is a directory when it has a marker or any blob below
 * it; the root is a directory whenever the container exists.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "fs/fs_internal.h"

struct azure_fs {
  cairn_fs base;
  const cairn_azure_account *account;
  cairn_azure_transfer_options opts;
  cairn_azure_client *client;
  cairn_azure_uri uri;
  int container_ready;
};

struct azure_file {
  cairn_fs_file base;
  cairn_azure_reader *reader;
  cairn_azure_writer *writer;
};

#define AZ(fs) ((struct azure_fs *)(fs))

/* The blob name of a full path: "" for a container root (free()). */
static char *blob_name(cairn_fs *fs, const char *path)
{
  const char *prefix = AZ(fs)->uri.path;
  const char *rel = cairn__fs_rel(fs, path);

  if (!*prefix)
    return cairn__strdup(rel);
  if (!*rel)
    return cairn__strdup(prefix);
  return cairn__sprintf("%s/%s", prefix, rel);
}

static const char *container(cairn_fs *fs)
{
  return AZ(fs)->uri.container;
}

/* Create the container on the first write, if it is missing. */
static int ensure_container(cairn_fs *fs)
{
  struct azure_fs *az = AZ(fs);
  int error;

  if (az->container_ready)
    return 0;
  error = cairn_azure_container_create(az->client, az->uri.container);
  if (error == CAIRN_EEXISTS) {
    cairn_error_clear();
    error = 0;
  } else if (error == CAIRN_EPERM || error == CAIRN_EAUTH) {
    /*
     * A container SAS may not create containers: when the container
     * is there, that is all the store needs.
     */
    error = cairn_azure_container_exists(az->client, az->uri.container);
    if (error == CAIRN_ENOTFOUND)
      error = cairn__error(CAIRN_EPERM, "container '%s' does not exist and "
                           "these credentials may not create it; create "
                           "it, or use credentials that may",
                           az->uri.container);
  }
  if (!error) {
    log_debug("fs", "container '%s' ready", az->uri.container);
    az->container_ready = 1;
  }
  return error;
}

/* *out = 1 when any blob's name starts with @p name + "/". */
static int has_children(cairn_fs *fs, const char *name, int *out)
{
  char *prefix = cairn__sprintf("%s/", name);
  int error;

  *out = 0;
  if (!prefix)
    return CAIRN_ENOMEM;
  error = cairn_azure_list_any(AZ(fs)->client, container(fs), prefix, out);
  free(prefix);
  if (error == CAIRN_ENOTFOUND) {
    cairn_error_clear();
    return 0;
  }
  return error;
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

static int az_stat(cairn_fs *fs, const char *path, cairn_fs_info *out)
{
  cairn_azure_blob_info info;
  char *name;
  int error, children;

  memset(out, 0, sizeof(*out));
  if (!strcmp(path, fs->root)) {
    error = cairn_azure_container_exists(AZ(fs)->client, container(fs));
    if (error == CAIRN_ENOTFOUND)
      return cairn__error(CAIRN_ENOTFOUND, "no directory '%s': container "
                          "'%s' does not exist", path, container(fs));
    if (!error)
      AZ(fs)->container_ready = 1;
    out->type = CAIRN_FS_DIR;
    return error;
  }
  if (!(name = blob_name(fs, path)))
    return CAIRN_ENOMEM;
  memset(&info, 0, sizeof(info));
  error = cairn_azure_blob_properties(AZ(fs)->client, container(fs), name,
                                     &info);
  if (!error) {
    out->type = info.is_dir_marker ? CAIRN_FS_DIR : CAIRN_FS_FILE;
    out->size = info.is_dir_marker ? 0 : info.size;
    out->mtime = info.last_modified;
  } else if (error == CAIRN_ENOTFOUND) {
    cairn_error_clear();
    if ((error = has_children(fs, name, &children)) == 0) {
      if (children)
        out->type = CAIRN_FS_DIR;
      else
        error = cairn__error(CAIRN_ENOTFOUND, "no file or directory '%s'",
                             path);
    }
  }
  cairn_azure_blob_info_dispose(&info);
  free(name);
  return error;
}

struct listing {
  size_t skip; /* bytes of the listed prefix */
  cairn_strlist *dirs;
  cairn_strlist *files;
  int any;
};

static int list_entry(const cairn_azure_blob_info *e, void *payload)
{
  struct listing *l = payload;
  const char *rel;
  size_t len;
  int error;

  l->any = 1;
  if (strlen(e->name) <= l->skip)
    return 0; /* the listed directory's own marker */
  rel = e->name + l->skip;
  len = strlen(rel);
  if (e->is_prefix || rel[len - 1] == '/') {
    char *d = cairn__strndup(rel, rel[len - 1] == '/' ? len - 1 : len);

    if (!d)
      return CAIRN_ENOMEM;
    if (!*d || strchr(d, '/')) {
      free(d);
      return 0;
    }
    error = cairn_strlist_take(l->dirs, d);
  } else {
    error = cairn_strlist_add(e->is_dir_marker ? l->dirs : l->files, rel);
  }
  return error < 0 ? error : 0;
}

/* Sort and drop repeats (a marker and a prefix of the same directory). */
static void unique(cairn_strlist *l)
{
  size_t i, j = 0;

  cairn_strlist_sort(l);
  for (i = 0; i < l->count; i++) {
    if (j && !strcmp(l->items[j - 1], l->items[i])) {
      free(l->items[i]);
      continue;
    }
    l->items[j++] = l->items[i];
  }
  l->count = j;
}

static int az_listdir(cairn_fs *fs, const char *path, cairn_strlist *dirs,
                      cairn_strlist *files)
{
  struct listing l;
  cairn_fs_info st;
  char *name, *prefix;
  int error;

  if (!(name = blob_name(fs, path)))
    return CAIRN_ENOMEM;
  prefix = *name ? cairn__sprintf("%s/", name) : cairn__strdup("");
  free(name);
  if (!prefix)
    return CAIRN_ENOMEM;
  l.skip = strlen(prefix);
  l.dirs = dirs;
  l.files = files;
  l.any = 0;
  error = cairn_azure_list(AZ(fs)->client, container(fs), prefix, "/",
                           list_entry, &l);
  free(prefix);
  if (error == CAIRN_ENOTFOUND)
    return cairn__error(CAIRN_ENOTFOUND, "no directory '%s': container "
                        "'%s' does not exist", path, container(fs));
  if (error)
    return error;
  unique(dirs);
  if (l.any)
    return 0;

  /* Nothing below: an empty directory, a file, or nothing at all. */
  if ((error = az_stat(fs, path, &st)) < 0) {
    if (error == CAIRN_ENOTFOUND)
      return cairn__error(CAIRN_ENOTFOUND, "no directory '%s'", path);
    return error;
  }
  if (st.type != CAIRN_FS_DIR)
    return cairn__error(CAIRN_EINVAL, "'%s' is a file, not a directory",
                        path);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Changes                                                             */
/* ------------------------------------------------------------------ */

static int az_mkdir(cairn_fs *fs, const char *path)
{
  char *name;
  int error;

  if ((error = ensure_container(fs)) < 0)
    return error;
  if (!(name = blob_name(fs, path)))
    return CAIRN_ENOMEM;
  if (*name)
    error = cairn_azure_blob_put(AZ(fs)->client, container(fs), name, "",
                                 0, CAIRN_AZURE_DIR_MARKER);
  free(name);
  return error;
}

static int az_remove(cairn_fs *fs, const char *path)
{
  char *name = blob_name(fs, path);
  int error;

  if (!name)
    return CAIRN_ENOMEM;
  /*
   * fs.c found the file a moment ago: gone now means deleted, perhaps by
   * an attempt of this delete whose answer was lost.
   */
  error = cairn_azure_blob_delete(AZ(fs)->client, container(fs), name);
  if (error == CAIRN_ENOTFOUND) {
    cairn_error_clear();
    error = 0;
  }
  free(name);
  return error;
}

static int az_copy(cairn_fs *fs, const char *src, const char *dst,
                   int overwrite)
{
  char *s = blob_name(fs, src), *d = blob_name(fs, dst);
  int error = CAIRN_ENOMEM;

  if (s && d && (error = ensure_container(fs)) == 0)
    error = cairn_azure_blob_copy(AZ(fs)->client, container(fs), s, d,
                                  overwrite ? 0 : CAIRN_AZURE_CREATE_ONLY);
  if (error == CAIRN_EEXISTS)
    error = cairn__error(CAIRN_EEXISTS, "destination '%s' exists; allow "
                         "overwrite to replace it", dst);
  free(s);
  free(d);
  return error;
}

static int az_rename(cairn_fs *fs, const char *src, const char *dst,
                     int overwrite)
{
  int error = az_copy(fs, src, dst, overwrite);

  if (!error)
    error = az_remove(fs, src);
  return error;
}

static int collect_name(const cairn_azure_blob_info *e, void *payload)
{
  return cairn_strlist_add(payload, e->name) < 0 ? CAIRN_ENOMEM : 0;
}

static int az_rmtree(cairn_fs *fs, const char *path)
{
  cairn_strlist names = CAIRN_STRLIST_INIT;
  cairn_azure_blob_info info;
  char *name, *prefix = NULL;
  size_t n;
  int error;

  if (!(name = blob_name(fs, path)))
    return CAIRN_ENOMEM;
  memset(&info, 0, sizeof(info));
  prefix = *name ? cairn__sprintf("%s/", name) : cairn__strdup("");
  if (!prefix) {
    error = CAIRN_ENOMEM;
    goto done;
  }
  error = cairn_azure_list(AZ(fs)->client, container(fs), prefix, NULL,
                           collect_name, &names);
  if (error)
    goto done;

  /* The directory's own marker goes last, after what is below it. */
  if (*name) {
    error = cairn_azure_blob_properties(AZ(fs)->client, container(fs),
                                        name, &info);
    if (!error && info.is_dir_marker)
      error = cairn_strlist_add(&names, name);
    else if (error == CAIRN_ENOTFOUND || !error) {
      cairn_error_clear();
      error = 0;
    }
    if (error)
      goto done;
  }
  log_debug("fs", "removing %zu blobs under '%s'", names.count, path);
  /* what is below, many at once; then the directory's own marker */
  n = names.count;
  if (n && !strcmp(names.items[n - 1], name))
    n--;
  if ((error = cairn_azure_blob_delete_many(
           AZ(fs)->client, container(fs),
           (const char *const *)names.items, n)) < 0)
    goto done;
  if (n < names.count)
    error = cairn_azure_blob_delete_many(
        AZ(fs)->client, container(fs),
        (const char *const *)names.items + n, 1);
done:
  cairn_azure_blob_info_dispose(&info);
  cairn_strlist_dispose(&names);
  free(prefix);
  free(name);
  return error;
}

/* ------------------------------------------------------------------ */
/* Streaming files                                                     */
/* ------------------------------------------------------------------ */

static int az_open(cairn_fs_file **out, cairn_fs *fs, const char *path,
                   enum cairn__fs_mode mode, const cairn_fs_metadata *md)
{
  struct azure_file *f;
  char *name;
  int error;

  if (mode != CAIRN__FS_READ && (error = ensure_container(fs)) < 0)
    return error;
  if (!(f = cairn__calloc(1, sizeof(*f))))
    return CAIRN_ENOMEM;
  if (!(name = blob_name(fs, path))) {
    free(f);
    return CAIRN_ENOMEM;
  }
  f->base.fs = fs;
  f->base.mode = mode;
  if (mode == CAIRN__FS_READ)
    error = cairn_azure_reader_open(&f->reader, AZ(fs)->client,
                                    container(fs), name);
  else
    error = cairn_azure_writer_open_with(
        &f->writer, AZ(fs)->client, container(fs), name,
        mode == CAIRN__FS_CREATE ? CAIRN_AZURE_CREATE_ONLY : 0, md);
  free(name);
  if (error < 0) {
    free(f);
    return error;
  }
  *out = &f->base;
  return 0;
}

static int az_read(cairn_fs_file *file, void *buf, size_t len,
                   size_t *nread)
{
  return cairn_azure_reader_read(((struct azure_file *)file)->reader, buf,
                                 len, nread);
}

static int az_write(cairn_fs_file *file, const void *data, size_t len)
{
  return cairn_azure_writer_write(((struct azure_file *)file)->writer, data,
                                  len);
}

static int az_close(cairn_fs_file *file)
{
  struct azure_file *f = (struct azure_file *)file;
  int error = 0;

  if (f->reader)
    cairn_azure_reader_close(f->reader);
  if (f->writer)
    error = cairn_azure_writer_close(f->writer);
  free(f);
  return error;
}

static void az_abort(cairn_fs_file *file)
{
  struct azure_file *f = (struct azure_file *)file;

  if (f->reader)
    cairn_azure_reader_close(f->reader);
  if (f->writer)
    cairn_azure_writer_abort(f->writer);
  free(f);
}

/* ------------------------------------------------------------------ */
/* Transfers                                                           */
/* ------------------------------------------------------------------ */

static int az_put_file(cairn_fs *fs, const char *local, const char *dst,
                       char sha256_hex[65])
{
  char *name;
  int error;

  if ((error = ensure_container(fs)) < 0)
    return error;
  if (!(name = blob_name(fs, dst)))
    return CAIRN_ENOMEM;
  error = cairn_azure_blob_upload_file(AZ(fs)->client, container(fs), name,
                                       local, CAIRN_AZURE_CREATE_ONLY,
                                       sha256_hex);
  free(name);
  return error;
}

static int az_get_file(cairn_fs *fs, const char *src, const char *local,
                       char sha256_hex[65])
{
  char *name = blob_name(fs, src);
  int error;

  if (!name)
    return CAIRN_ENOMEM;
  error = cairn_azure_blob_download_file(AZ(fs)->client, container(fs),
                                         name, local, sha256_hex);
  free(name);
  return error;
}

/* Many files at once, one way or the other, over the store's client. */
static int az_many(cairn_fs *fs, struct cairn__fs_job *jobs, size_t n,
                   int put)
{
  cairn_azure_upload_job *many;
  size_t i;
  int error = 0;

  if (put && (error = ensure_container(fs)) < 0)
    return error;
  if (!(many = cairn__calloc(n + 1, sizeof(*many))))
    return CAIRN_ENOMEM;
  for (i = 0; i < n; i++) {
    many[i].local_path = jobs[i].local;
    if (!(many[i].name = blob_name(fs, jobs[i].remote))) {
      error = CAIRN_ENOMEM;
      goto done;
    }
  }
  if (put)
    error = cairn_azure_blob_upload_many(AZ(fs)->client, container(fs),
                                         many, n, CAIRN_AZURE_CREATE_ONLY);
  else
    error = cairn_azure_blob_download_many(AZ(fs)->client, container(fs),
                                           many, n);
  for (i = 0; !error && i < n; i++) {
    jobs[i].size = many[i].size;
    memcpy(jobs[i].sha256, many[i].sha256, sizeof(jobs[i].sha256));
  }
done:
  for (i = 0; i < n; i++)
    free((char *)many[i].name);
  free(many);
  return error;
}

static int az_put_many(cairn_fs *fs, struct cairn__fs_job *jobs, size_t n)
{
  return az_many(fs, jobs, n, 1);
}

static int az_get_many(cairn_fs *fs, struct cairn__fs_job *jobs, size_t n)
{
  return az_many(fs, jobs, n, 0);
}

static int az_metadata(cairn_fs *fs, const char *path,
                       cairn_fs_metadata *out)
{
  char *name = blob_name(fs, path);
  int error;

  if (!name)
    return CAIRN_ENOMEM;
  error = cairn_azure_blob_metadata(AZ(fs)->client, container(fs), name,
                                    out);
  free(name);
  return error;
}

static int read_fd(void *payload, void *buf, size_t len, size_t *nread)
{
  int fd = *(int *)payload;
  ssize_t n;

  do
    n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return cairn__error(CAIRN_EIO, "cannot read the stream: %s",
                        strerror(errno));
  *nread = (size_t)n;
  return 0;
}

static int az_put_stream(cairn_fs *fs, int fd, const char *dst,
                         char sha256_hex[65])
{
  char *name;
  int error;

  if ((error = ensure_container(fs)) < 0)
    return error;
  if (!(name = blob_name(fs, dst)))
    return CAIRN_ENOMEM;
  error = cairn_azure_blob_upload_stream(AZ(fs)->client, container(fs),
                                         name, read_fd, &fd, 0,
                                         CAIRN_AZURE_CREATE_ONLY,
                                         sha256_hex);
  free(name);
  return error;
}

static int az_presign(cairn_fs *fs, const char *path, int64_t expires_in_s,
                      char **out)
{
  char *name = blob_name(fs, path);
  int error;

  if (!name)
    return CAIRN_ENOMEM;
  error = cairn_azure_blob_presign(out, AZ(fs)->account, container(fs),
                                   name, expires_in_s);
  free(name);
  return error;
}

/* ------------------------------------------------------------------ */
/* Object                                                              */
/* ------------------------------------------------------------------ */

static void az_free(cairn_fs *fs)
{
  struct azure_fs *az = AZ(fs);

  cairn_azure_client_free(az->client);
  cairn_azure_uri_dispose(&az->uri);
}

static int az_set_options(cairn_fs *fs,
                          const cairn_azure_transfer_options *o)
{
  struct azure_fs *az = AZ(fs);
  cairn_azure_client *client;
  int error;

  if ((error = cairn_azure_client_new(&client, az->account, o)) < 0)
    return error;
  cairn_azure_client_free(az->client);
  az->client = client;
  az->opts = *o;
  return 0;
}

static const struct cairn_fs_ops azure_ops = {
    "azure",     az_free,    az_open,     az_read,       az_write,
    az_close,    az_abort,   az_stat,     az_listdir,    az_mkdir,
    az_remove,   az_copy,    az_rename,   az_rmtree,     az_put_file,
    az_get_file, az_put_many, az_get_many, az_metadata,  az_put_stream,
    az_presign,  az_set_options,
};

int cairn_fs_azure_new(cairn_fs **out, const char *root_uri,
                       const cairn_azure_account *account,
                       const cairn_azure_transfer_options *options)
{
  struct azure_fs *az;
  const char *sep, *slash;
  char *root;
  size_t start;
  int error;

  *out = NULL;
  if (!root_uri || !account)
    return cairn__error(CAIRN_EINVAL, "an Azure store needs a root URI "
                        "and an account");
  if (!(root = cairn__strdup(root_uri)))
    return CAIRN_ENOMEM;
  if (!(az = cairn__calloc(1, sizeof(*az)))) {
    free(root);
    return CAIRN_ENOMEM;
  }

  /* Normalise the path part, then read container and prefix from it. */
  sep = strstr(root, "://");
  slash = sep ? strchr(sep + 3, '/') : NULL;
  start = slash ? (size_t)(slash - root) : strlen(root);
  if (cairn__fs_normalise(root, start) < 0) {
    error = cairn__error(CAIRN_EINVAL, "store root '%s' climbs above its "
                         "container", root_uri);
    goto fail;
  }
  if ((error = cairn_azure_uri_parse(&az->uri, root)) < 0)
    goto fail;
  if (*az->uri.account &&
      strcmp(az->uri.account, cairn_azure_account_name(account))) {
    error = cairn__error(CAIRN_EINVAL, "store root '%s' names account '%s' "
                         "but the credentials are for account '%s'",
                         root, az->uri.account,
                         cairn_azure_account_name(account));
    goto fail;
  }
  az->account = account;
  if (options)
    az->opts = *options;
  if ((error = cairn_azure_client_new(&az->client, account, options)) < 0)
    goto fail;
  cairn__fs_init(&az->base, &azure_ops, root);
  log_debug("fs", "azure store at '%s' (container '%s', prefix '%s')", root,
            az->uri.container, az->uri.path);
  *out = &az->base;
  return 0;
fail:
  cairn_azure_uri_dispose(&az->uri);
  free(az);
  free(root);
  return error;
}

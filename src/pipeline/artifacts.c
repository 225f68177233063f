/*
 * Artifact versions in a store: upload a step's output with its
 * manifest, download an input, and check what was read against the
 * recorded SHA-256.
 *
 * The manifest, <version folder>/cairn-manifest.json, is written last:
 *   {"format": 1, "artifact": NAME, "kind": "file"|"folder",
 *    "files": [{"path", "size", "sha256"}, ...], "size": N,
 *    "sha256": HEX}
 * For a file the sha256 is the file's own.  For a folder it is the
 * SHA-256 of the files list as compact JSON with sorted keys, files
 * sorted by path (jansson's JSON_COMPACT | JSON_SORT_KEYS).
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairn/fs.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"
#include "pipeline/pipeline.h"

static const struct {
  const char *ext;
  const char *type;
} media_types[] = {
  {".csv", "text/csv"},
  {".tsv", "text/tab-separated-values"},
  {".txt", "text/plain"},
  {".log", "text/plain"},
  {".md", "text/markdown"},
  {".html", "text/html"},
  {".json", "application/json"},
  {".jsonl", "application/jsonl"},
  {".yaml", "application/yaml"},
  {".yml", "application/yaml"},
  {".xml", "application/xml"},
  {".parquet", "application/vnd.apache.parquet"},
  {".pkl", "application/python-pickle"},
  {".pickle", "application/python-pickle"},
  {".npy", "application/x-npy"},
  {".npz", "application/x-npz"},
  {".onnx", "application/onnx"},
  {".pt", "application/x-pytorch"},
  {".png", "image/png"},
  {".jpg", "image/jpeg"},
  {".jpeg", "image/jpeg"},
  {".svg", "image/svg+xml"},
  {".gz", "application/gzip"},
  {".zip", "application/zip"},
  {".tar", "application/x-tar"},
  {NULL, NULL}
};

const char *cairn_pipeline_media_type(const char *filename)
{
  const char *dot = strrchr(filename, '.');
  size_t i;

  if (dot && dot != filename)
    for (i = 0; media_types[i].ext; i++)
      if (strcasecmp(dot, media_types[i].ext) == 0)
        return media_types[i].type;
  return "application/octet-stream";
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

void cairn__pipeline_rm_local(const char *path)
{
  if (path)
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int cairn__pipeline_files_sha(char out[65], const json_t *files)
{
  char *text = json_dumps(files, JSON_COMPACT | JSON_SORT_KEYS);
  unsigned char digest[CAIRN_SHA256_LEN];

  if (!text)
    return cairn__error_oom();
  cairn_sha256_digest(digest, text, strlen(text));
  cairn_hex_encode(out, digest, sizeof(digest));
  free(text);
  return 0;
}

static json_t *tree_files(const cairn_fs_tree *tree, uint64_t *size)
{
  json_t *files = json_array();
  size_t i;

  *size = 0;
  for (i = 0; files && i < tree->count; i++) {
    const cairn_fs_tree_entry *e = &tree->items[i];
    if (strcmp(e->rel, CAIRN_MANIFEST_NAME) == 0)
      continue;
    json_array_append_new(files, json_pack("{s:s,s:I,s:s}", "path", e->rel,
                                           "size", (json_int_t)e->size,
                                           "sha256", e->sha256));
    *size += e->size;
  }
  return files;
}

static int write_manifest(cairn_fs *fs, const char *vdir,
                          const cairn_artifact_version *v, json_t *files)
{
  json_t *doc;
  char *text = NULL, *path = cairn_path_join(vdir, CAIRN_MANIFEST_NAME);
  cairn_fs_file *f = NULL;
  int error;

  doc = json_pack("{s:i,s:s,s:s,s:O,s:I,s:s}", "format", 1, "artifact",
                  v->artifact, "kind", v->kind, "files", files, "size",
                  (json_int_t)v->size, "sha256", v->sha256);
  if (doc)
    text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
  json_decref(doc);
  if (!text || !path) {
    error = cairn__error_oom();
    goto done;
  }
  if ((error = cairn_fs_makedirs(fs, vdir)) < 0 ||
      (error = cairn_fs_open(&f, fs, path, "x")) < 0)
    goto done;
  if ((error = cairn_fs_write(f, text, strlen(text))) < 0) {
    cairn_fs_abort(f);
    goto done;
  }
  error = cairn_fs_close(f);
done:
  free(text);
  free(path);
  return error;
}

int cairn__pipeline_upload_output(cairn_artifact_version *v, cairn_fs *fs,
                                  const char *vdir, const char *local)
{
  struct stat st;
  cairn_fs_tree tree = {0};
  json_t *files = NULL;
  char sha[65], *dst = NULL;
  const char *base = cairn_path_basename(local);
  int error;

  if (stat(local, &st) != 0)
    return cairn__error_errno("reading output", local);
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return cairn__error(CAIRN_EINVAL, "output '%s' is neither a file nor "
                        "a folder (a FIFO, socket or device): write a "
                        "regular file there", local);
  if (!(dst = cairn__strdup(vdir))) {
    error = CAIRN_ENOMEM;
    goto done;
  }
  if (strrchr(dst, '/'))
    *strrchr(dst, '/') = '\0';
  if ((error = cairn_fs_makedirs(fs, S_ISDIR(st.st_mode) ? dst : vdir)) < 0)
    goto done;
  free(dst);
  dst = NULL;
  if (S_ISDIR(st.st_mode)) {
    if ((error = cairn_fs_put_tree(fs, local, vdir, &tree)) < 0)
      goto done;
    if (!(files = tree_files(&tree, &v->size))) {
      error = cairn__error_oom();
      goto done;
    }
    if (json_array_size(files) != tree.count) {
      error = cairn__error(CAIRN_EINVAL, "a folder output may not hold a "
                           "file named %s at its top; rename it",
                           CAIRN_MANIFEST_NAME);
      goto done;
    }
    if ((error = cairn__pipeline_files_sha(sha, files)) < 0)
      goto done;
    v->kind = cairn__strdup("folder");
    v->media_type = cairn__strdup("inode/directory");
  } else {
    if (!(dst = cairn_path_join(vdir, base))) {
      error = cairn__error_oom();
      goto done;
    }
    if ((error = cairn_fs_put_file(fs, local, dst, sha)) < 0)
      goto done;
    v->size = (uint64_t)st.st_size;
    files = json_pack("[{s:s,s:I,s:s}]", "path", base, "size",
                      (json_int_t)v->size, "sha256", sha);
    v->kind = cairn__strdup("file");
    v->media_type = cairn__strdup(cairn_pipeline_media_type(base));
  }
  v->sha256 = cairn__strdup(sha);
  v->uri = cairn__strdup(vdir);
  if (!files || !v->kind || !v->media_type || !v->sha256 || !v->uri) {
    error = cairn__error_oom();
    goto done;
  }
  error = write_manifest(fs, vdir, v, files);
done:
  json_decref(files);
  free(dst);
  cairn_fs_tree_dispose(&tree);
  return error;
}

int cairn__pipeline_read_manifest(json_t **out, cairn_fs *fs,
                                  const char *vdir)
{
  char *path = cairn_path_join(vdir, CAIRN_MANIFEST_NAME);
  cairn_fs_file *f = NULL;
  cairn_buf text = CAIRN_BUF_INIT;
  char chunk[8192];
  size_t n;
  json_error_t jerr;
  int error;

  *out = NULL;
  if (!path)
    return cairn__error_oom();
  if ((error = cairn_fs_open(&f, fs, path, "r")) < 0) {
    if (error == CAIRN_ENOTFOUND)
      error = cairn__error(CAIRN_ENOTFOUND, "no manifest at %s: the upload "
                           "of this version did not finish", path);
    goto done;
  }
  do {
    if ((error = cairn_fs_read(f, chunk, sizeof(chunk), &n)) < 0 ||
        (error = cairn_buf_put(&text, chunk, n)) < 0)
      break;
  } while (n > 0 && text.size < (64u << 20));
  cairn_fs_close(f);
  if (error < 0)
    goto done;
  *out = json_loadb(text.ptr ? text.ptr : "", text.size, 0, &jerr);
  if (!*out || !json_is_array(json_object_get(*out, "files"))) {
    json_decref(*out);
    *out = NULL;
    error = cairn__error(CAIRN_EINTEGRITY, "manifest %s is not valid", path);
  }
done:
  cairn_buf_dispose(&text);
  free(path);
  return error;
}

/* Check a downloaded tree against the manifest's SHA-256. */
static int check_tree(const cairn_fs_tree *tree, const char *want,
                      const char *what)
{
  uint64_t size;
  json_t *files = tree_files(tree, &size);
  char sha[65];
  int error;

  if (!files)
    return cairn__error_oom();
  error = cairn__pipeline_files_sha(sha, files);
  json_decref(files);
  if (error == 0 && strcmp(sha, want) != 0)
    error = cairn__error(CAIRN_EINTEGRITY, "%s: the files read do not "
                         "match the recorded SHA-256 %s (got %s): the "
                         "stored copy was changed or damaged; nothing was "
                         "written, and the version must be made again",
                         what, want, sha);
  return error;
}

/* Create the folder that will hold @p path. */
static int make_parent(const char *path)
{
  char *parent;
  int error = 0;

  if (!(parent = cairn__strdup(path)))
    return CAIRN_ENOMEM;
  if (strrchr(parent, '/') && strrchr(parent, '/') != parent) {
    *strrchr(parent, '/') = '\0';
    error = cairn_mkdirs(parent, 0777);
  }
  free(parent);
  return error;
}

/*
 * A hidden name next to @p path for writing before the final rename, so
 * that a failed or interrupted download leaves @p path as it was.
 */
static char *part_name(const char *path)
{
  const char *base = cairn_path_basename(path);

  return cairn__sprintf("%.*s.%s.cairn-part-%ld", (int)(base - path), path,
                        base, (long)getpid());
}

/*
 * Remove what downloads to @p path left when their process was killed:
 * hidden part names of processes that no longer run.
 */
static void drop_stale_parts(const char *path)
{
  const char *base = cairn_path_basename(path);
  char *dir = cairn__strndup(path, (size_t)(base - path)), *prefix, *stale;
  size_t plen;
  struct dirent *e;
  DIR *d;

  prefix = cairn__sprintf(".%s.cairn-part-", base);
  if (!dir || !prefix || !(d = opendir(*dir ? dir : "."))) {
    free(dir);
    free(prefix);
    return;
  }
  plen = strlen(prefix);
  while ((e = readdir(d))) {
    const char *digits = e->d_name + plen;
    char *end;
    long pid;

    if (strncmp(e->d_name, prefix, plen) != 0 || !*digits)
      continue;
    pid = strtol(digits, &end, 10);
    if (*end || pid == (long)getpid() || cairn_process_alive(pid))
      continue;
    if ((stale = cairn__sprintf("%s%s", dir, e->d_name))) {
      log_info("pipeline", "removing '%s', left by a download that was "
               "stopped", stale);
      cairn__pipeline_rm_local(stale);
      free(stale);
    }
  }
  closedir(d);
  free(dir);
  free(prefix);
}

/* 1 when @p path is a folder with nothing in it. */
static int empty_folder(const char *path)
{
  DIR *d = opendir(path);
  struct dirent *e;
  int empty = 1;

  if (!d)
    return 0;
  while (empty && (e = readdir(d)))
    empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
  closedir(d);
  return empty;
}

static int get_folder(cairn_fs *fs, const cairn_artifact_version *v,
                      const char *dest)
{
  cairn_fs_tree tree = {0};
  struct stat st;
  char *part = NULL, *mpath = NULL;
  int error;

  if (stat(dest, &st) == 0 && (!S_ISDIR(st.st_mode) || !empty_folder(dest)))
    return cairn__error(CAIRN_EEXISTS, "'%s' exists and is not an empty "
                        "folder: give a new path for the folder artifact "
                        "(--overwrite replaces files, not folders)", dest);
  if ((error = make_parent(dest)) < 0)
    return error;
  drop_stale_parts(dest);
  if (!(part = part_name(dest)) ||
      !(mpath = cairn_path_join(part, CAIRN_MANIFEST_NAME))) {
    error = cairn__error_oom();
    goto done;
  }
  cairn__pipeline_rm_local(part);
  if ((error = cairn_fs_get_tree(fs, v->uri, part, &tree)) < 0)
    goto done;
  unlink(mpath);
  if ((error = check_tree(&tree, v->sha256, v->uri)) < 0)
    goto done;
  rmdir(dest); /* an empty folder, or nothing */
  if (rename(part, dest) < 0)
    error = cairn__error_errno("cannot move the download to", dest);
done:
  if (error < 0 && part)
    cairn__pipeline_rm_local(part);
  cairn_fs_tree_dispose(&tree);
  free(part);
  free(mpath);
  return error;
}

static int get_one_file(cairn_fs *fs, const cairn_artifact_version *v,
                        const char *src, const char *local, unsigned flags)
{
  struct stat st;
  char sha[65], *part;
  int error;

  if (!(flags & CAIRN_DOWNLOAD_OVERWRITE) && lstat(local, &st) == 0)
    return cairn__error(CAIRN_EEXISTS, "'%s' exists: give another path, "
                        "or --overwrite to replace it", local);
  if ((error = make_parent(local)) < 0)
    return error;
  drop_stale_parts(local);
  if (!(part = part_name(local)))
    return CAIRN_ENOMEM;
  if ((error = cairn_fs_get_file(fs, src, part, sha)) == 0 && v->sha256 &&
      strcmp(sha, v->sha256) != 0)
    error = cairn__error(CAIRN_EINTEGRITY, "%s: the bytes read do not "
                         "match the recorded SHA-256 %s (got %s): the "
                         "stored copy was changed or damaged; nothing was "
                         "written, and the version must be made again", src,
                         v->sha256, sha);
  if (error == 0 && rename(part, local) < 0)
    error = cairn__error_errno("cannot move the download to", local);
  if (error < 0)
    unlink(part);
  free(part);
  return error;
}

int cairn__pipeline_download(char **out, cairn_fs *fs,
                             const cairn_artifact_version *v,
                             const char *dest, unsigned flags,
                             cairn_progress *progress)
{
  json_t *manifest = NULL, *first, *files;
  const char *rel;
  char *src = NULL, *local = NULL;
  int error;

  *out = NULL;
  if ((error = cairn__pipeline_read_manifest(&manifest, fs, v->uri)) < 0)
    return error;
  files = json_object_get(manifest, "files");
  if (progress) {
    __atomic_fetch_add(&progress->bytes_total, v->size, __ATOMIC_RELAXED);
    __atomic_fetch_add(&progress->files_total, json_array_size(files),
                       __ATOMIC_RELAXED);
  }
  if (v->kind && strcmp(v->kind, "folder") == 0) {
    if ((error = get_folder(fs, v, dest)) == 0 &&
        !(local = cairn__strdup(dest)))
      error = CAIRN_ENOMEM;
    goto done;
  }
  first = json_array_get(files, 0);
  rel = json_string_value(json_object_get(first, "path"));
  if (!rel || strchr(rel, '/') || strcmp(rel, "..") == 0 ||
      strcmp(rel, ".") == 0) {
    error = cairn__error(CAIRN_EINTEGRITY, "manifest of %s names no file",
                         v->uri);
    goto done;
  }
  src = cairn_path_join(v->uri, rel);
  local = (flags & CAIRN_DOWNLOAD_TO_FILE) ? cairn__strdup(dest)
                                           : cairn_path_join(dest, rel);
  if (!src || !local)
    error = cairn__error_oom();
  else
    error = get_one_file(fs, v, src, local, flags);
done:
  if (error == 0) {
    *out = local;
    local = NULL;
  }
  json_decref(manifest);
  free(src);
  free(local);
  return error;
}

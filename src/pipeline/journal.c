/*
 * Notes of uploads under way.  An upload that broke off (the process
 * was killed, the machine went down) leaves its note behind, so that the
 * same upload, run again, goes to the same version folder and the store
 * keeps the blocks it has already: only the missing ones are sent.  A
 * note is a small file under <home>/transfers/, named by the SHA-256 of
 * what identifies the upload; it holds the version id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"
#include "pipeline/pipeline.h"

char *cairn__journal_path(cairn_store *store, const char *key)
{
  unsigned char digest[CAIRN_SHA256_LEN];
  char hex[2 * CAIRN_SHA256_LEN + 1];

  cairn_sha256_digest(digest, key, strlen(key));
  cairn_hex_encode(hex, digest, sizeof(digest));
  return cairn__sprintf("%s/transfers/%s", cairn_store_home(store), hex);
}

int cairn__journal_read(const char *path, char vid[37])
{
  cairn_buf b = CAIRN_BUF_INIT;
  const char *text;
  long pid = 0;
  size_t len;
  int error;

  vid[0] = '\0';
  if (access(path, F_OK) != 0)
    return CAIRN_ENOTFOUND;
  if ((error = cairn_file_read(&b, path, 256)) < 0)
    return error;
  text = cairn_buf_cstr(&b);
  len = strcspn(text, "\n");
  if (len == 36) {
    memcpy(vid, text, 36);
    vid[36] = '\0';
    if (text[36] == '\n')
      pid = strtol(text + 37, NULL, 10);
  }
  cairn_buf_dispose(&b);
  if (!vid[0])
    return CAIRN_ENOTFOUND;
  /* the same upload, in a process that is still at it */
  if (pid != (long)getpid() && cairn_process_alive(pid)) {
    vid[0] = '\0';
    return CAIRN_EINUSE;
  }
  return 0;
}

int cairn__journal_write(const char *path, const char *vid)
{
  char *dir = cairn__strdup(path), *line;
  int error;

  if (!dir)
    return CAIRN_ENOMEM;
  *strrchr(dir, '/') = '\0';
  error = cairn_mkdirs(dir, 0700);
  free(dir);
  if (error < 0)
    return error;
  if (!(line = cairn__sprintf("%s\n%ld\n", vid, (long)getpid())))
    return CAIRN_ENOMEM;
  error = cairn_file_write_atomic(path, line, strlen(line), 0600);
  free(line);
  return error;
}

void cairn__journal_remove(const char *path)
{
  if (path && unlink(path) != 0 && errno != ENOENT)
    log_warn("pipeline", "cannot remove the upload note %s: %s", path,
             strerror(errno));
}

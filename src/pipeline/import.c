/*
 * Artifacts that no step made: a local file or folder imported as a new
 * version, stored under <root>/imports/<name>/<version id>/ like a
 * step's output, manifest last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"
#include "pipeline/pipeline.h"
#include "stack/stack.h"

/* The note of an import of file @p abs (as it is now) as @p name. */
static int journal_for(char **out, cairn_store *store, cairn_live_store *ls,
                       const char *name, const char *abs,
                       const struct stat *st)
{
  char *key = cairn__sprintf("import\n%s\n%s\n%s\n%llu\n%lld.%09ld\n%llu",
                             ls->component.id, name, abs,
                             (unsigned long long)st->st_size,
                             (long long)st->st_mtim.tv_sec,
                             st->st_mtim.tv_nsec,
                             (unsigned long long)st->st_ino);

  *out = key ? cairn__journal_path(store, key) : NULL;
  free(key);
  return *out ? 0 : cairn__error_oom();
}

int cairn_pipeline_import(cairn_artifact_version *v, cairn_store *store,
                          cairn_live_store *ls, const char *local,
                          const char *name)
{
  char vid[37], *rel = NULL, *vdir = NULL, *abs = NULL, *note = NULL;
  char msg[512];
  struct stat st;
  int error, exists = 0;

  memset(v, 0, sizeof(*v));
  if (strlen(name) > CAIRN_PIPELINE_NAME_MAX)
    return cairn__error(CAIRN_EINVAL, "artifact name '%.40s...' has %zu "
                        "characters: give one of at most %d", name,
                        strlen(name), CAIRN_PIPELINE_NAME_MAX);
  if (!cairn_pipeline_name_valid(name))
    return cairn__error(CAIRN_EINVAL, "artifact name '%s' is not valid: "
                        "use " CAIRN_PIPELINE_NAME_RULE, name);
  if (stat(local, &st) != 0)
    return cairn__error_errno("reading", local);
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return cairn__error(CAIRN_EINVAL, "'%s' is neither a file nor a "
                        "folder", local);
  if (!(abs = cairn_path_absolute(local)))
    return cairn__error_oom();
  /* a file whose import broke off goes on where it stopped */
  if (S_ISREG(st.st_mode) &&
      (error = journal_for(&note, store, ls, name, abs, &st)) < 0)
    goto done;
  if (note && (error = cairn__journal_read(note, vid)) == CAIRN_EINUSE) {
    /* the same import, at once in another process: leave its note */
    free(note);
    note = NULL;
  }
  if (!note || error < 0) {
    if ((error = cairn_uuid4(vid)) < 0 ||
        (note && (error = cairn__journal_write(note, vid)) < 0))
      goto done;
  } else {
    log_info("pipeline", "importing '%s' again: going on with version "
             "folder %s of the import that broke off", local, vid);
  }
  if (!(rel = cairn__sprintf("imports/%s/%s", name, vid)) ||
      !(vdir = cairn_fs_path(ls->fs, rel)) ||
      !(v->artifact = cairn__strdup(name)) ||
      !(v->artifact_store_id = cairn__strdup(ls->component.id)) ||
      !(v->metadata = json_pack("{s:s}", "imported_from", abs))) {
    error = cairn__error_oom();
    goto done;
  }
  log_info("pipeline", "importing '%s' as '%s' into %s", local, name, vdir);
  if ((error = cairn__pipeline_upload_output(v, ls->fs, vdir, local)) < 0 ||
      (error = cairn_store_artifact_version_create(store, v)) < 0) {
    /* remove what was uploaded, keeping the message of the failure */
    int held = cairn__cancel_hold();

    snprintf(msg, sizeof(msg), "%s", cairn_error_last()->message);
    if (cairn_fs_exists(ls->fs, vdir, &exists) == 0 && exists)
      cairn_fs_rmtree(ls->fs, vdir);
    cairn__cancel_restore(held);
    error = cairn__error(error, "%s", msg);
  }
  /* done, or failed and cleaned up: nothing to go on with */
  cairn__journal_remove(note);
done:
  if (error < 0)
    cairn_artifact_version_dispose(v);
  free(note);
  free(rel);
  free(vdir);
  free(abs);
  return error;
}

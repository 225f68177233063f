/*
 * Time, paths, files and YAML, for every layer.
 */
#ifndef CAIRN_CORE_UTIL_H
#define CAIRN_CORE_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"

/* Seconds since the epoch, wall clock. */
int64_t cairn_time_now(void);
/* Monotonic milliseconds, for durations and deadlines. */
int64_t cairn_time_monotonic_ms(void);
/* RFC 1123 date ("Thu, 03 Dec 2026 19:21:29 GMT") into @p out (30+). */
void cairn_time_rfc1123(char *out, size_t outlen, int64_t t);
/* ISO 8601 UTC ("2026-12-03T19:21:29Z") into @p out (21+). */
void cairn_time_iso8601(char *out, size_t outlen, int64_t t);
/* Parse ISO 8601 UTC ("...Z", fractions allowed); CAIRN_EINVAL if bad. */
int cairn_time_parse_iso8601(int64_t *out, const char *text);
/* Parse an RFC 1123 date; CAIRN_EINVAL if bad. */
int cairn_time_parse_rfc1123(int64_t *out, const char *text);

/*
 * Join two path parts with exactly one '/' between them, as a new
 * string (free()).  An empty part is skipped.
 */
char *cairn_path_join(const char *a, const char *b);
/* The last component of @p path, borrowed from it. */
const char *cairn_path_basename(const char *path);
/* Make @p path absolute against the working folder (free()). */
char *cairn_path_absolute(const char *path);
/* mkdir -p; 0 when the folder exists afterwards. */
int cairn_mkdirs(const char *path, int mode);
/* Read a whole local file (at most @p limit bytes; 0 = no limit). */
int cairn_file_read(cairn_buf *out, const char *path, size_t limit);

/* 1 when @p s is valid UTF-8 text (no overlong forms, no surrogates). */
int cairn_utf8_valid(const char *s);

/* 1 when process @p pid is running: not gone, and not a zombie. */
int cairn_process_alive(long pid);

struct stat;
/*
 * 0 when the file open on @p fd has the size and change time that
 * @p before gave it; else an error that says it changed while being read.
 */
int cairn_file_unchanged(int fd, const struct stat *before,
                         const char *path);
/*
 * Write @p len bytes to @p path atomically (a temporary file renamed
 * over it) with permissions @p mode.
 */
int cairn_file_write_atomic(const char *path, const void *data, size_t len,
                            int mode);

/*
 * Parse YAML text (one document) into a jansson value (new reference).
 * Scalars become strings, except that plain scalars that read as
 * integers, reals, true/false or null become those.  Errors give the
 * line and column, with @p source (a file name) in front.
 */
int cairn_yaml_parse(json_t **out, const char *text, size_t len,
                     const char *source);

/* The same, but every scalar becomes a string, exactly as written. */
int cairn_yaml_parse_text(json_t **out, const char *text, size_t len,
                          const char *source);

/*
 * Append to @p out a YAML document that maps each key of @p object (an
 * object of strings) to its value, double-quoted so that it reads back
 * as the same text.
 */
int cairn_yaml_emit_strings(cairn_buf *out, const json_t *object);

/*
 * Clean up after a cancelled operation: hold clears the process's
 * cancel request (returning whether there was one) so that the removal
 * of half-written data can run; restore sets it again.  A new request
 * in between stops the clean-up too.
 */
int cairn__cancel_hold(void);
void cairn__cancel_restore(int was);

/*
 * A size in bytes from text: digits, optionally followed by a unit:
 * B; K, KiB, M, MiB, G, GiB, T, TiB (powers of 1024); KB, MB, GB, TB
 * (powers of 1000).  Units in any case, a space allowed before them.
 * CAIRN_EINVAL naming the text when it is not such a size or overflows.
 */
int cairn_size_parse(uint64_t *out, const char *text);

/* getenv, but NULL for a variable that is set and empty. */
const char *cairn_getenv(const char *name);

#endif

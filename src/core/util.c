/*
 * Time, paths, files and YAML.
 */
#define _GNU_SOURCE
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core/error.h"

int64_t cairn_time_now(void)
{
  return (int64_t)time(NULL);
}

int64_t cairn_time_monotonic_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cairn_time_rfc1123(char *out, size_t outlen, int64_t t)
{
  static const char *days[] = {"Sun", "Mon", "Tue", "Wed",
                               "Thu", "Fri", "Sat"};
  static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t tt = (time_t)t;
  struct tm tm;

  gmtime_r(&tt, &tm);
  snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT",
           days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
           tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void cairn_time_iso8601(char *out, size_t outlen, int64_t t)
{
  time_t tt = (time_t)t;
  struct tm tm;

  gmtime_r(&tt, &tm);
  strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cairn_time_parse_iso8601(int64_t *out, const char *text)
{
  struct tm tm;
  const char *p;
  int sign, hh, mm;
  int64_t t;

  memset(&tm, 0, sizeof(tm));
  p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p)
    return CAIRN_EINVAL;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      ;
  t = (int64_t)timegm(&tm);
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    sign = *p == '+' ? 1 : -1;
    if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
      return CAIRN_EINVAL;
    t -= sign * (hh * 3600 + mm * 60);
    p += 6;
  }
  if (*p)
    return CAIRN_EINVAL;
  *out = t;
  return 0;
}

int cairn_time_parse_rfc1123(int64_t *out, const char *text)
{
  struct tm tm;
  const char *p;

  memset(&tm, 0, sizeof(tm));
  p = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!p || *p)
    return CAIRN_EINVAL;
  *out = (int64_t)timegm(&tm);
  return 0;
}

char *cairn_path_join(const char *a, const char *b)
{
  size_t la = strlen(a);

  while (la > 1 && a[la - 1] == '/')
    la--;
  while (*b == '/')
    b++;
  if (!la)
    return cairn__strdup(b);
  if (!*b)
    return cairn__strndup(a, la);
  if (la == 1 && a[0] == '/')
    return cairn__sprintf("/%s", b);
  return cairn__sprintf("%.*s/%s", (int)la, a, b);
}

const char *cairn_path_basename(const char *path)
{
  const char *slash = strrchr(path, '/');

  return slash ? slash + 1 : path;
}

char *cairn_path_absolute(const char *path)
{
  char cwd[PATH_MAX];

  if (path[0] == '/')
    return cairn__strdup(path);
  if (!getcwd(cwd, sizeof(cwd))) {
    cairn__error_errno("cannot read the working folder", NULL);
    return NULL;
  }
  return cairn_path_join(cwd, path);
}

int cairn_mkdirs(const char *path, int mode)
{
  char *copy = cairn__strdup(path);
  struct stat st;
  char *p;

  if (!copy)
    return CAIRN_ENOMEM;
  for (p = copy + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(copy, (mode_t)mode) < 0 && errno != EEXIST) {
      int error = cairn__error_errno("cannot create folder", copy);
      free(copy);
      return error;
    }
    *p = '/';
  }
  if (mkdir(copy, (mode_t)mode) < 0 && errno != EEXIST) {
    int error = cairn__error_errno("cannot create folder", copy);
    free(copy);
    return error;
  }
  free(copy);
  if (stat(path, &st) < 0)
    return cairn__error_errno("cannot create folder", path);
  if (!S_ISDIR(st.st_mode))
    return cairn__error(CAIRN_EEXISTS, "'%s' exists and is not a folder",
                        path);
  return 0;
}

int cairn_file_read(cairn_buf *out, const char *path, size_t limit)
{
  char chunk[65536];
  ssize_t n;
  int fd;

  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cairn__error_errno("cannot open", path);
  while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
    if (limit && out->size + (size_t)n > limit) {
      close(fd);
      return cairn__error(CAIRN_EINVAL,
                          "'%s' is larger than the limit of %zu bytes",
                          path, limit);
    }
    if (cairn_buf_put(out, chunk, (size_t)n) < 0) {
      close(fd);
      return CAIRN_ENOMEM;
    }
  }
  if (n < 0) {
    int error = cairn__error_errno("cannot read", path);
    close(fd);
    return error;
  }
  close(fd);
  if (!out->ptr)
    return cairn_buf_put(out, "", 0);
  return 0;
}

int cairn_utf8_valid(const char *s)
{
  const unsigned char *p = (const unsigned char *)s;

  while (*p) {
    unsigned c = *p, cp;
    int n, i;

    if (c < 0x80) {
      p++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf)
      n = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
      n = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
      n = 3, cp = c & 0x07;
    else
      return 0;
    for (i = 1; i <= n; i++) {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    p += n + 1;
  }
  return 1;
}

int cairn_process_alive(long pid)
{
  char path[64], stat[512], *paren;
  ssize_t n;
  int fd;

  if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
    return 0;
  /* it exists; a zombie has ended all the same */
  snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return 1;
  n = read(fd, stat, sizeof(stat) - 1);
  close(fd);
  if (n <= 0)
    return 1;
  stat[n] = '\0';
  /* "PID (COMMAND) STATE ...", where COMMAND may hold ')' */
  if (!(paren = strrchr(stat, ')')) || paren[1] != ' ')
    return 1;
  return paren[2] != 'Z' && paren[2] != 'X';
}

int cairn_file_unchanged(int fd, const struct stat *before,
                         const char *path)
{
  struct stat now;

  if (fstat(fd, &now) < 0)
    return cairn__error_errno("cannot read", path);
  if (now.st_size != before->st_size ||
      now.st_ctim.tv_sec != before->st_ctim.tv_sec ||
      now.st_ctim.tv_nsec != before->st_ctim.tv_nsec)
    return cairn__error(CAIRN_EIO, "'%s' changed while being read: try "
                        "again when nothing writes to it", path);
  return 0;
}

int cairn_file_write_atomic(const char *path, const void *data, size_t len,
                            int mode)
{
  char *tmp = cairn__sprintf("%s.tmp.%ld", path, (long)getpid());
  const char *p = data;
  ssize_t n;
  int fd, error = 0;

  if (!tmp)
    return CAIRN_ENOMEM;
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
  if (fd < 0) {
    error = cairn__error_errno("cannot create", tmp);
    free(tmp);
    return error;
  }
  while (len > 0) {
    n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      error = cairn__error_errno("cannot write", tmp);
      break;
    }
    p += n;
    len -= (size_t)n;
  }
  if (!error && fsync(fd) < 0)
    error = cairn__error_errno("cannot write", tmp);
  close(fd);
  if (!error && rename(tmp, path) < 0)
    error = cairn__error_errno("cannot rename", tmp);
  if (error)
    unlink(tmp);
  free(tmp);
  return error;
}

const char *cairn_getenv(const char *name)
{
  const char *v = getenv(name);

  return v && *v ? v : NULL;
}

/* YAML to JSON: a small recursive descent over libyaml's events. */

/* Collections nest at most this deep: enough for any configuration. */
#define YAML_MAX_DEPTH 64

struct yaml_reader {
  yaml_parser_t parser;
  const char *source;
  int text_only; /* every scalar is a string */
  int depth;
};

static int yaml_fail(struct yaml_reader *r, const yaml_event_t *ev,
                     const char *what)
{
  if (ev)
    return cairn__error(CAIRN_EINVAL, "%s:%zu:%zu: %s", r->source,
                        ev->start_mark.line + 1, ev->start_mark.column + 1,
                        what);
  return cairn__error(CAIRN_EINVAL, "%s:%zu:%zu: %s", r->source,
                      r->parser.problem_mark.line + 1,
                      r->parser.problem_mark.column + 1,
                      r->parser.problem ? r->parser.problem : what);
}

static json_t *yaml_scalar(const struct yaml_reader *r,
                           const yaml_event_t *ev)
{
  const char *v = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  char *end;
  long long ll;
  double d;

  if (r->text_only || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return json_stringn(v, len);
  if (len == 0 || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0)
    return json_null();
  if (strcasecmp(v, "true") == 0)
    return json_true();
  if (strcasecmp(v, "false") == 0)
    return json_false();
  errno = 0;
  ll = strtoll(v, &end, 10);
  if (*end == '\0' && errno == 0 && (v[0] == '-' || (v[0] >= '0' &&
                                                      v[0] <= '9')))
    return json_integer(ll);
  d = strtod(v, &end);
  if (*end == '\0' && errno == 0 && (v[0] == '-' || v[0] == '.' ||
                                     (v[0] >= '0' && v[0] <= '9')))
    return json_real(d);
  return json_stringn(v, len);
}

static int yaml_node(struct yaml_reader *r, yaml_event_t *ev, json_t **out);

static int yaml_next(struct yaml_reader *r, yaml_event_t *ev)
{
  if (!yaml_parser_parse(&r->parser, ev))
    return yaml_fail(r, NULL, "YAML syntax error");
  return 0;
}

static int yaml_collection(struct yaml_reader *r, int mapping, json_t **out)
{
  yaml_event_t ev;
  json_t *node = mapping ? json_object() : json_array();
  json_t *key, *value;
  int error;

  for (;;) {
    if ((error = yaml_next(r, &ev)) < 0)
      goto fail;
    if (ev.type == YAML_SEQUENCE_END_EVENT ||
        ev.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&ev);
      break;
    }
    if (!mapping) {
      error = yaml_node(r, &ev, &value);
      yaml_event_delete(&ev);
      if (error < 0)
        goto fail;
      json_array_append_new(node, value);
      continue;
    }
    if (ev.type != YAML_SCALAR_EVENT) {
      error = yaml_fail(r, &ev, "mapping keys must be plain text");
      yaml_event_delete(&ev);
      goto fail;
    }
    key = json_stringn((const char *)ev.data.scalar.value,
                       ev.data.scalar.length);
    if (json_object_get(node, json_string_value(key))) {
      char what[160];

      snprintf(what, sizeof(what), "duplicate key '%.100s' in a mapping",
               json_string_value(key));
      error = yaml_fail(r, &ev, what);
      json_decref(key);
      yaml_event_delete(&ev);
      goto fail;
    }
    yaml_event_delete(&ev);
    if ((error = yaml_next(r, &ev)) < 0) {
      json_decref(key);
      goto fail;
    }
    error = yaml_node(r, &ev, &value);
    yaml_event_delete(&ev);
    if (error < 0) {
      json_decref(key);
      goto fail;
    }
    json_object_set_new(node, json_string_value(key), value);
    json_decref(key);
  }
  *out = node;
  return 0;
fail:
  json_decref(node);
  return error;
}

static int yaml_node(struct yaml_reader *r, yaml_event_t *ev, json_t **out)
{
  int error;

  switch (ev->type) {
  case YAML_SCALAR_EVENT:
    *out = yaml_scalar(r, ev);
    return *out ? 0 : cairn__error_oom();
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT:
    if (r->depth >= YAML_MAX_DEPTH)
      return yaml_fail(r, ev, "lists and mappings nest deeper than 64 "
                       "levels");
    r->depth++;
    error = yaml_collection(r, ev->type == YAML_MAPPING_START_EVENT, out);
    r->depth--;
    return error;
  case YAML_ALIAS_EVENT:
    return yaml_fail(r, ev, "YAML aliases are not supported");
  default:
    return yaml_fail(r, ev, "unexpected YAML content");
  }
}

static int yaml_parse(json_t **out, const char *text, size_t len,
                      const char *source, int text_only)
{
  struct yaml_reader r;
  yaml_event_t ev;
  json_t *doc = NULL;
  int error = 0, done = 0;

  *out = NULL;
  r.source = source ? source : "<yaml>";
  r.text_only = text_only;
  r.depth = 0;
  if (!yaml_parser_initialize(&r.parser))
    return cairn__error_oom();
  yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
  while (!done) {
    if ((error = yaml_next(&r, &ev)) < 0)
      break;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
      break;
    default:
      if (doc) {
        error = yaml_fail(&r, &ev, "only one YAML document is allowed");
        done = 1;
        break;
      }
      error = yaml_node(&r, &ev, &doc);
      if (error < 0)
        done = 1;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&r.parser);
  if (error < 0) {
    json_decref(doc);
    return error;
  }
  *out = doc ? doc : json_null();
  return 0;
}

int cairn_yaml_parse(json_t **out, const char *text, size_t len,
                     const char *source)
{
  return yaml_parse(out, text, len, source, 0);
}

int cairn_yaml_parse_text(json_t **out, const char *text, size_t len,
                          const char *source)
{
  return yaml_parse(out, text, len, source, 1);
}

/* Emit one scalar event; 0 or CAIRN_ENOMEM. */
static int emit_scalar(yaml_emitter_t *em, const char *text,
                       yaml_scalar_style_t style)
{
  yaml_event_t ev;

  if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
                                    (yaml_char_t *)text, (int)strlen(text),
                                    1, 1, style) ||
      !yaml_emitter_emit(em, &ev))
    return cairn__error(CAIRN_ENOMEM, "cannot write YAML: %s",
                        em->problem ? em->problem : "out of memory");
  return 0;
}

static int yaml_write_cb(void *data, unsigned char *buffer, size_t size)
{
  return cairn_buf_put(data, buffer, size) == 0;
}

int cairn_yaml_emit_strings(cairn_buf *out, const json_t *object)
{
  yaml_emitter_t em;
  yaml_event_t ev;
  const char *key;
  json_t *value;
  int ok, error = 0;

  if (!yaml_emitter_initialize(&em))
    return cairn__error_oom();
  yaml_emitter_set_output(&em, yaml_write_cb, out);
  yaml_emitter_set_unicode(&em, 1);
  ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
       yaml_emitter_emit(&em, &ev) &&
       yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
       yaml_emitter_emit(&em, &ev) &&
       yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                           YAML_BLOCK_MAPPING_STYLE) &&
       yaml_emitter_emit(&em, &ev);
  if (!ok)
    error = cairn__error(CAIRN_ENOMEM, "cannot write YAML");
  json_object_foreach((json_t *)object, key, value) {
    if (error)
      break;
    if (!json_is_string(value)) {
      error = cairn__error(CAIRN_EINVAL, "'%s' is not text", key);
      break;
    }
    if ((error = emit_scalar(&em, key, YAML_PLAIN_SCALAR_STYLE)) == 0)
      error = emit_scalar(&em, json_string_value(value),
                          YAML_DOUBLE_QUOTED_SCALAR_STYLE);
  }
  if (!error) {
    ok = yaml_mapping_end_event_initialize(&ev) &&
         yaml_emitter_emit(&em, &ev) &&
         yaml_document_end_event_initialize(&ev, 1) &&
         yaml_emitter_emit(&em, &ev) &&
         yaml_stream_end_event_initialize(&ev) &&
         yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em);
    if (!ok)
      error = cairn__error(CAIRN_ENOMEM, "cannot write YAML");
  }
  yaml_emitter_delete(&em);
  return error;
}

int cairn_size_parse(uint64_t *out, const char *text)
{
  static const struct {
    const char *unit;
    uint64_t factor;
  } units[] = {
    {"", 1}, {"b", 1},
    {"k", 1ull << 10}, {"kib", 1ull << 10}, {"kb", 1000ull},
    {"m", 1ull << 20}, {"mib", 1ull << 20}, {"mb", 1000000ull},
    {"g", 1ull << 30}, {"gib", 1ull << 30}, {"gb", 1000000000ull},
    {"t", 1ull << 40}, {"tib", 1ull << 40}, {"tb", 1000000000000ull}};
  const char *p = text;
  uint64_t n = 0;
  size_t i;

  *out = 0;
  if (!text || *p < '0' || *p > '9')
    goto bad;
  for (; *p >= '0' && *p <= '9'; p++) {
    uint64_t d = (uint64_t)(*p - '0');

    if (n > (UINT64_MAX - d) / 10)
      goto bad;
    n = n * 10 + d;
  }
  if (*p == ' ')
    p++;
  for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if (strcasecmp(p, units[i].unit) != 0)
      continue;
    if (n > UINT64_MAX / units[i].factor)
      goto bad;
    *out = n * units[i].factor;
    return 0;
  }
bad:
  return cairn__error(CAIRN_EINVAL, "'%s' is not a size: write a number "
                      "with an optional unit, such as 8MiB, 64M or 1GiB",
                      text ? text : "");
}

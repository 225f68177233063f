/*
 * Option parsing, help, dispatch and messages for every command.
 */
#define _GNU_SOURCE
#include "cli/cli.h"

#include <cairn/common.h>
#include <cairn/log.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/util.h"

cairn_store *cli_store(cli_ctx *ctx)
{
  if (ctx->store)
    return ctx->store;
  if (cairn_store_open(&ctx->store, ctx->home) < 0) {
    cli_fail();
    return NULL;
  }
  return ctx->store;
}

/*
 * One line: control characters (a newline, an escape sequence) in names
 * that users typed would break the line or drive the terminal, so they
 * are shown as \xNN.
 */
static void vmessage(FILE *out, const char *prefix, const char *fmt,
                     va_list ap)
{
  char *text = NULL;
  const unsigned char *p;

  fputs(prefix, out);
  if (vasprintf(&text, fmt, ap) < 0) {
    fputs("(out of memory)\n", out);
    return;
  }
  for (p = (const unsigned char *)text; *p; p++) {
    if (*p < 0x20 || *p == 0x7f)
      fprintf(out, "\\x%02x", *p);
    else
      fputc(*p, out);
  }
  fputc('\n', out);
  free(text);
}

int cli_error(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vmessage(stderr, "Error: ", fmt, ap);
  va_end(ap);
  return 1;
}

int cli_fail(void)
{
  const cairn_error *e = cairn_error_last();

  return cli_error("%s", *e->message ? e->message
                                     : cairn_strerror(e->code));
}

void cli_warn(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vmessage(stderr, "Warning: ", fmt, ap);
  va_end(ap);
}

static int quiet_stdout;

void cli_say(const char *fmt, ...)
{
  va_list ap;

  if (quiet_stdout)
    return;
  va_start(ap, fmt);
  vmessage(stdout, "", fmt, ap);
  va_end(ap);
}

/* ---------------------------------------------------------------- */
/* Options                                                           */
/* ---------------------------------------------------------------- */

static size_t count_opts(const cli_spec *spec)
{
  size_t n = 0;

  while (spec->opts && spec->opts[n].name)
    n++;
  return n;
}

static void print_help(const cli_spec *spec)
{
  size_t i, n = count_opts(spec);
  char left[96];

  printf("Usage: %s\n\n%s\n\nOptions:\n", spec->usage, spec->summary);
  for (i = 0; i < n; i++) {
    const cli_opt *o = &spec->opts[i];
    if (o->alias)
      snprintf(left, sizeof(left), "-%s, --%s%s%s", o->alias, o->name,
               o->metavar ? " " : "", o->metavar ? o->metavar : "");
    else
      snprintf(left, sizeof(left), "--%s%s%s", o->name,
               o->metavar ? " " : "", o->metavar ? o->metavar : "");
    printf("  %-30s %s\n", left, o->help);
  }
  if (spec->json)
    printf("  %-30s %s\n", "--output json",
           "Print JSON for scripts instead of a table.");
  if (spec->extra_fields == CLI_SECRET_KEYS)
    printf("  %-30s %s\n", "--KEY=VALUE",
           "A key and its value (@FILE reads it from FILE); repeatable.");
  else if (spec->extra_fields)
    printf("  %-30s %s\n", "--KEY=VALUE",
           "A configuration field of the flavor (see 'flavor list').");
  printf("  %-30s %s\n", "-h, --help", "Show this message and exit.");
}

/* "cairn stack register" from the usage line, into @p out. */
static const char *command_path(const cli_spec *spec, char *out,
                                size_t outlen)
{
  const char *u = spec->usage, *end = u;

  while (*end) {
    const char *word = end;
    size_t len = strcspn(word, " ");

    if (word != u && !(word[0] >= 'a' && word[0] <= 'z'))
      break;
    end = word + len;
    while (*end == ' ')
      end++;
  }
  while (end > u && end[-1] == ' ')
    end--;
  snprintf(out, outlen, "%.*s", (int)(end - u), u);
  return out;
}

static int find_opt(const cli_spec *spec, const char *name, size_t len,
                    int is_long)
{
  size_t i, n = count_opts(spec);

  for (i = 0; i < n; i++) {
    const char *cand = is_long ? spec->opts[i].name : spec->opts[i].alias;
    if (cand && strlen(cand) == len && strncmp(cand, name, len) == 0)
      return (int)i;
  }
  /* "--artifact_store" for "--artifact-store", as users type both */
  for (i = 0; is_long && i < n; i++) {
    const char *cand = spec->opts[i].name;
    size_t k;
    if (strlen(cand) != len)
      continue;
    for (k = 0; k < len; k++)
      if (!(cand[k] == name[k] ||
            (cand[k] == '-' && name[k] == '_')))
        break;
    if (k == len)
      return (int)i;
  }
  return -1;
}

static int valid_field_name(const char *s, size_t len)
{
  size_t i;

  if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
    return 0;
  for (i = 1; i < len; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
      return 0;
  return 1;
}

static int set_value(cli_args *a, int idx, const char *value)
{
  const cli_opt *o = &a->spec->opts[idx];

  a->counts[idx]++;
  if (o->kind == CLI_MULTI)
    return cairn_strlist_add(&a->multi[idx], value) < 0 ? 1 : 0;
  a->values[idx] = value;
  return 0;
}

static int parse_output(cli_ctx *ctx, const char *value)
{
  if (strcmp(value, "json") == 0) {
    ctx->json = 1;
    quiet_stdout = 1;
    return 0;
  }
  if (strcmp(value, "table") == 0) { /* the last --output wins */
    ctx->json = 0;
    quiet_stdout = 0;
    return 0;
  }
  return cli_error("unknown output format '%s': use --output json "
                   "or --output table", value);
}

int cli_parse(cli_ctx *ctx, const cli_spec *spec, int argc, char **argv,
              cli_args *out)
{
  size_t n = count_opts(spec);
  int i, idx;

  memset(out, 0, sizeof(*out));
  out->spec = spec;
  out->args = calloc((size_t)argc + 1, sizeof(char *));
  out->values = calloc(n + 1, sizeof(char *));
  out->counts = calloc(n + 1, sizeof(int));
  out->multi = calloc(n + 1, sizeof(cairn_strlist));
  out->fields = json_object();
  if (!out->args || !out->values || !out->counts || !out->multi ||
      !out->fields)
    return cli_error("out of memory");

  for (i = 1; i < argc; i++) {
    char *arg = argv[i];
    const char *eq, *name;
    size_t len;
    int is_long;

    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      print_help(spec);
      return 2;
    }
    if (strcmp(arg, "--") == 0) {
      for (i++; i < argc; i++)
        out->args[out->nargs++] = argv[i];
      break;
    }
    if (arg[0] != '-' || arg[1] == '\0') {
      out->args[out->nargs++] = arg;
      continue;
    }
    is_long = arg[1] == '-';
    name = arg + (is_long ? 2 : 1);
    eq = strchr(name, '=');
    len = eq ? (size_t)(eq - name) : strlen(name);

    if (spec->json && is_long && len == 6 &&
        strncmp(name, "output", 6) == 0) {
      const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
      if (!v)
        return cli_error("--output needs a value: --output json");
      if (parse_output(ctx, v))
        return 1;
      continue;
    }
    if (is_long && len == 9 && strncmp(name, "log-level", 9) == 0) {
      const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
      if (!v)
        return cli_error("--log-level needs a value: error, warn, info, "
                         "debug or trace");
      if (cli_set_log_level(v, "--log-level"))
        return 1;
      continue;
    }
    idx = find_opt(spec, name, len, is_long);
    if (idx < 0 && !is_long)
      idx = find_opt(spec, name, len, 0);
    if (idx < 0) {
      if (is_long && spec->extra_fields) {
        if (!eq)
          return cli_error("'%s' has no value: write it as "
                           "--%.*s=\"VALUE\"", arg, (int)len, name);
        if (!valid_field_name(name, len))
          return cli_error("'%.*s' is not a valid field name: use "
                           "letters, digits and '_'", (int)len, name);
        if (!cairn_utf8_valid(eq + 1))
          return cli_error("the value of --%.*s is not UTF-8 text",
                           (int)len, name);
        char *key = strndup(name, len);
        json_object_set_new(out->fields, key, json_string(eq + 1));
        free(key);
        continue;
      }
      char path[128];

      return cli_error("no such option: %.*s%.*s (see '%s --help')",
                       is_long ? 2 : 1, "--", (int)len, name,
                       command_path(spec, path, sizeof(path)));
    }
    if (spec->opts[idx].kind == CLI_FLAG) {
      if (eq)
        return cli_error("option --%s takes no value",
                         spec->opts[idx].name);
      out->counts[idx]++;
      continue;
    }
    if (eq) {
      if (set_value(out, idx, eq + 1))
        return cli_error("out of memory");
    } else if (i + 1 < argc) {
      if (set_value(out, idx, argv[++i]))
        return cli_error("out of memory");
    } else {
      return cli_error("option --%s needs a value (%s)",
                       spec->opts[idx].name,
                       spec->opts[idx].metavar ? spec->opts[idx].metavar
                                               : "VALUE");
    }
  }
  if ((int)out->nargs < spec->min_args)
    return cli_error("missing argument: usage: %s", spec->usage);
  if (spec->max_args >= 0 && (int)out->nargs > spec->max_args)
    return cli_error("unexpected argument '%s': usage: %s",
                     out->args[spec->max_args], spec->usage);
  return 0;
}

void cli_args_dispose(cli_args *a)
{
  size_t i, n;

  if (!a->spec)
    return;
  n = count_opts(a->spec);
  for (i = 0; a->multi && i < n; i++)
    cairn_strlist_dispose(&a->multi[i]);
  free(a->multi);
  free(a->counts);
  free(a->values);
  free(a->args);
  json_decref(a->fields);
  memset(a, 0, sizeof(*a));
}

static int opt_index(const cli_args *a, const char *name)
{
  return find_opt(a->spec, name, strlen(name), 1);
}

const char *cli_value(const cli_args *a, const char *name)
{
  int i = opt_index(a, name);

  return i < 0 ? NULL : a->values[i];
}

int cli_flag(const cli_args *a, const char *name)
{
  int i = opt_index(a, name);

  return i >= 0 && a->counts[i] > 0;
}

const cairn_strlist *cli_values(const cli_args *a, const char *name)
{
  static const cairn_strlist empty = CAIRN_STRLIST_INIT;
  int i = opt_index(a, name);

  return i < 0 ? &empty : &a->multi[i];
}

/* ---------------------------------------------------------------- */
/* Dispatch                                                          */
/* ---------------------------------------------------------------- */

static void group_help(FILE *out, const char *group, const char *summary,
                       const cli_command *commands)
{
  size_t i;

  fprintf(out, "Usage: cairn %s COMMAND [ARGS]...\n\n%s\n\nCommands:\n",
          group, summary);
  for (i = 0; commands[i].name; i++)
    fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun 'cairn %s COMMAND --help' for a command's options.\n",
          group);
}

int cli_dispatch(cli_ctx *ctx, const char *group, const char *summary,
                 const cli_command *commands, int argc, char **argv)
{
  cairn_buf names = CAIRN_BUF_INIT;
  size_t i;
  int rc;

  if (argc < 2) {
    group_help(stderr, group, summary, commands);
    return cli_error("'cairn %s' needs a command (see above)", group);
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    group_help(stdout, group, summary, commands);
    return 0;
  }
  for (i = 0; commands[i].name; i++)
    if (strcmp(commands[i].name, argv[1]) == 0)
      return commands[i].fn(ctx, argc - 1, argv + 1);
  for (i = 0; commands[i].name; i++)
    cairn_buf_printf(&names, "%s%s", i ? ", " : "", commands[i].name);
  rc = cli_error("no such command 'cairn %s %s': the commands are %s",
                 group, argv[1], cairn_buf_cstr(&names));
  cairn_buf_dispose(&names);
  return rc;
}

/* ---------------------------------------------------------------- */
/* Small helpers                                                     */
/* ---------------------------------------------------------------- */

void cli_format_time(char *out, size_t outlen, int64_t t)
{
  time_t tt = (time_t)t;
  struct tm tm;

  if (!t) {
    snprintf(out, outlen, "-");
    return;
  }
  gmtime_r(&tt, &tm);
  strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm);
}

void cli_format_duration(char *out, size_t outlen, int64_t ms)
{
  if (ms < 0)
    snprintf(out, outlen, "-");
  else if (ms < 60000)
    snprintf(out, outlen, "%.1fs", (double)ms / 1000.0);
  else if (ms < 3600000)
    snprintf(out, outlen, "%dm%02ds", (int)(ms / 60000),
             (int)(ms / 1000 % 60));
  else
    snprintf(out, outlen, "%dh%02dm", (int)(ms / 3600000),
             (int)(ms / 60000 % 60));
}

void cli_format_size(char *out, size_t outlen, uint64_t bytes)
{
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)bytes;
  int u = 0;

  if (bytes < 1024) {
    snprintf(out, outlen, "%llu B", (unsigned long long)bytes);
    return;
  }
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    u++;
  }
  snprintf(out, outlen, "%.1f %s", v, units[u]);
}

int cli_confirm(const char *question)
{
  char line[16];

  if (!isatty(STDIN_FILENO))
    return 0;
  printf("%s [y/N]: ", question);
  fflush(stdout);
  if (!fgets(line, sizeof(line), stdin))
    return 0;
  return line[0] == 'y' || line[0] == 'Y';
}

int cli_set_log_level(const char *name, const char *from)
{
  cairn_log_level level;

  if (cairn_log_level_parse(&level, name) < 0)
    return cli_error("unknown log level '%s' in %s: use error, warn, "
                     "info, debug or trace", name, from);
  cairn_log_set_level(level);
  return 0;
}

/* ---------------------------------------------------------------- */
/* Values, files and prompts                                         */
/* ---------------------------------------------------------------- */

int cli_expand_value(const char *value, char **out)
{
  cairn_buf text = CAIRN_BUF_INIT;
  const char *home = cairn_getenv("HOME");
  char *path;
  int error;

  *out = NULL;
  if (value[0] != '@' || value[1] == '@') {
    if (!(*out = strdup(value[0] == '@' ? value + 1 : value)))
      return cli_error("out of memory");
    return 0;
  }
  if (!value[1])
    return cli_error("'@' must be followed by a file name (write '@@' for "
                     "a value that starts with '@')");
  if (home && value[1] == '~' && (value[2] == '/' || !value[2]))
    path = cairn_path_join(home, value + 2);
  else
    path = cairn_path_absolute(value + 1);
  if (!path)
    return cli_error("out of memory");
  error = cairn_file_read(&text, path, CLI_FILE_LIMIT);
  free(path);
  if (error < 0) {
    cairn_buf_dispose(&text);
    if (error == CAIRN_EINVAL)
      return cli_error("the file '%s' is larger than %d bytes, the limit "
                       "for a value", value + 1, CLI_FILE_LIMIT);
    return cli_fail();
  }
  if (memchr(text.ptr, '\0', text.size) || !cairn_utf8_valid(text.ptr)) {
    cairn_buf_dispose(&text);
    return cli_error("the file '%s' is not UTF-8 text", value + 1);
  }
  *out = cairn_buf_detach(&text);
  return 0;
}

/* Scalars become their text; anything else is refused. */
static int value_text(const char *key, json_t *v, json_t *out)
{
  char *text;

  if (json_is_string(v))
    return json_object_set(out, key, v);
  if (json_is_null(v) || json_is_object(v) || json_is_array(v))
    return cli_error("the value of '%s' must be text, not %s", key,
                     json_is_null(v) ? "empty" : "a list or a mapping");
  if (!(text = json_dumps(v, JSON_ENCODE_ANY)))
    return cli_error("out of memory");
  json_object_set_new(out, key, json_string(text));
  free(text);
  return 0;
}

int cli_parse_values(const char *text, const char *what, json_t **out)
{
  json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL), *obj;
  const char *key;
  json_t *v;
  int rc = 0;

  *out = NULL;
  if (!doc && cairn_yaml_parse_text(&doc, text, strlen(text), what) < 0)
    return cli_error("%s is neither JSON nor YAML key/value pairs: %s",
                     what, cairn_error_last()->message);
  if (!json_is_object(doc)) {
    json_decref(doc);
    return cli_error("%s must be key/value pairs, such as "
                     "'{\"account_name\": \"...\"}' or 'account_name: ...'",
                     what);
  }
  obj = json_object();
  json_object_foreach(doc, key, v) {
    if ((rc = value_text(key, v, obj)) != 0)
      break;
  }
  json_decref(doc);
  if (rc) {
    json_decref(obj);
    return rc;
  }
  *out = obj;
  return 0;
}

int cli_prompt(const char *question, int hidden, char **out)
{
  struct termios old, quiet;
  cairn_buf line = CAIRN_BUF_INIT;
  int tty = isatty(STDIN_FILENO), echo_off = 0, c;

  *out = NULL;
  /* echo goes off before the question shows, so that nothing typed
     after it is echoed; no input is flushed, so answers typed ahead
     are kept */
  if (hidden && tty && tcgetattr(STDIN_FILENO, &old) == 0) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    echo_off = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
  }
  fprintf(stderr, "%s", question);
  fflush(stderr);
  while ((c = getchar()) != EOF && c != '\n')
    if (cairn_buf_putc(&line, (char)c) < 0)
      break;
  if (echo_off)
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
  /* the terminal echoed the line break, unless echo was off; answers
     from a pipe are not echoed at all */
  if (echo_off || !tty)
    fputc('\n', stderr);
  if (c == EOF && line.size == 0) {
    cairn_buf_dispose(&line);
    return -1;
  }
  if (line.size && line.ptr[line.size - 1] == '\r')
    line.ptr[--line.size] = '\0';
  *out = cairn_buf_detach(&line);
  if (!*out && !(*out = strdup("")))
    return -1;
  return 0;
}

/*
 * Framed tables, the way MLOps users know them, and their JSON form.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct cli_table {
  char *title;
  size_t ncols;
  char **columns;
  char **cells; /* rows * ncols, owned */
  json_t **json; /* per row: its JSON form, or NULL for the cells' */
  size_t rows;
  size_t alloc;
};

cli_table *cli_table_new(const char *title, const char *const *columns,
                         size_t ncols)
{
  cli_table *t = calloc(1, sizeof(*t));
  size_t i;

  if (!t)
    abort();
  t->title = title ? strdup(title) : NULL;
  t->ncols = ncols;
  t->columns = calloc(ncols, sizeof(char *));
  if (!t->columns)
    abort();
  for (i = 0; i < ncols; i++)
    t->columns[i] = strdup(columns[i]);
  return t;
}

void cli_table_add(cli_table *t, const char *const *cells)
{
  size_t i;

  if (t->rows == t->alloc) {
    t->alloc = t->alloc ? t->alloc * 2 : 8;
    t->cells = realloc(t->cells, t->alloc * t->ncols * sizeof(char *));
    t->json = realloc(t->json, t->alloc * sizeof(json_t *));
    if (!t->cells || !t->json)
      abort();
  }
  for (i = 0; i < t->ncols; i++)
    t->cells[t->rows * t->ncols + i] = strdup(cells[i] ? cells[i] : "");
  t->json[t->rows] = NULL;
  t->rows++;
}

void cli_table_addv(cli_table *t, ...)
{
  const char *cells[32];
  va_list ap;
  size_t i;

  va_start(ap, t);
  for (i = 0; i < t->ncols && i < 32; i++)
    cells[i] = va_arg(ap, const char *);
  va_end(ap);
  cli_table_add(t, cells);
}

void cli_table_row_json(cli_table *t, json_t *row)
{
  if (!t->rows) {
    json_decref(row);
    return;
  }
  json_decref(t->json[t->rows - 1]);
  t->json[t->rows - 1] = row;
}

size_t cli_table_rows(const cli_table *t)
{
  return t->rows;
}

static void table_free(cli_table *t)
{
  size_t i;

  for (i = 0; i < t->rows * t->ncols; i++)
    free(t->cells[i]);
  for (i = 0; i < t->rows; i++)
    json_decref(t->json[i]);
  free(t->json);
  for (i = 0; i < t->ncols; i++)
    free(t->columns[i]);
  free(t->cells);
  free(t->columns);
  free(t->title);
  free(t);
}

/* Decode one UTF-8 sequence; returns its length (1 for a bad byte). */
static size_t utf8_next(const char *s, unsigned *cp)
{
  const unsigned char *u = (const unsigned char *)s;

  if (u[0] < 0x80) {
    *cp = u[0];
    return 1;
  }
  if ((u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80) {
    *cp = ((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu);
    return 2;
  }
  if ((u[0] & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 &&
      (u[2] & 0xc0) == 0x80) {
    *cp = ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu);
    return 3;
  }
  if ((u[0] & 0xf8) == 0xf0 && (u[1] & 0xc0) == 0x80 &&
      (u[2] & 0xc0) == 0x80 && (u[3] & 0xc0) == 0x80) {
    *cp = ((u[0] & 0x07u) << 18) | ((u[1] & 0x3fu) << 12) |
          ((u[2] & 0x3fu) << 6) | (u[3] & 0x3fu);
    return 4;
  }
  *cp = '?';
  return 1;
}

/* Symbols below U+1F000 that terminals draw two columns wide. */
static int wide_symbol(unsigned cp)
{
  static const unsigned ranges[][2] = {
    {0x231a, 0x231b}, {0x23e9, 0x23ec}, {0x23f0, 0x23f0}, {0x23f3, 0x23f3},
    {0x25fd, 0x25fe}, {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267f, 0x267f},
    {0x2693, 0x2693}, {0x26a1, 0x26a1}, {0x26aa, 0x26ab}, {0x26bd, 0x26be},
    {0x26c4, 0x26c5}, {0x26ce, 0x26ce}, {0x26d4, 0x26d4}, {0x26ea, 0x26ea},
    {0x26f2, 0x26f3}, {0x26f5, 0x26f5}, {0x26fa, 0x26fa}, {0x26fd, 0x26fd},
    {0x2705, 0x2705}, {0x270a, 0x270b}, {0x2728, 0x2728}, {0x274c, 0x274c},
    {0x274e, 0x274e}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797},
    {0x27b0, 0x27b0}, {0x27bf, 0x27bf}, {0x2b1b, 0x2b1c}, {0x2b50, 0x2b50},
    {0x2b55, 0x2b55}};
  size_t i;

  for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
    if (cp >= ranges[i][0] && cp <= ranges[i][1])
      return 1;
  return 0;
}

static int cp_width(unsigned cp)
{
  if (wide_symbol(cp))
    return 2;
  if ((cp >= 0x0300 && cp <= 0x036f) || cp == 0x200d ||
      (cp >= 0xfe00 && cp <= 0xfe0f))
    return 0;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f000 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd))
    return 2;
  return 1;
}

/* Display width of the first @p len bytes of @p s. */
static size_t text_width(const char *s, size_t len)
{
  size_t w = 0, i = 0;
  unsigned cp;

  while (i < len && s[i]) {
    i += utf8_next(s + i, &cp);
    w += (size_t)cp_width(cp);
  }
  return w;
}

/* Width of the widest line of a cell. */
static size_t cell_width(const char *s)
{
  size_t w = 0, lw;
  const char *nl;

  for (;;) {
    nl = strchr(s, '\n');
    lw = text_width(s, nl ? (size_t)(nl - s) : strlen(s));
    if (lw > w)
      w = lw;
    if (!nl)
      return w;
    s = nl + 1;
  }
}

static size_t cell_lines(const char *s)
{
  size_t n = 1;

  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* The @p k-th line of @p s as (start, length). */
static const char *cell_line(const char *s, size_t k, size_t *len)
{
  const char *nl;

  while (k-- && s) {
    nl = strchr(s, '\n');
    s = nl ? nl + 1 : NULL;
  }
  if (!s) {
    *len = 0;
    return "";
  }
  nl = strchr(s, '\n');
  *len = nl ? (size_t)(nl - s) : strlen(s);
  return s;
}

static void rule(FILE *out, const size_t *widths, size_t n, const char *l,
                 const char *fill, const char *mid, const char *r)
{
  size_t i, k;

  fputs(l, out);
  for (i = 0; i < n; i++) {
    for (k = 0; k < widths[i] + 2; k++)
      fputs(fill, out);
    fputs(i + 1 < n ? mid : r, out);
  }
  fputc('\n', out);
}

static void row(FILE *out, const cli_table *t, const size_t *widths,
                char *const *cells, int center_first)
{
  size_t i, k, lines = 1, len, w, pad;
  const char *text;

  for (i = 0; i < t->ncols; i++)
    if (cell_lines(cells[i]) > lines)
      lines = cell_lines(cells[i]);
  for (k = 0; k < lines; k++) {
    fputs("\xe2\x94\x83", out); /* heavy vertical */
    for (i = 0; i < t->ncols; i++) {
      text = cell_line(cells[i], k, &len);
      w = text_width(text, len);
      pad = widths[i] - w;
      if (i == 0 && center_first) {
        fprintf(out, " %*s%.*s%*s ", (int)(pad / 2), "", (int)len, text,
                (int)(pad - pad / 2), "");
      } else {
        fprintf(out, " %.*s%*s ", (int)len, text, (int)pad, "");
      }
      fputs(i + 1 < t->ncols ? "\xe2\x94\x82" : "\xe2\x94\x83", out);
    }
    fputc('\n', out);
  }
}

void cli_table_print(cli_table *t, FILE *out)
{
  size_t *widths = calloc(t->ncols ? t->ncols : 1, sizeof(size_t));
  size_t i, r, w;
  int center = t->ncols && strcmp(t->columns[0], "ACTIVE") == 0;

  if (!widths)
    abort();
  for (i = 0; i < t->ncols; i++) {
    widths[i] = cell_width(t->columns[i]);
    for (r = 0; r < t->rows; r++) {
      w = cell_width(t->cells[r * t->ncols + i]);
      if (w > widths[i])
        widths[i] = w;
    }
  }
  if (t->title)
    fprintf(out, "%s\n", t->title);
  rule(out, widths, t->ncols, "\xe2\x94\x8f", "\xe2\x94\x81",
       "\xe2\x94\xaf", "\xe2\x94\x93");
  row(out, t, widths, t->columns, center);
  rule(out, widths, t->ncols, "\xe2\x94\xa0", "\xe2\x94\x80",
       "\xe2\x94\xbc", "\xe2\x94\xa8");
  for (r = 0; r < t->rows; r++)
    row(out, t, widths, t->cells + r * t->ncols, center);
  rule(out, widths, t->ncols, "\xe2\x94\x97", "\xe2\x94\x81",
       "\xe2\x94\xb7", "\xe2\x94\x9b");
  free(widths);
  table_free(t);
}

static char *json_key(const char *column)
{
  char *k = strdup(column);
  char *p;

  for (p = k; p && *p; p++) {
    if (*p == ' ')
      *p = '_';
    else if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  }
  return k;
}

void cli_json_emit(json_t *value)
{
  char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

  if (text) {
    fputs(text, stdout);
    fputc('\n', stdout);
  }
  free(text);
  json_decref(value);
}

void cli_table_emit(cli_ctx *ctx, cli_table *t)
{
  json_t *array;
  size_t r, i;

  if (!ctx->json) {
    cli_table_print(t, stdout);
    return;
  }
  array = json_array();
  for (r = 0; r < t->rows; r++) {
    json_t *obj;

    if (t->json[r]) {
      json_array_append(array, t->json[r]);
      continue;
    }
    obj = json_object();
    for (i = 0; i < t->ncols; i++) {
      const char *cell = t->cells[r * t->ncols + i];
      char *key = json_key(t->columns[i]);
      if (strcmp(t->columns[i], "ACTIVE") == 0)
        json_object_set_new(obj, key, json_boolean(*cell != '\0'));
      else
        json_object_set_new(obj, key, json_string(cell));
      free(key);
    }
    json_array_append_new(array, obj);
  }
  table_free(t);
  cli_json_emit(array);
}

/*
 * Growable byte buffers and string lists.
 */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int cairn_buf_grow(cairn_buf *b, size_t extra)
{
  size_t need = b->size + extra + 1;
  size_t nsize;
  char *p;

  if (need < b->size)
    return cairn__error_oom();
  if (need <= b->asize)
    return 0;
  nsize = b->asize ? b->asize : 64;
  while (nsize < need)
    nsize = nsize * 3 / 2 + 16;
  p = realloc(b->ptr, nsize);
  if (!p)
    return cairn__error_oom();
  b->ptr = p;
  b->asize = nsize;
  return 0;
}

int cairn_buf_put(cairn_buf *b, const void *data, size_t len)
{
  if (cairn_buf_grow(b, len) < 0)
    return CAIRN_ENOMEM;
  if (len)
    memcpy(b->ptr + b->size, data, len);
  b->size += len;
  b->ptr[b->size] = '\0';
  return 0;
}

int cairn_buf_puts(cairn_buf *b, const char *s)
{
  return cairn_buf_put(b, s, strlen(s));
}

int cairn_buf_putc(cairn_buf *b, char c)
{
  return cairn_buf_put(b, &c, 1);
}

int cairn_buf_vprintf(cairn_buf *b, const char *fmt, va_list ap)
{
  va_list copy;
  int n;

  va_copy(copy, ap);
  n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0)
    return cairn__error(CAIRN_ERROR, "bad format string");
  if (cairn_buf_grow(b, (size_t)n) < 0)
    return CAIRN_ENOMEM;
  vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
  b->size += (size_t)n;
  return 0;
}

int cairn_buf_printf(cairn_buf *b, const char *fmt, ...)
{
  va_list ap;
  int error;

  va_start(ap, fmt);
  error = cairn_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return error;
}

void cairn_buf_clear(cairn_buf *b)
{
  b->size = 0;
  if (b->ptr)
    b->ptr[0] = '\0';
}

void cairn_buf_dispose(cairn_buf *b)
{
  free(b->ptr);
  b->ptr = NULL;
  b->size = b->asize = 0;
}

const char *cairn_buf_cstr(const cairn_buf *b)
{
  return b->ptr ? b->ptr : "";
}

char *cairn_buf_detach(cairn_buf *b)
{
  char *p = b->ptr;

  if (!p)
    p = cairn__strdup("");
  b->ptr = NULL;
  b->size = b->asize = 0;
  return p;
}

int cairn_strlist_take(cairn_strlist *l, char *s)
{
  char **items;
  size_t n;

  if (!s)
    return CAIRN_ENOMEM;
  if (l->count == l->alloc) {
    n = l->alloc ? l->alloc * 2 : 8;
    items = realloc(l->items, n * sizeof(*items));
    if (!items) {
      free(s);
      return cairn__error_oom();
    }
    l->items = items;
    l->alloc = n;
  }
  l->items[l->count++] = s;
  return 0;
}

int cairn_strlist_add(cairn_strlist *l, const char *s)
{
  return cairn_strlist_take(l, cairn__strdup(s));
}

static int compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void cairn_strlist_sort(cairn_strlist *l)
{
  if (l->count > 1)
    qsort(l->items, l->count, sizeof(char *), compare_strings);
}

int cairn_strlist_sorted_contains(const cairn_strlist *l, const char *s)
{
  return l->count && bsearch(&s, l->items, l->count, sizeof(char *),
                             compare_strings) != NULL;
}

int cairn_strlist_contains(const cairn_strlist *l, const char *s)
{
  size_t i;

  for (i = 0; i < l->count; i++)
    if (strcmp(l->items[i], s) == 0)
      return 1;
  return 0;
}

void cairn_strlist_dispose(cairn_strlist *l)
{
  size_t i;

  for (i = 0; i < l->count; i++)
    free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->count = l->alloc = 0;
}

char *cairn__strdup(const char *s)
{
  char *p = strdup(s ? s : "");

  if (!p)
    cairn__error_oom();
  return p;
}

char *cairn__strndup(const char *s, size_t n)
{
  char *p = strndup(s, n);

  if (!p)
    cairn__error_oom();
  return p;
}

char *cairn__sprintf(const char *fmt, ...)
{
  cairn_buf b = CAIRN_BUF_INIT;
  va_list ap;
  int error;

  va_start(ap, fmt);
  error = cairn_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (error < 0) {
    cairn_buf_dispose(&b);
    return NULL;
  }
  return cairn_buf_detach(&b);
}

void *cairn__calloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size ? size : 1);

  if (!p)
    cairn__error_oom();
  return p;
}

int cairn__starts_with(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

int cairn__ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);

  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

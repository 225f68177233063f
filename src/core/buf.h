/*
 * Growable byte buffers and string lists.
 *
 * A cairn_buf is caller-owned: start from CAIRN_BUF_INIT, append, and
 * empty it with cairn_buf_dispose().  The contents are always
 * NUL-terminated.  A failed append leaves the buffer as it was and
 * returns CAIRN_ENOMEM with the error set.
 */
#ifndef CAIRN_CORE_BUF_H
#define CAIRN_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
  char *ptr;
  size_t size;  /* bytes used, without the NUL */
  size_t asize; /* bytes allocated */
} cairn_buf;

#define CAIRN_BUF_INIT {NULL, 0, 0}

int cairn_buf_grow(cairn_buf *b, size_t extra);
int cairn_buf_put(cairn_buf *b, const void *data, size_t len);
int cairn_buf_puts(cairn_buf *b, const char *s);
int cairn_buf_putc(cairn_buf *b, char c);
int cairn_buf_printf(cairn_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cairn_buf_vprintf(cairn_buf *b, const char *fmt, va_list ap);
void cairn_buf_clear(cairn_buf *b);
void cairn_buf_dispose(cairn_buf *b);
/* The contents ("" when empty); borrowed. */
const char *cairn_buf_cstr(const cairn_buf *b);
/* Hand the contents to the caller (free()); the buffer becomes empty. */
char *cairn_buf_detach(cairn_buf *b);

/* A growable array of owned strings. */
typedef struct {
  char **items;
  size_t count;
  size_t alloc;
} cairn_strlist;

#define CAIRN_STRLIST_INIT {NULL, 0, 0}

int cairn_strlist_add(cairn_strlist *l, const char *s);
/* Takes ownership of @p s (freed on failure too). */
int cairn_strlist_take(cairn_strlist *l, char *s);
void cairn_strlist_sort(cairn_strlist *l);
int cairn_strlist_contains(const cairn_strlist *l, const char *s);
/* The same, by binary search, for a list sorted with cairn_strlist_sort. */
int cairn_strlist_sorted_contains(const cairn_strlist *l, const char *s);
void cairn_strlist_dispose(cairn_strlist *l);

/* strdup that sets the error on failure. */
char *cairn__strdup(const char *s);
char *cairn__strndup(const char *s, size_t n);
/* printf into a new string (free()); NULL with the error set on failure. */
char *cairn__sprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* calloc that sets the error on failure. */
void *cairn__calloc(size_t n, size_t size);

/* 1 when @p s starts with @p prefix / ends with @p suffix. */
int cairn__starts_with(const char *s, const char *prefix);
int cairn__ends_with(const char *s, const char *suffix);

#endif

/*
 * Shared Key signing, SAS joining, percent-encoding and request URLs.
 */
#include "azure/auth.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure/account.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"

/* The standard headers of the string-to-sign, in their order. */
static const char *const signed_headers[] = {
  "Content-Encoding", "Content-Language", "Content-Length",
  "Content-MD5", "Content-Type", "Date", "If-Modified-Since",
  "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"};

#define SIGNED_HEADER_COUNT \
  (sizeof(signed_headers) / sizeof(signed_headers[0]))

/* A name/value pair owned by a sort array. */
typedef struct {
  char *name;
  char *value;
} pair;

static int is_unreserved(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Percent-decode @p len bytes of @p s into a new string. */
static char *decode(const char *s, size_t len)
{
  char *out = malloc(len + 1);
  size_t i, o = 0;

  if (!out) {
    cairn__error_oom();
    return NULL;
  }
  for (i = 0; i < len; i++) {
    int hi, lo;

    if (s[i] == '%' && i + 2 < len && (hi = hex_value(s[i + 1])) >= 0 &&
        (lo = hex_value(s[i + 2])) >= 0) {
      out[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return out;
}

static char *encode(const char *s, int keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  cairn_buf b = CAIRN_BUF_INIT;
  const unsigned char *p;

  if (cairn_buf_puts(&b, "") < 0)
    return NULL;
  for (p = (const unsigned char *)s; *p; p++) {
    char esc[3];
    int error;

    if (is_unreserved(*p) || (keep_slash && *p == '/')) {
      error = cairn_buf_putc(&b, (char)*p);
    } else {
      esc[0] = '%';
      esc[1] = hex[*p >> 4];
      esc[2] = hex[*p & 15];
      error = cairn_buf_put(&b, esc, 3);
    }
    if (error < 0) {
      cairn_buf_dispose(&b);
      return NULL;
    }
  }
  return cairn_buf_detach(&b);
}

char *cairn__azure_encode_path(const char *name)
{
  return encode(name, 1);
}

char *cairn__azure_encode_query(const char *value)
{
  return encode(value, 0);
}

/* Append one "name=value" (or "name") of a SAS, decoded, re-encoded. */
static int sas_param(cairn_buf *b, const char *seg, size_t len)
{
  const char *eq = memchr(seg, '=', len);
  size_t nlen = eq ? (size_t)(eq - seg) : len;
  char *name = decode(seg, nlen), *value = NULL;
  char *ename = NULL, *evalue = NULL;
  int error = CAIRN_ENOMEM;

  if (eq)
    value = decode(eq + 1, len - nlen - 1);
  if (name && (!eq || value) && (ename = encode(name, 0)) &&
      (!eq || (evalue = encode(value, 0))))
    error = cairn_buf_printf(b, "%s%s%s%s", b->size ? "&" : "", ename,
                             eq ? "=" : "", eq ? evalue : "");
  free(name);
  free(value);
  free(ename);
  free(evalue);
  return error;
}

char *cairn__azure_sas_value(const char *value, size_t len)
{
  return decode(value, len);
}

char *cairn__azure_sas_normalise(const char *sas)
{
  cairn_buf b = CAIRN_BUF_INIT;
  size_t len;
  int error = 0;

  sas += strspn(sas, " \t\r\n?&");
  while (*sas && !error) {
    len = strcspn(sas, "&");
    while (len && isspace((unsigned char)sas[len - 1]))
      len--;
    if (len)
      error = sas_param(&b, sas, len);
    sas += strcspn(sas, "&");
    sas += strspn(sas, "&");
  }
  if (error < 0) {
    cairn_buf_dispose(&b);
    return NULL;
  }
  return cairn_buf_detach(&b);
}

char *cairn__azure_sas_join(const char *url, const char *sas)
{
  const char *q;
  size_t n;

  if (sas && *sas == '?')
    sas++;
  while (sas && *sas == '&')
    sas++;
  if (!sas || !*sas)
    return cairn__strdup(url);
  q = strchr(url, '?');
  n = strlen(url);
  if (!q)
    return cairn__sprintf("%s?%s", url, sas);
  if (url[n - 1] == '?' || url[n - 1] == '&')
    return cairn__sprintf("%s%s", url, sas);
  return cairn__sprintf("%s&%s", url, sas);
}

char *cairn__azure_url(const cairn_azure_account *account,
                       const char *container, const char *name,
                       const char *query)
{
  cairn_buf b = CAIRN_BUF_INIT;
  char *enc = NULL, *url, *joined, *sas;
  int error = 0;

  error = cairn_buf_printf(&b, "%s/", account->endpoint);
  if (!error && container && *container) {
    enc = cairn__azure_encode_path(container);
    error = enc ? cairn_buf_puts(&b, enc) : CAIRN_ENOMEM;
    free(enc);
    if (!error && name && *name) {
      enc = cairn__azure_encode_path(name);
      error = enc ? cairn_buf_printf(&b, "/%s", enc) : CAIRN_ENOMEM;
      free(enc);
    }
  }
  if (!error && query && *query)
    error = cairn_buf_printf(&b, "?%s", query);
  if (error < 0) {
    cairn_buf_dispose(&b);
    return NULL;
  }
  url = cairn_buf_detach(&b);
  /* a SAS lease may swap the SAS from its own thread (keeping the old
     string alive), hence the atomic load */
  sas = __atomic_load_n(&account->sas, __ATOMIC_ACQUIRE);
  if (!url || account->auth != CAIRN_AZURE_AUTH_SAS || !sas)
    return url;
  joined = cairn__azure_sas_join(url, sas);
  free(url);
  return joined;
}

/* The value of header @p name (any case), or NULL. */
static const char *header_get(const cairn__azure_header *headers,
                              size_t count, const char *name)
{
  size_t i;

  for (i = 0; i < count; i++)
    if (headers[i].name && strcasecmp(headers[i].name, name) == 0)
      return headers[i].value ? headers[i].value : "";
  return NULL;
}

static int pair_cmp(const void *a, const void *b)
{
  const pair *x = a, *y = b;
  int c = strcmp(x->name, y->name);

  return c ? c : strcmp(x->value, y->value);
}

static void pairs_free(pair *pairs, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    free(pairs[i].name);
    free(pairs[i].value);
  }
  free(pairs);
}

static void lowercase(char *s)
{
  for (; *s; s++)
    *s = (char)tolower((unsigned char)*s);
}

/* Trim a header value and fold runs of whitespace to one space. */
static char *fold_value(const char *v)
{
  size_t len = strlen(v), i, o = 0;
  char *out = malloc(len + 1);
  int space = 0;

  if (!out) {
    cairn__error_oom();
    return NULL;
  }
  for (i = 0; i < len; i++) {
    if (isspace((unsigned char)v[i])) {
      space = o > 0;
      continue;
    }
    if (space)
      out[o++] = ' ';
    space = 0;
    out[o++] = v[i];
  }
  out[o] = '\0';
  return out;
}

/* The x-ms-* headers, one "name:value\n" line each, sorted by name. */
static int put_canonical_headers(cairn_buf *b,
                                 const cairn__azure_header *headers,
                                 size_t count)
{
  pair *pairs = cairn__calloc(count ? count : 1, sizeof(*pairs));
  size_t i, n = 0;
  int error = 0;

  if (!pairs)
    return CAIRN_ENOMEM;
  for (i = 0; i < count && !error; i++) {
    if (!headers[i].name || strncasecmp(headers[i].name, "x-ms-", 5))
      continue;
    pairs[n].name = cairn__strdup(headers[i].name);
    pairs[n].value = fold_value(headers[i].value ? headers[i].value : "");
    n++;
    if (!pairs[n - 1].name || !pairs[n - 1].value)
      error = CAIRN_ENOMEM;
    else
      lowercase(pairs[n - 1].name);
  }
  if (!error && n > 1)
    qsort(pairs, n, sizeof(*pairs), pair_cmp);
  for (i = 0; i < n && !error; i++)
    error = cairn_buf_printf(b, "%s:%s\n", pairs[i].name, pairs[i].value);
  pairs_free(pairs, n);
  return error;
}

/*
 * "/account/path" then "\nname:v1,v2" per query parameter.  The path is
 * the encoded one, byte for byte as sent: Azure and Azurite both sign
 * the path of the request line, so a name with a space or '(' signs as
 * "%20" or "%28", exactly as cairn__azure_encode_path() wrote it.
 */
static int put_canonical_resource(cairn_buf *b, const char *account,
                                  const char *path, size_t path_len,
                                  const char *query)
{
  pair *pairs = NULL;
  size_t n = 0, cap = 0, i;
  int error;

  if (path_len)
    error = cairn_buf_printf(b, "/%s%.*s", account, (int)path_len, path);
  else
    error = cairn_buf_printf(b, "/%s/", account);

  while (!error && query && *query) {
    const char *end = strchr(query, '&'), *eq;
    size_t len = end ? (size_t)(end - query) : strlen(query);

    if (len > 0) {
      if (n == cap) {
        pair *grown = realloc(pairs, (cap ? cap * 2 : 8) * sizeof(*pairs));

        if (!grown) {
          error = cairn__error_oom();
          break;
        }
        pairs = grown;
        cap = cap ? cap * 2 : 8;
      }
      eq = memchr(query, '=', len);
      pairs[n].name = decode(query, eq ? (size_t)(eq - query) : len);
      pairs[n].value = eq ? decode(eq + 1, len - (size_t)(eq + 1 - query))
                          : cairn__strdup("");
      n++;
      if (!pairs[n - 1].name || !pairs[n - 1].value)
        error = CAIRN_ENOMEM;
      else
        lowercase(pairs[n - 1].name);
    }
    query = end ? end + 1 : NULL;
  }
  if (!error && n > 1)
    qsort(pairs, n, sizeof(*pairs), pair_cmp);
  for (i = 0; i < n && !error; i++) {
    if (i > 0 && strcmp(pairs[i].name, pairs[i - 1].name) == 0)
      error = cairn_buf_printf(b, ",%s", pairs[i].value);
    else
      error = cairn_buf_printf(b, "\n%s:%s", pairs[i].name, pairs[i].value);
  }
  pairs_free(pairs, n);
  return error;
}

int cairn__azure_string_to_sign(char **out,
                                const cairn_azure_account *account,
                                const char *method, const char *url,
                                const cairn__azure_header *headers,
                                size_t count)
{
  cairn_buf b = CAIRN_BUF_INIT;
  const char *host, *path, *query;
  size_t path_len, i;
  int error;

  *out = NULL;
  host = strstr(url, "://");
  if (!host)
    return cairn__error(CAIRN_EINVAL, "cannot sign '%.*s': not an "
                        "absolute URL", (int)strcspn(url, "?"), url);
  host += 3;
  path = host + strcspn(host, "/?#");
  query = strchr(path, '?');
  path_len = query ? (size_t)(query - path) : strcspn(path, "#");
  if (query)
    query++;

  /* The verb and the standard headers, one line each. */
  error = cairn_buf_printf(&b, "%s\n", method);
  for (i = 0; i < SIGNED_HEADER_COUNT && !error; i++) {
    const char *v = header_get(headers, count, signed_headers[i]);

    if (!v || (strcmp(signed_headers[i], "Content-Length") == 0 &&
               strcmp(v, "0") == 0))
      v = "";
    if (strcmp(signed_headers[i], "Date") == 0 &&
        header_get(headers, count, "x-ms-date"))
      v = "";
    error = cairn_buf_printf(&b, "%s\n", v);
  }

  if (!error)
    error = put_canonical_headers(&b, headers, count);
  if (!error)
    error = put_canonical_resource(&b, account->name, path, path_len,
                                   query);
  if (error < 0) {
    cairn_buf_dispose(&b);
    return error;
  }
  *out = cairn_buf_detach(&b);
  return *out ? 0 : CAIRN_ENOMEM;
}

int cairn__azure_shared_key(char **out, const cairn_azure_account *account,
                            const char *method, const char *url,
                            const cairn__azure_header *headers, size_t count)
{
  unsigned char mac[CAIRN_SHA256_LEN];
  char *sts = NULL, *sig = NULL;
  int error;

  *out = NULL;
  if (!account->key || account->auth != CAIRN_AZURE_AUTH_SHARED_KEY)
    return cairn__error(CAIRN_EAUTH, "account '%s' has no account key to "
                        "sign requests with", account->name);

  error = cairn__azure_string_to_sign(&sts, account, method, url, headers,
                                      count);
  if (error < 0)
    return error;

  error = cairn_hmac_sha256(mac, account->key, account->key_len, sts,
                            strlen(sts));
  free(sts);
  if (error < 0)
    return error;

  sig = cairn_base64_encode(mac, sizeof(mac));
  if (!sig)
    return cairn__error_oom();
  *out = cairn__sprintf("SharedKey %s:%s", account->name, sig);
  free(sig);
  return *out ? 0 : CAIRN_ENOMEM;
}

/*
 * List Blobs: every page, parsed with expat, entries handed to a
 * callback as they are read.  One page (at most 5,000 entries) is held
 * in memory at a time.
 */
#include <expat.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure/auth.h"
#include "azure/client.h"
#include "core/error.h"
#include "core/util.h"

#define PAGE_SIZE 5000

typedef struct {
  XML_Parser parser;
  cairn_azure_list_cb cb;
  void *payload;
  int result;      /* non-zero from the callback, or an error */
  int in_entry;    /* inside <Blob> or <BlobPrefix> */
  int in_props;
  int in_meta;
  int encoded;     /* the current element has Encoded="true" */
  int marker_meta; /* hdi_isfolder=true seen */
  cairn_buf text;
  cairn_azure_blob_info cur;
  char *next_marker;
} list_state;

static int hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Percent-decode @p s in place (names the service sent Encoded). */
static void percent_decode(char *s)
{
  char *o = s;
  int hi, lo;

  for (; *s; s++) {
    if (*s == '%' && (hi = hex_digit(s[1])) >= 0 &&
        (lo = hex_digit(s[2])) >= 0) {
      *o++ = (char)(hi * 16 + lo);
      s += 2;
    } else {
      *o++ = *s;
    }
  }
  *o = '\0';
}

static void stop(list_state *st, int result)
{
  if (!st->result)
    st->result = result;
  XML_StopParser(st->parser, XML_FALSE);
}

static void XMLCALL on_start(void *p, const XML_Char *el,
                             const XML_Char **attr)
{
  list_state *st = p;
  size_t i;

  cairn_buf_clear(&st->text);
  st->encoded = 0;
  for (i = 0; attr[i]; i += 2)
    if (strcmp(attr[i], "Encoded") == 0 && cairn__azure_is_true(attr[i + 1]))
      st->encoded = 1;

  if (st->in_entry) {
    if (strcmp(el, "Properties") == 0 && !st->in_meta)
      st->in_props = 1;
    else if (strcmp(el, "Metadata") == 0 && !st->in_props)
      st->in_meta = 1;
    return;
  }
  if (strcmp(el, "Blob") == 0 || strcmp(el, "BlobPrefix") == 0) {
    cairn_azure_blob_info_dispose(&st->cur);
    st->in_entry = 1;
    st->marker_meta = 0;
    st->cur.is_prefix = strcmp(el, "BlobPrefix") == 0;
  }
}

static void take_name(list_state *st)
{
  char *name = cairn__strdup(cairn_buf_cstr(&st->text));

  if (!name) {
    stop(st, CAIRN_ENOMEM);
    return;
  }
  if (st->encoded)
    percent_decode(name);
  free(st->cur.name);
  st->cur.name = name;
}

static void end_property(list_state *st, const char *el)
{
  const char *v = cairn_buf_cstr(&st->text);
  int64_t t;

  if (strcasecmp(el, "Content-Length") == 0)
    st->cur.size = strtoull(v, NULL, 10);
  else if (strcasecmp(el, "Last-Modified") == 0 &&
           cairn_time_parse_rfc1123(&t, v) == 0)
    st->cur.last_modified = t;
  else if (strcasecmp(el, "Etag") == 0)
    snprintf(st->cur.etag, sizeof(st->cur.etag), "%s", v);
}

static void end_metadata(list_state *st, const char *el)
{
  const char *v = cairn_buf_cstr(&st->text);

  if (strcasecmp(el, "hdi_isfolder") == 0)
    st->marker_meta = cairn__azure_is_true(v);
  else if (strcasecmp(el, "cairnsha256") == 0)
    snprintf(st->cur.sha256, sizeof(st->cur.sha256), "%s", v);
}

static void end_entry(list_state *st)
{
  int r;

  st->in_entry = st->in_props = st->in_meta = 0;
  if (!st->cur.name)
    return;
  st->cur.is_dir_marker = st->marker_meta && st->cur.size == 0 &&
                          !st->cur.is_prefix;
  r = st->cb(&st->cur, st->payload);
  cairn_azure_blob_info_dispose(&st->cur);
  if (r)
    stop(st, r);
}

static void XMLCALL on_end(void *p, const XML_Char *el)
{
  list_state *st = p;

  if (st->in_meta) {
    if (strcmp(el, "Metadata") == 0)
      st->in_meta = 0;
    else
      end_metadata(st, el);
  } else if (st->in_props) {
    if (strcmp(el, "Properties") == 0)
      st->in_props = 0;
    else
      end_property(st, el);
  } else if (st->in_entry) {
    if (strcmp(el, "Name") == 0)
      take_name(st);
    else if (strcmp(el, "Blob") == 0 || strcmp(el, "BlobPrefix") == 0)
      end_entry(st);
  } else if (strcmp(el, "NextMarker") == 0) {
    free(st->next_marker);
    st->next_marker = cairn__strdup(cairn_buf_cstr(&st->text));
    if (!st->next_marker)
      stop(st, CAIRN_ENOMEM);
  }
  cairn_buf_clear(&st->text);
}

static void XMLCALL on_text(void *p, const XML_Char *s, int len)
{
  list_state *st = p;

  if (cairn_buf_put(&st->text, s, (size_t)len) < 0)
    stop(st, CAIRN_ENOMEM);
}

/* Parse one page; the callback runs for each entry. */
static int parse_page(list_state *st, const cairn_buf *page,
                      const char *container)
{
  enum XML_Status status;
  int error = 0;

  if (!(st->parser = XML_ParserCreate("UTF-8")))
    return cairn__error_oom();
  XML_SetUserData(st->parser, st);
  XML_SetElementHandler(st->parser, on_start, on_end);
  XML_SetCharacterDataHandler(st->parser, on_text);
  free(st->next_marker);
  st->next_marker = NULL;
  status = XML_Parse(st->parser, page->ptr ? page->ptr : "",
                     (int)page->size, 1);
  if (st->result)
    error = st->result;
  else if (status != XML_STATUS_OK)
    error = cairn__error(CAIRN_ERROR,
                         "the listing of container '%s' is not valid XML "
                         "(line %lu: %s)", container,
                         (unsigned long)XML_GetCurrentLineNumber(st->parser),
                         XML_ErrorString(XML_GetErrorCode(st->parser)));
  XML_ParserFree(st->parser);
  st->parser = NULL;
  cairn_azure_blob_info_dispose(&st->cur);
  st->in_entry = st->in_props = st->in_meta = 0;
  return error;
}

static int add_param(cairn_buf *q, const char *name, const char *value)
{
  char *enc;
  int error;

  if (!value || !*value)
    return 0;
  if (!(enc = cairn__azure_encode_query(value)))
    return CAIRN_ENOMEM;
  error = cairn_buf_printf(q, "&%s=%s", name, enc);
  free(enc);
  return error;
}

/*
 * Pages of at most @p page_size entries from the start of the listing;
 * every page when @p all, else the first one only.
 */
static int list_pages(cairn_azure_client *c, const char *container,
                      const char *prefix, const char *delimiter,
                      int page_size, int all, cairn_azure_list_cb cb,
                      void *payload)
{
  list_state st;
  cairn_http_request req;
  cairn_buf query = CAIRN_BUF_INIT;
  int error = 0;

  memset(&st, 0, sizeof(st));
  st.cb = cb;
  st.payload = payload;
  cairn_http_request_init(&req);
  do {
    cairn_buf_clear(&query);
    error = cairn_buf_printf(&query, "restype=container&comp=list"
                             "&include=metadata&maxresults=%d", page_size);
    if (!error)
      error = add_param(&query, "prefix", prefix);
    if (!error)
      error = add_param(&query, "delimiter", delimiter);
    if (!error)
      error = add_param(&query, "marker", st.next_marker);
    if (!error)
      error = cairn__azure_request(&req, c, "GET", container, NULL,
                                   query.ptr);
    if (error < 0)
      break;
    req.sink.kind = CAIRN_HTTP_SINK_BUF;
    if ((error = cairn__azure_send(c, &req, container, NULL)) < 0)
      break;
    error = parse_page(&st, &req.response, container);
  } while (all && !error && st.next_marker && *st.next_marker);

  free(st.next_marker);
  cairn_buf_dispose(&st.text);
  cairn_buf_dispose(&query);
  cairn_http_request_dispose(&req);
  return error;
}

int cairn_azure_list(cairn_azure_client *c, const char *container,
                     const char *prefix, const char *delimiter,
                     cairn_azure_list_cb cb, void *payload)
{
  return list_pages(c, container, prefix, delimiter, PAGE_SIZE, 1, cb,
                    payload);
}

static int found_one(const cairn_azure_blob_info *entry, void *payload)
{
  (void)entry;
  *(int *)payload = 1;
  return 0;
}

int cairn_azure_list_any(cairn_azure_client *c, const char *container,
                         const char *prefix, int *found)
{
  *found = 0;
  return list_pages(c, container, prefix, NULL, 1, 0, found_one, found);
}

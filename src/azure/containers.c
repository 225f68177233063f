/*
 * List Containers: the containers of an account, every page, parsed with
 * expat.  Needs a credential with account-level list rights (a key, an
 * account SAS with srt=s, or a token with a data role on the account).
 */
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "azure/auth.h"
#include "azure/client.h"
#include "core/error.h"
#include "core/util.h"

typedef struct {
  XML_Parser parser;
  cairn_azure_container_cb cb;
  void *payload;
  int result;
  int depth_in_container; /* inside <Container>, not its <Properties> */
  cairn_buf text;
  char *next_marker;
} containers_state;

static void stop(containers_state *st, int result)
{
  if (!st->result)
    st->result = result;
  XML_StopParser(st->parser, XML_FALSE);
}

static void XMLCALL on_start(void *p, const XML_Char *el,
                             const XML_Char **attr)
{
  containers_state *st = p;

  (void)attr;
  cairn_buf_clear(&st->text);
  if (strcmp(el, "Container") == 0)
    st->depth_in_container = 1;
  else if (st->depth_in_container)
    st->depth_in_container++;
}

static void XMLCALL on_end(void *p, const XML_Char *el)
{
  containers_state *st = p;
  int rc;

  if (st->depth_in_container == 2 && strcmp(el, "Name") == 0) {
    if ((rc = st->cb(cairn_buf_cstr(&st->text), st->payload)) != 0)
      stop(st, rc);
  } else if (!st->depth_in_container && strcmp(el, "NextMarker") == 0) {
    free(st->next_marker);
    if (!(st->next_marker = cairn__strdup(cairn_buf_cstr(&st->text))))
      stop(st, CAIRN_ENOMEM);
  }
  if (st->depth_in_container)
    st->depth_in_container--;
  cairn_buf_clear(&st->text);
}

static void XMLCALL on_text(void *p, const XML_Char *s, int len)
{
  containers_state *st = p;

  if (cairn_buf_put(&st->text, s, (size_t)len) < 0)
    stop(st, CAIRN_ENOMEM);
}

static int parse_page(containers_state *st, const cairn_buf *page)
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
  st->depth_in_container = 0;
  status = XML_Parse(st->parser, page->ptr ? page->ptr : "",
                     (int)page->size, 1);
  if (st->result)
    error = st->result;
  else if (status != XML_STATUS_OK)
    error = cairn__error(CAIRN_ERROR, "the list of containers is not "
                         "valid XML (line %lu: %s)",
                         (unsigned long)XML_GetCurrentLineNumber(st->parser),
                         XML_ErrorString(XML_GetErrorCode(st->parser)));
  XML_ParserFree(st->parser);
  st->parser = NULL;
  return error;
}

/* "&name=<encoded value>" when @p value is set. */
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

int cairn_azure_list_containers(cairn_azure_client *c, const char *prefix,
                                cairn_azure_container_cb cb, void *payload)
{
  containers_state st;
  cairn_http_request req;
  cairn_buf query = CAIRN_BUF_INIT;
  int error = 0;

  memset(&st, 0, sizeof(st));
  st.cb = cb;
  st.payload = payload;
  cairn_http_request_init(&req);
  do {
    cairn_buf_clear(&query);
    error = cairn_buf_puts(&query, "comp=list&maxresults=5000");
    if (!error)
      error = add_param(&query, "prefix", prefix);
    if (!error)
      error = add_param(&query, "marker", st.next_marker);
    if (!error)
      error = cairn__azure_request(&req, c, "GET", NULL, NULL, query.ptr);
    if (error < 0)
      break;
    req.sink.kind = CAIRN_HTTP_SINK_BUF;
    if ((error = cairn__azure_send(c, &req, NULL, NULL)) < 0)
      break;
    error = parse_page(&st, &req.response);
  } while (!error && st.next_marker && *st.next_marker);

  free(st.next_marker);
  cairn_buf_dispose(&st.text);
  cairn_buf_dispose(&query);
  cairn_http_request_dispose(&req);
  return error;
}

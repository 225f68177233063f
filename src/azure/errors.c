/*
 * Service answers to cairn errors: one table from HTTP status and the
 * service's error code (x-ms-error-code, or <Code> in the XML body) to a
 * cairn code and a message a user can act on.  Messages always carry the
 * service's code and never a key, a SAS signature or an Authorization
 * value (the service's AuthenticationErrorDetail is never shown).
 */
#include <expat.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "azure/account.h"
#include "azure/client.h"
#include "core/error.h"
#include "core/log.h"

/* What the XML error body tells. */
typedef struct {
  char code[64];
  char message[256];
  char header[64]; /* HeaderName, for InvalidHeaderValue */
  char *field;     /* the element being read, or NULL */
  size_t cap;
} error_body;

static void XMLCALL on_start(void *p, const XML_Char *el,
                             const XML_Char **attr)
{
  error_body *b = p;

  (void)attr;
  b->field = NULL;
  if (strcmp(el, "Code") == 0) {
    b->field = b->code;
    b->cap = sizeof(b->code);
  } else if (strcmp(el, "Message") == 0) {
    b->field = b->message;
    b->cap = sizeof(b->message);
  } else if (strcmp(el, "HeaderName") == 0) {
    b->field = b->header;
    b->cap = sizeof(b->header);
  }
}

static void XMLCALL on_end(void *p, const XML_Char *el)
{
  (void)el;
  ((error_body *)p)->field = NULL;
}

static void XMLCALL on_text(void *p, const XML_Char *s, int len)
{
  error_body *b = p;
  size_t have, n;

  if (!b->field)
    return;
  have = strlen(b->field);
  n = (size_t)len;
  if (have + n >= b->cap)
    n = b->cap - have - 1;
  memcpy(b->field + have, s, n);
  b->field[have + n] = '\0';
}

static void parse_body(error_body *b, const cairn_buf *body)
{
  XML_Parser parser;
  char *nl;

  if (!body->size || !memchr(body->ptr, '<', body->size))
    return;
  if (!(parser = XML_ParserCreate(NULL)))
    return;
  XML_SetUserData(parser, b);
  XML_SetElementHandler(parser, on_start, on_end);
  XML_SetCharacterDataHandler(parser, on_text);
  XML_Parse(parser, body->ptr, (int)body->size, 1);
  XML_ParserFree(parser);
  /* keep the first line: the others hold request ids and times */
  if ((nl = strpbrk(b->message, "\r\n")))
    *nl = '\0';
}

/* 1 when @p hay holds @p needle, ignoring case. */
static int contains_ci(const char *hay, const char *needle)
{
  size_t n = strlen(needle);

  for (; *hay; hay++)
    if (strncasecmp(hay, needle, n) == 0)
      return 1;
  return 0;
}

static int is(const char *code, const char *name)
{
  return strcasecmp(code, name) == 0;
}

/* The permission an operation needs, for AuthorizationPermissionMismatch. */
static const char *permission_for(const cairn_http_request *req)
{
  if (strstr(req->url, "comp=list"))
    return "list";
  if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
    return "read";
  if (strcmp(req->method, "DELETE") == 0)
    return "delete";
  return "write/create";
}

static int transport_error(cairn_azure_client *c,
                           const cairn_http_request *req)
{
  const char *endpoint = cairn_azure_account_endpoint(c->account);

  if (req->result == CAIRN_ECANCELLED)
    return cairn__error(CAIRN_ECANCELLED, "the transfer was stopped");
  if (req->result != CAIRN_ENET && req->result != CAIRN_ETIMEOUT)
    return cairn__error(req->result, "%s", req->error);
  if (req->result == CAIRN_ETIMEOUT)
    return cairn__error(CAIRN_ETIMEOUT,
                        "the storage endpoint %s did not answer in time "
                        "(%s); check the network or try again",
                        endpoint, req->error);
  return cairn__error(CAIRN_ENET,
                      "cannot reach the storage endpoint %s (%s); check "
                      "the endpoint and that the service is running",
                      endpoint, req->error);
}

static int auth_error(cairn_azure_client *c, const char *code)
{
  const char *acct = cairn_azure_account_name(c->account);
  cairn_azure_auth auth = cairn_azure_account_auth(c->account);

  if (is(code, "KeyBasedAuthenticationNotPermitted"))
    return cairn__error(CAIRN_EAUTH,
                        "account '%s' does not allow account-key access "
                        "(%s): use Entra ID (a service principal) or a "
                        "user-delegation SAS", acct, code);
  if (auth == CAIRN_AZURE_AUTH_SAS)
    return cairn__error(CAIRN_EAUTH,
                        "the SAS token was refused (%s): check that it is "
                        "for account '%s', not expired, and grants this "
                        "operation", code, acct);
  if (auth == CAIRN_AZURE_AUTH_ANONYMOUS)
    return cairn__error(CAIRN_EAUTH,
                        "anonymous access was refused (%s): give account "
                        "'%s' a key, a SAS or a connection string",
                        code, acct);
  return cairn__error(CAIRN_EAUTH,
                      "the account key was refused (%s): check the key of "
                      "account '%s' and the endpoint %s, and that the "
                      "local clock is right", code, acct,
                      cairn_azure_account_endpoint(c->account));
}

static int not_found(cairn_azure_client *c, const char *code,
                     const char *container, const char *name)
{
  const char *acct = cairn_azure_account_name(c->account);

  if (is(code, "ContainerNotFound") || (!*code && (!name || !*name)))
    return cairn__error(CAIRN_ENOTFOUND,
                        "container '%s' does not exist in account '%s' "
                        "(%s)", container ? container : "", acct,
                        *code ? code : "HTTP 404");
  if (is(code, "BlobNotFound") || !*code)
    return cairn__error(CAIRN_ENOTFOUND,
                        "no blob '%s' in container '%s' (%s)", name,
                        container ? container : "",
                        *code ? code : "HTTP 404");
  if (is(code, "ResourceNotFound"))
    return cairn__error(CAIRN_ENOTFOUND,
                        "the endpoint %s has no such resource (%s): check "
                        "the endpoint URL and the account name '%s'",
                        cairn_azure_account_endpoint(c->account), code,
                        acct);
  return cairn__error(CAIRN_ENOTFOUND, "not found: '%s' in container '%s' "
                      "(%s)", name ? name : "", container ? container : "",
                      code);
}

static int bad_request(cairn_azure_client *c, const error_body *b,
                       const char *container, const char *name)
{
  const char *code = b->code;

  if (is(code, "InvalidHeaderValue") &&
      (contains_ci(b->header, "x-ms-version") ||
       contains_ci(b->message, "API version")))
    return cairn__error(CAIRN_EINVAL,
                        "the service does not accept API version %s (%s): "
                        "use a newer Azurite, or start an old one with "
                        "--skipApiVersionCheck", CAIRN_AZURE_API_VERSION,
                        code);
  if (is(code, "InvalidResourceName"))
    return cairn__error(CAIRN_EINVAL,
                        "the service refused the name of container '%s' "
                        "or blob '%s' (%s)", container ? container : "",
                        name ? name : "", code);
  if (is(code, "Md5Mismatch") || contains_ci(b->message, "MD5"))
    return cairn__error(CAIRN_EINTEGRITY,
                        "the data of blob '%s' was damaged on the way "
                        "(%s): try again", name ? name : "",
                        *code ? code : "Md5Mismatch");
  (void)c;
  return cairn__error(CAIRN_EINVAL,
                      "the service refused the request for '%s' (%s: %s)",
                      name && *name ? name : (container ? container : ""),
                      *code ? code : "HTTP 400",
                      *b->message ? b->message : "bad request");
}

int cairn__azure_error(cairn_azure_client *c, const cairn_http_request *req,
                       const char *container, const char *name)
{
  error_body b;
  const char *hdr;
  const char *who = name && *name ? name : (container ? container : "");
  long st = req->status;
  char safe[256];

  memset(&b, 0, sizeof(b));
  c->last_code[0] = '\0';
  if (req->result < 0)
    return transport_error(c, req);

  parse_body(&b, &req->response);
  hdr = cairn_http_headers_get(&req->response_headers, "x-ms-error-code");
  if (hdr)
    snprintf(b.code, sizeof(b.code), "%s", hdr);
  snprintf(c->last_code, sizeof(c->last_code), "%s", b.code);
  cairn__redact(safe, sizeof(safe), b.message);
  log_debug("azure", "%s -> HTTP %ld %s", req->method, st, b.code);

  if (st == 401 || (st == 403 && (is(b.code, "AuthenticationFailed") ||
                                  is(b.code, "AuthorizationFailure") ||
                                  is(b.code, "InvalidAuthenticationInfo") ||
                                  is(b.code,
                                     "KeyBasedAuthenticationNotPermitted") ||
                                  !*b.code)))
    return auth_error(c, *b.code ? b.code : "HTTP 403");
  if (st == 403)
    return cairn__error(CAIRN_EPERM,
                        "the credential lacks the %s permission needed for "
                        "'%s' (%s): grant it in the SAS or give the "
                        "identity a Storage Blob Data role",
                        permission_for(req), who, b.code);
  if (st == 404)
    return not_found(c, b.code, container, name);
  if (st == 409 && (is(b.code, "BlobAlreadyExists") ||
                    is(b.code, "ContainerAlreadyExists")))
    return cairn__error(CAIRN_EEXISTS, "'%s' exists already (%s)", who,
                        b.code);
  if (st == 409 && is(b.code, "ContainerBeingDeleted"))
    return cairn__error(CAIRN_EINUSE,
                        "container '%s' is being deleted (%s): wait a "
                        "minute and try again", who, b.code);
  if (st == 412 || (st == 409 && contains_ci(b.code, "Lease")))
    return cairn__error(CAIRN_EPRECONDITION,
                        "a condition on '%s' failed (%s): it was changed "
                        "or is leased by someone else", who,
                        *b.code ? b.code : "HTTP 412");
  if (st == 400)
    return bad_request(c, &b, container, name);
  if (st == 429 || st == 503)
    return cairn__error(CAIRN_ETHROTTLED,
                        "the service is busy (%s) and still refused after "
                        "%u attempts: try again later or lower the "
                        "concurrency", *b.code ? b.code : "HTTP 503",
                        req->attempts);
  if (st == 416)
    return cairn__error(CAIRN_EINVAL, "range outside blob '%s' (%s)", who,
                        *b.code ? b.code : "InvalidRange");
  if (st >= 500)
    return cairn__error(CAIRN_ENET,
                        "the service failed on '%s' (HTTP %ld %s%s%s) after "
                        "%u attempts", who, st, b.code, *safe ? ": " : "",
                        safe, req->attempts);
  return cairn__error(CAIRN_ERROR, "request for '%s' failed (HTTP %ld %s%s%s)",
                      who, st, b.code, *safe ? ": " : "", safe);
}

int cairn__azure_container_missing(const cairn_azure_client *c)
{
  return strcasecmp(c->last_code, "ContainerNotFound") == 0;
}

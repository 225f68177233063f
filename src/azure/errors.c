/*
 * Service answers to cairn errors: one table from HTTP status and the
 * service's error code (x-ms-error-code, or <Code> in the XML body) to a
 * cairn code and a message a user can act on.  Messages always carry the
 * service's code and never a key, a SAS signature or an Authorization
 * value (the service's AuthenticationErrorDetail is read to tell an
 * expired SAS or a skewed clock, never shown).
 */
#include <ctype.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure/account.h"
#include "azure/client.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

/* How far apart clocks may be before Azure refuses Shared Key requests. */
#define SKEW_LIMIT_S (15 * 60)

/* What the XML error body tells. */
typedef struct {
  char code[64];
  char message[256];
  char header[64];  /* HeaderName, for InvalidHeaderValue */
  char detail[512]; /* AuthenticationErrorDetail: read, never shown */
  char *field;      /* the element being read, or NULL */
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
  } else if (strcmp(el, "AuthenticationErrorDetail") == 0) {
    b->field = b->detail;
    b->cap = sizeof(b->detail);
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

/* 1 when the query of @p url holds parameter @p param ("comp=list"). */
static int has_param(const char *url, const char *param)
{
  const char *q = strchr(url, '?');
  size_t n = strlen(param);

  while (q) {
    q++;
    if (strncmp(q, param, n) == 0 && (q[n] == '&' || q[n] == '\0'))
      return 1;
    q = strchr(q, '&');
  }
  return 0;
}

/*
 * What an operation does and the SAS permission (with its letter) it
 * needs, for AuthorizationPermissionMismatch.
 */
static void permission_for(const cairn_http_request *req, const char **what,
                           const char **perm)
{
  int container = has_param(req->url, "restype=container");

  if (has_param(req->url, "comp=list")) {
    *what = "list";
    *perm = "list (l)";
  } else if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")) {
    *what = "read";
    *perm = "read (r)";
  } else if (!strcmp(req->method, "DELETE")) {
    *what = "delete";
    *perm = "delete (d)";
  } else if (container) {
    *what = "create";
    *perm = "create (c)";
  } else if (cairn_http_headers_get(&req->headers, "x-ms-copy-source")) {
    *what = "copy to";
    *perm = "write (w) on the destination and read (r) on the source";
  } else {
    *what = "write";
    *perm = "write (w), or create (c) for a new blob,";
  }
}

/*
 * The value of parameter @p name of the account's SAS, percent-decoded,
 * into @p out ("" when absent).
 */
static void sas_param(const cairn_azure_account *a, const char *name,
                      char *out, size_t outlen)
{
  const char *p = a->sas, *v;
  size_t n = strlen(name), o = 0;

  out[0] = '\0';
  while (p && *p) {
    if (strncmp(p, name, n) == 0 && p[n] == '=') {
      for (v = p + n + 1; *v && *v != '&' && o + 1 < outlen; v++) {
        if (v[0] == '%' && isxdigit((unsigned char)v[1]) &&
            isxdigit((unsigned char)v[2])) {
          char hex[3] = {v[1], v[2], '\0'};

          out[o++] = (char)strtol(hex, NULL, 16);
          v += 2;
        } else {
          out[o++] = *v;
        }
      }
      out[o] = '\0';
      return;
    }
    p = strchr(p, '&');
    p = p ? p + 1 : NULL;
  }
}

/* The service's time from the answer's Date, else the local clock. */
static int64_t service_now(const cairn_http_request *req)
{
  const char *date = cairn_http_headers_get(&req->response_headers, "Date");
  int64_t t;

  if (date && cairn_time_parse_rfc1123(&t, date) == 0)
    return t;
  return cairn_time_now();
}

static int transport_error(cairn_azure_client *c,
                           const cairn_http_request *req)
{
  const char *endpoint = cairn_azure_account_endpoint(c->account);

  if (req->result == CAIRN_ECANCELLED)
    return cairn__error(CAIRN_ECANCELLED, "the transfer was stopped");
  /* such as a token that could not be had: not the storage endpoint's */
  if (req->unsent || (req->result != CAIRN_ENET &&
                      req->result != CAIRN_ETIMEOUT))
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

/* A SAS refused for its time window, with the window's edges. */
static int sas_time_error(cairn_azure_client *c,
                          const cairn_http_request *req, const char *code,
                          const error_body *b)
{
  char start[64], expiry[64];
  int64_t now = service_now(req), t;

  sas_param(c->account, "se", expiry, sizeof(expiry));
  sas_param(c->account, "st", start, sizeof(start));
  if ((*expiry && cairn_time_parse_iso8601(&t, expiry) == 0 && t <= now) ||
      (contains_ci(b->detail, "expir") && !*expiry))
    return cairn__error(CAIRN_EAUTH,
                        "the SAS token expired%s%s (%s): get a new one",
                        *expiry ? " at " : "", expiry, code);
  if (*start && cairn_time_parse_iso8601(&t, start) == 0 && t > now)
    return cairn__error(CAIRN_EAUTH,
                        "the SAS token is not valid before %s, and the "
                        "service's time is earlier (%s): wait, or make the "
                        "SAS with a start time a few minutes back", start,
                        code);
  return 0;
}

/*
 * A Shared Key request refused while the local clock and the service's
 * differ by more than Azure allows: say so, with both times.
 */
static int clock_skew_error(cairn_azure_client *c,
                            const cairn_http_request *req, const char *code)
{
  const char *sent = cairn_http_headers_get(&req->headers, "x-ms-date");
  const char *date = cairn_http_headers_get(&req->response_headers, "Date");
  int64_t local, remote, diff;

  if (!date || cairn_time_parse_rfc1123(&remote, date) < 0)
    return 0;
  if (!sent || cairn_time_parse_rfc1123(&local, sent) < 0)
    local = cairn_time_now();
  diff = local - remote;
  if (diff <= SKEW_LIMIT_S && diff >= -SKEW_LIMIT_S)
    return 0;
  return cairn__error(CAIRN_EAUTH,
                      "the local clock is %lld minutes %s the service's "
                      "(local %s, service %s) and Azure refuses signed "
                      "requests more than 15 minutes off (%s): set the "
                      "clock right (NTP); the account key of '%s' may be "
                      "fine", (long long)((diff < 0 ? -diff : diff) / 60),
                      diff < 0 ? "behind" : "ahead of", sent ? sent : "now",
                      date, code, cairn_azure_account_name(c->account));
}

static int auth_error(cairn_azure_client *c, const cairn_http_request *req,
                      const char *code, const error_body *b)
{
  const char *acct = cairn_azure_account_name(c->account);
  cairn_azure_auth auth = cairn_azure_account_auth(c->account);
  int error;

  if (is(code, "KeyBasedAuthenticationNotPermitted"))
    return cairn__error(CAIRN_EAUTH,
                        "account '%s' does not allow access with its keys, "
                        "nor with a SAS signed by one (%s): use Entra ID "
                        "instead (a service principal, a managed identity "
                        "or a user-delegation SAS)", acct, code);
  if (auth == CAIRN_AZURE_AUTH_SAS) {
    char resource[8];

    if ((error = sas_time_error(c, req, code, b)) < 0)
      return error;
    sas_param(c->account, "sr", resource, sizeof(resource));
    if (strcmp(resource, "c") == 0 && strstr(req->url, "comp=list") &&
        !strstr(req->url, "restype=container"))
      return cairn__error(CAIRN_EAUTH,
                          "a container SAS (sr=c) reaches its one "
                          "container, not the account's list of "
                          "containers (%s): name the container, as in "
                          "-r blob-container -ri az://CONTAINER", code);
    return cairn__error(CAIRN_EAUTH,
                        "the SAS token was refused (%s): check that it is "
                        "for account '%s' and this container, and that it "
                        "was copied whole", code, acct);
  }
  if (auth == CAIRN_AZURE_AUTH_ANONYMOUS)
    return cairn__error(CAIRN_EAUTH,
                        "anonymous access was refused (%s): give account "
                        "'%s' a key, a SAS or a connection string",
                        code, acct);
  if (auth == CAIRN_AZURE_AUTH_BEARER)
    return cairn__error(CAIRN_EAUTH,
                        "the access token was refused (%s): check the "
                        "tenant and that the token is for Azure Storage "
                        "(https://storage.azure.com)", code);
  if ((error = clock_skew_error(c, req, code)) < 0)
    return error;
  return cairn__error(CAIRN_EAUTH,
                      "the account key was refused (%s): check the key of "
                      "account '%s' and the endpoint %s", code, acct,
                      cairn_azure_account_endpoint(c->account));
}

/* 403 other than authentication: a permission, a scope or a role. */
static int permission_error(cairn_azure_client *c,
                            const cairn_http_request *req,
                            const error_body *b, const char *who)
{
  cairn_azure_auth auth = cairn_azure_account_auth(c->account);
  const char *code = b->code, *what, *perm;

  permission_for(req, &what, &perm);
  if (is(code, "AuthorizationResourceTypeMismatch"))
    return cairn__error(CAIRN_EPERM,
                        "the SAS token does not cover this kind of resource "
                        "(%s): an account SAS needs srt=sco (service, "
                        "container, object) to %s '%s'", code, what, who);
  if (is(code, "AuthorizationServiceMismatch"))
    return cairn__error(CAIRN_EPERM,
                        "the SAS token is not for the blob service (%s): an "
                        "account SAS needs ss to include b", code);
  if (is(code, "AuthorizationProtocolMismatch"))
    return cairn__error(CAIRN_EPERM,
                        "the SAS token allows HTTPS only (%s): use an "
                        "https:// endpoint", code);
  if (is(code, "AuthorizationSourceIPMismatch"))
    return cairn__error(CAIRN_EPERM,
                        "the SAS token is not valid from this address "
                        "(%s): ask for one whose sip range includes it",
                        code);
  if (auth == CAIRN_AZURE_AUTH_BEARER)
    return cairn__error(CAIRN_EPERM,
                        "the identity may not %s '%s' (%s): it needs a "
                        "data-plane role on the account or the container, "
                        "Storage Blob Data Contributor to write or Storage "
                        "Blob Data Reader to read (Owner or Contributor "
                        "alone do not give access to data); a new role "
                        "assignment takes a few minutes to apply",
                        what, who, *code ? code : "HTTP 403");
  if (auth == CAIRN_AZURE_AUTH_SAS)
    return cairn__error(CAIRN_EPERM,
                        "the SAS token lacks the %s permission needed to "
                        "%s '%s' (%s): ask for a SAS that grants it",
                        perm, what, who, *code ? code : "HTTP 403");
  return cairn__error(CAIRN_EPERM,
                      "the credential may not %s '%s' (%s): it needs the "
                      "%s permission", what, who, *code ? code : "HTTP 403",
                      perm);
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
  if (!*code && !*b->message) {
    const char *ep = cairn_azure_account_endpoint(c->account);
    const char *host = strstr(ep, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;

    if (!path || !path[1])
      /* an emulator reads the first path segment as the account */
      return cairn__error(CAIRN_EINVAL, "the service refused the request "
                          "for '%s' (HTTP 400, no reason given): if the "
                          "endpoint %s is an emulator such as Azurite, "
                          "give the account in its path, as in "
                          "http://127.0.0.1:10000/devstoreaccount1",
                          name && *name ? name : (container ? container
                                                            : ""), ep);
  }
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
    return auth_error(c, req, *b.code ? b.code : "HTTP 403", &b);
  if (st == 403)
    return permission_error(c, req, &b, who);
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
                        "the service failed on '%s' (HTTP %ld%s%s%s%s) "
                        "after %u attempts", who, st, *b.code ? " " : "",
                        b.code, *safe ? ": " : "", safe, req->attempts);
  return cairn__error(CAIRN_ERROR, "request for '%s' failed (HTTP %ld%s%s%s%s)",
                      who, st, *b.code ? " " : "", b.code,
                      *safe ? ": " : "", safe);
}

int cairn__azure_container_missing(const cairn_azure_client *c)
{
  return strcasecmp(c->last_code, "ContainerNotFound") == 0;
}

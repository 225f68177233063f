/*
 * Bearer tokens from Microsoft Entra ID, cached and refreshed before
 * they expire.  Tokens and secrets never reach a message or the log.
 */
#define _GNU_SOURCE
#include "azure/token.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "azure/auth.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "http/http.h"

extern char **environ;

/* Refresh this long before expiry (less for short-lived tokens). */
#define REFRESH_MARGIN_S 300
/* The largest answer read from a token endpoint or the Azure CLI. */
#define ANSWER_MAX (256 * 1024)
/* How long the Azure CLI may take. */
#define CLI_TIMEOUT_MS 30000
#define IMDS_URL "http://169.254.169.254/metadata/identity/oauth2/token"

struct cairn__azure_tokens {
  cairn__token_kind kind;
  char *authority;
  char *tenant_id;
  char *client_id;
  char *client_secret;
  char *certificate_path;
  char *certificate_password;
  char *federated_token_file;
  char *identity_endpoint;
  char *identity_header;

  pthread_mutex_t lock;
  char *token; /* cached, or NULL */
  int64_t expires_at;
  int64_t fetched_at;
  unsigned generation;
};

static const char *const method_names[] = {
  "service principal with a client secret",
  "service principal with a client certificate",
  "workload identity",
  "managed identity",
  "managed identity through the instance metadata service",
  "Azure CLI login",
  "access token"};

const char *cairn__azure_tokens_method(const cairn__azure_tokens *t)
{
  return method_names[t->kind];
}

static void wipe_free(char *s)
{
  if (s) {
    explicit_bzero(s, strlen(s));
    free(s);
  }
}

void cairn__azure_tokens_free(cairn__azure_tokens *t)
{
  if (!t)
    return;
  free(t->authority);
  free(t->tenant_id);
  free(t->client_id);
  wipe_free(t->client_secret);
  free(t->certificate_path);
  wipe_free(t->certificate_password);
  free(t->federated_token_file);
  free(t->identity_endpoint);
  wipe_free(t->identity_header);
  wipe_free(t->token);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

/* Copy @p s into *dst; 0, or CAIRN_ENOMEM. */
static int copy(char **dst, const char *s)
{
  *dst = NULL;
  if (!s)
    return 0;
  *dst = cairn__strdup(s);
  return *dst ? 0 : CAIRN_ENOMEM;
}

static int need(const char *value, const char *what)
{
  if (value && *value)
    return 0;
  return cairn__error(CAIRN_EINVAL, "a token source needs %s", what);
}

static int check_config(const cairn__token_config *c)
{
  int error = 0;

  switch (c->kind) {
  case CAIRN__TOKEN_CLIENT_SECRET:
    if (!(error = need(c->tenant_id, "the tenant id")) &&
        !(error = need(c->client_id, "the client id")))
      error = need(c->client_secret, "the client secret");
    break;
  case CAIRN__TOKEN_CLIENT_CERTIFICATE:
    if (!(error = need(c->tenant_id, "the tenant id")) &&
        !(error = need(c->client_id, "the client id")))
      error = need(c->certificate_path, "the certificate's path");
    break;
  case CAIRN__TOKEN_FEDERATED:
    if (!(error = need(c->tenant_id, "the tenant id")) &&
        !(error = need(c->client_id, "the client id")))
      error = need(c->federated_token_file, "the federated token file");
    break;
  case CAIRN__TOKEN_MANAGED_IDENTITY:
    if (!(error = need(c->identity_endpoint, "IDENTITY_ENDPOINT")))
      error = need(c->identity_header, "IDENTITY_HEADER");
    break;
  case CAIRN__TOKEN_STATIC:
    error = need(c->token, "the token");
    break;
  default:
    break;
  }
  return error;
}

/* The authority without a trailing '/'. */
static char *authority_of(const char *given)
{
  const char *a = given ? given : cairn_getenv("AZURE_AUTHORITY_HOST");
  size_t len;

  if (!a)
    a = CAIRN_AZURE_AUTHORITY;
  len = strlen(a);
  while (len && a[len - 1] == '/')
    len--;
  return cairn__strndup(a, len);
}

int cairn__azure_tokens_new(cairn__azure_tokens **out,
                            const cairn__token_config *c)
{
  cairn__azure_tokens *t;
  int error;

  *out = NULL;
  if ((error = check_config(c)) < 0)
    return error;
  if (!(t = cairn__calloc(1, sizeof(*t))))
    return CAIRN_ENOMEM;
  pthread_mutex_init(&t->lock, NULL);
  t->kind = c->kind;
  if (!(t->authority = authority_of(c->authority)) ||
      copy(&t->tenant_id, c->tenant_id) < 0 ||
      copy(&t->client_id, c->client_id) < 0 ||
      copy(&t->client_secret, c->client_secret) < 0 ||
      copy(&t->certificate_path, c->certificate_path) < 0 ||
      copy(&t->certificate_password, c->certificate_password) < 0 ||
      copy(&t->federated_token_file, c->federated_token_file) < 0 ||
      copy(&t->identity_endpoint, c->identity_endpoint) < 0 ||
      copy(&t->identity_header, c->identity_header) < 0 ||
      copy(&t->token, c->token) < 0) {
    cairn__azure_tokens_free(t);
    return cairn__error_oom();
  }
  if ((c->kind == CAIRN__TOKEN_CLIENT_SECRET ||
       c->kind == CAIRN__TOKEN_CLIENT_CERTIFICATE ||
       c->kind == CAIRN__TOKEN_FEDERATED) &&
      strncasecmp(t->authority, "https://", 8) != 0) {
    error = cairn__error(CAIRN_EINVAL, "the Entra ID authority '%s' is not "
                         "an https:// address, and client credentials "
                         "must not travel in clear: set "
                         "AZURE_AUTHORITY_HOST to https://...",
                         t->authority);
    cairn__azure_tokens_free(t);
    return error;
  }
  if (c->kind == CAIRN__TOKEN_STATIC) {
    t->expires_at = c->expires_at;
    t->fetched_at = cairn_time_now();
  }
  *out = t;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

char *cairn__azure_token_url(const char *authority, const char *tenant)
{
  return cairn__sprintf("%s/%s/oauth2/v2.0/token", authority, tenant);
}

/* An integer from a JSON number or a string of digits; -1 if neither. */
static int64_t json_seconds(const json_t *v)
{
  const char *s;
  char *end;
  long long n;

  if (json_is_integer(v))
    return (int64_t)json_integer_value(v);
  if (json_is_real(v))
    return (int64_t)json_real_value(v);
  if (!(s = json_string_value(v)) || !*s)
    return -1;
  errno = 0;
  n = strtoll(s, &end, 10);
  if (errno || *end)
    return -1;
  return (int64_t)n;
}

int cairn__azure_token_parse(const char *json, size_t len, int64_t now,
                             char **token, int64_t *expires_at)
{
  json_t *root = json_loadb(json, len, 0, NULL);
  const char *tok;
  int64_t in, on;
  int error = 0;

  *token = NULL;
  *expires_at = 0;
  tok = json_string_value(json_object_get(root, "access_token"));
  if (!tok)
    tok = json_string_value(json_object_get(root, "accessToken"));
  in = json_seconds(json_object_get(root, "expires_in"));
  on = json_seconds(json_object_get(root, "expires_on"));
  if (!tok || !*tok) {
    error = cairn__error(CAIRN_ERROR, "the answer holds no access_token");
  } else if (!(*token = cairn__strdup(tok))) {
    error = CAIRN_ENOMEM;
  } else {
    *expires_at = on > 0 ? on : in >= 0 ? now + in : 0;
  }
  json_decref(root);
  return error;
}

void cairn__azure_token_error_text(char *out, size_t outlen,
                                   const char *json, size_t len)
{
  json_t *root = json_loadb(json, len, 0, NULL);
  const char *err, *desc;
  json_t *inner;

  out[0] = '\0';
  /* Entra: {"error": "...", "error_description": "..."}; managed
     identity endpoints: {"error": {"code": ..., "message": ...}} too */
  inner = json_object_get(root, "error");
  if (json_is_object(inner)) {
    err = json_string_value(json_object_get(inner, "code"));
    desc = json_string_value(json_object_get(inner, "message"));
  } else {
    err = json_string_value(inner);
    desc = json_string_value(json_object_get(root, "error_description"));
  }
  if (err && desc)
    snprintf(out, outlen, "%s: %.*s", err, (int)strcspn(desc, "\r\n"),
             desc);
  else if (err || desc)
    snprintf(out, outlen, "%.*s", (int)strcspn(err ? err : desc, "\r\n"),
             err ? err : desc);
  json_decref(root);
}

/* ------------------------------------------------------------------ */
/* Fetching over HTTP                                                  */
/* ------------------------------------------------------------------ */

/* The URL with its query cut off, for messages. */
static void url_text(char *out, size_t outlen, const char *url)
{
  snprintf(out, outlen, "%.*s", (int)strcspn(url, "?"), url);
}

/*
 * Send one request for a token and read the answer.  @p who names the
 * credential in messages ("service principal 'ID'").
 */
static int http_token(cairn__azure_tokens *t, const char *method,
                      const char *url, const char *body,
                      const char *header_name, const char *header_value,
                      long connect_timeout_s, const char *who, char **token,
                      int64_t *expires_at)
{
  cairn_http_options opts = {1, connect_timeout_s, 30, 3};
  cairn_http_client *http = NULL;
  cairn_http_request req;
  char where[256], why[512];
  int error;

  (void)t;
  url_text(where, sizeof(where), url);
  cairn_http_request_init(&req);
  if ((error = cairn_http_client_new(&http, &opts)) < 0 ||
      (error = cairn_http_request_setup(&req, method, url)) < 0)
    goto done;
  req.idempotent = 1;
  req.sink.kind = CAIRN_HTTP_SINK_BUF;
  if (body) {
    req.body.kind = CAIRN_HTTP_BODY_MEM;
    req.body.data = body;
    req.body.len = strlen(body);
    error = cairn_http_headers_set(&req.headers, "Content-Type",
                                   "application/x-www-form-urlencoded");
  }
  if (!error && header_name)
    error = cairn_http_headers_set(&req.headers, header_name, header_value);
  if (!error)
    error = cairn_http_headers_set(&req.headers, "Accept",
                                   "application/json");
  if (error < 0)
    goto done;

  if (cairn_http_send(http, &req) < 0) {
    error = cairn__error(CAIRN_ENET, "cannot reach the token endpoint %s "
                         "for %s (%s): check the address and the network",
                         where, who, req.error);
    goto done;
  }
  if (req.status != 200) {
    cairn__azure_token_error_text(why, sizeof(why), req.response.ptr,
                                  req.response.size);
    error = cairn__error(CAIRN_EAUTH, "the token endpoint %s refused %s "
                         "(HTTP %ld%s%s): check the credential's ids, "
                         "secret and tenant", where, who, req.status,
                         *why ? ", " : "", why);
    goto done;
  }
  if (cairn__azure_token_parse(req.response.ptr, req.response.size,
                               cairn_time_now(), token, expires_at) < 0)
    error = cairn__error(CAIRN_EAUTH, "the token endpoint %s sent no "
                         "usable token for %s", where, who);
done:
  if (req.body.data)
    explicit_bzero((void *)req.body.data, req.body.len);
  cairn_http_request_dispose(&req);
  cairn_http_client_free(http);
  return error;
}

/* Append "&name=value" (value encoded; no '&' first). */
static int form_add(cairn_buf *b, const char *name, const char *value)
{
  char *enc = cairn__azure_encode_query(value);
  int error;

  if (!enc)
    return CAIRN_ENOMEM;
  error = cairn_buf_printf(b, "%s%s=%s", b->size ? "&" : "", name, enc);
  explicit_bzero(enc, strlen(enc));
  free(enc);
  return error;
}

/* The federated token file's text, trimmed (free()). */
static int read_assertion_file(char **out, const char *path)
{
  cairn_buf b = CAIRN_BUF_INIT;
  size_t len;
  int error;

  *out = NULL;
  if ((error = cairn_file_read(&b, path, ANSWER_MAX)) < 0)
    return cairn__error_prefix("reading the federated token file");
  len = b.size;
  while (len && (b.ptr[len - 1] == '\n' || b.ptr[len - 1] == '\r' ||
                 b.ptr[len - 1] == ' '))
    len--;
  if (!len) {
    cairn_buf_dispose(&b);
    return cairn__error(CAIRN_EAUTH, "the federated token file %s is "
                        "empty", path);
  }
  *out = cairn__strndup(b.ptr, len);
  explicit_bzero(b.ptr, b.size);
  cairn_buf_dispose(&b);
  return *out ? 0 : CAIRN_ENOMEM;
}

/* Client credentials: a secret, a certificate or a federated token. */
static int fetch_client(cairn__azure_tokens *t, char **token,
                        int64_t *expires_at)
{
  cairn_buf form = CAIRN_BUF_INIT;
  char *url, *assertion = NULL, who[160];
  int error;

  snprintf(who, sizeof(who), "client '%s' of tenant '%s'", t->client_id,
           t->tenant_id);
  if (!(url = cairn__azure_token_url(t->authority, t->tenant_id)))
    return CAIRN_ENOMEM;
  if (t->kind == CAIRN__TOKEN_CLIENT_CERTIFICATE)
    error = cairn__azure_client_assertion(&assertion, t->certificate_path,
                                          t->certificate_password,
                                          t->client_id, url,
                                          cairn_time_now());
  else if (t->kind == CAIRN__TOKEN_FEDERATED)
    error = read_assertion_file(&assertion, t->federated_token_file);
  else
    error = 0;
  if (!error)
    error = form_add(&form, "grant_type", "client_credentials");
  if (!error)
    error = form_add(&form, "client_id", t->client_id);
  if (!error)
    error = form_add(&form, "scope", CAIRN_AZURE_TOKEN_SCOPE);
  if (!error && assertion) {
    error = form_add(&form, "client_assertion_type",
                     "urn:ietf:params:oauth:client-assertion-type:"
                     "jwt-bearer");
    if (!error)
      error = form_add(&form, "client_assertion", assertion);
  } else if (!error) {
    error = form_add(&form, "client_secret", t->client_secret);
  }
  if (!error)
    error = http_token(t, "POST", url, cairn_buf_cstr(&form), NULL, NULL,
                       10, who, token, expires_at);
  wipe_free(assertion);
  if (form.ptr)
    explicit_bzero(form.ptr, form.size);
  cairn_buf_dispose(&form);
  free(url);
  return error;
}

/* A managed identity, through IDENTITY_ENDPOINT or the IMDS. */
static int fetch_identity(cairn__azure_tokens *t, char **token,
                          int64_t *expires_at)
{
  int imds = t->kind == CAIRN__TOKEN_IMDS;
  char *resource = cairn__azure_encode_query(CAIRN_AZURE_TOKEN_RESOURCE);
  char *id = t->client_id ? cairn__azure_encode_query(t->client_id) : NULL;
  char *url;
  int error;

  if (!resource || (t->client_id && !id)) {
    free(resource);
    free(id);
    return CAIRN_ENOMEM;
  }
  url = cairn__sprintf("%s%sapi-version=%s&resource=%s%s%s",
                       imds ? IMDS_URL : t->identity_endpoint,
                       strchr(imds ? IMDS_URL : t->identity_endpoint, '?')
                           ? "&" : "?",
                       imds ? "2018-02-01" : "2019-08-01", resource,
                       id ? "&client_id=" : "", id ? id : "");
  free(resource);
  free(id);
  if (!url)
    return CAIRN_ENOMEM;
  if (imds)
    error = http_token(t, "GET", url, NULL, "Metadata", "true", 2,
                       "the managed identity", token, expires_at);
  else
    error = http_token(t, "GET", url, NULL, "X-IDENTITY-HEADER",
                       t->identity_header, 10, "the managed identity",
                       token, expires_at);
  free(url);
  return error;
}

/* ------------------------------------------------------------------ */
/* The Azure CLI                                                       */
/* ------------------------------------------------------------------ */

/* Read both pipes of a child until it closes them or time runs out. */
static int read_child(int out_fd, int err_fd, cairn_buf *out,
                      cairn_buf *err)
{
  struct pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int64_t deadline = cairn_time_monotonic_ms() + CLI_TIMEOUT_MS;
  char chunk[4096];
  int open = 2, i, left;
  ssize_t n;

  while (open > 0) {
    left = (int)(deadline - cairn_time_monotonic_ms());
    if (left <= 0)
      return CAIRN_ETIMEOUT;
    if (poll(p, 2, left) < 0) {
      if (errno == EINTR)
        continue;
      return CAIRN_EIO;
    }
    for (i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      n = read(p[i].fd, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        p[i].fd = -1;
        open--;
        continue;
      }
      if ((i ? err : out)->size + (size_t)n > ANSWER_MAX)
        return CAIRN_EIO;
      if (cairn_buf_put(i ? err : out, chunk, (size_t)n) < 0)
        return CAIRN_ENOMEM;
    }
  }
  return 0;
}

/* The last non-empty line of @p text, for messages. */
static void last_line(char *out, size_t outlen, const cairn_buf *text)
{
  const char *s = cairn_buf_cstr(text), *end = s + text->size, *start;

  while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
    end--;
  start = end;
  while (start > s && start[-1] != '\n')
    start--;
  snprintf(out, outlen, "%.*s", (int)(end - start), start);
}

/* "2026-12-04 09:00:00.000000", local time, as the CLI's expiresOn. */
static int64_t cli_local_time(const char *text)
{
  struct tm tm;

  memset(&tm, 0, sizeof(tm));
  if (!text || !strptime(text, "%Y-%m-%d %H:%M:%S", &tm))
    return 0;
  tm.tm_isdst = -1;
  return (int64_t)mktime(&tm);
}

static int fetch_cli(cairn__azure_tokens *t, char **token,
                     int64_t *expires_at)
{
  char *argv[] = {"az", "account", "get-access-token", "--resource",
                  CAIRN_AZURE_TOKEN_RESOURCE, "--output", "json", NULL};
  posix_spawn_file_actions_t fa;
  cairn_buf out = CAIRN_BUF_INIT, err = CAIRN_BUF_INIT;
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, status = 0, error;
  char why[256];
  json_t *root;
  pid_t pid;

  (void)t;
  if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
    error = cairn__error_errno("starting", "az");
    goto done;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  error = posix_spawnp(&pid, "az", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_pipe[1] = err_pipe[1] = -1;
  if (error) {
    error = cairn__error(CAIRN_EAUTH, "cannot run the Azure CLI 'az' (%s)",
                         strerror(error));
    goto done;
  }
  error = read_child(out_pipe[0], err_pipe[0], &out, &err);
  if (error < 0)
    kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (error == CAIRN_ETIMEOUT) {
    error = cairn__error(CAIRN_ETIMEOUT, "the Azure CLI did not answer "
                         "'az account get-access-token' within %d s",
                         CLI_TIMEOUT_MS / 1000);
    goto done;
  }
  if (error < 0) {
    error = cairn__error(error, "reading the answer of the Azure CLI");
    goto done;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    last_line(why, sizeof(why), &err);
    error = cairn__error(CAIRN_EAUTH, "the Azure CLI gave no token (%s): "
                         "run 'az login', or use another credential",
                         *why ? why : "it failed");
    goto done;
  }
  error = cairn__azure_token_parse(out.ptr, out.size, cairn_time_now(),
                                   token, expires_at);
  if (error < 0) {
    error = cairn__error(CAIRN_EAUTH, "the Azure CLI's answer to 'az "
                         "account get-access-token' holds no accessToken");
    goto done;
  }
  if (!*expires_at) {
    root = json_loadb(out.ptr, out.size, 0, NULL);
    *expires_at = cli_local_time(
        json_string_value(json_object_get(root, "expiresOn")));
    json_decref(root);
  }
done:
  if (out.ptr)
    explicit_bzero(out.ptr, out.size);
  cairn_buf_dispose(&out);
  cairn_buf_dispose(&err);
  if (out_pipe[0] >= 0)
    close(out_pipe[0]);
  if (err_pipe[0] >= 0)
    close(err_pipe[0]);
  return error;
}

/* ------------------------------------------------------------------ */
/* The cache                                                           */
/* ------------------------------------------------------------------ */

static int fetch(cairn__azure_tokens *t, char **token, int64_t *expires_at)
{
  switch (t->kind) {
  case CAIRN__TOKEN_CLIENT_SECRET:
  case CAIRN__TOKEN_CLIENT_CERTIFICATE:
  case CAIRN__TOKEN_FEDERATED:
    return fetch_client(t, token, expires_at);
  case CAIRN__TOKEN_MANAGED_IDENTITY:
  case CAIRN__TOKEN_IMDS:
    return fetch_identity(t, token, expires_at);
  case CAIRN__TOKEN_AZURE_CLI:
    return fetch_cli(t, token, expires_at);
  default:
    return cairn__error(CAIRN_EAUTH, "the access token has expired: "
                        "give a new one");
  }
}

/* 1 when the cached token must be replaced before use. */
static int stale(const cairn__azure_tokens *t, int64_t now)
{
  int64_t margin = REFRESH_MARGIN_S;

  if (!t->token)
    return 1;
  if (!t->expires_at)
    return 0;
  if (t->expires_at - t->fetched_at < 2 * margin)
    margin = (t->expires_at - t->fetched_at) / 2;
  return now >= t->expires_at - margin;
}

int cairn__azure_tokens_get(cairn__azure_tokens *t, char **token,
                            int64_t *expires_at, unsigned *generation)
{
  int64_t now = cairn_time_now(), exp = 0;
  char *fresh = NULL;
  int error = 0;

  *token = NULL;
  pthread_mutex_lock(&t->lock);
  if (t->kind == CAIRN__TOKEN_STATIC && t->expires_at &&
      now >= t->expires_at) {
    char when[32];

    cairn_time_iso8601(when, sizeof(when), t->expires_at);
    error = cairn__error(CAIRN_EAUTH, "the access token expired at %s: "
                         "give a new one", when);
  } else if (t->kind != CAIRN__TOKEN_STATIC && stale(t, now)) {
    log_debug("azure", "fetching a token: %s", method_names[t->kind]);
    if ((error = fetch(t, &fresh, &exp)) == 0) {
      wipe_free(t->token);
      t->token = fresh;
      t->expires_at = exp;
      t->fetched_at = now;
      t->generation++;
      log_debug("azure", "token valid for %lld s",
                (long long)(exp ? exp - now : -1));
    }
  }
  if (!error && !t->token)
    error = cairn__error(CAIRN_EAUTH, "no token");
  if (!error && !(*token = cairn__strdup(t->token)))
    error = CAIRN_ENOMEM;
  if (!error) {
    if (expires_at)
      *expires_at = t->expires_at;
    if (generation)
      *generation = t->generation;
  }
  pthread_mutex_unlock(&t->lock);
  return error;
}

int cairn__azure_tokens_invalidate(cairn__azure_tokens *t,
                                   unsigned generation)
{
  int renewable = t->kind != CAIRN__TOKEN_STATIC;

  pthread_mutex_lock(&t->lock);
  if (renewable && t->generation == generation && t->token) {
    log_debug("azure", "the token was refused: fetching another");
    wipe_free(t->token);
    t->token = NULL;
  }
  pthread_mutex_unlock(&t->lock);
  return renewable;
}

/* ------------------------------------------------------------------ */
/* The environment's chain                                             */
/* ------------------------------------------------------------------ */

/* 1 when an executable @p name is on the PATH. */
static int on_path(const char *name)
{
  const char *path = cairn_getenv("PATH"), *p, *end;
  char full[4096];

  for (p = path; p && *p; p = *end ? end + 1 : end) {
    end = p + strcspn(p, ":");
    if (end == p)
      continue;
    snprintf(full, sizeof(full), "%.*s/%s", (int)(end - p), p, name);
    if (access(full, X_OK) == 0)
      return 1;
  }
  return 0;
}

/* A service principal by secret from three variables, or not set. */
static int env_secret(cairn__token_config *c, const char *id_var,
                      const char *secret_var, const char *tenant_var,
                      int *found)
{
  const char *id = cairn_getenv(id_var);
  const char *secret = cairn_getenv(secret_var);
  const char *tenant = cairn_getenv(tenant_var);

  *found = 0;
  if (!secret)
    return 0;
  if (!id || !tenant)
    return cairn__error(CAIRN_EINVAL, "%s is set but %s is not: a service "
                        "principal needs %s, %s and %s", secret_var,
                        !id ? id_var : tenant_var, id_var, secret_var,
                        tenant_var);
  c->kind = CAIRN__TOKEN_CLIENT_SECRET;
  c->client_id = id;
  c->client_secret = secret;
  c->tenant_id = tenant;
  *found = 1;
  return 0;
}

/* A credential that names its file and needs the client and tenant. */
static int env_with_file(cairn__token_config *c, cairn__token_kind kind,
                         const char *file_var, int *found)
{
  const char *file = cairn_getenv(file_var);
  const char *id = cairn_getenv("AZURE_CLIENT_ID");
  const char *tenant = cairn_getenv("AZURE_TENANT_ID");

  *found = 0;
  if (!file)
    return 0;
  if (!id || !tenant)
    return cairn__error(CAIRN_EINVAL, "%s is set but %s is not: set "
                        "AZURE_CLIENT_ID and AZURE_TENANT_ID too",
                        file_var, !id ? "AZURE_CLIENT_ID" :
                        "AZURE_TENANT_ID");
  c->kind = kind;
  c->client_id = id;
  c->tenant_id = tenant;
  if (kind == CAIRN__TOKEN_CLIENT_CERTIFICATE) {
    c->certificate_path = file;
    c->certificate_password =
        cairn_getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD");
  } else {
    c->federated_token_file = file;
  }
  *found = 1;
  return 0;
}

int cairn__azure_tokens_from_env(cairn__azure_tokens **out, char **where)
{
  cairn__token_config c;
  const char *label = NULL;
  int found = 0, error;

  *out = NULL;
  *where = NULL;
  memset(&c, 0, sizeof(c));
  if ((error = env_secret(&c, "AZURE_STORAGE_CLIENT_ID",
                          "AZURE_STORAGE_CLIENT_SECRET",
                          "AZURE_STORAGE_TENANT_ID", &found)) < 0)
    return error;
  if (found)
    label = "AZURE_STORAGE_CLIENT_ID + AZURE_STORAGE_CLIENT_SECRET + "
            "AZURE_STORAGE_TENANT_ID";
  if (!found && (error = env_secret(&c, "AZURE_CLIENT_ID",
                                    "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
                                    &found)) < 0)
    return error;
  if (found && !label)
    label = "AZURE_CLIENT_ID + AZURE_CLIENT_SECRET + AZURE_TENANT_ID";
  if (!found && (error = env_with_file(&c, CAIRN__TOKEN_CLIENT_CERTIFICATE,
                                       "AZURE_CLIENT_CERTIFICATE_PATH",
                                       &found)) < 0)
    return error;
  if (found && !label)
    label = "AZURE_CLIENT_CERTIFICATE_PATH + AZURE_CLIENT_ID + "
            "AZURE_TENANT_ID";
  if (!found && (error = env_with_file(&c, CAIRN__TOKEN_FEDERATED,
                                       "AZURE_FEDERATED_TOKEN_FILE",
                                       &found)) < 0)
    return error;
  if (found && !label)
    label = "AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID + "
            "AZURE_TENANT_ID";
  if (!found && cairn_getenv("IDENTITY_ENDPOINT") &&
      cairn_getenv("IDENTITY_HEADER")) {
    c.kind = CAIRN__TOKEN_MANAGED_IDENTITY;
    c.identity_endpoint = cairn_getenv("IDENTITY_ENDPOINT");
    c.identity_header = cairn_getenv("IDENTITY_HEADER");
    c.client_id = cairn_getenv("AZURE_CLIENT_ID");
    label = "IDENTITY_ENDPOINT + IDENTITY_HEADER";
    found = 1;
  }
  if (!found && cairn_getenv("AZURE_USE_IMDS") &&
      strcmp(cairn_getenv("AZURE_USE_IMDS"), "1") == 0) {
    c.kind = CAIRN__TOKEN_IMDS;
    c.client_id = cairn_getenv("AZURE_CLIENT_ID");
    label = "AZURE_USE_IMDS=1";
    found = 1;
  }
  if (!found && on_path("az")) {
    c.kind = CAIRN__TOKEN_AZURE_CLI;
    label = "the Azure CLI ('az' on the PATH)";
    found = 1;
  }
  if (!found)
    return cairn__error(CAIRN_EAUTH, "no source of Azure tokens in the "
                        "environment: set AZURE_STORAGE_CLIENT_ID, "
                        "AZURE_STORAGE_CLIENT_SECRET and "
                        "AZURE_STORAGE_TENANT_ID (or AZURE_CLIENT_ID, "
                        "AZURE_CLIENT_SECRET and AZURE_TENANT_ID), "
                        "AZURE_CLIENT_CERTIFICATE_PATH, "
                        "AZURE_FEDERATED_TOKEN_FILE, IDENTITY_ENDPOINT "
                        "with IDENTITY_HEADER, AZURE_USE_IMDS=1, or log in "
                        "with 'az login'");
  log_info("azure", "tokens from %s: %s", label, method_names[c.kind]);
  if ((error = cairn__azure_tokens_new(out, &c)) < 0)
    return error;
  if (!(*where = cairn__strdup(label))) {
    cairn__azure_tokens_free(*out);
    *out = NULL;
    return CAIRN_ENOMEM;
  }
  return 0;
}

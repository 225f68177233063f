/*
 * The HTTP engine over libcurl's multi interface.
 *
 * One CURLM per client keeps the connection cache, so connections are
 * kept alive across requests.  Easy handles are pooled and reused.  A
 * run hands requests to curl as slots free up, and a request waiting for
 * its retry sits in a timed queue, never blocking the others.
 */
#include "http/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

#define ERROR_BODY_MAX (64 * 1024) /* kept of a non-2xx answer's body */
#define IO_BUFFER_SIZE (256 * 1024)

/* The proxy variables, read once when a client is made. */
static const char *const proxy_vars[] = {
  "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
  "ALL_PROXY",   "no_proxy",    "NO_PROXY",   "REQUEST_METHOD"};
#define PROXY_VARS (sizeof(proxy_vars) / sizeof(proxy_vars[0]))

struct cairn_http_client {
  CURLM *multi;
  CURL **pool; /* idle easy handles */
  size_t npool;
  unsigned max;
  cairn_http_options opts;
  cairn_http_retry_policy policy;
  char *ca_bundle;
  uint32_t rng;
  char *env[PROXY_VARS]; /* values of proxy_vars, NULL when unset */
  /* Adaptive concurrency: see cairn_http_client_limit(). */
  unsigned limit;  /* transfers allowed at once now */
  unsigned epoch;  /* bumped at every decrease */
  unsigned streak; /* answers since the last change, none throttled */
};

/* ------------------------------------------------------------------ */
/* Headers                                                             */
/* ------------------------------------------------------------------ */

int cairn_http_headers_add(cairn_http_headers *h, const char *name,
                           const char *value)
{
  cairn_http_header *items;
  char *n, *v;

  if (h->count == h->alloc) {
    size_t alloc = h->alloc ? h->alloc * 2 : 16;
    items = realloc(h->items, alloc * sizeof(*items));
    if (!items)
      return cairn__error_oom();
    h->items = items;
    h->alloc = alloc;
  }
  n = cairn__strdup(name);
  v = cairn__strdup(value ? value : "");
  if (!n || !v) {
    free(n);
    free(v);
    return CAIRN_ENOMEM;
  }
  h->items[h->count].name = n;
  h->items[h->count].value = v;
  h->count++;
  return 0;
}

int cairn_http_headers_set(cairn_http_headers *h, const char *name,
                           const char *value)
{
  size_t i;
  char *v;

  for (i = 0; i < h->count; i++) {
    if (strcasecmp(h->items[i].name, name) != 0)
      continue;
    if (!(v = cairn__strdup(value ? value : "")))
      return CAIRN_ENOMEM;
    free(h->items[i].value);
    h->items[i].value = v;
    return 0;
  }
  return cairn_http_headers_add(h, name, value);
}

const char *cairn_http_headers_get(const cairn_http_headers *h,
                                   const char *name)
{
  size_t i;

  for (i = 0; i < h->count; i++)
    if (strcasecmp(h->items[i].name, name) == 0)
      return h->items[i].value;
  return NULL;
}

void cairn_http_headers_clear(cairn_http_headers *h)
{
  size_t i;

  for (i = 0; i < h->count; i++) {
    free(h->items[i].name);
    free(h->items[i].value);
  }
  h->count = 0;
}

void cairn_http_headers_dispose(cairn_http_headers *h)
{
  cairn_http_headers_clear(h);
  free(h->items);
  h->items = NULL;
  h->alloc = 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

void cairn_http_request_init(cairn_http_request *req)
{
  memset(req, 0, sizeof(*req));
  req->body.fd = -1;
  req->sink.fd = -1;
}

int cairn_http_request_setup(cairn_http_request *req, const char *method,
                             const char *url)
{
  char *copy;

  if (strlen(method) >= sizeof(req->method))
    return cairn__error(CAIRN_EINVAL, "HTTP method '%s' too long", method);
  if (!(copy = cairn__strdup(url)))
    return CAIRN_ENOMEM;
  free(req->url);
  req->url = copy;
  snprintf(req->method, sizeof(req->method), "%s", method);
  cairn_http_headers_clear(&req->headers);
  memset(&req->body, 0, sizeof(req->body));
  memset(&req->sink, 0, sizeof(req->sink));
  req->body.fd = -1;
  req->sink.fd = -1;
  req->result = 0;
  req->status = 0;
  req->received = 0;
  req->sink_errno = 0;
  req->unsent = 0;
  req->attempts = 0;
  req->sends = 0;
  req->priv.reauthed = 0;
  req->priv.throttled = 0;
  req->error[0] = '\0';
  cairn_http_headers_clear(&req->response_headers);
  cairn_buf_clear(&req->response);
  return 0;
}

void cairn_http_request_dispose(cairn_http_request *req)
{
  if (!req)
    return;
  free(req->url);
  req->url = NULL;
  free(req->priv.stage);
  req->priv.stage = NULL;
  cairn_http_headers_dispose(&req->headers);
  cairn_http_headers_dispose(&req->response_headers);
  cairn_buf_dispose(&req->response);
  if (req->priv.slist)
    curl_slist_free_all(req->priv.slist);
  req->priv.slist = NULL;
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */
/* ------------------------------------------------------------------ */

/* The environment as it was when the client was made. */
static const char *client_env(const char *name, void *data)
{
  cairn_http_client *c = data;
  size_t i;

  for (i = 0; i < PROXY_VARS; i++)
    if (strcmp(proxy_vars[i], name) == 0)
      return c->env[i];
  return NULL;
}

/* Read the proxy variables and check that they can be used. */
static int read_proxy_env(cairn_http_client *c)
{
  static const char *const probes[] = {"https://cairn.invalid/",
                                       "http://cairn.invalid/"};
  char shown[256];
  const char *v, *which;
  char *proxy;
  size_t i;
  int error;

  for (i = 0; i < PROXY_VARS; i++)
    if ((v = cairn_getenv(proxy_vars[i])) &&
        !(c->env[i] = cairn__strdup(v)))
      return CAIRN_ENOMEM;
  for (i = 0; i < 2; i++) {
    if ((error = cairn_http_proxy_for(&proxy, &which, probes[i],
                                      client_env, c)) < 0)
      return error;
    if (proxy && cairn__log_enabled(CAIRN_LOG_DEBUG)) {
      cairn_http_proxy_redact(shown, sizeof(shown), proxy);
      log_debug("http", "%s URLs go through proxy %s (from %s)",
                i ? "http" : "https", shown, which);
    }
    free(proxy);
  }
  return 0;
}

int cairn_http_client_new(cairn_http_client **out,
                          const cairn_http_options *options)
{
  cairn_http_client *c;
  cairn_http_retry_policy policy = CAIRN_HTTP_RETRY_DEFAULT;
  const char *ca;

  *out = NULL;
  if (!(c = cairn__calloc(1, sizeof(*c))))
    return CAIRN_ENOMEM;
  if (options)
    c->opts = *options;
  if (!c->opts.max_concurrency)
    c->opts.max_concurrency = 16;
  if (!c->opts.connect_timeout_s)
    c->opts.connect_timeout_s = 30;
  if (!c->opts.low_speed_time_s)
    c->opts.low_speed_time_s = 60;
  if (c->opts.max_attempts) {
    policy.max_attempts = c->opts.max_attempts;
    policy.throttle_attempts = c->opts.max_attempts;
  }
  c->policy = policy;
  c->max = c->opts.max_concurrency;
  c->limit = c->max;
  c->rng = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9u;

  ca = cairn_getenv("CURL_CA_BUNDLE");
  if (!ca)
    ca = cairn_getenv("SSL_CERT_FILE");
  if (ca && !(c->ca_bundle = cairn__strdup(ca)))
    goto oom;
  if (read_proxy_env(c) < 0) {
    cairn_http_client_free(c);
    return cairn__error_code();
  }
  if (!(c->pool = cairn__calloc(c->max, sizeof(*c->pool))))
    goto oom;
  if (!(c->multi = curl_multi_init()))
    goto oom;
  curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->max);
  *out = c;
  return 0;

oom:
  cairn_http_client_free(c);
  return cairn__error_oom();
}

void cairn_http_client_free(cairn_http_client *c)
{
  size_t i;

  if (!c)
    return;
  for (i = 0; i < c->npool; i++)
    curl_easy_cleanup(c->pool[i]);
  if (c->multi)
    curl_multi_cleanup(c->multi);
  for (i = 0; i < PROXY_VARS; i++)
    free(c->env[i]);
  free(c->pool);
  free(c->ca_bundle);
  free(c);
}

unsigned cairn_http_client_concurrency(const cairn_http_client *c)
{
  return c->max;
}

unsigned cairn_http_client_limit(const cairn_http_client *c)
{
  return c->limit;
}

/* A throttled answer (503, 429): halve the limit once per round. */
static void throttled(cairn_http_client *c, cairn_http_request *req)
{
  c->streak = 0;
  if (req->priv.epoch != c->epoch || c->limit <= 1)
    return;
  c->limit = c->limit / 2 ? c->limit / 2 : 1;
  c->epoch++;
  log_debug("http", "the service is busy (HTTP %ld): %u transfers at "
            "once from now on", req->status, c->limit);
}

/* An answer that was not throttled: after a full round, one more. */
static void unthrottled(cairn_http_client *c)
{
  if (c->limit >= c->max)
    return;
  if (++c->streak >= c->limit) {
    c->limit++;
    c->streak = 0;
  }
}

static uint32_t next_random(cairn_http_client *c)
{
  /* xorshift32: jitter only, no security needed */
  uint32_t x = c->rng;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  c->rng = x;
  return x;
}

/* ------------------------------------------------------------------ */
/* libcurl callbacks                                                   */
/* ------------------------------------------------------------------ */

static size_t on_read(char *out, size_t size, size_t n, void *p)
{
  cairn_http_request *req = p;
  uint64_t left = req->body.len - req->priv.sent;
  size_t want = size * n;
  ssize_t got;

  if (want > left)
    want = (size_t)left;
  if (!want)
    return 0;
  if (req->body.kind == CAIRN_HTTP_BODY_MEM) {
    memcpy(out, (const char *)req->body.data + req->priv.sent, want);
    req->priv.sent += want;
    return want;
  }
  do {
    got = pread(req->body.fd, out, want,
                (off_t)(req->body.offset + req->priv.sent));
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {
    snprintf(req->error, sizeof(req->error), "cannot read the body: %s",
             got < 0 ? strerror(errno) : "file shorter than expected");
    return CURL_READFUNC_ABORT;
  }
  req->priv.sent += (uint64_t)got;
  return (size_t)got;
}

static int on_seek(void *p, curl_off_t offset, int origin)
{
  cairn_http_request *req = p;

  if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > req->body.len)
    return CURL_SEEKFUNC_CANTSEEK;
  req->priv.sent = (uint64_t)offset;
  return CURL_SEEKFUNC_OK;
}

static size_t on_header(char *data, size_t size, size_t n, void *p)
{
  cairn_http_request *req = p;
  size_t len = size * n, nlen;
  char name[128];
  char *colon, *value, *end;
  char line[8192];

  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    const char *sp = memchr(data, ' ', len);
    cairn_http_headers_clear(&req->response_headers);
    req->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    return len;
  }
  if (len >= sizeof(line))
    return len; /* an oversized header is of no interest */
  memcpy(line, data, len);
  line[len] = '\0';
  if (!(colon = strchr(line, ':')))
    return len;
  nlen = (size_t)(colon - line);
  if (nlen == 0 || nlen >= sizeof(name))
    return len;
  memcpy(name, line, nlen);
  name[nlen] = '\0';
  value = colon + 1;
  while (*value == ' ' || *value == '\t')
    value++;
  end = value + strlen(value);
  while (end > value && (end[-1] == '\r' || end[-1] == '\n' ||
                         end[-1] == ' ' || end[-1] == '\t'))
    *--end = '\0';
  if (cairn_http_headers_add(&req->response_headers, name, value) < 0)
    return 0;
  return len;
}

static int write_at(cairn_http_request *req, const char *data, size_t len,
                    uint64_t offset)
{
  size_t done = 0;
  ssize_t w;

  while (done < len) {
    w = pwrite(req->sink.fd, data + done, len - done,
               (off_t)(offset + done));
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      req->sink_errno = w < 0 ? errno : ENOSPC;
      return -1;
    }
    done += (size_t)w;
  }
  return 0;
}

/* Write what the stage holds: the last bytes of the body received. */
static int flush_stage(cairn_http_request *req)
{
  size_t n = req->priv.staged;

  req->priv.staged = 0;
  if (!n)
    return 0;
  return write_at(req, req->priv.stage, n,
                  req->sink.offset + req->received - n);
}

/*
 * libcurl hands the body over in pieces of 16 KiB; the kernel takes a
 * quarter of a MiB in one write for about half the system time of
 * sixteen small ones, so pieces are gathered first.
 */
static size_t write_fd(cairn_http_request *req, const char *data, size_t len)
{
  size_t room;

  if (!req->priv.stage && !(req->priv.stage = malloc(IO_BUFFER_SIZE)))
    return write_at(req, data, len, req->sink.offset + req->received) < 0
               ? 0 : len;
  room = IO_BUFFER_SIZE - req->priv.staged;
  if (len > room) {
    if (flush_stage(req) < 0)
      return 0;
    if (len >= IO_BUFFER_SIZE)
      return write_at(req, data, len, req->sink.offset + req->received) < 0
                 ? 0 : len;
  }
  memcpy(req->priv.stage + req->priv.staged, data, len);
  req->priv.staged += len;
  return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *p)
{
  cairn_http_request *req = p;
  size_t len = size * n;

  if (req->status < 200 || req->status > 299) {
    if (req->response.size < ERROR_BODY_MAX &&
        cairn_buf_put(&req->response, data, len) < 0)
      return 0;
    return len;
  }
  switch (req->sink.kind) {
  case CAIRN_HTTP_SINK_BUF:
    if (cairn_buf_put(&req->response, data, len) < 0)
      return 0;
    break;
  case CAIRN_HTTP_SINK_MEM:
    if (req->received + len > req->sink.cap) {
      snprintf(req->error, sizeof(req->error),
               "the answer is longer than the %zu bytes expected",
               req->sink.cap);
      return 0;
    }
    memcpy((char *)req->sink.data + req->received, data, len);
    break;
  case CAIRN_HTTP_SINK_FD:
    if (write_fd(req, data, len) != len)
      return 0;
    break;
  default:
    break;
  }
  req->received += len;
  return len;
}

/* ------------------------------------------------------------------ */
/* The run loop                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
  cairn_http_client *c;
  cairn_http_producer next;
  void *payload;
  cairn_http_request *active;  /* in curl */
  cairn_http_request *waiting; /* for a retry */
  unsigned nactive;
  unsigned nwaiting;
  int idle; /* the producer had nothing; ask again after a completion */
  int later; /* the producer will have more after cairn_http_wakeup() */
  int error;
} run_state;

static void list_remove(cairn_http_request **head, cairn_http_request *req)
{
  cairn_http_request **p;

  for (p = head; *p; p = &(*p)->priv.next) {
    if (*p == req) {
      *p = req->priv.next;
      req->priv.next = NULL;
      return;
    }
  }
}

/* The URL without its query, which may hold a SAS. */
static void url_for_message(char *out, size_t outlen, const char *url)
{
  size_t n = strcspn(url ? url : "", "?");

  if (n >= outlen)
    n = outlen - 1;
  memcpy(out, url ? url : "", n);
  out[n] = '\0';
}

static void finish(run_state *rs, cairn_http_request *req)
{
  int error;

  if (cairn__log_enabled(CAIRN_LOG_TRACE)) {
    if (req->result < 0)
      log_trace("http", "%s %s failed: %s", req->method, req->url,
                req->error);
    else
      log_trace("http", "%s %s -> %ld", req->method, req->url, req->status);
  }
  rs->idle = 0;
  if (!req->done)
    return;
  error = req->done(req, req->payload);
  if (error < 0 && !rs->error)
    rs->error = error;
}

static int fail_now(run_state *rs, cairn_http_request *req, int code)
{
  req->result = code;
  req->unsent = 1;
  if (!req->error[0])
    snprintf(req->error, sizeof(req->error), "%s",
             cairn_error_last()->message);
  finish(rs, req);
  return code;
}

static int build_slist(cairn_http_request *req)
{
  struct curl_slist *list = NULL, *next;
  cairn_buf line = CAIRN_BUF_INIT;
  size_t i;

  for (i = 0; i <= req->headers.count; i++) {
    cairn_buf_clear(&line);
    if (i == req->headers.count) {
      if (cairn_buf_puts(&line, "Expect:") < 0)
        goto fail;
    } else if (req->headers.items[i].value[0]) {
      if (cairn_buf_printf(&line, "%s: %s", req->headers.items[i].name,
                           req->headers.items[i].value) < 0)
        goto fail;
    } else if (cairn_buf_printf(&line, "%s;", req->headers.items[i].name) <
               0) {
      goto fail;
    }
    if (!(next = curl_slist_append(list, line.ptr)))
      goto fail;
    list = next;
  }
  cairn_buf_dispose(&line);
  req->priv.slist = list;
  return 0;

fail:
  cairn_buf_dispose(&line);
  curl_slist_free_all(list);
  return cairn__error_oom();
}

static void set_method(CURL *easy, cairn_http_request *req)
{
  int has_body = req->body.kind != CAIRN_HTTP_BODY_NONE;

  if (strcmp(req->method, "HEAD") == 0) {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    return;
  }
  if (strcmp(req->method, "GET") == 0 && !has_body) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (strcmp(req->method, "DELETE") == 0 && !has_body) {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "DELETE");
    return;
  }
  /* PUT, POST and anything with a body: an upload of a known size */
  curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE,
                   (curl_off_t)(has_body ? req->body.len : 0));
  curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(easy, CURLOPT_READDATA, req);
  curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, on_seek);
  curl_easy_setopt(easy, CURLOPT_SEEKDATA, req);
  if (strcmp(req->method, "PUT") != 0)
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
}

static int needs_length(const cairn_http_request *req)
{
  return req->body.kind != CAIRN_HTTP_BODY_NONE ||
         strcmp(req->method, "PUT") == 0 ||
         strcmp(req->method, "POST") == 0;
}

/*
 * Cut an attempt when no byte has moved either way for the client's
 * inactivity limit: waiting for an answer counts, a slow but moving
 * body does not.
 */
static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
  cairn_http_request *req = p;
  uint64_t bytes = (uint64_t)dlnow + (uint64_t)ulnow;
  int64_t now = cairn_time_monotonic_ms();

  (void)dltotal;
  (void)ultotal;
  if (bytes != req->priv.last_bytes) {
    req->priv.last_bytes = bytes;
    req->priv.last_move_ms = now;
    return 0;
  }
  if (now - req->priv.last_move_ms < req->priv.stall_ms)
    return 0;
  req->priv.stalled = 1;
  return 1;
}

/*
 * Keep little unsent data in the kernel: the body then leaves curl's
 * hands at the pace of the link, so that progress, and with it the
 * inactivity limit, follows the real transfer instead of a socket buffer
 * that takes megabytes at once and drains in silence.  It does not cap
 * the data in flight, so fast links keep their speed.
 */
static int on_socket(void *p, curl_socket_t fd, curlsocktype purpose)
{
  int lowat = IO_BUFFER_SIZE; /* one upload buffer of curl's */

  (void)p;
  if (purpose == CURLSOCKTYPE_IPCXN)
    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
  return CURL_SOCKOPT_OK;
}

/*
 * Called each time the request goes out on a connection.  libcurl sends
 * a request once more by itself when a kept-alive connection turns out
 * dead: req->sends counts those too, for callers that must know whether
 * an earlier send may have done the work.  The retry budget
 * (req->attempts) counts the engine's attempts only.
 */
static int on_send(void *p, char *ip, char *local_ip, int port,
                   int local_port)
{
  cairn_http_request *req = p;

  (void)ip;
  (void)local_ip;
  (void)port;
  (void)local_port;
  req->sends++;
  return CURL_PREREQFUNC_OK;
}

static int configure(cairn_http_client *c, CURL *easy,
                     cairn_http_request *req)
{
  char *proxy = NULL;
  int error;

  /* Never leave the proxy to libcurl's own reading of the environment. */
  if ((error = cairn_http_proxy_for(&proxy, NULL, req->url, client_env,
                                    c)) < 0)
    return error;
  curl_easy_setopt(easy, CURLOPT_PROXY, proxy ? proxy : "");
  free(proxy);
  if (c->ca_bundle)
    curl_easy_setopt(easy, CURLOPT_PROXY_CAINFO, c->ca_bundle);
  curl_easy_setopt(easy, CURLOPT_URL, req->url);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, req);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->priv.slist);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, req);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, req);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, req->error);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  /* send the path as signed: no folding of "/./" or "/../" */
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, on_socket);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, c->opts.connect_timeout_s);
  /* an inactivity limit, never a deadline for the whole transfer */
  req->priv.stall_ms = c->opts.low_speed_time_s * 1000;
  req->priv.last_move_ms = cairn_time_monotonic_ms();
  req->priv.last_bytes = 0;
  req->priv.stalled = 0;
  curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_send);
  curl_easy_setopt(easy, CURLOPT_PREREQDATA, req);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, req);
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, (long)IO_BUFFER_SIZE);
  curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, (long)IO_BUFFER_SIZE);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (c->ca_bundle)
    curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_bundle);
  set_method(easy, req);
  return 0;
}

/* Begin one attempt of @p req; a failure is reported through done. */
static int start(run_state *rs, cairn_http_request *req)
{
  cairn_http_client *c = rs->c;
  char len[32];
  CURL *easy;
  int error;

  req->attempts++;
  req->result = 0;
  req->status = 0;
  req->received = 0;
  req->sink_errno = 0;
  req->unsent = 0;
  req->error[0] = '\0';
  req->priv.sent = 0;
  req->priv.staged = 0;
  req->priv.next = NULL;
  cairn_http_headers_clear(&req->response_headers);
  cairn_buf_clear(&req->response);
  if (req->priv.slist)
    curl_slist_free_all(req->priv.slist);
  req->priv.slist = NULL;

  if (needs_length(req)) {
    snprintf(len, sizeof(len), "%llu",
             (unsigned long long)(req->body.kind ? req->body.len : 0));
    if ((error = cairn_http_headers_set(&req->headers, "Content-Length",
                                        len)) < 0)
      return fail_now(rs, req, error);
  }
  if (req->prepare && (error = req->prepare(req, req->prepare_data)) < 0)
    return fail_now(rs, req, error);
  if ((error = build_slist(req)) < 0)
    return fail_now(rs, req, error);

  if (c->npool)
    easy = c->pool[--c->npool];
  else if (!(easy = curl_easy_init()))
    return fail_now(rs, req, cairn__error_oom());
  curl_easy_reset(easy);
  if ((error = configure(c, easy, req)) < 0) {
    c->pool[c->npool++] = easy;
    return fail_now(rs, req, error);
  }
  req->priv.easy = easy;
  req->priv.epoch = c->epoch;
  if (curl_multi_add_handle(c->multi, easy) != CURLM_OK) {
    c->pool[c->npool++] = easy;
    req->priv.easy = NULL;
    return fail_now(rs, req,
                    cairn__error(CAIRN_ERROR, "cannot start a request"));
  }
  req->priv.next = rs->active;
  rs->active = req;
  rs->nactive++;
  return 0;
}

static void release_easy(run_state *rs, cairn_http_request *req)
{
  cairn_http_client *c = rs->c;
  CURL *easy = req->priv.easy;

  curl_multi_remove_handle(c->multi, easy);
  if (c->npool < c->max)
    c->pool[c->npool++] = easy;
  else
    curl_easy_cleanup(easy);
  req->priv.easy = NULL;
  list_remove(&rs->active, req);
  rs->nactive--;
}

static int transient_failure(CURLcode rc)
{
  switch (rc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return 1;
  default:
    return 0;
  }
}

static int code_for(CURLcode rc)
{
  switch (rc) {
  case CURLE_OK:
    return 0;
  case CURLE_OPERATION_TIMEDOUT:
    return CAIRN_ETIMEOUT;
  case CURLE_WRITE_ERROR:
  case CURLE_READ_ERROR:
  case CURLE_ABORTED_BY_CALLBACK:
    return CAIRN_EIO;
  case CURLE_OUT_OF_MEMORY:
    return CAIRN_ENOMEM;
  default:
    return CAIRN_ENET;
  }
}

static void complete(run_state *rs, cairn_http_request *req, CURLcode rc)
{
  cairn_http_client *c = rs->c;
  int transient;
  int64_t delay;
  unsigned counted;
  char where[256];

  if (rc == CURLE_ABORTED_BY_CALLBACK && req->priv.stalled) {
    /* the inactivity limit: a timeout like any other, worth a retry */
    rc = CURLE_OPERATION_TIMEDOUT;
    snprintf(req->error, sizeof(req->error), "no data moved for %lld s",
             (long long)(req->priv.stall_ms / 1000));
  }
  if (rc == CURLE_OK && flush_stage(req) < 0)
    rc = CURLE_WRITE_ERROR;
  req->priv.staged = 0;
  transient = rc != CURLE_OK && transient_failure(rc);
  release_easy(rs, req);
  if (rc != CURLE_OK)
    req->status = 0;
  if (req->status == 503 || req->status == 429) {
    throttled(c, req);
    req->priv.throttled++;
  } else if (rc == CURLE_OK) {
    unthrottled(c);
  }
  if (rc == CURLE_OK && req->status == 401 && req->reauth &&
      !req->priv.reauthed && req->reauth(req, req->prepare_data) == 1) {
    req->priv.reauthed = 1;
    log_debug("http", "401: sending %s once more with fresh credentials",
              req->method);
    req->priv.due_ms = cairn_time_monotonic_ms();
    req->priv.next = rs->waiting;
    rs->waiting = req;
    rs->nwaiting++;
    return;
  }
  /* a busy service's answers count against the throttled budget only,
     so that other failures in between get their own attempts */
  counted = req->status == 503 || req->status == 429
                ? req->attempts
                : req->attempts - req->priv.throttled;
  if ((rc == CURLE_OK || transient) &&
      cairn_http_retry_decide(&delay, &c->policy, counted,
                              req->idempotent, transient, req->status,
                              &req->response_headers, cairn_time_now(),
                              next_random(c))) {
    if (cairn__log_enabled(CAIRN_LOG_DEBUG)) {
      url_for_message(where, sizeof(where), req->url);
      log_debug("http", "retrying %s %s in %lld ms (attempt %u): %s%ld",
                req->method, where, (long long)delay, req->attempts + 1,
                transient ? req->error : "HTTP ",
                transient ? 0L : req->status);
    }
    req->priv.due_ms = cairn_time_monotonic_ms() + delay;
    req->priv.next = rs->waiting;
    rs->waiting = req;
    rs->nwaiting++;
    return;
  }
  req->result = code_for(rc);
  /* libcurl words a failed write its own way, without the cause */
  if (req->sink_errno)
    snprintf(req->error, sizeof(req->error), "cannot write: %s",
             strerror(req->sink_errno));
  if (rc != CURLE_OK && !req->error[0])
    snprintf(req->error, sizeof(req->error), "%s", curl_easy_strerror(rc));
  finish(rs, req);
}

/* Start the waiting requests whose time has come; the next due time. */
static int64_t start_due(run_state *rs)
{
  int64_t now = cairn_time_monotonic_ms(), next = -1;
  cairn_http_request **p = &rs->waiting, *req;

  while ((req = *p)) {
    if (req->priv.due_ms > now || rs->nactive >= rs->c->limit) {
      if (next < 0 || req->priv.due_ms < next)
        next = req->priv.due_ms;
      p = &req->priv.next;
      continue;
    }
    *p = req->priv.next;
    rs->nwaiting--;
    start(rs, req);
  }
  return next < 0 ? -1 : next - now;
}

static void fill(run_state *rs)
{
  cairn_http_request *req;
  int error;

  while (!rs->error && !rs->idle && rs->nactive < rs->c->limit &&
         rs->nactive + rs->nwaiting < rs->c->max) {
    req = NULL;
    if ((error = rs->next(&req, rs->payload)) < 0) {
      rs->error = error;
      return;
    }
    if (error == CAIRN_HTTP_LATER) {
      rs->later = 1;
      return;
    }
    if (!req) {
      rs->idle = 1;
      return;
    }
    start(rs, req);
  }
}

static int drain(run_state *rs)
{
  CURLMsg *msg;
  int left, n = 0;
  cairn_http_request *req;

  while ((msg = curl_multi_info_read(rs->c->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    req = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
    if (!req)
      continue;
    complete(rs, req, msg->data.result);
    n++;
  }
  return n;
}

static void cancel_all(run_state *rs)
{
  cairn_http_request *req;

  while ((req = rs->active)) {
    release_easy(rs, req);
    req->result = CAIRN_ECANCELLED;
    snprintf(req->error, sizeof(req->error), "cancelled");
    if (req->done)
      req->done(req, req->payload);
  }
  while ((req = rs->waiting)) {
    rs->waiting = req->priv.next;
    rs->nwaiting--;
    req->result = CAIRN_ECANCELLED;
    snprintf(req->error, sizeof(req->error), "cancelled");
    if (req->done)
      req->done(req, req->payload);
  }
}

/* How long a stopped run waits for writes the service already has. */
#define SETTLE_MS 3000

/*
 * A run stopped on request: a write whose body the service has whole
 * may still take effect after the connection is dropped, out of sight
 * of whoever then cleans up.  Such writes get a short while to answer;
 * reads and writes still sending their bodies stop at once.
 */
static void settle(run_state *rs)
{
  cairn_http_request *req, *next, *waiting;
  int64_t deadline = cairn_time_monotonic_ms() + SETTLE_MS, left;
  int running;

  for (req = rs->active; req; req = next) {
    next = req->priv.next;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        req->priv.sent == req->body.len)
      continue;
    release_easy(rs, req);
    req->result = CAIRN_ECANCELLED;
    snprintf(req->error, sizeof(req->error), "cancelled");
    if (req->done)
      req->done(req, req->payload);
  }
  /* answers that would be retried are not: keep them apart */
  waiting = rs->waiting;
  rs->waiting = NULL;
  while (rs->nactive && (left = deadline - cairn_time_monotonic_ms()) > 0) {
    curl_multi_perform(rs->c->multi, &running);
    if (drain(rs))
      continue;
    curl_multi_poll(rs->c->multi, NULL, 0, (int)(left < 100 ? left : 100),
                    NULL);
  }
  while ((req = rs->waiting)) { /* retries asked for while settling */
    rs->waiting = req->priv.next;
    req->priv.next = waiting;
    waiting = req;
  }
  rs->waiting = waiting;
}

void cairn_http_wakeup(cairn_http_client *c)
{
  curl_multi_wakeup(c->multi);
}

int cairn_http_run(cairn_http_client *c, cairn_http_producer next,
                   void *payload)
{
  run_state rs;
  int running;
  long curl_wait;
  int64_t due, wait;

  memset(&rs, 0, sizeof(rs));
  rs.c = c;
  rs.next = next;
  rs.payload = payload;

  for (;;) {
    if (cairn_cancelled()) {
      rs.error = cairn__error(CAIRN_ECANCELLED, "stopped on request");
      break;
    }
    /* retries that are due go first, then new requests */
    due = start_due(&rs);
    rs.later = 0;
    fill(&rs);
    if (rs.error)
      break;
    if (!rs.nactive && !rs.nwaiting && !rs.later) {
      if (rs.idle)
        break;
      continue;
    }
    if (rs.nactive) {
      curl_multi_perform(c->multi, &running);
      if (drain(&rs))
        continue;
    }

    wait = 1000;
    if (rs.nactive && curl_multi_timeout(c->multi, &curl_wait) ==
                          CURLM_OK && curl_wait >= 0 && curl_wait < wait)
      wait = curl_wait;
    if (due >= 0 && due < wait)
      wait = due;
    if (wait > 0)
      curl_multi_poll(c->multi, NULL, 0, (int)wait, NULL);
  }
  if (rs.nactive && rs.error == CAIRN_ECANCELLED)
    settle(&rs);
  if (rs.nactive || rs.nwaiting)
    cancel_all(&rs);
  return rs.error;
}

typedef struct {
  cairn_http_request *req;
  int given;
} single_state;

static int single_next(cairn_http_request **out, void *payload)
{
  single_state *s = payload;

  *out = s->given ? NULL : s->req;
  s->given = 1;
  return 0;
}

int cairn_http_send(cairn_http_client *c, cairn_http_request *req)
{
  single_state s = {req, 0};
  char where[512];
  int error;

  if ((error = cairn_http_run(c, single_next, &s)) < 0)
    return error;
  if (req->result < 0) {
    url_for_message(where, sizeof(where), req->url);
    return cairn__error(req->result, "%s %s failed: %s", req->method,
                        where, req->error);
  }
  return 0;
}

/*
 * The HTTP transport: one engine over libcurl's multi interface, with
 * kept-alive connections, a retry policy and bounded concurrency.  It
 * serves single blocking requests (cairn_http_send) and many requests
 * in parallel handed out by a producer (cairn_http_run).  It knows
 * nothing of Azure.  Internal to libcairn.
 */
#ifndef CAIRN_HTTP_HTTP_H
#define CAIRN_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* ------------------------------------------------------------------ */
/* Header lists                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
  char *name;
  char *value;
} cairn_http_header;

/* An owned list of headers; names compared case-insensitively. */
typedef struct {
  cairn_http_header *items;
  size_t count;
  size_t alloc;
} cairn_http_headers;

#define CAIRN_HTTP_HEADERS_INIT {NULL, 0, 0}

/* Append a header (copies of both strings). */
int cairn_http_headers_add(cairn_http_headers *h, const char *name,
                           const char *value);
/* Replace the value of the first header named @p name, or append it. */
int cairn_http_headers_set(cairn_http_headers *h, const char *name,
                           const char *value);
/* The value of the first header named @p name (borrowed), or NULL. */
const char *cairn_http_headers_get(const cairn_http_headers *h,
                                   const char *name);
/* Drop every header, keeping the storage. */
void cairn_http_headers_clear(cairn_http_headers *h);
void cairn_http_headers_dispose(cairn_http_headers *h);

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

typedef enum {
  CAIRN_HTTP_BODY_NONE = 0, /* no body */
  CAIRN_HTTP_BODY_MEM,      /* body.data, body.len (borrowed) */
  CAIRN_HTTP_BODY_FD        /* pread from body.fd at body.offset */
} cairn_http_body_kind;

typedef enum {
  CAIRN_HTTP_SINK_DISCARD = 0, /* drop the response body */
  CAIRN_HTTP_SINK_BUF,         /* append to req->response */
  CAIRN_HTTP_SINK_MEM,         /* into sink.data, at most sink.cap bytes */
  CAIRN_HTTP_SINK_FD           /* pwrite to sink.fd from sink.offset */
} cairn_http_sink_kind;

typedef struct cairn_http_request cairn_http_request;

/*
 * Called before every attempt, after the engine has set Content-Length
 * and cleared the previous attempt's results: the place to date and sign
 * the request.  Return 0, or a negative code to fail the request.
 */
typedef int (*cairn_http_prepare_cb)(cairn_http_request *req, void *data);

/*
 * Called once when the request is finished: a final answer arrived
 * (req->result == 0, any status), or it failed for good (req->result < 0
 * and req->error says why).  Return 0 to go on, a negative code to stop
 * cairn_http_run() (which then returns that code).
 */
typedef int (*cairn_http_done_cb)(cairn_http_request *req, void *payload);

/*
 * Called when an attempt was answered 401 Unauthorized, with
 * prepare_data: return 1 when fresh credentials may succeed (a token
 * was refreshed), and the request is sent once more at once; 0 to let
 * the 401 stand.  At most once per request.
 */
typedef int (*cairn_http_reauth_cb)(cairn_http_request *req, void *data);

struct cairn_http_request {
  /* Set by the caller (cairn_http_request_setup() for the first two). */
  char method[12];
  char *url;                  /* owned */
  cairn_http_headers headers; /* owned; request headers */
  struct {
    cairn_http_body_kind kind;
    const void *data;
    int fd;
    uint64_t offset;
    uint64_t len;
  } body;
  struct {
    cairn_http_sink_kind kind;
    void *data;
    size_t cap;
    int fd;
    uint64_t offset;
  } sink;
  int idempotent; /* safe to repeat: retried on failures that allow it */
  cairn_http_prepare_cb prepare;
  void *prepare_data;
  cairn_http_reauth_cb reauth; /* [nullable] */
  cairn_http_done_cb done;
  void *payload;

  /* Results of the last attempt, valid in done and after send. */
  int result;                          /* 0, or CAIRN_ENET, _ETIMEOUT... */
  long status;                         /* HTTP status, 0 when none */
  cairn_http_headers response_headers; /* every header of the answer */
  cairn_buf response; /* SINK_BUF body; also any non-2xx body (capped) */
  uint64_t received;  /* body bytes handed to the sink */
  unsigned attempts;  /* the engine's attempts (the retry budget) */
  unsigned sends;     /* times it went out, libcurl's own resends too */
  char error[512]; /* why the transport failed, when result < 0 */
  int sink_errno;  /* errno of a failed write to sink.fd, else 0 */
  int unsent;      /* it failed before reaching the network (while its
                      credentials or headers were made) */

  /* Engine-private. */
  struct {
    uint64_t sent;
    int64_t due_ms;
    unsigned epoch; /* the client's throttle epoch when it started */
    int64_t stall_ms;      /* inactivity limit of this attempt */
    int64_t last_move_ms;  /* when a byte last moved */
    uint64_t last_bytes;   /* bytes moved by then, both ways */
    int stalled;           /* cut for inactivity */
    int reauthed;
    unsigned throttled; /* attempts answered 503 or 429 */
    cairn_http_request *next;
    void *easy;
    void *slist;
    char *stage;   /* SINK_FD: small pieces gathered for one write */
    size_t staged; /* bytes in stage, not yet written */
  } priv;
};

/* Empty a request (all zero, fds -1). */
void cairn_http_request_init(cairn_http_request *req);
/*
 * Set the method and a copy of @p url, dropping headers, body, sink and
 * results from an earlier use; callbacks and idempotent are kept.
 */
int cairn_http_request_setup(cairn_http_request *req, const char *method,
                             const char *url);
void cairn_http_request_dispose(cairn_http_request *req);

/* ------------------------------------------------------------------ */
/* Clients                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
  unsigned max_concurrency; /* transfers at once (default 16) */
  long connect_timeout_s;   /* default 30 */
  /*
   * Abort an attempt when no byte has moved for this long (default
   * 60 s): an inactivity limit, never a deadline for the whole transfer,
   * so a slow but moving link finishes whatever the size.
   */
  long low_speed_time_s;
  unsigned max_attempts;    /* attempts per request (default 5, and 10
                               while the service answers 503 or 429);
                               when set, it bounds both */
} cairn_http_options;

typedef struct cairn_http_client cairn_http_client;

/*
 * @p options [nullable]; zero fields take the defaults.  The proxy
 * variables of the environment are read here, once per client (see
 * cairn_http_proxy_for()).  CAIRN_EINVAL naming the variable when one
 * holds a proxy URL of an unknown scheme.
 */
int cairn_http_client_new(cairn_http_client **out,
                          const cairn_http_options *options);
void cairn_http_client_free(cairn_http_client *client);
unsigned cairn_http_client_concurrency(const cairn_http_client *client);

/*
 * Transfers the client lets run at once now: its concurrency, lowered
 * when the service answers 503 or 429 (halved, at most once per round of
 * requests) and raised by one after each full round of answers that were
 * not throttled.  Requests waiting to be retried do not count.
 */
unsigned cairn_http_client_limit(const cairn_http_client *client);

/*
 * Hands out the next request.  Set *out and return 0; set *out to NULL
 * when there is nothing to send now (the producer is asked again after
 * the next completion; with nothing in flight, the run ends); return
 * CAIRN_HTTP_LATER (with *out NULL) when more will come once another
 * thread has done its part: the run then waits, also with nothing in
 * flight, until that thread calls cairn_http_wakeup() or a request
 * completes, and asks again.  Return a negative code to stop the run.
 * The request stays the caller's: the engine never frees it.
 */
typedef int (*cairn_http_producer)(cairn_http_request **out, void *payload);

#define CAIRN_HTTP_LATER 1

/* Make a waiting cairn_http_run() ask its producer again.  Any thread. */
void cairn_http_wakeup(cairn_http_client *client);

/*
 * Run requests from @p next, at most the client's concurrency at once,
 * until the producer has no more and all are finished.  Returns 0, or
 * the first negative code from the producer or a done callback; then the
 * requests still in flight are stopped and their done callbacks called
 * with result CAIRN_ECANCELLED.
 */
int cairn_http_run(cairn_http_client *client, cairn_http_producer next,
                   void *payload);

/*
 * Send one request and wait for it (with retries).  Returns 0 when an
 * answer arrived, whatever its status, or req->result with the error
 * set.  req->done, when set, is called too.
 */
int cairn_http_send(cairn_http_client *client, cairn_http_request *req);

/* ------------------------------------------------------------------ */
/* Proxies from the environment (proxy.c)                              */
/* ------------------------------------------------------------------ */

/* Reads one environment variable; NULL when unset or empty. */
typedef const char *(*cairn_http_getenv_fn)(const char *name, void *data);

/*
 * The proxy for @p url, decided from the environment read through
 * @p get (NULL: the process environment).  libcurl is never left to
 * read the variables itself, so the rules are these, in this order:
 *
 * - https URLs: https_proxy, then HTTPS_PROXY;
 *   http URLs: http_proxy, then HTTP_PROXY (HTTP_PROXY is ignored when
 *   REQUEST_METHOD is set, as in a CGI program, where a client's "Proxy:"
 *   header arrives as HTTP_PROXY);
 *   then, for both, all_proxy, then ALL_PROXY.  The lowercase spelling
 *   wins when both are set.
 * - no_proxy, else NO_PROXY: a comma-separated list; "*" means every
 *   host; an entry matches the host itself and every name below it
 *   ("example.com" and ".example.com" both match "a.example.com"); an
 *   entry "host:port" matches that port only; IPv4 entries may be CIDR
 *   ranges ("10.0.0.0/8"); IPv6 literals in brackets or not.
 * - A proxy without a scheme is "http://"; http, https, socks4, socks4a,
 *   socks5 and socks5h are accepted.
 *
 * *out is a new string (free()), or NULL for a direct connection.
 * *which [nullable] names the variable used.  Returns 0, or CAIRN_EINVAL
 * naming the variable (never its value) for an unknown scheme.
 */
int cairn_http_proxy_for(char **out, const char **which, const char *url,
                         cairn_http_getenv_fn get, void *data);

/*
 * 1 when the host of @p url matches the no_proxy list @p list (see
 * cairn_http_proxy_for()).
 */
int cairn_http_no_proxy_match(const char *list, const char *url);

/*
 * Copy proxy URL @p proxy to @p out for logs and messages, with any
 * "user:password@" replaced by "***@".
 */
void cairn_http_proxy_redact(char *out, size_t outlen, const char *proxy);

/* ------------------------------------------------------------------ */
/* Retry policy (retry.c)                                              */
/* ------------------------------------------------------------------ */

typedef struct {
  unsigned max_attempts;      /* attempts in all, first one included */
  int64_t base_ms;            /* first backoff */
  int64_t cap_ms;             /* largest backoff */
  int64_t hint_cap_ms;        /* largest wait a server may ask for */
  unsigned throttle_attempts; /* attempts in all after 503 or 429 */
} cairn_http_retry_policy;

/*
 * A service that answers 503 or 429 asks for time, not for giving up:
 * throttled requests get throttle_attempts in all (0: max_attempts).
 */
#define CAIRN_HTTP_RETRY_DEFAULT {5, 250, 20000, 60000, 10}

/* 1 when a response with @p status is worth another attempt. */
int cairn_http_retry_status(long status);

/*
 * The wait the server asks for, in milliseconds, from x-ms-retry-after-ms
 * or Retry-After (seconds or an HTTP date, against @p now_s); -1 if none.
 */
int64_t cairn_http_retry_after_ms(const cairn_http_headers *headers,
                                  int64_t now_s);

/*
 * Backoff before attempt number @p attempt + 1, after @p attempt failed
 * attempts (1 for the first retry): base * 2^(attempt-1), capped, then
 * scaled into [1/2, 1] of that by @p rnd (any 32-bit value).
 */
int64_t cairn_http_retry_backoff_ms(const cairn_http_retry_policy *p,
                                    unsigned attempt, uint32_t rnd);

/*
 * Decide on another attempt after @p attempts attempts.  @p transient is
 * 1 for a connection failure worth repeating (then @p status is 0).
 * Returns 1 with *delay_ms set, or 0.
 */
int cairn_http_retry_decide(int64_t *delay_ms,
                            const cairn_http_retry_policy *p,
                            unsigned attempts, int idempotent,
                            int transient, long status,
                            const cairn_http_headers *headers, int64_t now_s,
                            uint32_t rnd);

#endif

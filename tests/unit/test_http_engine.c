/*
 * The HTTP engine against a small local server on 127.0.0.1: retries
 * through the timed queue, bodies and sinks of every kind, parallel runs.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cairn/common.h>

#include "core/error.h"
#include "http/http.h"

static int listen_fd = -1;
static int port;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int flaky_hits;
static int once_hits[64];

/* Read one request; 0 at the end of the connection. */
static int read_request(int fd, char *head, size_t cap, char **body,
                        size_t *blen)
{
  size_t n = 0, need;
  ssize_t r;
  char *end, *cl;

  for (;;) {
    if (n + 1 >= cap)
      return -1;
    if ((r = read(fd, head + n, cap - n - 1)) <= 0)
      return 0;
    n += (size_t)r;
    head[n] = '\0';
    if ((end = strstr(head, "\r\n\r\n")))
      break;
  }
  cl = strcasestr(head, "\ncontent-length:");
  *blen = cl ? strtoul(cl + 16, NULL, 10) : 0;
  *body = malloc(*blen + 1);
  need = (size_t)(head + n - (end + 4));
  memcpy(*body, end + 4, need);
  while (need < *blen) {
    if ((r = read(fd, *body + need, *blen - need)) <= 0)
      return 0;
    need += (size_t)r;
  }
  end[2] = '\0';
  return 1;
}

static void reply(int fd, int status, const char *extra, const char *body,
                  size_t len)
{
  char head[512];
  int n = snprintf(head, sizeof(head),
                   "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status,
                   len, extra);

  if (write(fd, head, (size_t)n) < 0 || (len && write(fd, body, len) < 0))
    return;
}

static void *serve_connection(void *p)
{
  int fd = (int)(intptr_t)p;
  char head[8192], *body, path[256];
  size_t blen;
  int hits;

  while (read_request(fd, head, sizeof(head), &body, &blen) == 1) {
    sscanf(head, "%*s %255s", path);
    if (strcmp(path, "/flaky") == 0) {
      pthread_mutex_lock(&lock);
      hits = ++flaky_hits;
      pthread_mutex_unlock(&lock);
      if (hits % 3)
        reply(fd, 503, "x-ms-retry-after-ms: 30\r\n", "busy", 4);
      else
        reply(fd, 200, "", "fine", 4);
    } else if (strncmp(path, "/once/", 6) == 0) {
      pthread_mutex_lock(&lock);
      hits = once_hits[atoi(path + 6) % 64]++;
      pthread_mutex_unlock(&lock);
      if (!hits)
        reply(fd, 503, "Retry-After: 0\r\n", "busy", 4);
      else
        reply(fd, 200, "", "fine", 4);
    } else if (strcmp(path, "/echo") == 0) {
      reply(fd, 200, "X-Echo: yes\r\n", body, blen);
    } else if (strcmp(path, "/slow") == 0) {
      usleep(200000);
      reply(fd, 200, "", "slow", 4);
    } else {
      reply(fd, 404, "", "<Error><Code>Nope</Code></Error>", 32);
    }
    free(body);
  }
  close(fd);
  return NULL;
}

static void *serve(void *p)
{
  pthread_t t;
  int fd;

  (void)p;
  while ((fd = accept(listen_fd, NULL, NULL)) >= 0) {
    pthread_create(&t, NULL, serve_connection, (void *)(intptr_t)fd);
    pthread_detach(t);
  }
  return NULL;
}

static int setup(void **state)
{
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  pthread_t t;

  (void)state;
  cairn_global_init();
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
      listen(listen_fd, 64) < 0 ||
      getsockname(listen_fd, (struct sockaddr *)&a, &len) < 0)
    return -1;
  port = ntohs(a.sin_port);
  pthread_create(&t, NULL, serve, NULL);
  pthread_detach(t);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  shutdown(listen_fd, SHUT_RDWR);
  cairn_global_cleanup();
  return 0;
}

static char *url(const char *path)
{
  static char buf[128];

  snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", port, path);
  return buf;
}

static void test_http_engine__retry(void **state)
{
  cairn_http_client *c = NULL;
  cairn_http_request req;

  (void)state;
  flaky_hits = 0;
  assert_int_equal(cairn_http_client_new(&c, NULL), 0);
  cairn_http_request_init(&req);
  assert_int_equal(cairn_http_request_setup(&req, "GET", url("/flaky")), 0);
  req.idempotent = 1;
  req.sink.kind = CAIRN_HTTP_SINK_BUF;
  assert_int_equal(cairn_http_send(c, &req), 0);
  assert_int_equal(req.status, 200);
  assert_int_equal(req.attempts, 3);
  assert_string_equal(req.response.ptr, "fine");

  /* not safe to repeat: the first answer stands */
  assert_int_equal(cairn_http_request_setup(&req, "POST", url("/flaky")), 0);
  req.idempotent = 0;
  assert_int_equal(cairn_http_send(c, &req), 0);
  assert_int_equal(req.status, 503);
  assert_int_equal(req.attempts, 1);

  /* a 404 is final; its body is kept */
  assert_int_equal(cairn_http_request_setup(&req, "HEAD", url("/none")), 0);
  req.idempotent = 1;
  assert_int_equal(cairn_http_send(c, &req), 0);
  assert_int_equal(req.status, 404);
  assert_int_equal(req.attempts, 1);
  cairn_http_request_dispose(&req);
  cairn_http_client_free(c);
}

static void test_http_engine__fd_body_and_sink(void **state)
{
  cairn_http_client *c = NULL;
  cairn_http_request req;
  char path[] = "/tmp/cairn-http-engine-XXXXXX", back[32];
  int fd = mkstemp(path);

  (void)state;
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "0123456789abcdef", 16), 16);
  assert_int_equal(cairn_http_client_new(&c, NULL), 0);
  cairn_http_request_init(&req);
  assert_int_equal(cairn_http_request_setup(&req, "PUT", url("/echo")), 0);
  req.body.kind = CAIRN_HTTP_BODY_FD;
  req.body.fd = fd;
  req.body.offset = 4;
  req.body.len = 6; /* "456789" */
  req.sink.kind = CAIRN_HTTP_SINK_FD;
  req.sink.fd = fd;
  req.sink.offset = 10; /* over "abcdef" */
  assert_int_equal(cairn_http_send(c, &req), 0);
  assert_int_equal(req.status, 200);
  assert_int_equal(req.received, 6);
  assert_string_equal(cairn_http_headers_get(&req.response_headers,
                                             "x-echo"), "yes");
  assert_int_equal(pread(fd, back, 16, 0), 16);
  assert_memory_equal(back, "0123456789456789", 16);

  /* a memory sink refuses more than it holds */
  assert_int_equal(cairn_http_request_setup(&req, "PUT", url("/echo")), 0);
  req.body.kind = CAIRN_HTTP_BODY_MEM;
  req.body.data = "too long";
  req.body.len = 8;
  req.sink.kind = CAIRN_HTTP_SINK_MEM;
  req.sink.data = back;
  req.sink.cap = 4;
  assert_int_equal(cairn_http_send(c, &req), CAIRN_EIO);
  cairn_http_request_dispose(&req);
  cairn_http_client_free(c);
  close(fd);
  unlink(path);
}

/*
 * A body bigger than the pieces the sink gathers before it writes, of
 * an odd length, lands whole at its offset; what the file held before
 * and after it is left alone.
 */
static void test_http_engine__large_fd_sink(void **state)
{
  const size_t len = 700 * 1024 + 3, off = 5;
  char path[] = "/tmp/cairn-http-big-XXXXXX";
  cairn_http_client *c = NULL;
  cairn_http_request req;
  char *body = malloc(len), *back = malloc(len + off + 4);
  size_t i;
  int fd;

  (void)state;
  assert_non_null(body);
  assert_non_null(back);
  for (i = 0; i < len; i++)
    body[i] = (char)(i * 7 + i / 4096);
  fd = mkstemp(path);
  assert_true(fd >= 0);
  memset(back, 'z', len + off + 4);
  assert_int_equal(write(fd, back, len + off + 4), (ssize_t)(len + off + 4));
  assert_int_equal(cairn_http_client_new(&c, NULL), 0);
  cairn_http_request_init(&req);
  assert_int_equal(cairn_http_request_setup(&req, "PUT", url("/echo")), 0);
  req.body.kind = CAIRN_HTTP_BODY_MEM;
  req.body.data = body;
  req.body.len = len;
  req.sink.kind = CAIRN_HTTP_SINK_FD;
  req.sink.fd = fd;
  req.sink.offset = off;
  assert_int_equal(cairn_http_send(c, &req), 0);
  assert_int_equal(req.status, 200);
  assert_int_equal(req.received, len);
  assert_int_equal(pread(fd, back, len + off + 4, 0),
                   (ssize_t)(len + off + 4));
  assert_memory_equal(back, "zzzzz", off);
  assert_memory_equal(back + off, body, len);
  assert_memory_equal(back + off + len, "zzzz", 4);
  cairn_http_request_dispose(&req);
  cairn_http_client_free(c);
  close(fd);
  unlink(path);
  free(body);
  free(back);
}

/* A sink that cannot be written says why, whatever libcurl makes of it. */
static void test_http_engine__full_fd_sink(void **state)
{
  const size_t sizes[] = {100, 700 * 1024 + 3};
  cairn_http_client *c = NULL;
  cairn_http_request req;
  char *body = calloc(1, sizes[1]);
  size_t i;
  int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

  (void)state;
  assert_non_null(body);
  assert_true(fd >= 0);
  assert_int_equal(cairn_http_client_new(&c, NULL), 0);
  /* the small body fails when the stage is written, the large one on
     the way */
  for (i = 0; i < 2; i++) {
    cairn_http_request_init(&req);
    assert_int_equal(cairn_http_request_setup(&req, "PUT", url("/echo")), 0);
    req.body.kind = CAIRN_HTTP_BODY_MEM;
    req.body.data = body;
    req.body.len = sizes[i];
    req.sink.kind = CAIRN_HTTP_SINK_FD;
    req.sink.fd = fd;
    assert_int_equal(cairn_http_send(c, &req), CAIRN_EIO);
    assert_int_equal(req.sink_errno, ENOSPC);
    assert_string_equal(req.error, "cannot write: No space left on device");
    cairn_http_request_dispose(&req);
  }
  cairn_http_client_free(c);
  close(fd);
  free(body);
}

static int no_token(cairn_http_request *req, void *data)
{
  (void)req;
  (void)data;
  return cairn__error(CAIRN_ENET, "%0300d: no token", 7);
}

/* A request whose credentials cannot be made fails unsent, reason whole. */
static void test_http_engine__unsent(void **state)
{
  cairn_http_client *c = NULL;
  cairn_http_request req;

  (void)state;
  assert_int_equal(cairn_http_client_new(&c, NULL), 0);
  cairn_http_request_init(&req);
  assert_int_equal(cairn_http_request_setup(&req, "GET", url("/echo")), 0);
  req.prepare = no_token;
  assert_int_equal(cairn_http_send(c, &req), CAIRN_ENET);
  assert_int_equal(req.unsent, 1);
  assert_int_equal(req.sends, 0);
  assert_int_equal(strlen(req.error), 310);
  assert_string_equal(req.error + 300, ": no token");
  /* the same request sent again is no longer unsent */
  req.prepare = NULL;
  assert_int_equal(cairn_http_send(c, &req), 0);
  assert_int_equal(req.unsent, 0);
  cairn_http_request_dispose(&req);
  cairn_http_client_free(c);
}

typedef struct {
  cairn_http_request reqs[40];
  int next, done, ok;
} many;

static int many_done(cairn_http_request *req, void *payload)
{
  many *m = payload;

  m->done++;
  m->ok += req->result == 0 && req->status == 200;
  return 0;
}

static int many_next(cairn_http_request **out, void *payload)
{
  many *m = payload;
  cairn_http_request *req;
  char path[32];

  *out = NULL;
  if (m->next == 40)
    return 0;
  req = &m->reqs[m->next];
  cairn_http_request_init(req);
  snprintf(path, sizeof(path), "/once/%d", m->next);
  if (cairn_http_request_setup(req, "GET",
                               url(m->next % 2 ? "/slow" : path)) < 0)
    return -1;
  req->idempotent = 1;
  req->done = many_done;
  req->payload = m;
  m->next++;
  *out = req;
  return 0;
}

static void test_http_engine__parallel(void **state)
{
  cairn_http_options o = {8, 0, 0, 0};
  cairn_http_client *c = NULL;
  many *m = calloc(1, sizeof(*m));
  int i;

  (void)state;
  assert_int_equal(cairn_http_client_new(&c, &o), 0);
  assert_int_equal(cairn_http_run(c, many_next, m), 0);
  assert_int_equal(m->done, 40);
  assert_int_equal(m->ok, 40);
  for (i = 0; i < 40; i++) {
    assert_int_equal(m->reqs[i].attempts, i % 2 ? 1 : 2);
    cairn_http_request_dispose(&m->reqs[i]);
  }
  free(m);
  cairn_http_client_free(c);
}

static void test_http_engine__refused(void **state)
{
  cairn_http_options o = {1, 0, 0, 2};
  cairn_http_client *c = NULL;
  cairn_http_request req;

  (void)state;
  assert_int_equal(cairn_http_client_new(&c, &o), 0);
  cairn_http_request_init(&req);
  assert_int_equal(cairn_http_request_setup(&req, "GET",
                                            "http://127.0.0.1:1/x?sig=SECRET"),
                   0);
  req.idempotent = 1;
  assert_int_equal(cairn_http_send(c, &req), CAIRN_ENET);
  assert_int_equal(req.attempts, 2);
  assert_null(strstr(cairn_error_last()->message, "SECRET"));
  cairn_http_request_dispose(&req);
  cairn_http_client_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_http_engine__retry),
    cmocka_unit_test(test_http_engine__fd_body_and_sink),
    cmocka_unit_test(test_http_engine__large_fd_sink),
    cmocka_unit_test(test_http_engine__full_fd_sink),
    cmocka_unit_test(test_http_engine__unsent),
    cmocka_unit_test(test_http_engine__parallel),
    cmocka_unit_test(test_http_engine__refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

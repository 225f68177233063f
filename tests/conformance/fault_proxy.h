/*
 * Running tests/harness/fault_proxy.py between cairn and Azurite, for
 * the test programs that include this file (after cmocka.h).
 *
 *   fault_proxy_start(&p, "--busy 0.2 --retry-after 1")  port 0: its own
 *   p.endpoint         the proxied endpoint, ".../devstoreaccount1"
 *   fault_proxy_reset(&p, "{\"busy\": 0}")  new settings, counters zeroed
 *   fault_proxy_stat(&p, "busy")           one counter
 *   fault_proxy_stop(&p)
 *
 * The upstream is the Azurite of CAIRN_TEST_AZURITE_ENDPOINT.  The proxy
 * listens on 127.0.0.1 on a port the system picks.
 */
#ifndef CAIRN_TEST_FAULT_PROXY_H
#define CAIRN_TEST_FAULT_PROXY_H

#include <curl/curl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A file of tests/ (@p rel below it), from CAIRN_TEST_DATA (tests/data). */
static const char *tests_path(const char *rel)
{
  static char out[1024];
  const char *data = CAIRN_TEST_DATA;
  size_t n = strlen(data);

  if (n > 5 && !strcmp(data + n - 5, "/data"))
    n -= 5;
  snprintf(out, sizeof(out), "%.*s/%s", (int)n, data, rel);
  return out;
}

#define FAULT_PROXY_SCRIPT tests_path("harness/fault_proxy.py")

struct fault_proxy {
  pid_t pid;
  int port;
  char endpoint[128];
};

/* "127.0.0.1:PORT" of the Azurite the tests use, from its endpoint. */
static int fault_proxy_upstream(char *out, size_t outlen)
{
  const char *e = getenv("CAIRN_TEST_AZURITE_ENDPOINT"), *host, *end;

  if (!e || !(host = strstr(e, "://")))
    return -1;
  host += 3;
  end = strchr(host, '/');
  if (!end || (size_t)(end - host) >= outlen)
    return -1;
  memcpy(out, host, (size_t)(end - host));
  out[end - host] = '\0';
  return 0;
}

static int fault_proxy_start(struct fault_proxy *p, const char *args)
{
  char upstream[64], cmd[1024], line[64];
  struct pollfd pfd;
  int fds[2];
  ssize_t n;
  size_t got = 0;

  memset(p, 0, sizeof(*p));
  if (fault_proxy_upstream(upstream, sizeof(upstream)) < 0 ||
      pipe(fds) < 0)
    return -1;
  snprintf(cmd, sizeof(cmd), "exec python3 '%s' --upstream %s --port 0 %s",
           FAULT_PROXY_SCRIPT, upstream, args ? args : "");
  if ((p->pid = fork()) < 0)
    return -1;
  if (p->pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  /* the first line is "PORT <n>", within 10 s */
  pfd.fd = fds[0];
  pfd.events = POLLIN;
  while (got + 1 < sizeof(line) && !memchr(line, '\n', got)) {
    if (poll(&pfd, 1, 10000) <= 0 ||
        (n = read(fds[0], line + got, sizeof(line) - 1 - got)) <= 0)
      break;
    got += (size_t)n;
  }
  close(fds[0]);
  line[got] = '\0';
  if (sscanf(line, "PORT %d", &p->port) != 1) {
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
    return -1;
  }
  snprintf(p->endpoint, sizeof(p->endpoint),
           "http://127.0.0.1:%d/devstoreaccount1", p->port);
  return 0;
}

static void fault_proxy_stop(struct fault_proxy *p)
{
  if (p->pid > 0) {
    kill(p->pid, SIGTERM);
    waitpid(p->pid, NULL, 0);
  }
  p->pid = 0;
}

static size_t fault_proxy_sink(char *data, size_t size, size_t n, void *out)
{
  cairn_buf *b = out;

  return cairn_buf_put(b, data, size * n) < 0 ? 0 : size * n;
}

/* One control request; the answer's body in @p body. */
static int fault_proxy_call(struct fault_proxy *p, const char *path,
                            const char *post, cairn_buf *body)
{
  CURL *easy = curl_easy_init();
  char url[128];
  long status = 0;
  CURLcode rc;

  if (!easy)
    return -1;
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", p->port, path);
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, fault_proxy_sink);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
  if (post)
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post);
  rc = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(easy);
  return rc == CURLE_OK && status == 200 ? 0 : -1;
}

static int fault_proxy_reset(struct fault_proxy *p, const char *settings)
{
  cairn_buf body = CAIRN_BUF_INIT;
  int rc = fault_proxy_call(p, "/__reset", settings ? settings : "", &body);

  cairn_buf_dispose(&body);
  return rc;
}

/* One counter of the proxy ("requests", "busy", "drops_after", ...). */
static long fault_proxy_stat(struct fault_proxy *p, const char *name)
{
  cairn_buf body = CAIRN_BUF_INIT;
  json_t *root;
  long v = -1;

  if (fault_proxy_call(p, "/__stats", NULL, &body) == 0 &&
      (root = json_loads(cairn_buf_cstr(&body), 0, NULL))) {
    v = (long)json_integer_value(json_object_get(root, name));
    json_decref(root);
  }
  cairn_buf_dispose(&body);
  return v;
}

#endif

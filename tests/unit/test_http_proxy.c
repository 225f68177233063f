/*
 * Proxies from the environment: which variable wins, what NO_PROXY
 * bypasses, and that credentials in a proxy URL never reach a log line.
 * The decision is a pure function over a fake environment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/common.h>
#include <cairn/log.h>

#include "http/http.h"

/* A fake environment: NULL-terminated name/value pairs. */
typedef struct {
  const char *vars[32];
} fake_env;

static const char *fake_get(const char *name, void *data)
{
  fake_env *e = data;
  size_t i;

  for (i = 0; e->vars[i]; i += 2)
    if (strcmp(e->vars[i], name) == 0)
      return e->vars[i + 1];
  return NULL;
}

/* The proxy chosen for @p url ("" when direct), and its variable. */
static const char *decide(fake_env *e, const char *url, const char **which)
{
  static char buf[256];
  char *proxy = NULL;

  assert_int_equal(cairn_http_proxy_for(&proxy, which, url, fake_get, e),
                   0);
  snprintf(buf, sizeof(buf), "%s", proxy ? proxy : "");
  free(proxy);
  return buf;
}

static void test_http_proxy__precedence(void **state)
{
  fake_env e = {{"HTTPS_PROXY", "http://upper:3128", "https_proxy",
                 "http://lower:3128", "HTTP_PROXY", "http://plainup:80",
                 "ALL_PROXY", "socks5h://all:1080", NULL}};
  const char *which = NULL;

  (void)state;
  /* lowercase wins over uppercase */
  assert_string_equal(decide(&e, "https://a.blob.core.windows.net/c", &which),
                      "http://lower:3128");
  assert_string_equal(which, "https_proxy");
  /* uppercase alone is honoured, for https and for http */
  {
    fake_env up = {{"HTTPS_PROXY", "http://upper:3128", "HTTP_PROXY",
                    "http://plainup:80", NULL}};

    assert_string_equal(decide(&up, "https://x.example/", &which),
                        "http://upper:3128");
    assert_string_equal(which, "HTTPS_PROXY");
    assert_string_equal(decide(&up, "http://x.example/", &which),
                        "http://plainup:80");
    assert_string_equal(which, "HTTP_PROXY");
  }
  /* the https variables never serve http URLs and the other way round */
  {
    fake_env only = {{"HTTPS_PROXY", "http://upper:3128", NULL}};

    assert_string_equal(decide(&only, "http://x.example/", &which), "");
    assert_null(which);
  }
  /* ALL_PROXY is the fallback */
  {
    fake_env all = {{"ALL_PROXY", "socks5h://all:1080", NULL}};

    assert_string_equal(decide(&all, "https://x.example/", &which),
                        "socks5h://all:1080");
    assert_string_equal(which, "ALL_PROXY");
  }
  /* no variable: direct */
  {
    fake_env none = {{NULL}};

    assert_string_equal(decide(&none, "https://x.example/", &which), "");
  }
}

static void test_http_proxy__cgi(void **state)
{
  fake_env e = {{"HTTP_PROXY", "http://evil:80", "REQUEST_METHOD", "GET",
                 NULL}};
  fake_env lower = {{"http_proxy", "http://good:80", "REQUEST_METHOD",
                     "GET", NULL}};

  (void)state;
  /* in a CGI program HTTP_PROXY may come from a request header */
  assert_string_equal(decide(&e, "http://x.example/", NULL), "");
  assert_string_equal(decide(&lower, "http://x.example/", NULL),
                      "http://good:80");
}

static void test_http_proxy__no_proxy(void **state)
{
  fake_env e = {{"HTTPS_PROXY", "http://proxy:3128", "HTTP_PROXY",
                 "http://proxy:3128", "NO_PROXY",
                 "localhost, 127.0.0.1,.internal.example,blob.local:8080,"
                 "10.0.0.0/8,[::1]",
                 NULL}};

  (void)state;
  /* Azurite on the loopback bypasses the proxy; Azure goes through it */
  assert_string_equal(decide(&e, "http://127.0.0.1:10000/devstoreaccount1",
                             NULL), "");
  assert_string_equal(decide(&e, "http://localhost:10000/x", NULL), "");
  assert_string_equal(decide(&e, "http://LOCALHOST./x", NULL), "");
  assert_string_equal(decide(&e, "https://acct.blob.core.windows.net/c",
                             NULL), "http://proxy:3128");
  /* domains match themselves and every name below them, nothing else */
  assert_string_equal(decide(&e, "https://internal.example/", NULL), "");
  assert_string_equal(decide(&e, "https://a.b.internal.example/", NULL),
                      "");
  assert_string_equal(decide(&e, "https://notinternal.example/", NULL),
                      "http://proxy:3128");
  /* a port in an entry limits it to that port */
  assert_string_equal(decide(&e, "http://blob.local:8080/", NULL), "");
  assert_string_equal(decide(&e, "http://blob.local:9090/", NULL),
                      "http://proxy:3128");
  /* CIDR and IPv6 */
  assert_string_equal(decide(&e, "http://10.2.3.4/", NULL), "");
  assert_string_equal(decide(&e, "http://11.2.3.4/", NULL),
                      "http://proxy:3128");
  assert_string_equal(decide(&e, "http://[::1]:10000/", NULL), "");
  /* credentials in the URL do not hide the host */
  assert_string_equal(decide(&e, "http://u:p@localhost:1/", NULL), "");

  /* lowercase no_proxy wins over NO_PROXY */
  {
    fake_env both = {{"https_proxy", "http://proxy:3128", "no_proxy",
                      "a.example", "NO_PROXY", "*", NULL}};

    assert_string_equal(decide(&both, "https://a.example/", NULL), "");
    assert_string_equal(decide(&both, "https://b.example/", NULL),
                        "http://proxy:3128");
  }
  {
    fake_env star = {{"https_proxy", "http://proxy:3128", "NO_PROXY", "*",
                      NULL}};

    assert_string_equal(decide(&star, "https://b.example/", NULL), "");
  }
  assert_int_equal(cairn_http_no_proxy_match(NULL, "http://x/"), 0);
  assert_int_equal(cairn_http_no_proxy_match("", "http://x/"), 0);
  assert_int_equal(cairn_http_no_proxy_match(" , ,", "http://x/"), 0);
}

static void test_http_proxy__schemes(void **state)
{
  fake_env bare = {{"HTTPS_PROXY", "proxy.corp:3128", NULL}};
  fake_env tls = {{"HTTPS_PROXY", "https://proxy.corp:3129", NULL}};
  fake_env bad = {{"HTTPS_PROXY", "ftp://user:hunter2@proxy:21", NULL}};
  char *proxy = (char *)"untouched";
  const char *msg;

  (void)state;
  assert_string_equal(decide(&bare, "https://x.example/", NULL),
                      "http://proxy.corp:3128");
  /* an https:// proxy is kept as such (TLS to the proxy) */
  assert_string_equal(decide(&tls, "https://x.example/", NULL),
                      "https://proxy.corp:3129");
  assert_int_equal(cairn_http_proxy_for(&proxy, NULL, "https://x.example/",
                                        fake_get, &bad),
                   CAIRN_EINVAL);
  assert_null(proxy);
  msg = cairn_error_last()->message;
  assert_non_null(strstr(msg, "HTTPS_PROXY"));
  assert_null(strstr(msg, "hunter2"));
  /* schemes other than http(s) are not proxied at all */
  assert_string_equal(decide(&bare, "file:///tmp/x", NULL), "");
}

static void test_http_proxy__redact(void **state)
{
  char out[128];

  (void)state;
  cairn_http_proxy_redact(out, sizeof(out),
                          "http://alice:s3cret@proxy.corp:3128");
  assert_string_equal(out, "http://***@proxy.corp:3128");
  assert_null(strstr(out, "s3cret"));
  cairn_http_proxy_redact(out, sizeof(out), "https://token@proxy:1/x@y");
  assert_string_equal(out, "https://***@proxy:1/x@y");
  cairn_http_proxy_redact(out, sizeof(out), "proxy.corp:3128");
  assert_string_equal(out, "proxy.corp:3128");
  cairn_http_proxy_redact(out, sizeof(out), NULL);
  assert_string_equal(out, "(none)");
}

/* Log lines of the client's proxy decision, for the redaction check. */
static char logged[4096];

static void sink(cairn_log_level level, const char *category,
                 const char *message, void *payload)
{
  (void)level;
  (void)category;
  (void)payload;
  strncat(logged, message, sizeof(logged) - strlen(logged) - 2);
  strcat(logged, "\n");
}

static void test_http_proxy__client_env(void **state)
{
  cairn_http_client *c = NULL;

  (void)state;
  logged[0] = '\0';
  cairn_log_set_sink(sink, NULL);
  cairn_log_set_level(CAIRN_LOG_DEBUG);
  setenv("HTTPS_PROXY", "http://bob:pa55word@proxy.corp:3128", 1);
  unsetenv("https_proxy");
  assert_int_equal(cairn_http_client_new(&c, NULL), 0);
  cairn_http_client_free(c);
  assert_non_null(strstr(logged, "proxy.corp:3128"));
  assert_non_null(strstr(logged, "HTTPS_PROXY"));
  assert_null(strstr(logged, "pa55word"));

  /* a proxy the engine cannot use fails the client, naming the variable */
  setenv("HTTPS_PROXY", "gopher://proxy.corp:70", 1);
  assert_int_equal(cairn_http_client_new(&c, NULL), CAIRN_EINVAL);
  assert_null(c);
  assert_non_null(strstr(cairn_error_last()->message, "HTTPS_PROXY"));
  unsetenv("HTTPS_PROXY");
  cairn_log_set_level(CAIRN_LOG_WARN);
  cairn_log_set_sink(NULL, NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_http_proxy__precedence),
    cmocka_unit_test(test_http_proxy__cgi),
    cmocka_unit_test(test_http_proxy__no_proxy),
    cmocka_unit_test(test_http_proxy__schemes),
    cmocka_unit_test(test_http_proxy__redact),
    cmocka_unit_test(test_http_proxy__client_env),
  };

  cairn_global_init();
  return cmocka_run_group_tests(tests, NULL, NULL);
}

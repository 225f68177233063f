/*
 * Proxies from the environment, decided here rather than by libcurl, so
 * that upper- and lowercase variables are honoured alike, in one
 * documented order (see cairn_http_proxy_for() in http.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/util.h"
#include "http/http.h"

static const char *process_env(const char *name, void *data)
{
  (void)data;
  return cairn_getenv(name);
}

/* The first variable of @p names that is set; *which names it. */
static const char *first_set(cairn_http_getenv_fn get, void *data,
                             const char *const *names, const char **which)
{
  const char *v;

  for (; *names; names++) {
    if ((v = get(*names, data)) && *v) {
      *which = *names;
      return v;
    }
  }
  return NULL;
}

/*
 * The host of @p url (without brackets, lowercased) into @p host and its
 * port into *port (the scheme's default when absent).
 */
static void url_host(const char *url, char *host, size_t hostlen,
                     long *port)
{
  const char *p = strstr(url, "://"), *end, *at, *colon;
  size_t n;

  *port = strncasecmp(url, "https:", 6) == 0 ? 443 : 80;
  host[0] = '\0';
  p = p ? p + 3 : url;
  end = p + strcspn(p, "/?#");
  at = memchr(p, '@', (size_t)(end - p));
  if (at)
    p = at + 1;
  if (*p == '[') {
    const char *close = memchr(p, ']', (size_t)(end - p));

    if (!close)
      return;
    n = (size_t)(close - p - 1);
    if (n >= hostlen)
      n = hostlen - 1;
    memcpy(host, p + 1, n);
    host[n] = '\0';
    if (close[1] == ':')
      *port = strtol(close + 2, NULL, 10);
  } else {
    colon = memchr(p, ':', (size_t)(end - p));
    n = (size_t)((colon ? colon : end) - p);
    if (n >= hostlen)
      n = hostlen - 1;
    memcpy(host, p, n);
    host[n] = '\0';
    if (colon)
      *port = strtol(colon + 1, NULL, 10);
  }
  for (n = 0; host[n]; n++)
    host[n] = (char)tolower((unsigned char)host[n]);
  n = strlen(host);
  if (n && host[n - 1] == '.')
    host[n - 1] = '\0';
}

/* 1 when IPv4 @p host lies in "a.b.c.d/bits" @p cidr. */
static int in_cidr(const char *host, const char *cidr)
{
  char net[64];
  const char *slash = strchr(cidr, '/');
  struct in_addr h, n;
  long bits;
  uint32_t mask;
  size_t len;

  if (!slash)
    return 0;
  len = (size_t)(slash - cidr);
  if (len >= sizeof(net))
    return 0;
  memcpy(net, cidr, len);
  net[len] = '\0';
  bits = strtol(slash + 1, NULL, 10);
  if (bits < 0 || bits > 32 || inet_pton(AF_INET, host, &h) != 1 ||
      inet_pton(AF_INET, net, &n) != 1)
    return 0;
  mask = bits == 0 ? 0 : htonl(0xffffffffu << (32 - bits));
  return (h.s_addr & mask) == (n.s_addr & mask);
}

/* One no_proxy entry (trimmed, lowercased) against host and port. */
static int entry_matches(char *entry, const char *host, long port)
{
  char *p = entry, *colon;
  long want = -1;
  size_t hl, el;

  if (!strcmp(p, "*"))
    return 1;
  if (strchr(p, '/'))
    return in_cidr(host, p);
  if (*p == '[') {
    char *close = strchr(p, ']');

    if (!close)
      return 0;
    *close = '\0';
    if (close[1] == ':')
      want = strtol(close + 2, NULL, 10);
    p++;
  } else if ((colon = strrchr(p, ':')) && !strchr(colon + 1, ':') &&
             strchr(p, ':') == colon) {
    /* "host:port"; a bare IPv6 address has several colons */
    *colon = '\0';
    want = strtol(colon + 1, NULL, 10);
  }
  if (!strncmp(p, "*.", 2))
    p += 2;
  else if (*p == '.')
    p++;
  el = strlen(p);
  if (el && p[el - 1] == '.')
    p[--el] = '\0';
  if (!el || (want >= 0 && want != port))
    return 0;
  hl = strlen(host);
  if (hl == el)
    return strcmp(host, p) == 0;
  return hl > el && host[hl - el - 1] == '.' &&
         strcmp(host + hl - el, p) == 0;
}

int cairn_http_no_proxy_match(const char *list, const char *url)
{
  char host[256], entry[256];
  const char *p = list;
  long port;
  size_t n, i;

  if (!list || !*list)
    return 0;
  url_host(url, host, sizeof(host), &port);
  while (*p) {
    while (*p == ',' || isspace((unsigned char)*p))
      p++;
    n = strcspn(p, ",");
    if (!n)
      break;
    if (n < sizeof(entry)) {
      memcpy(entry, p, n);
      entry[n] = '\0';
      while (n && isspace((unsigned char)entry[n - 1]))
        entry[--n] = '\0';
      for (i = 0; entry[i]; i++)
        entry[i] = (char)tolower((unsigned char)entry[i]);
      if (*entry && entry_matches(entry, host, port))
        return 1;
    }
    p += strcspn(p, ",");
  }
  return 0;
}

void cairn_http_proxy_redact(char *out, size_t outlen, const char *proxy)
{
  const char *start, *at, *end;

  if (!outlen)
    return;
  if (!proxy) {
    snprintf(out, outlen, "(none)");
    return;
  }
  start = strstr(proxy, "://");
  start = start ? start + 3 : proxy;
  end = start + strcspn(start, "/?#");
  at = memchr(start, '@', (size_t)(end - start));
  if (!at) {
    snprintf(out, outlen, "%s", proxy);
    return;
  }
  snprintf(out, outlen, "%.*s***%s", (int)(start - proxy), proxy, at);
}

static int known_scheme(const char *proxy, size_t n)
{
  static const char *const schemes[] = {"http", "https", "socks4",
                                        "socks4a", "socks5", "socks5h"};
  size_t i;

  for (i = 0; i < sizeof(schemes) / sizeof(*schemes); i++)
    if (strlen(schemes[i]) == n && strncasecmp(proxy, schemes[i], n) == 0)
      return 1;
  return 0;
}

int cairn_http_proxy_for(char **out, const char **which, const char *url,
                         cairn_http_getenv_fn get, void *data)
{
  static const char *const https_vars[] = {"https_proxy", "HTTPS_PROXY",
                                           "all_proxy", "ALL_PROXY", NULL};
  static const char *const http_vars[] = {"http_proxy", "HTTP_PROXY",
                                          "all_proxy", "ALL_PROXY", NULL};
  static const char *const http_cgi_vars[] = {"http_proxy", "all_proxy",
                                              "ALL_PROXY", NULL};
  static const char *const no_vars[] = {"no_proxy", "NO_PROXY", NULL};
  const char *const *names;
  const char *proxy, *name = NULL, *no_name = NULL, *list, *sep;

  *out = NULL;
  if (which)
    *which = NULL;
  if (!get)
    get = process_env;
  if (strncasecmp(url, "https://", 8) == 0)
    names = https_vars;
  else if (strncasecmp(url, "http://", 7) == 0)
    names = get("REQUEST_METHOD", data) ? http_cgi_vars : http_vars;
  else
    return 0;

  if (!(proxy = first_set(get, data, names, &name)))
    return 0;
  list = first_set(get, data, no_vars, &no_name);
  if (list && cairn_http_no_proxy_match(list, url))
    return 0;

  sep = strstr(proxy, "://");
  if (sep && !known_scheme(proxy, (size_t)(sep - proxy)))
    return cairn__error(CAIRN_EINVAL,
                        "the proxy in %s has a scheme cairn cannot use; "
                        "give http://, https://, socks4://, socks4a://, "
                        "socks5:// or socks5h://", name);
  *out = sep ? cairn__strdup(proxy) : cairn__sprintf("http://%s", proxy);
  if (!*out)
    return CAIRN_ENOMEM;
  if (which)
    *which = name;
  return 0;
}

/*
 * Azure accounts and their credentials: connection strings, keys, SAS
 * tokens and the environment.
 */
#include "azure/account.h"
#include "azure/auth.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"

#define DEFAULT_SUFFIX "core.windows.net"
#define MIN_KEY_BYTES 16

#define ENV_VARIABLES                                                      \
  "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME (or "   \
  "AZURE_STORAGE_ACCOUNT) with AZURE_STORAGE_ACCOUNT_KEY (or "            \
  "AZURE_STORAGE_KEY), AZURE_STORAGE_SAS_TOKEN or a token source such "   \
  "as AZURE_STORAGE_CLIENT_ID, AZURE_STORAGE_CLIENT_SECRET and "          \
  "AZURE_STORAGE_TENANT_ID, and optionally AZURE_STORAGE_BLOB_ENDPOINT"

static const char *auth_word(cairn_azure_auth auth)
{
  switch (auth) {
  case CAIRN_AZURE_AUTH_SHARED_KEY:
    return "shared key";
  case CAIRN_AZURE_AUTH_SAS:
    return "SAS";
  case CAIRN_AZURE_AUTH_BEARER:
    return "bearer token";
  default:
    return "anonymous";
  }
}

void cairn_azure_account_free(cairn_azure_account *account)
{
  if (!account)
    return;
  free(account->name);
  free(account->endpoint);
  if (account->key) {
    memset(account->key, 0, account->key_len);
    free(account->key);
  }
  if (account->sas) {
    memset(account->sas, 0, strlen(account->sas));
    free(account->sas);
  }
  cairn__azure_tokens_free(account->tokens);
  free(account->source);
  free(account);
}

const char *cairn_azure_account_name(const cairn_azure_account *account)
{
  return account->name;
}

const char *cairn_azure_account_endpoint(const cairn_azure_account *account)
{
  return account->endpoint;
}

cairn_azure_auth cairn_azure_account_auth(const cairn_azure_account *account)
{
  return account->auth;
}

const char *cairn_azure_account_source(const cairn_azure_account *account)
{
  return account->source;
}

/* Set the source to "<where> (<auth>)<tail>". */
static int set_source_tail(cairn_azure_account *account, const char *where,
                           const char *tail)
{
  char *s;

  if (account->tokens)
    s = cairn__sprintf("%s (%s: %s)%s", where, auth_word(account->auth),
                       cairn__azure_tokens_method(account->tokens), tail);
  else
    s = cairn__sprintf("%s (%s)%s", where, auth_word(account->auth), tail);
  if (!s)
    return CAIRN_ENOMEM;
  free(account->source);
  account->source = s;
  return 0;
}

static int set_source(cairn_azure_account *account, const char *where)
{
  return set_source_tail(account, where, "");
}

/* Trim surrounding whitespace. */
static void trim(const char **s, size_t *len)
{
  while (*len && isspace((unsigned char)**s)) {
    (*s)++;
    (*len)--;
  }
  while (*len && isspace((unsigned char)(*s)[*len - 1]))
    (*len)--;
}

/*
 * Decode and check an account key; the key never enters a message.
 * Surrounding whitespace, such as the newline of a file the key was read
 * from, is not part of it; whitespace inside is an error.
 */
static int decode_key(unsigned char **out, size_t *outlen, const char *key)
{
  size_t len = strlen(key);
  char *bare;
  int error;

  trim(&key, &len);
  if (!(bare = cairn__strndup(key, len)))
    return CAIRN_ENOMEM;
  error = cairn_base64_decode(out, outlen, bare);
  free(bare);
  if (error == CAIRN_ENOMEM)
    return error;
  if (error < 0)
    return cairn__error(CAIRN_EINVAL, "the account key is not valid base64: "
                        "copy it whole, with its trailing '=' padding and "
                        "no spaces");
  if (*outlen < MIN_KEY_BYTES) {
    size_t n = *outlen;

    free(*out);
    *out = NULL;
    *outlen = 0;
    return cairn__error(CAIRN_EINVAL, "the account key is not valid base64 "
                        "of an account key: it decodes to %zu bytes (an "
                        "Azure key has 64); copy it whole", n);
  }
  return 0;
}

static int check_name(const char *name)
{
  size_t len = strlen(name), i;

  for (i = 0; i < len; i++)
    if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]))
      break;
  if (len < 3 || len > 24 || i < len)
    return cairn__error(CAIRN_EINVAL, "account name '%s' is not valid: 3 "
                        "to 24 lowercase letters and digits", name);
  return 0;
}

/* Copy @p endpoint without trailing '/'; it must be http(s)://host. */
static int set_endpoint(cairn_azure_account *account, const char *endpoint)
{
  size_t len = strlen(endpoint);
  const char *host;

  while (len > 0 && endpoint[len - 1] == '/')
    len--;
  if (cairn__starts_with(endpoint, "https://"))
    host = endpoint + 8;
  else if (cairn__starts_with(endpoint, "http://"))
    host = endpoint + 7;
  else
    host = NULL;
  if (host && memchr(host, '@', strcspn(host, "/")))
    return cairn__error(CAIRN_EINVAL, "blob endpoint %.*s***%s is not "
                        "valid: it carries a user name or password, which "
                        "Azure Storage never takes; remove them",
                        (int)(host - endpoint), endpoint,
                        (const char *)memchr(host, '@', strcspn(host, "/")));
  if (!host || host >= endpoint + len || *host == '/' ||
      strcspn(endpoint, "?# \t") < len)
    return cairn__error(CAIRN_EINVAL, "blob endpoint '%.*s' is not valid: "
                        "expected http(s)://HOST[:PORT][/ACCOUNT]",
                        (int)strcspn(endpoint, "?#"), endpoint);
  free(account->endpoint);
  account->endpoint = cairn__strndup(endpoint, len);
  return account->endpoint ? 0 : CAIRN_ENOMEM;
}

/*
 * The account name an endpoint implies: the first host label of
 * "ACCOUNT.blob.SUFFIX", else the first path segment (path style, as
 * Azurite uses), else "".
 */
static char *name_from_endpoint(const char *endpoint)
{
  const char *host = strstr(endpoint, "://"), *path, *dot;
  size_t host_len;

  host = host ? host + 3 : endpoint;
  host_len = strcspn(host, "/");
  path = host + host_len;
  dot = memchr(host, '.', host_len);
  if (dot && (size_t)(dot - host) + 6 < host_len &&
      strncmp(dot, ".blob.", 6) == 0)
    return cairn__strndup(host, (size_t)(dot - host));
  if (*path == '/' && path[1])
    return cairn__strndup(path + 1, strcspn(path + 1, "/"));
  return cairn__strdup("");
}

static int account_new(cairn_azure_account **out)
{
  *out = cairn__calloc(1, sizeof(**out));
  return *out ? 0 : CAIRN_ENOMEM;
}

int cairn_azure_account_from_key(cairn_azure_account **out,
                                 const char *name, const char *key_base64,
                                 const char *endpoint)
{
  cairn_azure_account *a;
  int error;

  *out = NULL;
  if (!name || !*name)
    return cairn__error(CAIRN_EINVAL, "an account key needs the account "
                        "name");
  if (!key_base64 || !*key_base64)
    return cairn__error(CAIRN_EINVAL, "the account key is empty");
  if ((error = check_name(name)) < 0 || (error = account_new(&a)) < 0)
    return error;

  a->auth = CAIRN_AZURE_AUTH_SHARED_KEY;
  error = decode_key(&a->key, &a->key_len, key_base64);
  if (!error)
    a->name = cairn__strdup(name);
  if (!error && !a->name)
    error = CAIRN_ENOMEM;
  if (!error && endpoint) {
    error = set_endpoint(a, endpoint);
  } else if (!error) {
    a->endpoint = cairn__sprintf("https://%s.blob." DEFAULT_SUFFIX, name);
    error = a->endpoint ? 0 : CAIRN_ENOMEM;
  }
  if (!error)
    error = set_source(a, "account key");
  if (error < 0) {
    cairn_azure_account_free(a);
    return error;
  }
  *out = a;
  return 0;
}

/*
 * A SAS (normalised) must carry a signature that is base64: anything
 * else is a paste gone wrong, which the service would answer with a
 * puzzling error.  The token never enters the message.
 */
static int check_sas(const char *sas)
{
  const char *sig = NULL, *p;
  unsigned char *raw = NULL;
  char *decoded;
  size_t len, rawlen;
  int error;

  if (!*sas)
    return cairn__error(CAIRN_EINVAL, "the SAS token is empty");
  for (p = sas; *p; p += strcspn(p, "&"), p += *p == '&')
    if (strncmp(p, "sig=", 4) == 0)
      sig = p + 4;
  if (!sig)
    return cairn__error(CAIRN_EINVAL, "the SAS token has no signature "
                        "(sig=...): copy the whole token");
  len = strcspn(sig, "&");
  if (!(decoded = cairn__azure_sas_value(sig, len)))
    return CAIRN_ENOMEM;
  error = cairn_base64_decode(&raw, &rawlen, decoded);
  free(decoded);
  free(raw);
  if (error == CAIRN_ENOMEM)
    return error;
  if (error < 0 || rawlen != 32)
    return cairn__error(CAIRN_EINVAL, "the signature (sig=...) of the SAS "
                        "token is not the base64 of an HMAC-SHA256: copy "
                        "the whole token, as the portal or the CLI gives "
                        "it");
  return 0;
}

int cairn_azure_account_from_sas(cairn_azure_account **out,
                                 const char *name, const char *sas,
                                 const char *endpoint)
{
  cairn_azure_account *a;
  int error = 0;

  *out = NULL;
  if (sas && *sas == '?')
    sas++;
  if (!sas || !*sas)
    return cairn__error(CAIRN_EINVAL, "the SAS token is empty");
  if (strncasecmp(sas, "http://", 7) == 0 ||
      strncasecmp(sas, "https://", 8) == 0)
    return cairn__error(CAIRN_EINVAL, "the SAS token is a whole URL: give "
                        "only the part after its '?' (sv=...&sig=...), "
                        "and the account or endpoint apart");
  if (!endpoint && (!name || !*name))
    return cairn__error(CAIRN_EINVAL, "a SAS token needs the account name "
                        "or the blob endpoint");
  if (name && *name && (error = check_name(name)) < 0)
    return error;
  if ((error = account_new(&a)) < 0)
    return error;

  a->auth = CAIRN_AZURE_AUTH_SAS;
  a->sas = cairn__azure_sas_normalise(sas);
  if (!a->sas)
    error = CAIRN_ENOMEM;
  else
    error = check_sas(a->sas);
  if (!error && endpoint) {
    error = set_endpoint(a, endpoint);
  } else if (!error) {
    a->endpoint = cairn__sprintf("https://%s.blob." DEFAULT_SUFFIX, name);
    error = a->endpoint ? 0 : CAIRN_ENOMEM;
  }
  if (!error) {
    a->name = name && *name ? cairn__strdup(name)
                            : name_from_endpoint(a->endpoint);
    error = a->name ? 0 : CAIRN_ENOMEM;
  }
  if (!error)
    error = set_source(a, "SAS token");
  if (error < 0) {
    cairn_azure_account_free(a);
    return error;
  }
  *out = a;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Bearer tokens                                                       */
/* ------------------------------------------------------------------ */

static int https_only(const char *endpoint)
{
  if (cairn__starts_with(endpoint, "https://"))
    return 0;
  return cairn__error(CAIRN_EINVAL, "bearer tokens go over https only, and "
                      "the blob endpoint %.*s is not https: use its https "
                      "address", (int)strcspn(endpoint, "?#"), endpoint);
}

/*
 * An account of @p name reached with the tokens of @p tokens (taken
 * over, also on failure).  Tokens go over https only.
 */
static int bearer_account(cairn_azure_account **out, const char *name,
                          const char *endpoint, cairn__azure_tokens *tokens,
                          const char *where)
{
  cairn_azure_account *a = NULL;
  int error;

  *out = NULL;
  if (!name || !*name)
    error = cairn__error(CAIRN_EINVAL, "a token credential needs the "
                         "account name");
  else if ((error = check_name(name)) == 0)
    error = account_new(&a);
  if (error < 0) {
    cairn__azure_tokens_free(tokens);
    return error;
  }
  a->auth = CAIRN_AZURE_AUTH_BEARER;
  a->tokens = tokens;
  if (!(a->name = cairn__strdup(name)))
    error = CAIRN_ENOMEM;
  else if (endpoint)
    error = set_endpoint(a, endpoint);
  else if (!(a->endpoint = cairn__sprintf("https://%s.blob." DEFAULT_SUFFIX,
                                          name)))
    error = CAIRN_ENOMEM;
  if (!error)
    error = https_only(a->endpoint);
  if (!error)
    error = set_source(a, where);
  if (error < 0) {
    cairn_azure_account_free(a);
    return error;
  }
  *out = a;
  return 0;
}

int cairn_azure_account_from_service_principal(
    cairn_azure_account **out, const char *name, const char *tenant_id,
    const char *client_id, const char *client_secret, const char *endpoint)
{
  cairn__token_config c;
  cairn__azure_tokens *tokens;
  int error;

  *out = NULL;
  memset(&c, 0, sizeof(c));
  c.kind = CAIRN__TOKEN_CLIENT_SECRET;
  c.tenant_id = tenant_id;
  c.client_id = client_id;
  c.client_secret = client_secret;
  if ((error = cairn__azure_tokens_new(&tokens, &c)) < 0)
    return error;
  return bearer_account(out, name, endpoint, tokens, "service principal");
}

int cairn_azure_account_from_token_chain(cairn_azure_account **out,
                                         const char *name,
                                         const char *endpoint)
{
  cairn__azure_tokens *tokens;
  char *where;
  int error;

  *out = NULL;
  if ((error = cairn__azure_tokens_from_env(&tokens, &where)) < 0)
    return error;
  error = bearer_account(out, name, endpoint, tokens, where);
  free(where);
  return error;
}

int cairn_azure_account_from_token(cairn_azure_account **out,
                                   const char *name, const char *token,
                                   int64_t expires_at, const char *endpoint)
{
  cairn__token_config c;
  cairn__azure_tokens *tokens;
  int error;

  *out = NULL;
  memset(&c, 0, sizeof(c));
  c.kind = CAIRN__TOKEN_STATIC;
  c.token = token;
  c.expires_at = expires_at;
  if ((error = cairn__azure_tokens_new(&tokens, &c)) < 0)
    return error;
  return bearer_account(out, name, endpoint, tokens, "access token");
}

int cairn_azure_account_token(const cairn_azure_account *account,
                              char **token, int64_t *expires_at)
{
  *token = NULL;
  if (account->auth != CAIRN_AZURE_AUTH_BEARER || !account->tokens)
    return cairn__error(CAIRN_EINVAL, "account '%s' uses no tokens",
                        account->name);
  return cairn__azure_tokens_get(account->tokens, token, expires_at, NULL);
}

/* ------------------------------------------------------------------ */
/* Connection strings                                                  */
/* ------------------------------------------------------------------ */

enum {
  CS_ACCOUNT_NAME,
  CS_ACCOUNT_KEY,
  CS_BLOB_ENDPOINT,
  CS_ENDPOINT_SUFFIX,
  CS_PROTOCOL,
  CS_SAS,
  CS_DEV_STORAGE,
  CS_DEV_PROXY,
  CS_COUNT
};

static const char *const cs_keys[CS_COUNT] = {
  "AccountName", "AccountKey", "BlobEndpoint", "EndpointSuffix",
  "DefaultEndpointsProtocol", "SharedAccessSignature",
  "UseDevelopmentStorage", "DevelopmentStorageProxyUri"};

/* What the names of connection string keys are made of. */
#define CS_KEY_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* Drop one pair of enclosing double quotes. */
static void unquote(const char **s, size_t *len)
{
  if (*len >= 2 && (*s)[0] == '"' && (*s)[*len - 1] == '"') {
    (*s)++;
    *len -= 2;
  }
}

/*
 * A segment without '=' is named by its place and, when it starts with a
 * known key, by that key: its text may be a key or a signature.
 */
static int cs_no_equals(const char *k, size_t klen, int nth)
{
  size_t i, n;

  for (i = 0; i < CS_COUNT; i++) {
    n = strlen(cs_keys[i]);
    if (klen >= n && strncasecmp(cs_keys[i], k, n) == 0)
      return cairn__error(CAIRN_EINVAL, "connection string segment %d "
                          "starts with '%s' but has no '=': write it as "
                          "%s=VALUE, segments separated by ';'", nth,
                          cs_keys[i], cs_keys[i]);
  }
  return cairn__error(CAIRN_EINVAL, "connection string segment %d has no "
                      "'=': expected KEY=VALUE pairs separated by ';'", nth);
}

/* Split a connection string into the known values (new strings). */
static int cs_split(char *values[CS_COUNT], const char *cs)
{
  int nth = 0;

  while (*cs) {
    size_t seg = strcspn(cs, ";"), klen, vlen, i;
    const char *eq = memchr(cs, '=', seg), *k = cs, *v;

    if (eq) {
      klen = (size_t)(eq - cs);
      v = eq + 1;
      vlen = seg - klen - 1;
      trim(&k, &klen);
      trim(&v, &vlen);
      unquote(&v, &vlen);
      for (i = 0; i < CS_COUNT; i++)
        if (strlen(cs_keys[i]) == klen &&
            strncasecmp(cs_keys[i], k, klen) == 0)
          break;
      if (i < CS_COUNT) {
        free(values[i]);
        values[i] = cairn__strndup(v, vlen);
        if (!values[i])
          return CAIRN_ENOMEM;
      } else if (strspn(k, CS_KEY_CHARS) >= klen) {
        log_debug("azure", "connection string: ignoring '%.*s'", (int)klen,
                  k);
      } else {
        /* Not a key name: perhaps a key or signature with a typo. */
        log_debug("azure", "connection string: ignoring segment %d",
                  nth + 1);
      }
    } else {
      klen = seg;
      trim(&k, &klen);
      if (klen)
        return cs_no_equals(k, klen, nth + 1);
    }
    nth++;
    cs += seg;
    if (*cs == ';')
      cs++;
  }
  return 0;
}

/* The emulator endpoint, through DevelopmentStorageProxyUri if given. */
static char *dev_endpoint(const char *proxy)
{
  const char *sep, *scheme = "http", *host = proxy;
  int scheme_len = 4;

  if (!proxy || !*proxy)
    return cairn__strdup(CAIRN_AZURE_DEV_ENDPOINT);
  sep = strstr(proxy, "://");
  if (sep) {
    scheme = proxy;
    scheme_len = (int)(sep - proxy);
    host = sep + 3;
  }
  return cairn__sprintf("%.*s://%.*s:10000/" CAIRN_AZURE_DEV_ACCOUNT,
                        scheme_len, scheme, (int)strcspn(host, ":/?#"),
                        host);
}

static int cs_dev_storage(cairn_azure_account **out, char *v[CS_COUNT])
{
  char *endpoint = dev_endpoint(v[CS_DEV_PROXY]);
  int error;

  if (!endpoint)
    return CAIRN_ENOMEM;
  error = cairn_azure_account_from_key(out, CAIRN_AZURE_DEV_ACCOUNT,
                                       CAIRN_AZURE_DEV_KEY, endpoint);
  free(endpoint);
  return error;
}

/* The endpoint from BlobEndpoint, else PROTOCOL://NAME.blob.SUFFIX. */
static char *cs_endpoint(char *v[CS_COUNT])
{
  const char *suffix = v[CS_ENDPOINT_SUFFIX];
  const char *proto = v[CS_PROTOCOL];

  if (v[CS_BLOB_ENDPOINT])
    return cairn__strdup(v[CS_BLOB_ENDPOINT]);
  if (!v[CS_ACCOUNT_NAME]) {
    cairn__error(CAIRN_EINVAL, "connection string has neither AccountName "
                 "nor BlobEndpoint");
    return NULL;
  }
  if (!suffix || !*suffix)
    suffix = DEFAULT_SUFFIX;
  while (*suffix == '.')
    suffix++;
  if (!proto || !*proto) {
    proto = "https";
  } else if (strcasecmp(proto, "https") && strcasecmp(proto, "http")) {
    cairn__error(CAIRN_EINVAL, "DefaultEndpointsProtocol '%s' is not "
                 "valid: use https or http", proto);
    return NULL;
  }
  return cairn__sprintf("%s://%s.blob.%s", strcasecmp(proto, "http") ?
                        "https" : "http", v[CS_ACCOUNT_NAME], suffix);
}

static int cs_build(cairn_azure_account **out, char *v[CS_COUNT])
{
  char *endpoint;
  int error;

  if (v[CS_DEV_STORAGE]) {
    if (strcasecmp(v[CS_DEV_STORAGE], "true") == 0)
      return cs_dev_storage(out, v);
    if (strcasecmp(v[CS_DEV_STORAGE], "false"))
      return cairn__error(CAIRN_EINVAL, "UseDevelopmentStorage must be "
                          "true or false");
  }
  if (!v[CS_ACCOUNT_KEY] && !v[CS_SAS])
    return cairn__error(CAIRN_EAUTH, "connection string has neither "
                        "AccountKey nor SharedAccessSignature; add one, or "
                        "use UseDevelopmentStorage=true for Azurite");
  if (v[CS_ACCOUNT_KEY] && !v[CS_ACCOUNT_NAME])
    return cairn__error(CAIRN_EINVAL, "connection string has AccountKey "
                        "but no AccountName");

  endpoint = cs_endpoint(v);
  if (!endpoint)
    return cairn__error_code() ? cairn__error_code() : CAIRN_ENOMEM;
  if (v[CS_ACCOUNT_KEY]) {
    if (v[CS_SAS])
      log_warn("azure", "connection string has both AccountKey and "
               "SharedAccessSignature; the account key is used");
    error = cairn_azure_account_from_key(out, v[CS_ACCOUNT_NAME],
                                         v[CS_ACCOUNT_KEY], endpoint);
  } else {
    error = cairn_azure_account_from_sas(out, v[CS_ACCOUNT_NAME],
                                         v[CS_SAS], endpoint);
  }
  free(endpoint);
  return error;
}

int cairn_azure_account_from_connection_string(
    cairn_azure_account **out, const char *connection_string)
{
  char *values[CS_COUNT] = {NULL};
  size_t i;
  int error;

  *out = NULL;
  if (!connection_string)
    return cairn__error(CAIRN_EINVAL, "the connection string is empty");
  error = cs_split(values, connection_string);
  if (!error)
    error = cs_build(out, values);
  if (!error)
    error = set_source(*out, "connection string");
  for (i = 0; i < CS_COUNT; i++) {
    if (values[i])
      memset(values[i], 0, strlen(values[i]));
    free(values[i]);
  }
  if (error < 0) {
    cairn_azure_account_free(*out);
    *out = NULL;
  }
  return error;
}

/* ------------------------------------------------------------------ */
/* The environment                                                     */
/* ------------------------------------------------------------------ */

/* The first of two variables that is set; its name in *which. */
static const char *env_either(const char *a, const char *b,
                              const char **which)
{
  const char *v = cairn_getenv(a);

  *which = a;
  if (!v) {
    v = cairn_getenv(b);
    *which = b;
  }
  return v;
}

/* Warn about service principal variables that a key or a SAS shadows. */
static void warn_unused_tokens(const char *used)
{
  if (cairn_getenv("AZURE_STORAGE_CLIENT_ID") ||
      cairn_getenv("AZURE_STORAGE_CLIENT_SECRET"))
    log_warn("azure", "%s is used; AZURE_STORAGE_CLIENT_ID and "
             "AZURE_STORAGE_CLIENT_SECRET are ignored", used);
}

static int env_account(cairn_azure_account **out, const char *endpoint,
                       cairn_buf *where)
{
  const char *name_var, *key_var, *name, *key, *sas, *cs;
  cairn__azure_tokens *tokens;
  int error;

  cs = cairn_getenv("AZURE_STORAGE_CONNECTION_STRING");
  name = env_either("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT",
                    &name_var);
  key = env_either("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_KEY",
                   &key_var);
  sas = cairn_getenv("AZURE_STORAGE_SAS_TOKEN");

  if (cs) {
    if (name || key || sas)
      log_warn("azure", "AZURE_STORAGE_CONNECTION_STRING is set; the other "
               "AZURE_STORAGE_* credentials are ignored");
    else
      warn_unused_tokens("AZURE_STORAGE_CONNECTION_STRING");
    error = cairn_azure_account_from_connection_string(out, cs);
    if (error < 0)
      return cairn__error_prefix("AZURE_STORAGE_CONNECTION_STRING");
    return cairn_buf_puts(where, "AZURE_STORAGE_CONNECTION_STRING");
  }
  if (name && key) {
    if (sas)
      log_warn("azure", "%s and %s are set; AZURE_STORAGE_SAS_TOKEN is "
               "ignored", name_var, key_var);
    warn_unused_tokens(key_var);
    error = cairn_azure_account_from_key(out, name, key, endpoint);
    if (error < 0)
      return cairn__error_prefix("%s/%s", name_var, key_var);
    return cairn_buf_printf(where, "%s + %s", name_var, key_var);
  }
  if (sas && (name || endpoint)) {
    warn_unused_tokens("AZURE_STORAGE_SAS_TOKEN");
    error = cairn_azure_account_from_sas(out, name, sas, endpoint);
    if (error < 0)
      return cairn__error_prefix("AZURE_STORAGE_SAS_TOKEN");
    if (name)
      return cairn_buf_printf(where, "%s + AZURE_STORAGE_SAS_TOKEN",
                              name_var);
    return cairn_buf_puts(where, "AZURE_STORAGE_SAS_TOKEN");
  }
  if (name) {
    char *chain;

    error = cairn__azure_tokens_from_env(&tokens, &chain);
    if (error < 0)
      return cairn__error_prefix("%s is set without a key or a SAS, so "
                                 "it needs tokens", name_var);
    error = cairn_buf_printf(where, "%s + %s", name_var, chain);
    free(chain);
    if (!error)
      error = bearer_account(out, name, endpoint, tokens, "");
    else
      cairn__azure_tokens_free(tokens);
    return error;
  }
  if (key || sas)
    return cairn__error(CAIRN_EAUTH, "%s is set but AZURE_STORAGE_ACCOUNT_"
                        "NAME (or AZURE_STORAGE_ACCOUNT) is not: set it",
                        key ? key_var : "AZURE_STORAGE_SAS_TOKEN");
  return cairn__error(CAIRN_EAUTH, "no Azure credentials in the "
                      "environment: set " ENV_VARIABLES);
}

int cairn_azure_account_from_env(cairn_azure_account **out)
{
  const char *endpoint = cairn_getenv("AZURE_STORAGE_BLOB_ENDPOINT");
  cairn_buf where = CAIRN_BUF_INIT;
  cairn_azure_account *a = NULL;
  int error;

  *out = NULL;
  error = cairn_buf_puts(&where, "environment: ");
  if (!error)
    error = env_account(&a, endpoint, &where);
  if (!error && endpoint) {
    error = set_endpoint(a, endpoint);
    if (error < 0)
      cairn__error_prefix("AZURE_STORAGE_BLOB_ENDPOINT");
  }
  if (!error)
    error = set_source_tail(a, cairn_buf_cstr(&where), endpoint ?
                            ", endpoint AZURE_STORAGE_BLOB_ENDPOINT" : "");
  cairn_buf_dispose(&where);
  if (error < 0) {
    cairn_azure_account_free(a);
    return error;
  }
  *out = a;
  return 0;
}

int cairn_azure_account_set_source(cairn_azure_account *account,
                                   const char *where)
{
  return set_source(account, where);
}

int cairn_azure_account_set_endpoint(cairn_azure_account *account,
                                     const char *endpoint)
{
  int error;

  if (account->auth == CAIRN_AZURE_AUTH_BEARER &&
      (error = https_only(endpoint)) < 0)
    return error;
  return set_endpoint(account, endpoint);
}

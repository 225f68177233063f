/*
 * Service connectors: the Azure connector type with its auth methods and
 * resource types, the check of what a user gives, and saving and loading
 * (the secret fields go to a secret of their own, encrypted like every
 * other secret).  Using a connector is in connector_use.c.
 */
#include "stack/connector.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/util.h"

/* ------------------------------------------------------------------ */
/* The tables                                                          */
/* ------------------------------------------------------------------ */

static const char *const none[] = {NULL};
static const char *const endpoint_only[] = {"blob_endpoint", NULL};

static const char *const implicit_required[] = {"storage_account", NULL};

static const char *const sp_required[] = {"tenant_id", "client_id",
                                          "client_secret",
                                          "storage_account", NULL};
static const char *const sp_secret[] = {"client_secret", NULL};

static const char *const token_required[] = {"token", "storage_account",
                                             NULL};
static const char *const token_optional[] = {"expires_at", "blob_endpoint",
                                             NULL};
static const char *const token_secret[] = {"token", NULL};

static const char *const key_required[] = {"account_name", "account_key",
                                           NULL};
static const char *const key_secret[] = {"account_key", NULL};

static const char *const sas_required[] = {"account_name", "sas_token",
                                           NULL};
static const char *const sas_secret[] = {"sas_token", NULL};

static const char *const cs_required[] = {"connection_string", NULL};
static const char *const cs_secret[] = {"connection_string", NULL};

static const cairn_connector_method methods[] = {
  {"implicit", "Azure implicit authentication", CAIRN_CONNECTOR_TOKEN,
   implicit_required, endpoint_only, none, 1, 0,
   "Bearer tokens from whatever the environment of the process that uses "
   "the connector offers, in cairn's fixed order: AZURE_STORAGE_CLIENT_ID "
   "and friends, AZURE_CLIENT_ID with a secret, a certificate or a "
   "federated token, a managed identity, the Azure CLI login.  Nothing is "
   "stored but the account, so each machine needs credentials of its own; "
   "it is off unless " CAIRN_CONNECTOR_IMPLICIT_ENV " is set where cairn "
   "runs."},
  {"service-principal", "Azure service principal", CAIRN_CONNECTOR_TOKEN,
   sp_required, endpoint_only, sp_secret, 0, 0,
   "An Entra ID application that signs in with a client secret; stores "
   "get bearer tokens for the storage account, renewed before they "
   "expire.  The principal needs a data role on the account, such as "
   "Storage Blob Data Contributor."},
  {"access-token", "Azure access token", CAIRN_CONNECTOR_TOKEN,
   token_required, token_optional, token_secret, 0, 1,
   "One bearer token for https://storage.azure.com, as `az account "
   "get-access-token --resource https://storage.azure.com/` prints it.  It "
   "cannot be renewed: the connector expires with it (expires_at, "
   "--expiration-seconds, or the token's own expiry)."},
  {"account-key", "Azure storage account key", CAIRN_CONNECTOR_KEY,
   key_required, endpoint_only, key_secret, 0, 0,
   "The account name and one of its two keys.  Stores never get the key: "
   "each gets a SAS for its own container only, valid for "
   "--expiration-seconds (default 3600) and renewed before it expires."},
  {"sas-token", "Azure shared access signature", CAIRN_CONNECTOR_SAS,
   sas_required, endpoint_only, sas_secret, 0, 0,
   "An account or container SAS.  Stores get it as it is, so give it no "
   "more than they need; the connector expires with it (its se)."},
  {"connection-string", "Azure storage connection string",
   CAIRN_CONNECTOR_CONNSTR, cs_required, endpoint_only, cs_secret, 0, 0,
   "A connection string with AccountName and AccountKey, or a "
   "SharedAccessSignature; with a key, stores get a container SAS as with "
   "account-key."},
};

#define METHOD_COUNT (sizeof(methods) / sizeof(methods[0]))

static const cairn_connector_resource resources[] = {
  {CAIRN_RESOURCE_BLOB, "Azure Blob Storage container", 1,
   "az://CONTAINER, abfs://CONTAINER or CONTAINER"},
  {CAIRN_RESOURCE_GENERIC, "Generic Azure resource (the storage account)",
   0, "the storage account's name"},
};

#define RESOURCE_COUNT (sizeof(resources) / sizeof(resources[0]))

const cairn_connector_method *cairn_connector_method_at(size_t i)
{
  return i < METHOD_COUNT ? &methods[i] : NULL;
}

const cairn_connector_method *cairn_connector_method_find(const char *name)
{
  size_t i;

  for (i = 0; name && i < METHOD_COUNT; i++)
    if (strcmp(methods[i].name, name) == 0)
      return &methods[i];
  return NULL;
}

const cairn_connector_resource *cairn_connector_resource_at(size_t i)
{
  return i < RESOURCE_COUNT ? &resources[i] : NULL;
}

const cairn_connector_resource *cairn_connector_resource_find(
    const char *name)
{
  size_t i;

  for (i = 0; name && i < RESOURCE_COUNT; i++)
    if (strcmp(resources[i].name, name) == 0)
      return &resources[i];
  return NULL;
}

static int in_list(const char *const *list, const char *s)
{
  for (; list && *list; list++)
    if (strcmp(*list, s) == 0)
      return 1;
  return 0;
}

int cairn_connector_field_is_secret(const cairn_connector_method *m,
                                    const char *field)
{
  return in_list(m->secret, field);
}

int cairn_connector_field_known(const cairn_connector_method *m,
                                const char *field)
{
  return in_list(m->required, field) || in_list(m->optional, field);
}

int cairn_connector_implicit_enabled(void)
{
  const char *v = cairn_getenv(CAIRN_CONNECTOR_IMPLICIT_ENV);

  return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
               strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0);
}

const char *cairn_connector_resource_types(const cairn_connector *c)
{
  if (c->resource_type && strcmp(c->resource_type, CAIRN_RESOURCE_BLOB) == 0)
    return CAIRN_RESOURCE_BLOB;
  if (c->resource_type &&
      strcmp(c->resource_type, CAIRN_RESOURCE_GENERIC) == 0)
    return CAIRN_RESOURCE_GENERIC;
  return CAIRN_RESOURCE_BLOB ", " CAIRN_RESOURCE_GENERIC;
}

/* "a, b and c" of a NULL-terminated list, into @p b. */
static void join_names(cairn_buf *b, const char *const *list)
{
  size_t n = 0, i;

  while (list && list[n])
    n++;
  for (i = 0; i < n; i++)
    cairn_buf_printf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ",
                     list[i]);
}

/* ------------------------------------------------------------------ */
/* Ids                                                                 */
/* ------------------------------------------------------------------ */

int cairn_connector_container_id(char **out, const char *id)
{
  cairn_azure_uri uri;
  int error;

  *out = NULL;
  if (!id || !*id)
    return cairn__error(CAIRN_EINVAL, "a blob container id is empty: use "
                        "az://CONTAINER, abfs://CONTAINER or CONTAINER");
  if (!strstr(id, "://")) {
    if (cairn_azure_container_name_check(id) < 0)
      return cairn__error_prefix("blob container id '%s' (use "
                                 "az://CONTAINER, abfs://CONTAINER or "
                                 "CONTAINER)", id);
    *out = cairn__sprintf("az://%s", id);
    return *out ? 0 : CAIRN_ENOMEM;
  }
  memset(&uri, 0, sizeof(uri));
  if ((error = cairn_azure_uri_parse(&uri, id)) < 0)
    return cairn__error_prefix("blob container id");
  *out = cairn__sprintf("az://%s", uri.container);
  cairn_azure_uri_dispose(&uri);
  return *out ? 0 : CAIRN_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Drafts                                                              */
/* ------------------------------------------------------------------ */

void cairn_live_connector_dispose(cairn_live_connector *c)
{
  const char *key;
  json_t *v;

  if (!c)
    return;
  cairn_connector_dispose(&c->rec);
  if (c->values) {
    /* The values hold secrets: wipe them before they are freed. */
    json_object_foreach(c->values, key, v) {
      const char *s = json_string_value(v);

      if (s)
        explicit_bzero((char *)s, strlen(s));
    }
    json_decref(c->values);
  }
  memset(c, 0, sizeof(*c));
}

static const char *value(const json_t *values, const char *key)
{
  const char *v = json_string_value(json_object_get(values, key));

  return v && *v ? v : NULL;
}

static int is_uuid(const char *s)
{
  static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  size_t i;

  if (strlen(s) != sizeof(shape) - 1)
    return 0;
  for (i = 0; shape[i]; i++)
    if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
      return 0;
  return 1;
}

/* A tenant: a UUID or a domain name ("contoso.onmicrosoft.com"). */
static int is_tenant(const char *s)
{
  const char *p;

  if (is_uuid(s))
    return 1;
  if (!strchr(s, '.') || *s == '.' || s[strlen(s) - 1] == '.')
    return 0;
  for (p = s; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
      return 0;
  return 1;
}

/* Entra ID names: a client id is a UUID, a tenant a UUID or a domain. */
static int check_ids(const json_t *values)
{
  const char *client = value(values, "client_id");
  const char *tenant = value(values, "tenant_id");

  if (client && !is_uuid(client))
    return cairn__error(CAIRN_EINVAL, "client_id '%s' is not a UUID: give "
                        "the application (client) id of the service "
                        "principal, such as "
                        "00000000-0000-0000-0000-000000000000", client);
  if (tenant && !is_tenant(tenant))
    return cairn__error(CAIRN_EINVAL, "tenant_id '%s' is neither a UUID "
                        "nor a domain name such as contoso.onmicrosoft.com",
                        tenant);
  return 0;
}

/*
 * Set field @p key to the text of @p v without surrounding whitespace:
 * a value read from a file (@FILE) ends in a newline, which no key,
 * token, SAS or name holds.
 */
static int set_trimmed(json_t *values, const char *key, const json_t *v)
{
  const char *s = json_string_value(v), *end;

  if (s)
    s += strspn(s, " \t\r\n");
  if (!s || !*s)
    return cairn__error(CAIRN_EINVAL, "field '%s' is empty: give it a "
                        "value, or leave it out", key);
  end = s + strlen(s);
  while (end > s && strchr(" \t\r\n", end[-1]))
    end--;
  if (json_object_set_new(values, key, json_stringn(s, (size_t)(end - s))))
    return cairn__error_oom();
  return 0;
}

/* The fields given: known to the method, text, none missing. */
static int check_fields(const cairn_connector_method *m, const json_t *given,
                        json_t *values)
{
  cairn_buf names = CAIRN_BUF_INIT;
  const char *const *p;
  const char *key;
  json_t *v;
  int error = 0;

  json_object_foreach((json_t *)given, key, v) {
    if (!cairn_connector_field_known(m, key)) {
      join_names(&names, m->required);
      if (m->optional[0]) {
        cairn_buf_puts(&names, " (required), ");
        join_names(&names, m->optional);
        cairn_buf_puts(&names, " (optional)");
      }
      error = cairn__error(CAIRN_EINVAL, "auth method %s has no field "
                           "'%s': its fields are %s", m->name, key,
                           cairn_buf_cstr(&names));
      goto done;
    }
    if ((error = set_trimmed(values, key, v)) < 0)
      goto done;
  }
  for (p = m->required; *p; p++)
    if (!value(values, *p))
      cairn_buf_printf(&names, "%s--%s", names.size ? ", " : "", *p);
  if (names.size)
    error = cairn__error(CAIRN_EINVAL, "auth method %s needs %s", m->name,
                         cairn_buf_cstr(&names));
done:
  cairn_buf_dispose(&names);
  return error;
}

/* Base64url (no padding) into bytes, as a NUL-terminated string. */
static char *base64url_text(const char *s, size_t len)
{
  cairn_buf b = CAIRN_BUF_INIT;
  unsigned char *raw = NULL;
  size_t rawlen, i;
  char *text = NULL;

  for (i = 0; i < len; i++)
    cairn_buf_putc(&b, s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i]);
  while (b.size % 4)
    cairn_buf_putc(&b, '=');
  if (cairn_base64_decode(&raw, &rawlen, cairn_buf_cstr(&b)) == 0) {
    text = cairn__strndup((const char *)raw, rawlen);
    free(raw);
  }
  cairn_buf_dispose(&b);
  return text;
}

/* The "exp" claim of a JWT; 0 when the token is not one. */
static int64_t token_expiry(const char *token)
{
  const char *dot = strchr(token, '.'), *end;
  json_t *claims, *exp;
  int64_t t = 0;
  char *text;

  if (!dot || !(end = strchr(dot + 1, '.')))
    return 0;
  if (!(text = base64url_text(dot + 1, (size_t)(end - dot - 1))))
    return 0;
  claims = json_loads(text, 0, NULL);
  exp = json_object_get(claims, "exp");
  if (json_is_integer(exp))
    t = json_integer_value(exp);
  else if (json_is_real(exp))
    t = (int64_t)json_real_value(exp);
  json_decref(claims);
  free(text);
  return t;
}

/* The "se" of a SAS (raw or percent-encoded, with or without '?'). */
static int sas_expiry(const char *sas, int64_t *out)
{
  const char *p = sas;
  char *decoded;
  size_t len, i, o;
  int error;

  *out = 0;
  while (p && *p) {
    p += strspn(p, "?&");
    if (strncmp(p, "se=", 3) == 0)
      break;
    p = strchr(p, '&');
  }
  if (!p || !*p)
    return 0;
  p += 3;
  len = strcspn(p, "&");
  if (!(decoded = cairn__strndup(p, len)))
    return CAIRN_ENOMEM;
  for (i = 0, o = 0; i < len; i++) {
    if (decoded[i] == '%' && i + 2 < len &&
        isxdigit((unsigned char)decoded[i + 1]) &&
        isxdigit((unsigned char)decoded[i + 2])) {
      char hex[3] = {decoded[i + 1], decoded[i + 2], '\0'};

      decoded[o++] = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      decoded[o++] = decoded[i];
    }
  }
  decoded[o] = '\0';
  error = cairn_time_parse_iso8601(out, decoded);
  free(decoded);
  if (error < 0) {
    *out = 0;
    return cairn__error(CAIRN_EINVAL, "the SAS token's expiry (se=) is not "
                        "an ISO 8601 time: copy the whole token");
  }
  return 0;
}

/* The SharedAccessSignature of a connection string (new), or NULL. */
static char *connection_string_sas(const char *cs)
{
  const char *p = cs;
  size_t len;

  while (*p) {
    p += strspn(p, "; \t");
    len = strcspn(p, ";");
    if (len > 22 && strncasecmp(p, "SharedAccessSignature=", 22) == 0)
      return cairn__strndup(p + 22, len - 22);
    p += len;
  }
  return NULL;
}

/*
 * The expiry of the connector: an access token's, or a SAS token's;
 * and the lifetime of what key-based connectors hand out.
 */
static int set_expiry(cairn_live_connector *c, const cairn_connector_draft *d)
{
  const cairn_connector_method *m = c->method;
  const char *given = value(c->values, "expires_at");
  char *sas = NULL;
  int error = 0;

  if (d->expiration_seconds < 0)
    return cairn__error(CAIRN_EINVAL, "--expiration-seconds must be a "
                        "positive number of seconds");
  if (d->expiration_seconds && m->kind != CAIRN_CONNECTOR_KEY &&
      m->kind != CAIRN_CONNECTOR_CONNSTR && !m->expiring)
    return cairn__error(CAIRN_EINVAL, "--expiration-seconds does not apply "
                        "to auth method %s: it sets the lifetime of the SAS "
                        "that account-key and connection-string connectors "
                        "hand to stores, or the expiry of an access-token "
                        "connector", m->name);
  c->rec.expiration_seconds = d->expiration_seconds;

  if (m->expiring) {
    if (given) {
      if (cairn_time_parse_iso8601(&c->rec.expires_at, given) < 0)
        return cairn__error(CAIRN_EINVAL, "expires_at '%s' is not an ISO "
                            "8601 time such as 2026-05-01T12:00:00Z", given);
    } else if (d->expiration_seconds) {
      c->rec.expires_at = cairn_time_now() + d->expiration_seconds;
    } else if (!(c->rec.expires_at = token_expiry(value(c->values,
                                                         "token")))) {
      return cairn__error(CAIRN_EINVAL, "an access token needs its expiry: "
                          "give --expires_at=ISO-8601-TIME or "
                          "--expiration-seconds=N (the token is not a JWT "
                          "that says when it expires)");
    }
    json_object_del(c->values, "expires_at");
  } else if (m->kind == CAIRN_CONNECTOR_SAS) {
    error = sas_expiry(value(c->values, "sas_token"), &c->rec.expires_at);
  } else if (m->kind == CAIRN_CONNECTOR_CONNSTR &&
             (sas = connection_string_sas(value(c->values,
                                                "connection_string")))) {
    error = sas_expiry(sas, &c->rec.expires_at);
    explicit_bzero(sas, strlen(sas));
    free(sas);
  }
  return error;
}

/* The id of resource type @p rt given as @p id, in canonical form. */
static int canonical_id(char **out, const char *rt, const char *id,
                        const char *account)
{
  *out = NULL;
  if (strcmp(rt, CAIRN_RESOURCE_BLOB) == 0)
    return cairn_connector_container_id(out, id);
  if (strcmp(id, account) != 0)
    return cairn__error(CAIRN_EINVAL, "resource id '%s' is not an "
                        "azure-generic resource of this connector: its one "
                        "resource is the storage account '%s'", id,
                        account);
  *out = cairn__strdup(id);
  return *out ? 0 : CAIRN_ENOMEM;
}

/*
 * The account the connector reaches, built once to check the names,
 * keys, SAS and endpoint; the implicit method's token sources belong to
 * the processes that use it, so only its account and endpoint are
 * checked here.
 */
static int check_account(cairn_live_connector *c, cairn_azure_account **out)
{
  if (!c->method->implicit)
    return cairn_connector_account(c, out);
  return cairn_azure_account_from_token(out, value(c->values,
                                                   "storage_account"),
                                        "unused", 0,
                                        value(c->values, "blob_endpoint"));
}

int cairn_connector_from_draft(cairn_live_connector *out,
                               const cairn_connector_draft *d)
{
  cairn_live_connector c;
  cairn_azure_account *account = NULL;
  const cairn_connector_resource *rt = NULL;
  cairn_buf list = CAIRN_BUF_INIT;
  size_t i;
  int error = 0;

  memset(out, 0, sizeof(*out));
  memset(&c, 0, sizeof(c));
  if (!d->type || strcmp(d->type, CAIRN_CONNECTOR_TYPE) != 0)
    return cairn__error(CAIRN_EINVAL, "%s%s%s: the one connector type is "
                        "azure (--type azure)", d->type ? "unknown "
                        "connector type '" : "a service connector needs a "
                        "type", d->type ? d->type : "", d->type ? "'" : "");
  if (!(c.method = cairn_connector_method_find(d->auth_method))) {
    for (i = 0; i < METHOD_COUNT; i++)
      cairn_buf_printf(&list, "%s%s", i ? ", " : "", methods[i].name);
    error = cairn__error(CAIRN_EINVAL, "%s%s%s: the auth methods of azure "
                         "connectors are %s", d->auth_method ? "unknown "
                         "auth method '" : "a service connector needs an "
                         "auth method (--auth-method)", d->auth_method ?
                         d->auth_method : "", d->auth_method ? "'" : "",
                         cairn_buf_cstr(&list));
    cairn_buf_dispose(&list);
    return error;
  }
  if (c.method->implicit && !cairn_connector_implicit_enabled())
    return cairn__error(CAIRN_EPERM, "the implicit auth method is "
                        "disabled: it uses whatever credentials the "
                        "environment of each process holds; set "
                        CAIRN_CONNECTOR_IMPLICIT_ENV "=true where cairn "
                        "runs to enable it");
  if (d->resource_type && *d->resource_type &&
      !(rt = cairn_connector_resource_find(d->resource_type)))
    return cairn__error(CAIRN_EINVAL, "unknown resource type '%s': azure "
                        "connectors offer blob-container and azure-generic",
                        d->resource_type);
  if (d->resource_id && *d->resource_id && !rt)
    return cairn__error(CAIRN_EINVAL, "a resource id needs its resource "
                        "type: give --resource-type blob-container (or "
                        "azure-generic) with --resource-id");

  c.values = json_object();
  if (!c.values)
    return cairn__error_oom();
  if ((error = check_fields(c.method, d->fields, c.values)) < 0 ||
      (error = check_ids(c.values)) < 0 || (error = set_expiry(&c, d)) < 0)
    goto fail;

  /* Build the credential once: it checks names, keys, SAS, endpoints. */
  if (!(c.rec.name = cairn__strdup(d->name ? d->name : "")) ||
      !(c.rec.auth_method = cairn__strdup(c.method->name))) {
    error = CAIRN_ENOMEM;
    goto fail;
  }
  if ((error = check_account(&c, &account)) < 0)
    goto fail;

  if (rt && !(c.rec.resource_type = cairn__strdup(rt->name))) {
    error = CAIRN_ENOMEM;
    goto fail;
  }
  if (rt && d->resource_id && *d->resource_id &&
      (error = canonical_id(&c.rec.resource_id, rt->name, d->resource_id,
                            cairn_azure_account_name(account))) < 0)
    goto fail;

  if (d->description && !cairn_utf8_valid(d->description)) {
    error = cairn__error(CAIRN_EINVAL, "the description is not UTF-8 text");
    goto fail;
  }
  c.rec.type = cairn__strdup(CAIRN_CONNECTOR_TYPE);
  c.rec.description = cairn__strdup(d->description ? d->description : "");
  c.rec.config = json_object();
  if (!c.rec.type || !c.rec.description || !c.rec.config) {
    error = CAIRN_ENOMEM;
    goto fail;
  }
  {
    const char *key;
    json_t *v;

    json_object_foreach(c.values, key, v)
      if (!cairn_connector_field_is_secret(c.method, key))
        json_object_set(c.rec.config, key, v);
  }
  cairn_azure_account_free(account);
  *out = c;
  return 0;
fail:
  cairn_azure_account_free(account);
  cairn_live_connector_dispose(&c);
  return error;
}

/* ------------------------------------------------------------------ */
/* Expiry                                                              */
/* ------------------------------------------------------------------ */

int cairn_connector_expired(const cairn_connector *c)
{
  return c->expires_at &&
         cairn_time_now() >= c->expires_at - CAIRN_CONNECTOR_SKEW;
}

char *cairn_connector_expiry_text(const cairn_connector *c)
{
  char when[32];

  if (!cairn_connector_expired(c))
    return NULL;
  cairn_time_iso8601(when, sizeof(when), c->expires_at);
  if (cairn_time_now() >= c->expires_at)
    return cairn__sprintf("service connector '%s' expired at %s: give it "
                          "new credentials with 'cairn service-connector "
                          "update %s ...'", c->name, when, c->name);
  return cairn__sprintf("service connector '%s' expires at %s, within %d "
                        "minutes (the tolerance for clock skew), so it "
                        "counts as expired: give it new credentials with "
                        "'cairn service-connector update %s ...'", c->name,
                        when, CAIRN_CONNECTOR_SKEW / 60, c->name);
}

/* ------------------------------------------------------------------ */
/* Saving and loading                                                  */
/* ------------------------------------------------------------------ */

int cairn_connector_open(cairn_live_connector *out, cairn_store *store,
                         const char *name_or_id)
{
  cairn_live_connector c;
  cairn_secret s;
  int error;

  memset(out, 0, sizeof(*out));
  memset(&c, 0, sizeof(c));
  if ((error = cairn_store_connector_get(store, &c.rec, name_or_id)) < 0)
    return error;
  if (!(c.method = cairn_connector_method_find(c.rec.auth_method))) {
    error = cairn__error(CAIRN_EINVAL, "service connector '%s' has auth "
                         "method '%s', which this cairn does not know",
                         c.rec.name, c.rec.auth_method);
    goto fail;
  }
  if (!(c.values = json_deep_copy(c.rec.config))) {
    error = cairn__error_oom();
    goto fail;
  }
  if (c.rec.secret_id) {
    if ((error = cairn_store_secret_get(store, &s, c.rec.secret_id, 1)) < 0) {
      cairn__error_prefix("the secret fields of service connector '%s'",
                          c.rec.name);
      goto fail;
    }
    json_object_update(c.values, s.values);
    cairn_secret_dispose(&s);
  }
  *out = c;
  return 0;
fail:
  cairn_live_connector_dispose(&c);
  return error;
}

/* The secret fields of @p c (a new object, maybe empty). */
static json_t *secret_values(const cairn_live_connector *c)
{
  json_t *secret = json_object();
  const char *key;
  json_t *v;

  if (!secret)
    return NULL;
  json_object_foreach(c->values, key, v)
    if (cairn_connector_field_is_secret(c->method, key))
      json_object_set(secret, key, v);
  return secret;
}

static int save_secret(cairn_store *store, cairn_live_connector *c,
                       const json_t *secret, char **dropped)
{
  cairn_secret s;
  char *name;
  int error;

  *dropped = NULL;
  if (json_object_size(secret) == 0) {
    /* The method has no secret fields any more: drop the secret. */
    *dropped = c->rec.secret_id;
    c->rec.secret_id = NULL;
    return 0;
  }
  if (c->rec.secret_id)
    return cairn_store_secret_update(store, c->rec.secret_id, secret);
  if (!(name = cairn__sprintf("connector-%s", c->rec.id)))
    return CAIRN_ENOMEM;
  error = cairn_store_secret_create(store, &s, name, secret);
  free(name);
  if (error < 0)
    return error;
  c->rec.secret_id = s.id;
  s.id = NULL;
  cairn_secret_dispose(&s);
  return 0;
}

int cairn_connector_save(cairn_store *store, cairn_live_connector *c)
{
  cairn_connector fresh;
  json_t *secret;
  char *dropped = NULL, *had_secret = c->rec.secret_id;
  int error, is_new = !c->rec.id;

  if (!(secret = secret_values(c)))
    return cairn__error_oom();
  if ((error = cairn_store_begin(store)) < 0) {
    json_decref(secret);
    return error;
  }
  if (is_new) {
    error = cairn_store_connector_create(store, &fresh, &c->rec);
    if (!error) {
      /* The record as given, with the id the store chose. */
      c->rec.id = fresh.id;
      fresh.id = NULL;
      cairn_connector_dispose(&fresh);
    }
  }
  if (!error)
    error = save_secret(store, c, secret, &dropped);
  if (!error)
    error = cairn_store_connector_update(store, &c->rec);
  if (!error && dropped)
    error = cairn_store_secret_delete(store, dropped);
  json_decref(secret);
  if (error < 0) {
    /* Nothing was written: give @p c back its ids as they were. */
    cairn_store_rollback(store);
    if (dropped)
      c->rec.secret_id = dropped;
    else if (!had_secret && c->rec.secret_id) {
      free(c->rec.secret_id);
      c->rec.secret_id = NULL;
    }
    if (is_new) {
      free(c->rec.id);
      c->rec.id = NULL;
    }
    return error;
  }
  free(dropped);
  if ((error = cairn_store_commit(store)) < 0)
    return error;
  if ((error = cairn_store_connector_get(store, &fresh, c->rec.id)) < 0)
    return error;
  cairn_connector_dispose(&c->rec);
  c->rec = fresh;
  return 0;
}

/*
 * Credentials of Azure artifact stores, decided in one place: the
 * service connector the store is connected to, else the authentication
 * secret named by the store, else the environment; and the Azure secret
 * schema that such a secret must follow.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "stack/connector.h"
#include "stack/stack.h"

static const char *const schema_fields[] = {
  "account_name", "account_key", "sas_token", "connection_string",
  "client_id", "client_secret", "tenant_id", "blob_endpoint", NULL};

#define COMBINATIONS                                                       \
  "connection_string; account_name with account_key; account_name (or "  \
  "blob_endpoint) with sas_token; account_name with client_id, "          \
  "client_secret and tenant_id; or account_name alone (a token from the " \
  "environment); blob_endpoint may go with any but connection_string"

static const char *method_names[] = {
  "connection string", "account key", "SAS token", "service principal",
  "token from the environment"};

const char *cairn_stack_azure_method_name(cairn_azure_method m)
{
  return m >= 0 && m <= CAIRN_AZURE_METHOD_CHAIN ? method_names[m] : "";
}

/* A field's text, NULL when absent or empty. */
static const char *field(const json_t *values, const char *key)
{
  const char *v = json_string_value(json_object_get(values, key));

  return v && *v ? v : NULL;
}

static int is_schema_field(const char *key)
{
  const char *const *p;

  for (p = schema_fields; *p; p++)
    if (strcmp(*p, key) == 0)
      return 1;
  return 0;
}

static int incomplete(const char *secret, const char *what)
{
  return cairn__error(CAIRN_EINVAL, "secret '%s' is not a usable Azure "
                      "credential: %s; the valid combinations are "
                      COMBINATIONS, secret, what);
}

int cairn_stack_azure_secret_method(const json_t *values, const char *secret,
                                    cairn_azure_method *out)
{
  const char *key, *name, *endpoint;
  int sp;
  json_t *v;

  json_object_foreach((json_t *)values, key, v) {
    if (!is_schema_field(key))
      return cairn__error(CAIRN_EINVAL, "secret '%s' has the key '%s', "
                          "which is not part of the Azure secret schema: "
                          "the keys are account_name, account_key, "
                          "sas_token, connection_string, client_id, "
                          "client_secret, tenant_id and blob_endpoint",
                          secret, key);
  }
  name = field(values, "account_name");
  endpoint = field(values, "blob_endpoint");
  sp = !!field(values, "client_id") + !!field(values, "client_secret") +
       !!field(values, "tenant_id");
  if (field(values, "connection_string")) {
    if (endpoint)
      return incomplete(secret, "blob_endpoint cannot go with "
                        "connection_string (put BlobEndpoint in the "
                        "connection string)");
    *out = CAIRN_AZURE_METHOD_CONNECTION_STRING;
  } else if (sp != 0 && sp != 3) {
    return incomplete(secret, "a service principal needs all of "
                      "client_id, client_secret and tenant_id");
  } else if (field(values, "account_key")) {
    if (!name)
      return incomplete(secret, "account_key needs account_name");
    *out = CAIRN_AZURE_METHOD_KEY;
  } else if (field(values, "sas_token")) {
    if (!name && !endpoint)
      return incomplete(secret, "sas_token needs account_name or "
                        "blob_endpoint");
    *out = CAIRN_AZURE_METHOD_SAS;
  } else if (sp == 3) {
    if (!name)
      return incomplete(secret, "a service principal needs account_name");
    *out = CAIRN_AZURE_METHOD_SERVICE_PRINCIPAL;
  } else if (name) {
    *out = CAIRN_AZURE_METHOD_CHAIN;
  } else {
    return incomplete(secret, "it names no account");
  }
  return 0;
}

int cairn_stack_azure_account_from_values(cairn_azure_account **out,
                                          const json_t *values,
                                          const char *secret)
{
  const char *name = field(values, "account_name");
  const char *endpoint = field(values, "blob_endpoint");
  cairn_azure_method method;
  char *where;
  int error;

  *out = NULL;
  if ((error = cairn_stack_azure_secret_method(values, secret, &method)) < 0)
    return error;
  switch (method) {
  case CAIRN_AZURE_METHOD_CONNECTION_STRING:
    error = cairn_azure_account_from_connection_string(
        out, field(values, "connection_string"));
    break;
  case CAIRN_AZURE_METHOD_KEY:
    error = cairn_azure_account_from_key(out, name,
                                         field(values, "account_key"),
                                         endpoint);
    break;
  case CAIRN_AZURE_METHOD_SAS:
    error = cairn_azure_account_from_sas(out, name,
                                         field(values, "sas_token"),
                                         endpoint);
    break;
  case CAIRN_AZURE_METHOD_SERVICE_PRINCIPAL:
    error = cairn_azure_account_from_service_principal(
        out, name, field(values, "tenant_id"), field(values, "client_id"),
        field(values, "client_secret"), endpoint);
    break;
  case CAIRN_AZURE_METHOD_CHAIN:
    error = cairn_azure_account_from_token_chain(out, name, endpoint);
    break;
  }
  if (error < 0)
    return cairn__error_prefix("secret '%s'", secret);
  if (!(where = cairn__sprintf("secret '%s': %s", secret,
                               cairn_stack_azure_method_name(method))) ||
      cairn_azure_account_set_source(*out, where) < 0) {
    free(where);
    cairn_azure_account_free(*out);
    *out = NULL;
    return CAIRN_ENOMEM;
  }
  free(where);
  return 0;
}

/*
 * Check the values of Azure secret @p secret as a store would use them;
 * a secret that leaves the token source to the environment is checked
 * for its form only, since the environment is the running process's.
 */
static int check_values(const json_t *values, const char *secret)
{
  cairn_azure_account *account = NULL;
  cairn_azure_method method;
  int error;

  if ((error = cairn_stack_azure_secret_method(values, secret, &method)) < 0)
    return error;
  if (method == CAIRN_AZURE_METHOD_CHAIN)
    return 0;
  error = cairn_stack_azure_account_from_values(&account, values, secret);
  cairn_azure_account_free(account);
  return error;
}

static const char *config_text(const cairn_component *c, const char *key)
{
  const char *v = json_string_value(json_object_get(c->config, key));

  return v && *v ? v : NULL;
}

/* The account of the store's authentication secret. */
static int from_secret(cairn_azure_account **out, cairn_store *store,
                       const cairn_component *c, const char *secret_name)
{
  cairn_secret s;
  int error;

  if ((error = cairn_store_secret_get(store, &s, secret_name, 1)) < 0) {
    if (error == CAIRN_ENOTFOUND)
      return cairn__error(CAIRN_ENOTFOUND, "artifact store '%s' names the "
                          "authentication secret '%s', which does not "
                          "exist: create it with 'cairn secret create %s "
                          "...' or change the store with 'cairn "
                          "artifact-store update %s "
                          "--authentication_secret=NAME'", c->name,
                          secret_name, secret_name, c->name);
    return cairn__error_prefix("artifact store '%s'", c->name);
  }
  error = cairn_stack_azure_account_from_values(out, s.values, s.name);
  cairn_secret_dispose(&s);
  if (error < 0)
    return cairn__error_prefix("artifact store '%s'", c->name);
  return 0;
}

/* What the store's service connector hands out for its container. */
static int from_connector(cairn_azure_account **out,
                          cairn_azure_sas_lease **lease, cairn_store *store,
                          const cairn_component *c)
{
  cairn_live_connector conn;
  char *container = NULL;
  int error;

  if (!store)
    return cairn__error(CAIRN_EINVAL, "artifact store '%s' is connected to "
                        "a service connector, but no metadata store holds "
                        "it", c->name);
  if ((error = cairn_connector_open(&conn, store, c->connector_id)) < 0) {
    if (error == CAIRN_ENOTFOUND)
      return cairn__error(CAIRN_ENOTFOUND, "artifact store '%s' is "
                          "connected to a service connector that does not "
                          "exist any more: connect it to another with "
                          "'cairn artifact-store connect %s --connector "
                          "NAME'", c->name, c->name);
    return cairn__error_prefix("artifact store '%s'", c->name);
  }
  if ((error = cairn_connector_check_store(&conn, c, &container)) == 0)
    error = cairn_connector_store_account(&conn, container, out, lease);
  if (error < 0)
    cairn__error_prefix("artifact store '%s'", c->name);
  free(container);
  cairn_live_connector_dispose(&conn);
  return error;
}

/*
 * The environment's credentials; when it names no account but the
 * store's URI does (C@ACCOUNT.blob...), that account with the
 * environment's token sources.
 */
static int from_env(cairn_azure_account **out, const cairn_azure_uri *uri)
{
  int error = cairn_azure_account_from_env(out);

  if (error != CAIRN_EAUTH || !*uri->account ||
      cairn_getenv("AZURE_STORAGE_ACCOUNT_NAME") ||
      cairn_getenv("AZURE_STORAGE_ACCOUNT") ||
      cairn_getenv("AZURE_STORAGE_CONNECTION_STRING"))
    return error;
  cairn_error_clear();
  error = cairn_azure_account_from_token_chain(
      out, uri->account, cairn_getenv("AZURE_STORAGE_BLOB_ENDPOINT"));
  if (error < 0)
    return cairn__error_prefix("no key or SAS for account '%s' in the "
                               "environment, and no token either",
                               uri->account);
  return 0;
}

/*
 * A URI that names its endpoint suffix (C@ACCOUNT.blob.SUFFIX, or .dfs.,
 * which is reached through its blob endpoint) sets the endpoint of
 * credentials that name none; credentials whose endpoint names another
 * host are an error.
 */
static int endpoint_from_uri(cairn_azure_account *account,
                             const cairn_azure_uri *uri)
{
  const char *name = cairn_azure_account_name(account);
  const char *have = cairn_azure_account_endpoint(account);
  char *implied, *fallback;
  int error = 0;

  if (!*uri->suffix)
    return 0;
  implied = cairn__sprintf("https://%s.blob.%s", name, uri->suffix);
  fallback = cairn__sprintf("https://%s.blob.core.windows.net", name);
  if (!implied || !fallback)
    error = CAIRN_ENOMEM;
  else if (strcasecmp(have, implied) == 0)
    error = 0;
  else if (strcasecmp(have, fallback) == 0)
    error = cairn_azure_account_set_endpoint(account, implied);
  else
    error = cairn__error(CAIRN_EINVAL, "the path names the endpoint %s but "
                         "the credentials (%s) reach %s: make them agree",
                         implied, cairn_azure_account_source(account), have);
  free(implied);
  free(fallback);
  return error;
}

int cairn_stack_resolve_azure_account(cairn_azure_account **out,
                                      cairn_azure_sas_lease **lease,
                                      cairn_store *store,
                                      const cairn_component *c)
{
  const char *path = config_text(c, "path");
  const char *secret = config_text(c, "authentication_secret");
  cairn_azure_account *account = NULL;
  cairn_azure_sas_lease *held = NULL;
  cairn_azure_uri uri;
  const char *name;
  int error;

  *out = NULL;
  if (lease)
    *lease = NULL;
  if (!path)
    return cairn__error(CAIRN_EINVAL, "the azure artifact store '%s' has "
                        "no path: set one with 'cairn artifact-store update "
                        "%s --path=az://CONTAINER'", c->name, c->name);
  memset(&uri, 0, sizeof(uri));
  if ((error = cairn_azure_uri_parse(&uri, path)) < 0)
    return error;
  if (c->connector_id)
    error = from_connector(&account, lease ? &held : NULL, store, c);
  else if (secret)
    error = from_secret(&account, store, c, secret);
  else if ((error = from_env(&account, &uri)) < 0)
    cairn__error_prefix("artifact store '%s'", c->name);
  if (error < 0)
    goto done;
  name = cairn_azure_account_name(account);
  if (*uri.account && name && *name && strcasecmp(uri.account, name) != 0) {
    error = cairn__error(CAIRN_EAUTH, "the path of artifact store '%s' "
                         "names account '%s' but the credentials (%s) are "
                         "for account '%s': make them agree", c->name,
                         uri.account, cairn_azure_account_source(account),
                         name);
    goto done;
  }
  if ((error = endpoint_from_uri(account, &uri)) < 0) {
    cairn__error_prefix("artifact store '%s'", c->name);
    goto done;
  }
  log_debug("stack", "artifact store '%s': credentials from %s", c->name,
            cairn_azure_account_source(account));
  *out = account;
  account = NULL;
  if (lease)
    *lease = held;
  held = NULL;
done:
  if (held)
    cairn_azure_sas_lease_free(held); /* with the account */
  else
    cairn_azure_account_free(account);
  cairn_azure_uri_dispose(&uri);
  return error;
}

char *cairn_stack_credential_source(cairn_store *store,
                                    const cairn_component *c)
{
  cairn_azure_account *account;
  char *text;

  if (strcmp(c->flavor, "azure") != 0)
    return cairn__strdup("local disk");
  if (cairn_stack_resolve_azure_account(&account, NULL, store, c) < 0)
    return cairn__sprintf("none: %s", cairn_error_last()->message);
  text = cairn__strdup(cairn_azure_account_source(account));
  cairn_azure_account_free(account);
  return text;
}

int cairn_stack_component_check(cairn_store *store, const char *type,
                                const char *flavor, json_t *config)
{
  const char *secret;
  cairn_secret s;
  int error;

  if ((error = cairn_flavor_validate(type, flavor, config)) < 0)
    return error;
  secret = json_string_value(json_object_get(config, "authentication_secret"));
  if (!secret)
    return 0;
  if ((error = cairn_store_secret_get(store, &s, secret, 1)) < 0) {
    if (error == CAIRN_ENOTFOUND)
      return cairn__error(CAIRN_ENOTFOUND, "there is no secret '%s': "
                          "create it first with 'cairn secret create %s "
                          "--account_name=... --account_key=...' (or the "
                          "keys of another method)", secret, secret);
    return error;
  }
  /* The store keeps the name as given; a prefix or an id becomes it. */
  json_object_set_new(config, "authentication_secret", json_string(s.name));
  error = check_values(s.values, s.name);
  cairn_secret_dispose(&s);
  return error;
}

int cairn_stack_secret_check_users(cairn_store *store, const char *secret,
                                   const json_t *values)
{
  cairn_component *list;
  size_t n, i;
  int error = 0;

  if ((error = cairn_store_component_list(store, "artifact_store", &list,
                                          &n)) < 0)
    return error;
  for (i = 0; i < n && !error; i++) {
    if (strcmp(list[i].flavor, "azure") != 0 ||
        !config_text(&list[i], "authentication_secret") ||
        strcmp(config_text(&list[i], "authentication_secret"), secret) != 0)
      continue;
    if ((error = check_values(values, secret)) < 0)
      cairn__error_prefix("artifact store '%s' uses this secret",
                          list[i].name);
  }
  cairn_component_list_free(list, n);
  return error;
}

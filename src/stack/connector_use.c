/*
 * Using service connectors: the account a connector's credential
 * reaches, verification of what it reaches, the credentials handed to
 * connected artifact stores, and containers made at connect time.
 */
#include "stack/connector.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

static const char *value(const json_t *values, const char *key)
{
  const char *v = json_string_value(json_object_get(values, key));

  return v && *v ? v : NULL;
}

/* "service connector 'x', account-key": where an account came from. */
static int label(cairn_azure_account *a, const cairn_live_connector *c,
                 const char *tail)
{
  char *where = cairn__sprintf("service connector '%s', %s%s", c->rec.name,
                               c->method->name, tail ? tail : "");
  int error;

  if (!where)
    return CAIRN_ENOMEM;
  error = cairn_azure_account_set_source(a, where);
  free(where);
  return error;
}

int cairn_connector_account(cairn_live_connector *c,
                            cairn_azure_account **out)
{
  const json_t *v = c->values;
  const char *endpoint = value(v, "blob_endpoint");
  const char *m = c->method->name;
  cairn_azure_account *a = NULL;
  int error;

  *out = NULL;
  if (strcmp(m, "account-key") == 0)
    error = cairn_azure_account_from_key(&a, value(v, "account_name"),
                                         value(v, "account_key"), endpoint);
  else if (strcmp(m, "sas-token") == 0)
    error = cairn_azure_account_from_sas(&a, value(v, "account_name"),
                                         value(v, "sas_token"), endpoint);
  else if (strcmp(m, "connection-string") == 0) {
    error = cairn_azure_account_from_connection_string(
        &a, value(v, "connection_string"));
    if (!error && endpoint)
      error = cairn_azure_account_set_endpoint(a, endpoint);
  } else if (strcmp(m, "service-principal") == 0)
    error = cairn_azure_account_from_service_principal(
        &a, value(v, "storage_account"), value(v, "tenant_id"),
        value(v, "client_id"), value(v, "client_secret"), endpoint);
  else if (strcmp(m, "access-token") == 0)
    error = cairn_azure_account_from_token(&a, value(v, "storage_account"),
                                           value(v, "token"),
                                           c->rec.expires_at, endpoint);
  else if (cairn_connector_implicit_enabled())
    error = cairn_azure_account_from_token_chain(
        &a, value(v, "storage_account"), endpoint);
  else
    error = cairn__error(CAIRN_EPERM, "service connector '%s' uses the "
                         "implicit auth method, which is disabled here: set "
                         CAIRN_CONNECTOR_IMPLICIT_ENV "=true to enable it",
                         c->rec.name);
  if (!error)
    error = label(a, c, NULL);
  if (error < 0) {
    cairn_azure_account_free(a);
    if (c->rec.name && *c->rec.name)
      return cairn__error_prefix("service connector '%s'", c->rec.name);
    return error;
  }
  *out = a;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Verification                                                        */
/* ------------------------------------------------------------------ */

void cairn_connector_result_dispose(cairn_connector_result *r)
{
  size_t i;

  for (i = 0; r && i < r->count; i++) {
    free(r->rows[i].resource_type);
    cairn_strlist_dispose(&r->rows[i].names);
    free(r->rows[i].error);
  }
  if (r) {
    free(r->rows);
    memset(r, 0, sizeof(*r));
  }
}

static cairn_connector_row *add_row(cairn_connector_result *r,
                                    const char *type)
{
  cairn_connector_row *rows = realloc(r->rows,
                                      (r->count + 1) * sizeof(*rows));

  if (!rows) {
    cairn__error_oom();
    return NULL;
  }
  r->rows = rows;
  memset(&rows[r->count], 0, sizeof(rows[0]));
  if (!(rows[r->count].resource_type = cairn__strdup(type)))
    return NULL;
  return &rows[r->count++];
}

/* The row failed with the current error. */
static void row_failed(cairn_connector_row *row, int code)
{
  row->code = code;
  free(row->error);
  row->error = cairn__strdup(cairn_error_last()->message);
  cairn_strlist_dispose(&row->names);
}

static int collect(const char *name, void *payload)
{
  char *id = cairn__sprintf("az://%s", name);

  return id ? cairn_strlist_take(payload, id) : CAIRN_ENOMEM;
}

static int stop_at_first(const char *name, void *payload)
{
  (void)name;
  *(int *)payload = 1;
  return 1;
}

/* Blob containers: the one asked for, or all the account's. */
static int verify_blob(cairn_azure_client *client, const char *id,
                       cairn_connector_row *row)
{
  int error;

  if (id) {
    if ((error = cairn_azure_container_exists(client, id + 5)) < 0)
      return error;
    return cairn_strlist_add(&row->names, id);
  }
  /* An account without containers yet is no failure: the service said
   * so to credentials allowed to list them. */
  return cairn_azure_list_containers(client, NULL, collect, &row->names);
}

/*
 * The account itself: a token for token methods, one container listed
 * for the others (which a container-scoped SAS cannot do).
 */
static int verify_generic(cairn_live_connector *c,
                          const cairn_azure_account *a,
                          cairn_azure_client *client,
                          cairn_connector_row *row)
{
  int64_t expires = 0;
  char *token = NULL;
  int found = 0, error;

  if (c->method->kind == CAIRN_CONNECTOR_TOKEN) {
    if ((error = cairn_azure_account_token(a, &token, &expires)) < 0)
      return error;
    explicit_bzero(token, strlen(token));
    free(token);
  } else if ((error = cairn_azure_list_containers(client, NULL,
                                                  stop_at_first, &found)) <
             0) {
    return error;
  }
  return cairn_strlist_add(&row->names, cairn_azure_account_name(a));
}

/* The account the connector names (new string), "" when none is. */
static char *account_named(const cairn_live_connector *c)
{
  const char *cs = value(c->values, "connection_string");
  const char *name = value(c->values, "account_name");
  size_t len;

  if (!name)
    name = value(c->values, "storage_account");
  if (name)
    return cairn__strdup(name);
  while (cs && *cs) {
    cs += strspn(cs, "; \t");
    len = strcspn(cs, ";");
    if (len > 12 && strncasecmp(cs, "AccountName=", 12) == 0)
      return cairn__strndup(cs + 12, len - 12);
    cs += len;
  }
  return cairn__strdup("");
}

/* The resource types to verify, and the id to check, from the request. */
static int scope(cairn_live_connector *c, const char *rtype,
                 const char *rid, const char **types, size_t *ntypes,
                 char **id)
{
  const char *offered = c->rec.resource_type;

  *id = NULL;
  *ntypes = 0;
  if (rtype && *rtype) {
    if (!cairn_connector_resource_find(rtype))
      return cairn__error(CAIRN_EINVAL, "unknown resource type '%s': azure "
                          "connectors offer blob-container and "
                          "azure-generic", rtype);
    if (offered && strcmp(offered, rtype) != 0)
      return cairn__error(CAIRN_EINVAL, "service connector '%s' offers "
                          "only %s, not %s", c->rec.name, offered, rtype);
    types[(*ntypes)++] = cairn_connector_resource_find(rtype)->name;
  } else if (offered) {
    types[(*ntypes)++] = cairn_connector_resource_find(offered)->name;
  } else {
    types[(*ntypes)++] = CAIRN_RESOURCE_BLOB;
    types[(*ntypes)++] = CAIRN_RESOURCE_GENERIC;
  }
  if (rid && *rid) {
    if (*ntypes != 1)
      return cairn__error(CAIRN_EINVAL, "service connector '%s' offers "
                          "several resource types: give the type of "
                          "resource id '%s' with --resource-type",
                          c->rec.name, rid);
    if (strcmp(types[0], CAIRN_RESOURCE_BLOB) == 0) {
      if (cairn_connector_container_id(id, rid) < 0)
        return CAIRN_EINVAL;
    } else {
      char *account = account_named(c);
      int error = 0;

      if (!account)
        return CAIRN_ENOMEM;
      if (strcmp(rid, account) != 0)
        error = cairn__error(CAIRN_EINVAL, "resource id '%s' is not an "
                             "azure-generic resource of service connector "
                             "'%s': its one resource is the storage "
                             "account '%s'", rid, c->rec.name, account);
      free(account);
      if (error < 0)
        return error;
      if (!(*id = cairn__strdup(rid)))
        return CAIRN_ENOMEM;
    }
    if (c->rec.resource_id && strcmp(c->rec.resource_id, *id) != 0) {
      int error = cairn__error(CAIRN_EINVAL, "service connector '%s' is "
                               "scoped to %s, not %s", c->rec.name,
                               c->rec.resource_id, *id);
      free(*id);
      *id = NULL;
      return error;
    }
  } else if (c->rec.resource_id && *ntypes == 1 &&
             strcmp(types[0], c->rec.resource_type) == 0 &&
             !(*id = cairn__strdup(c->rec.resource_id))) {
    return CAIRN_ENOMEM;
  }
  return 0;
}

int cairn_connector_verify(cairn_live_connector *c,
                           const char *resource_type,
                           const char *resource_id,
                           cairn_connector_result *out)
{
  const char *types[2];
  cairn_azure_account *a = NULL;
  cairn_azure_client *client = NULL;
  cairn_connector_row *row;
  size_t ntypes, i;
  char *id = NULL, *expired;
  int error, first = 0;

  memset(out, 0, sizeof(*out));
  if ((error = scope(c, resource_type, resource_id, types, &ntypes, &id)) <
      0)
    return error;

  expired = cairn_connector_expiry_text(&c->rec);
  if (expired)
    error = cairn__error(CAIRN_EAUTH, "%s", expired);
  else if ((error = cairn_connector_account(c, &a)) == 0)
    error = cairn_azure_client_new(&client, a, NULL);
  free(expired);

  for (i = 0; i < ntypes; i++) {
    if (!(row = add_row(out, types[i]))) {
      first = CAIRN_ENOMEM;
      break;
    }
    if (error < 0) {
      /* No credential: every row says why. */
      row_failed(row, error);
    } else {
      int rc;

      cairn_error_clear();
      if (strcmp(types[i], CAIRN_RESOURCE_BLOB) == 0)
        rc = verify_blob(client, id, row);
      else
        rc = verify_generic(c, a, client, row);
      if (rc < 0)
        row_failed(row, rc);
    }
    if (row->code && !first)
      first = row->code;
  }
  cairn_azure_client_free(client);
  cairn_azure_account_free(a);
  free(id);
  if (first == CAIRN_ENOMEM)
    cairn_connector_result_dispose(out);
  return first;
}

/* ------------------------------------------------------------------ */
/* Artifact stores                                                     */
/* ------------------------------------------------------------------ */

int cairn_connector_check_store(const cairn_live_connector *c,
                                const cairn_component *component,
                                char **container)
{
  const char *path = json_string_value(json_object_get(component->config,
                                                       "path"));
  cairn_azure_uri uri;
  char *id;
  int error;

  *container = NULL;
  if (strcmp(component->flavor, "azure") != 0)
    return cairn__error(CAIRN_EINVAL, "artifact store '%s' has flavor '%s', "
                        "which cannot use service connectors: only azure "
                        "stores can", component->name, component->flavor);
  if (c->rec.resource_type &&
      strcmp(c->rec.resource_type, CAIRN_RESOURCE_BLOB) != 0)
    return cairn__error(CAIRN_EINVAL, "service connector '%s' offers %s "
                        "only, and an artifact store needs a "
                        CAIRN_RESOURCE_BLOB, c->rec.name,
                        c->rec.resource_type);
  if (!path)
    return cairn__error(CAIRN_EINVAL, "artifact store '%s' has no path",
                        component->name);
  memset(&uri, 0, sizeof(uri));
  if ((error = cairn_azure_uri_parse(&uri, path)) < 0)
    return cairn__error_prefix("artifact store '%s'", component->name);
  id = cairn__sprintf("az://%s", uri.container);
  if (!id) {
    error = CAIRN_ENOMEM;
  } else if (c->rec.resource_id && strcmp(c->rec.resource_id, id) != 0) {
    error = cairn__error(CAIRN_EINVAL, "service connector '%s' is scoped to "
                         "%s, but artifact store '%s' is in %s: use a "
                         "connector for that container, or one that is not "
                         "scoped to a container", c->rec.name,
                         c->rec.resource_id, component->name, id);
  } else if (!(*container = cairn__strdup(uri.container))) {
    error = CAIRN_ENOMEM;
  }
  free(id);
  cairn_azure_uri_dispose(&uri);
  return error;
}

/* A SAS for @p container signed now, without renewal. */
static int one_sas(cairn_azure_account **out,
                   const cairn_azure_account *key, const char *container,
                   int64_t lifetime)
{
  cairn_azure_sas_options o;
  int64_t now = cairn_time_now();
  char *sas;
  int error;

  memset(&o, 0, sizeof(o));
  o.container = container;
  o.permissions = CAIRN_CONNECTOR_SAS_PERMISSIONS;
  o.start = now - CAIRN_AZURE_SAS_BACKDATE;
  o.expiry = now + lifetime;
  if (cairn__starts_with(cairn_azure_account_endpoint(key), "https://"))
    o.protocol = "https";
  if ((error = cairn_azure_sas_sign(&sas, key, &o)) < 0)
    return error;
  error = cairn_azure_account_from_sas(out, cairn_azure_account_name(key),
                                       sas, cairn_azure_account_endpoint(key));
  explicit_bzero(sas, strlen(sas));
  free(sas);
  return error;
}

int cairn_connector_store_account(cairn_live_connector *c,
                                  const char *container,
                                  cairn_azure_account **out,
                                  cairn_azure_sas_lease **lease)
{
  cairn_azure_account *a = NULL, *handed = NULL;
  int64_t lifetime = c->rec.expiration_seconds > 0
                         ? c->rec.expiration_seconds
                         : CAIRN_CONNECTOR_SAS_SECONDS;
  char *expired, *tail = NULL, until[32];
  int error;

  *out = NULL;
  if (lease)
    *lease = NULL;
  if ((expired = cairn_connector_expiry_text(&c->rec))) {
    error = cairn__error(CAIRN_EAUTH, "%s", expired);
    free(expired);
    return error;
  }
  if ((error = cairn_connector_account(c, &a)) < 0)
    return error;
  if (cairn_azure_account_auth(a) != CAIRN_AZURE_AUTH_SHARED_KEY) {
    /* Tokens, or a SAS: already no broader than the connector's. */
    log_debug("stack", "service connector '%s' hands %s to the store of "
              "container '%s'", c->rec.name, cairn_azure_account_auth(a) ==
              CAIRN_AZURE_AUTH_SAS ? "its own SAS" : "bearer tokens",
              container);
    *out = a;
    return 0;
  }

  /* A key never leaves the connector: the store gets a container SAS. */
  if (lease) {
    if ((error = cairn_azure_sas_lease_new(
             lease, a, container, CAIRN_CONNECTOR_SAS_PERMISSIONS,
             lifetime)) == 0)
      handed = cairn_azure_sas_lease_account(*lease);
  } else {
    error = one_sas(&handed, a, container, lifetime);
  }
  cairn_azure_account_free(a);
  if (error < 0)
    return cairn__error_prefix("service connector '%s'", c->rec.name);
  cairn_time_iso8601(until, sizeof(until), cairn_time_now() + lifetime);
  if (!(tail = cairn__sprintf(": a SAS for container '%s'", container)) ||
      (error = label(handed, c, tail)) < 0) {
    error = CAIRN_ENOMEM;
    goto fail;
  }
  log_debug("stack", "service connector '%s' hands the store of container "
            "'%s' a SAS (%s) valid until %s%s, not the account key",
            c->rec.name, container, CAIRN_CONNECTOR_SAS_PERMISSIONS, until,
            lease ? " and renewed before it expires" : "");
  free(tail);
  *out = handed;
  return 0;
fail:
  free(tail);
  if (lease && *lease) {
    cairn_azure_sas_lease_free(*lease);
    *lease = NULL;
  } else {
    cairn_azure_account_free(handed);
  }
  return error;
}

int cairn_connector_ensure_container(cairn_live_connector *c,
                                     const char *container, int *created)
{
  cairn_azure_account *a = NULL;
  cairn_azure_client *client = NULL;
  int error;

  *created = 0;
  if ((error = cairn_connector_account(c, &a)) < 0)
    return error;
  if ((error = cairn_azure_client_new(&client, a, NULL)) < 0)
    goto done;
  error = cairn_azure_container_exists(client, container);
  if (error == CAIRN_ENOTFOUND) {
    cairn_error_clear();
    error = cairn_azure_container_create(client, container);
    if (error == 0)
      *created = 1;
    else if (error == CAIRN_EEXISTS)
      error = 0;
    else
      cairn__error_prefix("container '%s' does not exist in account '%s' "
                          "and service connector '%s' cannot create it",
                          container, cairn_azure_account_name(a),
                          c->rec.name);
  } else if (error < 0) {
    cairn__error_prefix("service connector '%s' cannot reach container "
                        "'%s' of account '%s'", c->rec.name, container,
                        cairn_azure_account_name(a));
  }
done:
  cairn_azure_client_free(client);
  cairn_azure_account_free(a);
  return error;
}

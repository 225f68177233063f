/*
 * Service connectors made live: the Azure connector type, its auth
 * methods and resource types, validation of what a user gives, saving
 * and loading (secret fields in a secret of their own), verification
 * against the service, and the credentials a connected artifact store
 * gets: the narrowest one the connector can hand out.
 */
#ifndef CAIRN_STACK_CONNECTOR_H
#define CAIRN_STACK_CONNECTOR_H

#include <cairn/azure.h>
#include <jansson.h>

#include "store/store.h"

#define CAIRN_CONNECTOR_TYPE "azure"
#define CAIRN_RESOURCE_BLOB "blob-container"
#define CAIRN_RESOURCE_GENERIC "azure-generic"
/* A connector this close to its expiry counts as expired (seconds). */
#define CAIRN_CONNECTOR_SKEW 300
/* Lifetime of the SAS a key-based connector hands out, by default. */
#define CAIRN_CONNECTOR_SAS_SECONDS 3600
/* What that SAS allows in its container: all a store does. */
#define CAIRN_CONNECTOR_SAS_PERMISSIONS "racwdl"
/* The variable that enables the implicit auth method. */
#define CAIRN_CONNECTOR_IMPLICIT_ENV "CAIRN_ENABLE_IMPLICIT_AUTH_METHODS"

/* What a method's credential is, which decides what stores get. */
typedef enum {
  CAIRN_CONNECTOR_KEY = 0,  /* an account key: stores get a SAS */
  CAIRN_CONNECTOR_SAS,      /* a SAS: stores get it as it is */
  CAIRN_CONNECTOR_CONNSTR,  /* a connection string: key or SAS inside */
  CAIRN_CONNECTOR_TOKEN     /* bearer tokens: stores get tokens */
} cairn_connector_kind;

/* An auth method: its fields, which of them are secret, how it works. */
typedef struct {
  const char *name;             /* "account-key" */
  const char *title;            /* "Azure storage account key" */
  cairn_connector_kind kind;
  const char *const *required;  /* field names, NULL-terminated */
  const char *const *optional;
  const char *const *secret;    /* fields kept in the secret */
  int implicit;    /* uses the environment: off unless enabled */
  int expiring;    /* needs an expiry (expires_at, or computed) */
  const char *description;      /* one paragraph for describe-type */
} cairn_connector_method;

const cairn_connector_method *cairn_connector_method_find(const char *name);
/* The i-th method, NULL past the last. */
const cairn_connector_method *cairn_connector_method_at(size_t i);
/* 1 when @p field is one of the secret fields of @p m. */
int cairn_connector_field_is_secret(const cairn_connector_method *m,
                                    const char *field);
/* 1 when @p field is a field of @p m (required or optional). */
int cairn_connector_field_known(const cairn_connector_method *m,
                                const char *field);
/* 1 when implicit methods are enabled (CAIRN_CONNECTOR_IMPLICIT_ENV). */
int cairn_connector_implicit_enabled(void);

/* A resource type: its name, title and whether it has many instances. */
typedef struct {
  const char *name;  /* "blob-container" */
  const char *title; /* "Azure Blob Storage container" */
  int multi;         /* many instances (ids); else one per connector */
  const char *ids;   /* the id forms accepted, for messages and docs */
} cairn_connector_resource;

const cairn_connector_resource *cairn_connector_resource_find(
    const char *name);
const cairn_connector_resource *cairn_connector_resource_at(size_t i);

/*
 * The canonical id of a blob container ("az://c") from "az://c[/p]",
 * "abfs://c[/p]", "abfss://c[/p]" (also with "@ACCOUNT.host") or "c",
 * with the container rules checked.  A new string in *out; CAIRN_EINVAL
 * naming the id and the accepted forms.
 */
int cairn_connector_container_id(char **out, const char *id);

/* What a user gives to register or update a connector. */
typedef struct {
  const char *name;
  const char *type;          /* "azure" */
  const char *auth_method;
  const char *resource_type; /* nullable: every resource type */
  const char *resource_id;   /* nullable */
  const char *description;   /* nullable */
  const json_t *fields;      /* every --FIELD=VALUE, values as text */
  int64_t expiration_seconds; /* 0: none given */
} cairn_connector_draft;

/* A connector ready to use: its record and every field's value. */
typedef struct {
  cairn_connector rec;
  const cairn_connector_method *method;
  json_t *values; /* object: every field, the secret ones included */
} cairn_live_connector;

void cairn_live_connector_dispose(cairn_live_connector *c);

/*
 * Check a draft and build the connector it describes (not saved): known
 * type and method (implicit only when enabled), resource type and its
 * canonical id, required and unknown fields, the syntax of ids, names,
 * keys, SAS tokens and connection strings, and the expiry: an access
 * token's from expires_at (ISO 8601), else --expiration-seconds, else
 * the token's own "exp"; a SAS token's from its "se".  For key-based
 * methods --expiration-seconds is the lifetime of the SAS handed to
 * stores.  CAIRN_EINVAL with a message that lists what is valid;
 * CAIRN_EPERM for the implicit method when it is not enabled.
 */
int cairn_connector_from_draft(cairn_live_connector *out,
                               const cairn_connector_draft *d);
/* Load a connector with its secret values, by name, id or id prefix. */
int cairn_connector_open(cairn_live_connector *out, cairn_store *store,
                         const char *name_or_id);
/*
 * Save @p c: its secret fields as a secret of its own (created, updated,
 * or deleted when the method has none any more) and its record, in one
 * transaction.  A new connector (no id yet) is created.  @p c->rec is
 * refreshed (id, secret id, times).
 */
int cairn_connector_save(cairn_store *store, cairn_live_connector *c);

/* 1 when the connector has expired (within CAIRN_CONNECTOR_SKEW). */
int cairn_connector_expired(const cairn_connector *c);
/*
 * Why @p c counts as expired, as a sentence with what to do (for
 * messages); NULL when it has not expired.  A new string.
 */
char *cairn_connector_expiry_text(const cairn_connector *c);
/* The resource types @p c offers, ", "-joined (a static string). */
const char *cairn_connector_resource_types(const cairn_connector *c);

/* One row of a verification: a resource type and what it reaches. */
typedef struct {
  char *resource_type;
  cairn_strlist names; /* canonical ids ("az://c") or the account name */
  char *error;         /* why it failed, or NULL */
  int code;            /* the failure's cairn_result, or 0 */
} cairn_connector_row;

typedef struct {
  cairn_connector_row *rows;
  size_t count;
} cairn_connector_result;

void cairn_connector_result_dispose(cairn_connector_result *r);

/*
 * Verify @p c against the service: one row per resource type in scope
 * (@p resource_type, else the connector's, else every type), each
 * listing what the credential reaches, or the id @p resource_id (else
 * the connector's) alone.  Rows of an expired connector all say so and
 * nothing is called.  Returns 0 when every row succeeded, else the first
 * failed row's code (the rows say why); CAIRN_EINVAL, with no rows, for
 * a resource type or id the connector does not offer.
 */
int cairn_connector_verify(cairn_live_connector *c,
                           const char *resource_type,
                           const char *resource_id,
                           cairn_connector_result *out);

/*
 * The account with the connector's own credential, labelled as coming
 * from it: for verification and listings, never for stores.
 */
int cairn_connector_account(cairn_live_connector *c,
                            cairn_azure_account **out);

/*
 * The account for an artifact store connected to @p c, scoped to
 * @p container: bearer tokens for token methods; for a key (account-key,
 * or a connection string with a key) a SAS for that container only,
 * renewed by *lease before it expires when @p lease is given (else a
 * single SAS of the connector's lifetime), so that what is handed on
 * never holds the key; a SAS connector's own SAS.  With *lease set, the
 * account belongs to the lease; else to the caller.  CAIRN_EAUTH for an
 * expired connector.
 */
int cairn_connector_store_account(cairn_live_connector *c,
                                  const char *container,
                                  cairn_azure_account **out,
                                  cairn_azure_sas_lease **lease);

/*
 * Make sure @p container exists for @p c: create it when it is missing
 * and the credential allows it (*created set to 1).  Returns 0 when it
 * exists afterwards, else an error that says why.
 */
int cairn_connector_ensure_container(cairn_live_connector *c,
                                     const char *container, int *created);

/*
 * Check that @p c can back artifact store @p component (an Azure store):
 * it offers blob containers, and its resource id, when it has one, is
 * the store's container.  *container gets the store's container (new
 * string).  CAIRN_EINVAL naming what does not fit.
 */
int cairn_connector_check_store(const cairn_live_connector *c,
                                const cairn_component *component,
                                char **container);

#endif

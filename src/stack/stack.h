/*
 * Stacks made live: the flavor registry (each flavor declares its
 * configuration fields, validates and normalises them) and the live
 * components built from stored configurations.  Credential resolution for
 * Azure artifact stores happens here, in one place.
 */
#ifndef CAIRN_STACK_STACK_H
#define CAIRN_STACK_STACK_H

#include <cairn/azure.h>
#include <cairn/fs.h>
#include <jansson.h>

#include "store/store.h"

/* A flavor: declares its config fields, validates and normalises them. */
typedef struct {
  const char *type;        /* "artifact_store" or "orchestrator" */
  const char *name;        /* "local", "azure" */
  const char *description; /* one line for listings */
  const char *const *fields; /* NULL-terminated: "path", ... */
} cairn_flavor;

/* The flavor @p name of component type @p type, or NULL. */
const cairn_flavor *cairn_flavor_find(const char *type, const char *name);
size_t cairn_flavor_count(void);
const cairn_flavor *cairn_flavor_at(size_t i);

/*
 * Validate and normalise @p config (an object, changed in place) for
 * (@p type, @p flavor).  Unknown flavors and unknown fields are refused
 * (CAIRN_EINVAL) with the valid ones listed.  Quotes ' " ` around a path
 * are stripped.  local: the path must not look remote (az://, abfs://,
 * s3://, gs://, hdfs://, http(s)://, ...) and is made absolute ("~/" is
 * expanded); an empty path is removed (the store then lives under the
 * home).  azure: the path is required and must parse with
 * cairn_azure_uri_parse(), whose error lists the accepted forms.
 * Integer fields (parallelism, max_concurrency, block_size) accept
 * integers or digit strings and are stored as integers > 0.
 */
int cairn_flavor_validate(const char *type, const char *flavor,
                          json_t *config);

/* An artifact store made live: its filesystem and, for Azure, the account. */
typedef struct cairn_live_store {
  cairn_component component;
  char *root; /* effective: config path, or <home>/local_stores/<id> */
  cairn_fs *fs;
  cairn_azure_account *account;  /* NULL for local; the lease's when any */
  cairn_azure_sas_lease *lease;  /* a connector's renewing SAS, or NULL */
  char *credential_source; /* "local disk", or the account's source text */
} cairn_live_store;

/*
 * Build the live store of artifact-store component @p c (copied).  For
 * Azure, credentials are resolved with cairn_stack_resolve_azure_account()
 * (a SAS that a connector hands out is renewed for as long as the store
 * is open).  Free with cairn_live_store_free().
 */
int cairn_live_store_open(cairn_live_store **out, cairn_store *store,
                          const cairn_component *c);
void cairn_live_store_free(cairn_live_store *s);

/*
 * A filesystem that reads folder @p uri, recorded by store @p s (a
 * version folder, or the folder of a log): the store's own when @p uri
 * lies under its root, else one rooted at @p uri with the same flavor
 * and credentials, since recorded URIs stay valid when the store's path
 * changes.  *owned is 1 when the caller must cairn_fs_free() it.
 */
int cairn_live_store_fs_at(cairn_live_store *s, const char *uri,
                           cairn_fs **out, int *owned);

/*
 * Resolve the credentials of Azure artifact store @p c, in one place, in
 * this order: the service connector it is connected to (the narrowest
 * credential the connector hands out, see cairn_connector_store_account()),
 * else its authentication secret when it names one, else the environment
 * (cairn_azure_account_from_env()).  An account named in the store's URI
 * (C@ACCOUNT.blob...) that disagrees with the credentials' account is an
 * error (CAIRN_EAUTH).  With @p lease [nullable] given, a SAS signed for
 * the store is renewed by *lease, which then owns *out (free the lease,
 * not the account); without it, *out is a one-off the caller frees.
 */
int cairn_stack_resolve_azure_account(cairn_azure_account **out,
                                      cairn_azure_sas_lease **lease,
                                      cairn_store *store,
                                      const cairn_component *c);

/*
 * Describe where the credentials of @p c would come from and how, without
 * failing: "local disk", the account's source ("service connector 'c',
 * account-key: a SAS for container 'x' (SAS)"), or "none: <why>".  A new
 * string (free()).  No secret value is ever part of it.
 */
char *cairn_stack_credential_source(cairn_store *store,
                                    const cairn_component *c);

/*
 * Validate a component's configuration as cairn_flavor_validate() does,
 * and check the authentication secret it names against the Azure secret
 * schema (the secret is read, so that a bad one is refused now rather
 * than when a pipeline first runs).  The secret reference is normalised
 * to its name.
 */
int cairn_stack_component_check(cairn_store *store, const char *type,
                                const char *flavor, json_t *config);

/* How an Azure secret authenticates, in the order that decides. */
typedef enum {
  CAIRN_AZURE_METHOD_CONNECTION_STRING = 0,
  CAIRN_AZURE_METHOD_KEY,
  CAIRN_AZURE_METHOD_SAS,
  CAIRN_AZURE_METHOD_SERVICE_PRINCIPAL,
  CAIRN_AZURE_METHOD_CHAIN /* account name only: the environment's tokens */
} cairn_azure_method;

/* "account key", ... */
const char *cairn_stack_azure_method_name(cairn_azure_method m);

/*
 * The method the values of Azure secret @p secret (its name, for
 * messages) select: connection string, then account key, then SAS, then
 * service principal, then the account name alone.  Unknown keys and
 * incomplete combinations are CAIRN_EINVAL, listing the valid ones.
 */
int cairn_stack_azure_secret_method(const json_t *values, const char *secret,
                                    cairn_azure_method *out);

/*
 * Before secret @p secret gets @p values: check them for every Azure
 * artifact store that uses the secret (CAIRN_EINVAL naming the store).
 */
int cairn_stack_secret_check_users(cairn_store *store, const char *secret,
                                   const json_t *values);

/* The account that the values of secret @p secret describe. */
int cairn_stack_azure_account_from_values(cairn_azure_account **out,
                                          const json_t *values,
                                          const char *secret);

/* The stack to run on: name or NULL for the active one, with its parts. */
typedef struct cairn_live_stack {
  cairn_stack stack;
  cairn_component orchestrator;
  cairn_live_store *store;
  unsigned parallelism; /* from the orchestrator, default: online cores */
} cairn_live_stack;

int cairn_live_stack_open(cairn_live_stack **out, cairn_store *store,
                          const char *name_or_null);
void cairn_live_stack_free(cairn_live_stack *s);

/* The orchestrator's parallelism: its config, or the online cores. */
unsigned cairn_stack_parallelism(const cairn_component *orchestrator);

/*
 * The transfer settings of Azure artifact store @p c: its fields
 * max_concurrency, block_size, memory_budget and content_md5 (zero for
 * those not set: the defaults).
 */
void cairn_stack_transfer_options(const cairn_component *c,
                                  cairn_azure_transfer_options *opts);

/* The effective root of artifact store @p c (free()). */
char *cairn_stack_store_root(cairn_store *store, const cairn_component *c);

#endif

/*
 * Service SAS signed with the account key, for one container or one
 * blob, and leases that keep a container SAS fresh: what a holder of
 * the key hands on so that nobody else needs the key.
 *
 * The string to sign is the one of service SAS versions 2020-12-06 and
 * later (so of CAIRN_AZURE_API_VERSION), fields joined by '\n' over
 * their decoded values: permissions, start, expiry, the canonical
 * resource (/blob/ACCOUNT/CONTAINER[/BLOB]), the stored policy, the IP
 * range, the protocol, the version, the resource type (c or b), the
 * snapshot time, the encryption scope, then the five response header
 * overrides (cache control, disposition, encoding, language, type).
 * cairn fills no policy, IP range, snapshot, scope nor override: those
 * fields stay empty in the string and absent from the query.
 */
#include "azure/account.h"
#include "azure/auth.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"

/* Every permission letter, in the order the service expects them. */
#define PERMISSION_ORDER "racwdxltmeiyf"
/* Letters that only a container SAS may carry (list, find by tags). */
#define CONTAINER_ONLY "lf"
/* After a failed renewal, try again this much later (ms). */
#define RETRY_MS 10000

/* Write the letters of @p given in canonical order into @p out. */
static int canonical_permissions(char out[sizeof(PERMISSION_ORDER)],
                                 const char *given, int blob)
{
  const char *p;
  size_t n = 0;

  if (!given || !*given)
    return cairn__error(CAIRN_EINVAL, "a SAS needs permissions: letters "
                        "of '" PERMISSION_ORDER "'");
  for (p = given; *p; p++) {
    if (!strchr(PERMISSION_ORDER, *p))
      return cairn__error(CAIRN_EINVAL, "'%c' is not a SAS permission: use "
                          "letters of '" PERMISSION_ORDER "'", *p);
    if (blob && strchr(CONTAINER_ONLY, *p))
      return cairn__error(CAIRN_EINVAL, "'%c' is a container permission; "
                          "a SAS for one blob cannot carry it", *p);
  }
  for (p = PERMISSION_ORDER; *p; p++)
    if (strchr(given, *p))
      out[n++] = *p;
  out[n] = '\0';
  return 0;
}

static int check_options(const cairn_azure_sas_options *o)
{
  int error;

  if (!o)
    return cairn__error(CAIRN_EINVAL, "no SAS options were given");
  if ((error = cairn_azure_container_name_check(o->container)) < 0)
    return error;
  if (o->blob && (error = cairn_azure_blob_name_check(o->blob)) < 0)
    return error;
  if (o->expiry <= 0)
    return cairn__error(CAIRN_EINVAL, "a SAS needs an expiry time");
  if (o->start && o->start >= o->expiry)
    return cairn__error(CAIRN_EINVAL, "the SAS would expire before it "
                        "starts");
  if (o->protocol && strcmp(o->protocol, "https") != 0 &&
      strcmp(o->protocol, "https,http") != 0)
    return cairn__error(CAIRN_EINVAL, "SAS protocol '%s' is not valid: use "
                        "https or https,http", o->protocol);
  return 0;
}

/* Append "&name=<value encoded>" (no '&' first). */
static int put_param(cairn_buf *b, const char *name, const char *value)
{
  char *enc = cairn__azure_encode_query(value);
  int error;

  if (!enc)
    return cairn__error_oom();
  error = cairn_buf_printf(b, "%s%s=%s", b->size ? "&" : "", name, enc);
  free(enc);
  return error;
}

int cairn_azure_sas_sign(char **out, const cairn_azure_account *account,
                         const cairn_azure_sas_options *o)
{
  unsigned char mac[CAIRN_SHA256_LEN];
  cairn_buf sts = CAIRN_BUF_INIT, q = CAIRN_BUF_INIT;
  char perms[sizeof(PERMISSION_ORDER)], start[32] = "", expiry[32];
  const char *resource, *protocol;
  char *sig = NULL;
  int error;

  *out = NULL;
  if ((error = check_options(o)) < 0 ||
      (error = canonical_permissions(perms, o->permissions, !!o->blob)) < 0)
    return error;
  if (!account || account->auth != CAIRN_AZURE_AUTH_SHARED_KEY ||
      !account->key)
    return cairn__error(CAIRN_EAUTH, "signing a SAS for container '%s' "
                        "needs the account key; these credentials%s%s%s "
                        "have none", o->container,
                        account && account->source ? " (" : "",
                        account && account->source ? account->source : "",
                        account && account->source ? ")" : "");
  resource = o->blob ? "b" : "c";
  protocol = o->protocol ? o->protocol : "";
  if (o->start)
    cairn_time_iso8601(start, sizeof(start), o->start);
  cairn_time_iso8601(expiry, sizeof(expiry), o->expiry);

  error = cairn_buf_printf(&sts, "%s\n%s\n%s\n/blob/%s/%s%s%s\n\n\n%s\n%s\n"
                           "%s\n\n\n\n\n\n\n", perms, start, expiry,
                           account->name, o->container, o->blob ? "/" : "",
                           o->blob ? o->blob : "", protocol,
                           CAIRN_AZURE_API_VERSION, resource);
  if (!error)
    error = cairn_hmac_sha256(mac, account->key, account->key_len, sts.ptr,
                              sts.size);
  if (!error && !(sig = cairn_base64_encode(mac, sizeof(mac))))
    error = cairn__error_oom();

  /* The order of the Azure SDKs, so that tokens compare equal. */
  if (!error)
    error = put_param(&q, "sv", CAIRN_AZURE_API_VERSION);
  if (!error && o->protocol)
    error = put_param(&q, "spr", o->protocol);
  if (!error && o->start)
    error = put_param(&q, "st", start);
  if (!error)
    error = put_param(&q, "se", expiry);
  if (!error)
    error = put_param(&q, "sr", resource);
  if (!error)
    error = put_param(&q, "sp", perms);
  if (!error)
    error = put_param(&q, "sig", sig);
  if (!error && !(*out = cairn_buf_detach(&q)))
    error = cairn__error_oom();

  cairn_buf_dispose(&sts);
  cairn_buf_dispose(&q);
  free(sig);
  return error;
}

/* ------------------------------------------------------------------ */
/* Leases                                                              */
/* ------------------------------------------------------------------ */

struct cairn_azure_sas_lease {
  cairn_azure_account *key;     /* a copy of the signer: the key */
  cairn_azure_account *account; /* what is handed out: the SAS only */
  char *container;
  char perms[sizeof(PERMISSION_ORDER)];
  int64_t lifetime_s;
  int64_t expiry;       /* of the current SAS; read with atomics */
  int64_t renew_at_ms;  /* monotonic time of the next renewal */
  cairn_strlist retired; /* SAS strings replaced; freed with the lease */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int stop;
  int running; /* the renewal thread was started */
  pthread_t thread;
};

/* A copy of a Shared Key account: name, endpoint and key. */
static int copy_key_account(cairn_azure_account **out,
                            const cairn_azure_account *from)
{
  cairn_azure_account *a = cairn__calloc(1, sizeof(*a));

  *out = NULL;
  if (!a)
    return CAIRN_ENOMEM;
  a->auth = CAIRN_AZURE_AUTH_SHARED_KEY;
  a->name = cairn__strdup(from->name);
  a->endpoint = cairn__strdup(from->endpoint);
  a->source = cairn__strdup(from->source ? from->source : "account key");
  a->key = malloc(from->key_len);
  if (!a->name || !a->endpoint || !a->source || !a->key) {
    cairn_azure_account_free(a);
    return cairn__error_oom();
  }
  memcpy(a->key, from->key, from->key_len);
  a->key_len = from->key_len;
  *out = a;
  return 0;
}

/* A new SAS for the lease's container, valid from now on. */
static int lease_sign(cairn_azure_sas_lease *l, char **sas, int64_t *expiry)
{
  cairn_azure_sas_options o;
  int64_t now = cairn_time_now();
  char *query;
  int error;

  memset(&o, 0, sizeof(o));
  o.container = l->container;
  o.permissions = l->perms;
  o.start = now - CAIRN_AZURE_SAS_BACKDATE;
  o.expiry = now + l->lifetime_s;
  /* Over https, say so: the SAS is then refused on a plain channel. */
  if (cairn__starts_with(l->key->endpoint, "https://"))
    o.protocol = "https";
  if ((error = cairn_azure_sas_sign(&query, l->key, &o)) < 0)
    return error;
  *sas = cairn__azure_sas_normalise(query);
  explicit_bzero(query, strlen(query));
  free(query);
  if (!*sas)
    return cairn__error_oom();
  *expiry = o.expiry;
  return 0;
}

/* Renew when half of the SAS's life has passed. */
static int64_t next_renewal_ms(const cairn_azure_sas_lease *l)
{
  int64_t half_ms = l->lifetime_s * 1000 / 2;

  return cairn_time_monotonic_ms() + (half_ms > 0 ? half_ms : 1);
}

/*
 * Put a new SAS in the account.  Requests being set up on other threads
 * read the pointer once and copy the string, so the old string stays
 * allocated (retired) until the lease is freed.
 */
static int lease_renew(cairn_azure_sas_lease *l)
{
  char *sas, *old;
  int64_t expiry;
  int error;

  if ((error = lease_sign(l, &sas, &expiry)) < 0)
    return error;
  if ((error = cairn_strlist_add(&l->retired, "")) < 0) {
    free(sas);
    return error;
  }
  old = __atomic_exchange_n(&l->account->sas, sas, __ATOMIC_ACQ_REL);
  free(l->retired.items[l->retired.count - 1]);
  l->retired.items[l->retired.count - 1] = old;
  __atomic_store_n(&l->expiry, expiry, __ATOMIC_RELEASE);
  log_debug("azure", "renewed the SAS for container '%s' (%s), valid for "
            "%lld s", l->container, l->perms, (long long)l->lifetime_s);
  return 0;
}

static void *renewal_thread(void *arg)
{
  cairn_azure_sas_lease *l = arg;
  struct timespec until;
  int64_t at;

  pthread_mutex_lock(&l->lock);
  while (!l->stop) {
    at = l->renew_at_ms;
    until.tv_sec = (time_t)(at / 1000);
    until.tv_nsec = (long)(at % 1000) * 1000000L;
    if (cairn_time_monotonic_ms() < at) {
      pthread_cond_timedwait(&l->wake, &l->lock, &until);
      continue;
    }
    if (lease_renew(l) < 0) {
      log_warn("azure", "renewing the SAS for container '%s' failed: %s; "
               "trying again in %d s", l->container,
               cairn_error_last()->message, RETRY_MS / 1000);
      l->renew_at_ms = cairn_time_monotonic_ms() + RETRY_MS;
    } else {
      l->renew_at_ms = next_renewal_ms(l);
    }
  }
  pthread_mutex_unlock(&l->lock);
  return NULL;
}

static int start_thread(cairn_azure_sas_lease *l)
{
  pthread_condattr_t attr;
  int rc;

  if (pthread_condattr_init(&attr) != 0)
    return cairn__error(CAIRN_ERROR, "cannot set up the SAS renewal");
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  rc = pthread_cond_init(&l->wake, &attr);
  pthread_condattr_destroy(&attr);
  if (rc != 0)
    return cairn__error(CAIRN_ERROR, "cannot set up the SAS renewal");
  if (pthread_mutex_init(&l->lock, NULL) != 0) {
    pthread_cond_destroy(&l->wake);
    return cairn__error(CAIRN_ERROR, "cannot set up the SAS renewal");
  }
  if (pthread_create(&l->thread, NULL, renewal_thread, l) != 0) {
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->wake);
    return cairn__error(CAIRN_ERROR, "cannot start the SAS renewal thread");
  }
  l->running = 1;
  return 0;
}

int cairn_azure_sas_lease_new(cairn_azure_sas_lease **out,
                              const cairn_azure_account *key_account,
                              const char *container,
                              const char *permissions, int64_t lifetime_s)
{
  cairn_azure_sas_lease *l;
  char *sas = NULL, *where;
  int64_t expiry;
  int error;

  *out = NULL;
  if (lifetime_s <= 0)
    return cairn__error(CAIRN_EINVAL, "a SAS needs a lifetime of at least "
                        "one second");
  if (!key_account || key_account->auth != CAIRN_AZURE_AUTH_SHARED_KEY ||
      !key_account->key)
    return cairn__error(CAIRN_EAUTH, "a SAS for container '%s' can only be "
                        "signed with an account key", container);
  if ((error = cairn_azure_container_name_check(container)) < 0 ||
      !(l = cairn__calloc(1, sizeof(*l))))
    return error < 0 ? error : CAIRN_ENOMEM;
  l->lifetime_s = lifetime_s;
  if ((error = canonical_permissions(l->perms, permissions, 0)) < 0 ||
      (error = copy_key_account(&l->key, key_account)) < 0)
    goto fail;
  if (!(l->container = cairn__strdup(container))) {
    error = CAIRN_ENOMEM;
    goto fail;
  }
  if ((error = lease_sign(l, &sas, &expiry)) < 0 ||
      (error = cairn_azure_account_from_sas(&l->account, l->key->name, sas,
                                            l->key->endpoint)) < 0)
    goto fail;
  l->expiry = expiry;
  where = cairn__sprintf("%s, as a SAS for container '%s'", l->key->source,
                         container);
  if (!where || cairn_azure_account_set_source(l->account, where) < 0) {
    free(where);
    error = CAIRN_ENOMEM;
    goto fail;
  }
  free(where);
  l->renew_at_ms = next_renewal_ms(l);
  if ((error = start_thread(l)) < 0)
    goto fail;
  explicit_bzero(sas, strlen(sas));
  free(sas);
  *out = l;
  return 0;
fail:
  if (sas)
    explicit_bzero(sas, strlen(sas));
  free(sas);
  cairn_azure_sas_lease_free(l);
  return error;
}

cairn_azure_account *cairn_azure_sas_lease_account(
    const cairn_azure_sas_lease *lease)
{
  return lease->account;
}

int64_t cairn_azure_sas_lease_expiry(const cairn_azure_sas_lease *lease)
{
  return __atomic_load_n(&lease->expiry, __ATOMIC_ACQUIRE);
}

void cairn_azure_sas_lease_free(cairn_azure_sas_lease *l)
{
  size_t i;

  if (!l)
    return;
  if (l->running) {
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->wake);
  }
  for (i = 0; i < l->retired.count; i++)
    if (l->retired.items[i])
      explicit_bzero(l->retired.items[i], strlen(l->retired.items[i]));
  cairn_strlist_dispose(&l->retired);
  cairn_azure_account_free(l->account);
  cairn_azure_account_free(l->key);
  free(l->container);
  free(l);
}

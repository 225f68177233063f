/*
 * Presigned read URLs: a blob's URL with a service SAS (sr=b, sp=r)
 * signed with the account key (cairn_azure_sas_sign()).
 *
 * The start time is set back (CAIRN_AZURE_SAS_BACKDATE) rather than
 * left at "now": a service whose clock runs a little behind ours would
 * otherwise refuse the URL for its first seconds ("not yet valid").  The
 * expiry counts from now.  The name is checked first, so that no URL is
 * issued for a blob the service could not store under that name.
 */
#include <stdlib.h>

#include "azure/account.h"
#include "azure/auth.h"
#include "azure/client.h"
#include "core/error.h"
#include "core/util.h"

int cairn_azure_blob_presign(char **out, const cairn_azure_account *account,
                             const char *container, const char *name,
                             int64_t expires_in_s)
{
  cairn_azure_sas_options o = {0};
  int64_t now = cairn_time_now();
  char *sas = NULL;
  int error;

  *out = NULL;
  if (!account)
    return cairn__error(CAIRN_EINVAL, "no account to presign with");
  if ((error = cairn_azure_container_name_check(container)) < 0 ||
      (error = cairn_azure_blob_name_check(name)) < 0)
    return error;
  if (expires_in_s <= 0)
    return cairn__error(CAIRN_EINVAL, "a presigned URL needs a lifetime of "
                        "at least one second");
  if (account->auth != CAIRN_AZURE_AUTH_SHARED_KEY || !account->key)
    return cairn__error(CAIRN_EAUTH,
                        "presigning blob '%s' needs the key of account "
                        "'%s'; the store reaches it with %s, which cannot "
                        "sign a new SAS", name, account->name,
                        account->auth == CAIRN_AZURE_AUTH_SAS
                            ? "a SAS"
                            : "a credential without a key");

  o.container = container;
  o.blob = name;
  o.permissions = "r";
  o.start = now - CAIRN_AZURE_SAS_BACKDATE;
  o.expiry = now + expires_in_s;
  if ((error = cairn_azure_sas_sign(&sas, account, &o)) < 0)
    return error;
  /* the account has no SAS of its own: the URL carries this one only */
  if (!(*out = cairn__azure_url(account, container, name, sas)))
    error = CAIRN_ENOMEM;
  free(sas);
  return error;
}

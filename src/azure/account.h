/*
 * The account object behind cairn_azure_account.  Internal to libcairn:
 * the blob client reads these fields; only account.c writes them.
 */
#ifndef CAIRN_AZURE_ACCOUNT_H
#define CAIRN_AZURE_ACCOUNT_H

#include <stddef.h>

#include <cairn/azure.h>

#include "azure/token.h"

/* The account of Azurite and the Azure storage emulator. */
#define CAIRN_AZURE_DEV_ACCOUNT "devstoreaccount1"
#define CAIRN_AZURE_DEV_KEY                                                \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZF" \
  "PTOtr/KBHBeksoGMGw=="
#define CAIRN_AZURE_DEV_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"

struct cairn_azure_account {
  char *name;             /* account name; "" when not known (SAS only) */
  char *endpoint;         /* scheme://host[:port][/path], no trailing '/' */
  cairn_azure_auth auth;  /* how requests are authorised */
  unsigned char *key;     /* decoded account key (SHARED_KEY), else NULL */
  size_t key_len;
  char *sas;              /* SAS query without the '?' (SAS), else NULL */
  cairn__azure_tokens *tokens; /* BEARER: where tokens come from */
  char *source;           /* where the credential came from; no secret */
};

#endif

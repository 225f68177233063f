/*
 * The blob client's internals, shared by client.c, blob.c, list.c,
 * transfer.c and errors.c.  Internal to libcairn.
 */
#ifndef CAIRN_AZURE_CLIENT_H
#define CAIRN_AZURE_CLIENT_H

#include <cairn/azure.h>

#include "http/http.h"

#define CAIRN_AZURE_MIB ((uint64_t)1024 * 1024)
/* Bytes of transfer buffers a client keeps in flight at most, unless its
 * memory budget says otherwise. */
#define CAIRN_AZURE_INFLIGHT_MAX (40 * CAIRN_AZURE_MIB)
/* The service's limit of blocks in one blob. */
#define CAIRN_AZURE_MAX_BLOCKS 50000

struct cairn_azure_client {
  const cairn_azure_account *account; /* borrowed */
  cairn_http_client *http;
  cairn_azure_transfer_options opts; /* defaults filled in */
  char last_code[64]; /* service error code of the last failure, or "" */
  unsigned token_generation; /* of the last bearer token sent */
};

/* Raise the client's progress counters, if it has them. */
static inline void cairn__azure_progress(const cairn_azure_client *c,
                                         uint64_t bytes, uint64_t files)
{
  if (!c->opts.progress)
    return;
  __atomic_fetch_add(&c->opts.progress->bytes_done, bytes,
                     __ATOMIC_RELAXED);
  __atomic_fetch_add(&c->opts.progress->files_done, files,
                     __ATOMIC_RELAXED);
}

/*
 * Set up @p req (initialised with cairn_http_request_init() before its
 * first use) for one Azure operation: URL from the account (SAS
 * included), signing before every attempt, safe to repeat.  @p name and
 * @p query [nullable]; query already encoded.
 */
int cairn__azure_request(cairn_http_request *req, cairn_azure_client *c,
                         const char *method, const char *container,
                         const char *name, const char *query);

/*
 * Send @p req and wait.  Returns 0 for a 2xx answer, else the mapped
 * error naming @p container and @p name [nullable].
 */
int cairn__azure_send(cairn_azure_client *c, cairn_http_request *req,
                      const char *container, const char *name);

/*
 * The cairn error for a finished request that failed (transport error or
 * non-2xx status), with a message naming @p container and @p name
 * [nullable] and the service's error code.  Sets c->last_code.
 */
int cairn__azure_error(cairn_azure_client *c, const cairn_http_request *req,
                       const char *container, const char *name);

/* 1 when the last failure was ContainerNotFound. */
int cairn__azure_container_missing(const cairn_azure_client *c);

/*
 * After a write failed with ContainerNotFound: create @p container.
 * Returns 0 when it exists now, else an error naming it.
 */
int cairn__azure_container_recover(cairn_azure_client *c,
                                   const char *container);

/* Fill @p out (name copied) from the headers of a HEAD or GET answer. */
int cairn__azure_info_from_headers(cairn_azure_blob_info *out,
                                   const cairn_http_headers *h,
                                   const char *name);

/* 1 when @p value reads "true" in any case. */
int cairn__azure_is_true(const char *value);

/* Add Content-MD5 of @p data when the client is set to send it. */
int cairn__azure_add_md5(cairn_azure_client *c, cairn_http_request *req,
                         const void *data, size_t len);

/* The EEXISTS error of a create-only write. */
int cairn__azure_exists_error(cairn_azure_client *c, const char *container,
                              const char *name);

/*
 * One Put Blob from memory, creating a missing container once.
 * @p sha256_hex [nullable] is stored as metadata cairnsha256.
 */
int cairn__azure_put_blob(cairn_azure_client *c, const char *container,
                          const char *name, const void *data, size_t len,
                          unsigned flags, const char *sha256_hex);

#endif

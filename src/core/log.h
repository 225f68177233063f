/*
 * Logging from inside libcairn.  Records go to the sink set with
 * cairn_log_set_sink(); the level check is cheap, so callers log freely.
 */
#ifndef CAIRN_CORE_LOG_H
#define CAIRN_CORE_LOG_H

#include <cairn/log.h>

extern cairn_log_level cairn__log_level;

void cairn__log(cairn_log_level level, const char *category,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define cairn__log_enabled(lvl) ((lvl) <= cairn__log_level)

#define CAIRN_LOG(lvl, cat, ...)                                           \
  do {                                                                     \
    if (cairn__log_enabled(lvl))                                           \
      cairn__log((lvl), (cat), __VA_ARGS__);                               \
  } while (0)

#define log_error(cat, ...) CAIRN_LOG(CAIRN_LOG_ERROR, cat, __VA_ARGS__)
#define log_warn(cat, ...) CAIRN_LOG(CAIRN_LOG_WARN, cat, __VA_ARGS__)
#define log_info(cat, ...) CAIRN_LOG(CAIRN_LOG_INFO, cat, __VA_ARGS__)
#define log_debug(cat, ...) CAIRN_LOG(CAIRN_LOG_DEBUG, cat, __VA_ARGS__)
#define log_trace(cat, ...) CAIRN_LOG(CAIRN_LOG_TRACE, cat, __VA_ARGS__)

/*
 * Copy @p in to @p out (at most @p outlen bytes with the NUL), with
 * secrets masked: the values of the query parameters sig, se-signature
 * style tokens ("sig=", "AccountKey=", "SharedAccessSignature=",
 * "client_secret="), and the value of an "Authorization:" header.
 */
void cairn__redact(char *out, size_t outlen, const char *in);

#endif

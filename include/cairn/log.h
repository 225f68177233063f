/**
 * @file cairn/log.h
 * @brief The library's logger: messages go to a sink the application sets.
 *
 * libcairn never prints.  It hands log records to one process-wide sink;
 * without a sink, records are dropped.  Secrets (keys, SAS signatures,
 * tokens) are redacted before a record is made.
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  CAIRN_LOG_ERROR = 0,
  CAIRN_LOG_WARN = 1,
  CAIRN_LOG_INFO = 2,
  CAIRN_LOG_DEBUG = 3,
  CAIRN_LOG_TRACE = 4
} cairn_log_level;

/**
 * A log sink.  @p category names the part of the library ("http",
 * "azure", "pipeline"); @p message is one line without a newline.
 */
typedef void (*cairn_log_sink)(cairn_log_level level, const char *category,
                               const char *message, void *payload);

/** Set the sink (NULL drops every record) and its payload. */
CAIRN_EXTERN(void) cairn_log_set_sink(cairn_log_sink sink, void *payload);

/** Records above @p level are dropped.  The default is CAIRN_LOG_WARN. */
CAIRN_EXTERN(void) cairn_log_set_level(cairn_log_level level);

/** The current level. */
CAIRN_EXTERN(cairn_log_level) cairn_log_get_level(void);

/**
 * Parse a level name ("error", "warn", "warning", "info", "debug",
 * "trace"; any case).  Returns 0, or CAIRN_EINVAL for an unknown name.
 */
CAIRN_EXTERN(int) cairn_log_level_parse(cairn_log_level *out,
                                        const char *name);

#ifdef __cplusplus
}
#endif
#endif

/*
 * What the component command groups (artifact-store, orchestrator) share:
 * finding a component, listing and describing one type.
 */
#ifndef CAIRN_CLI_CMD_COMPONENT_H
#define CAIRN_CLI_CMD_COMPONENT_H

#include "cli/cli.h"

/* "ARTIFACT_STORE" / "Artifact_Store" / "artifact store" for @p type. */
const char *cmd_component_upper(const char *type);
const char *cmd_component_title(const char *type);
const char *cmd_component_label(const char *type);

/*
 * The component of @p type named @p name_or_null, or the active stack's
 * one when NULL.  Prints the error and returns 1 on failure.
 */
int cmd_component_find(cli_ctx *ctx, const char *type,
                       const char *name_or_null, cairn_component *out);
/* 1 when component @p c is part of the active stack. */
int cmd_component_is_active(cairn_store *store, const cairn_component *c);

/* `cairn <type> list` and `cairn <type> describe [NAME]`. */
int cmd_component_list(cli_ctx *ctx, const char *type, int argc,
                       char **argv);
int cmd_component_describe(cli_ctx *ctx, const char *type, int argc,
                           char **argv);

/* A config value as text for tables (free()). */
char *cmd_component_value_text(const json_t *v);

#endif

/*
 * What the component command groups (artifact-store, orchestrator) share:
 * finding a component, listing and describing one type.
 */
#ifndef CAIRN_CLI_CMD_COMPONENT_H
#define CAIRN_CLI_CMD_COMPONENT_H

#include "cli/cli.h"
#include "stack/connector.h"

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

/* Service connectors, for artifact-store and service-connector. */
/* @p text broken into lines of at most @p width columns (free()). */
char *cmd_connector_wrap(const char *text, size_t width);
/* The RESOURCE NAMES cell of a row: its names, or "error: ..." (free()). */
char *cmd_connector_names_cell(const cairn_connector_row *row);
/* A row as JSON: resource_type, resource_names, error. */
json_t *cmd_connector_row_json(const cairn_connector_row *row);
/* The RESOURCE TYPE | RESOURCE NAMES table of a verification. */
void cmd_connector_print_result(cli_ctx *ctx,
                                const cairn_connector_result *r);
/* The first row's error, else the last library error. */
const char *cmd_connector_first_error(const cairn_connector_result *r);
/* "Expired!", "", or the time left ("59m58s"), for EXPIRES IN. */
void cmd_connector_expires_in(char *out, size_t outlen,
                              const cairn_connector *c);

#endif

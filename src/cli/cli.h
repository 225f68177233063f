/*
 * The command-line face: option parsing from a declarative table,
 * --help, framed tables, --output json, and error printing.
 *
 * Every command is `int cmd_x(cli_ctx *ctx, int argc, char **argv)`
 * where argv[0] is the command's own name; it returns the process exit
 * status (0 ok, 1 error).  Only this face prints.
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "core/buf.h"
#include "store/store.h"

typedef struct {
  int json;            /* --output json was given */
  char *home;          /* the cairn home (CAIRN_HOME or the XDG default) */
  cairn_store *store;  /* opened by cli_store() */
} cli_ctx;

/*
 * The metadata store, opened on first use (creating the home and the
 * default stack).  Prints the error and returns NULL on failure.
 */
cairn_store *cli_store(cli_ctx *ctx);

/* Set the log level from @p name; @p from says where it was given. */
int cli_set_log_level(const char *name, const char *from);

/* "Error: <message>" on stderr; returns 1 (the exit status). */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "Error: <the library's last error>" on stderr; returns 1. */
int cli_fail(void);
/* "Warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One informational line on stdout (suppressed with --output json). */
void cli_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- */
/* Options                                                           */
/* ---------------------------------------------------------------- */

typedef enum {
  CLI_FLAG = 0, /* --yes */
  CLI_VALUE,    /* --path=URI or --path URI; the last one wins */
  CLI_MULTI     /* --param k=v, repeatable */
} cli_opt_kind;

typedef struct {
  const char *name;  /* long name without "--" ("artifact-store") */
  const char *alias; /* short name without "-" ("a", "ri"), or NULL */
  cli_opt_kind kind;
  const char *metavar; /* "NAME", shown in --help */
  const char *help;
} cli_opt;

#define CLI_OPT_END {NULL, NULL, CLI_FLAG, NULL, NULL}

/* What free-form --key=value fields are. */
#define CLI_FLAVOR_FIELDS 1
#define CLI_SECRET_KEYS 2

typedef struct {
  const char *usage;   /* "cairn stack register NAME -a STORE [--set]" */
  const char *summary; /* one sentence */
  const cli_opt *opts; /* ends with CLI_OPT_END; may be NULL */
  int min_args;        /* positional arguments */
  int max_args;        /* -1: any number */
  int extra_fields;    /* accept free-form --key=value: CLI_FLAVOR_FIELDS
                          or CLI_SECRET_KEYS (for --help) */
  int json;            /* the command takes --output json */
} cli_spec;

typedef struct {
  const cli_spec *spec;
  char **args;           /* positional, borrowed from argv */
  size_t nargs;
  const char **values;   /* per option: its value or NULL */
  int *counts;           /* per option: times given */
  cairn_strlist *multi;  /* per option: every value (CLI_MULTI) */
  json_t *fields;        /* free-form --key=value, an object */
} cli_args;

/*
 * Parse argv[1..] against @p spec.  --help prints the help and returns
 * 2 (exit 0); an error is printed and 1 returned; 0 when parsed.
 * --output json (or --output=json) sets ctx->json when spec->json.
 */
int cli_parse(cli_ctx *ctx, const cli_spec *spec, int argc, char **argv,
              cli_args *out);
void cli_args_dispose(cli_args *a);
/* The value of option @p name, or NULL. */
const char *cli_value(const cli_args *a, const char *name);
/* 1 when flag @p name was given. */
int cli_flag(const cli_args *a, const char *name);
/* Every value of a CLI_MULTI option (never NULL). */
const cairn_strlist *cli_values(const cli_args *a, const char *name);

/* Parse a command's exit code from cli_parse: 2 -> 0, else itself. */
#define CLI_PARSED(rc) ((rc) == 2 ? 0 : (rc))

/* ---------------------------------------------------------------- */
/* Command groups                                                    */
/* ---------------------------------------------------------------- */

typedef int (*cli_command_fn)(cli_ctx *ctx, int argc, char **argv);

typedef struct {
  const char *name;    /* "register" */
  cli_command_fn fn;
  const char *summary; /* for the group's --help */
} cli_command;

#define CLI_COMMAND_END {NULL, NULL, NULL}

/*
 * Run the subcommand named argv[1] of group @p group ("stack"): prints
 * the group's help for --help or no subcommand, an error naming the
 * valid subcommands for an unknown one.
 */
int cli_dispatch(cli_ctx *ctx, const char *group, const char *summary,
                 const cli_command *commands, int argc, char **argv);

/* ---------------------------------------------------------------- */
/* Tables and JSON                                                   */
/* ---------------------------------------------------------------- */

typedef struct cli_table cli_table;

/*
 * A table with @p ncols columns named by @p columns ("STACK NAME").
 * @p title [nullable] is printed above it.
 */
cli_table *cli_table_new(const char *title, const char *const *columns,
                         size_t ncols);
/* Add a row of ncols cells (NULL cells print empty). */
void cli_table_add(cli_table *t, const char *const *cells);
/* Add a row from printf-free varargs: exactly ncols const char *. */
void cli_table_addv(cli_table *t, ...);
/*
 * Give the last row added its JSON form for --output json (a reference
 * is taken), when the cells' text would lose types (numbers, lists).
 */
void cli_table_row_json(cli_table *t, json_t *row);
size_t cli_table_rows(const cli_table *t);
/*
 * Print framed on stdout, or, with ctx->json, as a JSON array of
 * objects whose keys are the column names lower-cased with spaces as
 * '_'.  Frees the table.
 */
void cli_table_emit(cli_ctx *ctx, cli_table *t);
/* Print the table framed, whatever the output mode; frees it. */
void cli_table_print(cli_table *t, FILE *out);
/* Print @p value as indented JSON on stdout and release it. */
void cli_json_emit(json_t *value);

/* The marker the ACTIVE column shows. */
#define CLI_ACTIVE_MARK "\xf0\x9f\x91\x89"

/* ---------------------------------------------------------------- */
/* Small formatting helpers                                          */
/* ---------------------------------------------------------------- */

/* "2026-12-03 19:21:29" (UTC) into @p out. */
void cli_format_time(char *out, size_t outlen, int64_t t);
/* "1.2s", "3m04s", "1h02m" into @p out. */
void cli_format_duration(char *out, size_t outlen, int64_t ms);
/* "1.5 MiB" into @p out. */
void cli_format_size(char *out, size_t outlen, uint64_t bytes);
/* Ask a yes/no question on the terminal; 1 for yes.  Non-terminal: 0. */
int cli_confirm(const char *question);

/* The largest file a value may be read from with "@FILE". */
#define CLI_FILE_LIMIT 65536

/*
 * Expand a value given on the command line: "@FILE" is the content of
 * FILE ("~" expanded; at most CLI_FILE_LIMIT bytes of text), "@@x" is the
 * text "@x", anything else itself.  A new string in *out; on failure the
 * error is printed and 1 returned.
 */
int cli_expand_value(const char *value, char **out);
/*
 * Parse @p text as JSON, else YAML, key/value pairs into an object of
 * strings (scalars as written).  @p what names the text in errors
 * ("--values").  Prints the error and returns 1 on failure.
 */
int cli_parse_values(const char *text, const char *what, json_t **out);
/*
 * Ask @p question on stderr and read one line from stdin (a terminal or
 * a pipe); @p hidden turns echo off on a terminal.  A new string in
 * *out; -1 at the end of input.
 */
int cli_prompt(const char *question, int hidden, char **out);

/* Command groups (one file each). */
int cmd_stack(cli_ctx *ctx, int argc, char **argv);
int cmd_artifact_store(cli_ctx *ctx, int argc, char **argv);
int cmd_orchestrator(cli_ctx *ctx, int argc, char **argv);
int cmd_pipeline(cli_ctx *ctx, int argc, char **argv);
int cmd_run(cli_ctx *ctx, int argc, char **argv);
int cmd_artifact(cli_ctx *ctx, int argc, char **argv);
int cmd_integration(cli_ctx *ctx, int argc, char **argv);
int cmd_status(cli_ctx *ctx, int argc, char **argv);
int cmd_secret(cli_ctx *ctx, int argc, char **argv);
int cmd_service_connector(cli_ctx *ctx, int argc, char **argv);

#endif

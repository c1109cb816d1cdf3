/* airlearn — one table of settings for the command line, INI files and
 * --help.
 *
 * Each command describes its settings once, as an array of opt_desc ending
 * with an entry whose name is NULL; the same table fills a plain C struct
 * (through offsetof) from built-in defaults, then a configuration file,
 * then the command line, in that order (rtl_433's parse_conf_option idea).
 * Every value is checked against its type and range where it enters, and
 * every rejection names where it came from: "FILE:LINE: [section] key: why"
 * or "--section.key: why".
 *
 * No state of its own: tables and the structs they fill are the caller's
 * (a struct filled from one thread at a time); messages go through
 * al_error.
 */
#ifndef AL_OPTIONS_H
#define AL_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    OPT_UINT,    /* unsigned, range [min, max] */
    OPT_U64,     /* uint64_t, range [min, max] (max up to 2^53) */
    OPT_DOUBLE,  /* double, range [min, max], finite */
    OPT_STRING,  /* char[size] */
    OPT_ENUM,    /* int index into choices */
    OPT_BOOL,    /* int 0/1: true/false/yes/no/1/0 */
} opt_type;

typedef struct {
    const char *section;          /* INI section, e.g. "radio" */
    const char *name;             /* key, e.g. "sample_rate" */
    opt_type type;
    size_t offset;                /* offsetof(config struct, field) */
    size_t size;                  /* OPT_STRING: buffer size */
    double min, max;              /* numeric range (inclusive) */
    const char *const *choices;   /* OPT_ENUM: names, NULL-terminated */
    const char *def;              /* default, as it would be written */
    const char *help;             /* one line for --help */
} opt_desc;

/* One setting of another command's table offered by this one under its
 * own name: a command that drives the daemons (the loopback) takes some of
 * their settings with the daemons' type, range and choices, so that the
 * two cannot drift apart. */
typedef struct {
    const char *name;           /* the name here, e.g. "lr-tx" */
    const char *section, *key;  /* the setting in the source table */
    const char *def;            /* the default here (NULL: the source's) */
    const char *help;           /* NULL: the source's */
} opt_alias;

/* Writes into out [capacity: cap entries] the entries of own, then one
 * entry per alias (aliases end with a NULL name): the source's entry in
 * section, renamed, with its offset moved by src_base (where the source's
 * struct lies inside this command's), then the terminator. Returns the
 * number of entries before the terminator, or AL_EINVAL when an alias
 * names no setting of src or out is too small (programming errors; the
 * message names the alias). */
int opt_table_join(opt_desc *out, size_t cap, const char *section, const opt_desc *own,
                   const opt_desc *src, size_t src_base, const opt_alias *aliases);

/* Fill cfg from the defaults of the table. Returns 0 or AL_EINVAL (a bad
 * default is a programming error; the message names it). */
int opt_defaults(const opt_desc *table, void *cfg);

/* Set one value. section may be NULL to match the key in any section
 * when that is unambiguous. On error returns AL_EINVAL and writes "why"
 * into err [size: err_len]. */
int opt_set(const opt_desc *table, void *cfg, const char *section, const char *key,
            const char *value, char *err, size_t err_len);

/* Load an INI file. Keys before any [section] line belong to
 * default_section (may be NULL: then they are errors). Stops at the first
 * problem: AL_EIO (cannot open) or AL_EINVAL with the message
 * "PATH:LINE: [section] key: why" (see al_error_message()). */
int opt_load_ini(const opt_desc *table, void *cfg, const char *path,
                 const char *default_section);

/* The same from a NUL-terminated text; name stands for the file in
 * messages. */
int opt_load_ini_string(const opt_desc *table, void *cfg, const char *text, const char *name,
                        const char *default_section);

/* Parse command-line settings argv[first..argc-1]: "--key=value",
 * "--key value", "--section.key=value". Arguments that are not settings
 * (and "--config FILE", already handled by the caller) are left to the
 * caller through *unknown_index (set to the first one that is not a
 * setting, or argc). Returns 0 or AL_EINVAL with "--key: why". */
int opt_parse_args(const opt_desc *table, void *cfg, int argc, char **argv, int first,
                   int *unknown_index);

/* Finds "--config FILE" or "--config=FILE" in argv; NULL if absent. */
const char *opt_find_config(int argc, char **argv);

/* Where opt_load stopped. */
typedef enum {
    OPT_FROM_DEFAULTS,   /* a default of the table (a programming error) */
    OPT_FROM_FILE,       /* the file of --config */
    OPT_FROM_ARGS,       /* a value on the command line */
    OPT_FROM_UNKNOWN,    /* an argument that is no setting of the table */
} opt_origin;

/* cfg from the defaults of table, then the file of --config (keys before
 * any [section] belong to default_section, may be NULL), then the
 * settings in argv[1..argc-1]. Returns 0, or the first problem as
 * AL_EINVAL or AL_EIO with its message, and *origin set to where it was
 * (OPT_FROM_UNKNOWN: "unknown option '--x'"). */
int opt_load(const opt_desc *table, void *cfg, const char *default_section, int argc,
             char **argv, opt_origin *origin);

/* One line per setting: name, default, range or choices, help. When
 * with_section is set the names are printed as --section.key. */
void opt_print_help(const opt_desc *table, FILE *f, int with_section);

/* Writes the settings in force as INI text (for the record of a run).
 * Numbers are written as the shortest text that reads back to the same
 * value (0.35, not 0.34999999999999998). */
void opt_write_ini(const opt_desc *table, const void *cfg, FILE *f);

#endif

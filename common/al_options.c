#include "al_options.h"

#include "al_error.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const opt_desc *s_find(const opt_desc *table, const char *section, const char *key,
                              int *ambiguous)
{
    const opt_desc *hit = NULL;
    *ambiguous = 0;
    for (const opt_desc *d = table; d->name != NULL; d++) {
        if (strcmp(d->name, key) != 0)
            continue;
        if (section != NULL && strcmp(d->section, section) != 0)
            continue;
        if (hit != NULL)
            *ambiguous = 1;
        hit = d;
    }
    return hit;
}

static int s_parse_number(const char *value, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == value || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int s_is_bool_word(const char *v)
{
    static const char *const words[] = {"true", "false", "yes", "no", "1", "0"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(v, words[i]) == 0)
            return 1;
    return 0;
}

static int s_set(const opt_desc *d, void *cfg, const char *value, char *err, size_t err_len)
{
    char *field = (char *)cfg + d->offset;
    double v;
    switch (d->type) {
    case OPT_UINT:
    case OPT_U64:
        if (s_parse_number(value, &v) < 0 || v != floor(v)) {
            snprintf(err, err_len, "'%s' is not a whole number", value);
            return AL_EINVAL;
        }
        if (v < d->min || v > d->max) {
            snprintf(err, err_len, "%s is out of range [%.17g, %.17g]", value, d->min, d->max);
            return AL_EINVAL;
        }
        if (d->type == OPT_UINT)
            *(unsigned *)field = (unsigned)v;
        else
            *(uint64_t *)field = (uint64_t)v;
        return AL_OK;
    case OPT_DOUBLE:
        if (s_parse_number(value, &v) < 0) {
            snprintf(err, err_len, "'%s' is not a finite number", value);
            return AL_EINVAL;
        }
        if (v < d->min || v > d->max) {
            snprintf(err, err_len, "%s is out of range [%g, %g]", value, d->min, d->max);
            return AL_EINVAL;
        }
        *(double *)field = v;
        return AL_OK;
    case OPT_STRING:
        if (strlen(value) >= d->size) {
            snprintf(err, err_len, "longer than %zu characters", d->size - 1);
            return AL_EINVAL;
        }
        /* What an INI file could not say back: a comment start at the
         * beginning or after a space, control characters, edge spaces. */
        for (const char *c = value; *c; c++) {
            if (((*c == ';' || *c == '#') && (c == value || c[-1] == ' ' || c[-1] == '\t')) ||
                (unsigned char)*c < 0x20 || *c == 0x7f) {
                snprintf(err, err_len, "'%s': no control characters, and no ';' or '#' at the "
                         "start or after a space (INI comments)", value);
                return AL_EINVAL;
            }
        }
        if (strlen(d->name) + 3 + strlen(value) >= INI_MAX_LINE - 1) {
            snprintf(err, err_len, "longer than an INI line can hold (%d characters with the key)",
                     INI_MAX_LINE - 2);
            return AL_EINVAL;
        }
        if (value[0] == ' ' || (value[0] && value[strlen(value) - 1] == ' ')) {
            snprintf(err, err_len, "'%s' begins or ends with a space", value);
            return AL_EINVAL;
        }
        snprintf(field, d->size, "%s", value);
        return AL_OK;
    case OPT_ENUM:
        for (int i = 0; d->choices[i] != NULL; i++) {
            if (strcmp(d->choices[i], value) == 0) {
                *(int *)field = i;
                return AL_OK;
            }
        }
        {
            int n = snprintf(err, err_len, "'%s' is not one of", value);
            for (int i = 0; d->choices[i] != NULL && n > 0 && (size_t)n < err_len; i++)
                n += snprintf(err + n, err_len - (size_t)n, " %s", d->choices[i]);
        }
        return AL_EINVAL;
    case OPT_BOOL:
        if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1")) {
            *(int *)field = 1;
            return AL_OK;
        }
        if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcmp(value, "0")) {
            *(int *)field = 0;
            return AL_OK;
        }
        snprintf(err, err_len, "'%s' is not true or false", value);
        return AL_EINVAL;
    }
    snprintf(err, err_len, "unknown setting type");
    return AL_EINVAL;
}

int opt_defaults(const opt_desc *table, void *cfg)
{
    char err[256];
    for (const opt_desc *d = table; d->name != NULL; d++) {
        if (s_set(d, cfg, d->def, err, sizeof err) < 0)
            return AL_FAIL(AL_EINVAL, "default of [%s] %s: %s", d->section, d->name, err);
    }
    return AL_OK;
}

int opt_set(const opt_desc *table, void *cfg, const char *section, const char *key,
            const char *value, char *err, size_t err_len)
{
    int ambiguous;
    const opt_desc *d = s_find(table, section, key, &ambiguous);
    if (d == NULL) {
        snprintf(err, err_len, "unknown setting");
        return AL_EINVAL;
    }
    if (ambiguous) {
        snprintf(err, err_len, "ambiguous: name it as section.key");
        return AL_EINVAL;
    }
    return s_set(d, cfg, value, err, err_len);
}

int opt_table_join(opt_desc *out, size_t cap, const char *section, const opt_desc *own,
                   const opt_desc *src, size_t src_base, const opt_alias *aliases)
{
    size_t n = 0;
    for (const opt_desc *d = own; d->name != NULL; d++) {
        if (n + 1 >= cap)
            return AL_FAIL(AL_EINVAL, "option table: room for %zu entries only", cap);
        out[n++] = *d;
    }
    for (const opt_alias *a = aliases; a->name != NULL; a++) {
        int ambiguous;
        const opt_desc *d = s_find(src, a->section, a->key, &ambiguous);
        if (d == NULL || ambiguous)
            return AL_FAIL(AL_EINVAL, "option --%s: no setting [%s] %s to stand for", a->name,
                           a->section, a->key);
        if (n + 1 >= cap)
            return AL_FAIL(AL_EINVAL, "option table: room for %zu entries only", cap);
        opt_desc e = *d;
        e.section = section;
        e.name = a->name;
        e.offset = src_base + d->offset;
        if (a->def != NULL)
            e.def = a->def;
        if (a->help != NULL)
            e.help = a->help;
        out[n++] = e;
    }
    out[n] = (opt_desc){0};
    return (int)n;
}

typedef struct {
    const opt_desc *table;
    void *cfg;
    const char *default_section;
    char err[512];      /* first error, "[section] key: why" */
    int failed;         /* err is set */
} s_ini_ctx;

static int s_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ini_ctx *c = user;
    if (c->failed)
        return 1; /* keep the first error; inih reports its line */
    const char *sec = section[0] ? section : c->default_section;
    char why[256];
    if (sec == NULL) {
        snprintf(c->err, sizeof c->err, "%s: setting outside any [section]", name);
        c->failed = 1;
        return 0;
    }
    if (opt_set(c->table, c->cfg, sec, name, value, why, sizeof why) < 0) {
        snprintf(c->err, sizeof c->err, "[%s] %s: %s", sec, name, why);
        c->failed = 1;
        return 0;
    }
    return 1;
}

static int s_ini_result(int line, const s_ini_ctx *c, const char *name)
{
    if (line == 0)
        return AL_OK;
    if (line < 0)
        return AL_FAIL(AL_EIO, "cannot read configuration %s", name);
    if (c->failed)
        return al_error_set(AL_EINVAL, NULL, "%s:%d: %s", name, line, c->err);
    return al_error_set(AL_EINVAL, NULL, "%s:%d: malformed line (expected key = value or [section])",
                        name, line);
}

/* inih reads at most INI_MAX_LINE - 1 characters of a line and takes the
 * rest for the next line, so that an over-long line would turn into a
 * phantom one (with a key of its own): refuse such input, naming it. */
static int s_check_lines(const char *text, const char *name)
{
    int line = 1;
    size_t len = 0;
    for (const char *c = text; *c; c++) {
        if (*c == '\n') {
            line++;
            len = 0;
        } else if (++len >= INI_MAX_LINE - 1) {
            return al_error_set(AL_EINVAL, NULL, "%s:%d: line longer than %d characters", name,
                                line, INI_MAX_LINE - 2);
        }
    }
    return AL_OK;
}

int opt_load_ini_string(const opt_desc *table, void *cfg, const char *text, const char *name,
                        const char *default_section)
{
    int rc = s_check_lines(text, name);
    if (rc < 0)
        return rc;
    s_ini_ctx c = {.table = table, .cfg = cfg, .default_section = default_section};
    return s_ini_result(ini_parse_string(text, s_ini_handler, &c), &c, name);
}

int opt_load_ini(const opt_desc *table, void *cfg, const char *path, const char *default_section)
{
    enum { MAX_FILE = 1 << 20 };
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return AL_FAIL(AL_EIO, "cannot open configuration %s: %s", path, strerror(errno));
    char *text = malloc(MAX_FILE + 1);
    size_t n = text ? fread(text, 1, MAX_FILE + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (text == NULL)
        return AL_FAIL(AL_ENOMEM, "out of memory reading %s", path);
    if (bad || n > MAX_FILE) {
        free(text);
        return AL_FAIL(AL_EIO, "cannot read configuration %s%s", path,
                       bad ? "" : " (larger than 1 MiB)");
    }
    text[n] = '\0';
    if (memchr(text, '\0', n) != NULL) {
        free(text);
        return AL_FAIL(AL_EINVAL, "%s: not a text file (contains NUL bytes)", path);
    }
    int rc = opt_load_ini_string(table, cfg, text, path, default_section);
    free(text);
    return rc;
}

int opt_parse_args(const opt_desc *table, void *cfg, int argc, char **argv, int first,
                   int *unknown_index)
{
    *unknown_index = argc;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            *unknown_index = i;
            return AL_OK;
        }
        char key[128];
        const char *eq = strchr(a, '=');
        size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (klen == 0 || klen >= sizeof key)
            return al_error_set(AL_EINVAL, NULL, "%s: malformed option", a);
        memcpy(key, a + 2, klen);
        key[klen] = '\0';
        if (strcmp(key, "config") == 0) {
            if (eq == NULL)
                i++;
            continue;
        }
        char *dot = strchr(key, '.');
        const char *section = NULL, *name = key;
        if (dot != NULL) {
            *dot = '\0';
            section = key;
            name = dot + 1;
        }
        int ambiguous;
        const opt_desc *d = s_find(table, section, name, &ambiguous);
        if (d == NULL) {
            if (dot != NULL)
                *dot = '.';
            *unknown_index = i;
            return AL_OK;
        }
        const char *value;
        if (eq != NULL) {
            value = eq + 1;
        } else if (d->type == OPT_BOOL && (i + 1 >= argc || !s_is_bool_word(argv[i + 1]))) {
            value = "true"; /* a bare flag */
        } else {
            if (i + 1 >= argc)
                return al_error_set(AL_EINVAL, NULL, "%s: needs a value", a);
            value = argv[++i];
        }
        char why[256];
        if (ambiguous)
            return al_error_set(AL_EINVAL, NULL, "--%s: ambiguous, write --section.%s", name, name);
        if (s_set(d, cfg, value, why, sizeof why) < 0)
            return al_error_set(AL_EINVAL, NULL, "--%s.%s: %s", d->section, d->name, why);
    }
    return AL_OK;
}

const char *opt_find_config(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return NULL;
}

int opt_load(const opt_desc *table, void *cfg, const char *default_section, int argc,
             char **argv, opt_origin *origin)
{
    *origin = OPT_FROM_DEFAULTS;
    int rc = opt_defaults(table, cfg);
    if (rc < 0)
        return rc;
    *origin = OPT_FROM_FILE;
    const char *config = opt_find_config(argc, argv);
    if (config != NULL && (rc = opt_load_ini(table, cfg, config, default_section)) < 0)
        return rc;
    *origin = OPT_FROM_ARGS;
    int unknown;
    if ((rc = opt_parse_args(table, cfg, argc, argv, 1, &unknown)) < 0)
        return rc;
    if (unknown < argc) {
        *origin = OPT_FROM_UNKNOWN;
        return al_error_set(AL_EINVAL, NULL, "unknown option '%s'", argv[unknown]);
    }
    return AL_OK;
}

/* The shortest text that strtod reads back to exactly v: 0.35, not
 * 0.34999999999999998 (17 significant digits always read back). %g with
 * the fewest digits writes 30 as 3e+01; a whole number written out is
 * taken when it is no longer. */
static void s_format_double(double v, char *buf, size_t len)
{
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    char plain[32];
    if (strchr(buf, 'e') != NULL && v == floor(v) && fabs(v) < 1e17 &&
        (size_t)snprintf(plain, sizeof plain, "%.0f", v) <= strlen(buf))
        snprintf(buf, len, "%s", plain);
}

static void s_format_value(const opt_desc *d, const void *cfg, char *buf, size_t len)
{
    const char *field = (const char *)cfg + d->offset;
    switch (d->type) {
    case OPT_UINT: snprintf(buf, len, "%u", *(const unsigned *)field); break;
    case OPT_U64: snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case OPT_DOUBLE: s_format_double(*(const double *)field, buf, len); break;
    case OPT_STRING: snprintf(buf, len, "%s", field); break;
    case OPT_ENUM: snprintf(buf, len, "%s", d->choices[*(const int *)field]); break;
    case OPT_BOOL: snprintf(buf, len, "%s", *(const int *)field ? "true" : "false"); break;
    }
}

void opt_print_help(const opt_desc *table, FILE *f, int with_section)
{
    for (const opt_desc *d = table; d->name != NULL; d++) {
        char name[96], range[128] = "";
        if (with_section)
            snprintf(name, sizeof name, "--%s.%s", d->section, d->name);
        else
            snprintf(name, sizeof name, "--%s", d->name);
        if (d->type == OPT_ENUM) {
            int n = 0;
            for (int i = 0; d->choices[i] != NULL && (size_t)n < sizeof range; i++)
                n += snprintf(range + n, sizeof range - (size_t)n, "%s%s", i ? "|" : "",
                              d->choices[i]);
        } else if (d->type == OPT_UINT || d->type == OPT_U64 || d->type == OPT_DOUBLE) {
            snprintf(range, sizeof range, "%g..%g", d->min, d->max);
        }
        fprintf(f, "  %-24s %s", name, d->help);
        fprintf(f, " [%s%s%s%s]\n", d->def[0] ? "default " : "no default", d->def,
                range[0] ? "; " : "", range);
    }
}

void opt_write_ini(const opt_desc *table, const void *cfg, FILE *f)
{
    const char *section = NULL;
    for (const opt_desc *d = table; d->name != NULL; d++) {
        if (section == NULL || strcmp(section, d->section) != 0) {
            fprintf(f, "%s[%s]\n", section ? "\n" : "", d->section);
            section = d->section;
        }
        char v[512];
        s_format_value(d, cfg, v, sizeof v);
        fprintf(f, "%s = %s\n", d->name, v);
    }
}

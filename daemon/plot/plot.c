#include "plot.h"

#include "al_error.h"
#include "al_log.h"
#include "al_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int plot_series_add(plot_series *s, double x, double y)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *nx = realloc(s->x, cap * sizeof(double));
        if (nx == NULL)
            return AL_FAIL(AL_ENOMEM, "no memory for a plot series");
        s->x = nx;
        double *ny = realloc(s->y, cap * sizeof(double));
        if (ny == NULL)
            return AL_FAIL(AL_ENOMEM, "no memory for a plot series");
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return AL_OK;
}

void plot_series_free(plot_series *s)
{
    free(s->x);
    free(s->y);
    s->x = s->y = NULL;
    s->n = s->cap = 0;
}

#ifdef AL_HAVE_PLPLOT
#include <plplot/plplot.h>

/* Opens an SVG page with panels laid out on a near-square grid. */
static void s_begin(const char *path, int panels)
{
    const int cols = panels <= 1 ? 1 : (int)ceil(sqrt((double)panels));
    const int rows = panels <= 1 ? 1 : (panels + cols - 1) / cols;
    plsdev("svg");
    plsfnam(path);
    plscolbg(255, 255, 255);
    if (panels <= 1)
        plspage(0, 0, 640, 480, 0, 0);
    else
        plspage(0, 0, 360 * cols, 360 * rows, 0, 0);
    plssub(cols, rows);
    plinit();
    plscol0(1, 0, 0, 0); /* axes and text in black on white */
}

int plot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
               const plot_series *series, unsigned n_series, int log_y)
{
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (unsigned k = 0; k < n_series; k++)
        for (size_t i = 0; i < series[k].n; i++) {
            double y = series[k].y[i];
            if (log_y && !(y > 0))
                continue;
            y = log_y ? log10(y) : y;
            xmin = fmin(xmin, series[k].x[i]), xmax = fmax(xmax, series[k].x[i]);
            ymin = fmin(ymin, y), ymax = fmax(ymax, y);
        }
    if (!(xmin < xmax))
        return AL_OK; /* nothing to draw */
    if (log_y) {
        ymin = floor(ymin);
        ymax = ceil(ymax);
    }
    if (!(ymin < ymax))
        ymax = ymin + 1;
    s_begin(path, 1);
    plcol0(1);
    plenv(xmin, xmax, ymin, ymax, 0, log_y ? 20 : 0);
    pllab(xlabel, ylabel, title);
    static const PLINT colors[] = {9, 3, 13, 8, 2, 4};
    PLINT opts[8], lcol[8], lsty[8];
    PLFLT lw[8];
    const char *text[8];
    for (unsigned k = 0; k < n_series && k < 8; k++) {
        PLFLT *xs = malloc(sizeof(PLFLT) * (series[k].n + 1));
        PLFLT *ys = malloc(sizeof(PLFLT) * (series[k].n + 1));
        PLINT n = 0;
        for (size_t i = 0; xs && ys && i < series[k].n; i++) {
            if (log_y && !(series[k].y[i] > 0))
                continue;
            xs[n] = series[k].x[i];
            ys[n] = log_y ? log10(series[k].y[i]) : series[k].y[i];
            n++;
        }
        plcol0(colors[k % 6]);
        pllsty(k < 2 ? 1 : 2);
        if (n > 0)
            plline(n, xs, ys);
        free(xs);
        free(ys);
        opts[k] = PL_LEGEND_LINE;
        lcol[k] = colors[k % 6];
        lsty[k] = k < 2 ? 1 : 2;
        lw[k] = 1.0;
        text[k] = series[k].label;
    }
    pllsty(1);
    plcol0(1);
    PLFLT lw_out, lh_out;
    PLINT tcol[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    pllegend(&lw_out, &lh_out, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.02, 0.02, 0.1, 0, 1, 1,
             0, 0, (PLINT)(n_series < 8 ? n_series : 8), opts, 1.0, 1.0, 2.0, 0.0, tcol, text,
             NULL, NULL, NULL, NULL, lcol, lsty, lw, NULL, NULL, NULL, NULL);
    plend();
    return AL_OK;
}

int plot_constellation(const char *path, const char *title, const float *table, unsigned M,
                       unsigned N)
{
    PLFLT *xs = malloc(sizeof(PLFLT) * M), *ys = malloc(sizeof(PLFLT) * M);
    if (xs == NULL || ys == NULL) {
        free(xs);
        free(ys);
        return AL_FAIL(AL_ENOMEM, "no memory");
    }
    double r = 0;
    for (size_t i = 0; i < (size_t)M * 2 * N; i++)
        r = fmax(r, fabs(table[i]));
    r = r > 0 ? 1.1 * r : 1;
    const unsigned panels = N > 16 ? 16 : N;
    s_begin(path, (int)panels);
    for (unsigned s = 0; s < panels; s++) {
        for (unsigned m = 0; m < M; m++) {
            xs[m] = table[(m * N + s) * 2];
            ys[m] = table[(m * N + s) * 2 + 1];
        }
        plcol0(1);
        plenv(-r, r, -r, r, 1, 0);
        char lab[128];
        if (N > 1)
            snprintf(lab, sizeof lab, "%s, symbol %u/%u", title, s + 1, N);
        else
            snprintf(lab, sizeof lab, "%s (M=%u)", title, M);
        pllab("I", "Q", lab);
        plcol0(9);
        plpoin((PLINT)M, xs, ys, 17);
    }
    plend();
    free(xs);
    free(ys);
    return AL_OK;
}

#else

static void s_not_built(void)
{
    static int said;
    if (!said)
        al_info("plots not written: airlearn was built without PLplot (-Dplot=disabled)");
    said = 1;
}

int plot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
               const plot_series *series, unsigned n_series, int log_y)
{
    (void)path, (void)title, (void)xlabel, (void)ylabel, (void)series, (void)n_series, (void)log_y;
    s_not_built();
    return AL_OK;
}

int plot_constellation(const char *path, const char *title, const float *table, unsigned M,
                       unsigned N)
{
    (void)path, (void)title, (void)table, (void)M, (void)N;
    s_not_built();
    return AL_OK;
}
#endif

int plot_constellation_csv(const char *path, const char *const *labels,
                           const float *const *tables, unsigned n, unsigned M, unsigned N)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return AL_FAIL(AL_ENOMEM, "no memory for %s", path);
    fprintf(f, "%smessage,symbol,i,q\n", labels ? "method," : "");
    for (unsigned t = 0; t < (labels ? n : 1); t++)
        for (unsigned m = 0; m < M; m++)
            for (unsigned s = 0; s < N; s++) {
                const float *p = tables[t] + ((size_t)m * N + s) * 2;
                if (labels)
                    fprintf(f, "%s,", labels[t]);
                fprintf(f, "%u,%u,%.7g,%.7g\n", m, s, p[0], p[1]);
            }
    if (fclose(f) != 0) {
        free(text);
        return AL_FAIL(AL_ENOMEM, "no memory for %s", path);
    }
    int rc = al_write_file_atomic(path, text, len);
    free(text);
    return rc;
}

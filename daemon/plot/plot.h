/* airlearn — SVG plots through PLplot (optional at build time).
 *
 * Built without PLplot (meson -Dplot=disabled), every plot function logs
 * once that plots are not available and returns AL_OK: the CSV files stay
 * the primary output. Not thread-safe (PLplot keeps global state).
 */
#ifndef AL_PLOT_H
#define AL_PLOT_H

#include <stddef.h>

typedef struct {
    const char *label;   /* legend text; not owned */
    double *x, *y;       /* [size: n], grown by plot_series_add */
    size_t n, cap;
} plot_series;

/* Appends a point (allocates as the series grows: not for hot paths). */
int plot_series_add(plot_series *s, double x, double y);
void plot_series_free(plot_series *s);

/* Line plot of several series; with log_y the y axis is logarithmic and
 * points with y <= 0 are left out. Writes path (SVG). */
int plot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
               const plot_series *series, unsigned n_series, int log_y);

/* Constellation of an M x N complex table [size: M*2N]: one panel per
 * symbol index (N panels), each the M points of that channel use. */
int plot_constellation(const char *path, const char *title, const float *table, unsigned M,
                       unsigned N);

/* The constellations as CSV at path, written atomically (a reader never
 * sees a partial file): with labels NULL, "message,symbol,i,q" rows of
 * tables[0]; otherwise "method,message,symbol,i,q" rows of each of the n
 * tables in turn, labelled. Each table is M x N complex [size: M*2N].
 * 0, or AL_ENOMEM / AL_EIO with a message. */
int plot_constellation_csv(const char *path, const char *const *labels,
                           const float *const *tables, unsigned n, unsigned M, unsigned N);

#endif

/* bench_util.h — small helpers the benchmark programs share (header only): a monotonic clock,
 * the process's CPU clock, reading a whole file, and the mclust benchmarks' inputs
 * (bench/mclust_data.R writes DIR/X.f64, n×10 float64, and DIR/labels_K.i32, one int32 label
 * per row). */
#ifndef EMGMM_BENCH_UTIL_H
#define EMGMM_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emgmm.h"

/* Wall seconds on the monotonic clock. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* This process's CPU seconds, all threads: the measure on a loaded machine. */
static inline double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The whole file in a malloc'd buffer and its length in *len; NULL if it cannot be read or is
 * empty. */
static inline void *bench_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = n > 0 ? malloc((size_t)n) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return b;
}

/* ---------------------------------------------------------------- the mclust benchmarks */
#define MCLUST_BENCH_D 10

/* The structures to run: ARG a comma list of mclust names, or NULL / "all" for the fourteen in
 * mclustBIC's order.  Fills models[14] (pointing into a copy of ARG that lives to the end of
 * the program) and returns how many. */
static inline int mclust_bench_models(const char *arg, const char *models[14])
{
    static const char *all[] = {"EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
                                "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"};
    int nm = 0;
    if (arg && strcmp(arg, "all")) {
        char *s = strdup(arg);
        for (char *t = strtok(s, ","); t && nm < 14; t = strtok(NULL, ",")) models[nm++] = t;
    } else {
        for (int i = 0; i < 14; i++) models[nm++] = all[i];
    }
    return nm;
}

/* DIR/X.f64 into *x (caller frees) and its row count into *n; the path is left in path for a
 * message.  Returns 0, or -1 if it cannot be read. */
static inline int mclust_bench_data(const char *dir, double **x, size_t *n, char *path,
                                    size_t path_size)
{
    size_t len = 0;
    snprintf(path, path_size, "%s/X.f64", dir);
    *x = bench_slurp(path, &len);
    *n = len / 8 / MCLUST_BENCH_D;
    return *x ? 0 : -1;
}

/* One-hot responsibilities [n][K] from the partition DIR/labels_K.i32 (caller frees), or NULL
 * (with a message on stderr) if the file cannot be read or has not n labels. */
static inline double *mclust_bench_resp(const char *dir, int K, size_t n)
{
    char path[1024];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/labels_%d.i32", dir, K);
    int *lab = bench_slurp(path, &len);
    if (!lab || len != n * 4) {
        fprintf(stderr, "cannot read %s\n", path);
        free(lab);
        return NULL;
    }
    double *resp = calloc(n * (size_t)K, sizeof(double));
    for (size_t i = 0; resp && i < n; i++) resp[i * (size_t)K + (size_t)lab[i]] = 1.0;
    free(lab);
    return resp;
}

/* The params both mclust benchmarks fit with, as mclust's me(): the start is one M-step from
 * the responsibilities, no regularisation, no convergence test, a degenerate fit an error.
 * inner_tol: the EVE/VVE inner loop's tolerance, or NULL for the default. */
static inline emgmm_params mclust_bench_params(const double *resp, int max_iter, int threads,
                                               const char *inner_tol)
{
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_RESP;
    p.init_resp = resp;
    p.reg_covar = 0.0;
    p.tol = 0.0;
    p.max_iter = max_iter;
    p.degenerate = EMGMM_DEGEN_ERROR;
    p.n_threads = threads;
    if (inner_tol) p.inner_tol = atof(inner_tol);
    return p;
}

#endif /* EMGMM_BENCH_UTIL_H */

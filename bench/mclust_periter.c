/* mclust_periter.c — per-iteration cost of the mclust structures (issue 19): for each model,
 * an M-step from the partition DIR/labels_K.i32 (bench/mclust_data.R), then ITERS EM
 * iterations by emgmm_fit_iterate, timed alone (the initialisation is not counted).
 *   mclust_periter DIR K [iters=10] [threads=0] [models=all] [inner_tol=default]
 * Prints per model: seconds per iteration, the inner iterations (most in one M-step, total,
 * M-steps stopped by the limit) and the final log-likelihood.  Under callgrind,
 * --toggle-collect=emgmm_fit_iterate counts the iterations' instructions alone
 * (bench/mclust_periter.sh does both). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emgmm.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *slurp(const char *path, size_t *len)
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
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mclust_periter DIR K [iters] [threads] [models] [inner_tol]\n");
        return 2;
    }
    const int K = atoi(argv[2]), iters = argc > 3 ? atoi(argv[3]) : 10,
              threads = argc > 4 ? atoi(argv[4]) : 0;
    static const char *all[] = {"EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
                                "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"};
    const char *models[14];
    int nm = 0;
    if (argc > 5 && strcmp(argv[5], "all")) {
        char *s = strdup(argv[5]);
        for (char *t = strtok(s, ","); t && nm < 14; t = strtok(NULL, ",")) models[nm++] = t;
    } else {
        for (int i = 0; i < 14; i++) models[nm++] = all[i];
    }
    char path[1024];
    size_t len;
    snprintf(path, sizeof path, "%s/X.f64", argv[1]);
    double *x = slurp(path, &len);
    if (!x || K < 1 || K > 9 || iters < 1) {
        fprintf(stderr, "cannot read %s (or bad K/iters)\n", path);
        return 1;
    }
    const size_t d = 10, n = len / 8 / d;
    emgmm_data X = emgmm_data_f64(x, n, d, d);
    snprintf(path, sizeof path, "%s/labels_%d.i32", argv[1], K);
    int *lab = slurp(path, &len);
    if (!lab || len != n * 4) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    double *resp = calloc(n * (size_t)K, sizeof(double));
    for (size_t i = 0; i < n; i++) resp[i * (size_t)K + (size_t)lab[i]] = 1.0;
    printf("# emgmm %s n=%zu d=%zu K=%d iters=%d threads=%d BLAS core %s\n", emgmm_version_string(),
           n, d, K, iters, threads ? threads : emgmm_default_threads(), emgmm_blas_corename());
    printf("# model s/iter inner_max inner_fails loglik\n");
    for (int t = 0; t < nm; t++) {
        emgmm_model *m = NULL;
        if (emgmm_model_create(&m, K, (int)d, emgmm_covariance_type_from_name(models[t]))) return 1;
        emgmm_params p = emgmm_params_default();
        p.init = EMGMM_INIT_RESP;
        p.init_resp = resp;
        p.reg_covar = 0.0;
        p.tol = 0.0;
        p.max_iter = iters;
        p.degenerate = EMGMM_DEGEN_ERROR;
        p.n_threads = threads;
        if (argc > 6) p.inner_tol = atof(argv[6]);
        int rc = emgmm_fit_init(m, &p, &X);
        double lb = 0.0;
        const double t0 = now();
        for (int it = 0; it < iters && rc == 0; it++) rc = emgmm_fit_iterate(m, &p, &X, &lb);
        const double secs = now() - t0;
        int fails = 0, most = 0;
        emgmm_model_inner_report(m, &fails, &most);
        printf("%s %.5f %d %d %.6f%s\n", models[t], secs / iters, most, fails, lb * (double)n,
               rc ? " FAILED" : "");
        emgmm_model_free(m);
    }
    free(resp);
    free(lab);
    free(x);
    return 0;
}

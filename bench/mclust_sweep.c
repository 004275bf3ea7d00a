/* mclust_sweep.c — emgmm's side of the mclust benchmark (issue 19): the fourteen structures ×
 * K = 1..9 from the partitions written by bench/mclust_data.R, each fit an M-step from the
 * partition (init 'resp', as mclust's me()) and ITERS − 1 more E/M iterations, so that its work
 * equals me(…, itmax = ITERS) in bench/mclust_bench.R.  reg_covar 0, as mclust.
 *   mclust_sweep DIR [iters=20] [threads=0] [models=all (or a comma list)] [inner_tol=default]
 * Prints one line per fit (seconds, seconds per iteration, log-likelihood) and, per model, the
 * per-iteration time at K = 9 relative to VVV's. */
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
    void *b = malloc((size_t)n);
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
    if (argc < 2) {
        fprintf(stderr, "usage: mclust_sweep DIR [iters] [threads] [models]\n");
        return 2;
    }
    const int iters = argc > 2 ? atoi(argv[2]) : 20, threads = argc > 3 ? atoi(argv[3]) : 0;
    static const char *all[] = {"EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
                                "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"};
    const char *models[14];
    int nm = 0;
    if (argc > 4 && strcmp(argv[4], "all")) {
        char *s = strdup(argv[4]);
        for (char *t = strtok(s, ","); t && nm < 14; t = strtok(NULL, ",")) models[nm++] = t;
    } else {
        for (int i = 0; i < 14; i++) models[nm++] = all[i];
    }
    char path[1024];
    size_t len;
    snprintf(path, sizeof path, "%s/X.f64", argv[1]);
    double *x = slurp(path, &len);
    if (!x) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    const size_t d = 10, n = len / 8 / d;
    emgmm_data X = emgmm_data_f64(x, n, d, d);
    printf("emgmm %s, n=%zu d=%zu, %d iterations per fit, threads %d, BLAS core %s\n",
           emgmm_version_string(), n, d, iters, threads ? threads : emgmm_default_threads(),
           emgmm_blas_corename());
    double total = 0.0, per9[14] = {0};
    for (int K = 1; K <= 9; K++) {
        snprintf(path, sizeof path, "%s/labels_%d.i32", argv[1], K);
        int *lab = slurp(path, &len);
        if (!lab || len != n * 4) {
            fprintf(stderr, "cannot read %s\n", path);
            return 1;
        }
        double *resp = calloc(n * (size_t)K, sizeof(double));
        for (size_t i = 0; i < n; i++) resp[i * (size_t)K + (size_t)lab[i]] = 1.0;
        for (int t = 0; t < nm; t++) {
            emgmm_model *m = NULL;
            if (emgmm_model_create(&m, K, (int)d, emgmm_covariance_type_from_name(models[t]))) return 1;
            emgmm_params p = emgmm_params_default();
            p.init = EMGMM_INIT_RESP;
            p.init_resp = resp;
            p.reg_covar = 0.0;
            p.tol = 0.0;
            p.max_iter = iters - 1;
            p.degenerate = EMGMM_DEGEN_ERROR;
            p.n_threads = threads;
            if (argc > 5) p.inner_tol = atof(argv[5]);
            const double t0 = now();
            int rc = emgmm_fit(m, &p, &X);
            const double secs = now() - t0;
            total += secs;
            double ll = 0.0;
            if (rc == 0) emgmm_score(m, &X, &ll);
            int fails = 0, most = 0;
            emgmm_model_inner_report(m, &fails, &most);
            printf("%s K=%d %.3f s %.4f s/iter loglik %.6f%s inner max %d fails %d\n", models[t], K, secs,
                   secs / iters, ll * (double)n, rc ? " FAILED" : "", most, fails);
            if (K == 9) per9[t] = secs / iters;
            emgmm_model_free(m);
        }
        free(resp);
        free(lab);
    }
    printf("total %.2f s\n", total);
    double vvv = 0.0;
    for (int t = 0; t < nm; t++)
        if (!strcmp(models[t], "VVV")) vvv = per9[t];
    if (vvv > 0.0)
        for (int t = 0; t < nm; t++)
            printf("K=9 %s per iteration %.4f s = %.2f x VVV\n", models[t], per9[t], per9[t] / vvv);
    free(x);
    return 0;
}

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

#include "bench_util.h"
#include "emgmm.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mclust_periter DIR K [iters] [threads] [models] [inner_tol]\n");
        return 2;
    }
    const int K = atoi(argv[2]), iters = argc > 3 ? atoi(argv[3]) : 10,
              threads = argc > 4 ? atoi(argv[4]) : 0;
    const char *models[14];
    const int nm = mclust_bench_models(argc > 5 ? argv[5] : NULL, models);
    char path[1024];
    double *x;
    size_t n;
    if (mclust_bench_data(argv[1], &x, &n, path, sizeof path) != 0 || K < 1 || K > 9 || iters < 1) {
        fprintf(stderr, "cannot read %s (or bad K/iters)\n", path);
        return 1;
    }
    const size_t d = MCLUST_BENCH_D;
    emgmm_data X = emgmm_data_f64(x, n, d, d);
    double *resp = mclust_bench_resp(argv[1], K, n);
    if (!resp) return 1;
    printf("# emgmm %s n=%zu d=%zu K=%d iters=%d threads=%d BLAS core %s\n", emgmm_version_string(),
           n, d, K, iters, threads ? threads : emgmm_default_threads(), emgmm_blas_corename());
    printf("# model s/iter inner_max inner_fails loglik\n");
    for (int t = 0; t < nm; t++) {
        emgmm_model *m = NULL;
        if (emgmm_model_create(&m, K, (int)d, emgmm_covariance_type_from_name(models[t]))) return 1;
        emgmm_params p = mclust_bench_params(resp, iters, threads, argc > 6 ? argv[6] : NULL);
        int rc = emgmm_fit_init(m, &p, &X);
        double lb = 0.0;
        const double t0 = bench_now();
        for (int it = 0; it < iters && rc == 0; it++) rc = emgmm_fit_iterate(m, &p, &X, &lb);
        const double secs = bench_now() - t0;
        int fails = 0, most = 0;
        emgmm_model_inner_report(m, &fails, &most);
        printf("%s %.5f %d %d %.6f%s\n", models[t], secs / iters, most, fails, lb * (double)n,
               rc ? " FAILED" : "");
        emgmm_model_free(m);
    }
    free(resp);
    free(x);
    return 0;
}

/* mclust_sweep.c — emgmm's side of the mclust benchmark (issue 19): the fourteen structures ×
 * K = 1..9 from the partitions written by bench/mclust_data.R, each fit an M-step from the
 * partition (init 'resp', as mclust's me()) and ITERS − 1 more E/M iterations, so that its work
 * equals me(…, itmax = ITERS) in bench/mclust_bench.R.  reg_covar 0, as mclust.
 *   mclust_sweep DIR [iters=20] [threads=0] [models=all (or a comma list)] [inner_tol=default]
 *                [inner_max_iter=default] [compat=0 (params.mclust_compat)]
 * Prints one line per fit (wall seconds, seconds per iteration, log-likelihood, the process's CPU
 * seconds, the data passes) and, per model, the per-iteration time at K = 9 relative to VVV's.
 * CPU seconds are the measure on a loaded machine at 1 thread (with 2 threads they add both). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "emgmm.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mclust_sweep DIR [iters] [threads] [models]\n");
        return 2;
    }
    const int iters = argc > 2 ? atoi(argv[2]) : 20, threads = argc > 3 ? atoi(argv[3]) : 0;
    const char *models[14];
    const int nm = mclust_bench_models(argc > 4 ? argv[4] : NULL, models);
    char path[1024];
    double *x;
    size_t n;
    if (mclust_bench_data(argv[1], &x, &n, path, sizeof path) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    const size_t d = MCLUST_BENCH_D;
    emgmm_data X = emgmm_data_f64(x, n, d, d);
    printf("emgmm %s, n=%zu d=%zu, %d iterations per fit, threads %d, BLAS core %s\n",
           emgmm_version_string(), n, d, iters, threads ? threads : emgmm_default_threads(),
           emgmm_blas_corename());
    double total = 0.0, per9[14] = {0};
    for (int K = 1; K <= 9; K++) {
        double *resp = mclust_bench_resp(argv[1], K, n);
        if (!resp) return 1;
        for (int t = 0; t < nm; t++) {
            emgmm_model *m = NULL;
            if (emgmm_model_create(&m, K, (int)d, emgmm_covariance_type_from_name(models[t])))
                return 1;
            emgmm_params p =
                mclust_bench_params(resp, iters - 1, threads, argc > 5 ? argv[5] : NULL);
            if (argc > 6) p.inner_max_iter = atoi(argv[6]);
            if (argc > 7) p.mclust_compat = atoi(argv[7]);
            const double t0 = bench_now(), c0 = bench_cpu_now();
            int rc = emgmm_fit(m, &p, &X);
            const double secs = bench_now() - t0, cpu = bench_cpu_now() - c0;
            total += secs;
            double ll = 0.0;
            if (rc == 0) emgmm_score(m, &X, &ll);
            int fails = 0, most = 0;
            emgmm_model_inner_report(m, &fails, &most);
            printf("%s K=%d %.3f s %.4f s/iter loglik %.6f%s inner max %d fails %d cpu %.3f s "
                   "passes %lld\n",
                   models[t], K, secs, secs / iters, ll * (double)n, rc ? " FAILED" : "", most,
                   fails, cpu, (long long)emgmm_model_n_passes(m));
            if (K == 9) per9[t] = secs / iters;
            emgmm_model_free(m);
        }
        free(resp);
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

/* model_load.c — the cost of loading a model file (issue 22): wall seconds of
 * emgmm_io_model_load (JSON or HDF5, by content), the process's peak resident
 * memory above what it held before the load, against the model's parameter
 * bytes (weights, means, covariances, precisions_cholesky); and, given data,
 * the seconds of emgmm_score alone (the data pass) on the mapped matrix.
 * Prints one "key value" per line for bench/bench_h5.py.
 * Usage: model_load MODEL [DATA.npy [REPEATS]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "emgmm_io.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* VmRSS and VmHWM of this process in bytes (-1 when unknown). */
static long long proc_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n)) v = atoll(line + n + 1) * 1024;
    if (f) fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: model_load MODEL [DATA.npy [REPEATS]]\n");
        return 2;
    }
    const long long rss0 = proc_kb("VmRSS:");
    emgmm_model *m = NULL;
    emgmm_io_model_file mf;
    emgmm_io_error err = {0};
    double t0 = now();
    if (emgmm_io_model_load(argv[1], &m, &mf, &err) != 0) {
        fprintf(stderr, "model_load: %s\n", err.msg);
        return 1;
    }
    double t1 = now();
    const long long hwm = proc_kb("VmHWM:");
    const size_t K = (size_t)emgmm_model_n_components(m), d = (size_t)emgmm_model_n_features(m);
    const size_t cs = emgmm_model_covariances_size(m);
    const double pbytes = 8.0 * (double)(K + K * d + 2 * cs);
    printf("load_s %.4f\n", t1 - t0);
    printf("param_bytes %.0f\n", pbytes);
    printf("rss_before %lld\n", rss0);
    printf("peak_rss %lld\n", hwm);
    printf("load_peak_over_params %.3f\n", (double)(hwm - rss0) / pbytes);
    if (argc > 2) {
        emgmm_io_read_opts o = emgmm_io_read_opts_default();
        emgmm_io_matrix X;
        if (emgmm_io_read_matrix(argv[2], &o, &X, &err) != 0) {
            fprintf(stderr, "model_load: %s\n", err.msg);
            return 1;
        }
        emgmm_data D = emgmm_io_matrix_data(&X);
        int reps = argc > 3 ? atoi(argv[3]) : 3;
        double best = 1e300, ll = 0;
        for (int r = 0; r < reps; r++) {
            double a = now();
            if (emgmm_score(m, &D, &ll) != EMGMM_OK) {
                fprintf(stderr, "model_load: score failed: %s\n", emgmm_model_last_error(m));
                return 1;
            }
            double b = now() - a;
            printf("pass_s %.4f\n", b);
            best = b < best ? b : best;
        }
        printf("pass_min_s %.4f\nscore %.17g\n", best, ll);
        emgmm_io_matrix_free(&X);
    }
    emgmm_model_free(m);
    return 0;
}

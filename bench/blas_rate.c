/* blas_rate.c — the machine's DGEMM and SGEMM rates on a given thread count, and the BLAS
 * core in use: the yardstick every emgmm speed figure is divided by (design.md, cost model).
 * Prints one line "RESULT {json}" (GFLOP/s = 2·M·N·K / seconds, median and best of repeats).
 * Usage: blas_rate [--threads T] [--size N | --shape M,N,K] [--repeats R]
 */
#include <cblas.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *xalloc(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "blas_rate: out of memory\n");
        exit(1);
    }
    return p;
}

/* Fills rates[r] with GFLOP/s of r timed calls (after one warm-up call). */
static void time_gemm(int single, size_t m, size_t n, size_t k, int repeats, double *rates)
{
    size_t na = m * k, nb = k * n, nc = m * n;
    size_t es = single ? sizeof(float) : sizeof(double);
    void *a = xalloc(na * es), *b = xalloc(nb * es), *c = xalloc(nc * es);
    for (size_t i = 0; i < na; i++) {
        double v = (double)((i * 7919u) % 1000u) / 1000.0 - 0.5;
        if (single)
            ((float *)a)[i] = (float)v;
        else
            ((double *)a)[i] = v;
    }
    for (size_t i = 0; i < nb; i++) {
        double v = (double)((i * 104729u) % 997u) / 997.0 - 0.5;
        if (single)
            ((float *)b)[i] = (float)v;
        else
            ((double *)b)[i] = v;
    }
    memset(c, 0, nc * es);
    double flops = 2.0 * (double)m * (double)n * (double)k;
    for (int r = -1; r < repeats; r++) {
        double t0 = now();
        if (single)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a,
                        (int)k, b, (int)n, 0.0f, c, (int)n);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, a,
                        (int)k, b, (int)n, 0.0, c, (int)n);
        double t = now() - t0;
        if (r >= 0) rates[r] = flops / t * 1e-9;
    }
    free(a);
    free(b);
    free(c);
}

static void print_rates(const char *name, double *rates, int repeats)
{
    qsort(rates, (size_t)repeats, sizeof *rates, cmp_double);
    double med =
        repeats % 2 ? rates[repeats / 2] : 0.5 * (rates[repeats / 2 - 1] + rates[repeats / 2]);
    printf("\"%s_gflops\": %.4g, \"%s_gflops_min\": %.4g, \"%s_gflops_max\": %.4g, ", name, med,
           name, rates[0], name, rates[repeats - 1]);
}

int main(int argc, char **argv)
{
    int threads = 0, repeats = 5;
    size_t m = 2000, n = 2000, k = 2000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--threads") && v) {
            threads = atoi(v);
            i++;
        } else if (!strcmp(a, "--repeats") && v) {
            repeats = atoi(v);
            i++;
        } else if (!strcmp(a, "--size") && v) {
            m = n = k = (size_t)strtoul(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--shape") && v) {
            if (sscanf(v, "%zu,%zu,%zu", &m, &n, &k) != 3) {
                fprintf(stderr, "blas_rate: --shape wants M,N,K\n");
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "usage: blas_rate [--threads T] [--size N | --shape M,N,K] "
                            "[--repeats R]\n");
            return 2;
        }
    }
    if (repeats < 1 || m < 1 || n < 1 || k < 1) {
        fprintf(stderr, "blas_rate: sizes and repeats must be >= 1\n");
        return 2;
    }
#ifdef OPENBLAS_VERSION
    if (threads > 0) openblas_set_num_threads(threads);
#endif
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#endif
    double *rates = xalloc((size_t)repeats * sizeof *rates);
    const char *env = getenv("OPENBLAS_CORETYPE");
    printf("RESULT {\"engine\": \"blas\", ");
#ifdef OPENBLAS_VERSION
    printf("\"blas_core\": \"%s\", \"blas_config\": \"%s\", \"threads\": %d, ",
           openblas_get_corename(), openblas_get_config(), openblas_get_num_threads());
#else
    printf("\"blas_core\": \"unknown\", \"blas_config\": \"not OpenBLAS\", \"threads\": %d, ",
           threads);
#endif
    printf("\"coretype_env\": %s%s%s, \"m\": %zu, \"n\": %zu, \"k\": %zu, \"repeats\": %d, ",
           env ? "\"" : "", env ? env : "null", env ? "\"" : "", m, n, k, repeats);
    time_gemm(0, m, n, k, repeats, rates);
    print_rates("dgemm", rates, repeats);
    time_gemm(1, m, n, k, repeats, rates);
    print_rates("sgemm", rates, repeats);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\"peak_rss_kb\": %ld}\n", ru.ru_maxrss);
    free(rates);
    return 0;
}

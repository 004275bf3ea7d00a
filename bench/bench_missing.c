/* bench_missing.c — the cost of missing values: time per EM iteration on complete data against
 * the same data with a fraction of entries deleted completely at random (issue 8's figure:
 * d = 16, K = 8, n = 10⁶, 10% missing, at most 3× a complete-data iteration).
 *
 * Data: a seeded mixture generated in-process (means N(0, 3²), unit-scale random covariances).
 * Both fits start from the same user-given model (the truth with perturbed means), tol = 0.
 * Per-iteration time = (t(max_iter = m+1) − t(max_iter = 1)) / m; the complete and missing
 * fits alternate within each repeat so that machine noise hits both alike; the medians, the
 * spread and the median of the per-repeat ratios are printed, then one line "RESULT {json}".
 * --patterns P (issue 21): instead of deleting each entry independently, draw P missingness
 * patterns once (each entry missing with probability frac, at least one value observed) and
 * give each row one of them at random, so the cost can be read against the number of
 * distinct patterns (P = 0: every row its own draw, the default).  The extra cost per
 * incomplete row and per missing entry (µs, same clock) is printed too.
 * Usage: bench_missing [--n 1000000] [--d 16] [--k 8] [--frac 0.1] [--m 3] [--repeats 5]
 *                      [--threads T] [--dtype float64|float32] [--type full|tied|diag|spherical]
 *                      [--clock wall|cpu]   (cpu: process CPU time summed over threads)
 *                      [--patterns P] [--pattern-cache N]   (params.pattern_cache_max: 0 the
 *                      default, negative none, so every incomplete full-family row takes the lanes) */
#include "emgmm.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t sm(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return (double)(sm(s) >> 11) * 0x1.0p-53; }
static double gauss(uint64_t *s)
{
    double u = unif(s), v = unif(s);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}
static int use_cpu_clock; /* --clock cpu: process CPU time, steadier on a loaded machine */
static double now(void)
{
    struct timespec ts;
    clock_gettime(use_cpu_clock ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmpd);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
    emgmm_data X;
    int K, type, threads;
    const double *w, *mu, *cov;
    int missing;
    long cache; /* params.pattern_cache_max */
} job;

static double fit_time(const job *j, int iters, double *lb)
{
    emgmm_model *m;
    if (emgmm_model_create(&m, j->K, (int)j->X.d, j->type) != EMGMM_OK) exit(1);
    if (emgmm_model_set_parameters(m, j->w, j->mu, j->cov) != EMGMM_OK) {
        fprintf(stderr, "bench_missing: bad start: %s\n", emgmm_model_last_error(m));
        exit(1);
    }
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_USER;
    p.tol = 0.0;
    p.max_iter = iters;
    p.n_threads = j->threads;
    p.missing = j->missing;
    p.pattern_cache_max = j->cache;
    const double t0 = now();
    const int rc = emgmm_fit(m, &p, &j->X);
    const double t = now() - t0;
    if (rc) {
        fprintf(stderr, "bench_missing: fit failed: %s\n", emgmm_model_last_error(m));
        exit(1);
    }
    if (lb) *lb = emgmm_model_lower_bound(m);
    emgmm_model_free(m);
    return t;
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    int d = 16, K = 8, m = 3, R = 5, threads = 0, f32 = 0, type = EMGMM_COV_FULL;
    double frac = 0.1;
    long npat = 0, cache = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--n"))
            n = (size_t)atof(v);
        else if (!strcmp(o, "--d"))
            d = atoi(v);
        else if (!strcmp(o, "--k"))
            K = atoi(v);
        else if (!strcmp(o, "--frac"))
            frac = atof(v);
        else if (!strcmp(o, "--m"))
            m = atoi(v);
        else if (!strcmp(o, "--repeats"))
            R = atoi(v);
        else if (!strcmp(o, "--threads"))
            threads = atoi(v);
        else if (!strcmp(o, "--dtype"))
            f32 = !strcmp(v, "float32");
        else if (!strcmp(o, "--type"))
            type = emgmm_covariance_type_from_name(v);
        else if (!strcmp(o, "--patterns"))
            npat = atol(v);
        else if (!strcmp(o, "--pattern-cache"))
            cache = atol(v);
        else if (!strcmp(o, "--clock"))
            use_cpu_clock = !strcmp(v, "cpu");
        else {
            fprintf(stderr, "bench_missing: unknown option %s\n", o);
            return 2;
        }
    }
    if (type < 0 || d < 1 || d > 256 || K < 1 || m < 1 || R < 1 || R > 100 ||
        !(frac >= 0 && frac < 1) || npat < 0) {
        fprintf(stderr, "bench_missing: bad option value\n");
        return 2;
    }
    uint64_t s = 12345;
    const size_t dd = (size_t)d * d;
    double *w = malloc(sizeof(double) * K), *mu = malloc(sizeof(double) * K * d);
    double *L = calloc((size_t)K * dd, sizeof(double)),
           *cov = calloc((size_t)K * dd, sizeof(double));
    double *x = malloc(sizeof(double) * n * d), *xm = malloc(sizeof(double) * n * d);
    if (!w || !mu || !L || !cov || !x || !xm) return 1;
    for (int k = 0; k < K; k++) {
        w[k] = 1.0 / K;
        for (int a = 0; a < d; a++) {
            mu[k * d + a] = 3.0 * gauss(&s);
            for (int b = 0; b <= a; b++)
                L[k * dd + a * d + b] = a == b ? 0.7 + 0.3 * unif(&s) : 0.3 * gauss(&s) / sqrt(d);
        }
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++) {
                double t = 0.0;
                for (int c = 0; c < d; c++) t += L[k * dd + a * d + c] * L[k * dd + b * d + c];
                cov[k * dd + a * d + b] = t;
            }
    }
    size_t nmiss = 0, nrow_inc = 0;
    /* --patterns: P fixed patterns (1 = missing), each with a value observed; the pattern
     * stream has its own seed so the data agree with the P = 0 run's */
    unsigned char *pat = NULL;
    uint64_t sp = 777;
    if (npat) {
        pat = malloc((size_t)npat * d);
        if (!pat) return 1;
        for (long q = 0; q < npat; q++) {
            int obs = 0;
            for (int a = 0; a < d; a++) {
                pat[q * d + a] = unif(&sp) < frac;
                obs += !pat[q * d + a];
            }
            if (!obs) pat[q * d + (int)(unif(&sp) * d)] = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const int k = (int)(unif(&s) * K);
        double z[256];
        for (int a = 0; a < d; a++) z[a] = gauss(&s);
        int inc = 0;
        const unsigned char *pr = pat ? pat + (size_t)(unif(&sp) * npat) * d : NULL;
        for (int a = 0; a < d; a++) {
            double t = mu[k * d + a];
            for (int c = 0; c <= a; c++) t += L[k * dd + a * d + c] * z[c];
            x[i * d + a] = t;
            xm[i * d + a] = t;
            const int del = unif(&s) < frac; /* drawn either way: same data for any P */
            if (pr ? pr[a] : del) {
                xm[i * d + a] = NAN;
                nmiss++;
                inc = 1;
            }
        }
        if (inc) {
            int obs = 0;
            for (int a = 0; a < d; a++) obs += !isnan(xm[i * d + a]);
            if (!obs) xm[i * d] = x[i * d], nmiss--;
            nrow_inc++;
        }
    }
    /* the start: true weights and covariances in the type's shape, perturbed means */
    double *mu0 = malloc(sizeof(double) * K * d), *c0 = malloc(sizeof(double) * K * dd);
    for (int q = 0; q < K * d; q++) mu0[q] = mu[q] + 0.3 * gauss(&s);
    for (int k = 0; k < K; k++)
        for (int a = 0; a < d; a++) {
            if (type == EMGMM_COV_FULL)
                memcpy(c0 + k * dd + a * d, cov + k * dd + a * d, sizeof(double) * d);
            if (type == EMGMM_COV_TIED && k == 0)
                memcpy(c0 + a * d, cov + a * d, sizeof(double) * d);
            if (type == EMGMM_COV_DIAG) c0[k * d + a] = cov[k * dd + a * d + a];
            if (type == EMGMM_COV_SPHERICAL && a == 0) c0[k] = cov[k * dd];
        }
    float *xf = NULL, *xmf = NULL;
    job jc = {emgmm_data_f64(x, n, (size_t)d, (size_t)d),
              K,
              type,
              threads,
              w,
              mu0,
              c0,
              EMGMM_MISSING_ERROR,
              cache};
    job jm = jc;
    jm.X = emgmm_data_f64(xm, n, (size_t)d, (size_t)d);
    jm.missing = EMGMM_MISSING_NAN;
    if (f32) {
        xf = malloc(sizeof(float) * n * d);
        xmf = malloc(sizeof(float) * n * d);
        if (!xf || !xmf) return 1;
        for (size_t q = 0; q < n * d; q++) {
            xf[q] = (float)x[q];
            xmf[q] = (float)xm[q];
        }
        free(x);
        free(xm);
        x = xm = NULL;
        jc.X = emgmm_data_f32(xf, n, (size_t)d, (size_t)d);
        jm.X = emgmm_data_f32(xmf, n, (size_t)d, (size_t)d);
    }
    printf("n=%zu d=%d K=%d type=%s dtype=%s threads=%d: %.1f%% of entries missing, %.1f%% of rows "
           "incomplete, patterns: %s%ld\n",
           n, d, K, emgmm_covariance_type_name(type), f32 ? "float32" : "float64",
           threads ? threads : emgmm_default_threads(), 100.0 * nmiss / ((double)n * d),
           100.0 * nrow_inc / (double)n, npat ? "" : "each row its own, ", npat);
    double tc[100], tm[100], ratio[100], lbc = 0, lbm = 0;
    fit_time(&jc, 1, NULL); /* warm-up */
    fit_time(&jm, 1, NULL);
    for (int r = 0; r < R; r++) {
        tc[r] = (fit_time(&jc, m + 1, &lbc) - fit_time(&jc, 1, NULL)) / m;
        tm[r] = (fit_time(&jm, m + 1, &lbm) - fit_time(&jm, 1, NULL)) / m;
        ratio[r] = tm[r] / tc[r];
        printf("  repeat %d: complete %.4f s/iter, missing %.4f s/iter, ratio %.2f\n", r + 1, tc[r],
               tm[r], ratio[r]);
    }
    double sc[100], smm[100];
    memcpy(sc, tc, sizeof(double) * R);
    memcpy(smm, tm, sizeof(double) * R);
    const double mc = median(sc, R), mm = median(smm, R), mr = median(ratio, R);
    printf("complete: median %.4f s/iter (min %.4f, max %.4f)\n", mc, sc[0], sc[R - 1]);
    printf("missing:  median %.4f s/iter (min %.4f, max %.4f)\n", mm, smm[0], smm[R - 1]);
    printf("ratio missing/complete: median %.2f (min %.2f, max %.2f)\n", mr, ratio[0],
           ratio[R - 1]);
    printf("mean log-likelihood after %d iterations: complete %.6f, missing (observed data) %.6f\n",
           m + 1, lbc, lbm);
    const double per_row = nrow_inc ? 1e6 * (mm - mc) / (double)nrow_inc : 0.0,
                 per_entry = nmiss ? 1e6 * (mm - mc) / (double)nmiss : 0.0,
                 per_row_c = 1e6 * mc / (double)n;
    printf(
        "extra per incomplete row %.4f us, per missing entry %.4f us (a complete row: %.4f us)\n",
        per_row, per_entry, per_row_c);
    printf("RESULT {\"n\": %zu, \"d\": %d, \"K\": %d, \"frac\": %g, \"type\": \"%s\", \"dtype\": "
           "\"%s\", "
           "\"patterns\": %ld, \"clock\": \"%s\", \"complete_s_per_iter\": %.6g, "
           "\"missing_s_per_iter\": %.6g, \"ratio_median\": %.4g, \"extra_us_per_incomplete_row\": "
           "%.4g, \"extra_us_per_missing_entry\": %.4g}\n",
           n, d, K, frac, emgmm_covariance_type_name(type), f32 ? "float32" : "float64", npat,
           use_cpu_clock ? "cpu" : "wall", mc, mm, mr, per_row, per_entry);
    free(w);
    free(mu);
    free(L);
    free(cov);
    free(x);
    free(xm);
    free(xf);
    free(xmf);
    free(mu0);
    free(c0);
    free(pat);
    return 0;
}

/* bench_emgmm.c — times emgmm's EM iteration on a gen_data.py data set, like the peer drivers.
 * Every fit starts from the shared initial model (emgmm_model_set_parameters, init = user,
 * tol = 0); per-iteration time is (t(max_iter = m+1) - t(max_iter = 1)) / m, so fixed costs
 * (input validation, workspace set-up) cancel.  Prints one line "RESULT {json}".
 * Usage: bench_emgmm DATADIR [--m 3] [--repeats 3] [--threads T] [--dtype float64|float32]
 *                            [--warmup 1] [--block-size B] [--reg-covar R] [--kmeans-init]
 *                            [--score-at J1,J2,...]
 */
#include "emgmm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_REPEATS 1000

#define MAX_SCORE_AT 16

typedef struct {
    const char *dir;
    int m, repeats, warmup, threads, block_size, f32, kmeans_init;
    double reg_covar;
    int n_score_at, score_at[MAX_SCORE_AT]; /* extra untimed fits: log-lik after J iterations */
} options;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_emgmm: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

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

static FILE *open_in(const char *dir, const char *name, const char *mode)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        die("path too long", dir);
    FILE *f = fopen(path, mode);
    if (!f) die("cannot open", path);
    return f;
}

/* The data once, outside any timing: float64 as stored, or converted to float32 in chunks so
 * that the float64 array never exists in this process (peak RSS is the float32 data's). */
static void *load_data(const options *o, size_t n, size_t d)
{
    size_t es = o->f32 ? sizeof(float) : sizeof(double);
    if (n > ((size_t)-1 - 64) / d / es) die("data too large", NULL);
    void *x = aligned_alloc(64, (n * d * es + 63) / 64 * 64);
    if (!x) die("out of memory", NULL);
    FILE *f = open_in(o->dir, "X.f64", "rb");
    if (!o->f32) {
        if (fread(x, sizeof(double), n * d, f) != n * d) die("short read", "X.f64");
    } else {
        size_t chunk = 1 << 16;
        double *buf = malloc(chunk * sizeof *buf);
        float *dst = x;
        if (!buf) die("out of memory", NULL);
        for (size_t done = 0; done < n * d;) {
            size_t c = n * d - done < chunk ? n * d - done : chunk;
            if (fread(buf, sizeof(double), c, f) != c) die("short read", "X.f64");
            for (size_t i = 0; i < c; i++) dst[done + i] = (float)buf[i];
            done += c;
        }
        free(buf);
    }
    fclose(f);
    return x;
}

/* One fit from the initial model; returns its wall time.  *keep receives the model if non-NULL. */
static double fit_once(const options *o, const emgmm_data *X, int k, int d, const double *init,
                       int max_iter, int init_method, emgmm_model **keep)
{
    emgmm_model *model = NULL;
    int st = emgmm_model_create(&model, k, d, EMGMM_COV_FULL);
    if (st != EMGMM_OK) die("emgmm_model_create", emgmm_strerror(st));
    const double *w = init, *mu = init + k, *cov = init + k + (size_t)k * d;
    st = emgmm_model_set_parameters(model, w, mu, cov);
    if (st != EMGMM_OK) die("emgmm_model_set_parameters", emgmm_model_last_error(model));
    emgmm_params p = emgmm_params_default();
    p.init = init_method;
    p.tol = 0.0;
    p.max_iter = max_iter;
    p.n_init = 1;
    p.reg_covar = o->reg_covar;
    p.n_threads = o->threads;
    p.block_size = o->block_size;
    p.seed = 12345;
    double t0 = now();
    st = emgmm_fit(model, &p, X);
    double t = now() - t0;
    if (st != EMGMM_OK) die("emgmm_fit", emgmm_model_last_error(model));
    if (emgmm_model_n_iter(model) != max_iter)
        die("emgmm_fit ran a different number of iterations than max_iter", NULL);
    if (keep)
        *keep = model;
    else
        emgmm_model_free(model);
    return t;
}

static void print_list(const char *name, const double *v, int count)
{
    printf("\"%s\": [", name);
    for (int i = 0; i < count; i++) printf("%s%.9g", i ? ", " : "", v[i]);
    printf("], ");
}

static int parse_int(const char *s, const char *name)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 1000000000) die("bad integer for", name);
    return (int)v;
}

int main(int argc, char **argv)
{
    options o = {NULL, 3, 3, 1, 0, 0, 0, 0, 1e-6, 0, {0}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--kmeans-init")) {
            o.kmeans_init = 1;
            continue;
        }
        if (a[0] != '-') {
            o.dir = a;
            continue;
        }
        if (!v) die("missing value for", a);
        i++;
        if (!strcmp(a, "--m"))
            o.m = parse_int(v, a);
        else if (!strcmp(a, "--repeats"))
            o.repeats = parse_int(v, a);
        else if (!strcmp(a, "--warmup"))
            o.warmup = parse_int(v, a);
        else if (!strcmp(a, "--threads"))
            o.threads = parse_int(v, a);
        else if (!strcmp(a, "--block-size"))
            o.block_size = parse_int(v, a);
        else if (!strcmp(a, "--score-at")) {
            /* comma list of iteration counts, so that peers run with a smaller m can be
             * compared after the same number of iterations */
            char buf[256], *save = NULL;
            snprintf(buf, sizeof buf, "%s", v);
            for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (o.n_score_at == MAX_SCORE_AT) die("too many values for", a);
                o.score_at[o.n_score_at] = parse_int(t, a);
                if (o.score_at[o.n_score_at] < 1) die("--score-at values must be >= 1", t);
                o.n_score_at++;
            }
        } else if (!strcmp(a, "--reg-covar"))
            o.reg_covar = atof(v);
        else if (!strcmp(a, "--dtype")) {
            if (strcmp(v, "float64") && strcmp(v, "float32"))
                die("--dtype is float64 or float32", v);
            o.f32 = !strcmp(v, "float32");
        } else
            die("unknown option", a);
    }
    if (!o.dir || o.m < 1 || o.repeats < 1 || o.repeats > MAX_REPEATS)
        die("usage: bench_emgmm DATADIR [--m M>=1] [--repeats R] [--threads T] "
            "[--dtype float64|float32] [--warmup W] [--block-size B] [--reg-covar R] "
            "[--kmeans-init] [--score-at J1,J2,...]",
            NULL);

    size_t n = 0, d = 0, k = 0;
    FILE *f = open_in(o.dir, "meta.txt", "r");
    if (fscanf(f, "%zu %zu %zu", &n, &d, &k) != 3 || n < 1 || d < 1 || k < 1 || d > 1 << 20 ||
        k > 1 << 20)
        die("bad meta.txt in", o.dir);
    fclose(f);
    size_t ninit = k + k * d + k * d * d;
    double *init = malloc(ninit * sizeof *init);
    if (!init) die("out of memory", NULL);
    f = open_in(o.dir, "init.f64", "rb");
    if (fread(init, sizeof(double), ninit, f) != ninit) die("short read", "init.f64");
    fclose(f);
    void *x = load_data(&o, n, d);
    emgmm_data X = o.f32 ? emgmm_data_f32(x, n, d, d) : emgmm_data_f64(x, n, d, d);

    for (int w = 0; w < o.warmup; w++) /* first-touch, BLAS buffers, thread pool */
        fit_once(&o, &X, (int)k, (int)d, init, 1, EMGMM_INIT_USER, NULL);
    double per[MAX_REPEATS], t1s[MAX_REPEATS], tms[MAX_REPEATS], kms[MAX_REPEATS];
    double sorted[MAX_REPEATS];
    emgmm_model *model = NULL;
    for (int r = 0; r < o.repeats; r++) {
        if (model) emgmm_model_free(model);
        model = NULL;
        t1s[r] = fit_once(&o, &X, (int)k, (int)d, init, 1, EMGMM_INIT_USER, NULL);
        tms[r] = fit_once(&o, &X, (int)k, (int)d, init, o.m + 1, EMGMM_INIT_USER, &model);
        per[r] = (tms[r] - t1s[r]) / o.m;
        /* k-means init cost: fit(init = kmeans, max_iter = 1) - fit(init = user, max_iter = 1) */
        if (o.kmeans_init)
            kms[r] = fit_once(&o, &X, (int)k, (int)d, init, 1, EMGMM_INIT_KMEANS, NULL) - t1s[r];
    }
    int R = o.repeats;
    double kmeans_s = NAN;
    if (o.kmeans_init) {
        memcpy(sorted, kms, (size_t)R * sizeof *kms);
        qsort(sorted, (size_t)R, sizeof *sorted, cmp_double);
        kmeans_s = R % 2 ? sorted[R / 2] : 0.5 * (sorted[R / 2 - 1] + sorted[R / 2]);
    }

    emgmm_model_set_n_threads(model, o.threads);
    double score = NAN;
    int st = emgmm_score(model, &X, &score);
    if (st != EMGMM_OK) die("emgmm_score", emgmm_model_last_error(model));
    double score_at[MAX_SCORE_AT];
    for (int j = 0; j < o.n_score_at; j++) {
        emgmm_model *mj = NULL;
        fit_once(&o, &X, (int)k, (int)d, init, o.score_at[j], EMGMM_INIT_USER, &mj);
        emgmm_model_set_n_threads(mj, o.threads);
        st = emgmm_score(mj, &X, &score_at[j]);
        if (st != EMGMM_OK) die("emgmm_score", emgmm_model_last_error(mj));
        emgmm_model_free(mj);
    }
    double lb = emgmm_model_lower_bound(model);
    emgmm_model_free(model);

    memcpy(sorted, per, (size_t)R * sizeof *per);
    qsort(sorted, (size_t)R, sizeof *sorted, cmp_double);
    double med = R % 2 ? sorted[R / 2] : 0.5 * (sorted[R / 2 - 1] + sorted[R / 2]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const char *env = getenv("OPENBLAS_CORETYPE");
    const char *sugg = emgmm_blas_suggested_coretype();
    printf("RESULT {\"engine\": \"emgmm\", \"version\": \"%s\", \"dtype\": \"%s\", \"n\": %zu, "
           "\"d\": %zu, \"K\": %zu, \"m\": %d, \"repeats\": %d, \"warmup\": %d, "
           "\"threads\": %d, "
           "\"openmp\": %s, \"block_size\": %d, \"blas_core\": \"%s\", "
           "\"blas_suggested\": %s%s%s, \"coretype_env\": %s%s%s, ",
           emgmm_version_string(), o.f32 ? "float32" : "float64", n, d, k, o.m, R, o.warmup,
           o.threads > 0 ? o.threads : emgmm_default_threads(),
           emgmm_have_openmp() ? "true" : "false", o.block_size, emgmm_blas_corename(),
           sugg ? "\"" : "", sugg ? sugg : "null", sugg ? "\"" : "", env ? "\"" : "",
           env ? env : "null", env ? "\"" : "");
    print_list("per_iter_s", per, R);
    print_list("t1_s", t1s, R);
    print_list("tm_s", tms, R);
    printf("\"median_s\": %.9g, \"min_s\": %.9g, \"max_s\": %.9g, \"mean_loglik\": %.17g, "
           "\"last_lower_bound\": %.17g, ",
           med, sorted[0], sorted[R - 1], score, lb);
    printf("\"mean_loglik_after\": {\"%d\": %.17g", o.m + 1, score);
    for (int j = 0; j < o.n_score_at; j++) printf(", \"%d\": %.17g", o.score_at[j], score_at[j]);
    printf("}, ");
    if (o.kmeans_init) {
        printf("\"kmeans_init_s\": %.9g, ", kmeans_s);
        print_list("kmeans_init_each_s", kms, R);
    }
    printf("\"peak_rss_kb\": %ld, \"data_bytes\": %zu}\n", ru.ru_maxrss,
           n * d * (o.f32 ? sizeof(float) : sizeof(double)));
    free(x);
    free(init);
    return 0;
}

/* test_mpi_fit.c — distributed fits through the library (run under mpirun with
 * P ranks): each rank passes only its rows, and the model must equal the
 * single-process fit of all rows (bitwise for P = 1, to 1e-10 relative
 * otherwise); a rank with no rows, an error on one rank, and an init that is
 * not distributed must end the same way on every rank. */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emgmm.h"

static int g_rank, g_size, g_fail;

/* Bytes this rank passed to MPI_Allreduce, counted through the MPI profiling
 * interface: the library's calls resolve to this definition. */
static long long g_allreduce_bytes;

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                  MPI_Comm comm)
{
    int size = 0;
    MPI_Type_size(type, &size);
    g_allreduce_bytes += (long long)count * size;
    return PMPI_Allreduce(sendbuf, recvbuf, count, type, op, comm);
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", g_rank, __FILE__, __LINE__,      \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            g_fail = 1;                                                                            \
        }                                                                                          \
    } while (0)

/* A 3-component mixture in d = 4 with unequal spreads; high-entropy numbers. */
static double *make_data(size_t n, size_t d, uint64_t seed)
{
    double *x = malloc(n * d * sizeof *x);
    uint64_t s = seed;
    for (size_t i = 0; i < n * d; i++) {
        /* splitmix64 → two uniforms → one normal (Box–Muller) */
        uint64_t z1 = (s += 0x9e3779b97f4a7c15ULL), z2 = (s += 0x9e3779b97f4a7c15ULL);
        z1 = (z1 ^ (z1 >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z1 = (z1 ^ (z1 >> 27)) * 0x94d049bb133111ebULL;
        z1 ^= z1 >> 31;
        z2 = (z2 ^ (z2 >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z2 = (z2 ^ (z2 >> 27)) * 0x94d049bb133111ebULL;
        z2 ^= z2 >> 31;
        const double u1 = ((double)(z1 >> 11) + 0.5) / 9007199254740992.0;
        const double u2 = (double)(z2 >> 11) / 9007199254740992.0;
        const double g = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        const size_t row = i / d, c = row % 3, j = i % d;
        x[i] = (0.7 + 0.45 * (double)c) * g + 4.1 * (double)c * (j % 2 ? -1.0 : 1.0) +
               0.37 * (double)j;
    }
    return x;
}

static double relerr(double a, double b)
{
    const double s = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return s > 0 ? fabs(a - b) / (s > 1e-3 ? s : 1e-3) : 0.0;
}

/* Worst relative difference over weights, means, covariances and lower bound. */
static double model_diff(const emgmm_model *a, const emgmm_model *b)
{
    const int K = emgmm_model_n_components(a), d = emgmm_model_n_features(a);
    double w = relerr(emgmm_model_lower_bound(a), emgmm_model_lower_bound(b));
    for (int k = 0; k < K; k++) {
        double e = relerr(emgmm_model_weights(a)[k], emgmm_model_weights(b)[k]);
        if (e > w) w = e;
    }
    for (int i = 0; i < K * d; i++) {
        double e = relerr(emgmm_model_means(a)[i], emgmm_model_means(b)[i]);
        if (e > w) w = e;
    }
    for (size_t i = 0; i < emgmm_model_covariances_size(a); i++) {
        double e = relerr(emgmm_model_covariances(a)[i], emgmm_model_covariances(b)[i]);
        if (e > w) w = e;
    }
    return w;
}

static int bitwise_equal(const emgmm_model *a, const emgmm_model *b)
{
    const int K = emgmm_model_n_components(a), d = emgmm_model_n_features(a);
    return !memcmp(emgmm_model_weights(a), emgmm_model_weights(b), (size_t)K * sizeof(double)) &&
           !memcmp(emgmm_model_means(a), emgmm_model_means(b), (size_t)K * d * sizeof(double)) &&
           !memcmp(emgmm_model_covariances(a), emgmm_model_covariances(b),
                   emgmm_model_covariances_size(a) * sizeof(double)) &&
           emgmm_model_lower_bound(a) == emgmm_model_lower_bound(b) &&
           emgmm_model_n_iter(a) == emgmm_model_n_iter(b);
}

/* A deliberately rough user init (so EM has work to do). */
static void user_init(emgmm_model *m, int cov)
{
    const int K = 3, d = 4;
    double w[3] = {0.25, 0.4, 0.35}, mu[12], cv[3 * 16];
    for (int k = 0; k < K; k++)
        for (int j = 0; j < d; j++) mu[k * d + j] = 2.9 * k * (j % 2 ? -1 : 1) + 0.21 * j + 0.5;
    size_t len = emgmm_model_covariances_size(m);
    memset(cv, 0, sizeof cv);
    if (cov == EMGMM_COV_FULL || cov == EMGMM_COV_TIED) {
        for (size_t f = 0; f < len / 16; f++)
            for (int j = 0; j < d; j++) {
                cv[f * 16 + (size_t)j * 5] = 2.3;
                if (j + 1 < d)
                    cv[f * 16 + (size_t)j * 5 + 1] = cv[f * 16 + (size_t)j * 5 + 4] = 0.3;
            }
    } else {
        for (size_t i = 0; i < len; i++) cv[i] = 2.3;
    }
    int st = emgmm_model_set_parameters(m, w, mu, cv);
    CHECK(st == EMGMM_OK, "set_parameters: %s", emgmm_strerror(st));
}

/* Rows [i0, i1) of this rank under the tool's split, or a custom one. */
static void split(size_t n, int zero_rank, size_t *i0, size_t *i1)
{
    if (zero_rank < 0) {
        *i0 = n * (size_t)g_rank / (size_t)g_size;
        *i1 = n * (size_t)(g_rank + 1) / (size_t)g_size;
        return;
    }
    /* zero_rank gets no rows; the rest split the data evenly */
    const int others = g_size - 1, me = g_rank < zero_rank ? g_rank : g_rank - 1;
    if (others == 0) { /* one rank: it must hold everything */
        *i0 = 0;
        *i1 = n;
        return;
    }
    if (g_rank == zero_rank) {
        *i0 = *i1 = 0;
        return;
    }
    *i0 = n * (size_t)me / (size_t)others;
    *i1 = n * (size_t)(me + 1) / (size_t)others;
}

static int fit_both(int cov, int init, size_t n, int zero_rank, double *diff, int *bitwise,
                    int *st_out)
{
    const size_t d = 4;
    double *x = make_data(n, d, 12345);
    emgmm_params p = emgmm_params_default();
    p.init = init;
    p.tol = 0.0;
    p.max_iter = 25;
    p.n_threads = 1;
    p.seed = 7;
    emgmm_model *ref = NULL, *dist = NULL;
    emgmm_model_create(&ref, 3, (int)d, cov);
    emgmm_model_create(&dist, 3, (int)d, cov);
    if (init == EMGMM_INIT_USER) {
        user_init(ref, cov);
        user_init(dist, cov);
    }
    emgmm_data all = emgmm_data_f64(x, n, d, d);
    int st = emgmm_fit(ref, &p, &all);
    CHECK(st == EMGMM_OK, "reference fit: %s", emgmm_strerror(st));
    size_t i0, i1;
    split(n, zero_rank, &i0, &i1);
    MPI_Comm world = MPI_COMM_WORLD;
    st = emgmm_model_set_mpi_comm(dist, &world, (long long)i0);
    CHECK(st == EMGMM_OK, "set_mpi_comm: %s", emgmm_strerror(st));
    emgmm_data mine = emgmm_data_f64(x + i0 * d, i1 - i0, d, d);
    st = emgmm_fit(dist, &p, &mine);
    *st_out = st;
    if (st == EMGMM_OK) {
        *diff = model_diff(ref, dist);
        *bitwise = bitwise_equal(ref, dist);
    }
    emgmm_model_free(ref);
    emgmm_model_free(dist);
    free(x);
    return st;
}

static void test_same_model(void)
{
    double worst = 0.0;
    const int covs[] = {EMGMM_COV_FULL, EMGMM_COV_TIED, EMGMM_COV_DIAG, EMGMM_COV_SPHERICAL};
    /* random hashes the global row index, so it too is split-independent */
    const int inits[] = {EMGMM_INIT_USER, EMGMM_INIT_RANDOM_FROM_DATA, EMGMM_INIT_RANDOM};
    for (int c = 0; c < 4; c++)
        for (int i = 0; i < 3; i++) {
            double diff = INFINITY;
            int bit = 0, st;
            /* 1001 rows: not divisible by 2 or 3 */
            fit_both(covs[c], inits[i], 1001, -1, &diff, &bit, &st);
            CHECK(st == EMGMM_OK, "%s/%s: %s", emgmm_covariance_type_name(covs[c]),
                  emgmm_init_method_name(inits[i]), emgmm_strerror(st));
            CHECK(diff <= 1e-10, "%s/%s: P=%d differs by %.3g relative",
                  emgmm_covariance_type_name(covs[c]), emgmm_init_method_name(inits[i]), g_size,
                  diff);
            if (diff > worst) worst = diff;
            if (g_size == 1)
                CHECK(bit, "%s/%s: one rank is not bitwise the single-process fit",
                      emgmm_covariance_type_name(covs[c]), emgmm_init_method_name(inits[i]));
        }
    if (g_rank == 0)
        printf("P=%d: worst relative difference from one process %.3g\n", g_size, worst);
}

static void test_rank_without_rows(void)
{
    double diff = INFINITY;
    int bit = 0, st;
    fit_both(EMGMM_COV_FULL, EMGMM_INIT_USER, 1001, g_size - 1, &diff, &bit, &st);
    CHECK(st == EMGMM_OK && diff <= 1e-10, "rank %d without rows: status %d, diff %.3g", g_size - 1,
          st, diff);
    fit_both(EMGMM_COV_DIAG, EMGMM_INIT_RANDOM_FROM_DATA, 1001, 0, &diff, &bit, &st);
    CHECK(st == EMGMM_OK && diff <= 1e-10, "rank 0 without rows: status %d, diff %.3g", st, diff);
    fit_both(EMGMM_COV_TIED, EMGMM_INIT_RANDOM, 1001, 0, &diff, &bit, &st);
    CHECK(st == EMGMM_OK && diff <= 1e-10, "random init, rank 0 without rows: status %d, diff %.3g",
          st, diff);
}

/* A NaN in the last rank's rows only: every rank fails with that rank's
 * message, naming the global row, and keeps its previous parameters. */
static void test_error_on_one_rank(void)
{
    const size_t n = 1001, d = 4, bad_row = 997, bad_col = 2;
    double *x = make_data(n, d, 99);
    x[bad_row * d + bad_col] = NAN;
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_USER;
    p.n_threads = 1;
    emgmm_model *m = NULL;
    emgmm_model_create(&m, 3, (int)d, EMGMM_COV_FULL);
    user_init(m, EMGMM_COV_FULL);
    const double mean0 = emgmm_model_means(m)[5];
    size_t i0, i1;
    split(n, -1, &i0, &i1);
    MPI_Comm world = MPI_COMM_WORLD;
    emgmm_model_set_mpi_comm(m, &world, (long long)i0);
    emgmm_data mine = emgmm_data_f64(x + i0 * d, i1 - i0, d, d);
    int st = emgmm_fit(m, &p, &mine);
    CHECK(st == EMGMM_ERR_NONFINITE, "NaN on one rank: status %d (%s)", st, emgmm_strerror(st));
    long long row = -1, col = -1;
    emgmm_model_error_location(m, &row, &col, NULL);
    CHECK(row == (long long)bad_row && col == (long long)bad_col, "error at row %lld col %lld", row,
          col);
    CHECK(strstr(emgmm_model_last_error(m), "row 997, column 2") != NULL, "message '%s'",
          emgmm_model_last_error(m));
    CHECK(emgmm_model_means(m)[5] == mean0, "parameters changed by a failed fit");
    /* the job goes on: a later collective still lines up on every rank */
    x[bad_row * d + bad_col] = 1.5;
    st = emgmm_fit(m, &p, &mine);
    CHECK(st == EMGMM_OK, "fit after the failure: %s", emgmm_strerror(st));
    emgmm_model_free(m);
    free(x);
}

/* k-means|| (and distributed Lloyd) samples rows by their global index, so P
 * ranks give the model that one distributed process (MPI_COMM_SELF) gives; and
 * it finds the three components. */
static void test_kmeans_parallel(void)
{
    const int inits[] = {EMGMM_INIT_KMEANS, EMGMM_INIT_KMEANSPP};
    const size_t n = 1001, d = 4;
    double *x = make_data(n, d, 4242);
    size_t i0, i1;
    split(n, -1, &i0, &i1);
    for (int v = 0; v < 2; v++) {
        emgmm_params p = emgmm_params_default();
        p.init = inits[v];
        p.tol = 0.0;
        p.max_iter = 20;
        p.n_threads = 1;
        p.seed = 31;
        emgmm_model *ref = NULL, *dist = NULL;
        emgmm_model_create(&ref, 3, (int)d, EMGMM_COV_FULL);
        emgmm_model_create(&dist, 3, (int)d, EMGMM_COV_FULL);
        MPI_Comm self = MPI_COMM_SELF, world = MPI_COMM_WORLD;
        emgmm_model_set_mpi_comm(ref, &self, 0);
        emgmm_model_set_mpi_comm(dist, &world, (long long)i0);
        emgmm_data all = emgmm_data_f64(x, n, d, d),
                   mine = emgmm_data_f64(x + i0 * d, i1 - i0, d, d);
        int st = emgmm_fit(ref, &p, &all);
        CHECK(st == EMGMM_OK, "%s on MPI_COMM_SELF: %s", emgmm_init_method_name(p.init),
              emgmm_strerror(st));
        st = emgmm_fit(dist, &p, &mine);
        CHECK(st == EMGMM_OK, "%s distributed: %s", emgmm_init_method_name(p.init),
              emgmm_strerror(st));
        if (st == EMGMM_OK) {
            const double diff = model_diff(ref, dist);
            CHECK(diff <= 1e-10, "%s: P=%d differs by %.3g relative",
                  emgmm_init_method_name(p.init), g_size, diff);
            for (int k = 0; k < 3; k++)
                CHECK(emgmm_model_weights(dist)[k] > 0.25, "%s: weight %d is %g (a component lost)",
                      emgmm_init_method_name(p.init), k, emgmm_model_weights(dist)[k]);
        }
        emgmm_model_free(ref);
        emgmm_model_free(dist);
    }
    free(x);
}

/* The figure of docs/mpi.md: one EM iteration all-reduces
 *   8 · (K · (1 + d + t) + 3) bytes,  t = d(d+1)/2 (full, tied) or d (diag, spherical)
 * (N_k, Σ r·x, the packed second moments; log-likelihood, weight sum, failure
 * count).  Measured as the difference between fits of 6 and 5 iterations, for
 * every covariance type at (K, d) = (3, 4) from a user init and (5, 7), (2, 13)
 * from random_from_data. */
static void test_bytes_per_iteration(void)
{
    const int covs[] = {EMGMM_COV_FULL, EMGMM_COV_TIED, EMGMM_COV_DIAG, EMGMM_COV_SPHERICAL};
    const struct {
        int K;
        size_t d;
        int init;
    } shapes[] = {{3, 4, EMGMM_INIT_USER},
                  {5, 7, EMGMM_INIT_RANDOM_FROM_DATA},
                  {2, 13, EMGMM_INIT_RANDOM_FROM_DATA}};
    const size_t n = 301;
    MPI_Comm world = MPI_COMM_WORLD;
    size_t i0, i1;
    split(n, -1, &i0, &i1);
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        const size_t d = shapes[sh].d;
        const long long K = shapes[sh].K;
        double *x = make_data(n, d, 5 + sh);
        for (int c = 0; c < 4; c++) {
            long long bytes[2];
            for (int r = 0; r < 2; r++) {
                emgmm_params p = emgmm_params_default();
                p.init = shapes[sh].init;
                p.tol = 0.0;
                p.max_iter = 5 + r;
                p.n_threads = 1;
                p.seed = 3;
                emgmm_model *m = NULL;
                emgmm_model_create(&m, (int)K, (int)d, covs[c]);
                if (p.init == EMGMM_INIT_USER) user_init(m, covs[c]);
                emgmm_model_set_mpi_comm(m, &world, (long long)i0);
                emgmm_data mine = emgmm_data_f64(x + i0 * d, i1 - i0, d, d);
                const long long b0 = g_allreduce_bytes;
                int st = emgmm_fit(m, &p, &mine);
                CHECK(st == EMGMM_OK, "fit: %s", emgmm_strerror(st));
                bytes[r] = g_allreduce_bytes - b0;
                emgmm_model_free(m);
            }
            const long long t =
                covs[c] <= EMGMM_COV_TIED ? (long long)(d * (d + 1) / 2) : (long long)d;
            const long long want = 8 * (K * (1 + (long long)d + t) + 3);
            CHECK(bytes[1] - bytes[0] == want,
                  "%s K=%lld d=%zu: %lld bytes per iteration, formula %lld",
                  emgmm_covariance_type_name(covs[c]), K, d, bytes[1] - bytes[0], want);
        }
        free(x);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    test_same_model();
    test_rank_without_rows();
    test_error_on_one_rank();
    test_bytes_per_iteration();
    test_kmeans_parallel();
    int any = 0;
    MPI_Allreduce(&g_fail, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (g_rank == 0) printf("test_mpi_fit P=%d: %s\n", g_size, any ? "FAILED" : "ok");
    MPI_Finalize();
    return any ? 1 : 0;
}

/* internal.h — the library's private types: the model object, the sufficient
 * statistics that one data pass accumulates, the pass context, and the error
 * helpers.  Nothing here is part of the public API. */
#ifndef EMGMM_INTERNAL_H
#define EMGMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "emgmm.h"

#define EMGMM_LOG_2PI 1.8378770664093454835606594728112
/* scikit-learn adds 10·eps to every N_k so that an empty component divides by
 * something; keeping the same guard keeps results comparable number for number. */
#define EMGMM_NK_EPS (10.0 * 2.220446049250313e-16)

/* Sufficient statistics of one pass, all in double.  Shifted moments: for
 * component k with shift c_k,
 *   nk[k] = Σ r_ik,  s1[k] = Σ r_ik (x_i − c_k),  s2[k] = Σ r_ik (x_i − c_k)(x_i − c_k)ᵀ
 * (s2 full/tied: d×d, upper triangle valid; diag/spherical: the d diagonal terms). */
typedef struct {
    int K, d;
    size_t s2_len;  /* doubles per component in s2 */
    double *nk;     /* [K] */
    double *s1;     /* [K][d] */
    double *s2;     /* [K][s2_len] */
    double loglik;  /* Σ_i log p(x_i) (E-step passes only) */
} emgmm_stats;

int emgmm_stats_init(emgmm_stats *s, int K, int d, int cov_type);
void emgmm_stats_free(emgmm_stats *s);
void emgmm_stats_zero(emgmm_stats *s);
/* dst += src, element by element, in a fixed order. */
void emgmm_stats_add(emgmm_stats *dst, const emgmm_stats *src);

/* One reseed of a component (see emgmm_model_reseed_event). */
typedef struct {
    int iter, comp;
    double logdens;
} emgmm_reseed_event;

struct emgmm_model {
    int K, d, cov_type;     /* cov_type: the storage shape, one of the four */
    int structure;          /* the type or mclust structure it was created with (0..13) */
    /* inner iterations of the iterative mclust structures since fit_init
     * (src/family/mclust.c): M-steps that hit the limit, most iterations */
    int inner_failures, inner_max;
    int fitted;
    int n_threads;          /* for predict/score/sample */
    int missing;            /* emgmm_missing_policy for passes over data (fit: params.missing) */
    /* the data pass's per-thread workspaces, kept between passes so that each
     * iteration does not map and fault in fresh pages (pass_impl.h): [0] for
     * the double working type, [1] for float; freed with the model, never
     * copied */
    void *pass_ws[2];
    void (*pass_ws_free[2])(void *);
    double *weights;        /* [K] */
    double *means;          /* [K][d] */
    double *covariances;    /* shape of cov_type */
    double *prec_chol;      /* shape of cov_type */
    double *log_det;        /* [K]: log det of the precision Cholesky factor */
    size_t cov_len;         /* doubles in covariances / prec_chol */
    /* fit report */
    int converged, n_iter, best_init;
    double *lb_hist;        /* [lb_cap] */
    int lb_cap;
    /* degenerate components (src/em/degenerate.c): the reseeds of this fit,
     * in order; only those with iteration <= n_iter count. */
    emgmm_reseed_event *reseeds; /* [reseed_cap] */
    int n_reseeds, reseed_cap;
    /* the fit being initialised, so that the initialisation's M-step runs
     * under its policies (emgmm_family_finish); NULL otherwise */
    const emgmm_params *fit_p;
    const emgmm_data *fit_X;
    /* distribution (src/dist/comm.c): the communicator handle, copied in as
     * bytes so this header needs no mpi.h, and this rank's first global row.
     * dist_on = 0 (calloc) for a single process; not carried by model_copy. */
    int dist_on;
    long long dist_row0;
    unsigned char dist_comm[16];
    double *dist_buf;       /* the all-reduce message, allocated with the communicator */
    size_t dist_buf_len;
    /* accelerated EM (src/em/accel.c): data passes of the current
     * initialisation, and the SQUAREM cycle's state (NULL until first used;
     * freed with the model, not copied) */
    long long n_passes;
    struct emgmm_accel *accel;
    /* last error */
    char errmsg[256];
    long long err_row, err_col;
    int err_comp;
};

/* Records a failure on the model (printf-style detail) and returns status. */
int emgmm_fail(emgmm_model *m, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void emgmm_clear_error(emgmm_model *m);

/* Parameter set (weights, means, covariances, precision factors) owned apart
 * from a model, so a fit can build the next parameters and commit them only
 * when every component succeeded. */
typedef struct {
    double *weights, *means, *covariances, *prec_chol, *log_det;
} emgmm_paramset;

int emgmm_paramset_alloc(emgmm_paramset *p, int K, int d, size_t cov_len);
void emgmm_paramset_free(emgmm_paramset *p);
void emgmm_paramset_from_model(emgmm_paramset *dst, const emgmm_model *m);
void emgmm_paramset_to_model(emgmm_model *m, const emgmm_paramset *src);

size_t emgmm_cov_len(int cov_type, int K, int d);

/* ---- family seam: one set per covariance type (src/family/) ---- */
/* Finishes an M-step: stats (with shifts c, [K][d]) → weights, means,
 * covariances (+reg on the diagonal), precision Cholesky factors, log-dets. On
 * a covariance that is not positive definite returns EMGMM_ERR_NOT_PD with the
 * component recorded on m. */
int emgmm_full_finish(emgmm_model *m, const emgmm_stats *st, const double *shift,
                      double reg_covar, const double *floor, emgmm_paramset *out,
                      unsigned char *bad);
/* Precision factors and log-dets from covariances (no regularisation). */
int emgmm_full_precisions(int K, int d, const double *cov, double *prec_chol,
                          double *log_det, int *bad_component);
long emgmm_full_n_parameters(int K, int d);
int emgmm_tied_finish(emgmm_model *m, const emgmm_stats *st, const double *shift,
                      double reg_covar, const double *floor, emgmm_paramset *out,
                      unsigned char *bad);
int emgmm_tied_precisions(int K, int d, const double *cov, double *prec_chol,
                          double *log_det, int *bad_component);
/* diag and spherical share one file: the spherical variance is the mean of
 * the diagonal. */
int emgmm_diag_finish(emgmm_model *m, const emgmm_stats *st, const double *shift,
                      double reg_covar, const double *floor, emgmm_paramset *out,
                      unsigned char *bad);
int emgmm_diag_precisions(int cov_type, int K, int d, const double *cov, double *prec_chol,
                          double *log_det, int *bad_component);
/* The M-step finish with the variance floor (floor [d]: the least diagonal
 * value per feature, or NULL) and, when bad is not NULL, no failure on a
 * covariance that is not PD: bad[k] is set to 1 for each such component (all
 * K for tied) and 0 otherwise, and EMGMM_OK returned with those components'
 * precisions undefined.  With bad NULL it fails as emgmm_family_finish. */
int emgmm_family_finish_ex(emgmm_model *m, const emgmm_stats *st, const double *shift,
                           double reg_covar, const double *floor, emgmm_paramset *out,
                           unsigned char *bad);
/* The data's weighted mean [d] and covariance — [d][d] for full/tied, the
 * diagonal [d] for diag/spherical — from one pass's statistics (Σ_k r_ik = 1,
 * so they do not depend on the responsibilities); *total = Σ_k N_k. */
void emgmm_stats_data_moments(const emgmm_stats *st, int cov_type, const double *shift,
                              double *mean, double *cov, double *total);
/* The floor [d] = var_floor × each feature's variance over the data, from
 * the statistics (spherical: every entry var_floor × the mean variance). */
void emgmm_variance_floor(const emgmm_stats *st, int cov_type, const double *shift,
                          double var_floor, double *floor);
/* ---- mclust's structures (src/family/mclust.c) ---- */
/* nMclustParams: free parameters of structure t (0..13) with K components. */
long emgmm_mclust_n_parameters(int structure, int K, int d);
/* The M-step finish of a structure >= EMGMM_COV_EII (reads p's inner_tol and
 * inner_max_iter; NULL = defaults).  Fails (EMGMM_ERR_DEGENERATE on an empty
 * component, EMGMM_ERR_NOT_PD on a singular covariance) instead of flagging. */
int emgmm_mclust_finish(emgmm_model *m, const emgmm_params *p, const emgmm_stats *st,
                        const double *shift, double reg_covar, const double *floor,
                        emgmm_paramset *out);
/* ---- init from responsibilities (src/init/resp.c) ---- */
int emgmm_init_from_resp(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                         emgmm_paramset *out);
/* Dispatch on the covariance type (family.c). */
int emgmm_family_finish(emgmm_model *m, const emgmm_stats *st, const double *shift,
                        double reg_covar, emgmm_paramset *out);
int emgmm_family_precisions(int cov_type, int K, int d, const double *cov, double *prec_chol,
                            double *log_det, int *bad_component);
void emgmm_family_scaled_identity(int cov_type, int K, int d, double v, double *cov);

/* ---- the data pass (src/em/) ---- */
typedef enum {
    EMGMM_PASS_ESTEP = 0,  /* responsibilities from the model's parameters */
    EMGMM_PASS_LABELS = 1, /* hard responsibilities: nearest of `centres` */
    EMGMM_PASS_RANDOM = 2  /* uniform random responsibilities from `seed` */
} emgmm_pass_mode;

typedef struct {
    emgmm_pass_mode mode;
    const emgmm_model *model;  /* ESTEP: parameters; also K, d, cov_type */
    const double *centres;     /* LABELS: [K][d] */
    uint64_t seed;             /* RANDOM */
    const double *shift;       /* [K][d]: shift c_k for the statistics; NULL = no statistics */
    int n_threads;
    size_t block_size;
    /* outputs, each optional */
    emgmm_stats *stats;        /* reduced statistics (needs shift) */
    double *loglik_sum;        /* Σ log p(x_i) (ESTEP) */
    double *logdens;           /* [n] (ESTEP) */
    double *resp;              /* [n][K] */
    int32_t *labels;           /* [n] */
    double *dropped;           /* ESTEP with stats, EMGMM_MISSING_DROP_EMPTY: the weight of the
                                  rows with no observed value, left out of the statistics */
} emgmm_pass;

int emgmm_pass_run_f64(const emgmm_pass *p, const emgmm_data *X);
int emgmm_pass_run_f32(const emgmm_pass *p, const emgmm_data *X);
int emgmm_pass_run(const emgmm_pass *p, const emgmm_data *X);

/* Resolved thread count (n_threads 0 = OpenMP default), at least 1. */
int emgmm_threads(int n_threads);
size_t emgmm_block_size(int block_size, int K, int d);

/* Checks X against the model: pointers, shape, every value finite.  Records
 * the first bad row/column (in row order) on m. */
int emgmm_check_data(emgmm_model *m, const emgmm_data *X, int n_threads);

/* ---- missing values (src/em/missing.c) ---- */
/* emgmm_check_data for a model in a missing mode (NaN allowed, Inf not;
 * rows with nothing observed per the policy). */
int emgmm_missing_check_data(emgmm_model *m, const emgmm_data *X, int n_threads);
/* With the model in a missing mode and NaN present (on any rank), *view is a
 * column-mean-imputed copy of X (its buffer in *buf, to free) for the
 * initialisation; else *view = *X and *buf = NULL.  Collective when
 * distributed. */
int emgmm_missing_init_view(emgmm_model *m, const emgmm_data *X, int n_threads, emgmm_data *view,
                            void **buf);
/* In-place Cholesky of an m×m SPD matrix (row-major, lower triangle used and
 * written); returns 0, or the 1-based column that failed.  Small m, no LAPACK. */
int emgmm_small_chol(double *a, size_t m, size_t lda);

/* ---- degenerate components (src/em/degenerate.c) ---- */
/* N_k below which a component counts as empty (total = Σ_k N_k). */
double emgmm_empty_threshold(int d, double total);
/* Re-initialises the components flagged in bad[K] (empty or not PD) in next,
 * whose other components are valid, at the rows of X worst explained by
 * those others (one scoring pass; collective when distributed), and records
 * the reseeds as iteration `iter`.  Fails with EMGMM_ERR_DEGENERATE past
 * EMGMM_RESEED_LIMIT or when no row can seed a component, EMGMM_ERR_NOT_PD
 * when the reseeded covariance is not PD either. */
int emgmm_reseed(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                 const emgmm_stats *st, const double *shift, const double *floor,
                 emgmm_paramset *next, const unsigned char *bad, int iter);
/* The M-step finish under the fit's policies: the variance floor, and with
 * EMGMM_DEGEN_RESEED the empty or non-PD components reseeded (as iteration
 * `iter`; 0 = the initialisation) instead of failing. */
int emgmm_mstep_finish(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                       const emgmm_stats *stats, const double *shift, emgmm_paramset *next,
                       int iter);
/* Flags (bad[k] = 1) each component whose mean and covariance equal, to
 * rounding, those of an earlier component not flagged: EM cannot separate them. */
void emgmm_mark_coincident(const emgmm_model *m, const emgmm_paramset *next, unsigned char *bad);
/* Makes room for the events of a fit of this model (cap K·EMGMM_RESEED_LIMIT). */
int emgmm_reseed_reserve(emgmm_model *m);
/* Reseeds recorded at iteration `iter` (1-based) that still count. */
int emgmm_reseeds_at(const emgmm_model *m, int iter);

/* ---- accelerated EM (src/em/accel.c) ---- */
/* One EM data pass at the model's parameters without committing: *lb the
 * (all-reduced) mean log-likelihood, next the M-step's parameters, reseeds
 * recorded as iteration m->n_iter + 1.  Counts the pass (driver.c). */
int emgmm_em_step(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                  emgmm_paramset *next, double *lb);
/* One reported iteration of SQUAREM (one or two passes); the same contract as
 * emgmm_fit_iterate, whose checks have been made. */
int emgmm_accel_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                        double *lower_bound);
/* Back to the start of a cycle (a new initialisation, a restored snapshot). */
void emgmm_accel_reset(emgmm_model *m);
void emgmm_accel_free(emgmm_model *m);

/* ---- random numbers: xoshiro256** seeded by splitmix64 ---- */
typedef struct { uint64_t s[4]; } emgmm_rng;
void emgmm_rng_seed(emgmm_rng *r, uint64_t seed, uint64_t stream);
uint64_t emgmm_rng_next(emgmm_rng *r);
double emgmm_rng_uniform(emgmm_rng *r);          /* [0, 1) */
double emgmm_rng_normal(emgmm_rng *r);           /* N(0, 1) */
uint64_t emgmm_splitmix64(uint64_t x);
/* A uniform [0,1) number that depends only on (seed, i, j): random
 * initialisation is then the same whatever the blocks and threads. */
double emgmm_hash_uniform(uint64_t seed, uint64_t i, uint64_t j);

/* ---- initialisation (src/init/) ---- */
int emgmm_init_params(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                      uint64_t stream, emgmm_paramset *out);
int emgmm_kmeanspp(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, int n_threads,
                   double *centres, size_t *chosen);
int emgmm_kmeans_lloyd(emgmm_model *m, const emgmm_data *X, int max_iter, double tol,
                       int n_threads, double *centres, int *n_iter_out);

/* ---- reduction seam (src/dist/) ---- */
/* Sums per-thread statistics into out in thread order.  The sum over ranks
 * follows in the pass's caller (emgmm_dist_allreduce_stats), which also sees
 * a pass that failed on this rank and so can agree on the failure. */
void emgmm_reduce_stats(emgmm_stats *out, emgmm_stats *const *parts, int n_parts);
void emgmm_reduce_doubles(double *out, const double *parts, int n_parts, size_t len);

/* Distribution over an MPI communicator (comm.c).  Every function below is a
 * no-op returning its input status when the model has no communicator, so a
 * single process runs exactly the code it always ran.  With one, each is
 * collective: every rank must call it, in the same order, whatever its own
 * status — a rank that failed still takes part, so no rank waits forever. */
int emgmm_dist_active(const emgmm_model *m);
long long emgmm_dist_row_offset(const emgmm_model *m);
/* This rank and the number of ranks (0 and 1 without a communicator). */
void emgmm_dist_rank_size(const emgmm_model *m, int *rank, int *size);
/* Agrees on a status: if any rank's st is not EMGMM_OK, every rank returns
 * the status of the lowest failing rank, with its error message and location
 * copied onto m. */
int emgmm_dist_agree(emgmm_model *m, int st);
/* Sums v[0..n) over the ranks in place and agrees on st in the same message. */
int emgmm_dist_sum(emgmm_model *m, double *v, size_t n, int st);
/* The seam of every data pass that accumulates statistics: sums N_k, Σ r·x,
 * the upper triangle of the second moments (packed), the log-likelihood and
 * *extra (the caller's weight sum; may be NULL) over the ranks, agreeing on st
 * in the same all-reduce.  Every rank then holds the global statistics. */
int emgmm_dist_allreduce_stats(emgmm_model *m, emgmm_stats *s, double *extra, int st);
/* k-means|| seeding over all ranks' rows, then k-means++ on the weighted
 * candidates (the same on every rank) and up to lloyd_iter distributed Lloyd
 * iterations (kmeans_par.c).  centres [K][d] are the same on every rank. */
int emgmm_dist_kmeans_par(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, int n_threads,
                          int lloyd_iter, double tol, double *centres);
/* Doubles sent by one emgmm_dist_allreduce_stats: the figure in docs/mpi.md. */
size_t emgmm_dist_stats_doubles(int cov_type, int K, int d);

#endif

/* pass.h — the data pass (src/em/pass.c, pass_f64.c, pass_f32.c): one pass
 * over the rows in blocks, E-step (or given responsibilities) and M-step
 * statistics fused, given the parameters, the data and the workspace as
 * arguments.  Called by the driver and by core's predict/score/impute; calls
 * only into em/kernels.h, linalg/, dist/ and base/. */
#ifndef EMGMM_PASS_H
#define EMGMM_PASS_H
#include "src/base/base.h"
#include "src/linalg/linalg.h"

/* The parameters a pass reads: K, d and the storage type always; weights,
 * means, precision factors and log-dets for an E-step. */
typedef struct {
    int K, d, cov_type;
    const double *weights, *means, *prec_chol, *log_det;
} emgmm_mixture;

/* A model's parameters as a mixture (the pointers stay the model's). */
emgmm_mixture emgmm_model_mixture(const emgmm_model *m);
/* A parameter set's, with the shape of m. */
emgmm_mixture emgmm_paramset_mixture(const emgmm_paramset *ps, int K, int d, int cov_type);

typedef enum {
    EMGMM_PASS_ESTEP = 0,  /* responsibilities from the mixture's parameters */
    EMGMM_PASS_LABELS = 1, /* hard responsibilities: nearest of `centres` */
    EMGMM_PASS_RANDOM = 2  /* uniform random responsibilities from `seed` */
} emgmm_pass_mode;

/* Where a pass's own failure happened: a row's precision restricted to its
 * missing coordinates was not positive definite. */
typedef struct {
    int set;
    size_t row; /* in the pass's X */
    size_t comp;
} emgmm_pass_failure;

typedef struct {
    emgmm_pass_mode mode;
    const emgmm_mixture *mix; /* ESTEP: parameters; always: K, d, cov_type */
    const double *centres;    /* LABELS: [K][d] */
    uint64_t seed;            /* RANDOM */
    long long row0;           /* RANDOM: the global index of X's first row */
    const double *shift;      /* [K][d]: shift c_k for the statistics; NULL = no statistics */
    int missing;              /* ESTEP: emgmm_missing_policy; NaN marks a missing value */
    int n_threads;
    size_t block_size;          /* rows per block; 0: 512, or 256 for d >= 128 */
    const emgmm_params *params; /* tuning: pass_kernels, miss_store_max, pattern_cache_max;
                                   NULL = defaults */
    emgmm_pass_cache *cache;    /* workspaces kept between passes; NULL: allocated and freed */
    /* outputs, each optional */
    emgmm_stats *stats;       /* reduced statistics (needs shift) */
    double *loglik_sum;       /* Σ log p(x_i) (ESTEP) */
    double *hard_entropy;     /* Σ_i −log max_k r_ik (ESTEP; times the row's weight when X has
                                  weights): ICL's term, from the same responsibilities */
    double *logdens;          /* [n] (ESTEP) */
    double *resp;             /* [n][K] */
    int32_t *labels;          /* [n] */
    double *dropped;          /* ESTEP with stats, EMGMM_MISSING_DROP_EMPTY: the weight of the
                                  rows with no observed value, left out of the statistics */
    emgmm_pass_failure *fail; /* where the pass's own failure happened */
} emgmm_pass;

/* Runs the pass on X in X's type; the _f64/_f32 forms run their working type.
 * Returns EMGMM_OK, EMGMM_ERR_ALLOC, or EMGMM_ERR_NOT_PD (a row's missing
 * coordinates; *p->fail says where). */
int emgmm_pass_run(const emgmm_pass *p, const emgmm_data *X);
int emgmm_pass_run_f64(const emgmm_pass *p, const emgmm_data *X);
int emgmm_pass_run_f32(const emgmm_pass *p, const emgmm_data *X);
/* The pass on a model's own parameters, workspaces (its cache) and rows (its
 * rank's offset): p->mix, cache and row0 are filled in, and a failure is
 * recorded on m. */
int emgmm_pass_run_model(emgmm_model *m, emgmm_pass *p, const emgmm_data *X);
/* The message of a pass failure (row: X's row + row0); "" when none. */
void emgmm_pass_failure_message(char *buf, size_t len, const emgmm_pass_failure *f, long long row0);
/* Records a pass failure on m (row: X's row + row0) and returns st. */
int emgmm_pass_record_failure(emgmm_model *m, int st, const emgmm_pass_failure *f, long long row0);
void emgmm_pass_cache_free(emgmm_pass_cache *c);

/* Bytes of one statistics pass's workspaces and shared inputs (double or float
 * working type) — computed from the sizes the pass allocates. */
double emgmm_pass_bytes_f64(int K, int d, int cov_type, int missing, int stats, int n_threads);
double emgmm_pass_bytes_f32(int K, int d, int cov_type, int missing, int stats, int n_threads);

#endif

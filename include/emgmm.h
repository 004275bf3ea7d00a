/* emgmm.h — the one public header of libemgmm: Gaussian mixture models fit by
 * expectation–maximisation at the speed of the machine's BLAS.
 *
 * Conventions
 * - Every function that can fail returns an int status: EMGMM_OK (0) or one of
 *   the emgmm_status codes below; emgmm_strerror() names it.  Where a failure
 *   has a location (a row and column of the data, a component), the model that
 *   was passed in records it: emgmm_model_last_error() gives one readable line.
 * - Data are row-major n×d arrays of double or float with a leading dimension
 *   ld >= d (in elements), described by an emgmm_data.  The caller owns its data;
 *   the library never copies it whole and never keeps a pointer to it after a
 *   call returns.
 * - The model owns its parameter buffers.  Pointers returned by getters stay
 *   valid until the next call that changes the model (fit, set_parameters) or
 *   emgmm_model_free().  It also keeps the per-thread workspace of its last
 *   pass over data (about T·B·(d + K·d + K) doubles), reused by the next pass
 *   of the same shape and freed with the model.
 * - The library never prints, aborts or exits and has no mutable global state.
 *   A model may be used by one thread at a time; distinct models are
 *   independent.  Inside a call the work runs on params.n_threads OpenMP
 *   threads (0 = OpenMP's default).
 * - Determinism: the same data, params, seed and thread count give
 *   bitwise-identical models.
 */
#ifndef EMGMM_H
#define EMGMM_H

#include <stddef.h>
#include <stdint.h>

#include "emgmm_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EMGMM_STATIC_DEFINE)
#define EMGMM_API
#elif defined(EMGMM_BUILDING_LIBRARY)
#define EMGMM_API __attribute__((visibility("default")))
#else
#define EMGMM_API
#endif

/* ------------------------------------------------------------------------ */
/* Status codes: stable numbers, never renumbered.                          */
/* ------------------------------------------------------------------------ */
typedef enum {
    EMGMM_OK = 0,
    EMGMM_ERR_NULL = 1,            /* a required pointer argument is NULL */
    EMGMM_ERR_ALLOC = 2,           /* out of memory */
    EMGMM_ERR_INVALID_PARAM = 3,   /* a params field is out of range (tol < 0, max_iter < 1, ...) */
    EMGMM_ERR_NO_COMPONENTS = 4,   /* K = 0 (or negative) */
    EMGMM_ERR_NO_FEATURES = 5,     /* d = 0 */
    EMGMM_ERR_TOO_FEW_SAMPLES = 6, /* n < K */
    EMGMM_ERR_NONFINITE = 7,       /* NaN or ±Inf in the data; row and column recorded */
    EMGMM_ERR_BAD_INIT = 8,    /* user-given parameters invalid (weights, or a covariance not PD) */
    EMGMM_ERR_NOT_PD = 9,      /* a fitted covariance is not positive definite after reg_covar */
    EMGMM_ERR_NOT_FITTED = 10, /* the model has no parameters yet */
    EMGMM_ERR_SHAPE = 11,      /* data dimension differs from the model's, or ld < d */
    EMGMM_ERR_UNSUPPORTED = 12, /* option not available in this build or for this covariance type */
    EMGMM_ERR_INTERNAL = 13,    /* a LAPACK call failed unexpectedly; a bug */
    EMGMM_ERR_TOO_LARGE = 14,   /* sizes overflow size_t or exceed what can be indexed */
    EMGMM_ERR_BAD_WEIGHTS =
        15, /* a sample weight is negative, NaN or Inf, or all are 0; row recorded */
    EMGMM_ERR_DEGENERATE = 16 /* components keep collapsing: the reseed limit was reached (fewer
                                      distinct points than components?); component recorded */
} emgmm_status;

/* A static string naming the status, e.g. "data contains NaN or Inf".
 * Never NULL; unknown codes give "unknown emgmm status". */
EMGMM_API const char *emgmm_strerror(int status);

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */
/* "MAJOR.MINOR.PATCH" of the library actually linked (compare with
 * EMGMM_VERSION_STRING from emgmm_version.h, the one compiled against). */
EMGMM_API const char *emgmm_version_string(void);
/* MAJOR*10000 + MINOR*100 + PATCH.  Neither version function can fail. */
EMGMM_API int emgmm_version_number(void);

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */
typedef enum {
    EMGMM_COV_FULL = 0,      /* one d×d covariance per component   ([K][d][d]) */
    EMGMM_COV_TIED = 1,      /* one d×d covariance shared by all   ([d][d])    */
    EMGMM_COV_DIAG = 2,      /* a diagonal per component           ([K][d])    */
    EMGMM_COV_SPHERICAL = 3, /* one variance per component         ([K])       */
    /* mclust's structures Σ_k = λ_k D_k A_k D_kᵀ (volume, shape, orientation;
     * E = equal across components, V = varying, I = identity), Celeux &
     * Govaert (1995).  The four above are VVV = full, EEE = tied, VVI = diag,
     * VII = spherical (the aliases below).  Each structure is stored in the
     * shape of the smallest of the four that holds it (emgmm_covariance_storage):
     * EII as spherical [K] (all equal), EEI/VEI/EVI as diag [K][d], the rest as
     * full [K][d][d]; getters, the model file and predict see that shape.
     * VEI, VEE, EVE, VVE, VEV need an inner iteration in each M-step
     * (params.inner_tol, inner_max_iter; emgmm_model_inner_report).  The
     * reseed policy does not apply to the ten below: an empty component or a
     * singular covariance is EMGMM_ERR_DEGENERATE / EMGMM_ERR_NOT_PD, as
     * mclust reports NA.  reg_covar is added to each finished Σ_k's diagonal
     * (use 0 to compare with mclust, which has none). */
    EMGMM_COV_EII = 4,
    EMGMM_COV_EEI = 5,
    EMGMM_COV_VEI = 6,
    EMGMM_COV_EVI = 7,
    EMGMM_COV_VEE = 8,
    EMGMM_COV_EVE = 9,
    EMGMM_COV_VVE = 10,
    EMGMM_COV_EEV = 11,
    EMGMM_COV_VEV = 12,
    EMGMM_COV_EVV = 13,
    EMGMM_COV_VVV = EMGMM_COV_FULL,
    EMGMM_COV_EEE = EMGMM_COV_TIED,
    EMGMM_COV_VVI = EMGMM_COV_DIAG,
    EMGMM_COV_VII = EMGMM_COV_SPHERICAL
} emgmm_covariance_type;

/* Number of covariance types / structures (valid values are 0 .. EMGMM_N_COV_TYPES-1). */
#define EMGMM_N_COV_TYPES 14

/* "full", "tied", "diag", "spherical", then mclust's names "EII", "EEI", ...
 * for 4..13; NULL for an unknown value. */
EMGMM_API const char *emgmm_covariance_type_name(int covariance_type);
/* Parses the names above and all fourteen mclust names ("VVV" = full, "EEE" =
 * tied, "VVI" = diag, "VII" = spherical; mclust names in either case);
 * returns -1 when unknown. */
EMGMM_API int emgmm_covariance_type_from_name(const char *name);
/* mclust's name of any of the fourteen ("VVV" for full, ...); NULL if unknown. */
EMGMM_API const char *emgmm_mclust_model_name(int covariance_type);
/* The storage shape (one of the four first types) of a type or structure;
 * -1 if unknown. */
EMGMM_API int emgmm_covariance_storage(int covariance_type);

typedef enum {
    EMGMM_INIT_KMEANS = 0, /* Lloyd's k-means seeded by k-means++, then one M-step (default) */
    EMGMM_INIT_KMEANSPP =
        1, /* k-means++ centres as means, covariances reg_covar·I (as scikit-learn) */
    EMGMM_INIT_RANDOM = 2,           /* uniform random responsibilities, then one M-step */
    EMGMM_INIT_RANDOM_FROM_DATA = 3, /* K distinct random rows as means, covariances reg_covar·I */
    EMGMM_INIT_USER =
        4, /* the parameters already in the model (emgmm_model_set_parameters), used as given */
    EMGMM_INIT_EMEM = 5 /* search (em-EM): params.search_starts short EM runs of
                                        params.search_iter iterations, each from its own k-means
                                        start (k-means++, at most 10 Lloyd iterations); EM goes on
                                        from the one with the best lower bound.  Like Lloyd's, the
                                        short runs' iterations are part of the initialisation:
                                        n_iter, max_iter and the lower-bound history count from its
                                        end.  About S·(L + 12) data passes before EM proper; the
                                        measured gain and cost are in docs/search.md.  A short run
                                        that collapses (NOT_PD, DEGENERATE) is skipped; if all do,
                                        that error is returned naming 'emem'. */
        ,
    EMGMM_INIT_RESP = 6, /* an M-step from the responsibilities params.init_resp [n][K] (as
                                        mclust's me()); each entry finite and >= 0, a row need not sum to 1 */
    EMGMM_INIT_SMEM = 7  /* search: 'emem', EM to convergence (tol, max_iter) from its best
                                        run, then split-and-merge moves (Ueda et al. 2000): merge the
                                        two components with the most alike responsibilities, split the
                                        worst-fitting one, EM from there; a move is kept only when the
                                        lower bound rises by more than tol, so each kept move leaves it
                                        higher.  Part of the initialisation as for 'emem'.  Cost and
                                        measurements in docs/search.md. */
} emgmm_init_method;

/* What NaN in the data means (params.missing; for predict/score/impute, the
 * model's setting, see emgmm_model_set_missing). */
typedef enum {
    EMGMM_MISSING_ERROR = 0,     /* NaN is an error, like Inf (default) */
    EMGMM_MISSING_NAN = 1,       /* NaN marks a value missing at random; a row with no
                                    observed value is an error (EMGMM_ERR_NONFINITE) */
    EMGMM_MISSING_DROP_EMPTY = 2 /* as EMGMM_MISSING_NAN, but rows with no observed value
                                    are left out of the fit (weight 0) */
} emgmm_missing_policy;

/* "error", "nan", "drop-empty-rows"; NULL if unknown. */
EMGMM_API const char *emgmm_missing_policy_name(int policy);
/* Parses the names above; -1 when unknown or NULL. */
EMGMM_API int emgmm_missing_policy_from_name(const char *name);

/* "kmeans", "k-means++", "random", "random_from_data", "user", "emem", "resp", "smem"; NULL if
 * unknown. */
EMGMM_API const char *emgmm_init_method_name(int init);
/* Parses the names above except "resp" (also "k-means", "em-em", "split-merge"); -1 when
 * unknown or NULL. */
EMGMM_API int emgmm_init_method_from_name(const char *name);

/* What a fit does when a component becomes empty or its covariance is not
 * positive definite after reg_covar (params.degenerate).
 * - EMGMM_DEGEN_RESEED (the default): the component is re-initialised at the
 *   data point worst explained by the other components (lowest log-density
 *   under them), with the data's covariance scaled by K^(-2/d) (+ reg_covar and
 *   the variance floor) and weight 1/(2K), the other weights scaled to make
 *   room.  "Empty" means N_k = Σ_i r_ik below max(16·d·ε·W, min(1e-9·W,
 *   1e-3)), W the total weight (the number of samples when unweighted):
 *   rounding noise, or less than a thousandth of one sample (a billionth of
 *   small data), where EM would only drive the component further down.  A
 *   component whose mean and covariance equal another's to rounding (an
 *   initialisation that picked one point twice) counts as collapsed: EM
 *   cannot separate the two.  This also runs in the M-step that ends the
 *   kmeans and random initialisations (iteration 0).  The iteration that reseeds and the next one never declare
 *   convergence; the lower bound may drop once, at the iteration after the
 *   reseed, and is monotone again from then on.  Each reseed is recorded
 *   (emgmm_model_n_reseeds, emgmm_model_reseed_event).  A component is
 *   reseeded at most EMGMM_RESEED_LIMIT times per initialisation; one more is
 *   EMGMM_ERR_DEGENERATE (also when no point is left that a new component
 *   could start from, as with fewer distinct points than components).  A tied
 *   covariance that is not PD is shared by all components, so reseeding
 *   cannot help: it stays EMGMM_ERR_NOT_PD.
 * - EMGMM_DEGEN_ERROR: scikit-learn's behaviour.  An empty component goes on
 *   as scikit-learn's does (its mean is Σ r·x / (N_k + 10ε), so it moves to
 *   the origin); a covariance that is not PD is EMGMM_ERR_NOT_PD naming the
 *   component.  Use it to compare with scikit-learn number for number.
 * Reseed is the default because an unattended fit should end with K useful
 * components rather than stop, or carry a dead component at the origin. */
typedef enum {
    EMGMM_DEGEN_ERROR = 0,
    EMGMM_DEGEN_RESEED = 1
} emgmm_degenerate_policy;

/* Reseeds allowed per component and initialisation before EMGMM_ERR_DEGENERATE. */
#define EMGMM_RESEED_LIMIT 3

/* "error", "reseed"; NULL if unknown. */
EMGMM_API const char *emgmm_degenerate_policy_name(int policy);
/* Parses the names above; -1 when unknown. */
EMGMM_API int emgmm_degenerate_policy_from_name(const char *name);

/* Acceleration of EM (params.accel). */
typedef enum {
    EMGMM_ACCEL_NONE = 0,    /* plain EM */
    EMGMM_ACCEL_SQUAREM = 1, /* SQUAREM (Varadhan & Roland 2008), monotone-guarded */
    EMGMM_ACCEL_ANDERSON = 2 /* Anderson acceleration (type II, small memory), monotone-guarded */
} emgmm_accel_method;

/* "none", "squarem", "anderson"; NULL if unknown. */
EMGMM_API const char *emgmm_accel_method_name(int method);
/* Parses the names above; -1 when unknown. */
EMGMM_API int emgmm_accel_method_from_name(const char *name);

/* The data pass's kernels for the full and tied families (emgmm_params.pass_kernels). */
typedef enum {
    EMGMM_KERNELS_AUTO = 0,      /* triangular (and fused small-d) kernels: the fastest */
    EMGMM_KERNELS_GEMM = 1,      /* E-step and M-step statistics by GEMM (the reference path) */
    EMGMM_KERNELS_GEMM_MSTEP = 2 /* the M-step statistics alone by GEMM */
} emgmm_pass_kernels;

typedef enum {
    EMGMM_F64 = 0,
    EMGMM_F32 = 1
} emgmm_dtype;

/* A caller-owned data matrix: row i, column j is at x[i*ld + j]. */
typedef struct {
    const void *x;
    emgmm_dtype dtype;
    size_t n;  /* rows (samples) */
    size_t d;  /* columns (features) */
    size_t ld; /* leading dimension in elements, >= d */
    /* Optional per-sample weights [n] (finite, >= 0, not all 0), used by fit
     * only: a weighted fit equals the unweighted fit on rows repeated by
     * integer weights.  NULL = every weight 1.  The lower bound is then the
     * weighted mean log-likelihood. */
    const double *weights;
    /* 1: every value of x is finite, as emgmm_data_check found it; the functions that
     * take X then skip their own scan of the values (issue 21: a sweep of fits over the
     * same data scans it once, not once per fit).  A promise the caller keeps, as it
     * keeps x's n·ld values readable: set it from emgmm_data_check only, and clear it
     * when the values change.  0 (as emgmm_data_f64/f32 give): every call scans.  The
     * shape and the weights are checked either way. */
    int finite;
} emgmm_data;

/* A view of row-major data (no weights); nothing is checked or copied here (the
 * functions that take the view check it), so these cannot fail. */
EMGMM_API emgmm_data emgmm_data_f64(const double *x, size_t n, size_t d, size_t ld);
EMGMM_API emgmm_data emgmm_data_f32(const float *x, size_t n, size_t d, size_t ld);
/* Scans X's values once (on n_threads threads, 0 = all) and sets X->finite to 1 when
 * every one is finite, to 0 otherwise.  Returns EMGMM_OK (finite), EMGMM_ERR_NONFINITE
 * (a NaN or an infinity; *row and *col, when not NULL, say where the first is, in
 * X's rows), EMGMM_ERR_NULL, EMGMM_ERR_INVALID_PARAM (dtype), EMGMM_ERR_NO_FEATURES
 * or EMGMM_ERR_SHAPE (ld < d).  Data with NaN for missing values is not finite: the
 * fits then check it themselves, under their missing policy. */
EMGMM_API int emgmm_data_check(emgmm_data *X, int n_threads, long long *row, long long *col);

/* Fit settings.  Fill with emgmm_params_default() and change what you need;
 * the semantics follow scikit-learn's GaussianMixture. */
typedef struct {
    double tol;       /* stop when |Δ mean log-likelihood| < tol (default 1e-3); 0 runs max_iter */
    double reg_covar; /* added to every covariance diagonal in each M-step (default 1e-6) */
    int max_iter;     /* EM iterations per initialisation (default 100) */
    int n_init;       /* initialisations; the best lower bound is kept (default 1) */
    int init;         /* emgmm_init_method (default EMGMM_INIT_KMEANS) */
    uint64_t seed;    /* random seed (default 0); xoshiro256** seeded by splitmix64 */
    int n_threads;    /* OpenMP threads; 0 = OpenMP's default (default 0) */
    int block_size;   /* rows per block in the data pass; 0 = automatic (default 0) */
    int kmeans_max_iter; /* Lloyd iterations for EMGMM_INIT_KMEANS (default 300) */
    double
        kmeans_tol; /* Lloyd stops when centres move less than kmeans_tol × mean feature variance (default 1e-4) */
    int missing;       /* emgmm_missing_policy (default EMGMM_MISSING_ERROR).  With NaN as
                            missing, EM runs on the observed-data likelihood: each row's
                            E-step uses the marginal of its observed coordinates, the
                            M-step the expected statistics given them.  Initialisation
                            runs on a column-mean-imputed copy of the data (memory: one
                            more copy of the data during init, only when NaN occur). */
    int degenerate;    /* emgmm_degenerate_policy (default EMGMM_DEGEN_RESEED) */
    double var_floor;  /* in [0, 1]; 0 = off (default).  Each covariance's diagonal is at
                            least var_floor × that feature's variance over the whole (weighted)
                            data, after reg_covar; spherical variances at least var_floor × the
                            mean feature variance.  A floor relative to each feature's scale,
                            for data whose features differ by many orders of magnitude, where
                            the absolute reg_covar is too large for some and too small for
                            others (use it with reg_covar = 0 there).  Raising a diagonal keeps
                            a matrix positive semi-definite, so a floor never makes a
                            covariance worse; it does not lift a full covariance singular
                            through collinear features (reg_covar does). */
    int search_starts; /* EMGMM_INIT_EMEM, _SMEM: short runs per initialisation; 0 = automatic
                            (emem 20, smem 5) */
    int search_iter;   /* EMGMM_INIT_EMEM, _SMEM: EM iterations of each short run; 0 = automatic
                            (emem 10, smem 5) */
    int accel;         /* emgmm_accel_method (default EMGMM_ACCEL_NONE: plain EM, which matches
                            scikit-learn number for number).  EMGMM_ACCEL_SQUAREM and
                            EMGMM_ACCEL_ANDERSON extrapolate the EM map (docs/accel.md): fewer
                            data passes to the same optimum, the lower bound still never
                            decreasing between iterations; each iteration then costs one or
                            two data passes (emgmm_model_n_passes), except Anderson's second,
                            which on 8000 rows or more first fits every 4th row (its warm-up,
                            counted 4 such passes to a data pass). */
    /* ---- mclust structures and init from responsibilities (issue 19) ---- */
    double inner_tol;        /* the iterative structures' (VEI, VEE, EVE, VVE, VEV) inner iteration
                            in each M-step stops when the largest relative change of the
                            volumes λ_k (VEI, VEE, VEV) is <= inner_tol, or (EVE, VVE) when
                            one iteration lowers the M-step objective Σ_k N_k log|Σ_k| +
                            tr(W_k Σ_k⁻¹) by at most inner_tol·n·d, mclust's rule (default
                            sqrt(DBL_EPSILON), mclust's default); >= 0 */
    int inner_max_iter;      /* the inner iteration's limit (default 1000); reaching it is not an
                            error: it is counted (emgmm_model_inner_report) */
    const double *init_resp; /* EMGMM_INIT_RESP: [n][K] row-major responsibilities of the rows
                                passed to fit (this rank's rows when distributed); not kept.
                                NULL with EMGMM_INIT_RESP: EMGMM_ERR_INVALID_PARAM */
    const double *init_centres; /* EMGMM_INIT_KMEANS (issue 21): its k-means already run, as
                                [n_init][K][d] row-major centres, set r for initialisation r (from
                                emgmm_kmeans_centres, the same on every rank when distributed);
                                each fit then labels the rows by the nearest centre and runs the
                                M-step, skipping k-means.  With the centres emgmm_kmeans_centres
                                gives for the same params, the fit is the same bit for bit as with
                                NULL (default: k-means runs).  So a sweep over covariance types
                                runs k-means once per K.  Not kept; ignored by other inits.
                                Errors: a non-finite centre, or an initialisation index >= n_init
                                (emgmm_fit_init_at): EMGMM_ERR_INVALID_PARAM */
    int mclust_compat;       /* 1: reproduce mclust 6 where its update is not the exact M-step: its
                            VVE orientation step weights by the shapes A_k alone, not by
                            (λ_k A_k)⁻¹, reaching a lower likelihood.  Default 0 (exact) */
    /* ---- the data pass's tuning (issue 20): benchmarks and tests; the defaults (0) are
            the fastest measured and change no result ---- */
    int pass_kernels;       /* emgmm_pass_kernels: which kernels the full and tied families' pass
                            runs.  EMGMM_KERNELS_AUTO (default): the triangular kernels of
                            src/em/kernels_tri.c and kernels_tri_impl.h (the fused one of
                            src/em/kernels.c for full with d <= 4);
                            EMGMM_KERNELS_GEMM: one GEMM per chunk of components for both the
                            E-step and the M-step statistics; EMGMM_KERNELS_GEMM_MSTEP: the
                            M-step statistics alone by GEMM.  The paths agree to rounding, not
                            bit for bit */
    long miss_store_max;    /* missing values: doubles per thread of conditional moments kept from
                            the E-step for the M-step (beyond them the M-step recomputes them,
                            the same to 1e-12); 0 = default (4 Mi), negative = none */
    long pattern_cache_max; /* missing values, full/tied: doubles per thread of cached factors of
                            missing patterns (beyond them a tied row refactors, the same bit
                            for bit, and a full row with up to 128 missing values takes the
                            vector-lane path, the same to rounding); 0 = default (2 Mi),
                            negative = none */
} emgmm_params;

/* The defaults documented field by field above; cannot fail. */
EMGMM_API emgmm_params emgmm_params_default(void);
/* EMGMM_OK, or EMGMM_ERR_INVALID_PARAM naming nothing more precise. */
EMGMM_API int emgmm_params_validate(const emgmm_params *params);

/* ------------------------------------------------------------------------ */
/* Create and destroy                                                       */
/* ------------------------------------------------------------------------ */
typedef struct emgmm_model emgmm_model;

/* Creates an empty (unfitted) model with K components over d features.
 * *out is set to NULL on failure.  Errors: EMGMM_ERR_NULL, EMGMM_ERR_NO_COMPONENTS,
 * EMGMM_ERR_NO_FEATURES, EMGMM_ERR_INVALID_PARAM (covariance type: any
 * emgmm_covariance_type, 0..13), EMGMM_ERR_TOO_LARGE, EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_model_create(emgmm_model **out, int n_components, int n_features,
                                 int covariance_type);
/* Frees the model and everything it owns; NULL is accepted. */
EMGMM_API void emgmm_model_free(emgmm_model *model);
/* A deep copy (parameters, fit report, not the workspace or the MPI
 * communicator).  *out is set to NULL on failure.  Errors: EMGMM_ERR_NULL,
 * EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_model_copy(emgmm_model **out, const emgmm_model *model);

/* Sets the parameters (copied): weights [K], means [K][d], covariances in the
 * shape of the covariance type.  Validated: weights finite, >= 0, summing to 1
 * within 1e-9 (kept bit for bit when the sum is 1 within 4·K·ε, as a fitted
 * model's is, else renormalised); means finite; covariances finite,
 * symmetric (to 1e-10 relative) and positive definite.  On success the model
 * counts as fitted with n_iter 0 and converged false.  The same as copying
 * into emgmm_model_parameter_buffers and calling emgmm_model_commit_parameters
 * with EMGMM_COMMIT_COMPUTE_PRECISIONS, which is what it does: the same
 * checks and messages; on failure the model counts as unfitted.
 * Errors: EMGMM_ERR_NULL, EMGMM_ERR_BAD_INIT (detail and component in
 * last_error), EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_model_set_parameters(emgmm_model *model, const double *weights,
                                         const double *means, const double *covariances);

/* Loading stored parameters in place (model files, issue 22).  A reader
 * creates the model, asks for its buffers, fills them straight from the file
 * and commits: no staging copy, and with the precision factors stored (as
 * an .h5 model holds them) no O(K·d³) factorisation either.
 *   emgmm_model_create(&m, K, d, type);
 *   emgmm_model_parameter_buffers(m, &w, &mu, &cov, &pc);
 *   ... read weights, means, covariances, precisions_cholesky into them ...
 *   emgmm_model_commit_parameters(m, 0);
 *
 * Writable pointers to the model's own parameter buffers: weights [K], means
 * [K][d], covariances and precisions_cholesky in the covariance type's shape
 * (emgmm_model_covariances_size doubles each).  Any output pointer may be
 * NULL.  From this call the model counts as unfitted (its parameters are
 * being overwritten) until emgmm_model_commit_parameters succeeds.  The
 * pointers stay valid until emgmm_model_free; a fit or set_parameters
 * overwrites what they point to.  Errors: EMGMM_ERR_NULL. */
EMGMM_API int emgmm_model_parameter_buffers(emgmm_model *model, double **weights, double **means,
                                            double **covariances, double **precisions_cholesky);

/* Flags of emgmm_model_commit_parameters. */
/* Compute precisions_cholesky from the covariances, as emgmm_model_set_parameters
 * does (dpotrf + triangular inverse, O(K·d³)); the buffer's contents are ignored
 * and the covariances must be positive definite.  For files that hold no factors. */
#define EMGMM_COMMIT_COMPUTE_PRECISIONS 1u
/* With stored factors: also check, for each component, that U·Uᵀ inverts Σ on
 * two fixed probe vectors v: max|Uᵀ·Σ·U·v − v| <= EMGMM_COMMIT_CHECK_TOL·max|v|.
 * O(K·d²) (three matrix–vector sweeps); catches a factor stored for other
 * covariances (a hand-edited or stale file), which gives a residual near 1.
 * Rounding gives about d·ε·cond(Σ), so covariances with a condition number
 * above ~1e9 can fail it: load those without the flag. */
#define EMGMM_COMMIT_CHECK_PRECISIONS 2u
#define EMGMM_COMMIT_CHECK_TOL 1e-4

/* Validates what was written into the buffers and installs it; on success the
 * model counts as fitted with n_iter 0 and converged false, as after
 * emgmm_model_set_parameters.  Checked as there: weights finite, >= 0, summing
 * to 1 within 1e-9 (kept bit for bit within 4·K·ε, else renormalised in
 * place); means finite; covariances finite, full/tied symmetric to 1e-10
 * relative, diag/spherical > 0.  Without EMGMM_COMMIT_COMPUTE_PRECISIONS the
 * stored precisions_cholesky (scikit-learn's precisions_cholesky_) are used as
 * given, checked in O(K·d²): finite; full/tied upper triangular (exact zeros
 * below the diagonal); diagonal > 0.  The log-determinants come from the
 * factor's diagonal, Σ_i log U_ii, as the library computes them after a fit,
 * so a model saved with its factors and loaded again scores bit for bit as the
 * fitted one.  That the factors invert the covariances is not checked unless
 * EMGMM_COMMIT_CHECK_PRECISIONS is given.
 * Errors: EMGMM_ERR_NULL, EMGMM_ERR_INVALID_PARAM (unknown flag bits),
 * EMGMM_ERR_BAD_INIT (detail and component in last_error), EMGMM_ERR_ALLOC.
 * On failure the model stays unfitted. */
EMGMM_API int emgmm_model_commit_parameters(emgmm_model *model, unsigned flags);

/* Restores a fit report (for resuming a checkpointed fit): the lower bounds
 * of the n_iter iterations run so far (copied) and the converged flag.  The
 * parameters must have been set (emgmm_model_set_parameters) first; a
 * following emgmm_fit_iterate appends to this history.
 * Errors: EMGMM_ERR_NULL (lower_bounds NULL with n_iter > 0), EMGMM_ERR_NOT_FITTED,
 * EMGMM_ERR_INVALID_PARAM (n_iter < 0), EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_model_set_fit_state(emgmm_model *model, const double *lower_bounds, int n_iter,
                                        int converged);

/* ------------------------------------------------------------------------ */
/* Basic processing                                                         */
/* ------------------------------------------------------------------------ */
/* Fits the model to X by EM with params->n_init initialisations, keeping the
 * one with the best final lower bound.  Not converging within max_iter is not
 * an error (see emgmm_model_converged).  With one component, no missing
 * values and plain EM, the parameters after the first M-step are EM's fixed
 * point (every E-step gives r = 1): from the third iteration on, the
 * iterations are recorded without passing over the data, each with the
 * previous lower bound, so n_iter, converged and the lower bounds are what
 * running them gives, to rounding, in two passes (emgmm_model_n_passes).
 * On failure the model keeps the parameters it had before the call.
 * Errors: EMGMM_ERR_NULL, EMGMM_ERR_INVALID_PARAM, EMGMM_ERR_SHAPE,
 * EMGMM_ERR_TOO_FEW_SAMPLES, EMGMM_ERR_NONFINITE (row/column in last_error),
 * EMGMM_ERR_BAD_INIT (init = user and no valid parameters), EMGMM_ERR_NOT_PD
 * (component in last_error), EMGMM_ERR_DEGENERATE (params.degenerate = reseed:
 * components keep collapsing; component in last_error), EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_fit(emgmm_model *model, const emgmm_params *params, const emgmm_data *X);

/* Bytes a fit of n rows of d features with K components of covariance_type
 * (any structure; emgmm_covariance_storage's shape counts) on data of dtype
 * allocates beyond the data itself, for params (n_threads, init, max_iter,
 * n_init, missing): the pass's per-thread workspaces and shared inputs — from
 * the same sizes the pass allocates, with, for missing values in the full and
 * tied types, the most a thread's pattern cache (at the default
 * pattern_cache_max) and cross-term buffer can grow to — plus statistics,
 * parameter copies, the model and the initialisation.  A double, as it may exceed SIZE_MAX.  For a
 * job scheduler's up-front check (the CLI's fit refuses what will not fit).
 * Returns a negative value when params is NULL, d or K < 1, or the type or
 * dtype is unknown. */
EMGMM_API double emgmm_fit_memory_estimate(const emgmm_params *params, size_t n, int d, int K,
                                           int covariance_type, int dtype);

/* predict, predict_proba, score_samples, score, bic, aic, icl: the model's
 * parameters applied to X under the model's missing policy
 * (emgmm_model_set_missing), on emgmm_model_set_n_threads threads.
 * Errors: EMGMM_ERR_NULL (model, X, X->x with rows, or the output),
 * EMGMM_ERR_NOT_FITTED, the data checks' (EMGMM_ERR_INVALID_PARAM for an
 * unknown dtype, EMGMM_ERR_NO_FEATURES, EMGMM_ERR_SHAPE, EMGMM_ERR_TOO_LARGE,
 * EMGMM_ERR_NONFINITE with row and column in last_error), EMGMM_ERR_NOT_PD
 * (with missing values: a component's precision restricted to a row's
 * missing coordinates; row and component recorded), EMGMM_ERR_ALLOC; score,
 * bic, aic and icl also EMGMM_ERR_TOO_FEW_SAMPLES (no row to score).  X with
 * 0 rows is not an error for the per-row functions.
 * labels[n]: the most probable component of each row. */
EMGMM_API int emgmm_predict(emgmm_model *model, const emgmm_data *X, int32_t *labels);
/* resp[n][K] (row-major, ld = K): posterior probabilities of the components. */
EMGMM_API int emgmm_predict_proba(emgmm_model *model, const emgmm_data *X, double *resp);
/* logdens[n]: log p(x_i) under the mixture. */
EMGMM_API int emgmm_score_samples(emgmm_model *model, const emgmm_data *X, double *logdens);
/* *mean_loglik: the mean of score_samples. */
EMGMM_API int emgmm_score(emgmm_model *model, const emgmm_data *X, double *mean_loglik);
/* The rows that count in emgmm_score's mean and in BIC's n: every row, except
 * under the drop-empty-rows missing policy (emgmm_model_set_missing), where rows
 * with no observed value are left out.  Errors: EMGMM_ERR_NULL. */
EMGMM_API int emgmm_n_scored(const emgmm_model *model, const emgmm_data *X, size_t *n);
/* Bayesian / Akaike information criteria on X (scikit-learn's definitions:
 * -2·n·score + p·log(n), -2·n·score + 2p; lower is better). */
EMGMM_API int emgmm_bic(emgmm_model *model, const emgmm_data *X, double *bic);
EMGMM_API int emgmm_aic(emgmm_model *model, const emgmm_data *X, double *aic);
/* Number of free parameters (scikit-learn's _n_parameters; for the mclust
 * structures mclust's nMclustParams, which equals it for the four); 0 for
 * NULL. */
EMGMM_API long emgmm_model_n_parameters(const emgmm_model *model);
/* Integrated completed likelihood on X, in the sign of emgmm_bic (lower is
 * better): BIC + 2·Σ_i (−log max_k r_ik), mclust's icl() with the sign
 * turned (mclust's ICL = −this).  X's per-sample weights are not used (mclust's
 * icl() has none), unlike in emgmm_score_entropy, which counts a row of weight
 * w w times.  Errors as emgmm_bic. */
EMGMM_API int emgmm_icl(emgmm_model *model, const emgmm_data *X, double *icl);
/* emgmm_score's *mean_loglik and, from the same E-step pass (one pass over X,
 * not two), ICL's term *entropy = Σ_i −log max_k r_ik (a row of weight w
 * counts w times, as in the score; a row whose largest responsibility is 0
 * adds nothing), so that a caller with both, e.g. a model-selection sweep,
 * gets BIC, AIC and ICL = BIC + 2·entropy from one pass.  The entropy is a sum
 * over rows: distributed callers add their ranks'.  With one thread it is the
 * sum over predict_proba's rows in row order, bit for bit; the score is
 * emgmm_score's bit for bit.  Errors as emgmm_score; EMGMM_ERR_NULL (entropy). */
EMGMM_API int emgmm_score_entropy(emgmm_model *model, const emgmm_data *X, double *mean_loglik,
                                  double *entropy);

/* Draws n points: x[n][d] row-major, and (if comp is not NULL) the component of
 * each.  Deterministic for a seed.  Errors: EMGMM_ERR_NULL (model, or x with
 * n > 0), EMGMM_ERR_NOT_FITTED, EMGMM_ERR_NOT_PD (a covariance; component
 * recorded), EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_sample(emgmm_model *model, size_t n, uint64_t seed, double *x, int32_t *comp);

/* Fills the missing entries (NaN) of X, row by row, into out[n][d] (row-major,
 * ld = d; X and out may not overlap): with draws = 0 by the conditional
 * expectation under the mixture, Σ_k r_ik E_k[x_miss | x_obs] (responsibilities
 * from the observed coordinates); with draws = 1 by one draw from the
 * conditional distribution (a component drawn from r_i, then the missing
 * values from that component's conditional Gaussian).  A draw depends only on
 * (seed, row0 + i), row0 being the index of X's first row in the whole data
 * set, so imputing a file block by block (or over ranks) gives the same values
 * whatever the blocks and threads.  Observed entries are copied unchanged.
 * Rows with no observed value get the mixture mean (draws = 0) or a draw from
 * the mixture.  NaN is always read as missing here, whatever the model's
 * missing policy.
 * Errors: EMGMM_ERR_NULL, EMGMM_ERR_NOT_FITTED, EMGMM_ERR_SHAPE,
 * EMGMM_ERR_NONFINITE (an Inf; row/column recorded), EMGMM_ERR_INVALID_PARAM,
 * EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_impute(emgmm_model *model, const emgmm_data *X, int draws, uint64_t seed,
                           uint64_t row0, double *out);

/* The missing-value policy used by predict, predict_proba, score_samples,
 * score, bic and aic on this model (emgmm_fit sets it from params.missing).
 * Errors: EMGMM_ERR_NULL, EMGMM_ERR_INVALID_PARAM. */
EMGMM_API int emgmm_model_set_missing(emgmm_model *model, int policy);
/* The policy; EMGMM_MISSING_ERROR for NULL. */
EMGMM_API int emgmm_model_missing(const emgmm_model *model);

/* Threads used by predict/score/sample (0 = OpenMP default, as are negative
 * values); fit uses params.  A NULL model is ignored; cannot fail. */
EMGMM_API void emgmm_model_set_n_threads(emgmm_model *model, int n_threads);

/* ------------------------------------------------------------------------ */
/* Distributed fits (MPI)                                                   */
/* ------------------------------------------------------------------------ */
/* Makes emgmm_fit, emgmm_fit_init and emgmm_fit_iterate on this model
 * collective over an MPI communicator: each rank passes only its own rows,
 * every pass's sufficient statistics are all-reduced, and every rank ends
 * with the same model.  COMM points to an MPI_Comm (read at this call; the
 * communicator must stay valid while the model fits); NULL returns the model
 * to one process.  ROW_OFFSET is the global index of this rank's first row,
 * used in error reports.  Every rank must make the same fit calls with the
 * same params; a failure on any rank (a NaN row, an allocation) is returned
 * on every rank with the failing rank's message.  Every initialisation runs
 * distributed: 'kmeans' and 'k-means++' are seeded by k-means‖ over all ranks
 * instead of the sequential k-means++ (the same model on every rank, but not
 * a single process's; 'emem' starts its short runs so too); 'random',
 * 'random_from_data', 'user' and 'resp' (each rank passes its own rows'
 * responsibilities) give a single process's model to rounding (docs/mpi.md).  The caller initialises MPI (MPI_Init) before
 * this call and finalises it after the model is freed; the library never
 * does either.  predict/score/sample stay local.  emgmm_model_copy does not carry the
 * communicator.  With one rank a fit is bitwise that of a single process.
 * Errors: EMGMM_ERR_NULL, EMGMM_ERR_UNSUPPORTED (built without MPI),
 * EMGMM_ERR_INVALID_PARAM (MPI not initialised, ROW_OFFSET < 0), EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_model_set_mpi_comm(emgmm_model *model, const void *comm, long long row_offset);

/* ------------------------------------------------------------------------ */
/* Fine-grained processing: the fit loop, step by step.                      */
/*   emgmm_fit_init(m, p, X);                                                */
/*   do { emgmm_fit_iterate(m, p, X, &lb); log(lb); }                        */
/*   while (!emgmm_fit_converged(m, p->tol) && emgmm_model_n_iter(m) < p->max_iter); */
/* is one initialisation of emgmm_fit (which also handles n_init).           */
/* ------------------------------------------------------------------------ */
/* Validates params and X, initialises the parameters by params->init with
 * params->seed, and clears the iteration history.  Errors: those of
 * emgmm_fit. */
EMGMM_API int emgmm_fit_init(emgmm_model *model, const emgmm_params *params, const emgmm_data *X);
/* As emgmm_fit_init, for the INIT_INDEX-th (0-based) initialisation of an
 * n_init fit: the random stream emgmm_fit uses for that initialisation, so a
 * caller running the step loop itself (to log, or to stop between
 * iterations) reproduces emgmm_fit's n_init starts bit for bit.
 * emgmm_fit_init is emgmm_fit_init_at(..., 0).  (init 'user' ignores it.)
 * Errors: those of emgmm_fit_init; EMGMM_ERR_INVALID_PARAM (init_index < 0). */
EMGMM_API int emgmm_fit_init_at(emgmm_model *model, const emgmm_params *params, const emgmm_data *X,
                                int init_index);
/* The centres [K][d] (K, d the model's) of init 'kmeans' for the INIT_INDEX-th
 * initialisation of a fit with these params and data: k-means++ seeded from
 * params->seed, then Lloyd's iterations (params->kmeans_max_iter,
 * kmeans_tol, n_threads; on the mean-imputed data under a missing policy;
 * k-means|| over all ranks, collectively, when distributed).  They depend on
 * K, d, the data, the weights and those params, never on the covariance type:
 * pass them back as params->init_centres (set r for initialisation r) to fit
 * every covariance type with this K from one k-means, bit for bit as
 * emgmm_fit would.  The model's parameters are not touched.
 * Errors: those of emgmm_fit_init; EMGMM_ERR_NULL (centres),
 * EMGMM_ERR_INVALID_PARAM (init_index < 0). */
EMGMM_API int emgmm_kmeans_centres(emgmm_model *model, const emgmm_params *params,
                                   const emgmm_data *X, int init_index, double *centres);
/* One EM iteration: E-step with the current parameters (its mean log-likelihood
 * is written to *lower_bound and appended to the history), then M-step.  A
 * failure leaves the previous parameters in place.  Errors: EMGMM_ERR_NULL,
 * EMGMM_ERR_NOT_FITTED (no emgmm_fit_init), EMGMM_ERR_SHAPE and the other
 * shape checks of emgmm_fit, EMGMM_ERR_TOO_FEW_SAMPLES (no rows),
 * EMGMM_ERR_INVALID_PARAM, EMGMM_ERR_NONFINITE (the log-likelihood),
 * EMGMM_ERR_NOT_PD, EMGMM_ERR_DEGENERATE, EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_fit_iterate(emgmm_model *model, const emgmm_params *params, const emgmm_data *X,
                                double *lower_bound);
/* 1 when the last two lower bounds differ by less than tol (and sets the
 * model's converged flag), else 0 — also for NULL, fewer than two iterations,
 * or a reseed in either of the last two. */
EMGMM_API int emgmm_fit_converged(emgmm_model *model, double tol);

/* ------------------------------------------------------------------------ */
/* Get                                                                      */
/* ------------------------------------------------------------------------ */
/* The getters cannot fail: for a NULL model they return 0 (counts, flags),
 * NULL (arrays), -1 (types) or -inf (lower bound), as noted.  Arrays are the
 * model's own, valid until the model is freed or its parameters change (a fit,
 * set_parameters). */
EMGMM_API int emgmm_model_n_components(const emgmm_model *model);
EMGMM_API int emgmm_model_n_features(const emgmm_model *model);
/* The storage shape: one of the four first types (EEV gives full). */
EMGMM_API int emgmm_model_covariance_type(const emgmm_model *model);
/* The type or structure the model was created with (0..13; EEV gives
 * EMGMM_COV_EEV); -1 for NULL. */
EMGMM_API int emgmm_model_structure(const emgmm_model *model);
/* The inner iterations of the iterative structures since the last
 * emgmm_fit_init: *failures = M-steps that stopped at params.inner_max_iter
 * without reaching inner_tol, *max_iter = the most inner iterations one
 * M-step took (both 0 for other structures).  Either pointer may be NULL. */
EMGMM_API void emgmm_model_inner_report(const emgmm_model *model, int *failures, int *max_iter);
EMGMM_API int emgmm_model_is_fitted(const emgmm_model *model);
/* [K] */
EMGMM_API const double *emgmm_model_weights(const emgmm_model *model);
/* [K][d] */
EMGMM_API const double *emgmm_model_means(const emgmm_model *model);
/* In the covariance type's shape: full [K][d][d], tied [d][d], diag [K][d], spherical [K]. */
EMGMM_API const double *emgmm_model_covariances(const emgmm_model *model);
/* Number of doubles in the covariances array for this model's type. */
EMGMM_API size_t emgmm_model_covariances_size(const emgmm_model *model);
/* Cholesky factors of the precisions as scikit-learn's precisions_cholesky_:
 * full [K][d][d] upper triangular U with U·Uᵀ = Σ⁻¹, tied [d][d], diag [K][d],
 * spherical [K]. */
EMGMM_API const double *emgmm_model_precisions_cholesky(const emgmm_model *model);
EMGMM_API int emgmm_model_converged(const emgmm_model *model);
/* EM iterations run by the kept initialisation. */
EMGMM_API int emgmm_model_n_iter(const emgmm_model *model);
/* The last lower bound (mean log-likelihood per sample); -inf before any iteration. */
EMGMM_API double emgmm_model_lower_bound(const emgmm_model *model);
/* The lower bound of every iteration of the kept initialisation; *count set to n_iter. */
EMGMM_API const double *emgmm_model_lower_bounds(const emgmm_model *model, int *count);
/* Data passes (E-step + statistics) made by the kept initialisation's EM
 * iterations: n_iter for plain EM (at most 2 for emgmm_fit at K = 1 without
 * missing values: see emgmm_fit); with acceleration also the passes at
 * rejected extrapolations.  The initialisation's own passes (k-means) and
 * reseed scoring passes are not counted.  0 for NULL. */
EMGMM_API long long emgmm_model_n_passes(const emgmm_model *model);
/* The state of an accelerated fit between two emgmm_fit_iterate calls, for
 * checkpoints: *phase (0 = nothing held: nothing else needed; SQUAREM: 1 or
 * 2 = inside a cycle; Anderson: 3 = the last accepted point and the
 * difference memory held), *step (the current cap on the step length),
 * *n_passes, and, when vec is not NULL and *len >= the needed length, the
 * saved point(s) (*len is always set to the needed length, 0 in phase 0;
 * docs/accel.md has the layouts).
 * Errors: EMGMM_ERR_NULL. */
EMGMM_API int emgmm_model_accel_state(const emgmm_model *model, int *phase, double *step,
                                      long long *n_passes, double *vec, size_t *len);
/* Restores that state after emgmm_model_set_parameters and
 * emgmm_model_set_fit_state, so a resumed accelerated fit continues bit for
 * bit as the interrupted one.  Phase 0 needs no vector (vec may be NULL).
 * Errors: EMGMM_ERR_NULL, EMGMM_ERR_INVALID_PARAM (phase not 0-3, step < 1,
 * n_passes < 0, len not the needed length, a non-finite value),
 * EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_model_set_accel_state(emgmm_model *model, int phase, double step,
                                          long long n_passes, const double *vec, size_t len);
/* The initialisation (0-based) whose result was kept by emgmm_fit. */
EMGMM_API int emgmm_model_best_init(const emgmm_model *model);
/* Components re-initialised by the reseed policy during the kept
 * initialisation (the iterations since emgmm_fit_init; not restored by
 * emgmm_model_set_fit_state). */
EMGMM_API int emgmm_model_n_reseeds(const emgmm_model *model);
/* The i-th reseed (0 <= i < n_reseeds): *iteration is the 1-based iteration
 * whose M-step reseeded (the new parameters are first used by the next one),
 * *component the component; *log_density the log-density of the chosen point
 * under the other components (any pointer may be NULL).
 * Errors: EMGMM_ERR_NULL, EMGMM_ERR_INVALID_PARAM (i out of range). */
EMGMM_API int emgmm_model_reseed_event(const emgmm_model *model, int i, int *iteration,
                                       int *component, double *log_density);
/* Appends a reseed to the fit report, as emgmm_model_set_fit_state restores
 * the lower bounds (for resuming a checkpointed fit: call it after
 * set_fit_state, once per saved event, in order).  The reseed limit and the
 * convergence test then see it as if the fit had run here.
 * Errors: EMGMM_ERR_NULL, EMGMM_ERR_INVALID_PARAM (component out of range,
 * iteration outside [0, n_iter] or before the last event's, more than
 * K·EMGMM_RESEED_LIMIT events), EMGMM_ERR_ALLOC. */
EMGMM_API int emgmm_model_add_reseed_event(emgmm_model *model, int iteration, int component,
                                           double log_density);

/* One line describing the last failure on this model, with its location
 * ("data contains NaN or Inf at row 12, column 3"); "" when none. */
EMGMM_API const char *emgmm_model_last_error(const emgmm_model *model);
/* Location of the last failure: row and column (0-based) of the data, and
 * component; -1 where not applicable.  Any pointer may be NULL. */
EMGMM_API void emgmm_model_error_location(const emgmm_model *model, long long *row,
                                          long long *column, int *component);

/* ------------------------------------------------------------------------ */
/* Build and BLAS facts                                                     */
/* ------------------------------------------------------------------------ */
/* The build and BLAS facts cannot fail: the strings are static ("unknown"
 * when OpenBLAS does not say), valid for the process.
 * 1 if built with OpenMP, else 0. */
EMGMM_API int emgmm_have_openmp(void);
/* The threads a call with n_threads = 0 would use. */
EMGMM_API int emgmm_default_threads(void);
/* OpenBLAS's core name ("SkylakeX", "Haswell", "Prescott", ...) and config string. */
EMGMM_API const char *emgmm_blas_corename(void);
EMGMM_API const char *emgmm_blas_config(void);
/* The OPENBLAS_CORETYPE that would run better kernels on this CPU ("SkylakeX",
 * "Haswell"), or NULL when the detected core is already right (or unknown). */
EMGMM_API const char *emgmm_blas_suggested_coretype(void);
/* The same decision for a given OpenBLAS core name on this CPU. */
EMGMM_API const char *emgmm_blas_coretype_for(const char *corename);
/* The vector path of emgmm's own kernels: "avx512", "avx2" or "portable"
 * (then the data pass runs its products through BLAS).  Every kernel emgmm
 * builds more than once (the tiles, the softmax, the element-wise loops, the
 * missing-value corrections, k-means's) runs the build of this path.  Chosen at
 * the first call from what the CPU supports; the environment variable
 * EMGMM_ISA (avx512, avx2, portable; other values are ignored) lowers it,
 * never raises it, so that a narrower path can be tested and measured on a
 * wider machine.  Fixed for the process; thread-safe. */
EMGMM_API const char *emgmm_kernel_path(void);

#ifdef __cplusplus
}
#endif
#endif /* EMGMM_H */

/* family.h — the covariance families (src/family/): per structure, the M-step
 * finish from a pass's statistics, precisions from covariances, parameter
 * counts.  Called by the driver (and core) with everything they need as
 * arguments; calls only into linalg/ and base/. */
#ifndef EMGMM_FAMILY_H
#define EMGMM_FAMILY_H
#include "src/base/base.h"

/* Finishes an M-step: stats (with shifts c, [K][d]) → weights, means,
 * covariances (+reg on the diagonal, then the variance floor [d] when not
 * NULL), precision Cholesky factors, log-dets.  With bad NULL, a covariance
 * that is not positive definite returns EMGMM_ERR_NOT_PD with the component
 * recorded on m; with bad not NULL, bad[k] is set to 1 for each such
 * component (all K for tied) and 0 otherwise, and EMGMM_OK returned with
 * those components' precisions undefined.  Full: only the upper triangles
 * of the covariances are written (the lower ones are left as they were);
 * emgmm_full_mirror completes them. */
int emgmm_full_finish(emgmm_model *m, const emgmm_stats *st, const double *shift, double reg_covar,
                      const double *floor, emgmm_paramset *out, unsigned char *bad);
int emgmm_tied_finish(emgmm_model *m, const emgmm_stats *st, const double *shift, double reg_covar,
                      const double *floor, emgmm_paramset *out, unsigned char *bad);
/* diag and spherical share one file: the spherical variance is the mean of
 * the diagonal. */
int emgmm_diag_finish(emgmm_model *m, const emgmm_stats *st, const double *shift, double reg_covar,
                      const double *floor, emgmm_paramset *out, unsigned char *bad);
/* Precision factors and log-dets from covariances (no regularisation). */
int emgmm_full_precisions(int K, int d, const double *cov, double *prec_chol, double *log_det,
                          int *bad_component);
int emgmm_tied_precisions(int K, int d, const double *cov, double *prec_chol, double *log_det,
                          int *bad_component);
int emgmm_diag_precisions(int cov_type, int K, int d, const double *cov, double *prec_chol,
                          double *log_det, int *bad_component);
long emgmm_full_n_parameters(int K, int d);
/* The K d×d covariances' upper triangles copied to their lower ones. */
void emgmm_full_mirror(int K, int d, double *cov);

/* ---- dispatch on the model's structure (family.c) ---- */
/* The M-step finish of m's structure, as emgmm_full_finish; mclust's
 * structures fail instead of flagging (bad all 0) and read p's inner_tol and
 * inner_max_iter (p NULL: defaults); warm_start lets EVE/VVE continue from the
 * model's current orientation (EM iterations, not an initialisation). */
int emgmm_family_finish(emgmm_model *m, const emgmm_params *p, const emgmm_stats *st,
                        const double *shift, double reg_covar, const double *floor,
                        emgmm_paramset *out, unsigned char *bad, int warm_start);
int emgmm_family_precisions(int cov_type, int K, int d, const double *cov, double *prec_chol,
                            double *log_det, int *bad_component);
/* N_k below which a component counts as empty (total = Σ_k N_k): the
 * reseed policy's test (src/em/degenerate.c) and mclust's. */
double emgmm_empty_threshold(int d, double total);
void emgmm_family_scaled_identity(int cov_type, int K, int d, double v, double *cov);
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
 * component, EMGMM_ERR_NOT_PD on a singular covariance) instead of flagging.
 * warm_start: see emgmm_family_finish. */
int emgmm_mclust_finish(emgmm_model *m, const emgmm_params *p, const emgmm_stats *st,
                        const double *shift, double reg_covar, const double *floor,
                        emgmm_paramset *out, int warm_start);

#endif

/* textbook_em.c — the reference EM of textbook_em.h, written for obviousness, not speed: every
 * step is the formula from the book, one scalar at a time, in double, with no BLAS.
 *
 * Every covariance type is a constraint on the dense d×d matrix Σ_k of each component.  The
 * E-step and the conditional formulas work on that dense matrix; the type enters only where the
 * M-step picks Σ_k from the scatter (full: its own; tied: pooled over k; diag: its diagonal;
 * spherical: the mean of that diagonal).  A NaN entry is missing at random: for a row with
 * observed coordinates O and missing ones M, under component k,
 *   log p(x_O | k)     = log N(x_O | μ_O, Σ_OO)
 *   E[x_M | x_O, k]    = μ_M + Σ_MO Σ_OO⁻¹ (x_O − μ_O)
 *   Cov[x_M | x_O, k]  = Σ_MM − Σ_MO Σ_OO⁻¹ Σ_OM
 * and the M-step uses the completed row x̂ plus that conditional covariance (zero for a complete
 * row, which is then the ordinary M-step).  A row of weight s_i counts as s_i copies of itself. */
#include "textbook_em.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TB_LOG_2PI 1.8378770664093454835606594728112

size_t tb_cov_size(int type, int K, int d)
{
    switch (type) {
    case TB_FULL: return (size_t)K * d * d;
    case TB_TIED: return (size_t)d * d;
    case TB_DIAG: return (size_t)K * d;
    default: return (size_t)K;
    }
}

double tb_variance(int type, int K, int d, const double *cov, int k, int j)
{
    (void)K;
    switch (type) {
    case TB_FULL: return cov[(size_t)k * d * d + (size_t)j * d + j];
    case TB_TIED: return cov[(size_t)j * d + j];
    case TB_DIAG: return cov[(size_t)k * d + j];
    default: return cov[k];
    }
}

void tb_cov_from_full(int type, int K, int d, const double *full, double *out)
{
    const size_t dd = (size_t)d * d;
    switch (type) {
    case TB_FULL: memcpy(out, full, sizeof(double) * K * dd); break;
    case TB_TIED:
        for (size_t e = 0; e < dd; e++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) s += full[k * dd + e];
            out[e] = s / K;
        }
        break;
    case TB_DIAG:
        for (int k = 0; k < K; k++)
            for (int j = 0; j < d; j++) out[(size_t)k * d + j] = full[k * dd + (size_t)j * d + j];
        break;
    default:
        for (int k = 0; k < K; k++) {
            double s = 0.0;
            for (int j = 0; j < d; j++) s += full[k * dd + (size_t)j * d + j];
            out[k] = s / d;
        }
    }
}

void tb_cov_to_full(int type, int K, int d, const double *cov, double *full)
{
    const size_t dd = (size_t)d * d;
    for (int k = 0; k < K; k++) {
        double *S = full + k * dd;
        if (type == TB_FULL || type == TB_TIED) {
            memcpy(S, cov + (type == TB_FULL ? k * dd : 0), sizeof(double) * dd);
            continue;
        }
        for (size_t e = 0; e < dd; e++) S[e] = 0.0;
        for (int j = 0; j < d; j++) S[(size_t)j * d + j] = tb_variance(type, K, d, cov, k, j);
    }
}

/* Σ = L·Lᵀ for an n×n row-major SPD matrix (Cholesky–Banachiewicz); L lower triangular with
 * zeros above.  Returns 0, or 1 + the 0-based index of the first non-positive pivot. */
static int cholesky(const double *S, double *L, int n)
{
    for (int i = 0; i < n * n; i++) L[i] = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = S[i * n + j];
            for (int k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
            if (i == j) {
                if (!(s > 0.0)) return i + 1;
                L[i * n + i] = sqrt(s);
            } else {
                L[i * n + j] = s / L[j * n + j];
            }
        }
    return 0;
}

/* b ← L⁻¹ b by forward substitution, L n×n lower triangular. */
static void forward_solve(const double *L, int n, double *b)
{
    for (int i = 0; i < n; i++) {
        double s = b[i];
        for (int k = 0; k < i; k++) s -= L[i * n + k] * b[k];
        b[i] = s / L[i * n + i];
    }
}

/* U = (L⁻¹)ᵀ, so that U·Uᵀ = (L·Lᵀ)⁻¹: column c of L⁻¹ solves L·y = e_c. */
static int precision_cholesky_one(const double *S, double *U, int d)
{
    double *L = malloc(sizeof(double) * (size_t)d * d);
    double *y = malloc(sizeof(double) * (size_t)d);
    int rc = (L && y) ? cholesky(S, L, d) : -1;
    for (int c = 0; rc == 0 && c < d; c++) {
        for (int i = 0; i < d; i++) y[i] = (i == c) ? 1.0 : 0.0;
        forward_solve(L, d, y);
        for (int i = 0; i < d; i++) U[(size_t)c * d + i] = y[i]; /* U_ci = (L⁻¹)_ic */
    }
    free(L);
    free(y);
    return rc;
}

int tb_precisions_cholesky(int type, int K, int d, const double *cov, double *out)
{
    const size_t dd = (size_t)d * d;
    switch (type) {
    case TB_FULL:
        for (int k = 0; k < K; k++)
            if (precision_cholesky_one(cov + k * dd, out + k * dd, d) != 0) return 1;
        return 0;
    case TB_TIED: return precision_cholesky_one(cov, out, d);
    default:
        for (size_t e = 0; e < tb_cov_size(type, K, d); e++) {
            if (!(cov[e] > 0.0)) return 1;
            out[e] = 1.0 / sqrt(cov[e]);
        }
        return 0;
    }
}

/* ---------------------------------------------------------------- one row, one component */

/* What the formulas need of one row: its observed indices O[no] and missing ones M[nm], the
 * Cholesky factor L of Σ_OO (no×no) and v = L⁻¹(x_O − μ_O); S_OO and B are scratch. */
typedef struct {
    int *O, *M, no, nm;
    const double *L; /* the component's own factor for a complete row, else Lrow */
    double *Lrow, *S_OO, *v, *B;
} row_work;

static int row_work_alloc(row_work *rw, int d)
{
    const size_t dd = (size_t)d * d;
    rw->O = malloc(sizeof(int) * (size_t)d);
    rw->M = malloc(sizeof(int) * (size_t)d);
    rw->Lrow = malloc(sizeof(double) * dd);
    rw->S_OO = malloc(sizeof(double) * dd);
    rw->B = malloc(sizeof(double) * dd);
    rw->v = malloc(sizeof(double) * (size_t)d);
    return rw->O && rw->M && rw->Lrow && rw->S_OO && rw->B && rw->v ? 0 : -1;
}

static void row_work_free(row_work *rw)
{
    free(rw->O);
    free(rw->M);
    free(rw->Lrow);
    free(rw->S_OO);
    free(rw->B);
    free(rw->v);
}

/* Splits row x into its observed (not NaN) and missing coordinates. */
static void row_split(const double *x, int d, row_work *rw)
{
    rw->no = rw->nm = 0;
    for (int j = 0; j < d; j++) {
        if (isnan(x[j]))
            rw->M[rw->nm++] = j;
        else
            rw->O[rw->no++] = j;
    }
}

/* log N(x_O | μ_O, Σ_OO) of row x (split by row_split) under the dense Σ (d×d), into *logp.
 * For a complete row the component's factor Lfull of Σ (with log|Σ| = logdet_full) is used
 * when given; otherwise Σ_OO is gathered and factored here.  Leaves L and v in rw for
 * row_conditional.  Returns 0, or 1 if Σ_OO is not positive definite. */
static int row_marginal(const double *x, int d, const double *mu, const double *S,
                        const double *Lfull, double logdet_full, row_work *rw, double *logp)
{
    const int no = rw->no;
    double logdet;
    if (rw->nm == 0 && Lfull) {
        rw->L = Lfull;
        logdet = logdet_full;
    } else {
        for (int a = 0; a < no; a++)
            for (int b = 0; b < no; b++) rw->S_OO[a * no + b] = S[(size_t)rw->O[a] * d + rw->O[b]];
        if (cholesky(rw->S_OO, rw->Lrow, no) != 0) return 1;
        rw->L = rw->Lrow;
        double s = 0.0;
        for (int a = 0; a < no; a++) s += log(rw->L[a * no + a]);
        logdet = 2.0 * s; /* log|Σ_OO| = 2 Σ log L_aa */
    }
    /* Mahalanobis term: solve L v = x_O − μ_O, then (x−μ)ᵀ Σ_OO⁻¹ (x−μ) = vᵀv. */
    double maha = 0.0;
    for (int a = 0; a < no; a++) {
        double s = x[rw->O[a]] - mu[rw->O[a]];
        for (int b = 0; b < a; b++) s -= rw->L[a * no + b] * rw->v[b];
        rw->v[a] = s / rw->L[a * no + a];
        maha += rw->v[a] * rw->v[a];
    }
    *logp = -0.5 * (no * TB_LOG_2PI + logdet + maha);
    return 0;
}

/* After row_marginal: xhat[d] = x with its missing coordinates replaced by E[x_M | x_O], and
 * C[d][d] = Cov[x_M | x_O] on M×M, zero elsewhere.  With B = L⁻¹ Σ_OM (one row per missing
 * coordinate), Σ_MO Σ_OO⁻¹ (x_O − μ_O) = Bᵀv and Σ_MO Σ_OO⁻¹ Σ_OM = BᵀB. */
static void row_conditional(const double *x, int d, const double *mu, const double *S, row_work *rw,
                            double *xhat, double *C)
{
    const int no = rw->no, nm = rw->nm;
    for (int c = 0; c < nm; c++) {
        double *Bc = rw->B + (size_t)c * no;
        for (int a = 0; a < no; a++) Bc[a] = S[(size_t)rw->O[a] * d + rw->M[c]];
        forward_solve(rw->L, no, Bc);
    }
    for (size_t e = 0; e < (size_t)d * d; e++) C[e] = 0.0;
    for (int j = 0; j < d; j++) xhat[j] = x[j];
    for (int c = 0; c < nm; c++) {
        const double *Bc = rw->B + (size_t)c * no;
        double s = mu[rw->M[c]];
        for (int a = 0; a < no; a++) s += Bc[a] * rw->v[a];
        xhat[rw->M[c]] = s;
        for (int e = 0; e < nm; e++) {
            const double *Be = rw->B + (size_t)e * no;
            double t = S[(size_t)rw->M[c] * d + rw->M[e]];
            for (int a = 0; a < no; a++) t -= Bc[a] * Be[a];
            C[(size_t)rw->M[c] * d + rw->M[e]] = t;
        }
    }
}

/* ---------------------------------------------------------------- E-step */

double tb_estep(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
                const double *w, const double *mu, const double *cov, double *resp, double *logdens)
{
    const size_t dd = (size_t)d * d;
    double *Sig = malloc(sizeof(double) * K * dd), *L = malloc(sizeof(double) * K * dd);
    double *logdet = malloc(sizeof(double) * (size_t)K), *a = malloc(sizeof(double) * (size_t)K);
    row_work rw;
    double total = 0.0, wsum = 0.0;
    if (row_work_alloc(&rw, d) != 0 || !Sig || !L || !logdet || !a) {
        total = NAN;
        goto out;
    }
    tb_cov_to_full(type, K, d, cov, Sig);
    for (int k = 0; k < K; k++) {
        if (cholesky(Sig + k * dd, L + k * dd, d) != 0) {
            total = NAN;
            goto out;
        }
        double s = 0.0;
        for (int i = 0; i < d; i++) s += log(L[k * dd + (size_t)i * d + i]);
        logdet[k] = 2.0 * s; /* log|Σ_k| = 2 Σ log L_ii */
    }
    for (size_t r = 0; r < n; r++) {
        const double *x = X + r * ld;
        row_split(x, d, &rw);
        double amax = -INFINITY;
        for (int k = 0; k < K; k++) {
            double lp;
            if (row_marginal(x, d, mu + (size_t)k * d, Sig + k * dd, L + k * dd, logdet[k], &rw,
                             &lp) != 0) {
                total = NAN;
                goto out;
            }
            a[k] = log(w[k]) + lp;
            if (a[k] > amax) amax = a[k];
        }
        double s = 0.0; /* log-sum-exp with the row maximum */
        for (int k = 0; k < K; k++) s += exp(a[k] - amax);
        const double lse = amax + log(s);
        if (logdens) logdens[r] = lse;
        if (resp)
            for (int k = 0; k < K; k++) resp[r * (size_t)K + k] = exp(a[k] - lse);
        const double wi = sw ? sw[r] : 1.0;
        total += wi * lse;
        wsum += wi;
    }
    total /= wsum;
out:
    row_work_free(&rw);
    free(Sig);
    free(L);
    free(logdet);
    free(a);
    return total;
}

/* ---------------------------------------------------------------- M-step */

/* Component k's completed rows xh[n][d] and Csum = Σ_i a_ik Cov[x_M | x_O] (d×d), under the old
 * parameters (mu_k, Sig_k; NULL when X has no NaN).  Returns 0, or 1 if a row has NaN and there
 * are no old parameters or its Σ_OO is not positive definite. */
static int complete_rows(const double *X, size_t n, int d, size_t ld, const double *sw, int K,
                         int k, const double *resp, const double *mu_k, const double *Sig_k,
                         row_work *rw, double *C, double *xh, double *Csum)
{
    const size_t dd = (size_t)d * d;
    for (size_t e = 0; e < dd; e++) Csum[e] = 0.0;
    for (size_t r = 0; r < n; r++) {
        const double *x = X + r * ld;
        row_split(x, d, rw);
        if (rw->nm == 0) {
            memcpy(xh + r * d, x, sizeof(double) * d);
            continue;
        }
        double lp;
        if (!mu_k || !Sig_k || row_marginal(x, d, mu_k, Sig_k, NULL, 0.0, rw, &lp) != 0) return 1;
        row_conditional(x, d, mu_k, Sig_k, rw, xh + r * d, C);
        const double a = (sw ? sw[r] : 1.0) * resp[r * (size_t)K + k];
        for (size_t e = 0; e < dd; e++) Csum[e] += a * C[e];
    }
    return 0;
}

int tb_mstep(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
             const double *resp, const double *mu_old, const double *cov_old, double reg_covar,
             double *w, double *mu, double *cov)
{
    const size_t dd = (size_t)d * d;
    const int have_old = mu_old && cov_old;
    double *xh = malloc(sizeof(double) * (n ? n : 1) * d), *S = malloc(sizeof(double) * dd);
    double *Csum = malloc(sizeof(double) * dd), *C = malloc(sizeof(double) * dd);
    double *mu0 = have_old ? malloc(sizeof(double) * K * d) : NULL;
    double *Sig0 = have_old ? malloc(sizeof(double) * K * dd) : NULL;
    row_work rw;
    int rc =
        row_work_alloc(&rw, d) != 0 || !xh || !S || !Csum || !C || (have_old && (!mu0 || !Sig0));
    if (rc) goto out;
    if (have_old) { /* copied first: mu/cov may be the same arrays */
        memcpy(mu0, mu_old, sizeof(double) * K * d);
        tb_cov_to_full(type, K, d, cov_old, Sig0);
    }
    double nsum = 0.0;
    if (type == TB_TIED)
        for (size_t e = 0; e < dd; e++) cov[e] = 0.0;
    for (int k = 0; k < K; k++) {
        rc = complete_rows(X, n, d, ld, sw, K, k, resp, have_old ? mu0 + (size_t)k * d : NULL,
                           have_old ? Sig0 + k * dd : NULL, &rw, C, xh, Csum);
        if (rc) goto out;
            /* a_ik = s_i r_ik: a weighted row counts as s_i copies of itself */
#define A(r) ((sw ? sw[r] : 1.0) * resp[(r) * (size_t)K + k])
        double nk = 0.0;
        for (size_t r = 0; r < n; r++) nk += A(r);
        nk += 10.0 * DBL_EPSILON; /* scikit-learn's guard against empty components */
        w[k] = nk;
        nsum += nk;
        /* μ_k = Σ_i a_ik x̂_i / N_k, then one corrective pass μ_k += Σ_i a_ik (x̂_i − μ_k) / N_k:
         * far from the origin (|x| ~ 1e6) the plain sum leaves errors ~1e-9·σ that show in the
         * log-densities; the correction brings them back to rounding of the spread. */
        double *m = mu + (size_t)k * d;
        for (int j = 0; j < d; j++) {
            double s = 0.0, c = 0.0;
            for (size_t r = 0; r < n; r++) s += A(r) * xh[r * d + j];
            m[j] = s / nk;
            for (size_t r = 0; r < n; r++) c += A(r) * (xh[r * d + j] - m[j]);
            m[j] += c / nk;
        }
        /* S_k = Σ_i a_ik (x̂_i − μ_k)(x̂_i − μ_k)ᵀ + Σ_i a_ik Cov[x_M | x_O], about the new mean */
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) {
                double s = 0.0;
                for (size_t r = 0; r < n; r++)
                    s += A(r) * (xh[r * d + i] - m[i]) * (xh[r * d + j] - m[j]);
                S[i * d + j] = S[j * d + i] = s + Csum[i * d + j];
            }
#undef A
        /* The type's Σ_k from S_k: full divides by N_k; tied pools over k and divides by Σ N_k
         * afterwards; diag keeps the diagonal; spherical averages the regularised diagonal. */
        if (type == TB_FULL) {
            double *Sk = cov + k * dd;
            for (size_t e = 0; e < dd; e++) Sk[e] = S[e] / nk;
            for (int i = 0; i < d; i++) Sk[i * d + i] += reg_covar;
        } else if (type == TB_TIED) {
            for (int i = 0; i < d; i++)
                for (int j = 0; j <= i; j++) cov[i * d + j] += S[i * d + j];
        } else {
            double vsum = 0.0;
            for (int j = 0; j < d; j++) {
                const double v = S[j * d + j] / nk + reg_covar;
                if (type == TB_DIAG) cov[(size_t)k * d + j] = v;
                vsum += v;
            }
            if (type == TB_SPHERICAL) cov[k] = vsum / d;
        }
    }
    if (type == TB_TIED)
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) cov[j * d + i] = cov[i * d + j] = cov[i * d + j] / nsum;
            cov[i * d + i] += reg_covar;
        }
    for (int k = 0; k < K; k++) w[k] /= nsum;
out:
    row_work_free(&rw);
    free(xh);
    free(S);
    free(Csum);
    free(C);
    free(mu0);
    free(Sig0);
    return rc;
}

/* ---------------------------------------------------------------- EM, imputation */

int tb_em(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
          double reg_covar, int iters, double *w, double *mu, double *cov, double *lower_bounds)
{
    double *resp = malloc(sizeof(double) * n * (size_t)K);
    if (!resp) return -1;
    int rc = 0;
    for (int it = 0; it < iters && rc == 0; it++) {
        const double lb = tb_estep(type, X, n, d, ld, sw, K, w, mu, cov, resp, NULL);
        if (isnan(lb)) {
            rc = 1;
            break;
        }
        if (lower_bounds) lower_bounds[it] = lb;
        rc = tb_mstep(type, X, n, d, ld, sw, K, resp, mu, cov, reg_covar, w, mu, cov);
    }
    free(resp);
    return rc;
}

int tb_impute(int type, const double *X, size_t n, int d, size_t ld, int K, const double *w,
              const double *mu, const double *cov, double *out)
{
    const size_t dd = (size_t)d * d;
    double *resp = malloc(sizeof(double) * (n ? n : 1) * K), *Sig = malloc(sizeof(double) * K * dd);
    double *xh = malloc(sizeof(double) * d), *C = malloc(sizeof(double) * dd);
    row_work rw;
    int rc = row_work_alloc(&rw, d) != 0 || !resp || !Sig || !xh || !C;
    if (!rc) rc = isnan(tb_estep(type, X, n, d, ld, NULL, K, w, mu, cov, resp, NULL));
    if (!rc) tb_cov_to_full(type, K, d, cov, Sig);
    for (size_t r = 0; r < n && !rc; r++) {
        const double *x = X + r * ld;
        double *o = out + r * d;
        row_split(x, d, &rw);
        for (int j = 0; j < d; j++) o[j] = isnan(x[j]) ? 0.0 : x[j];
        for (int k = 0; k < K && rw.nm > 0 && !rc; k++) {
            double lp;
            rc = row_marginal(x, d, mu + (size_t)k * d, Sig + k * dd, NULL, 0.0, &rw, &lp);
            if (rc) break;
            row_conditional(x, d, mu + (size_t)k * d, Sig + k * dd, &rw, xh, C);
            for (int c = 0; c < rw.nm; c++) o[rw.M[c]] += resp[r * (size_t)K + k] * xh[rw.M[c]];
        }
    }
    row_work_free(&rw);
    free(resp);
    free(Sig);
    free(xh);
    free(C);
    return rc;
}

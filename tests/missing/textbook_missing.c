/* textbook_missing.c — a plain, slow, independent EM for Gaussian mixtures on data with missing
 * values (NaN), used as the reference for the library's missing-data fit.  Every row is handled
 * on its own: its observed indices O are gathered, Σ_OO is factored (Cholesky, O(d³) per row
 * and component), and the textbook conditional formulas are applied:
 *   log p(x_O | k) = log N(x_O | μ_O, Σ_OO)
 *   E[x_M | x_O, k] = μ_M + Σ_MO Σ_OO⁻¹ (x_O − μ_O)
 *   Cov[x_M | x_O, k] = Σ_MM − Σ_MO Σ_OO⁻¹ Σ_OM
 * M-step from the completed rows plus the conditional covariances, with scikit-learn's
 * conventions (N_k += 10·DBL_EPSILON, reg_covar on the diagonal, weights N_k / Σ N_k) and its
 * four covariance types; covariances are held as full d×d matrices whatever the type. */
#include "textbook_missing.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int chol(double *A, int n) /* in place, lower, row-major n×n */
{
    for (int j = 0; j < n; j++) {
        double s = A[j * n + j];
        for (int k = 0; k < j; k++) s -= A[j * n + k] * A[j * n + k];
        if (!(s > 0.0)) return 1;
        A[j * n + j] = sqrt(s);
        for (int i = j + 1; i < n; i++) {
            double t = A[i * n + j];
            for (int k = 0; k < j; k++) t -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = t / A[j * n + j];
        }
        for (int i = 0; i < j; i++) A[i * n + j] = 0.0;
    }
    return 0;
}

static void fsolve(const double *L, int n, double *b) /* b ← L⁻¹ b */
{
    for (int i = 0; i < n; i++) {
        double s = b[i];
        for (int k = 0; k < i; k++) s -= L[i * n + k] * b[k];
        b[i] = s / L[i * n + i];
    }
}

/* For row x under (mu, S): the log-density of the observed part, and (if xhat/C not NULL) the
 * completed row xhat[d] and the conditional covariance C[d][d] (zero outside M×M). */
static int row_cond(const double *x, int d, const double *mu, const double *S, double *logp,
                    double *xhat, double *C)
{
    int O[256], M[256], no = 0, nm = 0;
    for (int j = 0; j < d; j++) {
        if (isnan(x[j]))
            M[nm++] = j;
        else
            O[no++] = j;
    }
    double *L = malloc(sizeof(double) * (size_t)(no * no + no + no * nm + 1));
    double *v = L + no * no, *B = v + no;
    for (int a = 0; a < no; a++)
        for (int b = 0; b < no; b++) L[a * no + b] = S[O[a] * d + O[b]];
    if (no > 0 && chol(L, no)) {
        free(L);
        return 1;
    }
    double q = 0.0, ld = 0.0;
    for (int a = 0; a < no; a++) v[a] = x[O[a]] - mu[O[a]];
    fsolve(L, no, v);
    for (int a = 0; a < no; a++) {
        q += v[a] * v[a];
        ld += log(L[a * no + a]);
    }
    *logp = -0.5 * no * 1.8378770664093454835606594728112 - ld - 0.5 * q;
    if (xhat) {
        /* B = L⁻¹ Σ_OM, column by column */
        for (int c = 0; c < nm; c++) {
            double *col = malloc(sizeof(double) * (size_t)(no + 1));
            for (int a = 0; a < no; a++) col[a] = S[O[a] * d + M[c]];
            fsolve(L, no, col);
            for (int a = 0; a < no; a++) B[a * nm + c] = col[a];
            free(col);
        }
        memset(C, 0, sizeof(double) * (size_t)d * d);
        for (int j = 0; j < d; j++) xhat[j] = x[j];
        for (int c = 0; c < nm; c++) {
            double s = mu[M[c]];
            for (int a = 0; a < no; a++) s += B[a * nm + c] * v[a];
            xhat[M[c]] = s;
            for (int e = 0; e < nm; e++) {
                double t = S[M[c] * d + M[e]];
                for (int a = 0; a < no; a++) t -= B[a * nm + c] * B[a * nm + e];
                C[M[c] * d + M[e]] = t;
            }
        }
    }
    free(L);
    return 0;
}

double tbm_estep(const double *X, size_t n, int d, int K, const double *w, const double *mu,
                 const double *cov, double *resp, double *logdens)
{
    double total = 0.0;
    double *lp = malloc(sizeof(double) * (size_t)K);
    for (size_t i = 0; i < n; i++) {
        double mx = -INFINITY;
        for (int k = 0; k < K; k++) {
            double l;
            if (row_cond(X + i * d, d, mu + (size_t)k * d, cov + (size_t)k * d * d, &l, NULL, NULL)) {
                free(lp);
                return NAN;
            }
            lp[k] = log(w[k]) + l;
            if (lp[k] > mx) mx = lp[k];
        }
        double s = 0.0;
        for (int k = 0; k < K; k++) s += exp(lp[k] - mx);
        const double lse = mx + log(s);
        if (logdens) logdens[i] = lse;
        total += lse;
        if (resp)
            for (int k = 0; k < K; k++) resp[i * K + k] = exp(lp[k] - lse);
    }
    free(lp);
    return total / (double)n;
}

void tbm_mstep(const double *X, size_t n, int d, int K, int cov_type, const double *resp,
               const double *mu_old, const double *cov_old, double reg, double *w, double *mu,
               double *cov)
{
    const size_t dd = (size_t)d * d;
    double *xh = malloc(sizeof(double) * n * d * (size_t)K); /* completed rows per component */
    double *Csum = calloc((size_t)K * dd, sizeof(double));   /* Σ_i r C_ik */
    double *C = malloc(sizeof(double) * dd);
    double *Nk = malloc(sizeof(double) * (size_t)K);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < K; k++) {
            double l;
            row_cond(X + i * d, d, mu_old + (size_t)k * d, cov_old + (size_t)k * dd, &l,
                     xh + ((size_t)k * n + i) * d, C);
            const double r = resp[i * K + k];
            for (size_t e = 0; e < dd; e++) Csum[k * dd + e] += r * C[e];
        }
    double tot = 0.0;
    for (int k = 0; k < K; k++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += resp[i * K + k];
        Nk[k] = s + 10.0 * DBL_EPSILON;
        tot += Nk[k];
    }
    double *S = calloc((size_t)K * dd, sizeof(double)); /* scatter about the new means */
    for (int k = 0; k < K; k++) {
        w[k] = Nk[k] / tot;
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++) s += resp[i * K + k] * xh[((size_t)k * n + i) * d + j];
            mu[k * d + j] = s / Nk[k];
        }
        for (size_t i = 0; i < n; i++) {
            const double r = resp[i * K + k];
            const double *x = xh + ((size_t)k * n + i) * d;
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++)
                    S[k * dd + a * d + b] += r * (x[a] - mu[k * d + a]) * (x[b] - mu[k * d + b]);
        }
        for (size_t e = 0; e < dd; e++) S[k * dd + e] += Csum[k * dd + e];
    }
    for (int k = 0; k < K; k++) {
        double *ck = cov + (size_t)k * dd;
        if (cov_type == TBM_TIED) {
            memset(ck, 0, sizeof(double) * dd);
            for (int q = 0; q < K; q++)
                for (size_t e = 0; e < dd; e++) ck[e] += S[q * dd + e];
            for (size_t e = 0; e < dd; e++) ck[e] /= tot;
        } else {
            for (size_t e = 0; e < dd; e++) ck[e] = S[k * dd + e] / Nk[k];
        }
        if (cov_type == TBM_DIAG || cov_type == TBM_SPHERICAL) {
            double avg = 0.0;
            for (int a = 0; a < d; a++) avg += ck[a * d + a] / d;
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++)
                    if (a != b) ck[a * d + b] = 0.0;
                    else if (cov_type == TBM_SPHERICAL) ck[a * d + b] = avg;
        }
        for (int a = 0; a < d; a++) ck[a * d + a] += reg;
    }
    free(xh);
    free(Csum);
    free(C);
    free(Nk);
    free(S);
}

int tbm_em(const double *X, size_t n, int d, int K, int cov_type, double reg, int iters,
           double *w, double *mu, double *cov, double *lbs)
{
    double *resp = malloc(sizeof(double) * n * (size_t)K);
    double *mu2 = malloc(sizeof(double) * (size_t)K * d);
    double *cov2 = malloc(sizeof(double) * (size_t)K * d * d);
    int rc = 0;
    for (int it = 0; it < iters; it++) {
        const double lb = tbm_estep(X, n, d, K, w, mu, cov, resp, NULL);
        if (isnan(lb)) {
            rc = 1;
            break;
        }
        if (lbs) lbs[it] = lb;
        tbm_mstep(X, n, d, K, cov_type, resp, mu, cov, reg, w, mu2, cov2);
        memcpy(mu, mu2, sizeof(double) * (size_t)K * d);
        memcpy(cov, cov2, sizeof(double) * (size_t)K * d * d);
    }
    free(resp);
    free(mu2);
    free(cov2);
    return rc;
}

void tbm_impute(const double *X, size_t n, int d, int K, const double *w, const double *mu,
                const double *cov, double *out)
{
    double *resp = malloc(sizeof(double) * n * (size_t)K);
    double *xh = malloc(sizeof(double) * (size_t)d);
    double *C = malloc(sizeof(double) * (size_t)d * d);
    tbm_estep(X, n, d, K, w, mu, cov, resp, NULL);
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) out[i * d + j] = isnan(X[i * d + j]) ? 0.0 : X[i * d + j];
        for (int k = 0; k < K; k++) {
            double l;
            row_cond(X + i * d, d, mu + (size_t)k * d, cov + (size_t)k * d * d, &l, xh, C);
            for (int j = 0; j < d; j++)
                if (isnan(X[i * d + j])) out[i * d + j] += resp[i * K + k] * xh[j];
        }
    }
    free(resp);
    free(xh);
    free(C);
}

/* family_textbook.c — the reference EM of family_textbook.h, written for obviousness, not
 * speed: every step is the formula from the book, one scalar at a time, in double, no BLAS.
 * It shares no code with the library (nor with tests/ref), so agreement means something. */
#include "family_textbook.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FTB_LOG_2PI 1.8378770664093454835606594728112

/* emgmm_covariance_type codes, repeated so that this file needs no library header. */
enum { FTB_FULL = 0, FTB_TIED = 1, FTB_DIAG = 2, FTB_SPHERICAL = 3 };

size_t ftb_cov_size(int type, int K, int d)
{
    switch (type) {
    case FTB_FULL: return (size_t)K * d * d;
    case FTB_TIED: return (size_t)d * d;
    case FTB_DIAG: return (size_t)K * d;
    default: return (size_t)K;
    }
}

double ftb_variance(int type, int K, int d, const double *cov, int k, int j)
{
    (void)K;
    switch (type) {
    case FTB_FULL: return cov[(size_t)k * d * d + (size_t)j * d + j];
    case FTB_TIED: return cov[(size_t)j * d + j];
    case FTB_DIAG: return cov[(size_t)k * d + j];
    default: return cov[k];
    }
}

void ftb_cov_from_full(int type, int K, int d, const double *full, double *out)
{
    const size_t dd = (size_t)d * d;
    switch (type) {
    case FTB_FULL:
        memcpy(out, full, sizeof(double) * K * dd);
        break;
    case FTB_TIED:
        for (size_t e = 0; e < dd; e++) {
            double s = 0.0;
            for (int k = 0; k < K; k++)
                s += full[k * dd + e];
            out[e] = s / K;
        }
        break;
    case FTB_DIAG:
        for (int k = 0; k < K; k++)
            for (int j = 0; j < d; j++)
                out[(size_t)k * d + j] = full[k * dd + (size_t)j * d + j];
        break;
    default:
        for (int k = 0; k < K; k++) {
            double s = 0.0;
            for (int j = 0; j < d; j++)
                s += full[k * dd + (size_t)j * d + j];
            out[k] = s / d;
        }
    }
}

/* Σ = L·Lᵀ (Cholesky–Banachiewicz), L lower triangular with zeros above; 0 or 1 + bad pivot. */
static int chol(const double *S, double *L, int d)
{
    for (int i = 0; i < d * d; i++)
        L[i] = 0.0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            double s = S[i * d + j];
            for (int k = 0; k < j; k++)
                s -= L[i * d + k] * L[j * d + k];
            if (i == j) {
                if (!(s > 0.0))
                    return i + 1;
                L[i * d + i] = sqrt(s);
            } else {
                L[i * d + j] = s / L[j * d + j];
            }
        }
    return 0;
}

/* U = (L⁻¹)ᵀ, so that U·Uᵀ = (L·Lᵀ)⁻¹: column c of L⁻¹ by forward substitution. */
static int prec_chol_one(const double *S, double *U, int d)
{
    double *L = malloc(sizeof(double) * (size_t)d * d);
    double *Li = calloc((size_t)d * d, sizeof(double));
    int rc = (L && Li) ? chol(S, L, d) : -1;
    if (rc == 0)
        for (int c = 0; c < d; c++)
            for (int i = c; i < d; i++) {
                double s = (i == c) ? 1.0 : 0.0;
                for (int k = c; k < i; k++)
                    s -= L[i * d + k] * Li[k * d + c];
                Li[i * d + c] = s / L[i * d + i];
            }
    if (rc == 0)
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                U[i * d + j] = Li[j * d + i];
    free(L);
    free(Li);
    return rc;
}

int ftb_precisions_cholesky(int type, int K, int d, const double *cov, double *out)
{
    const size_t dd = (size_t)d * d;
    switch (type) {
    case FTB_FULL:
        for (int k = 0; k < K; k++)
            if (prec_chol_one(cov + k * dd, out + k * dd, d) != 0)
                return 1;
        return 0;
    case FTB_TIED:
        return prec_chol_one(cov, out, d);
    default:
        for (size_t e = 0; e < ftb_cov_size(type, K, d); e++) {
            if (!(cov[e] > 0.0))
                return 1;
            out[e] = 1.0 / sqrt(cov[e]);
        }
        return 0;
    }
}

/* log N(x | μ_k, Σ_k) = −½ (d log 2π + log|Σ_k| + (x−μ_k)ᵀ Σ_k⁻¹ (x−μ_k)).  For full/tied,
 * L holds the Cholesky factor(s) and logdet their log-determinants. */
static double log_gauss(int type, const double *x, const double *m, int d, int K, int k,
                        const double *cov, const double *L, const double *logdet, double *z)
{
    double maha = 0.0, ld;
    if (type == FTB_FULL || type == FTB_TIED) {
        const double *Lk = L + (type == FTB_FULL ? (size_t)k * d * d : 0);
        /* solve L z = x − μ, then the Mahalanobis term is zᵀz */
        for (int i = 0; i < d; i++) {
            double s = x[i] - m[i];
            for (int j = 0; j < i; j++)
                s -= Lk[i * d + j] * z[j];
            z[i] = s / Lk[i * d + i];
            maha += z[i] * z[i];
        }
        ld = logdet[type == FTB_FULL ? k : 0];
    } else {
        ld = 0.0;
        for (int j = 0; j < d; j++) {
            const double v = ftb_variance(type, K, d, cov, k, j);
            const double t = x[j] - m[j];
            maha += t * t / v;
            ld += log(v);
        }
    }
    return -0.5 * (d * FTB_LOG_2PI + ld + maha);
}

double ftb_estep(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
                 const double *w, const double *mu, const double *cov, double *resp,
                 double *logdens)
{
    const int nf = type == FTB_FULL ? K : (type == FTB_TIED ? 1 : 0);
    double *L = malloc(sizeof(double) * ((size_t)nf * d * d + 1));
    double *logdet = malloc(sizeof(double) * (size_t)(nf + 1));
    double *z = malloc(sizeof(double) * (size_t)d);
    double *a = malloc(sizeof(double) * (size_t)K);
    double total = 0.0, wsum = 0.0;
    if (!L || !logdet || !z || !a) {
        total = NAN;
        goto out;
    }
    for (int f = 0; f < nf; f++) {
        double *Lf = L + (size_t)f * d * d;
        if (chol(cov + (size_t)f * d * d, Lf, d) != 0) {
            total = NAN;
            goto out;
        }
        double s = 0.0;
        for (int i = 0; i < d; i++)
            s += log(Lf[i * d + i]);
        logdet[f] = 2.0 * s; /* log|Σ| = 2 Σ log L_ii */
    }
    for (size_t e = 0; nf == 0 && e < ftb_cov_size(type, K, d); e++)
        if (!(cov[e] > 0.0)) {
            total = NAN;
            goto out;
        }
    for (size_t r = 0; r < n; r++) {
        const double *x = X + r * ld;
        double amax = -INFINITY;
        for (int k = 0; k < K; k++) {
            a[k] = log(w[k]) + log_gauss(type, x, mu + (size_t)k * d, d, K, k, cov, L, logdet, z);
            if (a[k] > amax)
                amax = a[k];
        }
        double s = 0.0; /* log-sum-exp with the row maximum */
        for (int k = 0; k < K; k++)
            s += exp(a[k] - amax);
        const double lse = amax + log(s);
        if (logdens)
            logdens[r] = lse;
        if (resp)
            for (int k = 0; k < K; k++)
                resp[r * (size_t)K + k] = exp(a[k] - lse);
        const double wi = sw ? sw[r] : 1.0;
        total += wi * lse;
        wsum += wi;
    }
    total /= wsum;
out:
    free(L);
    free(logdet);
    free(z);
    free(a);
    return total;
}

void ftb_mstep(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
               const double *resp, double reg_covar, double *w, double *mu, double *cov)
{
    const size_t dd = (size_t)d * d;
    double nsum = 0.0;
    if (type == FTB_TIED)
        for (size_t e = 0; e < dd; e++)
            cov[e] = 0.0;
    for (int k = 0; k < K; k++) {
        /* a_ik = s_i r_ik: a weighted row counts as s_i copies of itself */
#define A(r) ((sw ? sw[r] : 1.0) * resp[(r) * (size_t)K + k])
        double nk = 0.0;
        for (size_t r = 0; r < n; r++)
            nk += A(r);
        nk += 10.0 * DBL_EPSILON; /* scikit-learn's guard against empty components */
        w[k] = nk;
        nsum += nk;
        /* μ_k = Σ_i a_ik x_i / N_k, then one corrective pass μ_k += Σ_i a_ik (x_i − μ_k) / N_k:
         * far from the origin (|x| ~ 1e6) the plain sum leaves errors ~1e-9·σ that show in the
         * log-densities; the correction brings them back to rounding of the spread. */
        double *m = mu + (size_t)k * d;
        for (int j = 0; j < d; j++) {
            double s = 0.0, c = 0.0;
            for (size_t r = 0; r < n; r++)
                s += A(r) * X[r * ld + j];
            m[j] = s / nk;
            for (size_t r = 0; r < n; r++)
                c += A(r) * (X[r * ld + j] - m[j]);
            m[j] += c / nk;
        }
        /* scatter about the new mean: full divides by N_k; tied pools over k and divides by
         * Σ N_k afterwards; diag keeps the diagonal; spherical averages the regularised one */
        if (type == FTB_FULL || type == FTB_TIED) {
            double *S = type == FTB_FULL ? cov + k * dd : cov;
            for (int i = 0; i < d; i++)
                for (int j = 0; j <= i; j++) {
                    double s = 0.0;
                    for (size_t r = 0; r < n; r++)
                        s += A(r) * (X[r * ld + i] - m[i]) * (X[r * ld + j] - m[j]);
                    if (type == FTB_FULL)
                        S[i * d + j] = S[j * d + i] = s / nk;
                    else
                        S[i * d + j] += s;
                }
            if (type == FTB_FULL)
                for (int i = 0; i < d; i++)
                    S[i * d + i] += reg_covar;
        } else {
            double vsum = 0.0;
            for (int j = 0; j < d; j++) {
                double s = 0.0;
                for (size_t r = 0; r < n; r++)
                    s += A(r) * (X[r * ld + j] - m[j]) * (X[r * ld + j] - m[j]);
                const double v = s / nk + reg_covar;
                if (type == FTB_DIAG)
                    cov[(size_t)k * d + j] = v;
                vsum += v;
            }
            if (type == FTB_SPHERICAL)
                cov[k] = vsum / d;
        }
#undef A
    }
    if (type == FTB_TIED)
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++)
                cov[j * d + i] = cov[i * d + j] = cov[i * d + j] / nsum;
            cov[i * d + i] += reg_covar;
        }
    for (int k = 0; k < K; k++)
        w[k] /= nsum;
}

int ftb_em(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
           double reg_covar, int iters, double *w, double *mu, double *cov, double *lower_bounds)
{
    double *resp = malloc(sizeof(double) * n * (size_t)K);
    if (!resp)
        return -1;
    int rc = 0;
    for (int it = 0; it < iters; it++) {
        const double lb = ftb_estep(type, X, n, d, ld, sw, K, w, mu, cov, resp, NULL);
        if (isnan(lb)) {
            rc = 1;
            break;
        }
        if (lower_bounds)
            lower_bounds[it] = lb;
        ftb_mstep(type, X, n, d, ld, sw, K, resp, reg_covar, w, mu, cov);
    }
    free(resp);
    return rc;
}

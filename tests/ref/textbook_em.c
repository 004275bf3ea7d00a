/* textbook_em.c — the reference EM of textbook_em.h, written for obviousness, not speed:
 * every step is the formula from the book, one scalar at a time, in double, with no BLAS.
 * It shares no code with the library, so agreement between the two means something. */
#include "textbook_em.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define TB_LOG_2PI 1.8378770664093454835606594728112

int tb_cholesky(const double *S, double *L, int d)
{
    for (int i = 0; i < d * d; i++)
        L[i] = 0.0;
    for (int i = 0; i < d; i++) {
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
    }
    return 0;
}

int tb_precision_cholesky(const double *S, double *U, int d)
{
    double *L = malloc(sizeof(double) * (size_t)d * d);
    double *Linv = calloc((size_t)d * d, sizeof(double));
    int rc = (L && Linv) ? tb_cholesky(S, L, d) : -1;
    if (rc == 0) {
        /* Column c of L⁻¹ solves L·y = e_c by forward substitution. */
        for (int c = 0; c < d; c++)
            for (int i = c; i < d; i++) {
                double s = (i == c) ? 1.0 : 0.0;
                for (int k = c; k < i; k++)
                    s -= L[i * d + k] * Linv[k * d + c];
                Linv[i * d + c] = s / L[i * d + i];
            }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                U[i * d + j] = Linv[j * d + i];
    }
    free(L);
    free(Linv);
    return rc;
}

double tb_estep(const double *X, size_t n, int d, size_t ld, int K, const double *w,
                const double *mu, const double *cov, double *resp, double *logdens)
{
    double *L = malloc(sizeof(double) * (size_t)K * d * d);
    double *logdet = malloc(sizeof(double) * (size_t)K);
    double *z = malloc(sizeof(double) * (size_t)d);
    double *a = malloc(sizeof(double) * (size_t)K);
    double total = 0.0;
    if (!L || !logdet || !z || !a) {
        total = NAN;
        goto out;
    }
    for (int k = 0; k < K; k++) {
        if (tb_cholesky(cov + (size_t)k * d * d, L + (size_t)k * d * d, d) != 0) {
            total = NAN;
            goto out;
        }
        /* log|Σ_k| = 2 Σ log L_ii */
        double s = 0.0;
        for (int i = 0; i < d; i++)
            s += log(L[(size_t)k * d * d + (size_t)i * d + i]);
        logdet[k] = 2.0 * s;
    }
    for (size_t r = 0; r < n; r++) {
        const double *x = X + r * ld;
        double amax = -INFINITY;
        for (int k = 0; k < K; k++) {
            /* Mahalanobis term: solve L_k z = x − μ_k, then (x−μ)ᵀΣ⁻¹(x−μ) = zᵀz. */
            const double *Lk = L + (size_t)k * d * d;
            const double *m = mu + (size_t)k * d;
            double maha = 0.0;
            for (int i = 0; i < d; i++) {
                double s = x[i] - m[i];
                for (int j = 0; j < i; j++)
                    s -= Lk[i * d + j] * z[j];
                z[i] = s / Lk[i * d + i];
                maha += z[i] * z[i];
            }
            a[k] = log(w[k]) - 0.5 * (d * TB_LOG_2PI + logdet[k] + maha);
            if (a[k] > amax)
                amax = a[k];
        }
        /* log-sum-exp with the row maximum */
        double s = 0.0;
        for (int k = 0; k < K; k++)
            s += exp(a[k] - amax);
        const double lse = amax + log(s);
        if (logdens)
            logdens[r] = lse;
        if (resp)
            for (int k = 0; k < K; k++)
                resp[r * (size_t)K + k] = exp(a[k] - lse);
        total += lse;
    }
    total /= (double)n;
out:
    free(L);
    free(logdet);
    free(z);
    free(a);
    return total;
}

void tb_mstep(const double *X, size_t n, int d, size_t ld, int K, const double *resp,
              double reg_covar, double *w, double *mu, double *cov)
{
    double nsum = 0.0;
    for (int k = 0; k < K; k++) {
        /* N_k = Σ_i r_ik, guarded against zero exactly as scikit-learn does */
        double nk = 0.0;
        for (size_t r = 0; r < n; r++)
            nk += resp[r * (size_t)K + k];
        nk += 10.0 * DBL_EPSILON;
        w[k] = nk;
        nsum += nk;
        /* μ_k = Σ_i r_ik x_i / N_k */
        double *m = mu + (size_t)k * d;
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t r = 0; r < n; r++)
                s += resp[r * (size_t)K + k] * X[r * ld + j];
            m[j] = s / nk;
        }
        /* Σ_k = Σ_i r_ik (x_i − μ_k)(x_i − μ_k)ᵀ / N_k + reg_covar·I, centred on the new mean */
        double *S = cov + (size_t)k * d * d;
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) {
                double s = 0.0;
                for (size_t r = 0; r < n; r++)
                    s += resp[r * (size_t)K + k] * (X[r * ld + i] - m[i]) * (X[r * ld + j] - m[j]);
                S[i * d + j] = S[j * d + i] = s / nk;
            }
        for (int i = 0; i < d; i++)
            S[i * d + i] += reg_covar;
    }
    for (int k = 0; k < K; k++)
        w[k] /= nsum;
}

int tb_em(const double *X, size_t n, int d, size_t ld, int K, double reg_covar, int iters,
          double *w, double *mu, double *cov, double *lower_bounds)
{
    double *resp = malloc(sizeof(double) * n * (size_t)K);
    if (!resp)
        return -1;
    int rc = 0;
    for (int it = 0; it < iters; it++) {
        const double lb = tb_estep(X, n, d, ld, K, w, mu, cov, resp, NULL);
        if (isnan(lb)) {
            rc = 1;
            break;
        }
        if (lower_bounds)
            lower_bounds[it] = lb;
        tb_mstep(X, n, d, ld, K, resp, reg_covar, w, mu, cov);
    }
    free(resp);
    return rc;
}

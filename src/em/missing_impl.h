/* missing_impl.h — the block pass's handling of missing values (NaN read as
 * missing at random), included by pass_impl.h with its TYPE and FN().
 *
 * A block's rows are loaded as always; a row with missing coordinates M has
 * them set to 0 in the centred block, i.e. to the centre g, so the block's
 * GEMMs run unchanged over every row.  The incomplete rows then get
 * corrections that cost O(m·d + m³) per row and component (m = |M|), never a
 * per-row factorisation of the d×d observed block:
 *
 * E-step (full, tied).  With P = U·Uᵀ the component's precision, μ' = μ − g,
 * δ0 = x̃ − μ' (x̃ the row with zeros at M), w = (P·δ0)_M and P_MM = L·Lᵀ:
 *   δ_Oᵀ Σ_OO⁻¹ δ_O = δ0ᵀ P δ0 − wᵀ P_MM⁻¹ w = ‖z‖² − ‖L⁻¹w‖²   (Schur complement)
 *   log det Σ_OO    = log det Σ + log det P_MM
 * where ‖z‖² = δ0ᵀPδ0 is what the GEMM path already computed for the row.
 * The identity holds whatever the values at M, so zeros are as good as any.
 *
 * M-step.  The expected statistics given x_O: the missing coordinates take
 * their conditional mean x̂_M = μ'_M − P_MM⁻¹ P_MO δ_O = −P_MM⁻¹ w (in the
 * centred coordinates, because x̃_M = 0), and the conditional covariance
 * P_MM⁻¹ adds to the second moment.  Writing x̂ = x̃ + e (e supported on M),
 * the block's GEMM has already added r·a·aᵀ with a = x̃ − c (c the shift);
 * what remains is r·(a·eᵀ + e·aᵀ + e·eᵀ + P_MM⁻¹), O(m·d) per row and
 * component, added to the upper triangle, and r·e to the first moment.
 *
 * diag / spherical: P is diagonal, so x̂_M = μ'_M, the conditional variance is
 * σ²_M, and the log-density is recomputed directly over the observed
 * coordinates (O(d) per row and component). */

/* Finds the block's incomplete rows, lists their missing coordinates in
 * ascending order and zeroes them in xs. */
static void FN(scan_missing)(FN(pass_ws) *w, size_t nb, size_t d)
{
    size_t nm = 0, q = 0;
    for (size_t i = 0; i < nb; i++) {
        TYPE *x = w->xs + i * d;
        size_t c = 0;
        for (size_t j = 0; j < d; j++) c += x[j] != x[j];
        if (!c) continue;
        w->mrow[nm] = i;
        w->mptr[nm] = q;
        for (size_t j = 0; j < d; j++)
            if (x[j] != x[j]) {
                w->midx[q++] = j;
                x[j] = (TYPE)0;
            }
        nm++;
    }
    w->mptr[nm] = q;
    w->nmr = nm;
}

/* For row x (centred, zeros at M) and component k of the full or tied
 * family: L (m×m, lower) with L·Lᵀ = P_MM, and t = L⁻¹·w, w = (P·δ0)_M.
 * Returns 0, or nonzero when P_MM is not numerically positive definite. */
static int FN(miss_factor)(const FN(pass_shared) *sh, const TYPE *x, const size_t *M, size_t m,
                           size_t k, double *delta, double *L, double *t, double *logdet_l)
{
    const size_t d = sh->d;
    const double *P = sh->pfull + (sh->cov_type == EMGMM_COV_FULL ? k : 0) * d * d;
    const double *mu = sh->mk + k * d;
    for (size_t l = 0; l < d; l++) delta[l] = (double)x[l] - mu[l];
    for (size_t a = 0; a < m; a++) {
        const double *pr = P + M[a] * d;
        double s = 0.0;
        for (size_t l = 0; l < d; l++) s += pr[l] * delta[l];
        t[a] = s;
        for (size_t b = 0; b <= a; b++) L[a * m + b] = pr[M[b]];
    }
    if (emgmm_small_chol(L, m, m) != 0) return 1;
    double ld = 0.0;
    for (size_t a = 0; a < m; a++) {
        double s = t[a];
        for (size_t b = 0; b < a; b++) s -= L[a * m + b] * t[b];
        t[a] = s / L[a * m + a];
        ld += log(L[a * m + a]);
    }
    *logdet_l = ld;
    return 0;
}

static void FN(miss_fail)(FN(pass_ws) *w, size_t i, size_t k)
{
    if (w->err) return;
    w->err = EMGMM_ERR_NOT_PD;
    w->err_row = i;
    w->err_comp = k;
}

/* Replaces the incomplete rows' log π_k + log N(x | μ_k, Σ_k) in r by the
 * log-densities of their observed coordinates. */
static void FN(estep_missing)(const FN(pass_shared) *sh, FN(pass_ws) *w, size_t nb, size_t i0)
{
    const size_t K = sh->K, d = sh->d;
    const int diag = sh->cov_type == EMGMM_COV_DIAG || sh->cov_type == EMGMM_COV_SPHERICAL;
    double *delta = w->mscr, *t = delta + d, *L = t + d;
    for (size_t q = 0; q < w->nmr; q++) {
        const size_t i = w->mrow[q], m = w->mptr[q + 1] - w->mptr[q];
        const size_t *M = w->midx + w->mptr[q];
        const TYPE *x = w->xs + i * d;
        if (m == d) { /* nothing observed: the density of nothing is 1 */
            for (size_t k = 0; k < K; k++) w->r[k * nb + i] = sh->logw[k];
            continue;
        }
        const double half_m = 0.5 * (double)m * EMGMM_LOG_2PI;
        for (size_t k = 0; k < K; k++) {
            double *rk = w->r + k * nb + i;
            if (diag) {
                const double *pk = sh->pk + k * d, *mk = sh->mk + k * d, *lp = sh->lpk + k * d;
                double qo = 0.0, lm = 0.0;
                size_t a = 0;
                for (size_t j = 0; j < d; j++) {
                    if (a < m && M[a] == j) {
                        lm += lp[j];
                        a++;
                        continue;
                    }
                    const double df = (double)x[j] - mk[j];
                    qo += pk[j] * df * df;
                }
                *rk = sh->cst[k] + half_m - 0.5 * lm - 0.5 * qo;
                continue;
            }
            const double q0 = 2.0 * (sh->cst[k] - *rk);
            double ldl;
            if (FN(miss_factor)(sh, x, M, m, k, delta, L, t, &ldl)) {
                FN(miss_fail)(w, i0 + i, k);
                *rk = -INFINITY;
                continue;
            }
            double tt = 0.0;
            for (size_t a = 0; a < m; a++) tt += t[a] * t[a];
            double quad = q0 - tt;
            if (quad < 0.0) quad = 0.0; /* δ_Oᵀ Σ_OO⁻¹ δ_O >= 0; only rounding makes it less */
            *rk = sh->cst[k] + half_m - ldl - 0.5 * quad;
        }
    }
}

/* Drops (drop-empty-rows) the rows with nothing observed from the statistics;
 * returns their weight. */
static double FN(drop_empty)(const FN(pass_shared) *sh, FN(pass_ws) *w, size_t nb,
                             const double *weights)
{
    double dropped = 0.0;
    for (size_t q = 0; q < w->nmr; q++) {
        if (w->mptr[q + 1] - w->mptr[q] != sh->d) continue;
        const size_t i = w->mrow[q];
        for (size_t k = 0; k < sh->K; k++) w->r[k * nb + i] = 0.0;
        dropped += weights ? weights[i] : 1.0;
    }
    return dropped;
}

/* Adds the incomplete rows' expected-statistics corrections (see the top). */
static void FN(mstats_missing)(const FN(pass_shared) *sh, FN(pass_ws) *w, size_t nb, size_t i0)
{
    const size_t K = sh->K, d = sh->d;
    const int diag = sh->cov_type == EMGMM_COV_DIAG || sh->cov_type == EMGMM_COV_SPHERICAL;
    double *delta = w->mscr, *t = delta + d, *L = t + d, *C = L + d * d, *e = C + d * d;
    for (size_t q = 0; q < w->nmr; q++) {
        const size_t i = w->mrow[q], m = w->mptr[q + 1] - w->mptr[q];
        const size_t *M = w->midx + w->mptr[q];
        const TYPE *x = w->xs + i * d;
        for (size_t k = 0; k < K; k++) {
            const double r = w->r[k * nb + i];
            if (r == 0.0) continue;
            const double *sc = sh->sc + k * d;
            double *s1 = w->st.s1 + k * d;
            if (diag) {
                const double *pk = sh->pk + k * d, *mk = sh->mk + k * d;
                double *s2 = w->st.s2 + k * d;
                for (size_t a = 0; a < m; a++) {
                    const size_t j = M[a];
                    const double ej = mk[j], aj = -sc[j];
                    s1[j] += r * ej;
                    s2[j] += r * (2.0 * aj * ej + ej * ej + 1.0 / pk[j]);
                }
                continue;
            }
            double ldl;
            if (FN(miss_factor)(sh, x, M, m, k, delta, L, t, &ldl)) {
                FN(miss_fail)(w, i0 + i, k);
                continue;
            }
            /* e = −L⁻ᵀ t (the conditional mean at M); C = P_MM⁻¹ = L⁻ᵀ L⁻¹ */
            for (size_t a = m; a-- > 0;) {
                double s = t[a];
                for (size_t b = a + 1; b < m; b++) s -= L[b * m + a] * e[b];
                e[a] = s / L[a * m + a];
            }
            for (size_t a = 0; a < m; a++) e[a] = -e[a];
            /* L⁻¹ into the upper triangle of C (transposed), column by column */
            for (size_t c = 0; c < m; c++) {
                for (size_t a = 0; a < m; a++) {
                    if (a < c) {
                        C[c * m + a] = 0.0;
                        continue;
                    }
                    double s = a == c ? 1.0 : 0.0;
                    for (size_t b = c; b < a; b++) s -= L[a * m + b] * C[c * m + b];
                    C[c * m + a] = s / L[a * m + a]; /* (L⁻¹)[a][c] */
                }
            }
            double *s2 = w->st.s2 + k * d * d;
            for (size_t a = 0; a < m; a++) {
                const size_t j = M[a];
                const double ej = r * e[a];
                s1[j] += ej;
                for (size_t l = 0; l < j; l++) s2[l * d + j] += ((double)x[l] - sc[l]) * ej;
                for (size_t l = j; l < d; l++) s2[j * d + l] += ((double)x[l] - sc[l]) * ej;
                s2[j * d + j] += ((double)x[j] - sc[j]) * ej;
                for (size_t b = a; b < m; b++) {
                    /* (P_MM⁻¹)[a][b] = Σ_c (L⁻¹)[c][a] (L⁻¹)[c][b], c >= b */
                    double cab = 0.0;
                    for (size_t c = b; c < m; c++) cab += C[a * m + c] * C[b * m + c];
                    s2[j * d + M[b]] += r * (e[a] * e[b] + cab);
                }
            }
        }
    }
}

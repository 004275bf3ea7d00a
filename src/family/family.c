/* family.c — dispatch of the M-step finish from a model's structure to its
 * family's file: full.c, tied.c, diag.c (diag and spherical), mclust.c. */
#include "src/family/family.h"

int emgmm_family_finish(emgmm_model *m, const emgmm_params *p, const emgmm_stats *st,
                        const double *shift, double reg_covar, const double *floor,
                        emgmm_paramset *out, unsigned char *bad, int warm_start)
{
    if (m->structure >= EMGMM_COV_EII) {
        /* no flags: mclust's structures fail instead of reseeding */
        if (bad)
            for (int k = 0; k < m->K; k++) bad[k] = 0;
        return emgmm_mclust_finish(m, p, st, shift, reg_covar, floor, out, warm_start);
    }
    switch (m->cov_type) {
    case EMGMM_COV_FULL: return emgmm_full_finish(m, st, shift, reg_covar, floor, out, bad);
    case EMGMM_COV_TIED: return emgmm_tied_finish(m, st, shift, reg_covar, floor, out, bad);
    default: return emgmm_diag_finish(m, st, shift, reg_covar, floor, out, bad);
    }
}

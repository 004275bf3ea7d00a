/* centres.c — the public k-means of init 'kmeans' (issue 21): the centres a
 * fit would label by, for a caller to hand back through params.init_centres,
 * so that a sweep over covariance types runs k-means once per K.  The same
 * checks and the same data view (mean-imputed under a missing policy) as the
 * fit's initialisation, then the initialisation's own k-means
 * (src/init/init.c emgmm_init_kmeans_centres), so the centres are the fit's
 * bit for bit. */
#include <stdlib.h>

#include "src/core/core.h"
#include "src/em/driver.h"
#include "src/init/init.h"

int emgmm_kmeans_centres(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                         int init_index, double *centres)
{
    if (!m || !p || !X || !centres) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (init_index < 0) return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "init_index must be >= 0");
    int st = emgmm_params_validate(p);
    if (st) return emgmm_fail(m, st, "invalid fit parameters");
    st = emgmm_check_data(m, X, p->n_threads, p->missing);
    st = emgmm_check_weights(m, X, st);
    if (st) return st;
    emgmm_data Xi;
    void *ibuf = NULL;
    st = emgmm_missing_init_view(m, p->missing, X, &Xi, &ibuf);
    if (st == EMGMM_OK) st = emgmm_init_kmeans_centres(m, p, &Xi, (uint64_t)init_index, centres);
    free(ibuf);
    return st;
}

/* pass.c — what the two compilations of the block pass share: the dispatch on
 * the data's type, the pass over a model's own parameters and workspaces, its
 * failure record. */
#include <stdio.h>
#include <stdlib.h>

#include "src/dist/dist.h"
#include "src/em/pass.h"

emgmm_mixture emgmm_model_mixture(const emgmm_model *m)
{
    return (emgmm_mixture){m->K, m->d, m->cov_type, m->weights, m->means, m->prec_chol, m->log_det};
}

emgmm_mixture emgmm_paramset_mixture(const emgmm_paramset *ps, int K, int d, int cov_type)
{
    return (emgmm_mixture){K, d, cov_type, ps->weights, ps->means, ps->prec_chol, ps->log_det};
}

int emgmm_pass_run(const emgmm_pass *p, const emgmm_data *X)
{
    return X->dtype == EMGMM_F32 ? emgmm_pass_run_f32(p, X) : emgmm_pass_run_f64(p, X);
}

void emgmm_pass_failure_message(char *buf, size_t len, const emgmm_pass_failure *f, long long row0)
{
    if (!f->set) {
        if (len) buf[0] = '\0';
        return;
    }
    snprintf(buf, len,
             "the precision of component %zu restricted to the missing "
             "coordinates of row %lld is not positive definite (raise reg_covar)",
             f->comp, (long long)f->row + row0);
}

int emgmm_pass_record_failure(emgmm_model *m, int st, const emgmm_pass_failure *f, long long row0)
{
    if (!f->set) return st;
    m->err_row = (long long)f->row + row0;
    m->err_comp = (int)f->comp;
    char msg[sizeof m->errmsg];
    emgmm_pass_failure_message(msg, sizeof msg, f, row0);
    return emgmm_fail(m, st, "%s", msg);
}

int emgmm_pass_run_model(emgmm_model *m, emgmm_pass *p, const emgmm_data *X)
{
    const emgmm_mixture mix = emgmm_model_mixture(m);
    emgmm_pass_failure fail = {0};
    p->mix = &mix;
    p->cache = &m->pass_cache;
    p->row0 = emgmm_dist_row_offset(m);
    p->fail = &fail;
    int st = emgmm_pass_run(p, X);
    p->mix = NULL;
    p->fail = NULL;
    return emgmm_pass_record_failure(m, st, &fail, emgmm_dist_row_offset(m));
}

void emgmm_pass_cache_free(emgmm_pass_cache *c)
{
    for (int i = 0; i < 2; i++)
        if (c->ws[i] && c->ws_free[i]) c->ws_free[i](c->ws[i]);
    c->ws[0] = c->ws[1] = NULL;
}

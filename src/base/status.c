/* status.c — status names, and recording a failure's detail on the model. */
#include <stdarg.h>
#include <stdio.h>

#include "src/base/base.h"

const char *emgmm_strerror(int status)
{
    switch (status) {
    case EMGMM_OK: return "success";
    case EMGMM_ERR_NULL: return "a required pointer argument is NULL";
    case EMGMM_ERR_ALLOC: return "out of memory";
    case EMGMM_ERR_INVALID_PARAM: return "invalid parameter value";
    case EMGMM_ERR_NO_COMPONENTS: return "the number of components must be at least 1";
    case EMGMM_ERR_NO_FEATURES: return "the number of features must be at least 1";
    case EMGMM_ERR_TOO_FEW_SAMPLES: return "fewer samples than components";
    case EMGMM_ERR_NONFINITE: return "data contains NaN or Inf";
    case EMGMM_ERR_BAD_INIT: return "invalid initial parameters";
    case EMGMM_ERR_NOT_PD:
        return "a covariance is not positive definite (raise reg_covar, use fewer components, or "
               "scale the data)";
    case EMGMM_ERR_NOT_FITTED: return "the model has no parameters (fit it first)";
    case EMGMM_ERR_SHAPE: return "data shape does not match";
    case EMGMM_ERR_UNSUPPORTED: return "not supported";
    case EMGMM_ERR_INTERNAL: return "internal error";
    case EMGMM_ERR_TOO_LARGE: return "sizes too large";
    case EMGMM_ERR_BAD_WEIGHTS: return "invalid sample weights";
    case EMGMM_ERR_DEGENERATE:
        return "components keep collapsing (fewer distinct points than components?)";
    default: return "unknown emgmm status";
    }
}

int emgmm_fail(emgmm_model *m, int status, const char *fmt, ...)
{
    if (m) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->errmsg, sizeof m->errmsg, fmt, ap);
        va_end(ap);
    }
    return status;
}

void emgmm_clear_error(emgmm_model *m)
{
    m->errmsg[0] = '\0';
    m->err_row = m->err_col = -1;
    m->err_comp = -1;
}

const char *emgmm_model_last_error(const emgmm_model *m) { return m ? m->errmsg : ""; }

void emgmm_model_error_location(const emgmm_model *m, long long *row, long long *column,
                                int *component)
{
    if (row) *row = m ? m->err_row : -1;
    if (column) *column = m ? m->err_col : -1;
    if (component) *component = m ? m->err_comp : -1;
}

const char *emgmm_version_string(void) { return EMGMM_VERSION_STRING; }

int emgmm_version_number(void)
{
    return EMGMM_VERSION_MAJOR * 10000 + EMGMM_VERSION_MINOR * 100 + EMGMM_VERSION_PATCH;
}

/* core.h — the public entry points' own helpers (src/core/): the checks of
 * the caller's input every entry point that takes data makes.  The top layer:
 * calls down into the driver, the pass and the families; nothing below
 * includes this header. */
#ifndef EMGMM_CORE_H
#define EMGMM_CORE_H
#include "src/base/base.h"

/* Checks X against the model: pointers, shape, every value finite — or, under
 * a missing policy (emgmm_missing_policy), NaN allowed, Inf not, and rows with
 * nothing observed per the policy.  Records the first bad row/column (in row
 * order; global when distributed) on m. */
int emgmm_check_data(emgmm_model *m, const emgmm_data *X, int n_threads, int missing);
/* Pointers and shape only. */
int emgmm_check_shape(emgmm_model *m, const emgmm_data *X);
/* Fit-only checks of the sample weights and that at least K rows carry
 * weight; takes the data check's status (collective when distributed: the
 * ranks agree on it). */
int emgmm_check_weights(emgmm_model *m, const emgmm_data *X, int st);

#endif

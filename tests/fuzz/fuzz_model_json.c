/* fuzz_model_json.c — libFuzzer target for the model file parser (emgmm_io_model_parse):
 * a failure names the problem on one line and frees everything; a success holds arrays of
 * the declared shapes, finite, with weights summing to 1. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    emgmm_io_model_file mf;
    emgmm_io_error err;
    memset(&err, 0, sizeof err);
    int rc = emgmm_io_model_parse((const char *)data, size, "fuzz.json", &mf, &err);
    if (rc != 0) {
        FUZZ_CHECK(mf.weights == NULL && mf.means == NULL && mf.covariances == NULL);
        fuzz_check_error(&err);
        return 0;
    }
    FUZZ_CHECK(mf.covariance_type >= 0 && mf.covariance_type <= 3);
    FUZZ_CHECK(mf.n_components >= 1 && mf.n_features >= 1);
    size_t k = (size_t)mf.n_components, d = (size_t)mf.n_features;
    size_t want = mf.covariance_type == 0   ? k * d * d
                  : mf.covariance_type == 1 ? d * d
                  : mf.covariance_type == 2 ? k * d
                                            : k;
    FUZZ_CHECK(mf.cov_size == want);
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        FUZZ_CHECK(isfinite(mf.weights[i]) && mf.weights[i] >= 0);
        sum += mf.weights[i];
    }
    FUZZ_CHECK(fabs(sum - 1.0) <= 1e-9);
    for (size_t i = 0; i < k * d; i++) FUZZ_CHECK(isfinite(mf.means[i]));
    for (size_t i = 0; i < mf.cov_size; i++) FUZZ_CHECK(isfinite(mf.covariances[i]));
    emgmm_io_model_file_free(&mf);
    return 0;
}

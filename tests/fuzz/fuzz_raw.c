/* fuzz_raw.c — libFuzzer target for the raw binary reader (emgmm_io_read_raw): the first 9
 * bytes choose the format/dtype and --dims (any size_t, to reach the overflow checks); the
 * rest is the file, written to an in-memory file. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9) return 0;
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.format = data[0] & 1 ? EMGMM_IO_FMT_RAW_F32 : EMGMM_IO_FMT_RAW_F64;
    static const int dtypes[3] = {EMGMM_IO_DTYPE_NATURAL, EMGMM_F64, EMGMM_F32};
    o.dtype = dtypes[(data[0] >> 1) % 3];
    uint64_t dims;
    memcpy(&dims, data + 1, 8);
    /* Mostly small column counts (so reads succeed and convert), sometimes huge ones. */
    o.dims = data[0] & 0x80 ? (size_t)dims : (size_t)(dims % 67);
    const char *path = fuzz_file(data + 9, size - 9);
    emgmm_io_matrix m;
    emgmm_io_error err;
    memset(&err, 0, sizeof err);
    int rc = emgmm_io_read_raw(path, &o, &m, &err);
    fuzz_check_matrix(rc, &m, &err, o.dtype, 0);
    if (rc == 0)
        FUZZ_CHECK(m.d == o.dims &&
                   m.n * m.d * (o.format == EMGMM_IO_FMT_RAW_F32 ? 4 : 8) == size - 9);
    emgmm_io_matrix_free(&m);
    return 0;
}

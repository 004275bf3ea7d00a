/* fuzz_npy.c — libFuzzer target for the .npy reader (emgmm_io_read_npy), which takes a path:
 * the input is written to an in-memory file and read in the file's dtype and converted to
 * each of float64 and float32, and once through the format sniffing of emgmm_io_read_matrix. */
#include "fuzz_common.h"

static void read_npy(const char *path, int dtype)
{
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.format = EMGMM_IO_FMT_NPY;
    o.dtype = dtype;
    emgmm_io_matrix m;
    emgmm_io_error err;
    memset(&err, 0, sizeof err);
    int rc = emgmm_io_read_npy(path, &o, &m, &err);
    /* Binary data may hold NaN/Inf: the library, not the reader, rejects them. */
    fuzz_check_matrix(rc, &m, &err, dtype, 0);
    emgmm_io_matrix_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    read_npy(path, EMGMM_IO_DTYPE_NATURAL);
    read_npy(path, EMGMM_F64);
    read_npy(path, EMGMM_F32);
    /* No extension: the magic decides between .npy and CSV. */
    emgmm_io_matrix m;
    emgmm_io_error err;
    memset(&err, 0, sizeof err);
    int rc = emgmm_io_read_matrix(path, NULL, &m, &err);
    fuzz_check_matrix(rc, &m, &err, EMGMM_IO_DTYPE_NATURAL, 0);
    emgmm_io_matrix_free(&m);
    return 0;
}

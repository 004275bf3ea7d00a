/* test_npy.c — the .npy and raw binary readers: versions 1.0–3.0, <f8/<f4, C
 * and Fortran order, 1-D as n×1, zero-copy where promised, dtype conversion,
 * and every malformed file rejected before anything is allocated for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emgmm_io.h"

static char dir[64];
static char path[128];

/* Writes a .npy with DICT as its header (padded to 64 bytes) and NBYTES of DATA. */
static const char *write_npy(int major, const char *dict, const void *data, size_t nbytes)
{
    snprintf(path, sizeof path, "%s/a.npy", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    size_t pre = major == 1 ? 10 : 12, len = strlen(dict);
    size_t pad = (64 - (pre + len + 1) % 64) % 64, hlen = len + pad + 1;
    unsigned char m[12] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           (unsigned char)major,
                           0,
                           (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8),
                           0,
                           0};
    fwrite(m, 1, pre, f);
    fwrite(dict, 1, len, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    fwrite(data, 1, nbytes, f);
    fclose(f);
    return path;
}

static const double X[6] = {1.5, -2.385, 3.0625, 4e-3, -5.75, 6.125}; /* 3×2 row-major */

static int read_path(const char *p, int format, int dtype, size_t dims, emgmm_io_matrix *m,
                     emgmm_io_error *err)
{
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.format = format;
    o.dtype = dtype;
    o.dims = dims;
    memset(err, 0, sizeof *err);
    return emgmm_io_read_matrix(p, &o, m, err);
}

static void expect_x(const emgmm_io_matrix *m, size_t n, size_t d)
{
    assert_int_equal(m->n, n);
    assert_int_equal(m->d, d);
    for (size_t i = 0; i < n * d; i++) {
        double v = m->dtype == EMGMM_F32 ? ((const float *)m->x)[i] : ((const double *)m->x)[i];
        double w = m->dtype == EMGMM_F32 ? (double)(float)X[i] : X[i];
        assert_true(v == w);
    }
}

static void test_c_order_f8_is_zero_copy_all_versions(void **state)
{
    (void)state;
    for (int major = 1; major <= 3; major++) {
        write_npy(major, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", X,
                  sizeof X);
        emgmm_io_matrix m;
        emgmm_io_error err;
        assert_int_equal(read_path(path, EMGMM_IO_FMT_AUTO, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err),
                         0);
        expect_x(&m, 3, 2);
        assert_non_null(m.map);
        assert_null(m.owned);
        emgmm_io_matrix_free(&m);
    }
}

static void test_fortran_order_is_transposed(void **state)
{
    (void)state;
    const double colmajor[6] = {X[0], X[2], X[4], X[1], X[3], X[5]};
    write_npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }", colmajor,
              sizeof colmajor);
    emgmm_io_matrix m;
    emgmm_io_error err;
    assert_int_equal(read_path(path, EMGMM_IO_FMT_AUTO, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err), 0);
    expect_x(&m, 3, 2);
    assert_non_null(m.owned);
    emgmm_io_matrix_free(&m);
}

static void test_f4_natural_and_converted(void **state)
{
    (void)state;
    float xf[6];
    for (int i = 0; i < 6; i++) xf[i] = (float)X[i];
    write_npy(2, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3, 2)}", xf,
              sizeof xf);
    emgmm_io_matrix m;
    emgmm_io_error err;
    assert_int_equal(read_path(path, EMGMM_IO_FMT_NPY, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err), 0);
    assert_int_equal(m.dtype, EMGMM_F32);
    expect_x(&m, 3, 2);
    emgmm_io_matrix_free(&m);
    assert_int_equal(read_path(path, EMGMM_IO_FMT_NPY, EMGMM_F64, 0, &m, &err), 0);
    assert_int_equal(m.dtype, EMGMM_F64);
    for (int i = 0; i < 6; i++) assert_true(((const double *)m.x)[i] == (double)xf[i]);
    emgmm_io_matrix_free(&m);
}

static void test_one_d_is_a_column(void **state)
{
    (void)state;
    write_npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (6,), }", X, sizeof X);
    emgmm_io_matrix m;
    emgmm_io_error err;
    assert_int_equal(read_path(path, EMGMM_IO_FMT_AUTO, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err), 0);
    expect_x(&m, 6, 1);
    emgmm_io_matrix_free(&m);
}

static void expect_npy_error(const char *dict, size_t nbytes, const char *substring)
{
    write_npy(1, dict, X, nbytes);
    emgmm_io_matrix m;
    emgmm_io_error err;
    assert_int_not_equal(read_path(path, EMGMM_IO_FMT_AUTO, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err),
                         0);
    if (!strstr(err.msg, substring)) fail_msg("message '%s' lacks '%s'", err.msg, substring);
    assert_null(m.x);
}

static void test_malformed_headers_rejected(void **state)
{
    (void)state;
    expect_npy_error("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 40,
                     "needs 48 data bytes, the file has 40");
    expect_npy_error("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 0,
                     "needs 48 data bytes");
    expect_npy_error(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", 48,
        "needs");
    expect_npy_error("{'descr': '>f8', 'fortran_order': False, 'shape': (3, 2), }", 48,
                     "unsupported dtype '>f8'");
    expect_npy_error("{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }", 48,
                     "unsupported dtype '<i4'");
    expect_npy_error("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2, 1), }", 48,
                     "more than 2 dimensions");
    expect_npy_error("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8, "0-d");
    expect_npy_error("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2), }", 0, "empty");
    expect_npy_error("{'descr': '<f8', 'shape': (3, 2), }", 48, "lacks");
    expect_npy_error("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (3, 2), }", 48,
                     "fortran_order");
    expect_npy_error("not a dict", 48, "not a dict");
}

static void test_bad_magic_version_and_truncation(void **state)
{
    (void)state;
    emgmm_io_matrix m;
    emgmm_io_error err;
    snprintf(path, sizeof path, "%s/b.npy", dir);
    FILE *f = fopen(path, "wb");
    fwrite("\x93NUMPY\x04\x00\x10\x00", 1, 10, f);
    fclose(f);
    assert_int_not_equal(read_path(path, EMGMM_IO_FMT_AUTO, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err),
                         0);
    assert_non_null(strstr(err.msg, "version 4.0"));
    f = fopen(path, "wb");
    fwrite("\x93NUMPY\x01\x00\xff\x7f{'descr'", 1, 17, f);
    fclose(f);
    assert_int_not_equal(read_path(path, EMGMM_IO_FMT_AUTO, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err),
                         0);
    assert_non_null(strstr(err.msg, "exceeds the file"));
    f = fopen(path, "wb");
    fwrite("PK\x03\x04 not numpy", 1, 15, f);
    fclose(f);
    assert_int_not_equal(read_path(path, EMGMM_IO_FMT_NPY, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err), 0);
    assert_non_null(strstr(err.msg, "bad magic"));
    assert_int_not_equal(
        read_path("/nonexistent/q.npy", EMGMM_IO_FMT_AUTO, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err), 0);
    assert_non_null(strstr(err.msg, "cannot open /nonexistent/q.npy"));
}

static void test_raw_binary(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "%s/x.f64", dir);
    FILE *f = fopen(path, "wb");
    fwrite(X, 1, sizeof X, f);
    fclose(f);
    emgmm_io_matrix m;
    emgmm_io_error err;
    assert_int_equal(read_path(path, EMGMM_IO_FMT_RAW_F64, EMGMM_IO_DTYPE_NATURAL, 2, &m, &err), 0);
    expect_x(&m, 3, 2);
    assert_non_null(m.map);
    emgmm_io_matrix_free(&m);
    assert_int_equal(read_path(path, EMGMM_IO_FMT_RAW_F64, EMGMM_F32, 3, &m, &err), 0);
    assert_int_equal(m.dtype, EMGMM_F32);
    expect_x(&m, 2, 3);
    emgmm_io_matrix_free(&m);
    assert_int_not_equal(read_path(path, EMGMM_IO_FMT_RAW_F64, EMGMM_IO_DTYPE_NATURAL, 4, &m, &err),
                         0);
    assert_non_null(strstr(err.msg, "not a whole number of rows"));
    assert_int_not_equal(read_path(path, EMGMM_IO_FMT_RAW_F32, EMGMM_IO_DTYPE_NATURAL, 0, &m, &err),
                         0);
    assert_int_equal(err.code, EMGMM_IO_EUSAGE);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/emgmm_npy_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c_order_f8_is_zero_copy_all_versions),
        cmocka_unit_test(test_fortran_order_is_transposed),
        cmocka_unit_test(test_f4_natural_and_converted),
        cmocka_unit_test(test_one_d_is_a_column),
        cmocka_unit_test(test_malformed_headers_rejected),
        cmocka_unit_test(test_bad_magic_version_and_truncation),
        cmocka_unit_test(test_raw_binary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

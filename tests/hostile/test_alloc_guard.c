/* test_alloc_guard.c — hostile inputs to the readers (lying .npy headers, huge header lengths,
 * unknown dtypes, absurd --dims, model files claiming huge shapes, truncations, NaN/Inf,
 * overflowed numbers, non-UTF-8 bytes): each is rejected with its message, and nothing larger
 * than a small buffer is ever requested first.  malloc/calloc/realloc are wrapped at link time
 * (-Wl,--wrap) to record the requests. */
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

/* ---------------------------------------------------------------- allocation log */
void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);

static size_t largest; /* the largest single request since the last reset */

static void note(size_t n)
{
    if (n > largest) largest = n;
}
void *__wrap_malloc(size_t n)
{
    note(n);
    return __real_malloc(n);
}
void *__wrap_calloc(size_t m, size_t n)
{
    note(m > 0 && n > SIZE_MAX / m ? SIZE_MAX : m * n);
    return __real_calloc(m, n);
}
void *__wrap_realloc(void *p, size_t n)
{
    note(n);
    return __real_realloc(p, n);
}

/* A request this small is a header or a parse buffer, never sized by the file's claims. */
#define SMALL ((size_t)1 << 16)

/* ---------------------------------------------------------------- files */
static char dir[64], path[128];

static void write_file(const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* A .npy image in BUF: magic, version MAJOR, header DICT padded to 64 bytes (or a lying
 * header length HLEN when nonzero), then PAYLOAD bytes of PAYLOAD_LEN. */
static size_t make_npy(unsigned char *buf, int major, const char *dict, uint32_t hlen,
                       const void *payload, size_t payload_len)
{
    size_t pre = major == 1 ? 10 : 12, len = strlen(dict);
    size_t pad = (64 - (pre + len + 1) % 64) % 64, real = len + pad + 1;
    uint32_t h = hlen ? hlen : (uint32_t)real;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(h >> (8 * i));
    memcpy(buf + pre, dict, len);
    memset(buf + pre + len, ' ', pad);
    buf[pre + real - 1] = '\n';
    memcpy(buf + pre + real, payload, payload_len);
    return pre + real + payload_len;
}

static const double X[6] = {1.5, -2.385, 3.0625, 4e-3, -5.75, 6.125};

static void expect_matrix_error(int format, size_t dims, int dtype, const char *substring)
{
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.format = format;
    o.dims = dims;
    o.dtype = dtype;
    emgmm_io_matrix m;
    emgmm_io_error err = {0};
    largest = 0;
    int rc = emgmm_io_read_matrix(path, &o, &m, &err);
    if (rc == 0) fail_msg("read succeeded, expected '%s'", substring);
    if (!strstr(err.msg, substring)) fail_msg("message '%s' lacks '%s'", err.msg, substring);
    assert_null(strchr(err.msg, '\n'));
    assert_null(m.x);
    if (largest > SMALL)
        fail_msg("'%s': a request of %zu bytes before the input was rejected", err.msg, largest);
}

#define NPY(dict) "{'descr': '" dict

static void test_lying_npy_headers_rejected_before_allocation(void **state)
{
    (void)state;
    unsigned char buf[1024];
    static const struct {
        int major;
        const char *dict;
        uint32_t hlen;
        size_t payload;
        const char *msg;
    } cases[] = {
        /* shape larger than the file, in both orders, and shapes whose byte count overflows */
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (300000000, 2), }", 0, 48,
         "needs 4800000000 data bytes, the file has 48"},
        {1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 300000000), }", 0, 48,
         "needs 2400000000 data bytes"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 0, 48,
         "the file has 48"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775808,), }", 0, 48,
         "the file has 48"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615,), }", 0, 48,
         "'shape' overflows"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (184467440737095516150, 1), }", 0,
         48, "'shape' overflows"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 0, 48,
         "needs 32 data bytes, the file has 48"},
        /* unknown dtypes */
        {1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }", 0, 48,
         "unsupported dtype '<i8'"},
        {1, "{'descr': '|O', 'fortran_order': False, 'shape': (3, 2), }", 0, 48,
         "unsupported dtype '|O'"},
        {1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3, 2), }", 0, 48,
         "unsupported dtype '<f2'"},
        {1, "{'descr': '<c16', 'fortran_order': False, 'shape': (3, 1), }", 0, 48,
         "unsupported dtype '<c16'"},
        {1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3, 2), }", 0, 48,
         "'descr'"},
        {1, "{'descr': '<f8<f8<f8<f8<f8<f8<f8<f8', 'fortran_order': False, 'shape': (3, 2), }", 0,
         48, "'descr'"},
        /* huge or lying header lengths: v1 (16 bits), v2/v3 (32 bits) */
        {2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 0xFFFFFFFFu, 48,
         "header length 4294967295 exceeds the file"},
        {3, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 0x7FFFFFFFu, 48,
         "exceeds the file"},
        {2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 0x00100001u, 48,
         "exceeds the file"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 0xFFFFu, 48,
         "exceeds the file"},
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 20, 48,
         "malformed header key"},
    };
    snprintf(path, sizeof path, "%s/h.npy", dir);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len =
            make_npy(buf, cases[i].major, cases[i].dict, cases[i].hlen, X, cases[i].payload);
        write_file(buf, len);
        expect_matrix_error(EMGMM_IO_FMT_AUTO, 0, EMGMM_IO_DTYPE_NATURAL, cases[i].msg);
        expect_matrix_error(EMGMM_IO_FMT_NPY, 0, EMGMM_F32, cases[i].msg);
    }
}

/* Every proper prefix of a valid .npy (header or data cut short) is an error. */
static void test_every_truncated_npy_is_rejected(void **state)
{
    (void)state;
    unsigned char buf[256];
    size_t len = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }", 0,
                          X, sizeof X);
    snprintf(path, sizeof path, "%s/t.npy", dir);
    for (size_t cut = 0; cut < len; cut++) {
        write_file(buf, cut);
        /* the message depends on where the cut falls; each names the failure */
        const char *want = cut < 10               ? "bad magic"
                           : cut < len - sizeof X ? "exceeds the file"
                                                  : "needs 48 data bytes";
        expect_matrix_error(EMGMM_IO_FMT_NPY, 0, EMGMM_IO_DTYPE_NATURAL, want);
    }
    write_file(buf, len);
    emgmm_io_matrix m;
    emgmm_io_error err = {0};
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.dtype = EMGMM_F32;
    largest = 0;
    assert_int_equal(emgmm_io_read_matrix(path, &o, &m, &err), 0);
    assert_true(m.n == 3 && m.d == 2 && ((const float *)m.x)[1] == (float)X[3]);
    /* the control: the converted copy was requested through the wrapper */
    assert_true(largest >= sizeof(float) * 6);
    emgmm_io_matrix_free(&m);
}

static void test_absurd_raw_dims_rejected_before_allocation(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "%s/r.f64", dir);
    write_file(X, sizeof X);
    expect_matrix_error(EMGMM_IO_FMT_RAW_F64, (size_t)1 << 30, EMGMM_F32,
                        "48 bytes is not a whole number of rows of 1073741824 f64 values");
    /* d·8 overflows size_t */
    expect_matrix_error(EMGMM_IO_FMT_RAW_F64, ((size_t)1 << 61) + 1, EMGMM_F32,
                        "not a whole number of rows");
    expect_matrix_error(EMGMM_IO_FMT_RAW_F32, SIZE_MAX, EMGMM_F64, "not a whole number of rows");
    expect_matrix_error(EMGMM_IO_FMT_RAW_F64, 5, EMGMM_IO_DTYPE_NATURAL,
                        "not a whole number of rows of 5");
    write_file(X, 0);
    expect_matrix_error(EMGMM_IO_FMT_RAW_F32, 3, EMGMM_IO_DTYPE_NATURAL, "is empty");
}

/* Model files: the declared shape is checked against the arrays before anything is allocated
 * for it, and every truncation of a valid file is invalid JSON. */
#define HEAD(type, k, d)                                                                           \
    "{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"" type "\", "            \
    "\"n_components\": " k ", \"n_features\": " d ", "

static void expect_model_error(const char *text, const char *substring)
{
    emgmm_io_model_file mf;
    emgmm_io_error err = {0};
    largest = 0;
    assert_int_not_equal(emgmm_io_model_parse(text, strlen(text), "m.json", &mf, &err), 0);
    if (!strstr(err.msg, substring)) fail_msg("message '%s' lacks '%s'", err.msg, substring);
    assert_null(strchr(err.msg, '\n'));
    assert_null(mf.weights);
    if (largest > SMALL)
        fail_msg("'%s': a request of %zu bytes before the file was rejected", err.msg, largest);
}

static const char good_model[] =
    HEAD("full", "2", "2") "\"weights\": [0.375, 0.625], \"means\": [[1.5, -2.385], [0.0625, "
                           "7.75]], \"covariances\": [[[2.25, 0.3], [0.3, 1.125]], [[0.5, "
                           "-0.125], [-0.125, 3.5]]]}";

static void test_model_claims_checked_before_allocation(void **state)
{
    (void)state;
    expect_model_error(HEAD("full", "1048576", "1048576") "\"weights\": [1], \"means\": [[1]], "
                                                          "\"covariances\": [[[1]]]}",
                       "model too large");
    expect_model_error(HEAD("diag", "1048576", "4097") "\"weights\": [1], \"means\": [[1]], "
                                                       "\"covariances\": [[1]]}",
                       "model too large");
    expect_model_error(HEAD("spherical", "1048576", "1") "\"weights\": [1], \"means\": [[1]], "
                                                         "\"covariances\": [1]}",
                       "field 'weights' has 1 entries, expected 1048576");
    expect_model_error(HEAD("tied", "1", "65536") "\"weights\": [1], \"means\": [[1]], "
                                                  "\"covariances\": [[1]]}",
                       "field 'means[0]' has 1 entries, expected 65536");
    expect_model_error(HEAD("full", "1000000000", "2") "\"weights\": [1]}",
                       "field 'n_components' must be an integer");
    expect_model_error(HEAD("full", "1e999", "2") "\"weights\": [1]}", "real number overflow");
    expect_model_error(HEAD("full", "-2", "2") "\"weights\": [1]}", "field 'n_components'");
    expect_model_error(HEAD("full", "2", "18446744073709551617") "\"weights\": [1]}",
                       "field 'n_features'");
    expect_model_error(HEAD("diag", "1", "1") "\"weights\": [1], \"means\": [[NaN]], "
                                              "\"covariances\": [[1]]}",
                       "invalid JSON");
    expect_model_error(HEAD("diag", "1", "1") "\"weights\": [1], \"means\": [[1e999]], "
                                              "\"covariances\": [[1]]}",
                       "invalid JSON");
    expect_model_error(HEAD("diag", "1", "1") "\"weights\": [1], \"means\": [[1]], "
                                              "\"covariances\": [[1e-400]]}",
                       "non-positive variance");
    expect_model_error("{\"format\": \"emgmm-model\xff\"}", "invalid JSON");
    expect_model_error("{\"format\": \"emgmm-\\ud800model\"}", "invalid JSON");
    expect_model_error(HEAD("a\\nb\\u001b[31m", "1", "1") "\"weights\": [1]}", "not \"a?b?[31m\"");

    size_t len = strlen(good_model);
    emgmm_io_model_file mf;
    emgmm_io_error err = {0};
    for (size_t cut = 0; cut < len; cut++) {
        largest = 0;
        int rc = emgmm_io_model_parse(good_model, cut, "m.json", &mf, &err);
        if (rc == 0) fail_msg("a model cut to %zu of %zu bytes was accepted", cut, len);
        assert_null(strchr(err.msg, '\n'));
        assert_true(largest <= SMALL);
    }
    assert_int_equal(emgmm_io_model_parse(good_model, len, "m.json", &mf, &err), 0);
    emgmm_io_model_file_free(&mf);
}

/* CSV: a cut inside a row (fewer fields) is an error; a cut inside the last number cannot be
 * told from a shorter number, as in every CSV reader. */
static void test_truncated_csv_rows_rejected(void **state)
{
    (void)state;
    const char *text = "1.5,2.25,3\n4.125,-5,6.5\n";
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    emgmm_io_matrix m;
    emgmm_io_error err = {0};
    for (size_t cut = 12; cut < 21; cut++) {
        int rc = emgmm_io_read_csv_buffer(text, cut, "t.csv", &o, &m, &err);
        if (rc == 0) fail_msg("cut at %zu accepted", cut);
        if (!strstr(err.msg, "ragged row") && !strstr(err.msg, "empty field") &&
            !strstr(err.msg, "non-numeric value '-'"))
            fail_msg("cut at %zu: %s", cut, err.msg);
    }
    assert_int_equal(emgmm_io_read_csv_buffer(text, 22, "t.csv", &o, &m, &err), 0);
    assert_true(m.n == 2 && ((const double *)m.x)[5] == 6.0); /* "6." of "6.5": undetectable */
    emgmm_io_matrix_free(&m);
}

/* Numbers a reader must refuse or keep: overflow (1e999, and past FLT_MAX for float32 work),
 * NaN/Inf spellings, non-UTF-8 bytes (quoted printably); underflow to zero and subnormals are
 * kept, as strtod and numpy read them. */
/* TEXT is a string literal; its length is taken with sizeof so embedded NULs count. */
#define expect_csv(text, dtype, substring) expect_csv_n(text, sizeof(text) - 1, dtype, substring)

static void expect_csv_n(const char *text, size_t len, int dtype, const char *substring)
{
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.dtype = dtype;
    emgmm_io_matrix m;
    emgmm_io_error err = {0};
    int rc = emgmm_io_read_csv_buffer(text, len, "t.csv", &o, &m, &err);
    if (!substring) {
        if (rc != 0) fail_msg("'%s' rejected: %s", text, err.msg);
        emgmm_io_matrix_free(&m);
        return;
    }
    if (rc == 0) fail_msg("'%s' accepted, expected '%s'", text, substring);
    if (!strstr(err.msg, substring)) fail_msg("message '%s' lacks '%s'", err.msg, substring);
    assert_null(m.x);
}

static void test_nonfinite_overflowed_and_foreign_numbers(void **state)
{
    (void)state;
    const int F64 = EMGMM_IO_DTYPE_NATURAL, F32 = EMGMM_F32;
    expect_csv("1,2\n3,1e999\n", F64, "non-finite value '1e999' in field 2 (t.csv:2:3)");
    expect_csv("1,2\n3,-1e999\n", F32, "non-finite value '-1e999'");
    expect_csv("1,2\n3,1e99999999999999999999\n", F64, "non-finite value");
    expect_csv("1,2\n-Infinity,3\n", F64, "non-finite value '-Infinity' in field 1");
    expect_csv("1,2\nNaN,3\n", F64, "non-finite value 'NaN'");
    expect_csv("1,2\nnan(0x7ff),3\n", F64, "non-finite value 'nan(0x7ff)'");
    expect_csv("1,2\n\"inf\",3\n", F64, "non-finite value");
    expect_csv("1,2\n3,1e39\n", F32, "value '1e39' in field 2 overflows float32 (t.csv:2:3)");
    expect_csv("1,2\n3,-3.40282357e38\n", F32, "overflows float32");
    expect_csv("1,2\n3,1e39\n", F64, NULL);               /* fine as a double */
    expect_csv("1,2\n3,3.4028235e38\n", F32, NULL);       /* rounds to FLT_MAX */
    expect_csv("1,2\n3,1e-999\n4.9e-324,5\n", F64, NULL); /* underflow and subnormal kept */
    expect_csv("1,2\n3,\xff\xfe\n", F64,
               "non-numeric value '?"
               "?' in field 2 (t.csv:2:3)");
    expect_csv("1,2\n3,\xc3\xa9\n", F64,
               "non-numeric value '?"
               "?'");
    expect_csv("1,2\n3,4\x00\n", F64, "non-numeric value '4?'");
    expect_csv("1,2\n3\xe2\x80\xaf"
               "4,5\n",
               F64,
               "non-numeric value '3?"
               "?"
               "?4'"); /* U+202F */
    /* a header of non-UTF-8 names is a header like any other */
    expect_csv("\xff\xfe,b\n1,2\n", F64, NULL);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/emgmm_hostile_XXXXXX");
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
        cmocka_unit_test(test_lying_npy_headers_rejected_before_allocation),
        cmocka_unit_test(test_every_truncated_npy_is_rejected),
        cmocka_unit_test(test_absurd_raw_dims_rejected_before_allocation),
        cmocka_unit_test(test_model_claims_checked_before_allocation),
        cmocka_unit_test(test_truncated_csv_rows_rejected),
        cmocka_unit_test(test_nonfinite_overflowed_and_foreign_numbers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

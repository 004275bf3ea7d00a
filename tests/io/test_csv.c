/* test_csv.c — the CSV reader: numbers equal strtod's bit for bit, header and
 * delimiter detection, BOM/CRLF/comments, one row, float32, and every error
 * naming its line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emgmm_io.h"

static int read_csv(const char *text, int header, int dtype, emgmm_io_matrix *m,
                    emgmm_io_error *err)
{
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.header = header;
    o.dtype = dtype;
    memset(err, 0, sizeof *err);
    return emgmm_io_read_csv_buffer(text, strlen(text), "t.csv", &o, m, err);
}

static void expect_matrix(const char *text, size_t n, size_t d, const double *want)
{
    emgmm_io_matrix m;
    emgmm_io_error err;
    int rc = read_csv(text, -1, EMGMM_IO_DTYPE_NATURAL, &m, &err);
    if (rc != 0) fail_msg("unexpected error: %s", err.msg);
    assert_int_equal(m.n, n);
    assert_int_equal(m.d, d);
    assert_int_equal(m.dtype, EMGMM_F64);
    const double *x = m.x;
    for (size_t i = 0; i < n * d; i++) assert_memory_equal(&x[i], &want[i], sizeof(double));
    emgmm_io_matrix_free(&m);
}

static void expect_error(const char *text, int header, const char *substring)
{
    emgmm_io_matrix m;
    emgmm_io_error err;
    assert_int_not_equal(read_csv(text, header, EMGMM_IO_DTYPE_NATURAL, &m, &err), 0);
    assert_int_equal(err.code, EMGMM_IO_EINPUT);
    if (!strstr(err.msg, substring)) fail_msg("message '%s' lacks '%s'", err.msg, substring);
    assert_null(m.x);
}

static uint64_t rng_state = 0x5eed2385u;
static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void check_same_as_strtod(const char *s)
{
    double fast, ref = strtod(s, NULL);
    const char *e = emgmm_io_parse_double(s, s + strlen(s), ",", &fast);
    if (!e) fail_msg("'%s' rejected", s);
    if (memcmp(&fast, &ref, sizeof fast) != 0)
        fail_msg("'%s': got %.17g, strtod says %.17g", s, fast, ref);
}

/* Random decimal strings across digit counts and exponents on both sides of
 * the fast path's limits (19 digits, 2^53, 10^±22). */
static void test_parse_double_equals_strtod(void **state)
{
    (void)state;
    static const char *fixed[] = {"0",
                                  "-0",
                                  "+0.0",
                                  "0.1",
                                  "-2.385",
                                  "1e22",
                                  "1e23",
                                  "9007199254740992",
                                  "9007199254740993",
                                  "123456789012345678901234567890",
                                  ".5",
                                  "5.",
                                  "4.9e-324",
                                  "1e-400",
                                  "2.2250738585072014e-308",
                                  "1.7976931348623157e308",
                                  "0x1.8p3",
                                  "0.000000000000000000000000000001234",
                                  "1234567890123456789e-5",
                                  "7.0e+0",
                                  "3.14159265358979323846264338327950288",
                                  "1E5",
                                  "-6.02214076e23"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) check_same_as_strtod(fixed[i]);
    char buf[64];
    for (int t = 0; t < 200000; t++) {
        uint64_t r = next_u64();
        int ndig = 1 + (int)(r % 24), dot = (int)((r >> 8) % (uint64_t)(ndig + 1));
        int e = (int)((r >> 16) % 80) - 40, pos = 0;
        if (r >> 63) buf[pos++] = '-';
        for (int k = 0; k < ndig; k++) {
            if (k == dot && k) buf[pos++] = '.';
            buf[pos++] = (char)('0' + next_u64() % 10);
        }
        if ((r >> 24) & 1) pos += snprintf(buf + pos, sizeof buf - (size_t)pos, "e%d", e);
        buf[pos] = 0;
        check_same_as_strtod(buf);
    }
}

/* The wide path (16–19 digits): integers above 2^53 (many exact ties), the
 * same with the point moved or zeros appended, and %.17g / %.18e output. */
static void test_wide_mantissas_equal_strtod(void **state)
{
    (void)state;
    static const char *ties[] = {
        "9007199254740993",     "9007199254740993.0",  "9007199254740993.00",
        "18014398509481986.0",  "18014398509481990",   "900719925474099.30e1",
        "18446744073709551615", "9223372036854775809", "1844674407370955161.5"};
    for (size_t i = 0; i < sizeof ties / sizeof ties[0]; i++) check_same_as_strtod(ties[i]);
    char buf[64], digits[32];
    for (int t = 0; t < 300000; t++) {
        uint64_t m = next_u64() | (UINT64_C(1) << 53);
        int kind = (int)(next_u64() % 4);
        if (kind == 0) {
            snprintf(buf, sizeof buf, "%llu", (unsigned long long)m);
        } else if (kind == 1) {
            int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)m);
            int dot = 1 + (int)(next_u64() % (uint64_t)(len - 1));
            snprintf(buf, sizeof buf, "%.*s.%se%d", dot, digits, digits + dot,
                     (int)(next_u64() % 30) - 15);
        } else {
            double v;
            uint64_t bits = (next_u64() >> 12) | (UINT64_C(0x3c0) + next_u64() % 0x80) << 52;
            memcpy(&v, &bits, sizeof v);
            snprintf(buf, sizeof buf, kind == 2 ? "%.17g" : "%.18e", v);
        }
        check_same_as_strtod(buf);
    }
}

static void test_parse_double_rejects_junk(void **state)
{
    (void)state;
    static const char *bad[] = {"", "-", ".", "e5", "1e", "1.5x", "abc", "1..2", "--1", "1e+"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v;
        const char *s = bad[i];
        if (emgmm_io_parse_double(s, s + strlen(s), ",", &v)) fail_msg("'%s' accepted", s);
    }
}

static void test_header_detected_and_skipped(void **state)
{
    (void)state;
    const double w[] = {1.5, -2.25, 3.125, 4e-3};
    expect_matrix("x,y\n1.5,-2.25\n3.125,4e-3\n", 2, 2, w);
    expect_matrix("\"a,b\",\"c\"\"d\"\n1.5,-2.25\n3.125,4e-3\n", 2, 2, w);
    expect_matrix("1.5,-2.25\n3.125,4e-3\n", 2, 2, w);
    /* pandas' index column leaves the first header field empty */
    const double w3[] = {0, 1.5, -2.25, 1, 3.125, 4e-3};
    expect_matrix(",a,b\n0,1.5,-2.25\n1,3.125,4e-3\n", 2, 3, w3);
}

static void test_quoted_numbers(void **state)
{
    (void)state;
    const double w[] = {1.5, -2.25, 3.125, 4e-3};
    expect_matrix("\"1.5\",\"-2.25\"\n\"3.125\", 4e-3\n", 2, 2, w);
    expect_matrix("\"x\",\"y\"\n\"1.5\",\"-2.25\"\n\"3.125\",\"4e-3\"\n", 2, 2, w);
    expect_error("\"1.5\",\"2\"\n\"3\",\"4,5\"\n", -1,
                 "non-numeric value '\"4' in field 2 (t.csv:2:5)");
    expect_error("\"1.5\",\"2\"\n\"3\",\"\"\n", -1, "non-numeric value '\"\"' in field 2");
    expect_error("\"1.5\",\"2\"\n\"3\",\"4\n", -1, "non-numeric value '\"4' in field 2");
    expect_error("\"1.5\",\"2\"\n\"3\",\"nan\"\n", -1, "non-finite value '\"nan\"'");
}

static void test_header_forced_and_forbidden(void **state)
{
    (void)state;
    emgmm_io_matrix m;
    emgmm_io_error err;
    assert_int_equal(read_csv("7,8\n1.5,-2.25\n", 1, EMGMM_IO_DTYPE_NATURAL, &m, &err), 0);
    assert_int_equal(m.n, 1);
    assert_true(((const double *)m.x)[0] == 1.5);
    emgmm_io_matrix_free(&m);
    expect_error("x,y\n1.5,-2.25\n", 0, "non-numeric value 'x' in field 1 (t.csv:1:1)");
}

static void test_delimiters_detected(void **state)
{
    (void)state;
    const double w[] = {1.5, -2.25, 3.125, 4e-3};
    expect_matrix("1.5\t-2.25\n3.125\t4e-3\n", 2, 2, w);
    expect_matrix("1.5;-2.25\n3.125;4e-3\n", 2, 2, w);
    expect_matrix("  1.5   -2.25  \n3.125\t 4e-3\n", 2, 2, w);
    expect_matrix("1.5 , -2.25\n 3.125,4e-3 \n", 2, 2, w);
    expect_matrix("a\tb\n1.5\t-2.25\n3.125\t4e-3\n", 2, 2, w);
}

static void test_bom_crlf_comments_trailing_blank(void **state)
{
    (void)state;
    const double w[] = {1.5, -2.25, 3.125, 4e-3};
    expect_matrix("\xEF\xBB\xBFx,y\r\n1.5,-2.25\r\n3.125,4e-3\r\n", 2, 2, w);
    expect_matrix("\xEF\xBB\xBF"
                  "1.5,-2.25\r\n3.125,4e-3",
                  2, 2, w);
    expect_matrix("# comment\n1.5,-2.25\n  # another\n3.125,4e-3\n\n\r\n", 2, 2, w);
}

static void test_one_row_and_one_column(void **state)
{
    (void)state;
    const double w[] = {-7.75, 0.03125, 12};
    expect_matrix("-7.75,0.03125,12\n", 1, 3, w);
    expect_matrix("v\n-7.75\n0.03125\n12", 3, 1, w);
}

static void test_float32_is_rounded_double(void **state)
{
    (void)state;
    emgmm_io_matrix m;
    emgmm_io_error err;
    assert_int_equal(read_csv("0.1,2.385\n-1e-3,33.3\n", -1, EMGMM_F32, &m, &err), 0);
    assert_int_equal(m.dtype, EMGMM_F32);
    const float *x = m.x;
    assert_true(x[0] == (float)0.1 && x[1] == (float)2.385 && x[2] == (float)-1e-3 &&
                x[3] == (float)33.3);
    emgmm_io_matrix_free(&m);
}

static void test_errors_name_line_and_column(void **state)
{
    (void)state;
    expect_error("", -1, "t.csv is empty");
    expect_error("\xEF\xBB\xBF\n\n", -1, "empty");
    expect_error("a,b\n", -1, "header but no data rows");
    expect_error("1.5,2\n3,abc\n", -1, "non-numeric value 'abc' in field 2 (t.csv:2:3)");
    expect_error("1.5,2\n3\n", -1, "ragged row: 1 fields, expected 2 (t.csv:2:2)");
    expect_error("1.5,2\n3,4,5\n", -1, "ragged row: more than 2 fields (t.csv:2:5)");
    expect_error("1.5,2\n3,,5\n", -1, "empty field 2 (t.csv:2:3)");
    expect_error("1.5,2\n3,\n", -1, "empty field 2 (t.csv:2:3)");
    expect_error("1.5,2\n3,nan\n", -1, "non-finite value 'nan' in field 2 (t.csv:2:3)");
    expect_error("1.5,2\n3,1e999\n", -1, "non-finite value '1e999'");
    expect_error("1.5,2\n\n3,4\n", -1, "empty line inside the data (t.csv:2:1)");
    expect_error("1.5,2\n3 4,5\n", -1, "non-numeric value '3 4' in field 1 (t.csv:2:1)");
    expect_error("x,y\n1,2,3\n", -1, "ragged row: more than 2 fields (as the header) (t.csv:2:5)");
    expect_error("1,2\n3,\x01\n", -1, "non-numeric value '?' in field 2");
}

static void test_large_buffer_grows(void **state)
{
    (void)state;
    size_t rows = 50000;
    char *text = malloc(rows * 40);
    size_t pos = 0;
    for (size_t i = 0; i < rows; i++)
        pos += (size_t)sprintf(text + pos, "%zu.%03zu,-%zu.5e-2\n", i, i % 997, i % 131);
    emgmm_io_matrix m;
    emgmm_io_error err;
    assert_int_equal(read_csv(text, -1, EMGMM_IO_DTYPE_NATURAL, &m, &err), 0);
    assert_int_equal(m.n, rows);
    const double *x = m.x;
    char a[32], b[32];
    snprintf(a, sizeof a, "%d.%03d", 49999, 49999 % 997);
    snprintf(b, sizeof b, "-%d.5e-2", 49999 % 131);
    assert_true(x[2 * 49999] == strtod(a, NULL));
    assert_true(x[2 * 49999 + 1] == strtod(b, NULL));
    emgmm_io_matrix_free(&m);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_double_equals_strtod),
        cmocka_unit_test(test_wide_mantissas_equal_strtod),
        cmocka_unit_test(test_parse_double_rejects_junk),
        cmocka_unit_test(test_header_detected_and_skipped),
        cmocka_unit_test(test_quoted_numbers),
        cmocka_unit_test(test_header_forced_and_forbidden),
        cmocka_unit_test(test_delimiters_detected),
        cmocka_unit_test(test_bom_crlf_comments_trailing_blank),
        cmocka_unit_test(test_one_row_and_one_column),
        cmocka_unit_test(test_float32_is_rounded_double),
        cmocka_unit_test(test_errors_name_line_and_column),
        cmocka_unit_test(test_large_buffer_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

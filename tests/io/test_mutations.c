/* test_mutations.c — seeded random mutations of valid CSV, model JSON and .npy
 * inputs: every reader either succeeds with a consistent result or fails with
 * a message and nothing allocated; never a crash.  Seed via EMGMM_TEST_SEED. */
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

static uint64_t rng = 0x2385;

static uint32_t next(void)
{
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng >> 33);
}

/* Bytes that matter to the parsers: delimiters, digits, signs, brackets, quotes. */
static const char alphabet[] = ",;\t \n\r\"0123456789.eE+-[]{}:x'()TrueFalsn\x93\xff";

static size_t mutate(char *buf, size_t len, size_t cap)
{
    int edits = 1 + (int)(next() % 6);
    for (int k = 0; k < edits; k++) {
        size_t pos = len ? next() % len : 0;
        char c = alphabet[next() % (sizeof alphabet - 1)];
        switch (next() % 4) {
        case 0:
            if (len) buf[pos] = c;
            break;
        case 1:
            if (len + 1 < cap) {
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = c;
                len++;
            }
            break;
        case 2:
            if (len > 1) {
                memmove(buf + pos, buf + pos + 1, len - pos - 1);
                len--;
            }
            break;
        default: len = pos; break;
        }
    }
    return len;
}

static void check_matrix_result(int rc, const emgmm_io_matrix *m, const emgmm_io_error *err)
{
    if (rc == 0) {
        assert_non_null(m->x);
        assert_true(m->n > 0 && m->d > 0);
    } else {
        assert_null(m->x);
        assert_true(err->msg[0] != 0);
    }
}

static void test_mutated_csv(void **state)
{
    (void)state;
    static const char *seeds[] = {"a,b,c\n1.5,2,3\n4,5e3,-6\n",
                                  "\xEF\xBB\xBF x y\r\n1 2\r\n3 4\r\n",
                                  "# c\n0.1;2.385\n-7;1e-3\n\n"};
    char buf[256];
    for (int it = 0; it < 30000; it++) {
        const char *s = seeds[next() % 3];
        size_t len = strlen(s);
        memcpy(buf, s, len);
        len = mutate(buf, len, sizeof buf);
        emgmm_io_read_opts o = emgmm_io_read_opts_default();
        o.header = (int)(next() % 3) - 1;
        o.dtype = next() % 2 ? EMGMM_F32 : EMGMM_IO_DTYPE_NATURAL;
        emgmm_io_matrix m;
        emgmm_io_error err = {0};
        int rc = emgmm_io_read_csv_buffer(buf, len, "f.csv", &o, &m, &err);
        check_matrix_result(rc, &m, &err);
        emgmm_io_matrix_free(&m);
    }
}

static void test_mutated_model_json(void **state)
{
    (void)state;
    static const char *seeds[] = {
        "{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"full\", "
        "\"n_components\": 2, \"n_features\": 2, \"weights\": [0.375, 0.625], "
        "\"means\": [[1.5, -2.385], [0.0625, 7.75]], "
        "\"covariances\": [[[2.25, 0.3], [0.3, 1.125]], [[0.5, -0.125], [-0.125, 3.5]]]}",
        "{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"spherical\", "
        "\"n_components\": 2, \"n_features\": 2, \"weights\": [0.375, 0.625], "
        "\"means\": [[1.5, -2.385], [0.0625, 7.75]], \"covariances\": [2.25, 0.5], "
        "\"converged\": true, \"n_iter\": 7, \"lower_bound\": -3.5}"};
    char buf[512];
    for (int it = 0; it < 30000; it++) {
        const char *s = seeds[next() % 2];
        size_t len = strlen(s);
        memcpy(buf, s, len);
        len = mutate(buf, len, sizeof buf);
        emgmm_io_model_file mf;
        emgmm_io_error err = {0};
        int rc = emgmm_io_model_parse(buf, len, "m.json", &mf, &err);
        if (rc == 0) {
            assert_true(mf.n_components > 0 && mf.n_features > 0);
            double sum = 0;
            for (int k = 0; k < mf.n_components; k++) sum += mf.weights[k];
            assert_true(sum > 1 - 1e-9 && sum < 1 + 1e-9);
        } else {
            assert_null(mf.weights);
            assert_true(err.msg[0] != 0);
        }
        emgmm_io_model_file_free(&mf);
    }
}

static void test_mutated_npy(void **state)
{
    (void)state;
    char path[] = "/tmp/emgmm_mut_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char hdr[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    char seed[256];
    size_t hl = strlen(hdr), pad = 64 - (10 + hl + 1) % 64;
    memcpy(seed, "\x93NUMPY\x01\x00", 8);
    seed[8] = (char)(hl + pad + 1);
    seed[9] = 0;
    memcpy(seed + 10, hdr, hl);
    memset(seed + 10 + hl, ' ', pad);
    seed[10 + hl + pad] = '\n';
    const double x[6] = {1.5, -2.385, 3.0625, 4e-3, -5.75, 6.125};
    size_t seed_len = 10 + hl + pad + 1 + sizeof x;
    memcpy(seed + seed_len - sizeof x, x, sizeof x);
    char buf[300];
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, seed, seed_len);
        size_t len = mutate(buf, seed_len, sizeof buf);
        /* one file rewritten in place: creating thousands is slow on some /tmp */
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
        emgmm_io_read_opts o = emgmm_io_read_opts_default();
        o.dtype = (int)(next() % 3) - 1;
        emgmm_io_matrix m;
        emgmm_io_error err = {0};
        int rc = emgmm_io_read_npy(path, &o, &m, &err);
        check_matrix_result(rc, &m, &err);
        emgmm_io_matrix_free(&m);
    }
    close(fd);
    unlink(path);
}

int main(void)
{
    const char *s = getenv("EMGMM_TEST_SEED");
    if (s) rng = strtoull(s, NULL, 0);
    printf("# seed %llu (set EMGMM_TEST_SEED to replay)\n", (unsigned long long)rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutated_csv),
        cmocka_unit_test(test_mutated_model_json),
        cmocka_unit_test(test_mutated_npy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_out.c — output files: whole or not at all (abort and failed commits
 * leave an existing file untouched and no temporary behind), .npy and CSV
 * tables that read back exactly, and round-trip number formatting. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "emgmm_io.h"

static char dir[64];

static const char *in_dir(const char *name)
{
    static char p[2][160];
    static int which;
    which ^= 1;
    snprintf(p[which], sizeof p[which], "%s/%s", dir, name);
    return p[which];
}

static size_t count_entries(void)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    *len = 0;
    if (!f) return NULL;
    char *b = malloc(1 << 16);
    *len = fread(b, 1, 1 << 16, f);
    fclose(f);
    return b;
}

static void test_csv_table_exact_text(void **state)
{
    (void)state;
    emgmm_io_table t;
    emgmm_io_error err = {0};
    const double x[4] = {0.1, -2.385, 1e-300, 1.0 / 3.0};
    assert_int_equal(emgmm_io_table_open(&t, in_dir("p.csv"), 2, 2, 0, &err), 0);
    assert_int_equal(emgmm_io_table_write_f64(&t, x, 2, &err), 0);
    assert_int_equal(emgmm_io_table_commit(&t, &err), 0);
    size_t len;
    char *b = slurp(in_dir("p.csv"), &len);
    assert_non_null(b);
    const char want[] = "0.1,-2.385\n1e-300,0.3333333333333333\n";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(b, want, len);
    free(b);
    const int32_t lab[3] = {2, 0, 11};
    assert_int_equal(emgmm_io_table_open(&t, in_dir("l.tsv"), 3, 1, 1, &err), 0);
    assert_int_equal(emgmm_io_table_write_i32(&t, lab, 3, &err), 0);
    assert_int_equal(emgmm_io_table_commit(&t, &err), 0);
    b = slurp(in_dir("l.tsv"), &len);
    assert_int_equal(len, 7);
    assert_memory_equal(b, "2\n0\n11\n", 7);
    free(b);
}

static void test_npy_tables_read_back(void **state)
{
    (void)state;
    emgmm_io_table t;
    emgmm_io_error err = {0};
    const double x[6] = {0.1, -2.385, 1e-300, 1.0 / 3.0, -0.0, 7.25e11};
    assert_int_equal(emgmm_io_table_open(&t, in_dir("x.npy"), 3, 2, 0, &err), 0);
    assert_int_equal(emgmm_io_table_write_f64(&t, x, 1, &err), 0);
    assert_int_equal(emgmm_io_table_write_f64(&t, x + 2, 2, &err), 0);
    assert_int_equal(emgmm_io_table_commit(&t, &err), 0);
    emgmm_io_matrix m;
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    assert_int_equal(emgmm_io_read_matrix(in_dir("x.npy"), &o, &m, &err), 0);
    assert_int_equal(m.n, 3);
    assert_int_equal(m.d, 2);
    assert_memory_equal(m.x, x, sizeof x);
    emgmm_io_matrix_free(&m);

    const int32_t lab[5] = {3, 1, 4, 1, 5};
    assert_int_equal(emgmm_io_table_open(&t, in_dir("l.npy"), 5, 1, 1, &err), 0);
    assert_int_equal(emgmm_io_table_write_i32(&t, lab, 5, &err), 0);
    assert_int_equal(emgmm_io_table_commit(&t, &err), 0);
    size_t len;
    char *b = slurp(in_dir("l.npy"), &len);
    size_t off = len - sizeof lab;
    assert_int_equal(off % 64, 0);
    assert_memory_equal(b, "\x93NUMPY\x01\x00", 8);
    assert_int_equal((size_t)(unsigned char)b[8] + 10, off);
    assert_int_equal(b[off - 1], '\n');
    b[off - 1] = 0;
    assert_non_null(strstr(b + 10, "'descr': '<i4'"));
    assert_non_null(strstr(b + 10, "'shape': (5,)"));
    assert_memory_equal(b + off, lab, sizeof lab);
    free(b);
}

static void test_abort_keeps_existing_file(void **state)
{
    (void)state;
    const char *p = in_dir("keep.csv");
    FILE *f = fopen(p, "w");
    fputs("precious\n", f);
    fclose(f);
    size_t before = count_entries();
    emgmm_io_table t;
    emgmm_io_error err = {0};
    const double x[2] = {9.5, 8.25};
    assert_int_equal(emgmm_io_table_open(&t, p, 5, 2, 0, &err), 0);
    assert_int_equal(count_entries(), before + 1); /* the temporary */
    assert_int_equal(emgmm_io_table_write_f64(&t, x, 1, &err), 0);
    emgmm_io_table_abort(&t);
    assert_int_equal(count_entries(), before);
    /* committing fewer rows than promised is an error, not a short file */
    assert_int_equal(emgmm_io_table_open(&t, p, 5, 2, 0, &err), 0);
    assert_int_equal(emgmm_io_table_write_f64(&t, x, 1, &err), 0);
    assert_int_not_equal(emgmm_io_table_commit(&t, &err), 0);
    assert_int_equal(count_entries(), before);
    size_t len;
    char *b = slurp(p, &len);
    assert_int_equal(len, 9);
    assert_memory_equal(b, "precious\n", 9);
    free(b);
}

static void test_unwritable_targets_fail_cleanly(void **state)
{
    (void)state;
    emgmm_io_out *o;
    emgmm_io_error err = {0};
    assert_int_not_equal(emgmm_io_out_open(&o, "/nonexistent-dir/x.csv", &err), 0);
    assert_int_equal(err.code, EMGMM_IO_EINPUT);
    assert_non_null(strstr(err.msg, "cannot create /nonexistent-dir/x.csv"));
    /* a directory in the way: refused, nothing created */
    const char *sub = in_dir("sub.csv");
    assert_int_equal(mkdir(sub, 0755), 0);
    size_t before = count_entries();
    assert_int_not_equal(emgmm_io_out_open(&o, sub, &err), 0);
    assert_non_null(strstr(err.msg, "is a directory"));
    assert_int_equal(count_entries(), before);
}

/* Renaming onto a FIFO or device would destroy it (as root, even /dev/null):
 * such targets are written in place and stay what they were. */
static void test_fifo_target_is_written_not_replaced(void **state)
{
    (void)state;
    const char *fifo = in_dir("pipe.csv");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(rfd >= 0);
    emgmm_io_out *o;
    emgmm_io_error err = {0};
    assert_int_equal(emgmm_io_out_open(&o, fifo, &err), 0);
    fputs("2.385\n", emgmm_io_out_file(o));
    assert_int_equal(emgmm_io_out_commit(o, &err), 0);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    char b[16] = {0};
    assert_int_equal(read(rfd, b, sizeof b), 6);
    assert_string_equal(b, "2.385\n");
    close(rfd);
}

static void test_symlink_target_keeps_the_link(void **state)
{
    (void)state;
    const char *real = in_dir("real.csv");
    FILE *f = fopen(real, "w");
    fputs("old\n", f);
    fclose(f);
    char link[160];
    snprintf(link, sizeof link, "%s/link.csv", dir);
    assert_int_equal(symlink("real.csv", link), 0);
    emgmm_io_out *o;
    emgmm_io_error err = {0};
    assert_int_equal(emgmm_io_out_open(&o, link, &err), 0);
    fputs("new\n", emgmm_io_out_file(o));
    assert_int_equal(emgmm_io_out_commit(o, &err), 0);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    size_t len;
    char *b = slurp(real, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(b, "new\n", 4);
    free(b);
}

static void test_format_double_round_trips_shortest(void **state)
{
    (void)state;
    char b[40];
    emgmm_io_format_double(b, sizeof b, 0.1);
    assert_string_equal(b, "0.1");
    emgmm_io_format_double(b, sizeof b, -2.385);
    assert_string_equal(b, "-2.385");
    uint64_t s = 0x2385;
    for (int i = 0; i < 100000; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        uint64_t bits = s ^ (s >> 29);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (v != v || v - v != 0) continue;
        emgmm_io_format_double(b, sizeof b, v);
        double r = strtod(b, NULL);
        assert_memory_equal(&r, &v, sizeof v);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/emgmm_out_XXXXXX");
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
        cmocka_unit_test(test_csv_table_exact_text),
        cmocka_unit_test(test_npy_tables_read_back),
        cmocka_unit_test(test_abort_keeps_existing_file),
        cmocka_unit_test(test_unwritable_targets_fail_cleanly),
        cmocka_unit_test(test_fifo_target_is_written_not_replaced),
        cmocka_unit_test(test_symlink_target_keeps_the_link),
        cmocka_unit_test(test_format_double_round_trips_shortest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

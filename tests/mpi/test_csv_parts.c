/* test_csv_parts.c — the CSV reader split into parts (what each MPI rank reads,
 * tools/io emgmm_io_csv_part_*), without MPI: for P = 1..7 parts, the parts' rows
 * in order are the whole file's bit for bit, and a bad line is named as the
 * whole-file reader names it, whichever part holds it.  Headers, comments,
 * blank lines, a BOM, CRLF, quoted numbers, no final newline, float32. */
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

#define MAX_PARTS 7

static char g_path[64];

static void write_file(const char *text)
{
    snprintf(g_path, sizeof g_path, "/tmp/emgmm_csv_parts_XXXXXX");
    int fd = mkstemp(g_path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* What one process reads: the matrix, or the error message. */
static int read_whole(const emgmm_io_read_opts *o, emgmm_io_matrix *m, emgmm_io_error *err)
{
    memset(err, 0, sizeof *err);
    return emgmm_io_read_matrix(g_path, o, m, err);
}

/* Reads the file as P parts and applies what tools/mpi_glue.c decides across
 * them: the first failing part's message, unless a blank line in an earlier
 * part is followed by content in a later one; "no data rows" when every part
 * is empty.  Returns 0 with the rows concatenated into *rows (n×d doubles). */
static int read_parts(const emgmm_io_read_opts *o, int P, double **rows, size_t *n, size_t *d,
                      char *msg, size_t msg_size)
{
    emgmm_io_matrix m[MAX_PARTS];
    emgmm_io_csv_range_info info[MAX_PARTS];
    emgmm_io_csv_part *cp[MAX_PARTS];
    emgmm_io_error err[MAX_PARTS];
    int failed[MAX_PARTS];
    size_t before = 0;
    memset(m, 0, sizeof m);
    memset(info, 0, sizeof info);
    memset(err, 0, sizeof err);
    for (int r = 0; r < P; r++) {
        failed[r] = emgmm_io_csv_part_open(&cp[r], g_path, o, r, P, &err[r]) != 0;
        if (failed[r]) { /* the head is the same for every part: all fail alike */
            snprintf(msg, msg_size, "%s", err[r].msg);
            for (int q = 0; q < r; q++) emgmm_io_csv_part_close(cp[q]);
            return -1;
        }
    }
    for (int r = 0; r < P; r++) {
        const size_t lines = emgmm_io_csv_part_lines(cp[r]);
        failed[r] = emgmm_io_csv_part_read(cp[r], before, &m[r], &info[r], &err[r]) != 0;
        assert_int_equal(failed[r], info[r].failed);
        before += lines; /* the exclusive prefix sum of the newline counts */
    }
    int first_fail = P, first_blank = P, later_content = 0;
    size_t total = 0;
    for (int r = 0; r < P; r++) {
        if (failed[r] && first_fail == P) first_fail = r;
        if (info[r].first_blank && first_blank == P)
            first_blank = r;
        else if (first_blank < r && info[r].has_content)
            later_content = 1;
        total += m[r].n;
    }
    int rc = 0;
    if (first_blank < P && later_content && first_fail > first_blank) {
        emgmm_io_error e = {0};
        emgmm_io_csv_blank_error(emgmm_io_csv_part_name(cp[first_blank]),
                                 info[first_blank].first_blank, &e);
        snprintf(msg, msg_size, "%s", e.msg);
        rc = -1;
    } else if (first_fail < P) {
        snprintf(msg, msg_size, "%s", err[first_fail].msg);
        rc = -1;
    } else if (total == 0) {
        emgmm_io_error e = {0};
        emgmm_io_csv_no_rows_error(emgmm_io_csv_part_name(cp[0]), &e);
        snprintf(msg, msg_size, "%s", e.msg);
        rc = -1;
    }
    if (rc == 0) {
        *d = m[0].d;
        *n = total;
        *rows = malloc((total ? total : 1) * *d * sizeof(double));
        assert_non_null(*rows);
        size_t at = 0;
        for (int r = 0; r < P; r++) {
            assert_int_equal(m[r].d, *d);
            for (size_t i = 0; i < m[r].n * *d; i++)
                (*rows)[at++] = m[r].dtype == EMGMM_F32 ? (double)((const float *)m[r].x)[i]
                                                        : ((const double *)m[r].x)[i];
        }
    }
    for (int r = 0; r < P; r++) {
        emgmm_io_matrix_free(&m[r]);
        emgmm_io_csv_part_close(cp[r]);
    }
    return rc;
}

/* Every P from 1 to MAX_PARTS reads TEXT as one process does. */
static void same_as_whole(const char *text, int dtype)
{
    write_file(text);
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.format = EMGMM_IO_FMT_CSV;
    o.dtype = dtype;
    emgmm_io_matrix whole;
    emgmm_io_error werr;
    const int wrc = read_whole(&o, &whole, &werr);
    for (int P = 1; P <= MAX_PARTS; P++) {
        double *rows = NULL;
        size_t n = 0, d = 0;
        char msg[1024] = "";
        const int rc = read_parts(&o, P, &rows, &n, &d, msg, sizeof msg);
        if (wrc != 0) {
            if (rc == 0) fail_msg("P=%d read what one process refuses: %s", P, werr.msg);
            if (strcmp(msg, werr.msg) != 0)
                fail_msg("P=%d says '%s', one process '%s'", P, msg, werr.msg);
            continue;
        }
        if (rc != 0) fail_msg("P=%d failed: %s", P, msg);
        assert_int_equal(n, whole.n);
        assert_int_equal(d, whole.d);
        for (size_t i = 0; i < n * d; i++) {
            const double w = whole.dtype == EMGMM_F32 ? (double)((const float *)whole.x)[i]
                                                      : ((const double *)whole.x)[i];
            assert_memory_equal(&rows[i], &w, sizeof w);
        }
        free(rows);
    }
    emgmm_io_matrix_free(&whole);
    unlink(g_path);
}

/* 40 rows of 3 numbers of varying widths, each line ending in EOL. */
static char *make_rows(const char *head, const char *eol, int final_eol)
{
    const size_t cap = 8192;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t len = (size_t)snprintf(t, cap, "%s", head);
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(t + len, cap - len, "%d.%d,%s%d,-%de%d%s", i, i * 37 % 1000,
                                i % 3 ? "" : " ", i * i, i + 1, i % 5,
                                i == 39 && !final_eol ? "" : eol);
    return t;
}

static void parts_equal_whole_plain(void **state)
{
    (void)state;
    char *t = make_rows("", "\n", 1);
    same_as_whole(t, EMGMM_IO_DTYPE_NATURAL);
    same_as_whole(t, EMGMM_F32);
    free(t);
}

static void parts_equal_whole_header_crlf_no_final_newline(void **state)
{
    (void)state;
    char *t = make_rows("\xEF\xBB\xBF# a comment\r\n\r\n\"a\",\"b\",\"c\"\r\n", "\r\n", 0);
    same_as_whole(t, EMGMM_IO_DTYPE_NATURAL);
    free(t);
    t = make_rows("x;y;z\n", "\n", 0);
    for (char *p = t; *p; p++)
        if (*p == ',') *p = ';';
    same_as_whole(t, EMGMM_IO_DTYPE_NATURAL);
    free(t);
}

static void parts_equal_whole_comments_trailing_blanks_quotes(void **state)
{
    (void)state;
    same_as_whole("1,2\n# c\n3,4\n\"5\",\"6\"\n# c\n7,8\n\n\n# end\n", EMGMM_IO_DTYPE_NATURAL);
    same_as_whole("a\tb\n1\t2\n", EMGMM_IO_DTYPE_NATURAL); /* fewer rows than parts */
    same_as_whole("1 2 3\n4 5 6", EMGMM_IO_DTYPE_NATURAL);
}

/* Errors are named as one process names them, whichever part holds them. */
static void errors_name_the_whole_files_line(void **state)
{
    (void)state;
    char *t = make_rows("p,q,r\n", "\n", 1);
    char *bad = malloc(strlen(t) + 64);
    assert_non_null(bad);
    const char *variants[] = {"1,abc,3", "1,2", "1,2,3,4", "1,,3", "1,inf,3", ""};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++)
        for (int line = 2; line <= 41; line += 13) {
            /* replace line LINE (1-based) of t by the variant */
            const char *p = t;
            for (int l = 1; l < line; l++) p = strchr(p, '\n') + 1;
            const char *q = strchr(p, '\n') + 1;
            snprintf(bad, strlen(t) + 64, "%.*s%s\n%s", (int)(p - t), t, variants[v], q);
            same_as_whole(bad, EMGMM_IO_DTYPE_NATURAL);
        }
    /* blank lines: at the end allowed, before a row not, whichever part sees the row */
    same_as_whole("h1,h2\n1,2\n\n3,4\n", EMGMM_IO_DTYPE_NATURAL);
    same_as_whole("h1,h2\n\n\n1,2\n", EMGMM_IO_DTYPE_NATURAL);
    same_as_whole("h1,h2\n1,2\n   \n# c\n\n", EMGMM_IO_DTYPE_NATURAL);
    same_as_whole("h1,h2\n# only a comment\n", EMGMM_IO_DTYPE_NATURAL);
    same_as_whole("\n# nothing\n\n", EMGMM_IO_DTYPE_NATURAL);
    same_as_whole("1,x\n2,3\n", EMGMM_IO_DTYPE_NATURAL); /* a bad first row: the head's */
    free(bad);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parts_equal_whole_plain),
        cmocka_unit_test(parts_equal_whole_header_crlf_no_final_newline),
        cmocka_unit_test(parts_equal_whole_comments_trailing_blanks_quotes),
        cmocka_unit_test(errors_name_the_whole_files_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

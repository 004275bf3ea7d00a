/* bench_csv.c — CSV parse speed of the tool's reader (tools/io) in MB/s, on
 * generated files of short decimals (the fast path) and of full-precision
 * %.17g numbers (mostly strtod), read through the same mmap path as `emgmm`.
 *   bench_csv [--rows N] [--cols D] [--repeats R] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emgmm_io.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t state = 0x2385;
static double uniform(void)
{
    state = state * 6364136223846793005u + 1442695040888963407u;
    return (double)(state >> 11) * 0x1.0p-53;
}

/* Writes rows×cols values in FMT to PATH; returns the file size. */
static size_t make_file(const char *path, size_t rows, size_t cols, const char *fmt)
{
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            fprintf(f, fmt, (uniform() - 0.3) * 417.0);
            fputc(j + 1 < cols ? ',' : '\n', f);
        }
    long size = ftell(f);
    fclose(f);
    return (size_t)size;
}

static int run(const char *label, const char *fmt, size_t rows, size_t cols, int repeats)
{
    char path[] = "/tmp/emgmm_bench_csv_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    size_t bytes = make_file(path, rows, cols, fmt);
    double best = 1e30;
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.format = EMGMM_IO_FMT_CSV;
    for (int r = 0; r < repeats; r++) {
        emgmm_io_matrix m;
        emgmm_io_error err;
        double t = now();
        if (emgmm_io_read_matrix(path, &o, &m, &err) != 0) {
            fprintf(stderr, "bench_csv: %s\n", err.msg);
            unlink(path);
            return 1;
        }
        t = now() - t;
        if (m.n != rows || m.d != cols) {
            fprintf(stderr, "bench_csv: read %zu×%zu, expected %zu×%zu\n", m.n, m.d, rows, cols);
            emgmm_io_matrix_free(&m);
            unlink(path);
            return 1;
        }
        emgmm_io_matrix_free(&m);
        if (t < best) best = t;
    }
    unlink(path);
    printf("%-24s %8.1f MB in %.3f s: %7.1f MB/s, %6.1f Mvalues/s\n", label, bytes / 1e6, best,
           bytes / 1e6 / best, (double)(rows * cols) / 1e6 / best);
    return 0;
}

int main(int argc, char **argv)
{
    size_t rows = 1000000, cols = 8;
    int repeats = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rows"))
            rows = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--cols"))
            cols = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--repeats"))
            repeats = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_csv [--rows N] [--cols D] [--repeats R]\n");
            return 2;
        }
    }
    if (!rows || !cols || repeats < 1) return 2;
    int rc = run("short decimals (%.6f)", "%.6f", rows, cols, repeats);
    rc |= run("full precision (%.17g)", "%.17g", rows, cols, repeats);
    return rc;
}

/* table.c — the streamed table writer (CSV, TSV, .npy, HDF5 datasets), whole or not at
 * all: text and .npy through an atomic output file (out.c), HDF5 through h5_data.c; and
 * the output format a path asks for. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emgmm_io.h"
#include "io_internal.h"

int emgmm_io_out_format(const char *path, char *delimiter)
{
    if (delimiter) *delimiter = emgmm_io_has_ext(path, ".tsv") ? '\t' : ',';
    if (emgmm_io_out_is_h5(path)) return EMGMM_IO_OUT_H5;
    return emgmm_io_has_ext(path, ".npy") ? EMGMM_IO_OUT_NPY : EMGMM_IO_OUT_CSV;
}

int emgmm_io_table_check_path(const char *path, emgmm_io_error *err)
{
    static const char *const text[] = {".csv", ".tsv", ".txt", ".tab", ".dat", ".npy"};
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!strcmp(path, "-") || !dot || dot == base)
        return 0; /* stdout, a device or a name without an extension: CSV */
    if (emgmm_io_out_is_h5(path)) return 0; /* HDF5 (h5_data.c): out.h5 or out.h5:/name */
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (emgmm_io_has_ext(path, text[i])) return 0;
    emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                       "cannot write a table as '%s' (%s): use .csv, .tsv, .txt, .npy or .h5", dot,
                       path);
    return -1;
}

static int write_npy_header(FILE *f, const char *descr, size_t n, size_t d)
{
    char dict[256];
    int len;
    if (d == 1)
        len = snprintf(dict, sizeof dict,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (%zu,), }", descr, n);
    else
        len =
            snprintf(dict, sizeof dict,
                     "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }", descr, n, d);
    /* Pad with spaces and a newline so the data starts 64-byte aligned. */
    size_t total = 10 + (size_t)len + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)len + pad + 1;
    unsigned char pre[10] = {0x93,
                             'N',
                             'U',
                             'M',
                             'P',
                             'Y',
                             1,
                             0,
                             (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(dict, 1, (size_t)len, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

/* What opening a whole table and opening this process's part of one share: the path's
 * extension is one a table can have, the format and shape it gives, and no .npy on stdout. */
static int table_init(emgmm_io_table *t, const char *path, size_t n, size_t d, int is_int,
                      emgmm_io_error *err)
{
    memset(t, 0, sizeof *t);
    if (emgmm_io_table_check_path(path, err) != 0) return -1;
    t->format = emgmm_io_out_format(path, &t->delimiter);
    t->n = n;
    t->d = d;
    t->is_int = is_int;
    if (t->format == EMGMM_IO_OUT_NPY && !strcmp(path, "-")) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE, "cannot write .npy to stdout");
        return -1;
    }
    return 0;
}

int emgmm_io_table_open(emgmm_io_table *t, const char *path, size_t n, size_t d, int is_int,
                        emgmm_io_error *err)
{
    if (table_init(t, path, n, d, is_int, err) != 0) return -1;
    if (t->format == EMGMM_IO_OUT_H5) return emgmm_io_h5_table_open(t, path, err);
    if (emgmm_io_out_open(&t->out, path, err) != 0) return -1;
    if (t->format == EMGMM_IO_OUT_NPY &&
        write_npy_header(emgmm_io_out_file(t->out), is_int ? "<i4" : "<f8", n, d) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s", path, strerror(errno));
        emgmm_io_table_abort(t);
        return -1;
    }
    return 0;
}

int emgmm_io_table_text(emgmm_io_table *t, char delimiter, const char *header, emgmm_io_error *err)
{
    if (t->format != EMGMM_IO_OUT_CSV) return 0;
    if (delimiter) t->delimiter = delimiter;
    if (header) {
        FILE *f = emgmm_io_out_file(t->out);
        if (fputs(header, f) == EOF || fputc('\n', f) == EOF) {
            emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s",
                               emgmm_io_out_name(t->out), strerror(errno));
            return -1;
        }
    }
    return 0;
}

int emgmm_io_table_open_part(emgmm_io_table *t, const char *path, size_t n, size_t d, int is_int,
                             emgmm_io_error *err)
{
    if (table_init(t, path, n, d, is_int, err) != 0) return -1;
    return emgmm_io_out_open_part(&t->out, path, err);
}

static int table_check(emgmm_io_table *t, size_t rows, emgmm_io_error *err)
{
    FILE *f = emgmm_io_out_file(t->out);
    if (ferror(f)) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s", emgmm_io_out_name(t->out),
                           strerror(errno));
        return -1;
    }
    t->rows_written += rows;
    return 0;
}

int emgmm_io_table_write_f64(emgmm_io_table *t, const double *x, size_t rows, emgmm_io_error *err)
{
    FILE *f = emgmm_io_out_file(t->out);
    if (t->h5_dset) return emgmm_io_h5_table_write(t, x, rows, err);
    if (t->format == EMGMM_IO_OUT_NPY || t->format == EMGMM_IO_OUT_H5) { /* H5: an MPI part */
        fwrite(x, sizeof *x, rows * t->d, f);
    } else {
        char b[40];
        for (size_t i = 0; i < rows; i++) {
            for (size_t j = 0; j < t->d; j++) {
                if (j) fputc(t->delimiter, f);
                int len = emgmm_io_format_double(b, sizeof b, x[i * t->d + j]);
                fwrite(b, 1, (size_t)len, f);
            }
            fputc('\n', f);
        }
    }
    return table_check(t, rows, err);
}

int emgmm_io_table_write_i32(emgmm_io_table *t, const int32_t *x, size_t rows, emgmm_io_error *err)
{
    FILE *f = emgmm_io_out_file(t->out);
    if (t->h5_dset) return emgmm_io_h5_table_write(t, x, rows, err);
    if (t->format == EMGMM_IO_OUT_NPY || t->format == EMGMM_IO_OUT_H5) { /* H5: an MPI part */
        fwrite(x, sizeof *x, rows * t->d, f);
    } else {
        for (size_t i = 0; i < rows; i++) {
            for (size_t j = 0; j < t->d; j++) {
                if (j) fputc(t->delimiter, f);
                fprintf(f, "%d", (int)x[i * t->d + j]);
            }
            fputc('\n', f);
        }
    }
    return table_check(t, rows, err);
}

int emgmm_io_table_commit(emgmm_io_table *t, emgmm_io_error *err)
{
    if (t->rows_written != t->n) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "internal: wrote %zu of %zu rows to %s",
                           t->rows_written, t->n, emgmm_io_out_name(t->out));
        emgmm_io_table_abort(t);
        return -1;
    }
    if (t->h5_file && emgmm_io_h5_table_detach(t, NULL, err) != 0) {
        emgmm_io_table_abort(t);
        return -1;
    }
    int rc = emgmm_io_out_commit(t->out, err);
    t->out = NULL;
    return rc;
}

void emgmm_io_table_abort(emgmm_io_table *t)
{
    if (t->h5_file) emgmm_io_h5_table_detach(t, NULL, NULL);
    emgmm_io_out_abort(t->out);
    t->out = NULL;
}

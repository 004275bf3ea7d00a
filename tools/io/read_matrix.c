/* read_matrix.c — emgmm_io_read_matrix: picks the reader for a path (by --format, by
 * extension, by the .npy or HDF5 signature) and calls it.  The top of tools/io's readers:
 * it calls csv_read.c, npy.c and h5_data.c, which call only io_common.c below them. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "emgmm_io.h"
#include "io_internal.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* Regular files starting with the .npy magic are .npy whatever their name,
 * so a mis-named file is read correctly rather than rejected as bad CSV. */
static int sniff_npy(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    char b[6];
    ssize_t r = read(fd, b, sizeof b);
    close(fd);
    return r == 6 && memcmp(b, npy_magic, 6) == 0;
}

emgmm_io_read_opts emgmm_io_resolve_opts(const char *path, const emgmm_io_read_opts *opts)
{
    emgmm_io_read_opts o = opts ? *opts : emgmm_io_read_opts_default();
    if (o.format == EMGMM_IO_FMT_AUTO) {
        if (!strcmp(path, "-"))
            o.format = EMGMM_IO_FMT_CSV;
        else if (emgmm_io_h5_is_input(path))
            o.format = EMGMM_IO_FMT_HDF5;
        else if (emgmm_io_has_ext(path, ".npy") || sniff_npy(path))
            o.format = EMGMM_IO_FMT_NPY;
        else if (emgmm_io_has_ext(path, ".f64"))
            o.format = EMGMM_IO_FMT_RAW_F64;
        else if (emgmm_io_has_ext(path, ".f32"))
            o.format = EMGMM_IO_FMT_RAW_F32;
        else {
            o.format = EMGMM_IO_FMT_CSV;
            if (!o.delimiter && (emgmm_io_has_ext(path, ".tsv") || emgmm_io_has_ext(path, ".tab")))
                o.delimiter = '\t';
        }
    }
    return o;
}

int emgmm_io_check_opts(const char *path, const emgmm_io_read_opts *o, emgmm_io_error *err)
{
    if (o->dims && (o->format == EMGMM_IO_FMT_CSV || o->format == EMGMM_IO_FMT_NPY)) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                           "--dims is for raw binary data (f64, f32) only; %s is read as %s, "
                           "which gives its own column count",
                           emgmm_io_display_name(path),
                           o->format == EMGMM_IO_FMT_CSV ? "CSV" : ".npy");
        return -1;
    }
    return 0;
}

/* Binary bytes piped to stdin, which is read as CSV only: say so, rather than
 * report a non-numeric value. */
static int stdin_binary(const emgmm_io_blob *b, emgmm_io_error *err)
{
    if (b->len >= 6 && !memcmp(b->data, "\x93NUMPY", 6)) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                           "stdin is read as CSV only, and this is a .npy file: give its path "
                           "instead of '-'");
        return -1;
    }
    if (memchr(b->data, 0, b->len < 4096 ? b->len : 4096)) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                           "stdin is read as CSV only, and this is binary data: give the file's "
                           "path instead of '-'");
        return -1;
    }
    return 0;
}

int emgmm_io_read_matrix(const char *path, const emgmm_io_read_opts *opts, emgmm_io_matrix *out,
                         emgmm_io_error *err)
{
    memset(out, 0, sizeof *out);
    const int stdin_path = !strcmp(path, "-");
    emgmm_io_read_opts o = emgmm_io_resolve_opts(path, opts);
    if (stdin_path && o.format != EMGMM_IO_FMT_CSV) {
        emgmm_io_error_set(
            err, EMGMM_IO_EUSAGE,
            "'-' (stdin) is supported for CSV only; .npy, HDF5 and raw data must be files");
        return -1;
    }
    if (emgmm_io_check_opts(path, &o, err) != 0) return -1;
    if (o.dataset && *o.dataset && o.format != EMGMM_IO_FMT_HDF5) {
        emgmm_io_error_set(
            err, EMGMM_IO_EUSAGE,
            "--dataset %s: %s is not an HDF5 file (.h5, .hdf5 or the HDF5 signature)", o.dataset,
            emgmm_io_display_name(path));
        return -1;
    }
    switch (o.format) {
    case EMGMM_IO_FMT_NPY: return emgmm_io_read_npy(path, &o, out, err);
    case EMGMM_IO_FMT_RAW_F64:
    case EMGMM_IO_FMT_RAW_F32: return emgmm_io_read_raw(path, &o, out, err);
    case EMGMM_IO_FMT_HDF5: return emgmm_io_read_h5_rows(path, &o, 0, 1, out, NULL, err);
    case EMGMM_IO_FMT_CSV: {
        emgmm_io_blob blob;
        if (emgmm_io_load_file(path, &blob, err) != 0) return -1;
        if (stdin_path && stdin_binary(&blob, err) != 0) {
            emgmm_io_blob_free(&blob);
            return -1;
        }
        int rc = emgmm_io_read_csv_buffer(blob.data, blob.len, emgmm_io_display_name(path), &o, out,
                                          err);
        emgmm_io_blob_free(&blob);
        return rc;
    }
    default:
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE, "unknown data format %d", o.format);
        return -1;
    }
}

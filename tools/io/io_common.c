/* io_common.c — the base of tools/io, calling nothing above it: errors, the matrix
 * object, format names, and loading a file into memory (mmap for regular files, read
 * for pipes).  The dispatcher that picks a reader is read_matrix.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emgmm_io.h"
#include "io_internal.h"

void emgmm_io_error_set(emgmm_io_error *err, int code, const char *fmt, ...)
{
    if (!err) return;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* The message is printed as one line: a control byte taken from the input (a JSON
     * string's "\n", a raw byte near a bad JSON token) must not break it or reach a terminal. */
    for (char *p = err->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}

emgmm_io_read_opts emgmm_io_read_opts_default(void)
{
    emgmm_io_read_opts o = {EMGMM_IO_FMT_AUTO, -1, 0, EMGMM_IO_DTYPE_NATURAL, 0, 0, NULL};
    return o;
}

emgmm_data emgmm_io_matrix_data(const emgmm_io_matrix *m)
{
    if (m->dtype == EMGMM_F32) return emgmm_data_f32((const float *)m->x, m->n, m->d, m->d);
    return emgmm_data_f64((const double *)m->x, m->n, m->d, m->d);
}

void emgmm_io_matrix_free(emgmm_io_matrix *m)
{
    if (!m) return;
    free(m->owned);
    free(m->header);
    free(m->warnings);
    if (m->map) munmap(m->map, m->map_len);
    memset(m, 0, sizeof *m);
}

int emgmm_io_format_from_name(const char *name, char *delimiter)
{
    if (delimiter) *delimiter = 0;
    if (!strcmp(name, "csv")) return EMGMM_IO_FMT_CSV;
    if (!strcmp(name, "tsv")) {
        if (delimiter) *delimiter = '\t';
        return EMGMM_IO_FMT_CSV;
    }
    if (!strcmp(name, "npy")) return EMGMM_IO_FMT_NPY;
    if (!strcmp(name, "f64")) return EMGMM_IO_FMT_RAW_F64;
    if (!strcmp(name, "f32")) return EMGMM_IO_FMT_RAW_F32;
    if (!strcmp(name, "h5") || !strcmp(name, "hdf5")) return EMGMM_IO_FMT_HDF5;
    return -1;
}

const char *emgmm_io_display_name(const char *path) { return strcmp(path, "-") ? path : "<stdin>"; }

int emgmm_io_has_ext(const char *path, const char *ext)
{
    size_t lp = strlen(path), le = strlen(ext);
    if (lp < le) return 0;
    const char *p = path + lp - le;
    for (size_t i = 0; i < le; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != ext[i]) return 0;
    }
    return 1;
}

static int read_all_fd(int fd, const char *name, char **buf, size_t *len, emgmm_io_error *err)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b) {
        emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory reading %s", name);
        return -1;
    }
    for (;;) {
        if (n == cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (!nb) {
                free(b);
                emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory reading %s", name);
                return -1;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot read %s: %s", name, strerror(errno));
            free(b);
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    *buf = b;
    *len = n;
    return 0;
}

int emgmm_io_load_file(const char *path, emgmm_io_blob *blob, emgmm_io_error *err)
{
    memset(blob, 0, sizeof *blob);
    const char *name = emgmm_io_display_name(path);
    int fd = strcmp(path, "-") ? open(path, O_RDONLY) : STDIN_FILENO;
    if (fd < 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot stat %s: %s", name, strerror(errno));
        if (fd != STDIN_FILENO) close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s is a directory", name);
        close(fd);
        return -1;
    }
    int rc = 0;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        if ((uintmax_t)st.st_size > SIZE_MAX) {
            emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "%s is too large to map", name);
            rc = -1;
        } else {
            void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot map %s: %s", name,
                                   strerror(errno));
                rc = -1;
            } else {
                blob->data = p;
                blob->len = (size_t)st.st_size;
                blob->map = p;
                blob->map_len = blob->len;
            }
        }
    } else if (S_ISREG(st.st_mode)) {
        blob->data = "";
        blob->len = 0;
    } else {
        char *b;
        size_t n;
        rc = read_all_fd(fd, name, &b, &n, err);
        if (rc == 0) {
            blob->data = b;
            blob->len = n;
            blob->owned = b;
        }
    }
    if (fd != STDIN_FILENO) close(fd);
    return rc;
}

void emgmm_io_blob_free(emgmm_io_blob *blob)
{
    free(blob->owned);
    if (blob->map) munmap(blob->map, blob->map_len);
    memset(blob, 0, sizeof *blob);
}

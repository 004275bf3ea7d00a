/* npy.c — NumPy .npy reader (format 1.0–3.0, <f8/<f4, C or Fortran order, 1-D
 * read as n×1) by mmap, zero-copy when the array is C-order in the working
 * dtype; the header is checked against the file size before anything is
 * allocated.  Also the raw little-endian binary reader (--format f64|f32). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emgmm_io.h"
#include "io_internal.h"

#define NPY_MAX_HEADER (1u << 20)

typedef struct {
    char descr[16];
    int fortran;
    int ndim;
    size_t shape[2];
} npy_header;

static void skip_ws(const char **p, const char *e)
{
    while (*p < e && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')) (*p)++;
}

static int parse_quoted(const char **p, const char *e, char *dst, size_t size)
{
    if (*p >= e || (**p != '\'' && **p != '"')) return -1;
    char q = *(*p)++;
    size_t n = 0;
    while (*p < e && **p != q) {
        if (n + 1 >= size) return -1;
        dst[n++] = *(*p)++;
    }
    if (*p >= e) return -1;
    (*p)++;
    dst[n] = 0;
    return 0;
}

/* The value of 'fortran_order': True or False. */
static int parse_fortran(const char **p, const char *e, npy_header *h, const char **what)
{
    if (e - *p >= 4 && !memcmp(*p, "True", 4)) {
        h->fortran = 1;
        *p += 4;
    } else if (e - *p >= 5 && !memcmp(*p, "False", 5)) {
        *p += 5;
    } else {
        *what = "malformed 'fortran_order'";
        return -1;
    }
    return 0;
}

/* The value of 'shape': a tuple of at most two non-negative integers, e.g. (3,) or (3, 4). */
static int parse_shape(const char **pp, const char *e, npy_header *h, const char **what)
{
    const char *p = *pp;
    if (p >= e || *p++ != '(') {
        *what = "malformed 'shape'";
        return -1;
    }
    for (;;) {
        skip_ws(&p, e);
        if (p < e && *p == ')') {
            p++;
            break;
        }
        if (p >= e || (unsigned)(*p - '0') >= 10) {
            *what = "malformed 'shape'";
            return -1;
        }
        size_t v = 0;
        while (p < e && (unsigned)(*p - '0') < 10) {
            if (v > (SIZE_MAX - 9) / 10) {
                *what = "'shape' overflows";
                return -1;
            }
            v = v * 10 + (size_t)(*p++ - '0');
        }
        if (h->ndim >= 2) {
            *what = "array has more than 2 dimensions";
            return -1;
        }
        h->shape[h->ndim++] = v;
        skip_ws(&p, e);
        if (p < e && *p == ',') p++;
    }
    *pp = p;
    return 0;
}

/* The header is a Python dict literal with exactly the keys descr,
 * fortran_order and shape (numpy.lib.format writes nothing else). */
static int parse_header(const char *s, size_t len, npy_header *h, const char **what)
{
    const char *p = s, *e = s + len;
    int have = 0;
    memset(h, 0, sizeof *h);
    skip_ws(&p, e);
    if (p >= e || *p++ != '{') {
        *what = "header is not a dict";
        return -1;
    }
    for (;;) {
        skip_ws(&p, e);
        if (p < e && *p == '}') break;
        char key[32];
        if (parse_quoted(&p, e, key, sizeof key) != 0) {
            *what = "malformed header key";
            return -1;
        }
        skip_ws(&p, e);
        if (p >= e || *p++ != ':') {
            *what = "malformed header (missing ':')";
            return -1;
        }
        skip_ws(&p, e);
        if (!strcmp(key, "descr")) {
            if (parse_quoted(&p, e, h->descr, sizeof h->descr) != 0) {
                *what = "unsupported or malformed 'descr' (need '<f8' or '<f4')";
                return -1;
            }
            have |= 1;
        } else if (!strcmp(key, "fortran_order")) {
            if (parse_fortran(&p, e, h, what) != 0) return -1;
            have |= 2;
        } else if (!strcmp(key, "shape")) {
            if (parse_shape(&p, e, h, what) != 0) return -1;
            have |= 4;
        } else {
            *what = "unexpected key in header";
            return -1;
        }
        skip_ws(&p, e);
        if (p < e && *p == ',')
            p++;
        else if (!(p < e && *p == '}')) {
            *what = "malformed header (missing ',')";
            return -1;
        }
    }
    if (have != 7) {
        *what = "header lacks 'descr', 'fortran_order' or 'shape'";
        return -1;
    }
    return 0;
}

static void convert_block(void *dst, int dt, const char *src, int st, size_t n)
{
    /* Source bytes may sit at any offset of the mapping: read via memcpy. */
    if (dt == EMGMM_F64 && st == EMGMM_F32) {
        for (size_t i = 0; i < n; i++) {
            float v;
            memcpy(&v, src + i * 4, 4);
            ((double *)dst)[i] = v;
        }
    } else if (dt == EMGMM_F32 && st == EMGMM_F64) {
        for (size_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, src + i * 8, 8);
            ((float *)dst)[i] = (float)v;
        }
    } else {
        memcpy(dst, src, n * (dt == EMGMM_F32 ? 4 : 8));
    }
}

/* Column-major (Fortran) n×d to row-major, converting dtype on the way;
 * blocked by rows so the strided writes stay in cache. */
static void transpose_convert(void *dst, int dt, const char *src, int st, size_t n, size_t d)
{
    size_t ses = st == EMGMM_F32 ? 4 : 8;
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        size_t i1 = i0 + 256 < n ? i0 + 256 : n;
        for (size_t j = 0; j < d; j++) {
            for (size_t i = i0; i < i1; i++) {
                const char *s = src + (j * n + i) * ses;
                double v;
                if (st == EMGMM_F32) {
                    float f;
                    memcpy(&f, s, 4);
                    v = f;
                } else {
                    memcpy(&v, s, 8);
                }
                if (dt == EMGMM_F32)
                    ((float *)dst)[i * d + j] = (float)v;
                else
                    ((double *)dst)[i * d + j] = v;
            }
        }
    }
}

static int open_sized(const char *path, int *fd, size_t *size, emgmm_io_error *err)
{
    *fd = open(path, O_RDONLY);
    if (*fd < 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s is not a regular file", path);
        close(*fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    return 0;
}

/* Maps the file and points OUT at its data, or converts into a buffer. */
static int map_matrix(int fd, const char *path, size_t fsize, size_t offset, int src_dtype,
                      int fortran, size_t n, size_t d, int want, emgmm_io_matrix *out,
                      emgmm_io_error *err)
{
    size_t ses = src_dtype == EMGMM_F32 ? 4 : 8;
    int dt = want == EMGMM_IO_DTYPE_NATURAL ? src_dtype : want;
    size_t des = dt == EMGMM_F32 ? 4 : 8;
    void *map = mmap(NULL, fsize, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot map %s: %s", path, strerror(errno));
        return -1;
    }
    const char *src = (const char *)map + offset;
    out->n = n;
    out->d = d;
    out->dtype = (emgmm_dtype)dt;
    if (dt == src_dtype && (!fortran || d == 1) && offset % ses == 0) {
        posix_madvise(map, fsize, POSIX_MADV_SEQUENTIAL);
        out->map = map;
        out->map_len = fsize;
        out->x = src;
        return 0;
    }
    if (n > SIZE_MAX / d / des) {
        munmap(map, fsize);
        emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "%s is too large to convert", path);
        return -1;
    }
    void *buf = malloc(n * d * des);
    if (!buf) {
        munmap(map, fsize);
        emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory converting %s", path);
        return -1;
    }
    if (fortran && d > 1)
        transpose_convert(buf, dt, src, src_dtype, n, d);
    else
        convert_block(buf, dt, src, src_dtype, n * d);
    munmap(map, fsize);
    out->owned = buf;
    out->x = buf;
    return 0;
}

/* The fixed part of a .npy file: the magic, a version this reader knows, and where the header
 * starts (*hstart) and how long it is (*hlen), checked against the file's size. */
static int read_preamble(int fd, const char *path, size_t fsize, size_t *hstart, size_t *hlen,
                         emgmm_io_error *err)
{
    unsigned char pre[12];
    if (fsize < 10 || pread(fd, pre, fsize < 12 ? 10 : 12, 0) < 10 ||
        memcmp(pre, "\x93NUMPY", 6) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s is not a .npy file (bad magic)", path);
        return -1;
    }
    int major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s: unsupported .npy format version %d.%d", path,
                           major, minor);
        return -1;
    }
    if (major == 1) {
        *hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        *hstart = 10;
    } else {
        if (fsize < 12) {
            emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s: truncated .npy header", path);
            return -1;
        }
        *hlen =
            (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        *hstart = 12;
    }
    if (*hlen > NPY_MAX_HEADER || *hstart + *hlen > fsize) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT,
                           "%s: .npy header length %zu exceeds the file (%zu bytes)", path, *hlen,
                           fsize);
        return -1;
    }
    return 0;
}

/* The array the header describes as a data matrix: its element type (*st), n rows and d
 * columns, whose bytes must be exactly the file's from offset off on. */
static int header_matrix(const npy_header *h, const char *path, size_t fsize, size_t off, int *st,
                         size_t *n, size_t *d, emgmm_io_error *err)
{
    if (!strcmp(h->descr, "<f8"))
        *st = EMGMM_F64;
    else if (!strcmp(h->descr, "<f4"))
        *st = EMGMM_F32;
    else {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s: unsupported dtype '%s' (need '<f8' or '<f4')",
                           path, h->descr);
        return -1;
    }
    if (h->ndim == 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s: a 0-d array is not a data matrix", path);
        return -1;
    }
    *n = h->shape[0];
    *d = h->ndim == 2 ? h->shape[1] : 1;
    if (*n == 0 || *d == 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s is empty: shape has a zero (%zu×%zu)", path,
                           *n, *d);
        return -1;
    }
    const size_t es = *st == EMGMM_F32 ? 4 : 8;
    if (*n > SIZE_MAX / *d / es || *n * *d * es != fsize - off) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT,
                           "%s: shape (%zu, %zu) of %s needs %zu data bytes, the file has %zu",
                           path, *n, *d, h->descr,
                           *n <= SIZE_MAX / *d / es ? *n * *d * es : SIZE_MAX, fsize - off);
        return -1;
    }
    return 0;
}

int emgmm_io_read_npy(const char *path, const emgmm_io_read_opts *opts, emgmm_io_matrix *out,
                      emgmm_io_error *err)
{
    memset(out, 0, sizeof *out);
    int fd;
    size_t fsize;
    if (open_sized(path, &fd, &fsize, err) != 0) return -1;
    int rc = -1;
    char *hdr = NULL;
    size_t hlen, hstart;
    if (read_preamble(fd, path, fsize, &hstart, &hlen, err) != 0) goto done;
    hdr = malloc(hlen + 1);
    if (!hdr) {
        emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory reading %s", path);
        goto done;
    }
    if (pread(fd, hdr, hlen, (off_t)hstart) != (ssize_t)hlen) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot read the header of %s", path);
        goto done;
    }
    npy_header h;
    const char *what = NULL;
    if (parse_header(hdr, hlen, &h, &what) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s: %s", path, what);
        goto done;
    }
    int st;
    size_t n, d;
    const size_t off = hstart + hlen;
    if (header_matrix(&h, path, fsize, off, &st, &n, &d, err) != 0) goto done;
    rc = map_matrix(fd, path, fsize, off, st, h.fortran, n, d, opts->dtype, out, err);
done:
    free(hdr);
    close(fd);
    return rc;
}

int emgmm_io_read_raw(const char *path, const emgmm_io_read_opts *opts, emgmm_io_matrix *out,
                      emgmm_io_error *err)
{
    memset(out, 0, sizeof *out);
    if (opts->dims == 0) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE, "raw binary data needs --dims D (columns)");
        return -1;
    }
    int st = opts->format == EMGMM_IO_FMT_RAW_F32 ? EMGMM_F32 : EMGMM_F64;
    size_t es = st == EMGMM_F32 ? 4 : 8, d = opts->dims;
    int fd;
    size_t fsize;
    if (open_sized(path, &fd, &fsize, err) != 0) return -1;
    int rc = -1;
    if (d > SIZE_MAX / es || fsize % (d * es) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT,
                           "%s: size %zu bytes is not a whole number of rows of %zu %s values",
                           path, fsize, d, st == EMGMM_F32 ? "f32" : "f64");
    } else if (fsize == 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s is empty: no data rows", path);
    } else {
        rc = map_matrix(fd, path, fsize, 0, st, 0, fsize / (d * es), d, opts->dtype, out, err);
    }
    close(fd);
    return rc;
}

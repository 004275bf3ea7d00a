/* out.c — output files that appear whole or not at all: written to a hidden
 * temporary in the target's directory and renamed into place on commit; plus
 * the streamed CSV/.npy table writer and round-trip-exact number formatting. */
/* realpath() is XSI, beyond the project's _POSIX_C_SOURCE. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emgmm_io.h"
#include "io_internal.h"

struct emgmm_io_out {
    FILE *f;
    char *path; /* the file renamed onto (a symlink's target, resolved) */
    char *tmp;  /* the temporary; NULL when writing straight to f */
    char *buf;  /* stdio buffer */
    int is_stdout;
};

/* The temporaries that exist right now, so that a fatal signal can remove
 * them (emgmm_io_out_remove_temps).  A slot is taken by atomic exchange, so a
 * name is unlinked once, by whoever takes it. */
#define LIVE_MAX 16
static _Atomic(char *) g_live[LIVE_MAX];

static void live_add(char *tmp)
{
    for (int i = 0; i < LIVE_MAX; i++) {
        char *none = NULL;
        if (atomic_compare_exchange_strong(&g_live[i], &none, tmp))
            return;
    }
}

/* Forgets TMP; returns 1 when this call took it (and so may remove it). */
static int live_take(char *tmp)
{
    for (int i = 0; i < LIVE_MAX; i++) {
        char *want = tmp;
        if (tmp && atomic_compare_exchange_strong(&g_live[i], &want, NULL))
            return 1;
    }
    return 0;
}

void emgmm_io_out_remove_temps(void)
{
    for (int i = 0; i < LIVE_MAX; i++) {
        char *t = atomic_exchange(&g_live[i], NULL);
        if (t)
            unlink(t);
    }
}

/* The descriptor a path names when it is one of the process's own streams
 * (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N, or a link to one),
 * else -1.  Such a path must be written through the descriptor: opening it
 * would truncate what the shell opened with >>, and renaming onto what it
 * points to would replace that file. */
static int fd_alias(const char *path)
{
    char buf[4096], cur[4096];
    snprintf(cur, sizeof cur, "%s", path);
    for (int depth = 0; depth < 8; depth++) {
        if (!strcmp(cur, "/dev/stdout"))
            return 1;
        if (!strcmp(cur, "/dev/stderr"))
            return 2;
        const char *num = NULL;
        if (!strncmp(cur, "/dev/fd/", 8))
            num = cur + 8;
        else if (!strncmp(cur, "/proc/self/fd/", 14))
            num = cur + 14;
        if (num && *num) {
            char *end;
            long fd = strtol(num, &end, 10);
            if (!*end && fd >= 0 && fd < 1 << 20)
                return (int)fd;
        }
        ssize_t len = readlink(cur, buf, sizeof buf - 1);
        if (len <= 0)
            return -1;
        buf[len] = '\0';
        if (buf[0] == '/') {
            memcpy(cur, buf, (size_t)len + 1);
        } else { /* relative to the link's directory */
            const char *slash = strrchr(cur, '/');
            size_t dlen = slash ? (size_t)(slash - cur) + 1 : 0;
            if (dlen + (size_t)len + 1 > sizeof cur)
                return -1;
            memcpy(cur + dlen, buf, (size_t)len + 1);
        }
    }
    return -1;
}

int emgmm_io_out_format(const char *path, char *delimiter)
{
    if (delimiter)
        *delimiter = emgmm_io_has_ext(path, ".tsv") ? '\t' : ',';
    if (emgmm_io_out_is_h5(path))
        return EMGMM_IO_OUT_H5;
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
    if (emgmm_io_out_is_h5(path))
        return 0; /* HDF5 (h5_data.c): out.h5 or out.h5:/name */
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (emgmm_io_has_ext(path, text[i]))
            return 0;
    emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                       "cannot write a table as '%s' (%s): use .csv, .tsv, .txt, .npy or .h5", dot,
                       path);
    return -1;
}

static void out_free(emgmm_io_out *o)
{
    free(o->path);
    free(o->tmp);
    free(o->buf);
    free(o);
}

static int nomem(emgmm_io_out *o, const char *path, emgmm_io_error *err)
{
    out_free(o);
    emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory opening %s", path);
    return -1;
}

int emgmm_io_out_open(emgmm_io_out **out, const char *path, emgmm_io_error *err)
{
    *out = NULL;
    emgmm_io_out *o = calloc(1, sizeof *o);
    if (!o || !(o->path = strdup(path)) || !(o->buf = malloc(1 << 20)))
        return nomem(o, path, err);
    if (!strcmp(path, "-")) {
        o->f = stdout;
        o->is_stdout = 1;
        *out = o;
        return 0;
    }
    int alias = fd_alias(path);
    if (alias >= 0) {
        int fd = dup(alias);
        if (fd < 0 || !(o->f = fdopen(fd, "wb"))) {
            emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            out_free(o);
            return -1;
        }
        setvbuf(o->f, o->buf, _IOFBF, 1 << 20);
        *out = o;
        return 0;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: it is a directory", path);
            out_free(o);
            return -1;
        }
        /* A device, FIFO or socket (/dev/stdout, a pipe) has nothing to
         * replace atomically, and renaming onto it would destroy it. */
        if (!(o->f = fopen(path, "wb"))) {
            emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot open %s: %s", path, strerror(errno));
            out_free(o);
            return -1;
        }
        setvbuf(o->f, o->buf, _IOFBF, 1 << 20);
        *out = o;
        return 0;
    }
    /* Through a symlink, replace its target and keep the link. */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        char *real = realpath(path, NULL);
        if (real) {
            free(o->path);
            o->path = real;
        }
    }
    /* ".<base>.XXXXXX" beside the target, so rename() never crosses devices. */
    const char *tp = o->path, *slash = strrchr(tp, '/');
    size_t dlen = slash ? (size_t)(slash - tp) + 1 : 0;
    const char *base = tp + dlen;
    size_t tlen = dlen + 1 + strlen(base) + 8;
    if (!(o->tmp = malloc(tlen)))
        return nomem(o, path, err);
    snprintf(o->tmp, tlen, "%.*s.%s.XXXXXX", (int)dlen, tp, base);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot create %s: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        out_free(o);
        return -1;
    }
    live_add(o->tmp);
    /* mkstemp makes 0600; give the file the mode open(2) would have. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || !(o->f = fdopen(fd, "wb"))) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot create %s: %s", path, strerror(errno));
        close(fd);
        if (live_take(o->tmp))
            unlink(o->tmp);
        out_free(o);
        return -1;
    }
    setvbuf(o->f, o->buf, _IOFBF, 1 << 20);
    *out = o;
    return 0;
}

const char *emgmm_io_out_tmp_name(const emgmm_io_out *out)
{
    return out->tmp;
}

FILE *emgmm_io_out_file(emgmm_io_out *out)
{
    return out->f;
}

const char *emgmm_io_out_name(const emgmm_io_out *out)
{
    return out->is_stdout ? "<stdout>" : out->path;
}

int emgmm_io_out_commit(emgmm_io_out *o, emgmm_io_error *err)
{
    int rc = 0;
    const char *name = emgmm_io_out_name(o);
    int bad = ferror(o->f) || fflush(o->f) != 0;
    int e = errno;
    if (!o->is_stdout && fclose(o->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s", name, strerror(e));
        rc = -1;
    } else if (o->tmp && !live_take(o->tmp)) {
        /* a signal handler removed it: the process is on its way out */
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: interrupted", name);
        rc = -1;
        out_free(o);
        return rc;
    } else if (o->tmp && rename(o->tmp, o->path) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s", name, strerror(errno));
        rc = -1;
    }
    if (rc != 0 && o->tmp) {
        live_take(o->tmp);
        unlink(o->tmp);
    }
    out_free(o);
    return rc;
}

void emgmm_io_out_abort(emgmm_io_out *o)
{
    if (!o)
        return;
    if (o->is_stdout)
        fflush(o->f);
    else
        fclose(o->f);
    if (o->tmp && live_take(o->tmp))
        unlink(o->tmp);
    out_free(o);
}

int emgmm_io_format_double(char *buf, size_t size, double v)
{
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, size, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    return len;
}

/* ------------------------------------------------------------------------ */

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
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

int emgmm_io_table_open(emgmm_io_table *t, const char *path, size_t n, size_t d, int is_int,
                        emgmm_io_error *err)
{
    memset(t, 0, sizeof *t);
    if (emgmm_io_table_check_path(path, err) != 0)
        return -1;
    t->format = emgmm_io_out_format(path, &t->delimiter);
    t->n = n;
    t->d = d;
    t->is_int = is_int;
    if (t->format == EMGMM_IO_OUT_NPY && !strcmp(path, "-")) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE, "cannot write .npy to stdout");
        return -1;
    }
    if (t->format == EMGMM_IO_OUT_H5)
        return emgmm_io_h5_table_open(t, path, err);
    if (emgmm_io_out_open(&t->out, path, err) != 0)
        return -1;
    if (t->format == EMGMM_IO_OUT_NPY &&
        write_npy_header(emgmm_io_out_file(t->out), is_int ? "<i4" : "<f8", n, d) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s", path, strerror(errno));
        emgmm_io_table_abort(t);
        return -1;
    }
    return 0;
}

int emgmm_io_table_text(emgmm_io_table *t, char delimiter, const char *header,
                        emgmm_io_error *err)
{
    if (t->format != EMGMM_IO_OUT_CSV)
        return 0;
    if (delimiter)
        t->delimiter = delimiter;
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
    memset(t, 0, sizeof *t);
    if (emgmm_io_table_check_path(path, err) != 0)
        return -1;
    t->format = emgmm_io_out_format(path, &t->delimiter);
    t->n = n;
    t->d = d;
    t->is_int = is_int;
    if (t->format == EMGMM_IO_OUT_NPY && !strcmp(path, "-")) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE, "cannot write .npy to stdout");
        return -1;
    }
    emgmm_io_out *o = calloc(1, sizeof *o);
    if (!o || !(o->path = strdup(path)) || !(o->buf = malloc(1 << 20)))
        return nomem(o, path, err);
    if (!(o->f = tmpfile())) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot create a temporary part of %s: %s", path,
                           strerror(errno));
        out_free(o);
        return -1;
    }
    setvbuf(o->f, o->buf, _IOFBF, 1 << 20);
    t->out = o;
    return 0;
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
    if (t->h5_dset)
        return emgmm_io_h5_table_write(t, x, rows, err);
    if (t->format == EMGMM_IO_OUT_NPY || t->format == EMGMM_IO_OUT_H5) { /* H5: an MPI part */
        fwrite(x, sizeof *x, rows * t->d, f);
    } else {
        char b[40];
        for (size_t i = 0; i < rows; i++) {
            for (size_t j = 0; j < t->d; j++) {
                if (j)
                    fputc(t->delimiter, f);
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
    if (t->h5_dset)
        return emgmm_io_h5_table_write(t, x, rows, err);
    if (t->format == EMGMM_IO_OUT_NPY || t->format == EMGMM_IO_OUT_H5) { /* H5: an MPI part */
        fwrite(x, sizeof *x, rows * t->d, f);
    } else {
        for (size_t i = 0; i < rows; i++) {
            for (size_t j = 0; j < t->d; j++) {
                if (j)
                    fputc(t->delimiter, f);
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
    if (t->h5_file)
        emgmm_io_h5_table_detach(t, NULL, NULL);
    emgmm_io_out_abort(t->out);
    t->out = NULL;
}

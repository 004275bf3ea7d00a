/* out.c — output files that appear whole or not at all: written to a hidden
 * temporary in the target's directory and renamed into place on commit; and
 * round-trip-exact number formatting.  The table writer on top is table.c. */
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
        if (atomic_compare_exchange_strong(&g_live[i], &none, tmp)) return;
    }
}

/* Forgets TMP; returns 1 when this call took it (and so may remove it). */
static int live_take(char *tmp)
{
    for (int i = 0; i < LIVE_MAX; i++) {
        char *want = tmp;
        if (tmp && atomic_compare_exchange_strong(&g_live[i], &want, NULL)) return 1;
    }
    return 0;
}

void emgmm_io_out_remove_temps(void)
{
    for (int i = 0; i < LIVE_MAX; i++) {
        char *t = atomic_exchange(&g_live[i], NULL);
        if (t) unlink(t);
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
        if (!strcmp(cur, "/dev/stdout")) return 1;
        if (!strcmp(cur, "/dev/stderr")) return 2;
        const char *num = NULL;
        if (!strncmp(cur, "/dev/fd/", 8))
            num = cur + 8;
        else if (!strncmp(cur, "/proc/self/fd/", 14))
            num = cur + 14;
        if (num && *num) {
            char *end;
            long fd = strtol(num, &end, 10);
            if (!*end && fd >= 0 && fd < 1 << 20) return (int)fd;
        }
        ssize_t len = readlink(cur, buf, sizeof buf - 1);
        if (len <= 0) return -1;
        buf[len] = '\0';
        if (buf[0] == '/') {
            memcpy(cur, buf, (size_t)len + 1);
        } else { /* relative to the link's directory */
            const char *slash = strrchr(cur, '/');
            size_t dlen = slash ? (size_t)(slash - cur) + 1 : 0;
            if (dlen + (size_t)len + 1 > sizeof cur) return -1;
            memcpy(cur + dlen, buf, (size_t)len + 1);
        }
    }
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

/* Writing goes straight to an already open descriptor (/dev/fd/N, /dev/stdout): a dup of it. */
static int open_alias(emgmm_io_out *o, int alias, const char *path, emgmm_io_error *err)
{
    int fd = dup(alias);
    if (fd < 0 || !(o->f = fdopen(fd, "wb"))) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return 0;
}

/* An existing path that is not a regular file: a directory is refused; a device, FIFO or
 * socket (/dev/stdout, a pipe) has nothing to replace atomically, and renaming onto it would
 * destroy it, so it is written in place. */
static int open_special(emgmm_io_out *o, const struct stat *st, const char *path,
                        emgmm_io_error *err)
{
    if (S_ISDIR(st->st_mode)) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: it is a directory", path);
        return -1;
    }
    if (!(o->f = fopen(path, "wb"))) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* A regular file (or a new one): a temporary ".<base>.XXXXXX" beside the target (beside a
 * symlink's target, keeping the link), so that the commit's rename() never crosses devices,
 * with the mode open(2) would have given.  Returns 1 when out of memory. */
static int open_temp(emgmm_io_out *o, const char *path, emgmm_io_error *err)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        char *real = realpath(path, NULL);
        if (real) {
            free(o->path);
            o->path = real;
        }
    }
    const char *tp = o->path, *slash = strrchr(tp, '/');
    size_t dlen = slash ? (size_t)(slash - tp) + 1 : 0;
    const char *base = tp + dlen;
    size_t tlen = dlen + 1 + strlen(base) + 8;
    if (!(o->tmp = malloc(tlen))) return 1;
    snprintf(o->tmp, tlen, "%.*s.%s.XXXXXX", (int)dlen, tp, base);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot create %s: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return -1;
    }
    live_add(o->tmp);
    /* mkstemp makes 0600; give the file the mode open(2) would have. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || !(o->f = fdopen(fd, "wb"))) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot create %s: %s", path, strerror(errno));
        close(fd);
        if (live_take(o->tmp)) unlink(o->tmp);
        return -1;
    }
    return 0;
}

int emgmm_io_out_open(emgmm_io_out **out, const char *path, emgmm_io_error *err)
{
    *out = NULL;
    emgmm_io_out *o = calloc(1, sizeof *o);
    if (!o || !(o->path = strdup(path)) || !(o->buf = malloc(1 << 20))) return nomem(o, path, err);
    if (!strcmp(path, "-")) {
        o->f = stdout;
        o->is_stdout = 1;
        *out = o;
        return 0;
    }
    struct stat st;
    const int alias = fd_alias(path);
    int rc;
    if (alias >= 0)
        rc = open_alias(o, alias, path, err);
    else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        rc = open_special(o, &st, path, err);
    else
        rc = open_temp(o, path, err);
    if (rc > 0) return nomem(o, path, err);
    if (rc < 0) {
        out_free(o);
        return -1;
    }
    setvbuf(o->f, o->buf, _IOFBF, 1 << 20);
    *out = o;
    return 0;
}

int emgmm_io_out_open_part(emgmm_io_out **out, const char *path, emgmm_io_error *err)
{
    *out = NULL;
    emgmm_io_out *o = calloc(1, sizeof *o);
    if (!o || !(o->path = strdup(path)) || !(o->buf = malloc(1 << 20))) return nomem(o, path, err);
    if (!(o->f = tmpfile())) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot create a temporary part of %s: %s", path,
                           strerror(errno));
        out_free(o);
        return -1;
    }
    setvbuf(o->f, o->buf, _IOFBF, 1 << 20);
    *out = o;
    return 0;
}

const char *emgmm_io_out_tmp_name(const emgmm_io_out *out) { return out->tmp; }

FILE *emgmm_io_out_file(emgmm_io_out *out) { return out->f; }

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
    if (!o) return;
    if (o->is_stdout)
        fflush(o->f);
    else
        fclose(o->f);
    if (o->tmp && live_take(o->tmp)) unlink(o->tmp);
    out_free(o);
}

int emgmm_io_format_double(char *buf, size_t size, double v)
{
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, size, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v) break;
    }
    return len;
}

/* h5_data.c — HDF5 data in and out (issue 22).
 *
 * Input: a 2-D float32/float64 dataset, named by --dataset or the spelling
 * FILE.h5:/group/X (or the only dataset in the file's root group).  A
 * contiguous, unfiltered little-endian dataset in the working dtype is mapped
 * straight from the file, as a .npy is (zero copy; a process touches only the
 * pages of its rows); anything else (chunked, compressed, converted) is read
 * into one n×d buffer in row blocks (hyperslabs a whole number of chunks
 * tall), so the HDF5 library never holds more than a block besides it.  A
 * row range [i0, i1) of the dataset can be read on its own (each MPI rank
 * reads only its rows).  Under mpirun, in a build with parallel HDF5
 * (pkg-config hdf5-openmpi), every rank opens the file through MPI-IO
 * (H5Pset_fapl_mpio on MPI_COMM_WORLD) and reads its own rows as a hyperslab
 * by collective transfers, whatever the layout, so a parallel file system
 * serves the ranks' reads together.
 *
 * Output: a table (labels, probabilities, log-densities, samples) as one
 * dataset of a new HDF5 file written to a temporary beside the target and
 * renamed into place on commit, so a failure leaves no partial file.
 *
 * Without HDF5 in the build every entry point reports that. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emgmm_io.h"
#include "io_internal.h"

static const unsigned char h5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

int emgmm_io_h5_sniff(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    struct stat st;
    int found = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        /* The superblock sits at 0 or, after a user block, at 512·2^k. */
        for (off_t at = 0; at + 8 <= st.st_size && at <= 65536 && !found; at = at ? at * 2 : 512) {
            unsigned char b[8];
            found = pread(fd, b, 8, at) == 8 && !memcmp(b, h5_sig, 8);
        }
    }
    close(fd);
    return found;
}

static int has_h5_ext(const char *p)
{
    return emgmm_io_has_ext(p, ".h5") || emgmm_io_has_ext(p, ".hdf5") ||
           emgmm_io_has_ext(p, ".he5") || emgmm_io_has_ext(p, ".hdf");
}

int emgmm_io_h5_split(const char *spec, char *file, size_t fsize, char *dset, size_t dsize)
{
    dset[0] = 0;
    struct stat st;
    const char *colon = strrchr(spec, ':');
    if (colon && colon[1] == '/' && stat(spec, &st) != 0) {
        size_t fl = (size_t)(colon - spec);
        if (fl == 0 || fl >= fsize || strlen(colon + 1) >= dsize) return -1;
        memcpy(file, spec, fl);
        file[fl] = 0;
        strcpy(dset, colon + 1);
        return 1;
    }
    if (strlen(spec) >= fsize) return -1;
    strcpy(file, spec);
    return 0;
}

int emgmm_io_h5_is_input(const char *spec)
{
    char file[4096], dset[1024];
    int r = emgmm_io_h5_split(spec, file, sizeof file, dset, sizeof dset);
    if (r < 0) return 0;
    return r == 1 || has_h5_ext(file) || emgmm_io_h5_sniff(file);
}

int emgmm_io_out_is_h5(const char *spec)
{
    char file[4096], dset[1024];
    if (emgmm_io_h5_split(spec, file, sizeof file, dset, sizeof dset) < 0) return 0;
    return has_h5_ext(file);
}

#ifdef EMGMM_HAVE_HDF5
#include <hdf5.h>

/* Collects the innermost message of HDF5's error stack (the cause, e.g.
 * "truncated file: eof = ..."). */
static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc) snprintf((char *)data, 200, "%s", e->desc);
    return 0;
}

static void h5_cause(char *buf)
{
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, buf);
    H5Eclear2(H5E_DEFAULT);
}

void emgmm_io_h5_quiet(void)
{
    /* The tool reports each failure itself, in one line. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Names of the datasets in the root group, for the message when none is named. */
typedef struct {
    char names[512];
    int count;
    char only[256];
} root_list;

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    root_list *l = data;
    H5O_info_t oi;
    if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) return 0;
    size_t len = strlen(l->names);
    if (len + strlen(name) + 4 < sizeof l->names)
        snprintf(l->names + len, sizeof l->names - len, "%s/%s", l->count ? ", " : "", name);
    if (l->count++ == 0) snprintf(l->only, sizeof l->only, "/%s", name);
    return 0;
}

/* Whether every link on PATH exists (H5Dopen2 on a missing one only says
 * "not found" deep in its stack). */
static int path_exists(hid_t f, const char *path)
{
    char pre[1024];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof pre) return 0;
    for (size_t i = 1; i <= len; i++) {
        if (i < len && path[i] != '/') continue;
        memcpy(pre, path, i);
        pre[i] = 0;
        if (!strcmp(pre, "/")) continue;
        if (H5Lexists(f, pre, H5P_DEFAULT) <= 0) return 0;
    }
    return 1;
}

#define H5BAD(code, ...)                                                                           \
    do {                                                                                           \
        emgmm_io_error_set(err, code, __VA_ARGS__);                                                \
        goto fail;                                                                                 \
    } while (0)

#ifdef EMGMM_HAVE_HDF5_MPI
#include <mpi.h>
/* More than one rank, inside MPI_Init .. MPI_Finalize: read through MPI-IO. */
static int use_mpio(int parts)
{
    int on = 0, off = 0;
    if (parts < 2 || MPI_Initialized(&on) != MPI_SUCCESS || !on) return 0;
    MPI_Finalized(&off);
    return !off;
}
#else
static int use_mpio(int parts)
{
    (void)parts;
    return 0;
}
#endif

const char *emgmm_io_h5_flavour(void)
{
#ifdef EMGMM_HAVE_HDF5_MPI
    return "parallel (MPI-IO under mpirun)";
#else
    return "serial";
#endif
}

/* Row ranges as glue_take_rows splits: [⌊n·r/P⌋, ⌊n·(r+1)/P⌋) without overflow. */
static void part_rows(size_t n, size_t P, size_t r, size_t *i0, size_t *i1)
{
    const size_t q = n / P, s = n % P;
    *i0 = q * r + s * r / P;
    *i1 = q * (r + 1) + s * (r + 1) / P;
}

/* The reads of rows [a, i1) in blocks aligned to a grid of br rows. */
static size_t count_blocks(size_t a, size_t i1, size_t br)
{
    size_t c = 0;
    while (a < i1) {
        size_t b = (a / br + 1) * br;
        a = b < i1 ? b : i1;
        c++;
    }
    return c;
}

static size_t block_rows(hid_t dcpl, size_t d, size_t es)
{
    size_t row_bytes = d * es, rows = ((size_t)4 << 20) / (row_bytes ? row_bytes : 1);
    if (rows < 1) rows = 1;
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t cd[2] = {1, 1};
        if (H5Pget_chunk(dcpl, 2, cd) == 2 && cd[0] > 0) {
            size_t c = (size_t)cd[0];
            rows = rows < c ? c : rows / c * c;
        }
    }
    return rows;
}

static int scan_nonfinite(const void *x, int dt, size_t rows, size_t d, size_t *ri, size_t *ci)
{
    for (size_t i = 0; i < rows; i++) {
        double acc = 0;
        if (dt == EMGMM_F32) {
            const float *r = (const float *)x + i * d;
            for (size_t j = 0; j < d; j++) acc += (double)(r[j] - r[j]);
        } else {
            const double *r = (const double *)x + i * d;
            for (size_t j = 0; j < d; j++) acc += r[j] - r[j];
        }
        if (acc == 0) continue;
        for (size_t j = 0; j < d; j++) {
            double v = dt == EMGMM_F32 ? (double)((const float *)x)[i * d + j]
                                       : ((const double *)x)[i * d + j];
            if (!isfinite(v)) {
                *ri = i;
                *ci = j;
                return 1;
            }
        }
    }
    return 0;
}

/* The HDF5 handles of one read: every one that is open is closed by
 * h5_in_close, on success and on failure alike. */
typedef struct {
    hid_t f, ds, sp, ty, dcpl, msp, fapl, dxpl;
} h5_in;

static void h5_in_close(h5_in *h)
{
    if (h->msp >= 0) H5Sclose(h->msp);
    if (h->fapl != H5P_DEFAULT && h->fapl >= 0) H5Pclose(h->fapl);
    if (h->dxpl != H5P_DEFAULT && h->dxpl >= 0) H5Pclose(h->dxpl);
    if (h->dcpl >= 0) H5Pclose(h->dcpl);
    if (h->ty >= 0) H5Tclose(h->ty);
    if (h->sp >= 0) H5Sclose(h->sp);
    if (h->ds >= 0) H5Dclose(h->ds);
    if (h->f >= 0) H5Fclose(h->f);
}

/* file and dset (empty when none is named) from the spec and --dataset; st
 * the file's status, which must be a regular file. */
static int h5_resolve(const char *spec, const emgmm_io_read_opts *opts, char *file, size_t fsize,
                      char *dset, size_t dsize, struct stat *st, emgmm_io_error *err)
{
    int sr = emgmm_io_h5_split(spec, file, fsize, dset, dsize);
    if (sr < 0) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE, "HDF5 path too long: %.200s", spec);
        return -1;
    }
    if (opts && opts->dataset && *opts->dataset) {
        if (sr == 1 && strcmp(dset, opts->dataset)) {
            emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                               "two datasets named for %s: '%s' in the path and '%s' by --dataset",
                               file, dset, opts->dataset);
            return -1;
        }
        if (strlen(opts->dataset) >= dsize) {
            emgmm_io_error_set(err, EMGMM_IO_EUSAGE, "--dataset name too long");
            return -1;
        }
        strcpy(dset, opts->dataset);
    }
    if (stat(file, st) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot open %s: %s", file, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s is not a regular file (HDF5 input)", file);
        return -1;
    }
    return 0;
}

/* Opens file (through MPI-IO when mpio) and its dataset dset, the file's only
 * one when dset is empty (dset then names it); h gets the dataset's space,
 * type and creation list. */
static int h5_open(h5_in *h, const char *file, char *dset, int mpio, emgmm_io_error *err)
{
    char cause[256];
    const char *dname = dset[0] ? dset : "(no dataset named)";
    if (!emgmm_io_h5_sniff(file))
        H5BAD(EMGMM_IO_EINPUT, "%s is not an HDF5 file (no HDF5 signature; dataset %s)", file,
              dname);
        /* Every rank reaches the open (the checks before see the same file), which
     * is collective under MPI-IO, as are the reads and the close. */
#ifdef EMGMM_HAVE_HDF5_MPI
    if (mpio) {
        h->fapl = H5Pcreate(H5P_FILE_ACCESS);
        h->dxpl = H5Pcreate(H5P_DATASET_XFER);
        if (h->fapl < 0 || h->dxpl < 0 ||
            H5Pset_fapl_mpio(h->fapl, MPI_COMM_WORLD, MPI_INFO_NULL) < 0 ||
            H5Pset_dxpl_mpio(h->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
            H5BAD(EMGMM_IO_EINPUT, "%s: cannot set up MPI-IO for the dataset %s", file, dname);
    }
#else
    (void)mpio;
#endif
    if ((h->f = H5Fopen(file, H5F_ACC_RDONLY, h->fapl)) < 0) {
        h5_cause(cause);
        H5BAD(EMGMM_IO_EINPUT, "cannot open %s as HDF5 (dataset %s): %s", file, dname,
              cause[0] ? cause : "corrupt or truncated file");
    }
    if (!dset[0]) {
        root_list l = {{0}, 0, {0}};
        H5Literate(h->f, H5_INDEX_NAME, H5_ITER_INC, NULL, list_cb, &l);
        if (l.count != 1)
            H5BAD(EMGMM_IO_EUSAGE,
                  "%s holds %d datasets in its root group (%s): name one with --dataset NAME or "
                  "%s:/NAME",
                  file, l.count, l.count ? l.names : "none", file);
        strcpy(dset, l.only);
        dname = dset;
    }
    if (!path_exists(h->f, dset)) H5BAD(EMGMM_IO_EINPUT, "%s:%s: no such dataset", file, dname);
    if ((h->ds = H5Dopen2(h->f, dset, H5P_DEFAULT)) < 0) {
        h5_cause(cause);
        H5BAD(EMGMM_IO_EINPUT, "%s:%s: cannot open the dataset (%s)", file, dname,
              cause[0] ? cause : "not a dataset");
    }
    h->sp = H5Dget_space(h->ds);
    h->ty = H5Dget_type(h->ds);
    h->dcpl = H5Dget_create_plist(h->ds);
    if (h->sp < 0 || h->ty < 0 || h->dcpl < 0) {
        h5_cause(cause);
        H5BAD(EMGMM_IO_EINPUT, "%s:%s: cannot read the dataset's header (%s)", file, dname, cause);
    }
    return 0;
fail:
    return -1;
}

/* The dataset's shape n × d and element type (EMGMM_F32/F64): 2-D, float32 or
 * float64, not empty, not too large. */
static int h5_shape(const h5_in *h, const char *file, const char *dname, size_t *n, size_t *d,
                    int *ftype, emgmm_io_error *err)
{
    int nd = H5Sget_simple_extent_ndims(h->sp);
    hsize_t dims[H5S_MAX_RANK];
    if (nd < 0 || H5Sget_simple_extent_dims(h->sp, dims, NULL) < 0)
        H5BAD(EMGMM_IO_EINPUT, "%s:%s: unreadable dataspace", file, dname);
    if (nd != 2)
        H5BAD(EMGMM_IO_EINPUT,
              "%s:%s: dataset is %d-D; emgmm reads a 2-D (samples × features) dataset", file, dname,
              nd);
    H5T_class_t cls = H5Tget_class(h->ty);
    size_t tsize = H5Tget_size(h->ty);
    if (cls != H5T_FLOAT || (tsize != 4 && tsize != 8)) {
        const char *what = cls == H5T_INTEGER  ? "an integer"
                           : cls == H5T_STRING ? "a string"
                           : cls == H5T_FLOAT  ? "an unsupported float"
                                               : "a non-numeric";
        H5BAD(EMGMM_IO_EINPUT, "%s:%s: dataset has %s type; emgmm reads float32 or float64", file,
              dname, what);
    }
    *n = (size_t)dims[0];
    *d = (size_t)dims[1];
    if (*n == 0) H5BAD(EMGMM_IO_EINPUT, "%s:%s: dataset has 0 rows", file, dname);
    if (*d == 0) H5BAD(EMGMM_IO_EINPUT, "%s:%s: dataset has 0 columns", file, dname);
    if (*d > (size_t)1 << 30 || *n > SIZE_MAX / 8 / *d)
        H5BAD(EMGMM_IO_ENOMEM, "%s:%s: dataset too large (%zu × %zu)", file, dname, *n, *d);
    *ftype = tsize == 4 ? EMGMM_F32 : EMGMM_F64;
    return 0;
fail:
    return -1;
}

/* The zero-copy case: rows [i0, i0 + rows) of a contiguous block at offset
 * off, mapped from the file into out. */
static int h5_map_rows(const char *file, const char *dname, const struct stat *st, haddr_t off,
                       size_t n, size_t d, size_t es, size_t i0, size_t rows, emgmm_io_matrix *out,
                       emgmm_io_error *err)
{
    if ((uintmax_t)off > (uintmax_t)st->st_size || n * d * es > (size_t)st->st_size - (size_t)off)
        H5BAD(EMGMM_IO_EINPUT,
              "%s:%s: file is truncated (the dataset's %zu bytes at %llu "
              "run past its end, %lld bytes)",
              file, dname, n * d * es, (unsigned long long)off, (long long)st->st_size);
    if (rows == 0) {
        out->x = NULL;
        return 0;
    }
    long pg = sysconf(_SC_PAGESIZE);
    size_t from = (size_t)off + i0 * d * es, start = from / (size_t)pg * (size_t)pg;
    size_t len = rows * d * es + (from - start);
    int fd = open(file, O_RDONLY);
    void *map = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)start);
    if (fd >= 0) close(fd);
    if (map == MAP_FAILED) H5BAD(EMGMM_IO_EINPUT, "cannot map %s: %s", file, strerror(errno));
    out->map = map;
    out->map_len = len;
    out->x = (const char *)map + (from - start);
    return 0;
fail:
    return -1;
}

/* Rows [i0, i1) of the dataset into buf (rows × d of the working type dt), in
 * blocks aligned to the chunk grid, so each chunk is decoded once.  Under
 * MPI-IO every rank makes as many (collective) reads as the rank with the most
 * blocks, the ranks done reading with empty selections. */
static int h5_read_blocks(h5_in *h, const char *file, const char *dname, size_t n, size_t d, int dt,
                          size_t es, size_t P, int mpio, size_t i0, size_t i1, void *buf,
                          emgmm_io_error *err)
{
    char cause[256];
    size_t br = block_rows(h->dcpl, d, es);
    hid_t mt = dt == EMGMM_F32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    size_t nblk = count_blocks(i0, i1, br);
    for (size_t r = 0; mpio && r < P; r++) {
        size_t a0, a1;
        part_rows(n, P, r, &a0, &a1);
        const size_t c = count_blocks(a0, a1, br);
        nblk = c > nblk ? c : nblk;
    }
    double none;
    for (size_t blk = 0, a = i0; blk < nblk; blk++) {
        size_t b = (a / br + 1) * br;
        if (b > i1) b = i1;
        hsize_t fo[2] = {a, 0}, cnt[2] = {a < i1 ? b - a : 1, d};
        if (h->msp >= 0) H5Sclose(h->msp);
        h->msp = H5Screate_simple(2, cnt, NULL);
        void *dst = a < i1 ? (char *)buf + (a - i0) * d * es : (void *)&none;
        int sel = h->msp < 0 ? -1
                  : a < i1   ? H5Sselect_hyperslab(h->sp, H5S_SELECT_SET, fo, NULL, cnt, NULL)
                             : (H5Sselect_none(h->sp) < 0 || H5Sselect_none(h->msp) < 0 ? -1 : 0);
        if (sel < 0 || H5Dread(h->ds, mt, h->msp, h->sp, h->dxpl, dst) < 0) {
            h5_cause(cause);
            H5BAD(EMGMM_IO_EINPUT, "%s:%s: cannot read rows %zu–%zu: %s", file, dname, a, b - 1,
                  cause[0] ? cause : "read error (truncated or corrupt file?)");
        }
        if (a < i1) a = b;
    }
    return 0;
fail:
    return -1;
}

/* Without --missing, a NaN or infinity is an error naming its row and column. */
static int h5_check_finite(const emgmm_io_matrix *out, const char *file, const char *dname,
                           size_t i0, emgmm_io_error *err)
{
    size_t ri, ci;
    if (out->n == 0 || !scan_nonfinite(out->x, out->dtype, out->n, out->d, &ri, &ci)) return 0;
    double v = out->dtype == EMGMM_F32 ? (double)((const float *)out->x)[ri * out->d + ci]
                                       : ((const double *)out->x)[ri * out->d + ci];
    emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s:%s: %s at row %zu, column %zu (counting from 0)%s",
                       file, dname, isnan(v) ? "NaN" : "infinite value", i0 + ri, ci,
                       isnan(v) ? "; pass --missing nan if NaN marks a missing value" : "");
    return -1;
}

int emgmm_io_read_h5_rows(const char *spec, const emgmm_io_read_opts *opts, int part, int parts,
                          emgmm_io_matrix *out, long long *row0, emgmm_io_error *err)
{
    memset(out, 0, sizeof *out);
    if (row0) *row0 = 0;
    emgmm_io_h5_quiet();
    char file[4096], dset[1024];
    struct stat st;
    if (h5_resolve(spec, opts, file, sizeof file, dset, sizeof dset, &st, err) < 0) return -1;
    h5_in h = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID,
               H5I_INVALID_HID, H5I_INVALID_HID, H5P_DEFAULT,     H5P_DEFAULT};
    void *buf = NULL;
    const int mpio = use_mpio(parts);
    size_t n, d;
    int ftype;
    if (h5_open(&h, file, dset, mpio, err) < 0 || h5_shape(&h, file, dset, &n, &d, &ftype, err) < 0)
        goto fail;
    const int dt = !opts || opts->dtype == EMGMM_IO_DTYPE_NATURAL ? ftype : opts->dtype;
    const size_t es = dt == EMGMM_F32 ? 4 : 8, P = parts < 1 ? 1 : (size_t)parts;
    size_t i0, i1;
    part_rows(n, P, (size_t)part, &i0, &i1);
    const size_t rows = i1 - i0;
    /* one contiguous little-endian block in the working dtype is used in
     * place; a block at an offset that is not a multiple of the element size
     * cannot be (its values would be misaligned) and is read into a buffer */
    hid_t le = ftype == EMGMM_F32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    haddr_t off = H5Dget_offset(h.ds);
    if (!mpio && H5Pget_layout(h.dcpl) == H5D_CONTIGUOUS && H5Pget_nfilters(h.dcpl) == 0 &&
        H5Tequal(h.ty, le) > 0 && ftype == dt && off != HADDR_UNDEF && off % es == 0) {
        if (h5_map_rows(file, dset, &st, off, n, d, es, i0, rows, out, err) < 0) goto fail;
    } else {
        if (rows > 0 && !(buf = malloc(rows * d * es))) {
            emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory reading %s:%s (%zu × %zu)",
                               file, dset, rows, d);
            goto fail;
        }
        if (h5_read_blocks(&h, file, dset, n, d, dt, es, P, mpio, i0, i1, buf, err) < 0) goto fail;
        out->owned = buf;
        out->x = buf;
        buf = NULL;
    }
    out->dtype = dt;
    out->n = rows;
    out->d = d;
    if (!(opts && opts->missing) && h5_check_finite(out, file, dset, i0, err) < 0) goto fail;
    if (row0) *row0 = (long long)i0;
    h5_in_close(&h);
    return 0;
fail:
    free(buf);
    emgmm_io_matrix_free(out);
    h5_in_close(&h);
    H5Eclear2(H5E_DEFAULT);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */
/* ------------------------------------------------------------------------ */

int emgmm_io_h5_table_open(emgmm_io_table *t, const char *spec, emgmm_io_error *err)
{
    emgmm_io_h5_quiet();
    char file[4096], dset[1024], cause[256];
    if (emgmm_io_h5_split(spec, file, sizeof file, dset, sizeof dset) < 0) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE, "HDF5 output path too long: %.200s", spec);
        return -1;
    }
    if (!dset[0]) strcpy(dset, t->is_int ? "/labels" : "/data");
    if (emgmm_io_out_open(&t->out, file, err) != 0) return -1;
    const char *tmp = emgmm_io_out_tmp_name(t->out);
    hid_t f = H5I_INVALID_HID, sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, lcpl = H5I_INVALID_HID,
          ds = H5I_INVALID_HID;
    if (!tmp) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                           "cannot write HDF5 to %s: it must be a regular file (not a device)",
                           file);
        goto fail;
    }
    hsize_t dims[2] = {t->n, t->d};
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sp = H5Screate_simple(t->d == 1 ? 1 : 2, dims, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (f < 0 || sp < 0 || dcpl < 0 || lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0 ||
        H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 ||
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 ||
        (ds = H5Dcreate2(f, dset, t->is_int ? H5T_STD_I32LE : H5T_IEEE_F64LE, sp, lcpl, dcpl,
                         H5P_DEFAULT)) < 0) {
        h5_cause(cause);
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot create %s:%s: %s", file, dset, cause);
        goto fail;
    }
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    t->h5_file = f;
    t->h5_dset = ds;
    return 0;
fail:
    if (ds >= 0) H5Dclose(ds);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    if (f >= 0) H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    emgmm_io_out_abort(t->out);
    t->out = NULL;
    return -1;
}

int emgmm_io_h5_table_write(emgmm_io_table *t, const void *x, size_t rows, emgmm_io_error *err)
{
    if (rows == 0) return 0;
    char cause[256];
    hid_t fsp = H5Dget_space(t->h5_dset), msp = H5I_INVALID_HID;
    hsize_t fo[2] = {t->rows_written, 0}, cnt[2] = {rows, t->d};
    int rank = t->d == 1 ? 1 : 2, rc = 0;
    if (fsp < 0 || (msp = H5Screate_simple(rank, cnt, NULL)) < 0 ||
        H5Sselect_hyperslab(fsp, H5S_SELECT_SET, fo, NULL, cnt, NULL) < 0 ||
        H5Dwrite(t->h5_dset, t->is_int ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE, msp, fsp,
                 H5P_DEFAULT, x) < 0) {
        h5_cause(cause);
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s", emgmm_io_out_name(t->out),
                           cause);
        rc = -1;
    }
    if (msp >= 0) H5Sclose(msp);
    if (fsp >= 0) H5Sclose(fsp);
    if (rc == 0) t->rows_written += rows;
    return rc;
}

int emgmm_io_h5_table_detach(emgmm_io_table *t, long long *data_offset, emgmm_io_error *err)
{
    int rc = 0;
    if (t->h5_dset > 0) {
        haddr_t off = H5Dget_offset(t->h5_dset);
        if (data_offset) *data_offset = off == HADDR_UNDEF ? -1 : (long long)off;
        if (H5Dclose(t->h5_dset) < 0) rc = -1;
    }
    if (t->h5_file > 0 && H5Fclose(t->h5_file) < 0) rc = -1;
    t->h5_dset = t->h5_file = 0;
    if (rc != 0) {
        char cause[256];
        h5_cause(cause);
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write %s: %s",
                           t->out ? emgmm_io_out_name(t->out) : "HDF5 output", cause);
    }
    return rc;
}
#else /* !EMGMM_HAVE_HDF5 */
static int no_h5(const char *spec, emgmm_io_error *err)
{
    emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                       "%s: this emgmm was built without HDF5 (install libhdf5-dev and rebuild)",
                       spec);
    return -1;
}
void emgmm_io_h5_quiet(void) {}
const char *emgmm_io_h5_flavour(void) { return "off"; }
int emgmm_io_read_h5_rows(const char *spec, const emgmm_io_read_opts *opts, int part, int parts,
                          emgmm_io_matrix *out, long long *row0, emgmm_io_error *err)
{
    (void)opts;
    (void)part;
    (void)parts;
    memset(out, 0, sizeof *out);
    if (row0) *row0 = 0;
    return no_h5(spec, err);
}
int emgmm_io_h5_table_open(emgmm_io_table *t, const char *spec, emgmm_io_error *err)
{
    (void)t;
    return no_h5(spec, err);
}
int emgmm_io_h5_table_write(emgmm_io_table *t, const void *x, size_t rows, emgmm_io_error *err)
{
    (void)t;
    (void)x;
    (void)rows;
    return no_h5("HDF5 output", err);
}
int emgmm_io_h5_table_detach(emgmm_io_table *t, long long *data_offset, emgmm_io_error *err)
{
    (void)t;
    (void)err;
    if (data_offset) *data_offset = -1;
    return 0;
}
#endif

/* emgmm_io.h — the readers and writers the emgmm tool uses: data matrices from
 * CSV/TSV, NumPy .npy and raw binary; CSV/.npy output written atomically; and
 * the model JSON file.  Not part of libemgmm: the core library does no I/O. */
#ifndef EMGMM_IO_H
#define EMGMM_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emgmm.h"

/* Error classes; the tool maps them onto its exit codes. */
enum {
    EMGMM_IO_OK = 0,
    EMGMM_IO_EUSAGE = 1, /* a bad option value (unknown format, missing --dims) */
    EMGMM_IO_EINPUT = 2, /* unreadable, malformed or unwritable file */
    EMGMM_IO_ENOMEM = 3  /* out of memory, or sizes that overflow */
};

/* One line, without the "emgmm: " prefix, e.g.
 * "non-numeric value 'abc' in field 3 (data.csv:7:12)". */
typedef struct {
    int code;
    char msg[1024];
} emgmm_io_error;

void emgmm_io_error_set(emgmm_io_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------ */
/* Data matrices                                                            */
/* ------------------------------------------------------------------------ */
enum {
    EMGMM_IO_FMT_AUTO = 0, /* by extension; .npy magic is sniffed */
    EMGMM_IO_FMT_CSV = 1,
    EMGMM_IO_FMT_NPY = 2,
    EMGMM_IO_FMT_RAW_F64 = 3,
    EMGMM_IO_FMT_RAW_F32 = 4,
    EMGMM_IO_FMT_HDF5 = 5 /* .h5/.hdf5 (or the HDF5 signature); see emgmm_io_read_h5_rows */
};

#define EMGMM_IO_DTYPE_NATURAL (-1) /* keep the file's dtype (CSV gives float64) */

typedef struct {
    int format;          /* EMGMM_IO_FMT_* */
    int header;          /* CSV: -1 detect, 0 none, 1 first row is a header */
    char delimiter;      /* CSV: 0 detect, or ',' '\t' ';' ' ' */
    int dtype;           /* EMGMM_IO_DTYPE_NATURAL, EMGMM_F64 or EMGMM_F32 */
    size_t dims;         /* raw binary: columns (required) */
    int missing;         /* CSV: NaN, NA, N/A and empty fields read as NaN (a missing value);
                         0 = they are errors.  Binary formats carry NaN as it is. */
    const char *dataset; /* HDF5: the dataset's path in the file (--dataset), or NULL */
} emgmm_io_read_opts;

emgmm_io_read_opts emgmm_io_read_opts_default(void);

/* A row-major n×d matrix (ld = d) that is either memory-mapped from its file
 * (zero copy) or held in a buffer the matrix owns. */
typedef struct {
    const void *x;
    emgmm_dtype dtype;
    size_t n, d;
    void *owned; /* malloc'd buffer, or NULL */
    void *map;   /* mmap'd region, or NULL */
    size_t map_len;
    /* CSV read whole (emgmm_io_read_matrix): the header line as written
     * (without its newline), or NULL; the delimiter of the file; and what the
     * reader noticed but accepted, one line each separated by '\n' (or NULL),
     * for the tool to print as warnings.  Freed by emgmm_io_matrix_free. */
    char *header;
    char delimiter;
    char *warnings;
} emgmm_io_matrix;

emgmm_data emgmm_io_matrix_data(const emgmm_io_matrix *m);
void emgmm_io_matrix_free(emgmm_io_matrix *m);

/* Reads PATH ("-" = stdin, CSV only) into *out.  On failure *out is empty and
 * err says what and where. */
int emgmm_io_read_matrix(const char *path, const emgmm_io_read_opts *opts, emgmm_io_matrix *out,
                         emgmm_io_error *err);

/* Format names for --format: csv, tsv, npy, f64, f32.  Returns the format and
 * sets *delimiter for tsv; -1 when unknown. */
int emgmm_io_format_from_name(const char *name, char *delimiter);

/* Format-specific entry points (used by emgmm_io_read_matrix and the tests).
 * NAME is what error messages call the file. */
int emgmm_io_read_csv_buffer(const char *buf, size_t len, const char *name,
                             const emgmm_io_read_opts *opts, emgmm_io_matrix *out,
                             emgmm_io_error *err);
/* PATH's format as emgmm_io_read_matrix decides it (--format, extension,
 * .npy magic; tsv/tab set the delimiter): OPTS with format never AUTO. */
emgmm_io_read_opts emgmm_io_resolve_opts(const char *path, const emgmm_io_read_opts *opts);
/* Options that do not apply to the resolved format O (--dims for CSV or .npy):
 * -1 with an EMGMM_IO_EUSAGE error naming PATH. */
int emgmm_io_check_opts(const char *path, const emgmm_io_read_opts *o, emgmm_io_error *err);

/* CSV split over processes (the tool under mpirun).  The head of the file (its
 * first line that is neither blank nor a comment) fixes the delimiter, the
 * header and the column count for every part; the bytes after the header are
 * cut into PARTS ranges at line starts: part r begins at byte ⌊D·r/P⌋ of the
 * D data bytes, moved forward to the next line start.  Each process maps the
 * file and parses only its part, and numbers lines from the sum of the
 * earlier parts' line counts, so a message names the file's own line. */
typedef struct {
    char delim;
    int header;                      /* the first content line is a header */
    size_t header_start, header_len; /* its bytes, when there is one */
    size_t d;
    size_t data_start; /* byte offset of the first data line */
    size_t data_line;  /* its 1-based line number */
} emgmm_io_csv_layout;

typedef struct {
    int failed;         /* the part has a bad row (or a blank line before a row) */
    int has_content;    /* a line that is neither blank nor a comment */
    size_t first_blank; /* the first blank line (1-based), or 0: an error if a
                           later part has content */
} emgmm_io_csv_range_info;

typedef struct emgmm_io_csv_part emgmm_io_csv_part;

/* Maps PATH (a regular file), reads its head and finds part PART of PARTS. */
int emgmm_io_csv_part_open(emgmm_io_csv_part **out, const char *path,
                           const emgmm_io_read_opts *opts, int part, int parts,
                           emgmm_io_error *err);
/* Newlines in the part: the line count of the parts before is their sum. */
size_t emgmm_io_csv_part_lines(const emgmm_io_csv_part *cp);
/* Parses the part's rows into *out (n may be 0); on failure *out is empty,
 * err says what and on which line, and info->failed is set. */
int emgmm_io_csv_part_read(emgmm_io_csv_part *cp, size_t lines_before, emgmm_io_matrix *out,
                           emgmm_io_csv_range_info *info, emgmm_io_error *err);
const char *emgmm_io_csv_part_name(const emgmm_io_csv_part *cp);
void emgmm_io_csv_part_close(emgmm_io_csv_part *cp);
/* The messages for what only the whole file shows: a blank line at LINE
 * followed by rows in a later part; no data rows in any part. */
void emgmm_io_csv_blank_error(const char *name, size_t line, emgmm_io_error *err);
void emgmm_io_csv_no_rows_error(const char *name, emgmm_io_error *err);

int emgmm_io_read_npy(const char *path, const emgmm_io_read_opts *opts, emgmm_io_matrix *out,
                      emgmm_io_error *err);
int emgmm_io_read_raw(const char *path, const emgmm_io_read_opts *opts, emgmm_io_matrix *out,
                      emgmm_io_error *err);

/* Parses one decimal number in [s, end) exactly as strtod would (the fast path
 * is Clinger's exact case; everything else goes to strtod).  Returns the
 * pointer past the number, or NULL when the text up to END is not a number
 * that ends at a field boundary (END, or a byte in STOP). */
const char *emgmm_io_parse_double(const char *s, const char *end, const char *stop, double *out);

/* ------------------------------------------------------------------------ */
/* Output: a temporary file in the target's directory, renamed into place    */
/* on commit; "-" is stdout (CSV only).                                     */
/* ------------------------------------------------------------------------ */
typedef struct emgmm_io_out emgmm_io_out;

enum {
    EMGMM_IO_OUT_CSV = 0,
    EMGMM_IO_OUT_NPY = 1,
    EMGMM_IO_OUT_H5 = 2
};

/* The output format PATH's extension asks for (.npy → NPY, else CSV; .tsv
 * sets *delimiter to a tab, else ','). */
int emgmm_io_out_format(const char *path, char *delimiter);
/* A table (labels, densities, data) is written as CSV/TSV or .npy: an
 * extension other than .csv .tsv .txt .tab .dat .npy (e.g. .json) is -1 with an
 * EMGMM_IO_EUSAGE error; no extension, "-" and devices are CSV. */
int emgmm_io_table_check_path(const char *path, emgmm_io_error *err);

int emgmm_io_out_open(emgmm_io_out **out, const char *path, emgmm_io_error *err);
FILE *emgmm_io_out_file(emgmm_io_out *out);
const char *emgmm_io_out_name(const emgmm_io_out *out);
/* The temporary file's path (renamed onto the target on commit); NULL for
 * stdout and devices, which are written in place. */
const char *emgmm_io_out_tmp_name(const emgmm_io_out *out);
/* Flushes, closes and renames into place; frees OUT whatever happens. */
int emgmm_io_out_commit(emgmm_io_out *out, emgmm_io_error *err);
/* Removes the temporary file; frees OUT.  NULL is accepted. */
void emgmm_io_out_abort(emgmm_io_out *out);
/* Removes every temporary that an open output has made and not yet renamed
 * or removed; async-signal-safe (for a fatal signal's handler). */
void emgmm_io_out_remove_temps(void);

/* Streamed tables: open, then rows in any number of calls, then commit.  The
 * total row count must be known up front for .npy. */
typedef struct {
    emgmm_io_out *out;
    int format; /* EMGMM_IO_OUT_* */
    char delimiter;
    int is_int; /* int32 labels, else double */
    size_t n, d, rows_written;
    int64_t h5_file, h5_dset; /* HDF5 output: the open file and dataset (hid_t), else 0 */
} emgmm_io_table;

int emgmm_io_table_open(emgmm_io_table *t, const char *path, size_t n, size_t d, int is_int,
                        emgmm_io_error *err);
/* Before the first row of a CSV/TSV table: write HEADER (a line as read, or
 * NULL for none) and separate fields by DELIMITER (0 keeps the one the
 * extension chose).  No effect on .npy.  -1 when the header cannot be written. */
int emgmm_io_table_text(emgmm_io_table *t, char delimiter, const char *header, emgmm_io_error *err);
/* A part of a table written by one of several processes: its rows only (no
 * .npy header) in an anonymous temporary file (emgmm_io_out_file reads it
 * back); the caller places the bytes in the whole table, then aborts the part.
 * PATH only chooses the format. */
int emgmm_io_table_open_part(emgmm_io_table *t, const char *path, size_t n, size_t d, int is_int,
                             emgmm_io_error *err);
int emgmm_io_table_write_f64(emgmm_io_table *t, const double *x, size_t rows, emgmm_io_error *err);
int emgmm_io_table_write_i32(emgmm_io_table *t, const int32_t *x, size_t rows, emgmm_io_error *err);
int emgmm_io_table_commit(emgmm_io_table *t, emgmm_io_error *err);
void emgmm_io_table_abort(emgmm_io_table *t);

/* The shortest of %.15g/%.16g/%.17g that reads back as exactly V. */
int emgmm_io_format_double(char *buf, size_t size, double v);

/* ------------------------------------------------------------------------ */
/* The model file (schema in docs/model-format.md)                          */
/* ------------------------------------------------------------------------ */
typedef struct {
    int covariance_type;
    int n_components;
    int n_features;
    double *weights;     /* [K] */
    double *means;       /* [K][d] */
    double *covariances; /* the covariance type's shape */
    size_t cov_size;
    /* optional fit report; has_* say whether the file had them */
    int has_converged, converged;
    int has_n_iter, n_iter;
    int has_lower_bound;
    double lower_bound;
    /* the mclust structure (0..13, emgmm_covariance_type) from the optional
     * "model" field; equal to covariance_type when the file has none */
    int structure;
} emgmm_io_model_file;

/* Extra facts written beside the parameters; any field may be left unset
 * (has_params 0) when the model did not come from a fit. */
typedef struct {
    int has_params;
    emgmm_params params;
} emgmm_io_fit_info;

/* Parses and validates a model JSON text / file; names the bad field. */
int emgmm_io_model_parse(const char *text, size_t len, const char *name, emgmm_io_model_file *mf,
                         emgmm_io_error *err);
int emgmm_io_model_read(const char *path, emgmm_io_model_file *mf, emgmm_io_error *err);
/* Reads a model file (JSON or HDF5, by content) straight into a new model
 * *OUT (fitted: emgmm_model_parameter_buffers, then
 * emgmm_model_commit_parameters), without a staging copy of the arrays; an
 * HDF5 file's stored precisions_cholesky are used as they are (checked by
 * EMGMM_COMMIT_CHECK_PRECISIONS), so nothing is factorised.  MF gets the
 * header and the fit report; its arrays stay NULL.  On failure *OUT is NULL
 * and err names the file and the bad field.  (emgmm_io_model_read is this,
 * with the arrays copied out.) */
int emgmm_io_model_load(const char *path, emgmm_model **out, emgmm_io_model_file *mf,
                        emgmm_io_error *err);
void emgmm_io_model_file_free(emgmm_io_model_file *mf);

/* Writes the fitted MODEL to PATH (atomically). */
int emgmm_io_model_write(const char *path, const emgmm_model *model, const emgmm_io_fit_info *info,
                         emgmm_io_error *err);
/* Writes the JSON text to an open stream (used by the writer and tests). */
int emgmm_io_model_fprint(FILE *f, const emgmm_model *model, const emgmm_io_fit_info *info);

/* ------------------------------------------------------------------------ */
/* HDF5 (h5_data.c, model_h5.c; issue 22).  Built without HDF5, every entry  */
/* point fails with EMGMM_IO_EUSAGE "built without HDF5".                    */
/* ------------------------------------------------------------------------ */
/* 1 when PATH is a regular file with the HDF5 signature (at byte 0 or after a
 * user block at 512·2^k). */
int emgmm_io_h5_sniff(const char *path);
/* Splits SPEC "file.h5:/group/X" into FILE and DSET (when SPEC itself is not
 * an existing file and the part after the last ':' starts with '/'): 1 when
 * split, 0 when SPEC is the whole file name (DSET ""), -1 when too long. */
int emgmm_io_h5_split(const char *spec, char *file, size_t fsize, char *dset, size_t dsize);
/* 1 when SPEC names HDF5 input: the FILE.h5:/X spelling, an .h5/.hdf5/.he5/.hdf
 * extension or the signature. */
int emgmm_io_h5_is_input(const char *spec);
/* 1 when an output SPEC asks for HDF5 (by its file's extension). */
int emgmm_io_out_is_h5(const char *spec);
/* Silences HDF5's own error printing (the tool reports failures itself). */
void emgmm_io_h5_quiet(void);
/* The HDF5 the build has: "off", "serial", or "parallel (MPI-IO under mpirun)". */
const char *emgmm_io_h5_flavour(void);
/* Reads rows [⌊n·part/parts⌋, ⌊n·(part+1)/parts⌋) of the 2-D float32/float64
 * dataset SPEC names (OPTS->dataset, the FILE:/X spelling, or the only dataset
 * of the root group) into *out, mapped when the dataset is contiguous and in
 * the working dtype, else read in row-block hyperslabs (under MPI with
 * parallel HDF5 always the hyperslabs, read collectively through MPI-IO by
 * every rank, which must all call this); *ROW0 (may be NULL)
 * gets the first row's index.  NaN/Inf is an error unless OPTS->missing.  On
 * failure *out is empty and err names the file and the dataset. */
int emgmm_io_read_h5_rows(const char *spec, const emgmm_io_read_opts *opts, int part, int parts,
                          emgmm_io_matrix *out, long long *row0, emgmm_io_error *err);
/* The table writer's HDF5 back end (used by emgmm_io_table_*): one contiguous
 * dataset, SPEC's ":/name" or "/labels" (int32) or "/data" (float64), of shape
 * (n,) when d = 1 else (n, d), in a temporary renamed into place on commit. */
int emgmm_io_h5_table_open(emgmm_io_table *t, const char *spec, emgmm_io_error *err);
int emgmm_io_h5_table_write(emgmm_io_table *t, const void *x, size_t rows, emgmm_io_error *err);
/* Closes the HDF5 file of T (its data already written, or to be written by
 * others at *DATA_OFFSET, the dataset's byte offset in the file; -1 when
 * unknown); T's output is left to commit or abort. */
int emgmm_io_h5_table_detach(emgmm_io_table *t, long long *data_offset, emgmm_io_error *err);

/* The model file as HDF5 (docs/model-format.md): the JSON fields as
 * attributes of the root group, the arrays as datasets weights, means,
 * covariances, precisions_cholesky.  Read validates as the JSON reader does
 * and names the bad field; write is atomic. */
int emgmm_io_model_h5_load(const char *path, emgmm_model **out, emgmm_io_model_file *mf,
                           emgmm_io_error *err);
int emgmm_io_model_h5_write(const char *path, const emgmm_model *model,
                            const emgmm_io_fit_info *info, emgmm_io_error *err);

#endif /* EMGMM_IO_H */

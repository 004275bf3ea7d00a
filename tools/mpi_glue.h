/* mpi_glue.h — the emgmm tool under mpirun: MPI start-up and shut-down, each
 * rank's contiguous row range of the data, agreement on a failure, and which
 * rank speaks.  Without EMGMM_HAVE_MPI every function is the one-process case. */
#ifndef EMGMM_MPI_GLUE_H
#define EMGMM_MPI_GLUE_H

#include "cli.h"

/* Initialises MPI when the tool was built with it and started by a launcher
 * (mpirun sets OMPI_COMM_WORLD_SIZE / PMI_SIZE); a plain run stays a single
 * process without touching the MPI runtime.  On ranks other than 0, stderr is
 * held back (see glue_agree) so that a failure is reported once. */
void glue_init(int *argc, char ***argv);
/* Ends MPI (when started).  RC is this rank's exit code: held-back messages of
 * a successful rank are released; a failed rank's were shown or dropped by
 * glue_agree. */
void glue_finalize(int rc);
int glue_rank(void);
int glue_size(void);
/* Collective: returns the exit code of the lowest-numbered failing rank (0 when
 * none failed).  That rank's held-back messages are shown, once. */
int glue_agree(int rc);
/* With P > 1 ranks, checks that PATH is a file each rank can read its own
 * part of (stdin is refused).  0 or an exit code. */
int glue_check_format(const char *path, const emgmm_io_read_opts *opts);
/* Narrows X (read from MAT) to this rank's rows [n·r/P, n·(r+1)/P) and gives
 * the first row's global index.  The matrix must be memory-mapped (not a
 * converted copy), so that a rank touches only its own pages. */
int glue_take_rows(const emgmm_io_matrix *mat, emgmm_data *X, long long *row0, const char *path);
/* Reads this rank's rows of PATH into MAT (X views them) and gives the first
 * row's global index.  One process reads the whole file.  With P ranks,
 * .npy/raw files are mapped and narrowed by glue_take_rows, and a CSV file is
 * split at line starts, each rank parsing only its own byte range; a bad CSV
 * row is reported by the rank holding it, with the file's line number.
 * Collective with P > 1 whether or not this rank fails; 0 or this rank's exit
 * code (the caller agrees on it with glue_agree). */
int glue_read_rows(const char *path, const emgmm_io_read_opts *opts, emgmm_io_matrix *mat,
                   emgmm_data *X, long long *row0);
/* A table (labels, probabilities, log-densities) of which each rank writes its
 * own rows.  With one process these are emgmm_io_table_open/commit.  With P
 * ranks each rank writes its rows to a private temporary part; then
 * glue_table_finish (collective, called by every rank with its exit code so
 * far) agrees on failure, rank 0 creates the target's temporary (and the .npy
 * header for the summed row count), each rank copies its part there with
 * pwrite at header + the exclusive prefix sum of the parts' byte counts, and
 * rank 0 renames it into place once every rank succeeded: the file is
 * byte-identical to one process's, and no partial output is left on failure.
 * For stdout (or a device) the parts go through rank 0 in rank order. */
int glue_table_open(emgmm_io_table *t, const char *path, size_t rows, size_t d, int is_int);
int glue_table_finish(emgmm_io_table *t, const char *path, int rc);
/* The data fingerprint a checkpoint records, from H, this process's
 * ckpt_data_hash of its N rows; *N_ALL gets all ranks' row count.  One
 * process: H.  With P ranks (collective): the ranks' hashes combined in rank
 * order, so a checkpoint resumes with the same number of ranks.  Version 1
 * checkpoints only: version 2 sums ckpt_rows_hash with glue_sum_u64. */
uint64_t glue_data_hash(uint64_t h, size_t n, size_t *n_all);
/* Collective: the library status of the lowest-numbered rank whose ST is not
 * EMGMM_OK, or EMGMM_OK. */
int glue_agree_status(int st);
/* The labels (or with PROBA the responsibilities) of this process's rows X,
 * written block by block to OUT through glue_table_open/finish; ROW0 is X's
 * first row in DATA.  RC is the caller's exit code so far: when it is not 0
 * nothing is written (collective all the same).  Returns the agreed code. */
int glue_write_predictions(emgmm_model *m, const emgmm_data *X, int proba, const char *out,
                           const char *data, long long row0, int rc);
/* V summed over the ranks (V itself with one process). */
double glue_sum(double v);
/* COUNT unsigned 64-bit integers V summed (mod 2^64) over the ranks, in place
 * (collective; nothing with one process). */
void glue_sum_u64(uint64_t *v, int count);
/* V's maximum over the ranks (V with one process); collective: the fit's
 * agreed stop on a signal that reached some ranks (issue 15). */
int glue_max_int(int v);
/* Distributes MODEL's fits over MPI_COMM_WORLD (under a launcher only). */
int glue_set_comm(emgmm_model *model, long long row0);

/* The common start of predict, score and impute: OUT (may be NULL) can be
 * written, MODEL is loaded (with THREADS and the missing policy of RO), and this
 * rank's rows of DATA are read into *MAT / *X (first row *ROW0) and match the
 * model; each step agreed across ranks, so a failure anywhere is reported once.
 * 0, or the exit code; the caller frees *M and *MAT either way. */
int glue_open_model_rows(const char *out, const char *model_path, const char *data,
                         const emgmm_io_read_opts *ro, int threads, emgmm_model **m,
                         emgmm_io_matrix *mat, emgmm_data *X, long long *row0);

#endif

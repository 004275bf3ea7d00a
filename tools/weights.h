/* weights.h — `--weights FILE` of `emgmm fit` and `emgmm select` (issue 15):
 * one weight per data row, read with the data readers, checked as the library
 * checks emgmm_data.weights but naming the file and row. */
#ifndef EMGMM_WEIGHTS_H
#define EMGMM_WEIGHTS_H

#include "cli.h"

/* Reads this process's rows' weights from PATH (one column: CSV/TSV with or
 * without a header, .npy, or raw float64/float32 by the extension .f64/.f32)
 * for the N rows of DATA starting at global row ROW0, into *W (malloc'd N
 * doubles; the caller frees it).  Refused, with one line naming PATH: more
 * than one column, a row count other than DATA's (all ranks' rows), a weight
 * that is negative, NaN (or missing) or infinite (naming its row, counting
 * from 0), all weights 0.  With MPI ranks every rank reads the file's header
 * (a CSV file is parsed whole: it has one column), checks only its own rows,
 * and the ranks agree on the outcome: collective, returns the agreed exit
 * code (0 on success; *W is NULL on failure).  "-" (stdin, CSV) is a usage
 * error when DATA is stdin too or with several ranks. */
int cli_read_weights(const char *path, const char *data, size_t n, long long row0, double **w);

/* The weighted log-likelihood of X's rows under M, Σ wᵢ·log p(xᵢ), into
 * *LOGLIK, and Σ wᵢ into *WSUM (this process's rows only), computed in blocks
 * of CLI_BLOCK_ROWS.  A library status. */
int cli_weighted_loglik(emgmm_model *m, const emgmm_data *X, double *loglik, double *wsum);

#endif

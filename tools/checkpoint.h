/* checkpoint.h — what `emgmm fit` needs for batch jobs: the checkpoint file
 * (write, read, restore a model bit for bit), the data fingerprint, the
 * SIGTERM/SIGINT handling and the up-front memory check (docs/cli.md). */
#ifndef EMGMM_CHECKPOINT_H
#define EMGMM_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* Exit status of a fit stopped by SIGTERM/SIGINT after saving its work. */
#define CLI_INTERRUPTED 6

/* Everything a checkpoint records besides the parameters. */
typedef struct {
    /* the fit's options; threads is the resolved count (never 0) */
    int n_components, covariance_type, dtype, threads;
    emgmm_params params;
    /* the data fingerprint; VERSION is the checkpoint's (1: data_hash is
     * ckpt_data_hash, combined per rank by glue_data_hash; 2: ckpt_rows_hash
     * summed over the ranks, then ckpt_hash_finish); WEIGHTED: the fit had
     * per-sample weights (--weights), which version 2 hashes with their rows */
    size_t n, d;
    uint64_t data_hash;
    int version, weighted;
    /* progress */
    int n_iter, converged, every;
    const double *lower_bounds; /* [n_iter]; owned (malloc'd) after ckpt_read */
} ckpt_info;

/* A 64-bit hash of every value of X as the fit sees it (working dtype), with
 * n, d and the dtype mixed in. One sequential read of the data. */
uint64_t ckpt_data_hash(const emgmm_data *X);

/* The fingerprint version 2 checkpoints record, independent of how the rows
 * are split over MPI ranks: ckpt_rows_hash is the sum (mod 2^64) over X's rows
 * of a hash of (ROW0 + the row's index, its values in the working dtype, and
 * its weight when X has weights), so the ranks' sums add up to one process's;
 * ckpt_hash_finish mixes the total with n, d, the dtype and whether there are
 * weights. */
uint64_t ckpt_rows_hash(const emgmm_data *X, size_t row0);
uint64_t ckpt_hash_finish(uint64_t sum, size_t n, size_t d, int dtype, int weighted);
/* Writes MODEL (fitted) and INFO atomically to PATH (a valid model file with
 * an extra "checkpoint" object).  0, or -1 with ERR set. */
int ckpt_write(const char *path, const emgmm_model *model, const ckpt_info *info,
               emgmm_io_error *err);

/* Reads PATH: *info (free with ckpt_info_free) and a new model holding the
 * checkpoint's parameters exactly and its fit state.  Exit code on failure
 * (already reported). */
int ckpt_read(const char *path, ckpt_info *info, emgmm_model **model);
void ckpt_info_free(ckpt_info *info);

/* ------------------------------------------------------------------------ */
/* Signals (batch.c): the handler only sets flags and may _exit.          */
/* ------------------------------------------------------------------------ */
/* Installs SIGTERM/SIGINT handlers.  GRACEFUL: the first signal only asks the
 * fit to stop (batch_stop_signal() becomes non-zero), the second exits at
 * once; otherwise the first exits at once.  An immediate exit is 128 + the
 * signal number, deferred while an output file is being written. */
void batch_signals_install(int graceful);
void batch_signals_restore(void);
/* The signal that asked the fit to stop, or 0. */
int batch_stop_signal(void);
/* Bracket the writing of an output file (temporary → rename), so an
 * immediate exit never leaves a temporary behind. */
void batch_write_begin(void);
void batch_write_end(void);

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */
/* Bytes the fit allocates beyond the data (the library's pass workspaces,
 * statistics, parameter copies and initialisation): emgmm_fit_memory_estimate. */
double batch_fit_memory(size_t n, size_t d, size_t K, int cov_type, int dtype, int threads,
                        int init, int max_iter, int n_init, int missing);
/* Memory this process can still use: the least of MemAvailable, the cgroup's
 * memory.max − memory.current and RLIMIT_AS − the current address space −
 * OpenBLAS's per-thread buffers for THREADS threads (address space it maps at
 * its first call; when that mmap fails OpenBLAS retries forever instead of
 * failing).  *what names the limiting one.  Negative when unknown. */
double batch_available_memory(int threads, const char **what);

#endif

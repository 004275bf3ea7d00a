/* io_internal.h — helpers shared by the reader and writer files of tools/io;
 * not used outside it. */
#ifndef EMGMM_IO_INTERNAL_H
#define EMGMM_IO_INTERNAL_H

#include <stddef.h>

#include "emgmm_io.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy and raw readers assume a little-endian host"
/* The model-file fields that the JSON and the HDF5 reader check alike (one
 * function, so that the two formats accept the same models and say the same
 * thing): the covariance-type name, the optional mclust structure name
 * (MODEL_NAME NULL when absent; HAS_MODEL 1 when present but not a string),
 * n_components and n_features as numbers (NAN when absent, -1 when not a number),
 * and the sizes they imply.  Fills mf->covariance_type, structure,
 * n_components, n_features and cov_size.  On failure returns -1 with WHAT
 * ("field 'n_features' must be ..."), KIND naming the container ("field" in
 * JSON, "attribute" in HDF5). */
int emgmm_io_model_fields(emgmm_io_model_file *mf, const char *kind, const char *cov_name,
                          const char *model_name, int has_model, double K, double d, char *what,
                          size_t wsize);
/* The dimensions of each array: weights {K}, means {K, d}, covariances in
 * the covariance type's shape; returns the number of dimensions. */
int emgmm_io_model_dims(const emgmm_io_model_file *mf, const char *array, size_t dims[3]);
/* Creates the model of MF's structure and shape; on failure an error naming PATH. */
int emgmm_io_model_create(const emgmm_io_model_file *mf, const char *path, emgmm_model **out,
                          emgmm_io_error *err);
/* Commits the parameters read into MODEL's buffers (FLAGS as
 * emgmm_model_commit_parameters); a rejected model is an EMGMM_IO_EINPUT
 * "bad model file: <the library's reason> (PATH)", a covariance that is not
 * positive definite "KIND 'covariances[k]' is not positive definite". */
int emgmm_io_model_commit(emgmm_model *model, unsigned flags, const char *kind, const char *path,
                          emgmm_io_error *err);

#endif

/* A whole file in memory: mapped (regular files) or read (pipes, stdin). */
typedef struct {
    const char *data;
    size_t len;
    void *owned;
    void *map;
    size_t map_len;
} emgmm_io_blob;

int emgmm_io_load_file(const char *path, emgmm_io_blob *blob, emgmm_io_error *err);
void emgmm_io_blob_free(emgmm_io_blob *blob);

/* An unnamed temporary file (tmpfile()) standing for PATH: one rank's part of a
 * table that rank 0 gathers (table.c); commit or abort closes it. */
int emgmm_io_out_open_part(emgmm_io_out **out, const char *path, emgmm_io_error *err);

/* The CSV reader's exact decimal parser (csv_read.c): [p, end) holding up to
 * 19 significant digits with a decimal exponent within ±22 is rounded exactly
 * as strtod rounds it; returns the end of the number read, or NULL when the
 * text is outside that range (then strtod). */
const char *emgmm_io_decimal_fast(const char *p, const char *end, double *out);

/* "<stdin>" for "-", else PATH. */
const char *emgmm_io_display_name(const char *path);
/* Case-insensitive suffix test; EXT includes the dot. */
int emgmm_io_has_ext(const char *path, const char *ext);

/* The model-file fields that the JSON and the HDF5 reader check alike (one
 * function, so that the two formats accept the same models and say the same
 * thing): the covariance-type name, the optional mclust structure name
 * (MODEL_NAME NULL when absent; HAS_MODEL 1 when present but not a string),
 * n_components and n_features as numbers (NAN when absent, -1 when not a number),
 * and the sizes they imply.  Fills mf->covariance_type, structure,
 * n_components, n_features and cov_size.  On failure returns -1 with WHAT
 * ("field 'n_features' must be ..."), KIND naming the container ("field" in
 * JSON, "attribute" in HDF5). */
int emgmm_io_model_fields(emgmm_io_model_file *mf, const char *kind, const char *cov_name,
                          const char *model_name, int has_model, double K, double d, char *what,
                          size_t wsize);
/* The dimensions of each array: weights {K}, means {K, d}, covariances in
 * the covariance type's shape; returns the number of dimensions. */
int emgmm_io_model_dims(const emgmm_io_model_file *mf, const char *array, size_t dims[3]);
/* Creates the model of MF's structure and shape; on failure an error naming PATH. */
int emgmm_io_model_create(const emgmm_io_model_file *mf, const char *path, emgmm_model **out,
                          emgmm_io_error *err);
/* Commits the parameters read into MODEL's buffers (FLAGS as
 * emgmm_model_commit_parameters); a rejected model is an EMGMM_IO_EINPUT
 * "bad model file: <the library's reason> (PATH)", a covariance that is not
 * positive definite "KIND 'covariances[k]' is not positive definite". */
int emgmm_io_model_commit(emgmm_model *model, unsigned flags, const char *kind, const char *path,
                          emgmm_io_error *err);

#endif

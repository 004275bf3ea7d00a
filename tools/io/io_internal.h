/* io_internal.h — helpers shared by the reader and writer files of tools/io;
 * not used outside it. */
#ifndef EMGMM_IO_INTERNAL_H
#define EMGMM_IO_INTERNAL_H

#include <stddef.h>

#include "emgmm_io.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy and raw readers assume a little-endian host"
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

/* "<stdin>" for "-", else PATH. */
const char *emgmm_io_display_name(const char *path);
/* Case-insensitive suffix test; EXT includes the dot. */
int emgmm_io_has_ext(const char *path, const char *ext);

#endif

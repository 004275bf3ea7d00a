/* model_json.c — the model file: written as JSON by hand (one row of numbers
 * per line, each double in the shortest %.15g–%.17g form that reads back bit
 * for bit) and read, validating every field and naming the bad one: in one
 * pass straight into the model (model_json_fast.h) when the file is laid out
 * as emgmm writes it, else with jansson's tree, which also words every error. */
#define _DEFAULT_SOURCE 1 /* madvise (model_json_fast.h) beside _POSIX_C_SOURCE */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emgmm_io.h"
#include "io_internal.h"

static const char *const cov_names[4] = {"full", "tied", "diag", "spherical"};

typedef struct {
    const char *name;
    emgmm_io_error *err;
} ctx;

#define BAD(c, ...)                                                                                \
    do {                                                                                           \
        char what_[640];                                                                           \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                                \
        emgmm_io_error_set((c)->err, EMGMM_IO_EINPUT, "bad model file: %s (%s)", what_,            \
                           (c)->name);                                                             \
        return -1;                                                                                 \
    } while (0)

static int get_int(ctx *c, json_t *root, const char *key, int required, long lo, long hi, long *out)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        if (required) BAD(c, "missing field '%s'", key);
        return 1;
    }
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    if (!(x == floor(x)) || x < (double)lo || x > (double)hi)
        BAD(c, "field '%s' must be an integer in [%ld, %ld]", key, lo, hi);
    *out = (long)x;
    return 0;
}

/* Fills dst[count] from a JSON array of COUNT finite numbers; FIELD names it. */
static int get_vec(ctx *c, json_t *a, size_t count, const char *field, double *dst)
{
    if (!json_is_array(a)) BAD(c, "field '%s' must be an array", field);
    if (json_array_size(a) != count)
        BAD(c, "field '%s' has %zu entries, expected %zu", field, json_array_size(a), count);
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_array_get(a, i);
        double x = json_is_number(v) ? json_number_value(v) : NAN;
        if (!isfinite(x)) BAD(c, "field '%s[%zu]' must be a finite number", field, i);
        dst[i] = x;
    }
    return 0;
}

/* A rows×cols matrix as an array of arrays. */
static int get_mat(ctx *c, json_t *a, size_t rows, size_t cols, const char *field, double *dst)
{
    if (!json_is_array(a)) BAD(c, "field '%s' must be an array", field);
    if (json_array_size(a) != rows)
        BAD(c, "field '%s' has %zu entries, expected %zu", field, json_array_size(a), rows);
    for (size_t i = 0; i < rows; i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s[%zu]", field, i);
        if (get_vec(c, json_array_get(a, i), cols, sub, dst + i * cols) != 0) return -1;
    }
    return 0;
}

/* A must nest arrays of lengths dims[0..nd-1]; values are not read here. */
static int check_dims(ctx *c, json_t *a, const size_t *dims, int nd, const char *field)
{
    if (!json_is_array(a)) BAD(c, "field '%s' must be an array", field);
    if (json_array_size(a) != dims[0])
        BAD(c, "field '%s' has %zu entries, expected %zu", field, json_array_size(a), dims[0]);
    for (size_t i = 0; nd > 1 && i < dims[0]; i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s[%zu]", field, i);
        if (check_dims(c, json_array_get(a, i), dims + 1, nd - 1, sub) != 0) return -1;
    }
    return 0;
}

/* Symmetric relative to the diagonal's scale (the library's own check, to
 * 1e-10 of the larger entry, follows in the commit). */
static int check_sym(ctx *c, const double *a, size_t d, const char *field)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) {
            double s = fmax(fabs(a[i * d + i]), fabs(a[j * d + j]));
            if (fabs(a[i * d + j] - a[j * d + i]) > 1e-10 * s)
                BAD(c, "field '%s' is not symmetric at [%zu][%zu]", field, i, j);
        }
    return 0;
}

/* A number field as a double: NAN when absent, -1 when not a number. */
static double get_num(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);
    return !v ? NAN : json_is_number(v) ? json_number_value(v) : -1.0;
}

/* The header: format, version, covariance type or structure, n_components
 * and n_features (into MF). */
static int parse_header(ctx *c, json_t *root, emgmm_io_model_file *mf)
{
    if (!json_is_object(root)) BAD(c, "the top level must be a JSON object");
    json_t *v = json_object_get(root, "format");
    if (!json_is_string(v) || strcmp(json_string_value(v), "emgmm-model"))
        BAD(c, "field 'format' must be \"emgmm-model\"");
    long version;
    if (get_int(c, root, "version", 1, 1, 1, &version) != 0) return -1;
    json_t *jt = json_object_get(root, "covariance_type"), *jmod = json_object_get(root, "model");
    const double K = get_num(root, "n_components"), d = get_num(root, "n_features");
    char what[640];
    if (emgmm_io_model_fields(mf, "field", json_is_string(jt) ? json_string_value(jt) : NULL,
                              json_is_string(jmod) ? json_string_value(jmod) : NULL, jmod != NULL,
                              K, d, what, sizeof what) != 0)
        BAD(c, "%s", what);
    return 0;
}

/* The weights read: non-negative, summing to 1. */
static int check_weights(ctx *c, const double *w, size_t k)
{
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        if (w[i] < 0) BAD(c, "field 'weights[%zu]' is negative", i);
        sum += w[i];
    }
    if (fabs(sum - 1.0) > 1e-9) BAD(c, "field 'weights' sums to %.17g, not 1 (within 1e-9)", sum);
    return 0;
}

/* The covariances read: symmetric (full, tied), positive variances (diag,
 * spherical); the checks of one full component (index I) or of all (I < 0). */
static int check_cov(ctx *c, const emgmm_io_model_file *mf, const double *cv, long i)
{
    const size_t dd = (size_t)mf->n_features;
    if (mf->covariance_type == 0 && i >= 0) {
        char sub[64];
        snprintf(sub, sizeof sub, "covariances[%ld]", i);
        return check_sym(c, cv + (size_t)i * dd * dd, dd, sub);
    }
    if (mf->covariance_type == 1 && check_sym(c, cv, dd, "covariances") != 0) return -1;
    if (mf->covariance_type >= 2)
        for (size_t j = 0; j < mf->cov_size; j++)
            if (!(cv[j] > 0))
                BAD(c, "field 'covariances' has a non-positive variance (entry %zu)", j);
    return 0;
}

/* The arrays from the tree, straight into a new model's buffers (*out). */
static int parse_arrays(ctx *c, json_t *root, emgmm_io_model_file *mf, emgmm_model **out)
{
    const size_t k = (size_t)mf->n_components, dd = (size_t)mf->n_features;
    /* Shapes first, so nothing is allocated for sizes the file does not hold. */
    json_t *jw = json_object_get(root, "weights"), *jm = json_object_get(root, "means"),
           *jc = json_object_get(root, "covariances");
    if (!jw || !jm || !jc)
        BAD(c, "missing field '%s'", !jw ? "weights" : !jm ? "means" : "covariances");
    size_t dims[3];
    int nd = emgmm_io_model_dims(mf, "covariances", dims);
    size_t wd[1] = {k}, md[2] = {k, dd};
    if (check_dims(c, jw, wd, 1, "weights") != 0 || check_dims(c, jm, md, 2, "means") != 0 ||
        check_dims(c, jc, dims, nd, "covariances") != 0)
        return -1;
    /* straight into the model's buffers: no staging copy */
    if (emgmm_io_model_create(mf, c->name, out, c->err) != 0) return -1;
    double *w, *mu, *cv;
    emgmm_model_parameter_buffers(*out, &w, &mu, &cv, NULL);
    if (get_vec(c, jw, k, "weights", w) != 0 || check_weights(c, w, k) != 0) return -1;
    if (get_mat(c, jm, k, dd, "means", mu) != 0) return -1;
    switch (mf->covariance_type) {
    case 0:
        for (size_t i = 0; i < k; i++) {
            char sub[64];
            snprintf(sub, sizeof sub, "covariances[%zu]", i);
            if (get_mat(c, json_array_get(jc, i), dd, dd, sub, cv + i * dd * dd) != 0 ||
                check_cov(c, mf, cv, (long)i) != 0)
                return -1;
        }
        break;
    case 1:
    case 2:
        if (get_mat(c, jc, dims[0], dims[1], "covariances", cv) != 0) return -1;
        break;
    default:
        if (get_vec(c, jc, k, "covariances", cv) != 0) return -1;
        break;
    }
    return check_cov(c, mf, cv, -1);
}

/* The optional fit report (checked for type when present), then the commit. */
static int parse_report(ctx *c, json_t *root, emgmm_io_model_file *mf, emgmm_model *m)
{
    json_t *v;
    if ((v = json_object_get(root, "converged"))) {
        if (!json_is_boolean(v)) BAD(c, "field 'converged' must be true or false");
        mf->has_converged = 1;
        mf->converged = json_is_true(v);
    }
    long it;
    int r = get_int(c, root, "n_iter", 0, 0, 1L << 30, &it);
    if (r < 0) return -1;
    if (r == 0) {
        mf->has_n_iter = 1;
        mf->n_iter = (int)it;
    }
    if ((v = json_object_get(root, "lower_bound")) && !json_is_null(v)) {
        if (!json_is_number(v)) BAD(c, "field 'lower_bound' must be a number or null");
        mf->has_lower_bound = 1;
        mf->lower_bound = json_number_value(v);
    }
    static const char *const nonneg[] = {"tol", "reg_covar", "seed"};
    for (int i = 0; i < 3; i++)
        if ((v = json_object_get(root, nonneg[i])) &&
            (!json_is_number(v) || !(json_number_value(v) >= 0)))
            BAD(c, "field '%s' must be a non-negative number", nonneg[i]);
    if ((v = json_object_get(root, "emgmm_version")) && !json_is_string(v))
        BAD(c, "field 'emgmm_version' must be a string");
    /* JSON holds no precision factors: the library computes them (symmetry
     * and positive definiteness are checked there, naming the component). */
    return emgmm_io_model_commit(m, EMGMM_COMMIT_COMPUTE_PRECISIONS, "field", c->name, c->err);
}

/* Validates ROOT and fills a new model's buffers in place (*out); the
 * header and fit report go to MF, whose arrays stay NULL. */
static int parse_root(ctx *c, json_t *root, emgmm_io_model_file *mf, emgmm_model **out)
{
    if (parse_header(c, root, mf) != 0 || parse_arrays(c, root, mf, out) != 0) return -1;
    return parse_report(c, root, mf, *out);
}

#include "model_json_fast.h"

/* BLOB (may be NULL) holds TEXT: it is freed as soon as the tree is built,
 * so that the text, the tree and the model are never all in memory at once. */
static int parse_into(const char *text, size_t len, const char *name, emgmm_io_blob *blob,
                      emgmm_model **out, emgmm_io_model_file *mf, emgmm_io_error *err)
{
    memset(mf, 0, sizeof *mf);
    *out = NULL;
    /* the common case, read in one pass without jansson's tree (model_json_fast.h);
     * anything it does not take, errors included, goes through jansson below */
    int fr = fast_parse(text, len, name, blob, out, mf, err);
    if (fr != FAST_DECLINED) {
        if (blob) emgmm_io_blob_free(blob);
        return fr;
    }
    json_error_t je;
    /* Integers as reals: a 64-bit seed above INT64_MAX must not fail the parse. */
    json_t *root = json_loadb(text, len, JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &je);
    if (blob) emgmm_io_blob_free(blob);
    if (!root) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "invalid JSON: %s (%s:%d:%d)", je.text, name,
                           je.line, je.column);
        return -1;
    }
    ctx c = {name, err};
    int rc = parse_root(&c, root, mf, out);
    json_decref(root);
    if (rc != 0) {
        emgmm_model_free(*out);
        *out = NULL;
        memset(mf, 0, sizeof *mf);
    }
    return rc;
}

/* The arrays of a loaded model copied out into MF (the array-returning API). */
static int copy_out(emgmm_model *m, emgmm_io_model_file *mf, const char *name, emgmm_io_error *err)
{
    const size_t k = (size_t)mf->n_components, d = (size_t)mf->n_features;
    mf->weights = malloc(k * sizeof(double));
    mf->means = malloc(k * d * sizeof(double));
    mf->covariances = malloc(mf->cov_size * sizeof(double));
    if (!mf->weights || !mf->means || !mf->covariances) {
        emgmm_io_model_file_free(mf);
        emgmm_model_free(m);
        emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory reading %s", name);
        return -1;
    }
    memcpy(mf->weights, emgmm_model_weights(m), k * sizeof(double));
    memcpy(mf->means, emgmm_model_means(m), k * d * sizeof(double));
    memcpy(mf->covariances, emgmm_model_covariances(m), mf->cov_size * sizeof(double));
    emgmm_model_free(m);
    return 0;
}

int emgmm_io_model_parse(const char *text, size_t len, const char *name, emgmm_io_model_file *mf,
                         emgmm_io_error *err)
{
    emgmm_model *m;
    if (parse_into(text, len, name, NULL, &m, mf, err) != 0) return -1;
    return copy_out(m, mf, name, err);
}

int emgmm_io_model_load(const char *path, emgmm_model **out, emgmm_io_model_file *mf,
                        emgmm_io_error *err)
{
    memset(mf, 0, sizeof *mf);
    *out = NULL;
    if (strcmp(path, "-") && emgmm_io_h5_sniff(path)) /* HDF5 by content (model_h5.c) */
        return emgmm_io_model_h5_load(path, out, mf, err);
    emgmm_io_blob blob;
    if (emgmm_io_load_file(path, &blob, err) != 0) return -1;
    if (blob.len == 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "model file %s is empty", path);
        emgmm_io_blob_free(&blob);
        return -1;
    }
    return parse_into(blob.data, blob.len, emgmm_io_display_name(path), &blob, out, mf, err);
}

int emgmm_io_model_read(const char *path, emgmm_io_model_file *mf, emgmm_io_error *err)
{
    emgmm_model *m;
    if (emgmm_io_model_load(path, &m, mf, err) != 0) return -1;
    return copy_out(m, mf, emgmm_io_display_name(path), err);
}

void emgmm_io_model_file_free(emgmm_io_model_file *mf)
{
    if (!mf) return;
    free(mf->weights);
    free(mf->means);
    free(mf->covariances);
    memset(mf, 0, sizeof *mf);
}

/* ------------------------------------------------------------------------ */

static void put_num(FILE *f, double v)
{
    char b[40];
    emgmm_io_format_double(b, sizeof b, v);
    fputs(b, f);
}

static void put_row(FILE *f, const double *x, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        put_num(f, x[i]);
    }
    fputc(']', f);
}

/* rows×cols as nested arrays, one row per line at INDENT spaces. */
static void put_mat(FILE *f, const double *x, size_t rows, size_t cols, int indent)
{
    fputs("[\n", f);
    for (size_t i = 0; i < rows; i++) {
        fprintf(f, "%*s", indent + 2, "");
        put_row(f, x + i * cols, cols);
        fputs(i + 1 < rows ? ",\n" : "\n", f);
    }
    fprintf(f, "%*s]", indent, "");
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int emgmm_io_model_fprint(FILE *f, const emgmm_model *model, const emgmm_io_fit_info *info)
{
    size_t K = (size_t)emgmm_model_n_components(model), d = (size_t)emgmm_model_n_features(model);
    int ct = emgmm_model_covariance_type(model);
    const double *w = emgmm_model_weights(model), *mu = emgmm_model_means(model),
                 *cv = emgmm_model_covariances(model);
    size_t cs = emgmm_model_covariances_size(model);
    if (!emgmm_model_is_fitted(model) || !w || !mu || !cv || ct < 0 || ct > 3) return -1;
    /* JSON has no NaN/Inf; a model holding one must not be written as valid. */
    if (!all_finite(w, K) || !all_finite(mu, K * d) || !all_finite(cv, cs)) return -1;
    fprintf(f, "{\n  \"format\": \"emgmm-model\",\n  \"version\": 1,\n");
    fprintf(f, "  \"emgmm_version\": \"%s\",\n", emgmm_version_string());
    fprintf(f, "  \"covariance_type\": \"%s\",\n", cov_names[ct]);
    fprintf(f, "  \"model\": \"%s\",\n", emgmm_mclust_model_name(emgmm_model_structure(model)));
    fprintf(f, "  \"n_components\": %zu,\n  \"n_features\": %zu,\n", K, d);
    fputs("  \"weights\": ", f);
    put_row(f, w, K);
    fputs(",\n  \"means\": ", f);
    put_mat(f, mu, K, d, 2);
    fputs(",\n  \"covariances\": ", f);
    if (ct == EMGMM_COV_FULL) {
        fputs("[\n", f);
        for (size_t k = 0; k < K; k++) {
            fputs("    ", f);
            put_mat(f, cv + k * d * d, d, d, 4);
            fputs(k + 1 < K ? ",\n" : "\n", f);
        }
        fputs("  ]", f);
    } else if (ct == EMGMM_COV_TIED) {
        put_mat(f, cv, d, d, 2);
    } else if (ct == EMGMM_COV_DIAG) {
        put_mat(f, cv, K, d, 2);
    } else {
        put_row(f, cv, K);
    }
    fprintf(f, ",\n  \"converged\": %s,\n  \"n_iter\": %d,\n  \"lower_bound\": ",
            emgmm_model_converged(model) ? "true" : "false", emgmm_model_n_iter(model));
    double lb = emgmm_model_lower_bound(model);
    if (isfinite(lb))
        put_num(f, lb);
    else
        fputs("null", f);
    if (info && info->has_params) {
        const emgmm_params *p = &info->params;
        fputs(",\n  \"tol\": ", f);
        put_num(f, p->tol);
        fputs(",\n  \"reg_covar\": ", f);
        put_num(f, p->reg_covar);
        const char *init = emgmm_init_method_name(p->init);
        fprintf(f,
                ",\n  \"seed\": %llu,\n  \"max_iter\": %d,\n  \"n_init\": %d,\n  \"init\": \"%s\"",
                (unsigned long long)p->seed, p->max_iter, p->n_init, init ? init : "unknown");
        const char *dg = emgmm_degenerate_policy_name(p->degenerate);
        fprintf(f, ",\n  \"degenerate\": \"%s\",\n  \"var_floor\": ", dg ? dg : "unknown");
        put_num(f, p->var_floor);
        fprintf(f, ",\n  \"reseeds\": %d", emgmm_model_n_reseeds(model));
        /* only for accelerated fits, so that plain EM's files stay as they were */
        if (p->accel != EMGMM_ACCEL_NONE)
            fprintf(f, ",\n  \"accel\": \"%s\",\n  \"n_passes\": %lld",
                    emgmm_accel_method_name(p->accel), emgmm_model_n_passes(model));
    }
    fputs("\n}\n", f);
    return ferror(f) ? -1 : 0;
}

int emgmm_io_model_write(const char *path, const emgmm_model *model, const emgmm_io_fit_info *info,
                         emgmm_io_error *err)
{
    if (emgmm_io_out_is_h5(path)) /* HDF5 by extension (model_h5.c) */
        return emgmm_io_model_h5_write(path, model, info, err);
    emgmm_io_out *o;
    if (emgmm_io_out_open(&o, path, err) != 0) return -1;
    if (emgmm_io_model_fprint(emgmm_io_out_file(o), model, info) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT,
                           "cannot write model %s (model unfitted, non-finite, or I/O error: %s)",
                           path, strerror(errno));
        emgmm_io_out_abort(o);
        return -1;
    }
    return emgmm_io_out_commit(o, err);
}

/* model_h5.c — the model file as HDF5 (issue 22; schema in docs/model-format.md).
 * The same fields as model_json.c, filling the same emgmm_io_model_file: the
 * scalars as attributes of the root group ("format" = "emgmm-model",
 * "version" = 1, "covariance_type", "n_components", "n_features", the fit
 * report and parameters), the arrays as float64 datasets named as
 * scikit-learn's attributes: weights, means, covariances and (written for
 * other readers, not read back) precisions_cholesky.  Binary doubles: the
 * parameters round-trip bit for bit and load at the speed of the disk.  The
 * file is written to a temporary beside the target and renamed into place. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emgmm_io.h"
#include "io_internal.h"

#ifdef EMGMM_HAVE_HDF5
#include <hdf5.h>

static const char *const cov_names[4] = {"full", "tied", "diag", "spherical"};

#define BAD(...)                                                                                   \
    do {                                                                                           \
        char what_[640];                                                                           \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                                \
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "bad model file: %s (%s)", what_, path);          \
        goto fail;                                                                                 \
    } while (0)

/* A string attribute (fixed or variable length) into BUF; -1 absent, -2 not a string. */
static int attr_str(hid_t f, const char *name, char *buf, size_t size)
{
    if (H5Aexists(f, name) <= 0) return -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = a < 0 ? -1 : H5Aget_type(a), sp = -1, mt = -1;
    int rc = -2;
    if (t < 0 || H5Tget_class(t) != H5T_STRING) goto done;
    sp = H5Aget_space(a);
    if (H5Sget_simple_extent_npoints(sp) != 1) goto done;
    mt = H5Tcopy(H5T_C_S1);
    if (H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        if (H5Aread(a, mt, &s) >= 0 && s) {
            snprintf(buf, size, "%s", s);
            H5free_memory(s);
            rc = 0;
        }
    } else {
        size_t n = H5Tget_size(t);
        char *s = n < (1 << 16) ? calloc(n + 1, 1) : NULL;
        H5Tset_size(mt, n + 1);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        if (s && H5Aread(a, mt, s) >= 0) {
            snprintf(buf, size, "%s", s);
            rc = 0;
        }
        free(s);
    }
done:
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return rc;
}

/* A scalar numeric attribute as double (integers, floats, h5py's bool enum);
 * -1 absent, -2 not one number. */
static int attr_num(hid_t f, const char *name, double *out)
{
    if (H5Aexists(f, name) <= 0) return -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = a < 0 ? -1 : H5Aget_type(a), sp = -1;
    int rc = -2;
    if (t < 0) goto done;
    sp = H5Aget_space(a);
    if (H5Sget_simple_extent_npoints(sp) != 1) goto done;
    H5T_class_t c = H5Tget_class(t);
    if (c == H5T_INTEGER) {
        if (H5Tget_sign(t) == H5T_SGN_NONE) {
            unsigned long long v;
            if (H5Aread(a, H5T_NATIVE_ULLONG, &v) >= 0) {
                *out = (double)v;
                rc = 0;
            }
        } else {
            long long v;
            if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0) {
                *out = (double)v;
                rc = 0;
            }
        }
    } else if (c == H5T_FLOAT) {
        if (H5Aread(a, H5T_NATIVE_DOUBLE, out) >= 0) rc = 0;
    } else if (c == H5T_ENUM && H5Tget_size(t) <= 8) {
        unsigned char b[8] = {0};
        long long v = 0;
        if (H5Aread(a, t, b) >= 0) {
            memcpy(&v, b, H5Tget_size(t)); /* little-endian host (io_internal.h) */
            *out = (double)v;
            rc = 0;
        }
    }
done:
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return rc;
}

/* Dataset NAME of exactly the shape dims[0..nd-1], float, read as double. */
static int read_arr(hid_t f, const char *path, const char *name, const size_t *dims, int nd,
                    double *dst, emgmm_io_error *err)
{
    hid_t ds = -1, sp = -1, t = -1;
    char shape[128] = "";
    for (int i = 0, o = 0; i < nd; i++)
        o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%zu", i ? "×" : "", dims[i]);
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0 || (ds = H5Dopen2(f, name, H5P_DEFAULT)) < 0)
        BAD("missing dataset '%s'", name);
    sp = H5Dget_space(ds);
    t = H5Dget_type(ds);
    hsize_t hd[H5S_MAX_RANK];
    int r = sp < 0 ? -1 : H5Sget_simple_extent_dims(sp, hd, NULL);
    if (t < 0 || H5Tget_class(t) != H5T_FLOAT)
        BAD("dataset '%s' must be float64 (or float32)", name);
    if (r != nd) BAD("dataset '%s' has %d dimensions, expected %d (%s)", name, r, nd, shape);
    for (int i = 0; i < nd; i++)
        if (hd[i] != dims[i])
            BAD("dataset '%s' has extent %llu in dimension %d, expected %s", name,
                (unsigned long long)hd[i], i, shape);
    if (H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
        BAD("cannot read dataset '%s' (truncated or corrupt file?)", name);
    H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(ds);
    return 0;
fail:
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return -1;
}

/* The header attributes and the optional fit report into MF (no arrays). */
static int read_header(hid_t f, const char *path, emgmm_io_model_file *mf, emgmm_io_error *err)
{
    char s[256], m[256], what[640];
    double v;
    if (attr_str(f, "format", s, sizeof s) != 0 || strcmp(s, "emgmm-model"))
        BAD("attribute 'format' must be \"emgmm-model\"");
    if (attr_num(f, "version", &v) != 0 || v != 1) BAD("attribute 'version' must be the integer 1");
    const int has_cov = attr_str(f, "covariance_type", s, sizeof s) == 0;
    const int has_model = H5Aexists(f, "model") > 0;
    const int model_ok = has_model && attr_str(f, "model", m, sizeof m) == 0;
    double K, d;
    int rk = attr_num(f, "n_components", &K), rd = attr_num(f, "n_features", &d);
    if (rk != 0) K = rk == -1 ? NAN : -1.0;
    if (rd != 0) d = rd == -1 ? NAN : -1.0;
    if (emgmm_io_model_fields(mf, "attribute", has_cov ? s : NULL, model_ok ? m : NULL, has_model,
                              K, d, what, sizeof what) != 0)
        BAD("%s", what);
    int r = attr_num(f, "converged", &v);
    if (r == -2 || (r == 0 && v != 0 && v != 1)) BAD("attribute 'converged' must be true or false");
    if (r == 0) {
        mf->has_converged = 1;
        mf->converged = v != 0;
    }
    r = attr_num(f, "n_iter", &v);
    if (r == -2 || (r == 0 && (v != floor(v) || v < 0 || v > (double)(1L << 30))))
        BAD("attribute 'n_iter' must be an integer in [0, %ld]", 1L << 30);
    if (r == 0) {
        mf->has_n_iter = 1;
        mf->n_iter = (int)v;
    }
    r = attr_num(f, "lower_bound", &v);
    if (r == -2) BAD("attribute 'lower_bound' must be a number");
    if (r == 0 && isfinite(v)) {
        mf->has_lower_bound = 1;
        mf->lower_bound = v;
    }
    return 0;
fail:
    return -1;
}

/* The arrays straight into the model's own buffers, then the library's
 * commit: with precisions_cholesky in the file, no factorisation and no
 * second copy (the load costs the parameter bytes and the disk read). */
static int read_params(hid_t f, const char *path, const emgmm_io_model_file *mf, emgmm_model *model,
                       emgmm_io_error *err)
{
    double *w, *mu, *cv, *pc;
    emgmm_model_parameter_buffers(model, &w, &mu, &cv, &pc);
    const size_t k = (size_t)mf->n_components, dd = (size_t)mf->n_features;
    size_t dims[3];
    int nd;
    nd = emgmm_io_model_dims(mf, "weights", dims);
    if (read_arr(f, path, "weights", dims, nd, w, err) != 0) return -1;
    nd = emgmm_io_model_dims(mf, "means", dims);
    if (read_arr(f, path, "means", dims, nd, mu, err) != 0) return -1;
    nd = emgmm_io_model_dims(mf, "covariances", dims);
    if (read_arr(f, path, "covariances", dims, nd, cv, err) != 0) return -1;
    /* the reader's own words for what a user most often gets wrong */
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(w[i])) BAD("dataset 'weights[%zu]' must be a finite number", i);
        if (w[i] < 0) BAD("dataset 'weights[%zu]' is negative", i);
        sum += w[i];
    }
    if (fabs(sum - 1.0) > 1e-9) BAD("dataset 'weights' sums to %.17g, not 1 (within 1e-9)", sum);
    for (size_t i = 0; i < k * dd; i++)
        if (!isfinite(mu[i]))
            BAD("dataset 'means[%zu][%zu]' must be a finite number", i / dd, i % dd);
    if (mf->covariance_type >= 2)
        for (size_t i = 0; i < mf->cov_size; i++)
            if (!(cv[i] > 0) || !isfinite(cv[i]))
                BAD("dataset 'covariances' has a non-positive or non-finite variance (entry %zu)",
                    i);
    /* Files without the factors (written by other tools) get them computed. */
    unsigned flags = EMGMM_COMMIT_COMPUTE_PRECISIONS;
    if (H5Lexists(f, "precisions_cholesky", H5P_DEFAULT) > 0) {
        if (read_arr(f, path, "precisions_cholesky", dims, nd, pc, err) != 0) return -1;
        flags = EMGMM_COMMIT_CHECK_PRECISIONS;
    }
    return emgmm_io_model_commit(model, flags, "dataset", path, err);
fail:
    return -1;
}

int emgmm_io_model_h5_load(const char *path, emgmm_model **out, emgmm_io_model_file *mf,
                           emgmm_io_error *err)
{
    memset(mf, 0, sizeof *mf);
    *out = NULL;
    emgmm_io_h5_quiet();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT,
                           "cannot open model %s as HDF5 (corrupt or truncated file)", path);
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    emgmm_model *m = NULL;
    if (read_header(f, path, mf, err) != 0 || emgmm_io_model_create(mf, path, &m, err) != 0 ||
        read_params(f, path, mf, m, err) != 0) {
        H5Eclear2(H5E_DEFAULT);
        H5Fclose(f);
        emgmm_model_free(m);
        memset(mf, 0, sizeof *mf);
        return -1;
    }
    H5Fclose(f);
    *out = m;
    return 0;
}

/* ------------------------------------------------------------------------ */

static int put_attr(hid_t f, const char *name, hid_t type, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp < 0 ? -1 : H5Acreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, type, v) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

static int put_str(hid_t f, const char *name, const char *v)
{
    /* variable-length UTF-8, as h5py writes a str (it reads back as str) */
    hid_t t = H5Tcopy(H5T_C_S1);
    int rc = t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0
                 ? put_attr(f, name, t, &v)
                 : -1;
    if (t >= 0) H5Tclose(t);
    return rc;
}

/* h5py's bool: an int8 enum FALSE = 0, TRUE = 1 (numpy.bool_ in Python). */
static int put_bool(hid_t f, const char *name, int v)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_SCHAR);
    signed char fv = 0, tv = 1, x = v ? 1 : 0;
    int rc = t >= 0 && H5Tenum_insert(t, "FALSE", &fv) >= 0 && H5Tenum_insert(t, "TRUE", &tv) >= 0
                 ? put_attr(f, name, t, &x)
                 : -1;
    if (t >= 0) H5Tclose(t);
    return rc;
}

static int put_arr(hid_t f, const char *name, const double *x, const hsize_t *dims, int nd)
{
    hid_t sp = H5Screate_simple(nd, dims, NULL);
    hid_t ds = sp < 0
                   ? -1
                   : H5Dcreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc =
        ds >= 0 && H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0 ? 0 : -1;
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static int write_file(hid_t f, const emgmm_model *model, const emgmm_io_fit_info *info)
{
    long long K = emgmm_model_n_components(model), d = emgmm_model_n_features(model);
    int ct = emgmm_model_covariance_type(model);
    const double *w = emgmm_model_weights(model), *mu = emgmm_model_means(model),
                 *cv = emgmm_model_covariances(model), *pc = emgmm_model_precisions_cholesky(model);
    size_t cs = emgmm_model_covariances_size(model);
    if (!emgmm_model_is_fitted(model) || !w || !mu || !cv || ct < 0 || ct > 3) return -1;
    if (!all_finite(w, (size_t)K) || !all_finite(mu, (size_t)(K * d)) || !all_finite(cv, cs))
        return -1;
    long long version = 1;
    int rc = 0;
    rc |= put_str(f, "format", "emgmm-model");
    rc |= put_attr(f, "version", H5T_NATIVE_LLONG, &version);
    rc |= put_str(f, "emgmm_version", emgmm_version_string());
    rc |= put_str(f, "covariance_type", cov_names[ct]);
    rc |= put_str(f, "model", emgmm_mclust_model_name(emgmm_model_structure(model)));
    rc |= put_attr(f, "n_components", H5T_NATIVE_LLONG, &K);
    rc |= put_attr(f, "n_features", H5T_NATIVE_LLONG, &d);
    hsize_t full[3] = {(hsize_t)K, (hsize_t)d, (hsize_t)d};
    static const int cov_ndims[4] = {3, 2, 2, 1};
    const hsize_t *cdims = ct == EMGMM_COV_TIED ? full + 1 : full;
    rc |= put_arr(f, "weights", w, full, 1);
    rc |= put_arr(f, "means", mu, full, 2);
    rc |= put_arr(f, "covariances", cv, cdims, cov_ndims[ct]);
    if (pc) rc |= put_arr(f, "precisions_cholesky", pc, cdims, cov_ndims[ct]);
    rc |= put_bool(f, "converged", emgmm_model_converged(model));
    long long it = emgmm_model_n_iter(model);
    rc |= put_attr(f, "n_iter", H5T_NATIVE_LLONG, &it);
    double lb = emgmm_model_lower_bound(model);
    if (isfinite(lb)) /* JSON writes null; here the attribute is left out */
        rc |= put_attr(f, "lower_bound", H5T_NATIVE_DOUBLE, &lb);
    if (info && info->has_params) {
        const emgmm_params *p = &info->params;
        unsigned long long seed = p->seed;
        long long mi = p->max_iter, ni = p->n_init, rs = emgmm_model_n_reseeds(model);
        const char *init = emgmm_init_method_name(p->init);
        const char *dg = emgmm_degenerate_policy_name(p->degenerate);
        rc |= put_attr(f, "tol", H5T_NATIVE_DOUBLE, &p->tol);
        rc |= put_attr(f, "reg_covar", H5T_NATIVE_DOUBLE, &p->reg_covar);
        rc |= put_attr(f, "seed", H5T_NATIVE_ULLONG, &seed);
        rc |= put_attr(f, "max_iter", H5T_NATIVE_LLONG, &mi);
        rc |= put_attr(f, "n_init", H5T_NATIVE_LLONG, &ni);
        rc |= put_str(f, "init", init ? init : "unknown");
        rc |= put_str(f, "degenerate", dg ? dg : "unknown");
        rc |= put_attr(f, "var_floor", H5T_NATIVE_DOUBLE, &p->var_floor);
        rc |= put_attr(f, "reseeds", H5T_NATIVE_LLONG, &rs);
    }
    return rc ? -1 : 0;
}

int emgmm_io_model_h5_write(const char *path, const emgmm_model *model,
                            const emgmm_io_fit_info *info, emgmm_io_error *err)
{
    emgmm_io_h5_quiet();
    emgmm_io_out *o;
    if (emgmm_io_out_open(&o, path, err) != 0) return -1;
    const char *tmp = emgmm_io_out_tmp_name(o);
    if (!tmp) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                           "cannot write an HDF5 model to %s: it must be a regular file", path);
        emgmm_io_out_abort(o);
        return -1;
    }
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int rc = f < 0 ? -1 : write_file(f, model, info);
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    if (rc != 0) {
        H5Eclear2(H5E_DEFAULT);
        emgmm_io_error_set(err, EMGMM_IO_EINPUT,
                           "cannot write model %s (model unfitted, non-finite, or I/O error: %s)",
                           path, strerror(errno));
        emgmm_io_out_abort(o);
        return -1;
    }
    return emgmm_io_out_commit(o, err);
}
#else
int emgmm_io_model_h5_load(const char *path, emgmm_model **out, emgmm_io_model_file *mf,
                           emgmm_io_error *err)
{
    memset(mf, 0, sizeof *mf);
    *out = NULL;
    emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                       "model %s is HDF5, but this emgmm was built without HDF5", path);
    return -1;
}
int emgmm_io_model_h5_write(const char *path, const emgmm_model *model,
                            const emgmm_io_fit_info *info, emgmm_io_error *err)
{
    (void)model;
    (void)info;
    emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                       "cannot write %s: this emgmm was built without HDF5 (write .json)", path);
    return -1;
}
#endif

/* _emgmmc.c — the C extension under the emgmm Python package: a thin type,
 * _emgmmc.Model, over an emgmm_model from include/emgmm.h, with the numpy C API.
 *
 * - Data: a C-contiguous, aligned 2-D float64 or float32 array is handed to
 *   the library in place (no copy); anything else is rejected with TypeError
 *   (the Python layer converts once before calling).  float32 stays float32.
 * - The GIL is released around every call into the library.  The fit loop
 *   (init, iterate, converged) is driven one step per call from Python, so
 *   Ctrl-C is seen between iterations and the estimator is left as it was.
 * - Library failures raise _emgmmc.Error (a ValueError) carrying the status
 *   and the library's one-line message; out of memory raises MemoryError.
 * - Each Model has a lock, held only while the GIL is released (so a thread
 *   holding it never waits for the GIL): calls on one Model from several
 *   Python threads are serialised, as the library requires ("a model may be
 *   used by one thread at a time").
 * - save/load go through the tools' model-file reader/writer (tools/io), so
 *   the file is the CLI's and parameters round-trip bit for bit.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "emgmm.h"
#include "emgmm_io.h"

static PyObject *Error; /* _emgmmc.Error(ValueError), .status = the emgmm status */

typedef struct {
    PyObject_HEAD emgmm_model *m;
    PyThread_type_lock lock;
} ModelObject;

/* Runs STMT with the GIL released and the model's lock held. */
#define LOCKED(self, stmt)                                                                         \
    do {                                                                                           \
        Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock((self)->lock, WAIT_LOCK);                     \
        stmt;                                                                                      \
        PyThread_release_lock((self)->lock);                                                       \
        Py_END_ALLOW_THREADS                                                                       \
    } while (0)

/* Takes the lock (GIL released while waiting) and keeps it, with the GIL,
 * for work that builds Python objects; UNLOCK releases it. */
static void lock_model(PyThread_type_lock lock)
{
    if (PyThread_acquire_lock(lock, NOWAIT_LOCK)) return;
    Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
}
#define LOCK(self) lock_model((self)->lock)
#define UNLOCK(self) PyThread_release_lock((self)->lock)

static PyTypeObject ModelType;

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */
static PyObject *raise_status(int st, const emgmm_model *m)
{
    if (st == EMGMM_ERR_ALLOC) return PyErr_NoMemory();
    const char *detail = m ? emgmm_model_last_error(m) : "";
    PyObject *msg = (detail && *detail) ? PyUnicode_FromString(detail)
                                        : PyUnicode_FromString(emgmm_strerror(st));
    if (!msg) return NULL;
    PyObject *args = Py_BuildValue("(Oi)", msg, st);
    Py_DECREF(msg);
    if (!args) return NULL;
    PyObject *exc = PyObject_Call(Error, args, NULL);
    Py_DECREF(args);
    if (!exc) return NULL;
    PyObject *code = PyLong_FromLong(st);
    if (code) {
        PyObject_SetAttrString(exc, "status", code);
        Py_DECREF(code);
    }
    PyErr_SetObject(Error, exc);
    Py_DECREF(exc);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Arrays                                                                   */
/* ------------------------------------------------------------------------ */
/* X must be a 2-D C-contiguous aligned float64/float32 ndarray: used in
 * place.  Returns 0 and fills *d, or -1 with TypeError/ValueError set. */
static int as_data(PyObject *obj, emgmm_data *d, const char *what)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a numpy array", what);
        return -1;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_NDIM(a) != 2) {
        PyErr_Format(PyExc_ValueError, "%s must be 2-D, got %d-D", what, PyArray_NDIM(a));
        return -1;
    }
    if (!PyArray_ISCARRAY_RO(a) || !PyArray_ISNOTSWAPPED(a)) {
        PyErr_Format(PyExc_TypeError, "%s must be C-contiguous, aligned and in native byte order",
                     what);
        return -1;
    }
    const size_t n = (size_t)PyArray_DIM(a, 0), dd = (size_t)PyArray_DIM(a, 1);
    switch (PyArray_TYPE(a)) {
    case NPY_DOUBLE: *d = emgmm_data_f64((const double *)PyArray_DATA(a), n, dd, dd); return 0;
    case NPY_FLOAT: *d = emgmm_data_f32((const float *)PyArray_DATA(a), n, dd, dd); return 0;
    default: PyErr_Format(PyExc_TypeError, "%s must be float64 or float32", what); return -1;
    }
}

/* The one conversion of a caller's array-like to float64: C-contiguous,
 * aligned, native (PyArray_FROMANY copies only when the input is not so
 * already), of NDIM dimensions (0: any) and COUNT elements (0: any; a
 * mismatch is a ValueError naming WHAT).  Returns the data, *keep owning the
 * array until the caller drops it; NULL with an exception set. */
static const double *as_f64(PyObject *obj, int ndim, size_t count, const char *what,
                            PyObject **keep)
{
    *keep = NULL;
    PyObject *a = PyArray_FROMANY(obj, NPY_DOUBLE, ndim, ndim, NPY_ARRAY_IN_ARRAY);
    if (!a) return NULL;
    if (count && (size_t)PyArray_SIZE((PyArrayObject *)a) != count) {
        PyErr_Format(PyExc_ValueError, "%s has %zd values, expected %zu", what,
                     (Py_ssize_t)PyArray_SIZE((PyArrayObject *)a), count);
        Py_DECREF(a);
        return NULL;
    }
    *keep = a;
    return (const double *)PyArray_DATA((PyArrayObject *)a);
}

/* A new float64 array of the given shape copied from src. */
static PyObject *new_array(int nd, const npy_intp *dims, const double *src)
{
    PyObject *a = PyArray_SimpleNew(nd, (npy_intp *)dims, NPY_DOUBLE);
    if (!a) return NULL;
    size_t count = 1;
    for (int i = 0; i < nd; i++) count *= (size_t)dims[i];
    if (count && src) memcpy(PyArray_DATA((PyArrayObject *)a), src, count * sizeof(double));
    return a;
}

/* ------------------------------------------------------------------------ */
/* Params: a dict of emgmm_params fields (absent keys keep the defaults)      */
/* ------------------------------------------------------------------------ */
static int need(ModelObject *self);

static int params_from(PyObject *dict, emgmm_params *p)
{
    /* the fields a dict may set: doubles, then ints (the seed is uint64) */
    static const struct {
        const char *name;
        size_t off;
    } dfields[] = {{"tol", offsetof(emgmm_params, tol)},
                   {"reg_covar", offsetof(emgmm_params, reg_covar)},
                   {"kmeans_tol", offsetof(emgmm_params, kmeans_tol)},
                   {"var_floor", offsetof(emgmm_params, var_floor)},
                   {"inner_tol", offsetof(emgmm_params, inner_tol)}};
    static const struct {
        const char *name;
        size_t off;
    } ifields[] = {{"max_iter", offsetof(emgmm_params, max_iter)},
                   {"n_init", offsetof(emgmm_params, n_init)},
                   {"init", offsetof(emgmm_params, init)},
                   {"n_threads", offsetof(emgmm_params, n_threads)},
                   {"block_size", offsetof(emgmm_params, block_size)},
                   {"kmeans_max_iter", offsetof(emgmm_params, kmeans_max_iter)},
                   {"missing", offsetof(emgmm_params, missing)},
                   {"degenerate", offsetof(emgmm_params, degenerate)},
                   {"search_starts", offsetof(emgmm_params, search_starts)},
                   {"search_iter", offsetof(emgmm_params, search_iter)},
                   {"accel", offsetof(emgmm_params, accel)},
                   {"inner_max_iter", offsetof(emgmm_params, inner_max_iter)},
                   {"mclust_compat", offsetof(emgmm_params, mclust_compat)}};
    *p = emgmm_params_default();
    if (dict == Py_None) return 0;
    if (!PyDict_Check(dict)) {
        PyErr_SetString(PyExc_TypeError, "params must be a dict");
        return -1;
    }
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &key, &val)) {
        const char *k = PyUnicode_AsUTF8(key);
        if (!k) return -1;
        int found = 0;
        if (!strcmp(k, "seed")) {
            const unsigned long long uv = PyLong_AsUnsignedLongLong(val);
            if (uv == (unsigned long long)-1 && PyErr_Occurred()) return -1;
            p->seed = (uint64_t)uv;
            continue;
        }
        for (size_t f = 0; f < sizeof dfields / sizeof dfields[0] && !found; f++) {
            if (strcmp(k, dfields[f].name)) continue;
            const double dv = PyFloat_AsDouble(val);
            if (dv == -1.0 && PyErr_Occurred()) return -1;
            memcpy((char *)p + dfields[f].off, &dv, sizeof dv);
            found = 1;
        }
        for (size_t f = 0; f < sizeof ifields / sizeof ifields[0] && !found; f++) {
            if (strcmp(k, ifields[f].name)) continue;
            const long long lv = PyLong_AsLongLong(val);
            if (lv == -1 && PyErr_Occurred()) return -1;
            if (lv < INT32_MIN || lv > INT32_MAX) {
                PyErr_Format(PyExc_ValueError, "params['%s'] out of range", k);
                return -1;
            }
            const int iv = (int)lv;
            memcpy((char *)p + ifields[f].off, &iv, sizeof iv);
            found = 1;
        }
        if (!found) {
            PyErr_Format(PyExc_KeyError, "unknown params field '%s'", k);
            return -1;
        }
    }
    if (emgmm_params_validate(p) != EMGMM_OK) {
        PyErr_SetString(PyExc_ValueError, "invalid fit parameters (emgmm_params_validate)");
        return -1;
    }
    return 0;
}

/* The arguments every fitting method takes, (X, sample_weight, params), and
 * fit_init's (init_index, resp) after them, converted once: the data in
 * place, the weights and the responsibilities as float64 arrays the call
 * holds until fit_args_release. */
typedef struct {
    emgmm_data data;
    emgmm_params p;
    int init_index;
    PyObject *keep_w, *keep_r;
} fit_args;

static void fit_args_release(fit_args *a)
{
    Py_XDECREF(a->keep_w);
    Py_XDECREF(a->keep_r);
    a->keep_w = a->keep_r = NULL;
}

/* Returns 0, or -1 with an exception set and nothing held.  WITH_INIT: the
 * tuple is (X, sample_weight, params, init_index[, resp]). */
static int fit_args_parse(ModelObject *self, PyObject *args, int with_init, fit_args *a)
{
    PyObject *X, *sw, *pd, *resp = Py_None;
    memset(a, 0, sizeof *a);
    if (need(self)) return -1;
    if (with_init ? !PyArg_ParseTuple(args, "OOOi|O", &X, &sw, &pd, &a->init_index, &resp)
                  : !PyArg_ParseTuple(args, "OOO", &X, &sw, &pd))
        return -1;
    if (as_data(X, &a->data, "X") || params_from(pd, &a->p)) return -1;
    if (sw != Py_None && !(a->data.weights = as_f64(sw, 1, a->data.n, "sample_weight", &a->keep_w)))
        return -1;
    if (resp != Py_None) {
        const size_t K = (size_t)emgmm_model_n_components(self->m);
        if (!(a->p.init_resp = as_f64(resp, 2, a->data.n * K, "resp", &a->keep_r))) {
            fit_args_release(a);
            return -1;
        }
        a->p.init = EMGMM_INIT_RESP;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Model                                                                    */
/* ------------------------------------------------------------------------ */
static ModelObject *wrap(emgmm_model *m)
{
    ModelObject *o = PyObject_New(ModelObject, &ModelType);
    if (!o) {
        emgmm_model_free(m);
        return NULL;
    }
    o->m = m;
    o->lock = PyThread_allocate_lock();
    if (!o->lock) {
        Py_DECREF(o);
        return (ModelObject *)PyErr_NoMemory();
    }
    return o;
}

static int Model_init(ModelObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"n_components", "n_features", "covariance_type", NULL};
    int K, d, ct;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "iii", kwlist, &K, &d, &ct)) return -1;
    emgmm_model *m = NULL;
    int st = emgmm_model_create(&m, K, d, ct);
    if (st) {
        raise_status(st, NULL);
        return -1;
    }
    if (!self->lock && !(self->lock = PyThread_allocate_lock())) {
        emgmm_model_free(m);
        PyErr_NoMemory();
        return -1;
    }
    LOCK(self);
    emgmm_model_free(self->m);
    self->m = m;
    UNLOCK(self);
    return 0;
}

static void Model_dealloc(ModelObject *self)
{
    emgmm_model_free(self->m);
    if (self->lock) PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int need(ModelObject *self)
{
    if (!self->m || !self->lock) {
        PyErr_SetString(PyExc_RuntimeError, "uninitialised Model");
        return -1;
    }
    return 0;
}

static PyObject *Model_copy(ModelObject *self, PyObject *noargs)
{
    (void)noargs;
    if (need(self)) return NULL;
    emgmm_model *c = NULL;
    int st;
    LOCKED(self, st = emgmm_model_copy(&c, self->m));
    if (st) return raise_status(st, self->m);
    return (PyObject *)wrap(c);
}

static PyObject *Model_set_parameters(ModelObject *self, PyObject *args)
{
    PyObject *w, *mu, *cov, *kw = NULL, *km = NULL, *kc = NULL;
    if (need(self) || !PyArg_ParseTuple(args, "OOO", &w, &mu, &cov)) return NULL;
    const size_t K = (size_t)emgmm_model_n_components(self->m),
                 d = (size_t)emgmm_model_n_features(self->m);
    const double *pw = as_f64(w, 0, K, "weights", &kw);
    const double *pm = pw ? as_f64(mu, 0, K * d, "means", &km) : NULL;
    const double *pc =
        pm ? as_f64(cov, 0, emgmm_model_covariances_size(self->m), "covariances", &kc) : NULL;
    int st = -1;
    if (pc) LOCKED(self, st = emgmm_model_set_parameters(self->m, pw, pm, pc));
    Py_XDECREF(kw);
    Py_XDECREF(km);
    Py_XDECREF(kc);
    if (st < 0) return NULL;
    if (st) return raise_status(st, self->m);
    Py_RETURN_NONE;
}

static PyObject *Model_set_fit_state(ModelObject *self, PyObject *args)
{
    PyObject *lbs, *keep = NULL;
    int converged;
    if (need(self) || !PyArg_ParseTuple(args, "Op", &lbs, &converged)) return NULL;
    const double *lb = as_f64(lbs, 1, 0, "lower_bounds", &keep);
    if (!lb) return NULL;
    const int n = (int)PyArray_DIM((PyArrayObject *)keep, 0);
    int st;
    LOCKED(self, st = emgmm_model_set_fit_state(self->m, lb, n, converged));
    Py_DECREF(keep);
    if (st) return raise_status(st, self->m);
    Py_RETURN_NONE;
}

/* fit_init(X, sample_weight, params, init_index[, resp]): resp [n][K] (not
 * None) starts from an M-step from those responsibilities (EMGMM_INIT_RESP) */
static PyObject *Model_fit_init(ModelObject *self, PyObject *args)
{
    fit_args a;
    if (fit_args_parse(self, args, 1, &a)) return NULL;
    int st;
    LOCKED(self, st = emgmm_fit_init_at(self->m, &a.p, &a.data, a.init_index));
    fit_args_release(&a);
    if (st) return raise_status(st, self->m);
    Py_RETURN_NONE;
}

/* iterate(X, sample_weight, params) -> lower bound of this iteration */
static PyObject *Model_iterate(ModelObject *self, PyObject *args)
{
    fit_args a;
    if (fit_args_parse(self, args, 0, &a)) return NULL;
    int st;
    double lb = 0;
    LOCKED(self, st = emgmm_fit_iterate(self->m, &a.p, &a.data, &lb));
    fit_args_release(&a);
    if (st) return raise_status(st, self->m);
    return PyFloat_FromDouble(lb);
}

/* run(X, sample_weight, params) -> converged: the iterations of one
 * initialisation after fit_init, in C with the GIL released, taking the GIL
 * back only between iterations to poll for signals (Ctrl-C).  Returns None
 * (with KeyboardInterrupt set) when interrupted. */
static PyObject *Model_run(ModelObject *self, PyObject *args)
{
    fit_args a;
    if (fit_args_parse(self, args, 0, &a)) return NULL;
    int st = EMGMM_OK, conv = 0;
    int more = 1;
    while (more) {
        LOCKED(self, {
            if (emgmm_model_n_iter(self->m) >= a.p.max_iter)
                more = 0;
            else {
                st = emgmm_fit_iterate(self->m, &a.p, &a.data, NULL);
                if (st == EMGMM_OK) conv = emgmm_fit_converged(self->m, a.p.tol);
            }
        });
        if (!more || st || conv) break;
        if (PyErr_CheckSignals() < 0) {
            fit_args_release(&a);
            return NULL;
        }
    }
    fit_args_release(&a);
    if (st) return raise_status(st, self->m);
    return PyBool_FromLong(conv);
}

static PyObject *Model_converged_test(ModelObject *self, PyObject *args)
{
    double tol;
    int c;
    if (need(self) || !PyArg_ParseTuple(args, "d", &tol)) return NULL;
    LOCKED(self, c = emgmm_fit_converged(self->m, tol));
    return PyBool_FromLong(c);
}

/* fit(X, sample_weight, params): emgmm_fit in one call (no Ctrl-C). */
static PyObject *Model_fit(ModelObject *self, PyObject *args)
{
    fit_args a;
    if (fit_args_parse(self, args, 0, &a)) return NULL;
    int st;
    LOCKED(self, st = emgmm_fit(self->m, &a.p, &a.data));
    fit_args_release(&a);
    if (st) return raise_status(st, self->m);
    Py_RETURN_NONE;
}

/* icl(X) -> ICL in the sign of BIC (emgmm_icl) */
static PyObject *Model_icl(ModelObject *self, PyObject *args)
{
    PyObject *X;
    emgmm_data data;
    if (need(self) || !PyArg_ParseTuple(args, "O", &X) || as_data(X, &data, "X")) return NULL;
    double v = 0;
    int st;
    LOCKED(self, st = emgmm_icl(self->m, &data, &v));
    if (st) return raise_status(st, self->m);
    return PyFloat_FromDouble(v);
}

enum {
    OP_PREDICT,
    OP_PROBA,
    OP_SCORE_SAMPLES
};

static PyObject *apply(ModelObject *self, PyObject *args, int op)
{
    PyObject *X;
    emgmm_data data;
    if (need(self) || !PyArg_ParseTuple(args, "O", &X) || as_data(X, &data, "X")) return NULL;
    const npy_intp n = (npy_intp)data.n,
                   K = emgmm_model_n_components(self->m); /* fixed at creation */
    PyObject *out;
    if (op == OP_PREDICT)
        out = PyArray_SimpleNew(1, &n, NPY_INT32);
    else if (op == OP_PROBA) {
        npy_intp dims[2] = {n, K};
        out = PyArray_SimpleNew(2, dims, NPY_DOUBLE);
    } else
        out = PyArray_SimpleNew(1, &n, NPY_DOUBLE);
    if (!out) return NULL;
    void *buf = PyArray_DATA((PyArrayObject *)out);
    int st;
    LOCKED(self, {
        if (op == OP_PREDICT)
            st = emgmm_predict(self->m, &data, (int32_t *)buf);
        else if (op == OP_PROBA)
            st = emgmm_predict_proba(self->m, &data, (double *)buf);
        else
            st = emgmm_score_samples(self->m, &data, (double *)buf);
    });
    if (st) {
        Py_DECREF(out);
        return raise_status(st, self->m);
    }
    return out;
}

static PyObject *Model_predict(ModelObject *s, PyObject *a) { return apply(s, a, OP_PREDICT); }
static PyObject *Model_predict_proba(ModelObject *s, PyObject *a) { return apply(s, a, OP_PROBA); }
static PyObject *Model_score_samples(ModelObject *s, PyObject *a)
{
    return apply(s, a, OP_SCORE_SAMPLES);
}

/* sample(n, seed) -> (X[n][d], comp[n]) */
static PyObject *Model_sample(ModelObject *self, PyObject *args)
{
    Py_ssize_t n;
    unsigned long long seed;
    if (need(self) || !PyArg_ParseTuple(args, "nK", &n, &seed)) return NULL;
    if (n < 1) {
        PyErr_Format(PyExc_ValueError, "n_samples must be >= 1, got %zd", n);
        return NULL;
    }
    npy_intp dims[2] = {n, emgmm_model_n_features(self->m)}, n1 = n;
    PyObject *x = PyArray_SimpleNew(2, dims, NPY_DOUBLE);
    PyObject *c = x ? PyArray_SimpleNew(1, &n1, NPY_INT32) : NULL;
    if (!c) {
        Py_XDECREF(x);
        return NULL;
    }
    int st;
    double *xb = (double *)PyArray_DATA((PyArrayObject *)x);
    int32_t *cb = (int32_t *)PyArray_DATA((PyArrayObject *)c);
    LOCKED(self, st = emgmm_sample(self->m, (size_t)n, (uint64_t)seed, xb, cb));
    if (st) {
        Py_DECREF(x);
        Py_DECREF(c);
        return raise_status(st, self->m);
    }
    return Py_BuildValue("(NN)", x, c);
}

/* impute(X, draws, seed) -> new float64 array */
static PyObject *Model_impute(ModelObject *self, PyObject *args)
{
    PyObject *X;
    int draws;
    unsigned long long seed;
    emgmm_data data;
    if (need(self) || !PyArg_ParseTuple(args, "OpK", &X, &draws, &seed) || as_data(X, &data, "X"))
        return NULL;
    npy_intp dims[2] = {(npy_intp)data.n, (npy_intp)data.d};
    PyObject *out = PyArray_SimpleNew(2, dims, NPY_DOUBLE);
    if (!out) return NULL;
    int st;
    double *ob = (double *)PyArray_DATA((PyArrayObject *)out);
    LOCKED(self, st = emgmm_impute(self->m, &data, draws, (uint64_t)seed, 0, ob));
    if (st) {
        Py_DECREF(out);
        return raise_status(st, self->m);
    }
    return out;
}

static PyObject *Model_set_missing(ModelObject *self, PyObject *args)
{
    int pol;
    if (need(self) || !PyArg_ParseTuple(args, "i", &pol)) return NULL;
    int st;
    LOCKED(self, st = emgmm_model_set_missing(self->m, pol));
    if (st) return raise_status(st, self->m);
    Py_RETURN_NONE;
}

static PyObject *Model_set_n_threads(ModelObject *self, PyObject *args)
{
    int t;
    if (need(self) || !PyArg_ParseTuple(args, "i", &t)) return NULL;
    LOCKED(self, emgmm_model_set_n_threads(self->m, t));
    Py_RETURN_NONE;
}

static PyObject *state_locked(const emgmm_model *m);

/* The parameters and fit report as a dict of new arrays / numbers. */
static PyObject *Model_state(ModelObject *self, PyObject *noargs)
{
    (void)noargs;
    if (need(self)) return NULL;
    LOCK(self);
    PyObject *r = state_locked(self->m);
    UNLOCK(self);
    return r;
}

static PyObject *state_locked(const emgmm_model *m)
{
    const npy_intp K = emgmm_model_n_components(m), d = emgmm_model_n_features(m);
    const int ct = emgmm_model_covariance_type(m);
    npy_intp cdims[3];
    int cnd;
    switch (ct) {
    case EMGMM_COV_FULL:
        cnd = 3;
        cdims[0] = K;
        cdims[1] = d;
        cdims[2] = d;
        break;
    case EMGMM_COV_TIED:
        cnd = 2;
        cdims[0] = d;
        cdims[1] = d;
        break;
    case EMGMM_COV_DIAG:
        cnd = 2;
        cdims[0] = K;
        cdims[1] = d;
        break;
    default:
        cnd = 1;
        cdims[0] = K;
        break;
    }
    npy_intp md[2] = {K, d};
    int nlb = 0;
    const double *lbs = emgmm_model_lower_bounds(m, &nlb);
    npy_intp nl = nlb;
    const int fitted = emgmm_model_is_fitted(m);
    int inner_fail = 0, inner_max = 0;
    emgmm_model_inner_report(m, &inner_fail, &inner_max);
    return Py_BuildValue(
        "{s:i,s:i,s:i,s:L,s:i,s:i,s:N,s:N,s:N,s:N,s:O,s:i,s:d,s:N,s:i,s:i,s:l}", "fitted", fitted,
        "covariance_type", ct, "structure", emgmm_model_structure(m), "n_passes",
        emgmm_model_n_passes(m), "inner_failures", inner_fail, "inner_max_iter", inner_max,
        "weights", new_array(1, &K, fitted ? emgmm_model_weights(m) : NULL), "means",
        new_array(2, md, fitted ? emgmm_model_means(m) : NULL), "covariances",
        new_array(cnd, cdims, fitted ? emgmm_model_covariances(m) : NULL), "precisions_cholesky",
        new_array(cnd, cdims, fitted ? emgmm_model_precisions_cholesky(m) : NULL), "converged",
        emgmm_model_converged(m) ? Py_True : Py_False, "n_iter", emgmm_model_n_iter(m),
        "lower_bound", emgmm_model_lower_bound(m), "lower_bounds", new_array(1, &nl, lbs),
        "n_reseeds", emgmm_model_n_reseeds(m), "best_init", emgmm_model_best_init(m),
        "n_parameters", emgmm_model_n_parameters(m));
}

/* save(path, params_or_None): the CLI's model file, via tools/io. */
static PyObject *Model_save(ModelObject *self, PyObject *args)
{
    PyObject *pathobj, *pd;
    if (need(self) || !PyArg_ParseTuple(args, "O&O", PyUnicode_FSConverter, &pathobj, &pd))
        return NULL;
    emgmm_io_fit_info info = {0};
    if (pd != Py_None) {
        if (params_from(pd, &info.params)) {
            Py_DECREF(pathobj);
            return NULL;
        }
        info.has_params = 1;
    }
    emgmm_io_error err = {0};
    int st;
    const char *path = PyBytes_AS_STRING(pathobj);
    LOCKED(self, st = emgmm_io_model_write(path, self->m, &info, &err));
    Py_DECREF(pathobj);
    if (st) {
        if (err.code == EMGMM_IO_ENOMEM) return PyErr_NoMemory();
        PyErr_SetString(PyExc_OSError, err.msg[0] ? err.msg : "cannot write the model file");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* load(path) -> (Model, {converged, n_iter, lower_bound or None}) */
static PyObject *mod_load(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *pathobj;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &pathobj)) return NULL;
    emgmm_io_model_file mf;
    memset(&mf, 0, sizeof mf);
    emgmm_io_error err = {0};
    int st;
    const char *path = PyBytes_AS_STRING(pathobj);
    emgmm_model *m = NULL;
    Py_BEGIN_ALLOW_THREADS st = emgmm_io_model_load(path, &m, &mf, &err);
    Py_END_ALLOW_THREADS Py_DECREF(pathobj);
    if (st) {
        if (err.code == EMGMM_IO_ENOMEM) return PyErr_NoMemory();
        PyErr_SetString(Error, err.msg[0] ? err.msg : "cannot read the model file");
        return NULL;
    }
    PyObject *lb = mf.has_lower_bound ? PyFloat_FromDouble(mf.lower_bound) : Py_NewRef(Py_None);
    PyObject *info = Py_BuildValue("{s:O,s:i,s:N}", "converged",
                                   (mf.has_converged && mf.converged) ? Py_True : Py_False,
                                   "n_iter", mf.has_n_iter ? mf.n_iter : 0, "lower_bound", lb);
    emgmm_io_model_file_free(&mf);
    if (!info) {
        emgmm_model_free(m);
        return NULL;
    }
    ModelObject *o = wrap(m);
    if (!o) {
        Py_DECREF(info);
        return NULL;
    }
    return Py_BuildValue("(NN)", (PyObject *)o, info);
}

static PyMethodDef Model_methods[] = {
    {"copy", (PyCFunction)Model_copy, METH_NOARGS, "copy() -> a deep copy"},
    {"set_parameters", (PyCFunction)Model_set_parameters, METH_VARARGS,
     "set_parameters(weights, means, covariances)"},
    {"set_fit_state", (PyCFunction)Model_set_fit_state, METH_VARARGS,
     "set_fit_state(lower_bounds, converged)"},
    {"fit_init", (PyCFunction)Model_fit_init, METH_VARARGS,
     "fit_init(X, sample_weight, params, init_index[, resp])"},
    {"iterate", (PyCFunction)Model_iterate, METH_VARARGS,
     "iterate(X, sample_weight, params) -> lower bound"},
    {"run", (PyCFunction)Model_run, METH_VARARGS,
     "run(X, sample_weight, params) -> converged (interruptible)"},
    {"converged", (PyCFunction)Model_converged_test, METH_VARARGS, "converged(tol) -> bool"},
    {"fit", (PyCFunction)Model_fit, METH_VARARGS, "fit(X, sample_weight, params): emgmm_fit"},
    {"icl", (PyCFunction)Model_icl, METH_VARARGS, "icl(X) -> ICL (lower is better)"},
    {"predict", (PyCFunction)Model_predict, METH_VARARGS, "predict(X) -> int32 labels"},
    {"predict_proba", (PyCFunction)Model_predict_proba, METH_VARARGS, "predict_proba(X)"},
    {"score_samples", (PyCFunction)Model_score_samples, METH_VARARGS, "score_samples(X)"},
    {"sample", (PyCFunction)Model_sample, METH_VARARGS, "sample(n, seed) -> (X, components)"},
    {"impute", (PyCFunction)Model_impute, METH_VARARGS, "impute(X, draws, seed)"},
    {"set_missing", (PyCFunction)Model_set_missing, METH_VARARGS, "set_missing(policy)"},
    {"set_n_threads", (PyCFunction)Model_set_n_threads, METH_VARARGS, "set_n_threads(n)"},
    {"state", (PyCFunction)Model_state, METH_NOARGS,
     "state() -> dict of parameters and fit report"},
    {"save", (PyCFunction)Model_save, METH_VARARGS, "save(path, params or None)"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "emgmm._emgmmc.Model",
    .tp_basicsize = sizeof(ModelObject),
    .tp_dealloc = (destructor)Model_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Model(n_components, n_features, covariance_type): an emgmm_model",
    .tp_methods = Model_methods,
    .tp_init = (initproc)Model_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------------------ */
/* Module functions                                                         */
/* ------------------------------------------------------------------------ */
/* The address the library would read X from (for the no-copy tests). */
static PyObject *mod_data_pointer(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *X;
    emgmm_data data;
    if (!PyArg_ParseTuple(args, "O", &X) || as_data(X, &data, "X")) return NULL;
    return PyLong_FromVoidPtr((void *)data.x);
}

static PyObject *mod_blas_info(PyObject *mod, PyObject *noargs)
{
    (void)mod;
    (void)noargs;
    const char *core = emgmm_blas_corename(), *cfg = emgmm_blas_config();
    const char *sug = emgmm_blas_suggested_coretype();
    return Py_BuildValue("{s:s,s:s,s:z,s:i,s:i}", "corename", core ? core : "unknown", "config",
                         cfg ? cfg : "", "suggested_coretype", sug, "default_threads",
                         emgmm_default_threads(), "openmp", emgmm_have_openmp());
}

static PyObject *mod_version(PyObject *mod, PyObject *noargs)
{
    (void)mod;
    (void)noargs;
    return PyUnicode_FromString(emgmm_version_string());
}

static PyMethodDef mod_methods[] = {
    {"load", mod_load, METH_VARARGS, "load(path) -> (Model, info)"},
    {"data_pointer", mod_data_pointer, METH_VARARGS, "data_pointer(X) -> the address used"},
    {"blas_info", mod_blas_info, METH_NOARGS, "blas_info() -> dict"},
    {"version", mod_version, METH_NOARGS, "version() -> the linked library's version"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT,
                                    "_emgmmc",
                                    "C extension over libemgmm (include/emgmm.h)",
                                    -1,
                                    mod_methods,
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL};

PyMODINIT_FUNC PyInit__emgmmc(void)
{
    import_array();
    if (PyType_Ready(&ModelType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m) return NULL;
    Error = PyErr_NewExceptionWithDoc(
        "emgmm._emgmmc.Error",
        "A failure reported by libemgmm (attribute status: the emgmm status code)",
        PyExc_ValueError, NULL);
    if (!Error || PyModule_AddObjectRef(m, "Error", Error) < 0 ||
        PyModule_AddObjectRef(m, "Model", (PyObject *)&ModelType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    struct {
        const char *name;
        int v;
    } consts[] = {
        {"COV_FULL", EMGMM_COV_FULL},
        {"COV_TIED", EMGMM_COV_TIED},
        {"COV_DIAG", EMGMM_COV_DIAG},
        {"COV_SPHERICAL", EMGMM_COV_SPHERICAL},
        {"INIT_KMEANS", EMGMM_INIT_KMEANS},
        {"INIT_KMEANSPP", EMGMM_INIT_KMEANSPP},
        {"INIT_RANDOM", EMGMM_INIT_RANDOM},
        {"INIT_RANDOM_FROM_DATA", EMGMM_INIT_RANDOM_FROM_DATA},
        {"INIT_USER", EMGMM_INIT_USER},
        {"INIT_EMEM", EMGMM_INIT_EMEM},
        {"INIT_SMEM", EMGMM_INIT_SMEM},
        {"INIT_RESP", EMGMM_INIT_RESP},
        {"ACCEL_NONE", EMGMM_ACCEL_NONE},
        {"ACCEL_SQUAREM", EMGMM_ACCEL_SQUAREM},
        {"ACCEL_ANDERSON", EMGMM_ACCEL_ANDERSON},
        {"MISSING_ERROR", EMGMM_MISSING_ERROR},
        {"MISSING_NAN", EMGMM_MISSING_NAN},
        {"MISSING_DROP_EMPTY", EMGMM_MISSING_DROP_EMPTY},
        {"DEGEN_ERROR", EMGMM_DEGEN_ERROR},
        {"DEGEN_RESEED", EMGMM_DEGEN_RESEED},
        {"ERR_NONFINITE", EMGMM_ERR_NONFINITE},
        {"ERR_SHAPE", EMGMM_ERR_SHAPE},
        {"ERR_NOT_FITTED", EMGMM_ERR_NOT_FITTED},
    };
    for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
        if (PyModule_AddIntConstant(m, consts[i].name, consts[i].v) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    /* STRUCTURES: {mclust name: (value, storage value)} for all fourteen */
    PyObject *structs = PyDict_New();
    for (int ct = 0; structs && ct < EMGMM_N_COV_TYPES; ct++) {
        PyObject *v = Py_BuildValue("(ii)", ct, emgmm_covariance_storage(ct));
        if (!v || PyDict_SetItemString(structs, emgmm_mclust_model_name(ct), v) < 0)
            Py_CLEAR(structs);
        Py_XDECREF(v);
    }
    if (!structs || PyModule_AddObject(m, "STRUCTURES", structs) < 0) {
        Py_XDECREF(structs);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

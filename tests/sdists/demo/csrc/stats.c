/* wasidemo.num._stats: parsing and floating-point statistics. */
#include "common.h"
#include <math.h>

static PyObject *parse_floats(PyObject *self, PyObject *arg) {
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(arg, &len);
    if (!text)
        return NULL;
    double *vals;
    Py_ssize_t n;
    if (wasidemo_parse_numbers(text, len, &vals, &n) < 0)
        return NULL;
    PyObject *list = PyList_New(n);
    if (list) {
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *f = PyFloat_FromDouble(vals[i]);
            if (!f) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, i, f);
        }
    }
    PyMem_Free(vals);
    return list;
}

/* Welford's online mean and (sample) standard deviation. */
static PyObject *mean_std(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "mean_std() needs a sequence of numbers");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n < 2) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "mean_std() needs at least two values");
        return NULL;
    }
    double mean = 0.0, m2 = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        double x = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, i));
        if (x == -1.0 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return NULL;
        }
        double delta = x - mean;
        mean += delta / (double)(i + 1);
        m2 += delta * (x - mean);
    }
    Py_DECREF(seq);
    return Py_BuildValue("(dd)", mean, sqrt(m2 / (double)(n - 1)));
}

/* Composite trapezoid rule for sin(x) * exp(-x / 4) on [a, b] with n steps. */
static PyObject *integrate(PyObject *self, PyObject *args) {
    double a, b;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "ddn", &a, &b, &n))
        return NULL;
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "integrate() needs n >= 1");
        return NULL;
    }
    double h = (b - a) / (double)n;
    double s = 0.5 * (sin(a) * exp(-a / 4.0) + sin(b) * exp(-b / 4.0));
    for (Py_ssize_t i = 1; i < n; i++) {
        double x = a + (double)i * h;
        s += sin(x) * exp(-x / 4.0);
    }
    return PyFloat_FromDouble(s * h);
}

static PyMethodDef methods[] = {
    {"parse_floats", parse_floats, METH_O, "parse_floats(text) -> list[float]: numbers separated by commas/whitespace."},
    {"mean_std", mean_std, METH_O, "mean_std(values) -> (mean, sample std): Welford's algorithm."},
    {"integrate", integrate, METH_VARARGS, "integrate(a, b, n) -> float: trapezoid rule for sin(x)*exp(-x/4)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_stats", "Statistics in C.", -1, methods};

PyMODINIT_FUNC PyInit__stats(void) { return PyModule_Create(&module); }

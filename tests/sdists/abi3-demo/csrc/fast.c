/* abi3demo._fast: only limited-API calls (Py_LIMITED_API is defined by the build). */
#include <Python.h>

#ifndef Py_LIMITED_API
#error "the build must define Py_LIMITED_API for py-limited-api"
#endif

/* dot(a, b): the dot product of two equally long sequences of floats. */
static PyObject *dot(PyObject *self, PyObject *args) {
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "OO", &a, &b))
        return NULL;
    Py_ssize_t n = PySequence_Size(a);
    if (n < 0 || PySequence_Size(b) != n) {
        PyErr_SetString(PyExc_ValueError, "dot() needs two sequences of the same length");
        return NULL;
    }
    double s = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = PySequence_GetItem(a, i), *y = PySequence_GetItem(b, i);
        double xv = x ? PyFloat_AsDouble(x) : -1.0, yv = y ? PyFloat_AsDouble(y) : -1.0;
        Py_XDECREF(x);
        Py_XDECREF(y);
        if (PyErr_Occurred())
            return NULL;
        s += xv * yv;
    }
    return PyFloat_FromDouble(s);
}

/* djb2(data): Bernstein's 32-bit string hash of a bytes object. */
static PyObject *djb2(PyObject *self, PyObject *arg) {
    char *p;
    Py_ssize_t n;
    if (PyBytes_AsStringAndSize(arg, &p, &n) < 0)
        return NULL;
    unsigned long h = 5381;
    for (Py_ssize_t i = 0; i < n; i++)
        h = ((h << 5) + h + (unsigned char)p[i]) & 0xFFFFFFFFul;
    return PyLong_FromUnsignedLong(h);
}

static PyMethodDef methods[] = {
    {"dot", dot, METH_VARARGS, "dot(a, b) -> float"},
    {"djb2", djb2, METH_O, "djb2(data: bytes) -> int"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fast", "Limited-API helpers.", 0, methods};

PyMODINIT_FUNC PyInit__fast(void) { return PyModuleDef_Init(&module); }

/* beta._speedups: transform(n) = helper(n) and name() = flavour, both from helper.c. */
/* Alike on purpose with speedups-alpha and -twin: same leaf name, same global symbols (tests/test_symbols.py). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int helper(int x);
extern const char *flavour;

static PyObject *transform(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLong(helper((int)n));
}

static PyObject *name(PyObject *self, PyObject *unused) {
    return PyUnicode_FromString(flavour);
}

static PyMethodDef methods[] = {
    {"transform", transform, METH_O, "helper(n)"},
    {"name", name, METH_NOARGS, "which sample this is"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "beta._speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    return PyModule_Create(&module);
}

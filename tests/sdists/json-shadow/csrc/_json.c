/* shadowpkg._json: not CPython's _json; origin() says whose module it is. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A global with a common name (the speedups samples define one too). */
int helper(int x) { return x + 1000; }

static PyObject *origin(PyObject *self, PyObject *unused) {
    return PyUnicode_FromFormat("shadowpkg._json %d", helper(0));
}

static PyMethodDef methods[] = {
    {"origin", origin, METH_NOARGS, "which module this is"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "shadowpkg._json", NULL, -1, methods};

PyMODINIT_FUNC PyInit__json(void) {
    return PyModule_Create(&module);
}

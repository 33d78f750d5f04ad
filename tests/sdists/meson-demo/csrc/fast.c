/* A foreign-backend sample extension: `answer` is a METH_NOARGS function
   declared with one parameter and cast to PyCFunction (as much real code
   does), which traps on WebAssembly unless wasiwheel repairs the cast. */
/* Alike on purpose with cmake-demo's fast.c: one extension through two foreign backends (tests/test_foreign.py). */
#include <Python.h>

static PyObject *answer(PyObject *self) { return PyLong_FromLong(42); }

static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {
    {"answer", (PyCFunction)answer, METH_NOARGS, "42."},
    {"add", add, METH_VARARGS, "a + b."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fast", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fast(void) { return PyModule_Create(&module); }

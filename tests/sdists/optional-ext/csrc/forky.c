#include <Python.h>
#include <unistd.h>

/* fork() exists natively; wasi-libc has no processes, so this does not compile for WASI. */
static PyObject *spawn(PyObject *self, PyObject *unused) { return PyLong_FromLong((long)fork()); }

static PyMethodDef methods[] = {{"spawn", spawn, METH_NOARGS, "fork()."}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_forky", NULL, -1, methods};

PyMODINIT_FUNC PyInit__forky(void) { return PyModule_Create(&module); }

/* cxxehdemo._jumps: C that recovers from errors with setjmp/longjmp, as
 * libpng, libjpeg and Lua do: a longjmp from a nested call back to the
 * caller's setjmp, and a setjmp inside another. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <setjmp.h>

static jmp_buf *current; /* where fail() jumps to */
static int visited;      /* frames entered before the jump */

static void fail(int code) { longjmp(*current, code); }

static int parse_digit(char c, int position) {
    visited++;
    if (c < '0' || c > '9') fail(position + 1);
    return c - '0';
}

static int sum_digits(const char *s, int position) {
    visited++;
    if (!*s) return 0;
    int d = parse_digit(*s, position);
    return d + sum_digits(s + 1, position + 1);
}

/* recover(s) -> (sum of the digits or None, 1-based position of the first
 * non-digit or 0, frames entered) */
static PyObject *recover(PyObject *self, PyObject *args) {
    const char *s;
    if (!PyArg_ParseTuple(args, "s", &s)) return NULL;
    jmp_buf env;
    jmp_buf *saved = current;
    volatile int sum = 0;
    current = &env;
    visited = 0;
    int code = setjmp(env);
    if (code == 0) sum = sum_digits(s, 0);
    current = saved;
    if (code) return Py_BuildValue("(Oii)", Py_None, code, visited);
    return Py_BuildValue("(iii)", sum, 0, visited);
}

/* nested() -> (inner, outer): longjmp to an inner setjmp with 7, then to the
 * outer one with 0, which setjmp returns as 1 (C11 7.13.2.1) */
static PyObject *nested(PyObject *self, PyObject *unused) {
    jmp_buf outer, inner;
    volatile int inner_code = 0;
    int outer_code = setjmp(outer);
    if (outer_code == 0) {
        int code = setjmp(inner);
        if (code == 0) longjmp(inner, 7);
        inner_code = code;
        longjmp(outer, 0);
    }
    return Py_BuildValue("(ii)", inner_code, outer_code);
}

static PyMethodDef methods[] = {
    {"recover", recover, METH_VARARGS, "Sum the digits of a string; recover from a non-digit with longjmp."},
    {"nested", nested, METH_NOARGS, "Jump to an inner setjmp, then to an outer one."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jumps", NULL, 0, methods};

PyMODINIT_FUNC PyInit__jumps(void) { return PyModule_Create(&module); }

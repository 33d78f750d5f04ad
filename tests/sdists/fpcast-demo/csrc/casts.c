/* Callbacks in the style many C extensions use: declared with fewer
 * parameters than CPython calls them with, and cast to the table's type.
 * Natively the extra arguments are ignored; on WebAssembly each call through
 * such a pointer traps unless wasiwheel's cast repair adapts it. The `_ok`
 * twins have the right signatures and serve as the reference. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyObject_HEAD
    long value;
} CounterObject;

/* METH_NOARGS with one parameter: CPython passes two. */
static PyObject *counter_bump(CounterObject *self) {
    self->value++;
    Py_RETURN_NONE;
}

static PyObject *counter_bump_ok(PyObject *self, PyObject *Py_UNUSED(unused)) {
    ((CounterObject *)self)->value++;
    Py_RETURN_NONE;
}

/* METH_VARARGS | METH_KEYWORDS: three parameters cast to the two-parameter
 * PyCFunction; CPython casts it back before calling, so it must stay as is. */
static PyObject *counter_add(CounterObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"amount", NULL};
    long amount = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|l", kwlist, &amount)) {
        return NULL;
    }
    self->value += amount;
    return PyLong_FromLong(self->value);
}

/* A getter and a setter without their `void *closure`. */
static PyObject *counter_get_value(CounterObject *self) {
    return PyLong_FromLong(self->value);
}

static int counter_set_value(CounterObject *self, PyObject *v) {
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred()) {
        return -1;
    }
    self->value = x;
    return 0;
}

static PyObject *counter_get_value_ok(PyObject *self, void *Py_UNUSED(closure)) {
    return PyLong_FromLong(((CounterObject *)self)->value);
}

static PyObject *counter_twice(CounterObject *self) {
    /* A direct call of a function that is also cast elsewhere. */
    PyObject *r = counter_get_value(self);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    return PyLong_FromLong(2 * self->value);
}

static PyMethodDef counter_methods[] = {
    {"bump", (PyCFunction)counter_bump, METH_NOARGS, "add one"},
    {"bump_ok", counter_bump_ok, METH_NOARGS, "add one (right signature)"},
    {"add", (PyCFunction)(void (*)(void))counter_add, METH_VARARGS | METH_KEYWORDS, "add an amount"},
    {"twice", (PyCFunction)&counter_twice, METH_NOARGS, "twice the value"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef counter_getset[] = {
    {"value", (getter)counter_get_value, (setter)counter_set_value, "the value", NULL},
    {"value_ok", counter_get_value_ok, NULL, "the value (right signature)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject CounterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fpcastdemo._casts.Counter",
    .tp_basicsize = sizeof(CounterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a counter",
    .tp_new = PyType_GenericNew,
    .tp_methods = counter_methods,
    .tp_getset = counter_getset,
};

/* A module-level METH_NOARGS function cast through void (*)(void). */
static PyObject *answer(PyObject *module) {
    return PyLong_FromLong(42);
}

static PyObject *answer_ok(PyObject *module, PyObject *Py_UNUSED(unused)) {
    return PyLong_FromLong(42);
}

static PyMethodDef module_methods[] = {
    {"answer", (PyCFunction)(void (*)(void))answer, METH_NOARGS, "42"},
    {"answer_ok", answer_ok, METH_NOARGS, "42 (right signature)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef casts_module = {
    PyModuleDef_HEAD_INIT, "fpcastdemo._casts", "cast-repair sample", -1, module_methods,
};

PyMODINIT_FUNC PyInit__casts(void) {
    if (PyType_Ready(&CounterType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&casts_module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&CounterType);
    if (PyModule_AddObject(m, "Counter", (PyObject *)&CounterType) < 0) {
        Py_DECREF(&CounterType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

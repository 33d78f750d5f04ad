/* GC slots whose C type differs from the slot's only in the result, as in
 * CPython 3.13's own operator.methodcaller (its tp_clear returns void):
 *
 *   Node   (a heap type from PyType_FromSpec): {Py_tp_clear, node_clear} with
 *          a void node_clear; PyType_Slot.pfunc is void *, so the compiler
 *          sees no cast at all;
 *   Holder (a static type): .tp_clear = (inquiry)holder_clear with a void
 *          holder_clear, and .tp_dealloc = (destructor)holder_dealloc with an
 *          int-returning holder_dealloc.
 *
 * CPython calls tp_clear through `int (*)(PyObject *)` and tp_dealloc through
 * `void (*)(PyObject *)`. Natively the result register is simply ignored or
 * garbage; on WebAssembly each such call_indirect traps ("indirect call type
 * mismatch") unless wasiwheel repairs it. `cycle()` makes a reference cycle
 * whose first object is the node, so that the collector clears the node
 * first: at interpreter exit that is the final collection of Py_FinalizeEx. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>

typedef struct {
    PyObject_HEAD
    PyObject *ref;
} NodeObject;

static long n_cleared;

static int node_traverse(NodeObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->ref);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

/* void, for an int-returning slot */
static void node_clear(NodeObject *self) {
    if (self->ref) {
        n_cleared++;
        fprintf(stderr, "exittrapdemo: Node cleared\n");
    }
    Py_CLEAR(self->ref);
}

static void node_dealloc(NodeObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    node_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMemberDef node_members[] = {
    {"ref", Py_T_OBJECT_EX, offsetof(NodeObject, ref), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot node_slots[] = {
    {Py_tp_dealloc, node_dealloc},
    {Py_tp_traverse, node_traverse},
    {Py_tp_clear, node_clear},
    {Py_tp_members, node_members},
    {0, NULL},
};

static PyType_Spec node_spec = {
    "exittrapdemo._slots.Node",
    sizeof(NodeObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    node_slots,
};

static int holder_traverse(PyObject *self, visitproc visit, void *arg) {
    Py_VISIT(((NodeObject *)self)->ref);
    return 0;
}

/* void, cast to inquiry */
static void holder_clear(NodeObject *self) {
    if (self->ref) {
        n_cleared++;
        fprintf(stderr, "exittrapdemo: Holder cleared\n");
    }
    Py_CLEAR(self->ref);
}

/* int, cast to destructor */
static int holder_dealloc(NodeObject *self) {
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->ref);
    Py_TYPE(self)->tp_free((PyObject *)self);
    return 0;
}

static PyTypeObject HolderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "exittrapdemo._slots.Holder",
    .tp_basicsize = sizeof(NodeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)holder_dealloc,
    .tp_traverse = holder_traverse,
    .tp_clear = (inquiry)holder_clear,
    .tp_members = node_members,
};

static PyObject *node_type;

/* cycle(kind): a new node of `kind` ("Node" or "Holder") in a cycle with a
 * list, the node first (created, and so tracked by the collector, first). */
static PyObject *cycle(PyObject *module, PyObject *kind) {
    PyObject *type = PyUnicode_Check(kind) && PyUnicode_CompareWithASCIIString(kind, "Holder") == 0
                         ? (PyObject *)&HolderType
                         : node_type;
    PyObject *node = PyObject_CallNoArgs(type);
    if (node == NULL) {
        return NULL;
    }
    PyObject *list = PyList_New(1);
    if (list == NULL) {
        Py_DECREF(node);
        return NULL;
    }
    PyList_SET_ITEM(list, 0, Py_NewRef(node));
    ((NodeObject *)node)->ref = list;
    return node;
}

static PyObject *cleared(PyObject *module, PyObject *Py_UNUSED(unused)) {
    return PyLong_FromLong(n_cleared);
}

static PyMethodDef methods[] = {
    {"cycle", cycle, METH_O, "A node of the given kind in a reference cycle."},
    {"cleared", cleared, METH_NOARGS, "How many nodes tp_clear has cleared."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_slots", NULL, -1, methods,
};

PyMODINIT_FUNC PyInit__slots(void) {
    if (PyType_Ready(&HolderType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) {
        return NULL;
    }
    node_type = PyType_FromModuleAndSpec(m, &node_spec, NULL);
    if (node_type == NULL || PyModule_AddObjectRef(m, "Node", node_type) < 0
        || PyModule_AddObjectRef(m, "Holder", (PyObject *)&HolderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

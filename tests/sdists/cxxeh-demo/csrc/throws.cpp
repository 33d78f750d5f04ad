// cxxehdemo._throws: C++ exceptions thrown and caught inside one extension.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

int destroyed = 0;  // destructors run during unwinding

struct Guard {
    ~Guard() { ++destroyed; }
};

struct Base : std::runtime_error {
    explicit Base(const std::string &what) : std::runtime_error(what) {}
};

struct Derived : Base {
    int depth;
    Derived(const std::string &what, int depth) : Base(what), depth(depth) {}
};

// Recurse `n` frames, each holding a Guard, then throw Derived from the last.
int descend(int n, int depth) {
    Guard g;
    if (n == 0) throw Derived("thrown at depth " + std::to_string(depth), depth);
    return descend(n - 1, depth + 1) + 1;
}

}  // namespace

// across(n) -> (message, depth, destructors): throw through n frames, catch by base class.
static PyObject *across(PyObject *, PyObject *args) {
    int n;
    if (!PyArg_ParseTuple(args, "i", &n)) return nullptr;
    destroyed = 0;
    try {
        descend(n, 0);
    } catch (const Base &e) {
        const Derived *d = dynamic_cast<const Derived *>(&e);
        return Py_BuildValue("(sii)", e.what(), d ? d->depth : -1, destroyed);
    }
    return Py_BuildValue("(sii)", "not thrown", -1, destroyed);
}

// rethrow() -> (inner, outer): catch, rethrow with `throw;`, catch again outside.
static PyObject *rethrow(PyObject *, PyObject *) {
    std::string inner, outer;
    try {
        try {
            throw std::logic_error("first");
        } catch (const std::exception &e) {
            inner = e.what();
            throw;
        }
    } catch (const std::logic_error &e) {
        outer = std::string("again: ") + e.what();
    }
    return Py_BuildValue("(ss)", inner.c_str(), outer.c_str());
}

// vector_at(i) -> element, or the name of what libc++ threw: std::vector::at out of range.
static PyObject *vector_at(PyObject *, PyObject *args) {
    Py_ssize_t i;
    if (!PyArg_ParseTuple(args, "n", &i)) return nullptr;
    std::vector<long> v{10, 20, 30};
    try {
        return PyLong_FromLong(v.at(static_cast<size_t>(i)));
    } catch (const std::out_of_range &) {
        return PyUnicode_FromString("out_of_range");
    }
}

// parse_long(s) -> int, or the name of what std::stol threw.
static PyObject *parse_long(PyObject *, PyObject *args) {
    const char *s;
    if (!PyArg_ParseTuple(args, "s", &s)) return nullptr;
    try {
        return PyLong_FromLong(std::stol(s));
    } catch (const std::invalid_argument &) {
        return PyUnicode_FromString("invalid_argument");
    } catch (const std::out_of_range &) {
        return PyUnicode_FromString("out_of_range");
    }
}

// to_python(kind): a C++ exception caught at the module boundary becomes a Python one.
static PyObject *to_python(PyObject *, PyObject *args) {
    const char *kind;
    if (!PyArg_ParseTuple(args, "s", &kind)) return nullptr;
    try {
        std::string k(kind);
        if (k == "index") throw std::out_of_range("index out of range");
        if (k == "value") throw std::invalid_argument("bad value");
        if (k == "int") throw 42;
        return PyUnicode_FromString("no exception");
    } catch (const std::out_of_range &e) {
        PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const std::exception &e) {
        PyErr_SetString(PyExc_ValueError, e.what());
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
    }
    return nullptr;
}

// escape(): an exception no handler catches; std::terminate ends the process.
static PyObject *escape(PyObject *, PyObject *) {
    std::fflush(stdout);
    throw std::runtime_error("escaped every handler");
}

static PyMethodDef methods[] = {
    {"across", across, METH_VARARGS, "across(n) -> (message, depth, destructors)"},
    {"rethrow", rethrow, METH_NOARGS, "rethrow() -> (inner, outer)"},
    {"vector_at", vector_at, METH_VARARGS, "vector_at(i) -> element or 'out_of_range'"},
    {"parse_long", parse_long, METH_VARARGS, "parse_long(s) -> int or the exception's name"},
    {"to_python", to_python, METH_VARARGS, "to_python(kind): raise the mapped Python exception"},
    {"escape", escape, METH_NOARGS, "escape(): throw past every handler (std::terminate)"},
    {nullptr, nullptr, 0, nullptr},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_throws", "C++ exceptions (wasiwheel's sample)", -1, methods};

PyMODINIT_FUNC PyInit__throws(void) { return PyModule_Create(&module); }

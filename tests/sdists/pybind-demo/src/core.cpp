// pybind11 translates C++ exceptions into Python ones at the module boundary:
// the standard ones by its built-in table (std::out_of_range -> IndexError,
// std::invalid_argument -> ValueError), a class registered with
// py::register_exception, and one mapped by a translator of our own. A Python
// exception raised in a callback crosses C++ frames as py::error_already_set
// and reaches the caller as itself.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace py = pybind11;

namespace {

// Thrown by raise_demo; registered as pybinddemo._core.DemoError.
struct DemoError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Mapped to ArithmeticError by a translator.
struct NegativeRoot : std::domain_error {
    using std::domain_error::domain_error;
};

// Destructors run while an exception unwinds through frames of ours.
int live_guards = 0;
struct Guard {
    Guard() { ++live_guards; }
    ~Guard() { --live_guards; }
};

int at(const std::vector<int>& values, int index) { return values.at(static_cast<size_t>(index)); }

long parse(const std::string& text) { return std::stol(text); }

void throw_from(int depth, const std::string& what) {
    Guard g;
    if (depth == 0) throw DemoError(what);
    throw_from(depth - 1, what);
}

void raise_demo(int depth, const std::string& what) { throw_from(depth, what); }

double checked_sqrt(double x) {
    if (x < 0) throw NegativeRoot("square root of a negative number: " + std::to_string(x));
    return std::sqrt(x);
}

// Calls `fn(i)` for i in 0..n through `depth` C++ frames; a Python exception
// from fn unwinds them (destructors run) and reaches the caller unchanged.
int call_through(const std::function<int(int)>& fn, int n, int depth) {
    Guard g;
    if (depth > 0) return call_through(fn, n, depth - 1);
    int sum = 0;
    for (int i = 0; i < n; ++i) sum += fn(i);
    return sum;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "pybind11 exception translation (wasiwheel's sample)";
    py::register_exception<DemoError>(m, "DemoError", PyExc_RuntimeError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const NegativeRoot& e) {
            PyErr_SetString(PyExc_ArithmeticError, e.what());
        }
    });
    m.def("at", &at, "values[index] by std::vector::at (IndexError when out of range)");
    m.def("parse", &parse, "std::stol (ValueError when not a number, IndexError when out of long's range)");
    m.def("raise_demo", &raise_demo, "throw DemoError through `depth` frames");
    m.def("checked_sqrt", &checked_sqrt, "sqrt, ArithmeticError for a negative number");
    m.def("call_back", [](const std::function<int(int)>& fn, int n, int depth) { return call_through(fn, n, depth); },
          "sum of fn(i) for i < n, called through `depth` C++ frames");
    m.def("stack_depth", [] { return live_guards; }, "guards alive (0 after any unwinding)");
}

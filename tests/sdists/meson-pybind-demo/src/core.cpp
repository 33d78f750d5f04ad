// The sizes the extension was compiled with (the target's pyconfig.h gives
// 4-byte pointers and Py_ssize_t on wasm32) and a C++ exception mapped by
// pybind11 (std::out_of_range -> IndexError).
#include <pybind11/pybind11.h>
#include <stdexcept>

namespace py = pybind11;

static int item(int i) {
    if (i < 0 || i > 2) throw std::out_of_range("index out of range");
    return 10 * i;
}

PYBIND11_MODULE(_core, m) {
    m.def("sizes", [] { return py::make_tuple(sizeof(void *), sizeof(Py_ssize_t), SIZEOF_LONG); });
    m.def("item", &item);
}

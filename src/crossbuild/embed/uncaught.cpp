// Linked into a relinked interpreter whose extension modules use C++
// exceptions. WebAssembly exception handling has no search phase: a C++
// exception that no handler catches leaves `_start` as an uncaught wasm
// exception, and the host reports only "thrown Wasm exception". Natively the
// C++ runtime calls std::terminate, which names the exception and aborts;
// catching everything around main and calling std::terminate from the handler
// gives the same message (libc++abi's "terminating due to uncaught exception
// of type T: what()") and the same abort.
#include <exception>

extern "C" int wasiwheel_catch_uncaught(int (*run)(int, char **), int argc, char **argv) {
    try {
        return run(argc, argv);
    } catch (...) {
        std::terminate();
    }
}

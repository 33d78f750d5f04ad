/* The main of a CPython relinked by wasiwheel with extension modules built
   in. The generated part before this file declares the modules' init
   functions and defines wasiwheel_register_modules(), and defines
   WASIWHEEL_CATCH_UNCAUGHT when a module uses C++ exceptions. */

static int run(int argc, char **argv) {
    if (wasiwheel_register_modules() < 0) return 120;
    return Py_BytesMain(argc, argv);
}

#ifdef WASIWHEEL_CATCH_UNCAUGHT
/* embed/uncaught.cpp: std::terminate for a C++ exception no handler caught. */
int wasiwheel_catch_uncaught(int (*run)(int, char **), int argc, char **argv);
#endif

int main(int argc, char **argv) {
#ifdef WASIWHEEL_CATCH_UNCAUGHT
    return wasiwheel_catch_uncaught(run, argc, argv);
#else
    return run(argc, argv);
#endif
}

/* The main of a CPython relinked by wasiwheel with extension modules built
   in. The generated part before this file declares the modules' init
   functions and defines wasiwheel_register_modules(). */

int main(int argc, char **argv) {
    if (wasiwheel_register_modules() < 0) return 120;
    return Py_BytesMain(argc, argv);
}

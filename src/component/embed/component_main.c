/* The interpreter of a wasiwheel component. The generated part before this
   file declares the extension modules' init functions, defines
   wasiwheel_register_modules(), and the strings BOOTSTRAP (the Python code of
   component_bootstrap.py), ENTRY_MODULE and ENTRY_FUNC.

   wasiwheel.initialize runs once, under wizer at build time: CPython is
   initialized, the entry module is imported from the bundle, the entry
   function looked up, the bootstrap's seal keeps (as bytecode in memory) what
   the entry can import, and the dead part of the
   stack is zeroed so that the snapshot keeps nothing of the build's host.
   main runs at every start: it gives the instance what must not come from
   the snapshot (the host's environment, fresh randomness, the run's argv),
   then calls the entry. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void __wasilibc_reset_preopens(void);
extern void __wasilibc_deinitialize_environ(void);
extern void __wasilibc_initialize_environ(void);
extern char **environ;
/* The lowest address of the shadow stack (wasm-ld defines it). */
extern unsigned char __stack_low[];

static int initialized = 0;
#ifndef WASIWHEEL_WORLD
static PyObject *entry = NULL;
#endif
static PyObject *fresh_start = NULL;
static PyObject *seal = NULL;

static void die(const char *what) {
    fprintf(stderr, "wasiwheel component: %s\n", what);
    if (PyErr_Occurred()) PyErr_Print();
    exit(70);
}

/* Zero the shadow stack below this function's frame. Initialization leaves
   dead frames there that the snapshot would keep, among them host data that
   differs from build to build (a struct stat of the bundle, whose st_ctim is
   the time the build wrote it): zeroed, the snapshot is a function of the
   module and the bundle alone. Word stores through a volatile pointer kept in
   a wasm local, so the loop neither becomes a memset call nor uses the
   memory it clears. */
__attribute__((noinline))
static void clear_dead_stack(void) {
    volatile unsigned char here = 0;
    uintptr_t low = ((uintptr_t)__stack_low + 3) & ~(uintptr_t)3;
    uintptr_t top = (uintptr_t)&here & ~(uintptr_t)3;
    for (volatile uint32_t *p = (volatile uint32_t *)low; (uintptr_t)p < top; p++) *p = 0;
    (void)here;
}

/* Zero the memory malloc holds free. What initialization allocated and freed
   (the bundle's directory, the sources and syntax trees of the modules
   compiled to bytecode) is still in those bytes, and the snapshot would keep
   every non-zero byte of it. Each free block is taken with malloc, largest
   sizes first, and zeroed; an allocation that grows the memory is given back
   and the size halved; then all are freed (free writes only their headers). */
static int sealed_snapshot = 0;

__attribute__((noinline))
static void zero_free_memory(void) {
    void *taken = NULL;
    for (size_t size = (size_t)1 << 20; size >= 4 * sizeof(void *);) {
        size_t pages = __builtin_wasm_memory_size(0);
        void *p = malloc(size);
        if (!p) { size /= 2; continue; }
        if (__builtin_wasm_memory_size(0) != pages) { free(p); size /= 2; continue; }
        memset(p, 0, size);
        *(void **)p = taken;
        taken = p;
    }
    while (taken) {
        void *next = *(void **)taken;
        *(void **)taken = NULL;
        free(taken);
        taken = next;
    }
}

static void initialize_python(void);

/* While the component initializes, every Python allocation is zeroed: memory
   is reused, and the padding bytes of new objects would otherwise keep what
   freed ones held (host stat data, addresses), which differs from build to
   build and would make rebuilds differ. The wrappers pass through to the
   allocators CPython set up, which are put back once initialization is done
   (the blocks stay theirs either way). */
static PyMemAllocatorEx zeroing_orig[3];
static void *zeroing_malloc(void *ctx, size_t n) {
    PyMemAllocatorEx *a = ctx;
    void *p = a->malloc(a->ctx, n);
    if (p) memset(p, 0, n);
    return p;
}
static void *zeroing_calloc(void *ctx, size_t e, size_t n) { PyMemAllocatorEx *a = ctx; return a->calloc(a->ctx, e, n); }
static void *zeroing_realloc(void *ctx, void *p, size_t n) { PyMemAllocatorEx *a = ctx; return a->realloc(a->ctx, p, n); }
static void zeroing_free(void *ctx, void *p) { PyMemAllocatorEx *a = ctx; a->free(a->ctx, p); }
static void zeroing_allocators(int on) {
    static const PyMemAllocatorDomain domains[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    for (int i = 0; i < 3; i++) {
        if (on) {
            PyMem_GetAllocator(domains[i], &zeroing_orig[i]);
            PyMemAllocatorEx w = {&zeroing_orig[i], zeroing_malloc, zeroing_calloc, zeroing_realloc, zeroing_free};
            PyMem_SetAllocator(domains[i], &w);
        } else {
            PyMem_SetAllocator(domains[i], &zeroing_orig[i]);
        }
    }
}

__attribute__((export_name("wasiwheel.initialize")))
void wasiwheel_initialize(void) {
    if (initialized) return;
#ifdef WASIWHEEL_WORLD
    /* A world component is a reactor (no _start): its constructors run here, once. */
    extern void __wasm_call_ctors(void);
    __wasm_call_ctors();
#endif
    initialize_python();
    if (sealed_snapshot) zero_free_memory();
    clear_dead_stack();
    initialized = 1;
}

__attribute__((noinline))
static void initialize_python(void) {
    if (wasiwheel_register_modules() < 0) die("cannot register the extension modules");
#ifdef WASIWHEEL_WORLD
    if (PyImport_AppendInittab("_wasiwheel_abi", PyInit__wasiwheel_abi) < 0) die("cannot register _wasiwheel_abi");
#endif
    /* UTF-8 mode (PEP 540): WASI has only the C locale, in which CPython
       would decode the host's environment and arguments (and encode stdio)
       as ASCII; WASI strings are UTF-8. */
    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.utf8_mode = 1;
    PyStatus pre = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(pre)) Py_ExitStatusException(pre);
    zeroing_allocators(1);
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    config.module_search_paths_set = 1;
    PyStatus st = PyConfig_SetString(&config, &config.home, L"/wasiwheel-bundle");
    if (!PyStatus_Exception(st)) st = PyWideStringList_Append(&config.module_search_paths, L"/wasiwheel-bundle/bundle.zip");
    if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) Py_ExitStatusException(st);
    PyObject *boot = PyDict_New();
    if (!boot || PyDict_SetItemString(boot, "__builtins__", PyEval_GetBuiltins()) < 0) die("cannot set up the bootstrap");
    PyObject *done = PyRun_String(BOOTSTRAP, Py_file_input, boot, boot);
    if (!done) die("loading the bundled Python files failed");
    Py_DECREF(done);
    fresh_start = PyDict_GetItemString(boot, "fresh_start");
    if (!fresh_start) die("the bootstrap defines no fresh_start");
    Py_INCREF(fresh_start);
    seal = PyDict_GetItemString(boot, "seal");
    if (!seal) die("the bootstrap defines no seal");
    Py_INCREF(seal);
    Py_DECREF(boot);
#ifdef WASIWHEEL_WORLD
    if (wasiwheel_world_init() < 0) die("importing the app or instantiating its export classes failed");
#else
    PyObject *mod = PyImport_ImportModule(ENTRY_MODULE);
    if (!mod) die("importing the entry module failed");
    PyObject *obj = mod;
    Py_INCREF(obj);
    const char *p = ENTRY_FUNC;
    char part[256];
    while (*p) {
        size_t n = 0;
        while (p[n] && p[n] != '.' && n < sizeof(part) - 1) { part[n] = p[n]; n++; }
        part[n] = 0;
        PyObject *next = PyObject_GetAttrString(obj, part);
        Py_DECREF(obj);
        if (!next) die("the entry function does not exist");
        obj = next;
        p += n;
        if (*p == '.') p++;
    }
    Py_DECREF(mod);
    entry = obj;
#endif
    /* Keep, as bytecode in memory, what the entry can import at run time. */
    PyObject *sealed = PyObject_CallNoArgs(seal);
    if (!sealed) die("keeping the modules the component can import failed");
    sealed_snapshot = PyObject_IsTrue(sealed) == 1;
    Py_DECREF(sealed);
    zeroing_allocators(0);
    fflush(stdout);
    fflush(stderr);
    /* Forget what was seen during initialization: the host's preopens and
       environment are looked up again when the instance starts. */
    __wasilibc_reset_preopens();
    __wasilibc_deinitialize_environ();
}

/* The instance's own state: the host's environment as os.environ, fresh
   randomness for the random module, and argv as sys.argv. */
static void start_instance(int argc, char **argv) {
    __wasilibc_initialize_environ();
    PyObject *env = PyList_New(0);
    for (char **e = environ; env && e && *e; e++) {
        PyObject *item = PyBytes_FromString(*e);
        if (!item || PyList_Append(env, item) < 0) die("cannot read the environment");
        Py_DECREF(item);
    }
    PyObject *args = PyList_New(0);
    for (int i = 0; args && i < argc; i++) {
        PyObject *a = PyUnicode_DecodeFSDefault(argv[i]);
        if (!a || PyList_Append(args, a) < 0) die("cannot set sys.argv");
        Py_DECREF(a);
    }
    if (!env || !args) die("out of memory");
    PyObject *r = PyObject_CallFunctionObjArgs(fresh_start, env, args, NULL);
    if (!r) die("starting the instance failed");
    Py_DECREF(r);
    Py_DECREF(env);
    Py_DECREF(args);
}

#ifndef WASIWHEEL_WORLD
static int run(int argc, char **argv) {
    wasiwheel_initialize();
    start_instance(argc, argv);
    int code = 0;
    PyObject *r = PyObject_CallNoArgs(entry);
    if (!r) {
        /* SystemExit exits with its code; other exceptions print their traceback. */
        PyErr_Print();
        code = 1;
    } else {
        if (PyLong_Check(r)) code = (int)PyLong_AsLong(r);
        else if (r != Py_None) { PyObject_Print(r, stderr, Py_PRINT_RAW); fputc('\n', stderr); code = 1; }
        Py_DECREF(r);
    }
    PyRun_SimpleString("import sys\nsys.stdout.flush()\nsys.stderr.flush()\n");
    return code;
}

#ifdef WASIWHEEL_CATCH_UNCAUGHT
/* crossbuild/embed/uncaught.cpp: std::terminate for a C++ exception no handler caught. */
int wasiwheel_catch_uncaught(int (*run)(int, char **), int argc, char **argv);
int main(int argc, char **argv) { return wasiwheel_catch_uncaught(run, argc, argv); }
#else
int main(int argc, char **argv) { return run(argc, argv); }
#endif
#endif

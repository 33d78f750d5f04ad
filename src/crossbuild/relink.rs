//! Relinking a target CPython statically with extension modules: a new
//! `python.wasm` whose `main` registers each module with
//! `PyImport_AppendInittab` before `Py_BytesMain`, linked from
//! `libpython3.X.a`, CPython's own static dependencies and the extensions'
//! static archives, and given the result repair of
//! [`crate::crossbuild::resultcast`] (also [`stock_interpreter`], for runs
//! without extensions). Results are cached by the hash of every input.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use crate::crossbuild::resultcast;
use crate::error::{Error, IoContext, Result};
use crate::toolchain::cache;
use crate::toolchain::python::{LinkInfo, TargetPython};
use crate::toolchain::sdk::WasiSdk;

/// An extension module to build in.
#[derive(Debug, Clone)]
pub struct StaticModule {
    /// Dotted module name (`pkg._core`).
    pub name: String,
    /// Its init function symbol in the archive: the unique
    /// [`crate::crossbuild::objlink::unique_init`] name (`PyInit_3pkg5_core`)
    /// for archives wasiwheel namespaced, so that modules with the same last
    /// name component, or named like a standard-library module, do not clash.
    pub init: String,
    /// Its static archive.
    pub archive: Utf8PathBuf,
    /// Libraries it links (`-l`).
    pub libraries: Vec<String>,
    /// True for C++ (links libc++).
    pub cxx: bool,
}

/// A C string literal of `s`, newlines kept as line breaks of the literal.
pub fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n\"\n\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The C that registers `modules` with CPython: `#include <Python.h>`, an
/// `extern` declaration of each init function, and
/// `static int wasiwheel_register_modules(void)`, which calls
/// `PyImport_AppendInittab` for each (dotted name → its init function) and
/// returns -1 on failure. Shared by relinked interpreters and components.
///
/// A module in a package (`pkg._core`) is registered through a small init
/// function that sets CPython's package context to its full name around the
/// real one, as the dynamic loader does for a `.so` (`importdl.c`): a
/// single-phase module (`PyModule_Create`) then gets `__name__ == "pkg._core"`
/// and its functions that `__module__`, as natively, not the bare name of its
/// `PyModuleDef` (built-in modules get no package context), which pickle and
/// `repr` would otherwise show.
pub fn inittab_c(modules: &[StaticModule]) -> String {
    let mut s = String::from("#include <Python.h>\n\n");
    let packaged = modules.iter().any(|m| m.name.contains('.'));
    if packaged {
        // 3.12 made the package context runtime state behind a function;
        // before, it was the global `_Py_PackageContext` (modsupport.h).
        s.push_str(
            "/* CPython's package context for single-phase init (Python/import.c). */\n\
             #if PY_VERSION_HEX >= 0x030C0000\n\
             extern const char *_PyImport_SwapPackageContext(const char *newcontext);\n\
             #define wasiwheel_swap_package_context _PyImport_SwapPackageContext\n\
             #else\n\
             static const char *wasiwheel_swap_package_context(const char *newcontext) {\n    \
             const char *old = _Py_PackageContext;\n    \
             _Py_PackageContext = newcontext;\n    \
             return old;\n\
             }\n\
             #endif\n",
        );
    }
    for m in modules {
        s.push_str(&format!("extern PyObject *{}(void);\n", m.init));
    }
    for (n, m) in modules.iter().enumerate().filter(|(_, m)| m.name.contains('.')) {
        s.push_str(&format!(
            "\nstatic PyObject *wasiwheel_init_{n}(void) {{\n    \
             const char *old = wasiwheel_swap_package_context({});\n    \
             PyObject *m = {}();\n    \
             wasiwheel_swap_package_context(old);\n    \
             return m;\n}}\n",
            c_string(&m.name),
            m.init
        ));
    }
    s.push_str("\nstatic int wasiwheel_register_modules(void) {\n");
    for (n, m) in modules.iter().enumerate() {
        let init = if m.name.contains('.') { format!("wasiwheel_init_{n}") } else { m.init.clone() };
        s.push_str(&format!("    if (PyImport_AppendInittab({}, {init}) < 0) return -1;\n", c_string(&m.name)));
    }
    s.push_str("    return 0;\n}\n");
    s
}

/// The C source of a relinked interpreter's `main`: [`inittab_c`] and
/// `embed/interpreter_main.c` (register the modules, then `Py_BytesMain`);
/// with `catch_uncaught` (some module uses C++ exceptions: [`LinkNeeds`]),
/// `main` runs under `embed/uncaught.cpp`'s handler, which calls
/// `std::terminate` for a C++ exception nothing caught.
pub fn main_c(modules: &[StaticModule], catch_uncaught: bool) -> String {
    format!(
        "/* Generated by wasiwheel: CPython with extension modules built in. */\n{}{}\n{}",
        if catch_uncaught { "#define WASIWHEEL_CATCH_UNCAUGHT 1\n" } else { "" },
        inittab_c(modules),
        include_str!("embed/interpreter_main.c")
    )
}

/// Link `python` with `modules` built in, using `sdk` (which must be the SDK
/// major that built `python`). Returns the path of the cached `python.wasm`.
///
/// Errors: [`Error::Toolchain`] when `python` has no relink record (not
/// provisioned by wasiwheel) or is compile-only; [`Error::ToolFailed`] with the
/// linker's output when linking fails (for example two version-1 archives
/// that were not namespaced, with the same init symbol).
pub fn relink(python: &TargetPython, sdk: &WasiSdk, modules: &[StaticModule], verbose: bool) -> Result<Utf8PathBuf> {
    python.require_runnable("be relinked")?;
    let link = python.link_info()?;
    let main = main_c(modules, LinkNeeds::of(modules)?.cxx_exceptions);
    // The cache key: every input's content and the exact link line.
    // LINK_RECIPE names how `link_interpreter` links, so a change to it is a new key.
    let mut key = format!("{LINK_RECIPE}\n{main}\n{}\n{:?}\n{:?}\n{}\n", sdk.root, sdk.identity, link, python.target());
    key.push_str(&crate::files::sha256_file(&python.libpython())?);
    for m in modules {
        key.push_str(&format!("\n{} {} {:?} {}", m.name, m.init, m.libraries, crate::files::sha256_file(&m.archive)?));
    }
    let key = &crate::files::sha256_hex(key.as_bytes())[..24];
    let dest_dir = cache::dir("run")?.join(key);
    let wasm = dest_dir.join("python.wasm");
    if wasm.exists() {
        return Ok(wasm);
    }
    let staging = crate::files::staging_dir(&cache::dir("run")?, key)?;
    let s = Utf8Path::from_path(staging.path()).expect("UTF-8").to_path_buf();
    link_interpreter(python, sdk, &link, &MainProgram { source: main, link_args: vec![] }, modules, &s, verbose)?;
    std::fs::create_dir_all(dest_dir.parent().expect("parent"))
        .context(|| "cannot create the run cache".to_string())?;
    if crate::files::commit(staging, &dest_dir).is_err() && !wasm.exists() {
        return Err(Error::Other(format!("cannot store the relinked interpreter at {dest_dir}")));
    }
    Ok(wasm)
}

/// Identifies the link recipe of [`link_interpreter`] in cache keys.
const LINK_RECIPE: &str =
    "link-interpreter/7 (-O2, --strip-debug, resultcast, wasi-libc overlap weakened, cxx-eh runtime, libsetjmp, \
     printscan-long-double)";

/// What the modules' archives need from the link beyond their libraries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkNeeds {
    /// Some module was compiled with wasm exception handling (C++ whose
    /// objects declare the `exception-handling` target feature, or refer to
    /// the `__cpp_exception` tag): the exception-enabled C++ runtime
    /// ([`crate::toolchain::cxx_eh`]) is linked instead of the SDK's libc++.
    pub cxx_exceptions: bool,
    /// Some module calls setjmp/longjmp, lowered onto exception handling
    /// (its objects refer to `__wasm_setjmp`, `__wasm_longjmp` or the
    /// `__c_longjmp` tag): wasi-libc's `libsetjmp` is linked.
    pub setjmp: bool,
    /// Some module computes with, parses or formats `long double` (IEEE
    /// binary128 on wasm32): its objects refer to `strtold`/`wcstold` or to
    /// compiler-rt's binary128 routines ([`LONG_DOUBLE_SYMBOLS`]).
    /// wasi-libc's default printf/scanf abort on `long double` ("Support for
    /// formatting long double values is currently disabled"); its
    /// `libc-printscan-long-double` is then linked before libc.
    pub long_double_io: bool,
}

/// Symbols whose use means `long double` is parsed, formatted or computed
/// with (see [`LinkNeeds::long_double_io`]).
pub const LONG_DOUBLE_SYMBOLS: &[&str] = &[
    "strtold",
    "wcstold",
    "__extenddftf2",
    "__trunctfdf2",
    "__addtf3",
    "__multf3",
    "__divtf3",
    "__floatsitf",
    "__floatditf",
    "__fixtfsi",
    "__fixtfdi",
];

impl LinkNeeds {
    /// Read `modules`' archives for the symbol names that mean each need (a
    /// byte search: the names are in the archives' symbol tables).
    ///
    /// Errors: [`Error::Io`] when an archive cannot be read.
    pub fn of(modules: &[StaticModule]) -> Result<LinkNeeds> {
        let mut n = LinkNeeds::default();
        for m in modules {
            let bytes = std::fs::read(&m.archive).context(|| format!("cannot read {}", m.archive))?;
            let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
            n.cxx_exceptions |= has(b"__cpp_exception") || (m.cxx && has(b"exception-handling"));
            n.setjmp |= has(b"__wasm_setjmp") || has(b"__wasm_longjmp") || has(b"__c_longjmp");
            n.long_double_io |= LONG_DOUBLE_SYMBOLS.iter().any(|s| has(s.as_bytes()));
        }
        Ok(n)
    }
}

/// The interpreter `python` ships (`stock`, its `bin/python3.X.wasm`) with the
/// result repair of [`crate::crossbuild::resultcast`] applied, cached in the
/// run cache by the stock file's hash and the repair's version.
///
/// Errors: [`Error::Io`] when the file cannot be read or the cache written;
/// [`Error::Toolchain`] when the stock file is not a valid module.
pub fn stock_interpreter(stock: &Utf8Path) -> Result<Utf8PathBuf> {
    let key = format!("stock-{}-resultcast-{}", crate::files::sha256_file(stock)?, resultcast::VERSION);
    let key = &crate::files::sha256_hex(key.as_bytes())[..24];
    let dest_dir = cache::dir("run")?.join(format!("stock-{key}"));
    let wasm = dest_dir.join("python.wasm");
    if wasm.exists() {
        return Ok(wasm);
    }
    let bytes = std::fs::read(stock).context(|| format!("cannot read {stock}"))?;
    let repaired = resultcast::repair(&bytes).map_err(|e| Error::Toolchain(format!("{stock}: {e}")))?;
    let staging = crate::files::staging_dir(&cache::dir("run")?, key)?;
    let s = Utf8Path::from_path(staging.path()).expect("UTF-8").to_path_buf();
    let out = repaired.map(|r| r.module).unwrap_or(bytes);
    std::fs::write(s.join("python.wasm"), out).context(|| format!("cannot write {s}/python.wasm"))?;
    if crate::files::commit(staging, &dest_dir).is_err() && !wasm.exists() {
        return Err(Error::Other(format!("cannot store the repaired interpreter at {dest_dir}")));
    }
    Ok(wasm)
}

/// Apply the result repair ([`crate::crossbuild::resultcast`]) to the
/// linked module at `path`, in place.
fn repair_results(path: &Utf8Path, verbose: bool) -> Result<()> {
    let bytes = std::fs::read(path).context(|| format!("cannot read {path}"))?;
    match resultcast::repair(&bytes).map_err(|e| Error::Toolchain(format!("{path}: {e}")))? {
        Some(r) => {
            if verbose {
                crate::progress::status(&format!(
                    "result repair: {} adapter(s) in {} table(s) for indirect calls whose callee's result differs",
                    r.adapters, r.tables
                ));
            }
            std::fs::write(path, r.module).context(|| format!("cannot write {path}"))
        }
        None => Ok(()),
    }
}

/// The C `main` (or reactor) of a relinked interpreter and what its link needs.
#[derive(Debug, Clone, Default)]
pub struct MainProgram {
    /// The C source (`main.c`).
    pub source: String,
    /// Extra link arguments (`-nostartfiles`, `-Wl,--no-entry` for a reactor).
    pub link_args: Vec<String>,
}

/// Compile `main.source` (a C `main`, or a reactor's exports, for the
/// interpreter) and link it, with `main.link_args`, with `modules`,
/// `libpython` and CPython's own static libraries and flags (`link`, from
/// [`TargetPython::link_info`]; DWARF stripped) into
/// `dir/python.wasm`, with `sdk`, and give it the result repair
/// ([`crate::crossbuild::resultcast`]). Where a wasi-libc archive member
/// defines a symbol CPython's archives define too (the pthread API of
/// CPython's stubs), CPython's definition serves everyone: the member's copy
/// is linked weakened ([`crate::crossbuild::overlap`]). Returns that path.
///
/// Errors: [`Error::Toolchain`] when the compiler cannot run, the prefix
/// cannot be relinked or an SDK or CPython archive cannot be read;
/// [`Error::ToolFailed`] with the linker's output.
pub fn link_interpreter(
    python: &TargetPython,
    sdk: &WasiSdk,
    link: &LinkInfo,
    main: &MainProgram,
    modules: &[StaticModule],
    dir: &Utf8Path,
    verbose: bool,
) -> Result<Utf8PathBuf> {
    let (main_source, extra_args) = (main.source.as_str(), &main.link_args);
    std::fs::write(dir.join("main.c"), main_source).context(|| format!("cannot write {dir}/main.c"))?;
    let any_cxx = modules.iter().any(|m| m.cxx);
    let needs = LinkNeeds::of(modules)?;
    let out = dir.join("python.wasm");
    let mut cmd = Command::new(if any_cxx { sdk.clangxx() } else { sdk.clang() });
    cmd.arg(format!("--target={}", python.target().triple()))
        // No DWARF (CPython's archives carry it): smaller, and faster to compile.
        .args(["-O2", "-Wl,--strip-debug", "-x", "c"])
        .arg(dir.join("main.c"))
        .args(["-x", "none"])
        .arg(format!("-I{}", python.include_dir()))
        .arg("-o")
        .arg(&out);
    for m in modules {
        cmd.arg(&m.archive);
    }
    if needs.cxx_exceptions {
        // embed/uncaught.cpp, compiled for this runtime, then the exception-enabled
        // libc++/libc++abi/libunwind, before the SDK's own libc++.
        let rt = crate::toolchain::cxx_eh::ensure(sdk, python.target())?;
        cmd.arg(compile_uncaught(sdk, python.target(), &rt, dir, verbose)?);
        cmd.args(rt.link_args());
    }
    cmd.arg(python.libpython());
    cmd.args(&link.libs);
    // wasi-libc's members that duplicate CPython's definitions, weakened: after
    // CPython's archives, before wasi-libc's libraries (crate::crossbuild::overlap).
    let cpython: Vec<Utf8PathBuf> = std::iter::once(python.libpython()).chain(link.libs.iter().cloned()).collect();
    let overlap = crate::crossbuild::overlap::libc_overlap(sdk, python.target(), &cpython, verbose)?;
    if verbose && !(overlap.weakened.is_empty() && overlap.unneeded.is_empty()) {
        crate::progress::status(&overlap.describe());
    }
    cmd.args(&overlap.archive);
    let mut libs: Vec<&String> = modules.iter().flat_map(|m| &m.libraries).collect();
    libs.sort();
    libs.dedup();
    for l in libs {
        cmd.arg(format!("-l{l}"));
    }
    if needs.setjmp {
        // wasi-libc's setjmp/longjmp runtime (`__wasm_setjmp`, `__wasm_longjmp`, the `__c_longjmp` tag).
        cmd.arg("-lsetjmp");
    }
    if needs.long_double_io {
        // Before libc (which the compiler driver adds last): its printf/scanf
        // members that handle `long double` replace the aborting ones.
        cmd.arg("-lc-printscan-long-double");
    }
    cmd.args(&link.args);
    cmd.args(extra_args);
    if verbose {
        crate::progress::status(&format!("{cmd:?}"));
    }
    let o = cmd.output().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", sdk.clang())))?;
    if !o.status.success() {
        return Err(Error::ToolFailed {
            what: format!("linking CPython {} with {} extension module(s)", python.full_version(), modules.len()),
            status: o.status.to_string(),
            output: format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
                .trim_end()
                .to_string(),
            command: format!("{cmd:?}"),
        });
    }
    repair_results(&out, verbose)?;
    Ok(out)
}

/// Compile `embed/uncaught.cpp` (`wasiwheel_catch_uncaught`, called by a
/// `main` that [`main_c`] generated with `catch_uncaught`) with `rt`'s
/// compiler into `dir/uncaught.o`; returns that path.
///
/// Errors: [`Error::Toolchain`] when the compiler cannot run,
/// [`Error::ToolFailed`] with its output.
fn compile_uncaught(
    sdk: &WasiSdk,
    target: crate::model::target::WasiTarget,
    rt: &crate::toolchain::cxx_eh::CxxRuntime,
    dir: &Utf8Path,
    verbose: bool,
) -> Result<Utf8PathBuf> {
    let src = dir.join("uncaught.cpp");
    std::fs::write(&src, include_str!("embed/uncaught.cpp")).context(|| format!("cannot write {src}"))?;
    let obj = dir.join("uncaught.o");
    let mut cmd = Command::new(&rt.compiler.clangxx);
    cmd.args(rt.cxx_compile_args(sdk, target)).args(["-O2", "-c"]).arg(&src).arg("-o").arg(&obj);
    if verbose {
        crate::progress::status(&format!("{cmd:?}"));
    }
    let o = cmd.output().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", rt.compiler.clangxx)))?;
    if !o.status.success() {
        return Err(Error::ToolFailed {
            what: "compiling the interpreter's handler of uncaught C++ exceptions".into(),
            status: o.status.to_string(),
            output: String::from_utf8_lossy(&o.stderr).trim_end().to_string(),
            command: format!("{cmd:?}"),
        });
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_registers_modules() {
        let m = StaticModule {
            name: "pkg._json".into(),
            init: crate::crossbuild::objlink::unique_init("pkg._json"),
            archive: "a.a".into(),
            libraries: vec![],
            cxx: false,
        };
        let top = StaticModule { name: "_top".into(), init: "PyInit__top".into(), ..m.clone() };
        let c = main_c(&[m, top], false);
        assert!(c.contains("extern PyObject *PyInit_3pkg5_json(void);"));
        // A module in a package is initialised with its package context, a top-level one directly.
        assert!(c.contains("PyImport_AppendInittab(\"pkg._json\", wasiwheel_init_0)"), "{c}");
        assert!(c.contains("wasiwheel_swap_package_context(\"pkg._json\");\n    PyObject *m = PyInit_3pkg5_json();"));
        assert!(c.contains("#if PY_VERSION_HEX >= 0x030C0000"), "{c}");
        assert!(c.contains("PyImport_AppendInittab(\"_top\", PyInit__top)"), "{c}");
        assert!(c.contains("return Py_BytesMain(argc, argv);"));
        assert!(c_string("a\"b\\\\").contains("\\\"b\\\\\\\\"));
    }
}

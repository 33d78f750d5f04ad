//! A finished WebAssembly component of a project: CPython relinked with the
//! project's extension modules, its standard library and the project's Python
//! files inside, pre-initialized with wizer (CPython initialized and the entry
//! module imported at build time), encoded with wit-component and the WASI
//! preview1 command adapter into a `wasi:cli/command` component whose
//! `wasi:cli/run` calls the entry function with `sys.argv` from the host.
//!
//! How the files get inside: at build time they are packed into an
//! uncompressed zip that the interpreter reads from a directory preopened only
//! during initialization; a bootstrap moves every source into memory and
//! installs an importer that serves modules from there, so the snapshot holds
//! them and the component needs no preopened directory at run time.

use std::io::Write;

use camino::{Utf8Path, Utf8PathBuf};

use crate::crossbuild::python::TargetPython;
use crate::crossbuild::relink::StaticModule;
use crate::crossbuild::sdk::WasiSdk;
use crate::error::{Error, IoContext, Result};

/// The entry point of a component: `module:function` (function may be dotted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Dotted module name.
    pub module: String,
    /// Attribute path of the function in the module.
    pub function: String,
}

impl Entry {
    /// Parse `pkg.module:function`.
    ///
    /// Errors: a message when it is not `module:function`.
    pub fn parse(s: &str) -> std::result::Result<Entry, String> {
        let ident = |p: &str| !p.is_empty() && p.split('.').all(|c| !c.is_empty() && !c.starts_with(|ch: char| ch.is_ascii_digit()) && c.chars().all(|ch| ch.is_alphanumeric() || ch == '_'));
        match s.split_once(':') {
            Some((m, f)) if ident(m.trim()) && ident(f.trim()) => Ok(Entry { module: m.trim().to_string(), function: f.trim().to_string() }),
            _ => Err(format!("`{s}` is not an entry point like `package.module:function`")),
        }
    }
}

/// What goes into a component.
#[derive(Debug, Clone)]
pub struct ComponentSpec {
    /// Extension modules to link in.
    pub modules: Vec<StaticModule>,
    /// Python files: path inside the bundle (`pkg/mod.py`) → contents.
    pub python_files: Vec<(String, Vec<u8>)>,
    /// The function `wasi:cli/run` calls.
    pub entry: Entry,
    /// Pre-initialize with wizer (true), or initialize at every start.
    pub preinit: bool,
}

/// Standard-library directories left out of components (tests, GUIs, tools).
const STDLIB_EXCLUDED: &[&str] = &["test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages", "__pycache__", "venv", "pydoc_data"];

fn c_string(s: &str) -> String {
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

/// The Python code run once during initialization: move the bundle into
/// memory and serve imports from it.
const BOOTSTRAP: &str = r#"
import sys, zipfile
from importlib.machinery import ModuleSpec

with open("/wasiwheel-bundle/bundle.zip", "rb") as f:
    _zf = zipfile.ZipFile(f)
    _SOURCES = {i.filename: _zf.read(i) for i in _zf.infolist() if i.filename.endswith(".py")}
_MODULES = {}
for _path in _SOURCES:
    _parts = _path[:-3].split("/")
    if _parts[-1] == "__init__":
        _MODULES[".".join(_parts[:-1])] = (True, _path)
    else:
        _MODULES.setdefault(".".join(_parts), (False, _path))

class WasiwheelBundleImporter:
    """Serves modules from the sources baked into the component."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        found = _MODULES.get(name)
        if found is None:
            return None
        is_pkg, file = found
        spec = ModuleSpec(name, cls, origin="/bundle/" + file, is_package=is_pkg)
        spec.has_location = True
        if is_pkg:
            spec.submodule_search_locations = ["/bundle/" + file.rsplit("/", 1)[0]]
        return spec

    @staticmethod
    def create_module(spec):
        return None

    @classmethod
    def exec_module(cls, module):
        file = _MODULES[module.__spec__.name][1]
        exec(compile(_SOURCES[file], "/bundle/" + file, "exec"), module.__dict__)

    @classmethod
    def get_source(cls, name):
        found = _MODULES.get(name)
        return _SOURCES[found[1]].decode("utf-8", "replace") if found else None

_meta = [m for m in sys.meta_path if getattr(m, "__name__", "") != "PathFinder"]
sys.meta_path[:] = _meta[:2] + [WasiwheelBundleImporter] + _meta[2:] + [m for m in sys.meta_path if getattr(m, "__name__", "") == "PathFinder"]
sys.path[:] = [p for p in sys.path if not p.startswith("/wasiwheel-bundle")]
sys.path_importer_cache.clear()
for _m in list(sys.modules.values()):
    if getattr(getattr(_m, "__spec__", None), "origin", "") and str(_m.__spec__.origin).startswith("/wasiwheel-bundle"):
        _m.__loader__ = WasiwheelBundleImporter
del _zf, _path, _parts, _meta
"#;

/// The C `main` of a component interpreter: registers the extension modules,
/// exports `wasiwheel.initialize` (CPython initialized, bootstrap run, entry
/// module imported), and `main` calls the entry function with `sys.argv`.
pub fn main_c(modules: &[StaticModule], entry: &Entry) -> String {
    let mut s = String::from("/* Generated by wasiwheel: a component's interpreter. */\n#include <Python.h>\n#include <stdio.h>\n#include <stdlib.h>\n\n");
    for m in modules {
        s.push_str(&format!("extern PyObject *{}(void);\n", m.init));
    }
    s.push_str("extern void __wasilibc_reset_preopens(void);\n\n");
    s.push_str(&format!("static const char BOOTSTRAP[] = {};\n", c_string(BOOTSTRAP)));
    s.push_str(&format!("static const char ENTRY_MODULE[] = {};\nstatic const char ENTRY_FUNC[] = {};\n", c_string(&entry.module), c_string(&entry.function)));
    s.push_str(
        r#"
static int initialized = 0;
static PyObject *entry = NULL;

static void die(const char *what) {
    fprintf(stderr, "wasiwheel component: %s\n", what);
    if (PyErr_Occurred()) PyErr_Print();
    exit(70);
}

__attribute__((export_name("wasiwheel.initialize")))
void wasiwheel_initialize(void) {
    if (initialized) return;
"#,
    );
    for m in modules {
        s.push_str(&format!("    PyImport_AppendInittab({}, {});\n", c_string(&m.name), m.init));
    }
    s.push_str(
        r#"    PyConfig config;
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
    if (PyRun_SimpleString(BOOTSTRAP) != 0) die("loading the bundled Python files failed");
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
    fflush(stdout);
    fflush(stderr);
    /* Forget the preopens seen during initialization: the host's own are
       looked up again at run time. */
    __wasilibc_reset_preopens();
    initialized = 1;
}

int main(int argc, char **argv) {
    wasiwheel_initialize();
    PyObject *args = PyList_New(0);
    for (int i = 0; i < argc; i++) {
        PyObject *a = PyUnicode_DecodeFSDefault(argv[i]);
        if (!a || PyList_Append(args, a) < 0) die("cannot set sys.argv");
        Py_DECREF(a);
    }
    PySys_SetObject("argv", args);
    Py_DECREF(args);
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
"#,
    );
    s
}

/// Pack the standard library of `python` and `files` into an uncompressed
/// (STORED) zip, entries sorted, timestamps fixed.
fn bundle(python: &TargetPython, files: &[(String, Vec<u8>)], out: &Utf8Path) -> Result<usize> {
    let stdlib = python.prefix.join(format!("lib/python{}", python.version));
    let mut entries: std::collections::BTreeMap<String, Vec<u8>> = std::collections::BTreeMap::new();
    let mut stack = vec![(stdlib.clone(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        for e in std::fs::read_dir(&dir).context(|| format!("cannot read {dir}"))?.flatten() {
            let Ok(p) = Utf8PathBuf::from_path_buf(e.path()) else { continue };
            let name = p.file_name().unwrap_or("").to_string();
            let r = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if p.is_dir() {
                if !STDLIB_EXCLUDED.contains(&name.as_str()) && !name.starts_with("config-") {
                    stack.push((p, r));
                }
            } else if name.ends_with(".py") {
                entries.insert(r, std::fs::read(&p).context(|| format!("cannot read {p}"))?);
            }
        }
    }
    // The project's files win over the standard library's.
    for (path, data) in files {
        entries.insert(path.clone(), data.clone());
    }
    let file = std::fs::File::create(out).context(|| format!("cannot create {out}"))?;
    let mut z = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(crate::pep517::wheel::zip_datetime(crate::pep517::timestamp::DEFAULT_TIMESTAMP));
    let zerr = |e: zip::result::ZipError| Error::Other(format!("cannot write {out}: {e}"));
    for (path, data) in &entries {
        z.start_file(path.as_str(), opts).map_err(zerr)?;
        z.write_all(data).context(|| format!("cannot write {out}"))?;
    }
    z.finish().map_err(zerr)?.flush().context(|| format!("cannot write {out}"))?;
    Ok(entries.len())
}

/// Where a component built without pre-initialization expects its files:
/// the directory `{out}.bundle/` (holding `bundle.zip`), to be mapped at
/// `/wasiwheel-bundle` when it runs.
pub fn bundle_dir_for(out: &Utf8Path) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("{out}.bundle"))
}

/// Build the component described by `spec` for `python` (a runnable wasm32-wasip1
/// CPython) with `sdk`, and write it to `out` atomically. Returns its size in bytes.
///
/// Errors: [`Error::Toolchain`] for a compile-only or non-preview1 CPython;
/// [`Error::Compile`] when linking fails; [`Error::Run`] when initialization
/// fails (the entry module does not import, with its traceback on stderr) or
/// the result cannot be encoded. Nothing is left at `out` on failure.
#[cfg(feature = "run")]
pub fn build(python: &TargetPython, sdk: &WasiSdk, spec: &ComponentSpec, out: &Utf8Path, verbose: bool) -> Result<u64> {
    use crate::crossbuild::target::WasiTarget;
    if python.record.as_ref().is_some_and(|r| r.compile_only) {
        return Err(Error::Toolchain(format!("the CPython at {} is compile-only (headers without an interpreter): a component needs a runnable wasm32-wasip1 CPython (`wasiwheel python install`)", python.prefix)));
    }
    if python.target() != WasiTarget::P1 {
        return Err(Error::Toolchain(format!("components are built from a wasm32-wasip1 CPython; the one at {} is for {}", python.prefix, python.target())));
    }
    let tmp = tempfile::Builder::new().prefix("wasiwheel-component.").tempdir().context(|| "cannot create a temporary directory".to_string())?;
    let t = Utf8Path::from_path(tmp.path()).ok_or_else(|| Error::Other("the temporary directory is not UTF-8".into()))?.to_path_buf();
    let bundle_dir = t.join("bundle");
    std::fs::create_dir_all(&bundle_dir).context(|| format!("cannot create {bundle_dir}"))?;
    let n = bundle(python, &spec.python_files, &bundle_dir.join("bundle.zip"))?;
    crate::progress::status(&format!("component: {n} Python files bundled; linking CPython {} with {} extension module(s)", python.full_version(), spec.modules.len()));

    let wasm = crate::crossbuild::relink::link_interpreter(python, sdk, &python.link_info()?, &main_c(&spec.modules, &spec.entry), &spec.modules, &t, verbose)?;
    let module = std::fs::read(&wasm).context(|| format!("cannot read {wasm}"))?;
    let module = if spec.preinit {
        let step = crate::progress::Step::start("component: pre-initializing CPython with wizer");
        let m = crate::crossbuild::wasm::wizer_initialize(&module, "wasiwheel.initialize", &bundle_dir, "/wasiwheel-bundle")?;
        step.done();
        m
    } else {
        module
    };
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|e| e.adapter(wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER))
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| Error::Run(format!("cannot encode the component: {e:#}")))?;
    crate::crossbuild::cache::write_atomic(out, |f| f.write_all(&component).context(|| format!("cannot write {out}")))?;
    if !spec.preinit {
        // Without pre-initialization the interpreter reads its files at every
        // start: map this directory at /wasiwheel-bundle.
        let dir = bundle_dir_for(out);
        std::fs::create_dir_all(&dir).context(|| format!("cannot create {dir}"))?;
        std::fs::copy(bundle_dir.join("bundle.zip"), dir.join("bundle.zip")).context(|| format!("cannot write {dir}/bundle.zip"))?;
    }
    Ok(component.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        assert_eq!(Entry::parse("pkg.cli:main").unwrap(), Entry { module: "pkg.cli".into(), function: "main".into() });
        assert_eq!(Entry::parse("m:App.run").unwrap().function, "App.run");
        assert!(Entry::parse("pkg.cli").is_err());
        assert!(Entry::parse("pkg-x:main").is_err());
    }

    #[test]
    fn main_calls_entry_and_registers_modules() {
        let m = StaticModule { name: "pkg._core".into(), init: "PyInit__core".into(), archive: "a.a".into(), libraries: vec![], cxx: false };
        let c = main_c(&[m], &Entry::parse("pkg.cli:main").unwrap());
        assert!(c.contains("PyImport_AppendInittab(\"pkg._core\", PyInit__core);"));
        assert!(c.contains("export_name(\"wasiwheel.initialize\")"));
        assert!(c.contains("ENTRY_MODULE[] = \"pkg.cli\""));
        assert!(c_string("a\"b\\").contains("\\\"b\\\\"));
    }
}

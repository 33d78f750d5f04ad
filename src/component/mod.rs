//! Components: owns what goes into a WebAssembly component and how it is
//! made (this file), and WIT worlds with their bindings and canonical-ABI glue
//! (`world/`). It links through `crossbuild` and pre-initializes through
//! `runtime`; it never compiles a project's sources or writes wheels.
//!
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

pub mod world;

use std::io::Write;

use camino::{Utf8Path, Utf8PathBuf};

use crate::crossbuild::relink::{self, c_string, StaticModule};
use crate::error::{Error, IoContext, Result};
use crate::model::entry::Entry;
use crate::toolchain::python::TargetPython;
use crate::toolchain::sdk::WasiSdk;

/// What goes into a component.
#[derive(Clone)]
pub struct ComponentSpec {
    /// Extension modules to link in.
    pub modules: Vec<StaticModule>,
    /// Python files: path inside the bundle (`pkg/mod.py`) → contents.
    pub python_files: Vec<(String, Vec<u8>)>,
    /// The function `wasi:cli/run` calls (a command component), or the
    /// world the app implements.
    pub kind: ComponentKind,
    /// Pre-initialize with wizer (true), or initialize at every start.
    pub preinit: bool,
    /// What the string-hash secret of a pre-initialized component is derived from.
    pub hash_seed: HashSeed,
    /// Modules kept in a pre-initialized component even when no import
    /// statement reachable from the entry names them (`include-modules`).
    pub include_modules: Vec<String>,
}

/// What a component exports.
#[derive(Clone)]
pub enum ComponentKind {
    /// `wasi:cli/command`: `wasi:cli/run` calls this function.
    Command(Entry),
    /// A WIT world whose exports the app module's classes implement.
    World {
        /// The world, read with wit-parser.
        world: std::sync::Arc<crate::component::world::World>,
        /// The app module (`app`, `guest`, `pkg.app`).
        app: String,
        /// Satisfy WASI preview1 with stubs that fail (`ENOSYS`) instead of
        /// importing WASI: the component imports only what the world does.
        stub_wasi: bool,
    },
}

/// The inputs of a pre-initialized component's string-hash secret.
///
/// CPython draws its hash secret (`PYTHONHASHSEED`'s random form) from WASI
/// `random_get` while it initializes. Under wizer that happens once, at build
/// time, and the secret lives on in the snapshot, together with the cached
/// hashes of every interned string: it cannot change per instance. So the
/// randomness wizer's instance sees is a deterministic generator seeded by
/// [`HashSeed::derive`]: different projects and releases get different
/// secrets, and rebuilds of one tree stay byte-identical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashSeed {
    /// The project's name (normalized).
    pub project: String,
    /// The project's version.
    pub version: String,
    /// `component-hash-seed`, when given; otherwise the component's own
    /// inputs (the interpreter module and the bundle) are digested instead.
    pub secret: Option<String>,
}

impl HashSeed {
    /// The 32-byte seed of the build's generator: sha256 over a fixed label,
    /// then the project name, the version and either the secret value or the
    /// sha256 digests of `module` (the linked interpreter, before
    /// pre-initialization) and `bundle` (the zip of Python files), each
    /// length-prefixed so that no two different inputs run together the same.
    pub fn derive(&self, module: &[u8], bundle: &[u8]) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut field = |data: &[u8]| {
            h.update((data.len() as u64).to_le_bytes());
            h.update(data);
        };
        field(b"wasiwheel component hash seed v1");
        field(self.project.as_bytes());
        field(self.version.as_bytes());
        match &self.secret {
            Some(secret) => {
                field(b"secret");
                field(secret.as_bytes());
            }
            None => {
                field(b"inputs");
                field(&Sha256::digest(module));
                field(&Sha256::digest(bundle));
            }
        }
        h.finalize().into()
    }
}

/// Standard-library directories left out of components (tests, GUIs, tools).
const STDLIB_EXCLUDED: &[&str] = &[
    "test",
    "tests",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "site-packages",
    "__pycache__",
    "venv",
    "pydoc_data",
];

/// The Python code run once during initialization (move the bundle into
/// memory and serve imports from it), defining `fresh_start`, which the
/// component's main calls at every start.
const BOOTSTRAP: &str = include_str!("embed/component_bootstrap.py");

/// The C `main` of a component interpreter: the generated registration of
/// the extension modules ([`relink::inittab_c`]), the bootstrap and entry as
/// C strings, then `embed/component_main.c`: `wasiwheel.initialize` (run by
/// wizer: CPython initialized, bootstrap run, entry module imported) and
/// `main` (at every start: the host's environment, fresh randomness, argv,
/// then the entry function); with `catch_uncaught` (a module uses C++
/// exceptions), `main` calls `std::terminate` for a C++ exception nothing
/// caught, as [`relink::main_c`]'s does.
pub fn main_c(modules: &[StaticModule], entry: &Entry, catch_uncaught: bool) -> String {
    format!(
        "/* Generated by wasiwheel: a component's interpreter. */\n{}{}\nstatic const char BOOTSTRAP[] = {};\n\
         static const char ENTRY_MODULE[] = {};\nstatic const char ENTRY_FUNC[] = {};\n\n{}",
        if catch_uncaught { "#define WASIWHEEL_CATCH_UNCAUGHT 1\n" } else { "" },
        relink::inittab_c(modules),
        c_string(BOOTSTRAP),
        c_string(&entry.module),
        c_string(&entry.function),
        include_str!("embed/component_main.c")
    )
}

/// The C source of a world component's interpreter: the registration of the
/// extension modules, the bootstrap, the world's canonical-ABI glue
/// ([`crate::component::world::glue::c_source`]) and
/// `embed/component_main.c` with `WASIWHEEL_WORLD` defined (a reactor whose
/// `wasiwheel.initialize` imports the app and instantiates its export classes).
pub fn world_main_c(
    modules: &[StaticModule],
    glue: &crate::component::world::Glue,
    app: &str,
    stub_wasi: bool,
) -> String {
    format!(
        "/* Generated by wasiwheel: a world component's interpreter. */\n#define WASIWHEEL_WORLD 1\n{}{}\n\
         static const char BOOTSTRAP[] = {};\n\n{}\n{}",
        if stub_wasi { "#define WASIWHEEL_STUB_WASI 1\n" } else { "" },
        relink::inittab_c(modules),
        c_string(BOOTSTRAP),
        crate::component::world::glue::c_source(glue, app),
        include_str!("embed/component_main.c")
    )
}

/// The bundle entry that tells the bootstrap how to seal the component
/// ([`bundle_settings`]).
const BUNDLE_SETTINGS: &str = "wasiwheel-component.txt";

/// The settings the bootstrap reads from the bundle, one per line: `preinit
/// 1|0`, then `include NAME` for each of `include-modules` and `project PATH`
/// for each file not from the standard library (all of whose import
/// statements are followed, not only the module-level ones).
fn bundle_settings(spec: &ComponentSpec) -> String {
    let mut s = format!("preinit {}\n", if spec.preinit { 1 } else { 0 });
    for m in &spec.include_modules {
        s.push_str(&format!("include {m}\n"));
    }
    for (path, _) in &spec.python_files {
        s.push_str(&format!("project {path}\n"));
    }
    s
}

/// Pack the standard library of `python`, the Python files of `spec` and its
/// [`bundle_settings`] into an uncompressed (STORED) zip, entries sorted,
/// timestamps fixed. Returns the number of Python files.
fn bundle(python: &TargetPython, spec: &ComponentSpec, out: &Utf8Path) -> Result<usize> {
    let files = &spec.python_files;
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
    let n = entries.len();
    entries.insert(BUNDLE_SETTINGS.to_string(), bundle_settings(spec).into_bytes());
    let file = std::fs::File::create(out).context(|| format!("cannot create {out}"))?;
    let mut z = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(crate::files::zip_datetime(crate::files::ZIP_EPOCH));
    let zerr = |e: zip::result::ZipError| Error::Other(format!("cannot write {out}: {e}"));
    for (path, data) in &entries {
        z.start_file(path.as_str(), opts).map_err(zerr)?;
        z.write_all(data).context(|| format!("cannot write {out}"))?;
    }
    z.finish().map_err(zerr)?.flush().context(|| format!("cannot write {out}"))?;
    Ok(n)
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
    use crate::model::target::WasiTarget;
    python.require_runnable("make a component")?;
    if python.target() != WasiTarget::P1 {
        return Err(Error::Toolchain(format!(
            "components are built from a wasm32-wasip1 CPython; the one at {} is for {}",
            python.prefix,
            python.target()
        )));
    }
    let tmp = tempfile::Builder::new()
        .prefix("wasiwheel-component.")
        .tempdir()
        .context(|| "cannot create a temporary directory".to_string())?;
    let t = Utf8Path::from_path(tmp.path())
        .ok_or_else(|| Error::Other("the temporary directory is not UTF-8".into()))?
        .to_path_buf();
    let bundle_dir = t.join("bundle");
    std::fs::create_dir_all(&bundle_dir).context(|| format!("cannot create {bundle_dir}"))?;
    let mut files = spec.python_files.clone();
    let (main_source, link_args, glue) = match &spec.kind {
        ComponentKind::Command(entry) => {
            let catch_uncaught = relink::LinkNeeds::of(&spec.modules)?.cxx_exceptions;
            (main_c(&spec.modules, entry, catch_uncaught), vec![], None)
        }
        ComponentKind::World { world, app, stub_wasi } => {
            let names = world.names();
            let glue = world.glue(&names)?;
            for (path, text) in crate::component::world::python::files(world, &names, &glue, false) {
                if path.ends_with(".py") {
                    files.push((path, text.into_bytes()));
                }
            }
            let c = world_main_c(&spec.modules, &glue, app, *stub_wasi);
            (c, vec!["-nostartfiles".to_string(), "-Wl,--no-entry".to_string()], Some(glue))
        }
    };
    let bundled = ComponentSpec { python_files: files, ..spec.clone() };
    let n = bundle(python, &bundled, &bundle_dir.join("bundle.zip"))?;
    // CPython stats what it imports from (zipimport keeps the archive's mtime):
    // fixed times keep that state in the snapshot the same in every rebuild.
    for p in [bundle_dir.join("bundle.zip"), bundle_dir.clone()] {
        let fixed = std::time::UNIX_EPOCH + std::time::Duration::from_secs(crate::files::ZIP_EPOCH as u64);
        std::fs::File::open(&p)
            .and_then(|f| f.set_times(std::fs::FileTimes::new().set_modified(fixed).set_accessed(fixed)))
            .context(|| format!("cannot set the times of {p}"))?;
    }
    crate::progress::status(&format!(
        "component: {n} Python files bundled; linking CPython {} with {} extension module(s)",
        python.full_version(),
        spec.modules.len()
    ));

    let wasm = crate::crossbuild::relink::link_interpreter(
        python,
        sdk,
        &python.link_info()?,
        &relink::MainProgram { source: main_source, link_args },
        &spec.modules,
        &t,
        verbose,
    )?;
    let module = std::fs::read(&wasm).context(|| format!("cannot read {wasm}"))?;
    let module = if spec.preinit {
        let zip = bundle_dir.join("bundle.zip");
        let seed = spec.hash_seed.derive(&module, &std::fs::read(&zip).context(|| format!("cannot read {zip}"))?);
        let step = crate::progress::Step::start("component: pre-initializing CPython with wizer");
        let m = crate::runtime::wasm::wizer_initialize(
            &module,
            "wasiwheel.initialize",
            &bundle_dir,
            "/wasiwheel-bundle",
            seed,
        )?;
        step.done();
        m
    } else {
        module
    };
    let component = match &spec.kind {
        ComponentKind::Command(_) => encode(&module, None, false)?,
        ComponentKind::World { world, stub_wasi, .. } => {
            let _ = glue;
            encode(&module, Some(world), *stub_wasi)?
        }
    };
    crate::files::write_atomic(out, |f| f.write_all(&component).context(|| format!("cannot write {out}")))?;
    if !spec.preinit {
        // Without pre-initialization the interpreter reads its files at every
        // start: map this directory at /wasiwheel-bundle.
        let dir = bundle_dir_for(out);
        std::fs::create_dir_all(&dir).context(|| format!("cannot create {dir}"))?;
        std::fs::copy(bundle_dir.join("bundle.zip"), dir.join("bundle.zip"))
            .context(|| format!("cannot write {dir}/bundle.zip"))?;
    }
    Ok(component.len() as u64)
}

/// Encode the core module as a component with wit-component: a command
/// (preview1 command adapter), or the `world`'s component (its metadata
/// embedded, the reactor adapter, or with `stub_wasi` an adapter whose
/// functions fail with `ENOSYS` and import nothing).
#[cfg(feature = "run")]
fn encode(module: &[u8], world: Option<&crate::component::world::World>, stub_wasi: bool) -> Result<Vec<u8>> {
    use wasi_preview1_component_adapter_provider as adapters;
    let err = |e: anyhow::Error| Error::Run(format!("cannot encode the component: {e:#}"));
    let mut module = module.to_vec();
    let adapter = match world {
        None => adapters::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER.to_vec(),
        Some(w) => {
            wit_component::embed_component_metadata(
                &mut module,
                &w.resolve,
                w.id,
                wit_component::StringEncoding::UTF8,
                false,
            )
            .map_err(err)?;
            if stub_wasi {
                crate::runtime::wasm::stub_wasi_adapter(&module)?
            } else {
                adapters::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER.to_vec()
            }
        }
    };
    wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|e| e.adapter(adapters::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, &adapter))
        .and_then(|e| e.validate(true).encode())
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_calls_entry_and_registers_modules() {
        let m = StaticModule {
            name: "pkg._core".into(),
            init: "PyInit__core".into(),
            archive: "a.a".into(),
            libraries: vec![],
            cxx: false,
        };
        let c = main_c(&[m], &Entry::parse("pkg.cli:main").unwrap(), false);
        assert!(!c.contains("WASIWHEEL_WORLD 1"));
        assert!(c.contains("PyImport_AppendInittab(\"pkg._core\", wasiwheel_init_0)"));
        assert!(c.contains("PyObject *m = PyInit__core();"));
        assert!(c.contains("export_name(\"wasiwheel.initialize\")"));
        assert!(c.contains("ENTRY_MODULE[] = \"pkg.cli\""));
    }

    #[test]
    fn hash_seed_depends_on_project_version_and_secret_or_inputs() {
        let base = HashSeed { project: "pkg".into(), version: "1.0".into(), secret: None };
        let seed = base.derive(b"module", b"bundle");
        // Deterministic: the same inputs give the same seed.
        assert_eq!(seed, base.derive(b"module", b"bundle"));
        let other = |s: HashSeed| s.derive(b"module", b"bundle");
        assert_ne!(seed, other(HashSeed { project: "pkg2".into(), ..base.clone() }));
        assert_ne!(seed, other(HashSeed { version: "1.1".into(), ..base.clone() }));
        // The inputs count when no secret is given...
        assert_ne!(seed, base.derive(b"module2", b"bundle"));
        assert_ne!(seed, base.derive(b"module", b"bundle2"));
        // ...and the secret instead of them when it is.
        let a = HashSeed { secret: Some("a".into()), ..base.clone() };
        assert_eq!(a.derive(b"module", b"bundle"), a.derive(b"module2", b"bundle2"));
        assert_ne!(a.derive(b"m", b"b"), HashSeed { secret: Some("b".into()), ..base.clone() }.derive(b"m", b"b"));
        // Fields are delimited: moving characters between them changes the seed.
        let shifted = HashSeed { project: "pkg1".into(), version: ".0".into(), secret: None };
        assert_ne!(seed, shifted.derive(b"module", b"bundle"));
    }
}

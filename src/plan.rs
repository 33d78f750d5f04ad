//! The build plan: config (pyproject + config settings + environment) turned
//! into what to compile, for which target, with which toolchain, and how the
//! wheel is tagged. Everything after this point only carries the plan out.

use camino::{Utf8Path, Utf8PathBuf};

use crate::crossbuild::compile::{ExtensionSpec, Toolchain};
use crate::crossbuild::python::{self, HostPython, TargetPython};
use crate::crossbuild::sdk::{self, WasiSdk};
use crate::crossbuild::target::{PyVersion, WasiTarget};
use crate::error::{Error, Result};
use crate::pep517::config::Settings;
use crate::pep517::pyproject::{filename_name, Pyproject};
use crate::tags::{self, WheelTag};

/// The interpreter and toolchain a wheel is built for.
#[derive(Debug, Clone)]
pub enum TargetPlan {
    /// A native build for the host interpreter.
    Host {
        /// The host interpreter.
        python: HostPython,
    },
    /// A WASI build.
    Wasi {
        /// The WASI target.
        target: WasiTarget,
        /// The SDK that compiles.
        sdk: WasiSdk,
        /// The target CPython compiled against.
        python: TargetPython,
    },
}

/// A file that goes into the wheel as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFile {
    /// Absolute path on disk.
    pub source: Utf8PathBuf,
    /// Path inside the wheel.
    pub archive_path: String,
}

/// Everything a wheel build needs, decided up front.
#[derive(Debug, Clone)]
pub struct BuildPlan {
    /// The project.
    pub pyproject: Pyproject,
    /// The config settings.
    pub settings: Settings,
    /// Target and toolchain.
    pub target: TargetPlan,
    /// Extension modules, with absolute paths.
    pub extensions: Vec<ExtensionSpec>,
    /// Python (and data) files of the project's packages.
    pub python_files: Vec<WheelFile>,
    /// Where objects are kept between builds.
    pub build_dir: Utf8PathBuf,
    /// The wheel's tags.
    pub tag: WheelTag,
    /// File-name suffix of each extension (`.cpython-313-wasm32-wasi.so`, `.abi3.so`).
    pub ext_suffixes: Vec<String>,
}

/// Directory names never treated as packages in automatic discovery.
const NOT_PACKAGES: &[&str] = &["tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "bench", "scripts", "tools", "build", "dist", "site-packages", "venv", ".venv"];

/// File types left out of wheels: sources of extensions, build products, caches.
fn wheel_excluded(name: &str) -> bool {
    const EXT: &[&str] = &[".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".o", ".obj", ".a", ".so", ".pyd", ".dylib", ".pyc", ".pyo"];
    EXT.iter().any(|e| name.ends_with(e)) || name == ".DS_Store"
}

fn walk_package(dir: &Utf8Path, archive_prefix: &str, out: &mut Vec<WheelFile>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::Io { context: format!("cannot read {dir}"), source: e })?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(|n| (n.to_string(), e.path())))
        .collect();
    entries.sort();
    for (name, path) in entries {
        let Ok(path) = Utf8PathBuf::from_path_buf(path) else { continue };
        if path.is_dir() {
            if name != "__pycache__" && !name.starts_with('.') {
                walk_package(&path, &format!("{archive_prefix}/{name}"), out)?;
            }
        } else if !wheel_excluded(&name) {
            out.push(WheelFile { source: path, archive_path: format!("{archive_prefix}/{name}") });
        }
    }
    Ok(())
}

/// The directory that holds the project's Python packages:
/// `tool.wasiwheel.python-source`, else `src/` when it exists, else the root.
///
/// Errors: [`Error::Project`] when the configured directory does not exist.
pub fn python_source_dir(p: &Pyproject) -> Result<Utf8PathBuf> {
    let root = &p.root;
    Ok(match &p.tool.python_source {
        Some(s) => {
            let d = root.join(s);
            if !d.is_dir() {
                return Err(Error::project(root.join("pyproject.toml"), format!("`tool.wasiwheel.python-source` names `{s}`, which is not a directory")));
            }
            d
        }
        None if root.join("src").is_dir() => root.join("src"),
        None => root.clone(),
    })
}

/// Find the Python packages and modules of the project (`src/` layout or flat
/// layout, or `[tool.wasiwheel] python-source` / `packages`), and the files
/// to put in the wheel.
///
/// Errors: [`Error::Project`] when a configured package does not exist, or
/// when the project has neither a package nor an extension module.
pub fn discover_python_files(p: &Pyproject) -> Result<Vec<WheelFile>> {
    let root = &p.root;
    let source_dir = python_source_dir(p)?;
    let flat = source_dir == *root;
    let import_name = filename_name(&p.project.name);
    let mut names: Vec<String> = match &p.tool.packages {
        Some(list) => list.clone(),
        None => {
            let mut found = Vec::new();
            let mut entries: Vec<_> = std::fs::read_dir(&source_dir)
                .map_err(|e| Error::Io { context: format!("cannot read {source_dir}"), source: e })?
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect();
            entries.sort();
            for n in entries {
                let path = source_dir.join(&n);
                if path.is_dir() && path.join("__init__.py").is_file() && !NOT_PACKAGES.contains(&n.as_str()) && !n.starts_with('.') {
                    found.push(n);
                } else if path.is_file() && n.ends_with(".py") {
                    let stem = n.trim_end_matches(".py");
                    // In a flat layout only a module named after the project is
                    // taken (setup.py, conftest.py, noxfile.py … are not modules).
                    if !flat || stem == import_name {
                        found.push(n);
                    }
                }
            }
            found
        }
    };
    // The packages that hold extension modules must be in the wheel too.
    for ext in &p.tool.ext_modules {
        if let Some((top, _)) = ext.name.split_once('.') {
            if !names.iter().any(|n| n == top) && source_dir.join(top).is_dir() {
                names.push(top.to_string());
            }
        }
    }
    let mut files = Vec::new();
    for n in &names {
        let path = source_dir.join(n.replace('.', "/"));
        let as_module = source_dir.join(format!("{}.py", n.replace('.', "/")));
        if path.is_dir() {
            walk_package(&path, &n.replace('.', "/"), &mut files)?;
        } else if as_module.is_file() {
            files.push(WheelFile { source: as_module, archive_path: format!("{}.py", n.replace('.', "/")) });
        } else if path.is_file() && n.ends_with(".py") {
            files.push(WheelFile { source: path, archive_path: n.clone() });
        } else {
            return Err(Error::project(root.join("pyproject.toml"), format!("`tool.wasiwheel.packages` lists `{n}`, which is neither a package directory nor a module in {source_dir}")));
        }
    }
    if files.is_empty() && p.tool.ext_modules.is_empty() {
        return Err(Error::project(
            root.join("pyproject.toml"),
            format!("no Python package or module found in {source_dir}: add a package directory with an __init__.py (e.g. src/{import_name}/__init__.py), or list them in `tool.wasiwheel.packages`"),
        ));
    }
    files.sort_by(|a, b| a.archive_path.cmp(&b.archive_path));
    files.dedup_by(|a, b| a.archive_path == b.archive_path);
    Ok(files)
}

fn parse_limited(s: &str) -> PyVersion {
    // Validated in pyproject: `cp3` followed by digits.
    PyVersion { major: 3, minor: s[3..].parse().unwrap_or(2) }
}

impl BuildPlan {
    /// Plan a wheel build of `pyproject` with `settings`. `host_python` is the
    /// interpreter to build native wheels for (the frontend's `sys.executable`);
    /// it is queried only for native builds with extension modules.
    ///
    /// Errors: [`Error::Toolchain`] for a missing SDK or target CPython, an SDK
    /// whose major differs from the one that built the target CPython (unless
    /// `allow-sdk-mismatch`), a limited API newer than the target; others from
    /// [`discover_python_files`].
    pub fn new(pyproject: Pyproject, settings: Settings, host_python: &str) -> Result<BuildPlan> {
        let python_files = discover_python_files(&pyproject)?;
        let root = pyproject.root.clone();
        let extensions: Vec<ExtensionSpec> = pyproject
            .tool
            .ext_modules
            .iter()
            .map(|e| ExtensionSpec {
                name: e.name.clone(),
                sources: e.sources.iter().map(|s| root.join(s)).collect(),
                include_dirs: e.include_dirs.iter().map(|s| root.join(s)).collect(),
                defines: e.defines.iter().map(|d| match d.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (d.clone(), None),
                }).collect(),
                libraries: e.libraries.clone(),
                language: e.language,
                limited_api: e.py_limited_api.as_deref().map(parse_limited),
            })
            .collect();
        let pure = extensions.is_empty();

        let target = match settings.target {
            // A pure project's wheel is py3-none-any whatever the target: no
            // toolchain or target CPython is needed.
            _ if pure && settings.artifact != crate::pep517::config::Artifact::Component => TargetPlan::Host { python: HostPython { executable: host_python.to_string(), version: PyVersion { major: 3, minor: 0 }, implementation: "cpython".into(), abiflags: String::new(), ext_suffix: ".so".into(), include: String::new(), platinclude: String::new(), platform: "any".into() } },
            None => TargetPlan::Host { python: HostPython::query(host_python)? },
            Some(t) => {
                let python = python::resolve(settings.python_prefix.as_deref(), settings.python, t)?;
                if python.target() != t {
                    return Err(Error::Toolchain(format!("the target CPython at {} was built for {}, not {t}: choose a CPython built for {t}", python.prefix, python.target())));
                }
                let want = python.sdk().map(|s| s.major);
                let sdk = sdk::resolve(settings.wasi_sdk.as_deref(), want)?;
                match python.sdk() {
                    Some(built) if built.major != sdk.identity.major => {
                        if settings.allow_sdk_mismatch {
                            crate::progress::status(&format!(
                                "warning: building with {} for CPython {} built with WASI SDK {} (allow-sdk-mismatch): the wheel is tagged with SDK {}",
                                sdk.identity, python.full_version(), built.major, sdk.identity.major
                            ));
                        } else {
                            return Err(Error::Toolchain(format!(
                                "the WASI SDK is {} but the target CPython {} at {} was built with WASI SDK {}: extensions must be built with the same SDK major because wasi-libc has no ABI stability across SDK majors. Use WASI SDK {} (`wasiwheel sdk install {}`, or `-C wasi-sdk=DIR`), or pass `-C allow-sdk-mismatch=true` to build anyway",
                                sdk.identity, python.full_version(), python.prefix, built.major, built.major, built.major
                            )));
                        }
                    }
                    Some(_) => {}
                    None => {
                        if !settings.allow_sdk_mismatch {
                            return Err(Error::Toolchain(format!(
                                "cannot tell which WASI SDK built the target CPython at {}: it has no wasiwheel-python.json. Pass `-C allow-sdk-mismatch=true` to build with {} anyway",
                                python.prefix, sdk.identity
                            )));
                        }
                    }
                }
                if !sdk.targets().contains(&t) {
                    return Err(Error::Toolchain(format!("{} at {} has no wasi-libc for {t}", sdk.identity, sdk.root)));
                }
                if let Some(e) = extensions.iter().find(|e| e.language == crate::pep517::pyproject::Language::Cxx || e.sources.iter().any(|s| matches!(s.extension(), Some("cpp" | "cc" | "cxx")))) {
                    if !sdk.has_cxx(t) {
                        return Err(Error::Toolchain(format!(
                            "extension module `{}` is C++, but {} at {} has no C++ standard library (libc++) for {t}: use an SDK with one (official SDKs have it; for the Debian equivalent, `apt-get install libc++-19-dev-wasm32 libc++abi-19-dev-wasm32` and run `wasiwheel sdk install --from-debian {}` again)",
                            e.name, sdk.identity, sdk.root, sdk.identity.major
                        )));
                    }
                }
                TargetPlan::Wasi { target: t, sdk, python }
            }
        };

        // Tags and extension suffixes.
        let limited: Option<PyVersion> = if !pure && extensions.iter().all(|e| e.limited_api.is_some()) {
            extensions.iter().filter_map(|e| e.limited_api).max()
        } else {
            None
        };
        let (tag, ext_suffixes) = match &target {
            _ if pure => (WheelTag::pure(), Vec::new()),
            TargetPlan::Host { python } => {
                if python.implementation != "cpython" && limited.is_some() {
                    return Err(Error::Toolchain(format!("the limited API (py-limited-api) needs CPython, but the host Python is {}", python.implementation)));
                }
                let (py, abi) = tags::cpython_tags(python.version, &python.abiflags, limited);
                let platform = settings.platform_tag.clone().unwrap_or_else(|| vec![tags::platform_tag_from_sysconfig(&python.platform)]);
                let suffixes = extensions.iter().map(|e| if e.limited_api.is_some() { ".abi3.so".to_string() } else { python.ext_suffix.clone() }).collect();
                (WheelTag { python: vec![py], abi: vec![abi], platform }, suffixes)
            }
            TargetPlan::Wasi { target, sdk, python } => {
                for e in &extensions {
                    if let Some(min) = e.limited_api {
                        if min > python.version {
                            return Err(Error::Toolchain(format!(
                                "extension module `{}` asks for the limited API of {min} (py-limited-api = \"cp{}{}\"), but the target CPython is {}: lower py-limited-api or use a newer target CPython",
                                e.name, min.major, min.minor, python.version
                            )));
                        }
                    }
                }
                let (py, abi) = tags::cpython_tags(python.version, &python.abiflags, limited);
                let platform = settings.platform_tag.clone().unwrap_or_else(|| tags::wasi_platform_tags(*target, sdk.identity.major, python.version));
                let suffixes = extensions.iter().map(|e| if e.limited_api.is_some() { ".abi3.so".to_string() } else { python.ext_suffix.clone() }).collect();
                (WheelTag { python: vec![py], abi: vec![abi], platform }, suffixes)
            }
        };
        if let TargetPlan::Host { python } = &target {
            for e in &extensions {
                if let Some(min) = e.limited_api {
                    if min > python.version && !pure {
                        return Err(Error::Toolchain(format!("extension module `{}` asks for the limited API of {min}, but the host Python is {}", e.name, python.version)));
                    }
                }
            }
        }

        let build_dir = match &settings.build_dir {
            Some(d) if d.is_absolute() => d.clone(),
            Some(d) => root.join(d),
            None => root.join("build").join("wasiwheel"),
        };
        let build_dir = build_dir.join(match &target {
            TargetPlan::Host { python } => format!("native-{}{}{}", python.implementation, python.version, python.abiflags),
            TargetPlan::Wasi { target, sdk, python } => format!("{target}-cp{}{}{}-sdk{}", python.version.major, python.version.minor, python.abiflags, sdk.identity.major),
        });

        Ok(BuildPlan { pyproject, settings, target, extensions, python_files, build_dir, tag, ext_suffixes })
    }

    /// How to compile: `jobs` processes (default: the number of CPUs), the
    /// profile and verbosity of the settings.
    pub fn compile_options(&self) -> crate::crossbuild::compile::CompileOptions {
        let jobs = self.settings.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        crate::crossbuild::compile::CompileOptions { jobs, profile: self.settings.profile, verbose: self.settings.verbose }
    }

    /// The compilers of this plan.
    pub fn toolchain(&self) -> Toolchain {
        match &self.target {
            TargetPlan::Host { .. } => Toolchain::Host,
            TargetPlan::Wasi { target, sdk, .. } => Toolchain::Wasi { sdk: sdk.clone(), target: *target },
        }
    }

    /// The include directories of the interpreter built for.
    pub fn python_includes(&self) -> Vec<Utf8PathBuf> {
        match &self.target {
            TargetPlan::Host { python } => {
                let mut v = vec![Utf8PathBuf::from(&python.include)];
                if python.platinclude != python.include {
                    v.push(Utf8PathBuf::from(&python.platinclude));
                }
                v
            }
            TargetPlan::Wasi { python, .. } => vec![python.include_dir()],
        }
    }
}

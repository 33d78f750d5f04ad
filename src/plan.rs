//! The build plan: config (pyproject + config settings + environment) turned
//! into what to compile, for which target, with which toolchain, and how the
//! wheel is tagged. Everything after this point only carries the plan out.

use camino::{Utf8Path, Utf8PathBuf};

use crate::crossbuild::compile::{CompileOptions, ExtensionSpec, Toolchain};
use crate::error::{Error, Result};
use crate::model::entry::Entry;
use crate::model::lang::Language;
use crate::model::names::filename_name;
use crate::model::target::{PyVersion, WasiTarget};
use crate::pep517::config::{Artifact, Settings};
use crate::pep517::pyproject::{Project, Pyproject};
use crate::tags::{self, WheelTag};
use crate::toolchain::cxx_eh::{self, CxxRuntime, ExnrefCompiler};
use crate::toolchain::provision;
use crate::toolchain::python::{self, AbiContext, HostPython, TargetPython};
use crate::toolchain::sdk::WasiSdk;

/// The interpreter and toolchain a wheel is built for.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per build; boxing would only add noise
pub enum TargetPlan {
    /// A pure-Python project: a `py3-none-any` wheel whatever the target; no
    /// toolchain or interpreter is needed.
    Pure,
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
        /// The exception-enabled C++ runtime the project's C++ is compiled
        /// against (`None`: no C++, `-C cxx-exceptions=false`, or an SDK and
        /// host that cannot have one, said when planning).
        cxx_eh: Option<CxxRuntime>,
        /// The exnref compiler for C that calls setjmp/longjmp (`None`:
        /// refused; [`cxx_eh::for_sjlj`]).
        sjlj: Option<ExnrefCompiler>,
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

/// What a component build needs (`artifact = component`).
#[derive(Debug, Clone)]
pub struct ComponentPlan {
    /// The function `wasi:cli/run` calls (a command component; unused for worlds).
    pub entry: Entry,
    /// The WIT world the app implements, instead of a command.
    pub world: Option<WorldPlan>,
    /// Pre-initialize with wizer.
    pub preinit: bool,
    /// A directory of WASI wheels whose pure-Python files and extension modules go in too (absolute).
    pub wheels_dir: Option<Utf8PathBuf>,
    /// `component-hash-seed`: the secret value the string-hash secret of a
    /// pre-initialized component is derived from, with the project's name and
    /// version (`None`: a digest of the component's inputs instead).
    pub hash_seed: Option<String>,
    /// `[tool.wasiwheel.component] include-modules`: modules a pre-initialized
    /// component keeps even when no import statement reachable from the entry names them.
    pub include_modules: Vec<String>,
}

/// A component of a WIT world (`[tool.wasiwheel.component] wit-path`,
/// `world`, `app`, or their `-C component-…` settings, which win).
#[derive(Debug, Clone)]
pub struct WorldPlan {
    /// The `.wit` file or directory (absolute).
    pub wit_path: Utf8PathBuf,
    /// The world's name (`None`: the package's only world).
    pub world: Option<String>,
    /// The app module.
    pub app: String,
    /// Import no WASI (`component-stub-wasi`).
    pub stub_wasi: bool,
}

/// The world a component implements, if any: settings win over the
/// project's `[tool.wasiwheel.component]` table; `wit-path` is relative to
/// `root`.
///
/// Errors: [`Error::Config`] (key `component-app`) when a world is given
/// without the app module, or an app without a world.
pub fn world_plan(
    settings: &Settings,
    tool: Option<&crate::pep517::pyproject::ToolConfig>,
    root: &Utf8Path,
) -> Result<Option<WorldPlan>> {
    let wit = settings.component_wit_path.clone().or_else(|| tool.and_then(|t| t.component_wit_path.clone()));
    let app = settings.component_app.clone().or_else(|| tool.and_then(|t| t.component_app.clone()));
    let world = settings.component_world.clone().or_else(|| tool.and_then(|t| t.component_world.clone()));
    match (wit, app) {
        (None, None) if world.is_none() => Ok(None),
        (Some(wit), Some(app)) => {
            if !app.split('.').all(|p| {
                !p.is_empty()
                    && !p.starts_with(|c: char| c.is_ascii_digit())
                    && p.chars().all(|c| c.is_alphanumeric() || c == '_')
            }) {
                return Err(Error::config(
                    "component-app",
                    format!("`{app}` is not a module name (e.g. app or pkg.app)"),
                ));
            }
            Ok(Some(WorldPlan { wit_path: root.join(wit), world, app, stub_wasi: settings.component_stub_wasi }))
        }
        (None, _) => Err(Error::config(
            "component-wit-path",
            "a world component needs its WIT: set `-C component-wit-path=…` or `[tool.wasiwheel.component] wit-path`",
        )),
        (Some(_), None) => Err(Error::config(
            "component-app",
            "a world component needs the module that implements its exports: set `-C component-app=MODULE` or \
             `[tool.wasiwheel.component] app`",
        )),
    }
}

/// Everything a wheel build needs, decided up front from the project, the
/// config settings and the environment. Carries decisions, not inputs: the
/// driver (`src/driver.rs`) only carries it out.
#[derive(Debug, Clone)]
pub struct BuildPlan {
    /// The project root (the directory of `pyproject.toml`).
    pub root: Utf8PathBuf,
    /// The core metadata to write.
    pub project: Project,
    /// The directory holding the Python packages (for editable installs).
    #[cfg_attr(not(feature = "python"), allow(dead_code))]
    pub python_source: Utf8PathBuf,
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
    /// How to compile.
    pub compile: CompileOptions,
    /// The component to build too, for `artifact = component`.
    pub component: Option<ComponentPlan>,
}

/// Directory names never treated as packages in automatic discovery.
const NOT_PACKAGES: &[&str] = &[
    "tests",
    "test",
    "testing",
    "docs",
    "doc",
    "examples",
    "example",
    "benchmarks",
    "bench",
    "scripts",
    "tools",
    "build",
    "dist",
    "site-packages",
    "venv",
    ".venv",
];

/// File types left out of wheels: sources of extensions, build products, caches.
fn wheel_excluded(name: &str) -> bool {
    const EXT: &[&str] =
        &[".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".o", ".obj", ".a", ".so", ".pyd", ".dylib", ".pyc", ".pyo"];
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
                return Err(Error::project(
                    root.join("pyproject.toml"),
                    format!("`tool.wasiwheel.python-source` names `{s}`, which is not a directory"),
                ));
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
                if path.is_dir()
                    && path.join("__init__.py").is_file()
                    && !NOT_PACKAGES.contains(&n.as_str())
                    && !n.starts_with('.')
                {
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
            return Err(Error::project(
                root.join("pyproject.toml"),
                format!(
                    "`tool.wasiwheel.packages` lists `{n}`, \
                which is neither a package directory nor a module in {source_dir}"
                ),
            ));
        }
    }
    if files.is_empty() && p.tool.ext_modules.is_empty() {
        return Err(Error::project(
            root.join("pyproject.toml"),
            format!(
                "no Python package or module found in {source_dir}: add a package directory with an __init__.py \
                (e.g. src/{import_name}/__init__.py), or list them in `tool.wasiwheel.packages`"
            ),
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

/// Library names that mean "the C++ standard library" in setup.py files.
const CXX_RUNTIMES: &[&str] = &["stdc++", "c++"];

/// The extension modules of `pyproject`, with paths made absolute.
fn extension_specs(pyproject: &Pyproject) -> Vec<ExtensionSpec> {
    let root = &pyproject.root;
    pyproject
        .tool
        .ext_modules
        .iter()
        .map(|e| ExtensionSpec {
            name: e.name.clone(),
            sources: e.sources.iter().map(|s| root.join(s)).collect(),
            include_dirs: e.include_dirs.iter().map(|s| root.join(s)).collect(),
            defines: e
                .defines
                .iter()
                .map(|d| match d.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (d.clone(), None),
                })
                .collect(),
            // `libraries = ["stdc++"]` (from setup.py files written for GCC) asks
            // for the C++ runtime: on WASI that is the SDK's libc++, which a C++
            // module links anyway.
            libraries: e.libraries.iter().filter(|l| !CXX_RUNTIMES.contains(&l.as_str())).cloned().collect(),
            language: if e.libraries.iter().any(|l| CXX_RUNTIMES.contains(&l.as_str())) {
                Language::Cxx
            } else {
                e.language
            },
            limited_api: e.py_limited_api.as_deref().map(parse_limited),
            extra_compile_args: e.extra_compile_args.clone(),
            extra_link_args: e.extra_link_args.clone(),
            optional: e.optional,
        })
        .collect()
}

/// The entry of a project's component: `[tool.wasiwheel.component] entry`,
/// else the project's only console script.
///
/// Errors: [`Error::Project`] when neither gives exactly one entry.
pub fn component_entry(p: &Pyproject) -> Result<Entry> {
    let text = match (&p.tool.component_entry, p.project.scripts.len()) {
        (Some(e), _) => e.clone(),
        (None, 1) => p.project.scripts.values().next().expect("one script").clone(),
        (None, 0) => {
            return Err(Error::project(
                p.root.join("pyproject.toml"),
                "a component needs an entry point: set `tool.wasiwheel.component.entry = \"pkg.module:function\"` \
                 or declare one `[project.scripts]` console script",
            ))
        }
        (None, n) => {
            return Err(Error::project(
                p.root.join("pyproject.toml"),
                format!(
                    "the project has {n} console scripts: choose the component's with `tool.wasiwheel.component.entry`"
                ),
            ))
        }
    };
    Entry::parse(&text).map_err(|m| Error::project(p.root.join("pyproject.toml"), m))
}

/// The target CPython and SDK for a WASI build for `t`, checked against the
/// ABI rule and the modules' needs (C++).
pub fn plan_wasi(t: WasiTarget, settings: &Settings, extensions: &[ExtensionSpec]) -> Result<TargetPlan> {
    let python = provision::python(settings.python_prefix.as_deref(), settings.python, t)?;
    if python.target() != t {
        return Err(Error::Toolchain(format!(
            "the target CPython at {} was built for {}, not {t}: choose a CPython built for {t}",
            python.prefix,
            python.target()
        )));
    }
    let sdk = provision::sdk(settings.wasi_sdk.as_deref(), python.sdk().map(|s| s.major))?;
    if let Some(warning) = python::check_abi(&python, &sdk.identity, settings.allow_sdk_mismatch, AbiContext::Build)? {
        crate::progress::status(&warning);
    }
    if !sdk.targets().contains(&t) {
        return Err(Error::Toolchain(format!("{} at {} has no wasi-libc for {t}", sdk.identity, sdk.root)));
    }
    let cxx = extensions
        .iter()
        .find(|e| e.language == Language::Cxx || e.sources.iter().any(|s| crate::model::lang::is_cxx_source(s)));
    for e in extensions {
        if let Some(min) = e.limited_api.filter(|min| *min > python.version) {
            return Err(Error::Toolchain(format!(
                "extension module `{}` asks for the limited API of {min} (py-limited-api = \"cp{}{}\"), but the \
                 target CPython is {}: lower py-limited-api or use a newer target CPython",
                e.name, min.major, min.minor, python.version
            )));
        }
    }
    let cxx_eh = cxx_eh::for_build(&sdk, t, cxx.is_some() && settings.cxx_exceptions)?;
    // wasiwheel's exception-enabled runtime brings its own libc++; without it
    // C++ needs the SDK's.
    if let (Some(e), None) = (cxx, &cxx_eh) {
        if !sdk.has_cxx(t) {
            let fix = match (t, sdk.identity.origin.starts_with("debian")) {
                (WasiTarget::P1, true) => format!(
                    "for the Debian equivalent, `apt-get install libc++-{n}-dev-wasm32 libc++abi-{n}-dev-wasm32` and \
                     run `wasiwheel sdk install --from-debian {m}` again",
                    n = cxx_eh::sdk_llvm_major(&sdk).unwrap_or(19),
                    m = sdk.identity.major
                ),
                (WasiTarget::P2, true) => "Debian has no libc++ for wasm32-wasip2: use an official WASI SDK".into(),
                _ => "use an SDK with one (official SDKs have it)".into(),
            };
            return Err(Error::Toolchain(format!(
                "extension module `{}` is C++, but {} at {} has no C++ standard library (libc++) for {t}: {fix}",
                e.name, sdk.identity, sdk.root
            )));
        }
    }
    let sjlj = match &cxx_eh {
        Some(rt) => Some(rt.compiler.clone()),
        None => cxx_eh::for_sjlj(&sdk, t, settings.cxx_exceptions),
    };
    Ok(TargetPlan::Wasi { target: t, sdk, python, cxx_eh, sjlj })
}

/// The host interpreter for a native build, checked against the modules' needs.
fn plan_host(host_python: &str, extensions: &[ExtensionSpec]) -> Result<TargetPlan> {
    let python = HostPython::query(host_python)?;
    let limited = extensions.iter().any(|e| e.limited_api.is_some());
    if python.implementation != "cpython" && limited {
        return Err(Error::Toolchain(format!(
            "the limited API (py-limited-api) needs CPython, but the host Python is {}",
            python.implementation
        )));
    }
    for e in extensions {
        if let Some(min) = e.limited_api.filter(|min| *min > python.version) {
            return Err(Error::Toolchain(format!(
                "extension module `{}` asks for the limited API of {min}, but the host Python is {}",
                e.name, python.version
            )));
        }
    }
    Ok(TargetPlan::Host { python })
}

/// The wheel's tags and each extension's file-name suffix.
fn plan_tags(
    target: &TargetPlan,
    extensions: &[ExtensionSpec],
    platform_override: Option<&[String]>,
) -> (WheelTag, Vec<String>) {
    // abi3 only when every module is limited-API: the newest minimum wins.
    let limited = if extensions.iter().all(|e| e.limited_api.is_some()) {
        extensions.iter().filter_map(|e| e.limited_api).max()
    } else {
        None
    };
    let (version, abiflags, ext_suffix, platform) = match target {
        TargetPlan::Pure => return (WheelTag::pure(), Vec::new()),
        TargetPlan::Host { python } => (
            python.version,
            &python.abiflags,
            &python.ext_suffix,
            vec![tags::platform_tag_from_sysconfig(&python.platform)],
        ),
        TargetPlan::Wasi { target, sdk, python, .. } => (
            python.version,
            &python.abiflags,
            &python.ext_suffix,
            tags::wasi_platform_tags(*target, sdk.identity.major, python.version),
        ),
    };
    let (py, abi) = tags::cpython_tags(version, abiflags, limited);
    let platform = platform_override.map(<[String]>::to_vec).unwrap_or(platform);
    let suffixes = extensions
        .iter()
        .map(|e| if e.limited_api.is_some() { ".abi3.so".to_string() } else { ext_suffix.clone() })
        .collect();
    (WheelTag { python: vec![py], abi: vec![abi], platform }, suffixes)
}

impl BuildPlan {
    /// Plan a wheel build of `pyproject` with `settings`. `host_python` is the
    /// interpreter to build native wheels for (the frontend's `sys.executable`);
    /// it is queried only for native builds with extension modules.
    ///
    /// Errors: [`Error::SdkNotInstalled`], [`Error::PythonNotInstalled`],
    /// [`Error::SdkMismatch`] / [`Error::SdkUnknown`] (the ABI rule, unless
    /// `allow-sdk-mismatch`), [`Error::Toolchain`] for a limited API newer than
    /// the target or C++ without libc++; [`Error::Project`] from
    /// [`discover_python_files`] and for a component without an entry point.
    pub fn new(pyproject: Pyproject, settings: Settings, host_python: &str) -> Result<BuildPlan> {
        let python_files = discover_python_files(&pyproject)?;
        let python_source = python_source_dir(&pyproject)?;
        let extensions = extension_specs(&pyproject);
        let component = match settings.artifact {
            Artifact::Wheel => None,
            Artifact::Component => Some(ComponentPlan {
                world: world_plan(&settings, Some(&pyproject.tool), &pyproject.root)?,
                entry: match world_plan(&settings, Some(&pyproject.tool), &pyproject.root)? {
                    Some(_) => Entry::parse("wit_world:WitWorld").expect("a valid entry"),
                    None => component_entry(&pyproject)?,
                },
                preinit: settings.component_preinit,
                wheels_dir: settings.component_wheels.as_ref().map(|d| pyproject.root.join(d)),
                hash_seed: settings.component_hash_seed.clone(),
                include_modules: pyproject.tool.component_include_modules.clone(),
            }),
        };
        if component.is_some() && settings.target != Some(WasiTarget::P1) {
            return Err(Error::config(
                "artifact",
                "a component is built for the wasm32-wasip1 target: add `-C target=wasm32-wasi`",
            ));
        }
        let target = match settings.target {
            _ if extensions.is_empty() && component.is_none() => TargetPlan::Pure,
            None => plan_host(host_python, &extensions)?,
            Some(t) => plan_wasi(t, &settings, &extensions)?,
        };
        let (tag, ext_suffixes) = plan_tags(&target, &extensions, settings.platform_tag.as_deref());
        let root = pyproject.root.clone();
        let build_dir = match &settings.build_dir {
            Some(d) => root.join(d),
            None => root.join("build").join("wasiwheel"),
        };
        let build_dir = build_dir.join(match &target {
            TargetPlan::Pure => "pure".to_string(),
            TargetPlan::Host { python } => {
                format!("native-{}{}{}", python.implementation, python.version, python.abiflags)
            }
            TargetPlan::Wasi { target, sdk, python, .. } => format!(
                "{target}-cp{}{}{}-sdk{}",
                python.version.major, python.version.minor, python.abiflags, sdk.identity.major
            ),
        });
        let jobs = settings.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        // The project and build directories are mapped out of the objects, so
        // wheels are byte-identical whatever directory they are built in.
        let mut prefix_maps = vec![(root.clone(), ".".to_string())];
        if !build_dir.starts_with(&root) {
            prefix_maps.push((build_dir.clone(), "build".to_string()));
        }
        let python_cflags = match &target {
            TargetPlan::Pure => Vec::new(),
            TargetPlan::Host { python } => python::extension_cflags(&python.cflags),
            TargetPlan::Wasi { python, .. } => python.extension_cflags(),
        };
        let compile = CompileOptions {
            jobs,
            profile: settings.profile,
            verbose: settings.verbose,
            python_cflags,
            prefix_maps,
            fpcast_repair: settings.fpcast_repair,
        };
        Ok(BuildPlan {
            root,
            project: pyproject.project,
            python_source,
            target,
            extensions,
            python_files,
            build_dir,
            tag,
            ext_suffixes,
            compile,
            component,
        })
    }

    /// The compilers of this plan (`None` for a pure project).
    pub fn toolchain(&self) -> Option<Toolchain> {
        match &self.target {
            TargetPlan::Pure => None,
            TargetPlan::Host { .. } => Some(Toolchain::Host),
            TargetPlan::Wasi { target, sdk, cxx_eh, sjlj, .. } => Some(Toolchain::Wasi {
                sdk: sdk.clone(),
                target: *target,
                cxx_eh: cxx_eh.clone().map(Box::new),
                sjlj: sjlj.clone().map(Box::new),
            }),
        }
    }

    /// The include directories of the interpreter built for.
    pub fn python_includes(&self) -> Vec<Utf8PathBuf> {
        match &self.target {
            TargetPlan::Pure => Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn project(dir: &Utf8Path, pyproject: &str) -> Pyproject {
        std::fs::create_dir_all(dir.join("src/pkg")).unwrap();
        std::fs::write(dir.join("src/pkg/__init__.py"), "x = 1\n").unwrap();
        std::fs::write(dir.join("src/pkg/data.txt"), "d").unwrap();
        std::fs::write(dir.join("src/pkg/fast.c"), "int x;").unwrap();
        std::fs::write(dir.join("pyproject.toml"), pyproject).unwrap();
        Pyproject::load(dir).unwrap()
    }

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            m.entry(k.to_string()).or_default().push(v.to_string());
        }
        Settings::resolve(&m, |_| None).unwrap()
    }

    #[test]
    fn pure_project_plans_no_toolchain_whatever_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let p = project(root, "[project]\nname = \"Pkg\"\nversion = \"1.0\"\n");
        // A WASI target is given, but no SDK or CPython is looked up: the wheel is pure.
        let plan = BuildPlan::new(p, settings(&[("target", "wasm32-wasi")]), "/nonexistent/python").unwrap();
        assert!(matches!(plan.target, TargetPlan::Pure));
        assert_eq!(plan.tag.to_string(), "py3-none-any");
        assert!(plan.toolchain().is_none() && plan.python_includes().is_empty());
        let files: Vec<&str> = plan.python_files.iter().map(|f| f.archive_path.as_str()).collect();
        // Sources of extensions are not package data.
        assert_eq!(files, ["pkg/__init__.py", "pkg/data.txt"]);
        assert_eq!(plan.build_dir, root.join("build/wasiwheel/pure"));
        assert_eq!(plan.compile.prefix_maps, [(root.to_path_buf(), ".".to_string())]);
        assert!(plan.component.is_none());
    }

    #[test]
    fn build_dir_setting_and_prefix_maps() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let p = project(root, "[project]\nname = \"pkg\"\nversion = \"1.0\"\n");
        let plan = BuildPlan::new(p, settings(&[("build-dir", "/elsewhere/objs"), ("jobs", "3")]), "python3").unwrap();
        assert_eq!(plan.build_dir, Utf8Path::new("/elsewhere/objs/pure"));
        assert_eq!(plan.compile.jobs, 3);
        // A build directory outside the project is mapped out of objects too.
        assert_eq!(plan.compile.prefix_maps[1], (Utf8PathBuf::from("/elsewhere/objs/pure"), "build".to_string()));
    }

    #[test]
    fn component_needs_an_entry_point() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let p = project(root, "[project]\nname = \"pkg\"\nversion = \"1.0\"\n");
        let e = BuildPlan::new(p, settings(&[("artifact", "component")]), "python3").unwrap_err();
        assert!(matches!(e, Error::Project { .. }), "{e:?}");
        assert!(e.to_string().contains("tool.wasiwheel.component.entry"), "{e}");
        let p = project(root, "[project]\nname = \"pkg\"\nversion = \"1.0\"\nscripts = { pkg = \"pkg:main\" }\n");
        // With an entry, a component still needs the WASI target.
        let e = BuildPlan::new(p, settings(&[("artifact", "component")]), "python3").unwrap_err();
        assert!(matches!(&e, Error::Config { key, .. } if key == "artifact"), "{e:?}");
        assert!(e.to_string().contains("target=wasm32-wasi"), "{e}");
    }

    #[test]
    fn extension_specs_take_the_cxx_runtime_and_args() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let p = project(
            root,
            "[project]\nname = \"pkg\"\nversion = \"1.0\"\n[[tool.wasiwheel.ext-modules]]\nname = \"pkg.fast\"\n\
             sources = [\"src/pkg/fast.c\"]\nlibraries = [\"stdc++\", \"m\"]\nextra-compile-args = [\"-O3\"]\n\
             optional = true\npy-limited-api = \"cp310\"\n",
        );
        let specs = extension_specs(&p);
        assert_eq!(specs.len(), 1);
        let s = &specs[0];
        assert_eq!(s.libraries, ["m"]);
        assert_eq!(s.language, Language::Cxx);
        assert_eq!(s.sources, [root.join("src/pkg/fast.c")]);
        assert_eq!(s.extra_compile_args, ["-O3"]);
        assert!(s.optional);
        assert_eq!(s.limited_api, Some(PyVersion { major: 3, minor: 10 }));
        assert_eq!(s.init_symbol(), "PyInit_fast");
    }

    #[test]
    fn tags_for_limited_api_need_every_module_limited() {
        let spec = |limited: Option<PyVersion>| ExtensionSpec {
            name: "p.m".into(),
            sources: vec![],
            include_dirs: vec![],
            defines: vec![],
            libraries: vec![],
            language: Language::C,
            limited_api: limited,
            extra_compile_args: vec![],
            extra_link_args: vec![],
            optional: false,
        };
        let host = TargetPlan::Host {
            python: HostPython {
                executable: "python3".into(),
                version: PyVersion { major: 3, minor: 12 },
                implementation: "cpython".into(),
                abiflags: String::new(),
                ext_suffix: ".cpython-312-x86_64-linux-gnu.so".into(),
                include: String::new(),
                platinclude: String::new(),
                platform: "linux-x86_64".into(),
                cflags: String::new(),
            },
        };
        let v39 = Some(PyVersion { major: 3, minor: 9 });
        let (tag, suffixes) = plan_tags(&host, &[spec(v39), spec(None)], None);
        assert_eq!(tag.to_string(), "cp312-cp312-linux_x86_64");
        assert_eq!(suffixes, [".abi3.so", ".cpython-312-x86_64-linux-gnu.so"]);
        let (tag, _) = plan_tags(&host, &[spec(v39)], Some(&["manylinux_2_17_x86_64".to_string()]));
        assert_eq!(tag.to_string(), "cp39-abi3-manylinux_2_17_x86_64");
    }
}

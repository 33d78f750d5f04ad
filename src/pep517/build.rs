//! What the PEP 517 hooks do: `build_wheel`, `build_sdist`,
//! `prepare_metadata_for_build_wheel`. The Python hooks in `backend/` and the
//! CLI's `wasiwheel build` both call these.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::crossbuild::compile;
use crate::crossbuild::sdk::SdkIdentity;
use crate::crossbuild::target::{PyVersion, WasiTarget};
use crate::error::{Error, IoContext, Result};
use crate::pep517::config::{Artifact, Settings};
use crate::pep517::metadata;
use crate::pep517::pyproject::{filename_name, Project, Pyproject};
use crate::pep517::{sdist, timestamp, wheel::{wheel_file, WheelBuilder}};
use crate::crossbuild::component::{ComponentSpec, Entry};
use crate::crossbuild::relink::StaticModule;
use crate::plan::{BuildPlan, TargetPlan};
use crate::progress;

/// Where the static archives of a WASI wheel's extension modules live inside
/// its `.dist-info` directory, with `manifest.json` beside them.
pub const STATIC_DIR: &str = "static-extensions";

/// The manifest of a WASI wheel's static extension archives
/// (`{dist-info}/static-extensions/manifest.json`): what a static runtime
/// needs to link the extensions into CPython.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StaticManifest {
    /// Format version (1).
    pub version: u32,
    /// The WASI target the archives are for.
    pub target: WasiTarget,
    /// The target CPython version.
    pub python: PyVersion,
    /// The SDK that compiled them.
    pub sdk: SdkIdentity,
    /// One entry per extension module.
    pub modules: Vec<StaticModuleEntry>,
}

/// One extension module in a [`StaticManifest`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StaticModuleEntry {
    /// Dotted module name.
    pub name: String,
    /// Its init function (`PyInit__core`).
    pub init: String,
    /// The archive, relative to the `static-extensions/` directory.
    pub archive: String,
    /// Libraries it links (`-l`).
    pub libraries: Vec<String>,
    /// `c` or `c++`.
    pub language: String,
}

/// `{name}-{version}` as in file names: the escaped name and the normalised version.
pub fn dist_stem(project: &Project) -> String {
    format!("{}-{}", filename_name(&project.name), project.version)
}

/// Add METADATA, WHEEL, entry_points.txt and license files to `w`.
fn add_dist_info(w: &mut WheelBuilder, p: &Pyproject, root_is_purelib: bool, tags: &[String]) -> Result<()> {
    w.add_dist_info("METADATA", metadata::render(&p.project, &[]).into_bytes())?;
    w.add_dist_info("WHEEL", wheel_file(root_is_purelib, tags).into_bytes())?;
    if let Some(ep) = metadata::entry_points_txt(&p.project) {
        w.add_dist_info("entry_points.txt", ep.into_bytes())?;
    }
    for f in &p.project.license_files {
        let data = std::fs::read(p.root.join(f)).context(|| format!("cannot read license file {}", p.root.join(f)))?;
        w.add_dist_info(&format!("licenses/{f}"), data)?;
    }
    Ok(())
}

/// Compile and link the extension modules of `plan`; add each loadable
/// module (and, for WASI, its static archive and the manifest) to `w`.
/// Returns what the compilers did and the extensions as static modules (for
/// relinking; empty for native builds).
fn build_extensions(plan: &BuildPlan, w: &mut WheelBuilder) -> Result<(compile::BuildStats, Vec<StaticModule>)> {
    let mut stats = compile::BuildStats::default();
    let mut statics = Vec::new();
    if plan.extensions.is_empty() {
        return Ok((stats, statics));
    }
    let opts = plan.compile_options();
    let tc = plan.toolchain();
    let what = match &plan.target {
        TargetPlan::Host { python } => format!("for the host ({} {})", python.implementation, python.version),
        TargetPlan::Wasi { target, sdk, python } => format!("for {target} (CPython {}, {})", python.full_version(), sdk.identity),
    };
    let n: usize = plan.extensions.iter().map(|e| e.sources.len()).sum();
    progress::status(&format!("building {} extension module(s) from {n} source(s) {what}, {} job(s)", plan.extensions.len(), opts.jobs));
    let (objects, s) = compile::compile(&tc, &plan.extensions, &plan.python_includes(), &plan.build_dir.join("obj"), &opts)?;
    stats = s;
    let mut manifest_modules = Vec::new();
    for ((ext, objs), suffix) in plan.extensions.iter().zip(&objects).zip(&plan.ext_suffixes) {
        let rel = format!("{}{}", ext.name.replace('.', "/"), suffix);
        let out = plan.build_dir.join("lib").join(&rel);
        stats.tool_time += compile::link_extension(&tc, ext, objs, &out, &opts)?;
        w.add(&rel, std::fs::read(&out).context(|| format!("cannot read {out}"))?, false)?;
        if let TargetPlan::Wasi { sdk, .. } = &plan.target {
            let archive_name = format!("{}.a", ext.name);
            let a = plan.build_dir.join("static").join(&archive_name);
            stats.tool_time += compile::archive(sdk, objs, &a, &opts)?;
            w.add_dist_info(&format!("{STATIC_DIR}/{archive_name}"), std::fs::read(&a).context(|| format!("cannot read {a}"))?)?;
            let cxx = ext.language == crate::pep517::pyproject::Language::Cxx;
            manifest_modules.push(StaticModuleEntry {
                name: ext.name.clone(),
                init: ext.init_symbol(),
                archive: archive_name,
                libraries: ext.libraries.clone(),
                language: if cxx { "c++".into() } else { "c".into() },
            });
            statics.push(StaticModule { name: ext.name.clone(), init: ext.init_symbol(), archive: a, libraries: ext.libraries.clone(), cxx });
        }
    }
    if let TargetPlan::Wasi { target, sdk, python } = &plan.target {
        let manifest = StaticManifest { version: 1, target: *target, python: python.version, sdk: sdk.identity.clone(), modules: manifest_modules };
        w.add_dist_info(&format!("{STATIC_DIR}/manifest.json"), serde_json::to_vec_pretty(&manifest).expect("serialisable"))?;
    }
    Ok((stats, statics))
}

/// Where a wheel built with `artifact=component` carries its component:
/// `{name}-{version}.data/data/share/wasiwheel/components/{name}-{version}.wasm`
/// (installed into `<prefix>/share/wasiwheel/components/`).
pub fn component_path_in_wheel(stem: &str) -> String {
    format!("{stem}.data/data/share/wasiwheel/components/{stem}.wasm")
}

/// The entry of a project's component: `[tool.wasiwheel.component] entry`,
/// else the project's only console script.
///
/// Errors: [`Error::Project`] when neither gives exactly one entry.
pub fn component_entry(p: &Pyproject) -> Result<Entry> {
    let text = match (&p.tool.component_entry, p.project.scripts.len()) {
        (Some(e), _) => e.clone(),
        (None, 1) => p.project.scripts.values().next().expect("one script").clone(),
        (None, 0) => return Err(Error::project(p.root.join("pyproject.toml"), "a component needs an entry point: set `tool.wasiwheel.component.entry = \"pkg.module:function\"` or declare one `[project.scripts]` console script")),
        (None, n) => return Err(Error::project(p.root.join("pyproject.toml"), format!("the project has {n} console scripts: choose the component's with `tool.wasiwheel.component.entry`"))),
    };
    Entry::parse(&text).map_err(|m| Error::project(p.root.join("pyproject.toml"), m))
}

/// The pure-Python files of the wheels in `dir` (for `component-wheels`):
/// everything outside `.dist-info` that is not a compiled module.
fn wheel_python_files(dir: &Utf8Path) -> Result<Vec<(String, Vec<u8>)>> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut wheels: Vec<Utf8PathBuf> = std::fs::read_dir(dir)
        .context(|| format!("cannot read the component-wheels directory {dir}"))?
        .flatten()
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        .filter(|p| p.extension() == Some("whl"))
        .collect();
    wheels.sort();
    for w in wheels {
        let f = std::fs::File::open(&w).context(|| format!("cannot open {w}"))?;
        let mut z = zip::ZipArchive::new(f).map_err(|e| Error::Other(format!("{w} is not a wheel: {e}")))?;
        for i in 0..z.len() {
            let mut e = z.by_index(i).map_err(|e| Error::Other(format!("{w}: {e}")))?;
            let name = e.name().map_err(|e| Error::Other(format!("{w}: {e}")))?.to_string();
            if name.split('/').next().unwrap_or("").ends_with(".dist-info") || e.is_dir() {
                continue;
            }
            let Some(rel) = crate::pep517::wheel::library_relative(&name).map(str::to_string) else { continue };
            if rel.ends_with(".so") || rel.ends_with(".pyd") || rel.contains("..") {
                continue;
            }
            let mut data = Vec::new();
            e.read_to_end(&mut data).context(|| format!("cannot read {name} from {w}"))?;
            out.push((rel, data));
        }
    }
    Ok(out)
}

/// Build the component of `plan` (extensions already built into `statics`)
/// with `extra` Python files to `out`.
#[cfg(feature = "run")]
fn make_component(plan: &BuildPlan, statics: Vec<StaticModule>, out: &Utf8Path) -> Result<u64> {
    let (sdk, python) = match &plan.target {
        TargetPlan::Wasi { target: crate::crossbuild::target::WasiTarget::P1, sdk, python } => (sdk, python),
        _ => return Err(Error::config("artifact", "a component is built for the wasm32-wasip1 target: add `-C target=wasm32-wasi`")),
    };
    let entry = component_entry(&plan.pyproject)?;
    let mut files = Vec::new();
    for f in &plan.python_files {
        if f.archive_path.ends_with(".py") {
            files.push((f.archive_path.clone(), std::fs::read(&f.source).context(|| format!("cannot read {}", f.source))?));
        }
    }
    if let Some(dir) = &plan.settings.component_wheels {
        let dir = if dir.is_absolute() { dir.clone() } else { plan.pyproject.root.join(dir) };
        files.extend(wheel_python_files(&dir)?);
    }
    let spec = ComponentSpec { modules: statics, python_files: files, entry, preinit: plan.settings.component_preinit };
    crate::crossbuild::component::build(python, sdk, &spec, out, plan.settings.verbose)
}

#[cfg(not(feature = "run"))]
fn make_component(_: &BuildPlan, _: Vec<StaticModule>, _: &Utf8Path) -> Result<u64> {
    Err(Error::config("artifact", "this wasiwheel was built without its WebAssembly runtime (feature `run`), which components need"))
}

/// Build a wheel of the project at `root` into `out_dir` (PEP 517
/// `build_wheel`). `host_python` is the frontend's interpreter (for native
/// builds). Returns the wheel's file name. With `artifact=component` the
/// project's component is also written beside the wheel as
/// `{name}-{version}.wasm` and carried inside it (see [`component_path_in_wheel`]).
///
/// Errors: every [`Error`] kind; on error nothing is left in `out_dir`.
pub fn build_wheel(root: &Utf8Path, out_dir: &Utf8Path, settings: Settings, host_python: &str) -> Result<String> {
    let started = std::time::Instant::now();
    let pyproject = Pyproject::load(root)?;
    let plan = BuildPlan::new(pyproject, settings, host_python)?;
    let ts = timestamp::build_timestamp()?;
    let stem = dist_stem(&plan.pyproject.project);
    let mut w = WheelBuilder::new(format!("{stem}.dist-info"), ts);
    for f in &plan.python_files {
        let data = std::fs::read(&f.source).context(|| format!("cannot read {}", f.source))?;
        w.add(&f.archive_path, data, false)?;
    }
    if plan.settings.artifact == Artifact::Component {
        // Fail early, before compiling, on a missing entry point.
        component_entry(&plan.pyproject)?;
    }
    let (stats, statics) = build_extensions(&plan, &mut w)?;
    let component = if plan.settings.artifact == Artifact::Component {
        let c = plan.build_dir.join("component").join(format!("{stem}.wasm"));
        let size = make_component(&plan, statics, &c)?;
        w.add(&component_path_in_wheel(&stem), std::fs::read(&c).context(|| format!("cannot read {c}"))?, false)?;
        progress::status(&format!("component: {:.1} MB", size as f64 / 1e6));
        Some(c)
    } else {
        None
    };
    let pure = plan.extensions.is_empty();
    add_dist_info(&mut w, &plan.pyproject, pure, &plan.tag.expand())?;
    let filename = format!("{stem}-{}.whl", plan.tag);
    let path = w.write(out_dir, &filename)?;
    if let Some(c) = component {
        let dest = out_dir.join(format!("{stem}.wasm"));
        crate::crossbuild::cache::write_atomic(&dest, |f| {
            let mut src = std::fs::File::open(&c).context(|| format!("cannot open {c}"))?;
            std::io::copy(&mut src, f).map(drop).context(|| format!("cannot write {dest}"))
        })?;
        progress::status(&format!("built {dest}"));
    }
    let total = started.elapsed();
    if !plan.extensions.is_empty() {
        progress::status(&format!(
            "compiled {} source(s), reused {}; {:.2}s in compilers/linkers, {:.2}s in all",
            stats.compiled,
            stats.reused,
            stats.tool_time.as_secs_f64(),
            total.as_secs_f64()
        ));
    }
    progress::status(&format!("built {path}"));
    Ok(filename)
}

/// Build the component of the project at `root` (`wasiwheel component`) to
/// `out`, with the pure-Python files of `wheels` inside too. The target is
/// wasm32-wasip1 whatever `settings.target` says. Returns the component's size.
///
/// Errors: as [`build_wheel`]; nothing is left at `out` on error.
pub fn build_component(root: &Utf8Path, out: &Utf8Path, mut settings: Settings, host_python: &str, wheels: &[Utf8PathBuf]) -> Result<u64> {
    settings.target = Some(crate::crossbuild::target::WasiTarget::P1);
    settings.artifact = Artifact::Component;
    let pyproject = Pyproject::load(root)?;
    let mut plan = BuildPlan::new(pyproject, settings, host_python)?;
    component_entry(&plan.pyproject)?;
    let mut scratch = WheelBuilder::new("component.dist-info", 0);
    let (_, statics) = build_extensions(&plan, &mut scratch)?;
    if !wheels.is_empty() {
        let dir = plan.build_dir.join("component-wheels");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).context(|| format!("cannot clear {dir}"))?;
        }
        std::fs::create_dir_all(&dir).context(|| format!("cannot create {dir}"))?;
        for w in wheels {
            std::fs::copy(w, dir.join(w.file_name().unwrap_or("w.whl"))).context(|| format!("cannot read the wheel {w}"))?;
        }
        plan.settings.component_wheels = Some(dir);
    }
    make_component(&plan, statics, out)
}

/// Build an editable wheel of the project at `root` into `out_dir` (PEP 660
/// `build_editable`), for native builds only: extension modules are compiled
/// and linked in place next to their packages' sources, and the wheel holds a
/// `.pth` file that puts the project's Python source directory on `sys.path`,
/// so edits to `.py` files are seen without reinstalling. Returns the wheel's
/// file name.
///
/// Errors: [`Error::Config`] when a WASI target is set (an editable install
/// runs in the host interpreter); otherwise as [`build_wheel`].
pub fn build_editable(root: &Utf8Path, out_dir: &Utf8Path, settings: Settings, host_python: &str) -> Result<String> {
    if settings.target.is_some() {
        return Err(Error::config("target", "editable installs (pip install -e) are for the host interpreter: drop the WASI target"));
    }
    let pyproject = Pyproject::load(root)?;
    let plan = BuildPlan::new(pyproject, settings, host_python)?;
    let source_dir = crate::plan::python_source_dir(&plan.pyproject)?;
    if !plan.extensions.is_empty() {
        let opts = plan.compile_options();
        let tc = plan.toolchain();
        progress::status(&format!("building {} extension module(s) in place for an editable install", plan.extensions.len()));
        let (objects, _) = compile::compile(&tc, &plan.extensions, &plan.python_includes(), &plan.build_dir.join("obj"), &opts)?;
        for ((ext, objs), suffix) in plan.extensions.iter().zip(&objects).zip(&plan.ext_suffixes) {
            let out = source_dir.join(format!("{}{}", ext.name.replace('.', "/"), suffix));
            compile::link_extension(&tc, ext, objs, &out, &opts)?;
        }
    }
    let ts = timestamp::build_timestamp()?;
    let stem = dist_stem(&plan.pyproject.project);
    let mut w = WheelBuilder::new(format!("{stem}.dist-info"), ts);
    w.add(&format!("_{}_editable.pth", filename_name(&plan.pyproject.project.name)), format!("{source_dir}\n").into_bytes(), false)?;
    add_dist_info(&mut w, &plan.pyproject, plan.extensions.is_empty(), &plan.tag.expand())?;
    let filename = format!("{stem}-{}.whl", plan.tag);
    let path = w.write(out_dir, &filename)?;
    progress::status(&format!("built editable {path} (sources at {source_dir})"));
    Ok(filename)
}

/// Write `{name}-{version}.dist-info` with `METADATA`, `WHEEL` and
/// `entry_points.txt` into `out_dir` (PEP 517
/// `prepare_metadata_for_build_wheel`); exactly what `build_wheel` writes.
/// Returns the directory's name.
///
/// Errors: [`Error::Project`] for an invalid project; [`Error::Io`].
pub fn prepare_metadata(root: &Utf8Path, out_dir: &Utf8Path, settings: Settings, host_python: &str) -> Result<String> {
    let pyproject = Pyproject::load(root)?;
    let stem = dist_stem(&pyproject.project);
    let dist_info = format!("{stem}.dist-info");
    // The WHEEL file's tags depend on the target, so plan like build_wheel does
    // (no compilation happens here).
    let plan = BuildPlan::new(pyproject, settings, host_python)?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert("METADATA".into(), metadata::render(&plan.pyproject.project, &[]).into_bytes());
    files.insert("WHEEL".into(), wheel_file(plan.extensions.is_empty(), &plan.tag.expand()).into_bytes());
    if let Some(ep) = metadata::entry_points_txt(&plan.pyproject.project) {
        files.insert("entry_points.txt".into(), ep.into_bytes());
    }
    for f in &plan.pyproject.project.license_files {
        let data = std::fs::read(plan.pyproject.root.join(f)).context(|| format!("cannot read license file {f}"))?;
        files.insert(format!("licenses/{f}"), data);
    }
    let staging = crate::crossbuild::cache::staging_dir(out_dir, &dist_info)?;
    let s = Utf8Path::from_path(staging.path()).expect("UTF-8").to_path_buf();
    for (name, data) in files {
        let p = s.join(&name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).context(|| format!("cannot create {parent}"))?;
        }
        std::fs::write(&p, data).context(|| format!("cannot write {p}"))?;
    }
    let dest = out_dir.join(&dist_info);
    if dest.exists() {
        std::fs::remove_dir_all(&dest).context(|| format!("cannot replace {dest}"))?;
    }
    crate::crossbuild::cache::commit(staging, &dest)?;
    Ok(dist_info)
}

/// Build the sdist of the project at `root` into `out_dir` (PEP 517
/// `build_sdist`). Returns its file name, `{name}-{version}.tar.gz` (PEP 625).
///
/// Errors: [`Error::Project`] for an invalid project; [`Error::Io`]; nothing
/// is left in `out_dir` on error.
pub fn build_sdist(root: &Utf8Path, out_dir: &Utf8Path, settings: &Settings) -> Result<String> {
    let pyproject = Pyproject::load(root)?;
    let stem = dist_stem(&pyproject.project);
    let mut extra_excluded = Vec::new();
    if let Some(b) = &settings.build_dir {
        if let Ok(rel) = (if b.is_absolute() { b.clone() } else { root.join(b) }).strip_prefix(root) {
            extra_excluded.push(rel.to_path_buf());
        }
    }
    // The output directory may be inside the project (e.g. `dist/`).
    if let Ok(rel) = out_dir.strip_prefix(root) {
        if !rel.as_str().is_empty() {
            extra_excluded.push(rel.to_path_buf());
        }
    }
    let mut files: Vec<Utf8PathBuf> = sdist::collect_files(root, &extra_excluded)?;
    let pyproject_path = root.join("pyproject.toml");
    for pattern in &pyproject.tool.include {
        let matched = crate::pep517::pyproject::glob_files(root, pattern).map_err(|e| Error::project(&pyproject_path, format!("`tool.wasiwheel.include`: {e}")))?;
        if matched.is_empty() {
            return Err(Error::project(&pyproject_path, format!("`tool.wasiwheel.include` has `{pattern}`, which matches no file")));
        }
        files.extend(matched.into_iter().filter(|f| !f.components().any(|c| c.as_str() == ".git")));
    }
    if !pyproject.tool.exclude.is_empty() {
        let opts = glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: false };
        let pats: Vec<glob::Pattern> = pyproject.tool.exclude.iter().filter_map(|g| glob::Pattern::new(g).ok()).collect();
        files.retain(|f| f.as_str() == "pyproject.toml" || !pats.iter().any(|p| p.matches_with(f.as_str(), opts) || f.ancestors().skip(1).any(|a| !a.as_str().is_empty() && p.matches_with(a.as_str(), opts))));
    }
    files.sort();
    files.dedup();
    // Every extension source must be in the sdist, or the wheel cannot be built from it.
    for ext in &pyproject.tool.ext_modules {
        for s in &ext.sources {
            if !files.iter().any(|f| f == s) {
                return Err(Error::project(root.join("pyproject.toml"), format!("source `{s}` of extension module `{}` is missing from the project (or excluded from the sdist): fix `sources`", ext.name)));
            }
        }
    }
    let pkg_info = metadata::render(&pyproject.project, &[]);
    let filename = format!("{stem}.tar.gz");
    let ts = timestamp::build_timestamp()?;
    let path = sdist::write_sdist(root, &files, &pkg_info, &stem, out_dir, &filename, ts)?;
    progress::status(&format!("built {path}"));
    Ok(filename)
}

//! The build driver: what the PEP 517 hooks do (`build_wheel`,
//! `build_sdist`, `prepare_metadata_for_build_wheel`, `build_editable`) and
//! `wasiwheel build` / `wasiwheel component`. It loads the project, makes a
//! [`BuildPlan`], carries it out with [`crate::crossbuild`] and writes the
//! artifacts with the [`crate::pep517`] writers. The Python hooks in
//! `backend/` and the CLI both call these.

use camino::{Utf8Path, Utf8PathBuf};

#[cfg(feature = "run")]
use crate::component::ComponentKind;
use crate::component::{ComponentSpec, HashSeed};
use crate::crossbuild::compile;
use crate::crossbuild::crossenv;
use crate::crossbuild::objlink::unique_init;
use crate::crossbuild::relink::StaticModule;
use crate::error::{Error, IoContext, Result};
use crate::toolchain::{provision, python, sdk};

use crate::model::lang::Language;
use crate::model::layout::{
    component_path_in_wheel, library_relative, StaticManifest, StaticModuleEntry, STATIC_DIR, STATIC_MANIFEST_VERSION,
};
use crate::model::names::filename_name;
use crate::model::target::{PyVersion, WasiTarget};
use crate::pep517::config::{Artifact, Settings};
use crate::pep517::metadata;
use crate::pep517::pyproject::{Project, Pyproject};
use crate::pep517::sdist;
use crate::pep517::timestamp;
use crate::pep517::wheel::{wheel_file, WheelBuilder};
use crate::plan::{BuildPlan, ComponentPlan, TargetPlan};
use crate::progress;

/// `{name}-{version}` as in file names: the escaped name and the normalised version.
pub fn dist_stem(project: &Project) -> String {
    format!("{}-{}", filename_name(&project.name), project.version)
}

/// The files of a wheel's `.dist-info` besides `RECORD`: `METADATA`, `WHEEL`,
/// `entry_points.txt` and `licenses/…` (PEP 639), as (name, contents).
///
/// Errors: [`Error::Io`] when a license file cannot be read.
fn dist_info_files(plan: &BuildPlan) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = vec![
        ("METADATA".to_string(), metadata::render(&plan.project, &[]).into_bytes()),
        ("WHEEL".to_string(), wheel_file(plan.extensions.is_empty(), &plan.tag.expand()).into_bytes()),
    ];
    if let Some(ep) = metadata::entry_points_txt(&plan.project) {
        files.push(("entry_points.txt".into(), ep.into_bytes()));
    }
    for f in &plan.project.license_files {
        let path = plan.root.join(f);
        files.push((
            format!("licenses/{f}"),
            std::fs::read(&path).context(|| format!("cannot read license file {path}"))?,
        ));
    }
    Ok(files)
}

/// Add the [`dist_info_files`] of `plan` to `w`.
fn add_dist_info(w: &mut WheelBuilder, plan: &BuildPlan) -> Result<()> {
    for (name, data) in dist_info_files(plan)? {
        w.add_dist_info(&name, data)?;
    }
    Ok(())
}

/// Take the lock of `plan`'s build directory (`BUILD_DIR/.lock`) when the
/// build will write there (extension modules or a component), so that two
/// builds of one project at once (two frontends, parallel test runs) wait
/// for each other instead of writing the same objects. `None` for a build
/// that writes nothing there.
///
/// Errors: [`Error::Io`] when the lock file cannot be created or locked.
fn lock_build_dir(plan: &BuildPlan) -> Result<Option<crate::files::FileLock>> {
    if plan.extensions.is_empty() && plan.component.is_none() {
        return Ok(None);
    }
    let p = plan.build_dir.join(".lock");
    let on_wait =
        || crate::progress::status(&format!("waiting for another build to finish with {} (lock {p})", plan.build_dir));
    crate::files::lock_file(&p, on_wait).map(Some)
}

/// Compile and link the extension modules of `plan`; add each loadable
/// module (and, for WASI, its static archive and the manifest) to `w`.
/// Returns what the compilers did and the extensions as static modules (for
/// relinking; empty for native builds).
fn build_extensions(plan: &BuildPlan, w: &mut WheelBuilder) -> Result<(compile::BuildStats, Vec<StaticModule>)> {
    let mut statics = Vec::new();
    let Some(tc) = plan.toolchain().filter(|_| !plan.extensions.is_empty()) else {
        return Ok((compile::BuildStats::default(), statics));
    };
    let opts = &plan.compile;
    let what = match &plan.target {
        TargetPlan::Pure => String::new(),
        TargetPlan::Host { python } => format!("for the host ({} {})", python.implementation, python.version),
        TargetPlan::Wasi { target, sdk, python, .. } => {
            format!("for {target} (CPython {}, {})", python.full_version(), sdk.identity)
        }
    };
    let n: usize = plan.extensions.iter().map(|e| e.sources.len()).sum();
    progress::status(&format!(
        "building {} extension module(s) from {n} source(s) {what}, {} job(s)",
        plan.extensions.len(),
        opts.jobs
    ));
    let (objects, mut stats) =
        compile::compile(&tc, &plan.extensions, &plan.python_includes(), &plan.build_dir.join("obj"), opts)?;
    let mut manifest_modules = Vec::new();
    for ((ext, objs), suffix) in plan.extensions.iter().zip(objects).zip(&plan.ext_suffixes) {
        let rel = format!("{}{}", ext.name.replace('.', "/"), suffix);
        let out = plan.build_dir.join("lib").join(&rel);
        let linked = objs.and_then(|objs| Ok((compile::link_extension(&tc, ext, &objs, &out, opts)?, objs)));
        let objs = match linked {
            Ok((t, objs)) => {
                stats.tool_time += t;
                objs
            }
            Err(e) if ext.optional => {
                progress::status(&format!(
                    "warning: optional extension module `{}` was not built, the wheel has none:\n{e}",
                    ext.name
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        let objs = &objs;
        let data = std::fs::read(&out).context(|| format!("cannot read {out}"))?;
        if matches!(plan.target, TargetPlan::Wasi { .. }) && !crate::toolchain::wasm_meta::is_dylib(&data) {
            return Err(Error::Toolchain(format!(
                "the linker wrote {out}, which is not a WebAssembly dylib (no dylink.0 section): the WASI SDK's \
                 wasm-ld is not the one wasiwheel expects"
            )));
        }
        w.add(&rel, data, false)?;
        if let TargetPlan::Wasi { sdk, .. } = &plan.target {
            let archive_name = format!("{}.a", ext.name);
            let a = plan.build_dir.join("static").join(&archive_name);
            stats.tool_time += compile::archive(sdk, &ext.name, objs, &a, opts.verbose)?;
            w.add_dist_info(
                &format!("{STATIC_DIR}/{archive_name}"),
                std::fs::read(&a).context(|| format!("cannot read {a}"))?,
            )?;
            let cxx = ext.language == Language::Cxx;
            manifest_modules.push(StaticModuleEntry {
                name: ext.name.clone(),
                init: unique_init(&ext.name),
                archive: archive_name,
                libraries: ext.libraries.clone(),
                language: if cxx { "c++".into() } else { "c".into() },
            });
            statics.push(StaticModule {
                name: ext.name.clone(),
                init: unique_init(&ext.name),
                archive: a,
                libraries: ext.libraries.clone(),
                cxx,
            });
        }
    }
    if let TargetPlan::Wasi { target, sdk, python, .. } = &plan.target {
        let manifest = StaticManifest {
            version: STATIC_MANIFEST_VERSION,
            target: *target,
            python: python.version,
            sdk: sdk.identity.clone(),
            modules: manifest_modules,
        };
        w.add_dist_info(
            &format!("{STATIC_DIR}/manifest.json"),
            serde_json::to_vec_pretty(&manifest).expect("serialisable"),
        )?;
    }
    Ok((stats, statics))
}

/// The wheels (`*.whl`) in `dir`, sorted.
fn wheels_in(dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>> {
    let mut wheels: Vec<Utf8PathBuf> = std::fs::read_dir(dir)
        .context(|| format!("cannot read the component-wheels directory {dir}"))?
        .flatten()
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        .filter(|p| p.extension() == Some("whl"))
        .collect();
    wheels.sort();
    Ok(wheels)
}

/// The pure-Python files of the wheels in `dir` (for `component-wheels`):
/// everything outside `.dist-info` that is not a compiled module.
fn wheel_python_files(dir: &Utf8Path) -> Result<Vec<(String, Vec<u8>)>> {
    use std::io::Read;
    let mut out = Vec::new();
    for w in wheels_in(dir)? {
        let f = std::fs::File::open(&w).context(|| format!("cannot open {w}"))?;
        let mut z = zip::ZipArchive::new(f).map_err(|e| Error::Other(format!("{w} is not a wheel: {e}")))?;
        for i in 0..z.len() {
            let mut e = z.by_index(i).map_err(|e| Error::Other(format!("{w}: {e}")))?;
            let name = e.name().map_err(|e| Error::Other(format!("{w}: {e}")))?.to_string();
            if name.split('/').next().unwrap_or("").ends_with(".dist-info") || e.is_dir() {
                continue;
            }
            let Some(rel) = library_relative(&name).map(str::to_string) else { continue };
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
/// to `out`. Returns its size in bytes.
#[cfg(feature = "run")]
fn make_component(
    plan: &BuildPlan,
    component: &ComponentPlan,
    statics: Vec<StaticModule>,
    out: &Utf8Path,
) -> Result<u64> {
    let TargetPlan::Wasi { target: WasiTarget::P1, sdk, python, .. } = &plan.target else {
        return Err(Error::config(
            "artifact",
            "a component is built for the wasm32-wasip1 target: add `-C target=wasm32-wasi`",
        ));
    };
    let mut files = Vec::new();
    for f in plan.python_files.iter().filter(|f| f.archive_path.ends_with(".py")) {
        files.push((f.archive_path.clone(), std::fs::read(&f.source).context(|| format!("cannot read {}", f.source))?));
    }
    // The project's extension modules, then those of the component wheels;
    // each keeps its symbols to itself, but one dotted name can be there once.
    let project = format!("the project {}", plan.project.name);
    let mut provided: Vec<(String, StaticModule)> = statics.into_iter().map(|m| (project.clone(), m)).collect();
    if let Some(dir) = &component.wheels_dir {
        files.extend(wheel_python_files(dir)?);
        let wheels = wheels_in(dir)?;
        let work = plan.build_dir.join("component-static");
        if work.exists() {
            std::fs::remove_dir_all(&work).context(|| format!("cannot clear {work}"))?;
        }
        let verbose = plan.compile.verbose;
        provided.extend(crate::runtime::run::wheel_static_modules(python, sdk, &wheels, &work, verbose)?);
    }
    crate::runtime::run::check_distinct(&provided)?;
    let spec = ComponentSpec {
        modules: provided.into_iter().map(|(_, m)| m).collect(),
        python_files: files,
        kind: component_kind(component.world.as_ref(), &component.entry)?,
        preinit: component.preinit,
        hash_seed: HashSeed {
            project: filename_name(&plan.project.name),
            version: plan.project.version.to_string(),
            secret: component.hash_seed.clone(),
        },
        include_modules: component.include_modules.clone(),
    };
    crate::component::build(python, sdk, &spec, out, plan.compile.verbose)
}

/// What the component exports: the command's entry, or the world read from its WIT.
#[cfg(feature = "run")]
fn component_kind(world: Option<&crate::plan::WorldPlan>, entry: &crate::model::entry::Entry) -> Result<ComponentKind> {
    Ok(match world {
        None => ComponentKind::Command(entry.clone()),
        Some(w) => {
            let step = progress::Step::start(format!("component: reading the WIT world at {}", w.wit_path));
            let world = crate::component::world::World::load(&w.wit_path, w.world.as_deref())?;
            step.done();
            progress::status(&format!("component: world {}, app module `{}`", world.name(), w.app));
            ComponentKind::World { world: std::sync::Arc::new(world), app: w.app.clone(), stub_wasi: w.stub_wasi }
        }
    })
}

/// Build the component of an app directory without a pyproject.toml (as
/// componentize-py takes one): every `.py` file under `app_dir` and under
/// each of `paths` (later ones win over earlier, the app directory over
/// all), for the world of `world`, written to `out`. The target CPython and
/// SDK come from `settings` as for a build. Returns the size in bytes.
///
/// Errors: as [`build_component`]; [`Error::Config`] for a bad world.
#[cfg(feature = "run")]
pub fn build_app_component(
    app_dir: &Utf8Path,
    paths: &[Utf8PathBuf],
    out: &Utf8Path,
    settings: &Settings,
    world: &crate::plan::WorldPlan,
) -> Result<u64> {
    let TargetPlan::Wasi { sdk, python, .. } = crate::plan::plan_wasi(WasiTarget::P1, settings, &[])? else {
        unreachable!("plan_wasi plans a WASI target")
    };
    let mut files: std::collections::BTreeMap<String, Vec<u8>> = std::collections::BTreeMap::new();
    for dir in paths.iter().chain(std::iter::once(&app_dir.to_path_buf())) {
        for (rel, data) in python_sources(dir)? {
            files.insert(rel, data);
        }
    }
    let name = app_dir.file_name().unwrap_or("app").to_string();
    let spec = ComponentSpec {
        modules: Vec::new(),
        python_files: files.into_iter().collect(),
        include_modules: Vec::new(),
        kind: component_kind(Some(world), &crate::model::entry::Entry::parse("wit_world:WitWorld").expect("valid"))?,
        preinit: settings.component_preinit,
        hash_seed: HashSeed {
            project: filename_name(&name),
            version: "0".into(),
            secret: settings.component_hash_seed.clone(),
        },
    };
    crate::component::build(&python, &sdk, &spec, out, settings.verbose)
}

/// Every `.py` file under `dir` as `(path relative to dir, contents)`,
/// skipping hidden directories, `__pycache__` and virtual environments.
#[cfg(feature = "run")]
fn python_sources(dir: &Utf8Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).context(|| format!("cannot read {d}"))?;
        for e in entries.flatten() {
            let Ok(p) = Utf8PathBuf::from_path_buf(e.path()) else { continue };
            let name = p.file_name().unwrap_or("");
            if p.is_dir() {
                if !name.starts_with('.') && name != "__pycache__" && !p.join("pyvenv.cfg").exists() {
                    stack.push(p);
                }
            } else if name.ends_with(".py") {
                let rel = p.strip_prefix(dir).map(|r| r.as_str().to_string()).unwrap_or_default();
                out.push((rel, std::fs::read(&p).context(|| format!("cannot read {p}"))?));
            }
        }
    }
    Ok(out)
}

#[cfg(not(feature = "run"))]
fn make_component(_: &BuildPlan, _: &ComponentPlan, _: Vec<StaticModule>, _: &Utf8Path) -> Result<u64> {
    Err(Error::config(
        "artifact",
        "this wasiwheel was built without its WebAssembly runtime (feature `run`), which components need",
    ))
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
    let plan = BuildPlan::new(Pyproject::load(root)?, settings, host_python)?;
    let _build_dir = lock_build_dir(&plan)?;
    let stem = dist_stem(&plan.project);
    let mut w = WheelBuilder::new(format!("{stem}.dist-info"), timestamp::build_timestamp()?);
    for f in &plan.python_files {
        let data = std::fs::read(&f.source).context(|| format!("cannot read {}", f.source))?;
        w.add(&f.archive_path, data, false)?;
    }
    let (stats, statics) = build_extensions(&plan, &mut w)?;
    let component = match &plan.component {
        Some(cp) => {
            let c = plan.build_dir.join("component").join(format!("{stem}.wasm"));
            let size = make_component(&plan, cp, statics, &c)?;
            w.add(&component_path_in_wheel(&stem), std::fs::read(&c).context(|| format!("cannot read {c}"))?, false)?;
            progress::status(&format!("component: {:.1} MB", size as f64 / 1e6));
            Some(c)
        }
        None => None,
    };
    add_dist_info(&mut w, &plan)?;
    let filename = format!("{stem}-{}.whl", plan.tag);
    let path = w.write(out_dir, &filename)?;
    if let Some(c) = component {
        let dest = out_dir.join(format!("{stem}.wasm"));
        let copied = crate::files::write_atomic(&dest, |f| {
            let mut src = std::fs::File::open(&c).context(|| format!("cannot open {c}"))?;
            std::io::copy(&mut src, f).map(drop).context(|| format!("cannot write {dest}"))
        });
        if let Err(e) = copied {
            // Nothing half-done in the output directory: the wheel goes too.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        progress::status(&format!("built {dest}"));
    }
    if !plan.extensions.is_empty() {
        progress::status(&format!(
            "compiled {} source(s), reused {}; {:.2}s in compilers/linkers, {:.2}s in all",
            stats.compiled,
            stats.reused,
            stats.tool_time.as_secs_f64(),
            started.elapsed().as_secs_f64()
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
pub fn build_component(
    root: &Utf8Path,
    out: &Utf8Path,
    mut settings: Settings,
    host_python: &str,
    wheels: &[Utf8PathBuf],
) -> Result<u64> {
    settings.target = Some(WasiTarget::P1);
    settings.artifact = Artifact::Component;
    let mut plan = BuildPlan::new(Pyproject::load(root)?, settings, host_python)?;
    let _build_dir = lock_build_dir(&plan)?;
    let mut scratch = WheelBuilder::new("component.dist-info", 0);
    let (_, statics) = build_extensions(&plan, &mut scratch)?;
    let mut component = plan.component.take().expect("artifact = component plans a component");
    if !wheels.is_empty() {
        let dir = plan.build_dir.join("component-wheels");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).context(|| format!("cannot clear {dir}"))?;
        }
        std::fs::create_dir_all(&dir).context(|| format!("cannot create {dir}"))?;
        for w in wheels {
            std::fs::copy(w, dir.join(w.file_name().unwrap_or("w.whl")))
                .context(|| format!("cannot read the wheel {w}"))?;
        }
        component.wheels_dir = Some(dir);
    }
    make_component(&plan, &component, statics, out)
}

#[cfg_attr(not(feature = "python"), allow(dead_code))] // the PEP 660 hook is its only caller
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
        return Err(Error::config(
            "target",
            "editable installs (pip install -e) are for the host interpreter: drop the WASI target",
        ));
    }
    let plan = BuildPlan::new(Pyproject::load(root)?, settings, host_python)?;
    let _build_dir = lock_build_dir(&plan)?;
    let source_dir = &plan.python_source;
    if let Some(tc) = plan.toolchain().filter(|_| !plan.extensions.is_empty()) {
        progress::status(&format!(
            "building {} extension module(s) in place for an editable install",
            plan.extensions.len()
        ));
        let (objects, _) = compile::compile(
            &tc,
            &plan.extensions,
            &plan.python_includes(),
            &plan.build_dir.join("obj"),
            &plan.compile,
        )?;
        for ((ext, objs), suffix) in plan.extensions.iter().zip(objects).zip(&plan.ext_suffixes) {
            let out = source_dir.join(format!("{}{}", ext.name.replace('.', "/"), suffix));
            match objs.and_then(|objs| compile::link_extension(&tc, ext, &objs, &out, &plan.compile)) {
                Ok(_) => {}
                Err(e) if ext.optional => {
                    progress::status(&format!("warning: optional extension module `{}` was not built:\n{e}", ext.name))
                }
                Err(e) => return Err(e),
            }
        }
    }
    let stem = dist_stem(&plan.project);
    let mut w = WheelBuilder::new(format!("{stem}.dist-info"), timestamp::build_timestamp()?);
    w.add(
        &format!("_{}_editable.pth", filename_name(&plan.project.name)),
        format!("{source_dir}\n").into_bytes(),
        false,
    )?;
    add_dist_info(&mut w, &plan)?;
    let filename = format!("{stem}-{}.whl", plan.tag);
    let path = w.write(out_dir, &filename)?;
    progress::status(&format!("built editable {path} (sources at {source_dir})"));
    Ok(filename)
}

#[cfg_attr(not(feature = "python"), allow(dead_code))] // the PEP 517 hook is its only caller
/// Write `{name}-{version}.dist-info` with `METADATA`, `WHEEL` and
/// `entry_points.txt` into `out_dir` (PEP 517
/// `prepare_metadata_for_build_wheel`); exactly what `build_wheel` writes.
/// Returns the directory's name.
///
/// Errors: [`Error::Project`] for an invalid project; [`Error::Io`].
pub fn prepare_metadata(root: &Utf8Path, out_dir: &Utf8Path, settings: Settings, host_python: &str) -> Result<String> {
    // The WHEEL file's tags depend on the target, so plan like build_wheel does
    // (no compilation happens here).
    let plan = BuildPlan::new(Pyproject::load(root)?, settings, host_python)?;
    let dist_info = format!("{}.dist-info", dist_stem(&plan.project));
    let staging = crate::files::staging_dir(out_dir, &dist_info)?;
    let s = Utf8Path::from_path(staging.path()).expect("UTF-8").to_path_buf();
    for (name, data) in dist_info_files(&plan)? {
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
    crate::files::commit(staging, &dest)?;
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
        let matched = crate::pep517::pyproject::glob_files(root, pattern)
            .map_err(|e| Error::project(&pyproject_path, format!("`tool.wasiwheel.include`: {e}")))?;
        if matched.is_empty() {
            return Err(Error::project(
                &pyproject_path,
                format!("`tool.wasiwheel.include` has `{pattern}`, which matches no file"),
            ));
        }
        files.extend(matched.into_iter().filter(|f| !f.components().any(|c| c.as_str() == ".git")));
    }
    if !pyproject.tool.exclude.is_empty() {
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        let pats: Vec<glob::Pattern> =
            pyproject.tool.exclude.iter().filter_map(|g| glob::Pattern::new(g).ok()).collect();
        files.retain(|f| {
            f.as_str() == "pyproject.toml"
                || !pats.iter().any(|p| {
                    p.matches_with(f.as_str(), opts)
                        || f.ancestors().skip(1).any(|a| !a.as_str().is_empty() && p.matches_with(a.as_str(), opts))
                })
        });
    }
    files.sort();
    files.dedup();
    // Every extension source must be in the sdist, or the wheel cannot be built from it.
    for ext in &pyproject.tool.ext_modules {
        for s in &ext.sources {
            if !files.iter().any(|f| f == s) {
                return Err(Error::project(
                    root.join("pyproject.toml"),
                    format!(
                        "source `{s}` of extension module `{}` \
                    is missing from the project (or excluded from the sdist): fix `sources`",
                        ext.name
                    ),
                ));
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

/// `-C` settings: key → values.
pub type ConfigMap = std::collections::BTreeMap<String, Vec<String>>;

/// `-C` settings split into wasiwheel's own (the keys of
/// [`crate::pep517::config::KEYS`]) and the rest, which a foreign project's
/// backend gets.
pub fn split_settings(config: ConfigMap) -> (ConfigMap, ConfigMap) {
    let known: Vec<&str> = crate::pep517::config::KEYS.iter().map(|(k, _, _)| *k).collect();
    config.into_iter().partition(|(k, _)| known.contains(&k.as_str()))
}

/// The target CPython and SDK of `settings` for `target`, checked against the ABI rule.
///
/// Errors: those of provisioning ([`provision::python`], [`provision::sdk`])
/// and of [`python::check_abi`].
pub fn target_toolchain(settings: &Settings, target: WasiTarget) -> Result<(python::TargetPython, sdk::WasiSdk)> {
    let py = provision::python(settings.python_prefix.as_deref(), settings.python, target)?;
    let sdk = provision::sdk(settings.wasi_sdk.as_deref(), py.sdk().map(|s| s.major))?;
    if let Some(w) = python::check_abi(&py, &sdk.identity, settings.allow_sdk_mismatch, python::AbiContext::Build)? {
        crate::progress::status(&w);
    }
    Ok((py, sdk))
}

/// Build the foreign project at `project` into `out` with `backend` (its
/// own, or the one `tool.wasiwheel.backend` names) in a cross environment:
/// `config` keys wasiwheel knows are its settings, the others go to the
/// backend. `host_python`: the interpreter that runs the backend (default:
/// the native CPython of the target's version). Returns the wheel's path.
///
/// Errors: [`Error::Config`] without a WASI target or with
/// `artifact=component`; those of [`crossenv::build`].
pub fn build_foreign(
    project: &Utf8Path,
    out: &Utf8Path,
    config: ConfigMap,
    host_python: Option<&str>,
    backend: crossenv::BackendChoice,
) -> Result<Utf8PathBuf> {
    let (ours, inner) = split_settings(config);
    let settings = Settings::resolve(&ours, |k| std::env::var(k).ok())?;
    let Some(target) = settings.target else {
        return Err(Error::config(
            "target",
            format!(
                "{project} is built by its own backend, which wasiwheel runs only for WASI targets: add -C \
                 target=wasm32-wasi (or build it natively with pip)"
            ),
        ));
    };
    if settings.artifact == Artifact::Component {
        return Err(Error::config(
            "artifact",
            format!(
                "{project} is built by its own backend, which makes wheels only: build its WASI wheel, then a \
                 component of an app that uses it with -C artifact=component -C component-wheels=DIR"
            ),
        ));
    }
    let (py, sdk) = target_toolchain(&settings, target)?;
    let platform = settings
        .platform_tag
        .clone()
        .unwrap_or_else(|| crate::tags::wasi_platform_tags(target, sdk.identity.major, py.version));
    let tag_of = |limited: Option<PyVersion>| {
        let (p, abi) = crate::tags::cpython_tags(py.version, &py.abiflags, limited);
        let t = crate::tags::WheelTag { python: vec![p], abi: vec![abi], platform: platform.clone() };
        (t.to_string(), t.expand())
    };
    let tags = crossenv::ForeignTags { normal: tag_of(None), abi3: tag_of(Some(py.version)) };
    std::fs::create_dir_all(out).map_err(|e| Error::Io { context: format!("cannot create {out}"), source: e })?;
    let self_command = provision::self_command();
    let host_python = provision::host_python(host_python, &py);
    // Provisioned before the build: whether the project has C++ is known only
    // once its backend runs the wrappers.
    let cxx_eh = crate::toolchain::cxx_eh::for_build(&sdk, target, settings.cxx_exceptions)?;
    crossenv::build(&crossenv::ForeignBuild {
        project: project.to_path_buf(),
        out_dir: out.to_path_buf(),
        python: py,
        sdk,
        target,
        inner_config: inner,
        host_python,
        self_command,
        tags,
        verbose: settings.verbose,
        fpcast_repair: settings.fpcast_repair,
        cxx_eh,
        backend,
    })
}

#[cfg_attr(not(feature = "python"), allow(dead_code))] // the PEP 517 hooks are its callers
/// PEP 517 `build_wheel` of a project whose `tool.wasiwheel.backend` names
/// the backend that builds it (see [`crate::pep517::pyproject::wrapped_backend`]),
/// called by a frontend (pip, build, uv) whose environment, that of
/// `host_python`, has that backend: for a WASI target it runs in the cross
/// environment ([`build_foreign`]), for the host it is called as it is.
/// `config`: all config settings (wasiwheel's keys are taken out, the rest
/// go to the backend). Returns the wheel's file name.
///
/// Errors: [`Error::Config`] for a bad wasiwheel setting; those of
/// [`build_foreign`] and [`crossenv::call_hook`].
pub fn wrapped_build_wheel(
    root: &Utf8Path,
    out_dir: &Utf8Path,
    config: ConfigMap,
    host_python: &str,
    backend: &str,
) -> Result<String> {
    let (ours, inner) = split_settings(config.clone());
    let settings = Settings::resolve(&ours, |k| std::env::var(k).ok())?;
    if settings.target.is_some() {
        let choice = crossenv::BackendChoice::Wrapped { backend: backend.to_string(), isolated: false };
        let path = build_foreign(root, out_dir, config, Some(host_python), choice)?;
        return Ok(path.file_name().unwrap_or_default().to_string());
    }
    wrapped_hook(root, backend, "build_wheel", Some(out_dir), &inner, host_python, &[])
        .map(|v| v.as_str().unwrap_or_default().to_string())
}

#[cfg_attr(not(feature = "python"), allow(dead_code))] // the PEP 517 hooks are its callers
/// Any other PEP 517/660 hook `hook` (`build_sdist`, `build_editable`,
/// `prepare_metadata_for_build_wheel`, `get_requires_for_build_*`) of a
/// wrapped backend (see [`wrapped_build_wheel`]), called as it is in
/// `host_python`'s environment with the settings that are not wasiwheel's.
/// A `get_requires_for_build_wheel` for a WASI target adds what the cross
/// environment needs of the backend's kind (CMake for scikit-build-core).
/// Returns the hook's result: a name, or a list of PEP 508 strings.
///
/// Errors: [`Error::Config`] for a bad wasiwheel setting, or `build_editable`
/// for a WASI target; those of [`crossenv::call_hook`].
pub fn wrapped_other_hook(
    root: &Utf8Path,
    backend: &str,
    hook: &str,
    out_dir: Option<&Utf8Path>,
    config: ConfigMap,
    host_python: &str,
) -> Result<serde_json::Value> {
    let (ours, inner) = split_settings(config);
    let settings = Settings::resolve(&ours, |k| std::env::var(k).ok())?;
    if hook == "build_editable" && settings.target.is_some() {
        return Err(Error::config(
            "target",
            "editable installs (pip install -e) are for the host interpreter: drop the WASI target",
        ));
    }
    let extra = match (hook, settings.target) {
        ("get_requires_for_build_wheel", Some(_)) => crossenv::extra_requires(crossenv::BackendKind::of(backend)),
        _ => &[],
    };
    wrapped_hook(root, backend, hook, out_dir, &inner, host_python, extra)
}

#[cfg_attr(not(feature = "python"), allow(dead_code))] // the PEP 517 hooks are its callers
fn wrapped_hook(
    root: &Utf8Path,
    backend: &str,
    hook: &str,
    out_dir: Option<&Utf8Path>,
    config: &ConfigMap,
    host_python: &str,
    extra_requires: &[&str],
) -> Result<serde_json::Value> {
    crossenv::call_hook(&crossenv::HookCall {
        project: root,
        backend,
        hook,
        out_dir,
        config,
        host_python,
        extra_requires,
    })
}

//! `wasiwheel run`: run the target CPython with the extension modules of
//! WASI wheels built in, and their Python files on `sys.path`, under the
//! embedded wasmtime.

use std::io::Read;

use camino::{Utf8Path, Utf8PathBuf};

use crate::crossbuild::compile;
use crate::crossbuild::objlink::{standard_init, unique_init};
use crate::crossbuild::relink::{self, StaticModule};
use crate::error::{Error, IoContext, Result};
use crate::model::layout::{StaticManifest, STATIC_DIR, STATIC_MANIFEST_VERSION};
use crate::model::names::is_extension_name;
use crate::runtime::wasm::{self, Preopen, RunSpec};
use crate::toolchain::python::{check_abi, AbiContext, TargetPython};
use crate::toolchain::sdk::{self, WasiSdk};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// WASI wheels whose files to install and whose extensions to build in.
    pub wheels: Vec<Utf8PathBuf>,
    /// Arguments for the interpreter (after `python3.X`).
    pub args: Vec<String>,
    /// Extra directories to map into the guest.
    pub dirs: Vec<Preopen>,
    /// Extra environment variables for the guest.
    pub env: Vec<(String, String)>,
    /// Site-packages directories with installed WASI wheels (`pip install --target`).
    pub sites: Vec<Utf8PathBuf>,
    /// Relink with another SDK major than the one that built the interpreter.
    pub allow_sdk_mismatch: bool,
    /// The SDK to relink with (default: the one that built the interpreter).
    pub wasi_sdk: Option<Utf8PathBuf>,
    /// Print the link command.
    pub verbose: bool,
}

/// Unpack `wheel` into `site` (purelib/platlib content, `.data/purelib` and
/// `.data/platlib`), extract its static archives into `static_dir`, and return
/// its static manifest, if it has one.
fn unpack_wheel(
    wheel: &Utf8Path,
    site: &Utf8Path,
    static_dir: &Utf8Path,
) -> Result<Option<(StaticManifest, Utf8PathBuf)>> {
    let f = std::fs::File::open(wheel).context(|| format!("cannot open the wheel {wheel}"))?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| Error::Other(format!("{wheel} is not a wheel (zip): {e}")))?;
    let mut manifest = None;
    let mut manifest_dir = None;
    let wheel_static = static_dir.join(wheel.file_stem().unwrap_or("wheel"));
    for i in 0..z.len() {
        let mut entry = z.by_index(i).map_err(|e| Error::Other(format!("{wheel}: {e}")))?;
        let name = entry.name().map_err(|e| Error::Other(format!("{wheel}: {e}")))?.to_string();
        if entry.is_dir() || name.split('/').any(|c| c == "..") || name.starts_with('/') {
            continue;
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).context(|| format!("cannot read {name} from {wheel}"))?;
        let first = name.split('/').next().unwrap_or("");
        let dest = if first.ends_with(".dist-info") {
            let rest = &name[first.len() + 1..];
            if let Some(s) = rest.strip_prefix(&format!("{STATIC_DIR}/")) {
                if s == "manifest.json" {
                    manifest = Some(
                        serde_json::from_slice::<StaticManifest>(&data)
                            .map_err(|e| Error::Other(format!("{wheel}: {first}/{rest} is invalid: {e}")))?,
                    );
                    manifest_dir = Some(wheel_static.clone());
                }
                let p = wheel_static.join(s);
                std::fs::create_dir_all(p.parent().expect("parent"))
                    .context(|| format!("cannot create {}", p.parent().expect("parent")))?;
                std::fs::write(&p, &data).context(|| format!("cannot write {p}"))?;
                continue;
            }
            site.join(&name)
        } else {
            match crate::model::layout::library_relative(&name) {
                Some(rel) => site.join(rel),
                None => continue, // scripts, headers, data: not needed to import
            }
        };
        std::fs::create_dir_all(dest.parent().expect("parent"))
            .context(|| format!("cannot create {}", dest.parent().expect("parent")))?;
        std::fs::write(&dest, &data).context(|| format!("cannot write {dest}"))?;
    }
    Ok(manifest.zip(manifest_dir))
}

/// The static-extension manifests of wheels installed in `site` (e.g. by
/// `pip install --target`): each `*.dist-info/static-extensions/manifest.json`
/// with its directory.
fn installed_manifests(site: &Utf8Path) -> Result<Vec<(StaticManifest, Utf8PathBuf)>> {
    let mut out = Vec::new();
    let rd = std::fs::read_dir(site).context(|| format!("cannot read {site}"))?;
    let mut dirs: Vec<Utf8PathBuf> = rd
        .flatten()
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        .filter(|p| p.as_str().ends_with(".dist-info"))
        .collect();
    dirs.sort();
    for d in dirs {
        let m = d.join(STATIC_DIR).join("manifest.json");
        if let Ok(text) = std::fs::read_to_string(&m) {
            let manifest = serde_json::from_str::<StaticManifest>(&text)
                .map_err(|e| Error::Other(format!("{m} is invalid: {e}")))?;
            out.push((manifest, d.join(STATIC_DIR)));
        }
    }
    Ok(out)
}

/// The extension modules of static manifests `found` (origin, manifest, its
/// directory), checked against `python` and ready to link with `sdk`, each
/// with its origin. Version-2 archives are used as they are; version-1
/// archives (objects as compiled, `init` = `PyInit_{leaf}`) are namespaced
/// into `work` first (see [`compile::archive`]), so they too keep their
/// symbols to themselves and register by their unique init function.
///
/// Errors: [`Error::Toolchain`] when a manifest is for another CPython version
/// or WASI target, has an unknown version or names an invalid module; as
/// [`compile::archive`] for version-1 archives.
pub fn static_modules(
    python: &TargetPython,
    sdk: &WasiSdk,
    found: Vec<(String, StaticManifest, Utf8PathBuf)>,
    work: &Utf8Path,
    verbose: bool,
) -> Result<Vec<(String, StaticModule)>> {
    let built = python.sdk().map(|s| s.major);
    let target = python.target();
    let mut modules = Vec::new();
    for (origin, m, dir) in found {
        if m.python != python.version || m.target != target {
            return Err(Error::Toolchain(format!(
                "{origin} is built for CPython {} on {}, but the interpreter is CPython {} on {target}",
                m.python, m.target, python.version
            )));
        }
        if !(1..=STATIC_MANIFEST_VERSION).contains(&m.version) {
            return Err(Error::Toolchain(format!(
                "{origin}: its {STATIC_DIR}/manifest.json has version {}, but this wasiwheel reads versions 1 to \
                 {STATIC_MANIFEST_VERSION}: upgrade wasiwheel",
                m.version
            )));
        }
        if Some(m.sdk.major) != built {
            crate::progress::status(&format!(
                "warning: {origin} was built with WASI SDK {}, but CPython {} with WASI SDK {}",
                m.sdk.major,
                python.full_version(),
                built.map(|b| b.to_string()).unwrap_or_else(|| "?".into())
            ));
        }
        for e in m.modules {
            if !is_extension_name(&e.name) || e.archive.split('/').any(|c| c == ".." || c.is_empty()) {
                return Err(Error::Toolchain(format!(
                    "{origin}: its {STATIC_DIR}/manifest.json names the module `{}` with the archive `{}`, which is \
                     not a dotted module name and a relative path",
                    e.name, e.archive
                )));
            }
            let mut archive = dir.join(&e.archive);
            let mut init = e.init;
            if m.version == 1 && init == standard_init(&e.name) {
                // Built before modules kept their symbols apart: do it now.
                let namespaced = work.join(format!("{}.a", e.name));
                compile::archive(sdk, &e.name, std::slice::from_ref(&archive), &namespaced, verbose)?;
                archive = namespaced;
                init = unique_init(&e.name);
            }
            let module = StaticModule { name: e.name, init, archive, libraries: e.libraries, cxx: e.language == "c++" };
            modules.push((origin.clone(), module));
        }
    }
    Ok(modules)
}

/// Check that no two of `modules` (origin, module) have the same dotted
/// name: one interpreter can hold one module of a name.
///
/// Errors: [`Error::ModuleClash`] naming the module and both origins.
pub fn check_distinct(modules: &[(String, StaticModule)]) -> Result<()> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (origin, m) in modules {
        if let Some(first) = seen.insert(&m.name, origin) {
            return Err(Error::ModuleClash { module: m.name.clone(), first: first.into(), second: origin.clone() });
        }
    }
    Ok(())
}

/// The static extension modules of the WASI wheels `wheels` (for a
/// component), extracted under `work` and made ready to link with `sdk` as
/// [`static_modules`] does, each with its wheel as origin.
///
/// Errors: as [`static_modules`]; [`Error::Other`] when a wheel cannot be read.
pub fn wheel_static_modules(
    python: &TargetPython,
    sdk: &WasiSdk,
    wheels: &[Utf8PathBuf],
    work: &Utf8Path,
    verbose: bool,
) -> Result<Vec<(String, StaticModule)>> {
    let mut found = Vec::new();
    for w in wheels {
        if let Some((m, dir)) = unpack_wheel(w, &work.join("site-packages"), &work.join("static"))? {
            found.push((w.to_string(), m, dir));
        }
    }
    static_modules(python, sdk, found, &work.join("namespaced"), verbose)
}

/// Run `python` with `req.wheels` (and the wheels installed in `req.sites`)
/// under wasmtime: relink it with their extensions, using the SDK that built
/// it; map its prefix at `/` and the unpacked wheels at `/site-packages`,
/// both read-only, each site directory at `/site-packages-N` (all on
/// `PYTHONPATH`), a private writable `/tmp` (`TMPDIR`) and a `/dev` with a
/// `null` file, both removed afterwards; pass `req.args`. Returns the
/// guest's exit status.
///
/// Errors: [`Error::Toolchain`] when the SDK that built `python` is unknown or
/// not installed (unless `req.allow_sdk_mismatch`), `python` is compile-only,
/// or a wheel is for another CPython version or WASI target (or has a
/// manifest version this wasiwheel does not read); [`Error::ModuleClash`] when
/// two wheels provide the same dotted module; [`Error::ToolFailed`] when
/// relinking fails; [`Error::Run`] when the guest traps.
pub fn run(python: &TargetPython, req: &RunRequest) -> Result<i32> {
    python.require_runnable("run")?;
    let built = python.sdk().map(|s| s.major);
    let tmp = tempfile::Builder::new()
        .prefix("wasiwheel-run.")
        .tempdir()
        .context(|| "cannot create a temporary directory".to_string())?;
    let t = Utf8Path::from_path(tmp.path())
        .ok_or_else(|| Error::Other("the temporary directory path is not UTF-8".into()))?;
    let site = t.join("site-packages");
    let static_dir = t.join("static");
    std::fs::create_dir_all(&site).context(|| format!("cannot create {site}"))?;
    let mut found: Vec<(String, StaticManifest, Utf8PathBuf)> = Vec::new();
    for w in &req.wheels {
        if let Some((m, dir)) = unpack_wheel(w, &site, &static_dir)? {
            found.push((w.to_string(), m, dir));
        }
    }
    for s in &req.sites {
        if !s.is_dir() {
            return Err(Error::Other(format!("{s} is not a directory: give the --target directory of `pip install`")));
        }
        for (m, dir) in installed_manifests(s)? {
            found.push((dir.parent().map(|p| p.to_string()).unwrap_or_default(), m, dir));
        }
    }
    // The SDK to relink with: the one that built the interpreter; with
    // --allow-sdk-mismatch, else the one that built the wheels, else the newest.
    let sdk = match (&req.wasi_sdk, built) {
        (Some(dir), _) => sdk::WasiSdk::open(dir)?,
        (None, Some(m)) => crate::toolchain::provision::sdk(None, Some(m))?,
        (None, None) => sdk::resolve(None, found.first().map(|(_, m, _)| m.sdk.major))?,
    };
    if let Some(warning) = check_abi(python, &sdk.identity, req.allow_sdk_mismatch, AbiContext::Run)? {
        crate::progress::status(&warning);
    }
    let provided = static_modules(python, &sdk, found, &static_dir.join("namespaced"), req.verbose)?;
    check_distinct(&provided)?;
    let modules: Vec<StaticModule> = provided.into_iter().map(|(_, m)| m).collect();
    let stock = python.prefix.join(format!("bin/python{}.wasm", python.version));
    let wasm = if modules.is_empty() && stock.exists() {
        relink::stock_interpreter(&stock)?
    } else {
        relink::relink(python, &sdk, &modules, req.verbose)?
    };
    // The guest's world: the interpreter's prefix and the unpacked wheels
    // read-only, a private writable /tmp (TMPDIR) and a /dev holding `null`,
    // both removed with `tmp`; the user's --site and --dir maps as given.
    let guest_tmp = t.join("tmp");
    let guest_dev = t.join("dev");
    for d in [&guest_tmp, &guest_dev] {
        std::fs::create_dir_all(d).context(|| format!("cannot create {d}"))?;
    }
    std::fs::write(guest_dev.join("null"), b"").context(|| format!("cannot create {guest_dev}/null"))?;
    let ro = |host: &Utf8Path, guest: &str| Preopen { host: host.to_path_buf(), guest: guest.into(), writable: false };
    let rw = |host: &Utf8Path, guest: &str| Preopen { host: host.to_path_buf(), guest: guest.into(), writable: true };
    let mut paths = vec!["/site-packages".to_string()];
    let mut dirs =
        vec![ro(&python.prefix, "/"), ro(&site, "/site-packages"), rw(&guest_tmp, "/tmp"), rw(&guest_dev, "/dev")];
    for (i, s) in req.sites.iter().enumerate() {
        let guest = format!("/site-packages-{}", i + 1);
        paths.push(guest.clone());
        dirs.push(rw(s, &guest));
    }
    let mut spec = RunSpec {
        args: std::iter::once(format!("python{}", python.version)).chain(req.args.iter().cloned()).collect(),
        env: vec![
            ("PYTHONHOME".into(), "/".into()),
            ("PYTHONPATH".into(), paths.join(":")),
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
            ("TMPDIR".into(), "/tmp".into()),
        ],
        dirs,
    };
    spec.env.retain(|(k, _)| !req.env.iter().any(|(uk, _)| uk == k));
    spec.env.extend(req.env.iter().cloned());
    spec.dirs.extend(req.dirs.iter().cloned());
    wasm::run_module(&wasm, &spec)
}

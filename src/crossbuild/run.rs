//! `wasiwheel run`: run the target CPython with the extension modules of
//! WASI wheels built in, and their Python files on `sys.path`, under the
//! embedded wasmtime.

use std::io::Read;

use camino::{Utf8Path, Utf8PathBuf};

use crate::crossbuild::python::TargetPython;
use crate::crossbuild::relink::{self, StaticModule};
use crate::crossbuild::sdk;
use crate::crossbuild::wasm::{self, Preopen, RunSpec};
use crate::error::{Error, IoContext, Result};
use crate::pep517::build::{StaticManifest, STATIC_DIR};

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
    /// Print the link command.
    pub verbose: bool,
}

/// Unpack `wheel` into `site` (purelib/platlib content, `.data/purelib` and
/// `.data/platlib`), extract its static archives into `static_dir`, and return
/// its static manifest, if it has one.
fn unpack_wheel(wheel: &Utf8Path, site: &Utf8Path, static_dir: &Utf8Path) -> Result<Option<(StaticManifest, Utf8PathBuf)>> {
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
                    manifest = Some(serde_json::from_slice::<StaticManifest>(&data).map_err(|e| Error::Other(format!("{wheel}: {first}/{rest} is invalid: {e}")))?);
                    manifest_dir = Some(wheel_static.clone());
                }
                let p = wheel_static.join(s);
                std::fs::create_dir_all(p.parent().expect("parent")).context(|| format!("cannot create {}", p.parent().expect("parent")))?;
                std::fs::write(&p, &data).context(|| format!("cannot write {p}"))?;
                continue;
            }
            site.join(&name)
        } else if first.ends_with(".data") {
            let mut parts = name.splitn(3, '/');
            let _ = parts.next();
            match (parts.next(), parts.next()) {
                (Some("purelib" | "platlib"), Some(rest)) => site.join(rest),
                _ => continue, // scripts, headers, data: not needed to import
            }
        } else {
            site.join(&name)
        };
        std::fs::create_dir_all(dest.parent().expect("parent")).context(|| format!("cannot create {}", dest.parent().expect("parent")))?;
        std::fs::write(&dest, &data).context(|| format!("cannot write {dest}"))?;
    }
    Ok(manifest.zip(manifest_dir))
}

/// Run `python` with `req.wheels` under wasmtime: relink it with their
/// extensions (with the SDK that built it), map its prefix at `/` and the
/// unpacked wheels at `/site-packages` (on `PYTHONPATH`), and pass `req.args`.
/// Returns the guest's exit status.
///
/// Errors: [`Error::Toolchain`] when the SDK that built `python` is not
/// installed, `python` is compile-only, or a wheel is for another CPython
/// version or WASI target; [`Error::Compile`] when relinking fails;
/// [`Error::Run`] when the guest traps.
pub fn run(python: &TargetPython, req: &RunRequest) -> Result<i32> {
    let record = python.record.as_ref().ok_or_else(|| {
        Error::Toolchain(format!("the CPython at {} was not provisioned by wasiwheel (no wasiwheel-python.json), so it cannot be relinked: install one with `wasiwheel python install`", python.prefix))
    })?;
    if record.compile_only {
        return Err(Error::Toolchain(format!("the CPython {} at {} is compile-only (headers without an interpreter): wasiwheel cannot run it", record.version, python.prefix)));
    }
    let sdk = sdk::resolve(None, Some(record.sdk.major))?;
    if sdk.identity.major != record.sdk.major {
        return Err(Error::Toolchain(format!(
            "CPython {} was built with WASI SDK {}, which is not installed (only {}): install it to relink (`wasiwheel sdk install --from-debian {}`)",
            record.version, record.sdk.major, sdk.identity, record.sdk.major
        )));
    }
    let tmp = tempfile::Builder::new().prefix("wasiwheel-run.").tempdir().context(|| "cannot create a temporary directory".to_string())?;
    let t = Utf8Path::from_path(tmp.path()).ok_or_else(|| Error::Other("the temporary directory path is not UTF-8".into()))?;
    let site = t.join("site-packages");
    let static_dir = t.join("static");
    std::fs::create_dir_all(&site).context(|| format!("cannot create {site}"))?;
    let mut modules = Vec::new();
    for w in &req.wheels {
        if let Some((m, dir)) = unpack_wheel(w, &site, &static_dir)? {
            if m.python != python.version || m.target != record.target {
                return Err(Error::Toolchain(format!(
                    "{w} is built for CPython {} on {}, but the interpreter is CPython {} on {}",
                    m.python, m.target, python.version, record.target
                )));
            }
            if m.sdk.major != record.sdk.major {
                crate::progress::status(&format!("warning: {w} was built with WASI SDK {}, but CPython {} with WASI SDK {}", m.sdk.major, record.version, record.sdk.major));
            }
            for e in m.modules {
                modules.push(StaticModule { name: e.name, init: e.init, archive: dir.join(&e.archive), libraries: e.libraries, cxx: e.language == "c++" });
            }
        }
    }
    let wasm = if modules.is_empty() {
        let p = python.prefix.join(format!("bin/python{}.wasm", python.version));
        if p.exists() { p } else { relink::relink(python, &sdk, &modules, req.verbose)? }
    } else {
        relink::relink(python, &sdk, &modules, req.verbose)?
    };
    let mut spec = RunSpec {
        args: std::iter::once(format!("python{}", python.version)).chain(req.args.iter().cloned()).collect(),
        env: vec![
            ("PYTHONHOME".into(), "/".into()),
            ("PYTHONPATH".into(), "/site-packages".into()),
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
        ],
        dirs: vec![Preopen { host: python.prefix.clone(), guest: "/".into() }, Preopen { host: site.clone(), guest: "/site-packages".into() }],
    };
    spec.env.retain(|(k, _)| !req.env.iter().any(|(uk, _)| uk == k));
    spec.env.extend(req.env.iter().cloned());
    spec.dirs.extend(req.dirs.iter().cloned());
    wasm::run_module(&wasm, &spec)
}

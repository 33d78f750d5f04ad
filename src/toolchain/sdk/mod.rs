//! WASI SDKs on disk: opening one and reading its identity
//! ([`crate::model::sdk`]), the ones in the cache, and choosing one. Installing
//! them: [`official`] (release downloads) and [`debian`] (the Debian-package
//! equivalent).

pub mod debian;
pub mod official;

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::model::sdk::{parse_version_file, SdkIdentity};
use crate::model::target::WasiTarget;
use crate::toolchain::cache;

/// A WASI SDK on disk, in the layout of an official release
/// (`bin/clang`, `bin/wasm-ld`, `bin/llvm-ar`, `share/wasi-sysroot`).
#[derive(Debug, Clone)]
pub struct WasiSdk {
    /// The SDK root directory.
    pub root: Utf8PathBuf,
    /// Its identity.
    pub identity: SdkIdentity,
}

impl WasiSdk {
    /// Open the SDK at `root` and read its identity from `VERSION`.
    ///
    /// Errors: [`Error::Toolchain`] naming `root` when it is not an SDK
    /// (no `bin/clang` or no `VERSION`), or `VERSION` is unreadable.
    pub fn open(root: &Utf8Path) -> Result<WasiSdk> {
        let clang = root.join("bin/clang");
        if !clang.exists() {
            return Err(Error::Toolchain(format!(
                "{root} is not a WASI SDK: it has no bin/clang (give the directory \
                that contains bin/ and share/wasi-sysroot)"
            )));
        }
        let vf = root.join("VERSION");
        let text = std::fs::read_to_string(&vf).map_err(|_| {
            Error::Toolchain(format!(
                "{root} is not a WASI SDK \
            wasiwheel can identify: it has no VERSION file (official wasi-sdk releases since 22 have one)"
            ))
        })?;
        let identity = parse_version_file(&text).map_err(|e| Error::Toolchain(format!("{vf}: {e}")))?;
        Ok(WasiSdk { root: root.to_path_buf(), identity })
    }

    /// `bin/clang`.
    pub fn clang(&self) -> Utf8PathBuf {
        self.root.join("bin/clang")
    }
    /// `bin/clang++`.
    pub fn clangxx(&self) -> Utf8PathBuf {
        self.root.join("bin/clang++")
    }
    /// `bin/wasm-ld`.
    pub fn wasm_ld(&self) -> Utf8PathBuf {
        self.root.join("bin/wasm-ld")
    }
    /// `bin/llvm-ar`.
    pub fn ar(&self) -> Utf8PathBuf {
        self.root.join("bin/llvm-ar")
    }
    /// `share/wasi-sysroot`.
    pub fn sysroot(&self) -> Utf8PathBuf {
        self.root.join("share/wasi-sysroot")
    }

    /// True if the sysroot has a C++ standard library (libc++) for `target`.
    pub fn has_cxx(&self, target: WasiTarget) -> bool {
        let sub = target.sysroot_subdir();
        self.sysroot().join("include").join(sub).join("c++/v1").is_dir()
            && self.sysroot().join("lib").join(sub).join("libc++.a").exists()
    }

    /// The WASI targets whose libc this SDK's sysroot carries.
    pub fn targets(&self) -> Vec<WasiTarget> {
        [WasiTarget::P1, WasiTarget::P2]
            .into_iter()
            .filter(|t| self.sysroot().join("lib").join(t.sysroot_subdir()).join("libc.a").exists())
            .collect()
    }
}

/// The SDKs in the cache (`sdk/*`), sorted by major.
///
/// Errors: [`Error::Io`] when the cache cannot be read.
pub fn installed() -> Result<Vec<WasiSdk>> {
    let d = cache::dir("sdk")?;
    let mut out = Vec::new();
    for e in std::fs::read_dir(&d).context(|| format!("cannot read {d}"))? {
        let e = e.context(|| format!("cannot read {d}"))?;
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        if let Ok(p) = Utf8PathBuf::from_path_buf(e.path()) {
            if let Ok(sdk) = WasiSdk::open(&p) {
                out.push(sdk);
            }
        }
    }
    out.sort_by(|a, b| a.identity.major.cmp(&b.identity.major).then(a.root.cmp(&b.root)));
    Ok(out)
}

/// The SDK to build with: `explicit` (from `wasi-sdk` / `WASI_SDK_PATH`) if
/// given, else the installed SDK of major `want`, else the only or newest
/// installed SDK.
///
/// Errors: [`Error::Toolchain`] when none is installed, with the command that
/// installs one.
pub fn resolve(explicit: Option<&Utf8Path>, want: Option<u32>) -> Result<WasiSdk> {
    if let Some(p) = explicit {
        return WasiSdk::open(p);
    }
    let all = installed()?;
    if let Some(m) = want {
        if let Some(s) = all.iter().find(|s| s.identity.major == m) {
            return Ok(s.clone());
        }
    }
    match all.into_iter().last() {
        Some(s) => Ok(s),
        None => Err(Error::SdkNotInstalled { want }),
    }
}

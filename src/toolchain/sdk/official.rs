//! Official wasi-sdk releases: pinned assets and checksums, downloaded and
//! unpacked into the cache.

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::model::sdk::wasi_libc_of;
use crate::progress::{self, Step};
use crate::toolchain::cache;
use crate::toolchain::download::download_checked;
use crate::toolchain::sdk::WasiSdk;

/// An official wasi-sdk release for x86_64 Linux: its asset name, the
/// directory the tarball unpacks to, and the sha256 wasiwheel pins for it.
#[derive(Debug, Clone, Copy)]
pub struct OfficialRelease {
    /// SDK major.
    pub major: u32,
    /// Asset file name.
    pub asset: &'static str,
    /// Top-level directory inside the tarball.
    pub top: &'static str,
    /// Pinned sha256 of the asset.
    pub sha256: &'static str,
    /// LLVM version.
    pub llvm_version: &'static str,
}

/// The official releases wasiwheel can download (x86_64 Linux), with pinned
/// checksums.
pub const OFFICIAL_RELEASES: &[OfficialRelease] = &[
    OfficialRelease {
        major: 21,
        asset: "wasi-sdk-21.0-linux.tar.gz",
        top: "wasi-sdk-21.0",
        sha256: "f2fe0723b337c484556b19d64c0f6c6044827014bfcd403d00951c65a86cfa26",
        llvm_version: "17.0.6",
    },
    OfficialRelease {
        major: 24,
        asset: "wasi-sdk-24.0-x86_64-linux.tar.gz",
        top: "wasi-sdk-24.0-x86_64-linux",
        sha256: "c6c38aab56e5de88adf6c1ebc9c3ae8da72f88ec2b656fb024eda8d4167a0bc5",
        llvm_version: "18.1.2",
    },
    OfficialRelease {
        major: 25,
        asset: "wasi-sdk-25.0-x86_64-linux.tar.gz",
        top: "wasi-sdk-25.0-x86_64-linux",
        sha256: "52640dde13599bf127a95499e61d6d640256119456d1af8897ab6725bcf3d89c",
        llvm_version: "19.1.5",
    },
    OfficialRelease {
        major: 30,
        asset: "wasi-sdk-30.0-x86_64-linux.tar.gz",
        top: "wasi-sdk-30.0-x86_64-linux",
        sha256: "0507679dff16814b74516cd969a9b16d2ced1347388024bc7966264648c78bfb",
        llvm_version: "21",
    },
    OfficialRelease {
        major: 33,
        asset: "wasi-sdk-33.0-x86_64-linux.tar.gz",
        top: "wasi-sdk-33.0-x86_64-linux",
        sha256: "0ba8b5bfaeb2adf3f29bab5841d76cf5318ab8e1642ea195f88baba1abd47bce",
        llvm_version: "22",
    },
];

/// Where official releases are downloaded from: `{base}/wasi-sdk-{N}/{asset}`
/// (the wasi-sdk project's release URL scheme).
pub const DEFAULT_RELEASE_BASE: &str = "https://github.com/WebAssembly/wasi-sdk/releases/download";

/// The directory name of official SDK `major` in the cache.
pub fn official_sdk_dir(major: u32) -> Result<Utf8PathBuf> {
    Ok(cache::dir("sdk")?.join(format!("wasi-sdk-{major}")))
}

/// Download the official wasi-sdk `major` release for this host from
/// `mirror` (default [`DEFAULT_RELEASE_BASE`], also `WASIWHEEL_SDK_MIRROR`),
/// keeping the release path scheme; check it against the pinned sha256; unpack
/// it atomically into the cache as `sdk/wasi-sdk-{major}`, showing progress.
/// Returns the SDK (an already installed one as it is).
///
/// Errors: [`Error::Toolchain`] for a major without a pinned release, a host
/// other than x86_64 Linux, a failed or interrupted download, or a checksum
/// mismatch. Nothing is left in the cache on failure.
pub fn install_official(major: u32, mirror: Option<&str>) -> Result<WasiSdk> {
    let rel = OFFICIAL_RELEASES.iter().find(|r| r.major == major).ok_or_else(|| {
        let known: Vec<String> = OFFICIAL_RELEASES.iter().map(|r| r.major.to_string()).collect();
        Error::Toolchain(format!(
            "wasiwheel has no pinned checksum for WASI SDK {major}, so it will not download it; \
            pinned: {} (or point `-C wasi-sdk=DIR` at an SDK you installed yourself)",
            known.join(", ")
        ))
    })?;
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        return Err(Error::Toolchain(
            "wasiwheel pins official WASI SDK downloads for x86_64 Linux only: install the SDK \
            yourself and use `-C wasi-sdk=DIR`"
                .into(),
        ));
    }
    let dest = official_sdk_dir(major)?;
    let _lock = cache::lock(&format!("sdk-{major}"))?;
    if let Ok(sdk) = WasiSdk::open(&dest) {
        progress::status(&format!("{} is already installed at {dest}", sdk.identity));
        return Ok(sdk);
    }
    let env_mirror = std::env::var("WASIWHEEL_SDK_MIRROR").ok().filter(|m| !m.is_empty());
    let base = mirror
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .or(env_mirror)
        .unwrap_or_else(|| DEFAULT_RELEASE_BASE.to_string());
    let url = format!("{}/wasi-sdk-{major}/{}", base.trim_end_matches('/'), rel.asset);
    let staging = crate::files::staging_dir(dest.parent().expect("parent"), &format!("wasi-sdk-{major}"))?;
    let s = Utf8Path::from_path(staging.path()).expect("UTF-8").to_path_buf();
    let tarball = s.join(rel.asset);
    download_checked(&url, &tarball, rel.sha256)?;
    let step = Step::start(format!("unpacking {}", rel.asset));
    let file = std::fs::File::open(&tarball).context(|| format!("cannot open {tarball}"))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    archive.set_preserve_permissions(true);
    archive.unpack(&s).map_err(|e| Error::Toolchain(format!("cannot unpack {} (from {url}): {e}", rel.asset)))?;
    std::fs::remove_file(&tarball).context(|| format!("cannot remove {tarball}"))?;
    let top = s.join(rel.top);
    if !top.join("bin/clang").exists() {
        return Err(Error::Toolchain(format!(
            "{} (from {url}) has no {}/bin/clang: not a wasi-sdk release",
            rel.asset, rel.top
        )));
    }
    if !top.join("VERSION").exists() {
        // wasi-sdk 21 predates the VERSION file: record what the pin table knows.
        std::fs::write(
            top.join("VERSION"),
            format!(
                "{major}.0\nwasi-libc: {}\nllvm-version: {}\n",
                wasi_libc_of(major).unwrap_or("unknown"),
                rel.llvm_version
            ),
        )
        .context(|| format!("cannot write {top}/VERSION"))?;
    }
    // The SDK itself becomes the cache entry; the staging directory goes away.
    std::fs::rename(&top, &dest).context(|| format!("cannot move the SDK into place at {dest}"))?;
    drop(staging);
    step.done();
    let sdk = WasiSdk::open(&dest)?;
    progress::status(&format!("installed {} at {dest}", sdk.identity));
    Ok(sdk)
}

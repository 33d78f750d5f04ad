//! WASI SDKs: identity, lookup, and assembling the Debian-package equivalent
//! of an official wasi-sdk release.
//!
//! An SDK is identified by its wasi-libc commit and LLVM version, as written
//! in the `VERSION` file of an official SDK (`25.0`, `wasi-libc: <commit>`,
//! `llvm: <commit>`, `llvm-version: 19.1.5`, …). A distro toolchain is mapped
//! to the SDK major whose wasi-libc commit it carries.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::crossbuild::cache;
use crate::crossbuild::target::WasiTarget;
use crate::error::{Error, IoContext, Result};
use crate::progress::{self, Step};

/// wasi-libc commits (12 hex digits) of official wasi-sdk releases → SDK major.
pub const WASI_LIBC_COMMITS: &[(&str, u32)] = &[
    ("c5264e2bbe53", 21),
    ("b9ef79d7dbd4", 24),
    ("574b88da4815", 25),
    ("ec0effd769df", 30),
    ("161b3195fc25", 33),
];

/// The wasi-libc commit of official SDK `major`, if wasiwheel knows it.
pub fn wasi_libc_of(major: u32) -> Option<&'static str> {
    WASI_LIBC_COMMITS.iter().find(|(_, m)| *m == major).map(|(c, _)| *c)
}

/// The SDK major whose wasi-libc is `commit` (a prefix of at least 7 hex digits).
pub fn major_for_wasi_libc(commit: &str) -> Option<u32> {
    if commit.len() < 7 {
        return None;
    }
    WASI_LIBC_COMMITS
        .iter()
        .find(|(c, _)| c.starts_with(commit) || commit.starts_with(c))
        .map(|(_, m)| *m)
}

/// What identifies a WASI SDK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdkIdentity {
    /// The official SDK major it is (or is equivalent to), e.g. 25.
    pub major: u32,
    /// The version line of `VERSION`, e.g. `25.0`.
    pub version: String,
    /// wasi-libc commit (short hash), if recorded.
    pub wasi_libc: Option<String>,
    /// LLVM version (`19.1.5`) if recorded.
    pub llvm_version: Option<String>,
    /// Where it came from: `official`, or `debian: <packages>`.
    pub origin: String,
}

impl std::fmt::Display for SdkIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WASI SDK {} (", self.major)?;
        if let Some(c) = &self.wasi_libc {
            write!(f, "wasi-libc {c}, ")?;
        }
        if let Some(l) = &self.llvm_version {
            write!(f, "LLVM {l}, ")?;
        }
        write!(f, "{})", self.origin)
    }
}

/// Parse the text of an SDK's `VERSION` file.
///
/// Errors: a message when the first line is not a version like `25.0` and no
/// known wasi-libc commit gives the major.
pub fn parse_version_file(text: &str) -> std::result::Result<SdkIdentity, String> {
    let mut lines = text.lines();
    let version = lines.next().unwrap_or("").trim().to_string();
    let mut wasi_libc = None;
    let mut llvm_version = None;
    let mut origin = "official".to_string();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim().to_string();
            match k.trim() {
                "wasi-libc" => wasi_libc = Some(v),
                "llvm-version" => llvm_version = Some(v),
                "origin" => origin = v,
                _ => {}
            }
        }
    }
    let from_version = version.split(['.', '+', '-']).next().and_then(|m| m.parse::<u32>().ok());
    let from_libc = wasi_libc.as_deref().and_then(major_for_wasi_libc);
    let major = from_libc.or(from_version).ok_or_else(|| format!("cannot tell the SDK major from a VERSION file starting `{version}`"))?;
    Ok(SdkIdentity { major, version, wasi_libc, llvm_version, origin })
}

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
            return Err(Error::Toolchain(format!("{root} is not a WASI SDK: it has no bin/clang (give the directory that contains bin/ and share/wasi-sysroot)")));
        }
        let vf = root.join("VERSION");
        let text = std::fs::read_to_string(&vf).map_err(|_| Error::Toolchain(format!("{root} is not a WASI SDK wasiwheel can identify: it has no VERSION file (official wasi-sdk releases since 22 have one)")))?;
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
        self.sysroot().join("include").join(sub).join("c++/v1").is_dir() && self.sysroot().join("lib").join(sub).join("libc++.a").exists()
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
        None => Err(Error::Toolchain(format!(
            "no WASI SDK is installed: run `wasiwheel sdk install --from-debian 25` (or `wasiwheel sdk install {}`), or point `-C wasi-sdk=DIR` / WASI_SDK_PATH at an SDK",
            want.unwrap_or(24)
        ))),
    }
}

/// How to assemble SDK `major` from Debian packages.
#[derive(Debug, Clone, Copy)]
pub struct DebianRecipe {
    /// The SDK major it is equivalent to.
    pub major: u32,
    /// Debian suite that carries the wasi-libc package.
    pub suite: &'static str,
    /// `wasi-libc` package version.
    pub wasi_libc_version: &'static str,
    /// sha256 of `wasi-libc_{version}_all.deb`.
    pub sha256: &'static str,
    /// LLVM major of the clang/lld packages to use.
    pub llvm: u32,
}

/// The Debian equivalents wasiwheel knows (see docs/toolchains.md).
pub const DEBIAN_RECIPES: &[DebianRecipe] = &[
    DebianRecipe {
        major: 25,
        suite: "trixie",
        wasi_libc_version: "0.0~git20241209.574b88d-2",
        sha256: "b7716260051d289248b7667f81fa2792c125d888ff51da3fa09c6272cc0bd11d",
        llvm: 19,
    },
    DebianRecipe {
        major: 33,
        suite: "sid",
        wasi_libc_version: "0.0~git20260423.161b319-2",
        sha256: "1051dbb0a5e6d3f709de83b6afb423e07a8ab19a9e9f12ef20ff902131e7b8bc",
        llvm: 22,
    },
];

/// The Debian packages that provide LLVM `llvm`'s wasm32 compiler, linker and builtins.
pub fn debian_llvm_packages(llvm: u32) -> String {
    format!("clang-{llvm} lld-{llvm} libclang-rt-{llvm}-dev-wasm32")
}

/// The Debian archive URI this machine's apt uses, read from
/// `/etc/apt/sources.list` and `/etc/apt/sources.list.d/` (the first entry
/// whose URI path ends in `/debian`).
pub fn debian_archive_uri() -> Option<String> {
    let mut files = vec![Utf8PathBuf::from("/etc/apt/sources.list")];
    if let Ok(rd) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<Utf8PathBuf> = rd.flatten().filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok()).collect();
        more.sort();
        files.extend(more);
    }
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        for line in text.lines() {
            let line = line.trim();
            let uris: Vec<&str> = if let Some(rest) = line.strip_prefix("URIs:") {
                rest.split_whitespace().collect()
            } else if line.starts_with("deb ") {
                // deb [options] URI suite components
                let rest = line[4..].trim();
                let rest = if rest.starts_with('[') { rest.split_once(']').map(|x| x.1).unwrap_or("") } else { rest };
                rest.split_whitespace().take(1).collect()
            } else {
                continue;
            };
            for u in uris {
                if u.trim_end_matches('/').ends_with("/debian") {
                    return Some(u.trim_end_matches('/').to_string());
                }
            }
        }
    }
    None
}

/// Options of [`install_from_debian`].
#[derive(Debug, Clone, Default)]
pub struct DebianInstallOptions {
    /// A `wasi-libc` `.deb` already downloaded (skips apt).
    pub deb: Option<Utf8PathBuf>,
    /// The Debian archive URI to use instead of this machine's.
    pub mirror: Option<String>,
}

fn run_checked(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().map_err(|e| Error::Toolchain(format!("cannot run {what}: {e}")))?;
    if !out.status.success() {
        return Err(Error::Toolchain(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

/// Download `wasi-libc={version}` from `suite` with a private apt
/// configuration (the machine's apt state is not touched) into `dir`.
fn apt_download(recipe: &DebianRecipe, mirror: &str, dir: &Utf8Path) -> Result<Utf8PathBuf> {
    let apt = dir.join("apt");
    for sub in ["lists/partial", "cache/archives/partial", "etc"] {
        std::fs::create_dir_all(apt.join(sub)).context(|| format!("cannot create {apt}/{sub}"))?;
    }
    let sources = apt.join("etc/sources.list");
    std::fs::write(
        &sources,
        format!("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {mirror} {} main\n", recipe.suite),
    )
    .context(|| format!("cannot write {sources}"))?;
    let status = apt.join("etc/status");
    std::fs::write(&status, "").context(|| format!("cannot write {status}"))?;
    let opts = [
        format!("-oDir::Etc::SourceList={sources}"),
        "-oDir::Etc::SourceParts=/dev/null".to_string(),
        format!("-oDir::State::Lists={apt}/lists"),
        format!("-oDir::Cache={apt}/cache"),
        format!("-oDir::State::status={status}"),
        "-oDebug::NoLocking=1".to_string(),
        "-oAPT::Sandbox::User=root".to_string(),
    ];
    run_checked(Command::new("apt-get").args(&opts).args(["-q", "update"]), &format!("apt-get update (Debian {} index from {mirror})", recipe.suite))?;
    run_checked(
        Command::new("apt-get").args(&opts).args(["-q", "download", &format!("wasi-libc={}", recipe.wasi_libc_version)]).current_dir(dir),
        &format!("apt-get download wasi-libc={}", recipe.wasi_libc_version),
    )?;
    let deb = dir.join(format!("wasi-libc_{}_all.deb", recipe.wasi_libc_version.replace(':', "%3a")));
    if !deb.exists() {
        return Err(Error::Toolchain(format!("apt-get download did not produce {deb}")));
    }
    Ok(deb)
}

fn symlink(target: impl AsRef<std::path::Path>, link: &Utf8Path) -> Result<()> {
    std::os::unix::fs::symlink(target.as_ref(), link).context(|| format!("cannot create the symlink {link}"))
}

fn write_exec(path: &Utf8Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).context(|| format!("cannot write {path}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).context(|| format!("cannot chmod {path}"))
}

fn copy_tree(from: &Utf8Path, to: &Utf8Path) -> Result<()> {
    let st = Command::new("cp").args(["-a", from.as_str(), to.as_str()]).status().map_err(|e| Error::Io { context: "cannot run cp".into(), source: e })?;
    if !st.success() {
        return Err(Error::Other(format!("cp -a {from} {to} failed")));
    }
    Ok(())
}

/// The directory name of SDK `major` assembled from Debian packages.
pub fn debian_sdk_dir(major: u32) -> Result<Utf8PathBuf> {
    Ok(cache::dir("sdk")?.join(format!("wasi-sdk-{major}-debian")))
}

/// Assemble the Debian-package equivalent of wasi-sdk `major` into the cache
/// (`sdk/wasi-sdk-{major}-debian`), in the layout of an official SDK, with a
/// `VERSION` file recording its identity. Returns the SDK (already installed
/// ones are returned as they are).
///
/// Needs the host packages of [`debian_llvm_packages`]; downloads the
/// `wasi-libc` `.deb` with apt (or takes `opts.deb`) and checks its sha256.
///
/// Errors: [`Error::Toolchain`] for an unknown major, missing host packages
/// (with the `apt-get install` line), a failed download or checksum mismatch.
/// Nothing is left in the cache on failure.
pub fn install_from_debian(major: u32, opts: &DebianInstallOptions) -> Result<WasiSdk> {
    let recipe = DEBIAN_RECIPES.iter().find(|r| r.major == major).ok_or_else(|| {
        let known: Vec<String> = DEBIAN_RECIPES.iter().map(|r| r.major.to_string()).collect();
        Error::Toolchain(format!("no Debian-package equivalent of WASI SDK {major} is known; known: {}", known.join(", ")))
    })?;
    let dest = debian_sdk_dir(major)?;
    let _lock = cache::lock(&format!("sdk-{major}-debian"))?;
    let llvm_root0 = Utf8PathBuf::from(format!("/usr/lib/llvm-{}", recipe.llvm));
    let libcxx_available = llvm_root0.join("include/wasm32-wasi/c++/v1").is_dir() && llvm_root0.join("lib/wasm32-wasi/libc++.a").exists();
    if dest.exists() {
        if let Ok(sdk) = WasiSdk::open(&dest) {
            // An install made before Debian's libc++ for wasm32 was present is
            // completed by assembling it again.
            if !(libcxx_available && !sdk.has_cxx(WasiTarget::P1)) {
                progress::status(&format!("{} is already installed at {dest}", sdk.identity));
                return Ok(sdk);
            }
            progress::status(&format!("{} lacks the C++ library that is now installed on the host: assembling it again", sdk.identity));
        }
        std::fs::remove_dir_all(&dest).context(|| format!("cannot remove {dest}"))?;
    }
    let llvm = recipe.llvm;
    let llvm_root = Utf8PathBuf::from(format!("/usr/lib/llvm-{llvm}"));
    let builtins = llvm_root.join(format!("lib/clang/{llvm}/lib/wasi/libclang_rt.builtins-wasm32.a"));
    let wasm_ld = llvm_root.join("bin/wasm-ld");
    for need in [llvm_root.join("bin/clang"), wasm_ld.clone(), llvm_root.join("bin/llvm-ar"), builtins.clone()] {
        if !need.exists() {
            return Err(Error::Toolchain(format!(
                "{need} is missing: the Debian WASI SDK {major} needs LLVM {llvm}'s wasm32 toolchain; install it with `apt-get install {}`",
                debian_llvm_packages(llvm)
            )));
        }
    }
    let step = Step::start(format!("assembling WASI SDK {major} from Debian packages"));
    let staging = cache::staging_dir(dest.parent().expect("sdk dir has a parent"), &format!("wasi-sdk-{major}-debian"))?;
    let s = Utf8Path::from_path(staging.path()).expect("cache paths are UTF-8").to_path_buf();
    let work = s.join(".work");
    std::fs::create_dir_all(&work).context(|| format!("cannot create {work}"))?;

    let deb = match &opts.deb {
        Some(d) => d.clone(),
        None => {
            let mirror = opts.mirror.clone().or_else(|| std::env::var("WASIWHEEL_DEBIAN_MIRROR").ok()).or_else(debian_archive_uri).ok_or_else(|| {
                Error::Toolchain("cannot find this machine's Debian archive URI in /etc/apt: pass --debian-mirror URI or --deb FILE".into())
            })?;
            step.set(&format!("downloading wasi-libc {} from Debian {}", recipe.wasi_libc_version, recipe.suite));
            apt_download(recipe, &mirror, &work)?
        }
    };
    let sum = cache::sha256_file(&deb)?;
    if sum != recipe.sha256 {
        return Err(Error::Toolchain(format!("{deb} has sha256 {sum}, but wasi-libc {} must have {}: the download is corrupt or not the expected package", recipe.wasi_libc_version, recipe.sha256)));
    }
    step.set("unpacking wasi-libc");
    let x = work.join("x");
    run_checked(Command::new("dpkg").args(["-x", deb.as_str(), x.as_str()]), &format!("dpkg -x {deb}"))?;

    step.set("laying out the SDK");
    let sysroot = s.join("share/wasi-sysroot");
    std::fs::create_dir_all(sysroot.join("share")).context(|| format!("cannot create {sysroot}"))?;
    copy_tree(&x.join("usr/include"), &sysroot.join("include"))?;
    copy_tree(&x.join("usr/lib"), &sysroot.join("lib"))?;
    if let Ok(rd) = std::fs::read_dir(x.join("usr/share")) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("wasm32-") {
                copy_tree(&x.join("usr/share").join(&n), &sysroot.join("share").join(&n))?;
            }
        }
    }
    // clang ≥ 19 looks for wasm32-wasip1 directories; older packages only have wasm32-wasi.
    for sub in ["include", "lib"] {
        let p1 = sysroot.join(sub).join("wasm32-wasip1");
        if !p1.exists() && sysroot.join(sub).join("wasm32-wasi").exists() {
            symlink("wasm32-wasi", &p1)?;
        }
    }
    // C++: Debian's libc++/libc++abi for wasm32-wasi (libc++-N-dev-wasm32,
    // libc++abi-N-dev-wasm32), where clang looks for them in an official SDK.
    if libcxx_available {
        symlink(llvm_root.join("include/wasm32-wasi/c++"), &sysroot.join("include/wasm32-wasi/c++"))?;
        for lib in ["libc++.a", "libc++abi.a", "libc++experimental.a"] {
            let src = llvm_root.join("lib/wasm32-wasi").join(lib);
            if src.exists() {
                std::fs::copy(&src, sysroot.join("lib/wasm32-wasi").join(lib)).context(|| format!("cannot copy {src}"))?;
            }
        }
    } else {
        progress::status(&format!("note: no C++ library for wasm32 on the host; C++ extensions need `apt-get install libc++-{llvm}-dev-wasm32 libc++abi-{llvm}-dev-wasm32` before this command"));
    }
    // The resource directory: Debian's clang headers plus the wasm32 builtins
    // where clang looks for them per target triple.
    let res = s.join(format!("lib/clang/{llvm}"));
    std::fs::create_dir_all(res.join("lib")).context(|| format!("cannot create {res}"))?;
    symlink(llvm_root.join(format!("lib/clang/{llvm}/include")), &res.join("include"))?;
    for t in ["wasm32-unknown-wasi", "wasm32-unknown-wasip1", "wasm32-unknown-wasip2", "wasi"] {
        let d = res.join("lib").join(t);
        std::fs::create_dir_all(&d).context(|| format!("cannot create {d}"))?;
        let name = if t == "wasi" { "libclang_rt.builtins-wasm32.a" } else { "libclang_rt.builtins.a" };
        std::fs::copy(&builtins, d.join(name)).context(|| format!("cannot copy {builtins}"))?;
    }
    // bin/: compiler drivers defaulting to wasm32-wasip1 and this sysroot, as
    // an official SDK's do; binutils under both their llvm- and plain names.
    let bin = s.join("bin");
    std::fs::create_dir_all(&bin).context(|| format!("cannot create {bin}"))?;
    for (name, driver) in [("clang", "clang"), ("clang++", "clang++"), ("clang-cpp", "clang-cpp")] {
        let real = llvm_root.join("bin").join(driver);
        let real = if real.exists() { real } else { llvm_root.join("bin/clang") };
        let mode = if name == "clang-cpp" { " -E" } else { "" };
        let driver_mode = if name == "clang++" && !llvm_root.join("bin/clang++").exists() { " --driver-mode=g++" } else { "" };
        write_exec(
            &bin.join(name),
            &format!(
                "#!/bin/sh\n# WASI SDK {major} equivalent assembled by wasiwheel from Debian packages.\nSDK=\"$(cd \"$(dirname \"$0\")/..\" && pwd)\"\nexec {real}{driver_mode}{mode} --target=wasm32-wasip1 --sysroot=\"$SDK/share/wasi-sysroot\" -resource-dir=\"$SDK/lib/clang/{llvm}\" \"$@\"\n"
            ),
        )?;
    }
    for t in ["wasm32-wasi", "wasm32-wasip1", "wasm32-wasip2"] {
        for (suffix, driver) in [("clang", "clang"), ("clang++", "clang++")] {
            write_exec(&bin.join(format!("{t}-{suffix}")), &format!("#!/bin/sh\nexec \"$(dirname \"$0\")/{driver}\" --target={t} \"$@\"\n"))?;
        }
    }
    for tool in ["wasm-ld", "ld.lld", "llvm-ar", "llvm-ranlib", "llvm-nm", "llvm-strip", "llvm-objdump", "llvm-objcopy", "llvm-size", "llvm-strings", "llvm-dwarfdump", "llvm-readobj", "llvm-cxxfilt"] {
        let real = llvm_root.join("bin").join(tool);
        if real.exists() {
            symlink(&real, &bin.join(tool))?;
        }
    }
    for (plain, llvm_name) in [("ar", "llvm-ar"), ("ranlib", "llvm-ranlib"), ("nm", "llvm-nm"), ("strip", "llvm-strip"), ("objdump", "llvm-objdump"), ("objcopy", "llvm-objcopy"), ("size", "llvm-size"), ("strings", "llvm-strings")] {
        if bin.join(llvm_name).exists() {
            symlink(llvm_name, &bin.join(plain))?;
        }
    }
    let llvm_version = Command::new(llvm_root.join("bin/clang"))
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            text.split_whitespace().skip_while(|w| *w != "version").nth(1).map(|v| v.split(['-', '~']).next().unwrap_or(v).to_string())
        })
        .unwrap_or_else(|| format!("{llvm}"));
    let origin = format!("debian: wasi-libc {} + clang-{llvm} {llvm_version}", recipe.wasi_libc_version);
    std::fs::write(
        s.join("VERSION"),
        format!("{major}.0+debian\nwasi-libc: {}\nllvm-version: {llvm_version}\norigin: {origin}\n", wasi_libc_of(major).unwrap_or("unknown")),
    )
    .context(|| format!("cannot write {s}/VERSION"))?;
    std::fs::remove_dir_all(&work).context(|| format!("cannot remove {work}"))?;
    cache::commit(staging, &dest)?;
    step.done();
    let sdk = WasiSdk::open(&dest)?;
    progress::status(&format!("installed {} at {dest}", sdk.identity));
    Ok(sdk)
}

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
    OfficialRelease { major: 21, asset: "wasi-sdk-21.0-linux.tar.gz", top: "wasi-sdk-21.0", sha256: "f2fe0723b337c484556b19d64c0f6c6044827014bfcd403d00951c65a86cfa26", llvm_version: "17.0.6" },
    OfficialRelease { major: 24, asset: "wasi-sdk-24.0-x86_64-linux.tar.gz", top: "wasi-sdk-24.0-x86_64-linux", sha256: "c6c38aab56e5de88adf6c1ebc9c3ae8da72f88ec2b656fb024eda8d4167a0bc5", llvm_version: "18.1.2" },
    OfficialRelease { major: 25, asset: "wasi-sdk-25.0-x86_64-linux.tar.gz", top: "wasi-sdk-25.0-x86_64-linux", sha256: "52640dde13599bf127a95499e61d6d640256119456d1af8897ab6725bcf3d89c", llvm_version: "19.1.5" },
    OfficialRelease { major: 30, asset: "wasi-sdk-30.0-x86_64-linux.tar.gz", top: "wasi-sdk-30.0-x86_64-linux", sha256: "0507679dff16814b74516cd969a9b16d2ced1347388024bc7966264648c78bfb", llvm_version: "21" },
    OfficialRelease { major: 33, asset: "wasi-sdk-33.0-x86_64-linux.tar.gz", top: "wasi-sdk-33.0-x86_64-linux", sha256: "0ba8b5bfaeb2adf3f29bab5841d76cf5318ab8e1642ea195f88baba1abd47bce", llvm_version: "22" },
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
        Error::Toolchain(format!("wasiwheel has no pinned checksum for WASI SDK {major}, so it will not download it; pinned: {} (or point `-C wasi-sdk=DIR` at an SDK you installed yourself)", known.join(", ")))
    })?;
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        return Err(Error::Toolchain("wasiwheel pins official WASI SDK downloads for x86_64 Linux only: install the SDK yourself and use `-C wasi-sdk=DIR`".into()));
    }
    let dest = official_sdk_dir(major)?;
    let _lock = cache::lock(&format!("sdk-{major}"))?;
    if let Ok(sdk) = WasiSdk::open(&dest) {
        progress::status(&format!("{} is already installed at {dest}", sdk.identity));
        return Ok(sdk);
    }
    let env_mirror = std::env::var("WASIWHEEL_SDK_MIRROR").ok().filter(|m| !m.is_empty());
    let base = mirror.filter(|m| !m.is_empty()).map(str::to_string).or(env_mirror).unwrap_or_else(|| DEFAULT_RELEASE_BASE.to_string());
    let url = format!("{}/wasi-sdk-{major}/{}", base.trim_end_matches('/'), rel.asset);
    let staging = cache::staging_dir(dest.parent().expect("parent"), &format!("wasi-sdk-{major}"))?;
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
        return Err(Error::Toolchain(format!("{} (from {url}) has no {}/bin/clang: not a wasi-sdk release", rel.asset, rel.top)));
    }
    if !top.join("VERSION").exists() {
        // wasi-sdk 21 predates the VERSION file: record what the pin table knows.
        std::fs::write(top.join("VERSION"), format!("{major}.0\nwasi-libc: {}\nllvm-version: {}\n", wasi_libc_of(major).unwrap_or("unknown"), rel.llvm_version))
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

/// Download `url` to `dest`, checking its sha256 against `want` while
/// streaming; a progress bar shows bytes and rate. On any error `dest` is
/// removed.
///
/// Errors: [`Error::Toolchain`] naming the URL for HTTP errors, connection
/// drops, short bodies and checksum mismatches.
pub fn download_checked(url: &str, dest: &Utf8Path, want: &str) -> Result<()> {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Write};
    let result = (|| -> Result<()> {
        let resp = ureq::get(url).call().map_err(|e| Error::Toolchain(format!("cannot download {url}: {e}")))?;
        let total: Option<u64> = resp.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            let b = indicatif::ProgressBar::new(total.unwrap_or(0));
            b.set_style(indicatif::ProgressStyle::with_template("wasiwheel: downloading {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}").expect("valid template"));
            b.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
            Some(b)
        } else {
            progress::status(&format!("downloading {url}{}", total.map(|t| format!(" ({:.1} MB)", t as f64 / 1e6)).unwrap_or_default()));
            None
        };
        let mut reader = resp.into_body().into_reader();
        let mut out = std::io::BufWriter::new(std::fs::File::create(dest).context(|| format!("cannot create {dest}"))?);
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut got: u64 = 0;
        loop {
            let n = reader.read(&mut buf).map_err(|e| Error::Toolchain(format!("the download of {url} was interrupted after {got} bytes: {e}")))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n]).context(|| format!("cannot write {dest}"))?;
            got += n as u64;
            if let Some(b) = &bar {
                b.set_position(got);
            }
        }
        out.flush().context(|| format!("cannot write {dest}"))?;
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        if let Some(t) = total {
            if got != t {
                return Err(Error::Toolchain(format!("the download of {url} was interrupted: got {got} of {t} bytes")));
            }
        }
        let sum: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if sum != want {
            return Err(Error::Toolchain(format!("{url} has sha256 {sum}, but wasiwheel pins {want}: the file is corrupt or not the official release; nothing was installed")));
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_version_file() {
        let id = parse_version_file("25.0\nwasi-libc: 574b88da4815\nllvm: ab4b5a2db582\nllvm-version: 19.1.5\nconfig: 1234\n").unwrap();
        assert_eq!(id.major, 25);
        assert_eq!(id.llvm_version.as_deref(), Some("19.1.5"));
        assert_eq!(id.origin, "official");
    }

    #[test]
    fn debian_version_file_and_commit_table() {
        let id = parse_version_file("25.0+debian\nwasi-libc: 574b88da4815\norigin: debian: x\n").unwrap();
        assert_eq!(id.major, 25);
        assert_eq!(id.origin, "debian: x");
        assert_eq!(major_for_wasi_libc("b9ef79d"), Some(24));
        assert_eq!(major_for_wasi_libc("161b3195fc25"), Some(33));
        assert_eq!(major_for_wasi_libc("abc"), None);
        assert!(parse_version_file("nonsense\n").is_err());
    }
}

//! Assembling the Debian-package equivalent of an official wasi-sdk release:
//! Debian's clang, lld and compiler-rt for wasm32 and the `wasi-libc` package
//! whose commit is the release's, in the layout of an official SDK.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::model::sdk::wasi_libc_of;
use crate::model::target::WasiTarget;
use crate::progress::{self, Step};
use crate::toolchain::sdk::WasiSdk;
use crate::toolchain::{apt, cache};

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

/// Options of [`install_from_debian`].
#[derive(Debug, Clone, Default)]
pub struct DebianInstallOptions {
    /// A `wasi-libc` `.deb` already downloaded (skips apt).
    pub deb: Option<Utf8PathBuf>,
    /// The Debian archive URI to use instead of this machine's.
    pub mirror: Option<String>,
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
    let st = Command::new("cp")
        .args(["-a", from.as_str(), to.as_str()])
        .status()
        .map_err(|e| Error::Io { context: "cannot run cp".into(), source: e })?;
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
        Error::Toolchain(format!(
            "no Debian-package equivalent of WASI SDK {major} is known; known: {}",
            known.join(", ")
        ))
    })?;
    let dest = debian_sdk_dir(major)?;
    let _lock = cache::lock(&format!("sdk-{major}-debian"))?;
    let llvm_root0 = Utf8PathBuf::from(format!("/usr/lib/llvm-{}", recipe.llvm));
    let libcxx_available =
        llvm_root0.join("include/wasm32-wasi/c++/v1").is_dir() && llvm_root0.join("lib/wasm32-wasi/libc++.a").exists();
    if dest.exists() {
        if let Ok(sdk) = WasiSdk::open(&dest) {
            // An install made before Debian's libc++ for wasm32 was present is
            // completed by assembling it again.
            if !libcxx_available || sdk.has_cxx(WasiTarget::P1) {
                progress::status(&format!("{} is already installed at {dest}", sdk.identity));
                return Ok(sdk);
            }
            progress::status(&format!(
                "{} lacks the C++ library that is now installed on the host: assembling it again",
                sdk.identity
            ));
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
                "{need} is missing: the Debian WASI SDK {major} needs LLVM {llvm}'s wasm32 toolchain; install it with \
                    `apt-get install {}`",
                debian_llvm_packages(llvm)
            )));
        }
    }
    let step = Step::start(format!("assembling WASI SDK {major} from Debian packages"));
    let staging =
        crate::files::staging_dir(dest.parent().expect("sdk dir has a parent"), &format!("wasi-sdk-{major}-debian"))?;
    let s = Utf8Path::from_path(staging.path()).expect("cache paths are UTF-8").to_path_buf();
    let work = s.join(".work");
    std::fs::create_dir_all(&work).context(|| format!("cannot create {work}"))?;

    let deb = fetch_wasi_libc(recipe, opts, &work, &step)?;
    step.set("unpacking wasi-libc");
    let x = work.join("x");
    apt::run_checked(Command::new("dpkg").args(["-x", deb.as_str(), x.as_str()]), &format!("dpkg -x {deb}"))?;

    step.set("laying out the SDK");
    lay_out_sysroot(&x, &s, &llvm_root, llvm, libcxx_available)?;
    lay_out_resource_dir(&s, &llvm_root, llvm, &builtins)?;
    write_bin(&s, &llvm_root, major, llvm)?;
    let llvm_version = clang_version(&llvm_root).unwrap_or_else(|| llvm.to_string());
    let origin = format!("debian: wasi-libc {} + clang-{llvm} {llvm_version}", recipe.wasi_libc_version);
    std::fs::write(
        s.join("VERSION"),
        format!(
            "{major}.0+debian\nwasi-libc: {}\nllvm-version: {llvm_version}\norigin: {origin}\n",
            wasi_libc_of(major).unwrap_or("unknown")
        ),
    )
    .context(|| format!("cannot write {s}/VERSION"))?;
    std::fs::remove_dir_all(&work).context(|| format!("cannot remove {work}"))?;
    crate::files::commit(staging, &dest)?;
    step.done();
    let sdk = WasiSdk::open(&dest)?;
    progress::status(&format!("installed {} at {dest}", sdk.identity));
    Ok(sdk)
}

/// The `wasi-libc` `.deb` of `recipe`: `opts.deb`, else downloaded with apt
/// into `work`; checked against the pinned sha256.
///
/// Errors: [`Error::Toolchain`] for a failed download, no Debian archive URI,
/// or a checksum mismatch.
fn fetch_wasi_libc(
    recipe: &DebianRecipe,
    opts: &DebianInstallOptions,
    work: &Utf8Path,
    step: &Step,
) -> Result<Utf8PathBuf> {
    let deb = match &opts.deb {
        Some(d) => d.clone(),
        None => {
            if opts.mirror.is_none() && apt::archive_uri().is_none() {
                return Err(Error::Toolchain(
                    "cannot find this machine's Debian archive URI in /etc/apt: pass --debian-mirror URI or --deb FILE"
                        .into(),
                ));
            }
            step.set(&format!("downloading wasi-libc {} from Debian {}", recipe.wasi_libc_version, recipe.suite));
            let apt = apt::PrivateApt::open(work, recipe.suite, apt::Index::Binary, opts.mirror.as_deref())?;
            apt.download("wasi-libc", recipe.wasi_libc_version, work)?
        }
    };
    let sum = crate::files::sha256_file(&deb)?;
    if sum != recipe.sha256 {
        return Err(Error::Toolchain(format!(
            "{deb} has sha256 {sum}, but wasi-libc {} must have {}: the download is \
            corrupt or not the expected package",
            recipe.wasi_libc_version, recipe.sha256
        )));
    }
    Ok(deb)
}

/// `share/wasi-sysroot` of the SDK at `s` from the unpacked package `x`, with
/// `wasm32-wasip1` aliases and, if the host has it, Debian's libc++ for wasm32.
fn lay_out_sysroot(x: &Utf8Path, s: &Utf8Path, llvm_root: &Utf8Path, llvm: u32, libcxx_available: bool) -> Result<()> {
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
                std::fs::copy(&src, sysroot.join("lib/wasm32-wasi").join(lib))
                    .context(|| format!("cannot copy {src}"))?;
            }
        }
    } else {
        progress::status(&format!(
            "note: no C++ library for wasm32 on the host; C++ extensions need `apt-get install \
            libc++-{llvm}-dev-wasm32 libc++abi-{llvm}-dev-wasm32` before this command"
        ));
    }
    Ok(())
}

/// The clang resource directory of the SDK at `s`: Debian's clang headers and
/// the wasm32 builtins where clang looks for them per target triple.
fn lay_out_resource_dir(s: &Utf8Path, llvm_root: &Utf8Path, llvm: u32, builtins: &Utf8Path) -> Result<()> {
    let res = s.join(format!("lib/clang/{llvm}"));
    std::fs::create_dir_all(res.join("lib")).context(|| format!("cannot create {res}"))?;
    symlink(llvm_root.join(format!("lib/clang/{llvm}/include")), &res.join("include"))?;
    for t in ["wasm32-unknown-wasi", "wasm32-unknown-wasip1", "wasm32-unknown-wasip2", "wasi"] {
        let d = res.join("lib").join(t);
        std::fs::create_dir_all(&d).context(|| format!("cannot create {d}"))?;
        let name = if t == "wasi" { "libclang_rt.builtins-wasm32.a" } else { "libclang_rt.builtins.a" };
        std::fs::copy(builtins, d.join(name)).context(|| format!("cannot copy {builtins}"))?;
    }
    Ok(())
}

/// `bin/` of the SDK at `s`: compiler drivers defaulting to wasm32-wasip1 and
/// the SDK's sysroot, as an official SDK's do, and LLVM's binutils under both
/// their `llvm-` and plain names.
fn write_bin(s: &Utf8Path, llvm_root: &Utf8Path, major: u32, llvm: u32) -> Result<()> {
    let bin = s.join("bin");
    std::fs::create_dir_all(&bin).context(|| format!("cannot create {bin}"))?;
    for (name, driver) in [("clang", "clang"), ("clang++", "clang++"), ("clang-cpp", "clang-cpp")] {
        let real = llvm_root.join("bin").join(driver);
        let real = if real.exists() { real } else { llvm_root.join("bin/clang") };
        let mode = if name == "clang-cpp" { " -E" } else { "" };
        let driver_mode =
            if name == "clang++" && !llvm_root.join("bin/clang++").exists() { " --driver-mode=g++" } else { "" };
        write_exec(
            &bin.join(name),
            &format!(
                "#!/bin/sh\n# WASI SDK {major} equivalent assembled by wasiwheel from Debian packages.\nSDK=\"$(cd \
                    \"$(dirname \"$0\")/..\" && pwd)\"\nexec {real}{driver_mode}{mode} --target=wasm32-wasip1 \
                        --sysroot=\"$SDK/share/wasi-sysroot\" -resource-dir=\"$SDK/lib/clang/{llvm}\" \"$@\"\n"
            ),
        )?;
    }
    for t in ["wasm32-wasi", "wasm32-wasip1", "wasm32-wasip2"] {
        for (suffix, driver) in [("clang", "clang"), ("clang++", "clang++")] {
            write_exec(
                &bin.join(format!("{t}-{suffix}")),
                &format!("#!/bin/sh\nexec \"$(dirname \"$0\")/{driver}\" --target={t} \"$@\"\n"),
            )?;
        }
    }
    for tool in [
        "wasm-ld",
        "ld.lld",
        "llvm-ar",
        "llvm-ranlib",
        "llvm-nm",
        "llvm-strip",
        "llvm-objdump",
        "llvm-objcopy",
        "llvm-size",
        "llvm-strings",
        "llvm-dwarfdump",
        "llvm-readobj",
        "llvm-cxxfilt",
    ] {
        let real = llvm_root.join("bin").join(tool);
        if real.exists() {
            symlink(&real, &bin.join(tool))?;
        }
    }
    for (plain, llvm_name) in [
        ("ar", "llvm-ar"),
        ("ranlib", "llvm-ranlib"),
        ("nm", "llvm-nm"),
        ("strip", "llvm-strip"),
        ("objdump", "llvm-objdump"),
        ("objcopy", "llvm-objcopy"),
        ("size", "llvm-size"),
        ("strings", "llvm-strings"),
    ] {
        if bin.join(llvm_name).exists() {
            symlink(llvm_name, &bin.join(plain))?;
        }
    }
    Ok(())
}

/// The version `clang --version` of `llvm_root` reports (`19.1.7`), if it runs.
fn clang_version(llvm_root: &Utf8Path) -> Option<String> {
    Command::new(llvm_root.join("bin/clang")).arg("--version").output().ok().and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        text.split_whitespace()
            .skip_while(|w| *w != "version")
            .nth(1)
            .map(|v| v.split(['-', '~']).next().unwrap_or(v).to_string())
    })
}

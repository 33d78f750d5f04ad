//! Rust's standard library for a WASI target, position-independent: a
//! sysroot (`lib/rustlib/<triple>/lib/*.rlib`) that Rust extension builds
//! compile against with `--sysroot` (stable rustc), because a wasm dylib must
//! be position-independent and rustup's standard library for the WASI
//! targets is not. Built once per rustc and target from rustup's `rust-src`
//! (cargo's `build-std`, in a workspace of wasiwheel's own, so the projects'
//! builds never need unstable cargo features or see their vendored sources),
//! cached under `rust-std/` with a record of every library's sha256.
//!
//! It provisions and describes; it never builds a project's code.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::progress;
use crate::toolchain::cache;

/// Identifies the recipe in cache keys: a change of flags or steps is a new key.
const RECIPE: &str = "rust-std/2: -Zbuild-std=std,panic_abort, -C relocation-model=pic -C embed-bitcode=yes, release";

/// The flags the standard library is built with (and the projects' crates).
pub const RUSTFLAGS: &str = "-C relocation-model=pic";

/// `rust-std/<entry>/RECORD.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    recipe: String,
    rustc: String,
    /// File name → sha256 of each rlib.
    libraries: Vec<(String, String)>,
}

/// The rustc cargo runs: `$RUSTC`, else `rustc` on `PATH`.
pub fn rustc() -> String {
    std::env::var("RUSTC").ok().filter(|r| !r.is_empty()).unwrap_or_else(|| "rustc".into())
}

/// `triple` as cargo spells it in environment variable names: upper case,
/// `-` as `_` (`CARGO_TARGET_WASM32_WASIP1_LINKER`).
pub fn cargo_env_triple(triple: &str) -> String {
    triple.to_uppercase().replace(['-', '.'], "_")
}

/// The toolchain's own sysroot (`rustc --print sysroot`), or `None` when
/// rustc does not run.
pub fn sysroot() -> Option<Utf8PathBuf> {
    let o = Command::new(rustc()).args(["--print", "sysroot"]).output().ok().filter(|o| o.status.success())?;
    Some(Utf8PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
}

/// Check, before a Rust project's backend runs, that the Rust toolchain
/// ([`rustc`]) can build for `triple`: it runs, has
/// the target's standard library (`lib/rustlib/<triple>/lib`), and has the
/// standard library's source (`lib/rustlib/src/rust/library/std`, rustup's
/// `rust-src`), from which cargo rebuilds it position-independent.
///
/// Errors: [`Error::Toolchain`] naming what is missing and the rustup command
/// that adds it.
pub fn check_toolchain(triple: &str) -> Result<()> {
    let rustc = rustc();
    let sysroot = match sysroot() {
        Some(s) => s,
        None => {
            return Err(Error::Toolchain(format!(
                "this project builds Rust, and `{rustc} --print sysroot` does not run: install Rust with rustup \
                 (https://rustup.rs), then `rustup target add {triple}` and `rustup component add rust-src`"
            )))
        }
    };
    if !sysroot.join("lib/rustlib").join(triple).join("lib").is_dir() {
        return Err(Error::Toolchain(format!(
            "this project builds Rust, and the Rust toolchain at {sysroot} has no standard library for {triple}: \
             `rustup target add {triple}`"
        )));
    }
    if !sysroot.join("lib/rustlib/src/rust/library/std").is_dir() {
        return Err(Error::Toolchain(format!(
            "this project builds Rust, and the Rust toolchain at {sysroot} has no source of its standard library, \
             which wasiwheel rebuilds position-independent for {triple} (a wasm dylib must be, and rustup's is not): \
             `rustup component add rust-src`"
        )));
    }
    Ok(())
}

/// rustc's host triple (the `host:` line of `rustc -vV`), or `None` when rustc does not run.
pub fn host_triple() -> Option<String> {
    rustc_version()?.lines().find_map(|l| l.strip_prefix("host: ")).map(|h| h.trim().to_string())
}

/// `rustc -vV` (version, commit, host, LLVM), or `None` when rustc does not run.
pub fn rustc_version() -> Option<String> {
    let o = Command::new(rustc()).arg("-vV").output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// The sysroot of the position-independent standard library for `triple`:
/// the cache entry when it is complete (every rlib matches its record), else
/// built now (a minute or so on 2 cores, with progress) into a staging
/// directory renamed into place when complete; a damaged entry is built
/// again.
///
/// Errors: [`Error::Toolchain`] when rustc does not run or the build fails
/// (with its log's last lines); [`Error::Io`] for the cache.
pub fn ensure(triple: &str) -> Result<Utf8PathBuf> {
    let version = rustc_version()
        .ok_or_else(|| Error::Toolchain(format!("`{} -vV` does not run: install Rust with rustup", rustc())))?;
    let release = version.lines().next().unwrap_or("rustc").split_whitespace().nth(1).unwrap_or("?").to_string();
    let key = &crate::files::sha256_hex(format!("{RECIPE}\n{triple}\n{version}").as_bytes())[..12];
    let parent = cache::dir("rust-std")?;
    let entry = parent.join(format!("{triple}-rustc-{release}-{key}"));
    let _lock = cache::lock(&format!("rust-std-{triple}-{key}"))?;
    match check(&entry) {
        Ok(()) => return Ok(entry),
        Err(why) if entry.exists() => {
            progress::status(&format!(
                "the cached Rust standard library at {entry} is damaged ({why}): building it again"
            ));
            crate::toolchain::cache::remove_entry(&entry)?;
        }
        Err(_) => {}
    }
    build(triple, &version, &parent, &entry)?;
    check(&entry)
        .map_err(|why| Error::Toolchain(format!("the Rust standard library just built is incomplete: {why}")))?;
    Ok(entry)
}

/// Whether `entry` holds what its record says.
fn check(entry: &Utf8Path) -> std::result::Result<(), String> {
    let rec = entry.join("RECORD.json");
    let text = std::fs::read_to_string(&rec).map_err(|_| format!("no {rec}"))?;
    let r: Record = serde_json::from_str(&text).map_err(|e| format!("{rec}: {e}"))?;
    if r.recipe != RECIPE || r.libraries.is_empty() {
        return Err(format!("{rec} is of another recipe"));
    }
    let lib = entry.join("lib/rustlib");
    for (name, sha) in &r.libraries {
        let p = lib.join(name);
        match crate::files::sha256_file(&p) {
            Ok(s) if &s == sha => {}
            _ => return Err(format!("{p} does not match its sha256 in {rec}")),
        }
    }
    Ok(())
}

/// Build the standard library for `triple` into `entry` (see [`ensure`]).
fn build(triple: &str, version: &str, parent: &Utf8Path, entry: &Utf8Path) -> Result<()> {
    let name = entry.file_name().unwrap_or("entry").to_string();
    let staging = crate::files::staging_dir(parent, &name)?;
    let out = Utf8Path::from_path(staging.path()).expect("cache paths are UTF-8").to_path_buf();
    let work_dir = crate::files::staging_dir(parent, &format!("{name}-work"))?;
    let work = Utf8Path::from_path(work_dir.path()).expect("cache paths are UTF-8").to_path_buf();
    let step = progress::Step::start(format!(
        "building Rust's standard library for {triple}, position-independent (once per rustc; about a minute)"
    ));
    std::fs::create_dir_all(work.join("src")).context(|| format!("cannot create {work}/src"))?;
    std::fs::write(
        work.join("Cargo.toml"),
        "[package]\nname = \"wasiwheel-std\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[lib]\npath = \
         \"src/lib.rs\"\n\n[workspace]\n",
    )
    .context(|| format!("cannot write {work}/Cargo.toml"))?;
    std::fs::write(work.join("src/lib.rs"), "pub fn touch() -> usize { std::env::args().count() }\n")
        .context(|| format!("cannot write {work}/src/lib.rs"))?;
    let cargo = std::env::var("CARGO").ok().filter(|c| !c.is_empty()).unwrap_or_else(|| "cargo".into());
    let t = cargo_env_triple(triple);
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--release", "--target", triple, "-Zbuild-std=std,panic_abort"])
        .current_dir(&work)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", work.join("target"))
        // Bitcode too, as in rustup's own: crates built with `lto = "fat"` need it.
        .env(format!("CARGO_TARGET_{t}_RUSTFLAGS"), format!("{RUSTFLAGS} -C embed-bitcode=yes"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    step.set("cargo build -Zbuild-std=std,panic_abort");
    crate::toolchain::logged_step(cmd, &work.join("build.log"), false, "Rust's standard library", "cargo build")?;
    let deps = work.join("target").join(triple).join("release/deps");
    let lib = out.join("lib/rustlib").join(triple).join("lib");
    std::fs::create_dir_all(&lib).context(|| format!("cannot create {lib}"))?;
    let mut libraries = Vec::new();
    let mut rlibs: Vec<Utf8PathBuf> = std::fs::read_dir(&deps)
        .context(|| format!("cannot read {deps}"))?
        .flatten()
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        .filter(|p| p.extension() == Some("rlib") && !p.file_name().unwrap_or("").starts_with("libwasiwheel_std"))
        .collect();
    rlibs.sort();
    for p in rlibs {
        let file = p.file_name().expect("a file").to_string();
        std::fs::copy(&p, lib.join(&file)).context(|| format!("cannot copy {p}"))?;
        libraries.push((format!("{triple}/lib/{file}"), crate::files::sha256_file(&lib.join(&file))?));
    }
    if !libraries.iter().any(|(n, _)| n.contains("/libstd-")) {
        return Err(Error::Toolchain(format!("cargo build -Zbuild-std left no libstd-*.rlib in {deps}")));
    }
    // wasi-libc's start files and libc that rustc names on link lines (its
    // self-contained directory), from the toolchain's own sysroot.
    if let Some(own) = sysroot() {
        let sc = own.join("lib/rustlib").join(triple).join("lib/self-contained");
        if sc.is_dir() {
            std::os::unix::fs::symlink(&sc, lib.join("self-contained"))
                .context(|| format!("cannot link {sc} into {lib}"))?;
        }
    }
    let record = Record { recipe: RECIPE.into(), rustc: version.to_string(), libraries };
    let rec = out.join("RECORD.json");
    std::fs::write(&rec, serde_json::to_string_pretty(&record).expect("serializable"))
        .context(|| format!("cannot write {rec}"))?;
    crate::files::commit(staging, entry)?;
    step.done();
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cargo_spelling() {
        assert_eq!(super::cargo_env_triple("wasm32-wasip1"), "WASM32_WASIP1");
    }
}

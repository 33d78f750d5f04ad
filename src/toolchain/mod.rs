//! Toolchains for the target: WASI SDKs (`sdk/`: official releases and the
//! Debian assembly), target CPythons (`python/`: source builds, compile-only
//! assemblies, the standard library's C libraries), the WASI `pyconfig.h` and
//! sysconfigdata they carry (`pyconfig`, `sysconfigdata`), what a wasm file
//! says about its producers (`wasm_meta`), the cache, downloads, pinned
//! sources (`sources`, `apt`), exception-enabled C++ runtimes (`cxx_eh`), a
//! position-independent Rust standard library (`rust_std`) and provisioning
//! on first use (`provision`).
//!
//! It provisions and describes; it never compiles a project's code, runs
//! WebAssembly, or builds wheels.

pub mod apt;
pub mod cache;
pub mod cxx_eh;
pub mod download;
pub mod provision;
pub mod pyconfig;
pub mod python;
pub mod rust_std;
pub mod sdk;
pub mod sources;
pub mod sysconfigdata;
pub mod wasm_meta;

/// The program `tool` as found on this process's `PATH` (the first regular
/// file of that name), or `None`.
pub fn which(tool: &str) -> Option<camino::Utf8PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .and_then(|p| camino::Utf8PathBuf::from_path_buf(p).ok())
}

/// Run one step of a toolchain build (`cmd`), its output appended to the
/// build log `log` unless `verbose` (then it goes to the terminal).
///
/// Errors: [`crate::error::Error::Toolchain`] when it cannot start, or, when
/// it fails, "building `building` failed at: `what`" with the log's last 30 lines.
pub(crate) fn logged_step(
    mut cmd: std::process::Command,
    log: &camino::Utf8Path,
    verbose: bool,
    building: &str,
    what: &str,
) -> crate::error::Result<()> {
    use crate::error::{Error, IoContext};
    if !verbose {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .context(|| format!("cannot open the build log {log}"))?;
        let f2 = f.try_clone().context(|| format!("cannot open the build log {log}"))?;
        cmd.stdout(f).stderr(f2);
    }
    let status = cmd.status().map_err(|e| Error::Toolchain(format!("cannot run {what}: {e}")))?;
    if !status.success() {
        let tail = std::fs::read_to_string(log)
            .map(|t| t.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default();
        return Err(Error::Toolchain(format!(
            "building {building} failed at: {what} ({status}).\nLast lines of {log}:\n{tail}"
        )));
    }
    Ok(())
}

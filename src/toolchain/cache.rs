//! wasiwheel's cache: `$WASIWHEEL_CACHE_DIR`, else `$XDG_CACHE_HOME/wasiwheel`,
//! else `~/.cache/wasiwheel`. It holds WASI SDKs (`sdk/`), target CPythons
//! (`python/`), relinked interpreters (`run/`) and compiled WebAssembly
//! (`wasmtime/`). Entries are written into a temporary sibling and renamed
//! into place, under an exclusive lock, so concurrent builds never see a
//! half-written entry.

use std::fs::File;

use camino::Utf8PathBuf;

use crate::error::{Error, IoContext, Result};

/// The cache root (not created).
///
/// Errors: [`Error::Other`] when no home directory can be found and no
/// variable names the cache, or the path is not UTF-8.
pub fn root() -> Result<Utf8PathBuf> {
    let from_env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let p = if let Some(d) = from_env("WASIWHEEL_CACHE_DIR") {
        Utf8PathBuf::from(d)
    } else if let Some(x) = from_env("XDG_CACHE_HOME") {
        Utf8PathBuf::from(x).join("wasiwheel")
    } else if let Some(h) = from_env("HOME") {
        Utf8PathBuf::from(h).join(".cache").join("wasiwheel")
    } else {
        return Err(Error::Other("cannot find a cache directory: set WASIWHEEL_CACHE_DIR or HOME".into()));
    };
    Ok(p)
}

/// A subdirectory of the cache, created if needed.
///
/// Errors: [`Error::Io`] when it cannot be created.
pub fn dir(sub: &str) -> Result<Utf8PathBuf> {
    let d = root()?.join(sub);
    std::fs::create_dir_all(&d).context(|| format!("cannot create the cache directory {d}"))?;
    Ok(d)
}

/// An exclusive lock on a cache entry, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Take the exclusive lock called `name` (waiting for another process that
/// holds it, and saying so on stderr).
///
/// Errors: [`Error::Io`] when the lock file cannot be created or locked.
pub fn lock(name: &str) -> Result<Lock> {
    let d = dir("locks")?;
    let p = d.join(format!("{name}.lock"));
    let file = File::create(&p).context(|| format!("cannot create the lock file {p}"))?;
    if file.try_lock().is_err() {
        crate::progress::status(&format!("waiting for another wasiwheel process to finish with {name} (lock {p})"));
        file.lock().context(|| format!("cannot lock {p}"))?;
    }
    Ok(Lock { _file: file })
}

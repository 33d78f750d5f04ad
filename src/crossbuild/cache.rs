//! wasiwheel's cache: `$WASIWHEEL_CACHE_DIR`, else `$XDG_CACHE_HOME/wasiwheel`,
//! else `~/.cache/wasiwheel`. It holds WASI SDKs (`sdk/`), target CPythons
//! (`python/`), relinked interpreters (`run/`) and compiled WebAssembly
//! (`wasmtime/`). Entries are written into a temporary sibling and renamed
//! into place, under an exclusive lock, so concurrent builds never see a
//! half-written entry.

use std::fs::File;

use camino::{Utf8Path, Utf8PathBuf};

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

/// A fresh temporary directory inside `parent` (same file system, so it can
/// be renamed into place), removed on drop unless kept.
///
/// Errors: [`Error::Io`].
pub fn staging_dir(parent: &Utf8Path, prefix: &str) -> Result<tempfile::TempDir> {
    std::fs::create_dir_all(parent).context(|| format!("cannot create {parent}"))?;
    tempfile::Builder::new()
        .prefix(&format!(".{prefix}."))
        .tempdir_in(parent)
        .context(|| format!("cannot create a temporary directory in {parent}"))
}

/// Move a finished staging directory to `dest` atomically (replacing nothing:
/// `dest` must not exist).
///
/// Errors: [`Error::Io`].
pub fn commit(staging: tempfile::TempDir, dest: &Utf8Path) -> Result<()> {
    let path = staging.keep();
    std::fs::rename(&path, dest).map_err(|e| {
        let _ = std::fs::remove_dir_all(&path);
        Error::Io { context: format!("cannot move {} into place at {dest}", path.display()), source: e }
    })
}

/// Write the file `dest` atomically: `write` fills a temporary file
/// (`.{name}.XXXXXX.part`) in the same directory, which then gets mode 0644
/// and is renamed over `dest`. If `write` fails, nothing is left behind.
///
/// Errors: [`Error::Io`] when the directory cannot be written, or whatever
/// `write` returns.
pub fn write_atomic(dest: &Utf8Path, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = dest.parent().filter(|d| !d.as_str().is_empty()).unwrap_or(Utf8Path::new("."));
    std::fs::create_dir_all(dir).context(|| format!("cannot create the directory {dir}"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", dest.file_name().unwrap_or("output")))
        .suffix(".part")
        .tempfile_in(dir)
        .context(|| format!("cannot create a temporary file in {dir}"))?;
    write(tmp.as_file_mut())?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644)).context(|| format!("cannot set the mode of {}", tmp.path().display()))?;
    tmp.persist(dest).map_err(|e| Error::Io { context: format!("cannot move {dest} into place"), source: e.error })?;
    Ok(())
}

/// Hex sha256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex sha256 of a file's contents, streamed.
///
/// Errors: [`Error::Io`].
pub fn sha256_file(path: &Utf8Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut f = File::open(path).context(|| format!("cannot open {path}"))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).context(|| format!("cannot read {path}"))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

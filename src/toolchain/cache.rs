//! wasiwheel's cache: `$WASIWHEEL_CACHE_DIR`, else `$XDG_CACHE_HOME/wasiwheel`,
//! else `~/.cache/wasiwheel`. It holds WASI SDKs (`sdk/`), target CPythons
//! (`python/`), relinked interpreters (`run/`), wasi-libc members weakened
//! for relinks (`overlap/`) and compiled WebAssembly (`wasmtime/`). Entries
//! are written into a temporary sibling and renamed into place, under an
//! exclusive lock, so concurrent builds never see a half-written entry.

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
pub type Lock = crate::files::FileLock;

/// Take the exclusive lock called `name` (`locks/NAME.lock` in the cache),
/// waiting for another process that holds it, and saying so on stderr.
///
/// Errors: [`Error::Io`] when the lock file cannot be created or locked.
pub fn lock(name: &str) -> Result<Lock> {
    let p = dir("locks")?.join(format!("{name}.lock"));
    let on_wait =
        || crate::progress::status(&format!("waiting for another wasiwheel process to finish with {name} (lock {p})"));
    crate::files::lock_file(&p, on_wait)
}

/// Remove the cache entry at `path` (a directory under the cache root): it is
/// renamed to a hidden sibling first, so that no process sees it half removed.
///
/// Errors: [`Error::Other`] when `path` is not inside the cache;
/// [`Error::Io`] when it cannot be renamed or removed.
pub fn remove_entry(path: &camino::Utf8Path) -> Result<()> {
    let root = root()?;
    let Some(parent) = path.parent().filter(|_| path.starts_with(&root) && path != root) else {
        return Err(Error::Other(format!("{path} is not an entry of the cache {root}")));
    };
    let _lock = lock(&format!("remove-{}", path.file_name().unwrap_or("entry")))?;
    let gone = parent.join(format!(".removing-{}-{}", path.file_name().unwrap_or("entry"), std::process::id()));
    std::fs::rename(path, &gone).context(|| format!("cannot move {path} aside to remove it"))?;
    std::fs::remove_dir_all(&gone).context(|| format!("cannot remove {gone}"))
}

/// One entry of [`entries`].
#[derive(Debug)]
pub struct Entry {
    /// Its path.
    pub path: Utf8PathBuf,
    /// Its size on disk, in bytes (files' lengths, links not followed).
    pub bytes: u64,
}

/// The entries of the cache, two levels deep (`sdk/wasi-sdk-25-debian`,
/// `python/3.13.5-…`, `sources/…`), each with its size; hidden and lock
/// files are left out. Sorted by path.
///
/// Errors: [`Error::Io`] when the cache cannot be read.
pub fn entries() -> Result<Vec<Entry>> {
    fn size(p: &std::path::Path) -> u64 {
        let Ok(m) = std::fs::symlink_metadata(p) else { return 0 };
        if m.is_dir() {
            std::fs::read_dir(p).map(|rd| rd.flatten().map(|e| size(&e.path())).sum()).unwrap_or(0)
        } else {
            m.len()
        }
    }
    let root = root()?;
    let mut out = Vec::new();
    let Ok(top) = std::fs::read_dir(&root) else { return Ok(out) };
    for t in top.flatten() {
        let name = t.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name == "locks" {
            continue;
        }
        let Ok(p) = Utf8PathBuf::from_path_buf(t.path()) else { continue };
        let subs: Vec<Utf8PathBuf> = if p.is_dir() {
            std::fs::read_dir(&p)
                .context(|| format!("cannot read {p}"))?
                .flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
                .collect()
        } else {
            vec![p]
        };
        out.extend(subs.into_iter().map(|path| Entry { bytes: size(path.as_std_path()), path }));
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

//! File helpers shared by every part of wasiwheel: atomic writes and
//! directory commits (so that no partial artifact or cache entry is ever
//! seen), exclusive lock files, sha256 digests, and zip timestamps.

use std::fs::File;

use camino::Utf8Path;

use crate::error::{Error, IoContext, Result};

/// An exclusive lock on a file (an advisory `flock`-style lock, released
/// when dropped or when the process ends, even by a crash).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// Take the exclusive lock of the file at `path` (created if missing, its
/// directory too). When another process holds it, call `on_wait` once (the
/// caller says what it waits for, the way cargo says "Blocking waiting for
/// file lock") and wait.
///
/// Errors: [`Error::Io`] when the file cannot be created or locked.
pub fn lock_file(path: &Utf8Path, on_wait: impl FnOnce()) -> Result<FileLock> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).context(|| format!("cannot create {parent}"))?;
    }
    let file = File::create(path).context(|| format!("cannot create the lock file {path}"))?;
    if file.try_lock().is_err() {
        on_wait();
        file.lock().context(|| format!("cannot lock {path}"))?;
    }
    Ok(FileLock { _file: file })
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
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
        .context(|| format!("cannot set the mode of {}", tmp.path().display()))?;
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

/// 1980-01-01T00:00:00Z in seconds since the Unix epoch: the earliest time a
/// zip file can record.
pub const ZIP_EPOCH: i64 = 315_532_800;

/// A zip timestamp for `secs` since the Unix epoch, clamped to 1980-01-01
/// (zip's floor) and 2107 (its ceiling).
pub fn zip_datetime(secs: i64) -> zip::DateTime {
    let floor = zip::DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0).expect("valid date");
    let ceiling = zip::DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).expect("valid date");
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) if t.year() < 1980 => floor,
        Ok(t) if t.year() > 2107 => ceiling,
        Ok(t) => zip::DateTime::from_date_and_time(
            t.year() as u16,
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
        )
        .unwrap_or(floor),
        Err(_) if secs > 0 => ceiling,
        Err(_) => floor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_floor() {
        assert_eq!(zip_datetime(0), zip::DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(zip_datetime(1_700_000_000).year(), 2023);
    }

    #[test]
    fn lock_file_excludes_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = Utf8Path::from_path(dir.path()).unwrap().join("sub/.lock");
        let held = lock_file(&p, || ()).unwrap();
        // A second open file description of the same file cannot take it meanwhile.
        let other = File::open(&p).unwrap();
        assert!(other.try_lock().is_err());
        drop(held);
        assert!(other.try_lock().is_ok());
    }

    #[test]
    fn write_atomic_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let d = Utf8Path::from_path(dir.path()).unwrap();
        let dest = d.join("out.bin");
        let e = write_atomic(&dest, |_| Err(Error::Other("boom".into()))).unwrap_err();
        assert_eq!(e.to_string(), "boom");
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 0, "a temporary file was left behind");
        write_atomic(&dest, |f| std::io::Write::write_all(f, b"data").context(|| "write".into())).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"data");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o644);
        // Replacing an existing file is atomic too.
        write_atomic(&dest, |f| std::io::Write::write_all(f, b"new").context(|| "write".into())).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 1);
    }
}

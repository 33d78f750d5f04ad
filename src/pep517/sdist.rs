//! The sdist writer (the "Source distribution format" specification, PEP 625
//! file names, PEP 643 `PKG-INFO`): a gzip-compressed tar with a single
//! top-level `{name}-{version}/` directory, files sorted, modes normalised to
//! 0644/0755, owner and group cleared, every mtime set to the build timestamp.

use std::io::Write;

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{IoContext, Result};

/// Directory names never put in an sdist: VCS folders, caches, build outputs,
/// virtual environments.
const EXCLUDED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "build",
    "dist",
    "target",
    ".eggs",
    ".idea",
    ".vscode",
];

fn excluded(name: &str, is_dir: bool) -> bool {
    if is_dir {
        EXCLUDED_DIRS.contains(&name) || name.ends_with(".egg-info") || name.ends_with(".dist-info")
    } else {
        name.ends_with(".pyc")
            || name.ends_with(".pyo")
            || name == ".DS_Store"
            || name.ends_with(".whl")
            || name.ends_with(".o")
            || name.ends_with(".so")
    }
}

/// The files of the project at `root` that belong in its sdist, as sorted
/// paths relative to `root`. `extra_excluded` are further directories
/// (relative to `root`) to leave out, such as a custom build directory.
///
/// Errors: [`Error::Io`] when a directory cannot be read.
pub fn collect_files(root: &Utf8Path, extra_excluded: &[Utf8PathBuf]) -> Result<Vec<Utf8PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![Utf8PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for entry in std::fs::read_dir(&dir).context(|| format!("cannot read directory {dir}"))? {
            let entry = entry.context(|| format!("cannot read directory {dir}"))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue; // a non-UTF-8 name cannot be recorded portably
            };
            let path = rel.join(&name);
            let meta = std::fs::metadata(entry.path()).context(|| format!("cannot stat {}", root.join(&path)))?;
            if extra_excluded.contains(&path) {
                continue;
            }
            if meta.is_dir() {
                if !excluded(&name, true) && !entry.file_type().map(|t| t.is_symlink()).unwrap_or(false) {
                    stack.push(path);
                }
            } else if meta.is_file() && !excluded(&name, false) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Write `{filename}` (a `.tar.gz`) into `out_dir` atomically, containing
/// `PKG-INFO` (text `pkg_info`) and `files` (relative to `root`) under the
/// top directory `top`. Returns the path of the sdist.
///
/// Errors: [`Error::Io`] for unreadable files or an unwritable `out_dir`;
/// nothing is left in `out_dir` on failure.
pub fn write_sdist(
    root: &Utf8Path,
    files: &[Utf8PathBuf],
    pkg_info: &str,
    top: &str,
    out_dir: &Utf8Path,
    filename: &str,
    timestamp: i64,
) -> Result<Utf8PathBuf> {
    let mtime = timestamp.max(0) as u64;
    let mut entries: Vec<(String, Vec<u8>, bool)> = Vec::with_capacity(files.len() + 1);
    entries.push((format!("{top}/PKG-INFO"), pkg_info.as_bytes().to_vec(), false));
    for f in files {
        if f.as_str() == "PKG-INFO" {
            continue; // building an sdist from an sdist: write a fresh one
        }
        let p = root.join(f);
        let data = std::fs::read(&p).context(|| format!("cannot read {p}"))?;
        let exec = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&p).map(|m| m.permissions().mode() & 0o111 != 0).unwrap_or(false)
        };
        entries.push((format!("{top}/{f}"), data, exec));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let final_path = out_dir.join(filename);
    crate::files::write_atomic(&final_path, |file| {
        let gz = flate2::GzBuilder::new().mtime(0).write(std::io::BufWriter::new(file), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        for (path, data, exec) in entries {
            append_pax(&mut tar, &path, &data, if exec { 0o755 } else { 0o644 }, mtime)
                .context(|| format!("cannot add {path} to the sdist"))?;
        }
        let gz = tar.into_inner().context(|| format!("cannot write {final_path}"))?;
        gz.finish()
            .context(|| format!("cannot write {final_path}"))?
            .flush()
            .context(|| format!("cannot write {final_path}"))
    })?;
    Ok(final_path)
}

/// Append a regular file in POSIX pax format: a ustar header, preceded by a
/// pax extended header (`path=`, written by `tar`'s `append_pax_extensions`)
/// when the path does not fit in ustar's fields.
fn append_pax<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    data: &[u8],
    mode: u32,
    mtime: u64,
) -> std::io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    if h.set_path(path).is_err() {
        tar.append_pax_extensions([("path", path.as_bytes())])?;
        // The ustar name field gets the path's last 99 bytes (readers use the pax path).
        let bytes = path.as_bytes();
        let tail = &bytes[bytes.len().saturating_sub(99)..];
        let name = &mut h.as_ustar_mut().expect("ustar header").name;
        name.fill(0);
        name[..tail.len()].copy_from_slice(tail);
    }
    h.set_cksum();
    tar.append(&h, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_and_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        for f in [
            "pyproject.toml",
            "src/a/__init__.py",
            "src/a/__pycache__/x.pyc",
            ".git/config",
            "build/x.o",
            "csrc/a.c",
            "mybuild/y",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let files = collect_files(root, &["mybuild".into()]).unwrap();
        let files: Vec<&str> = files.iter().map(|f| f.as_str()).collect();
        assert_eq!(files, vec!["csrc/a.c", "pyproject.toml", "src/a/__init__.py"]);
    }

    #[test]
    fn long_paths_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let deep = format!("{}/f.py", ["d"; 80].join("/"));
        std::fs::create_dir_all(root.join(&deep).parent().unwrap()).unwrap();
        std::fs::write(root.join(&deep), "x").unwrap();
        let files = vec![Utf8PathBuf::from(&deep)];
        let p = write_sdist(root, &files, "Metadata-Version: 2.4\n", "a-1", root, "a-1.tar.gz", 0).unwrap();
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap()));
        let names: Vec<String> =
            ar.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec!["a-1/PKG-INFO".to_string(), format!("a-1/{deep}")]);
    }
}

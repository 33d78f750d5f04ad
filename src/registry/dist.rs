//! Distribution files in a wheelhouse: wheels (the binary distribution
//! format) and sdists (the source distribution format, PEP 625 names), read
//! and checked before they are published.
//!
//! A wheel is accepted only when it is a zip archive, its file name parses
//! (`{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`), it has
//! exactly one `.dist-info/METADATA` whose `Name` and `Version` match the file
//! name (names compared normalised, PEP 503; versions compared as PEP 440
//! versions), and its `RECORD` lists every file with a sha256 that matches.

use std::collections::BTreeSet;
use std::io::Read;
use std::str::FromStr;

use camino::Utf8Path;
use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::error::{Error, IoContext, Result};
use crate::registry::coremeta::CoreMetadata;

/// The kind of a distribution file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistKind {
    /// A `.whl`.
    Wheel,
    /// A `.tar.gz` (or legacy `.zip`) sdist.
    Sdist,
}

/// What the index needs to know about one distribution file.
#[derive(Debug, Clone)]
pub struct Dist {
    /// The file name, e.g. `attrs-25.3.0-py3-none-any.whl`.
    pub filename: String,
    /// The project, normalised (PEP 503).
    pub project: PackageName,
    /// The version from the file name (equal to the metadata's).
    pub version: Version,
    /// Wheel or sdist.
    pub kind: DistKind,
    /// Hex sha256 of the file.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// `Requires-Python` from its metadata, if any.
    pub requires_python: Option<String>,
    /// For wheels: the `METADATA` file's bytes (served as `{filename}.metadata`, PEP 658).
    pub metadata: Option<Vec<u8>>,
}

/// The kind of `filename` if it names a distribution, else `None`.
pub fn kind_of(filename: &str) -> Option<DistKind> {
    if filename.starts_with('.') {
        None
    } else if filename.ends_with(".whl") {
        Some(DistKind::Wheel)
    } else if filename.ends_with(".tar.gz") || filename.ends_with(".zip") {
        Some(DistKind::Sdist)
    } else {
        None
    }
}

fn corrupt(path: &Utf8Path, why: impl std::fmt::Display) -> Error {
    Error::Other(format!("{path}: {why}"))
}

/// Name and version from a distribution's file name.
///
/// Errors: [`Error::Other`] naming the file when the name does not parse.
pub fn parse_filename(path: &Utf8Path, kind: DistKind) -> Result<(PackageName, Version)> {
    let filename = path.file_name().unwrap_or(path.as_str());
    let (name, version) = match kind {
        DistKind::Wheel => {
            let stem = filename.strip_suffix(".whl").unwrap_or(filename);
            let parts: Vec<&str> = stem.split('-').collect();
            if parts.len() != 5 && parts.len() != 6 {
                return Err(corrupt(
                    path,
                    "is not a wheel file name: expected NAME-VERSION(-BUILD)-PYTHON-ABI-PLATFORM.whl \
                     (binary distribution format)",
                ));
            }
            (parts[0], parts[1])
        }
        DistKind::Sdist => {
            let stem = filename.strip_suffix(".tar.gz").or_else(|| filename.strip_suffix(".zip")).unwrap_or(filename);
            stem.rsplit_once('-')
                .ok_or_else(|| corrupt(path, "is not an sdist file name: expected NAME-VERSION.tar.gz (PEP 625)"))?
        }
    };
    let project = PackageName::new(name.to_string())
        .map_err(|e| corrupt(path, format!("the name `{name}` in the file name is not a project name: {e}")))?;
    let version = Version::from_str(version).map_err(|e| {
        corrupt(path, format!("the version `{version}` in the file name is not a PEP 440 version: {e}"))
    })?;
    Ok((project, version))
}

/// Read and check the distribution at `path` (see the module docs).
///
/// Errors: [`Error::Other`] naming the file and what is wrong with it (not a
/// zip, no METADATA, a RECORD mismatch, name or version not matching the file
/// name); [`Error::Io`] when it cannot be read.
pub fn inspect(path: &Utf8Path) -> Result<Dist> {
    let filename = path.file_name().unwrap_or(path.as_str()).to_string();
    let kind = kind_of(&filename).ok_or_else(|| corrupt(path, "is neither a wheel nor an sdist"))?;
    let (project, version) = parse_filename(path, kind)?;
    let data = std::fs::read(path).context(|| format!("cannot read {path}"))?;
    let metadata_bytes = match kind {
        DistKind::Wheel => wheel_metadata(path, &data, &project, &version)?,
        DistKind::Sdist => sdist_metadata(path, &data, &filename)?,
    };
    let text = String::from_utf8(metadata_bytes.clone())
        .map_err(|_| corrupt(path, "its core metadata is not UTF-8 (core metadata specifications)"))?;
    let meta = CoreMetadata::parse(&text).map_err(|e| corrupt(path, format!("its core metadata is malformed: {e}")))?;
    check_identity(path, &meta, &project, &version)?;
    Ok(Dist {
        filename,
        project,
        version,
        kind,
        sha256: crate::files::sha256_hex(&data),
        size: data.len() as u64,
        requires_python: meta.get("Requires-Python").map(str::to_string).filter(|s| !s.is_empty()),
        metadata: (kind == DistKind::Wheel).then_some(metadata_bytes),
    })
}

fn check_identity(path: &Utf8Path, meta: &CoreMetadata, project: &PackageName, version: &Version) -> Result<()> {
    let name = meta.get("Name").ok_or_else(|| corrupt(path, "its core metadata has no `Name`"))?;
    let meta_name = PackageName::new(name.to_string())
        .map_err(|e| corrupt(path, format!("its metadata `Name: {name}` is not a project name: {e}")))?;
    if &meta_name != project {
        return Err(corrupt(
            path,
            format!("its metadata says `Name: {name}` but the file name says `{project}`: rebuild or rename it"),
        ));
    }
    let v = meta.get("Version").ok_or_else(|| corrupt(path, "its core metadata has no `Version`"))?;
    let meta_version = Version::from_str(v)
        .map_err(|e| corrupt(path, format!("its metadata `Version: {v}` is not a PEP 440 version: {e}")))?;
    if &meta_version != version {
        return Err(corrupt(
            path,
            format!("its metadata says `Version: {v}` but the file name says `{version}`: rebuild or rename it"),
        ));
    }
    Ok(())
}

/// The `METADATA` of a wheel, after checking its RECORD.
fn wheel_metadata(path: &Utf8Path, data: &[u8], project: &PackageName, version: &Version) -> Result<Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data))
        .map_err(|e| corrupt(path, format!("is not a zip archive ({e}), so not a wheel")))?;
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| corrupt(path, format!("has a damaged zip directory ({e})")))?;
    // The .dist-info directory: `{name}-{version}.dist-info` at the top level,
    // matched on the normalised name and the PEP 440 version.
    let candidates: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_suffix("/METADATA"))
        .filter(|d| d.ends_with(".dist-info") && !d.contains('/'))
        .collect();
    let dist_info = candidates
        .iter()
        .copied()
        .find(|d| {
            d.trim_end_matches(".dist-info").rsplit_once('-').is_some_and(|(n, v)| {
                PackageName::new(n.to_string()).is_ok_and(|n| &n == project)
                    && Version::from_str(v).is_ok_and(|v| &v == version)
            })
        })
        .ok_or_else(|| match candidates.first() {
            None => corrupt(path, "has no .dist-info/METADATA, so it is not a wheel"),
            Some(d) => corrupt(path, format!("its metadata directory `{d}` does not match the file name")),
        })?
        .to_string();
    let read = |zip: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>, name: &str| -> Result<Vec<u8>> {
        let mut f = zip.by_name(name).map_err(|e| corrupt(path, format!("cannot read `{name}` in it: {e}")))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).map_err(|e| corrupt(path, format!("cannot read `{name}` in it: {e}")))?;
        Ok(buf)
    };
    let record_name = format!("{dist_info}/RECORD");
    if !names.contains(&record_name) {
        return Err(corrupt(path, format!("has no `{record_name}` (binary distribution format)")));
    }
    let record = String::from_utf8(read(&mut zip, &record_name)?)
        .map_err(|_| corrupt(path, format!("`{record_name}` is not UTF-8")))?;
    let mut listed = BTreeSet::new();
    for (n, row) in parse_csv(&record).into_iter().enumerate() {
        if row.is_empty() || row.len() == 1 && row[0].is_empty() {
            continue;
        }
        let file = row[0].clone();
        let hash = row.get(1).map(String::as_str).unwrap_or("");
        if !names.contains(&file) {
            return Err(corrupt(
                path,
                format!("`{record_name}` line {} lists `{file}`, which is not in the wheel", n + 1),
            ));
        }
        listed.insert(file.clone());
        if hash.is_empty() {
            if file != record_name
                && !file.ends_with(".dist-info/RECORD.jws")
                && !file.ends_with(".dist-info/RECORD.p7s")
            {
                return Err(corrupt(path, format!("`{record_name}` gives no hash for `{file}`")));
            }
            continue;
        }
        let (algo, want) = hash.split_once('=').unwrap_or(("", hash));
        if algo != "sha256" {
            return Err(corrupt(path, format!("`{record_name}` hashes `{file}` with `{algo}`, not sha256")));
        }
        let got = record_digest(&read(&mut zip, &file)?);
        if got != want {
            return Err(corrupt(
                path,
                format!("RECORD hash mismatch for `{file}`: RECORD says sha256={want}, the file has sha256={got}"),
            ));
        }
    }
    if let Some(extra) = names.iter().find(|n| !n.ends_with('/') && !listed.contains(*n) && **n != record_name) {
        return Err(corrupt(path, format!("`{extra}` is in the wheel but not in `{record_name}`")));
    }
    read(&mut zip, &format!("{dist_info}/METADATA"))
}

/// `PKG-INFO` of an sdist (`{name}-{version}/PKG-INFO`).
fn sdist_metadata(path: &Utf8Path, data: &[u8], filename: &str) -> Result<Vec<u8>> {
    let base = filename.strip_suffix(".tar.gz").or_else(|| filename.strip_suffix(".zip")).unwrap_or(filename);
    let want = format!("{base}/PKG-INFO");
    if filename.ends_with(".zip") {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data))
            .map_err(|e| corrupt(path, format!("is not a zip: {e}")))?;
        let mut f = zip.by_name(&want).map_err(|_| corrupt(path, format!("has no `{want}`")))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).map_err(|e| corrupt(path, format!("cannot read `{want}` in it: {e}")))?;
        return Ok(buf);
    }
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(data));
    let entries = archive.entries().map_err(|e| corrupt(path, format!("is not a .tar.gz ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| corrupt(path, format!("is not a readable .tar.gz ({e})")))?;
        let name = entry.path().map(|p| p.to_string_lossy().trim_start_matches("./").to_string()).unwrap_or_default();
        if name == want {
            let mut buf = Vec::new();
            entry.read_to_end(&mut buf).map_err(|e| corrupt(path, format!("cannot read `{want}` in it: {e}")))?;
            return Ok(buf);
        }
    }
    Err(corrupt(path, format!("has no `{want}`, so it is not an sdist (source distribution format)")))
}

/// A RECORD digest: urlsafe base64 of the sha256, without padding.
fn record_digest(data: &[u8]) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data))
}

/// Rows of a CSV file as Python's `csv` module writes RECORD (`,`-separated,
/// `"`-quoted fields with `""` for a quote).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        let rows = parse_csv("a,sha256=x,1\n\"b,c\",,\n\"d\"\"e\",h,2\r\n");
        assert_eq!(rows[0], vec!["a", "sha256=x", "1"]);
        assert_eq!(rows[1], vec!["b,c", "", ""]);
        assert_eq!(rows[2], vec!["d\"e", "h", "2"]);
    }

    #[test]
    fn filenames() {
        let (n, v) = parse_filename(Utf8Path::new("Foo_Bar-1.0-1-py3-none-any.whl"), DistKind::Wheel).unwrap();
        assert_eq!((n.to_string(), v.to_string()), ("foo-bar".into(), "1.0".into()));
        let (n, v) = parse_filename(Utf8Path::new("foo_bar-2.0rc1.tar.gz"), DistKind::Sdist).unwrap();
        assert_eq!((n.to_string(), v.to_string()), ("foo-bar".into(), "2.0rc1".into()));
        assert!(parse_filename(Utf8Path::new("x.whl"), DistKind::Wheel).unwrap_err().to_string().contains("x.whl"));
        assert_eq!(kind_of("a-1.tar.gz"), Some(DistKind::Sdist));
        assert_eq!(kind_of(".a-1.whl.part"), None);
        assert_eq!(kind_of("notes.txt"), None);
    }
}

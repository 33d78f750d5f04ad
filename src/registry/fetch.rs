//! Fetching a project's sdist from a package index and unpacking sdists safely.
//!
//! * [`fetch_sdist`]: `name==version` → the sdist file, looked up first in
//!   `--find-links` directories, then in the index through the JSON form of
//!   the simple repository API (PEP 691; the index's `sha256` is checked while
//!   downloading), cached under `~/.cache/wasiwheel/sdists/` by file name and
//!   checked against the index's hash again when reused.
//! * [`unpack_sdist`]: a `.tar.gz` (PEP 625) or `.zip` sdist into a directory,
//!   refusing archives with absolute paths, `..` components, links that leave
//!   the tree or special files before anything is written.

use std::io::Read;

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, IoContext, Result};

/// The default package index (pip's).
pub const DEFAULT_INDEX: &str = "https://pypi.org/simple";

/// Where to look for sdists: an index (PEP 503/691 base URL) and
/// `--find-links` locations (directories or `file://` URLs).
#[derive(Debug, Clone)]
pub struct IndexConfig {
    /// The simple-API base URL, e.g. `https://pypi.org/simple`.
    pub index_url: String,
    /// Local directories searched before the index.
    pub find_links: Vec<String>,
}

/// A PEP 503 normalised project name (`Foo.Bar_baz` → `foo-bar-baz`).
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The (normalised name, version) of an sdist file name
/// (`{name}-{version}.tar.gz` or `.zip`), if it is one.
pub fn sdist_name_version(filename: &str) -> Option<(String, String)> {
    let stem = filename.strip_suffix(".tar.gz").or_else(|| filename.strip_suffix(".zip"))?;
    let (n, v) = stem.rsplit_once('-')?;
    Some((normalize(n), v.to_string()))
}

fn same_version(a: &str, b: &str) -> bool {
    match (a.parse::<pep440_rs::Version>(), b.parse::<pep440_rs::Version>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// A file listed by the index for a project.
#[derive(Debug, Clone)]
struct IndexFile {
    filename: String,
    url: String,
    sha256: Option<String>,
}

/// The files of `name` at `index` (PEP 691 JSON), and the page URL asked.
fn index_files(index: &str, name: &str) -> Result<(Vec<IndexFile>, String)> {
    let page = format!("{}/{}/", index.trim_end_matches('/'), normalize(name));
    let resp = crate::http::agent().get(&page).header("Accept", "application/vnd.pypi.simple.v1+json").call().map_err(
        |e| match e {
            ureq::Error::StatusCode(404) => Error::Download {
                url: page.clone(),
                reason: format!(
                    "project `{name}` was not found at the package index {index} (asked {page}): check the name, \
                     or give another index with --index-url / PIP_INDEX_URL"
                ),
            },
            e => Error::Download {
                url: page.clone(),
                reason: format!("cannot ask the package index {index} for `{name}` ({page}): {e}"),
            },
        },
    )?;
    let text = resp.into_body().read_to_string().map_err(|e| Error::Download {
        url: page.clone(),
        reason: format!("cannot read the index page {page}: {e}"),
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Download {
        url: page.clone(),
        reason: format!(
            "the index page {page} is not PEP 691 JSON ({e}): wasiwheel needs an index that answers \
             `Accept: application/vnd.pypi.simple.v1+json`"
        ),
    })?;
    let base = url::Url::parse(&page)
        .map_err(|e| Error::Download { url: page.clone(), reason: format!("{page} is not a URL: {e}") })?;
    let mut out = Vec::new();
    for f in v["files"].as_array().into_iter().flatten() {
        let (Some(filename), Some(u)) = (f["filename"].as_str(), f["url"].as_str()) else { continue };
        let Ok(url) = base.join(u) else { continue };
        if f["yanked"].as_bool() == Some(true) || f["yanked"].is_string() {
            continue;
        }
        out.push(IndexFile {
            filename: filename.to_string(),
            url: url.to_string(),
            sha256: f["hashes"]["sha256"].as_str().map(str::to_ascii_lowercase),
        });
    }
    Ok((out, page))
}

/// The local path of a `--find-links` entry, when it is a directory.
fn find_links_dir(entry: &str) -> Option<Utf8PathBuf> {
    let p = entry.strip_prefix("file://").unwrap_or(entry);
    let p = Utf8PathBuf::from(p);
    p.is_dir().then_some(p)
}

/// The sdists of the project with normalised name `want` in the
/// `--find-links` directories of `cfg`: (path, version), directories in
/// order and file names sorted within each.
///
/// Errors: [`Error::Io`] when a `--find-links` directory cannot be read.
fn local_sdists(cfg: &IndexConfig, want: &str) -> Result<Vec<(Utf8PathBuf, String)>> {
    let mut out = Vec::new();
    for fl in &cfg.find_links {
        let Some(dir) = find_links_dir(fl) else { continue };
        let rd = std::fs::read_dir(&dir).context(|| format!("cannot read the --find-links directory {dir}"))?;
        let mut names: Vec<String> = rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect();
        names.sort();
        for n in names {
            if let Some((pn, pv)) = sdist_name_version(&n) {
                if pn == want {
                    out.push((dir.join(&n), pv));
                }
            }
        }
    }
    Ok(out)
}

/// The sdist of `name==version`: from a `--find-links` directory if one has
/// it, else downloaded from the index (checked against the index's sha256)
/// into the cache directory `cache` (reused when its hash still matches).
/// Returns the file's path.
///
/// Errors: [`Error::Download`] naming the index page asked when the project
/// or version has no sdist there, when the index gives no sha256, or when the
/// download fails or does not match.
pub fn fetch_sdist(name: &str, version: &str, cfg: &IndexConfig, cache: &Utf8Path) -> Result<Utf8PathBuf> {
    let want = normalize(name);
    for (path, pv) in local_sdists(cfg, &want)? {
        if same_version(&pv, version) {
            crate::progress::status(&format!("using {path} (--find-links)"));
            return Ok(path);
        }
    }
    let (files, page) = index_files(&cfg.index_url, name)?;
    let found = files
        .iter()
        .find(|f| sdist_name_version(&f.filename).is_some_and(|(pn, pv)| pn == want && same_version(&pv, version)));
    let Some(f) = found else {
        let mut versions: Vec<String> =
            files.iter().filter_map(|f| sdist_name_version(&f.filename)).map(|(_, v)| v).collect();
        versions.dedup();
        let recent: Vec<String> = versions.iter().rev().take(5).cloned().collect();
        return Err(Error::Download {
            url: page.clone(),
            reason: format!(
                "no sdist of `{name}=={version}` at the package index {} (asked {page}){}",
                cfg.index_url,
                if recent.is_empty() {
                    String::from(": the project has no sdists there")
                } else {
                    format!("; sdists there include {}", recent.join(", "))
                }
            ),
        });
    };
    let Some(sha) = &f.sha256 else {
        return Err(Error::Download {
            url: f.url.clone(),
            reason: format!("the index {page} gives no sha256 for {}: wasiwheel downloads only checked files", f.url),
        });
    };
    if f.filename.contains('/') || f.filename.starts_with('.') {
        return Err(Error::Download { url: f.url.clone(), reason: format!("`{}` is not a file name", f.filename) });
    }
    std::fs::create_dir_all(cache).context(|| format!("cannot create {cache}"))?;
    let dest = cache.join(&f.filename);
    if dest.is_file() && crate::files::sha256_file(&dest)? == *sha {
        return Ok(dest);
    }
    let _lock = crate::toolchain::cache::lock(&format!("sdist-{}", f.filename))?;
    let part = cache.join(format!(".{}.part", f.filename));
    crate::toolchain::download::download_checked(&f.url, &part, sha)?;
    std::fs::rename(&part, &dest).context(|| format!("cannot move {part} to {dest}"))?;
    Ok(dest)
}

/// The newest version of `name` that has an sdist (in a `--find-links`
/// directory or at the index) and satisfies `specifiers`; pre-releases only
/// when nothing else does (PEP 440, "Handling of pre-releases").
///
/// Errors: [`Error::Download`] naming the index page asked when the project
/// is unknown there, the index cannot be read, or no sdist satisfies them.
pub fn newest_sdist_version(
    name: &str,
    specifiers: &pep440_rs::VersionSpecifiers,
    cfg: &IndexConfig,
) -> Result<String> {
    let want = normalize(name);
    let mut versions: Vec<pep440_rs::Version> =
        local_sdists(cfg, &want)?.iter().filter_map(|(_, v)| v.parse().ok()).collect();
    let (files, page) = index_files(&cfg.index_url, name)?;
    for f in &files {
        if let Some((pn, pv)) = sdist_name_version(&f.filename) {
            versions.extend((pn == want).then(|| pv.parse().ok()).flatten());
        }
    }
    let fitting: Vec<&pep440_rs::Version> = versions.iter().filter(|v| specifiers.contains(v)).collect();
    let best = fitting.iter().filter(|v| !v.any_prerelease()).max().or_else(|| fitting.iter().max());
    best.map(|v| v.to_string()).ok_or_else(|| Error::Download {
        url: page.clone(),
        reason: format!(
            "no sdist of `{name}` satisfies `{specifiers}` at the package index {} (asked {page})",
            cfg.index_url
        ),
    })
}

/// One checked archive member: its path inside the tree and what it is.
enum Member {
    Dir(Utf8PathBuf),
    File(Utf8PathBuf, Vec<u8>, bool),
    Symlink(Utf8PathBuf, String),
}

/// `path` split into normal components, refusing absolute paths and `..`.
fn safe_relative(archive: &Utf8Path, path: &str) -> Result<Utf8PathBuf> {
    let refuse = |why: &str| {
        Err(Error::Other(format!(
            "{archive} is refused: its member `{path}` {why}; an sdist must only hold files inside its own tree, \
             and nothing was unpacked"
        )))
    };
    if path.starts_with('/') || path.starts_with('\\') || path.contains(":\\") {
        return refuse("has an absolute path");
    }
    let mut out = Utf8PathBuf::new();
    for c in path.split(['/', '\\']) {
        match c {
            "" | "." => {}
            ".." => return refuse("has a `..` component"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// True when the link at `at` (relative to the tree) pointing to `target`
/// stays inside the tree.
fn link_stays_inside(at: &Utf8Path, target: &str) -> bool {
    if target.starts_with('/') {
        return false;
    }
    let mut depth: Vec<&str> = at.parent().map(|p| p.components().map(|c| c.as_str()).collect()).unwrap_or_default();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if depth.pop().is_none() {
                    return false;
                }
            }
            c => depth.push(c),
        }
    }
    true
}

fn read_members(archive: &Utf8Path) -> Result<Vec<Member>> {
    let bad = |e: &dyn std::fmt::Display| Error::Other(format!("{archive} is not a readable sdist archive: {e}"));
    let mut out = Vec::new();
    let name = archive.file_name().unwrap_or("");
    if name.ends_with(".zip") {
        let f = std::fs::File::open(archive).context(|| format!("cannot open {archive}"))?;
        let mut z = zip::ZipArchive::new(f).map_err(|e| bad(&e))?;
        for i in 0..z.len() {
            let mut e = z.by_index(i).map_err(|e| bad(&e))?;
            let raw = e.name().map_err(|e| bad(&e))?.to_string();
            let rel = safe_relative(archive, &raw)?;
            let mode = e.unix_mode().unwrap_or(0o644);
            if e.is_dir() {
                out.push(Member::Dir(rel));
            } else if mode & 0o170000 == 0o120000 {
                let mut t = String::new();
                e.read_to_string(&mut t).map_err(|e| bad(&e))?;
                out.push(Member::Symlink(rel, t));
            } else {
                let mut data = Vec::new();
                e.read_to_end(&mut data).map_err(|e| bad(&e))?;
                out.push(Member::File(rel, data, mode & 0o111 != 0));
            }
        }
        return Ok(out);
    }
    if !name.ends_with(".tar.gz") && !name.ends_with(".tgz") {
        return Err(Error::Other(format!("{archive} is not an sdist: expected a .tar.gz (PEP 625) or .zip file")));
    }
    let f = std::fs::File::open(archive).context(|| format!("cannot open {archive}"))?;
    let mut t = tar::Archive::new(flate2::read::GzDecoder::new(f));
    for e in t.entries().map_err(|e| bad(&e))? {
        let mut e = e.map_err(|e| bad(&e))?;
        let raw = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let kind = e.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() {
            continue;
        }
        let rel = safe_relative(archive, &raw)?;
        if kind.is_dir() {
            out.push(Member::Dir(rel));
        } else if kind.is_file() || kind.is_contiguous() {
            let mode = e.header().mode().unwrap_or(0o644);
            let mut data = Vec::new();
            e.read_to_end(&mut data).map_err(|e| bad(&e))?;
            out.push(Member::File(rel, data, mode & 0o111 != 0));
        } else if kind.is_symlink() || kind.is_hard_link() {
            let target = e.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            let inside = if kind.is_symlink() {
                link_stays_inside(&rel, &target)
            } else {
                safe_relative(archive, &target).is_ok()
            };
            if !inside {
                return Err(Error::Other(format!(
                    "{archive} is refused: its member `{raw}` is a link to `{target}`, outside the sdist's tree; \
                     nothing was unpacked"
                )));
            }
            if kind.is_symlink() {
                out.push(Member::Symlink(rel, target));
            } else {
                // A hard link: a copy of its (earlier) target.
                let t = safe_relative(archive, &target)?;
                let data = out.iter().find_map(|m| match m {
                    Member::File(p, d, x) if *p == t => Some((d.clone(), *x)),
                    _ => None,
                });
                let (d, x) = data.ok_or_else(|| {
                    Error::Other(format!(
                        "{archive}: hard link `{raw}` names `{target}`, which comes later or not at all"
                    ))
                })?;
                out.push(Member::File(rel, d, x));
            }
        } else {
            return Err(Error::Other(format!(
                "{archive} is refused: its member `{raw}` is a special file (device, fifo); nothing was unpacked"
            )));
        }
    }
    Ok(out)
}

/// Unpack the sdist `archive` into the empty directory `dest` after checking
/// every member, and return the project directory: the archive's single
/// top-level directory (`{name}-{version}/`, PEP 625) when it has one.
///
/// Errors: [`Error::Other`] naming the member when the archive has an
/// absolute path, a `..` component, a link leaving its tree or a special
/// file (nothing is written then), or is not a `.tar.gz`/`.zip`;
/// [`Error::Io`] when writing fails.
pub fn unpack_sdist(archive: &Utf8Path, dest: &Utf8Path) -> Result<Utf8PathBuf> {
    let members = read_members(archive)?;
    for m in &members {
        let (p, data, exec) = match m {
            Member::Dir(p) => {
                let d = dest.join(p);
                std::fs::create_dir_all(&d).context(|| format!("cannot create {d}"))?;
                continue;
            }
            Member::Symlink(p, t) => {
                let at = dest.join(p);
                if let Some(parent) = at.parent() {
                    std::fs::create_dir_all(parent).context(|| format!("cannot create {parent}"))?;
                }
                std::os::unix::fs::symlink(t, &at).context(|| format!("cannot create the link {at}"))?;
                continue;
            }
            Member::File(p, d, x) => (p, d, *x),
        };
        let at = dest.join(p);
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent).context(|| format!("cannot create {parent}"))?;
        }
        // Never write through a link an earlier member made.
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::Other(format!("{archive}: member `{p}` would be written through a link")));
        }
        std::fs::write(&at, data).context(|| format!("cannot write {at}"))?;
        if exec {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o755));
        }
    }
    let tops: std::collections::BTreeSet<String> = members
        .iter()
        .filter_map(|m| match m {
            Member::Dir(p) | Member::File(p, ..) | Member::Symlink(p, _) => {
                p.components().next().map(|c| c.as_str().to_string())
            }
        })
        .collect();
    let root = match tops.iter().next() {
        Some(t) if tops.len() == 1 && dest.join(t).is_dir() => dest.join(t),
        _ => dest.to_path_buf(),
    };
    if !root.join("pyproject.toml").is_file() && !root.join("setup.py").is_file() {
        return Err(Error::Other(format!(
            "{archive} is not an sdist of a Python project: it has neither pyproject.toml nor setup.py at {}",
            root.strip_prefix(dest).map(|p| p.to_string()).unwrap_or_default()
        )));
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_links() {
        assert_eq!(normalize("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(sdist_name_version("MarkupSafe-3.0.4.tar.gz"), Some(("markupsafe".into(), "3.0.4".into())));
        assert_eq!(sdist_name_version("x-1.whl"), None);
        assert!(same_version("1.0", "1.0.0"));
        assert!(link_stays_inside(Utf8Path::new("p/a/link"), "../b"));
        assert!(!link_stays_inside(Utf8Path::new("p/link"), "../../etc"));
        assert!(!link_stays_inside(Utf8Path::new("p/link"), "/etc/passwd"));
        assert!(safe_relative(Utf8Path::new("x"), "../a").is_err());
        assert!(safe_relative(Utf8Path::new("x"), "/a").is_err());
        assert_eq!(safe_relative(Utf8Path::new("x"), "./p/a").unwrap(), Utf8PathBuf::from("p/a"));
    }
}

//! `wasiwheel index WHEELHOUSE -o SITE`: a static package index.
//!
//! The site follows the simple repository API (PEP 503, with PEP 629's
//! repository version) in its HTML form and, next to every page, its PEP 691
//! JSON form (`index.html` and `index.json` in `SITE/` and in
//! `SITE/{project}/`), with PEP 658/714 core-metadata files
//! (`{file}.metadata`, announced by `data-dist-info-metadata`/
//! `data-core-metadata` and the JSON `core-metadata` key), `#sha256=`
//! fragments, `data-requires-python` and, for API version 1.1 (PEP 700),
//! `size` and `versions`. The distribution files are hard-linked (or copied)
//! into `SITE/{project}/`, so every URL is relative and the site works from
//! `file://` and behind any static web server.
//!
//! Updates are incremental: `SITE/.wasiwheel-index.json` records every file's
//! size, modification time and digests, so only new or changed files are
//! read and only the projects whose files changed are rewritten. The
//! wheelhouse is the truth: files gone from it leave the index too.
//!
//! Every new or changed file is checked ([`crate::registry::dist::inspect`])
//! before anything is written: a corrupt one is refused, named, and the site is
//! left as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use camino::{Utf8Path, Utf8PathBuf};
use pep440_rs::Version;
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::files::write_atomic;
use crate::registry::dist::{self, Dist, DistKind};

/// The file that records what the site holds.
pub const STATE_FILE: &str = ".wasiwheel-index.json";
/// The simple API version written (PEP 700's 1.1: `size`, `versions`).
const API_VERSION: &str = "1.1";

/// What one run of [`build_index`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct IndexReport {
    /// Distribution files in the index.
    pub files: usize,
    /// Projects in the index.
    pub projects: usize,
    /// Files read and checked in this run (new or changed).
    pub inspected: usize,
    /// Files that left the index (gone from the wheelhouse).
    pub removed: usize,
    /// Project pages (HTML + JSON) written in this run.
    pub projects_written: usize,
    /// Whether the root pages were written.
    pub root_written: bool,
}

/// One file as the state file records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Entry {
    project: String,
    version: String,
    sdist: bool,
    sha256: String,
    size: u64,
    mtime_ns: i128,
    requires_python: Option<String>,
    metadata_sha256: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    format: u32,
    files: BTreeMap<String, Entry>,
}

fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(-1)
}

/// Write or update the index of `wheelhouse` at `site` (see the module docs).
///
/// Errors: [`Error::Other`] when `wheelhouse` is not a directory, when `site`
/// exists, is not empty and is not an index this command wrote, or naming
/// every corrupt distribution file (then nothing is written); [`Error::Io`]
/// when files cannot be read or written.
pub fn build_index(wheelhouse: &Utf8Path, site: &Utf8Path) -> Result<IndexReport> {
    if !wheelhouse.is_dir() {
        return Err(Error::Other(format!(
            "the wheelhouse {wheelhouse} is not a directory: give the directory of wheels"
        )));
    }
    let state_path = site.join(STATE_FILE);
    let old = read_state(site, &state_path)?;

    // The wheelhouse's distributions, with what changed since the last run.
    let mut present: BTreeMap<String, (Utf8PathBuf, std::fs::Metadata)> = BTreeMap::new();
    for e in wheelhouse.read_dir_utf8().context(|| format!("cannot list {wheelhouse}"))? {
        let e = e.context(|| format!("cannot list {wheelhouse}"))?;
        if dist::kind_of(e.file_name()).is_none() {
            continue;
        }
        let meta = e.metadata().context(|| format!("cannot read {}", e.path()))?;
        if meta.is_file() {
            present.insert(e.file_name().to_string(), (e.path().to_path_buf(), meta));
        }
    }
    let mut new_state = State { format: 1, files: BTreeMap::new() };
    let mut fresh: Vec<Dist> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    for (name, (path, meta)) in &present {
        if let Some(e) = old.files.get(name) {
            let linked = site.join(&e.project).join(name);
            if e.size == meta.len() && e.mtime_ns == mtime_ns(meta) && linked.is_file() {
                new_state.files.insert(name.clone(), e.clone());
                continue;
            }
        }
        match dist::inspect(path) {
            Ok(d) => fresh.push(d),
            Err(e) => refused.push(e.to_string()),
        }
    }
    if !refused.is_empty() {
        return Err(Error::Other(format!(
            "refused {} corrupt distribution file(s); nothing was written to {site}:\n  {}\nremove or rebuild them",
            refused.len(),
            refused.join("\n  ")
        )));
    }

    // Which projects change: those with new, changed or removed files.
    let mut changed: BTreeSet<String> = BTreeSet::new();
    for d in &fresh {
        let (_, meta) = &present[&d.filename];
        let entry = Entry {
            project: d.project.to_string(),
            version: d.version.to_string(),
            sdist: d.kind == DistKind::Sdist,
            sha256: d.sha256.clone(),
            size: d.size,
            mtime_ns: mtime_ns(meta),
            requires_python: d.requires_python.clone(),
            metadata_sha256: d.metadata.as_deref().map(crate::files::sha256_hex),
        };
        if let Some(prev) = old.files.get(&d.filename) {
            changed.insert(prev.project.clone());
        }
        changed.insert(entry.project.clone());
        new_state.files.insert(d.filename.clone(), entry);
    }
    let removed: Vec<(&String, &Entry)> = old.files.iter().filter(|(n, _)| !present.contains_key(*n)).collect();
    for (_, e) in &removed {
        changed.insert(e.project.clone());
    }
    let mut projects: BTreeMap<&str, Vec<(&String, &Entry)>> = BTreeMap::new();
    for (name, e) in &new_state.files {
        projects.entry(e.project.as_str()).or_default().push((name, e));
    }
    // Pages missing from the site (e.g. deleted by hand) are written again.
    for p in projects.keys() {
        if !site.join(p).join("index.html").is_file() || !site.join(p).join("index.json").is_file() {
            changed.insert(p.to_string());
        }
    }

    // Write: files first, then the pages that name them, the root, the state.
    for d in &fresh {
        let dir = site.join(d.project.as_ref());
        place_file(&present[&d.filename].0, &dir.join(&d.filename))?;
        if let Some(m) = &d.metadata {
            write_bytes(&dir.join(format!("{}.metadata", d.filename)), m)?;
        }
    }
    let mut projects_written = 0;
    for p in &changed {
        let dir = site.join(p);
        match projects.get(p.as_str()) {
            Some(files) => {
                let files = sorted(files);
                write_bytes(&dir.join("index.html"), project_html(p, &files).as_bytes())?;
                write_bytes(&dir.join("index.json"), project_json(p, &files).as_bytes())?;
                projects_written += 1;
            }
            None if dir.is_dir() => {
                std::fs::remove_dir_all(&dir).context(|| format!("cannot remove {dir}"))?;
            }
            None => {}
        }
    }
    for (name, e) in &removed {
        if projects.contains_key(e.project.as_str()) {
            for f in [site.join(&e.project).join(name), site.join(&e.project).join(format!("{name}.metadata"))] {
                if f.exists() {
                    std::fs::remove_file(&f).context(|| format!("cannot remove {f}"))?;
                }
            }
        }
    }
    let old_projects: BTreeSet<&str> = old.files.values().map(|e| e.project.as_str()).collect();
    let new_projects: BTreeSet<&str> = projects.keys().copied().collect();
    let root_written =
        old_projects != new_projects || !site.join("index.html").is_file() || !site.join("index.json").is_file();
    if root_written {
        write_bytes(&site.join("index.html"), root_html(&new_projects).as_bytes())?;
        write_bytes(&site.join("index.json"), root_json(&new_projects).as_bytes())?;
    }
    let state_json = serde_json::to_vec_pretty(&new_state).map_err(|e| Error::Other(format!("{state_path}: {e}")))?;
    write_bytes(&state_path, &state_json)?;
    Ok(IndexReport {
        files: new_state.files.len(),
        projects: projects.len(),
        inspected: fresh.len(),
        removed: removed.len(),
        projects_written,
        root_written,
    })
}

/// The recorded state of `site`: empty for a new or empty directory.
///
/// Errors: [`Error::Other`] when `site` holds other files but no state file
/// (it is not an index this command wrote), or the state file is unreadable.
fn read_state(site: &Utf8Path, state_path: &Utf8Path) -> Result<State> {
    if state_path.is_file() {
        let text = std::fs::read(state_path).context(|| format!("cannot read {state_path}"))?;
        return match serde_json::from_slice::<State>(&text) {
            Ok(s) if s.format == 1 => Ok(s),
            _ => Err(Error::Other(format!(
                "{state_path} is damaged or from another wasiwheel: delete {site} and index again"
            ))),
        };
    }
    if site.exists() {
        let non_empty = site.read_dir_utf8().context(|| format!("cannot list {site}"))?.next().is_some();
        if non_empty {
            return Err(Error::Other(format!(
                "{site} is not empty and is not an index written by `wasiwheel index` (it has no {STATE_FILE}): \
                 give a new or empty directory with -o"
            )));
        }
    }
    Ok(State::default())
}

fn write_bytes(path: &Utf8Path, data: &[u8]) -> Result<()> {
    write_atomic(path, |f| std::io::Write::write_all(f, data).context(|| format!("cannot write {path}")))
}

/// Hard-link `src` to `dest` (atomically replacing it), or copy where links
/// cannot be made (another file system).
fn place_file(src: &Utf8Path, dest: &Utf8Path) -> Result<()> {
    let dir = dest.parent().unwrap_or(Utf8Path::new("."));
    std::fs::create_dir_all(dir).context(|| format!("cannot create {dir}"))?;
    let tmp = dir.join(format!(".{}.link", dest.file_name().unwrap_or("file")));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(src, &tmp).is_ok() {
        return std::fs::rename(&tmp, dest).context(|| format!("cannot move {tmp} to {dest}"));
    }
    write_atomic(dest, |f| {
        let mut r = std::fs::File::open(src).context(|| format!("cannot open {src}"))?;
        std::io::copy(&mut r, f).context(|| format!("cannot copy {src} to {dest}"))?;
        Ok(())
    })
}

/// A project's files ordered by version, then file name.
fn sorted<'a>(files: &[(&'a String, &'a Entry)]) -> Vec<(&'a String, &'a Entry)> {
    let mut v = files.to_vec();
    v.sort_by(|a, b| version_of(a.1).cmp(&version_of(b.1)).then_with(|| a.0.cmp(b.0)));
    v
}

fn version_of(e: &Entry) -> Option<Version> {
    Version::from_str(&e.version).ok()
}

/// HTML-escape `s` for text and double-quoted attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode a file name for use as a relative URL.
fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~+!".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"{API_VERSION}\">\n    \
         <title>{}</title>\n  </head>\n  <body>\n    <h1>{}</h1>\n{body}  </body>\n</html>\n",
        esc(title),
        esc(title)
    )
}

fn root_html(projects: &BTreeSet<&str>) -> String {
    let body: String =
        projects.iter().map(|p| format!("    <a href=\"{}/\">{}</a><br>\n", url_escape(p), esc(p))).collect();
    page("Simple index", &body)
}

fn root_json(projects: &BTreeSet<&str>) -> String {
    let v = serde_json::json!({
        "meta": {"api-version": API_VERSION},
        "projects": projects.iter().map(|p| serde_json::json!({"name": p})).collect::<Vec<_>>(),
    });
    v.to_string() + "\n"
}

fn project_html(project: &str, files: &[(&String, &Entry)]) -> String {
    let mut body = String::new();
    for (name, e) in files {
        let mut a = format!("    <a href=\"{}#sha256={}\"", url_escape(name), e.sha256);
        if let Some(rp) = &e.requires_python {
            a.push_str(&format!(" data-requires-python=\"{}\"", esc(rp)));
        }
        if let Some(m) = &e.metadata_sha256 {
            a.push_str(&format!(" data-dist-info-metadata=\"sha256={m}\" data-core-metadata=\"sha256={m}\""));
        }
        a.push_str(&format!(">{}</a><br>\n", esc(name)));
        body.push_str(&a);
    }
    page(&format!("Links for {project}"), &body)
}

fn project_json(project: &str, files: &[(&String, &Entry)]) -> String {
    let mut versions: Vec<(Option<Version>, &str)> = Vec::new();
    for (_, e) in files {
        if !versions.iter().any(|(_, v)| *v == e.version) {
            versions.push((version_of(e), &e.version));
        }
    }
    versions.sort();
    let files: Vec<serde_json::Value> = files
        .iter()
        .map(|(name, e)| {
            let mut f = serde_json::json!({
                "filename": name,
                "url": url_escape(name),
                "hashes": {"sha256": e.sha256},
                "requires-python": e.requires_python,
                "size": e.size,
                "yanked": false,
            });
            if let Some(m) = &e.metadata_sha256 {
                f["core-metadata"] = serde_json::json!({"sha256": m});
                f["dist-info-metadata"] = serde_json::json!({"sha256": m});
            }
            f
        })
        .collect();
    let v = serde_json::json!({
        "meta": {"api-version": API_VERSION},
        "name": project,
        "files": files,
        "versions": versions.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
    });
    v.to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(esc(">=3.8,<4 \"x\" & 'y'"), "&gt;=3.8,&lt;4 &quot;x&quot; &amp; &#x27;y&#x27;");
        assert_eq!(url_escape("a b+c-1.0.whl"), "a%20b+c-1.0.whl");
    }
}

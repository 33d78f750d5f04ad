//! Pinned source archives: fetched once by their sha256 into the cache
//! (`sources/`), from an upstream release URL or, where that cannot be
//! reached, from Debian's source package of the same file (through
//! [`crate::toolchain::apt`]). A cached file is reused only while its sha256
//! still matches the pin; a download that does not match is refused and
//! nothing is kept.

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::progress;
use crate::toolchain::{apt, cache, download};

/// One pinned file: its name in the cache and its sha256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedFile {
    /// The file name, e.g. `zlib_1.3.dfsg+really1.3.1.orig.tar.gz`.
    pub file: &'static str,
    /// Its sha256 (hex).
    pub sha256: &'static str,
}

/// Where a pinned file comes from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Upstream release URLs, tried in order.
    pub urls: Vec<String>,
    /// Debian's source package that holds the same bytes.
    pub debian: Option<DebianSource>,
}

/// A file of a Debian source package.
#[derive(Debug, Clone)]
pub struct DebianSource {
    /// `package=version` for `apt-get source --download-only`.
    pub spec: String,
    /// The suite that serves it (`trixie`).
    pub suite: &'static str,
    /// The file's name as Debian serves it.
    pub file: String,
}

/// A file to fetch: the pin and its origin.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// What it is, for messages (`CPython 3.13.5`).
    pub what: String,
    /// The pin.
    pub pin: PinnedFile,
    /// Where it comes from.
    pub origin: Origin,
}

fn matches(path: &Utf8Path, sha256: &str) -> bool {
    path.is_file() && crate::files::sha256_file(path).is_ok_and(|s| s == sha256)
}

/// `sub` under the cache's `sources/` (created).
///
/// Errors: [`Error::Io`] when it cannot be created.
pub fn dir(sub: &str) -> Result<Utf8PathBuf> {
    let d = cache::dir("sources")?;
    let d = if sub.is_empty() { d } else { d.join(sub) };
    std::fs::create_dir_all(&d).context(|| format!("cannot create {d}"))?;
    Ok(d)
}

/// Fetch every file of `wanted` into `sources/{sub}/` under its pinned name,
/// unless it is there already with the pinned sha256: each from its upstream
/// URLs first, then from Debian (one `apt-get source` per suite for all the
/// files that still lack). Returns the files' paths in the order of `wanted`.
///
/// Errors: [`Error::Toolchain`] naming every file that could not be had, with
/// why (the last download error, apt's output, or the sha256 that Debian's
/// file had instead of the pin) and what would fix it; files already fetched
/// stay in the cache (they are checked, and complete).
pub fn fetch(sub: &str, wanted: &[Wanted]) -> Result<Vec<Utf8PathBuf>> {
    let d = dir(sub)?;
    let _lock = cache::lock(&format!("sources-{}", if sub.is_empty() { "top" } else { sub }))?;
    let mut why: Vec<String> = Vec::new();
    let mut lacking: Vec<&Wanted> = Vec::new();
    for w in wanted {
        let dest = d.join(w.pin.file);
        if matches(&dest, w.pin.sha256) {
            continue;
        }
        let mut last = None;
        for url in &w.origin.urls {
            progress::status(&format!("downloading {} from {url}", w.what));
            match download::download_checked(url, &dest, w.pin.sha256) {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) => last = Some(e.to_string()),
            }
        }
        if matches(&dest, w.pin.sha256) {
            continue;
        }
        if let Some(e) = last {
            why.push(format!("{}: {e}", w.what));
        }
        lacking.push(w);
    }
    let mut suites: Vec<&'static str> =
        lacking.iter().filter_map(|w| w.origin.debian.as_ref().map(|d| d.suite)).collect();
    suites.sort_unstable();
    suites.dedup();
    for suite in suites {
        let group: Vec<&&Wanted> =
            lacking.iter().filter(|w| w.origin.debian.as_ref().is_some_and(|d| d.suite == suite)).collect();
        if !apt::available() {
            why.push(format!("Debian's apt client is not here to fetch them from Debian {suite} instead"));
            continue;
        }
        let work = tempfile::Builder::new()
            .prefix(".fetch-")
            .tempdir_in(&d)
            .map_err(|e| Error::Io { context: format!("cannot create a directory in {d}"), source: e })?;
        let work = Utf8Path::from_path(work.path()).expect("cache paths are UTF-8").to_path_buf();
        let mut specs: Vec<&str> =
            group.iter().filter_map(|w| w.origin.debian.as_ref().map(|d| d.spec.as_str())).collect();
        specs.sort_unstable();
        specs.dedup();
        let step = progress::Step::start(format!("fetching {} from Debian {suite}", specs.join(" ")));
        // Every package is asked for, even after one failed.
        let errors: Vec<String> = match apt::PrivateApt::open(&work, suite, apt::Index::Source, None) {
            Ok(apt) => specs.iter().filter_map(|s| apt.source(s, &work).err().map(|e| e.to_string())).collect(),
            Err(e) => vec![e.to_string()],
        };
        step.done();
        // apt fails the whole `source` command when any file of the package is gone (a
        // replaced Debian revision's `.dsc` answers 404) while the upstream tarball, the
        // file pinned here, still lands: judge by the files, and report apt's error only
        // for a file that did not land.
        let apt_error = (!errors.is_empty()).then(|| errors.join("; "));
        for w in group {
            let deb = w.origin.debian.as_ref().expect("grouped by Debian suite");
            let got = work.join(&deb.file);
            if !got.is_file() {
                why.push(match &apt_error {
                    Some(e) => format!("{}: {e}", w.what),
                    None => format!("{}: Debian's {} has no {}", w.what, deb.spec, deb.file),
                });
                continue;
            }
            let sha = crate::files::sha256_file(&got)?;
            if sha != w.pin.sha256 {
                why.push(format!(
                    "{}: Debian's {} has sha256 {sha}, but it is pinned to {}: refused",
                    w.what, deb.file, w.pin.sha256
                ));
                continue;
            }
            let dest = d.join(w.pin.file);
            std::fs::rename(&got, &dest).context(|| format!("cannot move {got} to {dest}"))?;
        }
    }
    let missing: Vec<&Wanted> = wanted.iter().filter(|w| !matches(&d.join(w.pin.file), w.pin.sha256)).collect();
    if !missing.is_empty() {
        return Err(Error::Toolchain(format!(
            "cannot fetch {}{}: put the file(s) {} (sha256 as pinned) into {d} by hand, or fetch them on a machine \
             that reaches the network",
            missing.iter().map(|w| w.what.as_str()).collect::<Vec<_>>().join(", "),
            if why.is_empty() { String::new() } else { format!(" ({})", why.join("; ")) },
            missing.iter().map(|w| w.pin.file).collect::<Vec<_>>().join(", "),
        )));
    }
    Ok(wanted.iter().map(|w| d.join(w.pin.file)).collect())
}

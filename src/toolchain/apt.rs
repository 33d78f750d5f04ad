//! Debian's archive through the ordinary apt client with a private
//! configuration: one suite's binary (`deb`) or source (`deb-src`) index in a
//! work directory, so that downloading a pinned `.deb` or source package
//! leaves the machine's own apt state (sources, lists, cache, status) alone.
//! The archive URI is the one this machine's apt already uses
//! (`/etc/apt/sources.list{,.d}`), or `WASIWHEEL_DEBIAN_MIRROR`.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, IoContext, Result};

/// Which index a [`PrivateApt`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// Binary packages (`deb` lines): `apt-get download`.
    Binary,
    /// Source packages (`deb-src` lines): `apt-get source --download-only`.
    Source,
}

/// The Debian archive URI this machine's apt uses, read from
/// `/etc/apt/sources.list` and `/etc/apt/sources.list.d/` (the first entry
/// whose URI path ends in `/debian`); `WASIWHEEL_DEBIAN_MIRROR` wins.
pub fn archive_uri() -> Option<String> {
    if let Some(m) = std::env::var("WASIWHEEL_DEBIAN_MIRROR").ok().filter(|m| !m.is_empty()) {
        return Some(m);
    }
    let mut files = vec![Utf8PathBuf::from("/etc/apt/sources.list")];
    if let Ok(rd) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<Utf8PathBuf> =
            rd.flatten().filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok()).collect();
        more.sort();
        files.extend(more);
    }
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        for line in text.lines() {
            let line = line.trim();
            let uris: Vec<&str> = if let Some(rest) = line.strip_prefix("URIs:") {
                rest.split_whitespace().collect()
            } else if let Some(rest) = line.strip_prefix("deb ") {
                // deb [options] URI suite components
                let rest = rest.trim();
                let rest = if rest.starts_with('[') { rest.split_once(']').map(|x| x.1).unwrap_or("") } else { rest };
                rest.split_whitespace().take(1).collect()
            } else {
                continue;
            };
            for u in uris {
                if u.trim_end_matches('/').ends_with("/debian") {
                    return Some(u.trim_end_matches('/').to_string());
                }
            }
        }
    }
    None
}

/// Is Debian's apt client here (`apt-get` on PATH and an archive URI known)?
pub fn available() -> bool {
    let on_path =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("apt-get").is_file()));
    on_path && archive_uri().is_some()
}

/// One suite of Debian's archive, indexed in a private work directory.
#[derive(Debug)]
pub struct PrivateApt {
    opts: Vec<String>,
    suite: String,
    mirror: String,
}

/// Run `cmd` (described as `what` in errors) to completion.
///
/// Errors: [`Error::Toolchain`] when it cannot start or fails, with its whole output.
pub fn run_checked(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().map_err(|e| Error::Toolchain(format!("cannot run {what}: {e}")))?;
    if !out.status.success() {
        return Err(Error::Toolchain(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

impl PrivateApt {
    /// Index `suite` (`main`) of `mirror` (default: [`archive_uri`]) in
    /// `work/apt` and run `apt-get update` there.
    ///
    /// Errors: [`Error::Toolchain`] when no archive URI is known (naming
    /// `WASIWHEEL_DEBIAN_MIRROR`) or `apt-get update` fails (with its output).
    pub fn open(work: &Utf8Path, suite: &str, index: Index, mirror: Option<&str>) -> Result<PrivateApt> {
        let mirror = mirror.map(str::to_string).or_else(archive_uri).ok_or_else(|| {
            Error::Toolchain(
                "cannot find this machine's Debian archive URI in /etc/apt: set WASIWHEEL_DEBIAN_MIRROR to one".into(),
            )
        })?;
        let apt = work.join("apt");
        for sub in ["lists/partial", "cache/archives/partial", "etc"] {
            std::fs::create_dir_all(apt.join(sub)).context(|| format!("cannot create {apt}/{sub}"))?;
        }
        let kind = match index {
            Index::Binary => "deb",
            Index::Source => "deb-src",
        };
        let sources = apt.join("etc/sources.list");
        std::fs::write(
            &sources,
            format!("{kind} [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {mirror} {suite} main\n"),
        )
        .context(|| format!("cannot write {sources}"))?;
        let status = apt.join("etc/status");
        std::fs::write(&status, "").context(|| format!("cannot write {status}"))?;
        let opts = vec![
            format!("-oDir::Etc::SourceList={sources}"),
            "-oDir::Etc::SourceParts=/dev/null".to_string(),
            format!("-oDir::State::Lists={apt}/lists"),
            format!("-oDir::Cache={apt}/cache"),
            format!("-oDir::State::status={status}"),
            "-oDebug::NoLocking=1".to_string(),
            "-oAPT::Sandbox::User=root".to_string(),
        ];
        run_checked(
            Command::new("apt-get").args(&opts).args(["-q", "update"]),
            &format!("apt-get update (Debian {suite} index from {mirror})"),
        )?;
        Ok(PrivateApt { opts, suite: suite.to_string(), mirror })
    }

    /// `apt-get download PACKAGE=VERSION` into `dir`; returns the `.deb`'s path.
    ///
    /// Errors: [`Error::Toolchain`] with apt's output when the download fails.
    pub fn download(&self, package: &str, version: &str, dir: &Utf8Path) -> Result<Utf8PathBuf> {
        run_checked(
            Command::new("apt-get")
                .args(&self.opts)
                .args(["-q", "download", &format!("{package}={version}")])
                .current_dir(dir),
            &format!("apt-get download {package}={version} (Debian {} from {})", self.suite, self.mirror),
        )?;
        // apt escapes the epoch's colon in file names.
        let deb = dir.join(format!("{package}_{}_all.deb", version.replace(':', "%3a")));
        if !deb.exists() {
            return Err(Error::Toolchain(format!("apt-get download did not produce {deb}")));
        }
        Ok(deb)
    }

    /// `apt-get source --download-only SPEC` into `dir` (SPEC: `package` or
    /// `package=version`): the `.dsc`, the upstream `.orig` tarball and
    /// Debian's tarball land in `dir`. A file of the package that the archive
    /// no longer serves (a replaced Debian revision) fails here.
    ///
    /// Errors: [`Error::Toolchain`] with apt's output when the download fails.
    pub fn source(&self, spec: &str, dir: &Utf8Path) -> Result<()> {
        run_checked(
            Command::new("apt-get").args(&self.opts).args(["-q", "source", "--download-only", spec]).current_dir(dir),
            &format!("apt-get source --download-only {spec} (Debian {} from {})", self.suite, self.mirror),
        )
    }
}

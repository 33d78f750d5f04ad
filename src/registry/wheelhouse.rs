//! `wasiwheel build -r FILE [SPEC…] -C target=…`: a requirement set and its
//! dependencies as a wheelhouse for a WASI target.
//!
//! Resolution is pip's (resolvelib) under wasiwheel's marker driver
//! ([`install::DRIVER`]), as for `wasiwheel install`: `pip download` of the
//! requested requirements together (one consistent set, as `pip install -r`
//! resolves it) with the target's tags ([`install::target_args`]) and the
//! wheelhouse itself on `--find-links` resolves them and their dependencies
//! with environment markers decided as the target CPython would
//! (`sys_platform == "wasi"`, …), taking pure wheels and WASI wheels whose
//! tags fit from the index and `--find-links`. When pip
//! finds no fitting wheel for a requirement X ("No matching distribution
//! found for X"), the newest sdist that satisfies X is fetched
//! ([`fetch::newest_sdist_version`], [`fetch::fetch_sdist`]) and built into
//! the wheelhouse by the caller's builder (wasiwheel's own backend or the
//! cross environment), and pip runs again, until the set resolves or
//! a build fails; what needs a package that failed is left out and the rest
//! resolved again. Local projects and sdists given as SPECs are built first
//! and then resolved by name and version like the rest, so their
//! dependencies come in too. The packages that did build are kept when
//! another fails.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::registry::fetch::{self, IndexConfig};
use crate::registry::install::{self, InstallTarget};

/// How many sdists one requirement may pull in before wasiwheel gives up.
const MAX_BUILDS_PER_REQUIREMENT: usize = 100;

/// One requested item of the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetItem {
    /// A PEP 508 requirement (`attrs`, `markupsafe==3.0.4`, `six>=1.5`).
    Requirement(String),
    /// A project directory or an sdist file, built first.
    Local(Utf8PathBuf),
}

/// A requirement set to build.
#[derive(Debug, Clone)]
pub struct SetRequest {
    /// What was asked for, in order.
    pub items: Vec<SetItem>,
    /// The output directory (the wheelhouse), created if missing.
    pub wheelhouse: Utf8PathBuf,
    /// Where sdists and wheels come from.
    pub index: IndexConfig,
    /// The host interpreter that runs pip.
    pub host_python: String,
    /// The target's tags and markers.
    pub target: InstallTarget,
}

/// What became of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Cross-built from its sdist (or from the local project).
    Built,
    /// A wheel taken from the index or `--find-links` (pure, or WASI whose tags fit).
    Downloaded,
    /// Not built: the reason.
    Failed(String),
}

/// One row of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    /// The project name (as given or as the wheel spells it).
    pub name: String,
    /// Its version (`-` when unknown).
    pub version: String,
    /// What happened.
    pub outcome: Outcome,
    /// The wheel's file name, when there is one.
    pub file: String,
    /// Whether it was requested (not only a dependency).
    pub requested: bool,
}

/// `{name}-{version}-….whl` → (normalised name, version).
fn wheel_name_version(file: &str) -> Option<(String, String)> {
    let stem = file.strip_suffix(".whl")?;
    let mut parts = stem.split('-');
    let (n, v) = (parts.next()?, parts.next()?);
    Some((fetch::normalize(n), v.to_string()))
}

/// The requirement pip could not find a fitting distribution for, from its
/// output (`ERROR: No matching distribution found for six>=1.5`).
pub fn missing_requirement(pip_output: &str) -> Option<String> {
    pip_output
        .lines()
        .filter_map(|l| l.split_once("No matching distribution found for ").map(|(_, r)| r.trim()))
        // pip names where the requirement came from: `six>=1.5 (from python-dateutil)`.
        .map(|r| r.split(" (from ").next().unwrap_or(r).trim().to_string())
        .next_back()
}

/// The wheel files pip saved or found already in the wheelhouse, from its output.
fn saved_files(pip_output: &str) -> Vec<String> {
    pip_output
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("Saved ").or_else(|| l.strip_prefix("File was already downloaded "))
        })
        .filter_map(|p| Utf8Path::new(p.trim()).file_name().map(str::to_string))
        .collect()
}

struct SetBuild<'a> {
    req: &'a SetRequest,
    build: &'a mut dyn FnMut(&Utf8Path) -> Result<Utf8PathBuf>,
    rows: BTreeMap<String, Row>,
    sdist_cache: Utf8PathBuf,
}

impl SetBuild<'_> {
    fn record(&mut self, name: &str, version: &str, outcome: Outcome, file: &str, requested: bool) {
        let key = fetch::normalize(name);
        let row = self.rows.entry(key).or_insert_with(|| Row {
            name: name.to_string(),
            version: version.to_string(),
            outcome: outcome.clone(),
            file: file.to_string(),
            requested,
        });
        row.requested |= requested;
        if matches!(outcome, Outcome::Failed(_)) || row.outcome == Outcome::Downloaded && outcome == Outcome::Built {
            row.outcome = outcome;
            row.version = version.to_string();
            row.file = file.to_string();
        }
    }

    /// Build the local project or sdist `path` into the wheelhouse; returns
    /// the wheel's (name, version).
    fn build_local(&mut self, path: &Utf8Path) -> Result<(String, String)> {
        let wheel = (self.build)(path)?;
        let file = wheel.file_name().unwrap_or_default().to_string();
        let (n, v) = wheel_name_version(&file)
            .ok_or_else(|| Error::Other(format!("the build of {path} gave {wheel}, which is not a wheel")))?;
        self.record(&n, &v, Outcome::Built, &file, true);
        Ok((n, v))
    }

    /// Run pip's resolver for `requirement`; returns its status and output.
    fn pip_download(&self, requirements: &[String]) -> Result<(Option<i32>, String)> {
        let mut cmd = install::pip_command(&self.req.host_python, &self.req.target);
        cmd.args(["download", "--disable-pip-version-check", "--no-input", "--retries", "1", "--progress-bar", "off"]);
        cmd.args(["--dest", self.req.wheelhouse.as_str()]);
        cmd.args(install::target_args(&self.req.target));
        cmd.args(["--index-url", &self.req.index.index_url]);
        cmd.args(["--find-links", self.req.wheelhouse.as_str()]);
        for f in &self.req.index.find_links {
            cmd.args(["--find-links", f]);
        }
        cmd.args(requirements);
        let out = cmd.output().map_err(|e| {
            Error::Toolchain(format!(
                "cannot run the host Python `{}` ({e}): give one with pip via --host-python or WASIWHEEL_HOST_PYTHON",
                self.req.host_python
            ))
        })?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        match install::driver_error(out.status.code(), &self.req.host_python) {
            Some(e) => Err(e),
            None => Ok((out.status.code(), text)),
        }
    }

    /// Resolve the requested `requirements` together (one consistent set,
    /// as `pip install -r` would) into the wheelhouse, building what has no
    /// fitting wheel. A requirement whose own build, or whose dependency's,
    /// fails is marked failed with the reason and left out, and the rest is
    /// resolved again.
    fn resolve_set(&mut self, mut requirements: Vec<String>) -> Result<()> {
        let mut rounds = 0;
        while !requirements.is_empty() {
            rounds += 1;
            if rounds > MAX_BUILDS_PER_REQUIREMENT * requirements.len().max(1) {
                for r in &requirements {
                    self.fail_requested(r, "too many sdists were needed; giving up".into());
                }
                return Ok(());
            }
            crate::progress::status(&format!(
                "resolving {} requirement(s) for the target with pip",
                requirements.len()
            ));
            let (code, text) = self.pip_download(&requirements)?;
            if code == Some(0) {
                for file in saved_files(&text) {
                    if let Some((n, v)) = wheel_name_version(&file) {
                        self.record(&n, &v, Outcome::Downloaded, &file, false);
                    }
                }
                for r in &requirements {
                    if let Some(row) = self.rows.get_mut(&fetch::normalize(requirement_name(r))) {
                        row.requested = true;
                    }
                }
                return Ok(());
            }
            let Some(missing) = missing_requirement(&text) else {
                let tail: Vec<&str> = text.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
                let why = format!("pip could not resolve the set for the target:\n{}", tail.join("\n"));
                for r in &requirements {
                    self.fail_requested(r, why.clone());
                }
                return Ok(());
            };
            if let Err(why) = self.build_missing(&missing) {
                // Leave out what needs the package that failed: the requested
                // requirement itself, or those whose own resolution meets it.
                let key = fetch::normalize(requirement_name(&missing));
                let mut culprits: Vec<String> =
                    requirements.iter().filter(|r| fetch::normalize(requirement_name(r)) == key).cloned().collect();
                if culprits.is_empty() {
                    for r in &requirements {
                        let (code, text) = self.pip_download(std::slice::from_ref(r))?;
                        let alone = missing_requirement(&text).map(|m| fetch::normalize(requirement_name(&m)));
                        if code != Some(0) && alone.as_deref() == Some(key.as_str()) {
                            culprits.push(r.clone());
                        }
                    }
                }
                if culprits.is_empty() {
                    culprits = requirements.clone();
                }
                for r in &culprits {
                    let reason = if fetch::normalize(requirement_name(r)) == key {
                        why.clone()
                    } else {
                        format!("its dependency `{}` failed: {why}", requirement_name(&missing))
                    };
                    self.fail_requested(r, reason);
                }
                requirements.retain(|r| !culprits.contains(r));
            }
        }
        Ok(())
    }

    /// Mark the requested requirement `r` failed with `why`.
    fn fail_requested(&mut self, r: &str, why: String) {
        let name = requirement_name(r).to_string();
        match self.rows.get_mut(&fetch::normalize(&name)) {
            Some(row) => {
                row.requested = true;
                if !matches!(row.outcome, Outcome::Failed(_)) {
                    row.outcome = Outcome::Failed(why);
                }
            }
            None => self.record(&name, "-", Outcome::Failed(why), "", true),
        }
    }

    /// Build the newest sdist that satisfies `missing` (a requirement pip
    /// found no fitting wheel for) into the wheelhouse. Returns the reason
    /// when it cannot be built (or was built and still does not fit).
    fn build_missing(&mut self, missing: &str) -> Result<(), String> {
        let parsed: pep508_rs::Requirement =
            missing.parse().map_err(|e| format!("pip asked for `{missing}`, which wasiwheel cannot read: {e}"))?;
        let name = parsed.name.to_string();
        let key = fetch::normalize(&name);
        if let Some(row) = self.rows.get(&key) {
            return Err(match &row.outcome {
                Outcome::Failed(r) => r.clone(),
                _ => format!("`{missing}` is needed, but the wheel of {name} {} does not fit it", row.version),
            });
        }
        let specifiers = match &parsed.version_or_url {
            Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => s.clone(),
            Some(pep508_rs::VersionOrUrl::Url(u)) => {
                let why = format!("`{missing}` names a URL ({u}); wasiwheel builds sdists from an index");
                self.record(&name, "-", Outcome::Failed(why.clone()), "", false);
                return Err(why);
            }
            None => pep440_rs::VersionSpecifiers::from_iter(std::iter::empty()),
        };
        crate::progress::status(&format!("no wheel of `{missing}` fits the target: building it from its sdist"));
        let built = fetch::newest_sdist_version(&name, &specifiers, &self.req.index).and_then(|version| {
            let sdist = fetch::fetch_sdist(&name, &version, &self.req.index, &self.sdist_cache)?;
            (self.build)(&sdist)
        });
        match built {
            Ok(wheel) => {
                let file = wheel.file_name().unwrap_or_default().to_string();
                let (n, v) = wheel_name_version(&file).unwrap_or((key, "-".into()));
                self.record(&n, &v, Outcome::Built, &file, false);
                Ok(())
            }
            Err(e) => {
                let why = e.to_string();
                self.record(&name, "-", Outcome::Failed(why.clone()), "", false);
                Err(why)
            }
        }
    }
}

/// The name at the start of a PEP 508 requirement string.
fn requirement_name(r: &str) -> &str {
    let end = r.find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c))).unwrap_or(r.len());
    &r[..end]
}

/// Build the requirement set `req` into its wheelhouse with `build` (a
/// project directory or sdist file → the wheel it wrote into the
/// wheelhouse). Returns one row per package, requested ones marked; a
/// package that failed is a row with its reason, not an error.
///
/// Errors: [`Error::Download`] when the index cannot be reached;
/// [`Error::Toolchain`] when the host Python cannot run pip;
/// [`Error::Io`] when the wheelhouse cannot be created.
pub fn build_set(req: &SetRequest, build: &mut dyn FnMut(&Utf8Path) -> Result<Utf8PathBuf>) -> Result<Vec<Row>> {
    install::check_index(&req.index.index_url)?;
    std::fs::create_dir_all(&req.wheelhouse).context(|| format!("cannot create {}", req.wheelhouse))?;
    let mut s = SetBuild { req, build, rows: BTreeMap::new(), sdist_cache: crate::toolchain::cache::dir("sdists")? };
    // Local projects and sdists first, so that the requirements resolved
    // afterwards find them in the wheelhouse.
    let mut requirements = Vec::new();
    for item in &req.items {
        match item {
            SetItem::Requirement(r) => requirements.push(r.clone()),
            SetItem::Local(p) => match s.build_local(p) {
                Ok((n, v)) => requirements.push(format!("{n}=={v}")),
                Err(e) => {
                    let name = p.file_name().unwrap_or(p.as_str()).to_string();
                    s.record(&name, "-", Outcome::Failed(e.to_string()), "", true);
                }
            },
        }
    }
    s.resolve_set(requirements)?;
    Ok(s.rows.into_values().collect())
}

/// The summary table of `rows`: package, version, result and the wheel or
/// the reason (its first line; the whole reason follows the table).
pub fn summary(rows: &[Row]) -> String {
    let mut t = String::new();
    let label = |r: &Row| if r.requested { r.name.clone() } else { format!("{} (dependency)", r.name) };
    let w = rows.iter().map(|r| label(r).len()).max().unwrap_or(7).max(7);
    let vw = rows.iter().map(|r| r.version.len()).max().unwrap_or(7).max(7);
    t.push_str(&format!("{:w$}  {:vw$}  {:10}  wheel or reason\n", "package", "version", "result"));
    let mut reasons = String::new();
    for r in rows {
        let (what, detail) = match &r.outcome {
            Outcome::Built => ("built", r.file.clone()),
            Outcome::Downloaded => ("downloaded", r.file.clone()),
            Outcome::Failed(why) => {
                reasons.push_str(&format!("\n{} failed:\n{why}\n", r.name));
                ("FAILED", why.lines().next().unwrap_or_default().to_string())
            }
        };
        t.push_str(&format!("{:w$}  {:vw$}  {what:10}  {detail}\n", label(r), r.version));
    }
    t.push_str(&reasons);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pip_output() {
        let out = "Collecting six\n  File was already downloaded /w/six-1.17.0-py2.py3-none-any.whl\n\
                   Saved /w/attrs-26.1.0-py3-none-any.whl\nSuccessfully downloaded attrs six\n";
        assert_eq!(saved_files(out), ["six-1.17.0-py2.py3-none-any.whl", "attrs-26.1.0-py3-none-any.whl"]);
        let failed = "ERROR: Could not find a version that satisfies the requirement markupsafe==3.0.4 (from \
                      versions: none)\nERROR: No matching distribution found for markupsafe==3.0.4\n";
        assert_eq!(missing_requirement(failed).as_deref(), Some("markupsafe==3.0.4"));
        assert_eq!(missing_requirement("ERROR: something else"), None);
        let from = "ERROR: No matching distribution found for regdep-b (from regapp)\n";
        assert_eq!(missing_requirement(from).as_deref(), Some("regdep-b"));
        assert_eq!(
            wheel_name_version("Python_Dateutil-2.9.0.post0-py2.py3-none-any.whl"),
            Some(("python-dateutil".into(), "2.9.0.post0".into()))
        );
        assert_eq!(requirement_name("six>=1.5; python_version > '3'"), "six");
    }

    #[test]
    fn summary_names_failures_and_dependencies() {
        let rows = vec![
            Row {
                name: "attrs".into(),
                version: "26.1.0".into(),
                outcome: Outcome::Downloaded,
                file: "attrs-26.1.0-py3-none-any.whl".into(),
                requested: true,
            },
            Row {
                name: "six".into(),
                version: "1.17.0".into(),
                outcome: Outcome::Downloaded,
                file: "six-1.17.0-py2.py3-none-any.whl".into(),
                requested: false,
            },
            Row {
                name: "needsfork".into(),
                version: "-".into(),
                outcome: Outcome::Failed("compiling needsfork.c failed\nhint: WASI has no processes".into()),
                file: String::new(),
                requested: true,
            },
        ];
        let s = summary(&rows);
        assert!(s.contains("six (dependency)"), "{s}");
        assert!(s.contains("FAILED      compiling needsfork.c failed"), "{s}");
        assert!(s.contains("needsfork failed:\ncompiling needsfork.c failed\nhint: WASI has no processes"), "{s}");
    }
}

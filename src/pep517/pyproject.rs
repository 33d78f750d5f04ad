//! `pyproject.toml`: the `[project]` table (PEP 621, now the "Declaring project
//! metadata" specification, with PEP 639 licenses) and `[tool.wasiwheel]`.
//!
//! Read with `toml_edit` so that errors can point at a line; every error names
//! the file, the line where known, and the dotted key (`project.authors[0].email`).

use std::collections::BTreeMap;
use std::str::FromStr;

use camino::{Utf8Path, Utf8PathBuf};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, Requirement};
use toml_edit::{Document, Item, Table, Value};

use crate::error::{did_you_mean, Error, Result};

/// A person in `authors` / `maintainers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// `name`, if given.
    pub name: Option<String>,
    /// `email`, if given.
    pub email: Option<String>,
}

/// One requirement of `dependencies` / `optional-dependencies`: validated by
/// pep508_rs, with the text of its environment marker as written (so that
/// core metadata keeps the user's marker variables, e.g. `python_version`).
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The parsed requirement (PEP 508).
    pub requirement: Requirement,
    /// The requirement as written in `pyproject.toml`.
    pub text: String,
}

/// Split a PEP 508 requirement string into the requirement and its marker
/// text. For URL requirements the `;` must follow whitespace (PEP 508).
pub fn split_marker(s: &str) -> (&str, Option<&str>) {
    let url = s.contains('@');
    let mut prev_space = false;
    for (i, c) in s.char_indices() {
        if c == ';' && (!url || prev_space) {
            return (s[..i].trim_end(), Some(s[i + 1..].trim()));
        }
        prev_space = c.is_whitespace();
    }
    (s.trim_end(), None)
}

/// The long description (`readme`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readme {
    /// Its text.
    pub text: String,
    /// Its content type (`text/markdown`, `text/x-rst` or `text/plain`).
    pub content_type: String,
    /// The file it came from, relative to the project root, if any.
    pub file: Option<Utf8PathBuf>,
}

/// The license of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum License {
    /// A PEP 639 SPDX license expression (`License-Expression`).
    Spdx(String),
    /// The deprecated `license = { text = … }` / `{ file = … }` table (`License`).
    Text(String),
}

/// The source language of an extension module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// C (the default).
    C,
    /// C++ (`language = "c++"`, or any `.cpp`/`.cc`/`.cxx` source).
    Cxx,
}

/// One `[[tool.wasiwheel.ext-modules]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtModuleConfig {
    /// Dotted module name, e.g. `pkg._core`.
    pub name: String,
    /// Source files, relative to the project root.
    pub sources: Vec<Utf8PathBuf>,
    /// Include directories, relative to the project root.
    pub include_dirs: Vec<Utf8PathBuf>,
    /// Preprocessor definitions: `NAME` or `NAME=VALUE`.
    pub defines: Vec<String>,
    /// Libraries to link (`-l`), e.g. `m`.
    pub libraries: Vec<String>,
    /// Source language.
    pub language: Language,
    /// Minimum CPython of a limited-API (abi3) build, e.g. `cp39`, if any.
    pub py_limited_api: Option<String>,
}

/// `[tool.wasiwheel]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolConfig {
    /// Extension modules to build.
    pub ext_modules: Vec<ExtModuleConfig>,
    /// Directory that holds the Python packages (default: `src` if it exists, else the root).
    pub python_source: Option<Utf8PathBuf>,
    /// Top-level packages/modules to include (default: discovered).
    pub packages: Option<Vec<String>>,
    /// Python file whose `__version__ = "…"` gives a dynamic version.
    pub version_file: Option<Utf8PathBuf>,
    /// Globs of extra files to put in the sdist.
    pub include: Vec<String>,
    /// Globs of files to leave out of the sdist.
    pub exclude: Vec<String>,
    /// `[tool.wasiwheel.component] entry`: the function a component runs (`pkg.mod:func`).
    pub component_entry: Option<String>,
}

/// The `[project]` table, validated.
#[derive(Debug, Clone)]
pub struct Project {
    /// `name` as written.
    pub name: String,
    /// `version`, parsed (PEP 440).
    pub version: Version,
    /// `description` (one line).
    pub description: Option<String>,
    /// `readme`, resolved.
    pub readme: Option<Readme>,
    /// `requires-python`.
    pub requires_python: Option<VersionSpecifiers>,
    /// `dependencies`.
    pub dependencies: Vec<Dependency>,
    /// `optional-dependencies`, by extra name.
    pub optional_dependencies: BTreeMap<ExtraName, Vec<Dependency>>,
    /// `license`.
    pub license: Option<License>,
    /// Files matched by `license-files` (relative to the project root, sorted).
    pub license_files: Vec<Utf8PathBuf>,
    /// `authors`.
    pub authors: Vec<Contact>,
    /// `maintainers`.
    pub maintainers: Vec<Contact>,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `classifiers`.
    pub classifiers: Vec<String>,
    /// `urls`: label → URL, in file order.
    pub urls: Vec<(String, String)>,
    /// `scripts`: name → `module:function`.
    pub scripts: BTreeMap<String, String>,
    /// `gui-scripts`.
    pub gui_scripts: BTreeMap<String, String>,
    /// `entry-points`: group → name → object reference.
    pub entry_points: BTreeMap<String, BTreeMap<String, String>>,
    /// `dynamic`.
    pub dynamic: Vec<String>,
}

/// A loaded `pyproject.toml`.
#[derive(Debug, Clone)]
pub struct Pyproject {
    /// The project root (the directory of `pyproject.toml`).
    pub root: Utf8PathBuf,
    /// `[project]`.
    pub project: Project,
    /// `[tool.wasiwheel]`.
    pub tool: ToolConfig,
}

const PROJECT_KEYS: &[&str] = &[
    "name", "version", "description", "readme", "requires-python", "license", "license-files",
    "authors", "maintainers", "keywords", "classifiers", "urls", "scripts", "gui-scripts",
    "entry-points", "dependencies", "optional-dependencies", "dynamic", "import-names", "import-namespaces",
];
const TOOL_KEYS: &[&str] = &["ext-modules", "python-source", "packages", "version-file", "include", "exclude", "component"];
const EXT_KEYS: &[&str] = &["name", "sources", "include-dirs", "defines", "libraries", "language", "py-limited-api"];

/// Reads values out of the document, turning every problem into an error that
/// names the file, line and dotted key.
struct Reader<'a> {
    path: &'a Utf8Path,
    raw: &'a str,
}

impl<'a> Reader<'a> {
    fn line(&self, item: Option<std::ops::Range<usize>>) -> String {
        match item {
            Some(span) => {
                let line = self.raw[..span.start.min(self.raw.len())].matches('\n').count() + 1;
                format!("{}:{line}", self.path)
            }
            None => self.path.to_string(),
        }
    }

    fn err(&self, span: Option<std::ops::Range<usize>>, key: &str, msg: impl std::fmt::Display) -> Error {
        Error::project(self.line(span), format!("`{key}` {msg}"))
    }

    fn string(&self, item: &Item, key: &str) -> Result<String> {
        item.as_str()
            .map(str::to_string)
            .ok_or_else(|| self.err(item.span(), key, "must be a string"))
    }

    fn value_string(&self, v: &Value, key: &str) -> Result<String> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| self.err(v.span(), key, "must be a string"))
    }

    fn string_list(&self, item: &Item, key: &str) -> Result<Vec<String>> {
        let arr = item
            .as_array()
            .ok_or_else(|| self.err(item.span(), key, "must be an array of strings"))?;
        arr.iter()
            .enumerate()
            .map(|(i, v)| self.value_string(v, &format!("{key}[{i}]")))
            .collect()
    }

    fn string_table(&self, item: &Item, key: &str) -> Result<Vec<(String, String)>> {
        let t = item
            .as_table_like()
            .ok_or_else(|| self.err(item.span(), key, "must be a table of strings"))?;
        t.iter()
            .map(|(k, v)| Ok((k.to_string(), self.string(v, &format!("{key}.{k}"))?)))
            .collect()
    }

    fn check_keys(&self, table: &dyn toml_edit::TableLike, prefix: &str, allowed: &[&str], span: Option<std::ops::Range<usize>>) -> Result<()> {
        for (k, v) in table.iter() {
            if !allowed.contains(&k) {
                let hint = match did_you_mean(k, allowed.iter().copied()) {
                    Some(s) => format!("; did you mean `{prefix}.{s}`?"),
                    None => format!("; allowed keys: {}", allowed.join(", ")),
                };
                return Err(self.err(v.span().or(span.clone()), &format!("{prefix}.{k}"), format!("is not a known key{hint}")));
            }
        }
        Ok(())
    }
}

/// Is `name` a valid project name (PEP 508 "Names")?
pub fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// The PEP 503 normalised form of a name: runs of `-`, `_`, `.` become `-`, lowercase.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The name as it appears in wheel and sdist file names and `.dist-info`
/// (binary distribution format "Escaping and Unicode", PEP 625): normalised,
/// with `_` for `-`.
pub fn filename_name(name: &str) -> String {
    normalize_name(name).replace('-', "_")
}

impl Pyproject {
    /// Load and validate `<root>/pyproject.toml`.
    ///
    /// Errors: [`Error::Project`] naming the file, line and key for any invalid
    /// or missing field; [`Error::Io`] if a referenced file (readme, license) cannot
    /// be read.
    pub fn load(root: &Utf8Path) -> Result<Pyproject> {
        let path = root.join("pyproject.toml");
        let raw = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::project(&path, "not found: a project built by wasiwheel needs a pyproject.toml at its root")
            } else {
                Error::Io { context: format!("cannot read {path}"), source: e }
            }
        })?;
        Self::parse(root, &path, &raw)
    }

    /// Validate already-read `raw` text of `path` (a `pyproject.toml` at `root`).
    ///
    /// Errors: as [`Pyproject::load`].
    pub fn parse(root: &Utf8Path, path: &Utf8Path, raw: &str) -> Result<Pyproject> {
        let doc = Document::parse(raw.to_string()).map_err(|e| Error::project(path, format!("is not valid TOML: {e}")))?;
        let r = Reader { path, raw };
        let top = doc.as_table();
        let project_item = top
            .get("project")
            .ok_or_else(|| Error::project(path, "has no `[project]` table: add one with at least `name` and `version`"))?;
        let pt = project_item
            .as_table()
            .ok_or_else(|| r.err(project_item.span(), "project", "must be a table"))?;
        let tool = match top.get("tool").and_then(|t| t.get("wasiwheel")) {
            Some(item) => parse_tool(&r, item)?,
            None => ToolConfig::default(),
        };
        let project = parse_project(&r, root, pt, &tool)?;
        Ok(Pyproject {
            root: root.to_path_buf(),
            project,
            tool,
        })
    }
}

fn parse_contacts(r: &Reader, item: &Item, key: &str) -> Result<Vec<Contact>> {
    let arr = item
        .as_array()
        .map(|a| a.iter().map(|v| (v.span(), v.as_inline_table().map(|t| t as &dyn toml_edit::TableLike))).collect::<Vec<_>>())
        .or_else(|| item.as_array_of_tables().map(|a| a.iter().map(|t| (t.span(), Some(t as &dyn toml_edit::TableLike))).collect()))
        .ok_or_else(|| r.err(item.span(), key, "must be an array of tables like { name = \"…\", email = \"…\" }"))?;
    let mut out = Vec::new();
    for (i, (span, t)) in arr.into_iter().enumerate() {
        let k = format!("{key}[{i}]");
        let t = t.ok_or_else(|| r.err(span.clone(), &k, "must be a table like { name = \"…\", email = \"…\" }"))?;
        r.check_keys(t, &k, &["name", "email"], span.clone())?;
        let name = t.get("name").map(|v| r.string(v, &format!("{k}.name"))).transpose()?;
        let email = t.get("email").map(|v| r.string(v, &format!("{k}.email"))).transpose()?;
        if name.is_none() && email.is_none() {
            return Err(r.err(span, &k, "needs a `name` or an `email`"));
        }
        if let Some(e) = &email {
            if !is_email(e) {
                return Err(r.err(t.get("email").and_then(|v| v.span()), &format!("{k}.email"), format!("`{e}` is not an email address like `name@example.org`")));
            }
        }
        if let Some(n) = &name {
            if n.contains(',') {
                return Err(r.err(t.get("name").and_then(|v| v.span()), &format!("{k}.name"), "must not contain a comma (the spec forbids it: core metadata joins people with commas)"));
            }
        }
        out.push(Contact { name, email });
    }
    Ok(out)
}

/// A plain `local@domain` address (what core metadata's `Author-email` can
/// carry): both parts non-empty, no spaces, angle brackets, commas or quotes.
fn is_email(e: &str) -> bool {
    match e.rsplit_once('@') {
        Some((local, domain)) => {
            let bad = |s: &str| s.is_empty() || s.chars().any(|c| c.is_whitespace() || "<>,;:\"()[]\\".contains(c));
            !bad(local) && !bad(domain) && !domain.contains('@') && !domain.starts_with('.') && !domain.ends_with('.')
        }
        None => false,
    }
}

/// Check a PEP 639 `license-files` pattern: only alphanumerics, `_`, `-`,
/// `.`, `/`, `*`, `?` and `[...]` classes of those characters; no `..`, no
/// leading `/`. Returns why it is invalid.
fn check_license_glob(p: &str) -> std::result::Result<(), String> {
    if p.starts_with('/') {
        return Err(format!("pattern `{p}` must be relative to the project root (no leading `/`)"));
    }
    if p.split('/').any(|c| c == "..") {
        return Err(format!("pattern `{p}` must not contain `..`"));
    }
    let verbatim = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                let mut closed = false;
                for d in chars.by_ref() {
                    if d == ']' {
                        closed = true;
                        break;
                    }
                    if !verbatim(d) {
                        return Err(format!("pattern `{p}` has `{d}` in a `[...]` class: PEP 639 classes hold only letters, digits, `_`, `-` and `.`"));
                    }
                }
                if !closed {
                    return Err(format!("pattern `{p}` has an unclosed `[`"));
                }
            }
            '*' | '?' | '/' => {}
            c if verbatim(c) => {}
            '\\' => return Err(format!("pattern `{p}` must use `/` as the path separator")),
            c => return Err(format!("pattern `{p}` has `{c}`, which PEP 639's glob syntax does not allow")),
        }
    }
    Ok(())
}

fn parse_requirements(r: &Reader, item: &Item, key: &str) -> Result<Vec<Dependency>> {
    r.string_list(item, key)?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let requirement = Requirement::from_str(s).map_err(|e| {
                let span = item.as_array().and_then(|a| a.get(i)).and_then(|v| v.span());
                r.err(span, &format!("{key}[{i}]"), format!("is not a valid PEP 508 requirement:\n{e}"))
            })?;
            Ok(Dependency { requirement, text: s.clone() })
        })
        .collect()
}

fn readme_type(r: &Reader, file: &str, span: Option<std::ops::Range<usize>>) -> Result<String> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".md") {
        Ok("text/markdown".into())
    } else if lower.ends_with(".rst") {
        Ok("text/x-rst".into())
    } else if lower.ends_with(".txt") || !lower.contains('.') {
        Ok("text/plain".into())
    } else {
        Err(r.err(span, "project.readme", format!("`{file}` has an unknown suffix: use .md, .rst or .txt, or a table with `content-type`")))
    }
}

fn read_project_file(r: &Reader, root: &Utf8Path, rel: &str, key: &str, span: Option<std::ops::Range<usize>>) -> Result<String> {
    let p = root.join(rel);
    std::fs::read_to_string(&p).map_err(|e| r.err(span, key, format!("names `{rel}`, which cannot be read ({e})")))
}

/// Read `__version__ = "…"` (or `version = "…"`) from the Python file `rel`
/// statically: the project is never imported.
fn version_from_file(r: &Reader, root: &Utf8Path, rel: &str) -> Result<String> {
    let text = read_project_file(r, root, rel, "tool.wasiwheel.version-file", None)?;
    for line in text.lines() {
        let t = line.trim_start();
        for name in ["__version__", "version"] {
            if let Some(rest) = t.strip_prefix(name) {
                let rest = rest.trim_start();
                let rest = rest.strip_prefix(':').map(|r| r.split_once('=').map(|x| x.1).unwrap_or("")).or_else(|| rest.strip_prefix('='));
                if let Some(v) = rest {
                    let v = v.trim();
                    let q = v.chars().next().unwrap_or(' ');
                    if (q == '"' || q == '\'') && v[1..].contains(q) {
                        return Ok(v[1..1 + v[1..].find(q).expect("checked")].to_string());
                    }
                }
            }
        }
    }
    Err(Error::project(root.join(rel), "has no line `__version__ = \"…\"`: add one, or give `project.version` statically"))
}

fn parse_project(r: &Reader, root: &Utf8Path, pt: &Table, tool: &ToolConfig) -> Result<Project> {
    r.check_keys(pt, "project", PROJECT_KEYS, pt.span())?;
    let dynamic = pt.get("dynamic").map(|d| r.string_list(d, "project.dynamic")).transpose()?.unwrap_or_default();
    for d in &dynamic {
        if d == "name" {
            return Err(r.err(pt.get("dynamic").and_then(|v| v.span()), "project.dynamic", "must not list `name` (the spec requires a static name)"));
        }
        if !PROJECT_KEYS.contains(&d.as_str()) {
            return Err(r.err(pt.get("dynamic").and_then(|v| v.span()), "project.dynamic", format!("lists `{d}`, which is not a `[project]` field")));
        }
        if pt.contains_key(d) {
            return Err(r.err(pt.get(d).and_then(|v| v.span()), &format!("project.{d}"), "is given statically and also listed in `project.dynamic`: remove one of them"));
        }
        if d == "version" && tool.version_file.is_some() {
            continue;
        }
        let hint = if d == "version" { ": set `tool.wasiwheel.version-file` to the file with `__version__ = \"…\"`, or give `project.version` statically".to_string() } else { format!(": give `project.{d}` statically") };
        return Err(r.err(pt.get("dynamic").and_then(|v| v.span()), "project.dynamic", format!("lists `{d}`, which wasiwheel cannot compute{hint}")));
    }

    let name_item = pt.get("name").ok_or_else(|| Error::project(r.path, "`project.name` is missing: add `name = \"your-project\"` to `[project]`"))?;
    let name = r.string(name_item, "project.name")?;
    if !is_valid_name(&name) {
        return Err(r.err(name_item.span(), "project.name", format!("`{name}` is not a valid project name: use letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit")));
    }

    let version = if dynamic.iter().any(|d| d == "version") {
        let file = tool.version_file.as_deref().expect("checked above");
        let v = version_from_file(r, root, file.as_str())?;
        Version::from_str(&v).map_err(|e| Error::project(root.join(file), format!("`__version__ = \"{v}\"` is not a PEP 440 version: {e}")))?
    } else {
        let version_item = pt.get("version").ok_or_else(|| Error::project(r.path, "`project.version` is missing: add `version = \"0.1.0\"` to `[project]` (or list it in `project.dynamic` with `tool.wasiwheel.version-file`)"))?;
        let version_str = r.string(version_item, "project.version")?;
        Version::from_str(&version_str).map_err(|e| r.err(version_item.span(), "project.version", format!("`{version_str}` is not a PEP 440 version: {e}")))?
    };

    let description = pt.get("description").map(|v| r.string(v, "project.description")).transpose()?;
    if let Some(d) = &description {
        if d.contains('\n') {
            return Err(r.err(pt.get("description").and_then(|v| v.span()), "project.description", "must be a single line (put longer text in `readme`)"));
        }
    }

    let readme = match pt.get("readme") {
        None => None,
        Some(item) => {
            if let Some(file) = item.as_str() {
                let ct = readme_type(r, file, item.span())?;
                Some(Readme { text: read_project_file(r, root, file, "project.readme", item.span())?, content_type: ct, file: Some(file.into()) })
            } else if let Some(t) = item.as_table_like() {
                r.check_keys(t, "project.readme", &["file", "text", "content-type"], item.span())?;
                let ct_item = t.get("content-type").ok_or_else(|| r.err(item.span(), "project.readme.content-type", "is required when `readme` is a table"))?;
                let ct = r.string(ct_item, "project.readme.content-type")?;
                let base = ct.split(';').next().unwrap_or("").trim();
                if !["text/markdown", "text/x-rst", "text/plain"].contains(&base) {
                    return Err(r.err(ct_item.span(), "project.readme.content-type", format!("`{ct}` is not supported: use text/markdown, text/x-rst or text/plain")));
                }
                match (t.get("file"), t.get("text")) {
                    (Some(f), None) => {
                        let f = r.string(f, "project.readme.file")?;
                        Some(Readme { text: read_project_file(r, root, &f, "project.readme.file", item.span())?, content_type: ct, file: Some(f.into()) })
                    }
                    (None, Some(tx)) => Some(Readme { text: r.string(tx, "project.readme.text")?, content_type: ct, file: None }),
                    _ => return Err(r.err(item.span(), "project.readme", "must have exactly one of `file` and `text`")),
                }
            } else {
                return Err(r.err(item.span(), "project.readme", "must be a file path or a table"));
            }
        }
    };

    let requires_python = match pt.get("requires-python") {
        None => None,
        Some(item) => {
            let s = r.string(item, "project.requires-python")?;
            Some(VersionSpecifiers::from_str(&s).map_err(|e| r.err(item.span(), "project.requires-python", format!("`{s}` is not a PEP 440 version specifier: {e}")))?)
        }
    };

    let dependencies = pt.get("dependencies").map(|d| parse_requirements(r, d, "project.dependencies")).transpose()?.unwrap_or_default();
    let mut optional_dependencies = BTreeMap::new();
    if let Some(item) = pt.get("optional-dependencies") {
        let t = item.as_table_like().ok_or_else(|| r.err(item.span(), "project.optional-dependencies", "must be a table of arrays"))?;
        for (extra, reqs) in t.iter() {
            let key = format!("project.optional-dependencies.{extra}");
            let name = ExtraName::from_str(extra).map_err(|e| r.err(reqs.span(), &key, format!("has an invalid extra name: {e}")))?;
            if optional_dependencies.contains_key(&name) {
                return Err(r.err(reqs.span(), &key, format!("is the extra `{name}` after normalisation (PEP 685), like another key of `project.optional-dependencies`: merge them")));
            }
            optional_dependencies.insert(name, parse_requirements(r, reqs, &key)?);
        }
    }

    let license = match pt.get("license") {
        None => None,
        Some(item) => {
            if let Some(expr) = item.as_str() {
                match spdx::Expression::parse(expr) {
                    Ok(_) => Some(License::Spdx(expr.to_string())),
                    Err(e) => {
                        let hint = match spdx::Expression::canonicalize(expr) {
                            Ok(Some(c)) if c.trim() != expr.trim() => format!(" (did you mean `{c}`?)"),
                            _ => String::new(),
                        };
                        return Err(r.err(item.span(), "project.license", format!("`{expr}` is not a valid SPDX license expression{hint}: {}", e.reason)));
                    }
                }
            } else if let Some(t) = item.as_table_like() {
                r.check_keys(t, "project.license", &["file", "text"], item.span())?;
                if pt.contains_key("license-files") {
                    return Err(r.err(item.span(), "project.license", "is the deprecated table form, which cannot be combined with `license-files` (PEP 639): write an SPDX expression such as `license = \"MIT\"`"));
                }
                match (t.get("file"), t.get("text")) {
                    (Some(f), None) => {
                        let f = r.string(f, "project.license.file")?;
                        Some(License::Text(read_project_file(r, root, &f, "project.license.file", item.span())?))
                    }
                    (None, Some(tx)) => Some(License::Text(r.string(tx, "project.license.text")?)),
                    _ => return Err(r.err(item.span(), "project.license", "must have exactly one of `file` and `text`")),
                }
            } else {
                return Err(r.err(item.span(), "project.license", "must be an SPDX expression string (or the deprecated table)"));
            }
        }
    };

    let license_files = match pt.get("license-files") {
        Some(item) => {
            let pats = r.string_list(item, "project.license-files")?;
            let mut files = Vec::new();
            for p in &pats {
                check_license_glob(p).map_err(|e| r.err(item.span(), "project.license-files", e))?;
                let matched = glob_files(root, p).map_err(|e| r.err(item.span(), "project.license-files", e))?;
                if matched.is_empty() {
                    return Err(r.err(item.span(), "project.license-files", format!("pattern `{p}` matches no file (PEP 639 requires each pattern to match)")));
                }
                files.extend(matched);
            }
            files.sort();
            files.dedup();
            for f in &files {
                let data = std::fs::read(root.join(f)).map_err(|e| r.err(item.span(), "project.license-files", format!("matches `{f}`, which cannot be read ({e})")))?;
                if std::str::from_utf8(&data).is_err() {
                    return Err(r.err(item.span(), "project.license-files", format!("matches `{f}`, which is not UTF-8 text (PEP 639)")));
                }
            }
            files
        }
        None => {
            // PEP 639's suggested defaults when the key is absent.
            let mut files = Vec::new();
            for p in ["LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*"] {
                files.extend(glob_files(root, p).unwrap_or_default());
            }
            files.sort();
            files.dedup();
            files
        }
    };

    if let (Some(License::Spdx(_)), Some(item)) = (&license, pt.get("classifiers")) {
        if let Ok(cs) = r.string_list(item, "project.classifiers") {
            if let Some(c) = cs.iter().find(|c| c.starts_with("License ::")) {
                return Err(r.err(item.span(), "project.classifiers", format!("has `{c}`, but `project.license` is an SPDX expression: PEP 639 forbids license classifiers alongside it; remove the classifier")));
            }
        }
    }
    // PEP 794 import names: validated; core metadata 2.4 has no field for them.
    for key in ["import-names", "import-namespaces"] {
        if let Some(item) = pt.get(key) {
            for (i, n) in r.string_list(item, &format!("project.{key}"))?.iter().enumerate() {
                let name = n.split(';').next().unwrap_or("").trim();
                let ok = !name.is_empty() && name.split('.').all(|p| !p.is_empty() && !p.starts_with(|c: char| c.is_ascii_digit()) && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
                if !ok {
                    return Err(r.err(item.span(), &format!("project.{key}[{i}]"), format!("`{n}` is not a dotted Python import name")));
                }
            }
        }
    }
    let authors = pt.get("authors").map(|v| parse_contacts(r, v, "project.authors")).transpose()?.unwrap_or_default();
    let maintainers = pt.get("maintainers").map(|v| parse_contacts(r, v, "project.maintainers")).transpose()?.unwrap_or_default();
    let keywords = pt.get("keywords").map(|v| r.string_list(v, "project.keywords")).transpose()?.unwrap_or_default();
    let classifiers = pt.get("classifiers").map(|v| r.string_list(v, "project.classifiers")).transpose()?.unwrap_or_default();
    let urls = pt.get("urls").map(|v| r.string_table(v, "project.urls")).transpose()?.unwrap_or_default();
    for (label, value) in &urls {
        let span = pt.get("urls").and_then(|u| u.get(label)).and_then(|v| v.span());
        if label.chars().count() > 32 {
            return Err(r.err(span, &format!("project.urls.{label}"), "has a label longer than 32 characters (core metadata's Project-URL limit)"));
        }
        match url::Url::parse(value) {
            Ok(u) if u.cannot_be_a_base() && u.scheme() != "mailto" => {
                return Err(r.err(span, &format!("project.urls.{label}"), format!("`{value}` is not a URL")));
            }
            Ok(_) => {}
            Err(e) => return Err(r.err(span, &format!("project.urls.{label}"), format!("`{value}` is not a URL ({e})"))),
        }
    }
    let scripts: BTreeMap<_, _> = pt.get("scripts").map(|v| r.string_table(v, "project.scripts")).transpose()?.unwrap_or_default().into_iter().collect();
    let gui_scripts: BTreeMap<_, _> = pt.get("gui-scripts").map(|v| r.string_table(v, "project.gui-scripts")).transpose()?.unwrap_or_default().into_iter().collect();
    for (group, table) in [("project.scripts", &scripts), ("project.gui-scripts", &gui_scripts)] {
        let span = pt.get(group.trim_start_matches("project.")).and_then(|v| v.span());
        for (k, v) in table.iter() {
            check_entry_point(r, span.clone(), &format!("{group}.{k}"), k, v)?;
        }
    }
    let mut entry_points = BTreeMap::new();
    if let Some(item) = pt.get("entry-points") {
        let t = item.as_table_like().ok_or_else(|| r.err(item.span(), "project.entry-points", "must be a table of tables"))?;
        for (group, g) in t.iter() {
            if group == "console_scripts" || group == "gui_scripts" {
                return Err(r.err(g.span(), &format!("project.entry-points.{group}"), "is not allowed: use `project.scripts` / `project.gui-scripts`"));
            }
            let key = format!("project.entry-points.{group}");
            let entries: BTreeMap<_, _> = r.string_table(g, &key)?.into_iter().collect();
            for (k, v) in &entries {
                check_entry_point(r, g.span(), &format!("{key}.{k}"), k, v)?;
            }
            entry_points.insert(group.to_string(), entries);
        }
    }

    Ok(Project {
        name,
        version,
        description,
        readme,
        requires_python,
        dependencies,
        optional_dependencies,
        license,
        license_files,
        authors,
        maintainers,
        keywords,
        classifiers,
        urls,
        scripts,
        gui_scripts,
        entry_points,
        dynamic,
    })
}

/// Check an entry point (the "Entry points specification"): its name has no
/// `=`, does not start with `[` and has no surrounding whitespace; its object
/// reference is `module.path` or `module.path:attr.path`.
fn check_entry_point(r: &Reader, span: Option<std::ops::Range<usize>>, key: &str, name: &str, value: &str) -> Result<()> {
    if name.is_empty() || name.contains('=') || name.starts_with('[') || name.trim() != name {
        return Err(r.err(span, key, format!("has the name `{name}`: entry point names must not contain `=`, start with `[`, or start or end with whitespace")));
    }
    let ident = |s: &str| !s.is_empty() && s.split('.').all(|p| !p.is_empty() && !p.starts_with(|c: char| c.is_ascii_digit()) && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
    let ok = match value.split_once(':') {
        Some((m, a)) => ident(m.trim()) && ident(a.trim()),
        None => ident(value.trim()),
    };
    if ok {
        Ok(())
    } else {
        Err(r.err(span, key, format!("`{value}` is not an object reference like `package.module:function`")))
    }
}

/// Files under `root` matching the glob `pattern` (relative, `/`-separated), as
/// sorted paths relative to `root`.
pub fn glob_files(root: &Utf8Path, pattern: &str) -> std::result::Result<Vec<Utf8PathBuf>, String> {
    let full = format!("{}/{}", glob::Pattern::escape(root.as_str()), pattern);
    let paths = glob::glob(&full).map_err(|e| format!("pattern `{pattern}` is not a valid glob: {e}"))?;
    let mut out = Vec::new();
    for p in paths.flatten() {
        if p.is_file() {
            if let Ok(rel) = p.strip_prefix(root.as_std_path()) {
                if let Some(s) = rel.to_str() {
                    out.push(Utf8PathBuf::from(s));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn parse_tool(r: &Reader, item: &Item) -> Result<ToolConfig> {
    let t = item.as_table_like().ok_or_else(|| r.err(item.span(), "tool.wasiwheel", "must be a table"))?;
    r.check_keys(t, "tool.wasiwheel", TOOL_KEYS, item.span())?;
    let mut tool = ToolConfig::default();
    if let Some(ps) = t.get("python-source") {
        tool.python_source = Some(r.string(ps, "tool.wasiwheel.python-source")?.into());
    }
    if let Some(p) = t.get("packages") {
        tool.packages = Some(r.string_list(p, "tool.wasiwheel.packages")?);
    }
    if let Some(c) = t.get("component") {
        let ct = c.as_table_like().ok_or_else(|| r.err(c.span(), "tool.wasiwheel.component", "must be a table"))?;
        r.check_keys(ct, "tool.wasiwheel.component", &["entry"], c.span())?;
        if let Some(e) = ct.get("entry") {
            let entry = r.string(e, "tool.wasiwheel.component.entry")?;
            crate::crossbuild::component::Entry::parse(&entry).map_err(|m| r.err(e.span(), "tool.wasiwheel.component.entry", m))?;
            tool.component_entry = Some(entry);
        }
    }
    if let Some(v) = t.get("version-file") {
        tool.version_file = Some(r.string(v, "tool.wasiwheel.version-file")?.into());
    }
    for (key, field) in [("include", &mut tool.include), ("exclude", &mut tool.exclude)] {
        if let Some(v) = t.get(key) {
            let globs = r.string_list(v, &format!("tool.wasiwheel.{key}"))?;
            for g in &globs {
                if let Err(e) = glob::Pattern::new(g) {
                    return Err(r.err(v.span(), &format!("tool.wasiwheel.{key}"), format!("has `{g}`, which is not a valid glob: {e}")));
                }
                if g.starts_with('/') || g.split('/').any(|c| c == "..") {
                    return Err(r.err(v.span(), &format!("tool.wasiwheel.{key}"), format!("has `{g}`: globs are relative to the project root, without `..`")));
                }
            }
            *field = globs;
        }
    }
    if let Some(ext) = t.get("ext-modules") {
        let tables: Vec<(Option<std::ops::Range<usize>>, &dyn toml_edit::TableLike)> = if let Some(aot) = ext.as_array_of_tables() {
            aot.iter().map(|t| (t.span(), t as &dyn toml_edit::TableLike)).collect()
        } else if let Some(arr) = ext.as_array() {
            arr.iter()
                .map(|v| v.as_inline_table().map(|t| (v.span(), t as &dyn toml_edit::TableLike)).ok_or_else(|| r.err(v.span(), "tool.wasiwheel.ext-modules", "must be an array of tables")))
                .collect::<Result<_>>()?
        } else {
            return Err(r.err(ext.span(), "tool.wasiwheel.ext-modules", "must be an array of tables ([[tool.wasiwheel.ext-modules]])"));
        };
        let mut seen = std::collections::BTreeSet::new();
        for (i, (span, et)) in tables.into_iter().enumerate() {
            let k = format!("tool.wasiwheel.ext-modules[{i}]");
            r.check_keys(et, &k, EXT_KEYS, span.clone())?;
            let name_item = et.get("name").ok_or_else(|| r.err(span.clone(), &format!("{k}.name"), "is missing: give the dotted module name, e.g. `pkg._core`"))?;
            let name = r.string(name_item, &format!("{k}.name"))?;
            let valid = !name.is_empty() && name.split('.').all(|p| !p.is_empty() && !p.starts_with(|c: char| c.is_ascii_digit()) && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            if !valid {
                return Err(r.err(name_item.span(), &format!("{k}.name"), format!("`{name}` is not a dotted Python module name like `pkg._core`")));
            }
            if !seen.insert(name.clone()) {
                return Err(r.err(name_item.span(), &format!("{k}.name"), format!("`{name}` is declared twice")));
            }
            let sources_item = et.get("sources").ok_or_else(|| r.err(span.clone(), &format!("{k}.sources"), "is missing: list the C/C++ source files"))?;
            let sources: Vec<Utf8PathBuf> = r.string_list(sources_item, &format!("{k}.sources"))?.into_iter().map(Utf8PathBuf::from).collect();
            if sources.is_empty() {
                return Err(r.err(sources_item.span(), &format!("{k}.sources"), "is empty: list at least one source file"));
            }
            let list = |key: &str| -> Result<Vec<String>> { et.get(key).map(|v| r.string_list(v, &format!("{k}.{key}"))).transpose().map(Option::unwrap_or_default) };
            let include_dirs = list("include-dirs")?.into_iter().map(Utf8PathBuf::from).collect();
            let defines = list("defines")?;
            for d in &defines {
                let macro_name = d.split('=').next().unwrap_or("");
                if macro_name.is_empty() || !macro_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(r.err(et.get("defines").and_then(|v| v.span()), &format!("{k}.defines"), format!("`{d}` is not `NAME` or `NAME=VALUE`")));
                }
            }
            let libraries = list("libraries")?;
            let is_cxx_source = |p: &Utf8PathBuf| matches!(p.extension(), Some("cpp" | "cc" | "cxx" | "C" | "c++"));
            let language = match et.get("language") {
                Some(l) => match r.string(l, &format!("{k}.language"))?.as_str() {
                    "c" => Language::C,
                    "c++" | "cxx" | "cpp" => Language::Cxx,
                    other => return Err(r.err(l.span(), &format!("{k}.language"), format!("`{other}` is not a language: use \"c\" or \"c++\""))),
                },
                None if sources.iter().any(is_cxx_source) => Language::Cxx,
                None => Language::C,
            };
            let py_limited_api = match et.get("py-limited-api") {
                Some(v) => {
                    let s = r.string(v, &format!("{k}.py-limited-api"))?;
                    let ok = s.strip_prefix("cp3").map(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit())).unwrap_or(false);
                    if !ok {
                        return Err(r.err(v.span(), &format!("{k}.py-limited-api"), format!("`{s}` is not a limited-API version like `cp39`")));
                    }
                    Some(s)
                }
                None => None,
            };
            tool.ext_modules.push(ExtModuleConfig { name, sources, include_dirs, defines, libraries, language, py_limited_api });
        }
    }
    Ok(tool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Pyproject> {
        let root = Utf8PathBuf::from("/nonexistent");
        Pyproject::parse(&root, &root.join("pyproject.toml"), text)
    }

    #[test]
    fn minimal_and_ext_modules() {
        let p = parse(
            r#"
[project]
name = "Demo_Pkg"
version = "1.0"
dependencies = ["numpy>=1; python_version>'3.8'"]
optional-dependencies = { test = ["pytest"] }
license = "MIT OR Apache-2.0"

[[tool.wasiwheel.ext-modules]]
name = "demo._core"
sources = ["csrc/core.c"]
defines = ["A=1", "B"]
"#,
        )
        .unwrap();
        assert_eq!(p.project.name, "Demo_Pkg");
        assert_eq!(p.project.version.to_string(), "1.0");
        assert_eq!(p.tool.ext_modules[0].name, "demo._core");
        assert_eq!(p.tool.ext_modules[0].language, Language::C);
        assert_eq!(p.project.license, Some(License::Spdx("MIT OR Apache-2.0".into())));
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("[project]\nversion = \"1\"\n", "`project.name` is missing"),
            ("[project]\nname = \"x\"\n", "`project.version` is missing"),
            ("[project]\nname = \"-x\"\nversion = \"1\"\n", "project.name"),
            ("[project]\nname = \"x\"\nversion = \"one\"\n", "project.version"),
            ("[project]\nname = \"x\"\nversion = \"1\"\nversoin = \"1\"\n", "did you mean `project.version`?"),
            ("[project]\nname = \"x\"\nversion = \"1\"\ndependencies = [\"a >>> 1\"]\n", "project.dependencies[0]"),
            ("[project]\nname = \"x\"\nversion = \"1\"\nlicense = \"MIT AND\"\n", "project.license"),
            ("[project]\nname = \"x\"\nversion = \"1\"\nauthors = [{ nam = \"a\" }]\n", "project.authors[0].nam"),
            ("[project]\nname = \"x\"\nversion = \"1\"\ndynamic = [\"version\"]\n", "also listed in `project.dynamic`"),
            ("[project]\nname = \"x\"\nversion = \"1\"\n[tool.wasiwheel]\next-module = []\n", "did you mean `tool.wasiwheel.ext-modules`?"),
            ("[project]\nname = \"x\"\nversion = \"1\"\n[[tool.wasiwheel.ext-modules]]\nname = \"a.b\"\n", "ext-modules[0].sources"),
            ("[project]\nname = \"x\"\nversion = \"1\"\n[[tool.wasiwheel.ext-modules]]\nname = \"a-b\"\nsources=[\"a.c\"]\n", "not a dotted Python module name"),
            ("[project]\nname = \"x\"\nversion = \"1\"\nscripts = { x = \"not valid\" }\n", "project.scripts.x"),
            ("[project\n", "not valid TOML"),
            ("[tool.x]\n", "no `[project]` table"),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "for {text:?}: got {e:?}, want {want:?}");
            assert!(e.starts_with("/nonexistent/pyproject.toml"), "{e}");
        }
    }

    #[test]
    fn json_schema_lists_the_same_keys() {
        let schema: serde_json::Value = serde_json::from_str(include_str!("../../backend/wasiwheel/schema.json")).unwrap();
        let keys = |v: &serde_json::Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let sorted = |a: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(keys(&schema["properties"]), sorted(TOOL_KEYS));
        assert_eq!(keys(&schema["properties"]["ext-modules"]["items"]["properties"]), sorted(EXT_KEYS));
    }

    #[test]
    fn dynamic_version_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("src/p")).unwrap();
        std::fs::write(root.join("src/p/__init__.py"), "x = 1\n__version__ = '1.2.3'\n").unwrap();
        let text = "[project]\nname = \"p\"\ndynamic = [\"version\"]\n[tool.wasiwheel]\nversion-file = \"src/p/__init__.py\"\n";
        let p = Pyproject::parse(root, &root.join("pyproject.toml"), text).unwrap();
        assert_eq!(p.project.version.to_string(), "1.2.3");
        let e = Pyproject::parse(root, &root.join("pyproject.toml"), "[project]\nname = \"p\"\ndynamic = [\"version\"]\n").unwrap_err().to_string();
        assert!(e.contains("tool.wasiwheel.version-file"), "{e}");
        std::fs::write(root.join("src/p/__init__.py"), "VERSION = 1\n").unwrap();
        let e = Pyproject::parse(root, &root.join("pyproject.toml"), text).unwrap_err().to_string();
        assert!(e.contains("__version__"), "{e}");
    }

    #[test]
    fn license_classifier_with_expression() {
        let e = parse("[project]\nname = \"x\"\nversion = \"1\"\nlicense = \"MIT\"\nclassifiers = [\"License :: OSI Approved :: MIT License\"]\n").unwrap_err().to_string();
        assert!(e.contains("project.classifiers") && e.contains("PEP 639"), "{e}");
    }

    #[test]
    fn license_globs() {
        assert!(check_license_glob("LICEN[CS]E*").is_ok());
        assert!(check_license_glob("licenses/**/*.txt").is_ok());
        assert!(check_license_glob("../LICENSE").is_err());
        assert!(check_license_glob("/LICENSE").is_err());
        assert!(check_license_glob("[!X]ICENSE").is_err());
        assert!(check_license_glob("MY LICENSE").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(normalize_name("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(filename_name("Foo.Bar-baz"), "foo_bar_baz");
        assert!(is_valid_name("a"));
        assert!(!is_valid_name("a-"));
        assert!(!is_valid_name("a b"));
    }
}

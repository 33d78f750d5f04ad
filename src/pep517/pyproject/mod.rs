//! `pyproject.toml`: the `[project]` table (PEP 621, now the "Declaring project
//! metadata" specification, with PEP 639 licenses) and `[tool.wasiwheel]`.
//!
//! Read with `toml_edit` so that errors can point at a line; every error names
//! the file, the line where known, and the dotted key (`project.authors[0].email`).

pub mod globs;
mod project;
pub mod schema;
mod tool;

pub use globs::glob_files;

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, Requirement};
use toml_edit::{Document, Item, Value};

use crate::error::{did_you_mean, Error, Result};
use crate::model::lang::Language;

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
    /// Extra compiler arguments.
    pub extra_compile_args: Vec<String>,
    /// Extra linker arguments.
    pub extra_link_args: Vec<String>,
    /// Build failures of this module are warnings, not errors.
    pub optional: bool,
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
    /// `[tool.wasiwheel.component] wit-path`: the WIT of the world (relative to the project).
    pub component_wit_path: Option<Utf8PathBuf>,
    /// `[tool.wasiwheel.component] world`: the world's name.
    pub component_world: Option<String>,
    /// `[tool.wasiwheel.component] app`: the module implementing the world's exports.
    pub component_app: Option<String>,
    /// `[tool.wasiwheel.component] include-modules`: modules a component keeps
    /// even when no import statement reachable from the entry names them.
    pub component_include_modules: Vec<String>,
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

pub(super) const PROJECT_KEYS: &[&str] = &[
    "name",
    "version",
    "description",
    "readme",
    "requires-python",
    "license",
    "license-files",
    "authors",
    "maintainers",
    "keywords",
    "classifiers",
    "urls",
    "scripts",
    "gui-scripts",
    "entry-points",
    "dependencies",
    "optional-dependencies",
    "dynamic",
    "import-names",
    "import-namespaces",
];
/// The keys allowed in `[tool.wasiwheel]` ([`schema::tool_schema`]).
fn tool_keys() -> Vec<&'static str> {
    schema::keys_at("")
}

/// The keys allowed in each `[[tool.wasiwheel.ext-modules]]` table.
fn ext_keys() -> Vec<&'static str> {
    schema::keys_at("/properties/ext-modules/items")
}

/// The keys allowed in `[tool.wasiwheel.component]`.
fn component_keys() -> Vec<&'static str> {
    schema::keys_at("/properties/component")
}

/// Reads values out of the document, turning every problem into an error that
/// names the file, line and dotted key.
pub(super) struct Reader<'a> {
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
        item.as_str().map(str::to_string).ok_or_else(|| self.err(item.span(), key, "must be a string"))
    }

    fn value_string(&self, v: &Value, key: &str) -> Result<String> {
        v.as_str().map(str::to_string).ok_or_else(|| self.err(v.span(), key, "must be a string"))
    }

    fn string_list(&self, item: &Item, key: &str) -> Result<Vec<String>> {
        let arr = item.as_array().ok_or_else(|| self.err(item.span(), key, "must be an array of strings"))?;
        arr.iter().enumerate().map(|(i, v)| self.value_string(v, &format!("{key}[{i}]"))).collect()
    }

    fn string_table(&self, item: &Item, key: &str) -> Result<Vec<(String, String)>> {
        let t = item.as_table_like().ok_or_else(|| self.err(item.span(), key, "must be a table of strings"))?;
        t.iter().map(|(k, v)| Ok((k.to_string(), self.string(v, &format!("{key}.{k}"))?))).collect()
    }

    fn check_keys(
        &self,
        table: &dyn toml_edit::TableLike,
        prefix: &str,
        allowed: &[&str],
        span: Option<std::ops::Range<usize>>,
    ) -> Result<()> {
        for (k, v) in table.iter() {
            if !allowed.contains(&k) {
                let hint = match did_you_mean(k, allowed.iter().copied()) {
                    Some(s) => format!("; did you mean `{prefix}.{s}`?"),
                    None => format!("; allowed keys: {}", allowed.join(", ")),
                };
                return Err(self.err(
                    v.span().or(span.clone()),
                    &format!("{prefix}.{k}"),
                    format!("is not a known key{hint}"),
                ));
            }
        }
        Ok(())
    }
}

/// `tool.wasiwheel.backend` of `<root>/pyproject.toml`: the PEP 517 backend
/// (`module:object`, e.g. `maturin`) that builds a project whose
/// `build-backend` is wasiwheel, which then only wraps it (runs it in the
/// cross environment for WASI targets, calls it as it is for the host).
/// `None` when the key is absent (wasiwheel builds the project itself) or
/// there is no `pyproject.toml`.
///
/// Errors: [`Error::Project`] naming the file, line and key when the value is
/// not a backend reference, names wasiwheel, or stands beside other keys of
/// `[tool.wasiwheel]` (which only wasiwheel's own builds read).
pub fn wrapped_backend(root: &Utf8Path) -> Result<Option<String>> {
    let path = root.join("pyproject.toml");
    let Ok(raw) = std::fs::read_to_string(&path) else { return Ok(None) };
    let doc = Document::parse(raw.clone()).map_err(|e| Error::project(&path, format!("is not valid TOML: {e}")))?;
    let r = Reader { path: &path, raw: &raw };
    let Some(tool) = doc.as_table().get("tool").and_then(|t| t.get("wasiwheel")).and_then(|t| t.as_table_like()) else {
        return Ok(None);
    };
    let Some(item) = tool.get("backend") else { return Ok(None) };
    let backend = r.string(item, "tool.wasiwheel.backend")?;
    let valid = {
        let (module, object) = backend.split_once(':').unwrap_or((&backend, "x"));
        let ident = |s: &str| {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        module.split('.').all(ident) && object.split('.').all(ident)
    };
    if !valid {
        return Err(r.err(
            item.span(),
            "tool.wasiwheel.backend",
            format!(
                "is `{backend}`, which is not a PEP 517 backend reference (`module` or `module:object`, e.g. \
                 `maturin`)"
            ),
        ));
    }
    if backend.split(':').next() == Some("wasiwheel") {
        return Err(r.err(
            item.span(),
            "tool.wasiwheel.backend",
            "names wasiwheel itself: leave the key out for wasiwheel's own builds",
        ));
    }
    let others: Vec<&str> = tool.iter().map(|(k, _)| k).filter(|k| *k != "backend").collect();
    if !others.is_empty() {
        return Err(r.err(
            item.span(),
            "tool.wasiwheel.backend",
            format!(
                "makes `{backend}` build the project, so [tool.wasiwheel]'s {} would not be read: configure that \
                 backend in its own table, or drop `backend` to have wasiwheel build the project itself",
                others.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(Some(backend))
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
        let doc =
            Document::parse(raw.to_string()).map_err(|e| Error::project(path, format!("is not valid TOML: {e}")))?;
        let r = Reader { path, raw };
        let top = doc.as_table();
        let project_item = top.get("project").ok_or_else(|| {
            Error::project(path, "has no `[project]` table: add one with at least `name` and `version`")
        })?;
        let pt = project_item.as_table().ok_or_else(|| r.err(project_item.span(), "project", "must be a table"))?;
        let tool = match top.get("tool").and_then(|t| t.get("wasiwheel")) {
            Some(item) => tool::parse_tool(&r, item)?,
            None => ToolConfig::default(),
        };
        if let Some(b) = top.get("tool").and_then(|t| t.get("wasiwheel")).and_then(|t| t.get("backend")) {
            return Err(r.err(
                b.span(),
                "tool.wasiwheel.backend",
                "names another backend, which builds this project: wasiwheel's own build does not apply",
            ));
        }
        let project = project::parse_project(&r, root, pt, &tool)?;
        Ok(Pyproject { root: root.to_path_buf(), project, tool })
    }
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
    fn wrapped_backend_key() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let with = |tool: &str| {
            std::fs::write(root.join("pyproject.toml"), format!("[project]\nname = \"x\"\n\n[tool.wasiwheel]\n{tool}"))
                .unwrap();
            wrapped_backend(root)
        };
        assert_eq!(with("backend = \"maturin\"\n").unwrap().as_deref(), Some("maturin"));
        assert_eq!(
            with("backend = \"setuptools.build_meta:__legacy__\"\n").unwrap().as_deref(),
            Some("setuptools.build_meta:__legacy__")
        );
        assert_eq!(with("packages = [\"x\"]\n").unwrap(), None);
        let e = with("backend = \"not a backend\"\n").unwrap_err().to_string();
        assert!(e.contains("pyproject.toml:5") && e.contains("not a PEP 517 backend reference"), "{e}");
        let e = with("backend = \"wasiwheel\"\n").unwrap_err().to_string();
        assert!(e.contains("names wasiwheel itself"), "{e}");
        let e = with("backend = \"maturin\"\npackages = [\"x\"]\n").unwrap_err().to_string();
        assert!(e.contains("`packages` would not be read"), "{e}");
        let e = with("backend = 3\n").unwrap_err().to_string();
        assert!(e.contains("`tool.wasiwheel.backend` must be a string"), "{e}");
        // wasiwheel's own build refuses a project that another backend builds.
        let e = Pyproject::load(root).unwrap_err().to_string();
        assert!(e.contains("tool.wasiwheel.backend"), "{e}");
        std::fs::remove_file(root.join("pyproject.toml")).unwrap();
        assert_eq!(wrapped_backend(root).unwrap(), None);
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
            (
                "[project]\nname = \"x\"\nversion = \"1\"\n[tool.wasiwheel]\next-module = \
                []\n",
                "did you mean `tool.wasiwheel.ext-modules`?",
            ),
            (
                "[project]\nname = \"x\"\nversion = \"1\"\n[[tool.wasiwheel.ext-modules]]\nname = \
                \"a.b\"\n",
                "ext-modules[0].sources",
            ),
            (
                "[project]\nname = \"x\"\nversion = \"1\"\n[[tool.wasiwheel.ext-modules]]\nname = \
                \"a-b\"\nsources=[\"a.c\"]\n",
                "not a dotted Python module name",
            ),
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

    /// The keys of the Markdown table under `heading` in docs/configuration.md
    /// (its first column, without backticks).
    fn documented_keys(heading: &str) -> Vec<String> {
        let doc = include_str!("../../../docs/configuration.md");
        let section = &doc[doc.find(heading).unwrap_or_else(|| panic!("no {heading} in the docs"))..];
        section
            .lines()
            .skip_while(|l| !l.starts_with("| key"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| l.split('|').nth(1).unwrap_or("").trim().trim_matches('`').to_string())
            .collect()
    }

    #[test]
    fn docs_list_the_schema_keys() {
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let tool: Vec<String> = tool_keys()
            .into_iter()
            .flat_map(|k| {
                if k == "component" {
                    component_keys().into_iter().map(|c| format!("component.{c}")).collect()
                } else {
                    vec![k.to_string()]
                }
            })
            .collect();
        assert_eq!(sorted(documented_keys("## `[tool.wasiwheel]`")), sorted(tool));
        let ext: Vec<String> = ext_keys().into_iter().map(str::to_string).collect();
        assert_eq!(sorted(documented_keys("### `[[tool.wasiwheel.ext-modules]]`")), sorted(ext));
    }

    #[test]
    fn dynamic_version_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("src/p")).unwrap();
        std::fs::write(root.join("src/p/__init__.py"), "x = 1\n__version__ = '1.2.3'\n").unwrap();
        let text = "[project]\nname = \"p\"\ndynamic = [\"version\"]\n[tool.wasiwheel]\nversion-file = \
            \"src/p/__init__.py\"\n";
        let p = Pyproject::parse(root, &root.join("pyproject.toml"), text).unwrap();
        assert_eq!(p.project.version.to_string(), "1.2.3");
        let e =
            Pyproject::parse(root, &root.join("pyproject.toml"), "[project]\nname = \"p\"\ndynamic = [\"version\"]\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("tool.wasiwheel.version-file"), "{e}");
        std::fs::write(root.join("src/p/__init__.py"), "VERSION = 1\n").unwrap();
        let e = Pyproject::parse(root, &root.join("pyproject.toml"), text).unwrap_err().to_string();
        assert!(e.contains("__version__"), "{e}");
    }

    #[test]
    fn license_classifier_with_expression() {
        let e = parse(
            "[project]\nname = \"x\"\nversion = \"1\"\nlicense = \"MIT\"\nclassifiers = [\"License :: OSI \
            Approved :: MIT License\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("project.classifiers") && e.contains("PEP 639"), "{e}");
    }

    #[test]
    fn license_globs() {
        use super::globs::check_license_glob;
        assert!(check_license_glob("LICEN[CS]E*").is_ok());
        assert!(check_license_glob("licenses/**/*.txt").is_ok());
        assert!(check_license_glob("../LICENSE").is_err());
        assert!(check_license_glob("/LICENSE").is_err());
        assert!(check_license_glob("[!X]ICENSE").is_err());
        assert!(check_license_glob("MY LICENSE").is_err());
    }
}

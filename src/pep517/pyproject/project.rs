//! The `[project]` table (the "Declaring project metadata" specification,
//! PEP 621, with PEP 639 licenses and PEP 794 import names), one function per
//! field or group of fields.

use std::collections::BTreeMap;
use std::str::FromStr;

use camino::{Utf8Path, Utf8PathBuf};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, Requirement};
use toml_edit::{Item, Table};

use super::globs::{check_license_glob, glob_files};
use super::{Contact, Dependency, License, Project, Reader, Readme, ToolConfig, PROJECT_KEYS};
use crate::error::{Error, Result};
use crate::model::names::is_dotted_name;

/// The `[project]` table, validated field by field; every error names the
/// file, line and dotted key.
pub(super) fn parse_project(r: &Reader, root: &Utf8Path, pt: &Table, tool: &ToolConfig) -> Result<Project> {
    let dynamic = parse_dynamic(r, pt, tool)?;
    let (name, version) = parse_name_version(r, root, pt, tool, &dynamic)?;
    let description = parse_description(r, pt)?;
    let readme = parse_readme(r, root, pt)?;
    let requires_python = parse_requires_python(r, pt)?;
    let (dependencies, optional_dependencies) = parse_dependencies(r, pt)?;
    let license = parse_license(r, root, pt)?;
    let license_files = parse_license_files(r, root, pt)?;
    check_classifiers_and_import_names(r, pt, &license)?;
    let authors = pt.get("authors").map(|v| parse_contacts(r, v, "project.authors")).transpose()?.unwrap_or_default();
    let maintainers =
        pt.get("maintainers").map(|v| parse_contacts(r, v, "project.maintainers")).transpose()?.unwrap_or_default();
    let keywords = pt.get("keywords").map(|v| r.string_list(v, "project.keywords")).transpose()?.unwrap_or_default();
    let classifiers =
        pt.get("classifiers").map(|v| r.string_list(v, "project.classifiers")).transpose()?.unwrap_or_default();
    let urls = parse_urls(r, pt)?;
    let (scripts, gui_scripts, entry_points) = parse_entry_points(r, pt)?;
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
    })
}

/// `project.dynamic`: checked against the fields given statically; only
/// `version` (with `tool.wasiwheel.version-file`) can be computed.
fn parse_dynamic(r: &Reader, pt: &Table, tool: &ToolConfig) -> Result<Vec<String>> {
    r.check_keys(pt, "project", PROJECT_KEYS, pt.span())?;
    let dynamic = pt.get("dynamic").map(|d| r.string_list(d, "project.dynamic")).transpose()?.unwrap_or_default();
    for d in &dynamic {
        if d == "name" {
            return Err(r.err(
                pt.get("dynamic").and_then(|v| v.span()),
                "project.dynamic",
                "must not list `name` (the spec requires a static name)",
            ));
        }
        if !PROJECT_KEYS.contains(&d.as_str()) {
            return Err(r.err(
                pt.get("dynamic").and_then(|v| v.span()),
                "project.dynamic",
                format!("lists `{d}`, which is not a `[project]` field"),
            ));
        }
        if pt.contains_key(d) {
            return Err(r.err(
                pt.get(d).and_then(|v| v.span()),
                &format!("project.{d}"),
                "is given statically and also listed in `project.dynamic`: remove one of them",
            ));
        }
        if d == "version" && tool.version_file.is_some() {
            continue;
        }
        let hint = if d == "version" {
            ": set `tool.wasiwheel.version-file` to the file with `__version__ = \"…\"`, or give `project.version` \
                statically"
                .to_string()
        } else {
            format!(": give `project.{d}` statically")
        };
        return Err(r.err(
            pt.get("dynamic").and_then(|v| v.span()),
            "project.dynamic",
            format!("lists `{d}`, which wasiwheel cannot compute{hint}"),
        ));
    }

    Ok(dynamic)
}

/// `project.name` (PEP 508 names) and `project.version` (PEP 440), the
/// version read from `tool.wasiwheel.version-file` when it is dynamic.
fn parse_name_version(
    r: &Reader,
    root: &Utf8Path,
    pt: &Table,
    tool: &ToolConfig,
    dynamic: &[String],
) -> Result<(String, Version)> {
    let name_item = pt.get("name").ok_or_else(|| {
        Error::project(r.path, "`project.name` is missing: add `name = \"your-project\"` to `[project]`")
    })?;
    let name = r.string(name_item, "project.name")?;
    if crate::model::names::package_name(&name).is_err() {
        return Err(r.err(
            name_item.span(),
            "project.name",
            format!(
                "`{name}` is not a valid project name: use letters, \
            digits, `-`, `_` and `.`, starting and ending with a letter or digit"
            ),
        ));
    }

    let version = if dynamic.iter().any(|d| d == "version") {
        let file = tool.version_file.as_deref().expect("checked above");
        let v = version_from_file(r, root, file.as_str())?;
        Version::from_str(&v).map_err(|e| {
            Error::project(root.join(file), format!("`__version__ = \"{v}\"` is not a PEP 440 version: {e}"))
        })?
    } else {
        let version_item = pt.get("version").ok_or_else(|| {
            Error::project(
                r.path,
                "`project.version` is missing: add \
            `version = \"0.1.0\"` to `[project]` (or list it in `project.dynamic` with \
                `tool.wasiwheel.version-file`)",
            )
        })?;
        let version_str = r.string(version_item, "project.version")?;
        Version::from_str(&version_str).map_err(|e| {
            r.err(version_item.span(), "project.version", format!("`{version_str}` is not a PEP 440 version: {e}"))
        })?
    };

    Ok((name, version))
}

/// `project.description`: one line.
fn parse_description(r: &Reader, pt: &Table) -> Result<Option<String>> {
    let description = pt.get("description").map(|v| r.string(v, "project.description")).transpose()?;
    if let Some(d) = &description {
        if d.contains('\n') {
            return Err(r.err(
                pt.get("description").and_then(|v| v.span()),
                "project.description",
                "must be a single line (put longer text in `readme`)",
            ));
        }
    }

    Ok(description)
}

/// `project.readme`: a file (type from its extension) or a table with
/// `content-type` and one of `file` / `text`.
fn parse_readme(r: &Reader, root: &Utf8Path, pt: &Table) -> Result<Option<Readme>> {
    let readme = match pt.get("readme") {
        None => None,
        Some(item) => {
            if let Some(file) = item.as_str() {
                let ct = readme_type(r, file, item.span())?;
                Some(Readme {
                    text: read_project_file(r, root, file, "project.readme", item.span())?,
                    content_type: ct,
                    file: Some(file.into()),
                })
            } else if let Some(t) = item.as_table_like() {
                r.check_keys(t, "project.readme", &["file", "text", "content-type"], item.span())?;
                let ct_item = t.get("content-type").ok_or_else(|| {
                    r.err(item.span(), "project.readme.content-type", "is required when `readme` is a table")
                })?;
                let ct = r.string(ct_item, "project.readme.content-type")?;
                let base = ct.split(';').next().unwrap_or("").trim();
                if !["text/markdown", "text/x-rst", "text/plain"].contains(&base) {
                    return Err(r.err(
                        ct_item.span(),
                        "project.readme.content-type",
                        format!("`{ct}` is not supported: use text/markdown, text/x-rst or text/plain"),
                    ));
                }
                match (t.get("file"), t.get("text")) {
                    (Some(f), None) => {
                        let f = r.string(f, "project.readme.file")?;
                        Some(Readme {
                            text: read_project_file(r, root, &f, "project.readme.file", item.span())?,
                            content_type: ct,
                            file: Some(f.into()),
                        })
                    }
                    (None, Some(tx)) => {
                        Some(Readme { text: r.string(tx, "project.readme.text")?, content_type: ct, file: None })
                    }
                    _ => {
                        return Err(r.err(item.span(), "project.readme", "must have exactly one of `file` and `text`"))
                    }
                }
            } else {
                return Err(r.err(item.span(), "project.readme", "must be a file path or a table"));
            }
        }
    };

    Ok(readme)
}

/// `project.requires-python` (PEP 440 specifiers).
fn parse_requires_python(r: &Reader, pt: &Table) -> Result<Option<VersionSpecifiers>> {
    let requires_python = match pt.get("requires-python") {
        None => None,
        Some(item) => {
            let s = r.string(item, "project.requires-python")?;
            Some(VersionSpecifiers::from_str(&s).map_err(|e| {
                r.err(item.span(), "project.requires-python", format!("`{s}` is not a PEP 440 version specifier: {e}"))
            })?)
        }
    };

    Ok(requires_python)
}

/// `project.dependencies` and `project.optional-dependencies` (extras
/// normalised and checked for clashes, PEP 685).
/// `project.optional-dependencies`: extra → requirements.
type Extras = BTreeMap<ExtraName, Vec<Dependency>>;

fn parse_dependencies(r: &Reader, pt: &Table) -> Result<(Vec<Dependency>, Extras)> {
    let dependencies = pt
        .get("dependencies")
        .map(|d| parse_requirements(r, d, "project.dependencies"))
        .transpose()?
        .unwrap_or_default();
    let mut optional_dependencies = BTreeMap::new();
    if let Some(item) = pt.get("optional-dependencies") {
        let t = item
            .as_table_like()
            .ok_or_else(|| r.err(item.span(), "project.optional-dependencies", "must be a table of arrays"))?;
        for (extra, reqs) in t.iter() {
            let key = format!("project.optional-dependencies.{extra}");
            let name = ExtraName::from_str(extra)
                .map_err(|e| r.err(reqs.span(), &key, format!("has an invalid extra name: {e}")))?;
            if optional_dependencies.contains_key(&name) {
                return Err(r.err(
                    reqs.span(),
                    &key,
                    format!(
                        "is the extra `{name}` after normalisation (PEP 685), like \
                    another key of `project.optional-dependencies`: merge them"
                    ),
                ));
            }
            optional_dependencies.insert(name, parse_requirements(r, reqs, &key)?);
        }
    }

    Ok((dependencies, optional_dependencies))
}

/// `project.license`: an SPDX expression (PEP 639) or the deprecated table.
fn parse_license(r: &Reader, root: &Utf8Path, pt: &Table) -> Result<Option<License>> {
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
                        return Err(r.err(
                            item.span(),
                            "project.license",
                            format!("`{expr}` is not a valid SPDX license expression{hint}: {}", e.reason),
                        ));
                    }
                }
            } else if let Some(t) = item.as_table_like() {
                r.check_keys(t, "project.license", &["file", "text"], item.span())?;
                if pt.contains_key("license-files") {
                    return Err(r.err(
                        item.span(),
                        "project.license",
                        "is the deprecated table form, which cannot be \
                        combined with `license-files` (PEP 639): write an SPDX expression such as `license = \"MIT\"`",
                    ));
                }
                match (t.get("file"), t.get("text")) {
                    (Some(f), None) => {
                        let f = r.string(f, "project.license.file")?;
                        Some(License::Text(read_project_file(r, root, &f, "project.license.file", item.span())?))
                    }
                    (None, Some(tx)) => Some(License::Text(r.string(tx, "project.license.text")?)),
                    _ => {
                        return Err(r.err(item.span(), "project.license", "must have exactly one of `file` and `text`"))
                    }
                }
            } else {
                return Err(r.err(
                    item.span(),
                    "project.license",
                    "must be an SPDX expression string (or the deprecated table)",
                ));
            }
        }
    };

    Ok(license)
}

/// `project.license-files` (PEP 639 globs, each must match UTF-8 files),
/// or the PEP's default patterns.
fn parse_license_files(r: &Reader, root: &Utf8Path, pt: &Table) -> Result<Vec<Utf8PathBuf>> {
    let license_files = match pt.get("license-files") {
        Some(item) => {
            let pats = r.string_list(item, "project.license-files")?;
            let mut files = Vec::new();
            for p in &pats {
                check_license_glob(p).map_err(|e| r.err(item.span(), "project.license-files", e))?;
                let matched = glob_files(root, p).map_err(|e| r.err(item.span(), "project.license-files", e))?;
                if matched.is_empty() {
                    return Err(r.err(
                        item.span(),
                        "project.license-files",
                        format!("pattern `{p}` matches no file (PEP 639 requires each pattern to match)"),
                    ));
                }
                files.extend(matched);
            }
            files.sort();
            files.dedup();
            for f in &files {
                let data = std::fs::read(root.join(f)).map_err(|e| {
                    r.err(item.span(), "project.license-files", format!("matches `{f}`, which cannot be read ({e})"))
                })?;
                if std::str::from_utf8(&data).is_err() {
                    return Err(r.err(
                        item.span(),
                        "project.license-files",
                        format!("matches `{f}`, which is not UTF-8 text (PEP 639)"),
                    ));
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

    Ok(license_files)
}

/// PEP 639: no license classifiers beside an SPDX `license`; PEP 794
/// `import-names` / `import-namespaces`: dotted names (validated only: core
/// metadata 2.4 has no field for them).
fn check_classifiers_and_import_names(r: &Reader, pt: &Table, license: &Option<License>) -> Result<()> {
    if let (Some(License::Spdx(_)), Some(item)) = (&license, pt.get("classifiers")) {
        if let Ok(cs) = r.string_list(item, "project.classifiers") {
            if let Some(c) = cs.iter().find(|c| c.starts_with("License ::")) {
                return Err(r.err(
                    item.span(),
                    "project.classifiers",
                    format!(
                        "has `{c}`, but `project.license` is an \
                    SPDX expression: PEP 639 forbids license classifiers alongside it; remove the classifier"
                    ),
                ));
            }
        }
    }
    // PEP 794 import names: validated; core metadata 2.4 has no field for them.
    for key in ["import-names", "import-namespaces"] {
        if let Some(item) = pt.get(key) {
            for (i, n) in r.string_list(item, &format!("project.{key}"))?.iter().enumerate() {
                let name = n.split(';').next().unwrap_or("").trim();
                let ok = is_dotted_name(name);
                if !ok {
                    return Err(r.err(
                        item.span(),
                        &format!("project.{key}[{i}]"),
                        format!("`{n}` is not a dotted Python import name"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `project.urls`: labels of at most 32 characters, values that are URLs.
fn parse_urls(r: &Reader, pt: &Table) -> Result<Vec<(String, String)>> {
    let urls = pt.get("urls").map(|v| r.string_table(v, "project.urls")).transpose()?.unwrap_or_default();
    for (label, value) in &urls {
        let span = pt.get("urls").and_then(|u| u.get(label)).and_then(|v| v.span());
        if label.chars().count() > 32 {
            return Err(r.err(
                span,
                &format!("project.urls.{label}"),
                "has a label longer than 32 characters (core metadata's Project-URL limit)",
            ));
        }
        match url::Url::parse(value) {
            Ok(u) if u.cannot_be_a_base() && u.scheme() != "mailto" => {
                return Err(r.err(span, &format!("project.urls.{label}"), format!("`{value}` is not a URL")));
            }
            Ok(_) => {}
            Err(e) => {
                return Err(r.err(span, &format!("project.urls.{label}"), format!("`{value}` is not a URL ({e})")))
            }
        }
    }
    Ok(urls)
}

/// `project.scripts`, `project.gui-scripts` and `project.entry-points`.
#[allow(clippy::type_complexity)]
fn parse_entry_points(
    r: &Reader,
    pt: &Table,
) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>, BTreeMap<String, BTreeMap<String, String>>)> {
    let scripts: BTreeMap<_, _> = pt
        .get("scripts")
        .map(|v| r.string_table(v, "project.scripts"))
        .transpose()?
        .unwrap_or_default()
        .into_iter()
        .collect();
    let gui_scripts: BTreeMap<_, _> = pt
        .get("gui-scripts")
        .map(|v| r.string_table(v, "project.gui-scripts"))
        .transpose()?
        .unwrap_or_default()
        .into_iter()
        .collect();
    for (group, table) in [("project.scripts", &scripts), ("project.gui-scripts", &gui_scripts)] {
        let span = pt.get(group.trim_start_matches("project.")).and_then(|v| v.span());
        for (k, v) in table.iter() {
            check_entry_point(r, span.clone(), &format!("{group}.{k}"), k, v)?;
        }
    }
    let mut entry_points = BTreeMap::new();
    if let Some(item) = pt.get("entry-points") {
        let t = item
            .as_table_like()
            .ok_or_else(|| r.err(item.span(), "project.entry-points", "must be a table of tables"))?;
        for (group, g) in t.iter() {
            if group == "console_scripts" || group == "gui_scripts" {
                return Err(r.err(
                    g.span(),
                    &format!("project.entry-points.{group}"),
                    "is not allowed: use `project.scripts` / `project.gui-scripts`",
                ));
            }
            let key = format!("project.entry-points.{group}");
            let entries: BTreeMap<_, _> = r.string_table(g, &key)?.into_iter().collect();
            for (k, v) in &entries {
                check_entry_point(r, g.span(), &format!("{key}.{k}"), k, v)?;
            }
            entry_points.insert(group.to_string(), entries);
        }
    }

    Ok((scripts, gui_scripts, entry_points))
}

fn parse_contacts(r: &Reader, item: &Item, key: &str) -> Result<Vec<Contact>> {
    let arr = item
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| (v.span(), v.as_inline_table().map(|t| t as &dyn toml_edit::TableLike)))
                .collect::<Vec<_>>()
        })
        .or_else(|| {
            item.as_array_of_tables()
                .map(|a| a.iter().map(|t| (t.span(), Some(t as &dyn toml_edit::TableLike))).collect())
        })
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
                return Err(r.err(
                    t.get("email").and_then(|v| v.span()),
                    &format!("{k}.email"),
                    format!("`{e}` is not an email address like `name@example.org`"),
                ));
            }
        }
        if let Some(n) = &name {
            if n.contains(',') {
                return Err(r.err(
                    t.get("name").and_then(|v| v.span()),
                    &format!("{k}.name"),
                    "must not contain a comma (the spec forbids it: core metadata joins people with commas)",
                ));
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
        Err(r.err(
            span,
            "project.readme",
            format!("`{file}` has an unknown suffix: use .md, .rst or .txt, or a table with `content-type`"),
        ))
    }
}

fn read_project_file(
    r: &Reader,
    root: &Utf8Path,
    rel: &str,
    key: &str,
    span: Option<std::ops::Range<usize>>,
) -> Result<String> {
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
                let rest = rest
                    .strip_prefix(':')
                    .map(|r| r.split_once('=').map(|x| x.1).unwrap_or(""))
                    .or_else(|| rest.strip_prefix('='));
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
    Err(Error::project(
        root.join(rel),
        "has no line `__version__ = \"…\"`: add one, or give `project.version` statically",
    ))
}

/// Check an entry point (the "Entry points specification"): its name has no
/// `=`, does not start with `[` and has no surrounding whitespace; its object
/// reference is `module.path` or `module.path:attr.path`.
fn check_entry_point(
    r: &Reader,
    span: Option<std::ops::Range<usize>>,
    key: &str,
    name: &str,
    value: &str,
) -> Result<()> {
    if name.is_empty() || name.contains('=') || name.starts_with('[') || name.trim() != name {
        return Err(r.err(
            span,
            key,
            format!(
                "has the name `{name}`: entry point names must not contain `=`, start with \
            `[`, or start or end with whitespace"
            ),
        ));
    }
    let ident = is_dotted_name;
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

//! Core metadata 2.4 (the "Core metadata specifications"; PEP 566/643/639
//! fields): the `METADATA` file of a wheel and the `PKG-INFO` file of an sdist.

use crate::pep517::pyproject::{split_marker, Contact, Dependency, License, Project};

/// The metadata version wasiwheel writes.
pub const METADATA_VERSION: &str = "2.4";

fn push(out: &mut String, field: &str, value: &str) {
    // Multi-line values continue on lines indented by 8 spaces (RFC 822 folding
    // as the spec's email-header format requires).
    let mut lines = value.lines();
    out.push_str(field);
    out.push_str(": ");
    out.push_str(lines.next().unwrap_or(""));
    out.push('\n');
    for l in lines {
        out.push_str("        ");
        out.push_str(l);
        out.push('\n');
    }
}

/// A `Requires-Dist` value in the canonical form packaging writes:
/// `name[extras]specifiers; marker`, the marker with single spaces, double
/// quotes and the user's own variable names, `extra == "name"` appended (the
/// original marker parenthesised when it has an `or`).
pub fn requires_dist(d: &Dependency, extra: Option<&str>) -> String {
    let (head, marker_text) = split_marker(&d.text);
    // The name as written (packaging keeps it; it compares names normalised).
    let name: String =
        head.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
    let mut s = if name.is_empty() { d.requirement.name.to_string() } else { name };
    let mut extras: Vec<String> = d.requirement.extras.iter().map(|e| e.to_string()).collect();
    extras.sort();
    if !extras.is_empty() {
        s.push_str(&format!("[{}]", extras.join(",")));
    }
    match &d.requirement.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) => {
            let mut v: Vec<String> = specs.iter().map(|s| s.to_string().replace(' ', "")).collect();
            v.sort();
            s.push_str(&v.join(","));
        }
        Some(pep508_rs::VersionOrUrl::Url(u)) => s.push_str(&format!(" @ {u}")),
        None => {}
    }
    let marker = marker_text.filter(|m| !m.is_empty()).map(normalize_marker);
    let marker = match (marker, extra) {
        (Some(m), Some(e)) => {
            let needs_parens = m.split(' ').any(|t| t == "or");
            Some(if needs_parens { format!("({m}) and extra == \"{e}\"") } else { format!("{m} and extra == \"{e}\"") })
        }
        (Some(m), None) => Some(m),
        (None, Some(e)) => Some(format!("extra == \"{e}\"")),
        (None, None) => None,
    };
    if let Some(m) = marker {
        // A URL requirement needs whitespace before `;` (PEP 508).
        s.push_str(
            if d.requirement.version_or_url.as_ref().is_some_and(|v| matches!(v, pep508_rs::VersionOrUrl::Url(_))) {
                " ; "
            } else {
                "; "
            },
        );
        s.push_str(&m);
    }
    s
}

/// Re-emit a PEP 508 marker (already validated) with single spaces around
/// operators and `and`/`or`, no spaces inside parentheses, and double-quoted
/// strings (single quotes kept for a string that contains `"`).
pub fn normalize_marker(m: &str) -> String {
    let mut tokens: Vec<String> = Vec::new();
    let chars: Vec<char> = m.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..].iter().position(|&x| x == c).map(|p| i + 1 + p).unwrap_or(chars.len());
            let body: String = chars[i + 1..end.min(chars.len())].iter().collect();
            tokens.push(if body.contains('"') { format!("'{body}'") } else { format!("\"{body}\"") });
            i = end + 1;
        } else if c == '(' || c == ')' {
            tokens.push(c.to_string());
            i += 1;
        } else if "<>=!~".contains(c) {
            let start = i;
            while i < chars.len() && "<>=!~".contains(chars[i]) {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"()<>=!~'\"".contains(chars[i]) {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        }
    }
    let mut out = String::new();
    for (n, t) in tokens.iter().enumerate() {
        if n > 0 && t != ")" && tokens[n - 1] != "(" {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// `Author`/`Author-email` (or the maintainer pair) from contacts: names
/// without an email go to the first, `Name <email>` / `email` to the second.
fn contacts(out: &mut String, people: &[Contact], name_field: &str, email_field: &str) {
    let names: Vec<&str> = people.iter().filter(|c| c.email.is_none()).filter_map(|c| c.name.as_deref()).collect();
    let emails: Vec<String> = people
        .iter()
        .filter_map(|c| match (&c.name, &c.email) {
            (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
            (None, Some(e)) => Some(e.clone()),
            _ => None,
        })
        .collect();
    if !names.is_empty() {
        push(out, name_field, &names.join(", "));
    }
    if !emails.is_empty() {
        push(out, email_field, &emails.join(", "));
    }
}

/// Render core metadata for `project`.
///
/// `dynamic` lists the fields to declare `Dynamic` (PEP 643; for an sdist's
/// `PKG-INFO`, the fields a wheel may compute differently). Output: the file's
/// text, headers then a blank line then the readme as the message body.
pub fn render(project: &Project, dynamic: &[&str]) -> String {
    let mut out = String::new();
    push(&mut out, "Metadata-Version", METADATA_VERSION);
    push(&mut out, "Name", &project.name);
    push(&mut out, "Version", &project.version.to_string());
    for d in dynamic {
        push(&mut out, "Dynamic", d);
    }
    if let Some(d) = &project.description {
        push(&mut out, "Summary", d);
    }
    if !project.keywords.is_empty() {
        push(&mut out, "Keywords", &project.keywords.join(","));
    }
    contacts(&mut out, &project.authors, "Author", "Author-email");
    contacts(&mut out, &project.maintainers, "Maintainer", "Maintainer-email");
    match &project.license {
        Some(License::Spdx(expr)) => push(&mut out, "License-Expression", expr),
        Some(License::Text(text)) => push(&mut out, "License", text),
        None => {}
    }
    for f in &project.license_files {
        push(&mut out, "License-File", f.as_str());
    }
    for c in &project.classifiers {
        push(&mut out, "Classifier", c);
    }
    for (label, url) in &project.urls {
        push(&mut out, "Project-URL", &format!("{label}, {url}"));
    }
    if let Some(rp) = &project.requires_python {
        push(&mut out, "Requires-Python", &rp.to_string());
    }
    for d in &project.dependencies {
        push(&mut out, "Requires-Dist", &requires_dist(d, None));
    }
    for (extra, reqs) in &project.optional_dependencies {
        push(&mut out, "Provides-Extra", extra.as_ref());
        for d in reqs {
            push(&mut out, "Requires-Dist", &requires_dist(d, Some(extra.as_ref())));
        }
    }
    if let Some(readme) = &project.readme {
        push(&mut out, "Description-Content-Type", &readme.content_type);
        out.push('\n');
        out.push_str(&readme.text);
        if !readme.text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// The `entry_points.txt` of a wheel (the "Entry points specification"), or
/// `None` when the project declares none.
pub fn entry_points_txt(project: &Project) -> Option<String> {
    let mut groups: Vec<(&str, Vec<(&String, &String)>)> = Vec::new();
    if !project.scripts.is_empty() {
        groups.push(("console_scripts", project.scripts.iter().collect()));
    }
    if !project.gui_scripts.is_empty() {
        groups.push(("gui_scripts", project.gui_scripts.iter().collect()));
    }
    for (g, e) in &project.entry_points {
        groups.push((g.as_str(), e.iter().collect()));
    }
    if groups.is_empty() {
        return None;
    }
    let mut out = String::new();
    for (g, entries) in groups {
        out.push_str(&format!("[{g}]\n"));
        for (k, v) in entries {
            out.push_str(&format!("{k} = {v}\n"));
        }
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_normalised() {
        assert_eq!(normalize_marker("python_version>'3.8'"), "python_version > \"3.8\"");
        assert_eq!(
            normalize_marker("( os_name=='nt'  or sys_platform == \"win32\")and platform_release not in '1 2'"),
            "(os_name == \"nt\" or sys_platform == \"win32\") and platform_release not in \"1 2\""
        );
    }
    use crate::pep517::pyproject::Pyproject;
    use camino::Utf8PathBuf;

    #[test]
    fn renders_fields() {
        let root = Utf8PathBuf::from("/x");
        let p = Pyproject::parse(
            &root,
            &root.join("pyproject.toml"),
            r#"
[project]
name = "demo"
version = "1.0.0"
description = "A demo"
license = "MIT"
authors = [{ name = "Ann" }, { name = "Bob", email = "bob@example.org" }]
dependencies = ["attrs >= 22"]
optional-dependencies = { test = ["pytest; python_version >= '3.9'"] }
scripts = { demo = "demo.cli:main" }
"#,
        )
        .unwrap();
        let m = render(&p.project, &[]);
        assert!(m.starts_with("Metadata-Version: 2.4\nName: demo\nVersion: 1.0.0\n"), "{m}");
        assert!(m.contains("Author: Ann\n"));
        assert!(m.contains("Author-email: Bob <bob@example.org>\n"));
        assert!(m.contains("License-Expression: MIT\n"));
        assert!(m.contains("Provides-Extra: test\n"));
        assert!(m.contains("Requires-Dist: attrs>=22\n"), "{m}");
        assert!(m.contains("Requires-Dist: pytest; python_version >= \"3.9\" and extra == \"test\"\n"), "{m}");
        let ep = entry_points_txt(&p.project).unwrap();
        assert_eq!(ep, "[console_scripts]\ndemo = demo.cli:main\n\n");
    }
}

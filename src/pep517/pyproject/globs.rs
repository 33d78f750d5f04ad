//! Globs over the project tree: `license-files` (PEP 639 syntax) and the
//! sdist's `include` / `exclude`.

use camino::{Utf8Path, Utf8PathBuf};

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

/// Check a PEP 639 `license-files` pattern: only alphanumerics, `_`, `-`,
/// `.`, `/`, `*`, `?` and `[...]` classes of those characters; no `..`, no
/// leading `/`. Returns why it is invalid.
pub fn check_license_glob(p: &str) -> std::result::Result<(), String> {
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
                        return Err(format!(
                            "pattern `{p}` has `{d}` in a `[...]` class: PEP 639 classes hold only \
                            letters, digits, `_`, `-` and `.`"
                        ));
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

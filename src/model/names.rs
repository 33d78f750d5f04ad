//! Names: Python's dotted module names and distribution (project) names.
//!
//! Distribution names are validated and normalised by `pep508_rs`'s
//! `PackageName` (PEP 508 "Names", PEP 503 normalisation); this module only
//! adds the file-name form and the check of dotted module names.

use pep508_rs::PackageName;

/// True if `s` is a dotted Python name such as `pkg.sub._core`: one or more
/// `.`-separated parts, each non-empty, of letters, digits and `_`, not
/// starting with a digit (identifiers as the entry points specification and
/// PEP 794 use them). Non-ASCII letters are accepted.
pub fn is_dotted_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|p| {
            !p.is_empty()
                && !p.starts_with(|c: char| c.is_ascii_digit())
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// True if `s` can name an extension module: a [`is_dotted_name`] in ASCII
/// (its init function `PyInit_<last part>` is a C symbol; PEP 489's punycode
/// names are not supported).
pub fn is_extension_name(s: &str) -> bool {
    s.is_ascii() && is_dotted_name(s)
}

/// The project name parsed and normalised (PEP 503: lowercase, runs of `-`,
/// `_`, `.` become `-`).
///
/// Errors: `pep508_rs`'s message when `name` is not a valid name (PEP 508).
pub fn package_name(name: &str) -> Result<PackageName, String> {
    if name.is_empty() {
        return Err("a name must not be empty".into());
    }
    PackageName::new(name.to_string()).map_err(|e| e.to_string())
}

/// The name as it appears in wheel and sdist file names and `.dist-info`
/// (binary distribution format "Escaping and Unicode", PEP 625): normalised,
/// with `_` for `-`. An invalid name (already refused when `pyproject.toml`
/// was read) is returned lowercased with `-` replaced.
pub fn filename_name(name: &str) -> String {
    match PackageName::new(name.to_string()) {
        Ok(n) => n.as_dist_info_name().into_owned(),
        Err(_) => name.to_ascii_lowercase().replace('-', "_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(package_name("Foo.Bar__baz").unwrap().to_string(), "foo-bar-baz");
        assert_eq!(filename_name("Foo.Bar-baz"), "foo_bar_baz");
        assert!(package_name("a").is_ok());
        assert!(package_name("a-").is_err());
        assert!(package_name("a b").is_err());
        assert!(package_name("").is_err());
        assert!(is_dotted_name("pkg._core") && is_dotted_name("π.x"));
        assert!(!is_dotted_name("pkg-x") && !is_dotted_name("1a") && !is_dotted_name("a..b") && !is_dotted_name(""));
        assert!(is_extension_name("pkg._core") && !is_extension_name("π.x"));
    }
}

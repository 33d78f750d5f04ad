//! The source languages of extension modules and the optimisation profiles
//! they are compiled with.

use camino::Utf8Path;

/// The source language of an extension module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// C (the default).
    C,
    /// C++ (`language = "c++"`, or any `.cpp`/`.cc`/`.cxx` source).
    Cxx,
}

/// Optimisation profile for extension modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// `-O2`, no debug info (the default).
    #[default]
    Release,
    /// `-O0 -g`.
    Debug,
}

/// True for file names clang compiles as C++ by default: `.cpp`, `.cc`,
/// `.cxx`, `.C`, `.c++`.
pub fn is_cxx_source(path: &Utf8Path) -> bool {
    matches!(path.extension(), Some("cpp" | "cc" | "cxx" | "C" | "c++"))
}

/// The language `path` is compiled as: C for `.c`, C++ for the
/// [`is_cxx_source`] extensions, else `default` (the module's language).
pub fn source_language(path: &Utf8Path, default: Language) -> Language {
    match path.extension() {
        Some("c") => Language::C,
        _ if is_cxx_source(path) => Language::Cxx,
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages() {
        assert!(is_cxx_source(Utf8Path::new("a/b.cpp")));
        assert!(!is_cxx_source(Utf8Path::new("a/b.c")));
        assert_eq!(source_language(Utf8Path::new("x.c"), Language::Cxx), Language::C);
        assert_eq!(source_language(Utf8Path::new("x.cc"), Language::C), Language::Cxx);
        assert_eq!(source_language(Utf8Path::new("x.inc"), Language::Cxx), Language::Cxx);
    }
}

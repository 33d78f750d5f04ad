//! The one error type of wasiwheel.
//!
//! Every variant renders as a short, user-facing sentence that names the file,
//! key or setting at fault and, where there is one, what would fix it. The PEP
//! 517 hooks turn it into `SystemExit(message)` (no traceback); the CLI prints
//! it after `error:` and exits with status 1.

use std::fmt;

/// A wasiwheel error: what went wrong, in words meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `pyproject.toml` (or another project file) is invalid; `path` is the file,
    /// `message` names the key (e.g. `project.name`) and the fix.
    #[error("{path}: {message}")]
    Project { path: String, message: String },
    /// A config setting (`-C key=value` or its `WASIWHEEL_*` environment form)
    /// is unknown or has a bad value.
    #[error("config setting `{key}`: {message}")]
    Config { key: String, message: String },
    /// A file-system operation failed; `context` says what was being done to which path.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A toolchain (WASI SDK, host compiler) or target CPython is missing,
    /// mismatched or broken.
    #[error("{0}")]
    Toolchain(String),
    /// Compiling or linking failed. The compiler's own diagnostics have already
    /// been written to stderr; the message names the command and the source.
    #[error("{0}")]
    Compile(String),
    /// Running WebAssembly failed (not a non-zero exit of the guest, which is a
    /// normal outcome).
    #[error("{0}")]
    Run(String),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error in a project file such as `pyproject.toml`.
    pub fn project(path: impl fmt::Display, message: impl Into<String>) -> Self {
        Error::Project {
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// An error in a config setting.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Attach "what was being done" to `std::io::Result`s.
pub trait IoContext<T> {
    /// Wrap an I/O error as [`Error::Io`] with the given context, e.g.
    /// `"cannot read /x/pyproject.toml"`.
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: context(),
            source,
        })
    }
}

/// The closest of `candidates` to `given` if it is close enough to be a likely
/// typo (Jaro-Winkler similarity ≥ 0.8), for "did you mean" hints.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_typos() {
        assert_eq!(did_you_mean("traget", ["target", "python"]), Some("target"));
        assert_eq!(did_you_mean("wasi_sdk", ["wasi-sdk", "jobs"]), Some("wasi-sdk"));
        assert_eq!(did_you_mean("zzz", ["target", "python"]), None);
    }
}

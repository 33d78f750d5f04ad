//! The one error type of wasiwheel.
//!
//! Every variant renders as a short, user-facing sentence that names the file,
//! key or setting at fault and, where there is one, what would fix it. The PEP
//! 517 hooks turn it into `SystemExit(message)` (no traceback); the CLI prints
//! it after `error:` and exits with status 1.

use std::fmt;

use camino::Utf8PathBuf;

/// A wasiwheel error: what went wrong, in words meant for the user.
///
/// The failures users meet most have their own variants, so that callers and
/// tests can tell them apart; rarer ones carry a sentence.
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
    /// No installed WASI SDK fits: none at all, or none of major `want`.
    #[error("{}", sdk_not_installed(*.want))]
    SdkNotInstalled {
        /// The SDK major that was asked for, if one was.
        want: Option<u32>,
    },
    /// The ABI rule: extensions must be built (and interpreters relinked) with
    /// the SDK major that built the target CPython.
    #[error(
        "the WASI SDK is {sdk} but the target CPython {python} at {prefix} was built with WASI SDK {built}: \
         extensions must be built with the same SDK major because wasi-libc has no ABI stability across SDK \
         majors. Use WASI SDK {built} (`wasiwheel sdk install {built}`, or {choose}), or {allow} to go ahead anyway"
    )]
    SdkMismatch {
        /// The SDK that would be used (its identity, as displayed).
        sdk: String,
        /// The target CPython's full version.
        python: String,
        /// Its install prefix.
        prefix: Utf8PathBuf,
        /// The SDK major that built it.
        built: u32,
        /// How to choose another SDK in this command (`-C wasi-sdk=DIR`, `--wasi-sdk DIR`).
        choose: &'static str,
        /// How to override the rule in this command (`pass -C allow-sdk-mismatch=true`, …).
        allow: &'static str,
    },
    /// Which SDK built the target CPython cannot be told, so the ABI rule cannot be checked.
    #[error(
        "cannot tell which WASI SDK built the target CPython at {prefix}: it has no wasiwheel-python.json and its \
         python.wasm names no known SDK. {allow} to use {sdk} anyway"
    )]
    SdkUnknown {
        /// The target CPython's prefix.
        prefix: Utf8PathBuf,
        /// The SDK that would be used.
        sdk: String,
        /// How to override (`Pass -C allow-sdk-mismatch=true`, …).
        allow: &'static str,
    },
    /// No target CPython of the wanted version is installed for the target.
    #[error(
        "no target CPython {version} for {target} is installed{}: run `wasiwheel setup --python {version}` (it \
         provisions the pinned one), or `wasiwheel python install {version} --source Python-{version}.X.tar.xz`, or \
         give `-C python-prefix=DIR`",
        if *provisioning_off { " (and provisioning is off: WASIWHEEL_NO_PROVISION or --offline)" } else { "" }
    )]
    PythonNotInstalled {
        /// The version asked for (or the default).
        version: String,
        /// The WASI target.
        target: String,
        /// Whether provisioning on first use was off (`--offline`, `WASIWHEEL_NO_PROVISION`).
        provisioning_off: bool,
    },
    /// A compile-only target CPython (headers, no interpreter) was asked to run.
    #[error(
        "the CPython {python} at {prefix} is compile-only (headers without an interpreter): it cannot {action}; \
         install a runnable one with `wasiwheel python install`"
    )]
    CompileOnly {
        /// Its full version.
        python: String,
        /// Its prefix.
        prefix: Utf8PathBuf,
        /// What was asked of it (`run`, `be relinked`, `make a component`).
        action: &'static str,
    },
    /// A download failed or its content was not what was pinned.
    #[error("{reason}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong, as a sentence that names the URL.
        reason: String,
    },
    /// Compiling a source failed; `diagnostics` is the compiler's own output
    /// (file, line, message), `hint` a WASI-specific explanation where one applies.
    #[error("compiling {source_file} failed ({status}):\n{diagnostics}{hint}\ncommand: {command}")]
    CompileFailed {
        /// The source file.
        source_file: Utf8PathBuf,
        /// The compiler's exit status.
        status: String,
        /// The compiler's diagnostics.
        diagnostics: String,
        /// A hint (starting with a newline) or empty.
        hint: String,
        /// The compiler command line.
        command: String,
    },
    /// A link, archive or other tool step failed; `output` is the tool's own.
    #[error("{what} failed ({status}):\n{output}\ncommand: {command}")]
    ToolFailed {
        /// What was being done (`linking extension module `pkg._core``).
        what: String,
        /// The tool's exit status.
        status: String,
        /// The tool's output.
        output: String,
        /// The command line.
        command: String,
    },
    /// Two providers of the same dotted extension module in one static link
    /// (`wasiwheel run`, a component): an interpreter's import table can hold
    /// only one module of a name.
    #[error(
        "the extension module `{module}` is provided twice, by {first} and by {second}: a statically linked \
         interpreter can hold only one module of a name; leave one of them out"
    )]
    ModuleClash {
        /// The dotted module name.
        module: String,
        /// The first provider (a wheel, an installed distribution or the project).
        first: String,
        /// The second provider.
        second: String,
    },
    /// Another toolchain or target-CPython problem (a tool that cannot be run,
    /// a damaged prefix), already phrased for the user.
    #[error("{0}")]
    Toolchain(String),
    /// Running WebAssembly failed (not a non-zero exit of the guest, which is a
    /// normal outcome).
    #[error("{0}")]
    Run(String),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

fn sdk_not_installed(want: Option<u32>) -> String {
    match want {
        Some(m) => format!(
            "WASI SDK {m} is not installed (the target CPython needs it): run `wasiwheel setup` or `wasiwheel sdk \
             install {m}` (or `wasiwheel sdk install --from-debian {m}` where Debian has its equivalent), or point \
             `-C wasi-sdk=DIR` / WASI_SDK_PATH at an SDK"
        ),
        None => "no WASI SDK is installed: run `wasiwheel sdk install --from-debian 25` (or `wasiwheel sdk install \
                 24`), or point `-C wasi-sdk=DIR` / WASI_SDK_PATH at an SDK"
            .to_string(),
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error in a project file such as `pyproject.toml`.
    pub fn project(path: impl fmt::Display, message: impl Into<String>) -> Self {
        Error::Project { path: path.to_string(), message: message.into() }
    }

    /// An error in a config setting.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config { key: key.into(), message: message.into() }
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
        self.map_err(|source| Error::Io { context: context(), source })
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

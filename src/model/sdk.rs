//! The identity of a WASI SDK: its wasi-libc commit and LLVM version, as the
//! `VERSION` file of an official wasi-sdk release records them, mapped to the
//! official SDK major they are (or are equivalent to).

use serde::{Deserialize, Serialize};

/// wasi-libc commits (12 hex digits) of official wasi-sdk releases → SDK major.
pub const WASI_LIBC_COMMITS: &[(&str, u32)] =
    &[("c5264e2bbe53", 21), ("b9ef79d7dbd4", 24), ("574b88da4815", 25), ("ec0effd769df", 30), ("161b3195fc25", 33)];

/// The wasi-libc commit of official SDK `major`, if wasiwheel knows it.
pub fn wasi_libc_of(major: u32) -> Option<&'static str> {
    WASI_LIBC_COMMITS.iter().find(|(_, m)| *m == major).map(|(c, _)| *c)
}

/// The SDK major whose wasi-libc is `commit` (a prefix of at least 7 hex digits).
pub fn major_for_wasi_libc(commit: &str) -> Option<u32> {
    if commit.len() < 7 {
        return None;
    }
    WASI_LIBC_COMMITS.iter().find(|(c, _)| c.starts_with(commit) || commit.starts_with(c)).map(|(_, m)| *m)
}

/// What identifies a WASI SDK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdkIdentity {
    /// The official SDK major it is (or is equivalent to), e.g. 25.
    pub major: u32,
    /// The version line of `VERSION`, e.g. `25.0`.
    pub version: String,
    /// wasi-libc commit (short hash), if recorded.
    pub wasi_libc: Option<String>,
    /// LLVM version (`19.1.5`) if recorded.
    pub llvm_version: Option<String>,
    /// Where it came from: `official`, or `debian: <packages>`.
    pub origin: String,
}

impl std::fmt::Display for SdkIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WASI SDK {} (", self.major)?;
        if let Some(c) = &self.wasi_libc {
            write!(f, "wasi-libc {c}, ")?;
        }
        if let Some(l) = &self.llvm_version {
            write!(f, "LLVM {l}, ")?;
        }
        write!(f, "{})", self.origin)
    }
}

/// Parse the text of an SDK's `VERSION` file.
///
/// Errors: a message when the first line is not a version like `25.0` and no
/// known wasi-libc commit gives the major.
pub fn parse_version_file(text: &str) -> std::result::Result<SdkIdentity, String> {
    let mut lines = text.lines();
    let version = lines.next().unwrap_or("").trim().to_string();
    let mut wasi_libc = None;
    let mut llvm_version = None;
    let mut origin = "official".to_string();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim().to_string();
            match k.trim() {
                "wasi-libc" => wasi_libc = Some(v),
                "llvm-version" => llvm_version = Some(v),
                "origin" => origin = v,
                _ => {}
            }
        }
    }
    let from_version = version.split(['.', '+', '-']).next().and_then(|m| m.parse::<u32>().ok());
    let from_libc = wasi_libc.as_deref().and_then(major_for_wasi_libc);
    let major = from_libc
        .or(from_version)
        .ok_or_else(|| format!("cannot tell the SDK major from a VERSION file starting `{version}`"))?;
    Ok(SdkIdentity { major, version, wasi_libc, llvm_version, origin })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_version_file() {
        let id = parse_version_file(
            "25.0\nwasi-libc: 574b88da4815\nllvm: ab4b5a2db582\nllvm-version: 19.1.5\nconfig: 1234\n",
        )
        .unwrap();
        assert_eq!(id.major, 25);
        assert_eq!(id.llvm_version.as_deref(), Some("19.1.5"));
        assert_eq!(id.origin, "official");
    }

    #[test]
    fn debian_version_file_and_commit_table() {
        let id = parse_version_file("25.0+debian\nwasi-libc: 574b88da4815\norigin: debian: x\n").unwrap();
        assert_eq!(id.major, 25);
        assert_eq!(id.origin, "debian: x");
        assert_eq!(major_for_wasi_libc("b9ef79d"), Some(24));
        assert_eq!(major_for_wasi_libc("161b3195fc25"), Some(33));
        assert_eq!(major_for_wasi_libc("abc"), None);
        assert!(parse_version_file("nonsense\n").is_err());
    }
}

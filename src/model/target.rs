//! The WASI target model: target triples, CPython versions and the PEP 11 /
//! PEP 816 pins from CPython version to WASI SDK major.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A CPython feature version such as 3.13.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PyVersion {
    /// Major version (3).
    pub major: u8,
    /// Minor version (e.g. 13).
    pub minor: u8,
}

impl fmt::Display for PyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for PyVersion {
    type Err = String;

    /// Parse `3.13` (or `3.13.5`, keeping 3.13). Errors: a message naming the value.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.trim().split('.');
        let bad = || format!("`{s}` is not a Python version: write it like `3.13`");
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if major != 3 {
            return Err(bad());
        }
        Ok(PyVersion { major, minor })
    }
}

/// A WASI target: the preview1 or preview2 system interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WasiTarget {
    /// `wasm32-wasip1` (also spelled `wasm32-wasi`): WASI 0.1 / preview1.
    #[serde(rename = "wasm32-wasip1")]
    P1,
    /// `wasm32-wasip2`: WASI 0.2 / preview2 (components).
    #[serde(rename = "wasm32-wasip2")]
    P2,
}

impl WasiTarget {
    /// Every accepted spelling of the `target` setting, for help and errors.
    pub const SPELLINGS: [&'static str; 3] = ["wasm32-wasi", "wasm32-wasip1", "wasm32-wasip2"];

    /// Parse a target triple: `wasm32-wasi` and `wasm32-wasip1` are preview1,
    /// `wasm32-wasip2` is preview2; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "wasm32-wasi" | "wasm32-wasip1" | "wasm32-unknown-wasi" | "wasm32-unknown-wasip1" => Some(WasiTarget::P1),
            "wasm32-wasip2" | "wasm32-unknown-wasip2" => Some(WasiTarget::P2),
            _ => None,
        }
    }

    /// The clang target triple (`wasm32-wasip1` / `wasm32-wasip2`).
    pub fn triple(self) -> &'static str {
        match self {
            WasiTarget::P1 => "wasm32-wasip1",
            WasiTarget::P2 => "wasm32-wasip2",
        }
    }

    /// The WASI version in a platform tag: `0_1` or `0_2`.
    pub fn wasi_version_tag(self) -> &'static str {
        match self {
            WasiTarget::P1 => "0_1",
            WasiTarget::P2 => "0_2",
        }
    }

    /// The wasi-libc sysroot subdirectory for this target. Official SDKs and
    /// Debian's wasi-libc both have `wasm32-wasi` (= preview1) and `wasm32-wasip2`.
    pub fn sysroot_subdir(self) -> &'static str {
        match self {
            WasiTarget::P1 => "wasm32-wasi",
            WasiTarget::P2 => "wasm32-wasip2",
        }
    }
}

impl fmt::Display for WasiTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.triple())
    }
}

/// The WASI SDK major that PEP 11 (and PEP 816 for 3.15) pins for a CPython
/// version: 3.11, 3.12 → 21; 3.13, 3.14 → 24; 3.15 → 33. `None` for versions
/// without a WASI tier.
pub fn pinned_sdk(python: PyVersion) -> Option<u32> {
    match (python.major, python.minor) {
        (3, 11) | (3, 12) => Some(21),
        (3, 13) | (3, 14) => Some(24),
        (3, 15) => Some(33),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_versions() {
        assert_eq!("3.13".parse::<PyVersion>().unwrap(), PyVersion { major: 3, minor: 13 });
        assert_eq!("3.11.8".parse::<PyVersion>().unwrap(), PyVersion { major: 3, minor: 11 });
        assert!("313".parse::<PyVersion>().is_err());
        assert!("2.7".parse::<PyVersion>().is_err());
    }

    #[test]
    fn parse_targets() {
        assert_eq!(WasiTarget::parse("wasm32-wasi"), Some(WasiTarget::P1));
        assert_eq!(WasiTarget::parse("wasm32-wasip1"), Some(WasiTarget::P1));
        assert_eq!(WasiTarget::parse("wasm32-wasip2"), Some(WasiTarget::P2));
        assert_eq!(WasiTarget::parse("wasm32-emscripten"), None);
    }

    #[test]
    fn pins() {
        let v = |minor| PyVersion { major: 3, minor };
        assert_eq!(pinned_sdk(v(11)), Some(21));
        assert_eq!(pinned_sdk(v(12)), Some(21));
        assert_eq!(pinned_sdk(v(13)), Some(24));
        assert_eq!(pinned_sdk(v(14)), Some(24));
        assert_eq!(pinned_sdk(v(15)), Some(33));
        assert_eq!(pinned_sdk(v(10)), None);
    }
}

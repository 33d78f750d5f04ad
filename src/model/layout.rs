//! What wasiwheel puts into wheels besides the standard files, and where
//! installers put wheel entries: the static-extension manifest of WASI
//! wheels, the place of a component in a wheel, and the install-scheme
//! mapping of the binary distribution format.

use serde::{Deserialize, Serialize};

use crate::model::sdk::SdkIdentity;
use crate::model::target::{PyVersion, WasiTarget};

/// Where the static archives of a WASI wheel's extension modules live inside
/// its `.dist-info` directory, with `manifest.json` beside them.
pub const STATIC_DIR: &str = "static-extensions";

/// The [`StaticManifest`] version wasiwheel writes: 2. In version 2 each
/// archive holds one object whose only global definition is the module's
/// unique init function (`PyInit_10markupsafe9_speedups` for
/// `markupsafe._speedups`; its other symbols are local), and `init` names it.
/// In version 1 the archive holds the module's objects as compiled and `init`
/// is the standard `PyInit_{leaf}`.
pub const STATIC_MANIFEST_VERSION: u32 = 2;

/// The manifest of a WASI wheel's static extension archives
/// (`{dist-info}/static-extensions/manifest.json`): what a static runtime
/// needs to link the extensions into CPython.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StaticManifest {
    /// Format version: 1 or 2 ([`STATIC_MANIFEST_VERSION`]).
    pub version: u32,
    /// The WASI target the archives are for.
    pub target: WasiTarget,
    /// The target CPython version.
    pub python: PyVersion,
    /// The SDK that compiled them.
    pub sdk: SdkIdentity,
    /// One entry per extension module.
    pub modules: Vec<StaticModuleEntry>,
}

/// One extension module in a [`StaticManifest`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StaticModuleEntry {
    /// Dotted module name.
    pub name: String,
    /// Its init function in the archive: in version 2 the unique name
    /// derived from the dotted name (`PyInit_3pkg5_core`), in version 1
    /// `PyInit__core`.
    pub init: String,
    /// The archive, relative to the `static-extensions/` directory.
    pub archive: String,
    /// Libraries it links (`-l`).
    pub libraries: Vec<String>,
    /// `c` or `c++`.
    pub language: String,
}

/// Where a wheel built with `artifact=component` carries its component:
/// `{name}-{version}.data/data/share/wasiwheel/components/{name}-{version}.wasm`
/// (installed into `<prefix>/share/wasiwheel/components/`).
pub fn component_path_in_wheel(stem: &str) -> String {
    format!("{stem}.data/data/share/wasiwheel/components/{stem}.wasm")
}

/// Where a wheel entry goes relative to the library directory (purelib or
/// platlib) on installation (binary distribution format, "Installing a
/// wheel"): root entries as they are, `{dist}.data/purelib|platlib/…` without
/// that prefix; `None` for the other `.data` schemes (scripts, headers, data).
pub fn library_relative(entry: &str) -> Option<&str> {
    let (first, rest) = entry.split_once('/').unwrap_or((entry, ""));
    if !first.ends_with(".data") {
        return Some(entry);
    }
    match rest.split_once('/') {
        Some(("purelib" | "platlib", path)) => Some(path),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_paths() {
        assert_eq!(library_relative("pkg/mod.py"), Some("pkg/mod.py"));
        assert_eq!(library_relative("a-1.dist-info/METADATA"), Some("a-1.dist-info/METADATA"));
        assert_eq!(library_relative("a-1.data/platlib/pkg/x.so"), Some("pkg/x.so"));
        assert_eq!(library_relative("a-1.data/scripts/tool"), None);
        assert_eq!(library_relative("a-1.data/data/share/x"), None);
    }
}

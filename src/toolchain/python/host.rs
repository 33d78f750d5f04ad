//! The host interpreter, for native builds: asked about itself once.

use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::target::PyVersion;

/// What a native build needs to know of the host interpreter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostPython {
    /// The interpreter executable.
    pub executable: String,
    /// Its version.
    pub version: PyVersion,
    /// `sys.implementation.name` (`cpython`, `pypy`, …).
    pub implementation: String,
    /// `sys.abiflags` (`""` or `"t"`).
    pub abiflags: String,
    /// `sysconfig.get_config_var("EXT_SUFFIX")`.
    pub ext_suffix: String,
    /// `sysconfig.get_path("include")`.
    pub include: String,
    /// `sysconfig.get_path("platinclude")`.
    pub platinclude: String,
    /// `sysconfig.get_platform()`.
    pub platform: String,
    /// `sysconfig.get_config_var("CFLAGS")` (empty when unset).
    #[serde(default)]
    pub cflags: String,
}

const HOST_QUERY: &str = r#"
import json, sys, sysconfig
print(json.dumps({
    "executable": sys.executable,
    "version": {"major": sys.version_info[0], "minor": sys.version_info[1]},
    "implementation": sys.implementation.name,
    "abiflags": getattr(sys, "abiflags", ""),
    "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX") or ".so",
    "include": sysconfig.get_path("include"),
    "platinclude": sysconfig.get_path("platinclude"),
    "platform": sysconfig.get_platform(),
    "cflags": sysconfig.get_config_var("CFLAGS") or "",
}))
"#;

impl HostPython {
    /// Ask the interpreter `executable` about itself (runs it once).
    ///
    /// Errors: [`Error::Toolchain`] when it cannot be run or answers oddly.
    pub fn query(executable: &str) -> Result<HostPython> {
        let out = Command::new(executable)
            .args(["-I", "-c", HOST_QUERY])
            .output()
            .map_err(|e| Error::Toolchain(format!("cannot run the host Python `{executable}`: {e}")))?;
        if !out.status.success() {
            return Err(Error::Toolchain(format!(
                "the host Python `{executable}` failed to describe itself:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        serde_json::from_slice(&out.stdout)
            .map_err(|e| Error::Toolchain(format!("unexpected answer from the host Python `{executable}`: {e}")))
    }
}

//! Wheel tags (PEP 425 and the binary distribution format spec's compressed
//! tag sets): the python, abi and platform parts of a wheel's file name and of
//! its `WHEEL` file, including wasiwheel's WASI platform + SDK tag.
//!
//! The WASI scheme (explained in `docs/tags.md`):
//!
//! * `wasi_{W}_{w}_sdk_{N}_wasm32`: built for WASI version `W.w` (`0_1` is
//!   preview1 / `wasm32-wasip1`, `0_2` is preview2 / `wasm32-wasip2`) with WASI SDK
//!   major `N`. wasi-libc has no ABI stability across SDK majors, so `N` is part
//!   of the promise.
//! * `wasi_wasm32`: additionally, when `N` is the SDK that PEP 11 pins for the
//!   target CPython version, i.e. the wheel fits the "standard" WASI CPython.
//! * `wasi_0_0_0_wasm32` (what a WASI CPython's `sysconfig.get_platform()`
//!   reports today) only on request, through the `platform-tag` setting.

use std::fmt;

use crate::model::target::{pinned_sdk, PyVersion, WasiTarget};

/// A (possibly compressed) wheel tag set: `python-abi-platform`, each part a
/// `.`-joined list, as in `cp313-cp313-wasi_0_1_sdk_24_wasm32.wasi_wasm32`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelTag {
    /// Python tags, e.g. `["cp313"]` or `["py3"]`.
    pub python: Vec<String>,
    /// ABI tags, e.g. `["cp313"]`, `["abi3"]` or `["none"]`.
    pub abi: Vec<String>,
    /// Platform tags, e.g. `["linux_x86_64"]` or `["wasi_0_1_sdk_25_wasm32"]`.
    pub platform: Vec<String>,
}

impl fmt::Display for WheelTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.python.join("."), self.abi.join("."), self.platform.join("."))
    }
}

impl WheelTag {
    /// `py3-none-any`: a pure-Python wheel.
    pub fn pure() -> Self {
        WheelTag { python: vec!["py3".into()], abi: vec!["none".into()], platform: vec!["any".into()] }
    }

    /// Every single tag of the set, in order, for the `Tag:` lines of `WHEEL`
    /// (binary distribution format, "The .dist-info directory").
    pub fn expand(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.python {
            for a in &self.abi {
                for pl in &self.platform {
                    out.push(format!("{p}-{a}-{pl}"));
                }
            }
        }
        out
    }
}

/// The python and abi tags of a CPython extension wheel.
///
/// `version` is the target CPython's version, `abiflags` its `sys.abiflags`
/// (`""`, or `"t"` for free-threaded builds), `limited_api` the minimum version
/// of a `py-limited-api` build (PEP 384/PEP 425 `abi3`), if any.
pub fn cpython_tags(version: PyVersion, abiflags: &str, limited_api: Option<PyVersion>) -> (String, String) {
    match limited_api {
        Some(min) => (format!("cp{}{}", min.major, min.minor), "abi3".to_string()),
        None => {
            let v = format!("cp{}{}", version.major, version.minor);
            (v.clone(), format!("{v}{abiflags}"))
        }
    }
}

/// Normalise a `sysconfig.get_platform()` string to a platform tag
/// (PEP 425: `-` and `.` become `_`), e.g. `linux-x86_64` → `linux_x86_64`.
pub fn platform_tag_from_sysconfig(platform: &str) -> String {
    platform.replace(['-', '.'], "_")
}

/// The WASI platform tags for a wheel built for `target` with SDK major `sdk`
/// against CPython `python`: `wasi_{W}_{w}_sdk_{N}_wasm32`, then `wasi_wasm32`
/// when `sdk` is the PEP 11 pin for `python` (see the module docs).
pub fn wasi_platform_tags(target: WasiTarget, sdk: u32, python: PyVersion) -> Vec<String> {
    let mut tags = vec![format!("wasi_{}_sdk_{}_wasm32", target.wasi_version_tag(), sdk)];
    if pinned_sdk(python) == Some(sdk) {
        tags.push("wasi_wasm32".to_string());
    }
    tags
}

/// Check a user-given `platform-tag` value: one or more `.`-separated tags of
/// lowercase letters, digits and `_`. Returns the parts.
///
/// Errors: a message saying what is wrong, for the caller to attach to the key.
pub fn parse_platform_override(value: &str) -> Result<Vec<String>, String> {
    let parts: Vec<String> = value.split('.').map(str::to_string).collect();
    for p in &parts {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(format!(
                "`{value}` is not a platform tag: use lowercase letters, digits and `_` (e.g. `wasi_0_0_0_wasm32`), \
                    several joined by `.`"
            ));
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u8, minor: u8) -> PyVersion {
        PyVersion { major, minor }
    }

    #[test]
    fn wasi_tags_across_versions_and_sdks() {
        // The pins of PEP 11 / PEP 816.
        let pins = [(11, 21), (12, 21), (13, 24), (14, 24), (15, 33)];
        for (minor, pin) in pins {
            for sdk in [21, 24, 25, 30, 33] {
                for target in [WasiTarget::P1, WasiTarget::P2] {
                    let tags = wasi_platform_tags(target, sdk, v(3, minor));
                    let w = if target == WasiTarget::P1 { "0_1" } else { "0_2" };
                    assert_eq!(tags[0], format!("wasi_{w}_sdk_{sdk}_wasm32"));
                    assert_eq!(tags.len() == 2, sdk == pin, "3.{minor} sdk {sdk}");
                    if sdk == pin {
                        assert_eq!(tags[1], "wasi_wasm32");
                    }
                }
            }
        }
    }

    #[test]
    fn issue_example_tag() {
        let (py, abi) = cpython_tags(v(3, 13), "", None);
        let tag =
            WheelTag { python: vec![py], abi: vec![abi], platform: wasi_platform_tags(WasiTarget::P1, 25, v(3, 13)) };
        assert_eq!(tag.to_string(), "cp313-cp313-wasi_0_1_sdk_25_wasm32");
        let pinned = WheelTag { platform: wasi_platform_tags(WasiTarget::P1, 24, v(3, 13)), ..tag };
        assert_eq!(pinned.to_string(), "cp313-cp313-wasi_0_1_sdk_24_wasm32.wasi_wasm32");
        assert_eq!(pinned.expand(), vec!["cp313-cp313-wasi_0_1_sdk_24_wasm32", "cp313-cp313-wasi_wasm32"]);
    }

    #[test]
    fn abi3_and_free_threaded() {
        assert_eq!(cpython_tags(v(3, 13), "", Some(v(3, 9))), ("cp39".into(), "abi3".into()));
        assert_eq!(cpython_tags(v(3, 14), "t", None), ("cp314".into(), "cp314t".into()));
    }

    #[test]
    fn platform_helpers() {
        assert_eq!(platform_tag_from_sysconfig("linux-x86_64"), "linux_x86_64");
        assert_eq!(platform_tag_from_sysconfig("wasi-0.0.0-wasm32"), "wasi_0_0_0_wasm32");
        assert_eq!(parse_platform_override("wasi_0_0_0_wasm32").unwrap(), vec!["wasi_0_0_0_wasm32"]);
        assert!(parse_platform_override("Wasi-0").is_err());
        assert!(parse_platform_override("a..b").is_err());
    }

    #[test]
    fn pure_tag() {
        assert_eq!(WheelTag::pure().to_string(), "py3-none-any");
    }
}

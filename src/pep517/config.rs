//! Config settings: `-C key=value` from the frontend (PEP 517 `config_settings`),
//! each with a `WASIWHEEL_KEY` environment equivalent.
//!
//! pip ≥ 23.1 applies `-C` only to the top-level project, so the environment
//! form is how a setting reaches the builds of a whole dependency tree. A `-C`
//! value wins over the environment. Unknown keys are refused with the likely
//! intended key.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;

use crate::error::{did_you_mean, Error, Result};
use crate::model::lang::Profile;
use crate::model::target::{PyVersion, WasiTarget};

/// Every config setting: key, environment variable, one-line help.
pub const KEYS: &[(&str, &str, &str)] = &[
    ("target", "WASIWHEEL_TARGET", "wasm32-wasi (= wasm32-wasip1) or wasm32-wasip2; absent = the host"),
    ("python", "WASIWHEEL_PYTHON", "target CPython version from the cache, e.g. 3.13 (WASI builds)"),
    ("python-prefix", "WASIWHEEL_PYTHON_PREFIX", "install prefix of a WASI CPython to build against"),
    ("wasi-sdk", "WASIWHEEL_WASI_SDK", "path to a WASI SDK (also WASI_SDK_PATH)"),
    ("artifact", "WASIWHEEL_ARTIFACT", "wheel (default) or component"),
    (
        "component-wheels",
        "WASIWHEEL_COMPONENT_WHEELS",
        "directory of WASI wheels whose pure-Python files and extension modules go into the component too",
    ),
    (
        "component-preinit",
        "WASIWHEEL_COMPONENT_PREINIT",
        "false: do not pre-initialize the component with wizer (default true)",
    ),
    (
        "component-hash-seed",
        "WASIWHEEL_COMPONENT_HASH_SEED",
        "secret value the component's string-hash secret is derived from (default: a digest of its inputs)",
    ),
    (
        "component-wit-path",
        "WASIWHEEL_COMPONENT_WIT_PATH",
        "a .wit file or a directory of them (with deps/): the component implements a world of it",
    ),
    (
        "component-world",
        "WASIWHEEL_COMPONENT_WORLD",
        "the world the component implements, e.g. wasi:http/proxy@0.2.0 (default: the package's only world)",
    ),
    (
        "component-app",
        "WASIWHEEL_COMPONENT_APP",
        "the module whose classes implement the world's exports (componentize-py's APP), e.g. app",
    ),
    (
        "component-stub-wasi",
        "WASIWHEEL_COMPONENT_STUB_WASI",
        "true: the component imports no WASI (its WASI calls fail with ENOSYS), as componentize-py's --stub-wasi",
    ),
    ("platform-tag", "WASIWHEEL_PLATFORM_TAG", "override the computed platform tag, e.g. wasi_0_0_0_wasm32"),
    (
        "allow-sdk-mismatch",
        "WASIWHEEL_ALLOW_SDK_MISMATCH",
        "true: build even if the SDK major differs from the target CPython's",
    ),
    (
        "build-dir",
        "WASIWHEEL_BUILD_DIR",
        "where objects are kept between builds (default: build/wasiwheel in the project)",
    ),
    ("jobs", "WASIWHEEL_JOBS", "parallel compiler processes (default: number of CPUs)"),
    ("verbose", "WASIWHEEL_VERBOSE", "true: print every compiler and linker command"),
    ("profile", "WASIWHEEL_PROFILE", "release (default, -O2) or debug (-O0 -g)"),
    (
        "fpcast-repair",
        "WASIWHEEL_FPCAST_REPAIR",
        "false: do not adapt functions cast to function-pointer types with more parameters (default true)",
    ),
    (
        "cxx-exceptions",
        "WASIWHEEL_CXX_EXCEPTIONS",
        "false: compile C++ for WASI with -fno-exceptions (default true: wasm exception handling, exnref)",
    ),
];

/// What the build produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Artifact {
    /// A wheel (the default).
    #[default]
    Wheel,
    /// A wheel plus a WebAssembly component of the project.
    Component,
}

/// The resolved config settings of one build.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The WASI target, or `None` for a native build for the host.
    pub target: Option<WasiTarget>,
    /// Target CPython version to take from the cache.
    pub python: Option<PyVersion>,
    /// Target CPython install prefix.
    pub python_prefix: Option<Utf8PathBuf>,
    /// Explicit WASI SDK directory.
    pub wasi_sdk: Option<Utf8PathBuf>,
    /// What to produce.
    pub artifact: Artifact,
    /// Wheels whose pure-Python files and extension modules also go into a component.
    pub component_wheels: Option<Utf8PathBuf>,
    /// Pre-initialize components with wizer.
    pub component_preinit: bool,
    /// The secret value a pre-initialized component's string-hash secret is
    /// derived from (`None`: a digest of the component's inputs).
    pub component_hash_seed: Option<String>,
    /// `component-wit-path`: the WIT the component's world is read from.
    pub component_wit_path: Option<Utf8PathBuf>,
    /// `component-world`: the world's name.
    pub component_world: Option<String>,
    /// `component-app`: the module implementing the world's exports.
    pub component_app: Option<String>,
    /// `component-stub-wasi`: import no WASI.
    pub component_stub_wasi: bool,
    /// Platform tag override (already split on `.`).
    pub platform_tag: Option<Vec<String>>,
    /// Build even when the SDK major differs from the target CPython's.
    pub allow_sdk_mismatch: bool,
    /// Object directory override.
    pub build_dir: Option<Utf8PathBuf>,
    /// Parallel compiler processes.
    pub jobs: Option<usize>,
    /// Print every command.
    pub verbose: bool,
    /// Optimisation profile.
    pub profile: Profile,
    /// Repair function-pointer casts that trap on WebAssembly (WASI builds; default true).
    pub fpcast_repair: bool,
    /// C++ with WebAssembly exception handling for WASI builds (default
    /// true); false compiles it with `-fno-exceptions`.
    pub cxx_exceptions: bool,
}

/// Where a setting's value came from, for error messages.
fn origin(key: &str, env: Option<&str>) -> String {
    match env {
        Some(var) => format!("{key}` (from the environment variable `{var}"),
        None => key.to_string(),
    }
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(Error::config(key, format!("`{value}` is not a boolean: use true or false"))),
    }
}

impl Settings {
    /// Resolve settings from the frontend's `config_settings` (each key with one
    /// or more values, as pip passes repeated `-C` options) and the environment
    /// (`env` looks a variable up; pass `|k| std::env::var(k).ok()`).
    ///
    /// Errors: [`Error::Config`] for an unknown key (with the closest valid key),
    /// a key given twice with different values, or an invalid value.
    pub fn resolve(
        config_settings: &BTreeMap<String, Vec<String>>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let known = || KEYS.iter().map(|(k, _, _)| *k);
        for key in config_settings.keys() {
            if !known().any(|k| k == key) {
                let hint = match did_you_mean(key, known()) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => format!("known keys: {}", known().collect::<Vec<_>>().join(", ")),
                };
                return Err(Error::config(key.clone(), format!("unknown key; {hint}")));
            }
        }
        // The value for each key: -C first, then the environment.
        let mut values: BTreeMap<&str, (String, Option<&str>)> = BTreeMap::new();
        for (key, var, _) in KEYS {
            if let Some(given) = config_settings.get(*key) {
                let mut distinct: Vec<&String> = given.iter().collect();
                distinct.dedup();
                if distinct.len() > 1 {
                    return Err(Error::config(
                        *key,
                        format!("given more than once with different values ({})", given.join(", ")),
                    ));
                }
                if let Some(v) = distinct.first() {
                    values.insert(key, ((*v).clone(), None));
                }
            } else if let Some(v) = env(var) {
                values.insert(key, (v, Some(var)));
            } else if *key == "wasi-sdk" {
                if let Some(v) = env("WASI_SDK_PATH").filter(|v| !v.is_empty()) {
                    values.insert(key, (v, Some("WASI_SDK_PATH")));
                }
            }
        }

        let mut s =
            Settings { component_preinit: true, fpcast_repair: true, cxx_exceptions: true, ..Settings::default() };
        for (key, (value, var)) in values {
            let from = origin(key, var);
            let value = value.trim().to_string();
            match key {
                "target" => {
                    s.target = match value.as_str() {
                        "" | "host" | "native" => None,
                        v => Some(WasiTarget::parse(v).ok_or_else(|| {
                            Error::config(
                                from.clone(),
                                format!(
                                    "`{v}` is not a supported target: use one of {} (or leave it unset for the host)",
                                    WasiTarget::SPELLINGS.join(", ")
                                ),
                            )
                        })?),
                    }
                }
                "python" if !value.is_empty() => {
                    s.python = Some(value.parse().map_err(|e: String| Error::config(from.clone(), e))?)
                }
                "python-prefix" if !value.is_empty() => s.python_prefix = Some(Utf8PathBuf::from(value)),
                "wasi-sdk" if !value.is_empty() => s.wasi_sdk = Some(Utf8PathBuf::from(value)),
                "artifact" => {
                    s.artifact = match value.as_str() {
                        "" | "wheel" => Artifact::Wheel,
                        "component" => Artifact::Component,
                        v => {
                            return Err(Error::config(
                                from,
                                format!("`{v}` is not an artifact kind: use wheel or component"),
                            ))
                        }
                    }
                }
                "platform-tag" if !value.is_empty() => {
                    s.platform_tag =
                        Some(crate::tags::parse_platform_override(&value).map_err(|e| Error::config(from.clone(), e))?)
                }
                "allow-sdk-mismatch" => s.allow_sdk_mismatch = parse_bool(&from, &value)?,
                "component-wheels" if !value.is_empty() => s.component_wheels = Some(Utf8PathBuf::from(value)),
                "component-preinit" => s.component_preinit = value.is_empty() || parse_bool(&from, &value)?,
                "component-hash-seed" if !value.is_empty() => s.component_hash_seed = Some(value),
                "component-wit-path" if !value.is_empty() => s.component_wit_path = Some(Utf8PathBuf::from(value)),
                "component-world" if !value.is_empty() => s.component_world = Some(value),
                "component-app" if !value.is_empty() => s.component_app = Some(value),
                "component-stub-wasi" => s.component_stub_wasi = value.is_empty() || parse_bool(&from, &value)?,
                "build-dir" if !value.is_empty() => s.build_dir = Some(Utf8PathBuf::from(value)),
                "jobs" if !value.is_empty() => {
                    s.jobs = Some(value.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        Error::config(from.clone(), format!("`{value}` is not a positive whole number of jobs"))
                    })?)
                }
                "verbose" => s.verbose = parse_bool(&from, &value)?,
                "fpcast-repair" => s.fpcast_repair = value.is_empty() || parse_bool(&from, &value)?,
                "cxx-exceptions" => s.cxx_exceptions = value.is_empty() || parse_bool(&from, &value)?,
                "profile" => {
                    s.profile = match value.as_str() {
                        "" | "release" => Profile::Release,
                        "debug" => Profile::Debug,
                        v => return Err(Error::config(from, format!("`{v}` is not a profile: use release or debug"))),
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// Parse `key=value` pairs as given on the command line (`-C key=value`).
    ///
    /// Errors: [`Error::Config`] when a pair has no `=`.
    pub fn parse_pairs(pairs: &[String]) -> Result<BTreeMap<String, Vec<String>>> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in pairs {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| Error::config(pair.clone(), "write config settings as key=value"))?;
            map.entry(k.trim().to_string()).or_default().push(v.to_string());
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            m.entry(k.to_string()).or_default().push(v.to_string());
        }
        m
    }

    #[test]
    fn target_and_env() {
        let s = Settings::resolve(&cs(&[("target", "wasm32-wasi")]), |_| None).unwrap();
        assert_eq!(s.target, Some(WasiTarget::P1));
        let s = Settings::resolve(&cs(&[]), |k| (k == "WASIWHEEL_TARGET").then(|| "wasm32-wasip2".into())).unwrap();
        assert_eq!(s.target, Some(WasiTarget::P2));
        // -C wins over the environment.
        let s = Settings::resolve(&cs(&[("target", "host")]), |k| {
            (k == "WASIWHEEL_TARGET").then(|| "wasm32-wasip2".into())
        })
        .unwrap();
        assert_eq!(s.target, None);
        let s = Settings::resolve(&cs(&[]), |k| (k == "WASI_SDK_PATH").then(|| "/opt/wasi-sdk".into())).unwrap();
        assert_eq!(s.wasi_sdk.as_deref(), Some(camino::Utf8Path::new("/opt/wasi-sdk")));
    }

    #[test]
    fn unknown_key_names_the_intended_one() {
        let e = Settings::resolve(&cs(&[("traget", "wasm32-wasi")]), |_| None).unwrap_err().to_string();
        assert!(e.contains("`traget`") && e.contains("did you mean `target`?"), "{e}");
    }

    #[test]
    fn bad_values() {
        let e = Settings::resolve(&cs(&[("target", "wasm64")]), |_| None).unwrap_err().to_string();
        assert!(e.contains("wasm32-wasip2"), "{e}");
        let e = Settings::resolve(&cs(&[("jobs", "0")]), |_| None).unwrap_err().to_string();
        assert!(e.contains("jobs"), "{e}");
        let e = Settings::resolve(&cs(&[]), |k| (k == "WASIWHEEL_VERBOSE").then(|| "maybe".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("WASIWHEEL_VERBOSE"), "{e}");
        let e = Settings::resolve(&cs(&[("target", "wasm32-wasi"), ("target", "wasm32-wasip2")]), |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than once"), "{e}");
    }

    #[test]
    fn component_hash_seed() {
        let s = Settings::resolve(&cs(&[("component-hash-seed", " s3cret ")]), |_| None).unwrap();
        assert_eq!(s.component_hash_seed.as_deref(), Some("s3cret"));
        let s = Settings::resolve(&cs(&[]), |k| (k == "WASIWHEEL_COMPONENT_HASH_SEED").then(|| "env".into())).unwrap();
        assert_eq!(s.component_hash_seed.as_deref(), Some("env"));
        // Empty is unset: the default (a digest of the component's inputs).
        let s = Settings::resolve(&cs(&[("component-hash-seed", "")]), |_| None).unwrap();
        assert_eq!(s.component_hash_seed, None);
    }

    #[test]
    fn pairs() {
        let m = Settings::parse_pairs(&["target=wasm32-wasi".into(), "jobs=2".into()]).unwrap();
        assert_eq!(m["target"], vec!["wasm32-wasi"]);
        assert!(Settings::parse_pairs(&["target".into()]).is_err());
    }

    #[test]
    fn docs_list_every_setting_with_its_variable() {
        let doc = include_str!("../../docs/configuration.md");
        let section = &doc[doc.find("## Config settings").expect("a Config settings section")..];
        let rows: Vec<(String, String)> = section
            .lines()
            .skip_while(|l| !l.starts_with("| key"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cols: Vec<&str> = l.split('|').map(|c| c.trim()).collect();
                let var = cols[2].split(',').next().unwrap_or("").trim().trim_matches('`').to_string();
                (cols[1].trim_matches('`').to_string(), var)
            })
            .collect();
        let keys: Vec<(String, String)> = KEYS.iter().map(|(k, v, _)| (k.to_string(), v.to_string())).collect();
        assert_eq!(rows, keys, "docs/configuration.md's settings table must list KEYS, in order");
    }
}

//! The build machine's header and library directories, which must never
//! reach a compile or link for the target: the host interpreter's prefixes,
//! the system's `/usr/include` and `/usr/lib…`, and a host numpy's headers
//! and `npymath`. The wrappers refuse a flag that names one ([`refused`]),
//! with what the directory is; this module decides, it runs nothing but the
//! one query of the host interpreter's prefixes ([`of_host_python`]).

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

/// A directory of the build machine, and what it is (for the error message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostDir {
    /// The directory (absolute).
    pub path: Utf8PathBuf,
    /// What it is: "the host interpreter `python3`'s prefix", ….
    pub what: String,
}

/// The build machine's system directories: (path, what, include or library).
const SYSTEM: &[(&str, &str, Kind)] = &[
    ("/usr/include", "the build machine's system headers", Kind::Include),
    ("/usr/local/include", "the build machine's local headers", Kind::Include),
    ("/usr/lib", "the build machine's system libraries", Kind::Library),
    ("/usr/lib64", "the build machine's system libraries", Kind::Library),
    ("/usr/local/lib", "the build machine's local libraries", Kind::Library),
    ("/lib", "the build machine's system libraries", Kind::Library),
    ("/lib64", "the build machine's system libraries", Kind::Library),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Include,
    Library,
}

/// The prefixes of `host_python` (`sys.base_prefix`, `sys.base_exec_prefix`)
/// as [`HostDir`]s; empty when it cannot be asked (the build then fails
/// later with its own message). `sys.prefix` of a virtual environment is not
/// among them: its `include/site` holds target-neutral headers that packages
/// install (greenlet's), and its `site-packages` pybind11's.
pub fn of_host_python(host_python: &str) -> Vec<HostDir> {
    let out = std::process::Command::new(host_python)
        .args(["-c", "import sys; print(sys.base_prefix); print(sys.base_exec_prefix)"])
        .output();
    let Ok(out) = out else { return Vec::new() };
    if !out.status.success() {
        return Vec::new();
    }
    let mut dirs: Vec<HostDir> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let p = Utf8PathBuf::from(line.trim());
        // A prefix of `/` or `/usr` is covered by the system directories, and
        // must not refuse the whole file system.
        if p.as_str().is_empty() || !p.is_absolute() || p.as_str() == "/" || p.as_str() == "/usr" {
            continue;
        }
        if !dirs.iter().any(|d| d.path == p) {
            dirs.push(HostDir { path: p, what: format!("the host interpreter `{host_python}`'s prefix") });
        }
    }
    dirs
}

/// `dir`, resolved lexically (`..`, `.`) against `cwd` when relative.
fn normalize(dir: &str, cwd: &Utf8Path) -> Utf8PathBuf {
    let p = Utf8Path::new(dir);
    let abs = if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
    let mut out = Utf8PathBuf::new();
    for c in abs.components() {
        match c {
            camino::Utf8Component::ParentDir => {
                out.pop();
            }
            camino::Utf8Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// What the build machine's directory `dir` is, when a flag of kind `kind`
/// must not name it: under a system directory of that kind, under a host
/// interpreter prefix's `include`/`lib`, a Python header directory
/// (`…/include/python3.X`) outside the target's prefix, or an installed
/// numpy's (`site-packages/numpy/_core/include`, `…/_core/lib`) outside the
/// target's `allowed` directories.
fn classify(dir: &Utf8Path, kind: Kind, host: &[HostDir], allowed: &[Utf8PathBuf]) -> Option<String> {
    // The target's directories pass, except a host prefix inside one: the
    // default host interpreter is the native build Python kept in the target
    // CPython's prefix (`<prefix>/host`).
    if allowed.iter().any(|a| dir.starts_with(a)) && !host.iter().any(|h| dir.starts_with(&h.path)) {
        return None;
    }
    for (p, what, k) in SYSTEM {
        if *k == kind && dir.starts_with(p) {
            return Some((*what).to_string());
        }
    }
    let sub: &[&str] = if kind == Kind::Include { &["include"] } else { &["lib", "lib64"] };
    for h in host {
        if sub.iter().any(|s| dir.starts_with(h.path.join(s))) {
            return Some(h.what.clone());
        }
    }
    let s = dir.as_str();
    if kind == Kind::Include && s.contains("/include/python3.") {
        return Some("a host Python's headers (the target's are in the target CPython's prefix)".into());
    }
    // An installed numpy's (numpy's own source tree has the same
    // `numpy/_core/include`, which is the target's when numpy is built).
    let numpy = if kind == Kind::Include {
        ["numpy/_core/include", "numpy/core/include"]
    } else {
        ["numpy/_core/lib", "numpy/core/lib"]
    };
    let installed = ["/site-packages/", "/dist-packages/"].iter().any(|d| s.contains(&format!("{d}numpy/")));
    if installed && numpy.iter().any(|n| s.contains(n)) {
        return Some(format!(
            "a host numpy's {} (numpy.get_include() of the build environment; a build for the target uses the \
             target numpy's)",
            if kind == Kind::Include { "headers" } else { "npymath library" }
        ));
    }
    None
}

/// The first argument of `args` that names a build machine's header or
/// library directory: `(flag as given, what the directory is)`. Include
/// flags are `-I`, `-isystem`, `-idirafter` (joined or followed by the
/// directory); library flags `-L` and `-Wl,-L…`/`-Wl,-rpath-link`. `cwd`
/// resolves relative directories; `allowed` are the target's own
/// directories (its CPython prefix, the target numpy), never refused.
pub fn refused(args: &[String], cwd: &Utf8Path, host: &[HostDir], allowed: &[Utf8PathBuf]) -> Option<(String, String)> {
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let mut found: Option<(String, &str, Kind)> = None;
        for (flag, kind) in
            [("-isystem", Kind::Include), ("-idirafter", Kind::Include), ("-I", Kind::Include), ("-L", Kind::Library)]
        {
            if a == flag {
                if let Some(d) = args.get(i + 1) {
                    found = Some((format!("{a} {d}"), d.as_str(), kind));
                    i += 1;
                }
                break;
            }
            if let Some(d) = a.strip_prefix(flag) {
                found = Some((a.clone(), d, kind));
                break;
            }
        }
        if found.is_none() {
            if let Some(rest) = a.strip_prefix("-Wl,") {
                if let Some(d) = rest.split(',').find_map(|p| p.strip_prefix("-L")) {
                    found = Some((a.clone(), d, Kind::Library));
                }
            }
        }
        if let Some((flag, dir, kind)) = found {
            if !dir.is_empty() {
                if let Some(what) = classify(&normalize(dir, cwd), kind, host, allowed) {
                    return Some((flag, what));
                }
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn system_and_host_python_dirs_are_refused() {
        let host = vec![HostDir { path: "/opt/py".into(), what: "the host interpreter `py`'s prefix".into() }];
        let allowed = vec![Utf8PathBuf::from("/cache/python/3.13-wasm32")];
        let cwd = Utf8Path::new("/work/proj");
        let r = |s: &str| refused(&args(s), cwd, &host, &allowed);
        assert_eq!(
            r("-c a.c -I/usr/include"),
            Some(("-I/usr/include".into(), "the build machine's system headers".into()))
        );
        assert_eq!(r("-isystem /usr/local/include/x").unwrap().0, "-isystem /usr/local/include/x");
        assert_eq!(r("-I/opt/py/include/python3.13").unwrap().1, "the host interpreter `py`'s prefix");
        assert!(r("-I/venv/include/python3.11").unwrap().1.contains("host Python"));
        assert!(r("-L/usr/lib/x86_64-linux-gnu").unwrap().1.contains("system libraries"));
        assert!(r("-Wl,-O1,-L/opt/py/lib").unwrap().1.contains("`py`"));
        assert!(r("-I/env/lib/python3.13/site-packages/numpy/_core/include").unwrap().1.contains("host numpy"));
        // The native build Python kept in the target's prefix is a host interpreter.
        let inner = vec![HostDir { path: "/cache/python/3.13-wasm32/host".into(), what: "the host".into() }];
        let target_host = args("-I/cache/python/3.13-wasm32/host/include/python3.13");
        assert_eq!(refused(&target_host, cwd, &inner, &allowed).unwrap().1, "the host");
        assert_eq!(refused(&args("-I/cache/python/3.13-wasm32/include/python3.13"), cwd, &inner, &allowed), None);
        // Relative to /work/proj, ../../usr/include is /usr/include.
        assert_eq!(r("-I ../../usr/include").unwrap().0, "-I ../../usr/include");
    }

    #[test]
    fn target_and_project_dirs_pass() {
        let host = vec![HostDir { path: "/opt/py".into(), what: "p".into() }];
        let allowed = vec![Utf8PathBuf::from("/cache/python/p"), Utf8PathBuf::from("/cache/numpy/site")];
        let cwd = Utf8Path::new("/work/proj");
        for ok in [
            "-I/cache/python/p/include/python3.13",
            "-Ibuild/src -I. -Iinclude",
            "-I/env/lib/python3.13/site-packages/pybind11/include",
            "-I/cache/numpy/site/numpy/_core/include -L/cache/numpy/site/numpy/_core/lib",
            "-I/usr/share/wasi-sysroot/include",
            "-L/opt/py/share",
            "-Inumpy/_core/include -I../numpy/_core/include",
        ] {
            assert_eq!(refused(&args(ok), cwd, &host, &allowed), None, "{ok}");
        }
    }
}

//! Rust extension modules in the cross environment (maturin, setuptools-rust
//! and anything else that drives cargo): cargo's target, flags and linker for
//! the WASI target, PyO3's view of the target interpreter ([`env`]), and the
//! linker rustc calls for the target ([`rust_ld`], `wasiwheel rust-ld`), which
//! turns a cdylib's link into the wasm dylib and static archive that the C
//! wrappers make of a `-shared` link ([`super::wrap`]).
//!
//! A wasm dylib must be position-independent, and rustup's standard library
//! for the WASI targets is not: the crates compile with
//! `-C relocation-model=pic` against the position-independent standard
//! library of [`crate::toolchain::rust_std`] (`--sysroot`, stable rustc). It
//! must not decide anything about Python or the target beyond what the cross
//! environment's [`Context`] says.

use std::collections::BTreeMap;
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use super::wrap::{self, LinkRecord};
use super::Context;
use crate::crossbuild::compile::{self, Toolchain};
use crate::error::{Error, IoContext, Result};
use crate::toolchain::python::TargetPython;
use crate::toolchain::sdk::WasiSdk;

/// The name of the linker wrapper script in the cross environment's `bin/`.
pub const LINKER_SCRIPT: &str = "wasm32-wasi-rust-ld";

/// The name of the `RUSTC_WRAPPER` script in the cross environment's `bin/` ([`rustc_wrap`]).
pub const RUSTC_WRAPPER_SCRIPT: &str = "wasm32-wasi-rustc";

/// The variables that make cargo, rustc, PyO3 and the `cc` crate build for
/// the cross environment's target, for a backend's hooks:
///
/// * `CARGO_BUILD_TARGET` (maturin and setuptools-rust read it too);
/// * `CARGO_TARGET_<TRIPLE>_LINKER`: `bin/wasm32-wasi-rust-ld`
///   ([`LINKER_SCRIPT`], [`rust_ld`]) and `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`:
///   `-C relocation-model=pic --sysroot <the context's Rust sysroot>` (a
///   `RUSTFLAGS` of the user's wins over it, as cargo defines, and must then
///   carry both);
/// * `PYO3_CROSS=1`, `PYO3_CROSS_PYTHON_VERSION`, `PYO3_CROSS_LIB_DIR` (the
///   target prefix's `lib/`, whose sysconfigdata PyO3 reads: version, ABI,
///   pointer width; no libpython is linked);
/// * `CC_<triple>`, `CXX_<triple>`, `AR_<triple>` (the `cc` crate's names)
///   naming the C wrappers in `bin`, and `HOST_CC`/`HOST_CXX` naming the
///   host's compilers (found on `PATH` before the wrappers are), so that
///   build scripts compile their host code with the host's;
/// * `CARGO_TARGET_<HOST>_LINKER` naming the host's `cc`, which links build
///   scripts and proc macros (setuptools-rust builds have the target's `cc`
///   wrapper first on `PATH`).
///
/// Unless the user set one, `RUSTC_WRAPPER` is `bin/wasm32-wasi-rustc`
/// ([`RUSTC_WRAPPER_SCRIPT`], [`rustc_wrap`]), which records a crate that
/// fails to compile for the target, with a hint naming the WASI limit.
///
/// Unless `CARGO_TARGET_DIR` is set already, cargo's target directory is the
/// cache's `cargo-target/<triple>/`: the rebuilt standard library and the
/// crates of one build serve every later one (cargo locks it while it runs).
///
/// Errors: [`Error::Io`] when the cache directory cannot be created.
/// Nothing for a context without a Rust sysroot (a project that builds no Rust).
pub fn env(ctx: &Context, python: &TargetPython, bin: &Utf8Path) -> Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    let Some(sysroot) = &ctx.rust_sysroot else { return Ok(env) };
    let triple = ctx.target.triple();
    let t = crate::toolchain::rust_std::cargo_env_triple(triple);
    let under = triple.replace('-', "_");
    env.insert("CARGO_BUILD_TARGET".to_string(), triple.to_string());
    env.insert(format!("CARGO_TARGET_{t}_LINKER"), bin.join(LINKER_SCRIPT).to_string());
    env.insert(
        format!("CARGO_TARGET_{t}_RUSTFLAGS"),
        format!("{} --sysroot {sysroot}", crate::toolchain::rust_std::RUSTFLAGS),
    );
    env.insert("PYO3_CROSS".into(), "1".into());
    env.insert("PYO3_CROSS_PYTHON_VERSION".into(), python.version.to_string());
    env.insert("PYO3_CROSS_LIB_DIR".into(), python.prefix.join("lib").to_string());
    env.insert(format!("CC_{under}"), bin.join("wasm32-wasi-cc").to_string());
    env.insert(format!("CXX_{under}"), bin.join("wasm32-wasi-c++").to_string());
    env.insert(format!("AR_{under}"), bin.join("wasm32-wasi-ar").to_string());
    for (var, tool) in [("HOST_CC", "cc"), ("HOST_CXX", "c++")] {
        // This process's PATH does not hold the wrappers.
        if let Some(p) = crate::toolchain::which(tool) {
            env.insert(var.into(), p.to_string());
        }
    }
    // Build scripts and proc macros are linked for the host by `cc`, which a
    // setuptools build finds first on PATH as the target's wrapper: name
    // the host's own.
    if let (Some(host), Some(cc)) = (crate::toolchain::rust_std::host_triple(), crate::toolchain::which("cc")) {
        env.insert(
            format!("CARGO_TARGET_{}_LINKER", crate::toolchain::rust_std::cargo_env_triple(&host)),
            cc.to_string(),
        );
    }
    if std::env::var_os("RUSTC_WRAPPER").is_none() && std::env::var_os("CARGO_BUILD_RUSTC_WRAPPER").is_none() {
        env.insert("RUSTC_WRAPPER".into(), bin.join(RUSTC_WRAPPER_SCRIPT).to_string());
    }
    if std::env::var_os("CARGO_TARGET_DIR").is_none() {
        let dir = crate::toolchain::cache::dir("cargo-target")?.join(triple);
        env.insert("CARGO_TARGET_DIR".into(), dir.to_string());
    }
    Ok(env)
}

/// Whether `project` builds Rust: a maturin backend, a `Cargo.toml` at its
/// root, or `setuptools-rust` among its build requirements.
pub fn is_rust_project(project: &Utf8Path, kind: super::BackendKind) -> bool {
    kind == super::BackendKind::Maturin
        || project.join("Cargo.toml").is_file()
        || std::fs::read_to_string(project.join("pyproject.toml"))
            .is_ok_and(|t| t.contains("setuptools-rust") || t.contains("setuptools_rust"))
}

/// What rustc's link line (wasm-ld's flavor, `-flavor wasm …`) says.
#[derive(Debug, Default, PartialEq, Eq)]
struct LinkLine {
    /// Objects and archives (`.o`, `.rlib`, `.a`), in order.
    inputs: Vec<Utf8PathBuf>,
    /// `-l` libraries.
    libs: Vec<String>,
    /// `-L` directories.
    lib_dirs: Vec<String>,
    /// `--export` symbols.
    exports: Vec<String>,
    /// `-o`.
    out: Option<Utf8PathBuf>,
    /// `--no-entry` (a library, not a command).
    no_entry: bool,
}

impl LinkLine {
    /// Parse rustc's arguments for wasm-ld (`-flavor wasm` first when rustc
    /// calls a linker by a name it does not know).
    fn parse(args: &[String]) -> LinkLine {
        let mut l = LinkLine::default();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            let next = args.get(i + 1).cloned();
            let mut take = |v: &mut Vec<String>| {
                if let Some(n) = &next {
                    v.push(n.clone());
                }
                i += 1;
            };
            match a {
                "-flavor" | "-z" | "-m" | "--max-memory" | "--initial-memory" => i += 1,
                "-o" => {
                    l.out = next.map(Utf8PathBuf::from);
                    i += 1;
                }
                "-l" => take(&mut l.libs),
                "-L" => take(&mut l.lib_dirs),
                "--export" => take(&mut l.exports),
                "--no-entry" => l.no_entry = true,
                _ if a.starts_with("--export=") => l.exports.push(a["--export=".len()..].to_string()),
                _ if a.starts_with("-l") => l.libs.push(a[2..].to_string()),
                _ if a.starts_with("-L") => l.lib_dirs.push(a[2..].to_string()),
                _ if a.starts_with('-') => {}
                _ => l.inputs.push(Utf8PathBuf::from(a)),
            }
            i += 1;
        }
        l
    }

    /// The extension module's base name: from the exported `PyInit_NAME`,
    /// else the output file's stem (`deps/_core.wasm` → `_core`).
    fn module(&self) -> Option<String> {
        self.exports
            .iter()
            .find_map(|e| e.strip_prefix("PyInit_"))
            .map(str::to_string)
            .or_else(|| self.out.as_ref()?.file_name()?.split('.').next().map(str::to_string))
    }
}

/// The linker rustc runs for the target (`wasiwheel rust-ld ARGS…`, through
/// [`LINKER_SCRIPT`]). A library link that exports a `PyInit_*` (a PyO3
/// cdylib) becomes: the wasm dylib, linked as the C wrappers link extensions
/// ([`compile::link_extension`], with rustc's inputs: its objects and the
/// rlibs of the crate graph and the rebuilt standard library,
/// `--gc-sections`, no debug info); and the static archive, one relocatable
/// object of the objects and the archive members they need (`wasm-ld -r`,
/// no debug info); recorded for the wheel's manifest and written where
/// rustc asked. Any other link (a wasm command, a cdylib that is not a
/// Python module) is handed to the SDK's `wasm-ld` unchanged.
///
/// Errors: [`Error::Toolchain`] outside the cross environment or without
/// `-o`; [`Error::ToolFailed`] with wasm-ld's output when a link fails.
pub fn rust_ld(args: &[String]) -> Result<i32> {
    let ctx = Context::load()?;
    let sdk = WasiSdk::open(&ctx.sdk)?;
    let line = LinkLine::parse(args);
    let module = line.module().filter(|_| line.no_entry && line.exports.iter().any(|e| e.starts_with("PyInit_")));
    let Some(basename) = module else {
        let plain: Vec<&String> = skip_flavor(args);
        let mut cmd = Command::new(sdk.wasm_ld());
        cmd.args(plain);
        if ctx.verbose {
            crate::progress::status(&wrap::command_line(&cmd));
        }
        let status = cmd.status().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", sdk.wasm_ld())))?;
        return Ok(status.code().unwrap_or(1));
    };
    let out = wrap::absolute(
        line.out
            .as_deref()
            .ok_or_else(|| Error::Toolchain("rustc's link line for the target has no `-o FILE`".into()))?,
    )?;
    let mut inputs: Vec<Utf8PathBuf> = line.inputs.iter().map(|p| wrap::absolute(p)).collect::<Result<_>>()?;
    // Native static libraries of the crate graph (`-l static=NAME`, built by
    // build scripts into their OUT_DIR and named with `-L`): part of the
    // module, in its dylib and its archive.
    let mut libs = Vec::new();
    for l in &line.libs {
        match line.lib_dirs.iter().map(|d| Utf8Path::new(d).join(format!("lib{l}.a"))).find(|p| p.is_file()) {
            Some(a) if !wrap::IMPLICIT_LIBS.contains(&l.as_str()) => inputs.push(wrap::absolute(&a)?),
            _ => libs.push(l.clone()),
        }
    }
    let key = crate::files::sha256_hex(format!("{out}\n{}", std::process::id()).as_bytes())[..16].to_string();
    let work = ctx.state.join("link").join(&key);
    std::fs::create_dir_all(&work).context(|| format!("cannot create {work}"))?;
    let libraries: Vec<String> = libs.iter().filter(|l| !wrap::IMPLICIT_LIBS.contains(&l.as_str())).cloned().collect();
    let cxx = libs.iter().any(|l| ["stdc++", "c++"].contains(&l.as_str()));
    let mut link_args: Vec<String> = line.lib_dirs.iter().map(|d| format!("-L{d}")).collect();
    link_args.extend(["--gc-sections".to_string(), "--strip-debug".to_string()]);
    let (ext, opts) = wrap::linked_module(&ctx, &basename, &libraries, cxx, link_args);
    let tc = Toolchain::Wasi { sdk: sdk.clone(), target: ctx.target, cxx_eh: None, sjlj: None };
    let dylib = work.join(format!("{basename}.so"));
    compile::link_extension(&tc, &ext, &inputs, &dylib, &opts)?;
    // The static archive: one relocatable object of what the module needs.
    let combined = work.join(format!("{basename}.o"));
    let mut r = Command::new(sdk.wasm_ld());
    r.args(["-r", "--strip-debug"]).args(inputs.iter().map(|p| p.as_str())).arg("-o").arg(combined.as_str());
    wrap::run_tool(&mut r, &format!("combining the Rust objects of `{basename}`"), ctx.verbose)?;
    let archive = ctx.state.join("static").join(format!("{key}.a"));
    std::fs::create_dir_all(archive.parent().expect("parent")).context(|| format!("cannot create {archive}"))?;
    let mut ar = Command::new(sdk.ar());
    ar.arg("rcsD").arg(archive.as_str()).arg(combined.as_str());
    wrap::run_tool(&mut ar, &format!("archiving `{basename}`"), ctx.verbose)?;
    let mut all_libs = libraries;
    all_libs.extend(wrap::emulations(&ctx, &sdk).iter().map(|(_, l)| l.to_string()));
    wrap::record_link(&ctx, LinkRecord { basename, archive, libraries: all_libs, cxx }, &dylib, &out)?;
    Ok(0)
}

/// cargo's `RUSTC_WRAPPER` in the cross environment (`wasiwheel rustc-wrap
/// RUSTC ARGS…`, through [`RUSTC_WRAPPER_SCRIPT`]): runs `RUSTC ARGS…`,
/// passing its output through unchanged (cargo reads rustc's JSON
/// diagnostics from it), and when a crate compiled for the WASI target
/// fails, records the failure with rustc's rendered errors and a hint
/// ([`rust_hint`]), which the build's error then shows. Build scripts and
/// other host compiles, and probes compiled from standard input (autocfg),
/// are not recorded. Returns rustc's exit status.
///
/// Errors: [`Error::Toolchain`] without a program to run or outside the
/// cross environment.
pub fn rustc_wrap(args: &[String]) -> Result<i32> {
    use std::io::{BufRead, Write};
    let (rustc, rest) =
        args.split_first().ok_or_else(|| Error::Toolchain("rustc-wrap: cargo gave no rustc to run".into()))?;
    let ctx = Context::load()?;
    let value_of = |flag: &str| rest.iter().position(|a| a == flag).and_then(|i| rest.get(i + 1)).map(String::as_str);
    let for_target = value_of("--target").is_some_and(|t| t == ctx.target.triple());
    let crate_name = value_of("--crate-name").unwrap_or("");
    let source = rest.iter().find(|a| a.ends_with(".rs")).cloned();
    let recorded = for_target && source.is_some() && !crate_name.starts_with("build_script_");
    let mut child = Command::new(rustc)
        .args(rest)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::Toolchain(format!("cannot run {rustc}: {e}")))?;
    let mut errors = String::new();
    if let Some(err) = child.stderr.take() {
        let mut stderr = std::io::stderr();
        for line in std::io::BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(stderr, "{line}");
            if recorded && errors.len() < 64 * 1024 {
                errors.push_str(&rendered_error(&line));
            }
        }
    }
    let status = child.wait().map_err(|e| Error::Toolchain(format!("cannot wait for {rustc}: {e}")))?;
    if !status.success() && recorded && !errors.is_empty() {
        let hint = rust_hint(&errors).map(str::to_string).or_else(|| compile::wasi_hint(&errors).map(str::to_string));
        let mut command = vec![rustc.clone()];
        command.extend(rest.iter().cloned());
        wrap::record_failure(
            &ctx,
            &wrap::Failure {
                source: source.unwrap_or_default(),
                status: status.to_string(),
                diagnostics: format!("crate `{crate_name}`:\n{}", errors.trim_end()),
                hint,
                command: command.join(" "),
                cwd: std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
                rust: true,
            },
        )?;
    }
    Ok(status.code().unwrap_or(1))
}

/// The human-readable text of an error in one line of rustc's output: the
/// `rendered` field of a JSON diagnostic of level `error` (cargo's
/// `--error-format=json`, ANSI colours removed), or the line itself when
/// rustc writes plain text; empty for anything else.
fn rendered_error(line: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(v) if v.is_object() => {
            if v["$message_type"] != "diagnostic" || v["level"] != "error" {
                return String::new();
            }
            strip_ansi(v["rendered"].as_str().unwrap_or_default())
        }
        _ => format!("{line}\n"),
    }
}

/// `s` without ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What WASI (or wasiwheel's stable toolchain) lacks, recognised in rustc's
/// errors for a crate compiled for the target, as one sentence; `None` when
/// the failure looks unrelated. The C compiler's hints
/// ([`compile::wasi_hint`]) are tried after these.
pub fn rust_hint(errors: &str) -> Option<&'static str> {
    const HINTS: &[(&[&str], &str)] = &[
        (
            &["could not find `unix` in `os`", "std::os::unix", "unresolved import `std::os::unix"],
            "wasm32-wasip1 is not a Unix target: std::os::unix does not exist there (std::os::wasi has WASI's \
             counterparts for files); code that needs it must be behind #[cfg(unix)], or the crate does not \
             support WASI",
        ),
        (
            &["E0554", "may not be used on the stable release channel"],
            "the crate uses unstable features (#![feature]) and needs a nightly Rust toolchain; wasiwheel builds \
             with the stable rustc (it rebuilds the standard library for the target itself, so -Zbuild-std is \
             never needed)",
        ),
        (
            &["socket", "TcpStream", "TcpListener", "mio::", "`net` in", "`sys` in `mio`"],
            "WASI preview1 (wasm32-wasip1) has no sockets: networking crates (mio, socket2, tokio's net) do not \
             build for it",
        ),
        (
            &["in crate `libc`"],
            "the crate calls a libc function that wasi-libc lacks: WASI has no processes, signals, users or \
             terminals (gate the code with #[cfg(not(target_os = \"wasi\"))])",
        ),
        (
            &["can't find crate for `std`", "can't find crate for `core`", "E0463"],
            "the target's standard library is missing: `rustup target add wasm32-wasip1` (wasiwheel rebuilds it \
             position-independent from `rustup component add rust-src`)",
        ),
    ];
    HINTS.iter().find(|(needles, _)| needles.iter().any(|n| errors.contains(n))).map(|(_, h)| *h)
}

/// `args` without a leading `-flavor wasm` (the SDK's `wasm-ld` is already
/// that flavor).
fn skip_flavor(args: &[String]) -> Vec<&String> {
    match args {
        [f, _, rest @ ..] if f == "-flavor" => rest.iter().collect(),
        _ => args.iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rustc_errors_and_hints() {
        let json = concat!(
            r#"{"$message_type":"diagnostic","level":"error","message":"x","rendered":"\u001b[0m\u001b[1m"#,
            r#"\u001b[38;5;9merror[E0433]\u001b[0m: failed to resolve: could not find `unix` in `os`\n"}"#
        );
        let e = rendered_error(json);
        assert_eq!(e, "error[E0433]: failed to resolve: could not find `unix` in `os`\n");
        assert!(rust_hint(&e).is_some_and(|h| h.contains("not a Unix target")));
        let warning = r#"{"$message_type":"diagnostic","level":"warning","message":"w","rendered":"warning: w"}"#;
        assert_eq!(rendered_error(warning), "");
        assert_eq!(rendered_error(r#"{"$message_type":"artifact","artifact":"x"}"#), "");
        assert_eq!(rendered_error("error: plain text"), "error: plain text\n");
        assert!(rust_hint("error[E0554]: `#![feature]` may not be used on the stable release channel")
            .is_some_and(|h| h.contains("nightly")));
        assert!(rust_hint("error[E0425]: cannot find function `fork` in crate `libc`")
            .is_some_and(|h| h.contains("wasi-libc")));
        assert_eq!(rust_hint("error[E0308]: mismatched types"), None);
    }

    #[test]
    fn rustc_link_line() {
        // As rustc 1.95 calls the linker for a PyO3 cdylib on wasm32-wasip1.
        let l = LinkLine::parse(&v(&[
            "-flavor",
            "wasm",
            "--export",
            "PyInit_pyx",
            "-z",
            "stack-size=1048576",
            "--stack-first",
            "--allow-undefined",
            "--no-demangle",
            "/t/deps/pyx.pyx.0.rcgu.o",
            "/s/libstd-1.rlib",
            "-l",
            "c",
            "/s/libcore-2.rlib",
            "-L",
            "/s/self-contained",
            "-o",
            "/t/deps/pyx.wasm",
            "--gc-sections",
            "--no-entry",
            "-O3",
            "--strip-debug",
        ]));
        assert_eq!(
            l.inputs,
            vec![Utf8PathBuf::from("/t/deps/pyx.pyx.0.rcgu.o"), "/s/libstd-1.rlib".into(), "/s/libcore-2.rlib".into()]
        );
        assert_eq!(l.libs, vec!["c"]);
        assert_eq!(l.lib_dirs, vec!["/s/self-contained"]);
        assert_eq!(l.out.as_deref(), Some(Utf8Path::new("/t/deps/pyx.wasm")));
        assert!(l.no_entry);
        assert_eq!(l.module().as_deref(), Some("pyx"));
        assert_eq!(skip_flavor(&v(&["-flavor", "wasm", "a.o"])), vec!["a.o"]);
    }
}

//! The `wasiwheel` command line (also `python -m wasiwheel`).

use std::sync::OnceLock;

use camino::{Utf8Path, Utf8PathBuf};
use clap::{Args, Parser, Subcommand};

use crate::crossbuild::{python, sdk};
use crate::error::{Error, Result};
use crate::model::target::{pinned_sdk, PyVersion, WasiTarget};
use crate::pep517::config::Settings;

/// How to run wasiwheel itself, e.g. as CPython's WASI host runner.
static SELF_COMMAND: OnceLock<Vec<String>> = OnceLock::new();

#[derive(Parser, Debug)]
#[command(
    name = "wasiwheel",
    version,
    about = "Build Python wheels with C/C++ extensions for WebAssembly/WASI (and natively), and run them",
    long_about = "wasiwheel is a PEP 517 build backend. Projects use it with\n\n    [build-system]\n    requires = \
        [\"wasiwheel\"]\n    build-backend = \"wasiwheel\"\n\nand build WASI wheels with `pip wheel . -C \
            target=wasm32-wasi`. This command line provisions the WASI SDK and target CPython that such builds \
        need, builds wheels directly, and runs them under the embedded wasmtime.",
    after_help = "Quick start:\n  wasiwheel sdk install --from-debian 25\n  wasiwheel python install 3.13 --source \
        Python-3.13.5.tar.xz --sdk 25\n  pip wheel . -C target=wasm32-wasi -w dist\n  wasiwheel run --python \
        3.13 --wheel dist/*.whl -- -c 'import mypkg'"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build a wheel (and optionally the sdist) of a project, as `pip wheel` would.
    Build(BuildArgs),
    /// Manage WASI SDKs in the cache.
    #[command(subcommand)]
    Sdk(SdkCommand),
    /// Manage target (WASI) CPythons in the cache.
    #[command(subcommand)]
    Python(PythonCommand),
    /// Run a target CPython with WASI wheels installed and their extensions linked in.
    #[cfg(feature = "run")]
    Run(RunArgs),
    /// Build the project as a pre-initialized wasi:cli/command component (CPython + project + extensions).
    #[cfg(feature = "run")]
    Component(ComponentArgs),
    /// Run a WASI preview1 command module under the embedded wasmtime (like `wasmtime run`).
    #[cfg(feature = "run")]
    Exec(ExecArgs),
    /// Print the wheel tags for a target and the `pip install` line that installs such wheels.
    Tags(TagsArgs),
}

#[derive(Args, Debug)]
struct BuildArgs {
    /// The project directory (with pyproject.toml).
    #[arg(default_value = ".")]
    project: Utf8PathBuf,
    /// Where to write the wheel.
    #[arg(short = 'o', long = "out-dir", default_value = "dist")]
    out_dir: Utf8PathBuf,
    /// A config setting, as pip's `-C key=value` (repeatable), e.g. `-C target=wasm32-wasi`.
    #[arg(short = 'C', long = "config-setting", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Also build the sdist.
    #[arg(long)]
    sdist: bool,
    /// The host Python for native builds.
    #[arg(long, default_value = "python3", env = "WASIWHEEL_HOST_PYTHON")]
    host_python: String,
}

#[cfg(feature = "run")]
#[derive(Args, Debug)]
struct ComponentArgs {
    /// The project directory (with pyproject.toml).
    #[arg(default_value = ".")]
    project: Utf8PathBuf,
    /// Where to write the component.
    #[arg(short = 'o', long = "output", value_name = "OUT.wasm")]
    output: Utf8PathBuf,
    /// A config setting, as pip's `-C key=value` (repeatable), e.g. `-C python=3.13`.
    #[arg(short = 'C', long = "config-setting", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// A WASI wheel whose pure-Python files and extension modules go into the component too (repeatable).
    #[arg(long = "wheel", value_name = "WHEEL")]
    wheels: Vec<Utf8PathBuf>,
    /// The host Python (unused for components; accepted for symmetry with build).
    #[arg(long, default_value = "python3", env = "WASIWHEEL_HOST_PYTHON", hide = true)]
    host_python: String,
}

#[derive(Subcommand, Debug)]
enum SdkCommand {
    /// Install a WASI SDK into the cache.
    Install {
        /// The official wasi-sdk release to download (checked against the sha256 wasiwheel pins).
        #[arg(value_name = "N", required_unless_present = "from_debian", conflicts_with = "from_debian")]
        major: Option<u32>,
        /// Download from this base URL instead (same path scheme: BASE/wasi-sdk-N/ASSET).
        #[arg(long, value_name = "URL", env = "WASIWHEEL_SDK_MIRROR")]
        mirror: Option<String>,
        /// Assemble the equivalent of official WASI SDK N from Debian packages
        /// (needs LLVM's wasm32 toolchain: `apt-get install clang-19 lld-19 libclang-rt-19-dev-wasm32` for 25).
        #[arg(long = "from-debian", value_name = "N")]
        from_debian: Option<u32>,
        /// Use this already downloaded wasi-libc .deb instead of downloading it.
        #[arg(long, value_name = "FILE")]
        deb: Option<Utf8PathBuf>,
        /// The Debian archive URI (default: this machine's, from /etc/apt).
        #[arg(long = "debian-mirror", value_name = "URI")]
        debian_mirror: Option<String>,
    },
    /// List the installed SDKs with their identity.
    List,
}

#[derive(Subcommand, Debug)]
enum PythonCommand {
    /// Build CPython for WASI from a source tarball with CPython's own build driver and install it into the cache.
    Install {
        /// The CPython version, e.g. 3.13.
        version: PyVersion,
        /// The CPython source tarball (e.g. Python-3.13.5.tar.xz).
        #[arg(long, value_name = "FILE")]
        source: Utf8PathBuf,
        /// The WASI SDK major to build with (default: the PEP 11 pin for the version).
        #[arg(long, value_name = "N")]
        sdk: Option<u32>,
        /// Build with the SDK at this directory instead.
        #[arg(long = "wasi-sdk", value_name = "DIR")]
        wasi_sdk: Option<Utf8PathBuf>,
        /// The host Python that runs CPython's build driver.
        #[arg(long, default_value = "python3", env = "WASIWHEEL_HOST_PYTHON")]
        host_python: String,
        /// The source of a C library a standard-library module needs, as NAME=FILE (repeatable): zlib (zlib),
        /// bzip2 (_bz2), xz (_lzma), sqlite3 (_sqlite3). FILE must be one of the pinned Debian source archives
        /// of NAME (checked by sha256); xz and sqlite3 also need Debian's patch tarball. Libraries without a
        /// source are left out, and so are their modules.
        #[arg(long = "with-source", value_name = "NAME=FILE", value_parser = parse_with_source)]
        with_source: Vec<(String, Utf8PathBuf)>,
        /// A directory holding the pinned source archives under their Debian file names (as
        /// .ci/fetch-stdlib-sources leaves them); used for the libraries not given with --with-source.
        #[arg(long = "with-sources", value_name = "DIR")]
        with_sources: Option<Utf8PathBuf>,
        /// Stream the build's output instead of logging it.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Make a compile-only target CPython from CPython headers and a pyconfig.h derived by probing the SDK.
    Assemble {
        /// The CPython version, e.g. 3.14.
        version: PyVersion,
        /// Directory with python3.X/Python.h (e.g. Debian's usr/include from libpython3.X-dev).
        #[arg(long, value_name = "DIR")]
        headers: Utf8PathBuf,
        /// The native pyconfig.h to take the macro list from (default: found next to the headers).
        #[arg(long = "native-pyconfig", value_name = "FILE")]
        native_pyconfig: Option<Utf8PathBuf>,
        /// The WASI SDK major to probe (default: the PEP 11 pin for the version).
        #[arg(long, value_name = "N")]
        sdk: Option<u32>,
        /// Probe the SDK at this directory instead.
        #[arg(long = "wasi-sdk", value_name = "DIR")]
        wasi_sdk: Option<Utf8PathBuf>,
        /// The WASI target.
        #[arg(long, default_value = "wasm32-wasip2", value_parser = parse_target)]
        target: WasiTarget,
    },
    /// List the installed target CPythons.
    List,
}

#[cfg(feature = "run")]
#[derive(Args, Debug)]
struct RunArgs {
    /// Run this wasi:cli/command component instead of a CPython (no directories are preopened).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["python", "python_prefix", "wheels", "sites", "dirs"])]
    component: Option<Utf8PathBuf>,
    /// The target CPython version from the cache.
    #[arg(long, value_name = "VERSION", conflicts_with = "python_prefix")]
    python: Option<PyVersion>,
    /// A target CPython install prefix instead.
    #[arg(long = "python-prefix", value_name = "DIR")]
    python_prefix: Option<Utf8PathBuf>,
    /// A WASI wheel to install (repeatable).
    #[arg(long = "wheel", value_name = "WHEEL")]
    wheels: Vec<Utf8PathBuf>,
    /// A directory WASI wheels were installed into with `pip install --target` (repeatable; see `wasiwheel tags`).
    #[arg(long = "site", value_name = "DIR")]
    sites: Vec<Utf8PathBuf>,
    /// Relink with an installed SDK even if it is not the major that built the interpreter.
    #[arg(long = "allow-sdk-mismatch")]
    allow_sdk_mismatch: bool,
    /// The WASI SDK to relink with (default: the installed SDK of the major that built the interpreter).
    #[arg(long = "wasi-sdk", value_name = "DIR")]
    wasi_sdk: Option<Utf8PathBuf>,
    /// Map a host directory into the guest: HOST::GUEST (repeatable).
    #[arg(long = "dir", value_name = "HOST::GUEST")]
    dirs: Vec<crate::crossbuild::wasm::Preopen>,
    /// Set a guest environment variable: NAME=VALUE (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Print the relink command.
    #[arg(short, long)]
    verbose: bool,
    /// Arguments for the interpreter, after `--`.
    #[arg(last = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[cfg(feature = "run")]
#[derive(Args, Debug)]
struct ExecArgs {
    /// Map a host directory into the guest: HOST::GUEST or DIR (repeatable).
    #[arg(long = "dir", value_name = "HOST::GUEST")]
    dirs: Vec<crate::crossbuild::wasm::Preopen>,
    /// Set a guest environment variable: NAME=VALUE (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// The module and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "MODULE [ARGS]...")]
    command: Vec<String>,
}

#[derive(Args, Debug)]
struct TagsArgs {
    /// The target CPython version, e.g. 3.13.
    #[arg(long)]
    python: PyVersion,
    /// The WASI SDK major the wheels are built with (default: the PEP 11 pin).
    #[arg(long)]
    sdk: Option<u32>,
    /// The WASI target.
    #[arg(long, default_value = "wasm32-wasi", value_parser = parse_target)]
    target: WasiTarget,
    /// Where `pip install --target` puts the wheels (shown in the pip line).
    #[arg(long = "install-dir", default_value = "wasi-site-packages")]
    install_dir: String,
}

/// A `--target` value: a WASI target triple.
fn parse_target(s: &str) -> std::result::Result<WasiTarget, String> {
    WasiTarget::parse(s)
        .ok_or_else(|| format!("`{s}` is not a WASI target: use one of {}", WasiTarget::SPELLINGS.join(", ")))
}

fn parse_with_source(s: &str) -> std::result::Result<(String, Utf8PathBuf), String> {
    match s.split_once('=') {
        Some((n, f)) if !n.is_empty() && !f.is_empty() => Ok((n.to_string(), Utf8PathBuf::from(f))),
        _ => Err(format!("`{s}` is not NAME=FILE (e.g. zlib=zlib_1.3.dfsg+really1.3.1.orig.tar.gz)")),
    }
}

fn parse_env(s: &str) -> std::result::Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("`{s}` is not NAME=VALUE"))
}

fn cmd_build(a: BuildArgs) -> Result<i32> {
    let config = Settings::parse_pairs(&a.config)?;
    let settings = Settings::resolve(&config, |k| std::env::var(k).ok())?;
    let project = absolute(&a.project)?;
    let out = absolute(&a.out_dir)?;
    if a.sdist {
        crate::driver::build_sdist(&project, &out, &settings)?;
    }
    crate::driver::build_wheel(&project, &out, settings, &a.host_python)?;
    Ok(0)
}

fn absolute(p: &Utf8Path) -> Result<Utf8PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Error::Io { context: "cannot read the current directory".into(), source: e })?;
    let cwd = Utf8PathBuf::from_path_buf(cwd)
        .map_err(|p| Error::Other(format!("the current directory {} is not UTF-8", p.display())))?;
    Ok(cwd.join(p))
}

fn cmd_sdk(c: SdkCommand) -> Result<i32> {
    match c {
        SdkCommand::Install { major, mirror, from_debian, deb, debian_mirror } => match (major, from_debian) {
            (_, Some(n)) => {
                sdk::debian::install_from_debian(n, &sdk::debian::DebianInstallOptions { deb, mirror: debian_mirror })?;
            }
            (Some(n), None) => {
                sdk::official::install_official(n, mirror.as_deref())?;
            }
            (None, None) => unreachable!("clap requires one of them"),
        },
        SdkCommand::List => {
            let all = sdk::installed()?;
            if all.is_empty() {
                println!("no WASI SDK installed (try `wasiwheel sdk install --from-debian 25`)");
            }
            for s in all {
                let targets: Vec<String> = s.targets().iter().map(|t| t.to_string()).collect();
                println!(
                    "WASI SDK {:<3} version {:<12} wasi-libc {:<13} LLVM {:<8} targets {:<28} {}  [{}]",
                    s.identity.major,
                    s.identity.version,
                    s.identity.wasi_libc.as_deref().unwrap_or("?"),
                    s.identity.llvm_version.as_deref().unwrap_or("?"),
                    targets.join(","),
                    s.root,
                    s.identity.origin
                );
            }
        }
    }
    Ok(0)
}

/// The SDK for a CPython `version`: `--wasi-sdk DIR`, else the installed SDK
/// of major `--sdk N`, else of the PEP 11 pin for the version.
fn pick_sdk(version: PyVersion, major: Option<u32>, wasi_sdk: Option<&Utf8Path>) -> Result<sdk::WasiSdk> {
    let want = major.or_else(|| pinned_sdk(version));
    match (wasi_sdk, want) {
        (Some(d), _) => sdk::WasiSdk::open(d),
        (None, Some(m)) => sdk::installed()?.into_iter().find(|s| s.identity.major == m).ok_or_else(|| {
            Error::Toolchain(format!(
                "WASI SDK {m}{} is not installed: install it (`wasiwheel sdk install {m}`, or `--from-debian {m}` \
                    where available), or choose another with --sdk N / --wasi-sdk DIR",
                if major.is_none() { format!(" (the PEP 11 pin for CPython {version})") } else { String::new() }
            ))
        }),
        (None, None) => Err(Error::Toolchain(format!(
            "CPython {version} has no WASI SDK pin: choose one with --sdk \
            N"
        ))),
    }
}

fn cmd_python(c: PythonCommand) -> Result<i32> {
    match c {
        PythonCommand::Install {
            version,
            source,
            sdk: major,
            wasi_sdk,
            host_python,
            with_source,
            with_sources,
            verbose,
        } => {
            let with_source =
                with_source.into_iter().map(|(n, f)| Ok((n, absolute(&f)?))).collect::<Result<Vec<_>>>()?;
            let with_sources = with_sources.as_deref().map(absolute).transpose()?;
            // Checked against the pins before anything is built.
            let deps = python::deps::choose_sources(&with_source, with_sources.as_deref())?;
            let sdk = pick_sdk(version, major, wasi_sdk.as_deref())?;
            let self_command = SELF_COMMAND.get().cloned().unwrap_or_else(|| vec!["wasiwheel".into()]);
            python::install_from_source(
                version,
                &python::InstallOptions { source: absolute(&source)?, sdk, host_python, self_command, verbose, deps },
            )?;
        }
        PythonCommand::Assemble { version, headers, native_pyconfig, sdk: major, wasi_sdk, target } => {
            let sdk = pick_sdk(version, major, wasi_sdk.as_deref())?;
            python::assemble(
                version,
                &python::AssembleOptions { headers: absolute(&headers)?, native_pyconfig, sdk, target },
            )?;
        }
        PythonCommand::List => {
            let all = python::installed()?;
            if all.is_empty() {
                println!("no target CPython installed (try `wasiwheel python install 3.13 --source FILE`)");
            }
            for p in all {
                let sdk = p.sdk().map(|s| s.to_string()).unwrap_or_else(|| "SDK unknown".into());
                let kind = if p.is_compile_only() { " (compile-only)" } else { "" };
                // The standard-library C libraries built in, with the modules they enable.
                let libs: Vec<String> = p
                    .libraries()
                    .iter()
                    .map(|l| format!("+{} {} ({})", l.name, l.version, l.modules.join(" ")))
                    .collect();
                let libs = if libs.is_empty() { String::new() } else { format!("  {}", libs.join(" ")) };
                println!("CPython {:<8} {}  {}  {}{}{}", p.full_version(), p.target(), sdk, p.prefix, kind, libs);
            }
        }
    }
    Ok(0)
}

#[cfg(feature = "run")]
fn cmd_run(a: RunArgs) -> Result<i32> {
    if let Some(c) = &a.component {
        let c = absolute(c)?;
        if !c.is_file() {
            return Err(Error::Other(format!(
                "{c} does not exist: give a component built with -C artifact=component or `wasiwheel component`"
            )));
        }
        let name = c.file_name().unwrap_or("component").to_string();
        let args: Vec<String> = std::iter::once(name).chain(a.args.iter().cloned()).collect();
        return crate::crossbuild::wasm::run_component(&c, &args, &a.env);
    }
    let py = python::resolve(a.python_prefix.as_deref(), a.python, WasiTarget::P1)?;
    let wheels = a.wheels.iter().map(|w| absolute(w)).collect::<Result<Vec<_>>>()?;
    for w in &wheels {
        if !w.is_file() {
            return Err(Error::Other(format!(
                "{w} does not exist: give the path of a wheel built with -C target=wasm32-wasi"
            )));
        }
    }
    let sites = a.sites.iter().map(|s| absolute(s)).collect::<Result<Vec<_>>>()?;
    crate::crossbuild::run::run(
        &py,
        &crate::crossbuild::run::RunRequest {
            wheels,
            sites,
            args: a.args,
            dirs: a.dirs,
            env: a.env,
            allow_sdk_mismatch: a.allow_sdk_mismatch,
            wasi_sdk: a.wasi_sdk,
            verbose: a.verbose,
        },
    )
}

#[cfg(feature = "run")]
fn cmd_component(a: ComponentArgs) -> Result<i32> {
    let config = Settings::parse_pairs(&a.config)?;
    let settings = Settings::resolve(&config, |k| std::env::var(k).ok())?;
    let wheels = a.wheels.iter().map(|w| absolute(w)).collect::<Result<Vec<_>>>()?;
    let out = absolute(&a.output)?;
    let size = crate::driver::build_component(&absolute(&a.project)?, &out, settings, &a.host_python, &wheels)?;
    crate::progress::status(&format!("built {out} ({:.1} MB)", size as f64 / 1e6));
    Ok(0)
}

#[cfg(feature = "run")]
fn cmd_exec(a: ExecArgs) -> Result<i32> {
    let module = Utf8PathBuf::from(&a.command[0]);
    // argv[0] is the module's file name, as wasmtime's CLI passes it (CPython
    // derives its prefix from it when it has a directory part).
    let mut args = a.command.clone();
    args[0] = module.file_name().unwrap_or(module.as_str()).to_string();
    let spec = crate::crossbuild::wasm::RunSpec { args, env: a.env, dirs: a.dirs };
    crate::crossbuild::wasm::run_module(&module, &spec)
}

fn cmd_tags(a: TagsArgs) -> Result<i32> {
    let target = a.target;
    let sdk = a
        .sdk
        .or_else(|| pinned_sdk(a.python))
        .ok_or_else(|| Error::Other(format!("CPython {} has no WASI SDK pin: give --sdk N", a.python)))?;
    let platforms = crate::tags::wasi_platform_tags(target, sdk, a.python);
    let (py, abi) = crate::tags::cpython_tags(a.python, "", None);
    println!("python tag:    {py} (abi3 wheels: cp3X for X <= {})", a.python.minor);
    println!("abi tags:      {abi}, abi3, none");
    println!("platform tags: {}", platforms.join(", "));
    let mut line = String::from("pip install");
    for p in &platforms {
        line.push_str(&format!(" --platform {p}"));
    }
    line.push_str(&format!(
        " --python-version {}.{} --implementation cp --abi {abi} --abi abi3 --abi none --only-binary :all: --target {} \
            PACKAGE",
        a.python.major, a.python.minor, a.install_dir
    ));
    println!("install with:  {line}");
    Ok(0)
}

/// Run the command line `args` (`args[0]` is the program name); `self_command`
/// is how to invoke wasiwheel again (the binary, or `python -m wasiwheel`).
/// Returns the process exit status: 0 on success, 1 after printing an error,
/// 2 for usage errors, or the exit status of a program run under `run`/`exec`.
pub fn main(args: Vec<String>, self_command: Vec<String>) -> i32 {
    let _ = SELF_COMMAND.set(self_command);
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wasiwheel: error: {e}");
            1
        }
    }
}

/// Carry out one parsed command. Returns the exit status of a successful
/// command (that of the guest for `run`/`exec`).
///
/// Errors: whatever the command's work returns.
fn run(command: Command) -> Result<i32> {
    match command {
        Command::Build(a) => cmd_build(a),
        Command::Sdk(c) => cmd_sdk(c),
        Command::Python(c) => cmd_python(c),
        #[cfg(feature = "run")]
        Command::Run(a) => cmd_run(a),
        #[cfg(feature = "run")]
        Command::Exec(a) => cmd_exec(a),
        #[cfg(feature = "run")]
        Command::Component(a) => cmd_component(a),
        Command::Tags(a) => cmd_tags(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `wasiwheel ARGS…` prints after `wasiwheel: error: `, or clap's
    /// usage error, for commands that fail before touching the cache.
    fn error_of(args: &[&str]) -> String {
        let argv: Vec<String> = std::iter::once("wasiwheel").chain(args.iter().copied()).map(str::to_string).collect();
        match Cli::try_parse_from(&argv) {
            Err(e) => e.render().to_string(),
            Ok(cli) => match run(cli.command) {
                Err(e) => e.to_string(),
                Ok(code) => panic!("`wasiwheel {}` succeeded with status {code}", args.join(" ")),
            },
        }
    }

    #[test]
    fn cli_error_messages() {
        let cases: &[(&str, &[&str])] = &[
            ("build_without_pyproject", &["build", "/nonexistent/project", "-o", "/nonexistent/out"]),
            ("build_unknown_setting", &["build", "/nonexistent", "-C", "traget=wasm32-wasi"]),
            ("build_setting_without_value", &["build", "/nonexistent", "-C", "target"]),
            ("build_bad_target", &["build", "/nonexistent", "-C", "target=wasm64-wasi"]),
            ("build_bad_jobs", &["build", "/nonexistent", "-C", "jobs=0"]),
            ("tags_unpinned_version", &["tags", "--python", "3.10"]),
            ("tags_bad_target", &["tags", "--python", "3.13", "--target", "wasm32-emscripten"]),
            ("tags_bad_version", &["tags", "--python", "313"]),
            ("sdk_install_unpinned", &["sdk", "install", "99"]),
            ("sdk_install_no_major", &["sdk", "install"]),
            (
                "python_install_not_an_sdk",
                &["python", "install", "3.13", "--source", "/x.tar.xz", "--wasi-sdk", "/nonexistent"],
            ),
            (
                "python_install_unknown_library",
                &["python", "install", "3.13", "--source", "/x.tar.xz", "--with-source", "lzma=/x.tar.xz"],
            ),
            (
                "python_install_missing_library_source",
                &["python", "install", "3.13", "--source", "/x.tar.xz", "--with-source", "zlib=/nonexistent.tar.gz"],
            ),
            (
                "python_install_bad_with_source",
                &["python", "install", "3.13", "--source", "/x.tar.xz", "--with-source", "zlib"],
            ),
            ("python_assemble_bad_target", &["python", "assemble", "3.14", "--headers", "/x", "--target", "wasm64"]),
            ("unknown_command", &["frobnicate"]),
        ];
        for (name, args) in cases {
            insta::assert_snapshot!(*name, error_of(args));
        }
    }
}

//! The `wasiwheel` command line (also `python -m wasiwheel`).

use camino::{Utf8Path, Utf8PathBuf};
use clap::{Args, Parser, Subcommand};

use crate::crossbuild::crossenv;
use crate::error::{Error, Result};
use crate::model::target::{pinned_sdk, PyVersion, WasiTarget};
use crate::pep517::config::Settings;
use crate::registry::fetch;
use crate::toolchain::{provision, python, sdk};

#[derive(Parser, Debug)]
#[command(
    name = "wasiwheel",
    version,
    about = "Build Python wheels with C/C++ extensions for WebAssembly/WASI (and natively), and run them",
    long_about = "wasiwheel is a PEP 517 build backend. Projects use it with\n\n    [build-system]\n    requires = \
        [\"wasiwheel\"]\n    build-backend = \"wasiwheel\"\n\nand build WASI wheels with `pip wheel . -C \
            target=wasm32-wasi`. This command line provisions the WASI SDK and target CPython that such builds \
        need, builds wheels directly, and runs them under the embedded wasmtime.",
    after_help = "Quick start (the first WASI build provisions the WASI SDK and target CPython it needs):\n  \
        pip wheel . -C target=wasm32-wasi -w dist\n  wasiwheel run --python 3.13 --wheel dist/*.whl -- -c 'import \
        mypkg'\n\nAhead of time: `wasiwheel setup --python 3.13`; WASIWHEEL_NO_PROVISION=1 (or --offline) turns \
        provisioning on first use off."
)]
struct Cli {
    /// Never provision a missing WASI SDK or target CPython (as WASIWHEEL_NO_PROVISION=1): say which command would.
    #[arg(long, global = true)]
    offline: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build a wheel (and optionally the sdist) of a project, as `pip wheel` would.
    Build(BuildArgs),
    /// Provision ahead of time what WASI builds need: the pinned WASI SDK and target CPython of a version.
    Setup(SetupArgs),
    /// Show the cache: its directory and each entry's size (SDKs, target CPythons, sources, compiled code).
    Cache,
    /// Manage WASI SDKs in the cache.
    #[command(subcommand)]
    Sdk(SdkCommand),
    /// Manage target (WASI) CPythons in the cache.
    #[command(subcommand)]
    Python(PythonCommand),
    /// Run a target CPython with WASI wheels installed and their extensions linked in.
    #[cfg(feature = "run")]
    Run(RunArgs),
    /// Build a pre-initialized component: a wasi:cli/command running the project's entry, or a WIT world
    /// implemented by an app module (--wit/--world/--app; a project, or an app directory as componentize-py's).
    #[cfg(feature = "run")]
    Component(ComponentArgs),
    /// Write the Python bindings of a WIT world (wit_world, componentize_py_types) for type checkers and editors.
    Bindings(BindingsArgs),
    /// Run a WASI preview1 command module under the embedded wasmtime (like `wasmtime run`).
    #[cfg(feature = "run")]
    Exec(ExecArgs),
    /// Serve a wasi:http/proxy component over HTTP, a fresh instance per request (like `wasmtime serve -Scli`).
    #[cfg(feature = "run")]
    Serve(ServeArgs),
    /// Print the wheel tags for a target and the `pip install` line that installs such wheels.
    Tags(TagsArgs),
    /// Write (or update) a static PEP 503/691 package index of a directory of wheels and sdists.
    Index(IndexArgs),
    /// Install requirements for a WASI target CPython (its tags and environment markers) into a directory.
    Install(InstallArgs),
    /// Run a package's own pytest suite inside WASI CPython with its WASI wheels installed and linked in.
    #[cfg(feature = "run")]
    Test(TestArgs),
}

#[derive(Args, Debug)]
#[command(long_about = "Provision what WASI builds of CPython VERSION need, as the first build would: the WASI SDK \
        of its PEP 11 pin (the official release, else the Debian-package equivalent where this host has Debian's \
        LLVM packages), the pinned CPython source release and the sources of the standard library's C libraries \
        (zlib, bzip2, xz, sqlite3), and one build of CPython for wasm32-wasip1 (about ten minutes on two cores). \
        Host packages the chosen route needs are checked first and named. What is already installed is kept.")]
struct SetupArgs {
    /// The target CPython version.
    #[arg(long, default_value = "3.13")]
    python: PyVersion,
    /// The host Python that runs CPython's build driver.
    #[arg(long = "host-python", default_value = "python3", env = "WASIWHEEL_HOST_PYTHON")]
    host_python: String,
}

#[derive(Args, Debug)]
#[command(long_about = "Write a static simple-repository index (PEP 503 HTML and PEP 691 JSON, PEP 658/714 metadata \
        files, sha256 fragments, Requires-Python) of the wheels and sdists in WHEELHOUSE to SITE. Every file is \
        checked first (a zip with METADATA whose name and version match the file name, RECORD hashes); a corrupt \
        one is refused and nothing is written. Run it again after adding wheels: only new or changed files are \
        read and only their projects' pages are rewritten. Serve SITE with any static web server or use it as \
        --index-url file:///path/to/SITE (docs/registry.md).")]
struct IndexArgs {
    /// The directory of wheels (and sdists) to index.
    wheelhouse: Utf8PathBuf,
    /// The site directory to write (new, empty, or written by an earlier `wasiwheel index`).
    #[arg(short = 'o', long = "output", value_name = "SITE")]
    output: Utf8PathBuf,
}

#[derive(Args, Debug)]
#[command(long_about = "Install requirements and their dependencies for a WASI target CPython into --target SITEDIR, \
        for `wasiwheel run --site SITEDIR`. pip resolves, with the target's wheel tags (`wasiwheel tags`) and with \
        environment markers evaluated as the WASI CPython would (sys_platform == \"wasi\", platform_machine == \
        \"wasm32\", its python_full_version; `--show-markers` prints them). Only wheels are installed: pure ones \
        and WASI ones whose tags fit (build others with `wasiwheel build`).")]
struct InstallArgs {
    /// Requirement specifiers (PEP 508), e.g. `attrs` or `wasidemo==0.3.0`.
    #[arg(value_name = "REQ")]
    requirements: Vec<String>,
    /// Install the requirements listed in FILE (repeatable).
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    requirement_files: Vec<Utf8PathBuf>,
    /// The target CPython version (a runnable one from the cache gives the full version and WASI SDK).
    #[arg(long, value_name = "VERSION")]
    python: Option<PyVersion>,
    /// A target CPython install prefix instead.
    #[arg(long = "python-prefix", value_name = "DIR", conflicts_with = "python")]
    python_prefix: Option<Utf8PathBuf>,
    /// Install wheels of this WASI SDK major (default: the SDK that built the target CPython).
    #[arg(long, value_name = "N")]
    sdk: Option<u32>,
    /// The directory to install into.
    #[arg(long, value_name = "SITEDIR", required_unless_present = "show_markers")]
    target: Option<Utf8PathBuf>,
    /// The simple index (PEP 503/691) to install from instead of PyPI, e.g. http://127.0.0.1:8080/simple/.
    #[arg(long = "index-url", value_name = "URL")]
    index_url: Option<String>,
    /// Also look for wheels in this directory or page (repeatable).
    #[arg(long = "find-links", value_name = "DIR")]
    find_links: Vec<String>,
    /// Use no index, only --find-links.
    #[arg(long = "no-index")]
    no_index: bool,
    /// The host Python whose pip resolves and installs [default: the native CPython kept with the target
    /// CPython, else the Python running wasiwheel, else python3].
    #[arg(long = "host-python", value_name = "PYTHON", env = "WASIWHEEL_HOST_PYTHON")]
    host_python: Option<String>,
    /// Print the target's environment markers (JSON) and the pip arguments, and install nothing.
    #[arg(long = "show-markers")]
    show_markers: bool,
}

#[derive(Args, Debug)]
#[command(after_help = "SPEC is a project directory, an sdist file (.tar.gz/.zip) or `name==version` (its sdist is \
    fetched from the package index). A project whose build backend is not wasiwheel (setuptools, meson-python, \
    scikit-build-core, maturin, …) is built by its own backend in a cross environment (Rust: cargo for the \
    target, needs `rustup target add wasm32-wasip1` and `rustup component add rust-src`); -C keys wasiwheel does \
    not know go to that backend (e.g. -C setup-args=… for meson-python, -C cmake.define.NAME=… for \
    scikit-build-core, -C build-args=… for maturin). \
    See docs/foreign-sdists.md. With -r FILE or several SPECs, the set and its dependencies are built for the \
    target into the output directory (docs/registry.md): environment markers are decided for WASI, pure and \
    fitting WASI wheels are downloaded, the rest is built from sdists; a summary table follows, and the exit \
    status is 1 when a requested package failed (the others are kept).")]
struct BuildArgs {
    /// The project directory, an sdist file, or `name==version` from the package index. Several SPECs (or -r)
    /// build a requirement set with its dependencies for the target.
    #[arg(value_name = "SPEC")]
    project: Vec<String>,
    /// A requirements file (repeatable): build every requirement and its dependencies for the target into the
    /// output directory, pure and fitting WASI wheels downloaded, the rest built from sdists, with a summary.
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    requirement_files: Vec<Utf8PathBuf>,
    /// Where to write the wheel.
    #[arg(short = 'o', long = "out-dir", default_value = "dist")]
    out_dir: Utf8PathBuf,
    /// A config setting, as pip's `-C key=value` (repeatable), e.g. `-C target=wasm32-wasi`.
    #[arg(short = 'C', long = "config-setting", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Also build the sdist.
    #[arg(long)]
    sdist: bool,
    /// The host Python that runs a foreign project's backend and, for native builds, the build [default: for a
    /// WASI target, the native CPython of the target's version kept with the target CPython; else the Python
    /// running wasiwheel, else python3].
    #[arg(long, value_name = "PYTHON", env = "WASIWHEEL_HOST_PYTHON")]
    host_python: Option<String>,
    #[command(flatten)]
    index: IndexSource,
}

/// Where `name==version` sdists and test requirements come from.
#[derive(Args, Debug)]
struct IndexSource {
    /// The package index (PEP 503/691 simple API base URL).
    #[arg(long = "index-url", value_name = "URL", env = "PIP_INDEX_URL", default_value = fetch::DEFAULT_INDEX)]
    index_url: String,
    /// A directory with sdists/wheels searched before the index (repeatable; PIP_FIND_LINKS: space-separated).
    #[arg(long = "find-links", value_name = "DIR", env = "PIP_FIND_LINKS", value_delimiter = ' ')]
    find_links: Vec<String>,
}

/// `wasiwheel test`.
#[cfg(feature = "run")]
#[derive(Args, Debug)]
struct TestArgs {
    /// The WASI wheels to test (their extensions are linked into the interpreter).
    #[arg(required = true, value_name = "WHEEL")]
    wheels: Vec<Utf8PathBuf>,
    /// A test requirement besides pytest (repeatable), installed for the target.
    #[arg(long = "requires", value_name = "REQ")]
    requires: Vec<String>,
    /// The directory with the tests (e.g. the unpacked sdist): mapped at /project and made the working directory.
    #[arg(long, value_name = "PATH")]
    tests: Option<Utf8PathBuf>,
    /// The guest directory pytest runs in [default: /project with --tests, else /]: `/tmp` is writable, for
    /// suites that write files in their working directory (then name test paths /project/…).
    #[arg(long, value_name = "GUEST_DIR")]
    cwd: Option<String>,
    /// The target CPython version from the cache.
    #[arg(long, value_name = "VERSION", conflicts_with = "python_prefix")]
    python: Option<PyVersion>,
    /// A target CPython install prefix instead.
    #[arg(long = "python-prefix", value_name = "DIR")]
    python_prefix: Option<Utf8PathBuf>,
    /// The host Python whose pip installs the test requirements [default: the native CPython kept with the
    /// target CPython, else the Python running wasiwheel, else python3].
    #[arg(long, value_name = "PYTHON", env = "WASIWHEEL_HOST_PYTHON")]
    host_python: Option<String>,
    #[command(flatten)]
    index: IndexSource,
    /// Set a guest environment variable: NAME=VALUE (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Print the relink command.
    #[arg(short, long)]
    verbose: bool,
    /// Arguments for pytest, after `--`.
    #[arg(last = true, allow_hyphen_values = true)]
    pytest_args: Vec<String>,
}

#[cfg(feature = "run")]
#[derive(Args, Debug)]
#[command(long_about = "Build a pre-initialized WebAssembly component. Without --wit: a wasi:cli/command that runs \
        the project's entry (`[tool.wasiwheel.component] entry` or its one console script). With --wit, --world and \
        --app (or `[tool.wasiwheel.component] wit-path`, `world`, `app`): a component of that WIT world whose \
        exports are implemented by the app module's classes, as componentize-py's `-d WIT -w WORLD componentize APP` \
        (apps written for componentize-py build unchanged). DIR is a project (pyproject.toml) or, for worlds, an app \
        directory whose .py files go in. Only CPython's standard library and the given files go in; extensions come \
        from the project or --wheel. Serve a wasi:http/proxy component with `wasiwheel serve`.")]
struct ComponentArgs {
    /// The project directory (with pyproject.toml), or an app directory (its .py files) with --wit.
    #[arg(default_value = ".", value_name = "DIR")]
    project: Utf8PathBuf,
    /// A .wit file or a directory of them (with deps/): build a component of a world of it.
    #[arg(long = "wit", short = 'd', value_name = "PATH")]
    wit: Option<Utf8PathBuf>,
    /// The world (e.g. wasi:http/proxy@0.2.0; default: the package's only world).
    #[arg(long = "world", short = 'w', value_name = "NAME")]
    world: Option<String>,
    /// The module whose classes implement the world's exports (`WitWorld`, or one class per exported interface).
    #[arg(long = "app", value_name = "MODULE")]
    app: Option<String>,
    /// A directory of Python modules the app imports (repeatable; as componentize-py's -p).
    #[arg(long = "path", short = 'p', value_name = "DIR")]
    paths: Vec<Utf8PathBuf>,
    /// Import no WASI: WASI calls fail with ENOSYS (for hosts without WASI; componentize-py's --stub-wasi).
    #[arg(long = "stub-wasi")]
    stub_wasi: bool,
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

#[derive(Args, Debug)]
#[command(long_about = "Write the Python bindings of a WIT world into DIR: the package wit_world (WitWorld and the \
        exports' protocols, the imports' functions, records, variants, enums, flags, resources) and \
        componentize_py_types, in the shape componentize-py 0.25.1 generates, plus the runtime modules they call \
        (typed: they pass `mypy --strict`). The component wasiwheel builds carries the same bindings; DIR is for \
        type checkers and editors.")]
struct BindingsArgs {
    /// A .wit file or a directory of them (with deps/).
    #[arg(long = "wit", short = 'd', value_name = "PATH")]
    wit: Utf8PathBuf,
    /// The world (default: the package's only world).
    #[arg(long = "world", short = 'w', value_name = "NAME")]
    world: Option<String>,
    /// The directory to write the bindings into.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: Utf8PathBuf,
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
        /// Do not build the exception-enabled C++ runtimes (libunwind, libc++abi, libc++ with wasm
        /// exceptions) for an SDK that lacks them; a C++ build then builds them on first use.
        #[arg(long = "no-cxx-exceptions")]
        no_cxx_exceptions: bool,
    },
    /// List the installed SDKs with their identity and whether they have exception-enabled C++ runtimes.
    List,
    /// Remove the installed SDK of major N from the cache.
    Remove {
        /// The WASI SDK major, e.g. 25.
        #[arg(value_name = "N")]
        major: u32,
    },
    /// Print the directory of the installed SDK of major N (as `--wasi-sdk` takes it); exit 1 if none.
    Find {
        /// The WASI SDK major, e.g. 25.
        #[arg(value_name = "N")]
        major: u32,
    },
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
    /// Remove target CPythons from the cache: every one of VERSION for --target, or the one at --prefix.
    Remove {
        /// The CPython version, e.g. 3.13.
        #[arg(required_unless_present = "prefix")]
        version: Option<PyVersion>,
        /// The WASI target.
        #[arg(long, default_value = "wasm32-wasip1", value_parser = parse_target)]
        target: WasiTarget,
        /// The prefix of one cached CPython (as `wasiwheel python list` shows it).
        #[arg(long, value_name = "DIR", conflicts_with = "version")]
        prefix: Option<Utf8PathBuf>,
    },
    /// Print the install prefix of the cached target CPython that builds would use (as `--python-prefix` takes
    /// it): the newest of VERSION for --target, preferring runnable ones with the most standard-library modules.
    Find {
        /// The CPython version, e.g. 3.13 (default: the newest installed).
        version: Option<PyVersion>,
        /// The WASI target.
        #[arg(long, default_value = "wasm32-wasip1", value_parser = parse_target)]
        target: WasiTarget,
    },
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
    dirs: Vec<crate::runtime::wasm::Preopen>,
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
    dirs: Vec<crate::runtime::wasm::Preopen>,
    /// Set a guest environment variable: NAME=VALUE (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// The module and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "MODULE [ARGS]...")]
    command: Vec<String>,
}

#[cfg(feature = "run")]
#[derive(Args, Debug)]
#[command(
    long_about = "Serve a WebAssembly component of the wasi:http/proxy world (WASI 0.2: it exports \
        wasi:http/incoming-handler) over HTTP/1.1 with the embedded wasmtime, as `wasmtime serve -Scli` does. The \
        component is compiled once (and cached) and every request is handled by a fresh instance, so no state \
        survives from one request to the next. Besides wasi:http it may import all of WASI 0.2 (wasi:cli, \
        wasi:filesystem, ..., as components built from CPython do); it gets no directories, arguments or \
        environment variables, and its stdout and stderr are the server's. When listening, `serving \
        http://ADDR/` is printed on stderr with the address bound. A request whose instance traps is logged on \
        stderr and answered 500; serving goes on. Ctrl-C or SIGTERM stops the server.",
    after_help = "Example:\n  componentize-py -d wit -w wasi:http/proxy@0.2.0 componentize app -o http.wasm\n  \
        wasiwheel serve http.wasm --addr 127.0.0.1:8080\n  curl -d hello -H 'content-type: text/plain' \
        http://127.0.0.1:8080/echo"
)]
struct ServeArgs {
    /// The wasi:http/proxy component (.wasm).
    #[arg(value_name = "COMPONENT")]
    component: Utf8PathBuf,
    /// The address to listen on, IP:PORT (port 0: any free port, shown in the `serving` line).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
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

/// What `wasiwheel build SPEC` names.
enum Spec {
    /// A project directory.
    Dir(Utf8PathBuf),
    /// An sdist file.
    Sdist(Utf8PathBuf),
    /// `name==version` from the index.
    Requirement(String, String),
}

fn parse_spec(spec: &str) -> Result<Spec> {
    let p = Utf8Path::new(spec);
    if p.is_dir() {
        return Ok(Spec::Dir(absolute(p)?));
    }
    if p.is_file() {
        return Ok(Spec::Sdist(absolute(p)?));
    }
    if let Some((name, version)) = spec.split_once("==") {
        let (name, version) = (name.trim(), version.trim());
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && version.parse::<pep440_rs::Version>().is_ok();
        if valid {
            return Ok(Spec::Requirement(name.to_string(), version.to_string()));
        }
    }
    if spec.ends_with(".tar.gz") || spec.ends_with(".zip") || spec.contains('/') {
        return Err(Error::Other(format!(
            "{spec} does not exist: give a project directory, an sdist file or NAME==VERSION"
        )));
    }
    Err(Error::Other(format!(
        "`{spec}` is neither a project directory, an sdist file nor a pinned requirement: write NAME==VERSION"
    )))
}

fn index_config(a: &IndexSource) -> fetch::IndexConfig {
    fetch::IndexConfig {
        index_url: a.index_url.clone(),
        find_links: a.find_links.iter().filter(|f| !f.trim().is_empty()).cloned().collect(),
    }
}

fn cmd_build(a: BuildArgs) -> Result<i32> {
    if !a.requirement_files.is_empty() || a.project.len() > 1 {
        return cmd_build_set(a);
    }
    let spec = a.project.first().cloned().unwrap_or_else(|| ".".to_string());
    let config = Settings::parse_pairs(&a.config)?;
    // wasiwheel's own keys are checked before anything is fetched; other keys
    // are judged once the backend is known (a foreign backend gets them).
    let (ours, _) = crate::driver::split_settings(config.clone());
    Settings::resolve(&ours, |k| std::env::var(k).ok())?;
    let out = absolute(&a.out_dir)?;
    // An sdist (given or fetched) is unpacked, after checking it, into a
    // directory that lives as long as the build.
    let mut _unpacked = None;
    let project = match parse_spec(&spec)? {
        Spec::Dir(d) => d,
        Spec::Sdist(f) => unpack(&f, &mut _unpacked)?,
        Spec::Requirement(name, version) => {
            let f =
                fetch::fetch_sdist(&name, &version, &index_config(&a.index), &crate::toolchain::cache::dir("sdists")?)?;
            unpack(&f, &mut _unpacked)?
        }
    };
    if a.sdist {
        let backend = crossenv::build_backend(&project)?;
        if !is_wasiwheel(&backend) {
            return Err(Error::Other(format!(
                "--sdist builds sdists of wasiwheel projects only; {project} uses the backend `{backend}`"
            )));
        }
        crate::driver::build_sdist(&project, &out, &Settings::resolve(&config, |k| std::env::var(k).ok())?)?;
    }
    build_project(&project, &out, config, a.host_python.as_deref(), true)?;
    Ok(0)
}

/// Whether the PEP 517 backend `backend` (`module:object`) is wasiwheel.
fn is_wasiwheel(backend: &str) -> bool {
    backend.split(':').next().map(str::trim) == Some("wasiwheel")
}

/// Build the wheel of the project directory `project` into `out`: with
/// wasiwheel's own driver when it is the project's backend, else with the
/// project's backend in a cross environment ([`build_foreign`]). For a
/// wasiwheel project, `strict` makes `-C` keys wasiwheel does not know an
/// error (one project); otherwise they are left for the foreign projects of
/// a set. Returns the wheel's path.
///
/// Errors: those of [`crate::driver::build_wheel`] and [`build_foreign`].
fn build_project(
    project: &Utf8Path,
    out: &Utf8Path,
    config: ConfigMap,
    host_python: Option<&str>,
    strict: bool,
) -> Result<Utf8PathBuf> {
    if is_wasiwheel(&crossenv::build_backend(project)?) {
        if let Some(backend) = crate::pep517::pyproject::wrapped_backend(project)? {
            // `tool.wasiwheel.backend`: that backend builds it, in an isolated
            // environment as for any foreign project.
            return crate::driver::build_foreign(
                project,
                out,
                config,
                host_python,
                crossenv::BackendChoice::Wrapped { backend, isolated: true },
            );
        }
        let given = if strict { config } else { crate::driver::split_settings(config).0 };
        let settings = Settings::resolve(&given, |k| std::env::var(k).ok())?;
        let host_python = host_python.map(str::to_string).unwrap_or_else(provision::default_host_python);
        return Ok(out.join(crate::driver::build_wheel(project, out, settings, &host_python)?));
    }
    crate::driver::build_foreign(project, out, config, host_python, crossenv::BackendChoice::Own)
}

/// The items of requirements file `file` (pip's format, restricted): one
/// PEP 508 requirement, or a path to a project directory or sdist (relative
/// to the file), per line; `#` comments; `-r FILE` includes another file.
///
/// Errors: [`Error::Other`] naming the file and line of an unreadable
/// requirement or of a pip option wasiwheel does not take from files.
fn read_requirements(file: &Utf8Path, depth: usize) -> Result<Vec<crate::registry::wheelhouse::SetItem>> {
    use crate::registry::wheelhouse::SetItem;
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::Other(format!("cannot read the requirements file {file}: {e}")))?;
    let base = file.parent().map(Utf8Path::to_path_buf).unwrap_or_default();
    let mut items = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = match raw.find(" #") {
            Some(i) => &raw[..i],
            None if raw.trim_start().starts_with('#') => "",
            None => raw,
        }
        .trim();
        if line.is_empty() {
            continue;
        }
        let at = format!("{file}:{}", n + 1);
        if let Some(inc) = line.strip_prefix("-r ").or_else(|| line.strip_prefix("--requirement ")) {
            if depth > 10 {
                return Err(Error::Other(format!("{at}: requirements files include each other too deeply")));
            }
            items.extend(read_requirements(&base.join(inc.trim()), depth + 1)?);
            continue;
        }
        if line.starts_with('-') {
            return Err(Error::Other(format!(
                "{at}: `{line}` is a pip option, which `wasiwheel build -r` does not read from files: give \
                 --index-url / --find-links on the command line"
            )));
        }
        let path = base.join(line);
        if line.contains('/') || line.starts_with('.') || path.exists() {
            if !path.exists() {
                return Err(Error::Other(format!("{at}: {path} does not exist")));
            }
            items.push(SetItem::Local(absolute(&path)?));
            continue;
        }
        line.parse::<pep508_rs::Requirement>()
            .map_err(|e| Error::Other(format!("{at}: `{line}` is not a requirement (PEP 508): {e}")))?;
        items.push(SetItem::Requirement(line.to_string()));
    }
    Ok(items)
}

/// `wasiwheel build -r FILE [SPEC…]`: the requirement set and its
/// dependencies for the WASI target (see [`crate::registry::wheelhouse`]).
fn cmd_build_set(a: BuildArgs) -> Result<i32> {
    use crate::registry::install::{InstallTarget, MarkerEnvironment};
    use crate::registry::wheelhouse::{self, Outcome, SetItem};
    if a.sdist {
        return Err(Error::Other("--sdist builds one project's sdist; it does not go with -r or several SPECs".into()));
    }
    let config = Settings::parse_pairs(&a.config)?;
    let (ours, _) = crate::driver::split_settings(config.clone());
    let settings = Settings::resolve(&ours, |k| std::env::var(k).ok())?;
    let Some(target) = settings.target else {
        return Err(Error::config(
            "target",
            "a requirement set is built for a WASI target: add -C target=wasm32-wasi (for the host, use pip wheel -r)",
        ));
    };
    let (py, sdk) = crate::driver::target_toolchain(&settings, target)?;
    let (_, abi) = crate::tags::cpython_tags(py.version, &py.abiflags, None);
    let install_target = InstallTarget {
        abi,
        platforms: crate::tags::wasi_platform_tags(target, sdk.identity.major, py.version),
        markers: MarkerEnvironment::wasi(py.version, &py.full_version()),
    };
    let mut items = Vec::new();
    for f in &a.requirement_files {
        items.extend(read_requirements(&absolute(f)?, 0)?);
    }
    for spec in &a.project {
        let p = Utf8Path::new(spec);
        if p.exists() {
            items.push(SetItem::Local(absolute(p)?));
        } else {
            spec.parse::<pep508_rs::Requirement>().map_err(|e| {
                Error::Other(format!("`{spec}` is neither a project directory, an sdist file nor a requirement: {e}"))
            })?;
            items.push(SetItem::Requirement(spec.clone()));
        }
    }
    if items.is_empty() {
        return Err(Error::Other("nothing to build: the requirements files list no requirement".into()));
    }
    let out = absolute(&a.out_dir)?;
    let req = wheelhouse::SetRequest {
        items,
        wheelhouse: out.clone(),
        index: index_config(&a.index),
        host_python: provision::host_python(a.host_python.as_deref(), &py),
        target: install_target,
    };
    let host_python = a.host_python.clone();
    let mut build = |path: &Utf8Path| -> Result<Utf8PathBuf> {
        let mut keep = None;
        let project = if path.is_dir() { path.to_path_buf() } else { unpack(path, &mut keep)? };
        build_project(&project, &out, config.clone(), host_python.as_deref(), false)
    };
    let rows = wheelhouse::build_set(&req, &mut build)?;
    println!(
        "\nThe requirement set for {target} (CPython {}, {}) in {out}:\n{}",
        py.full_version(),
        sdk.identity,
        wheelhouse::summary(&rows)
    );
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.requested && matches!(r.outcome, Outcome::Failed(_)))
        .map(|r| r.name.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(0);
    }
    crate::progress::status(&format!("error: not built: {} (the others are in {out})", failed.join(", ")));
    Ok(1)
}

/// `-C` settings: key → values.
type ConfigMap = std::collections::BTreeMap<String, Vec<String>>;

/// Unpack the sdist `f` into a new temporary directory kept in `keep`;
/// returns the project directory.
fn unpack(f: &Utf8Path, keep: &mut Option<tempfile::TempDir>) -> Result<Utf8PathBuf> {
    let tmp = tempfile::Builder::new()
        .prefix("wasiwheel-sdist.")
        .tempdir()
        .map_err(|e| Error::Io { context: "cannot create a temporary directory".into(), source: e })?;
    let dir = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf())
        .map_err(|p| Error::Other(format!("{} is not UTF-8", p.display())))?;
    let root = fetch::unpack_sdist(f, &dir)?;
    *keep = Some(tmp);
    Ok(root)
}

#[cfg(feature = "run")]
fn cmd_test(a: TestArgs) -> Result<i32> {
    let py = provision::python(a.python_prefix.as_deref(), a.python, WasiTarget::P1)?;
    let sdk_major = py
        .sdk()
        .map(|s| s.major)
        .or_else(|| pinned_sdk(py.version))
        .ok_or_else(|| Error::Other(format!("cannot tell which WASI SDK built CPython {}", py.full_version())))?;
    let (_, abi) = crate::tags::cpython_tags(py.version, &py.abiflags, None);
    let mut pip_args = Vec::new();
    for p in crate::tags::wasi_platform_tags(py.target(), sdk_major, py.version) {
        pip_args.extend(["--platform".to_string(), p]);
    }
    pip_args.extend([
        "--python-version".to_string(),
        format!("{}.{}", py.version.major, py.version.minor),
        "--implementation".into(),
        "cp".into(),
        "--abi".into(),
        abi,
        "--abi".into(),
        "abi3".into(),
        "--abi".into(),
        "none".into(),
        "--index-url".into(),
        a.index.index_url.clone(),
    ]);
    for f in a.index.find_links.iter().filter(|f| !f.trim().is_empty()) {
        pip_args.extend(["--find-links".to_string(), f.clone()]);
    }
    let wheels = a.wheels.iter().map(|w| absolute(w)).collect::<Result<Vec<_>>>()?;
    let tests = a.tests.as_deref().map(absolute).transpose()?;
    crate::runtime::test::test(
        &py,
        &crate::runtime::test::TestRequest {
            wheels,
            requires: a.requires,
            tests,
            cwd: a.cwd,
            pytest_args: a.pytest_args,
            host_python: provision::host_python(a.host_python.as_deref(), &py),
            pip_args,
            env: a.env,
            verbose: a.verbose,
        },
    )
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

/// `wasiwheel setup`: the host packages the routes need, checked and named
/// first; then [`provision::ensure_python`] (which provisions the SDK too).
fn cmd_setup(a: SetupArgs) -> Result<i32> {
    provision::check_host(a.python)?;
    let py = provision::ensure_python(a.python, &a.host_python)?;
    let sdk = provision::sdk(None, py.sdk().map(|s| s.major))?;
    println!("CPython {} for {} at {}", py.full_version(), py.target(), py.prefix);
    if let Some(host) = py.host_python() {
        println!("host interpreter of its builds: {host}");
    }
    println!("{} at {}", sdk.identity, sdk.root);
    Ok(0)
}

/// `wasiwheel cache`: the root and the size of each entry.
fn cmd_cache() -> Result<i32> {
    let root = crate::toolchain::cache::root()?;
    println!("{root}");
    let entries = crate::toolchain::cache::entries()?;
    if entries.is_empty() {
        println!("  (empty)");
    }
    for e in entries {
        println!("  {:>9}  {}", human_size(e.bytes), e.path.strip_prefix(&root).unwrap_or(&e.path));
    }
    Ok(0)
}

/// `bytes` as `12.3 MB` (SI units, as pip and uv print sizes).
fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.2} GB", b / 1e9),
    }
}

fn cmd_sdk(c: SdkCommand) -> Result<i32> {
    match c {
        SdkCommand::Install { major, mirror, from_debian, deb, debian_mirror, no_cxx_exceptions } => {
            let s = match (major, from_debian) {
                (_, Some(n)) => sdk::debian::install_from_debian(
                    n,
                    &sdk::debian::DebianInstallOptions { deb, mirror: debian_mirror },
                )?,
                (Some(n), None) => sdk::official::install_official(n, mirror.as_deref())?,
                (None, None) => unreachable!("clap requires one of them"),
            };
            // The runtime brings its own libc++: the SDK needs none for it.
            if !no_cxx_exceptions && s.targets().contains(&WasiTarget::P1) {
                match crate::toolchain::cxx_eh::plan(&s, WasiTarget::P1) {
                    Ok(_) => {
                        let rt = crate::toolchain::cxx_eh::ensure(&s, WasiTarget::P1)?;
                        println!("exception-enabled C++ runtime for {}: {}", WasiTarget::P1, rt.origin);
                    }
                    Err(why) => println!("no exception-enabled C++ runtime for {}: {why}", s.identity),
                }
            }
        }
        SdkCommand::Remove { major } => {
            let all: Vec<sdk::WasiSdk> = sdk::installed()?.into_iter().filter(|s| s.identity.major == major).collect();
            if all.is_empty() {
                return Err(Error::SdkNotInstalled { want: Some(major) });
            }
            for s in all {
                crate::toolchain::cache::remove_entry(&s.root)?;
                println!("removed {} at {}", s.identity, s.root);
            }
        }
        SdkCommand::Find { major } => match sdk::installed()?.into_iter().find(|s| s.identity.major == major) {
            Some(s) => println!("{}", s.root),
            None => return Err(Error::SdkNotInstalled { want: Some(major) }),
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
                for t in s.targets() {
                    match crate::toolchain::cxx_eh::describe(&s, t) {
                        Ok(at) => println!("    C++ exceptions ({t}): yes, {at}"),
                        Err(why) => println!("    C++ exceptions ({t}): no: {why}"),
                    }
                    match crate::toolchain::cxx_eh::for_sjlj(&s, t, true) {
                        Some(cc) => println!("    setjmp/longjmp ({t}): yes, compiled by {}", cc.clang),
                        None => println!(
                            "    setjmp/longjmp ({t}): no: {}",
                            crate::toolchain::cxx_eh::target_limit(t).unwrap_or(
                                "no clang that emits the exnref encoding is installed (Debian's `clang-22 lld-22`)"
                            )
                        ),
                    }
                }
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
            let self_command = provision::self_command();
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
        PythonCommand::Remove { version, target, prefix } => {
            let all: Vec<python::TargetPython> = python::installed()?
                .into_iter()
                .filter(|p| match &prefix {
                    Some(d) => p.prefix == *d || absolute(d).is_ok_and(|d| p.prefix == d),
                    None => Some(p.version) == version && p.target() == target,
                })
                .collect();
            if all.is_empty() {
                return Err(Error::Other(match prefix {
                    Some(d) => format!("{d} is not a target CPython in the cache (see `wasiwheel python list`)"),
                    None => format!(
                        "no target CPython {} for {target} is in the cache (see `wasiwheel python list`)",
                        version.map(|v| v.to_string()).unwrap_or_default()
                    ),
                }));
            }
            for p in all {
                crate::toolchain::cache::remove_entry(&p.prefix)?;
                println!("removed CPython {} for {} at {}", p.full_version(), p.target(), p.prefix);
            }
        }
        PythonCommand::Find { version, target } => println!("{}", python::resolve(None, version, target)?.prefix),
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
                // The native CPython kept with it (the host interpreter of its builds).
                let host = p.host_python().map(|h| format!("  host: {h}")).unwrap_or_default();
                println!(
                    "CPython {:<8} {}  {}  {}{}{}{}",
                    p.full_version(),
                    p.target(),
                    sdk,
                    p.prefix,
                    kind,
                    libs,
                    host
                );
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
        return crate::runtime::wasm::run_component(&c, &args, &a.env);
    }
    let py = provision::python(a.python_prefix.as_deref(), a.python, WasiTarget::P1)?;
    let wheels = a.wheels.iter().map(|w| absolute(w)).collect::<Result<Vec<_>>>()?;
    for w in &wheels {
        if !w.is_file() {
            return Err(Error::Other(format!(
                "{w} does not exist: give the path of a wheel built with -C target=wasm32-wasi"
            )));
        }
    }
    let sites = a.sites.iter().map(|s| absolute(s)).collect::<Result<Vec<_>>>()?;
    crate::runtime::run::run(
        &py,
        &crate::runtime::run::RunRequest {
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
    let mut config = Settings::parse_pairs(&a.config)?;
    for (key, value) in [
        ("component-wit-path", a.wit.as_ref().map(|p| p.to_string())),
        ("component-world", a.world.clone()),
        ("component-app", a.app.clone()),
    ] {
        if let Some(v) = value {
            config.entry(key.to_string()).or_default().push(v);
        }
    }
    if a.stub_wasi {
        config.entry("component-stub-wasi".to_string()).or_default().push("true".to_string());
    }
    let mut settings = Settings::resolve(&config, |k| std::env::var(k).ok())?;
    let project = absolute(&a.project)?;
    if !project.join("pyproject.toml").exists() {
        // An app directory, as componentize-py takes one.
        if let Some(w) = &mut settings.component_wit_path {
            *w = absolute(w)?;
        }
        let Some(world) = crate::plan::world_plan(&settings, None, &project)? else {
            return Err(Error::Project {
                path: project.join("pyproject.toml").to_string(),
                message: "no pyproject.toml here: build a project, or give --wit, --world and --app to build an app \
                          directory's component of a WIT world"
                    .into(),
            });
        };
        if !project.is_dir() {
            return Err(Error::Other(format!("{project} is not a directory")));
        }
        let paths = a.paths.iter().map(|p| absolute(p)).collect::<Result<Vec<_>>>()?;
        let out = absolute(&a.output)?;
        let size = crate::driver::build_app_component(&project, &paths, &out, &settings, &world)?;
        crate::progress::status(&format!("built {out} ({:.1} MB)", size as f64 / 1e6));
        return Ok(0);
    }
    let wheels = a.wheels.iter().map(|w| absolute(w)).collect::<Result<Vec<_>>>()?;
    let out = absolute(&a.output)?;
    let size = crate::driver::build_component(&absolute(&a.project)?, &out, settings, &a.host_python, &wheels)?;
    crate::progress::status(&format!("built {out} ({:.1} MB)", size as f64 / 1e6));
    Ok(0)
}

fn cmd_bindings(a: BindingsArgs) -> Result<i32> {
    let world = crate::component::world::World::load(&absolute(&a.wit)?, a.world.as_deref())?;
    let out = absolute(&a.output)?;
    let n = crate::component::world::write_bindings(&world, &out)?;
    crate::progress::status(&format!("wrote the bindings of world {} to {out} ({n} files)", world.name()));
    Ok(0)
}

#[cfg(feature = "run")]
fn cmd_exec(a: ExecArgs) -> Result<i32> {
    let module = Utf8PathBuf::from(&a.command[0]);
    // argv[0] is the module's file name, as wasmtime's CLI passes it (CPython
    // derives its prefix from it when it has a directory part).
    let mut args = a.command.clone();
    args[0] = module.file_name().unwrap_or(module.as_str()).to_string();
    let spec = crate::runtime::wasm::RunSpec { args, env: a.env, dirs: a.dirs };
    crate::runtime::wasm::run_module(&module, &spec)
}

#[cfg(feature = "run")]
fn cmd_serve(a: ServeArgs) -> Result<i32> {
    let addr = crate::runtime::serve::parse_addr(&a.addr)?;
    crate::runtime::serve::serve(&absolute(&a.component)?, addr)?;
    Ok(0)
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

fn cmd_index(a: IndexArgs) -> Result<i32> {
    let start = std::time::Instant::now();
    let wheelhouse = absolute(&a.wheelhouse)?;
    let site = absolute(&a.output)?;
    let r = crate::registry::index::build_index(&wheelhouse, &site)?;
    crate::progress::status(&format!(
        "indexed {} file(s) of {} project(s) in {site}: read {} new or changed, removed {}, wrote {} project page(s){} \
         in {:.2} s",
        r.files,
        r.projects,
        r.inspected,
        r.removed,
        r.projects_written,
        if r.root_written { " and the root" } else { "" },
        start.elapsed().as_secs_f64()
    ));
    Ok(0)
}

fn cmd_install(a: InstallArgs) -> Result<i32> {
    use crate::registry::install::{InstallRequest, InstallTarget, MarkerEnvironment};
    let py = provision::python(a.python_prefix.as_deref(), a.python, WasiTarget::P1)?;
    let sdk = match a.sdk.or_else(|| py.sdk().map(|s| s.major)) {
        Some(n) => n,
        None => {
            return Err(Error::Other(format!(
                "cannot tell which WASI SDK built the target CPython at {}: give --sdk N",
                py.prefix
            )))
        }
    };
    let (_, abi) = crate::tags::cpython_tags(py.version, &py.abiflags, None);
    let target = InstallTarget {
        abi,
        platforms: crate::tags::wasi_platform_tags(py.target(), sdk, py.version),
        markers: MarkerEnvironment::wasi(py.version, &py.full_version()),
    };
    let host_python = provision::host_python(a.host_python.as_deref(), &py);
    let req = InstallRequest {
        requirements: a.requirements,
        requirement_files: a.requirement_files.iter().map(|f| absolute(f)).collect::<Result<Vec<_>>>()?,
        target_dir: absolute(a.target.as_deref().unwrap_or(Utf8Path::new(".")))?,
        index_url: a.index_url,
        find_links: a.find_links,
        no_index: a.no_index,
        host_python,
    };
    if a.show_markers {
        println!("markers: {}", target.markers.to_json());
        println!("pip {}", crate::registry::install::pip_args(&target, &req).join(" "));
        return Ok(0);
    }
    crate::registry::install::install(&target, &req)?;
    crate::progress::status(&format!(
        "installed for CPython {} ({}) into {}; run with `wasiwheel run --site {}`",
        py.full_version(),
        target.platforms.join(", "),
        req.target_dir,
        req.target_dir
    ));
    Ok(0)
}

/// Run the command line `args` (`args[0]` is the program name); `self_command`
/// is how to invoke wasiwheel again (the binary, or `python -m wasiwheel`).
/// Returns the process exit status: 0 on success, 1 after printing an error,
/// 2 for usage errors, or the exit status of a program run under `run`/`exec`.
pub fn main(args: Vec<String>, self_command: Vec<String>) -> i32 {
    provision::set_self_command(self_command);
    // The cross environment's compiler, linker and archiver wrappers (hidden
    // commands; their arguments are the compiler's, not wasiwheel's).
    if let Some(tool) =
        args.get(1).map(String::as_str).filter(|t| ["cc", "c++", "ar", "ranlib", "rust-ld", "rustc-wrap"].contains(t))
    {
        let rest = &args[2..];
        let r = match tool {
            "cc" => crossenv::wrap::cc(rest, false),
            "c++" => crossenv::wrap::cc(rest, true),
            "rust-ld" => crossenv::rust::rust_ld(rest),
            "rustc-wrap" => crossenv::rust::rustc_wrap(rest),
            _ => crossenv::wrap::ar(rest, tool == "ranlib"),
        };
        return r.unwrap_or_else(|e| {
            eprintln!("wasiwheel {tool}: error: {e}");
            1
        });
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    if cli.offline {
        provision::set_offline();
    }
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
        Command::Setup(a) => cmd_setup(a),
        Command::Cache => cmd_cache(),
        Command::Sdk(c) => cmd_sdk(c),
        Command::Python(c) => cmd_python(c),
        #[cfg(feature = "run")]
        Command::Run(a) => cmd_run(a),
        #[cfg(feature = "run")]
        Command::Exec(a) => cmd_exec(a),
        #[cfg(feature = "run")]
        Command::Serve(a) => cmd_serve(a),
        #[cfg(feature = "run")]
        Command::Component(a) => cmd_component(a),
        Command::Bindings(a) => cmd_bindings(a),
        Command::Tags(a) => cmd_tags(a),
        Command::Index(a) => cmd_index(a),
        Command::Install(a) => cmd_install(a),
        #[cfg(feature = "run")]
        Command::Test(a) => cmd_test(a),
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
            ("index_missing_wheelhouse", &["index", "/nonexistent/wheelhouse", "-o", "/nonexistent/site"]),
            ("index_without_output", &["index", "/nonexistent/wheelhouse"]),
            ("install_without_target", &["install", "attrs", "--python", "3.13"]),
        ];
        for (name, args) in cases {
            insta::assert_snapshot!(*name, error_of(args));
        }
    }
}
